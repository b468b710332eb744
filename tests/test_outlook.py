"""The outlook page's sentences agree with the numbers beside them (values set by hand)."""

from __future__ import annotations

import math

import pandas as pd

from rfm_helpers.report import outlook


def _ranking(score: float, model: float, naive: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ranking": ["R+F+M score sum", "bgnbd expected purchases", "naive rate"],
            "auc": [score, model, naive],
            "top_decile_capture": [0.166, 0.168, 0.134],
        }
    )


def test_a_model_within_the_margin_of_the_score_is_called_no_better() -> None:
    text = outlook.verdict(_ranking(0.741, 0.731, 0.688))
    assert "no better than the plain RFM score" in text and "(AUC 0.731 vs 0.741)" in text
    assert "0.688" in text


def test_a_model_clearly_above_the_score_is_called_better() -> None:
    text = outlook.verdict(_ranking(0.70, 0.80, 0.60))
    assert "ranks them better than the RFM score (AUC 0.800 vs 0.700)" in text
    assert "no better" not in text


def test_an_undefined_auc_is_said_and_shown_as_a_dash() -> None:
    ranking = _ranking(math.nan, math.nan, math.nan)
    assert "no ranking can be judged" in outlook.verdict(ranking)
    view = outlook.ranking_view(ranking)
    assert view["AUC"].tolist() == ["–", "–", "–"]
    assert view["Ranking made at the cutoff"].tolist()[1] == "BG/NBD expected purchases"


def test_signal_is_claimed_only_when_the_intervals_do_not_overlap() -> None:
    best = pd.Series({"share_low": 0.768, "share_high": 0.812})
    assert "carry real signal" in outlook.signal_sentence(
        best, pd.Series({"share_low": 0.341, "share_high": 0.403})
    )
    overlapping = pd.Series({"share_low": 0.70, "share_high": 0.79})
    assert "do not clearly tell" in outlook.signal_sentence(best, overlapping)


def test_a_model_without_predictions_for_some_customers_is_not_ranked() -> None:
    ranking = _ranking(0.741, math.nan, 0.688)
    ranking.attrs = {"unscored": {"bgnbd expected purchases": 1343}}
    text = outlook.verdict(ranking)
    assert text.startswith("The model gave no prediction for 1,343 customers")
    assert "AUC 0.741" in text and "0.688" in text


def test_dashboard_values_mark_customers_first_scored_after_the_cutoff_as_new() -> None:
    predictions = pd.DataFrame({"customer_id": ["a", "b", "c"], "expected_value": [1.234, 2.0, float("nan")]})
    then = pd.DataFrame({"customer_id": ["a", "c", "z"], "group": ["Loyal & High-Value", "High-Risk", "X"]})
    values = outlook.dashboard_values(predictions, then)
    assert values["group_then"].tolist() == ["Loyal & High-Value", "new", "High-Risk"]
    assert values["expected_value"].tolist()[:2] == [1.23, 2.0]
    assert "group_then" not in outlook.dashboard_values(predictions).columns
