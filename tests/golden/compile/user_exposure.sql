-- featuresql backfill: user_exposure (per-event update log, docs/semantics.md section 5)
-- One row per input event, with its entity's values as of event_time + 1 ms:
-- window w holds events with event_time + 1 ms - w <= time <= event_time.
WITH events AS (
  SELECT
    user_id,
    epoch_ms(CAST(event_time AS TIMESTAMP)) AS __ts,
    1 AS __m0,
    post_id AS __m1,
    CAST(position AS DOUBLE) AS __m2,
    CAST(event_time AS TIMESTAMP) AS __m3
  FROM read_parquet('<root>/data/impressions/*.parquet', union_by_name = true)
  WHERE event_time IS NOT NULL
    AND user_id IS NOT NULL
    AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
),
windowed AS (
  SELECT
    user_id,
    __ts,
    epoch_ms(__ts + 1) AS __asof,
    COUNT(__m0) OVER w_1h AS __m0_1h,
    COUNT(DISTINCT __m1) OVER w_1h AS __m1_1h,
    AVG(__m2) OVER w_1h AS __m2_1h,
    MAX(__m3) OVER w_1h AS __m3_1h,
    COUNT(__m0) OVER w_1d AS __m0_1d,
    COUNT(DISTINCT __m1) OVER w_1d AS __m1_1d,
    AVG(__m2) OVER w_1d AS __m2_1d,
    MAX(__m3) OVER w_1d AS __m3_1d,
    COUNT(__m0) OVER w_lifetime AS __m0_lifetime,
    COUNT(DISTINCT __m1) OVER w_lifetime AS __m1_lifetime,
    AVG(__m2) OVER w_lifetime AS __m2_lifetime,
    MAX(__m3) OVER w_lifetime AS __m3_lifetime
  FROM events
  WINDOW
    w_1h AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 3599999 PRECEDING AND CURRENT ROW),
    w_1d AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 86399999 PRECEDING AND CURRENT ROW),
    w_lifetime AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
  user_id,
  CAST(epoch_ms(__ts) AS TIMESTAMP_MS) AS event_time,
  __m0_1h AS impressions_1h,
  __m0_1d AS impressions_1d,
  __m0_lifetime AS impressions_lifetime,
  __m1_1h AS posts_seen_1h,
  __m1_1d AS posts_seen_1d,
  __m1_lifetime AS posts_seen_lifetime,
  __m2_1h AS avg_position_1h,
  __m2_1d AS avg_position_1d,
  __m2_lifetime AS avg_position_lifetime,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m3_1h)) / 1000.0) AS BIGINT) AS seconds_since_impression_1h,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m3_1d)) / 1000.0) AS BIGINT) AS seconds_since_impression_1d,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m3_lifetime)) / 1000.0) AS BIGINT) AS seconds_since_impression_lifetime
FROM windowed
WHERE __ts >= 1768003200000
