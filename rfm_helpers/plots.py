"""Charts for the reports. Each function takes tidy DataFrames and returns a Figure with a
title, labelled axes and units, so every chart in every report reads the same way."""

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
from matplotlib.ticker import FuncFormatter

PALETTE = "crest"
GROUP_COLORS = ("#1b7837", "#d6604d", "#4393c3", "#878787")
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


def plain_log_axis(axis: mpl.axis.Axis) -> None:
    """Log scale with ticks written 1, 10, 100, 1,000 rather than powers of ten."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))


def money(value: float, currency: str = "£") -> str:
    """Compact money label: £950, £12.3k, £4.56M."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e9:
        return f"{sign}{currency}{value / 1e9:.2f}B"
    if value >= 1e6:
        return f"{sign}{currency}{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{sign}{currency}{value / 1e3:.1f}k"
    return f"{sign}{currency}{value:,.0f}"


def money_tick(value: float, currency: str = "£") -> str:
    """Axis tick form of :func:`money`: round ticks without trailing zeros (£200k, £1M, £2.5M)."""
    label = money(value, currency)
    number, suffix = (label[:-1], label[-1]) if label[-1] in "kMB" else (label, "")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number + suffix


def money_axis(axis: mpl.axis.Axis, currency: str = "£") -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: money_tick(v, currency)))


def count_axis(axis: mpl.axis.Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def percent_tick(share: float) -> str:
    """A share (0..1) as an axis tick: 20%, 2.5% (a decimal only where the tick needs one)."""
    percent = round(share * 100, 1)
    return f"{percent:.0f}%" if percent == round(percent) else f"{percent:.1f}%"


def wrap_label(text: str, width: int = 14) -> str:
    """Category label on up to a few short lines, so ticks can stay horizontal."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def _horizontal_category_ticks(ax: plt.Axes, names: Sequence[str], width: int = 10) -> None:
    """Wrapped, horizontal x tick labels (rotated ones are hard to read and overlap titles)."""
    ax.set_xticks(range(len(names)), [wrap_label(str(n), width) for n in names], rotation=0, fontsize=9)


def _finish(fig: Figure) -> Figure:
    fig.tight_layout()
    plt.close(fig)  # shown once by the notebook's display(), not again at cell end
    return fig


def _label_bars(ax: plt.Axes, labels: Sequence[str], horizontal: bool = True) -> None:
    for container in ax.containers[:1]:
        ax.bar_label(container, labels=list(labels), padding=3, fontsize=9)
    if horizontal:
        ax.set_xlim(right=ax.get_xlim()[1] * 1.15)
    else:
        ax.set_ylim(top=ax.get_ylim()[1] * 1.12)


def _hbars(
    data: pd.DataFrame,
    category: str,
    value: str,
    labels: Sequence[str],
    title: str,
    xlabel: str,
    value_axis: Callable[[mpl.axis.Axis], None],
) -> Figure:
    """Horizontal bars, bottom row of ``data`` at the bottom, each bar labelled."""
    fig, ax = plt.subplots(figsize=(10, max(3, 0.4 * len(data) + 1)))
    ax.barh(data[category].astype(str), data[value], color=sns.color_palette(PALETTE, len(data)))
    _label_bars(ax, labels)
    value_axis(ax.xaxis)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    return _finish(fig)


def _percent_axis(axis: mpl.axis.Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: percent_tick(v)))


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
    """``+£896.8k`` / ``−9,288``: a step's direction written out, not left to the bar colour."""
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
        fmt = (lambda v: money(v, currency)) if is_money else (lambda v: f"{v:,.0f}")
        start = applied[remaining].iloc[0]
        steps = -applied[removed].iloc[1:].to_numpy(dtype=float)
        bottoms = np.concatenate([[0.0], start + np.concatenate([[0.0], np.cumsum(steps)[:-1]]), [0.0]])
        heights = np.concatenate([[start], steps, [applied[remaining].iloc[-1]]])
        lows = np.where(heights < 0, bottoms + heights, bottoms)
        colors = ["#4c72b0"] + ["#c44e52" if h < 0 else "#55a868" for h in steps] + ["#4c72b0"]
        ax.bar(range(len(names)), np.abs(heights), bottom=lows, color=colors)
        labels = [fmt(heights[0])] + [_signed(h, fmt) for h in steps] + [fmt(heights[-1])]
        for x, (low, h, text) in enumerate(zip(lows, heights, labels, strict=True)):
            ax.text(x, low + abs(h), text, ha="center", va="bottom", fontsize=9)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.08)  # room for the labels above the tallest bar
        ax.set_xticks(range(len(names)), names, fontsize=9)
        ax.set_title(f"{label}: raw file → clean table")
        ax.set_ylabel(label)
        (money_axis(ax.yaxis, currency) if is_money else count_axis(ax.yaxis))
    axes[1].set_xlabel("Cleaning rule (red = removed, green = added back)")
    return _finish(fig)


def share_bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    xlabel: str,
    top_n: int = 15,
    sort: bool = True,
) -> Figure:
    """Horizontal bars of a share (0..1) labelled in %: the ``top_n`` largest first, or all rows
    in the table's order (top to bottom) when not ``sort`` (e.g. months)."""
    data = table.nlargest(top_n, value).sort_values(value) if sort else table.iloc[::-1]
    return _hbars(data, category, value, [f"{v:.1%}" for v in data[value]], title, xlabel, _percent_axis)


# --- EDA ------------------------------------------------------------------------------


def monthly_revenue_orders(monthly: pd.DataFrame, currency: str = "£") -> Figure:
    """``monthly``: month, revenue, orders, customers."""
    fig, ax = plt.subplots(figsize=(11, 4.5))
    labels = pd.to_datetime(monthly["month"]).dt.strftime("%b %Y")
    ax.bar(labels, monthly["revenue"], color="#4c72b0", label="Revenue")
    money_axis(ax.yaxis, currency)
    ax.set_ylabel(f"Revenue ({currency})")
    ax.set_xlabel("Month")
    ax2 = ax.twinx()
    ax2.plot(labels, monthly["orders"], color="#dd8452", marker="o", label="Orders")
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
    """Horizontal bars with value labels: largest on top, or in the table's order if not ``sort``."""
    data = table.sort_values(value) if sort else table.iloc[::-1]
    labels = [money(v, currency) if currency else f"{v:,.0f}" for v in data[value]]
    value_axis = partial(money_axis, currency=currency) if currency else count_axis
    return _hbars(data, category, value, labels, title, xlabel, value_axis)


def distribution(
    values: pd.Series,
    title: str,
    xlabel: str,
    log_x: bool = False,
    bins: int = 50,
    clip_quantile: float = 0.99,
    ylabel: str = "Count",
) -> Figure:
    """Histogram of a customer- or order-level metric; the top 1 % is folded into the last bin
    so that one extreme value does not squash the chart (the caption says so). ``ylabel``
    names what is counted (orders, customers)."""
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
        ax.hist(clipped, bins=edges, color="#4c72b0")
        ax.set_xscale("log")
        plain_log_axis(ax.xaxis)
    else:
        ax.hist(clipped, bins=bins, color="#4c72b0")
    ax.axvline(values.median(), color="#c44e52", linestyle="--", label=f"median {values.median():,.0f}")
    ax.legend()
    ax.set_title(
        f"{title} (values above the {clip_quantile:.0%} quantile, {upper:,.0f}, shown in the last bin)"
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    count_axis(ax.yaxis)
    return _finish(fig)


# --- RFM ------------------------------------------------------------------------------

METRIC_LABELS = {
    "recency": "Recency (days since last order)",
    "frequency": "Frequency (orders)",
    "monetary": "Monetary (revenue, {currency})",
    "frequency_broadcast": "Campaigns (finished broadcasts)",
    "frequency_charged": "Charged messages",
}


def metric_label(metric: str, currency: str = "£", frequency_unit: str = "orders") -> str:
    if metric == "frequency":
        return f"Frequency ({frequency_unit})"
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize()).format(currency=currency)


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
        sns.boxplot(x=values, ax=ax, color="#8fb3d9", fliersize=2)
        if metric != "recency":
            ax.set_xscale("log")
            plain_log_axis(ax.xaxis)
        if thresholds is not None:
            limit = thresholds.set_index("metric").loc[metric, "threshold"]
            ax.axvline(limit, color="#c44e52", linestyle="--", label=f"threshold {limit:,.0f}")
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
    sns.barplot(data=data, x="score", y="share", hue="metric", ax=ax, palette="Set2")
    ax.axhline(1 / bins["score"].nunique(), color="grey", linestyle="--", label="equal share")
    _percent_axis(ax.yaxis)
    ax.set_title("Share of customers per score (ties share a score, so shares can differ from 20 %)")
    ax.set_xlabel("Score (5 = best)")
    ax.set_ylabel("Share of customers")
    ax.legend(title="", ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    return _finish(fig)


def segment_sizes(summary: pd.DataFrame, category: str = "segment") -> Figure:
    """Customers per segment, largest first."""
    data = summary.sort_values("customers")
    labels = [f"{c:,} ({s:.0%})" for c, s in zip(data["customers"], data["customer_share"], strict=True)]
    return _hbars(data, category, "customers", labels, f"Customers per {category}", "Customers", count_axis)


# --- clustering -----------------------------------------------------------------------


def elbow(table: pd.DataFrame, chosen_k: int) -> Figure:
    """Inertia (elbow) and silhouette by k, with the chosen k marked."""
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(
        table["k"], table["inertia"], marker="o", color="#4c72b0", label="Inertia (within-cluster spread)"
    )
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel("Inertia")
    count_axis(ax.yaxis)
    ax2 = ax.twinx()
    ax2.plot(
        table["k"],
        table["silhouette"],
        marker="s",
        color="#dd8452",
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


def cluster_medians(profile: pd.DataFrame, features: Sequence[str], currency: str = "£") -> Figure:
    """Median of each feature per cluster, one panel per feature, bars labelled."""
    fig, axes = plt.subplots(1, len(features), figsize=(4.6 * len(features), 4.2))
    axes = np.atleast_1d(axes)
    names = profile["cluster_name"].astype(str)
    for ax, feature in zip(axes, features, strict=True):
        values = profile[f"{feature}_median"]
        ax.bar(range(len(values)), values, color=sns.color_palette("viridis", len(values)))
        is_money = feature == "monetary"
        _label_bars(ax, [money(v, currency) if is_money else f"{v:,.0f}" for v in values], horizontal=False)
        _horizontal_category_ticks(ax, names)
        ax.set_title(f"Median {feature.replace('_', ' ')}")
        ax.set_ylabel(metric_label(feature, currency))
        (money_axis(ax.yaxis, currency) if is_money else count_axis(ax.yaxis))
    fig.suptitle("Cluster profiles (median per cluster)")
    return _finish(fig)


def cluster_boxplots(
    df: pd.DataFrame, features: Sequence[str], order: Sequence[str], currency: str = "£"
) -> Figure:
    """Spread of each feature within each cluster (log scale for counts and money)."""
    fig, axes = plt.subplots(1, len(features), figsize=(4.6 * len(features), 4.5))
    axes = np.atleast_1d(axes)
    for ax, feature in zip(axes, features, strict=True):
        values = df[feature] if feature == "recency" else df[feature].clip(lower=0.5)
        sns.boxplot(
            x=df["cluster_name"],
            y=values,
            order=list(order),
            ax=ax,
            palette="viridis",
            hue=df["cluster_name"],
            hue_order=list(order),
            legend=False,
            fliersize=1.5,
        )
        if feature != "recency":
            ax.set_yscale("log")
            plain_log_axis(ax.yaxis)
        ax.set_title(feature.replace("_", " ").capitalize())
        ax.set_xlabel("")
        ax.set_ylabel(metric_label(feature, currency))
        _horizontal_category_ticks(ax, order)
    fig.suptitle("Distribution of each feature by cluster")
    return _finish(fig)


def heatmap(
    table: pd.DataFrame, title: str, xlabel: str, ylabel: str, fmt: str = ".0%", cmap: str = "Blues"
) -> Figure:
    """Annotated heatmap of a crosstab (rows × columns)."""
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * table.shape[1] + 3), max(3, 0.45 * table.shape[0] + 1.5)))
    sns.heatmap(
        table, annot=True, fmt=fmt, cmap=cmap, cbar=False, linewidths=0.5, ax=ax, annot_kws={"fontsize": 9}
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    column_names = [str(c) for c in table.columns]
    if max(map(len, column_names), default=0) > 12:  # long names (clusters): wrapped, horizontal
        ax.set_xticklabels([wrap_label(c, 10) for c in column_names], rotation=0, fontsize=9)
    else:
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    return _finish(fig)


# --- insights -------------------------------------------------------------------------


def contribution(summary: pd.DataFrame, category: str = "segment", entity: str = "customers") -> Figure:
    """Share of customers (or accounts) next to share of revenue, per segment, group or cluster."""
    data = summary.melt(
        id_vars=category,
        value_vars=["customer_share", "revenue_share"],
        var_name="measure",
        value_name="share",
    )
    data["measure"] = data["measure"].map(
        {"customer_share": f"Share of {entity}", "revenue_share": "Share of revenue"}
    )
    order = summary.sort_values("revenue_share", ascending=False)[category].astype(str).tolist()
    data[category] = data[category].astype(str)
    fig, ax = plt.subplots(figsize=(10, max(3.5, 0.55 * len(order) + 1)))
    sns.barplot(
        data=data, y=category, x="share", hue="measure", order=order, ax=ax, palette=["#8fb3d9", "#1b7837"]
    )
    for container in ax.containers:
        ax.bar_label(container, labels=[f"{v.get_width():.0%}" for v in container], padding=2, fontsize=8)
    ax.set_xlim(right=ax.get_xlim()[1] * 1.1)
    _percent_axis(ax.xaxis)
    ax.set_title(f"Contribution by {category}: {entity} vs revenue")
    ax.set_xlabel("Share of total")
    ax.set_ylabel("")
    ax.legend(title="", loc="lower right")
    return _finish(fig)


def segment_metric(
    summary: pd.DataFrame,
    metric: str,
    title: str,
    currency: str = "£",
    frequency_unit: str = "orders",
    category: str = "segment",
) -> Figure:
    """Median of one metric per segment, sorted, bars labelled."""
    column = f"{metric}_median"
    ascending = metric != "recency"  # best on top: lowest recency, highest F and M
    data = summary.dropna(subset=[column]).sort_values(column, ascending=ascending)
    is_money = metric == "monetary"
    labels = [money(v, currency) if is_money else f"{v:,.0f}" for v in data[column]]
    xlabel = "Median " + metric_label(metric, currency, frequency_unit).lower()
    value_axis = partial(money_axis, currency=currency) if is_money else count_axis
    return _hbars(data, category, column, labels, title, xlabel, value_axis)


def monthly_trend(trend: pd.DataFrame, currency: str = "£", frequency_unit: str = "orders") -> Figure:
    """Mean and median R, F and M of the customers active in each month (see
    ``metrics.monthly_rfm_trend``), with new vs returning customers on top."""
    fig, axes = plt.subplots(4, 1, figsize=(11, 11), sharex=True)
    months = pd.to_datetime(trend["month"].astype(str))
    width = pd.Timedelta(days=20)
    axes[0].bar(months, trend["returning_customers"], width=width, label="returning", color="#4c72b0")
    axes[0].bar(
        months,
        trend["new_customers"],
        width=width,
        bottom=trend["returning_customers"],
        label="new",
        color="#8fb3d9",
    )
    axes[0].set_ylabel("Active customers")
    count_axis(axes[0].yaxis)
    labels = {
        "recency": "Days since previous order\n(returning customers)",
        "frequency": f"{frequency_unit.capitalize()} in the month",
        "monetary": f"Revenue in the month ({currency})",
    }
    for ax, metric in zip(axes[1:], ("recency", "frequency", "monetary"), strict=True):
        ax.plot(months, trend[f"{metric}_mean"], marker="o", label="mean")
        ax.plot(months, trend[f"{metric}_median"], marker="s", linestyle="--", label="median")
        ax.set_ylabel(labels[metric], fontsize=9)
        if metric == "monetary":
            money_axis(ax.yaxis, currency)
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
) -> Figure:
    """100 % stacked bars: rows of ``table`` on the x axis, columns stacked."""
    fig, ax = plt.subplots(figsize=(11, 5))
    bottom = np.zeros(len(table))
    palette = list(colors) if colors else sns.color_palette("tab20", table.shape[1])
    index = table.index
    labels = (
        index.strftime("%b %Y").tolist() if isinstance(index, pd.DatetimeIndex) else [str(i) for i in index]
    )
    for color, column in zip(palette, table.columns, strict=False):
        ax.bar(labels, table[column].to_numpy(), bottom=bottom, label=str(column), color=color)
        bottom += table[column].to_numpy()
    _percent_axis(ax.yaxis)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=45)
    plt.setp(ax.get_xticklabels(), ha="right")
    # Legend top to bottom as the stack reads, top to bottom.
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=9)
    return _finish(fig)
