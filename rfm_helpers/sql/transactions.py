"""The transactions path, once: from the input to every table the reports show, in SQL.

The cleaning step (notebook 01) opens one engine session, defines ``rfm_source`` from the input,
runs the cleaning rules, the duplicates rule and the cancellation netting (``sql/rfm``, see
:mod:`rfm_helpers.sql.rules`), then builds the customer table and the EDA aggregates from the
clean rows and writes them as small files to ``RunConfig.marts_dir``. Only those aggregates
leave the engine; the later notebooks read them with :class:`Marts` and never see a
transaction. pandas works on what comes after aggregation (scoring, segments, clustering,
charts, narrative).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from rfm_helpers import atomic
from rfm_helpers.analysis import domain
from rfm_helpers.config import (
    CANONICAL_COLUMNS,
    CleaningConfig,
    ColumnMap,
    EngineConfig,
    InputConfig,
    RFMConfig,
    RunConfig,
)
from rfm_helpers.data import loading
from rfm_helpers.sql.cleaning import NettingSummary
from rfm_helpers.sql.dialect import render
from rfm_helpers.sql.engines import SQLEngine, duckdb_engine, open_engine, sample_query
from rfm_helpers.sql.rules import (
    customer_table,
    input_files,
    null_column,
    register_parquet_source,
    run_sql_cleaning,
)

MONEY = "money"
"""Type tag of an exact DECIMAL sum, returned to pandas as float64."""
_AGGREGATES: dict[str, tuple[str, dict[str, str]]] = {
    # mart name: (sql/rfm query, column types)
    "monthly": (
        "eda_monthly",
        {"month": "datetime64[us]", "revenue": MONEY, "orders": "int64", "customers": "int64"},
    ),
    "by_country": (
        "eda_by_country",
        {"country": "str", "customers": "int64", "orders": "int64", "revenue": MONEY},
    ),
    "products": (
        "eda_top_products",
        {"stock_code": "str", "product": "str", "revenue": MONEY, "orders": "int64", "units": "float64"},
    ),
    "orders": ("eda_orders", {"invoice_id": "str", "lines": "int64", "revenue": MONEY}),
    "orders_per_customer": ("eda_orders_per_customer", {"orders": "int64", "customers": "int64"}),
}
_ALL_PRODUCTS = 2**31 - 1
"""``top_n`` that keeps every product: the EDA page takes the head it shows."""


@dataclass
class Cleaning:
    """What the cleaning report shows besides the aggregates."""

    ledger: pd.DataFrame
    netting: NettingSummary | None
    raw: pd.DataFrame
    """The input rows as typed (all of them up to ``engine.sample_rows``, else a uniform sample)."""
    rules: pd.DataFrame
    """For each row of ``raw`` (same index): ``is_cancellation`` and ``removed_by`` (the rule 1-6
    that removes the row, missing if none does), from the one definition of the rules
    (``sql/rfm/typed.sql``)."""
    about_input: str
    """One sentence: which file, how many rows, which dates, and whether ``raw`` is a sample."""


# --- building the marts (cleaning step) --------------------------------------------------------


def build(cfg: RunConfig, non_product: pd.DataFrame, flagged: pd.DataFrame) -> Cleaning:
    """Clean the input, write the marts of this run and return what the cleaning report shows."""
    with open_engine(cfg.engine) as engine:
        present, input_rows = _define_source(engine, cfg)
        result = run(engine, present, cfg.cleaning, cfg.rfm, non_product, flagged, cfg.input.missing_text)
        raw = _raw_view(engine, present, input_rows, cfg.engine.sample_rows)
        span = _input_span(engine)
    result.write(cfg.marts_dir)
    rule_columns = ["is_cancellation", "removed_by"]
    about = _about_input(cfg, input_rows, len(raw), span)
    return Cleaning(result.ledger, result.netting, raw.drop(columns=rule_columns), raw[rule_columns], about)


@dataclass
class Result:
    """The cleaning and every aggregate of one input, in memory."""

    ledger: pd.DataFrame
    netting: NettingSummary | None
    customers: pd.DataFrame | None
    tables: dict[str, pd.DataFrame]
    """The EDA aggregates and the monthly trend, by mart name."""
    figures: dict
    clean: pd.DataFrame | None = None
    """The clean rows themselves (sorted by date, invoice, stock code), only when asked for."""

    def write(self, folder: Path) -> None:
        """Write the marts (atomically, file by file) that :class:`Marts` reads."""
        tables = self.tables if self.customers is None else {**self.tables, "customers": self.customers}
        for name, table in tables.items():
            atomic.write_parquet(table, folder / f"{name}.parquet")
        atomic.write_text(folder / "figures.json", json.dumps(self.figures, indent=1, sort_keys=True))


def run(
    engine: SQLEngine,
    present: list[str],
    cleaning_cfg: CleaningConfig,
    rfm_cfg: RFMConfig,
    non_product: pd.DataFrame,
    flagged: pd.DataFrame,
    missing_text: list[str],
    keep_clean: bool = False,
    with_customers: bool = True,
) -> Result:
    """The cleaning rules, the customer table and every aggregate, on an engine whose
    ``rfm_source`` is defined (``present``: the canonical columns it maps). Without
    ``with_customers`` the customer table is not built (``customers`` is None): for a look at
    the cleaning of data that need not be scored (a single customer, say)."""

    def store_clean(query: str) -> None:
        engine.create_table("rfm_clean", query)

    ledger, _rows, netting = run_sql_cleaning(
        engine, present, cleaning_cfg, non_product, flagged, missing_text, store_clean
    )
    customers = None
    if with_customers:
        customers = customer_table(engine, rfm_cfg, "country" in present)
        domain.check_customer_metrics(customers, rfm_cfg)
    tables = _aggregates(engine, rfm_cfg)
    figures = _figures(tables.pop("figures"), present)
    clean = None
    if keep_clean:
        columns = ", ".join([*present, "revenue"])
        clean = engine.fetch(
            f"SELECT {columns} FROM rfm_clean ORDER BY invoice_date, invoice_id, stock_code, row_id"
        )
    return Result(ledger, netting, customers, tables, figures, clean)


def clean_frame(
    frame: pd.DataFrame,
    cleaning_cfg: CleaningConfig | None = None,
    rfm_cfg: RFMConfig | None = None,
    non_product: pd.DataFrame | None = None,
    flagged: pd.DataFrame | None = None,
    missing_text: list[str] | None = None,
    with_customers: bool = True,
) -> Result:
    """:func:`run` on a typed frame in memory (canonical columns and ``revenue``, as
    :func:`rfm_helpers.data.loading.load_transactions` returns), in a throwaway DuckDB; the result
    keeps the clean rows. For notebooks and tests that start from a frame."""
    no_list = pd.DataFrame({"stock_code": pd.Series(dtype=str), "description": pd.Series(dtype=str)})
    present = [c for c in CANONICAL_COLUMNS if c in frame]
    with duckdb_engine(EngineConfig()) as engine:
        _load_typed(engine, frame, present)
        return run(
            engine,
            present,
            cleaning_cfg or CleaningConfig(),
            rfm_cfg or RFMConfig(),
            no_list if non_product is None else non_product,
            no_list if flagged is None else flagged,
            InputConfig().missing_text if missing_text is None else missing_text,
            keep_clean=True,
            with_customers=with_customers,
        )


def _load_typed(engine: SQLEngine, frame: pd.DataFrame, present: list[str]) -> None:
    """``rfm_source`` over a typed frame; ``row_id`` is the frame's row order."""
    engine.load_frame("rfm_loaded", frame[present].assign(row_id=range(len(frame))))
    select = [c if c in present else null_column(c) for c in CANONICAL_COLUMNS]
    engine.create_view("rfm_source", f"SELECT {', '.join(select)}, row_id FROM rfm_loaded")


def _define_source(engine: SQLEngine, cfg: RunConfig) -> tuple[list[str], int]:
    """``rfm_source`` over the input; the canonical columns it maps and its number of rows.

    Parquet files are typed in SQL as they are scanned (row-level checks included); csv and xlsx
    files are parsed and typed by :func:`rfm_helpers.data.loading.load_transactions` (line-level
    messages), then handed to the engine.

    On PostgreSQL and Spark (``engine.engine``), the input is typed exactly so (DuckDB types a
    parquet input, the loader a csv or xlsx one), then its typed rows and ``row_id`` are
    shipped to the engine (:func:`_ship_typed`): every engine starts from the same values."""
    files = input_files(cfg.input)
    parquet = all(loading.detect_format(f, cfg.input.format) == "parquet" for f in files)
    if engine.dialect != "duckdb":
        present = _ship_typed(engine, cfg, parquet)
    elif parquet:
        present = register_parquet_source(engine, cfg.input)
    else:
        frame = loading.load_transactions(cfg.input, cache_dir=cfg.cache_dir)
        present = [c for c in CANONICAL_COLUMNS if c in frame]
        _load_typed(engine, frame, present)
    rows = int(engine.fetch("SELECT COUNT(*) AS n FROM rfm_source").iloc[0]["n"])
    return present, rows


def _ship_typed(engine: SQLEngine, cfg: RunConfig, parquet: bool) -> list[str]:
    """``rfm_source`` on a non-DuckDB engine: the input typed as on DuckDB, loaded as the table
    ``rfm_loaded`` (PostgreSQL: TEXT, DOUBLE PRECISION, TIMESTAMP, BIGINT row_id; Spark: STRING,
    DOUBLE, TIMESTAMP_NTZ, BIGINT) and mapped by :func:`rfm_helpers.sql.rules.source_query`.
    The typed rows pass through memory once (the input must fit in it)."""
    if parquet:
        with duckdb_engine(cfg.engine) as duck:
            present = register_parquet_source(duck, cfg.input)
            frame = duck.fetch(f"SELECT {', '.join(present)}, row_id FROM rfm_source")
    else:
        loaded = loading.load_transactions(cfg.input, cache_dir=cfg.cache_dir)
        present = [c for c in CANONICAL_COLUMNS if c in loaded]
        frame = loaded[present].assign(row_id=range(len(loaded)))
        del loaded
    engine.load_frame("rfm_loaded", frame.astype({"row_id": "int64"}))
    del frame
    engine.create_view("rfm_source", _canonical_query(present, "rfm_loaded", "row_id", engine.dialect))
    return present


def _canonical_query(present: list[str], table: str, row_order: str, dialect: str) -> str:
    """:func:`rfm_helpers.sql.rules.source_query` over a table that already has the canonical
    column names (those in ``present``; the others become typed NULLs)."""
    from rfm_helpers.sql.rules import source_query

    names = {c: (c if c in present else None) for c in CANONICAL_COLUMNS}
    return source_query(ColumnMap.model_construct(**names), table, row_order, dialect)


def _typed_frame(table: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Columns typed as pandas code expects them (``money``: exact DECIMAL sums as float64)."""
    return table.assign(
        **{
            c: table[c].map(float).astype("float64") if t == MONEY else table[c].astype(t)
            for c, t in types.items()
        }
    )


def _aggregates(engine: SQLEngine, rfm_cfg: RFMConfig) -> dict[str, pd.DataFrame]:
    """Every table the EDA and insights reports read, from ``rfm_clean``."""
    marts = {}
    for name, (query, types) in _AGGREGATES.items():
        params = {"top_n": _ALL_PRODUCTS} if query == "eda_top_products" else {}
        marts[name] = _typed_frame(engine.fetch(render(query, engine.dialect, **params)), types)
    marts["monthly_rfm_trend"] = engine.fetch(
        render("rfm_monthly_trend", engine.dialect, frequency_lines=rfm_cfg.frequency == "lines")
    )
    marts["figures"] = engine.fetch(render("eda_overview", engine.dialect))
    return marts


def _figures(overview: pd.DataFrame, present: list[str]) -> dict:
    """Headline numbers of the clean rows, as JSON values (dates as ISO text)."""
    row = overview.iloc[0]
    figures = {
        "invoice_lines": int(row["invoice_lines"]),
        "orders": int(row["orders"]),
        "customers": int(row["customers"]),
        "revenue": float(Decimal(str(row["revenue"]))),
        "first_date": pd.Timestamp(row["first_date"]).isoformat(),
        "last_date": pd.Timestamp(row["last_date"]).isoformat(),
    }
    for key, column in (("products", "stock_code"), ("countries", "country")):
        if column in present:
            figures[key] = int(row[key])
    return figures


def _raw_view(engine: SQLEngine, present: list[str], rows: int, limit: int) -> pd.DataFrame:
    """The typed input rows (with ``is_cancellation`` and ``removed_by``) in input order: all,
    or a uniform, repeatable sample of ``limit`` rows (:func:`engines.sample_query`) when there are more.
    Descriptions are shown as written (the rules compare them trimmed)."""
    columns = [f"t.{c}" for c in [*present, "revenue", "is_cancellation", "removed_by"]]
    join = ""
    if "description" in present:
        columns[present.index("description")] = (
            "CASE WHEN TRIM(CAST(s.description AS VARCHAR)) IN (SELECT value FROM rfm_missing_text) "
            "THEN NULL ELSE CAST(s.description AS VARCHAR) END AS description"
        )
        join = " JOIN rfm_source AS s ON s.row_id = t.row_id"
    source = "rfm_typed" if rows <= limit else sample_query(engine.dialect, "rfm_typed", limit)
    raw = engine.fetch(f"SELECT {', '.join(columns)} FROM {source} AS t{join} ORDER BY t.row_id")
    for column in ("invoice_id", "stock_code", "description", "customer_id", "country", "removed_by"):
        if column in raw:
            raw[column] = raw[column].astype("str")
    return raw


def _input_span(engine: SQLEngine) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last date of the typed input rows."""
    row = engine.fetch(
        "SELECT MIN(invoice_date) AS first_date, MAX(invoice_date) AS last_date FROM rfm_typed"
    )
    return pd.Timestamp(row.iloc[0]["first_date"]), pd.Timestamp(row.iloc[0]["last_date"])


def _about_input(cfg: RunConfig, rows: int, shown: int, span: tuple[pd.Timestamp, pd.Timestamp]) -> str:
    path, dates = cfg.input.path, f"from {span[0]:%d %b %Y} to {span[1]:%d %b %Y}"
    if shown == rows:
        return f"**Input file:** `{path}` — {rows:,} rows, {dates}."
    return (
        f"**Input:** `{path}` — {rows:,} rows, {dates}. The sections before the ledger describe a uniform "
        f"sample of {shown:,} rows (`engine.sample_rows`); the ledger and every later report count all rows."
    )


# --- reading the marts (later steps) -----------------------------------------------------------


class Marts:
    """The aggregates the cleaning step wrote (:meth:`Result.write`) to ``folder``."""

    def __init__(self, folder: Path, columns: ColumnMap) -> None:
        self.folder, self.columns = Path(folder), columns
        self._figures: dict = json.loads((self.folder / "figures.json").read_text(encoding="utf-8"))

    @classmethod
    def for_run(cls, cfg: RunConfig) -> Marts:
        return cls(cfg.marts_dir, cfg.input.columns)

    def _read(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.folder / f"{name}.parquet")

    def has(self, column: str) -> bool:
        """The export maps ``column`` (e.g. ``country``)."""
        return getattr(self.columns, column, None) is not None

    def figures(self) -> dict:
        """Headline numbers of the clean transactions (:func:`rfm_helpers.report.eda.overview_table`)."""
        return {
            **self._figures,
            "first_date": pd.Timestamp(self._figures["first_date"]),
            "last_date": pd.Timestamp(self._figures["last_date"]),
        }

    def size(self) -> tuple[int, int]:
        """Invoice lines and customers of the clean transactions."""
        return self._figures["invoice_lines"], self._figures["customers"]

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self._figures["first_date"]), pd.Timestamp(self._figures["last_date"])

    def dates(self) -> pd.DataFrame:
        """The first and last clean date, as the frame :func:`rfm_helpers.analysis.metrics.resolve_snapshot`
        reads (rows after the snapshot were refused when the marts were built)."""
        return pd.DataFrame({"invoice_date": list(self.date_range())})

    def monthly(self) -> pd.DataFrame:
        return self._read("monthly")

    def by_country(self) -> pd.DataFrame:
        table = self._read("by_country")
        return table.assign(revenue_share=table["revenue"] / table["revenue"].sum())

    def top_products(self, n: int) -> pd.DataFrame:
        return self._read("products").head(n).reset_index(drop=True)

    def orders(self) -> pd.DataFrame:
        """One row per order: ``invoice_id``, ``lines`` and ``revenue``."""
        return self._read("orders")

    def orders_per_customer(self) -> pd.DataFrame:
        table = self._read("orders_per_customer")
        labels = table["orders"].map(lambda v: "10+" if v == 10 else str(int(v)))
        customers = table["customers"].astype("int64")
        return pd.DataFrame({"orders": labels, "customers": customers, "share": customers / customers.sum()})

    def customer_metrics(self) -> pd.DataFrame:
        """One row per customer, sorted by ``customer_id``.

        Columns: ``customer_id``; ``recency`` (int, calendar days between the reference day of
        :func:`rfm_helpers.analysis.metrics.resolve_snapshot` and the day of the last purchase);
        ``frequency`` (int, distinct ``invoice_id`` when ``rfm.frequency`` is ``invoices``, rows
        when ``lines``); ``monetary`` (float, exact sum of ``revenue``); ``first_purchase`` and
        ``last_purchase``; ``country`` (most frequent by rows, ties alphabetical; only when the
        input has a ``country`` column)."""
        return self._read("customers")

    def monthly_rfm_trend(self) -> pd.DataFrame:
        """Recency, frequency and monetary of each month's active customers, month by month.

        For every calendar month M from the first to the last month of the data, the customers
        with at least one transaction in M, measured per customer: ``recency`` (for a returning
        customer, days from their last purchase day before M to their first purchase day in M;
        new customers are left out), ``frequency`` (invoices or rows within M) and
        ``monetary`` (revenue within M). One row per month: ``month``, ``customers``,
        ``new_customers``, ``returning_customers``, then the mean and median of each metric. A
        month without transactions has 0 customers and missing statistics."""
        stats = self._read("monthly_rfm_trend")
        stats["month"] = stats["month"].astype("datetime64[us]")
        months = pd.date_range(stats["month"].min(), stats["month"].max(), freq="MS", unit="us", name="month")
        stats = stats.set_index("month").reindex(months)
        counts = ["customers", "returning_customers"]
        stats[counts] = stats[counts].fillna(0).astype("int64")
        stats["new_customers"] = stats["customers"] - stats["returning_customers"]
        order = ["customers", "new_customers", "returning_customers"]
        order += [f"{m}_{s}" for s in ("mean", "median") for m in ("recency", "frequency", "monetary")]
        return stats[order].astype({c: "float64" for c in order[3:]}).reset_index()
