"""Atomic file writes: write to a temporary name beside the target, then rename.

A reader (or a crash) never sees a half-written product: the target is either the old
complete file or the new complete file.

**Exports are safe to open in a spreadsheet.** Every CSV written into an ``exports/`` folder
(:func:`write_export_csv`, which :func:`write_csv` uses for such a target) follows one rule:

* a *text* cell (or column name) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a single quote ``'`` in front, so Excel, LibreOffice or Google Sheets
  show it as text instead of running it as a formula (OWASP, "CSV Injection"). Customer ids,
  countries or names come from the source data and may hold ``=HYPERLINK(...)`` or ``@SUM(...)``;
* numbers are never altered, so a negative number stays a number (``-2.5``); only money
  columns are rounded to the cent (see below);
* money columns (float columns whose name has the word ``monetary``, ``revenue``, ``amount``,
  ``price``, ``spend`` or ``sales``, but not ``share``, ``ratio``, ``rate``, ``pct`` or
  ``percent``) are rounded to 2 decimals: ``507.02``, not ``507.02000000000004``;
* ids and other text are written exactly as they are in the frame (``00123`` stays
  ``00123``); nothing else changes, so a file without such cells is byte-identical to a plain
  ``to_csv``. Only a file with a carriage return inside a text cell has all its text cells
  quoted, so that no spreadsheet splits the row there.

Internal CSVs (cleaning ledger, score bins, segment table) are written by :func:`write_csv`
with money rounded and text as is.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runner imports this module; pandas would cost it a second
    import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it onto ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give it the usual permissions.
        tmp.chmod(0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet(df: pd.DataFrame, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False)


EXPORTS_FOLDER = "exports"
"""CSVs written into a folder of this name are exports for spreadsheets and campaign tools."""
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""
MONEY_WORDS = frozenset({"monetary", "revenue", "amount", "price", "spend", "sales"})
NOT_MONEY_WORDS = frozenset({"share", "ratio", "rate", "pct", "percent"})


def is_money_column(name: object) -> bool:
    """``monetary``, ``revenue_removed``, ``median monetary (£)`` are money; ``share of
    revenue`` is not."""
    words = set(re.split(r"[^a-z]+", str(name).lower()))
    return bool(words & MONEY_WORDS) and not words & NOT_MONEY_WORDS


def round_money(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its float money columns rounded to the cent (a copy when any is)."""
    import pandas as pd

    out = df
    for position, name in enumerate(df.columns):
        values = df.iloc[:, position]
        if is_money_column(name) and pd.api.types.is_float_dtype(values):
            out = out.copy(deep=False) if out is df else out
            out.isetitem(position, values.round(2) + 0.0)  # + 0.0: a rounded -0.001 is 0.0, not -0.0
    return out


def neutralise_cell(value: object) -> object:
    """A text value that a spreadsheet would run as a formula, prefixed with ``'``; anything
    else (numbers, dates, missing values, harmless text) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and column name passed through :func:`neutralise_cell`.

    Numeric, boolean and date columns are left alone, whatever their sign."""
    import pandas as pd

    out = df.copy(deep=False)
    for position in range(df.shape[1]):
        values = df.iloc[:, position]
        if isinstance(values.dtype, pd.StringDtype):
            risky = values.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
            if risky.any():
                out.isetitem(position, values.mask(risky, "'" + values))
        elif values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
            cells = values.tolist()
            safe = [neutralise_cell(v) for v in cells]
            if any(new is not old for new, old in zip(safe, cells, strict=True)):
                out.isetitem(position, pd.Series(safe, index=values.index, dtype=object))
    out.columns = [neutralise_cell(name) for name in df.columns]
    return out


def write_export_csv(df: pd.DataFrame, target: str | Path) -> None:
    """Write an export for spreadsheets and campaign tools: text that a spreadsheet would run
    as a formula neutralised, money rounded to the cent (the rule is in the module docstring)."""
    safe = neutralise_formulas(round_money(df))
    # Python's csv writer quotes a field with a line feed but not one with a lone carriage
    # return, which spreadsheets read as a line break: a row would split, and its second half
    # could start with "=". Such a file gets every text cell quoted (numbers stay bare).
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    with atomic_path(target) as tmp:
        safe.to_csv(tmp, index=False, lineterminator="\n", quoting=quoting)


def _has_carriage_return(df: pd.DataFrame) -> bool:
    import pandas as pd

    if any(isinstance(name, str) and "\r" in name for name in df.columns):
        return True
    for position in range(df.shape[1]):
        values = df.iloc[:, position]
        if isinstance(values.dtype, pd.StringDtype):
            found = bool(values.str.contains("\r", regex=False).fillna(False).any())
        elif values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
            found = any(isinstance(v, str) and "\r" in v for v in values.tolist())
        else:
            found = False
        if found:
            return True
    return False


def write_csv(df: pd.DataFrame, target: str | Path) -> None:
    """Write a CSV with money rounded to the cent; a target in an ``exports/`` folder goes
    through :func:`write_export_csv`, so no export can skip the spreadsheet-safety rule."""
    if Path(target).parent.name == EXPORTS_FOLDER:
        write_export_csv(df, target)
        return
    with atomic_path(target) as tmp:
        round_money(df).to_csv(tmp, index=False, lineterminator="\n")
