-- Clicks are an append-only event log written in group-committed batches; every
-- index on it is paid on every click. No query reads clicks by (offer, publisher,
-- time): reports read the rollups, conversions and settlement find clicks by
-- click_id. (PostgreSQL also drops the foreign keys of clicks in this migration,
-- a trigger query per row there; SQLite checks one with a b-tree probe, so its
-- clicks keep them.)
DROP INDEX IF EXISTS clicks_offer_publisher;
