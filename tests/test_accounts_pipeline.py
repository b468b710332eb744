"""The account (omnichannel) report end to end: params/test_omnichannel.yaml through the real
runner, offline on DuckDB, and the same report with the extraction on a real PostgreSQL server
loaded with the same generated data (the whole report must be identical)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import yaml

from rfm_helpers.analysis.clustering import VOCABULARY, base_name
from rfm_helpers.config import load_config
from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.runs import runner
from rfm_helpers.runs.pipeline import load_pipeline
from rfm_helpers.synthetic.accounts import GeneratorSettings, generate, write_postgres

PARAMS = PROJECT_ROOT / "params" / "test_omnichannel.yaml"
RUN = "test_omnichannel"
URL_ENV = "RFM_TEST_REPORT_DATABASE_URL"
PAGES = [step.name for step in load_pipeline(NOTEBOOKS_DIR, "accounts")]


@dataclass
class Report:
    root: Path
    exit_code: int
    output: str

    def page(self, name: str) -> str:
        """The page's text (tags removed, entities decoded)."""
        page = (self.root / "reports" / RUN / f"{name}.html").read_text(encoding="utf-8")
        return html.unescape(re.sub(r"<[^>]+>", "", page))

    def export(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "reports" / RUN / "exports" / "account_clusters.csv")


def run_report(root: Path, params: Path, capsys: pytest.CaptureFixture[str] | None = None) -> Report:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        code = runner.run(params)
    return Report(root, code, capsys.readouterr().out if capsys else "")


@pytest.fixture(scope="module")
def duckdb_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return run_report(tmp_path_factory.mktemp("accounts_duckdb"), PARAMS)


def test_report_is_published_with_its_pages_and_export(duckdb_report: Report) -> None:
    assert duckdb_report.exit_code == 0
    folder = duckdb_report.root / "reports" / RUN
    assert sorted(p.stem for p in folder.glob("*.html")) == PAGES
    index = (duckdb_report.root / "reports" / "index.html").read_text(encoding="utf-8")
    assert f"{RUN}/05_account_insights.html" in index and f"{RUN}/exports/account_clusters.csv" in index


def test_export_has_every_kept_account_once(duckdb_report: Report) -> None:
    export = duckdb_report.export()
    ledger = pd.read_csv(ledger_path_under(duckdb_report.root))
    kept = ledger.query("item == 'accounts' and outcome == 'kept'")["accounts"].item()
    assert len(export) == kept and export["application"].is_unique
    words = export["cluster_name"].map(base_name)
    assert set(words) <= set(VOCABULARY)
    goals = {"Top Performers": "Retain", "Dormant": "Win back"}
    for name, goal in goals.items():
        assert set(export.loc[words == name, "goal"]) <= {goal}
    # nobody who ran a campaign within report.recent_days (30) is told to win back
    assert not export.loc[export["recency"] <= 30, "recommended_action"].eq("Win back").any()
    assert (export["recency"] >= 0).all() and (export["monetary"] >= 0).all()


def test_cluster_shares_in_the_page_are_measured_from_the_export(duckdb_report: Report) -> None:
    export = duckdb_report.export()
    page = duckdb_report.page("05_account_insights")

    def percent(share: float) -> str:  # whole percents; below 1 %, one decimal (0.3%, not 0%)
        return f"{share:.0%}" if share >= 0.01 or share == 0 else f"{share:.1%}"

    for name, group in export.groupby("cluster_name"):
        revenue_share = group["monetary"].sum() / export["monetary"].sum()
        accounts = f"{len(group):,} accounts ({percent(len(group) / len(export))})"
        expected = f"{name} — {accounts} bring {percent(revenue_share)}"
        assert expected in page, expected


def test_single_channel_accounts_are_kept_and_the_document_loss_is_reported(duckdb_report: Report) -> None:
    export = duckdb_report.export()
    assert {"sms", "email"} <= set(export["channels"]), "SMS-only and email-only accounts are kept"
    page = duckdb_report.page("01_extraction")
    lost = re.search(r"would drop ([\d,]+) of ([\d,]+) accounts", page)
    assert lost and int(lost.group(2).replace(",", "")) == len(export)
    assert int(lost.group(1).replace(",", "")) > 0


def test_unchanged_rerun_reuses_every_step(duckdb_report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    again = run_report(duckdb_report.root, PARAMS, capsys)
    assert again.exit_code == 0 and "is up to date" in again.output and "running" not in again.output


def ledger_path_under(root: Path) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        return load_config(PARAMS).ledger_path


def test_postgres_report_equals_the_duckdb_report(
    duckdb_report: Report, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    synthetic = settings["accounts"].pop("synthetic")
    generated = GeneratorSettings(n_accounts=synthetic["accounts"], seed=synthetic["seed"])
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS rfm_report")
        admin.execute("CREATE DATABASE rfm_report")
    url = postgres_url.rsplit("/", 1)[0] + "/rfm_report"
    write_postgres(generate(generated), url)
    settings["accounts"] |= {"engine": "postgres", "postgres_url_env": URL_ENV}
    params = tmp_path / "test_omnichannel_postgres.yaml"
    params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    monkeypatch.setenv(URL_ENV, url)

    report = run_report(tmp_path / "out", params)

    assert report.exit_code == 0
    pd.testing.assert_frame_equal(report.export(), duckdb_report.export())
    assert "from PostgreSQL" in report.page("01_extraction")
    manifest = (report.root / "reports" / RUN / "manifest.json").read_text(encoding="utf-8")
    assert "live database" in manifest and "password" not in manifest
