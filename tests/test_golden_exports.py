"""The customer exports of four real runs are identical to exports recorded before the
transactions path was moved to one SQL implementation (issue 11): the same lines, and the same
sort keys line by line. Money sums are now exact (DECIMAL) where pandas added floats, so two
customers whose money is equal to the cent may have swapped places (ties are now broken by
customer id); nothing else may change.

The recorded files are ``tests/data/golden_exports/<run>/<file>.csv.gz``, written by the same
runs with ``RFM_RECORD_GOLDEN=1`` (do that only when a change of results is intended, and say
why in the commit). Runs: the default params, the first source document's method (seed),
Online Retail II (2009-2010, the default method with that file's column names; skipped when
``../shared`` is not beside the project) and the omnichannel accounts.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from shared_data import ONLINE_RETAIL_II, ONLINE_RETAIL_II_COLUMNS

from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.runs import runner

pytestmark = pytest.mark.slow

GOLDEN = PROJECT_ROOT / "tests" / "data" / "golden_exports"
RECORD = os.environ.get("RFM_RECORD_GOLDEN") == "1"
EXPORTS = {
    "online_retail": ("customer_segments.csv",),
    "seed_superstore": ("customer_segments.csv",),
    "online_retail_ii": ("customer_segments.csv",),
    "omnichannel": ("account_clusters.csv",),
}
SORT_KEYS = {
    "customer_segments.csv": ["group", "segment", "monetary"],  # insights.customer_export
    "account_clusters.csv": ["cluster", "monetary"],  # insights.account_export
}


def _frame(content: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)


def _params_file(run: str, folder: Path) -> Path:
    if run != "online_retail_ii":
        return PROJECT_ROOT / "params" / ("default.yaml" if run == "online_retail" else f"{run}.yaml")
    params = yaml.safe_load((PROJECT_ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))
    params["run_name"] = run
    params["input"] = {
        "path": str(ONLINE_RETAIL_II),
        "columns": ONLINE_RETAIL_II_COLUMNS,
    }
    params["rfm"]["snapshot_date"] = "2010-12-10"  # the day after the file's last invoice
    path = folder / f"{run}.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=sorted(EXPORTS))
def published(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The exports folder of one run, executed below a temporary output root."""
    run: str = request.param
    if run == "online_retail_ii" and not ONLINE_RETAIL_II.is_file():
        pytest.skip(f"{ONLINE_RETAIL_II} is not beside the project")
    root = tmp_path_factory.mktemp(f"golden_{run}")
    saved = os.environ.get("RFM_OUTPUT_ROOT")
    os.environ["RFM_OUTPUT_ROOT"] = str(root)
    try:
        assert runner.run(_params_file(run, root)) == 0
    finally:
        if saved is None:
            del os.environ["RFM_OUTPUT_ROOT"]
        else:
            os.environ["RFM_OUTPUT_ROOT"] = saved
    return run, root / "reports" / run / "exports"


def test_customer_exports_identical_to_recorded(published: tuple[str, Path]) -> None:
    run, exports = published
    for name in EXPORTS[run]:
        produced = (exports / name).read_bytes()
        golden = GOLDEN / run / f"{name}.gz"
        if RECORD:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(gzip.compress(produced, mtime=0))
            continue
        expected = gzip.decompress(golden.read_bytes())
        if produced == expected:
            continue
        now, before = _frame(produced), _frame(expected)
        keys = SORT_KEYS[name]
        assert now[keys].equals(before[keys]), f"{run}/{name}: the sort keys differ line by line"
        if sorted(produced.splitlines()) != sorted(expected.splitlines()):
            lines, recorded = produced.decode().splitlines(), expected.decode().splitlines()
            differ = [i for i, (a, b) in enumerate(zip(lines, recorded, strict=False)) if a != b]
            first = differ[0] if differ else min(len(lines), len(recorded))
            pytest.fail(
                f"{run}/{name} differs from the recorded export: {len(lines)} vs {len(recorded)} "
                f"lines, {len(differ)} lines differ; first at line {first + 1}:\n"
                f"  now:      {lines[first] if first < len(lines) else '(none)'}\n"
                f"  recorded: {recorded[first] if first < len(recorded) else '(none)'}"
            )
