"""The outlook page: what the backtest shows, how customers moved between groups, and what the
models expect of each customer (the numbers: :mod:`rfm_helpers.analysis.backtest`).

Every table here is display-ready text built with :mod:`rfm_helpers.units`, so a count is never
shown as money and a share always reads as a percentage.

What the two outlook pages share is defined once, here: the account runs' page
(:mod:`rfm_helpers.report.account_outlook`) calls the same formats, ranking and migration
tables, signal sentence, model names, lists and data dictionary writing, the predictions table
and the dashboard's values, with its own :class:`Entity` (what its rows are called, its files
and its dictionary) where the transactions page uses :data:`CUSTOMERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rfm_helpers import atomic, units
from rfm_helpers.analysis.backtest import NEW, Migration, Outlook
from rfm_helpers.analysis.insights import first_cells
from rfm_helpers.paths import ALL_CUSTOMERS_FILE

MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}
"""``predict.model`` (and the spend model) as the literature writes them."""
NO_BETTER_MARGIN = 0.01
"""A model whose AUC is not above that of the ranking it is compared with (customers: the RFM
score; accounts: the best simple ranking) by more than this is "no better"."""


# --------------------------------------------------------------------------- formats


def share(value: float) -> str:
    """A share as a percentage, a dash where it is undefined."""
    return "–" if pd.isna(value) else units.percent(value)


def interval(low: float, high: float) -> str:
    """A 95 % interval of a share (``70% to 85.8%``), a dash where either end is undefined."""
    if pd.isna(low) or pd.isna(high):
        return "–"
    return f"{units.percent(low)} to {units.percent(high)}"


def lift(value: float) -> str:
    """A lift (``1.35×``), a dash where it is undefined."""
    return "–" if pd.isna(value) else f"{value:.2f}×"


def _mean_with_interval(mean: float, low: float, high: float, fmt: Callable[[float], str]) -> str:
    if pd.isna(mean):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return fmt(mean)
    return f"{fmt(mean)} ({fmt(low)} to {fmt(high)})"


# --------------------------------------------------------------------------- the backtest


def backtest_view(table: pd.DataFrame, by: str, currency: str) -> pd.DataFrame:
    """:func:`~rfm_helpers.analysis.backtest.outcomes_by` as readable text, one row per category;
    the per-customer means carry their 95 % intervals in brackets."""

    def per_customer(measure: str, fmt: Callable[[float], str]) -> list[str]:
        columns = [f"{measure}_per_customer", f"{measure}_low", f"{measure}_high"]
        return [_mean_with_interval(*row, fmt) for row in table[columns].itertuples(index=False)]

    return pd.DataFrame(
        {
            by.replace("_name", "").capitalize(): table[by].astype(str),
            "Customers at the cutoff": table["customers"].map(units.integer),
            "Ordered again": table["ordered"].map(units.integer),
            "Repeat share": table["repeat_share"].map(share),
            "95 % interval": [
                interval(lo, hi) for lo, hi in zip(table["share_low"], table["share_high"], strict=True)
            ],
            "Orders per customer (95 %)": per_customer("orders", lambda v: f"{v:.2f}"),
            "Revenue per customer (95 %)": per_customer("revenue", lambda v: units.money(v, currency)),
            "Lift": table["lift"].map(lift),
        }
    )


def extremes(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The rows of an ``outcomes_by`` table with the highest and the lowest repeat share, among
    the categories that had members at the cutoff."""
    rows = table[table["customers"] > 0]
    return rows.loc[rows["repeat_share"].idxmax()], rows.loc[rows["repeat_share"].idxmin()]


def signal_sentence(
    best: pd.Series, worst: pd.Series, noun: str = "groups", what: str = "who buys next"
) -> str:
    """Whether the ``noun``'s (groups', clusters') repeat shares really differ: the 95 %
    intervals of the best and the worst do not overlap (then they carry signal about ``what``:
    who buys next, which accounts stay active)."""
    if (
        pd.notna(best["share_low"])
        and pd.notna(worst["share_high"])
        and best["share_low"] > worst["share_high"]
    ):
        return f"Their 95 % intervals do not overlap: the {noun} carry real signal about {what}."
    return f"Their 95 % intervals overlap: on this data the {noun} do not clearly tell {what}."


def cluster_sentence(by_cluster: pd.DataFrame) -> str:
    """The clusters' backtest in one line: the clusters with the highest and the lowest repeat
    share, and whether their intervals overlap (:func:`signal_sentence`)."""
    best, worst = extremes(by_cluster)
    return (
        f"- **Clusters:** placed in the run's nearest cluster as of the cutoff, "
        f"{best['cluster_name']} ordered again {units.percent(best['repeat_share'])} of the time "
        f"(lift {best['lift']:.2f}×) and {worst['cluster_name']} {units.percent(worst['repeat_share'])} "
        f"(lift {worst['lift']:.2f}×). " + signal_sentence(best, worst, "clusters")
    )


# --------------------------------------------------------------------------- ranking


def ranking_view(ranking: pd.DataFrame) -> pd.DataFrame:
    """A ``ranking_quality`` table (:func:`rfm_helpers.analysis.backtest.ranking_quality`,
    :func:`rfm_helpers.analysis.account_outlook.ranking_quality`) as readable text."""
    return pd.DataFrame(
        {
            "Ranking made at the cutoff": ranking["ranking"].map(_ranking_name),
            "AUC": ranking["auc"].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}"),
            "Top-decile capture": ranking["top_decile_capture"].map(share),
        }
    )


def _ranking_name(name: str) -> str:
    """A ranking's name as a table row starts: the model as the literature writes it, capitalised."""
    model, _, rest = name.partition(" ")
    text = f"{MODEL_NAMES[model]} {rest}" if model in MODEL_NAMES else name
    return text[:1].upper() + text[1:]


def verdict(ranking: pd.DataFrame) -> str:
    """One sentence comparing the model's AUC with the RFM score's and the naive rate's."""
    auc = dict(zip(ranking["ranking"], ranking["auc"], strict=True))
    score = auc["R+F+M score sum"]
    model_name = next(r for r in auc if r.endswith("expected purchases"))
    model, naive = auc[model_name], auc["naive rate"]
    missing = ranking.attrs.get("unscored", {}).get(model_name, 0)
    if missing and pd.notna(score):
        return (
            f"The model gave no prediction for {units.integer(missing)} customers (its numerics fail "
            f"on them), so it is not ranked; the RFM score reaches AUC {score:.3f} and a naive rate "
            f"baseline {naive:.3f}."
        )
    if pd.isna(score) or pd.isna(model):
        return (
            "In the held-out window either nobody or everybody ordered again, so no ranking can be "
            "judged on it (AUC is undefined)."
        )
    if model > score + NO_BETTER_MARGIN:
        judged = f"the model ranks them better than the RFM score (AUC {model:.3f} vs {score:.3f})"
    else:
        judged = (
            f"the model is **no better than the plain RFM score** (AUC {model:.3f} vs {score:.3f}), "
            "so rank customers by the score and read the model's figures as estimates, not as a sharper list"
        )
    return (
        f"Asked who would order in the held-out window, {judged}; a naive rate baseline reaches {naive:.3f}."
    )


# --------------------------------------------------------------------------- migration


def migration_view(moves: Migration) -> pd.DataFrame:
    """Counts of the transition matrix (:func:`rfm_helpers.analysis.backtest.migration`) with each
    row's total, as text: rows, the category at the cutoff (then "new"); columns, the category now
    (then "gone")."""
    counts = moves.counts
    out = counts.map(units.integer)
    out.insert(len(out.columns), "Total", counts.sum(axis=1).map(units.integer))
    out.index = [str(i) for i in counts.index]
    out.columns = [str(c) for c in out.columns]
    by = str(counts.index.name).removesuffix("_then").removesuffix("_name")
    return out.rename_axis(f"{by.capitalize()} at the cutoff ↓ / now →").reset_index()


# --------------------------------------------------------------------------- findings


def findings(result: Outlook, currency: str) -> str:
    """The page's key findings (a run with a backtest), every figure from the tables it sits above."""
    by_group, ranking, moves, fallen = result.by_group, result.ranking, result.moves, result.fallen
    valuable, at_risk, predictions = result.valuable, result.at_risk, result.predictions
    cutoff, end = result.window
    days = (end - cutoff).days
    overall = by_group.attrs["overall_share"]
    best, worst = extremes(by_group)
    then_valuable = int(moves.counts.loc[[g for g in valuable if g in moves.counts.index]].to_numpy().sum())
    lines = [
        f"- **Backtest:** customers were scored as of {cutoff:%d %b %Y} with this run's method, then "
        f"followed for the next {days} days (to {end - pd.Timedelta(days=1):%d %b %Y}). "
        f"{units.percent(overall)} of the {units.integer(by_group.attrs['customers'])} ordered again; "
        f"{best['group']} {units.percent(best['repeat_share'])} (lift {best['lift']:.2f}×), "
        f"{worst['group']} {units.percent(worst['repeat_share'])} (lift {worst['lift']:.2f}×). "
        + signal_sentence(best, worst),
        *([cluster_sentence(result.by_cluster)] if result.by_cluster is not None else []),
        f"- **Ranking:** {verdict(ranking)}",
        f"- **Movement:** of the {units.integer(then_valuable)} customers in {', '.join(valuable)} at the "
        f"cutoff, **{units.integer(len(fallen))}** are now in {', '.join(at_risk)} "
        f"(listed in `exports/{CUSTOMERS.fallen_file}`, highest spend first).",
    ]
    horizon = predictions.attrs["horizon_days"]
    expected = predictions["expected_orders"].sum()
    value = predictions["expected_value"].sum(min_count=1)
    value_text = (
        f" worth {units.money(value, currency)} (discounted)"
        if pd.notna(value)
        else f" ({predictions.attrs['value_note']})"
    )
    alive = (
        "The probability that each customer is still active is shown."
        if predictions.attrs["p_alive_identifiable"]
        else "The probability that a customer is still active **cannot be estimated on this data** "
        "(nobody visibly drops out: the dropout parameter sits at its bound), so it is not shown."
    )
    lines.append(
        f"- **Next {horizon} days:** the {MODEL_NAMES[predictions.attrs['model']]} model expects "
        f"{units.number(expected)} orders from today's customers{value_text}. {alive}"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- the lists


@dataclass(frozen=True)
class Entity:
    """What an outlook page's rows are and how its lists are written: the customers of a
    transactions run (:data:`CUSTOMERS`) or the accounts of an account run
    (:data:`rfm_helpers.report.account_outlook.ACCOUNTS`). The lists' columns, rounding and order
    (:func:`prediction_export`), their writing with a data dictionary (:func:`write_lists`), the
    predictions table (:func:`predictions_view`) and the dashboard's values
    (:func:`dashboard_values`) are defined once, for both."""

    key: str
    """The lists' id column (the predictions' ``customer_id`` is written under this name)."""
    columns: Mapping[str, str]
    """The predictions list's leading columns (``key`` first), each with its heading on the page."""
    count: tuple[str, str]
    """The expected count's column (``_<horizon>d`` appended) and its heading."""
    spend: tuple[str, str]
    """The expected spend's column and its heading."""
    fell_from: tuple[str, str]
    """The fallen list's column that names the category a row fell from, and its name in the
    predictions list."""
    category: str
    """The column of the table at the cutoff whose value the dashboard shows as ``<category>_then``
    (``_name`` dropped)."""
    predictions_file: str
    fallen_file: str
    dictionary: Mapping[str, tuple[str, str]]
    """Meaning and format of every column of the two lists (``{horizon}`` and ``{model}`` filled in
    per run). A listed file's column missing here stops the step."""
    dictionary_name: str
    """Where ``dictionary`` is defined (an error names it)."""


OUTLOOK_DICTIONARY_FILE = "outlook_data_dictionary.csv"
"""What each column of the outlook step's lists means (beside ``data_dictionary.csv`` of the
customer lists, in the same published exports folder; the account runs' outlook writes its own)."""
OUTLOOK_DICTIONARY = {
    "customer_id": (
        "Customer ID, exactly as in the source data",
        "text (import as text: leading zeros count)",
    ),
    "segment": (f"RFM segment now (as in {ALL_CUSTOMERS_FILE})", "text"),
    "group": (f"Segment group now (as in {ALL_CUSTOMERS_FILE})", "text"),
    "expected_orders_{horizon}d": (
        "Expected orders (purchase days) in the next {horizon} days, from the {model} model fitted on all "
        "the data",
        "number, 3 decimals",
    ),
    "probability_active": (
        "Probability that the customer is still active ({model}); absent when the data cannot identify it",
        "number from 0 to 1, 3 decimals",
    ),
    "expected_spend_per_order": (
        "Expected spend per order (Gamma-Gamma: the customer's own mean shrunk towards everyone's)",
        "number rounded to the cent",
    ),
    "expected_value_{horizon}d": (
        "Expected revenue in the next {horizon} days, discounted by predict.monthly_discount_rate a month",
        "number rounded to the cent",
    ),
    "fell_from_group": (
        "The valuable group the customer was in at the backtest cutoff, when they are in an at-risk group "
        "now (listed in fallen_customers.csv); empty otherwise",
        "text",
    ),
    "segment_then": ("RFM segment at the backtest cutoff (scored as of that day)", "text"),
    "group_then": ("Segment group at the backtest cutoff", "text"),
    "segment_now": ("RFM segment now", "text"),
    "group_now": ("Segment group now", "text"),
    "recency_now": ("Days from the customer's last order to the snapshot", "whole number of days"),
    "frequency_now": ("The customer's number of orders now", "whole number"),
    "monetary_then": ("Revenue up to the backtest cutoff", "number rounded to the cent"),
    "monetary_now": ("Revenue up to the snapshot", "number rounded to the cent"),
}
"""Columns of ``customer_predictions.csv`` and ``fallen_customers.csv`` (``{horizon}`` and
``{model}`` filled in per run). A listed file's column missing here stops the step."""
PREDICTIONS_FILE = "customer_predictions.csv"
FALLEN_FILE = "fallen_customers.csv"
CUSTOMERS = Entity(
    key="customer_id",
    columns={"customer_id": "Customer", "segment": "Segment", "group": "Group"},
    count=("expected_orders", "Expected orders"),
    spend=("expected_spend_per_order", "Expected spend per order"),
    fell_from=("group_then", "fell_from_group"),
    category="group",
    predictions_file=PREDICTIONS_FILE,
    fallen_file=FALLEN_FILE,
    dictionary=OUTLOOK_DICTIONARY,
    dictionary_name="rfm_helpers.report.outlook.OUTLOOK_DICTIONARY",
)
"""The customers of a transactions run (``segmented``: ``customer_id``, ``segment``, ``group``)."""


def dashboard_values(
    predictions: pd.DataFrame, then: pd.DataFrame | None = None, entity: Entity = CUSTOMERS
) -> pd.DataFrame:
    """``entity.key`` (the predictions' ``customer_id``) and ``expected_value`` (to the cent)
    for the dashboard and, with ``then`` (the rows at the backtest cutoff: customers scored then,
    accounts placed then), ``<category>_then``: each row's ``entity.category`` at the cutoff
    (``group_then``, ``cluster_then``), ``new`` (:data:`~rfm_helpers.analysis.backtest.NEW`)
    when it had none. The fit notes stay on the outlook page."""
    key = entity.key
    table = pd.DataFrame(
        {key: predictions["customer_id"], "expected_value": predictions["expected_value"].round(2)}
    )
    if then is not None:
        names = then.set_index(key)[entity.category].astype(str)
        table[f"{entity.category.removesuffix('_name')}_then"] = table[key].map(names).fillna(NEW)
    table.attrs = {}
    return table


def prediction_export(
    predictions: pd.DataFrame, table: pd.DataFrame, fallen: pd.DataFrame, entity: Entity = CUSTOMERS
) -> pd.DataFrame:
    """One row per row of ``table`` (customers: ``segmented``): its ``entity.columns``, the
    predictions over the horizon matched on ``entity.key`` (expected count, ``probability_active``
    only where the data identify it, expected spend, ``expected_value_<h>d``; blank where not
    modelled) and the category the row fell from (``entity.fell_from``: blank unless it fell from
    a valuable category to an at-risk one); highest expected value first."""
    horizon = predictions.attrs["horizon_days"]
    key = entity.key
    values = predictions.rename(columns={"customer_id": key})
    out = table[list(entity.columns)].merge(values, on=key, how="left", validate="many_to_one")
    source, fell_from = entity.fell_from
    out = out.merge(fallen[[key, source]].rename(columns={source: fell_from}), on=key, how="left")
    count, value = f"{entity.count[0]}_{horizon}d", f"expected_value_{horizon}d"
    out = out.rename(
        columns={
            "expected_orders": count,
            "p_alive": "probability_active",
            "expected_spend": entity.spend[0],
            "expected_value": value,
        }
    )
    if not predictions.attrs["p_alive_identifiable"]:
        out = out.drop(columns="probability_active")
    else:
        out["probability_active"] = out["probability_active"].round(3)
    out[count] = out[count].round(3)
    out[value] = out[value].round(2)
    return out.sort_values([value, key], ascending=[False, True], na_position="last").reset_index(drop=True)


def predictions_view(export: pd.DataFrame, currency: str, entity: Entity = CUSTOMERS) -> pd.DataFrame:
    """Rows of :func:`prediction_export` as readable text."""
    stem, count_heading = entity.count
    count = next(c for c in export.columns if c.startswith(f"{stem}_"))
    value = next(c for c in export.columns if c.startswith("expected_value_"))
    days = count.removeprefix(f"{stem}_").removesuffix("d")

    def money(v: float) -> str:
        return "–" if pd.isna(v) else units.money(v, currency)

    view = {heading: export[column].astype(str) for column, heading in entity.columns.items()}
    view[f"{count_heading}, next {days} days"] = export[count].map(
        lambda v: "–" if pd.isna(v) else f"{v:.1f}"
    )
    if "probability_active" in export:
        view["Probability active"] = export["probability_active"].map(share)
    spend, spend_heading = entity.spend
    view[spend_heading] = export[spend].map(money)
    view[f"Expected value, next {days} days"] = export[value].map(money)
    view["Fell from"] = export[entity.fell_from[1]].astype(object).fillna("").astype(str)
    return pd.DataFrame(view)


def outlook_dictionary(
    files: Sequence[Path], horizon: int, model: str, entity: Entity = CUSTOMERS
) -> pd.DataFrame:
    """One row per column of each written outlook list in ``files``, in file order: ``file``,
    ``column``, ``meaning``, ``format`` and ``example`` (the first value in the file), from
    ``entity.dictionary``."""
    known = {key.format(horizon=horizon): value for key, value in entity.dictionary.items()}
    rows = []
    for path in files:
        header, examples = first_cells(path)
        missing = [c for c in header if c not in known]
        if missing:
            raise ValueError(
                f"outlook dictionary: no entry for {', '.join(missing)} of {path.name}; add them to "
                f"{entity.dictionary_name}"
            )
        for column in header:
            meaning, unit = (text.format(horizon=horizon, model=MODEL_NAMES[model]) for text in known[column])
            rows.append((path.name, column, meaning, unit, examples.get(column, "")))
    return pd.DataFrame(rows, columns=["file", "column", "meaning", "format", "example"])


def write_lists(
    export: pd.DataFrame,
    fallen: pd.DataFrame | None,
    folder: Path,
    horizon: int,
    model: str,
    entity: Entity = CUSTOMERS,
) -> list[Path]:
    """Write the outlook's lists for campaign tools into ``folder`` (older CSVs there removed
    first, so a run without a backtest never publishes a stale fallen list):
    ``entity.predictions_file`` (``export``, :func:`prediction_export`), ``entity.fallen_file``
    when ``fallen`` is given, and :data:`OUTLOOK_DICTIONARY_FILE` (:func:`outlook_dictionary`),
    each through :func:`rfm_helpers.atomic.write_export_csv`. Returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    paths = [folder / entity.predictions_file]
    atomic.write_export_csv(export, paths[0])
    if fallen is not None:
        paths.append(folder / entity.fallen_file)
        atomic.write_export_csv(fallen, paths[-1])
    dictionary = outlook_dictionary(paths, horizon, model, entity)
    paths.append(folder / OUTLOOK_DICTIONARY_FILE)
    atomic.write_export_csv(dictionary, paths[-1])
    return paths
