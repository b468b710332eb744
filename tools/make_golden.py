"""Regenerate the nbval reference notebooks in tests/nbval (``make golden``).

Runs the pipeline on the test sample (params/test_sample.yaml) in a temporary folder and
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

PARAMS = "params/test_sample.yaml"
GOLDEN_DIR = PROJECT_ROOT / "tests" / "nbval"
CHECK_TAG = "nbval-check-output"


def strip_to_golden(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only checked outputs and a portable params cell; drop run metadata."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            # papermill writes an absolute path; the tests run from any clone.
            cell.source = f'params_file = "{PARAMS}"'
            cell.id = "injected-parameters"  # papermill draws a random id each run
        if cell.cell_type == "code" and CHECK_TAG not in tags:
            # nbval treats a checked cell without an execution count as never run, so the
            # (deterministic) counts papermill wrote stay.
            cell.outputs = []
    return nb


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RFM_OUTPUT_ROOT"] = tmp
        from rfm_helpers import runner

        code = runner.run(PARAMS, force=True)
        if code != 0:
            return code
        executed = sorted((Path(tmp) / "build" / "test_sample" / "executed").glob("*.ipynb"))
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN_DIR.glob("*.ipynb"):
            old.unlink()
        for path in executed:
            nb = strip_to_golden(nbformat.read(path, as_version=4))
            nbformat.write(nb, GOLDEN_DIR / path.name)
            print(f"wrote {(GOLDEN_DIR / path.name).relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
