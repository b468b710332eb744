"""Run manifest (what produced a report) and the reports index page listing every run.

Each published run folder ``reports/<run_name>/`` holds a ``manifest.json``: parameters,
input file hash, code version and package versions, so a stakeholder's question "which data
and settings gave these numbers?" has an answer. ``reports/index.html`` is rebuilt from all
manifests so several parameter sets are listed side by side.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml

from rfm_helpers import units
from rfm_helpers.atomic import write_text
from rfm_helpers.config import RunConfig
from rfm_helpers.paths import ALL_ACCOUNTS_FILE, ALL_CUSTOMERS_FILE, display_path, resolve
from rfm_helpers.provenance import environment_info, git_info

MANIFEST_NAME = "manifest.json"
EXPORTS_DIRNAME = "exports"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def export_info(path: Path) -> dict[str, Any]:
    """File name, size and, for a CSV, its number of data rows (quoted newlines handled)."""
    info: dict[str, Any] = {"file": path.name, "bytes": path.stat().st_size}
    if path.suffix.lower() == ".csv":
        info["rows"] = max(csv_records(path.read_bytes()) - 1, 0)
    return info


def csv_records(data: bytes) -> int:
    """Records (the header included) of a CSV as the exports are written: ``\n`` ends a
    record unless it is inside a quoted field, and a quote only ever opens or closes one (a
    doubled quote closes and reopens it). The same count as Python's ``csv.reader`` for such
    files, without parsing the fields: 1.1 s instead of 3.2 s for the 430 MB of exports of
    100M rows."""
    outside_quotes = data.split(b'"')[::2]
    records = sum(part.count(b"\n") for part in outside_quotes)
    return records + (1 if data and not data.endswith(b"\n") else 0)


SUMMARY_EXPORTS = (ALL_CUSTOMERS_FILE, ALL_ACCOUNTS_FILE)
"""The one-row-per-customer (or account) export a run's headline figures are read from."""
START_HERE_WORDS = ("insights",)
"""A report whose notebook name holds one of these answers first (what to do, for whom)."""


def _number(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return 0.0
    return value if value == value else 0.0  # NaN counts as nothing


def _group_priorities(path: Path) -> dict[str, int]:
    """``group → priority`` of a playbook CSV (empty when it cannot be read)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return {
                row["group"].strip(): int(float(row["priority"]))
                for row in csv.DictReader(fh)
                if row.get("group") and row.get("priority")
            }
    except (OSError, KeyError, ValueError):
        return {}


def summarize_export(
    path: Path, *, priorities: dict[str, int] | None = None, entity: str = "customers"
) -> dict[str, Any]:
    """Headline figures of a run from its per-customer (or per-account) export.

    Returns ``entity``, ``count`` (rows), ``revenue`` (sum of ``monetary``), ``first`` and
    ``last`` (dates of the first and last purchase, when the export has them), ``not_scored``
    (rows without a group), ``actions`` (rows per ``recommended_action``, most frequent first:
    the action a row gets can differ from its group's goal) and ``groups``: one ``{name, goal,
    count, revenue, count_share, revenue_share}`` per segment group (or cluster), in playbook
    ``priorities`` order (clusters: by number). Read with the csv module, one row at a time: the
    runner needs no pandas.
    """
    by_column = None
    groups: dict[str, dict[str, Any]] = {}
    actions: dict[str, int] = {}
    count, revenue, not_scored = 0, 0.0, 0
    first, last = None, None
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        by_column = "group" if "group" in fields else "cluster_name" if "cluster_name" in fields else None
        for row in reader:
            count += 1
            amount = _number(row.get("monetary", ""))
            revenue += amount
            if row.get("first_purchase"):
                first = min(first or row["first_purchase"], row["first_purchase"])
            if row.get("last_purchase"):
                last = max(last or row["last_purchase"], row["last_purchase"])
            if row.get("recommended_action"):
                actions[row["recommended_action"]] = actions.get(row["recommended_action"], 0) + 1
            name = (row.get(by_column) or "").strip() if by_column else ""
            if not name:
                not_scored += 1
                continue
            group = groups.setdefault(
                name, {"name": name, "goal": row.get("goal") or "", "count": 0, "revenue": 0.0}
            )
            group["count"] += 1
            group["revenue"] += amount
            if by_column == "cluster_name":
                group.setdefault("number", int(_number(row.get("cluster", ""))))
    for group in groups.values():
        group["count_share"] = group["count"] / count if count else 0.0
        group["revenue_share"] = group["revenue"] / revenue if revenue else 0.0
        group["revenue"] = round(group["revenue"], 2)
    rank = priorities or {}

    def key(group: dict[str, Any]) -> tuple[float, float]:
        first = group.get("number", 0) if by_column == "cluster_name" else rank.get(group["name"], len(rank))
        return first, -group["revenue"]

    return {
        "entity": entity,
        "count": count,
        "revenue": round(revenue, 2),
        "first": first[:10] if first else None,
        "last": last[:10] if last else None,
        "not_scored": not_scored,
        "actions": sorted(actions.items(), key=lambda item: (-item[1], item[0])),
        "by": "cluster" if by_column == "cluster_name" else "group",
        "groups": sorted(groups.values(), key=key),
    }


def run_summary(cfg: RunConfig) -> dict[str, Any] | None:
    """:func:`summarize_export` of the run's export, with the currency and period; ``None``
    when the run wrote no such export (the index then shows no headline figures)."""
    path = next((cfg.exports_dir / n for n in SUMMARY_EXPORTS if (cfg.exports_dir / n).is_file()), None)
    if path is None:
        return None
    priorities = _group_priorities(resolve(cfg.reference.group_playbook))
    try:
        summary = summarize_export(path, priorities=priorities, entity=cfg.entity)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:  # the headline is no reason to fail a run
        print(f"warning: no headline figures for the index: cannot read {path}: {exc}", file=sys.stderr)
        return None
    summary["currency"] = cfg.report.currency
    if cfg.accounts is not None:  # the window, not the campaigns found in it
        summary["first"] = cfg.accounts.window_start.isoformat()
        summary["last"] = (cfg.accounts.window_end - dt.timedelta(days=1)).isoformat()
    return summary


def build_manifest(
    *,
    cfg: RunConfig,
    params_file: Path,
    started: str,
    finished: str,
    input_info: dict[str, str],
    reports: list[dict[str, Any]],
    exports: list[dict[str, Any]],
    fingerprint: str,
) -> dict[str, Any]:
    """Everything needed to tell how a published run was produced.

    ``reports``: one ``{notebook, title, html, duration_s}`` per page; ``exports``: one
    :func:`export_info` per file; ``input_info``: ``path`` and ``sha256`` of what was read, and
    ``generated_by`` when the data are synthetic (then ``synthetic`` is true, and the index says
    so); ``fingerprint``: hash of the step fingerprints (``rfm_helpers.runs.pipeline``).
    """
    return {
        "run_name": cfg.run_name,
        "description": cfg.description,
        "synthetic": bool(input_info.get("generated_by")),
        "params_file": display_path(params_file),
        "parameters": cfg.model_dump(mode="json"),
        "started": started,
        "finished": finished,
        "input": input_info,
        "git": git_info(),
        **environment_info(),
        "reports": reports,
        "exports": exports,
        "summary": run_summary(cfg),
        "fingerprint": fingerprint,
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` (sorted keys, so two manifests diff cleanly) into a staging
    folder, which is published as a whole."""
    path = folder / MANIFEST_NAME
    path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """A run folder's manifest, or ``None`` when it has none or it is unreadable."""
    try:
        return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_manifests(reports_root: Path) -> list[dict[str, Any]]:
    """Manifests of all published runs, by run name (hidden staging folders are skipped)."""
    manifests = []
    for folder in sorted(reports_root.iterdir() if reports_root.is_dir() else []):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        manifest = read_manifest(folder)
        if manifest is None:
            print(f"warning: {folder / MANIFEST_NAME} missing or unreadable; run not listed", file=sys.stderr)
            continue
        manifest["folder"] = folder.name  # links use the folder actually on disk
        manifests.append(manifest)
    return manifests


def _utc_minutes(timestamp: str) -> str:
    """``2024-03-01T09:15:42+00:00`` → ``2024-03-01 09:15 UTC``."""
    try:
        return dt.datetime.fromisoformat(timestamp).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(timestamp)


DEFAULT_PARAMS = Path("params") / "default.yaml"
"""The reference run: the index lists it first and says what every other run changes from it."""
UNCOMPARED = {"run_name", "description", "report.title"}
"""Parameters that name a run rather than change its numbers (shown elsewhere on the card)."""


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"rfm": {"frequency": "lines"}}`` → ``{"rfm.frequency": "lines"}`` (lists are leaves)."""
    if not isinstance(value, dict):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _show(value: Any) -> str:
    """A parameter value as its params file writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _percent(value: Any) -> str:
    return f"{float(value) * 100:g}%" if isinstance(value, int | float) else _show(value)


FEATURE_WORDS = {
    "monetary": "revenue",
    "frequency_broadcast": "campaigns",
    "frequency_charged": "charged messages",
}


def _features(features: Any) -> str:
    """``[recency, frequency_broadcast]`` → ``recency and campaigns``."""
    words = [FEATURE_WORDS.get(str(f), str(f).replace("_", " ")) for f in features or []]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _yes_no(keep: str, drop: str) -> Any:
    """Sentence of a cleaning switch: ``keep`` when it is off, ``drop`` when on."""
    return lambda value, default, run: drop if value else keep


_SENTENCES: dict[str, Any] = {
    "input.path": lambda v, d, run: f"Reads {v} instead of {d}.",
    "cleaning.cancellations": lambda v, d, run: {
        "net": "Cancelled orders are netted: the cancellation lines and the purchases they cancel "
        "are removed.",
        "drop": "Cancellation lines are removed, but the orders they cancel stay counted as sales "
        "(the source document's method).",
        "keep": "Cancellation lines are kept.",
    }.get(v),
    "cleaning.drop_cancellations": _yes_no(
        "Keeps cancelled orders (invoices starting with C).", "Removes cancelled orders."
    ),
    "cleaning.drop_non_positive_quantity": _yes_no(
        "Keeps lines with a zero or negative quantity.", "Removes lines with a zero or negative quantity."
    ),
    "cleaning.drop_non_positive_price": _yes_no(
        "Keeps lines with a zero or negative price.", "Removes lines with a zero or negative price."
    ),
    "cleaning.drop_flagged_descriptions": _yes_no(
        "Keeps lines whose description is a warehouse note (damaged, check, …).",
        "Removes lines whose description is a warehouse note.",
    ),
    "cleaning.drop_non_product_codes": _yes_no(
        "Keeps non-product lines (postage, fees, adjustments): they count as revenue.",
        "Removes non-product lines (postage, fees, adjustments).",
    ),
    "cleaning.duplicates": lambda v, d, run: {
        "consolidate": "Duplicate lines: identical copies dropped, different quantities summed.",
        "drop_exact": "Duplicate lines: only fully identical rows are dropped.",
        "keep": "Duplicate lines are all kept.",
    }.get(v),
    "rfm.snapshot_date": lambda v, d, run: (
        None
        if run.get("rfm.recency_from") == "last_transaction"  # the date is not used then
        else "Recency is counted from the day after the last transaction."
        if v is None
        else f"Recency is counted from {v} instead of {d}."
    ),
    "rfm.recency_from": lambda v, d, run: {
        "last_transaction": "Recency is counted in days from the last transaction in the data, "
        "not from a fixed snapshot date.",
        "snapshot": "Recency is counted in days from a fixed snapshot date.",
    }.get(v),
    "rfm.frequency": lambda v, d, run: {
        "lines": "Frequency counts invoice lines (an order of 20 products counts 20), not orders.",
        "invoices": "Frequency counts orders (distinct invoices).",
    }.get(v),
    "rfm.outliers": lambda v, d, run: {
        "trim": f"Customers above the {_percent(run.get('rfm.outlier_quantile'))} quantile of R, F or M "
        "are left out of the scoring (they stay in the export, marked not scored).",
        "cap": f"R, F and M are capped at their {_percent(run.get('rfm.outlier_quantile'))} quantile "
        "before scoring.",
        "keep": "Every customer is scored, outliers included.",
    }.get(v),
    "rfm.outlier_quantile": lambda v, d, run: (
        None
        if run.get("rfm.outliers") == "keep"
        else f"Outlier threshold: the {_percent(v)} quantile instead of {_percent(d)}."
    ),
    "rfm.scoring": lambda v, d, run: {
        "qcut": "Scores use pandas qcut quintile edges, as in the source document.",
        "rank": "Scores use rank positions (ties share a score).",
    }.get(v),
    "clustering.k": lambda v, d, run: f"{v} clusters instead of {d}.",
    "clustering.features": lambda v, d, run: (
        f"Clusters are built on {_features(v)} instead of {_features(d)}."
    ),
    "clustering.log_transform": lambda v, d, run: (
        "Clusters are built on the raw metrics, without the "
        "log transform (a few extreme customers can take whole clusters)."
        if not v
        else "Clusters are built on log-transformed metrics."
    ),
    "report.currency": lambda v, d, run: f"Money is shown in {v} instead of {d}.",
    "report.top_n": lambda v, d, run: f"Top lists show {v} items instead of {d}.",
}
"""Plain-words sentence for a changed parameter: ``(value, default value, all run values)``
→ text, or None to say nothing (a parameter without effect given the others)."""

_ACCOUNT_SOURCES = {
    "synthetic": "synthetic demo data from the seeded generator",
    "duckdb": "a DuckDB database file",
    "postgres": "a PostgreSQL server",
}


def parameter_changes(
    parameters: dict[str, Any] | None, default: dict[str, Any] | None
) -> list[dict[str, str]]:
    """What a run changes relative to the default run, in plain words.

    One ``{text, key, value, default}`` per changed parameter (dotted ``key``), in the params
    file's order; ``text`` is a sentence (:data:`_SENTENCES`, else ``key is value instead of
    default``). An account run (``accounts``) says where its accounts come from in one
    sentence and is then compared on clustering and report settings only: the transaction
    settings do not apply to it.
    """
    if not parameters or not default:
        return []
    run, base = _flatten(parameters), _flatten(default)
    changes: list[dict[str, str]] = []
    skipped_sections: tuple[str, ...] = ()
    if parameters.get("accounts") and not default.get("accounts"):
        accounts = parameters["accounts"]
        source = _ACCOUNT_SOURCES.get(str(accounts.get("engine")), f"{accounts.get('engine')}")
        changes.append(
            {
                "text": f"Accounts of a messaging platform, extracted with SQL from {source}, instead of "
                f"the transactions file {base.get('input.path')}. Window {accounts.get('window_start')} to "
                f"{accounts.get('window_end')} ({accounts.get('timezone')}); recency counted from "
                f"{accounts.get('as_of')}.",
                "key": "accounts.engine",
                "value": _show(accounts.get("engine")),
                "default": "null",
            }
        )
        skipped_sections = ("input.", "accounts.", "cleaning.", "rfm.", "engine.", "reference.", "accounts")
    for key in dict.fromkeys([*run, *base]):
        if key in UNCOMPARED or key.startswith(skipped_sections) or key in ("input", "accounts"):
            continue
        value, before = run.get(key), base.get(key)
        if value == before:
            continue
        sentence = _SENTENCES.get(key)
        text = (
            sentence(value, before, run)
            if sentence
            else f"{key} is {_show(value)} instead of {_show(before)}."
        )
        if text:
            changes.append({"text": text, "key": key, "value": _show(value), "default": _show(before)})
    return changes


def default_parameters() -> dict[str, Any] | None:
    """The parameters of ``params/default.yaml`` as a manifest stores them (None if unusable)."""
    from rfm_helpers.config import ConfigError, load_config

    try:
        return load_config(DEFAULT_PARAMS).model_dump(mode="json")
    except (ConfigError, OSError):
        return None


def run_kind(manifest: dict[str, Any]) -> str:
    """``default`` (the default real-data run), ``real``, ``test`` (a test parameter set) or
    ``synthetic`` (generated demo data: the manifest's ``synthetic`` flag)."""
    params_file = Path(str(manifest.get("params_file") or ""))
    if manifest.get("synthetic"):
        return "synthetic"
    if params_file.name.startswith("test_") or str(manifest.get("run_name", "")).startswith("test_"):
        return "test"
    if params_file.as_posix() == DEFAULT_PARAMS.as_posix():
        return "default"
    return "real"


RUN_ORDER = {"default": 0, "real": 1, "test": 2, "synthetic": 3}
"""The index lists the default real-data run first, synthetic demo runs last."""


def order_runs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs in the order the index shows them: :data:`RUN_ORDER`, then by run name."""
    return sorted(manifests, key=lambda m: (RUN_ORDER[run_kind(m)], str(m.get("run_name", ""))))


def start_here(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The report that answers first (what to do, for whom): the insights page, else the last."""
    reports = manifest.get("reports") or []
    for report in reports:
        if any(word in str(report.get("notebook", "")) for word in START_HERE_WORDS):
            return report
    return reports[-1] if reports else None


KIND_LABELS = {"default": "default run", "real": "", "test": "test run", "synthetic": "synthetic demo data"}


def _swatch(group: dict[str, Any], by: str) -> str:
    """The colour the charts give a segment group (or a cluster, by its number)."""
    from rfm_helpers.report import style

    if by == "cluster":
        number = int(group.get("number") or 1)
        return style.CLUSTER_COLORS[(number - 1) % len(style.CLUSTER_COLORS)]
    return style.GROUP_COLORS.get(str(group.get("name")), style.NEUTRAL)


def _long_date(iso: str | None) -> str:
    """``2010-12-01`` → ``1 Dec 2010``."""
    try:
        day = dt.date.fromisoformat(str(iso)[:10])
    except ValueError:
        return ""
    return f"{day.day} {day:%b %Y}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        # A manifest from an older version lacking a field shows a blank, not a crash.
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = lambda value: yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
    env.filters["utc_minutes"] = _utc_minutes
    # a headline amount, £8.74M, IDR 4.83B (an older manifest without a currency: none)
    env.filters["money"] = lambda value, currency="": units.money(value, str(currency))
    env.filters["long_date"] = _long_date
    env.filters["count"] = lambda value: f"{value:,}"
    env.filters["percent"] = lambda value: f"{value:.0%}"
    return env


def render_index(manifests: list[dict[str, Any]], default: dict[str, Any] | None = None) -> str:
    """HTML of the reports index page (self-contained: inline CSS, no scripts, relative links).

    Runs in :func:`order_runs` order, each with its :func:`run_kind`, its :func:`start_here`
    page and its :func:`parameter_changes` relative to ``default`` (the parameters of
    ``params/default.yaml`` when not given)."""
    default = default if default is not None else default_parameters()
    runs = [
        {
            **manifest,
            "kind": run_kind(manifest),
            "start_here": start_here(manifest),
            "changes": parameter_changes(manifest.get("parameters"), default),
        }
        for manifest in order_runs(manifests)
    ]
    return (
        _environment()
        .get_template("index.html.j2")
        .render(runs=runs, default_params=DEFAULT_PARAMS.as_posix(), kind_labels=KIND_LABELS, swatch=_swatch)
    )


def write_index(reports_root: Path) -> Path:
    """Rebuild ``index.html`` from every run folder's manifest."""
    path = reports_root / "index.html"
    write_text(path, render_index(load_manifests(reports_root)))
    return path
