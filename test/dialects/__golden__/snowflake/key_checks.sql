SELECT k.*, m.model_rows AS row_count,
  k.unheld_keys + coalesce(k.held_in_model, 0) + (m.model_rows - coalesce(k.candidate_rows, 0)) - CASE WHEN coalesce(k.held_rows, 0) + (m.model_rows - coalesce(k.candidate_rows, 0)) > (SELECT count(*) FROM ANALYTICS.audsync.audsync_snapshots WHERE sync_id = 'buyers__meta') THEN 1 ELSE 0 END AS distinct_keys
FROM (
  SELECT sum(CASE WHEN in_model THEN 1 ELSE 0 END) AS candidate_rows,
  count(DISTINCT CASE WHEN in_model AND NOT held_0 THEN member_key END) AS unheld_keys,
  sum(CASE WHEN in_model AND held_0 THEN 1 ELSE 0 END) AS held_in_model,
  sum(CASE WHEN held_0 THEN 1 ELSE 0 END) AS held_rows,
  sum(CASE WHEN in_model AND member_key IS NULL THEN 1 ELSE 0 END) AS null_keys,
  sum(CASE WHEN in_model AND normalized THEN 1 ELSE 0 END) AS normalized_rows,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_email THEN 1 ELSE 0 END) AS s0__present_email,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_email AND NOT n_email__email IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_email,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_phone THEN 1 ELSE 0 END) AS s0__present_phone,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_phone AND NOT n_phone__phone_digits IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_phone,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_first_name THEN 1 ELSE 0 END) AS s0__present_first_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_first_name AND NOT n_first_name__name IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_first_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_last_name THEN 1 ELSE 0 END) AS s0__present_last_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_last_name AND NOT n_last_name__name IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_last_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_zip THEN 1 ELSE 0 END) AS s0__present_zip,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_zip AND NOT n_zip__zip IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_zip,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_country THEN 1 ELSE 0 END) AS s0__present_country,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_country AND NOT n_country__country_lower IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_country,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_maid THEN 1 ELSE 0 END) AS s0__present_maid,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_maid AND NOT n_maid__maid IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_maid,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_external_id THEN 1 ELSE 0 END) AS s0__present_external_id,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_external_id AND NOT n_external_id__trimmed IS NOT NULL THEN 1 ELSE 0 END) AS s0__invalid_external_id,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND NOT consented THEN 1 ELSE 0 END) AS s0__no_consent,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND consented AND held_out THEN 1 ELSE 0 END) AS s0__held_out,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND NOT (n_email__email IS NOT NULL OR n_phone__phone_digits IS NOT NULL OR n_maid__maid IS NOT NULL OR n_external_id__trimmed IS NOT NULL) THEN 1 ELSE 0 END) AS s0__invalid,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND (n_email__email IS NOT NULL OR n_phone__phone_digits IS NOT NULL OR n_maid__maid IS NOT NULL OR n_external_id__trimmed IS NOT NULL) THEN 1 ELSE 0 END) AS s0__members,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_email THEN 1 ELSE 0 END) AS s1__present_email,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_email AND NOT n_email__email_google IS NOT NULL THEN 1 ELSE 0 END) AS s1__invalid_email,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_phone THEN 1 ELSE 0 END) AS s1__present_phone,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_phone AND NOT n_phone__phone_e164 IS NOT NULL THEN 1 ELSE 0 END) AS s1__invalid_phone,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_first_name THEN 1 ELSE 0 END) AS s1__present_first_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_first_name AND NOT n_first_name__name_google IS NOT NULL THEN 1 ELSE 0 END) AS s1__invalid_first_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_last_name THEN 1 ELSE 0 END) AS s1__present_last_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_last_name AND NOT n_last_name__name_google IS NOT NULL THEN 1 ELSE 0 END) AS s1__invalid_last_name,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_zip THEN 1 ELSE 0 END) AS s1__present_zip,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_zip AND NOT n_zip__postal_code IS NOT NULL THEN 1 ELSE 0 END) AS s1__invalid_zip,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_country THEN 1 ELSE 0 END) AS s1__present_country,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND p_country AND NOT n_country__country_upper IS NOT NULL THEN 1 ELSE 0 END) AS s1__invalid_country,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND NOT consented THEN 1 ELSE 0 END) AS s1__no_consent,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND consented AND held_out THEN 1 ELSE 0 END) AS s1__held_out,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND NOT (n_email__email_google IS NOT NULL OR n_phone__phone_e164 IS NOT NULL) THEN 1 ELSE 0 END) AS s1__invalid,
  sum(CASE WHEN in_model AND member_key IS NOT NULL AND normalized AND consented AND NOT held_out AND (n_email__email_google IS NOT NULL OR n_phone__phone_e164 IS NOT NULL) THEN 1 ELSE 0 END) AS s1__members
  FROM _audsync_candidate_buyers
) k
CROSS JOIN (SELECT count(*) AS model_rows FROM (
SELECT customer_id, email, phone, first_name, last_name, postal_code, country_code, mobile_ad_id, consent, updated_at
FROM crm.customers
WHERE last_order_at >= '2026-01-01'
) src) m;

SELECT 0 AS sync_index, kinds_mask, sum(n) AS n FROM (
  SELECT kinds_mask, count(*) AS n FROM ANALYTICS.audsync.audsync_snapshots WHERE sync_id = 'buyers__meta' GROUP BY kinds_mask
  UNION ALL
  SELECT kinds_mask_0 AS kinds_mask, 0 - count(*) AS n FROM _audsync_candidate_buyers WHERE held_0 GROUP BY kinds_mask_0
) g0
GROUP BY kinds_mask HAVING sum(n) <> 0
UNION ALL
SELECT 1 AS sync_index, kinds_mask, sum(n) AS n FROM (
  SELECT kinds_mask, count(*) AS n FROM ANALYTICS.audsync.audsync_snapshots WHERE sync_id = 'buyers__google' GROUP BY kinds_mask
  UNION ALL
  SELECT kinds_mask_1 AS kinds_mask, 0 - count(*) AS n FROM _audsync_candidate_buyers WHERE held_1 GROUP BY kinds_mask_1
) g1
GROUP BY kinds_mask HAVING sum(n) <> 0;

SELECT CAST(src.customer_id AS VARCHAR) AS member_key, count(*) AS occurrences FROM (
SELECT customer_id, email, phone, first_name, last_name, postal_code, country_code, mobile_ad_id, consent, updated_at
FROM crm.customers
WHERE last_order_at >= '2026-01-01'
) src WHERE src.customer_id IS NOT NULL
GROUP BY CAST(src.customer_id AS VARCHAR) HAVING count(*) > 1 ORDER BY CAST(src.customer_id AS VARCHAR) LIMIT 3;
