"""Read the transactions export (parquet, csv or xlsx; one file or a glob) into the internal
column layout.

Every problem with the input is an :class:`InputError` whose message names the file (and the
sheet, column or row) and says what to change, so a notebook run fails with a message an
analyst can act on rather than a pandas traceback. What the header or schema reveals is
checked by :mod:`rfm_helpers.data.inputcheck` (which the runner also calls before any kernel
starts, :func:`precheck_input`); the values are checked here, row by row:

* ids (``invoice_id``, ``customer_id``) must be whole numbers when they are numbers: a
  fractional id (``17908.5``) is an error naming the column, row and value, whole-number floats
  read as the integer text (``17908.0`` → ``17908``), text ids are kept as written;
* quantities, prices, amounts and the revenue ``quantity × unit_price`` must be finite and
  within ±:data:`MAX_ABS_VALUE`: ``inf`` or ``1e308`` is an error naming the column, row and
  value (an error, not a counted cleaning rule: such a value is a broken export, and dropping
  the row would hide it); empty values stay missing, and the cleaning rules count them;
* dates: ISO 8601 or ``input.date_format``; a column of numbers is read as Excel serial dates;
  timestamps with a UTC offset need ``input.timezone``.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_helpers.atomic import write_parquet
from rfm_helpers.config import CANONICAL_COLUMNS, InputConfig
from rfm_helpers.data.inputcheck import (
    InputError,
    check_header,
    check_parquet_head,
    check_same_header,
    detect_format,
    encoding_message,
    parquet_head,
    precheck_input,
    read_csv_head,
    show_delimiter,
    source_files,
    source_format,
    time_zone_column_message,
    transactions_sheet,
    workbook_sheets,
)
from rfm_helpers.paths import resolve
from rfm_helpers.provenance import sha256_file

__all__ = [
    "InputError",
    "detect_format",
    "load_transactions",
    "precheck_input",
    "read_segment_sheet",
]

TEXT_COLUMNS = ("invoice_id", "stock_code", "description", "customer_id", "country")
NUMERIC_COLUMNS = ("quantity", "unit_price", "amount")
ID_COLUMNS = ("invoice_id", "customer_id")
"""Text columns whose numbers must be whole: a fractional id matches no customer or order."""
TEXT_DTYPE = "str"
"""pandas 3's default string dtype; missing values are NaN (``isna()`` is True)."""
MAX_ABS_VALUE = 1e15
"""Largest quantity, price, amount or line revenue accepted, in absolute value. No invoice line
is worth 10^15: such a value is a unit mix-up or a broken export; near it float64 no longer holds
the cents, and exact ``DECIMAL(38, 6)`` totals (out of core) of many such lines would overflow.
Larger or infinite values are an :class:`InputError`."""
_MAX_TEXT = "10^15"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel serial dates (1900 system; correct from 1 March 1900, serial 61)."""
EXCEL_MAX_SERIAL = 2958466
"""Serial of 10000-01-01: Excel's dates end the day before."""
OFFSET_PATTERN = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
"""A time followed by a UTC offset (``09:00:00+01:00``, ``09:00Z``)."""
_NUMBER_TEXT = r"\d+(?:\.\d+)?"
_CACHE_LAYOUT = 2
"""Version of the parse cache's layout (2: the raw header is kept in the parquet's attrs)."""


@dataclass
class _Part:
    """One input file as read: where it is (for messages), its format and its rows."""

    where: str
    name: str
    fmt: str
    table: pd.DataFrame


def load_transactions(cfg: InputConfig, cache_dir: Path | None = None) -> pd.DataFrame:
    """Read the transactions file(s) and return the mapped canonical columns plus ``revenue``.

    ``input.path`` is a file, or a glob of files of one format with the same header, read as one
    table in the glob's (sorted) order. Columns come in the order of :data:`CANONICAL_COLUMNS`
    (only those mapped in ``cfg.columns``), then ``revenue`` (= ``amount`` if mapped, else
    quantity x unit_price). Text columns are :data:`TEXT_DTYPE`, stripped (except
    ``description``, kept as written), with ``cfg.missing_text`` values as missing; money and
    quantity columns are float64; ``invoice_date`` is naive datetime64.

    With ``cache_dir``, a csv or xlsx input is parsed once and kept as parquet under
    ``cache_dir`` (keyed on the file's content hash, sheet, encoding and delimiter), so reruns
    skip the slow parse.
    """
    files = source_files(cfg)
    fmt = source_format(cfg, files)
    mapping = cfg.columns.source_to_canonical()
    parts: list[_Part] = []
    first: tuple[str, list[str]] | None = None
    for path in files:
        if fmt == "parquet":
            # Check the columns from the schema first, then read only the mapped ones.
            check_parquet_head(parquet_head(path), mapping, str(path), cfg.timezone)
            parts.append(_Part(str(path), path.name, fmt, _read_parquet(path, list(mapping))))
            continue
        sheet = transactions_sheet(path, cfg) if fmt == "xlsx" else None
        where = f"{path}" + (f" (sheet {sheet!r})" if sheet else "")
        delimiter = None
        if fmt == "csv":  # the header first: a wrong delimiter is named before pandas fails on it
            head = read_csv_head(path, cfg.csv_encoding, cfg.delimiter)
            if first is not None:
                check_same_header(first[0], first[1], where, head.header)
            check_header(head.header, mapping, where, delimiter=head.delimiter)
            delimiter = head.delimiter
        table, header = _read_cached(path, fmt, sheet, cfg, cache_dir, delimiter)
        if first is not None:  # a file unlike the first: say so, rather than what it lacks
            check_same_header(first[0], first[1], where, header)
        check_header(header, mapping, where, delimiter=delimiter)
        first = first or (where, header)
        parts.append(_Part(where, path.name, fmt, table))

    if all(part.table.empty for part in parts):
        what = parts[0].where if len(parts) == 1 else f"None of the {len(parts)} files of {resolve(cfg.path)}"
        raise InputError(f"{what} has no data rows. Check input.path (and input.sheet for a workbook).")
    parts = [part for part in parts if not part.table.empty] or parts[:1]
    ctx = _RowContext(parts)
    tables = [part.table[list(mapping)] for part in parts]
    raw = (tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)).rename(columns=mapping)
    raw = raw.reset_index(drop=True)
    sources = cfg.columns.model_dump()
    decimal = cfg.decimal if fmt == "csv" else "."
    out = pd.DataFrame(index=raw.index)
    for col in (c for c in CANONICAL_COLUMNS if c in raw.columns):
        if col in TEXT_COLUMNS:
            out[col] = _to_text(
                raw[col], cfg.missing_text, col, sources[col], ctx, strip=col != "description"
            )
        elif col in NUMERIC_COLUMNS:
            out[col] = _to_float(raw[col], sources[col], cfg.missing_text, ctx, decimal)
        else:
            out[col] = _to_datetime(raw[col], sources[col], cfg, ctx)
    if "amount" in out:
        out["revenue"] = out["amount"]
    else:
        out["revenue"] = out["quantity"] * out["unit_price"]
        _check_revenue(out, sources, ctx)
    return out


def read_segment_sheet(path: str | Path, sheet: str) -> pd.DataFrame | None:
    """The segment → RFM codes table of a workbook (columns ``segment``, ``rfm_codes``).

    The sheet has one row per segment with columns ``Segment`` and ``RFM Score`` (codes
    comma-separated). Returns None when the workbook has no such sheet. The result's
    ``attrs["source"]`` names the workbook and sheet, for error messages downstream.
    """
    path = resolve(path)
    if sheet not in workbook_sheets(path):
        return None
    try:
        table = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype=str, keep_default_na=False)
    except Exception as exc:
        raise InputError(
            f"{path} (sheet {sheet!r}) could not be read ({exc}). Re-save the workbook."
        ) from exc
    by_name = {str(c).strip().casefold(): c for c in table.columns}
    missing = [name for name in ("segment", "rfm score") if name not in by_name]
    if missing:
        raise InputError(
            f"{path} (sheet {sheet!r}): expected columns 'Segment' and 'RFM Score', found "
            f"{list(table.columns)}. Fix the sheet's header row, or rename the sheet so that the "
            "shipped segment table is used."
        )
    result = pd.DataFrame(
        {
            "segment": table[by_name["segment"]].astype(TEXT_DTYPE).str.strip(),
            "rfm_codes": table[by_name["rfm score"]].astype(TEXT_DTYPE).str.strip(),
        }
    )
    result = result[result["segment"].ne("") & result["segment"].notna()].reset_index(drop=True)
    result.attrs["source"] = f"{path} (sheet {sheet!r})"
    return result


# --- reading ---------------------------------------------------------------------------


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:
        raise InputError(f"{path} is not a readable parquet file ({exc}). Re-export the file.") from exc


def _read_cached(
    path: Path,
    fmt: str,
    sheet: str | None,
    cfg: InputConfig,
    cache_dir: Path | None,
    delimiter: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Parse a csv/xlsx file (``delimiter``: the csv's), or reuse its parquet copy from an
    earlier run; return the rows and the header as written."""
    if cache_dir is None:
        return _parse(path, fmt, sheet, cfg, delimiter)
    sha = sha256_file(path)
    # The date format is not part of the key: dates are parsed after the cache, from text.
    key = {
        "sha256": sha,
        "sheet": sheet or "",
        "encoding": cfg.csv_encoding if fmt == "csv" else "",
        "delimiter": delimiter or "",
        "layout": _CACHE_LAYOUT,
    }
    target = Path(cache_dir) / f"{sha}-{sheet or 'csv'}.parquet"
    if target.is_file():
        try:
            cached = pd.read_parquet(target)
        except Exception:  # a damaged cache is rebuilt, never fatal
            cached = None
        if cached is not None and cached.attrs.get("rfm_cache_key") == key:
            return cached, list(cached.attrs["rfm_header"])
    table, header = _parse(path, fmt, sheet, cfg, delimiter)
    table.attrs["rfm_cache_key"] = key
    table.attrs["rfm_header"] = header
    write_parquet(table, target)
    return table, header


def _parse(
    path: Path, fmt: str, sheet: str | None, cfg: InputConfig, delimiter: str | None
) -> tuple[pd.DataFrame, list[str]]:
    """All cells as text, the first row apart: the header as written (pandas would rename a
    repeated name to ``name.1`` and hide the repeat)."""
    grid = (
        _read_csv(path, cfg.csv_encoding, delimiter or ",")
        if fmt == "csv"
        else _read_sheet(path, sheet, cfg.excel_engine)
    )
    if grid.empty:
        return pd.DataFrame(), []
    header = [
        str(name) if str(name) != "" else f"Unnamed: {i}" for i, name in enumerate(grid.iloc[0].tolist())
    ]
    table = grid.iloc[1:].reset_index(drop=True)
    table.columns = _unique(header)
    return table, header


def _unique(names: list[str]) -> list[str]:
    """Column labels for the frame: a repeated (unmapped) name gets ``.1``, ``.2``, …"""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        labels.append(name if count == 0 else f"{name}.{count}")
    return labels


def _read_csv(path: Path, encoding: str, delimiter: str) -> pd.DataFrame:
    try:
        # All text, no automatic NA: ids keep their letters and leading zeros, and only
        # input.missing_text decides what is missing.
        return pd.read_csv(
            path, sep=delimiter, header=None, dtype=str, keep_default_na=False, encoding=encoding
        )
    except UnicodeDecodeError as exc:
        reason, position, line = _first_bad_byte(path, encoding, exc)
        raise InputError(encoding_message(path, encoding, reason, position, line)) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty. Check input.path.") from None
    except (pd.errors.ParserError, LookupError) as exc:
        raise InputError(
            f"{path} could not be read as CSV with the delimiter {show_delimiter(delimiter)} ({exc}). "
            "Check the file, input.delimiter and input.csv_encoding."
        ) from None


def _first_bad_byte(path: Path, encoding: str, exc: UnicodeDecodeError) -> tuple[str, int, int]:
    """Reason, byte offset and line of the first byte that ``encoding`` cannot decode (pandas
    reports an offset within the chunk it was decoding)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 1
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                return err.reason, offset + err.start, lines + chunk.count(b"\n", 0, max(err.start, 0))
            offset += len(chunk)
            lines += chunk.count(b"\n")
    return exc.reason, exc.start, 0


def _read_sheet(path: Path, sheet: str | None, engine: str = "calamine") -> pd.DataFrame:
    try:
        # calamine: ~10x faster than openpyxl on the 540k-row workbook. dtype=str writes
        # whole numbers without ".0", so numeric-looking ids read back as typed.
        return pd.read_excel(
            path, sheet_name=sheet, engine=engine, header=None, dtype=str, keep_default_na=False
        )
    except ImportError as exc:  # openpyxl is in the dev extra only (make env-dev)
        raise InputError(
            f"input.excel_engine is {engine}, which is not installed in this environment: install it "
            f"with `make env-dev`, or use input.excel_engine: calamine (the default) to read {path}."
        ) from exc
    except Exception as exc:
        raise InputError(
            f"{path} (sheet {sheet!r}) could not be read ({exc}). Re-save the workbook."
        ) from exc


# --- checking and typing ---------------------------------------------------------------


class _RowContext:
    """Where each row came from, to name a bad row the way the analyst will find it."""

    def __init__(self, parts: list[_Part]) -> None:
        self.parts = parts
        self.ends = np.cumsum([len(part.table) for part in parts])

    def _locate(self, position: int) -> tuple[_Part, int]:
        index = int(np.searchsorted(self.ends, position, side="right"))
        start = int(self.ends[index - 1]) if index else 0
        return self.parts[index], position - start

    def where(self, position: int) -> str:
        """The file (and sheet) of a row."""
        return self._locate(position)[0].where

    def row(self, position: int) -> str:
        part, offset = self._locate(position)
        if part.fmt == "parquet":
            text = f"data row {offset + 1}"
        else:  # csv line / sheet row, counting the header as 1
            text = f"{'line' if part.fmt == 'csv' else 'row'} {offset + 2}"
        return text if len(self.parts) == 1 else f"{text} of {part.name}"


def _first(mask: pd.Series | np.ndarray) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def fractional_id_message(where: str, column: str, value: str, row: str, count: int) -> str:
    return (
        f"{where}: column {column!r} holds ids, but {value} at {row} is not a whole number "
        f"({count:,} such values). Ids are matched with your CRM as written, so a fractional or "
        "rounded id would match the wrong customer or none: fix the id in the file, or export the "
        "column as text."
    )


def magnitude_message(where: str, column: str, value: str, row: str, count: int, finite: bool) -> str:
    problem = f"beyond ±{_MAX_TEXT}" if finite else "not a finite number"
    return (
        f"{where}: column {column!r} has {value} at {row}, {problem} ({count:,} such values). "
        f"Quantities, prices and amounts must be finite numbers within ±{_MAX_TEXT} (larger "
        "values overflow the revenue sums): fix the value in the file or remove the row."
    )


def revenue_message(where: str, quantity: str, price: str, values: str, row: str, count: int) -> str:
    return (
        f"{where}: revenue {quantity} × {price} = {values} at {row} is beyond ±{_MAX_TEXT} "
        f"({count:,} such rows). Fix the quantity or the price in the file, or remove the row."
    )


def _to_text(
    values: pd.Series,
    missing_text: list[str],
    canon: str,
    column: str,
    ctx: _RowContext,
    strip: bool = True,
) -> pd.Series:
    """Text column with missing markers as NaN; ``strip=False`` keeps the text as written
    (descriptions: the cleaning step trims them and reports how many it changed)."""
    if pd.api.types.is_integer_dtype(values):
        return values.astype("Int64").astype(TEXT_DTYPE)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(numbers)
        whole = present & np.isfinite(numbers) & (numbers == np.floor(numbers))
        if canon in ID_COLUMNS and (present & ~whole).any():
            pos = _first(present & ~whole)
            raise InputError(
                fractional_id_message(
                    ctx.where(pos),
                    column,
                    repr(float(numbers[pos])),
                    ctx.row(pos),
                    int((present & ~whole).sum()),
                )
            )
        # 17850.0 (a float column with NaN) must read as "17850", like the integer id.
        ints = (
            pd.Series(np.where(whole, numbers, np.nan), index=values.index).astype("Int64").astype(TEXT_DTYPE)
        )
        floats = pd.Series(numbers, index=values.index).astype(TEXT_DTYPE)
        return ints.where(whole, floats.where(present))
    text = values.astype(TEXT_DTYPE)
    stripped = text.str.strip()
    text = (stripped if strip else text).where(~stripped.isin(missing_text), np.nan)
    if canon in ID_COLUMNS:
        present = text.notna()
        if present.any() and text[present].str.fullmatch(_NUMBER_TEXT).all():
            # Numbers only: the column was written from numbers, so a fraction is a broken id.
            fractional = present & text.str.fullmatch(r"\d+\.\d*[1-9]\d*").fillna(False)
            if fractional.any():
                pos = _first(fractional)
                raise InputError(
                    fractional_id_message(
                        ctx.where(pos), column, repr(text.iloc[pos]), ctx.row(pos), int(fractional.sum())
                    )
                )
    if canon == "customer_id":
        # "17850.0" from a CSV written out of a float column is the same customer as "17850".
        text = text.str.replace(r"^(\d+)\.0*$", r"\1", regex=True)
    return text


def _to_float(
    values: pd.Series, column: str, missing_text: list[str], ctx: _RowContext, decimal: str = "."
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        shown = numbers.map(repr)
    else:
        text = values.astype(TEXT_DTYPE).str.strip()
        text = text.where(~text.isin(missing_text), np.nan)
        readable = text
        misplaced = pd.Series(False, index=text.index)
        if decimal == ",":
            # 1.234,50: dots group thousands; any other dot is not a number in this file.
            grouped = text.str.fullmatch(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?").fillna(False)
            misplaced = text.str.contains(".", regex=False).fillna(False) & ~grouped
            readable = text.where(~grouped, text.str.replace(".", "", regex=False)).str.replace(
                ",", ".", regex=False
            )
        numbers = pd.to_numeric(readable, errors="coerce").astype("float64")
        bad = (numbers.isna() & text.notna()) | misplaced
        if bad.any():
            pos = _first(bad)
            value = text.iloc[pos]
            hint = ""
            if decimal == "." and pd.Series([value]).str.fullmatch(r"[+-]?\d+(?:\.\d{3})*,\d+").iloc[0]:
                hint = ' It looks like a decimal comma: set input.decimal: ",".'
            elif decimal == ",":
                hint = ' With input.decimal: ",", a "." may only group thousands (as in 1.234,50).'
            raise InputError(
                f"{ctx.where(pos)}: column {column!r} must be numeric but has text {value!r} at "
                f"{ctx.row(pos)} ({int(bad.sum()):,} such values).{hint} Fix the file or map another column."
            )
        shown = text.map(repr)
    array = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        out_of_range = np.isinf(array) | (np.abs(array) > MAX_ABS_VALUE)
    if out_of_range.any():
        pos = _first(out_of_range)
        raise InputError(
            magnitude_message(
                ctx.where(pos),
                column,
                shown.iloc[pos],
                ctx.row(pos),
                int(out_of_range.sum()),
                finite=bool(np.isfinite(array[pos])),
            )
        )
    return numbers


def _check_revenue(out: pd.DataFrame, sources: dict[str, str | None], ctx: _RowContext) -> None:
    """quantity × unit_price, each within range, can still exceed it (10^8 × 10^8)."""
    revenue = out["revenue"].to_numpy()
    with np.errstate(invalid="ignore"):
        beyond = np.abs(revenue) > MAX_ABS_VALUE
    if beyond.any():
        pos = _first(beyond)
        quantity, price = out["quantity"].iloc[pos], out["unit_price"].iloc[pos]
        raise InputError(
            revenue_message(
                ctx.where(pos),
                repr(sources["quantity"]),
                repr(sources["unit_price"]),
                f"{float(quantity)!r} × {float(price)!r}",
                ctx.row(pos),
                int(beyond.sum()),
            )
        )


def offset_message(where: str, column: str, value: str, row: str, count: int) -> str:
    return (
        f"{where}: column {column!r} has timestamps with a UTC offset (e.g. {value} at {row}; "
        f"{count:,} such values) and input.timezone is not set. Set input.timezone to the zone the "
        "report should count days in (an IANA name such as Europe/London): each timestamp is "
        "converted to it. To keep UTC, set input.timezone: UTC."
    )


def serial_message(where: str, column: str, value: str, row: str, count: int) -> str:
    return (
        f"{where}: column {column!r} holds numbers, read as Excel serial dates (days since "
        f"1899-12-30), but {value} at {row} is not one ({count:,} such values; serial dates run "
        f"from 1 to {EXCEL_MAX_SERIAL - 1}). If the numbers are dates written another way, set "
        "input.date_format (e.g. '%Y%m%d' for 20111203)."
    )


def _from_serial(numbers: pd.Series, column: str, ctx: _RowContext) -> pd.Series:
    """Excel serial dates (days since 1899-12-30, the fraction being the time of day), to the second."""
    days = numbers.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(days) & ~((days >= 1) & (days < EXCEL_MAX_SERIAL))
    if bad.any():
        pos = _first(bad)
        raise InputError(
            serial_message(
                ctx.where(pos), column, repr(float(numbers.iloc[pos])), ctx.row(pos), int(bad.sum())
            )
        )
    seconds = pd.Series(np.round(days * 86400), index=numbers.index)
    return (EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s")).astype("datetime64[us]")


def _to_datetime(values: pd.Series, column: str, cfg: InputConfig, ctx: _RowContext) -> pd.Series:
    date_format, zone = cfg.date_format, cfg.timezone
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
        empty = values.isna()
        if empty.any():
            raise _empty_dates(ctx, column, _first(empty), int(empty.sum()))
        if not isinstance(values.dtype, pd.DatetimeTZDtype):
            return values
        if zone is None:
            raise InputError(time_zone_column_message(ctx.where(0), column, str(values.dt.tz)))
        return values.dt.tz_convert(zone).dt.tz_localize(None)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and date_format is None:
        empty = values.isna()
        if empty.any():
            pos = _first(empty)
            raise _empty_dates(ctx, column, pos, int(empty.sum()))
        return _from_serial(values, column, ctx)
    if pd.api.types.is_integer_dtype(values):
        values = values.astype("Int64")  # 20111203, not 20111203.0, for input.date_format
    text = values.astype(TEXT_DTYPE).str.strip()
    empty = text.isna() | text.isin(cfg.missing_text)
    if empty.any():
        raise _empty_dates(ctx, column, _first(empty), int(empty.sum()))
    if date_format is None and text.str.fullmatch(_NUMBER_TEXT).all():
        numbers = pd.to_numeric(text)
        if numbers.between(1, EXCEL_MAX_SERIAL, inclusive="left").all():
            return _from_serial(numbers, column, ctx)
    offsets = text.str.contains(OFFSET_PATTERN, regex=True)
    if offsets.any() and zone is None:
        pos = _first(offsets)
        raise InputError(
            offset_message(ctx.where(pos), column, repr(text.iloc[pos]), ctx.row(pos), int(offsets.sum()))
        )
    parsed = _parse_dates(text, date_format or "ISO8601", offsets, zone)
    if parsed is None:  # an offset the pattern did not recognise, which pandas found
        raise InputError(offset_message(ctx.where(0), column, repr(text.iloc[0]), ctx.row(0), len(text)))
    bad = parsed.isna()
    if bad.any():
        pos = _first(bad)
        expected = f"the format {date_format!r}" if date_format else "ISO 8601"
        if not bad.all():
            good = _first(~bad)
            raise InputError(
                f"{ctx.where(pos)}: column {column!r} mixes date formats: {int((~bad).sum()):,} values "
                f"are in {expected} (e.g. {text.iloc[good]!r} at {ctx.row(good)}) but {int(bad.sum()):,} "
                f"are not (e.g. {text.iloc[pos]!r} at {ctx.row(pos)}). Re-export the column in one format "
                "and set input.date_format to it."
            )
        example = "" if date_format else " (e.g. 2010-12-01 08:26)"
        raise InputError(
            f"{ctx.where(pos)}: column {column!r} has {text.iloc[pos]!r} at {ctx.row(pos)} that is not a "
            f"date in {expected}{example} ({int(bad.sum()):,} such values). Set input.date_format, e.g. "
            "'%m/%d/%y %H:%M' for dates like 12/1/10 8:26."
        )
    return parsed


def _parse_dates(text: pd.Series, fmt: str, offsets: pd.Series, zone: str | None) -> pd.Series | None:
    """Naive timestamps as written; those with an offset converted to ``zone``, then naive.
    None when pandas finds offsets that ``offsets`` does not mark (and ``zone`` is unset)."""
    try:
        naive = pd.to_datetime(text.where(~offsets), format=fmt, errors="coerce")
    except ValueError:  # "Mixed timezones detected": offsets in a form OFFSET_PATTERN misses
        naive = pd.to_datetime(text.where(~offsets), format=fmt, errors="coerce", utc=True)
    if isinstance(naive.dtype, pd.DatetimeTZDtype):
        if zone is None:
            return None
        naive = naive.dt.tz_convert(zone).dt.tz_localize(None)
    if not offsets.any():
        return naive
    converted = pd.to_datetime(text.where(offsets), format=fmt, errors="coerce", utc=True)
    converted = converted.dt.tz_convert(zone).dt.tz_localize(None)
    return naive.where(~offsets, converted.astype(naive.dtype))


def _empty_dates(ctx: _RowContext, column: str, pos: int, count: int) -> InputError:
    return InputError(
        f"{ctx.where(pos)}: column {column!r} is empty at {ctx.row(pos)} ({count:,} rows without "
        "a date). Every transaction needs its date: fill them in or remove those rows."
    )


def warm_cache(params_file: str) -> None:
    """Parse the run's csv/xlsx input into the cache (the runner starts this in a separate
    process while the kernels boot, so the first notebook reads the parsed copy). Errors are
    left for the notebook to report, with its context."""
    from rfm_helpers.config import load_config

    cfg = load_config(params_file)
    with contextlib.suppress(Exception):
        load_transactions(cfg.input, cache_dir=cfg.cache_dir)


if __name__ == "__main__":
    warm_cache(sys.argv[1])
