"""Stakeholder-facing tables built from measured numbers: per-segment observations,
per-group recommendations and the customer list for campaign tools."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_helpers import atomic
from rfm_helpers.analysis.clustering import DORMANT, TOP, base_name
from rfm_helpers.paths import ALL_CUSTOMERS_FILE
from rfm_helpers.units import money

LEVELS = {
    "recency": ("very recently", "recently", "a while ago", "long ago", "very long ago"),
    "frequency": ("very rarely", "rarely", "sometimes", "often", "very often"),
    "monetary": ("very low", "low", "medium", "high", "very high"),
}
"""Words for the five quintiles of each metric across all customers (lowest value first)."""


def _word(metric: str, position: int, n: int) -> str:
    """Word of quantile ``position`` (0 = lowest values) out of ``n``."""
    words = LEVELS[metric]
    return words[round(position * (len(words) - 1) / (n - 1))] if n > 1 else words[len(words) // 2]


def level(value: float, population: pd.Series, metric: str, n_bins: int = 5) -> str:
    """Word for the quintile ``value`` falls in among ``population``, placed as the rank scores
    place a customer (:func:`rfm_helpers.analysis.scoring.quantile_scores`): quintile =
    floor(5 × share of ``population`` strictly below ``value``). So the lowest value always
    gets the lowest word, and equal values never get different words."""
    values = population.to_numpy(dtype="float64")
    below = int((values < value).sum())
    return _word(metric, min(below * n_bins // len(values), n_bins - 1), n_bins)


def level_from_bins(value: float, bins: pd.DataFrame, metric: str) -> str:
    """Word for the score bin ``value`` falls in: the bins actually used to score the
    customers (``score_bins.csv``: ``metric``, ``score``, ``min``, ``max``).

    The bin is the first one, in value order, whose ``max`` is at least ``value`` (the last
    bin above every max): a value between two bins goes to the upper one, as rank scoring
    would place it. The word follows the score: F = 1 is "very rarely" and F = 4 "often"
    whatever the values; recency scores are reversed (R = 5, the most recent, is "very
    recently"). Empty bins are skipped.
    """
    table = bins[(bins["metric"] == metric) & bins["max"].notna()].sort_values("max")
    if table.empty:
        raise ValueError(f"score bins: no bins for {metric}")
    n = int(bins.loc[bins["metric"] == metric, "score"].max())
    position = int(np.searchsorted(table["max"].to_numpy(dtype="float64"), value, side="left"))
    score = int(table["score"].iloc[min(position, len(table) - 1)])
    return _word(metric, n - score if metric == "recency" else score - 1, n)


def segment_observations(
    summary: pd.DataFrame,
    customers: pd.DataFrame,
    currency: str = "£",
    frequency_unit: str = "orders",
    category: str = "segment",
    bins: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per non-empty segment: measured shares and medians, and a sentence that
    reads them against all customers (the document's observations table, but computed).

    ``bins``: the score bins of the run (``score_bins.csv``); the words then follow those
    bins (:func:`level_from_bins`), else the quintiles of ``customers`` (:func:`level`)."""

    def word(value: float, metric: str) -> str:
        if bins is not None:
            return level_from_bins(value, bins, metric)
        return level(value, customers[metric], metric)

    rows = []
    for record in summary[summary["customers"] > 0].itertuples(index=False):
        rec = record._asdict()
        r, f, m = rec["recency_median"], rec["frequency_median"], rec["monetary_median"]
        ratio = rec["revenue_share"] / rec["customer_share"]
        unit = frequency_unit.removesuffix("s") if f == 1 else frequency_unit
        text = (
            f"{rec['customer_share']:.0%} of customers bring {rec['revenue_share']:.0%} of revenue "
            f"({ratio:.1f}× their weight). The typical customer last ordered {r:,.0f} days ago "
            f"({word(r, 'recency')}), placed {f:,.0f} {unit} "
            f"({word(f, 'frequency')}) and spent {money(m, currency)} "
            f"({word(m, 'monetary')})."
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
        if c
        else "no customers in this run"  # a group the segment table leaves empty has no medians
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


EXPORT_DICTIONARY = {
    "customer_id": (
        "Customer ID, exactly as in the source data",
        "text (import as text: leading zeros count)",
    ),
    "country": ("The customer's country: the one most of their invoice lines carry", "text"),
    "segment": (
        "RFM segment of rfm_code (data/reference/rfm_segments.csv, or the workbook's Segmentation sheet); "
        "empty when not scored",
        "text",
    ),
    "group": (
        "Segment group of the segment (data/reference/segment_groups.csv); each group also has its own file, "
        "group_<name>.csv, with the same columns",
        "text",
    ),
    "goal": ("The group's goal (data/reference/group_playbook.csv); empty when not scored", "text"),
    "cluster": (
        "KMeans cluster number (report 4), from the highest-value cluster (1) down; empty when not scored "
        "(only scored customers are clustered)",
        "whole number",
    ),
    "cluster_name": (
        "KMeans cluster name, from the measured ranks of the cluster's medians (report 4); empty when not "
        "scored",
        "text",
    ),
    "recency": ("Days from the day of the customer's last order to snapshot_date", "whole number of days"),
    "frequency": ("The customer's number of {frequency_unit} in the data (report 3, Method)", "whole number"),
    "monetary": (
        "Revenue of the customer's clean invoice lines, in the currency of the currency column",
        "number rounded to the cent, dot as decimal separator, no thousands separator",
    ),
    "currency": ("Currency of monetary (report.currency); the same on every row", "text"),
    "r_score": (
        "Recency score, 1 to {n_bins}: {n_bins} = ordered most recently; empty when not scored",
        "whole number",
    ),
    "f_score": (
        "Frequency score, 1 to {n_bins}: {n_bins} = most {frequency_unit}; empty when not scored",
        "whole number",
    ),
    "m_score": (
        "Monetary score, 1 to {n_bins}: {n_bins} = highest revenue; empty when not scored",
        "whole number",
    ),
    "rfm_code": ("R, F and M scores written together: the key of the segment table", "text of 3 digits"),
    "first_purchase": ("Date and time of the customer's first order in the data", "YYYY-MM-DD HH:MM:SS"),
    "last_purchase": ("Date and time of the customer's last order in the data", "YYYY-MM-DD HH:MM:SS"),
    "snapshot_date": (
        "The day recency is counted from (report 3, Method); the same on every row",
        "YYYY-MM-DD",
    ),
    "note": ("Why the customer has no segment (the outlier policy left them out); empty when scored", "text"),
    "recommended_action": (
        "One action per customer: the group's goal, except that nobody who ordered within the last "
        "{recent_days} is told to win back or reactivate ({instead} instead); {review} when not scored",
        "text",
    ),
    "action_reason": (
        "Why that action: segment and rfm_code, days since the last order, and the cluster where it "
        "disagrees (the segment decides)",
        "text",
    ),
}
"""The customer export's columns in file order, each with what it means and its unit or format
(``{frequency_unit}``, ``{n_bins}``, ``{recent_days}``, ``{instead}`` and ``{review}`` are filled in
per run). :func:`write_exports` writes it beside the exports as :data:`DICTIONARY_FILE`, with an
example read from the written file; an exported column missing here stops the export."""

EXPORT_COLUMNS = list(EXPORT_DICTIONARY)

WIN_BACK = re.compile(r"win[\s-]*back|reactivat", re.IGNORECASE)
"""Goals that address customers who stopped buying ("Win back", "Reactivate cheaply or let
go"): never given to anyone who ordered within ``report.recent_days``."""
RECENT_INSTEAD = "Nurture"
"""The action of a customer whose goal would be a win-back but who ordered within the window."""
REVIEW = "Review individually"
"""The action of a customer the outlier policy kept out of the segments (no segment to follow)."""


def is_win_back(action: object) -> bool:
    """Whether a goal or action is a win-back / reactivation (:data:`WIN_BACK`)."""
    return isinstance(action, str) and bool(WIN_BACK.search(action))


def _days(value: float) -> str:
    text = f"{value:,.0f}"
    return f"{text} day" if text == "1" else f"{text} days"


def recommend_actions(
    table: pd.DataFrame,
    recent_days: float,
    driver: str = "segment",
    instead: str = RECENT_INSTEAD,
    activity: str = "ordered",
) -> pd.DataFrame:
    """One recommended action per row, with its reason: columns ``recommended_action``,
    ``action_reason``, ``cluster_recency`` and ``conflict``, aligned with ``table``.

    ``table`` has ``goal``, ``recency`` and the ``driver`` column (``segment`` for customers,
    whose goal is their segment group's; ``cluster_name`` for accounts), and may have
    ``cluster_name`` and ``rfm_code``. The rule, in order:

    1. ``goal`` is the action; a row without a goal (a customer the outlier policy left out
       of the segments) gets :data:`REVIEW`.
    2. Whoever was active within ``recent_days`` (``recency`` ≤ ``recent_days``) is never told
       to win back or reactivate (:func:`is_win_back`): they get ``instead``, and the reason
       says why ("ordered 12 days ago (within 30 days): too recent for a win-back; nurture
       instead").
    3. The cluster is context. It disagrees with the action when a win-back goes to a member
       of Top Performers (a recent cluster: ``cluster_recency`` = ``recent``), or anything but
       a win-back to a member of Dormant (the least recent cluster: ``lapsed``); both claims
       are checked against the cluster medians (:func:`rfm_helpers.analysis.clustering.name_claims`).
       Then ``conflict`` is true and the reason names the cluster; the action stays (the
       ``driver`` decides).
    """
    recency = table["recency"].astype("float64")
    clusters = table["cluster_name"] if "cluster_name" in table else pd.Series(np.nan, index=table.index)
    stance = {TOP: "recent", DORMANT: "lapsed"}
    marks = {n: stance.get(base_name(str(n))) for n in clusters.dropna().unique()}
    cluster_recency = clusters.astype("object").map(marks)
    codes = table["rfm_code"] if "rfm_code" in table else pd.Series(np.nan, index=table.index)
    actions, reasons, conflicts = [], [], []
    rows = zip(table["goal"], recency, table[driver], codes, clusters, cluster_recency, strict=True)
    for goal, days, source, code, cluster, mark in rows:
        ago = f"{activity} {_days(days)} ago"
        origin = f"cluster {source}" if driver == "cluster_name" else str(source)
        origin += f", code {code}" if isinstance(code, str) else ""
        if not isinstance(goal, str):
            action, reason = REVIEW, f"not scored (outlier policy); {ago}: look at this one by hand"
        elif days <= recent_days and is_win_back(goal):
            action = instead
            reason = (
                f"{ago} (within {_days(recent_days)}): too recent for a win-back; "
                f"{instead.lower()} instead ({origin})"
            )
        else:
            action, reason = goal, f"{origin}: {goal.lower()}; {ago}"
        conflict = (mark == "recent" and is_win_back(action)) or (
            mark == "lapsed" and not is_win_back(action)
        )
        conflict = conflict and driver != "cluster_name" and isinstance(goal, str)
        if conflict:
            which = "a recent" if mark == "recent" else "the least recent"
            reason += f"; its cluster {cluster} is {which} one: the {driver} decides"
        actions.append(action)
        reasons.append(reason)
        conflicts.append(conflict)
    return pd.DataFrame(
        {
            "recommended_action": actions,
            "action_reason": reasons,
            "cluster_recency": cluster_recency.to_numpy(),
            "conflict": conflicts,
        },
        index=table.index,
    )


def snapshot_of(customers: pd.DataFrame) -> pd.Timestamp:
    """The day recency was counted from, read back from the scoring's customer table: each
    customer's last purchase day plus their recency (:func:`rfm_helpers.analysis.metrics.customer_metrics`
    counts recency in calendar days from one day). Customers that disagree are an error: their
    recency was not counted from one day."""
    days = (
        customers["last_purchase"].dt.normalize() + pd.to_timedelta(customers["recency"], unit="D")
    ).dropna()
    found = days.unique()
    if len(found) != 1:
        shown = ", ".join(f"{pd.Timestamp(d):%Y-%m-%d}" for d in sorted(found)[:3]) or "none"
        raise ValueError(
            f"customer table: last purchase + recency gives {len(found)} snapshot days ({shown}), not one"
        )
    return pd.Timestamp(found[0])


def customer_export(
    all_customers: pd.DataFrame,
    segmented: pd.DataFrame,
    clusters: pd.DataFrame,
    playbook: pd.DataFrame,
    excluded_note: str,
    recent_days: float = 30,
    currency: str | None = None,
    snapshot: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The campaign list: one row per customer of the clean data.

    ``all_customers`` holds every customer's raw metrics; ``segmented`` the scored ones
    (customers removed by an outlier policy are missing there: they stay in the list with
    ``excluded_note`` instead of a segment, because they are usually the best customers);
    ``clusters`` maps customer_id → cluster, cluster_name. ``recommended_action`` and
    ``action_reason``: one action per customer (:func:`recommend_actions`: the segment's
    goal, never a win-back within ``recent_days``; the cluster is context).

    ``snapshot`` (the day the scoring counted recency from: :func:`snapshot_of` the customer
    table) and ``currency`` (of ``monetary``), when given, are written on every row as
    ``snapshot_date`` and ``currency``: columns rather than header lines, so the file stays
    one header row and one row per customer, which a campaign tool or a spreadsheet imports
    without settings, and a row copied or filtered on its own still says what its numbers mean.
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
    actions = recommend_actions(table, recent_days)
    table["recommended_action"] = actions["recommended_action"]
    table["action_reason"] = actions["action_reason"]
    if snapshot is not None:
        table["snapshot_date"] = pd.Timestamp(snapshot).normalize()
    if currency is not None:
        table["currency"] = currency
    # customer_id breaks ties, so customers with equal money keep one order on every engine.
    table = table.sort_values(
        ["group", "segment", "monetary", "customer_id"],
        ascending=[True, True, False, True],
        na_position="last",
        kind="stable",
    )
    for column in ("r_score", "f_score", "m_score", "cluster"):
        table[column] = table[column].astype("Int64")
    return table[[c for c in EXPORT_COLUMNS if c in table.columns]].reset_index(drop=True)


def action_overview(export: pd.DataFrame, recent_days: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How the recommended actions of :func:`customer_export` came about, counted.

    Returns ``(actions, conflicts)``. ``actions``: one row per recommended action with
    ``customers``, ``share``, ``instead of a win-back`` (customers who ordered within
    ``recent_days`` and whose segment's goal is a win-back) and ``cluster disagrees`` (see
    :func:`recommend_actions`). ``conflicts``: customers per segment, action and cluster
    where the cluster disagrees, largest first (rows with none are left out).
    """
    detail = recommend_actions(export, recent_days)
    overridden = export["goal"].map(is_win_back).astype(bool) & export["recency"].le(recent_days)
    frame = detail.assign(
        overridden=overridden.to_numpy(),
        segment=export["segment"].astype("object").to_numpy(),
        cluster_name=export["cluster_name"].astype("object").to_numpy(),
    )
    actions = (
        frame.groupby("recommended_action", sort=False)
        .agg(customers=("conflict", "size"), overridden=("overridden", "sum"), conflict=("conflict", "sum"))
        .sort_values("customers", ascending=False, kind="stable")
        .rename(columns={"overridden": "instead of a win-back", "conflict": "cluster disagrees"})
        .reset_index()
    )
    actions.insert(2, "share", actions["customers"] / len(export))
    conflicts = (
        frame[frame["conflict"]]
        .groupby(["segment", "recommended_action", "cluster_name", "cluster_recency"])
        .size()
        .rename("customers")
        .reset_index()
        .sort_values("customers", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return actions, conflicts


def describe_actions(actions: pd.DataFrame, conflicts: pd.DataFrame, recent_days: float) -> str:
    """The rule behind ``recommended_action`` and what it changed, from :func:`action_overview`."""
    total = int(actions["customers"].sum())
    moved = int(actions["instead of a win-back"].sum())
    disagree = int(actions["cluster disagrees"].sum())
    text = (
        "The segment decides: each customer gets the goal of their "
        f"segment's group; the KMeans cluster is context. Nobody who ordered within the last "
        f"{_days(recent_days)} (`report.recent_days`) is told to win back or reactivate: "
        f"**{moved:,} of {total:,} customers** would have been, and are nurtured instead. "
    )
    if disagree:
        worst = conflicts.iloc[0]
        text += (
            f"For **{disagree:,} customers** the cluster disagrees: a win-back for a member of Top "
            "Performers (a recent cluster), or no win-back for a member of Dormant (the least recent "
            f"cluster); most are {worst['customers']:,} customers in {worst['segment']} told to "
            f"{worst['recommended_action'].lower()} in the {worst['cluster_recency']} cluster "
            f"{worst['cluster_name']}. Their reason names the cluster, and the segment's action stands."
        )
    else:
        text += "No customer's cluster disagrees with the action."
    return text


def group_file_name(group: str) -> str:
    """``Loyal & High-Value`` → ``group_loyal_and_high_value.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "_", group.lower().replace("&", "and")).strip("_")
    return f"group_{slug}.csv"


DICTIONARY_FILE = "data_dictionary.csv"
DICTIONARY_COLUMNS = ["column", "meaning", "format", "example"]


def first_cells(path: Path) -> tuple[list[str], dict[str, str]]:
    """The header of a written CSV and, per column, its first non-empty cell, as written (the
    file is read only until every column has one)."""
    examples: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for row in reader:
            for name, cell in zip(header, row, strict=False):
                if cell and name not in examples:
                    examples[name] = cell
            if len(examples) == len(header):
                break
    return header, examples


def data_dictionary(
    columns: list[str],
    examples: dict[str, str],
    frequency_unit: str = "orders",
    recent_days: float = 30,
    n_bins: int = 5,
) -> pd.DataFrame:
    """One row per exported column, in file order: ``column``, ``meaning`` and ``format`` from
    :data:`EXPORT_DICTIONARY` (filled in for this run), and ``example``: ``examples[column]``
    (the first value in the file; empty when the column has none). A column the dictionary does
    not define is an error: the export never ships a column nobody explained."""
    missing = [c for c in columns if c not in EXPORT_DICTIONARY]
    if missing:
        raise ValueError(
            f"data dictionary: no entry for the exported column(s) {', '.join(missing)}; "
            "add them to rfm_helpers.analysis.insights.EXPORT_DICTIONARY"
        )
    fill = {
        "frequency_unit": frequency_unit,
        "n_bins": n_bins,
        "recent_days": _days(recent_days),
        "instead": RECENT_INSTEAD.lower(),
        "review": REVIEW,
    }
    rows = [
        (column, meaning.format(**fill), unit.format(**fill), examples.get(column, ""))
        for column in columns
        for meaning, unit in [EXPORT_DICTIONARY[column]]
    ]
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS)


def write_exports(
    export: pd.DataFrame,
    folder: Path,
    frequency_unit: str = "orders",
    recent_days: float = 30,
    n_bins: int = 5,
) -> list[Path]:
    """Write the campaign lists: every customer in one file, one file per segment group (same
    columns), and last :data:`DICTIONARY_FILE`, what each column means (:func:`data_dictionary`,
    with the first value of each column of the customer file as its example).

    Older CSVs in ``folder`` are removed first, so a renamed group never leaves a stale list
    behind to be published. Every file goes through :func:`rfm_helpers.atomic.write_export_csv`:
    text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return
    first) gets a leading ``'``, money is rounded to the cent, numbers and ids are kept as they
    are.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    paths = [folder / ALL_CUSTOMERS_FILE]
    atomic.write_export_csv(export, paths[0])
    for group, rows in export.dropna(subset=["group"]).groupby("group", observed=True, sort=True):
        paths.append(folder / group_file_name(str(group)))
        atomic.write_export_csv(rows, paths[-1])
    header, examples = first_cells(paths[0])
    dictionary = data_dictionary(header, examples, frequency_unit, recent_days, n_bins)
    paths.append(folder / DICTIONARY_FILE)
    atomic.write_export_csv(dictionary, paths[-1])
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
    "recommended_action",
    "action_reason",
]

ACCOUNT_RECENT_INSTEAD = "Activate"
"""The action of an account in a win-back cluster that ran a campaign within the window."""


def account_export(
    accounts: pd.DataFrame,
    clusters: pd.DataFrame,
    channels: pd.Series,
    playbook: pd.DataFrame,
    recent_days: float = 30,
) -> pd.DataFrame:
    """The cluster table for campaign tools: one row per account (the document's CSV, plus the
    goal and the channels the account uses), best cluster first, highest revenue first.
    ``recommended_action`` is the cluster's goal, except that an account that ran a campaign
    within ``recent_days`` is never told to win back (:func:`recommend_actions`)."""
    table = accounts.merge(clusters, on="customer_id", how="left", validate="one_to_one")
    table["channels"] = channels.to_numpy()
    goals = playbook.set_index("cluster")["goal"]
    table["goal"] = table["cluster_name"].astype(str).map(base_name).map(goals)
    actions = recommend_actions(
        table, recent_days, driver="cluster_name", instead=ACCOUNT_RECENT_INSTEAD, activity="ran a campaign"
    )
    table[["recommended_action", "action_reason"]] = actions[["recommended_action", "action_reason"]]
    table = table.sort_values(["cluster", "monetary"], ascending=[True, False], kind="stable")
    return table[ACCOUNT_EXPORT_COLUMNS].reset_index(drop=True)
