-- featuresql backfill: user_engagement (per-event update log, docs/semantics.md section 5)
-- One row per input event, with its entity's values as of event_time + 1 ms:
-- window w holds events with event_time + 1 ms - w <= time <= event_time.
WITH events AS (
  SELECT
    user_id,
    epoch_ms(CAST(event_time AS TIMESTAMP)) AS __ts,
    1 AS __m0,
    CASE WHEN action = 'click' THEN 1 END AS __m1,
    CAST(dwell_ms AS BIGINT) AS __m2,
    CAST(dwell_ms AS DOUBLE) AS __m3,
    dwell_ms AS __m4,
    author_id AS __m5
  FROM read_parquet('<root>/data/engagements/*.parquet', union_by_name = true)
  WHERE event_time IS NOT NULL
    AND user_id IS NOT NULL
    AND (action <> 'spam')
    AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
),
windowed AS (
  SELECT
    user_id,
    __ts,
    epoch_ms(__ts + 1) AS __asof,
    COUNT(__m0) OVER w_10m AS __m0_10m,
    COUNT(__m1) OVER w_10m AS __m1_10m,
    CAST(SUM(__m2) OVER w_10m AS BIGINT) AS __m2_10m,
    AVG(__m3) OVER w_10m AS __m3_10m,
    MAX(__m4) OVER w_10m AS __m4_10m,
    COUNT(DISTINCT __m5) OVER w_10m AS __m5_10m,
    COUNT(__m0) OVER w_1h AS __m0_1h,
    COUNT(__m1) OVER w_1h AS __m1_1h,
    CAST(SUM(__m2) OVER w_1h AS BIGINT) AS __m2_1h,
    AVG(__m3) OVER w_1h AS __m3_1h,
    MAX(__m4) OVER w_1h AS __m4_1h,
    COUNT(DISTINCT __m5) OVER w_1h AS __m5_1h,
    COUNT(__m0) OVER w_1d AS __m0_1d,
    COUNT(__m1) OVER w_1d AS __m1_1d,
    CAST(SUM(__m2) OVER w_1d AS BIGINT) AS __m2_1d,
    AVG(__m3) OVER w_1d AS __m3_1d,
    MAX(__m4) OVER w_1d AS __m4_1d,
    COUNT(DISTINCT __m5) OVER w_1d AS __m5_1d,
    COUNT(__m0) OVER w_7d AS __m0_7d,
    COUNT(__m1) OVER w_7d AS __m1_7d,
    CAST(SUM(__m2) OVER w_7d AS BIGINT) AS __m2_7d,
    AVG(__m3) OVER w_7d AS __m3_7d,
    MAX(__m4) OVER w_7d AS __m4_7d,
    COUNT(DISTINCT __m5) OVER w_7d AS __m5_7d,
    COUNT(__m0) OVER w_lifetime AS __m0_lifetime,
    COUNT(__m1) OVER w_lifetime AS __m1_lifetime,
    CAST(SUM(__m2) OVER w_lifetime AS BIGINT) AS __m2_lifetime,
    AVG(__m3) OVER w_lifetime AS __m3_lifetime,
    MAX(__m4) OVER w_lifetime AS __m4_lifetime,
    COUNT(DISTINCT __m5) OVER w_lifetime AS __m5_lifetime
  FROM events
  WINDOW
    w_10m AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 599999 PRECEDING AND CURRENT ROW),
    w_1h AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 3599999 PRECEDING AND CURRENT ROW),
    w_1d AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 86399999 PRECEDING AND CURRENT ROW),
    w_7d AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 604799999 PRECEDING AND CURRENT ROW),
    w_lifetime AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
  user_id,
  CAST(epoch_ms(__ts) AS TIMESTAMP_MS) AS event_time,
  __m0_10m AS events_10m,
  __m0_1h AS events_1h,
  __m0_1d AS events_1d,
  __m0_7d AS events_7d,
  __m0_lifetime AS events_lifetime,
  __m1_10m AS clicks_10m,
  __m1_1h AS clicks_1h,
  __m1_1d AS clicks_1d,
  __m1_7d AS clicks_7d,
  __m1_lifetime AS clicks_lifetime,
  __m2_10m AS dwell_10m,
  __m2_1h AS dwell_1h,
  __m2_1d AS dwell_1d,
  __m2_7d AS dwell_7d,
  __m2_lifetime AS dwell_lifetime,
  __m3_10m AS avg_dwell_10m,
  __m3_1h AS avg_dwell_1h,
  __m3_1d AS avg_dwell_1d,
  __m3_7d AS avg_dwell_7d,
  __m3_lifetime AS avg_dwell_lifetime,
  __m4_10m AS max_dwell_10m,
  __m4_1h AS max_dwell_1h,
  __m4_1d AS max_dwell_1d,
  __m4_7d AS max_dwell_7d,
  __m4_lifetime AS max_dwell_lifetime,
  __m5_10m AS authors_10m,
  __m5_1h AS authors_1h,
  __m5_1d AS authors_1d,
  __m5_7d AS authors_7d,
  __m5_lifetime AS authors_lifetime,
  CAST(__m1_10m AS DOUBLE) / NULLIF(__m0_10m, 0) AS click_rate_10m,
  CAST(__m1_1h AS DOUBLE) / NULLIF(__m0_1h, 0) AS click_rate_1h,
  CAST(__m1_1d AS DOUBLE) / NULLIF(__m0_1d, 0) AS click_rate_1d,
  CAST(__m1_7d AS DOUBLE) / NULLIF(__m0_7d, 0) AS click_rate_7d,
  CAST(__m1_lifetime AS DOUBLE) / NULLIF(__m0_lifetime, 0) AS click_rate_lifetime
FROM windowed
WHERE __ts >= 1768003200000
