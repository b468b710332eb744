-- The figures of the consolidate rule's ledger note, from the rows rules 1-6 keep.
WITH lines AS (
  SELECT invoice_id, stock_code, invoice_date, customer_id, COUNT(*) AS copies
  FROM rfm_typed
  WHERE removed_by IS NULL
  GROUP BY
    invoice_id, stock_code, invoice_date, customer_id,
    CASE WHEN :copies_by_amount THEN NULL ELSE quantity END,
    CASE WHEN :copies_by_amount THEN NULL ELSE unit_price END,
    CASE WHEN :copies_by_amount THEN amount ELSE NULL END
),
keys AS (
  SELECT SUM(copies) AS key_rows, COUNT(*) AS key_variants
  FROM lines
  GROUP BY invoice_id, stock_code, invoice_date, customer_id
)
SELECT
  COALESCE(SUM(key_rows), 0) AS survivor_rows,
  COUNT(*) AS keys,
  COALESCE(SUM(CASE WHEN key_rows > 1 THEN 1 ELSE 0 END), 0) AS keys_shared,
  COALESCE(SUM(key_variants), 0) AS distinct_lines,
  COALESCE(SUM(CASE WHEN key_variants > 1 THEN 1 ELSE 0 END), 0) AS keys_summed,
  COALESCE(SUM(CASE WHEN key_variants > 1 THEN key_variants ELSE 0 END), 0) AS lines_in_summed_keys
FROM keys
