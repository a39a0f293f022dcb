-- featuresql flink job: ctr

CREATE TEMPORARY TABLE `src_engagements` (
  `user_id` STRING,
  `post_id` STRING,
  `author_id` STRING,
  `action` STRING,
  `dwell_ms` BIGINT,
  `event_time` TIMESTAMP(3),
  `__rowtime` AS COALESCE(`event_time`, TIMESTAMP '1970-01-01 00:00:00.000'),
  WATERMARK FOR `__rowtime` AS `__rowtime` - INTERVAL '0 00:00:05.000' DAY TO SECOND(3)
) WITH (
  'connector' = 'filesystem',
  'path' = 'file://<root>/data/engagements',
  'format' = 'parquet',
  'parquet.utc-timezone' = 'true'
);

CREATE TEMPORARY TABLE `src_impressions` (
  `impression_id` STRING,
  `user_id` STRING,
  `post_id` STRING,
  `author_id` STRING,
  `position` INT,
  `event_time` TIMESTAMP(3),
  `__rowtime` AS COALESCE(`event_time`, TIMESTAMP '1970-01-01 00:00:00.000'),
  WATERMARK FOR `__rowtime` AS `__rowtime` - INTERVAL '0 00:00:05.000' DAY TO SECOND(3)
) WITH (
  'connector' = 'filesystem',
  'path' = 'file://<root>/data/impressions',
  'format' = 'parquet',
  'parquet.utc-timezone' = 'true'
);

CREATE TEMPORARY TABLE `spine_impressions` (
  `impression_id` STRING,
  `user_id` STRING,
  `post_id` STRING,
  `author_id` STRING,
  `position` INT,
  `event_time` TIMESTAMP(3),
  `__rowtime` AS COALESCE(`event_time`, TIMESTAMP '1970-01-01 00:00:00.000') - INTERVAL '0 00:00:00.001' DAY TO SECOND(3),
  WATERMARK FOR `__rowtime` AS `__rowtime` - INTERVAL '0 00:00:05.000' DAY TO SECOND(3)
) WITH (
  'connector' = 'filesystem',
  'path' = 'file://<root>/data/impressions',
  'format' = 'parquet',
  'parquet.utc-timezone' = 'true'
);

CREATE TEMPORARY TABLE `label_impressions` (
  `impression_id` STRING,
  `user_id` STRING,
  `post_id` STRING,
  `author_id` STRING,
  `position` INT,
  `event_time` TIMESTAMP(3),
  `__rowtime` AS COALESCE(`event_time`, TIMESTAMP '1970-01-01 00:00:00.000') + INTERVAL '0 00:10:00.000' DAY TO SECOND(3),
  WATERMARK FOR `__rowtime` AS `__rowtime` - INTERVAL '0 00:00:05.000' DAY TO SECOND(3)
) WITH (
  'connector' = 'filesystem',
  'path' = 'file://<root>/data/impressions',
  'format' = 'parquet',
  'parquet.utc-timezone' = 'true'
);

-- the sink's columns are the query's, as Flink types them, plus the day partition `dt`;
-- <staging> is a run's folder beside <out>, whose days are swapped into <out>/samples/ctr when it ends
CREATE TEMPORARY TABLE `sink` (...) PARTITIONED BY (`dt`) WITH (
  'connector' = 'filesystem', 'path' = '<staging>', 'format' = 'parquet'
);

-- rows of src_engagements that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_engagements` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_engagements', 'format' = 'parquet'
);

-- rows of src_impressions that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_impressions` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_impressions', 'format' = 'parquet'
);

-- rows of spine_impressions that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_spine_impressions` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/spine_impressions', 'format' = 'parquet'
);

-- rows of label_impressions that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_label_impressions` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/label_impressions', 'format' = 'parquet'
);

EXECUTE STATEMENT SET BEGIN

INSERT INTO `sink`
WITH `points` AS (
-- the spine's rows as feature query points at t - 1 ms
SELECT `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__rowtime` AS `__rt`,
  COUNT(*) OVER (PARTITION BY `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time` ORDER BY `__rowtime` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `__dseq`
FROM `spine_impressions`
WHERE `event_time` IS NOT NULL
  AND `event_time` >= TIMESTAMP '2026-01-10 00:00:00.000'
  AND `event_time` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
),
`feature_0` AS (
-- feature user_engagement: events with t - w <= time < t
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__f0__m0_10m`, `__f0__m1_10m`, `__f0__m2_10m`, `__f0__m3_10m`, `__f0__m4_10m`, `__f0__m5_10m`, `__f0__m0_1h`, `__f0__m1_1h`, `__f0__m2_1h`, `__f0__m3_1h`, `__f0__m4_1h`, `__f0__m5_1h`, `__f0__m0_1d`, `__f0__m1_1d`, `__f0__m2_1d`, `__f0__m3_1d`, `__f0__m4_1d`, `__f0__m5_1d`, `__f0__m0_7d`, `__f0__m1_7d`, `__f0__m2_7d`, `__f0__m3_7d`, `__f0__m4_7d`, `__f0__m5_7d`, `__f0__m0_lifetime`, `__f0__m1_lifetime`, `__f0__m2_lifetime`, `__f0__m3_lifetime`, `__f0__m4_lifetime`, `__f0__m5_lifetime`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f0__m0_lifetime`, COUNT(`__m1`) OVER w AS `__f0__m1_lifetime`, SUM(`__m2`) OVER w AS `__f0__m2_lifetime`, AVG(`__m3`) OVER w AS `__f0__m3_lifetime`, MAX(`__m4`) OVER w AS `__f0__m4_lifetime`, COUNT(DISTINCT `__m5`) OVER w AS `__f0__m5_lifetime`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f0__m0_7d`, COUNT(`__m1`) OVER w AS `__f0__m1_7d`, SUM(`__m2`) OVER w AS `__f0__m2_7d`, AVG(`__m3`) OVER w AS `__f0__m3_7d`, MAX(`__m4`) OVER w AS `__f0__m4_7d`, COUNT(DISTINCT `__m5`) OVER w AS `__f0__m5_7d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f0__m0_1d`, COUNT(`__m1`) OVER w AS `__f0__m1_1d`, SUM(`__m2`) OVER w AS `__f0__m2_1d`, AVG(`__m3`) OVER w AS `__f0__m3_1d`, MAX(`__m4`) OVER w AS `__f0__m4_1d`, COUNT(DISTINCT `__m5`) OVER w AS `__f0__m5_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f0__m0_1h`, COUNT(`__m1`) OVER w AS `__f0__m1_1h`, SUM(`__m2`) OVER w AS `__f0__m2_1h`, AVG(`__m3`) OVER w AS `__f0__m3_1h`, MAX(`__m4`) OVER w AS `__f0__m4_1h`, COUNT(DISTINCT `__m5`) OVER w AS `__f0__m5_1h`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f0__m0_10m`, COUNT(`__m1`) OVER w AS `__f0__m1_10m`, SUM(`__m2`) OVER w AS `__f0__m2_10m`, AVG(`__m3`) OVER w AS `__f0__m3_10m`, MAX(`__m4`) OVER w AS `__f0__m4_10m`, COUNT(DISTINCT `__m5`) OVER w AS `__f0__m5_10m`, *
FROM (
SELECT FALSE AS `__point`,
  `__rowtime` AS `__rt`,
  CAST(NULL AS STRING) AS `impression_id`,
  CAST(NULL AS STRING) AS `user_id`,
  CAST(NULL AS STRING) AS `post_id`,
  CAST(NULL AS STRING) AS `author_id`,
  CAST(NULL AS INT) AS `position`,
  CAST(NULL AS TIMESTAMP(3)) AS `event_time`,
  CAST(NULL AS BIGINT) AS `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(1 AS INT) AS `__m0`,
  CAST(CASE WHEN `action` = 'click' THEN 1 END AS INT) AS `__m1`,
  CAST(CAST(`dwell_ms` AS BIGINT) AS BIGINT) AS `__m2`,
  CAST(CAST(`dwell_ms` AS DOUBLE) AS DOUBLE) AS `__m3`,
  CAST(`dwell_ms` AS BIGINT) AS `__m4`,
  CAST(`author_id` AS STRING) AS `__m5`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` <= TIMESTAMP '2026-01-12 00:10:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `user_id` IS NOT NULL
  AND (`action` <> 'spam')
UNION ALL
SELECT TRUE AS `__point`,
  `__rt`,
  `impression_id`,
  `user_id`,
  `post_id`,
  `author_id`,
  `position`,
  `event_time`,
  `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(NULL AS INT) AS `__m0`,
  CAST(NULL AS INT) AS `__m1`,
  CAST(NULL AS BIGINT) AS `__m2`,
  CAST(NULL AS DOUBLE) AS `__m3`,
  CAST(NULL AS BIGINT) AS `__m4`,
  CAST(NULL AS STRING) AS `__m5`
FROM `points`
WHERE `user_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:09:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '6 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE `__point`
),
`feature_1` AS (
-- feature user_exposure: events with t - w <= time < t
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__f1__m0_1h`, `__f1__m1_1h`, `__f1__m2_1h`, `__f1__m3_1h`, `__f1__m0_1d`, `__f1__m1_1d`, `__f1__m2_1d`, `__f1__m3_1d`, `__f1__m0_lifetime`, `__f1__m1_lifetime`, `__f1__m2_lifetime`, `__f1__m3_lifetime`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f1__m0_lifetime`, COUNT(DISTINCT `__m1`) OVER w AS `__f1__m1_lifetime`, AVG(`__m2`) OVER w AS `__f1__m2_lifetime`, MAX(`__m3`) OVER w AS `__f1__m3_lifetime`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f1__m0_1d`, COUNT(DISTINCT `__m1`) OVER w AS `__f1__m1_1d`, AVG(`__m2`) OVER w AS `__f1__m2_1d`, MAX(`__m3`) OVER w AS `__f1__m3_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f1__m0_1h`, COUNT(DISTINCT `__m1`) OVER w AS `__f1__m1_1h`, AVG(`__m2`) OVER w AS `__f1__m2_1h`, MAX(`__m3`) OVER w AS `__f1__m3_1h`, *
FROM (
SELECT FALSE AS `__point`,
  `__rowtime` AS `__rt`,
  CAST(NULL AS STRING) AS `impression_id`,
  CAST(NULL AS STRING) AS `user_id`,
  CAST(NULL AS STRING) AS `post_id`,
  CAST(NULL AS STRING) AS `author_id`,
  CAST(NULL AS INT) AS `position`,
  CAST(NULL AS TIMESTAMP(3)) AS `event_time`,
  CAST(NULL AS BIGINT) AS `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(1 AS INT) AS `__m0`,
  CAST(`post_id` AS STRING) AS `__m1`,
  CAST(CAST(`position` AS DOUBLE) AS DOUBLE) AS `__m2`,
  CAST(`event_time` AS TIMESTAMP(3)) AS `__m3`
FROM `src_impressions`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `user_id` IS NOT NULL
UNION ALL
SELECT TRUE AS `__point`,
  `__rt`,
  `impression_id`,
  `user_id`,
  `post_id`,
  `author_id`,
  `position`,
  `event_time`,
  `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(NULL AS INT) AS `__m0`,
  CAST(NULL AS STRING) AS `__m1`,
  CAST(NULL AS DOUBLE) AS `__m2`,
  CAST(NULL AS TIMESTAMP(3)) AS `__m3`
FROM `points`
WHERE `user_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE `__point`
),
`feature_2` AS (
-- feature post_popularity: events with t - w <= time < t
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__f2__m0_10m`, `__f2__m1_10m`, `__f2__m2_10m`, `__f2__m3_10m`, `__f2__m4_10m`, `__f2__m0_1h`, `__f2__m1_1h`, `__f2__m2_1h`, `__f2__m3_1h`, `__f2__m4_1h`, `__f2__m0_1d`, `__f2__m1_1d`, `__f2__m2_1d`, `__f2__m3_1d`, `__f2__m4_1d`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f2__m0_1d`, COUNT(`__m1`) OVER w AS `__f2__m1_1d`, COUNT(`__m2`) OVER w AS `__f2__m2_1d`, COUNT(DISTINCT `__m3`) OVER w AS `__f2__m3_1d`, MAX(`__m4`) OVER w AS `__f2__m4_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f2__m0_1h`, COUNT(`__m1`) OVER w AS `__f2__m1_1h`, COUNT(`__m2`) OVER w AS `__f2__m2_1h`, COUNT(DISTINCT `__m3`) OVER w AS `__f2__m3_1h`, MAX(`__m4`) OVER w AS `__f2__m4_1h`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f2__m0_10m`, COUNT(`__m1`) OVER w AS `__f2__m1_10m`, COUNT(`__m2`) OVER w AS `__f2__m2_10m`, COUNT(DISTINCT `__m3`) OVER w AS `__f2__m3_10m`, MAX(`__m4`) OVER w AS `__f2__m4_10m`, *
FROM (
SELECT FALSE AS `__point`,
  `__rowtime` AS `__rt`,
  CAST(NULL AS STRING) AS `impression_id`,
  CAST(NULL AS STRING) AS `user_id`,
  CAST(NULL AS STRING) AS `post_id`,
  CAST(NULL AS STRING) AS `author_id`,
  CAST(NULL AS INT) AS `position`,
  CAST(NULL AS TIMESTAMP(3)) AS `event_time`,
  CAST(NULL AS BIGINT) AS `__dseq`,
  CAST(`post_id` AS STRING) AS `__k0`,
  CAST(CASE WHEN `action` = 'click' THEN 1 END AS INT) AS `__m0`,
  CAST(CASE WHEN `action` = 'like' THEN 1 END AS INT) AS `__m1`,
  CAST(CASE WHEN `action` = 'repost' THEN 1 END AS INT) AS `__m2`,
  CAST(`user_id` AS STRING) AS `__m3`,
  CAST(`event_time` AS TIMESTAMP(3)) AS `__m4`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` <= TIMESTAMP '2026-01-12 00:10:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `post_id` IS NOT NULL
  AND (`action` <> 'spam')
UNION ALL
SELECT TRUE AS `__point`,
  `__rt`,
  `impression_id`,
  `user_id`,
  `post_id`,
  `author_id`,
  `position`,
  `event_time`,
  `__dseq`,
  CAST(`post_id` AS STRING) AS `__k0`,
  CAST(NULL AS INT) AS `__m0`,
  CAST(NULL AS INT) AS `__m1`,
  CAST(NULL AS INT) AS `__m2`,
  CAST(NULL AS STRING) AS `__m3`,
  CAST(NULL AS TIMESTAMP(3)) AS `__m4`
FROM `points`
WHERE `post_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:09:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WHERE `__point`
),
`feature_3` AS (
-- feature author_reach: events with t - w <= time < t
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__f3__m0_1h`, `__f3__m1_1h`, `__f3__m2_1h`, `__f3__m3_1h`, `__f3__m0_1d`, `__f3__m1_1d`, `__f3__m2_1d`, `__f3__m3_1d`, `__f3__m0_7d`, `__f3__m1_7d`, `__f3__m2_7d`, `__f3__m3_7d`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f3__m0_7d`, COUNT(DISTINCT `__m1`) OVER w AS `__f3__m1_7d`, SUM(`__m2`) OVER w AS `__f3__m2_7d`, COUNT(`__m3`) OVER w AS `__f3__m3_7d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f3__m0_1d`, COUNT(DISTINCT `__m1`) OVER w AS `__f3__m1_1d`, SUM(`__m2`) OVER w AS `__f3__m2_1d`, COUNT(`__m3`) OVER w AS `__f3__m3_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f3__m0_1h`, COUNT(DISTINCT `__m1`) OVER w AS `__f3__m1_1h`, SUM(`__m2`) OVER w AS `__f3__m2_1h`, COUNT(`__m3`) OVER w AS `__f3__m3_1h`, *
FROM (
SELECT FALSE AS `__point`,
  `__rowtime` AS `__rt`,
  CAST(NULL AS STRING) AS `impression_id`,
  CAST(NULL AS STRING) AS `user_id`,
  CAST(NULL AS STRING) AS `post_id`,
  CAST(NULL AS STRING) AS `author_id`,
  CAST(NULL AS INT) AS `position`,
  CAST(NULL AS TIMESTAMP(3)) AS `event_time`,
  CAST(NULL AS BIGINT) AS `__dseq`,
  CAST(`author_id` AS STRING) AS `__k0`,
  CAST(CASE WHEN `action` = 'click' THEN 1 END AS INT) AS `__m0`,
  CAST(`user_id` AS STRING) AS `__m1`,
  CAST(CAST(`dwell_ms` AS BIGINT) AS BIGINT) AS `__m2`,
  CAST(`dwell_ms` AS BIGINT) AS `__m3`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` <= TIMESTAMP '2026-01-12 00:10:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `author_id` IS NOT NULL
  AND (`action` <> 'spam')
UNION ALL
SELECT TRUE AS `__point`,
  `__rt`,
  `impression_id`,
  `user_id`,
  `post_id`,
  `author_id`,
  `position`,
  `event_time`,
  `__dseq`,
  CAST(`author_id` AS STRING) AS `__k0`,
  CAST(NULL AS INT) AS `__m0`,
  CAST(NULL AS STRING) AS `__m1`,
  CAST(NULL AS BIGINT) AS `__m2`,
  CAST(NULL AS BIGINT) AS `__m3`
FROM `points`
WHERE `author_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0` ORDER BY `__rt` RANGE BETWEEN INTERVAL '6 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WHERE `__point`
),
`feature_4` AS (
-- feature user_author_affinity: events with t - w <= time < t
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__f4__m0_1d`, `__f4__m1_1d`, `__f4__m2_1d`, `__f4__m0_7d`, `__f4__m1_7d`, `__f4__m2_7d`, `__f4__m0_lifetime`, `__f4__m1_lifetime`, `__f4__m2_lifetime`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f4__m0_lifetime`, COUNT(`__m1`) OVER w AS `__f4__m1_lifetime`, MAX(`__m2`) OVER w AS `__f4__m2_lifetime`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f4__m0_7d`, COUNT(`__m1`) OVER w AS `__f4__m1_7d`, MAX(`__m2`) OVER w AS `__f4__m2_7d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__f4__m0_1d`, COUNT(`__m1`) OVER w AS `__f4__m1_1d`, MAX(`__m2`) OVER w AS `__f4__m2_1d`, *
FROM (
SELECT FALSE AS `__point`,
  `__rowtime` AS `__rt`,
  CAST(NULL AS STRING) AS `impression_id`,
  CAST(NULL AS STRING) AS `user_id`,
  CAST(NULL AS STRING) AS `post_id`,
  CAST(NULL AS STRING) AS `author_id`,
  CAST(NULL AS INT) AS `position`,
  CAST(NULL AS TIMESTAMP(3)) AS `event_time`,
  CAST(NULL AS BIGINT) AS `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(`author_id` AS STRING) AS `__k1`,
  CAST(CASE WHEN `action` = 'click' THEN 1 END AS INT) AS `__m0`,
  CAST(CASE WHEN `action` IN ('like', 'repost') THEN 1 END AS INT) AS `__m1`,
  CAST(CASE WHEN `action` = 'click' THEN `event_time` END AS TIMESTAMP(3)) AS `__m2`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` <= TIMESTAMP '2026-01-12 00:10:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `user_id` IS NOT NULL
  AND `author_id` IS NOT NULL
  AND (`action` <> 'spam')
UNION ALL
SELECT TRUE AS `__point`,
  `__rt`,
  `impression_id`,
  `user_id`,
  `post_id`,
  `author_id`,
  `position`,
  `event_time`,
  `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(`author_id` AS STRING) AS `__k1`,
  CAST(NULL AS INT) AS `__m0`,
  CAST(NULL AS INT) AS `__m1`,
  CAST(NULL AS TIMESTAMP(3)) AS `__m2`
FROM `points`
WHERE `user_id` IS NOT NULL AND `author_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `__k0`, `__k1` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0`, `__k1` ORDER BY `__rt` RANGE BETWEEN INTERVAL '6 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `__k0`, `__k1` ORDER BY `__rt` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE `__point`
),
`feature_rows` AS (
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, CAST(NULL AS BIGINT) AS `__f0__m0_10m`, CAST(NULL AS BIGINT) AS `__f0__m1_10m`, CAST(NULL AS BIGINT) AS `__f0__m2_10m`, CAST(NULL AS DOUBLE) AS `__f0__m3_10m`, CAST(NULL AS BIGINT) AS `__f0__m4_10m`, CAST(NULL AS BIGINT) AS `__f0__m5_10m`, CAST(NULL AS BIGINT) AS `__f0__m0_1h`, CAST(NULL AS BIGINT) AS `__f0__m1_1h`, CAST(NULL AS BIGINT) AS `__f0__m2_1h`, CAST(NULL AS DOUBLE) AS `__f0__m3_1h`, CAST(NULL AS BIGINT) AS `__f0__m4_1h`, CAST(NULL AS BIGINT) AS `__f0__m5_1h`, CAST(NULL AS BIGINT) AS `__f0__m0_1d`, CAST(NULL AS BIGINT) AS `__f0__m1_1d`, CAST(NULL AS BIGINT) AS `__f0__m2_1d`, CAST(NULL AS DOUBLE) AS `__f0__m3_1d`, CAST(NULL AS BIGINT) AS `__f0__m4_1d`, CAST(NULL AS BIGINT) AS `__f0__m5_1d`, CAST(NULL AS BIGINT) AS `__f0__m0_7d`, CAST(NULL AS BIGINT) AS `__f0__m1_7d`, CAST(NULL AS BIGINT) AS `__f0__m2_7d`, CAST(NULL AS DOUBLE) AS `__f0__m3_7d`, CAST(NULL AS BIGINT) AS `__f0__m4_7d`, CAST(NULL AS BIGINT) AS `__f0__m5_7d`, CAST(NULL AS BIGINT) AS `__f0__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m1_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m2_lifetime`, CAST(NULL AS DOUBLE) AS `__f0__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m4_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m5_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m0_1h`, CAST(NULL AS BIGINT) AS `__f1__m1_1h`, CAST(NULL AS DOUBLE) AS `__f1__m2_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1h`, CAST(NULL AS BIGINT) AS `__f1__m0_1d`, CAST(NULL AS BIGINT) AS `__f1__m1_1d`, CAST(NULL AS DOUBLE) AS `__f1__m2_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1d`, CAST(NULL AS BIGINT) AS `__f1__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m1_lifetime`, CAST(NULL AS DOUBLE) AS `__f1__m2_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f2__m0_10m`, CAST(NULL AS BIGINT) AS `__f2__m1_10m`, CAST(NULL AS BIGINT) AS `__f2__m2_10m`, CAST(NULL AS BIGINT) AS `__f2__m3_10m`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_10m`, CAST(NULL AS BIGINT) AS `__f2__m0_1h`, CAST(NULL AS BIGINT) AS `__f2__m1_1h`, CAST(NULL AS BIGINT) AS `__f2__m2_1h`, CAST(NULL AS BIGINT) AS `__f2__m3_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1h`, CAST(NULL AS BIGINT) AS `__f2__m0_1d`, CAST(NULL AS BIGINT) AS `__f2__m1_1d`, CAST(NULL AS BIGINT) AS `__f2__m2_1d`, CAST(NULL AS BIGINT) AS `__f2__m3_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_1h`, CAST(NULL AS BIGINT) AS `__f3__m1_1h`, CAST(NULL AS BIGINT) AS `__f3__m2_1h`, CAST(NULL AS BIGINT) AS `__f3__m3_1h`, CAST(NULL AS BIGINT) AS `__f3__m0_1d`, CAST(NULL AS BIGINT) AS `__f3__m1_1d`, CAST(NULL AS BIGINT) AS `__f3__m2_1d`, CAST(NULL AS BIGINT) AS `__f3__m3_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_7d`, CAST(NULL AS BIGINT) AS `__f3__m1_7d`, CAST(NULL AS BIGINT) AS `__f3__m2_7d`, CAST(NULL AS BIGINT) AS `__f3__m3_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_1d`, CAST(NULL AS BIGINT) AS `__f4__m1_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_1d`, CAST(NULL AS BIGINT) AS `__f4__m0_7d`, CAST(NULL AS BIGINT) AS `__f4__m1_7d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f4__m1_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_lifetime`
FROM `points`
UNION ALL
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__f0__m0_10m`, `__f0__m1_10m`, `__f0__m2_10m`, `__f0__m3_10m`, `__f0__m4_10m`, `__f0__m5_10m`, `__f0__m0_1h`, `__f0__m1_1h`, `__f0__m2_1h`, `__f0__m3_1h`, `__f0__m4_1h`, `__f0__m5_1h`, `__f0__m0_1d`, `__f0__m1_1d`, `__f0__m2_1d`, `__f0__m3_1d`, `__f0__m4_1d`, `__f0__m5_1d`, `__f0__m0_7d`, `__f0__m1_7d`, `__f0__m2_7d`, `__f0__m3_7d`, `__f0__m4_7d`, `__f0__m5_7d`, `__f0__m0_lifetime`, `__f0__m1_lifetime`, `__f0__m2_lifetime`, `__f0__m3_lifetime`, `__f0__m4_lifetime`, `__f0__m5_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m0_1h`, CAST(NULL AS BIGINT) AS `__f1__m1_1h`, CAST(NULL AS DOUBLE) AS `__f1__m2_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1h`, CAST(NULL AS BIGINT) AS `__f1__m0_1d`, CAST(NULL AS BIGINT) AS `__f1__m1_1d`, CAST(NULL AS DOUBLE) AS `__f1__m2_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1d`, CAST(NULL AS BIGINT) AS `__f1__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m1_lifetime`, CAST(NULL AS DOUBLE) AS `__f1__m2_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f2__m0_10m`, CAST(NULL AS BIGINT) AS `__f2__m1_10m`, CAST(NULL AS BIGINT) AS `__f2__m2_10m`, CAST(NULL AS BIGINT) AS `__f2__m3_10m`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_10m`, CAST(NULL AS BIGINT) AS `__f2__m0_1h`, CAST(NULL AS BIGINT) AS `__f2__m1_1h`, CAST(NULL AS BIGINT) AS `__f2__m2_1h`, CAST(NULL AS BIGINT) AS `__f2__m3_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1h`, CAST(NULL AS BIGINT) AS `__f2__m0_1d`, CAST(NULL AS BIGINT) AS `__f2__m1_1d`, CAST(NULL AS BIGINT) AS `__f2__m2_1d`, CAST(NULL AS BIGINT) AS `__f2__m3_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_1h`, CAST(NULL AS BIGINT) AS `__f3__m1_1h`, CAST(NULL AS BIGINT) AS `__f3__m2_1h`, CAST(NULL AS BIGINT) AS `__f3__m3_1h`, CAST(NULL AS BIGINT) AS `__f3__m0_1d`, CAST(NULL AS BIGINT) AS `__f3__m1_1d`, CAST(NULL AS BIGINT) AS `__f3__m2_1d`, CAST(NULL AS BIGINT) AS `__f3__m3_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_7d`, CAST(NULL AS BIGINT) AS `__f3__m1_7d`, CAST(NULL AS BIGINT) AS `__f3__m2_7d`, CAST(NULL AS BIGINT) AS `__f3__m3_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_1d`, CAST(NULL AS BIGINT) AS `__f4__m1_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_1d`, CAST(NULL AS BIGINT) AS `__f4__m0_7d`, CAST(NULL AS BIGINT) AS `__f4__m1_7d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f4__m1_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_lifetime`
FROM `feature_0`
UNION ALL
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, CAST(NULL AS BIGINT) AS `__f0__m0_10m`, CAST(NULL AS BIGINT) AS `__f0__m1_10m`, CAST(NULL AS BIGINT) AS `__f0__m2_10m`, CAST(NULL AS DOUBLE) AS `__f0__m3_10m`, CAST(NULL AS BIGINT) AS `__f0__m4_10m`, CAST(NULL AS BIGINT) AS `__f0__m5_10m`, CAST(NULL AS BIGINT) AS `__f0__m0_1h`, CAST(NULL AS BIGINT) AS `__f0__m1_1h`, CAST(NULL AS BIGINT) AS `__f0__m2_1h`, CAST(NULL AS DOUBLE) AS `__f0__m3_1h`, CAST(NULL AS BIGINT) AS `__f0__m4_1h`, CAST(NULL AS BIGINT) AS `__f0__m5_1h`, CAST(NULL AS BIGINT) AS `__f0__m0_1d`, CAST(NULL AS BIGINT) AS `__f0__m1_1d`, CAST(NULL AS BIGINT) AS `__f0__m2_1d`, CAST(NULL AS DOUBLE) AS `__f0__m3_1d`, CAST(NULL AS BIGINT) AS `__f0__m4_1d`, CAST(NULL AS BIGINT) AS `__f0__m5_1d`, CAST(NULL AS BIGINT) AS `__f0__m0_7d`, CAST(NULL AS BIGINT) AS `__f0__m1_7d`, CAST(NULL AS BIGINT) AS `__f0__m2_7d`, CAST(NULL AS DOUBLE) AS `__f0__m3_7d`, CAST(NULL AS BIGINT) AS `__f0__m4_7d`, CAST(NULL AS BIGINT) AS `__f0__m5_7d`, CAST(NULL AS BIGINT) AS `__f0__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m1_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m2_lifetime`, CAST(NULL AS DOUBLE) AS `__f0__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m4_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m5_lifetime`, `__f1__m0_1h`, `__f1__m1_1h`, `__f1__m2_1h`, `__f1__m3_1h`, `__f1__m0_1d`, `__f1__m1_1d`, `__f1__m2_1d`, `__f1__m3_1d`, `__f1__m0_lifetime`, `__f1__m1_lifetime`, `__f1__m2_lifetime`, `__f1__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f2__m0_10m`, CAST(NULL AS BIGINT) AS `__f2__m1_10m`, CAST(NULL AS BIGINT) AS `__f2__m2_10m`, CAST(NULL AS BIGINT) AS `__f2__m3_10m`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_10m`, CAST(NULL AS BIGINT) AS `__f2__m0_1h`, CAST(NULL AS BIGINT) AS `__f2__m1_1h`, CAST(NULL AS BIGINT) AS `__f2__m2_1h`, CAST(NULL AS BIGINT) AS `__f2__m3_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1h`, CAST(NULL AS BIGINT) AS `__f2__m0_1d`, CAST(NULL AS BIGINT) AS `__f2__m1_1d`, CAST(NULL AS BIGINT) AS `__f2__m2_1d`, CAST(NULL AS BIGINT) AS `__f2__m3_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_1h`, CAST(NULL AS BIGINT) AS `__f3__m1_1h`, CAST(NULL AS BIGINT) AS `__f3__m2_1h`, CAST(NULL AS BIGINT) AS `__f3__m3_1h`, CAST(NULL AS BIGINT) AS `__f3__m0_1d`, CAST(NULL AS BIGINT) AS `__f3__m1_1d`, CAST(NULL AS BIGINT) AS `__f3__m2_1d`, CAST(NULL AS BIGINT) AS `__f3__m3_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_7d`, CAST(NULL AS BIGINT) AS `__f3__m1_7d`, CAST(NULL AS BIGINT) AS `__f3__m2_7d`, CAST(NULL AS BIGINT) AS `__f3__m3_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_1d`, CAST(NULL AS BIGINT) AS `__f4__m1_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_1d`, CAST(NULL AS BIGINT) AS `__f4__m0_7d`, CAST(NULL AS BIGINT) AS `__f4__m1_7d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f4__m1_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_lifetime`
FROM `feature_1`
UNION ALL
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, CAST(NULL AS BIGINT) AS `__f0__m0_10m`, CAST(NULL AS BIGINT) AS `__f0__m1_10m`, CAST(NULL AS BIGINT) AS `__f0__m2_10m`, CAST(NULL AS DOUBLE) AS `__f0__m3_10m`, CAST(NULL AS BIGINT) AS `__f0__m4_10m`, CAST(NULL AS BIGINT) AS `__f0__m5_10m`, CAST(NULL AS BIGINT) AS `__f0__m0_1h`, CAST(NULL AS BIGINT) AS `__f0__m1_1h`, CAST(NULL AS BIGINT) AS `__f0__m2_1h`, CAST(NULL AS DOUBLE) AS `__f0__m3_1h`, CAST(NULL AS BIGINT) AS `__f0__m4_1h`, CAST(NULL AS BIGINT) AS `__f0__m5_1h`, CAST(NULL AS BIGINT) AS `__f0__m0_1d`, CAST(NULL AS BIGINT) AS `__f0__m1_1d`, CAST(NULL AS BIGINT) AS `__f0__m2_1d`, CAST(NULL AS DOUBLE) AS `__f0__m3_1d`, CAST(NULL AS BIGINT) AS `__f0__m4_1d`, CAST(NULL AS BIGINT) AS `__f0__m5_1d`, CAST(NULL AS BIGINT) AS `__f0__m0_7d`, CAST(NULL AS BIGINT) AS `__f0__m1_7d`, CAST(NULL AS BIGINT) AS `__f0__m2_7d`, CAST(NULL AS DOUBLE) AS `__f0__m3_7d`, CAST(NULL AS BIGINT) AS `__f0__m4_7d`, CAST(NULL AS BIGINT) AS `__f0__m5_7d`, CAST(NULL AS BIGINT) AS `__f0__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m1_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m2_lifetime`, CAST(NULL AS DOUBLE) AS `__f0__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m4_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m5_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m0_1h`, CAST(NULL AS BIGINT) AS `__f1__m1_1h`, CAST(NULL AS DOUBLE) AS `__f1__m2_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1h`, CAST(NULL AS BIGINT) AS `__f1__m0_1d`, CAST(NULL AS BIGINT) AS `__f1__m1_1d`, CAST(NULL AS DOUBLE) AS `__f1__m2_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1d`, CAST(NULL AS BIGINT) AS `__f1__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m1_lifetime`, CAST(NULL AS DOUBLE) AS `__f1__m2_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_lifetime`, `__f2__m0_10m`, `__f2__m1_10m`, `__f2__m2_10m`, `__f2__m3_10m`, `__f2__m4_10m`, `__f2__m0_1h`, `__f2__m1_1h`, `__f2__m2_1h`, `__f2__m3_1h`, `__f2__m4_1h`, `__f2__m0_1d`, `__f2__m1_1d`, `__f2__m2_1d`, `__f2__m3_1d`, `__f2__m4_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_1h`, CAST(NULL AS BIGINT) AS `__f3__m1_1h`, CAST(NULL AS BIGINT) AS `__f3__m2_1h`, CAST(NULL AS BIGINT) AS `__f3__m3_1h`, CAST(NULL AS BIGINT) AS `__f3__m0_1d`, CAST(NULL AS BIGINT) AS `__f3__m1_1d`, CAST(NULL AS BIGINT) AS `__f3__m2_1d`, CAST(NULL AS BIGINT) AS `__f3__m3_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_7d`, CAST(NULL AS BIGINT) AS `__f3__m1_7d`, CAST(NULL AS BIGINT) AS `__f3__m2_7d`, CAST(NULL AS BIGINT) AS `__f3__m3_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_1d`, CAST(NULL AS BIGINT) AS `__f4__m1_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_1d`, CAST(NULL AS BIGINT) AS `__f4__m0_7d`, CAST(NULL AS BIGINT) AS `__f4__m1_7d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f4__m1_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_lifetime`
FROM `feature_2`
UNION ALL
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, CAST(NULL AS BIGINT) AS `__f0__m0_10m`, CAST(NULL AS BIGINT) AS `__f0__m1_10m`, CAST(NULL AS BIGINT) AS `__f0__m2_10m`, CAST(NULL AS DOUBLE) AS `__f0__m3_10m`, CAST(NULL AS BIGINT) AS `__f0__m4_10m`, CAST(NULL AS BIGINT) AS `__f0__m5_10m`, CAST(NULL AS BIGINT) AS `__f0__m0_1h`, CAST(NULL AS BIGINT) AS `__f0__m1_1h`, CAST(NULL AS BIGINT) AS `__f0__m2_1h`, CAST(NULL AS DOUBLE) AS `__f0__m3_1h`, CAST(NULL AS BIGINT) AS `__f0__m4_1h`, CAST(NULL AS BIGINT) AS `__f0__m5_1h`, CAST(NULL AS BIGINT) AS `__f0__m0_1d`, CAST(NULL AS BIGINT) AS `__f0__m1_1d`, CAST(NULL AS BIGINT) AS `__f0__m2_1d`, CAST(NULL AS DOUBLE) AS `__f0__m3_1d`, CAST(NULL AS BIGINT) AS `__f0__m4_1d`, CAST(NULL AS BIGINT) AS `__f0__m5_1d`, CAST(NULL AS BIGINT) AS `__f0__m0_7d`, CAST(NULL AS BIGINT) AS `__f0__m1_7d`, CAST(NULL AS BIGINT) AS `__f0__m2_7d`, CAST(NULL AS DOUBLE) AS `__f0__m3_7d`, CAST(NULL AS BIGINT) AS `__f0__m4_7d`, CAST(NULL AS BIGINT) AS `__f0__m5_7d`, CAST(NULL AS BIGINT) AS `__f0__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m1_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m2_lifetime`, CAST(NULL AS DOUBLE) AS `__f0__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m4_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m5_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m0_1h`, CAST(NULL AS BIGINT) AS `__f1__m1_1h`, CAST(NULL AS DOUBLE) AS `__f1__m2_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1h`, CAST(NULL AS BIGINT) AS `__f1__m0_1d`, CAST(NULL AS BIGINT) AS `__f1__m1_1d`, CAST(NULL AS DOUBLE) AS `__f1__m2_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1d`, CAST(NULL AS BIGINT) AS `__f1__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m1_lifetime`, CAST(NULL AS DOUBLE) AS `__f1__m2_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f2__m0_10m`, CAST(NULL AS BIGINT) AS `__f2__m1_10m`, CAST(NULL AS BIGINT) AS `__f2__m2_10m`, CAST(NULL AS BIGINT) AS `__f2__m3_10m`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_10m`, CAST(NULL AS BIGINT) AS `__f2__m0_1h`, CAST(NULL AS BIGINT) AS `__f2__m1_1h`, CAST(NULL AS BIGINT) AS `__f2__m2_1h`, CAST(NULL AS BIGINT) AS `__f2__m3_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1h`, CAST(NULL AS BIGINT) AS `__f2__m0_1d`, CAST(NULL AS BIGINT) AS `__f2__m1_1d`, CAST(NULL AS BIGINT) AS `__f2__m2_1d`, CAST(NULL AS BIGINT) AS `__f2__m3_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1d`, `__f3__m0_1h`, `__f3__m1_1h`, `__f3__m2_1h`, `__f3__m3_1h`, `__f3__m0_1d`, `__f3__m1_1d`, `__f3__m2_1d`, `__f3__m3_1d`, `__f3__m0_7d`, `__f3__m1_7d`, `__f3__m2_7d`, `__f3__m3_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_1d`, CAST(NULL AS BIGINT) AS `__f4__m1_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_1d`, CAST(NULL AS BIGINT) AS `__f4__m0_7d`, CAST(NULL AS BIGINT) AS `__f4__m1_7d`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_7d`, CAST(NULL AS BIGINT) AS `__f4__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f4__m1_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f4__m2_lifetime`
FROM `feature_3`
UNION ALL
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, CAST(NULL AS BIGINT) AS `__f0__m0_10m`, CAST(NULL AS BIGINT) AS `__f0__m1_10m`, CAST(NULL AS BIGINT) AS `__f0__m2_10m`, CAST(NULL AS DOUBLE) AS `__f0__m3_10m`, CAST(NULL AS BIGINT) AS `__f0__m4_10m`, CAST(NULL AS BIGINT) AS `__f0__m5_10m`, CAST(NULL AS BIGINT) AS `__f0__m0_1h`, CAST(NULL AS BIGINT) AS `__f0__m1_1h`, CAST(NULL AS BIGINT) AS `__f0__m2_1h`, CAST(NULL AS DOUBLE) AS `__f0__m3_1h`, CAST(NULL AS BIGINT) AS `__f0__m4_1h`, CAST(NULL AS BIGINT) AS `__f0__m5_1h`, CAST(NULL AS BIGINT) AS `__f0__m0_1d`, CAST(NULL AS BIGINT) AS `__f0__m1_1d`, CAST(NULL AS BIGINT) AS `__f0__m2_1d`, CAST(NULL AS DOUBLE) AS `__f0__m3_1d`, CAST(NULL AS BIGINT) AS `__f0__m4_1d`, CAST(NULL AS BIGINT) AS `__f0__m5_1d`, CAST(NULL AS BIGINT) AS `__f0__m0_7d`, CAST(NULL AS BIGINT) AS `__f0__m1_7d`, CAST(NULL AS BIGINT) AS `__f0__m2_7d`, CAST(NULL AS DOUBLE) AS `__f0__m3_7d`, CAST(NULL AS BIGINT) AS `__f0__m4_7d`, CAST(NULL AS BIGINT) AS `__f0__m5_7d`, CAST(NULL AS BIGINT) AS `__f0__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m1_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m2_lifetime`, CAST(NULL AS DOUBLE) AS `__f0__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m4_lifetime`, CAST(NULL AS BIGINT) AS `__f0__m5_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m0_1h`, CAST(NULL AS BIGINT) AS `__f1__m1_1h`, CAST(NULL AS DOUBLE) AS `__f1__m2_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1h`, CAST(NULL AS BIGINT) AS `__f1__m0_1d`, CAST(NULL AS BIGINT) AS `__f1__m1_1d`, CAST(NULL AS DOUBLE) AS `__f1__m2_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_1d`, CAST(NULL AS BIGINT) AS `__f1__m0_lifetime`, CAST(NULL AS BIGINT) AS `__f1__m1_lifetime`, CAST(NULL AS DOUBLE) AS `__f1__m2_lifetime`, CAST(NULL AS TIMESTAMP(3)) AS `__f1__m3_lifetime`, CAST(NULL AS BIGINT) AS `__f2__m0_10m`, CAST(NULL AS BIGINT) AS `__f2__m1_10m`, CAST(NULL AS BIGINT) AS `__f2__m2_10m`, CAST(NULL AS BIGINT) AS `__f2__m3_10m`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_10m`, CAST(NULL AS BIGINT) AS `__f2__m0_1h`, CAST(NULL AS BIGINT) AS `__f2__m1_1h`, CAST(NULL AS BIGINT) AS `__f2__m2_1h`, CAST(NULL AS BIGINT) AS `__f2__m3_1h`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1h`, CAST(NULL AS BIGINT) AS `__f2__m0_1d`, CAST(NULL AS BIGINT) AS `__f2__m1_1d`, CAST(NULL AS BIGINT) AS `__f2__m2_1d`, CAST(NULL AS BIGINT) AS `__f2__m3_1d`, CAST(NULL AS TIMESTAMP(3)) AS `__f2__m4_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_1h`, CAST(NULL AS BIGINT) AS `__f3__m1_1h`, CAST(NULL AS BIGINT) AS `__f3__m2_1h`, CAST(NULL AS BIGINT) AS `__f3__m3_1h`, CAST(NULL AS BIGINT) AS `__f3__m0_1d`, CAST(NULL AS BIGINT) AS `__f3__m1_1d`, CAST(NULL AS BIGINT) AS `__f3__m2_1d`, CAST(NULL AS BIGINT) AS `__f3__m3_1d`, CAST(NULL AS BIGINT) AS `__f3__m0_7d`, CAST(NULL AS BIGINT) AS `__f3__m1_7d`, CAST(NULL AS BIGINT) AS `__f3__m2_7d`, CAST(NULL AS BIGINT) AS `__f3__m3_7d`, `__f4__m0_1d`, `__f4__m1_1d`, `__f4__m2_1d`, `__f4__m0_7d`, `__f4__m1_7d`, `__f4__m2_7d`, `__f4__m0_lifetime`, `__f4__m1_lifetime`, `__f4__m2_lifetime`
FROM `feature_4`
),
`samples_features` AS (
SELECT `window_time` AS `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, MAX(`__f0__m0_10m`) AS `__f0__m0_10m`, MAX(`__f0__m1_10m`) AS `__f0__m1_10m`, MAX(`__f0__m2_10m`) AS `__f0__m2_10m`, MAX(`__f0__m3_10m`) AS `__f0__m3_10m`, MAX(`__f0__m4_10m`) AS `__f0__m4_10m`, MAX(`__f0__m5_10m`) AS `__f0__m5_10m`, MAX(`__f0__m0_1h`) AS `__f0__m0_1h`, MAX(`__f0__m1_1h`) AS `__f0__m1_1h`, MAX(`__f0__m2_1h`) AS `__f0__m2_1h`, MAX(`__f0__m3_1h`) AS `__f0__m3_1h`, MAX(`__f0__m4_1h`) AS `__f0__m4_1h`, MAX(`__f0__m5_1h`) AS `__f0__m5_1h`, MAX(`__f0__m0_1d`) AS `__f0__m0_1d`, MAX(`__f0__m1_1d`) AS `__f0__m1_1d`, MAX(`__f0__m2_1d`) AS `__f0__m2_1d`, MAX(`__f0__m3_1d`) AS `__f0__m3_1d`, MAX(`__f0__m4_1d`) AS `__f0__m4_1d`, MAX(`__f0__m5_1d`) AS `__f0__m5_1d`, MAX(`__f0__m0_7d`) AS `__f0__m0_7d`, MAX(`__f0__m1_7d`) AS `__f0__m1_7d`, MAX(`__f0__m2_7d`) AS `__f0__m2_7d`, MAX(`__f0__m3_7d`) AS `__f0__m3_7d`, MAX(`__f0__m4_7d`) AS `__f0__m4_7d`, MAX(`__f0__m5_7d`) AS `__f0__m5_7d`, MAX(`__f0__m0_lifetime`) AS `__f0__m0_lifetime`, MAX(`__f0__m1_lifetime`) AS `__f0__m1_lifetime`, MAX(`__f0__m2_lifetime`) AS `__f0__m2_lifetime`, MAX(`__f0__m3_lifetime`) AS `__f0__m3_lifetime`, MAX(`__f0__m4_lifetime`) AS `__f0__m4_lifetime`, MAX(`__f0__m5_lifetime`) AS `__f0__m5_lifetime`, MAX(`__f1__m0_1h`) AS `__f1__m0_1h`, MAX(`__f1__m1_1h`) AS `__f1__m1_1h`, MAX(`__f1__m2_1h`) AS `__f1__m2_1h`, MAX(`__f1__m3_1h`) AS `__f1__m3_1h`, MAX(`__f1__m0_1d`) AS `__f1__m0_1d`, MAX(`__f1__m1_1d`) AS `__f1__m1_1d`, MAX(`__f1__m2_1d`) AS `__f1__m2_1d`, MAX(`__f1__m3_1d`) AS `__f1__m3_1d`, MAX(`__f1__m0_lifetime`) AS `__f1__m0_lifetime`, MAX(`__f1__m1_lifetime`) AS `__f1__m1_lifetime`, MAX(`__f1__m2_lifetime`) AS `__f1__m2_lifetime`, MAX(`__f1__m3_lifetime`) AS `__f1__m3_lifetime`, MAX(`__f2__m0_10m`) AS `__f2__m0_10m`, MAX(`__f2__m1_10m`) AS `__f2__m1_10m`, MAX(`__f2__m2_10m`) AS `__f2__m2_10m`, MAX(`__f2__m3_10m`) AS `__f2__m3_10m`, MAX(`__f2__m4_10m`) AS `__f2__m4_10m`, MAX(`__f2__m0_1h`) AS `__f2__m0_1h`, MAX(`__f2__m1_1h`) AS `__f2__m1_1h`, MAX(`__f2__m2_1h`) AS `__f2__m2_1h`, MAX(`__f2__m3_1h`) AS `__f2__m3_1h`, MAX(`__f2__m4_1h`) AS `__f2__m4_1h`, MAX(`__f2__m0_1d`) AS `__f2__m0_1d`, MAX(`__f2__m1_1d`) AS `__f2__m1_1d`, MAX(`__f2__m2_1d`) AS `__f2__m2_1d`, MAX(`__f2__m3_1d`) AS `__f2__m3_1d`, MAX(`__f2__m4_1d`) AS `__f2__m4_1d`, MAX(`__f3__m0_1h`) AS `__f3__m0_1h`, MAX(`__f3__m1_1h`) AS `__f3__m1_1h`, MAX(`__f3__m2_1h`) AS `__f3__m2_1h`, MAX(`__f3__m3_1h`) AS `__f3__m3_1h`, MAX(`__f3__m0_1d`) AS `__f3__m0_1d`, MAX(`__f3__m1_1d`) AS `__f3__m1_1d`, MAX(`__f3__m2_1d`) AS `__f3__m2_1d`, MAX(`__f3__m3_1d`) AS `__f3__m3_1d`, MAX(`__f3__m0_7d`) AS `__f3__m0_7d`, MAX(`__f3__m1_7d`) AS `__f3__m1_7d`, MAX(`__f3__m2_7d`) AS `__f3__m2_7d`, MAX(`__f3__m3_7d`) AS `__f3__m3_7d`, MAX(`__f4__m0_1d`) AS `__f4__m0_1d`, MAX(`__f4__m1_1d`) AS `__f4__m1_1d`, MAX(`__f4__m2_1d`) AS `__f4__m2_1d`, MAX(`__f4__m0_7d`) AS `__f4__m0_7d`, MAX(`__f4__m1_7d`) AS `__f4__m1_7d`, MAX(`__f4__m2_7d`) AS `__f4__m2_7d`, MAX(`__f4__m0_lifetime`) AS `__f4__m0_lifetime`, MAX(`__f4__m1_lifetime`) AS `__f4__m1_lifetime`, MAX(`__f4__m2_lifetime`) AS `__f4__m2_lifetime`
FROM TABLE(TUMBLE(TABLE `feature_rows`, DESCRIPTOR(`__rt`), INTERVAL '0.001' SECOND))
GROUP BY `window_start`, `window_end`, `window_time`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`
),
`label_points` AS (
-- the spine's rows as label query points at t + h
SELECT `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__rowtime` AS `__rt`,
  COUNT(*) OVER (PARTITION BY `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time` ORDER BY `__rowtime` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `__dseq`
FROM `label_impressions`
WHERE `event_time` IS NOT NULL
  AND `event_time` >= TIMESTAMP '2026-01-10 00:00:00.000'
  AND `event_time` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
),
`label_rows` AS (
-- label ctr: events with t < time <= t + h
SELECT `__rt`, `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, `__dseq`, `__l__m0_10m`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__l__m0_10m`, *
FROM (
SELECT FALSE AS `__point`,
  `__rowtime` AS `__rt`,
  CAST(NULL AS STRING) AS `impression_id`,
  CAST(NULL AS STRING) AS `user_id`,
  CAST(NULL AS STRING) AS `post_id`,
  CAST(NULL AS STRING) AS `author_id`,
  CAST(NULL AS INT) AS `position`,
  CAST(NULL AS TIMESTAMP(3)) AS `event_time`,
  CAST(NULL AS BIGINT) AS `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(`post_id` AS STRING) AS `__k1`,
  CAST(CASE WHEN `action` = 'click' THEN 1 END AS INT) AS `__m0`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` <= TIMESTAMP '2026-01-12 00:10:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `user_id` IS NOT NULL
  AND `post_id` IS NOT NULL
UNION ALL
SELECT TRUE AS `__point`,
  `__rt`,
  `impression_id`,
  `user_id`,
  `post_id`,
  `author_id`,
  `position`,
  `event_time`,
  `__dseq`,
  CAST(`user_id` AS STRING) AS `__k0`,
  CAST(`post_id` AS STRING) AS `__k1`,
  CAST(NULL AS INT) AS `__m0`
FROM `label_points`
WHERE `user_id` IS NOT NULL AND `post_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `__k0`, `__k1` ORDER BY `__rt` RANGE BETWEEN INTERVAL '0 00:09:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WHERE `__point`
)
SELECT f.`impression_id`,
  f.`user_id`,
  f.`post_id`,
  f.`author_id`,
  f.`position`,
  f.`event_time`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m0_10m` END AS `events_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m0_1h` END AS `events_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m0_1d` END AS `events_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m0_7d` END AS `events_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m0_lifetime` END AS `events_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m1_10m` END AS `clicks_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m1_1h` END AS `clicks_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m1_1d` END AS `clicks_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m1_7d` END AS `clicks_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m1_lifetime` END AS `clicks_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m2_10m` END AS `dwell_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m2_1h` END AS `dwell_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m2_1d` END AS `dwell_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m2_7d` END AS `dwell_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m2_lifetime` END AS `dwell_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m3_10m` END AS `avg_dwell_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m3_1h` END AS `avg_dwell_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m3_1d` END AS `avg_dwell_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m3_7d` END AS `avg_dwell_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m3_lifetime` END AS `avg_dwell_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m4_10m` END AS `max_dwell_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m4_1h` END AS `max_dwell_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m4_1d` END AS `max_dwell_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m4_7d` END AS `max_dwell_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m4_lifetime` END AS `max_dwell_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m5_10m` END AS `authors_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m5_1h` END AS `authors_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m5_1d` END AS `authors_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m5_7d` END AS `authors_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f0__m5_lifetime` END AS `authors_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(`f`.`__f0__m1_10m` AS DOUBLE) / NULLIF(`f`.`__f0__m0_10m`, 0) END AS `click_rate_10m`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(`f`.`__f0__m1_1h` AS DOUBLE) / NULLIF(`f`.`__f0__m0_1h`, 0) END AS `click_rate_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(`f`.`__f0__m1_1d` AS DOUBLE) / NULLIF(`f`.`__f0__m0_1d`, 0) END AS `click_rate_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(`f`.`__f0__m1_7d` AS DOUBLE) / NULLIF(`f`.`__f0__m0_7d`, 0) END AS `click_rate_7d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(`f`.`__f0__m1_lifetime` AS DOUBLE) / NULLIF(`f`.`__f0__m0_lifetime`, 0) END AS `click_rate_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m0_1h` END AS `impressions_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m0_1d` END AS `impressions_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m0_lifetime` END AS `impressions_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m1_1h` END AS `posts_seen_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m1_1d` END AS `posts_seen_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m1_lifetime` END AS `posts_seen_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m2_1h` END AS `avg_position_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m2_1d` END AS `avg_position_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN `f`.`__f1__m2_lifetime` END AS `avg_position_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f1__m3_1h`, `f`.`event_time`) AS BIGINT) END AS `seconds_since_impression_1h`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f1__m3_1d`, `f`.`event_time`) AS BIGINT) END AS `seconds_since_impression_1d`,
  CASE WHEN f.`user_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f1__m3_lifetime`, `f`.`event_time`) AS BIGINT) END AS `seconds_since_impression_lifetime`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m0_10m` END AS `post_clicks_10m`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m0_1h` END AS `post_clicks_1h`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m0_1d` END AS `post_clicks_1d`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m1_10m` END AS `post_likes_10m`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m1_1h` END AS `post_likes_1h`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m1_1d` END AS `post_likes_1d`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m2_10m` END AS `post_reposts_10m`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m2_1h` END AS `post_reposts_1h`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m2_1d` END AS `post_reposts_1d`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m3_10m` END AS `post_users_10m`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m3_1h` END AS `post_users_1h`,
  CASE WHEN f.`post_id` IS NOT NULL THEN `f`.`__f2__m3_1d` END AS `post_users_1d`,
  CASE WHEN f.`post_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f2__m4_10m`, `f`.`event_time`) AS BIGINT) END AS `post_seconds_since_engagement_10m`,
  CASE WHEN f.`post_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f2__m4_1h`, `f`.`event_time`) AS BIGINT) END AS `post_seconds_since_engagement_1h`,
  CASE WHEN f.`post_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f2__m4_1d`, `f`.`event_time`) AS BIGINT) END AS `post_seconds_since_engagement_1d`,
  CASE WHEN f.`author_id` IS NOT NULL THEN `f`.`__f3__m0_1h` END AS `author_clicks_1h`,
  CASE WHEN f.`author_id` IS NOT NULL THEN `f`.`__f3__m0_1d` END AS `author_clicks_1d`,
  CASE WHEN f.`author_id` IS NOT NULL THEN `f`.`__f3__m0_7d` END AS `author_clicks_7d`,
  CASE WHEN f.`author_id` IS NOT NULL THEN `f`.`__f3__m1_1h` END AS `author_fans_1h`,
  CASE WHEN f.`author_id` IS NOT NULL THEN `f`.`__f3__m1_1d` END AS `author_fans_1d`,
  CASE WHEN f.`author_id` IS NOT NULL THEN `f`.`__f3__m1_7d` END AS `author_fans_7d`,
  CASE WHEN f.`author_id` IS NOT NULL THEN CAST(`f`.`__f3__m2_1h` AS DOUBLE) / NULLIF(`f`.`__f3__m3_1h`, 0) END AS `author_dwell_per_view_1h`,
  CASE WHEN f.`author_id` IS NOT NULL THEN CAST(`f`.`__f3__m2_1d` AS DOUBLE) / NULLIF(`f`.`__f3__m3_1d`, 0) END AS `author_dwell_per_view_1d`,
  CASE WHEN f.`author_id` IS NOT NULL THEN CAST(`f`.`__f3__m2_7d` AS DOUBLE) / NULLIF(`f`.`__f3__m3_7d`, 0) END AS `author_dwell_per_view_7d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN `f`.`__f4__m0_1d` END AS `ua_clicks_1d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN `f`.`__f4__m0_7d` END AS `ua_clicks_7d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN `f`.`__f4__m0_lifetime` END AS `ua_clicks_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN `f`.`__f4__m1_1d` END AS `ua_endorsements_1d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN `f`.`__f4__m1_7d` END AS `ua_endorsements_7d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN `f`.`__f4__m1_lifetime` END AS `ua_endorsements_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f4__m2_1d`, `f`.`event_time`) AS BIGINT) END AS `ua_seconds_since_click_1d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f4__m2_7d`, `f`.`event_time`) AS BIGINT) END AS `ua_seconds_since_click_7d`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`author_id` IS NOT NULL THEN CAST(TIMESTAMPDIFF(SECOND, `f`.`__f4__m2_lifetime`, `f`.`event_time`) AS BIGINT) END AS `ua_seconds_since_click_lifetime`,
  CASE WHEN f.`user_id` IS NOT NULL AND f.`post_id` IS NOT NULL THEN `l`.`__l__m0_10m` > 0 END AS `clicked`
FROM `samples_features` AS f
LEFT JOIN `label_rows` AS l
ON f.`impression_id` IS NOT DISTINCT FROM l.`impression_id`
  AND f.`user_id` IS NOT DISTINCT FROM l.`user_id`
  AND f.`post_id` IS NOT DISTINCT FROM l.`post_id`
  AND f.`author_id` IS NOT DISTINCT FROM l.`author_id`
  AND f.`position` IS NOT DISTINCT FROM l.`position`
  AND f.`event_time` IS NOT DISTINCT FROM l.`event_time`
  AND f.`__dseq` = l.`__dseq`
  AND l.`__rt` BETWEEN f.`__rt` + INTERVAL '0 00:10:00.001' DAY TO SECOND(3) AND f.`__rt` + INTERVAL '0 00:10:00.001' DAY TO SECOND(3);

INSERT INTO `late_src_engagements`
SELECT `user_id`, `post_id`, `author_id`, `action`, `dwell_ms`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` <= TIMESTAMP '2026-01-12 00:10:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

INSERT INTO `late_src_impressions`
SELECT `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `src_impressions`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

INSERT INTO `late_spine_impressions`
SELECT `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `spine_impressions`
WHERE `event_time` IS NOT NULL
  AND `event_time` >= TIMESTAMP '2026-01-10 00:00:00.000'
  AND `event_time` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

INSERT INTO `late_label_impressions`
SELECT `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `label_impressions`
WHERE `event_time` IS NOT NULL
  AND `event_time` >= TIMESTAMP '2026-01-10 00:00:00.000'
  AND `event_time` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

END;
