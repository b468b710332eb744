"""Domain checks of every published per-entity metric table, in one place.

A metric table (one row per customer or account) is checked here before any page or export is
written from it (``metrics.customer_metrics``, ``accounts.extract_accounts``):

* the id column: never empty, one row per id;
* recency: days, ≥ 0 (counted up to the snapshot date or ``accounts.as_of``);
* frequency: ≥ 1, since every entity of the table bought or ran something at least once (for
  accounts ``frequency_broadcast`` ≥ 1 and ``frequency_charged`` ≥ 0: calls are not charged);
* monetary: a finite number, ≥ 0;
* share tables (:func:`check_shares`): each share within 0–100 %, each row summing to 100 %.

**A violation stops the run; nothing is excluded here.** Rows are excluded only by the cleaning
rules and by the extraction, where every exclusion is counted in a ledger and explained. A value
outside its domain at this point means that a parameter contradicts the data (recency counted up
to an ``as_of`` before the last campaign counted) or that the data hold something the method
does not define (negative message counts). Dropping those rows would publish figures for a
subset nobody chose; keeping them would publish impossible numbers. So :class:`DomainError`
names the metric, how many rows, an example id and value, and the parameter to change.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rfm_helpers.config import AccountsSource, RFMConfig

SHARE_TOLERANCE = 1e-9
"""Float rounding allowed in a share or a sum of shares (1.0 = 100 %)."""


class DomainError(ValueError):
    """A published metric has values outside its domain; the message says which, and what to change."""


@dataclasses.dataclass(frozen=True)
class Domain:
    """The values a metric column may take: finite numbers ≥ ``minimum``."""

    column: str
    minimum: float
    unit: str
    """Unit for the message, e.g. ``days`` (may be empty)."""
    fix: str
    """What to change when the metric is out of its domain (names the parameter)."""


def _number(value: object) -> str:
    """A value as the message shows it: ``-16``, ``1,234.50``, ``NaN``, ``'abc'``."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return str(value)
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
    return repr(value)


def _id(value: object) -> str:
    """An id as the message shows it: ``'abc'``, ``11`` (numpy scalars without their type)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_metrics(
    table: pd.DataFrame, domains: Sequence[Domain], *, id_column: str, entity: str, where: str = ""
) -> pd.DataFrame:
    """Check the id column and each metric of ``table``; return ``table`` unchanged.

    ``entity`` is the plural the reports use (``customers``, ``accounts``); ``where`` says where
    the table came from (``" from DuckDB file …"``). Every violation found is listed in one
    :class:`DomainError`: per metric, how many rows, the most extreme example and the fix.
    """
    one = entity.removesuffix("s")
    missing = [c for c in (id_column, *(d.column for d in domains)) if c not in table.columns]
    if missing:
        raise DomainError(f"The {entity} table{where} lacks column(s) {missing}: nothing can be published")
    total = len(table)
    ids = table[id_column]
    problems = []
    empty = int(ids.isna().sum())
    if empty:
        problems.append(f"{id_column} is empty on {empty:,} of {total:,} rows: each row needs an id")
    repeated = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(repeated):
        example = repeated.iloc[0]
        problems.append(
            f"{id_column} must identify one row per {one}, but {repeated.nunique():,} id(s) appear on "
            f"several rows (e.g. {_id(example)} on {int((ids == example).sum())} rows)"
        )
    explained: dict[str, str] = {}  # fix text → the metric that gave it first

    def fix(domain: Domain) -> str:
        """The fix, or a pointer to the metric whose line already gave the same one."""
        if domain.fix in explained:
            return f"Same cause as for {explained[domain.fix]}."
        explained[domain.fix] = domain.column
        return domain.fix

    for domain in domains:
        raw = table[domain.column]
        # Text becomes NaN, so it counts as "not a number" like NaN and infinities.
        values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
        finite = np.isfinite(values)
        if not finite.all():
            first = int(np.flatnonzero(~finite)[0])
            example = f"{one} {_id(ids.iloc[first])}: {_number(raw.iloc[first])}"
            problems.append(
                f"{domain.column} must be a finite number, but {int((~finite).sum()):,} of {total:,} "
                f"{entity} have none (e.g. {example}). {fix(domain)}"
            )
        below = finite & (values < domain.minimum)
        if below.any():
            lowest = int(np.argmin(np.where(below, values, np.inf)))
            example = f"{one} {_id(ids.iloc[lowest])}: {_number(raw.iloc[lowest])}, the lowest"
            unit = f" {domain.unit}" if domain.unit else ""
            problems.append(
                f"{domain.column} must be ≥ {_number(domain.minimum)}{unit}, but {int(below.sum()):,} of "
                f"{total:,} {entity} are below (e.g. {example}). {fix(domain)}"
            )
    if problems:
        raise DomainError(
            f"The {entity} table{where} cannot be published, values are outside their domain:\n  - "
            + "\n  - ".join(problems)
        )
    return table


def check_customer_metrics(table: pd.DataFrame, cfg: RFMConfig) -> pd.DataFrame:
    """:func:`check_metrics` of ``metrics.customer_metrics``'s table (R, F, M per customer)."""
    snapshot = (
        "the day of the last transaction"
        if cfg.recency_from == "last_transaction"
        else f"rfm.snapshot_date {cfg.snapshot_date}"
        if cfg.snapshot_date
        else "the day after the last transaction"
    )
    money = (
        "Monetary is the sum of the customer's revenue (quantity × unit price, or amount): it is "
        "negative when returns or negative prices outweigh purchases. Set cleaning.cancellations to net "
        "or drop, keep cleaning.drop_non_positive_quantity and cleaning.drop_non_positive_price true, and "
        "check input.columns.quantity, unit_price or amount."
    )
    domains = [
        Domain(
            "recency",
            0,
            "days",
            f"Recency is counted up to {snapshot}, which is before that customer's last purchase: set "
            "rfm.snapshot_date on or after the last transaction, or null for the day after it.",
        ),
        Domain(
            "frequency",
            1,
            cfg.frequency_unit,
            f"Every customer of the table has at least one row, so fewer than one of {cfg.frequency_unit} "
            "means rows without an invoice number: check input.columns.invoice_id.",
        ),
        Domain("monetary", 0, "", money),
    ]
    return check_metrics(table, domains, id_column="customer_id", entity="customers")


def check_account_metrics(table: pd.DataFrame, source: AccountsSource, where: str = "") -> pd.DataFrame:
    """:func:`check_metrics` of ``accounts.extract_accounts``'s table (the four features)."""
    if source.method == "document":
        year = source.window_start.year
        recency_fix = (
            f"Recency is counted up to accounts.as_of ({source.as_of}), but the document's recency "
            f"query takes campaigns from the whole local year {year}: set accounts.as_of to "
            f"{year + 1}-01-01 or later."
        )
    else:
        recency_fix = (
            f"Recency is counted up to accounts.as_of ({source.as_of}), which is before that account's "
            "last campaign in the window: set accounts.as_of on or after accounts.window_end "
            f"({source.window_end})."
        )
    database = f" in {where}" if where else ""
    charged_fix = (
        "Charged messages and revenue come from the mart tables (mart.*_blast_transaction_aggregate)"
        f"{database} times the prices of accounts.prices: negative message counts (corrections?) must "
        "be fixed in the database before the accounts can be scored."
    )
    domains = [
        Domain("recency", 0, "days", recency_fix),
        Domain(
            "frequency_broadcast",
            1,
            "campaigns",
            "Every account of the table ran a finished campaign in the window: check the campaign "
            f"queries in accounts.sql_dir ({source.sql_dir}) against the tables{database}.",
        ),
        Domain("frequency_charged", 0, "messages", charged_fix),
        Domain("monetary", 0, "", charged_fix),
    ]
    return check_metrics(
        table, domains, id_column="customer_id", entity="accounts", where=f" from {where}" if where else ""
    )


def check_shares(
    shares: pd.DataFrame | pd.Series,
    *,
    what: str,
    allow_zero_rows: bool = False,
    fix: str = "The shares are computed by the tool: report this with the params file.",
) -> pd.DataFrame | pd.Series:
    """Check that shares (fractions: 1.0 = 100 %) lie in [0, 1] and sum to 1; return them unchanged.

    A Series must sum to 1 over all its values; a DataFrame per row. ``allow_zero_rows`` accepts
    rows that are 0 everywhere: a group with nothing to share (e.g. no revenue) has no mix.
    """
    frame = shares.to_frame().T if isinstance(shares, pd.Series) else shares
    values = frame.apply(pd.to_numeric, errors="coerce").astype("float64").to_numpy()
    sums = values.sum(axis=1)
    in_range = np.isfinite(values) & (values >= -SHARE_TOLERANCE) & (values <= 1 + SHARE_TOLERANCE)
    complete = np.abs(sums - 1) <= SHARE_TOLERANCE
    if allow_zero_rows:
        complete |= np.all(values == 0, axis=1)
    bad = ~(in_range.all(axis=1) & complete)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        row = "" if isinstance(shares, pd.Series) else f"row {frame.index[first]!r}: "
        shown = ", ".join(f"{col} {v:.4%}" for col, v in zip(frame.columns, values[first], strict=True))
        raise DomainError(
            f"Shares of {what} must each lie within 0–100 % and add up to 100 %, but {int(bad.sum()):,} "
            f"row(s) do not (e.g. {row}{shown}; total {sums[first]:.4%}). {fix}"
        )
    return shares
