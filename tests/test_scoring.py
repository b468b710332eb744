"""quantile_scores and score_rfm: hand-computed cases, pd.qcut as a second method, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_helpers.analysis.scoring import quantile_scores, score_rfm
from rfm_helpers.config import RFMConfig

TIES = [1, 1, 1, 1, 2, 3, 4, 5, 6, 7]


def test_rank_ties_share_a_score():
    # values strictly below: 0,0,0,0,4,5,6,7,8,9 → floor(below · 5 / 10) + 1
    result = quantile_scores(pd.Series(TIES))
    assert result.scores.tolist() == [1, 1, 1, 1, 3, 3, 4, 4, 5, 5]
    assert result.note is None


def test_reverse():
    result = quantile_scores(pd.Series(TIES), reverse=True)
    assert result.scores.tolist() == [5, 5, 5, 5, 3, 3, 2, 2, 1, 1]  # 6 − score


def test_bins_table():
    bins = quantile_scores(pd.Series(TIES)).bins
    assert bins.columns.tolist() == ["score", "min", "max", "customers", "share"]
    assert bins["score"].tolist() == [1, 2, 3, 4, 5]
    assert bins["customers"].tolist() == [4, 0, 2, 2, 2]  # score 2 is empty but present
    assert bins["share"].tolist() == [0.4, 0.0, 0.2, 0.2, 0.2]
    assert bins["min"].tolist()[2:] == [2, 4, 6] and bins["max"].tolist()[2:] == [3, 5, 7]
    assert bins.loc[1, ["min", "max"]].isna().all()


def test_reverse_bins_describe_the_reversed_scores():
    bins = quantile_scores(pd.Series(TIES), reverse=True).bins
    assert bins["customers"].tolist() == [2, 2, 2, 0, 4]
    assert bins.loc[4, "max"] == 1  # score 5 = the lowest values


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (10, [2, 2, 2, 2, 2]),
        # below · 5 // 11 for below = 0..10: 0,0,0,1,1,2,2,3,3,4,4
        (11, [3, 2, 2, 2, 2]),
        # below · 5 // 13 for below = 0..12: 0,0,0,1,1,1,2,2,3,3,3,4,4
        (13, [3, 3, 2, 3, 2]),
    ],
)
def test_distinct_values_split_evenly(n, expected):
    values = pd.Series(np.random.default_rng(n).permutation(n) * 1.5)
    result = quantile_scores(values)
    assert result.bins["customers"].tolist() == expected
    assert all(abs(c - n / 5) < 1 for c in expected)


def test_index_and_name_are_kept():
    values = pd.Series([3.0, 1.0, 2.0], index=["x", "y", "z"], name="monetary")
    scores = quantile_scores(values).scores
    assert scores.index.tolist() == ["x", "y", "z"] and scores.name == "monetary"
    assert scores.dtype == "int64"


def test_qcut_equals_pandas_qcut_on_distinct_data():
    values = pd.Series(np.random.default_rng(0).lognormal(size=37))
    expected = pd.qcut(values, 5, labels=range(1, 6)).astype(int)  # the document's call
    result = quantile_scores(values, method="qcut")
    assert result.scores.tolist() == expected.tolist()
    assert result.note is None
    reversed_ = quantile_scores(values, method="qcut", reverse=True).scores
    assert reversed_.tolist() == pd.qcut(values, 5, labels=range(5, 0, -1)).astype(int).tolist()


def test_qcut_falls_back_to_rank_when_edges_repeat():
    # 8 of 20 (40 %) are 1: the 20 % and 40 % quantiles are both 1
    values = pd.Series([1] * 8 + list(range(2, 14)), name="frequency")
    with pytest.raises(ValueError):
        pd.qcut(values, 5, labels=range(1, 6), duplicates="drop")  # the document's code fails
    result = quantile_scores(values, method="qcut")
    # rank: below = 0 for the ones → 1; value v ≥ 2 has below = v + 6 → (v + 6) · 5 // 20 + 1
    assert result.scores.tolist() == [1] * 8 + [3] * 4 + [4] * 4 + [5] * 4
    assert result.scores.tolist() == quantile_scores(values, method="rank").scores.tolist()
    assert result.note.startswith("Frequency: 40% of customers share the value 1")
    assert "rank" in result.note


def test_all_identical_get_the_middle_score():
    result = quantile_scores(pd.Series([7.0] * 6, name="recency"))
    assert result.scores.tolist() == [3] * 6
    assert "impossible" in result.note and "Recency" in result.note
    assert result.bins["customers"].tolist() == [0, 0, 6, 0, 0]
    assert quantile_scores(pd.Series([7.0] * 6), method="qcut", reverse=True).scores.tolist() == [3] * 6
    assert quantile_scores(pd.Series([7.0] * 4), n_bins=4).scores.tolist() == [2] * 4  # ceil(4/2)


def test_empty_and_missing_raise():
    with pytest.raises(ValueError, match="empty"):
        quantile_scores(pd.Series([], dtype="float64"))
    with pytest.raises(ValueError, match="missing"):
        quantile_scores(pd.Series([1.0, np.nan, 2.0]))


# --- properties -----------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=5, max_size=500, unique=True))
def test_distinct_values_fill_every_score_evenly(values):
    result = quantile_scores(pd.Series(values))
    counts = result.scores.value_counts()
    assert set(counts.index) <= {1, 2, 3, 4, 5}
    n = len(values)
    assert all(abs(result.bins["customers"] - n / 5) < 1)
    assert result.bins["customers"].sum() == n


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.5, 10.0, 1e6]) | finite, min_size=1, max_size=300),
    st.sampled_from(["rank", "qcut"]),
    st.booleans(),
)
def test_scores_are_monotone_and_ties_share(values, method, reverse):
    series = pd.Series(values)
    scores = quantile_scores(series, reverse=reverse, method=method).scores
    assert scores.between(1, 5).all()
    frame = pd.DataFrame({"value": series, "score": scores}).sort_values("value", kind="stable")
    steps = np.diff(frame["score"].to_numpy())
    assert (steps <= 0).all() if reverse else (steps >= 0).all()
    assert (frame.groupby("value")["score"].nunique() == 1).all()


# --- score_rfm ------------------------------------------------------------------------


@pytest.fixture
def rfm() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "recency": [1, 2, 3, 4, 5],
            "frequency": [50, 10, 30, 40, 20],
            "monetary": [5.0, 4.0, 3.0, 2.0, 1.0],
        }
    )


def test_score_rfm(rfm):
    scored, bins, notes = score_rfm(rfm, RFMConfig())
    # 5 distinct values → one customer per score. R reversed: recency 1 → 5 … 5 → 1
    assert scored["r_score"].tolist() == [5, 4, 3, 2, 1]
    assert scored["f_score"].tolist() == [5, 1, 3, 4, 2]
    assert scored["m_score"].tolist() == [5, 4, 3, 2, 1]
    assert scored["rfm_code"].tolist() == ["555", "414", "333", "242", "121"]
    assert bins.columns.tolist() == ["metric", "score", "min", "max", "customers", "share"]
    assert bins["metric"].tolist() == ["recency"] * 5 + ["frequency"] * 5 + ["monetary"] * 5
    assert (bins["customers"] == 1).all()
    assert notes == []
    assert "r_score" not in rfm.columns  # input untouched


def test_score_rfm_collects_notes(rfm):
    ones = rfm.assign(frequency=[1, 1, 1, 2, 3])
    scored, _, notes = score_rfm(ones, RFMConfig(scoring="qcut"))
    assert len(notes) == 1 and notes[0].startswith("Frequency: 60% of customers share the value 1")
    assert scored["f_score"].tolist() == [1, 1, 1, 4, 5]  # below 0,0,0,3,4 → ·5//5 + 1
