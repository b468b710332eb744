"""The reports' visual language, defined once: one colour per segment, per segment group, per
cluster and per channel, and the order categories are shown in.

Every chart in :mod:`rfm_helpers.report.plots` takes its colours from here, so "Champions" is the
same green on the contribution chart, the spending chart and the cohort chart, and "High-Risk"
the same red on every page. Segments are coloured by their group's family (greens for
Loyal & High-Value, reds and oranges for High-Risk, blues for New & Potential, greys for
Inactive & Lost), so a chart of segments and a chart of groups read alike.

Order: segments and groups are always shown in the reference tables' order
(``data/reference/rfm_segments.csv``, ``segment_groups.csv``; a Categorical column carries it),
clusters in their number order (1 = highest value). Charts never re-sort them by value.

Names not listed here (a custom segment table) get colours from :data:`EXTRA_COLORS` in the
order given, so a chart never fails on a new name; ``tests/test_style.py`` checks that every
segment and group of the shipped reference tables has its own colour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

SEGMENT_COLORS: dict[str, str] = {
    # Loyal & High-Value: greens, darkest = most valuable
    "Champions": "#1b7837",
    "Loyal": "#5aae61",
    "Potential Loyalist": "#a6dba0",
    # New & Potential: blues
    "New Customers": "#2166ac",
    "Promising": "#92c5de",
    # High-Risk: yellow → dark red as the risk grows
    "Need Attention": "#fdae61",
    "About To Sleep": "#fee08b",
    "At Risk": "#f46d43",
    "Cannot Lose Them": "#a50026",
    # Inactive & Lost: greys
    "Hibernating Customers": "#bdbdbd",
    "Lost Customers": "#737373",
}
"""One colour per segment of ``data/reference/rfm_segments.csv``."""

GROUP_COLORS: dict[str, str] = {
    "Loyal & High-Value": "#1b7837",
    "High-Risk": "#d6604d",
    "New & Potential": "#4393c3",
    "Inactive & Lost": "#878787",
}
"""One colour per group of ``data/reference/segment_groups.csv``: the family of its segments."""

CLUSTER_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Cluster 1, 2, … (1 = highest value): ten distinct colours, enough for k = 2 … 10."""

CHANNEL_COLORS: dict[str, str] = {
    "WhatsApp": "#2ca25f",
    "SMS": "#3182bd",
    "Email": "#fd8d3c",
    "Calls": "#756bb1",
}
"""The omnichannel platform's channels, as ``accounts.CHANNEL_NAMES`` writes them."""

CHANNEL_NAMES = {"wa": "WhatsApp", "sms": "SMS", "email": "Email", "call": "Calls", "all": "All"}
"""Channel codes of the omnichannel tables, as people name them (``accounts.CHANNEL_NAMES``)."""


def readable_channels(text: object) -> str:
    """``wa+sms`` → ``WhatsApp + SMS``: a channel code or profile in people's words."""
    return " + ".join(CHANNEL_NAMES.get(part, part) for part in str(text).split("+"))


EXTRA_COLORS: tuple[str, ...] = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)
"""Colours for names not listed above, in the order the chart gives them."""

NEUTRAL = "#4c72b0"
"""Bars that are not segments, groups or clusters (months, countries, products, counts)."""
NEUTRAL_LIGHT = "#a8bfdc"
"""The second series beside :data:`NEUTRAL` (e.g. new vs returning customers)."""
ACCENT = "#c44e52"
"""Reference lines and removals: medians, thresholds, rows removed."""
POSITIVE = "#55a868"
"""Additions (a cleaning rule that adds revenue back)."""
SECOND_SERIES = "#dd8452"
"""A second measure on a twin axis (orders beside revenue, silhouette beside inertia)."""
OUTSIDE = "#d8c07a"
"""Customers outside the scoring at one of two dates (a migration's "new" and "gone"): a sand
no segment, group or cluster uses."""
SCORE_COLORS: dict[str, str] = {"Recency": "#66c2a5", "Frequency": "#fc8d62", "Monetary": "#8da0cb"}
"""The three RFM metrics, wherever they are compared side by side."""

Kind = Literal["segment", "group", "cluster", "channel"]

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def kind_of(column: str) -> Kind | None:
    """The kind of category a column holds, from its name (``cluster_name`` → ``cluster``)."""
    name = str(column).lower()
    if name in ("segment", "rfm segment"):
        return "segment"
    if name in ("group", "segment group"):
        return "group"
    if name in ("cluster", "cluster_name", "cluster name"):
        return "cluster"
    if name in ("channel", "channels"):
        return "channel"
    return None


def infer_kind(names: Iterable[object]) -> Kind | None:
    """The kind all of ``names`` belong to, if they are all known segments, groups or channels."""
    names = [str(n) for n in names]
    if not names:
        return None
    for kind, table in (("segment", SEGMENT_COLORS), ("group", GROUP_COLORS), ("channel", CHANNEL_COLORS)):
        if all(n in table for n in names):
            return kind  # type: ignore[return-value]
    return None


def ordered(values: pd.Series | Sequence[object]) -> list[str]:
    """Categories in their display order: a Categorical's own order (the reference table's),
    else the order of first appearance. Never sorted by value."""
    import pandas as pd  # here: the runner's index page uses the colours without pandas

    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    if isinstance(values, pd.CategoricalIndex):
        return [str(c) for c in values.categories]
    return [str(v) for v in dict.fromkeys(values)]


def colors(names: Sequence[object], kind: Kind | None = None) -> list[str]:
    """One colour per name, the same for a name in every chart.

    ``kind``: what the names are; ``None`` infers segment, group or channel from the names
    (all must be known). Clusters are coloured by position: pass all the clusters in their
    number order (cluster 1 first), as every chart of clusters does. Unknown names take
    :data:`EXTRA_COLORS` in order; names of no kind at all get :data:`NEUTRAL`.
    """
    names = [str(n) for n in names]
    kind = kind or infer_kind(names)
    if kind == "cluster":
        return [CLUSTER_COLORS[i % len(CLUSTER_COLORS)] for i in range(len(names))]
    table = {"segment": SEGMENT_COLORS, "group": GROUP_COLORS, "channel": CHANNEL_COLORS}.get(kind or "")
    if table is None:
        return [NEUTRAL] * len(names)
    extra = iter(EXTRA_COLORS * (len(names) // len(EXTRA_COLORS) + 1))
    return [table[n] if n in table else next(extra) for n in names]


def color_map(names: Sequence[object], kind: Kind | None = None) -> dict[str, str]:
    """``{name: colour}`` of :func:`colors`."""
    return dict(zip([str(n) for n in names], colors(names, kind), strict=True))


def validate() -> None:
    """Every colour is a ``#rrggbb`` hex and no two segments, groups or clusters share one
    (raises ``ValueError`` naming the offender)."""
    for label, table in (
        ("segment", SEGMENT_COLORS),
        ("group", GROUP_COLORS),
        ("channel", CHANNEL_COLORS),
        ("cluster", dict(enumerate(CLUSTER_COLORS, start=1))),
    ):
        bad = [str(n) for n, c in table.items() if not _HEX.match(c)]
        if bad:
            raise ValueError(f"style: {label} colours must be #rrggbb: {', '.join(bad)}")
        values = [c.lower() for c in table.values()]
        repeated = sorted({c for c in values if values.count(c) > 1})
        if repeated:
            raise ValueError(f"style: {label}s share the colours {', '.join(repeated)}")


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (a ``#rrggbb`` colour)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#222222" if luminance > 0.5 else "#ffffff"
