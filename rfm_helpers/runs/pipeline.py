"""The pipeline's steps and when each must rerun.

``notebooks/pipeline.yaml`` lists, per pipeline, each step's notebook, the steps whose products
it reads (``needs``) and the files it writes (``writes``, RunConfig path properties). A step's
*fingerprint* is a hash of everything its result depends on:

- its notebook and the ``rfm_helpers`` modules it imports, directly or through other helper
  modules (found by parsing the code, so an unrelated helper edit reruns nothing);
- the run's parameters, the input file and the reference tables;
- the content of the products of the steps it needs (so an upstream rerun that gives the same
  products does not rerun it);
- the pinned environment (Python and package versions).

Everything is hashed by content, never by timestamp: a ``git checkout`` that changes no byte
triggers nothing, and one that changes a file is always seen. A step is skipped when its stamp
(written after its last successful run) records the same fingerprint and its products on disk
still have the recorded hashes.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rfm_helpers.atomic import write_text
from rfm_helpers.provenance import content_hash, sha256_file

PIPELINE_FILE = "pipeline.yaml"
PACKAGE = "rfm_helpers"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAMP_NAME = "stamp.json"


class PipelineError(ValueError):
    """``pipeline.yaml`` is missing or inconsistent; the message names the step and what to fix."""


@dataclass(frozen=True)
class Step:
    """One notebook of a pipeline."""

    name: str
    notebook: Path
    needs: tuple[str, ...]
    writes: tuple[str, ...]


def load_pipeline(notebooks_dir: Path, kind: str) -> list[Step]:
    """The steps of pipeline ``kind`` in run order, checked: notebooks exist, every step
    needs only earlier steps, and ``writes`` are lists of names."""
    path = notebooks_dir / PIPELINE_FILE
    if not path.is_file():
        raise PipelineError(f"{path} not found: it lists the notebooks each pipeline runs")
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if kind not in spec:
        raise PipelineError(f"{path} has no pipeline {kind!r} (it has: {', '.join(spec) or 'none'})")
    steps: list[Step] = []
    for name, entry in (spec[kind] or {}).items():
        entry = entry or {}
        unknown = set(entry) - {"needs", "writes"}
        if unknown:
            raise PipelineError(f"{path}: step {name!r} has unknown keys {sorted(unknown)}")
        notebook = notebooks_dir / f"{name}.ipynb"
        if not notebook.is_file():
            raise PipelineError(f"{path}: step {name!r} has no notebook {notebook}")
        needs = tuple(entry.get("needs") or ())
        earlier = {step.name for step in steps}
        if not set(needs) <= earlier:
            raise PipelineError(
                f"{path}: step {name!r} needs {sorted(set(needs) - earlier)}, which are not earlier steps"
            )
        steps.append(Step(name, notebook, needs, tuple(entry.get("writes") or ())))
    if not steps:
        raise PipelineError(f"{path}: pipeline {kind!r} has no steps")
    return steps


def descendants(steps: Sequence[Step]) -> dict[str, set[str]]:
    """For each step, the steps that need it directly or through others."""
    below: dict[str, set[str]] = {step.name: set() for step in steps}
    for step in reversed(steps):  # needs point to earlier steps only
        for need in step.needs:
            below[need] |= {step.name} | below[step.name]
    return below


def _imported_helpers(source: str) -> set[str]:
    """Names of ``rfm_helpers`` modules imported by Python ``source`` (``plots`` for
    ``from rfm_helpers import plots`` and ``from rfm_helpers.report.plots import x``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics: read its plain-Python lines only
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            inner = node.module.split(".")[1:]
            found.add("/".join(inner))  # a module, or a subpackage (its __init__)
            found.update("/".join([*inner, alias.name]) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(
                "/".join(alias.name.split(".")[1:])
                for alias in node.names
                if alias.name.startswith(PACKAGE + ".")
            )
    return found


def _notebook_code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join(
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in cells
        if cell["cell_type"] == "code"
    )


def helper_modules(notebook: Path, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Source files of the helper modules ``notebook`` depends on, transitively, sorted
    (the package ``__init__`` always: importing any module runs it)."""
    found: set[Path] = set()
    todo = _imported_helpers(_notebook_code(notebook))
    done: set[str] = set()
    while todo:
        name = todo.pop()
        done.add(name)
        module = package_dir / f"{name}.py" if name else package_dir / "__init__.py"
        if not module.is_file():
            module = package_dir / name / "__init__.py"
        if not module.is_file() or module in found:
            continue  # a name that is not a module (e.g. a function)
        found.add(module)
        todo |= _imported_helpers(module.read_text(encoding="utf-8")) - done
    return sorted({package_dir / "__init__.py", *found})


def product_paths(cfg: Any, step: Step) -> dict[str, Path]:
    """The files (or folders) ``step`` writes, resolved for this run's config."""
    paths = {}
    for attr in step.writes:
        value = getattr(cfg, attr, None)
        if not isinstance(value, Path):
            raise PipelineError(f"step {step.name!r} writes {attr!r}, which is not a RunConfig path")
        paths[attr] = value
    return paths


def product_hashes(cfg: Any, step: Step) -> dict[str, str]:
    return {attr: content_hash(path) for attr, path in product_paths(cfg, step).items()}


def step_fingerprint(
    step: Step,
    *,
    parameters: Mapping[str, Any],
    inputs: Mapping[str, str],
    upstream: Mapping[str, Mapping[str, str]],
    environment: Mapping[str, Any],
    package_dir: Path = PACKAGE_DIR,
) -> str:
    """Hash of everything ``step``'s result depends on (see the module docstring).

    ``inputs`` maps input/reference names to content hashes; ``upstream`` maps each needed
    step to its products' hashes.
    """
    parts = {
        "notebook": sha256_file(step.notebook),
        "helpers": {
            str(p.relative_to(package_dir)): sha256_file(p)
            for p in helper_modules(step.notebook, package_dir)
        },
        "parameters": parameters,
        "inputs": dict(inputs),
        "upstream": {name: dict(upstream[name]) for name in step.needs},
        "environment": environment,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def read_stamp(step_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((step_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_stamp(step_dir: Path, stamp: Mapping[str, Any]) -> None:
    write_text(step_dir / STAMP_NAME, json.dumps(stamp, indent=2, sort_keys=True) + "\n")


def is_current(stamp: Mapping[str, Any] | None, fingerprint: str, products: Mapping[str, str]) -> bool:
    """The stamp is for this fingerprint and the step's products are still what it wrote."""
    return (
        stamp is not None
        and stamp.get("fingerprint") == fingerprint
        and stamp.get("products") == dict(products)
        and "missing" not in products.values()
    )
