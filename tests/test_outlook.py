"""The outlook page's sentences agree with the numbers beside them (values set by hand)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

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


def test_write_lists_explains_every_column_and_drops_stale_lists(tmp_path) -> None:
    (tmp_path / "fallen_customers.csv").write_text("customer_id\nold\n", encoding="utf-8")
    export = pd.DataFrame(
        {
            "customer_id": ["007", "008"],
            "segment": ["Champions", "Lost Customers"],
            "group": ["Loyal & High-Value", "Inactive & Lost"],
            "expected_orders_30d": [1.5, 0.1],
            "expected_value_30d": [12.5, float("nan")],
        }
    )
    paths = outlook.write_lists(export, None, tmp_path, 30, "bgnbd")
    assert [p.name for p in paths] == ["customer_predictions.csv", "outlook_data_dictionary.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths), "stale list removed"
    dictionary = pd.read_csv(paths[-1], dtype=str, keep_default_na=False)
    assert dictionary["column"].tolist() == list(export.columns)
    meaning = dictionary.set_index("column")["meaning"]
    assert "next 30 days" in meaning["expected_orders_30d"] and "BG/NBD" in meaning["expected_orders_30d"]
    assert dictionary.set_index("column").loc["customer_id", "example"] == "007"
    with pytest.raises(ValueError, match="no entry for surprise"):
        outlook.write_lists(export.assign(surprise=1), None, tmp_path, 30, "bgnbd")
