-- Every accepted conversion inserts a lead, its first history line, a ledger
-- transaction and its two entries. Each foreign key among them costs a trigger
-- query per inserted row that locks the parent row (FOR KEY SHARE): seven per
-- lead, about a fifth of the database's work in an intake batch.
--
-- The intake writer only stores ids it read or got back in the same transaction
-- (the offer and its advertiser under the balance lock, the publisher from the
-- click or the membership, the lead and transaction ids from RETURNING), and
-- nothing deletes offers, users, leads or ledger rows (offers are archived, users
-- suspended, the ledger only appended to). The application keeps these
-- references, as it already does for clicks (2026-12-01-000007).
ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_offer_id_fkey;
ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_publisher_id_fkey;
ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_advertiser_id_fkey;
ALTER TABLE lead_events DROP CONSTRAINT IF EXISTS lead_events_lead_id_fkey;
ALTER TABLE ledger_transactions DROP CONSTRAINT IF EXISTS ledger_transactions_lead_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_transaction_id_fkey;
