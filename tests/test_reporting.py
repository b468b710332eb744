"""The reports index opens with each run's answer: headline figures read from the run's export,
the groups to act on, a "start here" link, what the run changes from the default run in plain
words, the default real-data run first and synthetic or test runs flagged and last. Manifests
and exports are built by hand; the expected figures are worked out in the comments."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from rfm_helpers.config import RunConfig, load_config
from rfm_helpers.report import reporting, style

EXPORT_COLUMNS = ["customer_id", "group", "goal", "monetary", "first_purchase", "last_purchase", "note"]
PRIORITIES = {"Loyal & High-Value": 1, "High-Risk": 2, "New & Potential": 3, "Inactive & Lost": 4}


def write_csv(path: Path, columns: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


@pytest.fixture
def customers_csv(tmp_path: Path) -> Path:
    """5 customers: 2 Loyal & High-Value (£600 + £300), 1 High-Risk (£50), 1 Inactive & Lost
    (£50), 1 not scored (£1,000, left out by the outlier rule). Total £2,000. The rows come in
    another order than the playbook's priorities."""
    rows = [
        ["c5", "Inactive & Lost", "Reactivate", "50.0", "2011-03-01 10:00:00", "2011-03-01 10:00:00", ""],
        [
            "c1",
            "Loyal & High-Value",
            "Retain and grow",
            "600.0",
            "2010-12-01 08:26:00",
            "2011-12-09 12:50:00",
            "",
        ],
        [
            "c2",
            "Loyal & High-Value",
            "Retain and grow",
            "300.0",
            "2011-01-05 09:00:00",
            "2011-11-30 11:00:00",
            "",
        ],
        ["c3", "High-Risk", "Win back", "50.0", "2011-02-01 09:00:00", "2011-06-01 09:00:00", ""],
        ["c4", "", "", "1000.0", "2010-12-02 09:00:00", "2011-12-08 09:00:00", "not scored"],
    ]
    return write_csv(tmp_path / "exports" / "customer_segments.csv", EXPORT_COLUMNS, rows)


def test_summary_of_a_customer_export(customers_csv: Path):
    summary = reporting.summarize_export(customers_csv, priorities=PRIORITIES)
    assert summary["count"] == 5 and summary["entity"] == "customers"
    assert summary["revenue"] == 2000.0
    assert (summary["first"], summary["last"]) == ("2010-12-01", "2011-12-09")
    assert summary["not_scored"] == 1
    groups = summary["groups"]
    # playbook priority order, whatever the order of the rows; groups without customers absent
    assert [g["name"] for g in groups] == ["Loyal & High-Value", "High-Risk", "Inactive & Lost"]
    loyal = groups[0]
    assert (loyal["goal"], loyal["count"], loyal["revenue"]) == ("Retain and grow", 2, 900.0)
    assert loyal["count_share"] == pytest.approx(2 / 5)
    assert loyal["revenue_share"] == pytest.approx(900 / 2000)
    assert groups[1]["revenue_share"] == pytest.approx(50 / 2000)


def test_summary_of_an_account_export_orders_clusters_by_number(tmp_path: Path):
    path = write_csv(
        tmp_path / "account_clusters.csv",
        ["application", "monetary", "cluster", "cluster_name", "goal"],
        [
            ["a3", "10", "2", "High-Value", "Grow"],
            ["a1", "1000", "1", "Top Performers", "Retain"],
            ["a2", "90", "2", "High-Value", "Grow"],
        ],
    )
    summary = reporting.summarize_export(path, entity="accounts")
    assert [(g["name"], g["number"], g["count"], g["revenue"]) for g in summary["groups"]] == [
        ("Top Performers", 1, 1, 1000.0),
        ("High-Value", 2, 2, 100.0),
    ]
    assert summary["by"] == "cluster" and summary["first"] is None and summary["not_scored"] == 0


def test_build_manifest_carries_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, customers_csv: Path
):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path / "out"))
    cfg = RunConfig(run_name="shop", report={"currency": "$"})
    exports = cfg.exports_dir
    exports.mkdir(parents=True)
    (exports / "customer_segments.csv").write_bytes(customers_csv.read_bytes())
    manifest = reporting.build_manifest(
        cfg=cfg,
        params_file=tmp_path / "shop.yaml",
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        input_info={"path": "shop.csv", "sha256": "0" * 64},
        reports=[],
        exports=[],
        fingerprint="f",
    )
    summary = manifest["summary"]
    assert (summary["count"], summary["revenue"], summary["currency"]) == (5, 2000.0, "$")
    # the shipped playbook's priorities order the groups
    assert [g["name"] for g in summary["groups"]] == ["Loyal & High-Value", "High-Risk", "Inactive & Lost"]


def test_run_summary_of_an_account_run_gives_its_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    cfg = load_config("params/omnichannel.yaml")
    write_csv(
        cfg.exports_dir / "account_clusters.csv",
        ["monetary", "cluster", "cluster_name", "goal"],
        [["5", "1", "A", "Retain"]],
    )
    summary = reporting.run_summary(cfg)
    # window [2024-01-01, 2024-12-01): the last day is 30 Nov
    assert (summary["first"], summary["last"], summary["entity"]) == ("2024-01-01", "2024-11-30", "accounts")
    assert summary["currency"] == "IDR"


def test_no_export_no_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    assert reporting.run_summary(RunConfig()) is None


def test_an_unreadable_export_costs_the_headline_not_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    cfg = RunConfig()
    cfg.exports_dir.mkdir(parents=True)
    (cfg.exports_dir / "customer_segments.csv").write_bytes(b"group,monetary\n\xff\xfe,1\n")
    assert reporting.run_summary(cfg) is None
    assert "no headline figures" in capsys.readouterr().err


# --- what a run changes ----------------------------------------------------------------


@pytest.fixture(scope="module")
def default_params() -> dict:
    return load_config("params/default.yaml").model_dump(mode="json")


def test_changes_of_the_seed_run_in_plain_words(default_params):
    seed = load_config("params/seed_superstore.yaml").model_dump(mode="json")
    changes = reporting.parameter_changes(seed, default_params)
    texts = [c["text"] for c in changes]
    assert "Frequency counts invoice lines (an order of 20 products counts 20), not orders." in texts
    assert (
        "Customers above the 95% quantile of R, F or M are left out of the scoring (they stay in the export, "
        "marked not scored)." in texts
    )
    assert "Keeps non-product lines (postage, fees, adjustments): they count as revenue." in texts
    assert "Scores use pandas qcut quintile edges, as in the source document." in texts
    assert (
        "Cancellation lines are removed, but the orders they cancel stay counted as sales "
        "(the source document's method)." in texts
    )
    keys = [c["key"] for c in changes]
    # recency from the last transaction makes the snapshot date moot: one sentence, not two
    assert "rfm.recency_from" in keys and "rfm.snapshot_date" not in keys
    assert "run_name" not in keys and "report.title" not in keys and "description" not in keys
    frequency = next(c for c in changes if c["key"] == "rfm.frequency")
    assert (frequency["value"], frequency["default"]) == ("lines", "invoices")


def test_changes_of_an_account_run_name_the_source_once(default_params):
    omni = load_config("params/omnichannel.yaml").model_dump(mode="json")
    changes = reporting.parameter_changes(omni, default_params)
    assert changes[0]["text"].startswith(
        "Accounts of a messaging platform, extracted with SQL from synthetic demo data"
    )
    assert "instead of the transactions file data/raw/online_retail.parquet" in changes[0]["text"]
    keys = [c["key"] for c in changes]
    assert not [k for k in keys[1:] if k.startswith(("rfm.", "cleaning.", "input.", "accounts."))]
    assert "clustering.features" in keys and "report.currency" in keys
    texts = [c["text"] for c in changes]
    assert "Money is shown in IDR instead of £." in texts
    assert (
        "Clusters are built on recency, campaigns, charged messages and revenue instead of recency, "
        "frequency and revenue." in texts
    )


def test_unknown_change_gets_a_generic_sentence(default_params):
    params = {**default_params, "clustering": {**default_params["clustering"], "n_init": 3}}
    assert reporting.parameter_changes(params, default_params) == [
        {
            "text": "clustering.n_init is 3 instead of 10.",
            "key": "clustering.n_init",
            "value": "3",
            "default": "10",
        }
    ]
    assert reporting.parameter_changes(default_params, default_params) == []


# --- the index page ------------------------------------------------------------------------


def manifest(run_name: str, params_file: str, **extra) -> dict:
    return {
        "run_name": run_name,
        "folder": run_name,
        "params_file": params_file,
        "description": f"Run {run_name}",
        "finished": "2026-01-01T00:00:00+00:00",
        "input": {"path": "data/raw/online_retail.parquet", "sha256": "0" * 64},
        "git": {"commit": "abc1234", "dirty": False},
        "reports": [
            {"notebook": "01_cleaning", "title": "1. Data cleaning", "html": "01_cleaning.html"},
            {
                "notebook": "05_insights",
                "title": "5. Insights and recommendations",
                "html": "05_insights.html",
            },
        ],
        "exports": [],
        **extra,
    }


@pytest.fixture
def runs(default_params) -> list[dict]:
    """Four runs, listed by name: a synthetic one, the default, a test one and another real one."""
    seed = load_config("params/seed_superstore.yaml").model_dump(mode="json")
    summary = {
        "entity": "customers",
        "count": 4334,
        "revenue": 8_735_475.79,
        "currency": "£",
        "first": "2010-12-01",
        "last": "2011-12-09",
        "not_scored": 0,
        "by": "group",
        "groups": [
            {
                "name": "Loyal & High-Value",
                "goal": "Retain and grow",
                "count": 1522,
                "revenue": 6_590_000.0,
                "count_share": 0.351,
                "revenue_share": 0.754,
            },
            {
                "name": "High-Risk",
                "goal": "Win back",
                "count": 940,
                "revenue": 1_300_000.0,
                "count_share": 0.217,
                "revenue_share": 0.149,
            },
        ],
    }
    return [
        manifest(
            "aa_demo",
            "params/omnichannel.yaml",
            synthetic=True,
            input={"path": "x.duckdb", "sha256": "1", "generated_by": "the seeded generator"},
        ),
        manifest("online_retail", "params/default.yaml", parameters=default_params, summary=summary),
        manifest("b_test", "params/test_sample.yaml", parameters=default_params),
        manifest("seed_superstore", "params/seed_superstore.yaml", parameters=seed),
    ]


def section(page: str, run_name: str) -> str:
    return re.search(rf'<section class="run" id="{run_name}">(.*?)</section>', page, re.S).group(1)


def text_of(fragment: str) -> str:
    """The text a reader sees: inline tags vanish, block tags separate words."""
    inline = re.sub(r"</?(code|strong|span|a|b|i|em)\b[^>]*>", "", fragment)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline))).strip()


def test_index_orders_runs_default_first_synthetic_last(runs, default_params):
    page = reporting.render_index(runs, default_params)
    order = re.findall(r'<section class="run" id="([^"]+)">', page)
    assert order == ["online_retail", "seed_superstore", "b_test", "aa_demo"]
    glance = re.search(r'<table class="glance">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'<a href="#([^"]+)">', glance) == order
    assert [reporting.run_kind(r) for r in runs] == ["synthetic", "default", "test", "real"]


def test_index_opens_with_the_headline_figures_and_the_groups_to_act_on(runs, default_params):
    page = reporting.render_index(runs, default_params)
    card = text_of(section(page, "online_retail"))
    # 8,735,475.79 → £8.74M; 2010-12-01 → 1 Dec 2010
    assert "4,334 customers · £8.74M revenue · 1 Dec 2010 – 9 Dec 2011" in card
    assert "Start here: 5. Insights and recommendations →" in card
    assert "Retain and grow Loyal & High-Value 1,522 (35%) £6.59M (75%)" in card
    assert "Win back High-Risk 940 (22%) £1.3M (15%)" in card
    assert "This is the default run" in card
    glance = text_of(re.search(r'<table class="glance">(.*?)</table>', page, re.S).group(1))
    assert "online_retail default run 4,334 customers · £8.74M revenue · 1 Dec 2010 – 9 Dec 2011" in glance
    raw_card = section(page, "online_retail")
    assert 'href="online_retail/05_insights.html"' in raw_card
    assert f"background: {style.GROUP_COLORS['High-Risk']}" in raw_card  # the charts' group colour


def test_index_says_what_a_run_changes_in_sentences_not_a_collapsed_block(runs, default_params):
    page = reporting.render_index(runs, default_params)
    seed = section(page, "seed_superstore")
    changes = re.search(r'<ul class="changes">(.*?)</ul>', seed, re.S).group(1)
    assert "<details" not in changes
    assert "Frequency counts invoice lines (an order of 20 products counts 20), not orders." in text_of(
        changes
    )
    assert "rfm.frequency: lines (default run: invoices)" in text_of(changes)
    assert "Same parameters as the default run" in text_of(section(page, "b_test"))


def test_index_flags_synthetic_and_test_runs(runs, default_params):
    page = reporting.render_index(runs, default_params)
    demo = text_of(section(page, "aa_demo"))
    assert demo.startswith(
        "aa_demo synthetic demo data Synthetic demo data: generated by the seeded generator"
    )
    assert "Test run: a parameter set of the test suite" in text_of(section(page, "b_test"))
    assert "synthetic" not in section(page, "online_retail").lower()


def test_index_escapes_what_runs_bring(runs, default_params):
    runs[1]["description"] = "<script>alert(1)</script>"
    runs[1]["summary"]["currency"] = "<b>£</b>"
    runs[1]["summary"]["groups"][0]["goal"] = "<i>Retain</i>"
    page = reporting.render_index(runs, default_params)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>£</b>" not in page and "&lt;b&gt;£&lt;/b&gt;8.74M" in page
    assert "<i>Retain</i>" not in page


def test_index_of_a_manifest_without_summary_still_renders(default_params):
    old = manifest("old_run", "params/default.yaml")
    page = reporting.render_index([old], default_params)
    assert "Start here: 5. Insights and recommendations" in text_of(page)
    assert "revenue ·" not in text_of(page)


def test_summary_counts_each_recommended_action(tmp_path: Path):
    """The index shows the actions of the export, which can differ from the group's goal (a
    High-Risk customer who ordered last week is nurtured, not won back)."""
    path = write_csv(
        tmp_path / "customer_segments.csv",
        ["customer_id", "group", "goal", "monetary", "recommended_action"],
        [
            ["c1", "High-Risk", "Win back", "10", "Win back"],
            ["c2", "High-Risk", "Win back", "20", "Nurture"],
            ["c3", "New & Potential", "Nurture", "30", "Nurture"],
            ["c4", "", "", "40", "Review individually"],
        ],
    )
    summary = reporting.summarize_export(path)
    assert summary["actions"] == [("Nurture", 2), ("Review individually", 1), ("Win back", 1)]
    high_risk = next(g for g in summary["groups"] if g["name"] == "High-Risk")
    assert (high_risk["goal"], high_risk["count"]) == ("Win back", 2)


def test_export_rows_are_counted_as_a_csv_reader_counts_records(tmp_path: Path) -> None:
    import pandas as pd

    from rfm_helpers.atomic import write_export_csv

    frames = {
        "plain": pd.DataFrame({"id": ["1", "2", "3"], "money": [1.5, 2.0, 3.25]}),
        "quoted": pd.DataFrame(
            {
                "id": ["a,b", 'say "hi"', "two\nlines", '"', "", "x\n\ny"],
                "note": ['""', "three\n\n\nlines", "-1", "=SUM(A1)", "ok", 'q"\n"q'],
            }
        ),
        "carriage return": pd.DataFrame({"id": ["one\rtwo", "three"], "n": [1, 2]}),
        "header only": pd.DataFrame({"id": pd.Series([], dtype=object)}),
    }
    for name, frame in frames.items():
        path = tmp_path / f"{name}.csv"
        write_export_csv(frame, path)
        with path.open(newline="", encoding="utf-8") as fh:
            records = sum(1 for _ in csv.reader(fh))
        assert reporting.csv_records(path.read_bytes()) == records, name
        assert reporting.export_info(path)["rows"] == len(frame), name
    # a last record without a line end still counts
    assert reporting.csv_records(b'id\n1\n"2\n3"') == 3
    assert reporting.csv_records(b"") == 0
