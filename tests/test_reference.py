"""Reference tables: the shipped files validate, and broken copies fail with clear messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rfm_helpers.config import ColumnMap, ReferenceConfig, RunConfig
from rfm_helpers.data.reference import (
    ALL_RFM_CODES,
    ReferenceError,
    load_flagged_descriptions,
    load_group_playbook,
    load_non_product_codes,
    load_segment_groups,
    load_segment_table,
    segment_table_source,
)
from rfm_helpers.paths import resolve

REF = ReferenceConfig()
PLAYBOOK = resolve("data/reference/group_playbook.csv")


def _shipped_wide() -> pd.DataFrame:
    return pd.read_csv(resolve(REF.segments), dtype=str)


def test_shipped_reference_files_load() -> None:
    table = load_segment_table(REF.segments)
    assert list(table.columns) == ["rfm_code", "segment"]
    assert sorted(table["rfm_code"]) == list(ALL_RFM_CODES)  # 125 codes, each once
    # the file's segment order is kept: reports list segments as the document does
    assert table["segment"].unique().tolist()[:2] == ["Champions", "Loyal"]
    assert table["segment"].unique().tolist()[-1] == "Lost Customers"
    assert table.set_index("rfm_code").loc["555", "segment"] == "Champions"
    assert table["segment"].nunique() == 11

    groups = load_segment_groups(REF.segment_groups, table["segment"].unique())
    assert len(groups) == 11 and groups["group"].nunique() == 4
    # group order = first appearance in segment_groups.csv
    assert groups["group"].unique().tolist() == [
        "Loyal & High-Value",
        "High-Risk",
        "New & Potential",
        "Inactive & Lost",
    ]
    playbook = load_group_playbook(PLAYBOOK, groups["group"].unique())
    assert playbook["priority"].tolist() == [1, 2, 3, 4]

    codes = load_non_product_codes(REF.non_product_codes)
    assert {"POST", "DOT", "M", "m", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK"} <= set(
        codes["stock_code"]
    )
    assert codes["stock_code"].is_monotonic_increasing and codes["reason"].ne("").all()
    flagged = load_flagged_descriptions(REF.flagged_descriptions)
    assert {"check", "damaged", "found", "thrown away", "wet damaged", "smashed", "wrong barcode"} <= set(
        flagged["description"]
    )
    # Product names are upper case; none may be flagged.
    assert not flagged["description"].str.contains("HOLDER|T-LIGHT|SWIRLY MARBLES", case=True).any()


def test_segment_table_from_sheet_frame() -> None:
    sheet = _shipped_wide()
    sheet.attrs["source"] = "book.xlsx (sheet 'Segmentation')"
    assert len(load_segment_table(sheet)) == 125


def test_segment_table_missing_and_repeated_codes(tmp_path: Path) -> None:
    wide = _shipped_wide()
    # Champions loses 555 (now assigned to no segment); Loyal gets 554, which Champions has too.
    wide.loc[wide["segment"] == "Champions", "rfm_codes"] = "554, 544, 545, 454, 455, 445"
    wide.loc[wide["segment"] == "Loyal", "rfm_codes"] += ", 554"
    path = tmp_path / "segments.csv"
    wide.to_csv(path, index=False)
    with pytest.raises(ReferenceError) as err:
        load_segment_table(path)
    message = str(err.value)
    assert "segments.csv" in message
    assert "assigned to no segment: 555" in message
    assert "554 in Champions, Loyal" in message


def test_segment_table_bad_code() -> None:
    wide = _shipped_wide()
    wide.loc[wide["segment"] == "Lost Customers", "rfm_codes"] = "111, 112, 121, 131, 141, 151, 61"
    with pytest.raises(ReferenceError, match=r"not three digits 1-5: '61' \(Lost Customers\)"):
        load_segment_table(wide)


def test_segment_table_needs_columns(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("Segment,codes\nA,111\n")
    with pytest.raises(ReferenceError, match=r"s\.csv: missing column\(s\) segment, rfm_codes"):
        load_segment_table(tmp_path / "s.csv")


def test_segment_groups_problems(tmp_path: Path) -> None:
    path = tmp_path / "groups.csv"
    path.write_text("segment,group\nChampions,A\nChampions,B\nLoyall,A\n")
    with pytest.raises(ReferenceError) as err:
        load_segment_groups(path, ["Champions", "Loyal"])
    message = str(err.value)
    assert "groups.csv" in message
    assert "more than once: Champions" in message
    assert "without a group: Loyal" in message
    assert "not in the segment table (typo?): Loyall" in message


def test_playbook_missing_group(tmp_path: Path) -> None:
    with pytest.raises(ReferenceError, match=r"group_playbook\.csv: add a row for the group\(s\) VIP"):
        load_group_playbook(PLAYBOOK, ["High-Risk", "VIP"])


def test_lists_reject_duplicates_and_empty_keys(tmp_path: Path) -> None:
    path = tmp_path / "flagged.csv"
    path.write_text("description,reason\nDamaged,damage\n damaged ,damage\n")
    with pytest.raises(ReferenceError, match=r"flagged\.csv: description values listed more than once"):
        load_flagged_descriptions(path)
    path.write_text("stock_code,reason\nPOST,postage\n,nothing\n")
    with pytest.raises(ReferenceError, match=r"flagged\.csv: empty 'stock_code' on line\(s\) 3"):
        load_non_product_codes(path)
    path.write_text("code,why\nPOST,postage\n")
    with pytest.raises(ReferenceError, match=r"header must be stock_code,reason"):
        load_non_product_codes(path)


def test_missing_reference_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceError, match=r"not found.*nope\.csv"):
        load_non_product_codes(tmp_path / "nope.csv")


def _workbook(path: Path, segment_rows: list[tuple[str, str]] | None) -> Path:
    """A 2-sheet workbook in the first document's layout (transactions + Segmentation)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "E-commerce retail"
    sheet.append(list(ColumnMap().source_to_canonical()))  # the UCI column names
    sheet.append(["536365", "85123A", "MUG", 6, "2010-12-01 08:26:00", 2.55, 17850, "United Kingdom"])
    if segment_rows is not None:
        seg = book.create_sheet("Segmentation")
        seg.append(["Segment", "RFM Score"])
        for row in segment_rows:
            seg.append(list(row))
    book.save(path)
    return path


def _config(path: Path) -> RunConfig:
    return RunConfig.model_validate({"input": {"path": str(path)}})


def test_segment_table_source_prefers_the_workbook_sheet(tmp_path: Path) -> None:
    wide = _shipped_wide()
    # move code 111 from Lost Customers to Hibernating: still 125 codes, once each
    rows = [(s, c) for s, c in zip(wide["segment"], wide["rfm_codes"], strict=True)]
    rows = [(s, c.replace("111, ", "")) if s == "Lost Customers" else (s, c) for s, c in rows]
    rows = [(s, "111, " + c) if s == "Hibernating Customers" else (s, c) for s, c in rows]
    source = segment_table_source(_config(_workbook(tmp_path / "book.xlsx", rows)))
    assert "sheet 'Segmentation'" in source.description
    table = load_segment_table(source.table).set_index("rfm_code")["segment"]
    assert table["111"] == "Hibernating Customers"


def test_segment_table_source_falls_back_and_says_so(tmp_path: Path) -> None:
    source = segment_table_source(_config(_workbook(tmp_path / "book.xlsx", None)))
    assert "has no 'Segmentation' sheet" in source.description
    assert "data/reference/rfm_segments.csv" in source.description
    assert len(load_segment_table(source.table)) == 125


def test_segment_table_source_rejects_a_broken_sheet(tmp_path: Path) -> None:
    rows = [("Champions", "555, 554"), ("Lost Customers", "111, 111")]
    with pytest.raises(ReferenceError, match=r"(?s)book\.xlsx.*codes assigned to no segment.*111 in Lost"):
        segment_table_source(_config(_workbook(tmp_path / "book.xlsx", rows)))


def test_segment_table_source_for_parquet_is_the_shipped_table() -> None:
    source = segment_table_source(RunConfig())
    assert source.description == "the shipped table data/reference/rfm_segments.csv"
