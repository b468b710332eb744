"""The interactive dashboard of a run: one self-contained HTML page (or a fragment for a
notebook's ``display(HTML(...))``) over the run's customer or account table.

What it shows, all driven by the same filters (multi-selects over segment, group, cluster name,
country, channels and recommended action, whichever the table has) and by the search box:

* KPI cards: customers (or accounts), revenue, the share of revenue at risk (only when the caller
  says which groups are at risk, :func:`render_dashboard`'s ``at_risk``) and the expected value
  (only when the table has the column: a card is never a placeholder);
* customers and revenue by segment (accounts: by cluster) in the colours of
  :mod:`rfm_helpers.report.style`, and the R × F heatmap when ``r_score`` and ``f_score`` exist;
* a sortable, searchable table of every row, and a button that downloads the rows in view as
  CSV with the export's columns and header, money to the cent and text a spreadsheet would run
  as a formula neutralised (the rules of :func:`rfm_helpers.atomic.write_export_csv`);
* optional extra panels (:class:`ExtraPanel`, e.g. the segment migration) with their own data,
  told about every filter change.

Why no chart or table library: the page must open from a file, from an e-mail attachment or
inside a notebook with no network (no CDN), and a bundled library (tens to hundreds of kB per
page, a licence and a version to keep current, its own number formats) would do more than the
three charts need. The charts are a few dozen lines of SVG drawn by the script below, the
numbers are written by the same rules as :mod:`rfm_helpers.units` (ported to JavaScript: ``£950``,
``£12.3k``, ``46,829``, ``23.4%``), and the colours come from :mod:`rfm_helpers.report.style`.

Safety: the rows are embedded once as JSON in ``<script type="application/json">`` with every
``<`` written ``\\u003c`` (a customer name such as ``</script><img onerror=…>`` cannot end the
script), and the script writes data into the page only as ``textContent`` or SVG text nodes,
never as markup. The script is included once; its code only runs on the page's own data.

Size: the data are columnar, and text columns with few distinct values (segment, country,
action) are stored once per value with a small code per row: about 165 bytes a customer row.
:data:`DEFAULT_MAX_ROWS` keeps a page well within :data:`SIZE_BUDGET_BYTES` (3 MB).
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rfm_helpers import atomic, units
from rfm_helpers.analysis.insights import is_win_back
from rfm_helpers.config import RunConfig
from rfm_helpers.paths import ALL_ACCOUNTS_FILE, ALL_CUSTOMERS_FILE
from rfm_helpers.report import style
from rfm_helpers.report.tables import column_label

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MAX_ROWS = 5_000
"""Rows embedded by default; above it, the top rows by revenue (the page says how many of how
many). Why 5,000: a customer row weighs about 165 bytes embedded (measured on rows shaped like
the export), so the shipped run (4,338 customers) fits whole in about 0.73 MB and 5,000 rows in
about 0.85 MB: within :data:`SIZE_BUDGET_BYTES` as a page of its own with room to spare, and,
once placed in a report page beside its charts (pages weigh up to about 0.9 MB, and
tests/browser holds each to 2 MB), still within that page's budget. The browser also redraws a
5,000-row table on every filter change in a fraction of a second; 10,000 rows (about 1.6 MB)
would fit the 3 MB but not a report page."""
SIZE_BUDGET_BYTES = 3_000_000
"""The most a dashboard page may weigh (tests hold :data:`DEFAULT_MAX_ROWS` rows to it)."""

FILTER_CANDIDATES = ("segment", "group", "cluster_name", "country", "channels", "recommended_action")
"""Columns offered as filters, in this order, when the table has them."""
TABLE_CANDIDATES = (
    "customer_id",
    "application",
    "full_name",
    "country",
    "segment",
    "group",
    "cluster_name",
    "channels",
    "recency",
    "frequency",
    "frequency_broadcast",
    "frequency_charged",
    "monetary",
    "expected_value",
    "rfm_code",
    "recommended_action",
)
"""Columns the table shows by default, in this order, when the table has them (the download
has every column)."""
WRAP_COLUMNS = ("full_name", "channels", "recommended_action", "goal", "action_reason", "note")
"""Free-text columns whose cells may wrap in the table (the others stay on one line)."""
DICTIONARY_SHARE = 0.5
"""A text column with fewer distinct values than this share of its rows is stored as codes."""


@dataclass(frozen=True)
class DashboardSpec:
    """Which columns of the table play which part. :meth:`infer` fills it from the columns of an
    export (``customer_segments.csv`` or ``account_clusters.csv``)."""

    entity: str = "customers"
    """What a row is, plural (``customers``, ``accounts``): the cards' and notes' wording."""
    id_column: str = "customer_id"
    revenue_column: str = "monetary"
    value_column: str | None = None
    """Summed into the expected-value card; ``None``: no card."""
    chart_column: str = "segment"
    """The categories of the two bar charts (``segment``, ``cluster_name``)."""
    chart_kind: style.Kind | None = "segment"
    risk_column: str | None = "group"
    """The column whose values ``at_risk`` names (``group``, ``cluster_name``)."""
    filter_columns: tuple[str, ...] = ()
    table_columns: tuple[str, ...] = ()
    search_columns: tuple[str, ...] = ()
    """Text columns the search box looks in (ids, names, categories)."""
    heatmap: tuple[str, str] | None = None
    """``(r_score, f_score)``: the columns of the R × F heatmap, if any."""
    cluster_number_column: str | None = None
    """Orders cluster names by cluster number (1 = highest value), as every chart does."""
    download_name: str = "customer_segments_filtered.csv"

    @classmethod
    def infer(cls, table: pd.DataFrame, entity: str | None = None) -> DashboardSpec:
        """The spec of an export: accounts when it has ``application`` (charts by cluster),
        customers otherwise (charts by segment)."""
        columns = [str(c) for c in table.columns]
        has = set(columns)
        accounts = "application" in has and "customer_id" not in has
        entity = entity or ("accounts" if accounts else "customers")
        id_column = "application" if accounts else ("customer_id" if "customer_id" in has else columns[0])
        if "segment" in has and not accounts:
            chart_column, chart_kind = "segment", "segment"
        elif "cluster_name" in has:
            chart_column, chart_kind = "cluster_name", "cluster"
        else:
            chart_column, chart_kind = next(c for c in FILTER_CANDIDATES if c in has), None
        risk_column = "group" if "group" in has else ("cluster_name" if "cluster_name" in has else None)
        table_columns = tuple(c for c in TABLE_CANDIDATES if c in has) or tuple(columns)
        text_like = {id_column, "full_name", *FILTER_CANDIDATES}
        return cls(
            entity=entity,
            id_column=id_column,
            revenue_column="monetary",
            value_column="expected_value" if "expected_value" in has else None,
            chart_column=chart_column,
            chart_kind=chart_kind,  # type: ignore[arg-type]
            risk_column=risk_column,
            filter_columns=tuple(c for c in FILTER_CANDIDATES if c in has),
            table_columns=table_columns,
            search_columns=tuple(c for c in table_columns if c in text_like),
            heatmap=("r_score", "f_score") if {"r_score", "f_score"} <= has else None,
            cluster_number_column="cluster" if "cluster" in has else None,
            download_name=("account_clusters" if accounts else "customer_segments") + "_filtered.csv",
        )


@dataclass(frozen=True)
class ExtraPanel:
    """A further panel (e.g. the segment migration) the dashboard places after its charts.

    ``html``: the panel's markup, trusted (written by our code, never by data); ``data``: any
    JSON value, embedded like the rows; ``script``: JavaScript run once with ``panel`` (the
    panel's element), ``data`` and ``dashboard``, whose ``dashboard.onUpdate(fn)`` calls
    ``fn(rows)`` (the row indices in view) after every filter change and once at the start,
    and ``dashboard.value(column, row)`` reads a cell. Like the dashboard's own script it must
    write data with ``textContent``."""

    title: str
    html: str
    data: Any = None
    script: str = ""


@dataclass
class _Payload:
    """What the page's script reads (the JSON embedded once)."""

    content: dict[str, Any] = field(default_factory=dict)


def render_dashboard(
    table: pd.DataFrame,
    spec: DashboardSpec | None = None,
    *,
    title: str,
    currency: str,
    max_rows: int = DEFAULT_MAX_ROWS,
    at_risk: Sequence[str] | str | None = None,
    frequency_unit: str = "orders",
    subtitle: str = "",
    extra_panels: Sequence[ExtraPanel] = (),
    fragment: bool = False,
) -> str:
    """The dashboard of ``table`` (one row per customer or account, e.g. the run's export) as
    one self-contained HTML document, or with ``fragment`` a ``<div>`` (with its style and
    script) for a notebook's ``display(HTML(...))``; nbconvert keeps both in the published page.

    ``spec``: which column plays which part (default :meth:`DashboardSpec.infer`).
    ``currency``: the run's (``report.currency``), as :mod:`rfm_helpers.units` writes it.
    ``max_rows``: above it only the top rows by revenue are embedded, and the page says so.
    ``at_risk``: the values of ``spec.risk_column`` that are at risk (e.g. the groups whose goal
    is a win-back, from the playbook) or the name of a boolean column flagging the rows at
    risk; ``None``: no revenue-at-risk card. ``extra_panels``: see :class:`ExtraPanel`.
    """
    spec = spec or DashboardSpec.infer(table)
    missing = [
        c
        for c in (spec.id_column, spec.revenue_column, spec.chart_column, *spec.filter_columns)
        if c not in table.columns
    ]
    if missing:
        raise ValueError(f"dashboard: the table has no column {', '.join(missing)}")
    if max_rows < 1:
        raise ValueError("dashboard: max_rows must be at least 1")
    total = len(table)
    rows = table
    if total > max_rows:  # the top rows by revenue, kept in the table's order (the export's)
        revenue = table[spec.revenue_column].reset_index(drop=True)
        top = revenue.sort_values(ascending=False, kind="stable", na_position="last").index[:max_rows]
        rows = table.iloc[sorted(top)]
    rows = atomic.round_money(rows.reset_index(drop=True))

    payload = _payload(rows, spec, total, currency, frequency_unit, at_risk, extra_panels)
    uid = (
        "rfm-dash-"
        + hashlib.sha1(json.dumps([title, len(rows), list(map(str, rows.columns))]).encode()).hexdigest()[:10]
    )
    body = _body(uid, payload, title, subtitle, spec, extra_panels)
    if fragment:
        return body
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def embed_json(value: Any) -> str:
    """``value`` as JSON safe inside ``<script>``: every ``<`` is ``\\u003c``, so no text in the
    data can close the script or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def decode_rows(payload: dict[str, Any]) -> pd.DataFrame:
    """The rows of an embedded payload as a DataFrame (what the page's script reads), for tests
    and for whoever needs the data back out of a page."""
    import pandas as pd

    data = {}
    for column in payload["columns"]:
        if "codes" in column:
            levels = column["levels"]
            data[column["name"]] = [None if c is None else levels[c] for c in column["codes"]]
        else:
            data[column["name"]] = column["values"]
    return pd.DataFrame(data, columns=[c["name"] for c in payload["columns"]])


def _payload(
    rows: pd.DataFrame,
    spec: DashboardSpec,
    total: int,
    currency: str,
    frequency_unit: str,
    at_risk: Sequence[str] | str | None,
    extra_panels: Sequence[ExtraPanel],
) -> dict[str, Any]:
    import pandas as pd

    def label(name: str) -> str:
        return column_label(name, currency, frequency_unit, spec.entity)

    money_columns = {str(c) for c in rows.columns if atomic.is_money_column(c)} | {spec.revenue_column}
    if spec.value_column:
        money_columns.add(spec.value_column)
    columns = [_column(rows.iloc[:, i], str(name)) for i, name in enumerate(rows.columns)]
    for column in columns:
        column["label"] = label(column["name"])
        column["money"] = column["name"] in money_columns
    cents = any(
        c["money"] and c["kind"] == "float" and any(v is not None and v != int(v) for v in _values(c))
        for c in columns
    )

    def order(name: str) -> list[str]:
        values = rows[name]
        present = values.dropna()
        if spec.cluster_number_column and name == "cluster_name" and spec.cluster_number_column in rows:
            by_number = rows.dropna(subset=[name]).sort_values(spec.cluster_number_column, kind="stable")
            return [str(v) for v in dict.fromkeys(by_number[name])]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return [c for c in style.ordered(values) if c in set(present.astype(str))]
        known = {"segment": style.SEGMENT_COLORS, "group": style.GROUP_COLORS}.get(name)
        names = [str(v) for v in present.astype(str).value_counts(sort=True).index]
        if known and all(n in known for n in names):
            return [n for n in known if n in names]
        return names  # most rows first

    chart_order = order(spec.chart_column)
    risk: dict[str, Any] | None = None
    if isinstance(at_risk, str):
        if at_risk not in rows.columns:
            raise ValueError(f"dashboard: at_risk names no column of the table: {at_risk}")
        risk = {"flag": at_risk, "label": label(at_risk)}
    elif at_risk is not None:
        if spec.risk_column is None:
            raise ValueError("dashboard: at_risk lists values, but the spec has no risk_column")
        risk = {"column": spec.risk_column, "values": [str(v) for v in at_risk]}
    heatmap = None
    if spec.heatmap and all(c in rows.columns for c in spec.heatmap):
        scores = pd.to_numeric(rows[list(spec.heatmap)].stack(), errors="coerce").dropna()
        if len(scores):
            heatmap = {
                "row": spec.heatmap[0],
                "col": spec.heatmap[1],
                "bins": int(scores.max()),
                "rowTitle": f"Recency score ({int(scores.max())} = most recent)",
                "colTitle": f"Frequency score ({int(scores.max())} = most {frequency_unit})",
            }
    one = {"customers": "customer", "accounts": "account"}.get(spec.entity, spec.entity.rstrip("s"))
    return {
        "entity": spec.entity,
        "entityOne": one,
        "currency": currency,
        "currencyPrefix": units.currency_prefix(currency) if currency else "",
        "cents": cents,
        "rows": len(rows),
        "total": total,
        "columns": columns,
        "id": spec.id_column,
        "revenue": spec.revenue_column,
        "value": spec.value_column if spec.value_column in rows.columns else None,
        "valueLabel": label(spec.value_column) if spec.value_column in rows.columns else None,
        "chart": {
            "column": spec.chart_column,
            "title": {"segment": "segment", "cluster": "cluster"}.get(
                spec.chart_kind or "", label(spec.chart_column).lower()
            ),
            "order": chart_order,
            "colors": style.colors(chart_order, spec.chart_kind),
        },
        "risk": risk,
        "filters": [{"column": c, "label": label(c), "options": order(c)} for c in spec.filter_columns],
        "table": [c for c in spec.table_columns if c in rows.columns],
        "search": [c for c in spec.search_columns if c in rows.columns],
        "wrap": [c for c in WRAP_COLUMNS if c in rows.columns],
        "heatmap": heatmap,
        "triggers": list(atomic.FORMULA_TRIGGERS),
        "download": spec.download_name,
        "panels": [panel.data for panel in extra_panels],
        "display": {
            c["name"]: {v: style.readable_channels(v) for v in _values(c) if v is not None}
            for c in columns
            if style.kind_of(c["name"]) == "channel" and c["kind"] == "text"
        },
    }


def _values(column: dict[str, Any]) -> list[Any]:
    if "codes" in column:
        return [None if c is None else column["levels"][c] for c in column["codes"]]
    return column["values"]


def _column(values: pd.Series, name: str) -> dict[str, Any]:
    """One column as the script reads it: ``kind`` (``int``, ``float``, ``bool``, ``text``:
    how the CSV writes it) and its ``values``, or ``levels`` and ``codes`` for a text column
    with few distinct values. Dates are text exactly as pandas writes them into a CSV."""
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.cat.categories.dtype if len(values.cat.categories) else object)
    kind = "text"
    cells: list[Any]
    if pd.api.types.is_bool_dtype(values):
        kind = "bool"
        cells = [None if pd.isna(v) else bool(v) for v in values.tolist()]
    elif pd.api.types.is_integer_dtype(values):
        kind = "int"
        cells = [None if pd.isna(v) else int(v) for v in values.tolist()]
    elif pd.api.types.is_float_dtype(values):
        kind = "float"
        cells = [
            None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v) for v in values
        ]
    elif pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        text = values.to_frame().to_csv(index=False, header=False, lineterminator="\n").split("\n")[:-1]
        cells = [None if missing else cell for cell, missing in zip(text, values.isna(), strict=True)]
    else:
        cells = [None if _missing(v) else str(v) for v in values.tolist()]
    column: dict[str, Any] = {"name": name, "kind": kind}
    distinct = {v for v in cells if v is not None}
    if kind == "text" and len(cells) and len(distinct) < DICTIONARY_SHARE * len(cells):
        levels = sorted(distinct)
        code: Callable[[str], int] = {v: i for i, v in enumerate(levels)}.__getitem__
        column.update(levels=levels, codes=[None if v is None else code(v) for v in cells])
    else:
        column["values"] = cells
    return column


def _missing(value: object) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _script_safe(code: str) -> str:
    """JavaScript that cannot end its ``<script>`` early (``</`` written ``<\\/``)."""
    return code.replace("</", "<\\/")


def _body(
    uid: str,
    payload: dict[str, Any],
    title: str,
    subtitle: str,
    spec: DashboardSpec,
    extra_panels: Sequence[ExtraPanel],
) -> str:
    esc = html.escape
    panels = "".join(
        f'<section class="rd-panel rd-extra" data-panel="{i}"><h2>{esc(panel.title)}</h2>'
        f"{panel.html}</section>"
        for i, panel in enumerate(extra_panels)
    )
    key = json.dumps(uid)
    panel_scripts = "".join(
        "<script>window.rfmDashboardPanels=window.rfmDashboardPanels||{};"
        f"(window.rfmDashboardPanels[{key}]=window.rfmDashboardPanels[{key}]||[])"
        f".push(function(panel,data,dashboard){{{_script_safe(panel.script)}\n}});</script>"
        for panel in extra_panels
    )
    entity = esc(spec.entity)
    subtitle_html = f'<p class="rd-sub">{esc(subtitle)}</p>' if subtitle else ""
    return f"""<div class="rfm-dash" id="{uid}">
<style>{_CSS}</style>
<header class="rd-head"><h1>{esc(title)}</h1>{subtitle_html}
<p class="rd-note" data-role="note" hidden></p></header>
<svg data-role="svg-ns" hidden aria-hidden="true"></svg>
<section class="rd-filters" aria-label="Filters"><div class="rd-filter-list" data-role="filters"></div>
<button type="button" data-role="clear">Clear filters</button>
<p class="rd-hint">Ctrl-click (⌘-click on a Mac) picks several values; nothing picked means all.</p></section>
<section class="rd-cards" data-role="cards" aria-live="polite"></section>
<section class="rd-charts">
<figure class="rd-panel"><figcaption>{entity.capitalize()} by <span data-role="chart-title"></span>
</figcaption>
<div data-role="chart-count"></div></figure>
<figure class="rd-panel"><figcaption>Revenue by <span data-role="chart-title"></span></figcaption>
<div data-role="chart-revenue"></div></figure>
<figure class="rd-panel" data-role="heatmap-panel" hidden><figcaption>{entity.capitalize()} by recency
and frequency score</figcaption><div data-role="heatmap"></div></figure>
</section>
{panels}
<section class="rd-panel rd-table-panel">
<div class="rd-toolbar"><label>Search <input type="search" data-role="search"
placeholder="ID, name, country, segment…"></label>
<span class="rd-count" data-role="count" aria-live="polite"></span>
<button type="button" data-role="download">Download these {entity} (CSV)</button></div>
<div class="rd-scroll"><table class="rd-table" data-role="table"><thead></thead><tbody></tbody></table></div>
</section>
<script type="application/json" data-role="data">{embed_json(payload)}</script>
{panel_scripts}<script>{_JS}
rfmDashboard(document.currentScript ? document.currentScript.parentNode
  : document.getElementById({json.dumps(uid)}));</script>
</div>"""


_CSS = """
.rfm-dash{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;
 max-width:1240px;margin:0 auto;padding:12px 16px;box-sizing:border-box;font-size:14px}
.rfm-dash *{box-sizing:border-box}
.rfm-dash [hidden]{display:none!important}
.rfm-dash h1{font-size:22px;margin:4px 0}
.rfm-dash h2{font-size:16px;margin:0 0 8px}
.rfm-dash .rd-sub{margin:2px 0;color:#555}
.rfm-dash .rd-note{margin:6px 0;padding:6px 10px;background:#fff4e5;border-left:4px solid #fdae61}
.rfm-dash .rd-filters{display:flex;align-items:flex-end;gap:12px;flex-wrap:wrap;margin:12px 0}
.rfm-dash .rd-filter-list{display:flex;gap:12px;flex-wrap:wrap}
.rfm-dash .rd-filter label{display:block;font-weight:600;font-size:12px;margin-bottom:2px}
.rfm-dash .rd-filter select{min-width:150px;max-width:220px;font-size:12px}
.rfm-dash .rd-hint{font-size:12px;color:#666;width:100%;margin:0}
.rfm-dash button{font-size:13px;padding:5px 10px;border:1px solid #4c72b0;background:#fff;
 color:#2b4f8a;border-radius:4px;cursor:pointer}
.rfm-dash button:hover{background:#eef3fb}
.rfm-dash .rd-cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;
 margin:12px 0}
.rfm-dash .rd-card{border:1px solid #ddd;border-radius:6px;padding:10px 12px;background:#fafafa}
.rfm-dash .rd-card .rd-k{font-size:12px;color:#555;text-transform:uppercase;letter-spacing:.03em}
.rfm-dash .rd-card .rd-v{font-size:26px;font-weight:700;margin:2px 0}
.rfm-dash .rd-card .rd-d{font-size:12px;color:#555}
.rfm-dash .rd-charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:12px}
.rfm-dash .rd-panel{border:1px solid #ddd;border-radius:6px;padding:10px 12px;margin:0 0 12px;
 background:#fff}
.rfm-dash figcaption{font-weight:600;margin-bottom:6px}
.rfm-dash svg{display:block;width:100%;height:auto}
.rfm-dash svg text{font-size:12px;fill:#222}
.rfm-dash .rd-toolbar{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin-bottom:8px}
.rfm-dash .rd-toolbar input{font-size:13px;padding:4px 6px;width:260px;margin-left:4px}
.rfm-dash .rd-count{color:#444;flex:1}
.rfm-dash .rd-scroll{max-height:560px;overflow:auto;border:1px solid #eee}
.rfm-dash table.rd-table{border-collapse:collapse;width:100%;font-size:12px;table-layout:auto}
.rfm-dash .rd-table th{position:sticky;top:0;background:#f0f0f0;text-align:left;padding:5px 6px;
 cursor:pointer;border-bottom:1px solid #ccc;user-select:none;vertical-align:bottom;z-index:1}
.rfm-dash .rd-table th.rd-num,.rfm-dash .rd-table td.rd-num{text-align:right}
.rfm-dash .rd-table th[aria-sort=ascending]::after{content:" \\25B2";font-size:9px}
.rfm-dash .rd-table th[aria-sort=descending]::after{content:" \\25BC";font-size:9px}
.rfm-dash .rd-table td{padding:3px 6px;border-bottom:1px solid #f0f0f0;white-space:nowrap;
 vertical-align:top;text-align:left;max-width:none}
.rfm-dash .rd-table td.rd-wrap{white-space:normal;min-width:100px;overflow-wrap:anywhere}
.rfm-dash .rd-table tbody tr:nth-child(even){background:#fafafa}
.rfm-dash table.rd-grid{border-collapse:collapse;font-size:12px}
.rfm-dash .rd-grid th,.rfm-dash .rd-grid td{padding:4px 8px;border:1px solid #fff;white-space:nowrap}
.rfm-dash .rd-grid th{background:#f0f0f0;text-align:left}
.rfm-dash .rd-grid th.rd-num,.rfm-dash .rd-grid td.rd-num{text-align:right}
.rfm-dash .rd-swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;
 vertical-align:baseline}
"""

# The page's script, included once. It reads the JSON next to it and writes every data value
# with textContent (HTML) or text nodes (SVG): never innerHTML.
_JS = r"""
function rfmDashboard(root) {
  'use strict';
  const uid = root.id;
  const instance = window.rfmDashboardCount = (window.rfmDashboardCount || 0) + 1;
  const P = JSON.parse(root.querySelector('script[data-role="data"]').textContent);
  const $ = role => root.querySelector('[data-role="' + role + '"]');
  const svgNs = $('svg-ns');
  const SVG = svgNs.namespaceURI;  // read from the page's own empty <svg>: no URL in the code
  svgNs.remove();  // an empty element has no place on the page
  const N = P.rows;
  const col = {};
  P.columns.forEach(c => { col[c.name] = c; });
  const value = (name, i) => {
    const c = col[name];
    if (!c) return null;
    if (c.codes) { const k = c.codes[i]; return k === null ? null : c.levels[k]; }
    return c.values[i];
  };
  const text = (name, i) => { const v = value(name, i); return v === null ? '' : String(v); };
  const shown = (name, raw) => (P.display[name] && P.display[name][raw]) || raw;

  // Numbers as rfm_helpers.units writes them.
  const group3 = s => s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fixed = (v, d) => { const t = Math.abs(v).toFixed(d); const p = t.split('.');
    return (v < 0 && Number(t) !== 0 ? '-' : '') + group3(p[0]) + (p.length > 1 ? '.' + p[1] : ''); };
  const integer = v => fixed(v, 0);
  const number = v => { const r = Math.round(v * 10) / 10;
    return Number.isInteger(r) || Math.abs(r) >= 10000 ? fixed(v, 0) : fixed(v, 1); };
  const short = size => {
    const scales = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
    for (const [scale, suffix] of scales) {
      if (Math.round(size / scale * 100) / 100 >= 1) {
        const scaled = size / scale;
        const decimals = Math.min(2, Math.max(0, 2 - Math.floor(Math.log10(scaled))));
        let t = scaled.toFixed(decimals);
        if (t.indexOf('.') >= 0) t = t.replace(/0+$/, '').replace(/\.$/, '');
        return t + suffix;
      }
    }
    return null;
  };
  const compact = (v, withCurrency) => {
    const size = Math.abs(v);
    const s = short(size) || (size >= 1 || size === 0 ? number(size) : String(size));
    return (v < 0 ? '-' : '') + (withCurrency ? P.currencyPrefix : '') + s;
  };
  const money = v => {
    if (Math.round(Math.abs(v)) >= 10000) return compact(v, true);
    const t = fixed(Math.abs(v), 0);
    return (v < 0 && t !== '0' ? '-' : '') + P.currencyPrefix + t;
  };
  const fullMoney = v => (v < 0 ? '-' : '') + P.currencyPrefix + fixed(Math.abs(v), P.cents ? 2 : 0);
  const pct = share => (share * 100).toFixed(1) + '%';
  const count = (n, one, many) => integer(n) + ' ' + (n === 1 ? one : many);
  const cell = (name, i) => {
    const c = col[name]; const v = value(name, i);
    if (v === null || v === undefined) return '';
    if (c.money) return fullMoney(v);
    if (c.kind === 'int' || c.kind === 'float') {
      return /(^|_)(score|code|cluster)$|^cluster$/.test(name) ? String(v) : number(v);
    }
    return shown(name, String(v));
  };

  const el = (tag, attrs, content) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (content !== undefined) e.textContent = content;
    return e;
  };
  const svgEl = (tag, attrs, content) => {
    const e = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (content !== undefined) e.textContent = content;
    return e;
  };

  // State: selected values per filter, the search text, the sort.
  const selected = {};
  let query = '';
  let sortCol = P.revenue, sortDir = -1;
  const listeners = [];

  if (P.rows < P.total) {
    const note = $('note');
    note.hidden = false;
    note.textContent = 'Showing the top ' + integer(P.rows) + ' of ' + integer(P.total) + ' ' + P.entity +
      ' by revenue (the page holds at most ' + integer(P.rows) + ' rows): the cards, charts, table and ' +
      'download cover these ' + P.entity + ' only; the full list is in the export file.';
  }

  // Filters: one multi-select per column; nothing selected = everyone.
  const filterBox = $('filters');
  P.filters.forEach((f, k) => {
    const wrap = el('div', {class: 'rd-filter'});
    const id = uid + '-f' + k + '-' + instance;  // unique even if a notebook shows one dashboard twice
    wrap.appendChild(el('label', {for: id}, f.label));
    const sel = el('select', {id: id, multiple: '', size: String(Math.min(6, Math.max(3, f.options.length))),
      'data-column': f.column});
    f.options.forEach(o => sel.appendChild(el('option', {value: o}, shown(f.column, o))));
    sel.addEventListener('change', () => {
      selected[f.column] = new Set([...sel.selectedOptions].map(o => o.value));
      update();
    });
    wrap.appendChild(sel);
    filterBox.appendChild(wrap);
  });
  $('clear').addEventListener('click', () => {
    filterBox.querySelectorAll('option').forEach(o => { o.selected = false; });
    Object.keys(selected).forEach(k => delete selected[k]);
    $('search').value = ''; query = '';
    update();
  });
  $('search').addEventListener('input', e => { query = e.target.value.trim().toLowerCase(); update(); });

  const inView = () => {
    const out = [];
    const active = Object.entries(selected).filter(([, s]) => s.size > 0);
    for (let i = 0; i < N; i++) {
      let keep = active.every(([name, s]) => s.has(text(name, i)));
      if (keep && query) {
        keep = P.search.some(name => { const t = text(name, i);
          return t.toLowerCase().indexOf(query) >= 0 || shown(name, t).toLowerCase().indexOf(query) >= 0; });
      }
      if (keep) out.push(i);
    }
    return out;
  };
  const sum = (rows, name) => rows.reduce((a, i) => a + (Number(value(name, i)) || 0), 0);
  const atRisk = i => {
    if (!P.risk) return false;
    if (P.risk.flag) { const v = value(P.risk.flag, i); return v === true || v === 1 || v === 'True'; }
    return P.risk.values.indexOf(text(P.risk.column, i)) >= 0;
  };

  function cards(rows) {
    const box = $('cards');
    box.replaceChildren();
    const card = (key, val, detail, role) => {
      const c = el('div', {class: 'rd-card', 'data-card': role});
      c.appendChild(el('div', {class: 'rd-k'}, key));
      c.appendChild(el('div', {class: 'rd-v', 'data-role': 'kpi-' + role}, val));
      c.appendChild(el('div', {class: 'rd-d'}, detail));
      box.appendChild(c);
    };
    const all = P.rows;
    const revenue = sum(rows, P.revenue);
    const allRevenue = sum([...Array(N).keys()], P.revenue);
    card(P.entity.charAt(0).toUpperCase() + P.entity.slice(1), integer(rows.length),
      rows.length === all ? 'all ' + P.entity + ' on this page' : pct(rows.length / all) + ' of ' +
      integer(all) + ' ' + P.entity, 'count');
    card('Revenue', money(revenue), rows.length === all ? fullMoney(revenue) + ' in total' :
      pct(allRevenue ? revenue / allRevenue : 0) + ' of ' + money(allRevenue), 'revenue');
    if (P.risk) {
      const risky = rows.filter(atRisk);
      const riskRevenue = sum(risky, P.revenue);
      const who = P.risk.flag ? P.risk.label : P.risk.values.join(', ');
      card('Revenue at risk', revenue ? pct(riskRevenue / revenue) : '0.0%',
        money(riskRevenue) + ' from ' + count(risky.length, P.entityOne, P.entity) + ' in ' + who, 'risk');
    }
    if (P.value) {
      const v = sum(rows, P.value);
      card(P.valueLabel, money(v), 'sum over ' + count(rows.length, P.entityOne, P.entity), 'value');
    }
  }

  function bars(target, rows, measure, format) {
    const box = $(target);
    box.replaceChildren();
    const order = P.chart.order;
    const totals = order.map(() => 0);
    const at = {};
    order.forEach((name, k) => { at[name] = k; });
    rows.forEach(i => { const k = at[text(P.chart.column, i)];
      if (k !== undefined) totals[k] += measure(i); });
    const grand = totals.reduce((a, b) => a + b, 0);
    const max = Math.max(...totals, 0) || 1;
    // Drawn at the panel's own width (redrawn on resize): text stays 12 px whatever the screen.
    const width = Math.max(320, Math.round(box.clientWidth || 520));
    const valueW = 125, rowH = 24, height = order.length * rowH + 6;
    const svg = svgEl('svg', {viewBox: '0 0 ' + width + ' ' + height, width: width, height: height,
      role: 'img'});
    svg.appendChild(svgEl('title', {}, box.parentNode.querySelector('figcaption').textContent));
    box.appendChild(svg);
    // The label column as wide as its longest name (measured), at most 45 % of the chart.
    const labels = order.map((name, k) => svg.appendChild(svgEl('text', {y: k * rowH + 18,
      'text-anchor': 'end'}, name)));
    const longest = Math.max(0, ...labels.map(t => t.getComputedTextLength ? t.getComputedTextLength() : 0));
    const labelW = Math.round(Math.min(width * 0.45, (longest || 120) + 10));
    const barW = Math.max(20, width - labelW - valueW);
    labels.forEach(t => t.setAttribute('x', labelW - 6));
    order.forEach((name, k) => {
      const y = k * rowH + 3;
      const w = Math.max(0, totals[k] / max * barW);
      svg.appendChild(svgEl('rect', {x: labelW, y: y + 2, width: w.toFixed(1), height: rowH - 6,
        fill: P.chart.colors[k]}));
      const share = grand ? ' (' + pct(totals[k] / grand) + ')' : '';
      svg.appendChild(svgEl('text', {x: labelW + w + 4, y: y + 15, 'data-value': name},
        format(totals[k]) + share));
    });
  }

  function heatmap(rows) {
    if (!P.heatmap) return;
    $('heatmap-panel').hidden = false;
    const box = $('heatmap');
    box.replaceChildren();
    const n = P.heatmap.bins;
    const counts = [];
    for (let r = 0; r < n; r++) counts.push(new Array(n).fill(0));
    rows.forEach(i => {
      const r = Number(value(P.heatmap.row, i)), f = Number(value(P.heatmap.col, i));
      if (r >= 1 && r <= n && f >= 1 && f <= n && value(P.heatmap.row, i) !== null &&
          value(P.heatmap.col, i) !== null) counts[r - 1][f - 1] += 1;
    });
    const max = Math.max(1, ...counts.map(row => Math.max(...row)));
    const left = 64, top = 8, cellW = 62, cellH = 34, bottom = 44;
    const width = left + n * cellW + 10, height = top + n * cellH + bottom;
    const svg = svgEl('svg', {viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      style: 'max-width:' + (width * 1.3) + 'px'});
    svg.appendChild(svgEl('title', {}, P.heatmap.rowTitle + ' by ' + P.heatmap.colTitle));
    const lo = [247, 251, 255], hi = [8, 48, 107];
    for (let r = n; r >= 1; r--) {
      const y = top + (n - r) * cellH;
      svg.appendChild(svgEl('text', {x: left - 8, y: y + cellH / 2 + 4, 'text-anchor': 'end'}, String(r)));
      for (let f = 1; f <= n; f++) {
        const x = left + (f - 1) * cellW, c = counts[r - 1][f - 1], t = Math.sqrt(c / max);
        const rgb = lo.map((a, j) => Math.round(a + (hi[j] - a) * t));
        const lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
        svg.appendChild(svgEl('rect', {x: x, y: y, width: cellW - 2, height: cellH - 2,
          fill: 'rgb(' + rgb.join(',') + ')'}));
        const label = svgEl('text', {x: x + cellW / 2 - 1, y: y + cellH / 2 + 4, 'text-anchor': 'middle',
          'data-cell': r + ',' + f}, integer(c));
        label.style.fill = lum > 0.5 ? '#222222' : '#ffffff';
        svg.appendChild(label);
      }
    }
    for (let f = 1; f <= n; f++) {
      svg.appendChild(svgEl('text', {x: left + (f - 1) * cellW + cellW / 2 - 1, y: top + n * cellH + 14,
        'text-anchor': 'middle'}, String(f)));
    }
    svg.appendChild(svgEl('text', {x: left + n * cellW / 2, y: height - 8, 'text-anchor': 'middle'},
      P.heatmap.colTitle));
    svg.appendChild(svgEl('text', {x: 12, y: top + n * cellH / 2, 'text-anchor': 'middle',
      transform: 'rotate(-90 12 ' + (top + n * cellH / 2) + ')'}, P.heatmap.rowTitle));
    box.appendChild(svg);
  }

  // The table: every row in view, sorted by the chosen column.
  const table = $('table');
  const numeric = name => col[name].kind === 'int' || col[name].kind === 'float';
  const headRow = el('tr');
  P.table.forEach(name => {
    const th = el('th', {scope: 'col', 'data-column': name, class: numeric(name) ? 'rd-num' : '',
      tabindex: '0', title: 'Sort by ' + col[name].label}, col[name].label);
    const sortBy = () => {
      sortDir = sortCol === name ? -sortDir : (numeric(name) ? -1 : 1);
      sortCol = name;
      update();
    };
    th.addEventListener('click', sortBy);
    th.addEventListener('keydown', e => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(); }
    });
    headRow.appendChild(th);
  });
  table.tHead.appendChild(headRow);
  const colorOf = {};
  P.chart.order.forEach((name, k) => { colorOf[name] = P.chart.colors[k]; });

  function rowsTable(rows) {
    const sorted = rows.slice();
    const isNum = numeric(sortCol);
    sorted.sort((a, b) => {
      const va = value(sortCol, a), vb = value(sortCol, b);
      if (va === null || vb === null) return va === null ? (vb === null ? a - b : 1) : -1;
      const d = isNum ? va - vb : String(va).localeCompare(String(vb));
      return d ? d * sortDir : a - b;
    });
    headRow.querySelectorAll('th').forEach(th => {
      if (th.dataset.column === sortCol) {
        th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      }
      else th.removeAttribute('aria-sort');
    });
    const body = document.createElement('tbody');
    sorted.forEach(i => {
      const tr = document.createElement('tr');
      tr.dataset.row = String(i);
      P.table.forEach(name => {
        const td = el('td', numeric(name) ? {class: 'rd-num'} : (P.wrap.indexOf(name) >= 0 ?
          {class: 'rd-wrap'} : {}), cell(name, i));
        if (name === P.chart.column && colorOf[td.textContent]) {
          const sw = el('span', {class: 'rd-swatch'});
          sw.style.background = colorOf[td.textContent];
          td.insertBefore(sw, td.firstChild);
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.replaceChild(body, table.tBodies[0]);
    $('count').textContent = integer(rows.length) + ' of ' + integer(N) + ' ' + P.entity;
    $('count').dataset.rows = String(rows.length);
  }

  // CSV of the rows in view: the export's columns and header, written as
  // rfm_helpers.atomic.write_export_csv writes them (pandas' number text, formulas neutralised).
  const pyFloat = v => { const s = String(v); return Number.isInteger(v) && !/e/.test(s) ? s + '.0' : s; };
  const neutral = s => P.triggers.some(t => s.startsWith(t)) ? "'" + s : s;
  function csv(rows) {
    const names = P.columns.map(c => neutral(c.name));
    const raw = [];
    rows.forEach(i => raw.push(P.columns.map(c => {
      const v = value(c.name, i);
      if (v === null || v === undefined) return null;
      if (c.kind === 'float') return pyFloat(v);
      if (c.kind === 'int') return String(v);
      if (c.kind === 'bool') return v ? 'True' : 'False';
      return neutral(String(v));
    })));
    const textual = c => c.kind === 'text';
    const allQuoted = names.some(s => s.indexOf('\r') >= 0) ||
      raw.some(r => r.some((v, k) => textual(P.columns[k]) && v !== null && v.indexOf('\r') >= 0));
    const quote = s => '"' + s.replace(/"/g, '""') + '"';
    const field = (v, isText) => {
      if (allQuoted) return v === null ? '""' : (isText ? quote(v) : v);
      if (v === null) return '';
      return /[",\n\r]/.test(v) ? quote(v) : v;
    };
    const lines = [names.map(s => field(s, true)).join(',')];
    raw.forEach(r => lines.push(r.map((v, k) => field(v, textual(P.columns[k]))).join(',')));
    return lines.join('\n') + '\n';
  }
  let current = [];
  $('download').addEventListener('click', () => {
    const blob = new Blob([csv(current)], {type: 'text/csv;charset=utf-8'});
    const a = el('a', {href: URL.createObjectURL(blob), download: P.download});
    a.style.display = 'none';
    root.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  });

  root.querySelectorAll('[data-role="chart-title"]').forEach(s => { s.textContent = P.chart.title; });
  const api = {
    onUpdate: fn => { listeners.push(fn); fn(current); },
    value: value,
    format: {integer: integer, money: money, fullMoney: fullMoney, pct: pct, number: number},
    rows: () => current.slice(),
  };
  function update() {
    current = inView();
    cards(current);
    bars('chart-count', current, () => 1, integer);
    bars('chart-revenue', current, i => Number(value(P.revenue, i)) || 0, money);
    heatmap(current);
    rowsTable(current);
    listeners.forEach(fn => fn(current));
  }
  if (P.heatmap) $('heatmap-panel').hidden = false;  // before the bars measure their width
  update();
  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      bars('chart-count', current, () => 1, integer);
      bars('chart-revenue', current, i => Number(value(P.revenue, i)) || 0, money);
    }, 150);
  });
  const panels = (window.rfmDashboardPanels || {})[uid] || [];
  root.querySelectorAll('.rd-extra').forEach((panel, k) => {
    if (panels[k]) panels[k](panel, P.panels[Number(panel.dataset.panel)], api);
  });
  root.rfmDashboard = api;
}
"""


def run_table(cfg: RunConfig) -> tuple[pd.DataFrame, list[str]]:
    """The rows a run's dashboard shows and the values of its risk column that are at risk.

    The rows are the run's main export (``customer_segments.csv`` or ``account_clusters.csv``)
    as written, plus, from the outlook step, ``expected_value`` over ``predict.horizon_days`` and
    (with a backtest) ``group_then`` (accounts: ``cluster_then``), the group (cluster) at its
    cutoff. At risk:
    the groups (or, for accounts, the clusters) whose goal is a win-back
    (:func:`rfm_helpers.analysis.insights.is_win_back`, the rule every page uses)."""
    import pandas as pd

    name = ALL_CUSTOMERS_FILE if cfg.accounts is None else ALL_ACCOUNTS_FILE
    table = pd.read_csv(
        cfg.exports_dir / name, dtype={"customer_id": str}, keep_default_na=False, na_values=[""]
    )
    predictions = cfg.outlook_dir / "predictions.parquet"
    if predictions.is_file():
        key = "customer_id" if cfg.accounts is None else "application"
        values = pd.read_parquet(predictions).astype({key: table[key].dtype})
        table = table.merge(values, on=key, how="left", validate="one_to_one")
    spec = DashboardSpec.infer(table)
    goals = table["goal"].astype(str) if "goal" in table else pd.Series("", index=table.index)
    at_risk = sorted(set(table.loc[goals.map(is_win_back), spec.risk_column].astype(str)))
    return table, at_risk


MIGRATION_SCRIPT = r"""
const head = panel.querySelector('thead'), body = panel.querySelector('tbody');
const note = panel.querySelector('[data-role="migration-note"]');
const cell = (tag, text, attrs) => {
  const c = document.createElement(tag);
  c.textContent = text;
  Object.entries(attrs || {}).forEach(([k, v]) => c.setAttribute(k, v));
  return c;
};
const top = document.createElement('tr');
top.appendChild(cell('th', data.corner, {scope: 'col'}));
data.now.forEach(name => top.appendChild(cell('th', name, {scope: 'col', class: 'rd-num'})));
top.appendChild(cell('th', 'Total', {scope: 'col', class: 'rd-num'}));
head.appendChild(top);
const lo = [247, 251, 255], hi = [8, 48, 107];  // the R x F heatmap's blues
dashboard.onUpdate(rows => {
  const counts = data.then.map(() => data.now.map(() => 0));
  rows.forEach(i => {
    const a = data.then.indexOf(String(dashboard.value(data.thenColumn, i)));
    const b = data.now.indexOf(String(dashboard.value(data.nowColumn, i)));
    if (a >= 0 && b >= 0) counts[a][b] += 1;
  });
  body.replaceChildren();
  let moved = 0, scored = 0, fresh = 0;
  counts.forEach((row, a) => {
    const total = row.reduce((sum, c) => sum + c, 0);
    const isNew = data.then[a] === data.newLabel;
    if (isNew) fresh += total; else scored += total;
    const tr = document.createElement('tr');
    tr.appendChild(cell('th', data.then[a], {scope: 'row'}));
    row.forEach((c, b) => {
      if (!isNew && data.then[a] !== data.now[b]) moved += c;
      const share = total ? c / total : 0;
      const text = dashboard.format.integer(c) + (total ? ' (' + dashboard.format.pct(share) + ')' : '');
      const td = cell('td', text, {class: 'rd-num', 'data-then': data.then[a], 'data-now': data.now[b]});
      const rgb = lo.map((x, j) => Math.round(x + (hi[j] - x) * share));
      td.style.background = 'rgb(' + rgb.join(',') + ')';
      td.style.color = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255 > 0.5 ? '#222' : '#fff';
      tr.appendChild(td);
    });
    tr.appendChild(cell('td', dashboard.format.integer(total), {class: 'rd-num', 'data-then': data.then[a],
      'data-now': 'total'}));
    body.appendChild(tr);
  });
  const integer = dashboard.format.integer;
  note.textContent = 'Of the ' + integer(scored) + ' ' + data.entity + ' in view scored at the cutoff, ' +
    integer(moved) + ' are in another ' + data.noun + ' now; ' + integer(fresh) + ' are ' + data.newLabel +
    ' (first scored after it).';
});
"""
"""The migration panel's script (:func:`migration_panel`): counts the rows in view by their
category at the cutoff and now, shaded by each row's share, after every filter change."""


def migration_panel(
    then_order: Sequence[str],
    now_order: Sequence[str],
    cutoff: str,
    *,
    then_column: str = "group_then",
    now_column: str = "group",
    new_label: str = "new",
    entity: str = "customers",
) -> ExtraPanel:
    """The segment migration as a dashboard panel: rows are the categories at the cutoff
    (``then_order``, then ``new_label`` for rows first scored after it), columns those now
    (``now_order``); each cell counts the rows in view that made that move, with its share of
    the row, and follows every filter. ``cutoff``: the date as the page writes it."""
    noun = now_column.removesuffix("_name").replace("_", " ")
    data = {
        "thenColumn": then_column,
        "nowColumn": now_column,
        "then": [*map(str, then_order), new_label],
        "now": [str(n) for n in now_order],
        "corner": f"{noun.capitalize()} at {cutoff} ↓ / now →",
        "newLabel": new_label,
        "entity": entity,
        "noun": noun,
    }
    markup = (
        f'<p class="rd-sub" data-role="migration-note"></p><div class="rd-scroll">'
        f'<table class="rd-grid" aria-label="{html.escape(noun)} migration">'
        "<thead></thead><tbody></tbody></table></div>"
    )
    return ExtraPanel(
        title=f"Migration: each {noun} at the backtest cutoff ({cutoff}) and now",
        html=markup,
        data=data,
        script=MIGRATION_SCRIPT,
    )


def run_panels(cfg: RunConfig, table: pd.DataFrame) -> list[ExtraPanel]:
    """The run's extra panels: the migration when :func:`run_table` has the category at the
    backtest cutoff (the outlook step made a backtest): groups in the reference order for
    customers, clusters in number order for accounts."""
    from rfm_helpers.analysis.backtest import NEW

    if cfg.accounts is not None and "cluster_then" in table.columns:
        from rfm_helpers.analysis.account_outlook import backtest_cutoff

        cutoff, _why = backtest_cutoff(cfg.accounts, cfg.predict.holdout_days)
        clustered = table.dropna(subset=["cluster"]).drop_duplicates("cluster").sort_values("cluster")
        names = clustered["cluster_name"].astype(str).tolist()
        return [
            migration_panel(
                names,
                names,
                f"{cutoff:%d %b %Y}",
                then_column="cluster_then",
                now_column="cluster_name",
                new_label=NEW,
                entity=cfg.entity,
            )
        ]
    if cfg.accounts is not None or "group_then" not in table.columns:
        return []
    from rfm_helpers.data import reference
    from rfm_helpers.sql.transactions import Marts

    # The run's own segment table (the workbook's sheet, or the reference file), as step 6 reads it.
    segments = reference.load_segment_table(cfg.segment_table_path)["segment"].unique()
    order = reference.load_segment_groups(cfg.reference.segment_groups, segments)
    groups = list(dict.fromkeys(order["group"].astype(str)))
    cutoff, _end = Marts.for_run(cfg).backtest_window()
    return [migration_panel(groups, groups, f"{cutoff:%d %b %Y}", new_label=NEW, entity=cfg.entity)]
