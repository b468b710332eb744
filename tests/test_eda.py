"""Exploratory summaries on a five-line clean table whose figures are worked out by hand.

The tables are the SQL aggregates (:func:`rfm_helpers.sql.transactions.clean_frame`) as the reports
read them (:class:`rfm_helpers.sql.transactions.Marts`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.config import CleaningConfig, InputConfig
from rfm_helpers.report import eda
from rfm_helpers.sql import transactions


def marts(frame: pd.DataFrame, folder: Path, cleaning: CleaningConfig | None = None) -> transactions.Marts:
    """The report tables of ``frame`` (a typed frame whose every row passes the cleaning rules)."""
    transactions.clean_frame(frame, cleaning, with_customers=False).write(folder)
    return transactions.Marts(folder, InputConfig().columns)


@pytest.fixture
def clean() -> pd.DataFrame:
    """Five invoice lines, four invoices, three customers, three products, two countries.

    revenue = quantity × unit_price: 2×5 = 10, 1×20 = 20, 1×5 = 5, 4×5 = 20, 1×1200 = 1200;
    total 10 + 20 + 5 + 20 + 1200 = 1255.
    """
    return pd.DataFrame(
        {
            "invoice_id": ["A1", "A1", "A2", "A3", "A4"],
            "stock_code": ["X", "Y", "X", "X", "Z"],
            "description": ["MUG", "BAG", "MUG RED", "MUG", "LAMP"],
            "quantity": [2, 1, 1, 4, 1],
            "invoice_date": pd.to_datetime(
                [
                    "2011-01-05 10:00",
                    "2011-01-05 10:00",
                    "2011-02-10 09:30",
                    "2011-02-20 14:15",
                    "2011-03-01 08:00",
                ]
            ),
            "unit_price": [5.0, 20.0, 5.0, 5.0, 1200.0],
            "customer_id": ["c1", "c1", "c2", "c1", "c3"],
            "country": ["United Kingdom", "United Kingdom", "France", "United Kingdom", "France"],
            "revenue": [10.0, 20.0, 5.0, 20.0, 1200.0],
        }
    )


@pytest.fixture
def tables(clean, tmp_path) -> transactions.Marts:
    return marts(clean, tmp_path)


# --- overview --------------------------------------------------------------------------


def test_overview_values_are_formatted_text(tables):
    table = eda.overview_table(tables.figures())
    assert list(table.columns) == ["figure", "value"]
    figures = dict(zip(table["figure"], table["value"], strict=True))
    assert figures == {
        "Invoice lines": "5",
        "Orders (distinct invoices)": "4",  # A1..A4
        "Customers": "3",
        "Revenue": "£1,255.00",  # 10 + 20 + 5 + 20 + 1200
        "First order": "05 Jan 2011 10:00",
        "Last order": "01 Mar 2011 08:00",
        "Products (distinct stock codes)": "3",  # X, Y, Z
        "Countries (with a clean line)": "2",
    }
    assert all(isinstance(v, str) for v in table["value"])


def test_overview_currency_and_thousands_separator(clean, tmp_path):
    big = pd.concat([clean] * 400, ignore_index=True)  # 2,000 lines, revenue 400 × 1255 = 502,000
    # the copies are kept (the duplicates rule would merge them)
    figures = marts(big, tmp_path, CleaningConfig(duplicates="keep")).figures()
    table = dict(eda.overview_table(figures, currency="$").to_numpy())
    assert table["Invoice lines"] == "2,000"
    assert table["Revenue"] == "$502,000.00"


def test_overview_without_optional_columns(clean, tmp_path):
    table = eda.overview_table(marts(clean.drop(columns=["stock_code", "country"]), tmp_path).figures())
    assert table["figure"].tolist() == [
        "Invoice lines",
        "Orders (distinct invoices)",
        "Customers",
        "Revenue",
        "First order",
        "Last order",
    ]


# --- orders ----------------------------------------------------------------------------


def test_orders_one_row_per_invoice(clean, tables):
    table = tables.orders()
    assert table.columns.tolist() == ["invoice_id", "lines", "revenue"]
    assert table["invoice_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert table["lines"].tolist() == [2, 1, 1, 1]
    assert table["revenue"].tolist() == [30.0, 5.0, 20.0, 1200.0]  # A1: 10 + 20
    assert table["revenue"].sum() == pytest.approx(clean["revenue"].sum())


def test_orders_without_quantity_and_country(clean, tmp_path):
    # an amount-only export: revenue is the amount
    amounts = clean.drop(columns=["quantity", "unit_price", "country"]).assign(amount=clean["revenue"])
    table = marts(amounts, tmp_path).orders()
    assert table["lines"].sum() == 5
    assert table["revenue"].tolist() == [30.0, 5.0, 20.0, 1200.0]


# --- monthly ---------------------------------------------------------------------------


def test_monthly_revenue_orders_customers(tables):
    table = tables.monthly()
    assert table.columns.tolist() == ["month", "revenue", "orders", "customers"]
    assert table["month"].tolist() == [
        pd.Timestamp("2011-01-01"),
        pd.Timestamp("2011-02-01"),
        pd.Timestamp("2011-03-01"),
    ]
    # Jan: A1 (10 + 20); Feb: A2 (5) + A3 (20) by c2 and c1; Mar: A4 (1200)
    assert table["revenue"].tolist() == [30.0, 25.0, 1200.0]
    assert table["orders"].tolist() == [1, 2, 1]
    assert table["customers"].tolist() == [1, 2, 1]


# --- by_country ------------------------------------------------------------------------


def test_by_country_largest_revenue_first_with_shares(tables):
    table = tables.by_country()
    assert table.columns.tolist() == ["country", "customers", "orders", "revenue", "revenue_share"]
    # France: c2 + c3, A2 + A4, 5 + 1200 = 1205; UK: c1, A1 + A3, 30 + 20 = 50
    assert table["country"].tolist() == ["France", "United Kingdom"]
    assert table["customers"].tolist() == [2, 1]
    assert table["orders"].tolist() == [2, 2]
    assert table["revenue"].tolist() == [1205.0, 50.0]
    assert table["revenue_share"].tolist() == pytest.approx([1205 / 1255, 50 / 1255])
    assert table["revenue_share"].sum() == pytest.approx(1.0)


def test_by_country_ties_are_alphabetical(tmp_path):
    clean = pd.DataFrame(
        {
            "invoice_id": ["1", "2", "3"],
            "quantity": [1.0, 1.0, 1.0],
            "invoice_date": pd.to_datetime(["2011-01-01"] * 3),
            "unit_price": [10.0, 10.0, 30.0],
            "customer_id": ["a", "b", "c"],
            "country": ["Spain", "Belgium", "Austria"],
            "revenue": [10.0, 10.0, 30.0],
        }
    )
    table = marts(clean, tmp_path).by_country()
    assert table["country"].tolist() == ["Austria", "Belgium", "Spain"]
    assert table["revenue_share"].tolist() == pytest.approx([0.6, 0.2, 0.2])  # 30/50, 10/50, 10/50


# --- top_products ----------------------------------------------------------------------


def test_top_products_by_revenue_labelled_with_most_common_description(tables):
    table = tables.top_products(10)
    assert table.columns.tolist() == ["stock_code", "product", "revenue", "orders", "units"]
    # Z: 1200; X: 10 + 5 + 20 = 35 in A1, A2, A3, units 2 + 1 + 4 = 7; Y: 20
    assert table["stock_code"].tolist() == ["Z", "X", "Y"]
    assert table["revenue"].tolist() == [1200.0, 35.0, 20.0]
    assert table["orders"].tolist() == [1, 3, 1]
    assert table["units"].tolist() == [1, 7, 1]
    # X is "MUG" on two lines and "MUG RED" on one: the label is "MUG"
    assert table["product"].tolist() == ["LAMP", "MUG", "BAG"]


def test_top_products_keeps_the_n_largest(tables):
    assert tables.top_products(2)["stock_code"].tolist() == ["Z", "X"]


def test_the_mart_keeps_top_n_products_with_their_own_orders_and_labels(clean, tmp_path):
    # X's lines: A1, A2, A3 (3 orders), "MUG" twice; a line without stock code in A1 and A4
    # (revenue 500): the stock code missing is a product of its own, with its 2 orders.
    extra = clean.iloc[[0, 4]].assign(
        stock_code=[None, None], description=["?", "?"], quantity=[1, 1], unit_price=[250.0, 250.0]
    )
    frame = pd.concat([clean, extra.assign(revenue=[250.0, 250.0])], ignore_index=True)
    kept = transactions.clean_frame(frame, with_customers=False, top_n=3).tables["products"]
    assert kept["stock_code"].iloc[[0, 2]].tolist() == ["Z", "X"] and pd.isna(kept["stock_code"].iloc[1])
    assert kept["orders"].tolist() == [1, 2, 3]
    assert kept["revenue"].tolist() == [1200.0, 500.0, 35.0]
    assert kept["product"].iloc[[0, 2]].tolist() == ["LAMP", "MUG"] and pd.isna(kept["product"].iloc[1])
    every = transactions.clean_frame(frame, with_customers=False).tables["products"]
    pd.testing.assert_frame_equal(kept, every.head(3))
    assert len(every) == 4 and every["stock_code"].iloc[3] == "Y"


def test_top_products_description_tie_goes_to_the_alphabetically_first(tmp_path):
    clean = pd.DataFrame(
        {
            "invoice_id": ["1", "2"],
            "stock_code": ["X", "X"],
            "description": ["ZEBRA MUG", "APPLE MUG"],
            "invoice_date": pd.to_datetime(["2011-01-01"] * 2),
            "customer_id": ["a", "b"],
            "amount": [1.0, 2.0],
            "revenue": [1.0, 2.0],
        }
    )
    table = marts(clean, tmp_path).top_products(10)
    assert table["product"].tolist() == ["APPLE MUG"]
    assert table["units"].isna().all()  # no quantity column: no units


def test_top_products_without_description_uses_the_code(clean, tmp_path):
    table = marts(clean.drop(columns=["description"]), tmp_path).top_products(10)
    assert table["product"].tolist() == ["Z", "X", "Y"]


# --- orders_per_customer ---------------------------------------------------------------


def test_orders_per_customer_folds_10_and_more(tmp_path):
    # p: 12 orders, q: 10 orders, r and s: 1 order, t: 2 orders
    invoices = {"p": 12, "q": 10, "r": 1, "s": 1, "t": 2}
    rows = [(c, f"{c}{i}") for c, n in invoices.items() for i in range(n)]
    rows.append(("t", "t0"))  # a second line of the same invoice does not add an order
    clean = pd.DataFrame(rows, columns=["customer_id", "invoice_id"]).assign(
        invoice_date=pd.Timestamp("2011-01-01"), quantity=1.0, unit_price=1.0, revenue=1.0
    )
    table = marts(clean, tmp_path).orders_per_customer()
    assert table.columns.tolist() == ["orders", "customers", "share"]
    assert table["orders"].tolist() == ["1", "2", "10+"]
    assert table["customers"].tolist() == [2, 1, 2]
    assert table["share"].tolist() == pytest.approx([0.4, 0.2, 0.4])  # of 5 customers
    assert table["share"].sum() == pytest.approx(1.0)


def test_orders_per_customer_on_the_fixture(tables):
    table = tables.orders_per_customer()
    # c1: A1, A3 → 2; c2: A2 → 1; c3: A4 → 1
    assert table["orders"].tolist() == ["1", "2"]
    assert table["customers"].tolist() == [2, 1]
    assert table["share"].tolist() == pytest.approx([2 / 3, 1 / 3])


# --- column_profile and numeric_summary -------------------------------------------------


def test_column_profile_counts():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0, 3.0], "b": ["x", "x", None, None], "c": [1, 2, 3, 4]})
    table = eda.column_profile(df)
    assert table.columns.tolist() == [
        "column",
        "type",
        "filled",
        "missing",
        "missing share",
        "distinct values",
    ]
    assert table["column"].tolist() == ["a", "b", "c"]
    assert table["type"].tolist() == ["Number", "Text", "Whole number"]  # in words, not dtype names
    assert table["filled"].tolist() == [3, 2, 4]
    assert table["missing"].tolist() == [1, 2, 0]
    assert table["missing share"].tolist() == pytest.approx([0.25, 0.5, 0.0])  # 1/4, 2/4, 0/4
    assert table["distinct values"].tolist() == [2, 1, 4]  # missing values are not counted


def test_column_profile_of_an_empty_frame_does_not_divide_by_zero():
    table = eda.column_profile(pd.DataFrame({"a": pd.Series([], dtype="float64")}))
    assert table["missing share"].tolist() == [0.0]
    assert table["filled"].tolist() == [0]


def test_numeric_summary_only_numeric_columns():
    df = pd.DataFrame({"n": [1, 2, 3, 4], "text": ["a", "b", "c", "d"], "x": [10.0, 10.0, 10.0, 10.0]})
    table = eda.numeric_summary(df)
    assert table.columns.tolist() == ["column", "count", "mean", "std", "min", "p25", "median", "p75", "max"]
    assert table["column"].tolist() == ["n", "x"]
    assert table["count"].dtype == "int64"
    n = table.set_index("column").loc["n"]
    # mean 10/4 = 2.5; quartiles by linear interpolation at positions 0.75, 1.5, 2.25 → 1.75, 2.5, 3.25;
    # std = sqrt(((1.5² + 0.5²) × 2) / 3) = sqrt(5/3)
    assert n["count"] == 4
    assert n["mean"] == pytest.approx(2.5)
    assert n["std"] == pytest.approx(np.sqrt(5 / 3))
    assert [n["min"], n["p25"], n["median"], n["p75"], n["max"]] == pytest.approx([1, 1.75, 2.5, 3.25, 4])
    assert table.set_index("column").loc["x", "std"] == 0.0


# --- labels and key findings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("float64", "Number"),
        ("int64", "Whole number"),
        ("bool", "Yes/no"),
        ("datetime64[us]", "Date and time"),
        ("object", "Text"),
        (pd.StringDtype(), "Text"),
    ],
)
def test_type_label_in_words(dtype, expected):
    assert eda.type_label(pd.Series([], dtype=dtype).dtype) == expected


def test_readable_labels_headers_values_and_column_names():
    table = pd.DataFrame(
        {
            "column": ["unit_price", "customer_id", "basket_size"],
            "invoice_starts_with_c": [True, False, True],
            "rows_zero_price": [1, 2, 3],
            "revenue_share": [0.5, 0.25, 0.25],
        }
    )
    view = eda.readable(table)
    assert view.columns.tolist() == [
        "Column",
        "Invoice starts with C (cancellation)",
        "Rows with price 0",
        "Share of revenue",
    ]
    assert view["Column"].tolist() == ["Unit price", "Customer ID", "Basket size"]
    assert view["Invoice starts with C (cancellation)"].tolist() == ["yes", "no", "yes"]
    assert view["Rows with price 0"].tolist() == [1, 2, 3]  # numbers untouched
    assert table.columns[0] == "column"  # the input is not modified
    assert not any("_" in c for c in view.columns)


def test_key_findings_measured_from_the_tables(tables):
    figures = tables.figures()
    text = eda.key_findings(
        figures, tables.by_country(), tables.top_products(3), tables.orders_per_customer()
    )
    items = text.split("\n")[2:]
    assert text.startswith("**Key findings** (clean data")
    assert 3 <= len(items) <= 5
    assert items[0] == "- The clean data covers **05 Jan 2011 to 01 Mar 2011**: 5 invoice lines in 4 orders."
    # 1,255 over 3 customers = 418.33
    assert items[1] == "- **3 customers** spent **£1,255**, £418 each on average."
    # France: 5 + 1,200 = 1,205 of 1,255 = 96 %
    assert items[2] == "- **France** brings **96%** of revenue (2 countries have at least one clean line)."
    # Z (LAMP): 1,200 from 1 order
    assert items[3] == "- The best-selling product is **LAMP**: £1,200 from 1 orders."
    # c1: 2 orders (A1, A3); c2 and c3: 1 each -> 2 of 3 customers ordered once
    assert items[4] == "- **67%** of customers ordered only once."
    short = eda.key_findings(figures)
    assert len(short.split("\n")[2:]) == 2
    # The document's method keeps cancelled orders: the revenue finding says so.
    kept = eda.key_findings(figures, cancellations="drop").split("\n")[3]
    assert kept.startswith("- **3 customers** spent **£1,255** (orders cancelled later included: ")
