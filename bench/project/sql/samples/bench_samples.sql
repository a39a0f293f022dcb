-- The benchmark samples (issue 6): the bench feature as of each spine row, and a
-- 10-minute click label.
SAMPLES bench_samples (
  spine spine,
  features (bench_user),
  label (source engagements, horizon 10m)
);

SELECT COUNT(*) FILTER (WHERE action = 'click') > 0 AS clicked
FROM engagements
GROUP BY user_id, post_id;
