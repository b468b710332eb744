"""The bad-input catalogue: every export an analyst may feed the tool, through the real entry
point (``rfm_helpers.runner``) and the real notebooks, writing below a temporary
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
import inspect
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from rfm_helpers import runner
from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.pipeline import load_pipeline

pytestmark = pytest.mark.slow

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


def in_notebook(outcome: Outcome, notebook: str, error: str) -> str:
    """The exception message of a failed notebook, after checking the runner named the step."""
    assert outcome.exit_code == 1, outcome.message
    assert f"Notebook {notebook}.ipynb failed at cell In [" in outcome.err, outcome.err
    assert f"): {error}: " in outcome.err, outcome.err
    return outcome.err.split(f"): {error}: ", 1)[1]


# --- the baseline: also the "workbook without a Segmentation sheet" case --------------------


def test_workbook_without_segmentation_sheet_uses_the_shipped_table(baseline: Baseline) -> None:
    assert baseline.outcome.exit_code == 0, baseline.outcome.message
    page = page_text(baseline.published / "01_cleaning.html")
    assert (
        "the workbook has no 'Segmentation' sheet, so the shipped table "
        "data/reference/rfm_segments.csv is used" in page
    )
    manifest = json.loads((baseline.published / "manifest.json").read_text(encoding="utf-8"))
    notebooks = [step.name for step in load_pipeline(NOTEBOOKS_DIR, "transactions")]
    assert [r["notebook"] for r in manifest["reports"]] == notebooks


# --- the file itself -------------------------------------------------------------------------


def test_missing_input_file(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    missing = tmp_path / "orders_2011.csv"
    outcome = failing(missing)
    assert outcome.exit_code == 2
    assert f"Input file not found: {missing}. Check input.path in" in outcome.err


def test_unsupported_extension(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.json"
    source.write_text(transactions().to_json(orient="records", date_format="iso"), encoding="utf-8")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source}: cannot tell the file format from the extension '.json'" in message
    assert ".parquet" in message and ".csv" in message and ".xlsx" in message
    assert "set the input.format parameter" in message


def test_corrupt_parquet(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.parquet"
    transactions().to_parquet(source, index=False)
    source.write_bytes(source.read_bytes()[:200])  # truncated in transfer
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source} is not a readable parquet file" in message and "Re-export the file" in message


def test_corrupt_workbook(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.xlsx"
    source.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source} is not a readable xlsx workbook" in message and "Re-save it from Excel" in message


def test_workbook_without_transactions_sheet(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    shipped = pd.read_csv(SHIPPED_SEGMENTS, dtype=str)
    source = write_workbook(tmp_path / "orders.xlsx", {"Segmentation": segment_sheet(shipped)})
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source} has no transactions sheet (sheets: ['Segmentation']). Set input.sheet." in message


def test_workbook_sheet_named_in_params_is_missing(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_workbook(tmp_path / "orders.xlsx", {"Orders 2011": transactions()})
    message = in_notebook(failing(source, input={"sheet": "Transactions"}), "01_cleaning", "InputError")
    assert f"{source} has no sheet 'Transactions'. Its sheets are ['Orders 2011']; set input.sheet" in message


def test_empty_file(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(b"")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source} is empty. Check input.path." in message


def test_header_only(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions().head(0), tmp_path / "orders.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source} has no data rows. Check input.path" in message


def test_latin1_csv_read_as_utf8(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(Description="CAFÉ AU LAIT BOWL")
    source = write_csv(frame, tmp_path / "orders.csv", encoding="latin-1")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source} is not valid utf-8 text" in message and "Set input.csv_encoding: latin-1" in message


# --- columns and values ----------------------------------------------------------------------


def test_missing_required_column(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions().drop(columns="CustomerID"), tmp_path / "orders.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source}: column(s) 'CustomerID' not found (mapped to customer_id)" in message
    assert "Available columns: ['InvoiceNo'," in message
    assert "Set input.columns.<name> in the params file" in message


def test_renamed_columns_without_mapping_suggest_the_mapping(
    failing: Callable[..., Outcome], tmp_path: Path
) -> None:
    renamed = transactions().rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    source = write_csv(renamed, tmp_path / "online_retail_ii.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert "column(s) 'InvoiceNo', 'UnitPrice', 'CustomerID' not found" in message
    assert (
        "Suggestion: looks like Online Retail II: set input.columns.invoice_id: Invoice, "
        "unit_price: Price, customer_id: 'Customer ID'" in message
    )


def test_text_in_quantity(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().astype({"Quantity": "object"})
    frame.loc[4, "Quantity"] = "five"
    source = write_csv(frame, tmp_path / "orders.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source}: column 'Quantity' must be numeric but has text 'five' at line 6" in message
    assert "Fix the file or map another column" in message


def test_unparseable_dates(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(InvoiceDate=lambda d: d["InvoiceDate"].dt.strftime("%-m/%-d/%y %-H:%M"))
    source = write_csv(frame, tmp_path / "kaggle.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source}: column 'InvoiceDate' has '1/3/11 9:00' at line 2 that is not a date in ISO" in message
    assert "Set input.date_format, e.g. '%m/%d/%y %H:%M'" in message


def test_mixed_date_formats(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(InvoiceDate=lambda d: d["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M"))
    frame.loc[10:, "InvoiceDate"] = transactions()["InvoiceDate"][10:].dt.strftime("%d/%m/%Y %H:%M")
    source = write_csv(frame, tmp_path / "orders.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert (
        f"{source}: column 'InvoiceDate' mixes date formats: 10 values are in ISO 8601 "
        "(e.g. '2011-01-03 09:00' at line 2)" in message
    )
    assert f"but {len(frame) - 10} are not (e.g. '" in message and "at line 12)" in message
    assert "Re-export the column in one format and set input.date_format to it" in message


def test_missing_dates(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(InvoiceDate=lambda d: d["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M"))
    frame.loc[[3, 7], "InvoiceDate"] = ""
    source = write_csv(frame, tmp_path / "orders.csv")
    message = in_notebook(failing(source), "01_cleaning", "InputError")
    assert f"{source}: column 'InvoiceDate' is empty at line 5 (2 rows without a date)" in message


# --- what the cleaning rules leave ---------------------------------------------------------------


def test_every_row_removed_by_cleaning(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions().assign(CustomerID=""), tmp_path / "guest_checkouts.csv")
    message = in_notebook(failing(source), "01_cleaning", "CleaningError")
    assert "Cleaning removed every row: rule 'missing_customer'" in message
    assert "No remaining line has a customer ID: check that input.columns.customer_id" in message
    assert "Ledger so far" in message


def test_negative_only_data(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    returns = transactions().assign(Quantity=lambda d: -d["Quantity"])
    source = write_csv(returns, tmp_path / "returns.csv")
    message = in_notebook(failing(source), "01_cleaning", "CleaningError")
    assert "rule 'non_positive_quantity'" in message and f"removed the last {len(returns)} rows" in message
    assert "the file looks like returns only. Point input.path at the sales export" in message


def test_single_customer(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    source = write_csv(frame[frame["CustomerID"] == "12003"], tmp_path / "orders.csv")
    message = in_notebook(failing(source), "03_rfm_scoring", "MetricsError")
    assert "The clean data has a single customer (12003)" in message
    assert "at least 2 are needed. Check input.path and input.columns.customer_id" in message


def test_all_customers_tied_on_a_metric_is_scored_and_explained(baseline: Baseline, tmp_path: Path) -> None:
    """Every customer has one order: frequency quintiles are impossible. Not an error: every
    customer gets the middle frequency score and the scoring report says so."""
    source = write_csv(transactions(orders=lambda c: 1), tmp_path / "one_order_each.csv")
    outcome = run_runner(baseline.root, write_params(tmp_path, source, run_name="tied"))
    assert outcome.exit_code == 0, outcome.message
    page = page_text(baseline.root / "reports" / "tied" / "03_rfm_scoring.html")
    assert (
        "Frequency: all 12 customers have the same value (1), so quintiles are impossible; every "
        "customer gets the middle score 3." in page
    )
    export = pd.read_csv(baseline.root / "reports" / "tied" / "exports" / "customer_segments.csv")
    assert export["f_score"].eq(3).all() and len(export) == 12


# --- reference tables and parameters ------------------------------------------------------------


def test_segment_table_missing_codes(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    table = pd.read_csv(SHIPPED_SEGMENTS, dtype=str)
    table.loc[table["segment"] == "Champions", "rfm_codes"] = "555, 554, 544, 545, 454"  # 455, 445 dropped
    segments = tmp_path / "my_segments.csv"
    table.to_csv(segments, index=False)
    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome = failing(source, watched=(segments,), reference={"segments": str(segments)})
    message = in_notebook(outcome, "01_cleaning", "ReferenceError")
    assert f"Segment table {segments} must assign each of the 125 RFM codes" in message
    assert "codes assigned to no segment: 445, 455" in message


def test_workbook_segment_sheet_repeats_a_code(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    table = pd.read_csv(SHIPPED_SEGMENTS, dtype=str)
    table.loc[table["segment"] == "Loyal", "rfm_codes"] += ", 555"  # also listed under Champions
    book = write_workbook(
        tmp_path / "orders.xlsx", {TRANSACTIONS_SHEET: transactions(), "Segmentation": segment_sheet(table)}
    )
    message = in_notebook(failing(book), "01_cleaning", "ReferenceError")
    assert f"Segment table {book} (sheet 'Segmentation') must assign each of the 125 RFM codes" in message
    assert "codes assigned more than once: 555 in Champions, Loyal" in message


def test_unknown_parameter(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome = failing(source, rfm={"snapshot_dat": "2011-12-10"})
    assert outcome.exit_code == 2
    assert "rfm.snapshot_dat: unknown parameter (check the spelling; see params/default.yaml)" in outcome.err


def test_parameter_of_the_wrong_type(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome = failing(source, clustering={"k": "four"})
    assert outcome.exit_code == 2
    assert f"Invalid parameters in {tmp_path / (RUN + '.yaml')}:" in outcome.err
    assert "clustering.k: Input should be a valid integer" in outcome.err and "(got 'four')" in outcome.err


def test_snapshot_date_before_the_data(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome = failing(source, rfm={"snapshot_date": "2010-06-30"})
    message = in_notebook(outcome, "03_rfm_scoring", "MetricsError")
    assert "rfm.snapshot_date is 2010-06-30, before the last transaction" in message
    assert "the data runs from 2011-01-03 to" in message
    assert "or to null for the day after the last transaction" in message


def test_more_clusters_than_customers(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    message = in_notebook(failing(source, clustering={"k": 20}), "04_clustering", "ValueError")
    assert "clustering.k = 20, but there are 12 customers with 12 distinct feature values" in message
    assert "set clustering.k between 1 and 12" in message


# --- a notebook that raises ------------------------------------------------------------------------


def test_notebook_that_raises(failing: Callable[..., Outcome], baseline: Baseline, tmp_path: Path) -> None:
    assert "notebooks_dir" in inspect.signature(runner.run).parameters, "runner.run lost notebooks_dir"
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    eda = nbformat.read(notebooks / "02_eda.ipynb", as_version=4)
    eda.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('injected failure for the catalogue')"))
    nbformat.write(eda, notebooks / "02_eda.ipynb")

    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome = failing(source, notebooks_dir=notebooks)
    message = in_notebook(outcome, "02_eda", "RuntimeError")
    assert message.startswith("injected failure for the catalogue")
    assert "(starts: \"raise RuntimeError('injected failure for the catalogue')\")" in outcome.err
    failed_page = baseline.root / "build" / RUN / "failed" / "02_eda.html"
    assert f"Notebook with the failing cell and traceback: {failed_page}" in outcome.err
    assert "injected failure for the catalogue" in failed_page.read_text(encoding="utf-8")
    assert "were not run" in outcome.err and f"{baseline.published} is unchanged" in outcome.err
    assert not (baseline.root / "build" / RUN / "executed" / "03_rfm_scoring.ipynb").exists()
