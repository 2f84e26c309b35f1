-- `datacenter_ip` (DESIGN §7) is on for new offers. Terms written before it existed
-- say nothing of it, and a lead keeps the terms it was accepted under: those terms
-- (an offer's current ones, every frozen version and every pending revision) are
-- written with the rule off, as they were.
UPDATE offers
SET terms = jsonb_set(terms::jsonb, '{scrub}',
                      COALESCE(terms::jsonb -> 'scrub', '{}'::jsonb) || '{"block_datacenter": false}'::jsonb)::text
WHERE terms::jsonb #> '{scrub,block_datacenter}' IS NULL;
UPDATE offer_terms
SET body = jsonb_set(body::jsonb, '{terms,scrub}',
                     COALESCE(body::jsonb #> '{terms,scrub}', '{}'::jsonb) || '{"block_datacenter": false}'::jsonb)::text
WHERE body::jsonb ? 'terms' AND body::jsonb #> '{terms,scrub,block_datacenter}' IS NULL;
UPDATE offer_revisions
SET body = jsonb_set(body::jsonb, '{terms,scrub}',
                     COALESCE(body::jsonb #> '{terms,scrub}', '{}'::jsonb) || '{"block_datacenter": false}'::jsonb)::text
WHERE body::jsonb ? 'terms' AND body::jsonb #> '{terms,scrub,block_datacenter}' IS NULL;
