-- Paying Roast Club members (converted after their trial) who cancelled in the 90 days up to
-- as_of_date and have not come back: no open trial or paid subscription at the end of as_of_date.
-- One row per customer: their most recent cancellation decides plan and cancel_reason, which the
-- winback_* models filter on. cancel_reason is one of too_expensive, not_using_enough,
-- missing_feature, switched_competitor, delivery_issues, moving, other, or NULL (not given).
WITH cancellations AS (
  SELECT
    customer_id,
    plan,
    cancelled_at,
    cancel_reason,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY cancelled_at DESC, subscription_id DESC) AS recency
  FROM crm.subscriptions
  WHERE converted_at IS NOT NULL
    AND CAST(cancelled_at AS DATE) > DATE '{{ var('as_of_date') }}' - 90
    AND CAST(cancelled_at AS DATE) <= DATE '{{ var('as_of_date') }}'
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
  x.plan,
  x.cancelled_at,
  x.cancel_reason
FROM cancellations AS x
JOIN crm.customers AS c
  ON c.customer_id = x.customer_id
WHERE x.recency = 1
  AND NOT EXISTS (SELECT 1 FROM open_subscriptions AS o WHERE o.customer_id = c.customer_id)
