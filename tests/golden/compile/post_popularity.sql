-- featuresql backfill: post_popularity (per-event update log, docs/semantics.md section 5)
-- One row per input event, with its entity's values as of event_time + 1 ms:
-- window w holds events with event_time + 1 ms - w <= time <= event_time.
WITH events AS (
  SELECT
    post_id,
    epoch_ms(CAST(event_time AS TIMESTAMP)) AS __ts,
    CASE WHEN action = 'click' THEN 1 END AS __m0,
    CASE WHEN action = 'like' THEN 1 END AS __m1,
    CASE WHEN action = 'repost' THEN 1 END AS __m2,
    user_id AS __m3,
    CAST(event_time AS TIMESTAMP) AS __m4
  FROM read_parquet('<root>/data/engagements/*.parquet', union_by_name = true)
  WHERE event_time IS NOT NULL
    AND post_id IS NOT NULL
    AND (action <> 'spam')
    AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
    AND event_time >= TIMESTAMP '2026-01-09 00:00:00.000'
),
windowed AS (
  SELECT
    post_id,
    __ts,
    epoch_ms(__ts + 1) AS __asof,
    COUNT(__m0) OVER w_10m AS __m0_10m,
    COUNT(__m1) OVER w_10m AS __m1_10m,
    COUNT(__m2) OVER w_10m AS __m2_10m,
    COUNT(DISTINCT __m3) OVER w_10m AS __m3_10m,
    MAX(__m4) OVER w_10m AS __m4_10m,
    COUNT(__m0) OVER w_1h AS __m0_1h,
    COUNT(__m1) OVER w_1h AS __m1_1h,
    COUNT(__m2) OVER w_1h AS __m2_1h,
    COUNT(DISTINCT __m3) OVER w_1h AS __m3_1h,
    MAX(__m4) OVER w_1h AS __m4_1h,
    COUNT(__m0) OVER w_1d AS __m0_1d,
    COUNT(__m1) OVER w_1d AS __m1_1d,
    COUNT(__m2) OVER w_1d AS __m2_1d,
    COUNT(DISTINCT __m3) OVER w_1d AS __m3_1d,
    MAX(__m4) OVER w_1d AS __m4_1d
  FROM events
  WINDOW
    w_10m AS (PARTITION BY post_id ORDER BY __ts RANGE BETWEEN 599999 PRECEDING AND CURRENT ROW),
    w_1h AS (PARTITION BY post_id ORDER BY __ts RANGE BETWEEN 3599999 PRECEDING AND CURRENT ROW),
    w_1d AS (PARTITION BY post_id ORDER BY __ts RANGE BETWEEN 86399999 PRECEDING AND CURRENT ROW)
)
SELECT
  post_id,
  CAST(epoch_ms(__ts) AS TIMESTAMP_MS) AS event_time,
  __m0_10m AS post_clicks_10m,
  __m0_1h AS post_clicks_1h,
  __m0_1d AS post_clicks_1d,
  __m1_10m AS post_likes_10m,
  __m1_1h AS post_likes_1h,
  __m1_1d AS post_likes_1d,
  __m2_10m AS post_reposts_10m,
  __m2_1h AS post_reposts_1h,
  __m2_1d AS post_reposts_1d,
  __m3_10m AS post_users_10m,
  __m3_1h AS post_users_1h,
  __m3_1d AS post_users_1d,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m4_10m)) / 1000.0) AS BIGINT) AS post_seconds_since_engagement_10m,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m4_1h)) / 1000.0) AS BIGINT) AS post_seconds_since_engagement_1h,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m4_1d)) / 1000.0) AS BIGINT) AS post_seconds_since_engagement_1d
FROM windowed
WHERE __ts >= 1768003200000
