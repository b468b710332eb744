"""Run the notebooks for one params file and publish their HTML reports.

Usage::

    python -m rfm_helpers.runner --params params/default.yaml [--force]

Steps are ``notebooks/NN_*.ipynb`` in name order, executed in-process by papermill with the
single parameter ``params_file``. Executed copies go to ``build/<run_name>/executed/``; the
sources are never modified. Publishing is all-or-nothing: pages, CSV exports and
``manifest.json`` are assembled in a hidden staging folder under ``reports/`` and swapped in
with renames, so ``reports/<run_name>`` is always a complete report (the previous one when a
run fails). A run whose inputs, notebooks, helper code and packages are unchanged since the
published report is skipped unless ``--force``.

Exit codes: 0 success (or up to date), 1 a notebook or the publishing failed, 2 bad params.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config

from rfm_helpers.config import ConfigError, RunConfig, load_config
from rfm_helpers.htmlexport import export_html
from rfm_helpers.paths import NOTEBOOKS_DIR, build_dir, reports_dir, resolve
from rfm_helpers.reporting import (
    EXPORTS_DIRNAME,
    build_manifest,
    display_path,
    environment_info,
    export_info,
    read_manifest,
    sha256_file,
    write_index,
    write_manifest,
)

STEP_GLOB = "[0-9][0-9]_*.ipynb"
STAGING_PREFIX = ".staging-"
"""Hidden folders under ``reports/`` being assembled or retired; ``.`` never occurs in a run
name, so ``.staging-<run_name>.*`` matches exactly one run's leftovers."""
PACKAGE_DIR = Path(__file__).resolve().parent
# CurveZMQ between runner and kernel: the kernelspec supports it, and without it ipykernel
# prints an "unencrypted TCP" warning for every notebook.
KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto"}})


@dataclass(frozen=True)
class StepResult:
    """One successfully executed notebook."""

    name: str
    executed_path: Path
    duration_s: float


def discover_steps(notebooks_dir: Path) -> list[Path]:
    """The pipeline's notebooks, ``NN_name.ipynb``, in name order."""
    return sorted(notebooks_dir.glob(STEP_GLOB))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_fingerprint(cfg: RunConfig, input_sha256: str, steps: Sequence[Path]) -> str:
    """Hash of everything a report depends on: parameters, input and reference files,
    notebooks, helper code and templates, package versions (not the git commit: committing
    unchanged code does not change the numbers)."""
    reference = {name: resolve(path) for name, path in cfg.reference.model_dump().items()}
    code = [p for p in sorted(PACKAGE_DIR.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    parts = {
        "parameters": cfg.model_dump(mode="json"),
        "input": input_sha256,
        "reference": {
            name: sha256_file(path) if path.is_file() else "missing" for name, path in reference.items()
        },
        "notebooks": {p.name: sha256_file(p) for p in steps},
        "code": {str(p.relative_to(PACKAGE_DIR)): sha256_file(p) for p in code},
        "environment": environment_info(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _is_up_to_date(published: Path, fingerprint: str) -> bool:
    """The published report was produced from the same inputs and is complete."""
    manifest = read_manifest(published)
    if manifest is None or manifest.get("fingerprint") != fingerprint:
        return False
    files = [r["html"] for r in manifest.get("reports", [])]
    files += [f"{EXPORTS_DIRNAME}/{e['file']}" for e in manifest.get("exports", [])]
    return all((published / name).is_file() for name in files)


def _remove_stale_staging(reports_root: Path, run_name: str) -> None:
    """Delete this run's staging folders left by an interrupted run (other runs' folders may
    belong to a run in progress, so they are left alone)."""
    for leftover in reports_root.glob(f"{STAGING_PREFIX}{run_name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _execute_step(notebook: Path, executed_path: Path, params_path: Path) -> None:
    papermill.execute_notebook(
        str(notebook),
        str(executed_path),
        parameters={"params_file": str(params_path)},
        kernel_name="python3",
        cwd=str(notebook.parent),
        progress_bar=sys.stdout.isatty(),
        config=KERNEL_CONFIG,
    )


def _describe_failure(exc: BaseException) -> str:
    """Cell and exception of a failed step, in the terms the rendered notebook shows."""
    if isinstance(exc, PapermillExecutionError):
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        return f"cell In [{exc.exec_count}] (starts: {first_line.strip()!r}): {exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {exc}"


def _report_failure(step: Path, executed_path: Path, run_name: str, exc: BaseException) -> None:
    """Print what failed and render the partially executed notebook with its code."""
    print("FAILED", flush=True)
    print(f"\nNotebook {step.name} failed at {_describe_failure(exc)}", file=sys.stderr)
    if executed_path.is_file():
        failed_html = build_dir() / run_name / "failed" / f"{step.stem}.html"
        try:
            export_html(executed_path, failed_html, show_code=True, run_name=run_name, index_href=None)
            print(f"  Notebook with the failing cell and traceback: {failed_html}", file=sys.stderr)
        except Exception as render_exc:  # the failure itself matters more than its page
            print(f"  (could not render {executed_path}: {render_exc})", file=sys.stderr)
    print(
        f"  Later notebooks were not run; {reports_dir() / run_name} is unchanged.",
        file=sys.stderr,
    )


def _copy_exports(source: Path, target: Path) -> list[dict[str, Any]]:
    """Copy the run's export files (not temporary dot-files) and describe them."""
    if not source.is_dir():
        return []
    files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
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
    input_sha256: str,
    fingerprint: str,
) -> None:
    """Assemble pages, exports and manifest in a staging folder, then swap it in."""
    reports_root = reports_dir()
    reports_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{cfg.run_name}.", dir=reports_root))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would make the published folder private
        reports = []
        for result in results:
            html_name = f"{result.name}.html"
            title = export_html(result.executed_path, staging / html_name, run_name=cfg.run_name)
            reports.append(
                {"notebook": result.name, "title": title, "html": html_name, "duration_s": result.duration_s}
            )
        manifest = build_manifest(
            cfg=cfg,
            params_file=params_path,
            started=started,
            finished=_now(),
            input_sha256=input_sha256,
            reports=reports,
            exports=_copy_exports(cfg.exports_dir, staging / EXPORTS_DIRNAME),
            fingerprint=fingerprint,
        )
        write_manifest(staging, manifest)
        _swap_in(staging, reports_root / cfg.run_name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _progress(index: int, total: int, name: str) -> str:
    return f"[{index}/{total}] {name}:"


def run(params_file: str | Path, *, notebooks_dir: Path = NOTEBOOKS_DIR, force: bool = False) -> int:
    """Execute every step for ``params_file`` and publish the report; return the exit code."""
    try:
        cfg = load_config(params_file)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    params_path = resolve(params_file)
    steps = discover_steps(notebooks_dir)
    if not steps:
        print(f"No notebooks matching {STEP_GLOB} in {notebooks_dir}", file=sys.stderr)
        return 2

    if not cfg.input_path.is_file():
        # Checked here so the analyst learns it in a second, not after a kernel has started.
        print(
            f"Input file not found: {cfg.input_path}. Check input.path in {display_path(params_path)}.",
            file=sys.stderr,
        )
        return 2

    reports_root = reports_dir()
    published = reports_root / cfg.run_name
    _remove_stale_staging(reports_root, cfg.run_name)
    input_sha256 = sha256_file(cfg.input_path)
    fingerprint = run_fingerprint(cfg, input_sha256, steps)
    if not force and _is_up_to_date(published, fingerprint):
        print(
            f"{display_path(published)} is up to date (same inputs, notebooks and code); use --force to rerun"
        )
        return 0

    run_build = build_dir() / cfg.run_name
    shutil.rmtree(run_build, ignore_errors=True)  # no stale failure pages or executed copies
    (run_build / "executed").mkdir(parents=True)
    started, t_run = _now(), time.perf_counter()
    tty = sys.stdout.isatty()
    results = []
    for index, step in enumerate(steps, start=1):
        prefix = _progress(index, len(steps), step.stem)
        # On a terminal papermill's progress bar follows, so "done" goes on its own line.
        print(f"{prefix} running…", end="\n" if tty else " ", flush=True)
        executed_path = run_build / "executed" / step.name
        t_step = time.perf_counter()
        try:
            _execute_step(step, executed_path, params_path)
        except Exception as exc:
            _report_failure(step, executed_path, cfg.run_name, exc)
            return 1
        duration = round(time.perf_counter() - t_step, 1)
        print(f"{prefix + ' ' if tty else ''}done in {duration:.1f} s", flush=True)
        results.append(StepResult(step.stem, executed_path, duration))

    print("Publishing HTML reports…", end=" ", flush=True)
    t_publish = time.perf_counter()
    try:
        _publish(
            cfg, params_path, results, started=started, input_sha256=input_sha256, fingerprint=fingerprint
        )
    except Exception as exc:
        print("FAILED", flush=True)
        print(
            f"\nPublishing failed ({type(exc).__name__}: {exc}); {published} is unchanged.", file=sys.stderr
        )
        return 1
    index_path = write_index(reports_root)
    print(f"done in {time.perf_counter() - t_publish:.1f} s")
    print(
        f"{len(steps)} notebook{'s' if len(steps) != 1 else ''} in {time.perf_counter() - t_run:.1f} s. "
        f"Report: {display_path(published)}/  Index: {display_path(index_path)}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rfm_helpers.runner",
        description="Run the RFM notebooks for one params file and publish the HTML reports.",
    )
    parser.add_argument("--params", default="params/default.yaml", help="params YAML (default: %(default)s)")
    parser.add_argument(
        "--force", action="store_true", help="rerun even if the published report is up to date"
    )
    args = parser.parse_args(argv)
    return run(args.params, force=args.force)


if __name__ == "__main__":
    sys.exit(main())
