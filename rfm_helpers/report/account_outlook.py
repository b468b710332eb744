"""The account runs' outlook page (step ``06_account_outlook``): the backtest per cluster, the
rankings and their verdict, migration and fallen accounts, predictions and the fits' notes, as
text, sentences and captions, and the lists for campaign tools with their data dictionary (the
numbers: :mod:`rfm_helpers.analysis.account_outlook`).

What the customers' outlook page (:mod:`rfm_helpers.report.outlook`) says in the same way is
defined there once and called from here: the formats, the ranking and migration tables, the
signal sentence, the model names, the lists' columns and writing (with :data:`ACCOUNTS`), the
predictions table and the dashboard's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_helpers import units
from rfm_helpers.analysis import clustering, predictive
from rfm_helpers.analysis.account_outlook import (
    CLUSTER_ORDER,
    FEATURE_SCORE,
    NAIVE,
    RECENCY_ORDER,
    AccountOutlook,
)
from rfm_helpers.paths import ALL_ACCOUNTS_FILE
from rfm_helpers.report import outlook
from rfm_helpers.report.outlook import MODEL_NAMES, NO_BETTER_MARGIN

SIMPLE_WORDS = {
    CLUSTER_ORDER: "the cluster order",
    RECENCY_ORDER: "recency alone",
    FEATURE_SCORE: "the feature rank score",
    NAIVE: "the naive rate",
}
"""The simple rankings as a sentence names them."""
STAY_ACTIVE = "which accounts stay active"
"""What the clusters' repeat shares may tell (:func:`rfm_helpers.report.outlook.signal_sentence`)."""


# --------------------------------------------------------------------------- the lists

PREDICTIONS_FILE = "account_predictions.csv"
FALLEN_FILE = "fallen_accounts.csv"
DICTIONARY_FILE = outlook.OUTLOOK_DICTIONARY_FILE
"""The outlook lists' data dictionary (the customer runs' outlook writes a file of that name too)."""
DICTIONARY = {
    "application": ("Account ID (application), exactly as in the platform's tables", "text"),
    "full_name": ("The account's name (its most recent one in the message marts)", "text"),
    "cluster_name": (f"Cluster now (as in {ALL_ACCOUNTS_FILE})", "text"),
    "expected_active_days_{horizon}d": (
        "Expected active days (local days with a finished campaign) in the next {horizon} days, from "
        "the {model} model fitted on the accounts' active days",
        "number, 3 decimals",
    ),
    "probability_active": (
        "Probability that the account is still active ({model}); absent when the data cannot identify it",
        "number from 0 to 1, 3 decimals",
    ),
    "expected_revenue_per_active_day": (
        "Expected charged revenue per active day (Gamma-Gamma: the account's own mean shrunk towards "
        "everyone's); empty for accounts without charged revenue to model",
        "number rounded to the cent",
    ),
    "expected_value_{horizon}d": (
        "Expected charged revenue in the next {horizon} days, discounted by predict.monthly_discount_rate "
        "a month; empty where not modelled",
        "number rounded to the cent",
    ),
    "fell_from_cluster": (
        "The highest-spending cluster the account was in at the backtest cutoff, when it is in one of the "
        "least recent clusters now (listed in fallen_accounts.csv); empty otherwise",
        "text",
    ),
    "cluster_at_cutoff": (
        "Cluster at the backtest cutoff (the account's features then, placed in the nearest of this "
        "run's clusters)",
        "text",
    ),
    "cluster_now": (f"Cluster now (as in {ALL_ACCOUNTS_FILE})", "text"),
    "recency_at_cutoff": (
        "Days from the account's last finished campaign to the backtest cutoff",
        "whole number of days",
    ),
    "recency_now": (
        "Days from the account's last finished campaign to accounts.as_of",
        "whole number of days",
    ),
    "campaigns_since_cutoff": ("Finished campaigns from the cutoff to accounts.as_of", "whole number"),
    "revenue_since_cutoff": ("Charged revenue from the cutoff to accounts.as_of", "whole amount"),
    "monetary_at_cutoff": ("Charged revenue in the window up to the backtest cutoff", "whole amount"),
    "monetary_now": ("Charged revenue in the window up to accounts.as_of", "whole amount"),
}
"""Columns of :data:`PREDICTIONS_FILE` and :data:`FALLEN_FILE` (``{horizon}`` and ``{model}``
filled in per run). A listed file's column missing here stops the step."""
ACCOUNTS = outlook.Entity(
    key="application",
    columns={"application": "Account", "full_name": "Name", "cluster_name": "Cluster"},
    count=("expected_active_days", "Expected active days"),
    spend=("expected_revenue_per_active_day", "Expected revenue per active day"),
    fell_from=("cluster_at_cutoff", "fell_from_cluster"),
    category="cluster_name",
    predictions_file=PREDICTIONS_FILE,
    fallen_file=FALLEN_FILE,
    dictionary=DICTIONARY,
    dictionary_name="rfm_helpers.report.account_outlook.DICTIONARY",
)
"""The accounts of an account run, for the lists and tables the two outlooks share."""


def prediction_export(
    predictions: pd.DataFrame, clustered: pd.DataFrame, fallen: pd.DataFrame
) -> pd.DataFrame:
    """One row per account of the run (``clustered``, :attr:`AccountOutlook.clustered`):
    ``application``, ``full_name``, ``cluster_name``, the predictions over the horizon
    (``expected_active_days_<h>d``, ``probability_active`` only where identifiable,
    ``expected_revenue_per_active_day``, ``expected_value_<h>d``, blank where not modelled) and
    ``fell_from_cluster`` (blank unless the account fell,
    :func:`rfm_helpers.analysis.account_outlook.fallen_accounts`); highest expected value first
    (:func:`rfm_helpers.report.outlook.prediction_export`)."""
    table = clustered.assign(cluster_name=clustered["cluster_name"].astype(str))
    return outlook.prediction_export(predictions, table, fallen, ACCOUNTS)


def dashboard_values(predictions: pd.DataFrame, placed: pd.DataFrame | None = None) -> pd.DataFrame:
    """``application`` and ``expected_value`` (to the cent, blank where not modelled), one row
    per account, for the dashboard (``cfg.outlook_dir / "predictions.parquet"``); with ``placed``
    (the accounts at the backtest cutoff,
    :func:`rfm_helpers.analysis.account_outlook.place_at_cutoff`) also ``cluster_then``, each
    account's cluster at the cutoff, ``new`` when it had none
    (:func:`rfm_helpers.report.outlook.dashboard_values`)."""
    return outlook.dashboard_values(predictions, placed, ACCOUNTS)


def write_lists(
    export: pd.DataFrame, fallen: pd.DataFrame | None, folder: Path, horizon: int, model: str
) -> list[Path]:
    """Write :data:`PREDICTIONS_FILE` (:func:`prediction_export`), :data:`FALLEN_FILE` when
    ``fallen`` is given and :data:`DICTIONARY_FILE` into ``folder``, its older CSVs removed first
    (:func:`rfm_helpers.report.outlook.write_lists`). Returns the paths written."""
    return outlook.write_lists(export, fallen, folder, horizon, model, ACCOUNTS)


# --------------------------------------------------------------------------- tables


def backtest_view(table: pd.DataFrame, currency: str) -> pd.DataFrame:
    """:func:`rfm_helpers.analysis.account_outlook.outcomes_by_cluster` as text, one row per
    cluster (counts as counts, money as money)."""
    return pd.DataFrame(
        {
            "Cluster at the cutoff": table["cluster_name"].astype(str),
            "Accounts at the cutoff": table["customers"].map(units.integer),
            "Ran a campaign again": table["ordered"].map(units.integer),
            "Share active again": table["repeat_share"].map(outlook.share),
            "95 % interval": [
                outlook.interval(lo, hi)
                for lo, hi in zip(table["share_low"], table["share_high"], strict=True)
            ],
            "Campaigns per account": table["orders_per_customer"].map(
                lambda v: "–" if pd.isna(v) else f"{v:,.1f}"
            ),
            "Revenue per account": table["revenue_per_customer"].map(
                lambda v: "–" if pd.isna(v) else units.money(v, currency)
            ),
            "Lift": table["lift"].map(outlook.lift),
        }
    )


def fallen_view(fallen: pd.DataFrame, currency: str) -> pd.DataFrame:
    """:func:`rfm_helpers.analysis.account_outlook.fallen_accounts` as text."""

    def money(v: float) -> str:
        return "–" if pd.isna(v) else units.money(v, currency)

    return pd.DataFrame(
        {
            "Account": fallen["application"].astype(str),
            "Name": fallen["full_name"].astype(str),
            "Cluster at the cutoff": fallen["cluster_at_cutoff"],
            "Cluster now": fallen["cluster_now"],
            "Recency at the cutoff": fallen["recency_at_cutoff"].map(units.days),
            "Recency now": fallen["recency_now"].map(units.days),
            "Campaigns since the cutoff": fallen["campaigns_since_cutoff"].map(
                lambda v: units.count(v, "campaign")
            ),
            "Revenue since the cutoff": fallen["revenue_since_cutoff"].map(money),
            "Revenue in the window, now": fallen["monetary_now"].map(money),
        }
    )


def predictions_view(export: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Rows of :func:`prediction_export` as text (:func:`rfm_helpers.report.outlook.predictions_view`)."""
    return outlook.predictions_view(export, currency, ACCOUNTS)


def fit_name(fit: predictive.ModelFit) -> str:
    """The model of ``fit`` as the literature writes it (``BG/NBD``, ``Gamma-Gamma``)."""
    return MODEL_NAMES.get(fit.model, fit.model)


def fit_table(fit: predictive.ModelFit) -> pd.DataFrame:
    """A fit's parameters as text: estimate, standard error and whether the data identify it."""
    return pd.DataFrame(
        {
            "Model": fit_name(fit),
            "Parameter": list(fit.params),
            "Estimate": [f"{v:,.4g}" for v in fit.params.values()],
            "Standard error": [
                "–" if pd.isna(fit.std_errors.get(n)) else f"{fit.std_errors[n]:,.3g}" for n in fit.params
            ],
            "Identified by the data": ["yes" if fit.identifiable[n] else "no" for n in fit.params],
        }
    )


# --------------------------------------------------------------------------- sentences


def ranking_note(ranking: pd.DataFrame) -> str:
    """What AUC and top-decile capture mean here, with the most a top decile can capture."""
    attrs = ranking.attrs
    text = (
        f"{units.integer(attrs['active'])} of the {units.count(attrs['accounts'], 'account')} "
        "at the cutoff ran a campaign in the window. AUC is the chance that an account active again is "
        "ranked above one that was not (0.5 = a coin toss); top-decile capture is the share of the active "
        "accounts found among the best-ranked 10 %"
    )
    ceiling = attrs.get("capture_ceiling", np.nan)
    if pd.notna(ceiling) and ceiling < 1:
        text += (
            f", which can hold at most {units.percent(ceiling)} of them here (so AUC is the measure to "
            "compare)"
        )
    return text + "."


def verdict(ranking: pd.DataFrame) -> str:
    """One sentence: is the model's AUC above the best simple ranking's (cluster order, recency,
    feature score, naive rate) by more than :data:`rfm_helpers.report.outlook.NO_BETTER_MARGIN`?
    The sentence names every AUC it compares."""
    auc = dict(zip(ranking["ranking"], ranking["auc"], strict=True))
    model_name = next(r for r in auc if r.endswith("expected active days"))
    model = auc.pop(model_name)
    missing = ranking.attrs.get("unscored", {}).get(model_name, 0)
    simple = {SIMPLE_WORDS.get(name, name): value for name, value in auc.items() if pd.notna(value)}
    if not simple:
        return (
            "In the held-out window either no account or every account ran a campaign, so no ranking "
            "can be judged on it (AUC is undefined)."
        )
    best = max(simple, key=lambda name: simple[name])
    others = ", ".join(f"{name} {value:.3f}" for name, value in simple.items())
    if missing or pd.isna(model):
        return (
            f"The model gave no prediction for {units.count(missing, 'account')} (its numerics fail on "
            f"them), so it is not ranked; the simple rankings reach AUC {others}."
        )
    asked = "Asked which accounts would run a campaign in the held-out window, "
    if model > simple[best] + NO_BETTER_MARGIN:
        return f"{asked}the model ranks them better than every simple ranking (AUC {model:.3f}; {others})."
    return (
        f"{asked}the model is **no better than {best}** (AUC {model:.3f} vs {simple[best]:.3f}; all simple "
        f"rankings: {others}): rank accounts by {best} and read the model's figures as estimates, not as "
        "a sharper list."
    )


def _names(names: Sequence[str], conjunction: str = "and") -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {conjunction} " + names[-1]


def _clusters(names: Sequence[str]) -> str:
    return "cluster" if len(names) == 1 else "clusters"


def _with_medians(
    clustered: pd.DataFrame, names: Sequence[str], feature: str, what: str, currency: str
) -> str:
    """``Top Performers, median revenue IDR 22.9M; High-Value, IDR 6.38M``: each cluster with its
    median ``feature`` now, the figures behind a claim about the clusters."""
    medians = clustered.groupby(clustered["cluster_name"].astype(str), observed=True)[feature].median()
    return "; ".join(
        f"{name}, {what if i == 0 else ''}{units.feature_value(feature, medians[name], currency)}"
        for i, name in enumerate(names)
    )


def fallen_caption(result: AccountOutlook) -> str:
    """The caption of the fallen accounts' table."""
    return (
        f"Highest-revenue accounts that fell from {_names(result.valuable, 'or')} "
        f"to {_names(result.least_recent, 'or')}"
    )


def model_notes(result: AccountOutlook) -> list[str]:
    """The fits' caveats in words: parameters at a boundary, the spend model's assumption."""
    predictions = result.predictions
    attrs = predictions.attrs
    fit, spend_fit = attrs["model_fit"], attrs["spend_fit"]
    notes = []
    model = MODEL_NAMES[fit.model]
    if fit.boundary_note:
        notes.append(f"**{model}:** {fit.boundary_note}.")
    else:
        notes.append(f"**{model}:** every parameter is identified by the data (none at a boundary).")
    if not attrs["p_alive_identifiable"]:
        dropout = " and ".join(predictive.DROPOUT_PARAMS[fit.model])
        notes.append(
            "The probability that an account is still active **cannot be estimated on this data** (the "
            f"data do not identify the dropout parameters {dropout}: see above), so it is not shown."
        )
    if spend_fit is not None:
        # The q <= 1 sentence of predictive speaks of customers: the value note says it for accounts.
        parts = [p for p in spend_fit.boundary_note.split("; ") if p and not p.startswith("q = ")]
        caveat = "; ".join(parts) or "every parameter is identified by the data"
        notes.append(f"**Gamma-Gamma (spend per active day):** {caveat}.")
    independence = attrs.get("independence")
    if independence is not None:
        notes.append(f"**Gamma-Gamma assumption:** {independence.note}")
    if attrs["not_paying"]:
        notes.append(
            f"{units.count(attrs['not_paying'], 'account')} have no charged revenue to model (none in the "
            "window, e.g. calls only, or none on their repeat active days): the spend model needs a "
            "positive spend, so their expected value is not estimated."
        )
    if attrs.get("value_note"):
        notes.append(attrs["value_note"])
    return notes


def _window_caveat(window_days: tuple[int, int] | None) -> str:
    if window_days is None or window_days[0] >= window_days[1]:
        return ""
    then, now = window_days
    return (
        f" (The window then covers {units.days(then)} against {units.days(now)} now, so its counts are "
        "smaller than those the clusters were fitted on.)"
    )


def findings(result: AccountOutlook, currency: str) -> str:
    """The page's key findings, every figure from the tables below it."""
    lines = []
    if result.window is not None:
        by_cluster, ranking, moves, fallen = result.by_cluster, result.ranking, result.moves, result.fallen
        cutoff, end = result.window
        best, worst = outlook.extremes(by_cluster)
        lines.append(
            f"- **Backtest:** the accounts were extracted as of {cutoff:%d %b %Y} with this run's method "
            f"(window up to the cutoff, recency from it), placed in this run's clusters, then followed for "
            f"the next {(end - cutoff).days} days (to {end - pd.Timedelta(days=1):%d %b %Y}). "
            f"{units.percent(by_cluster.attrs['overall_share'])} of the "
            f"{units.count(by_cluster.attrs['customers'], 'account')} ran a finished campaign again; "
            f"{best['cluster_name']} {units.percent(best['repeat_share'])} (lift {best['lift']:.2f}×), "
            f"{worst['cluster_name']} {units.percent(worst['repeat_share'])} (lift {worst['lift']:.2f}×). "
            + outlook.signal_sentence(best, worst, "clusters", STAY_ACTIVE)
            + _window_caveat(result.window_days)
        )
        lines.append(f"- **Ranking:** {verdict(ranking)}")
        if result.valuable and result.least_recent:
            then_valuable = int(
                moves.counts.loc[[c for c in result.valuable if c in moves.counts.index]].to_numpy().sum()
            )
            feature = result.value_feature or clustering.MONETARY
            label = "revenue" if feature == clustering.MONETARY else units.feature_label(feature).lower()
            highest = "highest-spending" if feature == clustering.MONETARY else f"highest-{label}"
            valuable = _with_medians(result.clustered, result.valuable, feature, f"median {label} ", currency)
            dormant = _with_medians(
                result.clustered, result.least_recent, "recency", "median recency ", currency
            )
            lines.append(
                f"- **Movement:** of the {units.count(then_valuable, 'account')} in the {highest} "
                f"{_clusters(result.valuable)} at the cutoff ({valuable}), "
                f"**{units.integer(len(fallen))}** are now in the least recent "
                f"{_clusters(result.least_recent)} ({dormant}); they are listed in "
                f"`exports/{FALLEN_FILE}`, highest revenue first."
            )
        else:
            lines.append(
                "- **Movement:** the clusters' medians do not single out a highest-spending or a least "
                "recent tier, so no account is listed as fallen."
            )
    else:
        lines.append(f"- **No backtest for this run:** {result.note}.")
    predictions = result.predictions
    horizon = predictions.attrs["horizon_days"]
    expected = predictions["expected_orders"].sum()
    value = predictions["expected_value"].sum(min_count=1)
    valued = int(predictions["expected_value"].notna().sum())
    line = (
        f"- **Next {horizon} days:** the {MODEL_NAMES[predictions.attrs['model']]} model expects about "
        f"{units.integer(expected)} active days (days with a finished campaign) from the "
        f"{units.count(len(predictions), 'account')}"
    )
    if pd.isna(value):
        line += f". {predictions.attrs['value_note']}"
    else:
        line += (
            f", worth {units.money(value, currency)} (discounted) from the {units.count(valued, 'account')} "
            "whose spend is modelled"
        )
        independence = predictions.attrs.get("independence")
        if independence is not None and independence.flagged:
            line += (
                " (the spend model's assumption that spend and frequency are independent does not hold "
                "here, so read the value as a rough estimate)"
            )
        line += "."
    lines.append(line)
    return "\n".join(lines)
