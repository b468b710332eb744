"""The forms of the duplicates rule written for scale (issue 13) give the rule's result.

``sql/rfm/clean_consolidate.sql`` sends only the lines of keys shared by several lines through
its windows, and ``duplicate_counts.sql`` groups only those keys; here both are compared, on
hand-built and on random rows (many shared keys, missing invoice numbers and stock codes,
rows rules 1-6 remove), with the rule written as windows over every row (its form before).
The DuckDB scratch session keeps its tables in a throwaway database file, removed on exit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.config import EngineConfig
from rfm_helpers.sql.dialect import render
from rfm_helpers.sql.engines import duckdb_engine

KEY = "invoice_id, stock_code, invoice_date, customer_id"
COPY = (
    "CASE WHEN {a} THEN NULL ELSE quantity END, CASE WHEN {a} THEN NULL ELSE unit_price END, "
    "CASE WHEN {a} THEN amount ELSE NULL END"
)
COLUMNS = (
    "invoice_id, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, "
    "amount, revenue, row_id"
)


def window_form(copies_by_amount: bool) -> str:
    """The consolidate rule as windows over all the rows rules 1-6 keep (the reference)."""
    a = "TRUE" if copies_by_amount else "FALSE"
    return f"""
WITH numbered AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY {KEY}, {COPY.format(a=a)} ORDER BY row_id) AS copy_number
  FROM rfm_typed WHERE removed_by IS NULL
),
variants AS (
  SELECT *,
    COUNT(*) OVER (PARTITION BY {KEY}) AS key_lines,
    ROW_NUMBER() OVER (PARTITION BY {KEY} ORDER BY row_id) AS line_number,
    SUM(quantity) OVER (PARTITION BY {KEY}) AS key_quantity,
    SUM(CAST(amount AS DECIMAL(38, 6))) OVER (PARTITION BY {KEY}) AS key_amount,
    SUM(CAST(revenue AS DECIMAL(38, 6))) OVER (PARTITION BY {KEY}) AS key_revenue
  FROM numbered WHERE copy_number = 1
)
SELECT invoice_id, stock_code, description,
  CASE WHEN key_lines > 1 THEN key_quantity ELSE quantity END AS quantity,
  invoice_date,
  CASE WHEN key_lines > 1 AND NOT {a} THEN CAST(key_revenue AS DOUBLE) / key_quantity ELSE unit_price END
    AS unit_price,
  customer_id, country,
  CASE WHEN key_lines > 1 THEN CAST(key_amount AS DOUBLE) ELSE amount END AS amount,
  CASE WHEN key_lines > 1 THEN CAST(key_revenue AS DOUBLE) ELSE revenue END AS revenue,
  row_id
FROM variants WHERE line_number = 1
"""


def counts_form(copies_by_amount: bool) -> str:
    """The ledger note's figures grouped over every row rules 1-6 keep (the reference)."""
    a = "TRUE" if copies_by_amount else "FALSE"
    return f"""
WITH lines AS (
  SELECT {KEY}, COUNT(*) AS copies FROM rfm_typed WHERE removed_by IS NULL
  GROUP BY {KEY}, {COPY.format(a=a)}
),
keys AS (SELECT SUM(copies) AS key_rows, COUNT(*) AS key_variants FROM lines GROUP BY {KEY})
SELECT
  COALESCE(SUM(key_rows), 0) AS survivor_rows,
  COUNT(*) AS keys,
  COALESCE(SUM(CASE WHEN key_rows > 1 THEN 1 ELSE 0 END), 0) AS keys_shared,
  COALESCE(SUM(key_variants), 0) AS distinct_lines,
  COALESCE(SUM(CASE WHEN key_variants > 1 THEN 1 ELSE 0 END), 0) AS keys_summed,
  COALESCE(SUM(CASE WHEN key_variants > 1 THEN key_variants ELSE 0 END), 0) AS lines_in_summed_keys
FROM keys
"""


def typed_rows(rows: list[tuple]) -> pd.DataFrame:
    """``rfm_typed`` rows from (invoice, stock code, day, customer, quantity, price, amount, removed_by)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "invoice_id",
            "stock_code",
            "day",
            "customer_id",
            "quantity",
            "unit_price",
            "amount",
            "removed_by",
        ],
    )
    frame["invoice_date"] = pd.Timestamp("2011-01-31 10:00") + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["description"] = "ITEM " + frame["stock_code"].fillna("?")
    frame["country"] = "United Kingdom"
    frame["revenue"] = frame["quantity"] * frame["unit_price"]
    frame["row_id"] = np.arange(len(frame), dtype="int64") * 7 + 3
    frame["is_cancellation"] = False
    for column in ("invoice_id", "stock_code", "customer_id", "removed_by"):
        frame[column] = frame[column].astype(object)
    return frame


def random_rows(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    invoices = np.array(["536365", "536366", "C536367", None], dtype=object)
    codes = np.array(["85123A", "22423", "POST", None], dtype=object)
    removed = np.array([None, None, None, "non_positive_price"], dtype=object)
    rows = [
        (
            invoices[rng.integers(4)],
            codes[rng.integers(4)],
            int(rng.integers(2)),  # day 0 = 31 Jan, 1 = 1 Feb: keys never span the month boundary
            str(17850 + rng.integers(2)),
            float(rng.choice([1.0, 2.0, 6.0])),
            float(rng.choice([0.85, 2.55])),
            float(rng.choice([1.7, 5.1])),
            removed[rng.integers(4)],
        )
        for _ in range(n)
    ]
    return typed_rows(rows)


HAND_BUILT = typed_rows(
    [
        ("536365", "85123A", 0, "17850", 6.0, 2.55, 15.3, None),  # alone in its key
        ("536366", "22423", 0, "17850", 2.0, 12.75, 25.5, None),  # two copies: the first stays
        ("536366", "22423", 0, "17850", 2.0, 12.75, 25.5, None),
        ("536367", "22423", 0, "17850", 1.0, 12.75, 12.75, None),  # split in parts: summed
        ("536367", "22423", 0, "17850", 3.0, 12.75, 38.25, None),
        ("536367", "22423", 0, "17850", 1.0, 12.75, 12.75, None),  # a copy of the first part
        ("536367", "22423", 1, "17850", 1.0, 12.75, 12.75, None),  # another day: another key
        (None, "22423", 0, "17850", 1.0, 1.0, 1.0, None),  # no invoice number: still one key
        (None, "22423", 0, "17850", 1.0, 1.0, 1.0, None),
        ("536368", None, 0, "17850", 4.0, 1.0, 4.0, None),  # no stock code
        ("536368", None, 0, "17850", 5.0, 1.0, 5.0, None),
        ("536368", None, 0, "17850", 5.0, 1.0, 5.0, "non_positive_price"),  # removed by rules 1-6
    ]
)


def _both(typed: pd.DataFrame, copies_by_amount: bool) -> tuple[pd.DataFrame, ...]:
    with duckdb_engine(EngineConfig()) as engine:
        engine.load_frame("rfm_typed", typed)
        order = f"SELECT {COLUMNS} FROM ({{}}) AS t ORDER BY row_id"
        new = engine.fetch(order.format(render("clean_consolidate", copies_by_amount=copies_by_amount)))
        old = engine.fetch(order.format(window_form(copies_by_amount)))
        new_counts = engine.fetch(render("duplicate_counts", copies_by_amount=copies_by_amount))
        old_counts = engine.fetch(counts_form(copies_by_amount))
    return new, old, new_counts.astype("int64"), old_counts.astype("int64")


@pytest.mark.parametrize("copies_by_amount", [False, True])
def test_hand_built_case(copies_by_amount: bool) -> None:
    new, old, new_counts, old_counts = _both(HAND_BUILT, copies_by_amount)
    pd.testing.assert_frame_equal(new, old)
    pd.testing.assert_frame_equal(new_counts, old_counts)
    if not copies_by_amount:
        assert new["row_id"].tolist() == [3, 10, 24, 45, 52, 66]
        split = new.set_index("row_id").loc[24]
        assert (split["quantity"], split["revenue"], split["unit_price"]) == (4.0, 51.0, 12.75)
        assert new_counts.iloc[0].tolist() == [11, 6, 4, 8, 2, 4]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("copies_by_amount", [False, True])
def test_random_rows(seed: int, copies_by_amount: bool) -> None:
    new, old, new_counts, old_counts = _both(random_rows(seed), copies_by_amount)
    pd.testing.assert_frame_equal(new, old)
    pd.testing.assert_frame_equal(new_counts, old_counts)


def test_duplicates_never_span_a_month() -> None:
    """The key holds the invoice date: the rule run month by month is the rule run on all rows."""
    typed = random_rows(7)
    whole, _old, _c, _oc = _both(typed, False)
    parts = [_both(typed[typed["invoice_date"].dt.month == month], False)[0] for month in (1, 2)]
    by_month = pd.concat(parts).sort_values("row_id", ignore_index=True)
    pd.testing.assert_frame_equal(by_month, whole)


def test_scratch_tables_live_in_a_removed_file(tmp_path) -> None:
    with duckdb_engine(EngineConfig(temp_directory=tmp_path)) as engine:
        engine.create_table("numbers", "SELECT range AS n FROM range(1000)")
        engine.load_frame("small", pd.DataFrame({"x": [1, 2]}))
        where = engine.fetch(
            "SELECT table_name, temporary FROM duckdb_tables() WHERE table_name IN ('numbers', 'small') "
            "ORDER BY table_name"
        )
        assert where.values.tolist() == [["numbers", False], ["small", True]]
        assert len(list(tmp_path.glob("rfm-scratch-*/scratch.duckdb"))) == 1
        assert int(engine.fetch("SELECT SUM(n) AS s FROM numbers").iloc[0]["s"]) == 499500
    assert not list(tmp_path.glob("rfm-scratch-*"))


def _run_synthetic(data, memory_limit: str = "1GB"):
    from rfm_helpers.config import load_config
    from rfm_helpers.data import reference
    from rfm_helpers.sql import rules, transactions

    cfg = load_config("params/default.yaml")
    codes = reference.load_non_product_codes(cfg.reference.non_product_codes)
    flagged = reference.load_flagged_descriptions(cfg.reference.flagged_descriptions)
    with duckdb_engine(EngineConfig(memory_limit=memory_limit)) as engine:
        present = rules.register_parquet_source(engine, cfg.input.model_copy(update={"path": data}))
        return transactions.run(
            engine, present, cfg.cleaning, cfg.rfm, codes, flagged, cfg.input.missing_text, keep_clean=True
        )


@pytest.mark.parametrize("duplicates", ["consolidate", "drop_exact"])
def test_month_by_month_run_is_the_run(tmp_path, monkeypatch, duplicates: str) -> None:
    """Rule 7 month by month (as on more than rules.BY_MONTH_FROM_ROWS rows) gives the same
    ledger, clean rows and customer table as at once, with every month's partition file."""
    from rfm_helpers.config import load_config
    from rfm_helpers.sql import rules
    from rfm_helpers.synthetic.transactions import generate

    generate(20_000, tmp_path / "transactions", seed=3)
    cleaning = load_config("params/default.yaml").cleaning.model_copy(update={"duplicates": duplicates})
    monkeypatch.setattr(
        "rfm_helpers.config.load_config",
        lambda path, _load=load_config: _load(path).model_copy(update={"cleaning": cleaning}),
    )
    whole = _run_synthetic(tmp_path / "transactions")
    monkeypatch.setattr(rules, "BY_MONTH_FROM_ROWS", 0)
    calls: list[str] = []
    original = rules._on_part
    monkeypatch.setattr(rules, "_on_part", lambda e, q, c: calls.append(c) or original(e, q, c))
    by_month = _run_synthetic(tmp_path / "transactions")
    assert len(calls) >= 13  # one per month (13 months), for the rule and for its note
    pd.testing.assert_frame_equal(by_month.ledger, whole.ledger)
    pd.testing.assert_frame_equal(by_month.clean, whole.clean)
    pd.testing.assert_frame_equal(by_month.customers, whole.customers)
    assert by_month.figures == whole.figures


@pytest.mark.parametrize(
    ("duplicates", "cancellations", "key_hash"),
    [
        ("consolidate", "net", None),
        ("consolidate", "drop", None),
        ("drop_exact", "net", None),
        ("keep", "net", None),
        # A hash of 3 values: almost every line is a candidate, most of them wrongly.
        ("consolidate", "net", "HASH(invoice_id, stock_code, invoice_date, customer_id) % 3"),
    ],
)
def test_in_place_clean_is_the_stored_clean(
    tmp_path, monkeypatch, duplicates: str, cancellations: str, key_hash: str | None
) -> None:
    """On DuckDB rule 7 and the netting are kept as changes to rfm_typed (the lines they may
    change, found by a hash of the key, and their rows) under the view rfm_clean: the same
    ledger, clean rows, customers and figures as the other engines' path, which stores every
    table (clean_*.sql, clean_netted.sql), whatever lines the hash makes candidates."""
    from rfm_helpers.config import load_config
    from rfm_helpers.sql import rules
    from rfm_helpers.synthetic.transactions import generate

    generate(20_000, tmp_path / "transactions", seed=5)
    update = {"duplicates": duplicates, "cancellations": cancellations}
    cleaning = load_config("params/default.yaml").cleaning.model_copy(update=update)
    monkeypatch.setattr(
        "rfm_helpers.config.load_config",
        lambda path, _load=load_config: _load(path).model_copy(update={"cleaning": cleaning}),
    )
    if key_hash is not None:
        monkeypatch.setattr(rules, "_KEY_HASH", key_hash)
    in_place = _run_synthetic(tmp_path / "transactions")
    monkeypatch.setattr(rules, "_in_place", lambda engine: False)
    stored = _run_synthetic(tmp_path / "transactions")
    assert in_place.netting.purchase_lines_removed + in_place.netting.purchase_lines_reduced > 0
    if duplicates != "keep":  # the rule changes lines: the patch is not empty
        assert in_place.ledger.set_index("step").loc["duplicates", "rows_removed"] > 0
    pd.testing.assert_frame_equal(in_place.ledger, stored.ledger)
    pd.testing.assert_frame_equal(in_place.clean, stored.clean)
    pd.testing.assert_frame_equal(in_place.customers, stored.customers)
    assert in_place.figures == stored.figures
