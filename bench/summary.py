"""One table of every speed figure, ours beside the peer and the target (the last step of `make bench`).

    python bench/summary.py

Reads what the two benchmarks of the same `make bench` wrote: build/bench/report_figures.json
(bench/report_bench.py: cold runs against the naive chain, reruns after edits, fresh clone) and
build/bench/scale_figures.json (bench/scale.py: synthetic rows through the SQL path). A figure a
benchmark did not measure (skipped by an option) shows as "not measured". The targets are issue
13's, for a 2-core, 24 GiB machine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "build" / "bench"
REPORT = BENCH_DIR / "report_figures.json"
SCALE = BENCH_DIR / "scale_figures.json"
GIB = 1024.0

Row = tuple[str, str, str, str, str]


def _read(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def report_rows(figures: dict | None) -> list[Row]:
    """Rows of the report benchmark: (figure, ours, peer, target, met)."""
    if figures is None:
        return [("report benchmark", "not measured", "", "", "")]
    rows: list[Row] = []
    fresh = figures.get("fresh_clone")
    if fresh:
        rows.append(
            (
                "fresh clone: make env + first make report",
                f"{fresh['install']:.1f} + {fresh['report']:.1f} = {fresh['total']:.1f} s",
                "",
                "≤ 90 s, nothing built from source",
                _met(fresh["total"] <= 90),
            )
        )
    cold = figures["cold_parquet"]
    ratio = cold["naive"] / cold["ours"]
    rows.append(
        (
            "cold make report, shipped parquet",
            f"{cold['ours']:.1f} s",
            f"naive chain {cold['naive']:.1f} s ({ratio:.1f}×)",
            "≤ 8 s and ≥ 8×",
            _met(cold["ours"] <= 8 and ratio >= 8),
        )
    )
    book = figures.get("cold_workbook")
    if book:
        book_ratio = book["naive"] / book["ours"]
        rows.append(
            (
                "cold make report, the document's workbook",
                f"{book['ours']:.1f} s",
                f"naive chain {book['naive']:.1f} s ({book_ratio:.1f}×)",
                "≥ 10×",
                _met(book_ratio >= 10),
            )
        )
    rows.append(("no-op rerun", f"{figures['noop']:.2f} s", "", "≤ 0.5 s", _met(figures["noop"] <= 0.5)))
    expected_steps = {
        "clustering.k": ("clustering and what reads its products", lambda run, total: run < total),
        "report.title": ("the dashboard only", lambda run, total: run == 1),
        "run_name (a copy)": ("every computed product reused", lambda run, total: run == 0),
    }
    for label, edit in figures.get("edits", {}).items():
        target, check = expected_steps.get(label, ("", None))
        steps = edit["steps_run"]
        run, _, total = steps.partition(" of ")
        ok = check(int(run), int(total)) if check and run.isdigit() and total.isdigit() else None
        rows.append(
            (
                f"rerun after changing only {label}",
                f"{edit['seconds']:.1f} s, {steps} steps",
                "",
                target,
                _met(ok),
            )
        )
    return rows


def scale_rows(figures: list | None) -> list[Row]:
    """Rows of the scale benchmark, one per size and engine."""
    if not figures:
        return [("scale benchmark (1M-100M rows)", "not measured", "", "", "")]
    rows: list[Row] = []
    # by size; DuckDB's customer table, then its whole report, then Spark (rows --append adds last)
    in_order = sorted(figures, key=lambda e: (e["rows"], e["engine"] != "duckdb", e.get("kind") == "report"))
    for entry in in_order:
        if entry.get("kind") == "report":
            rows.append(_whole_report_row(entry))
            continue
        label = f"{entry['rows'] / 1e6:,.0f}M rows → customer table, {entry['engine']}"
        ours = f"{entry['seconds']:.1f} s, peak {entry['peak_mib'] / GIB:.1f} GiB"
        if entry.get("spill_mib") is not None:
            ours += f", disk {entry['spill_mib'] / GIB:.1f} GiB"
        target, ok, peer = "", None, ""
        duckdb = [
            e for e in figures if e["rows"] == entry["rows"] and e["engine"] == "duckdb" and "kind" not in e
        ]
        if entry["engine"] == "spark" and duckdb:
            fast = duckdb[0]["seconds"]
            peer = f"DuckDB {fast:.1f} s ({entry['seconds'] / fast:.0f}× faster)"
        if entry["rows"] == 100_000_000 and entry["engine"] == "duckdb":
            target = "≤ 120 s, ≤ 6 GiB"
            ok = entry["seconds"] <= 120 and entry["peak_mib"] <= 6 * GIB
        elif entry["rows"] == 100_000_000 and entry["engine"] == "spark":
            target, ok = "measured beside DuckDB", bool(duckdb)
        rows.append((label, ours, peer, target, _met(ok) if target else ""))
    return rows


def _whole_report_row(entry: dict) -> Row:
    """The whole report (every step) on a synthetic size; its target at 100M rows."""
    label = f"{entry['rows'] / 1e6:,.0f}M rows → whole report, {entry['engine']}"
    ours = f"{entry['seconds']:.1f} s, peak {entry['peak_mib'] / GIB:.1f} GiB"
    if entry["rows"] != 100_000_000:
        return (label, ours, "", "", "")
    return (label, ours, "", "≤ 4 min", _met(entry["seconds"] <= 240))


def table(rows: list[Row]) -> str:
    header = ("figure", "ours", "peer", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def main() -> int:
    report, scale = _read(REPORT), _read(SCALE)
    print(table(report_rows(report) + scale_rows(scale)))
    if report is not None:
        print(f"\nLoad average when the report benchmark ended: {report['load_average']:.2f} (2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
