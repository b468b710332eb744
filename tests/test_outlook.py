"""The outlook pages' sentences and tables agree with the numbers beside them (values set by hand),
for the customers' page and the parts the accounts' page shares with it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rfm_helpers.analysis.backtest import Migration
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


def test_the_ranking_and_migration_tables_name_rows_alike_for_customers_and_accounts() -> None:
    view = outlook.ranking_view(_ranking(0.741, 0.731, 0.688))
    assert view["Ranking made at the cutoff"].tolist() == [
        "R+F+M score sum",
        "BG/NBD expected purchases",
        "Naive rate",
    ]
    for then, label in [("group_then", "Group"), ("cluster_name_then", "Cluster")]:
        counts = pd.DataFrame(
            [[3, 1], [0, 2]], index=pd.Index(["A", "new"], name=then), columns=["A", "gone"]
        )
        table = outlook.migration_view(Migration(counts=counts, shares=counts / 4))
        assert list(table.columns) == [f"{label} at the cutoff ↓ / now →", "A", "gone", "Total"]
        assert table["Total"].tolist() == ["4", "2"]


def test_the_signal_sentence_says_what_the_categories_tell() -> None:
    best = pd.Series({"share_low": 0.9, "share_high": 0.95})
    worst = pd.Series({"share_low": 0.1, "share_high": 0.2})
    text = outlook.signal_sentence(best, worst, "clusters", "which accounts stay active")
    assert text.endswith("the clusters carry real signal about which accounts stay active.")


def test_prediction_export_and_view_for_customers() -> None:
    predictions = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "expected_orders": [1.23456, 0.5],
            "p_alive": [0.91234, 0.5],
            "expected_spend": [10.0, float("nan")],
            "expected_value": [12.344, float("nan")],
        }
    )
    predictions.attrs = {"horizon_days": 30, "p_alive_identifiable": True}
    segmented = pd.DataFrame(
        {
            "customer_id": ["b", "a"],
            "segment": ["Lost Customers", "Champions"],
            "group": ["Inactive & Lost", "Loyal & High-Value"],
        }
    )
    fallen = pd.DataFrame({"customer_id": ["b"], "group_then": ["Loyal & High-Value"]})
    export = outlook.prediction_export(predictions, segmented, fallen)
    assert list(export.columns) == [
        "customer_id",
        "segment",
        "group",
        "expected_orders_30d",
        "probability_active",
        "expected_spend_per_order",
        "expected_value_30d",
        "fell_from_group",
    ]
    assert export["customer_id"].tolist() == ["a", "b"]  # highest value first, no value last
    assert export.iloc[0][["expected_orders_30d", "probability_active", "expected_value_30d"]].tolist() == [
        1.235,
        0.912,
        12.34,
    ]
    view = outlook.predictions_view(export, "GBP")
    assert list(view.columns) == [
        "Customer",
        "Segment",
        "Group",
        "Expected orders, next 30 days",
        "Probability active",
        "Expected spend per order",
        "Expected value, next 30 days",
        "Fell from",
    ]
    assert view["Fell from"].tolist() == ["", "Loyal & High-Value"]
