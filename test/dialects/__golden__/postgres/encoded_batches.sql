CREATE INDEX IF NOT EXISTS "_audsync_parts_0_row_id" ON "_audsync_parts_0" (row_id);

SELECT min(row_id) AS first_row_id, max(row_id) AS last_row_id FROM "_audsync_parts_0" WHERE op = 'add';

SELECT first_row_id FROM "audsync".audsync_deliveries
    WHERE run_id = 'run-1' AND sync_id = 'buyers__meta' AND error_code = 'held_back' AND op = 'add';

SELECT min(row_id) AS first_row_id, max(row_id) AS last_row_id, count(*) AS row_count,
  concat('[', string_agg(row_json, ','), ']') AS rows_json
FROM (
  SELECT p.row_id, concat('[', '"', coalesce(p.email, ''), '"', ',', '"', coalesce(p.phone, ''), '"', ',', '"', coalesce(p.first_name, ''), '"', ',', '"', coalesce(p.last_name, ''), '"', ',', '"', coalesce(p.zip, ''), '"', ',', '"', coalesce(p.country, ''), '"', ',', CAST(to_json(CAST(coalesce(p.maid, '') AS text)) AS text), ',', CAST(to_json(CAST(coalesce(p.external_id, '') AS text)) AS text), ']') AS row_json
  FROM "_audsync_parts_0" p
  WHERE p.op = 'add' AND p.row_id BETWEEN 1001 AND 81000 AND p.first_of_row
) r
GROUP BY FLOOR((row_id - 1001) / 10000);

SELECT min(row_id) AS first_row_id, max(row_id) AS last_row_id, count(*) AS row_count,
  concat('[', string_agg(row_json, ','), ']') AS rows_json
FROM (
  SELECT p.row_id, concat('[', '"', coalesce(p.email, ''), '"', ',', '"', coalesce(p.phone, ''), '"', ',', '"', coalesce(p.first_name, ''), '"', ',', '"', coalesce(p.last_name, ''), '"', ',', '"', coalesce(p.zip, ''), '"', ',', '"', coalesce(p.country, ''), '"', ',', CAST(to_json(CAST(coalesce(p.maid, '') AS text)) AS text), ',', CAST(to_json(CAST(coalesce(p.external_id, '') AS text)) AS text), ']') AS row_json
  FROM "_audsync_parts_0" p
  WHERE p.op = 'add' AND p.row_id BETWEEN 1001 AND 81000 AND p.first_of_row
    AND p.row_id NOT IN (SELECT first_row_id FROM "audsync".audsync_deliveries
    WHERE run_id = 'run-1' AND sync_id = 'buyers__meta' AND error_code = 'held_back' AND op = 'add')
) r
GROUP BY FLOOR((row_id - 1001) / 10000);
