-- Monthly reconciliation (DESIGN §8): an advertiser confirms a closed month's
-- statement, or disputes lines of it with a comment; an admin resolves a disputed
-- month with a note. The figures are read from the ledger; what the advertiser saw
-- when it decided is kept as a snapshot (JSON), with the closing balance.
CREATE TABLE reconciliations (
    id BIGSERIAL PRIMARY KEY,
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    month TEXT NOT NULL,
    status TEXT NOT NULL,
    closing_minor BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    resolved_by BIGINT REFERENCES users (id),
    resolved_at TIMESTAMP,
    UNIQUE (advertiser_id, month)
);
CREATE INDEX reconciliations_status ON reconciliations (status, month);

-- The lines an advertiser disputed, each with its comment.
CREATE TABLE reconciliation_lines (
    id BIGSERIAL PRIMARY KEY,
    reconciliation_id BIGINT NOT NULL REFERENCES reconciliations (id),
    line TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reconciliation_lines_reconciliation ON reconciliation_lines (reconciliation_id, id);

-- A month of an account's entries is read by time.
CREATE INDEX ledger_entries_account_time ON ledger_entries (account, created_at);
