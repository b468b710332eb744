"""The shipped raw data is the file SOURCES.md describes, and its README says so."""

from __future__ import annotations

import hashlib
import re

from rfm_helpers.paths import PROJECT_ROOT

RAW = PROJECT_ROOT / "data" / "raw"
# From shared/data/SOURCES.md (the checksum of the published file).
ONLINE_RETAIL_SHA256 = "486555aadcd32d4f6c55afe154d20747f1c063af2aa7d3f3b0373abae317543e"


def test_shipped_parquet_is_the_published_file() -> None:
    digest = hashlib.sha256((RAW / "online_retail.parquet").read_bytes()).hexdigest()
    assert digest == ONLINE_RETAIL_SHA256


def test_raw_readme_carries_licence_citation_and_checksum() -> None:
    text = (RAW / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text
    assert "https://doi.org/10.24432/C5BW33" in text
    assert re.search(rf"`{ONLINE_RETAIL_SHA256}`", text)
