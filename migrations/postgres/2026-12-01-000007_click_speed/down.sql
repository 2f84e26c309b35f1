ALTER TABLE clicks ADD CONSTRAINT clicks_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES offers (id);
ALTER TABLE clicks ADD CONSTRAINT clicks_publisher_id_fkey FOREIGN KEY (publisher_id) REFERENCES users (id);
CREATE INDEX clicks_offer_publisher ON clicks (offer_id, publisher_id, created_at);
