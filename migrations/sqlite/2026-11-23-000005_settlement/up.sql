-- Settlement: rule outcomes and normalised contacts on leads, disputes, payouts,
-- admin additions to the disposable-domain list, return allowances and runs.

-- Contacts normalised at intake (DESIGN §7) so duplicate_contact is an index lookup.
ALTER TABLE leads ADD COLUMN email_norm TEXT;
ALTER TABLE leads ADD COLUMN phone_norm TEXT;
-- Every rule's outcome as JSON: [{"code","passed","detail"}].
ALTER TABLE leads ADD COLUMN checks TEXT NOT NULL DEFAULT '[]';
-- The status a disputed lead came from (approved: a return; rejected: a contest).
ALTER TABLE leads ADD COLUMN disputed_from TEXT;
CREATE INDEX leads_email_norm ON leads (email_norm) WHERE email_norm IS NOT NULL;
CREATE INDEX leads_phone_norm ON leads (phone_norm) WHERE phone_norm IS NOT NULL;
CREATE INDEX leads_offer_ip ON leads (offer_id, ip, created_at);
-- Settlement claims pending leads by hold; decided leads leave this smaller index
-- instead of moving inside a (status, hold_until) one.
DROP INDEX leads_status_hold;
CREATE INDEX leads_pending_hold ON leads (hold_until, id) WHERE status = 'pending';

-- A return (approved → disputed) or a contest (rejected → disputed) and its ruling.
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    kind TEXT NOT NULL,
    opened_by BIGINT NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    ruled_by BIGINT REFERENCES users (id),
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    ruled_at TIMESTAMP
);
CREATE INDEX disputes_status ON disputes (status, id);
CREATE INDEX disputes_lead ON disputes (lead_id);
CREATE INDEX disputes_offer ON disputes (offer_id, kind);

-- Publisher payout requests; the ledger moves publisher → external when paid.
CREATE TABLE payouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    publisher_id BIGINT NOT NULL REFERENCES users (id),
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    method TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    transaction_id BIGINT REFERENCES ledger_transactions (id),
    paid_by BIGINT REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP
);
CREATE INDEX payouts_publisher ON payouts (publisher_id, id);
CREATE INDEX payouts_status ON payouts (status, id);

-- Disposable e-mail domains added by admins to the shipped list.
CREATE TABLE disposable_domains (
    domain TEXT PRIMARY KEY NOT NULL,
    added_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

-- Returns an admin allowed beyond an offer's maximum return rate.
CREATE TABLE return_allowances (
    offer_id BIGINT PRIMARY KEY NOT NULL REFERENCES offers (id),
    extra BIGINT NOT NULL,
    granted_by BIGINT REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

-- One row per settlement run that decided something (or failed).
CREATE TABLE settlement_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    approved BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    error TEXT NOT NULL DEFAULT ''
);
