-- Per month: active customers, new and returning ones, and the mean and median recency,
-- frequency and monetary of the month's customers (rfm_helpers.analysis.metrics.monthly_rfm_trend).
-- Recency of a returning customer: days from their last purchase day before the month to
-- their first purchase day in it; new customers have none. Monetary stays an exact decimal
-- until its mean: a mean of doubles summed on parallel threads differs in its last bits from
-- run to run, which changed this mart's bytes and so reran the steps that read it.
WITH per_customer AS (
  SELECT
    DATE_TRUNC('month', invoice_date) AS month,
    customer_id,
    MIN(CAST(invoice_date AS DATE)) AS first_day,
    MAX(CAST(invoice_date AS DATE)) AS last_day,
    CASE WHEN :frequency_lines THEN COUNT(*) ELSE COUNT(DISTINCT invoice_id) END AS frequency,
    SUM(CAST(revenue AS DECIMAL(38, 6))) AS monetary
  FROM rfm_clean
  GROUP BY DATE_TRUNC('month', invoice_date), customer_id
),
with_previous AS (
  SELECT
    *,
    LAG(last_day) OVER (PARTITION BY customer_id ORDER BY month) AS previous_last_day
  FROM per_customer
)
SELECT
  month,
  COUNT(*) AS customers,
  COUNT(previous_last_day) AS returning_customers,
  AVG(DATE_DIFF('day', previous_last_day, first_day)) AS recency_mean,
  AVG(frequency) AS frequency_mean,
  CAST(AVG(monetary) AS DOUBLE) AS monetary_mean,
  MEDIAN(DATE_DIFF('day', previous_last_day, first_day)) AS recency_median,
  MEDIAN(frequency) AS frequency_median,
  MEDIAN(CAST(monetary AS DOUBLE)) AS monetary_median
FROM with_previous
GROUP BY month
ORDER BY month
