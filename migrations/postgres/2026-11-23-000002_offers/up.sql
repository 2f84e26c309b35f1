-- Offers and the publishers who joined them.
CREATE TABLE offers (
    id BIGSERIAL PRIMARY KEY,
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    landing_url TEXT NOT NULL,
    fallback_url TEXT,
    payout_model TEXT NOT NULL CHECK (payout_model IN ('cpl', 'cpa', 'cps')),
    price_minor BIGINT,
    rate_bps INTEGER,
    events TEXT NOT NULL,
    fee_bps INTEGER,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'approval', 'private')),
    timezone TEXT NOT NULL DEFAULT 'UTC',
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_review', 'active', 'paused', 'archived')),
    review_note TEXT NOT NULL DEFAULT '',
    cap_daily BIGINT,
    cap_weekly BIGINT,
    cap_monthly BIGINT,
    cap_total BIGINT,
    daily_budget_minor BIGINT,
    publisher_cap_daily BIGINT,
    publisher_cap_total BIGINT,
    terms TEXT NOT NULL,
    countries TEXT NOT NULL DEFAULT '',
    postback_token TEXT NOT NULL UNIQUE,
    postback_ips TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX offers_advertiser ON offers (advertiser_id);
CREATE INDEX offers_status ON offers (status);

CREATE TABLE offer_publishers (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    token TEXT NOT NULL UNIQUE,
    postback_template TEXT NOT NULL DEFAULT '',
    invited BOOLEAN NOT NULL DEFAULT FALSE,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    UNIQUE (offer_id, publisher_id)
);
CREATE INDEX offer_publishers_publisher ON offer_publishers (publisher_id);
