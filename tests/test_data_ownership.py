"""The tool never modifies a file it did not create (issue 9).

Generated data go only to ``data/synthetic/`` below the output root, into files that carry the
tool's marker; any other file there (a user's database, a corrupt copy, a folder) is left
byte-identical and the build is refused with a message naming the file and the parameter. A
user's file (``engine: duckdb``) is only opened read-only. Also the params layout that says
whether the data are synthetic, and the CLI's refusal."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from account_files import plain_duckdb, user_database

from rfm_helpers.config import AccountsSource, ConfigError, load_config
from rfm_helpers.data.accounts import extract_accounts
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.synthetic.accounts import (
    METADATA_TABLE,
    TOOL_SIGNATURE,
    GeneratorSettings,
    NotOwnedError,
    ensure_database,
    generate,
    inspect_file,
    main,
    recorded_settings,
    synthetic_origin,
    write_duckdb,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The output root; generated files go to ``root/data/synthetic``."""
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    (tmp_path / "data" / "synthetic").mkdir(parents=True)
    return tmp_path


def synthetic(seed: int = 1, file: str = "accounts.duckdb") -> AccountsSource:
    return AccountsSource(engine="synthetic", synthetic={"accounts": 30, "seed": seed, "file": file})


def refusal_remedy(path: Path) -> str:
    return (
        "It is left untouched: the tool never overwrites a file it did not create. Move or rename that "
        "file, or set accounts.synthetic.file to another name for the generated data; to analyse the "
        f"file itself, set accounts.engine: duckdb and accounts.duckdb_path: {path} (opened read-only)."
    )


# --- refusing to write --------------------------------------------------------------------


def test_user_file_at_the_synthetic_path_is_never_modified(root: Path) -> None:
    path = user_database(root / "data" / "synthetic" / "accounts.duckdb")
    before = sha256(path)
    with pytest.raises(NotOwnedError) as raised:
        ensure_database(synthetic())
    assert str(raised.value) == (
        f"{path} was not created by this tool (it has no table {METADATA_TABLE}). " + refusal_remedy(path)
    )
    assert sha256(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["accounts.duckdb"]  # no temp or .wal file


def test_corrupt_file_is_refused_rather_than_replaced(root: Path) -> None:
    path = ensure_database(synthetic())
    path.write_bytes(path.read_bytes()[:5000])  # a copy cut short: the marker can no longer be read
    before = sha256(path)
    for settings in (synthetic(seed=1), synthetic(seed=2)):  # current or stale: never rebuilt
        with pytest.raises(NotOwnedError) as raised:
            ensure_database(settings)
        message = str(raised.value)
        assert message.startswith(f"{path} cannot be read as a DuckDB database (IO Error: ")
        assert (
            "so nothing tells that this tool created it. If it is a generated file that got damaged, "
            in message
        )
        assert message.endswith(refusal_remedy(path))
    assert sha256(path) == before


def test_a_table_named_like_the_marker_is_not_the_marker(root: Path) -> None:
    path = root / "data" / "synthetic" / "accounts.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE SCHEMA meta; CREATE TABLE {METADATA_TABLE} (tool TEXT, settings TEXT)")
        con.execute(f"INSERT INTO {METADATA_TABLE} VALUES ('another tool', '{{}}')")
    before = sha256(path)
    assert inspect_file(path).state == "foreign"
    with pytest.raises(NotOwnedError, match="does not carry this tool's signature"):
        ensure_database(synthetic())
    assert sha256(path) == before


def test_a_folder_or_a_text_file_is_refused(root: Path) -> None:
    folder = root / "data" / "synthetic" / "folder.duckdb"
    folder.mkdir()
    with pytest.raises(
        NotOwnedError, match=r"folder.duckdb was not created by this tool \(it is not a file\)"
    ):
        ensure_database(synthetic(file="folder.duckdb"))
    notes = root / "data" / "synthetic" / "notes.duckdb"
    notes.write_text("my notes, not a database\n")
    with pytest.raises(NotOwnedError, match="notes.duckdb cannot be read as a DuckDB database"):
        write_duckdb(generate(GeneratorSettings(n_accounts=30)), notes)
    assert notes.read_text() == "my notes, not a database\n"


# --- rebuilding what the tool owns ---------------------------------------------------------------


def test_owned_file_is_rebuilt_when_the_settings_change_and_carries_the_marker(root: Path) -> None:
    path = ensure_database(synthetic(seed=1))
    assert path == root / "data" / "synthetic" / "accounts.duckdb"
    first = sha256(path)
    assert ensure_database(synthetic(seed=1)) == path and sha256(path) == first  # current: kept
    ensure_database(synthetic(seed=2))
    assert sha256(path) != first
    with duckdb.connect(str(path), read_only=True) as con:
        tool, settings = con.execute(f"SELECT tool, settings FROM {METADATA_TABLE}").fetchone()
    assert tool == TOOL_SIGNATURE
    recorded = json.loads(settings)
    assert (recorded["n_accounts"], recorded["seed"]) == (30, 2)
    assert recorded == json.loads(GeneratorSettings(n_accounts=30, seed=2).as_json())


def test_a_file_of_the_first_version_is_recognised_and_rebuilt(root: Path) -> None:
    """Files built before the marker had a signature held only the settings JSON (version 1)."""
    path = root / "data" / "synthetic" / "accounts.duckdb"
    first_version = (
        '{"n_accounts": 30, "seed": 1, "first_day": "2023-07-01", "last_day": "2025-02-01", '
        '"test_list_has_null": false, "version": 1}'
    )
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE SCHEMA meta; CREATE TABLE {METADATA_TABLE} (settings TEXT)")
        con.execute(f"INSERT INTO {METADATA_TABLE} VALUES (?)", [first_version])
    assert inspect_file(path).state == "owned" and recorded_settings(path) is None
    ensure_database(synthetic(seed=1))
    assert recorded_settings(path) == GeneratorSettings(30, 1).as_json()


# --- a user's file (engine: duckdb) ----------------------------------------------------------------


def test_user_platform_file_is_only_read(tmp_path: Path) -> None:
    path = plain_duckdb(generate(GeneratorSettings(n_accounts=30, seed=4)), tmp_path / "platform.duckdb")
    before = sha256(path)
    source = AccountsSource(engine="duckdb", duckdb_path=path)
    extraction = extract_accounts(source)
    assert len(extraction.accounts) > 0 and extraction.database == f"DuckDB file {path}"
    assert sha256(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["platform.duckdb"]
    assert synthetic_origin(source) is None  # no marker: real data as far as the tool can tell


def test_synthetic_origin_of_each_engine(root: Path, tmp_path: Path) -> None:
    assert synthetic_origin(synthetic(seed=7)) == "rfm_helpers.synthetic.accounts (30 accounts, seed 7)"
    built = tmp_path / "cli.duckdb"
    assert main(["--accounts", "25", "--seed", "3", "--duckdb", str(built)]) == 0
    as_user_file = AccountsSource(engine="duckdb", duckdb_path=built)
    assert synthetic_origin(as_user_file) == "rfm_helpers.synthetic.accounts (25 accounts, seed 3)"
    assert synthetic_origin(AccountsSource(engine="postgres")) is None


# --- the CLI -------------------------------------------------------------------------------------------


def test_cli_refuses_to_overwrite_a_file_without_the_marker(tmp_path: Path) -> None:
    path = user_database(tmp_path / "mine.duckdb")
    before = sha256(path)
    done = subprocess.run(
        [sys.executable, "-m", "rfm_helpers.synthetic.accounts", "--accounts", "30", "--duckdb", str(path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"{path} was not created by this tool (it has no table {METADATA_TABLE}). It is left untouched: "
        "the tool never overwrites a file it did not create. Choose another --duckdb path.\n"
    )
    assert sha256(path) == before


# --- params -------------------------------------------------------------------------------------------


def load_error(tmp_path: Path, accounts: str) -> str:
    path = tmp_path / "params.yaml"
    path.write_text(f"accounts:\n{accounts}", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return str(raised.value)


def test_old_keys_say_what_replaced_them(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, "  duckdb_path: data/synthetic/omnichannel.duckdb\n  synthetic_accounts: 3000\n"
    )
    assert (
        "  - accounts.synthetic_accounts: Value error, this key was replaced. For generated demo data write "
        "engine: synthetic and synthetic: {accounts: N, seed: S}; for your own DuckDB file (old "
        "synthetic_accounts: null) write engine: duckdb and duckdb_path: <file> (opened read-only). See "
        "params/omnichannel.yaml (got 3000)"
    ) in message


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        ("  engine: duckdb\n", "accounts.engine is duckdb but accounts.duckdb_path is not set"),
        (
            "  duckdb_path: mine.duckdb\n",
            "accounts.duckdb_path is read only with engine: duckdb (engine is synthetic)",
        ),
        (
            "  engine: postgres\n  synthetic: {seed: 3}\n",
            "accounts.synthetic (generator settings) applies only to engine: synthetic",
        ),
        (
            "  synthetic: {file: ../../home/me/platform.duckdb}\n",
            "accounts.synthetic.file: give a plain file name",
        ),
    ],
)
def test_engine_and_its_settings_must_agree(tmp_path: Path, accounts: str, expected: str) -> None:
    assert expected in load_error(tmp_path, accounts)


def test_shipped_params_say_the_data_are_synthetic(root: Path) -> None:
    for name in ("omnichannel", "omnichannel_document", "test_omnichannel"):
        source = load_config(f"params/{name}.yaml").accounts
        assert source.engine == "synthetic" and source.duckdb_path is None
        assert source.database_path == root / "data" / "synthetic" / f"{source.synthetic.file}"
    assert load_config("params/omnichannel.yaml").accounts.synthetic.model_dump() == {
        "accounts": 3000,
        "seed": 20241216,
        "file": "omnichannel.duckdb",
    }
