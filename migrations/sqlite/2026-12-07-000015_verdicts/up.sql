-- The advertiser's verdict (DESIGN §6): every verdict that decided a lead, from
-- which channel (ui, api, postback, bulk_api, csv) and when, and the offer's
-- default applied at hold end when none came (channel hold_default), so the
-- approve rate and time to verdict can be computed. verdict_uploads keeps a CSV
-- of verdicts between its preview and its apply, and the result of the apply.
CREATE TABLE lead_verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    actor_id BIGINT REFERENCES users (id),
    channel TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX lead_verdicts_lead ON lead_verdicts (lead_id);
CREATE INDEX lead_verdicts_advertiser ON lead_verdicts (advertiser_id, created_at);

CREATE TABLE verdict_uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    advertiser_id BIGINT NOT NULL REFERENCES users (id),
    filename TEXT NOT NULL DEFAULT '',
    rows TEXT NOT NULL,
    results TEXT,
    created_at TIMESTAMP NOT NULL,
    applied_at TIMESTAMP
);
CREATE INDEX verdict_uploads_advertiser ON verdict_uploads (advertiser_id, id);

-- Verdicts name a lead by the advertiser's own transaction id.
CREATE INDEX leads_advertiser_txid ON leads (advertiser_id, txid) WHERE txid IS NOT NULL;
