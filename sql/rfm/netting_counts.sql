-- The figures of the netting's ledger note (rfm_helpers.sql.cleaning.NettingSummary), from
-- rfm_netting (cancel_netting.sql).
SELECT
  COALESCE(SUM(CASE WHEN kind = 1 AND netted = quantity THEN 1 ELSE 0 END), 0) AS matched_in_full,
  COALESCE(SUM(CASE WHEN kind = 1 AND netted > 0 AND netted < quantity THEN 1 ELSE 0 END), 0)
    AS matched_in_part,
  COALESCE(SUM(CASE WHEN kind = 1 AND netted = 0 THEN 1 ELSE 0 END), 0) AS unmatched,
  COALESCE(SUM(CASE WHEN kind = 1 THEN quantity - netted ELSE 0 END), 0) AS unmatched_units,
  COALESCE(SUM(CASE WHEN kind = 0 AND netted > 0 AND netted >= quantity THEN 1 ELSE 0 END), 0)
    AS purchase_lines_removed,
  COALESCE(SUM(CASE WHEN kind = 0 AND netted > 0 AND netted < quantity THEN 1 ELSE 0 END), 0)
    AS purchase_lines_reduced
FROM rfm_netting
