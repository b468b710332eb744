-- One row per customer of the clean transactions (rfm_clean), as
-- rfm_helpers.analysis.metrics.customer_metrics: recency in calendar days from :snapshot to the day of
-- the last purchase, frequency in distinct invoices (or lines when :frequency_lines), monetary
-- = revenue summed exactly (DECIMAL), and the most frequent country (ties: alphabetical).
WITH per_customer AS (
  SELECT
    customer_id,
    MIN(invoice_date) AS first_purchase,
    MAX(invoice_date) AS last_purchase,
    CASE WHEN :frequency_lines THEN COUNT(*) ELSE COUNT(DISTINCT invoice_id) END AS frequency,
    SUM(CAST(revenue AS DECIMAL(38, 6))) AS monetary
  FROM rfm_clean
  GROUP BY customer_id
),
country_rows AS (
  SELECT customer_id, country, COUNT(*) AS row_count
  FROM rfm_clean
  WHERE country IS NOT NULL
  GROUP BY customer_id, country
),
ranked_countries AS (
  SELECT
    customer_id,
    country,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY row_count DESC, country) AS place
  FROM country_rows
)
SELECT
  p.customer_id,
  DATE_DIFF('day', CAST(p.last_purchase AS DATE), :snapshot) AS recency,
  p.frequency,
  p.monetary,
  p.first_purchase,
  p.last_purchase,
  c.country
FROM per_customer AS p
LEFT JOIN ranked_countries AS c
  ON c.customer_id = p.customer_id AND c.place = 1
ORDER BY p.customer_id
