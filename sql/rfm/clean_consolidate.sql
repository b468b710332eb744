-- Rule 7, cleaning.duplicates = consolidate (the document's rule), on the rows rules 1-6 keep.
-- Lines sharing (invoice, stock code, date, customer) and the same quantity and price are
-- copies: the first (by row_id) is kept. Lines of one key left with different quantities or
-- prices are one line split in parts: they become the key's first line with the quantities,
-- amounts and revenue added up (unit price = revenue / quantity). As rfm_helpers.sql.cleaning.
-- Almost every key has one line, which the rule keeps as it is: only the lines of keys shared
-- by several lines (query.shared_keys: shared_keys.sql) go through the windows, so the windows
-- sort a few percent of the rows instead of all of them (the same result, several times faster).
WITH survivors AS (
  SELECT * FROM rfm_typed WHERE removed_by IS NULL
),
marked AS (
  SELECT s.*, k.key_rows IS NOT NULL AS shared
  FROM survivors AS s
  LEFT JOIN query.shared_keys AS k
    ON k.invoice_id IS NOT DISTINCT FROM s.invoice_id
    AND k.stock_code IS NOT DISTINCT FROM s.stock_code
    AND k.invoice_date IS NOT DISTINCT FROM s.invoice_date
    AND k.customer_id IS NOT DISTINCT FROM s.customer_id
),
numbered AS (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY
        invoice_id, stock_code, invoice_date, customer_id,
        -- the values that make two lines copies: quantity and price, else the amount
        CASE WHEN :copies_by_amount THEN NULL ELSE quantity END,
        CASE WHEN :copies_by_amount THEN NULL ELSE unit_price END,
        CASE WHEN :copies_by_amount THEN amount ELSE NULL END
      ORDER BY row_id
    ) AS copy_number
  FROM marked
  WHERE shared
),
variants AS (
  SELECT
    *,
    -- No named WINDOW: Spark cannot add an ORDER BY to one.
    COUNT(*) OVER (PARTITION BY invoice_id, stock_code, invoice_date, customer_id) AS key_lines,
    ROW_NUMBER() OVER (PARTITION BY invoice_id, stock_code, invoice_date, customer_id ORDER BY row_id) AS line_number,
    SUM(quantity) OVER (PARTITION BY invoice_id, stock_code, invoice_date, customer_id) AS key_quantity,
    SUM(CAST(amount AS DECIMAL(38, 6))) OVER (PARTITION BY invoice_id, stock_code, invoice_date, customer_id) AS key_amount,
    SUM(CAST(revenue AS DECIMAL(38, 6))) OVER (PARTITION BY invoice_id, stock_code, invoice_date, customer_id) AS key_revenue
  FROM numbered
  WHERE copy_number = 1
)
SELECT
  invoice_id,
  stock_code,
  description,
  CASE WHEN key_lines > 1 THEN key_quantity ELSE quantity END AS quantity,
  invoice_date,
  CASE
    WHEN key_lines > 1 AND NOT :copies_by_amount THEN CAST(key_revenue AS DOUBLE) / key_quantity
    ELSE unit_price
  END AS unit_price,
  customer_id,
  country,
  CASE WHEN key_lines > 1 THEN CAST(key_amount AS DOUBLE) ELSE amount END AS amount,
  CASE WHEN key_lines > 1 THEN CAST(key_revenue AS DOUBLE) ELSE revenue END AS revenue,
  row_id
FROM variants
WHERE line_number = 1
UNION ALL
-- the lines whose key no other line shares: kept as they are
SELECT
  invoice_id, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, amount,
  revenue, row_id
FROM marked
WHERE NOT shared
