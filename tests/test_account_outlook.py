"""The account runs' outlook (step 06_account_outlook): its numbers
(rfm_helpers.analysis.account_outlook) and its page (rfm_helpers.report.account_outlook), unit
tests on small hand-built tables whose results are worked out by hand, and one test of the
extraction SQL (sql/omnichannel/activity_summary.sql and the moved-back extraction) on a small
generated database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.analysis import account_outlook as ao
from rfm_helpers.analysis import backtest, predictive
from rfm_helpers.config import AccountsSource
from rfm_helpers.data import accounts
from rfm_helpers.report import account_outlook as page
from rfm_helpers.synthetic.accounts import GeneratorSettings, generate, write_duckdb

TOP, HIGH, DORMANT, LOW = "Top Performers", "High-Value", "Dormant (low-spend)", "Low-Value (lapsed)"
NAMES = [TOP, HIGH, DORMANT, LOW]
MODEL = "bgnbd expected active days"


def named(numbers: list[int]) -> pd.Categorical:
    return pd.Categorical([NAMES[n - 1] for n in numbers], categories=NAMES)


def bgnbd(identifiable: bool = True) -> predictive.ModelFit:
    """A BG/NBD fit written by hand (no optimiser involved)."""
    return predictive.ModelFit(
        model="bgnbd",
        params={"r": 1.0, "alpha": 10.0, "a": 0.5, "b": 5.0},
        log_likelihood=0.0,
        n_customers=0,
        std_errors={"r": 0.1, "alpha": 1.0, "a": 0.05, "b": 0.5},
        identifiable={"r": True, "alpha": True, "a": identifiable, "b": identifiable},
        boundary_note="" if identifiable else "a stopped at the lower bound of the search",
        converged=True,
        optimizer_message="",
        fit_seconds=0.0,
    )


def gamma_gamma(p: float = 6.0, q: float = 4.0, gamma: float = 15.0) -> predictive.ModelFit:
    return predictive.ModelFit(
        model="gamma_gamma",
        params={"p": p, "q": q, "gamma": gamma},
        log_likelihood=0.0,
        n_customers=0,
        std_errors={"p": 0.1, "q": 0.1, "gamma": 0.1},
        identifiable={"p": True, "q": True, "gamma": True},
        boundary_note="",
        converged=True,
        optimizer_message="",
        fit_seconds=0.0,
    )


# --------------------------------------------------------------------------- when


def test_cutoff_is_holdout_days_before_as_of():
    source = AccountsSource()  # window [2024-01-01, 2024-12-01), as_of 2024-12-01, corrected
    assert ao.backtest_cutoff(source, 90) == (dt.date(2024, 9, 2), "")


def test_no_cutoff_when_too_little_history_or_the_document_method():
    source = AccountsSource()
    cutoff, note = ao.backtest_cutoff(source, 200)  # 335 window days - 200 = 135 < 200
    assert cutoff is None and "keeps 135 days, fewer than the 200 days" in note
    cutoff, note = ao.backtest_cutoff(source.model_copy(update={"method": "document"}), 90)
    assert cutoff is None and "accounts.method: corrected" in note


def test_cutoff_source_moves_the_window_end_and_as_of_back():
    moved = accounts.cutoff_source(AccountsSource(), 90)
    assert (moved.window_start, moved.window_end, moved.as_of) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 9, 2),
        dt.date(2024, 9, 2),
    )
    with pytest.raises(ValueError, match="leaves it empty"):
        accounts.cutoff_source(AccountsSource(), 400)
    with pytest.raises(ValueError, match="method: corrected"):
        accounts.cutoff_source(AccountsSource().model_copy(update={"method": "document"}), 90)


# --------------------------------------------------------------------------- the backtest


def test_holdout_outcomes_count_campaigns_messages_and_revenue_per_account():
    then = pd.DataFrame({"customer_id": ["a", "b", "c"]})
    campaigns = pd.DataFrame({"application": ["a", "d"], "broadcasts_wa": [2, 5], "broadcasts_call": [1, 0]})
    charged = pd.DataFrame(
        {
            "application": ["a", "b"],
            "charged_wa": [10, 4],
            "charged_sms": [0, 1],
            "revenue_wa": [7770, 3108],
            "revenue_sms": [0, 600],
        }
    )
    out = ao.holdout_outcomes(then, campaigns, charged)
    assert out["customer_id"].tolist() == ["a", "b", "c"]  # d: first seen in the window, no cluster then
    assert out["campaigns"].tolist() == [3, 0, 0]
    assert out["charged_messages"].tolist() == [10, 5, 0]
    assert out["revenue"].tolist() == [7770.0, 3708.0, 0.0]
    assert out["active"].tolist() == [True, False, False]  # b paid but ran no campaign: not active


def test_outcomes_by_cluster_shares_intervals_and_lift():
    placed = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "cluster": [1, 1, 1, 4],
            "cluster_name": named([1, 1, 1, 4]),
        }
    )
    holdout = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "campaigns": [2, 0, 4, 0],
            "revenue": [100.0, 0.0, 50.0, 0.0],
            "active": [True, False, True, False],
        }
    )
    table = ao.outcomes_by_cluster(placed, holdout).set_index("cluster_name")
    assert table["cluster"].tolist() == [1, 2, 3, 4]  # every cluster of the run, in number order
    top, low = table.loc[TOP], table.loc[LOW]
    assert (top["customers"], top["ordered"]) == (3, 2)
    assert top["repeat_share"] == pytest.approx(2 / 3)
    assert top["orders_per_customer"] == pytest.approx(2.0)  # 6 campaigns / 3 accounts
    assert top["revenue_per_customer"] == pytest.approx(50.0)  # 150 / 3
    assert top["lift"] == pytest.approx((2 / 3) / (2 / 4))
    # Wilson, 2 of 3, z = 1.95996: centre 0.57308, half-width 0.36543
    assert (top["share_low"], top["share_high"]) == pytest.approx((0.20765, 0.93851), abs=1e-4)
    assert (low["customers"], low["ordered"], low["repeat_share"], low["lift"]) == (1, 0, 0.0, 0.0)
    assert table.loc[HIGH, "customers"] == 0 and pd.isna(table.loc[HIGH, "repeat_share"])
    assert table.attrs["overall_share"] == pytest.approx(0.5)


def test_place_at_cutoff_uses_the_run_clusters_and_names():
    clustered = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "recency": [1, 2, 100, 90],
            "monetary": [100, 110, 0, 10],
            "cluster": [1, 1, 2, 2],
            "cluster_name": pd.Categorical(["Top Performers"] * 2 + ["Dormant"] * 2),
        }
    )
    then = pd.DataFrame({"customer_id": ["x", "y"], "recency": [3, 95], "monetary": [105, 5]})
    placed = ao.place_at_cutoff(clustered, then, ["recency", "monetary"], log_transform=False)
    assert placed["cluster"].tolist() == [1, 2]
    assert placed["cluster_name"].astype(str).tolist() == ["Top Performers", "Dormant"]
    assert list(placed["cluster_name"].cat.categories) == ["Top Performers", "Dormant"]


def test_feature_score_is_the_mean_percentile_rank_with_recency_reversed():
    table = pd.DataFrame({"recency": [1, 10, 20], "monetary": [1, 30, 20]})
    # recency reversed: 1, 2/3, 1/3; monetary: 1/3, 1, 2/3
    assert ao.feature_score(table, ["recency", "monetary"]).tolist() == pytest.approx([2 / 3, 5 / 6, 1 / 2])


def ranking_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    placed = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "cluster": [1, 2, 1, 2],
            "recency": [5, 50, 10, 3],
            "monetary": [100, 10, 50, 20],
        }
    )
    holdout = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "active": [True, False, True, False]})
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "frequency": [3, 0, 1, 0],
            "recency": [30, 0, 30, 0],
            "T": [30, 30, 30, 30],
            "monetary_value": [10.0, 0.0, 10.0, 0.0],
        }
    )
    return placed, holdout, summary


def test_ranking_quality_aucs_worked_out_by_hand():
    placed, holdout, summary = ranking_inputs()
    ranking = ao.ranking_quality(placed, holdout, summary, bgnbd(), 90, ["recency", "monetary"])
    auc = dict(zip(ranking["ranking"], ranking["auc"], strict=True))
    assert auc[ao.CLUSTER_ORDER] == 1.0  # clusters 1, 1 (active) above 2, 2
    assert auc[ao.RECENCY_ORDER] == 0.5  # -5, -10 vs -50, -3: two of four pairs
    assert auc[ao.FEATURE_SCORE] == 0.75  # 0.875, 0.625 vs 0.25, 0.75: three of four pairs
    assert auc[ao.NAIVE] == 1.0  # (x + 1) / T: 4, 2 vs 1, 1
    assert auc[MODEL] == 1.0  # repeat active days, recent: above the one-day accounts
    capture = dict(zip(ranking["ranking"], ranking["top_decile_capture"], strict=True))
    # top decile = ceil(0.4) = 1 account: the cluster order's tie of a and c gives half a place each
    assert capture[ao.CLUSTER_ORDER] == 0.5 and capture[ao.RECENCY_ORDER] == 0.0
    assert ranking.attrs["accounts"] == 4 and ranking.attrs["active"] == 2
    assert ranking.attrs["capture_ceiling"] == 0.5  # 1 place for 2 active accounts
    assert "at most 50%" in page.ranking_note(ranking)


def test_ranking_quality_needs_the_summary_at_the_same_cutoff():
    placed, holdout, summary = ranking_inputs()
    with pytest.raises(ValueError, match="1 accounts at the cutoff have no activity summary"):
        ao.ranking_quality(placed, holdout, summary.iloc[:3], bgnbd(), 90, ["recency", "monetary"])


def ranking(aucs: list[float], unscored: int = 0) -> pd.DataFrame:
    names = [ao.CLUSTER_ORDER, ao.RECENCY_ORDER, ao.FEATURE_SCORE, MODEL, ao.NAIVE]
    out = pd.DataFrame({"ranking": names, "auc": aucs, "top_decile_capture": np.nan})
    out.attrs = {"unscored": {MODEL: unscored}}
    return out


# --------------------------------------------------------------------------- migration


def four_clusters() -> pd.DataFrame:
    """One account per cluster: the medians are the values."""
    return pd.DataFrame(
        {
            "customer_id": ["p", "q", "r", "s"],
            "application": ["p", "q", "r", "s"],
            "recency": [1, 20, 200, 60],
            "monetary": [100, 50, 10, 0],
            "cluster": [1, 2, 3, 4],
            "cluster_name": named([1, 2, 3, 4]),
        }
    )


def test_cluster_tiers_are_measured_from_the_medians():
    # k = 4: tiers of 2; top spend: 100, 50; least recent: 200, 60 days
    assert ao.cluster_tiers(four_clusters(), ["recency", "monetary"]) == ([TOP, HIGH], [DORMANT, LOW])
    assert ao.cluster_tiers(four_clusters(), ["monetary"]) == ([TOP, HIGH], [])


def test_fallen_accounts_from_the_highest_spending_to_the_least_recent_clusters():
    placed = pd.DataFrame(
        {
            "customer_id": ["x", "y", "z", "w"],
            "application": ["x", "y", "z", "w"],
            "full_name": ["X", "Y", "Z", "W"],
            "cluster_name": named([1, 1, 2, 3]),
            "recency": [5, 3, 10, 100],
            "monetary": [500, 900, 300, 10],
        }
    )
    clustered = pd.DataFrame(
        {
            "customer_id": ["x", "y", "z", "w"],
            "cluster_name": named([3, 1, 4, 3]),
            "recency": [95, 2, 70, 190],
            "monetary": [600, 1500, 350, 10],
        }
    )
    holdout = pd.DataFrame(
        {"customer_id": ["x", "y", "z", "w"], "campaigns": [0, 5, 1, 0], "revenue": [100.0, 600.0, 50.0, 0.0]}
    )
    fallen = ao.fallen_accounts(placed, clustered, holdout, [TOP, HIGH], [DORMANT, LOW])
    assert list(fallen.columns) == ao.FALLEN_COLUMNS
    assert fallen["application"].tolist() == ["x", "z"]  # highest revenue now first; y stayed, w was dormant
    assert fallen["cluster_at_cutoff"].tolist() == [TOP, HIGH]
    assert fallen["cluster_now"].tolist() == [DORMANT, LOW]
    assert fallen["recency_at_cutoff"].tolist() == [5, 10] and fallen["recency_now"].tolist() == [95, 70]
    assert fallen["campaigns_since_cutoff"].tolist() == [0, 1]
    assert fallen["monetary_at_cutoff"].tolist() == [500, 300] and fallen["monetary_now"].tolist() == [
        600,
        350,
    ]


# --------------------------------------------------------------------------- predictions


def summary_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "application": ["a", "b", "c", "d", "e"],
            "frequency": [2, 0, 3, 4, 0],
            "recency": [20, 0, 25, 28, 0],
            "T": [30, 30, 30, 30, 30],
            "monetary_value": [20.0, 0.0, 10.0, 0.0, 0.0],
            "active_days": [3, 1, 4, 5, 1],
            "revenue": [70, 40, 50, 30, 0],
        }
    )


def test_paying_accounts_have_a_positive_spend_to_model():
    # d: paid only on its first active day (nothing on its 4 repeat days); e: never paid
    assert ao.paying(summary_table()).tolist() == [True, True, True, False, False]


def test_predictions_value_only_the_paying_accounts(monkeypatch):
    monkeypatch.setattr(backtest, "fit_spend", lambda summary: gamma_gamma())
    summary = summary_table()
    fit = bgnbd(identifiable=False)
    out = ao.account_predictions(summary, fit, 90, 0.01).set_index("customer_id")
    expected = predictive.expected_purchases(fit, summary, 90.0).set_axis(summary["customer_id"])
    assert out["expected_orders"].to_numpy() == pytest.approx(expected.loc[out.index].to_numpy())
    assert out["p_alive"].isna().all()  # dropout not identified: not shown
    # Gamma-Gamma p (gamma + x m) / (p x + q - 1): a 6 (15 + 40) / 15 = 22; b (x = 0) 6 * 15 / 3 = 30
    assert out.loc["a", "expected_spend"] == pytest.approx(22.0)
    assert out.loc["b", "expected_spend"] == pytest.approx(30.0)
    assert out.loc[["a", "b", "c"], "expected_value"].gt(0).all()
    assert out.loc[["d", "e"], ["expected_spend", "expected_value"]].isna().all().all()
    assert out.attrs["not_paying"] == 2 and out.attrs["value_note"] == ""
    assert out.attrs["horizon_days"] == 90 and not out.attrs["p_alive_identifiable"]


def test_a_spend_model_without_a_finite_mean_gives_no_value_and_says_why(monkeypatch):
    monkeypatch.setattr(backtest, "fit_spend", lambda summary: gamma_gamma(q=0.8))
    out = ao.account_predictions(summary_table(), bgnbd(), 90, 0.01)
    assert out["expected_value"].isna().all()
    assert "Gamma-Gamma q = 0.8 ≤ 1" in out.attrs["value_note"]
    assert out["p_alive"].notna().all()  # dropout identified: shown


def prediction_frame() -> pd.DataFrame:
    predictions = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "expected_orders": [1.23456, 2.0, 0.5],
            "p_alive": [np.nan] * 3,
            "expected_spend": [20.0, np.nan, 10.0],
            "expected_value": [10.004, np.nan, 99.5],
        }
    )
    predictions.attrs = {"horizon_days": 90, "p_alive_identifiable": False}
    return predictions


# --------------------------------------------------------------------------- the page


def test_verdict_says_when_the_model_is_no_better_than_a_simple_ranking():
    text = page.verdict(ranking([0.844, 0.931, 0.881, 0.897, 0.835]))
    assert "**no better than recency alone** (AUC 0.897 vs 0.931" in text
    assert "the cluster order 0.844" in text and "the naive rate 0.835" in text
    assert "no better than recency alone" in page.verdict(ranking([0.844, 0.931, 0.881, 0.935, 0.835]))
    better = page.verdict(ranking([0.8, 0.85, 0.82, 0.9, 0.7]))
    assert "the model ranks them better than every simple ranking (AUC 0.900;" in better


def test_verdict_when_no_ranking_can_be_judged():
    assert "AUC is undefined" in page.verdict(ranking([np.nan] * 5))
    text = page.verdict(ranking([0.8, 0.85, 0.82, np.nan, 0.7], unscored=3))
    assert "no prediction for 3 accounts" in text


def test_model_notes_say_what_the_data_do_not_identify(monkeypatch):
    monkeypatch.setattr(backtest, "fit_spend", lambda summary: gamma_gamma())
    predictions = ao.account_predictions(summary_table(), bgnbd(identifiable=False), 90, 0.01)
    result = ao.AccountOutlook(
        predictions=predictions, clustered=four_clusters(), valuable=[], least_recent=[]
    )
    notes = "\n".join(page.model_notes(result))
    assert "**BG/NBD:** a stopped at the lower bound of the search." in notes
    assert "do not identify the dropout parameters a and b" in notes
    assert "**Gamma-Gamma (spend per active day):** every parameter is identified by the data." in notes
    assert "2 accounts have no charged revenue to model" in notes


def test_prediction_export_one_row_per_account_highest_value_first():
    clustered = pd.DataFrame(
        {"application": ["a", "b", "c"], "full_name": ["A", "B", "C"], "cluster_name": named([1, 3, 2])}
    )
    fallen = pd.DataFrame({"application": ["c"], "cluster_at_cutoff": [TOP]})
    export = page.prediction_export(prediction_frame(), clustered, fallen)
    assert list(export.columns) == [
        "application",
        "full_name",
        "cluster_name",
        "expected_active_days_90d",
        "expected_revenue_per_active_day",
        "expected_value_90d",
        "fell_from_cluster",
    ]  # no probability_active: not identifiable
    assert export["application"].tolist() == ["c", "a", "b"]  # b has no value: last
    assert export["expected_active_days_90d"].tolist()[1] == 1.235
    assert export["fell_from_cluster"].fillna("").tolist() == [TOP, "", ""]
    values = page.dashboard_values(prediction_frame())
    assert list(values.columns) == ["application", "expected_value"]
    assert values["expected_value"].tolist()[::2] == [10.0, 99.5]  # to the cent


def test_dashboard_values_carry_the_cluster_at_the_cutoff():
    placed = pd.DataFrame({"application": ["a", "c"], "cluster_name": named([2, 1])})
    values = page.dashboard_values(prediction_frame(), placed)
    assert values["cluster_then"].tolist() == [HIGH, backtest.NEW, TOP]  # b: first active after the cutoff


def test_write_lists_with_their_dictionary_and_no_stale_fallen_list(tmp_path):
    clustered = pd.DataFrame(
        {"application": ["a", "b", "c"], "full_name": ["A", "B", "C"], "cluster_name": named([1, 3, 2])}
    )
    fallen = pd.DataFrame({"application": ["c"], "cluster_at_cutoff": [TOP]})
    export = page.prediction_export(prediction_frame(), clustered, fallen)
    (tmp_path / page.FALLEN_FILE).write_text("application\nold\n")  # from an earlier run with a backtest
    paths = page.write_lists(export, None, tmp_path, 90, "bgnbd")
    assert [p.name for p in paths] == [page.PREDICTIONS_FILE, page.DICTIONARY_FILE]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([page.PREDICTIONS_FILE, page.DICTIONARY_FILE])
    dictionary = pd.read_csv(tmp_path / page.DICTIONARY_FILE, keep_default_na=False)
    assert dictionary["column"].tolist() == list(export.columns)
    row = dictionary.set_index("column").loc["expected_active_days_90d"]
    assert "next 90 days, from the BG/NBD model" in row["meaning"] and row["example"] == "0.5"
    with pytest.raises(ValueError, match="no entry for surprise"):
        page.write_lists(export.assign(surprise=1), None, tmp_path, 90, "bgnbd")


def test_backtest_view_shows_counts_as_counts_and_money_as_money():
    table = pd.DataFrame(
        {
            "cluster": [1],
            "cluster_name": [TOP],
            "customers": [1234],
            "ordered": [1000],
            "repeat_share": [1000 / 1234],
            "share_low": [0.79],
            "share_high": [0.83],
            "orders_per_customer": [40.66],
            "revenue_per_customer": [13_565_120.0],
            "lift": [1.348],
        }
    )
    row = page.backtest_view(table, "IDR").iloc[0].to_dict()
    assert row == {
        "Cluster at the cutoff": TOP,
        "Accounts at the cutoff": "1,234",
        "Ran a campaign again": "1,000",
        "Share active again": "81%",
        "95 % interval": "79% to 83%",
        "Campaigns per account": "40.7",
        "Revenue per account": "IDR 13.6M",
        "Lift": "1.35×",
    }


def hand_result() -> ao.AccountOutlook:
    placed = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "application": ["a", "b", "c", "d"],
            "full_name": ["A", "B", "C", "D"],
            "cluster": [1, 1, 2, 3],
            "cluster_name": named([1, 1, 2, 3]),
            "recency": [1, 2, 5, 200],
            "monetary": [100, 90, 50, 10],
        }
    )
    clustered = four_clusters()
    holdout = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "campaigns": [3, 2, 0, 0],
            "revenue": [10.0, 5.0, 0.0, 0.0],
            "active": [True, True, False, False],
        }
    )
    moves = backtest.migration(placed, clustered.assign(customer_id=["a", "b", "c", "d"]), "cluster_name")
    predictions = prediction_frame().assign(expected_value=[10.0, np.nan, 20.0])
    predictions.attrs = {"horizon_days": 90, "model": "bgnbd", "value_note": "", "independence": None}
    return ao.AccountOutlook(
        predictions=predictions,
        clustered=clustered,
        valuable=[TOP, HIGH],
        least_recent=[DORMANT, LOW],
        window=(pd.Timestamp("2024-09-02"), pd.Timestamp("2024-12-01")),
        window_days=(245, 335),
        placed=placed,
        holdout=holdout,
        by_cluster=ao.outcomes_by_cluster(placed, holdout),
        ranking=ranking([0.844, 0.931, 0.881, 0.897, 0.835]),
        moves=moves,
        fallen=pd.DataFrame({"application": ["c"], "cluster_at_cutoff": [HIGH]}),
    )


def test_findings_take_every_figure_from_the_tables():
    text = page.findings(hand_result(), "IDR")
    assert "as of 02 Sep 2024" in text and "next 90 days (to 30 Nov 2024)" in text
    assert "50% of the 4 accounts ran a finished campaign again" in text
    assert "Top Performers 100% (lift 2.00×), High-Value 0% (lift 0.00×)" in text
    assert "The window then covers 245 days against 335 days now" in text
    assert "**no better than recency alone**" in text
    # highest-spending clusters: medians 100 and 50; least recent: 200 and 60 days
    assert "of the 3 accounts in the highest-spending clusters at the cutoff" in text
    assert "(Top Performers, median revenue IDR 100; High-Value, IDR 50)" in text
    assert "**1** are now in the least recent clusters" in text
    assert "(Dormant (low-spend), median recency 200 days; Low-Value (lapsed), 60 days)" in text
    assert "expects about 4 active days (days with a finished campaign) from the 3 accounts" in text
    assert "worth IDR 30 (discounted) from the 2 accounts whose spend is modelled." in text


def test_findings_without_a_backtest_say_why():
    result = hand_result()
    result.window, result.note = None, "this run uses the source document's extraction"
    text = page.findings(result, "IDR")
    assert text.startswith("- **No backtest for this run:** this run uses the source document's extraction.")
    assert "Backtest:" not in text


# --------------------------------------------------------------------------- the SQL


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Path:
    tables = generate(GeneratorSettings(n_accounts=80, seed=7))
    return write_duckdb(tables, tmp_path_factory.mktemp("outlook") / "platform.duckdb")


def test_outlook_extraction_agrees_with_the_run_extraction(platform):
    source = AccountsSource(engine="duckdb", duckdb_path=platform)
    now = accounts.extract_accounts(source).accounts.set_index("application")
    out = accounts.extract_outlook(source, 90)
    summary = out.summary.set_index("application")
    # The activity summary has the run's accounts; its last active day is the run's recency.
    assert sorted(summary.index) == sorted(now.index)
    assert (summary["T"] - summary["recency"]).equals(now.loc[summary.index, "recency"])
    assert summary["revenue"].equals(now.loc[summary.index, "monetary"])
    assert (summary["active_days"] <= now.loc[summary.index, "frequency_broadcast"]).all()
    assert (summary["frequency"] + 1).equals(summary["active_days"])
    # The table at the cutoff is the run's own extraction moved back 90 days.
    assert out.cutoff == dt.date(2024, 9, 2)
    then = accounts.extract_accounts(accounts.cutoff_source(source, 90)).accounts
    pd.testing.assert_frame_equal(out.accounts_then, then)
    summary_then = out.summary_then.set_index("application")
    assert (summary_then["T"] - summary_then["recency"]).equals(then.set_index("application")["recency"])
    # window_end = as_of: the window now is [start, cutoff) + [cutoff, end), so counts add up.
    held = ao.holdout_outcomes(now.reset_index(), out.holdout_campaigns, out.holdout_charged)
    held = held.set_index("customer_id")
    counts = ["frequency_broadcast", "frequency_charged", "monetary"]
    before = then.set_index("application")[counts].reindex(now.index, fill_value=0)
    assert (before["frequency_broadcast"] + held["campaigns"]).equals(now["frequency_broadcast"])
    old = then["application"]  # accounts first seen after the cutoff may have paid before it
    assert (before["frequency_charged"] + held["charged_messages"])[old].equals(now["frequency_charged"][old])
    assert (before["monetary"] + held["revenue"]).astype("int64")[old].equals(now["monetary"][old])
    assert 0 < held["active"].sum() < len(held)
