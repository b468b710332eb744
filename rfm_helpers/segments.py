"""Named segments and groups from RFM codes, and their summaries."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from rfm_helpers.metrics import METRICS

COHORT = "cohort_month"
"""Derived column for :func:`segment_crosstab`: month of each customer's first purchase."""


def _order(values: pd.Series) -> list[str]:
    """Categories of a Categorical column, else the values in order of first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.categories.tolist()
    return values.drop_duplicates().tolist()


def assign_segments(
    scored: pd.DataFrame, segment_table: pd.DataFrame, segment_groups: pd.DataFrame
) -> pd.DataFrame:
    """Add ``segment`` and ``group`` (ordered Categoricals) to a frame with ``rfm_code``.

    ``segment_table`` has one row per code (``rfm_code``, ``segment``); ``segment_groups``
    maps ``segment`` → ``group``. Category order is the order of first appearance: segments
    as in the segment table (the document's Champions … Lost Customers), groups as in
    ``segment_groups`` (Loyal & High-Value, High-Risk, New & Potential, Inactive & Lost).
    When those columns are Categoricals, their category order is used instead (a table
    sorted by code no longer shows the segments in the document's order).
    A code missing from the table, a code listed twice or a segment without a group raises
    ``ValueError`` naming it, so a segment is never silently missing.
    """
    codes = segment_table["rfm_code"].astype(str).str.strip()
    repeated = codes[codes.duplicated()].unique().tolist()
    if repeated:
        raise ValueError(f"Segment table lists these RFM codes more than once: {', '.join(repeated)}")
    observed = scored["rfm_code"]
    missing = sorted(set(observed.unique()) - set(codes))
    if missing:
        raise ValueError(
            f"RFM codes not in the segment table: {', '.join(missing)} "
            f"({int(observed.isin(missing).sum())} customers); add them to the table"
        )
    segment_order = _order(segment_table["segment"])
    group_of = dict(zip(segment_groups["segment"], segment_groups["group"], strict=True))
    ungrouped = [s for s in segment_order if s not in group_of]
    if ungrouped:
        raise ValueError(f"Segments without a group in the segment groups table: {', '.join(ungrouped)}")

    segment = observed.map(dict(zip(codes, segment_table["segment"], strict=True)))
    out = scored.copy()
    out["segment"] = pd.Categorical(segment, categories=segment_order, ordered=True)
    group_order = _order(segment_groups["group"])
    out["group"] = pd.Categorical(segment.map(group_of), categories=group_order, ordered=True)
    return out


def segment_summary(seg_df: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Size, revenue and typical R, F, M of each segment (or ``by="group"``).

    One row per category of ``seg_df[by]``, in category order, including categories with no
    customers (``customers``, shares and ``revenue`` are 0; their medians and means are
    missing, because there is no value to report). Columns: ``by``, ``customers``,
    ``customer_share``, ``revenue`` (sum of ``monetary``), ``revenue_share``, then
    ``<metric>_median`` and ``<metric>_mean`` for recency, frequency, monetary. Shares are
    of the customers in ``seg_df`` and sum to 1.
    """
    grouped = seg_df.groupby(by, observed=False, sort=True)
    out = grouped.size().rename("customers").to_frame()
    out["customer_share"] = out["customers"] / out["customers"].sum()
    out["revenue"] = grouped["monetary"].sum()
    out["revenue_share"] = out["revenue"] / out["revenue"].sum()
    for stat in ("median", "mean"):
        values = grouped[list(METRICS)].agg(stat)
        for metric in METRICS:
            out[f"{metric}_{stat}"] = values[metric]
    return out.reset_index()


def segment_crosstab(
    seg_df: pd.DataFrame,
    column: str,
    normalize: Literal["index", "columns", "all"] | bool = "columns",
    by: str = "segment",
) -> pd.DataFrame:
    """Customers of each segment (rows, every category) × each value of ``column``.

    ``column`` is a column of ``seg_df`` (e.g. ``country``) or ``"cohort_month"``: the month
    of each customer's first purchase (first-of-month timestamp, from ``first_purchase``),
    used for "segment distribution over time": which segments the customers acquired in
    each month are in now.

    ``normalize``: ``"columns"`` (default: each country's / cohort's customers split across
    segments, each column sums to 1), ``"index"`` (each segment split across the columns),
    ``"all"`` / ``True`` (share of all customers), ``False`` (customer counts). A row or
    column with no customers has missing shares.
    """
    if column == COHORT and COHORT not in seg_df.columns:
        values = seg_df["first_purchase"].dt.to_period("M").dt.to_timestamp().rename(COHORT)
    else:
        values = seg_df[column]
    counts = pd.crosstab(seg_df[by], values).reindex(seg_df[by].cat.categories, fill_value=0)
    counts.index = pd.CategoricalIndex(counts.index, dtype=seg_df[by].dtype, name=by)
    if normalize is False:
        return counts
    if normalize == "index":
        return counts.div(counts.sum(axis=1), axis=0)
    if normalize == "columns":
        return counts.div(counts.sum(axis=0), axis=1)
    return counts / counts.to_numpy().sum()
