SELECT CASE WHEN dead_lettered THEN 'dead' ELSE op END AS op, count(*) AS n FROM `_audsync_delta_0` GROUP BY CASE WHEN dead_lettered THEN 'dead' ELSE op END;

SELECT op, count(*) AS n FROM (SELECT DISTINCT op, row_id FROM `_audsync_parts_0`) p GROUP BY op;

SELECT count(*) AS n FROM `acme-dwh`.`audsync`.audsync_snapshots WHERE sync_id = 'buyers__meta';
