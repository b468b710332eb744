"""Tables in the reports: human column labels and a unit per column, formatted the same way
in every report, captions, and a plain-text form of key results for the notebook tests to compare.

:func:`show` (and :func:`styled`) is what notebooks call. Each column gets

- a **label** a stakeholder reads (:func:`column_label`: ``customer_share`` → "Share of
  customers", ``frequency_median`` → "Median frequency (orders)", ``share_wa`` → "WhatsApp
  share"; no snake_case, no dtype names), and
- a **unit** (:func:`column_unit`): ``money`` in the run's currency (no cents from 100,000
  on), ``share`` in %, ``count`` and ``score`` as integers (``46,829``, never ``46,829.00``;
  a count is never money; a median of counts, like ``days``, with one decimal at most,
  ``10.5``, and none from 10,000 on: :func:`rfm_helpers.units.number`), ``decimal`` with
  two (none from 1,000 on: an inertia of ``13,002``), ``yes/no`` for booleans, words for
  dtype names. Every value is written by :mod:`rfm_helpers.units`.

In a summary with one row per metric (a ``column`` / ``metric`` / ``feature`` column, e.g.
``eda.numeric_summary``, score bins, the outlier report) the statistics of each row take that
row's unit: days for recency, money for monetary, counts for frequency.

Every text that reaches the HTML is escaped: cells, headers, the caption and the currency.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Callable, Sequence

import pandas as pd
from IPython.display import HTML, display
from pandas.io.formats.style import Styler

from rfm_helpers import units
from rfm_helpers.report.style import CHANNEL_NAMES, readable_channels

SHARE_WORDS = ("share",)
MONEY_WORDS = ("revenue", "monetary", "spend", "price", "amount", "£")
COUNT_WORDS = (
    "customers",
    "accounts",
    "rows",
    "orders",
    "invoices",
    "lines",
    "messages",
    "campaigns",
    "broadcasts",
    "descriptions",
    "frequency",
    "quantity",
    "count",
    "filled",
    "missing",
    "distinct",
    "kept",
    "lost",
)
"""Words of a column that counts things: shown as integers (a median of them with one decimal)."""
DAY_WORDS = ("recency", "days")
SCORE_COLUMNS = ("score", "k", "cluster", "r_score", "f_score", "m_score", "priority")
ROW_KEY_COLUMNS = ("column", "metric", "feature")
"""A summary with one row per metric names it in one of these columns."""
ROW_STAT_COLUMNS = ("mean", "std", "min", "p25", "median", "p75", "max", "threshold")
"""Statistics that take the unit of their row's metric."""
STAT_NAMES = {
    **{name: name for name in ROW_STAT_COLUMNS},
    "standard deviation": "std",
    "minimum": "min",
    "25th percentile": "p25",
    "75th percentile": "p75",
    "maximum": "max",
}
"""A statistic's column, by its internal name or its label (a table already labelled)."""


def _stat(column: object) -> str | None:
    return STAT_NAMES.get(str(column).strip().lower())


def _key_column(df: pd.DataFrame) -> object | None:
    """The column naming the metric of each row, if any (``column``, ``metric``, ``feature``)."""
    return next((c for c in df.columns if str(c).strip().lower() in ROW_KEY_COLUMNS), None)


DTYPE_LABELS = {
    "str": "text",
    "string": "text",
    "object": "text",
    "bool": "yes/no",
    "boolean": "yes/no",
    "category": "category",
}
"""What a pandas dtype name means to a reader (``float64`` → "decimal number")."""

COLUMN_LABELS = {
    "invoice_id": "Invoice",
    "stock_code": "Stock code",
    "invoice_date": "Invoice date",
    "unit_price": "Unit price",
    "customer_id": "Customer ID",
    "rows_missing_customer": "Rows without customer ID",
    "revenue_missing": "Revenue without customer ID",
    "rows_in_file": "Rows in the raw file",
    "rows_reaching_rule": "Rows this rule removes",
    "rows_removed_earlier": "Rows an earlier rule removes",
    "rfm_code": "RFM code",
    "r_score": "R score",
    "f_score": "F score",
    "m_score": "M score",
    "k": "Clusters (k)",
    "cluster_name": "Cluster name",
    "customer_share": "Share of {entity}",
    "revenue_share": "Share of revenue",
    "recency": "Recency (days)",
    "frequency": "Frequency ({frequency_unit})",
    "monetary": "Monetary ({currency})",
    "frequency_broadcast": "Campaigns",
    "frequency_charged": "Charged messages",
    "recency_median": "Median recency (days)",
    "frequency_median": "Median frequency ({frequency_unit})",
    "monetary_median": "Median spend",
    "frequency_broadcast_median": "Median campaigns",
    "frequency_charged_median": "Median charged messages",
    "customers": "{Entity}",
    "std": "Standard deviation",
    "p25": "25th percentile",
    "p75": "75th percentile",
    "min": "Minimum",
    "max": "Maximum",
    "count": "Values",
    "silhouette": "Silhouette score",
    "n_descriptions": "Distinct descriptions",
    "invoice_starts_with_c": "Invoice starts with C (cancellation)",
    "rows_zero_price": "Rows with price 0",
    "customers_above": "{Entity} above the threshold",
    "revenue_above": "Revenue above the threshold",
    "kept_by_document": "Kept by the document's method",
    "lost": "Lost by the document's method",
    "lost_revenue": "Revenue lost",
    "lost_share": "Share lost",
    "share_missing": "Share without customer ID",
    "profile": "Channels used",
    "lines": "Invoice lines",
    "first_purchase": "First purchase",
    "last_purchase": "Last purchase",
    "last_campaign": "Last campaign",
    "full_name": "Name",
}
"""Stakeholder label of each internal column name; ``{currency}``, ``{frequency_unit}``,
``{entity}`` / ``{Entity}`` are filled in. Other names: ``snake_case`` → "Snake case"."""


def column_label(
    name: object, currency: str = "£", frequency_unit: str = "orders", entity: str = "customers"
) -> str:
    """The header a stakeholder reads for column ``name`` (see :data:`COLUMN_LABELS`)."""
    text = str(name)
    if text in COLUMN_LABELS:
        label = COLUMN_LABELS[text]
    elif text.startswith("share_") and text.removeprefix("share_") in CHANNEL_NAMES:
        label = f"{CHANNEL_NAMES[text.removeprefix('share_')]} share"
    else:
        label = text.replace("_", " ").strip()
    label = label.format(
        currency=currency, frequency_unit=frequency_unit, entity=entity, Entity=entity.capitalize()
    )
    return label[:1].upper() + label[1:]


def _has(name: str, words: Sequence[str]) -> bool:
    return any(word in name for word in words)


def metric_unit(name: object) -> str | None:
    """Unit of a metric named ``name`` (a column, or a row of a per-metric summary)."""
    lowered = str(name).lower()
    if _has(lowered, SHARE_WORDS):
        return "share"
    if _has(lowered, DAY_WORDS):
        return "days"
    if _has(lowered, MONEY_WORDS) and not lowered.startswith(("rows", "customers", "accounts")):
        return "money"
    if _has(lowered, COUNT_WORDS):
        return "count"
    return None


def column_unit(name: object, series: pd.Series) -> str:
    """Unit of a column, from its name and values: ``share``, ``money``, ``days``, ``count``,
    ``score``, ``decimal``, ``yes/no``, ``date`` or ``text``."""
    if pd.api.types.is_bool_dtype(series):
        return "yes/no"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if not pd.api.types.is_numeric_dtype(series):
        return "text"
    lowered = str(name).lower()
    integer = pd.api.types.is_integer_dtype(series)
    if lowered in SCORE_COLUMNS:
        return "score"
    unit = metric_unit(lowered)
    if unit == "money" and lowered == "amount" and integer:
        return "count"  # an extraction ledger's amount counts campaigns, messages or accounts
    if unit is not None:
        return unit
    return "count" if integer else "decimal"


BIG_MONEY = 100_000
"""From this amount on, money is shown without cents (``IDR 26,456,802``, ``£5,348,399``):
the cents of a large total or mean are noise. Decided per column (per row in a per-metric
summary), so that one column never mixes both forms."""
QUANTILE_COLUMNS = ("min", "p25", "median", "p75", "max", "threshold")


def format_value(value: object, unit: str, currency: str = "£", cents: bool | None = None) -> str:
    """One cell as text in ``unit`` (see :func:`column_unit`); missing values are blank.

    ``cents``: money with two decimals (``None``: for non-integers only)."""
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        value = value.item()  # numpy scalar → int, float, bool
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "yes/no":
        return "yes" if bool(value) else "no"
    if unit == "date":
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")
    if unit == "text" or isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "money":  # whole units stored as integers stay whole: £1,500
        return units.full_money(value, currency, cents if cents is not None else not isinstance(value, int))
    if unit in ("count", "days", "score"):
        return units.number(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _column_format(name: str, series: pd.Series, currency: str) -> Callable[[object], str] | None:
    """Formatter for a numeric column, from its name and values (None: text, booleans, dates)."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    unit = column_unit(name, series)
    if unit == "decimal":
        values = series.dropna()
        if len(values) and (values % 1 == 0).all():  # whole numbers stored as float (bins)
            return lambda v: format_value(v, "count", currency)
        decimals = 0 if len(values) and values.abs().max() >= 1000 else 2
        return lambda v: "" if pd.isna(v) else f"{v:,.{decimals}f}"
    if unit == "money":
        values = pd.to_numeric(series, errors="coerce").abs()
        cents = False if values.max() >= BIG_MONEY else None
        return lambda v: format_value(v, unit, currency, cents)
    return lambda v: format_value(v, unit, currency)


def _count_statistic(value: object) -> str:
    """A quantile of counts: ``3``, a median between two counts ``2.5``; an interpolated
    quantile (``2,621.8`` messages) is rounded to the count it stands for."""
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    return units.number(number) if (2 * number).is_integer() else units.integer(number)


def _row_cell(value: object, row_unit: str | None, column: str, cents: bool | None, currency: str) -> str:
    """A statistic of a per-metric summary in its row's unit."""
    if row_unit == "count" and _stat(column) in QUANTILE_COLUMNS:
        return _count_statistic(value)
    return format_value(value, row_unit, currency, cents if row_unit == "money" else None)


def _row_units(df: pd.DataFrame) -> pd.Series | None:
    """For a per-metric summary: the unit of each row (``None`` for other tables)."""
    key = _key_column(df)
    if key is None or not any(_stat(c) for c in df.columns):
        return None
    return df[key].map(metric_unit)


def _text_value(column: str, value: object) -> str:
    """A text cell, in people's words where the column holds codes (dtypes, channel codes)."""
    text = (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )
    if column == "type":
        if text in DTYPE_LABELS:
            return DTYPE_LABELS[text]
        if text.startswith(("float", "Float")):
            return "decimal number"
        if text.startswith(("int", "Int", "uint", "UInt")):
            return "whole number"
        if text.startswith("datetime"):
            return "date and time"
    if column in ("channel", "profile", "channels"):
        return readable_channels(text)
    return text


_NUMBER_TEXT = re.compile(r"^[-+−]?([^\d\s]{1,5} ?)?\d[\d,]*(\.\d+)?[kMB]?%?$")


def _numeric_text(cells: pd.Series) -> bool:
    """Text cells that are all numbers already formatted (``-£897k``, ``IDR 9.75M``, ``12%``):
    right-aligned like numbers."""
    filled = [str(c) for c in cells if str(c)]
    formatted = any(not c.isdigit() for c in filled)  # plain digits are identifiers (17850)
    return bool(filled) and formatted and all(_NUMBER_TEXT.match(c) for c in filled)


def display_frame(
    df: pd.DataFrame, currency: str = "£", frequency_unit: str = "orders", entity: str = "customers"
) -> pd.DataFrame:
    """``df`` as the text a stakeholder reads: every cell formatted in its unit, headers and
    the names of metrics (``recency`` → "Recency (days)") labelled. The index is kept."""
    out = pd.DataFrame(index=df.index)
    row_units = _row_units(df)
    key = _key_column(df)
    if row_units is not None:  # no cents in a row of large amounts
        stats = df[[c for c in df.columns if _stat(c)]].apply(pd.to_numeric, errors="coerce")
        row_cents = [False if big else None for big in (stats.abs().max(axis=1) >= BIG_MONEY)]
    for position, column in enumerate(df.columns):
        series = df.iloc[:, position]
        name = str(column)
        unit = column_unit(name, series)
        formatter = _column_format(name, series, currency)
        if row_units is not None and _stat(name):
            # each row's statistics in that row's unit (money for monetary, days for recency)
            cells = [
                _row_cell(v, row_unit, name, row_cents[i], currency)
                if row_unit
                else formatter(v)
                if formatter
                else str(v)
                for i, (v, row_unit) in enumerate(zip(series, row_units, strict=True))
            ]
        elif column == key:
            cells = [column_label(v, currency, frequency_unit, entity) for v in series]
        elif formatter is not None:
            cells = [formatter(v) for v in series]
        elif unit in ("yes/no", "date"):
            cells = [format_value(v, unit, currency) for v in series]
        else:
            cells = [_text_value(name, v) for v in series]
        out[position] = cells
    out.columns = [column_label(c, currency, frequency_unit, entity) for c in df.columns]
    if isinstance(df.index, pd.RangeIndex):
        return out
    out.index = df.index.set_names([None if n is None else column_label(n) for n in df.index.names])
    return out


def styled(
    df: pd.DataFrame,
    caption: str = "",
    currency: str = "£",
    frequency_unit: str = "orders",
    entity: str = "customers",
) -> Styler:
    """A Styler of :func:`display_frame` with the caption and a stable id (same HTML every run).

    Everything is escaped: a description such as ``<b>``, a header, the caption and the
    currency are text, not markup."""
    view = display_frame(df, currency, frequency_unit, entity)
    styler = view.style.format(escape="html", na_rep="")
    styler = styler.format_index(escape="html", axis=1)
    if not isinstance(view.index, pd.RangeIndex):
        styler = styler.format_index(escape="html", axis=0)
    styler = styler.set_caption(html.escape(caption))
    styler = styler.set_uuid(hashlib.sha1(f"{caption}{list(df.columns)}".encode()).hexdigest()[:8])
    styler = styler.set_table_styles(
        [
            {
                "selector": "caption",
                "props": "caption-side: top; font-weight: bold; text-align: left; padding: 4px 0;",
            }
        ]
    )
    text_columns = [
        view.columns[i]
        for i, c in enumerate(df.columns)
        if (not pd.api.types.is_numeric_dtype(df.iloc[:, i]) and not _numeric_text(view.iloc[:, i]))
        or pd.api.types.is_bool_dtype(df.iloc[:, i])
        or c == _key_column(df)
    ]
    if text_columns:
        styler = styler.set_properties(subset=text_columns, **{"text-align": "left"})
        styler = styler.set_table_styles(
            {c: [{"selector": "th", "props": "text-align: left;"}] for c in text_columns}, overwrite=False
        )
    numeric_columns = [c for c in view.columns if c not in text_columns]
    if numeric_columns:
        styler = styler.set_properties(subset=numeric_columns, **{"text-align": "right"})
    if isinstance(df.index, pd.RangeIndex):
        styler = styler.hide(axis="index")
    return styler


def show(
    df: pd.DataFrame,
    caption: str = "",
    currency: str = "£",
    frequency_unit: str = "orders",
    entity: str = "customers",
) -> None:
    """Display a formatted table in the notebook / report (see :func:`styled`)."""
    display(HTML(styled(df, caption, currency, frequency_unit, entity).to_html()))


def key_figures(df: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """Plain, deterministic text of a result table (for output-checked test cells)."""
    view = df if columns is None else df[list(columns)]
    return view.to_string(index=False, float_format=lambda v: f"{v:.2f}")


def ledger_view(ledger: pd.DataFrame, currency: str = "£") -> pd.DataFrame:
    """The cleaning ledger with stakeholder-friendly column names and money labels."""
    view = ledger[
        ["rule", "applied", "rows_removed", "revenue_removed", "rows_remaining", "revenue_remaining", "note"]
    ]
    view = view.assign(
        revenue_removed=view["revenue_removed"].map(lambda v: units.money(v, currency)),
        revenue_remaining=view["revenue_remaining"].map(lambda v: units.money(v, currency)),
        applied=view["applied"].map({True: "yes", False: "no"}),
    )
    return view.rename(
        columns={
            "rows_removed": "rows removed",
            "rows_remaining": "rows left",
            "revenue_removed": "revenue removed",
            "revenue_remaining": "revenue left",
        }
    )


def segment_view(
    summary: pd.DataFrame, frequency_unit: str = "orders", category: str = "segment"
) -> pd.DataFrame:
    """The segment (or group) summary with the columns and names a stakeholder reads."""
    return summary[
        [category, "customers", "customer_share", "revenue", "revenue_share"]
        + ["recency_median", "frequency_median", "monetary_median"]
    ].rename(
        columns={
            "customer_share": "share of customers",
            "revenue_share": "share of revenue",
            "recency_median": "median recency (days)",
            "frequency_median": f"median frequency ({frequency_unit})",
            "monetary_median": "median spend",
        }
    )
