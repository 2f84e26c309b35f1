-- Traffic-source blocks (DESIGN §5): a value of sub1-sub5 or source, compared
-- exactly or as a prefix, without regard to case. offer_id NULL = the whole
-- network (an admin's); publisher_id NULL = every publisher of the offer.
CREATE TABLE source_blocks (
    id BIGSERIAL PRIMARY KEY,
    offer_id BIGINT REFERENCES offers (id),
    publisher_id BIGINT REFERENCES users (id),
    field TEXT NOT NULL,
    mode TEXT NOT NULL,
    value TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX source_blocks_offer ON source_blocks (offer_id);
