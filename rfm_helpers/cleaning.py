"""Cleaning rules with a ledger of what each one removed, and the investigations behind them.

The rules follow the first source document (cancellations, non-positive quantity, flagged
descriptions, non-positive price, missing customer, duplicates), plus a rule for non-product
stock codes. Each rule records the rows and revenue it removed, so stakeholders can see
where every pound of the raw data went.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from rfm_helpers.config import CleaningConfig

DUPLICATE_KEY = ["invoice_id", "stock_code", "invoice_date", "customer_id"]
"""A transaction line is identified by invoice, stock code, date and customer (the document)."""
SORT_COLUMNS = ["invoice_date", "invoice_id", "stock_code"]
LEDGER_COLUMNS = [
    "step",
    "rule",
    "applied",
    "note",
    "rows_removed",
    "revenue_removed",
    "rows_remaining",
    "revenue_remaining",
]

_RULES = {
    "raw": "Transactions as loaded.",
    "cancellations": "Remove cancelled orders (invoice number starts with 'C').",
    "non_positive_quantity": "Remove lines with a zero, negative or missing quantity "
    "(returns and stock corrections).",
    "flagged_descriptions": "Remove lines whose description is a warehouse note "
    "(damaged, lost, adjustment, ...) rather than a product.",
    "non_positive_price": "Remove lines with a zero, negative or missing price (free items, write-offs).",
    "non_product_codes": "Remove lines that are not products (postage, fees, discounts, vouchers, "
    "manual adjustments).",
    "missing_customer": "Remove lines without a customer id (RFM needs to know the customer).",
    "duplicates": "Merge lines that share invoice, stock code, date and customer: drop identical "
    "copies, add up split quantities.",
}


# What to check when a rule removes the last rows: the usual cause is a wrong file or column.
_WHEN_NOTHING_LEFT = {
    "cancellations": "Every invoice number starts with 'C' (cancelled orders): point input.path at "
    "the sales export, or check that input.columns.invoice_id names the invoice number column.",
    "non_positive_quantity": "Every remaining line has a quantity of zero or less: the file looks "
    "like returns only. Point input.path at the sales export, or check that input.columns.quantity "
    "names the quantity column.",
    "flagged_descriptions": "Every remaining description is listed in the "
    "reference.flagged_descriptions file: check that file, or set "
    "cleaning.drop_flagged_descriptions: false.",
    "non_positive_price": "Every remaining line has a price (or amount) of zero or less: check that "
    "input.columns.unit_price (or input.columns.amount) names the price column and that the file "
    "holds sales, not refunds.",
    "non_product_codes": "Every remaining stock code is listed in the reference.non_product_codes "
    "file: check that file, or set cleaning.drop_non_product_codes: false.",
    "missing_customer": "No remaining line has a customer ID: check that input.columns.customer_id "
    "names the column holding the customer IDs, and that input.missing_text does not list real IDs.",
}


class CleaningError(ValueError):
    """The cleaning rules removed every row (or the input cannot be cleaned)."""


@dataclass
class CleaningResult:
    """The cleaned transactions and the ledger of rows and revenue each rule removed."""

    clean: pd.DataFrame
    ledger: pd.DataFrame


def clean_transactions(
    df: pd.DataFrame,
    cfg: CleaningConfig,
    non_product_codes: pd.DataFrame,
    flagged_descriptions: pd.DataFrame,
) -> CleaningResult:
    """Apply the cleaning rules in order and record each one in the ledger.

    ``df`` is the output of :func:`rfm_helpers.loading.load_transactions` (canonical columns
    plus ``revenue``). A rule whose switch is off or whose column is absent is skipped and
    the ledger says why. Descriptions are trimmed of surrounding spaces. The clean frame
    keeps the input's columns, sorted by invoice date,
    invoice and stock code, with a fresh index.
    """
    for column in ("customer_id", "revenue"):
        if column not in df.columns:
            raise CleaningError(
                f"Cannot clean: column {column!r} is missing; load the data with load_transactions."
            )
    if df.empty:
        raise CleaningError("Cannot clean: the transactions table has no rows.")

    ledger = _Ledger(df)
    current = df.reset_index(drop=True)
    if "description" in current.columns:
        # Descriptions arrive as written; trailing spaces would split one product in two.
        current["description"] = current["description"].str.strip()
    columns = set(current.columns)

    current = ledger.filter(
        current,
        "cancellations",
        enabled=cfg.drop_cancellations,
        switch="drop_cancellations",
        needs=["invoice_id"],
        remove=lambda d: d["invoice_id"].str.startswith("C").fillna(False).astype(bool),
    )
    quantity_note = (
        ""
        if "quantity" in columns or "amount" not in columns
        else "; amount <= 0 is removed by the price rule"
    )
    current = ledger.filter(
        current,
        "non_positive_quantity",
        enabled=cfg.drop_non_positive_quantity,
        switch="drop_non_positive_quantity",
        needs=["quantity"],
        remove=lambda d: ~(d["quantity"] > 0),
        extra_note=quantity_note,
    )
    flagged = set(flagged_descriptions["description"].str.strip().str.casefold())
    current = ledger.filter(
        current,
        "flagged_descriptions",
        enabled=cfg.drop_flagged_descriptions,
        switch="drop_flagged_descriptions",
        needs=["description"],
        remove=lambda d: d["description"].str.strip().str.casefold().isin(flagged),
        detail="description",
    )
    price_column = "unit_price" if "unit_price" in columns or "amount" not in columns else "amount"
    current = ledger.filter(
        current,
        "non_positive_price",
        enabled=cfg.drop_non_positive_price,
        switch="drop_non_positive_price",
        needs=[price_column],
        remove=lambda d: ~(d[price_column] > 0),
        extra_note=""
        if price_column == "unit_price"
        else "no unit_price column: removed lines with amount <= 0",
    )
    codes = set(non_product_codes["stock_code"].str.strip())
    current = ledger.filter(
        current,
        "non_product_codes",
        enabled=cfg.drop_non_product_codes,
        switch="drop_non_product_codes",
        needs=["stock_code"],
        remove=lambda d: d["stock_code"].isin(codes),
        detail="stock_code",
    )
    current = ledger.filter(
        current,
        "missing_customer",
        enabled=True,
        switch="",
        needs=["customer_id"],
        remove=lambda d: d["customer_id"].isna(),
    )
    current = _duplicates(current, cfg.duplicates, ledger)

    sort_by = [c for c in SORT_COLUMNS if c in current.columns]
    # Sort from the original row order so that ties keep the export's order (stable).
    clean = current.sort_index().sort_values(sort_by, kind="stable").reset_index(drop=True)
    return CleaningResult(clean=clean, ledger=ledger.frame())


# --- the ledger ------------------------------------------------------------------------


class _Ledger:
    """Accumulates one ledger row per rule and stops the run when no rows are left."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.rows: list[dict] = []
        self._add("raw", True, f"{len(raw):,} rows as loaded", raw, raw)

    def filter(
        self,
        df: pd.DataFrame,
        step: str,
        *,
        enabled: bool,
        switch: str,
        needs: list[str],
        remove: Callable[[pd.DataFrame], pd.Series],
        extra_note: str = "",
        detail: str | None = None,
    ) -> pd.DataFrame:
        """Drop the rows ``remove(df)`` marks, or record why the rule was not applied."""
        absent = [c for c in needs if c not in df.columns]
        if not enabled:
            return self.skip(df, step, f"disabled by cleaning.{switch}: false")
        if absent:
            return self.skip(df, step, f"no {', '.join(absent)} column in the data" + extra_note)
        mask = remove(df)
        note = extra_note.lstrip("; ")
        if detail is not None and mask.any():
            top = df.loc[mask, detail].value_counts().head(5)
            listed = ", ".join(f"{value} {count:,}" for value, count in top.items())
            note = f"{mask.sum():,} rows; most frequent: {listed}"
        return self.record(step, df, df[~mask], note)

    def skip(self, df: pd.DataFrame, step: str, note: str) -> pd.DataFrame:
        self._add(step, False, note, df, df)
        return df

    def record(self, step: str, before: pd.DataFrame, after: pd.DataFrame, note: str) -> pd.DataFrame:
        self._add(step, True, note, before, after)
        if after.empty:
            raise CleaningError(
                f"Cleaning removed every row: rule {step!r} ({_RULES[step]}) removed the last "
                f"{len(before):,} rows. "
                f"{_WHEN_NOTHING_LEFT.get(step, 'Check the input and the cleaning parameters.')}\n"
                f"Ledger so far:\n{self.frame().to_string(index=False)}"
            )
        return after

    def _add(self, step: str, applied: bool, note: str, before: pd.DataFrame, after: pd.DataFrame) -> None:
        # Money in pence: the ledger chain (remaining = previous - removed) holds exactly.
        before_revenue = round(float(before["revenue"].sum()), 2)
        after_revenue = round(float(after["revenue"].sum()), 2)
        self.rows.append(
            {
                "step": step,
                "rule": _RULES[step],
                "applied": applied,
                "note": note,
                "rows_removed": len(before) - len(after),
                "revenue_removed": round(before_revenue - after_revenue, 2),
                "rows_remaining": len(after),
                "revenue_remaining": after_revenue,
            }
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=LEDGER_COLUMNS)


def _duplicates(df: pd.DataFrame, mode: str, ledger: _Ledger) -> pd.DataFrame:
    """Rule 7: lines sharing the duplicate key, per ``cleaning.duplicates``."""
    if mode == "keep":
        return ledger.skip(df, "duplicates", "disabled by cleaning.duplicates: keep")
    if mode == "drop_exact":
        copies = df.duplicated(keep="first")
        note = f"{copies.sum():,} rows identical in every column to an earlier row dropped"
        return ledger.record("duplicates", df, df[~copies], note)

    absent = [c for c in DUPLICATE_KEY if c not in df.columns]
    if absent:
        note = (
            f"no {', '.join(absent)} column in the data: the duplicate key needs it "
            "(set cleaning.duplicates: drop_exact to drop identical rows)"
        )
        return ledger.skip(df, "duplicates", note)
    values = ["quantity", "unit_price"] if {"quantity", "unit_price"} <= set(df.columns) else ["amount"]
    sums = [c for c in ("quantity", "amount", "revenue") if c in df.columns]

    shared = df.duplicated(subset=DUPLICATE_KEY)
    dup_groups = int(df.loc[shared, DUPLICATE_KEY].drop_duplicates().shape[0])
    # Case 1: same key and same quantity and price = a copy of the same line; keep one.
    copies = df.duplicated(subset=DUPLICATE_KEY + values)
    rest = df[~copies]
    size = rest.groupby(DUPLICATE_KEY, dropna=False, sort=False)[DUPLICATE_KEY[0]].transform("size")
    # Case 2: same key, different quantity or price = one line split in parts; add them up.
    multi = rest[size > 1]
    totals = multi.groupby(DUPLICATE_KEY, dropna=False, sort=False)[sums].transform("sum")
    merged = multi.assign(**{c: totals[c] for c in sums}).drop_duplicates(subset=DUPLICATE_KEY)
    if values == ["quantity", "unit_price"]:
        merged = merged.assign(unit_price=merged["revenue"] / merged["quantity"])
    summed_groups = len(merged)
    note = (
        f"{shared.sum():,} rows shared a key: {dup_groups - summed_groups:,} groups of identical copies "
        f"dropped, {summed_groups:,} groups summed ({copies.sum():,} copies dropped, "
        f"{len(multi) - summed_groups:,} rows merged into others; summing keeps revenue)"
    )
    return ledger.record("duplicates", df, pd.concat([rest[size == 1], merged]), note)


# --- investigations (the cleaning notebook) --------------------------------------------


def missing_customer_by(df: pd.DataFrame, by: Literal["country", "month"]) -> pd.DataFrame:
    """Rows, rows without customer, their share and revenue, per country or per month.

    Countries come sorted by rows without customer (most first); months in calendar order
    (``month`` as ``YYYY-MM`` text).
    """
    missing = df["customer_id"].isna()
    if by == "country":
        keys = df["country"]
    elif by == "month":
        keys = df["invoice_date"].dt.to_period("M").astype("str").rename("month")
    else:
        raise ValueError(f"by must be 'country' or 'month', got {by!r}")
    table = (
        pd.DataFrame({by: keys, "missing": missing, "revenue_missing": df["revenue"].where(missing, 0.0)})
        .groupby(by, dropna=False)
        .agg(
            rows=("missing", "size"),
            rows_missing_customer=("missing", "sum"),
            revenue_missing=("revenue_missing", "sum"),
        )
        .reset_index()
    )
    table["share_missing"] = table["rows_missing_customer"] / table["rows"]
    table = table[[by, "rows", "rows_missing_customer", "share_missing", "revenue_missing"]]
    order = [by] if by == "month" else ["rows_missing_customer", by]
    return table.sort_values(order, ascending=by == "month").reset_index(drop=True)


def negative_quantity_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Lines with quantity < 0, split by whether the invoice is a cancellation ("C...").

    Columns: ``invoice_starts_with_c``, ``rows``, ``invoices``, ``rows_zero_price``,
    ``revenue``. Negative lines outside "C" invoices are stock corrections, not sales.
    """
    negative = df[df["quantity"] < 0]
    is_c = negative["invoice_id"].str.startswith("C").fillna(False).astype(bool)
    table = (
        negative.assign(invoice_starts_with_c=is_c, zero_price=negative["unit_price"].eq(0))
        .groupby("invoice_starts_with_c")
        .agg(
            rows=("invoice_id", "size"),
            invoices=("invoice_id", "nunique"),
            rows_zero_price=("zero_price", "sum"),
            revenue=("revenue", "sum"),
        )
        .reindex([True, False], fill_value=0)
        .rename_axis("invoice_starts_with_c")
        .reset_index()
    )
    return table


def duplicate_key_summary(df: pd.DataFrame) -> pd.DataFrame:
    """How many lines share (invoice, stock code, date, customer), as ``metric``, ``value`` rows.

    The document splits duplicated groups into those with identical quantity (copies, case
    1) and those with different quantities (split lines, case 2). The consolidation rule
    also compares the unit price, so its split is shown too.
    """
    shared = df.duplicated(subset=DUPLICATE_KEY, keep=False)
    groups = df[shared].groupby(DUPLICATE_KEY, dropna=False, sort=False)
    quantities = groups["quantity"].nunique()
    lines = df[shared].drop_duplicates(subset=DUPLICATE_KEY + ["quantity", "unit_price"])
    variants = lines.groupby(DUPLICATE_KEY, dropna=False, sort=False).size()
    metrics = {
        "rows sharing a key with an earlier row": int(df.duplicated(subset=DUPLICATE_KEY).sum()),
        "rows in groups that share a key": int(shared.sum()),
        "groups that share a key": len(quantities),
        "groups with identical quantity (case 1)": int((quantities == 1).sum()),
        "groups with different quantities (case 2)": int((quantities > 1).sum()),
        "groups with identical quantity and unit price": int((variants == 1).sum()),
        "groups with different quantity or unit price": int((variants > 1).sum()),
        "rows identical in every column to an earlier row": int(df.duplicated().sum()),
    }
    return pd.DataFrame({"metric": list(metrics), "value": list(metrics.values())})


def code_description_mismatch(df: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Stock codes with more than one description, most descriptions first (``top`` of them).

    Columns: ``stock_code``, ``n_descriptions``, ``rows``, ``descriptions`` (joined with " | ").
    ``attrs`` holds the overall counts: ``distinct_stock_codes``, ``distinct_descriptions`` (as
    written), ``distinct_descriptions_trimmed`` and ``codes_with_several_descriptions`` (on
    trimmed descriptions).
    """
    pairs = df[["stock_code", "description"]].dropna()
    pairs = pairs.assign(description=pairs["description"].str.strip()).drop_duplicates()
    n_descriptions = pairs.groupby("stock_code").size()
    several = n_descriptions[n_descriptions > 1]
    rows = df["stock_code"].value_counts()
    table = (
        pd.DataFrame({"n_descriptions": several, "rows": rows.reindex(several.index)})
        .rename_axis("stock_code")
        .reset_index()
        .sort_values(["n_descriptions", "rows", "stock_code"], ascending=[False, False, True])
        .head(top)
    )
    listed = pairs[pairs["stock_code"].isin(table["stock_code"])].sort_values("description")
    joined = listed.groupby("stock_code")["description"].agg(" | ".join)
    table = table.assign(descriptions=table["stock_code"].map(joined)).reset_index(drop=True)
    table.attrs = {
        "distinct_stock_codes": int(df["stock_code"].nunique()),
        "distinct_descriptions": int(df["description"].nunique()),
        "distinct_descriptions_trimmed": int(df["description"].str.strip().nunique()),
        "codes_with_several_descriptions": len(several),
    }
    return table


def flagged_description_counts(df: pd.DataFrame, flagged_descriptions: pd.DataFrame) -> pd.DataFrame:
    """Rows and revenue per flagged description found in ``df`` (most rows first)."""
    key = df["description"].str.strip().str.casefold()
    reasons = (
        flagged_descriptions.assign(key=flagged_descriptions["description"].str.strip().str.casefold())
        .drop_duplicates("key")
        .set_index("key")["reason"]
    )
    hits = df.assign(description=key)[key.isin(reasons.index)]
    table = (
        hits.groupby("description").agg(rows=("invoice_id", "size"), revenue=("revenue", "sum")).reset_index()
    )
    table.insert(1, "reason", table["description"].map(reasons))
    return table.sort_values(["rows", "description"], ascending=[False, True], ignore_index=True)


def non_product_counts(df: pd.DataFrame, non_product_codes: pd.DataFrame) -> pd.DataFrame:
    """Rows, customers and revenue per non-product stock code found in ``df`` (most revenue first)."""
    reasons = non_product_codes.drop_duplicates("stock_code").set_index("stock_code")["reason"]
    hits = df[df["stock_code"].isin(reasons.index)]
    table = (
        hits.groupby("stock_code")
        .agg(rows=("invoice_id", "size"), customers=("customer_id", "nunique"), revenue=("revenue", "sum"))
        .reset_index()
    )
    table.insert(1, "reason", table["stock_code"].map(reasons))
    return table.sort_values(["revenue", "stock_code"], ascending=[False, True], ignore_index=True)
