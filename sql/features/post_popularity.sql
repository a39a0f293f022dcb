FEATURE post_popularity (
  entity post_id,
  windows (10m, 1h, 1d),
  description 'How a post is doing with everyone'
);

SELECT
  post_id,
  {{ count_action('click') }}       AS post_clicks,
  {{ count_action('like') }}        AS post_likes,
  {{ count_action('repost') }}      AS post_reposts,
  COUNT(DISTINCT user_id)           AS post_users,
  SECONDS_SINCE(MAX(event_time))    AS post_seconds_since_engagement
FROM engagements
WHERE action <> 'spam'
GROUP BY post_id;
