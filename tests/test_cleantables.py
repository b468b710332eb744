"""CleanTables gives the notebooks the same tables whichever engine cleaned the data: pandas on
the loaded table, or DuckDB SQL over the clean parquet (out of core). Checked on the test sample,
cleaned once by each engine."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from rfm_helpers import reference
from rfm_helpers.cleantables import CleanTables
from rfm_helpers.config import load_config

PARAMS = "params/test_sample.yaml"


def tables_for(engine: str) -> CleanTables:
    """The test sample cleaned by ``engine``, as its own run (paths follow ``run_name``)."""
    cfg = load_config(PARAMS)
    cfg = cfg.model_copy(
        update={"run_name": f"sample_{engine}", "engine": cfg.engine.model_copy(update={"engine": engine})}
    )
    data = CleanTables(cfg)
    raw, _ = data.raw()
    non_product = reference.load_non_product_codes(cfg.reference.non_product_codes)
    flagged = reference.load_flagged_descriptions(cfg.reference.flagged_descriptions)
    data.ledger = data.clean_transactions(raw, non_product, flagged)
    return data


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, CleanTables]]:
    # Output paths are resolved when used, so the output root stays set for the whole module.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(tmp_path_factory.mktemp("cleantables")))
        yield {engine: tables_for(engine) for engine in ("pandas", "duckdb")}


def test_engines_are_what_was_asked(both: dict[str, CleanTables]) -> None:
    assert not both["pandas"].out_of_core and both["duckdb"].out_of_core
    with pytest.raises(RuntimeError, match="not loaded in an out-of-core run"):
        _ = both["duckdb"].clean


def test_same_ledger_and_size(both: dict[str, CleanTables]) -> None:
    pandas_ledger, duckdb_ledger = both["pandas"].ledger, both["duckdb"].ledger
    pd.testing.assert_frame_equal(
        pandas_ledger[["step", "rows_removed", "rows_remaining"]],
        duckdb_ledger[["step", "rows_removed", "rows_remaining"]],
    )
    lines, customers = both["pandas"].size()
    assert both["duckdb"].size() == (lines, customers)
    assert lines == pandas_ledger["rows_remaining"].iloc[-1]


@pytest.mark.parametrize(
    "table", ["monthly", "by_country", "orders_per_customer", "customer_metrics", "monthly_rfm_trend"]
)
def test_same_tables(both: dict[str, CleanTables], table: str) -> None:
    expected = getattr(both["pandas"], table)()
    got = getattr(both["duckdb"], table)()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)


def test_same_orders_and_overview(both: dict[str, CleanTables]) -> None:
    expected = both["pandas"].orders()[["invoice_id", "lines", "revenue"]]
    got = both["duckdb"].orders()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)
    assert both["duckdb"].overview("£").equals(both["pandas"].overview("£"))
    assert both["duckdb"].date_range() == both["pandas"].date_range()
    top = both["pandas"].top_products(5)
    pd.testing.assert_frame_equal(both["duckdb"].top_products(5), top, check_dtype=False, rtol=1e-9)
