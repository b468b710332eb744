-- Rows and revenue each rule removes (removed_by NULL = rows left for the duplicates rule).
-- Money is summed as DECIMAL: exact, so the total does not depend on the order rows arrive in.
SELECT
  removed_by,
  COUNT(*) AS row_count,
  SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue
FROM rfm_typed
GROUP BY removed_by
