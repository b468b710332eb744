"""The snapshot date R is counted from, and the outlier policy applied to the customer table.

The customer table itself (R, F, M per customer) is SQL (``sql/rfm/customer_metrics.sql``),
built by :mod:`rfm_helpers.sql.transactions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfm_helpers.config import RFMConfig

METRICS = ("recency", "frequency", "monetary")
"""The three RFM columns, in the order reports show them."""


class MetricsError(ValueError):
    """The data and the RFM parameters do not fit together; the message says what to change."""


def _date_range(clean: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    if clean.empty:
        raise MetricsError("The transactions frame is empty: there is nothing to compute RFM from")
    dates = clean["invoice_date"]
    return dates.min(), dates.max()


def last_allowed_day(cfg: RFMConfig, today: pd.Timestamp | None = None) -> pd.Timestamp:
    """The last day a transaction may be dated (midnight): ``rfm.snapshot_date`` when recency
    is counted from it, else ``today`` (default: the day the report runs), since a transaction
    in the future is a wrong date. Used by :func:`resolve_snapshot` and the out-of-core path."""
    if cfg.recency_from == "snapshot" and cfg.snapshot_date is not None:
        return pd.Timestamp(cfg.snapshot_date)
    return pd.Timestamp(today if today is not None else pd.Timestamp.now()).normalize()


def late_rows_error(
    cfg: RFMConfig,
    *,
    count: int,
    latest: pd.Timestamp,
    where: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    today: pd.Timestamp | None = None,
) -> MetricsError:
    """The error for ``count`` transactions dated after :func:`last_allowed_day` (the latest
    one on ``latest``, ``where`` naming its invoice and customer), for both engines."""
    today = pd.Timestamp(today if today is not None else pd.Timestamp.now()).normalize()
    rows = f"{count:,} transaction{'s are' if count != 1 else ' is'}"
    span = (
        f"the latest on {latest:%Y-%m-%d %H:%M}{f' ({where})' if where else ''}; the data runs from "
        f"{first.date()} to {last.date()}"
    )
    future = last.normalize() > today
    if cfg.recency_from == "snapshot" and cfg.snapshot_date is not None:
        later = f"Set rfm.snapshot_date to {last.date()} or later"
        if future:
            fix = (
                f"{later} if those dates are right; they are in the future (today is {today.date()}), "
                "so check them in the file first."
            )
        else:
            fix = f"{later}, or to null for the day after the last transaction."
        return MetricsError(
            f"rfm.snapshot_date is {cfg.snapshot_date}, before the last transaction: {rows} dated after "
            f"it, {span}. Recency is counted back from the snapshot date, so it would be negative for "
            f"them. {fix}"
        )
    origin = (
        "rfm.recency_from is last_transaction, so recency would be counted from that future day"
        if cfg.recency_from == "last_transaction"
        else "rfm.snapshot_date is null, so recency would be counted from the day after that future day"
    )
    return MetricsError(
        f"{rows} dated after today ({today.date()}, the day the report runs), {span}. {origin}. Fix "
        "those dates in the file (a wrong year, or day and month swapped by input.date_format?), or, "
        f"if they are right, set rfm.snapshot_date to {last.date()} or later."
    )


def resolve_snapshot(
    clean: pd.DataFrame, cfg: RFMConfig, *, today: pd.Timestamp | None = None
) -> pd.Timestamp:
    """The reference day recency is counted from (midnight, naive).

    - ``cfg.recency_from == "last_transaction"`` (the first document's method): the day of
      the last transaction, so the most recent customers have recency 0. ``snapshot_date``
      is ignored.
    - otherwise ``cfg.snapshot_date`` if set, else the day after the last transaction.

    Dates are compared by day: a snapshot on the day of the last transaction is allowed
    (those customers get recency 0). Transactions dated after :func:`last_allowed_day` (the
    snapshot date, or with ``snapshot_date: null`` the day the report runs, ``today``) raise
    :class:`MetricsError` with their count and the latest one's date, invoice and customer
    (when ``clean`` has those columns), because recency would be negative, or counted from a
    day in the future.
    """
    first, last = _date_range(clean)
    last_day = last.normalize()
    limit = last_allowed_day(cfg, today)
    late = clean["invoice_date"] >= limit + pd.Timedelta(days=1)
    if late.any():
        rows = clean.loc[late]
        latest = rows["invoice_date"].max()
        at = rows[rows["invoice_date"] == latest]
        keys = [c for c in ("invoice_id", "customer_id") if c in at.columns]
        row = at.sort_values(keys).iloc[0] if keys else at.iloc[0]
        where = ", ".join(
            f"{label} {row[c]}"
            for c, label in (("invoice_id", "invoice"), ("customer_id", "customer"))
            if c in at.columns and pd.notna(row[c])
        )
        raise late_rows_error(
            cfg, count=int(late.sum()), latest=latest, where=where, first=first, last=last, today=today
        )
    if cfg.recency_from == "last_transaction":
        return last_day
    if cfg.snapshot_date is None:
        return last_day + pd.Timedelta(days=1)
    return pd.Timestamp(cfg.snapshot_date)


def apply_outlier_policy(rfm: pd.DataFrame, cfg: RFMConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply ``cfg.outliers`` at the ``cfg.outlier_quantile`` of recency, frequency, monetary.

    The threshold of each metric is ``rfm[metric].quantile(q)`` with pandas' default linear
    interpolation, over all customers. A customer is *above* a metric when its value is
    strictly greater (``>``) than the threshold, so values equal to it are kept, as in the
    document (it keeps ``<= quantile``).

    - ``keep``: the frame is returned unchanged; the report only counts customers above.
    - ``trim`` (the document): customers above the threshold on ANY metric are dropped.
    - ``cap``: values above the threshold are set to it (winsorized upward only). Recency and
      frequency stay integers: their cap is ``floor(threshold)``, which caps exactly the
      same customers because an integer is ``> t`` iff it is ``> floor(t)``.

    Returns ``(frame, report)``. ``report`` has one row per metric: ``metric``,
    ``threshold``, ``customers_above`` and ``revenue_above`` (sum of ``monetary`` of those
    customers). Policy-wide totals are in ``report.attrs``: ``policy``, ``quantile``,
    ``customers_before``, ``customers_removed`` and ``revenue_removed`` (both 0 unless
    ``trim``; a customer above on several metrics counts once) and
    ``revenue_removed_share``.
    """
    q = cfg.outlier_quantile
    values = rfm[list(METRICS)]
    thresholds = values.quantile(q)
    above = values.gt(thresholds, axis=1)
    report = pd.DataFrame(
        {
            "metric": list(METRICS),
            "threshold": thresholds.to_numpy(dtype="float64"),
            "customers_above": above.sum().to_numpy(dtype="int64"),
            "revenue_above": [float(rfm.loc[above[m], "monetary"].sum()) for m in METRICS],
        }
    )
    removed = above.any(axis=1) if cfg.outliers == "trim" else pd.Series(False, index=rfm.index)
    total_revenue = float(rfm["monetary"].sum())
    revenue_removed = float(rfm.loc[removed, "monetary"].sum())
    report.attrs = {
        "policy": cfg.outliers,
        "quantile": q,
        "customers_before": len(rfm),
        "customers_removed": int(removed.sum()),
        "revenue_removed": revenue_removed,
        "revenue_removed_share": revenue_removed / total_revenue if total_revenue else float("nan"),
    }

    if cfg.outliers == "trim":
        return rfm.loc[~removed].copy(), report
    out = rfm.copy()
    if cfg.outliers == "cap":
        for metric in METRICS:
            cap = thresholds[metric]
            if pd.api.types.is_integer_dtype(out[metric]):
                cap = np.floor(cap).astype(out[metric].dtype)
            out[metric] = out[metric].clip(upper=cap)
    return out, report
