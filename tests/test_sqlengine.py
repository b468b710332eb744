"""The account extraction's queries without a server (engines of rfm_helpers.sql.engines, SQL
rendered by rfm_helpers.sql.dialect): placeholders, dtypes, where the URL comes from, clear
errors; and the ``accounts:`` params section (no password in a committed file, input XOR accounts)."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import pytest
import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from rfm_helpers.config import AccountsSource, ConfigError, RunConfig, load_config
from rfm_helpers.data import accounts
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.sql import engines
from rfm_helpers.sql.dialect import placeholders, query_names, render
from rfm_helpers.synthetic.accounts import write_duckdb


def test_placeholders_become_typed_literals_and_casts_stay(tmp_path):
    (tmp_path / "q.sql").write_text(
        "SELECT x::date, '50%' FROM t WHERE d >= :window_start AND tz = :timezone -- note: ok"
    )
    params = {"window_start": dt.date(2024, 1, 1), "timezone": "Asia/Jakarta"}
    assert render("q", "postgres", sql_dir=tmp_path, read="postgres", **params) == (
        "SELECT CAST(x AS DATE), '50%' FROM t WHERE d >= CAST('2024-01-01' AS DATE) AND tz = 'Asia/Jakarta'"
    )
    assert render("q", "duckdb", sql_dir=tmp_path, read="postgres", **params) == (
        "SELECT CAST(x AS DATE), '50%' FROM t WHERE d >= CAST('2024-01-01' AS DATE) AND tz = 'Asia/Jakarta'"
    )


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_every_omnichannel_query_renders_for_both_engines(dialect):
    sql_dir = PROJECT_ROOT / "sql" / "omnichannel"
    values = {
        "timezone": "Asia/Jakarta",
        "window_start": dt.date(2024, 1, 1),
        "window_end": dt.date(2024, 12, 1),
        "year": 2024,
        "window_last_second": dt.datetime(2024, 11, 30, 23, 59, 59),
    }
    names = query_names(sql_dir)
    assert len(names) == 10
    for name in names:
        expected = placeholders(name, sql_dir=sql_dir, read=accounts.SQL_DIALECT)
        sql = render(
            name, dialect, sql_dir=sql_dir, read=accounts.SQL_DIALECT, **{p: values[p] for p in expected}
        )
        assert not list(sqlglot.parse_one(sql, read=dialect).find_all(exp.Placeholder))


def test_dtypes_are_the_same_whichever_driver_sent_the_values():
    from_postgres = pd.DataFrame(
        {
            "n": [decimal.Decimal(3), decimal.Decimal(4)],
            "at": [dt.datetime(2024, 1, 1, 1, 30), None],
            "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
            "name": ["a", None],
            "ratio": [0.5, 1.5],
        }
    )
    out = accounts._stable_dtypes(from_postgres)
    assert out["n"].dtype == "int64" and out["n"].tolist() == [3, 4]
    assert out["at"].dtype == "datetime64[us]" and out["at"].isna().tolist() == [False, True]
    assert out["day"].dtype == "datetime64[us]"
    assert out["ratio"].dtype == "float64"
    assert out["name"].iloc[0] == "a" and pd.isna(out["name"].iloc[1])


def test_password_in_params_url_is_rejected():
    with pytest.raises(ValidationError, match="~/.pgpass"):
        AccountsSource(engine="postgres", postgres_url="postgresql://me:secret@db:5432/platform")
    with pytest.raises(ValidationError, match="contains a password"):
        AccountsSource(postgres_url="postgresql://me@db/platform?password=secret")
    assert AccountsSource(postgres_url="postgresql://me@db:5432/platform").postgres_url


def test_url_comes_from_the_named_environment_variable_first(monkeypatch):
    source = AccountsSource(engine="postgres", postgres_url="postgresql://me@db/a", postgres_url_env="MY_URL")
    monkeypatch.delenv("MY_URL", raising=False)
    assert accounts.postgres_url(source) == "postgresql://me@db/a"
    monkeypatch.setenv("MY_URL", "postgresql://me:pw@other/b")
    assert accounts.postgres_url(source) == "postgresql://me:pw@other/b"


def test_missing_url_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("MY_URL", raising=False)
    with pytest.raises(engines.EngineError, match="MY_URL"):
        accounts.postgres_url(AccountsSource(engine="postgres", postgres_url_env="MY_URL"))


def test_messages_never_show_the_password():
    assert engines.describe_url("postgresql://me:secret@db.example:6543/platform") == (
        "PostgreSQL db.example:6543/platform"
    )


def test_missing_duckdb_file_says_how_to_build_it(tmp_path):
    absent = AccountsSource(engine="duckdb", duckdb_path=tmp_path / "absent.duckdb")
    with (
        pytest.raises(engines.EngineError, match="python -m rfm_helpers.synthetic.accounts"),
        accounts.open_database(absent),
    ):
        pass


@pytest.fixture
def engine(tmp_path):
    frame = pd.DataFrame({"application": ["a", "b"], "label": ["testing", "demo"]})
    path = write_duckdb({"raw.master_testing_demo_account": frame}, tmp_path / "one.duckdb")
    with accounts.open_database(AccountsSource(engine="duckdb", duckdb_path=path)) as opened:
        yield opened


def test_query_binds_parameters_and_refuses_missing_ones(engine, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("SELECT application FROM raw.master_testing_demo_account WHERE label = :label")
    assert accounts.run_query(engine, query, {"label": "demo", "unused": 1})["application"].tolist() == ["b"]
    with pytest.raises(engines.EngineError, match=r"q.sql needs parameter\(s\) \['label'\]"):
        accounts.run_query(engine, query, {})


def test_a_value_is_never_executed_as_sql(engine, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("SELECT application FROM raw.master_testing_demo_account WHERE label = :label")
    assert accounts.run_query(engine, query, {"label": "x' OR '1'='1"}, allow_empty=True).empty


def test_missing_sql_file_names_the_parameter(engine, tmp_path):
    with pytest.raises(engines.EngineError, match="accounts.sql_dir"):
        accounts.run_query(engine, tmp_path / "absent.sql")


def test_session_table_is_joinable(engine, tmp_path):
    engine.load_frame("run_channels", pd.DataFrame({"channel": ["wa", "sms"]}))
    query = tmp_path / "q.sql"
    query.write_text("SELECT COUNT(*) AS n FROM run_channels")
    assert accounts.run_query(engine, query)["n"].tolist() == [2]


def test_window_must_be_ordered_and_as_of_not_inside_it():
    with pytest.raises(ValidationError, match="window_end must be after"):
        AccountsSource(window_start=dt.date(2024, 5, 1), window_end=dt.date(2024, 5, 1))
    with pytest.raises(ValidationError, match="as_of must be on or after"):
        AccountsSource(as_of=dt.date(2024, 11, 1))
    with pytest.raises(ValidationError, match="unknown time zone"):
        AccountsSource(timezone="Asia/Djakarta")


def test_accounts_replaces_input_and_both_is_an_error(tmp_path):
    assert RunConfig.model_validate({"accounts": {}}).input is None
    assert RunConfig.model_validate({}).input is not None  # transactions by default
    path = tmp_path / "both.yaml"
    path.write_text("input:\n  path: x.parquet\naccounts:\n  engine: duckdb\n")
    with pytest.raises(ConfigError, match="either 'input'"):
        load_config(path)


@pytest.mark.parametrize("name", ["omnichannel.yaml", "omnichannel_document.yaml"])
def test_shipped_omnichannel_params_validate(name):
    cfg = load_config(f"params/{name}")
    assert cfg.input is None and cfg.accounts is not None
    assert cfg.clustering.features == ["recency", "frequency_broadcast", "frequency_charged", "monetary"]
    assert cfg.report.currency == "IDR"


def test_the_sample_is_exact_repeatable_and_spread_over_the_rows():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS row_id, range % 7 AS v FROM range(100000)")
    query = f"SELECT row_id FROM {engines.sample_query('duckdb', 't', 10_000)}"
    first, again = con.execute(query).fetch_df(), con.execute(query).fetch_df()
    assert len(first) == 10_000 and first["row_id"].is_unique
    assert first.equals(again)
    # the same rows as the plain top 10,000 by hash (its first step only narrows the rows read)
    top = con.execute("SELECT row_id FROM t ORDER BY HASH(row_id), row_id LIMIT 10000").fetch_df()
    assert sorted(first["row_id"]) == sorted(top["row_id"])
    # Each tenth of the rows holds about a tenth of the sample (binomial sd 30; 6 sd allowed).
    per_tenth = (first["row_id"] // 10_000).value_counts()
    assert len(per_tenth) == 10 and per_tenth.between(820, 1180).all()
    # Not the first rows, nor every tenth row: a hash, not the order of the table.
    assert first["row_id"].min() < 100 and (first["row_id"] % 10).nunique() == 10
