-- Low-balance alerts (DESIGN §8): an advertiser is e-mailed when its available
-- balance falls below the threshold it set here (no row: no alert).
CREATE TABLE balance_alerts (
    advertiser_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id),
    threshold_minor BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
