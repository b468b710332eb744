"""Cleaning rules, the ledger, and the investigation helpers; key figures on the real file.

The rules run in SQL (``sql/rfm``): :func:`run_rules` runs them on a hand-built frame in a
throwaway DuckDB (:func:`rfm_helpers.sql.transactions.clean_frame`), :func:`build` through the
cleaning step itself (:func:`rfm_helpers.sql.transactions.build`, which also labels each input
row with the rule that removes it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_helpers.config import (
    CANONICAL_COLUMNS,
    CleaningConfig,
    ColumnMap,
    InputConfig,
    RunConfig,
    load_config,
)
from rfm_helpers.data.loading import load_transactions
from rfm_helpers.data.reference import load_flagged_descriptions, load_non_product_codes
from rfm_helpers.sql import transactions
from rfm_helpers.sql.cleaning import (
    LEDGER_COLUMNS,
    ROW_RULES,
    CleaningError,
    code_description_mismatch,
    flagged_description_counts,
    missing_customer_by,
    negative_quantity_summary,
    non_product_counts,
)

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "online_retail.parquet"
SAMPLE = ROOT / "tests" / "data" / "online_retail_sample.parquet"
CODES = pd.DataFrame({"stock_code": ["POST"], "reason": ["postage"]})
FLAGGED = pd.DataFrame({"description": ["damaged"], "reason": ["damage"]})
DOCUMENT = CleaningConfig(drop_non_product_codes=False)

# invoice, stock code, description, quantity, unit price, customer, day of December 2010
ROWS = [
    ("1001", "A", "MUG", 2, 3.0, "1", 1),  # kept, revenue 6
    ("C1002", "A", "MUG", -2, 3.0, "1", 2),  # cancellation, -6: cancels 1001 in full (netting)
    ("1003", "A", "MUG", -1, 3.0, "1", 3),  # quantity < 0 without C, -3
    ("1004", "B", "  Damaged ", 1, 1.0, "1", 4),  # flagged (case and spaces ignored), 1
    ("1005", "A", "MUG", 1, 0.0, "1", 5),  # price 0, 0
    ("1006", "POST", "POSTAGE", 1, 18.0, "1", 6),  # non-product code, 18
    ("1007", "A", "MUG", 1, 4.0, None, 7),  # no customer, 4
    ("1008", "A", "MUG", 3, 1.0, "2", 8),  # case 1: two identical lines, 3 + 3
    ("1008", "A", "MUG", 3, 1.0, "2", 8),
    ("1009", "A", "MUG", 1, 2.0, "3", 9),  # case 2: 1 + 4 at 2.0 -> one line of 5, revenue 10
    ("1009", "A", "MUG", 4, 2.0, "3", 9),
    ("1010", "A", "MUG", 2, 1.0, "4", 10),  # mixed [2, 2, 5] -> copy of 2 dropped, 2 + 5 = 7
    ("1010", "A", "MUG", 2, 1.0, "4", 10),
    ("1010", "A", "MUG", 5, 1.0, "4", 10),
]
# raw revenue: 6 - 6 - 3 + 1 + 0 + 18 + 4 + (3 + 3) + (2 + 8) + (2 + 2 + 5) = 45


def _frame(rows: list[tuple] = ROWS) -> pd.DataFrame:
    df = pd.DataFrame(
        rows,
        columns=["invoice_id", "stock_code", "description", "quantity", "unit_price", "customer_id", "day"],
    )
    df = df.assign(
        invoice_date=pd.to_datetime("2010-12-01") + pd.to_timedelta(df["day"] - 1, unit="D"),
        country="United Kingdom",
        quantity=df["quantity"].astype("float64"),
    ).astype({c: "str" for c in ("invoice_id", "stock_code", "description", "customer_id", "country")})
    df = df[[c for c in CANONICAL_COLUMNS if c != "amount"]]
    return df.assign(revenue=df["quantity"] * df["unit_price"])


def _ledger(result) -> pd.DataFrame:
    return result.ledger.set_index("step")


def run_rules(
    df: pd.DataFrame, cfg: CleaningConfig | None = None, codes: pd.DataFrame = CODES
) -> transactions.Result:
    """The cleaning rules on ``df`` (no customer table: several frames here have one customer)."""
    return transactions.clean_frame(df, cfg, non_product=codes, flagged=FLAGGED, with_customers=False)


def build(df: pd.DataFrame, folder: Path, cfg: CleaningConfig | None = None) -> transactions.Cleaning:
    """The cleaning step on ``df`` written as a parquet export in the Online Retail layout:
    ``raw`` and ``rules`` (``is_cancellation``, ``removed_by`` per row) besides the ledger."""
    source = df.drop(columns="revenue").rename(
        columns={v: k for k, v in ColumnMap().source_to_canonical().items()}
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export.parquet"
    source.to_parquet(path, index=False)
    run = RunConfig(run_name="hand_built", input=InputConfig(path=path), cleaning=cfg or CleaningConfig())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(folder))
        return transactions.build(run, CODES, FLAGGED)


def test_rules_in_order_with_ledger() -> None:
    result = run_rules(_frame(), CleaningConfig())
    ledger = result.ledger
    assert list(ledger.columns) == LEDGER_COLUMNS
    assert ledger["step"].tolist() == [
        "raw",
        "cancellation_lines",
        "non_positive_quantity",
        "flagged_descriptions",
        "non_positive_price",
        "non_product_codes",
        "missing_customer",
        "duplicates",
        "cancelled_orders",
    ]
    assert ledger["applied"].all()
    # removed per rule (rows, revenue) and what remains: 14 rows / 45 at the start; the
    # cancellation line's -6 is removed (+6), then the order it cancels (1001, 2 x 3.0) is netted.
    assert ledger["rows_removed"].tolist() == [0, 1, 1, 1, 1, 1, 1, 4, 1]
    assert ledger["revenue_removed"].tolist() == pytest.approx([0, -6, -3, 1, 0, 18, 4, 5, 6])
    assert ledger["rows_remaining"].tolist() == [14, 13, 12, 11, 10, 9, 8, 4, 3]
    assert ledger["revenue_remaining"].tolist() == pytest.approx([45, 51, 54, 53, 53, 35, 31, 26, 20])
    # duplicates: 1008 has 1 extra line, 1009 1, 1010 2 = 4 rows; copies dropped: one 1008 (3) and one
    # 1010 line of 2 (2) = revenue 5; 1009 and 1010 are summed.
    assert (
        _ledger(result)
        .loc["duplicates", "note"]
        .startswith(
            "4 rows shared a key: 1 groups of identical copies dropped, 2 groups summed (2 copies dropped"
        )
    )

    clean = result.clean
    assert list(clean.columns) == list(_frame().columns)
    assert clean.index.tolist() == [0, 1, 2]
    assert clean["invoice_id"].tolist() == ["1008", "1009", "1010"]
    assert clean["quantity"].tolist() == [3, 5, 7]
    assert clean["revenue"].tolist() == pytest.approx([3, 10, 7])
    assert clean["unit_price"].tolist() == pytest.approx([1, 2, 1])  # revenue / quantity


def test_duplicates_drop_exact_and_keep() -> None:
    exact = run_rules(_frame(), CleaningConfig(duplicates="drop_exact"))
    # only the second 1008 line and the second 1010 line of 2 are identical to an earlier row
    assert _ledger(exact).loc["duplicates", "rows_removed"] == 2
    assert _ledger(exact).loc["duplicates", "revenue_removed"] == pytest.approx(5)
    kept = run_rules(_frame(), CleaningConfig(duplicates="keep"))
    row = _ledger(kept).loc["duplicates"]
    assert not row["applied"] and row["rows_removed"] == 0 and "duplicates: keep" in row["note"]
    assert len(kept.clean) == 7  # 8 lines left by rules 1-6, less 1001 (cancelled in full)


def test_disabled_rules_are_recorded() -> None:
    cfg = CleaningConfig(
        cancellations="keep",
        drop_non_positive_quantity=False,
        drop_flagged_descriptions=False,
        drop_non_positive_price=False,
        drop_non_product_codes=False,
        duplicates="keep",
    )
    ledger = _ledger(run_rules(_frame(), cfg))
    assert ledger.loc["cancellation_lines", "note"] == "disabled by cleaning.cancellations: keep"
    assert ledger.loc["cancelled_orders", "note"] == "disabled by cleaning.cancellations: keep"
    assert not ledger.loc["cancellation_lines":"non_product_codes", "applied"].any()
    assert not ledger.loc["cancelled_orders", "applied"]
    assert ledger.loc["cancellation_lines":"non_product_codes", "rows_removed"].eq(0).all()
    # the missing-customer rule always runs: RFM needs a customer
    assert ledger.loc["missing_customer", "applied"] and ledger.loc["missing_customer", "rows_removed"] == 1


def test_amount_only_export() -> None:
    df = pd.DataFrame(
        {
            "invoice_id": ["1", "C2", "3", "4", "4"],
            "invoice_date": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-04"]
            ),
            "customer_id": ["a", "a", "b", "c", "c"],
            "amount": [10.0, -10.0, 0.0, 5.0, 5.0],
        }
    ).astype({"invoice_id": "str", "customer_id": "str"})
    df["revenue"] = df["amount"]
    result = run_rules(df, CleaningConfig())
    ledger = _ledger(result)
    assert ledger.loc["cancellation_lines", "rows_removed"] == 1
    assert not ledger.loc["non_positive_quantity", "applied"]
    assert "amount <= 0 is removed by the price rule" in ledger.loc["non_positive_quantity", "note"]
    assert ledger.loc["non_positive_price", "rows_removed"] == 1  # amount 0
    assert "amount <= 0" in ledger.loc["non_positive_price", "note"]
    for step in ("flagged_descriptions", "non_product_codes", "duplicates", "cancelled_orders"):
        assert not ledger.loc[step, "applied"]
    assert "stock_code" in ledger.loc["duplicates", "note"]
    # Without quantity and stock code a cancellation cannot be matched to its order: said so.
    assert ledger.loc["cancelled_orders", "note"] == (
        "no quantity, stock_code column in the data: cancelled orders cannot be matched to the orders "
        "they cancel and stay counted as sales"
    )
    assert result.netting is None
    assert result.clean["revenue"].tolist() == [10.0, 5.0, 5.0]
    exact = run_rules(df, CleaningConfig(duplicates="drop_exact"))
    assert exact.clean["revenue"].tolist() == [10.0, 5.0]


def test_every_row_removed_raises() -> None:
    df = _frame([ROWS[1], ROWS[2]])
    with pytest.raises(CleaningError, match=r"(?s)rule 'non_positive_quantity'.*last 1 rows.*Ledger so far"):
        run_rules(df, CleaningConfig())


# --- cancelled orders netted -------------------------------------------------------------


def _lines(rows: list[tuple]) -> pd.DataFrame:
    """(invoice, stock code, quantity, unit price, customer, "YYYY-MM-DD HH:MM") as loaded."""
    df = pd.DataFrame(
        rows, columns=["invoice_id", "stock_code", "quantity", "unit_price", "customer_id", "invoice_date"]
    )
    df = df.assign(
        description="ITEM",
        country="United Kingdom",
        quantity=df["quantity"].astype("float64"),
        invoice_date=pd.to_datetime(df["invoice_date"]),
        customer_id=df["customer_id"].astype("str").where(df["customer_id"].notna()),
    ).astype({c: "str" for c in ("invoice_id", "stock_code", "description", "country")})
    df = df[[c for c in CANONICAL_COLUMNS if c != "amount"]]
    return df.assign(revenue=df["quantity"] * df["unit_price"])


# fmt: off
NETTING_ROWS = [
    ("1", "A", 10, 2.0, "c1", "2011-01-01 10:00"),    # bought first: consumed first, all 10
    ("2", "A", 5, 2.0, "c1", "2011-01-02 10:00"),     # then 2 of these 5: 3 left (6.00)
    ("C3", "A", -12, 2.0, "c1", "2011-01-03 10:00"),  # cancels 12 = 10 + 2, oldest first
    ("C4", "B", -1, 4.0, "c1", "2011-01-03 11:00"),   # c1 never bought B here: unmatched
    ("C5", "D", -2, 1.0, "c2", "2011-01-04 09:00"),   # before c2's only purchase of D: unmatched
    ("6", "D", 2, 1.0, "c2", "2011-01-05 09:00"),     # kept (2.00): bought after the cancellation
    ("C7", "A", -1, 2.0, None, "2011-01-06 09:00"),   # no customer: cannot be matched
    ("8", "A", 4, 2.0, "c3", "2011-01-07 09:00"),     # another customer's A: untouched (8.00)
]
# fmt: on
# raw revenue: 20 + 10 - 24 - 4 - 2 + 2 - 2 + 8 = 8; the four cancellation lines carry -32.


def test_netting_takes_the_oldest_purchases_first() -> None:
    result = run_rules(_lines(NETTING_ROWS), CleaningConfig())
    ledger = _ledger(result)
    assert ledger.loc["cancellation_lines", "rows_removed"] == 4
    assert ledger.loc["cancellation_lines", "revenue_removed"] == pytest.approx(-32)
    # Netting: line 1 (10 x 2.00) removed, line 2 reduced from 5 to 3 units (10.00 -> 6.00).
    row = ledger.loc["cancelled_orders"]
    assert row["applied"]
    assert (row["rows_removed"], row["revenue_removed"]) == (1, pytest.approx(24))
    assert (row["rows_remaining"], row["revenue_remaining"]) == (3, pytest.approx(16))
    clean = result.clean
    assert clean["invoice_id"].tolist() == ["2", "6", "8"]
    assert clean["quantity"].tolist() == [3, 2, 4]
    assert clean["revenue"].tolist() == pytest.approx([6, 2, 8])
    assert clean["unit_price"].tolist() == pytest.approx([2, 1, 2])  # unchanged by netting

    netting = result.netting
    assert (netting.matched_in_full, netting.matched_in_part, netting.unmatched) == (1, 0, 2)
    assert netting.unmatchable == 1  # C7, no customer
    assert netting.unmatched_units == 3  # C4's 1 and C5's 2
    assert (netting.purchase_lines_removed, netting.purchase_lines_reduced) == (1, 1)
    assert netting.revenue == pytest.approx(24)
    assert row["note"] == (
        "4 cancellation lines: 1 matched earlier purchases (1 in full, 0 in part); 2 matched none (their "
        "order predates the data or was removed by an earlier rule); 1 have no customer ID or stock code "
        "and cannot be matched; 3 cancelled units unmatched in all. Netted: 1 purchase lines cancelled in "
        "full, 1 in part."
    )


def test_a_cancellation_takes_only_what_was_bought_before_it() -> None:
    rows = [
        ("1", "A", 5, 1.0, "c1", "2011-01-01 10:00"),
        ("C2", "A", -7, 1.0, "c1", "2011-01-02 10:00"),  # only line 1 is earlier: 5 matched, 2 not
        ("3", "A", 5, 1.0, "c1", "2011-01-03 10:00"),
        ("C4", "A", -3, 1.0, "c1", "2011-01-04 10:00"),  # 3 of line 3: 2 left
        ("5", "A", 1, 1.0, "c2", "2011-01-04 10:00"),  # keeps c2 (and the clean table) non-empty
        ("6", "B", 4, 1.0, "c1", "2011-01-05 10:00"),  # same minute as C7: counts as before it
        ("C7", "B", -4, 1.0, "c1", "2011-01-05 10:00"),
    ]
    result = run_rules(_lines(rows), CleaningConfig())
    assert result.clean["invoice_id"].tolist() == ["3", "5"]
    assert result.clean["quantity"].tolist() == [2, 1]
    netting = result.netting
    # C2 matched in part (5 of 7), C4 and C7 in full; 2 units unmatched
    assert (netting.matched_in_full, netting.matched_in_part, netting.unmatched) == (2, 1, 0)
    assert netting.unmatched_units == 2
    assert (netting.purchase_lines_removed, netting.purchase_lines_reduced) == (2, 1)


def test_drop_keeps_cancelled_orders_and_measures_them() -> None:
    netted = run_rules(_lines(NETTING_ROWS), CleaningConfig())
    dropped = run_rules(_lines(NETTING_ROWS), CleaningConfig(cancellations="drop"))
    row = _ledger(dropped).loc["cancelled_orders"]
    assert not row["applied"] and row["rows_removed"] == 0 and row["revenue_removed"] == 0
    # The document's method keeps lines 1 and 2 whole: 20 + 10 + 2 + 8 = 40, of which 24 cancelled.
    assert dropped.clean["revenue"].sum() == pytest.approx(40)
    assert dropped.netting.revenue == pytest.approx(24) == netted.netting.revenue
    assert row["note"].startswith(
        "not applied (cleaning.cancellations: drop, the source document's method): cancelled orders stay "
        "counted as sales, 24.00 of revenue on 1 purchase lines cancelled in full, 1 in part."
    )
    assert _ledger(dropped).loc["cancellation_lines", "rows_removed"] == 4


def fifo_by_hand(lines: pd.DataFrame, cancels: pd.DataFrame) -> tuple[dict, dict]:
    """Second method: walk the cancellations in time order; each takes units from the same
    customer's earlier purchases of the same stock code, oldest first."""
    left = lines["quantity"].to_dict()
    matched = {}
    order = ["invoice_date", "row"]
    purchases = lines.assign(row=lines.index).sort_values(order)
    for row, cancel in cancels.assign(row=cancels.index).sort_values(order).iterrows():
        wanted = -cancel["quantity"]
        same = purchases[
            (purchases["customer_id"] == cancel["customer_id"])
            & (purchases["stock_code"] == cancel["stock_code"])
            & (purchases["invoice_date"] <= cancel["invoice_date"])
        ]
        for line in same.index:
            take = min(wanted, left[line])
            left[line] -= take
            wanted -= take
        matched[row] = -cancel["quantity"] - wanted
    consumed = {row: lines.loc[row, "quantity"] - q for row, q in left.items()}
    return consumed, matched


events = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2"]),
        st.sampled_from(["A", "B"]),
        st.integers(0, 5),  # day
        st.integers(-6, 6).filter(lambda q: q != 0),  # negative: a cancellation
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(events)
def test_closed_form_netting_equals_fifo_by_hand(rows) -> None:
    frame = pd.DataFrame(rows, columns=["customer_id", "stock_code", "day", "quantity"])
    frame = frame.assign(
        invoice_date=pd.Timestamp("2011-01-01") + pd.to_timedelta(frame["day"], unit="D"),
        quantity=frame["quantity"].astype("float64"),
    ).astype({"customer_id": "str", "stock_code": "str"})
    lines, cancels = frame[frame["quantity"] > 0], frame[frame["quantity"] < 0]
    expected_consumed, expected_matched = fifo_by_hand(lines, cancels)

    # The same events as an export: one invoice per line (so rule 7 merges nothing), "C" for a
    # cancellation, and a purchase of another customer so that netting never empties the table.
    export = _lines(
        [
            (
                f"{'C' if e.quantity < 0 else 'P'}{i}",
                e.stock_code,
                e.quantity,
                1.0,
                e.customer_id,
                e.invoice_date,
            )
            for i, e in enumerate(frame.itertuples())
        ]
        + [("ANCHOR", "Z", 1, 1.0, "c9", "2011-01-01")]
    )
    result = run_rules(export)
    left = result.clean.set_index("invoice_id")["quantity"]
    consumed = {i: lines.loc[i, "quantity"] - left.get(f"P{i}", 0.0) for i in lines.index}
    assert consumed == expected_consumed
    netting = result.netting
    wanted = -cancels["quantity"]
    matched = pd.Series(expected_matched, dtype="float64").reindex(cancels.index)
    assert netting.cancellation_lines == len(cancels)
    assert netting.matched_in_full == int((matched == wanted).sum())
    assert netting.matched_in_part == int(((matched > 0) & (matched < wanted)).sum())
    assert netting.unmatched == int((matched == 0).sum())
    assert netting.unmatched_units == (wanted - matched).sum()
    bought = lines["quantity"]
    taken = pd.Series(expected_consumed, dtype="float64").reindex(lines.index)
    assert netting.purchase_lines_removed == int((taken == bought).sum())
    assert netting.purchase_lines_reduced == int(((taken > 0) & (taken < bought)).sum())
    assert netting.revenue == pytest.approx(taken.sum())  # every unit at 1.00


def test_removed_by_labels_each_row_with_the_ledgers_rule(tmp_path: Path) -> None:
    df = _frame()
    cleaned = build(df, tmp_path / "default")
    labels = cleaned.rules["removed_by"]
    ledger = cleaned.ledger.set_index("step")
    # one row per rule 1-6 (see ROWS); the 8 others reach the duplicates rule
    assert labels.iloc[1:7].tolist() == [
        "cancellation_lines",
        "non_positive_quantity",
        "flagged_descriptions",
        "non_positive_price",
        "non_product_codes",
        "missing_customer",
    ]
    assert labels.iloc[[0, *range(7, 14)]].isna().all()
    counts = labels.value_counts()
    for step in counts.index:
        assert counts[step] == ledger.loc[step, "rows_removed"]
    assert labels.isna().sum() == ledger.loc["missing_customer", "rows_remaining"]
    # A negative line of a C invoice is counted by the first rule only (as the ledger does).
    no_cancellation_rule = build(df, tmp_path / "keep", CleaningConfig(cancellations="keep"))
    assert no_cancellation_rule.rules["removed_by"].iloc[1] == "non_positive_quantity"
    # is_cancellation holds whichever rules run: the invoice number starts with "C".
    assert no_cancellation_rule.rules["is_cancellation"].tolist() == [i == 1 for i in range(14)]
    assert cleaned.rules["is_cancellation"].tolist() == [i == 1 for i in range(14)]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from([1.0, 2.5])), min_size=1, max_size=12
    )
)
def test_consolidation_keeps_one_line_per_key_and_revenue_of_distinct_lines(lines) -> None:
    rows = [(f"{inv}", "A", "MUG", q, p, "1", 1) for inv, q, p in lines]
    df = _frame(rows)
    result = run_rules(df, CleaningConfig())
    distinct = df.drop_duplicates(subset=["invoice_id", "quantity", "unit_price"])
    assert len(result.clean) == df["invoice_id"].nunique()
    assert result.clean["revenue"].sum() == pytest.approx(distinct["revenue"].sum())
    assert np.allclose(result.clean["revenue"], result.clean["quantity"] * result.clean["unit_price"])


def test_investigation_helpers_on_small_frame() -> None:
    df = _frame()
    by_country = missing_customer_by(df, "country")
    assert by_country.to_dict("records") == [
        {
            "country": "United Kingdom",
            "rows": 14,
            "rows_missing_customer": 1,
            "share_missing": pytest.approx(1 / 14),
            "revenue_missing": 4.0,
        }
    ]
    assert missing_customer_by(df, "month")["month"].tolist() == ["2010-12"]
    # is_cancellation of each row, as sql/rfm/typed.sql defines it: the invoice starts with "C"
    rules = pd.DataFrame({"is_cancellation": df["invoice_id"].str.startswith("C")}, index=df.index)
    negative = negative_quantity_summary(df, rules)
    assert negative[["invoice_starts_with_c", "rows"]].values.tolist() == [[True, 1], [False, 1]]
    # stock code A is "MUG" everywhere; give it a second description
    mismatch = code_description_mismatch(_frame([*ROWS, ("1011", "A", "MUG RED", 1, 1.0, "5", 11)]))
    # rows of A: 1001, C1002, 1003, 1005, 1007 (5) + 1008 x2 + 1009 x2 + 1010 x3 + 1011 = 13
    assert mismatch.to_dict("records") == [
        {"stock_code": "A", "n_descriptions": 2, "rows": 13, "descriptions": "MUG | MUG RED"}
    ]
    # codes A, B, POST; descriptions MUG, "  Damaged ", POSTAGE, MUG RED (4 as written and trimmed)
    assert mismatch.attrs == {
        "distinct_stock_codes": 3,
        "distinct_descriptions": 4,
        "distinct_descriptions_trimmed": 4,
        "codes_with_several_descriptions": 1,
    }


@pytest.mark.skipif(not SAMPLE.is_file(), reason="run tools/make_test_sample.py")
def test_ledger_chain_on_sample() -> None:
    df = load_transactions(InputConfig(path=SAMPLE))
    codes = load_non_product_codes("data/reference/non_product_stock_codes.csv")
    flagged = load_flagged_descriptions("data/reference/flagged_descriptions.csv")
    ledger = transactions.clean_frame(df, CleaningConfig(), non_product=codes, flagged=flagged).ledger
    assert (ledger["rows_remaining"].shift() - ledger["rows_removed"]).iloc[1:].tolist() == ledger[
        "rows_remaining"
    ].iloc[1:].tolist()
    chain = ledger["revenue_remaining"].shift() - ledger["revenue_removed"]
    assert chain.iloc[1:].to_numpy() == pytest.approx(
        ledger["revenue_remaining"].iloc[1:].to_numpy(), abs=0.011
    )
    assert ledger["rows_remaining"].is_monotonic_decreasing
    # Cancellations carry negative revenue, so removing them raises the total; once only
    # positive lines are left (after the price rule), revenue can only go down.
    after_price = ledger.iloc[ledger.index[ledger["step"] == "non_positive_price"][0] :]
    assert after_price["revenue_remaining"].is_monotonic_decreasing


@pytest.fixture(scope="module")
def real_cfg() -> RunConfig:
    if not RAW.is_file():
        pytest.skip("real data not present")
    return load_config(ROOT / "params" / "default.yaml")


@pytest.fixture(scope="module")
def real_build(real_cfg: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> transactions.Cleaning:
    """The cleaning step on the real file: every raw row (fewer than ``engine.sample_rows``)
    with the rule that removes it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RFM_OUTPUT_ROOT", str(tmp_path_factory.mktemp("real_build")))
        return transactions.build(
            real_cfg,
            load_non_product_codes(real_cfg.reference.non_product_codes),
            load_flagged_descriptions(real_cfg.reference.flagged_descriptions),
        )


def test_document_figures_on_real_file(real_build: transactions.Cleaning) -> None:
    df = load_transactions(InputConfig())
    codes = load_non_product_codes("data/reference/non_product_stock_codes.csv")
    flagged = load_flagged_descriptions("data/reference/flagged_descriptions.csv")
    result = transactions.clean_frame(df, DOCUMENT, non_product=codes, flagged=flagged, with_customers=False)
    ledger = result.ledger.set_index("step")
    assert ledger.loc["missing_customer", "rows_remaining"] == 397_884
    assert not ledger.loc["non_product_codes", "applied"]
    assert ledger.loc["duplicates", "rows_removed"] == 10_038
    assert ledger.loc["duplicates", "note"].startswith("10,038 rows shared a key")

    # The document counts descriptions as written (4,223); trimming spaces merges 12. The
    # loader keeps descriptions as written, so the loaded frame gives the document's figure.
    raw = pd.read_parquet(RAW).rename(columns=ColumnMap().source_to_canonical())
    assert code_description_mismatch(raw).attrs["distinct_stock_codes"] == 4_070
    assert code_description_mismatch(raw).attrs["distinct_descriptions"] == 4_223
    assert code_description_mismatch(df).attrs["distinct_descriptions"] == 4_223
    assert code_description_mismatch(df).attrs["distinct_descriptions_trimmed"] == 4_211
    assert len(real_build.raw) == len(df)
    negative = negative_quantity_summary(real_build.raw, real_build.rules).set_index("invoice_starts_with_c")
    assert negative.loc[True, "rows"] == 9_288 and negative.loc[False, "rows"] == 1_336


# --- cancelled orders on the real file (issue 10) ------------------------------------------


@pytest.fixture(scope="module")
def real_default(real_cfg: RunConfig):
    cfg = real_cfg
    raw = load_transactions(cfg.input)
    codes = load_non_product_codes(cfg.reference.non_product_codes)
    flagged = load_flagged_descriptions(cfg.reference.flagged_descriptions)
    netted = transactions.clean_frame(raw, cfg.cleaning, cfg.rfm, codes, flagged)
    drop = cfg.cleaning.model_copy(update={"cancellations": "drop"})
    dropped = transactions.clean_frame(raw, drop, cfg.rfm, codes, flagged)
    return cfg, raw, netted, dropped


def test_real_cancellation_lines_are_the_896_8k_the_waterfall_adds_back(real_default) -> None:
    _, raw, netted, _ = real_default
    ledger = _ledger(netted)
    c_lines = raw[raw["invoice_id"].str.startswith("C")]
    assert len(c_lines) == ledger.loc["cancellation_lines", "rows_removed"] == 9_288
    assert c_lines["revenue"].sum() == pytest.approx(-896_812.49, abs=0.005)
    assert ledger.loc["cancellation_lines", "revenue_removed"] == -896_812.49


def test_real_netting_equals_fifo_by_hand(real_default) -> None:
    _, raw, netted, dropped = real_default
    # Second method: the cancellation lines straight from the raw file, walked one by one against
    # the deduplicated lines (the clean table of the document's method, which nets nothing).
    lines = dropped.clean.sort_values("invoice_date", kind="stable")
    cancels = raw[raw["invoice_id"].str.startswith("C") & raw["customer_id"].notna()]
    by_pair: dict[tuple, list] = {}
    for line in lines.itertuples():
        by_pair.setdefault((line.customer_id, line.stock_code), []).append(line)
    left, removed_revenue = lines["quantity"].to_dict(), 0.0
    for cancel in cancels.sort_values("invoice_date", kind="stable").itertuples():
        wanted = -cancel.quantity
        for line in by_pair.get((cancel.customer_id, cancel.stock_code), []):
            if line.invoice_date > cancel.invoice_date or wanted == 0:
                break
            take = min(wanted, left[line.Index])
            left[line.Index] -= take
            wanted -= take
            removed_revenue += take * line.unit_price
    rows_removed = sum(q == 0 for q in left.values())
    row = _ledger(netted).loc["cancelled_orders"]
    assert row["applied"]
    assert rows_removed == row["rows_removed"] == 2_949
    assert removed_revenue == pytest.approx(row["revenue_removed"], abs=0.01)
    assert row["revenue_removed"] == 450_645.92
    assert row["revenue_remaining"] == 8_284_829.87 == pytest.approx(netted.clean["revenue"].sum(), abs=0.01)
    assert netted.netting.unmatched + netted.netting.matched_in_part == 1_485  # cancellations with units left
    assert netted.netting.unmatched_units == 24_159
    assert (
        netted.netting.unmatchable == int(raw["invoice_id"].str.startswith("C").sum() - len(cancels)) == 383
    )


def test_real_customer_12346_cancelled_everything_and_drops_out(real_default) -> None:
    cfg, raw, netted, dropped = real_default
    # The export: 74,215 storage jars at 10:01, all cancelled at 10:17 (C541433).
    rows = raw[raw["customer_id"] == "12346"]
    assert rows[["invoice_id", "quantity", "revenue"]].values.tolist() == [
        ["541431", 74_215.0, 77_183.60],
        ["C541433", -74_215.0, -77_183.60],
    ]
    assert "12346" not in set(netted.clean["customer_id"])
    assert "12346" not in set(netted.customers["customer_id"])
    # The document's method keeps the cancelled order: a £77,184 customer.
    kept = dropped.customers.set_index("customer_id")
    assert kept.loc["12346", "monetary"] == pytest.approx(77_183.60)


def test_real_customer_16446_keeps_only_the_order_he_did_not_cancel(real_default) -> None:
    cfg, raw, netted, dropped = real_default
    rows = raw[raw["customer_id"] == "16446"]
    # Second method, a direct query: his lines that are neither a cancellation nor of the stock
    # code he cancelled (80,995 x PAPER CRAFT, LITTLE BIRDIE: 581483 at 09:15, C581484 at 09:27).
    cancelled_codes = set(rows.loc[rows["invoice_id"].str.startswith("C"), "stock_code"])
    assert cancelled_codes == {"23843"}
    expected = rows[~rows["invoice_id"].str.startswith("C") & ~rows["stock_code"].isin(cancelled_codes)]
    assert expected["revenue"].sum() == pytest.approx(2.90)  # 1.65 + 1.25, on 18 May 2011

    left = netted.clean[netted.clean["customer_id"] == "16446"]
    assert left["invoice_id"].tolist() == expected["invoice_id"].tolist() == ["553573", "553573"]
    assert left["revenue"].sum() == pytest.approx(expected["revenue"].sum())
    metrics = netted.customers.set_index("customer_id").loc["16446"]
    assert metrics["monetary"] == pytest.approx(2.90)
    assert metrics["frequency"] == 1
    assert metrics["last_purchase"] == pd.Timestamp("2011-05-18 09:52")
    assert metrics["recency"] == 206  # 18 May to the snapshot date, 10 Dec 2011
    before = dropped.customers.set_index("customer_id").loc["16446"]
    assert before["monetary"] == pytest.approx(168_472.50)


def _marts(result: transactions.Result, folder: Path) -> transactions.Marts:
    """The report-ready tables of ``result``, as the later notebooks read them."""
    result.write(folder)
    return transactions.Marts(folder, InputConfig().columns)


def test_real_top_product_is_no_longer_a_cancelled_order(real_default, tmp_path: Path) -> None:
    _, _, netted, dropped = real_default
    assert _marts(dropped, tmp_path / "dropped").top_products(1)["product"].tolist() == [
        "PAPER CRAFT , LITTLE BIRDIE"
    ]
    top = _marts(netted, tmp_path / "netted").top_products(1)
    assert "23843" not in set(netted.clean["stock_code"])  # its only sale was cancelled in full
    # Second method: revenue per stock code straight from the clean lines.
    by_code = netted.clean.groupby("stock_code")["revenue"].sum()
    assert top["stock_code"].tolist() == [by_code.idxmax()]
    assert top["revenue"].iloc[0] == pytest.approx(by_code.max())


# --- figures of the raw file reconciled with the ledger -----------------------------------


def test_flagged_and_non_product_tables_say_how_many_rows_reach_their_rule(tmp_path: Path) -> None:
    rows = [
        *ROWS,
        ("1011", "B", "damaged", -1, 1.0, "5", 11),  # flagged, but the quantity rule removes it first
        ("1012", "POST", "POSTAGE", 1, 0.0, "5", 12),  # non-product, but the price rule removes it first
    ]
    df = _frame(rows)
    cleaned = build(df, tmp_path)
    stages = cleaned.rules["removed_by"]
    flagged = flagged_description_counts(df, FLAGGED, stages)
    assert flagged.columns.tolist() == [
        "description",
        "reason",
        "rows_in_file",
        "rows_reaching_rule",
        "rows_removed_earlier",
        "revenue",
    ]
    assert flagged[
        ["description", "rows_in_file", "rows_reaching_rule", "rows_removed_earlier"]
    ].values.tolist() == [["damaged", 2, 1, 1]]
    codes = non_product_counts(df, CODES, stages)
    assert codes[
        ["stock_code", "rows_in_file", "rows_reaching_rule", "rows_removed_earlier"]
    ].values.tolist() == [["POST", 2, 1, 1]]
    ledger = cleaned.ledger.set_index("step")
    assert flagged["rows_reaching_rule"].sum() == ledger.loc["flagged_descriptions", "rows_removed"]
    assert codes["rows_reaching_rule"].sum() == ledger.loc["non_product_codes", "rows_removed"]
    # Without stages the tables count the file only.
    assert "rows_reaching_rule" not in flagged_description_counts(df, FLAGGED).columns


def test_real_figures_reconcile_with_the_ledger(real_default, real_build: transactions.Cleaning) -> None:
    cfg, _, netted, _ = real_default
    flagged = load_flagged_descriptions(cfg.reference.flagged_descriptions)
    raw, stages = real_build.raw, real_build.rules["removed_by"]
    ledger = _ledger(netted)
    assert real_build.ledger.equals(netted.ledger)
    # Every row removed by rules 1-6 is labelled with its rule, as many as the ledger counts.
    assert stages.value_counts().to_dict() == ledger.loc[list(ROW_RULES), "rows_removed"].to_dict()
    # "check": 162 rows in the raw file, 39 removed by the flagged rule (the ledger's note), the
    # other 123 by the quantity rule first.
    table = flagged_description_counts(raw, flagged, stages).set_index("description")
    assert table.loc["check", ["rows_in_file", "rows_reaching_rule", "rows_removed_earlier"]].tolist() == [
        162,
        39,
        123,
    ]
    assert "check 39" in ledger.loc["flagged_descriptions", "note"]
    # 2,515 rows at price 0 (and 2 negative) in the raw file; 1,016 reach the price rule, which
    # is what it removes; the others have a non-positive quantity or a flagged description.
    zero_or_less = ~(raw["unit_price"] > 0)
    assert (raw["unit_price"] == 0).sum() == 2_515 and zero_or_less.sum() == 2_517
    reach = stages[zero_or_less].value_counts().to_dict()
    assert reach == {"non_positive_price": 1_016, "non_positive_quantity": 1_336, "flagged_descriptions": 165}
    assert ledger.loc["non_positive_price", "rows_removed"] == 1_016
    # 38 countries in the raw file, 37 in the clean data: Hong Kong's lines have no customer ID.
    assert raw["country"].nunique() == 38 and netted.clean["country"].nunique() == 37
    assert set(raw["country"]) - set(netted.clean["country"]) == {"Hong Kong"}
    assert raw.loc[raw["country"] == "Hong Kong", "customer_id"].isna().all()
