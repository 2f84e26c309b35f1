-- Every click on a tracking link, written in group-committed batches.
CREATE TABLE clicks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    click_id TEXT NOT NULL UNIQUE,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    sub1 TEXT NOT NULL DEFAULT '',
    sub2 TEXT NOT NULL DEFAULT '',
    sub3 TEXT NOT NULL DEFAULT '',
    sub4 TEXT NOT NULL DEFAULT '',
    sub5 TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    country TEXT,
    redirect_reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX clicks_offer_publisher ON clicks (offer_id, publisher_id, created_at);
