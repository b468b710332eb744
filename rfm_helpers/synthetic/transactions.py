"""Synthetic transactions at any size that follow the real data's distributions.

The profile is fitted, at generation time, from the shipped real export
(``data/raw/online_retail.parquet``): it is in the repository, and fitting from it keeps the
synthetic data faithful to every column without a second, hand-maintained description.

How a dataset of ``rows`` lines is made (all draws from one seeded generator, so a seed
always gives the same files):

1. Invoices: each is a real invoice drawn at random, keeping its kind (with or without a
   customer id, cancellation or not) and its basket size (lines), until the lines add up to
   ``rows``. Invoice times are real invoice times drawn at random and sorted (seasonality,
   weekdays, hours); invoice numbers count up in time order, ``C`` prefixed for cancellations.
2. Customers: order counts drawn from the real customers' order counts (heavy tail: about a
   third order once) until they cover the invoices that have a customer; those invoices are
   dealt out to the customers at random. Each customer has one country, drawn from the real
   customers' countries; invoices without a customer take the country of a real invoice
   without a customer.
3. Lines: each line is a real line of the same invoice kind drawn at random: its stock code,
   description, quantity and price travel together (prices per product, negative quantities
   of cancellations, postage and other non-product codes, warehouse notes as descriptions).
   A share of lines equal to the real share of exact duplicate rows repeats the line before.

Files: one parquet file per month under ``<out>/month=YYYY-MM/``, written invoice batch by
invoice batch as row groups, so memory holds one batch of lines, never all ``rows``. The
columns and types are those of the real file.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rfm_helpers.paths import PROJECT_ROOT

REAL_DATA = PROJECT_ROOT / "data" / "raw" / "online_retail.parquet"
BATCH_ROWS = 1_000_000
"""Lines generated and written at a time: bounds memory (~100 MB per million lines)."""
ROW_GROUP_ROWS = 250_000
"""Row group size of the output: small enough to stream, large enough to compress well."""
FIRST_INVOICE = 536365
FIRST_CUSTOMER = 12346
_LINE_COLUMNS = ["StockCode", "Description", "Quantity", "UnitPrice"]


@dataclass
class Profile:
    """What is drawn from: real invoices, lines, customers' order counts and countries."""

    invoice_kind: np.ndarray
    """Per real invoice: 0 customer sale, 1 customer cancellation, 2 no customer, 3 no customer, C."""
    invoice_lines: np.ndarray
    invoice_times: np.ndarray
    """Real invoice timestamps (datetime64[us]), drawn from for the synthetic invoices."""
    invoice_country: np.ndarray
    """Per real invoice: its country (used for invoices without a customer)."""
    lines: pa.Table
    """Real lines (StockCode, Description, Quantity, UnitPrice) sorted by invoice kind."""
    kind_start: np.ndarray
    """Lines of kind k are ``lines[kind_start[k]:kind_start[k + 1]]``."""
    orders_per_customer: np.ndarray
    customer_countries: np.ndarray
    duplicate_share: float


def fit_profile(path: Path = REAL_DATA) -> Profile:
    """The distributions of the real export at ``path`` (the shipped Online Retail file)."""
    df = pd.read_parquet(path)
    is_cancel = df["InvoiceNo"].str.startswith("C").fillna(False).to_numpy()
    no_customer = df["CustomerID"].isna().to_numpy()
    df["kind"] = (is_cancel.astype(int) + 2 * no_customer.astype(int)).astype("int8")
    invoices = df.groupby("InvoiceNo", sort=False).agg(
        kind=("kind", "first"),
        lines=("kind", "size"),
        time=("InvoiceDate", "first"),
        country=("Country", "first"),
    )
    lines = df.sort_values("kind", kind="stable")
    kind_counts = np.bincount(lines["kind"].to_numpy(), minlength=4)
    with_customer = df[~no_customer]
    return Profile(
        invoice_kind=invoices["kind"].to_numpy(),
        invoice_lines=invoices["lines"].to_numpy(),
        invoice_times=invoices["time"].to_numpy(dtype="datetime64[us]"),
        invoice_country=invoices["country"].to_numpy(dtype=object),
        lines=pa.Table.from_pandas(lines[_LINE_COLUMNS], preserve_index=False),
        kind_start=np.concatenate([[0], np.cumsum(kind_counts)]),
        orders_per_customer=with_customer.groupby("CustomerID")["InvoiceNo"].nunique().to_numpy(),
        customer_countries=with_customer.groupby("CustomerID")["Country"]
        .agg(lambda s: s.mode().iloc[0])
        .to_numpy(dtype=object),
        duplicate_share=float(df.duplicated().mean()),
    )


@dataclass
class _Invoices:
    """The synthetic invoices, in time order (one entry per invoice: small next to the lines)."""

    kind: np.ndarray
    lines: np.ndarray
    times: np.ndarray
    customer: np.ndarray
    """Customer number (-1 = no customer)."""
    country: np.ndarray


def _plan_invoices(profile: Profile, rows: int, rng: np.random.Generator) -> tuple[_Invoices, np.ndarray]:
    """Invoices whose lines add up to exactly ``rows``, and each customer's country."""
    mean_lines = profile.invoice_lines.mean()
    picked: list[np.ndarray] = []
    total = 0
    while total < rows:
        draw = rng.integers(0, len(profile.invoice_kind), size=int((rows - total) / mean_lines) + 16)
        picked.append(draw)
        total += int(profile.invoice_lines[draw].sum())
    real = np.concatenate(picked)
    sizes = profile.invoice_lines[real]
    ends = np.cumsum(sizes)
    keep = int(np.searchsorted(ends, rows)) + 1
    real, sizes = real[:keep], sizes[:keep].copy()
    sizes[-1] -= int(ends[keep - 1]) - rows  # the last invoice is cut to land on ``rows``
    kind = profile.invoice_kind[real]
    times = np.sort(rng.choice(profile.invoice_times, size=keep))

    has_customer = kind < 2
    needed = int(has_customer.sum())
    counts = rng.choice(profile.orders_per_customer, size=max(needed, 1))
    n_customers = int(np.searchsorted(np.cumsum(counts), needed)) + 1
    slots = np.repeat(np.arange(n_customers), counts[:n_customers])[:needed]
    rng.shuffle(slots)
    customer = np.full(keep, -1, dtype=np.int64)
    customer[has_customer] = slots
    customer_country = rng.choice(profile.customer_countries, size=n_customers)
    country = profile.invoice_country[real].copy()
    country[has_customer] = customer_country[slots]
    return _Invoices(kind, sizes, times, customer, country), customer_country


def _line_batch(profile: Profile, inv: _Invoices, first_number: int, rng: np.random.Generator) -> pa.Table:
    """The lines of the invoices ``inv`` (a slice of the plan) as a table of the real columns."""
    n = int(inv.lines.sum())
    invoice_of_line = np.repeat(np.arange(len(inv.kind)), inv.lines)
    kind = inv.kind[invoice_of_line]
    start, size = profile.kind_start[kind], np.diff(profile.kind_start)[kind]
    template = start + (rng.random(n) * size).astype(np.int64)
    # Exact duplicates: a line repeats the one before it in the same invoice.
    first_of_invoice = np.r_[0, np.cumsum(inv.lines)[:-1]]
    copy = rng.random(n) < profile.duplicate_share
    copy[first_of_invoice] = False
    source = np.maximum.accumulate(np.where(copy, 0, np.arange(n)))
    template = template[source]

    numbers = (np.arange(len(inv.kind)) + first_number).astype(str).astype(object)
    cancelled = inv.kind % 2 == 1
    numbers[cancelled] = "C" + numbers[cancelled]
    customer = inv.customer[invoice_of_line]
    taken = profile.lines.take(pa.array(template))
    return pa.table(
        {
            "InvoiceNo": pa.array(numbers[invoice_of_line], type=pa.large_string()),
            "StockCode": taken["StockCode"],
            "Description": taken["Description"],
            "Quantity": taken["Quantity"],
            "InvoiceDate": pa.array(inv.times[invoice_of_line], type=pa.timestamp("us")),
            "UnitPrice": taken["UnitPrice"],
            "CustomerID": pa.array(customer + FIRST_CUSTOMER, mask=customer < 0, type=pa.int64()),
            "Country": pa.array(inv.country[invoice_of_line], type=pa.large_string()),
        }
    )


def generate(rows: int, out_dir: str | Path, seed: int = 0, profile: Profile | None = None) -> list[Path]:
    """Write ``rows`` synthetic transaction lines under ``out_dir`` (replaced); return the files."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    profile = profile or fit_profile()
    rng = np.random.default_rng(seed)
    invoices, _ = _plan_invoices(profile, rows, rng)
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    months = invoices.times.astype("datetime64[M]")
    month_edges = np.flatnonzero(np.r_[True, months[1:] != months[:-1], True])
    files = []
    for first, end in zip(month_edges[:-1], month_edges[1:], strict=False):
        target = out_dir / f"month={months[first]}" / "part-0.parquet"
        target.parent.mkdir(parents=True)
        with pq.ParquetWriter(target, _schema(profile), compression="zstd") as writer:
            for lo, hi in _batches(invoices.lines[first:end], BATCH_ROWS):
                part = _Invoices(
                    *(getattr(invoices, f)[first + lo : first + hi] for f in _Invoices.__annotations__)
                )
                writer.write_table(
                    _line_batch(profile, part, FIRST_INVOICE + first + lo, rng), ROW_GROUP_ROWS
                )
        files.append(target)
    return files


def _batches(lines: np.ndarray, batch_rows: int) -> list[tuple[int, int]]:
    """Consecutive invoice ranges [lo, hi) of about ``batch_rows`` lines each."""
    ends = np.cumsum(lines)
    cuts = np.searchsorted(ends, np.arange(batch_rows, int(ends[-1]), batch_rows), side="right")
    bounds = np.unique(np.r_[0, cuts, len(lines)])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=False))


def _schema(profile: Profile) -> pa.Schema:
    types = {f.name: f.type for f in profile.lines.schema}
    return pa.schema(
        [
            ("InvoiceNo", pa.large_string()),
            ("StockCode", types["StockCode"]),
            ("Description", types["Description"]),
            ("Quantity", types["Quantity"]),
            ("InvoiceDate", pa.timestamp("us")),
            ("UnitPrice", types["UnitPrice"]),
            ("CustomerID", pa.int64()),
            ("Country", pa.large_string()),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of transaction lines")
    parser.add_argument("--out", type=Path, required=True, help="output folder (replaced)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files = generate(args.rows, args.out, args.seed)
    size = sum(f.stat().st_size for f in files)
    print(
        f"{args.rows:,} rows in {len(files)} files under {args.out} ({size / 2**20:,.1f} MiB) "
        f"in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
