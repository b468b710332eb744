"""The spreadsheet-safe CSV writer (``rfm_helpers.atomic.write_export_csv``): text that a
spreadsheet would run as a formula is neutralised with a leading ``'``, numbers are never
altered, money is rounded to the cent, ids are written as they are. Expected files are typed
out by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from rfm_helpers import atomic
from rfm_helpers.analysis import insights


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(
                ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "00123"], dtype="string"
            ),
            "country": pd.Series(
                ["United Kingdom", "\tTab", "x-ray", "=cmd|' /C calc'!A0", None], dtype=object
            ),
            "segment": pd.Categorical(["Loyal", "-Lost", "Loyal", "At Risk", "Loyal"]),
            "balance": [-2.5, 0.1 + 0.2, 1.0, 4.25, 3.0],  # a float, but not money
            "monetary": [0.1 + 0.2, 507.02000000000004, -12.3456, -0.001, float("nan")],
            "orders": [-1, 2, 3, 4, 5],
        }
    )


EXPECTED = (
    "customer_id,country,segment,balance,monetary,orders\n"
    # the quote and commas of the HYPERLINK make the csv writer quote the cell, doubling its quotes
    '"\'=HYPERLINK(""http://x"",""y"")",United Kingdom,Loyal,-2.5,0.3,-1\n'
    # 0.1 + 0.2 as money is 0.3; as a plain float it is written as it is
    "'+1,'\tTab,'-Lost,0.30000000000000004,507.02,2\n"
    # "x-ray" has its dash inside: harmless. -12.3456 rounds to -12.35
    "'-2,x-ray,Loyal,1.0,-12.35,3\n"
    # -0.001 rounds to 0.0, not -0.0
    "'@SUM(A1),'=cmd|' /C calc'!A0,At Risk,4.25,0.0,4\n"
    # the id keeps its leading zeros; missing values stay empty
    "00123,,Loyal,3.0,,5\n"
)


def test_export_text_worked_out_by_hand(frame: pd.DataFrame, tmp_path: Path) -> None:
    before = frame.copy()
    target = tmp_path / "exports" / "customers.csv"
    atomic.write_export_csv(frame, target)
    assert target.read_text(encoding="utf-8") == EXPECTED
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified


def test_export_reads_back_as_text_with_a_quote_and_numbers_as_numbers(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    target = tmp_path / "customers.csv"
    atomic.write_export_csv(frame, target)
    back = pd.read_csv(target, dtype={"customer_id": str}, keep_default_na=False)
    assert back["customer_id"].tolist() == [
        '\'=HYPERLINK("http://x","y")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "00123",
    ]
    assert back["orders"].tolist() == [-1, 2, 3, 4, 5]  # a negative number stays a number
    assert back["balance"].tolist()[0] == -2.5


def test_every_trigger_character_and_nothing_else(tmp_path: Path) -> None:
    cells = ["=a", "+a", "-a", "@a", "\ta", "a=", " =a", "'=a", "", "ä"]
    atomic.write_export_csv(pd.DataFrame({"text": pd.Series(cells, dtype=object)}), tmp_path / "t.csv")
    # "\ta" stays unquoted (a tab is not special in a comma-separated file); "" is written empty
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == (
        "text\n'=a\n'+a\n'-a\n'@a\n'\ta\na=\n =a\n'=a\n\"\"\nä\n"
    )


def test_numbers_inside_a_text_column_are_not_altered(tmp_path: Path) -> None:
    mixed = pd.DataFrame({"value": pd.Series([-2.0, "-2", -7], dtype=object)})
    atomic.write_export_csv(mixed, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text(encoding="utf-8") == "value\n-2.0\n'-2\n-7\n"


def test_column_names_are_neutralised_too(tmp_path: Path) -> None:
    atomic.write_export_csv(pd.DataFrame({"=x": [1], "-y": ["b"]}), tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text(encoding="utf-8") == "'=x,'-y\n1,b\n"


def test_a_carriage_return_in_a_cell_quotes_the_text_so_no_row_splits(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["\r=cmd", "ok\rthen"], "monetary": [1.5, -2.0]})
    target = tmp_path / "cr.csv"
    atomic.write_export_csv(frame, target)
    assert target.read_bytes().decode("utf-8") == ('"name","monetary"\n"\'\r=cmd",1.5\n"ok\rthen",-2.0\n')
    with target.open(newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [["name", "monetary"], ["'\r=cmd", "1.5"], ["ok\rthen", "-2.0"]]


@pytest.mark.parametrize(
    ("name", "money"),
    [
        ("monetary", True),
        ("revenue_removed", True),
        ("median monetary (£)", True),
        ("unit_price", True),
        ("amount", True),
        ("share of revenue", False),
        ("revenue_share", False),
        ("frequency", False),
        ("recency", False),
    ],
)
def test_money_columns_are_told_by_name(name: str, money: bool) -> None:
    assert atomic.is_money_column(name) is money


def test_money_rounding_leaves_integer_and_non_money_columns_alone() -> None:
    frame = pd.DataFrame({"amount": [3, 4], "share of revenue": [1 / 3, 2 / 3], "revenue": [1 / 3, 2 / 3]})
    rounded = atomic.round_money(frame)
    assert rounded["amount"].tolist() == [3, 4]
    assert rounded["share of revenue"].tolist() == [1 / 3, 2 / 3]
    assert rounded["revenue"].tolist() == [0.33, 0.67]


def test_write_csv_into_an_exports_folder_is_safe_elsewhere_only_rounds_money(tmp_path: Path) -> None:
    ledger = pd.DataFrame({"rule": ["-duplicates"], "revenue_removed": [0.1 + 0.2]})
    atomic.write_csv(ledger, tmp_path / "cleaning_ledger.csv")
    assert (tmp_path / "cleaning_ledger.csv").read_text(
        encoding="utf-8"
    ) == "rule,revenue_removed\n-duplicates,0.3\n"
    atomic.write_csv(ledger, tmp_path / "exports" / "account_clusters.csv")
    exported = (tmp_path / "exports" / "account_clusters.csv").read_text(encoding="utf-8")
    assert exported == "rule,revenue_removed\n'-duplicates,0.3\n"


def test_write_exports_neutralises_every_file(tmp_path: Path, playbook: pd.DataFrame) -> None:
    export = pd.DataFrame(
        {
            "customer_id": pd.Series(["@c1", "c2"], dtype="string"),
            "country": pd.Series(["=France", "Germany"], dtype="string"),
            "group": pd.Series(["Loyal & High-Value", "High-Risk"], dtype="string"),
            "monetary": [10.1 + 20.2, -5.0],
        }
    )
    paths = insights.write_exports(export, tmp_path / "exports")
    texts = {p.name: p.read_text(encoding="utf-8") for p in paths}
    header = "customer_id,country,group,monetary\n"
    loyal = "'@c1,'=France,Loyal & High-Value,30.3\n"  # 10.1 + 20.2 is 30.299999999999997
    risk = "c2,Germany,High-Risk,-5.0\n"
    dictionary = texts.pop("data_dictionary.csv")
    assert texts == {
        "customer_segments.csv": header + loyal + risk,
        "group_high_risk.csv": header + risk,
        "group_loyal_and_high_value.csv": header + loyal,
    }
    # the dictionary's examples are the cells as written: already neutralised, never a formula
    examples = [row[3] for row in csv.reader(dictionary.splitlines())][1:]
    assert examples == ["'@c1", "'=France", "Loyal & High-Value", "30.3"]
