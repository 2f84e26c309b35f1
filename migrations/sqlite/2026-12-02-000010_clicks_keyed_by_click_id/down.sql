CREATE TABLE clicks_with_id (
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
    created_at TIMESTAMP NOT NULL,
    is_unique BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO clicks_with_id (id, click_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, source, ip,
    user_agent, referrer, country, redirect_reason, created_at, is_unique)
SELECT rowid, click_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, source, ip,
    user_agent, referrer, country, redirect_reason, created_at, is_unique
FROM clicks ORDER BY rowid;
DROP TABLE clicks;
ALTER TABLE clicks_with_id RENAME TO clicks;
