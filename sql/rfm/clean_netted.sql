-- The clean transactions with cancelled orders netted (cleaning.cancellations: net), as
-- rfm_helpers.sql.cleaning.apply_netting: rfm_deduped (rules 1-7) minus the units rfm_netting
-- (cancel_netting.sql) takes off each purchase line. A line left with nothing is removed; one
-- left with part keeps its unit price, its amount and revenue scaled by remaining / quantity.
WITH taken AS (
  SELECT row_id, netted FROM rfm_netting WHERE kind = 0 AND netted > 0
),
lines AS (
  SELECT d.*, t.netted, d.quantity - t.netted AS remaining
  FROM rfm_deduped AS d
  LEFT JOIN taken AS t
    ON t.row_id = d.row_id
)
SELECT
  invoice_id,
  stock_code,
  description,
  CASE WHEN netted IS NULL THEN quantity ELSE remaining END AS quantity,
  invoice_date,
  unit_price,
  customer_id,
  country,
  CASE WHEN netted IS NULL THEN amount ELSE amount * remaining / quantity END AS amount,
  CASE WHEN netted IS NULL THEN revenue ELSE revenue * remaining / quantity END AS revenue,
  row_id
FROM lines
WHERE netted IS NULL OR remaining > 0
