"""The document's method on our data, against the clusters the document publishes.

The second source document (omnichannel_ml_rfm.md) publishes the means of its four KMeans
clusters (recency, campaigns, charged messages, revenue), kept in
``data/reference/omnichannel_document_clusters.csv`` (``reference.document_clusters``). Its
method on the synthetic platform (``params/omnichannel_document.yaml``: its queries and merges,
StandardScaler without log, k = 4) should give four clusters like those: the generator
(``rfm_helpers.synthetic.accounts``) is calibrated so that every mean is within a factor of
:data:`TOLERANCE` of the published one, and the per-feature order of the clusters is the same.

Clusters are matched by recency: our least recent cluster is compared with the document's
least recent (Dormant or Low-Value Users), and so on. The clustering is the clustering step's
own (:func:`rfm_helpers.analysis.clustering.prepare_features` and
:func:`~rfm_helpers.analysis.clustering.fit_clusters`
with the run's ``clustering`` parameters), so the cluster numbers are those of report 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_helpers import units
from rfm_helpers.analysis import clustering
from rfm_helpers.config import ClusteringConfig, RunConfig
from rfm_helpers.data.reference import ReferenceError
from rfm_helpers.paths import resolve

TOLERANCE = 3.0
"""Our cluster means must lie within [published / TOLERANCE, published × TOLERANCE]."""
KEY_COLUMNS = ["cluster", "document_cluster"]


def load_published_clusters(path: str | Path, features: Sequence[str]) -> pd.DataFrame:
    """The document's published cluster means, validated, least recent last.

    Columns: ``cluster`` (its name in the document), ``document_cluster`` (its number there)
    and one column per feature of ``features`` (the mean, as published: 4.59M is 4,590,000).
    Raises :class:`~rfm_helpers.data.reference.ReferenceError` naming the file and what to fix: a
    missing file or column, a missing, non-numeric or non-positive mean, a repeated name or
    number, or two clusters with the same recency (the matching needs their order).
    """
    path = resolve(path)
    if not path.is_file():
        raise ReferenceError(f"Published cluster means not found: {path} (reference.document_clusters)")
    table = pd.read_csv(path)
    missing = [c for c in [*KEY_COLUMNS, *features] if c not in table.columns]
    if missing:
        raise ReferenceError(f"{path}: missing column(s) {', '.join(missing)}")
    problems = []
    if table.empty:
        problems.append("it has no rows")
    names = table["cluster"].astype("string").str.strip()
    if names.isna().any() or names.eq("").any():
        problems.append("a cluster has no name")
    for column in ["cluster", "document_cluster"]:
        repeated = table.loc[table[column].duplicated(), column].tolist()
        if repeated:
            problems.append(f"{column} repeated: {repeated}")
    for feature in features:
        values = pd.to_numeric(table[feature], errors="coerce")
        bad = table.loc[values.isna() | (values <= 0), "cluster"].tolist()
        if bad:
            problems.append(f"{feature} must be a positive number (clusters {bad})")
    if "recency" in features and pd.to_numeric(table["recency"], errors="coerce").duplicated().any():
        problems.append("two clusters have the same recency (clusters are matched by recency order)")
    if problems:
        raise ReferenceError(f"{path}: " + "; ".join(problems))
    out = table[[*KEY_COLUMNS, *features]].assign(cluster=names.astype(str))
    out[list(features)] = out[list(features)].astype("float64")
    return out.sort_values(_order_feature(features), ignore_index=True)


def _order_feature(features: Sequence[str]) -> str:
    return "recency" if "recency" in features else features[0]


def fit_like_the_clustering_step(table: pd.DataFrame, ccfg: ClusteringConfig) -> np.ndarray:
    """Cluster numbers 1..k of each row of ``table``, exactly as the clustering step (report 4)
    computes them with the same ``clustering`` parameters."""
    X, _ = clustering.prepare_features(table, ccfg.features, ccfg.log_transform)
    labels, _ = clustering.fit_clusters(X, ccfg.k, ccfg.random_state, ccfg.n_init, ccfg.features)
    return labels


def cluster_means(table: pd.DataFrame, labels: np.ndarray, features: Sequence[str]) -> pd.DataFrame:
    """Per cluster: ``cluster`` (its number), ``accounts`` (rows) and the mean of each feature,
    least recent last."""
    grouped = table.groupby(np.asarray(labels))
    means = grouped[list(features)].mean()
    means.insert(0, "accounts", grouped.size())
    means = means.rename_axis("cluster").reset_index()
    return means.sort_values([_order_feature(features), "cluster"], ignore_index=True)


def compare(ours: pd.DataFrame, published: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """One row per (published cluster, feature), clusters matched by recency order.

    Columns: ``cluster`` (published name), ``document_cluster``, ``our_cluster``, ``accounts``,
    ``feature``, ``published``, ``ours``, ``ratio`` (ours ÷ published), ``within`` (the ratio
    within the :data:`TOLERANCE` factor) and ``same_rank`` (our cluster has the same rank
    among the clusters for this feature as the published one). Raises ``ValueError`` when the
    numbers of clusters differ (``clustering.k`` must be the document's).
    """
    if len(ours) != len(published):
        raise ValueError(
            f"{len(ours)} clusters here, {len(published)} published: set clustering.k = {len(published)} "
            "to compare with the document"
        )
    ours = ours.reset_index(drop=True)
    published = published.reset_index(drop=True)
    rows = []
    for feature in features:
        our_rank = ours[feature].rank(method="min")
        published_rank = published[feature].rank(method="min")
        for i, doc in published.iterrows():
            ratio = ours.at[i, feature] / doc[feature]
            rows.append(
                {
                    "cluster": doc["cluster"],
                    "document_cluster": int(doc["document_cluster"]),
                    "our_cluster": int(ours.at[i, "cluster"]),
                    "accounts": int(ours.at[i, "accounts"]),
                    "feature": feature,
                    "published": float(doc[feature]),
                    "ours": float(ours.at[i, feature]),
                    "ratio": float(ratio),
                    "within": bool(1 / TOLERANCE <= ratio <= TOLERANCE),
                    "same_rank": bool(our_rank[i] == published_rank[i]),
                }
            )
    order = {name: position for position, name in enumerate(published["cluster"])}
    out = pd.DataFrame(rows)
    return out.sort_values(
        ["cluster", "feature"],
        key=lambda s: s.map(order) if s.name == "cluster" else s.map(list(features).index),
        ignore_index=True,
    )


def comparison_view(comparison: pd.DataFrame, currency: str) -> pd.DataFrame:
    """:func:`compare` as a page shows it: each mean in its unit, human headers."""
    return pd.DataFrame(
        {
            "Cluster in the document": [
                f"{row.cluster} ({row.document_cluster})" for row in comparison.itertuples(index=False)
            ],
            "Our cluster (report 4)": [
                f"{row.our_cluster} ({units.count(row.accounts, 'account')})"
                for row in comparison.itertuples(index=False)
            ],
            "Feature": comparison["feature"].map(units.feature_label),
            "Published mean": [
                units.feature_value(f, v, currency)
                for f, v in zip(comparison["feature"], comparison["published"], strict=True)
            ],
            "Our mean": [
                units.feature_value(f, v, currency)
                for f, v in zip(comparison["feature"], comparison["ours"], strict=True)
            ],
            "Ours ÷ published": [f"{r:.2f}" for r in comparison["ratio"]],
            "Same rank among the clusters": comparison["same_rank"].map({True: "yes", False: "no"}),
        }
    )


def describe(comparison: pd.DataFrame) -> str:
    """The comparison in one paragraph: how many means are within the tolerance, the largest
    deviation, and whether the clusters rank as the document's."""
    n = len(comparison)
    within = int(comparison["within"].sum())
    ranked = int(comparison["same_rank"].sum())
    worst = comparison.loc[np.abs(np.log(comparison["ratio"])).idxmax()]
    sizes = comparison.drop_duplicates("cluster")
    size_text = ", ".join(f"{row.cluster} {row.accounts:,}" for row in sizes.itertuples(index=False))
    return (
        f"The document's method on this data, clustered exactly as in report 4 and matched to the "
        f"document's clusters by recency (most recent first), gives clusters of {size_text} accounts. "
        f"**{within} of {n} cluster means are within a factor of "
        f"{TOLERANCE:g}** of the published ones; the largest deviation is "
        f"{units.feature_label(worst['feature']).split(' (')[0].lower()} of {worst['cluster']} "
        f"(ours ÷ published = {worst['ratio']:.2f}). In {ranked} of {n} cases our cluster has the "
        "same rank among the four as the published one."
    )


def for_run(cfg: RunConfig, table: pd.DataFrame) -> tuple[str, pd.DataFrame | None]:
    """What the extraction report says about the published clusters: a paragraph, and the
    comparison table (:func:`comparison_view`) when the run uses the document's method
    (``accounts.method: document``) with as many clusters as it publishes; otherwise why not."""
    ccfg, source = cfg.clustering, cfg.accounts
    if source is None or source.method != "document":
        return (
            "They are compared with the document's method on the same data in the extraction report of "
            "a run with `accounts.method: document` (`params/omnichannel_document.yaml`): this run's "
            "method differs from the document's, so its clusters are not comparable with them.",
            None,
        )
    published_columns = pd.read_csv(resolve(cfg.reference.document_clusters), nrows=0).columns
    unpublished = [f for f in ccfg.features if f not in published_columns]
    if unpublished:
        return f"The document publishes no means of {', '.join(unpublished)}, so they are not compared.", None
    published = load_published_clusters(cfg.reference.document_clusters, ccfg.features)
    if ccfg.k != len(published):
        return (
            f"The document publishes {len(published)} clusters; this run makes {ccfg.k} "
            f"(`clustering.k`), so they are not compared.",
            None,
        )
    comparison = compare(
        cluster_means(table, fit_like_the_clustering_step(table, ccfg), ccfg.features),
        published,
        ccfg.features,
    )
    return describe(comparison), comparison_view(comparison, cfg.report.currency)
