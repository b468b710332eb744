"""assign_segments, segment_summary, segment_crosstab on hand-made frames and the shipped tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import GROUPS, SEGMENTS

from rfm_helpers.analysis.segments import (
    COHORT,
    assign_segments,
    code_grid,
    code_table_quirks,
    segment_crosstab,
    segment_summary,
)
from rfm_helpers.paths import PROJECT_ROOT

REFERENCE = PROJECT_ROOT / "data" / "reference"


@pytest.fixture(scope="module")
def segment_table() -> pd.DataFrame:
    """The shipped table, exploded as the document does (split on commas, strip)."""
    wide = pd.read_csv(REFERENCE / "rfm_segments.csv", dtype=str)
    long = wide.assign(rfm_code=wide["rfm_codes"].str.split(",")).explode("rfm_code")
    return long.assign(rfm_code=long["rfm_code"].str.strip())[["rfm_code", "segment"]]


@pytest.fixture(scope="module")
def segment_groups() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "segment_groups.csv", dtype=str)


@pytest.fixture
def scored() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "rfm_code": ["555", "111", "512", "155"],
            "recency": [1, 300, 5, 200],
            "frequency": [20, 1, 1, 15],
            "monetary": [100.0, 10.0, 30.0, 60.0],
            "country": ["France", "United Kingdom", "United Kingdom", "France"],
            "first_purchase": pd.to_datetime(["2010-12-03", "2010-12-20", "2011-11-02", "2010-12-05"]),
        }
    )


def test_shipped_table_covers_all_125_codes(segment_table):
    expected = {"".join(c) for c in itertools.product("12345", repeat=3)}
    assert len(segment_table) == 125 and set(segment_table["rfm_code"]) == expected


def test_assign_segments(scored, segment_table, segment_groups):
    out = assign_segments(scored, segment_table, segment_groups)
    assert out["segment"].tolist() == ["Champions", "Lost Customers", "New Customers", "Cannot Lose Them"]
    assert out["group"].tolist() == ["Loyal & High-Value", "Inactive & Lost", "New & Potential", "High-Risk"]
    assert out["segment"].cat.ordered and out["segment"].cat.categories.tolist() == SEGMENTS
    assert out["group"].cat.ordered and out["group"].cat.categories.tolist() == GROUPS
    assert "segment" not in scored.columns


def test_categorical_order_wins_over_row_order(scored, segment_table, segment_groups):
    by_code = segment_table.sort_values("rfm_code").assign(
        segment=lambda t: pd.Categorical(t["segment"], categories=SEGMENTS)
    )
    out = assign_segments(scored, by_code, segment_groups)
    assert out["segment"].cat.categories.tolist() == SEGMENTS


def test_missing_code_raises_naming_it(scored, segment_table, segment_groups):
    table = segment_table[segment_table["rfm_code"] != "512"]
    with pytest.raises(ValueError, match="512"):
        assign_segments(scored, table, segment_groups)


def test_segment_without_group_raises(scored, segment_table, segment_groups):
    groups = segment_groups[segment_groups["segment"] != "Promising"]
    with pytest.raises(ValueError, match="Promising"):
        assign_segments(scored, segment_table, groups)


def test_with_the_validated_loader(scored, segment_groups):
    reference = pytest.importorskip("rfm_helpers.data.reference")
    table = reference.load_segment_table(REFERENCE / "rfm_segments.csv")
    out = assign_segments(scored, table, segment_groups)
    assert out["segment"].tolist() == ["Champions", "Lost Customers", "New Customers", "Cannot Lose Them"]
    assert out["group"].cat.categories.tolist() == GROUPS


def test_segment_summary(scored, segment_table, segment_groups):
    summary = segment_summary(assign_segments(scored, segment_table, segment_groups))
    assert summary["segment"].tolist() == SEGMENTS  # every segment, in order
    assert summary.columns.tolist() == [
        "segment", "customers", "customer_share", "revenue", "revenue_share",
        "recency_median", "frequency_median", "monetary_median",
        "recency_mean", "frequency_mean", "monetary_mean",
    ]  # fmt: skip
    s = summary.set_index("segment")
    # total revenue 100 + 10 + 30 + 60 = 200
    assert s.loc["Champions", ["customers", "customer_share", "revenue", "revenue_share"]].tolist() == [
        1, 0.25, 100.0, 0.5
    ]  # fmt: skip
    assert s.loc["Cannot Lose Them", "revenue_share"] == 0.3  # 60 / 200
    assert s.loc["Lost Customers", "recency_median"] == 300
    assert summary["customer_share"].sum() == pytest.approx(1)
    assert summary["revenue_share"].sum() == pytest.approx(1)
    empty = s.loc["Loyal"]
    assert empty[["customers", "customer_share", "revenue", "revenue_share"]].tolist() == [0, 0, 0, 0]
    assert np.isnan(empty["recency_median"])


def test_group_summary(scored, segment_table, segment_groups):
    summary = segment_summary(assign_segments(scored, segment_table, segment_groups), by="group")
    assert summary["group"].tolist() == GROUPS
    assert summary["customers"].tolist() == [1, 1, 1, 1]
    assert summary["revenue"].tolist() == [100.0, 60.0, 30.0, 10.0]


def test_crosstab_by_country(scored, segment_table, segment_groups):
    seg = assign_segments(scored, segment_table, segment_groups)
    counts = segment_crosstab(seg, "country", normalize=False)
    assert counts.index.tolist() == SEGMENTS
    assert counts.loc["Champions", "France"] == 1 and counts.loc["Loyal"].sum() == 0
    shares = segment_crosstab(seg, "country")  # each country's customers across segments
    assert shares.sum().tolist() == pytest.approx([1, 1])
    assert shares.loc["Cannot Lose Them", "France"] == 0.5
    by_segment = segment_crosstab(seg, "country", normalize="index")
    assert by_segment.loc["Champions"].tolist() == [1, 0]
    assert by_segment.loc["Loyal"].isna().all()  # no customers: share undefined
    assert segment_crosstab(seg, "country", normalize="all").to_numpy().sum() == pytest.approx(1)


def test_crosstab_by_cohort(scored, segment_table, segment_groups):
    seg = assign_segments(scored, segment_table, segment_groups)
    counts = segment_crosstab(seg, COHORT, normalize=False)
    # first purchases: a, b, d in 2010-12; c in 2011-11
    assert counts.columns.tolist() == pd.to_datetime(["2010-12-01", "2011-11-01"]).tolist()
    assert counts.sum().tolist() == [3, 1]
    assert counts.loc["New Customers", pd.Timestamp("2011-11-01")] == 1


# --- the code table as a grid ----------------------------------------------------------


def test_code_grid_has_every_code_once_with_its_scores(segment_table, scored):
    grid = code_grid(segment_table, scored)
    assert len(grid) == 125 and grid["rfm_code"].is_unique
    row = grid.set_index("rfm_code").loc["155"]
    assert (row["R"], row["F"], row["M"]) == (1, 5, 5)
    assert row["segment"] == "Cannot Lose Them"
    # customers per code: a 555, b 111, c 512, d 155
    assert grid.set_index("rfm_code")["customers"].loc[["555", "111", "512", "155", "554"]].tolist() == [
        1,
        1,
        1,
        1,
        0,
    ]
    assert grid["segment"].cat.categories.tolist() == SEGMENTS


def test_quirks_of_the_shipped_table(segment_table, scored):
    """Read off data/reference/rfm_segments.csv by hand: Cannot Lose Them lists 155, 154,
    144, 214, 215, 115, 114, 113: five codes with F = 1 (214, 215, 115, 114, 113) and two
    with F = 5 (155, 154)."""
    quirks = code_table_quirks(code_grid(segment_table, scored)).set_index(["segment", "score"])
    cannot = quirks.loc[("Cannot Lose Them", "F")]
    assert cannot["codes"] == 8
    assert cannot["lowest"] == "113, 114, 115, 214, 215"
    assert cannot["highest"] == "154, 155"
    assert cannot["customers_highest"] == 1  # customer d, 155
    assert cannot["note"] == (
        "Cannot Lose Them mixes F = 1 and F = 5: 5 of its 8 codes have F = 1 (113, 114, 115, 214, 215), "
        "2 have F = 5 (154, 155); 0 customers are in the F = 1 codes, 1 in the F = 5 codes."
    )
    # The other segments reaching both ends of a score, by hand: Promising (M: 521 and 515,
    # 525, 415, 425, 315), About To Sleep (F: 213, 312 and 251), Lost Customers (F: 111, 112 and 151).
    assert sorted(quirks.index) == [
        ("About To Sleep", "F"),
        ("Cannot Lose Them", "F"),
        ("Lost Customers", "F"),
        ("Promising", "M"),
    ]
    assert quirks.loc[("Promising", "M"), "lowest"] == "521"
    assert quirks.loc[("Lost Customers", "F"), "highest"] == "151"


def test_quirks_are_measured_per_score():
    table = pd.DataFrame(
        {
            "rfm_code": ["".join(c) for c in itertools.product("12345", repeat=3)],
        }
    )
    table["segment"] = np.where(table["rfm_code"].str[0] >= "3", "Recent", "Old")
    quirks = code_table_quirks(code_grid(table))
    # "Recent" holds R = 3..5 only and "Old" R = 1..2, but both reach F and M = 1 and 5
    assert set(quirks["score"]) == {"F", "M"} and "R" not in set(quirks["score"])
    assert "customers_lowest" not in quirks.columns
