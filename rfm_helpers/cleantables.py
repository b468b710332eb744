"""The tables the reports compute from the clean transactions, by pandas or by DuckDB.

An input that fits in memory is loaded into pandas once per notebook. One too large for that
(the ``engine`` parameter, or ``auto`` above ``engine.auto_min_rows`` rows, or a folder of
parquet files) is cleaned out of core (:mod:`rfm_helpers.outofcore`) and every table below is
computed with SQL over the clean parquet (:mod:`rfm_helpers.sqlaggregates`): the same small
tables (parity tests), and the notebooks never hold the transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from rfm_helpers import atomic, cleaning, domain, eda, loading, metrics, outofcore, sqlaggregates
from rfm_helpers.config import RunConfig


class CleanTables:
    """The clean transactions of a run, summarised by the engine the run uses."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.engine = outofcore.resolve_engine(cfg.input, cfg.engine)
        self._clean: pd.DataFrame | None = None
        self.netting: cleaning.NettingSummary | None = None
        """What netting cancelled orders did (or, with ``cancellations: drop``, would do), once
        :meth:`clean_transactions` has run."""

    @property
    def out_of_core(self) -> bool:
        return self.engine == "duckdb"

    @property
    def clean(self) -> pd.DataFrame:
        """The clean transactions themselves (pandas engine only)."""
        if self.out_of_core:
            raise RuntimeError("the clean transactions are not loaded in an out-of-core run; use the tables")
        if self._clean is None:
            self._clean = pd.read_parquet(self.cfg.clean_path)
        return self._clean

    def _sql(self, function: Callable[..., Any], *args: object) -> Any:
        """``function`` of :mod:`rfm_helpers.sqlaggregates` on this run's clean parquet."""
        return function(self.cfg.clean_path, *args, engine_cfg=self.cfg.engine)

    def raw(self) -> tuple[pd.DataFrame, str]:
        """The raw rows the cleaning report shows (all of them, or out of core a uniform sample)
        and a sentence saying which."""
        if not self.out_of_core:
            raw = loading.load_transactions(self.cfg.input, cache_dir=self.cfg.cache_dir)
            span = f"from {raw['invoice_date'].min():%d %b %Y} to {raw['invoice_date'].max():%d %b %Y}"
            return raw, f"**Input file:** `{self.cfg.input.path}` — {len(raw):,} rows, {span}."
        total = outofcore.input_rows(self.cfg.input) or 0
        raw = sqlaggregates.row_sample(
            self.cfg.input, self.cfg.engine.sample_rows, engine_cfg=self.cfg.engine
        )
        return raw, (
            f"**Input:** `{self.cfg.input.path}` — {total:,} rows, too many to load: cleaned out of core "
            f"in DuckDB. The sections before the ledger describe a uniform sample of {len(raw):,} rows; "
            "the ledger and every later report count all rows."
        )

    def clean_transactions(
        self, raw: pd.DataFrame, non_product: pd.DataFrame, flagged: pd.DataFrame
    ) -> pd.DataFrame:
        """Apply the cleaning rules, write the clean parquet (atomically) and return the ledger.

        ``raw`` is the loaded input (pandas) or ignored (out of core: every row is read again)."""
        if self.out_of_core:
            result = outofcore.clean_and_aggregate(
                self.cfg.input,
                self.cfg.cleaning,
                self.cfg.rfm,
                non_product,
                flagged,
                self.cfg.clean_path,
                self.cfg.engine,
            )
            self.netting = result.netting
            return result.ledger
        result = cleaning.clean_transactions(raw, self.cfg.cleaning, non_product, flagged)
        atomic.write_parquet(result.clean, self.cfg.clean_path)
        self._clean = result.clean
        self.netting = result.netting
        return result.ledger

    def size(self) -> tuple[int, int]:
        """Invoice lines and customers of the clean transactions."""
        if not self.out_of_core:
            return len(self.clean), self.clean["customer_id"].nunique()
        figures = self._sql(sqlaggregates.overview_figures)
        return int(figures["invoice_lines"]), int(figures["customers"])

    def has(self, column: str) -> bool:
        """The export maps ``column`` (e.g. ``country``)."""
        return getattr(self.cfg.input.columns, column, None) is not None

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        if not self.out_of_core:
            return self.clean["invoice_date"].min(), self.clean["invoice_date"].max()
        figures = self._sql(sqlaggregates.overview_figures)
        return pd.Timestamp(figures["first_date"]), pd.Timestamp(figures["last_date"])

    def dates(self) -> pd.DataFrame:
        """What snapshot and method text read: with pandas the clean rows' dates, invoices and
        customers (so that metrics.resolve_snapshot can count and name rows dated after the
        snapshot); out of core the first and last date as a two-row frame (the out-of-core
        cleaning has checked those rows already)."""
        if not self.out_of_core:
            return self.clean[[c for c in ("invoice_date", "invoice_id", "customer_id") if c in self.clean]]
        return pd.DataFrame({"invoice_date": list(self.date_range())})

    def figures(self) -> dict:
        """Headline numbers of the clean transactions (:func:`rfm_helpers.eda.overview_figures`)."""
        if not self.out_of_core:
            return eda.overview_figures(self.clean)
        f = self._sql(sqlaggregates.overview_figures)
        figures = {
            k: f[k] for k in ("invoice_lines", "orders", "customers", "revenue", "first_date", "last_date")
        }
        figures.update(
            {
                k: f[k]
                for k, column in (("products", "stock_code"), ("countries", "country"))
                if self.has(column)
            }
        )
        return figures

    def overview(self, currency: str) -> pd.DataFrame:
        return eda.overview_table(self.figures(), currency)

    def monthly(self) -> pd.DataFrame:
        return self._sql(sqlaggregates.monthly) if self.out_of_core else eda.monthly(self.clean)

    def by_country(self) -> pd.DataFrame:
        return self._sql(sqlaggregates.by_country) if self.out_of_core else eda.by_country(self.clean)

    def orders(self) -> pd.DataFrame:
        """One row per order with at least ``lines`` and ``revenue``."""
        return self._sql(sqlaggregates.orders) if self.out_of_core else eda.orders(self.clean)

    def top_products(self, n: int) -> pd.DataFrame:
        if self.out_of_core:
            return self._sql(sqlaggregates.top_products, n)
        return eda.top_products(self.clean, n)

    def orders_per_customer(self) -> pd.DataFrame:
        if self.out_of_core:
            return self._sql(sqlaggregates.orders_per_customer)
        return eda.orders_per_customer(self.clean)

    def customer_metrics(self) -> pd.DataFrame:
        if self.out_of_core:
            table = self._sql(sqlaggregates.customer_metrics, self.cfg.rfm, self.has("country"))
            return domain.check_customer_metrics(table, self.cfg.rfm)  # as metrics.customer_metrics does
        return metrics.customer_metrics(self.clean, self.cfg.rfm)

    def monthly_rfm_trend(self) -> pd.DataFrame:
        if self.out_of_core:
            return self._sql(sqlaggregates.monthly_rfm_trend, self.cfg.rfm)
        return metrics.monthly_rfm_trend(self.clean, self.cfg.rfm)
