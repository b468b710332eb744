"""Loading: formats, column mapping, dtypes, the parse cache and every InputError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rfm_helpers.config import CANONICAL_COLUMNS, ColumnMap, InputConfig
from rfm_helpers.data import loading
from rfm_helpers.data.inputcheck import HEAD_BYTES, sheet_header
from rfm_helpers.data.loading import (
    InputError,
    detect_format,
    load_transactions,
    precheck_input,
    read_segment_sheet,
)
from rfm_helpers.provenance import sha256_file

RAW = Path(__file__).resolve().parents[1] / "data" / "raw" / "online_retail.parquet"
UCI_HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
UCI_ROWS = [
    [
        "536365",
        "85123A",
        "WHITE HANGING HEART T-LIGHT HOLDER ",
        6,
        "2010-12-01 08:26:00",
        2.55,
        17850,
        "United Kingdom",
    ],
    ["C536379", "D", "Discount", -1, "2010-12-01 09:41:00", 27.5, None, "United Kingdom"],
    ["536380", "00123", "Dotcomgiftshop Gift Voucher £10.00", 2, "2010-12-01 09:45:00", 8.5, 12583, "France"],
]


def _uci_frame() -> pd.DataFrame:
    return pd.DataFrame(UCI_ROWS, columns=UCI_HEADER)


def _config(path: Path, **kwargs) -> InputConfig:
    return InputConfig(path=path, **kwargs)


def _check_uci(df: pd.DataFrame) -> None:
    """The three UCI_ROWS, loaded: canonical columns, typed, ids as text."""
    assert list(df.columns) == [*CANONICAL_COLUMNS[:-1], "revenue"]  # amount not mapped
    assert df["invoice_id"].tolist() == ["536365", "C536379", "536380"]
    assert df["stock_code"].tolist() == ["85123A", "D", "00123"]  # leading zeros kept
    # descriptions are kept as written (the cleaning step trims them)
    assert df["description"].iloc[0] == "WHITE HANGING HEART T-LIGHT HOLDER "
    assert df["description"].iloc[2] == "Dotcomgiftshop Gift Voucher £10.00"
    assert df["customer_id"].iloc[0] == "17850" and df["customer_id"].iloc[2] == "12583"
    assert pd.isna(df["customer_id"].iloc[1])
    for col in ("invoice_id", "stock_code", "description", "customer_id", "country"):
        assert df[col].dtype == loading.TEXT_DTYPE
    for col in ("quantity", "unit_price", "revenue"):
        assert df[col].dtype == np.float64
    assert pd.api.types.is_datetime64_dtype(df["invoice_date"])
    assert df["invoice_date"].iloc[0] == pd.Timestamp("2010-12-01 08:26")
    # revenue = quantity x unit_price: 6 x 2.55 = 15.30, -1 x 27.5 = -27.50, 2 x 8.5 = 17.00
    assert df["revenue"].tolist() == pytest.approx([15.30, -27.50, 17.00])


# --- formats ---------------------------------------------------------------------------


def test_detect_format() -> None:
    assert detect_format("a.PARQUET", "auto") == "parquet"
    assert detect_format("a.pq", "auto") == "parquet"
    assert detect_format("a.txt", "auto") == "csv"
    assert detect_format("a.xlsm", "auto") == "xlsx"
    assert detect_format("a.dat", "csv") == "csv"
    with pytest.raises(InputError, match=r"a\.json.*\.parquet.*\.xlsx.*input\.format"):
        detect_format("a.json", "auto")


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_parquet(tmp_path: Path) -> None:
    frame = _uci_frame().assign(
        InvoiceDate=lambda d: pd.to_datetime(d["InvoiceDate"]),
        CustomerID=lambda d: d["CustomerID"].astype("Int64"),
    )
    frame.to_parquet(tmp_path / "t.parquet")
    _check_uci(load_transactions(_config(tmp_path / "t.parquet")))


def test_parquet_tz_aware_dates_need_input_timezone(tmp_path: Path) -> None:
    frame = _uci_frame().assign(
        InvoiceDate=pd.to_datetime(["2010-12-01 08:26"] * 3).tz_localize("Europe/Paris")
    )
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "t.parquet"))
    assert str(err.value) == (
        f"{tmp_path / 't.parquet'}: column 'InvoiceDate' holds timestamps with the time zone Europe/Paris "
        "and input.timezone is not set. Set input.timezone to the zone the report should count days in "
        "(an IANA name such as Europe/London), or input.timezone: UTC to keep UTC."
    )
    utc = load_transactions(_config(tmp_path / "t.parquet", timezone="UTC"))["invoice_date"]
    assert utc.dt.tz is None
    assert utc.iloc[0] == pd.Timestamp("2010-12-01 07:26")  # Paris is UTC+1 in December
    london = load_transactions(_config(tmp_path / "t.parquet", timezone="Europe/London"))["invoice_date"]
    assert london.iloc[0] == pd.Timestamp("2010-12-01 07:26")  # London is UTC+0 in December
    tokyo = load_transactions(_config(tmp_path / "t.parquet", timezone="Asia/Tokyo"))["invoice_date"]
    assert tokyo.iloc[0] == pd.Timestamp("2010-12-01 16:26")  # 07:26 UTC + 9 h


def test_csv_utf8(tmp_path: Path) -> None:
    _uci_frame().to_csv(tmp_path / "t.csv", index=False, encoding="utf-8")
    _check_uci(load_transactions(_config(tmp_path / "t.csv")))


def test_csv_latin1_with_kaggle_dates(tmp_path: Path) -> None:
    frame = _uci_frame().assign(InvoiceDate=["12/1/10 8:26", "12/1/10 9:41", "12/1/10 9:45"])
    frame.to_csv(tmp_path / "kaggle.csv", index=False, encoding="latin-1")
    cfg = _config(tmp_path / "kaggle.csv", csv_encoding="latin-1", date_format="%m/%d/%y %H:%M")
    _check_uci(load_transactions(cfg))


def test_xlsx_with_segment_sheet_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = openpyxl.Workbook()
    seg = book.active
    seg.title = "Segmentation"  # first sheet: the loader must skip it
    seg.append(["Segment", "RFM Score"])
    seg.append(["Champions", "555, 554"])
    seg.append(["Lost Customers", 111])
    data = book.create_sheet("Online Retail")
    data.append(UCI_HEADER)
    for row in UCI_ROWS:
        # Real numbers and datetimes in the cells, as Excel stores them.
        data.append(
            [536365 if row[0] == "536365" else row[0], *row[1:4], dt.datetime.fromisoformat(row[4]), *row[5:]]
        )
    path = tmp_path / "retail.xlsx"
    book.save(path)
    cache = tmp_path / "cache"

    _check_uci(load_transactions(_config(path), cache_dir=cache))
    cached = cache / f"{sha256_file(path)}-Online Retail.parquet"
    assert cached.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "retail.xlsx"]  # nothing beside the input

    def no_reread(*args, **kwargs):
        raise AssertionError("the workbook was parsed again instead of using the cache")

    monkeypatch.setattr(loading, "_read_sheet", no_reread)
    _check_uci(load_transactions(_config(path), cache_dir=cache))
    monkeypatch.undo()

    segments = read_segment_sheet(path, "Segmentation")
    assert segments.to_dict("list") == {
        "segment": ["Champions", "Lost Customers"],
        "rfm_codes": ["555, 554", "111"],
    }
    assert read_segment_sheet(path, "Segments") is None


def test_csv_cache_is_keyed_on_encoding(tmp_path: Path) -> None:
    _uci_frame().to_csv(tmp_path / "t.csv", index=False, encoding="utf-8")
    cache = tmp_path / "cache"
    wrong = load_transactions(_config(tmp_path / "t.csv", csv_encoding="latin-1"), cache_dir=cache)
    assert wrong["description"].iloc[2] == "Dotcomgiftshop Gift Voucher Â£10.00"  # mojibake, as asked
    right = load_transactions(_config(tmp_path / "t.csv"), cache_dir=cache)
    assert right["description"].iloc[2] == "Dotcomgiftshop Gift Voucher £10.00"
    assert [p.name for p in cache.iterdir()] == [f"{sha256_file(tmp_path / 't.csv')}-csv.parquet"]


# --- column mapping --------------------------------------------------------------------


def test_online_retail_ii_names(tmp_path: Path) -> None:
    frame = _uci_frame().rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    frame["Customer ID"] = frame["Customer ID"].astype("float64")  # 17850.0 and NaN, as in the file
    frame.loc[0, "Description"] = "nan"  # Online Retail II's missing description
    frame.to_parquet(tmp_path / "ii.parquet")
    cols = ColumnMap(invoice_id="Invoice", unit_price="Price", customer_id="Customer ID")
    df = load_transactions(_config(tmp_path / "ii.parquet", columns=cols))
    assert df["customer_id"].tolist()[::2] == ["17850", "12583"]
    assert pd.isna(df["customer_id"].iloc[1])
    assert pd.isna(df["description"].iloc[0])


def test_generic_amount_export(tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "order": ["A1", "A2"],
            "client": ["17850.0", " 00042 "],
            "when": ["2024-01-05T10:00:00+01:00", "2024-01-06"],
            "total": ["10.5", "3"],
            "extra": ["x", "y"],
        }
    ).to_csv(tmp_path / "generic.csv", index=False)
    cols = ColumnMap(
        invoice_id="order",
        customer_id="client",
        invoice_date="when",
        amount="total",
        stock_code=None,
        description=None,
        quantity=None,
        unit_price=None,
        country=None,
    )
    df = load_transactions(_config(tmp_path / "generic.csv", columns=cols, timezone="UTC"))
    assert list(df.columns) == ["invoice_id", "invoice_date", "customer_id", "amount", "revenue"]
    assert df["customer_id"].tolist() == ["17850", "00042"]
    assert df["revenue"].tolist() == [10.5, 3.0]
    # 10:00+01:00 is 09:00 UTC; the date without an offset is taken as already in UTC
    assert df["invoice_date"].tolist() == [pd.Timestamp("2024-01-05 09:00"), pd.Timestamp("2024-01-06")]


# --- errors ----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not found.*nope\.csv.*input\.path"):
        load_transactions(_config(tmp_path / "nope.csv"))


@pytest.mark.parametrize("content", ["", ",".join(UCI_HEADER) + "\n"])
def test_empty_csv(tmp_path: Path, content: str) -> None:
    (tmp_path / "empty.csv").write_text(content)
    with pytest.raises(InputError, match=r"empty\.csv.*(empty|no data rows)"):
        load_transactions(_config(tmp_path / "empty.csv"))


def test_zero_row_parquet(tmp_path: Path) -> None:
    _uci_frame().head(0).to_parquet(tmp_path / "zero.parquet")
    with pytest.raises(InputError, match=r"zero\.parquet has no data rows"):
        load_transactions(_config(tmp_path / "zero.parquet"))


def test_missing_column_suggests_online_retail_ii(tmp_path: Path) -> None:
    frame = _uci_frame().rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    frame.to_csv(tmp_path / "ii.csv", index=False)
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "ii.csv"))
    message = str(err.value)
    assert "ii.csv" in message and "'InvoiceNo'" in message and "Available columns" in message
    assert (
        "looks like Online Retail II: set input.columns.invoice_id: Invoice, unit_price: Price, "
        "customer_id: 'Customer ID'" in message
    )


def test_missing_column_close_match(tmp_path: Path) -> None:
    _uci_frame().rename(columns={"Country": "country_name"}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputError, match=r"'Country' not found.*input\.columns\.country: country_name"):
        load_transactions(_config(tmp_path / "t.csv"))


def test_text_in_numeric_column(tmp_path: Path) -> None:
    frame = _uci_frame().astype({"Quantity": object})
    frame.loc[2, "Quantity"] = "two"
    frame.to_csv(tmp_path / "t.csv", index=False)
    # data row 3 = line 4 of the file (line 1 is the header)
    with pytest.raises(InputError, match=r"t\.csv.*'Quantity'.*'two' at line 4"):
        load_transactions(_config(tmp_path / "t.csv"))


def test_unparseable_dates(tmp_path: Path) -> None:
    frame = _uci_frame().assign(InvoiceDate=["12/1/10 8:26", "12/1/10 9:41", "12/1/10 9:45"])
    frame.to_csv(tmp_path / "kaggle.csv", index=False)
    with pytest.raises(
        InputError, match=r"kaggle\.csv.*'InvoiceDate'.*'12/1/10 8:26' at line 2.*input\.date_format"
    ):
        load_transactions(_config(tmp_path / "kaggle.csv"))


def test_wrong_encoding(tmp_path: Path) -> None:
    _uci_frame().to_csv(tmp_path / "kaggle.csv", index=False, encoding="latin-1")
    with pytest.raises(InputError, match=r"kaggle\.csv.*input\.csv_encoding: latin-1"):
        load_transactions(_config(tmp_path / "kaggle.csv"))


@pytest.mark.parametrize("name", ["bad.parquet", "bad.xlsx"])
def test_corrupt_files(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"this is not a real file" * 10)
    with pytest.raises(InputError, match=rf"{name.replace('.', '[.]')} is not a readable"):
        load_transactions(_config(tmp_path / name))


def test_missing_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.save(tmp_path / "b.xlsx")
    with pytest.raises(InputError, match=r"b\.xlsx has no sheet 'Transactions'.*\['Data'\].*input\.sheet"):
        load_transactions(_config(tmp_path / "b.xlsx", sheet="Transactions"))


# --- the real file ---------------------------------------------------------------------


@pytest.mark.skipif(not RAW.is_file(), reason="real data not present")
def test_real_file() -> None:
    df = load_transactions(InputConfig())
    assert len(df) == 541_909
    assert df["customer_id"].notna().sum() == 406_829
    assert df["customer_id"].iloc[0] == "17850"
    assert df["description"].isna().sum() == 1_454
    assert df["revenue"].sum() == pytest.approx(9_747_747.934)


# --- issue 9: header checks, before any data row is parsed ----------------------------------


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


CSV_HEADER = ",".join(UCI_HEADER)
CSV_ROW = "536365,85123A,MUG,6,2010-12-01 08:26,2.55,17850,United Kingdom"


def _both_raise(cfg: InputConfig) -> str:
    """The precheck and the loader give the same message; return it."""
    with pytest.raises(InputError) as early:
        precheck_input(cfg)
    with pytest.raises(InputError) as late:
        load_transactions(cfg)
    assert str(early.value) == str(late.value)
    return str(early.value)


def test_repeated_mapped_header_is_an_error(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", f"{CSV_HEADER},UnitPrice\n{CSV_ROW},1.20\n")
    assert _both_raise(_config(path)) == (
        f"{path}: the header has 2 columns named 'UnitPrice' (columns 6 and 9), and input.columns.unit_price "
        "maps 'UnitPrice': which one holds the values is ambiguous. Rename or remove the repeated column in "
        "the file so that each mapped name appears once (or map input.columns.unit_price to another column)."
    )


def test_names_differing_only_in_case_or_spaces_are_ambiguous(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", f"{CSV_HEADER}, customerid \n{CSV_ROW},99\n")
    message = _both_raise(_config(path))
    assert (
        "the columns 'CustomerID' (column 7) and ' customerid ' (column 9) differ only in case or spaces"
        in message
    )


def test_repeated_unmapped_header_is_ignored(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", f"{CSV_HEADER},Note,Note\n{CSV_ROW},a,b\n")
    precheck_input(_config(path))
    df = load_transactions(_config(path))
    assert df["revenue"].tolist() == [pytest.approx(15.30)]  # 6 x 2.55


def test_repeated_field_in_parquet_schema(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(_uci_frame().astype({"CustomerID": "Int64"}), preserve_index=False)
    pq.write_table(table.append_column("Quantity", pa.array([1, 2, 3])), tmp_path / "t.parquet")
    message = _both_raise(_config(tmp_path / "t.parquet"))
    assert message.startswith(
        f"{tmp_path / 't.parquet'}: the header has 2 columns named 'Quantity' (columns 4 and 9)"
    )


def test_repeated_header_in_workbook_names_the_letters(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append([*UCI_HEADER, "CustomerID"])
    sheet.append(["536365", "85123A", "MUG", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850, "UK", 1])
    book.save(tmp_path / "b.xlsx")
    with pytest.raises(
        InputError,
        match=r"b\.xlsx \(sheet 'Data'\): the header has 2 columns named 'CustomerID' "
        r"\(columns G and I\)",
    ):
        precheck_input(_config(tmp_path / "b.xlsx"))
    with pytest.raises(InputError, match=r"2 columns named 'CustomerID' \(columns 7 and 9\)"):
        load_transactions(_config(tmp_path / "b.xlsx"))


def test_sheet_header_is_read_as_pandas_reads_it(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["Invoice", "Datum", None, "Betrag"])  # a blank header cell
    sheet.append(["A1", "2011-01-01", "x", 3])
    book.save(tmp_path / "b.xlsx")
    head = sheet_header(tmp_path / "b.xlsx", "Orders")
    expected = pd.read_excel(tmp_path / "b.xlsx", engine="calamine").columns.tolist()
    assert head.header == expected == ["Invoice", "Datum", "Unnamed: 2", "Betrag"]
    assert head.letters == ["A", "B", "C", "D"] and head.has_data
    # A header below blank rows: pandas reads blank row 1 as the header, and so does the precheck.
    moved = openpyxl.Workbook()
    moved.active["C3"], moved.active["D3"], moved.active["C4"] = "Invoice", "Datum", "A1"
    moved.save(tmp_path / "m.xlsx")
    head = sheet_header(tmp_path / "m.xlsx", "Sheet")
    expected = pd.read_excel(tmp_path / "m.xlsx", engine="calamine").columns.tolist()
    assert head.header == expected == [f"Unnamed: {i}" for i in range(4)]


def test_header_only_and_empty_files_are_found_early(tmp_path: Path) -> None:
    header_only = _csv(tmp_path / "h.csv", CSV_HEADER + "\n")
    assert _both_raise(_config(header_only)).startswith(f"{header_only} has no data rows. Check input.path")
    empty = _csv(tmp_path / "e.csv", "\n\n")
    assert _both_raise(_config(empty)) == f"{empty} is empty. Check input.path."


def test_encoding_error_names_byte_and_line_even_beyond_the_head(tmp_path: Path) -> None:
    rows = [CSV_ROW] * 3000  # ~200 KiB: the bad byte is beyond what the precheck reads
    content = (CSV_HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8")
    content += "536366,1,CAFÉ,1,2010-12-01 08:26,1,1,UK\n".encode("latin-1")
    (tmp_path / "t.csv").write_bytes(content)
    offset = content.index(b"\xc9")
    assert offset > HEAD_BYTES
    precheck_input(_config(tmp_path / "t.csv"))  # the first 64 KiB are valid
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "t.csv"))
    assert str(err.value).startswith(
        f"{tmp_path / 't.csv'} is not valid utf-8 text (invalid continuation byte at byte {offset}, line "
        "3002). "
        "Set input.csv_encoding: latin-1"
    )


# --- delimiter and decimal mark ------------------------------------------------------------


@pytest.mark.parametrize(("sep", "configured"), [(";", "auto"), ("\t", "auto"), ("|", "auto"), ("\t", "tab")])
def test_delimiter_is_detected_or_configured(tmp_path: Path, sep: str, configured: str) -> None:
    frame = _uci_frame()
    frame.to_csv(tmp_path / "t.csv", sep=sep, index=False)
    _check_uci(load_transactions(_config(tmp_path / "t.csv", delimiter=configured)))


def test_decimal_comma(tmp_path: Path) -> None:
    text = f"{CSV_HEADER.replace(',', ';')}\n" + "\n".join(
        [
            "1;A;MUG;2;2010-12-01 08:26;2,55;17850;UK",  # 2 x 2.55 = 5.10
            "2;A;MUG;1;2010-12-01 08:26;1.234,50;17850;UK",  # thousands grouped: 1234.50
            "3;A;MUG;-3;2010-12-01 08:26;10;17850;UK",  # no decimals: 10, -3 x 10 = -30
        ]
    )
    path = _csv(tmp_path / "t.csv", text + "\n")
    df = load_transactions(_config(path, decimal=","))
    assert df["unit_price"].tolist() == [2.55, 1234.5, 10.0]
    assert df["revenue"].tolist() == pytest.approx([5.10, 1234.50, -30.0])


def test_decimal_comma_refuses_a_decimal_point(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "t.csv", f"{CSV_HEADER.replace(',', ';')}\n1;A;MUG;2;2010-12-01 08:26;2.55;17850;UK\n"
    )
    with pytest.raises(InputError) as err:
        load_transactions(_config(path, decimal=","))
    assert str(err.value) == (
        f"{path}: column 'UnitPrice' must be numeric but has text '2.55' at line 2 (1 such values). "
        'With input.decimal: ",", a "." may only group thousands (as in 1.234,50). Fix the file or map '
        "another column."
    )


def test_decimal_comma_without_the_parameter_says_so(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "t.csv", f"{CSV_HEADER.replace(',', ';')}\n1;A;MUG;2;2010-12-01 08:26;2,55;17850;UK\n"
    )
    with pytest.raises(InputError) as err:
        load_transactions(_config(path))
    assert (
        "has text '2,55' at line 2 (1 such values). It looks like a decimal comma: set input.decimal: \",\"."
        in (str(err.value))
    )


def test_file_read_as_one_column_points_at_the_delimiter(tmp_path: Path) -> None:
    semicolons = _csv(tmp_path / "s.csv", f"{CSV_HEADER.replace(',', ';')}\n{CSV_ROW.replace(',', ';')}\n")
    message = _both_raise(_config(semicolons, delimiter=","))
    assert message == (
        f"{semicolons} reads as a single column {CSV_HEADER.replace(',', ';')[:80]!r} with the delimiter "
        '",": '
        'its header contains ";": set input.delimiter: ";".'
    )
    colons = _csv(tmp_path / "c.csv", f"{CSV_HEADER.replace(',', ':')}\n{CSV_ROW.replace(',', ':')}\n")
    assert "set input.delimiter to the character between its columns" in _both_raise(_config(colons))


# --- ids -----------------------------------------------------------------------------------


def test_float_ids_read_as_integer_text_and_fractions_are_errors(tmp_path: Path) -> None:
    frame = _uci_frame().assign(CustomerID=[17850.0, None, 12583.0], InvoiceNo=[536365.0, 536379.0, 536380.0])
    frame.to_parquet(tmp_path / "t.parquet")
    df = load_transactions(_config(tmp_path / "t.parquet"))
    assert df["customer_id"].tolist()[::2] == ["17850", "12583"] and pd.isna(df["customer_id"].iloc[1])
    assert df["invoice_id"].tolist() == ["536365", "536379", "536380"]

    frame.loc[2, "CustomerID"] = 17908.5
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "t.parquet"))
    assert str(err.value) == (
        f"{tmp_path / 't.parquet'}: column 'CustomerID' holds ids, but 17908.5 at data row 3 is not a whole "
        "number (1 such values). Ids are matched with your CRM as written, so a fractional or rounded id "
        "would "
        "match the wrong customer or none: fix the id in the file, or export the column as text."
    )


def test_text_ids_are_kept_as_written(tmp_path: Path) -> None:
    frame = _uci_frame().astype({"CustomerID": object})
    frame["CustomerID"] = ["00042", "A-17", "17850.0"]
    frame.to_csv(tmp_path / "t.csv", index=False)
    # leading zeros and letters kept; "17850.0" (a float written as text) is customer 17850
    assert load_transactions(_config(tmp_path / "t.csv"))["customer_id"].tolist() == [
        "00042",
        "A-17",
        "17850",
    ]


def test_fractional_id_in_a_csv_of_numbers(tmp_path: Path) -> None:
    frame = _uci_frame().astype({"CustomerID": object})
    frame["CustomerID"] = ["17850.0", "", "17908.5"]
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(
        InputError, match=r"'CustomerID' holds ids, but '17908\.5' at line 4 is not a whole number"
    ):
        load_transactions(_config(tmp_path / "t.csv"))


# --- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "shown", "problem"),
    [
        ("inf", "'inf'", "not a finite number"),
        ("-Infinity", "'-Infinity'", "not a finite number"),
        ("1e308", "'1e308'", "beyond ±10^15"),
        ("2e15", "'2e15'", "beyond ±10^15"),
    ],
)
def test_non_finite_or_huge_money_is_an_error(tmp_path: Path, price: str, shown: str, problem: str) -> None:
    path = _csv(tmp_path / "t.csv", f"{CSV_HEADER}\n{CSV_ROW}\n{CSV_ROW.replace('2.55', price)}\n")
    with pytest.raises(InputError) as err:
        load_transactions(_config(path))
    assert str(err.value) == (
        f"{path}: column 'UnitPrice' has {shown} at line 3, {problem} (1 such values). Quantities, prices "
        "and "
        "amounts must be finite numbers within ±10^15 (larger values overflow the revenue sums): fix the "
        "value "
        "in the file or remove the row."
    )


def test_revenue_beyond_the_limit_is_an_error(tmp_path: Path) -> None:
    frame = _uci_frame().assign(Quantity=[6, 1, 2], UnitPrice=[2.55, 27.5, 8.5])
    frame.loc[2, ["Quantity", "UnitPrice"]] = [2e8, 1e8]  # each allowed; 2e16 is not
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "t.parquet"))
    assert str(err.value) == (
        f"{tmp_path / 't.parquet'}: revenue 'Quantity' × 'UnitPrice' = 200000000.0 × 100000000.0 at data "
        "row 3 "
        "is beyond ±10^15 (1 such rows). Fix the quantity or the price in the file, or remove the row."
    )


def test_nan_money_in_parquet_is_missing_not_an_error(tmp_path: Path) -> None:
    _uci_frame().assign(UnitPrice=[2.55, float("nan"), 8.5]).to_parquet(tmp_path / "t.parquet")
    df = load_transactions(_config(tmp_path / "t.parquet"))
    assert pd.isna(df["unit_price"].iloc[1]) and pd.isna(df["revenue"].iloc[1])  # the price rule counts it


# --- dates ---------------------------------------------------------------------------------


def test_excel_serial_dates(tmp_path: Path) -> None:
    # 40513 = 2010-12-01 (days since 1899-12-30); .35 of a day = 08:24; 40544 = 2011-01-01 and
    # .999999 of a day = 23:59:59.91, which rounds to the next second: midnight of 2 January
    serials = [40513.35, 40513.0, 40544.999999]
    frame = _uci_frame().assign(InvoiceDate=serials)
    expected = [pd.Timestamp("2010-12-01 08:24"), pd.Timestamp("2010-12-01"), pd.Timestamp("2011-01-02")]
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert load_transactions(_config(tmp_path / "t.csv"))["invoice_date"].tolist() == expected
    frame.to_parquet(tmp_path / "t.parquet")
    assert load_transactions(_config(tmp_path / "t.parquet"))["invoice_date"].tolist() == expected
    book = openpyxl.Workbook()
    book.active.append(UCI_HEADER)
    for row, serial in zip(UCI_ROWS, serials, strict=True):
        book.active.append([*row[:4], serial, *row[5:]])  # numbers, not date-formatted cells
    book.save(tmp_path / "t.xlsx")
    assert load_transactions(_config(tmp_path / "t.xlsx"))["invoice_date"].tolist() == expected


def test_numbers_that_are_not_serial_dates(tmp_path: Path) -> None:
    frame = _uci_frame().assign(InvoiceDate=[40513.0, 20101201.0, 40514.0])
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "t.parquet"))
    assert str(err.value).startswith(
        f"{tmp_path / 't.parquet'}: column 'InvoiceDate' holds numbers, read as Excel serial dates (days "
        "since "
        "1899-12-30), but 20101201.0 at data row 2 is not one (1 such values; serial dates run from 1 to "
        "2958465)."
    )
    frame.assign(InvoiceDate=[20101201, 20101201, 20101202]).to_parquet(tmp_path / "ymd.parquet")
    df = load_transactions(_config(tmp_path / "ymd.parquet", date_format="%Y%m%d"))
    assert df["invoice_date"].tolist() == [pd.Timestamp("2010-12-01")] * 2 + [pd.Timestamp("2010-12-02")]


def test_utc_offsets_need_input_timezone(tmp_path: Path) -> None:
    frame = _uci_frame().assign(
        InvoiceDate=["2011-07-03T09:00:00+02:00", "2011-07-03T23:30:00Z", "2011-07-04 10:00"]
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputError) as err:
        load_transactions(_config(tmp_path / "t.csv"))
    assert str(err.value) == (
        f"{tmp_path / 't.csv'}: column 'InvoiceDate' has timestamps with a UTC offset (e.g. "
        "'2011-07-03T09:00:00+02:00' at line 2; 2 such values) and input.timezone is not set. Set "
        "input.timezone to the zone the report should count days in (an IANA name such as Europe/London): "
        "each timestamp is converted to it. To keep UTC, set input.timezone: UTC."
    )
    london = load_transactions(_config(tmp_path / "t.csv", timezone="Europe/London"))["invoice_date"]
    # 09:00+02:00 = 07:00 UTC = 08:00 in London (summer time); 23:30Z = 00:30 the next day there;
    # the timestamp without an offset is taken as London time already
    assert london.tolist() == [
        pd.Timestamp("2011-07-03 08:00"),
        pd.Timestamp("2011-07-04 00:30"),
        pd.Timestamp("2011-07-04 10:00"),
    ]
    utc = load_transactions(_config(tmp_path / "t.csv", timezone="UTC"))["invoice_date"]
    assert utc.tolist()[:2] == [pd.Timestamp("2011-07-03 07:00"), pd.Timestamp("2011-07-03 23:30")]


def test_missing_parquet_timestamps_are_an_error(tmp_path: Path) -> None:
    _uci_frame().assign(InvoiceDate=pd.to_datetime(["2010-12-01", None, "2010-12-02"])).to_parquet(
        tmp_path / "t.parquet"
    )
    with pytest.raises(InputError, match=r"'InvoiceDate' is empty at data row 2 \(1 rows without a date\)"):
        load_transactions(_config(tmp_path / "t.parquet"))


# --- files, folders and globs --------------------------------------------------------------


def test_csv_glob_is_one_table_and_rows_name_their_file(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    _csv(tmp_path / "m" / "jan.csv", f"{CSV_HEADER}\n{CSV_ROW}\n")
    _csv(tmp_path / "m" / "feb.csv", f"{CSV_HEADER}\n{CSV_ROW.replace('6,', '2,', 1)}\n")
    _csv(tmp_path / "m" / "mar.csv", f"{CSV_HEADER}\n")  # no sales that month: allowed
    cfg = _config(Path(f"{tmp_path / 'm'}/*.csv"))
    precheck_input(cfg)
    df = load_transactions(cfg)
    # sorted file names: feb (2 x 2.55), jan (6 x 2.55)
    assert df["revenue"].tolist() == pytest.approx([5.10, 15.30])
    _csv(tmp_path / "m" / "apr.csv", f"{CSV_HEADER}\n{CSV_ROW}\n{CSV_ROW.replace('6,', 'six,', 1)}\n")
    with pytest.raises(InputError) as err:
        load_transactions(cfg)
    assert str(err.value).startswith(
        f"{tmp_path / 'm' / 'apr.csv'}: column 'Quantity' must be numeric but has text 'six' at line 3 of "
        "apr.csv"
    )


def test_csv_glob_needs_one_header(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    _csv(tmp_path / "m" / "a.csv", f"{CSV_HEADER}\n{CSV_ROW}\n")
    _csv(tmp_path / "m" / "b.csv", f"{CSV_HEADER},Channel\n{CSV_ROW},web\n")
    message = _both_raise(_config(Path(f"{tmp_path / 'm'}/*.csv")))
    assert message.startswith(
        f"{tmp_path / 'm' / 'b.csv'}: its header differs from that of {tmp_path / 'm' / 'a.csv'} (it has "
        "['Channel'] besides)."
    )


def test_glob_of_mixed_formats(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    _csv(tmp_path / "m" / "a.csv", f"{CSV_HEADER}\n{CSV_ROW}\n")
    _uci_frame().to_parquet(tmp_path / "m" / "b.parquet")
    message = _both_raise(_config(Path(f"{tmp_path / 'm'}/*")))
    assert (
        "matches files of 2 formats" in message
        and "a.csv (csv)" in message
        and "b.parquet (parquet)" in message
    )


def test_folder_without_parquet_and_empty_glob(tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    _csv(tmp_path / "f" / "a.csv", f"{CSV_HEADER}\n{CSV_ROW}\n")
    assert _both_raise(_config(tmp_path / "f")).startswith(
        f"Folder {tmp_path / 'f'} (input.path) contains no .parquet files (it has: a.csv)."
    )
    (tmp_path / "e").mkdir()
    assert _both_raise(_config(tmp_path / "e")).startswith(f"Folder {tmp_path / 'e'} (input.path) is empty.")
    assert _both_raise(_config(Path(f"{tmp_path / 'f'}/*.xlsx"))).startswith(
        f"input.path {tmp_path / 'f'}/*.xlsx is a glob that matches no file; {tmp_path / 'f'} has: a.csv."
    )
    assert _both_raise(_config(tmp_path / "f" / "b.csv")) == (
        f"Input file not found: {tmp_path / 'f' / 'b.csv'}. Check input.path in the params file. "
        f"Did you mean {tmp_path / 'f' / 'a.csv'}?"
    )


def test_nested_parquet_column_is_named_with_its_type(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(_uci_frame().drop(columns="Country"), preserve_index=False)
    countries = pa.array([["United Kingdom"], ["United Kingdom", "EIRE"], []])
    pq.write_table(table.append_column("Country", countries), tmp_path / "t.parquet")
    assert _both_raise(_config(tmp_path / "t.parquet")) == (
        f"{tmp_path / 't.parquet'}: column 'Country' (input.columns.country) is a parquet list column "
        "(list<element: string>), not one value per row. Flatten it when exporting (write the field that "
        "holds "
        "the country as a column of its own) or map input.columns.country to another column."
    )


def test_precheck_reads_no_data_row(tmp_path: Path) -> None:
    # Broken values after the header are the loader's business, not the precheck's.
    path = _csv(tmp_path / "t.csv", f"{CSV_HEADER}\n{CSV_ROW.replace('6,', 'six,', 1)}\n")
    precheck_input(_config(path))
    with pytest.raises(InputError, match="'six' at line 2"):
        load_transactions(_config(path))


def test_environment_fingerprint_covers_the_report_lock_only(tmp_path):
    """Installing the test tools must not make every report step rerun: only the packages of
    the report lock (and Python) count."""
    import importlib.metadata

    from rfm_helpers import provenance

    lock = tmp_path / "requirements.lock"
    lock.write_text("# a comment==1\npandas==0\n    # via x\nNumPy==0\n", encoding="utf-8")
    packages = dict(provenance.environment_fingerprint(lock)["packages"])
    assert packages == {
        "pandas": importlib.metadata.version("pandas"),
        "numpy": importlib.metadata.version("numpy"),
    }
    everything = provenance.environment_fingerprint(tmp_path / "missing.lock")["packages"]
    assert len(everything) > 2 and ("pandas", importlib.metadata.version("pandas")) in everything
