FEATURE author_reach (
  entity author_id,
  windows (1h, 1d, 7d),
  description 'How much attention an author gets'
);

SELECT
  author_id,
  COUNT(*) FILTER (WHERE action = 'click')   AS author_clicks,
  COUNT(DISTINCT user_id)                    AS author_fans,
  SUM(dwell_ms) / NULLIF(COUNT(dwell_ms), 0) AS author_dwell_per_view
FROM engagements
WHERE action <> 'spam'
GROUP BY author_id;
