ALTER TABLE rollups DROP COLUMN blocked_clicks;
ALTER TABLE rollups DROP COLUMN off_target_clicks;
ALTER TABLE rollups DROP COLUMN fallback_clicks;
ALTER TABLE rollup_totals DROP COLUMN blocked_clicks;
ALTER TABLE rollup_totals DROP COLUMN off_target_clicks;
ALTER TABLE rollup_totals DROP COLUMN fallback_clicks;
