-- Trials that ended in the 30 days up to as_of_date without converting (whether the member let
-- the trial run out or cancelled it early), leaving out anyone who has an open trial or a paid
-- subscription at the end of as_of_date, such as a member who converted late or started again.
WITH lapsed AS (
  SELECT customer_id, MAX(trial_ends_at) AS trial_ended_at
  FROM crm.subscriptions
  WHERE CAST(trial_ends_at AS DATE) > DATE '{{ var('as_of_date') }}' - 30
    AND CAST(trial_ends_at AS DATE) <= DATE '{{ var('as_of_date') }}'
    AND (converted_at IS NULL OR CAST(converted_at AS DATE) > DATE '{{ var('as_of_date') }}')
  GROUP BY customer_id
),

open_subscriptions AS (
  -- Started, not cancelled, and either still in the trial or converted to a paid plan.
  SELECT customer_id
  FROM crm.subscriptions
  WHERE CAST(trial_started_at AS DATE) <= DATE '{{ var('as_of_date') }}'
    AND (cancelled_at IS NULL OR CAST(cancelled_at AS DATE) > DATE '{{ var('as_of_date') }}')
    AND (CAST(trial_ends_at AS DATE) > DATE '{{ var('as_of_date') }}'
         OR CAST(converted_at AS DATE) <= DATE '{{ var('as_of_date') }}')
)

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
  l.trial_ended_at
FROM crm.customers AS c
JOIN lapsed AS l
  ON l.customer_id = c.customer_id
WHERE NOT EXISTS (SELECT 1 FROM open_subscriptions AS o WHERE o.customer_id = c.customer_id)
