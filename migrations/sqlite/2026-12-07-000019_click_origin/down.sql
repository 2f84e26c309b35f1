ALTER TABLE clicks DROP COLUMN os;
ALTER TABLE clicks DROP COLUMN device;
ALTER TABLE clicks DROP COLUMN country_source;
