DROP TABLE webhook_deliveries;
DROP TABLE lead_webhooks;
