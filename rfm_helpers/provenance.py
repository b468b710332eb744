"""Provenance: content hashes of files and folders, and the facts of the environment (Python,
package versions, git commit) that decide whether a result can be reused and that the manifest
records. The one home of hashing: the runner, the step fingerprints, the input cache and the
manifest all hash here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rfm_helpers.paths import PROJECT_ROOT, display_path

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


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (inputs can be hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """sha256 of a file; for a folder, of its visible files' names and hashes; ``missing``."""
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        listing = {p.name: sha256_file(p) for p in files}
        return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()
    return "missing"


def files_hash(files: list[Path]) -> str:
    """One hash for a list of files: the file's own sha256 for one file, else a hash of every
    file's (portable) path and sha256; ``missing`` for none."""
    if not files:
        return "missing"
    if len(files) == 1:
        return sha256_file(files[0])
    return combined_hash(f"{display_path(f)}:{sha256_file(f)}" for f in files)


def combined_hash(values: Iterable[str]) -> str:
    """One hash for an ordered sequence of hashes (e.g. a run's step fingerprints)."""
    return hashlib.sha256("\n".join(values).encode()).hexdigest()


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


REPORT_LOCK = PROJECT_ROOT / "requirements.lock"
"""The packages a report runs on (``make lock``); the test tools are in requirements-dev.lock."""


def _locked_names(lock: Path) -> set[str] | None:
    """The package names pinned in ``lock`` (``name==version`` lines), or None without it."""
    try:
        lines = lock.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return {
        line.split("==")[0].strip().lower() for line in lines if "==" in line and not line.startswith("#")
    }


def environment_fingerprint(lock: Path = REPORT_LOCK) -> dict[str, Any]:
    """Python version and the installed version of every package of the report lock: the pinned
    environment a report depends on. Installing the test tools (``make test``) does not change
    it, so reports are not rerun for it; without the lock file, every installed package counts."""
    wanted = _locked_names(lock)
    installed = {
        (dist.metadata["Name"] or "").lower().replace("_", "-"): dist.version
        for dist in importlib.metadata.distributions()
    }
    packages = sorted(
        (name, version) for name, version in installed.items() if wanted is None or name in wanted
    )
    return {"python": platform.python_version(), "packages": packages}
