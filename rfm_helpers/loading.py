"""Read the transactions export (parquet, csv or xlsx) into the internal column layout.

Every problem with the input is an :class:`InputError` whose message names the file (and the
sheet, column or row) and says what to change, so a notebook run fails with a message an
analyst can act on rather than a pandas traceback.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from rfm_helpers.atomic import write_parquet
from rfm_helpers.config import CANONICAL_COLUMNS, InputConfig
from rfm_helpers.paths import resolve

TEXT_COLUMNS = ("invoice_id", "stock_code", "description", "customer_id", "country")
NUMERIC_COLUMNS = ("quantity", "unit_price", "amount")
TEXT_DTYPE = "str"
"""pandas 3's default string dtype; missing values are NaN (``isna()`` is True)."""

_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}

# Column names of the known exports, to suggest a mapping when a mapped column is absent.
_KNOWN_ALIASES = {
    "invoice_id": ("InvoiceNo", "Invoice", "Invoice No", "invoice_id", "OrderID", "Order ID", "order_id"),
    "stock_code": ("StockCode", "Stock Code", "stock_code", "SKU", "ProductID", "product_id"),
    "description": ("Description", "description", "Product", "product_name"),
    "quantity": ("Quantity", "quantity", "Qty"),
    "invoice_date": ("InvoiceDate", "Invoice Date", "invoice_date", "OrderDate", "Order Date", "Date"),
    "unit_price": ("UnitPrice", "Price", "Unit Price", "unit_price"),
    "customer_id": ("CustomerID", "Customer ID", "customer_id", "Customer Id", "CustomerId"),
    "country": ("Country", "country"),
    "amount": ("Amount", "amount", "Sales", "Revenue", "Total", "order_value"),
}
_ONLINE_RETAIL_II = {"invoice_id": "Invoice", "unit_price": "Price", "customer_id": "Customer ID"}


class InputError(ValueError):
    """The input file is missing, unreadable or does not match the parameters."""


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_format(path: str | Path, fmt: str) -> str:
    """``parquet`` | ``csv`` | ``xlsx``: ``fmt`` unless it is ``auto``, else from the extension."""
    if fmt != "auto":
        if fmt not in set(_EXTENSIONS.values()):
            raise InputError(f"input.format: unsupported format {fmt!r}; use auto, parquet, csv or xlsx")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        supported = ", ".join(_EXTENSIONS)
        raise InputError(
            f"{path}: cannot tell the file format from the extension {suffix!r}. Supported extensions: "
            f"{supported}. Rename the file or set the input.format parameter (parquet, csv or xlsx)."
        )
    return _EXTENSIONS[suffix]


def load_transactions(cfg: InputConfig, cache_dir: Path | None = None) -> pd.DataFrame:
    """Read the transactions file and return the mapped canonical columns plus ``revenue``.

    Columns come in the order of :data:`CANONICAL_COLUMNS` (only those mapped in
    ``cfg.columns``), then ``revenue`` (= ``amount`` if mapped, else quantity x unit_price).
    Text columns are :data:`TEXT_DTYPE`, stripped (except ``description``, kept as written),
    with ``cfg.missing_text`` values as missing;
    money and quantity columns are float64; ``invoice_date`` is naive datetime64.

    With ``cache_dir``, a csv or xlsx input is parsed once and kept as parquet under
    ``cache_dir`` (keyed on the file's content hash and sheet), so reruns skip the slow parse.
    """
    path = resolve(cfg.path)
    if not path.is_file():
        raise InputError(f"Input file not found: {path}. Check input.path in the params file.")
    fmt = detect_format(path, cfg.format)
    mapping = cfg.columns.source_to_canonical()

    sheet: str | None = None
    if fmt == "parquet":
        # Check the columns from the schema first, then read only the mapped ones.
        _check_columns(_parquet_columns(path), mapping, str(path))
        raw = _read_parquet(path, list(mapping))
    else:
        if fmt == "xlsx":
            sheet = _transactions_sheet(path, cfg)
        raw = _read_cached(path, fmt, sheet, cfg.csv_encoding, cache_dir, cfg.excel_engine)

    where = f"{path}" + (f" (sheet {sheet!r})" if sheet else "")
    if raw.empty:
        raise InputError(f"{where} has no data rows. Check input.path (and input.sheet for a workbook).")
    _check_columns(raw.columns, mapping, where)

    ctx = _RowContext(where, fmt)
    raw = raw[list(mapping)].rename(columns=mapping).reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    for col in (c for c in CANONICAL_COLUMNS if c in raw.columns):
        source = cfg.columns.model_dump()[col]
        if col in TEXT_COLUMNS:
            out[col] = _to_text(
                raw[col], cfg.missing_text, customer_id=col == "customer_id", strip=col != "description"
            )
        elif col in NUMERIC_COLUMNS:
            out[col] = _to_float(raw[col], source, cfg.missing_text, ctx)
        else:
            out[col] = _to_datetime(raw[col], source, cfg.date_format, cfg.missing_text, ctx)
    out["revenue"] = out["amount"] if "amount" in out else out["quantity"] * out["unit_price"]
    return out


def read_segment_sheet(path: str | Path, sheet: str) -> pd.DataFrame | None:
    """The segment → RFM codes table of a workbook (columns ``segment``, ``rfm_codes``).

    The sheet has one row per segment with columns ``Segment`` and ``RFM Score`` (codes
    comma-separated). Returns None when the workbook has no such sheet. The result's
    ``attrs["source"]`` names the workbook and sheet, for error messages downstream.
    """
    path = resolve(path)
    if sheet not in _sheet_names(path):
        return None
    table = _read_sheet(path, sheet)
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


def _parquet_columns(path: Path) -> list[str]:
    try:
        return pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path} is not a readable parquet file ({exc}). Re-export the file.") from exc


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:
        raise InputError(f"{path} is not a readable parquet file ({exc}). Re-export the file.") from exc


def _read_cached(
    path: Path, fmt: str, sheet: str | None, encoding: str, cache_dir: Path | None, engine: str = "calamine"
) -> pd.DataFrame:
    """Parse a csv/xlsx file, or reuse its parquet copy from an earlier run."""
    if cache_dir is None:
        return _read_csv(path, encoding) if fmt == "csv" else _read_sheet(path, sheet, engine)
    sha = file_sha256(path)
    # The date format is not part of the key: dates are parsed after the cache, from text.
    key = {"sha256": sha, "sheet": sheet or "", "encoding": encoding if fmt == "csv" else ""}
    target = Path(cache_dir) / f"{sha}-{sheet or 'csv'}.parquet"
    if target.is_file():
        try:
            cached = pd.read_parquet(target)
        except Exception:  # a damaged cache is rebuilt, never fatal
            cached = None
        if cached is not None and cached.attrs.get("rfm_cache_key") == key:
            return cached
    table = _read_csv(path, encoding) if fmt == "csv" else _read_sheet(path, sheet, engine)
    table.attrs["rfm_cache_key"] = key
    write_parquet(table, target)
    return table


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    try:
        # All text, no automatic NA: ids keep their letters and leading zeros, and only
        # input.missing_text decides what is missing.
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not valid {encoding} text ({exc.reason} at byte {exc.start}). Set "
            "input.csv_encoding: latin-1 (Kaggle's copy of Online Retail is latin-1)."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path} is empty. Check input.path.") from exc
    except (pd.errors.ParserError, LookupError) as exc:
        raise InputError(
            f"{path} could not be read as CSV ({exc}). Check the file and input.csv_encoding."
        ) from exc


def _sheet_names(path: Path) -> list[str]:
    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            return [str(name) for name in book.sheet_names]
    except Exception as exc:  # calamine / zip errors for a damaged workbook
        raise InputError(f"{path} is not a readable xlsx workbook ({exc}). Re-save it from Excel.") from exc


def _read_sheet(path: Path, sheet: str | None, engine: str = "calamine") -> pd.DataFrame:
    try:
        # calamine: ~10x faster than openpyxl on the 540k-row workbook. dtype=str writes
        # whole numbers without ".0", so numeric-looking ids read back as typed.
        return pd.read_excel(path, sheet_name=sheet, engine=engine, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise InputError(
            f"{path} (sheet {sheet!r}) could not be read ({exc}). Re-save the workbook."
        ) from exc


def _transactions_sheet(path: Path, cfg: InputConfig) -> str:
    names = _sheet_names(path)
    if cfg.sheet is not None:
        if cfg.sheet not in names:
            raise InputError(f"{path} has no sheet {cfg.sheet!r}. Its sheets are {names}; set input.sheet.")
        return cfg.sheet
    candidates = [name for name in names if name != cfg.segment_sheet]
    if not candidates:
        raise InputError(f"{path} has no transactions sheet (sheets: {names}). Set input.sheet.")
    return candidates[0]


# --- checking and typing ---------------------------------------------------------------


def _check_columns(available: pd.Index, mapping: dict[str, str], where: str) -> None:
    missing = {canon: src for src, canon in mapping.items() if src not in available}
    if not missing:
        return
    columns = [str(c) for c in available]
    suggestions = {canon: _suggest(canon, src, columns) for canon, src in missing.items()}
    suggestions = {canon: s for canon, s in suggestions.items() if s is not None}
    lines = [
        f"{where}: column(s) {', '.join(repr(s) for s in missing.values())} not found "
        f"(mapped to {', '.join(missing)}). Available columns: {columns}."
    ]
    if suggestions:
        settings = ", ".join(f"{canon}: {_yaml_value(src)}" for canon, src in suggestions.items())
        known_ii = all(_ONLINE_RETAIL_II.get(c) == s for c, s in suggestions.items())
        prefix = "looks like Online Retail II: set" if known_ii and len(suggestions) > 1 else "set"
        lines.append(f"Suggestion: {prefix} input.columns.{settings}")
    else:
        lines.append("Set input.columns.<name> in the params file to the export's column names.")
    raise InputError(" ".join(lines))


def _suggest(canon: str, source: str, columns: list[str]) -> str | None:
    """A column of the file that probably holds ``canon``: a known alias, else a close name."""
    for alias in _KNOWN_ALIASES.get(canon, ()):
        if alias in columns:
            return alias
    folded = {c.casefold().replace(" ", "").replace("_", ""): c for c in columns}
    close = difflib.get_close_matches(source.casefold().replace(" ", "").replace("_", ""), list(folded), n=1)
    return folded[close[0]] if close else None


def _yaml_value(text: str) -> str:
    return f"'{text}'" if not text.replace("_", "").isalnum() else text


class _RowContext:
    """Where the data came from, to name a bad row the way the analyst will find it."""

    def __init__(self, where: str, fmt: str) -> None:
        self.where = where
        self.fmt = fmt

    def row(self, position: int) -> str:
        if self.fmt == "parquet":
            return f"data row {position + 1}"
        # csv line / sheet row, counting the header as 1
        return f"{'line' if self.fmt == 'csv' else 'row'} {position + 2}"


def _to_text(values: pd.Series, missing_text: list[str], customer_id: bool, strip: bool = True) -> pd.Series:
    """Text column with missing markers as NaN; ``strip=False`` keeps the text as written
    (descriptions: the cleaning step trims them and reports how many it changed)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("Float64")
        if bool((numbers.dropna() % 1 == 0).all()):
            # 17850.0 (a float column with NaN) must read as "17850", like the integer id.
            return numbers.astype("Int64").astype(TEXT_DTYPE)
        return numbers.astype(TEXT_DTYPE)
    text = values.astype(TEXT_DTYPE)
    stripped = text.str.strip()
    text = (stripped if strip else text).where(~stripped.isin(missing_text), np.nan)
    if customer_id:
        # "17850.0" from a CSV written out of a float column is the same customer as "17850".
        text = text.str.replace(r"^(\d+)\.0*$", r"\1", regex=True)
    return text


def _to_float(values: pd.Series, column: str, missing_text: list[str], ctx: _RowContext) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype(TEXT_DTYPE).str.strip()
    text = text.where(~text.isin(missing_text), np.nan)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & text.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{ctx.where}: column {column!r} must be numeric but has text {text.iloc[pos]!r} at "
            f"{ctx.row(pos)} ({int(bad.sum()):,} such values). Fix the file or map another column."
        )
    return numbers.astype("float64")


def _to_datetime(
    values: pd.Series, column: str, date_format: str | None, missing_text: list[str], ctx: _RowContext
) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values):
        return values
    text = values.astype(TEXT_DTYPE).str.strip()
    parsed = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce", utc=True)
    empty = text.isna() | text.isin(missing_text)
    if empty.any():
        pos = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(
            f"{ctx.where}: column {column!r} is empty at {ctx.row(pos)} ({int(empty.sum()):,} rows without "
            "a date). Every transaction needs its date: fill them in or remove those rows."
        )
    bad = parsed.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        expected = f"the format {date_format!r}" if date_format else "ISO 8601"
        if not bad.all():
            good = int(np.flatnonzero(~bad.to_numpy())[0])
            raise InputError(
                f"{ctx.where}: column {column!r} mixes date formats: {int((~bad).sum()):,} values are in "
                f"{expected} (e.g. {text.iloc[good]!r} at {ctx.row(good)}) but {int(bad.sum()):,} are not "
                f"(e.g. {text.iloc[pos]!r} at {ctx.row(pos)}). Re-export the column in one format and "
                "set input.date_format to it."
            )
        example = "" if date_format else " (e.g. 2010-12-01 08:26)"
        raise InputError(
            f"{ctx.where}: column {column!r} has {text.iloc[pos]!r} at {ctx.row(pos)} that is not a date in "
            f"{expected}{example} ({int(bad.sum()):,} such values). Set input.date_format, e.g. "
            "'%m/%d/%y %H:%M' for dates like 12/1/10 8:26."
        )
    # Offsets in the text (e.g. +01:00) are converted to UTC; naive text is taken as UTC.
    return parsed.dt.tz_localize(None)


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
