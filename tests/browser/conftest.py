"""Fixtures of the browser tests: the published reports, built once per session, and one
headless Chromium that visits each page once (:class:`report_browser.PageVisit`) for several
tests to inspect. Full-page screenshots go to ``build/screenshots/<run>/``.

The pipeline runs through ``rfm_helpers.runs.runner.run`` below a temporary ``RFM_OUTPUT_ROOT``, on
``params/test_sample.yaml`` (or the comma-separated params files in ``RFM_BROWSER_PARAMS``);
``RFM_BROWSER_REPORTS=reports`` browses an existing reports folder instead (after ``make report``).
Without chromium/chromedriver the tests are skipped, unless ``RFM_REQUIRE_BROWSER`` is set
(CI sets it), in which case they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from browser.report_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    REQUIRE_BROWSER_ENV,
    SCREENSHOT_DIR,
    Browser,
    PageVisit,
    params_files,
    published_reports,
)
from rfm_helpers.runs import runner


def _skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_BROWSER_ENV):
        pytest.fail(f"{reason}, and {REQUIRE_BROWSER_ENV} is set: install them with `make system-deps`")
    pytest.skip(f"{reason} (install them with `make system-deps`; set {REQUIRE_BROWSER_ENV} to fail instead)")


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        _skip_or_fail(f"headless browser tests need Debian's chromium and chromium-driver: missing {missing}")


@pytest.fixture(scope="session")
def reports_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``reports/`` folder under test: built here in a temporary ``RFM_OUTPUT_ROOT`` from
    every params file of :func:`params_files`, or the one named by ``RFM_BROWSER_REPORTS``."""
    _require_browser()  # before spending a minute on the pipeline
    existing = published_reports()
    if existing is not None:
        return existing
    root = tmp_path_factory.mktemp("browser_reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        for params in params_files():
            exit_code = runner.run(params, force=True)
            assert exit_code == 0, f"runner.run({params}) exited with {exit_code}"
    return root / "reports"


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    _require_browser()
    chrome = Browser(tmp_path_factory.mktemp("chromium_profile"))
    yield chrome
    chrome.quit()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Fresh ``build/screenshots/`` (gitignored): only this session's pictures."""
    shutil.rmtree(SCREENSHOT_DIR, ignore_errors=True)
    SCREENSHOT_DIR.mkdir(parents=True)
    return SCREENSHOT_DIR


@pytest.fixture(scope="session")
def visit_page(
    browser: Browser, reports_root: Path, screenshot_dir: Path
) -> Iterator[Callable[[str], PageVisit]]:
    """``visit_page("online_retail/02_eda.html")``: the page's :class:`PageVisit`, loaded and
    photographed once per session however many tests ask."""
    visits: dict[str, PageVisit] = {}

    def visit(relative: str) -> PageVisit:
        if relative not in visits:
            shot = screenshot_dir / Path(relative).with_suffix(".png")
            visits[relative] = browser.visit((reports_root / relative).as_uri(), screenshot=shot)
        return visits[relative]

    yield visit
