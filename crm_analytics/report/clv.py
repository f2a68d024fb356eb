"""Section "Customer lifetime value": the distribution and segments of the predicted CLV
(cltv_predictions.predicted_clv), from rpt_clv_summary, rpt_clv_histogram and rpt_clv_segments."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crm_analytics.report.formatting import (
    currency_for,
    dataset_block_id,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    is_finite,
)
from crm_analytics.report.page import SECTION_TITLES, Block, Section
from crm_analytics.report.theme import COLOURS, style_figure


def _log_ticks(start: float, end: float) -> tuple[list[float], list[str]]:
    """Tick positions on a log10 axis at 1, 2, 5 x powers of ten (only 1 x when wide)."""
    low, high = math.floor(start), math.ceil(end)
    multipliers = (1, 2, 5) if high - low <= 4 else (1,)
    values, labels = [], []
    for power in range(low, high + 1):
        for multiplier in multipliers:
            position = power + math.log10(multiplier)
            if start - 0.05 <= position <= end + 0.05:
                value = multiplier * 10.0**power
                values.append(position)
                labels.append(f"{value:,.0f}" if value >= 1 else f"{value:g}")
    return values, labels


def clv_histogram_figure(histogram: pd.DataFrame, dataset: str, currency: str) -> go.Figure:
    """Customers per CLV bin (a dataset's rows of rpt_clv_histogram); a skewed distribution on
    a log10 axis labelled in currency."""
    log_scale = bool(histogram["is_log_scale"].iloc[0]) if len(histogram) else False
    centres = (histogram["bin_start"] + histogram["bin_end"]) / 2
    ranges = [
        f"{low:,.2f} to {high:,.2f}"
        for low, high in zip(
            histogram["lower_predicted_clv"], histogram["upper_predicted_clv"], strict=True
        )
    ]
    fig = go.Figure(
        go.Bar(
            x=centres.to_numpy(),
            y=histogram["customers"].to_numpy(),
            width=histogram["bin_width"].to_numpy(),
            customdata=ranges,
            marker={"color": COLOURS["customers"], "line": {"color": "white", "width": 0.5}},
            name="Customers",
            hovertemplate="CLV %{customdata} " + currency + ": %{y:,} customers<extra></extra>",
        )
    )
    if log_scale and len(histogram):
        tickvals, ticktext = _log_ticks(
            float(histogram["bin_start"].min()), float(histogram["bin_end"].max())
        )
        fig.update_xaxes(
            title_text=f"Predicted CLV per customer ({currency}, log scale)",
            tickvals=tickvals,
            ticktext=ticktext,
        )
    else:
        fig.update_xaxes(title_text=f"Predicted CLV per customer ({currency})")
    fig.update_yaxes(title_text="Customers (count)")
    return style_figure(fig, f"{dataset}: distribution of predicted CLV", 400, legend=False)


def read_clv_distribution(stats: pd.Series, currency: str) -> str:
    """Median, mean and top-decile share from a dataset's row of rpt_clv_summary, and how many
    customers a log axis leaves out."""
    text = (
        f"Median predicted CLV is {fmt_money(stats['median_predicted_clv'], currency)} and the "
        f"mean {fmt_money(stats['mean_predicted_clv'], currency)}: the top 10% of customers hold "
        f"{fmt_pct(stats['top_decile_share'])} of the total"
    )
    non_positive = stats.get("non_positive_customers")
    left_out = int(non_positive) if is_finite(non_positive) and stats.get("is_log_scale") else 0
    if left_out:
        who = "customer with CLV <= 0 is" if left_out == 1 else "customers with CLV <= 0 are"
        text += f" ({left_out:,} {who} not on the log axis)"
    return text + "."


def clv_segments_figure(segments: pd.DataFrame, dataset: str, currency: str) -> go.Figure:
    """Customers, mean CLV and share of the total CLV per CLV segment (A = highest quartile),
    from a dataset's rows of rpt_clv_segments."""
    ordered = segments.sort_values("predicted_clv_segment")
    names = ordered["predicted_clv_segment"].tolist()
    fig = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.1,
        subplot_titles=(
            "Customers per segment",
            f"Mean predicted CLV ({currency})",
            "Share of the total predicted CLV",
        ),
    )
    panels = (
        (
            "customers",
            "Customers",
            COLOURS["customers"],
            [fmt_int(v) for v in ordered["customers"]],
        ),
        (
            "mean_predicted_clv",
            "Mean CLV",
            COLOURS["active"],
            [fmt_num(v, 2 if v < 100 else 0) for v in ordered["mean_predicted_clv"]],
        ),
        (
            "predicted_clv_share",
            "Share of CLV",
            COLOURS["new"],
            [fmt_pct(v) for v in ordered["predicted_clv_share"]],
        ),
    )
    for column, (field_name, name, colour, labels) in enumerate(panels, start=1):
        fig.add_trace(
            go.Bar(
                x=names,
                y=ordered[field_name].to_numpy(),
                name=name,
                marker_color=colour,
                text=labels,
                textposition="outside",
                cliponaxis=False,
                hoverinfo="x+text",
            ),
            row=1,
            col=column,
        )
    fig.update_xaxes(title_text="CLV segment (A = top quartile)")
    fig.update_yaxes(title_text="Customers (count)", row=1, col=1)
    fig.update_yaxes(title_text=f"Mean CLV ({currency})", row=1, col=2)
    fig.update_yaxes(title_text="Share of total CLV (%)", tickformat=".0%", row=1, col=3)
    fig = style_figure(fig, f"{dataset}: CLV segments", 400, legend=False)
    fig.update_layout(showlegend=False)
    return fig


def read_clv_segments(segments: pd.DataFrame, currency: str) -> str:
    """How far the top segment's mean CLV is above the bottom one's, and its share of the total."""
    indexed = segments.set_index("predicted_clv_segment")
    top, bottom = indexed.index.min(), indexed.index.max()
    if top == bottom:
        return f"All customers are in segment {top}."
    high, low = indexed.loc[top], indexed.loc[bottom]
    mean_high, mean_low = high["mean_predicted_clv"], low["mean_predicted_clv"]
    ratio = mean_high / mean_low if mean_low else np.nan
    ratio_text = f", {ratio:,.0f} times segment {bottom}'s" if is_finite(ratio) else ""
    return (
        f"Segment {top} averages {fmt_money(mean_high, currency)} per customer"
        f"{ratio_text} ({fmt_money(mean_low, currency)}), and holds "
        f"{fmt_pct(high['predicted_clv_share'])} of the predicted CLV."
    )


def clv_section(
    stats: pd.DataFrame,
    histogram: pd.DataFrame,
    segments: pd.DataFrame,
    datasets: pd.DataFrame,
    currencies: Mapping[str, str] | None,
) -> Section:
    """Per dataset, the distribution (rpt_clv_summary `stats`, rpt_clv_histogram) and the
    segments (rpt_clv_segments) of the predicted CLV, or a note when there is none."""
    section = Section(
        "clv",
        SECTION_TITLES["clv"],
        "cltv_predictions.predicted_clv: each customer's predicted CLV, the discounted expected "
        "revenue over the model horizon (BG/NBD purchases x Gamma-Gamma spend; the "
        "cltv_horizon_months var, 3 months by default), and its segment predicted_clv_segment "
        "(A = highest quartile, D = lowest); summarised in rpt_clv_summary, rpt_clv_histogram "
        "and rpt_clv_segments.",
    )
    for dataset in datasets["dataset"]:
        currency = currency_for(dataset, currencies)
        dataset_stats = stats[stats["dataset"] == dataset]
        if dataset_stats.empty:
            section.blocks.append(
                Block(dataset_block_id(section.id, dataset), dataset, note=f"No CLV for {dataset}.")
            )
            continue
        rows = histogram[histogram["dataset"] == dataset]
        section.blocks.append(
            Block(
                dataset_block_id("clv-distribution", dataset),
                f"{dataset}: CLV distribution",
                reading=read_clv_distribution(dataset_stats.iloc[0], currency),
                figure=clv_histogram_figure(rows, dataset, currency),
            )
        )
        segment_rows = segments[segments["dataset"] == dataset]
        section.blocks.append(
            Block(
                dataset_block_id("clv-segments", dataset),
                f"{dataset}: CLV segments",
                reading=read_clv_segments(segment_rows, currency),
                figure=clv_segments_figure(segment_rows, dataset, currency),
            )
        )
    return section
