"""Sentences for the reports, written from measured numbers (never typed figures).

Each function takes result tables and returns Markdown; the notebooks display it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from rfm_helpers import units
from rfm_helpers.analysis.clustering import base_name
from rfm_helpers.analysis.insights import is_win_back
from rfm_helpers.config import AccountsSource, ClusteringConfig, RFMConfig
from rfm_helpers.sql.cleaning import STEP_LABELS, NettingSummary
from rfm_helpers.units import money


def _pct(value: float) -> str:
    return f"{value:.0%}" if value >= 0.01 or value == 0 else f"{value:.1%}"


def skipped(*columns: str) -> str:
    """Note for a section that needs columns this export does not have."""
    names = ", ".join(f"`{c}`" for c in columns)
    return (
        f"*This section needs the column(s) {names}, which this export does not have (map them in "
        "`input.columns` if the file has them under another name). Skipped.*"
    )


# --- cleaning -------------------------------------------------------------------------


def _reaching(rows: pd.Series, stages: pd.Series | None, step: str) -> str:
    """ ", N of them reach rule ``step`` (the others are removed earlier: ...)" for the raw rows
    ``rows`` (a mask), from the rows' ``removed_by``; "" without ``stages``."""
    if stages is None or not rows.any():
        return ""
    counts = stages[rows].value_counts()
    reach = int(counts.get(step, 0))
    earlier = [f"{int(n):,} by {STEP_LABELS[s]}" for s, n in counts.items() if s != step]
    text = f"; **{reach:,}** of them reach the {STEP_LABELS[step]} rule"
    return text + (f" (the others are removed earlier: {', '.join(earlier)})" if earlier else "")


def describe_anomalies(raw: pd.DataFrame, rules: pd.DataFrame, currency: str = "£") -> str:
    """What is wrong with the raw rows, counted in the raw file. ``rules`` holds, per row of
    ``raw``, ``is_cancellation`` and ``removed_by`` (the SQL's one definition of the rules): each
    count says how many of its rows reach the rule that removes them, so it reconciles with the
    ledger (which counts the rows left by the earlier rules)."""
    stages = rules["removed_by"]
    items = []
    if "quantity" in raw:
        negative = raw["quantity"] < 0
        items.append(
            f"**{negative.sum():,}** rows have a negative quantity "
            f"({money(raw.loc[negative, 'revenue'].sum(), currency)} of revenue)"
        )
    if "unit_price" in raw:
        items.append(
            f"**{(raw['unit_price'] == 0).sum():,}** rows have a unit price of 0 and "
            f"**{(raw['unit_price'] < 0).sum():,}** a negative one"
            + _reaching(~(raw["unit_price"] > 0), stages, "non_positive_price")
        )
    cancelled = rules["is_cancellation"].astype(bool)
    items.append(
        f"**{cancelled.sum():,}** rows belong to **{raw.loc[cancelled, 'invoice_id'].nunique():,}** "
        "cancelled invoices (number starting with C): the cancellation lines"
    )
    no_customer = raw["customer_id"].isna()
    items.append(
        f"**{no_customer.sum():,}** rows ({_pct(no_customer.mean())}) have no customer ID"
        + _reaching(no_customer, stages, "missing_customer")
    )
    if "description" in raw:
        items.append(f"**{raw['description'].isna().sum():,}** rows have no description")
    return "**What needs cleaning** (rows in the raw file):\n\n" + "\n".join(f"- {item}" for item in items)


def cleaning_findings(
    ledger: pd.DataFrame,
    first: pd.Timestamp,
    last: pd.Timestamp,
    customers: int,
    netting: NettingSummary | None = None,
    currency: str = "£",
) -> str:
    """The cleaning report's opening: 3-5 findings measured from the ledger (rows and revenue
    kept and removed), the clean data's dates and customers, and the cancelled orders."""
    raw, clean = ledger.iloc[0], ledger.iloc[-1]
    applied = ledger[ledger["applied"] & ledger["step"].ne("raw")]
    biggest = applied.loc[applied["rows_removed"].idxmax()] if len(applied) else None
    items = [
        f"The clean data covers **{first:%d %b %Y} to {last:%d %b %Y}** and **{customers:,} customers**.",
        f"**{int(clean['rows_remaining']):,} of {int(raw['rows_remaining']):,} rows** "
        f"({_pct(clean['rows_remaining'] / raw['rows_remaining'])}) and **"
        f"{money(clean['revenue_remaining'], currency)} of {money(raw['revenue_remaining'], currency)}** "
        "of revenue are kept; every rule's share is in the ledger below.",
    ]
    if biggest is not None and biggest["rows_removed"] > 0:
        items.append(
            f"The largest removal is **{STEP_LABELS[biggest['step']]}**: "
            f"{int(biggest['rows_removed']):,} rows, "
            f"{money(biggest['revenue_removed'], currency)} of revenue."
        )
    if netting is not None:
        items.append(_cancelled_orders_sentence(netting, currency))
    return "**Key findings**\n\n" + "\n".join(f"- {item}" for item in items)


def _cancelled_orders_sentence(netting: NettingSummary, currency: str) -> str:
    amount = money(netting.revenue, currency)
    lines = (
        f"{netting.purchase_lines_removed:,} purchase lines in full, "
        f"{netting.purchase_lines_reduced:,} in part"
    )
    if netting.mode == "net":
        return (
            f"Cancelled orders are **netted**: {amount} of sales were cancelled later and are not counted "
            f"({lines})."
        )
    return (
        f"Cancelled orders **still count as sales** (`cleaning.cancellations: drop`, the source document's "
        f"method): **{amount}** of the revenue kept was cancelled later ({lines})."
    )


def describe_cancellations(netting: NettingSummary | None, ledger: pd.DataFrame, currency: str = "£") -> str:
    """What happens to cancellations: the lines removed (negative revenue), the orders they
    cancel netted or kept, and the cancellations that match no order."""
    steps = ledger.set_index("step")
    lines = steps.loc["cancellation_lines"]
    if not lines["applied"]:
        return (
            f"Cancellation lines are kept ({lines['note']}); the quantity rule removes their negative lines."
        )
    text = (
        f"The **{int(lines['rows_removed']):,} cancellation lines** carry "
        f"**{money(lines['revenue_removed'], currency)}** of revenue: removing them *raises* the total "
        "(the green bar in the waterfall below). That is not revenue added: it is the negative amount of "
        "the cancellations leaving the table."
    )
    if netting is None:
        return (
            f"{text} The orders they cancel stay counted as sales: {steps.loc['cancelled_orders', 'note']}."
        )
    matched = netting.matched_in_full + netting.matched_in_part
    unmatched = (
        f"**{netting.unmatched:,}** match no purchase in the clean data (their order predates the data, or "
        f"was removed by an earlier rule) and **{netting.unmatchable:,}** have no customer ID: there is "
        "nothing to net for them."
    )
    if netting.mode == "net":
        return (
            f"{text} The orders they cancel are **netted** at the last step: {matched:,} cancellation lines "
            "matched the same customer's earlier purchases of the same product (oldest first), removing "
            f"**{money(netting.revenue, currency)}** of sales ({netting.purchase_lines_removed:,} purchase "
            f"lines cancelled in full, {netting.purchase_lines_reduced:,} in part). {unmatched}"
        )
    return (
        f"{text} This run uses the source document's method (`cleaning.cancellations: drop`): the orders "
        f"they cancel **stay counted as sales**, **{money(netting.revenue, currency)}** on "
        f"{netting.purchase_lines_removed:,} purchase lines cancelled in full and "
        f"{netting.purchase_lines_reduced:,} in part (measured by netting {matched:,} cancellation lines "
        f"against the purchases they cancel, as the default method does). {unmatched}"
    )


_WHY_REVENUE_RISES = {
    "cancellation_lines": "the cancellation lines' negative revenue",
    "non_positive_quantity": "returns and corrections with negative revenue",
    "non_positive_price": "adjustments with a negative price (bad debt)",
    "non_product_codes": "fees, discounts and manual adjustments with negative revenue",
    "missing_customer": "negative lines without a customer",
}


def describe_waterfall(ledger: pd.DataFrame, currency: str = "£") -> str:
    """Every step of the waterfall in words; a step that raises revenue says which negative
    lines it removed (no rule adds sales)."""
    applied = ledger[ledger["applied"] & ledger["step"].ne("raw")]
    raw, clean = ledger.iloc[0], ledger.iloc[-1]
    rises = applied[applied["revenue_removed"] < 0]
    lines = [
        f"From **{money(raw['revenue_remaining'], currency)}** in the raw file to "
        f"**{money(clean['revenue_remaining'], currency)}** in the clean table. Red bars remove revenue; "
        "a green bar is a rule that removed lines with **negative** revenue, so the total goes up: no rule "
        "adds sales."
    ]
    for row in rises.itertuples(index=False):
        why = _WHY_REVENUE_RISES.get(row.step, "lines with negative revenue")
        lines.append(
            f"- **{STEP_LABELS[row.step]}**: +{money(-row.revenue_removed, currency)} — {why} "
            f"({row.rows_removed:,} rows) removed."
        )
    skipped = ledger[~ledger["applied"]]
    if len(skipped):
        lines.append(
            "- Not applied: "
            + "; ".join(f"**{STEP_LABELS[r.step]}** ({_skip_reason(r.note)})" for r in skipped.itertuples())
            + "."
        )
    return "\n".join(lines)


def _skip_reason(note: str) -> str:
    """The switch or missing column behind a ledger row that was not applied."""
    switch = re.match(r"(?:disabled by |not applied \()(cleaning\.\w+: \w+)", note)
    if switch:
        return f"`{switch[1]}`"
    return note.split(":")[0]


def describe_countries_kept(raw_countries: pd.Series, clean_countries: pd.Series) -> str:
    """How many countries the raw file and the clean data have, and which ones cleaning empties."""
    before, after = set(raw_countries.dropna()), set(clean_countries.dropna())
    lost = sorted(before - after)
    text = f"The raw file has **{len(before)} countries**; **{len(after)}** keep at least one clean line"
    return text + (f" ({', '.join(lost)}: no line left after cleaning)." if lost else ".")


def describe_missing_customers(by_month: pd.DataFrame, by_country: pd.DataFrame) -> str:
    """Is the missing customer ID concentrated in some months or countries?"""
    total_rows = by_month["rows"].sum()
    total_missing = by_month["rows_missing_customer"].sum()
    overall = total_missing / total_rows if total_rows else 0.0
    months = by_month[by_month["rows"] > 0]
    months_with = (months["rows_missing_customer"] > 0).sum()
    countries_with = (by_country["rows_missing_customer"] > 0).sum()
    top = by_country.sort_values("rows_missing_customer", ascending=False).iloc[0]
    top_missing_share = top["rows_missing_customer"] / total_missing if total_missing else 0.0
    top_rows_share = top["rows"] / total_rows if total_rows else 0.0
    concentrated = top_missing_share > top_rows_share + 0.10 or months["share_missing"].max() > 3 * max(
        overall, 1e-9
    )
    verdict = (
        "They are **concentrated**: check how these rows were recorded before trusting the segments."
        if concentrated
        else "They are **spread out** over time and in line with where sales happen, so dropping them "
        "does not bias the segments towards a period or a market."
    )
    return (
        f"**{total_missing:,}** of {total_rows:,} rows ({_pct(overall)}) in the raw file have no customer "
        f"ID. They occur in **{months_with} of {len(months)} months** (between "
        f"{_pct(months['share_missing'].min())} and {_pct(months['share_missing'].max())} of a month's rows) "
        f"and in **{countries_with} of the {len(by_country)} countries** of the raw file. {top['country']} "
        f"holds {_pct(top_missing_share)} of them for {_pct(top_rows_share)} of all rows. {verdict}"
    )


def describe_code_mismatch(mismatch: pd.DataFrame) -> str:
    """Stock codes vs descriptions, from :func:`rfm_helpers.sql.cleaning.code_description_mismatch`."""
    counts = mismatch.attrs
    return (
        f"The file has **{counts['distinct_stock_codes']:,} stock codes** but "
        f"**{counts['distinct_descriptions']:,} descriptions** as written "
        f"({counts['distinct_descriptions_trimmed']:,} once surrounding spaces are trimmed). "
        f"**{counts['codes_with_several_descriptions']:,} codes** carry more than one description; "
        "the analysis uses stock codes, so products are counted once."
    )


# --- EDA ------------------------------------------------------------------------------


def describe_monthly(
    monthly_table: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp, currency: str = "£"
) -> str:
    """Best and worst month, and the first or last month if the data covers it only in part."""
    best = monthly_table.loc[monthly_table["revenue"].idxmax()]
    worst = monthly_table.loc[monthly_table["revenue"].idxmin()]
    text = (
        f"Revenue peaks in **{best['month']:%B %Y}** ({money(best['revenue'], currency)}, "
        f"{best['orders']:,} orders) and is lowest in **{worst['month']:%B %Y}** "
        f"({money(worst['revenue'], currency)})."
    )
    partial = []
    if first.day > 1:
        partial.append(f"{first:%B %Y} starts on {first:%d %b}")
    if last.day < last.days_in_month:
        partial.append(f"{last:%B %Y} ends on {last:%d %b}")
    if partial:
        text += (
            f" The data covers part of a month only ({'; '.join(partial)}): compare such months with care."
        )
    return text


def describe_countries(countries: pd.DataFrame) -> str:
    top = countries.iloc[0]
    return (
        f"Customers come from **{len(countries)} countries**; **{top['country']}** alone brings "
        f"**{_pct(top['revenue_share'])}** of revenue from {top['customers']:,} customers."
    )


def describe_repeat_customers(per_customer: pd.DataFrame) -> str:
    one_time = per_customer.loc[per_customer["orders"] == "1", "share"].sum()
    return (
        f"**{_pct(one_time)}** of customers ordered only once. They all share the lowest frequency, "
        "so the frequency quintiles cannot be equal in size (tied customers get the same score)."
    )


# --- RFM ------------------------------------------------------------------------------


def describe_method(rfm: RFMConfig, snapshot: pd.Timestamp, clean: pd.DataFrame) -> str:
    """The RFM definitions this run uses, with the dates they imply."""
    last = clean["invoice_date"].max()
    if rfm.recency_from == "last_transaction":
        recency = (
            f"days from the **last transaction in the data ({snapshot:%d %b %Y})** to the customer's last "
            "order (the source document's method: the most recent customers have recency 0)"
        )
    else:
        origin = (
            "the `rfm.snapshot_date` parameter" if rfm.snapshot_date else "the day after the last transaction"
        )
        recency = (
            f"days from the **snapshot date {snapshot:%d %b %Y}** ({origin}) to the customer's last order"
        )
    frequency = (
        "number of **distinct orders** (invoices)"
        if rfm.frequency == "invoices"
        else "number of **invoice lines** (the source document's method: one order of 20 products counts 20)"
    )
    scoring = (
        "rank position (customers with equal values share a score)"
        if rfm.scoring == "rank"
        else "pandas `qcut` quintile edges (the source document's method)"
    )
    return (
        f"- **Recency**: {recency}.\n"
        f"- **Frequency**: {frequency}.\n"
        f"- **Monetary**: total revenue of the customer's clean invoice lines.\n"
        f"- **Scores**: {rfm.n_bins} bins by {scoring}; recency is reversed so that 5 = most recent.\n"
        f"- Data up to {last:%d %b %Y %H:%M}."
    )


def describe_outlier_policy(
    rfm: RFMConfig, customers: pd.DataFrame, kept: pd.DataFrame, currency: str = "£"
) -> str:
    removed = customers[~customers["customer_id"].isin(kept["customer_id"])]
    if rfm.outliers == "keep":
        return "All customers are scored (`rfm.outliers: keep`)."
    if rfm.outliers == "cap":
        return (
            f"Values above the {rfm.outlier_quantile:.0%} quantile are capped at it before scoring "
            "(`rfm.outliers: cap`); every customer is scored."
        )
    return (
        f"**{len(removed):,} customers** above the {rfm.outlier_quantile:.0%} quantile of recency, frequency "
        f"or monetary are removed before scoring (`rfm.outliers: trim`, the source document's method). "
        f"They bring **{money(removed['monetary'].sum(), currency)}** "
        f"({_pct(removed['monetary'].sum() / customers['monetary'].sum())} of revenue): most are the best "
        "customers, so they stay in the exported customer list, marked as not scored."
    )


def excluded_note(rfm: RFMConfig) -> str:
    """Note for customers the outlier policy kept out of scoring."""
    return f"not scored: above the {rfm.outlier_quantile:.0%} quantile of R, F or M (rfm.outliers: trim)"


# --- clustering -----------------------------------------------------------------------


def describe_clustering_setup(ccfg: ClusteringConfig, customers: int, entity: str = "customers") -> str:
    transform = "log(1 + x), then standardised" if ccfg.log_transform else "standardised (no log transform)"
    return (
        f"**{customers:,} {entity}**, features {', '.join(f'`{f}`' for f in ccfg.features)}, {transform}; "
        f"KMeans with k = {ccfg.k}, `random_state` = {ccfg.random_state}, {ccfg.n_init} initialisations."
        + (
            f" The elbow and silhouette below are computed on a fixed random sample of "
            f"{ccfg.elbow_sample:,} of the {customers:,} {entity} (`clustering.elbow_sample`); "
            "the clusters are fitted on all of them."
            if customers > ccfg.elbow_sample
            else ""
        )
    )


def describe_k_choice(elbow: pd.DataFrame, chosen_k: int) -> str:
    """Which k the silhouette prefers, and whether the report uses it (``elbow``: the table of
    :func:`rfm_helpers.analysis.clustering.elbow_table`)."""
    scored = elbow.dropna(subset=["silhouette"])
    if scored.empty:
        return f"The silhouette needs at least 2 clusters; this report uses k = {chosen_k}."
    best = scored.loc[scored["silhouette"].idxmax()]
    best_k = int(best["k"])
    top = f"The silhouette is highest at **k = {best_k}** ({best['silhouette']:.2f})"
    if best_k == chosen_k:
        return f"{top}, the k this report uses."
    chosen = scored.loc[scored["k"] == chosen_k, "silhouette"]
    at_chosen = f", silhouette {chosen.iloc[0]:.2f}" if len(chosen) else ""
    return (
        f"{top}, **not at the k this report uses (k = {chosen_k}{at_chosen})**, which is set by "
        f"`clustering.k`: set it to {best_k} for the best separated clusters, or keep it for finer groups."
    )


def describe_clusters(
    profile: pd.DataFrame,
    crosstab: pd.DataFrame | None = None,
    currency: str = "£",
    entity: str = "customers",
) -> str:
    """One line per cluster: size, revenue share and (given a segment ``crosstab``) the RFM
    segment most of it falls in."""
    lines = []
    for row in profile.itertuples(index=False):
        column = None if crosstab is None else crosstab.get(row.cluster_name)
        dominant = ""
        if column is not None and column.notna().any():
            dominant = f"; mostly **{column.idxmax()}** ({_pct(column.max())})"
        revenue = f", {_pct(row.revenue_share)} of revenue" if hasattr(row, "revenue_share") else ""
        size = f"{row.customers:,} {entity} ({_pct(row.customer_share)})"
        lines.append(f"- **{row.cluster_name}**: {size}{revenue}{dominant}")
    return "\n".join(lines)


# --- insights -------------------------------------------------------------------------


def _findings(items: list[str]) -> str:
    """A report's opening, in the shape of :func:`cleaning_findings`: **Key findings** and one
    bullet per finding."""
    return "**Key findings**\n\n" + "\n".join(f"- {item}" for item in items)


def _period(first: pd.Timestamp | dt.date, last: pd.Timestamp | dt.date) -> str:
    return f"**{first:%d %b %Y} to {last:%d %b %Y}**"


def _count(n: int, noun: str) -> str:
    """``1 customer``, ``2 customers``, ``1,234 accounts``."""
    return f"{n:,} {noun if n != 1 else noun.removesuffix('s')}"


def _listing(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def scoring_findings(
    customers: pd.DataFrame,
    group_summary: pd.DataFrame,
    segment_summary: pd.DataFrame,
    snapshot: pd.Timestamp,
    rfm: RFMConfig,
    currency: str = "£",
) -> str:
    """Report 3's opening, measured: the period, customers and revenue of ``customers`` (every
    customer: ``first_purchase``, ``last_purchase``, ``monetary``) and the day recency counts
    from; the customers the outlier policy left out (those missing from ``group_summary``);
    how the scored customers split across the groups (``group_summary``:
    :func:`rfm_helpers.analysis.segments.segment_summary` by group, in report order); the group with the
    most revenue and the one bringing least for its size; the segment with the most revenue
    (``segment_summary``)."""
    revenue = float(customers["monetary"].sum())
    scored, scored_revenue = int(group_summary["customers"].sum()), float(group_summary["revenue"].sum())
    first, last = customers["first_purchase"].min(), customers["last_purchase"].max()
    items = [
        f"The data covers {_period(first, last)}: **{_count(len(customers), 'customers')}** with "
        f"**{units.money(revenue, currency)}** of revenue. Recency is counted from **{snapshot:%d %b %Y}**."
    ]
    of_revenue = "of revenue"
    if scored < len(customers):
        left, carry = len(customers) - scored, revenue - scored_revenue
        items.append(
            f"**{_count(left, 'customers')} {'is' if left == 1 else 'are'} not scored**: the outlier policy "
            f"(`rfm.outliers: {rfm.outliers}`) left out those above the {rfm.outlier_quantile:.0%} quantile "
            f"of R, F or M. They carry **{units.money(carry, currency)} ({_pct(carry / revenue)} of all "
            f"revenue)** and stay in the export; the shares below are of the "
            f"{_count(scored, 'scored customers')}."
        )
        of_revenue = "of the scored revenue"
    sizes = [
        f"**{row.group}** {row.customers:,}{' customers' if i == 0 else ''} ({_pct(row.customer_share)})"
        for i, row in enumerate(group_summary.itertuples(index=False))
    ]
    who = _count(scored, "scored customers" if scored < len(customers) else "customers")
    items.append(f"The {who} fall into {len(group_summary)} groups: {_listing(sizes)}.")
    groups = group_summary[group_summary["customers"] > 0]
    top = groups.loc[groups["revenue_share"].idxmax()]
    low = groups.loc[(groups["revenue_share"] / groups["customer_share"]).idxmin()]
    text = (
        f"**{top['group']}** bring **{_pct(top['revenue_share'])} {of_revenue}** with "
        f"{_pct(top['customer_share'])} of the customers"
    )
    if low["group"] != top["group"]:
        text += (
            f"; **{low['group']}**, {_pct(low['customer_share'])} of the customers, bring "
            f"{_pct(low['revenue_share'])}"
        )
    items.append(f"{text}.")
    best = segment_summary.loc[segment_summary["revenue_share"].idxmax()]
    items.append(
        f"The segment with the most revenue is **{best['segment']}**: {best['customers']:,} customers "
        f"({_pct(best['customer_share'])}) bring {_pct(best['revenue_share'])} {of_revenue}."
    )
    return _findings(items)


def cluster_findings(
    profile: pd.DataFrame,
    elbow: pd.DataFrame,
    chosen_k: int,
    clustered: pd.DataFrame,
    everyone: pd.DataFrame,
    first: pd.Timestamp | dt.date,
    last: pd.Timestamp | dt.date,
    currency: str = "£",
    entity: str = "customers",
) -> str:
    """Report 4's opening, measured: the period (``first`` to ``last``), how many of
    ``everyone`` were clustered (``clustered``: the table the clusters were fitted on) with
    their revenue, each cluster's size and revenue share (``profile``:
    :func:`rfm_helpers.analysis.clustering.cluster_profile`), and the k with the best silhouette
    against the k used (``elbow``: :func:`rfm_helpers.analysis.clustering.elbow_table`)."""
    total, revenue = float(everyone["monetary"].sum()), float(clustered["monetary"].sum())
    if len(clustered) < len(everyone):
        size = (
            f"**{len(clustered):,} of {len(everyone):,} {entity}** (the scored ones) with "
            f"**{units.money(revenue, currency)} of {units.money(total, currency)}** of revenue"
        )
    else:
        size = f"**{_count(len(clustered), entity)}** with **{units.money(revenue, currency)}** of revenue"
    items = [f"The data covers {_period(first, last)}; the clusters hold {size}."]
    of_whom, of_revenue = (
        (f" of the clustered {entity}", " of their revenue")
        if len(clustered) < len(everyone)
        else (f" of {entity}", " of revenue")
    )
    parts = []
    for i, row in enumerate(profile.itertuples(index=False)):
        share = f"{_pct(row.customer_share)}" + (of_whom if i == 0 else "")
        if hasattr(row, "revenue_share"):
            share += f", {_pct(row.revenue_share)}" + (of_revenue if i == 0 else "")
        parts.append(f"**{row.cluster_name}** {row.customers:,}{f' {entity}' if i == 0 else ''} ({share})")
    items.append(f"**{_count(len(profile), 'clusters')}**: " + "; ".join(parts) + ".")
    scored = elbow.dropna(subset=["silhouette"])
    if scored.empty:
        items.append(f"The silhouette needs at least 2 clusters; this report uses **k = {chosen_k}**.")
        return _findings(items)
    best = scored.loc[scored["silhouette"].idxmax()]
    best_k = int(best["k"])
    text = (
        f"The silhouette (how well the clusters are separated) is best at **k = {best_k}** "
        f"({best['silhouette']:.2f})"
    )
    if best_k == chosen_k:
        items.append(f"{text}, the k this report uses.")
    else:
        at_chosen = scored.loc[scored["k"] == chosen_k, "silhouette"]
        value = f" ({at_chosen.iloc[0]:.2f})" if len(at_chosen) else ""
        items.append(
            f"{text}; this report uses **k = {chosen_k}**{value}, set by `clustering.k`: more groups, "
            "less clearly separated."
        )
    return _findings(items)


def insight_findings(
    export: pd.DataFrame,
    actions: pd.DataFrame,
    playbook: pd.DataFrame,
    first: pd.Timestamp,
    last: pd.Timestamp,
    currency: str = "£",
    recent_days: float = 30,
) -> str:
    """Report 5's opening, measured from the customer export (``export``: every customer,
    :func:`rfm_helpers.analysis.insights.customer_export`) and its actions (``actions``:
    :func:`rfm_helpers.analysis.insights.action_overview`): the period, customers and revenue, and the
    customers the outlier policy left out; the **revenue at risk**: that of the first group,
    by playbook ``priority``, whose goal is a win-back (:func:`rfm_helpers.analysis.insights.is_win_back`);
    the recommended actions with their counts, in playbook order (those nurtured instead of a
    win-back counted); the group with the most revenue. Shares are of all customers and all
    revenue."""
    revenue, count = float(export["monetary"].sum()), len(export)
    items = [
        f"The data covers {_period(first, last)}: **{_count(count, 'customers')}** with "
        f"**{units.money(revenue, currency)}** of revenue."
    ]
    unscored = export["group"].isna()
    of_all = ""
    if unscored.any():
        of_all = " all"
        items[0] += (
            f" **{int(unscored.sum()):,} of them are in no segment** (the outlier policy left them out) and "
            f"carry {_pct(export.loc[unscored, 'monetary'].sum() / revenue)} of it: review them one by one. "
            f"The shares in this list are of all customers and revenue; the charts and tables below are "
            f"of the {_count(int((~unscored).sum()), 'scored customers')}."
        )
    scored = export[~unscored]
    groups = (
        scored.groupby(scored["group"].astype(str))
        .agg(customers=("monetary", "size"), revenue=("monetary", "sum"), recency=("recency", "median"))
        .join(playbook.set_index("group")[["priority", "goal"]], how="inner")
        .sort_values("priority", kind="stable")
    )
    at_risk = groups[groups["goal"].map(is_win_back)]
    if len(at_risk):
        name, row = at_risk.index[0], at_risk.iloc[0]
        members = [str(m) for m in pd.unique(scored.loc[scored["group"].astype(str) == name, "segment"])]
        items.append(
            f"**Revenue at risk: {units.money(row['revenue'], currency)} "
            f"({_pct(row['revenue'] / revenue)} of{of_all} revenue)** from the "
            f"**{int(row['customers']):,} {name}** customers ({_pct(row['customers'] / count)} of{of_all} "
            f"customers; segments {_listing(members)}), goal *{row['goal'].lower()}*: their median last "
            f"order was {units.days(row['recency'])} ago."
        )
    rank = {goal: i for i, goal in enumerate(groups["goal"])}
    ordered = actions.assign(rank=actions["recommended_action"].map(rank).fillna(len(rank)))
    parts = []
    for _, row in ordered.sort_values("rank", kind="stable").iterrows():
        part = f"**{row['recommended_action'].lower()} {int(row['customers']):,}**"
        moved = int(row["instead of a win-back"])
        if moved:
            part += f" ({moved:,} instead of a win-back: ordered within {units.days(recent_days)})"
        parts.append(part)
    items.append(f"Recommended actions, one per customer: {_listing(parts)}.")
    if len(groups):
        name = groups["revenue"].idxmax()
        row = groups.loc[name]
        items.append(
            f"The group with the most revenue is **{name}** (goal *{row['goal'].lower()}*): "
            f"{int(row['customers']):,} customers ({_pct(row['customers'] / count)} of{of_all} customers) "
            f"bring **{units.money(row['revenue'], currency)}, "
            f"{_pct(row['revenue'] / revenue)} of{of_all} revenue**."
        )
    return _findings(items)


def describe_trend(trend: pd.DataFrame, currency: str = "£") -> str:
    """Busiest month, biggest spenders' month, and how fast customers come back."""
    active = trend[trend["customers"] > 0]
    busiest = active.loc[active["customers"].idxmax()]
    best = active.loc[active["monetary_mean"].idxmax()]
    returning = active.dropna(subset=["recency_median"])
    text = (
        f"Most customers are active in **{busiest['month']:%B %Y}** ({busiest['customers']:,}, of whom "
        f"{busiest['new_customers']:,} new). Spend per active customer is highest in "
        f"**{best['month']:%B %Y}** "
        f"({money(best['monetary_mean'], currency)} on average)."
    )
    if len(returning) >= 2:
        first, last = returning.iloc[0], returning.iloc[-1]
        text += (
            f" Returning customers had been away a median {first['recency_median']:,.0f} days in "
            f"{first['month']:%B %Y} and {last['recency_median']:,.0f} days in {last['month']:%B %Y}."
        )
    return text


def describe_export(export: pd.DataFrame, paths: list[Path]) -> str:
    """What the exported campaign lists contain and where they are."""
    scored = export["segment"].notna().sum()
    others = ", ".join(f"`{p.name}`" for p in paths[1:] if p.name.startswith("group_"))
    dictionary = [p.name for p in paths[1:] if not p.name.startswith("group_")]
    text = (
        f"**`{paths[0].name}`** lists **{len(export):,} customers** (one row each) with R, F, M, their "
        "scores, RFM code, segment, group, goal, KMeans cluster and one recommended action with its reason, "
        "sorted by group and spend. One file per "
        f"segment group holds the same columns for that group only ({others}). They are published in "
        "the `exports/` folder beside this report (links in the reports index)."
    )
    if dictionary:
        text += (
            f" **`{dictionary[0]}`** says what every column means, its unit or format, and an example; "
            "`snapshot_date` (the day recency counts from) and `currency` (of `monetary`) are columns of "
            "every row, so a campaign tool imports each file as it is: one header row, one row per customer."
        )
    if scored < len(export):
        text += f" {len(export) - scored:,} customers were not scored (see the note column)."
    return text


# --- account runs (SQL extraction) -----------------------------------------------------


def describe_extraction(source: AccountsSource, database: str, accounts: int) -> str:
    """Where the accounts came from and the window, time zone and rules they were measured with."""
    method = (
        "the corrected method"
        if source.method == "corrected"
        else "**the source document's method, faults included** (for comparison only)"
    )
    categories = ", ".join(source.charged_wa_categories) or "none"
    return (
        f"**{accounts:,} accounts** extracted from {database} with the SQL files in `{source.sql_dir}`, "
        f"using {method}. Window: local days {source.window_start:%d %b %Y} to "
        f"{source.window_end - dt.timedelta(days=1):%d %b %Y} in {source.timezone} "
        f"(timestamps are stored in UTC). Recency is counted in days up to {source.as_of:%d %b %Y}, "
        f"a parameter, never the day the report runs. Campaign channels: {', '.join(source.channels)}; "
        f"charged WhatsApp categories: {categories}; prices from `{source.prices}`."
    )


def describe_method_comparison(losses: pd.DataFrame, currency: str = "£") -> str:
    """What the source document's extraction loses, from :func:`accounts.document_losses`."""
    total = losses.loc["all"]
    lost, accounts = int(total["lost"]), int(total["accounts"])  # the row is float (it holds a share)
    if lost == 0:
        return "The source document's method keeps every account of the corrected extraction."
    worst = losses.drop(index="all").sort_values("lost", ascending=False).head(3)
    profiles = ", ".join(
        f"{profile} ({int(row.lost):,} of {int(row.accounts):,})"
        for profile, row in worst.iterrows()
        if row.lost
    )
    return (
        f"The source document's queries and merges would drop **{lost:,} of {accounts:,} "
        f"accounts ({_pct(total['lost_share'])})**, worth {money(total['lost_revenue'], currency)} of "
        f"revenue: its charged-messages query starts from WhatsApp (LEFT JOIN) and its merges are "
        f"inner joins, so accounts without WhatsApp traffic vanish. Most affected: {profiles}."
    )


def cluster_headline(profile: pd.DataFrame, playbook: pd.DataFrame, currency: str = "£") -> str:
    """Key messages: per cluster (playbook order), its goal, size, revenue share and medians."""
    table = profile.assign(base=profile["cluster_name"].map(base_name)).merge(
        playbook, left_on="base", right_on="cluster", suffixes=("", "_playbook")
    )
    lines = ["**Key messages**", ""]
    for row in table.sort_values(["priority", "cluster"]).itertuples(index=False):
        lines.append(
            f"- **{row.goal}: {row.cluster_name}** — {row.customers:,} accounts ({_pct(row.customer_share)}) "
            f"bring {_pct(row.revenue_share)} of revenue; median last campaign {row.recency_median:,.0f} "
            f"days ago, median revenue {money(row.monetary_median, currency)}."
        )
    return "\n".join(lines)
