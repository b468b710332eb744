-- The most frequent values among the rows a rule removes, for the ledger's note: the
-- description for flagged descriptions, the stock code for non-product codes. Ties keep the
-- order of first appearance (pandas' value_counts is a stable sort).
WITH removed AS (
  SELECT
    removed_by,
    CASE WHEN removed_by = 'flagged_descriptions' THEN description ELSE stock_code END AS value,
    row_id
  FROM rfm_typed
  WHERE removed_by IN ('flagged_descriptions', 'non_product_codes')
),
counted AS (
  SELECT removed_by, value, COUNT(*) AS row_count, MIN(row_id) AS first_row_id
  FROM removed
  GROUP BY removed_by, value
),
ranked AS (
  SELECT
    removed_by, value, row_count,
    ROW_NUMBER() OVER (PARTITION BY removed_by ORDER BY row_count DESC, first_row_id) AS place
  FROM counted
)
SELECT removed_by, value, row_count, place
FROM ranked
WHERE place <= :top_n
ORDER BY removed_by, place
