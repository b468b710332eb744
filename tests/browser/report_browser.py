"""Headless Chromium for the report tests: Debian's ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (never a downloaded browser) driven by Selenium, offline, recording
every request and console message of each page it visits."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfm_helpers.config import RunConfig, load_config
from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.runs.pipeline import load_pipeline

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REQUIRE_BROWSER_ENV = "RFM_REQUIRE_BROWSER"
PARAMS_ENV = "RFM_BROWSER_PARAMS"
"""Comma-separated params files to build and browse (default: one run of each pipeline)."""
DEFAULT_PARAMS = "params/test_sample.yaml,params/test_omnichannel.yaml"
PUBLISHED_ENV = "RFM_BROWSER_REPORTS"
"""A ``reports/`` folder already built (e.g. by ``make report``) to browse instead of building one."""
MANIFEST_NAME = "manifest.json"
SCREENSHOT_DIR = PROJECT_ROOT / "build" / "screenshots"
WINDOW_WIDTH, WINDOW_HEIGHT = 1280, 900
MAX_SCREENSHOT_HEIGHT = 16_000
"""Chromium cannot capture much taller pages in one image; longer pages are cut at this height."""
PAGE_LOAD_TIMEOUT_S = 30
ALLOWED_URL_SCHEMES = ("file:", "data:")
"""Everything a report needs is in the reports folder or embedded in the page."""


def params_files() -> list[Path]:
    """The params files whose reports the browser tests build (see ``PARAMS_ENV``)."""
    names = [name.strip() for name in os.environ.get(PARAMS_ENV, DEFAULT_PARAMS).split(",") if name.strip()]
    return [PROJECT_ROOT / name for name in names]


def published_reports() -> Path | None:
    """The existing reports folder named by ``PUBLISHED_ENV``, if any."""
    folder = os.environ.get(PUBLISHED_ENV)
    return Path(folder).resolve() if folder else None


def run_pages() -> dict[str, tuple[str, ...]]:
    """Runs under test and the page stems each publishes (its pipeline's steps, from
    notebooks/pipeline.yaml): the published runs in ``PUBLISHED_ENV``, else those of
    :func:`params_files`. A test checks them against each run's manifest."""
    existing = published_reports()
    configs = (
        [
            RunConfig.model_validate(json.loads(p.read_text())["parameters"])
            for p in existing.glob(f"*/{MANIFEST_NAME}")
        ]
        if existing is not None
        else [load_config(path) for path in params_files()]
    )
    return {
        cfg.run_name: tuple(step.name for step in load_pipeline(NOTEBOOKS_DIR, cfg.pipeline))
        for cfg in sorted(configs, key=lambda c: c.run_name)
    }


RUN_PAGES = run_pages()
RUN_NAMES = tuple(RUN_PAGES)


@dataclass
class PageVisit:
    """What the browser saw on one page, collected once after it finished loading."""

    url: str
    title: str
    headings: list[str]
    images: list[dict[str, Any]]
    """``src`` (shortened), ``complete``, ``naturalWidth``, ``naturalHeight``, ``visible``."""
    svgs: list[dict[str, Any]]
    links: list[dict[str, Any]]
    """``href`` (absolute), ``raw`` (as written), ``text``."""
    anchors: list[str]
    """Every ``id`` and ``name`` on the page: the targets ``#fragment`` links can reach."""
    visible_code: list[str]
    """Selectors of code cells, prompts or error outputs a reader would see."""
    console: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None


_COLLECT_JS = """
const visible = el => {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
};
// Code inputs, prompts, and stderr/traceback outputs (nbconvert renders both with the stderr mime
// type). Markdown cells also sit in a .jp-InputArea: only a code cell's input is code.
const codeSelectors = ['.jp-CodeCell .jp-InputArea', '.jp-InputPrompt', '.jp-OutputPrompt',
  '.jp-CodeMirrorEditor', '[data-mime-type="application/vnd.jupyter.stderr"]'];
return {
  title: document.title,
  headings: [...document.querySelectorAll('h1, h2')].filter(visible)
    .map(h => h.textContent.replace(/¶$/, '').trim()),  // ¶: the heading's anchor link
  images: [...document.images].map(img => ({
    src: img.currentSrc.slice(0, 60), complete: img.complete,
    naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, visible: visible(img)})),
  svgs: [...document.querySelectorAll('svg')].map(svg => {
    const r = svg.getBoundingClientRect(); return {width: r.width, height: r.height};}),
  links: [...document.querySelectorAll('a[href]')].map(a => (
    {href: a.href, raw: a.getAttribute('href'), text: a.textContent.trim()})),
  anchors: [...document.querySelectorAll('[id], [name]')].map(el => el.id || el.getAttribute('name')),
  visible_code: codeSelectors.filter(sel => [...document.querySelectorAll(sel)].some(visible)),
};
"""

_IMAGES_SETTLED_JS = "return [...document.images].every(img => img.complete);"


class Browser:
    """One headless Chromium, offline, that remembers every request and console message."""

    def __init__(self, profile_dir: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile_dir}",
            f"--window-size={WINDOW_WIDTH},{WINDOW_HEIGHT}",
        ):
            options.add_argument(flag)
        # Console messages (browser log) and network events (performance log) for every page.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        self.driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        self._drain_logs()

    def _drain_logs(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Console entries and requested URLs since the last call (both logs clear when read)."""
        console = self.driver.get_log("browser")
        requests = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        return console, requests

    def visit(self, url: str, screenshot: Path | None = None) -> PageVisit:
        from selenium.webdriver.support.ui import WebDriverWait

        self._drain_logs()
        self.driver.get(url)
        WebDriverWait(self.driver, PAGE_LOAD_TIMEOUT_S).until(
            lambda d: (
                d.execute_script("return document.readyState") == "complete"
                and d.execute_script(_IMAGES_SETTLED_JS)
            )
        )
        seen = self.driver.execute_script(_COLLECT_JS)
        visit = PageVisit(url=self.driver.current_url, **seen)
        if screenshot is not None:
            visit.screenshot = self.full_page_screenshot(screenshot)
        visit.console, visit.requests = self._drain_logs()
        return visit

    def full_page_screenshot(self, path: Path) -> Path:
        """PNG of the whole page (up to ``MAX_SCREENSHOT_HEIGHT`` px), at the window's width."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        content = metrics["cssContentSize"]
        clip = {
            "x": 0,
            "y": 0,
            "width": WINDOW_WIDTH,
            "height": min(content["height"], MAX_SCREENSHOT_HEIGHT),
            "scale": 1,
        }
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def is_offline(self) -> bool:
        return not self.driver.execute_script("return navigator.onLine")

    def quit(self) -> None:
        self.driver.quit()
