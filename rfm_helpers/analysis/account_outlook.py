"""The outlook of the account runs (issue 12): do the clusters predict, and what comes next?

The account pipeline has no RFM segments: its accounts are in KMeans clusters (step
04_clustering) named from the clusters' medians. This module gives it what
:mod:`rfm_helpers.analysis.backtest` gives the customer runs, as pure functions on tables plus
one entry for a run (:func:`for_run`, step ``06_account_outlook``):

- **backtest**: the account table as of a cutoff ``predict.holdout_days`` before
  ``accounts.as_of`` (the run's own extraction moved back: window [window_start, cutoff),
  recency from the cutoff, :func:`rfm_helpers.data.accounts.cutoff_source`), each account
  placed in the run's clusters (:func:`place_at_cutoff`, nearest centroid), then per cluster
  the share of accounts **active again** (:data:`ACTIVE`) in the held-out window
  [cutoff, as_of) with its 95 % Wilson interval, campaigns and revenue per account, and the
  lift (:func:`outcomes_by_cluster`);
- **ranking quality** (:func:`ranking_quality`): AUC and top-decile capture of the cluster
  order, a feature rank score, a naive rate and BG/NBD (or Pareto/NBD) fitted on the accounts'
  active days at the cutoff (``sql/omnichannel/activity_summary.sql``);
- **migration** between clusters from the cutoff to now (``backtest.migration``) and the
  accounts that fell from the highest-spending clusters to the least recent ones
  (:func:`fallen_accounts`; both sets measured from the run's cluster medians,
  :func:`cluster_tiers`);
- **predictions** per account over ``predict.horizon_days`` (:func:`account_predictions`):
  expected active days, probability active where the data identify it, expected value from
  Gamma-Gamma where the account has paid (the spend model needs a positive spend), with the
  fits for the page's notes (boundary, independence of spend and frequency).

The page, its sentences (verdict, findings, notes), tables, lists for campaign tools and their
data dictionary are :mod:`rfm_helpers.report.account_outlook`; this module computes only.

Accounts use the customers' machinery through its column names: ``customer_id`` is the
account (``application``); in :func:`outcomes_by_cluster` ``ordered`` counts accounts active
again and ``orders_per_customer`` is campaigns per account (the page says so in words).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm_helpers.analysis import backtest, clustering, predictive

if TYPE_CHECKING:
    from rfm_helpers.config import AccountsSource, PredictConfig, RunConfig
    from rfm_helpers.data.accounts import OutlookExtraction

ACTIVE = "ran at least one finished campaign (on a channel of accounts.channels) in the held-out window"
"""What "active again" means on the page, defined once: the same event that recency counts
from and that the models count (an active day is a local day with a finished campaign)."""
CLUSTER_ORDER = "cluster at the cutoff (value order)"
RECENCY_ORDER = "recency at the cutoff (most recent first)"
FEATURE_SCORE = "feature rank score"
NAIVE = "naive rate"
FALLEN_COLUMNS = [
    "application",
    "full_name",
    "cluster_at_cutoff",
    "cluster_now",
    "recency_at_cutoff",
    "recency_now",
    "campaigns_since_cutoff",
    "revenue_since_cutoff",
    "monetary_at_cutoff",
    "monetary_now",
]


# --------------------------------------------------------------------------- when


def backtest_cutoff(source: AccountsSource, holdout_days: int) -> tuple[dt.date | None, str]:
    """The backtest's cutoff (``accounts.as_of - holdout_days``), or None and a sentence saying
    why there is none: the document's method cannot be moved back in time, and a window whose
    part before the cutoff is shorter than ``holdout_days`` (data spanning less than twice the
    held-out window, the customer runs' rule) leaves too little history."""
    if source.method != "corrected":
        return None, (
            "this run uses the source document's extraction, whose recency query takes one calendar "
            "year and whose charged messages cover every date, so the accounts cannot be extracted as of "
            "an earlier date; the backtest runs with `accounts.method: corrected`"
        )
    before = (source.window_end - source.window_start).days - holdout_days
    if before < holdout_days:
        return None, (
            f"the window [{source.window_start}, {source.window_end}) moved back by "
            f"predict.holdout_days ({holdout_days}) keeps {max(before, 0)} days, fewer than the "
            f"{holdout_days} days of the held-out window: too little history before a cutoff"
        )
    return source.as_of - dt.timedelta(days=holdout_days), ""


# --------------------------------------------------------------------------- the backtest


def clustered_table(accounts: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The run's account table (``cfg.clustering_input_path``) with its clusters
    (``cfg.clusters_path``: ``customer_id``, ``cluster``, ``cluster_name``), one row per account;
    ``cluster_name`` a Categorical in cluster-number order."""
    table = accounts.merge(clusters, on="customer_id", how="inner", validate="one_to_one")
    return table.assign(cluster_name=_named(table["cluster"], _cluster_names(clusters)))


def _cluster_names(clusters: pd.DataFrame) -> pd.Series:
    """Cluster name by cluster number, in number order."""
    return clusters.drop_duplicates("cluster").set_index("cluster")["cluster_name"].astype(str).sort_index()


def _named(numbers: pd.Series, names: pd.Series) -> pd.Categorical:
    return pd.Categorical(numbers.map(names), categories=list(names))


def place_at_cutoff(
    clustered: pd.DataFrame, accounts_then: pd.DataFrame, features: Sequence[str], log_transform: bool
) -> pd.DataFrame:
    """``accounts_then`` with ``cluster`` and ``cluster_name``: the run's cluster whose centroid
    is nearest to each account's features at the cutoff
    (:func:`rfm_helpers.analysis.clustering.assign_to_clusters`), so the names are the run's."""
    names = _cluster_names(clustered)
    numbers = clustering.assign_to_clusters(clustered, list(features), log_transform, accounts_then)
    out = accounts_then.assign(cluster=np.asarray(numbers, dtype="int64"))
    return out.assign(cluster_name=_named(out["cluster"], names))


def holdout_outcomes(
    accounts_then: pd.DataFrame, campaigns: pd.DataFrame, charged: pd.DataFrame
) -> pd.DataFrame:
    """What each account of the table at the cutoff did in the held-out window: ``campaigns``
    (finished campaigns, ``campaigns.sql`` rows of the window), ``charged_messages`` and
    ``revenue`` (``charged_messages.sql`` rows; whole amounts, as the prices are), 0 where it has
    no row, and ``active`` (:data:`ACTIVE`: at least one campaign). One row per account, ``customer_id`` as in
    ``accounts_then``; accounts first seen in the window are not listed (no cluster then)."""
    broadcasts = [c for c in campaigns.columns if c.startswith("broadcasts_")]
    ran = campaigns.set_index("application")[broadcasts].sum(axis=1)
    charged_columns = [c for c in charged.columns if c.startswith("charged_")]
    revenue_columns = [c for c in charged.columns if c.startswith("revenue_")]
    paid = charged.set_index("application")
    ids = accounts_then["customer_id"]
    out = pd.DataFrame({"customer_id": ids.to_numpy()})
    out["campaigns"] = ids.map(ran).fillna(0).astype("int64").to_numpy()
    out["charged_messages"] = ids.map(paid[charged_columns].sum(axis=1)).fillna(0).astype("int64").to_numpy()
    out["revenue"] = ids.map(paid[revenue_columns].sum(axis=1)).fillna(0).astype("int64").to_numpy()
    out["active"] = out["campaigns"] > 0
    return out


def outcomes_by_cluster(placed: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    """:func:`backtest.outcomes_by` per cluster at the cutoff, with "ordered" meaning
    :data:`ACTIVE` and "orders" campaigns: one row per cluster (cluster-number order) with
    ``cluster``, ``cluster_name``, ``customers`` (accounts), ``ordered`` (accounts active again),
    ``repeat_share`` and its Wilson interval ``share_low``/``share_high``,
    ``orders_per_customer`` (campaigns per account), ``revenue_per_customer`` (charged revenue per
    account), their intervals, and ``lift``. ``attrs`` as ``outcomes_by``."""
    table = backtest.outcomes_by(
        placed[["customer_id", "cluster_name"]],
        holdout.rename(columns={"campaigns": "orders"}),
        "cluster_name",
    )
    # The categories are the run's clusters in number order (1..k, every cluster has members).
    number = {name: i + 1 for i, name in enumerate(placed["cluster_name"].cat.categories)}
    table.insert(0, "cluster", table["cluster_name"].astype(str).map(number).astype("int64"))
    return table


def feature_score(table: pd.DataFrame, features: Sequence[str]) -> pd.Series:
    """A simple score per account: the mean of the percentile ranks (0..1, ties averaged) of the
    clustering features, recency reversed (recent is high), the ranking counterpart of the
    clusters' value order (mean of the standardised features, recency negated)."""
    ranks = [
        (-table[f] if f == clustering.RECENCY else table[f]).rank(pct=True, method="average")
        for f in features
    ]
    return pd.concat(ranks, axis=1).mean(axis=1).rename(FEATURE_SCORE)


def ranking_quality(
    placed: pd.DataFrame,
    holdout: pd.DataFrame,
    summary_then: pd.DataFrame,
    fit: predictive.ModelFit,
    holdout_days: int,
    features: Sequence[str],
) -> pd.DataFrame:
    """How well five rankings made at the cutoff pick out the accounts active again in the
    held-out window: the cluster order (cluster 1, the highest value score, first), recency
    alone (days since the last campaign, fewest first), the :func:`feature_score`, the model's
    expected active days in the window (``fit`` on ``summary_then``) and the naive rate
    (:func:`backtest.naive_rate`).

    One row per ranking: ``ranking``, ``auc``, ``top_decile_capture``, as
    :func:`backtest.judge_rankings` judges them (a ranking with a missing score is left
    undefined: ``attrs["unscored"]``). ``attrs``: ``unscored``, ``accounts``, ``active``, ``model``,
    ``fit_seconds`` and ``capture_ceiling``, the most any ranking can capture (the top decile
    holds ceil(N/10) accounts: when most accounts are active it cannot hold all of them).
    Accounts of ``placed`` missing from ``summary_then`` raise."""
    active = placed[["customer_id"]].merge(holdout[["customer_id", "active"]], on="customer_id", how="left")
    active = active["active"].fillna(False).astype(bool).to_numpy()
    summary = backtest.summary_for(
        placed["customer_id"], summary_then, "accounts at the cutoff have no activity summary"
    )
    k = int(placed["cluster"].max()) if len(placed) else 0
    rankings = {
        CLUSTER_ORDER: (k + 1 - placed["cluster"]).to_numpy(dtype="float64"),
        RECENCY_ORDER: -placed[clustering.RECENCY].to_numpy(dtype="float64"),
        FEATURE_SCORE: feature_score(placed, features).to_numpy(),
        f"{fit.model} expected active days": predictive.expected_purchases(
            fit, summary, float(holdout_days)
        ).to_numpy(),
        NAIVE: backtest.naive_rate(summary, float(holdout_days)).to_numpy(),
    }
    out = backtest.judge_rankings(rankings, active)
    out.attrs.update(
        accounts=len(placed),
        active=int(active.sum()),
        model=fit.model,
        fit_seconds=fit.fit_seconds,
        capture_ceiling=(
            min(1.0, math.ceil(backtest.TOP_SHARE * len(placed)) / int(active.sum()))
            if active.any()
            else np.nan
        ),
    )
    return out


# --------------------------------------------------------------------------- migration


def value_feature(features: Sequence[str]) -> str | None:
    """The feature that says how valuable a cluster is, as the cluster names use it: ``monetary``,
    else the first feature other than recency (None without one)."""
    others = [f for f in features if f != clustering.RECENCY]
    return clustering.MONETARY if clustering.MONETARY in others else (others[0] if others else None)


def cluster_tiers(clustered: pd.DataFrame, features: Sequence[str]) -> tuple[list[str], list[str]]:
    """The highest-spending and the least recent clusters of the run, measured: the top tier of
    the clusters' median value (``monetary``, else the first feature other than recency) and the
    bottom tier of their median recency (:func:`clustering.tiers`, the tiers the cluster names
    are checked against). Either list is empty when its feature is missing or all medians tie."""
    names = _cluster_names(clustered)
    medians = clustered.groupby("cluster")[list(features)].median().reindex(names.index)
    value = value_feature(features)
    valuable = [] if value is None else names[clustering.tiers(medians[value]) == "top"].tolist()
    least_recent = (
        names[clustering.tiers(medians[clustering.RECENCY], higher_is_better=False) == "bottom"].tolist()
        if clustering.RECENCY in features
        else []
    )
    return valuable, least_recent


def fallen_accounts(
    placed: pd.DataFrame,
    clustered: pd.DataFrame,
    holdout: pd.DataFrame,
    valuable: Sequence[str],
    least_recent: Sequence[str],
) -> pd.DataFrame:
    """Accounts in one of ``valuable`` at the cutoff and now in another cluster, one of
    ``least_recent`` (:func:`cluster_tiers`). Columns :data:`FALLEN_COLUMNS` (``monetary_*``:
    charged revenue in the window up to the cutoff and up to now; ``*_since_cutoff``: in the
    held-out window), highest ``monetary_now`` first."""
    then = placed[["customer_id", "application", "full_name", "cluster_name", "recency", "monetary"]]
    now = clustered[["customer_id", "cluster_name", "recency", "monetary"]]
    both = then.merge(now, on="customer_id", suffixes=("_then", "_now"))
    both = both.merge(
        holdout[["customer_id", "campaigns", "revenue"]].rename(
            columns={"campaigns": "campaigns_since_cutoff", "revenue": "revenue_since_cutoff"}
        ),
        on="customer_id",
        how="left",
    )
    was, is_now = both["cluster_name_then"].astype(str), both["cluster_name_now"].astype(str)
    hit = was.isin(list(valuable)) & is_now.isin(list(least_recent)) & (was != is_now)
    out = both.loc[hit].rename(
        columns={
            "cluster_name_then": "cluster_at_cutoff",
            "cluster_name_now": "cluster_now",
            "recency_then": "recency_at_cutoff",
            "monetary_then": "monetary_at_cutoff",
        }
    )
    out = out.assign(
        cluster_at_cutoff=out["cluster_at_cutoff"].astype(str), cluster_now=out["cluster_now"].astype(str)
    )
    out = out.sort_values(["monetary_now", "application"], ascending=[False, True])
    return out[FALLEN_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- predictions


def paying(summary: pd.DataFrame) -> pd.Series:
    """Accounts the spend model can value: some charged revenue in the window and, with repeat
    active days, a positive mean revenue on them (Gamma-Gamma models positive spends only; an
    account that has never paid, e.g. calls only, would get the population's mean spend)."""
    return (summary["revenue"] > 0) & ((summary["frequency"] == 0) | (summary["monetary_value"] > 0))


def account_predictions(
    summary: pd.DataFrame, fit: predictive.ModelFit, horizon_days: int, monthly_discount_rate: float
) -> pd.DataFrame:
    """Per account of ``summary`` (:func:`rfm_helpers.data.accounts.activity_summary` at
    ``as_of``), over the next ``horizon_days``: ``expected_orders`` (expected active days, from
    ``fit`` on ``summary``), ``p_alive`` (missing when the dropout is not identifiable),
    ``expected_spend`` (Gamma-Gamma expected revenue per active day) and ``expected_value``
    (discounted, :func:`backtest.predictions`), both only for :func:`paying` accounts, the
    Gamma-Gamma fit on them.

    ``attrs``: those of :func:`backtest.predictions` on the paying accounts (``p_alive_identifiable``,
    ``p_alive_note``, ``value_note``, ``independence``, ``horizon_days``, ``model``) plus
    ``spend_fit`` (the Gamma-Gamma fit or None), ``not_paying`` (accounts without a spend model)
    and ``model_fit`` (``fit``)."""
    pays = paying(summary)
    paid = summary[pays]
    spend_fit = backtest.fit_spend(paid) if len(paid) else None
    if len(paid):
        valued = backtest.predictions(paid, fit, spend_fit, horizon_days, monthly_discount_rate)
        attrs = dict(valued.attrs)
    else:
        valued = pd.DataFrame(
            columns=["customer_id", "expected_orders", "p_alive", "expected_spend", "expected_value"]
        )
        attrs = {"independence": None}
    rest = summary[~pays]
    others = pd.DataFrame({"customer_id": rest["customer_id"].to_numpy()})
    if len(rest):
        others["expected_orders"] = predictive.expected_purchases(fit, rest, float(horizon_days)).to_numpy()
        alive = predictive.probability_alive(fit, rest).to_numpy()
        others["p_alive"] = alive if fit.dropout_identifiable else np.nan
    others["expected_spend"] = np.nan
    others["expected_value"] = np.nan
    frames = [f for f in (valued, others) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else valued
    out = out.sort_values("customer_id", ignore_index=True)
    out[["expected_orders", "p_alive", "expected_spend", "expected_value"]] = out[
        ["expected_orders", "p_alive", "expected_spend", "expected_value"]
    ].astype("float64")
    attrs["value_note"] = _value_note(spend_fit) if out["expected_value"].isna().all() else ""
    attrs.update(
        {
            "p_alive_identifiable": fit.dropout_identifiable,
            "p_alive_note": "" if fit.dropout_identifiable else fit.boundary_note,
            "horizon_days": horizon_days,
            "model": fit.model,
            "spend_fit": spend_fit,
            "not_paying": int((~pays).sum()),
            "model_fit": fit,
        }
    )
    out.attrs = attrs
    return out


def _value_note(spend_fit: predictive.ModelFit | None) -> str:
    """Why no account has an expected value, in the page's words."""
    if spend_fit is None:
        return (
            "Fewer than two accounts paid on repeat active days, so there is no spend model and no "
            "expected value."
        )
    q = spend_fit.params["q"]
    if q <= 1:
        return (
            f"The spend model has no finite mean (Gamma-Gamma q = {q:.3g} ≤ 1: revenue per active day is "
            "too heavy-tailed for it), so no expected value is shown."
        )
    return "The spend model gives no finite expected revenue per active day, so no expected value is shown."


# --------------------------------------------------------------------------- one run


@dataclass
class AccountOutlook:
    """Everything step 06_account_outlook shows for one run (:func:`for_run`)."""

    predictions: pd.DataFrame
    clustered: pd.DataFrame
    """The run's accounts with their clusters now (:func:`clustered_table`)."""
    valuable: list[str]
    least_recent: list[str]
    value_feature: str | None = clustering.MONETARY
    """The feature ``valuable`` is measured on (:func:`value_feature`)."""
    note: str = ""
    """Why there is no backtest ("" when there is one)."""
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    """The held-out window [cutoff, as_of); None without a backtest."""
    window_days: tuple[int, int] | None = None
    """Days of the extraction window at the cutoff and now (the counts then cover fewer days)."""
    placed: pd.DataFrame | None = None
    holdout: pd.DataFrame | None = None
    by_cluster: pd.DataFrame | None = None
    ranking: pd.DataFrame | None = None
    backtest_fit: predictive.ModelFit | None = None
    moves: backtest.Migration | None = None
    fallen: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FALLEN_COLUMNS))


def fit_model(summary: pd.DataFrame, predict_cfg: PredictConfig) -> predictive.ModelFit:
    """``predict.model`` fitted on an activity summary (:func:`backtest.fit_model`)."""
    return backtest.fit_model(summary, predict_cfg.model)


def build(
    extraction: OutlookExtraction,
    clustered: pd.DataFrame,
    features: Sequence[str],
    log_transform: bool,
    predict_cfg: PredictConfig,
    note: str = "",
    window_days: tuple[int, int] | None = None,
) -> AccountOutlook:
    """The outlook from the database's tables (:func:`rfm_helpers.data.accounts.extract_outlook`)
    and the run's clustered accounts: predictions always; the backtest, ranking, migration and
    fallen accounts when ``extraction`` holds a cutoff (``note`` says why not, else).
    ``window_days``: the extraction window's days at the cutoff and now (for the page)."""
    # The run's accounts only (the document's method keeps fewer than the summary's window holds).
    summary = extraction.summary[extraction.summary["application"].isin(clustered["application"])]
    fit = fit_model(summary, predict_cfg)
    predicted = account_predictions(summary, fit, predict_cfg.horizon_days, predict_cfg.monthly_discount_rate)
    valuable, least_recent = cluster_tiers(clustered, features)
    result = AccountOutlook(
        predictions=predicted,
        clustered=clustered,
        valuable=valuable,
        least_recent=least_recent,
        value_feature=value_feature(features),
        note=note,
    )
    if extraction.cutoff is None:
        return result
    then = extraction.accounts_then
    if then is None or len(then) < 2:
        result.note = "fewer than two accounts ran a finished campaign before the cutoff"
        return result
    placed = place_at_cutoff(clustered, then, features, log_transform)
    holdout = holdout_outcomes(then, extraction.holdout_campaigns, extraction.holdout_charged)
    cutoff = pd.Timestamp(extraction.cutoff)
    result.window = (cutoff, cutoff + pd.Timedelta(days=predict_cfg.holdout_days))
    result.placed, result.holdout, result.window_days = placed, holdout, window_days
    result.by_cluster = outcomes_by_cluster(placed, holdout)
    result.backtest_fit = fit_model(extraction.summary_then, predict_cfg)
    result.ranking = ranking_quality(
        placed, holdout, extraction.summary_then, result.backtest_fit, predict_cfg.holdout_days, features
    )
    result.moves = backtest.migration(placed, clustered, "cluster_name")
    result.fallen = fallen_accounts(placed, clustered, holdout, valuable, least_recent)
    return result


def for_run(cfg: RunConfig) -> AccountOutlook:
    """The outlook of an account run: its clustered accounts (``cfg.clustering_input_path`` and
    ``cfg.clusters_path``), the database read once (:func:`rfm_helpers.data.accounts.extract_outlook`),
    then :func:`build`."""
    from rfm_helpers.data import accounts

    source = cfg.accounts
    if source is None:
        raise ValueError("account_outlook.for_run needs an account run (accounts: in the params)")
    clustered = clustered_table(
        pd.read_parquet(cfg.clustering_input_path), pd.read_parquet(cfg.clusters_path)
    )
    days = cfg.predict.holdout_days
    cutoff, note = backtest_cutoff(source, days)
    extraction = accounts.extract_outlook(source, days if cutoff is not None else None)
    window = (source.window_end - source.window_start).days
    ccfg = cfg.clustering
    return build(
        extraction, clustered, ccfg.features, ccfg.log_transform, cfg.predict, note, (window - days, window)
    )
