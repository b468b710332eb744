"""Where the rules live: the SQL engines (DuckDB, PostgreSQL, Spark), dialects, the cleaning rules
and the transactions path that builds the customer table and the report aggregates.
"""
