CREATE OR REPLACE TEMPORARY TABLE _audsync_result_0 AS
WITH ro AS (SELECT r.row_id, (u.row_id IS NULL AND f.row_id IS NULL) AS ok, f.error_code, f.error_message
  FROM (SELECT DISTINCT row_id FROM _audsync_parts_0) r
  LEFT JOIN (
    SELECT p.row_id, min(o.error_code) AS error_code, min(o.error_message) AS error_message
    FROM _audsync_parts_0 p JOIN ANALYTICS.audsync.audsync_deliveries o ON o.run_id = 'run-1' AND o.sync_id = 'buyers__meta' AND o.status = 'failed'
      AND p.row_id BETWEEN o.first_row_id AND o.last_row_id
    GROUP BY p.row_id
  ) f ON f.row_id = r.row_id
  LEFT JOIN (
    SELECT DISTINCT p.row_id FROM _audsync_parts_0 p JOIN (
    SELECT prev_end + 1 AS gap_first, first_row_id - 1 AS gap_last FROM (
      SELECT first_row_id, coalesce(lag(max_end) OVER (ORDER BY first_row_id, last_row_id), 0) AS prev_end FROM (
        SELECT first_row_id, last_row_id, max(last_row_id) OVER (ORDER BY first_row_id, last_row_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS max_end
        FROM ANALYTICS.audsync.audsync_deliveries WHERE run_id = 'run-1' AND sync_id = 'buyers__meta' AND status = 'sent'
      ) s
    ) s
    WHERE first_row_id > prev_end + 1
    UNION ALL
    SELECT coalesce(max(last_row_id), 0) + 1, 9007199254740991 FROM ANALYTICS.audsync.audsync_deliveries WHERE run_id = 'run-1' AND sync_id = 'buyers__meta' AND status = 'sent'
    ) g ON p.row_id BETWEEN g.gap_first AND g.gap_last
  ) u ON u.row_id = r.row_id),
per_member AS (
  SELECT dl.member_key, dl.op, dl.fingerprint, dl.source_updated_at,
    max(CASE WHEN p.op = 'remove' THEN 1 ELSE 0 END) AS has_remove,
    max(CASE WHEN p.op = 'remove' AND NOT ro.ok THEN 1 ELSE 0 END) AS remove_failed,
    max(CASE WHEN p.op = 'add' THEN 1 ELSE 0 END) AS has_add,
    max(CASE WHEN p.op = 'add' AND NOT ro.ok THEN 1 ELSE 0 END) AS add_failed,
    max(CASE WHEN p.op = 'lost' THEN 1 ELSE 0 END) AS lost,
    min(CASE WHEN NOT ro.ok AND p.op <> 'lost' THEN ro.error_code END) AS error_code,
    min(CASE WHEN NOT ro.ok AND p.op <> 'lost' THEN coalesce(ro.error_message, 'not sent') END) AS error_message
  FROM _audsync_delta_0 dl
  LEFT JOIN _audsync_parts_0 p ON p.member_key = dl.member_key
  LEFT JOIN ro ON ro.row_id = p.row_id
  WHERE NOT dl.dead_lettered -- dead letters of earlier runs: not sent, not recorded again (delta.ts)
  GROUP BY dl.member_key, dl.op, dl.fingerprint, dl.source_updated_at
)
SELECT member_key, op, fingerprint, source_updated_at,
  CASE WHEN remove_failed = 1 OR add_failed = 1 THEN 'failed' WHEN lost = 1 THEN 'dead' WHEN has_remove = 1 OR has_add = 1 THEN 'sent' ELSE 'noop' END AS status,
  CASE
    WHEN remove_failed = 1 THEN 'keep'
    WHEN op = 'remove' THEN 'delete'
    -- The add failed: if this run removed the member's old identifiers, the platform holds none of
    -- its own any more (delete); if nothing was removed it still holds the old ones (keep).
    WHEN add_failed = 1 THEN CASE WHEN has_remove = 1 OR FALSE THEN 'delete' ELSE 'keep' END
    ELSE 'upsert'
  END AS action,
  CASE WHEN remove_failed = 1 OR add_failed = 1 THEN coalesce(error_code, 'not_sent') WHEN lost = 1 THEN 'unrecoverable' END AS error_code,
  CASE WHEN remove_failed = 1 OR add_failed = 1 THEN error_message WHEN lost = 1 THEN 'cannot be removed: the platform takes this identifier only in plain text (a MADID, an external id, or a Google address''s region and postal code when it was synced before audsync kept address keys), audsync keeps only its hash, and the source row is gone or no longer holds it; keep leaving members in the model (e.g. with consent FALSE) until a run removes them' END AS error_message
FROM per_member;

SELECT op, status, count(*) AS n FROM _audsync_result_0 GROUP BY op, status;
