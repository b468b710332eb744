"""The bad-input catalogue, runner part: what goes wrong around the notebooks rather than in
the data. A params file that is not UTF-8 or is empty, a run name too long for a file name, a
``reports/`` folder that cannot be written, an error the runner has no message for, Ctrl-C at
any moment. Each gives one clear line, no traceback, a non-zero exit, the input unchanged and the
last good report byte-identical (the ``failing`` fixture checks the last three).

And the success case of the export rule: customer ids and countries that a spreadsheet would
run as formulas go through a full run and come out neutralised, money rounded to the cent.

Helpers and fixtures (the baseline run, the ``failing`` checker) are in
``tests/bad_input_support.py``. Each case prints its message and how long the runner took to
give it (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from bad_input_support import (
    RUN,
    Baseline,
    Outcome,
    kernels_of,
    run_runner,
    transactions,
    tree_digest,
    write_csv,
    write_params,
)

from rfm_helpers.atomic import FORMULA_TRIGGERS
from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.runs import runner
from rfm_helpers.runs.pipeline import Step, load_pipeline

pytestmark = pytest.mark.slow

STEPS = len(load_pipeline(NOTEBOOKS_DIR, "transactions"))
"""Steps of the transactions pipeline, as the runner's progress lines count them."""
SIGINT_TIMEOUT_S = 300
"""Longest wait for the runner's output before the signal is sent."""
STOPPED_WITHIN_S = 15
"""After Ctrl-C the runner must be gone this soon (it kills the kernels, never waits for a step)."""


def timed(run_case: Callable[..., Outcome], *args: object, **kwargs: object) -> tuple[Outcome, float]:
    started = time.perf_counter()
    outcome = run_case(*args, **kwargs)
    return outcome, time.perf_counter() - started


def record(case: str, message: str, seconds: float) -> None:
    print(f"\n[{case}] {seconds:.1f} s to message: {message.strip()}")


def one_line(text: str) -> str:
    """The single line of ``text`` (stderr of a failed run), after checking it is one."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text, text
    return lines[0]


# --- the params file itself ----------------------------------------------------------------------


def test_params_file_that_is_not_utf8(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    params = write_params(tmp_path, source)
    # Saved by a Windows editor in its legacy code page: é is the single byte 0xe9.
    text = params.read_text(encoding="utf-8") + "description: Ventes café 2011\n"
    params.write_bytes(text.encode("cp1252"))
    data = params.read_bytes()
    offset, line = data.index(b"\xe9"), len(text.splitlines())
    assert data[:offset].count(b"\n") + 1 == line  # the é is on the last line

    outcome, seconds = timed(failing, source, params=params)
    assert outcome.exit_code == 2
    assert one_line(outcome.err) == (
        f"Params file {params} is not UTF-8 text: byte 0xe9 at byte offset {offset} (line {line}) "
        "cannot be read. Open it in your editor and save it as UTF-8."
    )
    record("params not UTF-8", outcome.err, seconds)


def test_empty_params_file_is_an_error_not_the_defaults(
    failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path
) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    params = tmp_path / "my_shop.yaml"
    params.write_text("# my shop: to fill in\n", encoding="utf-8")
    outcome, seconds = timed(failing, source, params=params)
    assert outcome.exit_code == 2
    assert one_line(outcome.err) == (
        f"Params file {params} is empty: copy params/default.yaml, set run_name and input.path in the "
        "copy and pass that file (or pass PARAMS=params/default.yaml to run the defaults)"
    )
    # the defaults would have run the shipped data into reports/online_retail
    assert not (baseline.root / "reports" / "online_retail").exists()
    assert not (baseline.root / "build" / "online_retail").exists()
    record("empty params", outcome.err, seconds)


def test_run_name_too_long_for_a_file_name(
    failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path
) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    name = "q4_winback_campaign_" * 12
    assert len(name) == 240
    params = tmp_path / "long_name.yaml"
    params.write_text(yaml.safe_dump({"run_name": name, "input": {"path": str(source)}}), encoding="utf-8")
    outcome, seconds = timed(failing, source, params=params)
    assert outcome.exit_code == 2
    assert "Traceback" not in outcome.message
    assert outcome.err.strip().splitlines() == [
        f"Invalid parameters in {params}:",
        "  - run_name: Value error, run_name is too long (240 characters): use at most 100 (accented and "
        "non-Latin letters count 2-4 each). It names folders such as reports/<run_name>/, and a file name "
        f"may not exceed 255 bytes (got {repr(name)[:60]}…, 240 characters)",
    ]
    # found before anything was written: no folder of that name anywhere
    written = [p for p in baseline.root.rglob("*") if name[:100] in p.name]
    assert written == []
    record("240-character run_name", outcome.err, seconds)


# --- a reports/ folder that cannot be written ------------------------------------------------------


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """Make ``folder`` refuse new entries for this process; yield the error text a write gets.

    A normal user: chmod. Root ignores permission bits, so then the folder is made immutable
    (``chattr +i``, which root obeys); where that is impossible the test is skipped, saying why.
    """
    restore: Callable[[], object]
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        restore = lambda: folder.chmod(mode)  # noqa: E731
    else:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip(
                "running as root without chattr (e2fsprogs): no way to make a folder read-only for root"
            )
        done = subprocess.run([chattr, "+i", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"running as root and `chattr +i` is refused here ({done.stderr.strip()})")
        restore = lambda: subprocess.run([chattr, "-i", str(folder)], check=True)  # noqa: E731
    try:
        refused = _write_error(folder)
        if refused is None:
            pytest.skip(f"{folder} still accepts new files after chmod/chattr on this file system")
        yield refused
    finally:
        restore()


def _write_error(folder: Path) -> str | None:
    """The error text of creating a file in ``folder``, or None if that works."""
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    probe.unlink()
    return None


def test_reports_folder_that_cannot_be_written_is_found_before_any_step(
    failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path
) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    reports = baseline.root / "reports"
    with read_only(reports) as refused:
        outcome, seconds = timed(failing, source)
    assert outcome.exit_code == 2
    assert one_line(outcome.err) == (
        f"Cannot write to {reports}/ ({refused}): check its permissions, or set RFM_OUTPUT_ROOT to a "
        f"folder you can write to. Nothing was run; {baseline.published} is unchanged."
    )
    assert "running" not in outcome.out  # no step started, no kernel
    record("read-only reports/", outcome.err, seconds)


def test_output_folder_that_is_a_file(
    failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path
) -> None:
    """build/<run> is a file (a stray download, a bad copy): found before any step, on any
    file system and for any user."""
    source = write_csv(transactions(), tmp_path / "orders.csv")
    build = baseline.root / "build" / RUN
    kept = build.rename(tmp_path / "build_kept")
    try:
        build.write_text("not a folder")
        outcome, seconds = timed(failing, source)
    finally:
        build.unlink()
        kept.rename(build)
    assert outcome.exit_code == 2
    assert one_line(outcome.err) == (
        f"Cannot write to {build}/ ({build} is a file, not a folder): check its permissions, or set "
        f"RFM_OUTPUT_ROOT to a folder you can write to. Nothing was run; {baseline.published} is unchanged."
    )
    record("build/<run> is a file", outcome.err, seconds)


def test_reports_folder_read_only_at_publishing_keeps_the_last_report(
    failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reports/ becomes read-only while the steps run (another user, a remount): publishing fails
    with the same advice, and the previous report is still there, complete."""
    source = write_csv(transactions(), tmp_path / "orders.csv")
    reports = baseline.root / "reports"
    publish = runner._publish
    refused: list[str] = []

    def publish_into_read_only_reports(*args: object, **kwargs: object) -> Path:
        with read_only(reports) as error:
            refused.append(error)
            return publish(*args, **kwargs)

    monkeypatch.setattr(runner, "_publish", publish_into_read_only_reports)
    outcome, seconds = timed(failing, source)
    assert outcome.exit_code == 1
    assert one_line(outcome.err) == (
        f"Publishing failed. Cannot write to {reports}/ ({refused[0]}): check its permissions, or set "
        f"RFM_OUTPUT_ROOT to a folder you can write to. {baseline.published} is unchanged."
    )
    assert f"[5/{STEPS}] 05_insights: done in" in outcome.out and outcome.out.rstrip().endswith("FAILED")
    assert not [p.name for p in reports.iterdir() if p.name.startswith(".staging-")]
    record("reports/ read-only at publishing", outcome.err, seconds)


# --- an error the runner has no message for ----------------------------------------------------------


def test_unexpected_error_is_one_line_with_the_traceback_saved(
    failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the runner itself, while a notebook runs: after 01_cleaning, 03_rfm_scoring is
    handed to the kernel, then fingerprinting 02_eda fails. The kernel is killed, not waited for."""
    fingerprint = runner._Run.fingerprint

    def broken_fingerprint(self: runner._Run, step: Step) -> str:
        if step.name == "02_eda":
            raise RuntimeError("injected: cannot fingerprint 02_eda\n(second line of the message)")
        return fingerprint(self, step)

    monkeypatch.setattr(runner._Run, "fingerprint", broken_fingerprint)
    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome, seconds = timed(failing, source)
    log = baseline.root / "build" / RUN / "error.log"
    assert outcome.exit_code == 1
    assert one_line(outcome.err) == (
        "Unexpected error (RuntimeError: injected: cannot fingerprint 02_eda …); "
        f"{baseline.published} is unchanged. Please report it: the traceback is in {log}."
    )
    assert (
        f"[3/{STEPS}] 03_rfm_scoring: running…" in outcome.out and "03_rfm_scoring: done" not in outcome.out
    )
    saved = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in saved and "in broken_fingerprint" in saved
    assert "(second line of the message)" in saved
    # the kernels were killed, not left to finish their notebooks
    assert kernels_of(os.getpid()) == []
    record("unexpected error in the runner", outcome.err, seconds)


# --- Ctrl-C ---------------------------------------------------------------------------------------------


def start_runner(params: Path, root: Path) -> subprocess.Popen[str]:
    """``make report FORCE=1`` as a terminal starts it: its own process group, which Ctrl-C
    signals as a whole."""
    return subprocess.Popen(
        [sys.executable, "-m", "rfm_helpers.runs.runner", "--params", str(params), "--force"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RFM_OUTPUT_ROOT": str(root), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    assert process.stdout is not None
    output, deadline = [], time.monotonic() + SIGINT_TIMEOUT_S
    for line in process.stdout:
        output.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    text = "".join(output)
    assert marker in text, f"the runner never printed {marker!r}:\n{text}"
    return text


def wait_for_library(process: subprocess.Popen[str], library: str) -> None:
    """Until the process has loaded ``library``: the runner is then importing its modules."""
    maps, deadline = Path(f"/proc/{process.pid}/maps"), time.monotonic() + SIGINT_TIMEOUT_S
    while library not in maps.read_text() and time.monotonic() < deadline:
        assert process.poll() is None, "the runner ended before loading its modules"
        time.sleep(0.01)


LOADING = "_pydantic_core"
"""pydantic's compiled core: loaded while the runner imports rfm_helpers.config, before main()."""
MOMENTS = {
    "while Python loads the runner": (LOADING, 0.0),
    "while the first kernel starts": ("running…", 0.0),
    "while a notebook runs": (": done in ", 1.0),
}
"""When Ctrl-C comes: after which line of output (or library loaded), and how long after it."""


@pytest.mark.parametrize("moment", MOMENTS)
def test_ctrl_c(moment: str, baseline: Baseline, tmp_path: Path) -> None:
    assert baseline.outcome.exit_code == 0, baseline.outcome.message
    source = write_csv(transactions(), tmp_path / "orders.csv")
    params = write_params(tmp_path, source)
    before, input_digest = tree_digest(baseline.published), tree_digest(tmp_path)
    marker, delay = MOMENTS[moment]

    process = start_runner(params, baseline.root)
    try:
        output = ""
        if marker == LOADING:
            wait_for_library(process, LOADING)
        else:
            output = read_until(process, marker)
        time.sleep(delay)
        sent = time.perf_counter()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        rest, err = process.communicate(timeout=STOPPED_WITHIN_S)
        seconds = time.perf_counter() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode == 130, output + rest + err
    line = one_line(err)
    unchanged = f"Interrupted: {baseline.published} is unchanged."
    if marker == LOADING:  # the imports may be done by then on a fast machine
        assert line in {"Interrupted while starting: nothing was run or published.", unchanged}
    else:
        assert line == unchanged
    assert "Publishing" not in output + rest
    assert kernels_of(process.pid) == [], "the kernels must be stopped, not left running"
    assert tree_digest(baseline.published) == before, "the previous report must stay as it was"
    assert tree_digest(tmp_path) == input_digest
    assert not [p.name for p in (baseline.root / "reports").iterdir() if p.name.startswith(".staging-")]
    record(f"Ctrl-C {moment}", err, seconds)


# --- export cells a spreadsheet would run -------------------------------------------------------------------


def test_formula_like_ids_and_countries_are_neutralised_in_every_export(
    baseline: Baseline, tmp_path: Path
) -> None:
    ids = {0: '=HYPERLINK("http://x","y")', 1: "@SUM(A1)", 2: "-7", 3: "+44"}
    frame = transactions().assign(Quantity=1)
    customer = frame["CustomerID"].map(lambda text: int(text) - 12000)
    frame["CustomerID"] = [ids.get(c, str(12000 + c)) for c in customer]
    frame["Country"] = frame["Country"].replace({"France": "@France", "Germany": "=Germany"})
    frame["UnitPrice"] = [0.1, 0.2] * (len(frame) // 2)  # two lines per order: 0.1 + 0.2 per order
    source = write_csv(frame, tmp_path / "orders.csv")

    started = time.perf_counter()
    outcome = run_runner(baseline.root, write_params(tmp_path, source, run_name="formulas"))
    seconds = time.perf_counter() - started
    assert outcome.exit_code == 0, outcome.message
    exports = baseline.root / "reports" / "formulas" / "exports"

    with (exports / "customer_segments.csv").open(newline="", encoding="utf-8") as fh:
        rows = {row["customer_id"]: row for row in csv.DictReader(fh)}
    expected_ids = {"'" + ids[c] if c in ids else str(12000 + c) for c in range(12)}
    assert set(rows) == expected_ids
    assert '\'=HYPERLINK("http://x","y")' in rows and "'@SUM(A1)" in rows and "'-7" in rows
    # countries: c % 3 == 1 is France, == 2 Germany
    for c in range(12):
        row = rows["'" + ids[c] if c in ids else str(12000 + c)]
        assert row["country"] == ("United Kingdom", "'@France", "'=Germany")[c % 3]
        # customer c has 1 + c % 4 orders of 0.1 + 0.2: 0.3, 0.6, 0.9 or 1.2, to the cent
        assert row["monetary"] == ("0.3", "0.6", "0.9", "1.2")[c % 4], row
    # and no cell of any export starts a formula (numbers such as -1.5 are numbers, not formulas)
    group_files = sorted(exports.glob("group_*.csv"))
    assert group_files
    for path in [exports / "customer_segments.csv", *group_files]:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell.startswith(FORMULA_TRIGGERS):
                        float(cell)  # raises for text
    record("formula-like ids and countries (success)", f"exit 0; {len(rows)} customers exported", seconds)
