-- Reports (DESIGN §9): rollups gain a dimension. Every event is counted once in
-- rollup_totals (per hour × offer × publisher: what reports by day, hour, offer
-- or publisher read) and once per dimension (sub1..sub5 and country) in rollups,
-- so a report grouped by any of them reads only rollup rows.
-- Pending money is kept too, for publishers' pending earnings.
CREATE TABLE rollups_dim (
    hour TIMESTAMP NOT NULL,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
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
    pending_price_minor BIGINT NOT NULL DEFAULT 0,
    pending_payout_minor BIGINT NOT NULL DEFAULT 0,
    approved_price_minor BIGINT NOT NULL DEFAULT 0,
    approved_payout_minor BIGINT NOT NULL DEFAULT 0,
    approved_fee_minor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, offer_id, publisher_id, dim, value)
);

-- sub1: the existing rows, plus the pending money they did not keep.
INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks, leads, intake_rejected, pending, approved, rejected, disputed, reversed, price_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT hour, offer_id, publisher_id, 'sub1', sub1, clicks, unique_clicks, leads, intake_rejected, pending, approved, rejected, disputed, reversed, price_minor, approved_price_minor, approved_payout_minor, approved_fee_minor FROM rollups;

UPDATE rollups_dim SET pending_price_minor = COALESCE((SELECT SUM(l.price_minor) FROM leads l WHERE l.status = 'pending'
    AND l.offer_id = rollups_dim.offer_id AND l.publisher_id = rollups_dim.publisher_id
    AND l.sub1 = rollups_dim.value AND strftime('%Y-%m-%d %H:00:00', l.created_at) = rollups_dim.hour), 0);

UPDATE rollups_dim SET pending_payout_minor = COALESCE((SELECT SUM(l.payout_minor) FROM leads l WHERE l.status = 'pending'
    AND l.offer_id = rollups_dim.offer_id AND l.publisher_id = rollups_dim.publisher_id
    AND l.sub1 = rollups_dim.value AND strftime('%Y-%m-%d %H:00:00', l.created_at) = rollups_dim.hour), 0);

-- The other dimensions, counted from the raw events.

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub2', sub2, COUNT(*), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END)
FROM clicks GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub2;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, leads, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub2', sub2,
    COUNT(*), SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'disputed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END), SUM(price_minor), SUM(CASE WHEN status = 'pending' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'pending' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN fee_minor ELSE 0 END)
FROM leads WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub2
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET
    leads = excluded.leads, pending = excluded.pending, approved = excluded.approved, rejected = excluded.rejected, disputed = excluded.disputed, reversed = excluded.reversed, price_minor = excluded.price_minor, pending_price_minor = excluded.pending_price_minor, pending_payout_minor = excluded.pending_payout_minor, approved_price_minor = excluded.approved_price_minor, approved_payout_minor = excluded.approved_payout_minor, approved_fee_minor = excluded.approved_fee_minor;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, intake_rejected)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub2', '', COUNT(*)
FROM intake_rejections WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET intake_rejected = excluded.intake_rejected;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub3', sub3, COUNT(*), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END)
FROM clicks GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub3;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, leads, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub3', sub3,
    COUNT(*), SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'disputed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END), SUM(price_minor), SUM(CASE WHEN status = 'pending' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'pending' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN fee_minor ELSE 0 END)
FROM leads WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub3
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET
    leads = excluded.leads, pending = excluded.pending, approved = excluded.approved, rejected = excluded.rejected, disputed = excluded.disputed, reversed = excluded.reversed, price_minor = excluded.price_minor, pending_price_minor = excluded.pending_price_minor, pending_payout_minor = excluded.pending_payout_minor, approved_price_minor = excluded.approved_price_minor, approved_payout_minor = excluded.approved_payout_minor, approved_fee_minor = excluded.approved_fee_minor;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, intake_rejected)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub3', '', COUNT(*)
FROM intake_rejections WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET intake_rejected = excluded.intake_rejected;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub4', sub4, COUNT(*), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END)
FROM clicks GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub4;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, leads, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub4', sub4,
    COUNT(*), SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'disputed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END), SUM(price_minor), SUM(CASE WHEN status = 'pending' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'pending' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN fee_minor ELSE 0 END)
FROM leads WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub4
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET
    leads = excluded.leads, pending = excluded.pending, approved = excluded.approved, rejected = excluded.rejected, disputed = excluded.disputed, reversed = excluded.reversed, price_minor = excluded.price_minor, pending_price_minor = excluded.pending_price_minor, pending_payout_minor = excluded.pending_payout_minor, approved_price_minor = excluded.approved_price_minor, approved_payout_minor = excluded.approved_payout_minor, approved_fee_minor = excluded.approved_fee_minor;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, intake_rejected)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub4', '', COUNT(*)
FROM intake_rejections WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET intake_rejected = excluded.intake_rejected;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub5', sub5, COUNT(*), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END)
FROM clicks GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub5;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, leads, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub5', sub5,
    COUNT(*), SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'disputed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END), SUM(price_minor), SUM(CASE WHEN status = 'pending' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'pending' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN fee_minor ELSE 0 END)
FROM leads WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub5
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET
    leads = excluded.leads, pending = excluded.pending, approved = excluded.approved, rejected = excluded.rejected, disputed = excluded.disputed, reversed = excluded.reversed, price_minor = excluded.price_minor, pending_price_minor = excluded.pending_price_minor, pending_payout_minor = excluded.pending_payout_minor, approved_price_minor = excluded.approved_price_minor, approved_payout_minor = excluded.approved_payout_minor, approved_fee_minor = excluded.approved_fee_minor;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, intake_rejected)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'sub5', '', COUNT(*)
FROM intake_rejections WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET intake_rejected = excluded.intake_rejected;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'country', COALESCE(country, ''), COUNT(*), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END)
FROM clicks GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, COALESCE(country, '');

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, leads, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'country', COALESCE(country, ''),
    COUNT(*), SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'disputed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END), SUM(price_minor), SUM(CASE WHEN status = 'pending' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'pending' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN price_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN payout_minor ELSE 0 END), SUM(CASE WHEN status = 'approved' THEN fee_minor ELSE 0 END)
FROM leads WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, COALESCE(country, '')
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET
    leads = excluded.leads, pending = excluded.pending, approved = excluded.approved, rejected = excluded.rejected, disputed = excluded.disputed, reversed = excluded.reversed, price_minor = excluded.price_minor, pending_price_minor = excluded.pending_price_minor, pending_payout_minor = excluded.pending_payout_minor, approved_price_minor = excluded.approved_price_minor, approved_payout_minor = excluded.approved_payout_minor, approved_fee_minor = excluded.approved_fee_minor;

INSERT INTO rollups_dim (hour, offer_id, publisher_id, dim, value, intake_rejected)
SELECT strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, 'country', '', COUNT(*)
FROM intake_rejections WHERE TRUE GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id
ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET intake_rejected = excluded.intake_rejected;

-- Totals: one row per hour × offer × publisher, what every dashboard reads; a
-- table of their own, stored in (offer, hour) order, so an advertiser's range
-- is one stretch of the table.
CREATE TABLE rollup_totals (
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    hour TIMESTAMP NOT NULL,
    publisher_id BIGINT NOT NULL REFERENCES users (id),
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
    pending_price_minor BIGINT NOT NULL DEFAULT 0,
    pending_payout_minor BIGINT NOT NULL DEFAULT 0,
    approved_price_minor BIGINT NOT NULL DEFAULT 0,
    approved_payout_minor BIGINT NOT NULL DEFAULT 0,
    approved_fee_minor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (offer_id, hour, publisher_id)
) WITHOUT ROWID;
CREATE INDEX rollup_totals_publisher ON rollup_totals (publisher_id, hour);
CREATE INDEX rollup_totals_hour ON rollup_totals (hour);

INSERT INTO rollup_totals (offer_id, hour, publisher_id, clicks, unique_clicks, leads, intake_rejected, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT offer_id, hour, publisher_id, SUM(clicks), SUM(unique_clicks), SUM(leads), SUM(intake_rejected), SUM(pending), SUM(approved), SUM(rejected), SUM(disputed), SUM(reversed), SUM(price_minor), SUM(pending_price_minor), SUM(pending_payout_minor), SUM(approved_price_minor), SUM(approved_payout_minor), SUM(approved_fee_minor)
FROM rollups_dim WHERE dim = 'sub1' GROUP BY offer_id, hour, publisher_id;

DROP TABLE rollups;
ALTER TABLE rollups_dim RENAME TO rollups;
CREATE INDEX rollups_publisher ON rollups (publisher_id, dim, hour);
CREATE INDEX rollups_offer ON rollups (offer_id, dim, hour);
CREATE INDEX rollups_dim_hour ON rollups (dim, hour);

-- A publisher's pending earnings (its balance card) read only its pending leads.
CREATE INDEX leads_publisher_pending ON leads (publisher_id) WHERE status = 'pending';
