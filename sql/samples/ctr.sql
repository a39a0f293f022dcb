SAMPLES ctr (
  spine impressions,                                    -- a catalog table; its event time is t
  features (user_engagement, user_exposure, post_popularity, author_reach, user_author_affinity),
  label (source engagements, horizon 10m),
  description 'Did the user click the post within 10 minutes of seeing it?'
);

SELECT COUNT(*) FILTER (WHERE action = 'click') > 0 AS clicked
FROM engagements
GROUP BY user_id, post_id;                              -- label keys = spine columns of the same names
