"""Loading: formats, column mapping, dtypes, the parse cache and every InputError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rfm_helpers import loading
from rfm_helpers.config import CANONICAL_COLUMNS, ColumnMap, InputConfig
from rfm_helpers.loading import (
    InputError,
    detect_format,
    file_sha256,
    load_transactions,
    read_segment_sheet,
)

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


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_parquet(tmp_path: Path) -> None:
    frame = _uci_frame().assign(
        InvoiceDate=lambda d: pd.to_datetime(d["InvoiceDate"]),
        CustomerID=lambda d: d["CustomerID"].astype("Int64"),
    )
    frame.to_parquet(tmp_path / "t.parquet")
    _check_uci(load_transactions(_config(tmp_path / "t.parquet")))


def test_parquet_tz_aware_dates_become_naive_utc(tmp_path: Path) -> None:
    frame = _uci_frame().assign(
        InvoiceDate=pd.to_datetime(["2010-12-01 08:26"] * 3).tz_localize("Europe/Paris")
    )
    frame.to_parquet(tmp_path / "t.parquet")
    dates = load_transactions(_config(tmp_path / "t.parquet"))["invoice_date"]
    assert dates.dt.tz is None
    assert dates.iloc[0] == pd.Timestamp("2010-12-01 07:26")  # Paris is UTC+1 in December


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
    cached = cache / f"{file_sha256(path)}-Online Retail.parquet"
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
    assert [p.name for p in cache.iterdir()] == [f"{file_sha256(tmp_path / 't.csv')}-csv.parquet"]


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
    df = load_transactions(_config(tmp_path / "generic.csv", columns=cols))
    assert list(df.columns) == ["invoice_id", "invoice_date", "customer_id", "amount", "revenue"]
    assert df["customer_id"].tolist() == ["17850", "00042"]
    assert df["revenue"].tolist() == [10.5, 3.0]
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
