-- Who may report a conversion of an offer, and what it may be worth (issue 27).
-- Each channel is the advertiser's setting: the pixel (on for CPL and CPA, off for
-- CPS), the hosted form (on for CPL and CPA, never for CPS), the publisher lead API
-- (off; never for CPS), whether the pixel must be signed, and, for CPS, the largest
-- sale amount taken (10,000.00 unless set). `notice_hours` is the notice period of
-- an approved change that lowers the payout or tightens the terms.
ALTER TABLE offers ADD COLUMN pixel BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE offers ADD COLUMN hosted_form BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE offers ADD COLUMN publisher_leads BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE offers ADD COLUMN pixel_signature BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE offers ADD COLUMN max_sale_minor BIGINT;
ALTER TABLE offers ADD COLUMN notice_hours INTEGER NOT NULL DEFAULT 24;
-- Existing offers take the defaults of their payout model.
UPDATE offers SET pixel = FALSE, hosted_form = FALSE, max_sale_minor = 1000000 WHERE payout_model = 'cps';
