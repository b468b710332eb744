"""The runner on tiny notebooks with real papermill kernels, writing below a temporary
``RFM_OUTPUT_ROOT``: publishing, provenance, failure handling and bad params."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from rfm_helpers.report import reporting
from rfm_helpers.runs import runner

RUN = "tiny"
LOAD_CONFIG = "from rfm_helpers.config import load_config\ncfg = load_config(params_file)"
EXPORT_CELL = (
    f"{LOAD_CONFIG}\n"
    "cfg.exports_dir.mkdir(parents=True, exist_ok=True)\n"
    "(cfg.exports_dir / 'segments.csv').write_text('customer_id,segment\\n1,Champions\\n2,At Risk\\n')\n"
    "print('exported for', cfg.run_name)"
)
FIGURE_CELL = (
    "%matplotlib inline\n"
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(2, 2))\n"
    "ax.plot([1, 2, 3])\n"
    "plt.show()"
)


def write_notebook(path: Path, title: str, *code: str) -> None:
    """A pipeline-style notebook: parameters cell, title, then the given code cells."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        v4.new_code_cell('params_file = ""', metadata={"tags": ["parameters"]}),
        v4.new_markdown_cell(f"# {title}\n\nIntroduction."),
        *(v4.new_code_cell(source) for source in code),
    ]
    nbformat.write(nb, path)


def write_pipeline(
    folder: Path,
    *steps: str,
    writes: dict[str, list[str]] | None = None,
    reads: dict[str, list[str]] | None = None,
) -> None:
    """A pipeline.yaml running ``steps`` one after the other, each needing the previous one
    (``reads``: the parameters each step reads, none by default)."""
    writes, reads = writes or {}, reads or {}
    lines = ["transactions:"]
    for previous, step in zip((None, *steps), steps, strict=False):
        lines.append(f"  {step}:")
        lines.append(f"    needs: [{previous or ''}]")
        lines.append(f"    writes: [{', '.join(writes.get(step, []))}]")
        lines.append(f"    reads: [{', '.join(reads.get(step, []))}]")
    (folder / "pipeline.yaml").write_text("\n".join(lines) + "\n")


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.external_assets: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"] or "")
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        url = attributes.get("src") if tag in {"script", "img"} else attributes.get("href")
        if tag in {"script", "link", "img"} and url and re.match(r"(https?:)?//", url):
            self.external_assets.append(url)


def parse_links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


@dataclass
class Published:
    root: Path
    params: Path
    input_file: Path
    notebooks: Path
    exit_code: int
    output: str

    @property
    def reports(self) -> Path:
        return self.root / "reports"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """One successful run of two notebooks, over an older report and leftover staging folders."""
    root = tmp_path_factory.mktemp("out")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "01_overview.ipynb", "Tiny overview", EXPORT_CELL, FIGURE_CELL)
    write_notebook(notebooks / "02_details.ipynb", "Tiny details", "print('details')")
    (notebooks / "notes.ipynb").write_text("not a step")  # not in pipeline.yaml: ignored
    write_pipeline(
        notebooks,
        "01_overview",
        "02_details",
        writes={"01_overview": ["exports_dir"]},
        reads={"01_overview": ["run_name"]},  # it prints the run name
    )

    input_file = root / "transactions.csv"
    input_file.write_text("InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice\n1,2011-01-01,7,2,1.5\n")
    params = root / "tiny.yaml"
    # The export has no stock code, description or country: the params say so (null), else the
    # pre-kernel check stops the run at the header.
    params.write_text(
        f"run_name: {RUN}\ndescription: Tiny test run\ninput:\n  path: {input_file}\n"
        "  columns: {stock_code: null, description: null, country: null}\n"
    )

    reports = root / "reports"
    (reports / RUN).mkdir(parents=True)
    (reports / RUN / "stale.html").write_text("previous report")
    (reports / f".staging-{RUN}.interrupted").mkdir()
    (reports / ".staging-other.inprogress").mkdir()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        capture = root / "stdout.txt"
        with capture.open("w") as out, mp.context() as redirect:
            redirect.setattr("sys.stdout", out)
            exit_code = runner.run(params, notebooks_dir=notebooks)
        yield Published(root, params, input_file, notebooks, exit_code, capture.read_text())


def test_success_publishes_reports(published: Published) -> None:
    assert published.exit_code == 0, published.output
    assert "[1/2] 01_overview: running…" in published.output
    assert "[1/2] 01_overview: done in" in published.output
    run_dir = published.reports / RUN
    assert sorted(p.name for p in run_dir.glob("*.html")) == ["01_overview.html", "02_details.html"]
    assert not (run_dir / "stale.html").exists(), "the old report is replaced, not merged"
    assert (run_dir / "exports" / "segments.csv").read_text().startswith("customer_id,segment")
    assert (published.root / "build" / RUN / "steps" / "01_overview" / "executed.ipynb").is_file()


def test_stale_staging_of_this_run_only_is_removed(published: Published) -> None:
    leftovers = sorted(p.name for p in published.reports.glob(".staging-*"))
    assert leftovers == [".staging-other.inprogress"]


def test_report_pages_are_for_stakeholders(published: Published) -> None:
    html = (published.reports / RUN / "01_overview.html").read_text()
    assert "<title>Tiny overview</title>" in html
    assert "exported for tiny" in html  # outputs kept
    assert "load_config" not in html and "params_file" not in html  # code and parameters hidden
    assert not re.search(r'class="[^"]*\b(jp-InputArea-editor|jp-InputPrompt)\b', html)
    assert not re.search(r"In(&nbsp;|\xa0)\[", html)
    links = parse_links(html)
    assert links.images and all(src.startswith("data:image/png;base64,") for src in links.images)
    assert links.external_assets == []
    assert "../index.html" in links.hrefs


def test_manifest_records_provenance(published: Published) -> None:
    manifest = json.loads((published.reports / RUN / "manifest.json").read_text())
    expected_sha = hashlib.sha256(published.input_file.read_bytes()).hexdigest()
    assert manifest["input"] == {"path": str(published.input_file), "sha256": expected_sha}
    assert manifest["run_name"] == RUN and manifest["description"] == "Tiny test run"
    assert manifest["parameters"]["input"]["path"] == str(published.input_file)
    assert [r["title"] for r in manifest["reports"]] == ["Tiny overview", "Tiny details"]
    assert manifest["exports"] == [{"file": "segments.csv", "bytes": 42, "rows": 2}]
    assert set(manifest["git"]) == {"commit", "dirty"}
    assert manifest["packages"]["pandas"] and manifest["python"].startswith("3.")
    assert manifest["started"] <= manifest["finished"]


def test_index_links_resolve(published: Published) -> None:
    html = (published.reports / "index.html").read_text()
    assert "<title>RFM segmentation reports</title>" in html and "<script" not in html
    links = parse_links(html)
    assert links.external_assets == []
    assert {"tiny/01_overview.html", "tiny/02_details.html", "tiny/exports/segments.csv"} <= set(links.hrefs)
    for href in links.hrefs:
        if href.startswith("#"):  # the overview table links each run's section on the page
            assert f'id="{href[1:]}"' in html, href
            continue
        assert (published.reports / href).is_file(), href


def test_index_lists_every_run_side_by_side(tmp_path: Path) -> None:
    for run, title in (("spring", "Spring & <sale>"), ("autumn", "Autumn")):
        (tmp_path / run).mkdir()
        manifest = {"run_name": run, "description": f"{title} run", "finished": "2024-03-01T09:15:42+00:00"}
        manifest["reports"] = [{"notebook": "01_a", "title": title, "html": "01_a.html", "duration_s": 1.0}]
        (tmp_path / run / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / ".staging-spring.x").mkdir()  # in progress: not listed
    (tmp_path / "broken").mkdir()  # no manifest: not listed

    html = reporting.write_index(tmp_path).read_text()

    assert re.findall(r"<h2>(\w+)</h2>", html) == ["autumn", "spring"]
    assert "Spring &amp; &lt;sale&gt;" in html and "<sale>" not in html  # autoescaped
    assert "2024-03-01 09:15 UTC" in html
    # each run's page (linked from the overview, the "start here" button and the list), in run order
    pages = [href for href in dict.fromkeys(parse_links(html).hrefs) if not href.startswith("#")]
    assert pages == ["autumn/01_a.html", "spring/01_a.html"]


def test_unchanged_run_is_skipped(published: Published, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(published.reports)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(published.root))
        assert runner.run(published.params, notebooks_dir=published.notebooks) == 0
    assert "up to date" in capsys.readouterr().out
    assert tree_digest(published.reports) == before


def _rerun(published: Published, capsys: pytest.CaptureFixture[str], **kwargs: bool) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(published.root))
        assert runner.run(published.params, notebooks_dir=published.notebooks, **kwargs) == 0
    return capsys.readouterr().out


def test_only_the_edited_step_and_its_dependents_rerun(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    second = published.notebooks / "02_details.ipynb"
    original = second.read_bytes()
    try:
        write_notebook(second, "Tiny details", "print('more details')")
        out = _rerun(published, capsys)
        assert "[1/2] 01_overview: up to date, reused" in out
        assert "[2/2] 02_details: done in" in out and "1 of 2 steps run, 1 reused" in out
        assert "more details" in (published.reports / RUN / "02_details.html").read_text()
        # The reused page is republished unchanged.
        assert "exported for tiny" in (published.reports / RUN / "01_overview.html").read_text()
    finally:
        second.write_bytes(original)
    out = _rerun(published, capsys)  # back to the original content: rerun, not a stale skip
    assert "[2/2] 02_details: done in" in out


def test_touching_a_file_without_changing_it_reruns_nothing(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    _rerun(published, capsys)
    for path in published.notebooks.iterdir():
        path.touch()
    published.params.touch()
    out = _rerun(published, capsys)
    assert "0 of" not in out and "running" not in out and "is up to date" in out


def test_a_changed_product_on_disk_reruns_its_step(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    _rerun(published, capsys)
    export = published.root / "data" / "processed" / RUN / "exports" / "segments.csv"
    export.write_text("edited by hand\n")
    out = _rerun(published, capsys)
    assert "[1/2] 01_overview: done in" in out
    assert export.read_text().startswith("customer_id,segment")


def test_force_reruns_every_step(published: Published, capsys: pytest.CaptureFixture[str]) -> None:
    out = _rerun(published, capsys, force=True)
    assert "2 of 2 steps run, 0 reused" in out


def test_failure_keeps_previous_report(published: Published, capsys: pytest.CaptureFixture[str]) -> None:
    assert published.exit_code == 0
    before = tree_digest(published.reports)
    broken = published.root / "broken_notebooks"
    broken.mkdir()
    marker = published.root / "after_ran"
    write_notebook(broken / "01_ok.ipynb", "Fine", "x = 1")
    write_notebook(broken / "02_broken.ipynb", "Broken", "y = 2", "raise ValueError('boom in tiny notebook')")
    write_notebook(broken / "03_after.ipynb", "After", f"open({str(marker)!r}, 'w').close()")
    write_pipeline(broken, "01_ok", "02_broken", "03_after")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(published.root))
        exit_code = runner.run(published.params, notebooks_dir=broken, force=True)

    assert exit_code == 1
    err = capsys.readouterr().err
    assert "02_broken.ipynb" in err and "ValueError: boom in tiny notebook" in err and "In [4]" in err
    failed_html = published.root / "build" / RUN / "failed" / "02_broken.html"
    assert str(failed_html) in err
    page = failed_html.read_text()
    assert "raise" in page and "boom in tiny notebook" in page and "Traceback" in page
    assert re.search(r"In(&nbsp;|\xa0)\[3\]", page)  # code and prompts visible for the analyst
    assert not marker.exists(), "later notebooks must not run"
    assert tree_digest(published.reports) == before


def tiny_params(folder: Path, run: str = RUN, **sections: str) -> Path:
    """The params file ``<run>.yaml`` of a tiny run (an input the pre-kernel check accepts), plus
    ``sections`` as YAML lines (``report="{title: T}"``)."""
    input_file = folder / "transactions.csv"
    input_file.write_text("InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice\n1,2011-01-01,7,2,1.5\n")
    params = folder / f"{run}.yaml"
    params.write_text(
        f"run_name: {run}\ninput:\n  path: {input_file}\n"
        "  columns: {stock_code: null, description: null, country: null}\n"
        + "".join(f"{name}: {value}\n" for name, value in sections.items())
    )
    return params


def test_a_step_reruns_only_when_a_parameter_it_reads_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "01_title.ipynb", "Title", f"{LOAD_CONFIG}\nprint('title:', cfg.report.title)")
    # paths of the run's products are places, not parameters: no reads needed for them
    paths = f"{LOAD_CONFIG}\nprint(cfg.metrics_path, cfg.exports_dir)"
    write_notebook(notebooks / "02_paths.ipynb", "Paths", paths)
    write_pipeline(notebooks, "01_title", "02_paths", reads={"01_title": ["report.title"]})

    def run(**sections: str) -> str:
        assert runner.run(tiny_params(tmp_path, **sections), notebooks_dir=notebooks) == 0
        return capsys.readouterr().out

    assert "2 of 2 steps run" in run(report="{title: First}")
    steps = tmp_path / "build" / RUN / "steps"
    stamp = json.loads((steps / "01_title" / "stamp.json").read_text())
    assert stamp["parameters_read"] == {"report.title": "value"}
    assert stamp["parameters"]["report.title"] == [True, "First"]
    paths_stamp = json.loads((steps / "02_paths" / "stamp.json").read_text())
    assert paths_stamp["parameters_read"] == {}, "reading cfg.metrics_path is not reading run_name"

    out = run(report="{title: First, currency: EUR}", description="changed", rfm="{frequency: lines}")
    assert "[1/2] 01_title: up to date, reused" in out and "[2/2] 02_paths: up to date, reused" in out
    assert "0 of 2 steps run" in out, "parameters no step reads rerun nothing, but are republished"
    manifest = json.loads((tmp_path / "reports" / RUN / "manifest.json").read_text())
    assert manifest["description"] == "changed" and manifest["parameters"]["report"]["currency"] == "EUR"

    out = run(report="{title: Second}")
    assert "[1/2] 01_title: done in" in out and "[2/2] 02_paths: up to date, reused" in out
    assert "title: Second" in (tmp_path / "reports" / RUN / "01_title.html").read_text()


def test_a_step_reading_an_undeclared_parameter_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    code = f"{LOAD_CONFIG}\nprint(cfg.report.title, cfg.rfm.frequency_unit, cfg.clustering)"
    write_notebook(notebooks / "01_sneaky.ipynb", "Sneaky", code)
    write_pipeline(notebooks, "01_sneaky", reads={"01_sneaky": ["report.title"]})

    assert runner.run(tiny_params(tmp_path), notebooks_dir=notebooks) == 1
    err = capsys.readouterr().err
    declared = notebooks / "pipeline.yaml"
    # the property frequency_unit reads rfm.frequency; printing a section reads all of it
    assert (
        f"step 01_sneaky read parameters that its reads in {declared} do not list: "
        "clustering (all of it), rfm.frequency. Add them there" in err
    )
    assert not (tmp_path / "build" / RUN / "steps" / "01_sneaky" / "stamp.json").exists(), "reruns next time"
    assert not (tmp_path / "reports" / RUN).exists()


def test_a_copy_under_another_run_name_reuses_the_steps_that_do_not_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    export = (
        f"{LOAD_CONFIG}\ncfg.exports_dir.mkdir(parents=True, exist_ok=True)\n"
        "(cfg.exports_dir / 'segments.csv').write_text('customer_id\\n1\\n')\n"
        "print('title:', cfg.report.title)"
    )
    write_notebook(notebooks / "01_export.ipynb", "Export", export)
    write_notebook(notebooks / "02_named.ipynb", "Named", f"{LOAD_CONFIG}\nprint('run:', cfg.run_name)")
    reads = {"01_export": ["report.title"], "02_named": ["run_name"]}
    write_pipeline(notebooks, "01_export", "02_named", writes={"01_export": ["exports_dir"]}, reads=reads)

    def run(run_name: str, **sections: str) -> str:
        assert runner.run(tiny_params(tmp_path, run_name, **sections), notebooks_dir=notebooks) == 0
        return capsys.readouterr().out

    assert "2 of 2 steps run" in run(RUN, report="{title: Same}")
    out = run("tiny_copy", report="{title: Same}", description="a copy")
    assert "[1/2] 01_export: up to date, reused from run tiny" in out
    assert "[2/2] 02_named: done in" in out, "its page shows the run name"
    copied = tmp_path / "data" / "processed" / "tiny_copy" / "exports" / "segments.csv"
    assert copied.read_text() == "customer_id\n1\n"
    assert (tmp_path / "reports" / "tiny_copy" / "exports" / "segments.csv").is_file()
    page = (tmp_path / "reports" / "tiny_copy" / "01_export.html").read_text()
    assert "title: Same" in page and "<strong>tiny_copy</strong>" in page  # the footer names this run
    executed = json.loads(
        (tmp_path / "build" / "tiny_copy" / "steps" / "01_export" / "executed.ipynb").read_text()
    )
    assert executed["metadata"]["papermill"]["parameters"]["params_file"] == str(tmp_path / "tiny_copy.yaml")
    assert f'params_file = "{tmp_path / "tiny_copy.yaml"}"' in "".join(executed["cells"][1]["source"])

    out = run("tiny_copy", report="{title: Same}", description="a copy")
    assert "is up to date" in out, "the adopted step is this run's own from now on"
    out = run("tiny_copy", report="{title: Other}")
    assert "[1/2] 01_export: done in" in out, "no run has this title's result"


def test_bad_params_exit_2_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    params = tmp_path / "bad.yaml"
    params.write_text("run_name: bad\nrfm:\n  n_binz: 5\n")
    assert runner.main(["--params", str(params)]) == 2
    assert "n_binz" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_missing_input_exit_2_before_any_notebook_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    params = tmp_path / "missing.yaml"
    params.write_text(f"run_name: missing\ninput:\n  path: {tmp_path / 'nope.parquet'}\n")
    assert runner.main(["--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert f"Input file not found: {tmp_path / 'nope.parquet'}" in err and "input.path" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missing.yaml"]  # no kernel, no build folder


def handoff_pipeline(tmp_path: Path, after_handoff: str = "") -> Path:
    """01_producer writes the exports, says so (handoff.products_written), then waits until
    02_consumer, which reads them, has started (and runs ``after_handoff``); without the handoff
    02_consumer would start only after 01_producer's end, which never comes (60 s, then it fails)."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    started = tmp_path / "consumer-started"
    wait_for_consumer = (
        "import time\nfrom pathlib import Path\n"
        f"deadline = time.monotonic() + 60\nwhile not Path({str(started)!r}).exists():\n"
        "    assert time.monotonic() < deadline, 'the consumer never started'\n"
        "    time.sleep(0.05)\n"
        f"{after_handoff}"
    )
    handoff_cell = "from rfm_helpers.runs import handoff\nhandoff.products_written()"
    write_notebook(notebooks / "01_producer.ipynb", "Producer", EXPORT_CELL, handoff_cell, wait_for_consumer)
    consumer = (
        f"{LOAD_CONFIG}\nfrom pathlib import Path\nPath({str(started)!r}).touch()\n"
        "print('consumer read', (cfg.exports_dir / 'segments.csv').read_text().count('\\n'), 'lines')"
    )
    write_notebook(notebooks / "02_consumer.ipynb", "Consumer", consumer)
    write_pipeline(
        notebooks,
        "01_producer",
        "02_consumer",
        writes={"01_producer": ["exports_dir"]},
        reads={"01_producer": ["run_name"]},
    )
    return notebooks


def test_a_step_that_hands_off_its_products_lets_the_next_start_before_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    notebooks = handoff_pipeline(tmp_path)
    assert runner.run(tiny_params(tmp_path), notebooks_dir=notebooks) == 0, capsys.readouterr().err
    assert "consumer read 3 lines" in (tmp_path / "reports" / RUN / "02_consumer.html").read_text()
    stamp = json.loads((tmp_path / "build" / RUN / "steps" / "01_producer" / "stamp.json").read_text())
    export = tmp_path / "data" / "processed" / RUN / "exports"
    assert set(stamp["products"]) == {"exports_dir"} and export.is_dir()


def test_a_step_that_writes_its_products_after_handing_them_off_fails_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    rewrite = "(cfg.exports_dir / 'segments.csv').write_text('customer_id,segment\\n')\n"
    notebooks = handoff_pipeline(tmp_path, after_handoff=rewrite)
    assert runner.run(tiny_params(tmp_path), notebooks_dir=notebooks) == 1
    err = capsys.readouterr().err
    assert "step 01_producer changed exports_dir after calling handoff.products_written()" in err
    assert not (tmp_path / "reports" / RUN).exists(), "nothing is published"
