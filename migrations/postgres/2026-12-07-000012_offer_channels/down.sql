ALTER TABLE offers DROP COLUMN notice_hours;
ALTER TABLE offers DROP COLUMN max_sale_minor;
ALTER TABLE offers DROP COLUMN pixel_signature;
ALTER TABLE offers DROP COLUMN publisher_leads;
ALTER TABLE offers DROP COLUMN hosted_form;
ALTER TABLE offers DROP COLUMN pixel;
