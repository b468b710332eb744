"""The bad-input catalogue, part 2: what goes wrong when reading the input (issue 9).

Every case goes through the runner (helpers and fixtures in ``tests/bad_input_support.py``).
What the header or schema reveals is reported by the runner's precheck with exit code 2 before
any kernel starts, so those cases also assert that no step ran; the others fail in the notebook
that meets the problem. The successes (semicolon CSV with decimal commas, Excel serial dates, a
glob of CSV files, float ids) check the exports against figures worked out by hand
from :func:`bad_input_support.transactions`.

Each case prints ``[case] seconds: message`` (``pytest -s`` shows them).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bad_input_support import (
    Baseline,
    Outcome,
    before_kernels,
    in_notebook,
    run_runner,
    transactions,
    write_csv,
    write_params,
)

pytestmark = pytest.mark.slow

HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]


def timed(case: str, run: Callable[[], Outcome]) -> tuple[Outcome, float]:
    """Run a case, print how long it took to its message and the message's first line."""
    start = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - start
    lines = [line for line in outcome.err.splitlines() if line.strip()] or ["(no message)"]
    failed = [
        line.split("Error: ", 1)[1] for line in lines if line.startswith("Notebook ") and "Error: " in line
    ]
    print(f"\n[{case}] exit {outcome.exit_code}, {seconds:.1f} s: {(failed or lines)[0]}")
    return outcome, seconds


def precheck(case: str, failing: Callable[..., Outcome], source: Path, **sections: dict) -> str:
    """The message of a case the runner reports before any kernel starts (exit 2, no step run).
    How soon it comes is a benchmark's business, not a test's: see ``timed``'s printout."""
    outcome, _ = timed(case, lambda: failing(source, **sections))
    return before_kernels(outcome)


def succeed(case: str, baseline: Baseline, tmp_path: Path, source: Path, **sections: dict) -> pd.DataFrame:
    """Run a good input to the end under its own run name; return its customer export."""
    run_name = re.sub(r"[^A-Za-z0-9_-]+", "_", case)
    params = write_params(tmp_path, source, run_name=run_name, **sections)
    outcome, _ = timed(case, lambda: run_runner(baseline.root, params))
    assert outcome.exit_code == 0, outcome.message
    export = baseline.root / "reports" / run_name / "exports" / "customer_segments.csv"
    return pd.read_csv(export, dtype={"customer_id": str}).set_index("customer_id")


def workbook(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Transactions"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# Figures of transactions(), worked out by hand from its formulas (customer c has 1 + c % 4
# orders of two lines; line l: quantity 1 + (c + l) % 5, price 1.25 x (1 + c % 3 + l)):
# customer 12001: 2 orders x (2 x 2.50 + 3 x 3.75 = 16.25) = 32.50
# customer 12007: 4 orders x (3 x 2.50 + 4 x 3.75 = 22.50) = 90.00, on 2 May, 31 May, 29 Jun
#                 and 28 Jul 2011 (days 119, 148, 177 and 206 after 3 Jan 2011 09:00)
MONETARY_12001 = 32.50
MONETARY_12007 = 90.00


# --- repeated or ambiguous columns -------------------------------------------------------------


def test_repeated_price_header_in_csv(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    frame.insert(len(frame.columns), "UnitPrice", frame["UnitPrice"] / 2, allow_duplicates=True)  # a cost
    source = write_csv(frame, tmp_path / "orders.csv")
    message = precheck("repeated UnitPrice header (csv)", failing, source)
    assert message.startswith(
        f"{source}: the header has 2 columns named 'UnitPrice' (columns 6 and 9), and "
        "input.columns.unit_price maps 'UnitPrice': which one holds the values is ambiguous. Rename or "
        "remove the repeated column in the file so that each mapped name appears once"
    )


def test_repeated_customer_header_in_workbook(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    rows = [[*row, "crm"] for row in transactions().astype({"InvoiceDate": str}).itertuples(index=False)]
    source = workbook(tmp_path / "orders.xlsx", [*HEADER, "CustomerID"], rows)
    message = precheck("repeated CustomerID header (xlsx)", failing, source)
    assert (
        f"{source} (sheet 'Transactions'): the header has 2 columns named 'CustomerID' (columns G and I)"
        in (message)
    )
    assert "input.columns.customer_id maps 'CustomerID'" in message


def test_columns_differing_only_in_case_and_spaces(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(**{"unitprice ": lambda d: d["UnitPrice"] / 2})
    source = write_csv(frame, tmp_path / "orders.csv")
    message = precheck("UnitPrice and 'unitprice ' (csv)", failing, source)
    assert (
        f"{source}: the columns 'UnitPrice' (column 6) and 'unitprice ' (column 9) differ only in case or "
        "spaces, and input.columns.unit_price maps 'UnitPrice': which one holds the values is ambiguous"
    ) in message


def test_repeated_column_in_parquet_schema(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("CustomerID", pa.array(["crm"] * len(frame)))
    source = tmp_path / "orders.parquet"
    pq.write_table(table, source)
    message = precheck("repeated CustomerID field (parquet)", failing, source)
    assert f"{source}: the header has 2 columns named 'CustomerID' (columns 7 and 9)" in message


# --- ids -----------------------------------------------------------------------------------------


def test_fractional_id(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(CustomerID=lambda d: d["CustomerID"].astype(float))
    broken = frame["CustomerID"] == 12005.0
    frame.loc[broken, "CustomerID"] = 12005.5
    source = tmp_path / "orders.parquet"
    frame.to_parquet(source, index=False)
    first = int(broken.to_numpy().nonzero()[0][0]) + 1
    outcome, _ = timed("fractional id (parquet float)", lambda: failing(source))
    message = in_notebook(outcome, "01_cleaning", "InputError")
    # customer 5 has 1 + 5 % 4 = 2 orders of 2 lines: 4 rows
    assert message.startswith(
        f"{source}: column 'CustomerID' holds ids, but 12005.5 at data row {first} is not a whole number "
        "(4 such values). Ids are matched with your CRM as written"
    )


def test_whole_number_float_ids_are_exported_as_integers(baseline: Baseline, tmp_path: Path) -> None:
    frame = transactions().assign(CustomerID=lambda d: d["CustomerID"].astype(float))
    frame.loc[0, "CustomerID"] = float("nan")  # a guest line: the column stays float with NaN
    source = tmp_path / "float_ids.parquet"
    frame.to_parquet(source, index=False)
    export = succeed("float ids", baseline, tmp_path, source)
    assert sorted(export.index) == [str(12000 + c) for c in range(12)]
    assert export.loc["12001", "monetary"] == pytest.approx(MONETARY_12001)


# --- money ----------------------------------------------------------------------------------------


def test_infinite_price(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().astype({"UnitPrice": object})
    frame.loc[4, "UnitPrice"] = "inf"
    source = write_csv(frame, tmp_path / "orders.csv")
    outcome, _ = timed("inf price", lambda: failing(source))
    message = in_notebook(outcome, "01_cleaning", "InputError")
    assert message.startswith(
        f"{source}: column 'UnitPrice' has 'inf' at line 6, not a finite number (1 such values). "
        "Quantities, prices and amounts must be finite numbers within ±10^15"
    )


def test_overflowing_price(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    frame.loc[3, ["Quantity", "UnitPrice"]] = [6, 1e308]  # revenue 6e308 overflows to inf
    source = write_csv(frame, tmp_path / "orders.csv")
    outcome, _ = timed("1e308 x 6 price", lambda: failing(source))
    message = in_notebook(outcome, "01_cleaning", "InputError")
    assert message.startswith(
        f"{source}: column 'UnitPrice' has '1e+308' at line 5, beyond ±10^15 (1 such values)"
    )
    assert "fix the value in the file or remove the row" in message


# --- dates ------------------------------------------------------------------------------------------


def test_rows_after_the_snapshot_date(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    source = write_csv(frame, tmp_path / "orders.csv")
    after = frame[frame["InvoiceDate"] >= "2011-07-01"]  # dated after 30 June
    latest = after.sort_values(["InvoiceDate", "InvoiceNo"], ascending=[False, True]).iloc[0]
    last = frame["InvoiceDate"].max()
    outcome, _ = timed(
        "rows after rfm.snapshot_date", lambda: failing(source, rfm={"snapshot_date": "2011-06-30"})
    )
    message = in_notebook(outcome, "01_cleaning", "MetricsError")
    assert message.startswith(
        f"rfm.snapshot_date is 2011-06-30, before the last transaction: {len(after)} transactions are dated "
        f"after it, the latest on {latest['InvoiceDate']:%Y-%m-%d %H:%M} (invoice {latest['InvoiceNo']}, "
        f"customer {latest['CustomerID']}); the data runs from 2011-01-03 to {last:%Y-%m-%d}."
    )
    assert f"Set rfm.snapshot_date to {last:%Y-%m-%d} or later, or to null" in message


def _in_2099(frame: pd.DataFrame) -> pd.DataFrame:
    """Customer 12011's orders typed with the year 2099 instead of 2011."""
    frame = frame.copy()
    late = frame["CustomerID"] == "12011"
    frame.loc[late, "InvoiceDate"] = frame.loc[late, "InvoiceDate"] + pd.DateOffset(years=88)
    return frame


def test_dates_in_the_future_without_snapshot_date(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = _in_2099(transactions())
    source = write_csv(frame, tmp_path / "orders.csv")
    outcome, _ = timed("2099 dates, snapshot_date null", lambda: failing(source, rfm={"snapshot_date": None}))
    message = in_notebook(outcome, "01_cleaning", "MetricsError")
    latest = frame["InvoiceDate"].max()
    # customer 11: 1 + 11 % 4 = 4 orders of 2 lines, all in 2099
    assert message.startswith(
        f"8 transactions are dated after today ({dt.date.today()}, the day the report runs), the latest on "
        f"{latest:%Y-%m-%d %H:%M} (invoice 540113, customer 12011); the data runs from 2011-01-03 to "
        f"{latest:%Y-%m-%d}. rfm.snapshot_date is null"
    )
    assert f"set rfm.snapshot_date to {latest:%Y-%m-%d} or later" in message


def test_dates_in_the_future_out_of_core(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = _in_2099(transactions())
    source = tmp_path / "orders.parquet"
    frame.to_parquet(source, index=False)
    outcome, _ = timed(
        "2099 dates, snapshot_date null, DuckDB",
        lambda: failing(source, rfm={"snapshot_date": None}, engine={"engine": "duckdb"}),
    )
    message = in_notebook(outcome, "01_cleaning", "MetricsError")
    latest = frame["InvoiceDate"].max()
    assert message.startswith(
        f"8 transactions are dated after today ({dt.date.today()}, the day the report runs), the latest on "
        f"{latest:%Y-%m-%d %H:%M} (invoice 540113, customer 12011)"
    )


def test_utc_offsets_without_timezone(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(
        InvoiceDate=lambda d: d["InvoiceDate"].dt.strftime("%Y-%m-%dT%H:%M:%S+01:00")
    )
    source = write_csv(frame, tmp_path / "orders.csv")
    outcome, _ = timed("UTC offsets, timezone null", lambda: failing(source))
    message = in_notebook(outcome, "01_cleaning", "InputError")
    assert message.startswith(
        f"{source}: column 'InvoiceDate' has timestamps with a UTC offset (e.g. '2011-01-03T09:00:00+01:00' "
        f"at line 2; {len(frame)} such values) and input.timezone is not set. Set input.timezone"
    )
    assert "To keep UTC, set input.timezone: UTC." in message


def test_time_zone_aware_parquet_without_timezone(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions().assign(InvoiceDate=lambda d: d["InvoiceDate"].dt.tz_localize("Europe/Paris"))
    source = tmp_path / "orders.parquet"
    frame.to_parquet(source, index=False)
    message = precheck("time-zone-aware parquet column, timezone null", failing, source)
    assert message.startswith(
        f"{source}: column 'InvoiceDate' holds timestamps with the time zone Europe/Paris and "
        "input.timezone is not set. Set input.timezone"
    )


def test_unknown_timezone_name(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = write_csv(transactions(), tmp_path / "orders.csv")
    outcome, _ = timed("unknown input.timezone", lambda: failing(source, input={"timezone": "Europe/Londn"}))
    before_kernels(outcome)
    assert (
        "input.timezone: unknown time zone 'Europe/Londn'; use an IANA name such as Europe/London"
        in outcome.err
    )


def test_excel_serial_dates_in_csv(baseline: Baseline, tmp_path: Path) -> None:
    frame = transactions()
    # 2011-01-03 is day 40546 after 1899-12-30; 09:00 is 0.375 of a day
    serial = (frame["InvoiceDate"] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    assert serial.iloc[0] == 40546.375
    source = write_csv(frame.assign(InvoiceDate=serial), tmp_path / "serial_dates.csv")
    export = succeed(
        "excel serial dates csv", baseline, tmp_path, source, rfm={"snapshot_date": "2011-12-10"}
    )
    assert export.loc["12000", "first_purchase"].startswith("2011-01-03 09:00")
    assert export.loc["12000", "recency"] == 341  # 2011-12-10 - 2011-01-03
    assert export.loc["12007", "last_purchase"].startswith("2011-07-28 09:00")
    assert export.loc["12007", "monetary"] == pytest.approx(MONETARY_12007)


def test_excel_serial_dates_in_workbook(baseline: Baseline, tmp_path: Path) -> None:
    frame = transactions()
    serial = (frame["InvoiceDate"] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    rows = [list(row) for row in frame.assign(InvoiceDate=serial).itertuples(index=False)]
    source = workbook(tmp_path / "serial_dates.xlsx", HEADER, rows)  # numbers, not date cells
    export = succeed(
        "excel serial dates xlsx", baseline, tmp_path, source, rfm={"snapshot_date": "2011-12-10"}
    )
    assert export.loc["12000", "first_purchase"].startswith("2011-01-03 09:00")
    assert export.loc["12007", "last_purchase"].startswith("2011-07-28 09:00")
    assert export.loc["12007", "recency"] == 135  # 2011-12-10 - 2011-07-28


# --- delimiter and decimal mark -----------------------------------------------------------------------


def test_semicolon_csv_with_decimal_comma(baseline: Baseline, tmp_path: Path) -> None:
    source = tmp_path / "semicolon.csv"
    transactions().to_csv(source, sep=";", decimal=",", index=False, date_format="%Y-%m-%d %H:%M")
    assert "2,5;12001" in source.read_text(encoding="utf-8")  # written the European way
    export = succeed("semicolon csv, decimal comma", baseline, tmp_path, source, input={"decimal": ","})
    assert export.loc["12001", "monetary"] == pytest.approx(MONETARY_12001)
    assert export.loc["12007", "monetary"] == pytest.approx(MONETARY_12007)
    assert export.loc["12007", "frequency"] == 4


def test_semicolon_csv_without_decimal_comma(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "semicolon.csv"
    transactions().to_csv(source, sep=";", decimal=",", index=False, date_format="%Y-%m-%d %H:%M")
    outcome, _ = timed("semicolon csv, decimal '.'", lambda: failing(source))
    message = in_notebook(outcome, "01_cleaning", "InputError")
    # the first row: price 1.25 x (1 + 0 + 0), written 1,25
    assert message.startswith(f"{source}: column 'UnitPrice' must be numeric but has text '1,25' at line 2 (")
    assert 'It looks like a decimal comma: set input.decimal: ",".' in message


def test_semicolon_csv_read_with_comma_delimiter(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    source = tmp_path / "semicolon.csv"
    transactions().to_csv(source, sep=";", index=False, date_format="%Y-%m-%d %H:%M")
    message = precheck("semicolon csv, delimiter ','", failing, source, input={"delimiter": ","})
    assert message.startswith(
        f"{source} reads as a single column 'InvoiceNo;StockCode;Description;Quantity;InvoiceDate;UnitPrice;"
    )
    assert 'with the delimiter ",": its header contains ";": set input.delimiter: ";".' in message


# --- files, folders and globs ------------------------------------------------------------------------


def test_csv_glob_is_read_as_one_table(baseline: Baseline, tmp_path: Path) -> None:
    frame = transactions()
    folder = tmp_path / "monthly"
    folder.mkdir()
    first_half = frame["InvoiceDate"] < "2011-07-01"
    write_csv(frame[first_half], folder / "orders_2011_h1.csv")
    write_csv(frame[~first_half], folder / "orders_2011_h2.csv")
    export = succeed("csv glob", baseline, tmp_path, Path(f"{folder}/orders_*.csv"))
    assert len(export) == 12
    # customer 12007's four orders: three in the first file, one in the second
    assert export.loc["12007", "frequency"] == 4
    assert export.loc["12007", "monetary"] == pytest.approx(MONETARY_12007)


def test_csv_glob_with_another_header(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    folder = tmp_path / "monthly"
    folder.mkdir()
    write_csv(frame.iloc[:10], folder / "a.csv")
    write_csv(frame.iloc[10:].drop(columns="Country"), folder / "b.csv")
    message = precheck(
        "csv glob, second file lacks Country", failing, folder / "a.csv", input={"path": f"{folder}/*.csv"}
    )
    assert message.startswith(
        f"{folder / 'b.csv'}: its header differs from that of {folder / 'a.csv'} (it lacks ['Country']). "
        "The files input.path matches are read as one table, so they need the same header"
    )


def test_folder_without_parquet_files(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(transactions(), folder / "a.csv")
    (folder / "notes.txt").write_text("sent by the CRM team\n", encoding="utf-8")
    message = precheck("folder without parquet", failing, folder)
    assert message.startswith(
        f"Folder {folder} (input.path) contains no .parquet files (it has: a.csv, notes.txt). A folder is "
        f"read as the .parquet files below it. For CSV or xlsx files, set input.path to a glob such as "
        f"{folder / '*.csv'}."
    )


def test_glob_matching_nothing(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(transactions(), folder / "orders.csv")
    message = precheck(
        "glob matching nothing", failing, folder / "orders.csv", input={"path": f"{folder}/*.parquet"}
    )
    assert message.startswith(
        f"input.path {folder}/*.parquet is a glob that matches no file; {folder} has: orders.csv. Check the "
        "pattern in"
    )


def test_struct_column_in_parquet(failing: Callable[..., Outcome], tmp_path: Path) -> None:
    frame = transactions()
    table = pa.Table.from_pandas(frame.drop(columns="CustomerID"), preserve_index=False)
    customers = pa.array([{"id": int(c), "source": "crm"} for c in frame["CustomerID"]])
    source = tmp_path / "orders.parquet"
    pq.write_table(table.append_column("CustomerID", customers), source)
    message = precheck("struct column (parquet)", failing, source)
    assert message.startswith(
        f"{source}: column 'CustomerID' (input.columns.customer_id) is a parquet struct column "
        "(struct<id: int64, source: string>), not one value per row. Flatten it when exporting"
    )
    assert "or map input.columns.customer_id to another column" in message
