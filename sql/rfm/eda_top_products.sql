-- The :top_n products with the highest revenue, labelled with the stock code's most common
-- description (ties: alphabetical), as rfm_helpers.report.eda.top_products.
WITH labels AS (
  SELECT
    stock_code,
    description,
    ROW_NUMBER() OVER (PARTITION BY stock_code ORDER BY COUNT(*) DESC, description) AS place
  FROM rfm_clean
  WHERE description IS NOT NULL
  GROUP BY stock_code, description
),
products AS (
  SELECT
    stock_code,
    SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue,
    COUNT(DISTINCT invoice_id) AS orders,
    SUM(quantity) AS units
  FROM rfm_clean
  GROUP BY stock_code
  -- Ties broken by stock code, so that every engine lists (and cuts) them alike.
  ORDER BY revenue DESC, stock_code
  LIMIT :top_n
)
SELECT p.stock_code, COALESCE(l.description, p.stock_code) AS product, p.revenue, p.orders, p.units
FROM products AS p
LEFT JOIN labels AS l
  ON l.stock_code = p.stock_code AND l.place = 1
ORDER BY p.revenue DESC, p.stock_code
