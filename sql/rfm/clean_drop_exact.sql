-- Rule 7, cleaning.duplicates = drop_exact: of lines identical in every column, keep the first.
WITH numbered AS (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY
        invoice_id, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
        amount, revenue
      ORDER BY row_id
    ) AS copy_number
  FROM rfm_typed
  WHERE removed_by IS NULL
)
SELECT
  invoice_id, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, amount,
  revenue, row_id
FROM numbered
WHERE copy_number = 1
