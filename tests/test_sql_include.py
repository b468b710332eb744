"""A relation several queries read is written once: a query file reads ``query.<name>`` and
gets ``<name>.sql`` of its folder as a CTE (rfm_helpers.sql.dialect). The mechanism on small
hand-written files, and the shipped SQL that uses it (the platform's tables, rule 7's keys)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.sql.dialect import SQLTemplateError, placeholders, query_names, render

OMNICHANNEL = PROJECT_ROOT / "sql" / "omnichannel"
RFM = PROJECT_ROOT / "sql" / "rfm"


def write(folder: Path, **queries: str) -> Path:
    for name, text in queries.items():
        (folder / f"{name}.sql").write_text(text, encoding="utf-8")
    return folder


def cte_names(sql: str) -> list[str]:
    return [cte.alias for cte in sqlglot.parse_one(sql, read="duckdb").ctes]


def scalar(sql: str) -> int:
    return duckdb.sql(sql).fetchall()[0][0]


BASE = "SELECT n FROM range(5) AS t(n) WHERE n >= :low"
"""0..4 from :low on: with low = 2, the rows 2, 3, 4."""


def test_included_query_is_a_cte_before_its_first_reader_with_its_placeholders(tmp_path):
    folder = write(
        tmp_path,
        base=BASE,
        top=(
            "WITH first AS (SELECT 10 AS ten), "
            "doubled AS (SELECT n * 2 AS m FROM query.base AS b), "
            "again AS (SELECT n FROM query.base) "
            "SELECT (SELECT SUM(m) FROM doubled) + (SELECT COUNT(*) FROM again) + (SELECT ten FROM first)"
        ),
    )
    assert placeholders("top", sql_dir=folder) == {"low"}
    sql = render("top", sql_dir=folder, low=2)
    assert cte_names(sql) == ["first", "base", "doubled", "again"]  # read twice, defined once
    assert scalar(sql) == (2 + 3 + 4) * 2 + 3 + 10


def test_a_query_without_ctes_gets_one(tmp_path):
    folder = write(tmp_path, base=BASE, top="SELECT COUNT(*) FROM query.base")
    sql = render("top", sql_dir=folder, low=1)
    assert cte_names(sql) == ["base"]
    assert scalar(sql) == 4


def test_included_queries_may_read_others(tmp_path):
    folder = write(
        tmp_path,
        base=BASE,
        middle="SELECT n + 100 AS n FROM query.base",
        top="SELECT MAX(n) FROM query.middle",
    )
    assert scalar(render("top", sql_dir=folder, low=0)) == 104


def test_a_loop_and_a_hiding_cte_are_refused(tmp_path):
    folder = write(
        tmp_path,
        a="SELECT * FROM query.b",
        b="SELECT * FROM query.a",
        base=BASE,
        hides="WITH base AS (SELECT 1 AS n) SELECT * FROM query.base",
        reads_absent="SELECT * FROM query.absent",
    )
    with pytest.raises(SQLTemplateError, match="reads itself: a -> b -> a"):
        placeholders("a", sql_dir=folder)
    with pytest.raises(SQLTemplateError, match="a CTE named base hides query.base"):
        placeholders("hides", sql_dir=folder)
    with pytest.raises(SQLTemplateError, match="No query 'absent'"):
        placeholders("reads_absent", sql_dir=folder)


def tables_named(path: Path, read: str) -> set[str]:
    """The tables a file names itself (its text as written, not rendered)."""
    tree = sqlglot.parse_one(path.read_text(encoding="utf-8"), read=read)
    return {".".join(p for p in (t.db, t.name) if p) for t in tree.find_all(exp.Table)}


def test_the_platforms_tables_are_stacked_in_one_place():
    """Only broadcasts.sql and messages.sql name the broadcast tables and the marts (and the
    document_*.sql files, which reproduce the source document's own queries)."""
    platform = {
        "raw.whatsappbroadcasts",
        "raw.smsbroadcasts",
        "raw.emailbroadcasts",
        "raw.broadcastcalls",
        "mart.wa_blast_transaction_aggregate",
        "mart.sms_blast_transaction_aggregate",
        "mart.email_blast_transaction_aggregate",
    }
    names = {name: tables_named(OMNICHANNEL / f"{name}.sql", "postgres") for name in query_names(OMNICHANNEL)}
    corrected = {n for n in names if not n.startswith("document_") and n not in ("broadcasts", "messages")}
    assert corrected == {
        "accounts_on_record",
        "activity_summary",
        "campaigns",
        "charged_messages",
        "exclusions",
    }
    assert names["broadcasts"] | names["messages"] == platform
    for name in corrected:
        assert not names[name] & platform, name
        assert names[name] & {"query.broadcasts", "query.messages"}, name


def test_rule_7_shared_keys_are_defined_once():
    readers = [n for n in query_names(RFM) if "query.shared_keys" in tables_named(RFM / f"{n}.sql", "duckdb")]
    assert readers == ["clean_consolidate", "duplicate_counts"]
    for name in query_names(RFM):
        text = (RFM / f"{name}.sql").read_text(encoding="utf-8")
        assert ("HAVING COUNT(*) > 1" in text) == (name == "shared_keys"), name
