"""Run manifest (what produced a report) and the reports index page listing every run.

Each published run folder ``reports/<run_name>/`` holds a ``manifest.json``: parameters,
input file hash, code version and package versions, so a stakeholder's question "which data
and settings gave these numbers?" has an answer. ``reports/index.html`` is rebuilt from all
manifests so several parameter sets are listed side by side.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml

from rfm_helpers.atomic import write_text
from rfm_helpers.config import RunConfig
from rfm_helpers.paths import PROJECT_ROOT

MANIFEST_NAME = "manifest.json"
EXPORTS_DIRNAME = "exports"
KEY_PACKAGES = (
    "pandas",
    "numpy",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "pyarrow",
    "python-calamine",
    "missingno",
    "duckdb",
    "sqlglot",
    "psycopg",
)
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (inputs can be hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def display_path(path: Path) -> str:
    """``path`` relative to the project root when inside it (portable), else absolute."""
    path = path.resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _git(*args: str) -> str | None:
    """Output of a read-only git command in the project, or ``None`` if git is unusable here."""
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(PROJECT_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_info() -> dict[str, Any]:
    """Short commit hash and whether the work tree differs from it (``unknown`` outside git)."""
    commit = _git("rev-parse", "--short", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": None}
    status = _git("status", "--porcelain")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers and the pages."""
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def environment_info() -> dict[str, Any]:
    """Python and key package versions."""
    return {"python": platform.python_version(), "packages": package_versions()}


def export_info(path: Path) -> dict[str, Any]:
    """File name, size and, for a CSV, its number of data rows (quoted newlines handled)."""
    info: dict[str, Any] = {"file": path.name, "bytes": path.stat().st_size}
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            info["rows"] = max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    return info


def build_manifest(
    *,
    cfg: RunConfig,
    params_file: Path,
    started: str,
    finished: str,
    input_info: dict[str, str],
    reports: list[dict[str, Any]],
    exports: list[dict[str, Any]],
    fingerprint: str,
) -> dict[str, Any]:
    """Everything needed to tell how a published run was produced.

    ``reports``: one ``{notebook, title, html, duration_s}`` per page; ``exports``: one
    :func:`export_info` per file; ``input_info``: ``path`` and ``sha256`` of what was read;
    ``fingerprint``: hash of the step fingerprints (``rfm_helpers.pipeline``).
    """
    return {
        "run_name": cfg.run_name,
        "description": cfg.description,
        "params_file": display_path(params_file),
        "parameters": cfg.model_dump(mode="json"),
        "started": started,
        "finished": finished,
        "input": input_info,
        "git": git_info(),
        **environment_info(),
        "reports": reports,
        "exports": exports,
        "fingerprint": fingerprint,
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` (sorted keys, so two manifests diff cleanly) into a staging
    folder, which is published as a whole."""
    path = folder / MANIFEST_NAME
    path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """A run folder's manifest, or ``None`` when it has none or it is unreadable."""
    try:
        return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_manifests(reports_root: Path) -> list[dict[str, Any]]:
    """Manifests of all published runs, by run name (hidden staging folders are skipped)."""
    manifests = []
    for folder in sorted(reports_root.iterdir() if reports_root.is_dir() else []):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        manifest = read_manifest(folder)
        if manifest is None:
            print(f"warning: {folder / MANIFEST_NAME} missing or unreadable; run not listed", file=sys.stderr)
            continue
        manifest["folder"] = folder.name  # links use the folder actually on disk
        manifests.append(manifest)
    return manifests


def _utc_minutes(timestamp: str) -> str:
    """``2024-03-01T09:15:42+00:00`` → ``2024-03-01 09:15 UTC``."""
    try:
        return dt.datetime.fromisoformat(timestamp).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(timestamp)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        # A manifest from an older version lacking a field shows a blank, not a crash.
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = lambda value: yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
    env.filters["utc_minutes"] = _utc_minutes
    return env


def render_index(manifests: list[dict[str, Any]]) -> str:
    """HTML of the reports index page (self-contained: inline CSS, no scripts, relative links)."""
    return _environment().get_template("index.html.j2").render(runs=manifests)


def write_index(reports_root: Path) -> Path:
    """Rebuild ``index.html`` from every run folder's manifest."""
    path = reports_root / "index.html"
    write_text(path, render_index(load_manifests(reports_root)))
    return path
