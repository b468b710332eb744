"""Observations, recommendations and the campaign export on hand-built tables."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import GROUPS, SEGMENTS

from rfm_helpers.analysis import insights
from rfm_helpers.analysis.insights import LEVELS, level, level_from_bins
from rfm_helpers.config import RFMConfig
from rfm_helpers.sql import transactions

EXCLUDED = "not scored: above the 95% quantile of R, F or M (rfm.outliers: trim)"


# --- level -----------------------------------------------------------------------------

# A value's quintile is placed as the rank scores place a customer: floor(5 × share of the
# population strictly below it). In [0, 20, 40, 60, 80, 100] (6 values) 20 has 1 value below:
# floor(5/6) = 0, the lowest word, as a customer with 20 gets score 1.
POPULATION = pd.Series([0, 20, 40, 60, 80, 100], dtype="float64")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, "very low"),
        (0, "very low"),
        (19.99, "very low"),  # 1 below: floor(5/6) = 0
        (20, "very low"),  # 1 below (not itself): 0
        (39.99, "low"),  # 2 below: floor(10/6) = 1
        (40, "low"),
        (60, "medium"),  # 3 below: floor(15/6) = 2
        (79.99, "high"),  # 4 below: floor(20/6) = 3
        (80, "high"),
        (80.01, "very high"),  # 5 below: floor(25/6) = 4
        (1000, "very high"),  # 6 below: the top quintile, not beyond it
    ],
)
def test_level_words_at_quintile_boundaries(value, expected):
    assert level(value, POPULATION, "monetary") == expected


@pytest.mark.parametrize("metric", ["recency", "frequency", "monetary"])
def test_level_uses_the_metrics_words_lowest_first(metric):
    words = [level(v, POPULATION, metric) for v in (10, 30, 50, 70, 90)]
    assert words == list(LEVELS[metric])


def test_level_recency_words():
    assert level(0, POPULATION, "recency") == "very recently"
    assert level(100, POPULATION, "recency") == "very long ago"


def test_the_lowest_value_is_never_above_the_lowest_word():
    """Issue 10: 35 % of customers ordered once; "1 order" read "rarely" (one word too high)."""
    orders = pd.Series([1] * 35 + [2] * 20 + [3] * 15 + [4] * 10 + [5] * 10 + [8] * 10, dtype="float64")
    assert level(1, orders, "frequency") == "very rarely"
    # 5 orders: 80 of 100 below → floor(4.0) = 4 → very often; 4 orders: 70 below → 3 → often
    assert level(4, orders, "frequency") == "often"
    assert level(5, orders, "frequency") == "very often"


# The default run's score bins (score_bins.csv): F = 4 covers 4 and 5 orders, F = 5 from 6.
DEFAULT_BINS = pd.DataFrame(
    {
        "metric": ["recency"] * 5 + ["frequency"] * 5 + ["monetary"] * 5,
        "score": [1, 2, 3, 4, 5] * 3,
        "min": [181, 73, 34, 16, 1, 1, 2, 3, 4, 6, 3.75, 247.15, 482.47, 922.12, 2035.08],
        "max": [374, 180, 72, 33, 15, 1, 2, 3, 5, 206, 246.3, 482.2, 922.1, 2031.78, 279138.02],
    }
)


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        # the words follow the score of the bin: F = 1 → very rarely, F = 4 → often
        ("frequency", 1, "very rarely"),
        ("frequency", 2, "rarely"),
        ("frequency", 2.5, "sometimes"),  # between bins: the upper one, as rank scoring places it
        ("frequency", 3, "sometimes"),
        ("frequency", 4, "often"),
        ("frequency", 5, "often"),  # issue 10: 5 orders read "very often" although F = 4
        ("frequency", 6, "very often"),
        ("frequency", 500, "very often"),  # above every bin: the top one
        # recency scores are reversed: R = 5 (1 to 15 days) is "very recently"
        ("recency", 0, "very recently"),
        ("recency", 15, "very recently"),
        ("recency", 15.5, "recently"),
        ("recency", 33, "recently"),
        ("recency", 180, "long ago"),
        ("recency", 181, "very long ago"),
        ("monetary", 246.3, "very low"),
        ("monetary", 246.5, "low"),  # in the gap between M = 1 and M = 2
        ("monetary", 2031.78, "high"),
        ("monetary", 2035.08, "very high"),
    ],
)
def test_level_from_bins_at_the_edges(metric, value, expected):
    assert level_from_bins(value, DEFAULT_BINS, metric) == expected


def test_level_from_bins_skips_empty_bins():
    # ties collapsed scores 1 and 2 of frequency into score 1 (40 % share the lowest value)
    bins = pd.DataFrame(
        {
            "metric": "frequency",
            "score": [1, 2, 3, 4, 5],
            "min": [1, np.nan, 2, 3, 5],
            "max": [1, np.nan, 2, 4, 9],
        }
    )
    assert [level_from_bins(v, bins, "frequency") for v in (1, 2, 4, 9)] == [
        "very rarely",
        "sometimes",
        "often",
        "very often",
    ]


# --- segment_observations --------------------------------------------------------------


@pytest.fixture
def population() -> pd.DataFrame:
    """All customers' R, F, M. Quintile edges (positions 1, 2, 3, 4 of six sorted values):
    recency [20, 40, 60, 80]; frequency [1, 1, 2, 3]; monetary [500, 1000, 5000, 10000]."""
    return pd.DataFrame(
        {
            "recency": [0, 20, 40, 60, 80, 100],
            "frequency": [1, 1, 1, 2, 3, 10],
            "monetary": [100.0, 500.0, 1000.0, 5000.0, 10000.0, 20000.0],
        }
    )


@pytest.fixture
def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": pd.Categorical(
                ["Champions", "Loyal", "New Customers"], categories=SEGMENTS, ordered=True
            ),
            "customers": [2, 0, 6],
            "customer_share": [0.25, 0.0, 0.75],
            "revenue": [600.0, 0.0, 400.0],
            "revenue_share": [0.6, 0.0, 0.4],
            "recency_median": [5.0, np.nan, 30.0],
            "frequency_median": [2.0, np.nan, 1.0],
            "monetary_median": [12_300.0, np.nan, 950.0],
        }
    )


def test_segment_observations_only_non_empty_segments(summary, population):
    table = insights.segment_observations(summary, population)
    assert table["segment"].tolist() == ["Champions", "New Customers"]
    assert table.columns.tolist() == [
        "segment",
        "customers",
        "share of customers",
        "share of revenue",
        "median recency (days)",
        "median frequency (orders)",
        "median monetary (£)",
        "what the numbers say",
    ]
    assert table["customers"].tolist() == [2, 6]
    assert table["share of revenue"].tolist() == [0.6, 0.4]
    assert table["median monetary (£)"].tolist() == [12_300.0, 950.0]


def test_segment_observations_sentences_carry_the_measured_numbers(summary, population):
    text = insights.segment_observations(summary, population)["what the numbers say"].tolist()
    # Champions: ratio 0.6 / 0.25 = 2.4; R 5: 1 of 6 below → floor(5/6) = 0, very recently;
    # F 2: three 1s below → floor(15/6) = 2, sometimes; M 12,300: 5 below → 4, very high,
    # money(12,300) = £12.3k
    assert text[0] == (
        "25% of customers bring 60% of revenue (2.4× their weight). The typical customer last "
        "ordered 5 days ago (very recently), placed 2 orders (sometimes) and spent £12.3k (very high)."
    )
    # New Customers: ratio 0.4 / 0.75 = 0.53 → 0.5; R 30: 2 below → 1, recently; F 1: nothing
    # below → very rarely (the lowest possible value), singular "order"; M 950: 2 below → low
    assert text[1] == (
        "75% of customers bring 40% of revenue (0.5× their weight). The typical customer last "
        "ordered 30 days ago (recently), placed 1 order (very rarely) and spent £950 (low)."
    )


def test_segment_observations_follow_the_score_bins(summary, population):
    text = insights.segment_observations(summary, population, bins=DEFAULT_BINS)["what the numbers say"]
    # Champions: R 5 in R = 5 (1-15); F 2 = F = 2 (rarely); M 12,300 in M = 5
    assert "5 days ago (very recently), placed 2 orders (rarely) and spent £12.3k (very high)" in text[0]
    # New Customers: R 30 in R = 4 (16-33); F 1 = F = 1; M 950 in M = 4 (922.12-2,031.78)
    assert "30 days ago (recently), placed 1 order (very rarely) and spent £950 (high)" in text[1]


def test_segment_observations_units_and_currency(summary, population):
    table = insights.segment_observations(summary, population, currency="$", frequency_unit="invoice lines")
    assert "median frequency (invoice lines)" in table.columns
    assert "median monetary ($)" in table.columns
    text = table["what the numbers say"].tolist()
    assert "placed 2 invoice lines" in text[0]
    assert "spent $12.3k" in text[0]
    assert "placed 1 invoice line " in text[1]


def test_segment_observations_by_group(population):
    summary = pd.DataFrame(
        {
            "group": ["High-Risk"],
            "customers": [3],
            "customer_share": [1.0],
            "revenue_share": [1.0],
            "recency_median": [90.0],
            "frequency_median": [1.0],
            "monetary_median": [100.0],
        }
    )
    table = insights.segment_observations(summary, population, category="group")
    assert table["group"].tolist() == ["High-Risk"]
    assert "(1.0× their weight)" in table["what the numbers say"].iloc[0]
    assert "90 days ago (very long ago)" in table["what the numbers say"].iloc[0]


# --- group_recommendations -------------------------------------------------------------


def test_group_recommendations_sorted_by_priority_with_numbers(playbook):
    group_summary = pd.DataFrame(
        {
            "group": ["Inactive & Lost", "Loyal & High-Value"],
            "customers": [1234, 500],
            "customer_share": [0.5, 0.2025],
            "revenue_share": [0.1, 0.7],
            "recency_median": [200.4, 10.0],
            "monetary_median": [150.0, 4_560_000.0],
        }
    )
    table = insights.group_recommendations(group_summary, playbook)
    assert table.columns.tolist() == ["group", "goal", "size and value", "recommendation"]
    assert table.index.tolist() == [0, 1]
    # priority 1 before priority 4, whatever the summary's order
    assert table["group"].tolist() == ["Loyal & High-Value", "Inactive & Lost"]
    assert table["goal"].tolist() == ["Retain and grow", "Reactivate cheaply or let go"]
    assert table["recommendation"].tolist() == ["upsell", "cheap offers"]
    assert table["size and value"].tolist() == [
        # 0.2025 → 20%; money(4,560,000) = £4.56M
        "500 customers (20%), 70% of revenue, median last order 10 days ago, median spend £4.56M",
        # 1234 → 1,234; 200.4 → 200
        "1,234 customers (50%), 10% of revenue, median last order 200 days ago, median spend £150",
    ]


def test_group_recommendations_of_an_empty_group_has_no_medians(playbook):
    """Every customer with one order: no segment of a group may be reached; its row says so
    instead of "median last order nan days ago"."""
    group_summary = pd.DataFrame(
        {
            "group": ["Inactive & Lost", "Loyal & High-Value"],
            "customers": [12, 0],
            "customer_share": [1.0, 0.0],
            "revenue_share": [1.0, 0.0],
            "recency_median": [30.0, float("nan")],
            "monetary_median": [20.0, float("nan")],
        }
    )
    table = insights.group_recommendations(group_summary, playbook)
    assert table["size and value"].tolist() == [
        "no customers in this run",
        "12 customers (100%), 100% of revenue, median last order 30 days ago, median spend £20",
    ]


# --- customer_export -------------------------------------------------------------------


@pytest.fixture
def all_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "recency": [3, 10, 300, 1, 20],
            "frequency": [5, 8, 1, 90, 4],
            "monetary": [100.0, 300.0, 50.0, 99_999.0, 200.0],
            "first_purchase": pd.to_datetime(["2011-01-01"] * 5),
            "last_purchase": pd.to_datetime(
                ["2011-12-01", "2011-11-24", "2011-02-10", "2011-12-03", "2011-11-14"]
            ),
            "country": ["United Kingdom", "France", "Germany", "Netherlands", "United Kingdom"],
        }
    )


@pytest.fixture
def segmented() -> pd.DataFrame:
    """c4 is missing: removed by the outlier policy before scoring."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c5"],
            "segment": pd.Categorical(
                ["Champions", "Champions", "Lost Customers", "Loyal"], categories=SEGMENTS, ordered=True
            ),
            "group": pd.Categorical(
                ["Loyal & High-Value", "Loyal & High-Value", "Inactive & Lost", "Loyal & High-Value"],
                categories=GROUPS,
                ordered=True,
            ),
            "r_score": [5, 5, 1, 4],
            "f_score": [5, 4, 1, 4],
            "m_score": [4, 5, 1, 4],
            "rfm_code": ["554", "545", "111", "444"],
        }
    )


@pytest.fixture
def clusters() -> pd.DataFrame:
    """Clusters are fitted on the scored customers, so c4 has none."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c5"],
            "cluster": [1, 1, 2, 1],
            "cluster_name": ["Top", "Top", "Dormant", "Top"],
        }
    )


SNAPSHOT = pd.Timestamp("2011-12-04")


@pytest.fixture
def export(all_customers, segmented, clusters, playbook) -> pd.DataFrame:
    return insights.customer_export(
        all_customers, segmented, clusters, playbook, EXCLUDED, currency="£", snapshot=SNAPSHOT
    )


def test_customer_export_one_row_per_customer(export, all_customers):
    assert len(export) == len(all_customers)
    assert sorted(export["customer_id"]) == sorted(all_customers["customer_id"])
    assert export["customer_id"].is_unique
    assert export.columns.tolist() == insights.EXPORT_COLUMNS


def test_customer_export_sort_order(export):
    # Loyal & High-Value/Champions by spend desc (c2 300, c1 100), then Loyal (c5), then
    # Inactive & Lost/Lost Customers (c3); the unscored c4 last
    assert export["customer_id"].tolist() == ["c2", "c1", "c5", "c3", "c4"]
    assert export.index.tolist() == [0, 1, 2, 3, 4]


def test_customer_export_keeps_unscored_customers_with_the_note(export):
    row = export.set_index("customer_id").loc["c4"]
    assert row["note"] == EXCLUDED
    assert pd.isna(row["segment"])
    assert pd.isna(row["group"])
    assert pd.isna(row["goal"])
    assert pd.isna(row["r_score"])
    assert pd.isna(row["cluster"])
    assert row["monetary"] == 99_999.0  # raw metrics kept
    assert row["country"] == "Netherlands"
    assert export.loc[export["customer_id"] != "c4", "note"].isna().all()


def test_customer_export_scored_values_and_goals(export):
    rows = export.set_index("customer_id")
    assert rows.loc["c1", "segment"] == "Champions"
    assert rows.loc["c1", "rfm_code"] == "554"
    assert rows.loc["c1", "goal"] == "Retain and grow"
    assert rows.loc["c3", "goal"] == "Reactivate cheaply or let go"
    assert rows.loc["c3", "cluster_name"] == "Dormant"
    assert rows.loc["c2", "r_score"] == 5


def test_customer_export_score_columns_are_nullable_integers(export):
    for column in ("r_score", "f_score", "m_score", "cluster"):
        assert export[column].dtype == "Int64", column
    assert export["r_score"].tolist()[:4] == [5, 5, 4, 1]


def test_customer_export_rejects_a_customer_scored_twice(all_customers, segmented, clusters, playbook):
    doubled = pd.concat([segmented, segmented.iloc[[0]]], ignore_index=True)
    with pytest.raises(pd.errors.MergeError):
        insights.customer_export(all_customers, doubled, clusters, playbook, EXCLUDED)


# --- file names and writing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("Loyal & High-Value", "group_loyal_and_high_value.csv"),
        ("High-Risk", "group_high_risk.csv"),
        ("New & Potential", "group_new_and_potential.csv"),
        ("Inactive & Lost", "group_inactive_and_lost.csv"),
        ("  Odd!! name  ", "group_odd_name.csv"),
    ],
)
def test_group_file_name(group, expected):
    assert insights.group_file_name(group) == expected


def test_write_exports_writes_all_customers_and_one_file_per_non_empty_group(export, tmp_path):
    folder = tmp_path / "exports"
    paths = insights.write_exports(export, folder)
    # High-Risk and New & Potential have no customers: no file; the data dictionary last
    assert [p.name for p in paths] == [
        "customer_segments.csv",
        "group_loyal_and_high_value.csv",
        "group_inactive_and_lost.csv",
        "data_dictionary.csv",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)


def test_write_exports_removes_stale_csvs_only(export, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "group_old_name.csv").write_text("customer_id\nx\n")
    (folder / "README.txt").write_text("keep me")
    insights.write_exports(export, folder)
    assert not (folder / "group_old_name.csv").exists()
    assert (folder / "README.txt").read_text() == "keep me"


def test_written_files_read_back_equal_the_frame(export, tmp_path):
    paths = insights.write_exports(export, tmp_path)
    assert paths[0].read_text(encoding="utf-8") == export.to_csv(index=False, lineterminator="\n")
    back = pd.read_csv(paths[0], dtype={"customer_id": str, "rfm_code": str})
    assert back["customer_id"].tolist() == export["customer_id"].tolist()
    assert back["monetary"].tolist() == export["monetary"].tolist()
    assert back["r_score"].astype("Int64").equals(export["r_score"])
    assert back["note"].isna().tolist() == export["note"].isna().tolist()

    loyal = pd.read_csv(paths[1], dtype={"customer_id": str, "rfm_code": str})
    expected = export[export["group"] == "Loyal & High-Value"]
    assert loyal.columns.tolist() == insights.EXPORT_COLUMNS
    assert loyal["customer_id"].tolist() == ["c2", "c1", "c5"]
    assert paths[1].read_text(encoding="utf-8") == expected.to_csv(index=False, lineterminator="\n")
    lost = pd.read_csv(paths[2], dtype={"customer_id": str, "rfm_code": str})
    assert lost["customer_id"].tolist() == ["c3"]
    assert lost["rfm_code"].tolist() == ["111"]


# --- snapshot date, currency and the data dictionary ---------------------------------------


def test_customer_export_carries_the_snapshot_date_and_the_currency(export):
    assert export["snapshot_date"].tolist() == [pd.Timestamp("2011-12-04")] * 5
    assert export["currency"].tolist() == ["£"] * 5
    # beside the columns they explain
    columns = insights.EXPORT_COLUMNS
    assert columns.index("currency") == columns.index("monetary") + 1
    assert columns.index("snapshot_date") == columns.index("last_purchase") + 1


def _clean_transactions() -> pd.DataFrame:
    """Three customers; the last transaction of the data is on 9 Dec 2011 at 12:50."""
    return pd.DataFrame(
        {
            "invoice_id": ["1", "2", "3", "4", "5"],
            "invoice_date": pd.to_datetime(
                [
                    "2011-01-05 10:00",
                    "2011-12-08 15:30",
                    "2011-06-30 09:00",
                    "2011-12-09 12:50",
                    "2011-12-01 08:00",
                ]
            ),
            "customer_id": ["a", "a", "b", "c", "c"],
            "quantity": [1.0] * 5,
            "unit_price": [10.0, 20.0, 5.0, 7.5, 2.5],
            "revenue": [10.0, 20.0, 5.0, 7.5, 2.5],
        }
    )


@pytest.mark.parametrize(
    ("rfm", "snapshot", "recency"),
    [
        # the parameter: a last order on 8 Dec is 2 days before 10 Dec, 30 Jun is 163 days, 9 Dec 1 day
        (RFMConfig(snapshot_date=dt.date(2011, 12, 10)), "2011-12-10", {"a": 2, "b": 163, "c": 1}),
        # the document's method: from the day of the last transaction, 9 Dec
        (RFMConfig(recency_from="last_transaction"), "2011-12-09", {"a": 1, "b": 162, "c": 0}),
    ],
)
def test_the_exported_snapshot_date_is_the_one_the_scoring_used(rfm, snapshot, recency, tmp_path, playbook):
    customers = transactions.clean_frame(_clean_transactions(), rfm_cfg=rfm).customers
    assert dict(zip(customers["customer_id"], customers["recency"], strict=True)) == recency
    assert insights.snapshot_of(customers) == pd.Timestamp(snapshot)
    segmented = customers[["customer_id"]].assign(
        segment=pd.Categorical(["Champions"] * 3, categories=SEGMENTS),
        group=pd.Categorical(["Loyal & High-Value"] * 3, categories=GROUPS),
        r_score=5,
        f_score=5,
        m_score=5,
        rfm_code="555",
    )
    clusters = customers[["customer_id"]].assign(cluster=1, cluster_name="Top Performers")
    export = insights.customer_export(
        customers, segmented, clusters, playbook, EXCLUDED, snapshot=insights.snapshot_of(customers)
    )
    paths = insights.write_exports(export, tmp_path)
    with paths[0].open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["snapshot_date"] for row in rows] == [snapshot] * 3


def test_snapshot_of_a_table_whose_recency_disagrees():
    customers = pd.DataFrame(
        {"recency": [2, 3], "last_purchase": pd.to_datetime(["2011-12-08 15:00", "2011-12-08 09:00"])}
    )
    with pytest.raises(ValueError, match="2 snapshot days \\(2011-12-10, 2011-12-11\\), not one"):
        insights.snapshot_of(customers)


def _read(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_the_data_dictionary_covers_every_exported_column_and_only_those(export, tmp_path):
    paths = insights.write_exports(export, tmp_path)
    dictionary = pd.read_csv(tmp_path / "data_dictionary.csv", dtype=str, keep_default_na=False)
    assert dictionary.columns.tolist() == ["column", "meaning", "format", "example"]
    for path in paths[:-1]:  # customer_segments.csv and every group file
        assert _read(path)[0] == dictionary["column"].tolist(), path.name
    assert dictionary["column"].tolist() == insights.EXPORT_COLUMNS
    assert (dictionary["meaning"] != "").all() and (dictionary["format"] != "").all()
    # examples are the first value of each column as written in customer_segments.csv (c2 first)
    example = dict(zip(dictionary["column"], dictionary["example"], strict=True))
    assert example["customer_id"] == "c2"
    assert example["monetary"] == "300.0"
    assert example["snapshot_date"] == "2011-12-04"
    assert example["currency"] == "£"
    assert example["last_purchase"] == "2011-11-24"
    assert example["note"] == EXCLUDED  # the first non-empty note: c4's, on the last row


def test_the_data_dictionary_of_an_export_without_some_columns(export, tmp_path):
    paths = insights.write_exports(export.drop(columns=["country", "currency"]), tmp_path)
    columns = [row[0] for row in _read(paths[-1])[1:]]
    assert columns == [c for c in insights.EXPORT_COLUMNS if c not in ("country", "currency")]
    assert columns == _read(paths[0])[0]


def test_the_data_dictionary_is_filled_in_for_the_run():
    table = insights.data_dictionary(
        ["frequency", "f_score", "recommended_action"], {"frequency": "12"}, "invoice lines", 14, 5
    ).set_index("column")
    assert table.loc["frequency", "meaning"] == (
        "The customer's number of invoice lines in the data (report 3, Method)"
    )
    assert table.loc["frequency", "example"] == "12"
    assert table.loc["f_score", "example"] == ""  # no value in the file
    assert table.loc["f_score", "meaning"] == (
        "Frequency score, 1 to 5: 5 = most invoice lines; empty when not scored"
    )
    assert table.loc["recommended_action", "meaning"] == (
        "One action per customer: the group's goal, except that nobody who ordered within the last 14 days "
        "is told to win back or reactivate (nurture instead); Review individually when not scored"
    )
    one_day = insights.data_dictionary(["recommended_action"], {}, recent_days=1)
    assert "within the last 1 day is told" in one_day.loc[0, "meaning"]


def test_an_exported_column_nobody_explained_stops_the_export(export, tmp_path):
    with pytest.raises(ValueError, match="no entry for the exported column\\(s\\) discount_code"):
        insights.write_exports(export.assign(discount_code="X"), tmp_path)


# --- recommended actions -----------------------------------------------------------------


def test_export_gives_one_action_with_its_reason(export):
    rows = export.set_index("customer_id")
    assert rows.loc["c1", "recommended_action"] == "Retain and grow"
    assert rows.loc["c1", "action_reason"] == "Champions, code 554: retain and grow; ordered 3 days ago"
    # Lost Customers, 300 days: the group's goal stands
    assert rows.loc["c3", "recommended_action"] == "Reactivate cheaply or let go"
    # not scored: nothing to follow but its own numbers
    assert rows.loc["c4", "recommended_action"] == insights.REVIEW
    assert rows.loc["c4", "action_reason"] == (
        "not scored (outlier policy); ordered 1 day ago: look at this one by hand"
    )
    assert export["recommended_action"].notna().all() and export["action_reason"].notna().all()


@pytest.fixture
def need_attention(playbook) -> pd.DataFrame:
    """Issue 10: "Win back" went to Need Attention customers who had just ordered (codes with
    R = 5), and to members of Top Performers. Recency around the 30-day window."""
    recency = [3, 12, 14, 15, 29, 30, 31, 45]
    table = pd.DataFrame(
        {
            "customer_id": [f"n{i}" for i in range(8)],
            "recency": recency,
            "segment": ["Need Attention"] * 8,
            "group": ["High-Risk"] * 8,
            "rfm_code": ["535"] * 5 + ["443"] * 3,
            "cluster_name": ["Top Performers"] * 2
            + ["High-Value (recent)"] * 4
            + ["Dormant (low-spend)"] * 2,
        }
    )
    return table.assign(goal=table["group"].map(playbook.set_index("group")["goal"]))


def test_nobody_within_the_window_is_told_to_win_back(need_attention):
    actions = insights.recommend_actions(need_attention, recent_days=30)
    # 3, 12, 14, 15, 29 and 30 days are within 30 days: nurtured; 31 and 45 are won back
    assert actions["recommended_action"].tolist() == ["Nurture"] * 6 + ["Win back"] * 2
    assert actions.loc[1, "action_reason"] == (
        "ordered 12 days ago (within 30 days): too recent for a win-back; nurture instead "
        "(Need Attention, code 535)"
    )  # nurtured in Top Performers: the cluster agrees
    assert actions.loc[6, "action_reason"] == "Need Attention, code 443: win back; ordered 31 days ago"
    # a 14-day window moves 3, 12 and 14 days only
    narrow = insights.recommend_actions(need_attention, recent_days=14)["recommended_action"]
    assert narrow.tolist() == ["Nurture"] * 3 + ["Win back"] * 5


def test_cluster_is_context_and_conflicts_are_flagged(need_attention):
    actions = insights.recommend_actions(need_attention, recent_days=14)
    # Top Performers (recent): the win-back of n0, n1 was moved by the window, so no conflict.
    # n6, n7 (31, 45 days) are won back inside Dormant: they agree. With a 14-day window
    # nobody in Top Performers is won back; nobody in Dormant is kept: no conflict at all.
    assert not actions["conflict"].any()
    shifted = need_attention.assign(recency=[40, 50, 14, 15, 29, 30, 3, 45])
    actions = insights.recommend_actions(shifted, recent_days=14)
    # n0, n1: won back although in Top Performers; n6 (3 days) nurtured although in Dormant
    assert actions["conflict"].tolist() == [True, True, False, False, False, False, True, False]
    assert actions.loc[0, "recommended_action"] == "Win back"  # the segment decides
    assert actions.loc[6, "action_reason"].endswith(
        "; its cluster Dormant (low-spend) is the least recent one: the segment decides"
    )


def test_action_overview_counts(need_attention):
    export = need_attention.assign(recency=[40, 50, 14, 15, 29, 30, 3, 45])
    actions, conflicts = insights.action_overview(export, recent_days=30)
    # within 30 days: 14, 15, 29, 30, 3 → 5 nurtured; 40, 50, 45 → 3 won back
    assert actions.set_index("recommended_action")["customers"].to_dict() == {"Nurture": 5, "Win back": 3}
    assert actions.set_index("recommended_action")["instead of a win-back"].to_dict() == {
        "Nurture": 5,
        "Win back": 0,
    }
    assert actions["share"].tolist() == [5 / 8, 3 / 8]
    # n0, n1 won back in Top Performers; n6 nurtured in Dormant
    assert conflicts[["cluster_name", "recommended_action", "customers"]].values.tolist() == [
        ["Top Performers", "Win back", 2],
        ["Dormant (low-spend)", "Nurture", 1],
    ]
    text = insights.describe_actions(actions, conflicts, 30)
    assert "**5 of 8 customers** would have been, and are nurtured instead" in text
    assert "For **3 customers** the cluster disagrees" in text
    assert (
        "most are 2 customers in Need Attention told to win back in the recent cluster Top Performers" in text
    )


def test_recent_days_is_a_report_parameter():
    from pydantic import ValidationError

    from rfm_helpers.config import ReportConfig

    assert ReportConfig().recent_days == 30
    assert ReportConfig(recent_days=14).recent_days == 14
    with pytest.raises(ValidationError, match="recent_days"):
        ReportConfig(recent_days=-1)
