-- Terms frozen per lead (DESIGN "Trust"). `offer_terms` keeps every version of an
-- offer's money and terms that was ever in force, from `effective_at` on; a lead
-- points at the version in force when its click happened (`leads.terms_id`), and
-- settlement, returns and disputes read that version, never the offer's current one.
CREATE TABLE offer_terms (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    revision_id BIGINT,
    effective_at TIMESTAMP NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX offer_terms_offer ON offer_terms (offer_id, effective_at);

-- Edits of a live offer's landing URL, money or terms wait for an admin.
CREATE TABLE offer_revisions (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    changes TEXT NOT NULL,
    tightens TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    effective_at TIMESTAMP,
    applied_at TIMESTAMP
);
CREATE INDEX offer_revisions_offer ON offer_revisions (offer_id, id);
CREATE INDEX offer_revisions_status ON offer_revisions (status, effective_at);

ALTER TABLE leads ADD COLUMN terms_id BIGINT;
ALTER TABLE leads ADD COLUMN lists_version TEXT NOT NULL DEFAULT '';

-- Offers that were ever live keep the terms they have now, in force since always;
-- their leads are put down to them.
INSERT INTO offer_terms (offer_id, revision_id, effective_at, body, created_at)
SELECT id, NULL, '1970-01-01 00:00:00',
       json_build_object('payout_model', payout_model, 'price_minor', price_minor, 'rate_bps', rate_bps,
                   'fee_bps', fee_bps, 'events', events::json, 'terms', terms::json)::text,
       (now() AT TIME ZONE 'UTC')
FROM offers WHERE status IN ('active', 'paused', 'archived');
UPDATE leads SET terms_id = (SELECT t.id FROM offer_terms t WHERE t.offer_id = leads.offer_id);
