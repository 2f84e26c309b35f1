DROP INDEX leads_publisher_pending;
CREATE TABLE rollups_old (
    hour TIMESTAMP NOT NULL,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    sub1 TEXT NOT NULL,
    clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    leads BIGINT NOT NULL DEFAULT 0,
    intake_rejected BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    approved BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    disputed BIGINT NOT NULL DEFAULT 0,
    reversed BIGINT NOT NULL DEFAULT 0,
    price_minor BIGINT NOT NULL DEFAULT 0,
    approved_price_minor BIGINT NOT NULL DEFAULT 0,
    approved_payout_minor BIGINT NOT NULL DEFAULT 0,
    approved_fee_minor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, offer_id, publisher_id, sub1)
);

INSERT INTO rollups_old (hour, offer_id, publisher_id, sub1, clicks, unique_clicks, leads, intake_rejected, pending, approved, rejected, disputed, reversed, price_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT hour, offer_id, publisher_id, value, clicks, unique_clicks, leads, intake_rejected, pending, approved, rejected, disputed, reversed, price_minor, approved_price_minor, approved_payout_minor, approved_fee_minor FROM rollups WHERE dim = 'sub1';

DROP TABLE rollup_totals;
DROP TABLE rollups;
ALTER TABLE rollups_old RENAME TO rollups;
CREATE INDEX rollups_publisher ON rollups (publisher_id, hour);
CREATE INDEX rollups_offer ON rollups (offer_id, hour);
