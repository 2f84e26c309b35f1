-- Lead webhooks (DESIGN §6a): an advertiser's endpoints per offer and the
-- deliveries of lead events to them, queued with the event (an outbox).
CREATE TABLE lead_webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    url TEXT NOT NULL,
    -- A comma-separated list of events: accepted,approved,rejected,disputed,reversed,returned
    events TEXT NOT NULL,
    -- {"rename": {...}, "constants": {...}}
    mapping TEXT NOT NULL DEFAULT '{}',
    secret TEXT NOT NULL,
    sync BOOLEAN NOT NULL DEFAULT FALSE,
    timeout_ms INTEGER NOT NULL DEFAULT 3000,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX lead_webhooks_offer ON lead_webhooks (offer_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    webhook_id BIGINT NOT NULL REFERENCES lead_webhooks (id) ON DELETE CASCADE,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    event TEXT NOT NULL,
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sync BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    response_code INTEGER,
    response_excerpt TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
