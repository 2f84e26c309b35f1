-- Clicks are an append-only event log written in group-committed batches; every
-- index and check on it is paid on every click.
--
-- No query reads clicks by (offer, publisher, time): reports read the rollups, and
-- conversions and settlement find clicks by click_id. The index only cost writes.
DROP INDEX IF EXISTS clicks_offer_publisher;
-- Every foreign key costs a trigger query with a row lock on the parent per
-- inserted row (half the cost of a click batch). Offers and users are never deleted
-- (they are archived or suspended), and a click is only written for a link read
-- from the database, so the application keeps these references.
ALTER TABLE clicks DROP CONSTRAINT IF EXISTS clicks_offer_id_fkey;
ALTER TABLE clicks DROP CONSTRAINT IF EXISTS clicks_publisher_id_fkey;
