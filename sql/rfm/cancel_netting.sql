-- Cancelled orders netted against the orders they cancel (cleaning.cancellations: net or drop),
-- as rfm_helpers.sql.cleaning.net_cancellations: each cancellation line (rfm_typed rows removed as
-- 'cancellation_lines' with a customer, a stock code and a negative quantity) takes its units
-- off the same customer's purchase lines of the same stock code in rfm_deduped (the lines rules
-- 1-7 keep, quantity > 0) dated at or before it, oldest first (FIFO). Event order per pair:
-- date, purchases before cancellations, row_id.
-- Closed form of the FIFO: with B = units bought so far and C = units cancelled so far, the
-- units consumed once cancellation j is applied are K_j = C_j + min(0, min over cancellations
-- i <= j of B_i - C_i); purchase line i gives up clamp(K - (B_i - q_i), 0, q_i), K being the
-- pair's last K_j; cancellation j matches K_j - K_(j-1) units.
-- Output: one row per event; kind 0 = purchase (netted = units consumed), 1 = cancellation
-- (netted = units matched); quantity = units bought or cancelled.
WITH cancels AS (
  SELECT customer_id, stock_code, invoice_date, row_id, -quantity AS quantity
  FROM rfm_typed
  WHERE removed_by = 'cancellation_lines'
    AND customer_id IS NOT NULL AND stock_code IS NOT NULL AND quantity < 0
),
pairs AS (
  SELECT DISTINCT customer_id, stock_code FROM cancels
),
events AS (
  SELECT d.customer_id, d.stock_code, d.invoice_date, 0 AS kind, d.row_id, d.quantity
  FROM rfm_deduped AS d
  JOIN pairs AS p
    ON p.customer_id = d.customer_id AND p.stock_code = d.stock_code
  WHERE d.quantity > 0
  UNION ALL
  SELECT customer_id, stock_code, invoice_date, 1 AS kind, row_id, quantity
  FROM cancels
),
running AS (
  SELECT
    *,
    SUM(CASE WHEN kind = 0 THEN quantity ELSE 0 END) OVER (
      PARTITION BY customer_id, stock_code ORDER BY invoice_date, kind, row_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS bought,
    SUM(CASE WHEN kind = 1 THEN quantity ELSE 0 END) OVER (
      PARTITION BY customer_id, stock_code ORDER BY invoice_date, kind, row_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cancelled
  FROM events
),
lowest AS (
  SELECT
    *,
    MIN(CASE WHEN kind = 1 THEN bought - cancelled END) OVER (
      PARTITION BY customer_id, stock_code ORDER BY invoice_date, kind, row_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS lowest_slack
  FROM running
),
consumed AS (
  SELECT
    *,
    CASE WHEN kind = 1 THEN cancelled + LEAST(lowest_slack, 0) END AS consumed_so_far
  FROM lowest
),
per_pair AS (
  SELECT
    *,
    MAX(consumed_so_far) OVER (PARTITION BY customer_id, stock_code) AS consumed_total
  FROM consumed
),
cancel_steps AS (
  SELECT
    row_id,
    consumed_so_far - COALESCE(
      LAG(consumed_so_far) OVER (PARTITION BY customer_id, stock_code ORDER BY invoice_date, row_id), 0
    ) AS matched
  FROM per_pair
  WHERE kind = 1
)
SELECT
  p.kind,
  p.row_id,
  p.quantity,
  CASE
    WHEN p.kind = 0 THEN LEAST(p.quantity, GREATEST(p.consumed_total - (p.bought - p.quantity), 0))
    ELSE c.matched
  END AS netted
FROM per_pair AS p
LEFT JOIN cancel_steps AS c
  ON p.kind = 1 AND c.row_id = p.row_id
