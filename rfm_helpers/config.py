"""Typed run configuration, read from ``params/*.yaml``.

Every parameter of the pipeline lives here, with its default and the reason for it.
Unknown or mistyped keys are an error (``extra="forbid"``), so a typo in a params file
never silently falls back to a default.
"""

from __future__ import annotations

import codecs
import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rfm_helpers.paths import RFM_SQL_DIR, matching_files, output_root, resolve

CANONICAL_COLUMNS = (
    "invoice_id",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
    "amount",
)
"""Internal column names. ``columns`` in the params maps each of them to a source column."""


class ConfigError(ValueError):
    """A params file is missing, unreadable or invalid; the message says what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnMap(_Strict):
    """Source column name for each internal column (``null`` = the export has no such column).

    Required: ``invoice_id``, ``invoice_date``, ``customer_id`` and either ``amount`` or both
    ``quantity`` and ``unit_price``. The others enable the cleaning rules that need them.
    """

    invoice_id: str = "InvoiceNo"
    stock_code: str | None = "StockCode"
    description: str | None = "Description"
    quantity: str | None = "Quantity"
    invoice_date: str = "InvoiceDate"
    unit_price: str | None = "UnitPrice"
    customer_id: str = "CustomerID"
    country: str | None = "Country"
    amount: str | None = None

    @model_validator(mode="after")
    def _money_columns(self) -> ColumnMap:
        if self.amount is None and (self.quantity is None or self.unit_price is None):
            raise ValueError(
                "columns: map either 'amount' or both 'quantity' and 'unit_price' "
                "so that revenue can be computed"
            )
        return self

    @model_validator(mode="after")
    def _one_column_each(self) -> ColumnMap:
        # Two internal columns read from one source column: one of them would be lost.
        by_source: dict[str, list[str]] = {}
        for canon, source in self.model_dump().items():
            if source is not None:
                by_source.setdefault(source, []).append(canon)
        shared = {source: names for source, names in by_source.items() if len(names) > 1}
        if shared:
            source, names = next(iter(shared.items()))
            raise ValueError(
                f"columns: {' and '.join(names)} are both mapped to the column {source!r}; "
                "map each to its own column (or null)"
            )
        return self

    def source_to_canonical(self) -> dict[str, str]:
        """Rename map from the export's column names to the internal ones."""
        return {src: canon for canon, src in self.model_dump().items() if src is not None}


class InputConfig(_Strict):
    """Where the transactions are and how to read them."""

    path: Path = Path("data/raw/online_retail.parquet")
    format: Literal["auto", "parquet", "csv", "xlsx"] = "auto"
    sheet: str | None = None
    """Transactions sheet of an xlsx workbook; ``null`` = the first sheet that is not the
    segment table."""
    segment_sheet: str = "Segmentation"
    """Sheet of an xlsx workbook holding the segment → RFM codes table, if present."""
    excel_engine: Literal["calamine", "openpyxl"] = "calamine"
    """Reader of xlsx workbooks: ``calamine`` (Rust, ~10× faster on the 540k-row workbook) or
    ``openpyxl``, pandas' default, kept to reproduce the slow path in ``make bench``."""
    csv_encoding: str = "utf-8"
    """Encoding of a CSV input. Kaggle's copy of Online Retail is ``latin-1``."""
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    """Column separator of a CSV input; ``auto`` takes whichever of ``,`` ``;`` tab ``|`` splits
    the header line into the most columns (``,`` when none does). ``tab`` is accepted for
    ``"\t"``. A file that still reads as one column is an error that points here."""
    decimal: Literal[".", ","] = "."
    """Decimal mark of the numbers in a CSV input. With ``,`` (``2,55``), ``.`` may only group
    thousands (``1.234,50``); a value such as ``2.55`` is then an error rather than a guess.
    Workbooks and parquet files store numbers, not text, and ignore it."""
    date_format: str | None = None
    """strptime format of the date column in a CSV, e.g. ``%m/%d/%y %H:%M`` for Kaggle's copy;
    ``null`` = ISO 8601 dates. With ``null``, a date column holding only numbers (e.g.
    ``40513.35``) is read as Excel serial dates: days since 1899-12-30, the fraction being the
    time of day, rounded to the second (valid from 1 March 1900)."""
    timezone: str | None = None
    """IANA time zone (e.g. ``Europe/London``) of the report's dates. Timestamps with a UTC
    offset (``2011-01-03T09:00:00+01:00``) or a time-zone-aware parquet column are converted to
    it, then the zone is dropped; timestamps without an offset are taken as already in it.
    ``null`` = dates must have no offset: offsets are an error that asks to set this (``UTC``
    keeps them in UTC), because converting them silently moves transactions across days."""
    missing_text: list[str] = Field(default_factory=lambda: ["", "nan", "NaN", "None", "NULL"])
    """Text values that mean "missing" in text columns (Online Retail II stores missing
    descriptions as the text ``nan``)."""
    columns: ColumnMap = ColumnMap()

    @field_validator("delimiter", mode="before")
    @classmethod
    def _tab(cls, value: object) -> object:
        return "\t" if isinstance(value, str) and value.strip().casefold() in {"tab", "\\t"} else value

    @field_validator("csv_encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"input.csv_encoding: unknown encoding {value!r} (e.g. utf-8, latin-1, cp1252)"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"input.timezone: unknown time zone {value!r}; use an IANA name such as "
                "Europe/London, America/New_York or UTC"
            ) from None
        return value


class ReferenceConfig(_Strict):
    """Reference tables (data files validated on load)."""

    segments: Path = Path("data/reference/rfm_segments.csv")
    segment_groups: Path = Path("data/reference/segment_groups.csv")
    group_playbook: Path = Path("data/reference/group_playbook.csv")
    """Goal and recommended actions per segment group."""
    cluster_playbook: Path = Path("data/reference/cluster_playbook.csv")
    """Goal and recommended actions per KMeans cluster name (account runs)."""
    document_clusters: Path = Path("data/reference/omnichannel_document_clusters.csv")
    """The second source document's published cluster means (account runs;
    rfm_helpers.analysis.calibration)."""
    non_product_codes: Path = Path("data/reference/non_product_stock_codes.csv")
    flagged_descriptions: Path = Path("data/reference/flagged_descriptions.csv")


class CleaningConfig(_Strict):
    """Which cleaning rules run. Each removed row and its revenue is recorded in the ledger."""

    cancellations: Literal["net", "drop", "keep"] = "net"
    """Cancellation lines (invoice number starting with a capital ``C``) and the orders they cancel.
    ``net`` (default): the lines are removed and each one's quantity is taken off the same
    customer's clean purchase lines of the same stock code dated at or before it, oldest first
    (FIFO); purchase lines left with nothing are removed, and cancellations that match no purchase
    (their order predates the data) are counted in the ledger. ``drop``: the source document's
    method: the lines are removed but the orders they cancel stay counted as sales (the ledger
    measures how much). ``keep``: the lines stay (the quantity rule then removes them)."""
    drop_non_positive_quantity: bool = True
    drop_non_positive_price: bool = True
    drop_flagged_descriptions: bool = True
    """Rows whose description is in the flagged list (damaged, lost, adjustments, …)."""
    drop_non_product_codes: bool = True
    """Postage, fees, manual adjustments and other non-product stock codes. The first source
    document keeps them (its revenue includes postage)."""
    duplicates: Literal["consolidate", "drop_exact", "keep"] = "consolidate"
    """Rows sharing (invoice, stock code, date, customer): ``consolidate`` drops copies with
    identical quantity and sums different quantities (the document's rule); ``drop_exact``
    drops only fully identical rows; ``keep`` keeps all."""
    drop_cancellations: bool | None = Field(None, exclude=True, repr=False)
    """Key of the old layout, kept only to say what replaced it (never stored or dumped)."""

    @field_validator("drop_cancellations", mode="before")
    @classmethod
    def _old_cancellation_key(cls, value: object) -> None:
        raise ValueError(
            "this key was replaced by cleaning.cancellations: net (remove cancellation lines and "
            "net the orders they cancel), drop (remove the lines only, the old true) or keep (the old false)"
        )


class RFMConfig(_Strict):
    """Recency, Frequency, Monetary per customer and their scores."""

    snapshot_date: dt.date | None = None
    """Date recency is measured from. ``null`` = the day after the last transaction in the
    cleaned data (reproducible; never "today")."""
    recency_from: Literal["snapshot", "last_transaction"] = "snapshot"
    """``last_transaction``: the document's method (days from the data's last transaction
    date, so the most recent customers have recency 0); ignores ``snapshot_date``."""
    frequency: Literal["invoices", "lines"] = "invoices"
    """``invoices``: distinct invoices (orders); ``lines``: invoice lines (the document)."""
    outliers: Literal["keep", "trim", "cap"] = "keep"
    """``trim``: drop customers above ``outlier_quantile`` on any metric (the document);
    ``cap``: winsorize at that quantile; ``keep``: score all customers (quantile scores are
    robust to outliers already)."""
    outlier_quantile: float = Field(0.95, gt=0.5, lt=1.0)
    n_bins: int = Field(5, ge=2, le=9)
    scoring: Literal["rank", "qcut"] = "rank"
    """``rank``: score from each customer's quantile position, ties share a score, never
    fails; ``qcut``: pandas ``qcut`` edges as in the document (falls back to ``rank`` for a
    metric whose edges repeat, and says so)."""

    @property
    def frequency_unit(self) -> str:
        """What one unit of frequency is, in the reports' words."""
        return "orders" if self.frequency == "invoices" else "invoice lines"

    @model_validator(mode="after")
    def _segment_table_needs_quintiles(self) -> RFMConfig:
        if self.n_bins != 5:
            raise ValueError("rfm.n_bins: the 11-segment table is defined on quintiles; use 5")
        return self


class ClusteringConfig(_Strict):
    """KMeans on the customer metrics (the second source document's method)."""

    features: list[str] = Field(default_factory=lambda: ["recency", "frequency", "monetary"])
    k: int = Field(4, ge=1)
    k_max: int = Field(10, ge=2)
    """Elbow and silhouette are computed for k = 1..k_max."""
    log_transform: bool = True
    """log1p before scaling: RFM metrics are heavy-tailed and plain z-scores let a handful of
    customers take whole clusters."""
    random_state: int = 42
    n_init: int = Field(10, ge=1)
    silhouette_sample: int = Field(5000, ge=100)
    """Silhouette is O(n²); it is computed on a fixed random sample of this many customers."""
    elbow_sample: int = Field(100_000, ge=1000)
    """The elbow (KMeans for every k up to ``k_max``) runs on a fixed random sample of this many
    customers when there are more (760k customers: 25 s → 4 s); the clusters are fitted on all."""


class ReportConfig(_Strict):
    """What the insights report shows and exports."""

    title: str = "Customer segmentation (RFM)"
    currency: str = "£"
    top_n: int = Field(10, ge=1)
    """How many countries / products / segments to show in "top" charts."""
    recent_days: int = Field(30, ge=0)
    """Recency window in days: a customer (or account) who ordered within it is never told
    "win back" (nurtured instead), whatever the segment table says, and a cluster whose
    median recency is within it is never named "Dormant" or "lapsed"."""


class PredictConfig(_Strict):
    """Buy-till-you-die predictions and their backtest (:mod:`rfm_helpers.analysis.backtest`).

    The cleaning step writes the BG/NBD summary at the snapshot and, for the backtest, the
    customer table and summary as of ``holdout_days`` before it plus what each customer did in
    those last days (:mod:`rfm_helpers.sql.transactions`). Data spanning less than twice
    ``holdout_days`` get no backtest (``backtest_note`` in the marts' figures says why)."""

    holdout_days: int = Field(90, ge=1)
    """Length of the held-out window in days: the scores and models are computed as of this many
    days before the snapshot and judged on who ordered in those days."""
    horizon_days: int = Field(90, ge=1)
    """Days ahead the per-customer predictions (expected orders, expected value) cover."""
    monthly_discount_rate: float = Field(0.01, gt=-1.0)
    """Discount rate per month of the expected value (``predictive.customer_lifetime_value``)."""
    model: Literal["bgnbd", "pareto_nbd"] = "bgnbd"
    """``bgnbd`` (Fader, Hardie & Lee 2005; fast, the default) or ``pareto_nbd`` (Schmittlein
    et al. 1987; slower, for comparison)."""


class EngineConfig(_Strict):
    """The SQL engine that cleans the transactions and builds the report's tables
    (:mod:`rfm_helpers.sql.transactions`, :func:`rfm_helpers.sql.engines.open_engine`).

    Every engine runs the same SQL (``sql/rfm``) and gives the same ledger, customer table and
    exports. Examples (``params/default.yaml`` has them as comments)::

        engine: {engine: duckdb, memory_limit: 4GB}          # the default, embedded
        engine: {engine: postgres}                           # URL in $RFM_TRANSACTIONS_DATABASE_URL
        engine: {engine: postgres, url_env: MY_PG_URL}       # URL in $MY_PG_URL
        engine: {engine: spark, spark_master: "local[4]", spark_driver_memory: 4g}

    ``postgres`` reads the URL (``postgresql://user:password@host:5432/db``) only from the
    environment variable named by ``url_env``, never from the params file (which is committed);
    it uses temporary tables and views only and writes nothing persistent in the database.
    ``spark`` starts a local Spark session (Java 17, UI off, session time zone UTC). On both,
    the input file is typed as DuckDB types it, then its rows are shipped to the engine.
    """

    engine: Literal["duckdb", "postgres", "spark"] = "duckdb"
    """``duckdb`` (embedded: out of core over parquet files, folders or globs; csv and xlsx are
    parsed first), ``postgres`` (a PostgreSQL server, URL from ``url_env``) or ``spark`` (a local
    Apache Spark session)."""
    memory_limit: str = "4GB"
    """DuckDB's memory limit; beyond it, DuckDB spills to ``temp_directory``. 4GB keeps 100M rows
    within 4.4 GiB of memory and 4.5 GB of disk (README "Scale"); the shipped data need far less."""
    temp_directory: Path | None = None
    """Spill folder of DuckDB, and of Spark's scratch files (the typed input rows): needs ~the
    input's size free; ``null`` = a fresh folder under the OS temp dir."""
    threads: int | None = Field(None, ge=1)
    """DuckDB worker threads; ``null`` = one per core."""
    sample_rows: int = Field(1_000_000, ge=1_000)
    """The cleaning report's views of the raw rows (first rows, missing-value matrix, anomalies)
    show every row up to this many, else a uniform sample of this many; the ledger counts every row."""
    url_env: str = "RFM_TRANSACTIONS_DATABASE_URL"
    """``postgres`` only: name of the environment variable holding the connection URL
    (``postgresql://user:password@host:5432/db``; a password may also come from ~/.pgpass)."""
    connect_timeout: int = Field(10, ge=1, le=600)
    """``postgres`` only: seconds to wait for the server before giving up."""
    spark_master: str = "local[2]"
    """``spark`` only: the local master, ``local``, ``local[N]`` or ``local[*]`` (N worker threads)."""
    spark_driver_memory: str = "2g"
    """``spark`` only: the driver's JVM heap (e.g. ``2g``, ``4096m``); in local mode it holds the data."""
    spark_shuffle_partitions: int = Field(4, ge=1)
    """``spark`` only: ``spark.sql.shuffle.partitions`` (Spark's default 200 is slow on one machine)."""
    url: str | None = Field(None, exclude=True, repr=False)
    password: str | None = Field(None, exclude=True, repr=False)
    """Refused with a message: the URL and password never go in the params file."""

    @model_validator(mode="before")
    @classmethod
    def _redact(cls, data: object) -> object:
        # A rejected value is echoed in the error message: never echo a URL or a password.
        if isinstance(data, dict):
            secret = {k for k in ("url", "password") if data.get(k) is not None}
            env = data.get("url_env")
            if isinstance(env, str) and ("://" in env or "@" in env):
                secret.add("url_env")
            data = {**data, **{k: "<redacted>" for k in secret}}
        return data

    @field_validator("url", "password", mode="before")
    @classmethod
    def _no_secrets(cls, value: object, info: object) -> None:
        name = getattr(info, "field_name", "url")
        raise ValueError(
            f"engine.{name}: connection URLs and passwords are never read from the params file (it is "
            "committed and copied into reports). Remove the key and put the whole URL, e.g. "
            "postgresql://user:password@host:5432/db, in the environment variable named by "
            "engine.url_env (default RFM_TRANSACTIONS_DATABASE_URL), or the password in ~/.pgpass"
        )

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value == "<redacted>":
            raise ValueError(
                "engine.url_env looks like a URL: it is the NAME of the environment variable that holds "
                "the URL (e.g. RFM_TRANSACTIONS_DATABASE_URL), never the URL itself, which may carry a "
                "password. Remove the URL from the params file and export it in that variable"
            )
        if not (value.isascii() and value.isidentifier()):
            raise ValueError(
                f"engine.url_env: {value!r} is not an environment variable name; use letters, digits "
                "and '_' (e.g. RFM_TRANSACTIONS_DATABASE_URL)"
            )
        return value

    @field_validator("spark_master")
    @classmethod
    def _local_master(cls, value: str) -> str:
        inner = value[len("local[") : -1] if value.startswith("local[") and value.endswith("]") else None
        parts = inner.split(",") if inner is not None else []
        valid = value == "local" or (
            inner is not None
            and 1 <= len(parts) <= 2
            and (parts[0] == "*" or (parts[0].isdigit() and int(parts[0]) >= 1))
            and all(p.isdigit() for p in parts[1:])
        )
        if not valid:
            raise ValueError(
                f"engine.spark_master: {value!r} is not a local master; use local, local[N] (N worker "
                "threads, e.g. local[2]) or local[*] (one per core). The report starts its own local "
                "Spark session"
            )
        return value

    @field_validator("spark_driver_memory")
    @classmethod
    def _jvm_size(cls, value: str) -> str:
        number, unit = value[:-1], value[-1:].lower()
        if not (number.isdigit() and int(number) > 0 and unit in "kmgt" and unit):
            raise ValueError(
                f"engine.spark_driver_memory: {value!r} is not a JVM memory size; write a number and a "
                "unit, e.g. 2g or 4096m"
            )
        return value


SYNTHETIC_DIR = Path("data") / "synthetic"
"""Folder (below the output root) of the generated DuckDB files: the only place the tool writes
generated data, and only into files that carry its marker (``rfm_helpers.synthetic.accounts``)."""


class SyntheticData(_Strict):
    """The seeded generator's settings: only with ``accounts.engine: synthetic``."""

    accounts: int = Field(3000, ge=20)
    """Accounts to generate."""
    seed: int = 20241216
    file: str = "omnichannel.duckdb"
    """File name in ``data/synthetic/`` below the output root. The file is built when missing and
    rebuilt when these settings change, but only if the tool created it (its marker table); any
    other file there is left untouched and the run stops."""

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if Path(value).name != value or value in {".", ".."} or not value.endswith(".duckdb"):
            raise ValueError(
                "accounts.synthetic.file: give a plain file name ending in .duckdb (e.g. "
                "omnichannel.duckdb); it is always created in data/synthetic/. To read a DuckDB file "
                "elsewhere, use engine: duckdb and duckdb_path"
            )
        return value


class AccountsSource(_Strict):
    """Account-level RFM extracted with SQL from a messaging platform's database (omnichannel).

    Replaces ``input`` (transactions) for the omnichannel parameter sets; see
    ``rfm_helpers/accounts.py`` for what each option does to the extraction.

    ``engine`` says where the accounts come from, and whether they are real:

    * ``synthetic``: demo data from the seeded generator (``synthetic``: size, seed, file name),
      in a DuckDB file the tool creates in ``data/synthetic/``; every page says it is synthetic;
    * ``duckdb``: your DuckDB file at ``duckdb_path``, opened read-only, never modified;
    * ``postgres``: a PostgreSQL server (``postgres_url_env`` / ``postgres_url``), read only.
    """

    engine: Literal["synthetic", "duckdb", "postgres"] = "synthetic"
    synthetic: SyntheticData | None = None
    """Generator settings; defaults filled in with ``engine: synthetic``, an error otherwise."""
    duckdb_path: Path | None = None
    """Your DuckDB database file (``engine: duckdb`` only; opened read-only, never modified)."""
    synthetic_accounts: int | None = Field(None, exclude=True, repr=False)
    synthetic_seed: int | None = Field(None, exclude=True, repr=False)
    """Keys of the old layout, kept only to say what replaced them (never stored or dumped)."""
    postgres_url: str | None = None
    """``postgresql://user@host:port/db`` without a password (use ~/.pgpass or the env var)."""
    postgres_url_env: str = "RFM_ACCOUNTS_DATABASE_URL"
    """Environment variable holding the URL (it may contain a password); wins over postgres_url."""
    sql_dir: Path = Path("sql/omnichannel")
    prices: Path = Path("data/reference/omnichannel_prices.csv")
    timezone: str = "Asia/Jakarta"
    """Time zone of the platform: timestamps are stored in UTC and shown, bucketed and windowed here."""
    window_start: dt.date = dt.date(2024, 1, 1)
    """First local day of the analysis window."""
    window_end: dt.date = dt.date(2024, 12, 1)
    """First local day after the window (half-open: [window_start, window_end))."""
    as_of: dt.date = dt.date(2024, 12, 1)
    """Recency is counted in days from this date (never "today")."""
    channels: list[Literal["wa", "sms", "email", "call"]] = Field(
        default_factory=lambda: ["wa", "sms", "email", "call"], min_length=1
    )
    """Channels whose campaigns count for recency and frequency_broadcast."""
    charged_wa_categories: list[Literal["marketing", "utility", "service", "authentication"]] = Field(
        default_factory=lambda: ["marketing", "utility", "service", "authentication"]
    )
    """WhatsApp categories counted in frequency_charged and monetary (the document: marketing, utility)."""
    method: Literal["corrected", "document"] = "corrected"
    """``document`` reproduces the source document's queries and merges to compare with."""

    @field_validator("postgres_url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value and (urlsplit(value).password or "password" in parse_qs(urlsplit(value).query)):
            raise ValueError(
                "accounts.postgres_url contains a password: never commit one. Put the password in "
                "~/.pgpass, or the whole URL in the environment variable named by postgres_url_env"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"accounts.timezone: unknown time zone {value!r} (e.g. Asia/Jakarta)") from None
        return value

    @field_validator("synthetic_accounts", "synthetic_seed", mode="before")
    @classmethod
    def _old_layout(cls, value: object) -> None:
        raise ValueError(
            "this key was replaced. For generated demo data write engine: synthetic and "
            "synthetic: {accounts: N, seed: S}; for your own DuckDB file (old synthetic_accounts: null) "
            "write engine: duckdb and duckdb_path: <file> (opened read-only). See params/omnichannel.yaml"
        )

    @model_validator(mode="before")
    @classmethod
    def _synthetic_defaults(cls, data: object) -> object:
        engine = data.get("engine", "synthetic") if isinstance(data, dict) else None
        if engine == "synthetic" and data.get("synthetic") is None:
            data = {**data, "synthetic": {}}
        return data

    @model_validator(mode="after")
    def _engine(self) -> AccountsSource:
        if self.engine != "synthetic" and self.synthetic is not None:
            raise ValueError(
                f"accounts.synthetic (generator settings) applies only to engine: synthetic, but engine is "
                f"{self.engine}: remove the synthetic block, or set engine: synthetic for generated demo data"
            )
        if self.engine != "duckdb" and self.duckdb_path is not None:
            raise ValueError(
                f"accounts.duckdb_path is read only with engine: duckdb (engine is {self.engine}). Generated "
                "data always goes to data/synthetic/<synthetic.file>: remove duckdb_path, or set "
                "engine: duckdb to analyse that file (opened read-only)"
            )
        if self.engine == "duckdb" and self.duckdb_path is None:
            raise ValueError(
                "accounts.engine is duckdb but accounts.duckdb_path is not set: give the path of your DuckDB "
                "file (opened read-only, never modified), or use engine: synthetic for generated demo data"
            )
        return self

    @model_validator(mode="after")
    def _window(self) -> AccountsSource:
        if self.window_start >= self.window_end:
            raise ValueError("accounts.window_end must be after window_start (the window is half-open)")
        if self.as_of < self.window_end:
            raise ValueError(
                "accounts.as_of must be on or after window_end, so that recency is never negative"
            )
        # method: document counts recency from campaigns of the whole local year, so an as_of
        # inside that year is fine only if the data end before it: rfm_helpers.analysis.domain checks that.
        return self

    @property
    def synthetic_path(self) -> Path | None:
        """The generated DuckDB file (``engine: synthetic``), below the output root; else None."""
        if self.synthetic is None:
            return None
        return output_root() / SYNTHETIC_DIR / self.synthetic.file

    @property
    def database_path(self) -> Path | None:
        """The DuckDB file the extraction reads (generated or yours); None for PostgreSQL."""
        if self.engine == "duckdb" and self.duckdb_path is not None:
            return resolve(self.duckdb_path)
        return self.synthetic_path


MAX_RUN_NAME_BYTES = 100
"""Longest run name (UTF-8 bytes): it names folders, and the runner's hidden staging folder
(``.staging-<run_name>.<random>.old-<random>``) must stay within the 255-byte file name limit."""


class RunConfig(_Strict):
    """One run of the pipeline: a params file."""

    run_name: str = "online_retail"
    """Folder name of this run's products and reports (letters, digits, ``_`` and ``-``)."""
    description: str = ""
    input: InputConfig | None = None
    """Transactions file; exactly one of ``input`` and ``accounts`` (defaults to
    ``InputConfig()`` when neither is given)."""
    accounts: AccountsSource | None = None
    reference: ReferenceConfig = ReferenceConfig()
    cleaning: CleaningConfig = CleaningConfig()
    rfm: RFMConfig = RFMConfig()
    clustering: ClusteringConfig = ClusteringConfig()
    report: ReportConfig = ReportConfig()
    engine: EngineConfig = EngineConfig()
    predict: PredictConfig = PredictConfig()

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: object) -> object:
        if isinstance(data, dict):
            if data.get("input") is not None and data.get("accounts") is not None:
                raise ValueError("give either 'input' (a transactions file) or 'accounts' (SQL), not both")
            if data.get("accounts") is None and data.get("input") is None:
                data = {**data, "input": InputConfig()}
        return data

    @field_validator("run_name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "_-" for c in value):
            raise ValueError("run_name: use letters, digits, '_' and '-' only")
        size = len(value.encode("utf-8"))
        if size > MAX_RUN_NAME_BYTES:
            length = f"{len(value)} characters" + (f", {size} bytes in UTF-8" if size != len(value) else "")
            raise ValueError(
                f"run_name is too long ({length}): use at most {MAX_RUN_NAME_BYTES} (accented and "
                "non-Latin letters count 2-4 each). It names folders such as reports/<run_name>/, "
                "and a file name may not exceed 255 bytes"
            )
        return value

    @property
    def entity(self) -> str:
        """What one row of the per-entity table is, in the reports' words."""
        return "accounts" if self.accounts is not None else "customers"

    @property
    def clustering_input_path(self) -> Path:
        """The table the clustering step reads: segmented customers, or the extracted accounts."""
        return self.metrics_path if self.accounts is not None else self.customers_path

    @property
    def pipeline(self) -> str:
        """Which pipeline of ``notebooks/pipeline.yaml`` this run executes."""
        return "accounts" if self.accounts is not None else "transactions"

    def read_files(self) -> dict[str, list[Path]]:
        """Every file this run reads besides its notebooks and code, by name: what the runner
        hashes into the step fingerprints (a change reruns the steps) and the manifest records.

        Transactions: the input file(s) and the SQL of ``sql/rfm``. Accounts: the SQL folder, the
        price list and the DuckDB file (a PostgreSQL database is not a file: none is listed).
        Both: the reference tables."""
        files = {name: [resolve(path)] for name, path in self.reference.model_dump().items()}
        if self.accounts is None:
            files["input"] = matching_files(self.input.path)
            files["sql"] = sorted(RFM_SQL_DIR.glob("*.sql"))
            return files
        source = self.accounts
        files["sql"] = sorted(resolve(source.sql_dir).glob("*.sql"))
        files["prices"] = [resolve(source.prices)]
        if source.database_path is not None:
            files["database"] = [source.database_path]
        return files

    # --- resolved paths -------------------------------------------------------------
    @property
    def input_path(self) -> Path:
        return resolve(self.input.path)

    @property
    def interim_dir(self) -> Path:
        return output_root() / "data" / "interim" / self.run_name

    @property
    def processed_dir(self) -> Path:
        return output_root() / "data" / "processed" / self.run_name

    @property
    def exports_dir(self) -> Path:
        """Files for campaign tools; the runner publishes them beside the HTML reports."""
        return self.processed_dir / "exports"

    @property
    def cache_dir(self) -> Path:
        """Parsed copies of slow inputs (xlsx, csv), keyed by content hash."""
        return output_root() / "data" / "cache"

    @property
    def marts_dir(self) -> Path:
        """The customer table and the report aggregates the cleaning step builds
        (:mod:`rfm_helpers.sql.transactions`): the only tables that leave the SQL engine."""
        return self.interim_dir / "marts"

    @property
    def ledger_path(self) -> Path:
        return self.interim_dir / "cleaning_ledger.csv"

    @property
    def segment_table_path(self) -> Path:
        """The segment table the run used (from the workbook or the shipped reference)."""
        return self.interim_dir / "rfm_segments.csv"

    @property
    def metrics_path(self) -> Path:
        """R, F, M of every customer of the clean data (before any outlier policy)."""
        return self.processed_dir / "customer_metrics.parquet"

    @property
    def customers_path(self) -> Path:
        """Scored and segmented customers (after the outlier policy)."""
        return self.processed_dir / "customers_rfm.parquet"

    @property
    def score_bins_path(self) -> Path:
        return self.processed_dir / "score_bins.csv"

    @property
    def clusters_path(self) -> Path:
        return self.processed_dir / "customer_clusters.parquet"

    @property
    def outlook_dir(self) -> Path:
        """The outlook step's per-customer predictions (``predictions.parquet``), which the
        dashboard reads."""
        return self.processed_dir / "outlook"

    @property
    def outlook_exports_dir(self) -> Path:
        """The outlook step's lists for campaign tools (predictions, customers who fell from the
        valuable groups); published beside the other exports."""
        return self.processed_dir / "outlook_exports"

    @property
    def export_dirs(self) -> list[Path]:
        """Every folder whose files the runner publishes in ``reports/<run>/exports``: the lists
        of the insights step and those of the outlook step."""
        return [self.exports_dir, self.outlook_exports_dir]


def _format_validation_error(path: Path, err: ValidationError) -> str:
    lines = [f"Invalid parameters in {path}:"]
    for item in err.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"  - {where}: unknown parameter (check the spelling; see params/default.yaml)")
        else:
            lines.append(f"  - {where}: {item['msg']} (got {_shown(item.get('input'))})")
    return "\n".join(lines)


def _shown(value: object, limit: int = 80) -> str:
    """``repr`` of a rejected value, shortened when long (a 240-character run name)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f", {len(value)} characters" if isinstance(value, str) else ""
    return f"{text[: limit - 20]}…{size}"


def _decode_params(path: Path, data: bytes) -> str:
    """The params file's text; a file saved in another encoding is an error that says where."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"Params file {path} is UTF-16 text: open it in your editor and save it as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"Params file {path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start} (line {line}) cannot be read. Open it in your editor and save it as UTF-8."
        ) from None


def load_config(params_file: str | Path) -> RunConfig:
    """Read and validate a params YAML file (relative paths are from the project root).

    An empty file is an error rather than the defaults: it would silently run the shipped data
    into ``reports/online_retail``."""
    path = resolve(params_file)
    if not path.is_file():
        raise ConfigError(
            f"Params file not found: {path}. Pass an existing file, e.g. PARAMS=params/default.yaml"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read params file {path}: {exc.strerror}. Check its permissions.") from None
    try:
        raw = yaml.safe_load(_decode_params(path, data))
    except yaml.YAMLError as exc:
        raise ConfigError(f"Params file {path} is not valid YAML: {exc}") from exc
    if raw is None:  # nothing but blank lines or comments
        raise ConfigError(
            f"Params file {path} is empty: copy params/default.yaml, set run_name and input.path in the "
            "copy and pass that file (or pass PARAMS=params/default.yaml to run the defaults)"
        )
    if not isinstance(raw, dict):
        raise ConfigError(
            f"Params file {path} must contain a mapping of parameters, got {type(raw).__name__}"
        )
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc)) from None
