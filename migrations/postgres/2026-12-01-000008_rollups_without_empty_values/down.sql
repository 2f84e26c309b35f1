-- Put back each dimension's empty-value rows: the totals beyond the stored values.
INSERT INTO rollups (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks, leads, intake_rejected, pending, approved, rejected, disputed, reversed, price_minor, pending_price_minor, pending_payout_minor, approved_price_minor, approved_payout_minor, approved_fee_minor)
SELECT t.hour, t.offer_id, t.publisher_id, d.dim, '',
    t.clicks - COALESCE(SUM(r.clicks), 0), t.unique_clicks - COALESCE(SUM(r.unique_clicks), 0),
    t.leads - COALESCE(SUM(r.leads), 0), t.intake_rejected - COALESCE(SUM(r.intake_rejected), 0),
    t.pending - COALESCE(SUM(r.pending), 0), t.approved - COALESCE(SUM(r.approved), 0),
    t.rejected - COALESCE(SUM(r.rejected), 0), t.disputed - COALESCE(SUM(r.disputed), 0),
    t.reversed - COALESCE(SUM(r.reversed), 0), t.price_minor - COALESCE(SUM(r.price_minor), 0),
    t.pending_price_minor - COALESCE(SUM(r.pending_price_minor), 0), t.pending_payout_minor - COALESCE(SUM(r.pending_payout_minor), 0),
    t.approved_price_minor - COALESCE(SUM(r.approved_price_minor), 0), t.approved_payout_minor - COALESCE(SUM(r.approved_payout_minor), 0),
    t.approved_fee_minor - COALESCE(SUM(r.approved_fee_minor), 0)
FROM rollup_totals t
CROSS JOIN (SELECT 'sub1' AS dim UNION ALL SELECT 'sub2' UNION ALL SELECT 'sub3' UNION ALL SELECT 'sub4' UNION ALL SELECT 'sub5' UNION ALL SELECT 'country') AS d
LEFT JOIN rollups r ON r.hour = t.hour AND r.offer_id = t.offer_id AND r.publisher_id = t.publisher_id AND r.dim = d.dim
GROUP BY t.hour, t.offer_id, t.publisher_id, d.dim, t.clicks, t.unique_clicks, t.leads, t.intake_rejected, t.pending, t.approved, t.rejected, t.disputed, t.reversed, t.price_minor, t.pending_price_minor, t.pending_payout_minor, t.approved_price_minor, t.approved_payout_minor, t.approved_fee_minor;
