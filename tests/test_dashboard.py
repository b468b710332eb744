"""The interactive dashboard's HTML (rfm_helpers.report.dashboard), without a browser: the data
embedded once and intact, the page self-contained and within its size budget, and no text of
the data able to close the script it lives in. The browser side is
tests/browser/test_dashboard_browser.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from rfm_helpers import atomic
from rfm_helpers.analysis.insights import EXPORT_COLUMNS
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.report import dashboard
from rfm_helpers.report.dashboard import DEFAULT_MAX_ROWS, SIZE_BUDGET_BYTES, decode_rows, render_dashboard

SHIPPED_CUSTOMERS = 4_338
"""Customers of the shipped run (params/default.yaml)."""
SHIPPED_BUDGET_BYTES = 1_200_000
"""The shipped run's dashboard is measured at about 0.73 MB (synthetic rows shaped like the
export): two thirds as much again fails, a longer country name does not."""
DATA_SCRIPT = re.compile(r'<script type="application/json" data-role="data">(.*?)</script>', re.S)
XSS = "<img src=x onerror=alert(1)>"
CLOSER = "</script><script>alert(2)</script>"


def payload_of(page: str) -> dict:
    found = DATA_SCRIPT.findall(page)
    assert len(found) == 1, "the data must be embedded exactly once"
    return json.loads(found[0])


def customer_table(rows: int, seed: int = 7) -> pd.DataFrame:
    """A synthetic customer export (insights.EXPORT_COLUMNS, the shipped reference tables' segments
    and groups), with text as long as the real export's."""
    rng = np.random.default_rng(seed)
    groups = pd.read_csv(PROJECT_ROOT / "data/reference/segment_groups.csv")
    playbook = pd.read_csv(PROJECT_ROOT / "data/reference/group_playbook.csv").set_index("group")["goal"]
    pick = rng.integers(0, len(groups), rows)
    segment = groups["segment"].to_numpy()[pick]
    group = groups["group"].to_numpy()[pick]
    goal = playbook.reindex(group).to_numpy()
    scores = rng.integers(1, 6, (rows, 3))
    recency = rng.integers(0, 374, rows)
    first = pd.Timestamp("2010-12-01 08:26") + pd.to_timedelta(rng.integers(0, 300 * 24 * 60, rows), "min")
    countries = ["United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium"]
    cluster = rng.integers(1, 5, rows)
    names = np.array(["Top Performers", "High-Value", "Mid-Value", "Dormant"])
    table = pd.DataFrame(
        {
            "customer_id": [str(12346 + i) for i in range(rows)],
            "country": rng.choice(countries, rows),
            "segment": segment,
            "group": group,
            "goal": goal,
            "cluster": cluster,
            "cluster_name": names[cluster - 1],
            "recency": recency,
            "frequency": rng.integers(1, 60, rows),
            "monetary": np.round(rng.lognormal(6.5, 1.3, rows), 2),
            "currency": "£",
            "r_score": scores[:, 0],
            "f_score": scores[:, 1],
            "m_score": scores[:, 2],
            "rfm_code": scores[:, 0] * 100 + scores[:, 1] * 10 + scores[:, 2],
            "first_purchase": first.strftime("%Y-%m-%d %H:%M:%S"),
            "last_purchase": (first + pd.Timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S"),
            "snapshot_date": "2011-12-10",
            "note": np.nan,
            "recommended_action": goal,
        }
    )
    table["action_reason"] = [
        f"{s}, code {c}: {g.lower()}; ordered {r} days ago"
        for s, c, g, r in zip(segment, table["rfm_code"], goal, recency, strict=True)
    ]
    assert list(table.columns) == EXPORT_COLUMNS
    return table


def account_table(rows: int = 40) -> pd.DataFrame:
    """A synthetic account export shaped like account_clusters.csv."""
    rng = np.random.default_rng(3)
    cluster = rng.integers(1, 4, rows)
    return pd.DataFrame(
        {
            "application": [f"{i:024x}" for i in range(rows)],
            "full_name": [f"Toko {i}" for i in range(rows)],
            "recency": rng.integers(1, 300, rows),
            "frequency_broadcast": rng.integers(1, 600, rows),
            "frequency_charged": rng.integers(1, 2_000_000, rows),
            "monetary": rng.integers(1_000, 1_500_000_000, rows),
            "cluster": cluster,
            "cluster_name": np.array(["Top Performers", "High-Value", "Dormant (low-spend)"])[cluster - 1],
            "goal": np.array(["Retain", "Grow", "Win back"])[cluster - 1],
            "channels": rng.choice(["wa", "wa+sms", "email"], rows),
            "last_campaign": "2024-11-30 05:45:27",
            "recommended_action": np.array(["Retain", "Grow", "Win back"])[cluster - 1],
            "action_reason": "cluster: reason",
        }
    )


@pytest.fixture(scope="module")
def shipped_size() -> tuple[pd.DataFrame, str]:
    table = customer_table(SHIPPED_CUSTOMERS)
    return table, render_dashboard(table, title="Shipped run", currency="£", at_risk=["High-Risk"])


def comparable(frame: pd.DataFrame) -> list[list[object]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).itertuples(index=False)]


def test_embedded_json_round_trips_the_rows(shipped_size):
    table, page = shipped_size
    payload = payload_of(page)
    back = decode_rows(payload)
    assert list(back.columns) == list(table.columns)
    assert comparable(back) == comparable(atomic.round_money(table))
    assert payload["rows"] == payload["total"] == SHIPPED_CUSTOMERS


def test_money_is_rounded_to_the_cent_like_the_export():
    table = customer_table(5).assign(monetary=[1.005, 2.345, 1e-9, -0.001, 12.3456])
    back = decode_rows(payload_of(render_dashboard(table, title="t", currency="£")))
    assert back["monetary"].tolist() == atomic.round_money(table)["monetary"].tolist()


def test_shipped_run_stays_within_its_budget(shipped_size):
    _, page = shipped_size
    size = len(page.encode())
    assert size < SHIPPED_BUDGET_BYTES, f"{SHIPPED_CUSTOMERS:,} customers: {size:,} bytes"


def test_default_max_rows_stays_within_the_page_budget():
    table = customer_table(DEFAULT_MAX_ROWS + 500, seed=11)
    page = render_dashboard(table, title="Large run", currency="£")
    assert len(page.encode()) < SIZE_BUDGET_BYTES
    payload = payload_of(page)
    assert payload["rows"] == DEFAULT_MAX_ROWS and payload["total"] == DEFAULT_MAX_ROWS + 500


def test_above_max_rows_the_top_rows_by_revenue_are_kept():
    table = customer_table(200)
    payload = payload_of(render_dashboard(table, title="t", currency="£", max_rows=50))
    kept = decode_rows(payload)
    assert (payload["rows"], payload["total"]) == (50, 200)
    top = table.nlargest(50, "monetary").sort_index()
    assert kept["customer_id"].tolist() == top["customer_id"].tolist(), "the export's order"


def test_page_references_no_network_resource(shipped_size):
    _, page = shipped_size
    assert "http://" not in page and "https://" not in page
    # src="//cdn…", href='//…', url(//…), @import "//…": a protocol-relative resource.
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*//|url\(\s*["']?//|@import\s*["']?//""", page)
    assert not re.search(r"<(link|iframe|img|object|embed)\b", page), "the page loads no file"
    assert page.count("<script>") == 1, "the dashboard's script is included once"


def test_no_text_can_close_the_script_or_become_markup():
    table = customer_table(6)
    table.loc[0, "customer_id"] = XSS
    table.loc[1, "country"] = CLOSER
    table.loc[2, "action_reason"] = "<!-- <script>"
    page = render_dashboard(table, title=f"Title {XSS}", currency="£")
    assert XSS not in page and "<img" not in page
    assert "</script><script>alert" not in page
    assert page.count("</script>") == page.count("<script")
    assert "<!--" not in page
    back = decode_rows(payload_of(page))
    assert back.loc[0, "customer_id"] == XSS and back.loc[1, "country"] == CLOSER
    assert "<title>Title &lt;img src=x onerror=alert(1)&gt;</title>" in page
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page and "document.write" not in page


def test_fragment_for_a_notebook():
    fragment = render_dashboard(customer_table(5), title="t", currency="£", fragment=True)
    assert fragment.startswith('<div class="rfm-dash"') and fragment.rstrip().endswith("</div>")
    assert "<!DOCTYPE" not in fragment and "<style>" in fragment
    document = render_dashboard(customer_table(5), title="t", currency="£")
    assert document.startswith("<!DOCTYPE html>") and fragment in document


def test_customer_spec_and_cards():
    table = customer_table(30)
    payload = payload_of(render_dashboard(table, title="t", currency="£", at_risk=["High-Risk"]))
    assert payload["entity"] == "customers"
    assert [f["column"] for f in payload["filters"]] == [
        "segment",
        "group",
        "cluster_name",
        "country",
        "recommended_action",
    ]
    assert payload["chart"]["column"] == "segment"
    # Colours and order of style.py: segments in the reference order.
    segments = payload["chart"]["order"]
    assert segments == [s for s in dashboard.style.SEGMENT_COLORS if s in set(table["segment"])]
    assert payload["chart"]["colors"] == [dashboard.style.SEGMENT_COLORS[s] for s in segments]
    assert payload["risk"] == {"column": "group", "values": ["High-Risk"]}
    assert payload["value"] is None, "no expected_value column: no card"
    assert payload["heatmap"]["row"] == "r_score" and payload["heatmap"]["bins"] == 5
    assert payload["cents"] is True and payload["currencyPrefix"] == "£"


def test_expected_value_card_and_risk_flag_from_the_data():
    table = customer_table(30).assign(expected_value=lambda t: t["monetary"] * 0.5, churn_flag=True)
    payload = payload_of(render_dashboard(table, title="t", currency="£", at_risk="churn_flag"))
    assert payload["value"] == "expected_value" and payload["valueLabel"] == "Expected value"
    assert payload["risk"]["flag"] == "churn_flag"
    with pytest.raises(ValueError, match="at_risk"):
        render_dashboard(table, title="t", currency="£", at_risk="no_such_column")


def test_the_same_function_serves_accounts():
    table = account_table()
    payload = payload_of(
        render_dashboard(table, title="Accounts", currency="IDR", at_risk=["Dormant (low-spend)"])
    )
    assert payload["entity"] == "accounts" and payload["entityOne"] == "account"
    assert payload["id"] == "application"
    assert [f["column"] for f in payload["filters"]] == ["cluster_name", "channels", "recommended_action"]
    # Clusters in number order, coloured as every chart of clusters is.
    assert payload["chart"]["order"] == ["Top Performers", "High-Value", "Dormant (low-spend)"]
    assert payload["chart"]["colors"] == list(dashboard.style.CLUSTER_COLORS[:3])
    assert payload["heatmap"] is None and payload["currencyPrefix"] == "IDR "
    assert payload["cents"] is False
    assert "full_name" in payload["search"] and "application" in payload["search"]
    assert payload["download"] == "account_clusters_filtered.csv"
    assert payload["chart"]["title"] == "cluster"
    # Channel codes read as people name them; the download keeps the codes.
    assert payload["display"]["channels"]["wa+sms"] == "WhatsApp + SMS"
    assert set(decode_rows(payload)["channels"]) == {"wa", "wa+sms", "email"}


def test_extra_panel_is_embedded_with_its_data():
    panel = dashboard.ExtraPanel(
        title="Migration", html='<div class="m"></div>', data={"from": [XSS]}, script="/* </script> */"
    )
    page = render_dashboard(customer_table(5), title="t", currency="£", extra_panels=[panel])
    assert "<h2>Migration</h2>" in page and '<div class="m"></div>' in page
    assert payload_of(page)["panels"] == [{"from": [XSS]}]
    assert "/* <\\/script> */" in page


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="monetary"):
        render_dashboard(customer_table(5).drop(columns="monetary"), title="t", currency="£")


def test_migration_panel_rows_end_with_new_and_name_the_cutoff():
    panel = dashboard.migration_panel(["G1", "G2"], ["G1", "G2"], "11 Sep 2011")
    assert panel.data["then"] == ["G1", "G2", "new"] and panel.data["now"] == ["G1", "G2"]
    assert panel.title == "Migration: each group at the backtest cutoff (11 Sep 2011) and now"
    assert panel.data["corner"] == "Group at 11 Sep 2011 ↓ / now →"
    page = render_dashboard(
        customer_table(5).assign(group_then="new"), title="t", currency="£", extra_panels=[panel]
    )
    assert payload_of(page)["panels"][0]["thenColumn"] == "group_then"
    assert 'class="rd-grid"' in page, "not rd-table: the row table's selectors must not see it"
