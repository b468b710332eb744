-- Rule 7's keys (invoice, stock code, date, customer) that several of the rows rules 1-6 keep
-- share, with their number of rows (key_rows). Almost every key has one line, which rule 7 keeps
-- as it is: only the lines of these keys need its windows and groups. Read as query.shared_keys
-- by clean_consolidate.sql and duplicate_counts.sql (rfm_helpers.sql.dialect inlines it), from
-- their CTE survivors (the rows rules 1-6 keep): one relation that DuckDB reads once for all.
SELECT invoice_id, stock_code, invoice_date, customer_id, COUNT(*) AS key_rows
FROM survivors
GROUP BY invoice_id, stock_code, invoice_date, customer_id
HAVING COUNT(*) > 1
