"""The real data beside the project (``../shared/data``, in CI too), which tests may read and the
product never does."""

from __future__ import annotations

from rfm_helpers.paths import PROJECT_ROOT

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
ONLINE_RETAIL_II = SHARED_DATA / "online_retail_ii_year_2009_2010.parquet"
ONLINE_RETAIL_II_COLUMNS = {
    "invoice_id": "Invoice",
    "stock_code": "StockCode",
    "description": "Description",
    "quantity": "Quantity",
    "invoice_date": "InvoiceDate",
    "unit_price": "Price",
    "customer_id": "Customer ID",
    "country": "Country",
}
"""``input.columns`` for Online Retail II (its names differ from Online Retail's)."""
