"""One visual language: every segment, group and cluster has one colour, the same in every chart
that shows it, and categories keep the reference table's order in every chart."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rfm_helpers.analysis import segments
from rfm_helpers.data import reference
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.report import plots, style

REFERENCE = PROJECT_ROOT / "data" / "reference"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def hex_of(color) -> str:
    return mcolors.to_hex(color).lower()


@pytest.fixture(scope="module")
def segment_table() -> pd.DataFrame:
    return reference.load_segment_table(REFERENCE / "rfm_segments.csv")


@pytest.fixture(scope="module")
def groups(segment_table) -> pd.DataFrame:
    return reference.load_segment_groups(REFERENCE / "segment_groups.csv", segment_table["segment"].unique())


@pytest.fixture(scope="module")
def segmented(segment_table, groups) -> pd.DataFrame:
    """One customer per RFM code (125), so that every segment has customers; values chosen so
    that sorting by any metric would give another order than the reference table's."""
    codes = segment_table["rfm_code"].tolist()
    scored = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(codes))],
            "rfm_code": codes,
            "recency": [(i * 37) % 365 + 1 for i in range(len(codes))],
            "frequency": [(i * 7) % 40 + 1 for i in range(len(codes))],
            "monetary": [float((i * 7919) % 10_000 + 10) for i in range(len(codes))],
            "first_purchase": pd.to_datetime("2011-01-01")
            + pd.to_timedelta([(i * 11) % 300 for i in range(len(codes))], unit="D"),
        }
    )
    return segments.assign_segments(scored, segment_table, groups)


# --- the colours themselves -------------------------------------------------------------


def test_every_reference_segment_and_group_has_its_own_colour(segment_table, groups):
    style.validate()
    names = segment_table["segment"].unique().tolist()
    assert sorted(style.SEGMENT_COLORS) == sorted(names)
    assert sorted(style.GROUP_COLORS) == sorted(groups["group"].unique())
    assert len(set(style.SEGMENT_COLORS.values())) == len(names)
    assert len(style.CLUSTER_COLORS) >= 10  # k = 2 … 10 without repeating a colour


def test_segments_take_their_groups_colour_family(groups):
    """A chart of segments and a chart of groups read alike: each group's colour is closer to
    its own segments' colours than to any other group's segments (hue distance)."""
    import colorsys

    def hue(color: str) -> float:
        red, green, blue = mcolors.to_rgb(color)
        h, _, s = colorsys.rgb_to_hls(red, green, blue)
        return h if s > 0.1 else -1.0  # greys have no hue

    for group, members in groups.groupby("group")["segment"]:
        own = {hue(style.SEGMENT_COLORS[s]) for s in members}
        if hue(style.GROUP_COLORS[group]) < 0:
            assert own == {-1.0}, group  # a grey group has grey segments
            continue
        target = hue(style.GROUP_COLORS[group])
        for segment in members:
            distance = min(
                abs(hue(style.SEGMENT_COLORS[segment]) - target),
                1 - abs(hue(style.SEGMENT_COLORS[segment]) - target),
            )
            assert distance < 0.12, (group, segment)


def test_validate_names_the_offender(monkeypatch):
    monkeypatch.setitem(style.SEGMENT_COLORS, "Loyal", style.SEGMENT_COLORS["Champions"])
    with pytest.raises(ValueError, match="segments share the colours #1b7837"):
        style.validate()
    monkeypatch.setitem(style.SEGMENT_COLORS, "Loyal", "green")
    with pytest.raises(ValueError, match="must be #rrggbb: Loyal"):
        style.validate()


def test_colors_of_unknown_names_never_fail_and_stay_distinct():
    names = ["Champions", "VIP", "Sleepers"]
    colors = style.colors(names, "segment")
    assert colors[0] == style.SEGMENT_COLORS["Champions"]
    assert colors[1] != colors[2] and colors[1] not in style.SEGMENT_COLORS.values()
    assert style.colors(["Jan", "Feb"]) == [style.NEUTRAL, style.NEUTRAL]  # not categories: neutral
    assert style.colors(["a", "b", "c"], "cluster") == list(style.CLUSTER_COLORS[:3])


def test_kind_of_names_and_columns():
    assert style.kind_of("cluster_name") == "cluster"
    assert style.infer_kind(["At Risk", "Loyal"]) == "segment"
    assert style.infer_kind(["High-Risk"]) == "group"
    assert style.infer_kind(["WhatsApp", "Calls"]) == "channel"
    assert style.infer_kind(["United Kingdom"]) is None


# --- the same colour and order in every chart ------------------------------------------


def bar_colors(ax) -> dict[str, str]:
    """``{y tick label: colour of its bar}`` of a horizontal bar chart (solid bars only)."""
    labels = {round(t.get_position()[1], 3): t.get_text().replace("\n", " ") for t in ax.get_yticklabels()}
    colors = {}
    for patch in ax.patches:
        if patch.get_facecolor()[3] < 1:
            continue  # the pale share-of-customers bar beside the solid one
        center = round(patch.get_y() + patch.get_height() / 2, 3)
        name = labels.get(center) or labels[min(labels, key=lambda y: abs(y - center))]
        colors.setdefault(name, hex_of(patch.get_facecolor()))
    return colors


def top_to_bottom(ax) -> list[str]:
    ticks = sorted(ax.get_yticklabels(), key=lambda t: t.get_position()[1], reverse=not ax.yaxis_inverted())
    return [t.get_text().replace("\n", " ") for t in ticks if t.get_text()]


def test_a_segment_has_the_same_colour_in_every_chart(segmented):
    summary = segments.segment_summary(segmented)
    expected = {s: c.lower() for s, c in style.SEGMENT_COLORS.items()}
    sizes = bar_colors(plots.segment_sizes(summary).axes[0])
    spending = bar_colors(plots.segment_metric(summary, "monetary", "Segments by spending").axes[0])
    recency = bar_colors(plots.segment_metric(summary, "recency", "Segments by recency").axes[0])
    contribution = bar_colors(plots.contribution(summary).axes[0])
    assert sizes == spending == recency == contribution == expected
    # the cohort chart stacks the same segments in the same colours
    by_cohort = segments.segment_crosstab(segmented, segments.COHORT, normalize="columns").T
    ax = plots.stacked_shares(by_cohort, "Segment of each cohort", "Month of first order").axes[0]
    legend = {
        t.get_text(): hex_of(h.get_facecolor())
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert legend == expected


def test_a_group_has_the_same_colour_in_every_chart(segmented):
    summary = segments.segment_summary(segmented, by="group")
    expected = {g: c.lower() for g, c in style.GROUP_COLORS.items()}
    assert bar_colors(plots.contribution(summary, category="group").axes[0]) == expected
    assert bar_colors(plots.segment_sizes(summary, category="group").axes[0]) == expected
    assert (
        bar_colors(plots.segment_metric(summary, "frequency", "Groups", category="group").axes[0]) == expected
    )


def test_segments_keep_the_reference_order_in_every_chart(segmented, segment_table):
    summary = segments.segment_summary(segmented)
    reference_order = segment_table["segment"].drop_duplicates().tolist()
    shuffled = summary.sample(frac=1, random_state=3)  # the order of the rows must not matter
    for fig in (
        plots.segment_sizes(shuffled),
        plots.contribution(shuffled),
        plots.segment_metric(shuffled, "monetary", "Segments by spending"),
        plots.segment_metric(shuffled, "recency", "Segments by recency"),
        plots.segment_metric(shuffled, "frequency", "Segments by frequency"),
    ):
        assert top_to_bottom(fig.axes[0]) == reference_order, fig.axes[0].get_title()
    by_cohort = segments.segment_crosstab(segmented, segments.COHORT, normalize="columns").T
    ax = plots.stacked_shares(by_cohort, "Segment of each cohort", "Month of first order").axes[0]
    # stacked bottom to top in the reference order; the legend reads top to bottom
    assert [t.get_text() for t in ax.get_legend().get_texts()] == reference_order[::-1]
    heatmap = plots.heatmap(segments.segment_crosstab(segmented, segments.COHORT), "Mix", "Cohort", "Segment")
    assert [t.get_text() for t in heatmap.axes[0].get_yticklabels()] == reference_order


def test_a_cluster_has_the_same_colour_in_every_chart():
    names = ["Top Performers", "High-Value", "Mid-Value (lapsed)", "Dormant"]
    profile = pd.DataFrame(
        {
            "cluster": [1, 2, 3, 4],
            "cluster_name": names,
            "customers": [700, 1159, 878, 1597],
            "customer_share": [0.16, 0.27, 0.2, 0.37],
            "revenue_share": [0.64, 0.24, 0.05, 0.07],
            "recency_median": [9.0, 53.0, 19.0, 183.0],
            "frequency_median": [10.0, 4.0, 2.0, 1.0],
            "monetary_median": [3692.35, 1356.33, 439.54, 299.34],
        }
    )
    table = pd.DataFrame(
        {
            "cluster_name": np.repeat(names, 3),
            "recency": np.arange(12.0) + 1,
            "frequency": np.arange(12) + 1,
            "monetary": np.arange(12.0) * 10 + 5,
        }
    )
    expected = dict(zip(names, [c.lower() for c in style.CLUSTER_COLORS[:4]], strict=True))
    medians = plots.cluster_medians(profile, ["recency", "frequency", "monetary"])
    assert bar_colors(medians.axes[0]) == expected
    # the contribution chart gets the clusters in another row order: colours follow the number
    contribution = plots.contribution(profile.iloc[::-1], category="cluster_name", entity="accounts")
    assert bar_colors(contribution.axes[0]) == expected
    assert top_to_bottom(contribution.axes[0]) == names
    boxes = plots.cluster_boxplots(table, ["recency", "frequency", "monetary"], names).axes[0]
    box_colors = [hex_of(p.get_facecolor()) for p in boxes.patches if hasattr(p, "get_path")][: len(names)]
    assert box_colors == list(expected.values())
