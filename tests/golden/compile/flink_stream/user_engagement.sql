-- featuresql flink job: user_engagement

CREATE TEMPORARY TABLE `in_src_engagements` (
  `__payload` STRING,
  `__topic` STRING METADATA FROM 'topic' VIRTUAL,
  `__partition` INT METADATA FROM 'partition' VIRTUAL,
  `__offset` BIGINT METADATA FROM 'offset' VIRTUAL,
  `__timestamp` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  `user_id` AS JSON_VALUE(`__payload`, '$.user_id' RETURNING STRING),
  `post_id` AS JSON_VALUE(`__payload`, '$.post_id' RETURNING STRING),
  `author_id` AS JSON_VALUE(`__payload`, '$.author_id' RETURNING STRING),
  `action` AS JSON_VALUE(`__payload`, '$.action' RETURNING STRING),
  `dwell_ms` AS TRY_CAST(JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) AS BIGINT),
  `event_time` AS TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)),
  `__reject` AS CASE WHEN (`__payload` IS JSON OBJECT
      AND JSON_VALUE(`__payload`, '$.user_id' RETURNING STRING) IS NOT NULL
      AND JSON_VALUE(`__payload`, '$.post_id' RETURNING STRING) IS NOT NULL
      AND JSON_VALUE(`__payload`, '$.author_id' RETURNING STRING) IS NOT NULL
      AND JSON_VALUE(`__payload`, '$.action' RETURNING STRING) IS NOT NULL
      AND TRY_CAST(JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) AS BIGINT) IS NOT NULL
      AND TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) IS NOT NULL
      AND NOT (TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) > CAST(`__timestamp` AS TIMESTAMP(3)) + INTERVAL '1 00:00:00.000' DAY TO SECOND(3))) THEN CAST(NULL AS STRING) ELSE CASE
    WHEN `__payload` IS NULL THEN 'empty message'
    WHEN `__payload` IS NOT JSON THEN 'malformed JSON'
    WHEN `__payload` IS NOT JSON OBJECT THEN 'not a JSON object'
    WHEN JSON_QUERY(`__payload`, '$[''user_id'',''user_id'']') = '{}' THEN 'missing field user_id'
    WHEN JSON_QUERY(`__payload`, '$[''post_id'',''post_id'']') = '{}' THEN 'missing field post_id'
    WHEN JSON_QUERY(`__payload`, '$[''author_id'',''author_id'']') = '{}' THEN 'missing field author_id'
    WHEN JSON_QUERY(`__payload`, '$[''action'',''action'']') = '{}' THEN 'missing field action'
    WHEN JSON_QUERY(`__payload`, '$[''dwell_ms'',''dwell_ms'']') = '{}' THEN 'missing field dwell_ms'
    WHEN JSON_QUERY(`__payload`, '$[''event_time'',''event_time'']') = '{}' THEN 'missing field event_time'
    WHEN JSON_QUERY(`__payload`, '$.user_id') IS NOT NULL THEN 'wrong type for user_id: STRING'
    WHEN JSON_QUERY(`__payload`, '$.post_id') IS NOT NULL THEN 'wrong type for post_id: STRING'
    WHEN JSON_QUERY(`__payload`, '$.author_id') IS NOT NULL THEN 'wrong type for author_id: STRING'
    WHEN JSON_QUERY(`__payload`, '$.action') IS NOT NULL THEN 'wrong type for action: STRING'
    WHEN (JSON_QUERY(`__payload`, '$.dwell_ms') IS NOT NULL OR (JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) IS NOT NULL AND TRY_CAST(JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) AS BIGINT) IS NULL)) THEN 'wrong type for dwell_ms: BIGINT'
    WHEN (JSON_QUERY(`__payload`, '$.event_time') IS NOT NULL OR (JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) IS NOT NULL AND TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) IS NULL)) THEN 'wrong type for event_time: TIMESTAMP(3)'
    WHEN TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) IS NULL THEN 'NULL event time'
    WHEN JSON_VALUE(`__payload`, '$.user_id' RETURNING STRING) IS NULL THEN 'NULL key user_id'
    WHEN TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) > CAST(`__timestamp` AS TIMESTAMP(3)) + INTERVAL '1 00:00:00.000' DAY TO SECOND(3) THEN 'event time too far in the future'
  END END,
  `__rowtime` AS CASE WHEN CASE WHEN (`__payload` IS JSON OBJECT
      AND JSON_VALUE(`__payload`, '$.user_id' RETURNING STRING) IS NOT NULL
      AND JSON_VALUE(`__payload`, '$.post_id' RETURNING STRING) IS NOT NULL
      AND JSON_VALUE(`__payload`, '$.author_id' RETURNING STRING) IS NOT NULL
      AND JSON_VALUE(`__payload`, '$.action' RETURNING STRING) IS NOT NULL
      AND TRY_CAST(JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) AS BIGINT) IS NOT NULL
      AND TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) IS NOT NULL
      AND NOT (TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) > CAST(`__timestamp` AS TIMESTAMP(3)) + INTERVAL '1 00:00:00.000' DAY TO SECOND(3))) THEN CAST(NULL AS STRING) ELSE CASE
    WHEN `__payload` IS NULL THEN 'empty message'
    WHEN `__payload` IS NOT JSON THEN 'malformed JSON'
    WHEN `__payload` IS NOT JSON OBJECT THEN 'not a JSON object'
    WHEN JSON_QUERY(`__payload`, '$[''user_id'',''user_id'']') = '{}' THEN 'missing field user_id'
    WHEN JSON_QUERY(`__payload`, '$[''post_id'',''post_id'']') = '{}' THEN 'missing field post_id'
    WHEN JSON_QUERY(`__payload`, '$[''author_id'',''author_id'']') = '{}' THEN 'missing field author_id'
    WHEN JSON_QUERY(`__payload`, '$[''action'',''action'']') = '{}' THEN 'missing field action'
    WHEN JSON_QUERY(`__payload`, '$[''dwell_ms'',''dwell_ms'']') = '{}' THEN 'missing field dwell_ms'
    WHEN JSON_QUERY(`__payload`, '$[''event_time'',''event_time'']') = '{}' THEN 'missing field event_time'
    WHEN JSON_QUERY(`__payload`, '$.user_id') IS NOT NULL THEN 'wrong type for user_id: STRING'
    WHEN JSON_QUERY(`__payload`, '$.post_id') IS NOT NULL THEN 'wrong type for post_id: STRING'
    WHEN JSON_QUERY(`__payload`, '$.author_id') IS NOT NULL THEN 'wrong type for author_id: STRING'
    WHEN JSON_QUERY(`__payload`, '$.action') IS NOT NULL THEN 'wrong type for action: STRING'
    WHEN (JSON_QUERY(`__payload`, '$.dwell_ms') IS NOT NULL OR (JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) IS NOT NULL AND TRY_CAST(JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) AS BIGINT) IS NULL)) THEN 'wrong type for dwell_ms: BIGINT'
    WHEN (JSON_QUERY(`__payload`, '$.event_time') IS NOT NULL OR (JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) IS NOT NULL AND TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) IS NULL)) THEN 'wrong type for event_time: TIMESTAMP(3)'
    WHEN TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) IS NULL THEN 'NULL event time'
    WHEN JSON_VALUE(`__payload`, '$.user_id' RETURNING STRING) IS NULL THEN 'NULL key user_id'
    WHEN TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) > CAST(`__timestamp` AS TIMESTAMP(3)) + INTERVAL '1 00:00:00.000' DAY TO SECOND(3) THEN 'event time too far in the future'
  END END IS NULL THEN TRY_CAST(JSON_VALUE(`__payload`, '$.event_time' RETURNING STRING) AS TIMESTAMP(3)) ELSE TIMESTAMP '1970-01-01 00:00:00.000' END,
  `__arrival` AS PROCTIME(),
  WATERMARK FOR `__rowtime` AS `__rowtime` - INTERVAL '0 00:00:05.000' DAY TO SECOND(3)
) WITH (
  'connector' = 'kafka',
  'topic' = 'engagements',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'featuresql-engagements',
  'scan.startup.mode' = 'earliest-offset',
  'properties.isolation.level' = 'read_committed',
  'format' = 'raw',
  'raw.charset' = 'UTF-8'
);

CREATE TEMPORARY VIEW `src_engagements` AS
SELECT `user_id`, `post_id`, `author_id`, `action`, `dwell_ms`, `event_time`, `__rowtime`, `__partition`, `__arrival`, MAX(`__rowtime`) OVER (PARTITION BY `__partition` ORDER BY `__arrival` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - INTERVAL '0 00:00:05.000' DAY TO SECOND(3) AS `__mark`
FROM `in_src_engagements`
WHERE `__reject` IS NULL;

-- the sink;

-- rows of src_engagements that arrived at or below the watermark (docs/semantics.md section 7)
CREATE TEMPORARY TABLE `late_src_engagements` (...) WITH (
  'connector' = 'filesystem', 'path' = '<staging>/late/src_engagements', 'format' = 'parquet'
);

-- records of engagements set aside as bad, with the reason (docs/semantics.md section 4)
CREATE TEMPORARY TABLE `rejected_engagements` (...) WITH (
  'connector' = 'filesystem', 'path' = '<out>/rejected/user_engagement/engagements', 'format' = 'parquet'
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
  AND `__rowtime` < TIMESTAMP '2100-01-01 00:00:00.000'
  AND (`__mark` IS NULL OR `__rowtime` > `__mark`)
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
WHERE `__rowtime` >= TIMESTAMP '1970-01-01 00:00:00.000';

INSERT INTO `late_src_engagements`
SELECT `user_id`, `post_id`, `author_id`, `action`, `dwell_ms`, `event_time`, `__mark` AS `__watermark`
FROM `src_engagements`
WHERE `event_time` IS NOT NULL
  AND `__rowtime` < TIMESTAMP '2100-01-01 00:00:00.000'
  AND `__rowtime` <= `__mark`;

INSERT INTO `rejected_engagements`
SELECT `__reject` AS `reason`,
  `__topic` AS `topic`,
  `__partition` AS `partition`,
  `__offset` AS `offset`,
  CAST(NULL AS STRING) AS `file`,
  CAST(`__payload` AS BYTES) AS `payload`,
  CAST(`__timestamp` AS TIMESTAMP(3)) AS `timestamp`
FROM `in_src_engagements`
WHERE `__reject` IS NOT NULL;

END;
