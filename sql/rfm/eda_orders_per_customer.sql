-- How many customers placed 1, 2, ... 9 and 10 or more orders (rfm_helpers.report.eda.orders_per_customer).
WITH per_customer AS (
  SELECT LEAST(COUNT(DISTINCT invoice_id), 10) AS orders
  FROM rfm_clean
  GROUP BY customer_id
)
SELECT orders, COUNT(*) AS customers
FROM per_customer
GROUP BY orders
ORDER BY orders
