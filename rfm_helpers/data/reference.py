"""Reference tables that analysts edit (segments, groups, playbook, cleaning lists).

Each loader validates its file and raises :class:`ReferenceError` naming the file and what
to fix, so a typo in a CSV stops the run with a clear message instead of silently
mis-segmenting customers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rfm_helpers.config import RunConfig
from rfm_helpers.paths import resolve

ALL_RFM_CODES = tuple("".join(digits) for digits in itertools.product("12345", repeat=3))
"""The 125 R/F/M quintile combinations, "111" to "555"."""


class ReferenceError(ValueError):
    """A reference table is missing, malformed or inconsistent; the message says what to fix."""


def load_segment_table(source: Path | pd.DataFrame) -> pd.DataFrame:
    """Long segment table (``rfm_code``, ``segment``) from the wide layout, in the file's order.

    The order of the segments in the file is the order reports show them in (the
    document's Champions … Lost Customers), so it is kept.

    ``source`` is a CSV path or a DataFrame with columns ``segment`` and ``rfm_codes`` (codes
    comma-separated, spaces allowed). Every code must be three digits 1-5 and all 125 codes
    must be assigned exactly once.
    """
    if isinstance(source, pd.DataFrame):
        name = str(source.attrs.get("source", "the segment table"))
        wide = source
    else:
        name = str(resolve(source))
        wide = _read_csv(source)
    _require_columns(wide, ["segment", "rfm_codes"], name)
    wide = pd.DataFrame(
        {"segment": _clean_text(wide["segment"]), "rfm_codes": wide["rfm_codes"].astype("str").fillna("")}
    )
    _require_non_empty(wide, "segment", name)
    _require_unique(wide, "segment", name)

    long = (
        wide.assign(rfm_code=wide["rfm_codes"].str.split(","))
        .explode("rfm_code")
        .assign(rfm_code=lambda d: d["rfm_code"].str.strip())
    )
    long = long[long["rfm_code"].ne("")]

    problems = []
    bad = long[~long["rfm_code"].str.fullmatch(r"[1-5]{3}")]
    if not bad.empty:
        listed = ", ".join(f"{c!r} ({s})" for c, s in zip(bad["rfm_code"], bad["segment"], strict=True))
        problems.append(f"codes that are not three digits 1-5: {listed}")
    missing = sorted(set(ALL_RFM_CODES) - set(long["rfm_code"]))
    if missing:
        problems.append(f"codes assigned to no segment: {', '.join(missing)}")
    repeated = long[long["rfm_code"].duplicated(keep=False)]
    if not repeated.empty:
        listed = "; ".join(
            f"{code} in {', '.join(group['segment'])}" for code, group in repeated.groupby("rfm_code")
        )
        problems.append(f"codes assigned more than once: {listed}")
    if problems:
        raise ReferenceError(
            f"Segment table {name} must assign each of the 125 RFM codes (111-555) to exactly one "
            f"segment. Fix: {' | '.join(problems)}."
        )
    return long[["rfm_code", "segment"]].reset_index(drop=True)


def load_segment_groups(path: str | Path, segments: Iterable[str]) -> pd.DataFrame:
    """Segment → group table (``segment``, ``group``) in the file's order.

    The first appearance of each group in the file sets the order reports show groups in.

    Every segment must have exactly one group, and every listed segment must exist.
    """
    name = str(resolve(path))
    table = _read_csv(path)
    _require_columns(table, ["segment", "group"], name)
    table = table.assign(segment=_clean_text(table["segment"]), group=_clean_text(table["group"]))
    _require_non_empty(table, "segment", name)
    _require_non_empty(table, "group", name)
    wanted = list(dict.fromkeys(segments))
    problems = []
    repeated = sorted(set(table.loc[table["segment"].duplicated(), "segment"]))
    if repeated:
        problems.append(f"segments listed more than once: {', '.join(repeated)}")
    missing = [s for s in wanted if s not in set(table["segment"])]
    if missing:
        problems.append(f"segments without a group: {', '.join(missing)}")
    unknown = sorted(set(table["segment"]) - set(wanted))
    if unknown:
        problems.append(f"segments not in the segment table (typo?): {', '.join(unknown)}")
    if problems:
        raise ReferenceError(
            f"Segment groups {name}: each segment needs exactly one group. Fix: {' | '.join(problems)}."
        )
    return table[["segment", "group"]].reset_index(drop=True)


def load_group_playbook(path: str | Path, groups: Iterable[str], key: str = "group") -> pd.DataFrame:
    """Playbook rows (``<key>``, ``priority``, ``goal``, ``recommendation``) for ``groups``.

    ``key`` is ``group`` for segment groups and ``cluster`` for the cluster playbook (one row per
    word of the cluster vocabulary). Every one of ``groups`` must be present exactly once; rows
    come sorted by ``priority``.
    """
    name = str(resolve(path))
    columns = [key, "priority", "goal", "recommendation"]
    table = _read_csv(path)
    _require_columns(table, columns, name)
    table = table[columns].apply(_clean_text)
    _require_non_empty(table, key, name)
    _require_unique(table, key, name)
    priority = pd.to_numeric(table["priority"], errors="coerce")
    if priority.isna().any() or (priority % 1 != 0).any():
        bad = table.loc[priority.isna() | (priority % 1 != 0), key].tolist()
        raise ReferenceError(f"Playbook {name}: 'priority' must be a whole number for {', '.join(bad)}.")
    missing = [g for g in dict.fromkeys(groups) if g not in set(table[key])]
    if missing:
        raise ReferenceError(f"Playbook {name}: add a row for the {key}(s) {', '.join(missing)}.")
    table = table.assign(priority=priority.astype("int64"))
    wanted = set(groups)
    return table[table[key].isin(wanted)].sort_values(["priority", key]).reset_index(drop=True)


def load_non_product_codes(path: str | Path) -> pd.DataFrame:
    """Stock codes that are not products (``stock_code``, ``reason``); matched exactly."""
    return _load_list(path, "stock_code", key=lambda s: s)


def load_flagged_descriptions(path: str | Path) -> pd.DataFrame:
    """Descriptions that mark a stock note, not a sale (``description``, ``reason``).

    Rows are matched on the stripped, case-folded description, so the file must not list the
    same text twice in different case.
    """
    return _load_list(path, "description", key=lambda s: s.str.casefold())


# --- helpers ---------------------------------------------------------------------------


def _load_list(path: str | Path, key_column: str, key: Callable[[pd.Series], pd.Series]) -> pd.DataFrame:
    name = str(resolve(path))
    table = _read_csv(path)
    _require_columns(table, [key_column, "reason"], name)
    table = table[[key_column, "reason"]].apply(_clean_text)
    _require_non_empty(table, key_column, name)
    folded = key(table[key_column])
    repeated = table.loc[folded.duplicated(keep=False), key_column].tolist()
    if repeated:
        raise ReferenceError(
            f"{name}: {key_column} values listed more than once: {', '.join(repeated)}. Keep one."
        )
    return table.sort_values(key_column).reset_index(drop=True)


def _read_csv(path: str | Path) -> pd.DataFrame:
    full = resolve(path)
    if not full.is_file():
        raise ReferenceError(f"Reference file not found: {full}. Check the reference.* parameters.")
    try:
        return pd.read_csv(full, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{full} is not a readable UTF-8 CSV file ({exc}). Fix the file.") from exc


def _clean_text(values: pd.Series) -> pd.Series:
    return values.astype("str").fillna("").str.strip()


def _require_columns(table: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ReferenceError(
            f"{name}: missing column(s) {', '.join(missing)}; the header must be {','.join(columns)} "
            f"(found {','.join(map(str, table.columns))})."
        )


def _require_non_empty(table: pd.DataFrame, column: str, name: str) -> None:
    empty = table.index[table[column].eq("")]
    if len(empty):
        lines = ", ".join(str(i + 2) for i in empty)
        raise ReferenceError(f"{name}: empty {column!r} on line(s) {lines}. Fill it in or delete the line.")


def _require_unique(table: pd.DataFrame, column: str, name: str) -> None:
    repeated = sorted(set(table.loc[table[column].duplicated(), column]))
    if repeated:
        raise ReferenceError(
            f"{name}: {column} values listed more than once: {', '.join(repeated)}. Keep one."
        )


@dataclass(frozen=True)
class SegmentTableSource:
    """The wide segment table a run uses, and where it came from (for the report)."""

    table: pd.DataFrame
    description: str


def segment_table_source(cfg: RunConfig) -> SegmentTableSource:
    """The workbook's own segment sheet for an xlsx input that has one, else the shipped table.

    Both are validated (all 125 codes exactly once) before they are used.
    """
    from rfm_helpers.data.loading import detect_format, read_segment_sheet

    # A folder or glob of parquet files (large inputs) holds no segment sheet.
    if cfg.input_path.is_file() and detect_format(cfg.input_path, cfg.input.format) == "xlsx":
        sheet = read_segment_sheet(cfg.input_path, cfg.input.segment_sheet)
        if sheet is not None:
            load_segment_table(sheet)
            return SegmentTableSource(
                sheet, f"sheet '{cfg.input.segment_sheet}' of the workbook {cfg.input.path}"
            )
        fallback = (
            f"the workbook has no '{cfg.input.segment_sheet}' sheet, so the shipped table "
            f"{cfg.reference.segments} is used"
        )
    else:
        fallback = f"the shipped table {cfg.reference.segments}"
    wide = _read_csv(cfg.reference.segments)
    load_segment_table(cfg.reference.segments)
    return SegmentTableSource(wide[["segment", "rfm_codes"]], fallback)
