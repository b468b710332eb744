"""The customer table and the monthly RFM trend (SQL, through
:func:`rfm_helpers.sql.transactions.clean_frame`), resolve_snapshot and apply_outlier_policy:
hand-computed cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.analysis.metrics import MetricsError, apply_outlier_policy, resolve_snapshot
from rfm_helpers.config import InputConfig, RFMConfig
from rfm_helpers.sql import transactions
from rfm_helpers.sql.cleaning import CleaningError


def _tx(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    invoice, date, customer, revenue, country = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "invoice_id": list(invoice),
            "invoice_date": pd.to_datetime(list(date)),
            "customer_id": list(customer),
            "revenue": list(revenue),
            "country": list(country),
        }
    )


def _typed(tx: pd.DataFrame) -> pd.DataFrame:
    """``tx`` as the SQL path reads it: revenue is quantity × unit price, so one unit at the
    line's revenue."""
    return tx.assign(quantity=1.0, unit_price=tx["revenue"])


def customer_metrics(tx: pd.DataFrame, cfg: RFMConfig) -> pd.DataFrame:
    """The customer table of ``tx`` (every row survives the cleaning rules)."""
    return transactions.clean_frame(_typed(tx), rfm_cfg=cfg).customers


def monthly_rfm_trend(tx: pd.DataFrame, cfg: RFMConfig, folder: Path) -> pd.DataFrame:
    """The monthly trend of ``tx`` as the reports read it (months without customers included)."""
    transactions.clean_frame(_typed(tx), rfm_cfg=cfg).write(folder)
    return transactions.Marts(folder, InputConfig().columns).monthly_rfm_trend()


@pytest.fixture
def clean() -> pd.DataFrame:
    """3 customers, 6 rows. A: 2 invoices / 3 lines / 35; B: 2 / 2 / 150; C: 1 / 1 / 7.5."""
    return _tx(
        [
            ("I1", "2011-01-01 10:00", "A", 10.0, "United Kingdom"),
            ("I1", "2011-01-01 10:00", "A", 5.0, "United Kingdom"),
            ("I2", "2011-01-10 09:00", "A", 20.0, "United Kingdom"),
            ("I3", "2011-01-05 11:00", "B", 100.0, "Germany"),
            ("I4", "2011-01-20 15:30", "B", 50.0, "France"),  # the last transaction
            ("I5", "2011-01-15 08:00", "C", 7.5, "Spain"),
        ]
    )


def test_default_snapshot_is_day_after_last_transaction(clean):
    # last transaction 2011-01-20 15:30 → next midnight
    assert resolve_snapshot(clean, RFMConfig()) == pd.Timestamp("2011-01-21")


def test_customer_metrics_invoices(clean):
    rfm = customer_metrics(clean, RFMConfig())
    assert rfm.columns.tolist() == [
        "customer_id", "recency", "frequency", "monetary", "first_purchase", "last_purchase", "country"
    ]  # fmt: skip
    assert rfm["customer_id"].tolist() == ["A", "B", "C"]
    # snapshot 01-21: A last 01-10 → 11 days, B 01-20 → 1, C 01-15 → 6
    assert rfm["recency"].tolist() == [11, 1, 6]
    # distinct invoices: A {I1, I2}, B {I3, I4}, C {I5}
    assert rfm["frequency"].tolist() == [2, 2, 1]
    # A 10 + 5 + 20, B 100 + 50, C 7.5
    assert rfm["monetary"].tolist() == [35.0, 150.0, 7.5]
    assert rfm["recency"].dtype == "int64" and rfm["frequency"].dtype == "int64"
    assert (
        rfm["first_purchase"].tolist()
        == pd.to_datetime(["2011-01-01 10:00", "2011-01-05 11:00", "2011-01-15 08:00"]).tolist()
    )
    assert rfm["last_purchase"].iloc[1] == pd.Timestamp("2011-01-20 15:30")
    # B: one row in Germany, one in France → tie → alphabetical: France
    assert rfm["country"].tolist() == ["United Kingdom", "France", "Spain"]


def test_customer_metrics_lines(clean):
    # rows: A 3, B 2, C 1
    rfm = customer_metrics(clean, RFMConfig(frequency="lines"))
    assert rfm["frequency"].tolist() == [3, 2, 1]


def test_country_is_the_most_frequent_by_rows(clean):
    extra = _tx([("I6", "2011-01-02 10:00", "B", 1.0, "Germany")])  # B: Germany 2 rows, France 1
    rfm = customer_metrics(pd.concat([clean, extra], ignore_index=True), RFMConfig())
    assert rfm.set_index("customer_id").loc["B", "country"] == "Germany"


def test_no_country_column_means_no_country(clean):
    rfm = customer_metrics(clean.drop(columns="country"), RFMConfig())
    assert "country" not in rfm.columns


def test_explicit_snapshot(clean):
    cfg = RFMConfig(snapshot_date=dt.date(2011, 2, 1))
    # 2011-02-01 − 01-10 = 22, − 01-20 = 12, − 01-15 = 17
    assert customer_metrics(clean, cfg)["recency"].tolist() == [22, 12, 17]


def test_snapshot_on_the_last_day_is_allowed(clean):
    cfg = RFMConfig(snapshot_date=dt.date(2011, 1, 20))
    assert customer_metrics(clean, cfg)["recency"].tolist() == [10, 0, 5]


def test_snapshot_before_the_data_raises(clean):
    cfg = RFMConfig(snapshot_date=dt.date(2011, 1, 19))
    with pytest.raises(MetricsError) as err:
        resolve_snapshot(clean, cfg)
    message = str(err.value)
    for part in ("2011-01-19", "2011-01-01", "2011-01-20", "rfm.snapshot_date"):
        assert part in message
    assert isinstance(err.value, ValueError)


def test_last_transaction_mode_gives_zero_to_the_latest_customer(clean):
    # reference = 2011-01-20 (the day of the last transaction): A 10, B 0, C 5;
    # snapshot_date is ignored in this mode, even when earlier
    for snapshot in (None, dt.date(2010, 1, 1)):
        cfg = RFMConfig(recency_from="last_transaction", snapshot_date=snapshot)
        assert resolve_snapshot(clean, cfg) == pd.Timestamp("2011-01-20")
        assert customer_metrics(clean, cfg)["recency"].tolist() == [10, 0, 5]


def test_empty_transactions_raise():
    empty = _tx([("I1", "2011-01-01", "A", 1.0, "UK")]).iloc[:0]
    with pytest.raises(MetricsError, match="empty"):
        resolve_snapshot(empty, RFMConfig())
    with pytest.raises(CleaningError, match="no rows"):
        customer_metrics(empty, RFMConfig())


# --- outliers -------------------------------------------------------------------------


@pytest.fixture
def rfm5() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "recency": [1, 2, 3, 4, 100],
            "frequency": [1, 1, 2, 10, 3],
            "monetary": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )


# Linear interpolation, n = 5: position 0.95 · (5 − 1) = 3.8 → v[3] + 0.8 · (v[4] − v[3]) (sorted):
#   recency   1, 2, 3, 4, 100  → 4 + 0.8 · 96 = 80.8  → above: e
#   frequency 1, 1, 2, 3, 10   → 3 + 0.8 · 7  = 8.6   → above: d
#   monetary  10 … 50          → 40 + 0.8 · 10 = 48.0 → above: e
THRESHOLDS = [80.8, 8.6, 48.0]


def test_thresholds_match_numpy(rfm5):
    expected = [np.quantile(rfm5[m], 0.95) for m in ("recency", "frequency", "monetary")]
    assert pytest.approx(expected) == THRESHOLDS


def test_keep(rfm5):
    out, report = apply_outlier_policy(rfm5, RFMConfig(outliers="keep"))
    pd.testing.assert_frame_equal(out, rfm5)
    assert report["metric"].tolist() == ["recency", "frequency", "monetary"]
    assert report["threshold"].tolist() == pytest.approx(THRESHOLDS)
    assert report["customers_above"].tolist() == [1, 1, 1]
    assert report["revenue_above"].tolist() == [50.0, 40.0, 50.0]  # e, d, e
    assert report.attrs["customers_removed"] == 0


def test_trim_drops_above_on_any_metric(rfm5):
    out, report = apply_outlier_policy(rfm5, RFMConfig(outliers="trim"))
    assert out["customer_id"].tolist() == ["a", "b", "c"]  # d (frequency) and e (recency, monetary)
    assert report.attrs["customers_before"] == 5
    assert report.attrs["customers_removed"] == 2  # e counted once
    assert report.attrs["revenue_removed"] == 90.0  # 40 + 50
    assert report.attrs["revenue_removed_share"] == pytest.approx(90 / 150)


def test_trim_keeps_values_equal_to_the_threshold(rfm5):
    # monetary 10, 20, 30, 40, 40 → 40 + 0.8 · 0 = 40; recency 1, 2, 3, 5, 5 → 5 + 0.8 · 0 = 5:
    # nobody is strictly above either
    tied = rfm5.assign(monetary=[10.0, 20.0, 30.0, 40.0, 40.0], recency=[1, 2, 3, 5, 5])
    out, report = apply_outlier_policy(tied, RFMConfig(outliers="trim"))
    assert report["threshold"].tolist() == pytest.approx([5.0, 8.6, 40.0])
    assert report["customers_above"].tolist() == [0, 1, 0]
    assert out["customer_id"].tolist() == ["a", "b", "c", "e"]  # only d (frequency 10 > 8.6)


def test_cap_winsorizes_upward_and_keeps_integers(rfm5):
    out, _ = apply_outlier_policy(rfm5, RFMConfig(outliers="cap"))
    # recency cap floor(80.8) = 80, frequency floor(8.6) = 8, monetary 48.0
    assert out["recency"].tolist() == [1, 2, 3, 4, 80]
    assert out["frequency"].tolist() == [1, 1, 2, 8, 3]
    assert out["monetary"].tolist() == [10.0, 20.0, 30.0, 40.0, 48.0]
    assert out["recency"].dtype == "int64" and out["frequency"].dtype == "int64"
    assert len(out) == 5


def test_policy_does_not_modify_its_input(rfm5):
    before = rfm5.copy()
    apply_outlier_policy(rfm5, RFMConfig(outliers="cap"))
    pd.testing.assert_frame_equal(rfm5, before)


# --- monthly trend --------------------------------------------------------------------


def test_monthly_trend(clean, tmp_path):
    extra = _tx([("I0", "2010-11-29 12:00", "A", 8.0, "United Kingdom")])
    tx = pd.concat([extra, clean], ignore_index=True)
    trend = monthly_rfm_trend(tx, RFMConfig(), tmp_path)
    assert trend["month"].tolist() == pd.to_datetime(["2010-11-01", "2010-12-01", "2011-01-01"]).tolist()
    assert trend["customers"].tolist() == [1, 0, 3]
    nov, dec, jan = (trend.iloc[i] for i in range(3))
    # Nov: A's first order ever → new, no previous order → no recency; 1 invoice; 8.0
    assert (nov["new_customers"], nov["returning_customers"]) == (1, 0)
    assert pd.isna(nov["recency_mean"])
    assert (nov["frequency_mean"], nov["monetary_mean"]) == (1, 8.0)
    # Dec: nobody active → 0 customers, statistics missing
    assert dec["customers"] == 0 and dec[["recency_mean", "monetary_median"]].isna().all()
    # Jan: A returns (previous order 2010-11-29, first January order 2011-01-01 → 33 days);
    # B and C are new → recency over A only
    assert (jan["new_customers"], jan["returning_customers"]) == (2, 1)
    assert jan["recency_mean"] == 33 and jan["recency_median"] == 33
    # invoices within January: A 2, B 2, C 1 → mean 5/3, median 2
    assert jan["frequency_mean"] == pytest.approx(5 / 3) and jan["frequency_median"] == 2
    # revenue within January: 35, 150, 7.5 → mean 192.5 / 3, median 35
    assert jan["monetary_mean"] == pytest.approx(192.5 / 3) and jan["monetary_median"] == 35


def test_monthly_trend_last_transaction_mode(clean, tmp_path):
    extra = _tx([("I0", "2010-12-30 12:00", "A", 8.0, "United Kingdom")])
    tx = pd.concat([extra, clean], ignore_index=True)
    trend = monthly_rfm_trend(tx, RFMConfig(recency_from="last_transaction", frequency="lines"), tmp_path)
    # recency does not depend on recency_from: A is new in Dec; in Jan A returns after
    # 2010-12-30 → 2011-01-01 = 2 days, B and C are new
    assert trend["recency_mean"].isna().tolist() == [True, False]
    assert trend["recency_mean"].iloc[1] == 2
    # lines in January: A 3, B 2, C 1 → mean 2
    assert trend["frequency_mean"].tolist() == [1, 2]


# --- rows dated after the snapshot date, or in the future (issue 9) --------------------------


def test_rows_after_the_snapshot_date_are_counted_and_named(clean):
    # After 2011-01-12: I4 (20 Jan, B) and I5 (15 Jan, C); the latest is I4.
    with pytest.raises(MetricsError) as err:
        resolve_snapshot(
            clean, RFMConfig(snapshot_date=dt.date(2011, 1, 12)), today=pd.Timestamp("2026-01-01")
        )
    assert str(err.value) == (
        "rfm.snapshot_date is 2011-01-12, before the last transaction: 2 transactions are dated after it, "
        "the latest on 2011-01-20 15:30 (invoice I4, customer B); the data runs from 2011-01-01 to "
        "2011-01-20. Recency is counted back from the snapshot date, so it would be negative for them. "
        "Set rfm.snapshot_date to 2011-01-20 or later, or to null for the day after the last transaction."
    )


def test_rows_on_the_snapshot_day_are_allowed(clean):
    cfg = RFMConfig(snapshot_date=dt.date(2011, 1, 20))
    assert resolve_snapshot(clean, cfg, today=pd.Timestamp("2011-01-20")) == pd.Timestamp("2011-01-20")


def test_future_rows_without_snapshot_date(clean):
    future = pd.concat([clean, _tx([("I9", "2099-03-01 12:00", "C", 1.0, "Spain")])], ignore_index=True)
    with pytest.raises(MetricsError) as err:
        resolve_snapshot(future, RFMConfig(), today=pd.Timestamp("2026-11-29 17:00"))
    assert str(err.value) == (
        "1 transaction is dated after today (2026-11-29, the day the report runs), the latest on "
        "2099-03-01 12:00 (invoice I9, customer C); the data runs from 2011-01-01 to 2099-03-01. "
        "rfm.snapshot_date is null, so recency would be counted from the day after that future day. Fix "
        "those dates in the file (a wrong year, or day and month swapped by input.date_format?), or, if "
        "they are right, set rfm.snapshot_date to 2099-03-01 or later."
    )
    # the same rows are fine once the day they are on has come
    assert resolve_snapshot(future, RFMConfig(), today=pd.Timestamp("2099-03-01")) == pd.Timestamp(
        "2099-03-02"
    )
    # ... or with an explicit snapshot date after them
    assert resolve_snapshot(
        future, RFMConfig(snapshot_date=dt.date(2099, 3, 1)), today=pd.Timestamp("2026-11-29")
    ) == pd.Timestamp("2099-03-01")


def test_future_rows_in_last_transaction_mode(clean):
    future = pd.concat([clean, _tx([("I9", "2030-01-01 00:00", "A", 1.0, "Spain")])], ignore_index=True)
    cfg = RFMConfig(recency_from="last_transaction", snapshot_date=dt.date(2010, 1, 1))  # date ignored
    with pytest.raises(
        MetricsError, match=r"^1 transaction is dated after today \(2026-11-29.*recency_from is "
    ):
        resolve_snapshot(future, cfg, today=pd.Timestamp("2026-11-29"))


def test_snapshot_date_before_future_rows_says_to_check_them(clean):
    future = pd.concat([clean, _tx([("I9", "2099-03-01 12:00", "C", 1.0, "Spain")])], ignore_index=True)
    with pytest.raises(MetricsError) as err:
        resolve_snapshot(
            future, RFMConfig(snapshot_date=dt.date(2011, 2, 1)), today=pd.Timestamp("2026-11-29")
        )
    assert str(err.value).endswith(
        "Set rfm.snapshot_date to 2099-03-01 or later if those dates are right; they are in the future "
        "(today is 2026-11-29), so check them in the file first."
    )
