"""Tables in the reports: readable number formats chosen from the column names, captions,
and a plain-text form of key results for the notebook tests to compare."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pandas as pd
from IPython.display import HTML, display
from pandas.io.formats.style import Styler

from rfm_helpers.plots import money

SHARE_WORDS = ("share",)
MONEY_WORDS = ("revenue", "monetary", "spend", "price", "amount", "£")


def _column_format(name: str, series: pd.Series, currency: str):
    """Formatter for a numeric column, from its name and values (None: leave as is)."""
    lowered = str(name).lower()
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    if any(word in lowered for word in SHARE_WORDS):
        return lambda v: "" if pd.isna(v) else f"{v:.1%}"
    is_money = any(word in lowered for word in MONEY_WORDS) and not lowered.startswith(("rows", "customers"))
    if is_money:
        decimals = 0 if pd.api.types.is_integer_dtype(series) else 2
        return lambda v: "" if pd.isna(v) else ("-" if v < 0 else "") + f"{currency}{abs(v):,.{decimals}f}"
    if pd.api.types.is_integer_dtype(series):
        return lambda v: "" if pd.isna(v) else f"{v:,}"
    values = series.dropna()
    if len(values) and (values % 1 == 0).all():  # whole numbers stored as float (medians, bins)
        return lambda v: "" if pd.isna(v) else f"{v:,.0f}"
    return lambda v: "" if pd.isna(v) else f"{v:,.2f}"


def styled(df: pd.DataFrame, caption: str = "", currency: str = "£") -> Styler:
    """A Styler with per-column formats, the caption, and a stable id (same HTML every run)."""
    formats = {c: _column_format(c, df[c], currency) for c in df.columns}  # None: default
    # escape: a description such as "<b>" is text, not markup. One format() call: a second
    # one would reset the escaping of the other columns.
    styler = df.style.format(formats, na_rep="", escape="html").set_caption(caption)
    styler = styler.set_uuid(hashlib.sha1(f"{caption}{list(df.columns)}".encode()).hexdigest()[:8])
    styler = styler.set_table_styles(
        [
            {
                "selector": "caption",
                "props": "caption-side: top; font-weight: bold; text-align: left; padding: 4px 0;",
            }
        ]
    )
    text_columns = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if text_columns:
        styler = styler.set_properties(subset=text_columns, **{"text-align": "left"})
        styler = styler.set_table_styles(
            {c: [{"selector": "th", "props": "text-align: left;"}] for c in text_columns}, overwrite=False
        )
    if isinstance(df.index, pd.RangeIndex):
        styler = styler.hide(axis="index")
    return styler


def show(df: pd.DataFrame, caption: str = "", currency: str = "£") -> None:
    """Display a formatted table in the notebook / report."""
    display(HTML(styled(df, caption, currency).to_html()))


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
        revenue_removed=view["revenue_removed"].map(lambda v: money(v, currency)),
        revenue_remaining=view["revenue_remaining"].map(lambda v: money(v, currency)),
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
            "monetary_median": "median monetary",
        }
    )
