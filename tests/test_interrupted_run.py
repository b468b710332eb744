"""An interrupted run never damages the published report.

A good run publishes ``reports/``; a second run (``python -m rfm_helpers.runs.runner --force``, as
``make report FORCE=1`` starts it) is killed with SIGKILL, with its kernels, as soon as its
first step reports "done". The previous ``reports/<run>`` must be byte-identical, complete and
consistent with its ``manifest.json`` and with ``reports/index.html``; then a rerun succeeds
and replaces it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from bad_input_support import kernels_of, transactions, tree_digest, write_csv, write_params

from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.runs.pipeline import load_pipeline

pytestmark = pytest.mark.slow

RUN = "interrupted"
STEP_DONE = ": done in "
"""What the runner prints when a step has finished (``[1/5] 01_cleaning: done in 6.7 s``)."""
KILL_TIMEOUT_S = 300
ORPHAN_GRACE_S = 15
"""ipykernel polls for its parent about every second; a kernel of a killed run exits by then."""


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "http:", "https:", "mailto:")):
            self.hrefs.append(unquote(href))


def published_files(reports: Path) -> dict[str, str]:
    """Digest of what readers see: everything below ``reports/`` except hidden staging folders."""
    return {name: digest for name, digest in tree_digest(reports).items() if not name.startswith(".")}


def assert_complete_and_consistent(reports: Path, input_file: Path) -> dict:
    """The run folder holds every page and export its manifest lists, with the listed sizes and
    rows; the index links exactly those files and shows the manifest's finish time."""
    folder = reports / RUN
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_name"] == RUN
    assert manifest["input"]["sha256"] == hashlib.sha256(input_file.read_bytes()).hexdigest()
    expected = set()
    for report in manifest["reports"]:
        page = (folder / report["html"]).read_text(encoding="utf-8")
        assert page.rstrip().endswith("</html>"), f"{report['html']} is truncated"
        expected.add(f"{RUN}/{report['html']}")
    for export in manifest["exports"]:
        path = folder / "exports" / export["file"]
        assert path.stat().st_size == export["bytes"]
        assert len(path.read_text(encoding="utf-8").splitlines()) - 1 == export["rows"]
        expected.add(f"{RUN}/exports/{export['file']}")
    steps = load_pipeline(NOTEBOOKS_DIR, "transactions")
    assert len(manifest["reports"]) == len(steps) and manifest["exports"], manifest

    index = (reports / "index.html").read_text(encoding="utf-8")
    parser = _Hrefs()
    parser.feed(index)
    assert all((reports / href).is_file() for href in parser.hrefs), parser.hrefs
    assert {href for href in parser.hrefs if href.startswith(f"{RUN}/")} == expected
    finished = dt.datetime.fromisoformat(manifest["finished"]).astimezone(dt.UTC)
    assert f"Run {finished:%Y-%m-%d %H:%M} UTC" in index
    return manifest


def start_runner(params: Path, root: Path) -> subprocess.Popen[str]:
    """The runner as ``make report`` starts it, in its own process group (so that it and its
    kernels can be killed together)."""
    return subprocess.Popen(
        [sys.executable, "-m", "rfm_helpers.runs.runner", "--params", str(params), "--force"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RFM_OUTPUT_ROOT": str(root), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_after_first_step(process: subprocess.Popen[str]) -> str:
    """Read the runner's output until a step is done, then SIGKILL its whole process group."""
    assert process.stdout is not None
    output = []
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        for line in process.stdout:
            output.append(line)
            if STEP_DONE in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
    text = "".join(output)
    assert STEP_DONE in text, f"the run ended before any step finished:\n{text}"
    return text


def test_killed_run_leaves_the_previous_report_complete(tmp_path: Path) -> None:
    root = tmp_path / "out"
    input_file = write_csv(transactions(), tmp_path / "orders.csv")
    params = write_params(tmp_path, input_file, run_name=RUN)
    reports = root / "reports"

    first = start_runner(params, root)
    first_output, _ = first.communicate(timeout=KILL_TIMEOUT_S)
    assert first.returncode == 0, first_output
    good = assert_complete_and_consistent(reports, input_file)
    before = published_files(reports)

    killed = start_runner(params, root)
    output = kill_after_first_step(killed)
    assert killed.returncode == -signal.SIGKILL, output
    deadline = time.monotonic() + ORPHAN_GRACE_S
    while kernels_of(killed.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    orphans = kernels_of(killed.pid)
    for pid in orphans:  # never leave them running, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not orphans, "the kernels of a killed run must exit on their own"
    assert "Publishing" not in output  # killed mid-way, not after the run
    assert published_files(reports) == before
    assert assert_complete_and_consistent(reports, input_file) == good

    rerun = start_runner(params, root)
    rerun_output, _ = rerun.communicate(timeout=KILL_TIMEOUT_S)
    assert rerun.returncode == 0, rerun_output
    fresh = assert_complete_and_consistent(reports, input_file)
    assert fresh["started"] > good["finished"]
    assert not [p.name for p in reports.iterdir() if p.name.startswith(".")], "stale staging left behind"
