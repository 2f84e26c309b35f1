ALTER TABLE leads ADD CONSTRAINT leads_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES offers (id);
ALTER TABLE leads ADD CONSTRAINT leads_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES users (id);
ALTER TABLE leads ADD CONSTRAINT leads_advertiser_id_fkey FOREIGN KEY (advertiser_id) REFERENCES users (id);
ALTER TABLE lead_events ADD CONSTRAINT lead_events_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id);
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id);
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES ledger_transactions (id);
