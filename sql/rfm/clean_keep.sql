-- Rule 7, cleaning.duplicates = keep: every line rules 1-6 keep.
SELECT
  invoice_id, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, amount,
  revenue, row_id
FROM rfm_typed
WHERE removed_by IS NULL
