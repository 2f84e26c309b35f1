-- Clicks sent to the offer's fallback instead of the landing page, by why (DESIGN
-- §9): every click with a redirect reason (fallback_clicks), of them those outside
-- the offer's targeting (reason `targeting`: off_target_clicks) and those from a
-- blocked source (reason `source_blocked`: blocked_clicks). The click writer adds
-- them with the click counts, in the same statement.
ALTER TABLE rollup_totals ADD COLUMN fallback_clicks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_totals ADD COLUMN off_target_clicks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_totals ADD COLUMN blocked_clicks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN fallback_clicks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN off_target_clicks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN blocked_clicks BIGINT NOT NULL DEFAULT 0;

-- The stored clicks counted in: one read of the clicks table, its few fallback
-- clicks summed per hour × offer × publisher × values, then written to the rows
-- that already count them as clicks (a row per dimension value that is not empty,
-- as the click writer keeps them).
CREATE TEMPORARY TABLE fallback_sums AS
SELECT strftime('%Y-%m-%d %H:00:00', created_at) AS hour, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5,
    COALESCE(country, '') AS country, COUNT(*) AS fallback,
    SUM(CASE WHEN redirect_reason = 'targeting' THEN 1 ELSE 0 END) AS off_target,
    SUM(CASE WHEN redirect_reason = 'source_blocked' THEN 1 ELSE 0 END) AS blocked
FROM clicks WHERE redirect_reason IS NOT NULL
GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, COALESCE(country, '');

UPDATE rollup_totals
SET fallback_clicks = s.fallback, off_target_clicks = s.off_target, blocked_clicks = s.blocked
FROM (SELECT hour, offer_id, publisher_id, SUM(fallback) AS fallback, SUM(off_target) AS off_target, SUM(blocked) AS blocked
      FROM fallback_sums GROUP BY hour, offer_id, publisher_id) s
WHERE rollup_totals.offer_id = s.offer_id AND rollup_totals.hour = s.hour AND rollup_totals.publisher_id = s.publisher_id;

UPDATE rollups
SET fallback_clicks = s.fallback, off_target_clicks = s.off_target, blocked_clicks = s.blocked
FROM (
    SELECT hour, offer_id, publisher_id, 'sub1' AS dim, sub1 AS value, SUM(fallback) AS fallback, SUM(off_target) AS off_target, SUM(blocked) AS blocked
    FROM fallback_sums WHERE sub1 <> '' GROUP BY hour, offer_id, publisher_id, sub1
    UNION ALL
    SELECT hour, offer_id, publisher_id, 'sub2', sub2, SUM(fallback), SUM(off_target), SUM(blocked)
    FROM fallback_sums WHERE sub2 <> '' GROUP BY hour, offer_id, publisher_id, sub2
    UNION ALL
    SELECT hour, offer_id, publisher_id, 'sub3', sub3, SUM(fallback), SUM(off_target), SUM(blocked)
    FROM fallback_sums WHERE sub3 <> '' GROUP BY hour, offer_id, publisher_id, sub3
    UNION ALL
    SELECT hour, offer_id, publisher_id, 'sub4', sub4, SUM(fallback), SUM(off_target), SUM(blocked)
    FROM fallback_sums WHERE sub4 <> '' GROUP BY hour, offer_id, publisher_id, sub4
    UNION ALL
    SELECT hour, offer_id, publisher_id, 'sub5', sub5, SUM(fallback), SUM(off_target), SUM(blocked)
    FROM fallback_sums WHERE sub5 <> '' GROUP BY hour, offer_id, publisher_id, sub5
    UNION ALL
    SELECT hour, offer_id, publisher_id, 'country', country, SUM(fallback), SUM(off_target), SUM(blocked)
    FROM fallback_sums WHERE country <> '' GROUP BY hour, offer_id, publisher_id, country
) s
WHERE rollups.hour = s.hour AND rollups.offer_id = s.offer_id AND rollups.publisher_id = s.publisher_id
  AND rollups.dim = s.dim AND rollups.value = s.value;

DROP TABLE fallback_sums;
