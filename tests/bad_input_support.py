"""Shared support of the bad-input catalogue (``tests/test_bad_input*.py``).

Every export an analyst may feed the tool goes through the real entry
point (``rfm_helpers.runs.runner``) and the real notebooks, writing below a temporary
``RFM_OUTPUT_ROOT``.

Every failing case asserts a non-zero exit, a message that names the file, sheet, column, row
or parameter and says what to do, that the input file is byte-identical afterwards, and that
the good report published earlier by the module's baseline run is untouched. The inputs are a
few dozen rows written here with pandas; most cases fail in the first notebook, so each costs
one kernel start.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.runs import runner

RUN = "bad_input"
"""Run name of the baseline and of every failing case, so each failure meets a published report."""
SHIPPED_SEGMENTS = PROJECT_ROOT / "data" / "reference" / "rfm_segments.csv"
FAST_CLUSTERING = {"k": 2, "k_max": 3, "silhouette_sample": 100}
TRANSACTIONS_SHEET = "Transactions"


# --- inputs --------------------------------------------------------------------------------


def transactions(customers: int = 12, orders: Callable[[int], int] = lambda c: 1 + c % 4) -> pd.DataFrame:
    """A small export in the UCI Online Retail layout: two lines per order, ``orders(c)`` orders
    for customer c, dates spread over 2011, three countries."""
    rows = []
    for c in range(customers):
        for order in range(orders(c)):
            day = pd.Timestamp("2011-01-03 09:00") + pd.Timedelta(days=17 * c + 29 * order)
            for line in range(2):
                rows.append(
                    {
                        "InvoiceNo": str(540000 + 10 * c + order),
                        "StockCode": f"2{line}000",
                        "Description": f"PRODUCT {line}",
                        "Quantity": 1 + (c + line) % 5,
                        "InvoiceDate": day,
                        "UnitPrice": 1.25 * (1 + c % 3 + line),
                        "CustomerID": str(12000 + c),
                        "Country": ("United Kingdom", "France", "Germany")[c % 3],
                    }
                )
    return pd.DataFrame(rows)


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    frame.to_csv(path, index=False, encoding=encoding, date_format="%Y-%m-%d %H:%M")
    return path


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def segment_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """The wide segment table in the first source document's sheet layout."""
    return table.rename(columns={"segment": "Segment", "rfm_codes": "RFM Score"})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def page_text(path: Path) -> str:
    """An HTML report with entities decoded, to search for the sentences it shows."""
    return html.unescape(path.read_text(encoding="utf-8"))


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


# --- running -------------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        return self.out + self.err


def run_runner(root: Path, params: Path, **kwargs: object) -> Outcome:
    """``runner.run(params, force=True)`` with ``RFM_OUTPUT_ROOT=root``, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        exit_code = runner.run(params, force=True, **kwargs)
    return Outcome(exit_code, out.getvalue(), err.getvalue())


def write_params(folder: Path, input_file: Path, run_name: str = RUN, **sections: dict) -> Path:
    """A params file for ``input_file`` with fast clustering; ``sections`` are merged in."""
    params: dict = {"run_name": run_name, "input": {"path": str(input_file)}, "clustering": FAST_CLUSTERING}
    for name, values in sections.items():
        params[name] = {**params.get(name, {}), **values}
    path = folder / f"{run_name}.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Baseline:
    root: Path
    outcome: Outcome

    @property
    def published(self) -> Path:
        return self.root / "reports" / RUN


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """A good run published before the failing cases: a workbook without a Segmentation sheet."""
    root = tmp_path_factory.mktemp("bad_input")
    book = write_workbook(root / "orders.xlsx", {TRANSACTIONS_SHEET: transactions()})
    return Baseline(root, run_runner(root, write_params(root, book)))


@pytest.fixture
def failing(baseline: Baseline, tmp_path: Path) -> Callable[..., Outcome]:
    """Run a bad case and check what every failure must guarantee; return its outcome.

    ``failing(input_file, **sections)`` writes a params file for ``input_file`` (``sections``
    merged into the params) and runs it; ``params=`` runs a given params file instead;
    ``watched=`` lists more files that must stay byte-identical (reference tables).
    """
    assert baseline.outcome.exit_code == 0, baseline.outcome.message

    def run_case(
        input_file: Path,
        *,
        params: Path | None = None,
        watched: tuple[Path, ...] = (),
        notebooks_dir: Path | None = None,
        **sections: dict,
    ) -> Outcome:
        params = params or write_params(tmp_path, input_file, **sections)
        files = [f for f in (input_file, *watched) if f.is_file()]
        before = {f: sha256(f) for f in files}
        published = tree_digest(baseline.published)
        extra = {"notebooks_dir": notebooks_dir} if notebooks_dir else {}
        outcome = run_runner(baseline.root, params, **extra)
        assert outcome.exit_code != 0, outcome.message
        assert {f: sha256(f) for f in files} == before, "the input must never be modified"
        assert tree_digest(baseline.published) == published, "the previous report must stay as it was"
        return outcome

    return run_case


def before_kernels(outcome: Outcome) -> str:
    """The message of an input error that the header or schema reveals: the runner's precheck
    reports it with exit code 2 before any step (kernel) starts."""
    assert outcome.exit_code == 2, outcome.message
    assert "running" not in outcome.out and "Notebook" not in outcome.err, outcome.message
    assert "Traceback" not in outcome.message, outcome.message
    return outcome.err


def in_notebook(outcome: Outcome, notebook: str, error: str) -> str:
    """The exception message of a failed notebook, after checking the runner named the step."""
    assert outcome.exit_code == 1, outcome.message
    assert f"Notebook {notebook}.ipynb failed at cell In [" in outcome.err, outcome.err
    assert f"): {error}: " in outcome.err, outcome.err
    return outcome.err.split(f"): {error}: ", 1)[1]


def kernels_of(runner_pid: int) -> list[int]:
    """Kernels started by the runner ``runner_pid`` that are still running: jupyter_client
    starts them in a session of their own, marked with ``JPY_PARENT_PID`` (they exit when
    that parent is gone)."""
    marker = f"JPY_PARENT_PID={runner_pid}".encode()
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return pids
