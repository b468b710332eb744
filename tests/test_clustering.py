"""prepare_features, elbow_table, fit_clusters, name_clusters / name_claims, cluster_profile.

The naming fixtures reproduce the cluster medians of the real runs (issue 10): the expected
names are worked out by hand from the rules in :func:`name_clusters`, never by calling it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from rfm_helpers.analysis import clustering
from rfm_helpers.analysis.clustering import (
    VOCABULARY,
    base_name,
    cluster_medians,
    cluster_profile,
    elbow_rows,
    elbow_table,
    fit_clusters,
    name_claims,
    name_clusters,
    naming_table,
    prepare_features,
    silhouette_scorer,
    tier_size,
    tiers,
)

FEATURES = ["recency", "frequency", "monetary"]


@pytest.fixture(scope="module")
def blobs() -> pd.DataFrame:
    """Three well-separated groups of 40 customers: best (recent, frequent, big spenders),
    middle, worst (lapsed, one order, small spend)."""
    rng = np.random.default_rng(7)
    centres = {"best": (5, 30, 5000.0), "middle": (60, 5, 800.0), "worst": (300, 1, 50.0)}
    parts = []
    for blob, (r, f, m) in centres.items():
        n = 40
        parts.append(
            pd.DataFrame(
                {
                    "blob": blob,
                    "recency": np.maximum(0, r + rng.integers(-3, 4, n)),
                    "frequency": np.maximum(1, f + rng.integers(-1, 2, n)),
                    "monetary": m * rng.uniform(0.9, 1.1, n),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_prepare_features(blobs):
    X, scaler = prepare_features(blobs, FEATURES, log_transform=True)
    assert X.shape == (120, 3)
    assert X.mean(axis=0) == pytest.approx([0, 0, 0], abs=1e-12)
    assert X.std(axis=0) == pytest.approx([1, 1, 1])
    # second method: log1p then z-score by hand (population SD, as StandardScaler)
    logged = np.log1p(blobs["monetary"])
    assert X[:, 2] == pytest.approx((logged - logged.mean()) / logged.std(ddof=0))
    assert list(scaler.feature_names_in_) == FEATURES


def test_prepare_features_errors(blobs):
    with pytest.raises(ValueError, match="frequency_charged"):
        prepare_features(blobs, ["recency", "frequency_charged"], log_transform=True)
    with pytest.raises(ValueError, match="monetary"):
        prepare_features(blobs.assign(monetary=-1.0), FEATURES, log_transform=True)


def test_three_blobs_are_recovered_in_value_order(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    labels, centroids = fit_clusters(X, 3, random_state=42, n_init=10, features=FEATURES)
    assert pd.crosstab(blobs["blob"], labels).gt(0).sum(axis=1).eq(1).all()  # one label per blob
    by_blob = pd.Series(labels).groupby(blobs["blob"]).first()
    assert by_blob.to_dict() == {"best": 1, "middle": 2, "worst": 3}
    assert centroids.shape == (3, 3)
    # cluster 1's centroid: lowest recency, highest frequency and monetary
    assert (
        centroids[0, 0] == centroids[:, 0].min()
        and centroids[0, 1:].tolist() == centroids[:, 1:].max(0).tolist()
    )
    names = name_clusters(blobs, labels, FEATURES, recent_days=30)
    # k = 3: one cluster per tier. Median recency of all 120 lies between the best blob (≤ 8)
    # and the middle one (≥ 57). Best: highest spend and frequency, recent → Top Performers;
    # worst: least recent, above that median and 30 days, lowest spend → Dormant (low-spend);
    # middle: middle spend, middle recency → Mid-Value.
    assert names == ["Top Performers", "Mid-Value", "Dormant (low-spend)"]


def test_fit_is_deterministic_and_stable_under_shuffling(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    first = fit_clusters(X, 3, 42, 10, FEATURES)
    second = fit_clusters(X, 3, 42, 10, FEATURES)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    order = np.random.default_rng(1).permutation(len(X))
    for seed in (0, 1, 42):
        shuffled, _ = fit_clusters(X[order], 3, seed, 10, FEATURES)
        np.testing.assert_array_equal(shuffled, first[0][order])


def test_features_come_from_a_dataframe_or_must_be_given(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    labels, _ = fit_clusters(pd.DataFrame(X, columns=FEATURES), 3, 42, 10)
    np.testing.assert_array_equal(labels, fit_clusters(X, 3, 42, 10, FEATURES)[0])
    with pytest.raises(ValueError, match="features"):
        fit_clusters(X, 3, 42, 10)


def test_k_larger_than_customers_raises():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    with pytest.raises(ValueError, match=r"clustering\.k = 5.*3 customers"):
        fit_clusters(X, 5, 42, 10, ["recency", "monetary"])
    # 4 customers but only 2 distinct rows: 3 clusters cannot be told apart
    duplicated = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="2 distinct"):
        fit_clusters(duplicated, 3, 42, 10, ["recency", "monetary"])


def test_elbow_table(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    table = elbow_table(X, k_max=6, random_state=42, n_init=10, silhouette_sample=100, elbow_sample=1000)
    assert table["k"].tolist() == [1, 2, 3, 4, 5, 6]
    assert np.isnan(table.loc[0, "silhouette"]) and table["silhouette"].iloc[1:].notna().all()
    # inertia at k = 1 = total sum of squares of standardized data = n · features
    assert table.loc[0, "inertia"] == pytest.approx(120 * 3)
    assert (np.diff(table["inertia"]) <= 1e-9).all()
    assert table["silhouette"].idxmax() == 2  # k = 3, the true number of blobs
    pd.testing.assert_frame_equal(table, elbow_table(X, 6, 42, 10, 100, 1000))


def test_the_elbow_of_more_rows_than_its_sample_is_the_elbow_of_the_sample(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    rows = elbow_rows(len(X), 50, random_state=42)
    assert len(rows) == 50 and len(np.unique(rows)) == 50 and (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(rows, elbow_rows(len(X), 50, random_state=42))  # fixed
    sampled = elbow_table(X, 4, 42, 10, 100, elbow_sample=50)
    pd.testing.assert_frame_equal(sampled, elbow_table(X[rows], 4, 42, 10, 100, elbow_sample=50))
    # inertia at k = 1 is the sample's own total sum of squares, not the whole table's
    assert sampled.loc[0, "inertia"] == pytest.approx(((X[rows] - X[rows].mean(axis=0)) ** 2).sum())
    np.testing.assert_array_equal(elbow_rows(len(X), len(X), 42), np.arange(len(X)))


@pytest.mark.parametrize("sample", [50, 120, 5000])  # part of the rows, all of them, more than all
@pytest.mark.parametrize("working_memory", [1024, 0.01])  # distances computed once; chunked by sklearn
def test_silhouette_scorer_is_sklearns_silhouette_score(blobs, sample, working_memory):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    with sklearn.config_context(working_memory=working_memory):
        score = silhouette_scorer(X, sample, random_state=42)
        for k in (2, 3, 5):
            labels = KMeans(n_clusters=k, random_state=0, n_init=1).fit(X).labels_
            expected = silhouette_score(X, labels, sample_size=min(sample, len(X)), random_state=42)
            assert score(labels) == expected  # the same to the last bit


def test_elbow_stops_at_the_number_of_customers():
    X = np.array([[0.0], [1.0], [5.0]])
    assert elbow_table(X, 10, 42, 1, 100, 1000)["k"].tolist() == [1, 2, 3]


def clusters_of(medians: dict[str, list[float]], sizes: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows whose cluster medians are exactly ``medians`` (every row of a cluster alike)."""
    labels = np.repeat(np.arange(1, len(sizes) + 1), sizes)
    frame = pd.DataFrame({f: np.repeat(values, sizes) for f, values in medians.items()})
    return frame, labels


ACCOUNT_FEATURES = ["recency", "frequency_broadcast", "frequency_charged", "monetary"]
OMNICHANNEL_K4 = {
    # the omnichannel report, k = 4: cluster 4 is the 62 call-only accounts (no revenue, last
    # campaign 21 days ago), cluster 3 the most lapsed (86 days)
    "recency": [2.0, 7.0, 86.0, 21.0],
    "frequency_broadcast": [105.0, 25.0, 6.0, 13.0],
    "frequency_charged": [46_829.0, 5_886.5, 1_509.0, 0.0],
    "monetary": [26_412_037.0, 2_913_386.5, 656_647.0, 0.0],
}
DEFAULT_K6 = {
    # the default report, k = 6 (cluster medians of the run)
    "recency": [5.0, 31.0, 9.0, 93.0, 36.0, 241.0],
    "frequency": [15.0, 6.0, 4.0, 2.0, 1.0, 1.0],
    "monetary": [5655.03, 2356.42, 973.265, 839.09, 289.99, 226.12],
}


def test_tier_size():
    assert [tier_size(k) for k in range(2, 11)] == [1, 1, 2, 2, 2, 3, 3, 3, 4]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([5, 3, 1], ["top", "mid", "bottom"]),
        # k = 4: two per tier
        ([40, 30, 20, 10], ["top", "top", "bottom", "bottom"]),
        # ties share a tier and never straddle: the three 1s are all bottom, 5 alone is top
        ([5, 1, 1, 1], ["top", "bottom", "bottom", "bottom"]),
        ([5, 5, 5, 1], ["top", "top", "top", "bottom"]),
        # 3 ranks 2nd from either end (t = 2): top wins, the strict order still holds
        ([5, 3, 3, 1], ["top", "top", "top", "bottom"]),
        # all equal: no tier says anything
        ([2, 2, 2], ["mid", "mid", "mid"]),
    ],
)
def test_tiers(values, expected):
    assert tiers(pd.Series(values, dtype="float64")).tolist() == expected


def test_tiers_lower_is_better():
    assert tiers(pd.Series([2.0, 86.0, 21.0, 7.0]), higher_is_better=False).tolist() == [
        "top",
        "bottom",
        "bottom",
        "top",
    ]


def test_call_only_recent_zero_revenue_cluster_is_not_dormant():
    """Issue 10: the 62 call-only accounts (21 days, no revenue) were "Dormant or Low-Value
    Users", told they had likely churned, while the 86-day cluster was "Moderately Engaged"."""
    df, labels = clusters_of(OMNICHANNEL_K4, [5, 5, 4, 2])
    # median recency of all 16 rows: 8th and 9th of 2×5, 7×5, 21×2, 86×4 = 7 and 7 → 7
    assert df["recency"].median() == 7
    names = name_clusters(df, labels, ACCOUNT_FEATURES, recent_days=30)
    # t = 2. Cluster 1: highest revenue, campaigns and charged messages, recent (2 ≤ 7).
    # Cluster 2: top revenue tier, recency 7 in the top tier and ≤ 7 → High-Value (recent).
    # Cluster 3: least recent (86 > 7 and > 30), revenue in the bottom tier → Dormant (low-spend).
    # Cluster 4: bottom revenue tier; 21 days is in the bottom recency tier and above 7, but
    # within the 30-day window → no "(lapsed)".
    assert names == ["Top Performers", "High-Value (recent)", "Dormant (low-spend)", "Low-Value"]
    # Without a recency window, 21 days against a median of 7 is lapsed (still not Dormant).
    assert name_clusters(df, labels, ACCOUNT_FEATURES)[3] == "Low-Value (lapsed)"


def test_old_names_are_caught_by_their_claims():
    """The names the issue complains about, checked against the same medians."""
    df, labels = clusters_of(OMNICHANNEL_K4, [5, 5, 4, 2])
    medians = cluster_medians(df, labels, ACCOUNT_FEATURES)
    wrong = ["Top Performers", "High-Value", "Low-Value", "Dormant"]
    claims = name_claims(wrong, medians, recency_reference=7.0, recent_days=30)
    failed = claims.loc[~claims["holds"], ["cluster", "claim"]]
    # Dormant at 21 days is not the least recent cluster (86 is); Low-Value at 656,647 is not
    # below the Dormant cluster's 0; Dormant's 21 days is within the 30-day window
    assert set(failed["cluster"]) == {3, 4}
    assert "least recent cluster (median 21 days)" in failed["claim"].tolist()
    assert "median monetary 656,647 < 0 (others)" in failed["claim"].tolist()
    assert claims.loc[claims["cluster"].isin([1, 2]), "holds"].all()


def test_value_words_follow_measured_spend_not_the_value_score():
    """Issue 10 at k = 6: a lapsed big spender was named below a recent smaller spender."""
    df, labels = clusters_of(DEFAULT_K6, [3] * 6)
    # median recency of all 18 rows: 9th and 10th of 5, 9, 31, 36, 93, 241 (×3) = 31, 36 → 33.5
    assert df["recency"].median() == 33.5
    names = name_clusters(df, labels, FEATURES, recent_days=30)
    # t = 2. Spend ranks 1..6 in cluster order: top {1, 2}, mid {3, 4}, bottom {5, 6}.
    # Recency ranks: 5 (1), 9 (3), 31 (2), 36 (5), 93 (4), 241 (6): top {1, 3}, bottom {4, 6}.
    assert names == [
        "Top Performers",
        "High-Value",  # recency rank 3 of 6: no qualifier
        "Mid-Value (recent)",  # 9 days ≤ 33.5
        "Mid-Value (lapsed)",  # 93 days > 33.5 and > 30, but the least recent is 241
        "Low-Value",
        "Dormant (low-spend)",
    ]
    spend = dict(zip(names, DEFAULT_K6["monetary"], strict=True))
    assert min(spend["Top Performers"], spend["High-Value"]) > max(
        v for n, v in spend.items() if base_name(n) not in ("Top Performers", "High-Value")
    )


def test_shared_names_are_numbered_by_spend():
    medians = {
        "recency": [10.0, 12.0, 50.0, 20.0, 300.0],
        "frequency": [2.0, 9.0, 3.0, 1.0, 1.0],
        "monetary": [100.0, 90.0, 50.0, 10.0, 5.0],
    }
    df, labels = clusters_of(medians, [1] * 5)  # median recency of all: 20
    names = name_clusters(df, labels, FEATURES, recent_days=30)
    # Cluster 1 spends most but is not the most frequent: no Top Performers. Clusters 1 and 2
    # are both top spenders and recent (10, 12 ≤ 20): numbered by spend, 100 before 90.
    assert names == [
        "High-Value (recent) #1",
        "High-Value (recent) #2",
        "Mid-Value (lapsed)",  # 50 > 20 and > 30, in the bottom recency tier
        "Low-Value",
        "Dormant (low-spend)",
    ]


def test_a_least_recent_cluster_inside_the_window_is_not_dormant():
    df, labels = clusters_of(
        {"recency": [5.0, 20.0], "frequency": [3.0, 1.0], "monetary": [100.0, 0.0]}, [1, 1]
    )
    assert name_clusters(df, labels, FEATURES, recent_days=30) == ["Top Performers", "Low-Value"]
    # outside a 14-day window, and above the median of all (12.5), it is
    assert name_clusters(df, labels, FEATURES, recent_days=14) == ["Top Performers", "Dormant (low-spend)"]


def test_names_do_not_depend_on_row_order():
    df, labels = clusters_of(DEFAULT_K6, [3] * 6)
    order = np.random.default_rng(5).permutation(len(df))
    shuffled = df.iloc[order].reset_index(drop=True)
    assert name_clusters(shuffled, labels[order], FEATURES, 30) == name_clusters(df, labels, FEATURES, 30)


def test_a_name_whose_claims_fail_is_never_shown(monkeypatch):
    df, labels = clusters_of(OMNICHANNEL_K4, [5, 5, 4, 2])
    wrong = ["Top Performers", "High-Value (recent)", "Low-Value", "Dormant"]
    monkeypatch.setattr(clustering, "_candidate_names", lambda *_: list(wrong))
    names = name_clusters(df, labels, ACCOUNT_FEATURES, recent_days=30)
    assert names == ["Top Performers", "High-Value (recent)", "Cluster #3", "Cluster #4"]
    assert base_name(names[2]) == "Cluster" and "Cluster" in VOCABULARY


def test_single_cluster():
    df, labels = clusters_of({"recency": [3.0], "frequency": [1.0], "monetary": [5.0]}, [4])
    assert name_clusters(df, labels, FEATURES) == ["All customers"]


def test_names_are_unique_short_and_true_for_any_k(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    for k in range(2, 11):
        labels, _ = fit_clusters(X, k, 42, 10, FEATURES)
        names = name_clusters(blobs, labels, FEATURES, recent_days=30)
        assert len(set(names)) == k
        assert max(map(len, names)) <= clustering.MAX_NAME_LENGTH
        assert {base_name(n) for n in names} <= set(VOCABULARY) - {"Cluster"}
        claims = name_claims(names, cluster_medians(blobs, labels, FEATURES), blobs["recency"].median(), 30)
        assert claims["holds"].all(), claims[~claims["holds"]]


def test_naming_table_ranks_and_claims():
    df, labels = clusters_of(OMNICHANNEL_K4, [5, 5, 4, 2])
    names = name_clusters(df, labels, ACCOUNT_FEATURES, recent_days=30)
    table = naming_table(df, labels, ACCOUNT_FEATURES, names, recent_days=30)
    # recency ranks, lowest first: 2 (1), 7 (2), 86 (4), 21 (3); revenue: 26.4M, 2.9M, 657k, 0
    assert table["recency rank"].tolist() == ["1 of 4", "2 of 4", "4 of 4", "3 of 4"]
    assert table["monetary rank"].tolist() == ["1 of 4", "2 of 4", "3 of 4", "4 of 4"]
    assert table["frequency_charged rank"].tolist() == ["1 of 4", "2 of 4", "3 of 4", "4 of 4"]
    assert table["claims hold"].all()
    assert "least recent cluster (median 86 days)" in table.loc[2, "the name claims"]
    # Low-Value is compared with the clusters without a low mark: "Dormant (low-spend)" has one,
    # so the lowest of the others is cluster 2's 2,913,386.5
    assert "median monetary 0 < 2,913,386 (others)" in table.loc[3, "the name claims"]


def test_omnichannel_features():
    rng = np.random.default_rng(3)
    accounts = pd.DataFrame(
        {
            "recency": rng.integers(0, 300, 60),
            "frequency_broadcast": rng.integers(1, 2000, 60),
            "frequency_charged": rng.integers(1, 10**6, 60),
            "monetary": rng.uniform(1e5, 1e9, 60),
        }
    )
    features = list(accounts.columns)
    X, _ = prepare_features(accounts, features, log_transform=True)
    labels, _ = fit_clusters(X, 4, 42, 10, features)
    names = name_clusters(accounts, labels, features, recent_days=30)
    assert len(set(names)) == 4 and {base_name(n) for n in names} <= set(VOCABULARY)
    medians = cluster_medians(accounts, labels, features)
    assert name_claims(names, medians, accounts["recency"].median(), 30)["holds"].all()
    profile = cluster_profile(accounts, labels, features, names)
    assert profile["customers"].sum() == 60
    assert "frequency_charged_median" in profile.columns


def test_cluster_profile():
    df = pd.DataFrame(
        {
            "recency": [1, 3, 100, 200, 300],
            "frequency": [10, 20, 1, 1, 2],
            "monetary": [50.0, 150.0, 10.0, 20.0, 20.0],
        }
    )
    labels = np.array([1, 1, 2, 2, 2])
    profile = cluster_profile(df, labels, FEATURES, ["Top", "Middle", "Bottom"])
    assert profile["cluster"].tolist() == [1, 2, 3]
    assert profile["cluster_name"].tolist() == ["Top", "Middle", "Bottom"]
    assert profile["customers"].tolist() == [2, 3, 0]  # cluster 3 is empty but listed
    assert profile["customer_share"].tolist() == [0.4, 0.6, 0.0]
    assert profile.loc[0, "recency_median"] == 2  # median(1, 3)
    assert profile.loc[1, "monetary_median"] == 20.0  # median(10, 20, 20)
    assert profile["revenue_share"].tolist() == [0.8, 0.2, 0.0]  # 200 / 250, 50 / 250
    no_money = cluster_profile(df.drop(columns="monetary"), labels, ["recency"], ["A", "B"])
    assert "revenue_share" not in no_money.columns


def test_assign_to_clusters_by_hand():
    # Cluster 1 holds (0, 0) and (0, 2), cluster 2 holds (10, 10) and (10, 12). The space: means
    # (5, 6), standard deviations 5 and sqrt(26); centroids (-1, -5/sqrt(26)) and (1, 5/sqrt(26)).
    clustered = pd.DataFrame(
        {"recency": [0.0, 0.0, 10.0, 10.0], "monetary": [0.0, 2.0, 10.0, 12.0], "cluster": [1, 1, 2, 2]}
    )
    rows = pd.DataFrame({"recency": [1.0, 9.0, 5.0, -20.0], "monetary": [1.0, 9.0, 6.0, 100.0]})
    # (5, 6) is the origin, equidistant from both centroids: the lower number wins.
    labels = clustering.assign_to_clusters(clustered, ["recency", "monetary"], False, rows)
    assert labels.tolist() == [1, 2, 1, 2]
    # Each clustered row goes back to its own cluster.
    assert clustering.assign_to_clusters(clustered, ["recency", "monetary"], False, clustered).tolist() == [
        1,
        1,
        2,
        2,
    ]


def test_assign_to_clusters_uses_the_clustered_space_with_log1p():
    # log1p space: cluster 1 at log1p(0) = 0, cluster 2 at log1p(99) = log(100). A row at 9
    # (log1p = log 10, half of log 100) is a tie; 8 is nearer cluster 1, 10 nearer cluster 2.
    clustered = pd.DataFrame({"monetary": [0.0, 99.0], "cluster": [1, 2]})
    labels = clustering.assign_to_clusters(
        clustered, ["monetary"], True, pd.DataFrame({"monetary": [8, 9, 10]})
    )
    assert labels.tolist() == [1, 1, 2]
