-- Posts shown in a user's feed: the spine of the ctr samples (one sample per impression).
CREATE TABLE impressions (
  impression_id VARCHAR,
  user_id       VARCHAR,
  post_id       VARCHAR,
  author_id     VARCHAR,
  position      INT,              -- rank in the feed, 1 = top
  event_time    TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH (
  'path' = 'data/impressions/*.parquet', 'format' = 'parquet',
  -- Streaming (featuresql replay writes here; Flink reads it): JSON on a local broker.
  'stream.connector' = 'kafka', 'stream.topic' = 'impressions', 'stream.format' = 'json',
  'stream.bootstrap' = 'localhost:9092'
);
