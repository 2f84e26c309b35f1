-- Leads and everything that moves with them: history, intake rejections, the
-- double-entry ledger, cap counters, hourly rollups and publisher postbacks.

ALTER TABLE clicks ADD COLUMN is_unique BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE leads (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    click_id TEXT,
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    txid TEXT,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    amount_minor BIGINT,
    price_minor BIGINT NOT NULL,
    fee_minor BIGINT NOT NULL,
    payout_minor BIGINT NOT NULL,
    fee_bps INTEGER NOT NULL,
    fields TEXT NOT NULL DEFAULT '{}',
    consent BOOLEAN NOT NULL DEFAULT FALSE,
    sub1 TEXT NOT NULL DEFAULT '',
    sub2 TEXT NOT NULL DEFAULT '',
    sub3 TEXT NOT NULL DEFAULT '',
    sub4 TEXT NOT NULL DEFAULT '',
    sub5 TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    country TEXT,
    ip TEXT NOT NULL DEFAULT '',
    click_at TIMESTAMP,
    score INTEGER,
    hold_until TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (offer_id, dedupe_key)
);
CREATE INDEX leads_status_hold ON leads (status, hold_until);
CREATE INDEX leads_publisher ON leads (publisher_id, created_at);
CREATE INDEX leads_advertiser ON leads (advertiser_id, created_at);
CREATE INDEX leads_click ON leads (click_id);

-- Every transition of a lead: who, when, why.
CREATE TABLE lead_events (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    reason TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX lead_events_lead ON lead_events (lead_id);

-- Conversions refused at intake that can be put down to a publisher: the
-- publisher can always see why a conversion was not counted.
CREATE TABLE intake_rejections (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    click_id TEXT,
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    txid TEXT,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX intake_rejections_publisher ON intake_rejections (publisher_id, created_at);
CREATE INDEX intake_rejections_offer ON intake_rejections (offer_id, created_at);

-- Double-entry ledger: one row per transaction, its entries sum to zero.
CREATE TABLE ledger_transactions (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    lead_id BIGINT REFERENCES leads (id),
    actor_id BIGINT REFERENCES users (id),
    memo TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_transactions_lead ON ledger_transactions (lead_id);

CREATE TABLE ledger_entries (
    id BIGSERIAL PRIMARY KEY,
    transaction_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
    account TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries (account, id);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);

-- Running balance per ledger account, updated with every entry in the same
-- transaction; conditional updates on it keep advertisers from overdrawing.
CREATE TABLE ledger_balances (
    account TEXT PRIMARY KEY NOT NULL,
    balance_minor BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Cap counters: one row per offer (publisher 0 = all publishers) and period.
-- Incremented with a conditional UPDATE so that no number of processes sharing
-- the database can pass a cap.
CREATE TABLE cap_counters (
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL,
    period TEXT NOT NULL,
    leads BIGINT NOT NULL DEFAULT 0,
    spend_minor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (offer_id, publisher_id, period)
);

-- Hourly rollups, kept up to date as events happen; reports read only these.
CREATE TABLE rollups (
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
CREATE INDEX rollups_publisher ON rollups (publisher_id, hour);
CREATE INDEX rollups_offer ON rollups (offer_id, hour);

-- Platform → publisher postbacks, queued in the transaction of the lead event.
CREATE TABLE postback_deliveries (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    response_code INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX postback_deliveries_due ON postback_deliveries (status, next_attempt_at);
CREATE INDEX postback_deliveries_publisher ON postback_deliveries (publisher_id, id);
