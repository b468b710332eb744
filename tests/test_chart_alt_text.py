"""Every chart in an exported report page has its figure title as alt text: the output that
``display(fig)`` really produces (IPython's formatter with the inline backend) goes through the
stakeholder export, and its ``<img>`` carries the title, escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nbformat
import pandas as pd
import pytest
from nbformat import v4

from rfm_helpers.report import plots
from rfm_helpers.report.htmlexport import export_html


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib_inline.backend_inline import configure_inline_support

    ip = InteractiveShell.instance()
    configure_inline_support(ip, "inline")
    return ip


def displayed(shell, fig) -> nbformat.NotebookNode:
    """The notebook output ``display(fig)`` writes."""
    data, metadata = shell.display_formatter.format(fig)
    return v4.new_output("display_data", data=data, metadata=metadata)


def test_display_of_a_chart_carries_its_title(shell):
    table = pd.DataFrame({"country": ["A", "B"], "revenue_share": [0.2, 0.8], "customers": [9, 3916]})
    fig = plots.share_bars(table, "country", "revenue_share", "Share of revenue by country", "Share")
    output = displayed(shell, fig)
    assert "image/png" in output.data
    assert output.metadata["image/png"]["alt"] == "Share of revenue by country"
    assert output.data["text/plain"] == "Share of revenue by country"


def test_exported_page_uses_the_title_as_alt_text(shell, tmp_path: Path):
    table = pd.DataFrame(
        {"segment": ["Champions", "Loyal"], "customers": [3, 1], "customer_share": [0.75, 0.25]}
    )
    titled = displayed(shell, plots.segment_sizes(table))
    tricky = displayed(
        shell,
        plots.share_bars(
            table.assign(share=[0.5, 0.5]), "segment", "share", 'Share of "<b>x</b>" & y', "Share"
        ),
    )
    untitled = v4.new_output(
        "display_data", data={"image/png": titled.data["image/png"], "text/plain": "<Figure>"}
    )
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Report"),
        v4.new_code_cell("a", outputs=[titled], execution_count=1),
        v4.new_code_cell("b", outputs=[tricky], execution_count=2),
        v4.new_code_cell("c", outputs=[untitled], execution_count=3),
    ]
    source = tmp_path / "report.ipynb"
    nbformat.write(nb, source)
    out = tmp_path / "report.html"
    export_html(source, out)
    # BeautifulSoup (nbconvert) quotes an alt holding " with ' instead
    found = re.findall(r"""<img[^>]*\balt=(?:"([^"]*)"|'([^']*)')""", out.read_text())
    alts = [html.unescape(double or single) for double, single in found]
    assert alts == [
        "Customers per segment",
        'Share of "<b>x</b>" & y',
        "No description has been provided for this image",  # nbconvert default: an image without title
    ]
    assert "<b>x</b>" not in out.read_text()
