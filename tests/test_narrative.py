"""Report sentences: each describe_* on a tiny table carries the numbers measured from it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm_helpers import narrative
from rfm_helpers.config import ClusteringConfig, RFMConfig


@pytest.mark.parametrize(
    ("value", "expected"), [(0, "0%"), (0.004, "0.4%"), (0.0099, "1.0%"), (0.01, "1%"), (0.256, "26%")]
)
def test_pct_keeps_one_decimal_below_one_percent(value, expected):
    assert narrative._pct(value) == expected


def test_skipped_names_the_columns():
    text = narrative.skipped("stock_code", "description")
    assert "`stock_code`, `description`" in text
    assert "input.columns" in text
    assert text.endswith("Skipped.*")


# --- cleaning --------------------------------------------------------------------------


def test_describe_anomalies_counts():
    raw = pd.DataFrame(
        {
            "invoice_id": ["536365", "C536366", "c536367", "536368", "536369"],
            "quantity": [2, -1, -2, 1, 1],
            "unit_price": [3.0, 3.0, 5.0, 0.0, -2.0],
            "customer_id": ["c1", "c1", None, None, "c2"],
            "description": ["MUG", "MUG", None, "X", "Y"],
            "revenue": [6.0, -3.0, -10.0, 0.0, -2.0],
        }
    )
    text = narrative.describe_anomalies(raw)
    assert text.startswith("**What needs cleaning:**")
    # negative quantity: rows 2 and 3, revenue -3 - 10 = -13
    assert "- **2** rows have a negative quantity (-£13 of revenue)" in text
    assert "**1** rows have a unit price of 0 and **1** a negative one" in text
    # C536366 and c536367 (case-insensitive): 2 rows, 2 invoices
    assert "**2** rows belong to **2** cancelled invoices" in text
    assert "**2** rows (40%) have no customer ID" in text  # 2 of 5
    assert "**1** rows have no description" in text


def test_describe_anomalies_without_optional_columns():
    raw = pd.DataFrame({"invoice_id": ["1", "C2"], "customer_id": ["a", "b"], "revenue": [1.0, -1.0]})
    text = narrative.describe_anomalies(raw)
    assert "negative quantity" not in text
    assert "unit price" not in text
    assert "description" not in text
    assert "**1** rows belong to **1** cancelled invoices" in text
    assert "**0** rows (0%) have no customer ID" in text


def _by_month(rows, missing) -> pd.DataFrame:
    months = [f"2011-{i + 1:02d}" for i in range(len(rows))]
    table = pd.DataFrame({"month": months, "rows": rows, "rows_missing_customer": missing})
    return table.assign(share_missing=table["rows_missing_customer"] / table["rows"])


def _by_country(countries, rows, missing) -> pd.DataFrame:
    table = pd.DataFrame({"country": countries, "rows": rows, "rows_missing_customer": missing})
    return table.assign(share_missing=table["rows_missing_customer"] / table["rows"])


def test_describe_missing_customers_spread_out():
    # 3 months of 100 rows with 10 missing each, plus an empty month (ignored): overall 30/300 = 10 %
    by_month = _by_month([100, 100, 100, 0], [10, 10, 10, 0])
    # UK has 24 of the 30 missing (80 %) for 240 of 300 rows (80 %): in line with sales
    by_country = _by_country(["United Kingdom", "France"], [240, 60], [24, 6])
    text = narrative.describe_missing_customers(by_month, by_country)
    assert text.startswith("**30** of 300 rows (10%) have no customer ID.")
    assert "**3 of 3 months** (between 10% and 10% of a month's rows)" in text
    assert "**2 of 2 countries**" in text
    assert "United Kingdom holds 80% of them for 80% of all rows." in text
    assert "**spread out**" in text
    assert "concentrated" not in text


def test_describe_missing_customers_concentrated_in_a_country():
    by_month = _by_month([100, 100, 100], [10, 10, 10])
    # UK: 27 of 30 missing (90 %) for 150 of 300 rows (50 %): 90 % > 50 % + 10 %
    by_country = _by_country(["France", "United Kingdom"], [150, 150], [3, 27])
    text = narrative.describe_missing_customers(by_month, by_country)
    assert "United Kingdom holds 90% of them for 50% of all rows." in text
    assert "**concentrated**" in text
    assert "spread out" not in text


def test_describe_missing_customers_concentrated_in_a_month():
    # overall 30/600 = 5 %; January 30/100 = 30 % > 3 × 5 %
    by_month = _by_month([100, 200, 300], [30, 0, 0])
    by_country = _by_country(["United Kingdom", "France"], [480, 120], [24, 6])  # 80 % for 80 %
    text = narrative.describe_missing_customers(by_month, by_country)
    assert "**30** of 600 rows (5%)" in text
    assert "**1 of 3 months** (between 0% and 30% of a month's rows)" in text
    assert "**concentrated**" in text


def test_describe_code_mismatch_uses_the_attrs():
    mismatch = pd.DataFrame({"stock_code": ["X"]})
    mismatch.attrs = {
        "distinct_stock_codes": 4070,
        "distinct_descriptions": 4223,
        "distinct_descriptions_trimmed": 4211,
        "codes_with_several_descriptions": 650,
    }
    text = narrative.describe_code_mismatch(mismatch)
    assert "**4,070 stock codes**" in text
    assert "**4,223 descriptions**" in text
    assert "(4,211 once surrounding spaces are trimmed)" in text
    assert "**650 codes**" in text


# --- EDA -------------------------------------------------------------------------------


def test_describe_monthly_best_and_worst():
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2011-01-01", "2011-02-01", "2011-03-01"]),
            "revenue": [30.0, 25.0, 12_300.0],
            "orders": [1, 2, 1500],
            "customers": [1, 2, 3],
        }
    )
    # data from 1 Jan to 31 Mar 23:00: whole months, no warning
    text = narrative.describe_monthly(
        monthly, pd.Timestamp("2011-01-01 08:00"), pd.Timestamp("2011-03-31 23:00")
    )
    assert "Revenue peaks in **March 2011** (£12.3k, 1,500 orders)" in text
    assert "lowest in **February 2011** (£25)" in text
    assert "part of a month" not in text
    # data from 5 Jan to 9 Mar: both ends are partial months, and the text names them
    text = narrative.describe_monthly(monthly, pd.Timestamp("2011-01-05"), pd.Timestamp("2011-03-09 12:50"))
    assert "January 2011 starts on 05 Jan; March 2011 ends on 09 Mar" in text


def test_describe_countries():
    countries = pd.DataFrame(
        {
            "country": ["France", "United Kingdom"],
            "customers": [2, 1],
            "orders": [2, 2],
            "revenue": [1205.0, 50.0],
            "revenue_share": [1205 / 1255, 50 / 1255],  # 0.960 → 96%
        }
    )
    text = narrative.describe_countries(countries)
    assert text == (
        "Customers come from **2 countries**; **France** alone brings **96%** of revenue from 2 customers."
    )


def test_describe_repeat_customers():
    per_customer = pd.DataFrame(
        {"orders": ["1", "2", "10+"], "customers": [2, 1, 2], "share": [0.4, 0.2, 0.4]}
    )
    assert narrative.describe_repeat_customers(per_customer).startswith(
        "**40%** of customers ordered only once."
    )


# --- RFM -------------------------------------------------------------------------------


@pytest.fixture
def clean() -> pd.DataFrame:
    return pd.DataFrame({"invoice_date": pd.to_datetime(["2011-06-01 10:00", "2011-12-09 12:50"])})


def test_describe_method_with_a_snapshot_parameter(clean):
    rfm = RFMConfig(snapshot_date=dt.date(2011, 12, 10))
    text = narrative.describe_method(rfm, pd.Timestamp("2011-12-10"), clean)
    assert "**snapshot date 10 Dec 2011** (the `rfm.snapshot_date` parameter)" in text
    assert "**distinct orders**" in text
    assert "5 bins by rank position" in text
    assert "Data up to 09 Dec 2011 12:50." in text


def test_describe_method_with_the_day_after_the_last_transaction(clean):
    text = narrative.describe_method(RFMConfig(), pd.Timestamp("2011-12-10"), clean)
    assert "**snapshot date 10 Dec 2011** (the day after the last transaction)" in text


def test_describe_method_from_the_last_transaction(clean):
    rfm = RFMConfig(recency_from="last_transaction", frequency="lines", scoring="qcut")
    text = narrative.describe_method(rfm, pd.Timestamp("2011-12-09"), clean)
    assert "**last transaction in the data (09 Dec 2011)**" in text
    assert "snapshot date" not in text
    assert "**invoice lines**" in text
    assert "`qcut`" in text


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "monetary": [100.0, 200.0, 300.0, 1400.0]})


def test_describe_outlier_policy_keep(customers):
    text = narrative.describe_outlier_policy(RFMConfig(outliers="keep"), customers, customers)
    assert text == "All customers are scored (`rfm.outliers: keep`)."


def test_describe_outlier_policy_cap(customers):
    text = narrative.describe_outlier_policy(
        RFMConfig(outliers="cap", outlier_quantile=0.9), customers, customers
    )
    assert "above the 90% quantile are capped" in text
    assert "every customer is scored" in text


def test_describe_outlier_policy_trim_names_the_removed_revenue(customers):
    kept = customers.iloc[:2]
    text = narrative.describe_outlier_policy(
        RFMConfig(outliers="trim", outlier_quantile=0.95), customers, kept
    )
    # removed c3 + c4: 300 + 1400 = 1,700 of 2,000 = 85 %
    assert "**2 customers** above the 95% quantile" in text
    assert "**£1,700** (85% of revenue)" in text
    assert "`rfm.outliers: trim`" in text


def test_excluded_note():
    assert narrative.excluded_note(RFMConfig(outliers="trim", outlier_quantile=0.9)) == (
        "not scored: above the 90% quantile of R, F or M (rfm.outliers: trim)"
    )


# --- clustering ------------------------------------------------------------------------


def test_describe_clustering_setup():
    text = narrative.describe_clustering_setup(ClusteringConfig(), 1234)
    assert text == (
        "**1,234 customers**, features `recency`, `frequency`, `monetary`, log(1 + x), then standardised; "
        "KMeans with k = 4, `random_state` = 42, 10 initialisations."
    )
    plain = narrative.describe_clustering_setup(ClusteringConfig(log_transform=False, k=3), 10)
    assert "standardised (no log transform)" in plain
    assert "k = 3" in plain


def test_describe_clusters():
    profile = pd.DataFrame(
        {
            "cluster": [1, 2],
            "cluster_name": ["Top", "Dormant"],
            "customers": [1200, 300],
            "customer_share": [0.8, 0.2],
            "revenue_share": [0.95, 0.05],
        }
    )
    crosstab = pd.DataFrame(
        {"Top": [0.7, 0.3], "Dormant": [np.nan, np.nan]}, index=["Champions", "Lost Customers"]
    )
    lines = narrative.describe_clusters(profile, crosstab).splitlines()
    assert lines == [
        "- **Top**: 1,200 customers (80%), 95% of revenue; mostly **Champions** (70%)",
        "- **Dormant**: 300 customers (20%), 5% of revenue",
    ]


# --- insights --------------------------------------------------------------------------


def test_headline_orders_groups_by_playbook_priority(playbook):
    group_summary = pd.DataFrame(
        {
            "group": ["Inactive & Lost", "High-Risk", "Loyal & High-Value"],
            "customers": [2000, 700, 500],
            "customer_share": [0.625, 0.21875, 0.15625],
            "revenue": [12_300.0, 950.0, 4_560_000.0],
            "revenue_share": [0.1, 0.004, 0.896],
            "recency_median": [250.4, 90.0, 10.0],
        }
    )
    segment_summary = pd.DataFrame(
        {
            "segment": ["Champions", "Lost Customers"],
            "customer_share": [0.1, 0.5],
            "revenue_share": [0.7, 0.05],
        }
    )
    lines = narrative.headline(group_summary, segment_summary, playbook).splitlines()
    assert lines[0] == "**Key messages**"
    assert lines[2:5] == [
        "- **Retain and grow: Loyal & High-Value** — 500 customers (16%) bring 90% of revenue (£4.56M); "
        "median last order 10 days ago.",
        "- **Win back: High-Risk** — 700 customers (22%) bring 0.4% of revenue (£950); "
        "median last order 90 days ago.",
        "- **Reactivate cheaply or let go: Inactive & Lost** — 2,000 customers (62%) bring 10% of revenue "
        "(£12.3k); median last order 250 days ago.",
    ]
    assert lines[5] == "- The largest revenue segment is **Champions**: 10% of customers, 70% of revenue."
    # customers removed by an outlier policy are announced first
    lines = narrative.headline(group_summary, segment_summary, playbook, unscored=537).splitlines()
    assert lines[2].startswith("- **537 customers are not in any segment**")


def test_describe_trend():
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2011-01-01", "2011-02-01", "2011-03-01", "2011-04-01"]),
            "customers": [10, 40, 0, 25],
            "new_customers": [10, 15, 0, 5],
            "monetary_mean": [500.0, 300.0, np.nan, 12_300.0],
            "recency_median": [np.nan, 30.0, np.nan, 12.0],
        }
    )
    text = narrative.describe_trend(trend)
    assert "**February 2011** (40, of whom 15 new)" in text
    assert "highest in **April 2011** (£12.3k on average)" in text
    assert "a median 30 days in February 2011 and 12 days in April 2011" in text


def test_describe_trend_without_two_returning_months():
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2011-01-01"]),
            "customers": [3],
            "new_customers": [3],
            "monetary_mean": [10.0],
            "recency_median": [np.nan],
        }
    )
    text = narrative.describe_trend(trend)
    assert "Returning customers" not in text
    assert "**January 2011** (3, of whom 3 new)" in text


def test_describe_export(tmp_path):
    export = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["Champions", None, "Loyal"]})
    paths = [Path("customer_segments.csv"), Path("group_a.csv"), Path("group_b.csv")]
    text = narrative.describe_export(export, paths)
    assert text.startswith("**`customer_segments.csv`** lists **3 customers** (one row each)")
    assert "(`group_a.csv`, `group_b.csv`)" in text
    assert text.endswith(" 1 customers were not scored (see the note column).")
    scored = export.assign(segment="Champions")
    assert "not scored" not in narrative.describe_export(scored, paths)
