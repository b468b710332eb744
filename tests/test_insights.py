"""Observations, recommendations and the campaign export on hand-built tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import GROUPS, SEGMENTS

from rfm_helpers import insights
from rfm_helpers.insights import LEVELS, level

EXCLUDED = "not scored: above the 95% quantile of R, F or M (rfm.outliers: trim)"


# --- level -----------------------------------------------------------------------------

# Quintile edges of [0, 20, 40, 60, 80, 100] (linear interpolation, positions q × 5 = 1, 2, 3, 4):
# [20, 40, 60, 80]. A value on an edge belongs to the quintile above it (searchsorted right).
POPULATION = pd.Series([0, 20, 40, 60, 80, 100], dtype="float64")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, "very low"),
        (0, "very low"),
        (19.99, "very low"),
        (20, "low"),
        (39.99, "low"),
        (40, "medium"),
        (60, "high"),
        (79.99, "high"),
        (80, "very high"),
        (1000, "very high"),
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
    # Champions: ratio 0.6 / 0.25 = 2.4; R 5 < 20 very recently; F 2 → edges [1, 1, 2, 3] put it
    # in position 3 (often); M 12,300 ≥ 10,000 very high, money(12,300) = £12.3k
    assert text[0] == (
        "25% of customers bring 60% of revenue (2.4× their weight). The typical customer last "
        "ordered 5 days ago (very recently), placed 2 orders (often) and spent £12.3k (very high)."
    )
    # New Customers: ratio 0.4 / 0.75 = 0.53 → 0.5; R 30 in [20, 40) recently; F 1 → position 2
    # (sometimes), singular "order"; M 950 in [500, 1000) low
    assert text[1] == (
        "75% of customers bring 40% of revenue (0.5× their weight). The typical customer last "
        "ordered 30 days ago (recently), placed 1 order (sometimes) and spent £950 (low)."
    )


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


@pytest.fixture
def export(all_customers, segmented, clusters, playbook) -> pd.DataFrame:
    return insights.customer_export(all_customers, segmented, clusters, playbook, EXCLUDED)


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
    # High-Risk and New & Potential have no customers: no file
    assert [p.name for p in paths] == [
        "customer_segments.csv",
        "group_loyal_and_high_value.csv",
        "group_inactive_and_lost.csv",
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
