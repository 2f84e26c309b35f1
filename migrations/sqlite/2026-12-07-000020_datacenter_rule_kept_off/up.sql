-- `datacenter_ip` (DESIGN §7) is on for new offers. Terms written before it existed
-- say nothing of it, and a lead keeps the terms it was accepted under: those terms
-- (an offer's current ones, every frozen version and every pending revision) are
-- written with the rule off, as they were.
UPDATE offers
SET terms = json_set(terms, '$.scrub',
                     json_set(COALESCE(json_extract(terms, '$.scrub'), json('{}')), '$.block_datacenter', json('false')))
WHERE json_valid(terms) AND json_extract(terms, '$.scrub.block_datacenter') IS NULL;
UPDATE offer_terms
SET body = json_set(body, '$.terms.scrub',
                    json_set(COALESCE(json_extract(body, '$.terms.scrub'), json('{}')), '$.block_datacenter', json('false')))
WHERE json_valid(body) AND json_extract(body, '$.terms') IS NOT NULL
  AND json_extract(body, '$.terms.scrub.block_datacenter') IS NULL;
UPDATE offer_revisions
SET body = json_set(body, '$.terms.scrub',
                    json_set(COALESCE(json_extract(body, '$.terms.scrub'), json('{}')), '$.block_datacenter', json('false')))
WHERE json_valid(body) AND json_extract(body, '$.terms') IS NOT NULL
  AND json_extract(body, '$.terms.scrub.block_datacenter') IS NULL;
