"""Every chart: a Figure with a title and labelled axes, on tiny inputs
built the way the notebooks build them (the pipeline's own functions on a small clean table)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rfm_helpers import units
from rfm_helpers.analysis import clustering, metrics, scoring, segments
from rfm_helpers.config import CleaningConfig, InputConfig, RFMConfig
from rfm_helpers.data import reference
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.report import plots
from rfm_helpers.sql import transactions

REFERENCE = PROJECT_ROOT / "data" / "reference"
FEATURES = ["recency", "frequency", "monetary"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- labels -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Switzerland", "Switzerland"),  # a word is never cut
        ("United Kingdom", "United\nKingdom"),
        ("High-Value Frequent Users", "High-Value\nFrequent\nUsers"),
        ("", ""),
    ],
)
def test_wrap_label(text, expected):
    assert plots.wrap_label(text, 10) == expected


def tick(axis, value) -> str:
    """The label an axis writes at ``value``."""
    return axis.get_major_formatter()(value, 0)


def test_metric_label():
    assert plots.metric_label("monetary", "$") == "Monetary (revenue, $)"
    assert plots.metric_label("frequency", frequency_unit="invoice lines") == "Frequency (invoice lines)"
    assert plots.metric_label("recency") == "Recency (days since last order)"
    assert plots.metric_label("basket_size") == "Basket size"


# --- inputs shaped like the real ones ---------------------------------------------------


@pytest.fixture(scope="module")
def cleaned() -> transactions.Result:
    """Six raw lines: one cancellation, one zero price, one without customer, three kept."""
    raw = pd.DataFrame(
        {
            "invoice_id": ["1", "C2", "3", "4", "5", "6"],
            "stock_code": ["A", "A", "B", "POST", "C", "A"],
            "description": ["MUG", "MUG", "BAG", "POSTAGE", "LAMP", "MUG"],
            "quantity": [2, -1, 1, 1, 3, 1],
            "invoice_date": pd.to_datetime(
                [
                    "2011-01-03 09:00",
                    "2011-01-04 09:00",
                    "2011-02-01 10:00",
                    "2011-02-02 10:00",
                    "2011-03-01 11:00",
                    "2011-03-02 12:00",
                ]
            ),
            "unit_price": [5.0, 5.0, 0.0, 18.0, 4.0, 5.0],
            "customer_id": ["c1", "c1", "c2", "c2", None, "c3"],
            "country": ["United Kingdom"] * 4 + ["France"] * 2,
        }
    )
    raw["revenue"] = raw["quantity"] * raw["unit_price"]
    non_product = reference.load_non_product_codes(REFERENCE / "non_product_stock_codes.csv")
    flagged = reference.load_flagged_descriptions(REFERENCE / "flagged_descriptions.csv")
    return transactions.clean_frame(raw, CleaningConfig(), non_product=non_product, flagged=flagged)


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    """40 customers, 4 months, deterministic."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(40):
        for i in range(int(rng.integers(1, 6))):
            day = pd.Timestamp("2011-01-01") + pd.Timedelta(days=int(rng.integers(0, 120)))
            rows.append(
                {
                    "invoice_id": f"{c:03d}{i}",
                    "invoice_date": day,
                    "customer_id": f"c{c:03d}",
                    "country": ["United Kingdom", "France", "Germany"][c % 3],
                    "revenue": float(rng.integers(5, 2000)),
                }
            )
    clean = pd.DataFrame(rows)
    return clean.assign(quantity=1.0, unit_price=clean["revenue"])


@pytest.fixture(scope="module")
def tables(clean, tmp_path_factory) -> transactions.Marts:
    """The report tables of ``clean``, as the notebooks read them."""
    folder = tmp_path_factory.mktemp("marts")
    transactions.clean_frame(clean, rfm_cfg=RFMConfig()).write(folder)
    return transactions.Marts(folder, InputConfig().columns)


@pytest.fixture(scope="module")
def customers(tables) -> pd.DataFrame:
    return tables.customer_metrics()


@pytest.fixture(scope="module")
def scored(customers):
    return scoring.score_rfm(customers, RFMConfig())


@pytest.fixture(scope="module")
def segmented(scored) -> pd.DataFrame:
    segment_table = reference.load_segment_table(REFERENCE / "rfm_segments.csv")
    groups = reference.load_segment_groups(
        REFERENCE / "segment_groups.csv", segment_table["segment"].unique()
    )
    return segments.assign_segments(scored[0], segment_table, groups)


@pytest.fixture(scope="module")
def clustered(customers):
    X, _ = clustering.prepare_features(customers, FEATURES, True)
    labels, centroids = clustering.fit_clusters(X, 3, 42, 2, FEATURES)
    names = clustering.name_clusters(customers, labels, FEATURES)
    profile = clustering.cluster_profile(customers, labels, FEATURES, names)
    table = customers.assign(cluster=labels, cluster_name=pd.Categorical.from_codes(labels - 1, names))
    return X, profile, table, names


# --- checks ----------------------------------------------------------------------------


def _text(label) -> str:
    return label.get_text().strip() if hasattr(label, "get_text") else str(label).strip()


def check_figure(fig, axes=None, xlabel: bool = True, ylabel: bool = True) -> list:
    """The figure has a title (axes or suptitle) and its axes have x and y labels."""
    assert isinstance(fig, Figure)
    axes = fig.axes if axes is None else axes
    assert axes, "figure without axes"
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    for ax in axes:
        assert ax.get_title().strip() or suptitle, "no title"
        if xlabel:
            assert ax.get_xlabel().strip(), f"no x label on {ax.get_title()!r}"
        if ylabel:
            assert ax.get_ylabel().strip(), f"no y label on {ax.get_title()!r}"
    return axes


def assert_ticks_do_not_overlap(fig, axis) -> None:
    """The drawn tick labels of ``axis`` leave a gap between neighbours (readable names)."""
    canvas = FigureCanvasAgg(fig)  # the chart functions close their figures: draw on a fresh canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = sorted(
        (t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_text()), key=lambda b: b.x0
    )
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left.x1 < right.x0, f"tick labels overlap: {left} and {right}"


def assert_no_text_overlaps(fig, texts) -> None:
    """No two of ``texts`` (tick labels, bar labels) share a pixel once drawn."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text().strip()]
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1 :]:
            assert not a.overlaps(b), f"{text_a!r} overlaps {text_b!r}: {a} and {b}"


def reading_order(fig, axis) -> list[str]:
    """Tick labels of ``axis`` as a reader meets them: top to bottom (y), left to right (x)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = [t for t in axis.get_ticklabels() if t.get_text()]
    if axis.axis_name == "y":
        labels.sort(key=lambda t: -t.get_window_extent(renderer).y0)
    else:
        labels.sort(key=lambda t: t.get_window_extent(renderer).x0)
    return [t.get_text().replace("\n", " ") for t in labels]


def category_ticks(axis) -> list[str]:
    """Tick labels as one line each (long category names are wrapped onto several lines)."""
    return [t.get_text().replace("\n", " ") for t in axis.get_ticklabels() if t.get_text()]


# --- cleaning charts -------------------------------------------------------------------


def test_cleaning_waterfall(cleaned):
    ledger = cleaned.ledger
    fig = plots.cleaning_waterfall(ledger)
    axes = fig.axes
    assert len(axes) == 2  # rows above revenue, sharing the rule names; the x label once, below
    check_figure(fig, axes=axes[1:])
    assert axes[0].get_title() and axes[0].get_ylabel() == "Rows"
    assert axes[1].get_ylabel() == "Revenue (£)"
    assert "green = the total rises because the removed lines had negative revenue" in axes[1].get_xlabel()
    applied = ledger[ledger["step"].eq("raw") | ledger["applied"]]
    # raw, each applied rule, clean
    assert len(axes[0].patches) == len(applied) + 1
    assert category_ticks(axes[0].xaxis)[0] == "raw"
    assert category_ticks(axes[0].xaxis)[-1] == "clean"
    assert all(t.get_rotation() == 0 for t in axes[0].get_xticklabels())
    assert_ticks_do_not_overlap(fig, axes[0].xaxis)
    # Signed steps. The six raw lines hold 10 - 5 + 0 + 18 + 12 + 5 = £40; removing the
    # cancellation (-£5) adds £5, and its one row is a removal.
    revenue_labels = [t.get_text() for t in axes[1].texts]
    assert revenue_labels[0] == "£40"
    assert revenue_labels[1] == "+£5"
    assert [t.get_text() for t in axes[0].texts][:2] == ["6", "−1"]
    assert tick(axes[1].yaxis, 1_000_000) == "£1M"


def _raw_with_gaps() -> pd.DataFrame:
    return pd.DataFrame(
        {"invoice_id": ["1", "2", "3"], "customer_id": ["a", None, "c"], "description": [None, "x", "y"]}
    )


def test_missing_matrix_title_and_columns():
    fig = plots.missing_matrix(_raw_with_gaps())
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "Missing values by column" in ax.get_title()
    assert "all 3 rows;" in ax.get_title()
    assert category_ticks(ax.xaxis) == ["invoice_id", "customer_id", "description"]
    assert category_ticks(ax.yaxis) == ["1", "3"]  # the file's row numbers, not the sample's


def test_missing_matrix_axes_are_labelled():
    check_figure(plots.missing_matrix(_raw_with_gaps()))


def test_share_bars_months_in_order():
    by_month = pd.DataFrame({"month": ["2011-01", "2011-02", "2011-03"], "share_missing": [0.1, 0.3, 0.2]})
    fig = plots.share_bars(by_month, "month", "share_missing", "Missing by month", "Rows", sort=False)
    (ax,) = check_figure(fig, ylabel=False)
    # table order top to bottom: barh draws the first category at the bottom
    assert category_ticks(ax.yaxis) == ["2011-03", "2011-02", "2011-01"]
    assert [t.get_text() for t in ax.texts] == ["20.0%", "30.0%", "10.0%"]  # 2011-03, -02, -01 bottom to top
    assert ax.get_title() == "Missing by month"


def test_share_bars_top_n():
    table = pd.DataFrame({"country": list("ABCD"), "share_missing": [0.1, 0.4, 0.2, 0.3]})
    fig = plots.share_bars(table, "country", "share_missing", "By country", "Rows", top_n=2)
    (ax,) = check_figure(fig, ylabel=False)
    assert category_ticks(ax.yaxis) == ["D", "B"]  # the two largest, largest on top


# --- EDA charts ------------------------------------------------------------------------


def test_monthly_revenue_orders(tables):
    fig = plots.monthly_revenue_orders(tables.monthly())
    axes = fig.axes
    assert len(axes) == 2  # revenue bars and a twin axis for orders, sharing the title and x axis
    check_figure(fig, axes=axes[:1])
    assert axes[1].get_ylabel().strip()
    assert axes[0].get_ylabel() == "Revenue (£)"
    assert axes[1].get_ylabel() == "Orders (distinct invoices)"
    assert tick(axes[0].yaxis, 200_000) == "£200k"
    assert tick(axes[1].yaxis, 2_500) == "2,500"


def test_top_bars_money_and_counts(tables):
    countries = tables.by_country()
    fig = plots.top_bars(countries, "country", "revenue", "Revenue by country", "Revenue (£)", currency="£")
    (ax,) = check_figure(fig, ylabel=False)
    assert set(category_ticks(ax.yaxis)) == {"United Kingdom", "France", "Germany"}
    per_customer = tables.orders_per_customer()
    fig = plots.top_bars(per_customer, "orders", "customers", "Orders per customer", "Customers", sort=False)
    (ax,) = check_figure(fig, ylabel=False)
    assert category_ticks(ax.yaxis)[-1] == "1"  # first row on top


@pytest.mark.parametrize("log_x", [False, True])
def test_distribution(tables, log_x):
    orders = tables.orders()
    fig = plots.distribution(orders["revenue"], "Order value", "Order value (£)", log_x=log_x)
    (ax,) = check_figure(fig)
    assert ax.get_ylabel() == "Count"
    assert "99% quantile" in ax.get_title()


def test_distribution_of_whole_numbers_on_a_log_axis_has_no_empty_gaps():
    lines_per_order = pd.Series(np.arange(1, 201))  # every count from 1 to 200, once
    fig = plots.distribution(lines_per_order, "Lines per order", "Invoice lines", log_x=True, ylabel="Orders")
    assert fig.axes[0].get_ylabel() == "Orders"
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    assert min(heights) > 0
    # every value sits in exactly one bin (the top 1 % folded into the last one)
    assert sum(heights) == 200


# --- RFM charts ------------------------------------------------------------------------


def test_metric_boxplots(customers):
    _, report = metrics.apply_outlier_policy(customers, RFMConfig(outliers="trim"))
    for thresholds in (None, report):
        fig = plots.metric_boxplots(customers, thresholds)
        axes = check_figure(fig, ylabel=False)  # one box per panel: the value axis is x
        assert len(axes) == 3
        assert fig._suptitle.get_text()
        assert axes[2].get_xlabel().startswith("Monetary (revenue, £)")


def test_score_shares(scored):
    fig = plots.score_shares(scored[1])
    (ax,) = check_figure(fig)
    assert ax.get_ylabel() == "Share of customers"
    assert tick(ax.yaxis, 0.35) == "35%"


@pytest.mark.parametrize("by", ["segment", "group"])
def test_segment_sizes(segmented, by):
    summary = segments.segment_summary(segmented, by=by)
    fig = plots.segment_sizes(summary, category=by)
    (ax,) = check_figure(fig, ylabel=False)
    assert ax.get_title() == f"Customers per {by}"
    assert len(category_ticks(ax.yaxis)) == len(summary)


# --- clustering charts -----------------------------------------------------------------


def test_elbow(clustered):
    X = clustered[0]
    table = clustering.elbow_table(X, 4, 42, 2, 100, 1000)
    fig = plots.elbow(table, 3)
    axes = fig.axes
    assert len(axes) == 2  # inertia and a twin axis for silhouette, sharing the title and x axis
    check_figure(fig, axes=axes[:1])
    assert axes[1].get_ylabel() == "Silhouette score"
    assert "chosen k = 3" in axes[0].get_title()
    assert tick(axes[0].yaxis, 12_000) == "12,000"
    legend = axes[0].get_legend()
    assert legend.get_bbox_to_anchor().y0 < axes[0].get_window_extent().y0  # below, off the lines


def test_cluster_medians(clustered):
    profile = clustered[1]
    fig = plots.cluster_medians(profile, FEATURES)
    axes = check_figure(fig, ylabel=False)  # clusters are named once, on the shared y axis
    assert len(axes) == 3
    # cluster 1 on top: the y axis runs downwards, so the tick labels read in number order
    assert category_ticks(axes[0].yaxis) == profile["cluster_name"].tolist()
    assert axes[0].get_ylim()[0] > axes[0].get_ylim()[1]
    assert_no_text_overlaps(fig, axes[0].get_yticklabels())
    assert axes[2].get_xlabel() == "Monetary (revenue, £)"


def test_cluster_medians_labels_have_units_and_no_false_decimals():
    profile = pd.DataFrame(
        {
            "cluster": [1, 2],
            "cluster_name": ["A", "B"],
            "recency_median": [10.5, 53.0],
            "frequency_median": [10.0, 4.0],
            "monetary_median": [3692.35, 1356.33],
        }
    )
    fig = plots.cluster_medians(profile, FEATURES, currency="$")
    assert [t.get_text() for t in fig.axes[0].texts] == ["10.5", "53"]  # a median between two days
    assert [t.get_text() for t in fig.axes[1].texts] == ["10", "4"]  # never 10.00
    assert [t.get_text() for t in fig.axes[2].texts] == ["$3,692", "$1,356"]


def test_bar_labels_fit_inside_every_panel():
    """Each panel's value axis widens until its longest bar label fits: checked on the figure
    drawn whole, as its PNG is (the widening measures the labels without drawing it)."""
    profile = pd.DataFrame(
        {
            "cluster": [1, 2, 3],
            "cluster_name": ["A", "B", "C"],
            "recency_median": [1.0, 150.5, 373.0],
            "frequency_median": [205.0, 3.5, 1.0],
            "monetary_median": [278_778.02, 1356.33, 2.9],
        }
    )
    fig = plots.cluster_medians(profile, FEATURES, currency="IDR")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        frame = ax.get_window_extent(renderer)
        labels = [t.get_window_extent(renderer) for t in ax.texts]
        assert len(labels) == 3
        assert all(frame.x0 < label.x1 <= frame.x1 for label in labels)


def _cluster_names(k: int) -> list[str]:
    """k long names like the ones KMeans gets when clusters share a word."""
    words = ["Top Performers", "High-Value", "Mid-Value", "Low-Value", "Dormant"]
    return [f"{words[i % 5]} (recent, very frequent, high-spend) #{i + 1}" for i in range(k)]


@pytest.mark.parametrize("k", [2, 4, 10])
def test_cluster_charts_stay_readable_for_any_k(k):
    """Every cluster name, on every cluster chart, for k = 2 … 10: no label touches another."""
    names = _cluster_names(k)
    rng = np.random.default_rng(k)
    profile = pd.DataFrame(
        {
            "cluster": range(1, k + 1),
            "cluster_name": names,
            "customers": rng.integers(10, 2000, k),
            "recency_median": rng.uniform(1, 300, k).round(),
            "frequency_median": rng.integers(1, 50, k).astype(float),
            "monetary_median": rng.uniform(100, 90_000, k),
        }
    )
    profile["customer_share"] = profile["customers"] / profile["customers"].sum()
    profile["revenue_share"] = profile["monetary_median"] / profile["monetary_median"].sum()
    table = pd.DataFrame(
        {
            "cluster_name": np.repeat(names, 5),
            "recency": rng.uniform(1, 300, 5 * k),
            "frequency": rng.integers(1, 50, 5 * k),
            "monetary": rng.uniform(10, 90_000, 5 * k),
        }
    )
    mix = pd.DataFrame(
        rng.dirichlet([1, 1, 1, 1], k), index=names, columns=["WhatsApp", "SMS", "Email", "Calls"]
    )
    crosstab = pd.DataFrame(
        rng.dirichlet([1] * 3, k).T, index=["Champions", "Loyal", "Lost Customers"], columns=names
    )
    charts = [
        (plots.cluster_medians(profile, FEATURES), "y"),
        (plots.cluster_boxplots(table, FEATURES, names), "y"),
        (plots.contribution(profile, category="cluster_name"), "y"),
        (plots.stacked_shares(mix, "Campaigns by channel", "Cluster", "Share of campaigns"), "y"),
        (
            plots.heatmap(
                crosstab, "Segments by cluster", "Cluster", "RFM segment", n=profile["customers"].values
            ),
            "x",
        ),
    ]
    for fig, axis in charts:
        ax = fig.axes[0]
        ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
        assert reading_order(fig, ax.yaxis if axis == "y" else ax.xaxis) == [
            n + (f" n = {c:,}" if axis == "x" else "")
            for n, c in zip(names, profile["customers"], strict=True)
        ]
        assert_no_text_overlaps(fig, [t for t in ticks if t.get_text()])
        # the bar labels (values) touch neither each other nor the frame's right edge
        assert_no_text_overlaps(fig, ax.texts)


def test_cluster_boxplots(clustered):
    _, _, table, names = clustered
    fig = plots.cluster_boxplots(table, FEATURES, names)
    axes = check_figure(fig, ylabel=False)  # clusters are named once, on the shared y axis
    assert category_ticks(axes[0].yaxis) == list(names)
    assert_no_text_overlaps(fig, axes[0].get_yticklabels())


def test_heatmap_of_a_crosstab(segmented, clustered):
    table = clustered[2].merge(segmented[["customer_id", "segment"]], on="customer_id")
    crosstab = segments.segment_crosstab(table, "cluster_name", normalize="columns")
    fig = plots.heatmap(crosstab, "Segments by cluster", "Cluster", "RFM segment")
    (ax,) = check_figure(fig)
    assert ax.get_xlabel() == "Cluster"
    assert ax.get_ylabel() == "RFM segment"


def test_heatmap_long_column_names_stay_readable():
    names = ["Top Performers", "High-Value Frequent Users", "Moderately Engaged Users", "Dormant"]
    table = pd.DataFrame(np.full((3, 4), 0.25), index=["Champions", "Loyal", "Lost"], columns=names)
    fig = plots.heatmap(table, "Segments by cluster", "Cluster", "RFM segment")
    (ax,) = check_figure(fig)
    assert category_ticks(ax.xaxis) == names
    assert_ticks_do_not_overlap(fig, ax.xaxis)


# --- insights charts -------------------------------------------------------------------


@pytest.mark.parametrize("by", ["segment", "group"])
def test_contribution(segmented, by):
    summary = segments.segment_summary(segmented, by=by)
    fig = plots.contribution(summary, category=by)
    (ax,) = check_figure(fig, ylabel=False)
    assert ax.get_xlabel() == "Share of total"


@pytest.mark.parametrize("metric", ["recency", "frequency", "monetary"])
def test_segment_metric(segmented, metric):
    summary = segments.segment_summary(segmented)
    fig = plots.segment_metric(summary, metric, f"Segments by {metric}")
    (ax,) = check_figure(fig, ylabel=False)
    assert ax.get_xlabel().startswith("Median ")
    # empty segments have no median and no bar
    assert len(category_ticks(ax.yaxis)) == summary[f"{metric}_median"].notna().sum()


def test_monthly_trend(tables):
    trend = tables.monthly_rfm_trend()
    fig = plots.monthly_trend(trend)
    axes = fig.axes
    assert len(axes) == 4
    check_figure(fig, axes=axes[:1], xlabel=False)
    for ax in axes:
        assert ax.get_ylabel().strip()
    assert axes[-1].get_xlabel() == "Month"  # shared x axis: labelled once, at the bottom
    assert tick(axes[-1].xaxis, mdates.date2num(pd.Timestamp("2011-02-01"))) == "Feb 2011"
    assert tick(axes[0].yaxis, 1_500) == "1,500"
    for ax in axes:  # legends beside the panels, not over the data
        assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1


def test_stacked_shares_of_cohorts(segmented):
    by_cohort = segments.segment_crosstab(segmented, segments.COHORT, normalize="columns").T
    fig = plots.stacked_shares(by_cohort, "Segment of each cohort", "Month of first order")
    (ax,) = check_figure(fig)
    assert category_ticks(ax.xaxis)[0] == by_cohort.index[0].strftime("%b %Y")
    # The legend lists the segments top to bottom as they are stacked: last column on top.
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [str(c) for c in by_cohort.columns[::-1]]
    assert tick(ax.yaxis, 0.4) == "40%"


# --- compact ticks, sizes (n), notes and alt text ---------------------------------------


def test_log_histogram_ticks_are_compact_and_never_run_together():
    """Values up to 300M on a log axis: ticks 1 … 100M, each apart (no ``1,000,00010,000,000``)."""
    values = pd.Series(np.geomspace(1, 3e8, 500))
    fig = plots.distribution(values, "Revenue per account", "Revenue (IDR)", log_x=True, currency="IDR")
    ax = fig.axes[0]
    FigureCanvasAgg(fig).draw()
    shown = [
        t.get_text()
        for t in ax.get_xticklabels()
        if t.get_text() and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]
    ]
    assert shown == [
        "IDR 1",
        "IDR 10",
        "IDR 100",
        "IDR 1k",
        "IDR 10k",
        "IDR 100k",
        "IDR 1M",
        "IDR 10M",
        "IDR 100M",
    ]
    assert_ticks_do_not_overlap(fig, ax.xaxis)
    # the median and the clip value carry the currency too
    assert ax.get_legend().get_texts()[0].get_text() == f"median {units.money(values.median(), 'IDR')}"
    assert "IDR" in ax.get_title()


def test_share_bars_show_the_size_of_each_bar():
    table = pd.DataFrame(
        {"country": ["United Kingdom", "Finland"], "revenue_share": [0.82, 0.004], "customers": [3916, 12]}
    )
    fig = plots.share_bars(table, "country", "revenue_share", "Share of revenue", "Share")
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["0.4% (n = 12 customers)", "82.0% (n = 3,916 customers)"]  # bottom to top
    assert_no_text_overlaps(fig, fig.axes[0].texts)
    # every label inside the frame (the value axis widens for it)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    frame = fig.axes[0].get_window_extent(canvas.get_renderer())
    assert all(t.get_window_extent(canvas.get_renderer()).x1 <= frame.x1 for t in fig.axes[0].texts)
    plain_fig = plots.share_bars(table, "country", "revenue_share", "Share", "Share", n=None)
    assert [t.get_text() for t in plain_fig.axes[0].texts] == ["0.4%", "82.0%"]


def test_heatmap_shows_the_size_of_each_column():
    shares = pd.DataFrame(
        {"United Kingdom": [0.2, 0.8], "Finland": [0.25, 0.75]}, index=["Champions", "Lost Customers"]
    )
    sizes = pd.Series({"Finland": 12, "United Kingdom": 3916})  # any order: matched by name
    fig = plots.heatmap(shares, "Segment mix", "Country", "Segment", n=sizes)
    assert category_ticks(fig.axes[0].xaxis) == ["United Kingdom n = 3,916", "Finland n = 12"]
    assert_ticks_do_not_overlap(fig, fig.axes[0].xaxis)
    with pytest.raises(ValueError, match="1 sizes for 2"):
        plots.heatmap(shares, "Segment mix", "Country", "Segment", n=[3])


def test_cohort_chart_shows_cohort_sizes_and_a_note(segmented):
    counts = segments.segment_crosstab(segmented, segments.COHORT, normalize=False).T
    by_cohort = counts.div(counts.sum(axis=1), axis=0)
    note = "Dec 2010 is where the data starts: its cohort also holds customers whose first order was earlier."
    fig = plots.stacked_shares(
        by_cohort, "Segment of each cohort", "Month of first order", n=counts.sum(axis=1), note=note
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [f"n = {c:,}" for c in counts.sum(axis=1)]
    assert sum(int(t.get_text().removeprefix("n = ").replace(",", "")) for t in ax.texts) == len(segmented)
    assert_no_text_overlaps(fig, ax.texts)
    assert fig.texts[0].get_text() == note


def test_first_month_of_the_trend_says_why_all_are_new(tables):
    trend = tables.monthly_rfm_trend()
    assert trend["returning_customers"].iloc[0] == 0  # nobody can return in the first month
    fig = plots.monthly_trend(trend)
    (note,) = fig.axes[0].texts
    assert note.get_text() == "data starts here:\nall counted as new"
    assert note.xy[0] == pd.to_datetime(trend["month"].astype(str)).iloc[0]


def test_figures_carry_their_title_as_alt_text():
    summary = pd.DataFrame(
        {"segment": ["Champions", "Loyal"], "customers": [3, 1], "customer_share": [0.75, 0.25]}
    )
    fig = plots.segment_sizes(summary)
    data, metadata = fig._repr_mimebundle_()
    assert data == {"text/plain": "Customers per segment"}
    assert metadata == {"image/png": {"alt": "Customers per segment"}}
    profile = pd.DataFrame({"cluster": [1], "cluster_name": ["A"], "recency_median": [3.0]})
    assert plots.figure_title(plots.cluster_medians(profile, ["recency"])) == (
        "Cluster profiles (median per cluster): Median recency"
    )


def test_cluster_panels_value_ticks_stay_apart_with_a_currency_code():
    """Four narrow panels (the account run) with revenue in the billions of IDR: the value ticks
    of each panel never run together (``IDR0IDR5MIDR10M``); the code is in the axis label."""
    features = ["recency", "frequency_broadcast", "frequency_charged", "monetary"]
    profile = pd.DataFrame(
        {
            "cluster": [1, 2, 3, 4],
            "cluster_name": ["Top Performers", "High-Value", "Dormant (low-spend)", "Low-Value (lapsed)"],
            "recency_median": [3.0, 36.0, 187.0, 48.0],
            "frequency_broadcast_median": [101.0, 32.0, 5.0, 30.0],
            "frequency_charged_median": [42167.0, 11481.0, 478.0, 0.0],
            "monetary_median": [22_908_869.0, 6_381_823.0, 248_640.0, 0.0],
        }
    )
    table = pd.DataFrame(
        {
            "cluster_name": np.repeat(profile["cluster_name"], 3).to_numpy(),
            "recency": np.arange(12.0) + 1,
            "frequency_broadcast": np.arange(12) + 1,
            "frequency_charged": np.geomspace(1, 4e6, 12),
            "monetary": np.geomspace(1, 3e9, 12),
        }
    )
    for fig in (
        plots.cluster_medians(profile, features, currency="IDR", entity="accounts"),
        plots.cluster_boxplots(table, features, profile["cluster_name"], currency="IDR", entity="accounts"),
    ):
        for ax in fig.axes:
            assert_ticks_do_not_overlap(fig, ax.xaxis)
        assert fig.axes[3].get_xlabel().startswith("Monetary (revenue, IDR)")
        assert fig.axes[0].get_xlabel().startswith("Recency (days since last campaign)")
    medians = plots.cluster_medians(profile, features, currency="IDR")
    assert [t.get_text() for t in medians.axes[3].texts] == ["IDR 22.9M", "IDR 6.38M", "IDR 249k", "IDR 0"]
    assert (
        plots.cluster_medians(profile, ["monetary"], currency="£").axes[0].xaxis.get_major_formatter()(2e6, 0)
        == "£2M"
    )


def test_migration_flow_labels_agree_with_the_counts():
    counts = pd.DataFrame(
        [[5, 2, 0], [1, 3, 0], [4, 0, 0]],
        index=pd.Index(["Loyal & High-Value", "High-Risk", "new"], name="group_then"),
        columns=pd.Index(["Loyal & High-Value", "High-Risk", "gone"], name="group_now"),
    )
    fig = plots.migration_flow(counts, "group")
    texts = [t.get_text() for t in fig.axes[0].texts]
    # Left: row totals; right: column totals; "gone" has nobody and is left out.
    assert "Loyal & High-Value (7)" in texts and "High-Risk (4)" in texts and "new (4)" in texts
    assert "Loyal & High-Value (10)" in texts and "High-Risk (5)" in texts
    assert not any(t.startswith("gone") for t in texts)
    # One band per non-zero move (5 of them); bars are patches, bands are fills.
    assert len(fig.axes[0].collections) == 5
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in fig.axes[0].patches}
    assert plots.style.OUTSIDE in colours and plots.style.GROUP_COLORS["High-Risk"] in colours
    assert "Where each group's customers went" in plots.figure_title(fig)
    with pytest.raises(ValueError, match="empty"):
        plots.migration_flow(counts * 0, "group")
