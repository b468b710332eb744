"""The pins in pyproject.toml, the two locks, environment.yml, the Makefile and the installed
packages agree, so a stale lock, environment file or venv fails loudly.

requirements.lock is what `make report` installs (runtime dependencies only, wheels only);
requirements-dev.lock adds the extra ``dev`` (tests, lint, benchmarks) at the same pins."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from types import ModuleType

import pytest

from rfm_helpers.paths import PROJECT_ROOT


def _load_sync_env() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_env", PROJECT_ROOT / "tools" / "sync_env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync_env = _load_sync_env()
PYPROJECT_TEXT = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
RUNTIME_PINS, DEV_PINS = sync_env.pin_groups(PYPROJECT_TEXT)
PINS = RUNTIME_PINS + DEV_PINS
REPORT_LOCK = "requirements.lock"
DEV_LOCK = "requirements-dev.lock"
DEV_ONLY = frozenset(
    {"pyspark", "pytest", "selenium", "hypothesis", "ruff", "nbstripout", "openpyxl", "nbval"}
)
"""Never installed by `make report` (pyspark alone is an sdist that takes ~2 min to build)."""


def _lock_text(name: str) -> str:
    return (PROJECT_ROOT / name).read_text(encoding="utf-8")


def _lock_pins(name: str) -> dict[str, str]:
    return {
        sync_env.canonical_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", _lock_text(name), re.MULTILINE)
    }


def _makefile() -> str:
    return (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def test_environment_yml_is_generated_from_pyproject() -> None:
    expected = sync_env.render_environment(PYPROJECT_TEXT)
    assert (PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8") == expected, (
        "environment.yml is out of date: run `make lock`"
    )


@pytest.mark.parametrize(("lock", "pins"), [(REPORT_LOCK, RUNTIME_PINS), (DEV_LOCK, PINS)])
def test_pyproject_pins_are_in_the_lock(lock: str, pins: list[tuple[str, str]]) -> None:
    locked = _lock_pins(lock)
    mismatched = {name: (version, locked.get(name)) for name, version in pins if locked.get(name) != version}
    assert not mismatched, f"(pyproject pin, {lock}) differ, run `make lock`: {mismatched}"


def test_dev_lock_is_the_report_lock_plus_dev_packages() -> None:
    report, dev = _lock_pins(REPORT_LOCK), _lock_pins(DEV_LOCK)
    missing = sorted(set(report) - set(dev))
    assert not missing, f"in {REPORT_LOCK} but not in {DEV_LOCK}, run `make lock`: {missing}"
    differ = {name: (version, dev[name]) for name, version in report.items() if dev[name] != version}
    assert not differ, f"({REPORT_LOCK}, {DEV_LOCK}) pin the same package differently: {differ}"


def test_report_lock_has_no_dev_only_package() -> None:
    report = _lock_pins(REPORT_LOCK)
    dev_extra = {name for name, _ in DEV_PINS} - {name for name, _ in RUNTIME_PINS}
    leaked = sorted((DEV_ONLY | dev_extra) & set(report))
    assert not leaked, f"{REPORT_LOCK} (what `make report` installs) has test-only packages: {leaked}"


def test_report_lock_installs_wheels_only() -> None:
    """`--only-binary :all:` in the lock: resolved with it by `make lock` (an sdist-only
    package fails there) and honoured by uv and pip when they install the lock, so a fresh
    `make report` builds nothing from source but this project."""
    options = [line.strip() for line in _lock_text(REPORT_LOCK).splitlines() if line.startswith("--")]
    assert "--only-binary :all:" in options, f"{REPORT_LOCK} must allow wheels only: run `make lock`"


@pytest.mark.parametrize("lock", [REPORT_LOCK, DEV_LOCK])
def test_lock_was_written_by_make_lock(lock: str) -> None:
    """The command in the lock's header is the one in the Makefile's `lock` recipe."""
    header = re.search(r"^#\s+(uv pip compile .*)$", _lock_text(lock), re.MULTILINE)
    assert header, f"{lock} has no `uv pip compile` header: regenerate it with `make lock`"
    commands = re.findall(r"^\t\$\(VENV\)/bin/(uv pip compile .*)$", _makefile(), re.MULTILINE)
    assert header.group(1) in commands, f"{lock} was not made by `make lock` ({header.group(1)!r})"


def _prerequisites(target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}:([^#\n]*)", _makefile(), re.MULTILINE)
    assert match, f"Makefile has no target {target}"
    return match.group(1).split()


@pytest.mark.parametrize("target", ["env", "report", "reports-all", "lab"])
def test_report_targets_install_only_the_report_lock(target: str) -> None:
    assert _prerequisites(target) == ["$(REPORT_STAMP)"]
    assert _prerequisites("$(REPORT_STAMP)") == [REPORT_LOCK, "pyproject.toml"]


@pytest.mark.parametrize("target", ["env-dev", "test", "bench", "lint", "format", "strip", "golden", "lock"])
def test_dev_targets_install_the_dev_lock(target: str) -> None:
    assert "$(DEV_STAMP)" in _prerequisites(target)
    assert _prerequisites("$(DEV_STAMP)") == ["$(REPORT_STAMP)", DEV_LOCK]


@pytest.mark.parametrize(("name", "version"), PINS, ids=[name for name, _ in PINS])
def test_installed_version_matches_pin(name: str, version: str) -> None:
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{name} is not installed: run `make test` (or `make env-dev`) to update .venv")
    assert installed == version, f"{name} {installed} installed, {version} pinned: the venv is stale"


def test_makefile_pins_uv() -> None:
    match = re.search(r"^UV_VERSION\s*:?=\s*(\S+)\s*$", _makefile(), re.MULTILINE)
    assert match, "Makefile must set UV_VERSION"
    pin = match.group(1)
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"UV_VERSION {pin!r} is not a pin"
    try:
        installed = importlib.metadata.version("uv")
    except importlib.metadata.PackageNotFoundError:
        return  # the Makefile fell back to plain pip
    assert installed == pin, f"uv {installed} installed, Makefile pins {pin}: the venv is stale"
