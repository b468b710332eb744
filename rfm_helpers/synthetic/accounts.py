"""Deterministic synthetic data for the omnichannel (messaging platform) account RFM.

The platform's database is private, so this module generates tables with the schema the
source document's queries use (schemas ``raw`` and ``mart``) and realistic quirks the
extraction must handle:

* heavy tails: campaigns per account and recipients per campaign are log-normal, so a few
  accounts send millions of messages and most send a few hundred;
* kinds of accounts (``PROFILES``): a handful of enterprise bulk senders, a handful of
  automation accounts running thousands of small campaigns, regular accounts, and accounts that
  churned; calibrated so that the source document's method on this data gives four clusters
  close to the ones it publishes (``data/reference/omnichannel_document_clusters.csv``, compared
  in the extraction report and by ``tests/test_synthetic_accounts.py``);
* accounts on one or two channels only, including SMS-only and email-only accounts (the
  document's LEFT JOIN from WhatsApp drops them);
* a dormant tail (accounts that stopped before or during the window) and new accounts;
* test/demo accounts listed in ``raw.master_testing_demo_account``, with real-looking activity;
* statuses other than ``finish`` (failed, cancelled, scheduled, processing);
* ``created_at`` stored as UTC without time zone, many campaigns scheduled after local midnight
  (UTC 17:00-23:59 is the next day in Asia/Jakarta), plus campaigns placed on the window's and
  the year's boundaries so that the UTC → local conversion moves them across;
* events before and after the analysis window (data spans ``first_day`` .. ``last_day``, the
  day the data were exported, before the day the document ran its notebook);
* WhatsApp numbers of one account registered under another client name (the document groups by
  name and duplicates accounts), and SMS/email names written differently from the WhatsApp one.

Marts are derived from the finished broadcasts (delivered messages per account and local day),
plus WhatsApp service/authentication traffic that does not come from broadcasts.

``ensure_database`` builds the DuckDB file of ``accounts.engine: synthetic`` (in
``data/synthetic/`` below the output root) when it is missing or was built with other settings,
so the report runs offline on a fresh clone.

**Ownership.** The tool never modifies a file it did not create. Every DuckDB file written here
carries a marker: table ``meta.generator_settings`` with ``TOOL_SIGNATURE`` and the generator
settings. A file is rebuilt only when it carries that marker; an existing file without it, or
one that cannot be read (corrupt, another DuckDB version), is left byte-for-byte untouched and
the write is refused with :class:`NotOwnedError`. Users' own files (``engine: duckdb``) are only
ever opened read-only.

CLI: ``python -m rfm_helpers.synthetic.accounts --accounts N --seed S --duckdb PATH``
(or ``--postgres-url URL``); it refuses, with exit code 2, to overwrite a file without the marker.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import json
import sys
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rfm_helpers.atomic import atomic_path
from rfm_helpers.config import AccountsSource
from rfm_helpers.paths import resolve

GENERATOR_VERSION = 2
"""Bump when the generator's output changes, so existing DuckDB files are rebuilt."""
PLATFORM_TZ = "Asia/Jakarta"
"""The platform's local time zone: marts are bucketed by local day, campaigns follow local hours."""

CHANNEL_TABLES = {
    "wa": "raw.whatsappbroadcasts",
    "sms": "raw.smsbroadcasts",
    "email": "raw.emailbroadcasts",
    "call": "raw.broadcastcalls",
}
BROADCAST_COLUMNS = {
    "_id": "TEXT",
    "application": "TEXT",
    "name": "TEXT",
    "status": "TEXT",
    "created_at": "TIMESTAMP",
    "total_recipients": "BIGINT",
}
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "raw.whatsappbroadcasts": {**BROADCAST_COLUMNS, "wabanumber": "TEXT", "category": "TEXT"},
    "raw.smsbroadcasts": {**BROADCAST_COLUMNS, "sender_id": "TEXT"},
    "raw.emailbroadcasts": {**BROADCAST_COLUMNS, "subject": "TEXT"},
    "raw.broadcastcalls": dict(BROADCAST_COLUMNS),
    "mart.wa_blast_transaction_aggregate": {
        "application": "TEXT",
        "client_name": "TEXT",
        "wabanumber": "TEXT",
        "transaction_date": "DATE",
        "marketing": "BIGINT",
        "utility": "BIGINT",
        "service": "BIGINT",
        "authentication": "BIGINT",
    },
    "mart.sms_blast_transaction_aggregate": {
        "application": "TEXT",
        "full_name": "TEXT",
        "transaction_date": "DATE",
        "total_sms": "BIGINT",
    },
    "mart.email_blast_transaction_aggregate": {
        "application": "TEXT",
        "full_name": "TEXT",
        "transaction_date": "DATE",
        "total": "BIGINT",
    },
    "raw.master_testing_demo_account": {"application": "TEXT", "label": "TEXT"},
}
"""Every table and its columns, in the SQL types both DuckDB and PostgreSQL accept."""
METADATA_TABLE = "meta.generator_settings"
"""The marker table: one row (tool, settings) in every DuckDB file this module writes."""
TOOL_SIGNATURE = "rfm-helpers synthetic_accounts: generated demo data, safe to rebuild"
"""The marker's ``tool`` value: the proof that a file is the tool's own and may be rebuilt."""

# Channel combinations and their shares among ordinary accounts: most use WhatsApp, a fifth
# use no WhatsApp at all (the accounts the document's LEFT JOIN from WhatsApp loses).
CHANNEL_MIXES = [
    (("wa",), 0.32),
    (("wa", "sms"), 0.15),
    (("wa", "email"), 0.09),
    (("wa", "sms", "email"), 0.10),
    (("wa", "call"), 0.06),
    (("wa", "sms", "email", "call"), 0.04),
    (("sms",), 0.09),
    (("email",), 0.07),
    (("sms", "email"), 0.04),
    (("sms", "call"), 0.02),
    (("call",), 0.02),
]
STATUSES = (["finish", "failed", "cancelled", "scheduled", "processing"], [0.86, 0.05, 0.04, 0.03, 0.02])
NAME_PREFIXES = ["PT", "PT", "PT", "CV", "Toko", "Koperasi", "Klinik", "Yayasan"]
NAME_WORDS = [
    *("Sinar", "Jaya", "Abadi", "Makmur", "Sentosa", "Mandiri", "Bumi", "Nusantara", "Cahaya", "Mitra"),
    *("Karya", "Sejahtera", "Maju", "Prima", "Global", "Digital", "Teknologi", "Indo", "Raya", "Utama"),
    *("Berkah", "Gemilang", "Lestari", "Harapan", "Sukses", "Bintang", "Samudra", "Mulia", "Kencana"),
    *("Permata", "Surya", "Agung", "Persada", "Cipta", "Solusi", "Media", "Niaga", "Sehat", "Pangan"),
]


@dataclasses.dataclass(frozen=True)
class AccountProfile:
    """A kind of account on the platform.

    Per account, campaigns per year (on each of its channels: WhatsApp, or its first channel,
    at this rate, every other channel at half of it) and recipients per campaign are
    log-normal: ``(median, sigma of the logarithm)``. Each campaign's recipients vary around
    the account's with a log-normal sigma of 0.5.
    """

    name: str
    share: float
    """Share of all accounts (at least one account each; the last profile takes the rest)."""
    campaigns_per_year: tuple[float, float]
    recipients: tuple[float, float]
    marketing: float
    """Share of its WhatsApp campaigns in the marketing category (the rest: utility)."""
    mixes: tuple[tuple[tuple[str, ...], float], ...] = tuple(CHANNEL_MIXES)
    """Channel combinations and their shares."""
    joins: float = 0.25
    """Share that joined during the data span (the others are there from its first day)."""
    stops: float = 0.0
    """Share that stopped during the span, on a day drawn uniformly in ``stop_between``
    (fractions of the span; at least 30 days after joining)."""
    stop_between: tuple[float, float] = (0.0, 1.0)


PROFILES = (
    # Bulk marketing senders: ~3 large WhatsApp campaigns a day, thousands of recipients each.
    AccountProfile(
        "enterprise",
        0.002,
        campaigns_per_year=(1000, 0.2),
        recipients=(2400, 0.25),
        marketing=0.97,
        mixes=((("wa",), 0.6), (("wa", "sms"), 0.4)),
        joins=0.0,
    ),
    # Automated notifications: thousands of small (mostly utility) campaigns; some of them
    # moved to the API a few weeks before the export.
    AccountProfile(
        "automation",
        0.004,
        campaigns_per_year=(1500, 0.3),
        recipients=(120, 0.4),
        marketing=0.2,
        mixes=((("wa", "email"), 0.6), (("wa", "sms", "email"), 0.4)),
        joins=0.0,
        stops=0.4,
        stop_between=(0.9, 0.97),
    ),
    # Small accounts that tried the platform and left (with the default dates: between
    # September 2023 and August 2024).
    AccountProfile(
        "churned",
        0.30,
        campaigns_per_year=(20, 0.7),
        recipients=(80, 0.8),
        marketing=0.75,
        joins=0.4,
        stops=1.0,
        stop_between=(0.15, 0.75),
    ),
    # Everyone else; some stopped in the last months before the export.
    AccountProfile(
        "regular",
        0.694,
        campaigns_per_year=(55, 1.0),
        recipients=(350, 0.9),
        marketing=0.75,
        stops=0.4,
        stop_between=(0.75, 0.97),
    ),
)
"""The kinds of accounts; their parameters are calibrated (see the module docstring)."""


@dataclasses.dataclass(frozen=True)
class GeneratorSettings:
    """Everything the generated data depends on (stored in the DuckDB file's metadata)."""

    n_accounts: int = 3000
    seed: int = 20241216
    first_day: dt.date = dt.date(2023, 7, 1)
    """First local day with data (before the default window, for "outside the window" events)."""
    last_day: dt.date = dt.date(2024, 12, 22)
    """First local day without data (the day of the export). Nothing is dated later, except a
    campaign still scheduled; the most active accounts' last campaigns are about ten days before
    the document method's ``as_of`` (2025-01-01), like the document's Top Performers (10.5 days)."""
    test_list_has_null: bool = False
    """Put a NULL in raw.master_testing_demo_account (the document's NOT IN then returns nothing)."""

    def as_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "version": GENERATOR_VERSION}, default=str)


def generate(settings: GeneratorSettings = GeneratorSettings()) -> dict[str, pd.DataFrame]:
    """All tables, keyed ``"schema.table"``; the same settings always give the same frames."""
    if settings.n_accounts < 20:
        raise ValueError(f"n_accounts must be at least 20 (got {settings.n_accounts})")
    rng = np.random.default_rng(settings.seed)
    accounts = _accounts(rng, settings)
    broadcasts = {ch: _broadcasts(rng, settings, accounts, ch) for ch in CHANNEL_TABLES}
    boundary = _boundary_campaigns(rng, settings, accounts)
    broadcasts["wa"] = pd.concat([broadcasts["wa"], boundary], ignore_index=True)
    tables = {
        CHANNEL_TABLES[ch]: frame.sort_values("created_at", kind="stable") for ch, frame in broadcasts.items()
    }
    tables.update(_marts(rng, settings, accounts, broadcasts))
    tables["raw.master_testing_demo_account"] = _test_list(rng, accounts, settings.test_list_has_null)
    return {name: tables[name].reset_index(drop=True)[list(cols)] for name, cols in TABLE_COLUMNS.items()}


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mongo ObjectId-like ids: 24 hex digits of 96 random bits (a repeat is ~1e-16 likely)."""
    return np.frombuffer(rng.bytes(12 * n).hex().encode("ascii"), dtype="S24").astype(str)


def profile_counts(n_accounts: int) -> list[int]:
    """Accounts per profile of ``PROFILES``: the share rounded (at least one), the last the rest."""
    counts = [max(1, round(p.share * n_accounts)) for p in PROFILES[:-1]]
    return [*counts, n_accounts - sum(counts)]


def _accounts(rng: np.random.Generator, s: GeneratorSettings) -> pd.DataFrame:
    n = s.n_accounts
    span_days = (s.last_day - s.first_day).days
    kind = rng.permutation(np.repeat(np.arange(len(PROFILES)), profile_counts(n)))

    def per_account(attribute: str) -> np.ndarray:
        return np.array([getattr(p, attribute) for p in PROFILES])[kind]

    # Test/demo accounts look like small real ones (regular or churned), never the big senders.
    small = np.flatnonzero(np.isin(per_account("name"), ["regular", "churned"]))
    is_test = np.zeros(n, dtype=bool)
    is_test[rng.choice(small, min(len(small), max(3, n // 50)), replace=False)] = True
    channels: list[tuple[str, ...]] = [()] * n
    for index, profile in enumerate(PROFILES):
        members = np.flatnonzero(kind == index)
        picks = rng.choice(len(profile.mixes), size=len(members), p=[share for _, share in profile.mixes])
        for member, pick in zip(members, picks, strict=True):
            channels[member] = profile.mixes[pick][0]
    names = [
        " ".join([rng.choice(NAME_PREFIXES), *rng.choice(NAME_WORDS, size=rng.integers(2, 4), replace=False)])
        for _ in range(n)
    ]
    names = [f"Demo {name}" if test else name for name, test in zip(names, is_test, strict=True)]
    start = np.where(rng.random(n) < per_account("joins"), rng.integers(0, span_days - 30, n), 0)
    low, high = (np.array([p.stop_between[i] for p in PROFILES])[kind] * span_days for i in (0, 1))
    stops = rng.random(n) < per_account("stops")
    stop = np.where(stops, np.maximum(start + 30, rng.uniform(low, high).astype(np.int64)), span_days)
    stop = np.minimum(stop, span_days)
    campaigns = np.array([p.campaigns_per_year for p in PROFILES])[kind]
    recipients = np.array([p.recipients for p in PROFILES])[kind]
    return pd.DataFrame(
        {
            "application": _hex_ids(rng, n),
            "full_name": names,
            "profile": per_account("name"),
            "is_test": is_test,
            "channels": channels,
            # Heavy tails: campaigns per year and recipients per campaign are log-normal.
            "campaigns_per_year": np.clip(rng.lognormal(np.log(campaigns[:, 0]), campaigns[:, 1]), 1, 5000),
            "recipients": np.clip(rng.lognormal(np.log(recipients[:, 0]), recipients[:, 1]), 5, 50_000),
            "marketing": per_account("marketing"),
            "start_day": start,
            "stop_day": stop,
            "n_numbers": rng.choice([1, 1, 1, 2, 2, 3], size=n),
            "renamed_number": rng.random(n) < 0.04,
            "sms_name_variant": rng.random(n) < 0.08,
            "api_traffic": rng.random(n) < 0.30,
        }
    )


def _uses(accounts: pd.DataFrame, channel: str) -> np.ndarray:
    return np.array([channel in mix for mix in accounts["channels"]], dtype=bool)


def _local_to_utc(local: pd.Series) -> pd.Series:
    return (
        local.dt.tz_localize(PLATFORM_TZ).dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    )


def _broadcasts(
    rng: np.random.Generator, s: GeneratorSettings, accounts: pd.DataFrame, channel: str
) -> pd.DataFrame:
    users = accounts[_uses(accounts, channel)]
    # An account's first channel (WhatsApp if it uses it) carries its rate, the others half.
    share = np.where([mix[0] == channel for mix in users["channels"]], 1.0, 0.5)
    years = (users["stop_day"] - users["start_day"]) / 365.25
    counts = rng.poisson(users["campaigns_per_year"].to_numpy() * years.to_numpy() * share)
    owner = np.repeat(np.arange(len(users)), counts)
    n = len(owner)
    day = users["start_day"].to_numpy()[owner] + rng.random(n) * (
        users["stop_day"].to_numpy()[owner] - users["start_day"].to_numpy()[owner]
    )
    # Local send times: office hours mostly, 12% scheduled after local midnight (still the
    # previous day in UTC).
    night = rng.random(n) < 0.12
    hour = np.where(night, rng.uniform(0, 7, n), rng.uniform(7.5, 21, n))
    local = (
        pd.Timestamp(s.first_day) + pd.to_timedelta(np.floor(day), unit="D") + pd.to_timedelta(hour, unit="h")
    )
    local = pd.Series(local.floor("s"))
    frame = pd.DataFrame(
        {
            "_id": _hex_ids(rng, n),
            "application": users["application"].to_numpy()[owner],
            "name": np.char.add(f"{channel.upper()} campaign ", rng.integers(1, 500, n).astype(str)),
            "status": rng.choice(STATUSES[0], size=n, p=STATUSES[1]),
            "created_at": _local_to_utc(local),
            "total_recipients": np.maximum(
                1, rng.lognormal(np.log(users["recipients"].to_numpy()[owner]), 0.5)
            ).astype(np.int64),
        }
    )
    if channel == "wa":
        number = rng.integers(0, users["n_numbers"].to_numpy()[owner])
        frame["wabanumber"] = _wabanumbers(users["application"].to_numpy()[owner], number)
        marketing = rng.random(n) < users["marketing"].to_numpy()[owner]
        frame["category"] = np.where(marketing, "marketing", "utility")
    elif channel == "sms":
        frame["sender_id"] = [f"SENDER{k:03d}" for k in rng.integers(1, 400, n)]
    elif channel == "email":
        frame["subject"] = rng.choice(["Promo", "Newsletter", "Invoice reminder", "Event invitation"], size=n)
    return frame


def _wabanumbers(applications: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Phone number ``number`` (0, 1, 2) of each account: derived from the id, so stable."""
    return np.array(
        [f"628{int(app[:8], 16) % 10**9:09d}{k}" for app, k in zip(applications, number, strict=True)]
    )


def _boundary_campaigns(
    rng: np.random.Generator, s: GeneratorSettings, accounts: pd.DataFrame
) -> pd.DataFrame:
    """WhatsApp campaigns at UTC times whose local (UTC+7) day or year differs, for accounts
    active on those days.

    2023-12-31 18:30 UTC is 2024-01-01 01:30 local (inside the local window, outside the UTC one);
    2024-11-30 19:00 UTC is 2024-12-01 02:00 local (outside the local window, inside the UTC one);
    2024-12-31 20:00 UTC is 2025-01-01 03:00 local (another year locally): a New Year campaign
    still ``scheduled`` when the data were exported (finished if it lies before ``last_day``).
    """
    moments = pd.to_datetime(["2023-12-31 18:30:00", "2024-11-30 19:00:00", "2024-12-31 20:00:00"])
    local_days = ((moments + pd.Timedelta(hours=7)).normalize() - pd.Timestamp(s.first_day)).days
    active = (accounts["start_day"] <= local_days[0]) & (accounts["stop_day"] > local_days[1])
    users = accounts[~accounts["is_test"] & _uses(accounts, "wa") & active]
    picked = users.sample(n=min(len(users), max(6, len(accounts) // 100)), random_state=rng.integers(2**31))
    rows = [(app, moment) for app in picked["application"] for moment in moments]
    n = len(rows)
    apps = np.array([app for app, _ in rows])
    created = pd.Series([m for _, m in rows]).astype("datetime64[us]")
    exported = pd.Timestamp(s.last_day) - pd.Timedelta(hours=7)  # last_day 00:00 local, in UTC
    return pd.DataFrame(
        {
            "_id": _hex_ids(rng, n),
            "application": apps,
            "name": "WA campaign midnight",
            "status": np.where(created < exported, "finish", "scheduled"),
            "created_at": created,
            "total_recipients": rng.integers(50, 5000, n),
            "wabanumber": _wabanumbers(apps, np.zeros(n, dtype=int)),
            "category": "marketing",
        }
    )


def _local_day(utc: pd.Series) -> pd.Series:
    local = utc.dt.tz_localize("UTC").dt.tz_convert(PLATFORM_TZ).dt.tz_localize(None)
    return local.dt.normalize().astype("datetime64[s]").dt.date


def _delivered(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    done = frame[frame["status"] == "finish"].copy()
    done["messages"] = rng.binomial(done["total_recipients"].to_numpy(), 0.93)
    done["transaction_date"] = _local_day(done["created_at"])
    return done


def _marts(
    rng: np.random.Generator,
    s: GeneratorSettings,
    accounts: pd.DataFrame,
    broadcasts: dict[str, pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    names = accounts.set_index("application")["full_name"]
    wa = _delivered(rng, broadcasts["wa"])
    wa = wa.pivot_table(
        index=["application", "wabanumber", "transaction_date"],
        columns="category",
        values="messages",
        aggfunc="sum",
        fill_value=0,
    ).reset_index()
    wa = pd.concat([wa, _api_traffic(rng, s, accounts)], ignore_index=True)
    wa = wa.groupby(["application", "wabanumber", "transaction_date"], as_index=False).sum()
    for category in ["marketing", "utility", "service", "authentication"]:
        wa[category] = wa[category].fillna(0).astype(np.int64) if category in wa else np.int64(0)
    # Some accounts registered one WhatsApp number under another (brand) name.
    renamed = accounts.set_index("application")["renamed_number"]
    wa["client_name"] = names.reindex(wa["application"]).to_numpy()
    second = renamed.reindex(wa["application"]).to_numpy() & wa["wabanumber"].str.endswith("1").to_numpy()
    wa.loc[second, "client_name"] = wa.loc[second, "client_name"].str.split().str[-1] + " Official"

    # SMS/email systems store some names differently ("PT. X" for "PT X", upper case).
    variant = accounts.set_index("application")["sms_name_variant"]

    def other_system_names(apps: pd.Series) -> np.ndarray:
        plain = names.reindex(apps).to_numpy()
        return np.where(variant.reindex(apps).to_numpy(), np.char.upper(plain.astype(str)), plain)

    sms = _delivered(rng, broadcasts["sms"]).groupby(["application", "transaction_date"], as_index=False)[
        "messages"
    ]
    sms = sms.sum().rename(columns={"messages": "total_sms"})
    sms["full_name"] = other_system_names(sms["application"])
    email = _delivered(rng, broadcasts["email"]).groupby(["application", "transaction_date"], as_index=False)
    email = email["messages"].sum().rename(columns={"messages": "total"})
    email["full_name"] = other_system_names(email["application"])
    return {
        "mart.wa_blast_transaction_aggregate": wa.sort_values(
            ["transaction_date", "application", "wabanumber"]
        ),
        "mart.sms_blast_transaction_aggregate": sms.sort_values(["transaction_date", "application"]),
        "mart.email_blast_transaction_aggregate": email.sort_values(["transaction_date", "application"]),
    }


def _api_traffic(rng: np.random.Generator, s: GeneratorSettings, accounts: pd.DataFrame) -> pd.DataFrame:
    """WhatsApp service and authentication messages (API traffic, not broadcasts) per local day."""
    users = accounts[accounts["api_traffic"] & _uses(accounts, "wa")]
    days_active = rng.poisson(np.clip((users["stop_day"] - users["start_day"]).to_numpy() / 7, 1, None))
    owner = np.repeat(np.arange(len(users)), days_active)
    day = users["start_day"].to_numpy()[owner] + rng.integers(
        0, np.maximum(1, users["stop_day"].to_numpy()[owner] - users["start_day"].to_numpy()[owner])
    )
    scale = users["recipients"].to_numpy()[owner] / 10
    apps = users["application"].to_numpy()[owner]
    return pd.DataFrame(
        {
            "application": apps,
            "wabanumber": _wabanumbers(apps, np.zeros(len(apps), dtype=int)),
            "transaction_date": [s.first_day + dt.timedelta(days=int(d)) for d in day],
            "service": rng.poisson(scale),
            "authentication": rng.poisson(scale / 2),
        }
    )


def _test_list(rng: np.random.Generator, accounts: pd.DataFrame, with_null: bool) -> pd.DataFrame:
    tests = accounts.loc[accounts["is_test"], "application"].tolist()
    retired = list(_hex_ids(rng, 5))  # test accounts with no activity left
    frame = pd.DataFrame(
        {
            "application": tests + retired,
            "label": ["testing", "demo"] * (len(tests) // 2)
            + ["demo"] * (len(tests) % 2)
            + ["retired test"] * len(retired),
        }
    )
    if with_null:
        frame = pd.concat([frame, pd.DataFrame({"application": [None], "label": ["imported without id"]})])
    return frame


# --- writing ------------------------------------------------------------------------------------


def create_table_sql(table: str) -> str:
    columns = ", ".join(f'"{col}" {sql_type}' for col, sql_type in TABLE_COLUMNS[table].items())
    return f"CREATE TABLE {table} ({columns})"


class NotOwnedError(ValueError):
    """A file the tool was asked to (re)write exists but is not the tool's (no marker, or
    unreadable); it is left untouched. The message names the file and what to do."""


@dataclasses.dataclass(frozen=True)
class Ownership:
    """Who a path belongs to, as far as its content tells (see the module docstring)."""

    state: Literal["missing", "owned", "foreign", "unreadable"]
    settings: str | None = None
    """Generator settings recorded in an owned file (``""``: tables supplied by the caller;
    ``None``: a marker of the first version, without signature, so the file is rebuilt)."""
    detail: str = ""
    """Why the file is foreign or unreadable, for messages."""


_LEGACY_KEYS = frozenset({"n_accounts", "seed", "first_day", "last_day", "test_list_has_null", "version"})
"""The settings JSON of generator version 1, the only one written without the signature."""


def _legacy_settings(text: object) -> bool:
    """A marker written before the signature existed: exactly version 1's settings JSON."""
    try:
        recorded = json.loads(str(text))
    except ValueError:
        return False
    return isinstance(recorded, dict) and set(recorded) == _LEGACY_KEYS and recorded["version"] == 1


def inspect_file(path: str | Path) -> Ownership:
    """Whether ``path`` is missing, a DuckDB file this module wrote, or anything else.

    The file is opened read-only (never modified); any failure to read it counts as
    ``unreadable``, never as "safe to replace".
    """
    import duckdb

    path = resolve(path)
    if not path.exists():
        return Ownership("missing")
    if not path.is_file():
        return Ownership("foreign", detail="it is not a file")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return Ownership("unreadable", detail=str(exc).splitlines()[0])
    try:
        rows = con.execute(f"SELECT * FROM {METADATA_TABLE}").fetchall()
        columns = [column[0] for column in con.description]
    except duckdb.CatalogException:
        return Ownership("foreign", detail=f"it has no table {METADATA_TABLE}")
    except duckdb.Error as exc:
        return Ownership("unreadable", detail=str(exc).splitlines()[0])
    finally:
        con.close()
    if columns == ["tool", "settings"] and len(rows) == 1 and rows[0][0] == TOOL_SIGNATURE:
        return Ownership("owned", settings=rows[0][1] or "")
    if columns == ["settings"] and len(rows) == 1 and _legacy_settings(rows[0][0]):
        return Ownership("owned")
    return Ownership("foreign", detail=f"its table {METADATA_TABLE} does not carry this tool's signature")


def _refusal(path: Path, ownership: Ownership, remedy: str) -> str:
    """Why ``path`` is not written, and what to do instead."""
    if ownership.state == "unreadable":
        why = (
            f"cannot be read as a DuckDB database ({ownership.detail}), so nothing tells that this tool "
            "created it. If it is a generated file that got damaged, delete it yourself and rerun"
        )
    else:
        why = f"was not created by this tool ({ownership.detail})"
    return f"{path} {why}. It is left untouched: the tool never overwrites a file it did not create. {remedy}"


def write_duckdb(tables: dict[str, pd.DataFrame], target: str | Path, settings_json: str = "") -> Path:
    """Write the tables and the marker into a DuckDB file, atomically (temporary name, then rename).

    An existing ``target`` is replaced only if this module wrote it (:func:`inspect_file`);
    otherwise :class:`NotOwnedError` is raised and the file is not touched.
    """
    import duckdb

    target = resolve(target)
    ownership = inspect_file(target)
    if ownership.state in ("foreign", "unreadable"):
        raise NotOwnedError(_refusal(target, ownership, "Write the generated data to another path."))
    with atomic_path(target) as tmp:
        tmp.unlink()  # DuckDB creates the file itself (an empty file is not a database)
        con = duckdb.connect(str(tmp))
        try:
            con.execute("CREATE SCHEMA raw; CREATE SCHEMA mart; CREATE SCHEMA meta")
            for table, frame in tables.items():
                con.execute(create_table_sql(table))
                con.register("incoming", frame)
                con.execute(f"INSERT INTO {table} SELECT {', '.join(_quoted(frame))} FROM incoming")
                con.unregister("incoming")
            con.execute(f"CREATE TABLE {METADATA_TABLE} (tool TEXT, settings TEXT)")
            con.execute(f"INSERT INTO {METADATA_TABLE} VALUES (?, ?)", [TOOL_SIGNATURE, settings_json])
        finally:
            con.close()
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target


def _quoted(frame: pd.DataFrame) -> list[str]:
    return [f'"{col}"' for col in frame.columns]


def write_postgres(tables: dict[str, pd.DataFrame], url: str, settings_json: str = "") -> None:
    """Load the tables into schemas raw/mart of a PostgreSQL database with COPY, in one transaction.

    Existing tables of the same names are replaced only if this module created them (the marker
    table ``meta.generator_settings`` carries :data:`TOOL_SIGNATURE`); otherwise
    :class:`NotOwnedError` is raised before anything is written.
    """
    import psycopg

    from rfm_helpers.sql.engines import describe_url

    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema || '.' || table_name = ANY(%s)",
            [[*tables, METADATA_TABLE]],
        )
        existing = {row[0] for row in cur.fetchall()}
        owned = False
        if METADATA_TABLE in existing:
            cur.execute(f"SELECT tool FROM {METADATA_TABLE}")
            owned = [row[0] for row in cur.fetchall()] == [TOOL_SIGNATURE]
        foreign = sorted(existing - {METADATA_TABLE})
        if foreign and not owned:
            raise NotOwnedError(
                f"{describe_url(url)} already has tables {', '.join(foreign)} that this tool did not "
                f"create (no {METADATA_TABLE} with its signature). They are left untouched: the tool never "
                "overwrites data it did not create. Load the generated data into another database."
            )
        cur.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS mart")
        cur.execute("CREATE SCHEMA IF NOT EXISTS meta")
        for table, frame in tables.items():
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(create_table_sql(table))
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
            with cur.copy(f"COPY {table} ({', '.join(_quoted(frame))}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            cur.execute(f"ANALYZE {table}")
        cur.execute(f"DROP TABLE IF EXISTS {METADATA_TABLE}")
        cur.execute(f"CREATE TABLE {METADATA_TABLE} (tool TEXT, settings TEXT)")
        cur.execute(f"INSERT INTO {METADATA_TABLE} VALUES (%s, %s)", [TOOL_SIGNATURE, settings_json])


def recorded_settings(path: Path) -> str | None:
    """The generator settings recorded in a DuckDB file this module wrote, else None (missing,
    not the tool's, unreadable, or written before the marker had a signature)."""
    return inspect_file(path).settings


def _origin(n_accounts: int, seed: int) -> str:
    return f"rfm_helpers.synthetic.accounts ({n_accounts:,} accounts, seed {seed})"


def describe_origin(path: str | Path) -> str | None:
    """What generated a file this module wrote, e.g. ``rfm_helpers.synthetic.accounts (3,000
    accounts, seed 7)``; None for any other file (a read-only look at its marker)."""
    ownership = inspect_file(path)
    if ownership.state != "owned":
        return None
    try:
        recorded = json.loads(ownership.settings or "")
        return _origin(int(recorded["n_accounts"]), int(recorded["seed"]))
    except (ValueError, KeyError, TypeError):  # tables supplied by the caller, or a first-version marker
        return "rfm_helpers.synthetic.accounts"


def synthetic_origin(source: AccountsSource) -> str | None:
    """What generated the data of ``source``, or None when it is not known to be synthetic.

    ``engine: synthetic`` always is; a file given with ``engine: duckdb`` is when it carries this
    module's marker (e.g. built with the CLI); a PostgreSQL server cannot be told apart.
    """
    if source.synthetic is not None:
        return _origin(source.synthetic.accounts, source.synthetic.seed)
    if source.database_path is not None:
        return describe_origin(source.database_path)
    return None


def ensure_database(source: AccountsSource) -> Path:
    """The generated DuckDB file of ``source`` (``engine: synthetic``), built when missing and
    rebuilt when it was built with other settings, only if this module created it.

    Raises :class:`NotOwnedError` (file left untouched) when the path holds a file without the
    marker or one that cannot be read.
    """
    if source.synthetic is None or source.synthetic_path is None:
        raise ValueError(f"accounts.engine is {source.engine}: only engine: synthetic generates data")
    path = source.synthetic_path
    settings = GeneratorSettings(n_accounts=source.synthetic.accounts, seed=source.synthetic.seed)
    ownership = inspect_file(path)
    if ownership.state in ("foreign", "unreadable"):
        raise NotOwnedError(
            _refusal(
                path,
                ownership,
                "Move or rename that file, or set accounts.synthetic.file to another name for the "
                "generated data; to analyse the file itself, set accounts.engine: duckdb and "
                f"accounts.duckdb_path: {path} (opened read-only).",
            )
        )
    if ownership.settings != settings.as_json():
        write_duckdb(generate(settings), path, settings.as_json())
    return path


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the module docstring); returns the exit code: 2 when the target is refused."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=GeneratorSettings.n_accounts)
    parser.add_argument("--seed", type=int, default=GeneratorSettings.seed)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--duckdb", type=Path, help="DuckDB file to write (replaced only if the tool wrote it)"
    )
    target.add_argument(
        "--postgres-url", help="PostgreSQL URL (tables replaced only if the tool created them)"
    )
    args = parser.parse_args(argv)
    if args.duckdb:
        # Checked before generating: a refusal should not cost the generation's seconds.
        ownership = inspect_file(args.duckdb)
        if ownership.state in ("foreign", "unreadable"):
            print(_refusal(resolve(args.duckdb), ownership, "Choose another --duckdb path."), file=sys.stderr)
            return 2
    settings = GeneratorSettings(n_accounts=args.accounts, seed=args.seed)
    started = time.perf_counter()
    tables = generate(settings)
    generated = time.perf_counter()
    if args.duckdb:
        try:
            write_duckdb(tables, args.duckdb, settings.as_json())
        except NotOwnedError as exc:  # appeared while generating
            print(exc, file=sys.stderr)
            return 2
    else:
        try:
            write_postgres(tables, args.postgres_url, settings.as_json())
        except NotOwnedError as exc:
            print(exc, file=sys.stderr)
            return 2
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items())
    written = time.perf_counter() - generated
    print(f"Generated in {generated - started:.1f} s, written in {written:.1f} s: {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
