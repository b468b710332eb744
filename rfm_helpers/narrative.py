"""Sentences for the reports, written from measured numbers (never typed figures).

Each function takes result tables and returns Markdown; the notebooks display it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from rfm_helpers.clustering import base_name
from rfm_helpers.config import AccountsSource, ClusteringConfig, RFMConfig
from rfm_helpers.plots import money


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


def describe_anomalies(raw: pd.DataFrame, currency: str = "£") -> str:
    """What is wrong with the raw rows, counted."""
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
        )
    cancelled = raw["invoice_id"].str.upper().str.startswith("C")
    items.append(
        f"**{cancelled.sum():,}** rows belong to **{raw.loc[cancelled, 'invoice_id'].nunique():,}** "
        "cancelled invoices (number starting with C)"
    )
    no_customer = raw["customer_id"].isna()
    items.append(f"**{no_customer.sum():,}** rows ({_pct(no_customer.mean())}) have no customer ID")
    if "description" in raw:
        items.append(f"**{raw['description'].isna().sum():,}** rows have no description")
    return "**What needs cleaning:**\n\n" + "\n".join(f"- {item}" for item in items)


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
        f"**{total_missing:,}** of {total_rows:,} rows ({_pct(overall)}) have no customer ID. They occur in "
        f"**{months_with} of {len(months)} months** (between {_pct(months['share_missing'].min())} and "
        f"{_pct(months['share_missing'].max())} of a month's rows) and in **{countries_with} of "
        f"{len(by_country)} countries**. {top['country']} holds {_pct(top_missing_share)} of them "
        f"for {_pct(top_rows_share)} of all rows. {verdict}"
    )


def describe_code_mismatch(mismatch: pd.DataFrame) -> str:
    """Stock codes vs descriptions, from :func:`rfm_helpers.cleaning.code_description_mismatch`."""
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


def headline(
    group_summary: pd.DataFrame,
    segment_summary: pd.DataFrame,
    playbook: pd.DataFrame,
    currency: str = "£",
    unscored: int = 0,
) -> str:
    """The report's key messages: one per segment group, ordered by the playbook's priority.

    ``unscored``: customers an outlier policy kept out of the segments (said up front, since
    the shares below are of the scored customers only).
    """
    table = group_summary.merge(playbook, on="group").sort_values("priority")
    lines = ["**Key messages**", ""]
    if unscored:
        lines.append(
            f"- **{unscored:,} customers are not in any segment**: the outlier policy removed them before "
            "scoring (see report 3). The shares below are of the scored customers."
        )
    for row in table.itertuples(index=False):
        lines.append(
            f"- **{row.goal}: {row.group}** — {row.customers:,} customers ({_pct(row.customer_share)}) "
            f"bring {_pct(row.revenue_share)} of revenue ({money(row.revenue, currency)}); median last "
            f"order {row.recency_median:,.0f} days ago."
        )
    top = segment_summary.sort_values("revenue_share", ascending=False).iloc[0]
    lines.append(
        f"- The largest revenue segment is **{top['segment']}**: {_pct(top['customer_share'])} of customers, "
        f"{_pct(top['revenue_share'])} of revenue."
    )
    return "\n".join(lines)


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
    others = ", ".join(f"`{p.name}`" for p in paths[1:])
    text = (
        f"**`{paths[0].name}`** lists **{len(export):,} customers** (one row each) with R, F, M, their "
        "scores, RFM code, segment, group, goal and KMeans cluster, sorted by group and spend. One file per "
        f"segment group holds the same columns for that group only ({others}). They are published in "
        "the `exports/` folder beside this report (links in the reports index)."
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
