"""The synthetic platform looks like the one the second source document stands for: the
document's method on the generated data gives four clusters whose means are within a factor of 3
of the ones it publishes, in the same order (rfm_helpers.analysis.calibration, the published means in
data/reference/omnichannel_document_clusters.csv, validated on load)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.analysis import calibration, clustering
from rfm_helpers.config import load_config
from rfm_helpers.data.accounts import extract_accounts
from rfm_helpers.data.reference import ReferenceError
from rfm_helpers.paths import PROJECT_ROOT

FEATURES = ["recency", "frequency_broadcast", "frequency_charged", "monetary"]
SHIPPED = PROJECT_ROOT / "data" / "reference" / "omnichannel_document_clusters.csv"
# The document's "RFM Cluster Analysis Interpretation" (omnichannel_ml_rfm.md), typed from its text:
# cluster number, name, recency (days), campaigns, charged messages, revenue (IDR).
DOCUMENT = [
    (1, "Moderately Engaged Users", 52.8, 102.9, 78_509, 43e6),
    (2, "Top Performers", 10.5, 1_191.5, 4.59e6, 3.57e9),
    (3, "High-Value Frequent Users", 29.7, 2_078.3, 422_595, 152e6),
    (4, "Dormant or Low-Value Users", 262.6, 7.9, 2_508, 1.7e6),
]


def published_by_recency() -> pd.DataFrame:
    table = pd.DataFrame(DOCUMENT, columns=["document_cluster", "cluster", *FEATURES])
    return table.sort_values("recency", ignore_index=True)


def test_shipped_file_holds_the_documents_published_means() -> None:
    loaded = calibration.load_published_clusters(SHIPPED, FEATURES)
    expected = published_by_recency()
    assert loaded["cluster"].tolist() == [
        "Top Performers",
        "High-Value Frequent Users",
        "Moderately Engaged Users",
        "Dormant or Low-Value Users",
    ]
    pd.testing.assert_frame_equal(loaded, expected[loaded.columns], check_dtype=False)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns="monetary"), "missing column"),
        (lambda t: t.assign(monetary=t["monetary"].where(t.index != 1, -5)), "monetary must be a positive"),
        (lambda t: t.assign(recency=t["recency"].where(t.index != 1, "n/a")), "recency must be a positive"),
        (lambda t: t.assign(cluster=["A", "A", "B", "C"]), "cluster repeated"),
        (lambda t: t.assign(recency=[10.0, 10.0, 50.0, 260.0]), "same recency"),
    ],
)
def test_published_file_is_validated(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "clusters.csv"
    edit(pd.read_csv(SHIPPED)).to_csv(path, index=False)
    with pytest.raises(ReferenceError, match=message) as raised:
        calibration.load_published_clusters(path, FEATURES)
    assert str(path) in str(raised.value)


def test_clusters_are_matched_by_recency_and_ranked_per_feature() -> None:
    published = pd.DataFrame(
        {
            "cluster": ["Recent", "Lapsed"],
            "document_cluster": [1, 2],
            "recency": [10.0, 200.0],
            "frequency_broadcast": [100.0, 5.0],
        }
    )
    # Our cluster 2 is the recent one (30 days: 3 × 10, just within), cluster 1 the lapsed one
    # (50 days: 200 ÷ 4); campaigns 4 (100 ÷ 25) and 600 (120 × 5). Our recent cluster has fewer
    # campaigns than our lapsed one, unlike the document's: the ranks differ.
    table = pd.DataFrame({"recency": [50, 50, 30], "frequency_broadcast": [700, 500, 4]})
    features = ["recency", "frequency_broadcast"]
    ours = calibration.cluster_means(table, np.array([1, 1, 2]), features)
    comparison = calibration.compare(ours, published, features).set_index(["cluster", "feature"])
    assert comparison.loc[("Recent", "recency"), "our_cluster"] == 2
    assert comparison.loc[("Lapsed", "recency"), "accounts"] == 2
    assert comparison["ratio"].round(6).to_dict() == {
        ("Recent", "recency"): 3.0,
        ("Lapsed", "recency"): 0.25,
        ("Recent", "frequency_broadcast"): 0.04,
        ("Lapsed", "frequency_broadcast"): 120.0,
    }
    assert comparison["within"].to_dict() == {
        ("Recent", "recency"): True,
        ("Lapsed", "recency"): False,
        ("Recent", "frequency_broadcast"): False,
        ("Lapsed", "frequency_broadcast"): False,
    }
    assert comparison.loc[(slice(None), "recency"), "same_rank"].all()
    assert not comparison.loc[(slice(None), "frequency_broadcast"), "same_rank"].any()
    with pytest.raises(ValueError, match="clustering.k = 2"):
        calibration.compare(ours.head(1), published, features)


@pytest.mark.slow
def test_document_method_on_the_generated_platform_gives_the_published_clusters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: the generator's default data (params/omnichannel_document.yaml), the
    document's extraction, then the clustering step's KMeans (no log, k = 4)."""
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))  # the generated database goes there
    cfg = load_config(PROJECT_ROOT / "params" / "omnichannel_document.yaml")
    ccfg = cfg.clustering
    assert (cfg.accounts.method, ccfg.log_transform, ccfg.k, ccfg.features) == (
        "document",
        False,
        4,
        FEATURES,
    )
    table = extract_accounts(cfg.accounts).accounts
    assert (table["recency"] >= 0).all()  # the calibration needs no negative recency

    X, _ = clustering.prepare_features(table, ccfg.features, ccfg.log_transform)
    labels, _ = clustering.fit_clusters(X, ccfg.k, ccfg.random_state, ccfg.n_init, ccfg.features)
    ours = table.groupby(labels)[FEATURES].mean().sort_values("recency")
    sizes = pd.Series(labels).value_counts().reindex(ours.index)
    published = published_by_recency().set_index("cluster")[FEATURES]

    ratios = pd.DataFrame(ours.to_numpy() / published.to_numpy(), index=published.index, columns=FEATURES)
    outside = ratios.where((ratios < 1 / 3) | (ratios > 3)).stack().dropna()
    assert outside.empty, f"means off by more than a factor of 3 (ours ÷ published):\n{outside}\n{ratios}"
    for feature in FEATURES:  # the same order of the four clusters on every feature
        assert ours[feature].rank().tolist() == published[feature].rank().tolist(), feature
    assert sizes.min() >= 3 and sizes.sum() == len(table)  # no cluster of one or two outliers

    # The extraction report's table says the same.
    comparison = calibration.compare(
        calibration.cluster_means(table, labels, FEATURES),
        published.reset_index().assign(document_cluster=0),
        FEATURES,
    )
    assert comparison["within"].all() and comparison["same_rank"].all()
