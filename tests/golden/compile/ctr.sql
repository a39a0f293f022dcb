-- featuresql samples: ctr (point-in-time features and label, docs/semantics.md section 6)
-- Each feature is windowed over the union of its events and the spine's query
-- points, so one RANGE pass serves every spine row without a range join.
WITH spine AS MATERIALIZED (
  SELECT
    row_number() OVER () AS __sid,
    impression_id,
    user_id,
    post_id,
    author_id,
    position,
    CAST(event_time AS TIMESTAMP) AS event_time
  FROM read_parquet('<root>/data/impressions/*.parquet', union_by_name = true)
  WHERE event_time IS NOT NULL
    AND event_time >= TIMESTAMP '2026-01-10 00:00:00.000'
    AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
),
feature_0_input AS (
  SELECT user_id, __ts, __m0, __m1, __m2, __m3, __m4, __m5, CAST(NULL AS BIGINT) AS __sid
  FROM (
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
      AND (user_id) IN (SELECT user_id FROM spine)
      AND (action <> 'spam')
      AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
  ) AS events
  UNION ALL
  SELECT user_id, epoch_ms(event_time) AS __ts, NULL AS __m0, NULL AS __m1, NULL AS __m2, NULL AS __m3, NULL AS __m4, NULL AS __m5, __sid
  FROM spine
  WHERE user_id IS NOT NULL
),
feature_0 AS (
  -- feature user_engagement: events with t - w <= time < t
  SELECT
    __sid,
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
  FROM (
    SELECT
      __sid,
      epoch_ms(__ts) AS __asof,
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
    FROM feature_0_input
    WINDOW
      w_10m AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 600000 PRECEDING AND 1 PRECEDING),
      w_1h AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 3600000 PRECEDING AND 1 PRECEDING),
      w_1d AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 86400000 PRECEDING AND 1 PRECEDING),
      w_7d AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 604800000 PRECEDING AND 1 PRECEDING),
      w_lifetime AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) AS windowed
  WHERE __sid IS NOT NULL
),
feature_1_input AS (
  SELECT user_id, __ts, __m0, __m1, __m2, __m3, CAST(NULL AS BIGINT) AS __sid
  FROM (
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
      AND (user_id) IN (SELECT user_id FROM spine)
      AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
  ) AS events
  UNION ALL
  SELECT user_id, epoch_ms(event_time) AS __ts, NULL AS __m0, NULL AS __m1, NULL AS __m2, NULL AS __m3, __sid
  FROM spine
  WHERE user_id IS NOT NULL
),
feature_1 AS (
  -- feature user_exposure: events with t - w <= time < t
  SELECT
    __sid,
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
  FROM (
    SELECT
      __sid,
      epoch_ms(__ts) AS __asof,
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
    FROM feature_1_input
    WINDOW
      w_1h AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 3600000 PRECEDING AND 1 PRECEDING),
      w_1d AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN 86400000 PRECEDING AND 1 PRECEDING),
      w_lifetime AS (PARTITION BY user_id ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) AS windowed
  WHERE __sid IS NOT NULL
),
feature_2_input AS (
  SELECT post_id, __ts, __m0, __m1, __m2, __m3, __m4, CAST(NULL AS BIGINT) AS __sid
  FROM (
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
      AND (post_id) IN (SELECT post_id FROM spine)
      AND (action <> 'spam')
      AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
      AND event_time >= TIMESTAMP '2026-01-09 00:00:00.000'
  ) AS events
  UNION ALL
  SELECT post_id, epoch_ms(event_time) AS __ts, NULL AS __m0, NULL AS __m1, NULL AS __m2, NULL AS __m3, NULL AS __m4, __sid
  FROM spine
  WHERE post_id IS NOT NULL
),
feature_2 AS (
  -- feature post_popularity: events with t - w <= time < t
  SELECT
    __sid,
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
  FROM (
    SELECT
      __sid,
      epoch_ms(__ts) AS __asof,
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
    FROM feature_2_input
    WINDOW
      w_10m AS (PARTITION BY post_id ORDER BY __ts RANGE BETWEEN 600000 PRECEDING AND 1 PRECEDING),
      w_1h AS (PARTITION BY post_id ORDER BY __ts RANGE BETWEEN 3600000 PRECEDING AND 1 PRECEDING),
      w_1d AS (PARTITION BY post_id ORDER BY __ts RANGE BETWEEN 86400000 PRECEDING AND 1 PRECEDING)
  ) AS windowed
  WHERE __sid IS NOT NULL
),
feature_3_input AS (
  SELECT author_id, __ts, __m0, __m1, __m2, __m3, CAST(NULL AS BIGINT) AS __sid
  FROM (
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
      AND (author_id) IN (SELECT author_id FROM spine)
      AND (action <> 'spam')
      AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
      AND event_time >= TIMESTAMP '2026-01-03 00:00:00.000'
  ) AS events
  UNION ALL
  SELECT author_id, epoch_ms(event_time) AS __ts, NULL AS __m0, NULL AS __m1, NULL AS __m2, NULL AS __m3, __sid
  FROM spine
  WHERE author_id IS NOT NULL
),
feature_3 AS (
  -- feature author_reach: events with t - w <= time < t
  SELECT
    __sid,
    __m0_1h AS author_clicks_1h,
    __m0_1d AS author_clicks_1d,
    __m0_7d AS author_clicks_7d,
    __m1_1h AS author_fans_1h,
    __m1_1d AS author_fans_1d,
    __m1_7d AS author_fans_7d,
    CAST(__m2_1h AS DOUBLE) / NULLIF(__m3_1h, 0) AS author_dwell_per_view_1h,
    CAST(__m2_1d AS DOUBLE) / NULLIF(__m3_1d, 0) AS author_dwell_per_view_1d,
    CAST(__m2_7d AS DOUBLE) / NULLIF(__m3_7d, 0) AS author_dwell_per_view_7d
  FROM (
    SELECT
      __sid,
      epoch_ms(__ts) AS __asof,
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
    FROM feature_3_input
    WINDOW
      w_1h AS (PARTITION BY author_id ORDER BY __ts RANGE BETWEEN 3600000 PRECEDING AND 1 PRECEDING),
      w_1d AS (PARTITION BY author_id ORDER BY __ts RANGE BETWEEN 86400000 PRECEDING AND 1 PRECEDING),
      w_7d AS (PARTITION BY author_id ORDER BY __ts RANGE BETWEEN 604800000 PRECEDING AND 1 PRECEDING)
  ) AS windowed
  WHERE __sid IS NOT NULL
),
feature_4_input AS (
  SELECT user_id, author_id, __ts, __m0, __m1, __m2, CAST(NULL AS BIGINT) AS __sid
  FROM (
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
      AND (user_id, author_id) IN (SELECT user_id, author_id FROM spine)
      AND (action <> 'spam')
      AND event_time < TIMESTAMP '2026-01-12 00:00:00.000'
  ) AS events
  UNION ALL
  SELECT user_id, author_id, epoch_ms(event_time) AS __ts, NULL AS __m0, NULL AS __m1, NULL AS __m2, __sid
  FROM spine
  WHERE user_id IS NOT NULL AND author_id IS NOT NULL
),
feature_4 AS (
  -- feature user_author_affinity: events with t - w <= time < t
  SELECT
    __sid,
    __m0_1d AS ua_clicks_1d,
    __m0_7d AS ua_clicks_7d,
    __m0_lifetime AS ua_clicks_lifetime,
    __m1_1d AS ua_endorsements_1d,
    __m1_7d AS ua_endorsements_7d,
    __m1_lifetime AS ua_endorsements_lifetime,
    CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m2_1d)) / 1000.0) AS BIGINT) AS ua_seconds_since_click_1d,
    CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m2_7d)) / 1000.0) AS BIGINT) AS ua_seconds_since_click_7d,
    CAST(FLOOR((EPOCH_MS(__asof) - EPOCH_MS(__m2_lifetime)) / 1000.0) AS BIGINT) AS ua_seconds_since_click_lifetime
  FROM (
    SELECT
      __sid,
      epoch_ms(__ts) AS __asof,
      COUNT(__m0) OVER w_1d AS __m0_1d,
      COUNT(__m1) OVER w_1d AS __m1_1d,
      MAX(__m2) OVER w_1d AS __m2_1d,
      COUNT(__m0) OVER w_7d AS __m0_7d,
      COUNT(__m1) OVER w_7d AS __m1_7d,
      MAX(__m2) OVER w_7d AS __m2_7d,
      COUNT(__m0) OVER w_lifetime AS __m0_lifetime,
      COUNT(__m1) OVER w_lifetime AS __m1_lifetime,
      MAX(__m2) OVER w_lifetime AS __m2_lifetime
    FROM feature_4_input
    WINDOW
      w_1d AS (PARTITION BY user_id, author_id ORDER BY __ts RANGE BETWEEN 86400000 PRECEDING AND 1 PRECEDING),
      w_7d AS (PARTITION BY user_id, author_id ORDER BY __ts RANGE BETWEEN 604800000 PRECEDING AND 1 PRECEDING),
      w_lifetime AS (PARTITION BY user_id, author_id ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) AS windowed
  WHERE __sid IS NOT NULL
),
label_input AS (
  SELECT user_id, post_id, __ts, __m0, CAST(NULL AS BIGINT) AS __sid
  FROM (
    SELECT
      user_id,
      post_id,
      epoch_ms(CAST(event_time AS TIMESTAMP)) AS __ts,
      CASE WHEN action = 'click' THEN 1 END AS __m0
    FROM read_parquet('<root>/data/engagements/*.parquet', union_by_name = true)
    WHERE event_time IS NOT NULL
      AND user_id IS NOT NULL
      AND post_id IS NOT NULL
      AND (user_id, post_id) IN (SELECT user_id, post_id FROM spine)
      AND event_time <= TIMESTAMP '2026-01-12 00:10:00.000'
      AND event_time >= TIMESTAMP '2026-01-10 00:00:00.001'
  ) AS events
  UNION ALL
  SELECT user_id, post_id, epoch_ms(event_time) AS __ts, NULL AS __m0, __sid
  FROM spine
  WHERE user_id IS NOT NULL AND post_id IS NOT NULL
),
label AS (
  -- label ctr: events with t < time <= t + 10m
  SELECT
    __sid,
    __m0_10m > 0 AS clicked
  FROM (
    SELECT
      __sid,
      epoch_ms(__ts) AS __asof,
      COUNT(__m0) OVER w_10m AS __m0_10m
    FROM label_input
    WINDOW
      w_10m AS (PARTITION BY user_id, post_id ORDER BY __ts RANGE BETWEEN 1 FOLLOWING AND 600000 FOLLOWING)
  ) AS windowed
  WHERE __sid IS NOT NULL
)
SELECT
  spine.impression_id,
  spine.user_id,
  spine.post_id,
  spine.author_id,
  spine.position,
  CAST(spine.event_time AS TIMESTAMP_MS) AS event_time,
  feature_0.events_10m,
  feature_0.events_1h,
  feature_0.events_1d,
  feature_0.events_7d,
  feature_0.events_lifetime,
  feature_0.clicks_10m,
  feature_0.clicks_1h,
  feature_0.clicks_1d,
  feature_0.clicks_7d,
  feature_0.clicks_lifetime,
  feature_0.dwell_10m,
  feature_0.dwell_1h,
  feature_0.dwell_1d,
  feature_0.dwell_7d,
  feature_0.dwell_lifetime,
  feature_0.avg_dwell_10m,
  feature_0.avg_dwell_1h,
  feature_0.avg_dwell_1d,
  feature_0.avg_dwell_7d,
  feature_0.avg_dwell_lifetime,
  feature_0.max_dwell_10m,
  feature_0.max_dwell_1h,
  feature_0.max_dwell_1d,
  feature_0.max_dwell_7d,
  feature_0.max_dwell_lifetime,
  feature_0.authors_10m,
  feature_0.authors_1h,
  feature_0.authors_1d,
  feature_0.authors_7d,
  feature_0.authors_lifetime,
  feature_0.click_rate_10m,
  feature_0.click_rate_1h,
  feature_0.click_rate_1d,
  feature_0.click_rate_7d,
  feature_0.click_rate_lifetime,
  feature_1.impressions_1h,
  feature_1.impressions_1d,
  feature_1.impressions_lifetime,
  feature_1.posts_seen_1h,
  feature_1.posts_seen_1d,
  feature_1.posts_seen_lifetime,
  feature_1.avg_position_1h,
  feature_1.avg_position_1d,
  feature_1.avg_position_lifetime,
  feature_1.seconds_since_impression_1h,
  feature_1.seconds_since_impression_1d,
  feature_1.seconds_since_impression_lifetime,
  feature_2.post_clicks_10m,
  feature_2.post_clicks_1h,
  feature_2.post_clicks_1d,
  feature_2.post_likes_10m,
  feature_2.post_likes_1h,
  feature_2.post_likes_1d,
  feature_2.post_reposts_10m,
  feature_2.post_reposts_1h,
  feature_2.post_reposts_1d,
  feature_2.post_users_10m,
  feature_2.post_users_1h,
  feature_2.post_users_1d,
  feature_2.post_seconds_since_engagement_10m,
  feature_2.post_seconds_since_engagement_1h,
  feature_2.post_seconds_since_engagement_1d,
  feature_3.author_clicks_1h,
  feature_3.author_clicks_1d,
  feature_3.author_clicks_7d,
  feature_3.author_fans_1h,
  feature_3.author_fans_1d,
  feature_3.author_fans_7d,
  feature_3.author_dwell_per_view_1h,
  feature_3.author_dwell_per_view_1d,
  feature_3.author_dwell_per_view_7d,
  feature_4.ua_clicks_1d,
  feature_4.ua_clicks_7d,
  feature_4.ua_clicks_lifetime,
  feature_4.ua_endorsements_1d,
  feature_4.ua_endorsements_7d,
  feature_4.ua_endorsements_lifetime,
  feature_4.ua_seconds_since_click_1d,
  feature_4.ua_seconds_since_click_7d,
  feature_4.ua_seconds_since_click_lifetime,
  label.clicked
FROM spine
LEFT JOIN feature_0 USING (__sid)
LEFT JOIN feature_1 USING (__sid)
LEFT JOIN feature_2 USING (__sid)
LEFT JOIN feature_3 USING (__sid)
LEFT JOIN feature_4 USING (__sid)
LEFT JOIN label USING (__sid)
