"""The outlook page: what the backtest shows, how customers moved between groups, and what the
models expect of each customer (the numbers: :mod:`rfm_helpers.analysis.backtest`).

Every table here is display-ready text built with :mod:`rfm_helpers.units`, so a count is never
shown as money and a share always reads as a percentage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rfm_helpers import atomic, units
from rfm_helpers.analysis.backtest import NEW, Migration, Outlook
from rfm_helpers.analysis.insights import first_cells

MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}
"""``predict.model`` as the literature writes it."""
NO_BETTER_MARGIN = 0.01
"""A model whose AUC is not above the RFM score's by more than this is "no better"."""


def _interval(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "–"
    return f"{units.percent(low)} to {units.percent(high)}"


def _mean_with_interval(mean: float, low: float, high: float, fmt: Callable[[float], str]) -> str:
    if pd.isna(mean):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return fmt(mean)
    return f"{fmt(mean)} ({fmt(low)} to {fmt(high)})"


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
            "Repeat share": table["repeat_share"].map(lambda v: "–" if pd.isna(v) else units.percent(v)),
            "95 % interval": [
                _interval(lo, hi) for lo, hi in zip(table["share_low"], table["share_high"], strict=True)
            ],
            "Orders per customer (95 %)": per_customer("orders", lambda v: f"{v:.2f}"),
            "Revenue per customer (95 %)": per_customer("revenue", lambda v: units.money(v, currency)),
            "Lift": table["lift"].map(lambda v: "–" if pd.isna(v) else f"{v:.2f}×"),
        }
    )


def ranking_view(ranking: pd.DataFrame) -> pd.DataFrame:
    """:func:`~rfm_helpers.analysis.backtest.ranking_quality` as readable text."""
    return pd.DataFrame(
        {
            "Ranking made at the cutoff": ranking["ranking"].map(_ranking_name),
            "AUC": ranking["auc"].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}"),
            "Top-decile capture": ranking["top_decile_capture"].map(
                lambda v: "–" if pd.isna(v) else units.percent(v)
            ),
        }
    )


def _ranking_name(name: str) -> str:
    model, _, rest = name.partition(" ")
    return f"{MODEL_NAMES[model]} {rest}" if model in MODEL_NAMES else name


def migration_view(moves: Migration) -> pd.DataFrame:
    """Counts of the transition matrix with each row's total, as text (rows: then; columns: now)."""
    counts = moves.counts
    out = counts.map(units.integer)
    out.insert(len(out.columns), "Total", counts.sum(axis=1).map(units.integer))
    out.index = [str(i) for i in counts.index]
    out.columns = [str(c) for c in out.columns]
    return out.rename_axis(f"{counts.index.name.replace('_', ' ')} ↓ / now →").reset_index()


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


def signal_sentence(best: pd.Series, worst: pd.Series, noun: str = "groups") -> str:
    """Whether the ``noun``'s (groups', clusters') repeat shares really differ: the 95 %
    intervals of the best and the worst do not overlap (then they carry signal about who buys
    next)."""
    if (
        pd.notna(best["share_low"])
        and pd.notna(worst["share_high"])
        and best["share_low"] > worst["share_high"]
    ):
        return f"Their 95 % intervals do not overlap: the {noun} carry real signal about who buys next."
    return f"Their 95 % intervals overlap: on this data the {noun} do not clearly tell who buys next."


def cluster_sentence(by_cluster: pd.DataFrame) -> str:
    """The clusters' backtest in one line: the clusters with the highest and the lowest repeat
    share, and whether their intervals overlap (:func:`signal_sentence`)."""
    rows = by_cluster[by_cluster["customers"] > 0]
    best = rows.loc[rows["repeat_share"].idxmax()]
    worst = rows.loc[rows["repeat_share"].idxmin()]
    return (
        f"- **Clusters:** placed in the run's nearest cluster as of the cutoff, "
        f"{best['cluster_name']} ordered again {units.percent(best['repeat_share'])} of the time "
        f"(lift {best['lift']:.2f}×) and {worst['cluster_name']} {units.percent(worst['repeat_share'])} "
        f"(lift {worst['lift']:.2f}×). " + signal_sentence(best, worst, "clusters")
    )


def findings(result: Outlook, currency: str) -> str:
    """The page's key findings (a run with a backtest), every figure from the tables it sits above."""
    by_group, ranking, moves, fallen = result.by_group, result.ranking, result.moves, result.fallen
    valuable, at_risk, predictions = result.valuable, result.at_risk, result.predictions
    cutoff, end = result.window
    days = (end - cutoff).days
    overall = by_group.attrs["overall_share"]
    best = by_group.loc[by_group["repeat_share"].idxmax()]
    worst = by_group.loc[by_group["repeat_share"].idxmin()]
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
        "(listed in `exports/fallen_customers.csv`, highest spend first).",
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


def dashboard_values(predictions: pd.DataFrame, then: pd.DataFrame | None = None) -> pd.DataFrame:
    """``customer_id`` and ``expected_value`` (to the cent) for the dashboard and, with ``then``
    (the customers scored at the backtest cutoff), ``group_then``: each customer's group at the
    cutoff, ``new`` (:data:`~rfm_helpers.analysis.backtest.NEW`) when not scored then. The fit
    notes stay on the outlook page."""
    table = pd.DataFrame(
        {"customer_id": predictions["customer_id"], "expected_value": predictions["expected_value"].round(2)}
    )
    if then is not None:
        groups = then.set_index("customer_id")["group"].astype(str)
        table["group_then"] = table["customer_id"].map(groups).fillna(NEW)
    table.attrs = {}
    return table


def prediction_export(
    predictions: pd.DataFrame, segmented: pd.DataFrame, fallen: pd.DataFrame
) -> pd.DataFrame:
    """One row per customer: segment, group, the predictions over the horizon, and the group
    the customer fell from (blank unless they fell from a valuable group to an at-risk one)."""
    horizon = predictions.attrs["horizon_days"]
    table = segmented[["customer_id", "segment", "group"]].merge(predictions, on="customer_id", how="left")
    table = table.merge(
        fallen[["customer_id", "group_then"]].rename(columns={"group_then": "fell_from_group"}),
        on="customer_id",
        how="left",
    )
    columns = {
        "expected_orders": f"expected_orders_{horizon}d",
        "p_alive": "probability_active",
        "expected_spend": "expected_spend_per_order",
        "expected_value": f"expected_value_{horizon}d",
    }
    table = table.rename(columns=columns)
    if not predictions.attrs["p_alive_identifiable"]:
        table = table.drop(columns="probability_active")
    table[f"expected_orders_{horizon}d"] = table[f"expected_orders_{horizon}d"].round(3)
    table[f"expected_value_{horizon}d"] = table[f"expected_value_{horizon}d"].round(2)
    if "probability_active" in table:
        table["probability_active"] = table["probability_active"].round(3)
    order = [f"expected_value_{horizon}d", "customer_id"]
    return table.sort_values(order, ascending=[False, True], na_position="last").reset_index(drop=True)


def predictions_view(export: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Rows of :func:`prediction_export` as readable text."""
    orders = next(c for c in export.columns if c.startswith("expected_orders_"))
    value = next(c for c in export.columns if c.startswith("expected_value_"))
    days = orders.removeprefix("expected_orders_").removesuffix("d")

    def money(v: float) -> str:
        return "–" if pd.isna(v) else units.money(v, currency)

    view = {
        "Customer": export["customer_id"].astype(str),
        "Segment": export["segment"].astype(str),
        "Group": export["group"].astype(str),
        f"Expected orders, next {days} days": export[orders].map(lambda v: "–" if pd.isna(v) else f"{v:.1f}"),
    }
    if "probability_active" in export:
        view["Probability active"] = export["probability_active"].map(
            lambda v: "–" if pd.isna(v) else units.percent(v)
        )
    view["Expected spend per order"] = export["expected_spend_per_order"].map(money)
    view[f"Expected value, next {days} days"] = export[value].map(money)
    view["Fell from"] = export["fell_from_group"].astype(object).fillna("").astype(str)
    return pd.DataFrame(view)


OUTLOOK_DICTIONARY_FILE = "outlook_data_dictionary.csv"
"""What each column of the outlook step's lists means (beside ``data_dictionary.csv`` of the
customer lists, in the same published exports folder)."""
OUTLOOK_DICTIONARY = {
    "customer_id": (
        "Customer ID, exactly as in the source data",
        "text (import as text: leading zeros count)",
    ),
    "segment": ("RFM segment now (as in customer_segments.csv)", "text"),
    "group": ("Segment group now (as in customer_segments.csv)", "text"),
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


def outlook_dictionary(files: list[Path], horizon: int, model: str) -> pd.DataFrame:
    """One row per column of each written outlook list in ``files``, in file order: ``file``,
    ``column``, ``meaning``, ``format`` and ``example`` (the first value in the file)."""
    known = {key.format(horizon=horizon): value for key, value in OUTLOOK_DICTIONARY.items()}
    rows = []
    for path in files:
        header, examples = first_cells(path)
        missing = [c for c in header if c not in known]
        if missing:
            raise ValueError(
                f"outlook dictionary: no entry for {', '.join(missing)} of {path.name}; add them to "
                "rfm_helpers.report.outlook.OUTLOOK_DICTIONARY"
            )
        for column in header:
            meaning, unit = (text.format(horizon=horizon, model=MODEL_NAMES[model]) for text in known[column])
            rows.append((path.name, column, meaning, unit, examples.get(column, "")))
    return pd.DataFrame(rows, columns=["file", "column", "meaning", "format", "example"])


PREDICTIONS_FILE = "customer_predictions.csv"
FALLEN_FILE = "fallen_customers.csv"


def write_lists(
    export: pd.DataFrame, fallen: pd.DataFrame | None, folder: Path, horizon: int, model: str
) -> list[Path]:
    """Write the outlook's lists for campaign tools into ``folder`` (older CSVs there removed
    first, so a run without a backtest never publishes a stale fallen list):
    :data:`PREDICTIONS_FILE` (``export``, :func:`prediction_export`), :data:`FALLEN_FILE` when
    ``fallen`` is given, and :data:`OUTLOOK_DICTIONARY_FILE` (:func:`outlook_dictionary`), each
    through :func:`rfm_helpers.atomic.write_export_csv`."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    paths = [folder / PREDICTIONS_FILE]
    atomic.write_export_csv(export, paths[0])
    if fallen is not None:
        paths.append(folder / FALLEN_FILE)
        atomic.write_export_csv(fallen, paths[-1])
    dictionary = outlook_dictionary(paths, horizon, model)
    paths.append(folder / OUTLOOK_DICTIONARY_FILE)
    atomic.write_export_csv(dictionary, paths[-1])
    return paths
