-- featuresql flink job: post_popularity

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
-- <staging> is a run's folder beside <out>, whose days are swapped into <out>/features/post_popularity when it ends
CREATE TEMPORARY TABLE `sink` (...) PARTITIONED BY (`dt`) WITH (
  'connector' = 'filesystem', 'path' = '<staging>', 'format' = 'parquet'
);

-- rows of src_engagements that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_engagements` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_engagements', 'format' = 'parquet'
);

EXECUTE STATEMENT SET BEGIN

INSERT INTO `sink`
SELECT `post_id`, CAST(`__rowtime` AS TIMESTAMP(3)) AS `event_time`,
  `__m0_10m` AS `post_clicks_10m`,
  `__m0_1h` AS `post_clicks_1h`,
  `__m0_1d` AS `post_clicks_1d`,
  `__m1_10m` AS `post_likes_10m`,
  `__m1_1h` AS `post_likes_1h`,
  `__m1_1d` AS `post_likes_1d`,
  `__m2_10m` AS `post_reposts_10m`,
  `__m2_1h` AS `post_reposts_1h`,
  `__m2_1d` AS `post_reposts_1d`,
  `__m3_10m` AS `post_users_10m`,
  `__m3_1h` AS `post_users_1h`,
  `__m3_1d` AS `post_users_1d`,
  CAST(TIMESTAMPDIFF(SECOND, `__m4_10m`, `__asof`) AS BIGINT) AS `post_seconds_since_engagement_10m`,
  CAST(TIMESTAMPDIFF(SECOND, `__m4_1h`, `__asof`) AS BIGINT) AS `post_seconds_since_engagement_1h`,
  CAST(TIMESTAMPDIFF(SECOND, `__m4_1d`, `__asof`) AS BIGINT) AS `post_seconds_since_engagement_1d`
FROM (
SELECT *, `__rowtime` + INTERVAL '0.001' SECOND AS `__asof`
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1d`, COUNT(`__m1`) OVER w AS `__m1_1d`, COUNT(`__m2`) OVER w AS `__m2_1d`, COUNT(DISTINCT `__m3`) OVER w AS `__m3_1d`, MAX(`__m4`) OVER w AS `__m4_1d`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_1h`, COUNT(`__m1`) OVER w AS `__m1_1h`, COUNT(`__m2`) OVER w AS `__m2_1h`, COUNT(DISTINCT `__m3`) OVER w AS `__m3_1h`, MAX(`__m4`) OVER w AS `__m4_1h`, *
FROM (
SELECT COUNT(`__m0`) OVER w AS `__m0_10m`, COUNT(`__m1`) OVER w AS `__m1_10m`, COUNT(`__m2`) OVER w AS `__m2_10m`, COUNT(DISTINCT `__m3`) OVER w AS `__m3_10m`, MAX(`__m4`) OVER w AS `__m4_10m`, *
FROM (
SELECT `post_id`, `__rowtime`, CASE WHEN `action` = 'click' THEN 1 END AS `__m0`, CASE WHEN `action` = 'like' THEN 1 END AS `__m1`, CASE WHEN `action` = 'repost' THEN 1 END AS `__m2`, `user_id` AS `__m3`, `event_time` AS `__m4`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` >= TIMESTAMP '2026-01-09 00:00:00.000'
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND (CURRENT_WATERMARK(`__rowtime`) IS NULL OR `__rowtime` > CURRENT_WATERMARK(`__rowtime`))
  AND `post_id` IS NOT NULL
  AND (`action` <> 'spam')
)
WINDOW w AS (PARTITION BY `post_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 00:09:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `post_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 00:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
WINDOW w AS (PARTITION BY `post_id` ORDER BY `__rowtime` RANGE BETWEEN INTERVAL '0 23:59:59.999' DAY TO SECOND(3) PRECEDING AND CURRENT ROW)
)
)
WHERE `__rowtime` >= TIMESTAMP '2026-01-10 00:00:00.000';

INSERT INTO `late_src_engagements`
SELECT `user_id`, `post_id`, `author_id`, `action`, `dwell_ms`, `event_time`, CURRENT_WATERMARK(`__rowtime`) AS `__watermark`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` >= TIMESTAMP '2026-01-09 00:00:00.000'
  AND `__rowtime` < TIMESTAMP '2026-01-12 00:00:00.000'
  AND `__rowtime` <= CURRENT_WATERMARK(`__rowtime`);

END;
