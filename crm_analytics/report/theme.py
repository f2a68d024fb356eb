"""The report's colours and the layout every figure shares."""

from __future__ import annotations

from collections.abc import Iterable

import plotly.graph_objects as go

# Light colours, so the segment names in the grid read in dark text; unknown names (the seed is
# editable) take the fallback colours in order.
SEGMENT_COLOURS: dict[str, str] = {
    "champions": "#66c2a5",
    "loyal_customers": "#b3de69",
    "potential_loyalists": "#ccebc5",
    "new_customers": "#80b1d3",
    "promising": "#bebada",
    "need_attention": "#ffffb3",
    "about_to_sleep": "#fdb462",
    "at_risk": "#fb8072",
    "cant_loose": "#fccde5",
    "hibernating": "#d9d9d9",
}
FALLBACK_COLOURS = ("#bc80bd", "#ffed6f", "#8dd3c7", "#e5c494", "#a6cee3", "#fdbf6f")
COLOURS = {
    "revenue": "#4c78a8",
    "partial": "#b6cbe0",
    "active": "#f58518",
    "new": "#54a24b",
    "retention": "#b279a2",
    "customers": "#4c78a8",
    "revenue_share": "#e45756",
    "actual": "#4c78a8",
    "expected": ("#f58518", "#54a24b", "#b279a2", "#e45756"),
}


def segment_colours(segments: Iterable[str]) -> dict[str, str]:
    """A fixed colour per segment name (case-insensitive), fallbacks for unknown names."""
    colours: dict[str, str] = {}
    spare = iter(FALLBACK_COLOURS * 10)
    for segment in sorted(set(segments)):
        colours[segment] = SEGMENT_COLOURS.get(segment.lower()) or next(spare)
    return colours


def style_figure(fig: go.Figure, title: str, height: int, legend: bool = True) -> go.Figure:
    """The shared layout: bold title top left, a horizontal legend right-aligned below it."""
    # the title on the first line of the top margin, the legend right-aligned on the second,
    # both clear of the subplot titles below them (positions in pixels from the top)
    fig.update_layout(
        title={
            "text": f"<b>{title}</b>",
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1 - 10 / height,
            "yanchor": "top",
            "font": {"size": 15},
        },
        template="plotly_white",
        height=height,
        margin={"l": 80, "r": 30, "t": 105 if legend else 75, "b": 60},
        font={"family": "Helvetica, Arial, sans-serif", "size": 12},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1 - 36 / height,
            "yanchor": "top",
            "x": 1,
            "xanchor": "right",
            "bgcolor": "rgba(255,255,255,0)",
        },
        hoverlabel={"namelength": -1},
    )
    return fig
