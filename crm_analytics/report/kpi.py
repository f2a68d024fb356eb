"""Section "KPI trends": revenue, active and new customers and retention per calendar month
(the mart kpi_monthly, transactions datasets only)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crm_analytics.report.formatting import (
    currency_for,
    dataset_block_id,
    fmt_money,
    fmt_month,
    fmt_pct,
    iso_dates,
    partial_last_month,
)
from crm_analytics.report.page import SECTION_TITLES, Block, Section
from crm_analytics.report.theme import COLOURS, style_figure


def kpi_figure(
    kpi: pd.DataFrame, dataset: str, currency: str, partial_month: pd.Timestamp | None = None
) -> go.Figure:
    """Three stacked panels over calendar months: revenue, active and new customers, retention."""
    months = pd.to_datetime(kpi["calendar_month"])
    x = iso_dates(months)
    is_partial = (
        (months == partial_month).to_numpy()
        if partial_month is not None
        else np.zeros(len(x), bool)
    )
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        row_heights=[0.4, 0.3, 0.3],
        subplot_titles=(
            "Revenue per month",
            "Active and new customers per month",
            "Retention: share of last month's active customers active again",
        ),
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=kpi["revenue"].to_numpy(),
            name=f"Revenue ({currency})",
            marker_color=[COLOURS["partial"] if p else COLOURS["revenue"] for p in is_partial],
            hovertemplate="%{x|%b %Y}: %{y:,.0f} " + currency + "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=kpi["active_customers"].to_numpy(),
            name="Active customers",
            mode="lines+markers",
            line={"color": COLOURS["active"]},
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=kpi["new_customers"].to_numpy(),
            name="New customers",
            mode="lines+markers",
            line={"color": COLOURS["new"]},
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=kpi["retention_rate"].to_numpy(dtype=float, na_value=np.nan),
            name="Retention rate",
            mode="lines+markers",
            line={"color": COLOURS["retention"]},
            hovertemplate="%{x|%b %Y}: %{y:.1%}<extra></extra>",
        ),
        row=3,
        col=1,
    )
    fig.update_yaxes(title_text=f"Revenue ({currency})", tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(title_text="Customers (count)", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text="Retained (%)", tickformat=".0%", rangemode="tozero", row=3, col=1)
    fig.update_xaxes(title_text="Calendar month", row=3, col=1)
    fig.update_xaxes(dtick="M2", tick0=x[0] if x else None, tickformat="%b %Y")
    if partial_month is not None:
        for row in (1, 2, 3):
            fig.add_vrect(
                x0=(partial_month - pd.Timedelta(days=16)).strftime("%Y-%m-%d"),
                x1=(partial_month + pd.Timedelta(days=16)).strftime("%Y-%m-%d"),
                fillcolor="#cccccc",
                opacity=0.25,
                line_width=0,
                row=row,
                col=1,
            )
        fig.add_annotation(
            x=partial_month.strftime("%Y-%m-%d"),
            y=1,
            yref="y domain",
            text="partial",
            showarrow=False,
            yanchor="bottom",
            font={"size": 10, "color": "#555"},
        )
    return style_figure(fig, f"{dataset}: monthly revenue, customers and retention", 760)


def read_kpi(kpi: pd.DataFrame, currency: str, partial_month: pd.Timestamp | None = None) -> str:
    """E.g. 'Revenue peaked in Nov 2011 at GBP 54,321; on average 35% of ...'."""
    months = pd.to_datetime(kpi["calendar_month"])
    complete = kpi[months != partial_month] if partial_month is not None else kpi
    if complete.empty:
        complete = kpi
    peak = complete.loc[complete["revenue"].idxmax()]
    retention = complete["retention_rate"].dropna()
    text = (
        f"Revenue peaked in {fmt_month(peak['calendar_month'])} at "
        f"{fmt_money(peak['revenue'], currency)}"
    )
    if len(retention):
        text += (
            f"; on average {fmt_pct(retention.mean())} of a month's active customers bought "
            f"again the next month (over {len(retention)} months)"
        )
    text += "."
    if partial_month is not None:
        text += f" {fmt_month(partial_month)} is a partial month (lighter bar), left out here."
    return text


def kpi_section(
    kpi: pd.DataFrame, datasets: pd.DataFrame, currencies: Mapping[str, str] | None
) -> Section:
    """Per dataset, the KPI figure and its reading, or a note when it has no monthly KPIs."""
    section = Section(
        "kpi-trends",
        SECTION_TITLES["kpi-trends"],
        "kpi_monthly: revenue, active and new customers, and month-on-month retention per "
        "calendar month (transactions datasets only).",
    )
    for record in datasets.itertuples(index=False):
        rows = kpi[kpi["dataset"] == record.dataset]
        block_id = dataset_block_id(section.id, record.dataset)
        if rows.empty:
            section.blocks.append(
                Block(
                    block_id,
                    record.dataset,
                    note=f"No monthly KPIs for {record.dataset}: "
                    + (
                        "customer summaries have no orders by month."
                        if record.input_shape == "customer_summaries"
                        else "no months with orders."
                    ),
                )
            )
            continue
        currency = currency_for(record.dataset, currencies)
        partial = partial_last_month(record.last_order_date)
        if partial is not None and pd.Timestamp(rows["calendar_month"].max()) != partial:
            partial = None
        section.blocks.append(
            Block(
                block_id,
                record.dataset,
                reading=read_kpi(rows, currency, partial),
                figure=kpi_figure(rows, record.dataset, currency, partial),
            )
        )
    return section
