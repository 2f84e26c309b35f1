-- An empty sub or country has no rollup rows of its own any more: a report by that
-- dimension finds it as what rollup_totals holds beyond the stored values. Most
-- traffic carries sub1 at most, so every batch of events wrote five rows of
-- empty values per hour × offer × publisher that nothing needed.
DELETE FROM rollups WHERE value = '';
