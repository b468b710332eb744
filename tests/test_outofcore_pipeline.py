"""The whole report on a folder of partitioned parquet files, cleaned out of core in DuckDB
(`engine: duckdb`), through the real runner: every notebook works without loading the
transactions, and the customer export equals the customer table of the same rows read from one
file by the pandas loader (:func:`rfm_helpers.sql.transactions.clean_frame`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from rfm_helpers.config import load_config
from rfm_helpers.data import loading, reference
from rfm_helpers.paths import PROJECT_ROOT, matching_files
from rfm_helpers.runs import runner
from rfm_helpers.sql import transactions
from rfm_helpers.synthetic.transactions import generate

pytestmark = pytest.mark.slow
ROWS = 60_000
RUN = "partitioned"


@pytest.fixture(scope="module")
def partitioned_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    root = tmp_path_factory.mktemp("outofcore_run")
    folder = root / "sales"
    generate(ROWS, folder, seed=7)
    params = yaml.safe_load((PROJECT_ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))
    params |= {"run_name": RUN, "engine": {"engine": "duckdb", "sample_rows": 5_000}}
    params["input"]["path"] = str(folder)
    params["clustering"] |= {"k_max": 5}
    params_path = root / "partitioned.yaml"
    params_path.write_text(yaml.safe_dump(params), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        code = runner.run(params_path)
    return root, params_path, code


def test_every_step_runs_out_of_core(partitioned_run: tuple[Path, Path, int]) -> None:
    root, _, code = partitioned_run
    assert code == 0
    page = (root / "reports" / RUN / "01_cleaning.html").read_text(encoding="utf-8")
    assert f"{ROWS:,} rows, from " in page
    assert (
        "uniform sample of 5,000 rows" in page and "the ledger and every later report count all rows" in page
    )


def test_export_equals_the_customer_table_of_one_file(partitioned_run: tuple[Path, Path, int]) -> None:
    root, params_path, _ = partitioned_run
    cfg = load_config(params_path)
    # The same rows, concatenated in partition order into one file, read by the pandas loader.
    single = root / "sales_in_one_file.parquet"
    pd.concat(pd.read_parquet(f) for f in matching_files(cfg.input.path)).to_parquet(single, index=False)
    raw = loading.load_transactions(cfg.input.model_copy(update={"path": single}))
    result = transactions.clean_frame(
        raw,
        cfg.cleaning,
        cfg.rfm,
        reference.load_non_product_codes(cfg.reference.non_product_codes),
        reference.load_flagged_descriptions(cfg.reference.flagged_descriptions),
        cfg.input.missing_text,
    )
    expected = result.customers.set_index("customer_id").sort_index()
    export = pd.read_csv(
        root / "reports" / RUN / "exports" / "customer_segments.csv", dtype={"customer_id": str}
    )
    got = export.set_index("customer_id").sort_index()
    assert got.index.equals(expected.index)
    for column in ("recency", "frequency"):
        assert (got[column] == expected[column]).all(), column
    pd.testing.assert_series_equal(got["monetary"], expected["monetary"], check_exact=False, rtol=1e-9)
