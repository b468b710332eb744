"""The same SQL on a real PostgreSQL server and on DuckDB gives identical results, and the
server's failures (unreachable, wrong password, missing table/column, empty result) give clear
errors. The server is the throwaway one of tests/postgres_server.py."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import psycopg
import pytest

from rfm_helpers.config import AccountsSource
from rfm_helpers.data.accounts import (
    EmptyResultError,
    extract_accounts,
    load_prices,
    open_database,
    run_query,
)
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.sql.engines import EngineError, connect_postgres
from rfm_helpers.synthetic.accounts import (
    GeneratorSettings,
    NotOwnedError,
    generate,
    write_duckdb,
    write_postgres,
)

SQL_DIR = PROJECT_ROOT / "sql" / "omnichannel"
URL_ENV = "RFM_TEST_PARITY_DATABASE_URL"
SETTINGS = GeneratorSettings(n_accounts=400, seed=11)
PARAMS = {
    "timezone": "Asia/Jakarta",
    "window_start": pd.Timestamp("2024-01-01").date(),
    "window_end": pd.Timestamp("2024-12-01").date(),
    "year": 2024,
    "window_last_second": pd.Timestamp("2024-11-30 23:59:59").to_pydatetime(),
}


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="module")
def databases(postgres_url: str, tmp_path_factory) -> tuple[Path, str]:
    """The same generated tables in a DuckDB file and in a fresh PostgreSQL database."""
    tables = generate(SETTINGS)
    duckdb_path = write_duckdb(tables, tmp_path_factory.mktemp("parity") / "accounts.duckdb")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS rfm_parity")
        admin.execute("CREATE DATABASE rfm_parity")
    url = with_database(postgres_url, "rfm_parity")
    write_postgres(tables, url)
    return duckdb_path, url


@pytest.fixture
def sources(databases, monkeypatch) -> dict[str, AccountsSource]:
    duckdb_path, url = databases
    monkeypatch.setenv(URL_ENV, url)
    return {
        "duckdb": AccountsSource(engine="duckdb", duckdb_path=duckdb_path, postgres_url_env=URL_ENV),
        "postgres": AccountsSource(engine="postgres", postgres_url_env=URL_ENV),
    }


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True, na_position="first")


def run_both(sources: dict[str, AccountsSource], sql_file: str) -> list[pd.DataFrame]:
    prices = load_prices(PROJECT_ROOT / "data/reference/omnichannel_prices.csv", ["marketing", "utility"])
    results = []
    for source in sources.values():
        with open_database(source) as engine:
            engine.load_frame("run_prices", prices)
            engine.load_frame("run_channels", pd.DataFrame({"channel": ["wa", "sms", "email", "call"]}))
            results.append(sorted_frame(run_query(engine, SQL_DIR / sql_file, PARAMS)))
    return results


@pytest.mark.parametrize("sql_file", sorted(p.name for p in SQL_DIR.glob("*.sql")))
def test_every_sql_file_gives_identical_rows_on_both_engines(sources, sql_file):
    on_duckdb, on_postgres = run_both(sources, sql_file)
    assert len(on_duckdb) > 0
    pd.testing.assert_frame_equal(on_duckdb, on_postgres, check_exact=True)


@pytest.mark.parametrize("method", ["corrected", "document"])
def test_account_table_and_ledger_are_identical_on_both_engines(sources, method):
    # The document's recency takes campaigns of the whole local year: count from the day after.
    as_of = PARAMS["window_end"] if method == "corrected" else dt.date(2025, 1, 1)
    duckdb_run, postgres_run = (
        extract_accounts(source.model_copy(update={"method": method, "as_of": as_of}))
        for source in sources.values()
    )
    assert len(duckdb_run.accounts) > 100
    pd.testing.assert_frame_equal(duckdb_run.accounts, postgres_run.accounts, check_exact=True)
    pd.testing.assert_frame_equal(sorted_frame(duckdb_run.ledger), sorted_frame(postgres_run.ledger))
    assert postgres_run.database.startswith("PostgreSQL 127.0.0.1:")


def test_local_times_are_the_same_instants_on_both_engines(sources):
    on_duckdb, on_postgres = run_both(sources, "campaigns.sql")
    # 2023-12-31 18:30 UTC campaigns of the generator are 2024-01-01 01:30 in Jakarta on both.
    moment = pd.Timestamp("2024-01-01 01:30:00")
    assert (on_duckdb["last_campaign"] >= moment).all()
    assert on_duckdb["last_campaign"].equals(on_postgres["last_campaign"])


# --- errors against the real server --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_names_host_port_and_database():
    url = f"postgresql://rfm@127.0.0.1:{free_port()}/accounts"
    with pytest.raises(EngineError, match="unreachable") as info:
        connect_postgres(url, connect_timeout=2)
    assert "127.0.0.1" in str(info.value) and "/accounts" in str(info.value)


def test_wrong_password_is_reported_without_echoing_it(databases):
    parts = urlsplit(databases[1])
    wrong = urlunsplit(parts._replace(netloc=f"rfm:not-the-password@{parts.hostname}:{parts.port}"))
    with pytest.raises(EngineError, match="Wrong user or password") as info:
        connect_postgres(wrong)
    assert "not-the-password" not in str(info.value)


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request, sources):
    with open_database(sources[request.param]) as opened:
        yield opened


def test_missing_table_names_table_file_and_database(engine, tmp_path):
    query = tmp_path / "broken.sql"
    query.write_text("SELECT application FROM raw.whatsappbroadcast_typo")
    with pytest.raises(EngineError, match="whatsappbroadcast_typo is missing") as info:
        run_query(engine, query)
    assert "broken.sql" in str(info.value) and engine.where in str(info.value)


def test_missing_column_names_column_and_file(engine, tmp_path):
    query = tmp_path / "broken.sql"
    query.write_text("SELECT applicaton FROM raw.smsbroadcasts")
    with pytest.raises(EngineError, match="Column applicaton is missing") as info:
        run_query(engine, query)
    assert "broken.sql" in str(info.value)


def test_empty_result_is_an_error_naming_the_file_and_the_window(engine):
    engine.load_frame("run_channels", pd.DataFrame({"channel": ["wa"]}))
    params = {
        **PARAMS,
        "window_start": pd.Timestamp("2030-01-01").date(),
        "window_end": pd.Timestamp("2030-02-01").date(),
    }
    with pytest.raises(EmptyResultError, match="campaigns.sql returned no rows"):
        run_query(engine, SQL_DIR / "campaigns.sql", params)


def test_a_failed_query_leaves_the_postgres_session_usable(sources, tmp_path):
    query = tmp_path / "broken.sql"
    query.write_text("SELECT nope FROM raw.smsbroadcasts")
    with open_database(sources["postgres"]) as engine:
        with pytest.raises(EngineError):
            run_query(engine, query)
        ok = tmp_path / "ok.sql"
        ok.write_text("SELECT COUNT(*) AS n FROM raw.smsbroadcasts")
        assert run_query(engine, ok)["n"].iloc[0] > 0


def test_write_postgres_never_replaces_tables_it_did_not_create(postgres_url: str) -> None:
    """A database whose raw/mart tables came from elsewhere (no marker) is refused untouched;
    one the tool loaded before (marker present) is reloaded."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS rfm_foreign")
        admin.execute("CREATE DATABASE rfm_foreign")
    url = with_database(postgres_url, "rfm_foreign")
    with psycopg.connect(url) as con:
        con.execute("CREATE SCHEMA raw; CREATE TABLE raw.whatsappbroadcasts (id TEXT)")
        con.execute("INSERT INTO raw.whatsappbroadcasts VALUES ('a real broadcast')")
    tables = generate(GeneratorSettings(n_accounts=40, seed=3))
    with pytest.raises(NotOwnedError, match=r"already has tables raw\.whatsappbroadcasts that this tool did"):
        write_postgres(tables, url)
    with psycopg.connect(url) as con:
        assert con.execute("SELECT id FROM raw.whatsappbroadcasts").fetchall() == [("a real broadcast",)]
        con.execute("DROP TABLE raw.whatsappbroadcasts")
    write_postgres(tables, url, "first")
    write_postgres(tables, url, "second")  # its own tables: replaced
    with psycopg.connect(url) as con:
        assert con.execute("SELECT settings FROM meta.generator_settings").fetchall() == [("second",)]
        rows = con.execute("SELECT count(*) FROM raw.whatsappbroadcasts").fetchone()[0]
    assert rows == len(tables["raw.whatsappbroadcasts"])
