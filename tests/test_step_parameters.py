"""A step reruns only when the parameters it reads change (``reads`` in notebooks/pipeline.yaml).

Fast unit tests of the fingerprint's selection, of ``reads`` in pipeline.yaml, and of the recorder
that notes, in each kernel, which parameters a notebook really reads (so that ``reads`` cannot go
stale); then three real runs of the test sample sharing one output root: cold, ``clustering.k``
changed, a cleaning rule changed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from rfm_helpers.config import RunConfig, load_config
from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT, output_root
from rfm_helpers.runs import pipeline, runner
from rfm_helpers.runs.pipeline import PipelineError, Step

# --- which parameters go into a step's fingerprint ---------------------------------------------------


def parameters(**changes: object) -> dict:
    """The test sample's parameters as the runner dumps them, with dotted ``changes``
    (``{"clustering.k": 3}``; ``None`` for a section removes it)."""
    dumped = copy.deepcopy(load_config("params/test_sample.yaml").model_dump(mode="json"))
    for key, value in changes.items():
        *path, last = key.split(".")
        section = dumped
        for part in path:
            section = section[part]
        section[last] = value
    return dumped


def fingerprint(step: Step, params: dict) -> str:
    return pipeline.step_fingerprint(
        step, parameters=params, inputs={"input": "abc"}, upstream={}, environment={"python": "3.11"}
    )


def step_reading(*reads: str) -> Step:
    return Step("04_clustering", NOTEBOOKS_DIR / "04_clustering.ipynb", (), (), tuple(reads))


def test_fingerprint_follows_only_the_parameters_the_step_reads() -> None:
    step = step_reading("clustering", "report.currency")
    base = fingerprint(step, parameters())
    assert fingerprint(step, parameters(**{"clustering.k": 3})) != base
    assert fingerprint(step, parameters(**{"report.currency": "EUR"})) != base
    for unread in (
        {"run_name": "copy"},
        {"description": "another"},
        {"report.title": "Another title"},
        {"cleaning.duplicates": "keep"},
        {"rfm.outliers": "trim"},
    ):
        assert fingerprint(step, parameters(**unread)) == base, unread


def test_absent_section_and_null_value_differ() -> None:
    assert pipeline.parameter_value({"accounts": None}, "accounts.timezone") == [False, None]
    assert pipeline.parameter_value({"accounts": {"timezone": None}}, "accounts.timezone") == [True, None]
    assert pipeline.parameter_value({"rfm": {"n_bins": 5}}, "rfm") == [True, {"n_bins": 5}]


def test_which_pipeline_runs_is_in_every_fingerprint() -> None:
    step = step_reading("report.currency")
    accounts = parameters(input=None, accounts={"engine": "synthetic"})
    assert fingerprint(step, accounts) != fingerprint(step, parameters())


def test_a_step_built_without_reads_depends_on_every_parameter() -> None:
    step = Step("04_clustering", NOTEBOOKS_DIR / "04_clustering.ipynb", (), ())
    assert fingerprint(step, parameters(run_name="copy")) != fingerprint(step, parameters())


@pytest.mark.parametrize(
    ("changes", "rerun"),
    [
        ({"clustering.k": 3}, {"04_clustering"}),  # 05 and 06 rerun only if the clusters change
        ({"clustering.k_max": 8, "clustering.elbow_sample": 5_000}, {"04_clustering"}),
        ({"clustering.log_transform": False}, {"04_clustering", "06_outlook"}),
        ({"cleaning.duplicates": "keep"}, {"01_cleaning"}),  # 02 reruns only if the marts change
        ({"report.title": "Another title"}, {"07_dashboard"}),
        ({"report.currency": "EUR"}, "all"),
        ({"run_name": "copy", "description": "a copy"}, set()),
    ],
)
def test_shipped_steps_whose_parameters_change(changes: dict, rerun: set[str] | str) -> None:
    """Which steps of the shipped transactions pipeline see a change of their parameters (their
    dependents then rerun when their products change)."""
    steps = pipeline.load_pipeline(NOTEBOOKS_DIR, "transactions")
    before, after = parameters(), parameters(**changes)
    changed = {
        s.name for s in steps if pipeline.step_parameters(s, before) != pipeline.step_parameters(s, after)
    }
    assert changed == ({s.name for s in steps} if rerun == "all" else rerun)


# --- reads in pipeline.yaml ------------------------------------------------------------------------------


def write_steps(folder: Path, step_yaml: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, folder / "01_a.ipynb")
    (folder / "pipeline.yaml").write_text(f"accounts:\n  01_a: {step_yaml}\n")
    return folder


@pytest.mark.parametrize(
    ("step_yaml", "message"),
    [
        ("{needs: [], writes: []}", "step '01_a' does not say which parameters it reads: add `reads:`"),
        ("{needs: [], writes: [], reads: }", "step '01_a' does not say which parameters it reads"),
        ("{needs: [], writes: [], reads: report}", "step '01_a': reads must be a list of parameter names"),
        (
            "{needs: [], writes: [], reads: [clusters]}",
            "step '01_a' reads 'clusters', which is not a parameter: 'clusters' is not a parameter of a "
            "params file (it has: run_name, description, input, accounts",
        ),
        (
            "{needs: [], writes: [], reads: [report.titel]}",
            "step '01_a' reads 'report.titel', which is not a parameter: 'titel' is not a parameter of "
            "report (it has: title, currency, top_n, recent_days)",
        ),
        (
            "{needs: [], writes: [], reads: [report.title.text]}",
            "reads 'report.title.text', which is not a parameter: report.title is a single value",
        ),
        (
            "{needs: [], writes: [], read: []}",
            "step '01_a' has unknown keys ['read'] (a step has needs, writes, reads)",
        ),
    ],
)
def test_missing_or_unknown_reads_name_the_step(tmp_path: Path, step_yaml: str, message: str) -> None:
    with pytest.raises(PipelineError, match=re.escape(message)):
        pipeline.load_pipeline(write_steps(tmp_path, step_yaml), "accounts")


def test_reads_may_be_empty_or_name_keys_below_optional_sections(tmp_path: Path) -> None:
    folder = write_steps(tmp_path, "{needs: [], writes: [], reads: []}")
    assert pipeline.load_pipeline(folder, "accounts")[0].reads == ()
    write_steps(tmp_path, "{needs: [], writes: [], reads: [accounts.synthetic.seed, input.columns.amount]}")
    assert pipeline.load_pipeline(folder, "accounts")[0].reads == (
        "accounts.synthetic.seed",
        "input.columns.amount",
    )


def test_every_shipped_step_declares_its_reads() -> None:
    spec = yaml.safe_load((NOTEBOOKS_DIR / pipeline.PIPELINE_FILE).read_text(encoding="utf-8"))
    for kind in spec:
        for step in pipeline.load_pipeline(NOTEBOOKS_DIR, kind):
            assert step.reads is not None, (kind, step.name)
            assert not any(key.startswith("run_name") for key in step.reads), "paths are not content"


# --- the recorder: which parameters a notebook really reads ---------------------------------------------

Reads = Callable[[], dict[str, str]]


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[RunConfig, Reads]]:
    """A config whose reads are recorded, and a function returning the reads since its last call."""
    log = tmp_path / "reads.log"
    stop = pipeline.record_parameter_reads(log)
    offset = 0

    def reads() -> dict[str, str]:
        nonlocal offset
        found = pipeline.read_parameter_log(log, offset)
        offset = log.stat().st_size
        pipeline._RECORDER.new_cell()  # what IPython does before each cell
        return found

    try:
        yield load_config("params/test_sample.yaml"), reads
    finally:
        stop()


def test_recorder_notes_keys_sections_and_whole_reads(recorded: tuple[RunConfig, Reads]) -> None:
    cfg, reads = recorded
    assert reads() == {}, "loading the params reads nothing"
    assert (cfg.clustering.k, reads()) == (4, {"clustering.k": "value"})
    assert cfg.rfm.frequency_unit == "orders"  # a property reads the field behind it
    assert reads() == {"rfm.frequency": "value"}
    cfg.rfm.model_copy(update={"snapshot_date": None})
    assert reads() == {"rfm": "whole"}
    str(cfg.report)
    assert reads() == {"report": "whole"}
    assert cfg.accounts is None and reads() == {"accounts": "presence"}
    cfg.model_dump()
    assert reads()["*"] == "whole"
    assert pipeline.undeclared_reads(["rfm", "report", "clustering"], {"*": "whole"}) == [
        "every parameter (the whole config was dumped, compared, copied or printed)"
    ]


def test_recorder_sees_inside_helpers_given_the_whole_config(recorded: tuple[RunConfig, Reads]) -> None:
    from rfm_helpers.data import reference

    cfg, reads = recorded
    reference.segment_table_source(cfg)
    assert {"input.path", "input.format", "reference.segments"} <= set(reads())


def test_paths_of_the_run_are_not_reads_of_run_name(recorded: tuple[RunConfig, Reads]) -> None:
    cfg, reads = recorded
    for name in sorted(pipeline.LOCATION_PROPERTIES):
        getattr(cfg, name)
    assert reads() == {}
    assert cfg.run_name == "test_sample" and reads() == {"run_name": "value"}


def test_recording_stops(tmp_path: Path) -> None:
    log = tmp_path / "reads.log"
    stop = pipeline.record_parameter_reads(log)
    with pytest.raises(RuntimeError, match="already recorded"):
        pipeline.record_parameter_reads(tmp_path / "other.log")
    stop()
    assert "__getattribute__" not in vars(RunConfig)
    assert load_config("params/test_sample.yaml").clustering.k == 4
    assert pipeline.read_parameter_log(log) == {}


def test_location_properties_are_exactly_the_paths_below_the_output_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every RunConfig property giving a path below the output root is a location (else reading
    it would count as reading run_name), and nothing else is."""
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    for params in ("params/test_sample.yaml", "params/test_omnichannel.yaml"):
        cfg = load_config(params)
        below = set()
        for name, attr in vars(RunConfig).items():
            if not isinstance(attr, property):
                continue
            try:
                value = getattr(cfg, name)
            except AttributeError:  # input_path of an account run
                continue
            values = value if isinstance(value, list) else [value]
            if values and all(isinstance(v, Path) and v.is_relative_to(output_root()) for v in values):
                below.add(name)
        assert below == pipeline.LOCATION_PROPERTIES, params


def test_undeclared_reads_cover_keys_below_declared_sections() -> None:
    recorded = {
        "accounts": "presence",  # which pipeline runs: never needs declaring
        "accounts.synthetic": "presence",
        "clustering.k": "value",
        "report": "whole",
        "rfm.frequency": "value",
    }
    assert (
        pipeline.undeclared_reads(
            ["clustering", "report", "rfm.frequency", "accounts.synthetic.seed"], recorded
        )
        == []
    )
    assert pipeline.undeclared_reads(["clustering.features", "report.title"], recorded) == [
        "accounts.synthetic (whether it is set)",
        "clustering.k",
        "report (all of it)",
        "rfm.frequency",
    ]
    assert pipeline.undeclared_reads(None, recorded) == []


def test_notebooks_read_parameters_only_through_load_config() -> None:
    """The params file reaches a notebook's code only as ``load_config(params_file)``, so every
    parameter it reads goes through a RunConfig, which the kernel records."""
    for notebook in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        code = pipeline._notebook_code(notebook)
        uses = re.findall(r".*\bparams_file\b.*", code)
        for line in uses:
            assert re.fullmatch(r'\s*(params_file = ".*"|.*load_config\(params_file\).*)', line), (
                notebook.name,
                line,
            )


# --- real runs: clustering.k, then a cleaning rule -----------------------------------------------------


@dataclass
class Run:
    exit_code: int
    output: str


def step_lines(output: str) -> dict[str, str]:
    """Each step's last status: ``reused`` or ``ran``."""
    status = {}
    for name, message in re.findall(r"^\[\d+/\d+\] (\S+): (.*)$", output, flags=re.M):
        if message.startswith("up to date, reused"):
            status[name] = "reused"
        elif message.startswith("done in"):
            status[name] = "ran"
    return status


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Run]]]:
    """The test sample run three times into one output root: as shipped, with clustering.k 3,
    then also with postage and fees kept (a cleaning rule)."""
    root = tmp_path_factory.mktemp("step_parameters")
    base = yaml.safe_load((PROJECT_ROOT / "params" / "test_sample.yaml").read_text(encoding="utf-8"))
    variants = {
        "shipped": base,
        "k3": {**base, "clustering": {**base["clustering"], "k": 3}},
        "cleaning": {
            **base,
            "clustering": {**base["clustering"], "k": 3},
            "cleaning": {"drop_non_product_codes": False},
        },
    }
    results = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        for name, params in variants.items():
            path = root / f"{name}.yaml"
            path.write_text(yaml.safe_dump(params), encoding="utf-8")
            capture = root / f"{name}.out"
            with capture.open("w") as out, mp.context() as redirect:
                redirect.setattr("sys.stdout", out)
                code = runner.run(path)
            results[name] = Run(code, capture.read_text())
    yield root, results


def test_cold_run_records_what_each_step_read(runs: tuple[Path, dict[str, Run]]) -> None:
    root, results = runs
    assert results["shipped"].exit_code == 0, results["shipped"].output
    steps = pipeline.load_pipeline(NOTEBOOKS_DIR, "transactions")
    assert step_lines(results["shipped"].output) == {s.name: "ran" for s in steps}
    stamps = {
        s.name: json.loads((root / "build" / "test_sample" / "steps" / s.name / "stamp.json").read_text())
        for s in steps
    }
    assert "cleaning.duplicates" in stamps["01_cleaning"]["parameters_read"]
    assert "clustering.k" in stamps["04_clustering"]["parameters_read"]
    for step in steps:  # the run succeeded, so every read was declared; and none is run_name
        assert pipeline.undeclared_reads(step.reads, stamps[step.name]["parameters_read"]) == []
        assert "run_name" not in stamps[step.name]["parameters_read"], step.name


def test_clustering_k_reruns_clustering_and_what_reads_its_products(
    runs: tuple[Path, dict[str, Run]],
) -> None:
    _root, results = runs
    assert results["k3"].exit_code == 0, results["k3"].output
    steps = pipeline.load_pipeline(NOTEBOOKS_DIR, "transactions")
    below = pipeline.descendants(steps)
    reading = {s.name for s in steps if {"clustering", "clustering.k"} & set(s.reads or ())}
    downstream = reading | {name for step in reading for name in below[step]}
    assert {"04_clustering", "05_insights", "07_dashboard"} <= downstream
    assert step_lines(results["k3"].output) == {
        s.name: "ran" if s.name in downstream else "reused" for s in steps
    }
    assert {"01_cleaning", "02_eda", "03_rfm_scoring"}.isdisjoint(downstream)
    assert f"{len(downstream)} of {len(steps)} steps run" in results["k3"].output


def test_a_cleaning_rule_reruns_every_step(runs: tuple[Path, dict[str, Run]]) -> None:
    root, results = runs
    assert results["cleaning"].exit_code == 0, results["cleaning"].output
    steps = pipeline.load_pipeline(NOTEBOOKS_DIR, "transactions")
    assert step_lines(results["cleaning"].output) == {s.name: "ran" for s in steps}
    manifest = json.loads((root / "reports" / "test_sample" / "manifest.json").read_text())
    assert manifest["parameters"]["cleaning"]["drop_non_product_codes"] is False
    assert manifest["parameters"]["clustering"]["k"] == 3
