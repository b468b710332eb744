"""The buy-till-you-die and backtest marts in SQL (sql/rfm/btyd_summary.sql,
holdout_outcomes.sql, clean_before.sql) against their pandas definitions, on the test sample."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from rfm_helpers.analysis import predictive
from rfm_helpers.config import EngineConfig, PredictConfig, load_config
from rfm_helpers.data import loading, reference
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.sql import dialect, rules, transactions
from rfm_helpers.sql.engines import duckdb_engine

PARAMS = PROJECT_ROOT / "params" / "test_sample.yaml"
CUTOFFS = [dt.date(2011, 12, 10), dt.date(2011, 9, 11), dt.date(2011, 3, 1)]
QUERY_PARAMS = {
    "btyd_summary": {"cutoff": dt.date(2011, 9, 11)},
    "holdout_outcomes": {"cutoff": dt.date(2011, 9, 11), "end": dt.date(2011, 12, 10)},
    "clean_before": {"cutoff": dt.date(2011, 9, 11)},
}


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    """The clean rows of the test sample, as the run cleans them."""
    cfg = load_config(PARAMS)
    raw = loading.load_transactions(cfg.input)
    non_product = reference.load_non_product_codes(cfg.reference.non_product_codes)
    flagged = reference.load_flagged_descriptions(cfg.reference.flagged_descriptions)
    result = transactions.clean_frame(
        raw, cfg.cleaning, cfg.rfm, non_product, flagged, cfg.input.missing_text
    )
    assert result.clean is not None
    return result.clean


@pytest.fixture
def engine(clean):
    """A DuckDB whose ``rfm_clean`` holds the clean rows of the test sample."""
    with duckdb_engine(EngineConfig()) as duck:
        duck.load_frame("rfm_clean", clean)
        yield duck


@pytest.mark.parametrize("name", sorted(QUERY_PARAMS))
@pytest.mark.parametrize("sql_dialect", ["duckdb", "postgres", "spark"])
def test_queries_render_in_every_dialect(name, sql_dialect):
    sql = dialect.render(name, sql_dialect, **QUERY_PARAMS[name])
    tree = sqlglot.parse_one(sql, read=sql_dialect)
    assert not list(tree.find_all(exp.Placeholder))
    assert "2011-09-11" in sql


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_sql_summary_is_rfm_summary(engine, clean, cutoff):
    """Same customers, same x, t_x, T and monetary value as predictive.rfm_summary of the rows
    dated before the cutoff (rfm_summary keeps the cutoff day itself, the SQL does not)."""
    sql = transactions.btyd_summary(engine, cutoff)
    before = clean[clean["invoice_date"] < pd.Timestamp(cutoff)]
    expected = predictive.rfm_summary(before, cutoff, date_col="invoice_date")
    expected["customer_id"] = expected["customer_id"].astype(sql["customer_id"].dtype)
    assert len(sql) == before["customer_id"].nunique() > 0
    pd.testing.assert_frame_equal(sql.drop(columns="monetary_value"), expected.drop(columns="monetary_value"))
    # Exact DECIMAL day sums in SQL, float sums in pandas: equal to the last few bits.
    pd.testing.assert_series_equal(sql["monetary_value"], expected["monetary_value"], rtol=1e-12, atol=1e-9)


def test_holdout_outcomes_count_the_window(engine, clean):
    cutoff, end = dt.date(2011, 9, 11), dt.date(2011, 12, 10)
    sql = transactions.holdout_outcomes(engine, cutoff, end)
    dates = clean["invoice_date"]
    active = sorted(clean.loc[dates < pd.Timestamp(cutoff), "customer_id"].unique())
    window = clean[(dates >= pd.Timestamp(cutoff)) & (dates < pd.Timestamp(end))]
    grouped = window.groupby("customer_id")
    expected = pd.DataFrame({"customer_id": active}).assign(
        orders=lambda f: f["customer_id"].map(grouped["invoice_id"].nunique()).fillna(0).astype("int64"),
        purchase_days=lambda f: (
            f["customer_id"]
            .map(grouped["invoice_date"].agg(lambda d: d.dt.normalize().nunique()))
            .fillna(0)
            .astype("int64")
        ),
        revenue=lambda f: f["customer_id"].map(grouped["revenue"].sum()).fillna(0.0),
    )
    assert sql["customer_id"].tolist() == expected["customer_id"].tolist()
    assert sql["orders"].tolist() == expected["orders"].tolist()
    assert sql["purchase_days"].tolist() == expected["purchase_days"].tolist()
    pd.testing.assert_series_equal(sql["revenue"], expected["revenue"], check_names=False, atol=1e-6)
    assert 0 < (sql["orders"] > 0).sum() < len(sql)
    # Customers first seen in the window are not listed (there are some).
    assert set(window["customer_id"]) - set(active)
    assert not (set(window["customer_id"]) - set(active)) & set(sql["customer_id"])


def test_customer_table_at_the_cutoff_is_the_one_definition(engine, clean):
    """customers_calibration = rules.customer_table on the rows before the cutoff alone."""
    cfg = load_config(PARAMS)
    predict = PredictConfig(holdout_days=90)
    marts, figures = transactions.prediction_marts(engine, cfg.rfm, predict, has_country=True)
    cutoff = pd.Timestamp(figures["backtest_cutoff"])
    assert figures["prediction_end"] == "2011-12-10T00:00:00" and cutoff == pd.Timestamp("2011-09-11")
    with duckdb_engine(EngineConfig()) as alone:
        alone.load_frame("rfm_clean", clean[clean["invoice_date"] < cutoff])
        cal_cfg = cfg.rfm.model_copy(update={"snapshot_date": cutoff.date()})
        expected = rules.customer_table(alone, cal_cfg, has_country=True)
    pd.testing.assert_frame_equal(marts["customers_calibration"], expected)
    assert marts["customers_calibration"]["last_purchase"].max() < cutoff
    assert (marts["customers_calibration"]["recency"] >= 0).all()
    assert marts["btyd_calibration"]["customer_id"].tolist() == expected["customer_id"].tolist()
    assert marts["holdout"]["customer_id"].tolist() == expected["customer_id"].tolist()
    # The snapshot's summary: every clean customer, T counted to the snapshot.
    assert len(marts["btyd"]) == clean["customer_id"].nunique()


def test_short_data_get_a_note_instead_of_a_backtest(engine):
    cfg = load_config(PARAMS)
    marts, figures = transactions.prediction_marts(engine, cfg.rfm, PredictConfig(holdout_days=200), True)
    assert set(marts) == {"btyd"}
    assert "backtest_cutoff" not in figures
    assert "less than twice predict.holdout_days (200)" in figures["backtest_note"]
    assert "at most 187" in figures["backtest_note"]  # 2010-12-01 .. 2011-12-10: 374 days


def test_predict_section_is_strict():
    assert PredictConfig().model_dump() == {
        "holdout_days": 90,
        "horizon_days": 90,
        "monthly_discount_rate": 0.01,
        "model": "bgnbd",
    }
    with pytest.raises(ValueError, match="holdout_days"):
        PredictConfig(holdout_days=0)
    with pytest.raises(ValueError, match="Extra inputs"):
        PredictConfig(horizon=30)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="model"):
        PredictConfig(model="lifetimes")  # type: ignore[arg-type]


class _Renders:
    """Just enough of an engine for _CleanBefore to rewrite queries in ``dialect``."""

    where = "nowhere"

    def __init__(self, sql_dialect: str) -> None:
        self.dialect = sql_dialect

    def create_view(self, name: str, sql: str) -> None:
        assert name == "rfm_clean_before" and "rfm_clean" in sql


@pytest.mark.parametrize("sql_dialect", ["duckdb", "postgres", "spark"])
def test_only_the_table_name_changes_when_the_customer_table_reads_the_rows_before(sql_dialect):
    """customer_table's queries, rewritten to read rfm_clean_before, differ from the rendered
    ones by that name only (the parse and rewrite keep every dialect's text)."""
    restricted = transactions._CleanBefore(_Renders(sql_dialect), dt.date(2011, 9, 11))  # type: ignore[arg-type]
    queries = {
        "customer_metrics": {"frequency_lines": False, "snapshot": dt.date(2011, 9, 11)},
        "clean_totals": {},
        "customer_count": {},
        "late_rows": {"after": dt.datetime(2011, 9, 12)},
    }
    for name, values in queries.items():
        sql = dialect.render(name, sql_dialect, **values).split("*/")[-1]
        rewritten = restricted._renamed(sql)
        assert rewritten == re.sub(r"\brfm_clean\b", "rfm_clean_before", sql).strip(), name
        assert "rfm_clean_before" in rewritten
