"""Cleaning rules, the ledger, and the investigation helpers; key figures on the real file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_helpers.cleaning import (
    LEDGER_COLUMNS,
    CleaningError,
    clean_transactions,
    code_description_mismatch,
    duplicate_key_summary,
    missing_customer_by,
    negative_quantity_summary,
)
from rfm_helpers.config import CANONICAL_COLUMNS, CleaningConfig, ColumnMap, InputConfig
from rfm_helpers.loading import load_transactions
from rfm_helpers.reference import load_flagged_descriptions, load_non_product_codes

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "online_retail.parquet"
SAMPLE = ROOT / "tests" / "data" / "online_retail_sample.parquet"
CODES = pd.DataFrame({"stock_code": ["POST"], "reason": ["postage"]})
FLAGGED = pd.DataFrame({"description": ["damaged"], "reason": ["damage"]})
DOCUMENT = CleaningConfig(drop_non_product_codes=False)

# invoice, stock code, description, quantity, unit price, customer, day of December 2010
ROWS = [
    ("1001", "A", "MUG", 2, 3.0, "1", 1),  # kept, revenue 6
    ("C1002", "A", "MUG", -2, 3.0, "1", 2),  # cancellation, -6
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


def test_rules_in_order_with_ledger() -> None:
    result = clean_transactions(_frame(), CleaningConfig(), CODES, FLAGGED)
    ledger = result.ledger
    assert list(ledger.columns) == LEDGER_COLUMNS
    assert ledger["step"].tolist() == [
        "raw",
        "cancellations",
        "non_positive_quantity",
        "flagged_descriptions",
        "non_positive_price",
        "non_product_codes",
        "missing_customer",
        "duplicates",
    ]
    assert ledger["applied"].all()
    # removed per rule (rows, revenue) and what remains: 14 rows / 45 at the start
    assert ledger["rows_removed"].tolist() == [0, 1, 1, 1, 1, 1, 1, 4]
    assert ledger["revenue_removed"].tolist() == pytest.approx([0, -6, -3, 1, 0, 18, 4, 5])
    assert ledger["rows_remaining"].tolist() == [14, 13, 12, 11, 10, 9, 8, 4]
    assert ledger["revenue_remaining"].tolist() == pytest.approx([45, 51, 54, 53, 53, 35, 31, 26])
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
    assert clean.index.tolist() == [0, 1, 2, 3]
    assert clean["invoice_id"].tolist() == ["1001", "1008", "1009", "1010"]
    assert clean["quantity"].tolist() == [2, 3, 5, 7]
    assert clean["revenue"].tolist() == pytest.approx([6, 3, 10, 7])
    assert clean["unit_price"].tolist() == pytest.approx([3, 1, 2, 1])  # revenue / quantity


def test_duplicates_drop_exact_and_keep() -> None:
    exact = clean_transactions(_frame(), CleaningConfig(duplicates="drop_exact"), CODES, FLAGGED)
    # only the second 1008 line and the second 1010 line of 2 are identical to an earlier row
    assert _ledger(exact).loc["duplicates", "rows_removed"] == 2
    assert _ledger(exact).loc["duplicates", "revenue_removed"] == pytest.approx(5)
    kept = clean_transactions(_frame(), CleaningConfig(duplicates="keep"), CODES, FLAGGED)
    row = _ledger(kept).loc["duplicates"]
    assert not row["applied"] and row["rows_removed"] == 0 and "duplicates: keep" in row["note"]
    assert len(kept.clean) == 8


def test_disabled_rules_are_recorded() -> None:
    cfg = CleaningConfig(
        drop_cancellations=False,
        drop_non_positive_quantity=False,
        drop_flagged_descriptions=False,
        drop_non_positive_price=False,
        drop_non_product_codes=False,
        duplicates="keep",
    )
    ledger = _ledger(clean_transactions(_frame(), cfg, CODES, FLAGGED))
    assert ledger.loc["cancellations", "note"] == "disabled by cleaning.drop_cancellations: false"
    assert not ledger.loc["cancellations":"non_product_codes", "applied"].any()
    assert ledger.loc["cancellations":"non_product_codes", "rows_removed"].eq(0).all()
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
    result = clean_transactions(df, CleaningConfig(), CODES, FLAGGED)
    ledger = _ledger(result)
    assert ledger.loc["cancellations", "rows_removed"] == 1
    assert not ledger.loc["non_positive_quantity", "applied"]
    assert "amount <= 0 is removed by the price rule" in ledger.loc["non_positive_quantity", "note"]
    assert ledger.loc["non_positive_price", "rows_removed"] == 1  # amount 0
    assert "amount <= 0" in ledger.loc["non_positive_price", "note"]
    for step in ("flagged_descriptions", "non_product_codes", "duplicates"):
        assert not ledger.loc[step, "applied"]
    assert "stock_code" in ledger.loc["duplicates", "note"]
    assert result.clean["revenue"].tolist() == [10.0, 5.0, 5.0]
    exact = clean_transactions(df, CleaningConfig(duplicates="drop_exact"), CODES, FLAGGED)
    assert exact.clean["revenue"].tolist() == [10.0, 5.0]


def test_every_row_removed_raises() -> None:
    df = _frame([ROWS[1], ROWS[2]])
    with pytest.raises(CleaningError, match=r"(?s)rule 'non_positive_quantity'.*last 1 rows.*Ledger so far"):
        clean_transactions(df, CleaningConfig(), CODES, FLAGGED)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from([1.0, 2.5])), min_size=1, max_size=12
    )
)
def test_consolidation_keeps_one_line_per_key_and_revenue_of_distinct_lines(lines) -> None:
    rows = [(f"{inv}", "A", "MUG", q, p, "1", 1) for inv, q, p in lines]
    df = _frame(rows)
    result = clean_transactions(df, CleaningConfig(), CODES, FLAGGED)
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
    negative = negative_quantity_summary(df)
    assert negative[["invoice_starts_with_c", "rows"]].values.tolist() == [[True, 1], [False, 1]]
    summary = duplicate_key_summary(df).set_index("metric")["value"]
    assert summary["rows sharing a key with an earlier row"] == 4
    assert summary["groups with identical quantity (case 1)"] == 1  # 1008
    assert summary["groups with different quantities (case 2)"] == 2  # 1009, 1010
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
    ledger = clean_transactions(df, CleaningConfig(), codes, flagged).ledger
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


@pytest.mark.skipif(not RAW.is_file(), reason="real data not present")
def test_document_figures_on_real_file() -> None:
    df = load_transactions(InputConfig())
    codes = load_non_product_codes("data/reference/non_product_stock_codes.csv")
    flagged = load_flagged_descriptions("data/reference/flagged_descriptions.csv")
    ledger = clean_transactions(df, DOCUMENT, codes, flagged).ledger.set_index("step")
    assert ledger.loc["missing_customer", "rows_remaining"] == 397_884
    assert not ledger.loc["non_product_codes", "applied"]
    assert ledger.loc["duplicates", "rows_removed"] == 10_038
    assert ledger.loc["duplicates", "note"].startswith("10,038 rows shared a key")

    before_duplicates = df[
        ~df["invoice_id"].str.startswith("C")
        & (df["quantity"] > 0)
        & (df["unit_price"] > 0)
        & df["customer_id"].notna()
    ]
    summary = duplicate_key_summary(before_duplicates).set_index("metric")["value"]
    assert summary["rows sharing a key with an earlier row"] == 10_038
    assert summary["groups with identical quantity (case 1)"] == 4_450
    assert summary["groups with different quantities (case 2)"] == 4_660

    # The document counts descriptions as written (4,223); trimming spaces merges 12. The
    # loader keeps descriptions as written, so the loaded frame gives the document's figure.
    raw = pd.read_parquet(RAW).rename(columns=ColumnMap().source_to_canonical())
    assert code_description_mismatch(raw).attrs["distinct_stock_codes"] == 4_070
    assert code_description_mismatch(raw).attrs["distinct_descriptions"] == 4_223
    assert code_description_mismatch(df).attrs["distinct_descriptions"] == 4_223
    assert code_description_mismatch(df).attrs["distinct_descriptions_trimmed"] == 4_211
    negative = negative_quantity_summary(df).set_index("invoice_starts_with_c")
    assert negative.loc[True, "rows"] == 9_288 and negative.loc[False, "rows"] == 1_336
