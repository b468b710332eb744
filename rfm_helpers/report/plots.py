"""Charts for the reports. Each function takes tidy DataFrames and returns a Figure with a
title, labelled axes and units, so every chart in every report reads the same way.

Colours and category order come from :mod:`rfm_helpers.report.style` (one colour per segment, group
and cluster, on every page); bars of anything else (months, countries, products) share one
neutral colour instead of being coloured by rank. Every figure carries its title as alt text
for the HTML pages (:func:`figure_title`)."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable, Sequence
from functools import partial

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from rfm_helpers import units
from rfm_helpers.report import style

GROUP_COLORS = tuple(style.GROUP_COLORS.values())
"""Loyal & High-Value, High-Risk, New & Potential, Inactive & Lost (the groups' CSV order)."""


def setup() -> None:
    """House style: readable fonts, light grid, moderate resolution to keep HTML small."""
    # seaborn 0.13 still passes matplotlib 3.11's deprecated `vert`; the warning is noise for
    # analysts reading the notebooks, not something they can act on.
    warnings.filterwarnings("ignore", category=mpl.MatplotlibDeprecationWarning, module="seaborn")
    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update(
        {
            "figure.dpi": 90,
            "savefig.dpi": 90,
            "figure.figsize": (10, 5),
            "axes.titleweight": "bold",
            "axes.titlesize": 13,
            "figure.autolayout": False,
        }
    )


def compact_axis(axis: mpl.axis.Axis, currency: str = "") -> None:
    """Ticks written short (:func:`units.compact`): 1, 10, 1k, 2.5M, never powers of ten nor
    ``1,000,000``, so that ticks of a log axis a decade apart never run together; with
    ``currency`` as money (£200k, IDR 1M)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: units.compact(v, currency)))


def count_axis(axis: mpl.axis.Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: units.count_tick(v)))


def wrap_label(text: str, width: int = 14) -> str:
    """Category label on up to a few short lines, so ticks can stay horizontal."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def figure_title(fig: Figure) -> str:
    """What the figure shows, in words: its overall title, then its panels' titles
    (``Cluster profiles (median per cluster): Median recency; Median frequency``)."""
    suptitle = fig.get_suptitle().strip()
    panels = list(dict.fromkeys(t for ax in fig.axes if (t := ax.get_title().strip())))
    if suptitle and panels:
        return f"{suptitle}: {'; '.join(panels)}"
    return suptitle or "; ".join(panels) or "Chart"


def _with_alt_text(fig: Figure) -> Figure:
    """Let ``display(fig)`` carry the title: as the plain-text form of the output and as the
    ``alt`` of its PNG (the report template writes it into ``<img alt=...>``)."""

    def _repr_mimebundle_(include=None, exclude=None):  # IPython's display protocol
        title = figure_title(fig)
        return {"text/plain": title}, {"image/png": {"alt": title}}

    fig._repr_mimebundle_ = _repr_mimebundle_
    return fig


def _finish(fig: Figure) -> Figure:
    fig.tight_layout()
    plt.close(fig)  # shown once by the notebook's display(), not again at cell end
    return _with_alt_text(fig)


def _fit_texts(ax: plt.Axes, texts: Sequence[mpl.text.Text], horizontal: bool = True) -> None:
    """Widen the value axis until every bar label lies inside the axes (long labels such as
    ``27.0% (n = 3,916)`` would otherwise run over the frame)."""
    if not texts:
        return
    renderer = ax.get_figure().canvas.get_renderer()
    for _ in range(3):  # widening changes the scale, so measure again
        # Reading the limits applies pending autoscaling, which is all the texts' extents
        # depend on: the same extents as after drawing the whole figure, at a fraction of the
        # cost (the figure was drawn up to three times per panel).
        low, high = ax.get_xlim() if horizontal else ax.get_ylim()
        inverse = ax.transData.inverted()
        if horizontal:
            right = max(inverse.transform(t.get_window_extent(renderer))[:, 0].max() for t in texts)
            if right <= high:
                return
            ax.set_xlim(low, low + (right - low) * 1.04)
        else:
            top = max(inverse.transform(t.get_window_extent(renderer))[:, 1].max() for t in texts)
            if top <= high:
                return
            ax.set_ylim(low, low + (top - low) * 1.04)


def _label_bars(ax: plt.Axes, labels: Sequence[str], horizontal: bool = True) -> None:
    texts = []
    for container in ax.containers[:1]:
        texts += ax.bar_label(container, labels=list(labels), padding=3, fontsize=9)
    _fit_texts(ax, texts, horizontal)


def _hbars(
    data: pd.DataFrame,
    category: str,
    value: str,
    labels: Sequence[str],
    title: str,
    xlabel: str,
    value_axis: Callable[[mpl.axis.Axis], None],
    colors: Sequence[str] | None = None,
) -> Figure:
    """Horizontal bars, bottom row of ``data`` at the bottom, each bar labelled; ``colors``
    per bar (segments, groups, clusters), else the neutral colour for all."""
    fig, ax = plt.subplots(figsize=(10, max(3, 0.4 * len(data) + 1)))
    names = [wrap_label(str(n), 28) for n in data[category]]
    ax.barh(range(len(data)), data[value], color=list(colors) if colors is not None else style.NEUTRAL)
    ax.set_yticks(range(len(data)), names)
    ax.set_ylim(-0.6, len(data) - 0.4)
    _label_bars(ax, labels)
    value_axis(ax.xaxis)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    return _finish(fig)


def _percent_axis(axis: mpl.axis.Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: units.percent(v)))


# --- cleaning -------------------------------------------------------------------------


def missing_matrix(df: pd.DataFrame, max_rows: int = 3000) -> Figure:
    """missingno matrix on an evenly spaced sample of rows (in file order)."""
    import missingno as msno

    step = max(1, len(df) // max_rows)
    ax = msno.matrix(df.iloc[::step], figsize=(10, 4), fontsize=10, sparkline=False)
    sampled = f"1 row in {step:,} of {len(df):,}" if step > 1 else f"all {len(df):,} rows"
    ax.set_title(f"Missing values by column ({sampled}; white = missing)", pad=12)
    ax.set_xlabel("Column")
    ax.set_ylabel("Row (file order)")
    # missingno numbers the sampled rows 1..n; label the ends with the file's own row numbers.
    sampled_rows = len(df.iloc[::step])
    ax.set_yticks([0, sampled_rows - 1], ["1", f"{len(df):,}"])
    return _finish(ax.get_figure())


def _signed(value: float, fmt: Callable[[float], str]) -> str:
    """``+£897k`` / ``−9,288``: a step's direction written out, not left to the bar colour."""
    return ("+" if value > 0 else "−" if value < 0 else "") + fmt(abs(value))


def cleaning_waterfall(ledger: pd.DataFrame, currency: str = "£") -> Figure:
    """Rows and revenue from the raw file to the clean table, one bar per cleaning rule.

    Two full-width panels, one above the other, so the rule names fit horizontally and every
    step is labelled with its signed change (a rule can add revenue: removing cancellations
    removes negative amounts)."""
    applied = ledger[ledger["step"].eq("raw") | ledger["applied"]]
    names = [wrap_label(n, 13) for n in applied["step"].str.replace("_", " ").tolist() + ["clean"]]
    fig, axes = plt.subplots(2, 1, figsize=(11, 8.5))
    for ax, removed, remaining, label in (
        (axes[0], "rows_removed", "rows_remaining", "Rows"),
        (axes[1], "revenue_removed", "revenue_remaining", f"Revenue ({currency})"),
    ):
        is_money = removed == "revenue_removed"
        fmt = (lambda v: units.money(v, currency)) if is_money else units.integer
        start = applied[remaining].iloc[0]
        steps = -applied[removed].iloc[1:].to_numpy(dtype=float)
        bottoms = np.concatenate([[0.0], start + np.concatenate([[0.0], np.cumsum(steps)[:-1]]), [0.0]])
        heights = np.concatenate([[start], steps, [applied[remaining].iloc[-1]]])
        lows = np.where(heights < 0, bottoms + heights, bottoms)
        colors = (
            [style.NEUTRAL] + [style.ACCENT if h < 0 else style.POSITIVE for h in steps] + [style.NEUTRAL]
        )
        ax.bar(range(len(names)), np.abs(heights), bottom=lows, color=colors)
        labels = [fmt(heights[0])] + [_signed(h, fmt) for h in steps] + [fmt(heights[-1])]
        for x, (low, h, text) in enumerate(zip(lows, heights, labels, strict=True)):
            ax.text(x, low + abs(h), text, ha="center", va="bottom", fontsize=9)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.08)  # room for the labels above the tallest bar
        ax.set_xticks(range(len(names)), names, fontsize=9)
        ax.set_title(f"{label}: raw file → clean table")
        ax.set_ylabel(label)
        (compact_axis(ax.yaxis, currency) if is_money else count_axis(ax.yaxis))
    axes[1].set_xlabel(
        "Cleaning rule (red = removed; green = the total rises because the removed lines had "
        "negative revenue)"
    )
    return _finish(fig)


N_COLUMNS = ("customers", "accounts", "rows", "orders")
"""Columns :func:`share_bars` takes the size ``n`` of each bar from, first found wins."""


def share_bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    xlabel: str,
    top_n: int = 15,
    sort: bool = True,
    n: str | None = "auto",
) -> Figure:
    """Horizontal bars of a share (0..1) labelled in %: the ``top_n`` largest first, or all rows
    in the table's order (top to bottom) when not ``sort`` (e.g. months).

    Each label also gives the bar's size, ``27.0% (n = 3,916 customers)``, from the column
    ``n`` (``"auto"``: the first of :data:`N_COLUMNS` in ``table``; ``None``: no size), so a
    share of a country with 9 customers is not read like one of 3,916."""
    data = table.nlargest(top_n, value).sort_values(value) if sort else table.iloc[::-1]
    if n == "auto":
        n = next((c for c in N_COLUMNS if c in data.columns and c != value), None)
    labels = [f"{v:.1%}" for v in data[value]]
    if n is not None:
        labels = [
            f"{label} (n = {units.integer(size)} {n})" for label, size in zip(labels, data[n], strict=True)
        ]
    return _hbars(data, category, value, labels, title, xlabel, _percent_axis)


# --- EDA ------------------------------------------------------------------------------


def monthly_revenue_orders(monthly: pd.DataFrame, currency: str = "£") -> Figure:
    """``monthly``: month, revenue, orders, customers."""
    fig, ax = plt.subplots(figsize=(11, 4.5))
    labels = pd.to_datetime(monthly["month"]).dt.strftime("%b %Y")
    ax.bar(labels, monthly["revenue"], color=style.NEUTRAL, label="Revenue")
    compact_axis(ax.yaxis, currency)
    ax.set_ylabel(f"Revenue ({currency})")
    ax.set_xlabel("Month")
    ax2 = ax.twinx()
    ax2.plot(labels, monthly["orders"], color=style.SECOND_SERIES, marker="o", label="Orders")
    ax2.set_ylabel("Orders (distinct invoices)")
    ax2.grid(False)
    count_axis(ax2.yaxis)
    ax.tick_params(axis="x", rotation=45)
    ax.set_title("Revenue and orders by month")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, ["Revenue", "Orders"], loc="upper left")
    return _finish(fig)


def top_bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    xlabel: str,
    currency: str | None = None,
    sort: bool = True,
) -> Figure:
    """Horizontal bars with value labels: largest on top, or in the table's order if not ``sort``.
    Channel codes (a ``channels`` column: ``wa+sms``) are written as people say them."""
    data = table.sort_values(value) if sort else table.iloc[::-1]
    if category in ("channel", "channels", "profile"):
        data = data.assign(**{category: data[category].map(style.readable_channels)})
    labels = [units.money(v, currency) if currency else units.integer(v) for v in data[value]]
    value_axis = partial(compact_axis, currency=currency) if currency else count_axis
    return _hbars(data, category, value, labels, title, xlabel, value_axis)


def distribution(
    values: pd.Series,
    title: str,
    xlabel: str,
    log_x: bool = False,
    bins: int = 50,
    clip_quantile: float = 0.99,
    ylabel: str = "Count",
    currency: str | None = None,
) -> Figure:
    """Histogram of a customer- or order-level metric; the top 1 % is folded into the last bin
    so that one extreme value does not squash the chart (the caption says so). ``ylabel``
    names what is counted (orders, customers); ``currency`` marks money values (ticks, median
    and clip value written £1k). Ticks are compact (1k, 10M), so they never run together."""
    fmt = (lambda v: units.money(v, currency)) if currency else units.number
    whole_numbers = bool((values % 1 == 0).all())
    upper = values.quantile(clip_quantile)
    if whole_numbers:
        upper = float(np.ceil(upper))  # an interpolated 198.01 is no count a customer can have
    clipped = values.clip(upper=upper)
    fig, ax = plt.subplots(figsize=(10, 4))
    if log_x:
        low, high = max(clipped.min(), 1), max(upper, 2)
        if whole_numbers:
            # Whole numbers (lines per order): edges halfway between integers, otherwise narrow
            # log bins that hold no integer leave empty gaps between the bars.
            edges = np.unique(np.round(np.geomspace(low, high + 1, bins))) - 0.5
        else:
            edges = np.geomspace(low, high, bins)
        ax.hist(clipped, bins=edges, color=style.NEUTRAL)
        ax.set_xscale("log")
    else:
        ax.hist(clipped, bins=bins, color=style.NEUTRAL)
    compact_axis(ax.xaxis, currency or "")
    ax.axvline(values.median(), color=style.ACCENT, linestyle="--", label=f"median {fmt(values.median())}")
    ax.legend()
    ax.set_title(
        f"{title} (values above the {clip_quantile:.0%} quantile, {fmt(upper)}, shown in the last bin)"
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    count_axis(ax.yaxis)
    return _finish(fig)


# --- RFM ------------------------------------------------------------------------------

METRIC_LABELS = {
    "recency": "Recency (days since last {event})",
    "frequency": "Frequency (orders)",
    "monetary": "Monetary (revenue, {currency})",
    "frequency_broadcast": "Campaigns (finished broadcasts)",
    "frequency_charged": "Charged messages",
}


def metric_label(
    metric: str, currency: str = "£", frequency_unit: str = "orders", entity: str = "customers"
) -> str:
    """Axis label of a metric with its unit; ``entity="accounts"``: recency since the last campaign."""
    if metric == "frequency":
        return f"Frequency ({frequency_unit})"
    event = "campaign" if entity == "accounts" else "order"
    label = METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())
    return label.format(currency=currency, event=event)


def metric_boxplots(
    rfm: pd.DataFrame,
    thresholds: pd.DataFrame | None = None,
    currency: str = "£",
    frequency_unit: str = "orders",
) -> Figure:
    """One boxplot per metric (log scale for F and M); the outlier threshold drawn if given."""
    metrics = ["recency", "frequency", "monetary"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, metric in zip(axes, metrics, strict=True):
        values = rfm[metric].clip(lower=0.5) if metric != "recency" else rfm[metric]
        sns.boxplot(x=values, ax=ax, color=style.NEUTRAL_LIGHT, fliersize=2)
        if metric != "recency":
            ax.set_xscale("log")
            compact_axis(ax.xaxis)
        if thresholds is not None:
            limit = thresholds.set_index("metric").loc[metric, "threshold"]
            shown = units.money(limit, currency) if metric == "monetary" else units.number(limit)
            ax.axvline(limit, color=style.ACCENT, linestyle="--", label=f"threshold {shown}")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xlabel(
            metric_label(metric, currency, frequency_unit) + (" – log scale" if metric != "recency" else "")
        )
        ax.set_title(metric.capitalize())
    fig.suptitle("Distribution of R, F and M across customers (boxes: middle 50 %; dots: outliers)")
    return _finish(fig)


def score_shares(bins: pd.DataFrame) -> Figure:
    """Actual share of customers per score, per metric (ideal: 20 % each)."""
    fig, ax = plt.subplots(figsize=(10, 4))
    data = bins.assign(metric=bins["metric"].str.capitalize())
    sns.barplot(data=data, x="score", y="share", hue="metric", ax=ax, palette=style.SCORE_COLORS)
    ax.axhline(1 / bins["score"].nunique(), color="grey", linestyle="--", label="equal share")
    _percent_axis(ax.yaxis)
    ax.set_title("Share of customers per score (ties share a score, so shares can differ from 20 %)")
    ax.set_xlabel("Score (5 = best)")
    ax.set_ylabel("Share of customers")
    ax.legend(title="", ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    return _finish(fig)


def _category_noun(category: str) -> str:
    """``cluster_name`` → ``cluster``: how a title names one category."""
    return "cluster" if category == "cluster_name" else category.replace("_", " ")


def _in_display_order(summary: pd.DataFrame, category: str) -> pd.DataFrame:
    """Rows of ``summary`` top to bottom in the categories' own order (the reference table's
    for segments and groups, cluster numbers for clusters), reversed for ``barh``."""
    if isinstance(summary[category].dtype, pd.CategoricalDtype):
        summary = summary.sort_values(category)
    elif "cluster" in summary.columns and category == "cluster_name":
        summary = summary.sort_values("cluster")
    return summary.iloc[::-1]


def _category_colors(data: pd.DataFrame, category: str) -> list[str]:
    """Colours of ``data[category]`` (bottom-to-top rows of a ``barh``), from :mod:`style`."""
    names = data[category].astype(str).tolist()
    kind = style.kind_of(category) or style.infer_kind(names)
    if kind == "cluster":  # by cluster number: all clusters, cluster 1 first
        numbers = data["cluster"] if "cluster" in data.columns else pd.Series(range(len(names), 0, -1))
        return [style.CLUSTER_COLORS[(int(n) - 1) % len(style.CLUSTER_COLORS)] for n in numbers]
    # categories' own order, else top to bottom: a new name gets the same colour in every chart
    categorical = isinstance(data[category].dtype, pd.CategoricalDtype)
    lookup = style.color_map(style.ordered(data[category]) if categorical else names[::-1], kind)
    return [lookup[n] for n in names]


def segment_sizes(summary: pd.DataFrame, category: str = "segment", entity: str = "customers") -> Figure:
    """Customers per segment (or group, cluster), in the reference table's order."""
    data = _in_display_order(summary, category)
    labels = [f"{c:,} ({s:.0%})" for c, s in zip(data["customers"], data["customer_share"], strict=True)]
    return _hbars(
        data,
        category,
        "customers",
        labels,
        f"{entity.capitalize()} per {_category_noun(category)}",
        entity.capitalize(),
        count_axis,
        colors=_category_colors(data, category),
    )


# --- outlook --------------------------------------------------------------------------


def repeat_shares(
    table: pd.DataFrame,
    category: str,
    window_days: int,
    entity: str = "customers",
    done: str = "ordered again",
) -> Figure:
    """Share of each category's customers (or accounts: ``entity``) at the backtest cutoff who
    ``done`` (ordered again, ran a campaign again) in the held-out window, with its 95 % interval
    and the overall share as a dashed line (:func:`rfm_helpers.analysis.backtest.outcomes_by`).
    Each label sits past its whisker; the axis leaves room for a label beside a share near 100 %."""
    data = _in_display_order(table[table["customers"] > 0], category)
    fig = _hbars(
        data,
        category,
        "repeat_share",
        [""] * len(data),
        f"{done[:1].upper()}{done[1:]} within {window_days} days of the cutoff, "
        f"by {_category_noun(category)} then",
        f"Share of the {entity} who {done} (95 % interval)",
        _percent_axis,
        colors=_category_colors(data, category),
    )
    ax = fig.axes[0]
    rows = np.arange(len(data))
    low = (data["repeat_share"] - data["share_low"]).to_numpy()
    high = (data["share_high"] - data["repeat_share"]).to_numpy()
    ax.errorbar(data["repeat_share"], rows, xerr=[low, high], fmt="none", ecolor="#333333", capsize=3)
    for row, (share, top, n) in enumerate(
        zip(data["repeat_share"], data["share_high"], data["customers"], strict=True)
    ):
        ax.annotate(
            f"{units.percent(share)} of {units.integer(n)}",
            (top, row),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, float(data["share_high"].max()) + 0.25)
    ax.set_xticks([tick for tick in np.arange(0, 1.01, 0.2) if tick <= ax.get_xlim()[1]])
    overall = table.attrs.get("overall_share")
    if overall is not None:
        ax.axvline(
            overall,
            color="#333333",
            linestyle="--",
            linewidth=1,
            label=f"all {entity}: {units.percent(overall)}",
        )
        # below the axis: inside, it could cover the label of a bar
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=9, frameon=False)
        fig.tight_layout()
    return fig


FLOW_GAP = 0.02
"""Vertical gap between the stacked categories of :func:`migration_flow` (share of the total)."""


def _stack(sizes: np.ndarray, total: float) -> np.ndarray:
    """Bottom of each of ``sizes`` stacked top to bottom on [0, 1], with :data:`FLOW_GAP` between."""
    heights = sizes / total * (1 - FLOW_GAP * (len(sizes) - 1))
    tops = 1 - np.concatenate([[0.0], np.cumsum(heights[:-1] + FLOW_GAP)])
    return tops - heights


def migration_flow(counts: pd.DataFrame, category: str, entity: str = "customers") -> Figure:
    """Where each category's customers went: the categories at the cutoff stacked on the left
    (rows of ``counts``, :class:`rfm_helpers.analysis.backtest.Migration`), those now on the right
    (its columns), every height proportional to its customers, and a band from each left
    category to each right one as wide as the customers who made that move, in the colour of
    the category they left ("new" and "gone": :data:`style.OUTSIDE`). A category without
    customers on its side is left out."""
    counts = counts.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0]
    values = counts.to_numpy(dtype="float64")
    total = values.sum()
    if total == 0:
        raise ValueError("migration_flow: the transition matrix is empty")
    rows, columns = [str(r) for r in counts.index], [str(c) for c in counts.columns]
    kind = style.kind_of(category)
    palette = style.color_map([r for r in rows if r in columns], kind)
    colour = {name: palette.get(name, style.OUTSIDE) for name in [*rows, *columns]}
    left_bottom = _stack(values.sum(axis=1), total)
    right_bottom = _stack(values.sum(axis=0), total)
    scale = (1 - FLOW_GAP * (len(rows) - 1)) / total, (1 - FLOW_GAP * (len(columns) - 1)) / total
    fig, ax = plt.subplots(figsize=(10, max(4.5, 0.55 * max(len(rows), len(columns)) + 2)))
    x_left, x_right, bar = 0.0, 1.0, 0.04
    left_used = left_bottom + values.sum(axis=1) * scale[0]  # bands fill each bar from its top
    right_used = right_bottom + values.sum(axis=0) * scale[1]
    curve = np.linspace(0, 1, 50)
    ease = 3 * curve**2 - 2 * curve**3  # a smooth S from left to right
    for i, row in enumerate(rows):
        for j in range(len(columns)):
            if values[i, j] == 0:
                continue
            left_h, right_h = values[i, j] * scale[0], values[i, j] * scale[1]
            top = left_used[i] + (right_used[j] - left_used[i]) * ease
            bottom = (left_used[i] - left_h) + ((right_used[j] - right_h) - (left_used[i] - left_h)) * ease
            xs = x_left + bar + (x_right - x_left - 2 * bar) * curve
            ax.fill_between(xs, bottom, top, color=colour[row], alpha=0.45, linewidth=0)
            left_used[i] -= left_h
            right_used[j] -= right_h
    for names, bottoms, sizes, x, side in (
        (rows, left_bottom, values.sum(axis=1), x_left, "right"),
        (columns, right_bottom, values.sum(axis=0), x_right - bar, "left"),
    ):
        for name, low, size in zip(names, bottoms, sizes, strict=True):
            height = size * (scale[0] if side == "right" else scale[1])
            ax.add_patch(mpl.patches.Rectangle((x, low), bar, height, color=colour[name], linewidth=0))
            label_x = x - 0.01 if side == "right" else x + bar + 0.01
            ax.text(
                label_x,
                low + height / 2,
                f"{name} ({units.integer(size)})",
                ha=side,
                va="center",
                fontsize=9,
            )
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(-0.02, 1.02)
    ax.axis("off")
    noun = _category_noun(category)
    ax.text(x_left + bar / 2, 1.04, f"{noun.capitalize()} at the cutoff", ha="center", fontsize=10)
    ax.text(x_right - bar / 2, 1.04, f"{noun.capitalize()} now", ha="center", fontsize=10)
    ax.set_title(f"Where each {noun}'s {entity} went, from the cutoff to now ({entity} per band)", pad=22)
    return _finish(fig)


# --- clustering -----------------------------------------------------------------------


def elbow(table: pd.DataFrame, chosen_k: int) -> Figure:
    """Inertia (elbow) and silhouette by k, with the chosen k marked."""
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(
        table["k"], table["inertia"], marker="o", color=style.NEUTRAL, label="Inertia (within-cluster spread)"
    )
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel("Inertia")
    count_axis(ax.yaxis)
    ax2 = ax.twinx()
    ax2.plot(
        table["k"],
        table["silhouette"],
        marker="s",
        color=style.SECOND_SERIES,
        label="Silhouette (higher = better separated)",
    )
    ax2.set_ylabel("Silhouette score")
    ax2.grid(False)
    ax.axvline(chosen_k, color="grey", linestyle="--")
    ax.set_xticks(table["k"])
    ax.set_title(f"Elbow method and silhouette (chosen k = {chosen_k})")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    # Below the chart: inside it the legend hides the silhouette's first points.
    ax.legend(
        handles,
        [h.get_label() for h in handles],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.15),
        ncol=2,
        frameon=False,
    )
    return _finish(fig)


CLUSTER_NAME_WIDTH = 24
"""Characters per line of a cluster name on the y axis of the cluster charts."""


def _cluster_panels(names: Sequence[str], panels: int) -> tuple[Figure, np.ndarray, list[str]]:
    """One row of panels sharing a y axis of cluster names (cluster 1 on top), tall enough for
    any k from 2 to 10 and names of several lines: horizontal bars never squeeze the names
    side by side."""
    wrapped = [wrap_label(str(n), CLUSTER_NAME_WIDTH) for n in names]
    lines = max((w.count("\n") + 1 for w in wrapped), default=1)
    height = max(3.2, 1.6 + len(names) * (0.2 * lines + 0.22))
    fig, axes = plt.subplots(1, panels, figsize=(2.4 + 3.6 * panels, height), sharey=True)
    return fig, np.atleast_1d(axes), wrapped


def _tick_prefix(feature: str, currency: str) -> str:
    """Currency on the ticks of a narrow panel only when it is one symbol (£1k); a code such as
    IDR would make neighbouring ticks run together, and the axis label names it anyway."""
    return currency if feature == "monetary" and len(currency) == 1 else ""


def _panel_value_axis(axis: mpl.axis.Axis, feature: str, currency: str) -> None:
    """Linear value axis of a narrow panel: at most five compact ticks (``10k``, ``£2M``)."""
    axis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=3, steps=[1, 2, 2.5, 5, 10]))
    compact_axis(axis, _tick_prefix(feature, currency))


def _feature_text(feature: str, value: float, currency: str) -> str:
    """A feature's value as a bar label: money, days or a count (with one decimal at most)."""
    return units.money(value, currency) if feature == "monetary" else units.number(value)


def cluster_medians(
    profile: pd.DataFrame,
    features: Sequence[str],
    currency: str = "£",
    frequency_unit: str = "orders",
    entity: str = "customers",
) -> Figure:
    """Median of each feature per cluster: one panel per feature, clusters top to bottom in
    number order with their colours (:mod:`style`), bars labelled with their unit."""
    data = profile.sort_values("cluster") if "cluster" in profile.columns else profile
    fig, axes, wrapped = _cluster_panels(data["cluster_name"].astype(str), len(features))
    colors = style.colors(data["cluster_name"].astype(str).tolist(), "cluster")
    positions = np.arange(len(data))
    for ax, feature in zip(axes, features, strict=True):
        values = data[f"{feature}_median"].to_numpy(dtype=float)
        ax.barh(positions, np.nan_to_num(values), color=colors)
        _label_bars(ax, ["" if np.isnan(v) else _feature_text(feature, v, currency) for v in values])
        label = metric_label(feature, currency, frequency_unit, entity)
        ax.set_title("Median " + label.split(" (")[0].lower(), fontsize=11)
        ax.set_xlabel(label, fontsize=9)
        _panel_value_axis(ax.xaxis, feature, currency)
    axes[0].set_yticks(positions, wrapped, fontsize=9)
    axes[0].set_ylim(len(data) - 0.5, -0.5)  # cluster 1 on top
    fig.suptitle("Cluster profiles (median per cluster)")
    return _finish(fig)


def cluster_boxplots(
    df: pd.DataFrame,
    features: Sequence[str],
    order: Sequence[str],
    currency: str = "£",
    frequency_unit: str = "orders",
    entity: str = "customers",
) -> Figure:
    """Spread of each feature within each cluster (log scale for counts and money); ``order``:
    every cluster name in number order (cluster 1 on top), which also sets their colours."""
    order = [str(n) for n in order]
    fig, axes, wrapped = _cluster_panels(order, len(features))
    palette = style.color_map(order, "cluster")
    names = df["cluster_name"].astype(str)
    for ax, feature in zip(axes, features, strict=True):
        values = df[feature] if feature == "recency" else df[feature].clip(lower=0.5)
        sns.boxplot(
            y=names,
            x=values,
            order=order,
            orient="h",
            ax=ax,
            palette=palette,
            hue=names,
            hue_order=order,
            legend=False,
            fliersize=1.5,
            saturation=1,  # the clusters' own colours, as on every other chart
        )
        if feature != "recency":
            ax.set_xscale("log")
            compact_axis(ax.xaxis, _tick_prefix(feature, currency))
        label = metric_label(feature, currency, frequency_unit, entity)
        ax.set_title(label.split(" (")[0], fontsize=11)
        ax.set_xlabel(label + (" – log scale" if feature != "recency" else ""), fontsize=9)
        ax.set_ylabel("")
    axes[0].set_yticks(range(len(order)), wrapped, fontsize=9)
    fig.suptitle("Distribution of each feature by cluster")
    return _finish(fig)


def _sizes(n: pd.Series | Sequence[float] | dict | None, keys: Sequence[object]) -> list[float] | None:
    """``n`` (a Series or mapping keyed like ``keys``, or a sequence in their order) as a list."""
    if n is None:
        return None
    if isinstance(n, pd.Series | dict):
        lookup = dict(n.items()) if isinstance(n, pd.Series) else n
        by_text = {str(k): v for k, v in lookup.items()}
        return [lookup[k] if k in lookup else by_text[str(k)] for k in keys]
    sizes = list(n)
    if len(sizes) != len(keys):
        raise ValueError(f"n: {len(sizes)} sizes for {len(keys)} bars or columns")
    return sizes


def heatmap(
    table: pd.DataFrame,
    title: str,
    xlabel: str,
    ylabel: str,
    fmt: str = ".0%",
    cmap: str = "Blues",
    n: pd.Series | Sequence[float] | dict | None = None,
) -> Figure:
    """Annotated heatmap of a crosstab (rows × columns).

    ``n``: the size of each column (customers of each country or cluster), written under its
    name (``n = 12``), so a 25 % of a column of 12 customers is not read like one of 3,916."""
    sizes = _sizes(n, list(table.columns))
    column_names = [str(c) for c in table.columns]
    long_names = max(map(len, column_names), default=0) > 12
    width = max(6, (1.0 if long_names else 0.9) * table.shape[1] + 3)
    fig, ax = plt.subplots(figsize=(width, max(3, 0.45 * table.shape[0] + 1.5)))
    sns.heatmap(
        table, annot=True, fmt=fmt, cmap=cmap, cbar=False, linewidths=0.5, ax=ax, annot_kws={"fontsize": 9}
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if long_names or sizes is not None:  # wrapped, horizontal; the size on its own line
        names = [wrap_label(c, 10) for c in column_names]
        if sizes is not None:
            names = [f"{name}\nn = {units.integer(size)}" for name, size in zip(names, sizes, strict=True)]
        ax.set_xticklabels(names, rotation=0, fontsize=9)
    else:
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    return _finish(fig)


# --- insights -------------------------------------------------------------------------


CUSTOMER_SHARE_ALPHA = 0.4
"""The share-of-customers bar is the category's colour, pale; the share-of-revenue bar solid."""


def contribution(summary: pd.DataFrame, category: str = "segment", entity: str = "customers") -> Figure:
    """Share of customers (or accounts) next to share of revenue, per segment, group or cluster,
    in the categories' own order (reference table, cluster number) and colours."""
    data = _in_display_order(summary, category)
    colors = _category_colors(data, category)
    names = [wrap_label(str(n), 28) for n in data[category]]
    fig, ax = plt.subplots(figsize=(10, max(3.5, 0.55 * len(data) + 1.2)))
    positions = np.arange(len(data))
    height = 0.38
    pale = [mpl.colors.to_rgba(c, CUSTOMER_SHARE_ALPHA) for c in colors]
    customers = ax.barh(  # pale face, outlined: a light colour (Potential Loyalist) stays visible
        positions + height / 2, data["customer_share"], height, color=pale, edgecolor=colors, linewidth=0.8
    )
    revenue = ax.barh(positions - height / 2, data["revenue_share"], height, color=colors)
    texts = []
    for bars in (customers, revenue):
        texts += ax.bar_label(bars, labels=[f"{b.get_width():.0%}" for b in bars], padding=2, fontsize=8)
    ax.set_yticks(positions, names)
    ax.set_ylim(-0.6, len(data) - 0.4)
    _fit_texts(ax, texts)
    _percent_axis(ax.xaxis)
    ax.set_title(f"Contribution by {_category_noun(category)}: {entity} vs revenue")
    ax.set_xlabel("Share of total")
    ax.set_ylabel("")
    legend = [
        Patch(
            facecolor=mpl.colors.to_rgba("#555555", CUSTOMER_SHARE_ALPHA),
            edgecolor="#555555",
            label=f"Share of {entity} (pale, upper bar)",
        ),
        Patch(color="#555555", label="Share of revenue (solid, lower bar)"),
    ]
    # below the axis label at a fixed distance (in font sizes), whatever the chart's height
    ax.legend(
        handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2, frameon=False, borderaxespad=3.6
    )
    return _finish(fig)


def segment_metric(
    summary: pd.DataFrame,
    metric: str,
    title: str,
    currency: str = "£",
    frequency_unit: str = "orders",
    category: str = "segment",
) -> Figure:
    """Median of one metric per segment (or group), in the reference table's order and the
    segments' colours (the same on every chart), bars labelled with their unit."""
    column = f"{metric}_median"
    data = _in_display_order(summary.dropna(subset=[column]), category)
    is_money = metric == "monetary"
    labels = [
        units.money(v, currency) if is_money else units.days(v) if metric == "recency" else units.number(v)
        for v in data[column]
    ]
    xlabel = "Median " + metric_label(metric, currency, frequency_unit).lower()
    value_axis = partial(compact_axis, currency=currency) if is_money else count_axis
    return _hbars(data, category, column, labels, title, xlabel, value_axis, _category_colors(data, category))


def monthly_trend(trend: pd.DataFrame, currency: str = "£", frequency_unit: str = "orders") -> Figure:
    """Mean and median R, F and M of the customers active in each month (see
    ``metrics.monthly_rfm_trend``), with new vs returning customers on top."""
    fig, axes = plt.subplots(4, 1, figsize=(11, 11), sharex=True)
    months = pd.to_datetime(trend["month"].astype(str))
    width = pd.Timedelta(days=20)
    axes[0].bar(months, trend["returning_customers"], width=width, label="returning", color=style.NEUTRAL)
    axes[0].bar(
        months,
        trend["new_customers"],
        width=width,
        bottom=trend["returning_customers"],
        label="new",
        color=style.NEUTRAL_LIGHT,
    )
    axes[0].set_ylabel("Active customers")
    count_axis(axes[0].yaxis)
    if len(trend) and trend["returning_customers"].iloc[0] == 0:
        # Nobody can be "returning" in the month the data starts: say so where it shows.
        top = trend["returning_customers"].iloc[0] + trend["new_customers"].iloc[0]
        axes[0].annotate(
            "data starts here:\nall counted as new",
            xy=(months.iloc[0], top),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="#444444",
        )
        highest = (trend["returning_customers"] + trend["new_customers"]).max()
        axes[0].set_ylim(top=max(axes[0].get_ylim()[1], top + 0.3 * highest))
    labels = {
        "recency": "Days since previous order\n(returning customers)",
        "frequency": f"{frequency_unit.capitalize()} in the month",
        "monetary": f"Revenue in the month ({currency})",
    }
    for ax, metric in zip(axes[1:], ("recency", "frequency", "monetary"), strict=True):
        ax.plot(months, trend[f"{metric}_mean"], marker="o", label="mean", color=style.NEUTRAL)
        ax.plot(
            months,
            trend[f"{metric}_median"],
            marker="s",
            linestyle="--",
            label="median",
            color=style.SECOND_SERIES,
        )
        ax.set_ylabel(labels[metric], fontsize=9)
        if metric == "monetary":
            compact_axis(ax.yaxis, currency)
    # Legends beside the panels, where they cannot hide a month's point.
    for ax in axes:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9, frameon=False)
    # Every month, written as in the other charts (Dec 2010), not every other one as 2011-01.
    axes[-1].xaxis.set_major_locator(mdates.MonthLocator())
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    plt.setp(axes[-1].get_xticklabels(), rotation=45, ha="right")
    axes[0].set_title("Active customers and their R, F, M, month by month (per customer)")
    axes[-1].set_xlabel("Month")
    return _finish(fig)


def stacked_shares(
    table: pd.DataFrame,
    title: str,
    xlabel: str,
    ylabel: str = "Share of customers",
    colors: Sequence[str] | None = None,
    n: pd.Series | Sequence[float] | dict | None = None,
    note: str | None = None,
) -> Figure:
    """100 % stacked bars: rows of ``table`` along the category axis, columns stacked.

    Months (a DatetimeIndex, e.g. first-order cohorts) stand as vertical bars in time order;
    other rows (clusters) lie as horizontal bars, first row on top, so that long names stay
    readable for any number of rows. Columns that are segments, groups or channels take their
    colours from :mod:`style` (``colors`` overrides). ``n``: the size of each row (cohort
    customers), written at its bar; ``note``: a sentence under the chart (e.g. what the first
    cohort holds)."""
    columns = [str(c) for c in table.columns]
    palette = list(colors) if colors else style.colors(columns, style.infer_kind(columns) or "segment")
    sizes = _sizes(n, list(table.index))
    index = table.index
    dated = isinstance(index, pd.DatetimeIndex)
    if dated:
        fig, ax = plt.subplots(figsize=(11, 5.2))
        positions = np.arange(len(table))
        labels = index.strftime("%b %Y").tolist()
    else:
        labels = [wrap_label(str(i), CLUSTER_NAME_WIDTH) for i in index]
        lines = max((label.count("\n") + 1 for label in labels), default=1)
        fig, ax = plt.subplots(figsize=(11, max(3.5, 1.8 + len(table) * (0.2 * lines + 0.25))))
        positions = np.arange(len(table))
    start = np.zeros(len(table))
    for color, column in zip(palette, table.columns, strict=False):
        values = table[column].to_numpy(dtype=float)
        if dated:
            ax.bar(positions, values, bottom=start, label=str(column), color=color, width=0.8)
        else:
            ax.barh(positions, values, left=start, label=str(column), color=color, height=0.7)
        start += values
    value_axis, category_axis = (ax.yaxis, ax.xaxis) if dated else (ax.xaxis, ax.yaxis)
    _percent_axis(value_axis)
    ax.set_title(title)
    if dated:
        ax.set_xticks(positions, labels, rotation=45, ha="right")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_xlim(-0.6, len(table) - 0.4)
    else:
        ax.set_yticks(positions, labels, fontsize=9)
        ax.set_ylim(len(table) - 0.5, -0.5)  # first row on top
        ax.set_ylabel(xlabel)
        ax.set_xlabel(ylabel)
    if sizes is not None:
        for position, size in zip(positions, sizes, strict=True):
            text = f"n = {units.integer(size)}"
            if dated:
                ax.text(
                    position,
                    1.01,
                    text,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    rotation=90 if len(table) > 16 else 0,
                )
            else:
                ax.text(1.01, position, text, ha="left", va="center", fontsize=8)
        if dated:
            ax.set_ylim(0, 1.09)
        else:
            ax.set_xlim(0, 1.13)
    # Legend in the order the stack reads: top to bottom (vertical bars), left to right (horizontal).
    handles, names = ax.get_legend_handles_labels()
    if dated:
        handles, names = handles[::-1], names[::-1]
    ax.legend(handles, names, bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=9)
    if note:
        fig.text(0.01, 0.005, textwrap.fill(note, 140), fontsize=8, color="#444444", ha="left", va="bottom")
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _finish(fig)


# --- segment code table ---------------------------------------------------------------------


def abbreviations(names: Sequence[str]) -> dict[str, str]:
    """Short unique labels for names: the initials of a name of several words (``About To
    Sleep`` → ``ATS``), else its first two letters (``Champions`` → ``Ch``), lengthened until
    no two names share one."""
    out: dict[str, str] = {}
    for name in map(str, names):
        words = name.split()
        initials = "".join(w[0].upper() for w in words)
        candidates = (
            [initials + words[-1][1:i] for i in range(1, len(words[-1]) + 1)] if len(words) > 1 else []
        )
        candidates += [name[:i] for i in range(2, len(name) + 1)] + [f"{name[:2]}{i}" for i in range(2, 99)]
        out[name] = next(c for c in candidates if c not in out.values())
    return out


def segment_code_map(grid: pd.DataFrame, n_bins: int = 5) -> Figure:
    """The segment table as a picture (as R's ``rfm`` package draws it): one panel per M
    score, each an R × F grid (R = 5 on top, F = 5 on the right) whose cells carry the
    segment's colour and short label and, when ``grid`` has ``customers``, how many customers
    have that code. ``grid``: :func:`rfm_helpers.analysis.segments.code_grid`."""
    segments_in_order = style.ordered(grid["segment"])
    palette = style.color_map(segments_in_order, "segment")
    short = abbreviations(segments_in_order)
    fig, axes = plt.subplots(1, n_bins, figsize=(2.55 * n_bins + 0.6, 4.4), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, range(1, n_bins + 1), strict=True):
        for row in grid[grid["M"] == m].itertuples(index=False):
            color = palette[str(row.segment)]
            ax.add_patch(
                mpl.patches.Rectangle((row.F - 0.5, row.R - 0.5), 1, 1, facecolor=color, edgecolor="white")
            )
            text = short[str(row.segment)]
            if hasattr(row, "customers"):
                text += f"\n{row.customers:,}"
            ax.text(row.F, row.R, text, ha="center", va="center", fontsize=7, color=style.text_color(color))
        ax.set_xlim(0.5, n_bins + 0.5)
        ax.set_ylim(0.5, n_bins + 0.5)
        ax.set_aspect("equal")
        ax.set_xticks(range(1, n_bins + 1))
        ax.set_yticks(range(1, n_bins + 1))
        ax.grid(False)
        ax.set_title(f"M = {m}", fontsize=11)
        ax.set_xlabel("F score", fontsize=9)
        ax.set_ylabel("R score", fontsize=9)
    handles = [Patch(facecolor=palette[s], label=f"{short[s]} = {s}") for s in segments_in_order]
    fig.legend(handles=handles, loc="lower center", ncol=min(6, len(handles)), fontsize=8, frameon=False)
    counted = " and customers per code" if "customers" in grid else ""
    fig.suptitle(f"Segment of every RFM code: R × F for each M (cell: segment{counted})")
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    plt.close(fig)
    return _with_alt_text(fig)
