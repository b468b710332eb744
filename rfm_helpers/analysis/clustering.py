"""KMeans on customer features (the second source document's method), made reproducible.

Works on any feature list: the retail customer table (``recency``, ``frequency``,
``monetary``) or an omnichannel account table (``recency``, ``frequency_broadcast``,
``frequency_charged``, ``monetary``). A feature named ``recency`` is "lower is better"; every
other feature is "higher is better". Clusters are numbered 1..k from the highest to the
lowest *value score*: the mean of the centroid's standardized features with recency negated.
Their names come from the measured ranks of the clusters' medians, and every name is checked
against those medians before it is shown (:func:`name_clusters`, :func:`name_claims`).
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn import get_config
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_samples, silhouette_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

RECENCY = "recency"

MONETARY = "monetary"

TOP = "Top Performers"
HIGH = "High-Value"
MID = "Mid-Value"
LOW = "Low-Value"
DORMANT = "Dormant"
UNVERIFIED = "Cluster"
SINGLE = "All customers"
VOCABULARY = (TOP, HIGH, MID, LOW, DORMANT, UNVERIFIED, SINGLE)
"""Base names of clusters, best first: the keys of ``data/reference/cluster_playbook.csv``.
``Cluster`` (written ``Cluster #i``) stands in for a name whose claims do not hold (never
expected; a safety net), ``All customers`` is the single cluster of k = 1."""
DEFAULT_VOCABULARY = VOCABULARY
"""Former name of :data:`VOCABULARY` (the second document's four words are no longer used:
they claimed things, e.g. "Dormant", that the medians did not always support)."""
MAX_NAME_LENGTH = 24
"""Longest cluster name :func:`name_clusters` gives (e.g. ``Dormant (high-spend) #2``)."""


def prepare_features(
    df: pd.DataFrame, features: list[str], log_transform: bool
) -> tuple[np.ndarray, StandardScaler]:
    """``log1p`` (when ``log_transform``) then z-scores of ``df[features]``.

    Recency keeps its direction (high = long ago); the sign is flipped only when ranking
    clusters. Returns the scaled matrix (rows as in ``df``, columns as in ``features``) and
    the fitted scaler (``scaler.feature_names_in_`` holds the feature names). Raises
    ``ValueError`` for missing columns, missing values, or negative values with ``log1p``.
    """
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise ValueError(
            f"clustering.features: columns not in the table: {', '.join(missing)} "
            f"(available: {', '.join(map(str, df.columns))})"
        )
    values = df[list(features)].astype("float64")
    if values.isna().any().any():
        raise ValueError(f"Missing values in features: {', '.join(values.columns[values.isna().any()])}")
    if log_transform:
        negative = values.columns[(values < 0).any()].tolist()
        if negative:
            raise ValueError(
                f"clustering.log_transform needs non-negative values; negative in: {', '.join(negative)}"
            )
        values = np.log1p(values)
    scaler = StandardScaler()
    return scaler.fit_transform(values), scaler


def _distinct_rows(X: np.ndarray) -> int:
    return len(np.unique(X, axis=0))


def silhouette_scorer(X: np.ndarray, sample_size: int, random_state: int) -> Callable[[np.ndarray], float]:
    """``labels`` → ``silhouette_score(X, labels, sample_size=min(sample_size, len(X)),
    random_state=random_state)``, for scoring several clusterings of the same rows.

    The distances between the sampled rows do not depend on the labels, so they are computed
    once here rather than once per clustering: ~0.1 s of the ~0.15 s each silhouette took on the
    real data (the elbow's CPU time: 1.7–2.3 s → 1.0 s). When the matrix fits scikit-learn's
    ``working_memory``, scikit-learn computes it in one piece as well, so every score is the
    same to the last bit; a larger sample is scored by ``silhouette_score`` itself, which
    computes the distances in chunks.
    """
    n = min(sample_size, len(X))
    if 8 * n * n > get_config()["working_memory"] * 2**20:  # float64 distances, working_memory in MiB
        return lambda labels: float(silhouette_score(X, labels, sample_size=n, random_state=random_state))
    rows = check_random_state(random_state).permutation(len(X))[:n]  # silhouette_score's sample
    distances = pairwise_distances(X[rows])
    np.fill_diagonal(distances, 0)  # as silhouette_score does for euclidean distances
    return lambda labels: float(np.mean(silhouette_samples(distances, labels[rows], metric="precomputed")))


def elbow_table(
    X: np.ndarray, k_max: int, random_state: int, n_init: int, silhouette_sample: int, elbow_sample: int
) -> pd.DataFrame:
    """Inertia and silhouette of KMeans for k = 1..min(k_max, distinct rows of X).

    With more than ``elbow_sample`` rows, the table is that of a fixed random sample of
    ``elbow_sample`` rows (``random_state``, :func:`elbow_rows`). ``silhouette`` is missing for
    k = 1 (undefined) and otherwise computed on a fixed random sample of
    ``min(silhouette_sample, n)`` of those rows, because it is O(n²). The same inputs always
    give the same table. Columns: ``k``, ``inertia``, ``silhouette``.
    """
    X = X[elbow_rows(len(X), elbow_sample, random_state)]
    n = len(X)
    score = silhouette_scorer(X, silhouette_sample, random_state)

    def fit(k: int) -> dict[str, float]:
        model = KMeans(n_clusters=k, random_state=random_state, n_init=n_init).fit(X)
        silhouette = score(model.labels_) if 2 <= k < n else np.nan
        return {"k": k, "inertia": float(model.inertia_), "silhouette": float(silhouette)}

    # Each k is independent and seeded, so fitting them on parallel threads (scikit-learn
    # releases the GIL) gives the same table: 2.2 s → 1.4 s on 2 cores for the real data.
    ks = range(1, min(k_max, _distinct_rows(X)) + 1)
    with ThreadPoolExecutor(max_workers=min(len(ks), os.cpu_count() or 1)) as pool:
        return pd.DataFrame(list(pool.map(fit, ks)))


def elbow_rows(n: int, elbow_sample: int, random_state: int) -> np.ndarray:
    """Positions of the rows the elbow fits: all ``n``, or ``elbow_sample`` of them drawn
    without replacement (``random_state``), in their order."""
    if n <= elbow_sample:
        return np.arange(n)
    return np.sort(check_random_state(random_state).choice(n, elbow_sample, replace=False))


def _value_scores(centroids: np.ndarray, features: Sequence[str]) -> np.ndarray:
    sign = np.array([-1.0 if f == RECENCY else 1.0 for f in features])
    return (centroids * sign).mean(axis=1)


def fit_clusters(
    X: np.ndarray | pd.DataFrame,
    k: int,
    random_state: int,
    n_init: int,
    features: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """KMeans with ``k`` clusters, numbered canonically.

    Returns ``(labels, centroids)``: ``labels`` are 1..k per row of ``X``; ``centroids``
    (scaled space) has row i for cluster i + 1. Cluster 1 has the highest value score (mean
    of the centroid's coordinates with recency negated), cluster k the lowest, so the
    numbers do not permute when KMeans' internal order changes (other seed, shuffled rows,
    slightly different data). ``features`` names the columns of ``X`` so that ``recency``
    can be found; it defaults to ``X.columns`` for a DataFrame and is required for an array.
    Raises ``ValueError`` when ``k`` exceeds the number of distinct customers' rows.
    """
    if features is None:
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                "fit_clusters: pass features=<feature names> (e.g. cfg.clustering.features) so that "
                "'recency' can be found for the cluster order"
            )
        features = list(X.columns)
    X = np.asarray(X, dtype="float64")
    if len(features) != X.shape[1]:
        raise ValueError(f"fit_clusters: {len(features)} feature names for {X.shape[1]} columns")
    distinct = _distinct_rows(X)
    if not 1 <= k <= distinct:
        raise ValueError(
            f"clustering.k = {k}, but there are {len(X)} customers with {distinct} distinct feature "
            f"values; set clustering.k between 1 and {distinct}, or cluster a larger customer table"
        )
    model = KMeans(n_clusters=k, random_state=random_state, n_init=n_init).fit(X)
    centroids = model.cluster_centers_
    value = _value_scores(centroids, features)
    # Highest value first; exact ties fall back to the centroid coordinates (never to
    # KMeans' arbitrary label order).
    order = np.lexsort((*centroids.T[::-1], -value))
    new_label = np.empty(k, dtype="int64")
    new_label[order] = np.arange(1, k + 1)
    return new_label[model.labels_], centroids[order]


def assign_to_clusters(
    clustered: pd.DataFrame,
    features: Sequence[str],
    log_transform: bool,
    rows: pd.DataFrame,
) -> np.ndarray:
    """The cluster (1..k, the numbers of ``clustered["cluster"]``) whose centroid is nearest to
    each row of ``rows`` in the space the clusters were fitted in.

    ``clustered``: the clustered table (``features`` and ``cluster``, as the clustering step
    wrote them). The space is rebuilt from it, as :func:`prepare_features` built it: ``log1p``
    when ``log_transform``, then z-scores with the clustered rows' mean and standard deviation;
    a centroid is its cluster's mean in that space (what KMeans converged to). ``rows`` are
    placed in the same space (their own spread is not used), so a customer scored at another
    date is put in the cluster whose profile it matched then. Ties go to the lower number.
    Rows with a missing feature raise ``ValueError``, like :func:`prepare_features`.
    """
    fitted, scaler = prepare_features(clustered, list(features), log_transform)
    labels = clustered["cluster"].to_numpy()
    numbers = np.unique(labels)
    centroids = np.vstack([fitted[labels == n].mean(axis=0) for n in numbers])
    values = rows[list(features)].astype("float64")
    if values.isna().any().any():
        raise ValueError(f"Missing values in features: {', '.join(values.columns[values.isna().any()])}")
    if log_transform:
        values = np.log1p(values.clip(lower=0))
    placed = scaler.transform(values)
    distances = ((placed[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return numbers[distances.argmin(axis=1)]


def base_name(cluster_name: str) -> str:
    """The vocabulary word of a cluster name, without the qualifier in brackets or the
    ``#i`` that :func:`name_clusters` adds (the key of the cluster playbook)."""
    return cluster_name.split(" (")[0].split(" #")[0]


_NAME = re.compile(r"^(?P<base>.+?)(?: \((?P<qualifier>[^)]*)\))?(?: #(?P<rank>\d+))?$")


def cluster_medians(
    df: pd.DataFrame, labels: np.ndarray, features: Sequence[str], k: int | None = None
) -> pd.DataFrame:
    """Median of each feature per cluster 1..k (index ``cluster``; original units; a cluster
    without rows has missing medians). ``k`` defaults to the largest label."""
    labels = np.asarray(labels)
    k = int(labels.max()) if k is None else k
    clusters = pd.Index(range(1, k + 1), name="cluster")
    return df[list(features)].groupby(labels).median().reindex(clusters)


def tier_size(k: int) -> int:
    """Clusters in the top (and in the bottom) tier of a ranking of ``k`` clusters: a third,
    rounded up, at most half (k = 2, 3: 1; 4 to 6: 2; 7 to 9: 3; 10: 4)."""
    return max(1, min(math.ceil(k / 3), k // 2))


def tiers(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """``top``, ``mid`` or ``bottom`` for each value (one per cluster), from its rank.

    Top: among the :func:`tier_size` best ranks (ties share the best rank) and not the worst
    value; bottom: among the worst ranks, not the best value and not top; all ``mid`` when
    the values are equal. So every top value is strictly better than every other value,
    and every bottom value strictly worse (the claims the names make).
    """
    out = pd.Series("mid", index=values.index, dtype="object")
    if len(values) < 2 or values.nunique() < 2:
        return out
    better = values if higher_is_better else -values
    t = tier_size(len(values))
    bottom = (better.rank(method="min", ascending=True) <= t) & (better < better.max())
    top = (better.rank(method="min", ascending=False) <= t) & (better > better.min())
    out[bottom] = "bottom"
    out[top] = "top"
    return out


def _value_feature(features: Sequence[str]) -> str | None:
    others = [f for f in features if f != RECENCY]
    return MONETARY if MONETARY in others else (others[0] if others else None)


def _value_marks(value_feature: str | None) -> tuple[str, str]:
    if value_feature in (None, MONETARY):
        return "high-spend", "low-spend"
    if value_feature.startswith("frequency"):
        return "frequent", "infrequent"
    return f"high {value_feature}", f"low {value_feature}"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == round(value) else f"{value:,.1f}"


def name_clusters(
    df: pd.DataFrame,
    labels: np.ndarray,
    features: Sequence[str],
    recent_days: float | None = None,
    k: int | None = None,
) -> list[str]:
    """Unique short names for clusters 1..k, from the measured ranks of their medians.

    ``df`` holds every customer's (or account's) features, ``labels`` their cluster 1..k.
    Each cluster's median per feature is ranked among the clusters; the top and bottom
    :func:`tier_size` ranks form the top and bottom tiers of that feature (:func:`tiers`).
    The value feature is ``monetary`` (else the first feature other than recency).

    - **Top Performers**: the one cluster with the highest median value, the highest median
      of every other feature but recency, in the most recent tier and more recent than the
      median of all rows;
    - **Dormant**: the least recent cluster, if its median recency is above the median of all
      rows and above ``recent_days`` (most of its members are outside the recency window);
      "(high-spend)" / "(low-spend)" when its value is in the top / bottom tier;
    - otherwise **High-Value**, **Mid-Value** or **Low-Value** by the value tier, with
      "(recent)" in the most recent tier (and not above the median of all rows) or "(lapsed)"
      in the least recent tier (and above that median and ``recent_days``);
    - names still shared get ``#1``, ``#2``, … by median value, highest first (ties: more
      recent first).

    Every name is checked against the medians (:func:`name_claims`) before it is returned;
    a name with a claim that does not hold would be replaced by ``Cluster #i`` (no claim).
    k = 1 gives ``All customers``.
    """
    medians = cluster_medians(df, labels, features, k)
    reference = recency_reference(df, features)
    if len(medians) == 1:
        return [SINGLE]
    names = _candidate_names(medians, reference, recent_days)
    for _ in range(len(names)):  # each pass replaces at least one name, or stops
        claims = name_claims(names, medians, reference, recent_days)
        wrong = sorted(set(claims.loc[~claims["holds"], "cluster"]))
        if not wrong:
            break
        for cluster in wrong:
            names[cluster - 1] = f"{UNVERIFIED} #{cluster}"
    return names


def _candidate_names(medians: pd.DataFrame, reference: float | None, recent_days: float | None) -> list[str]:
    valid = medians.notna().all(axis=1)
    m = medians[valid]
    features = list(m.columns)
    value_feature = _value_feature(features)
    high_mark, low_mark = _value_marks(value_feature)
    no = pd.Series(False, index=m.index)
    if value_feature is not None:
        value = m[value_feature]
        value_tier = tiers(value)
    else:
        value = pd.Series(0.0, index=m.index)
        value_tier = pd.Series("mid", index=m.index)
    if RECENCY in features and reference is not None:
        r = m[RECENCY]
        r_tier = tiers(r, higher_is_better=False)
        recent = (r_tier == "top") & (r <= reference)
        lapsed = (r_tier == "bottom") & (r > reference)
        dormant = (r == r.max()) & (r.nunique() > 1) & (r > reference)
        if recent_days is not None:  # most members of a lapsed cluster are outside the window
            lapsed &= r > recent_days
            dormant &= r > recent_days
    else:
        r = pd.Series(0.0, index=m.index)
        recent, lapsed, dormant = no, no, no
    top = (value == value.max()) & ((value == value.max()).sum() == 1) & (len(m) > 1)
    if value_feature is None:
        top = no
    for feature in features:
        if feature not in (RECENCY, value_feature):
            top &= m[feature] == m[feature].max()
    if RECENCY in features:
        top &= recent

    words = {"top": HIGH, "mid": MID, "bottom": LOW}
    marks = {"top": high_mark, "bottom": low_mark}
    names = pd.Series([f"{UNVERIFIED} #{c}" for c in medians.index], index=medians.index, dtype="object")
    for c in m.index:
        if top[c]:
            names[c] = TOP
        elif dormant[c]:
            names[c] = DORMANT + (f" ({marks[value_tier[c]]})" if value_tier[c] in marks else "")
        else:
            qualifier = " (recent)" if recent[c] else " (lapsed)" if lapsed[c] else ""
            names[c] = words[value_tier[c]] + qualifier
    for _, same in names[valid].groupby(names[valid]):
        if len(same) > 1:
            order = pd.DataFrame({"v": -value[same.index], "r": r[same.index], "c": same.index})
            for j, c in enumerate(order.sort_values(["v", "r", "c"])["c"], start=1):
                names[c] = f"{names[c]} #{j}"
    return names.tolist()


def name_claims(
    names: Sequence[str],
    medians: pd.DataFrame,
    recency_reference: float | None = None,
    recent_days: float | None = None,
) -> pd.DataFrame:
    """What each cluster name claims about the medians, and whether it holds.

    ``medians``: one row per cluster 1..k (as :func:`cluster_medians`), ``recency_reference``
    the median recency of all rows. One row per claim: ``cluster``, ``cluster_name``,
    ``claim`` (a sentence with the measured numbers) and ``holds``. The claims compare
    medians directly (they do not reuse the tiers the names were built from):

    - every name is unique and at most :data:`MAX_NAME_LENGTH` characters;
    - Top Performers: strictly highest median value, highest median of every other non-recency
      feature;
    - Dormant: highest median recency (some cluster being more recent);
    - High-Value / Top Performers / "(high-spend)": median value above that of every cluster
      without one of these marks; Low-Value / "(low-spend)": below every cluster without one;
      Mid-Value: below every high and above every low one;
    - "(recent)" / Top Performers: median recency below every cluster without one of these
      marks and at most the reference; "(lapsed)" / Dormant: above every cluster without one
      of these marks, above the reference and above ``recent_days``;
    - ``#i``: the clusters of the same name are numbered by median value, highest first
      (ties: more recent first).
    """
    medians = medians.reset_index(drop=True)
    k = len(names)
    value_feature = _value_feature(list(medians.columns))
    high_mark, low_mark = _value_marks(value_feature)
    missing = pd.Series(np.nan, index=medians.index)
    value = medians[value_feature] if value_feature else missing
    r = medians[RECENCY] if RECENCY in medians.columns else missing
    vname = value_feature or "value"
    parsed = [_NAME.match(n) for n in names]
    base = [p["base"] if p else n for p, n in zip(parsed, names, strict=True)]
    qual = [(p["qualifier"] or "") if p else "" for p in parsed]
    stem = [n.rsplit(" #", 1)[0] for n in names]
    marks = {
        "high": [b in (TOP, HIGH) or q == high_mark for b, q in zip(base, qual, strict=True)],
        "low": [b == LOW or q == low_mark for b, q in zip(base, qual, strict=True)],
        "recent": [b == TOP or q == "recent" for b, q in zip(base, qual, strict=True)],
        "lapsed": [b == DORMANT or q == "lapsed" for b, q in zip(base, qual, strict=True)],
    }
    rows: list[dict] = []

    def claim(i: int, text: str, holds: bool) -> None:
        rows.append({"cluster": i + 1, "cluster_name": names[i], "claim": text, "holds": bool(holds)})

    def unmarked(series: pd.Series, mark: str, i: int) -> pd.Series:
        keep = [j for j in range(k) if j != i and not marks[mark][j]]
        return series.iloc[keep]

    for i, name in enumerate(names):
        claim(i, f"unique, {len(name)} characters", names.count(name) == 1 and len(name) <= MAX_NAME_LENGTH)
        if base[i] in (UNVERIFIED, SINGLE):
            continue
        known = base[i] in VOCABULARY and qual[i] in ("", high_mark, low_mark, "recent", "lapsed")
        claim(i, "a name of the vocabulary", known)
        if medians.iloc[i].isna().any():
            claim(i, "has members", False)
            continue
        v, rv = value.iloc[i], r.iloc[i]
        if base[i] == TOP:
            rest = medians.drop(index=i)
            for f in medians.columns:
                if f == value_feature:
                    claim(i, f"highest median {f} ({_fmt(v)} > {_fmt(rest[f].max())})", v > rest[f].max())
                elif f != RECENCY:
                    best = rest[f].max()
                    claim(i, f"highest median {f} ({_fmt(medians.at[i, f])})", medians.at[i, f] >= best)
        if marks["high"][i]:
            lower = unmarked(value, "high", i)
            claim(
                i, f"median {vname} {_fmt(v)} > {_fmt(lower.max())} (others)", len(lower) and v > lower.max()
            )
        if marks["low"][i]:
            higher = unmarked(value, "low", i)
            claim(
                i,
                f"median {vname} {_fmt(v)} < {_fmt(higher.min())} (others)",
                len(higher) and v < higher.min(),
            )
        if base[i] == MID:
            highs, lows = value[marks["high"]], value[marks["low"]]
            claim(
                i,
                f"median {vname} {_fmt(v)} between {_fmt(lows.max())} (low) and {_fmt(highs.min())} (high)",
                len(highs) and len(lows) and lows.max() < v < highs.min(),
            )
        if marks["recent"][i]:
            later = unmarked(r, "recent", i)
            claim(
                i,
                f"median recency {_fmt(rv)} days < {_fmt(later.min())} (others), "
                f"≤ {_fmt(recency_reference)} (all)",
                recency_reference is not None and len(later) and rv < later.min() and rv <= recency_reference,
            )
        window = -np.inf if recent_days is None else recent_days
        if marks["lapsed"][i]:
            sooner = unmarked(r, "lapsed", i)
            claim(
                i,
                f"median recency {_fmt(rv)} days > {_fmt(sooner.max())} (others), "
                f"> {_fmt(recency_reference)} (all), > {_fmt(window)} (recent window)",
                recency_reference is not None
                and len(sooner)
                and rv > sooner.max()
                and rv > recency_reference
                and rv > window,
            )
        if base[i] == DORMANT:
            claim(i, f"least recent cluster (median {_fmt(rv)} days)", rv >= r.max() and rv > r.min())
        if parsed[i] and parsed[i]["rank"]:
            same = sorted(
                (int(_NAME.match(names[j])["rank"] or 0), j) for j in range(k) if stem[j] == stem[i]
            )
            ordered = all(
                value.iloc[a] > value.iloc[b] or (value.iloc[a] == value.iloc[b] and r.iloc[a] <= r.iloc[b])
                for (_, a), (_, b) in itertools.pairwise(same)
            )
            claim(
                i,
                f"#{parsed[i]['rank']} of {len(same)} {stem[i]} by median {vname}",
                len(same) > 1 and [n for n, _ in same] == list(range(1, len(same) + 1)) and ordered,
            )
    return pd.DataFrame(rows, columns=["cluster", "cluster_name", "claim", "holds"])


def recency_reference(df: pd.DataFrame, features: Sequence[str]) -> float | None:
    """The median recency of all rows, against which "recent", "lapsed" and "Dormant" are
    checked (``None`` without a recency feature)."""
    return float(df[RECENCY].median()) if RECENCY in features else None


def naming_table(
    df: pd.DataFrame,
    labels: np.ndarray,
    features: Sequence[str],
    names: Sequence[str],
    recent_days: float | None = None,
) -> pd.DataFrame:
    """Per cluster: the measured rank of each median among the clusters (1 = best: lowest
    recency, highest otherwise; ``2 of 4``), what its name claims about the medians and
    whether all of it holds (:func:`name_claims`). Arguments as :func:`name_clusters`."""
    medians = cluster_medians(df, labels, features, len(names))
    claims = name_claims(names, medians, recency_reference(df, features), recent_days)
    k = len(names)
    out = pd.DataFrame({"cluster": range(1, k + 1), "cluster_name": list(names)})
    for feature in medians.columns:
        ranks = medians[feature].rank(method="min", ascending=feature == RECENCY)
        out[f"{feature} rank"] = [f"{r:.0f} of {k}" if pd.notna(r) else "–" for r in ranks]
    named = claims[~claims["claim"].str.startswith(("unique", "a name of"))]
    out["the name claims"] = out["cluster"].map(named.groupby("cluster")["claim"].agg("; ".join)).fillna("–")
    out["claims hold"] = out["cluster"].map(claims.groupby("cluster")["holds"].all()).fillna(True)
    return out


def cluster_profile(
    df: pd.DataFrame, labels: np.ndarray, features: Sequence[str], names: Sequence[str]
) -> pd.DataFrame:
    """One row per cluster 1..k (k = ``len(names)``), even a cluster without customers.

    Columns: ``cluster``, ``cluster_name``, ``customers``, ``customer_share``,
    ``<feature>_median`` (original units, from ``df``) and, when ``df`` has ``monetary``,
    ``revenue_share`` (share of the ``monetary`` total).
    """
    clusters = pd.Index(range(1, len(names) + 1), name="cluster")
    grouped = df.groupby(np.asarray(labels))
    out = pd.DataFrame(index=clusters)
    out["cluster_name"] = list(names)
    out["customers"] = grouped.size().reindex(clusters, fill_value=0)
    out["customer_share"] = out["customers"] / out["customers"].sum()
    medians = grouped[list(features)].median().reindex(clusters)
    for feature in features:
        out[f"{feature}_median"] = medians[feature]
    if "monetary" in df.columns:
        revenue = grouped["monetary"].sum().reindex(clusters, fill_value=0)
        out["revenue_share"] = revenue / df["monetary"].sum()
    return out.reset_index()
