FEATURE user_author_affinity (
  entity (user_id, author_id),
  windows (1d, 7d, lifetime),
  description 'How much a user likes an author'
);

SELECT
  user_id,
  author_id,
  COUNT(*) FILTER (WHERE action = 'click')               AS ua_clicks,
  COUNT(*) FILTER (WHERE action IN ('like', 'repost'))   AS ua_endorsements,
  SECONDS_SINCE(MAX(event_time) FILTER (WHERE action = 'click')) AS ua_seconds_since_click
FROM engagements
WHERE action <> 'spam'
GROUP BY user_id, author_id;
