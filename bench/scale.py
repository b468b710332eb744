"""Scaling benchmark: synthetic transactions at 1M, 10M, 100M rows, DuckDB (and Spark local mode).

For each size: generation time, then clean + aggregate (the cleaning step's engine session,
rfm_helpers.sql.transactions.run: rules, customer table and every report aggregate) on each
engine, with: seconds, peak memory (the largest RSS of the process tree doing the work, sampled
every 0.2 s: Python, DuckDB, and Spark's JVM), disk (the largest size of the engine's temporary
folder during the run: DuckDB's spill files and its scratch database of compressed tables),
rows per second and customers. Each step runs in its own child process so that its peak memory
is its own. Prints a table; this is a script, never a test.

    nice -n 10 .venv/bin/python bench/scale.py --rows 1M 10M 100M --work-dir /tmp/rfm_scale --keep
    nice -n 10 .venv/bin/python bench/scale.py --rows 10M --engines duckdb spark --keep --check

``--append`` adds the run's rows to those saved by an earlier run (Spark at 100M, about an hour,
measured on its own after the DuckDB sizes). ``--keep`` keeps the generated data and reuses it
when it is already there (generation is then shown as ``-``). ``--check`` compares each run's
customer table (customer_id, recency, frequency, monetary, sorted by customer_id) and figures with
the reference of that size in ``--reference-dir``; the first checked run of a size writes the
reference (write it with the code you trust: e.g. the commit before an optimisation, or
``--engines spark``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

FIGURES = Path(__file__).resolve().parents[1] / "build" / "bench" / "scale_figures.json"
"""This benchmark's rows, for bench/summary.py."""
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
PARAMS = "params/default.yaml"
CHECK_COLUMNS = ["customer_id", "recency", "frequency", "monetary"]


class _Sampler(threading.Thread):
    """Largest RSS of this process and its descendants, and largest size of ``folder``."""

    def __init__(self, folder: Path | None) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak_rss, self.peak_disk = folder, 0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            self.sample()

    def sample(self) -> None:
        self.peak_rss = max(self.peak_rss, _tree_rss(os.getpid()))
        if self.folder is not None:
            self.peak_disk = max(self.peak_disk, _folder_bytes(self.folder))

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.sample()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant (Linux /proc)."""
    tree, total, todo = _children(), 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
        todo += tree.get(current, [])
    return total


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total


def _cpu_seconds() -> float:
    """CPU seconds (user and system) this process has used: unlike wall time, barely moved by
    other work on the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Timed:
    """A DuckDB connection that appends each statement's wall and CPU seconds to ``log``
    (RFM_BENCH_PROFILE=1)."""

    def __init__(self, con, log: Path) -> None:
        self.con, self.log = con, log
        log.write_text(f"{'wall s':>8} {'cpu s':>8}  statement\n")

    def execute(self, sql: str, *params):
        started, cpu = time.perf_counter(), _cpu_seconds()
        result = self.con.execute(sql, *params)
        if not sql.lstrip().upper().startswith(("CREATE", "INSERT")):
            result = result.fetch_df() if "DESCRIBE" not in sql else result.fetchall()
        with self.log.open("a") as f:
            wall, used = time.perf_counter() - started, _cpu_seconds() - cpu
            f.write(f"{wall:8.2f} {used:8.2f}  {' '.join(sql.split())[:110]}\n")
        return _Fetched(result)

    def __getattr__(self, name: str):
        return getattr(self.con, name)


class _Fetched:
    """A result already fetched, answering as a DuckDB result does."""

    def __init__(self, result) -> None:
        self.result = result

    def df(self):
        return self.result

    def fetchall(self):
        return self.result if isinstance(self.result, list) else list(self.result.itertuples(index=False))

    def fetchone(self):
        rows = self.fetchall()
        return tuple(rows[0]) if rows else None


def _child(step: str, rows: int, data: Path, work: Path, memory_limit: str, out_file: Path | None) -> dict:
    """Run one step in this process and return its figures (called in the child)."""
    from rfm_helpers.config import EngineConfig, load_config
    from rfm_helpers.data import reference
    from rfm_helpers.sql import rules, transactions
    from rfm_helpers.sql.engines import duckdb_engine
    from rfm_helpers.synthetic.transactions import generate

    cfg = load_config(PARAMS)
    codes = reference.load_non_product_codes(cfg.reference.non_product_codes)
    flagged = reference.load_flagged_descriptions(cfg.reference.flagged_descriptions)
    spill = work / f"spill-{step}"
    shutil.rmtree(spill, ignore_errors=True)
    sampler = _Sampler(None if step == "generate" else spill)
    sampler.start()
    started = time.perf_counter()
    out: dict = {}
    if step == "generate":
        generate(rows, data, seed=1)
    else:
        args = (cfg.cleaning, cfg.rfm, codes, flagged, cfg.input.missing_text)
        if step == "duckdb":
            engine_cfg = EngineConfig(engine="duckdb", memory_limit=memory_limit, temp_directory=spill)
            with duckdb_engine(engine_cfg) as engine:
                if os.environ.get("RFM_BENCH_PROFILE"):
                    engine.con = _Timed(engine.con, work / "profile-duckdb.txt")
                present = rules.register_parquet_source(engine, cfg.input.model_copy(update={"path": data}))
                result = transactions.run(engine, present, *args, top_n=cfg.report.top_n)
        else:  # spark, local mode: the typed rows are shipped from DuckDB as the report does
            from rfm_helpers.sql.engines import spark_engine

            spill.mkdir(parents=True)
            engine_cfg = EngineConfig(
                engine="spark",
                spark_master="local[*]",
                spark_driver_memory=os.environ.get("RFM_BENCH_SPARK_MEMORY", "10g"),
                spark_shuffle_partitions=8,
                memory_limit=memory_limit,
                temp_directory=spill,
            )
            os.environ.setdefault("SPARK_LOCAL_DIRS", str(spill))
            run_cfg = cfg.model_copy(
                update={"input": cfg.input.model_copy(update={"path": data}), "engine": engine_cfg}
            )
            with spark_engine(engine_cfg) as engine:
                present, _rows = transactions._define_source(engine, run_cfg)
                result = transactions.run(engine, present, *args, top_n=cfg.report.top_n)
        out = {"customers": len(result.customers), "clean_rows": result.figures["invoice_lines"]}
        if out_file is not None:
            result.customers[CHECK_COLUMNS].to_parquet(out_file)
            out_file.with_suffix(".json").write_text(json.dumps(result.figures, sort_keys=True))
    out["seconds"] = time.perf_counter() - started
    sampler.stop()
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["peak_rss_mib"] = max(sampler.peak_rss, self_peak) / 2**20
    out["disk_mib"] = sampler.peak_disk / 2**20
    shutil.rmtree(spill, ignore_errors=True)
    return out


def _run(step: str, rows: int, data: Path, work: Path, memory_limit: str, out_file: Path | None) -> dict:
    command = [sys.executable, __file__, "--child", step, "--child-rows", str(rows)]
    command += ["--data", str(data), "--work-dir", str(work), "--memory-limit", memory_limit]
    if out_file is not None:
        command += ["--child-out", str(out_file)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(label: str, engine: str, out_file: Path, reference_dir: Path) -> str:
    """``same``/``DIFFERS`` against the reference customer table and figures of this size
    (written from this run when there is none yet: ``ref``)."""
    import pandas as pd

    ref = reference_dir / f"{label}_customers.parquet"
    if not ref.exists():
        reference_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(out_file, ref)
        shutil.copy(out_file.with_suffix(".json"), ref.with_suffix(".json"))
        return f"ref ({engine})"
    got = pd.read_parquet(out_file).sort_values("customer_id", ignore_index=True)
    want = pd.read_parquet(ref).sort_values("customer_id", ignore_index=True)
    same_figures = json.loads(out_file.with_suffix(".json").read_text()) == json.loads(
        ref.with_suffix(".json").read_text()
    )
    return "same" if got.equals(want) and same_figures else "DIFFERS"


_STEP_DONE = re.compile(r"\] (\S+): done in ([0-9.]+) s")


def _whole_report(label: str, data: Path, work: Path) -> dict:
    """The whole report (every step, ``python -m rfm_helpers.runs.runner``) on ``data``, with
    ``PARAMS`` but for the input path: wall seconds, each step's seconds and the peak memory of
    the runner and its kernels. Its output folder is thrown away after."""
    import yaml

    params = yaml.safe_load(Path(PARAMS).read_text(encoding="utf-8"))
    params["run_name"] = f"scale_{label}"
    params["input"]["path"] = str(data)
    params_path = work / "report_params.yaml"
    params_path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    out = work / "report_output"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "rfm_helpers.runs.runner", "--params", str(params_path), "--force"]
    env = os.environ | {"RFM_OUTPUT_ROOT": str(out)}
    sampler = _Sampler(None)
    sampler.start()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    sampler.stop()
    shutil.rmtree(out, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"the whole report on {label} rows failed (exit {done.returncode}):\n{done.stderr}")
    steps = {name: float(s) for name, s in _STEP_DONE.findall(done.stdout)}
    return {"seconds": seconds, "peak_rss_mib": sampler.peak_rss / 2**20, "steps": steps}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--engines", nargs="+", choices=["duckdb", "spark"], default=["duckdb", "spark"])
    parser.add_argument(
        "--spark-max-rows", type=int, default=10_000_000, help="largest size run on Spark (default 10M)"
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/rfm_scale"))
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit")
    parser.add_argument("--keep", action="store_true", help="keep the generated data and reuse it")
    parser.add_argument("--check", action="store_true", help="compare customer tables with the reference")
    parser.add_argument("--reference-dir", type=Path, default=None, help="default: <work-dir>/reference")
    parser.add_argument(
        "--report", action="store_true", help="also run the whole report (every step, DuckDB) on each size"
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="add this run's rows to the saved figures (a row of the same size, engine and kind replaces "
        "the saved one) instead of replacing them: for a long run measured on its own, e.g. Spark at 100M",
    )
    parser.add_argument("--child", choices=["generate", "duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--child-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = _child(
            args.child, args.child_rows, args.data, args.work_dir, args.memory_limit, args.child_out
        )
        print(json.dumps(figures))
        return
    reference_dir = args.reference_dir or args.work_dir / "reference"

    header = (
        f"{'rows':>12} {'engine':>7} {'generate s':>10} {'seconds':>8} {'peak MiB':>9} "
        f"{'disk MiB':>9} {'rows/s':>11} {'customers':>10} {'clean rows':>12} {'check':>8}"
    )
    print(f"DuckDB memory_limit {args.memory_limit}; disk = peak size of the engine's temp folder")
    print(header)
    print("-" * len(header))
    kept = _saved_rows() if args.append else []
    measured: list[dict] = []
    for label in args.rows:
        rows = SIZES[label]
        work = args.work_dir / label
        data = work / "transactions"
        if args.keep and data.is_dir() and any(data.rglob("*.parquet")):
            generated = "-"
        else:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            generated = f"{_run('generate', rows, data, work, args.memory_limit, None)['seconds']:.1f}"
        for engine in args.engines:
            if engine == "spark" and rows > args.spark_max_rows:
                continue
            out_file = work / f"customers-{engine}.parquet" if args.check else None
            r = _run(engine, rows, data, work, args.memory_limit, out_file)
            verdict = _check(label, engine, out_file, reference_dir) if out_file is not None else "-"
            print(
                f"{rows:>12,} {engine:>7} {generated:>10} {r['seconds']:>8.1f} {r['peak_rss_mib']:>9,.0f} "
                f"{r['disk_mib']:>9,.0f} {rows / r['seconds']:>11,.0f} {r['customers']:>10,} "
                f"{r['clean_rows']:>12,} {verdict:>8}",
                flush=True,
            )
            measured.append(
                {"rows": rows, "engine": engine, "seconds": r["seconds"], "peak_mib": r["peak_rss_mib"]}
                | {"spill_mib": r["disk_mib"], "customers": r["customers"], "check": verdict}
            )
            _save(kept, measured)
        if args.report:
            r = _whole_report(label, data, work)
            steps = ", ".join(f"{name} {seconds:.0f}" for name, seconds in r["steps"].items())
            peak = f"{r['peak_rss_mib']:,.0f} MiB"
            print(f"{rows:>12,} whole report: {r['seconds']:.1f} s, peak {peak} ({steps})", flush=True)
            measured.append(
                {"rows": rows, "engine": "duckdb", "kind": "report", "seconds": r["seconds"]}
                | {"peak_mib": r["peak_rss_mib"], "steps": r["steps"]}
            )
            _save(kept, measured)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _key(row: dict) -> tuple:
    return row["rows"], row["engine"], row.get("kind", "customer table")


def _saved_rows() -> list[dict]:
    return json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.is_file() else []


def _save(kept: list[dict], measured: list[dict]) -> None:
    """The rows measured so far, after the ``kept`` ones that they do not replace, for
    bench/summary.py (after each one: a long run keeps its rows)."""
    new = {_key(row) for row in measured}
    rows = [row for row in kept if _key(row) not in new] + measured
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
