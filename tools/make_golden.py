"""Regenerate the nbval reference notebooks in tests/nbval (``make golden``).

Runs each pipeline on its test params (params/test_*.yaml in GOLDEN_RUNS) in a temporary folder and
keeps, from each executed notebook, only the outputs of cells tagged
``nbval-check-output``: those are the key results that ``pytest --nbval-lax tests/nbval``
compares, so a silent change in a result fails the tests. Other outputs (charts, tables
for people) are dropped to keep the files small and their diffs readable.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

from rfm_helpers.paths import PROJECT_ROOT

GOLDEN_RUNS = ("test_sample", "test_omnichannel")
"""One params file per pipeline (``params/<name>.yaml``); copies go to tests/nbval/<name>/."""
GOLDEN_DIR = PROJECT_ROOT / "tests" / "nbval"
CHECK_TAG = "nbval-check-output"


def strip_to_golden(nb: nbformat.NotebookNode, params: str) -> nbformat.NotebookNode:
    """Keep only checked outputs and a portable params cell; drop run metadata."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            # papermill writes an absolute path; the tests run from any clone.
            cell.source = f'params_file = "{params}"'
            cell.id = "injected-parameters"  # papermill draws a random id each run
        if cell.cell_type == "code" and CHECK_TAG not in tags:
            # nbval treats a checked cell without an execution count as never run, so the
            # (deterministic) counts papermill wrote stay.
            cell.outputs = []
    return nb


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RFM_OUTPUT_ROOT"] = tmp
        from rfm_helpers.runs import runner

        for old in GOLDEN_DIR.rglob("*.ipynb"):
            old.unlink()
        for run_name in GOLDEN_RUNS:
            params = f"params/{run_name}.yaml"
            code = runner.run(params, force=True)
            if code != 0:
                return code
            target = GOLDEN_DIR / run_name
            target.mkdir(parents=True, exist_ok=True)
            for path in sorted((Path(tmp) / "build" / run_name / "steps").glob("*/executed.ipynb")):
                nb = strip_to_golden(nbformat.read(path, as_version=4), params)
                golden = target / f"{path.parent.name}.ipynb"
                nbformat.write(nb, golden)
                print(f"wrote {golden.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
