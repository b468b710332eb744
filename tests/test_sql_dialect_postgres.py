"""A join on ``IS NOT DISTINCT FROM`` (rule 7's shared keys) rendered for PostgreSQL
(rfm_helpers.sql.dialect): the same matches as DuckDB's null-safe join, on keys with NULLs and
empty texts, and a plan PostgreSQL can hash or merge (it nested-looped the original: 125 s a query on
Online Retail's 400k rows)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import psycopg
import pytest

from rfm_helpers.sql.dialect import render

# Two relations keyed by (a text, a timestamp); NULL must meet NULL only, "" must meet "" only.
T = "TIMESTAMP '2011-01-02 08:26:00'"
ROWS = f"(1, 'x', {T}), (2, NULL, {T}), (3, '', {T}), (4, 'x', NULL), (5, NULL, NULL), (6, 'y', {T})"
"""(id, code, at) of the left relation; the right one has the ids x 10 and row 6 a day later."""
LEFT = f"SELECT * FROM (VALUES {ROWS}) AS t(id, code, at)"
RIGHT = (
    f"SELECT id * 10 AS id, code, CASE WHEN id = 6 THEN at + INTERVAL 1 DAY ELSE at END AS at "
    f"FROM (VALUES {ROWS}) AS t(id, code, at)"
)
JOIN = (
    f"WITH l AS ({LEFT}), r AS ({RIGHT}) "
    "SELECT l.id AS left_id, r.id AS right_id FROM l JOIN r "
    "ON l.code IS NOT DISTINCT FROM r.code AND l.at IS NOT DISTINCT FROM r.at ORDER BY 1, 2"
)
EXPECTED = [(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)]
"""Worked out by hand: each left row meets the right row of the same code and time, NULL and
"" included; 6 and 60 differ in time."""


@pytest.fixture
def join_file(tmp_path: Path) -> Path:
    (tmp_path / "join.sql").write_text(JOIN, encoding="utf-8")
    return tmp_path


def test_the_null_safe_join_matches_on_duckdb(join_file):
    assert duckdb.sql(render("join", "duckdb", sql_dir=join_file)).fetchall() == EXPECTED


def test_the_null_safe_join_matches_the_same_rows_on_postgres(join_file, postgres_url):
    sql = render("join", "postgres", sql_dir=join_file)
    assert "IS NOT DISTINCT FROM" not in sql
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        assert connection.execute(sql).fetchall() == EXPECTED


def _joins_on_the_key(plan: dict) -> list[str]:
    """The join nodes of ``plan`` whose condition reads invoice_id (rule 7's key), by type."""
    condition = " ".join(plan.get(key, "") for key in ("Hash Cond", "Merge Cond", "Join Filter"))
    here = [plan["Node Type"]] if "invoice_id" in condition else []
    return here + [node for child in plan.get("Plans", []) for node in _joins_on_the_key(child)]


def test_rule_7_never_joins_its_shared_keys_by_nested_loop_on_postgres(postgres_url):
    """The consolidate rule's query on a table shaped as rfm_typed: PostgreSQL's plan joins
    the keys by hash or merge, never by a nested loop."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TEMP TABLE rfm_typed (invoice_id TEXT, stock_code TEXT, description TEXT, "
            "quantity FLOAT8, invoice_date TIMESTAMP, unit_price FLOAT8, customer_id TEXT, country TEXT, "
            "amount FLOAT8, revenue FLOAT8, row_id BIGINT, is_cancellation BOOLEAN, removed_by TEXT)"
        )
        connection.execute(
            "INSERT INTO rfm_typed SELECT 'I' || (n / 3), 'S' || (n % 7), 'd', 1, TIMESTAMP '2011-01-01', 1, "
            "'C' || (n % 50), 'UK', 1, 1, n, FALSE, NULL FROM generate_series(1, 20000) AS n"
        )
        connection.execute("ANALYZE rfm_typed")
        for name in ("clean_consolidate", "duplicate_counts"):
            sql = render(name, "postgres", copies_by_amount=False)
            explained = connection.execute(f"EXPLAIN (FORMAT JSON) {sql}").fetchone()[0]
            if isinstance(explained, str):
                explained = json.loads(explained)
            joins = _joins_on_the_key(explained[0]["Plan"])
            assert joins and set(joins) <= {"Hash Join", "Merge Join"}, f"{name}: {joins}"


def test_the_row_sample_is_the_top_n_by_hash_on_postgres(postgres_url):
    from rfm_helpers.sql.engines import sample_query

    table = "(SELECT g AS row_id FROM generate_series(0, 49999) AS g) AS t"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE TEMP TABLE rows_for_sample AS SELECT * FROM {table}")
        query = f"SELECT row_id FROM {sample_query('postgres', 'rows_for_sample', 5000)} AS s ORDER BY row_id"
        sample = [r[0] for r in connection.execute(query).fetchall()]
        assert sample == [r[0] for r in connection.execute(query).fetchall()]  # repeatable
        top = connection.execute(
            "SELECT row_id FROM rows_for_sample "
            "ORDER BY hashtextextended(CAST(row_id AS TEXT), 0), row_id LIMIT 5000"
        ).fetchall()
    assert len(sample) == len(set(sample)) == 5000
    assert sample == sorted(r[0] for r in top)
    assert len({row_id // 5000 for row_id in sample}) == 10  # spread over the whole table
