"""The cleaning rules' names, notes and ledger vocabulary, and the investigations behind them.

The rules themselves are SQL, written once: rules 1-6 in ``sql/rfm/typed.sql`` (each row's
``removed_by``), duplicates in ``sql/rfm/clean_*.sql``, the netting of cancelled orders in
``sql/rfm/cancel_netting.sql``, run by :mod:`rfm_helpers.sql.rules` on any SQL engine. This
module says which rules run for a given export and configuration (:func:`row_rules`), what the
ledger calls them, and computes the cleaning report's investigations of the raw rows, which
read ``removed_by`` and ``is_cancellation`` from that SQL.

The rules follow the first source document (cancellations, non-positive quantity, flagged
descriptions, non-positive price, missing customer, duplicates), plus a rule for non-product
stock codes and the netting of cancelled orders. Each rule records the rows and revenue it
removed, so stakeholders can see where every pound of the raw data went.

Cancellations take two ledger steps (``cleaning.cancellations``):

* ``cancellation_lines`` (rule 1) removes the lines whose invoice number starts with a capital
  "C". Their quantity and revenue are negative, so removing them *raises* the revenue total (by
  £896.8k on Online Retail): the ledger shows it as a negative removal, never as a sale.
* ``cancelled_orders`` (the last step, after duplicates) nets them against the orders they
  cancel: each cancellation line takes its quantity off the same customer's clean purchase lines
  of the same stock code dated at or before it, **oldest first (FIFO)**; a purchase line left
  with nothing is removed, one left with part keeps its unit price (revenue scaled). Ties in time:
  purchases before cancellations, then the export's row order. A cancellation that matches no
  purchase (its order predates the data, or was removed by an earlier rule) is counted, as are
  cancellation lines without a customer ID or stock code, which cannot be matched. With
  ``cancellations: drop`` (the source document) the step is measured but not applied: the ledger
  says how much cancelled revenue stays counted as sales.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from rfm_helpers.config import CleaningConfig

DUPLICATE_KEY = ["invoice_id", "stock_code", "invoice_date", "customer_id"]
"""A transaction line is identified by invoice, stock code, date and customer (the document)."""
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

RULE_TEXT = {
    "raw": "Transactions as loaded.",
    "cancellation_lines": "Remove cancellation lines (invoice number starts with 'C'). Their quantity and "
    "revenue are negative, so removing them raises the revenue total; the orders they cancel are "
    "netted at the last step.",
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
    "cancelled_orders": "Net cancelled orders: each cancellation line's quantity is taken off the same "
    "customer's purchases of the same stock code made at or before it, oldest first; purchase lines "
    "left with nothing are removed.",
}
ROW_RULES = tuple(RULE_TEXT)[1:7]
"""Rules 1-6, which remove whole rows, in the order they run (then duplicates, then netting)."""
STEP_LABELS = {
    "raw": "raw file",
    "cancellation_lines": "cancellation lines",
    "non_positive_quantity": "quantity ≤ 0",
    "flagged_descriptions": "flagged descriptions",
    "non_positive_price": "price ≤ 0",
    "non_product_codes": "non-product codes",
    "missing_customer": "no customer ID",
    "duplicates": "duplicates",
    "cancelled_orders": "cancelled orders netted",
}
"""The ledger steps in the reports' words."""


# What to check when a rule removes the last rows: the usual cause is a wrong file or column.
WHEN_NOTHING_LEFT = {
    "cancellation_lines": "Every invoice number starts with 'C' (cancelled orders): point input.path at "
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
    "cancelled_orders": "Every remaining purchase was cancelled in full: check that the file is the "
    "sales export, or set cleaning.cancellations: drop to keep cancelled orders.",
}


class CleaningError(ValueError):
    """The cleaning rules removed every row (or the input cannot be cleaned)."""


@dataclass(frozen=True)
class NettingSummary:
    """What netting cancelled orders did (``cancellations: net``) or would do (``drop``)."""

    mode: str
    """``net`` (applied) or ``drop`` (measured only)."""
    cancellation_lines: int
    """Lines removed by the ``cancellation_lines`` rule."""
    matched_in_full: int
    matched_in_part: int
    unmatched: int
    """Cancellation lines with a customer and stock code that match no purchase at all."""
    unmatched_units: float
    """Cancelled units that match no purchase (of lines matched in part or not at all)."""
    purchase_lines_removed: int
    """Purchase lines cancelled in full (removed by netting)."""
    purchase_lines_reduced: int
    """Purchase lines cancelled in part (quantity and revenue reduced)."""
    revenue: float
    """Revenue netting removes (``net``) or would remove (``drop``): cancelled sales."""

    @property
    def unmatchable(self) -> int:
        """Cancellation lines without a customer ID, a stock code or a negative quantity."""
        return self.cancellation_lines - self.matched_in_full - self.matched_in_part - self.unmatched

    def note(self) -> str:
        """The ledger note (the same text from every engine)."""
        matched = self.matched_in_full + self.matched_in_part
        lines = (
            f"{self.cancellation_lines:,} cancellation lines: {matched:,} matched earlier purchases "
            f"({self.matched_in_full:,} in full, {self.matched_in_part:,} in part); {self.unmatched:,} "
            "matched none (their order predates the data or was removed by an earlier rule); "
            f"{self.unmatchable:,} have no customer ID or stock code and cannot be matched; "
            f"{self.unmatched_units:,.0f} cancelled units unmatched in all"
        )
        purchases = (
            f"{self.purchase_lines_removed:,} purchase lines cancelled in full, "
            f"{self.purchase_lines_reduced:,} in part"
        )
        if self.mode == "net":
            return f"{lines}. Netted: {purchases}."
        return (
            f"not applied (cleaning.cancellations: drop, the source document's method): cancelled orders "
            f"stay counted as sales, {self.revenue:,.2f} of revenue on {purchases}. {lines}."
        )


# --- which rules run -------------------------------------------------------------------


@dataclass(frozen=True)
class RowRule:
    """One of rules 1-6 as it applies to an export with given columns and a configuration."""

    step: str
    skipped: str | None
    """Why the rule does not run (its switch is off or its column is absent); None: it runs."""
    note: str = ""
    """Ledger note when it runs (rules with ``detail`` list their most frequent values instead)."""
    detail: str | None = None
    """Column whose most frequent removed values the ledger note lists."""


def price_column(columns: Collection[str]) -> str:
    """The column the price rule tests: ``unit_price``, or ``amount`` for an amount-only export."""
    return "unit_price" if "unit_price" in columns or "amount" not in columns else "amount"


def row_rules(columns: Collection[str], cfg: CleaningConfig) -> list[RowRule]:
    """Rules 1-6 in the order they run, for an export with ``columns``: the one definition of
    which rules run and of their notes, shared by the pandas and the SQL engines."""
    amount_only = "quantity" not in columns and "amount" in columns
    price = price_column(columns)
    specs = [
        # step, enabled, disabled note, column needed, note when it runs, note when the column is absent
        ("cancellation_lines", cfg.cancellations != "keep", "cancellations: keep", "invoice_id", "", ""),
        (
            "non_positive_quantity",
            cfg.drop_non_positive_quantity,
            "drop_non_positive_quantity: false",
            "quantity",
            "",
            "; amount <= 0 is removed by the price rule" if amount_only else "",
        ),
        (
            "flagged_descriptions",
            cfg.drop_flagged_descriptions,
            "drop_flagged_descriptions: false",
            "description",
            "",
            "",
        ),
        (
            "non_positive_price",
            cfg.drop_non_positive_price,
            "drop_non_positive_price: false",
            price,
            "" if price == "unit_price" else "no unit_price column: removed lines with amount <= 0",
            "",
        ),
        (
            "non_product_codes",
            cfg.drop_non_product_codes,
            "drop_non_product_codes: false",
            "stock_code",
            "",
            "",
        ),
        ("missing_customer", True, "", "customer_id", "", ""),
    ]
    details = {"flagged_descriptions": "description", "non_product_codes": "stock_code"}
    rules = []
    for step, enabled, switch, needs, note, absent_note in specs:
        skipped = None
        if not enabled:
            skipped = f"disabled by cleaning.{switch}"
        elif needs not in columns:
            skipped = f"no {needs} column in the data{absent_note}"
        rules.append(RowRule(step, skipped, note, details.get(step)))
    return rules


def removed_revenue(before: float, after: float) -> float:
    """Revenue a step removes, from the totals before and after it (money in pence, so the
    ledger chain remaining = previous - removed holds exactly)."""
    return round(round(float(before), 2) - round(float(after), 2), 2)


def netting_skip_note(columns: Collection[str], cfg: CleaningConfig) -> str | None:
    """Why cancelled orders cannot be netted (or measured); None when they can."""
    if cfg.cancellations == "keep":
        return "disabled by cleaning.cancellations: keep"
    absent = [c for c in ("quantity", "stock_code") if c not in columns]
    if absent:
        return (
            f"no {', '.join(absent)} column in the data: cancelled orders cannot be matched to the "
            "orders they cancel and stay counted as sales"
        )
    return None


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


def negative_quantity_summary(df: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Lines with quantity < 0, split by whether the invoice is a cancellation ("C...").

    ``rules`` holds ``is_cancellation`` for each row of ``df`` (the SQL's definition). Columns:
    ``invoice_starts_with_c``, ``rows``, ``invoices``, ``rows_zero_price``, ``revenue``.
    Negative lines outside "C" invoices are stock corrections, not sales.
    """
    negative = df[df["quantity"] < 0]
    is_c = rules["is_cancellation"].reindex(negative.index).astype(bool)
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


def _by_stage(
    table: pd.DataFrame, hits: pd.DataFrame, key: str, stages: pd.Series | None, step: str
) -> pd.DataFrame:
    """Add, per ``key``, the rows rule ``step`` removes and those an earlier rule removes first
    (``removed_by``, from ``sql/rfm/typed.sql``), after the raw-file count ``rows_in_file``."""
    if stages is None:
        return table
    stage = stages.reindex(hits.index)
    reaching = hits[stage.eq(step).fillna(False).to_numpy()].groupby(key).size()
    earlier = hits[(stage.notna() & stage.ne(step)).fillna(False).to_numpy()].groupby(key).size()
    at = table.columns.get_loc("rows_in_file") + 1
    table.insert(at, "rows_reaching_rule", table[key].map(reaching).fillna(0).astype("int64"))
    table.insert(at + 1, "rows_removed_earlier", table[key].map(earlier).fillna(0).astype("int64"))
    return table


def flagged_description_counts(
    df: pd.DataFrame, flagged_descriptions: pd.DataFrame, stages: pd.Series | None = None
) -> pd.DataFrame:
    """Rows (in ``df``, e.g. the raw file) and revenue per flagged description (most rows first).

    With ``stages`` (the ``removed_by`` of each row of ``df``): how many of those rows the flagged rule
    removes (``rows_reaching_rule``, the ledger's count) and how many an earlier rule removes
    first (``rows_removed_earlier``: e.g. "check" lines with a negative quantity)."""
    key = df["description"].str.strip().str.casefold()
    reasons = (
        flagged_descriptions.assign(key=flagged_descriptions["description"].str.strip().str.casefold())
        .drop_duplicates("key")
        .set_index("key")["reason"]
    )
    hits = df.assign(description=key)[key.isin(reasons.index)]
    table = (
        hits.groupby("description")
        .agg(rows_in_file=("invoice_id", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    table.insert(1, "reason", table["description"].map(reasons))
    table = table.sort_values(["rows_in_file", "description"], ascending=[False, True], ignore_index=True)
    return _by_stage(table, hits, "description", stages, "flagged_descriptions")


def non_product_counts(
    df: pd.DataFrame, non_product_codes: pd.DataFrame, stages: pd.Series | None = None
) -> pd.DataFrame:
    """Rows (in ``df``, e.g. the raw file), customers and revenue per non-product stock code
    (most revenue first); with ``stages`` the rows the rule removes and those removed earlier,
    as :func:`flagged_description_counts`."""
    reasons = non_product_codes.drop_duplicates("stock_code").set_index("stock_code")["reason"]
    hits = df[df["stock_code"].isin(reasons.index)]
    table = (
        hits.groupby("stock_code")
        .agg(
            rows_in_file=("invoice_id", "size"),
            customers=("customer_id", "nunique"),
            revenue=("revenue", "sum"),
        )
        .reset_index()
    )
    table.insert(1, "reason", table["stock_code"].map(reasons))
    table = table.sort_values(["revenue", "stock_code"], ascending=[False, True], ignore_index=True)
    return _by_stage(table, hits, "stock_code", stages, "non_product_codes")
