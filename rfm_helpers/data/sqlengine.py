"""Run the project's ``.sql`` files on DuckDB (a file, read-only) or PostgreSQL (a URL).

The SQL files are written once, in PostgreSQL syntax that DuckDB also runs unchanged (no
transpiling needed: both accept ``AT TIME ZONE``, ``CAST``, ``NOT EXISTS``, ``ROW_NUMBER``).
Parameters are written ``:name`` in the files and bound by the driver (``%(name)s`` for
psycopg, ``$name`` for DuckDB), never formatted into the text. Small reference tables (prices,
channel list) are loaded per session as temporary tables that the SQL joins.

Every failure becomes a ``SqlError`` whose message names the server or file, the table or
column, the ``.sql`` file, and what to do.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from rfm_helpers.config import AccountsSource
from rfm_helpers.paths import resolve
from rfm_helpers.sql.engines import describe_url

_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
"""``:name`` not preceded by ``:`` (so ``::type`` casts are left alone) or a word character."""


class SqlError(RuntimeError):
    """The database could not be reached or a query failed; the message says what to do."""


class EmptyResultError(SqlError):
    """A query that must return rows returned none."""


def bind_parameters(sql: str, dialect: str) -> str:
    """Rewrite ``:name`` placeholders for the driver of ``dialect`` (``duckdb`` or ``postgres``)."""
    if dialect == "postgres":
        # psycopg reads % as the start of a placeholder: literal ones must be doubled.
        return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
    return _PARAMETER.sub(r"$\1", sql)


def _stable_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes whichever engine produced the frame.

    Timestamps and dates → ``datetime64[us]``; integers (PostgreSQL sends BIGINT sums as
    NUMERIC) → ``int64``; text → ``str``; other numbers → ``float64``.
    """
    out = {}
    for name, column in frame.items():
        values = column.dropna()
        first = values.iloc[0] if len(values) else None
        if pd.api.types.is_datetime64_any_dtype(column) or isinstance(first, dt.date):
            out[name] = pd.to_datetime(column).astype("datetime64[us]")
        elif pd.api.types.is_bool_dtype(column):
            out[name] = column.astype(bool)
        elif isinstance(first, decimal.Decimal) or pd.api.types.is_numeric_dtype(column):
            numbers = pd.to_numeric(column.astype(object).where(column.notna(), None), errors="raise")
            whole = numbers.notna().all() and (numbers.dropna() % 1 == 0).all()
            out[name] = numbers.astype("int64") if whole else numbers.astype("float64")
        else:
            out[name] = column.astype("str").where(column.notna(), None)
    return pd.DataFrame(out, index=range(len(frame)))


class Engine:
    """An open connection to DuckDB or PostgreSQL (use as a context manager)."""

    def __init__(self, dialect: str, connection: Any, where: str) -> None:
        self.dialect = dialect
        self.connection = connection
        self.where = where
        """Human description of the database (file path, or host:port/db) for messages."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    def load_table(self, name: str, frame: pd.DataFrame) -> None:
        """Make ``frame`` available to the SQL as temporary table ``name`` (this session only)."""
        if self.dialect == "duckdb":
            self.connection.register(name, frame)
            return
        types = {"int64": "BIGINT", "bool": "BOOLEAN", "float64": "DOUBLE PRECISION"}
        columns = ", ".join(f'"{col}" {types.get(str(frame[col].dtype), "TEXT")}' for col in frame.columns)
        with self.connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cur.execute(f"CREATE TEMP TABLE {name} ({columns})")
            with cur.copy(f"COPY {name} FROM STDIN") as copy:
                for row in frame.itertuples(index=False):
                    copy.write_row(row)

    def query(
        self, sql_file: str | Path, params: dict[str, Any] | None = None, *, allow_empty: bool = False
    ) -> pd.DataFrame:
        """Run a ``.sql`` file with ``params`` and return its rows with stable dtypes."""
        path = resolve(sql_file)
        if not path.is_file():
            raise SqlError(f"SQL file not found: {path}. Check accounts.sql_dir in the params file.")
        sql = bind_parameters(path.read_text(encoding="utf-8"), self.dialect)
        params = params or {}
        try:
            if self.dialect == "duckdb":
                frame = self.connection.execute(sql, _used(params, path)).df()
            else:
                with self.connection.cursor() as cur:
                    cur.execute(sql, _used(params, path))
                    frame = pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
        except Exception as exc:
            if self.dialect == "postgres":
                self.connection.rollback()
            raise SqlError(_explain(exc, path, self.where)) from exc
        if frame.empty and not allow_empty:
            raise EmptyResultError(
                f"{path.name} returned no rows from {self.where} (parameters {params}). Check that the "
                "window (accounts.window_start/window_end) covers the data and that the tables are loaded."
            )
        return _stable_dtypes(frame)


def _used(params: dict[str, Any], path: Path) -> dict[str, Any]:
    """The parameters the file uses; a missing one is an error naming the file."""
    names = set(_PARAMETER.findall(path.read_text(encoding="utf-8")))
    missing = names - params.keys()
    if missing:
        raise SqlError(f"{path.name} needs parameter(s) {sorted(missing)} that the caller did not give")
    return {name: params[name] for name in names}


def _explain(exc: Exception, path: Path, where: str) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    table = re.search(r'(?:relation|Table with name) "?([\w.]+)"? does not exist', message)
    column = re.search(
        r'column "?([\w.]+)"? (?:does not exist|not found)|Referenced column "?(\w+)"? not found', message
    )
    if table:
        return (
            f"Table {table.group(1)} is missing in {where} (query {path.name}). Load the platform's "
            "tables (python -m rfm_helpers.synthetic.accounts builds synthetic ones) or fix the table "
            f"name in {path}."
        )
    if column:
        name = column.group(1) or column.group(2)
        return (
            f"Column {name} is missing in {where} (query {path.name}): the table's schema differs from "
            f"the one the SQL expects. Fix the column name in {path} or the table. Database said: {message}"
        )
    return f"Query {path.name} failed on {where}: {message}"


def connect_duckdb(path: str | Path) -> Engine:
    """Open a DuckDB database file read-only (whoever created it: nothing here writes)."""
    import duckdb

    path = resolve(path)
    if not path.is_file():
        raise SqlError(
            f"DuckDB file not found: {path}. Check accounts.duckdb_path, or use accounts.engine: "
            "synthetic for generated demo data (`python -m rfm_helpers.synthetic.accounts --duckdb "
            "PATH` writes such a file)."
        )
    try:
        return Engine("duckdb", duckdb.connect(str(path), read_only=True), f"DuckDB file {path}")
    except duckdb.Error as exc:
        raise SqlError(f"Cannot open DuckDB file {path}: {exc}. Rebuild it or check the path.") from exc


def connect_postgres(url: str, *, connect_timeout: int = 10) -> Engine:
    """Connect to PostgreSQL; unreachable servers and bad credentials get a clear message."""
    import psycopg

    where = describe_url(url)
    try:
        connection = psycopg.connect(url, connect_timeout=connect_timeout)
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "password authentication failed" in text or "no password supplied" in text:
            hint = (
                "Wrong user or password: check the URL's user and ~/.pgpass or the URL environment variable."
            )
        elif "does not exist" in text and "database" in text:
            hint = "The database does not exist: check the database name in the URL."
        else:
            hint = "The server is unreachable: check that it is running and the host and port in the URL."
        raise SqlError(
            f"Cannot connect to {where}. {hint} (driver said: {text.strip().splitlines()[-1]})"
        ) from None
    return Engine("postgres", connection, where)


def postgres_url(source: AccountsSource) -> str:
    """The URL from the environment variable named in the params, else from the params."""
    url = os.environ.get(source.postgres_url_env) or source.postgres_url
    if not url:
        raise SqlError(
            f"accounts.engine is postgres but no URL is given: set the environment variable "
            f"{source.postgres_url_env} (e.g. postgresql://user@host:5432/db) or accounts.postgres_url."
        )
    return url


def connect(source: AccountsSource) -> Engine:
    """Open the database of an ``accounts:`` params section, read-only (a generated file must
    have been built: :func:`rfm_helpers.data.accounts.prepare_source`)."""
    if source.engine == "postgres":
        return connect_postgres(postgres_url(source))
    if source.database_path is None:  # validated params always have it; an unvalidated copy may not
        raise SqlError("accounts.engine is duckdb but accounts.duckdb_path is not set: give your DuckDB file")
    return connect_duckdb(source.database_path)
