-- `datacenter_ip` (DESIGN §7) is on for new offers. Terms written before it existed
-- say nothing of it, and a lead keeps the terms it was accepted under: those terms
-- (an offer's current ones, every frozen version and every pending revision) are
-- written with the rule off, as they were. A text PostgreSQL's jsonb refuses (an
-- escaped NUL from before control characters were refused) is left as it is.
UPDATE offers
SET terms = jsonb_set(terms::jsonb, '{scrub}',
                      COALESCE(terms::jsonb -> 'scrub', '{}'::jsonb) || '{"block_datacenter": false}'::jsonb)::text
WHERE CASE WHEN strpos(terms, '\u0000') = 0 THEN terms::jsonb #> '{scrub,block_datacenter}' IS NULL ELSE FALSE END;
UPDATE offer_terms
SET body = jsonb_set(body::jsonb, '{terms,scrub}',
                     COALESCE(body::jsonb #> '{terms,scrub}', '{}'::jsonb) || '{"block_datacenter": false}'::jsonb)::text
WHERE CASE WHEN strpos(body, '\u0000') = 0
           THEN body::jsonb ? 'terms' AND body::jsonb #> '{terms,scrub,block_datacenter}' IS NULL
           ELSE FALSE END;
UPDATE offer_revisions
SET body = jsonb_set(body::jsonb, '{terms,scrub}',
                     COALESCE(body::jsonb #> '{terms,scrub}', '{}'::jsonb) || '{"block_datacenter": false}'::jsonb)::text
WHERE CASE WHEN strpos(body, '\u0000') = 0
           THEN body::jsonb ? 'terms' AND body::jsonb #> '{terms,scrub,block_datacenter}' IS NULL
           ELSE FALSE END;
