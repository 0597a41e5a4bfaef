-- Customers with at least one order that was not returned in the purchase window: the
-- purchase_window_days days ending on as_of_date (both set in audsync.yml).
-- One row per customer, however many orders they placed; guest checkouts (no customer_id) drop out
-- in the join.
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
  COUNT(*) AS orders_in_window,
  MAX(o.ordered_at) AS last_ordered_at
FROM crm.customers AS c
JOIN crm.orders AS o
  ON o.customer_id = c.customer_id
WHERE NOT o.returned
  AND CAST(o.ordered_at AS DATE) > DATE '{{ var('as_of_date') }}' - {{ var('purchase_window_days') }}
  AND CAST(o.ordered_at AS DATE) <= DATE '{{ var('as_of_date') }}'
GROUP BY c.customer_id, c.email, c.phone, c.first_name, c.last_name, c.postal_code, c.country_code, c.ads_consent, c.updated_at
