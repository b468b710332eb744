"""HTML export of an executed notebook (built by hand: no kernel needed)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode, v4

from rfm_helpers.report.htmlexport import export_html, notebook_title

# 1×1 transparent PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
PROMPT = re.compile(r"In(&nbsp;|\xa0)\[")
EXTERNAL_ASSET = re.compile(r"<(script|link|img)\b[^>]*\b(src|href)=\"(https?:)?//", re.IGNORECASE)


def _code(source: str, *outputs: NotebookNode, tags: tuple[str, ...] = ()) -> NotebookNode:
    cell = v4.new_code_cell(source, outputs=list(outputs), execution_count=1)
    cell.metadata["tags"] = list(tags)
    return cell


def _stream(name: str, text: str) -> NotebookNode:
    return v4.new_output("stream", name=name, text=text)


@pytest.fixture
def executed(tmp_path: Path) -> Path:
    """An executed-looking notebook with every kind of cell the export filters."""
    figure = v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
    nb = v4.new_notebook()
    nb.cells = [
        _code('params_file = ""', tags=("parameters",)),
        _code('params_file = "/secret/params.yaml"', tags=("injected-parameters",)),
        v4.new_markdown_cell("Intro without heading"),
        v4.new_markdown_cell("## Customer segments\n\nWho buys what."),
        _code("print(summary_text)", _stream("stdout", "412 customers\n")),
        _code("warn_me()", _stream("stderr", "DeprecationWarning: noise\n")),
        _code("show_chart()", figure),
        _code("print(debug_dump)", _stream("stdout", "debug dump\n"), tags=("remove-output",)),
        _code("print(hidden)", _stream("stdout", "hidden cell\n"), tags=("remove-cell",)),
    ]
    path = tmp_path / "03_segments.ipynb"
    nbformat.write(nb, path)
    return path


def test_stakeholder_page_hides_code_and_keeps_outputs(executed: Path, tmp_path: Path) -> None:
    out = tmp_path / "report" / "03_segments.html"
    title = export_html(executed, out, run_name="spring")
    html = out.read_text()

    assert title == "Customer segments" and "<title>Customer segments</title>" in html
    assert "412 customers" in html and "data:image/png;base64," + PNG[:20] in html
    for hidden in ("summary_text", "show_chart", "/secret/params.yaml", "noise", "debug dump", "hidden cell"):
        assert hidden not in html, hidden
    assert not PROMPT.search(html)
    assert not EXTERNAL_ASSET.search(html)
    assert 'href="../index.html"' in html and "spring" in html


def test_show_code_keeps_code_and_prompts(executed: Path, tmp_path: Path) -> None:
    out = tmp_path / "failed.html"
    export_html(executed, out, show_code=True, title="Debug view", index_href=None)
    html = out.read_text()

    assert "<title>Debug view</title>" in html
    assert "summary_text" in html and "noise" in html and PROMPT.search(html)
    assert "../index.html" not in html
    assert not EXTERNAL_ASSET.search(html)


def test_notebook_title_is_first_heading() -> None:
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("text"), v4.new_markdown_cell("# RFM scores ##\nbody")])
    assert notebook_title(nb) == "RFM scores"
    assert notebook_title(v4.new_notebook()) is None


def _tagged(source: str, tag: str) -> NotebookNode:
    cell = v4.new_markdown_cell(source)
    cell.metadata["tags"] = [tag]
    return cell


def test_cells_about_the_other_pipeline_are_left_out(tmp_path: Path) -> None:
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("## What the clusters hold"),
        _tagged("In transaction runs, clusters against the RFM segments.", "transactions-only"),
        _tagged("Channel mix per cluster: report 5.", "accounts-only"),
    ]
    path = tmp_path / "04_clustering.ipynb"
    nbformat.write(nb, path)
    pages = {}
    for pipeline in ("accounts", "transactions", None):
        out = tmp_path / f"{pipeline}.html"
        export_html(path, out, pipeline=pipeline)
        pages[pipeline] = out.read_text()

    assert "transaction runs" not in pages["accounts"] and "report 5" in pages["accounts"]
    assert "transaction runs" in pages["transactions"] and "report 5" not in pages["transactions"]
    assert "transaction runs" in pages[None] and "report 5" in pages[None]  # no pipeline: all kept
    assert all("What the clusters hold" in page for page in pages.values())
    with pytest.raises(ValueError, match="pipeline"):
        export_html(path, tmp_path / "x.html", pipeline="customers")
