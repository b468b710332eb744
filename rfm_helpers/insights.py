"""Stakeholder-facing tables built from measured numbers: per-segment observations,
per-group recommendations and the customer list for campaign tools."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_helpers import atomic
from rfm_helpers.clustering import base_name
from rfm_helpers.plots import money

LEVELS = {
    "recency": ("very recently", "recently", "a while ago", "long ago", "very long ago"),
    "frequency": ("very rarely", "rarely", "sometimes", "often", "very often"),
    "monetary": ("very low", "low", "medium", "high", "very high"),
}
"""Words for the five quintiles of each metric across all customers (lowest value first)."""


def level(value: float, population: pd.Series, metric: str) -> str:
    """Word for where ``value`` falls among the quintiles of ``population``."""
    edges = population.quantile([0.2, 0.4, 0.6, 0.8]).to_numpy()
    return LEVELS[metric][int(np.searchsorted(edges, value, side="right"))]


def segment_observations(
    summary: pd.DataFrame,
    customers: pd.DataFrame,
    currency: str = "£",
    frequency_unit: str = "orders",
    category: str = "segment",
) -> pd.DataFrame:
    """One row per non-empty segment: measured shares and medians, and a sentence that
    reads them against all customers (the document's observations table, but computed)."""
    rows = []
    for record in summary[summary["customers"] > 0].itertuples(index=False):
        rec = record._asdict()
        r, f, m = rec["recency_median"], rec["frequency_median"], rec["monetary_median"]
        ratio = rec["revenue_share"] / rec["customer_share"]
        unit = frequency_unit.removesuffix("s") if f == 1 else frequency_unit
        text = (
            f"{rec['customer_share']:.0%} of customers bring {rec['revenue_share']:.0%} of revenue "
            f"({ratio:.1f}× their weight). The typical customer last ordered {r:,.0f} days ago "
            f"({level(r, customers['recency'], 'recency')}), placed {f:,.0f} {unit} "
            f"({level(f, customers['frequency'], 'frequency')}) and spent {money(m, currency)} "
            f"({level(m, customers['monetary'], 'monetary')})."
        )
        rows.append(
            {
                category: rec[category],
                "customers": rec["customers"],
                "share of customers": rec["customer_share"],
                "share of revenue": rec["revenue_share"],
                "median recency (days)": r,
                f"median frequency ({frequency_unit})": f,
                f"median monetary ({currency})": m,
                "what the numbers say": text,
            }
        )
    return pd.DataFrame(rows)


def group_recommendations(
    group_summary: pd.DataFrame, playbook: pd.DataFrame, currency: str = "£"
) -> pd.DataFrame:
    """Per segment group: its goal, measured size and value, and the recommended actions."""
    table = group_summary.merge(playbook, on="group", how="left").sort_values("priority")
    table["size and value"] = [
        f"{c:,} customers ({cs:.0%}), {rs:.0%} of revenue, median last order {r:,.0f} days ago, "
        f"median spend {money(m, currency)}"
        for c, cs, rs, r, m in zip(
            table["customers"],
            table["customer_share"],
            table["revenue_share"],
            table["recency_median"],
            table["monetary_median"],
            strict=True,
        )
    ]
    return table[["group", "goal", "size and value", "recommendation"]].reset_index(drop=True)


EXPORT_COLUMNS = [
    "customer_id",
    "country",
    "segment",
    "group",
    "goal",
    "cluster",
    "cluster_name",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "first_purchase",
    "last_purchase",
    "note",
]


def customer_export(
    all_customers: pd.DataFrame,
    segmented: pd.DataFrame,
    clusters: pd.DataFrame,
    playbook: pd.DataFrame,
    excluded_note: str,
) -> pd.DataFrame:
    """The campaign list: one row per customer of the clean data.

    ``all_customers`` holds every customer's raw metrics; ``segmented`` the scored ones
    (customers removed by an outlier policy are missing there: they stay in the list with
    ``excluded_note`` instead of a segment, because they are usually the best customers);
    ``clusters`` maps customer_id → cluster, cluster_name.
    """
    scored_columns = ["customer_id", "segment", "group", "r_score", "f_score", "m_score", "rfm_code"]
    table = all_customers.merge(
        segmented[scored_columns], on="customer_id", how="left", validate="one_to_one"
    )
    table = table.merge(
        clusters[["customer_id", "cluster", "cluster_name"]],
        on="customer_id",
        how="left",
        validate="one_to_one",
    )
    goals = playbook.set_index("group")["goal"]
    table["goal"] = table["group"].astype("string").map(goals)
    table["note"] = pd.Series(pd.NA, index=table.index, dtype="string").where(
        table["segment"].notna(), excluded_note
    )
    table = table.sort_values(
        ["group", "segment", "monetary"], ascending=[True, True, False], na_position="last"
    )
    for column in ("r_score", "f_score", "m_score", "cluster"):
        table[column] = table[column].astype("Int64")
    return table[[c for c in EXPORT_COLUMNS if c in table.columns]].reset_index(drop=True)


ALL_CUSTOMERS_FILE = "customer_segments.csv"


def group_file_name(group: str) -> str:
    """``Loyal & High-Value`` → ``group_loyal_and_high_value.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "_", group.lower().replace("&", "and")).strip("_")
    return f"group_{slug}.csv"


def write_exports(export: pd.DataFrame, folder: Path) -> list[Path]:
    """Write the campaign lists: every customer in one file, and one file per segment group.

    Older CSVs in ``folder`` are removed first, so a renamed group never leaves a stale list
    behind to be published.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    paths = [folder / ALL_CUSTOMERS_FILE]
    atomic.write_csv(export, paths[0])
    for group, rows in export.dropna(subset=["group"]).groupby("group", observed=True, sort=True):
        paths.append(folder / group_file_name(str(group)))
        atomic.write_csv(rows, paths[-1])
    return paths


# --- account runs: clusters ---------------------------------------------------------------

FEATURE_PHRASES = {
    "recency": "last campaign {value:,.0f} days ago",
    "frequency_broadcast": "{value:,.0f} campaigns",
    "frequency_charged": "{value:,.0f} charged messages",
    "frequency": "{value:,.0f} orders",
}
"""How a feature's median reads in a sentence; ``monetary`` is written as money."""


def _level_metric(feature: str) -> str:
    return feature if feature in ("recency", "monetary") else "frequency"


def cluster_recommendations(
    profile: pd.DataFrame,
    accounts: pd.DataFrame,
    playbook: pd.DataFrame,
    features: list[str],
    currency: str = "£",
) -> pd.DataFrame:
    """Per cluster: its goal, what its medians say against all accounts (the document's
    interpretation, computed), and the playbook's actions for its name."""
    actions = playbook.set_index("cluster")
    rows = []
    for rec in profile[profile["customers"] > 0].itertuples(index=False):
        play = actions.loc[base_name(rec.cluster_name)]
        readings = []
        for feature in features:
            median = getattr(rec, f"{feature}_median")
            phrase = (
                money(median, currency)
                if feature == "monetary"
                else FEATURE_PHRASES.get(feature, feature + " {value:,.0f}").format(value=median)
            )
            readings.append(f"{phrase} ({level(median, accounts[feature], _level_metric(feature))})")
        rows.append(
            {
                "cluster": rec.cluster,
                "cluster_name": rec.cluster_name,
                "goal": play["goal"],
                "what the numbers say": (
                    f"{rec.customers:,} accounts ({rec.customer_share:.0%}) bring {rec.revenue_share:.0%} of "
                    f"revenue. Medians: {'; '.join(readings)}."
                ),
                "what to do": play["recommendation"],
            }
        )
    return pd.DataFrame(rows)


ACCOUNT_EXPORT_COLUMNS = [
    "application",
    "full_name",
    "recency",
    "frequency_broadcast",
    "frequency_charged",
    "monetary",
    "cluster",
    "cluster_name",
    "goal",
    "channels",
    "last_campaign",
]


def account_export(
    accounts: pd.DataFrame, clusters: pd.DataFrame, channels: pd.Series, playbook: pd.DataFrame
) -> pd.DataFrame:
    """The cluster table for campaign tools: one row per account (the document's CSV, plus the
    goal and the channels the account uses), best cluster first, highest revenue first."""
    table = accounts.merge(clusters, on="customer_id", how="left", validate="one_to_one")
    table["channels"] = channels.to_numpy()
    goals = playbook.set_index("cluster")["goal"]
    table["goal"] = table["cluster_name"].astype(str).map(base_name).map(goals)
    table = table.sort_values(["cluster", "monetary"], ascending=[True, False], kind="stable")
    return table[ACCOUNT_EXPORT_COLUMNS].reset_index(drop=True)
