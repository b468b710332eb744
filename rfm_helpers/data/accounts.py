"""Account-level RFM of the omnichannel messaging platform, extracted with SQL.

``extract_accounts(cfg.accounts)`` runs the ``.sql`` files of ``accounts.sql_dir`` on DuckDB or
PostgreSQL (the engines of ``rfm_helpers.sql.engines``: :func:`open_database`, :func:`run_query`)
and returns one row per account (``application``):

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
The account table is checked against its domain (``rfm_helpers.analysis.domain``: recency ≥ 0, one row
per account, …) before it is returned, so nothing outside it reaches a page or an export.

``method: document`` reproduces the source document instead (its queries, its inner merges,
WhatsApp marketing + utility only if so configured, frequency without calls, a UTC window), so
that ``document_losses`` can measure what that method loses.

The SQL files are written once, in PostgreSQL's dialect (:data:`SQL_DIALECT`), and rendered for
the engine by :func:`rfm_helpers.sql.dialect.render`: their ``:name`` placeholders become typed
literals in sqlglot's tree, never text formatted into the query. Small reference tables (prices,
channel list) are loaded per session as temporary tables that the SQL joins. Every failure is an
:class:`~rfm_helpers.sql.engines.EngineError` naming the server or file, the table or column,
the ``.sql`` file, and what to do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import decimal
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import sqlglot

from rfm_helpers import units
from rfm_helpers.analysis import domain
from rfm_helpers.config import AccountsSource
from rfm_helpers.paths import display_path, resolve
from rfm_helpers.sql.dialect import placeholders, render
from rfm_helpers.sql.engines import (
    EngineError,
    SQLEngine,
    describe_url,
    duckdb_file_engine,
    explain_query_error,
    postgres_url_engine,
)

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
LEDGER_UNITS = {
    "broadcasts": "campaign",
    "charged messages": "message",
    "accounts": "account",
    "account rows": "row",
}
"""What a ledger row's ``amount`` counts, per ``item`` (the document's method counts rows of
(application, name) in some steps: an account with two names is two rows)."""


@dataclasses.dataclass(frozen=True)
class AccountExtraction:
    """The account table, what was excluded, and where it came from."""

    accounts: pd.DataFrame
    """One row per account, columns ``ACCOUNT_COLUMNS`` (see the module docstring)."""
    ledger: pd.DataFrame
    """Every exclusion: ``item`` (broadcasts / charged messages / accounts), ``channel``,
    ``outcome`` (the reason, or ``kept``), ``amount`` (campaigns, messages, accounts or rows:
    :data:`LEDGER_UNITS`), ``accounts``. :func:`ledger_view` is its form for a page."""
    method: str
    database: str
    """The database the rows came from (file path, or PostgreSQL host:port/db)."""


SQL_DIALECT = "postgres"
"""The dialect the files of ``accounts.sql_dir`` are written in (DuckDB runs them as rendered)."""


class EmptyResultError(EngineError):
    """A query that must return rows returned none."""


# --- the database of an ``accounts:`` section, and its queries --------------------------------


def postgres_url(source: AccountsSource) -> str:
    """The URL from the environment variable named in the params, else from the params."""
    url = os.environ.get(source.postgres_url_env) or source.postgres_url
    if not url:
        raise EngineError(
            f"accounts.engine is postgres but no URL is given: set the environment variable "
            f"{source.postgres_url_env} (e.g. postgresql://user@host:5432/db) or accounts.postgres_url."
        )
    return url


@contextlib.contextmanager
def open_database(source: AccountsSource) -> Iterator[SQLEngine]:
    """The database of an ``accounts:`` params section as an engine: a DuckDB file opened
    read-only (a generated file must have been built: :func:`prepare_source`) or a PostgreSQL
    session (temporary tables only). Its ``where`` names it for messages, without password."""
    if source.engine == "postgres":
        url = postgres_url(source)
        if os.environ.get(source.postgres_url_env):
            origin = {"variable": f"${source.postgres_url_env}", "setting": "accounts.postgres_url_env"}
        else:
            origin = {"variable": "accounts.postgres_url"}
        with postgres_url_engine(url, **origin) as engine:
            yield engine
        return
    if source.database_path is None:  # validated params always have it; an unvalidated copy may not
        raise EngineError(
            "accounts.engine is duckdb but accounts.duckdb_path is not set: give your DuckDB file"
        )
    path = resolve(source.database_path)
    if not path.is_file():
        raise EngineError(
            f"DuckDB file not found: {path}. Check accounts.duckdb_path, or use accounts.engine: "
            "synthetic for generated demo data (`python -m rfm_helpers.synthetic.accounts --duckdb "
            "PATH` writes such a file)."
        )
    with duckdb_file_engine(path) as engine:
        yield engine


def run_query(
    engine: SQLEngine,
    sql_file: str | Path,
    params: dict[str, Any] | None = None,
    *,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Run a ``.sql`` file of :data:`SQL_DIALECT` with ``params`` (those it has placeholders
    for) on ``engine`` and return its rows with stable dtypes (:func:`_stable_dtypes`)."""
    path = resolve(sql_file)
    if not path.is_file():
        raise EngineError(f"SQL file not found: {path}. Check accounts.sql_dir in the params file.")
    params = params or {}
    template = {"sql_dir": path.parent, "read": SQL_DIALECT}
    try:
        names = placeholders(path.stem, **template)
    except sqlglot.errors.SqlglotError as exc:
        said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"Query {path.name} is not valid {SQL_DIALECT} SQL: {said} (fix {path})") from exc
    missing = names - params.keys()
    if missing:
        raise EngineError(f"{path.name} needs parameter(s) {sorted(missing)} that the caller did not give")
    sql = render(path.stem, engine.dialect, **template, **{name: params[name] for name in names})
    try:
        frame = engine.fetch(sql)
    except Exception as exc:
        load_hint = (
            "Load the platform's tables (python -m rfm_helpers.synthetic.accounts builds synthetic ones)"
        )
        raise EngineError(explain_query_error(exc, engine.where, path, load_hint=load_hint)) from exc
    if frame.empty and not allow_empty:
        raise EmptyResultError(
            f"{path.name} returned no rows from {engine.where} (parameters {params}). Check that the "
            "window (accounts.window_start/window_end) covers the data and that the tables are loaded."
        )
    return _stable_dtypes(frame)


def _stable_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes whichever engine produced the frame.

    Timestamps and dates → ``datetime64[us]``; integers (PostgreSQL sends BIGINT sums as
    NUMERIC) → ``int64``; text → ``str``; other numbers → ``float64``.
    """
    out = {}
    for name, column in frame.items():
        values = column.dropna()
        first = values.iloc[0] if len(values) else None
        if pd.api.types.is_datetime64_any_dtype(column) or isinstance(first, dt.date):
            out[name] = pd.to_datetime(column).astype("datetime64[us]")
        elif pd.api.types.is_bool_dtype(column):
            out[name] = column.astype(bool)
        elif isinstance(first, decimal.Decimal) or pd.api.types.is_numeric_dtype(column):
            numbers = pd.to_numeric(column.astype(object).where(column.notna(), None), errors="raise")
            whole = numbers.notna().all() and (numbers.dropna() % 1 == 0).all()
            out[name] = numbers.astype("int64") if whole else numbers.astype("float64")
        else:
            out[name] = column.astype("str").where(column.notna(), None)
    return pd.DataFrame(out, index=range(len(frame)))


# --- the extraction ----------------------------------------------------------------------------


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
    """Run the extraction of an ``accounts:`` params section (see the module docstring).

    Raises ``domain.DomainError`` when a feature is outside its domain (e.g. negative recency
    from an ``as_of`` before the last campaign counted): the table is for publishing.
    """
    extraction = _extract(source)
    domain.check_account_metrics(extraction.accounts, source, extraction.database)
    return extraction


def prepare_source(source: AccountsSource) -> dict[str, str]:
    """Make the database of ``source`` ready to read and say what it is (the manifest's entry).

    ``synthetic``: the tool's generated DuckDB file, built when missing and rebuilt when its
    settings changed (a file there that the tool did not create is refused, untouched);
    ``duckdb``: your file, which must exist (only ever opened read-only); ``postgres``: the
    server, described without credentials. Returns ``path`` and, for generated data,
    ``generated_by``."""
    from rfm_helpers.synthetic.accounts import ensure_database, synthetic_origin

    if source.engine == "postgres":
        return {"path": describe_url(postgres_url(source))}
    if source.engine == "synthetic":
        database = ensure_database(source)
    else:
        database = resolve(source.duckdb_path or "")
        if not database.is_file():
            raise FileNotFoundError(
                f"DuckDB file not found: {database}. Check accounts.duckdb_path (your file, opened "
                "read-only), or set accounts.engine: synthetic for generated demo data."
            )
    info = {"path": display_path(database)}
    origin = synthetic_origin(source)
    if origin:
        info["generated_by"] = origin
    return info


def _extract(source: AccountsSource) -> AccountExtraction:
    """The extraction, unchecked: :func:`compare_methods` only needs which accounts it keeps."""
    prices = load_prices(source.prices, list(source.charged_wa_categories))
    sql_dir = resolve(source.sql_dir)
    prepare_source(source)
    with open_database(source) as engine:
        engine.load_frame("run_prices", prices)
        engine.load_frame("run_channels", pd.DataFrame({"channel": list(source.channels)}))
        if source.method == "document":
            accounts, ledger = _document_method(engine, sql_dir, source)
        else:
            accounts, ledger = _corrected_method(engine, sql_dir, source)
        return AccountExtraction(accounts, ledger, source.method, engine.where)


def _corrected_method(
    engine: SQLEngine, sql_dir: Path, source: AccountsSource
) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = {
        "timezone": source.timezone,
        "window_start": source.window_start,
        "window_end": source.window_end,
    }
    campaigns = run_query(engine, sql_dir / "campaigns.sql", params)
    charged = run_query(engine, sql_dir / "charged_messages.sql", params, allow_empty=True)
    outcomes = run_query(engine, sql_dir / "exclusions.sql", params)
    on_record = run_query(engine, sql_dir / "accounts_on_record.sql")
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
    engine: SQLEngine, sql_dir: Path, source: AccountsSource
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if source.window_start.year != (source.window_end - dt.timedelta(days=1)).year:
        raise ValueError(
            "accounts.method document filters recency by one calendar year: keep window_start and the "
            "window's last day in the same year"
        )
    recency = run_query(
        engine,
        sql_dir / "document_recency.sql",
        {"timezone": source.timezone, "year": source.window_start.year},
    )
    last_second = dt.datetime.combine(source.window_end, dt.time()) - dt.timedelta(seconds=1)
    frequency = run_query(
        engine,
        sql_dir / "document_frequency.sql",
        {"window_start": source.window_start, "window_last_second": last_second},
    )
    charged = run_query(engine, sql_dir / "document_charged.sql")
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
    steps = [  # (item: what amount counts, outcome, amount, accounts)
        ("accounts", "with a finished campaign in the local year (Dataset 1)", len(wide), len(wide)),
        (
            "account rows",
            "rows of (application, name) with WhatsApp traffic (Dataset 3)",
            len(charged),
            len(charged_apps),
        ),
        ("accounts", "campaigns in the UTC window (Dataset 2)", len(frequency), len(frequency)),
        ("accounts", "lost in merge 1 (no WhatsApp traffic or a test account)", lost_merge1, lost_merge1),
        ("accounts", "lost in merge 2 (no campaign in the UTC window)", lost_merge2, lost_merge2),
        (
            "account rows",
            "extra rows from several names per account",
            int(repeated.sum()) - named_twice,
            named_twice,
        ),
        ("account rows", "kept", len(accounts), accounts["application"].nunique()),
    ]
    ledger = pd.DataFrame([(item, "all", *step) for item, *step in steps], columns=LEDGER_COLUMNS)
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
    # A group without any campaigns/revenue has no mix: its row stays 0 everywhere.
    domain.check_shares(shares, what=f"{measure} per {by}", allow_zero_rows=True)
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
    # Unchecked: only its list of accounts is used (the document's recency with the corrected
    # run's as_of can be negative, and is never shown).
    other = _extract(source.model_copy(update={"method": other_method}))
    corrected, document = (run, other) if run.method == "corrected" else (other, run)
    return document_losses(corrected.accounts, document.accounts)


def readable_mix(mix: pd.DataFrame) -> pd.DataFrame:
    """The share columns of :func:`channel_mix`, named for people (``share_wa`` → ``WhatsApp``)."""
    shares = [c for c in mix.columns if c.startswith("share_")]
    return mix[shares].rename(columns={c: CHANNEL_NAMES[c.removeprefix("share_")] for c in shares})


# --- the tables as a page shows them: every number with its unit, headers for people ----------


def _channel_name(channel: str) -> str:
    """``wa+sms`` → ``WhatsApp + SMS``; ``all`` → ``All channels``."""
    if channel == "all":
        return "All channels"
    return " + ".join(CHANNEL_NAMES.get(c, c) for c in channel.split("+"))


def ledger_view(ledger: pd.DataFrame) -> pd.DataFrame:
    """The extraction ledger for a page: ``92,007,710 messages``, ``1,234 campaigns``,
    ``2,003 accounts`` (counts with their unit, :data:`LEDGER_UNITS`; never money, never
    decimals), channels by name, human headers."""
    unknown = sorted(set(ledger["item"]) - set(LEDGER_UNITS))
    if unknown:
        raise ValueError(f"ledger_view: no unit for item(s) {unknown} (LEDGER_UNITS)")
    return pd.DataFrame(
        {
            "What": ledger["item"].str.capitalize(),
            "Channel": ledger["channel"].map(_channel_name),
            "Outcome": ledger["outcome"].str[:1].str.upper() + ledger["outcome"].str[1:],
            "Amount": [
                units.count(amount, LEDGER_UNITS[item])
                for item, amount in zip(ledger["item"], ledger["amount"], strict=True)
            ],
            "Accounts": [units.count(n, "account") for n in ledger["accounts"]],
        }
    )


def losses_view(losses: pd.DataFrame, currency: str) -> pd.DataFrame:
    """:func:`document_losses` for a page: accounts and revenue with their units, shares in %."""
    profiles = [("All channel profiles" if p == "all" else _channel_name(p)) for p in losses.index]
    return pd.DataFrame(
        {
            "Channels used": profiles,
            "Accounts": [units.count(v, "account") for v in losses["accounts"]],
            "Kept by the document's method": [units.count(v, "account") for v in losses["kept_by_document"]],
            "Lost by it": [units.count(v, "account") for v in losses["lost"]],
            "Share lost": [f"{v:.1%}" for v in losses["lost_share"]],
            "Revenue lost": [units.money(v, currency) for v in losses["lost_revenue"]],
        }
    )


def mix_view(mix: pd.DataFrame, group_label: str) -> pd.DataFrame:
    """:func:`channel_mix` for a page: one row per group (``group_label`` heads it), each
    channel's share in %, and the group's accounts."""
    shares = readable_mix(mix)
    out = pd.DataFrame({group_label: [str(g) for g in mix.index]})
    for column in shares.columns:
        out[column] = [f"{v:.1%}" for v in shares[column]]
    out["Accounts"] = [units.count(v, "account") for v in mix["accounts"]]
    return out


def feature_summary(table: pd.DataFrame, features: list[str], currency: str) -> pd.DataFrame:
    """Count, mean, spread and quartiles of each account feature, each in its unit (recency in
    days, campaigns, messages, money in ``currency``), one row per feature."""
    stats = {
        "Mean": table[features].mean(),
        "Standard deviation": table[features].std(),
        "Minimum": table[features].min(),
        "25th percentile": table[features].quantile(0.25),
        "Median": table[features].median(),
        "75th percentile": table[features].quantile(0.75),
        "Maximum": table[features].max(),
    }
    out = pd.DataFrame(
        {
            # Not "Feature": tables.show would read the table as raw per-metric statistics.
            "Account feature": [units.feature_label(f) for f in features],
            "Accounts": [units.count(table[f].notna().sum(), "account") for f in features],
        }
    )
    for name, values in stats.items():
        out[name] = [units.feature_value(f, values[f], currency) for f in features]
    return out


# --- the outlook: activity summaries and the account table as of an earlier date ---------------

SUMMARY_COLUMNS = [
    "customer_id",
    "application",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "active_days",
    "revenue",
]
"""Columns of :func:`activity_summary` (``customer_id`` is the ``application``)."""


@dataclasses.dataclass(frozen=True)
class OutlookExtraction:
    """What the account outlook (``rfm_helpers.analysis.account_outlook``) reads from the
    database, in one session (:func:`extract_outlook`)."""

    summary: pd.DataFrame
    """:func:`activity_summary` over [window_start, as_of): the models' data at ``as_of``."""
    cutoff: dt.date | None = None
    """The backtest's cutoff; None (and the fields below None) without a backtest."""
    accounts_then: pd.DataFrame | None = None
    """The account table as of the cutoff (:func:`cutoff_source`: the run's own extraction
    with the window's end and ``as_of`` moved back to it), ``ACCOUNT_COLUMNS``."""
    summary_then: pd.DataFrame | None = None
    """:func:`activity_summary` over [window_start, cutoff)."""
    holdout_campaigns: pd.DataFrame | None = None
    """``campaigns.sql`` rows of the held-out window [cutoff, as_of) (accounts with a finished
    campaign in it)."""
    holdout_charged: pd.DataFrame | None = None
    """``charged_messages.sql`` rows of [cutoff, as_of) (accounts with charged messages in it)."""
    database: str = ""


def cutoff_source(source: AccountsSource, days: int) -> AccountsSource:
    """``source`` as of ``days`` earlier: ``window_end`` and ``as_of`` moved back by ``days``
    (the window's start stays), so that the same extraction (queries, window rule, recency
    rule, exclusions) gives the account table as it stood then. With ``window_end`` = ``as_of``
    (the shipped params) the window is [window_start, cutoff) and recency counts from the
    cutoff. Raises ``ValueError`` for ``method: document`` (its recency query filters one
    calendar year and its charges cover every date, so it cannot be moved back) and when the
    moved window would be empty."""
    if source.method != "corrected":
        raise ValueError(
            "accounts.method document cannot be moved to an earlier date (its recency query takes one "
            "calendar year and its charged messages every date): the backtest needs method: corrected"
        )
    end = source.window_end - dt.timedelta(days=days)
    if end <= source.window_start:
        raise ValueError(
            f"moving the window [{source.window_start}, {source.window_end}) back {days} days leaves it "
            "empty: lengthen the window or shorten predict.holdout_days"
        )
    return source.model_copy(update={"window_end": end, "as_of": source.as_of - dt.timedelta(days=days)})


def activity_summary(engine: SQLEngine, sql_dir: Path, source: AccountsSource, end: dt.date) -> pd.DataFrame:
    """``activity_summary.sql`` over [``source.window_start``, ``end``): one row per account with
    a finished campaign then, the buy-till-you-die summary of its active days (local days with
    a finished campaign) in days, as ``rfm_helpers.analysis.predictive.rfm_summary`` builds it:
    ``frequency`` (repeat active days), ``recency``, ``T`` (first active day to ``end``),
    ``monetary_value`` (mean charged revenue of the repeat active days), plus ``active_days``
    and ``revenue`` (charged revenue on any day). Columns :data:`SUMMARY_COLUMNS`, sorted by
    account; session tables ``run_prices`` and ``run_channels`` must be loaded."""
    params = {"timezone": source.timezone, "window_start": source.window_start, "window_end": end}
    table = run_query(engine, sql_dir / "activity_summary.sql", params, allow_empty=True)
    if table.empty:
        table = pd.DataFrame({c: pd.Series(dtype="int64") for c in SUMMARY_COLUMNS if c != "customer_id"})
        table["application"] = table["application"].astype("str")
    table = table.rename(columns={"t_end": "T"})
    table["customer_id"] = table["application"]
    table["monetary_value"] = table["monetary_value"].astype("float64")
    return table[SUMMARY_COLUMNS].sort_values("customer_id", ignore_index=True)


def extract_outlook(source: AccountsSource, cutoff_days: int | None) -> OutlookExtraction:
    """Everything the account outlook reads, in one database session: :func:`activity_summary`
    over [window_start, as_of) and, when ``cutoff_days`` is given, the backtest: the account
    table as of ``as_of - cutoff_days`` (:func:`cutoff_source`, checked against its domain like
    the run's table), its activity summary, and the campaigns and charged messages of the
    held-out window [cutoff, as_of)."""
    prices = load_prices(source.prices, list(source.charged_wa_categories))
    sql_dir = resolve(source.sql_dir)
    then_source = cutoff_source(source, cutoff_days) if cutoff_days is not None else None
    prepare_source(source)
    with open_database(source) as engine:
        engine.load_frame("run_prices", prices)
        engine.load_frame("run_channels", pd.DataFrame({"channel": list(source.channels)}))
        summary = activity_summary(engine, sql_dir, source, source.as_of)
        if then_source is None:
            return OutlookExtraction(summary=summary, database=engine.where)
        cutoff = then_source.as_of
        then = {
            "timezone": source.timezone,
            "window_start": source.window_start,
            "window_end": then_source.window_end,
        }
        accounts_then = build_accounts(  # the steps of _corrected_method, without its ledger
            run_query(engine, sql_dir / "campaigns.sql", then, allow_empty=True),
            run_query(engine, sql_dir / "charged_messages.sql", then, allow_empty=True),
            cutoff,
        )
        domain.check_account_metrics(accounts_then, then_source, engine.where)
        window = {"timezone": source.timezone, "window_start": cutoff, "window_end": source.as_of}
        return OutlookExtraction(
            summary=summary,
            cutoff=cutoff,
            accounts_then=accounts_then,
            summary_then=activity_summary(engine, sql_dir, source, cutoff),
            holdout_campaigns=run_query(engine, sql_dir / "campaigns.sql", window, allow_empty=True),
            holdout_charged=run_query(engine, sql_dir / "charged_messages.sql", window, allow_empty=True),
            database=engine.where,
        )
