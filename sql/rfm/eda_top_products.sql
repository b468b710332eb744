-- The :top_n products with the highest revenue, labelled with the stock code's most common
-- description (ties: alphabetical), as rfm_helpers.report.eda.top_products.
WITH products AS (
  SELECT stock_code, SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue, SUM(quantity) AS units
  FROM rfm_clean
  GROUP BY stock_code
  -- Ties broken by stock code, so that every engine lists (and cuts) them alike.
  ORDER BY revenue DESC, stock_code
  LIMIT :top_n
),
-- Orders and labels are counted on the listed products' lines only: counting the distinct
-- invoices of every stock code took most of the query's time (100M lines: 8 of 10 s).
listed AS (
  SELECT invoice_id, stock_code, description
  FROM rfm_clean
  WHERE stock_code IN (SELECT stock_code FROM products)
    OR (stock_code IS NULL AND EXISTS (SELECT 1 FROM products WHERE stock_code IS NULL))
),
orders AS (
  SELECT stock_code, COUNT(DISTINCT invoice_id) AS orders
  FROM listed
  GROUP BY stock_code
),
labels AS (
  SELECT
    stock_code,
    description,
    ROW_NUMBER() OVER (PARTITION BY stock_code ORDER BY COUNT(*) DESC, description) AS place
  FROM listed
  WHERE description IS NOT NULL
  GROUP BY stock_code, description
)
SELECT p.stock_code, COALESCE(l.description, p.stock_code) AS product, p.revenue, o.orders, p.units
FROM products AS p
JOIN orders AS o
  ON o.stock_code IS NOT DISTINCT FROM p.stock_code
LEFT JOIN labels AS l
  ON l.stock_code = p.stock_code AND l.place = 1
ORDER BY p.revenue DESC, p.stock_code
