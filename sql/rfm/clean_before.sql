-- The clean transactions dated before :cutoff: rfm_clean as it stood on that day, for the
-- customer table as of a past date (the backtest of rfm_helpers.analysis.backtest).
SELECT *
FROM rfm_clean
WHERE invoice_date < :cutoff
