-- PostgreSQL drops the foreign keys of clicks in this migration (a trigger query
-- per inserted row there). SQLite checks a foreign key with one b-tree probe of the
-- parent's primary key, so its clicks keep them.
SELECT 1;
