"""Number formats chosen from column names and values, stable HTML, plain key figures and the
renamed stakeholder views."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from rfm_helpers import tables
from rfm_helpers.tables import _column_format


def fmt(name: str, values, currency: str = "£"):
    series = pd.Series(values)
    formatter = _column_format(name, series, currency)
    assert formatter is not None, f"{name} should be formatted"
    return [formatter(v) for v in series]


def cells(html: str) -> list[str]:
    """Text of the body cells, row by row."""
    return [text.strip() for text in re.findall(r"<td [^>]*>([^<]*)</td>", html)]


# --- the format chosen per column ------------------------------------------------------


def test_share_columns_are_percentages():
    assert fmt("customer_share", [0.1234, 1.0, np.nan]) == ["12.3%", "100.0%", ""]
    assert fmt("share of revenue", [0.0005]) == ["0.1%"]  # 0.05 % rounds to 0.1 %


def test_share_wins_over_integer_and_money_words():
    assert fmt("revenue_share", [1, 0]) == ["100.0%", "0.0%"]


def test_integer_columns_get_a_thousands_separator():
    assert fmt("customers", [1_234_567, 5, -1200]) == ["1,234,567", "5", "-1,200"]
    assert fmt("rows", pd.array([1000, None], dtype="Int64")) == ["1,000", ""]


@pytest.mark.parametrize("name", ["revenue", "monetary_median", "median spend", "unit_price", "amount", "£"])
def test_money_words_give_currency_with_two_decimals(name):
    assert fmt(name, [1234.5, 0.25]) == ["£1,234.50", "£0.25"]


def test_negative_money_has_the_minus_before_the_symbol():
    assert fmt("revenue_removed", [-1234.5, -0.5]) == ["-£1,234.50", "-£0.50"]


def test_money_uses_the_given_currency():
    assert fmt("Revenue", [-5.0, 7.125], currency="$") == ["-$5.00", "$7.12"]


def test_missing_money_is_blank():
    assert fmt("revenue", [1.0, np.nan]) == ["£1.00", ""]


def test_whole_number_floats_have_no_decimals():
    # medians of integers and bin edges are stored as float
    assert fmt("recency_median", [5.0, 1234.0, np.nan]) == ["5", "1,234", ""]


def test_other_floats_have_two_decimals():
    assert fmt("silhouette", [0.41666, 1234.5, 2.0]) == ["0.42", "1,234.50", "2.00"]


def test_text_and_bool_columns_are_left_as_is():
    assert _column_format("segment", pd.Series(["a", "b"]), "£") is None
    assert _column_format("applied", pd.Series([True, False]), "£") is None
    assert _column_format("month", pd.Series(pd.to_datetime(["2011-01-01"])), "£") is None


# --- styled ----------------------------------------------------------------------------


@pytest.fixture
def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["Champions", "Lost Customers"],
            "customers": [1234, 5],
            "customer_share": [0.256, 0.5],
            "revenue": [12_345.678, -20.0],
            "recency_median": [3.0, 250.0],
            "inertia": [0.5, 1.25],
        }
    )


def test_styled_html_cells(summary):
    html = tables.styled(summary, caption="Segments").to_html()
    assert cells(html) == [
        "Champions",
        "1,234",
        "25.6%",
        "£12,345.68",
        "3",
        "0.50",
        "Lost Customers",
        "5",
        "50.0%",
        "-£20.00",
        "250",
        "1.25",
    ]
    assert "<caption>Segments</caption>" in html


def test_styled_hides_a_range_index_but_not_a_named_one(summary):
    assert "row_heading" not in tables.styled(summary).to_html()
    indexed = tables.styled(summary.set_index("segment")).to_html()
    assert "row_heading" in indexed
    assert "Champions" in indexed


def test_styled_html_is_stable(summary):
    first = tables.styled(summary, caption="Segments").to_html()
    second = tables.styled(summary.copy(), caption="Segments").to_html()
    assert first == second
    table_id = re.search(r'<table id="(T_[0-9a-f]+)"', first).group(1)
    assert len(table_id) == len("T_") + 8
    assert table_id not in tables.styled(summary, caption="Other").to_html()


def test_styled_left_aligns_text_columns(summary):
    html = tables.styled(summary).to_html()
    assert re.search(r"th\.col0 \{\s*text-align: left;", html)
    assert "th.col1" not in html


def test_styled_currency(summary):
    assert "€12,345.68" in tables.styled(summary, currency="€").to_html()


# --- key_figures -----------------------------------------------------------------------


def test_key_figures_is_plain_deterministic_text():
    df = pd.DataFrame({"segment": ["A", "Bb"], "customers": [1234, 5], "share": [0.256, 0.5]})
    text = tables.key_figures(df)
    # right-aligned columns, no index, floats to 2 decimals (0.256 → 0.26), no thousands separator
    assert text == "segment  customers  share\n      A       1234   0.26\n     Bb          5   0.50"
    assert text == tables.key_figures(df.copy())


def test_key_figures_selects_columns_in_the_given_order():
    df = pd.DataFrame({"a": [1], "b": [2.0], "c": ["x"]})
    assert tables.key_figures(df, ["c", "b"]).splitlines() == ["c    b", "x 2.00"]


# --- ledger_view and segment_view ------------------------------------------------------


def test_ledger_view_columns_and_labels():
    ledger = pd.DataFrame(
        {
            "step": ["raw", "cancellations", "non_product_codes"],
            "rule": ["Transactions as loaded.", "Remove cancelled orders.", "Remove non-products."],
            "applied": [True, True, False],
            "note": ["6 rows as loaded", "", "disabled by cleaning.drop_non_product_codes: false"],
            "rows_removed": [0, 1, 0],
            "revenue_removed": [0.0, -20.0, 0.0],
            "rows_remaining": [6, 5, 5],
            "revenue_remaining": [12_345.0, 12_365.0, 12_365.0],
        }
    )
    view = tables.ledger_view(ledger)
    assert view.columns.tolist() == [
        "rule",
        "applied",
        "rows removed",
        "revenue removed",
        "rows left",
        "revenue left",
        "note",
    ]
    assert view["applied"].tolist() == ["yes", "yes", "no"]
    assert view["revenue removed"].tolist() == ["£0", "-£20", "£0"]
    assert view["revenue left"].tolist() == ["£12.3k", "£12.4k", "£12.4k"]  # 12,345 → 12.3k, 12,365 → 12.4k
    assert view["rows left"].tolist() == [6, 5, 5]
    assert tables.ledger_view(ledger, currency="$")["revenue left"].iloc[0] == "$12.3k"


def _segment_summary(category: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            category: ["A", "B"],
            "customers": [3, 1],
            "customer_share": [0.75, 0.25],
            "revenue": [30.0, 10.0],
            "revenue_share": [0.75, 0.25],
            "recency_median": [1.0, 2.0],
            "frequency_median": [3.0, 4.0],
            "monetary_median": [10.0, 10.0],
            "recency_mean": [1.0, 2.0],
        }
    )


def test_segment_view_columns():
    view = tables.segment_view(_segment_summary("segment"))
    assert view.columns.tolist() == [
        "segment",
        "customers",
        "share of customers",
        "revenue",
        "share of revenue",
        "median recency (days)",
        "median frequency (orders)",
        "median monetary",
    ]
    assert view["share of customers"].tolist() == [0.75, 0.25]


def test_segment_view_for_groups_and_invoice_lines():
    view = tables.segment_view(_segment_summary("group"), frequency_unit="invoice lines", category="group")
    assert view.columns[0] == "group"
    assert "median frequency (invoice lines)" in view.columns
    assert "recency_mean" not in view.columns


def test_text_is_escaped_not_markup():
    html = tables.styled(pd.DataFrame({"description": ["<b>MUG</b> & CO"], "rows": [3]})).to_html()
    assert "&lt;b&gt;MUG&lt;/b&gt; &amp; CO" in html
    assert "<b>MUG</b>" not in html


def test_integer_money_keeps_the_currency():
    # revenue stored as whole pounds: £1,500 (no decimals), still money
    html = tables.styled(pd.DataFrame({"revenue": [1500, -20], "rows_zero_price": [1336, 2]})).to_html()
    assert "£1,500" in html and "-£20" in html
    assert "1,336" in html and "£1,336" not in html  # a count of rows, not money
