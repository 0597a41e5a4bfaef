CREATE OR REPLACE TEMPORARY TABLE _audsync_delta_1 AS
WITH snap AS (SELECT member_key, fingerprint, first_synced_at, email_hash, phone_hash, first_name_hash, last_name_hash, zip_hash, country_hash, address_key FROM ANALYTICS.audsync.audsync_snapshots WHERE sync_id = 'buyers__google'),
cand AS (
  SELECT member_key, source_updated_at, n_email__email_google AS n_email, n_phone__phone_e164 AS n_phone, n_first_name__name_google AS n_first_name, n_last_name__name_google AS n_last_name, n_zip__postal_code AS n_zip, n_country__country_upper AS n_country, HASH('email:email_google:sha256', n_email__email_google, 'phone:phone_e164:sha256', n_phone__phone_e164, 'first_name:name_google:sha256', n_first_name__name_google, 'last_name:name_google:sha256', n_last_name__name_google, 'zip:postal_code:plain', n_zip__postal_code, 'country:country_upper:plain', n_country__country_upper) AS fingerprint, sfp_1 AS sfp, (CASE WHEN p_email THEN 1 ELSE 0 END + CASE WHEN n_email__email_google IS NOT NULL THEN 65536 ELSE 0 END + CASE WHEN p_phone THEN 2 ELSE 0 END + CASE WHEN n_phone__phone_e164 IS NOT NULL THEN 131072 ELSE 0 END + CASE WHEN p_first_name THEN 4 ELSE 0 END + CASE WHEN n_first_name__name_google IS NOT NULL THEN 262144 ELSE 0 END + CASE WHEN p_last_name THEN 8 ELSE 0 END + CASE WHEN n_last_name__name_google IS NOT NULL THEN 524288 ELSE 0 END + CASE WHEN p_zip THEN 16 ELSE 0 END + CASE WHEN n_zip__postal_code IS NOT NULL THEN 1048576 ELSE 0 END + CASE WHEN p_country THEN 128 ELSE 0 END + CASE WHEN n_country__country_upper IS NOT NULL THEN 8388608 ELSE 0 END) AS kinds_mask
  FROM _audsync_candidate_buyers
  WHERE in_model AND consented AND NOT held_out AND member_key IS NOT NULL AND (n_email__email_google IS NOT NULL OR n_phone__phone_e164 IS NOT NULL)
),
cand_keys AS (
  SELECT member_key, source_updated_at, n_email__email_google AS n_email, n_phone__phone_e164 AS n_phone, n_first_name__name_google AS n_first_name, n_last_name__name_google AS n_last_name, n_zip__postal_code AS n_zip, n_country__country_upper AS n_country, HASH('email:email_google:sha256', n_email__email_google, 'phone:phone_e164:sha256', n_phone__phone_e164, 'first_name:name_google:sha256', n_first_name__name_google, 'last_name:name_google:sha256', n_last_name__name_google, 'zip:postal_code:plain', n_zip__postal_code, 'country:country_upper:plain', n_country__country_upper) AS fingerprint, sfp_1 AS sfp, (CASE WHEN p_email THEN 1 ELSE 0 END + CASE WHEN n_email__email_google IS NOT NULL THEN 65536 ELSE 0 END + CASE WHEN p_phone THEN 2 ELSE 0 END + CASE WHEN n_phone__phone_e164 IS NOT NULL THEN 131072 ELSE 0 END + CASE WHEN p_first_name THEN 4 ELSE 0 END + CASE WHEN n_first_name__name_google IS NOT NULL THEN 262144 ELSE 0 END + CASE WHEN p_last_name THEN 8 ELSE 0 END + CASE WHEN n_last_name__name_google IS NOT NULL THEN 524288 ELSE 0 END + CASE WHEN p_zip THEN 16 ELSE 0 END + CASE WHEN n_zip__postal_code IS NOT NULL THEN 1048576 ELSE 0 END + CASE WHEN p_country THEN 128 ELSE 0 END + CASE WHEN n_country__country_upper IS NOT NULL THEN 8388608 ELSE 0 END) AS kinds_mask
  FROM _audsync_candidate_buyers
  WHERE in_model AND consented AND NOT held_out AND member_key IS NOT NULL AND (n_email__email_google IS NOT NULL OR n_phone__phone_e164 IS NOT NULL)
),
snap_keys AS (SELECT member_key, fingerprint, source_fingerprint FROM ANALYTICS.audsync.audsync_snapshots WHERE sync_id = 'buyers__google'),
changed AS (
  SELECT coalesce(c.member_key, s.member_key) AS member_key, c.fingerprint
  FROM cand_keys c FULL OUTER JOIN snap_keys s ON s.member_key = c.member_key
  WHERE (s.member_key IS NULL OR c.member_key IS NULL OR (NOT coalesce(c.sfp = s.source_fingerprint, FALSE) AND c.fingerprint <> s.fingerprint))
)
SELECT m.*,
  (m.new_first_name || '|' || m.new_last_name || '|' || m.new_country || '|' || m.new_zip) AS new_address,
  (m.new_first_name || '|' || m.new_last_name || '|' || m.newh_country || '|' || m.newh_zip) AS newh_address,
  (m.oldh_first_name || '|' || m.oldh_last_name || '|' || m.oldh_country || '|' || m.oldh_zip) AS oldh_address,
  coalesce(m.oldk_address, (m.oldh_first_name || '|' || m.oldh_last_name || '|' || m.old_country || '|' || m.old_zip)) AS old_address
FROM (
SELECT k.member_key,
  CASE WHEN s.member_key IS NULL THEN 'add' WHEN c.member_key IS NULL THEN 'remove' ELSE 'change' END AS op,
  k.fingerprint, c.source_updated_at, s.first_synced_at, c.sfp AS source_fingerprint, c.kinds_mask,
  CASE WHEN REGEXP_LIKE(c.n_email, '([0-9a-f]{64})') THEN c.n_email ELSE SHA2(c.n_email, 256) END AS new_email,
  s.email_hash AS oldh_email,
  CASE WHEN REGEXP_LIKE(c.n_phone, '([0-9a-f]{64})') THEN c.n_phone ELSE SHA2(c.n_phone, 256) END AS new_phone,
  s.phone_hash AS oldh_phone,
  CASE WHEN REGEXP_LIKE(c.n_first_name, '([0-9a-f]{64})') THEN c.n_first_name ELSE SHA2(c.n_first_name, 256) END AS new_first_name,
  s.first_name_hash AS oldh_first_name,
  CASE WHEN REGEXP_LIKE(c.n_last_name, '([0-9a-f]{64})') THEN c.n_last_name ELSE SHA2(c.n_last_name, 256) END AS new_last_name,
  s.last_name_hash AS oldh_last_name,
  c.n_zip AS new_zip,
  SHA2(c.n_zip, 256) AS newh_zip,
  s.zip_hash AS oldh_zip,
  CASE WHEN SHA2(f.n_zip__postal_code, 256) = s.zip_hash THEN f.n_zip__postal_code END AS old_zip,
  c.n_country AS new_country,
  SHA2(c.n_country, 256) AS newh_country,
  s.country_hash AS oldh_country,
  CASE WHEN SHA2(f.n_country__country_upper, 256) = s.country_hash THEN f.n_country__country_upper END AS old_country,
  s.address_key AS oldk_address,
  FALSE AS dead_lettered
FROM changed k
LEFT JOIN cand c ON c.member_key = k.member_key
LEFT JOIN snap s ON s.member_key = k.member_key
LEFT JOIN _audsync_candidate_buyers f ON f.member_key = s.member_key
) m;
