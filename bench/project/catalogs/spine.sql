-- The samples spine: a deterministic ~10% of impressions (bench/data.py writes it),
-- so the samples workload is "1 spine row per 10 events" as issue 6 asks.
CREATE TABLE spine (
  impression_id VARCHAR,
  user_id       VARCHAR,
  post_id       VARCHAR,
  author_id     VARCHAR,
  position      INT,
  event_time    TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH ('path' = 'data/spine/*.parquet', 'format' = 'parquet');
