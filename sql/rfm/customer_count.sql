-- Customers in the clean transactions (RFM needs at least two) and one of them, for messages.
SELECT COUNT(DISTINCT customer_id) AS customers, MIN(customer_id) AS any_customer
FROM rfm_clean
