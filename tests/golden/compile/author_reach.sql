-- featuresql backfill: author_reach (per-event update log, docs/semantics.md section 5)
-- One row per input event, with its entity's values as of event_time + 1 ms:
-- window w holds events with event_time + 1 ms - w <= time <= event_time.
WITH events AS (
  SELECT
    author_id,
    epoch_ms(CAST(event_time AS TIMESTAMP)) AS __ts,
    CASE WHEN action = 'click' THEN 1 END AS __m0,
    user_id AS __m1,
    CAST(dwell_ms AS BIGINT) AS __m2,
    dwell_ms AS __m3
  FROM read_parquet('<root>/data/engagements/*.parquet', union_by_name = true)
  WHERE event_time IS NOT NULL
    AND author_id IS NOT NULL
    AND (action <> 'spam')
    AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
    AND event_time >= TIMESTAMP '2026-01-03 00:00:00.000'
),
windowed AS (
  SELECT
    author_id,
    __ts,
    epoch_ms(__ts + 1) AS __asof,
    COUNT(__m0) OVER w_1h AS __m0_1h,
    COUNT(DISTINCT __m1) OVER w_1h AS __m1_1h,
    CAST(SUM(__m2) OVER w_1h AS BIGINT) AS __m2_1h,
    COUNT(__m3) OVER w_1h AS __m3_1h,
    COUNT(__m0) OVER w_1d AS __m0_1d,
    COUNT(DISTINCT __m1) OVER w_1d AS __m1_1d,
    CAST(SUM(__m2) OVER w_1d AS BIGINT) AS __m2_1d,
    COUNT(__m3) OVER w_1d AS __m3_1d,
    COUNT(__m0) OVER w_7d AS __m0_7d,
    COUNT(DISTINCT __m1) OVER w_7d AS __m1_7d,
    CAST(SUM(__m2) OVER w_7d AS BIGINT) AS __m2_7d,
    COUNT(__m3) OVER w_7d AS __m3_7d
  FROM events
  WINDOW
    w_1h AS (PARTITION BY author_id ORDER BY __ts RANGE BETWEEN 3599999 PRECEDING AND CURRENT ROW),
    w_1d AS (PARTITION BY author_id ORDER BY __ts RANGE BETWEEN 86399999 PRECEDING AND CURRENT ROW),
    w_7d AS (PARTITION BY author_id ORDER BY __ts RANGE BETWEEN 604799999 PRECEDING AND CURRENT ROW)
)
SELECT
  author_id,
  CAST(epoch_ms(__ts) AS TIMESTAMP_MS) AS event_time,
  __m0_1h AS author_clicks_1h,
  __m0_1d AS author_clicks_1d,
  __m0_7d AS author_clicks_7d,
  __m1_1h AS author_fans_1h,
  __m1_1d AS author_fans_1d,
  __m1_7d AS author_fans_7d,
  CAST(__m2_1h AS DOUBLE) / NULLIF(__m3_1h, 0) AS author_dwell_per_view_1h,
  CAST(__m2_1d AS DOUBLE) / NULLIF(__m3_1d, 0) AS author_dwell_per_view_1d,
  CAST(__m2_7d AS DOUBLE) / NULLIF(__m3_7d, 0) AS author_dwell_per_view_7d
FROM windowed
WHERE __ts >= 1768003200000
