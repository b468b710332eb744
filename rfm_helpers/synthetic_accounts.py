"""Deterministic synthetic data for the omnichannel (messaging platform) account RFM.

The platform's database is private, so this module generates tables with the schema the
source document's queries use (schemas ``raw`` and ``mart``) and realistic quirks the
extraction must handle:

* heavy tails: campaigns per account and recipients per campaign are log-normal, so a few
  accounts send millions of messages and most send a few hundred;
* accounts on one or two channels only, including SMS-only and email-only accounts (the
  document's LEFT JOIN from WhatsApp drops them);
* a dormant tail (accounts that stopped before or during the window) and new accounts;
* test/demo accounts listed in ``raw.master_testing_demo_account``, with real-looking activity;
* statuses other than ``finish`` (failed, cancelled, scheduled, processing);
* ``created_at`` stored as UTC without time zone, many campaigns scheduled after local midnight
  (UTC 17:00-23:59 is the next day in Asia/Jakarta), plus campaigns placed on the window's and
  the year's boundaries so that the UTC → local conversion moves them across;
* events before and after the analysis window (data spans ``first_day`` .. ``last_day``);
* WhatsApp numbers of one account registered under another client name (the document groups by
  name and duplicates accounts), and SMS/email names written differently from the WhatsApp one.

Marts are derived from the finished broadcasts (delivered messages per account and local day),
plus WhatsApp service/authentication traffic that does not come from broadcasts.

``ensure_database`` builds the DuckDB file used by ``params/omnichannel.yaml`` when it is
missing or was built with other settings, so the report runs offline on a fresh clone.
CLI: ``python -m rfm_helpers.synthetic_accounts --accounts N --seed S --duckdb PATH``
(or ``--postgres-url URL``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rfm_helpers.atomic import atomic_path
from rfm_helpers.config import AccountsSource
from rfm_helpers.paths import resolve

GENERATOR_VERSION = 1
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
class GeneratorSettings:
    """Everything the generated data depends on (stored in the DuckDB file's metadata)."""

    n_accounts: int = 3000
    seed: int = 20241216
    first_day: dt.date = dt.date(2023, 7, 1)
    """First local day with data (before the default window, for "outside the window" events)."""
    last_day: dt.date = dt.date(2025, 2, 1)
    """First local day without data."""
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
    broadcasts["wa"] = pd.concat([broadcasts["wa"], _boundary_campaigns(rng, accounts)], ignore_index=True)
    tables = {
        CHANNEL_TABLES[ch]: frame.sort_values("created_at", kind="stable") for ch, frame in broadcasts.items()
    }
    tables.update(_marts(rng, settings, accounts, broadcasts))
    tables["raw.master_testing_demo_account"] = _test_list(rng, accounts, settings.test_list_has_null)
    return {name: tables[name].reset_index(drop=True)[list(cols)] for name, cols in TABLE_COLUMNS.items()}


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mongo ObjectId-like ids: 24 hex digits of 96 random bits (a repeat is ~1e-16 likely)."""
    return np.frombuffer(rng.bytes(12 * n).hex().encode("ascii"), dtype="S24").astype(str)


def _accounts(rng: np.random.Generator, s: GeneratorSettings) -> pd.DataFrame:
    n = s.n_accounts
    span_days = (s.last_day - s.first_day).days
    n_test = max(3, n // 50)
    is_test = np.zeros(n, dtype=bool)
    is_test[rng.choice(n, n_test, replace=False)] = True
    mix_index = rng.choice(len(CHANNEL_MIXES), size=n, p=[p for _, p in CHANNEL_MIXES])
    names = [
        " ".join([rng.choice(NAME_PREFIXES), *rng.choice(NAME_WORDS, size=rng.integers(2, 4), replace=False)])
        for _ in range(n)
    ]
    names = [f"Demo {name}" if test else name for name, test in zip(names, is_test, strict=True)]
    # A quarter joined during the data span; 15% went dormant, 5% stopped before the window.
    start = np.where(rng.random(n) < 0.25, rng.integers(0, span_days - 30, n), 0)
    fate = rng.random(n)
    stop = np.full(n, span_days)
    dormant = fate < 0.20
    stop[dormant] = np.maximum(start[dormant] + 20, rng.integers(60, span_days - 120, dormant.sum()))
    stop = np.minimum(stop, span_days)
    return pd.DataFrame(
        {
            "application": _hex_ids(rng, n),
            "full_name": names,
            "is_test": is_test,
            "channels": [CHANNEL_MIXES[i][0] for i in mix_index],
            # Heavy tails: campaigns per year and recipients per campaign are log-normal.
            "campaigns_per_year": np.clip(rng.lognormal(np.log(35), 1.2, n), 1, 2500),
            "recipients": np.clip(rng.lognormal(np.log(250), 1.4, n), 5, 50_000),
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
    share = 1.0 if channel == "wa" else 0.5  # secondary channels carry fewer campaigns
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
        frame["category"] = rng.choice(["marketing", "utility"], size=n, p=[0.75, 0.25])
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


def _boundary_campaigns(rng: np.random.Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    """Finished WhatsApp campaigns at UTC times whose local (UTC+7) day or year differs.

    2023-12-31 18:30 UTC is 2024-01-01 01:30 local (inside the local window, outside the UTC one);
    2024-11-30 19:00 UTC is 2024-12-01 02:00 local (outside the local window, inside the UTC one);
    2024-12-31 20:00 UTC is 2025-01-01 03:00 local (another year locally).
    """
    users = accounts[~accounts["is_test"] & _uses(accounts, "wa")]
    picked = users.sample(n=min(len(users), max(6, len(accounts) // 100)), random_state=rng.integers(2**31))
    moments = pd.to_datetime(["2023-12-31 18:30:00", "2024-11-30 19:00:00", "2024-12-31 20:00:00"])
    rows = [(app, moment) for app in picked["application"] for moment in moments]
    n = len(rows)
    apps = np.array([app for app, _ in rows])
    return pd.DataFrame(
        {
            "_id": _hex_ids(rng, n),
            "application": apps,
            "name": "WA campaign midnight",
            "status": "finish",
            "created_at": pd.Series([m for _, m in rows]).astype("datetime64[us]"),
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


def write_duckdb(tables: dict[str, pd.DataFrame], target: str | Path, settings_json: str = "") -> Path:
    """Write the tables into a new DuckDB file, atomically (temporary name, then rename)."""
    import duckdb

    target = resolve(target)
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
            con.execute(f"CREATE TABLE {METADATA_TABLE} (settings TEXT)")
            con.execute(f"INSERT INTO {METADATA_TABLE} VALUES (?)", [settings_json])
        finally:
            con.close()
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target


def _quoted(frame: pd.DataFrame) -> list[str]:
    return [f'"{col}"' for col in frame.columns]


def write_postgres(tables: dict[str, pd.DataFrame], url: str) -> None:
    """Create schemas raw/mart (dropping the tables first) and load the tables with COPY."""
    import psycopg

    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS mart")
        for table, frame in tables.items():
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(create_table_sql(table))
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
            with cur.copy(f"COPY {table} ({', '.join(_quoted(frame))}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            cur.execute(f"ANALYZE {table}")


def recorded_settings(path: Path) -> str | None:
    """The generator settings stored in a DuckDB file, or None if absent/unreadable."""
    import duckdb

    if not path.is_file():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"SELECT settings FROM {METADATA_TABLE}").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def ensure_database(source: AccountsSource) -> Path:
    """The DuckDB file of ``source``, (re)built from the generator if missing or stale.

    A file with ``synthetic_accounts: null`` is supplied by the user and never rebuilt.
    """
    path = resolve(source.duckdb_path)
    if source.synthetic_accounts is None:
        if not path.is_file():
            raise FileNotFoundError(
                f"DuckDB file {path} not found (accounts.duckdb_path). Supply it, or set "
                "accounts.synthetic_accounts to build synthetic data."
            )
        return path
    settings = GeneratorSettings(n_accounts=source.synthetic_accounts, seed=source.synthetic_seed)
    if recorded_settings(path) != settings.as_json():
        write_duckdb(generate(settings), path, settings.as_json())
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=GeneratorSettings.n_accounts)
    parser.add_argument("--seed", type=int, default=GeneratorSettings.seed)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--duckdb", type=Path, help="DuckDB file to (over)write")
    target.add_argument("--postgres-url", help="PostgreSQL URL (the tables are replaced)")
    args = parser.parse_args(argv)
    settings = GeneratorSettings(n_accounts=args.accounts, seed=args.seed)
    started = time.perf_counter()
    tables = generate(settings)
    generated = time.perf_counter()
    if args.duckdb:
        write_duckdb(tables, args.duckdb, settings.as_json())
    else:
        write_postgres(tables, args.postgres_url)
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items())
    written = time.perf_counter() - generated
    print(f"Generated in {generated - started:.1f} s, written in {written:.1f} s: {rows}")


if __name__ == "__main__":
    main()
