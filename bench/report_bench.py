"""How long `make report` takes, against the naive chain, cold and incremental (`make bench`).

    python bench/report_bench.py [--params params/default.yaml] [--no-workbook] [--no-fresh-clone]
                                 [--jobs 1 2]

Every case runs in a fresh output folder (RFM_OUTPUT_ROOT), so "cold" means no step results
and no parsed-input cache. Cases:

- **ours, parquet**: ``python -m rfm_helpers.runs.runner`` (one warm kernel reused by all steps).
- **naive, parquet**: for each notebook the ``papermill`` CLI, then ``jupyter nbconvert --to
  html`` CLI — a new Python process and a new kernel per notebook, as most tutorials do.
- **ours / naive, workbook**: the same, reading the first document's 2-sheet workbook of the
  real data (built once into build/bench/ with openpyxl); the naive chain reads it with
  pandas' default engine (openpyxl), ours with python-calamine.
- **incremental** (after the cold run of ours): a no-op rerun; after ``touch`` of a notebook
  (timestamps only: nothing reruns); after a real edit of one notebook (05_insights); after a
  real edit of one helper module (segments, imported by 03–05). Edits are a trailing comment,
  restored afterwards. Then one parameter at a time: ``clustering.k`` (clustering and what reads
  its products rerun), ``report.title`` (the dashboard only) and a copy under another
  ``run_name`` (every step reused from the first run), each with the steps it ran.
- **fresh clone** (skip with ``--no-fresh-clone``): ``git clone`` of this repository, then
  ``make env`` and ``make report`` with empty package caches: the first-run experience.

The figures go to build/bench/report_figures.json; ``bench/summary.py`` prints them beside the
scale figures and the issue's targets in one table.

Numbers must not depend on the path: the customer export of every path is compared with the
first one and the script fails if they differ. Prints a table of wall-clock seconds and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

from rfm_helpers.config import load_config
from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.runs.pipeline import load_pipeline

BIN = Path(sys.executable).parent
BENCH_DIR = PROJECT_ROOT / "build" / "bench"
EXPORT = Path("data/processed/{run}/exports/customer_segments.csv")
FIGURES = BENCH_DIR / "report_figures.json"
"""This benchmark's figures, for bench/summary.py."""


LAST_OUTPUT: list[str] = [""]
"""The standard output of the last :func:`timed` command (the runner's "N of M steps run" line)."""


def timed(command: list[str], root: Path, cwd: Path = PROJECT_ROOT, env: dict | None = None) -> float:
    """Wall-clock seconds of ``command`` with outputs under ``root``; fails loudly."""
    env = {**os.environ, "RFM_OUTPUT_ROOT": str(root), **(env or {})}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    LAST_OUTPUT[0] = done.stdout
    return elapsed


def ours(params: Path, root: Path, *flags: str) -> float:
    return timed(
        [str(BIN / "python"), "-m", "rfm_helpers.runs.runner", "--params", str(params), *flags], root
    )


def steps_run() -> str:
    """``4 of 7`` from the last runner output's summary line."""
    found = re.search(r"(\d+ of \d+) steps run", LAST_OUTPUT[0])
    return found.group(1) if found else "?"


def fresh_clone_first_report(work: Path) -> tuple[float, float]:
    """Seconds of ``make env`` then ``make report`` in a fresh clone of this repository, with
    empty package caches (packages downloaded from the registry): the first-run experience."""
    clone = work / "clone" / "main"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    (clone.parent / "shared").symlink_to(PROJECT_ROOT.parent / "shared", target_is_directory=True)
    caches = {"UV_CACHE_DIR": str(work / "uv-cache"), "XDG_CACHE_HOME": str(work / "xdg-cache")}
    env = {**caches, "PIP_NO_CACHE_DIR": "1", "VIRTUAL_ENV": ""}
    install = timed(["make", "env"], work / "clone-out", cwd=clone, env=env)
    report = timed(["make", "report"], work / "clone-out", cwd=clone, env=env)
    return install, report


def params_with(params: Path, folder: Path, name: str, changes: dict[str, object]) -> Path:
    """A copy of ``params`` with dotted keys changed (``clustering.k``: 5, ``run_name``: "x")."""
    data = yaml.safe_load(params.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        node = data
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def naive(params: Path, root: Path) -> float:
    """papermill CLI then nbconvert CLI, notebook by notebook."""
    cfg = load_config(params)
    executed = root / "naive"
    executed.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for step in load_pipeline(NOTEBOOKS_DIR, cfg.pipeline):
        out = executed / step.notebook.name
        total += timed(
            [str(BIN / "papermill"), str(step.notebook), str(out), "-p", "params_file", str(params)],
            root,
            cwd=NOTEBOOKS_DIR,
        )
        total += timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)], root)
    return total


def build_workbook(parquet: Path) -> Path:
    """The real data as the first document's workbook (transactions + Segmentation), cached."""
    book = BENCH_DIR / f"{parquet.stem}.xlsx"
    if not book.is_file():
        print(f"Writing {book} once (openpyxl, a few minutes)…", flush=True)
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        segments = pd.read_csv(PROJECT_ROOT / "data" / "reference" / "rfm_segments.csv")
        tmp = book.with_suffix(".tmp.xlsx")
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            pd.read_parquet(parquet).to_excel(writer, sheet_name="E-commerce retail", index=False)
            segments.rename(columns={"segment": "Segment", "rfm_codes": "RFM Score"}).to_excel(
                writer, sheet_name="Segmentation", index=False
            )
        tmp.replace(book)
    return book


def params_variant(params: Path, folder: Path, name: str, **input_changes: object) -> Path:
    """A copy of ``params`` with changed ``input`` keys (same run name: same exports path)."""
    data = yaml.safe_load(params.read_text(encoding="utf-8"))
    data["input"] = {**data.get("input", {}), **input_changes}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@contextmanager
def appended(path: Path, text: str) -> Iterator[None]:
    """Temporarily append ``text`` to ``path`` (a real content change), then restore it."""
    original = path.read_bytes()
    try:
        path.write_bytes(original + text.encode())
        yield
    finally:
        path.write_bytes(original)


def appended_markdown(notebook: Path) -> str:
    """The notebook's text with a trailing space in its last cell: the smallest real edit."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    nb.cells[-1].source += " "
    return nbformat.writes(nb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params/default.yaml")
    parser.add_argument("--no-workbook", action="store_true", help="skip the workbook cases")
    parser.add_argument(
        "--no-fresh-clone", action="store_true", help="skip the fresh clone (downloads every package)"
    )
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="kernels for ours (cold)")
    args = parser.parse_args(argv)
    params = (PROJECT_ROOT / args.params).resolve()
    cfg = load_config(params)

    rows: list[tuple[str, float, str]] = []
    exports: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="rfm-bench-") as tmp:
        work = Path(tmp)

        def fresh(name: str) -> Path:
            root = work / name
            root.mkdir()
            return root

        def record(label: str, seconds: float, root: Path, note: str = "", run: str | None = None) -> float:
            """Print a case; its customer export joins the comparison unless ``run`` is "" (a
            case that changes the results on purpose); ``run``: another run name's export."""
            rows.append((label, seconds, note))
            print(f"{label:<52} {seconds:7.1f} s {note}", flush=True)
            if run != "":
                exports[label] = (root / EXPORT.as_posix().format(run=run or cfg.run_name)).read_bytes()
            return seconds

        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)", flush=True)
        naive_parquet = record("naive chain, parquet (cold)", naive(params, r := fresh("naive")), r)
        cold = {}
        for jobs in args.jobs:
            root = fresh(f"ours{jobs}")
            cold[jobs] = record(
                f"make report, parquet (cold, --jobs {jobs})", ours(params, root, "--jobs", str(jobs)), root
            )
        incremental_root = work / f"ours{args.jobs[0]}"
        noop = record("  no-op rerun", ours(params, incremental_root), incremental_root)
        for path in [*NOTEBOOKS_DIR.glob("*.ipynb"), *(PROJECT_ROOT / "rfm_helpers").rglob("*.py")]:
            path.touch()
        record("  after touch of every notebook and helper", ours(params, incremental_root), incremental_root)
        notebook = NOTEBOOKS_DIR / "05_insights.ipynb"
        original = notebook.read_bytes()
        try:
            notebook.write_text(appended_markdown(notebook), encoding="utf-8")
            record(
                "  after editing 05_insights.ipynb",
                ours(params, incremental_root),
                incremental_root,
                "(1 step)",
            )
        finally:
            notebook.write_bytes(original)
        ours(params, incremental_root)  # back in step with the committed notebook
        with appended(PROJECT_ROOT / "rfm_helpers" / "analysis" / "segments.py", "\n# bench edit\n"):
            record(
                "  after editing rfm_helpers/analysis/segments.py",
                ours(params, incremental_root),
                incremental_root,
                "(03, 04, 05)",
            )
        ours(params, incremental_root)
        edits = {}
        for label, changes in (
            ("clustering.k", {"clustering.k": cfg.clustering.k + 1}),
            ("report.title", {"report.title": f"{cfg.report.title} (bench)"}),
            ("run_name (a copy)", {"run_name": f"{cfg.run_name}_copy"}),
        ):
            variant = params_with(params, work, label.split()[0].replace(".", "_"), changes)
            seconds = ours(variant, incremental_root)
            edits[label] = (seconds, steps_run())
            run = f"{cfg.run_name}_copy" if label.startswith("run_name") else ""
            record(
                f"  after changing only {label}", seconds, incremental_root, f"({steps_run()} steps run)", run
            )
            ours(params, incremental_root)  # back to the committed parameters

        if not args.no_workbook:
            book = build_workbook(cfg.input_path)
            fast = params_variant(params, work, "workbook_calamine", path=str(book), format="xlsx")
            slow = params_variant(
                params, work, "workbook_openpyxl", path=str(book), format="xlsx", excel_engine="openpyxl"
            )
            naive_book = record("naive chain, workbook (openpyxl)", naive(slow, r := fresh("naive_book")), r)
            jobs = max(args.jobs)  # as make report runs (2 by default), not the --jobs 1 variant
            ours_book = record(
                f"make report, workbook (calamine, cold, --jobs {jobs})",
                ours(fast, r := fresh("ours_book"), "--jobs", str(jobs)),
                r,
            )

        fresh_install = fresh_report = None
        if not args.no_fresh_clone:
            fresh_install, fresh_report = fresh_clone_first_report(work)
            print(f"{'fresh clone: make env (empty package caches)':<52} {fresh_install:7.1f} s", flush=True)
            print(f"{'fresh clone: then make report':<52} {fresh_report:7.1f} s", flush=True)

    reference = next(iter(exports.values()))
    differing = [label for label, data in exports.items() if data != reference]
    best = min(cold.values())
    print("\nSummary (wall-clock seconds, this machine)")
    comparisons = [("parquet", best, naive_parquet)]
    if not args.no_workbook:
        comparisons.append(("workbook", ours_book, naive_book))
    for source, fast_s, slow_s in comparisons:
        print(
            f"  cold, {source:<9} ours {fast_s:6.1f} s, naive {slow_s:6.1f} s: {slow_s / fast_s:4.1f}× faster"
        )
    print(f"  no-op rerun:                 {noop:6.2f} s")
    figures = {
        "load_average": os.getloadavg()[0],
        "cold_parquet": {"ours": best, "naive": naive_parquet},
        "cold_workbook": None if args.no_workbook else {"ours": ours_book, "naive": naive_book},
        "noop": noop,
        "edits": {label: {"seconds": sec, "steps_run": steps} for label, (sec, steps) in edits.items()},
        "fresh_clone": None
        if fresh_install is None
        else {"install": fresh_install, "report": fresh_report, "total": fresh_install + fresh_report},
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(
        f"  figures written to {FIGURES.relative_to(PROJECT_ROOT)} "
        "(bench/summary.py prints them with the targets)"
    )
    if differing:
        print(f"\nFAIL: customer export differs from the first case in: {differing}", file=sys.stderr)
        return 1
    print(f"  customer export identical across all {len(exports)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
