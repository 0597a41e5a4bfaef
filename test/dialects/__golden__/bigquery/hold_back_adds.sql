INSERT INTO `acme-dwh`.`audsync`.audsync_deliveries (run_id, sync_id, op, first_row_id, last_row_id, row_count, status, attempts, error_code, error_message, finished_at)
SELECT DISTINCT 'run-1', 'buyers__meta', 'add', a.row_id, a.row_id, 1, 'failed', 0, 'held_back',
  'not sent: the old identifiers of a member sharing this row could not be removed', TIMESTAMP '2026-03-01 10:00:00.000+00:00'
FROM `_audsync_parts_0` a
JOIN `_audsync_parts_0` r ON r.member_key = a.member_key AND r.op = 'remove'
JOIN (SELECT r.row_id, (u.row_id IS NULL AND f.row_id IS NULL) AS ok, f.error_code, f.error_message
  FROM (SELECT DISTINCT row_id FROM `_audsync_parts_0`) r
  LEFT JOIN (
    SELECT p.row_id, min(o.error_code) AS error_code, min(o.error_message) AS error_message
    FROM `_audsync_parts_0` p JOIN `acme-dwh`.`audsync`.audsync_deliveries o ON o.run_id = 'run-1' AND o.sync_id = 'buyers__meta' AND o.status = 'failed'
      AND p.row_id BETWEEN o.first_row_id AND o.last_row_id
    GROUP BY p.row_id
  ) f ON f.row_id = r.row_id
  LEFT JOIN (
    SELECT DISTINCT p.row_id FROM `_audsync_parts_0` p JOIN (
    SELECT prev_end + 1 AS gap_first, first_row_id - 1 AS gap_last FROM (
      SELECT first_row_id, coalesce(lag(max_end) OVER (ORDER BY first_row_id, last_row_id), 0) AS prev_end FROM (
        SELECT first_row_id, last_row_id, max(last_row_id) OVER (ORDER BY first_row_id, last_row_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS max_end
        FROM `acme-dwh`.`audsync`.audsync_deliveries WHERE run_id = 'run-1' AND sync_id = 'buyers__meta' AND status = 'sent'
      ) s
    ) s
    WHERE first_row_id > prev_end + 1
    UNION ALL
    SELECT coalesce(max(last_row_id), 0) + 1, 9007199254740991 FROM `acme-dwh`.`audsync`.audsync_deliveries WHERE run_id = 'run-1' AND sync_id = 'buyers__meta' AND status = 'sent'
    ) g ON p.row_id BETWEEN g.gap_first AND g.gap_last
  ) u ON u.row_id = r.row_id) ro ON ro.row_id = r.row_id
WHERE a.op = 'add' AND NOT ro.ok;
