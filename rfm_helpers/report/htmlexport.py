"""Executed notebook → self-contained HTML page, in-process (the nbconvert CLI costs ~5 s each).

Stakeholder pages (``show_code=False``) show only narrative and outputs: no code, no prompts,
no ``stderr`` noise, no parameter cells. Failure pages (``show_code=True``) keep everything so
the analyst sees the failing cell and its traceback. Both use the ``rfm_report`` template
(``templates/rfm_report``), which removes every CDN script so a page opens offline.

A page of a run on synthetic data (:func:`rfm_helpers.synthetic.accounts.synthetic_origin` of the
params file papermill recorded in the notebook) opens with a banner saying so.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
HIDDEN_CELL_TAGS = frozenset({"remove-cell", "parameters", "injected-parameters"})
"""Cells dropped from stakeholder pages (papermill's parameter cells are plumbing)."""
REMOVE_OUTPUT_TAG = "remove-output"
PIPELINES = ("transactions", "accounts")
"""A cell tagged ``<pipeline>-only`` (e.g. ``transactions-only``) is text about that pipeline
only: the stakeholder pages of the other pipeline's runs leave it out (notebooks such as
04_clustering serve both)."""

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@functools.cache
def _exporter(show_code: bool) -> HTMLExporter:
    """One configured exporter per mode: building one parses the templates (~0.3 s)."""
    exporter = HTMLExporter(
        template_name="rfm_report",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        theme="light",
        embed_images=True,
    )
    if not show_code:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    return exporter


def notebook_title(nb: NotebookNode) -> str | None:
    """Text of the first markdown heading of a notebook, or ``None`` when it has none."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            if match:
                return match.group(1)
    return None


def _stakeholder_view(nb: NotebookNode, pipeline: str | None = None) -> NotebookNode:
    """Copy of ``nb`` without hidden cells, ``remove-output`` outputs and stderr streams, and
    (given the run's ``pipeline``) without the cells tagged for another pipeline only."""
    view = copy.deepcopy(nb)
    hidden = HIDDEN_CELL_TAGS
    if pipeline is not None:
        if pipeline not in PIPELINES:
            raise ValueError(f"pipeline must be one of {PIPELINES}, not {pipeline!r}")
        hidden = hidden | {f"{other}-only" for other in PIPELINES if other != pipeline}
    cells = []
    for cell in view.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & hidden:
            continue
        if cell.cell_type == "code":
            if REMOVE_OUTPUT_TAG in tags:
                cell.outputs = []
            else:
                cell.outputs = [
                    out for out in cell.outputs if not (out.output_type == "stream" and out.name == "stderr")
                ]
            if not cell.outputs:
                continue  # with code hidden, an output-less cell is only an empty box
        cells.append(cell)
    view.cells = cells
    return view


def _run_date(nb: NotebookNode) -> str:
    """When papermill finished the notebook (UTC, minutes), or now for an unexecuted one."""
    end_time = nb.metadata.get("papermill", {}).get("end_time")
    when = dt.datetime.fromisoformat(end_time) if end_time else dt.datetime.now(dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def generated_by(nb: NotebookNode) -> str | None:
    """What generated the data of the run that executed ``nb`` (its params file, as recorded by
    papermill), or None for real data or a notebook not run by the runner."""
    params_file = nb.metadata.get("papermill", {}).get("parameters", {}).get("params_file")
    if not params_file:
        return None
    from rfm_helpers.config import ConfigError, load_config
    from rfm_helpers.synthetic.accounts import synthetic_origin

    try:
        cfg = load_config(params_file)
    except ConfigError:  # the step ran with these params, so they were valid; moved since
        return None
    return synthetic_origin(cfg.accounts) if cfg.accounts is not None else None


def export_html(
    executed_nb_path: str | Path,
    out_path: str | Path,
    *,
    show_code: bool = False,
    title: str | None = None,
    run_name: str = "",
    index_href: str | None = "../index.html",
    pipeline: str | None = None,
) -> str:
    """Render an executed notebook to one self-contained HTML file; return the page title.

    The file is written in place: the runner writes into a staging folder published as a whole.

    ``title`` defaults to the notebook's first markdown heading (then its file name);
    ``run_name`` goes into the footer; ``index_href`` is the "← All reports" link
    (``None`` drops it, e.g. for failure pages that live outside ``reports/``); ``pipeline``
    (``transactions`` or ``accounts``) leaves out the cells tagged for the other one only.
    """
    executed_nb_path = Path(executed_nb_path)
    nb = nbformat.read(executed_nb_path, as_version=4)
    title = title or notebook_title(nb) or executed_nb_path.stem
    view = nb if show_code else _stakeholder_view(nb, pipeline)
    view.metadata["title"] = title
    resources = {
        "metadata": {"name": title, "path": str(executed_nb_path.parent)},
        "rfm": {
            "run_name": run_name,
            "run_date": _run_date(nb),
            "index_href": index_href,
            "generated_by": generated_by(nb),
        },
    }
    body, _ = _exporter(show_code).from_notebook_node(view, resources=resources)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(body, encoding="utf-8")
    return title
