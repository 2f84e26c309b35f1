DROP INDEX rollup_totals_hour_offer;
CREATE INDEX rollup_totals_hour ON rollup_totals (hour);
