-- What each customer with a clean transaction before :cutoff did in [:cutoff, :end): orders
-- (distinct invoices), purchase days (distinct calendar days) and revenue (summed exactly);
-- 0, 0, 0 for a customer who bought nothing in that window. Customers first seen in the window
-- are not listed (they had no score at :cutoff).
WITH active AS (
  SELECT DISTINCT customer_id
  FROM rfm_clean
  WHERE invoice_date < :cutoff
),
outcomes AS (
  SELECT
    customer_id,
    COUNT(DISTINCT invoice_id) AS orders,
    COUNT(DISTINCT CAST(invoice_date AS DATE)) AS purchase_days,
    SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue
  FROM rfm_clean
  WHERE invoice_date >= :cutoff AND invoice_date < :end
  GROUP BY customer_id
)
SELECT
  a.customer_id,
  COALESCE(o.orders, 0) AS orders,
  COALESCE(o.purchase_days, 0) AS purchase_days,
  COALESCE(o.revenue, 0) AS revenue
FROM active AS a
LEFT JOIN outcomes AS o
  ON o.customer_id = a.customer_id
ORDER BY a.customer_id
