-- What users did with posts they saw.
CREATE TABLE engagements (
  user_id    VARCHAR,
  post_id    VARCHAR,
  author_id  VARCHAR,
  action     VARCHAR,          -- click | like | repost | comment (and spam, filtered out)
  dwell_ms   BIGINT,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH (
  'path' = 'data/engagements/*.parquet', 'format' = 'parquet',
  -- Streaming (featuresql replay writes here; Flink reads it): JSON on a local broker.
  'stream.connector' = 'kafka', 'stream.topic' = 'engagements', 'stream.format' = 'json',
  'stream.bootstrap' = 'localhost:9092'
);
