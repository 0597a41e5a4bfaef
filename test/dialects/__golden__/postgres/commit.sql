INSERT INTO "audsync".audsync_changes (run_id, sync_id, member_key, op, status, attempt, error_code, error_message, source_updated_at, sent_at)
SELECT 'run-1', 'buyers__meta', r.member_key, r.op, r.status, CASE WHEN rt.member_key IS NOT NULL AND CASE WHEN rt.fingerprint IS NULL THEN r.fingerprint IS NULL WHEN r.fingerprint IS NULL THEN FALSE ELSE rt.fingerprint = r.fingerprint END THEN rt.attempts + 1 ELSE 1 END, r.error_code, r.error_message,
  r.source_updated_at, CASE WHEN r.status = 'sent' THEN CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ) END
FROM "_audsync_result_0" r
LEFT JOIN "audsync".audsync_retries rt ON rt.sync_id = 'buyers__meta' AND rt.member_key = r.member_key;

DELETE FROM "audsync".audsync_retries WHERE sync_id = 'buyers__meta' AND member_key IN (SELECT member_key FROM "_audsync_result_0");

DELETE FROM "audsync".audsync_retries WHERE sync_id = 'buyers__meta' AND member_key NOT IN (SELECT member_key FROM "_audsync_delta_0");

INSERT INTO "audsync".audsync_retries (sync_id, member_key, attempts, fingerprint, last_error_code, last_error_message, last_attempt_at)
SELECT 'buyers__meta', r.member_key, ch.attempt, r.fingerprint, r.error_code, r.error_message, CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ)
FROM "_audsync_result_0" r
JOIN "audsync".audsync_changes ch ON ch.run_id = 'run-1' AND ch.sync_id = 'buyers__meta' AND ch.member_key = r.member_key
WHERE r.status = 'failed';

DELETE FROM "audsync".audsync_snapshots WHERE sync_id = 'buyers__meta'
  AND member_key IN (SELECT member_key FROM "_audsync_result_0" WHERE action IN ('upsert', 'delete'));

INSERT INTO "audsync".audsync_snapshots (sync_id, member_key, email_hash, phone_hash, first_name_hash, last_name_hash, zip_hash, country_hash, maid_hash, external_id_hash, fingerprint, source_fingerprint, kinds_mask, first_synced_at, last_synced_at)
SELECT 'buyers__meta', dl.member_key, dl.new_email, dl.new_phone, dl.new_first_name, dl.new_last_name, dl.new_zip, dl.new_country, dl.newh_maid, dl.newh_external_id, dl.fingerprint, dl.source_fingerprint, dl.kinds_mask, coalesce(dl.first_synced_at, CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ)), CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ)
FROM "_audsync_delta_0" dl
WHERE dl.member_key IN (SELECT member_key FROM "_audsync_result_0" WHERE action = 'upsert');

UPDATE "audsync".audsync_snapshots SET source_fingerprint = u.u_sfp, kinds_mask = u.u_mask
FROM (
  SELECT c.member_key AS u_member, c."sfp_0" AS u_sfp, (CASE WHEN c."p_email" THEN 1 ELSE 0 END + CASE WHEN c."n_email__email" IS NOT NULL THEN 65536 ELSE 0 END + CASE WHEN c."p_phone" THEN 2 ELSE 0 END + CASE WHEN c."n_phone__phone_digits" IS NOT NULL THEN 131072 ELSE 0 END + CASE WHEN c."p_first_name" THEN 4 ELSE 0 END + CASE WHEN c."n_first_name__name" IS NOT NULL THEN 262144 ELSE 0 END + CASE WHEN c."p_last_name" THEN 8 ELSE 0 END + CASE WHEN c."n_last_name__name" IS NOT NULL THEN 524288 ELSE 0 END + CASE WHEN c."p_zip" THEN 16 ELSE 0 END + CASE WHEN c."n_zip__zip" IS NOT NULL THEN 1048576 ELSE 0 END + CASE WHEN c."p_country" THEN 128 ELSE 0 END + CASE WHEN c."n_country__country_lower" IS NOT NULL THEN 8388608 ELSE 0 END + CASE WHEN c."p_maid" THEN 256 ELSE 0 END + CASE WHEN c."n_maid__maid" IS NOT NULL THEN 16777216 ELSE 0 END + CASE WHEN c."p_external_id" THEN 512 ELSE 0 END + CASE WHEN c."n_external_id__trimmed" IS NOT NULL THEN 33554432 ELSE 0 END) AS u_mask
  FROM "_audsync_candidate_buyers" c
  WHERE c.normalized AND c."held_0" AND c.in_model AND c.consented AND NOT c.held_out AND c.member_key IS NOT NULL AND (c."n_email__email" IS NOT NULL OR c."n_phone__phone_digits" IS NOT NULL OR c."n_maid__maid" IS NOT NULL OR c."n_external_id__trimmed" IS NOT NULL) AND c.member_key NOT IN (SELECT member_key FROM "_audsync_delta_0")
) u
WHERE sync_id = 'buyers__meta' AND member_key = u.u_member AND (source_fingerprint IS NULL OR source_fingerprint <> u.u_sfp);

DELETE FROM "audsync".audsync_sync_state WHERE sync_id = 'buyers__meta';

INSERT INTO "audsync".audsync_sync_state (sync_id, destination, platform, audience_id, updated_at)
VALUES ('buyers__meta', 'meta', 'meta_custom_audiences', '23851234567890', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ));
