"""The transactions path, once: from the input to every table the reports show, in SQL.

The cleaning step (notebook 01) opens one engine session, defines ``rfm_source`` from the input,
runs the cleaning rules, the duplicates rule and the cancellation netting (``sql/rfm``, see
:mod:`rfm_helpers.sql.rules`), then builds the customer table and the EDA aggregates from the
clean rows and writes them as small files to ``RunConfig.marts_dir``; with the ``predict``
parameters also the buy-till-you-die summaries and the backtest's tables as of
``predict.holdout_days`` before the snapshot (:func:`prediction_marts`). Only those aggregates
leave the engine; the later notebooks read them with :class:`Marts` and never see a
transaction. pandas works on what comes after aggregation (scoring, segments, clustering,
charts, narrative).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlglot
from sqlglot import exp

from rfm_helpers import atomic
from rfm_helpers.analysis import domain
from rfm_helpers.analysis.metrics import MetricsError, resolve_snapshot
from rfm_helpers.config import (
    CANONICAL_COLUMNS,
    CleaningConfig,
    ColumnMap,
    EngineConfig,
    InputConfig,
    PredictConfig,
    RFMConfig,
    RunConfig,
)
from rfm_helpers.data import loading
from rfm_helpers.sql.cleaning import NettingSummary
from rfm_helpers.sql.dialect import render
from rfm_helpers.sql.engines import SparkEngine, SQLEngine, duckdb_engine, open_engine, sample_query, sql_text
from rfm_helpers.sql.rules import (
    clean_totals,
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
"""``top_n`` that keeps every product (:func:`run` without ``top_n``)."""
BTYD_TYPES = {
    "customer_id": "str",
    "frequency": "int64",
    "recency": "float64",
    "T": "float64",
    "monetary_value": "float64",
}
"""Columns of a buy-till-you-die summary mart, as :func:`rfm_helpers.analysis.predictive.rfm_summary`
returns them (days)."""
HOLDOUT_TYPES = {"customer_id": "str", "orders": "int64", "purchase_days": "int64", "revenue": MONEY}
PREDICTION_MARTS = ("btyd", "btyd_calibration", "customers_calibration", "holdout")
"""Marts of :func:`prediction_marts`; the last three only when the data span the backtest."""


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
        result = run(
            engine,
            present,
            cfg.cleaning,
            cfg.rfm,
            non_product,
            flagged,
            cfg.input.missing_text,
            predict_cfg=cfg.predict,
            top_n=cfg.report.top_n,
        )
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
    prediction: dict[str, pd.DataFrame] = field(default_factory=dict)
    """The marts of :func:`prediction_marts` by name (empty without ``predict_cfg``)."""

    def write(self, folder: Path) -> None:
        """Write the marts (atomically, file by file) that :class:`Marts` reads. A prediction
        mart this run did not build is removed, so that none of an earlier run is read."""
        tables = self.tables if self.customers is None else {**self.tables, "customers": self.customers}
        for name, table in {**tables, **self.prediction}.items():
            atomic.write_parquet(table, folder / f"{name}.parquet")
        for name in PREDICTION_MARTS:
            if name not in self.prediction:
                (folder / f"{name}.parquet").unlink(missing_ok=True)
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
    predict_cfg: PredictConfig | None = None,
    top_n: int | None = None,
) -> Result:
    """The cleaning rules, the customer table and every aggregate, on an engine whose
    ``rfm_source`` is defined (``present``: the canonical columns it maps). Without
    ``with_customers`` the customer table is not built (``customers`` is None): for a look at
    the cleaning of data that need not be scored (a single customer, say). With
    ``predict_cfg`` (and the customer table) the marts of :func:`prediction_marts` are built
    too, and the figures say their dates (or why there is no backtest). The products mart
    holds the ``top_n`` products by revenue (``report.top_n``, what the EDA page shows), or
    every product when None."""
    ledger, _rows, netting = run_sql_cleaning(
        engine, present, cleaning_cfg, non_product, flagged, missing_text
    )
    customers = None
    if with_customers:
        customers = customer_table(engine, rfm_cfg, "country" in present)
        domain.check_customer_metrics(customers, rfm_cfg)
    tables = _aggregates(engine, rfm_cfg, top_n)
    figures = _figures(tables.pop("figures"), present)
    prediction: dict[str, pd.DataFrame] = {}
    if with_customers and predict_cfg is not None:
        prediction, about = prediction_marts(engine, rfm_cfg, predict_cfg, "country" in present)
        figures.update(about)
    clean = None
    if keep_clean:
        columns = ", ".join([*present, "revenue"])
        clean = engine.fetch(
            f"SELECT {columns} FROM rfm_clean ORDER BY invoice_date, invoice_id, stock_code, row_id"
        )
    return Result(ledger, netting, customers, tables, figures, clean, prediction)


def clean_frame(
    frame: pd.DataFrame,
    cleaning_cfg: CleaningConfig | None = None,
    rfm_cfg: RFMConfig | None = None,
    non_product: pd.DataFrame | None = None,
    flagged: pd.DataFrame | None = None,
    missing_text: list[str] | None = None,
    with_customers: bool = True,
    top_n: int | None = None,
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
            top_n=top_n,
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
    A csv or xlsx input's typed rows pass through memory once (the input must fit in it), as do
    a parquet input's on PostgreSQL; Spark reads a parquet input's typed rows from a parquet file
    DuckDB writes to its scratch folder, so they never do."""
    if parquet:
        with duckdb_engine(cfg.engine) as duck:
            present = register_parquet_source(duck, cfg.input)
            typed = f"SELECT {', '.join(present)}, row_id FROM rfm_source"
            if isinstance(engine, SparkEngine):
                path = engine.scratch / "rfm_loaded.parquet"
                duck.con.execute(f"COPY ({typed}) TO '{sql_text(str(path))}' (FORMAT parquet)")
                engine.load_parquet("rfm_loaded", path)
            else:
                engine.load_frame("rfm_loaded", duck.fetch(typed).astype({"row_id": "int64"}))
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


def _aggregates(engine: SQLEngine, rfm_cfg: RFMConfig, top_n: int | None) -> dict[str, pd.DataFrame]:
    """Every table the EDA and insights reports read, from ``rfm_clean`` (``top_n`` products,
    or all of them when None)."""
    marts = {}
    for name, (query, types) in _AGGREGATES.items():
        params = {"top_n": _ALL_PRODUCTS if top_n is None else top_n} if query == "eda_top_products" else {}
        marts[name] = _typed_frame(engine.fetch(render(query, engine.dialect, **params)), types)
    marts["monthly_rfm_trend"] = engine.fetch(
        render("rfm_monthly_trend", engine.dialect, frequency_lines=rfm_cfg.frequency == "lines")
    )
    marts["figures"] = engine.fetch(render("eda_overview", engine.dialect))
    return marts


def observation_end(engine: SQLEngine, rfm_cfg: RFMConfig) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first clean day and the end of the observation period of ``rfm_clean``.

    The end is the snapshot of :func:`rfm_helpers.analysis.metrics.resolve_snapshot` (the
    date the customer table counts recency from), or the day after the last clean day when
    that is later (``recency_from: last_transaction``, or a snapshot date on the last day), so
    that the rows "before the end" are all the clean rows."""
    span = clean_totals(engine)
    dates = pd.DataFrame({"invoice_date": pd.to_datetime([span["first_date"], span["last_date"]])})
    first, last = dates["invoice_date"].min().normalize(), dates["invoice_date"].max().normalize()
    return first, max(resolve_snapshot(dates, rfm_cfg), last + pd.Timedelta(days=1))


def btyd_summary(engine: SQLEngine, cutoff: dt.date) -> pd.DataFrame:
    """The buy-till-you-die summary (``sql/rfm/btyd_summary.sql``) of the clean rows dated before
    ``cutoff``: :func:`rfm_helpers.analysis.predictive.rfm_summary` at ``cutoff`` in days, one
    row per customer sorted by ``customer_id``."""
    table = engine.fetch(render("btyd_summary", engine.dialect, cutoff=cutoff))
    table = table.rename(columns={"t_cutoff": "T"})[list(BTYD_TYPES)]
    return _typed_frame(table, BTYD_TYPES).sort_values("customer_id", ignore_index=True)


def holdout_outcomes(engine: SQLEngine, cutoff: dt.date, end: dt.date) -> pd.DataFrame:
    """What every customer active before ``cutoff`` did in [``cutoff``, ``end``)
    (``sql/rfm/holdout_outcomes.sql``): ``orders``, ``purchase_days`` and ``revenue``."""
    table = engine.fetch(render("holdout_outcomes", engine.dialect, cutoff=cutoff, end=end))
    return _typed_frame(table, HOLDOUT_TYPES).sort_values("customer_id", ignore_index=True)


class _CleanBefore:
    """The engine as :func:`rfm_helpers.sql.rules.customer_table` sees it, with ``rfm_clean``
    read from the view ``rfm_clean_before`` (``sql/rfm/clean_before.sql``): the customer table
    as of a past date is that one definition, run on the rows before the date."""

    VIEW = "rfm_clean_before"

    def __init__(self, engine: SQLEngine, cutoff: dt.date) -> None:
        engine.create_view(self.VIEW, render("clean_before", engine.dialect, cutoff=cutoff))
        self.engine, self.dialect, self.where = engine, engine.dialect, engine.where

    def load_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.engine.load_frame(name, frame)

    def create_view(self, name: str, sql: str) -> None:
        self.engine.create_view(name, self._renamed(sql))

    def create_table(self, name: str, sql: str) -> None:
        self.engine.create_table(name, self._renamed(sql))

    def _rename(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == "rfm_clean" and not node.args.get("db"):
            renamed = node.copy()
            renamed.set("this", exp.to_identifier(self.VIEW))
            return renamed
        return node

    def _renamed(self, sql: str) -> str:
        return sqlglot.parse_one(sql, read=self.dialect).transform(self._rename).sql(dialect=self.dialect)

    def fetch(self, sql: str) -> pd.DataFrame:
        return self.engine.fetch(self._renamed(sql))


def prediction_marts(
    engine: SQLEngine, rfm_cfg: RFMConfig, predict_cfg: PredictConfig, has_country: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The buy-till-you-die and backtest marts of ``rfm_clean``, and the figures that date them.

    With ``end`` = :func:`observation_end` (the snapshot) and ``cutoff`` = ``end`` -
    ``predict.holdout_days``:

    - ``btyd``: :func:`btyd_summary` at ``end`` (the predictions' input);
    - ``btyd_calibration``: :func:`btyd_summary` at ``cutoff`` (the models fitted for the backtest);
    - ``customers_calibration``: the customer table (:func:`rfm_helpers.sql.rules.customer_table`,
      same ``rfm`` parameters) of the rows before ``cutoff``, recency counted from ``cutoff``;
    - ``holdout``: :func:`holdout_outcomes` in [``cutoff``, ``end``).

    Figures: ``prediction_end`` always; ``backtest_cutoff`` when the backtest marts are built,
    else ``backtest_note``, a sentence saying why not (the data span less than twice
    ``holdout_days``, or fewer than two customers bought before ``cutoff``).
    """
    first, end = observation_end(engine, rfm_cfg)
    marts = {"btyd": btyd_summary(engine, end.date())}
    figures = {"prediction_end": end.isoformat()}
    days = predict_cfg.holdout_days
    cutoff = end - pd.Timedelta(days=days)
    span = (end - first).days
    if span < 2 * days:
        figures["backtest_note"] = (
            f"No backtest: the clean data span {span} days ({first.date()} to {end.date()}, exclusive), "
            f"less than twice predict.holdout_days ({days}); a backtest needs as much history before "
            "the held-out window as the window itself. Lower predict.holdout_days to at most "
            f"{span // 2} to get one."
        )
        return marts, figures
    cal_cfg = rfm_cfg.model_copy(update={"snapshot_date": cutoff.date(), "recency_from": "snapshot"})
    try:
        customers = customer_table(_CleanBefore(engine, cutoff.date()), cal_cfg, has_country)
    except MetricsError as error:
        figures["backtest_note"] = f"No backtest as of {cutoff.date()}: {error}"
        return marts, figures
    domain.check_customer_metrics(customers, cal_cfg)
    marts["btyd_calibration"] = btyd_summary(engine, cutoff.date())
    marts["customers_calibration"] = customers
    marts["holdout"] = holdout_outcomes(engine, cutoff.date(), end.date())
    figures["backtest_cutoff"] = cutoff.isoformat()
    return marts, figures


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
        """The ``n`` products with the highest revenue, of the ``report.top_n`` the cleaning
        step kept."""
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

    def btyd(self) -> pd.DataFrame:
        """The buy-till-you-die summary at the snapshot (:func:`btyd_summary`): ``customer_id``,
        ``frequency`` (repeat purchase days), ``recency``, ``T`` (days) and ``monetary_value``
        (mean revenue of the repeat purchase days), as :func:`rfm_helpers.analysis.predictive.rfm_summary`."""
        return self._read("btyd")

    def prediction_end(self) -> pd.Timestamp:
        """The end of the observation period the predictions start from (:func:`observation_end`)."""
        return pd.Timestamp(self._figures["prediction_end"])

    def has_backtest(self) -> bool:
        """The cleaning step built the backtest marts (else :meth:`backtest_note` says why not)."""
        return "backtest_cutoff" in self._figures

    def backtest_note(self) -> str | None:
        """Why there is no backtest, or None when there is one."""
        return self._figures.get("backtest_note")

    def backtest_window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The held-out window [cutoff, end): the backtest scores customers as of ``cutoff``."""
        self._require_backtest()
        return pd.Timestamp(self._figures["backtest_cutoff"]), self.prediction_end()

    def btyd_calibration(self) -> pd.DataFrame:
        """:meth:`btyd` as of the backtest cutoff (the rows before it only)."""
        self._require_backtest()
        return self._read("btyd_calibration")

    def customers_calibration(self) -> pd.DataFrame:
        """:meth:`customer_metrics` as of the backtest cutoff: the rows before it, recency
        counted from it."""
        self._require_backtest()
        return self._read("customers_calibration")

    def holdout(self) -> pd.DataFrame:
        """Per customer active before the cutoff, what they did in the held-out window:
        ``orders`` (distinct invoices), ``purchase_days`` and ``revenue`` (0 when nothing)."""
        self._require_backtest()
        return self._read("holdout")

    def _require_backtest(self) -> None:
        if not self.has_backtest():
            raise FileNotFoundError(
                self.backtest_note()
                or f"{self.folder} has no backtest marts: the cleaning step ran without predict parameters"
            )

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
