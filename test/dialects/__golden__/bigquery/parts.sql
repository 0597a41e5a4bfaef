CREATE OR REPLACE TEMP TABLE `_audsync_parts_0` AS
WITH refs_email AS (
  SELECT s.member_key, s.email_hash AS v FROM (SELECT member_key, email_hash FROM `acme-dwh`.`audsync`.audsync_snapshots WHERE sync_id = 'buyers__meta') s
  WHERE s.email_hash IN (SELECT new_email FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n UNION ALL SELECT oldh_email FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
),
before_email AS (SELECT DISTINCT v FROM refs_email WHERE v IN (SELECT new_email FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n)),
after_email AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_email r LEFT JOIN (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_email FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT new_email AS v FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl WHERE new_email IN (SELECT oldh_email FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
  ) u
),
refs_phone AS (
  SELECT s.member_key, s.phone_hash AS v FROM (SELECT member_key, phone_hash FROM `acme-dwh`.`audsync`.audsync_snapshots WHERE sync_id = 'buyers__meta') s
  WHERE s.phone_hash IN (SELECT new_phone FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n UNION ALL SELECT oldh_phone FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
),
before_phone AS (SELECT DISTINCT v FROM refs_phone WHERE v IN (SELECT new_phone FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n)),
after_phone AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_phone r LEFT JOIN (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_phone FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT new_phone AS v FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl WHERE new_phone IN (SELECT oldh_phone FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
  ) u
),
refs_maid AS (
  SELECT s.member_key, s.maid_hash AS v FROM (SELECT member_key, maid_hash FROM `acme-dwh`.`audsync`.audsync_snapshots WHERE sync_id = 'buyers__meta') s
  WHERE s.maid_hash IN (SELECT newh_maid FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n UNION ALL SELECT oldh_maid FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
),
before_maid AS (SELECT DISTINCT v FROM refs_maid WHERE v IN (SELECT newh_maid FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n)),
after_maid AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_maid r LEFT JOIN (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_maid FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT newh_maid AS v FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl WHERE newh_maid IN (SELECT oldh_maid FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
  ) u
),
refs_external_id AS (
  SELECT s.member_key, s.external_id_hash AS v FROM (SELECT member_key, external_id_hash FROM `acme-dwh`.`audsync`.audsync_snapshots WHERE sync_id = 'buyers__meta') s
  WHERE s.external_id_hash IN (SELECT newh_external_id FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n UNION ALL SELECT oldh_external_id FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
),
before_external_id AS (SELECT DISTINCT v FROM refs_external_id WHERE v IN (SELECT newh_external_id FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) n)),
after_external_id AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_external_id r LEFT JOIN (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_external_id FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
    UNION ALL
    SELECT newh_external_id AS v FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl WHERE newh_external_id IN (SELECT oldh_external_id FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) o)
  ) u
),
adds AS (
  SELECT dl.member_key, 'add' AS op, dl.new_email AS email, dl.new_phone AS phone, dl.new_first_name AS first_name, dl.new_last_name AS last_name, dl.new_zip AS zip, dl.new_country AS country, dl.new_maid AS maid, dl.new_external_id AS external_id
  FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl
  LEFT JOIN before_email b_email ON b_email.v = dl.new_email
  LEFT JOIN before_phone b_phone ON b_phone.v = dl.new_phone
  LEFT JOIN before_maid b_maid ON b_maid.v = dl.newh_maid
  LEFT JOIN before_external_id b_external_id ON b_external_id.v = dl.newh_external_id
  WHERE dl.op IN ('add', 'change') AND ((dl.new_email IS NOT NULL AND b_email.v IS NULL) OR (dl.new_phone IS NOT NULL AND b_phone.v IS NULL) OR (dl.newh_maid IS NOT NULL AND b_maid.v IS NULL) OR (dl.newh_external_id IS NOT NULL AND b_external_id.v IS NULL))
),
orphans AS (
  SELECT dl.member_key, dl.op AS member_op, CASE WHEN (dl.oldh_email IS NOT NULL AND a_email.v IS NULL) THEN dl.oldh_email END AS email, CASE WHEN (dl.oldh_phone IS NOT NULL AND a_phone.v IS NULL) THEN dl.oldh_phone END AS phone, dl.oldh_first_name AS first_name, dl.oldh_last_name AS last_name, dl.oldh_zip AS zip, dl.oldh_country AS country, CASE WHEN (dl.oldh_maid IS NOT NULL AND a_maid.v IS NULL) THEN dl.old_maid END AS maid, CASE WHEN (dl.oldh_external_id IS NOT NULL AND a_external_id.v IS NULL) THEN dl.old_external_id END AS external_id, ((dl.oldh_email IS NOT NULL AND a_email.v IS NULL) AND dl.oldh_email IS NOT NULL) OR ((dl.oldh_phone IS NOT NULL AND a_phone.v IS NULL) AND dl.oldh_phone IS NOT NULL) OR ((dl.oldh_maid IS NOT NULL AND a_maid.v IS NULL) AND dl.old_maid IS NOT NULL) OR ((dl.oldh_external_id IS NOT NULL AND a_external_id.v IS NULL) AND dl.old_external_id IS NOT NULL) AS sendable
  FROM (SELECT * FROM `_audsync_delta_0` WHERE NOT dead_lettered) dl
  LEFT JOIN after_email a_email ON a_email.v = dl.oldh_email
  LEFT JOIN after_phone a_phone ON a_phone.v = dl.oldh_phone
  LEFT JOIN after_maid a_maid ON a_maid.v = dl.oldh_maid
  LEFT JOIN after_external_id a_external_id ON a_external_id.v = dl.oldh_external_id
  WHERE dl.op IN ('remove', 'change') AND ((dl.oldh_email IS NOT NULL AND a_email.v IS NULL) OR (dl.oldh_phone IS NOT NULL AND a_phone.v IS NULL) OR (dl.oldh_maid IS NOT NULL AND a_maid.v IS NULL) OR (dl.oldh_external_id IS NOT NULL AND a_external_id.v IS NULL))
),
removes AS (SELECT member_key, 'remove' AS op, email, phone, first_name, last_name, zip, country, maid, external_id FROM orphans WHERE sendable),
lost AS (SELECT member_key, 'lost' AS op, CAST(NULL AS STRING) AS email, CAST(NULL AS STRING) AS phone, CAST(NULL AS STRING) AS first_name, CAST(NULL AS STRING) AS last_name, CAST(NULL AS STRING) AS zip, CAST(NULL AS STRING) AS country, CAST(NULL AS STRING) AS maid, CAST(NULL AS STRING) AS external_id FROM orphans WHERE NOT sendable AND member_op = 'remove'),
parts AS (SELECT * FROM adds
UNION ALL
SELECT * FROM removes
UNION ALL
SELECT * FROM lost)
SELECT member_key, op, email, phone, first_name, last_name, zip, country, maid, external_id, dense_rank() OVER (ORDER BY op, email, phone, first_name, last_name, zip, country, maid, external_id) AS row_id, rank() OVER (ORDER BY op, email, phone, first_name, last_name, zip, country, maid, external_id) = row_number() OVER (ORDER BY op, email, phone, first_name, last_name, zip, country, maid, external_id) AS first_of_row
FROM parts;
