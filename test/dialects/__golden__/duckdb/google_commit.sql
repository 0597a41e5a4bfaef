INSERT INTO "audsync"."audsync".audsync_changes (run_id, sync_id, member_key, op, status, attempt, error_code, error_message, source_updated_at, sent_at)
SELECT 'run-1', 'buyers__google', r.member_key, r.op, r.status, CASE WHEN rt.member_key IS NOT NULL AND CASE WHEN rt.fingerprint IS NULL THEN r.fingerprint IS NULL WHEN r.fingerprint IS NULL THEN FALSE ELSE rt.fingerprint = r.fingerprint END THEN rt.attempts + 1 ELSE 1 END, r.error_code, r.error_message,
  r.source_updated_at, CASE WHEN r.status = 'sent' THEN CAST('2026-03-01 10:00:00.000' AS TIMESTAMP) END
FROM "_audsync_result_1" r
LEFT JOIN "audsync"."audsync".audsync_retries rt ON rt.sync_id = 'buyers__google' AND rt.member_key = r.member_key;

DELETE FROM "audsync"."audsync".audsync_retries WHERE sync_id = 'buyers__google' AND member_key IN (SELECT member_key FROM "_audsync_result_1");

DELETE FROM "audsync"."audsync".audsync_retries WHERE sync_id = 'buyers__google' AND member_key NOT IN (SELECT member_key FROM "_audsync_delta_1");

INSERT INTO "audsync"."audsync".audsync_retries (sync_id, member_key, attempts, fingerprint, last_error_code, last_error_message, last_attempt_at)
SELECT 'buyers__google', r.member_key, ch.attempt, r.fingerprint, r.error_code, r.error_message, CAST('2026-03-01 10:00:00.000' AS TIMESTAMP)
FROM "_audsync_result_1" r
JOIN "audsync"."audsync".audsync_changes ch ON ch.run_id = 'run-1' AND ch.sync_id = 'buyers__google' AND ch.member_key = r.member_key
WHERE r.status = 'failed';

DELETE FROM "audsync"."audsync".audsync_snapshots WHERE sync_id = 'buyers__google'
  AND member_key IN (SELECT member_key FROM "_audsync_result_1" WHERE action IN ('upsert', 'delete'));

INSERT INTO "audsync"."audsync".audsync_snapshots (sync_id, member_key, email_hash, phone_hash, first_name_hash, last_name_hash, zip_hash, country_hash, address_key, fingerprint, source_fingerprint, kinds_mask, first_synced_at, last_synced_at)
SELECT 'buyers__google', dl.member_key, dl.new_email, dl.new_phone, dl.new_first_name, dl.new_last_name, dl.newh_zip, dl.newh_country, dl.new_address, dl.fingerprint, dl.source_fingerprint, dl.kinds_mask, coalesce(dl.first_synced_at, CAST('2026-03-01 10:00:00.000' AS TIMESTAMP)), CAST('2026-03-01 10:00:00.000' AS TIMESTAMP)
FROM "_audsync_delta_1" dl
WHERE dl.member_key IN (SELECT member_key FROM "_audsync_result_1" WHERE action = 'upsert');

UPDATE "audsync"."audsync".audsync_snapshots SET source_fingerprint = u.u_sfp, kinds_mask = u.u_mask
FROM (
  SELECT c.member_key AS u_member, c."sfp_1" AS u_sfp, (CASE WHEN c."p_email" THEN 1 ELSE 0 END + CASE WHEN c."n_email__email_google" IS NOT NULL THEN 65536 ELSE 0 END + CASE WHEN c."p_phone" THEN 2 ELSE 0 END + CASE WHEN c."n_phone__phone_e164" IS NOT NULL THEN 131072 ELSE 0 END + CASE WHEN c."p_first_name" THEN 4 ELSE 0 END + CASE WHEN c."n_first_name__name_google" IS NOT NULL THEN 262144 ELSE 0 END + CASE WHEN c."p_last_name" THEN 8 ELSE 0 END + CASE WHEN c."n_last_name__name_google" IS NOT NULL THEN 524288 ELSE 0 END + CASE WHEN c."p_zip" THEN 16 ELSE 0 END + CASE WHEN c."n_zip__postal_code" IS NOT NULL THEN 1048576 ELSE 0 END + CASE WHEN c."p_country" THEN 128 ELSE 0 END + CASE WHEN c."n_country__country_upper" IS NOT NULL THEN 8388608 ELSE 0 END) AS u_mask
  FROM "_audsync_candidate_buyers" c
  WHERE c.normalized AND c.in_model AND c.consented AND NOT c.held_out AND c.member_key IS NOT NULL AND (c."n_email__email_google" IS NOT NULL OR c."n_phone__phone_e164" IS NOT NULL) AND c.member_key NOT IN (SELECT member_key FROM "_audsync_delta_1")
) u
WHERE sync_id = 'buyers__google' AND member_key = u.u_member AND (source_fingerprint IS NULL OR source_fingerprint <> u.u_sfp);

UPDATE "audsync"."audsync".audsync_snapshots SET address_key = b.b_key
FROM (
  SELECT s.member_key AS b_member, (CASE WHEN regexp_full_match(f."n_first_name__name_google", '[0-9a-f]{64}') THEN f."n_first_name__name_google" ELSE sha256(f."n_first_name__name_google") END || '|' || CASE WHEN regexp_full_match(f."n_last_name__name_google", '[0-9a-f]{64}') THEN f."n_last_name__name_google" ELSE sha256(f."n_last_name__name_google") END || '|' || f."n_country__country_upper" || '|' || f."n_zip__postal_code") AS b_key
  FROM "audsync"."audsync".audsync_snapshots s JOIN "_audsync_candidate_buyers" f ON f.member_key = s.member_key
  WHERE s.sync_id = 'buyers__google' AND s.address_key IS NULL AND s.first_name_hash IS NOT NULL AND s.last_name_hash IS NOT NULL AND s.country_hash IS NOT NULL AND s.zip_hash IS NOT NULL
    AND s.first_name_hash = CASE WHEN regexp_full_match(f."n_first_name__name_google", '[0-9a-f]{64}') THEN f."n_first_name__name_google" ELSE sha256(f."n_first_name__name_google") END
    AND s.last_name_hash = CASE WHEN regexp_full_match(f."n_last_name__name_google", '[0-9a-f]{64}') THEN f."n_last_name__name_google" ELSE sha256(f."n_last_name__name_google") END
    AND s.country_hash = sha256(f."n_country__country_upper")
    AND s.zip_hash = sha256(f."n_zip__postal_code")
) b
WHERE sync_id = 'buyers__google' AND member_key = b.b_member AND address_key IS NULL;

DELETE FROM "audsync"."audsync".audsync_sync_state WHERE sync_id = 'buyers__google';

INSERT INTO "audsync"."audsync".audsync_sync_state (sync_id, destination, platform, audience_id, updated_at)
VALUES ('buyers__google', 'google', 'google_customer_match', '7777777777', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP));
