"""The synthetic platform: deterministic, the documented schema, and the quirks the extraction
must survive (heavy tails, single-channel accounts, test accounts, statuses, midnight UTC,
events outside the window, renamed WhatsApp numbers); ensure_database rebuilds only when stale
(who may rebuild what: tests/test_data_ownership.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from rfm_helpers.config import AccountsSource
from rfm_helpers.synthetic.accounts import (
    CHANNEL_TABLES,
    TABLE_COLUMNS,
    GeneratorSettings,
    ensure_database,
    generate,
    main,
    recorded_settings,
)

SMALL = GeneratorSettings(n_accounts=300, seed=5)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(SMALL)


def test_same_settings_same_tables_other_seed_other_tables(tables):
    again = generate(SMALL)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])
    other = generate(GeneratorSettings(n_accounts=300, seed=6))
    assert not other["raw.whatsappbroadcasts"]["_id"].equals(tables["raw.whatsappbroadcasts"]["_id"])


def test_tables_and_columns_are_the_documents(tables):
    assert set(tables) == set(TABLE_COLUMNS)
    for name, frame in tables.items():
        assert list(frame.columns) == list(TABLE_COLUMNS[name])
    assert tables["raw.whatsappbroadcasts"]["created_at"].dtype == "datetime64[us]"
    ids = pd.concat([tables[t]["_id"] for t in CHANNEL_TABLES.values()])
    assert ids.is_unique and ids.str.len().eq(24).all()


def channels_per_account(tables) -> pd.Series:
    used = pd.concat(
        [tables[table][["application"]].assign(channel=ch) for ch, table in CHANNEL_TABLES.items()]
    ).drop_duplicates()
    return used.groupby("application")["channel"].agg(lambda s: "+".join(sorted(s)))


def test_some_accounts_use_only_sms_or_only_email(tables):
    profiles = channels_per_account(tables)
    assert (profiles == "sms").sum() > 5
    assert (profiles == "email").sum() > 5
    assert profiles.str.count(r"\+").eq(1).sum() > 20  # two channels


def test_a_few_accounts_send_most_messages(tables):
    wa = tables["mart.wa_blast_transaction_aggregate"]
    per_account = (
        wa[["marketing", "utility", "service", "authentication"]].sum(axis=1).groupby(wa["application"]).sum()
    )
    top = per_account.sort_values(ascending=False)
    assert top.iloc[: len(top) // 20].sum() > 0.4 * top.sum()  # top 5% send > 40%
    assert top.median() < top.mean() / 3


def test_test_accounts_are_active_and_listed(tables):
    listed = set(tables["raw.master_testing_demo_account"]["application"])
    active = set(tables["raw.whatsappbroadcasts"]["application"]) | set(
        tables["raw.smsbroadcasts"]["application"]
    )
    assert len(listed & active) >= 3
    assert tables["raw.master_testing_demo_account"]["application"].notna().all()
    with_null = generate(GeneratorSettings(n_accounts=300, seed=5, test_list_has_null=True))
    assert with_null["raw.master_testing_demo_account"]["application"].isna().sum() == 1


def test_statuses_other_than_finish(tables):
    statuses = tables["raw.smsbroadcasts"]["status"].value_counts(normalize=True)
    assert 0.8 < statuses["finish"] < 0.92
    assert {"failed", "cancelled"} <= set(statuses.index)


def test_local_time_moves_campaigns_across_day_and_year(tables):
    utc = tables["raw.whatsappbroadcasts"]["created_at"]
    local = utc.dt.tz_localize("UTC").dt.tz_convert("Asia/Jakarta").dt.tz_localize(None)
    assert (utc.dt.date != local.dt.date).mean() > 0.05
    assert ((utc.dt.year == 2023) & (local.dt.year == 2024)).any()
    assert ((utc < "2024-12-01") & (local >= "2024-12-01")).any()  # the document's UTC window keeps it


def test_events_before_and_after_the_default_window(tables):
    day = tables["mart.sms_blast_transaction_aggregate"]["transaction_date"]
    assert (day < pd.Timestamp("2024-01-01").date()).sum() > 10
    assert (day >= pd.Timestamp("2024-12-01").date()).sum() > 10


def test_some_accounts_have_a_second_name_on_whatsapp(tables):
    names = tables["mart.wa_blast_transaction_aggregate"].groupby("application")["client_name"].nunique()
    assert (names > 1).sum() >= 1


def test_dormant_accounts_stop_before_the_window_ends(tables):
    last = tables["raw.whatsappbroadcasts"].groupby("application")["created_at"].max()
    assert (last < "2024-06-01").mean() > 0.05


def test_ensure_database_builds_once_and_rebuilds_when_settings_change(tmp_path, monkeypatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    path = tmp_path / "data" / "synthetic" / "accounts.duckdb"
    source = AccountsSource(synthetic={"accounts": 40, "seed": 1, "file": "accounts.duckdb"})
    assert ensure_database(source) == path
    built = path.stat().st_mtime_ns
    assert ensure_database(source) == path and path.stat().st_mtime_ns == built
    ensure_database(AccountsSource(synthetic={"accounts": 40, "seed": 2, "file": "accounts.duckdb"}))
    assert '"seed": 2' in recorded_settings(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["accounts.duckdb"]  # no temp files left


def test_ensure_database_only_generates_for_engine_synthetic(tmp_path):
    with pytest.raises(ValueError, match="only engine: synthetic generates data"):
        ensure_database(AccountsSource(engine="duckdb", duckdb_path=tmp_path / "x.duckdb"))


def test_cli_writes_a_duckdb_file(tmp_path, capsys):
    assert main(["--accounts", "30", "--seed", "3", "--duckdb", str(tmp_path / "cli.duckdb")]) == 0
    assert "raw.whatsappbroadcasts" in capsys.readouterr().out
    assert '"n_accounts": 30' in recorded_settings(tmp_path / "cli.duckdb")


# --- the kinds of accounts and the export day (the calibration: tests/test_calibration.py) ----


def test_kinds_of_accounts_in_fixed_numbers():
    from rfm_helpers.synthetic.accounts import PROFILES, profile_counts

    assert [p.name for p in PROFILES] == ["enterprise", "automation", "churned", "regular"]
    assert profile_counts(3000) == [6, 12, 900, 2082]  # 0.2 %, 0.4 %, 30 %, the rest
    assert profile_counts(20) == [1, 1, 6, 12]  # at least one big sender of each kind


def test_nothing_is_finished_after_the_export_day(tables):
    # last_day 2024-12-22 00:00 in Jakarta is 2024-12-21 17:00 UTC.
    exported = pd.Timestamp("2024-12-21 17:00:00")
    later = pd.concat([tables[t].loc[tables[t]["created_at"] >= exported] for t in CHANNEL_TABLES.values()])
    assert len(later) > 0 and later["status"].eq("scheduled").all()  # the New Year campaigns
    for mart in ("mart.wa_blast_transaction_aggregate", "mart.sms_blast_transaction_aggregate"):
        assert tables[mart]["transaction_date"].max() < pd.Timestamp("2024-12-22").date()
