-- featuresql flink job: user_exposure

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

-- the sink's columns are the query's, as Flink types them, plus the day partition `dt`;
-- <staging> is a run's folder beside <out>, whose days are swapped into <out>/features/user_exposure when it ends
CREATE TEMPORARY TABLE `sink` (...) PARTITIONED BY (`dt`) WITH (
  'connector' = 'filesystem', 'path' = '<staging>', 'format' = 'parquet'
);

-- rows of src_impressions that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_impressions` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_impressions', 'format' = 'parquet'
);

EXECUTE STATEMENT SET BEGIN

INSERT INTO `sink`
SELECT `user_id`, CAST(`__rowtime` AS TIMESTAMP(3)) AS `event_time`,
  `__m0_1h` AS `impressions_1h`,
  `__m0_1d` AS `impressions_1d`,
  `__m0_lifetime` AS `impressions_lifetime`,
  `__m1_1h` AS `posts_seen_1h`,
  `__m1_1d` AS `posts_seen_1d`,
  `__m1_lifetime` AS `posts_seen_lifetime`,
  `__m2_1h` AS `avg_position_1h`,
  `__m2_1d` AS `avg_position_1d`,
  `__m2_lifetime` AS `avg_position_lifetime`,
  CAST(TIMESTAMPDIFF(SECOND, `__m3_1h`, `__asof`) AS BIGINT) AS `seconds_since_impression_1h`,
  CAST(TIMESTAMPDIFF(SECOND, `__m3_1d`, `__asof`) AS BIGINT) AS `seconds_since_impression_1d`,
  CAST(TIMESTAMPDIFF(SECOND, `__m3_lifetime`, `__asof`) AS BIGINT) AS `seconds_since_impression_lifetime`
FROM (
SELECT *, `__rowtime` + INTERVAL '0.001' SECOND AS `__asof`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_lifetime`, COUNT(DISTINCT `__m1`) OVER w AS `__m1_lifetime`, AVG(`__m2`) OVER w AS `__m2_lifetime`, MAX(`__m3`) OVER w AS `__m3_lifetime`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1d`, COUNT(DISTINCT `__m1`) OVER w AS `__m1_1d`, AVG(`__m2`) OVER w AS `__m2_1d`, MAX(`__m3`) OVER w AS `__m3_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1h`, COUNT(DISTINCT `__m1`) OVER w AS `__m1_1h`, AVG(`__m2`) OVER w AS `__m2_1h`, MAX(`__m3`) OVER w AS `__m3_1h`, *
FROM (
SELECT `user_id`, `__rowtime`, 1 AS `__m0`, `post_id` AS `__m1`, CAST(`position` AS DOUBLE) AS `__m2`, `event_time` AS `__m3`
FROM `src_impressions`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `user_id` IS NOT NULL
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `user_id` ORDER BY `__rowtime` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
)
WHERE `__rowtime` >= TIMESTAMP '2026-01-10 00:00:00.000';

INSERT INTO `late_src_impressions`
SELECT `impression_id`, `user_id`, `post_id`, `author_id`, `position`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `src_impressions`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

END;
