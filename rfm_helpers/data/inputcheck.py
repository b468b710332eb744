"""What an input's header or schema can tell, checked in about a second before any kernel starts.

:func:`precheck_input` reads only what it needs: the first 64 KiB of a CSV file, the header row
of a workbook's transactions sheet (streamed from the sheet's XML, without loading the sheet:
python-calamine takes ~7 s to load the 540k-row sheet) and a parquet file's footer. It finds a
missing input, a folder or glob without data files, an unsupported format, a damaged file, an
encoding error in the first lines, a wrong delimiter, a header without data rows, missing,
repeated or ambiguous mapped columns, a nested (struct, list, map) parquet column and a
time-zone-aware date column without ``input.timezone``. :mod:`rfm_helpers.data.loading` applies the
same checks when it reads the data, then the row-level ones.

This module imports neither pandas nor numpy: the runner calls :func:`precheck_input` on every
run, a no-op rerun included, and pandas alone takes ~2 s to import. pyarrow and python-calamine
are imported only for the inputs that need them.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from rfm_helpers.config import InputConfig
from rfm_helpers.paths import matching_files, resolve


class InputError(ValueError):
    """The input file is missing, unreadable or does not match the parameters."""


EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
DELIMITERS = (",", ";", "\t", "|")
"""What ``input.delimiter: auto`` chooses from; on a tie, the first."""
HEAD_BYTES = 1 << 16
"""How much of a CSV file the precheck reads: the header and the first lines."""
_LISTED = 8
"""How many names a message lists from a folder."""

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


# --- which files -------------------------------------------------------------------------


def detect_format(path: str | Path, fmt: str) -> str:
    """``parquet`` | ``csv`` | ``xlsx``: ``fmt`` unless it is ``auto``, else from the extension."""
    if fmt != "auto":
        if fmt not in set(EXTENSIONS.values()):
            raise InputError(f"input.format: unsupported format {fmt!r}; use auto, parquet, csv or xlsx")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        supported = ", ".join(EXTENSIONS)
        raise InputError(
            f"{path}: cannot tell the file format from the extension {suffix!r}. Supported extensions: "
            f"{supported}. Rename the file or set the input.format parameter (parquet, csv or xlsx)."
        )
    return EXTENSIONS[suffix]


def source_files(cfg: InputConfig, params_file: str | None = None) -> list[Path]:
    """The files ``input.path`` names (see :func:`rfm_helpers.paths.matching_files`); when there
    are none, an :class:`InputError` that says what is there instead."""
    files = matching_files(cfg.path)
    if files:
        return files
    raise InputError(_nothing_found(str(cfg.path), params_file or "the params file"))


def source_format(cfg: InputConfig, files: Sequence[Path]) -> str:
    """The one format of ``files``; several formats, or an unsupported one, are an error."""
    formats = {f: detect_format(f, cfg.format) for f in files}
    kinds = sorted(set(formats.values()))
    if len(kinds) > 1:
        examples = ", ".join(f"{next(f for f, k in formats.items() if k == kind)} ({kind})" for kind in kinds)
        raise InputError(
            f"input.path {cfg.path} matches files of {len(kinds)} formats: {examples}. Point it at files "
            "of one format (e.g. a glob ending in *.csv)."
        )
    return kinds[0]


def _nothing_found(path_text: str, params: str) -> str:
    path = resolve(path_text)
    if path.is_dir():
        names = _listing(path)
        if not names:
            return f"Folder {path} (input.path) is empty. Check input.path in {params}."
        csvs = sorted(p.suffix.lower() for p in path.iterdir() if p.suffix.lower() in EXTENSIONS)
        hint = (
            f" For CSV or xlsx files, set input.path to a glob such as {path / ('*' + csvs[0])}."
            if csvs
            else ""
        )
        return (
            f"Folder {path} (input.path) contains no .parquet files (it has: {names}). A folder is read "
            f"as the .parquet files below it.{hint} Check input.path in {params}."
        )
    if any(ch in path_text for ch in "*?["):
        base = path
        while any(ch in base.name for ch in "*?[") or not base.is_dir():
            if base.parent == base:
                break
            base = base.parent
        names = _listing(base) or "nothing"
        return (
            f"input.path {path} is a glob that matches no file; {base} has: {names}. Check the pattern "
            f"in {params}."
        )
    message = f"Input file not found: {path}. Check input.path in {params}."
    if not path.parent.is_dir():
        return message + f" (The folder {path.parent} does not exist.)"
    inputs = [p.name for p in path.parent.iterdir() if p.suffix.lower() in EXTENSIONS or p.is_dir()]
    close = difflib.get_close_matches(path.name, inputs, n=1, cutoff=0.8)
    return message + (f" Did you mean {path.parent / close[0]}?" if close else "")


def _listing(folder: Path) -> str:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return ""
    names = [p.name + ("/" if p.is_dir() else "") for p in entries if not p.name.startswith(".")]
    more = f", … ({len(names) - _LISTED} more)" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more


# --- CSV -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvHead:
    """The header of a CSV file, as :func:`read_csv_head` found it."""

    delimiter: str
    header: list[str]
    has_data: bool
    """A line follows the header."""


def show_delimiter(delimiter: str) -> str:
    """How a message shows a delimiter, as the YAML value to type."""
    return '"\\t" (tab)' if delimiter == "\t" else f'"{delimiter}"'


def detect_delimiter(line: str) -> str:
    """The candidate of :data:`DELIMITERS` that splits ``line`` into the most fields (``,`` if none)."""
    best, fields = ",", 1
    for candidate in DELIMITERS:
        try:
            count = len(next(csv.reader([line], delimiter=candidate)))
        except (csv.Error, StopIteration):
            continue
        if count > fields:
            best, fields = candidate, count
    return best


def encoding_message(path: Path, encoding: str, reason: str, position: int, line: int) -> str:
    return (
        f"{path} is not valid {encoding} text ({reason} at byte {position}, line {line}). Set "
        "input.csv_encoding: latin-1 (Kaggle's copy of Online Retail is latin-1), or the file's "
        "encoding if it is another one (e.g. cp1252)."
    )


def read_csv_head(path: Path, encoding: str, delimiter: str = "auto") -> CsvHead:
    """Decode the first :data:`HEAD_BYTES` of a CSV file and parse its header line."""
    with open(path, "rb") as handle:
        raw = handle.read(HEAD_BYTES)
        complete = not handle.read(1)
    if not raw.strip():
        raise InputError(f"{path} is empty. Check input.path.")
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(raw, final=complete)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(encoding_message(path, encoding, exc.reason, exc.start, line)) from None
    text = text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    chosen = detect_delimiter(first) if delimiter == "auto" else delimiter
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=chosen)]
    except csv.Error as exc:
        raise InputError(f"{path} could not be read as CSV ({exc}). Check the file.") from None
    if not complete:
        rows = rows[:-1]  # the last line may be cut at HEAD_BYTES
    while rows and not rows[0]:
        rows.pop(0)
    header = [name if name else f"Unnamed: {i}" for i, name in enumerate(rows[0])] if rows else []
    return CsvHead(chosen, header, has_data=not complete or any(rows[1:]))


# --- xlsx ------------------------------------------------------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class SheetHead:
    """The header row of a worksheet and the Excel letters of its columns."""

    header: list[str]
    letters: list[str]
    has_data: bool
    """A row with a value follows the header row."""


def workbook_sheets(path: Path) -> list[str]:
    """Sheet names of an xlsx workbook."""
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            return [str(name) for name in book.sheet_names]
        finally:
            book.close()
    except Exception as exc:  # calamine / zip errors for a damaged workbook
        raise InputError(f"{path} is not a readable xlsx workbook ({exc}). Re-save it from Excel.") from exc


def transactions_sheet(path: Path, cfg: InputConfig, names: list[str] | None = None) -> str:
    """``input.sheet``, or the first sheet that is not the segment table."""
    names = workbook_sheets(path) if names is None else names
    if cfg.sheet is not None:
        if cfg.sheet not in names:
            raise InputError(f"{path} has no sheet {cfg.sheet!r}. Its sheets are {names}; set input.sheet.")
        return cfg.sheet
    candidates = [name for name in names if name != cfg.segment_sheet]
    if not candidates:
        raise InputError(f"{path} has no transactions sheet (sheets: {names}). Set input.sheet.")
    return candidates[0]


def sheet_header(path: Path, sheet: str) -> SheetHead:
    """Row 1 of ``sheet``, as pandas reads the header (a blank row 1 gives ``Unnamed: i``
    columns, from column A), streamed from the workbook's XML without loading the sheet."""
    try:
        with zipfile.ZipFile(path) as book:
            part = _sheet_part(book, sheet)
            rows, last_column = _first_rows(book, part)
            on_row_1 = rows[0][1] if rows and rows[0][0] == 1 else []
            strings = _shared_strings(book, {int(v) for _, kind, v in on_row_1 if kind == "s"})
    except (OSError, KeyError, StopIteration, zipfile.BadZipFile, ElementTree.ParseError, ValueError) as exc:
        raise InputError(
            f"{path} (sheet {sheet!r}) could not be read ({exc}). Re-save the workbook."
        ) from exc
    if not rows:
        return SheetHead([], [], has_data=False)
    cells = {_column_index(ref): (strings.get(int(v), "") if kind == "s" else v) for ref, kind, v in on_row_1}
    used = [_column_index(ref) for _, row in rows for ref, _, _ in row]
    last = max([last_column, *used])
    header = [str(cells.get(i, "") or "") or f"Unnamed: {i}" for i in range(last + 1)]
    letters = [_column_letters(i) for i in range(last + 1)]
    return SheetHead(header, letters, has_data=len(rows) > 1 or not on_row_1)


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str:
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rel_id = next(s.get(f"{_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet)
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels.iter(f"{_PACKAGE_REL}Relationship") if r.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)


def _first_rows(book: zipfile.ZipFile, part: str) -> tuple[list[tuple[int, list[tuple[str, str, str]]]], int]:
    """The first two rows that have a value (row number; cells as reference, type, value), and
    the last column of the sheet's ``dimension`` (-1 when it has none)."""
    rows: list[tuple[int, list[tuple[str, str, str]]]] = []
    last_column = -1
    with book.open(part) as stream:
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            if element.tag == f"{_MAIN}dimension":
                last_column = _column_index(element.get("ref", "A1").split(":")[-1])
                continue
            if element.tag != f"{_MAIN}row":
                continue
            cells = []
            number = int(element.get("r", len(rows) + 1))
            for position, cell in enumerate(element.iter(f"{_MAIN}c")):
                kind = cell.get("t", "n")
                if kind == "inlineStr":
                    value = "".join(t.text or "" for t in cell.iter(f"{_MAIN}t"))
                else:
                    node = cell.find(f"{_MAIN}v")
                    value = node.text if node is not None and node.text is not None else ""
                if value != "":  # some writers leave out the reference: the cells are in order
                    cells.append((cell.get("r") or f"{_column_letters(position)}{number}", kind, value))
            element.clear()
            if cells:
                rows.append((number, cells))
                if len(rows) == 2:
                    break
    return rows, last_column


def _shared_strings(book: zipfile.ZipFile, wanted: set[int]) -> dict[int, str]:
    """The shared strings at the indexes ``wanted``, reading the table only as far as needed."""
    found: dict[int, str] = {}
    if not wanted or "xl/sharedStrings.xml" not in book.namelist():
        return found
    index = 0
    with book.open("xl/sharedStrings.xml") as stream:
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            if element.tag != f"{_MAIN}si":
                continue
            if index in wanted:
                # Rich text has runs (r/t); phonetic hints (rPh/t) are not part of the value.
                runs = [t.text or "" for t in element.iter(f"{_MAIN}t")]
                hints = [t.text or "" for rph in element.iter(f"{_MAIN}rPh") for t in rph.iter(f"{_MAIN}t")]
                found[index] = "".join(runs[: len(runs) - len(hints)])
            element.clear()
            index += 1
            if index > max(wanted):
                break
    return found


def _column_index(reference: str) -> int:
    letters = re.match(r"[A-Z]+", reference)
    if letters is None:
        raise ValueError(f"cell reference {reference!r}")
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- parquet -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParquetHead:
    names: list[str]
    types: dict[str, str]
    """Arrow type of each column, as text (``struct<id: int64>``)."""
    nested: dict[str, str]
    """Columns of a nested type and its kind (``struct``, ``list``, ``map``)."""
    time_zones: dict[str, str]
    """Timestamp columns with a time zone, and the zone."""
    rows: int


def parquet_head(path: Path) -> ParquetHead:
    """Columns, types and row count of a parquet file, from its footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path} is not a readable parquet file ({exc}). Re-export the file.") from exc
    nested, zones = {}, {}
    for field in schema:
        kind = (
            "struct"
            if pa.types.is_struct(field.type)
            else "map"
            if pa.types.is_map(field.type)
            else "list"
            if pa.types.is_nested(field.type)
            else None
        )
        if kind:
            nested[field.name] = kind
        if pa.types.is_timestamp(field.type) and field.type.tz:
            zones[field.name] = str(field.type.tz)
    return ParquetHead(schema.names, {f.name: str(f.type) for f in schema}, nested, zones, metadata.num_rows)


def nested_message(where: str, source: str, canon: str, kind: str, type_text: str) -> str:
    return (
        f"{where}: column {source!r} (input.columns.{canon}) is a parquet {kind} column ({type_text}), "
        f"not one value per row. Flatten it when exporting (write the field that holds the {canon} as "
        f"a column of its own) or map input.columns.{canon} to another column."
    )


def time_zone_column_message(where: str, source: str, zone: str) -> str:
    return (
        f"{where}: column {source!r} holds timestamps with the time zone {zone} and input.timezone is "
        "not set. Set input.timezone to the zone the report should count days in (an IANA name such "
        "as Europe/London), or input.timezone: UTC to keep UTC."
    )


# --- the header checks -------------------------------------------------------------------


def _fold(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def check_header(
    header: Sequence[object],
    mapping: dict[str, str],
    where: str,
    *,
    delimiter: str | None = None,
    letters: Sequence[str] | None = None,
) -> None:
    """Every mapped column of ``mapping`` (source → canonical) is in ``header`` exactly once.

    Repeated names, and names that differ only in case or spaces (``UnitPrice`` and
    ``unitprice ``), are an error when a mapped column is among them: the tool cannot tell which
    one holds the values. Repeats among unmapped columns are ignored. ``delimiter`` (CSV): a
    header read as one column points at ``input.delimiter``; ``letters``: Excel column letters."""
    names = [str(h) for h in header]

    def place(i: int) -> str:
        return letters[i] if letters else str(i + 1)

    problems, involved = [], []
    for source, canon in mapping.items():
        same = [i for i, name in enumerate(names) if name == source]
        alike = [i for i, name in enumerate(names) if _fold(name) == _fold(source)]
        if len(same) > 1:
            problems.append(
                f"the header has {len(same)} columns named {source!r} (columns "
                f"{_and(place(i) for i in same)}), and input.columns.{canon} maps {source!r}"
            )
            involved.append(f"input.columns.{canon}")
        elif len(alike) > 1:
            shown = _and(f"{names[i]!r} (column {place(i)})" for i in alike)
            problems.append(
                f"the columns {shown} differ only in case or spaces, and input.columns.{canon} "
                f"maps {source!r}"
            )
            involved.append(f"input.columns.{canon}")
    if problems:
        raise InputError(
            f"{where}: {'; '.join(problems)}: which one holds the values is ambiguous. Rename or remove "
            f"the repeated column in the file so that each mapped name appears once (or map "
            f"{_and(involved)} to another column)."
        )
    if delimiter is not None and len(names) == 1 and any(source not in names for source in mapping):
        others = [d for d in DELIMITERS if d != delimiter and d in names[0]]
        fix = (
            f"its header contains {show_delimiter(others[0])}: set input.delimiter: "
            f"{show_delimiter(others[0])}"
            if others
            else 'set input.delimiter to the character between its columns (",", ";", "\\t" or "|")'
        )
        raise InputError(
            f"{where} reads as a single column {names[0][:80]!r} with the delimiter "
            f"{show_delimiter(delimiter)}: {fix}."
        )
    check_columns(names, mapping, where)


def _and(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def check_columns(available: Iterable[object], mapping: dict[str, str], where: str) -> None:
    """Every mapped source column is available; else name them and suggest a mapping."""
    columns = [str(c) for c in available]
    missing = {canon: src for src, canon in mapping.items() if src not in columns}
    if not missing:
        return
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


def check_same_header(first: str, first_header: Sequence[str], where: str, header: Sequence[str]) -> None:
    """The files of a glob are concatenated: each must have the first file's header."""
    if list(header) == list(first_header):
        return
    missing = [c for c in first_header if c not in header]
    extra = [c for c in header if c not in first_header]
    if missing or extra:
        difference = "; ".join(
            part
            for part in (
                f"it lacks {missing}" if missing else "",
                f"it has {extra} besides" if extra else "",
            )
            if part
        )
    else:
        difference = f"the same columns in another order ({list(header)})"
    raise InputError(
        f"{where}: its header differs from that of {first} ({difference}). The files input.path "
        "matches are read as one table, so they need the same header: re-export them alike, or "
        "narrow input.path."
    )


# --- the precheck ----------------------------------------------------------------------------


def precheck_input(cfg: InputConfig, params_file: str | None = None) -> None:
    """Check what the header or schema of every input file can reveal; raise :class:`InputError`.

    Fast: no data rows are parsed (see the module docstring). ``params_file`` names the params
    file in the messages."""
    files = source_files(cfg, params_file)
    fmt = source_format(cfg, files)
    mapping = cfg.columns.source_to_canonical()
    try:
        if fmt == "csv":
            _precheck_csv(cfg, files, mapping)
        elif fmt == "xlsx":
            _precheck_xlsx(cfg, files, mapping)
        else:
            _precheck_parquet(cfg, files, mapping)
    except OSError as exc:
        raise InputError(
            f"{exc.filename or cfg.path} cannot be read ({exc.strerror or exc}). Check the file's "
            "permissions and input.path."
        ) from None


def _no_rows(cfg: InputConfig, files: Sequence[Path], where: str) -> InputError:
    what = where if len(files) == 1 else f"None of the {len(files)} files of {resolve(cfg.path)}"
    return InputError(f"{what} has no data rows. Check input.path (and input.sheet for a workbook).")


def _precheck_csv(cfg: InputConfig, files: Sequence[Path], mapping: dict[str, str]) -> None:
    first: tuple[str, list[str]] | None = None
    has_data = False
    for path in files:
        head = read_csv_head(path, cfg.csv_encoding, cfg.delimiter)
        if first is not None:  # a file unlike the first: say so, rather than what it lacks
            check_same_header(first[0], first[1], str(path), head.header)
        check_header(head.header, mapping, str(path), delimiter=head.delimiter)
        first = first or (str(path), head.header)
        has_data = has_data or head.has_data
    if not has_data:
        raise _no_rows(cfg, files, str(files[0]))


def _precheck_xlsx(cfg: InputConfig, files: Sequence[Path], mapping: dict[str, str]) -> None:
    first: tuple[str, list[str]] | None = None
    has_data = False
    where = ""
    for path in files:
        sheet = transactions_sheet(path, cfg)
        head = sheet_header(path, sheet)
        where = f"{path} (sheet {sheet!r})"
        if not head.header:
            continue  # an empty sheet: no rows, reported below when every file is empty
        if first is not None:
            check_same_header(first[0], first[1], where, head.header)
        check_header(head.header, mapping, where, letters=head.letters)
        first = first or (where, head.header)
        has_data = has_data or head.has_data
    if not has_data:
        raise _no_rows(cfg, files, where)


def _precheck_parquet(cfg: InputConfig, files: Sequence[Path], mapping: dict[str, str]) -> None:
    rows = 0
    for path in files:
        head = parquet_head(path)
        check_parquet_head(head, mapping, str(path), cfg.timezone)
        rows += head.rows
    if rows == 0:
        raise _no_rows(cfg, files, str(files[0]))


def check_parquet_head(head: ParquetHead, mapping: dict[str, str], where: str, timezone: str | None) -> None:
    """Header checks of a parquet file, then its mapped columns' types."""
    check_header(head.names, mapping, where)
    for source, canon in mapping.items():
        if source in head.nested:
            raise InputError(nested_message(where, source, canon, head.nested[source], head.types[source]))
        if canon == "invoice_date" and source in head.time_zones and timezone is None:
            raise InputError(time_zone_column_message(where, source, head.time_zones[source]))
