ALTER TABLE leads DROP COLUMN lists_version;
ALTER TABLE leads DROP COLUMN terms_id;
DROP TABLE offer_revisions;
DROP TABLE offer_terms;
