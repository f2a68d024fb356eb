"""Section "RFM over time": segment sizes per monthly snapshot (rpt_rfm_segment_sizes_monthly,
from rfm_monthly) and the from x to segment transitions of the latest pair of snapshots (the
mart rfm_segment_transitions). Transactions datasets only: customer summaries (FLO) hold no
purchase history, so they get a one-line note."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crm_analytics.report.formatting import (
    currency_for,
    dataset_block_id,
    fmt_int,
    fmt_money,
    fmt_month,
    fmt_pct,
    iso_dates,
)
from crm_analytics.report.page import SECTION_TITLES, Block, Section
from crm_analytics.report.theme import segment_colours, style_figure

# The states rfm_segment_transitions gives customers not scored at the earlier snapshot.
NOT_YET_STATES: tuple[str, ...] = ("not_yet_customer", "not_yet_scored")


def segment_order(sizes: pd.DataFrame) -> list[str]:
    """The dataset's segments in the stacking order of rpt_rfm_segment_sizes_monthly."""
    ordered = sizes.drop_duplicates("segment").sort_values(["segment_order", "segment"])
    return ordered["segment"].tolist()


def segment_sizes_figure(sizes: pd.DataFrame, dataset: str) -> go.Figure:
    """Customers per segment at every snapshot, stacked in the seed's segment order."""
    colours = segment_colours(sizes["segment"])
    fig = go.Figure()
    for segment in segment_order(sizes):
        rows = sizes[sizes["segment"] == segment].sort_values("snapshot_date")
        fig.add_trace(
            go.Scatter(
                x=iso_dates(rows["snapshot_date"]),
                y=rows["customers"].to_numpy(),
                customdata=rows["customer_share"].to_numpy(),
                name=segment,
                mode="lines",
                stackgroup="segments",
                line={"width": 0.5, "color": colours[segment]},
                fillcolor=colours[segment],
                hovertemplate=(
                    f"{segment}<br>%{{x|%d %b %Y}}: %{{y:,}} customers "
                    "(%{customdata:.1%})<extra></extra>"
                ),
            )
        )
    fig.update_xaxes(title_text="Snapshot (first day of the month; orders before it)")
    fig.update_yaxes(title_text="Scored customers (count, stacked by segment)")
    return style_figure(fig, f"{dataset}: RFM segment sizes at each monthly snapshot", 480)


def read_segment_sizes(sizes: pd.DataFrame) -> str:
    """Scored customers at the first and last snapshot, and the segments whose share grew and
    shrank the most between them."""
    snapshots = sorted(sizes["snapshot_date"].unique())
    first = sizes[sizes["snapshot_date"] == snapshots[0]].set_index("segment")
    last = sizes[sizes["snapshot_date"] == snapshots[-1]].set_index("segment")
    text = (
        f"From {fmt_month(snapshots[0])} to {fmt_month(snapshots[-1])} ({len(snapshots)} "
        f"snapshots) the scored customers went from {fmt_int(first['scored_customers'].iloc[0])} "
        f"to {fmt_int(last['scored_customers'].iloc[0])}"
    )
    if len(snapshots) > 1:
        change = (last["customer_share"] - first["customer_share"].reindex(last.index)).dropna()
        grew, shrank = change.idxmax(), change.idxmin()
        text += (
            f"; {grew} grew the most, from {fmt_pct(first.loc[grew, 'customer_share'])} to "
            f"{fmt_pct(last.loc[grew, 'customer_share'])} of them, and {shrank} shrank the most, "
            f"from {fmt_pct(first.loc[shrank, 'customer_share'])} to "
            f"{fmt_pct(last.loc[shrank, 'customer_share'])}"
        )
    return text + "."


def latest_transitions(transitions: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest pair of snapshots (one dataset's rows of rfm_segment_transitions)."""
    return transitions[transitions["from_snapshot_date"] == transitions["from_snapshot_date"].max()]


def transitions_figure(
    latest: pd.DataFrame, order: list[str], dataset: str, currency: str
) -> go.Figure:
    """From-segment (rows) x to-segment (columns): the share of each from-segment that moved to
    each to-segment; hover with customers and their revenue in the month between."""
    segments = [
        name for name in order if name in set(latest["to_segment"]) | set(latest["from_segment"])
    ]
    segments += sorted(
        (set(latest["to_segment"]) | set(latest["from_segment"]))
        - set(segments)
        - set(NOT_YET_STATES)
    )
    sources = segments + [state for state in NOT_YET_STATES if state in set(latest["from_segment"])]
    cells = latest.set_index(["from_segment", "to_segment"])
    z = np.full((len(sources), len(segments)), np.nan)
    text = [["" for _ in segments] for _ in sources]
    hover = [["" for _ in segments] for _ in sources]
    for row, source in enumerate(sources):
        for column, target in enumerate(segments):
            if (source, target) not in cells.index:
                continue
            cell = cells.loc[(source, target)]
            z[row, column] = float(cell["customer_share"]) * 100
            text[row][column] = f"{float(cell['customer_share']):.0%}"
            hover[row][column] = (
                f"{source} -> {target}: {int(cell['customers']):,} of "
                f"{int(cell['from_segment_customers']):,} customers "
                f"({float(cell['customer_share']):.1%}); revenue in the month "
                f"{fmt_money(cell['revenue'], currency)}"
            )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=segments,
            y=sources,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": {"text": "Share of from-segment (%)"}, "ticksuffix": "%"},
            xgap=1,
            ygap=1,
        )
    )
    start = latest["from_snapshot_date"].iloc[0]
    end = latest["to_snapshot_date"].iloc[0]
    fig.update_xaxes(title_text=f"Segment at {pd.Timestamp(end):%d %b %Y} (to)", type="category")
    fig.update_yaxes(
        title_text=f"Segment at {pd.Timestamp(start):%d %b %Y} (from)",
        type="category",
        autorange="reversed",
    )
    fig = style_figure(
        fig,
        f"{dataset}: where each RFM segment went, {fmt_month(start)} to {fmt_month(end)} "
        "(% of the from-segment)",
        560,
        legend=False,
    )
    fig.update_layout(margin={"l": 150, "b": 130})
    return fig


def read_transitions(latest: pd.DataFrame, order: list[str]) -> str:
    """E.g. 'From 1 Nov 2011 to 1 Dec 2011, 70% of the 150 champions stayed champions (the most
    of the others went to loyal_customers: 20%); 45 customers were new.'"""
    start = latest["from_snapshot_date"].iloc[0]
    end = latest["to_snapshot_date"].iloc[0]
    proper = latest[~latest["from_segment"].isin(NOT_YET_STATES)]
    if proper.empty:
        return f"No customer was scored at {pd.Timestamp(start):%d %b %Y}."
    sizes = proper.groupby("from_segment")["from_segment_customers"].first()
    # the top segment of the seed's order (champions by default) when it had customers
    source = next((name for name in reversed(order) if name in sizes.index), sizes.idxmax())
    rows = proper[proper["from_segment"] == source].set_index("to_segment")
    stayed = float(rows["customer_share"].get(source, 0.0))
    text = (
        f"From {pd.Timestamp(start):%d %b %Y} to {pd.Timestamp(end):%d %b %Y}, "
        f"{fmt_pct(stayed)} of the {fmt_int(sizes[source])} {source} stayed {source}"
    )
    moved = rows.drop(index=source, errors="ignore")
    if not moved.empty:
        target = moved["customer_share"].idxmax()
        text += (
            f" (most of the others went to {target}: "
            f"{fmt_pct(moved.loc[target, 'customer_share'])})"
        )
    new = latest[latest["from_segment"].isin(NOT_YET_STATES)]["customers"].sum()
    return text + f"; {fmt_int(new)} customers were scored for the first time."


def rfm_history_section(
    sizes: pd.DataFrame,
    transitions: pd.DataFrame,
    datasets: pd.DataFrame,
    currencies: Mapping[str, str] | None,
) -> Section:
    """Per transactions dataset, segment sizes over time and the latest month's transitions;
    a note for a dataset without monthly snapshots."""
    section = Section(
        "rfm-history",
        SECTION_TITLES["rfm-history"],
        "rpt_rfm_segment_sizes_monthly (from rfm_monthly): customers are RFM-scored again as of "
        "the first day of every month, from the orders before it; rfm_segment_transitions: how "
        "the customers of each segment at one snapshot are segmented at the next "
        "(not_yet_customer / not_yet_scored: customers scored for the first time).",
    )
    for dataset in datasets["dataset"]:
        rows = sizes[sizes["dataset"] == dataset]
        if rows.empty:
            section.blocks.append(
                Block(
                    dataset_block_id(section.id, dataset),
                    dataset,
                    note=(
                        f"No RFM history for {dataset}: it has no monthly snapshots (customer "
                        "summaries hold only totals, not the purchase history a snapshot needs)."
                    ),
                )
            )
            continue
        order = segment_order(rows)
        section.blocks.append(
            Block(
                dataset_block_id("rfm-sizes", dataset),
                f"{dataset}: segment sizes over time",
                reading=read_segment_sizes(rows),
                figure=segment_sizes_figure(rows, dataset),
            )
        )
        moves = transitions[transitions["dataset"] == dataset]
        if moves.empty:
            section.blocks.append(
                Block(
                    dataset_block_id("rfm-transitions", dataset),
                    f"{dataset}: segment transitions",
                    note=f"Only one snapshot in {dataset}: no transitions yet.",
                )
            )
            continue
        latest = latest_transitions(moves)
        section.blocks.append(
            Block(
                dataset_block_id("rfm-transitions", dataset),
                f"{dataset}: segment transitions, latest month",
                reading=read_transitions(latest, order),
                figure=transitions_figure(
                    latest, order, dataset, currency_for(dataset, currencies)
                ),
            )
        )
    return section
