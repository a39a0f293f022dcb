-- featuresql flink job: author_reach

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
-- <staging> is a run's folder beside <out>, whose days are swapped into <out>/features/author_reach when it ends
CREATE TEMPORARY TABLE `sink` (...) PARTITIONED BY (`dt`) WITH (
  'connector' = 'filesystem', 'path' = '<staging>', 'format' = 'parquet'
);

-- rows of src_engagements that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_engagements` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_engagements', 'format' = 'parquet'
);

EXECUTE STATEMENT SET BEGIN

INSERT INTO `sink`
SELECT `author_id`, CAST(`__rowtime` AS TIMESTAMP(3)) AS `event_time`,
  `__m0_1h` AS `author_clicks_1h`,
  `__m0_1d` AS `author_clicks_1d`,
  `__m0_7d` AS `author_clicks_7d`,
  `__m1_1h` AS `author_fans_1h`,
  `__m1_1d` AS `author_fans_1d`,
  `__m1_7d` AS `author_fans_7d`,
  CAST(`__m2_1h` AS DOUBLE) / NULLIF(`__m3_1h`, 0) AS `author_dwell_per_view_1h`,
  CAST(`__m2_1d` AS DOUBLE) / NULLIF(`__m3_1d`, 0) AS `author_dwell_per_view_1d`,
  CAST(`__m2_7d` AS DOUBLE) / NULLIF(`__m3_7d`, 0) AS `author_dwell_per_view_7d`
FROM (
SELECT *, `__rowtime` + INTERVAL '0.001' SECOND AS `__asof`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_7d`, COUNT(DISTINCT `__m1`) OVER w AS `__m1_7d`, SUM(`__m2`) OVER w AS `__m2_7d`, COUNT(`__m3`) OVER w AS `__m3_7d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1d`, COUNT(DISTINCT `__m1`) OVER w AS `__m1_1d`, SUM(`__m2`) OVER w AS `__m2_1d`, COUNT(`__m3`) OVER w AS `__m3_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1h`, COUNT(DISTINCT `__m1`) OVER w AS `__m1_1h`, SUM(`__m2`) OVER w AS `__m2_1h`, COUNT(`__m3`) OVER w AS `__m3_1h`, *
FROM (
SELECT `author_id`, `__rowtime`, CASE WHEN `action` = 'click' THEN 1 END AS `__m0`, `user_id` AS `__m1`, CAST(`dwell_ms` AS BIGINT) AS `__m2`, `dwell_ms` AS `__m3`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` >= TIMESTAMP '2026-01-03 00:00:00.000'
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `author_id` IS NOT NULL
  AND (`action` <> 'spam')
)
WINDOW w AS (PARTITION BY `author_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `author_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `author_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '6 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
)
WHERE `__rowtime` >= TIMESTAMP '2026-01-10 00:00:00.000';

INSERT INTO `late_src_engagements`
SELECT `user_id`, `post_id`, `author_id`, `action`, `dwell_ms`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` >= TIMESTAMP '2026-01-03 00:00:00.000'
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

END;
