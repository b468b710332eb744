"""The segment table drawn as R × F grids per M (plots.segment_code_map, plots.abbreviations)."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from rfm_helpers.analysis import segments
from rfm_helpers.data import reference
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.report import plots, style

TABLE = reference.load_segment_table(PROJECT_ROOT / "data" / "reference" / "rfm_segments.csv")


def test_abbreviations_are_short_and_unique():
    short = plots.abbreviations(TABLE["segment"].unique())
    assert short["Cannot Lose Them"] == "CLT"
    assert short["Champions"] == "Ch"
    assert short["Lost Customers"] == "LC"
    assert len(set(short.values())) == len(short) == 11
    # a clash is lengthened, never shared
    assert plots.abbreviations(["Lost Customers", "Loyal Customers", "Lo", "Loyal"]) == {
        "Lost Customers": "LC",
        "Loyal Customers": "LCu",
        "Lo": "Lo",
        "Loyal": "Loy",
    }


def test_code_map_draws_every_code_in_its_segments_colour():
    scored = pd.DataFrame({"rfm_code": ["155", "155", "113", "555"]})
    grid = segments.code_grid(TABLE, scored)
    fig = plots.segment_code_map(grid)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("M = ")]
    assert [ax.get_title() for ax in panels] == [f"M = {m}" for m in range(1, 6)]
    colours = style.color_map(style.ordered(grid["segment"]), "segment")
    for m, ax in enumerate(panels, start=1):
        assert len(ax.patches) == 25  # one cell per R × F code
        cells = {(round(p.get_x() + 0.5), round(p.get_y() + 0.5)): p for p in ax.patches}
        for row in grid[grid["M"] == m].itertuples(index=False):
            facecolor = cells[(row.F, row.R)].get_facecolor()
            expected = tuple(int(colours[row.segment][i : i + 2], 16) / 255 for i in (1, 3, 5))
            assert facecolor[:3] == pytest.approx(expected, abs=1e-6)
        assert ax.get_xlabel() == "F score" and ax.get_ylabel() == "R score"
    # Cannot Lose Them in the M = 5 panel at R = 1, F = 5 (code 155): 2 customers
    texts = {t.get_text() for t in panels[4].texts}
    assert "CLT\n2" in texts and "Ch\n1" in texts
    assert "CLT\n1" in {t.get_text() for t in panels[2].texts}  # 113
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()][8] == "CLT = Cannot Lose Them"


def test_code_map_texts_stay_inside_their_cells():
    fig = plots.segment_code_map(segments.code_grid(TABLE, pd.DataFrame({"rfm_code": ["111"] * 12345})))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        for text in ax.texts:
            box = text.get_window_extent(renderer).transformed(ax.transData.inverted())
            x, y = text.get_position()
            assert x - 0.5 <= box.x0 and box.x1 <= x + 0.5, text.get_text()
            assert y - 0.5 <= box.y0 and box.y1 <= y + 0.5, text.get_text()
