"""Values as every report writes them (rfm_helpers.units): counts with what they count, money in
the run's currency (one spacing rule: £950, IDR 950), days as days, no decimals on whole numbers,
compact ticks; and the account pages' tables that use them, with headers for people
(rfm_helpers.data.accounts, rfm_helpers.report.tables)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from rfm_helpers import units
from rfm_helpers.data import accounts
from rfm_helpers.report import tables

SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def ledger(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=accounts.LEDGER_COLUMNS)


HAND_BUILT = ledger(
    [
        ("broadcasts", "wa", "kept", 46_829, 2_003),
        ("broadcasts", "sms", "not finished", 1, 1),
        ("charged messages", "wa", "kept", 92_007_710, 1_870),
        ("accounts", "all", "test or demo account", 60, 60),
        ("account rows", "all", "kept", 2_029, 2_003),
    ]
)


def test_ledger_counts_carry_their_unit_never_a_currency() -> None:
    view = accounts.ledger_view(HAND_BUILT)
    assert view["Amount"].tolist() == [
        "46,829 campaigns",
        "1 campaign",
        "92,007,710 messages",
        "60 accounts",
        "2,029 rows",
    ]
    assert view["Accounts"].tolist() == [
        "2,003 accounts",
        "1 account",
        "1,870 accounts",
        "60 accounts",
        "2,003 accounts",
    ]
    assert view["Channel"].tolist() == ["WhatsApp", "SMS", "WhatsApp", "All channels", "All channels"]


@pytest.mark.parametrize("currency", ["£", "IDR"])
def test_formatted_ledger_table_shows_messages_not_pounds(currency: str) -> None:
    html = tables.styled(
        accounts.ledger_view(HAND_BUILT), caption="Extraction ledger", currency=currency
    ).to_html()
    assert "92,007,710 messages" in html and "46,829 campaigns" in html
    assert "£" not in html and "IDR" not in html and ".00" not in html
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", html, flags=re.S))
    assert not SNAKE_CASE.search(visible), visible


def test_ledger_item_without_a_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="no unit"):
        accounts.ledger_view(ledger([("widgets", "all", "kept", 3, 3)]))


def test_counts_days_and_money() -> None:
    assert units.count(46_829.0, "account") == "46,829 accounts"  # a float count: no ".00"
    assert units.count(239.0, "campaign") == "239 campaigns"
    assert units.count(1_191.5, "campaign") == "1,191.5 campaigns"  # a mean keeps its decimal
    assert units.count(65_474.6, "message") == "65,475 messages"  # above 10,000: whole
    assert units.count(1, "account") == "1 account"
    assert units.days(10.5) == "10.5 days" and units.days(1) == "1 day"
    assert units.money(3_570_000_000, "IDR") == "IDR 3.57B"
    assert units.money(152_000_000, "IDR") == "IDR 152M"
    assert units.money(43_000_000, "IDR") == "IDR 43M"
    assert units.money(1_700_000, "IDR") == "IDR 1.7M"
    assert units.money(950, "£") == "£950"
    assert units.money(999_999, "£") == "£1M"


def test_feature_summary_in_each_features_unit() -> None:
    table = pd.DataFrame(
        {
            "recency": [10, 11],
            "frequency_broadcast": [239, 239],
            "frequency_charged": [46_829, 46_829],
            "monetary": [1_500_000, 2_500_000],
        }
    )
    summary = accounts.feature_summary(table, accounts.FEATURES, "IDR").set_index("Account feature")
    assert summary.loc["Recency (days since the last campaign)", "Mean"] == "10.5 days"
    assert summary.loc["Campaigns (finished broadcasts)", "Median"] == "239 campaigns"
    assert summary.loc["Charged messages", "Maximum"] == "46,829 messages"
    assert summary.loc["Revenue", "Mean"] == "IDR 2M"
    assert summary["Accounts"].eq("2 accounts").all()
    assert not summary.to_string().count(".00")
    html = tables.styled(summary.reset_index(), caption="Features", currency="IDR").to_html()
    assert "10.5 days" in html and "239 campaigns" in html and "IDR 2M" in html


def test_page_tables_have_headers_for_people() -> None:
    losses = pd.DataFrame(
        {
            "accounts": [3, 1, 4],
            "kept_by_document": [3, 0, 3],
            "lost": [0, 1, 1],
            "lost_revenue": [0, 1800, 1800],
        },
        index=pd.Index(["wa", "sms", "all"], name="profile"),
    )
    losses["lost_share"] = losses["lost"] / losses["accounts"]
    view = accounts.losses_view(losses, "IDR")
    assert view.loc[1].tolist() == ["SMS", "1 account", "0 accounts", "1 account", "100.0%", "IDR 1,800"]
    assert view.loc[2, "Channels used"] == "All channel profiles"
    mix = pd.DataFrame(
        {"share_wa": [0.5], "share_sms": [0.5], "share_email": [0.0], "share_call": [0.0], "accounts": [2]},
        index=pd.Index(["Top Performers"], name="cluster_name"),
    )
    assert accounts.mix_view(mix, "Cluster").loc[0].tolist() == [
        "Top Performers",
        "50.0%",
        "50.0%",
        "0.0%",
        "0.0%",
        "2 accounts",
    ]
    headers = tables.display_frame(pd.DataFrame(columns=["cluster", "cluster_name", "goal", "what to do"]))
    assert list(headers.columns) == ["Cluster", "Cluster name", "Goal", "What to do"]
    for page_table in (view, accounts.mix_view(mix, "Cluster")):
        assert not any(SNAKE_CASE.search(str(c)) for c in page_table.columns), list(page_table.columns)
    assert "Kept by the document's method" in view.columns


# --- money, compact numbers and ticks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "£0"),
        (950, "£950"),
        (9_999, "£9,999"),
        (10_000, "£10k"),
        (12_300, "£12.3k"),
        (999_999, "£1M"),  # never £1000.0k
        (4_560_000, "£4.56M"),
        (2_500_000_000, "£2.5B"),
        (-950, "-£950"),
        (-12_300, "-£12.3k"),
        (-4_560_000, "-£4.56M"),
        (0.4, "£0"),
    ],
)
def test_money(value, expected):
    assert units.money(value, "£") == expected


def test_money_currency():
    assert units.money(12_300, "$") == "$12.3k"
    assert units.money(-950, "€") == "-€950"
    assert units.money(-950, "IDR") == "-IDR 950"  # a code takes a space, a symbol does not


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "£0"),
        (950, "£950"),
        (12_300, "£12.3k"),
        (200_000, "£200k"),
        (1_000_000, "£1M"),
        (2_500_000, "£2.5M"),
        (10_000_000, "£10M"),
        (-500_000, "-£500k"),
    ],
)
def test_money_ticks_drop_trailing_zeros(value, expected):
    assert units.compact(value, "£") == expected


@pytest.mark.parametrize(("share", "expected"), [(0.0, "0%"), (0.35, "35%"), (0.025, "2.5%"), (1.0, "100%")])
def test_percent(share, expected):
    assert units.percent(share) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1, "1"),
        (950, "950"),
        (1_000, "1k"),
        (2_500, "2.5k"),
        (10_000, "10k"),
        (100_000, "100k"),
        (1_000_000, "1M"),
        (10_000_000, "10M"),
        (2_500_000_000, "2.5B"),
        (0.5, "0.5"),
        (-20_000, "-20k"),
    ],
)
def test_compact(value, expected):
    assert units.compact(value) == expected
    assert units.compact(1_000, "£") == "£1k"
    assert units.compact(1_000, "IDR") == "IDR 1k"


def test_count_ticks_from_a_million_are_compact():
    assert units.count_tick(2_500) == "2,500"
    assert units.count_tick(1_500_000) == "1.5M"


@pytest.mark.parametrize(
    ("value", "expected"), [(9.0, "9"), (10.5, "10.5"), (46_829.0, "46,829"), (2.25, "2.2"), (239.0, "239")]
)
def test_numbers_have_at_most_one_decimal(value, expected):
    assert units.number(value) == expected
    assert units.days(1.0) == "1 day" and units.days(10.5) == "10.5 days"


def test_full_money_in_table_cells():
    assert units.full_money(1_234.5, "£", cents=True) == "£1,234.50"
    assert units.full_money(-26_456_802, "IDR", cents=False) == "-IDR 26,456,802"
