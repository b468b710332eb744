"""Two runs with the same input and parameters produce the same products.

The same params file is run twice (``force``) below one ``RFM_OUTPUT_ROOT``; the second run
reads the CSV input from the parse cache the first one wrote, so the cache is covered too.
Compared byte for byte: every data product (clean table, ledger, segment table, customer
metrics, scored customers, score bins, clusters, exports) and the published exports. Compared
as text after masking the run's timestamps: every HTML report, embedded PNG charts included.
"""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest
from bad_input_support import run_runner, sha256, transactions, write_csv, write_params

pytestmark = pytest.mark.slow

RUN = "reproducible"
RUN_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\+00:00| UTC)")
"""When the run happened, as pages show it (``2026-11-23 21:15 UTC``, ISO with offset). Data dates
carry no time zone, so they are never masked."""


def products(root: Path) -> dict[str, Path]:
    """Every data product and published export of the run, by path below ``root``."""
    folders = [root / "data" / "interim" / RUN, root / "data" / "processed" / RUN, root / "reports" / RUN]
    files = [p for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()]
    return {str(p.relative_to(root)): p for p in files if p.suffix in {".parquet", ".csv"}}


def pages(root: Path) -> dict[str, str]:
    """The run's HTML reports with the run timestamps masked."""
    return {
        p.name: RUN_TIMESTAMP.sub("<run time>", p.read_text(encoding="utf-8"))
        for p in sorted((root / "reports" / RUN).glob("*.html"))
    }


def first_difference(a: str, b: str) -> str:
    diff = difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
    return "\n".join(line[:300] for line in list(diff)[:12])


def test_two_runs_give_identical_products_and_reports(tmp_path: Path) -> None:
    root = tmp_path / "out"
    source = write_csv(transactions(customers=60), tmp_path / "orders.csv")
    params = write_params(tmp_path, source, run_name=RUN)

    first = run_runner(root, params)
    assert first.exit_code == 0, first.message
    kept = tmp_path / "first"
    shutil.copytree(root, kept, ignore=shutil.ignore_patterns("cache"))
    first_products = {name: sha256(path) for name, path in products(kept).items()}
    first_pages = pages(kept)

    second = run_runner(root, params)
    assert second.exit_code == 0, second.message
    second_products = {name: sha256(path) for name, path in products(root).items()}

    expected = {
        f"data/interim/{RUN}/marts/customers.parquet",
        f"data/interim/{RUN}/marts/monthly.parquet",
        f"data/processed/{RUN}/customers_rfm.parquet",
        f"data/processed/{RUN}/score_bins.csv",
        f"data/processed/{RUN}/customer_clusters.parquet",
        f"reports/{RUN}/exports/customer_segments.csv",
        f"reports/{RUN}/exports/customer_predictions.csv",
    }
    assert expected <= first_products.keys()
    assert second_products == first_products, {
        name for name in first_products if first_products[name] != second_products.get(name)
    }

    second_pages = pages(root)
    assert second_pages.keys() == first_pages.keys() and len(first_pages) == 7
    # Charts are embedded PNGs (matplotlib writes no date into them): compared too. The
    # dashboard draws its charts in the browser from the data it embeds, compared as well.
    charted = [page for name, page in first_pages.items() if name != "07_dashboard.html"]
    assert all("data:image/png;base64," in page for page in charted)
    for name, page in first_pages.items():
        assert second_pages[name] == page, f"{name}:\n{first_difference(page, second_pages[name])}"
