-- Rows, exact revenue and date range of the clean transactions (rfm_clean): the ledger's
-- last line and the dates the snapshot is resolved from.
SELECT
  COUNT(*) AS row_count,
  SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue,
  MIN(invoice_date) AS first_date,
  MAX(invoice_date) AS last_date
FROM rfm_clean
