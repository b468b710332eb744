"""Segments and predictions proven on held-out data (issue 12): pure functions on the marts.

The cleaning step (:func:`rfm_helpers.sql.transactions.prediction_marts`) writes, for a cutoff
``predict.holdout_days`` before the snapshot, the customer table as of the cutoff
(``customers_calibration``), the buy-till-you-die summary at the cutoff (``btyd_calibration``)
and what every customer active before the cutoff did in the held-out window [cutoff, snapshot)
(``holdout``). This module scores the customers as the run does, but as of the cutoff, and
measures what the scores and models said against what happened:

- :func:`outcomes_by`: per segment, group (or cluster), the share of customers who ordered again
  in the window (95 % Wilson interval), orders and revenue per customer, and the lift;
- :func:`ranking_quality`: how well the RFM score, a BG/NBD (or Pareto/NBD) model and a naive
  rate rank the customers who ordered again (AUC, top-decile capture);
- :func:`migration` and :func:`fallen`: where the customers of each segment at the cutoff are
  at the snapshot;
- :func:`predictions`: expected orders, P(alive) and discounted expected value per customer
  over the next ``predict.horizon_days``, from the summary at the snapshot (``btyd``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rfm_helpers.analysis import clustering, metrics, predictive, scoring, segments
from rfm_helpers.config import ClusteringConfig, PredictConfig, RFMConfig

Z_95 = float(stats.norm.ppf(0.975))
"""The two-sided 95 % normal quantile (1.95996...) of the Wilson intervals."""
TOP_SHARE = 0.1
"""Share of customers, best scored first, whose buyers :func:`ranking_quality` counts (top decile)."""
NEW = "new"
"""Row of :func:`migration` for customers scored at the snapshot but not at the cutoff."""
GONE = "gone"
"""Column of :func:`migration` for customers scored at the cutoff but not at the snapshot."""
DAYS_PER_MONTH = 30.0
"""Days per month of the horizon's discounting (``predictive.PERIODS_PER_MONTH["days"]``)."""


# --------------------------------------------------------------------------- scoring at the cutoff


def score_at_cutoff(
    customers_calibration: pd.DataFrame,
    cfg: RFMConfig,
    segment_table: pd.DataFrame,
    groups: pd.DataFrame,
) -> pd.DataFrame:
    """The customer table as of the cutoff, scored and segmented exactly as the run scores the
    one at the snapshot: :func:`metrics.apply_outlier_policy` (``rfm.outliers``; trimmed
    customers are left out), :func:`scoring.score_rfm`, :func:`segments.assign_segments`."""
    kept, _report = metrics.apply_outlier_policy(customers_calibration, cfg)
    scored, _bins, _notes = scoring.score_rfm(kept, cfg)
    return segments.assign_segments(scored, segment_table, groups)


def clusters_at_cutoff(
    scored_then: pd.DataFrame, clustered: pd.DataFrame, cluster_cfg: ClusteringConfig
) -> pd.DataFrame:
    """``scored_then`` with ``cluster`` and ``cluster_name``: each customer as of the cutoff in
    the run's cluster whose centroid is nearest (:func:`clustering.assign_to_clusters`), so the
    clusters keep the names the clustering page gives them. ``clustered``: that step's table
    (``cluster_cfg.features``, ``cluster``, ``cluster_name``). ``cluster_name`` is a Categorical
    in cluster-number order, every cluster listed."""
    names = clustered.drop_duplicates("cluster").sort_values("cluster")
    numbers = clustering.assign_to_clusters(
        clustered, cluster_cfg.features, cluster_cfg.log_transform, scored_then
    )
    by_number = dict(zip(names["cluster"], names["cluster_name"].astype(str), strict=True))
    out = scored_then.copy()
    out["cluster"] = numbers
    out["cluster_name"] = pd.Categorical([by_number[n] for n in numbers], categories=list(by_number.values()))
    return out


# --------------------------------------------------------------------------- outcomes


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / trials`` (NaN, NaN when ``trials``
    is 0): centre (p + z²/2n) / (1 + z²/n), half-width z / (1 + z²/n) √(p(1-p)/n + z²/4n²).
    Unlike the normal approximation it stays inside [0, 1] and is sound for small groups."""
    if trials == 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be within 0..{trials}, got {successes}")
    p, n, z2 = successes / trials, trials, z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At p = 0 (p = 1) the lower (upper) bound is exactly 0 (1); rounding would leave 1e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def mean_interval(values: pd.Series | np.ndarray, z: float = Z_95) -> tuple[float, float]:
    """Normal-approximation interval of a mean: mean ± z · s / √n with the sample standard
    deviation s (ddof 1); NaN, NaN for fewer than two values. Per-customer orders and revenue
    are skewed, but the groups it is used on hold hundreds of customers, where the mean is close
    to normal (central limit theorem); a small group's interval is wide, as it should be. When
    no value is negative (orders; revenue without net returns) the lower bound is at least 0:
    such a mean cannot be negative."""
    array = np.asarray(values, dtype="float64")
    if len(array) < 2:
        return float("nan"), float("nan")
    half = z * float(array.std(ddof=1)) / math.sqrt(len(array))
    centre = float(array.mean())
    low = centre - half
    return (max(low, 0.0) if array.min() >= 0 else low), centre + half


def _with_outcomes(scored: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    """``scored`` with ``orders`` and ``revenue`` in the window (0 for a customer the holdout
    mart does not list) and ``ordered`` (at least one order)."""
    outcome = holdout.set_index("customer_id")[["orders", "revenue"]]
    out = scored.join(outcome, on="customer_id")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64")
    out["ordered"] = out["orders"] > 0
    return out


def outcomes_by(scored: pd.DataFrame, holdout: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """What the customers of each ``by`` (``segment``, ``group`` or ``cluster``: a column of
    ``scored``) at the cutoff did in the held-out window.

    One row per category (every category of a Categorical, in its order; else sorted), with
    ``customers``, ``ordered`` (customers with an order in the window), ``repeat_share``
    (ordered / customers) and its 95 % Wilson interval ``share_low`` / ``share_high``,
    ``orders_per_customer`` and ``revenue_per_customer`` in the window with their 95 %
    intervals (:func:`mean_interval`: ``orders_low`` / ``orders_high``, ``revenue_low`` /
    ``revenue_high``) and ``lift`` (repeat_share / the share of all scored customers).
    ``attrs``: ``overall_share``, ``customers``, ``ordered``.
    """
    if by not in scored.columns:
        raise ValueError(f"scored has no column {by!r} (columns: {', '.join(map(str, scored.columns))})")
    frame = _with_outcomes(scored, holdout)
    grouped = frame.groupby(by, observed=False, sort=True)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "ordered": grouped["ordered"].sum(),
            "orders": grouped["orders"].sum(),
            "revenue": grouped["revenue"].sum(),
        }
    )
    out[["customers", "ordered"]] = out[["customers", "ordered"]].astype("int64")
    customers = out["customers"].where(out["customers"] > 0)
    out["repeat_share"] = out["ordered"] / customers
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(out["ordered"], out["customers"], strict=True)]
    out["share_low"] = [low for low, _ in bounds]
    out["share_high"] = [high for _, high in bounds]
    out["orders_per_customer"] = out["orders"] / customers
    out["revenue_per_customer"] = out["revenue"] / customers
    for measure in ("orders", "revenue"):
        bounds = [
            mean_interval(grouped.get_group(c)[measure]) if n else (np.nan, np.nan)
            for c, n in zip(out.index, out["customers"], strict=True)
        ]
        out[f"{measure}_low"] = [low for low, _ in bounds]
        out[f"{measure}_high"] = [high for _, high in bounds]
    overall = float(frame["ordered"].mean()) if len(frame) else float("nan")
    out["lift"] = out["repeat_share"] / overall if overall > 0 else float("nan")
    out = out.drop(columns=["orders", "revenue"]).reset_index()
    out.attrs = {"overall_share": overall, "customers": len(frame), "ordered": int(frame["ordered"].sum())}
    return out


# --------------------------------------------------------------------------- ranking quality


def auc(
    scores: Sequence[float] | np.ndarray | pd.Series, positive: Sequence[bool] | np.ndarray | pd.Series
) -> float:
    """Area under the ROC curve by the Mann-Whitney U statistic: the probability that a random
    positive scores higher than a random negative, ties counting one half (mid-ranks). NaN
    when either class is empty."""
    values = np.asarray(scores, dtype="float64")
    labels = np.asarray(positive, dtype=bool)
    if values.shape != labels.shape:
        raise ValueError(f"scores and labels differ in length: {values.shape} vs {labels.shape}")
    if np.isnan(values).any():
        raise ValueError(f"{int(np.isnan(values).sum())} missing scores")
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(values)  # average ranks of ties
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def top_capture(
    scores: Sequence[float] | np.ndarray | pd.Series,
    positive: Sequence[bool] | np.ndarray | pd.Series,
    share: float = TOP_SHARE,
) -> float:
    """Share of the positives among the best-scored ``share`` of customers (ceil(share N) of
    them). Customers tied at the boundary score count in proportion to the places left for
    them (the expectation over every order of the ties), so a coarse score such as the RFM sum
    is not favoured or penalised by an arbitrary tie-break. NaN without positives."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    values = np.asarray(scores, dtype="float64")
    labels = np.asarray(positive, dtype=bool)
    total = int(labels.sum())
    if total == 0:
        return float("nan")
    places = math.ceil(share * len(values))
    boundary = np.sort(values)[::-1][places - 1]
    above, tied = values > boundary, values == boundary
    left = places - int(above.sum())
    captured = labels[above].sum() + labels[tied].sum() * left / int(tied.sum())
    return float(captured / total)


def judge_rankings(rankings: dict[str, np.ndarray], positive: np.ndarray) -> pd.DataFrame:
    """One row per ranking of ``rankings`` (scores, highest first, in the order of ``positive``):
    ``ranking``, ``auc`` (:func:`auc`) and ``top_decile_capture`` (:func:`top_capture`).

    A ranking with a missing score (a model's numerics failing for some) is not judged on the
    others: its row stays undefined, and ``attrs["unscored"]`` counts the missing scores."""
    unscored = {name: int(np.isnan(values).sum()) for name, values in rankings.items()}
    out = pd.DataFrame(
        {
            "ranking": list(rankings),
            "auc": [auc(v, positive) if not unscored[n] else np.nan for n, v in rankings.items()],
            "top_decile_capture": [
                top_capture(v, positive) if not unscored[n] else np.nan for n, v in rankings.items()
            ],
        }
    )
    out.attrs = {"unscored": unscored}
    return out


def fit_model(btyd: pd.DataFrame, model: Literal["bgnbd", "pareto_nbd"] = "bgnbd") -> predictive.ModelFit:
    """:func:`predictive.fit_bgnbd` or :func:`predictive.fit_pareto_nbd` (``predict.model``) on a
    summary mart (``btyd`` or ``btyd_calibration``, in days)."""
    if model == "bgnbd":
        return predictive.fit_bgnbd(btyd)
    if model == "pareto_nbd":
        return predictive.fit_pareto_nbd(btyd)
    raise ValueError(f"model must be bgnbd or pareto_nbd, not {model!r}")


def fit_spend(btyd: pd.DataFrame) -> predictive.ModelFit | None:
    """:func:`predictive.fit_gamma_gamma` on the repeat buyers of ``btyd``; None with fewer than
    2 of them (:func:`predictions` then says the expected value cannot be computed)."""
    if int((btyd["frequency"] > 0).sum()) < 2:
        return None
    return predictive.fit_gamma_gamma(btyd)


def naive_rate(btyd: pd.DataFrame, days: float) -> pd.Series:
    """The naive forecast: purchase days so far / days since the first purchase (``T``, at
    least 1) x ``days``. Index as ``btyd``."""
    rate = (btyd["frequency"] + 1) / btyd["T"].clip(lower=1.0)
    return (rate * days).rename("naive_rate")


def summary_for(ids: pd.Series, summary: pd.DataFrame, missing_says: str) -> pd.DataFrame:
    """The rows of ``summary`` (a buy-till-you-die summary keyed by ``customer_id``) for ``ids``,
    in their order. An id without a row raises with ``missing_says`` and an example: the
    rankings compare scores and the summary only as of the same cutoff."""
    rows = summary.set_index("customer_id").reindex(ids)
    missing = rows["frequency"].isna()
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} {missing_says} (e.g. {rows.index[missing][0]}): "
            "the two must be as of the same cutoff"
        )
    return rows.reset_index()


def ranking_quality(
    scored: pd.DataFrame,
    holdout: pd.DataFrame,
    btyd_calibration: pd.DataFrame,
    fit: predictive.ModelFit,
    holdout_days: int,
) -> pd.DataFrame:
    """How well three rankings made at the cutoff pick out the customers who ordered in the
    held-out window (``holdout_days`` long): the R + F + M score sum of ``scored``, the expected
    purchases in the window of ``fit`` (a transaction model fitted on ``btyd_calibration``,
    :func:`fit_model`) and :func:`naive_rate`.

    On the customers of ``scored`` (those of ``btyd_calibration`` it lacks raise): one row per
    ranking, ``ranking``, ``auc`` (:func:`auc`) and ``top_decile_capture``
    (:func:`top_capture`), as :func:`judge_rankings` judges them. ``attrs``: ``unscored``,
    ``customers``, ``ordered``, ``model``, ``fit_seconds``.
    """
    frame = _with_outcomes(scored, holdout)
    summary = summary_for(
        frame["customer_id"], btyd_calibration, "scored customers are not in btyd_calibration"
    )
    rankings = {
        "R+F+M score sum": (frame["r_score"] + frame["f_score"] + frame["m_score"]).to_numpy(),
        f"{fit.model} expected purchases": predictive.expected_purchases(
            fit, summary, float(holdout_days)
        ).to_numpy(),
        "naive rate": naive_rate(summary, float(holdout_days)).to_numpy(),
    }
    ordered = frame["ordered"].to_numpy()
    out = judge_rankings(rankings, ordered)
    out.attrs.update(
        customers=len(frame), ordered=int(ordered.sum()), model=fit.model, fit_seconds=fit.fit_seconds
    )
    return out


# --------------------------------------------------------------------------- migration


@dataclass(frozen=True)
class Migration:
    """Customers moving between categories from the cutoff (rows) to the snapshot (columns).

    ``counts``: customers; rows are the categories at the cutoff then :data:`NEW` (scored at
    the snapshot, not at the cutoff: first seen after it, or trimmed then by ``rfm.outliers:
    trim``), columns the categories at the snapshot then :data:`GONE` (scored at the cutoff,
    not at the snapshot: trimmed now). ``shares``: each row divided by its total (missing for
    an empty row)."""

    counts: pd.DataFrame
    shares: pd.DataFrame


def _categories(values: pd.Series) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    return sorted(values.astype(str).unique())


def migration(scored_then: pd.DataFrame, scored_now: pd.DataFrame, by: str = "segment") -> Migration:
    """Transition matrix of ``by`` (``segment`` or ``group``) from the customers scored at the
    cutoff (``scored_then``, :func:`score_at_cutoff`) to those scored at the snapshot
    (``scored_now``), matched on ``customer_id``. See :class:`Migration`."""
    then = scored_then.set_index("customer_id")[by].astype(str)
    now = scored_now.set_index("customer_id")[by].astype(str)
    rows, columns = [*_categories(scored_then[by]), NEW], [*_categories(scored_now[by]), GONE]
    pairs = pd.DataFrame(
        {
            "then": then.reindex(then.index.union(now.index)).fillna(NEW),
            "now": now.reindex(then.index.union(now.index)).fillna(GONE),
        }
    )
    counts = pd.crosstab(pairs["then"], pairs["now"]).reindex(index=rows, columns=columns, fill_value=0)
    counts = counts.astype("int64").rename_axis(index=f"{by}_then", columns=f"{by}_now")
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0)
    return Migration(counts=counts, shares=shares)


def groups_by_priority(group_playbook: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The valuable and the at-risk groups of the group playbook
    (``data/reference/group_playbook.csv``): the groups of the first ``priority`` (the playbook's
    "Retain and grow") and those of the second ("Win back"), read from the table, never named
    here."""
    priorities = sorted(group_playbook["priority"].unique())
    if len(priorities) < 2:
        raise ValueError("the group playbook needs at least two priorities (valuable, then at risk)")
    by_priority = group_playbook.groupby("priority", sort=True)["group"]
    return [str(g) for g in by_priority.get_group(priorities[0])], [
        str(g) for g in by_priority.get_group(priorities[1])
    ]


def fallen(
    scored_then: pd.DataFrame,
    scored_now: pd.DataFrame,
    valuable_groups: Iterable[str],
    at_risk_groups: Iterable[str],
) -> pd.DataFrame:
    """Customers who were in one of ``valuable_groups`` at the cutoff and are in one of
    ``at_risk_groups`` at the snapshot (names as in ``data/reference/segment_groups.csv``, e.g.
    from :func:`groups_by_priority`; an unknown name raises).

    One row per customer, highest ``monetary_now`` first: ``customer_id``, ``segment_then``,
    ``group_then``, ``segment_now``, ``group_now``, ``recency_now``, ``frequency_now``,
    ``monetary_then`` and ``monetary_now``.
    """
    valuable, at_risk = list(valuable_groups), list(at_risk_groups)
    known = set(_categories(scored_then["group"])) | set(_categories(scored_now["group"]))
    unknown = [g for g in [*valuable, *at_risk] if g not in known]
    if unknown:
        raise ValueError(f"unknown groups: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    then = scored_then[["customer_id", "segment", "group", "monetary"]]
    now = scored_now[["customer_id", "segment", "group", "recency", "frequency", "monetary"]]
    both = then.merge(now, on="customer_id", suffixes=("_then", "_now"))
    both = both.rename(columns={"recency": "recency_now", "frequency": "frequency_now"})
    hit = both["group_then"].astype(str).isin(valuable) & both["group_now"].astype(str).isin(at_risk)
    columns = [
        "customer_id",
        "segment_then",
        "group_then",
        "segment_now",
        "group_now",
        "recency_now",
        "frequency_now",
        "monetary_then",
        "monetary_now",
    ]
    out = both.loc[hit, columns].sort_values(["monetary_now", "customer_id"], ascending=[False, True])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- predictions


def _horizon_months(horizon_days: int) -> tuple[int, float]:
    """Whole discounting months of the horizon and their length in days (about 30)."""
    months = max(1, round(horizon_days / DAYS_PER_MONTH))
    return months, horizon_days / months


def predictions(
    btyd: pd.DataFrame,
    fit: predictive.ModelFit,
    gg_fit: predictive.ModelFit | None,
    horizon_days: int,
    monthly_discount_rate: float,
) -> pd.DataFrame:
    """Per customer of ``btyd`` (the summary at the snapshot), over the next ``horizon_days``:

    - ``expected_orders``: expected purchase days (:func:`predictive.expected_purchases` of
      ``fit``, a BG/NBD or Pareto/NBD fit on ``btyd``);
    - ``p_alive``: :func:`predictive.probability_alive`, missing when the dropout parameters are
      not identifiable (``fit.dropout_identifiable``; ``attrs["p_alive_note"]`` is then
      ``fit.boundary_note``), since a column of 1.000 would be an artefact, not a finding;
    - ``expected_spend``: Gamma-Gamma mean spend per purchase (:func:`predictive.expected_average_spend`);
    - ``expected_value``: :func:`predictive.customer_lifetime_value` over the horizon, cut into
      whole months of about 30 days, each discounted by ``monthly_discount_rate``; missing
      when ``gg_fit`` is None or has no finite mean (``attrs["value_note"]`` says why).

    ``attrs``: ``p_alive_identifiable``, ``p_alive_note``, ``value_note``, ``independence``
    (:func:`predictive.spend_frequency_independence` on ``btyd``, the Gamma-Gamma assumption),
    ``horizon_days``, ``model``.
    """
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    out = pd.DataFrame({"customer_id": btyd["customer_id"].to_numpy()}, index=btyd.index)
    out["expected_orders"] = predictive.expected_purchases(fit, btyd, float(horizon_days))
    identifiable = fit.dropout_identifiable
    alive = predictive.probability_alive(fit, btyd)
    out["p_alive"] = alive if identifiable else np.nan
    value_note = ""
    spend = pd.Series(np.nan, index=btyd.index)
    value = pd.Series(np.nan, index=btyd.index)
    if gg_fit is None:
        value_note = "No Gamma-Gamma fit: expected value not computed."
    else:
        spend = predictive.expected_average_spend(gg_fit, btyd)
        months, days_per_month = _horizon_months(horizon_days)
        try:
            value = predictive.customer_lifetime_value(
                fit,
                gg_fit,
                btyd,
                time_unit="days",
                months=months,
                monthly_discount_rate=monthly_discount_rate,
                periods_per_month=days_per_month,
            )
        except ValueError as error:
            value_note = str(error)
    out["expected_spend"] = spend
    out["expected_value"] = value
    independence = predictive.spend_frequency_independence(btyd) if (btyd["frequency"] > 0).any() else None
    out.attrs = {
        "p_alive_identifiable": identifiable,
        "p_alive_note": "" if identifiable else fit.boundary_note,
        "value_note": value_note,
        "independence": independence,
        "horizon_days": horizon_days,
        "model": fit.model,
    }
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- one run


@dataclass
class Outlook:
    """Everything the outlook step shows for one run (see :func:`for_run`)."""

    predictions: pd.DataFrame
    valuable: list[str]
    at_risk: list[str]
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    """The held-out window [cutoff, end); None when the data are too short for a backtest."""
    by_group: pd.DataFrame | None = None
    by_segment: pd.DataFrame | None = None
    by_cluster: pd.DataFrame | None = None
    """Per cluster (each customer placed, as of the cutoff, in the run's nearest cluster); None
    when the run has no clusters."""
    ranking: pd.DataFrame | None = None
    moves: Migration | None = None
    then: pd.DataFrame | None = None
    """The customers scored as of the cutoff (:func:`score_at_cutoff`)."""
    fallen: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["customer_id", "group_then"]))


def for_run(
    marts: Any,
    segmented: pd.DataFrame,
    segment_table: pd.DataFrame,
    groups: pd.DataFrame,
    group_playbook: pd.DataFrame,
    rfm_cfg: RFMConfig,
    predict_cfg: PredictConfig,
    clustered: pd.DataFrame | None = None,
    cluster_cfg: ClusteringConfig | None = None,
) -> Outlook:
    """The predictions at the snapshot and, when the marts (:class:`rfm_helpers.sql.transactions.Marts`)
    hold a backtest, the backtest, ranking quality, migration and fallen customers.

    ``clustered``: the clustering step's table (its features, ``cluster`` and ``cluster_name``)
    with ``cluster_cfg``, for the backtest per cluster (:func:`clusters_at_cutoff`)."""
    btyd = marts.btyd()
    predicted = predictions(
        btyd,
        fit_model(btyd, predict_cfg.model),
        fit_spend(btyd),
        predict_cfg.horizon_days,
        predict_cfg.monthly_discount_rate,
    )
    valuable, at_risk = groups_by_priority(group_playbook)
    result = Outlook(predictions=predicted, valuable=valuable, at_risk=at_risk)
    if not marts.has_backtest():
        return result
    then = score_at_cutoff(marts.customers_calibration(), rfm_cfg, segment_table, groups)
    holdout, calibration = marts.holdout(), marts.btyd_calibration()
    result.window, result.then = marts.backtest_window(), then
    result.by_group = outcomes_by(then, holdout, "group")
    result.by_segment = outcomes_by(then, holdout, "segment")
    if clustered is not None and cluster_cfg is not None:
        placed = clusters_at_cutoff(then, clustered, cluster_cfg)
        result.by_cluster = outcomes_by(placed, holdout, "cluster_name")
        numbers = clustered.drop_duplicates("cluster").set_index("cluster_name")["cluster"]
        result.by_cluster.insert(0, "cluster", result.by_cluster["cluster_name"].astype(str).map(numbers))
    fit = fit_model(calibration, predict_cfg.model)
    result.ranking = ranking_quality(then, holdout, calibration, fit, predict_cfg.holdout_days)
    result.moves = migration(then, segmented, "group")
    result.fallen = fallen(then, segmented, valuable, at_risk)
    return result
