-- One row per order: lines and revenue (rfm_helpers.report.eda.orders, the columns the reports chart).
SELECT
  invoice_id,
  COUNT(*) AS lines,
  SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue
FROM rfm_clean
GROUP BY invoice_id
ORDER BY invoice_id
