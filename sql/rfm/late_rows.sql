-- Clean rows dated on or after :after, the day after the last allowed one
-- (rfm_helpers.analysis.metrics.last_allowed_day: the snapshot date, or the day the report runs): how
-- many, and the latest of them (ties: the smallest invoice, then customer). No row = none.
SELECT
  COUNT(*) OVER () AS row_count,
  invoice_date,
  invoice_id,
  customer_id
FROM rfm_clean
WHERE invoice_date >= :after
ORDER BY invoice_date DESC, invoice_id, customer_id
LIMIT 1
