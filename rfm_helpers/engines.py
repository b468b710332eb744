"""The SQL engines the transactions path runs on, behind one small interface.

:class:`SQLEngine` is all that the SQL of ``sql/rfm`` needs from an engine: load a small frame,
define a view or a table, fetch rows. Every query is written once in DuckDB's dialect and
rendered for the engine by :func:`rfm_helpers.sqldialect.render`.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from rfm_helpers.config import EngineConfig


class SQLEngine(Protocol):
    """What the SQL pipeline needs from an engine (DuckDB, PostgreSQL, Spark, …)."""

    dialect: str

    def load_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Make a small pandas frame queryable as table ``name``."""

    def create_view(self, name: str, sql: str) -> None:
        """(Re)define ``name`` as the query ``sql`` (evaluated when used)."""

    def create_table(self, name: str, sql: str) -> None:
        """Store the rows of ``sql`` as the temporary table ``name`` (read several times)."""

    def fetch(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return its rows."""



class DuckDBEngine:
    """An in-memory DuckDB connection bounded by ``memory_limit``, spilling to ``temp_dir``."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def load_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(f"{name}_frame", frame)
        self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM "{name}_frame"')
        self.con.unregister(f"{name}_frame")

    def create_view(self, name: str, sql: str) -> None:
        self.con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')

    def create_table(self, name: str, sql: str) -> None:
        self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')

    def fetch(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()


@contextlib.contextmanager
def duckdb_engine(engine_cfg: EngineConfig) -> Iterator[DuckDBEngine]:
    """A DuckDB engine with the configured memory limit, threads and spill folder."""
    with contextlib.ExitStack() as stack:
        temp_dir = engine_cfg.temp_directory
        if temp_dir is None:
            temp_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rfm-duckdb-")))
        con = stack.enter_context(duckdb.connect(":memory:"))
        con.execute(f"SET memory_limit = '{engine_cfg.memory_limit}'")
        con.execute(f"SET temp_directory = '{sql_text(str(temp_dir))}'")
        # Row order is carried by row_id, so DuckDB need not keep it (less memory).
        con.execute("SET preserve_insertion_order = false")
        if engine_cfg.threads is not None:
            con.execute(f"SET threads = {int(engine_cfg.threads)}")
        yield DuckDBEngine(con)




def sql_text(text: str) -> str:
    """``text`` for a single-quoted SQL literal."""
    return text.replace("'", "''")
