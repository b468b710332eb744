"""Number formats chosen from column names and values, stable HTML, plain key figures and the
renamed stakeholder views."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.report import tables
from rfm_helpers.report.tables import _column_format


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


def test_other_floats_have_two_decimals_below_a_thousand():
    assert fmt("silhouette", [0.41666, 12.5, 2.0]) == ["0.42", "12.50", "2.00"]
    assert fmt("inertia", [13_002.0, 6_470.58, 0.5]) == ["13,002", "6,471", "0"]


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
        "median spend",
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


# --- human labels and units everywhere ---------------------------------------------------


def headers(html: str) -> list[str]:
    return [h.strip() for h in re.findall(r'<th [^>]*class="col_heading[^"]*"[^>]*>([^<]*)</th>', html)]


def cell_alignment(html: str) -> dict[int, str]:
    """``{column number: text-align}`` of the body cells, from the Styler's CSS rules."""
    aligned = {}
    for selectors, props in re.findall(r"([^{}]+)\{([^}]*)\}", html.split("</style>")[0]):
        align = re.search(r"text-align: (\w+)", props)
        for column in re.findall(r"_row\d+_col(\d+)", selectors):
            if align:
                aligned[int(column)] = align.group(1)
    return aligned


def test_headers_are_human_labels_not_snake_case():
    df = pd.DataFrame(
        {
            "cluster": [1],
            "cluster_name": ["Top Performers"],
            "customers": [700],
            "customer_share": [0.16],
            "recency_median": [9.0],
            "frequency_median": [10.0],
            "monetary_median": [3692.35],
            "revenue_share": [0.64],
            "share_wa": [0.6],
            "customers_above": [216],
            "n_descriptions": [8],
        }
    )
    html = tables.styled(df, frequency_unit="invoice lines").to_html()
    assert headers(html) == [
        "Cluster",
        "Cluster name",
        "Customers",
        "Share of customers",
        "Median recency (days)",
        "Median frequency (invoice lines)",
        "Median spend",
        "Share of revenue",
        "WhatsApp share",
        "Customers above the threshold",
        "Distinct descriptions",
    ]
    assert not [h for h in headers(html) if "_" in h]
    accounts = headers(tables.styled(df, entity="accounts").to_html())
    assert accounts[2:4] == ["Accounts", "Share of accounts"]
    assert "Accounts above the threshold" in accounts


def test_column_label_of_unknown_names():
    assert tables.column_label("rows_zero_price") == "Rows with price 0"
    assert tables.column_label("some_new_column") == "Some new column"
    assert tables.column_label("what the numbers say") == "What the numbers say"
    assert tables.column_label("monetary", currency="$") == "Monetary ($)"


def test_counts_and_days_are_integers_not_money_or_decimals():
    df = pd.DataFrame(
        {
            "customers": [239.0, 46829.0],  # counts stored as float (after a merge)
            "frequency_charged_median": [46829.0, 5886.0],
            "recency_median": [10.5, 83.0],  # a median between two days keeps its half
            "rows_zero_price": [1336, 2],
            "amount": [10646, 2985],  # an extraction ledger's amount counts campaigns
        }
    )
    assert cells(tables.styled(df).to_html()) == [
        "239", "46,829", "10.5", "1,336", "10,646",
        "46,829", "5,886", "83", "2", "2,985",
    ]  # fmt: skip


def test_booleans_say_yes_or_no_and_dtypes_are_words():
    df = pd.DataFrame(
        {
            "column": ["quantity", "invoice_date", "customer_id"],
            "type": ["float64", "datetime64[us]", "str"],
            "charged": [True, False, True],
        }
    )
    html = tables.styled(df).to_html()
    assert cells(html) == [
        "Quantity", "decimal number", "yes",
        "Invoice date", "date and time", "no",
        "Customer ID", "text", "yes",
    ]  # fmt: skip
    assert "float64" not in html and "datetime64" not in html


def test_a_summary_per_metric_takes_each_rows_unit():
    """eda.numeric_summary of R, F, M: recency in days, frequency in orders, monetary in money;
    the count of values always an integer; an interpolated quantile of counts rounded."""
    summary = pd.DataFrame(
        {
            "column": ["recency", "frequency", "monetary", "frequency_charged"],
            "count": [4334.0, 4334.0, 4334.0, 2661.0],
            "mean": [93.234, 4.2512, 2015.5712, 46096.2],
            "p25": [18.0, 1.0, 304.2431, 2621.8],
            "median": [50.5, 2.0, 661.42, 19377.0],
            "max": [374.0, 206.0, 279138.02, 3953998.0],
        }
    )
    html = tables.styled(summary, currency="€").to_html()
    assert cells(html) == [
        "Recency (days)", "4,334", "93.2", "18", "50.5", "374",
        "Frequency (orders)", "4,334", "4.3", "1", "2", "206",
        # a row reaching 100,000: no cents in that row
        "Monetary (€)", "4,334", "€2,016", "€304", "€661", "€279,138",
        "Charged messages", "2,661", "46,096", "2,622", "19,377", "3,953,998",
    ]  # fmt: skip


def test_large_money_columns_drop_the_cents_together():
    df = pd.DataFrame({"revenue": [5_348_399.13, 890_067.68, 0.5]})
    assert cells(tables.styled(df).to_html()) == ["£5,348,399", "£890,068", "£0"]
    assert cells(tables.styled(pd.DataFrame({"revenue": [12_345.678, 0.5]})).to_html()) == [
        "£12,345.68",
        "£0.50",
    ]


def test_currency_caption_and_headers_are_escaped():
    df = pd.DataFrame({"revenue": [1500.5], "<i>col</i>": ["x"]})
    html = tables.styled(df, caption="Top <script>x</script>", currency="<b>£</b>").to_html()
    assert "&lt;b&gt;£&lt;/b&gt;1,500.50" in html
    assert "<b>£</b>" not in html
    assert "<caption>Top &lt;script&gt;x&lt;/script&gt;</caption>" in html
    assert "<i>col</i>" not in html and "&lt;i&gt;col&lt;/i&gt;" in html


def test_formatted_money_text_is_right_aligned_and_identifiers_left():
    view = tables.ledger_view(
        pd.DataFrame(
            {
                "step": ["raw"],
                "rule": ["Transactions as loaded."],
                "applied": [True],
                "note": [""],
                "rows_removed": [0],
                "revenue_removed": [-896_812.49],
                "rows_remaining": [541_909],
                "revenue_remaining": [9_747_747.93],
            }
        )
    )
    html = tables.styled(view.assign(customer_id=["17850"])).to_html()
    # columns: rule, applied, rows removed, revenue removed, rows left, revenue left, note, customer_id
    alignment = cell_alignment(html)
    assert (alignment[3], alignment[5]) == ("right", "right")  # -£897k, £9.75M
    assert (alignment[0], alignment[7]) == ("left", "left")  # the rule, a customer id
    assert "-£897k" in html


def test_channel_codes_are_written_out():
    df = pd.DataFrame({"profile": ["wa+sms", "call"], "channel": ["email", "all"], "accounts": [3, 1]})
    assert cells(tables.styled(df).to_html()) == ["WhatsApp + SMS", "Email", "3", "Calls", "All", "1"]


def test_a_summary_already_labelled_keeps_its_row_units():
    """A table whose headers and metric names were labelled upstream (``eda.readable``) is
    still formatted per row: the units follow the labels."""
    summary = pd.DataFrame(
        {
            "Column": ["Recency (days)", "Revenue"],
            "Mean": [93.234, 2015.5712],
            "25th percentile": [18.0, 304.2431],
            "Maximum": [374.0, 9138.02],
        }
    )
    assert cells(tables.styled(summary).to_html()) == [
        "Recency (days)", "93.2", "18", "374",
        "Revenue", "£2,015.57", "£304.24", "£9,138.02",
    ]  # fmt: skip
