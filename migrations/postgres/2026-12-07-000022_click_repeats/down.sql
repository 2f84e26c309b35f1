ALTER TABLE clicks DROP COLUMN repeat_clicks;
