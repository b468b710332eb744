"""The out-of-core twin of :mod:`rfm_helpers.data.loading`: parquet columns typed and checked in DuckDB.

:func:`typed_columns` checks the raw parquet rows with one scan (and a second one, for its
message, when a check fails), with the same row-level rules as the pandas loader and the same
messages: fractional ids, text in a number column, non-finite or out-of-range quantities,
prices, amounts and revenues, empty dates, dates that are not dates, UTC offsets without
``input.timezone``, numbers that are not Excel serial dates. It returns the
``SELECT`` expressions that type each mapped column as the loader types it (whole-number float
ids as integer text, ``NaN`` as missing, Excel serial dates, time-zone-aware timestamps in
``input.timezone``). ``sql/rfm/typed.sql`` then applies the cleaning's text rules to them.

Rows are named as the loader names parquet rows: ``data row N`` (of ``file`` when several).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rfm_helpers.config import InputConfig
from rfm_helpers.data.inputcheck import InputError
from rfm_helpers.data.loading import (
    EXCEL_MAX_SERIAL,
    ID_COLUMNS,
    MAX_ABS_VALUE,
    NUMERIC_COLUMNS,
    OFFSET_PATTERN,
    TEXT_COLUMNS,
    fractional_id_message,
    magnitude_message,
    offset_message,
    revenue_message,
    serial_message,
)

_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
FILE_STRIDE = 1 << 40
"""row_id = file number x stride + row number in the file: the export's row order across files."""
_CHECKED: set[tuple] = set()
"""Inputs whose rows passed the checks in this process (a kernel runs several steps)."""


def kind(type_text: str) -> str:
    """``integer``, ``float``, ``decimal``, ``text``, ``timestamp``, ``timestamptz`` or ``other``."""
    upper = type_text.upper()
    if upper in _INTEGER_TYPES:
        return "integer"
    if upper in {"FLOAT", "DOUBLE", "REAL"}:
        return "float"
    if upper.startswith("DECIMAL"):
        return "decimal"
    if upper == "VARCHAR":
        return "text"
    if upper == "TIMESTAMP WITH TIME ZONE":
        return "timestamptz"
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        return "timestamp"
    return "other"


@dataclass
class _Check:
    """A row-level rule: rows matching ``condition`` are an error, unless ``unless`` (another
    condition) matches some row. ``shown`` are SQL values of the first bad row for the message."""

    condition: str
    shown: tuple[str, ...]
    message: Callable[[str, str, int, list], str]
    unless: str | None = None
    example: str | None = None
    """Rows that pass, of which the message shows how many and the first (``shown[0]``), after
    the bad row's values: count, file, row, value."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def typed_columns(
    con: object, scan: str, files: Sequence[Path], input_cfg: InputConfig, types: dict[str, str]
) -> dict[str, str]:
    """Check the rows of ``scan`` (a view of the parquet files with ``row_id``) and return, per
    mapped canonical column, the SQL expression that types it. ``types`` are the DuckDB types
    of the source columns; ``con`` a DuckDB connection."""
    mapping = input_cfg.columns.source_to_canonical()
    missing = (
        "(" + ", ".join(_text(v) for v in input_cfg.missing_text) + ")" if input_cfg.missing_text else None
    )
    where = str(files[0]) if len(files) == 1 else str(input_cfg.path)
    exprs: dict[str, str] = {}
    numbers: dict[str, str] = {}
    checks: list[_Check] = []
    for source, canon in mapping.items():
        column, found = _quote(source), kind(types[source])
        present = f"{column} IS NOT NULL"
        if found == "text" and missing:
            present += f" AND TRIM({column}) NOT IN {missing}"
        elif found == "float":
            present += f" AND NOT isnan({column})"
        if canon in TEXT_COLUMNS:
            exprs[canon] = _text_expr(column, found)
            checks += _id_checks(canon, source, column, found, present)
        elif canon in NUMERIC_COLUMNS:
            exprs[canon] = _number_expr(column, found, missing, source, where)
            numbers[canon] = _safe_number(column, found)
            checks += _number_checks(source, column, found, present)
        else:
            exprs[canon] = _date_expr(column, found, input_cfg, source, where)
            checks += _date_checks(source, column, found, present, input_cfg)
    if "amount" not in exprs:
        product = f"({numbers['quantity']}) * ({numbers['unit_price']})"
        checks.append(
            _Check(
                f"abs({product}) > {MAX_ABS_VALUE}",
                (numbers["quantity"], numbers["unit_price"]),
                lambda where, row, n, v: revenue_message(
                    where,
                    repr(input_cfg.columns.quantity),
                    repr(input_cfg.columns.unit_price),
                    f"{float(v[0])!r} × {float(v[1])!r}",
                    row,
                    n,
                ),
            )
        )
    key = (
        tuple((str(f), os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files),
        input_cfg.model_dump_json(),
    )
    if key not in _CHECKED:
        _run_checks(con, scan, files, checks)
        _CHECKED.add(key)
    return exprs


def _text_expr(column: str, found: str) -> str:
    if found in {"float", "decimal"}:
        number = f"CAST({column} AS DOUBLE)"
        return (
            f"CASE WHEN isnan({number}) THEN NULL WHEN {number} = floor({number}) "
            f"THEN CAST(CAST({number} AS HUGEINT) AS VARCHAR) ELSE CAST({number} AS VARCHAR) END"
        )
    return column


def _id_checks(canon: str, source: str, column: str, found: str, present: str) -> list[_Check]:
    if canon not in ID_COLUMNS:
        return []

    def message(where: str, row: str, n: int, v: list) -> str:
        value = repr(float(v[0])) if found in {"float", "decimal"} else repr(str(v[0]).strip())
        return fractional_id_message(where, source, value, row, n)

    if found in {"float", "decimal"}:
        number = f"CAST({column} AS DOUBLE)"
        return [
            _Check(
                f"NOT isnan({number}) AND (isinf({number}) OR {number} <> floor({number}))",
                (number,),
                message,
            )
        ]
    if found == "text":
        # As the loader: in a column of numbers only, a fraction is a broken id.
        # A fraction has a ".": the regular expression runs on those values only (DuckDB
        # evaluates both sides of an AND, a CASE only the branch taken).
        fraction = f"regexp_full_match(TRIM({column}), '[0-9]+[.][0-9]*[1-9][0-9]*')"
        return [
            _Check(
                f"{present} AND CASE WHEN contains({column}, '.') THEN {fraction} ELSE FALSE END",
                (column,),
                message,
                unless=f"{present} AND NOT regexp_full_match(TRIM({column}), '[0-9]+([.][0-9]+)?')",
            )
        ]
    return []


def _number_expr(column: str, found: str, missing: str | None, source: str, where: str) -> str:
    if found == "float":
        return f"CASE WHEN isnan({column}) THEN NULL ELSE CAST({column} AS DOUBLE) END"
    if found in {"integer", "decimal"}:
        return f"CAST({column} AS DOUBLE)"
    if found == "text":
        blank = f"TRIM({column}) IN {missing}" if missing else "FALSE"
        return f"CASE WHEN {blank} THEN NULL ELSE CAST(TRIM({column}) AS DOUBLE) END"
    raise InputError(
        f"{where}: column {source!r} must hold numbers, but its parquet type is neither a number nor "
        "text. Export it as numbers or map another column."
    )


def _safe_number(column: str, found: str) -> str:
    """The column as DOUBLE for the checks, NULL where it is not a number (never an error)."""
    if found == "text":
        return f"TRY_CAST(TRIM({column}) AS DOUBLE)"
    if found == "float":
        return f"CASE WHEN isnan({column}) THEN NULL ELSE CAST({column} AS DOUBLE) END"
    return f"CAST({column} AS DOUBLE)"


def _number_checks(source: str, column: str, found: str, present: str) -> list[_Check]:
    checks = []
    number = _safe_number(column, found)
    if found == "text":
        checks.append(
            _Check(
                f"{present} AND {number} IS NULL",
                (f"TRIM({column})",),
                lambda where, row, n, v: (
                    f"{where}: column {source!r} must be numeric but has text {str(v[0])!r} at {row} "
                    f"({n:,} such values). Fix the file or map another column."
                ),
            )
        )

    def out_of_range(where: str, row: str, n: int, v: list) -> str:
        value = float(v[0])
        shown = repr(str(v[1])) if found == "text" else repr(value)
        return magnitude_message(
            where, source, shown, row, n, finite=value not in (float("inf"), float("-inf"))
        )

    checks.append(
        _Check(
            f"NOT isnan({number}) AND (isinf({number}) OR abs({number}) > {MAX_ABS_VALUE})",
            (number, f"TRIM(CAST({column} AS VARCHAR))"),
            out_of_range,
        )
    )
    return checks


def _date_expr(column: str, found: str, input_cfg: InputConfig, source: str, where: str) -> str:
    zone = _text(input_cfg.timezone) if input_cfg.timezone else None
    if found == "timestamp":
        return f"CAST({column} AS TIMESTAMP)"
    if found == "timestamptz":
        return f"timezone({zone}, {column})"  # no zone: inputcheck.check_parquet_head raised
    if found in {"integer", "float", "decimal"}:
        if input_cfg.date_format:
            text = f"CAST(CAST({column} AS HUGEINT) AS VARCHAR)"
            return f"strptime({text}, {_text(input_cfg.date_format)})"
        seconds = f"CAST(round(CAST({column} AS DOUBLE) * 86400) AS BIGINT)"
        return f"TIMESTAMP '1899-12-30' + to_seconds({seconds})"
    if found == "text":
        if input_cfg.date_format:
            return f"strptime(TRIM({column}), {_text(input_cfg.date_format)})"
        if zone:
            return (
                f"CASE WHEN regexp_matches(TRIM({column}), {_text(OFFSET_PATTERN)}) "
                f"THEN timezone({zone}, CAST(TRIM({column}) AS TIMESTAMPTZ)) "
                f"ELSE CAST(TRIM({column}) AS TIMESTAMP) END"
            )
        return f"CAST(TRIM({column}) AS TIMESTAMP)"
    raise InputError(
        f"{where}: column {source!r} must hold dates, but its parquet type is neither a timestamp, a "
        "number nor text. Export it as timestamps or map another column."
    )


def _date_checks(source: str, column: str, found: str, present: str, input_cfg: InputConfig) -> list[_Check]:
    empty = "NOT (" + present + ")"
    checks = [
        _Check(
            empty,
            (),
            lambda where, row, n, v: (
                f"{where}: column {source!r} is empty at {row} ({n:,} rows without a date). Every "
                "transaction needs its date: fill them in or remove those rows."
            ),
        )
    ]
    if found in {"integer", "float", "decimal"} and not input_cfg.date_format:
        number = f"CAST({column} AS DOUBLE)"
        checks.append(
            _Check(
                f"{present} AND NOT ({number} >= 1 AND {number} < {EXCEL_MAX_SERIAL})",
                (number,),
                lambda where, row, n, v: serial_message(where, source, repr(float(v[0])), row, n),
            )
        )
    if found != "text":
        return checks
    value = f"TRIM({column})"
    if not input_cfg.date_format and input_cfg.timezone is None:
        checks.append(
            _Check(
                f"{present} AND regexp_matches({value}, {_text(OFFSET_PATTERN)})",
                (value,),
                lambda where, row, n, v: offset_message(where, source, repr(str(v[0])), row, n),
            )
        )
    if input_cfg.date_format:
        expected = f"the format {input_cfg.date_format!r}"
        bad = f"TRY_STRPTIME({value}, {_text(input_cfg.date_format)}) IS NULL"
    else:
        expected = "ISO 8601"
        bad = f"TRY_CAST({value} AS TIMESTAMPTZ) IS NULL AND TRY_CAST({value} AS TIMESTAMP) IS NULL"
    example = "" if input_cfg.date_format else " (e.g. 2010-12-01 08:26)"

    def not_dates(where: str, row: str, n: int, v: list) -> str:
        if v[1]:  # as the loader: some values are dates, so the column mixes formats
            good, _, good_row, good_value = v[1:]
            return (
                f"{where}: column {source!r} mixes date formats: {good:,} values are in {expected} "
                f"(e.g. {str(good_value)!r} at {good_row}) but {n:,} are not (e.g. {str(v[0])!r} at "
                f"{row}). Re-export the column in one format and set input.date_format to it."
            )
        return (
            f"{where}: column {source!r} has {str(v[0])!r} at {row} that is not a date in {expected}"
            f"{example} ({n:,} such values). Set input.date_format, e.g. '%m/%d/%y %H:%M' for dates "
            "like 12/1/10 8:26."
        )

    checks.append(_Check(f"{present} AND {bad}", (value,), not_dates, example=f"{present} AND NOT ({bad})"))
    return checks


def _run_checks(con: object, scan: str, files: Sequence[Path], checks: list[_Check]) -> None:
    """Raise the first failing check's message (in the loader's order). One scan counts the
    bad rows of every check; only a check with bad rows is looked at again (a second scan) for
    its first bad row, the values its message shows and its ``unless`` and ``example`` rows."""
    if not checks:
        return
    counts = ", ".join(f"COUNT(*) FILTER (WHERE {check.condition})" for check in checks)
    found = con.execute(f"SELECT {counts} FROM {scan}").fetchone()
    for check, count in zip(checks, found, strict=True):
        if count:
            _raise_if_failing(con, scan, files, check, int(count))


def _raise_if_failing(con: object, scan: str, files: Sequence[Path], check: _Check, count: int) -> None:
    """Raise ``check``'s message about its ``count`` bad rows, unless its ``unless`` rows exist."""
    where = f"FILTER (WHERE {check.condition})"
    parts = [f"MIN(row_id) {where} AS r"]
    parts += [f"arg_min({value}, row_id) {where} AS v{j}" for j, value in enumerate(check.shown)]
    if check.unless:
        parts.append(f"COUNT(*) FILTER (WHERE {check.unless}) AS u")
    if check.example:
        good = f"FILTER (WHERE {check.example})"
        parts += [f"COUNT(*) {good} AS g", f"MIN(row_id) {good} AS gr"]
        parts.append(f"arg_min({check.shown[0]}, row_id) {good} AS gv")
    row = con.execute(f"SELECT {', '.join(parts)} FROM {scan}").fetchone()
    result = dict(zip([d[0] for d in con.description], row, strict=True))
    if check.unless and result["u"]:
        return
    where_row, at = _locate(files, int(result["r"]))
    values = [result[f"v{j}"] for j in range(len(check.shown))]
    if check.example:
        good_rows = int(result["g"] or 0)
        values.append(good_rows)
        if good_rows:
            values += [*_locate(files, int(result["gr"])), result["gv"]]
    raise InputError(check.message(where_row, at, count, values))


def _locate(files: Sequence[Path], row_id: int) -> tuple[str, str]:

    index, offset = divmod(row_id, FILE_STRIDE)
    text = f"data row {offset + 1}"
    return str(files[index]), text if len(files) == 1 else f"{text} of {files[index].name}"
