"""Where data enters: the input checks, the loaders (csv, xlsx, parquet), typing in SQL with row-
level messages, the reference tables and the account extraction.
"""
