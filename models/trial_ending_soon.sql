-- Open trials (as in trial_active) whose trial ends within trial_ending_days days after
-- as_of_date: the last chance to convert them before the trial runs out.
SELECT
  c.customer_id,
  c.email,
  c.phone,
  c.first_name,
  c.last_name,
  c.postal_code,
  c.country_code,
  c.ads_consent,
  c.updated_at,
  MAX(s.plan) AS plan,
  MAX(s.trial_ends_at) AS trial_ends_at
FROM crm.customers AS c
JOIN crm.subscriptions AS s
  ON s.customer_id = c.customer_id
WHERE CAST(s.trial_started_at AS DATE) <= DATE '{{ var('as_of_date') }}'
  AND CAST(s.trial_ends_at AS DATE) > DATE '{{ var('as_of_date') }}'
  AND CAST(s.trial_ends_at AS DATE) <= DATE '{{ var('as_of_date') }}' + {{ var('trial_ending_days') }}
  AND (s.converted_at IS NULL OR CAST(s.converted_at AS DATE) > DATE '{{ var('as_of_date') }}')
  AND (s.cancelled_at IS NULL OR CAST(s.cancelled_at AS DATE) > DATE '{{ var('as_of_date') }}')
GROUP BY c.customer_id, c.email, c.phone, c.first_name, c.last_name, c.postal_code, c.country_code, c.ads_consent, c.updated_at
