"""Mutation test of the input path: a small valid CSV, corrupted at random, cell by cell and
byte by byte (swapped and duplicated headers, blank cells, text in numbers, truncation, odd
encodings, stray delimiters, flipped bytes).

For every mutant the run either fails with a named, specific message (one of the tool's own
errors, naming the file, a column or a parameter) or succeeds with a cleaning ledger that
accounts for every row of the file. Nothing in between: any other exception, a ledger whose
rows or revenue do not chain, or a row count that differs from an independent count of the
file's records fails the test with the mutant's seed, so it can be replayed.

"The run" is what the first steps of a report do with the file, in process (the pre-kernel
check, loading, then cleaning and the customer table in a throwaway DuckDB), so a few hundred
mutants cost a minute or two; three
mutants also go through the real runner to check that no traceback reaches the user.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from bad_input_support import run_runner, transactions, write_csv, write_params

from rfm_helpers.analysis.domain import DomainError
from rfm_helpers.analysis.metrics import MetricsError
from rfm_helpers.config import CleaningConfig, InputConfig, RFMConfig
from rfm_helpers.data import loading, reference
from rfm_helpers.data.loading import InputError
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.sql.cleaning import CleaningError
from rfm_helpers.sql.transactions import clean_frame

MUTANTS = 300
SNAPSHOT = "2012-06-01"
"""After every date of the base file, so only a mutated date can fall after it."""
TOOL_ERRORS = (InputError, CleaningError, MetricsError, DomainError)
REFERENCE = PROJECT_ROOT / "data" / "reference"
NON_PRODUCT = reference.load_non_product_codes(REFERENCE / "non_product_stock_codes.csv")
FLAGGED = reference.load_flagged_descriptions(REFERENCE / "flagged_descriptions.csv")


# --- mutations: each takes the file's bytes and a seeded Random, returns new bytes ----------


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"))))


def _write_rows(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def swap_headers(data: bytes, rng: random.Random) -> bytes:
    rows = _rows(data)
    i, j = rng.sample(range(len(rows[0])), 2)
    rows[0][i], rows[0][j] = rows[0][j], rows[0][i]
    return _write_rows(rows)


def duplicate_header(data: bytes, rng: random.Random) -> bytes:
    rows = _rows(data)
    i, j = rng.sample(range(len(rows[0])), 2)
    rows[0][j] = rows[0][i]
    return _write_rows(rows)


def drop_column(data: bytes, rng: random.Random) -> bytes:
    rows = _rows(data)
    i = rng.randrange(len(rows[0]))
    return _write_rows([[v for k, v in enumerate(row) if k != i] for row in rows])


def blank_cells(data: bytes, rng: random.Random) -> bytes:
    rows = _rows(data)
    for _ in range(rng.randint(1, 5)):
        row = rng.choice(rows[1:])
        if row:
            row[rng.randrange(len(row))] = rng.choice(["", " ", "NULL", "nan"])
    return _write_rows(rows)


def text_in_cells(data: bytes, rng: random.Random) -> bytes:
    rows = _rows(data)
    for _ in range(rng.randint(1, 3)):
        row = rng.choice(rows[1:])
        if row:
            row[rng.randrange(len(row))] = rng.choice(
                ["abc", "1,5", "€3", "inf", "-inf", "NaN", "1e308", "=1+1", "9" * 40, "12/31/2011", "40513.5"]
            )
    return _write_rows(rows)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(0, len(data))]


def re_encode(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8").replace("PRODUCT 1", "CAFÉ CRÈME")
    encoding = rng.choice(["latin-1", "utf-16", "utf-8-sig", "cp1252"])
    return text.encode(encoding)


def change_delimiter(data: bytes, rng: random.Random) -> bytes:
    return _write_rows(_rows(data), delimiter=rng.choice([";", "\t", "|"]))


def ragged_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    at = rng.randrange(1, max(2, len(lines)))
    lines.insert(at, rng.choice([b"a,b", b"1,2,3,4,5,6,7,8,9,10,11", b'"unterminated,quote', b""]))
    return b"\n".join(lines)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        buffer[rng.randrange(len(buffer))] = rng.randrange(256)
    return bytes(buffer)


MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [
    swap_headers,
    duplicate_header,
    drop_column,
    blank_cells,
    text_in_cells,
    truncate,
    re_encode,
    change_delimiter,
    ragged_line,
    flip_bytes,
]


def mutate(data: bytes, seed: int) -> tuple[bytes, list[str]]:
    """One to three random mutations of ``data``; returns the mutant and their names."""
    rng = random.Random(seed)
    applied = []
    for mutation in rng.sample(MUTATIONS, rng.randint(1, 3)):
        try:
            data = mutation(data, rng)
        except (UnicodeDecodeError, ValueError, IndexError):
            continue  # a mutation that does not apply to an already mangled file
        applied.append(mutation.__name__)
    return data, applied


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Result:
    error: Exception | None = None
    raw_rows: int = 0
    ledger: pd.DataFrame | None = None


def run_in_process(path: Path) -> Result:
    """The report's first steps on ``path``: only the tool's own errors are caught."""
    source = InputConfig(path=path)
    try:
        loading.precheck_input(source)
        raw = loading.load_transactions(source)
        cleaned = clean_frame(raw, CleaningConfig(), RFMConfig(snapshot_date=SNAPSHOT), NON_PRODUCT, FLAGGED)
    except TOOL_ERRORS as exc:
        return Result(error=exc)
    return Result(raw_rows=len(raw), ledger=cleaned.ledger)


def records_in(data: bytes) -> int | None:
    """Data records of a CSV counted by the standard library (None when it cannot decode it)."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    return sum(1 for row in rows[1:] if row)


def assert_ledger_accounts_for_every_row(ledger: pd.DataFrame, raw_rows: int) -> None:
    assert ledger.loc[0, "step"] == "raw" and ledger.loc[0, "rows_remaining"] == raw_rows
    for before, after in zip(ledger.itertuples(), ledger.iloc[1:].itertuples(), strict=False):
        assert after.rows_remaining == before.rows_remaining - after.rows_removed, ledger
        assert round(after.revenue_remaining, 2) == round(before.revenue_remaining - after.revenue_removed, 2)
    assert ledger["rows_removed"].iloc[1:].sum() + ledger["rows_remaining"].iloc[-1] == raw_rows


def specific(message: str, path: Path) -> bool:
    """The message names the file, or a column or parameter of the params file."""
    return str(path) in message or "input." in message or "rfm." in message or "cleaning." in message


@pytest.fixture(scope="module")
def valid_csv(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("mutations")
    return write_csv(transactions(), folder / "valid.csv").read_bytes()


def test_the_unmutated_file_runs(valid_csv: bytes, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(valid_csv)
    result = run_in_process(path)
    assert result.error is None, result.error
    assert result.raw_rows == records_in(valid_csv) == len(transactions())


def test_every_mutant_fails_by_name_or_accounts_for_every_row(valid_csv: bytes, tmp_path: Path) -> None:
    outcomes = {"named error": 0, "success": 0}
    for seed in range(MUTANTS):
        data, applied = mutate(valid_csv, seed)
        path = tmp_path / f"mutant_{seed}.csv"
        path.write_bytes(data)
        where = f"mutant seed={seed} ({', '.join(applied)})"
        try:
            result = run_in_process(path)
        except Exception as exc:  # anything but the tool's own errors is a defect
            raise AssertionError(f"{where}: {type(exc).__name__}: {exc}") from exc
        assert path.read_bytes() == data, f"{where}: the input was modified"
        if result.error is not None:
            assert specific(str(result.error), path), f"{where}: unspecific message: {result.error}"
            outcomes["named error"] += 1
            continue
        assert result.ledger is not None
        assert_ledger_accounts_for_every_row(result.ledger, result.raw_rows)
        expected = records_in(data)
        if expected is not None and "ragged_line" not in applied:
            assert result.raw_rows == expected, f"{where}: {result.raw_rows} rows loaded, file has {expected}"
        outcomes["success"] += 1
    # Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
    assert outcomes["named error"] > MUTANTS // 10 and outcomes["success"] > MUTANTS // 10, outcomes


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 17, 42])
def test_mutants_through_the_runner_never_show_a_traceback(
    valid_csv: bytes, tmp_path: Path, seed: int
) -> None:
    data, _ = mutate(valid_csv, seed)
    path = tmp_path / "mutant.csv"
    path.write_bytes(data)
    outcome = run_runner(tmp_path, write_params(tmp_path, path, run_name="mutant"))
    assert "Traceback" not in outcome.message, outcome.message
    assert path.read_bytes() == data
    if outcome.exit_code != 0:
        named = [error.__name__ for error in TOOL_ERRORS]
        assert outcome.exit_code == 2 or any(f": {name}: " in outcome.err for name in named), outcome.err
        assert specific(outcome.message, path), outcome.message
