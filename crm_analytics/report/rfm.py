"""Sections "RFM segment map" (rpt_rfm_segment_map: the recency x frequency score grid with
each cell's segment and customers) and "Segment summary" (the mart rfm_segment_summary)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crm_analytics.report.formatting import (
    currency_for,
    dataset_block_id,
    fmt_int,
    fmt_num,
    fmt_pct,
)
from crm_analytics.report.page import SECTION_TITLES, Block, Section, html_table
from crm_analytics.report.theme import COLOURS, segment_colours, style_figure


def rfm_map_figure(grid: pd.DataFrame, dataset: str) -> go.Figure:
    """The 5 x 5 recency (x) by frequency (y) score grid, each cell coloured by its segment and
    labelled with the segment name and its customers."""
    recency = sorted(int(value) for value in grid["recency_score"].unique())
    frequency = sorted(int(value) for value in grid["frequency_score"].unique())
    colours = segment_colours(grid["segment"])
    names = list(colours)
    index = {name: position for position, name in enumerate(names)}
    cells = grid.set_index(["frequency_score", "recency_score"])
    z = np.full((len(frequency), len(recency)), np.nan)
    text = [["" for _ in recency] for _ in frequency]
    hover = [["" for _ in recency] for _ in frequency]
    for row, f_score in enumerate(frequency):
        for column, r_score in enumerate(recency):
            if (f_score, r_score) not in cells.index:
                continue
            cell = cells.loc[(f_score, r_score)]
            z[row, column] = index[cell["segment"]]
            text[row][column] = f"<b>{cell['segment']}</b><br>{int(cell['customers']):,}"
            hover[row][column] = (
                f"{cell['segment']}<br>R{r_score} F{f_score}: {int(cell['customers']):,} "
                f"customers ({float(cell['customer_share']):.1%})"
            )
    steps = len(names)
    colorscale = []
    for position, name in enumerate(names):
        colorscale += [[position / steps, colours[name]], [(position + 1) / steps, colours[name]]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=recency,
            y=frequency,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            textfont={"size": 12, "color": "#1a1a1a"},
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=colorscale,
            zmin=-0.5,
            zmax=steps - 0.5,
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    fig.update_xaxes(
        title_text="Recency score (quintile: 1 = longest ago, 5 = most recent)",
        tickvals=recency,
        ticktext=[f"R{score}" for score in recency],
        showgrid=False,
    )
    fig.update_yaxes(
        title_text="Frequency score (quintile: 1 = fewest orders, 5 = most)",
        tickvals=frequency,
        ticktext=[f"F{score}" for score in frequency],
        showgrid=False,
    )
    # a legend of the segments with their sizes (the heatmap itself has no legend entries)
    totals = grid.groupby("segment")["customers"].sum()
    scored = totals.sum()
    for name in sorted(names, key=lambda segment: -int(totals.get(segment, 0))):
        customers = int(totals.get(name, 0))
        share = customers / scored if scored else 0
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 13, "color": colours[name]},
                name=f"{name}: {customers:,} ({share:.0%})",
                hoverinfo="skip",
            )
        )
    fig = style_figure(
        fig,
        f"{dataset}: RFM segment map, customers per recency x frequency cell",
        600,
        legend=False,
    )
    fig.update_layout(
        legend={
            "orientation": "v",
            "yref": "paper",
            "y": 1,
            "x": 1.02,
            "xanchor": "left",
            "title": {"text": "Segment: customers"},
        },
        margin={"r": 10},
    )
    return fig


def read_rfm_map(grid: pd.DataFrame, summary: pd.DataFrame) -> str:
    """The largest segment, and the segment that brings the most revenue."""
    sizes = grid.groupby("segment")["customers"].sum().sort_values(ascending=False)
    total = sizes.sum()
    largest = sizes.index[0]
    text = (
        f"The largest segment is {largest} with {fmt_int(sizes.iloc[0])} customers "
        f"({fmt_pct(sizes.iloc[0] / total if total else np.nan)})"
    )
    if not summary.empty:
        top = summary.loc[summary["revenue_share"].idxmax()]
        text += (
            f"; {top['segment']} bring the most revenue: {fmt_pct(top['revenue_share'])} of it "
            f"from {fmt_pct(top['customer_share'])} of the scored customers"
        )
    return text + "."


def segment_share_figure(summary: pd.DataFrame, dataset: str) -> go.Figure:
    """Share of customers and share of revenue per segment, side by side."""
    ordered = summary.sort_values("customers")
    fig = go.Figure()
    # horizontal groups stack their bars bottom-up: revenue first puts customers on top
    fig.add_trace(
        go.Bar(
            y=ordered["segment"].tolist(),
            x=ordered["revenue_share"].to_numpy(),
            name="Share of revenue",
            orientation="h",
            marker_color=COLOURS["revenue_share"],
            hovertemplate="%{y}: %{x:.1%} of revenue<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=ordered["segment"].tolist(),
            x=ordered["customer_share"].to_numpy(),
            name="Share of customers",
            orientation="h",
            marker_color=COLOURS["customers"],
            hovertemplate="%{y}: %{x:.1%} of customers<extra></extra>",
        )
    )
    fig.update_layout(barmode="group", legend={"traceorder": "reversed"})
    fig.update_xaxes(
        title_text="Share of the dataset's scored customers / revenue (%)", tickformat=".0%"
    )
    fig.update_yaxes(title_text="RFM segment")
    fig = style_figure(fig, f"{dataset}: share of customers and of revenue by RFM segment", 460)
    fig.update_layout(margin={"l": 150})
    return fig


def read_segment_shares(summary: pd.DataFrame) -> str:
    """The segments whose revenue share is the furthest above and below their customer share."""
    if summary.empty:
        return "No scored customers."
    ratio = summary["revenue_share"] / summary["customer_share"]
    best = summary.loc[ratio.idxmax()]
    worst = summary.loc[ratio.idxmin()]
    return (
        f"{best['segment']} bring {fmt_pct(best['revenue_share'])} of revenue from "
        f"{fmt_pct(best['customer_share'])} of customers; {worst['segment']} "
        f"{fmt_pct(worst['revenue_share'])} from {fmt_pct(worst['customer_share'])}."
    )


def rfm_map_section(grid: pd.DataFrame, summary: pd.DataFrame, datasets: pd.DataFrame) -> Section:
    """Per dataset, the segment map from rpt_rfm_segment_map (`grid`), read with the segment
    summary, or a note when the dataset has no scored customers."""
    section = Section(
        "rfm-segment-map",
        SECTION_TITLES["rfm-segment-map"],
        "rpt_rfm_segment_map: every scored customer of rfm sits in one cell of the recency score "
        "(x) by frequency score (y) grid; the seed rfm_segments names each cell. Each cell shows "
        "its segment and its customers.",
    )
    for dataset in datasets["dataset"]:
        rows = grid[grid["dataset"] == dataset]
        block_id = dataset_block_id(section.id, dataset)
        if rows.empty or rows["customers"].sum() == 0:
            section.blocks.append(
                Block(block_id, dataset, note=f"No RFM-scored customers in {dataset}.")
            )
            continue
        section.blocks.append(
            Block(
                block_id,
                dataset,
                reading=read_rfm_map(rows, summary[summary["dataset"] == dataset]),
                figure=rfm_map_figure(rows, dataset),
            )
        )
    return section


def segment_summary_section(
    summary: pd.DataFrame, datasets: pd.DataFrame, currencies: Mapping[str, str] | None
) -> Section:
    """Per dataset, the shares figure and the table of rfm_segment_summary."""
    section = Section(
        "segment-summary",
        SECTION_TITLES["segment-summary"],
        "rfm_segment_summary: each segment's size, typical recency (days since the last order), "
        "frequency (orders) and monetary value, and its share of revenue.",
    )
    for dataset in datasets["dataset"]:
        rows = summary[summary["dataset"] == dataset]
        block_id = dataset_block_id(section.id, dataset)
        if rows.empty:
            section.blocks.append(Block(block_id, dataset, note=f"No segments in {dataset}."))
            continue
        currency = currency_for(dataset, currencies)
        table = html_table(
            (
                "Segment",
                "Customers",
                "Share of customers",
                "Recency, days (mean / median)",
                "Frequency, orders (mean / median)",
                f"Monetary, {currency} (mean / median)",
                "Share of revenue",
            ),
            [
                (
                    record.segment,
                    fmt_int(record.customers),
                    fmt_pct(record.customer_share, 1),
                    f"{fmt_num(record.mean_recency)} / {fmt_num(record.median_recency)}",
                    f"{fmt_num(record.mean_frequency)} / {fmt_num(record.median_frequency)}",
                    f"{fmt_num(record.mean_monetary, 2)} / {fmt_num(record.median_monetary, 2)}",
                    fmt_pct(record.revenue_share, 1),
                )
                for record in rows.itertuples(index=False)
            ],
            row_attributes=({"dataset": dataset, "segment": name} for name in rows["segment"]),
            numeric=(False, True, True, True, True, True, True),
        )
        section.blocks.append(
            Block(
                block_id,
                dataset,
                reading=read_segment_shares(rows),
                figure=segment_share_figure(rows, dataset),
                table_html=table,
            )
        )
    return section
