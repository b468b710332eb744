"""Buy-till-you-die models: BG/NBD, Pareto/NBD, Gamma-Gamma spend and customer lifetime value.

Groundwork for issue 12 (predictive insights proven on held-out data): the published
likelihoods, fitted by maximum likelihood with numpy/scipy only, and the quantities a report
shows per customer. Every model works on a *summary table*, one row per customer, with the
columns that :func:`rfm_summary` builds:

- ``frequency`` (x): repeat purchases, i.e. distinct purchase days after the first one;
- ``recency`` (t_x): time from the first to the last purchase (0 when x = 0);
- ``T``: time from the first purchase to the end of the observation period (the cut-off);
- ``monetary_value``: mean value of the repeat purchase days (0 when x = 0).

Times are in one unit (days or weeks) throughout; the fitted scale parameters (α, β) are in
that unit. Read the ``T`` column as ``df["T"]`` (``df.T`` is pandas' transpose).

Models and sources:

- **BG/NBD**: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An
  Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284 (likelihood eq. 6,
  conditional expectation eq. 10, P(alive) from the appendix), and Fader & Hardie's note
  "Implementing the BG/NBD model for customer base analysis in Excel" (2005).
- **Pareto/NBD**: Schmittlein, Morrison & Colombo (1987), *Management Science* 33(1), 1-24;
  likelihood in the form of Fader & Hardie's note "A Note on Deriving the Pareto/NBD Model and
  Related Expressions" (2005), with the Gaussian hypergeometric function 2F1 evaluated after
  Euler's transformation so that it stays bounded (no overflow for heavy buyers), and a
  series where 2F1 converges too slowly (near the no-dropout limit).
- **Gamma-Gamma**: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
  Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430, and Fader & Hardie,
  "The Gamma-Gamma Model of Monetary Value" (2013).
- **Customer lifetime value**: discounted cash flow as in the ``lifetimes`` package's
  ``customer_lifetime_value``: the sum over months m = 1..M of
  (E[purchases by month m] - E[purchases by month m-1]) x expected spend / (1 + d)^m.

Parameters are estimated on the log scale (so they stay positive) with
``scipy.optimize.minimize`` (TNC with analytic gradients for BG/NBD and Gamma-Gamma, L-BFGS-B
for the Pareto/NBD, Nelder-Mead as fallback) from several starting points,
on data rescaled to unit mean T (or unit mean spend), which makes the starting points work
whatever the time unit or currency.

**Boundary and identifiability.** On data where nobody visibly drops out, the likelihood of
BG/NBD (or Pareto/NBD) is largest in the limit where the dropout probability is 0
(a -> 0 or b -> infinity; s -> 0 or beta -> infinity): the optimiser then stops somewhere
along a flat ridge or at its bound, and P(alive) reads 1.000 for everyone. That is an artefact,
not a finding. Every fit therefore returns ``identifiable`` (per parameter) and a
``boundary_note`` in plain words; see :class:`ModelFit` for the three criteria.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

TimeUnit = Literal["days", "weeks"]
"""The unit of ``recency``, ``T`` and of the time arguments of the predictions."""

DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}

PERIODS_PER_MONTH: dict[str, float] = {"days": 30.0, "weeks": 4.345}
"""Time units per month for :func:`customer_lifetime_value`: the constants of ``lifetimes``'
``customer_lifetime_value`` (``freq="D"``: 30, ``freq="W"``: 4.345), so that the figures can be
cross-checked against it. Pass ``periods_per_month`` to use another (e.g. 365.25 / 12)."""

LOG_PARAM_BOUNDS = (math.log(1e-6), math.log(1e6))
"""Bounds of every log-parameter during the search, on the rescaled data (mean T = 1, mean
spend = 1). A parameter that ends within :data:`_BOUND_TOLERANCE` of a bound is reported as
not identifiable."""

_BOUND_TOLERANCE = 1e-2
DEFAULT_SIGNIFICANCE = 0.05
"""Level of the likelihood-ratio test of "no dropout" below which the dropout parameters
count as identified."""
DEFAULT_MAX_RELATIVE_SE = 1.0
"""A parameter whose standard error exceeds this multiple of its estimate (on the log scale:
SE(log theta) > 1, a 95 % interval wider than a factor of e^3.9 ~ 50) is reported as not
identifiable: the likelihood is (nearly) flat in that direction."""
DEFAULT_CORRELATION_THRESHOLD = 0.3
"""|Pearson r| between frequency and average spend above which the Gamma-Gamma independence
assumption is flagged. 0.3 is the conventional lower edge of a "moderate" correlation (Cohen
1988); Fader, Hardie & Lee (2005, RFM and CLV) report r = 0.11 on CDNOW (0.114 on the
946 repeat buyers here) and treat spend and frequency as independent. The p-value is reported
beside it but not used for the flag: with thousands of customers a negligible r is
"significant"."""

TRANSACTION_MODELS = ("bgnbd", "pareto_nbd")
DROPOUT_PARAMS = {"bgnbd": ("a", "b"), "pareto_nbd": ("s", "beta")}
PARAM_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "nbd": ("r", "alpha"),
    "gamma_gamma": ("p", "q", "gamma"),
}
_TIME_SCALE_PARAMS = {"alpha", "beta"}
"""Parameters in time units: multiplied by the time scale after fitting on rescaled data."""


# --------------------------------------------------------------------------- summary tables


def _purchase_days(
    transactions: pd.DataFrame, customer_col: str, date_col: str, revenue_col: str
) -> pd.DataFrame:
    missing = [c for c in (customer_col, date_col, revenue_col) if c not in transactions.columns]
    if missing:
        raise ValueError(
            f"transactions: columns not found: {', '.join(missing)} "
            f"(available: {', '.join(map(str, transactions.columns))})"
        )
    tx = transactions[[customer_col, date_col, revenue_col]]
    if tx[customer_col].isna().any():
        raise ValueError(f"transactions: {int(tx[customer_col].isna().sum())} rows without {customer_col}")
    day = pd.to_datetime(tx[date_col]).dt.normalize()
    days = (
        pd.DataFrame({"customer_id": tx[customer_col].to_numpy(), "day": day.to_numpy()})
        .assign(value=tx[revenue_col].astype("float64").to_numpy())
        .groupby(["customer_id", "day"], sort=True, as_index=False)["value"]
        .sum()
    )
    return days


def rfm_summary(
    transactions: pd.DataFrame,
    cutoff: str | pd.Timestamp,
    *,
    time_unit: TimeUnit = "days",
    customer_col: str = "customer_id",
    date_col: str = "date",
    revenue_col: str = "revenue",
) -> pd.DataFrame:
    """The (frequency, recency, T, monetary_value) table at ``cutoff``, as ``lifetimes`` defines it.

    ``transactions`` has one row per transaction (or per invoice, or per line: rows of the
    same customer on the same calendar day are one purchase, their revenue summed), with a
    customer id, a date (time of day ignored) and a revenue. Rows on days after ``cutoff``'s
    day are ignored; the cut-off day itself is included (``lifetimes``:
    ``datetime <= observation_period_end``).

    Per customer, with the purchase period a calendar day (``lifetimes``' ``freq="D"``):

    - ``frequency``: number of distinct purchase days minus 1 (repeat purchases);
    - ``recency``: last purchase day - first purchase day;
    - ``T``: cut-off day - first purchase day;
    - ``monetary_value``: mean revenue of the repeat purchase days (the first day excluded),
      0 when ``frequency`` is 0;

    times in ``time_unit``: days, or weeks = days / 7 (fractional, as in the CDNOW data; this
    differs from ``lifetimes``' ``freq="W"``, which merges purchases within a calendar week).
    Returns one row per customer sorted by ``customer_id`` with the columns ``customer_id``,
    ``frequency`` (int), ``recency``, ``T``, ``monetary_value`` (floats).
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be one of {', '.join(DAYS_PER_UNIT)}, not {time_unit!r}")
    cutoff_day = pd.Timestamp(cutoff).normalize()
    days = _purchase_days(transactions, customer_col, date_col, revenue_col)
    days = days[days["day"] <= cutoff_day]
    if days.empty:
        raise ValueError(f"No transactions on or before the cut-off {cutoff_day.date()}")
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped.size()
    total = grouped["value"].sum()
    first_value = days.drop_duplicates("customer_id", keep="first").set_index("customer_id")["value"]
    frequency = (n_days - 1).astype("int64")
    repeat_total = total - first_value.reindex(total.index)
    monetary = (repeat_total / frequency.where(frequency > 0)).fillna(0.0)
    per_unit = DAYS_PER_UNIT[time_unit]
    return pd.DataFrame(
        {
            "customer_id": first.index.to_numpy(),
            "frequency": frequency.to_numpy(),
            "recency": ((last - first).dt.days / per_unit).to_numpy(dtype="float64"),
            "T": ((cutoff_day - first).dt.days / per_unit).to_numpy(dtype="float64"),
            "monetary_value": monetary.to_numpy(dtype="float64"),
        }
    )


def calibration_holdout_summary(
    transactions: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp,
    *,
    time_unit: TimeUnit = "days",
    customer_col: str = "customer_id",
    date_col: str = "date",
    revenue_col: str = "revenue",
) -> pd.DataFrame:
    """:func:`rfm_summary` at ``calibration_end`` plus what the same customers did afterwards.

    For held-out validation: fit on the calibration columns (``frequency``, ``recency``,
    ``T``, ``monetary_value``, exactly as :func:`rfm_summary`), predict over
    ``duration_holdout`` and compare with ``frequency_holdout``. Only customers with a
    purchase on or before ``calibration_end`` appear (``lifetimes``'
    ``calibration_and_holdout_data``). Added columns: ``frequency_holdout`` (purchase days in
    (calibration_end, observation_end]), ``monetary_value_holdout`` (their mean revenue, 0 if
    none) and ``duration_holdout`` (observation_end - calibration_end in ``time_unit``).
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs_end = pd.Timestamp(observation_end).normalize()
    if obs_end <= cal_end:
        raise ValueError(
            f"observation_end ({obs_end.date()}) must be after calibration_end ({cal_end.date()})"
        )
    summary = rfm_summary(
        transactions,
        cal_end,
        time_unit=time_unit,
        customer_col=customer_col,
        date_col=date_col,
        revenue_col=revenue_col,
    )
    days = _purchase_days(transactions, customer_col, date_col, revenue_col)
    holdout = days[(days["day"] > cal_end) & (days["day"] <= obs_end)].groupby("customer_id")["value"]
    ids = summary["customer_id"]
    summary["frequency_holdout"] = ids.map(holdout.size()).fillna(0).astype("int64").to_numpy()
    summary["monetary_value_holdout"] = ids.map(holdout.mean()).fillna(0.0).to_numpy(dtype="float64")
    summary["duration_holdout"] = (obs_end - cal_end).days / DAYS_PER_UNIT[time_unit]
    return summary


def _xtT(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise ValueError(f"summary: columns not found: {', '.join(missing)} (see rfm_summary)")
    x = summary["frequency"].to_numpy(dtype="float64")
    t_x = summary["recency"].to_numpy(dtype="float64")
    T = summary["T"].to_numpy(dtype="float64")
    bad = ~np.isfinite(x) | ~np.isfinite(t_x) | ~np.isfinite(T) | (x < 0) | (t_x < 0) | (t_x > T)
    if bad.any():
        raise ValueError(
            f"summary: {int(bad.sum())} rows with missing or negative values or recency > T "
            "(need 0 <= recency <= T, frequency >= 0)"
        )
    if ((x == 0) & (t_x != 0)).any():
        raise ValueError("summary: customers with frequency 0 must have recency 0")
    return x, t_x, T


# --------------------------------------------------------------------------- log-likelihoods


def _bgnbd_ll(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6), summed in log space."""
    r, alpha, a, b = theta
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)  # keeps the x = 0 branch finite; masked below
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
    dropped = np.where(repeat, special.betaln(a + 1.0, b + x1 - 1.0) - (r + x) * np.log(alpha + t_x), -np.inf)
    return common + np.logaddexp(alive, dropped)


def _nbd_ll(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The no-dropout limit of both BG/NBD and Pareto/NBD: Poisson purchases, gamma rates."""
    r, alpha = theta
    return special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)


def _hyp2f1(a: object, b: object, c: object, z: object) -> np.ndarray:
    """scipy's 2F1, retried with b nudged by a relative 1e-12 where it returns NaN or inf.

    scipy gives NaN for some large parameters when c - a - b is an integer (e.g. an integer
    s or r in the Pareto/NBD, an integer a - 1 in the BG/NBD expectation); the function is
    smooth in b, so the nudge changes the value far below any precision that matters.
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (a, b, c, z)))
    f = np.array(special.hyp2f1(a, b, c, z), dtype="float64", ndmin=1).reshape(a.shape)
    bad = ~np.isfinite(f)
    if bad.any():
        nudged = b[bad] + 1e-12 * np.maximum(np.abs(b[bad]), 1.0)
        f[bad] = special.hyp2f1(a[bad], nudged, c[bad], z[bad])
    return f


_SERIES_TERMS = 80


def _log_expm1_ratio(eps: np.ndarray, length: np.ndarray) -> np.ndarray:
    """log((exp(eps L) - 1) / eps) for L >= 0 (log L when eps = 0), without overflow."""
    eps, length = np.broadcast_arrays(np.asarray(eps, dtype="float64"), length)
    el = eps * length
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        positive = el + np.log(-np.expm1(-el)) - np.log(eps)
        negative = np.log(-np.expm1(el)) - np.log(-eps)
        tiny = np.log(length) + 0.5 * el
    return np.where(np.abs(el) < 1e-9, tiny, np.where(eps > 0, positive, negative))


def _pareto_log_death_integral(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """log D, D = integral over t_x < tau <= T of (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau.

    D is Fader & Hardie's A0 / (r+s+x) (Pareto/NBD note, 2005): the likelihood of dying at tau
    after the last purchase. With m = min(alpha, beta), M = max(alpha, beta), k the exponent
    of the factor with m (r+x if alpha < beta, else s+1) and u = (m+tau) / (M+tau):

        D = (M-m)^-(r+s+x) * integral of u^-k (1-u)^(r+s+x-1) du over [u(t_x), u(T)].

    Two evaluations of the same quantity:

    - the note's closed form with the Gaussian hypergeometric function,
      A0 = 2F1(r+s+x, t; r+s+x+1; z(t_x)) / (M+t_x)^(r+s+x) - the same at T, z = 1-u,
      t = s+1 if alpha >= beta else r+x, after Euler's transformation
      2F1(A, t; A+1; z) = (1-z)^(1-t) 2F1(1, A+1-t; A+1; z), whose factor stays between 1 and
      1/(1-z) (no overflow for heavy buyers);
    - where u(T) is small (the two scales far apart, e.g. near the no-dropout limit beta -> inf,
      where the 2F1 series needs ~1/(1-z) terms and becomes very slow), the binomial series of
      (1-u)^(r+s+x-1) integrated term by term (up to 80 terms; used when (r+s+x) u(T) <= 4 and
      u(T) <= 0.25: the terms then shrink geometrically and the alternating signs lose at most
      a factor e^8 ~ 3000 of the double precision, i.e. about 1e-13 relative).

    -inf when t_x = T (no time to die after the last purchase).
    """
    rsx = r + s + x
    if alpha >= beta:
        high, low, k = alpha, beta, np.full_like(x, s + 1.0)
    else:
        high, low, k = beta, alpha, r + x
    diff = high - low
    out = np.full(x.shape, -np.inf)
    u_tx = (low + t_x) / (high + t_x)
    u_T = (low + T) / (high + T)
    has_time = t_x < T
    series = has_time & (diff > 0) & (rsx * u_T <= 4.0) & (u_T <= 0.25)
    closed = has_time & ~series

    if closed.any():
        kc, rc, txc, Tc = k[closed], rsx[closed], t_x[closed], T[closed]

        def log_term(y: np.ndarray) -> np.ndarray:
            f = _hyp2f1(1.0, rc + 1.0 - kc, rc + 1.0, diff / (high + y))
            return (1.0 - kc) * (np.log(low + y) - np.log(high + y)) + np.log(f) - rc * np.log(high + y)

        first, second = log_term(txc), log_term(Tc)
        with np.errstate(divide="ignore"):
            out[closed] = first + np.log1p(-np.exp(np.minimum(second - first, 0.0))) - np.log(rc)

    if series.any():
        ks, rs = k[series], rsx[series]
        log_u1 = np.log(u_tx[series])
        length = np.log(u_T[series]) - log_u1
        log_b0 = (1.0 - ks) * log_u1 + _log_expm1_ratio(1.0 - ks, length)
        total = np.ones_like(ks)
        coef = np.ones_like(ks)
        for j in range(1, _SERIES_TERMS):
            coef = coef * (j - rs) / j
            e = j + 1.0 - ks
            term = coef * np.exp(e * log_u1 + _log_expm1_ratio(e, length) - log_b0)
            total += term
            if np.max(np.abs(term)) < 1e-17:
                break
        out[series] = -rs * np.log(diff) + log_b0 + np.log(total)
    return out


def _pareto_parts(
    theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(common, log "alive at T" term, log "died in (t_x, T]" term) of the Pareto/NBD likelihood."""
    r, alpha, s, beta = theta
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) + _pareto_log_death_integral(r, alpha, s, beta, x, t_x, T)
    return common, alive, died


def _pareto_nbd_ll(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    common, alive, died = _pareto_parts(theta, x, t_x, T)
    return common + np.logaddexp(alive, died)


def _gamma_gamma_ll(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-density of the mean spend m of x transactions (FH 2013)."""
    p, q, gamma = theta
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * m)
    )


def _bgnbd_grad(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """d LL_i / d theta (rows r, alpha, a, b; one column per customer) of :func:`_bgnbd_ll`."""
    r, alpha, a, b = theta
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + T)
    dropped = np.where(repeat, special.betaln(a + 1.0, b + x1 - 1.0) - (r + x) * np.log(alpha + t_x), -np.inf)
    w_alive = np.exp(alive - np.logaddexp(alive, dropped))  # share of the "still alive" term
    w_dropped = 1.0 - w_alive
    psi_abx = special.digamma(a + b + x)
    return np.vstack(
        [
            special.digamma(r + x)
            - special.digamma(r)
            + np.log(alpha)
            - w_alive * np.log(alpha + T)
            - w_dropped * np.log(alpha + t_x),
            r / alpha - (r + x) * (w_alive / (alpha + T) + w_dropped / (alpha + t_x)),
            -special.digamma(a)
            + special.digamma(a + b)
            + w_alive * (special.digamma(a) - psi_abx)
            + w_dropped * (special.digamma(a + 1.0) - psi_abx),
            -special.digamma(b)
            + special.digamma(a + b)
            + w_alive * (special.digamma(b + x) - psi_abx)
            + w_dropped * np.where(repeat, special.digamma(b + x1 - 1.0) - psi_abx, 0.0),
        ]
    )


def _nbd_grad(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha = theta
    return np.vstack(
        [
            special.digamma(r + x) - special.digamma(r) + np.log(alpha) - np.log(alpha + T),
            r / alpha - (r + x) / (alpha + T),
        ]
    )


def _gamma_gamma_grad(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, gamma = theta
    px = p * x
    psi = special.digamma(px + q)
    log_total = np.log(gamma + x * m)
    return np.vstack(
        [
            x * (psi - special.digamma(px) + np.log(m) + np.log(x) - log_total),
            psi - special.digamma(q) + np.log(gamma) - log_total,
            q / gamma - (px + q) / (gamma + x * m),
        ]
    )


_TRANSACTION_LL: dict[str, Callable[..., np.ndarray]] = {
    "bgnbd": _bgnbd_ll,
    "pareto_nbd": _pareto_nbd_ll,
    "nbd": _nbd_ll,
}
_TRANSACTION_GRAD: dict[str, Callable[..., np.ndarray]] = {"bgnbd": _bgnbd_grad, "nbd": _nbd_grad}
"""Analytic gradients (the Pareto/NBD's uses finite differences)."""


def _theta(params: Mapping[str, float], model: str) -> np.ndarray:
    try:
        return np.array([float(params[name]) for name in PARAM_NAMES[model]])
    except KeyError as exc:
        raise ValueError(f"{model} needs parameters {', '.join(PARAM_NAMES[model])}; missing {exc}") from None


def bgnbd_log_likelihood(params: Mapping[str, float], summary: pd.DataFrame) -> pd.Series:
    """Per-customer BG/NBD log-likelihood for ``params`` (r, alpha, a, b); index as ``summary``."""
    return pd.Series(_bgnbd_ll(_theta(params, "bgnbd"), *_xtT(summary)), index=summary.index)


def pareto_nbd_log_likelihood(params: Mapping[str, float], summary: pd.DataFrame) -> pd.Series:
    """Per-customer Pareto/NBD log-likelihood for ``params`` (r, alpha, s, beta)."""
    return pd.Series(_pareto_nbd_ll(_theta(params, "pareto_nbd"), *_xtT(summary)), index=summary.index)


def gamma_gamma_log_likelihood(params: Mapping[str, float], summary: pd.DataFrame) -> pd.Series:
    """Per-customer Gamma-Gamma log-likelihood for ``params`` (p, q, gamma), repeat buyers only."""
    x, m = _repeat_spend(summary)
    index = summary.index[(summary["frequency"] > 0).to_numpy()]
    return pd.Series(_gamma_gamma_ll(_theta(params, "gamma_gamma"), x, m), index=index)


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class ModelFit:
    """A maximum-likelihood fit and what the report may say about it.

    ``params`` are in the data's units (alpha and beta in the time unit of the summary, gamma
    in its currency). ``std_errors`` come from the observed information (numerical Hessian of
    the log-likelihood on the log scale, delta method back to the parameter scale); for the
    identifiable parameters the Hessian is restricted to them (the others held at their
    fitted values), NaN where the matrix is not negative definite.

    ``identifiable[name]`` is False when any of these holds:

    1. the optimiser stopped at the bound of the search (``LOG_PARAM_BOUNDS``);
    2. (dropout parameters of BG/NBD and Pareto/NBD) the likelihood-ratio test of the model
       against its no-dropout limit (the NBD: nobody ever leaves) does not reject at
       ``significance``: the data cannot tell the fit from one in which P(alive) = 1 for
       everyone, so the dropout parameters sit on (or wander along) the boundary a -> 0 or
       b -> infinity (s -> 0 or beta -> infinity);
    3. the standard error exceeds ``max_relative_se`` times the estimate (flat likelihood).

    ``boundary_note`` says which, in words a report can show; it is "" when every parameter is
    identifiable. ``no_dropout_lr`` is 2 (LL - LL of the NBD fit) and ``no_dropout_p_value``
    its p-value from the 50:50 mixture of chi-square(0) and chi-square(1) (the null is on the
    boundary; an approximation, as the nuisance parameter of the null is not identified
    either); both None for Gamma-Gamma. ``details``: ``no_dropout_log_likelihood``,
    ``time_scale``, ``share_p_alive_at_least_0_99`` (share of the fitted customers whose
    P(alive) is 0.99 or more), ``mean_dropout_probability`` (a / (a+b), BG/NBD) or
    ``mean_dropout_rate`` (s / beta, Pareto/NBD); ``spend_scale`` and
    ``population_mean_spend`` (p gamma / (q-1)) for Gamma-Gamma.
    """

    model: str
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    std_errors: dict[str, float]
    identifiable: dict[str, bool]
    boundary_note: str
    converged: bool
    optimizer_message: str
    fit_seconds: float
    no_dropout_lr: float | None = None
    no_dropout_p_value: float | None = None
    details: dict[str, float] = field(default_factory=dict)

    @property
    def all_identifiable(self) -> bool:
        """True when no parameter is at a boundary or undetermined."""
        return all(self.identifiable.values())

    @property
    def dropout_identifiable(self) -> bool:
        """BG/NBD and Pareto/NBD: whether P(alive) carries information (False: report it as not
        identifiable rather than a column of 1.000). Raises for Gamma-Gamma."""
        if self.model not in DROPOUT_PARAMS:
            raise ValueError(f"{self.model} has no dropout process")
        return all(self.identifiable[name] for name in DROPOUT_PARAMS[self.model])


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows and their counts: the likelihood is evaluated once per distinct customer."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype("float64")


def _maximise(
    ll: Callable[[np.ndarray], np.ndarray],
    weights: np.ndarray,
    starts: Sequence[Sequence[float]],
    limit_ll: float | None = None,
    grad: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, float, bool, str]:
    """Maximise sum(weights * ll(theta)) over log(theta) from several starting points.

    Within :data:`LOG_PARAM_BOUNDS`: truncated Newton (TNC) with the analytic gradient when
    ``grad`` is given, else L-BFGS-B with finite differences; Nelder-Mead when either fails.
    (TNC rather than L-BFGS-B with a gradient: scipy's L-BFGS-B calls OpenBLAS on its tiny
    matrices, whose threads cost 3-4x the whole fit's CPU time on a busy machine.) The starts
    are tried in order until two of them end within 1e-3 of the same total log-likelihood (a
    local optimum found twice). ``limit_ll`` is the supremum along a known boundary (the no-dropout
    NBD): runs that end within 0.05 of it count as having found that same limit, since on the
    flat ridge towards it the end points differ while the likelihood does not; such a run is not
    retried with Nelder-Mead either (the ridge has no end to converge to: on a synthetic 7,590
    customers Nelder-Mead spent 119,000 evaluations and 79 s there, to the same likelihood).
    Returns (log theta, total log-likelihood, converged, optimiser message) of the best run.
    ``grad(theta)``, when given, is the per-customer gradient (parameters x customers).
    """
    n = weights.sum()

    def objective(log_theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = -float(np.dot(weights, ll(np.exp(log_theta)))) / n
        return value if np.isfinite(value) else 1e10

    def jacobian(log_theta: np.ndarray) -> np.ndarray:
        assert grad is not None
        theta = np.exp(log_theta)
        with np.errstate(all="ignore"):
            g = -(grad(theta) @ weights) * theta / n  # chain rule: d/d log(theta) = theta d/d theta
        return np.where(np.isfinite(g), g, 0.0)

    def at_limit(res: optimize.OptimizeResult) -> bool:
        return limit_ll is not None and res.fun < 1e10 and -res.fun * n >= limit_ll - 0.05

    bounds = [LOG_PARAM_BOUNDS] * len(starts[0])
    runs: list[optimize.OptimizeResult] = []
    for start in starts:
        x0 = np.log(np.asarray(start, dtype="float64"))
        if grad is not None:
            res = optimize.minimize(
                objective,
                x0,
                jac=jacobian,
                method="TNC",
                bounds=bounds,
                options={"maxfun": 5000, "ftol": 1e-15},
            )
        else:
            res = optimize.minimize(
                objective, x0, method="L-BFGS-B", bounds=bounds, options={"maxiter": 5000, "ftol": 1e-12}
            )
        if (not res.success or res.fun >= 1e10) and not at_limit(res):
            fallback = optimize.minimize(
                objective,
                res.x if res.fun < 1e10 else x0,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": 20000, "xatol": 1e-8, "fatol": 1e-12},
            )
            if fallback.fun <= res.fun:
                res = fallback
        runs.append(res)
        found = sorted(
            max(-r.fun * n, limit_ll) if at_limit(r) else -r.fun * n
            for r in runs
            if (r.success and r.fun < 1e10) or at_limit(r)
        )
        if len(found) >= 2 and found[-1] - found[-2] < 1e-3:
            break
    best = min(runs, key=lambda r: r.fun)
    converged = (bool(best.success) and best.fun < 1e10) or at_limit(best)
    return np.asarray(best.x), -best.fun * n, converged, str(best.message)


def _log_hessian(
    total_ll: Callable[[np.ndarray], float], log_theta: np.ndarray, h: float = 1e-3
) -> np.ndarray:
    """Central-difference Hessian of the total log-likelihood in log-parameters."""
    k = len(log_theta)
    hess = np.empty((k, k))
    f0 = total_ll(log_theta)
    steps = np.eye(k) * h
    for i in range(k):
        hess[i, i] = (total_ll(log_theta + steps[i]) - 2 * f0 + total_ll(log_theta - steps[i])) / h**2
        for j in range(i + 1, k):
            value = (
                total_ll(log_theta + steps[i] + steps[j])
                - total_ll(log_theta + steps[i] - steps[j])
                - total_ll(log_theta - steps[i] + steps[j])
                + total_ll(log_theta - steps[i] - steps[j])
            ) / (4 * h**2)
            hess[i, j] = hess[j, i] = value
    return hess


def _log_standard_errors(info: np.ndarray) -> np.ndarray:
    """sqrt(diag(info^-1)) when the information matrix is positive definite, else all NaN."""
    if info.size == 0:
        return np.zeros(0)
    if not np.all(np.isfinite(info)):
        return np.full(len(info), np.nan)
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return np.full(len(info), np.nan)
    return np.sqrt(np.diag(np.linalg.inv(info)))


def _identify(
    model: str,
    log_theta: np.ndarray,
    hess: np.ndarray,
    at_limit: Sequence[str],
    max_relative_se: float,
) -> tuple[dict[str, bool], np.ndarray, list[str]]:
    """The three criteria of :class:`ModelFit`; returns (identifiable, SE of log theta, notes).

    Parameters at a bound of the search or in ``at_limit`` (criterion 2) are set aside first;
    the standard errors of the others come from the information matrix restricted to them
    (i.e. given the set-aside parameters), so that a flat dropout direction does not make r
    and alpha look undetermined as well. Set-aside parameters get the unrestricted SE (NaN when
    the full matrix is singular).
    """
    names = PARAM_NAMES[model]
    lo, hi = LOG_PARAM_BOUNDS
    identifiable = {name: True for name in names}
    notes: list[str] = []
    for name, value in zip(names, log_theta, strict=True):
        if value - lo < _BOUND_TOLERANCE or hi - value < _BOUND_TOLERANCE:
            identifiable[name] = False
            side = "lower" if value - lo < _BOUND_TOLERANCE else "upper"
            notes.append(f"{name} stopped at the {side} bound of the search")
    for name in at_limit:
        identifiable[name] = False
    free = np.array([identifiable[name] for name in names])
    log_se = _log_standard_errors(-hess)
    log_se[free] = _log_standard_errors(-hess[np.ix_(free, free)])
    for name, ok, se in zip(names, free, log_se, strict=True):
        if not ok:
            continue
        if not np.isfinite(se):
            identifiable[name] = False
            notes.append(f"{name} has no finite standard error (the likelihood is flat there)")
        elif se > max_relative_se:
            identifiable[name] = False
            shown = f"{se:.0%}" if se < 100 else "over 10,000%"
            notes.append(
                f"{name} is poorly determined (standard error {shown} of the estimate, "
                f"limit {max_relative_se:.0%})"
            )
    return identifiable, log_se, notes


def _transaction_starts(
    model: str, x: np.ndarray, T: np.ndarray, weights: np.ndarray, nbd: np.ndarray | None = None
) -> list[list[float]]:
    """Starting points on data rescaled to mean T = 1.

    The NBD (no-dropout) fit's r and alpha, else r / alpha matching the mean purchase rate,
    with a moderate dropout (mean dropout probability 0.3 per purchase, or mean lifetime about
    the observation period), then two spread-out alternatives.
    """
    rate = max(float(np.dot(weights, x) / np.dot(weights, T)), 1e-3)
    if model == "nbd":
        return [[0.9, 0.9 / rate], [0.3, 0.3 / rate], [3.1, 3.1 / rate]]
    r0, alpha0 = (float(nbd[0]), float(nbd[1])) if nbd is not None else (0.9, 0.9 / rate)
    return [[r0, alpha0, 0.9, 2.1], [0.3, 0.3 / rate, 0.5, 5.1], [3.1, 3.1 / rate, 2.1, 0.7]]


def _fit_transaction_model(
    model: str,
    summary: pd.DataFrame,
    significance: float,
    max_relative_se: float,
) -> ModelFit:
    started = time.perf_counter()
    x, t_x, T = _xtT(summary)
    if len(x) < 2:
        raise ValueError(f"{model}: need at least 2 customers, got {len(x)}")
    scale = float(T.mean())
    if not scale > 0:
        raise ValueError(f"{model}: every customer has T = 0 (first purchase on the cut-off day)")
    (xs, txs, Ts), weights = _compress(x, t_x / scale, T / scale)
    names = PARAM_NAMES[model]
    unit_scale = np.array([scale if name in _TIME_SCALE_PARAMS else 1.0 for name in names])
    ll = _TRANSACTION_LL[model]

    nbd_log_theta, nbd_scaled_ll, _, _ = _maximise(
        lambda th: _nbd_ll(th, xs, txs, Ts),
        weights,
        _transaction_starts("nbd", xs, Ts, weights),
        grad=lambda th: _nbd_grad(th, xs, txs, Ts),
    )
    grad = _TRANSACTION_GRAD.get(model)
    log_theta, _, converged, message = _maximise(
        lambda th: ll(th, xs, txs, Ts),
        weights,
        _transaction_starts(model, xs, Ts, weights, np.exp(nbd_log_theta)),
        limit_ll=nbd_scaled_ll,
        grad=None if grad is None else lambda th: grad(th, xs, txs, Ts),
    )

    theta = np.exp(log_theta) * unit_scale
    nbd_theta = np.exp(nbd_log_theta) * np.array([1.0, scale])
    loglik = float(np.sum(ll(theta, x, t_x, T)))
    nbd_loglik = float(np.sum(_nbd_ll(nbd_theta, x, t_x, T)))
    lr = max(2.0 * (loglik - nbd_loglik), 0.0)
    p_value = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0
    dropout = DROPOUT_PARAMS[model]
    at_limit = dropout if p_value >= significance else ()

    def total(log_th: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            return float(np.dot(weights, ll(np.exp(log_th), xs, txs, Ts)))

    identifiable, log_se, notes = _identify(
        model, log_theta, _log_hessian(total, log_theta), at_limit, max_relative_se
    )
    share_alive = float(np.mean(_p_alive(model, theta, x, t_x, T) >= 0.99))
    if at_limit:
        label = "BG/NBD" if model == "bgnbd" else "Pareto/NBD"
        notes.insert(
            0,
            f"Dropout ({', '.join(dropout)}) is not identifiable on these data: the {label} fit is no "
            f"better than the same model in which no customer ever leaves (likelihood ratio "
            f"{lr:.2f}, p = {p_value:.2f} >= {significance:g}). P(alive) reads 0.99 or more for "
            f"{share_alive:.0%} of customers and its differences are not supported by the data: "
            "report it as not identifiable, not as a finding",
        )
    params = dict(zip(names, theta.tolist(), strict=True))
    details = {
        "no_dropout_log_likelihood": nbd_loglik,
        "time_scale": scale,
        "share_p_alive_at_least_0_99": share_alive,
    }
    if model == "bgnbd":
        details["mean_dropout_probability"] = params["a"] / (params["a"] + params["b"])
    else:
        details["mean_dropout_rate"] = params["s"] / params["beta"]
    return ModelFit(
        model=model,
        params=params,
        log_likelihood=loglik,
        n_customers=len(x),
        std_errors={n: float(v * se) for n, v, se in zip(names, theta, log_se, strict=True)},
        identifiable=identifiable,
        boundary_note="; ".join(notes),
        converged=converged,
        optimizer_message=message,
        fit_seconds=time.perf_counter() - started,
        no_dropout_lr=lr,
        no_dropout_p_value=p_value,
        details=details,
    )


def fit_bgnbd(
    summary: pd.DataFrame,
    *,
    significance: float = DEFAULT_SIGNIFICANCE,
    max_relative_se: float = DEFAULT_MAX_RELATIVE_SE,
) -> ModelFit:
    """Maximum-likelihood BG/NBD (r, alpha, a, b) on ``summary`` (frequency, recency, T).

    See :class:`ModelFit` for ``identifiable`` and ``boundary_note``. On the CDNOW sample this
    gives FHL (2005)'s r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    """
    return _fit_transaction_model("bgnbd", summary, significance, max_relative_se)


def fit_pareto_nbd(
    summary: pd.DataFrame,
    *,
    significance: float = DEFAULT_SIGNIFICANCE,
    max_relative_se: float = DEFAULT_MAX_RELATIVE_SE,
) -> ModelFit:
    """Maximum-likelihood Pareto/NBD (r, alpha, s, beta) on ``summary`` (frequency, recency, T).

    On the CDNOW sample this gives r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669,
    LL = -9595.0 (Fader, Hardie & Lee 2005). Slower than :func:`fit_bgnbd` (no analytic
    gradient, and scipy's 2F1 is slow for arguments near 1): about 0.5 s of CPU on CDNOW and
    1.3 s on 4,338 Online Retail customers, but tens of seconds where the data push r or s
    towards infinity (nearly homogeneous purchase or dropout rates). BG/NBD is the model to
    show by default; this one is for comparison.
    """
    return _fit_transaction_model("pareto_nbd", summary, significance, max_relative_se)


def _repeat_spend(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "monetary_value" not in summary.columns or "frequency" not in summary.columns:
        raise ValueError("summary: needs the columns frequency and monetary_value (see rfm_summary)")
    repeat = summary[summary["frequency"] > 0]
    x = repeat["frequency"].to_numpy(dtype="float64")
    m = repeat["monetary_value"].to_numpy(dtype="float64")
    if not (np.isfinite(m).all() and (m > 0).all()):
        raise ValueError(
            "Gamma-Gamma needs a positive monetary_value for every repeat buyer; "
            f"{int((~(np.isfinite(m) & (m > 0))).sum())} repeat buyers have zero, negative or missing values"
        )
    return x, m


def fit_gamma_gamma(summary: pd.DataFrame, *, max_relative_se: float = DEFAULT_MAX_RELATIVE_SE) -> ModelFit:
    """Maximum-likelihood Gamma-Gamma (p, q, gamma) on the repeat buyers (frequency > 0).

    ``monetary_value`` must be the mean of the repeat purchases (:func:`rfm_summary`). On the
    946 CDNOW repeat buyers this gives p = 6.25, q = 3.74, gamma = 15.44 (Fader & Hardie 2013).
    Check the independence of spend and frequency with :func:`spend_frequency_independence`.
    When q <= 1 the population mean spend p gamma / (q - 1) is infinite: the note says so and
    :func:`expected_average_spend` is NaN for customers without repeat purchases.
    """
    started = time.perf_counter()
    x, m = _repeat_spend(summary)
    if len(x) < 2:
        raise ValueError(f"gamma_gamma: need at least 2 repeat buyers, got {len(x)}")
    scale = float(m.mean())
    (xs, ms), weights = _compress(x, m / scale)
    starts = [[1.1, 2.1, 1.1], [5.1, 3.1, 0.5], [0.5, 1.5, 0.5]]  # mean spend p gamma / (q-1) ~ 1
    log_theta, _, converged, message = _maximise(
        lambda th: _gamma_gamma_ll(th, xs, ms), weights, starts, grad=lambda th: _gamma_gamma_grad(th, xs, ms)
    )

    def total(log_th: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            return float(np.dot(weights, _gamma_gamma_ll(np.exp(log_th), xs, ms)))

    identifiable, log_se, notes = _identify(
        "gamma_gamma", log_theta, _log_hessian(total, log_theta), (), max_relative_se
    )
    theta = np.exp(log_theta) * np.array([1.0, 1.0, scale])
    params = dict(zip(PARAM_NAMES["gamma_gamma"], theta.tolist(), strict=True))
    if params["q"] <= 1.0:
        notes.insert(
            0,
            f"q = {params['q']:.3g} <= 1: the population mean spend is infinite (spend too heavy-tailed "
            "for the Gamma-Gamma model); expected spend is undefined for customers without repeat purchases",
        )
    details = {"spend_scale": scale}
    if params["q"] > 1.0:
        details["population_mean_spend"] = params["p"] * params["gamma"] / (params["q"] - 1.0)
    return ModelFit(
        model="gamma_gamma",
        params=params,
        log_likelihood=float(np.sum(_gamma_gamma_ll(theta, x, m))),
        n_customers=len(x),
        std_errors={
            n: float(v * se) for n, v, se in zip(PARAM_NAMES["gamma_gamma"], theta, log_se, strict=True)
        },
        identifiable=identifiable,
        boundary_note="; ".join(notes),
        converged=converged,
        optimizer_message=message,
        fit_seconds=time.perf_counter() - started,
        details=details,
    )


# --------------------------------------------------------------------------- predictions


def _require_transaction_fit(fit: ModelFit) -> None:
    if fit.model not in TRANSACTION_MODELS:
        raise ValueError(f"needs a BG/NBD or Pareto/NBD fit, got {fit.model}")


def _p_alive(model: str, theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", over="ignore"):
        if model == "bgnbd":
            r, alpha, a, b = theta
            repeat = x > 0
            log_odds = np.where(
                repeat,
                np.log(a)
                - np.log(np.where(repeat, b + x - 1.0, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
                -np.inf,
            )
            return np.exp(-np.logaddexp(0.0, log_odds))
        _, alive, died = _pareto_parts(theta, x, t_x, T)
        return np.exp(alive - np.logaddexp(alive, died))


def probability_alive(fit: ModelFit, summary: pd.DataFrame) -> pd.Series:
    """P(alive at T | x, t_x, T) per customer (index as ``summary``).

    BG/NBD: 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)); exactly 1
    for customers without repeat purchases (a BG/NBD customer can only leave right after a
    purchase). Pareto/NBD: the share of the likelihood from "still alive at T". Check
    ``fit.dropout_identifiable`` before showing it.
    """
    _require_transaction_fit(fit)
    x, t_x, T = _xtT(summary)
    p = _p_alive(fit.model, _theta(fit.params, fit.model), x, t_x, T)
    return pd.Series(p, index=summary.index, name="p_alive")


def _bgnbd_purchases_if_alive(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, T: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)], z = t/(alpha+T+t).

    The numerator of FHL (2005) eq. 10 (x = 0, T = 0 gives eq. 9, the population E[X(t)]).
    Evaluated after Euler's transformation,
    (1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z) with c = a+b+x-1,
    whose series converges at z = 1 and has no huge terms: the published form overflows for
    heavy buyers over long horizons, and the Pfaff form (argument -t/(alpha+T)) is inaccurate in
    scipy below -1. Within 1e-6 of a = 1 (0/0) the mean at a = 1 -/+ 2e-6 is used (smooth in a).
    """
    if abs(a - 1.0) < 1e-6:
        return 0.5 * (
            _bgnbd_purchases_if_alive(r, alpha, 1.0 - 2e-6, b, x, T, t)
            + _bgnbd_purchases_if_alive(r, alpha, 1.0 + 2e-6, b, x, T, t)
        )
    c = a + b + x - 1.0
    z = t / (alpha + T + t)
    series = _hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    log_power = (a - 1.0) * np.log1p(-z)
    # 1 - (1-z)^(a-1) F: through expm1 of a log for precision when F > 0; F is negative when
    # c = a + b + x - 1 < 0 (a + b < 1 and x = 0, as on Online Retail II), where the plain form is exact.
    with np.errstate(divide="ignore", invalid="ignore"):
        via_log = -np.expm1(log_power + np.log(series))
    return c / (a - 1.0) * np.where(series > 0, via_log, 1.0 - np.exp(log_power) * series)


def _pareto_purchases_if_alive(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, T: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """(r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]; the log at s = 1."""
    log_ratio = np.log(beta + T) - np.log(beta + T + t)
    lifetime = -log_ratio if abs(s - 1.0) < 1e-8 else -np.expm1((s - 1.0) * log_ratio) / (s - 1.0)
    return (r + x) * (beta + T) / (alpha + T) * lifetime


def expected_purchases(fit: ModelFit, summary: pd.DataFrame, t: float) -> pd.Series:
    """E[purchases in (T, T + t] | x, t_x, T] per customer, ``t`` in the summary's time unit.

    BG/NBD (FHL 2005, eq. 10):

        (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
        / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))

    (the denominator's reciprocal is P(alive); see :func:`_bgnbd_purchases_if_alive` for the
    numerically stable form). Pareto/NBD (Schmittlein et al. 1987):
    (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] x P(alive).
    On CDNOW, BG/NBD, x = 2, t_x = 30.43, T = 38.86, t = 39 weeks gives 1.226 (Fader & Hardie's
    Excel note).
    """
    _require_transaction_fit(fit)
    if not t >= 0:
        raise ValueError(f"t must be >= 0, got {t}")
    x, _, T = _xtT(summary)
    theta = _theta(fit.params, fit.model)
    alive = probability_alive(fit, summary).to_numpy()
    t_arr = np.full_like(T, float(t))
    if fit.model == "bgnbd":
        value = _bgnbd_purchases_if_alive(*theta, x, T, t_arr) * alive
    else:
        value = _pareto_purchases_if_alive(*theta, x, T, t_arr) * alive
    return pd.Series(value, index=summary.index, name="expected_purchases")


def expected_purchases_population(fit: ModelFit, t: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """E[X(t)]: expected repeat purchases of a new customer in (0, t] (no history conditioned on).

    BG/NBD (FHL 2005, eq. 9): (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))];
    Pareto/NBD: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]. Summed over a cohort's
    first-purchase dates this gives the tracking curve of cumulative repeat purchases.
    """
    _require_transaction_fit(fit)
    t_arr = np.atleast_1d(np.asarray(t, dtype="float64"))
    zeros = np.zeros_like(t_arr)
    theta = _theta(fit.params, fit.model)
    if fit.model == "bgnbd":
        return _bgnbd_purchases_if_alive(*theta, zeros, zeros, t_arr)
    return _pareto_purchases_if_alive(*theta, zeros, zeros, t_arr)


def expected_average_spend(fit: ModelFit, summary: pd.DataFrame) -> pd.Series:
    """Gamma-Gamma E[mean spend per transaction | x, mean spend] per customer.

    p (gamma + x m) / (p x + q - 1): a weighted mean of the population mean p gamma / (q - 1)
    and the customer's own mean m, the weight of m growing with x. Customers without repeat
    purchases get the population mean (NaN when q <= 1).
    """
    if fit.model != "gamma_gamma":
        raise ValueError(f"needs a Gamma-Gamma fit, got {fit.model}")
    p, q, gamma = _theta(fit.params, "gamma_gamma")
    x = summary["frequency"].to_numpy(dtype="float64")
    m = np.where(x > 0, summary["monetary_value"].to_numpy(dtype="float64"), 0.0)
    denominator = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(denominator > 0, p * (gamma + x * m) / denominator, np.nan)
    return pd.Series(value, index=summary.index, name="expected_average_spend")


def customer_lifetime_value(
    transaction_fit: ModelFit,
    spend_fit: ModelFit,
    summary: pd.DataFrame,
    *,
    time_unit: TimeUnit,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float | None = None,
) -> pd.Series:
    """Discounted expected revenue over the next ``months`` months, per customer.

    sum_{m=1..months} (E[Y(m k)] - E[Y((m-1) k)]) x E[spend] / (1 + d)^m, with k time units
    per month (``PERIODS_PER_MONTH[time_unit]`` unless ``periods_per_month`` is given), E[Y]
    from :func:`expected_purchases` and E[spend] from :func:`expected_average_spend`: the
    ``lifetimes`` ``customer_lifetime_value`` computation. Raises when the spend model has no
    finite mean (q <= 1).
    """
    _require_transaction_fit(transaction_fit)
    if months < 1:
        raise ValueError(f"months must be >= 1, got {months}")
    if monthly_discount_rate <= -1:
        raise ValueError(f"monthly_discount_rate must be > -1, got {monthly_discount_rate}")
    if time_unit not in PERIODS_PER_MONTH:
        raise ValueError(f"time_unit must be one of {', '.join(PERIODS_PER_MONTH)}, not {time_unit!r}")
    k = PERIODS_PER_MONTH[time_unit] if periods_per_month is None else float(periods_per_month)
    spend = expected_average_spend(spend_fit, summary)
    if spend.isna().any():
        raise ValueError(
            "The Gamma-Gamma fit gives no finite expected spend for some customers "
            f"({spend_fit.boundary_note or 'q <= 1'})"
        )
    clv = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for month in range(1, months + 1):
        cumulative = expected_purchases(transaction_fit, summary, month * k).to_numpy()
        clv += (cumulative - previous) * spend.to_numpy() / (1.0 + monthly_discount_rate) ** month
        previous = cumulative
    return pd.Series(clv, index=summary.index, name="clv")


# --------------------------------------------------------------------------- assumption check


@dataclass(frozen=True)
class IndependenceCheck:
    """Pearson correlation between frequency and mean spend among repeat buyers.

    The Gamma-Gamma model assumes the two are independent. ``flagged`` is True when
    |r| > ``threshold`` (:data:`DEFAULT_CORRELATION_THRESHOLD`); ``note`` says so in words.
    """

    r: float
    p_value: float
    n: int
    threshold: float
    flagged: bool
    note: str


def spend_frequency_independence(
    summary: pd.DataFrame, *, threshold: float = DEFAULT_CORRELATION_THRESHOLD
) -> IndependenceCheck:
    """Check the Gamma-Gamma independence assumption on the repeat buyers of ``summary``."""
    x, m = _repeat_spend(summary)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return IndependenceCheck(
            r=float("nan"),
            p_value=float("nan"),
            n=len(x),
            threshold=threshold,
            flagged=True,
            note=f"Cannot check: {len(x)} repeat buyers, or no variation in frequency or spend",
        )
    result = stats.pearsonr(x, m)
    r, p_value = float(result.statistic), float(result.pvalue)
    flagged = abs(r) > threshold
    if flagged:
        note = (
            f"Frequency and mean spend are correlated (Pearson r = {r:.2f}, p = {p_value:.2g}, "
            f"n = {len(x)}; |r| > {threshold:g}): the Gamma-Gamma independence assumption does not hold, "
            "so its expected spend and the CLV built on it are biased."
        )
    else:
        note = (
            f"Frequency and mean spend are nearly independent (Pearson r = {r:.2f}, p = {p_value:.2g}, "
            f"n = {len(x)}; |r| <= {threshold:g})."
        )
    return IndependenceCheck(r=r, p_value=p_value, n=len(x), threshold=threshold, flagged=flagged, note=note)
