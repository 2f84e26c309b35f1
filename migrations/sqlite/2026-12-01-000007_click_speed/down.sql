CREATE INDEX clicks_offer_publisher ON clicks (offer_id, publisher_id, created_at);
