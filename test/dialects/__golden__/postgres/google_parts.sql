DROP TABLE IF EXISTS pg_temp."_audsync_parts_1";
CREATE TEMP TABLE "_audsync_parts_1" AS
WITH refs_email AS (
  SELECT s.member_key, s.email_hash AS v FROM (SELECT member_key, email_hash FROM "audsync".audsync_snapshots WHERE sync_id = 'buyers__google') s
  WHERE s.email_hash IN (SELECT new_email FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) n UNION ALL SELECT oldh_email FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
),
before_email AS (SELECT DISTINCT v FROM refs_email WHERE v IN (SELECT new_email FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) n)),
after_email AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_email r LEFT JOIN (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_email FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT new_email AS v FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl WHERE new_email IN (SELECT oldh_email FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
  ) u
),
refs_phone AS (
  SELECT s.member_key, s.phone_hash AS v FROM (SELECT member_key, phone_hash FROM "audsync".audsync_snapshots WHERE sync_id = 'buyers__google') s
  WHERE s.phone_hash IN (SELECT new_phone FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) n UNION ALL SELECT oldh_phone FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
),
before_phone AS (SELECT DISTINCT v FROM refs_phone WHERE v IN (SELECT new_phone FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) n)),
after_phone AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_phone r LEFT JOIN (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_phone FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT new_phone AS v FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl WHERE new_phone IN (SELECT oldh_phone FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
  ) u
),
refs_address AS (
  SELECT s.member_key, (s.first_name_hash || '|' || s.last_name_hash || '|' || s.country_hash || '|' || s.zip_hash) AS v FROM (SELECT member_key, first_name_hash, last_name_hash, country_hash, zip_hash FROM "audsync".audsync_snapshots WHERE sync_id = 'buyers__google') s
  WHERE (s.first_name_hash || '|' || s.last_name_hash || '|' || s.country_hash || '|' || s.zip_hash) IN (SELECT newh_address FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) n UNION ALL SELECT oldh_address FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
),
before_address AS (SELECT DISTINCT v FROM refs_address WHERE v IN (SELECT newh_address FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) n)),
after_address AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_address r LEFT JOIN (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_address FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT newh_address AS v FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl WHERE newh_address IN (SELECT oldh_address FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) o)
  ) u
),
adds AS (
  SELECT dl.member_key, 'add' AS op, dl.new_email AS email, dl.new_phone AS phone, dl.new_first_name AS first_name, dl.new_last_name AS last_name, dl.new_zip AS zip, dl.new_country AS country
  FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl
  LEFT JOIN before_email b_email ON b_email.v = dl.new_email
  LEFT JOIN before_phone b_phone ON b_phone.v = dl.new_phone
  LEFT JOIN before_address b_address ON b_address.v = dl.newh_address
  WHERE dl.op IN ('add', 'change') AND ((dl.new_email IS NOT NULL AND b_email.v IS NULL) OR (dl.new_phone IS NOT NULL AND b_phone.v IS NULL) OR (dl.newh_address IS NOT NULL AND b_address.v IS NULL))
),
orphans AS (
  SELECT dl.member_key, dl.op AS member_op, CASE WHEN (dl.oldh_email IS NOT NULL AND a_email.v IS NULL) THEN dl.oldh_email END AS email, CASE WHEN (dl.oldh_phone IS NOT NULL AND a_phone.v IS NULL) THEN dl.oldh_phone END AS phone, CASE WHEN (dl.oldh_address IS NOT NULL AND a_address.v IS NULL) THEN substr(dl.old_address, 1, 64) END AS first_name, CASE WHEN (dl.oldh_address IS NOT NULL AND a_address.v IS NULL) THEN substr(dl.old_address, 66, 64) END AS last_name, CASE WHEN (dl.oldh_address IS NOT NULL AND a_address.v IS NULL) THEN substr(dl.old_address, 134) END AS zip, CASE WHEN (dl.oldh_address IS NOT NULL AND a_address.v IS NULL) THEN substr(dl.old_address, 131, 2) END AS country, ((dl.oldh_email IS NOT NULL AND a_email.v IS NULL) AND dl.oldh_email IS NOT NULL) OR ((dl.oldh_phone IS NOT NULL AND a_phone.v IS NULL) AND dl.oldh_phone IS NOT NULL) OR ((dl.oldh_address IS NOT NULL AND a_address.v IS NULL) AND dl.old_address IS NOT NULL) AS sendable, ((dl.oldh_address IS NOT NULL AND a_address.v IS NULL) AND dl.old_address IS NULL) AS address_lost
  FROM (SELECT * FROM "_audsync_delta_1" WHERE NOT dead_lettered) dl
  LEFT JOIN after_email a_email ON a_email.v = dl.oldh_email
  LEFT JOIN after_phone a_phone ON a_phone.v = dl.oldh_phone
  LEFT JOIN after_address a_address ON a_address.v = dl.oldh_address
  WHERE dl.op IN ('remove', 'change') AND ((dl.oldh_email IS NOT NULL AND a_email.v IS NULL) OR (dl.oldh_phone IS NOT NULL AND a_phone.v IS NULL) OR (dl.oldh_address IS NOT NULL AND a_address.v IS NULL))
),
removes AS (SELECT member_key, 'remove' AS op, email, phone, first_name, last_name, zip, country FROM orphans WHERE sendable),
lost AS (SELECT member_key, 'lost' AS op, CAST(NULL AS TEXT) AS email, CAST(NULL AS TEXT) AS phone, CAST(NULL AS TEXT) AS first_name, CAST(NULL AS TEXT) AS last_name, CAST(NULL AS TEXT) AS zip, CAST(NULL AS TEXT) AS country FROM orphans WHERE (NOT sendable AND member_op = 'remove') OR address_lost),
parts AS (SELECT * FROM adds
UNION ALL
SELECT * FROM removes
UNION ALL
SELECT * FROM lost)
SELECT member_key, op, email, phone, first_name, last_name, zip, country, dense_rank() OVER (ORDER BY op, email, phone, first_name, last_name, zip, country) AS row_id, rank() OVER (ORDER BY op, email, phone, first_name, last_name, zip, country) = row_number() OVER (ORDER BY op, email, phone, first_name, last_name, zip, country) AS first_of_row
FROM parts;
