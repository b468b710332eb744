-- Customers, orders and revenue per country, largest revenue first (rfm_helpers.report.eda.by_country).
SELECT
  country,
  COUNT(DISTINCT customer_id) AS customers,
  COUNT(DISTINCT invoice_id) AS orders,
  SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue
FROM rfm_clean
WHERE country IS NOT NULL
GROUP BY country
ORDER BY revenue DESC, country
