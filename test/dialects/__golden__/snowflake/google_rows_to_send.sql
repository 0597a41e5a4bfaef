SELECT DISTINCT p.row_id, coalesce(p.email, '') || '\u001f' || coalesce(p.phone, '') || '\u001f' || coalesce(p.first_name, '') || '\u001f' || coalesce(p.last_name, '') AS packed, p.zip, p.country
FROM _audsync_parts_1 p
WHERE p.op = 'remove'
  AND p.row_id NOT IN (SELECT first_row_id FROM ANALYTICS.audsync.audsync_deliveries
    WHERE run_id = 'run-1' AND sync_id = 'buyers__google' AND error_code = 'held_back' AND op = 'remove')
ORDER BY p.row_id;

SELECT DISTINCT p.row_id, coalesce(p.email, '') || '\u001f' || coalesce(p.phone, '') || '\u001f' || coalesce(p.first_name, '') || '\u001f' || coalesce(p.last_name, '') AS packed, p.zip, p.country
FROM _audsync_parts_1 p
WHERE p.op = 'add'
  AND p.row_id NOT IN (SELECT first_row_id FROM ANALYTICS.audsync.audsync_deliveries
    WHERE run_id = 'run-1' AND sync_id = 'buyers__google' AND error_code = 'held_back' AND op = 'add')
ORDER BY p.row_id;
