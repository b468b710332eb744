"""Helpers of the account report's insights, on small hand-built frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rfm_helpers.analysis import insights
from rfm_helpers.analysis.clustering import base_name
from rfm_helpers.data import accounts, reference
from rfm_helpers.data.reference import ReferenceError
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.report import narrative

FEATURES = ["recency", "frequency_broadcast", "monetary"]


@pytest.fixture
def playbook() -> pd.DataFrame:
    return reference.load_group_playbook(
        PROJECT_ROOT / "data" / "reference" / "cluster_playbook.csv",
        ["Top Performers", "Dormant"],
        key="cluster",
    )


@pytest.fixture
def profile() -> pd.DataFrame:
    # Two clusters of 1 and 4 accounts; medians and shares worked out from `table` below.
    return pd.DataFrame(
        {
            "cluster": [1, 2],
            "cluster_name": ["Top Performers", "Dormant (low-spend)"],
            "customers": [1, 4],
            "customer_share": [0.2, 0.8],
            "recency_median": [2.0, 150.0],
            "frequency_broadcast_median": [40.0, 2.5],
            "monetary_median": [9000.0, 15.0],
            "revenue_share": [9000 / 9060, 60 / 9060],
        }
    )


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "application": ["a", "b", "c", "d", "e"],
            "full_name": ["A", "B", "C", "D", "E"],
            "recency": [2, 100, 140, 160, 300],
            "frequency_broadcast": [40, 1, 2, 3, 4],
            "frequency_charged": [500, 0, 5, 5, 5],
            "monetary": [9000, 0, 20, 10, 30],
            "last_campaign": pd.to_datetime(["2024-11-29"] * 5),
        }
    )


def test_base_name_drops_descriptor_and_rank() -> None:
    assert base_name("Dormant (low-spend)") == "Dormant"
    assert base_name("High-Value (recent) #2") == "High-Value"
    assert base_name("Low-Value #1") == "Low-Value"
    assert base_name("Top Performers") == "Top Performers"


def test_cluster_playbook_must_cover_every_cluster_word(tmp_path: Path) -> None:
    path = tmp_path / "playbook.csv"
    path.write_text("cluster,priority,goal,recommendation\nTop Performers,1,Retain,keep them\n")
    with pytest.raises(ReferenceError, match=r"add a row for the cluster\(s\) Moderately Engaged Users"):
        reference.load_group_playbook(path, ["Top Performers", "Moderately Engaged Users"], key="cluster")


def test_recommendations_read_medians_against_all_accounts(
    profile: pd.DataFrame, table: pd.DataFrame, playbook: pd.DataFrame
) -> None:
    out = insights.cluster_recommendations(profile, table, playbook, FEATURES, currency="IDR")
    assert out["goal"].tolist() == ["Retain", "Win back"]
    top = out.loc[0, "what the numbers say"]
    # recency 2 is below the 20 % quantile of [2, 100, 140, 160, 300] (80.4): "very recently".
    assert "1 accounts (20%) bring 99% of revenue" in top
    assert "last campaign 2 days ago (very recently)" in top and "40 campaigns (very often)" in top
    dormant = out.loc[1, "what the numbers say"]
    # Quantiles of recency: 80.4, 124, 148, 188; 150 falls between the 60 % and 80 % ones.
    assert "last campaign 150 days ago (long ago)" in dormant
    assert out.loc[1, "what to do"].startswith("Reactivation campaigns")


def test_account_export_orders_by_cluster_then_revenue(table: pd.DataFrame, playbook: pd.DataFrame) -> None:
    clusters = pd.DataFrame(
        {
            "customer_id": ["e", "d", "c", "b", "a"],
            "cluster": [2, 2, 2, 2, 1],
            "cluster_name": ["Dormant (low-spend)"] * 4 + ["Top Performers"],
        }
    )
    channels = pd.Series(["wa", "sms", "email", "sms+email", "wa"])
    out = insights.account_export(table, clusters, channels, playbook)
    assert out["application"].tolist() == ["a", "e", "c", "d", "b"]
    assert out["goal"].tolist() == ["Retain"] + ["Win back"] * 4
    assert out.set_index("application").loc["b", "channels"] == "sms"
    assert out.columns.tolist() == insights.ACCOUNT_EXPORT_COLUMNS


def test_headline_follows_playbook_priority(profile: pd.DataFrame, playbook: pd.DataFrame) -> None:
    text = narrative.cluster_headline(profile, playbook, currency="IDR")
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert lines[0].startswith("- **Retain: Top Performers** — 1 accounts (20%) bring 99% of revenue")
    assert lines[1].startswith("- **Win back: Dormant (low-spend)** — 4 accounts")


def test_method_comparison_sentence_counts_what_the_document_loses() -> None:
    corrected = pd.DataFrame(
        {
            "application": ["w", "s", "e"],
            "monetary": [100, 600, 23],
            **{f"broadcasts_{ch}": [0, 0, 0] for ch in accounts.CHANNELS},
            **{f"charged_{ch}": [0, 0, 0] for ch in accounts.CHARGED_CHANNELS},
        }
    )
    corrected.loc[0, "charged_wa"] = 1
    corrected.loc[1, "charged_sms"] = 1
    corrected.loc[2, "charged_email"] = 1
    losses = accounts.document_losses(corrected, corrected.iloc[[0]])
    text = narrative.describe_method_comparison(losses, currency="IDR")
    assert "would drop **2 of 3 accounts (67%)**" in text
    assert "sms (1 of 1)" in text and "email (1 of 1)" in text


def test_readable_mix_names_channels() -> None:
    mix = pd.DataFrame({"share_wa": [0.5], "share_call": [0.5], "accounts": [3]}, index=["Top"])
    assert accounts.readable_mix(mix).columns.tolist() == ["WhatsApp", "Calls"]


def test_account_export_never_wins_back_an_account_active_in_the_window(
    table: pd.DataFrame, playbook: pd.DataFrame
) -> None:
    clusters = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "cluster": [1, 2, 2, 2, 2],
            "cluster_name": ["Top Performers"] + ["Dormant (low-spend)"] * 4,
        }
    )
    active = table.assign(recency=[2, 100, 12, 160, 30])
    out = insights.account_export(active, clusters, pd.Series(["wa"] * 5), playbook, recent_days=30)
    rows = out.set_index("application")
    assert rows["recommended_action"].to_dict() == {
        "a": "Retain",
        "b": "Win back",
        "c": "Activate",
        "d": "Win back",
        "e": "Activate",
    }
    assert rows.loc["c", "action_reason"] == (
        "ran a campaign 12 days ago (within 30 days): too recent for a win-back; activate instead "
        "(cluster Dormant (low-spend))"
    )
    assert rows.loc["b", "goal"] == "Win back"  # the cluster's goal is kept beside the action
