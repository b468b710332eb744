"""load_config and the typed parameters: shipped files validate, mistakes give messages that
name the file, the dotted key and the bad value; path properties follow RFM_OUTPUT_ROOT."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from rfm_helpers.config import ColumnMap, ConfigError, InputConfig, RFMConfig, RunConfig, load_config
from rfm_helpers.paths import PROJECT_ROOT

PARAMS_FILES = sorted((PROJECT_ROOT / "params").glob("*.yaml"))


def write_params(tmp_path: Path, text: str, name: str = "params.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write_params(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    return message


# --- the shipped params files ----------------------------------------------------------


def test_there_are_shipped_params_files():
    assert {p.name for p in PARAMS_FILES} >= {"default.yaml", "seed_superstore.yaml", "test_sample.yaml"}


@pytest.mark.parametrize("path", PARAMS_FILES, ids=lambda p: p.name)
def test_every_shipped_params_file_validates(path):
    cfg = load_config(path)
    assert isinstance(cfg, RunConfig)
    assert cfg.run_name


def test_shipped_params_files_have_distinct_run_names():
    # Each run writes below data/*/<run_name>: two files with one name would overwrite each other.
    names = [load_config(p).run_name for p in PARAMS_FILES]
    assert len(set(names)) == len(names)


def test_shipped_files_load_from_a_relative_path_whatever_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config("params/default.yaml")
    assert cfg.run_name == "online_retail"


def test_default_yaml_snapshot_date_is_a_date():
    cfg = load_config("params/default.yaml")
    assert cfg.rfm.snapshot_date == dt.date(2011, 12, 10)
    assert type(cfg.rfm.snapshot_date) is dt.date


def test_seed_superstore_values():
    cfg = load_config("params/seed_superstore.yaml")
    assert cfg.rfm.recency_from == "last_transaction"
    assert cfg.rfm.frequency == "lines"
    assert cfg.rfm.outliers == "trim"
    assert cfg.rfm.scoring == "qcut"
    assert cfg.cleaning.drop_non_product_codes is False
    assert cfg.clustering.log_transform is False


# --- defaults and parsing --------------------------------------------------------------


def test_defaults(tmp_path):
    cfg = load_config(write_params(tmp_path, "run_name: online_retail\n"))
    assert cfg == RunConfig()
    assert cfg.rfm.snapshot_date is None
    assert cfg.rfm.n_bins == 5
    assert cfg.clustering.k == 4


@pytest.mark.parametrize("text", ["", "\n\n", "# my shop, to do\n"])
def test_empty_file_is_an_error_not_the_defaults(tmp_path, text):
    """An empty file would silently run the shipped data into reports/online_retail."""
    message = load_error(tmp_path, text)
    assert message == (
        f"Params file {tmp_path / 'params.yaml'} is empty: copy params/default.yaml, set run_name and "
        "input.path in the copy and pass that file (or pass PARAMS=params/default.yaml to run the defaults)"
    )


@pytest.mark.parametrize("value", ["2011-12-10", '"2011-12-10"'])
def test_snapshot_date_parses_from_yaml_as_a_date(tmp_path, value):
    cfg = load_config(write_params(tmp_path, f"rfm:\n  snapshot_date: {value}\n"))
    assert cfg.rfm.snapshot_date == dt.date(2011, 12, 10)
    assert isinstance(cfg.rfm.snapshot_date, dt.date)


def test_config_is_frozen():
    cfg = RunConfig()
    with pytest.raises(ValidationError):
        cfg.run_name = "other"  # type: ignore[misc]


def test_source_to_canonical_skips_unmapped_columns():
    columns = ColumnMap(description=None, amount="Sales")
    rename = columns.source_to_canonical()
    assert rename["InvoiceNo"] == "invoice_id"
    assert rename["Sales"] == "amount"
    assert "invoice_id" in rename.values()
    assert "description" not in rename.values()


# --- unknown keys ----------------------------------------------------------------------


def test_unknown_top_level_key_is_named(tmp_path):
    message = load_error(tmp_path, "run_name: x\nrun_nmae: y\n")
    assert "run_nmae: unknown parameter" in message


def test_unknown_nested_key_is_named_with_its_dotted_path(tmp_path):
    message = load_error(tmp_path, "rfm:\n  snapshot_dat: 2011-12-10\n")
    assert "rfm.snapshot_dat: unknown parameter" in message


def test_unknown_deeply_nested_key_is_named(tmp_path):
    message = load_error(tmp_path, "input:\n  columns:\n    invoice: InvoiceNo\n")
    assert "input.columns.invoice: unknown parameter" in message


def test_every_problem_is_listed(tmp_path):
    message = load_error(tmp_path, "rfm:\n  snapshot_dat: 2011-12-10\nclustering:\n  kk: 3\n")
    assert "rfm.snapshot_dat: unknown parameter" in message
    assert "clustering.kk: unknown parameter" in message


# --- wrong values ----------------------------------------------------------------------


def test_wrong_type_names_the_key_and_the_bad_value(tmp_path):
    message = load_error(tmp_path, "clustering:\n  k: four\n")
    assert "clustering.k:" in message
    assert "'four'" in message


def test_value_outside_a_literal_names_the_key_and_value(tmp_path):
    message = load_error(tmp_path, "rfm:\n  outliers: drop\n")
    assert "rfm.outliers:" in message
    assert "'drop'" in message


def test_out_of_range_quantile_is_rejected(tmp_path):
    message = load_error(tmp_path, "rfm:\n  outlier_quantile: 1.5\n")
    assert "rfm.outlier_quantile:" in message
    assert "1.5" in message


@pytest.mark.parametrize("n_bins", [4, 6])
def test_n_bins_other_than_5_is_rejected_with_the_reason(tmp_path, n_bins):
    message = load_error(tmp_path, f"rfm:\n  n_bins: {n_bins}\n")
    assert "rfm.n_bins" in message
    assert "quintiles" in message
    with pytest.raises(ValidationError, match="quintiles"):
        RFMConfig(n_bins=n_bins)


def test_n_bins_5_is_accepted():
    assert RFMConfig(n_bins=5).n_bins == 5


def test_column_map_needs_amount_or_quantity_and_price():
    with pytest.raises(ValidationError, match="either 'amount' or both 'quantity' and 'unit_price'"):
        ColumnMap(quantity=None)
    with pytest.raises(ValidationError, match="either 'amount'"):
        ColumnMap(unit_price=None, amount=None)
    assert ColumnMap(quantity=None, unit_price=None, amount="Sales").amount == "Sales"
    assert ColumnMap().amount is None  # quantity and unit_price mapped by default


def test_column_map_error_in_a_params_file(tmp_path):
    message = load_error(tmp_path, "input:\n  columns:\n    quantity: null\n")
    assert "input.columns" in message
    assert "'amount'" in message


@pytest.mark.parametrize("name", ["a/b", "../escape", "with space", ""])
def test_unsafe_run_name_is_rejected(tmp_path, name):
    message = load_error(tmp_path, f"run_name: '{name}'\n")
    assert "run_name:" in message
    assert "letters, digits" in message
    assert repr(name) in message


def test_safe_run_name_is_accepted():
    assert RunConfig(run_name="sample_2-b").run_name == "sample_2-b"


def test_run_name_of_100_characters_is_accepted():
    assert RunConfig(run_name="r" * 100).run_name == "r" * 100


def test_long_run_name_is_rejected_before_anything_runs(tmp_path):
    message = load_error(tmp_path, f"run_name: {'q4_' * 80}\n")
    assert "run_name: Value error, run_name is too long (240 characters): use at most 100" in message
    assert "names folders such as reports/<run_name>/" in message
    assert message.endswith(f"(got {repr('q4_' * 80)[:60]}…, 240 characters)")  # not all 240 echoed


def test_run_name_length_counts_utf8_bytes(tmp_path):
    message = load_error(tmp_path, f"run_name: {'é' * 60}\n")  # 60 letters, 2 bytes each
    assert "run_name is too long (60 characters, 120 bytes in UTF-8): use at most 100" in message


# --- unreadable files ------------------------------------------------------------------


def test_missing_params_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="Params file not found") as info:
        load_config(missing)
    assert str(missing) in str(info.value)


def test_invalid_yaml_names_the_file(tmp_path):
    message = load_error(tmp_path, "rfm: [unclosed\n  k: 1\n")
    assert "is not valid YAML" in message


def test_params_file_that_is_not_utf8_names_the_byte_and_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("run_name: shop\ndescription: Caf\u00e9 orders\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    # "run_name: shop\n" is 15 bytes, "description: Caf" 16 more: the é (0xe9) is byte 31, line 2.
    assert str(info.value) == (
        f"Params file {path} is not UTF-8 text: byte 0xe9 at byte offset 31 (line 2) cannot be read. "
        "Open it in your editor and save it as UTF-8."
    )


def test_params_file_saved_as_utf16_says_so(tmp_path):
    path = tmp_path / "notepad.yaml"
    path.write_bytes("run_name: shop\n".encode("utf-16"))  # with its byte order mark
    with pytest.raises(ConfigError, match="is UTF-16 text: open it in your editor and save it as UTF-8"):
        load_config(path)


def test_params_file_with_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("run_name: caf\u00e9\n".encode("utf-8-sig"))
    assert load_config(path).run_name == "caf\u00e9"


def test_yaml_that_is_not_a_mapping_is_rejected(tmp_path):
    message = load_error(tmp_path, "- a\n- b\n")
    assert "must contain a mapping" in message
    assert "list" in message


# --- paths -----------------------------------------------------------------------------


def test_output_paths_follow_rfm_output_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    cfg = RunConfig(run_name="trial")
    root = tmp_path.resolve()
    assert cfg.interim_dir == root / "data" / "interim" / "trial"
    assert cfg.processed_dir == root / "data" / "processed" / "trial"
    assert cfg.exports_dir == root / "data" / "processed" / "trial" / "exports"
    assert cfg.cache_dir == root / "data" / "cache"
    assert cfg.marts_dir == root / "data" / "interim" / "trial" / "marts"
    assert cfg.ledger_path.parent == cfg.interim_dir
    assert cfg.segment_table_path.parent == cfg.interim_dir
    for path in (cfg.metrics_path, cfg.customers_path, cfg.score_bins_path, cfg.clusters_path):
        assert path.parent == cfg.processed_dir


def test_output_paths_default_to_the_project_root(monkeypatch):
    monkeypatch.delenv("RFM_OUTPUT_ROOT", raising=False)
    cfg = RunConfig(run_name="trial")
    assert cfg.interim_dir == PROJECT_ROOT.resolve() / "data" / "interim" / "trial"


def test_input_paths_are_not_moved_by_rfm_output_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RFM_OUTPUT_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    cfg = RunConfig.model_validate({"input": {"path": "data/raw/x.parquet"}})
    assert cfg.input_path == PROJECT_ROOT / "data" / "raw" / "x.parquet"


def test_absolute_input_path_is_kept(tmp_path):
    target = tmp_path / "x.csv"
    cfg = RunConfig.model_validate({"input": {"path": str(target)}})
    assert cfg.input_path == target


def test_frequency_unit_follows_the_frequency_definition():
    assert RFMConfig().frequency_unit == "orders"
    assert RFMConfig(frequency="lines").frequency_unit == "invoice lines"


# --- input: delimiter, decimal mark, time zone, encoding (issue 9) ------------------------------


def test_input_reading_parameters_default_and_parse(tmp_path):
    default = InputConfig()
    assert (default.delimiter, default.decimal, default.timezone) == ("auto", ".", None)
    cfg = load_config(
        write_params(tmp_path, 'input:\n  delimiter: tab\n  decimal: ","\n  timezone: Europe/London\n')
    )
    assert (cfg.input.delimiter, cfg.input.decimal, cfg.input.timezone) == ("\t", ",", "Europe/London")
    assert load_config(write_params(tmp_path, 'input:\n  delimiter: "\\t"\n')).input.delimiter == "\t"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "input:\n  timezone: Europe/Londn\n",
            "input.timezone: unknown time zone 'Europe/Londn'; use an IANA name",
        ),
        (
            "input:\n  csv_encoding: utf-9\n",
            "input.csv_encoding: unknown encoding 'utf-9' (e.g. utf-8, latin-1",
        ),
        ('input:\n  delimiter: ":"\n', "input.delimiter: Input should be 'auto', ',', ';', '\\t' or '|'"),
        ('input:\n  decimal: "/"\n', "input.decimal: Input should be '.' or ','"),
    ],
)
def test_bad_input_reading_parameters_are_named(tmp_path, text, expected):
    assert expected in load_error(tmp_path, text)


def test_two_names_mapped_to_one_column_is_an_error():
    with pytest.raises(
        ValidationError, match="invoice_id and customer_id are both mapped to the column 'Order'"
    ):
        ColumnMap(invoice_id="Order", customer_id="Order")
