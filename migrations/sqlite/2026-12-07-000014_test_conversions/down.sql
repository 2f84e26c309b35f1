DROP TABLE test_conversions;
DROP TABLE test_clicks;
