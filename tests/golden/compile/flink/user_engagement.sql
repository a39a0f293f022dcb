-- featuresql flink job: user_engagement

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

-- the sink's columns are the query's, as Flink types them, plus the day partition `dt`;
-- <staging> is a run's folder beside <out>, whose days are swapped into <out>/features/user_engagement when it ends
CREATE TEMPORARY TABLE `sink` (...) PARTITIONED BY (`dt`) WITH (
  'connector' = 'filesystem', 'path' = '<staging>', 'format' = 'parquet'
);

-- rows of src_engagements that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_engagements` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_engagements', 'format' = 'parquet'
);

EXECUTE STATEMENT SET BEGIN

INSERT INTO `sink`
SELECT `user_id`, CAST(`__rowtime` AS TIMESTAMP(3)) AS `event_time`,
  `__m0_10m` AS `events_10m`,
  `__m0_1h` AS `events_1h`,
  `__m0_1d` AS `events_1d`,
  `__m0_7d` AS `events_7d`,
  `__m0_lifetime` AS `events_lifetime`,
  `__m1_10m` AS `clicks_10m`,
  `__m1_1h` AS `clicks_1h`,
  `__m1_1d` AS `clicks_1d`,
  `__m1_7d` AS `clicks_7d`,
  `__m1_lifetime` AS `clicks_lifetime`,
  `__m2_10m` AS `dwell_10m`,
  `__m2_1h` AS `dwell_1h`,
  `__m2_1d` AS `dwell_1d`,
  `__m2_7d` AS `dwell_7d`,
  `__m2_lifetime` AS `dwell_lifetime`,
  `__m3_10m` AS `avg_dwell_10m`,
  `__m3_1h` AS `avg_dwell_1h`,
  `__m3_1d` AS `avg_dwell_1d`,
  `__m3_7d` AS `avg_dwell_7d`,
  `__m3_lifetime` AS `avg_dwell_lifetime`,
  `__m4_10m` AS `max_dwell_10m`,
  `__m4_1h` AS `max_dwell_1h`,
  `__m4_1d` AS `max_dwell_1d`,
  `__m4_7d` AS `max_dwell_7d`,
  `__m4_lifetime` AS `max_dwell_lifetime`,
  `__m5_10m` AS `authors_10m`,
  `__m5_1h` AS `authors_1h`,
  `__m5_1d` AS `authors_1d`,
  `__m5_7d` AS `authors_7d`,
  `__m5_lifetime` AS `authors_lifetime`,
  CAST(`__m1_10m` AS DOUBLE) / NULLIF(`__m0_10m`, 0) AS `click_rate_10m`,
  CAST(`__m1_1h` AS DOUBLE) / NULLIF(`__m0_1h`, 0) AS `click_rate_1h`,
  CAST(`__m1_1d` AS DOUBLE) / NULLIF(`__m0_1d`, 0) AS `click_rate_1d`,
  CAST(`__m1_7d` AS DOUBLE) / NULLIF(`__m0_7d`, 0) AS `click_rate_7d`,
  CAST(`__m1_lifetime` AS DOUBLE) / NULLIF(`__m0_lifetime`, 0) AS `click_rate_lifetime`
FROM (
SELECT *, `__rowtime` + INTERVAL '0.001' SECOND AS `__asof`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_lifetime`, COUNT(`__m1`) OVER w AS `__m1_lifetime`, SUM(`__m2`) OVER w AS `__m2_lifetime`, AVG(`__m3`) OVER w AS `__m3_lifetime`, MAX(`__m4`) OVER w AS `__m4_lifetime`, COUNT(DISTINCT `__m5`) OVER w AS `__m5_lifetime`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_7d`, COUNT(`__m1`) OVER w AS `__m1_7d`, SUM(`__m2`) OVER w AS `__m2_7d`, AVG(`__m3`) OVER w AS `__m3_7d`, MAX(`__m4`) OVER w AS `__m4_7d`, COUNT(DISTINCT `__m5`) OVER w AS `__m5_7d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1d`, COUNT(`__m1`) OVER w AS `__m1_1d`, SUM(`__m2`) OVER w AS `__m2_1d`, AVG(`__m3`) OVER w AS `__m3_1d`, MAX(`__m4`) OVER w AS `__m4_1d`, COUNT(DISTINCT `__m5`) OVER w AS `__m5_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1h`, COUNT(`__m1`) OVER w AS `__m1_1h`, SUM(`__m2`) OVER w AS `__m2_1h`, AVG(`__m3`) OVER w AS `__m3_1h`, MAX(`__m4`) OVER w AS `__m4_1h`, COUNT(DISTINCT `__m5`) OVER w AS `__m5_1h`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_10m`, COUNT(`__m1`) OVER w AS `__m1_10m`, SUM(`__m2`) OVER w AS `__m2_10m`, AVG(`__m3`) OVER w AS `__m3_10m`, MAX(`__m4`) OVER w AS `__m4_10m`, COUNT(DISTINCT `__m5`) OVER w AS `__m5_10m`, *
FROM (
SELECT `user_id`, `__rowtime`, 1 AS `__m0`, CASE WHEN `action` = 'click' THEN 1 END AS `__m1`, CAST(`dwell_ms` AS BIGINT) AS `__m2`, CAST(`dwell_ms` AS DOUBLE) AS `__m3`, `dwell_ms` AS `__m4`, `author_id` AS `__m5`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `user_id` IS NOT NULL
  AND (`action` <> 'spam')
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 00:09:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '6 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
)
WHERE `__rowtime` >= TIMESTAMP '2026-01-10 00:00:00.000';

INSERT INTO `late_src_engagements`
SELECT `user_id`, `post_id`, `author_id`, `action`, `dwell_ms`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

END;
