-- Top-up requests (DESIGN §8): an advertiser says it paid (amount, method,
-- reference); an admin confirms it as a deposit (one ledger transaction,
-- transaction_id) or declines it with a note. Nothing moves until confirmed.
CREATE TABLE topups (
    id BIGSERIAL PRIMARY KEY,
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    amount_minor BIGINT NOT NULL,
    method TEXT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    note TEXT NOT NULL DEFAULT '',
    transaction_id BIGINT,
    decided_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX topups_advertiser ON topups (advertiser_id, id);
CREATE INDEX topups_status ON topups (status, id);
