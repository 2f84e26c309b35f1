-- A click is known by its click_id everywhere (conversions, settlement, the
-- publisher's reports); the serial `id` was read by nothing, yet every click paid
-- for it: a sequence value, a second index insert and its WAL record. The unique
-- click id is the table's key now (and its identity for logical replication).
ALTER TABLE clicks DROP CONSTRAINT clicks_pkey;
ALTER TABLE clicks DROP COLUMN id;
ALTER TABLE clicks REPLICA IDENTITY USING INDEX clicks_click_id_key;
