"""End to end: the real notebooks through ``rfm_helpers.runs.runner.run``, writing below a temporary
``RFM_OUTPUT_ROOT``.

Four runs, each executed once per module and inspected by several tests:

- the test sample (``params/test_sample.yaml``): published pages, links, export, manifest;
- the same sample as a workbook in the first source document's layout (transactions sheet
  plus a ``Segmentation`` sheet): the same customer list as from the parquet file;
- a deterministic subset of Online Retail II (other column names, text "nan" descriptions);
- a generic export with only customer, date, order number and amount.

The expected customers and revenue are computed here from the raw files with plain pandas,
not with ``rfm_helpers.sql.cleaning``, so a bug in the cleaning rules cannot hide itself.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest
import yaml
from shared_data import ONLINE_RETAIL_II, ONLINE_RETAIL_II_COLUMNS

from rfm_helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rfm_helpers.runs import runner
from rfm_helpers.runs.pipeline import load_pipeline

pytestmark = pytest.mark.slow

SAMPLE = PROJECT_ROOT / "tests" / "data" / "online_retail_sample.parquet"
RAW = PROJECT_ROOT / "data" / "raw" / "online_retail.parquet"
RAW_DIR = RAW.parent
REFERENCE = PROJECT_ROOT / "data" / "reference"

REPORTS = tuple(step.name for step in load_pipeline(NOTEBOOKS_DIR, "transactions"))
"""The pages a transactions run publishes (their order is tested in tests/test_notebooks.py)."""
EXPORT = "customer_segments.csv"
MISSING_TEXT = {"", "nan", "NaN", "None", "NULL"}
"""Text that means "missing" in the inputs (the params' default ``input.missing_text``)."""
UCI_COLUMNS = {
    "invoice": "InvoiceNo",
    "stock": "StockCode",
    "description": "Description",
    "quantity": "Quantity",
    "date": "InvoiceDate",
    "price": "UnitPrice",
    "customer": "CustomerID",
}
II_COLUMNS = UCI_COLUMNS | {"invoice": "Invoice", "price": "Price", "customer": "Customer ID"}
FAST_CLUSTERING = {"k": 4, "k_max": 6, "silhouette_sample": 1000}


# --- running the pipeline ----------------------------------------------------------------


@dataclass
class Run:
    """One call of ``runner.run`` and where it wrote."""

    root: Path
    run_name: str
    exit_code: int
    output: str

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def run_dir(self) -> Path:
        return self.reports / self.run_name

    def html(self, report: str) -> str:
        return (self.run_dir / f"{report}.html").read_text(encoding="utf-8")

    def export(self) -> pd.DataFrame:
        return pd.read_csv(
            self.run_dir / "exports" / EXPORT,
            dtype={"customer_id": str, "rfm_code": str, "segment": str, "group": str},
            keep_default_na=False,
            na_values=[""],
        )


def run_pipeline(root: Path, params: Path, run_name: str) -> Run:
    """``runner.run(params)`` with ``RFM_OUTPUT_ROOT=root``; its stdout and stderr are kept."""
    capture = root / "runner_output.txt"
    with pytest.MonkeyPatch.context() as mp, capture.open("w", encoding="utf-8") as out:
        mp.setenv("RFM_OUTPUT_ROOT", str(root))
        mp.setattr("sys.stdout", out)
        mp.setattr("sys.stderr", out)
        exit_code = runner.run(params)
    return Run(root, run_name, exit_code, capture.read_text(encoding="utf-8"))


def write_params(path: Path, params: dict) -> Path:
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_state() -> dict[str, object]:
    """Content hash of the raw inputs, and name, size and mtime of every file below data/raw."""
    listing = {
        str(p.relative_to(RAW_DIR)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(RAW_DIR.rglob("*"))
    }
    return {"raw_sha256": sha256(RAW), "sample_sha256": sha256(SAMPLE), "data/raw": listing}


@pytest.fixture(scope="module")
def raw_before() -> dict[str, object]:
    """Taken before any pipeline run of this module (every run fixture depends on it)."""
    return raw_state()


@pytest.fixture(scope="module")
def sample_run(raw_before: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("sample_out")
    return run_pipeline(root, PROJECT_ROOT / "params" / "test_sample.yaml", "test_sample")


@pytest.fixture(scope="module")
def online_retail_ii_run(
    raw_before: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Run, Path] | None]:
    """The pipeline on a deterministic fifth of Online Retail II (None when the file is absent)."""
    if not ONLINE_RETAIL_II.is_file():
        yield None
        return
    root = tmp_path_factory.mktemp("online_retail_ii_out")
    # The full sheet has 525,461 rows (several minutes through the notebooks). We keep about a
    # fifth, chosen by id so that whole customers and whole invoices stay together: every row
    # of the customers whose id is divisible by 5, plus the rows without a customer of the
    # invoices whose number (after the "C"/"A" prefix) is divisible by 5. About 103k rows and
    # 880 customers, same columns and dtypes as the original file.
    raw = pd.read_parquet(ONLINE_RETAIL_II)
    customer = raw["Customer ID"]
    invoice_number = raw["Invoice"].str.lstrip("CA").astype("int64")
    keep = (customer.notna() & (customer % 5 == 0)) | (customer.isna() & (invoice_number % 5 == 0))
    subset_path = root / "online_retail_ii_subset.parquet"
    raw[keep].to_parquet(subset_path, index=False)

    params = {
        "run_name": "online_retail_ii",
        "description": "Online Retail II, deterministic subset (pipeline test)",
        "input": {
            "path": str(subset_path),
            "columns": ONLINE_RETAIL_II_COLUMNS,
        },
        "clustering": FAST_CLUSTERING,
    }
    params_path = write_params(root / "online_retail_ii.yaml", params)
    yield run_pipeline(root, params_path, "online_retail_ii"), subset_path


@pytest.fixture(scope="module")
def generic_run(
    raw_before: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Run, pd.DataFrame]:
    """The pipeline on a CSV with only customer, date, order number and amount."""
    root = tmp_path_factory.mktemp("generic_out")
    raw = pd.read_parquet(SAMPLE)
    # One row per invoice line; cancellations and returns kept (negative amounts) so that the
    # cleaning rules have something to remove. A missing customer is an empty field.
    generic = pd.DataFrame(
        {
            "cust": raw["CustomerID"].astype("string").fillna(""),
            "order_date": raw["InvoiceDate"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "order_no": raw["InvoiceNo"],
            "amount": (raw["Quantity"] * raw["UnitPrice"]).round(2),
        }
    )
    csv_path = root / "orders.csv"
    generic.to_csv(csv_path, index=False)
    assert (generic["amount"] < 0).any() and generic["order_no"].str.startswith("C").any()

    params = {
        "run_name": "generic_export",
        "description": "Generic export: customer, date, order number and amount only",
        "input": {
            "path": str(csv_path),
            "format": "csv",
            "columns": {
                "invoice_id": "order_no",
                "invoice_date": "order_date",
                "customer_id": "cust",
                "amount": "amount",
                "stock_code": None,
                "description": None,
                "quantity": None,
                "unit_price": None,
                "country": None,
            },
        },
        "clustering": FAST_CLUSTERING,
    }
    params_path = write_params(root / "generic_export.yaml", params)
    as_written = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return run_pipeline(root, params_path, "generic_export"), as_written


@pytest.fixture(scope="module")
def workbook_run(raw_before: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The sample as a 2-sheet workbook, with the test sample's parameters otherwise."""
    root = tmp_path_factory.mktemp("workbook_out")
    book = root / "ecommerce_retail.xlsx"
    segments = pd.read_csv(REFERENCE / "rfm_segments.csv")
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        pd.read_parquet(SAMPLE).to_excel(writer, sheet_name="E-commerce retail", index=False)
        segments.rename(columns={"segment": "Segment", "rfm_codes": "RFM Score"}).to_excel(
            writer, sheet_name="Segmentation", index=False
        )
    params = yaml.safe_load((PROJECT_ROOT / "params" / "test_sample.yaml").read_text(encoding="utf-8"))
    params["input"]["path"] = str(book)
    return run_pipeline(root, write_params(root / "workbook.yaml", params), "test_sample")


# --- independent expectations (plain pandas, not rfm_helpers.sql.cleaning) ---------------------


def reference_lists() -> tuple[set[str], set[str]]:
    codes = pd.read_csv(REFERENCE / "non_product_stock_codes.csv", dtype=str, keep_default_na=False)
    flagged = pd.read_csv(REFERENCE / "flagged_descriptions.csv", dtype=str, keep_default_na=False)
    return (
        set(codes["stock_code"].str.strip()),
        set(flagged["description"].str.strip().str.casefold()),
    )


def as_text(values: pd.Series) -> pd.Series:
    """Stripped text with the missing markers as NA."""
    text = values.astype("string").str.strip()
    return text.mask(text.isin(MISSING_TEXT))


def customer_text(values: pd.Series) -> pd.Series:
    """Customer ids as the export writes them: 17850, never 17850.0."""
    return values.astype("Float64").astype("Int64").astype("string")


def expected_clean_lines(raw: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The rows the cleaning rules keep, with ``customer`` (text) and ``revenue``.

    Rules: drop invoices starting with "C", quantity <= 0, unit price <= 0, no customer,
    non-product stock codes and flagged descriptions (case-folded, stripped); then drop the
    rows repeating the key (invoice, stock code, date, customer) with the same quantity and
    price (keep the first) and sum the split lines of one key; then net the cancelled orders
    (:func:`net_cancelled_orders`).
    """
    codes, flagged = reference_lists()
    invoice = as_text(raw[columns["invoice"]])
    stock = as_text(raw[columns["stock"]])
    description = as_text(raw[columns["description"]]).str.casefold()
    quantity = raw[columns["quantity"]].astype("float64")
    price = raw[columns["price"]].astype("float64")
    customer = raw[columns["customer"]]

    keep = (
        ~invoice.str.startswith("C").fillna(False)
        & (quantity > 0)
        & (price > 0)
        & customer.notna()
        & ~stock.isin(codes).fillna(False)
        & ~description.isin(flagged).fillna(False)
    ).astype(bool)
    lines = pd.DataFrame(
        {
            "invoice": invoice,
            "stock": stock,
            "date": raw[columns["date"]],
            "customer": customer_text(customer.where(customer.notna())),
            "quantity": quantity,
            "price": price,
        }
    )[keep]
    lines = lines.drop_duplicates(subset=["invoice", "stock", "date", "customer", "quantity", "price"])
    # Split lines (same key, other quantities) become one line: quantities and revenue summed.
    lines = (
        lines.assign(revenue=lines["quantity"] * lines["price"])
        .groupby(["invoice", "stock", "date", "customer"], as_index=False, sort=False)[
            ["quantity", "revenue"]
        ]
        .sum()
    )
    cancellations = pd.DataFrame(
        {
            "stock": stock,
            "date": raw[columns["date"]],
            "customer": customer_text(customer.where(customer.notna())),
            "units": -quantity,
        }
    )[invoice.str.startswith("C").fillna(False).astype(bool) & customer.notna() & (quantity < 0)]
    return net_cancelled_orders(lines, cancellations)


def net_cancelled_orders(lines: pd.DataFrame, cancellations: pd.DataFrame) -> pd.DataFrame:
    """The default method's netting, written as a plain loop: each cancellation, in date order,
    takes its units off the same customer's kept lines of the same stock code dated at or
    before it, oldest first; a line keeps its revenue in proportion to the units left, and
    lines left with no units are dropped."""
    lines = lines.sort_values(["date", "invoice", "stock"], kind="stable").copy()
    remaining = lines["quantity"].to_dict()
    by_item = {key: list(group.index) for key, group in lines.groupby(["customer", "stock"], sort=False)}
    for cancel in cancellations.sort_values("date", kind="stable").itertuples():
        units = cancel.units
        for row in by_item.get((cancel.customer, cancel.stock), []):
            if units <= 0 or lines.at[row, "date"] > cancel.date:
                break
            taken = min(units, remaining[row])
            remaining[row] -= taken
            units -= taken
    left = pd.Series(remaining)
    lines["revenue"] = lines["revenue"] * left / lines["quantity"]
    lines["quantity"] = left
    return lines[lines["quantity"] > 0]


def segment_names() -> set[str]:
    return set(pd.read_csv(REFERENCE / "rfm_segments.csv", dtype=str)["segment"].str.strip())


# --- HTML inspection ---------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)
_CODE_INPUT_CLASSES = {"jp-InputPrompt", "jp-InputArea-editor", "jp-Editor", "CodeMirror", "hl-ipython3"}


class Page(HTMLParser):
    """Links, images, ids, title, headings and code-input markup of one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.images: list[str] = []
        self.ids: set[str] = set()
        self.title = ""
        self.h1: list[str] = []
        self.code_cells = 0
        self.code_cells_without_input_flag = 0
        self.code_input_markup: list[str] = []
        self.input_areas_in_code_cells = 0
        self._open: list[str] = []
        self._divs: list[bool] = []  # per open <div>: is it (inside) a code cell?
        self._text: dict[str, list[str]] = {"title": [], "h1": []}
        self.visible_text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = set(attributes.get("class", "").split())
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.append((tag, name, attributes[name]))
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        for name in ("id", "name"):
            if attributes.get(name):
                self.ids.add(attributes[name])
        in_code_cell = bool(self._divs and self._divs[-1])
        if "jp-CodeCell" in classes:
            self.code_cells += 1
            self.code_cells_without_input_flag += "jp-mod-noInput" not in classes
        if in_code_cell and "jp-InputArea" in classes:
            self.input_areas_in_code_cells += 1
        self.code_input_markup += sorted(classes & _CODE_INPUT_CLASSES)
        if tag == "div":
            self._divs.append(in_code_cell or "jp-CodeCell" in classes)
        if tag not in _VOID:
            self._open.append(tag)
        if tag == "h1":
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._divs:
            self._divs.pop()
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "title" in self._open:
            self.title += data
        if "h1" in self._open and self.h1:
            self.h1[-1] += data
        if not {"style", "script"} & set(self._open):
            self.visible_text.append(data)


def external_assets(page: Page) -> list[str]:
    """Scripts, stylesheets and images a browser would fetch from the network."""
    return [
        url for tag, _attr, url in page.links if tag in {"script", "link", "img"} and _EXTERNAL.match(url)
    ]


def is_relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//")


def broken_links(page_path: Path) -> list[str]:
    """Relative href/src of a page whose file (or same-page anchor) does not exist."""
    page = Page(page_path.read_text(encoding="utf-8"))
    broken = []
    for _tag, _attr, url in page.links:
        if not is_relative(url):
            continue
        parts = urlsplit(url)
        if not parts.path:  # "#anchor": an element of this page, matched as browsers do
            # (the fragment as written, then percent-decoded; nbconvert writes some heading
            # ids percent-encoded, e.g. "2%E2%80%934.-Segments-...")
            if parts.fragment and not {parts.fragment, unquote(parts.fragment)} & page.ids:
                broken.append(url)
            continue
        if not (page_path.parent / unquote(parts.path)).is_file():
            broken.append(url)
    return broken


# --- a. the sample run: published pages ------------------------------------------------------


def test_sample_run_succeeds_and_publishes_every_report(sample_run: Run) -> None:
    assert sample_run.exit_code == 0, sample_run.output
    published = sorted(p.name for p in sample_run.run_dir.glob("*.html"))
    assert published == [f"{name}.html" for name in REPORTS]
    assert (sample_run.reports / "index.html").is_file()
    assert (sample_run.run_dir / "manifest.json").is_file()
    assert (sample_run.run_dir / "exports" / EXPORT).is_file()


def test_sample_relative_links_resolve(sample_run: Run) -> None:
    assert sample_run.exit_code == 0, sample_run.output
    index = sample_run.reports / "index.html"
    index_targets = {url for _t, _a, url in Page(index.read_text(encoding="utf-8")).links}
    expected = {f"test_sample/{name}.html" for name in REPORTS} | {f"test_sample/exports/{EXPORT}"}
    assert expected <= index_targets
    for page_path in [index, *(sample_run.run_dir / f"{name}.html" for name in REPORTS)]:
        assert broken_links(page_path) == [], page_path.name
    for name in REPORTS:  # every report links back to the index
        links = {url for _t, _a, url in Page(sample_run.html(name)).links}
        assert "../index.html" in links, name


@pytest.mark.parametrize("report", REPORTS)
def test_sample_report_hides_code_and_is_self_contained(sample_run: Run, report: str) -> None:
    assert sample_run.exit_code == 0, sample_run.output
    html = sample_run.html(report)
    page = Page(html)

    # No code: every code cell is rendered without its input. Markdown cells are rendered in
    # a jp-InputArea too (nbconvert's lab template), so that class is checked inside code
    # cells only; it also appears in the page's CSS, so the raw text is not searched for it.
    assert page.code_cells > 0
    assert page.code_cells_without_input_flag == 0
    assert page.input_areas_in_code_cells == 0
    assert page.code_input_markup == []
    assert "In&nbsp;[" not in html and not re.search(r"In(\xa0| )\[\d*\]:", "".join(page.visible_text))

    # Nothing fetched from the network: no external scripts, stylesheets or images.
    assert external_assets(page) == []
    # The dashboard draws its charts in the browser (tests/browser/test_dashboard_browser.py).
    assert page.images or report == "07_dashboard", "each report has at least one chart"
    assert all(src.startswith("data:image/png;base64,") for src in page.images)

    assert page.title.strip()
    assert [h for h in page.h1 if h.strip()], "each report has an <h1>"


def test_index_is_self_contained(sample_run: Run) -> None:
    page = Page((sample_run.reports / "index.html").read_text(encoding="utf-8"))
    assert page.title.strip() and [h for h in page.h1 if h.strip()]
    assert external_assets(page) == []


# --- b. the sample run: the customer export --------------------------------------------------


@pytest.fixture(scope="module")
def sample_expected() -> pd.DataFrame:
    return expected_clean_lines(pd.read_parquet(SAMPLE), UCI_COLUMNS)


def test_export_has_one_row_per_expected_customer(sample_run: Run, sample_expected: pd.DataFrame) -> None:
    assert sample_run.exit_code == 0, sample_run.output
    export = sample_run.export()
    assert export["customer_id"].notna().all()
    assert export["customer_id"].is_unique
    assert set(export["customer_id"]) == set(sample_expected["customer"])


def test_export_monetary_equals_independent_revenue(sample_run: Run, sample_expected: pd.DataFrame) -> None:
    export = sample_run.export().set_index("customer_id")
    assert export["monetary"].sum() == pytest.approx(sample_expected["revenue"].sum(), abs=0.01)
    per_customer = sample_expected.groupby("customer")["revenue"].sum()
    pd.testing.assert_series_equal(
        export["monetary"].sort_index(),
        per_customer.rename("monetary").rename_axis("customer_id").sort_index().astype("float64"),
        check_index_type=False,
        atol=0.005,
        rtol=0,
    )


def test_export_segments_and_scores_are_valid(sample_run: Run) -> None:
    export = sample_run.export()
    assert export["segment"].notna().all()
    assert set(export["segment"]) <= segment_names()
    for column in ("r_score", "f_score", "m_score"):
        assert export[column].between(1, 5).all(), column
        assert (export[column] % 1 == 0).all(), column
    codes = (
        export["r_score"].astype(int).astype(str)
        + export["f_score"].astype(int).astype(str)
        + export["m_score"].astype(int).astype(str)
    )
    assert (export["rfm_code"] == codes).all()


# --- c. the sample run: provenance -----------------------------------------------------------


def test_manifest_records_the_input_hash(sample_run: Run) -> None:
    manifest = json.loads((sample_run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"]["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert manifest["run_name"] == "test_sample"
    assert [r["html"] for r in manifest["reports"]] == [f"{name}.html" for name in REPORTS]
    export_rows = {e["file"]: e["rows"] for e in manifest["exports"]}
    assert export_rows[EXPORT] == len(sample_run.export())


# --- d. Online Retail II ---------------------------------------------------------------------


def test_online_retail_ii_subset(online_retail_ii_run: tuple[Run, Path] | None) -> None:
    if online_retail_ii_run is None:
        pytest.skip(f"Online Retail II is not available at {ONLINE_RETAIL_II}")
    run, subset_path = online_retail_ii_run
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in run.run_dir.glob("*.html")) == [f"{name}.html" for name in REPORTS]

    subset = pd.read_parquet(subset_path)
    assert (subset["Description"] == "nan").any(), "the subset keeps the text 'nan' descriptions"
    expected = expected_clean_lines(subset, II_COLUMNS)
    export = run.export()
    assert len(export) == expected["customer"].nunique()
    assert export["customer_id"].is_unique
    assert set(export["customer_id"]) == set(expected["customer"])
    assert export["monetary"].sum() == pytest.approx(expected["revenue"].sum(), abs=0.01)


# --- e. a generic export without product, quantity, price or country columns -----------------


def test_generic_export_runs_with_sections_skipped(generic_run: tuple[Run, pd.DataFrame]) -> None:
    run, orders = generic_run
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in run.run_dir.glob("*.html")) == [f"{name}.html" for name in REPORTS]
    assert "Skipped" in run.html("01_cleaning")

    export = run.export()
    assert "country" not in export.columns
    assert export["customer_id"].is_unique
    assert (export["monetary"] > 0).all()

    # Expected: cancellations, amount <= 0 and missing customers removed; the duplicate rule
    # needs a stock code, so it is skipped and every remaining line counts.
    amount = orders["amount"].astype("float64")
    kept = orders[~orders["order_no"].str.startswith("C") & (amount > 0) & orders["cust"].ne("")]
    per_customer = kept.assign(amount=amount).groupby("cust")["amount"].sum()
    assert set(export["customer_id"]) == set(per_customer.index)
    assert export["monetary"].sum() == pytest.approx(per_customer.sum(), abs=0.01)


def test_workbook_gives_the_same_customer_list_as_parquet(workbook_run: Run, sample_run: Run) -> None:
    assert workbook_run.exit_code == 0, workbook_run.output
    pd.testing.assert_frame_equal(workbook_run.export(), sample_run.export())
    assert "sheet 'Segmentation' of the workbook" in html.unescape(workbook_run.html("01_cleaning"))
    cached = list((workbook_run.root / "data" / "cache").glob("*.parquet"))
    assert len(cached) == 1, "the parsed workbook is cached for the next run"


# --- f. the raw inputs are read, never written -----------------------------------------------


def test_raw_inputs_unchanged(
    raw_before: dict[str, object],
    sample_run: Run,
    online_retail_ii_run: tuple[Run, Path] | None,
    generic_run: tuple[Run, pd.DataFrame],
    workbook_run: Run,
) -> None:
    # Requesting the run fixtures guarantees that all the runs happened before this check.
    assert raw_state() == raw_before
