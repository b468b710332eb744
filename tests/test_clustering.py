"""prepare_features, elbow_table, fit_clusters, name_clusters, cluster_profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.clustering import (
    DEFAULT_VOCABULARY,
    cluster_profile,
    elbow_table,
    fit_clusters,
    name_clusters,
    prepare_features,
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
    names = name_clusters(pd.DataFrame(centroids, columns=FEATURES))
    # k = 3 on 4 words: ranks 0, 1, 2 → positions round(0), round(1.5) = 2, round(3)
    assert names == ["Top Performers", "Moderately Engaged Users", "Dormant or Low-Value Users"]


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
    table = elbow_table(X, k_max=6, random_state=42, n_init=10, silhouette_sample=100)
    assert table["k"].tolist() == [1, 2, 3, 4, 5, 6]
    assert np.isnan(table.loc[0, "silhouette"]) and table["silhouette"].iloc[1:].notna().all()
    # inertia at k = 1 = total sum of squares of standardized data = n · features
    assert table.loc[0, "inertia"] == pytest.approx(120 * 3)
    assert (np.diff(table["inertia"]) <= 1e-9).all()
    assert table["silhouette"].idxmax() == 2  # k = 3, the true number of blobs
    pd.testing.assert_frame_equal(table, elbow_table(X, 6, 42, 10, 100))


def test_elbow_stops_at_the_number_of_customers():
    X = np.array([[0.0], [1.0], [5.0]])
    assert elbow_table(X, 10, 42, 1, 100)["k"].tolist() == [1, 2, 3]


def test_name_clusters_follows_value_not_row_order():
    # rows deliberately not in value order; value = mean(−recency, frequency, monetary)
    centroids = pd.DataFrame(
        {
            "recency": [1.0, -1.0, 0.2, -0.5],
            "frequency": [-1.0, 1.5, 0.5, -0.2],
            "monetary": [-1.0, 1.5, 0.8, -0.3],
        }
    )
    # values: −1.0, 1.33, 0.37, 0.0 → ranks 3, 0, 1, 2
    names = name_clusters(centroids)
    assert names == [
        DEFAULT_VOCABULARY[3],
        DEFAULT_VOCABULARY[0],
        DEFAULT_VOCABULARY[1],
        DEFAULT_VOCABULARY[2],
    ]


def test_names_are_unique_for_any_k(blobs):
    X, _ = prepare_features(blobs, FEATURES, log_transform=True)
    assert name_clusters(pd.DataFrame([[0.0, 0.0, 0.0]], columns=FEATURES)) == ["All customers"]
    for k in range(2, 9):
        _, centroids = fit_clusters(X, k, 42, 10, FEATURES)
        names = name_clusters(pd.DataFrame(centroids, columns=FEATURES))
        assert len(set(names)) == k
        assert names[0].startswith("Top Performers") and names[-1].startswith("Dormant or Low-Value Users")


def test_descriptors_disambiguate_shared_words():
    # k = 5: ranks 0..4 → positions round(0, .75, 1.5, 2.25, 3) = 0, 1, 2, 2, 3
    centroids = pd.DataFrame(
        {
            "recency": [-2.0, -1.0, 0.5, -0.5, 2.0],
            "frequency_broadcast": [2.0, 1.0, 0.5, -0.5, -2.0],
            "frequency_charged": [2.0, 1.0, 0.3, -0.5, -2.0],
            "monetary": [2.0, 1.0, 0.3, -0.4, -2.0],
        }
    )
    names = name_clusters(centroids)
    assert names[2] == "Moderately Engaged Users (lapsed, frequent broadcast, frequent charged, high-spend)"
    assert (
        names[3] == "Moderately Engaged Users (recent, infrequent broadcast, infrequent charged, low-spend)"
    )
    assert names[0] == "Top Performers" and names[4] == "Dormant or Low-Value Users"


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
    labels, centroids = fit_clusters(X, 4, 42, 10, features)
    names = name_clusters(pd.DataFrame(centroids, columns=features))
    assert names == list(DEFAULT_VOCABULARY)
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
