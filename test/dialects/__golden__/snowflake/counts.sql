SELECT CASE WHEN dead_lettered THEN 'dead' ELSE op END AS op, count(*) AS n FROM _audsync_delta_0 GROUP BY CASE WHEN dead_lettered THEN 'dead' ELSE op END;

SELECT op, max(row_id) - min(row_id) + 1 AS n FROM _audsync_parts_0 GROUP BY op;

SELECT count(*) AS n FROM ANALYTICS.audsync.audsync_snapshots WHERE sync_id = 'buyers__meta';
