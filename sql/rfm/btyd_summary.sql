-- One row per customer of the clean transactions dated before :cutoff: the buy-till-you-die
-- summary of rfm_helpers.analysis.predictive.rfm_summary, with the purchase period a calendar
-- day (rows of one customer on one day are one purchase, their revenue summed exactly):
-- frequency = distinct purchase days - 1 (repeat purchases), recency = days from the first to
-- the last purchase day, t_cutoff (the models' T) = days from the first purchase day to
-- :cutoff (named t_cutoff: PostgreSQL folds unquoted names to lower case), monetary_value =
-- mean revenue of the repeat purchase days (their exact sum / frequency; 0 without any).
WITH purchase_days AS (
  SELECT
    customer_id,
    CAST(invoice_date AS DATE) AS day,
    SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue
  FROM rfm_clean
  WHERE invoice_date < :cutoff
  GROUP BY customer_id, CAST(invoice_date AS DATE)
),
numbered AS (
  SELECT
    customer_id,
    day,
    revenue,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS place
  FROM purchase_days
)
SELECT
  customer_id,
  COUNT(*) - 1 AS frequency,
  DATE_DIFF('day', MIN(day), MAX(day)) AS recency,
  DATE_DIFF('day', MIN(day), :cutoff) AS t_cutoff,
  COALESCE(
    CAST(SUM(CASE WHEN place > 1 THEN revenue END) AS DOUBLE) / NULLIF(COUNT(*) - 1, 0), 0
  ) AS monetary_value
FROM numbered
GROUP BY customer_id
ORDER BY customer_id
