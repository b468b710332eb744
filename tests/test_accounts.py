"""The account table from hand-built tables (a tiny DuckDB file): time zones, the half-open
window, test accounts, channels, prices, recency from as_of, the ledger, the document's method.

Accounts of the hand-built platform (times are UTC as stored; Jakarta is UTC+7):
  wa_acct     WhatsApp only; campaigns 2024-11-15 03:00 (local 10:00) and one failed
  sms_only    SMS only; local 2024-11-30 23:59:59 (inside) and 2024-12-01 00:00:00 (outside)
  year_edge   email; 2023-12-31 18:30 UTC = 2024-01-01 01:30 local (inside the local window)
  test_acct   listed as a test account, otherwise active
  dormant     last campaign in 2023 (no finished activity in the window)
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from rfm_helpers.analysis.domain import DomainError
from rfm_helpers.config import AccountsSource
from rfm_helpers.data.accounts import (
    EmptyResultError,
    channel_mix,
    compare_methods,
    document_losses,
    extract_accounts,
    load_prices,
    open_database,
    run_query,
)
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.synthetic.accounts import TABLE_COLUMNS, write_duckdb

PRICES = PROJECT_ROOT / "data/reference/omnichannel_prices.csv"


def broadcasts(rows: list[tuple[str, str, str, str]], **extra: str) -> pd.DataFrame:
    """rows: (_id, application, status, created_at UTC)."""
    frame = pd.DataFrame(rows, columns=["_id", "application", "status", "created_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[us]")
    frame["name"] = "campaign"
    frame["total_recipients"] = 100
    for column, value in extra.items():
        frame[column] = value
    return frame


def mart(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["transaction_date"] = pd.to_datetime(frame["transaction_date"]).dt.date
    return frame


def platform(test_list: list[str | None]) -> dict[str, pd.DataFrame]:
    wa_columns = list(TABLE_COLUMNS["mart.wa_blast_transaction_aggregate"])
    tables = {
        "raw.whatsappbroadcasts": broadcasts(
            [
                ("w1", "wa_acct", "finish", "2024-11-15 03:00:00"),
                ("w2", "wa_acct", "failed", "2024-11-20 03:00:00"),
                ("w3", "test_acct", "finish", "2024-06-01 03:00:00"),
                ("w4", "dormant", "finish", "2023-05-01 03:00:00"),
            ],
            wabanumber="62811",
            category="marketing",
        ),
        "raw.smsbroadcasts": broadcasts(
            [
                ("s1", "sms_only", "finish", "2024-11-30 16:59:59"),
                ("s2", "sms_only", "finish", "2024-11-30 17:00:00"),
            ],
            sender_id="SENDER",
        ),
        "raw.emailbroadcasts": broadcasts(
            [("e1", "year_edge", "finish", "2023-12-31 18:30:00")], subject="Promo"
        ),
        "raw.broadcastcalls": broadcasts([("c1", "wa_acct", "cancelled", "2024-03-01 03:00:00")]),
        "mart.wa_blast_transaction_aggregate": mart(
            [
                ("wa_acct", "PT Satu", "62811", "2024-11-15", 10, 5, 2, 1),
                ("wa_acct", "Satu Official", "62812", "2024-11-16", 1, 0, 0, 0),
                ("wa_acct", "PT Satu", "62811", "2023-11-15", 1000, 0, 0, 0),  # before the window
                ("test_acct", "Demo", "62899", "2024-06-01", 50, 0, 0, 0),
            ],
            wa_columns,
        ),
        "mart.sms_blast_transaction_aggregate": mart(
            [("sms_only", "CV Dua", "2024-11-30", 3), ("sms_only", "CV Dua", "2024-12-01", 7)],
            ["application", "full_name", "transaction_date", "total_sms"],
        ),
        "mart.email_blast_transaction_aggregate": mart(
            [("year_edge", "Toko Tiga", "2024-01-01", 100)],
            ["application", "full_name", "transaction_date", "total"],
        ),
        "raw.master_testing_demo_account": pd.DataFrame({"application": test_list, "label": "testing"}),
    }
    return {name: frame[list(TABLE_COLUMNS[name])] for name, frame in tables.items()}


@pytest.fixture
def source(tmp_path) -> AccountsSource:
    path = write_duckdb(platform(["test_acct"]), tmp_path / "tiny.duckdb")
    return AccountsSource(engine="duckdb", duckdb_path=path)


def by_app(extraction) -> pd.DataFrame:
    return extraction.accounts.set_index("application")


def test_accounts_are_those_with_a_finished_campaign_in_the_local_window(source):
    accounts = by_app(extract_accounts(source))
    assert sorted(accounts.index) == ["sms_only", "wa_acct", "year_edge"]


def test_utc_evening_is_next_local_day_across_the_year_boundary(source):
    accounts = by_app(extract_accounts(source))
    assert accounts.loc["year_edge", "last_campaign"] == pd.Timestamp("2024-01-01 01:30:00")
    assert accounts.loc["year_edge", "last_email"] == pd.Timestamp("2024-01-01 01:30:00")
    assert accounts.loc["year_edge", "broadcasts_email"] == 1


def test_window_is_half_open_in_local_time(source):
    accounts = by_app(extract_accounts(source))
    # Local 2024-11-30 23:59:59 is in, local 2024-12-01 00:00:00 is out.
    assert accounts.loc["sms_only", "broadcasts_sms"] == 1
    assert accounts.loc["sms_only", "last_campaign"] == pd.Timestamp("2024-11-30 23:59:59")
    # The mart day 2024-12-01 is out too: 3 charged SMS, not 10.
    assert accounts.loc["sms_only", "charged_sms"] == 3
    assert accounts.loc["sms_only", "monetary"] == 3 * 600


def test_sms_only_account_is_kept_with_its_name(source):
    accounts = by_app(extract_accounts(source))
    assert accounts.loc["sms_only", "full_name"] == "CV Dua"
    assert accounts.loc["sms_only", "frequency_broadcast"] == 1


def test_revenue_is_messages_times_price_per_category(source):
    wa = by_app(extract_accounts(source)).loc["wa_acct"]
    # Window only: marketing 10+1, utility 5, service 2, authentication 1.
    assert wa["charged_wa"] == 19
    assert wa["monetary"] == 11 * 777 + 5 * 400 + 2 * 382 + 1 * 579
    assert wa["messages_marketing"] == 11


def test_charged_categories_parameter(source):
    narrowed = source.model_copy(update={"charged_wa_categories": ["marketing", "utility"]})
    wa = by_app(extract_accounts(narrowed)).loc["wa_acct"]
    assert wa["frequency_charged"] == 16
    assert wa["monetary"] == 11 * 777 + 5 * 400
    assert wa["messages_service"] == 2  # still reported, just not charged


def test_recency_counts_days_from_as_of(source):
    accounts = by_app(extract_accounts(source))
    assert accounts.loc["wa_acct", "recency"] == 16  # 2024-11-15 10:00 local → 2024-12-01
    later = by_app(extract_accounts(source.model_copy(update={"as_of": dt.date(2024, 12, 31)})))
    assert later.loc["wa_acct", "recency"] == 46
    assert later.loc["year_edge", "recency"] == 365  # 2024 is a leap year


def test_full_name_is_the_most_recent_one(source):
    # 62812 ("Satu Official") has the latest mart day of wa_acct.
    assert by_app(extract_accounts(source)).loc["wa_acct", "full_name"] == "Satu Official"


def test_ledger_counts_every_exclusion(source):
    ledger = extract_accounts(source).ledger.set_index(["item", "channel", "outcome"])
    assert ledger.loc[("broadcasts", "wa", "not finished"), "amount"] == 1
    assert ledger.loc[("broadcasts", "wa", "test or demo account"), "amount"] == 1
    assert ledger.loc[("broadcasts", "wa", "outside the window"), "amount"] == 1  # dormant, 2023
    assert ledger.loc[("broadcasts", "sms", "outside the window"), "amount"] == 1
    assert ledger.loc[("broadcasts", "call", "not finished"), "amount"] == 1
    assert ledger.loc[("charged messages", "wa", "outside the window"), "amount"] == 1000
    assert ledger.loc[("charged messages", "wa", "test or demo account"), "amount"] == 50
    assert ledger.loc[("accounts", "all", "test or demo account"), "amount"] == 1
    assert ledger.loc[("accounts", "all", "no finished campaign in the window"), "amount"] == 1
    assert ledger.loc[("accounts", "all", "kept"), "amount"] == 3


def test_accounts_on_record_are_those_of_any_broadcast_or_mart_row(tmp_path):
    tables = platform(["test_acct"])
    only_call = broadcasts([("c2", "call_only", "failed", "2022-01-01 00:00:00")])
    tables["raw.broadcastcalls"] = pd.concat([tables["raw.broadcastcalls"], only_call], ignore_index=True)
    only_mart = mart(
        [("mart_only", "Empat", "2022-01-01", 0)], list(tables["mart.sms_blast_transaction_aggregate"])
    )
    sms = tables["mart.sms_blast_transaction_aggregate"]
    tables["mart.sms_blast_transaction_aggregate"] = pd.concat([sms, only_mart], ignore_index=True)
    source = AccountsSource(engine="duckdb", duckdb_path=write_duckdb(tables, tmp_path / "record.duckdb"))
    with open_database(source) as engine:
        on_record = run_query(engine, source.sql_dir / "accounts_on_record.sql")
    # Every account, whatever its status, date or channel: a failed call, a mart row of 0 messages.
    assert on_record["application"].tolist() == [
        "call_only",
        "dormant",
        "mart_only",
        "sms_only",
        "test_acct",
        "wa_acct",
        "year_edge",
    ]
    assert on_record.loc[on_record["is_test"], "application"].tolist() == ["test_acct"]


def test_channels_parameter_limits_recency_and_frequency(source):
    wa_only = by_app(extract_accounts(source.model_copy(update={"channels": ["wa"]})))
    assert list(wa_only.index) == ["wa_acct"]
    ledger = extract_accounts(source.model_copy(update={"channels": ["wa"]})).ledger
    assert ledger.query("channel == 'sms' and outcome == 'channel not selected'")["amount"].sum() == 2


def test_null_in_test_list_does_not_wipe_the_corrected_result(tmp_path):
    path = write_duckdb(platform(["test_acct", None]), tmp_path / "null.duckdb")
    corrected = AccountsSource(engine="duckdb", duckdb_path=path)
    assert len(extract_accounts(corrected).accounts) == 3
    # The document's NOT IN returns nothing at all.
    with pytest.raises(EmptyResultError, match="document_charged.sql"):
        extract_accounts(corrected.model_copy(update={"method": "document"}))


def test_document_method_reproduces_its_losses(source):
    document = source.model_copy(
        update={
            "method": "document",
            "charged_wa_categories": ["marketing", "utility"],
            "as_of": dt.date(2024, 12, 16),
        }
    )
    run = extract_accounts(document)
    # Only WhatsApp accounts survive its LEFT JOIN from WhatsApp; wa_acct has two names → two rows.
    assert sorted(run.accounts["customer_id"]) == ["wa_acct / PT Satu", "wa_acct / Satu Official"]
    rows = run.accounts.set_index("full_name")
    # All time (its charged query has no date filter), marketing + utility only.
    assert rows.loc["PT Satu", "frequency_charged"] == 1010 + 5
    assert rows.loc["PT Satu", "monetary"] == 1010 * 777 + 5 * 400
    assert rows.loc["Satu Official", "frequency_charged"] == 1
    # Recency from as_of 2024-12-16 00:00 back to 2024-11-15 10:00: 30 whole days.
    assert (run.accounts["recency"] == 30).all()
    ledger = run.ledger.set_index("outcome")["amount"]
    assert ledger["extra rows from several names per account"] == 1

    losses = document_losses(extract_accounts(source).accounts, run.accounts)
    assert losses.loc["all", "lost"] == 2
    assert losses.loc["sms", "lost"] == 1 and losses.loc["sms", "lost_revenue"] == 1800
    assert losses.loc["email", "lost"] == 1


def test_channel_mix_shares_per_group(source):
    accounts = extract_accounts(source).accounts
    accounts["group"] = ["g1", "g1", "g2"]  # sms_only, wa_acct, year_edge (sorted by id)
    mix = channel_mix(accounts, by="group")
    # g1: 1 SMS campaign + 1 WhatsApp campaign.
    assert mix.loc["g1", ["share_wa", "share_sms", "share_email", "share_call"]].tolist() == [0.5, 0.5, 0, 0]
    assert mix.loc["g2", "share_email"] == 1.0
    assert mix.loc["g1", "accounts"] == 2
    revenue = channel_mix(accounts, by="group", measure="revenue")
    wa_revenue = 11 * 777 + 5 * 400 + 2 * 382 + 579
    assert revenue.loc["g1", "share_sms"] == pytest.approx(1800 / (1800 + wa_revenue))


def test_price_list_must_cover_every_category(tmp_path):
    broken = tmp_path / "prices.csv"
    broken.write_text("channel,category,price\nwa,marketing,777\nsms,sms,600\n")
    with pytest.raises(ValueError, match="exactly one row per"):
        load_prices(broken, ["marketing"])


def test_shipped_price_list_has_the_documents_prices():
    prices = load_prices(PRICES, ["marketing", "utility"]).set_index(["channel", "category"])
    assert prices["price"].to_dict() == {
        ("wa", "marketing"): 777,
        ("wa", "utility"): 400,
        ("wa", "service"): 382,
        ("wa", "authentication"): 579,
        ("sms", "sms"): 600,
        ("email", "email"): 23,
    }
    assert prices["charged"].to_dict()[("wa", "service")] is False
    assert prices["charged"].to_dict()[("sms", "sms")] is True


# --- domain checks of the published account table (rfm_helpers.analysis.domain) ----------------------


def test_negative_message_counts_are_refused_naming_the_account_and_value(tmp_path):
    tables = platform(["test_acct"])
    sms = tables["mart.sms_blast_transaction_aggregate"]
    sms.loc[sms["transaction_date"] == dt.date(2024, 11, 30), "total_sms"] = -5  # a "correction" row
    path = write_duckdb(tables, tmp_path / "negative.duckdb")
    with pytest.raises(DomainError) as raised:
        extract_accounts(AccountsSource(engine="duckdb", duckdb_path=path))
    message = str(raised.value)
    # sms_only: -5 SMS in the window (the 7 of 2024-12-01 are outside it), at 600 each.
    assert "frequency_charged must be ≥ 0 messages, but 1 of 3 accounts are below" in message
    assert "(e.g. account 'sms_only': -5, the lowest)" in message
    assert (
        "monetary must be ≥ 0, but 1 of 3 accounts are below (e.g. account 'sms_only': -3,000, the lowest). "
        "Same cause as for frequency_charged." in message
    )
    assert f"mart.*_blast_transaction_aggregate) in DuckDB file {path}" in message


def with_december_campaign(tmp_path) -> AccountsSource:
    """The tiny platform plus a finished WhatsApp campaign of wa_acct on 2024-12-20 10:00 local."""
    tables = platform(["test_acct"])
    december = broadcasts(
        [("w5", "wa_acct", "finish", "2024-12-20 03:00:00")], wabanumber="62811", category="marketing"
    )
    tables["raw.whatsappbroadcasts"] = pd.concat(
        [tables["raw.whatsappbroadcasts"], december[list(TABLE_COLUMNS["raw.whatsappbroadcasts"])]]
    )
    path = write_duckdb(tables, tmp_path / "december.duckdb")
    return AccountsSource(
        engine="duckdb", duckdb_path=path, method="document", charged_wa_categories=["marketing", "utility"]
    )


def test_document_recency_after_as_of_is_refused_and_says_which_as_of(tmp_path):
    document = with_december_campaign(tmp_path).model_copy(update={"as_of": dt.date(2024, 12, 16)})
    with pytest.raises(DomainError) as raised:
        extract_accounts(document)
    message = str(raised.value)
    # 2024-12-16 00:00 − 2024-12-20 10:00 = −4 days 14 h, which the document's .dt.days floors to −5.
    assert "recency must be ≥ 0 days, but 2 of 2 accounts are below" in message
    assert "(e.g. account 'wa_acct / PT Satu': -5, the lowest)" in message
    assert "accounts.as_of (2024-12-16)" in message and "set accounts.as_of to 2025-01-01 or later" in message


def test_document_recency_from_the_day_after_its_year(tmp_path):
    document = with_december_campaign(tmp_path).model_copy(update={"as_of": dt.date(2025, 1, 1)})
    # 2025-01-01 00:00 − 2024-12-20 10:00 = 11 days 14 h → 11.
    assert extract_accounts(document).accounts["recency"].tolist() == [11, 11]


def test_method_comparison_uses_the_unchecked_other_extraction(tmp_path):
    corrected = with_december_campaign(tmp_path).model_copy(
        update={"method": "corrected", "as_of": dt.date(2024, 12, 1)}
    )
    run = extract_accounts(corrected)  # the December campaign is outside the corrected window
    # The document's extraction with this as_of has recency −20 for wa_acct: it is only used to
    # tell which accounts the document keeps, so it must not stop the run.
    losses = compare_methods(corrected, run)
    assert losses.loc["all", "lost"] == 2 and losses.loc["all", "accounts"] == 3


def test_channel_mix_of_a_group_without_revenue_is_all_zero(source):
    accounts = extract_accounts(source).accounts
    accounts["group"] = ["g1", "g2", "g2"]
    accounts.loc[accounts["group"] == "g2", [f"revenue_{ch}" for ch in ("wa", "sms", "email")]] = 0
    mix = channel_mix(accounts, by="group", measure="revenue")
    assert mix.loc["g2", ["share_wa", "share_sms", "share_email"]].tolist() == [0.0, 0.0, 0.0]
    assert mix.loc["g1", "share_sms"] == 1.0  # sms_only: 3 SMS in the window
