INSERT INTO `acme-dwh`.`audsync`.audsync_deliveries (run_id, sync_id, op, first_row_id, last_row_id, row_count, status, attempts, error_code, error_message, finished_at)
SELECT DISTINCT 'run-1', 'buyers__meta', 'add', a.row_id, a.row_id, 1, 'failed', 0, 'held_back',
  'not sent: the old identifiers of a member sharing this row could not be removed', TIMESTAMP '2026-03-01 10:00:00.000+00:00'
FROM `_audsync_parts_0` a
JOIN `_audsync_parts_0` r ON r.member_key = a.member_key AND r.op = 'remove'
JOIN (SELECT r.row_id,
    (max(CASE WHEN o.status = 'sent' THEN 1 ELSE 0 END) = 1 AND max(CASE WHEN o.status = 'failed' THEN 1 ELSE 0 END) = 0) AS ok,
    min(CASE WHEN o.status = 'failed' THEN o.error_code END) AS error_code,
    min(CASE WHEN o.status = 'failed' THEN o.error_message END) AS error_message
  FROM (SELECT DISTINCT row_id FROM `_audsync_parts_0`) r
  LEFT JOIN `acme-dwh`.`audsync`.audsync_deliveries o ON o.run_id = 'run-1' AND o.sync_id = 'buyers__meta'
    AND r.row_id BETWEEN o.first_row_id AND o.last_row_id
  GROUP BY r.row_id) ro ON ro.row_id = r.row_id
WHERE a.op = 'add' AND NOT ro.ok;
