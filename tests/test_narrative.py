"""Report sentences: each describe_* on a tiny table carries the numbers measured from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.config import ClusteringConfig, RFMConfig
from rfm_helpers.report import narrative
from rfm_helpers.sql.cleaning import NettingSummary


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


def _rules(is_cancellation: list[bool], removed_by: list[str | None]) -> pd.DataFrame:
    """What ``sql/rfm/typed.sql`` says of each raw row (worked out by hand in each test)."""
    return pd.DataFrame(
        {"is_cancellation": is_cancellation, "removed_by": pd.Series(removed_by, dtype="str")}
    )


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
    # The cleaning rule's definition: C536366 only; "c536367" is not a cancellation (the rule keeps
    # it for the quantity rule), so it is not counted as one either. Rows 4 and 5 have a price <= 0.
    rules = _rules(
        [False, True, False, False, False],
        [None, "cancellation_lines", "non_positive_quantity", "non_positive_price", "non_positive_price"],
    )
    text = narrative.describe_anomalies(raw, rules)
    assert text.startswith("**What needs cleaning** (rows in the raw file):")
    # negative quantity: rows 2 and 3, revenue -3 - 10 = -13
    assert "- **2** rows have a negative quantity (-£13 of revenue)" in text
    assert (
        "**1** rows have a unit price of 0 and **1** a negative one; **2** of them reach the price ≤ 0 rule\n"
    ) in text
    assert "**1** rows belong to **1** cancelled invoices" in text
    assert "**2** rows (40%) have no customer ID" in text  # 2 of 5
    assert "**1** rows have no description" in text


def test_describe_anomalies_reconciles_with_the_rules():
    raw = pd.DataFrame(
        {
            "invoice_id": ["1", "C2", "3", "4", "5", "6"],
            "quantity": [1, -1, -2, 1, 1, 1],
            "unit_price": [0.0, 0.0, 0.0, 0.0, 2.0, -1.0],
            "customer_id": [None, "a", "a", "b", None, "c"],
            "revenue": [0.0, 0.0, 0.0, 0.0, 2.0, -1.0],
        }
    )
    stages = pd.Series(
        [
            pd.NA,
            "cancellation_lines",
            "non_positive_quantity",
            "non_positive_price",
            "missing_customer",
            pd.NA,
        ],
        dtype="string",
    )
    stages.iloc[0], stages.iloc[5] = "non_positive_price", "non_positive_price"
    rules = pd.DataFrame({"is_cancellation": raw["invoice_id"].eq("C2"), "removed_by": stages})
    text = narrative.describe_anomalies(raw, rules)
    # 4 rows at price 0 and 1 negative = 5 rows at price <= 0: rows 1, 4 and 6 reach the price rule,
    # row 2 is a cancellation line and row 3 has a negative quantity.
    assert (
        "**4** rows have a unit price of 0 and **1** a negative one; **3** of them reach the price ≤ 0 "
        "rule (the others are removed earlier: 1 by cancellation lines, 1 by quantity ≤ 0)"
    ) in text
    # rows 1 and 5 have no customer: row 1 is removed by the price rule first
    assert (
        "**1** of them reach the no customer ID rule (the others are removed earlier: 1 by price ≤ 0)" in text
    )


def test_describe_anomalies_without_optional_columns():
    raw = pd.DataFrame({"invoice_id": ["1", "C2"], "customer_id": ["a", "b"], "revenue": [1.0, -1.0]})
    text = narrative.describe_anomalies(raw, _rules([False, True], [None, "cancellation_lines"]))
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
    assert text.startswith("**30** of 300 rows (10%) in the raw file have no customer ID.")
    assert "**3 of 3 months** (between 10% and 10% of a month's rows)" in text
    assert "**2 of the 2 countries** of the raw file" in text
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


def test_describe_countries_kept_names_the_lost_ones():
    raw = pd.Series(["United Kingdom", "Hong Kong", "France", None, "France"])
    clean = pd.Series(["France", "United Kingdom"])
    assert narrative.describe_countries_kept(raw, clean) == (
        "The raw file has **3 countries**; **2** keep at least one clean line (Hong Kong: no line left "
        "after cleaning)."
    )


def _ledger_of(rows: list[tuple]) -> pd.DataFrame:
    """(step, applied, rows removed, revenue removed, note) from a start of 100 rows and £1,000."""
    table, left, money_left = [], 100, 1000.0
    for step, applied, removed, revenue, note in [("raw", True, 0, 0.0, ""), *rows]:
        left, money_left = left - removed, money_left - revenue
        table.append((step, applied, note, removed, revenue, left, money_left))
    columns = [
        "step",
        "applied",
        "note",
        "rows_removed",
        "revenue_removed",
        "rows_remaining",
        "revenue_remaining",
    ]
    return pd.DataFrame(table, columns=columns)


NET = NettingSummary(
    mode="net",
    cancellation_lines=5,
    matched_in_full=2,
    matched_in_part=1,
    unmatched=1,
    unmatched_units=3.0,
    purchase_lines_removed=2,
    purchase_lines_reduced=1,
    revenue=150.0,
)


def test_cleaning_findings_measured_from_the_ledger():
    ledger = _ledger_of(
        [
            ("cancellation_lines", True, 5, -200.0, ""),
            ("missing_customer", True, 30, 250.0, ""),
            ("non_product_codes", False, 0, 0.0, "disabled by cleaning.drop_non_product_codes: false"),
            ("cancelled_orders", True, 2, 150.0, ""),
        ]
    )
    text = narrative.cleaning_findings(
        ledger, pd.Timestamp("2011-01-03"), pd.Timestamp("2011-12-09"), 42, NET, "£"
    )
    items = text.split("\n")[2:]
    assert 3 <= len(items) <= 5
    assert items[0] == "- The clean data covers **03 Jan 2011 to 09 Dec 2011** and **42 customers**."
    # 100 - 5 - 30 - 2 = 63 rows; 1000 + 200 - 250 - 150 = £800
    assert items[1].startswith("- **63 of 100 rows** (63%) and **£800 of £1,000** of revenue are kept")
    assert items[2] == "- The largest removal is **no customer ID**: 30 rows, £250 of revenue."
    assert items[3] == (
        "- Cancelled orders are **netted**: £150 of sales were cancelled later and are not counted "
        "(2 purchase lines in full, 1 in part)."
    )
    dropped = replace(NET, mode="drop")
    text = narrative.cleaning_findings(
        ledger, pd.Timestamp("2011-01-03"), pd.Timestamp("2011-12-09"), 42, dropped
    )
    assert "Cancelled orders **still count as sales**" in text and "**£150** of the revenue kept" in text


def test_describe_waterfall_explains_every_rise_and_skip():
    ledger = _ledger_of(
        [
            ("cancellation_lines", True, 5, -200.0, ""),
            ("non_positive_price", True, 2, -20.0, ""),
            ("missing_customer", True, 30, 250.0, ""),
            ("non_product_codes", False, 0, 0.0, "disabled by cleaning.drop_non_product_codes: false"),
            (
                "cancelled_orders",
                False,
                0,
                0.0,
                "not applied (cleaning.cancellations: drop, the source ...): x",
            ),
        ]
    )
    text = narrative.describe_waterfall(ledger)
    assert text.startswith("From **£1,000** in the raw file to **£970** in the clean table.")
    assert "no rule adds sales" in text
    assert (
        "- **cancellation lines**: +£200 — the cancellation lines' negative revenue (5 rows) removed." in text
    )
    assert "- **price ≤ 0**: +£20 — adjustments with a negative price (bad debt) (2 rows) removed." in text
    assert "no customer ID**: +" not in text  # a removal, not a rise
    assert (
        "- Not applied: **non-product codes** (`cleaning.drop_non_product_codes: false`); "
        "**cancelled orders netted** (`cleaning.cancellations: drop`)."
    ) in text


def test_describe_cancellations_net_and_drop():
    ledger = _ledger_of(
        [("cancellation_lines", True, 5, -200.0, ""), ("cancelled_orders", True, 2, 150.0, "")]
    )
    text = narrative.describe_cancellations(NET, ledger)
    assert text.startswith("The **5 cancellation lines** carry **-£200** of revenue: removing them *raises*")
    assert "netted** at the last step: 3 cancellation lines matched" in text
    assert "removing **£150** of sales (2 purchase lines cancelled in full, 1 in part)" in text
    assert "**1** match no purchase" in text and "**1** have no customer ID" in text  # 5 - 2 - 1 - 1
    text = narrative.describe_cancellations(replace(NET, mode="drop"), ledger)
    assert "the orders they cancel **stay counted as sales**, **£150** on 2 purchase lines" in text


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
    sampled = narrative.describe_clustering_setup(ClusteringConfig(elbow_sample=1000), 1001)
    assert sampled.endswith(
        "The elbow and silhouette below are computed on a fixed random sample of 1,000 of the "
        "1,001 customers (`clustering.elbow_sample`); the clusters are fitted on all of them."
    )
    assert "sample" not in narrative.describe_clustering_setup(ClusteringConfig(elbow_sample=1000), 1000)


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


# Report 3-5 openings: "Key findings", the shape of cleaning_findings, on hand-built tables.
# 8 customers, £1,000: c7 and c8 (£15 + £5 = £20) are not scored; the 6 scored ones bring £980.
FINDINGS_CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [f"c{i}" for i in range(1, 9)],
        "first_purchase": pd.to_datetime(["2011-01-03 09:00"] + ["2011-05-01 10:00"] * 7),
        "last_purchase": pd.to_datetime(["2011-12-09 12:50"] + ["2011-11-01 10:00"] * 7),
        "monetary": [600.0, 200.0, 100.0, 40.0, 30.0, 10.0, 15.0, 5.0],
    }
)
FINDINGS_GROUPS = pd.DataFrame(
    {
        # c1 + c2 = 800; c3 = 100; c4 = 40; c5 + c6 = 40
        "group": ["Loyal & High-Value", "High-Risk", "New & Potential", "Inactive & Lost"],
        "customers": [2, 1, 1, 2],
        "customer_share": [2 / 6, 1 / 6, 1 / 6, 2 / 6],
        "revenue": [800.0, 100.0, 40.0, 40.0],
        "revenue_share": [800 / 980, 100 / 980, 40 / 980, 40 / 980],
    }
)
FINDINGS_SEGMENTS = pd.DataFrame(
    {
        "segment": ["Champions", "At Risk", "New Customers", "Lost Customers"],
        "customers": [2, 1, 1, 2],
        "customer_share": [2 / 6, 1 / 6, 1 / 6, 2 / 6],
        "revenue_share": [800 / 980, 100 / 980, 40 / 980, 40 / 980],
    }
)


def _items(text: str) -> list[str]:
    head, blank, *items = text.split("\n")
    assert (head, blank) == ("**Key findings**", "")
    assert 3 <= len(items) <= 5
    return items


def test_scoring_findings_with_customers_left_out():
    items = _items(
        narrative.scoring_findings(
            FINDINGS_CUSTOMERS,
            FINDINGS_GROUPS,
            FINDINGS_SEGMENTS,
            pd.Timestamp("2011-12-10"),
            RFMConfig(outliers="trim", outlier_quantile=0.95),
        )
    )
    assert items == [
        "- The data covers **03 Jan 2011 to 09 Dec 2011**: **8 customers** with **£1,000** of revenue. "
        "Recency is counted from **10 Dec 2011**.",
        # 1,000 - 980 = £20 = 2 % of £1,000
        "- **2 customers are not scored**: the outlier policy (`rfm.outliers: trim`) left out those above "
        "the 95% quantile of R, F or M. They carry **£20 (2% of all revenue)** and stay in the export; the "
        "shares below are of the 6 scored customers.",
        # 2/6 = 33 %, 1/6 = 17 %
        "- The 6 scored customers fall into 4 groups: **Loyal & High-Value** 2 customers (33%), "
        "**High-Risk** 1 (17%), **New & Potential** 1 (17%) and **Inactive & Lost** 2 (33%).",
        # 800/980 = 82 %; revenue per customer share: Inactive & Lost 4 % / 33 % is the lowest
        "- **Loyal & High-Value** bring **82% of the scored revenue** with 33% of the customers; "
        "**Inactive & Lost**, 33% of the customers, bring 4%.",
        "- The segment with the most revenue is **Champions**: 2 customers (33%) bring 82% of the scored "
        "revenue.",
    ]


def test_scoring_findings_when_every_customer_is_scored():
    customers = FINDINGS_CUSTOMERS.iloc[:6]  # £980
    items = _items(
        narrative.scoring_findings(
            customers, FINDINGS_GROUPS, FINDINGS_SEGMENTS, pd.Timestamp("2011-12-09"), RFMConfig()
        )
    )
    assert len(items) == 4
    assert items[0] == (
        "- The data covers **03 Jan 2011 to 09 Dec 2011**: **6 customers** with **£980** of revenue. "
        "Recency is counted from **09 Dec 2011**."
    )
    assert items[1].startswith("- The 6 customers fall into 4 groups: ")  # no "scored": all are
    assert "**82% of revenue**" in items[2]
    assert items[3].endswith("bring 82% of revenue.")


def test_cluster_findings_of_the_scored_customers():
    profile = pd.DataFrame(
        {
            "cluster": [1, 2, 3],
            "cluster_name": ["Top Performers", "Mid-Value", "Dormant"],
            "customers": [2, 3, 5],
            "customer_share": [0.2, 0.3, 0.5],
            "revenue_share": [0.7, 0.2, 0.1],
        }
    )
    elbow = pd.DataFrame({"k": [1, 2, 3, 4], "silhouette": [np.nan, 0.45, 0.41, 0.38]})
    clustered = pd.DataFrame({"monetary": [100.0] * 10})  # £1,000
    everyone = pd.DataFrame({"monetary": [100.0] * 10 + [250.0, 250.0]})  # £1,500
    first, last = pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2011-12-09 12:50")
    items = _items(narrative.cluster_findings(profile, elbow, 3, clustered, everyone, first, last))
    assert items == [
        "- The data covers **01 Dec 2010 to 09 Dec 2011**; the clusters hold **10 of 12 customers** (the "
        "scored ones) with **£1,000 of £1,500** of revenue.",
        "- **3 clusters**: **Top Performers** 2 customers (20% of the clustered customers, 70% of their "
        "revenue); **Mid-Value** 3 (30%, 20%); **Dormant** 5 (50%, 10%).",
        "- The silhouette (how well the clusters are separated) is best at **k = 2** (0.45); this report "
        "uses **k = 3** (0.41), set by `clustering.k`: more groups, less clearly separated.",
    ]
    every = _items(narrative.cluster_findings(profile, elbow, 3, clustered, clustered, first, last))
    assert every[0] == (
        "- The data covers **01 Dec 2010 to 09 Dec 2011**; the clusters hold **10 customers** with "
        "**£1,000** of revenue."
    )
    assert every[1].startswith(
        "- **3 clusters**: **Top Performers** 2 customers (20% of customers, 70% of revenue); "
    )
    same_k = _items(narrative.cluster_findings(profile, elbow, 2, clustered, everyone, first, last))
    assert same_k[2] == (
        "- The silhouette (how well the clusters are separated) is best at **k = 2** (0.45), the k this "
        "report uses."
    )


def test_cluster_findings_of_accounts_without_a_silhouette():
    profile = pd.DataFrame(
        {"cluster": [1], "cluster_name": ["All customers"], "customers": [4], "customer_share": [1.0]}
    )
    accounts = pd.DataFrame({"monetary": [2_500_000.0, 1_000_000.0, 500_000.0, 1_000_000.0]})
    items = _items(
        narrative.cluster_findings(
            profile,
            pd.DataFrame({"k": [1], "silhouette": [np.nan]}),
            1,
            accounts,
            accounts,
            dt.date(2024, 1, 1),
            dt.date(2024, 12, 31),
            "IDR",
            "accounts",
        )
    )
    assert items == [
        "- The data covers **01 Jan 2024 to 31 Dec 2024**; the clusters hold **4 accounts** with "
        "**IDR 5M** of revenue.",
        "- **1 cluster**: **All customers** 4 accounts (100% of accounts).",
        "- The silhouette needs at least 2 clusters; this report uses **k = 1**.",
    ]


def _findings_export() -> pd.DataFrame:
    """10 customers, £1,000; x1 and x2 (£20) are not scored. Within 30 days: b1 (High-Risk,
    20 days) and l2 (Inactive & Lost, 25 days) are nurtured instead of a win-back."""
    rows = [
        ("a1", "Loyal & High-Value", "Champions", 5, 500.0),
        ("a2", "Loyal & High-Value", "Loyal", 10, 300.0),
        ("b1", "High-Risk", "At Risk", 20, 60.0),
        ("b2", "High-Risk", "At Risk", 40, 50.0),
        ("b3", "High-Risk", "Cannot Lose Them", 100, 40.0),
        ("n1", "New & Potential", "New Customers", 15, 20.0),
        ("l1", "Inactive & Lost", "Lost Customers", 200, 5.0),
        ("l2", "Inactive & Lost", "Lost Customers", 25, 5.0),
        ("x1", None, None, 3, 10.0),
        ("x2", None, None, 50, 10.0),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "group", "segment", "recency", "monetary"])


def test_insight_findings_act_on_the_revenue_at_risk(playbook):
    from rfm_helpers.analysis import insights

    export = _findings_export()
    export["goal"] = export["group"].map(playbook.set_index("group")["goal"])
    export["cluster_name"] = None
    actions, _ = insights.action_overview(export, recent_days=30)
    first, last = pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2011-12-09 12:50")
    items = _items(narrative.insight_findings(export, actions, playbook, first, last, "£", 30))
    assert items == [
        "- The data covers **01 Dec 2010 to 09 Dec 2011**: **10 customers** with **£1,000** of revenue. "
        "**2 of them are in no segment** (the outlier policy left them out) and carry 2% of it: review "
        "them one by one. The shares in this list are of all customers and revenue; the charts and tables "
        "below are of the 8 scored customers.",
        # High-Risk: 60 + 50 + 40 = £150 of £1,000; recency 20, 40, 100: median 40
        "- **Revenue at risk: £150 (15% of all revenue)** from the **3 High-Risk** customers (30% of all "
        "customers; segments At Risk and Cannot Lose Them), goal *win back*: their median last order was 40 "
        "days ago.",
        # in playbook order; nurture: b1 and l2 (moved) and n1; review: x1, x2
        "- Recommended actions, one per customer: **retain and grow 2**, **win back 2**, **nurture 3** "
        "(2 instead of a win-back: ordered within 30 days), **reactivate cheaply or let go 1** and "
        "**review individually 2**.",
        "- The group with the most revenue is **Loyal & High-Value** (goal *retain and grow*): 2 customers "
        "(20% of all customers) bring **£800, 80% of all revenue**.",
    ]
    # a playbook without a win-back goal has no revenue at risk to name
    calm = playbook.assign(goal=["Retain", "Keep in touch", "Nurture", "Let go"])
    export["goal"] = export["group"].map(calm.set_index("group")["goal"])
    actions, _ = insights.action_overview(export, recent_days=30)
    text = narrative.insight_findings(export, actions, calm, first, last)
    assert "Revenue at risk" not in text
    assert "**keep in touch 3**" in text


def test_describe_k_choice():
    elbow = pd.DataFrame(
        {
            "k": [1, 2, 3, 4, 5],
            "inertia": [500.0, 300, 200, 150, 120],
            "silhouette": [np.nan, 0.38, 0.41, 0.35, 0.3],
        }
    )
    assert narrative.describe_k_choice(elbow, 4) == (
        "The silhouette is highest at **k = 3** (0.41), **not at the k this report uses (k = 4, silhouette "
        "0.35)**, which is set by `clustering.k`: set it to 3 for the best separated clusters, or keep "
        "it for finer groups."
    )
    assert narrative.describe_k_choice(elbow, 3) == (
        "The silhouette is highest at **k = 3** (0.41), the k this report uses."
    )
    assert "k = 1" in narrative.describe_k_choice(elbow.iloc[:1], 1)


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
    # the data dictionary is named as such, not as a group file
    text = narrative.describe_export(export, [*paths, Path("data_dictionary.csv")])
    assert "(`group_a.csv`, `group_b.csv`)" in text
    assert "**`data_dictionary.csv`** says what every column means" in text
