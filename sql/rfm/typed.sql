-- Transactions typed as rfm_helpers.data.loading.load_transactions types them, plus revenue and
-- the cleaning rule that removes each row (NULL = the row survives rules 1-6). This file is the
-- one definition of rules 1-6; the ledger, the cleaning report's investigations and its
-- sentences all read removed_by (and is_cancellation) from here.
-- Input: rfm_source (canonical columns, unmapped ones NULL, plus row_id = the export's row
-- order), rfm_missing_text(value), rfm_flagged_descriptions(description_key, lower-cased),
-- rfm_non_product_codes(stock_code).
-- A row is removed by the FIRST rule that matches it, in the order of
-- the ledger (rfm_helpers.sql.cleaning.ROW_RULES); that is the same as applying the rules one by one.
WITH texts AS (
  SELECT
    row_id,
    TRIM(CAST(invoice_id AS VARCHAR)) AS invoice_id,
    TRIM(CAST(stock_code AS VARCHAR)) AS stock_code,
    CAST(description AS VARCHAR) AS description,
    TRIM(CAST(customer_id AS VARCHAR)) AS customer_id,
    TRIM(CAST(country AS VARCHAR)) AS country,
    CAST(quantity AS DOUBLE) AS quantity,
    CAST(unit_price AS DOUBLE) AS unit_price,
    CAST(amount AS DOUBLE) AS amount,
    CAST(invoice_date AS TIMESTAMP) AS invoice_date
  FROM rfm_source
),
typed AS (
  SELECT
    row_id,
    CASE WHEN invoice_id IN (SELECT value FROM rfm_missing_text) THEN NULL ELSE invoice_id END AS invoice_id,
    CASE WHEN stock_code IN (SELECT value FROM rfm_missing_text) THEN NULL ELSE stock_code END AS stock_code,
    -- The cleaning step trims descriptions (the loader keeps them as written).
    CASE WHEN TRIM(description) IN (SELECT value FROM rfm_missing_text) THEN NULL ELSE TRIM(description) END
      AS description,
    quantity,
    invoice_date,
    unit_price,
    CASE
      WHEN customer_id IN (SELECT value FROM rfm_missing_text) THEN NULL
      -- "17850.0" (an id written from a float column) is customer "17850". Only ids with a "."
      -- are matched against the pattern: on every id, it took ~3 s of CPU per 100M rows.
      WHEN customer_id LIKE '%.%' AND REGEXP_MATCHES(customer_id, '^[0-9]+[.]0*$')
        THEN SPLIT_PART(customer_id, '.', 1)
      ELSE customer_id
    END AS customer_id,
    CASE WHEN country IN (SELECT value FROM rfm_missing_text) THEN NULL ELSE country END AS country,
    amount,
    CASE WHEN :revenue_from_amount THEN amount ELSE quantity * unit_price END AS revenue,
    CASE WHEN :price_from_amount THEN amount ELSE unit_price END AS price,
    -- A cancellation line: its invoice number starts with a capital "C".
    COALESCE(invoice_id LIKE 'C%', FALSE) AS is_cancellation
  FROM texts
)
SELECT
  invoice_id, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, amount,
  revenue, row_id, is_cancellation,
  CASE
    WHEN :rule_cancellation_lines AND is_cancellation THEN 'cancellation_lines'
    WHEN :rule_non_positive_quantity AND NOT COALESCE(quantity > 0, FALSE) THEN 'non_positive_quantity'
    WHEN :rule_flagged_descriptions
      AND LOWER(description) IN (SELECT description_key FROM rfm_flagged_descriptions)
      THEN 'flagged_descriptions'
    WHEN :rule_non_positive_price AND NOT COALESCE(price > 0, FALSE) THEN 'non_positive_price'
    WHEN :rule_non_product_codes AND stock_code IN (SELECT stock_code FROM rfm_non_product_codes)
      THEN 'non_product_codes'
    WHEN customer_id IS NULL THEN 'missing_customer'
  END AS removed_by
FROM typed
