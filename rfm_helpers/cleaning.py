"""Cleaning rules with a ledger of what each one removed, and the investigations behind them.

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

:func:`net_cancellations` computes the FIFO in closed form (vectorised); the SQL engines run the
same closed form (``sql/rfm/cancel_netting.sql``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rfm_helpers.config import CleaningConfig

DUPLICATE_KEY = ["invoice_id", "stock_code", "invoice_date", "customer_id"]
"""A transaction line is identified by invoice, stock code, date and customer (the document)."""
NETTING_KEY = ["customer_id", "stock_code"]
"""A cancellation nets against purchases of the same customer and the same stock code."""
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
ROW_RULES = tuple(_RULES)[1:7]
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
_WHEN_NOTHING_LEFT = {
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


@dataclass
class CleaningResult:
    """The cleaned transactions and the ledger of rows and revenue each rule removed."""

    clean: pd.DataFrame
    ledger: pd.DataFrame
    netting: NettingSummary | None = None
    """Cancelled orders netted (or measured, with ``cancellations: drop``); None when not possible."""


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


def is_cancellation(invoice_id: pd.Series) -> pd.Series:
    """The cancellation rule: the invoice number starts with a capital "C" (as the SQL's ``LIKE 'C%'``)."""
    return invoice_id.str.startswith("C").fillna(False).astype(bool)


def _removal_masks(
    columns: Collection[str], non_product_codes: pd.DataFrame, flagged_descriptions: pd.DataFrame
) -> dict[str, Callable[[pd.DataFrame], pd.Series]]:
    """For each of rules 1-6, the rows it removes (True) among those it sees."""
    flagged = set(flagged_descriptions["description"].str.strip().str.casefold())
    codes = set(non_product_codes["stock_code"].str.strip())
    price = price_column(columns)
    return {
        "cancellation_lines": lambda d: is_cancellation(d["invoice_id"]),
        "non_positive_quantity": lambda d: ~(d["quantity"] > 0),
        "flagged_descriptions": lambda d: d["description"].str.strip().str.casefold().isin(flagged),
        "non_positive_price": lambda d: ~(d[price] > 0),
        "non_product_codes": lambda d: d["stock_code"].isin(codes),
        "missing_customer": lambda d: d["customer_id"].isna(),
    }


def removed_by(
    df: pd.DataFrame,
    cfg: CleaningConfig,
    non_product_codes: pd.DataFrame,
    flagged_descriptions: pd.DataFrame,
) -> pd.Series:
    """The rule (1-6) that removes each row of ``df`` — the first that matches, as
    :func:`clean_transactions` applies them — or missing if rules 1-6 keep it (duplicates and
    netting act on the kept rows). Lets a report say how many of the rows it counts in the raw
    file actually reach a rule (e.g. "check": 162 rows in the file, 39 reach the flagged rule)."""
    masks = _removal_masks(df.columns, non_product_codes, flagged_descriptions)
    label = pd.Series(pd.NA, index=df.index, dtype="string", name="removed_by")
    left = pd.Series(True, index=df.index)
    for rule in row_rules(df.columns, cfg):
        if rule.skipped is None:
            hit = masks[rule.step](df).fillna(False).astype(bool) & left
            label[hit] = rule.step
            left &= ~hit
    return label


# --- the rules ---------------------------------------------------------------------------


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

    masks = _removal_masks(current.columns, non_product_codes, flagged_descriptions)
    cancels = current.iloc[:0]
    for rule in row_rules(current.columns, cfg):
        if rule.skipped is not None:
            current = ledger.skip(current, rule.step, rule.skipped)
            continue
        mask = masks[rule.step](current)
        if rule.step == "cancellation_lines":
            cancels = current[mask]
        current = ledger.remove(current, rule, mask)
    current = _duplicates(current, cfg.duplicates, ledger)
    current, netting = _cancelled_orders(current, cancels, cfg, ledger)

    sort_by = [c for c in SORT_COLUMNS if c in current.columns]
    # Sort from the original row order so that ties keep the export's order (stable).
    clean = current.sort_index().sort_values(sort_by, kind="stable").reset_index(drop=True)
    return CleaningResult(clean=clean, ledger=ledger.frame(), netting=netting)


# --- the ledger ------------------------------------------------------------------------


def removed_revenue(before: float, after: float) -> float:
    """Revenue a step removes, from the totals before and after it (money in pence, so the
    ledger chain remaining = previous - removed holds exactly)."""
    return round(round(float(before), 2) - round(float(after), 2), 2)


class _Ledger:
    """Accumulates one ledger row per rule and stops the run when no rows are left."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.rows: list[dict] = []
        self._add("raw", True, f"{len(raw):,} rows as loaded", raw, raw)

    def remove(self, df: pd.DataFrame, rule: RowRule, mask: pd.Series) -> pd.DataFrame:
        """Drop the rows ``mask`` marks and record them under ``rule``."""
        note = rule.note
        if rule.detail is not None and mask.any():
            top = df.loc[mask, rule.detail].value_counts().head(5)
            listed = ", ".join(f"{value} {count:,}" for value, count in top.items())
            note = f"{mask.sum():,} rows; most frequent: {listed}"
        return self.record(rule.step, df, df[~mask], note)

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
        after_revenue = round(float(after["revenue"].sum()), 2)
        self.rows.append(
            {
                "step": step,
                "rule": _RULES[step],
                "applied": applied,
                "note": note,
                "rows_removed": len(before) - len(after),
                "revenue_removed": removed_revenue(before["revenue"].sum(), after_revenue),
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


# --- cancelled orders ----------------------------------------------------------------------


def net_cancellations(lines: pd.DataFrame, cancels: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """FIFO netting of cancellation lines against purchase lines, in closed form.

    ``lines``: the purchase candidates (lines with quantity > 0, a customer and a stock code
    count); ``cancels``: the cancellation lines (those with a customer, a stock code and a
    negative quantity count). Both indexed by the export's row order, which breaks ties in time.

    Per (customer, stock code), events in the order (date, purchases before cancellations, row):
    with B = units bought so far and C = units cancelled so far, the units consumed once
    cancellation j has been applied are K_j = C_j + min(0, min over cancellations i <= j of
    B_i - C_i) (each cancellation takes what it can from the purchases before it, oldest first;
    unrolling K_j = min(K_{j-1} + q_j, B_j) gives this). Purchase line i gives up
    clamp(K - (B_i - q_i), 0, q_i) units, K being the last K_j of its pair.

    Returns units consumed per purchase line (index: row, only lines of pairs with a
    cancellation) and units matched per cancellation line (K_j - K_{j-1}).
    """
    nettable = cancels[
        cancels["customer_id"].notna() & cancels["stock_code"].notna() & (cancels["quantity"] < 0)
    ]
    pairs = pd.MultiIndex.from_frame(nettable[NETTING_KEY])
    candidates = lines[(lines["quantity"] > 0) & lines["customer_id"].notna() & lines["stock_code"].notna()]
    purchases = candidates[pd.MultiIndex.from_frame(candidates[NETTING_KEY]).isin(pairs)]
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    **{c: frame[c].to_numpy() for c in [*NETTING_KEY, "invoice_date"]},
                    "kind": kind,
                    "row": frame.index.to_numpy(),
                    "quantity": sign * frame["quantity"].to_numpy(dtype="float64"),
                }
            )
            for frame, kind, sign in ((purchases, 0, 1.0), (nettable, 1, -1.0))
        ],
        ignore_index=True,
    ).sort_values([*NETTING_KEY, "invoice_date", "kind", "row"], kind="stable", ignore_index=True)
    pair = events.groupby(NETTING_KEY, sort=False).ngroup()
    is_cancel = events["kind"].eq(1)
    bought = events["quantity"].where(~is_cancel, 0.0).groupby(pair).cumsum()
    cancelled = events["quantity"].where(is_cancel, 0.0).groupby(pair).cumsum()
    lowest_slack = (bought - cancelled).where(is_cancel).groupby(pair).cummin()
    consumed_so_far = (cancelled + np.minimum(lowest_slack, 0.0)).where(is_cancel)
    consumed_total = consumed_so_far.groupby(pair).transform("max")

    buys = ~is_cancel
    quantity = events["quantity"]
    consumed = np.minimum(
        quantity[buys], np.maximum(consumed_total[buys] - (bought[buys] - quantity[buys]), 0.0)
    )
    matched = consumed_so_far[is_cancel] - consumed_so_far[is_cancel].groupby(pair[is_cancel]).shift(
        fill_value=0.0
    )
    return (
        pd.Series(consumed.to_numpy(), index=events.loc[buys, "row"].to_numpy(), name="consumed"),
        pd.Series(matched.to_numpy(), index=events.loc[is_cancel, "row"].to_numpy(), name="matched"),
    )


def apply_netting(lines: pd.DataFrame, consumed: pd.Series) -> pd.DataFrame:
    """``lines`` with the consumed units taken off: lines left with nothing removed, others
    reduced (quantity, and amount and revenue in proportion; the unit price is unchanged)."""
    taken = consumed[consumed > 0].reindex(lines.index)
    hit = taken.notna()
    quantity = lines.loc[hit, "quantity"]
    remaining = quantity - taken[hit]
    out = lines.copy()
    for column in ("amount", "revenue"):
        if column in out.columns:
            out.loc[hit, column] = lines.loc[hit, column] * remaining / quantity
    out.loc[hit, "quantity"] = remaining
    return out[~hit | (out["quantity"] > 0)]


def _cancelled_orders(
    current: pd.DataFrame, cancels: pd.DataFrame, cfg: CleaningConfig, ledger: _Ledger
) -> tuple[pd.DataFrame, NettingSummary | None]:
    """The last step: net the cancelled orders (``net``), or measure them (``drop``)."""
    skipped = netting_skip_note(current.columns, cfg)
    if skipped is not None:
        return ledger.skip(current, "cancelled_orders", skipped), None
    consumed, matched = net_cancellations(current, cancels)
    netted = apply_netting(current, consumed)
    cancelled_units = -cancels.loc[matched.index, "quantity"]
    taken = consumed[consumed > 0]
    summary = NettingSummary(
        mode=cfg.cancellations,
        cancellation_lines=len(cancels),
        matched_in_full=int((matched == cancelled_units).sum()),
        matched_in_part=int(((matched > 0) & (matched < cancelled_units)).sum()),
        unmatched=int((matched == 0).sum()),
        unmatched_units=float((cancelled_units - matched).sum()),
        purchase_lines_removed=int((taken >= current.loc[taken.index, "quantity"]).sum()),
        purchase_lines_reduced=int((taken < current.loc[taken.index, "quantity"]).sum()),
        revenue=removed_revenue(current["revenue"].sum(), netted["revenue"].sum()),
    )
    if cfg.cancellations == "net":
        return ledger.record("cancelled_orders", current, netted, summary.note()), summary
    return ledger.skip(current, "cancelled_orders", summary.note()), summary


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


def negative_quantity_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Lines with quantity < 0, split by whether the invoice is a cancellation ("C...").

    Columns: ``invoice_starts_with_c``, ``rows``, ``invoices``, ``rows_zero_price``,
    ``revenue``. Negative lines outside "C" invoices are stock corrections, not sales.
    """
    negative = df[df["quantity"] < 0]
    is_c = is_cancellation(negative["invoice_id"])
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


def _by_stage(
    table: pd.DataFrame, hits: pd.DataFrame, key: str, stages: pd.Series | None, step: str
) -> pd.DataFrame:
    """Add, per ``key``, the rows rule ``step`` removes and those an earlier rule removes first
    (from :func:`removed_by`), after the raw-file count ``rows_in_file``."""
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

    With ``stages`` (:func:`removed_by` of ``df``): how many of those rows the flagged rule
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
