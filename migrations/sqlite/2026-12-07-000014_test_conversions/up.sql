-- Test conversions (DESIGN "Trust"): an advertiser's test link makes a test click,
-- kept here and never in clicks; a postback or pixel with a test click's id is
-- answered and kept in test_conversions, with the intake answer and every scrub
-- rule's outcome. Nothing here is a lead, moves money, counts towards a cap or a
-- report, or is read by the duplicate checks.
CREATE TABLE test_clicks (
    click_id TEXT PRIMARY KEY NOT NULL,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    country TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX test_clicks_offer ON test_clicks (offer_id, created_at);

CREATE TABLE test_conversions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    click_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    event TEXT NOT NULL DEFAULT '',
    txid TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    amount_minor BIGINT,
    status TEXT NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL DEFAULT '',
    missing TEXT NOT NULL DEFAULT '[]',
    checks TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX test_conversions_offer ON test_conversions (offer_id, id);
