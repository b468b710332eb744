"""Exploratory summaries of the clean transactions (one row per invoice line)."""

from __future__ import annotations

import pandas as pd


def overview(clean: pd.DataFrame, currency: str = "£") -> pd.DataFrame:
    """Headline figures of the clean table as a two-column table of readable text."""
    figures = {
        "Invoice lines": f"{len(clean):,}",
        "Orders (distinct invoices)": f"{clean['invoice_id'].nunique():,}",
        "Customers": f"{clean['customer_id'].nunique():,}",
        "Revenue": f"{currency}{clean['revenue'].sum():,.2f}",
        "First order": f"{clean['invoice_date'].min():%d %b %Y %H:%M}",
        "Last order": f"{clean['invoice_date'].max():%d %b %Y %H:%M}",
    }
    if "stock_code" in clean:
        figures["Products (distinct stock codes)"] = f"{clean['stock_code'].nunique():,}"
    if "country" in clean:
        figures["Countries"] = f"{clean['country'].nunique():,}"
    return pd.DataFrame({"figure": list(figures), "value": list(figures.values())})


def numeric_summary(df: pd.DataFrame) -> pd.DataFrame:
    """count, mean, spread and quartiles of each numeric column (a readable ``describe()``)."""
    numeric = df.select_dtypes("number")
    table = numeric.describe().T.rename(columns={"25%": "p25", "50%": "median", "75%": "p75"})
    table["count"] = table["count"].astype("int64")
    return table.rename_axis("column").reset_index()


def orders(clean: pd.DataFrame) -> pd.DataFrame:
    """One row per order: customer, date, country, lines, units and revenue."""
    aggregations = {
        "customer_id": ("customer_id", "first"),
        "invoice_date": ("invoice_date", "min"),
        "lines": ("invoice_id", "size"),
        "revenue": ("revenue", "sum"),
    }
    if "quantity" in clean:
        aggregations["units"] = ("quantity", "sum")
    if "country" in clean:
        aggregations["country"] = ("country", "first")
    return clean.groupby("invoice_id", sort=True).agg(**aggregations).reset_index()


def monthly(clean: pd.DataFrame) -> pd.DataFrame:
    """Revenue, orders and active customers per calendar month."""
    month = clean["invoice_date"].dt.to_period("M").dt.to_timestamp()
    return (
        clean.assign(month=month)
        .groupby("month")
        .agg(
            revenue=("revenue", "sum"), orders=("invoice_id", "nunique"), customers=("customer_id", "nunique")
        )
        .reset_index()
    )


def by_country(clean: pd.DataFrame) -> pd.DataFrame:
    """Customers, orders and revenue per country, largest revenue first, with shares."""
    table = (
        clean.groupby("country")
        .agg(
            customers=("customer_id", "nunique"), orders=("invoice_id", "nunique"), revenue=("revenue", "sum")
        )
        .reset_index()
        .sort_values(["revenue", "country"], ascending=[False, True], ignore_index=True)
    )
    table["revenue_share"] = table["revenue"] / table["revenue"].sum()
    return table


def top_products(clean: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Products with the highest revenue; the label is the code's most common description
    (the stock code itself when the export has no descriptions)."""
    if "description" in clean:
        labels = (
            clean.groupby(["stock_code", "description"], observed=True)
            .size()
            .reset_index(name="rows")
            .sort_values(["stock_code", "rows", "description"], ascending=[True, False, True])
            .drop_duplicates("stock_code")
            .set_index("stock_code")["description"]
        )
    else:
        labels = None
    aggregations = {"revenue": ("revenue", "sum"), "orders": ("invoice_id", "nunique")}
    if "quantity" in clean:
        aggregations["units"] = ("quantity", "sum")
    table = clean.groupby("stock_code").agg(**aggregations)
    table = table.sort_values(["revenue"], ascending=False).head(n).reset_index()
    codes = table["stock_code"]
    table.insert(1, "product", codes if labels is None else codes.map(labels).fillna(codes))
    return table


def orders_per_customer(clean: pd.DataFrame) -> pd.DataFrame:
    """How many customers placed 1, 2, 3, … orders (10+ folded together)."""
    counts = clean.groupby("customer_id")["invoice_id"].nunique()
    bucket = counts.clip(upper=10).astype(int)
    table = bucket.value_counts().sort_index().rename_axis("orders").reset_index(name="customers")
    table["orders"] = table["orders"].map(lambda v: "10+" if v == 10 else str(v))
    table["share"] = table["customers"] / table["customers"].sum()
    return table


def column_profile(df: pd.DataFrame) -> pd.DataFrame:
    """Type, filled and missing counts and distinct values per column (a readable ``info()``)."""
    missing = df.isna().sum()
    return pd.DataFrame(
        {
            "column": df.columns,
            "type": [str(t) for t in df.dtypes],
            "filled": (len(df) - missing).to_numpy(),
            "missing": missing.to_numpy(),
            "missing share": (missing / max(len(df), 1)).to_numpy(),
            "distinct values": df.nunique().to_numpy(),
        }
    )
