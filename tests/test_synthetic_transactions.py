"""The synthetic transactions: exact size, same columns as the real file, seeded, realistic shares."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from rfm_helpers.synthetic import transactions as synth

ROWS = 200_000


@pytest.fixture(scope="module")
def profile():
    return synth.fit_profile()


@pytest.fixture(scope="module")
def generated(profile, tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "tx"
    files = synth.generate(ROWS, out, seed=7, profile=profile)
    return files, pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


@pytest.fixture(scope="module")
def real():
    return pd.read_parquet(synth.REAL_DATA)


def test_exact_row_count_and_the_real_schema(generated):
    files, frame = generated
    assert len(frame) == ROWS
    real_schema = pq.read_schema(synth.REAL_DATA)
    for path in files:
        schema = pq.read_schema(path)
        assert schema.names == real_schema.names
        assert [schema.field(n).type for n in schema.names] == [
            real_schema.field(n).type for n in schema.names
        ]


def test_one_file_per_month_in_time_order(generated):
    files, frame = generated
    months = [f.parent.name for f in files]
    assert months == sorted(months) and len(months) == len(set(months))
    for path in files:
        dates = pd.read_parquet(path)["InvoiceDate"]
        assert (dates.dt.strftime("month=%Y-%m") == path.parent.name).all()
        assert dates.is_monotonic_increasing


def test_same_seed_same_data_other_seed_other_data(profile, generated, tmp_path):
    _, frame = generated
    again = synth.generate(ROWS, tmp_path / "again", seed=7, profile=profile)
    pd.testing.assert_frame_equal(pd.concat([pd.read_parquet(f) for f in again], ignore_index=True), frame)
    other = synth.generate(ROWS, tmp_path / "other", seed=8, profile=profile)
    assert not pd.concat([pd.read_parquet(f) for f in other], ignore_index=True).equals(frame)


def _shares(frame: pd.DataFrame) -> dict[str, float]:
    with_customer = frame.dropna(subset=["CustomerID"])
    orders = with_customer.groupby("CustomerID")["InvoiceNo"].nunique()
    return {
        "missing customer": frame["CustomerID"].isna().mean(),
        "cancelled lines": frame["InvoiceNo"].str.startswith("C").mean(),
        "negative quantity": (frame["Quantity"] < 0).mean(),
        "customers with one order": (orders == 1).mean(),
        "lines per invoice": frame.groupby("InvoiceNo").size().mean() / 100,
        "postage lines": (frame["StockCode"] == "POST").mean(),
        "United Kingdom lines": (frame["Country"] == "United Kingdom").mean(),
        "December lines": (frame["InvoiceDate"].dt.month == 12).mean(),
    }


def test_shares_follow_the_real_data(generated, real):
    _, frame = generated
    synthetic, expected = _shares(frame), _shares(real)
    for name, value in expected.items():
        assert synthetic[name] == pytest.approx(value, abs=0.04), name


def test_exact_duplicate_lines_exist(generated, real):
    _, frame = generated
    assert frame.duplicated().mean() == pytest.approx(real.duplicated().mean(), abs=0.015)
    assert frame.duplicated().sum() > 0


def test_rows_must_be_positive(tmp_path, profile):
    with pytest.raises(ValueError, match="rows must be at least 1"):
        synth.generate(0, tmp_path / "x", profile=profile)
