"""Write tests/data/online_retail_sample.parquet: a small, deterministic slice of the real data.

All rows of about 8% of customers, plus the rows without a customer id of about 8% of
invoices, chosen by a stable hash of the id (sha1 mod 100 < 8), so the sample is the same on
every machine and keeps whole customers and whole invoices. Same columns, dtypes and row
order as data/raw/online_retail.parquet.

Usage: .venv/bin/python tools/make_test_sample.py
"""

from __future__ import annotations

import hashlib

import pandas as pd

from rfm_helpers.atomic import write_parquet
from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.provenance import sha256_file

SOURCE = PROJECT_ROOT / "data" / "raw" / "online_retail.parquet"
TARGET = PROJECT_ROOT / "tests" / "data" / "online_retail_sample.parquet"
PERCENT = 8


def _chosen(ids: pd.Series) -> pd.Series:
    """True for ids whose sha1 falls in the first PERCENT of 100 buckets (hashes each distinct id once)."""
    distinct = ids.dropna().astype(str).unique()
    picked = {i for i in distinct if int(hashlib.sha1(i.encode()).hexdigest(), 16) % 100 < PERCENT}
    return ids.astype(str).isin(picked) & ids.notna()


def make_sample(raw: pd.DataFrame) -> pd.DataFrame:
    """Rows of the chosen customers, and rows without customer of the chosen invoices."""
    keep = _chosen(raw["CustomerID"]) | (raw["CustomerID"].isna() & _chosen(raw["InvoiceNo"]))
    return raw[keep].reset_index(drop=True)


def main() -> None:
    raw = pd.read_parquet(SOURCE)
    sample = make_sample(raw)
    write_parquet(sample, TARGET)
    print(
        f"wrote {TARGET.relative_to(PROJECT_ROOT)}: {len(sample):,} rows, "
        f"{sample['CustomerID'].nunique():,} customers, "
        f"{sample['CustomerID'].isna().sum():,} rows without customer, "
        f"{TARGET.stat().st_size:,} bytes, sha256 {sha256_file(TARGET)}"
    )


if __name__ == "__main__":
    main()
