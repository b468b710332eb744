"""The cleaning rules, the duplicates rule, the cancellation netting and the customer table,
in SQL (``sql/rfm/*.sql``, rendered per dialect by :mod:`rfm_helpers.sql.dialect`), on any engine
of :mod:`rfm_helpers.sql.engines`. Money is summed as DECIMAL, so totals are exact and do not
depend on the order in which parallel workers add rows up.

:func:`register_parquet_source` defines ``rfm_source`` over parquet files (typed and checked
row by row as they are scanned); :func:`run_sql_cleaning` runs every rule on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlglot
from sqlglot import exp

from rfm_helpers.analysis.metrics import MetricsError, last_allowed_day, late_rows_error, resolve_snapshot
from rfm_helpers.config import (
    CANONICAL_COLUMNS,
    CleaningConfig,
    ColumnMap,
    InputConfig,
    RFMConfig,
)
from rfm_helpers.data.duckdbsource import FILE_STRIDE, typed_columns
from rfm_helpers.data.inputcheck import check_columns, check_parquet_head, parquet_head, source_files
from rfm_helpers.paths import resolve
from rfm_helpers.sql.cleaning import (
    DUPLICATE_KEY,
    LEDGER_COLUMNS,
    ROW_RULES,
    RULE_TEXT,
    WHEN_NOTHING_LEFT,
    CleaningError,
    NettingSummary,
    RowRule,
    netting_skip_note,
    price_column,
    removed_revenue,
    row_rules,
)
from rfm_helpers.sql.dialect import render
from rfm_helpers.sql.engines import DuckDBEngine, SQLEngine, sql_text

TOP_VALUES = 5
"""How many frequent values the ledger note of a rule lists."""
BY_MONTH_FROM_ROWS = 20_000_000
"""On DuckDB, the lines the duplicates rule (rule 7) may change are looked for month by month
(:func:`_store_candidates`) when more rows than this survive rules 1-6. Its key holds the
invoice date, so no two lines of one key lie in different months: the lines found in each
month, put together, are those found in all of them, and each month's groups fit in memory
instead of spilling (bench/scale.py, README "Scale")."""
_PART = "rfm_typed_part"
_CANDIDATES = "rfm_rule7_lines"
"""DuckDB: the rows rules 1-6 keep whose key may be shared (:func:`_store_candidates`)."""
_KEY_HASH = f"HASH({', '.join(DUPLICATE_KEY)})"
"""DuckDB: a 64-bit hash of rule 7's key, to find the lines that may share it (:func:`_store_candidates`)."""
_PATCH = "rfm_patch"
"""DuckDB: the clean rows of the lines of ``rfm_typed`` marked ``replaced`` (:func:`_define_clean`)."""
CLEAN = "rfm_clean"
"""The table (on DuckDB the view, :func:`_define_clean`) :func:`run_sql_cleaning` leaves the clean
transactions in."""
_SQL_TYPES = {"quantity": "DOUBLE", "unit_price": "DOUBLE", "amount": "DOUBLE", "invoice_date": "TIMESTAMP"}


# --- the input ---------------------------------------------------------------------------


def input_files(input_cfg: InputConfig) -> list[Path]:
    """The files of ``input.path``: a file, a directory's .parquet files (recursively) or a glob;
    none is an :class:`InputError` saying what the folder or glob holds instead."""
    return source_files(input_cfg)


# --- the engine-neutral pipeline -------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Which rules run, from the switches and the columns the data has."""

    present: tuple[str, ...]
    cleaning: CleaningConfig

    def has(self, column: str) -> bool:
        return column in self.present

    @property
    def price_column(self) -> str:
        return price_column(self.present)

    @property
    def copies_by_amount(self) -> bool:
        return not (self.has("quantity") and self.has("unit_price"))

    @property
    def rules(self) -> dict[str, RowRule]:
        """Rules 1-6 that run, with their notes (one definition: cleaning.row_rules)."""
        return {rule.step: rule for rule in row_rules(self.present, self.cleaning)}

    def skip_note(self, rule: str) -> str | None:
        """Why rule ``rule`` does not run, or None when it runs."""
        return self.rules[rule].skipped

    def typed_params(self) -> dict[str, bool]:
        params = {f"rule_{rule}": self.skip_note(rule) is None for rule in ROW_RULES[:-1]}
        params["revenue_from_amount"] = self.has("amount")
        params["price_from_amount"] = self.price_column == "amount"
        return params


def _load_reference_lists(
    engine: SQLEngine,
    non_product_codes: pd.DataFrame,
    flagged_descriptions: pd.DataFrame,
    missing_text: list[str],
) -> None:
    """The lists rules 3 and 5 and the typing compare against, as the engine's small tables."""
    engine.load_frame("rfm_missing_text", pd.DataFrame({"value": pd.Series(missing_text, dtype=str)}))
    keys = flagged_descriptions["description"].str.strip().str.casefold().drop_duplicates()
    engine.load_frame("rfm_flagged_descriptions", pd.DataFrame({"description_key": keys.astype(str)}))
    codes = non_product_codes["stock_code"].str.strip().drop_duplicates()
    engine.load_frame("rfm_non_product_codes", pd.DataFrame({"stock_code": codes.astype(str)}))


def _rule7_mode(plan: _Plan) -> str:
    """The form of rule 7 that runs: ``cleaning.duplicates``, ``keep`` when the data lack a
    column of the consolidate rule's key."""
    mode = plan.cleaning.duplicates
    if mode == "consolidate" and not all(plan.has(c) for c in DUPLICATE_KEY):
        return "keep"
    return mode


def clean_query(engine: SQLEngine, plan: _Plan) -> str:
    """The query of the clean transactions (rule 7 applied), in the engine's dialect."""
    mode = _rule7_mode(plan)
    if mode == "consolidate":
        return render("clean_consolidate", engine.dialect, copies_by_amount=plan.copies_by_amount)
    return render(f"clean_{mode}", engine.dialect)


def _months(engine: SQLEngine, plan: _Plan, rows: int) -> list[str] | None:
    """The conditions on ``invoice_date`` of each month the rows rules 1-6 keep fall in (and
    of rows without a date), when rule 7 is to run month by month (:data:`BY_MONTH_FROM_ROWS`);
    else None."""
    if engine.dialect != "duckdb" or rows <= BY_MONTH_FROM_ROWS or plan.cleaning.duplicates == "keep":
        return None
    months = engine.fetch(
        "SELECT DISTINCT DATE_TRUNC('month', invoice_date) AS month FROM rfm_typed "
        "WHERE removed_by IS NULL ORDER BY month"
    )["month"]
    parts = [
        f"invoice_date >= TIMESTAMP '{m:%Y-%m-%d}' "
        f"AND invoice_date < TIMESTAMP '{m:%Y-%m-%d}' + INTERVAL 1 MONTH"
        for m in months.dropna()
    ]
    return parts + (["invoice_date IS NULL"] if months.isna().any() else [])


def _on_part(engine: SQLEngine, query: str, condition: str) -> str:
    """``query`` reading the rows of ``rfm_typed`` that meet ``condition`` (a view)."""
    engine.create_view(_PART, f"SELECT * FROM rfm_typed WHERE {condition}")
    return _reading(engine, query, _PART)


def _reading(engine: SQLEngine, query: str, table: str) -> str:
    """``query`` reading the relation ``table`` where it reads ``rfm_typed``."""

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == "rfm_typed" and not node.args.get("db"):
            renamed = node.copy()
            renamed.set("this", exp.to_identifier(table))
            return renamed
        return node

    return sqlglot.parse_one(query, read=engine.dialect).transform(rename).sql(dialect=engine.dialect)


def _in_place(engine: SQLEngine) -> bool:
    """Whether rule 7 and the netting are kept as changes to ``rfm_typed`` (DuckDB:
    :func:`_define_clean`) rather than stored as tables of all the rows they leave."""
    return engine.dialect == "duckdb"


def store_deduplicated(engine: SQLEngine, plan: _Plan, name: str, months: list[str] | None) -> None:
    """Rule 7 (:func:`clean_query`) as the table ``name``; on DuckDB as the view ``name``
    (:func:`_define_clean`) over ``rfm_typed`` and the rule's rows for the lines it may change
    (:func:`_store_candidates`, month by month when ``months`` says so)."""
    query = clean_query(engine, plan)
    if not _in_place(engine):
        engine.create_table(name, query)
        return
    if _rule7_mode(plan) == "keep":
        engine.create_table(_PATCH, f"SELECT * FROM ({query}) AS t LIMIT 0")
    else:
        _store_candidates(engine, months)
        # Rule 7 on every line of a key gives that key's rows: on the candidates, the rule's
        # rows for them; every other line is kept as it is (its key is its own).
        engine.create_table(_PATCH, _reading(engine, query, _CANDIDATES))
    _define_clean(engine, name)
    if _rule7_mode(plan) != "keep":
        _mark_replaced(engine, f"SELECT row_id FROM {_CANDIDATES}")


def _store_candidates(engine: DuckDBEngine, months: list[str] | None) -> None:
    """The rows rules 1-6 keep whose key (``DUPLICATE_KEY``) hash another such row shares, into
    the table ``rfm_rule7_lines`` (at once, or month by month). A line whose key hash is its own
    shares its key with no other line, so rule 7 (any form: identical lines share the key too)
    keeps it as it is; the hash only finds the others fast (a 64-bit number instead of four
    columns): every line of a shared key is a candidate, and a collision merely adds lines whose
    keys the rule then finds unshared."""
    query = (
        f"WITH survivors AS (SELECT *, {_KEY_HASH} AS key_hash FROM rfm_typed WHERE removed_by IS NULL) "
        "SELECT * EXCLUDE (key_hash) FROM survivors "
        "WHERE key_hash IN (SELECT key_hash FROM survivors GROUP BY key_hash HAVING COUNT(*) > 1)"
    )
    if months is None:
        engine.create_table(_CANDIDATES, query)
        return
    engine.create_table(_CANDIDATES, "SELECT * FROM rfm_typed LIMIT 0")
    for condition in months:
        engine.con.execute(f'INSERT INTO "{_CANDIDATES}" {_on_part(engine, query, condition)}')


def _define_clean(engine: DuckDBEngine, name: str) -> None:
    """The view ``name``: the lines rules 1-6 keep (``clean_keep.sql``) not marked ``replaced``,
    and the rows of ``rfm_patch`` (rule 7's and the netting's rows for the lines marked). The
    tens of millions of lines rule 7 and the netting keep as they are stay where they are,
    instead of being compressed again into a table of their own."""
    engine.con.execute("ALTER TABLE rfm_typed ADD COLUMN IF NOT EXISTS replaced BOOLEAN DEFAULT FALSE")
    engine.create_view("rfm_typed_kept", "SELECT * FROM rfm_typed WHERE NOT replaced")
    kept = _reading(engine, render("clean_keep", engine.dialect), "rfm_typed_kept")
    engine.create_view(name, f'{kept} UNION ALL BY NAME SELECT * FROM "{_PATCH}"')


def _mark_replaced(engine: DuckDBEngine, row_ids: str) -> None:
    """Mark ``replaced`` the lines of ``rfm_typed`` whose ``row_id`` the query ``row_ids`` lists:
    their clean rows are (or none is) in ``rfm_patch`` (:func:`_define_clean`)."""
    engine.con.execute(f"UPDATE rfm_typed SET replaced = TRUE WHERE row_id IN ({row_ids})")


def rule_ledger(engine: SQLEngine, plan: _Plan) -> tuple[list[dict], int, Decimal]:
    """Ledger rows of rules 1-6 (and the raw row), plus the rows and revenue they leave."""
    totals = engine.fetch(render("rule_totals", engine.dialect))
    by_rule = {
        (None if pd.isna(r.removed_by) else r.removed_by): (int(r.row_count), _decimal(r.revenue))
        for r in totals.itertuples()
    }
    rows = sum(count for count, _ in by_rule.values())
    if rows == 0:
        raise CleaningError("Cannot clean: the transactions table has no rows.")
    revenue = sum((money for _, money in by_rule.values()), Decimal(0))
    top = engine.fetch(render("rule_top_values", engine.dialect, top_n=TOP_VALUES))

    ledger = [_ledger_row("raw", True, f"{rows:,} rows as loaded", rows, revenue, rows, revenue)]
    for rule in ROW_RULES:
        skipped = plan.skip_note(rule)
        removed, removed_revenue = by_rule.get(rule, (0, Decimal(0)))
        if skipped is not None:
            ledger.append(_ledger_row(rule, False, skipped, rows, revenue, rows, revenue))
            continue
        note = plan.rules[rule].note
        listed = top[top["removed_by"] == rule]
        if removed and len(listed):
            values = ", ".join(
                f"{v} {int(n):,}" for v, n in zip(listed["value"], listed["row_count"], strict=False)
            )
            note = f"{removed:,} rows; most frequent: {values}"
        after, after_revenue = rows - removed, revenue - removed_revenue
        ledger.append(_ledger_row(rule, True, note, rows, revenue, after, after_revenue))
        _stop_if_empty(rule, rows, after, ledger)
        rows, revenue = after, after_revenue
    return ledger, rows, revenue


def duplicates_ledger_row(
    engine: SQLEngine,
    plan: _Plan,
    rows: int,
    revenue: Decimal,
    clean_rows: int,
    clean_revenue: Decimal,
) -> dict:
    """The ledger row of rule 7, given the rows and revenue before and after it. On DuckDB its
    figures are counted on the lines it may change (:func:`_store_candidates`) only: each other
    line is one line, one key and one distinct line, and every figure of the note is a
    difference of two counts (lines - keys, ...), which such lines leave as it is."""
    mode = plan.cleaning.duplicates
    if mode == "keep":
        return _ledger_row(
            "duplicates", False, "disabled by cleaning.duplicates: keep", rows, revenue, rows, revenue
        )
    if mode == "drop_exact":
        note = f"{rows - clean_rows:,} rows identical in every column to an earlier row dropped"
    else:
        absent = [c for c in DUPLICATE_KEY if not plan.has(c)]
        if absent:
            note = (
                f"no {', '.join(absent)} column in the data: the duplicate key needs it "
                "(set cleaning.duplicates: drop_exact to drop identical rows)"
            )
            return _ledger_row("duplicates", False, note, rows, revenue, rows, revenue)
        query = render("duplicate_counts", engine.dialect, copies_by_amount=plan.copies_by_amount)
        if _in_place(engine):
            query = _reading(engine, query, _CANDIDATES)
        c = {k: int(v) for k, v in engine.fetch(query).iloc[0].items()}
        summed = c["keys_summed"]
        note = (
            f"{c['survivor_rows'] - c['keys']:,} rows shared a key: {c['keys_shared'] - summed:,} groups of "
            f"identical copies dropped, {summed:,} groups summed "
            f"({c['survivor_rows'] - c['distinct_lines']:,} copies dropped, "
            f"{c['lines_in_summed_keys'] - summed:,} rows merged into others; summing keeps revenue)"
        )
    row = _ledger_row("duplicates", True, note, rows, revenue, clean_rows, clean_revenue)
    _stop_if_empty("duplicates", rows, clean_rows, [row])
    return row


def clean_totals(engine: SQLEngine) -> pd.Series:
    """``row_count``, exact ``revenue``, ``first_date`` and ``last_date`` of ``rfm_clean``."""
    return engine.fetch(render("clean_totals", engine.dialect)).iloc[0]


def customer_table(engine: SQLEngine, rfm_cfg: RFMConfig, has_country: bool) -> pd.DataFrame:
    """:func:`rfm_helpers.analysis.metrics.customer_metrics` of the engine's ``rfm_clean`` table."""
    span = clean_totals(engine)
    dates = pd.DataFrame({"invoice_date": pd.to_datetime([span["first_date"], span["last_date"]])})
    _check_late_rows(engine, rfm_cfg, dates["invoice_date"].min(), dates["invoice_date"].max())
    snapshot = resolve_snapshot(dates, rfm_cfg)
    customers = engine.fetch(render("customer_count", engine.dialect)).iloc[0]
    if int(customers["customers"]) < 2:
        # As metrics.customer_metrics: scores rank customers against each other.
        raise MetricsError(
            f"The clean data has a single customer ({customers['any_customer']}): RFM scores rank "
            "customers against each other, so at least 2 are needed. Check input.path and "
            "input.columns.customer_id, and the cleaning ledger of the cleaning report for the rows "
            "the rules removed."
        )
    table = engine.fetch(
        render(
            "customer_metrics",
            engine.dialect,
            frequency_lines=rfm_cfg.frequency == "lines",
            snapshot=snapshot.date(),
        )
    )
    out = pd.DataFrame(
        {
            "customer_id": table["customer_id"].astype(str),
            "recency": table["recency"].astype("int64"),
            "frequency": table["frequency"].astype("int64"),
            "monetary": table["monetary"].map(float).astype("float64"),
            "first_purchase": pd.to_datetime(table["first_purchase"]).astype("datetime64[us]"),
            "last_purchase": pd.to_datetime(table["last_purchase"]).astype("datetime64[us]"),
        }
    )
    if has_country:
        out["country"] = table["country"].astype(str).where(table["country"].notna())
    # Engines sort text by their collation; pandas by code point, as here.
    return out.sort_values("customer_id", ignore_index=True)


def _check_late_rows(engine: SQLEngine, rfm_cfg: RFMConfig, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """As :func:`rfm_helpers.analysis.metrics.resolve_snapshot`: clean rows dated after the snapshot date
    (or, without one, after today) are an error with their count and the latest one."""
    after = last_allowed_day(rfm_cfg) + pd.Timedelta(days=1)
    late = engine.fetch(render("late_rows", engine.dialect, after=after.to_pydatetime()))
    if late.empty:
        return
    row = late.iloc[0]
    where = ", ".join(
        f"{label} {row[c]}"
        for c, label in (("invoice_id", "invoice"), ("customer_id", "customer"))
        if pd.notna(row[c])
    )
    raise late_rows_error(
        rfm_cfg,
        count=int(row["row_count"]),
        latest=pd.Timestamp(row["invoice_date"]),
        where=where,
        first=first,
        last=last,
    )


def _decimal(value: object) -> Decimal:
    return Decimal(0) if value is None or pd.isna(value) else Decimal(str(value))


def _ledger_row(
    step: str, applied: bool, note: str, rows: int, revenue: Decimal, after: int, after_revenue: Decimal
) -> dict:
    # As cleaning._Ledger: both totals rounded to pence, removed = their difference.
    return {
        "step": step,
        "rule": RULE_TEXT[step],
        "applied": applied,
        "note": note,
        "rows_removed": rows - after,
        "revenue_removed": removed_revenue(revenue, after_revenue),
        "rows_remaining": after,
        "revenue_remaining": round(float(after_revenue), 2),
    }


def _stop_if_empty(step: str, before: int, after: int, ledger: list[dict]) -> None:
    if after == 0:
        raise CleaningError(
            f"Cleaning removed every row: rule {step!r} ({RULE_TEXT[step]}) removed the last "
            f"{before:,} rows. {WHEN_NOTHING_LEFT.get(step, 'Check the input and the cleaning parameters.')}"
            "\n"
            f"Ledger so far:\n{pd.DataFrame(ledger, columns=LEDGER_COLUMNS).to_string(index=False)}"
        )


# --- DuckDB ----------------------------------------------------------------------------


def register_parquet_source(engine: DuckDBEngine, input_cfg: InputConfig) -> list[str]:
    """Define ``rfm_source`` over the parquet input (every file of ``input.path`` is parquet:
    :mod:`rfm_helpers.sql.transactions` sends other formats through the loader); return the
    canonical columns it maps."""
    files = input_files(input_cfg)
    mapping = input_cfg.columns.source_to_canonical()
    for f in files:  # repeated, nested or missing columns, time zones: named per file
        check_parquet_head(parquet_head(f), mapping, str(f), input_cfg.timezone)
    listed = "[" + ", ".join(f"'{sql_text(str(f))}'" for f in files) + "]"
    scan = f"read_parquet({listed}, file_row_number = true, union_by_name = true)"
    described = engine.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    check_columns([r[0] for r in described], mapping, str(resolve(input_cfg.path)))
    # file_index (DuckDB's virtual column, UBIGINT) is the file's place in the list: no join on
    # the file names. BIGINT as file_row_number, else row_id would be a wider HUGEINT.
    row_id = f"CAST(file_index AS BIGINT) * {FILE_STRIDE} + file_row_number"
    engine.create_view("rfm_scan", f"SELECT *, {row_id} AS row_id FROM {scan}")
    # Typed as the csv/xlsx loader types them, after the same row-level checks (one scan, and
    # one more for the message of a failing check).
    typed = typed_columns(engine.con, "rfm_scan", files, input_cfg, {r[0]: r[1] for r in described})
    select = [f"{typed[c]} AS {c}" if c in typed else null_column(c) for c in CANONICAL_COLUMNS]
    engine.create_view("rfm_source", f"SELECT {', '.join(select)}, row_id FROM rfm_scan")
    return [c for c in CANONICAL_COLUMNS if c in typed]


def source_query(columns: ColumnMap, table: str, row_order: str, dialect: str) -> str:
    """The ``rfm_source`` query over a table of the export as it is (its own column names).

    For a database or Spark table: each mapped column is renamed to its canonical name,
    unmapped ones are typed NULLs, and ``row_order`` (a column giving the export's row order,
    used to keep the first of duplicate lines) becomes ``row_id``.
    """
    by_canonical = {canon: src for src, canon in columns.source_to_canonical().items()}
    select = [
        exp.column(by_canonical[c], quoted=True).as_(c)
        if c in by_canonical
        else exp.cast(exp.null(), _SQL_TYPES.get(c, "VARCHAR")).as_(c)
        for c in CANONICAL_COLUMNS
    ]
    select.append(exp.column(row_order, quoted=True).as_("row_id"))
    return exp.select(*select).from_(exp.to_table(table)).sql(dialect=dialect)


def run_sql_cleaning(
    engine: SQLEngine,
    present: list[str],
    cleaning_cfg: CleaningConfig,
    non_product_codes: pd.DataFrame,
    flagged_descriptions: pd.DataFrame,
    missing_text: list[str],
) -> tuple[pd.DataFrame, int, NettingSummary | None]:
    """Ledger, number of clean rows and what netting cancelled orders did (or would do), on any
    engine whose ``rfm_source`` is defined; the clean transactions (with ``row_id``) are left in
    the engine's table ``rfm_clean`` (a view on DuckDB: :func:`_define_clean`).

    ``present`` lists the canonical columns the source maps.
    """
    _load_reference_lists(engine, non_product_codes, flagged_descriptions, missing_text)
    plan = _Plan(tuple(present), cleaning_cfg)
    # Stored, not a view: the ledger and rule 7 read it several times, and typing the text
    # columns costs more than reading the stored rows back.
    engine.create_table("rfm_typed", render("typed", engine.dialect, **plan.typed_params()))
    ledger, rows, revenue = rule_ledger(engine, plan)
    months = _months(engine, plan, rows)
    skipped = netting_skip_note(plan.present, cleaning_cfg)
    netting = None
    if skipped is not None:
        store_deduplicated(engine, plan, CLEAN, months)
        totals = clean_totals(engine)
        clean_rows, clean_revenue = int(totals["row_count"]), _decimal(totals["revenue"])
        ledger.append(duplicates_ledger_row(engine, plan, rows, revenue, clean_rows, clean_revenue))
        ledger.append(
            _ledger_row(
                "cancelled_orders", False, skipped, clean_rows, clean_revenue, clean_rows, clean_revenue
            )
        )
    else:
        ledger, netting, clean_rows = _net_cancelled_orders(engine, plan, ledger, rows, revenue, months)
    return pd.DataFrame(ledger, columns=LEDGER_COLUMNS), clean_rows, netting


def _net_cancelled_orders(
    engine: SQLEngine,
    plan: _Plan,
    ledger: list[dict],
    rows: int,
    revenue: Decimal,
    months: list[str] | None = None,
) -> tuple[list[dict], NettingSummary, int]:
    """Rule 7 as ``rfm_deduped``, the netting into ``rfm_netting``, then the clean rows (netted
    with ``cancellations: net``; with ``drop`` as deduplicated, the netting measured only)."""
    store_deduplicated(engine, plan, "rfm_deduped", months)
    engine.create_table("rfm_netting", render("cancel_netting", engine.dialect))
    deduped_rows, deduped_revenue = _totals(engine, "SELECT revenue FROM rfm_deduped")
    ledger.append(duplicates_ledger_row(engine, plan, rows, revenue, deduped_rows, deduped_revenue))
    netted = render("clean_netted", engine.dialect)
    if plan.cleaning.cancellations == "net":
        _store_netted(engine, netted)
        totals = clean_totals(engine)
        clean_rows, clean_revenue = int(totals["row_count"]), _decimal(totals["revenue"])
        netted_revenue = clean_revenue
    else:
        netted_revenue = _totals(engine, netted)[1]
        _deduped_as_clean(engine)
        clean_rows, clean_revenue = deduped_rows, deduped_revenue
    counts = {k: v for k, v in engine.fetch(render("netting_counts", engine.dialect)).iloc[0].items()}
    cancellation_lines = next(r["rows_removed"] for r in ledger if r["step"] == "cancellation_lines")
    summary = NettingSummary(
        mode=plan.cleaning.cancellations,
        cancellation_lines=int(cancellation_lines),
        matched_in_full=int(counts["matched_in_full"]),
        matched_in_part=int(counts["matched_in_part"]),
        unmatched=int(counts["unmatched"]),
        unmatched_units=float(counts["unmatched_units"]),
        purchase_lines_removed=int(counts["purchase_lines_removed"]),
        purchase_lines_reduced=int(counts["purchase_lines_reduced"]),
        revenue=removed_revenue(deduped_revenue, netted_revenue),
    )
    applied = plan.cleaning.cancellations == "net"
    row = _ledger_row(
        "cancelled_orders", applied, summary.note(), deduped_rows, deduped_revenue, clean_rows, clean_revenue
    )
    _stop_if_empty("cancelled_orders", deduped_rows, clean_rows, [*ledger, row])
    return [*ledger, row], summary, clean_rows


def _deduped_as_clean(engine: SQLEngine) -> None:
    """``rfm_deduped`` (no longer needed as such) becomes ``rfm_clean``: on DuckDB the view of
    the same rows (:func:`_define_clean`), copied on the other engines."""
    if not _in_place(engine):
        engine.create_table(CLEAN, "SELECT * FROM rfm_deduped")
        return
    _define_clean(engine, CLEAN)
    engine.con.execute("DROP VIEW rfm_deduped")


def _store_netted(engine: SQLEngine, netted: str) -> None:
    """The rows of ``netted`` (``clean_netted.sql``) into ``rfm_clean``. On DuckDB, in place: the
    netting changes only the purchase lines it takes units off, so those lines are marked
    ``replaced`` and their rows of ``netted`` (none for a line netted in full) put in
    ``rfm_patch`` instead of their rows of rule 7: no copy of the tens of millions of lines the
    netting keeps as they are (:func:`_define_clean`)."""
    if not _in_place(engine):
        engine.create_table(CLEAN, netted)
        return
    taken = "SELECT row_id FROM rfm_netting WHERE kind = 0 AND netted > 0"
    engine.create_table("rfm_netted_lines", f"SELECT * FROM ({netted}) AS t WHERE row_id IN ({taken})")
    _mark_replaced(engine, taken)
    engine.con.execute(f'DELETE FROM "{_PATCH}" WHERE row_id IN ({taken})')
    engine.con.execute(f'INSERT INTO "{_PATCH}" BY NAME SELECT * FROM rfm_netted_lines')
    engine.con.execute("DROP TABLE rfm_netted_lines")
    _deduped_as_clean(engine)


def _totals(engine: SQLEngine, query: str) -> tuple[int, Decimal]:
    """Rows and exact revenue of ``query`` (in the engine's dialect)."""
    row = engine.fetch(
        f"SELECT COUNT(*) AS row_count, SUM(CAST(revenue AS DECIMAL(38, 6))) AS revenue FROM ({query}) AS t"
    ).iloc[0]
    return int(row["row_count"]), _decimal(row["revenue"])


def null_column(column: str) -> str:
    return f"CAST(NULL AS {_SQL_TYPES.get(column, 'VARCHAR')}) AS {column}"
