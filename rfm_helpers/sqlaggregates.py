"""The tables notebooks 01, 02 and 05 compute from the full transactions, in DuckDB.

For inputs too large for pandas (see :mod:`rfm_helpers.outofcore`): each function reads the
clean parquet (or the raw input) with DuckDB and returns the same small table as its pandas
counterpart, so the notebooks never load the transactions. Money is summed as DECIMAL
(exact); pandas adds floats, so money agrees to far below a cent, not to the last bit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from rfm_helpers.config import CANONICAL_COLUMNS, CleaningConfig, EngineConfig, InputConfig, RFMConfig
from rfm_helpers.eda import type_label
from rfm_helpers.outofcore import (
    DuckDBEngine,
    customer_table,
    duckdb_engine,
    null_column,
    prepare_typed,
    register_parquet_source,
)
from rfm_helpers.sqldialect import render

_TEXT = ("invoice_id", "stock_code", "description", "customer_id", "country")


@contextlib.contextmanager
def _clean(clean_path: str | Path, engine_cfg: EngineConfig | None) -> Iterator[DuckDBEngine]:
    with duckdb_engine(engine_cfg or EngineConfig(engine="duckdb")) as engine:
        path = str(clean_path).replace("'", "''")
        present = set(engine.fetch(f"DESCRIBE SELECT * FROM read_parquet('{path}')")["column_name"])
        # The SQL expects every canonical column; those the export lacks are NULL.
        absent = [null_column(c) for c in CANONICAL_COLUMNS if c not in present]
        engine.create_view("rfm_clean", f"SELECT {', '.join(['*', *absent])} FROM read_parquet('{path}')")
        yield engine


def _table(
    clean_path: str | Path, engine_cfg: EngineConfig | None, query: str, types: dict[str, str], **params: int
) -> pd.DataFrame:
    """Run ``sql/rfm/<query>.sql`` on the clean parquet; type its columns as pandas does
    (``money``: exact DECIMAL sums as float64)."""
    with _clean(clean_path, engine_cfg) as engine:
        table = engine.fetch(render(query, **params))
    return table.assign(
        **{
            c: table[c].map(float).astype("float64") if t == "money" else table[c].astype(t)
            for c, t in types.items()
        }
    )


def monthly(clean_path: str | Path, engine_cfg: EngineConfig | None = None) -> pd.DataFrame:
    """:func:`rfm_helpers.eda.monthly` of the clean parquet."""
    types = {"month": "datetime64[us]", "revenue": "money", "orders": "int64", "customers": "int64"}
    return _table(clean_path, engine_cfg, "eda_monthly", types)


def by_country(clean_path: str | Path, engine_cfg: EngineConfig | None = None) -> pd.DataFrame:
    """:func:`rfm_helpers.eda.by_country` of the clean parquet."""
    types = {"country": "str", "customers": "int64", "orders": "int64", "revenue": "money"}
    table = _table(clean_path, engine_cfg, "eda_by_country", types)
    table["revenue_share"] = table["revenue"] / table["revenue"].sum()
    return table


def top_products(clean_path: str | Path, n: int = 10, engine_cfg: EngineConfig | None = None) -> pd.DataFrame:
    """:func:`rfm_helpers.eda.top_products` of the clean parquet."""
    types = {"stock_code": "str", "product": "str", "revenue": "money", "orders": "int64", "units": "float64"}
    return _table(clean_path, engine_cfg, "eda_top_products", types, top_n=n)


def orders_per_customer(clean_path: str | Path, engine_cfg: EngineConfig | None = None) -> pd.DataFrame:
    """:func:`rfm_helpers.eda.orders_per_customer` of the clean parquet."""
    table = _table(clean_path, engine_cfg, "eda_orders_per_customer", {})
    labels = table["orders"].map(lambda v: "10+" if v == 10 else str(int(v)))
    customers = table["customers"].astype("int64")
    return pd.DataFrame({"orders": labels, "customers": customers, "share": customers / customers.sum()})


def monthly_rfm_trend(
    clean_path: str | Path, cfg: RFMConfig, engine_cfg: EngineConfig | None = None
) -> pd.DataFrame:
    """:func:`rfm_helpers.metrics.monthly_rfm_trend` of the clean parquet."""
    with _clean(clean_path, engine_cfg) as engine:
        stats = engine.fetch(render("rfm_monthly_trend", frequency_lines=cfg.frequency == "lines"))
    stats["month"] = stats["month"].astype("datetime64[us]")
    months = pd.date_range(stats["month"].min(), stats["month"].max(), freq="MS", unit="us", name="month")
    stats = stats.set_index("month").reindex(months)
    counts = ["customers", "returning_customers"]
    stats[counts] = stats[counts].fillna(0).astype("int64")
    stats["new_customers"] = stats["customers"] - stats["returning_customers"]
    metrics = ("recency", "frequency", "monetary")
    order = ["customers", "new_customers", "returning_customers"]
    order += [f"{m}_mean" for m in metrics] + [f"{m}_median" for m in metrics]
    return stats[order].astype({c: "float64" for c in order[3:]}).reset_index()


def orders(clean_path: str | Path, engine_cfg: EngineConfig | None = None) -> pd.DataFrame:
    """``invoice_id``, ``lines`` and ``revenue`` of :func:`rfm_helpers.eda.orders` (one row per order)."""
    return _table(
        clean_path, engine_cfg, "eda_orders", {"invoice_id": "str", "lines": "int64", "revenue": "money"}
    )


def overview_figures(clean_path: str | Path, engine_cfg: EngineConfig | None = None) -> pd.Series:
    """Counts, exact revenue and date range of the clean parquet (:func:`rfm_helpers.eda.overview`)."""
    with _clean(clean_path, engine_cfg) as engine:
        row = engine.fetch(render("eda_overview")).iloc[0]
    row = row.copy()
    row["revenue"] = float(row["revenue"])
    return row


def customer_metrics(
    clean_path: str | Path, rfm_cfg: RFMConfig, has_country: bool, engine_cfg: EngineConfig | None = None
) -> pd.DataFrame:
    """:func:`rfm_helpers.metrics.customer_metrics` of the clean parquet."""
    with _clean(clean_path, engine_cfg) as engine:
        return customer_table(engine, rfm_cfg, has_country)


@contextlib.contextmanager
def _raw(input_cfg: InputConfig, engine_cfg: EngineConfig | None) -> Iterator[tuple[DuckDBEngine, list[str]]]:
    with duckdb_engine(engine_cfg or EngineConfig(engine="duckdb")) as engine:
        present = register_parquet_source(engine, input_cfg)
        no_list = pd.DataFrame({"stock_code": pd.Series(dtype=str), "description": pd.Series(dtype=str)})
        prepare_typed(engine, present, CleaningConfig(), no_list, no_list, input_cfg.missing_text)
        yield engine, present


def column_profile(input_cfg: InputConfig, engine_cfg: EngineConfig | None = None) -> pd.DataFrame:
    """:func:`rfm_helpers.eda.column_profile` of the input as loaded (parquet, any size)."""
    with _raw(input_cfg, engine_cfg) as (engine, present):
        columns = [*present, "revenue"]
        # Descriptions as written (the loader keeps their spaces; rfm_typed has them trimmed).
        as_written = (
            "CASE WHEN TRIM(CAST(description AS VARCHAR)) IN (SELECT value FROM rfm_missing_text) "
            "THEN NULL ELSE CAST(description AS VARCHAR) END"
        )
        parts = [
            f"SELECT '{c}' AS column_name, COUNT(*) AS row_count, COUNT({c}) AS filled, "
            f"COUNT(DISTINCT {c}) AS distinct_values FROM rfm_typed"
            if c != "description"
            else f"SELECT '{c}', COUNT(*), COUNT({as_written}), COUNT(DISTINCT {as_written}) FROM rfm_source"
            for c in columns
        ]
        table = engine.fetch(" UNION ALL ".join(parts))
        date_type = engine.fetch("SELECT invoice_date FROM rfm_typed LIMIT 0")["invoice_date"].dtype
    table = table.set_index("column_name").loc[columns]
    rows = table["row_count"].astype("int64")
    filled = table["filled"].astype("int64")
    types = [
        type_label("str" if c in _TEXT else date_type if c == "invoice_date" else "float64") for c in columns
    ]
    return pd.DataFrame(
        {
            "column": columns,
            "type": types,
            "filled": filled.to_numpy(),
            "missing": (rows - filled).to_numpy(),
            "missing share": ((rows - filled) / rows.clip(lower=1)).to_numpy(),
            "distinct values": table["distinct_values"].astype("int64").to_numpy(),
        }
    )


def row_sample(
    input_cfg: InputConfig, rows: int, seed: int = 0, engine_cfg: EngineConfig | None = None
) -> pd.DataFrame:
    """A uniform random sample of ``rows`` input rows as loaded (for charts of the raw data).

    Reservoir sampling in one pass; the same seed gives the same rows (one DuckDB thread)."""
    engine_cfg = (engine_cfg or EngineConfig(engine="duckdb")).model_copy(update={"threads": 1})
    with _raw(input_cfg, engine_cfg) as (engine, present):
        columns = ", ".join([*present, "revenue"])
        sample = engine.fetch(
            f"SELECT {columns} FROM (SELECT * FROM rfm_typed USING SAMPLE reservoir({int(rows)} ROWS) "
            f"REPEATABLE ({int(seed)})) ORDER BY row_id"
        )
    return sample
