DROP TABLE settings;
DROP TABLE audit_log;
DROP TABLE email_outbox;
DROP TABLE user_tokens;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE users;
