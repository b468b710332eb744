"""Account-level RFM of the omnichannel messaging platform, extracted with SQL.

``extract_accounts(cfg.accounts)`` runs the ``.sql`` files of ``accounts.sql_dir`` on DuckDB or
PostgreSQL (``rfm_helpers.sqlengine``) and returns one row per account (``application``):

* ``recency``: days from the local date of the last finished campaign (any channel of
  ``accounts.channels``) to ``accounts.as_of`` — an explicit date, never "today";
* ``frequency_broadcast``: finished campaigns over those channels in the window;
* ``frequency_charged``: charged messages (WhatsApp categories of ``charged_wa_categories``,
  SMS and email) in the window; ``monetary``: their revenue at the price list's prices;
* ``full_name``: the name on the account's most recent mart row (accounts with no mart row,
  e.g. calls only, show their application id);
* per channel: ``last_*``, ``broadcasts_*``, ``charged_*``, ``revenue_*`` (the channel mix).

The window is ``[window_start, window_end)`` in local days of ``accounts.timezone`` for every
table. Test/demo accounts are excluded everywhere. What is left out is counted in ``ledger``.

``method: document`` reproduces the source document instead (its queries, its inner merges,
WhatsApp marketing + utility only if so configured, frequency without calls, a UTC window), so
that ``document_losses`` can measure what that method loses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd

from rfm_helpers import sqlengine
from rfm_helpers.config import AccountsSource
from rfm_helpers.paths import resolve

CHANNELS = ("wa", "sms", "email", "call")
CHARGED_CHANNELS = ("wa", "sms", "email")
CHANNEL_NAMES = {"wa": "WhatsApp", "sms": "SMS", "email": "Email", "call": "Calls"}
"""Channels with charged messages (calls have no message mart)."""
WA_CATEGORIES = ("marketing", "utility", "service", "authentication")
FEATURES = ["recency", "frequency_broadcast", "frequency_charged", "monetary"]
ACCOUNT_COLUMNS = [
    "customer_id",
    "application",
    "full_name",
    "last_campaign",
    *FEATURES,
    *(f"last_{ch}" for ch in CHANNELS),
    *(f"broadcasts_{ch}" for ch in CHANNELS),
    *(f"messages_{cat}" for cat in (*WA_CATEGORIES, "sms", "email")),
    *(f"charged_{ch}" for ch in CHARGED_CHANNELS),
    *(f"revenue_{ch}" for ch in CHARGED_CHANNELS),
]
LEDGER_COLUMNS = ["item", "channel", "outcome", "amount", "accounts"]


@dataclasses.dataclass(frozen=True)
class AccountExtraction:
    """The account table, what was excluded, and where it came from."""

    accounts: pd.DataFrame
    """One row per account, columns ``ACCOUNT_COLUMNS`` (see the module docstring)."""
    ledger: pd.DataFrame
    """Every exclusion: ``item`` (broadcasts / charged messages / accounts), ``channel``,
    ``outcome`` (the reason, or ``kept``), ``amount`` (rows, messages or accounts), ``accounts``."""
    method: str
    database: str
    """The database the rows came from (file path, or PostgreSQL host:port/db)."""


def load_prices(path: str | Path, charged_wa_categories: list[str]) -> pd.DataFrame:
    """The price list with a ``charged`` flag: the chosen WhatsApp categories, SMS and email."""
    path = resolve(path)
    if not path.is_file():
        raise FileNotFoundError(f"Price list not found: {path} (accounts.prices)")
    prices = pd.read_csv(path, dtype={"channel": str, "category": str})
    missing_columns = {"channel", "category", "price"} - set(prices.columns)
    if missing_columns:
        raise ValueError(f"Price list {path} lacks column(s) {sorted(missing_columns)}")
    expected = {("wa", cat) for cat in WA_CATEGORIES} | {("sms", "sms"), ("email", "email")}
    found = list(zip(prices["channel"], prices["category"], strict=True))
    if set(found) != expected or len(found) != len(expected):
        raise ValueError(
            f"Price list {path} must have exactly one row per (channel, category) of {sorted(expected)}; "
            f"got {sorted(found)}"
        )
    price = pd.to_numeric(prices["price"], errors="coerce")
    if price.isna().any() or (price < 0).any() or (price % 1 != 0).any():
        raise ValueError(f"Price list {path}: column price must hold whole, non-negative amounts")
    return pd.DataFrame(
        {
            "channel": prices["channel"],
            "category": prices["category"],
            "price": price.astype("int64"),
            "charged": [ch != "wa" or cat in charged_wa_categories for ch, cat in found],
        }
    )


def extract_accounts(source: AccountsSource) -> AccountExtraction:
    """Run the extraction of an ``accounts:`` params section (see the module docstring)."""
    prices = load_prices(source.prices, list(source.charged_wa_categories))
    sql_dir = resolve(source.sql_dir)
    with sqlengine.connect(source) as engine:
        engine.load_table("run_prices", prices)
        engine.load_table("run_channels", pd.DataFrame({"channel": list(source.channels)}))
        if source.method == "document":
            accounts, ledger = _document_method(engine, sql_dir, source)
        else:
            accounts, ledger = _corrected_method(engine, sql_dir, source)
        return AccountExtraction(accounts, ledger, source.method, engine.where)


def _corrected_method(
    engine: sqlengine.Engine, sql_dir: Path, source: AccountsSource
) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = {
        "timezone": source.timezone,
        "window_start": source.window_start,
        "window_end": source.window_end,
    }
    campaigns = engine.query(sql_dir / "campaigns.sql", params)
    charged = engine.query(sql_dir / "charged_messages.sql", params, allow_empty=True)
    outcomes = engine.query(sql_dir / "exclusions.sql", params)
    on_record = engine.query(sql_dir / "accounts_on_record.sql")
    accounts = build_accounts(campaigns, charged, source.as_of)
    return accounts, build_ledger(outcomes, on_record, accounts, charged)


def build_accounts(campaigns: pd.DataFrame, charged: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per account with a finished campaign in the window (``campaigns.sql`` rows),
    with its charged messages (``charged_messages.sql`` rows; none = zero)."""
    accounts = campaigns.merge(charged, on="application", how="left", validate="one_to_one")
    counts = [c for c in charged.columns if c.startswith(("messages_", "charged_", "revenue_"))]
    accounts[counts] = accounts[counts].fillna(0).astype("int64")
    accounts["full_name"] = accounts["full_name"].fillna(accounts["application"])
    accounts["customer_id"] = accounts["application"]
    accounts["recency"] = (pd.Timestamp(as_of) - accounts["last_campaign"].dt.normalize()).dt.days.astype(
        "int64"
    )
    accounts["frequency_broadcast"] = accounts[[f"broadcasts_{ch}" for ch in CHANNELS]].sum(axis=1)
    accounts["frequency_charged"] = accounts[[f"charged_{ch}" for ch in CHARGED_CHANNELS]].sum(axis=1)
    accounts["monetary"] = accounts[[f"revenue_{ch}" for ch in CHARGED_CHANNELS]].sum(axis=1)
    return accounts[ACCOUNT_COLUMNS].sort_values("customer_id", ignore_index=True)


def build_ledger(
    outcomes: pd.DataFrame, on_record: pd.DataFrame, accounts: pd.DataFrame, charged: pd.DataFrame
) -> pd.DataFrame:
    """``exclusions.sql`` rows plus the account-level exclusions."""
    real = on_record.loc[~on_record["is_test"], "application"]
    no_campaign = real[~real.isin(accounts["application"])]
    orphan_charges = charged[charged["application"].isin(no_campaign)]
    orphan_messages = orphan_charges[[f"charged_{ch}" for ch in CHARGED_CHANNELS]].to_numpy().sum()
    n_test = int(on_record["is_test"].sum())
    account_rows = pd.DataFrame(
        [
            ("accounts", "all", "test or demo account", n_test, n_test),
            ("accounts", "all", "no finished campaign in the window", len(no_campaign), len(no_campaign)),
            ("accounts", "all", "kept", len(accounts), len(accounts)),
            (
                "charged messages",
                "all",
                "account has no finished campaign in the window",
                int(orphan_messages),
                len(orphan_charges),
            ),
        ],
        columns=LEDGER_COLUMNS,
    )
    return pd.concat([outcomes[LEDGER_COLUMNS], account_rows], ignore_index=True)


def _document_method(
    engine: sqlengine.Engine, sql_dir: Path, source: AccountsSource
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if source.window_start.year != (source.window_end - dt.timedelta(days=1)).year:
        raise ValueError(
            "accounts.method document filters recency by one calendar year: keep window_start and the "
            "window's last day in the same year"
        )
    recency = engine.query(
        sql_dir / "document_recency.sql", {"timezone": source.timezone, "year": source.window_start.year}
    )
    last_second = dt.datetime.combine(source.window_end, dt.time()) - dt.timedelta(seconds=1)
    frequency = engine.query(
        sql_dir / "document_frequency.sql",
        {"window_start": source.window_start, "window_last_second": last_second},
    )
    charged = engine.query(sql_dir / "document_charged.sql")
    return document_accounts(recency, frequency, charged, source.as_of, list(source.charged_wa_categories))


def document_accounts(
    recency: pd.DataFrame,
    frequency: pd.DataFrame,
    charged: pd.DataFrame,
    as_of: dt.date,
    charged_wa_categories: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The document's pandas steps on its three datasets: inner merges on application, totals
    over the charged categories, recency = whole days from ``as_of`` (its ``today``)."""
    wide = recency.pivot(index="application", columns="source", values="most_recent_campaign")
    wide = wide.reindex(columns=list(CHANNELS)).astype("datetime64[us]").add_prefix("last_").reset_index()
    wide["last_campaign"] = wide[[f"last_{ch}" for ch in CHANNELS]].max(axis=1)
    step1 = wide.merge(charged, on="application", how="inner")
    combined = step1.merge(frequency, on="application", how="inner")

    out = combined.rename(
        columns={f"{ch}_broadcast_count": f"broadcasts_{ch}" for ch in ("wa", "sms", "email")}
        | {f"total_{cat}": f"messages_{cat}" for cat in (*WA_CATEGORIES, "sms", "email")}
    )
    out["broadcasts_call"] = 0  # the document's frequency has no calls
    out["charged_wa"] = out[[f"messages_{cat}" for cat in charged_wa_categories]].sum(axis=1)
    out["revenue_wa"] = out[[f"rev_{cat}" for cat in charged_wa_categories]].sum(axis=1)
    for ch in ("sms", "email"):
        out[f"charged_{ch}"] = out[f"messages_{ch}"]
        out[f"revenue_{ch}"] = out[f"rev_{ch}"]
    out["recency"] = (pd.Timestamp(as_of) - out["last_campaign"]).dt.days.astype("int64")
    out["frequency_broadcast"] = out[["broadcasts_wa", "broadcasts_sms", "broadcasts_email"]].sum(axis=1)
    out["frequency_charged"] = out[[f"charged_{ch}" for ch in CHARGED_CHANNELS]].sum(axis=1)
    out["monetary"] = out[[f"revenue_{ch}" for ch in CHARGED_CHANNELS]].sum(axis=1)
    # Its rows are per (application, name): keep them, with a key that tells them apart.
    repeated = out["application"].duplicated(keep=False)
    out["customer_id"] = out["application"].where(~repeated, out["application"] + " / " + out["full_name"])
    accounts = out[ACCOUNT_COLUMNS].sort_values("customer_id", ignore_index=True)

    charged_apps = charged["application"].drop_duplicates()
    lost_merge1 = int((~wide["application"].isin(charged_apps)).sum())
    lost_merge2 = step1["application"].nunique() - combined["application"].nunique()
    named_twice = int(out.loc[repeated, "application"].nunique())
    steps = [  # (outcome, amount, accounts)
        ("with a finished campaign in the local year (Dataset 1)", len(wide), len(wide)),
        ("rows of (application, name) with WhatsApp traffic (Dataset 3)", len(charged), len(charged_apps)),
        ("campaigns in the UTC window (Dataset 2)", len(frequency), len(frequency)),
        ("lost in merge 1 (no WhatsApp traffic or a test account)", lost_merge1, lost_merge1),
        ("lost in merge 2 (no campaign in the UTC window)", lost_merge2, lost_merge2),
        ("extra rows from several names per account", int(repeated.sum()) - named_twice, named_twice),
        ("kept", len(accounts), accounts["application"].nunique()),
    ]
    ledger = pd.DataFrame([("accounts", "all", *step) for step in steps], columns=LEDGER_COLUMNS)
    return accounts, ledger


def channel_profile(accounts: pd.DataFrame) -> pd.Series:
    """Which channels each account used, e.g. ``"sms+email"`` (finished campaigns or charged messages)."""
    used = pd.DataFrame({ch: accounts[f"broadcasts_{ch}"] > 0 for ch in CHANNELS})
    for ch in CHARGED_CHANNELS:
        used[ch] |= accounts[f"charged_{ch}"] > 0
    return used.apply(lambda row: "+".join(ch for ch in CHANNELS if row[ch]) or "none", axis=1)


def channel_mix(accounts: pd.DataFrame, by: str, measure: str = "broadcasts") -> pd.DataFrame:
    """Share of each channel per group (rows sum to 1), plus the group's number of accounts.

    ``measure``: ``broadcasts`` (finished campaigns, all four channels), ``charged`` (charged
    messages) or ``revenue`` (both: WhatsApp, SMS, email; calls have no messages).
    """
    channels = CHANNELS if measure == "broadcasts" else CHARGED_CHANNELS
    if measure not in ("broadcasts", "charged", "revenue"):
        raise ValueError(f"channel_mix: measure must be broadcasts, charged or revenue, not {measure!r}")
    totals = accounts.groupby(by)[[f"{measure}_{ch}" for ch in channels]].sum()
    shares = totals.div(totals.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0.0)
    shares.columns = [f"share_{ch}" for ch in channels]
    shares["accounts"] = accounts.groupby(by).size()
    return shares


def document_losses(corrected: pd.DataFrame, document: pd.DataFrame) -> pd.DataFrame:
    """Accounts of the corrected table that the document's method drops, per channel profile.

    Columns: ``accounts``, ``kept_by_document``, ``lost``, ``lost_revenue`` (their corrected
    monetary) and ``lost_share`` of the profile's accounts; a final ``all`` row.
    """
    kept = corrected["application"].isin(document["application"])
    frame = pd.DataFrame(
        {
            "profile": channel_profile(corrected),
            "accounts": 1,
            "kept_by_document": kept.astype(int),
            "lost": (~kept).astype(int),
            "lost_revenue": corrected["monetary"].where(~kept, 0),
        }
    )
    table = frame.groupby("profile").sum().sort_values("accounts", ascending=False)
    table.loc["all"] = table.sum()
    table["lost_share"] = table["lost"] / table["accounts"]
    return table


def compare_methods(source: AccountsSource, run: AccountExtraction) -> pd.DataFrame:
    """:func:`document_losses` of ``source`` extracted both ways; ``run`` is one of the two
    extractions (already done), the other is run here."""
    other_method = "document" if run.method == "corrected" else "corrected"
    other = extract_accounts(source.model_copy(update={"method": other_method}))
    corrected, document = (run, other) if run.method == "corrected" else (other, run)
    return document_losses(corrected.accounts, document.accounts)


def readable_mix(mix: pd.DataFrame) -> pd.DataFrame:
    """The share columns of :func:`channel_mix`, named for people (``share_wa`` → ``WhatsApp``)."""
    shares = [c for c in mix.columns if c.startswith("share_")]
    return mix[shares].rename(columns={c: CHANNEL_NAMES[c.removeprefix("share_")] for c in shares})
