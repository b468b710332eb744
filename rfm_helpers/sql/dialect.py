"""SQL written once, rendered for any engine.

The RFM SQL (``sql/rfm/*.sql``, the default) is written in DuckDB's dialect; the omnichannel
account SQL (``sql/omnichannel/*.sql``, ``sql_dir=``, ``read="postgres"``) in PostgreSQL's.
Each query is parsed with sqlglot, its ``:name`` placeholders are replaced by literal values,
and the tree is written in the target dialect (``duckdb``, ``postgres``, ``spark``, …). There
is no hand-kept copy per engine, and no value is ever formatted into the text: a construct
sqlglot cannot translate fails here, loudly.

A relation several queries read is written once, in its own file: a query reads the table
``query.<name>`` (:data:`INCLUDE_SCHEMA`) and gets the query ``<name>.sql`` of its folder as the
CTE ``<name>`` when it is parsed (its placeholders with it), as if written in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from rfm_helpers.paths import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql" / "rfm"
SOURCE_DIALECT = "duckdb"
"""The dialect the files in :data:`SQL_DIR` are written in."""

INCLUDE_SCHEMA = "query"
"""The schema of the tables that stand for another query file of the same folder."""

ParamValue = bool | int | float | str | dt.date | dt.datetime


class SQLTemplateError(ValueError):
    """A query file is missing, or its placeholders and the given parameters disagree."""


def query_path(name: str, sql_dir: Path = SQL_DIR) -> Path:
    """The file of query ``name`` (``<sql_dir>/<name>.sql``)."""
    return Path(sql_dir) / f"{name}.sql"


def _parsed(name: str, sql_dir: Path, read: str, including: tuple[str, ...] = ()) -> exp.Expression:
    """The tree of query ``name`` with its ``query.<other>`` tables inlined (:func:`_inline`);
    ``including``: the queries that read this one, to refuse a loop."""
    path = query_path(name, sql_dir)
    if not path.is_file():
        known = sorted(p.stem for p in Path(sql_dir).glob("*.sql"))
        raise SQLTemplateError(f"No query {name!r}: {path} does not exist. Known queries: {known}")
    if name in including:
        raise SQLTemplateError(f"{path} reads itself: {' -> '.join((*including, name))}")
    tree = _parse(path.read_text(encoding="utf-8"), read)
    return _inline(tree, path, lambda other: _parsed(other, sql_dir, read, (*including, name)))


def _inline(tree: exp.Expression, path: Path, parsed: Callable[[str], exp.Expression]) -> exp.Expression:
    """``tree`` with each table ``query.<other>`` read from the CTE ``<other>`` (the tree
    ``parsed(other)``), put just before the first CTE that reads it (last if only the final
    SELECT does): the query the engine gets is the one a CTE written in place would give."""
    if not any(t.db == INCLUDE_SCHEMA for t in tree.find_all(exp.Table)):
        return tree
    tree = tree.copy()  # the parsed tree is cached: never changed in place
    ctes = list(tree.ctes)
    taken = {cte.alias for cte in ctes}
    ordered: list[exp.CTE] = []
    for reader in [*ctes, tree]:  # the CTEs in order, then the final SELECT
        for table in list(reader.find_all(exp.Table)):
            if table.db != INCLUDE_SCHEMA:
                continue
            if table.name in taken:
                raise SQLTemplateError(f"{path}: a CTE named {table.name} hides query.{table.name}")
            if table.name not in {cte.alias for cte in ordered}:
                alias = exp.TableAlias(this=exp.to_identifier(table.name))
                ordered.append(exp.CTE(this=parsed(table.name), alias=alias))
            table.set("db", None)
        if reader is not tree:
            ordered.append(reader)
    if ctes:
        ctes[0].parent.set("expressions", ordered)
        return tree
    for cte in ordered:
        tree = tree.with_(cte.alias, as_=cte.this, copy=False)
    return tree


@cache
def _parse(text: str, read: str) -> exp.Expression:
    """The tree of a query's text (cached by text: an edited file is parsed again)."""
    return sqlglot.parse_one(text, read=read)


def placeholders(name: str, *, sql_dir: Path = SQL_DIR, read: str = SOURCE_DIALECT) -> set[str]:
    """The ``:name`` parameters a query file expects."""
    return {p.name for p in _parsed(name, sql_dir, read).find_all(exp.Placeholder)}


def _literal(value: ParamValue) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


def render(
    name: str,
    dialect: str = SOURCE_DIALECT,
    *,
    sql_dir: Path = SQL_DIR,
    read: str = SOURCE_DIALECT,
    **params: ParamValue,
) -> str:
    """The query ``<sql_dir>/<name>.sql`` (``sql/rfm`` by default), written in dialect ``read``,
    with ``params`` filled in, written for ``dialect``.

    Every placeholder must get a value and every value must have a placeholder, so a renamed
    parameter cannot be silently ignored.
    """
    expected = placeholders(name, sql_dir=sql_dir, read=read)
    missing, unknown = expected - set(params), set(params) - expected
    if missing or unknown:
        raise SQLTemplateError(
            f"{query_path(name, sql_dir)}: missing parameters {sorted(missing)}, "
            f"unknown parameters {sorted(unknown)}"
        )
    # transform() works on a copy: the parsed tree is cached and never changed
    tree = _parsed(name, sql_dir, read).transform(
        lambda node: _literal(params[node.name]) if isinstance(node, exp.Placeholder) else node
    )
    if dialect in {"postgres", "postgresql"}:
        tree = tree.transform(_hashable_join_keys, copy=False).transform(_code_point_order, copy=False)
    return tree.sql(dialect=dialect)


def _hashable_join_keys(node: exp.Expression) -> exp.Expression:
    """PostgreSQL: a join's ``a IS NOT DISTINCT FROM b`` as ``COALESCE(a::text, '') =
    COALESCE(b::text, '') AND (a IS NULL) = (b IS NULL)``, the same match (NULL meets NULL only).

    PostgreSQL can neither hash nor merge on ``IS NOT DISTINCT FROM``, so it joined rule 7's
    shared keys to the rows by a nested loop: 125 s a query on Online Retail. Equalities of
    expressions it hashes. Within one column both sides have one type, whose text is equal
    exactly when the values are (text, timestamps and ids: the only null-safe join keys)."""
    if not isinstance(node, exp.Join) or not node.args.get("on"):
        return node

    def hashable(key: exp.Expression) -> exp.Expression:
        if not isinstance(key, exp.NullSafeEQ):
            return key
        sides = (key.this, key.expression)
        as_text = [
            exp.func("COALESCE", exp.cast(side.copy(), "TEXT"), exp.Literal.string("")) for side in sides
        ]
        is_null = [exp.paren(exp.Is(this=side.copy(), expression=exp.Null())) for side in sides]
        return exp.and_(
            exp.EQ(this=as_text[0], expression=as_text[1]), exp.EQ(this=is_null[0], expression=is_null[1])
        )

    node.set("on", node.args["on"].transform(hashable))
    return node


def _code_point_order(node: exp.Expression) -> exp.Expression:
    """PostgreSQL: every cast to text gets ``COLLATE "C"``, so the text columns of ``rfm_typed``
    (and all tables built from it) sort and compare by code point, as DuckDB and Spark do,
    whatever the database's locale (``ORDER BY country`` would follow it otherwise)."""
    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEXT_TYPES):
        return exp.Collate(this=node, expression=exp.Identifier(this="C", quoted=True))
    return node


def query_names(sql_dir: Path = SQL_DIR) -> list[str]:
    """Names of every query file, for tests that render all of them in all dialects."""
    return sorted(p.stem for p in Path(sql_dir).glob("*.sql"))
