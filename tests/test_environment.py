"""The pins in pyproject.toml, requirements.lock, environment.yml, the Makefile and the
installed packages agree, so a stale lock, environment file or venv fails loudly."""

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
PINS = sync_env.project_pins((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lock_pins() -> dict[str, str]:
    text = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {
        sync_env.canonical_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.MULTILINE)
    }


def test_environment_yml_is_generated_from_pyproject() -> None:
    expected = sync_env.render_environment((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert (PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8") == expected, (
        "environment.yml is out of date: run `make lock`"
    )


def test_pyproject_pins_are_in_the_lock() -> None:
    lock = _lock_pins()
    mismatched = {name: (version, lock.get(name)) for name, version in PINS if lock.get(name) != version}
    assert not mismatched, f"(pyproject pin, lock) differ, run `make lock`: {mismatched}"


@pytest.mark.parametrize(("name", "version"), PINS, ids=[name for name, _ in PINS])
def test_installed_version_matches_pin(name: str, version: str) -> None:
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{name} is not installed: run `make report` or `make test` to update .venv")
    assert installed == version, f"{name} {installed} installed, {version} pinned: the venv is stale"


def test_makefile_pins_uv() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^UV_VERSION\s*:?=\s*(\S+)\s*$", makefile, re.MULTILINE)
    assert match, "Makefile must set UV_VERSION"
    pin = match.group(1)
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"UV_VERSION {pin!r} is not a pin"
    try:
        installed = importlib.metadata.version("uv")
    except importlib.metadata.PackageNotFoundError:
        return  # the Makefile fell back to plain pip
    assert installed == pin, f"uv {installed} installed, Makefile pins {pin}: the venv is stale"
