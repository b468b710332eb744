"""Scaling benchmark: synthetic transactions at 1M, 10M, 100M rows through the DuckDB path.

For each size: generation time, clean + aggregate time (the cleaning step's engine session,
rfm_helpers.sql.transactions.run: rules, customer table and every report aggregate), peak memory
(max RSS of the child process doing the work, DuckDB included), rows per second and customers.
Each step runs in its own child process so that its peak memory is its own.
Prints a table; this is a script, never a test.

    nice -n 10 .venv/bin/python bench/scale.py --rows 1M 10M 100M --work-dir /tmp/rfm_scale
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
PARAMS = "params/default.yaml"


def _child(step: str, rows: int, data: Path, work: Path, memory_limit: str) -> dict:
    """Run one step in this process and return its figures (called in the child)."""
    from rfm_helpers.config import EngineConfig, load_config
    from rfm_helpers.data import reference
    from rfm_helpers.sql import rules, transactions
    from rfm_helpers.sql.engines import duckdb_engine
    from rfm_helpers.synthetic.transactions import generate

    cfg = load_config(PARAMS)
    codes = reference.load_non_product_codes(cfg.reference.non_product_codes)
    flagged = reference.load_flagged_descriptions(cfg.reference.flagged_descriptions)
    started = time.perf_counter()
    if step == "generate":
        generate(rows, data, seed=1)
        out = {}
    else:
        engine_cfg = EngineConfig(engine="duckdb", memory_limit=memory_limit, temp_directory=work / "spill")
        with duckdb_engine(engine_cfg) as engine:
            present = rules.register_parquet_source(engine, cfg.input.model_copy(update={"path": data}))
            result = transactions.run(
                engine, present, cfg.cleaning, cfg.rfm, codes, flagged, cfg.input.missing_text
            )
        out = {"customers": len(result.customers), "clean_rows": result.figures["invoice_lines"]}
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _run(step: str, rows: int, data: Path, work: Path, memory_limit: str) -> dict:
    command = [sys.executable, __file__, "--child", step, "--child-rows", str(rows)]
    command += ["--data", str(data), "--work-dir", str(work), "--memory-limit", memory_limit]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/rfm_scale"))
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--child", choices=["generate", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--child-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.child_rows, args.data, args.work_dir, args.memory_limit)))
        return

    header = (
        f"{'rows':>12} {'engine':>7} {'generate s':>10} {'gen MiB':>8} {'clean+agg s':>11} "
        f"{'peak MiB':>9} {'rows/s':>11} {'customers':>10} {'clean rows':>12}"
    )
    print(header)
    print("-" * len(header))
    for label in args.rows:
        rows = SIZES[label]
        work = args.work_dir / label
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        data = work / "transactions"
        gen = _run("generate", rows, data, work, args.memory_limit)
        for engine in ["duckdb"]:
            r = _run(engine, rows, data, work, args.memory_limit)
            print(
                f"{rows:>12,} {engine:>7} {gen['seconds']:>10.1f} {gen['peak_rss_mib']:>8,.0f} "
                f"{r['seconds']:>11.1f} {r['peak_rss_mib']:>9,.0f} {rows / r['seconds']:>11,.0f} "
                f"{r['customers']:>10,} {r['clean_rows']:>12,}",
                flush=True,
            )
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
