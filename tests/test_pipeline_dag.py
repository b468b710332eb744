"""rfm_helpers.runs.pipeline: the steps file, helper-module dependencies and step fingerprints."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from rfm_helpers.paths import NOTEBOOKS_DIR
from rfm_helpers.runs import pipeline
from rfm_helpers.runs.pipeline import PipelineError, Step


def notebook(path: Path, *code: str) -> Path:
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("# Title"), *(v4.new_code_cell(c) for c in code)]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A fake helpers package: a imports b, b imports c, d stands alone."""
    pkg = tmp_path / "rfm_helpers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from rfm_helpers import b\n")
    (pkg / "b.py").write_text("import rfm_helpers.c as c\nfrom pathlib import Path\n")
    (pkg / "c.py").write_text("X = 1\n")
    (pkg / "d.py").write_text("Y = 2\n")
    return pkg


def test_helper_modules_are_found_transitively(tmp_path: Path, package: Path) -> None:
    nb = notebook(tmp_path / "n.ipynb", "%matplotlib inline\nfrom rfm_helpers import a\nimport pandas as pd")
    assert [p.name for p in pipeline.helper_modules(nb, package)] == ["__init__.py", "a.py", "b.py", "c.py"]
    nb2 = notebook(tmp_path / "m.ipynb", "from rfm_helpers.d import Y\nfrom rfm_helpers.c import X")
    assert [p.name for p in pipeline.helper_modules(nb2, package)] == ["__init__.py", "c.py", "d.py"]


def fingerprint(step: Step, package: Path, **changes: object) -> str:
    arguments: dict = {
        "parameters": {"rfm": {"n_bins": 5}},
        "inputs": {"input": "abc"},
        "upstream": {"01": {"clean_path": "111"}},
        "environment": {"python": "3.11.7"},
    }
    arguments.update(changes)
    return pipeline.step_fingerprint(step, package_dir=package, **arguments)


def test_fingerprint_changes_exactly_with_what_the_step_depends_on(tmp_path: Path, package: Path) -> None:
    nb = notebook(tmp_path / "02.ipynb", "from rfm_helpers import a")
    step = Step("02", nb, needs=("01",), writes=())
    base = fingerprint(step, package)
    assert fingerprint(step, package) == base
    nb.touch()
    (package / "c.py").touch()
    assert fingerprint(step, package) == base, "timestamps alone change nothing"

    (package / "d.py").write_text("Y = 3\n")  # a module the notebook does not import
    assert fingerprint(step, package) == base

    assert fingerprint(step, package, parameters={"rfm": {"n_bins": 4}}) != base
    assert fingerprint(step, package, inputs={"input": "abd"}) != base
    assert fingerprint(step, package, upstream={"01": {"clean_path": "112"}}) != base
    assert fingerprint(step, package, environment={"python": "3.11.8"}) != base
    (package / "c.py").write_text("X = 2\n")  # imported through a → b → c
    assert fingerprint(step, package) != base


def test_unneeded_upstream_products_do_not_matter(tmp_path: Path, package: Path) -> None:
    step = Step("02", notebook(tmp_path / "02.ipynb", "x = 1"), needs=(), writes=())
    assert fingerprint(step, package) == fingerprint(step, package, upstream={"01": {"clean_path": "999"}})


def test_stamp_is_current_only_for_same_fingerprint_and_products() -> None:
    stamp = {"fingerprint": "f", "products": {"clean_path": "h"}}
    assert pipeline.is_current(stamp, "f", {"clean_path": "h"})
    assert not pipeline.is_current(stamp, "g", {"clean_path": "h"})
    assert not pipeline.is_current(stamp, "f", {"clean_path": "edited"})
    assert not pipeline.is_current({"fingerprint": "f", "products": {"p": "missing"}}, "f", {"p": "missing"})
    assert not pipeline.is_current(None, "f", {})


def test_folder_content_hash_follows_file_contents(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("1\n")
    first = pipeline.content_hash(folder)
    (folder / ".a.csv.tmp").write_text("half-written")  # temporary files are not products
    assert pipeline.content_hash(folder) == first
    (folder / "a.csv").write_text("2\n")
    assert pipeline.content_hash(folder) != first
    assert pipeline.content_hash(tmp_path / "nothing") == "missing"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "transactions:\n  01_a: {needs: [02_b]}\n  02_b: {}\n",
            "needs ['02_b'], which are not earlier steps",
        ),
        ("transactions:\n  01_a: {after: []}\n", "unknown keys ['after']"),
        ("transactions:\n  09_missing: {}\n", "has no notebook"),
        ("other:\n  01_a: {}\n", "has no pipeline 'transactions' (it has: other)"),
    ],
)
def test_inconsistent_pipeline_files_are_rejected(tmp_path: Path, yaml_text: str, message: str) -> None:
    notebook(tmp_path / "01_a.ipynb", "x = 1")
    notebook(tmp_path / "02_b.ipynb", "x = 2")
    (tmp_path / "pipeline.yaml").write_text(yaml_text)
    with pytest.raises(PipelineError, match=re.escape(message)):
        pipeline.load_pipeline(tmp_path, "transactions")


def test_shipped_pipeline_writes_real_config_paths() -> None:
    from rfm_helpers.config import load_config

    cfg = load_config("params/test_sample.yaml")
    steps = pipeline.load_pipeline(NOTEBOOKS_DIR, "transactions")  # their order: test_notebooks.py
    assert steps
    for step in steps:
        assert all(isinstance(p, Path) for p in pipeline.product_paths(cfg, step).values())


def test_descendants_follow_needs_transitively(tmp_path: Path) -> None:
    nb = notebook(tmp_path / "n.ipynb", "x = 1")
    steps = [
        Step("01", nb, (), ()),
        Step("02", nb, ("01",), ()),
        Step("03", nb, ("01",), ()),
        Step("04", nb, ("03",), ()),
        Step("05", nb, ("01", "04"), ()),
    ]
    assert pipeline.descendants(steps) == {
        "01": {"02", "03", "04", "05"},
        "02": set(),
        "03": {"04", "05"},
        "04": {"05"},
        "05": set(),
    }


def test_imports_over_several_lines_and_inside_functions_count(tmp_path: Path, package: Path) -> None:
    (package / "e.py").write_text(
        '"""Docs."""\n\n\ndef later():\n'
        "    from rfm_helpers import (\n        c,  # lazy\n        d as dee,\n    )\n"
        "    import rfm_helpers.a, os\n"
    )
    nb = notebook(tmp_path / "n.ipynb", "from rfm_helpers import e")
    assert [p.name for p in pipeline.helper_modules(nb, package)] == [
        "__init__.py",
        "a.py",
        "b.py",
        "c.py",
        "d.py",
        "e.py",
    ]
