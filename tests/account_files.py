"""DuckDB files as users have them, for the ownership tests and the accounts catalogue."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def plain_duckdb(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write ``tables`` (``"schema.table"``) into a new DuckDB file the way a user's export would:
    plain tables, without the tool's marker."""
    with duckdb.connect(str(path)) as con:
        for schema in sorted({name.split(".")[0] for name in tables}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name, frame in tables.items():
            con.register("incoming", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
            con.unregister("incoming")
    return path


def user_database(path: Path) -> Path:
    """A small DuckDB file of someone's own data (one table, no marker)."""
    return plain_duckdb({"main.orders": pd.DataFrame({"order_id": [1, 2], "amount": [9.5, 12.0]})}, path)
