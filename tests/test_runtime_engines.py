"""PostgreSQL and Apache Spark as runtime engines of the transactions report.

The full report runs on PostgreSQL (``engine: {engine: postgres}`` on the throwaway server of
``tests/postgres_server.py``) for ``params/default.yaml`` (Online Retail, 541,909 rows), on
Spark (``engine: {engine: spark}``, local mode) for ``params/test_sample.yaml`` (its ~8 % sample
of the customers: Spark's fixed cost per query made the whole file a 5-minute test beside
another worker), and on DuckDB for both; the customer export and the cleaning ledger must be
byte-identical to DuckDB's, and so must every mart the reports read (the monthly trend's means
to 1e-12: parallel float averages). The unit tests check what a
user sees when the engine cannot be used: a URL in the params, no URL, an unreachable server.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rfm_helpers.config import ConfigError, EngineConfig, load_config
from rfm_helpers.runs import runner
from rfm_helpers.sql import dialect as sqldialect
from rfm_helpers.sql.engines import EngineError, check_engine, open_engine

pytestmark = pytest.mark.slow

PARAMS = Path("params/default.yaml")
SAMPLE = Path("params/test_sample.yaml")
URL_ENV = "RFM_TRANSACTIONS_DATABASE_URL"
EXPORT = Path("exports") / "customer_segments.csv"
MARTS = ["customers", "monthly", "by_country", "products", "orders", "orders_per_customer"]
WALL_TIMES: dict[str, float] = {}


def _params(folder: Path, engine: dict | None, run_name: str, base: Path = PARAMS) -> Path:
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    data["run_name"] = run_name
    data["input"]["path"] = str(Path.cwd() / data["input"]["path"])
    if engine is not None:
        data["engine"] = engine
    path = folder / f"{run_name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def output_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rfm-output")


def _run_report(
    output_root: Path, engine: dict | None, run_name: str, env: dict[str, str], base: Path = PARAMS
) -> Path:
    """Run the whole report of ``base``; return the output root (exports and interim files below it)."""
    params = _params(output_root, engine, run_name, base)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(output_root))
        for name, value in env.items():
            mp.setenv(name, value)
        started = time.perf_counter()
        code = runner.run(params, force=True)
        WALL_TIMES[run_name] = time.perf_counter() - started
    assert code == 0, f"the {run_name} report failed (exit {code})"
    print(f"\n{run_name}: full report in {WALL_TIMES[run_name]:.1f} s")
    return output_root


@pytest.fixture(scope="module")
def duckdb_run(output_root) -> str:
    _run_report(output_root, None, "rt_duckdb", {})
    return "rt_duckdb"


@pytest.fixture(scope="module")
def duckdb_sample_run(output_root) -> str:
    _run_report(output_root, None, "rt_duckdb_sample", {}, SAMPLE)
    return "rt_duckdb_sample"


@pytest.fixture(scope="module")
def postgres_run(output_root, postgres_url) -> str:
    _run_report(output_root, {"engine": "postgres"}, "rt_postgres", {URL_ENV: postgres_url})
    return "rt_postgres"


@pytest.fixture(scope="module")
def spark_run(output_root) -> str:
    pytest.importorskip("pyspark")
    _run_report(output_root, {"engine": "spark"}, "rt_spark", {}, SAMPLE)
    return "rt_spark"


def _files(root: Path, run: str) -> dict[str, bytes]:
    return {
        "customer_segments.csv": (root / "reports" / run / EXPORT).read_bytes(),
        "cleaning_ledger.csv": (root / "data" / "interim" / run / "cleaning_ledger.csv").read_bytes(),
    }


def _assert_same_marts(root: Path, run: str, reference: str) -> None:
    marts, expected = (root / "data" / "interim" / r / "marts" for r in (run, reference))
    for name in MARTS:
        pd.testing.assert_frame_equal(
            pd.read_parquet(marts / f"{name}.parquet"),
            pd.read_parquet(expected / f"{name}.parquet"),
            check_exact=True,
        )
    trend = pd.read_parquet(marts / "monthly_rfm_trend.parquet")
    pd.testing.assert_frame_equal(
        trend.astype({c: "float64" for c in trend.columns if c != "month"}),
        pd.read_parquet(expected / "monthly_rfm_trend.parquet").astype(
            {c: "float64" for c in trend.columns if c != "month"}
        ),
        check_exact=False,
        rtol=1e-12,
        check_dtype=False,
    )
    assert (marts / "figures.json").read_bytes() == (expected / "figures.json").read_bytes()


ENGINE_RUNS = [("postgres_run", "duckdb_run"), ("spark_run", "duckdb_sample_run")]
"""Each engine's report and DuckDB's report of the same params."""


@pytest.mark.parametrize(("engine_run", "duckdb_of_it"), ENGINE_RUNS)
def test_exports_are_byte_identical_to_duckdb(request, engine_run, duckdb_of_it, output_root):
    run, reference = request.getfixturevalue(engine_run), request.getfixturevalue(duckdb_of_it)
    actual, expected = _files(output_root, run), _files(output_root, reference)
    for name in expected:
        assert actual[name] == expected[name], f"{name} of {run} differs from DuckDB's"


@pytest.mark.parametrize(("engine_run", "duckdb_of_it"), ENGINE_RUNS)
def test_marts_equal_duckdb(request, engine_run, duckdb_of_it, output_root):
    reference = request.getfixturevalue(duckdb_of_it)
    _assert_same_marts(output_root, request.getfixturevalue(engine_run), reference)


def test_report_wall_times(duckdb_run, duckdb_sample_run, postgres_run, spark_run):
    print("\nFull report wall time per engine (rt_*_sample: params/test_sample.yaml):")
    for run, seconds in WALL_TIMES.items():
        print(f"  {run}: {seconds:.1f} s")
    assert {"rt_duckdb", "rt_duckdb_sample", "rt_postgres", "rt_spark"} <= WALL_TIMES.keys()


# --- what a user sees when the engine cannot be used ------------------------------------------


def _write_params(folder: Path, engine: dict) -> Path:
    return _params(folder, engine, "rt_unit")


@pytest.mark.parametrize(
    ("engine", "key"),
    [
        ({"engine": "postgres", "url": "postgresql://rfm:s3cret-pw@db.example:5432/shop"}, "engine.url"),
        ({"engine": "postgres", "password": "s3cret-pw"}, "engine.password"),
        ({"engine": "postgres", "url_env": "postgresql://rfm:s3cret-pw@db.example/shop"}, "engine.url_env"),
    ],
)
def test_a_url_or_password_in_the_params_is_refused(tmp_path, engine, key):
    with pytest.raises(ConfigError) as raised:
        load_config(_write_params(tmp_path, engine))
    message = str(raised.value)
    assert key in message and "environment variable" in message
    assert "s3cret-pw" not in message


def test_the_runner_refuses_a_url_in_the_params_with_exit_2(tmp_path, capsys):
    params = _write_params(tmp_path, {"engine": "postgres", "url": "postgresql://rfm:s3cret-pw@db:5432/shop"})
    assert runner.run(params) == 2
    err = capsys.readouterr().err
    assert "engine.url" in err and "s3cret-pw" not in err and "Traceback" not in err


def test_no_url_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.delenv("MY_PG_URL", raising=False)
    with pytest.raises(EngineError, match=r"environment variable MY_PG_URL \(engine.url_env\) is not set"):
        check_engine(EngineConfig(engine="postgres", url_env="MY_PG_URL"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_url(monkeypatch) -> str:
    port = _closed_port()
    url = f"postgresql://rfm:s3cret-pw@127.0.0.1:{port}/shop"
    monkeypatch.setenv(URL_ENV, url)
    return f"127.0.0.1:{port}/shop"


def test_an_unreachable_server_is_one_clear_line(unreachable_url):
    with (
        pytest.raises(EngineError) as raised,
        open_engine(EngineConfig(engine="postgres", connect_timeout=3)),
    ):
        pass
    message = str(raised.value)
    assert unreachable_url in message and f"${URL_ENV}" in message and "unreachable" in message
    assert "s3cret-pw" not in message and "\n" not in message


def test_the_runner_exits_2_when_the_server_is_unreachable(tmp_path, unreachable_url, capsys, monkeypatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path / "out"))
    params = _write_params(tmp_path, {"engine": "postgres", "connect_timeout": 3})
    code = runner.run(params)
    err = capsys.readouterr().err
    assert unreachable_url in err and URL_ENV in err and "Traceback" not in err and "s3cret-pw" not in err
    assert code == 2


def test_every_query_renders_in_every_dialect():
    for name in sqldialect.query_names():
        values = {p: True for p in sqldialect.placeholders(name)}
        values.update({p: 5 for p in sqldialect.placeholders(name) if p == "top_n"})
        for dialect in ("duckdb", "postgres", "spark"):
            assert "SELECT" in sqldialect.render(name, dialect, **values)
    # PostgreSQL sorts text by code point (as DuckDB and Spark), whatever the database's locale.
    assert 'COLLATE "C"' in sqldialect.render(
        "typed", "postgres", **dict.fromkeys(sqldialect.placeholders("typed"), True)
    )
