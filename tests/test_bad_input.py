"""The bad-input catalogue, part 1: inputs and params through the runner. Helpers and fixtures
(the baseline run and the ``failing`` checker) are in ``tests/bad_input_support.py``."""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bad_input_support import (
    RUN,
    SHIPPED_SEGMENTS,
    TRANSACTIONS_SHEET,
    Baseline,
    Outcome,
    before_kernels,
    in_notebook,
    page_text,
    run_runner,
    segment_sheet,
    transactions,
    write_csv,
    write_params,
    write_workbook,
)

from rfm_helpers.paths import NOTEBOOKS_DIR
from rfm_helpers.runs import runner
from rfm_helpers.runs.pipeline import load_pipeline

pytestmark = pytest.mark.slow


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
    message = before_kernels(failing(source))
    assert f"{source}: cannot tell the file format from the extension '.json'" in message
    assert ".parquet" in message and ".csv" in message and ".xlsx" in message
    assert "set the input.format parameter" in message


def test_corrupt_parquet(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.parquet"
    transactions().to_parquet(source, index=False)
    source.write_bytes(source.read_bytes()[:200])  # truncated in transfer
    message = before_kernels(failing(source))
    assert f"{source} is not a readable parquet file" in message and "Re-export the file" in message


def test_corrupt_workbook(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.xlsx"
    source.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    message = before_kernels(failing(source))
    assert f"{source} is not a readable xlsx workbook" in message and "Re-save it from Excel" in message


def test_workbook_without_transactions_sheet(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    shipped = pd.read_csv(SHIPPED_SEGMENTS, dtype=str)
    source = write_workbook(tmp_path / "orders.xlsx", {"Segmentation": segment_sheet(shipped)})
    message = before_kernels(failing(source))
    assert f"{source} has no transactions sheet (sheets: ['Segmentation']). Set input.sheet." in message


def test_workbook_sheet_named_in_params_is_missing(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_workbook(tmp_path / "orders.xlsx", {"Orders 2011": transactions()})
    message = before_kernels(failing(source, input={"sheet": "Transactions"}))
    assert f"{source} has no sheet 'Transactions'. Its sheets are ['Orders 2011']; set input.sheet" in message


def test_empty_file(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(b"")
    message = before_kernels(failing(source))
    assert f"{source} is empty. Check input.path." in message


def test_header_only(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions().head(0), tmp_path / "orders.csv")
    message = before_kernels(failing(source))
    assert f"{source} has no data rows. Check input.path" in message


def test_latin1_csv_read_as_utf8(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(Description="CAFÉ AU LAIT BOWL")
    source = write_csv(frame, tmp_path / "orders.csv", encoding="latin-1")
    message = before_kernels(failing(source))
    assert f"{source} is not valid utf-8 text" in message and "Set input.csv_encoding: latin-1" in message


# --- columns and values ----------------------------------------------------------------------


def test_missing_required_column(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions().drop(columns="CustomerID"), tmp_path / "orders.csv")
    message = before_kernels(failing(source))
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
    message = before_kernels(failing(source))
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
    # The cleaning step builds the customer table (transactions.build), so it fails there.
    message = in_notebook(failing(source), "01_cleaning", "MetricsError")
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
    # The cleaning step builds the customer table (transactions.build), so it fails there.
    message = in_notebook(outcome, "01_cleaning", "MetricsError")
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
