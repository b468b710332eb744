"""The pipeline's steps and when each must rerun.

``notebooks/pipeline.yaml`` lists, per pipeline, each step's notebook, the steps whose products
it reads (``needs``), the files it writes (``writes``, RunConfig path properties) and the
parameters it reads (``reads``: params sections such as ``cleaning`` or keys such as
``report.currency``). A step's *fingerprint* is a hash of everything its result depends on:

- its notebook and the ``rfm_helpers`` modules it imports, directly or through other helper
  modules (found by parsing the code, so an unrelated helper edit reruns nothing);
- the values of the parameters it reads (so ``clustering.k`` reruns the clustering step and
  what reads its products, never the cleaning), the input file and the reference tables;
- the content of the products of the steps it needs (so an upstream rerun that gives the same
  products does not rerun it);
- the pinned environment (Python and package versions).

Everything is hashed by content, never by timestamp: a ``git checkout`` that changes no byte
triggers nothing, and one that changes a file is always seen. A step is skipped when its stamp
(written after its last successful run) records the same fingerprint and its products on disk
still have the recorded hashes.

``reads`` cannot go stale silently: every kernel records which parameters its notebooks
actually read (:func:`record_parameter_reads`, attribute by attribute, including inside the
helper functions that receive the whole config) and the runner refuses to stamp a step that read
a parameter its ``reads`` do not cover (:func:`undeclared_reads`), naming the step and the key.
The run directory's path properties (``cfg.metrics_path`` …, :data:`LOCATION_PROPERTIES`) are
places, not content: reading them does not count as reading ``run_name``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from rfm_helpers.atomic import write_text
from rfm_helpers.config import RunConfig
from rfm_helpers.provenance import content_hash, sha256_file

PIPELINE_FILE = "pipeline.yaml"
PACKAGE = "rfm_helpers"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAMP_NAME = "stamp.json"
STEP_KEYS = ("needs", "writes", "reads")
"""The keys of a step in ``pipeline.yaml``; ``reads`` is required (``[]`` for none), so that a new
step cannot be added without saying which parameters rerun it."""


class PipelineError(ValueError):
    """``pipeline.yaml`` is missing or inconsistent; the message names the step and what to fix."""


@dataclass(frozen=True)
class Step:
    """One notebook of a pipeline."""

    name: str
    notebook: Path
    needs: tuple[str, ...]
    writes: tuple[str, ...]
    reads: tuple[str, ...] | None = None
    """The parameters the step reads (sections or dotted keys of the params); ``None``, only
    for steps built by hand, means every parameter."""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The params model a field holds (``InputConfig`` for ``InputConfig | None``), or None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def parameter_problem(key: str) -> str | None:
    """Why ``key`` (``cleaning``, ``report.currency``) names no parameter of a params file, or
    None when it does."""
    model: type[BaseModel] | None = RunConfig
    parts = key.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth])
        if model is None:
            return f"{where} is a single value, it has no keys below it"
        field = model.model_fields.get(part)
        if field is None:
            return (
                f"{part!r} is not a parameter of {where or 'a params file'} "
                f"(it has: {', '.join(model.model_fields)})"
            )
        model = _model_of(field.annotation)
    return None


def _step_reads(path: Path, name: str, entry: Mapping[str, Any]) -> tuple[str, ...]:
    reads = entry.get("reads")
    example = "e.g. reads: [input, cleaning, report.currency], or reads: [] if it reads none"
    if reads is None:
        raise PipelineError(
            f"{path}: step {name!r} does not say which parameters it reads: add `reads:` with the "
            f"params sections and keys its notebook and the helpers it calls read ({example}). A step "
            "reruns when one of them changes; the runner stops if the notebook reads any other"
        )
    if not isinstance(reads, list) or not all(isinstance(key, str) for key in reads):
        raise PipelineError(f"{path}: step {name!r}: reads must be a list of parameter names ({example})")
    for key in reads:
        problem = parameter_problem(key)
        if problem:
            raise PipelineError(f"{path}: step {name!r} reads {key!r}, which is not a parameter: {problem}")
    return tuple(reads)


def load_pipeline(notebooks_dir: Path, kind: str) -> list[Step]:
    """The steps of pipeline ``kind`` in run order, checked: notebooks exist, every step
    needs only earlier steps, ``writes`` are lists of names and ``reads`` names parameters."""
    path = notebooks_dir / PIPELINE_FILE
    if not path.is_file():
        raise PipelineError(f"{path} not found: it lists the notebooks each pipeline runs")
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if kind not in spec:
        raise PipelineError(f"{path} has no pipeline {kind!r} (it has: {', '.join(spec) or 'none'})")
    steps: list[Step] = []
    for name, entry in (spec[kind] or {}).items():
        entry = entry or {}
        unknown = set(entry) - set(STEP_KEYS)
        if unknown:
            raise PipelineError(
                f"{path}: step {name!r} has unknown keys {sorted(unknown)} "
                f"(a step has {', '.join(STEP_KEYS)})"
            )
        notebook = notebooks_dir / f"{name}.ipynb"
        if not notebook.is_file():
            raise PipelineError(f"{path}: step {name!r} has no notebook {notebook}")
        needs = tuple(entry.get("needs") or ())
        earlier = {step.name for step in steps}
        if not set(needs) <= earlier:
            raise PipelineError(
                f"{path}: step {name!r} needs {sorted(set(needs) - earlier)}, which are not earlier steps"
            )
        reads = _step_reads(path, name, entry)
        steps.append(Step(name, notebook, needs, tuple(entry.get("writes") or ()), reads))
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


_FROM_IMPORT = re.compile(
    rf"^[ \t]*from[ \t]+{PACKAGE}((?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE
)
_PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#;]*)", re.MULTILINE)


@functools.lru_cache(maxsize=1024)
def _imported_helpers(source: str) -> frozenset[str]:
    """Names of ``rfm_helpers`` modules imported by Python ``source`` (``plots`` for
    ``from rfm_helpers import plots`` and ``from rfm_helpers.report.plots import x``), at any
    indentation (imports inside functions count) and over parenthesised lines.

    Read from the import lines with two regular expressions, not by parsing: a run fingerprints
    every step over the same modules, and parsing them was most of a no-op rerun. A line in a
    docstring that looks like an import only adds a dependency (a rerun too many, never one too
    few). Cached by the source text."""
    found: set[str] = set()
    for module, names in _FROM_IMPORT.findall(source):
        inner = module.split(".")[1:]
        found.add("/".join(inner))  # a module, or a subpackage (its __init__)
        for name in re.sub(r"#[^\n]*", "", names).strip("()").split(","):
            alias = name.split(" as ")[0].strip()
            if alias.isidentifier():
                found.add("/".join([*inner, alias]))
    for names in _PLAIN_IMPORT.findall(source):
        for name in names.split(","):
            dotted = name.split(" as ")[0].strip()
            if dotted.startswith(PACKAGE + "."):
                found.add("/".join(dotted.split(".")[1:]))
    return frozenset(found)


def _notebook_code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join(
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in cells
        if cell["cell_type"] == "code"
    )


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    """The dotted import name of a module file of the package (``.../analysis/backtest.py`` →
    ``rfm_helpers.analysis.backtest``; a package's ``__init__.py`` → the package)."""
    parts = path.relative_to(package_dir).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package_dir.name, *parts))


def helper_modules(notebook: Path, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Source files of the helper modules ``notebook`` depends on, transitively, sorted
    (the package ``__init__`` always: importing any module runs it)."""
    found: set[Path] = set()
    todo = set(_imported_helpers(_notebook_code(notebook)))
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


def parameter_value(parameters: Mapping[str, Any], key: str) -> list[Any]:
    """``[True, value]`` of the dotted ``key`` in the dumped ``parameters``; ``[False, None]``
    when a section on the way is absent (``accounts.timezone`` of a transactions run), so that
    an absent section and a ``null`` value differ."""
    value: Any = parameters
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return [False, None]
        value = value[part]
    return [True, value]


PIPELINE_SECTIONS = ("input", "accounts")
"""Exactly one of them is set, and which one decides the pipeline (``RunConfig.pipeline``): whether
they are set is part of every step's fingerprint, so a step need not declare it."""


def step_parameters(step: Step, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """What of the run's ``parameters`` (``RunConfig.model_dump(mode="json")``) goes into the
    step's fingerprint: the values of the keys it reads (all of them for ``reads=None``), and
    which of :data:`PIPELINE_SECTIONS` is set."""
    if step.reads is None:
        return {"*": [True, dict(parameters)]}
    selected = {f"{key} is set": [parameters.get(key) is not None] for key in PIPELINE_SECTIONS}
    selected.update((key, parameter_value(parameters, key)) for key in sorted(set(step.reads)))
    return selected


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

    ``parameters`` are the run's whole parameters (:func:`step_parameters` keeps those the step
    reads); ``inputs`` maps input/reference names to content hashes; ``upstream`` maps each
    needed step to its products' hashes.
    """
    parts = {
        "notebook": sha256_file(step.notebook),
        "helpers": {
            str(p.relative_to(package_dir)): sha256_file(p)
            for p in helper_modules(step.notebook, package_dir)
        },
        "parameters": step_parameters(step, parameters),
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


# --- which parameters a notebook really reads -------------------------------------------------------

LOCATION_PROPERTIES = frozenset(
    {
        "interim_dir",
        "processed_dir",
        "exports_dir",
        "cache_dir",
        "marts_dir",
        "ledger_path",
        "segment_table_path",
        "metrics_path",
        "customers_path",
        "score_bins_path",
        "clusters_path",
        "outlook_dir",
        "outlook_exports_dir",
        "export_dirs",
        "clustering_input_path",
    }
)
"""RunConfig properties that say where the run's products are (below the output root, in folders
named after ``run_name``): places, not content. What a step reads from them is the product of a
step it needs, hashed into its fingerprint; reading the path itself does not count as reading
``run_name`` (or ``accounts``, which picks one of two tables of the same pipeline)."""

READ_KINDS = ("presence", "value", "whole")
"""How a notebook read a parameter, narrowest first: ``presence`` (whether an optional section
such as ``accounts`` is set), ``value`` (one key's value) or ``whole`` (everything at and below a
key, ``*`` being all parameters: ``model_dump``, ``==``, ``hash``, copies, ``repr``)."""


def _config_models() -> list[type[BaseModel]]:
    """RunConfig and every params model below it."""
    found: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [RunConfig]
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.append(model)
        todo.extend(m for f in model.model_fields.values() if (m := _model_of(f.annotation)) is not None)
    return found


class _ReadRecorder:
    """Appends ``<kind> <key>`` to ``log`` the first time a cell reads a parameter."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.fields = {m: frozenset(m.model_fields) for m in _config_models()}
        self.optional = {
            m: frozenset(
                name
                for name, f in m.model_fields.items()
                if _model_of(f.annotation) is not None and type(None) in typing.get_args(f.annotation)
            )
            for m in self.fields
        }
        self.places: dict[int, tuple[BaseModel, set[str]]] = {}
        """Sections reached from a RunConfig, by id: the object (kept alive, so that its id is
        never reused) and its keys."""
        self.seen: set[tuple[str, str]] = set()
        self.local = threading.local()

    def keys_of(self, model: BaseModel) -> Iterable[str]:
        if issubclass(type(model), RunConfig):  # not isinstance: it reads model.__class__
            return ("",)
        place = self.places.get(id(model))
        return place[1] if place is not None and place[0] is model else ()

    def reach(self, model: BaseModel, key: str) -> None:
        place = self.places.setdefault(id(model), (model, set()))
        place[1].add(key)

    def record(self, kind: str, key: str) -> None:
        if (kind, key) in self.seen:
            return
        self.seen.add((kind, key))
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(f"{kind} {key or '*'}\n")

    def new_cell(self, *_info: object) -> None:
        """Each cell records its reads anew: a log read from an offset misses nothing."""
        self.seen.clear()


_RECORDER: _ReadRecorder | None = None


def _recording_getattribute(self: BaseModel, name: str) -> Any:
    recorder = _RECORDER
    if recorder is None or getattr(recorder.local, "paused", False):
        return object.__getattribute__(self, name)
    keys = recorder.keys_of(self)
    if not keys:  # a model not reached from a RunConfig (e.g. being validated)
        return object.__getattribute__(self, name)
    cls = type(self)
    if name in recorder.fields.get(cls, ()):
        value = object.__getattribute__(self, name)
        optional = name in recorder.optional[cls]
        for key in keys:
            full = f"{key}.{name}" if key else name
            if isinstance(value, BaseModel):
                recorder.reach(value, full)
            if optional:
                recorder.record("presence", full)
            elif not isinstance(value, BaseModel):
                recorder.record("value", full)
        return value
    if name == "__dict__":  # every value at once: model_dump, ==, hash, repr, copy, pickle, vars
        for key in keys:
            recorder.record("whole", key)
    elif name in LOCATION_PROPERTIES and issubclass(cls, RunConfig):
        recorder.local.paused = True
        try:
            return object.__getattribute__(self, name)
        finally:
            recorder.local.paused = False
    return object.__getattribute__(self, name)


def record_parameter_reads(log: str | Path) -> Callable[[], None]:
    """From now on, in this process, append to ``log`` every parameter read from a RunConfig (the
    runner installs this in each kernel; the notebooks and helpers are unchanged): ``<kind>
    <key>`` lines, kinds as in :data:`READ_KINDS`. In IPython, each cell records its reads anew.
    Returns a function that stops the recording."""
    global _RECORDER
    if _RECORDER is not None:
        raise RuntimeError(f"parameter reads are already recorded to {_RECORDER.log}")
    recorder = _ReadRecorder(Path(log))
    recorder.log.parent.mkdir(parents=True, exist_ok=True)
    recorder.log.write_text("# parameters read: <kind> <key>\n", encoding="utf-8")
    shell = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # plain Python: reads are recorded once per process
        pass
    if shell is not None:
        shell.events.register("pre_run_cell", recorder.new_cell)
    patched = [m for m in recorder.fields if "__getattribute__" not in vars(m)]
    for model in patched:
        model.__getattribute__ = _recording_getattribute  # type: ignore[method-assign]
    _RECORDER = recorder

    def stop() -> None:
        global _RECORDER
        for model in patched:
            del model.__getattribute__
        if shell is not None:
            shell.events.unregister("pre_run_cell", recorder.new_cell)
        _RECORDER = None

    return stop


def read_parameter_log(log: Path, offset: int = 0) -> dict[str, str]:
    """The parameters recorded in ``log`` from byte ``offset`` on: key → the broadest kind."""
    with log.open("rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode("utf-8").splitlines()
    reads: dict[str, str] = {}
    for line in lines:
        kind, _, key = line.partition(" ")
        if kind in READ_KINDS and READ_KINDS.index(kind) >= READ_KINDS.index(reads.get(key, kind)):
            reads[key] = kind
    return dict(sorted(reads.items()))


def undeclared_reads(reads: Sequence[str] | None, recorded: Mapping[str, str]) -> list[str]:
    """The recorded reads (``key → kind``, :func:`read_parameter_log`) that ``reads`` does not
    cover, described. A key is covered by itself or a section above it; whether an optional
    section is set, also by any key below it (its value then says the section is absent), and for
    :data:`PIPELINE_SECTIONS` always."""
    if reads is None:
        return []
    declared = set(reads)

    def at_or_above(key: str) -> bool:
        return any(key == d or key.startswith(d + ".") for d in declared)

    missing = []
    for key, kind in sorted(recorded.items()):
        if key == "*":
            missing.append("every parameter (the whole config was dumped, compared, copied or printed)")
        elif kind == "presence":
            below = any(d.startswith(key + ".") for d in declared)
            if not (key in PIPELINE_SECTIONS or at_or_above(key) or below):
                missing.append(f"{key} (whether it is set)")
        elif not at_or_above(key):
            missing.append(key if kind == "value" else f"{key} (all of it)")
    return missing
