"""Named segments and groups from RFM codes, and their summaries."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from rfm_helpers.analysis.metrics import METRICS

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


SCORE_LETTERS = ("R", "F", "M")
"""The three digits of an RFM code, in order."""


def code_grid(segment_table: pd.DataFrame, scored: pd.DataFrame | None = None) -> pd.DataFrame:
    """The segment table as one row per RFM code: ``rfm_code``, ``R``, ``F``, ``M`` (scores as
    integers), ``segment`` (a Categorical in the table's order) and, given the ``scored``
    customers (with ``rfm_code``), ``customers`` (0 for a code nobody has)."""
    codes = segment_table["rfm_code"].astype(str).str.strip()
    grid = pd.DataFrame({"rfm_code": codes.to_numpy()})
    for position, letter in enumerate(SCORE_LETTERS):
        grid[letter] = grid["rfm_code"].str[position].astype("int64")
    grid["segment"] = pd.Categorical(
        segment_table["segment"].to_numpy(), categories=_order(segment_table["segment"]), ordered=True
    )
    if scored is not None:
        counts = scored["rfm_code"].astype(str).value_counts()
        grid["customers"] = grid["rfm_code"].map(counts).fillna(0).astype("int64")
    return grid.sort_values(["M", "R", "F"]).reset_index(drop=True)


def _has(count: int) -> str:
    return "has" if count == 1 else "have"


def code_table_quirks(grid: pd.DataFrame, n_bins: int = 5) -> pd.DataFrame:
    """Segments whose codes reach both ends of a score (1 and ``n_bins``), measured from
    :func:`code_grid`: the segment table's surprises, such as a segment of loyal-sounding name
    that holds F = 1 codes, or a "lost" one that holds F = 5 codes.

    One row per segment and score letter: ``segment``, ``score`` (R, F or M), ``codes`` (of
    the segment), ``lowest`` / ``highest`` (its codes with that score at 1 / at ``n_bins``,
    comma-separated), ``customers_lowest`` / ``customers_highest`` when ``grid`` has
    ``customers``, and ``note``, a sentence with these numbers.
    """
    rows = []
    for segment, codes in grid.groupby("segment", observed=True, sort=True):
        for letter in SCORE_LETTERS:
            codes = codes.sort_values("rfm_code")
            low, high = codes[codes[letter] == 1], codes[codes[letter] == n_bins]
            if low.empty or high.empty:
                continue
            row = {
                "segment": segment,
                "score": letter,
                "codes": len(codes),
                "lowest": ", ".join(low["rfm_code"]),
                "highest": ", ".join(high["rfm_code"]),
            }
            note = (
                f"{segment} mixes {letter} = 1 and {letter} = {n_bins}: {len(low)} of its {len(codes)} "
                f"codes {_has(len(low))} {letter} = 1 ({row['lowest']}), {len(high)} {_has(len(high))} "
                f"{letter} = {n_bins} ({row['highest']})"
            )
            if "customers" in codes:
                row["customers_lowest"] = int(low["customers"].sum())
                row["customers_highest"] = int(high["customers"].sum())
                note += (
                    f"; {row['customers_lowest']:,} customers are in the {letter} = 1 codes, "
                    f"{row['customers_highest']:,} in the {letter} = {n_bins} codes"
                )
            rows.append(row | {"note": note + "."})
    columns = [
        "segment",
        "score",
        "codes",
        "lowest",
        "highest",
        "customers_lowest",
        "customers_highest",
        "note",
    ]
    out = pd.DataFrame(rows, columns=columns)
    if "customers" not in grid:
        out = out.drop(columns=["customers_lowest", "customers_highest"])
    return out
