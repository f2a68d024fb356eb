"""Section "Cohort retention": the retention heatmap of each acquisition cohort (the mart
cohort_retention) read with the size-weighted retention curve (rpt_cohort_retention_curve);
acquisitions per month for customer-summary datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crm_analytics.report.formatting import (
    dataset_block_id,
    fmt_int,
    fmt_month,
    fmt_pct,
    iso_dates,
    partial_last_month,
)
from crm_analytics.report.page import SECTION_TITLES, Block, Section
from crm_analytics.report.theme import COLOURS, style_figure


def cohort_heatmap_figure(cohorts: pd.DataFrame, dataset: str) -> go.Figure:
    """Acquisition month (rows) x months since acquisition (columns), retention %; month 0 out."""
    later = cohorts[cohorts["months_since_acquisition"] >= 1]
    grid = later.pivot(
        index="acquisition_month", columns="months_since_acquisition", values="retention_rate"
    ).sort_index()
    sizes = cohorts.groupby("acquisition_month")["cohort_size"].max()
    labels = [
        f"{pd.Timestamp(month).strftime('%Y-%m')} (n={int(sizes.get(month, 0)):,})"
        for month in grid.index
    ]
    z = grid.to_numpy(dtype=float, na_value=np.nan) * 100
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[int(column) for column in grid.columns],
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=float(np.nanmax(z)) if np.isfinite(z).any() else 100,
            texttemplate="%{z:.0f}",
            textfont={"size": 9},
            colorbar={"title": {"text": "Retained (%)"}, "ticksuffix": "%"},
            hovertemplate=(
                "Cohort %{y}<br>month %{x} after acquisition: %{z:.1f}% active<extra></extra>"
            ),
            xgap=1,
            ygap=1,
        )
    )
    fig.update_xaxes(
        title_text="Months since acquisition (calendar months)", dtick=1, side="bottom"
    )
    fig.update_yaxes(
        title_text="Acquisition month (cohort size, customers)",
        autorange="reversed",
        type="category",
    )
    height = max(420, 20 * len(labels) + 170)
    return style_figure(
        fig, f"{dataset}: cohort retention, % of each cohort active per month", height, legend=False
    )


def read_cohorts(retention_curve: pd.DataFrame, partial_month: pd.Timestamp | None = None) -> str:
    """E.g. 'Of the customers acquired in a month, 21% buy again in the month after, ...'
    from the dataset's rows of rpt_cohort_retention_curve."""
    by_month = retention_curve.set_index("months_since_acquisition")["retention_rate"]
    picks = [month for month in (1, 3, 6, 12) if month in by_month.index]
    if not picks:
        return "No cohort has reached its second month yet."
    first, *rest = picks
    text = (
        f"Of the customers acquired in a month, {fmt_pct(by_month[first])} are active again "
        f"{first} month after"
    )
    if rest:
        text += ", " + ", ".join(
            f"{fmt_pct(by_month[month])} after {month} months" for month in rest
        )
    cohorts = int(retention_curve["cohorts"].max())
    text += f" (all {cohorts} cohorts, weighted by cohort size)."
    if partial_month is not None:
        text += f" The last diagonal, {fmt_month(partial_month)}, is a partial month."
    return text


def acquisitions_figure(cohorts: pd.DataFrame, dataset: str) -> go.Figure:
    """Customers acquired per month: what a customer-summaries dataset's cohorts can show."""
    first = cohorts[cohorts["months_since_acquisition"] == 0].sort_values("acquisition_month")
    fig = go.Figure(
        go.Bar(
            x=iso_dates(first["acquisition_month"]),
            y=first["cohort_size"].to_numpy(),
            name="Customers acquired",
            marker_color=COLOURS["customers"],
            hovertemplate="%{x|%b %Y}: %{y:,} customers<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="Acquisition month (first order)", tickformat="%b %Y")
    fig.update_yaxes(title_text="Customers acquired (count)")
    return style_figure(fig, f"{dataset}: customers acquired per month", 380, legend=False)


def read_acquisitions(cohorts: pd.DataFrame) -> str:
    """E.g. 'Customer summaries hold only first and last order dates, ... peaked in ...'."""
    first = cohorts[cohorts["months_since_acquisition"] == 0]
    if first.empty:
        return "No acquisitions."
    peak = first.loc[first["cohort_size"].idxmax()]
    return (
        f"Customer summaries hold only first and last order dates, so there is no month-by-month "
        f"retention; acquisitions peaked in {fmt_month(peak['acquisition_month'])} with "
        f"{fmt_int(peak['cohort_size'])} customers ({len(first)} months)."
    )


def cohort_section(
    cohorts: pd.DataFrame, retention_curve: pd.DataFrame, datasets: pd.DataFrame
) -> Section:
    """Per dataset, the retention heatmap (transactions) or the acquisitions per month
    (customer summaries, which have no activity by month)."""
    section = Section(
        "cohort-retention",
        SECTION_TITLES["cohort-retention"],
        "cohort_retention: customers grouped by the month of their first order; each cell is the "
        "share of the cohort with an order n months later (month 0, always 100%, is left out).",
    )
    for record in datasets.itertuples(index=False):
        rows = cohorts[cohorts["dataset"] == record.dataset]
        block_id = dataset_block_id(section.id, record.dataset)
        if rows.empty:
            section.blocks.append(
                Block(block_id, record.dataset, note=f"No cohorts for {record.dataset}.")
            )
        elif rows["active_customers"].notna().any():
            curve = retention_curve[retention_curve["dataset"] == record.dataset]
            partial = partial_last_month(record.last_order_date)
            section.blocks.append(
                Block(
                    block_id,
                    record.dataset,
                    reading=read_cohorts(curve, partial),
                    figure=cohort_heatmap_figure(rows, record.dataset),
                )
            )
        else:
            section.blocks.append(
                Block(
                    block_id,
                    record.dataset,
                    reading=read_acquisitions(rows),
                    figure=acquisitions_figure(rows, record.dataset),
                )
            )
    return section
