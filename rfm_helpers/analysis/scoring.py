"""Quantile scores 1..n for Recency, Frequency and Monetary, and the RFM code."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from rfm_helpers.analysis.metrics import METRICS
from rfm_helpers.config import RFMConfig

_QUANTILE_NAMES = {4: "quartile", 5: "quintile", 10: "decile"}


@dataclass
class ScoreResult:
    """Scores of one metric.

    ``scores``: int 1..n, same index as the input. ``bins``: one row per score 1..n with
    ``score``, ``min``, ``max`` (value range of the customers with that score; missing when
    the score is empty), ``customers`` and ``share`` (actual share of customers).
    ``note``: a plain sentence when the requested method could not be applied as is.
    """

    scores: pd.Series
    bins: pd.DataFrame
    note: str | None = None


def _quantile_word(n_bins: int) -> str:
    return _QUANTILE_NAMES.get(n_bins, f"{n_bins}-quantile")


def _label(values: pd.Series) -> str:
    return str(values.name).capitalize() if values.name is not None else "Values"


def _rank_scores(values: pd.Series, n_bins: int) -> pd.Series:
    # rank(method="min") - 1 = number of values strictly below; integer arithmetic keeps
    # floor(share_below * n) exact (no floating-point edge at share boundaries).
    below = values.rank(method="min").astype("int64") - 1
    return below * n_bins // len(values) + 1


def _bins_table(values: pd.Series, scores: pd.Series, n_bins: int) -> pd.DataFrame:
    stats = values.groupby(scores).agg(["min", "max", "size"]).reindex(range(1, n_bins + 1))
    bins = pd.DataFrame(
        {
            "score": range(1, n_bins + 1),
            "min": stats["min"].to_numpy(),
            "max": stats["max"].to_numpy(),
            "customers": stats["size"].fillna(0).astype("int64").to_numpy(),
        }
    )
    bins["share"] = bins["customers"] / len(values)
    return bins


def quantile_scores(
    values: pd.Series,
    n_bins: int = 5,
    reverse: bool = False,
    method: Literal["rank", "qcut"] = "rank",
) -> ScoreResult:
    """Score each value 1..``n_bins`` by its quantile position (higher value → higher score).

    - ``rank`` (never fails): ``share_below`` = (number of values strictly below x) / N and
      score = floor(share_below · n) + 1. Equal values always share a score; for distinct
      values every score holds floor(N/n) or ceil(N/n) customers. With ties a score can be
      empty (e.g. when 40 % share the lowest value, scores 1 and 2 collapse into 1).
    - ``qcut``: ``pd.qcut(values, n, labels=1..n)`` exactly as the document. When the
      quantile edges repeat (where the document's ``duplicates="drop"`` plus labels raises),
      that metric is scored by ``rank`` and ``note`` says so.

    All values identical: quantiles are impossible; every customer gets the middle score
    ceil(n/2) and ``note`` says so. ``reverse=True`` returns n + 1 − score (Recency: lower
    is better). Empty or missing values raise ``ValueError``.
    """
    label = _label(values)
    if values.empty:
        raise ValueError(f"{label}: cannot score an empty series")
    if values.isna().any():
        raise ValueError(f"{label}: {int(values.isna().sum())} missing values; scores need every value")

    note = None
    if values.nunique() == 1:
        scores = pd.Series(math.ceil(n_bins / 2), index=values.index, dtype="int64")
        note = (
            f"{label}: all {len(values)} customers have the same value ({values.iloc[0]}), so "
            f"{_quantile_word(n_bins)}s are impossible; every customer "
            f"gets the middle score {math.ceil(n_bins / 2)}."
        )
    elif method == "qcut":
        codes, edges = pd.qcut(values, n_bins, labels=False, retbins=True, duplicates="drop")
        if len(edges) == n_bins + 1:
            scores = pd.Series(codes, index=values.index).astype("int64") + 1
        else:
            scores = _rank_scores(values, n_bins)
            counts = values.value_counts()
            note = (
                f"{label}: {counts.iloc[0] / len(values):.0%} of customers share the value "
                f"{counts.index[0]}, so {_quantile_word(n_bins)} edges "
                "repeat; scored by rank position instead (ties share a score)."
            )
    else:
        scores = _rank_scores(values, n_bins)

    if reverse:
        scores = n_bins + 1 - scores
    scores = scores.rename(values.name)
    return ScoreResult(scores=scores, bins=_bins_table(values, scores, n_bins), note=note)


def score_rfm(rfm: pd.DataFrame, cfg: RFMConfig) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Add ``r_score`` (reversed: recent → 5), ``f_score``, ``m_score`` and ``rfm_code``.

    Scores use ``cfg.n_bins`` and ``cfg.scoring``. Returns the scored copy, the bins table
    (``metric`` = recency / frequency / monetary, then the columns of
    :class:`ScoreResult` ``bins``) and the notes of the metrics that needed one.
    """
    scored = rfm.copy()
    bins, notes = [], []
    for metric, column in zip(METRICS, ("r_score", "f_score", "m_score"), strict=True):
        result = quantile_scores(rfm[metric], cfg.n_bins, reverse=metric == "recency", method=cfg.scoring)
        scored[column] = result.scores
        bins.append(result.bins.assign(metric=metric))
        if result.note:
            notes.append(result.note)
    scored["rfm_code"] = (
        scored["r_score"].astype(str) + scored["f_score"].astype(str) + scored["m_score"].astype(str)
    )
    table = pd.concat(bins, ignore_index=True)
    return scored, table[["metric", "score", "min", "max", "customers", "share"]], notes
