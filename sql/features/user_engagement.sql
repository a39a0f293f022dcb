FEATURE user_engagement (
  entity user_id,
  windows (10m, 1h, 1d, 7d, lifetime),
  description 'What a user did recently'
);

SELECT
  user_id,
  COUNT(*)                                  AS events,
  COUNT(*) FILTER (WHERE action = 'click')  AS clicks,
  SUM(dwell_ms)                             AS dwell,
  AVG(dwell_ms)                             AS avg_dwell,
  MAX(dwell_ms)                             AS max_dwell,
  COUNT(DISTINCT author_id)                 AS authors,
  COUNT(*) FILTER (WHERE action = 'click') / NULLIF(COUNT(*), 0) AS click_rate
FROM engagements
WHERE action <> 'spam'
GROUP BY user_id;
