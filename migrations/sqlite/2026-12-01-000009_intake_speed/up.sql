-- PostgreSQL drops the foreign keys of leads, lead_events and the ledger's
-- transactions and entries in this migration (a trigger query per inserted row
-- there). SQLite's intake writer already runs without foreign-key checks
-- (tracking::intake), and every other SQLite connection checks them with a b-tree
-- probe, so its tables keep them. Nothing changes here.
SELECT 1;
