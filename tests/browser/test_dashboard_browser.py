"""The interactive dashboard (rfm_helpers.report.dashboard) as a stakeholder uses it: rendered
from a test run's export, opened over ``file://`` in headless Chromium with the network off,
filtered, searched and downloaded, and checked against the export read with pandas.

The runs are built once per module below a temporary ``RFM_OUTPUT_ROOT`` (params/test_sample.yaml,
and params/test_omnichannel.yaml for the accounts). Screenshots: ``build/screenshots/dashboard/``.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser.report_browser import ALLOWED_URL_SCHEMES, SCREENSHOT_DIR, Browser
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.report.dashboard import migration_panel, render_dashboard
from rfm_helpers.runs import runner

pytestmark = pytest.mark.slow

XSS = '<img src=x onerror="window.__xss=1">'
DOWNLOAD_TIMEOUT_S = 15
SHOTS = SCREENSHOT_DIR / "dashboard"
"""This module's screenshots (only this folder is cleared: other browser tests may be writing
beside it)."""


def build_run(tmp_path_factory: pytest.TempPathFactory, params: str, export: str) -> Path:
    root = tmp_path_factory.mktemp("dashboard_run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        assert runner.run(PROJECT_ROOT / params, force=True) == 0, f"runner.run({params}) failed"
    (path,) = (root / "reports").glob(f"*/exports/{export}")
    return path


@pytest.fixture(scope="module")
def customer_export(tmp_path_factory, browser) -> Path:  # browser first: skips before the run
    return build_run(tmp_path_factory, "params/test_sample.yaml", "customer_segments.csv")


@pytest.fixture(scope="module")
def customers(customer_export) -> pd.DataFrame:
    return pd.read_csv(customer_export, dtype={"customer_id": str})


@pytest.fixture(scope="module")
def dashboard_file(customers, tmp_path_factory) -> Path:
    page = render_dashboard(
        customers,
        title="Online Retail sample (test): customer dashboard",
        currency="£",
        at_risk=["High-Risk"],
        subtitle="Test run on a deterministic sample of the real data.",
    )
    path = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    path.write_text(page, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture(scope="module")
def opened(browser: Browser, dashboard_file, shots):
    """The dashboard, loaded once (console and requests of the load recorded)."""
    return browser.visit(dashboard_file.as_uri(), screenshot=shots / "customers.png")


def find(browser: Browser, role: str):
    return browser.driver.find_element(By.CSS_SELECTOR, f'[data-role="{role}"]')


def shown_count(browser: Browser, card: str = "count") -> int:
    return int(find(browser, f"kpi-{card}").text.replace(",", ""))


def table_rows(browser: Browser) -> list[list[str]]:
    return browser.driver.execute_script(
        "return [...document.querySelectorAll('table.rd-table tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent));"
    )


def severe(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e.get("level") == "SEVERE"]


def clear(browser: Browser) -> None:
    find(browser, "clear").click()


def test_loads_offline_without_errors(browser, opened):
    assert browser.is_offline()
    assert all(url.startswith(ALLOWED_URL_SCHEMES) for url in opened.requests), opened.requests
    assert browser.driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert not severe(opened.console), opened.console
    assert opened.title == "Online Retail sample (test): customer dashboard"
    assert len(opened.svgs) >= 3, "two bar charts and the heatmap"


def test_unfiltered_cards_and_table(browser, opened, customers):
    assert shown_count(browser) == len(customers)
    assert len(table_rows(browser)) == len(customers)
    revenue = customers["monetary"].sum()
    risk = customers.loc[customers["group"] == "High-Risk", "monetary"].sum() / revenue
    assert find(browser, "kpi-risk").text == f"{risk:.1%}"
    assert browser.driver.find_elements(By.CSS_SELECTOR, '[data-card="value"]') == [], "no expected_value"


def test_filter_updates_cards_table_and_charts(browser, opened, customers):
    clear(browser)
    select = Select(browser.driver.find_element(By.CSS_SELECTOR, 'select[data-column="group"]'))
    first = select.options[0].text
    select.select_by_visible_text(first)
    expected = customers[customers["group"] == first]
    assert shown_count(browser) == len(expected)
    rows = table_rows(browser)
    assert len(rows) == len(expected)
    assert find(browser, "count").get_attribute("data-rows") == str(len(expected))
    ids = {row[0] for row in rows}
    assert ids == set(expected["customer_id"])
    # Bars of the other groups' segments drop to zero.
    segments = set(expected["segment"])
    for label in browser.driver.find_elements(By.CSS_SELECTOR, '[data-role="chart-count"] text[data-value]'):
        name = label.get_attribute("data-value")
        count = int(label.text.split(" ")[0].replace(",", ""))
        assert count == int((expected["segment"] == name).sum()), name
        assert (count > 0) == (name in segments)
    browser.full_page_screenshot(SHOTS / "customers_filtered.png")


def test_search_finds_exactly_one_customer(browser, opened, customers):
    clear(browser)
    searchable = customers[
        ["customer_id", "country", "segment", "group", "cluster_name", "recommended_action"]
    ]
    text = searchable.astype(str).agg(" ".join, axis=1)
    wanted = next(cid for cid in customers["customer_id"] if text.str.contains(cid, regex=False).sum() == 1)
    box = find(browser, "search")
    box.send_keys(wanted)
    rows = table_rows(browser)
    assert len(rows) == 1 and rows[0][0] == wanted
    assert shown_count(browser) == 1
    clear(browser)
    assert len(table_rows(browser)) == len(customers)


def test_download_is_the_export_rows_of_the_filter(browser, opened, customers, customer_export, tmp_path):
    clear(browser)
    browser.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    select = Select(browser.driver.find_element(By.CSS_SELECTOR, 'select[data-column="group"]'))
    first = select.options[0].text
    select.select_by_visible_text(first)
    find(browser, "download").click()
    target = tmp_path / "customer_segments_filtered.csv"
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_S
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), f"no download in {sorted(p.name for p in tmp_path.iterdir())}"
    downloaded = target.read_text(encoding="utf-8")
    lines = customer_export.read_text(encoding="utf-8").split("\n")
    assert len(lines) == len(customers) + 2, "one line per customer (no line break inside a cell)"
    mask = (customers["group"] == first).tolist()
    expected = (
        "\n".join([lines[0], *(line for line, keep in zip(lines[1:-1], mask, strict=True) if keep)]) + "\n"
    )
    assert downloaded == expected
    again = pd.read_csv(target, dtype={"customer_id": str})
    pd.testing.assert_frame_equal(again, customers[customers["group"] == first].reset_index(drop=True))


def test_sorting_by_revenue(browser, opened, customers):
    clear(browser)
    header = browser.driver.find_element(By.CSS_SELECTOR, 'th[data-column="monetary"]')
    header.click()  # the table opens sorted by revenue, largest first: a click turns it round
    assert header.get_attribute("aria-sort") == "ascending"
    first = table_rows(browser)[0]
    assert first[0] == customers.loc[customers["monetary"].idxmin(), "customer_id"]
    header.click()
    assert table_rows(browser)[0][0] == customers.loc[customers["monetary"].idxmax(), "customer_id"]


def test_numbers_are_written_like_units(browser, opened, customers):
    clear(browser)
    top = customers.loc[customers["monetary"].idxmax()]
    row = table_rows(browser)[0]
    headers = browser.driver.execute_script(
        "return [...document.querySelectorAll('table.rd-table thead th')].map(th => th.textContent);"
    )
    assert row[headers.index("Monetary (£)")] == f"£{top['monetary']:,.2f}"
    assert re.fullmatch(r"£\d+(\.\d+)?[kMB]", find(browser, "kpi-revenue").text)


def test_no_console_errors_after_use(browser, opened):
    assert not severe(browser.driver.get_log("browser"))


def test_customer_text_is_never_markup(browser, customers, tmp_path):
    table = customers.head(20).copy()
    table.loc[0, "customer_id"] = XSS
    table.loc[1, "country"] = "</script><script>window.__xss=2</script>"
    path = tmp_path / "xss.html"
    path.write_text(render_dashboard(table, title=XSS, currency="£"), encoding="utf-8")
    seen = browser.visit(path.as_uri())
    assert browser.driver.execute_script("return window.__xss === undefined")
    assert browser.driver.execute_script("return document.images.length") == 0
    assert not severe(seen.console), seen.console
    ids = [row[0] for row in table_rows(browser)]
    assert XSS in ids
    assert seen.title == XSS


def test_above_max_rows_the_page_says_how_many_it_shows(browser, customers, tmp_path):
    path = tmp_path / "top.html"
    path.write_text(
        render_dashboard(customers, title="Top rows", currency="£", max_rows=100), encoding="utf-8"
    )
    seen = browser.visit(path.as_uri())
    assert not severe(seen.console), seen.console
    note = find(browser, "note")
    assert note.is_displayed()
    assert note.text.startswith(f"Showing the top 100 of {len(customers):,} customers by revenue")
    assert len(table_rows(browser)) == 100 == shown_count(browser)


def test_migration_panel_counts_the_rows_in_view(browser, customers, tmp_path, shots):
    """The migration panel (rfm_helpers.report.dashboard.migration_panel) counts, for the rows in
    view, each move from the group at the cutoff to the group now, as pandas counts them."""
    groups = ["Loyal & High-Value", "High-Risk", "New & Potential", "Inactive & Lost"]
    # A group at the cutoff made up from the id (any values will do: the panel must count them).
    numbers = customers["customer_id"].astype(int)
    then = [groups[n % 4] if n % 5 else "new" for n in numbers]
    table = customers.assign(group_then=then)
    panel = migration_panel(groups, groups, "11 Sep 2011")
    path = tmp_path / "migration.html"
    path.write_text(render_dashboard(table, title="Migration", currency="£", extra_panels=[panel]), "utf-8")
    seen = browser.visit(path.as_uri(), screenshot=shots / "migration.png")
    assert not severe(seen.console), seen.console

    def cells() -> dict[tuple[str, str], int]:
        found = browser.driver.execute_script(
            "return [...document.querySelectorAll('table.rd-grid td')]"
            ".map(td => [td.dataset.then, td.dataset.now, td.textContent]);"
        )
        return {(a, b): int(text.split(" ")[0].replace(",", "")) for a, b, text in found}

    def expected(rows: pd.DataFrame) -> dict[tuple[str, str], int]:
        pairs = rows.groupby(["group_then", "group"]).size()
        out = {(a, b): int(pairs.get((a, b), 0)) for a in [*groups, "new"] for b in groups}
        out |= {(a, "total"): int((rows["group_then"] == a).sum()) for a in [*groups, "new"]}
        return out

    assert cells() == expected(table)
    select = Select(browser.driver.find_element(By.CSS_SELECTOR, 'select[data-column="country"]'))
    country = select.options[0].text
    select.select_by_visible_text(country)
    in_view = table[table["country"] == country]
    assert cells() == expected(in_view)
    scored = in_view[in_view["group_then"] != "new"]
    moved = int((scored["group_then"] != scored["group"]).sum())
    note = browser.driver.find_element(By.CSS_SELECTOR, '[data-role="migration-note"]').text
    assert note == (
        f"Of the {len(scored):,} customers in view scored at the cutoff, {moved:,} are in another group "
        f"now; {len(in_view) - len(scored):,} are new (first scored after it)."
    )


@pytest.fixture(scope="module")
def accounts(tmp_path_factory, browser) -> pd.DataFrame:
    return pd.read_csv(build_run(tmp_path_factory, "params/test_omnichannel.yaml", "account_clusters.csv"))


def test_the_same_dashboard_serves_accounts(browser, accounts, tmp_path, shots):
    path = tmp_path / "accounts.html"
    page = render_dashboard(
        accounts,
        title="Omnichannel accounts (test): account dashboard",
        currency="IDR",
        at_risk=["Dormant (low-spend)"],
        frequency_unit="campaigns",
    )
    path.write_text(page, encoding="utf-8")
    seen = browser.visit(path.as_uri(), screenshot=shots / "accounts.png")
    assert not severe(seen.console), seen.console
    columns = [
        s.get_attribute("data-column")
        for s in browser.driver.find_elements(By.CSS_SELECTOR, "select[data-column]")
    ]
    assert columns == ["cluster_name", "channels", "recommended_action"]
    card = browser.driver.execute_script(
        "return document.querySelector('[data-card=\"count\"] .rd-k').textContent"
    )
    assert card == "Accounts"
    assert shown_count(browser) == len(accounts)
    select = Select(browser.driver.find_element(By.CSS_SELECTOR, 'select[data-column="cluster_name"]'))
    first = select.options[0].text
    select.select_by_visible_text(first)
    assert shown_count(browser) == int((accounts["cluster_name"] == first).sum())
    assert len(table_rows(browser)) == int((accounts["cluster_name"] == first).sum())
    assert find(browser, "kpi-revenue").text.startswith("IDR ")
    assert browser.driver.find_elements(By.CSS_SELECTOR, '[data-role="heatmap-panel"]:not([hidden])') == []


def test_fragments_side_by_side_as_in_a_notebook(browser, customers, accounts, tmp_path):
    """Two ``fragment=True`` outputs in one page (as nbconvert publishes ``display(HTML(...))``):
    each finds its own data and filters only its own rows."""
    cells = [
        render_dashboard(customers, title="Customers", currency="£", fragment=True),
        render_dashboard(accounts, title="Accounts", currency="IDR", fragment=True),
    ]
    path = tmp_path / "notebook.html"
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Notebook</title></head><body>"
        + "".join(f"<div class='output'>{cell}</div>" for cell in cells)
        + "</body></html>",
        encoding="utf-8",
    )
    seen = browser.visit(path.as_uri())
    assert not severe(seen.console), seen.console
    counts = browser.driver.find_elements(By.CSS_SELECTOR, '[data-role="kpi-count"]')
    assert [int(c.text.replace(",", "")) for c in counts] == [len(customers), len(accounts)]
    select = Select(browser.driver.find_element(By.CSS_SELECTOR, 'select[data-column="cluster_name"]'))
    first = select.options[0].text
    select.select_by_index(0)
    counts = browser.driver.find_elements(By.CSS_SELECTOR, '[data-role="kpi-count"]')
    assert int(counts[0].text.replace(",", "")) == int((customers["cluster_name"] == first).sum())
    assert int(counts[1].text.replace(",", "")) == len(accounts), "the other dashboard is untouched"
