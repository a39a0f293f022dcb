-- featuresql backfill: user_author_affinity (per-event update log, docs/semantics.md section 5)
-- One row per input event, with its entity's values as of event_time + 1 ms:
-- window w holds events with event_time + 1 ms - w <= time <= event_time.
WITH events AS (
  SELECT
    user_id,
    author_id,
    epoch_ms(CAST(event_time AS TIMESTAMP)) AS __ts,
    CASE WHEN action = 'click' THEN 1 END AS __m0,
    CASE WHEN action IN ('like', 'repost') THEN 1 END AS __m1,
    CAST(CASE WHEN action = 'click' THEN event_time END AS TIMESTAMP) AS __m2
  FROM read_parquet('<root>/data/engagements/*.parquet', union_by_name = true)
  WHERE event_time IS NOT NULL
    AND user_id IS NOT NULL
    AND author_id IS NOT NULL
    AND (action <> 'spam')
    AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
),
windowed AS (
  SELECT
    user_id, author_id,
    __ts,
    epoch_ms(__ts + 1) AS __asof,
    COUNT(__m0) OVER w_1d AS __m0_1d,
    COUNT(__m1) OVER w_1d AS __m1_1d,
    MAX(__m2) OVER w_1d AS __m2_1d,
    COUNT(__m0) OVER w_7d AS __m0_7d,
    COUNT(__m1) OVER w_7d AS __m1_7d,
    MAX(__m2) OVER w_7d AS __m2_7d,
    COUNT(__m0) OVER w_lifetime AS __m0_lifetime,
    COUNT(__m1) OVER w_lifetime AS __m1_lifetime,
    MAX(__m2) OVER w_lifetime AS __m2_lifetime
  FROM events
  WINDOW
    w_1d AS (PARTITION BY user_id, author_id ORDER BY __ts RANGE BETWEEN 86399999 PRECEDING AND CURRENT ROW),
    w_7d AS (PARTITION BY user_id, author_id ORDER BY __ts RANGE BETWEEN 604799999 PRECEDING AND CURRENT ROW),
    w_lifetime AS (PARTITION BY user_id, author_id ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
  user_id, author_id,
  CAST(epoch_ms(__ts) AS TIMESTAMP_MS) AS event_time,
  __m0_1d AS ua_clicks_1d,
  __m0_7d AS ua_clicks_7d,
  __m0_lifetime AS ua_clicks_lifetime,
  __m1_1d AS ua_endorsements_1d,
  __m1_7d AS ua_endorsements_7d,
  __m1_lifetime AS ua_endorsements_lifetime,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m2_1d)) / 1000.0) AS BIGINT) AS ua_seconds_since_click_1d,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m2_7d)) / 1000.0) AS BIGINT) AS ua_seconds_since_click_7d,
  CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m2_lifetime)) / 1000.0) AS BIGINT) AS ua_seconds_since_click_lifetime
FROM windowed
WHERE __ts >= 1768003200000
