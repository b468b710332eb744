-- The figures of the consolidate rule's ledger note, from the rows rules 1-6 keep.
-- A key with one line is one line, one key and no copy: only the keys shared by several lines
-- (query.shared_keys: shared_keys.sql) are grouped by their copies; the others are counted.
WITH survivors AS (
  SELECT * FROM rfm_typed WHERE removed_by IS NULL
),
lines AS (
  SELECT s.invoice_id, s.stock_code, s.invoice_date, s.customer_id, COUNT(*) AS copies
  FROM survivors AS s
  JOIN query.shared_keys AS k
    ON k.invoice_id IS NOT DISTINCT FROM s.invoice_id
    AND k.stock_code IS NOT DISTINCT FROM s.stock_code
    AND k.invoice_date IS NOT DISTINCT FROM s.invoice_date
    AND k.customer_id IS NOT DISTINCT FROM s.customer_id
  GROUP BY
    s.invoice_id, s.stock_code, s.invoice_date, s.customer_id,
    CASE WHEN :copies_by_amount THEN NULL ELSE s.quantity END,
    CASE WHEN :copies_by_amount THEN NULL ELSE s.unit_price END,
    CASE WHEN :copies_by_amount THEN s.amount ELSE NULL END
),
keys AS (
  SELECT SUM(copies) AS key_rows, COUNT(*) AS key_variants
  FROM lines
  GROUP BY invoice_id, stock_code, invoice_date, customer_id
),
shared AS (
  SELECT
    COUNT(*) AS keys,
    COALESCE(SUM(key_rows), 0) AS rows_in_shared_keys,
    COALESCE(SUM(key_variants), 0) AS distinct_lines,
    COALESCE(SUM(CASE WHEN key_variants > 1 THEN 1 ELSE 0 END), 0) AS keys_summed,
    COALESCE(SUM(CASE WHEN key_variants > 1 THEN key_variants ELSE 0 END), 0) AS lines_in_summed_keys
  FROM keys
),
everything AS (
  SELECT COUNT(*) AS survivor_rows FROM survivors
)
SELECT
  e.survivor_rows,
  e.survivor_rows - s.rows_in_shared_keys + s.keys AS keys,
  s.keys AS keys_shared,
  e.survivor_rows - s.rows_in_shared_keys + s.distinct_lines AS distinct_lines,
  s.keys_summed,
  s.lines_in_summed_keys
FROM everything AS e
CROSS JOIN shared AS s
