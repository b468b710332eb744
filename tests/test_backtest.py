"""rfm_helpers.analysis.backtest: hand-worked small cases, then the backtest of the default run
on the real data (data/raw/online_retail.parquet, params/default.yaml)."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from rfm_helpers.analysis import backtest, clustering, predictive
from rfm_helpers.config import load_config
from rfm_helpers.data import reference
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.sql import transactions

REFERENCE = PROJECT_ROOT / "data" / "reference"


# --- Wilson interval ---------------------------------------------------------------------------


def test_wilson_interval_of_8_in_10():
    # z = 1.959964, z² = 3.841459; n = 10, p = 0.8:
    # centre = (0.8 + 0.192073) / 1.384146 = 0.716740
    # half   = 1.959964 / 1.384146 * sqrt(0.016 + 0.0096036) = 1.416002 * 0.160012 = 0.226577
    low, high = backtest.wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-6)
    assert high == pytest.approx(0.943318, abs=1e-6)
    z = backtest.Z_95
    centre = (0.8 + z**2 / 20) / (1 + z**2 / 10)
    half = z / (1 + z**2 / 10) * math.sqrt(0.8 * 0.2 / 10 + z**2 / 400)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-15)


def test_wilson_interval_edges():
    assert backtest.wilson_interval(0, 10)[0] == 0.0 and backtest.wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in backtest.wilson_interval(0, 0))
    with pytest.raises(ValueError, match="within 0..3"):
        backtest.wilson_interval(4, 3)


# --- outcomes by group -------------------------------------------------------------------------


def _scored(groups: list[str], categories: list[str], by: str = "group") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(len(groups))],
            by: pd.Categorical(groups, categories=categories, ordered=True),
        }
    )


def test_outcomes_by_group_by_hand():
    # G1: 10 customers, 8 ordered (2 orders each, £10 per order); G2: 5 customers, 1 ordered
    # (3 orders, £60); G3: nobody. Overall 9 / 15 = 0.6 ordered again.
    scored = _scored(["G1"] * 10 + ["G2"] * 5, ["G1", "G2", "G3"])
    ids = scored["customer_id"]
    holdout = pd.DataFrame(
        {
            "customer_id": ids,
            "orders": [2] * 8 + [0, 0] + [3, 0, 0, 0, 0],
            "purchase_days": [1] * 8 + [0, 0] + [2, 0, 0, 0, 0],
            "revenue": [20.0] * 8 + [0.0, 0.0] + [60.0, 0.0, 0.0, 0.0, 0.0],
        }
    ).iloc[:-1]  # the last customer is not listed: counted as no order
    out = backtest.outcomes_by(scored, holdout, "group").set_index("group")
    assert out["customers"].tolist() == [10, 5, 0]
    assert out["ordered"].tolist() == [8, 1, 0]
    assert out.loc["G1", "repeat_share"] == pytest.approx(0.8)
    assert out.loc["G2", "repeat_share"] == pytest.approx(0.2)
    assert (out.loc["G1", "share_low"], out.loc["G1", "share_high"]) == pytest.approx(
        (0.490162, 0.943318), abs=1e-6
    )
    assert out.loc["G1", "orders_per_customer"] == pytest.approx(1.6)  # 16 / 10
    assert out.loc["G2", "revenue_per_customer"] == pytest.approx(12.0)  # 60 / 5
    assert out.loc["G1", "lift"] == pytest.approx(0.8 / 0.6)
    assert out.loc["G2", "lift"] == pytest.approx(0.2 / 0.6)
    assert out.loc["G3", ["repeat_share", "share_low", "lift"]].isna().all()
    assert out.attrs == {"overall_share": pytest.approx(0.6), "customers": 15, "ordered": 9}
    # G1 orders: eight 2s and two 0s: mean 1.6, s² = (8 * 0.16 + 2 * 2.56) / 9 = 6.4 / 9,
    # half-width 1.959964 * 0.843274 / sqrt(10) = 0.522657.
    assert (out.loc["G1", "orders_low"], out.loc["G1", "orders_high"]) == pytest.approx(
        (1.6 - 0.522657, 1.6 + 0.522657), abs=1e-6
    )
    # G2 revenue: 60, 0, 0, 0, 0: mean 12, s² = (48² + 4 * 12²) / 4 = 720, s = 26.832816,
    # half-width 1.959964 * 26.832816 / sqrt(5) = 23.519568; no revenue is negative, so the
    # lower bound -11.52 becomes 0.
    assert (out.loc["G2", "revenue_low"], out.loc["G2", "revenue_high"]) == pytest.approx(
        (0.0, 12 + 23.519568), abs=1e-5
    )
    assert out.loc["G3", ["orders_low", "revenue_high"]].isna().all()


def test_mean_interval_needs_two_values():
    assert all(math.isnan(v) for v in backtest.mean_interval([5.0]))
    assert backtest.mean_interval([3.0, 3.0, 3.0]) == (3.0, 3.0)
    # A negative value (net returns) keeps the lower bound as computed: mean 0, s = sqrt(2),
    # n = 2, half-width z * sqrt(2) / sqrt(2) = z.
    low, high = backtest.mean_interval([-1.0, 1.0])
    assert (low, high) == pytest.approx((-backtest.Z_95, backtest.Z_95))


# --- ranking quality ---------------------------------------------------------------------------


def test_auc_by_hand_with_ties():
    # Positives score 0.9, 0.8, 0.1; negatives 0.8, 0.3. Pairs (positive above negative):
    # 0.9: 1 + 1; 0.8: 0.5 (tie) + 1; 0.1: 0 + 0 -> 3.5 of 6.
    scores = [0.9, 0.8, 0.8, 0.3, 0.1]
    ordered = [True, False, True, False, True]
    assert backtest.auc(scores, ordered) == pytest.approx(3.5 / 6)
    assert backtest.auc(scores, ordered) == pytest.approx(roc_auc_score(ordered, scores))
    assert math.isnan(backtest.auc([1, 2], [True, True]))


def test_auc_matches_sklearn_on_random_ties():
    rng = np.random.default_rng(12)
    scores = rng.integers(3, 16, size=500)  # an R+F+M sum: many ties
    ordered = rng.random(500) < 0.3 + 0.03 * (scores - 3)
    assert backtest.auc(scores, ordered) == pytest.approx(roc_auc_score(ordered, scores), abs=1e-12)


def test_top_capture_by_hand():
    scores = [9, 8, 7, 7, 7, 5, 4, 3, 2, 1]
    ordered = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 1], dtype=bool)  # 4 buyers
    # Top 10 % = 1 customer (score 9, a buyer): 1 of 4.
    assert backtest.top_capture(scores, ordered) == pytest.approx(0.25)
    # Top 30 % = 3 places: 9 and 8 (1 buyer) and 1 of the three 7s (1 buyer among them): 1 + 1/3.
    assert backtest.top_capture(scores, ordered, share=0.3) == pytest.approx((1 + 1 / 3) / 4)


# --- migration ---------------------------------------------------------------------------------


def _segmented(rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(rows),
            "segment": pd.Categorical(list(rows.values()), categories=["A", "B", "C"], ordered=True),
        }
    )


def test_migration_matrix_by_hand():
    then = _segmented({"c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": "C", "c6": "C", "c7": "A"})
    now = _segmented({"c1": "A", "c2": "B", "c3": "B", "c4": "C", "c5": "C", "c8": "A", "c9": "C"})
    result = backtest.migration(then, now)
    expected = pd.DataFrame(
        [[1, 1, 0, 1], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 1, 0]],
        index=pd.Index(["A", "B", "C", "new"], name="segment_then"),
        columns=pd.Index(["A", "B", "C", "gone"], name="segment_now"),
    )
    pd.testing.assert_frame_equal(result.counts, expected)
    assert result.shares.loc["A"].tolist() == pytest.approx([1 / 3, 1 / 3, 0, 1 / 3])
    assert result.shares.loc["B"].tolist() == pytest.approx([0, 0.5, 0.5, 0])
    assert result.shares.loc["new"].tolist() == pytest.approx([0.5, 0, 0.5, 0])


def test_fallen_uses_the_reference_groups():
    playbook = pd.read_csv(REFERENCE / "group_playbook.csv")
    groups = pd.read_csv(REFERENCE / "segment_groups.csv")
    valuable, at_risk = backtest.groups_by_priority(playbook)
    assert set(valuable) | set(at_risk) <= set(groups["group"])
    assert valuable == playbook.loc[playbook["priority"] == 1, "group"].tolist()
    assert at_risk == playbook.loc[playbook["priority"] == 2, "group"].tolist()
    order = groups["group"].drop_duplicates().tolist()
    segment_of = groups.groupby("group", sort=False)["segment"].first()
    v, r, other = valuable[0], at_risk[0], order[-1]

    def frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "customer_id": [c for c, _, _ in rows],
                "segment": [segment_of[g] for _, g, _ in rows],
                "group": pd.Categorical([g for _, g, _ in rows], categories=order, ordered=True),
                "recency": 40,
                "frequency": 3,
                "monetary": [m for _, _, m in rows],
            }
        )

    then = frame([("a", v, 100.0), ("b", v, 200.0), ("c", r, 50.0), ("d", v, 10.0)])
    now = frame([("a", r, 110.0), ("b", r, 300.0), ("c", r, 60.0), ("d", other, 10.0)])
    out = backtest.fallen(then, now, valuable, at_risk)
    assert out["customer_id"].tolist() == ["b", "a"]  # highest monetary now first
    assert out["group_then"].astype(str).tolist() == [v, v]
    assert out["monetary_then"].tolist() == [200.0, 100.0]
    with pytest.raises(ValueError, match="unknown groups: VIP"):
        backtest.fallen(then, now, ["VIP"], at_risk)


# --- predictions -------------------------------------------------------------------------------


def _fit(model: str, params: dict[str, float], identifiable: bool, note: str = "") -> predictive.ModelFit:
    return predictive.ModelFit(
        model=model,
        params=params,
        log_likelihood=0.0,
        n_customers=3,
        std_errors=dict.fromkeys(params, 0.1),
        identifiable={name: identifiable for name in params},
        boundary_note=note,
        converged=True,
        optimizer_message="",
        fit_seconds=0.0,
    )


SUMMARY = pd.DataFrame(
    {
        "customer_id": ["x", "y", "z"],
        "frequency": [0, 2, 6],
        "recency": [0.0, 30.0, 200.0],
        "T": [50.0, 100.0, 210.0],
        "monetary_value": [0.0, 40.0, 25.0],
    }
)
BGNBD = {"r": 0.8, "alpha": 60.0, "a": 0.5, "b": 3.0}
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}


def test_predictions_follow_the_models():
    fit = _fit("bgnbd", BGNBD, True)
    gg = _fit("gamma_gamma", GAMMA_GAMMA, True)
    out = backtest.predictions(SUMMARY, fit, gg, horizon_days=90, monthly_discount_rate=0.01)
    expected_orders = predictive.expected_purchases(fit, SUMMARY, 90.0)
    assert out["expected_orders"].tolist() == pytest.approx(expected_orders.tolist())
    assert out["p_alive"].tolist() == pytest.approx(predictive.probability_alive(fit, SUMMARY).tolist())
    clv = predictive.customer_lifetime_value(
        fit, gg, SUMMARY, time_unit="days", months=3, monthly_discount_rate=0.01
    )
    assert out["expected_value"].tolist() == pytest.approx(clv.tolist())
    # Undiscounted, the value is spend x expected orders; the discount makes it a little less.
    undiscounted = out["expected_spend"] * out["expected_orders"]
    assert ((out["expected_value"] < undiscounted) & (out["expected_value"] > undiscounted / 1.01**3)).all()
    assert out.attrs["p_alive_identifiable"] and out.attrs["value_note"] == ""
    assert out.attrs["independence"].n == 2


def test_predictions_hide_p_alive_when_dropout_is_not_identifiable():
    note = "Dropout (a, b) is not identifiable on these data"
    fit = _fit("bgnbd", BGNBD, False, note)
    heavy = _fit("gamma_gamma", {"p": 6.0, "q": 0.8, "gamma": 15.0}, True)
    out = backtest.predictions(SUMMARY, fit, heavy, horizon_days=45, monthly_discount_rate=0.01)
    assert out["p_alive"].isna().all() and not out.attrs["p_alive_identifiable"]
    assert out.attrs["p_alive_note"] == note
    assert out["expected_orders"].notna().all()
    assert out["expected_value"].isna().all() and "no finite expected spend" in out.attrs["value_note"]
    assert backtest.predictions(SUMMARY, fit, None, 30, 0.01)["expected_value"].isna().all()


# --- the default run on the real data ----------------------------------------------------------


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The cleaning step of params/default.yaml on data/raw/online_retail.parquet, into a
    temporary RFM_OUTPUT_ROOT; its config, marts and the build time."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RFM_OUTPUT_ROOT", str(tmp_path_factory.mktemp("out")))
        cfg = load_config(PROJECT_ROOT / "params" / "default.yaml")
        non_product = reference.load_non_product_codes(cfg.reference.non_product_codes)
        flagged = reference.load_flagged_descriptions(cfg.reference.flagged_descriptions)
        started = time.perf_counter()
        transactions.build(cfg, non_product, flagged)
        seconds = time.perf_counter() - started
        yield cfg, transactions.Marts.for_run(cfg), seconds


def _format(table: pd.DataFrame) -> str:
    return table.to_string(index=False, float_format=lambda v: f"{v:.3f}")


@pytest.mark.slow
def test_backtest_of_the_default_run(default_run):
    cfg, marts, build_seconds = default_run
    assert marts.has_backtest() and marts.backtest_note() is None
    cutoff, end = marts.backtest_window()
    assert (cutoff, end) == (pd.Timestamp("2011-09-11"), pd.Timestamp("2011-12-10"))
    segment_table = reference.load_segment_table(cfg.reference.segments)
    groups = reference.load_segment_groups(cfg.reference.segment_groups, segment_table["segment"].unique())
    then = backtest.score_at_cutoff(marts.customers_calibration(), cfg.rfm, segment_table, groups)
    now = backtest.score_at_cutoff(marts.customer_metrics(), cfg.rfm, segment_table, groups)
    holdout = marts.holdout()
    assert len(then) == len(holdout) == len(marts.btyd_calibration())

    by_group = backtest.outcomes_by(then, holdout, "group")
    table = by_group[["group", "customers", "repeat_share", "share_low", "share_high", "lift"]]
    shares = by_group.set_index("group")["repeat_share"]
    valuable, at_risk = backtest.groups_by_priority(pd.read_csv(cfg.reference.group_playbook))

    started = time.perf_counter()
    fit = backtest.fit_model(marts.btyd_calibration(), cfg.predict.model)
    fit_seconds = time.perf_counter() - started
    ranking = backtest.ranking_quality(then, holdout, marts.btyd_calibration(), fit, cfg.predict.holdout_days)
    moves = backtest.migration(then, now, "group")
    fell = backtest.fallen(then, now, valuable, at_risk)
    report = (
        f"\nBacktest {cutoff.date()} -> {end.date()} (build {build_seconds:.1f} s), "
        f"overall repeat share {by_group.attrs['overall_share']:.3f} "
        f"of {by_group.attrs['customers']} customers\n"
        f"{_format(table)}\n\n{_format(ranking)}\n{fit.model} fit on btyd_calibration: {fit_seconds:.2f} s "
        f"(params {', '.join(f'{k}={v:.3g}' for k, v in fit.params.items())}; "
        f"identifiable: {fit.all_identifiable}; {fit.boundary_note or 'no boundary note'})\n\n"
        f"Group migration (customers):\n{moves.counts.to_string()}\n"
        f"Fell from {valuable} to {at_risk}: {len(fell)} customers\n"
    )
    print(report)
    assert shares[valuable].min() > shares[at_risk].max(), report
    assert shares[valuable[0]] > by_group.attrs["overall_share"] > shares.iloc[-1], report
    assert (ranking["auc"] > 0.6).all() and (ranking["top_decile_capture"] > 0.1).all(), report
    assert int(moves.counts.loc["new"].sum()) == len(set(now["customer_id"]) - set(then["customer_id"]))
    assert int(moves.counts.sum().sum()) == len(set(now["customer_id"]) | set(then["customer_id"]))
    assert len(fell) > 0 and fell["group_now"].astype(str).isin(at_risk).all(), report

    # Clusters fitted now, customers placed as of the cutoff: the cluster values order (1 = most
    # valuable) is the order of who ordered again, Dormant last.
    ccfg = cfg.clustering
    X, _scaler = clustering.prepare_features(now, ccfg.features, ccfg.log_transform)
    labels, _centroids = clustering.fit_clusters(X, ccfg.k, ccfg.random_state, ccfg.n_init, ccfg.features)
    names = clustering.name_clusters(now, labels, ccfg.features, cfg.report.recent_days, k=ccfg.k)
    clustered = now.assign(cluster=labels, cluster_name=pd.Categorical.from_codes(labels - 1, names))
    placed = backtest.clusters_at_cutoff(then, clustered, ccfg)
    by_cluster = backtest.outcomes_by(placed, holdout, "cluster_name")
    print(
        _format(by_cluster[["cluster_name", "customers", "repeat_share", "share_low", "share_high", "lift"]])
    )
    assert by_cluster["customers"].sum() == len(then)
    assert by_cluster["repeat_share"].is_monotonic_decreasing, by_cluster
    assert clustering.base_name(str(by_cluster["cluster_name"].iloc[-1])) == clustering.DORMANT


@pytest.mark.slow
def test_predictions_of_the_default_run(default_run):
    cfg, marts, _ = default_run
    btyd = marts.btyd()
    assert len(btyd) == len(marts.customer_metrics())
    started = time.perf_counter()
    fit = backtest.fit_model(btyd, cfg.predict.model)
    gg = predictive.fit_gamma_gamma(btyd)
    seconds = time.perf_counter() - started
    out = backtest.predictions(btyd, fit, gg, cfg.predict.horizon_days, cfg.predict.monthly_discount_rate)
    report = (
        f"\nPredictions over {cfg.predict.horizon_days} days ({seconds:.2f} s to fit {fit.model} and "
        f"Gamma-Gamma): expected orders {out['expected_orders'].sum():,.0f}, expected value "
        f"£{out['expected_value'].sum():,.0f}; P(alive) identifiable: {out.attrs['p_alive_identifiable']}; "
        f"{out.attrs['independence'].note}"
    )
    print(report)
    assert out["customer_id"].tolist() == btyd["customer_id"].tolist()
    assert (out["expected_orders"] >= 0).all() and (out["expected_value"] >= 0).all(), report
    if out.attrs["p_alive_identifiable"]:
        assert out["p_alive"].between(0, 1).all(), report
    else:
        assert out["p_alive"].isna().all() and out.attrs["p_alive_note"], report
