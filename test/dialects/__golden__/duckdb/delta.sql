CREATE OR REPLACE TEMP TABLE "_audsync_delta_0" AS
WITH snap AS (SELECT member_key, fingerprint, first_synced_at, email_hash, phone_hash, first_name_hash, last_name_hash, zip_hash, country_hash, maid_hash, external_id_hash FROM "audsync"."audsync".audsync_snapshots WHERE sync_id = 'buyers__meta'),
changed AS (
  SELECT member_key, eligible, source_updated_at, n_email, n_phone, n_first_name, n_last_name, n_zip, n_country, n_maid, n_external_id, CASE WHEN eligible THEN fingerprint END AS fingerprint, sfp, kinds_mask FROM (
    SELECT member_key, coalesce(in_model AND consented AND NOT held_out AND member_key IS NOT NULL AND ("n_email__email" IS NOT NULL OR "n_phone__phone_digits" IS NOT NULL OR "n_maid__maid" IS NOT NULL OR "n_external_id__trimmed" IS NOT NULL), FALSE) AS eligible, source_updated_at, "n_email__email" AS n_email, "n_phone__phone_digits" AS n_phone, "n_first_name__name" AS n_first_name, "n_last_name__name" AS n_last_name, "n_zip__zip" AS n_zip, "n_country__country_lower" AS n_country, "n_maid__maid" AS n_maid, "n_external_id__trimmed" AS n_external_id, CAST(hash('email:email:sha256', "n_email__email", 'phone:phone_digits:sha256', "n_phone__phone_digits", 'first_name:name:sha256', "n_first_name__name", 'last_name:name:sha256', "n_last_name__name", 'zip:zip:sha256', "n_zip__zip", 'country:country_lower:sha256', "n_country__country_lower", 'maid:maid:plain', "n_maid__maid", 'external_id:trimmed:plain', "n_external_id__trimmed") >> 1 AS BIGINT) AS fingerprint, "sfp_0" AS sfp, (CASE WHEN "p_email" THEN 1 ELSE 0 END + CASE WHEN "n_email__email" IS NOT NULL THEN 65536 ELSE 0 END + CASE WHEN "p_phone" THEN 2 ELSE 0 END + CASE WHEN "n_phone__phone_digits" IS NOT NULL THEN 131072 ELSE 0 END + CASE WHEN "p_first_name" THEN 4 ELSE 0 END + CASE WHEN "n_first_name__name" IS NOT NULL THEN 262144 ELSE 0 END + CASE WHEN "p_last_name" THEN 8 ELSE 0 END + CASE WHEN "n_last_name__name" IS NOT NULL THEN 524288 ELSE 0 END + CASE WHEN "p_zip" THEN 16 ELSE 0 END + CASE WHEN "n_zip__zip" IS NOT NULL THEN 1048576 ELSE 0 END + CASE WHEN "p_country" THEN 128 ELSE 0 END + CASE WHEN "n_country__country_lower" IS NOT NULL THEN 8388608 ELSE 0 END + CASE WHEN "p_maid" THEN 256 ELSE 0 END + CASE WHEN "n_maid__maid" IS NOT NULL THEN 16777216 ELSE 0 END + CASE WHEN "p_external_id" THEN 512 ELSE 0 END + CASE WHEN "n_external_id__trimmed" IS NOT NULL THEN 33554432 ELSE 0 END) AS kinds_mask,
      "held_0" AS held, "snap_fp_0" AS snap_fp
    FROM "_audsync_candidate_buyers"
    WHERE member_key IS NOT NULL AND NOT "clean_0"
  ) x
  WHERE (eligible AND (NOT held OR fingerprint <> snap_fp)) OR (held AND NOT eligible)
),
cand AS (SELECT member_key, source_updated_at, n_email, n_phone, n_first_name, n_last_name, n_zip, n_country, n_maid, n_external_id, fingerprint, sfp, kinds_mask FROM changed WHERE eligible)
SELECT k.member_key,
  CASE WHEN s.member_key IS NULL THEN 'add' WHEN c.member_key IS NULL THEN 'remove' ELSE 'change' END AS op,
  k.fingerprint, c.source_updated_at, s.first_synced_at, c.sfp AS source_fingerprint, c.kinds_mask,
  CASE WHEN regexp_full_match(c.n_email, '[0-9a-f]{64}') THEN c.n_email ELSE sha256(c.n_email) END AS new_email,
  s.email_hash AS oldh_email,
  CASE WHEN regexp_full_match(c.n_phone, '[0-9a-f]{64}') THEN c.n_phone ELSE sha256(c.n_phone) END AS new_phone,
  s.phone_hash AS oldh_phone,
  CASE WHEN regexp_full_match(c.n_first_name, '[0-9a-f]{64}') THEN c.n_first_name ELSE sha256(c.n_first_name) END AS new_first_name,
  s.first_name_hash AS oldh_first_name,
  CASE WHEN regexp_full_match(c.n_last_name, '[0-9a-f]{64}') THEN c.n_last_name ELSE sha256(c.n_last_name) END AS new_last_name,
  s.last_name_hash AS oldh_last_name,
  CASE WHEN regexp_full_match(c.n_zip, '[0-9a-f]{64}') THEN c.n_zip ELSE sha256(c.n_zip) END AS new_zip,
  s.zip_hash AS oldh_zip,
  CASE WHEN regexp_full_match(c.n_country, '[0-9a-f]{64}') THEN c.n_country ELSE sha256(c.n_country) END AS new_country,
  s.country_hash AS oldh_country,
  c.n_maid AS new_maid,
  sha256(c.n_maid) AS newh_maid,
  s.maid_hash AS oldh_maid,
  CASE WHEN sha256(f."n_maid__maid") = s.maid_hash THEN f."n_maid__maid" END AS old_maid,
  c.n_external_id AS new_external_id,
  sha256(c.n_external_id) AS newh_external_id,
  s.external_id_hash AS oldh_external_id,
  CASE WHEN sha256(f."n_external_id__trimmed") = s.external_id_hash THEN f."n_external_id__trimmed" END AS old_external_id,
  FALSE AS dead_lettered
FROM changed k
LEFT JOIN cand c ON c.member_key = k.member_key
LEFT JOIN snap s ON s.member_key = k.member_key
LEFT JOIN "_audsync_candidate_buyers" f ON f.member_key = s.member_key;
