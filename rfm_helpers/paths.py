"""Project paths: everything is resolved from the project root, never from the cwd.

Inputs (params, reference tables, raw data, notebooks) are read relative to
``PROJECT_ROOT``. Everything a run writes (``data/interim``, ``data/processed``,
``build``, ``reports``) goes below ``output_root()``, which is the project root unless
the environment variable ``RFM_OUTPUT_ROOT`` points elsewhere (tests use it to run the
pipeline in a temporary folder; notebook kernels inherit it from the runner).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
RFM_SQL_DIR = PROJECT_ROOT / "sql" / "rfm"
"""The SQL of the transactions path (rules, customer table, aggregates)."""
ALL_CUSTOMERS_FILE = "customer_segments.csv"
"""The main export of a customer run: every customer with segment, cluster and action."""
ALL_ACCOUNTS_FILE = "account_clusters.csv"
"""The main export of an account run: every account with its cluster and recommended action."""


def resolve(path: str | Path) -> Path:
    """Absolute path; a relative one is taken from the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def display_path(path: Path) -> str:
    """``path`` relative to the project root when inside it (portable), else absolute."""
    path = path.resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def matching_files(path_text: str | Path) -> list[Path]:
    """The files an input path names: a file, a folder's ``.parquet`` files (recursively) or a
    glob's matching files (folders it matches are left out); sorted, and empty when nothing
    matches (:func:`rfm_helpers.data.inputcheck.source_files` then says what is there instead)."""
    path = resolve(path_text)
    if path.is_dir():
        return sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if any(ch in str(path_text) for ch in "*?["):
        return sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    return [path] if path.is_file() else []


def output_root() -> Path:
    """Folder below which runs write their products (see module docstring)."""
    return Path(os.environ.get("RFM_OUTPUT_ROOT", PROJECT_ROOT)).resolve()


def reports_dir() -> Path:
    return output_root() / "reports"


def build_dir() -> Path:
    return output_root() / "build"
