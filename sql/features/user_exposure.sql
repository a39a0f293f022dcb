FEATURE user_exposure (
  entity user_id,
  windows (1h, 1d, lifetime),
  description 'How much feed a user has seen, and how recently'
);

SELECT
  user_id,
  COUNT(*)                          AS impressions,
  COUNT(DISTINCT post_id)           AS posts_seen,
  AVG(position)                     AS avg_position,
  SECONDS_SINCE(MAX(event_time))    AS seconds_since_impression
FROM impressions
GROUP BY user_id;
