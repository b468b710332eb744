"""Domain checks of the published metric tables (rfm_helpers.analysis.domain), on hand-built frames: what
passes unchanged, and the exact message of each violation (metric, count, example id and value,
the parameter to change)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from rfm_helpers.analysis.domain import (
    Domain,
    DomainError,
    check_account_metrics,
    check_customer_metrics,
    check_metrics,
    check_shares,
)
from rfm_helpers.config import AccountsSource, RFMConfig
from rfm_helpers.sql import transactions


def customers(**columns: list) -> pd.DataFrame:
    """Three valid customers a, b, c; ``columns`` replace values."""
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "recency": [3, 0, 41],
            "frequency": [1, 2, 7],
            "monetary": [12.5, 0.0, 830.25],
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def problem(raised: pytest.ExceptionInfo[DomainError], metric: str) -> str:
    """The message line about ``metric``."""
    lines = [line for line in str(raised.value).splitlines() if line.startswith(f"  - {metric} ")]
    assert len(lines) == 1, str(raised.value)
    return lines[0].removeprefix("  - ")


def test_a_valid_table_passes_unchanged():
    table = customers()
    assert check_customer_metrics(table, RFMConfig()) is table
    pd.testing.assert_frame_equal(table, customers())


def test_negative_recency_names_the_count_the_lowest_example_and_the_parameter():
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(customers(recency=[-2, 5, -16]), RFMConfig(snapshot_date=dt.date(2011, 12, 1)))
    assert problem(raised, "recency") == (
        "recency must be ≥ 0 days, but 2 of 3 customers are below (e.g. customer 'c': -16, the lowest). "
        "Recency is counted up to rfm.snapshot_date 2011-12-01, which is before that customer's last "
        "purchase: set rfm.snapshot_date on or after the last transaction, or null for the day after it."
    )
    assert str(raised.value).startswith("The customers table cannot be published, values are outside")


def test_frequency_below_one_points_at_the_invoice_column():
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(customers(frequency=[1, 0, 7]), RFMConfig())
    assert problem(raised, "frequency").startswith(
        "frequency must be ≥ 1 orders, but 1 of 3 customers are below (e.g. customer 'b': 0, the lowest)."
    )
    assert "check input.columns.invoice_id" in problem(raised, "frequency")


def test_monetary_must_be_finite_and_not_negative():
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(customers(monetary=[np.nan, np.inf, 5.0]), RFMConfig())
    assert problem(raised, "monetary").startswith(
        "monetary must be a finite number, but 2 of 3 customers have none (e.g. customer 'a': nan)."
    )
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(customers(monetary=[4.0, -12.5, -0.5]), RFMConfig())
    line = problem(raised, "monetary")
    assert line.startswith("monetary must be ≥ 0, but 2 of 3 customers are below (e.g. customer 'b': -12.50")
    assert "Set cleaning.cancellations to net or drop, keep cleaning.drop_non_positive_quantity" in line


def test_text_in_a_metric_is_not_a_number():
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(customers(monetary=["12.5", "n/a", 3.0]), RFMConfig())
    assert "1 of 3 customers have none (e.g. customer 'b': 'n/a')" in problem(raised, "monetary")


def test_repeated_and_empty_ids():
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(customers(customer_id=["a", "a", None]), RFMConfig())
    message = str(raised.value)
    assert "customer_id is empty on 1 of 3 rows: each row needs an id" in message
    assert "but 1 id(s) appear on several rows (e.g. 'a' on 2 rows)" in message
    assert "customer_id must identify one row per customer" in message


def test_every_violation_is_listed_in_one_error():
    with pytest.raises(DomainError) as raised:
        check_customer_metrics(
            customers(recency=[-1, 0, 1], frequency=[0, 1, 1], monetary=[1.0, -1.0, 1.0]), RFMConfig()
        )
    assert [line.split(" must ")[0] for line in str(raised.value).splitlines()[1:]] == [
        "  - recency",
        "  - frequency",
        "  - monetary",
    ]


def test_a_missing_column_is_named():
    with pytest.raises(DomainError, match=r"The customers table lacks column\(s\) \['monetary'\]"):
        check_customer_metrics(customers().drop(columns="monetary"), RFMConfig())


def test_generic_check_with_its_own_domain_and_source():
    table = pd.DataFrame({"id": [10, 11], "score": [0.5, -0.25]})
    domains = [Domain("score", 0, "points", "Set scoring.floor.")]
    with pytest.raises(DomainError) as raised:
        check_metrics(table, domains, id_column="id", entity="players", where=" from league.csv")
    assert str(raised.value) == (
        "The players table from league.csv cannot be published, values are outside their domain:\n"
        "  - score must be ≥ 0 points, but 1 of 2 players are below (e.g. player 11: -0.25, the lowest). "
        "Set scoring.floor."
    )


def test_customer_metrics_refuses_a_customer_without_invoice_numbers():
    clean = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", None],
            "invoice_date": pd.to_datetime(["2011-01-01", "2011-01-05", "2011-01-07"]),
            "customer_id": ["A", "A", "B"],
            "quantity": [1.0, 1.0, 1.0],
            "unit_price": [10.0, 5.0, 7.5],
            "revenue": [10.0, 5.0, 7.5],
        }
    )
    # B's only row has no invoice number: COUNT(DISTINCT invoice_id) gives 0 orders.
    with pytest.raises(
        DomainError,
        match=r"frequency must be ≥ 1 orders, but 1 of 2 customers are below \(e.g. customer 'B': 0",
    ):
        transactions.clean_frame(clean, rfm_cfg=RFMConfig())


# --- accounts ----------------------------------------------------------------------------------


def accounts(**columns: list) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": ["app1", "app2"],
            "recency": [0, 30],
            "frequency_broadcast": [1, 12],
            "frequency_charged": [0, 500],  # calls only: nothing charged, still an account
            "monetary": [0, 388_500],
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def test_account_table_allows_no_charged_messages_but_not_no_campaign():
    source = AccountsSource()
    assert check_account_metrics(accounts(), source).equals(accounts())
    with pytest.raises(DomainError) as raised:
        check_account_metrics(accounts(frequency_broadcast=[0, 12]), source, "DuckDB file /x.duckdb")
    assert problem(raised, "frequency_broadcast").startswith(
        "frequency_broadcast must be ≥ 1 campaigns, but 1 of 2 accounts are below (e.g. account 'app1': 0, "
        "the lowest). Every account of the table ran a finished campaign in the window: check the campaign "
        "queries in accounts.sql_dir (sql/omnichannel) against the tables in DuckDB file /x.duckdb."
    )
    assert str(raised.value).startswith("The accounts table from DuckDB file /x.duckdb cannot be published")


def test_account_recency_fix_depends_on_the_method():
    corrected = AccountsSource(window_end=dt.date(2024, 12, 1), as_of=dt.date(2024, 12, 1))
    with pytest.raises(DomainError) as raised:
        check_account_metrics(accounts(recency=[-3, 2]), corrected)
    assert problem(raised, "recency").endswith(
        "Recency is counted up to accounts.as_of (2024-12-01), which is before that account's last campaign "
        "in the window: set accounts.as_of on or after accounts.window_end (2024-12-01)."
    )
    document = AccountsSource(method="document", as_of=dt.date(2024, 12, 16))
    with pytest.raises(DomainError) as raised:
        check_account_metrics(accounts(recency=[-3, 2]), document)
    assert problem(raised, "recency").endswith(
        "Recency is counted up to accounts.as_of (2024-12-16), but the document's recency query takes "
        "campaigns from the whole local year 2024: set accounts.as_of to 2025-01-01 or later."
    )


# --- shares --------------------------------------------------------------------------------------


def test_shares_summing_to_one_pass_per_row_and_as_a_series():
    mix = pd.DataFrame({"wa": [0.5, 0.1], "sms": [0.5, 0.2], "email": [0.0, 0.7]}, index=["g1", "g2"])
    assert check_shares(mix, what="campaigns per cluster") is mix
    assert check_shares(pd.Series([0.25, 0.25, 0.5]), what="revenue by cluster").sum() == 1.0


def test_shares_not_summing_to_one_name_the_row():
    mix = pd.DataFrame({"wa": [0.5, 0.6], "sms": [0.5, 0.39]}, index=["Top", "Dormant"])
    with pytest.raises(DomainError) as raised:
        check_shares(mix, what="campaigns per cluster")
    assert str(raised.value) == (
        "Shares of campaigns per cluster must each lie within 0–100 % and add up to 100 %, but 1 row(s) do "
        "not (e.g. row 'Dormant': wa 60.0000%, sms 39.0000%; total 99.0000%). The shares are computed by "
        "the tool: report this with the params file."
    )


def test_shares_outside_zero_to_one_fail_even_when_the_sum_is_one():
    with pytest.raises(DomainError, match=r"but 1 row\(s\) do not \(e.g. a -20.0000%, b 120.0000%"):
        check_shares(pd.Series({"a": -0.2, "b": 1.2}), what="revenue")


def test_all_zero_rows_only_when_allowed():
    mix = pd.DataFrame({"wa": [1.0, 0.0], "sms": [0.0, 0.0]}, index=["g1", "calls only"])
    with pytest.raises(DomainError, match="row 'calls only'"):
        check_shares(mix, what="revenue per cluster")
    assert check_shares(mix, what="revenue per cluster", allow_zero_rows=True) is mix


def test_a_shared_cause_is_explained_once():
    with pytest.raises(DomainError) as raised:
        check_account_metrics(
            accounts(frequency_charged=[-5, 500], monetary=[-3000, 388_500]), AccountsSource()
        )
    assert problem(raised, "frequency_charged").endswith(
        "Charged messages and revenue come from the mart tables (mart.*_blast_transaction_aggregate) "
        "times the prices of accounts.prices: negative message counts (corrections?) must be fixed in "
        "the database before the accounts can be scored."
    )
    assert problem(raised, "monetary") == (
        "monetary must be ≥ 0, but 1 of 2 accounts are below (e.g. account 'app1': -3,000, the lowest). "
        "Same cause as for frequency_charged."
    )
