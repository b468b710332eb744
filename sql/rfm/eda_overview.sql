-- Headline figures of the clean transactions (rfm_helpers.report.eda.overview).
SELECT
  COUNT(*) AS invoice_lines,
  COUNT(DISTINCT invoice_id) AS orders,
  COUNT(DISTINCT customer_id) AS customers,
  SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue,
  MIN(invoice_date) AS first_date,
  MAX(invoice_date) AS last_date,
  COUNT(DISTINCT stock_code) AS products,
  COUNT(DISTINCT country) AS countries
FROM rfm_clean
