"""The EDA report's tables and key findings, from the aggregates the SQL builds
(:mod:`rfm_helpers.sql.transactions`), profiles of the raw rows, and tables relabelled for readers
(labels from :data:`rfm_helpers.report.tables.COLUMN_LABELS`)."""

from __future__ import annotations

import pandas as pd

from rfm_helpers.report.tables import column_label as label
from rfm_helpers.units import money


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` for a report: columns named by :func:`label`, yes/no for true/false, and the
    internal column names listed in a ``column`` column (column profile, summary statistics)
    labelled too. The numbers are untouched (the table formats read the new names)."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map({True: "yes", False: "no"})
    if "column" in out.columns:
        out["column"] = out["column"].map(label)
    return out.rename(columns=label)


def type_label(dtype: object) -> str:
    """A column type in plain words: Text, Number, Whole number, Date and time, Yes/no."""
    if pd.api.types.is_bool_dtype(dtype):
        return "Yes/no"
    if pd.api.types.is_integer_dtype(dtype):
        return "Whole number"
    if pd.api.types.is_numeric_dtype(dtype):
        return "Number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "Date and time"
    return "Text"


def overview_table(figures: dict, currency: str = "£") -> pd.DataFrame:
    """Headline figures (:meth:`rfm_helpers.sql.transactions.Marts.figures`) as a two-column table of
    readable text."""
    rows = {
        "Invoice lines": f"{int(figures['invoice_lines']):,}",
        "Orders (distinct invoices)": f"{int(figures['orders']):,}",
        "Customers": f"{int(figures['customers']):,}",
        "Revenue": f"{currency}{figures['revenue']:,.2f}",
        "First order": f"{pd.Timestamp(figures['first_date']):%d %b %Y %H:%M}",
        "Last order": f"{pd.Timestamp(figures['last_date']):%d %b %Y %H:%M}",
    }
    if "products" in figures:
        rows["Products (distinct stock codes)"] = f"{int(figures['products']):,}"
    if "countries" in figures:
        rows["Countries (with a clean line)"] = f"{int(figures['countries']):,}"
    return pd.DataFrame({"figure": list(rows), "value": list(rows.values())})


def key_findings(
    figures: dict,
    countries: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    per_customer: pd.DataFrame | None = None,
    currency: str = "£",
    cancellations: str = "net",
) -> str:
    """The EDA report's opening: 3-5 findings measured from the clean data.

    ``figures``: :func:`overview_figures`; ``countries``: :func:`by_country`; ``products``:
    :func:`top_products`; ``per_customer``: :func:`orders_per_customer` (each optional);
    ``cancellations``: the run's ``cleaning.cancellations`` (with ``drop`` the revenue and the
    products include orders cancelled later, and the findings say so)."""
    customers, revenue = int(figures["customers"]), float(figures["revenue"])
    first, last = pd.Timestamp(figures["first_date"]), pd.Timestamp(figures["last_date"])
    kept = (
        " (orders cancelled later included: `cleaning.cancellations: drop`, see the cleaning report)"
        if cancellations == "drop"
        else ""
    )
    items = [
        f"The clean data covers **{first:%d %b %Y} to {last:%d %b %Y}**: "
        f"{int(figures['invoice_lines']):,} invoice lines in {int(figures['orders']):,} orders.",
        f"**{customers:,} customers** spent **{money(revenue, currency)}**{kept}, "
        f"{money(revenue / max(customers, 1), currency)} each on average.",
    ]
    if countries is not None and len(countries):
        top = countries.iloc[0]
        items.append(
            f"**{top['country']}** brings **{top['revenue_share']:.0%}** of revenue "
            f"({len(countries)} countries have at least one clean line)."
        )
    if products is not None and len(products):
        top = products.iloc[0]
        items.append(
            f"The best-selling product is **{top['product']}**: {money(top['revenue'], currency)} "
            f"from {int(top['orders']):,} orders."
        )
    if per_customer is not None and len(per_customer):
        once = per_customer.loc[per_customer["orders"] == "1", "share"].sum()
        items.append(f"**{once:.0%}** of customers ordered only once.")
    return "**Key findings** (clean data, after every rule of report 1)\n\n" + "\n".join(
        f"- {item}" for item in items
    )


def numeric_summary(df: pd.DataFrame) -> pd.DataFrame:
    """count, mean, spread and quartiles of each numeric column (a readable ``describe()``)."""
    numeric = df.select_dtypes("number")
    table = numeric.describe().T.rename(columns={"25%": "p25", "50%": "median", "75%": "p75"})
    table["count"] = table["count"].astype("int64")
    return table.rename_axis("column").reset_index()


def column_profile(df: pd.DataFrame) -> pd.DataFrame:
    """Type (in words: :func:`type_label`), filled and missing counts and distinct values per
    column (a readable ``info()``)."""
    missing = df.isna().sum()
    return pd.DataFrame(
        {
            "column": df.columns,
            "type": [type_label(t) for t in df.dtypes],
            "filled": (len(df) - missing).to_numpy(),
            "missing": missing.to_numpy(),
            "missing share": (missing / max(len(df), 1)).to_numpy(),
            "distinct values": df.nunique().to_numpy(),
        }
    )
