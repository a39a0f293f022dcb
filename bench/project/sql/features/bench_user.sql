-- The benchmark feature (issue 6): 4 windows x 8 aggregates over the big table.
-- bench/arms/handwritten.py computes the same 32 columns by hand; keep them in step.
FEATURE bench_user (
  entity user_id,
  windows (10m, 1h, 1d, 7d),
  description 'Benchmark: a user''s feed exposure'
);

SELECT
  user_id,
  COUNT(*)                                       AS imps,
  COUNT(*) FILTER (WHERE position <= 3)          AS top_imps,
  COUNT(*) FILTER (WHERE position > 10)          AS deep_imps,
  SUM(position)                                  AS pos_sum,
  AVG(position)                                  AS pos_avg,
  MIN(position)                                  AS pos_min,
  MAX(position)                                  AS pos_max,
  COUNT(*) FILTER (WHERE position <= 3) / NULLIF(COUNT(*), 0) AS top_share
FROM impressions
GROUP BY user_id;
