DROP TABLE balance_alerts;
