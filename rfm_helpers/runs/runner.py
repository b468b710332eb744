"""Run the notebooks of one params file, step by step, and publish their HTML reports.

Usage::

    python -m rfm_helpers.runs.runner --params params/default.yaml [--force] [--jobs N]

The steps and their dependencies are listed in ``notebooks/pipeline.yaml``. Each step is a
notebook executed by papermill with the single parameter ``params_file``, in a warm kernel
that is reused from step to step (:mod:`rfm_helpers.runs.kernels`); steps whose dependencies are
met run side by side when ``--jobs`` > 1. A step reruns exactly when something it depends on
changed (:mod:`rfm_helpers.runs.pipeline`), among the parameters only those it reads; otherwise
its last result is reused and the runner says so. A step that has no result of its own but
whose fingerprint another run of the same output root has (a copy of a params file with another
``run_name``) copies that run's products and executed notebook, and renders its page for this
run. ``--force`` reruns every step.

Each step's executed notebook, HTML page and stamp live in ``build/<run_name>/steps/<step>/``;
the notebook sources are never modified. Publishing is all-or-nothing: pages, CSV exports and
``manifest.json`` are assembled in a hidden staging folder under ``reports/`` and swapped in
with renames, so ``reports/<run_name>`` is always a complete report (the previous one when a
run fails or is interrupted).

Exit codes: 0 success (or up to date); 1 a notebook or the publishing failed, or an unexpected
error (one line on the terminal, the traceback in ``build/<run_name>/error.log``); 2 bad params,
a missing or unreadable input, an unreachable database or an output folder that cannot be
written (found before any kernel starts); 130
interrupted (Ctrl-C): the kernels are stopped and ``reports/<run_name>`` is left as it was.
No traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# interrupts before the others: from here on Ctrl-C while the slower modules load exits quietly
from rfm_helpers.runs import interrupts

# isort: split
from rfm_helpers import provenance
from rfm_helpers.config import ConfigError, RunConfig, load_config
from rfm_helpers.paths import NOTEBOOKS_DIR, build_dir, display_path, reports_dir, resolve
from rfm_helpers.report.reporting import (
    EXPORTS_DIRNAME,
    build_manifest,
    export_info,
    read_manifest,
    write_index,
    write_manifest,
)
from rfm_helpers.runs import handoff, pipeline
from rfm_helpers.runs.pipeline import PipelineError, Step

if TYPE_CHECKING:  # imported only when a step must run: papermill and kernels cost ~1.5 s
    from rfm_helpers.runs.kernels import KernelWorker

STAGING_PREFIX = ".staging-"
"""Hidden folders under ``reports/`` being assembled or retired; ``.`` never occurs in a run
name, so ``.staging-<run_name>.*`` matches exactly one run's leftovers."""
REPORT_DIR = Path(__file__).resolve().parents[1] / "report"
EXPORT_CODE = [REPORT_DIR / "htmlexport.py", *sorted((REPORT_DIR / "templates").rglob("*.*"))]
"""What a step's HTML page depends on besides its executed notebook."""
SLOW_INPUT_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
EXECUTED_NAME = "executed.ipynb"
PAGE_NAME = "page.html"
ERROR_LOG = "error.log"
"""Where an unexpected error's traceback goes: ``build/<run_name>/error.log``."""
READ_KEY = "parameters_read"
"""Stamp entry: the parameters the step's notebook read in its last run (key → how, see
:data:`rfm_helpers.runs.pipeline.READ_KINDS`)."""
PATHS_KEY = "product_paths"
"""Stamp entry: where the step wrote its products, so that another run can copy them."""


class InputRefused(Exception):
    """The input or the database engine cannot be used (exit 2, the message says why)."""


@dataclass(frozen=True)
class StepResult:
    """A step's page, freshly executed or reused."""

    name: str
    step_dir: Path
    title: str
    duration_s: float
    reused: bool
    source: str | None = None
    """The run whose result was copied (a run with the same step fingerprint), if any."""


@dataclass
class _Progress:
    """How far a run got: what the message says when it is interrupted or fails unexpectedly."""

    run_name: str | None = None
    published: bool = False
    """The new report was swapped in (from then on ``reports/<run_name>`` is the new one)."""

    def report_state(self) -> str:
        if self.run_name is None:
            return "nothing was run or published"
        folder = reports_dir() / self.run_name
        if self.published:
            return f"{display_path(folder)} was published and is complete"
        if not folder.exists():
            return f"nothing was published to {display_path(folder)}"
        return f"{display_path(folder)} is unchanged"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _first_unwritable(folders: Sequence[Path]) -> tuple[Path, OSError] | None:
    """The first of ``folders`` in which no file can be created, with the error; the folders
    are created (the run would create them anyway) and a probe file is written and removed.

    Asking the file system, not the permission bits: root ignores those, and a read-only mount
    or an immutable folder refuses writes whatever they say."""
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
                pass
        except OSError as exc:
            return folder, exc
    return None


def _cannot_write(folder: Path, exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    if exc.filename and not Path(exc.filename).is_relative_to(folder):
        reason += f": {exc.filename}"  # not the names of our probe or staging folder
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        reason = f"{display_path(blocking)} is a file, not a folder"
    return (
        f"Cannot write to {display_path(folder)}/ ({reason}): check its permissions, or set "
        "RFM_OUTPUT_ROOT to a folder you can write to."
    )


def _save_traceback(exc: BaseException, run_name: str | None) -> Path | None:
    """Write ``exc``'s traceback to ``build/<run_name>/error.log`` (``build/error.log`` before
    the params are read; a temporary file if build/ cannot be written); its path, or None."""
    text = f"{_now()} {' '.join([sys.executable, *sys.argv])}\n\n" + "".join(traceback.format_exception(exc))
    candidates = [build_dir() / (run_name or "") / ERROR_LOG]
    candidates.append(Path(tempfile.gettempdir()) / f"rfm-{run_name or 'runner'}-{os.getpid()}-{ERROR_LOG}")
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _unexpected(exc: Exception, progress: _Progress) -> str:
    """One line for an error the runner has no specific message for (a bug, or a broken setup)."""
    lines = str(exc).strip().splitlines()
    detail = (
        f"{type(exc).__name__}: {lines[0]}{' …' if len(lines) > 1 else ''}" if lines else type(exc).__name__
    )
    log = _save_traceback(exc, progress.run_name)
    where = f"the traceback is in {display_path(log)}" if log else "the traceback could not be saved"
    return f"Unexpected error ({detail}); {progress.report_state()}. Please report it: {where}."


def _remove_stale_staging(reports_root: Path, run_name: str) -> None:
    """Delete this run's staging folders left by an interrupted run (other runs' folders may
    belong to a run in progress, so they are left alone)."""
    for leftover in reports_root.glob(f"{STAGING_PREFIX}{run_name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _is_published(published: Path, fingerprint: str) -> bool:
    """The published report was produced from the same step results and is complete."""
    manifest = read_manifest(published)
    if manifest is None or manifest.get("fingerprint") != fingerprint:
        return False
    files = [r["html"] for r in manifest.get("reports", [])]
    files += [f"{EXPORTS_DIRNAME}/{e['file']}" for e in manifest.get("exports", [])]
    return all((published / name).is_file() for name in files)


def _describe_failure(exc: BaseException) -> str:
    """Cell and exception of a failed step, in the terms the rendered notebook shows."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        return f"cell In [{exc.exec_count}] (starts: {first_line.strip()!r}): {exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {exc}"


def _report_failure(step: Step, executed_path: Path, run_name: str, exc: BaseException) -> None:
    """Print what failed and render the partially executed notebook with its code."""
    from rfm_helpers.report.htmlexport import export_html

    print(f"\nNotebook {step.notebook.name} failed at {_describe_failure(exc)}", file=sys.stderr)
    if executed_path.is_file():
        failed_html = build_dir() / run_name / "failed" / f"{step.name}.html"
        try:
            export_html(executed_path, failed_html, show_code=True, run_name=run_name, index_href=None)
            print(f"  Notebook with the failing cell and traceback: {failed_html}", file=sys.stderr)
        except Exception as render_exc:  # the failure itself matters more than its page
            print(f"  (could not render {executed_path}: {render_exc})", file=sys.stderr)
    print(
        f"  Steps after it were not run; {reports_dir() / run_name} is unchanged.",
        file=sys.stderr,
    )


def _copy_exports(sources: list[Path], target: Path) -> list[dict[str, Any]]:
    """Copy the run's export files (not temporary dot-files) and describe them."""
    files = sorted(
        (p for source in sources if source.is_dir() for p in source.iterdir()),
        key=lambda p: p.name,
    )
    files = [p for p in files if p.is_file() and not p.name.startswith(".")]
    if not files:
        return []
    target.mkdir()
    for path in files:
        shutil.copyfile(path, target / path.name)  # fresh permissions, not the source's
    return [export_info(target / path.name) for path in files]


def _swap_in(staging: Path, published: Path) -> None:
    """Replace ``published`` by ``staging`` with two renames; restore the old one on error."""
    retired = None
    if published.exists():
        retired = published.with_name(f"{STAGING_PREFIX}{published.name}.old-{secrets.token_hex(4)}")
        os.rename(published, retired)
    try:
        os.rename(staging, published)
    except OSError:
        if retired is not None:
            os.rename(retired, published)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _publish(
    cfg: RunConfig,
    params_path: Path,
    results: Sequence[StepResult],
    *,
    started: str,
    input_info: dict[str, str],
    fingerprint: str,
    progress: _Progress,
) -> Path:
    """Assemble pages, exports and manifest in a staging folder, then swap it in and rewrite
    the index; return the index's path. Ctrl-C during the swap and the index waits for them."""
    reports_root = reports_dir()
    reports_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{cfg.run_name}.", dir=reports_root))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would make the published folder private
        reports = []
        for result in results:
            html_name = f"{result.name}.html"
            shutil.copyfile(result.step_dir / PAGE_NAME, staging / html_name)
            reports.append(
                {
                    "notebook": result.name,
                    "title": result.title,
                    "html": html_name,
                    "duration_s": result.duration_s,
                    "reused": result.reused,
                }
            )
        manifest = build_manifest(
            cfg=cfg,
            params_file=params_path,
            started=started,
            finished=_now(),
            input_info=input_info,
            reports=reports,
            exports=_copy_exports(cfg.export_dirs, staging / EXPORTS_DIRNAME),
            fingerprint=fingerprint,
        )
        write_manifest(staging, manifest)
        with interrupts.deferred():
            _swap_in(staging, reports_root / cfg.run_name)
            progress.published = True
            return write_index(reports_root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class _Run:
    """State of one run: which steps are done, their fingerprints, the kernels in use."""

    def __init__(self, cfg: RunConfig, params_path: Path, steps: list[Step], notebooks_dir: Path, jobs: int):
        self.cfg, self.params_path, self.steps = cfg, params_path, steps
        self.notebooks_dir, self.jobs = notebooks_dir, jobs
        self.steps_root = build_dir() / cfg.run_name / "steps"
        self.input_info, self.inputs = _source_inputs(cfg)
        self.parameters = cfg.model_dump(mode="json")
        """Every parameter; each step's fingerprint keeps those it reads (its ``reads``)."""
        self.environment = provenance.environment_fingerprint()
        self.export_key = provenance.combined_hash(provenance.sha256_file(p) for p in EXPORT_CODE)
        self.products: dict[str, dict[str, str]] = {}
        self.fingerprints: dict[str, str] = {}
        self.results: dict[str, StepResult] = {}
        self.workers: list[KernelWorker] = []
        self.read_logs: dict[int, Path] = {}
        """Per kernel (by ``id`` of its worker): the file it records the parameters read into."""
        self.parsing: subprocess.Popen | None = None
        self.input_checked = False

    def step_dir(self, step: Step) -> Path:
        return self.steps_root / step.name

    def fingerprint(self, step: Step) -> str:
        return pipeline.step_fingerprint(
            step,
            parameters=self.parameters,
            inputs=self.inputs,
            upstream=self.products,
            environment=self.environment,
        )

    def reuse(self, step: Step, force: bool) -> StepResult | None:
        """The step's last result, when it is current (and its page is, or can be, rendered)."""
        fingerprint = self.fingerprints[step.name] = self.fingerprint(step)
        if force:
            return None
        stamp = pipeline.read_stamp(self.step_dir(step))
        products = pipeline.product_hashes(self.cfg, step)
        if not pipeline.is_current(stamp, fingerprint, products):
            return self.adopt(step, fingerprint)
        assert stamp is not None
        if stamp.get("export_key") != self.export_key or not (self.step_dir(step) / PAGE_NAME).is_file():
            self.render(step, stamp["duration_s"], stamp.get(READ_KEY))  # only the page template changed
        self.products[step.name] = products
        return StepResult(step.name, self.step_dir(step), stamp["title"], stamp["duration_s"], reused=True)

    def adopt(self, step: Step, fingerprint: str) -> StepResult | None:
        """The step's result from another run with the same fingerprint (e.g. a copy of the
        params file with another ``run_name``, ``description`` or anything else the step does not
        read), if one still has it intact: its products are copied into this run's folders and its
        executed notebook into this step's folder, and the page is rendered for this run."""
        own = self.step_dir(step)
        for stamp_path in sorted(build_dir().glob(f"*/steps/{step.name}/{pipeline.STAMP_NAME}")):
            donor = stamp_path.parent
            stamp = pipeline.read_stamp(donor)
            if donor == own or not stamp or stamp.get("fingerprint") != fingerprint:
                continue
            sources = {attr: Path(path) for attr, path in (stamp.get(PATHS_KEY) or {}).items()}
            expected = stamp.get("products")
            if set(sources) != set(step.writes) or not (donor / EXECUTED_NAME).is_file():
                continue
            if {attr: provenance.content_hash(path) for attr, path in sources.items()} != expected:
                continue  # changed since that run
            targets = pipeline.product_paths(self.cfg, step)
            for attr, source in sources.items():
                _copy_product(source, targets[attr])
            if pipeline.product_hashes(self.cfg, step) != expected:
                continue  # the other run changed them while they were copied
            shutil.rmtree(own, ignore_errors=True)
            own.mkdir(parents=True)
            _copy_executed(donor / EXECUTED_NAME, own / EXECUTED_NAME, self.params_path)
            result = self.render(step, stamp["duration_s"], stamp.get(READ_KEY))
            return dataclasses.replace(result, reused=True, source=donor.parent.parent.name)
        return None

    def products_of(self, step: Step, reads: dict[str, str] | None) -> dict[str, str]:
        """The hashes of the products ``step`` just wrote, after checking that it wrote every
        one and read only parameters its ``reads`` in pipeline.yaml list (``reads``: those its
        notebook read, :func:`pipeline.read_parameter_log`). The steps that need it may start."""
        undeclared = pipeline.undeclared_reads(step.reads, reads or {})
        if undeclared:
            raise PipelineError(
                f"step {step.name} read parameters that its reads in "
                f"{self.notebooks_dir / pipeline.PIPELINE_FILE} do not list: {', '.join(undeclared)}. "
                "Add them there, or the step would not rerun when they change (it was not "
                "recorded as done, so the next run runs it again)"
            )
        products = pipeline.product_hashes(self.cfg, step)
        missing = [attr for attr, digest in products.items() if digest == "missing"]
        if missing:
            raise PipelineError(
                f"step {step.name} did not write {', '.join(missing)} "
                f"(declared in {self.notebooks_dir / pipeline.PIPELINE_FILE})"
            )
        return products

    def render(self, step: Step, duration_s: float, reads: dict[str, str] | None = None) -> StepResult:
        """Export the step's executed notebook to HTML and record the step as done (its stamp),
        with the parameters its notebook ``reads`` (see :meth:`products_of`)."""
        from rfm_helpers.report.htmlexport import export_html

        products = self.products.get(step.name) or self.products_of(step, reads)
        folder = self.step_dir(step)
        kind = "transactions" if self.cfg.accounts is None else "accounts"
        title = export_html(
            folder / EXECUTED_NAME, folder / PAGE_NAME, run_name=self.cfg.run_name, pipeline=kind
        )
        pipeline.write_stamp(
            folder,
            {
                "fingerprint": self.fingerprints[step.name],
                "products": products,
                PATHS_KEY: {attr: str(path) for attr, path in pipeline.product_paths(self.cfg, step).items()},
                "parameters": pipeline.step_parameters(step, self.parameters),
                READ_KEY: reads,
                "export_key": self.export_key,
                "title": title,
                "duration_s": duration_s,
                "finished": _now(),
            },
        )
        self.products[step.name] = products
        return StepResult(step.name, folder, title, duration_s, reused=False)

    def add_worker(self) -> KernelWorker:
        """Start one more kernel, importing the steps' helper modules in it right away. With
        the first one, start parsing a slow input and import papermill meanwhile."""
        from rfm_helpers.runs.kernels import KernelWorker, warm_up

        modules = sorted(
            {pipeline.module_name(p) for step in self.steps for p in pipeline.helper_modules(step.notebook)}
            - {"rfm_helpers"}
        )
        log = self.steps_root / f".parameters-read-{len(self.workers) + 1}.log"
        log.unlink(missing_ok=True)
        # First, so that nothing before it can keep the kernel from recording.
        record = (
            f"import rfm_helpers.runs.pipeline as p\np.record_parameter_reads({str(log)!r})\n"
            f"import rfm_helpers.runs.handoff as h\nh.report_to({str(log)!r})"
        )
        prelude = "\n".join([record, *(f"import {name}" for name in modules)])
        worker = KernelWorker(self.notebooks_dir, prelude)
        self.workers.append(worker)
        self.read_logs[id(worker)] = log
        if len(self.workers) == 1:
            self.parsing = self._parse_input_in_background()
            warm_up()
        return worker

    def _parse_input_in_background(self) -> subprocess.Popen | None:
        """Start parsing a csv/xlsx input into the cache (python-calamine: ~11 s for the 540k-row
        workbook) beside the kernels' start, unless it is cached already."""
        source = self.cfg.input
        if source is None or resolve(source.path).suffix.lower() not in SLOW_INPUT_SUFFIXES:
            return None
        if any(self.cfg.cache_dir.glob(f"{self.input_info['sha256']}-*.parquet")):
            return None
        command = [sys.executable, "-m", "rfm_helpers.data.loading", str(self.params_path)]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def read_offset(self, worker: KernelWorker) -> int:
        """Where the parameters read by the next notebook on ``worker`` will start in its log."""
        log = self.read_logs[id(worker)]
        return log.stat().st_size if log.is_file() else 0

    def products_handed_off(self, step: Step, worker: KernelWorker, offset: int) -> bool:
        """Whether ``step``'s notebook, still running on ``worker``, said its products are
        written (:func:`rfm_helpers.runs.handoff.products_written`)."""
        log = self.read_logs[id(worker)]
        return bool(step.writes) and log.is_file() and handoff.marked(log, offset)

    def parameters_read(self, step: Step, worker: KernelWorker, offset: int) -> dict[str, str]:
        """The parameters ``step``'s notebook read, as recorded in ``worker``'s kernel."""
        log = self.read_logs[id(worker)]
        if not log.is_file():
            setup = worker.ready.exception() if worker.ready.done() else None
            raise PipelineError(
                f"step {step.name}: the kernel did not record which parameters the notebook read "
                f"({log} is missing{f'; its setup failed: {setup}' if setup else ''})"
            )
        return pipeline.read_parameter_log(log, offset)

    def check_input(self) -> None:
        """Say what the input's header or schema reveals, and whether the database engine can be
        reached, before a step reads the input: in a second, not after a kernel has started.
        Raises :class:`InputRefused`.

        Only a step that reads the input calls this, and only when it must run: a rerun that
        reuses it has the input and parameters of the run that passed these checks (reading a
        parquet schema would cost a no-op rerun a third of its time)."""
        if self.input_checked or self.cfg.input is None:
            return
        self.input_checked = True
        # inputcheck imports no pandas: the message comes before the heavy imports too.
        from rfm_helpers.data.inputcheck import InputError, precheck_input

        try:
            precheck_input(self.cfg.input, display_path(self.params_path))
        except InputError as exc:
            raise InputRefused(str(exc)) from None
        if self.cfg.engine.engine != "duckdb":
            from rfm_helpers.sql.engines import EngineError, check_engine

            try:
                check_engine(self.cfg.engine)
            except EngineError as exc:
                raise InputRefused(str(exc)) from None

    def wait_for_input(self) -> None:
        """Let the background parse finish before a step reads the input (never parse twice)."""
        if self.parsing is not None:
            self.parsing.wait()
            self.parsing = None

    def stop_kernels(self, at_once: bool = False) -> None:
        """Stop the background parse and the kernels; ``at_once`` (Ctrl-C, an unexpected error)
        kills them without waiting for a running notebook. A second Ctrl-C waits for this."""
        with interrupts.deferred():
            self._stop_kernels(at_once)

    def _stop_kernels(self, at_once: bool) -> None:
        if self.parsing is not None:
            self.parsing.kill()
            self.parsing.wait()
            self.parsing = None
        if at_once:
            for worker in self.workers:
                worker.interrupt()
        for worker in self.workers:
            try:
                worker.shutdown()
            except Exception as exc:  # a kernel that died already; nothing left to stop
                print(f"warning: stopping a kernel: {exc}", file=sys.stderr)
            log = self.read_logs.pop(id(worker), None)
            if log is not None:
                log.unlink(missing_ok=True)
        self.workers = []


def _source_inputs(cfg: RunConfig) -> tuple[dict[str, str], dict[str, str]]:
    """The run's manifest entry for its data (``path``, ``sha256``) and the content hashes of
    every file the config says the run reads (:meth:`RunConfig.read_files`).

    An account run's data source is prepared first (:func:`rfm_helpers.data.accounts.prepare_source`:
    the generated DuckDB file is built when missing or stale). A live PostgreSQL database can
    change at any moment and cannot be hashed, so its extraction step reruns every time (its
    fingerprint includes the time)."""
    info: dict[str, str] = {}
    if cfg.accounts is not None:
        from rfm_helpers.data.accounts import prepare_source

        info = prepare_source(cfg.accounts)
    hashes = {name: provenance.files_hash(files) for name, files in cfg.read_files().items()}
    if cfg.accounts is None:
        return {"path": display_path(cfg.input_path), "sha256": hashes["input"]}, hashes
    if "database" not in hashes:
        hashes["database"] = f"live database, read at {_now()}"
    return {**info, "sha256": hashes["database"]}, hashes


def _copy_product(source: Path, target: Path) -> None:
    """Replace ``target`` by a copy of the product ``source`` (a file, or a folder's visible files)."""
    staged = target.with_name(f".{target.name}.copy-{secrets.token_hex(4)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, staged, ignore=shutil.ignore_patterns(".*"))
        shutil.rmtree(target, ignore_errors=True)
    else:
        shutil.copyfile(source, staged)
    os.replace(staged, target)


def _copy_executed(source: Path, target: Path, params_path: Path) -> None:
    """Copy an executed notebook of another run, saying it ran with ``params_path`` (papermill's
    injected cell and metadata), as it would have."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    recorded = nb.metadata.get("papermill", {}).get("parameters", {})
    if "params_file" in recorded:
        recorded["params_file"] = str(params_path)
    assignment = f"params_file = {json.dumps(str(params_path))}"
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            lines = cell.source.splitlines()
            cell.source = "\n".join(assignment if ln.startswith("params_file = ") else ln for ln in lines)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def _print_step(index: int, total: int, name: str, message: str) -> None:
    print(f"[{index}/{total}] {name}: {message}", flush=True)


HANDOFF_POLL_S = 0.1
"""How often the runner looks whether a running step said its products are written."""


def _execute_steps(run_state: _Run, force: bool) -> bool:
    """Run (or reuse) every step, in dependency order, independent steps side by side.

    Returns False when a step failed (already reported)."""
    steps, total = run_state.steps, len(run_state.steps)
    position = {step.name: index for index, step in enumerate(steps, start=1)}
    pending = list(steps)
    descendants = pipeline.descendants(steps)
    running: dict[Future[None], tuple[Step, Any, float, int]] = {}
    idle: list[Any] = []
    unrendered: list[tuple[Step, float, dict[str, str]]] = []
    """Steps done whose page is exported after the steps that need them have started."""
    handed_off: set[str] = set()
    """Running steps whose products are written (handoff.products_written); their hashes then
    are in ``run_state.products``, compared with those at the step's end."""

    def failed(step: Step, exc: Exception) -> bool:
        _print_step(position[step.name], total, step.name, "FAILED")
        _report_failure(step, run_state.step_dir(step) / EXECUTED_NAME, run_state.cfg.run_name, exc)
        for other in running:
            other.cancel()
        wait(running)
        return False

    try:
        while pending or running or unrendered:
            # Steps that others wait for go first, so a kernel still starting gets a leaf step.
            for step in sorted(pending, key=lambda s: -len(descendants[s.name])):
                if not set(step.needs) <= run_state.products.keys():
                    continue
                reused = run_state.reuse(step, force)
                if reused is not None:
                    pending.remove(step)
                    run_state.results[step.name] = reused
                    source = f" from run {reused.source}" if reused.source else ""
                    _print_step(position[step.name], total, step.name, f"up to date, reused{source}")
                    continue
                if not step.needs:
                    run_state.check_input()  # before its kernel starts
                if not idle and len(run_state.workers) < run_state.jobs:
                    # A kernel is started only for a step that will run on it, and a second one
                    # as soon as a second step may run: beside this one, or after it when steps
                    # need it (they rerun with it, most likely two side by side, so the second
                    # kernel's ~5 s of imports run on the other core now, not on the critical
                    # path later). A leaf step rerun alone never pays for a kernel it cannot use.
                    idle.append(run_state.add_worker())
                    if not running and descendants[step.name] and len(run_state.workers) < run_state.jobs:
                        idle.append(run_state.add_worker())
                if not idle:
                    break
                # A kernel whose namespace is reset already starts the step at once; the one that
                # just finished a notebook may still be resetting it.
                worker = next((w for w in idle if w.namespace_clear), idle[0])
                idle.remove(worker)
                pending.remove(step)
                if not step.needs:
                    run_state.wait_for_input()
                folder = run_state.step_dir(step)
                shutil.rmtree(folder, ignore_errors=True)  # no stale page if this run fails
                folder.mkdir(parents=True)
                offset = run_state.read_offset(worker)
                future = worker.submit(
                    step.notebook, folder / EXECUTED_NAME, {"params_file": str(run_state.params_path)}
                )
                running[future] = (step, worker, time.perf_counter(), offset)
                _print_step(position[step.name], total, step.name, "running…")
            # The pages of finished steps are exported while the steps started above run: the
            # export (up to 1.5 s) is no longer on the critical path.
            while unrendered:
                step, duration, reads = unrendered.pop(0)
                try:
                    run_state.results[step.name] = run_state.render(step, duration, reads)
                except Exception as exc:
                    return failed(step, exc)
            if not running:
                if pending:  # cannot happen with a validated pipeline; never spin
                    raise PipelineError(f"steps {[s.name for s in pending]} can never run")
                break
            done: set[Future[None]] = set()
            while not done:
                done, _ = wait(running, timeout=HANDOFF_POLL_S, return_when=FIRST_COMPLETED)
                interrupts.check()
                # A step whose products are written releases the steps that read them now, while
                # it draws the rest of its page; the loop above then starts them.
                released = False
                for future, (step, worker, _, offset) in running.items():
                    if future in done or step.name in handed_off:
                        continue
                    try:
                        if run_state.products_handed_off(step, worker, offset):
                            run_state.products[step.name] = run_state.products_of(step, None)
                            handed_off.add(step.name)
                            released = True
                    except Exception as exc:
                        return failed(step, exc)
                if released:
                    break
            for future in done:
                step, worker, started, offset = running.pop(future)
                idle.append(worker)
                try:
                    future.result()
                    duration = round(time.perf_counter() - started, 1)
                    reads = run_state.parameters_read(step, worker, offset)
                    products = run_state.products_of(step, reads)
                    handed = run_state.products[step.name] if step.name in handed_off else products
                    changed = [attr for attr, digest in handed.items() if products[attr] != digest]
                    if changed:
                        raise PipelineError(
                            f"step {step.name} changed {', '.join(changed)} after calling "
                            "handoff.products_written(), so the steps that read them may have read "
                            "them half-written: call it after the notebook's last write"
                        )
                    run_state.products[step.name] = products
                except Exception as exc:
                    return failed(step, exc)
                unrendered.append((step, duration, reads))
                _print_step(position[step.name], total, step.name, f"done in {duration:.1f} s")
        return True
    except BaseException:  # Ctrl-C or an unexpected error: do not wait for running notebooks
        run_state.stop_kernels(at_once=True)
        raise
    finally:
        run_state.stop_kernels()


def run(
    params_file: str | Path,
    *,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    force: bool = False,
    jobs: int = 2,
) -> int:
    """Execute (or reuse) every step for ``params_file`` and publish the report; return the
    exit code (see the module docstring).

    Never raises and never prints a traceback: Ctrl-C stops the kernels and prints one line
    (exit 130); an error without a message of its own prints one line and saves the traceback
    to ``build/<run_name>/error.log`` (exit 1). Either way the last good report stays."""
    progress = _Progress()
    try:
        return _run(params_file, progress, notebooks_dir=notebooks_dir, force=force, jobs=jobs)
    except KeyboardInterrupt:
        print(f"Interrupted: {progress.report_state()}.", file=sys.stderr, flush=True)
        return interrupts.EXIT_INTERRUPTED
    except Exception as exc:
        print(_unexpected(exc, progress), file=sys.stderr, flush=True)
        return 1


def _run(params_file: str | Path, progress: _Progress, *, notebooks_dir: Path, force: bool, jobs: int) -> int:
    try:
        cfg = load_config(params_file)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    progress.run_name = cfg.run_name
    params_path = resolve(params_file)
    try:
        steps = pipeline.load_pipeline(notebooks_dir, cfg.pipeline)
    except PipelineError as exc:
        print(exc, file=sys.stderr)
        return 2
    if cfg.input is not None:
        # A missing input or an unsupported format is said before any folder is created; what
        # the header or schema reveals, before the first kernel (_Run.check_input).
        from rfm_helpers.data.inputcheck import InputError, source_files, source_format

        try:
            source_format(cfg.input, source_files(cfg.input, display_path(params_path)))
        except InputError as exc:
            print(exc, file=sys.stderr)
            return 2

    reports_root = reports_dir()
    published = reports_root / cfg.run_name
    # Checked before any step runs, so that a read-only reports/ is not found after the kernels.
    unwritable = _first_unwritable(
        [reports_root, build_dir() / cfg.run_name, cfg.interim_dir, cfg.processed_dir]
    )
    if unwritable is not None:
        print(f"{_cannot_write(*unwritable)} Nothing was run; {progress.report_state()}.", file=sys.stderr)
        return 2
    _remove_stale_staging(reports_root, cfg.run_name)
    if reports_root.is_dir():
        write_index(reports_root)  # a run killed between publishing and indexing left it stale
    started, t_run = _now(), time.perf_counter()
    try:
        run_state = _Run(cfg, params_path, steps, notebooks_dir, max(1, jobs))
    except (OSError, ValueError) as exc:  # the account database could not be built or reached
        print(f"Cannot read the run's data: {exc}", file=sys.stderr)
        return 2
    try:
        if not _execute_steps(run_state, force):
            return 1
    except InputRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    except PipelineError as exc:
        print(exc, file=sys.stderr)
        return 1
    results = [run_state.results[step.name] for step in steps]
    # The parameters as a whole too: a step reads only some, but the manifest and the index show
    # them all (and the description), so a change that reruns no step still republishes.
    parameters = json.dumps(run_state.parameters, sort_keys=True, default=str)
    fingerprint = provenance.combined_hash(
        [
            run_state.export_key,
            hashlib.sha256(parameters.encode()).hexdigest(),
            *(run_state.fingerprints[step.name] for step in steps),
        ]
    )
    executed = sum(not r.reused for r in results)
    if executed == 0 and _is_published(published, fingerprint):
        print(f"{display_path(published)} is up to date (nothing changed); use --force to rerun every step")
        return 0

    print("Publishing HTML reports…", end=" ", flush=True)
    t_publish = time.perf_counter()
    try:
        index_path = _publish(
            cfg,
            params_path,
            results,
            started=started,
            input_info=run_state.input_info,
            fingerprint=fingerprint,
            progress=progress,
        )
    except Exception as exc:
        print("FAILED", flush=True)
        problem = (
            _cannot_write(reports_root, exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
        )
        if progress.published:
            print(
                f"\nThe reports index could not be updated. {problem} The next run rewrites it.",
                file=sys.stderr,
            )
        else:
            print(f"\nPublishing failed. {problem} {display_path(published)} is unchanged.", file=sys.stderr)
        return 1
    print(f"done in {time.perf_counter() - t_publish:.1f} s")
    print(
        f"{executed} of {len(steps)} steps run, {len(steps) - executed} reused, "
        f"in {time.perf_counter() - t_run:.1f} s. "
        f"Report: {display_path(published)}/  Index: {display_path(index_path)}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rfm_helpers.runs.runner",
        description="Run the RFM notebooks for one params file and publish the HTML reports.",
    )
    parser.add_argument("--params", default="params/default.yaml", help="params YAML (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rerun every step, even those up to date")
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("RFM_JOBS", "2")),
        help="kernels running independent steps side by side (default: $RFM_JOBS or 2)",
    )
    args = parser.parse_args(argv)
    interrupts.end_startup()  # from here on run() reports Ctrl-C, saying what was left as it was
    return run(args.params, force=args.force, jobs=args.jobs)


if __name__ == "__main__":
    interrupts.exit_program(main())
