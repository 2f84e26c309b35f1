-- Where a click comes from (issue 32): where its country was read (`header`: a
-- trusted proxy's country header; `database`: the IP geolocation database;
-- `approximate`: a source that names where an address block was registered, never
-- enough to refuse on; `unknown`), and the device kind and OS family of its user
-- agent. Clicks stored before have a country only from the header.
ALTER TABLE clicks ADD COLUMN country_source TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE clicks ADD COLUMN device TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE clicks ADD COLUMN os TEXT NOT NULL DEFAULT 'other';
UPDATE clicks SET country_source = 'header' WHERE country IS NOT NULL;
