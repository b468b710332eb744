"""rfm_helpers.analysis.predictive: published CDNOW fits, hand-computed summaries, known properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from rfm_helpers.analysis import predictive as P

CDNOW = Path(__file__).parent / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
PUBLISHED_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_PARETO_LL = -9595.0
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
"""Fader, Hardie & Lee (2005), Marketing Science and JMR; see tests/data/cdnow/README.md."""

REL = 0.005  # "within 0.5 %"


def _fit(model: str, params: dict[str, float]) -> P.ModelFit:
    """A ModelFit carrying given parameters (to evaluate formulas at published values)."""
    names = P.PARAM_NAMES[model]
    return P.ModelFit(
        model=model,
        params=params,
        log_likelihood=float("nan"),
        n_customers=0,
        std_errors=dict.fromkeys(names, float("nan")),
        identifiable=dict.fromkeys(names, True),
        boundary_note="",
        converged=True,
        optimizer_message="",
        fit_seconds=0.0,
    )


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The 2,357 CDNOW customers, columns renamed to the summary table's (times in weeks)."""
    raw = pd.read_csv(CDNOW)
    return raw.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def bgnbd_cdnow(cdnow) -> P.ModelFit:
    return P.fit_bgnbd(cdnow)


@pytest.fixture(scope="module")
def gamma_gamma_cdnow(cdnow) -> P.ModelFit:
    return P.fit_gamma_gamma(cdnow)


def test_cdnow_fixture(cdnow):
    assert len(cdnow) == 2357
    assert int((cdnow["frequency"] > 0).sum()) == 946
    assert cdnow["T"].max() == pytest.approx(38.86)


# --------------------------------------------------------------------------- BG/NBD


def test_bgnbd_reproduces_published_cdnow_fit(bgnbd_cdnow):
    fit = bgnbd_cdnow
    print(f"\nBG/NBD on CDNOW: {fit.params}, LL {fit.log_likelihood:.2f}, {fit.fit_seconds:.2f} s")
    assert fit.converged
    assert fit.n_customers == 2357
    for name, published in PUBLISHED_BGNBD.items():
        assert fit.params[name] == pytest.approx(published, rel=REL), name
    assert fit.log_likelihood == pytest.approx(PUBLISHED_BGNBD_LL, abs=0.05)
    # Real dropout on CDNOW: nothing at a boundary, nothing to warn about.
    assert fit.identifiable == {"r": True, "alpha": True, "a": True, "b": True}
    assert fit.dropout_identifiable and fit.all_identifiable
    assert fit.boundary_note == ""
    assert fit.no_dropout_lr > 100 and fit.no_dropout_p_value < 1e-10
    assert all(0 < se < fit.params[name] for name, se in fit.std_errors.items())


def test_bgnbd_log_likelihood_at_published_parameters(cdnow):
    # The likelihood alone, independently of the optimiser.
    total = P.bgnbd_log_likelihood(PUBLISHED_BGNBD, cdnow).sum()
    assert total == pytest.approx(PUBLISHED_BGNBD_LL, abs=0.5)


def test_bgnbd_conditional_expectation_matches_hardie(bgnbd_cdnow):
    # x = 2, t_x = 30.43, T = 38.86: 1.226 purchases expected in the next 39 weeks.
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert P.expected_purchases(bgnbd_cdnow, one, 39).iloc[0] == pytest.approx(1.226, abs=1e-3)
    assert P.expected_purchases(_fit("bgnbd", PUBLISHED_BGNBD), one, 39).iloc[0] == pytest.approx(
        1.226, abs=1e-3
    )


def test_bgnbd_population_expectation_matches_hardie(bgnbd_cdnow):
    times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    got = P.expected_purchases_population(bgnbd_cdnow, times)
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_bgnbd_expectation_equals_published_formula(cdnow):
    """The stable (Euler-transformed) form equals FHL eq. 10 as printed, where that is finite."""
    fit = _fit("bgnbd", {"r": 0.5, "alpha": 2.0, "a": 0.3, "b": 8.0})
    r, alpha, a, b = 0.5, 2.0, 0.3, 8.0
    x, t_x, T = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    for t in (1.0, 39.0, 78.0):
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        b_x = np.where(x > 0, b + x - 1, 1.0)
        denominator = 1 + (x > 0) * a / b_x * ((alpha + T) / (alpha + t_x)) ** (r + x)
        np.testing.assert_allclose(P.expected_purchases(fit, cdnow, t), numerator / denominator, rtol=1e-8)


def test_bgnbd_expectation_when_a_plus_b_is_below_1():
    """a + b < 1 (the Online Retail II calibration fit) makes c = a + b + x - 1 negative for
    x = 0 and the transformed series negative: the value is still FHL eq. 10, checked against
    its own hypergeometric series summed term by term."""
    r, alpha, a, b = 0.7794, 68.75, 0.006234, 0.9296
    summary = pd.DataFrame({"frequency": [0.0] * 3, "recency": [0.0] * 3, "T": [1.0, 136.0, 284.0]})
    got = P.expected_purchases(_fit("bgnbd", {"r": r, "alpha": alpha, "a": a, "b": b}), summary, 90.0)

    def series(z: float) -> float:  # 2F1(r, b; a+b-1; z), 400 terms (z < 0.6: converged)
        total, term = 0.0, 1.0
        for k in range(400):
            total += term
            term *= (r + k) * (b + k) / ((a + b - 1 + k) * (k + 1)) * z
        return total

    expected = [
        (a + b - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + 90)) ** r * series(90 / (alpha + T + 90)))
        for T in (1.0, 136.0, 284.0)
    ]
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got.iloc[0] > got.iloc[1] > got.iloc[2] > 0  # a longer silence, fewer expected orders


def test_bgnbd_expectation_continuous_at_a_equal_1(cdnow):
    # (a+b+x-1)/(a-1) is 0/0 at a = 1; the value there is the limit of its neighbours.
    at_one = P.expected_purchases(_fit("bgnbd", {"r": 0.3, "alpha": 4.0, "a": 1.0, "b": 2.0}), cdnow, 39)
    near = P.expected_purchases(_fit("bgnbd", {"r": 0.3, "alpha": 4.0, "a": 1.0001, "b": 2.0}), cdnow, 39)
    assert np.isfinite(at_one).all()
    np.testing.assert_allclose(at_one, near, rtol=1e-3)


def test_p_alive_is_one_without_repeat_purchases(bgnbd_cdnow):
    # BG/NBD: a customer can only drop out right after a repeat purchase.
    none = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [1.0, 38.86, 500.0]})
    assert (P.probability_alive(bgnbd_cdnow, none) == 1.0).all()


def test_p_alive_between_0_and_1_and_falls_with_time_since_last_purchase(bgnbd_cdnow, cdnow):
    p = P.probability_alive(bgnbd_cdnow, cdnow)
    assert ((p >= 0) & (p <= 1)).all()
    grid = pd.DataFrame({"frequency": 3, "recency": np.linspace(38.86, 1.0, 20), "T": 38.86})
    assert (np.diff(P.probability_alive(bgnbd_cdnow, grid)) < 0).all()


def test_expected_purchases_increase_with_frequency(bgnbd_cdnow):
    # Customers who bought just before the cut-off: more purchases, more expected.
    x = np.arange(0, 31)
    recent = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, 38.86, 0.0), "T": 38.86})
    assert (np.diff(P.expected_purchases(bgnbd_cdnow, recent, 39)) > 0).all()
    # ... but not when the last purchase was long ago: many purchases then silence means
    # the customer has probably left (FHL 2005's iso-value curves).
    early = pd.DataFrame({"frequency": [1, 10], "recency": [5.0, 5.0], "T": [38.86, 38.86]})
    e = P.expected_purchases(bgnbd_cdnow, early, 39)
    assert e.iloc[1] < e.iloc[0]


def test_expected_purchases_grow_with_horizon(bgnbd_cdnow, cdnow):
    short = P.expected_purchases(bgnbd_cdnow, cdnow, 10)
    long = P.expected_purchases(bgnbd_cdnow, cdnow, 52)
    assert (short >= 0).all() and (long > short).all()
    assert (P.expected_purchases(bgnbd_cdnow, cdnow, 0) == 0).all()


# --------------------------------------------------------------------------- Pareto/NBD


def test_pareto_nbd_reproduces_published_cdnow_fit(cdnow):
    fit = P.fit_pareto_nbd(cdnow)
    print(f"\nPareto/NBD on CDNOW: {fit.params}, LL {fit.log_likelihood:.2f}, {fit.fit_seconds:.2f} s")
    for name, published in PUBLISHED_PARETO.items():
        assert fit.params[name] == pytest.approx(published, rel=REL), name
    assert fit.log_likelihood == pytest.approx(PUBLISHED_PARETO_LL, abs=0.05)
    assert fit.all_identifiable and fit.boundary_note == ""
    p = P.probability_alive(fit, cdnow)
    assert ((p > 0) & (p <= 1)).all()
    e = P.expected_purchases(fit, cdnow, 39)
    assert (e > 0).all() and np.isfinite(e).all()


@pytest.mark.parametrize(
    "params",
    [
        (0.553, 10.578, 0.606, 11.669),  # CDNOW: alpha < beta, closed form
        (0.8, 0.3, 1e-5, 8e5),  # near the no-dropout limit: the series
        (0.5, 300.0, 2.0, 1.0),  # alpha > beta, integer s (scipy's 2F1 returns NaN there)
        (1.0, 5.0, 1.0, 5.0),  # alpha = beta
        (1.1, 14.0, 100.0, 4800.0),  # large s
    ],
)
def test_pareto_death_integral_matches_quadrature(params):
    r, alpha, s, beta = params
    x = np.array([0.0, 1.0, 2.0, 29.0, 131.0, 400.0])
    t_x = np.array([0.0, 0.5, 30.43, 20.0, 1.0, 5.0])
    T = np.array([38.86, 1.0, 38.86, 38.0, 374.0, 6.0])
    got = P._pareto_log_death_integral(r, alpha, s, beta, x, t_x, T)
    for i in range(len(x)):

        def log_f(tau, i=i):
            return -(r + x[i]) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau)

        peak = log_f(t_x[i])
        value, _ = integrate.quad(
            lambda tau, i=i, peak=peak: np.exp(log_f(tau) - peak),
            t_x[i],
            T[i],
            epsabs=0,
            epsrel=1e-12,
            limit=500,
            points=[t_x[i] + (T[i] - t_x[i]) * 1e-4, t_x[i] + (T[i] - t_x[i]) * 1e-2],
        )
        assert got[i] == pytest.approx(peak + np.log(value), abs=1e-7), i


def test_pareto_expectation_at_s_equal_1_is_the_limit(cdnow):
    at_one = P.expected_purchases(
        _fit("pareto_nbd", {"r": 0.5, "alpha": 10.0, "s": 1.0, "beta": 12.0}), cdnow, 39
    )
    near = P.expected_purchases(
        _fit("pareto_nbd", {"r": 0.5, "alpha": 10.0, "s": 1.0001, "beta": 12.0}), cdnow, 39
    )
    np.testing.assert_allclose(at_one, near, rtol=1e-3)


# --------------------------------------------------------------------------- boundary detection


def _simulate(n: int, r: float, alpha: float, dropout: tuple[float, float] | None, seed: int) -> pd.DataFrame:
    """Customers observed 26-52 weeks after their first purchase; purchase rates ~ Gamma(r, alpha).

    ``dropout=None``: Poisson buyers who never leave (x ~ Poisson(lambda T), the last purchase
    the maximum of x uniform times). ``dropout=(a, b)``: BG/NBD, leaving after each repeat
    purchase with probability p ~ Beta(a, b).
    """
    rng = np.random.default_rng(seed)
    T = rng.uniform(26.0, 52.0, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    if dropout is None:
        x = rng.poisson(lam * T)
        t_x = np.where(x > 0, T * rng.random(n) ** (1.0 / np.maximum(x, 1)), 0.0)
    else:
        p = rng.beta(*dropout, n)
        x = np.zeros(n, dtype=int)
        t_x = np.zeros(n)
        for i in range(n):
            t = rng.exponential(1.0 / lam[i])
            while t <= T[i]:
                x[i] += 1
                t_x[i] = t
                if rng.random() < p[i]:
                    break
                t += rng.exponential(1.0 / lam[i])
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


@pytest.fixture(scope="module")
def never_leave() -> pd.DataFrame:
    return _simulate(2000, r=0.8, alpha=8.0, dropout=None, seed=0)


def test_bgnbd_flags_dropout_on_buyers_who_never_leave(never_leave):
    fit = P.fit_bgnbd(never_leave)
    print(f"\nBG/NBD, no dropout: {fit.params}; {fit.boundary_note}")
    assert not fit.identifiable["a"] and not fit.identifiable["b"]
    assert not fit.dropout_identifiable
    assert fit.identifiable["r"] and fit.identifiable["alpha"]  # the purchase process is fine
    assert fit.no_dropout_p_value >= 0.05
    assert fit.details["mean_dropout_probability"] < 0.01
    assert "not identifiable" in fit.boundary_note and "P(alive)" in fit.boundary_note
    # The flat column the note warns about.
    assert P.probability_alive(fit, never_leave).min() > 0.99
    assert fit.details["share_p_alive_at_least_0_99"] == 1.0
    assert fit.params["r"] == pytest.approx(0.8, rel=0.15)


def test_a_fit_ending_on_the_no_dropout_ridge_is_not_retried_with_nelder_mead(monkeypatch):
    """On buyers who never leave the likelihood rises towards the no-dropout limit without a
    maximum. On this sample (seed 1) a BG/NBD start runs out of evaluations on that ridge: the
    end is the answer (the limit's likelihood), not a failure to retry with Nelder-Mead, which
    spent 119,000 evaluations and 79 s there on 7,590 synthetic customers."""
    runs = []
    minimize = P.optimize.minimize

    def recorded(*args, method=None, **kwargs):
        result = minimize(*args, method=method, **kwargs)
        runs.append((method, bool(result.success)))
        return result

    monkeypatch.setattr(P.optimize, "minimize", recorded)
    fit = P.fit_bgnbd(_simulate(2000, r=0.8, alpha=8.0, dropout=None, seed=1))
    assert ("TNC", False) in runs  # the case this test is about did happen
    assert "Nelder-Mead" not in {method for method, _ in runs}
    assert fit.converged and not fit.dropout_identifiable
    assert fit.log_likelihood >= fit.details["no_dropout_log_likelihood"] - 0.05  # the limit, or above


def test_pareto_nbd_flags_dropout_on_buyers_who_never_leave(never_leave):
    fit = P.fit_pareto_nbd(never_leave)
    assert not fit.identifiable["s"] and not fit.identifiable["beta"]
    assert fit.identifiable["r"] and fit.identifiable["alpha"]
    assert "not identifiable" in fit.boundary_note


def test_bgnbd_dropout_identified_when_customers_leave():
    data = _simulate(2000, r=0.5, alpha=5.0, dropout=(1.0, 3.0), seed=1)
    fit = P.fit_bgnbd(data)
    assert fit.all_identifiable and fit.boundary_note == ""
    assert fit.no_dropout_p_value < 1e-6
    assert fit.details["mean_dropout_probability"] == pytest.approx(0.25, abs=0.05)


# --------------------------------------------------------------------------- Gamma-Gamma and CLV


def test_gamma_gamma_reproduces_published_cdnow_fit(gamma_gamma_cdnow):
    fit = gamma_gamma_cdnow
    print(f"\nGamma-Gamma on CDNOW: {fit.params}, {fit.fit_seconds:.2f} s")
    assert fit.n_customers == 946
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert fit.params[name] == pytest.approx(published, rel=REL), name
    assert fit.all_identifiable and fit.boundary_note == ""


def test_expected_average_spend(gamma_gamma_cdnow, cdnow):
    p, q, gamma = (gamma_gamma_cdnow.params[k] for k in ("p", "q", "gamma"))
    population = p * gamma / (q - 1)
    spend = P.expected_average_spend(gamma_gamma_cdnow, cdnow)
    np.testing.assert_allclose(spend[cdnow["frequency"] == 0], population, rtol=1e-12)
    # A weighted mean of the population mean and the customer's own mean ...
    repeat = cdnow["frequency"] > 0
    own = cdnow.loc[repeat, "monetary_value"]
    low, high = np.minimum(own, population), np.maximum(own, population)
    assert ((spend[repeat] >= low - 1e-9) & (spend[repeat] <= high + 1e-9)).all()
    # ... whose own part weighs more with more transactions.
    two = pd.DataFrame({"frequency": [1, 20], "monetary_value": [100.0, 100.0]})
    s = P.expected_average_spend(gamma_gamma_cdnow, two)
    assert population < s.iloc[0] < s.iloc[1] < 100.0


def test_independence_check_on_cdnow(cdnow):
    check = P.spend_frequency_independence(cdnow)
    assert check.n == 946
    assert check.r == pytest.approx(0.114, abs=0.001)  # FHL (2005) report 0.11
    assert 0 < check.p_value < 0.001  # "significant" yet negligible: not flagged
    assert not check.flagged and check.threshold == 0.3


def test_independence_check_flags_correlated_spend():
    x = np.arange(1, 101)
    summary = pd.DataFrame({"frequency": x, "recency": 1.0, "T": 2.0, "monetary_value": 10.0 + 2.0 * x})
    check = P.spend_frequency_independence(summary)
    assert check.flagged and check.r > 0.99 and "does not hold" in check.note


def test_clv_is_discounted_expected_purchases_times_spend(bgnbd_cdnow, gamma_gamma_cdnow, cdnow):
    sample = cdnow.iloc[:50]
    clv = P.customer_lifetime_value(
        bgnbd_cdnow, gamma_gamma_cdnow, sample, time_unit="weeks", months=3, monthly_discount_rate=0.01
    )
    spend = P.expected_average_spend(gamma_gamma_cdnow, sample)
    k = 4.345  # weeks per month, lifetimes' constant
    cumulative = [P.expected_purchases(bgnbd_cdnow, sample, m * k) for m in (1, 2, 3)]
    by_hand = (
        cumulative[0] * spend / 1.01
        + (cumulative[1] - cumulative[0]) * spend / 1.01**2
        + (cumulative[2] - cumulative[1]) * spend / 1.01**3
    )
    np.testing.assert_allclose(clv, by_hand, rtol=1e-12)
    undiscounted = P.customer_lifetime_value(
        bgnbd_cdnow, gamma_gamma_cdnow, sample, time_unit="weeks", months=3, monthly_discount_rate=0.0
    )
    np.testing.assert_allclose(undiscounted, cumulative[2] * spend, rtol=1e-12)
    assert (undiscounted > clv).all()
    longer = P.customer_lifetime_value(bgnbd_cdnow, gamma_gamma_cdnow, sample, time_unit="weeks", months=12)
    assert (longer > clv).all()


# --------------------------------------------------------------------------- summary tables


@pytest.fixture
def transactions() -> pd.DataFrame:
    rows = [
        # A: two rows on 01-01 are one purchase (15); repeats 01-08 (20) and 01-22 (40).
        ("A", "2011-01-01 10:00", 10.0),
        ("A", "2011-01-01 15:00", 5.0),
        ("A", "2011-01-08 09:00", 20.0),
        ("A", "2011-01-22 18:30", 40.0),
        ("A", "2011-02-05 12:00", 99.0),  # after the cut-off
        # B: one purchase.
        ("B", "2011-01-10 08:00", 7.5),
        ("B", "2011-02-10 08:00", 3.0),  # after the cut-off: one holdout day of 7
        ("B", "2011-02-10 17:00", 4.0),
        ("B", "2011-02-20 11:00", 5.0),
        ("B", "2011-03-01 11:00", 50.0),  # after the observation end
        # C: the repeat purchase is on the cut-off day itself (included).
        ("C", "2011-01-15 12:00", 12.0),
        ("C", "2011-01-31 23:59", 8.0),
        # D: first purchase after the cut-off, absent from the summary.
        ("D", "2011-02-02 10:00", 30.0),
    ]
    customer, date, revenue = zip(*rows, strict=True)
    return pd.DataFrame({"customer_id": customer, "date": pd.to_datetime(list(date)), "revenue": revenue})


def test_rfm_summary_by_hand(transactions):
    summary = P.rfm_summary(transactions, "2011-01-31")
    assert summary.columns.tolist() == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert summary["customer_id"].tolist() == ["A", "B", "C"]
    # A: days 01-01, 01-08, 01-22 -> 2 repeats, last - first = 21, cut-off - first = 30,
    #    mean of the repeats (20 + 40) / 2 = 30.
    # B: a single purchase on 01-10 -> 0, 0, 21, 0.
    # C: 01-15 and 01-31 -> 1, 16, 16, 8.
    assert summary["frequency"].tolist() == [2, 0, 1]
    assert summary["recency"].tolist() == [21.0, 0.0, 16.0]
    assert summary["T"].tolist() == [30.0, 21.0, 16.0]
    assert summary["monetary_value"].tolist() == [30.0, 0.0, 8.0]


def test_rfm_summary_in_weeks(transactions):
    weeks = P.rfm_summary(transactions, pd.Timestamp("2011-01-31 08:00"), time_unit="weeks")
    np.testing.assert_allclose(weeks["recency"], [3.0, 0.0, 16 / 7])
    np.testing.assert_allclose(weeks["T"], [30 / 7, 3.0, 16 / 7])
    assert weeks["frequency"].tolist() == [2, 0, 1]


def test_rfm_summary_other_column_names(transactions):
    renamed = transactions.rename(
        columns={"customer_id": "cust", "date": "invoice_date", "revenue": "amount"}
    )
    summary = P.rfm_summary(
        renamed, "2011-01-31", customer_col="cust", date_col="invoice_date", revenue_col="amount"
    )
    pd.testing.assert_frame_equal(summary, P.rfm_summary(transactions, "2011-01-31"))


def test_rfm_summary_errors(transactions):
    with pytest.raises(ValueError, match="revenue"):
        P.rfm_summary(transactions.drop(columns="revenue"), "2011-01-31")
    with pytest.raises(ValueError, match="time_unit"):
        P.rfm_summary(transactions, "2011-01-31", time_unit="months")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="No transactions"):
        P.rfm_summary(transactions, "2010-12-31")


def test_calibration_holdout_summary(transactions):
    table = P.calibration_holdout_summary(transactions, "2011-01-31", "2011-02-28")
    calibration = P.rfm_summary(transactions, "2011-01-31")
    pd.testing.assert_frame_equal(table[calibration.columns], calibration)
    # A: 02-05 (99); B: 02-10 (3 + 4) and 02-20 (5), 03-01 is after the end; C: nothing.
    assert table["frequency_holdout"].tolist() == [1, 2, 0]
    assert table["monetary_value_holdout"].tolist() == [99.0, 6.0, 0.0]
    assert (table["duration_holdout"] == 28.0).all()
    with pytest.raises(ValueError, match="after"):
        P.calibration_holdout_summary(transactions, "2011-01-31", "2011-01-31")


def test_summary_validation():
    bad = pd.DataFrame({"frequency": [1], "recency": [5.0], "T": [4.0]})
    with pytest.raises(ValueError, match="recency > T"):
        P.fit_bgnbd(pd.concat([bad, bad]))
    with pytest.raises(ValueError, match="frequency 0"):
        P.probability_alive(
            _fit("bgnbd", PUBLISHED_BGNBD), pd.DataFrame({"frequency": [0], "recency": [1.0], "T": [4.0]})
        )
    with pytest.raises(ValueError, match="positive monetary_value"):
        P.fit_gamma_gamma(
            pd.DataFrame({"frequency": [1, 2], "recency": [1.0, 2.0], "T": 3.0, "monetary_value": [0.0, 5.0]})
        )
