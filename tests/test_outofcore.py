"""The SQL path on small hand-built parquet exports (typed in DuckDB as they are scanned):
values worked out by hand; errors and typing compared with the pandas loader, which reads csv
and xlsx files for the same SQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from rfm_helpers.analysis import metrics
from rfm_helpers.config import CleaningConfig, EngineConfig, InputConfig, RFMConfig, RunConfig
from rfm_helpers.data import loading
from rfm_helpers.sql import cleaning, transactions
from rfm_helpers.sql import dialect as sqldialect
from rfm_helpers.sql import rules as outofcore
from rfm_helpers.sql.engines import duckdb_engine

CODES = pd.DataFrame({"stock_code": ["POST"], "reason": ["postage"]})
FLAGGED = pd.DataFrame({"description": ["Damaged"], "reason": ["warehouse note"]})
RFM = RFMConfig(snapshot_date=dt.date(2011, 2, 7))

# fmt: off
ROWS = [
    # invoice, code, description, qty, date, price, customer, country            fate
    ("1001", "A", "Mug ", 2, "2011-01-01 10:00", 1.5, 1, "UK"),       # kept (3.00)
    ("1001", "A", "Mug", 2, "2011-01-01 10:00", 1.5, 1, "UK"),        # copy of the line above
    ("1001", "B", "Cup", 1, "2011-01-01 10:00", 2.0, 1, "UK"),        # split line ...
    ("1001", "B", "Cup", 3, "2011-01-01 10:00", 2.0, 1, "UK"),        # ... summed: 4 x 2.00
    ("C1002", "A", "Mug", -1, "2011-01-02 10:00", 1.5, 1, "UK"),      # cancels 1 of 1001 (-1.50)
    ("1003", "A", "Mug", 0, "2011-01-03 10:00", 1.5, 2, "France"),    # quantity 0
    ("1004", "A", "damaged", 5, "2011-01-03 11:00", 1.0, 2, "France"),  # flagged (5.00)
    ("1005", "A", "Mug", 1, "2011-01-04 10:00", 0.0, 2, "France"),    # price 0
    ("1006", "POST", "Postage", 1, "2011-01-04 11:00", 18.0, 2, "France"),  # non-product (18.00)
    ("1007", "A", "Mug", 4, "2011-02-01 09:00", 1.5, None, "UK"),     # no customer (6.00)
    ("1008", "B", "Cup", 1, "2011-02-05 12:00", 2.0, 2, "France"),    # kept (2.00)
    ("1009", "A", "Mug", 2, "2011-02-06 00:00", 1.5, 2, "Germany"),   # kept (3.00)
]
# fmt: on


def _write(folder, rows):
    """``rows`` as a parquet export in the layout of Online Retail."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ],
    ).astype({"InvoiceDate": "datetime64[us]", "CustomerID": "Int64"})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def export(tmp_path):
    return InputConfig(path=_write(tmp_path, ROWS))


def _duckdb(input_cfg, cleaning_cfg, rfm_cfg=RFM):
    """The cleaning step's parquet path (:func:`rfm_helpers.sql.transactions.build`), keeping the
    clean rows: ``rfm_source`` over the files, then every rule, the customer table and the marts."""
    with duckdb_engine(EngineConfig()) as engine:
        present = outofcore.register_parquet_source(engine, input_cfg)
        return transactions.run(
            engine, present, cleaning_cfg, rfm_cfg, CODES, FLAGGED, input_cfg.missing_text, keep_clean=True
        )


def _from_loader(input_cfg, cleaning_cfg, rfm_cfg=RFM):
    """The same rows read by the pandas loader (the csv and xlsx path), then the same SQL."""
    raw = loading.load_transactions(input_cfg)
    return transactions.clean_frame(raw, cleaning_cfg, rfm_cfg, CODES, FLAGGED, input_cfg.missing_text)


def test_ledger_worked_out_by_hand(export):
    ledger = _duckdb(export, CleaningConfig()).ledger.set_index("step")
    assert ledger["rows_removed"].tolist() == [0, 1, 1, 1, 1, 1, 1, 2, 0]
    # the last step nets C1002 against 1001: 2 mugs at 1.50 become 1 (-1.50), no row removed
    assert ledger["revenue_removed"].tolist() == [0.0, -1.5, 0.0, 5.0, 0.0, 18.0, 6.0, 3.0, 1.5]
    assert ledger["rows_remaining"].tolist() == [12, 11, 10, 9, 8, 7, 6, 4, 4]
    assert ledger["revenue_remaining"].tolist() == [46.5, 48.0, 48.0, 43.0, 43.0, 25.0, 19.0, 16.0, 14.5]
    assert ledger.loc["flagged_descriptions", "note"] == "1 rows; most frequent: damaged 1"
    assert ledger.loc["non_product_codes", "note"] == "1 rows; most frequent: POST 1"
    assert ledger.loc["duplicates", "note"] == (
        "2 rows shared a key: 1 groups of identical copies dropped, 1 groups summed "
        "(1 copies dropped, 1 rows merged into others; summing keeps revenue)"
    )


def test_clean_table_and_customers_worked_out_by_hand(export):
    result = _duckdb(export, CleaningConfig())
    clean = result.clean
    assert clean["invoice_id"].tolist() == ["1001", "1001", "1008", "1009"]
    assert clean["stock_code"].tolist() == ["A", "B", "B", "A"]
    assert clean["description"].tolist() == ["Mug", "Cup", "Cup", "Mug"]  # trimmed
    assert clean["quantity"].tolist() == [1.0, 4.0, 1.0, 2.0]  # 1001's mugs: 2 bought, 1 cancelled
    assert clean["revenue"].tolist() == [1.5, 8.0, 2.0, 3.0]
    assert clean["unit_price"].tolist() == [1.5, 2.0, 2.0, 1.5]

    customers = result.customers
    assert customers["customer_id"].tolist() == ["1", "2"]
    assert customers["recency"].tolist() == [37, 1]  # 2011-02-07 minus 2011-01-01, minus 2011-02-06
    assert customers["frequency"].tolist() == [1, 2]
    assert customers["monetary"].tolist() == [9.5, 5.0]
    assert customers["country"].tolist() == ["UK", "France"]  # France and Germany tie: alphabetical
    assert customers["last_purchase"].tolist() == [
        pd.Timestamp("2011-01-01 10:00"),
        pd.Timestamp("2011-02-06"),
    ]


# fmt: off
NETTING_ROWS = [
    # invoice, code, description, qty, date, price, customer, country         fate
    ("1", "A", "Jar", 10, "2011-01-01 10:00", 2.0, 1, "UK"),    # consumed first: removed (-20.00)
    ("2", "A", "Jar", 5, "2011-01-02 10:00", 2.0, 1, "UK"),     # 2 of 5 consumed: 3 left (-4.00)
    ("C3", "A", "Jar", -12, "2011-01-03 10:00", 2.0, 1, "UK"),  # 12 = 10 + 2, oldest first
    ("C4", "B", "Cup", -1, "2011-01-03 11:00", 4.0, 1, "UK"),   # never bought: unmatched
    ("C5", "D", "Mug", -2, "2011-01-04 09:00", 1.0, 2, "UK"),   # before the purchase: unmatched
    ("6", "D", "Mug", 2, "2011-01-05 09:00", 1.0, 2, "UK"),     # kept
    ("C7", "A", "Jar", -1, "2011-01-06 09:00", 2.0, None, "UK"),  # no customer: cannot be matched
    ("8", "A", "Jar", 4, "2011-01-07 09:00", 2.0, 3, "UK"),     # another customer: untouched
]
# fmt: on


@pytest.mark.parametrize("mode", ["net", "drop"])
def test_netting_worked_out_by_hand(tmp_path, mode):
    input_cfg = InputConfig(path=_write(tmp_path / "netting", NETTING_ROWS))
    cleaning_cfg = CleaningConfig(cancellations=mode)
    result = _duckdb(input_cfg, cleaning_cfg)
    row = result.ledger.set_index("step").loc["cancelled_orders"]
    clean = result.clean
    netting = result.netting
    assert (netting.matched_in_full, netting.unmatched, netting.unmatchable) == (1, 2, 1)
    assert (netting.purchase_lines_removed, netting.purchase_lines_reduced) == (1, 1)
    assert netting.unmatched_units == 3 and netting.revenue == 24.0
    if mode == "net":
        assert (row["rows_removed"], row["revenue_removed"], row["revenue_remaining"]) == (1, 24.0, 16.0)
        assert clean["invoice_id"].tolist() == ["2", "6", "8"]
        assert clean["quantity"].tolist() == [3.0, 2.0, 4.0]
        assert clean["revenue"].tolist() == [6.0, 2.0, 8.0]
        assert result.customers["monetary"].tolist() == [6.0, 2.0, 8.0]
    else:
        assert not row["applied"] and (row["rows_removed"], row["revenue_removed"]) == (0, 0.0)
        assert clean["revenue"].sum() == 40.0


def test_unmapped_columns_skip_their_rules(export):
    columns = export.columns.model_copy(update={"description": None, "country": None})
    input_cfg = export.model_copy(update={"columns": columns})
    result = _duckdb(input_cfg, CleaningConfig())
    assert "country" not in result.customers.columns
    ledger = result.ledger.set_index("step")
    assert ledger.loc["flagged_descriptions", "note"] == "no description column in the data"
    # 1004 ("damaged", 5.00) is no longer flagged: it stays, and so does customer 2's 5.00 more
    assert not ledger.loc["flagged_descriptions", "applied"]
    assert ledger.loc["flagged_descriptions", "rows_removed"] == 0
    assert ledger["rows_remaining"].tolist() == [12, 11, 10, 10, 9, 8, 7, 5, 5]
    assert result.customers["monetary"].tolist() == [9.5, 10.0]


def test_folder_of_parquet_files_keeps_file_order(export, tmp_path):
    frame = pd.read_parquet(export.path)
    folder = tmp_path / "parts"
    for month, part in frame.groupby(frame["InvoiceDate"].dt.strftime("%Y-%m")):
        (folder / f"month={month}").mkdir(parents=True)
        part.to_parquet(folder / f"month={month}" / "part-0.parquet", index=False)
    result = _duckdb(export.model_copy(update={"path": folder}), CleaningConfig())
    single = _duckdb(export, CleaningConfig())
    pd.testing.assert_frame_equal(result.ledger, single.ledger)
    pd.testing.assert_frame_equal(result.customers, single.customers)


def test_every_row_removed_is_a_clear_error(export, tmp_path, monkeypatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path / "out"))
    everything = pd.DataFrame({"stock_code": ["A", "B", "POST"], "reason": ["x", "x", "x"]})
    cfg = RunConfig(run_name="emptied", input=export, rfm=RFM)
    with pytest.raises(cleaning.CleaningError, match="rule 'non_product_codes'"):
        transactions.build(cfg, everything, FLAGGED)
    assert not cfg.marts_dir.exists()  # nothing written for the later steps to read


def test_single_customer_left_is_a_clear_error(export, tmp_path):
    frame = pd.read_parquet(export.path)
    path = tmp_path / "one_customer.parquet"
    frame.assign(CustomerID=frame["CustomerID"].where(frame["CustomerID"] != 2)).to_parquet(path, index=False)
    input_cfg = InputConfig(path=path)
    with pytest.raises(metrics.MetricsError) as expected:
        _from_loader(input_cfg, CleaningConfig())
    with pytest.raises(metrics.MetricsError) as actual:
        _duckdb(input_cfg, CleaningConfig())
    assert str(actual.value) == str(expected.value)
    assert str(actual.value).startswith(
        "The clean data has a single customer (1): RFM scores rank customers against each other, so "
        "at least 2 are needed. Check input.path and input.columns.customer_id"
    )


def test_missing_column_names_the_column(export):
    columns = export.columns.model_copy(update={"customer_id": "Customer ID"})
    with pytest.raises(loading.InputError, match="'Customer ID' not found"):
        _duckdb(export.model_copy(update={"columns": columns}), CleaningConfig())


def test_csv_input_is_read_by_the_loader_then_cleaned_in_sql(export, tmp_path, monkeypatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path / "out"))
    path = tmp_path / "export.csv"
    pd.read_parquet(export.path).to_csv(path, index=False, date_format="%Y-%m-%d %H:%M")
    from_csv = transactions.build(
        RunConfig(run_name="csv", input=InputConfig(path=path), rfm=RFM), CODES, FLAGGED
    )
    pd.testing.assert_frame_equal(from_csv.ledger, _duckdb(export, CleaningConfig()).ledger)
    assert from_csv.rules["removed_by"].notna().sum() == 6  # one row per rule 1-6


def test_query_parameters_must_match_the_file():
    with pytest.raises(sqldialect.SQLTemplateError, match=r"missing parameters \['frequency_lines'\]"):
        sqldialect.render("customer_metrics", snapshot=dt.date(2011, 12, 10))
    with pytest.raises(sqldialect.SQLTemplateError, match="unknown parameters"):
        sqldialect.render("clean_keep", spark=True)
    with pytest.raises(sqldialect.SQLTemplateError, match="No query 'nope'"):
        sqldialect.render("nope")


# --- issue 9: the DuckDB path types and checks rows as the pandas loader does -------------------


def _variant(export, tmp_path, name, **columns):
    """The export with some columns replaced, as a new parquet file."""
    frame = pd.read_parquet(export.path).assign(**columns)
    path = tmp_path / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return export.model_copy(update={"path": path})


def _same_error(input_cfg, error=loading.InputError, rfm_cfg=RFM):
    """The pandas loader (then the SQL) and the DuckDB parquet scan fail with one message."""
    with pytest.raises(error) as expected:
        _from_loader(input_cfg, CleaningConfig(), rfm_cfg)
    with pytest.raises(error) as actual:
        _duckdb(input_cfg, CleaningConfig(), rfm_cfg)
    assert str(actual.value) == str(expected.value)
    return str(actual.value)


def test_fractional_float_id_is_the_same_error(export, tmp_path):
    ids = [1.0, 1, 1, 1, 1, 2, 2, 2, 2.5, None, 2, 2]  # row 9: 2.5
    message = _same_error(_variant(export, tmp_path, "ids", CustomerID=ids))
    assert (
        "column 'CustomerID' holds ids, but 2.5 at data row 9 is not a whole number (1 such values)"
        in message
    )


@pytest.mark.parametrize(
    ("price", "shown"),
    [
        (float("inf"), "inf at data row 7, not a finite number"),
        (1e308, "1e+308 at data row 7, beyond ±10^15"),
    ],
)
def test_non_finite_or_huge_price_is_the_same_error(export, tmp_path, price, shown):
    prices = [1.5] * 12
    prices[6] = price
    message = _same_error(_variant(export, tmp_path, "price", UnitPrice=prices))
    assert f"column 'UnitPrice' has {shown} (1 such values)" in message


def test_text_in_a_number_column_is_the_same_error(export, tmp_path):
    quantities = ["2", "2", "1", "3", "-1", "0", "5", "one", "1", "4", "1", "2"]
    message = _same_error(_variant(export, tmp_path, "qty", Quantity=quantities))
    assert "column 'Quantity' must be numeric but has text 'one' at data row 8 (1 such values)" in message


def test_dates_are_the_same_errors(export, tmp_path):
    dates = pd.read_parquet(export.path)["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    offsets = [*dates[:3], "2011-01-03T10:00:00+01:00", *dates[4:]]
    message = _same_error(_variant(export, tmp_path, "offsets", InvoiceDate=offsets))
    assert (
        "has timestamps with a UTC offset (e.g. '2011-01-03T10:00:00+01:00' at data row 4; 1 such" in message
    )
    mixed = [*dates[:5], "next tuesday", *dates[6:]]
    message = _same_error(_variant(export, tmp_path, "mixed", InvoiceDate=mixed))
    assert "mixes date formats: 11 values are in ISO 8601 (e.g. '2011-01-01 10:00' at data row 1)" in message
    serials = [40544.0] * 11 + [20110101.0]
    message = _same_error(_variant(export, tmp_path, "serial", InvoiceDate=serials))
    assert "but 20110101.0 at data row 12 is not one" in message


def test_late_rows_are_the_same_error(export, tmp_path):
    # RFM's snapshot is 2011-02-07; move invoice 1008 (customer 2, kept by the rules) to 2011-03-01
    dates = pd.read_parquet(export.path)["InvoiceDate"].tolist()
    dates[10] = pd.Timestamp("2011-03-01 12:00")
    message = _same_error(_variant(export, tmp_path, "late", InvoiceDate=dates), error=metrics.MetricsError)
    assert message.startswith(
        "rfm.snapshot_date is 2011-02-07, before the last transaction: 1 transaction is dated after it, "
        "the latest on 2011-03-01 12:00 (invoice 1008, customer 2); the data runs from 2011-01-01 to "
        "2011-03-01."
    )


def test_serial_dates_zones_and_float_ids_are_typed_as_pandas_types_them(export, tmp_path):
    frame = pd.read_parquet(export.path)
    serial = (frame["InvoiceDate"] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    for name, columns, extra in [
        ("serial", {"InvoiceDate": serial}, {}),
        (
            "zoned",
            {"InvoiceDate": frame["InvoiceDate"].dt.tz_localize("Asia/Tokyo")},
            {"timezone": "Europe/London"},
        ),
        ("floats", {"CustomerID": frame["CustomerID"].astype(float), "InvoiceNo": frame["InvoiceNo"]}, {}),
    ]:
        input_cfg = _variant(export, tmp_path, name, **columns).model_copy(update=extra)
        expected = _from_loader(input_cfg, CleaningConfig())
        result = _duckdb(input_cfg, CleaningConfig())
        pd.testing.assert_frame_equal(result.clean, expected.clean)
        pd.testing.assert_frame_equal(result.customers, expected.customers)
    # Tokyo 2011-01-01 10:00 is 01:00 in London (UTC+0 in winter)
    assert result.customers is not None
    zoned = _variant(export, tmp_path, "z2", InvoiceDate=frame["InvoiceDate"].dt.tz_localize("Asia/Tokyo"))
    loaded = loading.load_transactions(zoned.model_copy(update={"timezone": "Europe/London"}))
    assert loaded["invoice_date"].iloc[0] == pd.Timestamp("2011-01-01 01:00")


def test_struct_column_is_refused_by_name(export, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(export.path).drop(["CustomerID"])
    ids = pa.array([{"id": 1, "source": "crm"}] * table.num_rows)
    path = tmp_path / "struct.parquet"
    pq.write_table(table.append_column("CustomerID", ids), path)
    message = _same_error(export.model_copy(update={"path": path}))
    assert message.startswith(
        f"{path}: column 'CustomerID' (input.columns.customer_id) is a parquet struct column"
    )


def test_fractional_text_id_is_the_same_error_unless_the_column_is_text(export, tmp_path):
    """A fraction among numbers in a text id column is an error (its message from a second scan);
    beside a value that is no number ("C1002"), the column is text and the fraction an id."""
    invoices = pd.read_parquet(export.path)["InvoiceNo"].tolist()  # row 5: C1002
    numbers = [*invoices[:4], "1002", "1003.5", *invoices[6:]]
    message = _same_error(_variant(export, tmp_path, "numbers", InvoiceNo=numbers))
    assert "column 'InvoiceNo' holds ids, but '1003.5' at data row 6 is not a whole number" in message
    text = _variant(export, tmp_path, "text", InvoiceNo=[*invoices[:5], "1003.5", *invoices[6:]])
    ledger = _duckdb(text, CleaningConfig()).ledger.set_index("step")
    pd.testing.assert_frame_equal(ledger, _from_loader(text, CleaningConfig()).ledger.set_index("step"))
    assert ledger.loc["raw", "rows_remaining"] == 12
