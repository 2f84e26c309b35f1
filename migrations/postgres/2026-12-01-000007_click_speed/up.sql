-- Clicks are an append-only event log written in group-committed batches. On
-- PostgreSQL every foreign key costs a trigger query with a row lock on the parent
-- per inserted row (half the cost of a click batch's COPY). Offers and users are
-- never deleted (they are archived or suspended), and a click is only written for
-- a link read from the database, so the references are kept by the application.
ALTER TABLE clicks DROP CONSTRAINT IF EXISTS clicks_offer_id_fkey;
ALTER TABLE clicks DROP CONSTRAINT IF EXISTS clicks_publisher_id_fkey;
