-- Revenue, orders and active customers per calendar month (rfm_helpers.report.eda.monthly).
SELECT
  DATE_TRUNC('month', invoice_date) AS month,
  SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue,
  COUNT(DISTINCT invoice_id) AS orders,
  COUNT(DISTINCT customer_id) AS customers
FROM rfm_clean
GROUP BY DATE_TRUNC('month', invoice_date)
ORDER BY month
