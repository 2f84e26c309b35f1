-- Totals read over a range by hour and offer. The (hour) index becomes (hour,
-- offer_id): a range of all offers reads it as before, and an advertiser's range,
-- whose offers the query names, finds no plain hour index that PostgreSQL would
-- prefer to the primary key. (It judges the key by offer_id's correlation with the
-- table's order, which is low, although within one offer the rows lie in hour
-- order: an advertiser's 30 days took 45-55 ms through the hour index against
-- 10-20 ms through the key.) SQLite gets the same, to keep one schema.
DROP INDEX rollup_totals_hour;
CREATE INDEX rollup_totals_hour_offer ON rollup_totals (hour, offer_id);
