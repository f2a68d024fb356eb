"""One self-contained HTML report from the marts: `make report`.

    python -m crm_analytics.report [--source published/crm.duckdb] [--out reports/crm_report.html]

The report reads a DuckDB file with the project's marts (the published copy by default, the
build database when there is none) read-only, and writes one HTML file with plotly.js inlined
once: it opens from disk with no server and no network. Sections: overview, KPI trends, cohort
retention, the RFM segment map, the segment summary, CLV, and the model checks when the
validation tables exist.

The code has three layers, each of plain functions:

* data access (``load_*``): one SQL query each, which does the aggregation, returning a DataFrame;
* figures (``*_figure``) and readings (``read_*``): a DataFrame in, a plotly figure or a one-line
  plain-language reading out;
* the page: ``render_html`` turns sections of titled blocks into the HTML document.

The currency is not in the data: ``DEFAULT_CURRENCIES`` maps the project's default dataset names
to theirs (Online Retail II: GBP, FLO: TRY), other datasets say "currency units".
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

PUBLISHED_DATABASE = Path("published/crm.duckdb")
DEFAULT_OUT = Path("reports/crm_report.html")
DEFAULT_CURRENCIES: dict[str, str] = {"online_retail": "GBP", "flo": "TRY"}
FALLBACK_CURRENCY = "currency units"
VALIDATION_BY_FREQUENCY = "cltv_validation_by_frequency"
VALIDATION_TRACKING = "cltv_validation_tracking"

# (id, title) of every section, in page order
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("kpi-trends", "KPI trends"),
    ("cohort-retention", "Cohort retention"),
    ("rfm-segment-map", "RFM segment map"),
    ("segment-summary", "Segment summary"),
    ("clv", "Customer lifetime value"),
    ("model-checks", "Model checks"),
)
SECTION_TITLES = dict(SECTIONS)

MODEL_LABELS: dict[str, str] = {
    "bgnbd": "BG/NBD",
    "pareto_nbd": "Pareto/NBD",
    "paretonbd": "Pareto/NBD",
    "gamma_gamma": "Gamma-Gamma",
}

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
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
DATASET_FILTER = "($dataset::varchar is null or dataset = $dataset)"


# --------------------------------------------------------------------------------------------
# Data access: one query each; SQL does the aggregation.
# --------------------------------------------------------------------------------------------


def _query(con: duckdb.DuckDBPyConnection, sql: str, dataset: str | None) -> pd.DataFrame:
    return con.execute(sql, {"dataset": dataset}).df()


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True when the database has a table or view of this name."""
    rows = con.execute(
        "select count(*) from information_schema.tables where table_name = $table",
        {"table": table},
    ).fetchone()
    return bool(rows and rows[0])


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The column names of a table, in order."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = $table"
        " order by ordinal_position",
        {"table": table},
    ).fetchall()
    return [row[0] for row in rows]


def load_publication(con: duckdb.DuckDBPyConnection) -> pd.Series | None:
    """Build id and time of a published copy (its `publication` table), or None."""
    rows = con.execute(
        "select build_id, max(published_at) as published_at from publication group by build_id"
        " order by published_at desc limit 1"
    ).df()
    return None if rows.empty else rows.iloc[0]


def load_datasets(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """One row per dataset: input shape, raw / clean / quarantined rows, customers, dates."""
    sql = f"""
        select
            dataset,
            input_shape,
            raw_rows::bigint as raw_rows,
            clean_rows::bigint as clean_rows,
            quarantined_rows::bigint as quarantined_rows,
            customers::bigint as customers,
            first_order_date::date as first_order_date,
            last_order_date::date as last_order_date,
            analysis_date::date as analysis_date,
            analysis_date_source
        from datasets
        where {DATASET_FILTER}
        order by case input_shape when 'transactions' then 0 else 1 end, dataset
    """
    return _query(con, sql, dataset)


def load_kpi_monthly(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """Monthly revenue, orders, active / new customers and retention (transactions datasets)."""
    sql = f"""
        select
            dataset,
            calendar_month::date as calendar_month,
            revenue,
            orders,
            active_customers,
            new_customers,
            retention_rate
        from kpi_monthly
        where {DATASET_FILTER}
        order by dataset, calendar_month
    """
    return _query(con, sql, dataset)


def load_cohort_retention(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """Cohort x months-since-acquisition cells: cohort size, active customers, retention."""
    sql = f"""
        select
            dataset,
            acquisition_month::date as acquisition_month,
            months_since_acquisition,
            cohort_size,
            active_customers,
            retention_rate
        from cohort_retention
        where {DATASET_FILTER}
        order by dataset, acquisition_month, months_since_acquisition
    """
    return _query(con, sql, dataset)


def load_retention_by_month(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """Retention after n months over all cohorts, weighted by cohort size (months >= 1)."""
    sql = f"""
        select
            dataset,
            months_since_acquisition,
            count(*) as cohorts,
            sum(cohort_size) as customers,
            sum(active_customers) / sum(cohort_size) as retention_rate
        from cohort_retention
        where {DATASET_FILTER}
            and active_customers is not null
            and months_since_acquisition >= 1
        group by dataset, months_since_acquisition
        order by dataset, months_since_acquisition
    """
    return _query(con, sql, dataset)


def load_rfm_grid(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """All 25 (recency score, frequency score) cells per dataset: segment and customers.

    The cells and their names come from the seed `rfm_segments` when the database has it
    (so empty cells keep their name), else from the scored customers themselves.
    """
    cells = (
        "select distinct recency_score, frequency_score, segment from rfm_segments"
        if table_exists(con, "rfm_segments")
        else "select distinct recency_score, frequency_score, segment from rfm"
    )
    sql = f"""
        with cells as ({cells}),
        scored_datasets as (
            select distinct dataset from rfm where {DATASET_FILTER}
        ),
        counts as (
            select dataset, recency_score, frequency_score, count(*) as customers
            from rfm
            where {DATASET_FILTER}
            group by dataset, recency_score, frequency_score
        ),
        totals as (
            select dataset, count(*) as scored_customers
            from rfm
            where {DATASET_FILTER}
            group by dataset
        )
        select
            scored_datasets.dataset,
            cells.recency_score,
            cells.frequency_score,
            cells.segment,
            coalesce(counts.customers, 0) as customers,
            coalesce(counts.customers, 0) / totals.scored_customers as customer_share
        from scored_datasets
        cross join cells
        inner join totals on scored_datasets.dataset = totals.dataset
        left join counts
            on scored_datasets.dataset = counts.dataset
            and cells.recency_score = counts.recency_score
            and cells.frequency_score = counts.frequency_score
        order by scored_datasets.dataset, cells.frequency_score, cells.recency_score
    """
    return _query(con, sql, dataset)


def load_segment_summary(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """rfm_segment_summary, largest segment first."""
    sql = f"""
        select
            dataset,
            segment,
            customers,
            customer_share,
            mean_recency,
            median_recency,
            mean_frequency,
            median_frequency,
            mean_monetary,
            median_monetary,
            revenue_share
        from rfm_segment_summary
        where {DATASET_FILTER}
        order by dataset, customers desc, segment
    """
    return _query(con, sql, dataset)


def load_clv_stats(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """Per dataset: customers, CLV mean / median / p90 / max, skewness, top-decile share."""
    sql = f"""
        with ranked as (
            select
                dataset,
                clv,
                ntile(10) over (partition by dataset order by clv desc) as decile
            from (select dataset, predicted_clv as clv, predicted_clv_segment as cltv_segment from cltv_predictions) as predictions
            where {DATASET_FILTER}
        )
        select
            dataset,
            count(*) as customers,
            count(*) filter (where clv <= 0) as non_positive,
            min(clv) as min_clv,
            max(clv) as max_clv,
            avg(clv) as mean_clv,
            quantile_cont(clv, 0.5) as median_clv,
            quantile_cont(clv, 0.9) as p90_clv,
            skewness(clv) as skewness,
            sum(clv) as total_clv,
            sum(clv) filter (where decile = 1) / nullif(sum(clv), 0) as top_decile_share
        from ranked
        group by dataset
        order by dataset
    """
    return _query(con, sql, dataset)


def load_clv_histogram(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None, bins: int = 40
) -> pd.DataFrame:
    """Histogram bins of cltv_predictions.clv per dataset, computed in SQL.

    A skewed distribution (skewness > 1, some CLV > 0) is binned on log10(clv), then customers
    with CLV <= 0 are left out (load_clv_stats counts them); otherwise on clv itself.
    Columns: dataset, log_scale, bin, bin_start, bin_end (on the binned scale, i.e. log10 when
    log_scale), bin_width, customers.
    """
    sql = f"""
        with stats as (
            select
                dataset,
                coalesce(skewness(clv), 0) > 1 and max(clv) > 0 as log_scale,
                min(clv) as lowest,
                max(clv) as highest,
                min(clv) filter (where clv > 0) as lowest_positive
            from (select dataset, predicted_clv as clv, predicted_clv_segment as cltv_segment from cltv_predictions) as predictions
            where {DATASET_FILTER}
            group by dataset
        ),
        axes as (
            select
                dataset,
                log_scale,
                case when log_scale then log10(lowest_positive) else lowest end as axis_start,
                case when log_scale then log10(highest) else highest end as axis_end
            from stats
        ),
        widths as (
            select
                *,
                coalesce(nullif((axis_end - axis_start) / $bins, 0), 1) as bin_width
            from axes
        ),
        scaled as (
            select
                widths.dataset,
                widths.log_scale,
                widths.axis_start,
                widths.bin_width,
                case
                    when not widths.log_scale then predictions.clv
                    when predictions.clv > 0 then log10(predictions.clv)
                end as x
            from (select dataset, predicted_clv as clv, predicted_clv_segment as cltv_segment from cltv_predictions) as predictions
            inner join widths on predictions.dataset = widths.dataset
        ),
        binned as (
            select
                dataset,
                log_scale,
                axis_start,
                bin_width,
                least(greatest(floor((x - axis_start) / bin_width), 0), $bins - 1)::integer
                    as bin
            from scaled
            where x is not null
        )
        select
            dataset,
            log_scale,
            bin,
            axis_start + bin * bin_width as bin_start,
            axis_start + (bin + 1) * bin_width as bin_end,
            bin_width,
            count(*) as customers
        from binned
        group by dataset, log_scale, bin, axis_start, bin_width
        order by dataset, bin
    """
    return con.execute(sql, {"dataset": dataset, "bins": bins}).df()


def load_clv_segments(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """Customers, mean and total CLV and its share per CLV segment (A = highest quartile)."""
    sql = f"""
        select
            dataset,
            cltv_segment,
            count(*) as customers,
            avg(clv) as mean_clv,
            sum(clv) as total_clv,
            sum(clv) / sum(sum(clv)) over (partition by dataset) as clv_share
        from (select dataset, predicted_clv as clv, predicted_clv_segment as cltv_segment from cltv_predictions) as predictions
        where {DATASET_FILTER}
        group by dataset, cltv_segment
        order by dataset, cltv_segment
    """
    return _query(con, sql, dataset)


def load_validation_by_frequency(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """cltv_validation_by_frequency, buckets in numeric order ('0', '1', ..., '7+')."""
    sql = f"""
        select
            dataset,
            model,
            calibration_frequency_bucket::varchar as calibration_frequency_bucket,
            customers,
            mean_actual_holdout_purchases,
            mean_predicted_holdout_purchases
        from {VALIDATION_BY_FREQUENCY}
        where {DATASET_FILTER}
        order by
            dataset,
            model,
            try_cast(regexp_extract(calibration_frequency_bucket::varchar, '^[0-9]+') as integer),
            calibration_frequency_bucket
    """
    return _query(con, sql, dataset)


def load_validation_tracking(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """cltv_validation_tracking by week; with `is_holdout` when the table has that column."""
    holdout = (
        "is_holdout"
        if "is_holdout" in table_columns(con, VALIDATION_TRACKING)
        else "null::boolean as is_holdout"
    )
    sql = f"""
        select
            dataset,
            model,
            week,
            actual_repeat_purchases,
            expected_repeat_purchases,
            actual_cumulative_repeat_purchases,
            expected_cumulative_repeat_purchases,
            {holdout}
        from {VALIDATION_TRACKING}
        where {DATASET_FILTER}
        order by dataset, model, week
    """
    return _query(con, sql, dataset)


# --------------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------------


def currency_for(dataset: str, currencies: Mapping[str, str] | None = None) -> str:
    """The dataset's currency code, or 'currency units' when it is not known."""
    mapping = DEFAULT_CURRENCIES if currencies is None else currencies
    return mapping.get(dataset, FALLBACK_CURRENCY)


def _finite(value: object) -> bool:
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def fmt_int(value: object) -> str:
    return f"{int(value):,}" if _finite(value) else "-"  # type: ignore[call-overload]


def fmt_num(value: object, digits: int = 1) -> str:
    return f"{float(value):,.{digits}f}" if _finite(value) else "-"  # type: ignore[arg-type]


def fmt_pct(value: object, digits: int = 0) -> str:
    return f"{float(value):.{digits}%}" if _finite(value) else "-"  # type: ignore[arg-type]


def fmt_money(value: object, currency: str, digits: int | None = None) -> str:
    """'GBP 1,234' (or '1,234 currency units'); two decimals below 100, none above."""
    if not _finite(value):
        return "-"
    number = float(value)  # type: ignore[arg-type]
    if digits is None:
        digits = 2 if abs(number) < 100 else 0
    text = f"{number:,.{digits}f}"
    return f"{text} {currency}" if currency == FALLBACK_CURRENCY else f"{currency} {text}"


def fmt_month(value: object) -> str:
    return pd.Timestamp(value).strftime("%b %Y")  # type: ignore[arg-type]


def model_label(model: str) -> str:
    return MODEL_LABELS.get(str(model).lower(), str(model))


def segment_colours(segments: Iterable[str]) -> dict[str, str]:
    """A fixed colour per segment name (case-insensitive), fallbacks for unknown names."""
    colours: dict[str, str] = {}
    spare = iter(FALLBACK_COLOURS * 10)
    for segment in sorted(set(segments)):
        colours[segment] = SEGMENT_COLOURS.get(segment.lower()) or next(spare)
    return colours


def _style(fig: go.Figure, title: str, height: int, legend: bool = True) -> go.Figure:
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


def _dates(values: pd.Series) -> list[str]:
    return [pd.Timestamp(value).strftime("%Y-%m-%d") for value in values]


def partial_last_month(last_order_date: object) -> pd.Timestamp | None:
    """The last calendar month with orders when the data stop before its end, else None."""
    if last_order_date is None or pd.isna(last_order_date):  # type: ignore[arg-type]
        return None
    last = pd.Timestamp(last_order_date)  # type: ignore[arg-type]
    month_end = last + pd.offsets.MonthEnd(0)
    return last.to_period("M").to_timestamp() if last.normalize() < month_end else None


# --------------------------------------------------------------------------------------------
# Figures and readings: DataFrames in, a plotly figure or one plain-language line out.
# --------------------------------------------------------------------------------------------


def kpi_figure(
    kpi: pd.DataFrame, dataset: str, currency: str, partial_month: pd.Timestamp | None = None
) -> go.Figure:
    """Three stacked panels over calendar months: revenue, active and new customers, retention."""
    months = pd.to_datetime(kpi["calendar_month"])
    x = _dates(months)
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
    return _style(fig, f"{dataset}: monthly revenue, customers and retention", 760)


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
    return _style(
        fig, f"{dataset}: cohort retention, % of each cohort active per month", height, legend=False
    )


def read_cohorts(
    retention_by_month: pd.DataFrame, partial_month: pd.Timestamp | None = None
) -> str:
    """E.g. 'Of the customers acquired in a month, 21% buy again in the month after, ...'."""
    by_month = retention_by_month.set_index("months_since_acquisition")["retention_rate"]
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
    cohorts = int(retention_by_month["cohorts"].max())
    text += f" (all {cohorts} cohorts, weighted by cohort size)."
    if partial_month is not None:
        text += f" The last diagonal, {fmt_month(partial_month)}, is a partial month."
    return text


def acquisitions_figure(cohorts: pd.DataFrame, dataset: str) -> go.Figure:
    """Customers acquired per month: what a customer-summaries dataset's cohorts can show."""
    first = cohorts[cohorts["months_since_acquisition"] == 0].sort_values("acquisition_month")
    fig = go.Figure(
        go.Bar(
            x=_dates(first["acquisition_month"]),
            y=first["cohort_size"].to_numpy(),
            name="Customers acquired",
            marker_color=COLOURS["customers"],
            hovertemplate="%{x|%b %Y}: %{y:,} customers<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="Acquisition month (first order)", tickformat="%b %Y")
    fig.update_yaxes(title_text="Customers acquired (count)")
    return _style(fig, f"{dataset}: customers acquired per month", 380, legend=False)


def read_acquisitions(cohorts: pd.DataFrame) -> str:
    first = cohorts[cohorts["months_since_acquisition"] == 0]
    if first.empty:
        return "No acquisitions."
    peak = first.loc[first["cohort_size"].idxmax()]
    return (
        f"Customer summaries hold only first and last order dates, so there is no month-by-month "
        f"retention; acquisitions peaked in {fmt_month(peak['acquisition_month'])} with "
        f"{fmt_int(peak['cohort_size'])} customers ({len(first)} months)."
    )


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
    fig = _style(
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
    fig = _style(fig, f"{dataset}: share of customers and of revenue by RFM segment", 460)
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
    """Customers per CLV bin; a skewed distribution on a log10 axis labelled in currency."""
    log_scale = bool(histogram["log_scale"].iloc[0]) if len(histogram) else False
    centres = (histogram["bin_start"] + histogram["bin_end"]) / 2
    if log_scale:
        low, high = 10 ** histogram["bin_start"], 10 ** histogram["bin_end"]
    else:
        low, high = histogram["bin_start"], histogram["bin_end"]
    ranges = [f"{a:,.2f} to {b:,.2f}" for a, b in zip(low, high, strict=True)]
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
    return _style(fig, f"{dataset}: distribution of predicted CLV", 400, legend=False)


def read_clv_distribution(stats: pd.Series, currency: str) -> str:
    text = (
        f"Median predicted CLV is {fmt_money(stats['median_clv'], currency)} and the mean "
        f"{fmt_money(stats['mean_clv'], currency)}: the top 10% of customers hold "
        f"{fmt_pct(stats['top_decile_share'])} of the total"
    )
    left_out = int(stats["non_positive"]) if _finite(stats.get("non_positive")) else 0
    if left_out:
        who = "customer with CLV <= 0 is" if left_out == 1 else "customers with CLV <= 0 are"
        text += f" ({left_out:,} {who} not on the log axis)"
    return text + "."


def clv_segments_figure(segments: pd.DataFrame, dataset: str, currency: str) -> go.Figure:
    """Customers, mean CLV and share of the total CLV per CLV segment (A = highest quartile)."""
    ordered = segments.sort_values("cltv_segment")
    names = ordered["cltv_segment"].tolist()
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
            "mean_clv",
            "Mean CLV",
            COLOURS["active"],
            [fmt_num(v, 2 if v < 100 else 0) for v in ordered["mean_clv"]],
        ),
        ("clv_share", "Share of CLV", COLOURS["new"], [fmt_pct(v) for v in ordered["clv_share"]]),
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
    fig = _style(fig, f"{dataset}: CLV segments", 400, legend=False)
    fig.update_layout(showlegend=False)
    return fig


def read_clv_segments(segments: pd.DataFrame, currency: str) -> str:
    indexed = segments.set_index("cltv_segment")
    top, bottom = indexed.index.min(), indexed.index.max()
    if top == bottom:
        return f"All customers are in segment {top}."
    high, low = indexed.loc[top], indexed.loc[bottom]
    ratio = high["mean_clv"] / low["mean_clv"] if low["mean_clv"] else np.nan
    ratio_text = f", {ratio:,.0f} times segment {bottom}'s" if _finite(ratio) else ""
    return (
        f"Segment {top} averages {fmt_money(high['mean_clv'], currency)} per customer"
        f"{ratio_text} ({fmt_money(low['mean_clv'], currency)}), and holds "
        f"{fmt_pct(high['clv_share'])} of the predicted CLV."
    )


def validation_frequency_figure(validation: pd.DataFrame, dataset: str) -> go.Figure:
    """Actual (bars) and predicted (one bar per model) mean holdout purchases per bucket of
    calibration-period repeat purchases."""
    buckets = list(dict.fromkeys(validation["calibration_frequency_bucket"]))
    models = list(dict.fromkeys(validation["model"]))
    actual = (
        validation.drop_duplicates("calibration_frequency_bucket")
        .set_index("calibration_frequency_bucket")
        .reindex(buckets)
    )
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=buckets,
            y=actual["mean_actual_holdout_purchases"].to_numpy(),
            name="Actual",
            marker_color=COLOURS["actual"],
            customdata=actual["customers"].to_numpy(),
            hovertemplate="%{x}: %{y:.2f} actual (%{customdata:,} customers)<extra></extra>",
        )
    )
    for position, model in enumerate(models):
        rows = validation[validation["model"] == model].set_index("calibration_frequency_bucket")
        rows = rows.reindex(buckets)
        fig.add_trace(
            go.Bar(
                x=buckets,
                y=rows["mean_predicted_holdout_purchases"].to_numpy(),
                name=f"Predicted, {model_label(model)}",
                marker_color=COLOURS["expected"][position % len(COLOURS["expected"])],
                hovertemplate="%{x}: %{y:.2f} predicted<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(
        title_text="Repeat purchases in the calibration period (count)", type="category"
    )
    fig.update_yaxes(title_text="Mean holdout purchases per customer (count)")
    return _style(
        fig, f"{dataset}: actual vs predicted holdout purchases by calibration frequency", 440
    )


def read_validation_frequency(validation: pd.DataFrame) -> str:
    parts = []
    for model, rows in validation.groupby("model", sort=False):
        customers = rows["customers"].sum()
        if not customers:
            continue
        actual = (rows["mean_actual_holdout_purchases"] * rows["customers"]).sum() / customers
        predicted = (rows["mean_predicted_holdout_purchases"] * rows["customers"]).sum() / customers
        gap = (predicted - actual) / actual if actual else np.nan
        gap_text = f", {gap:+.0%}" if _finite(gap) else ""
        parts.append(
            f"{model_label(model)} predicts {predicted:.2f} holdout purchases per customer vs "
            f"{actual:.2f} actual{gap_text}"
        )
    if not parts:
        return "No customers in the validation table."
    customers = int(validation.drop_duplicates("calibration_frequency_bucket")["customers"].sum())
    return f"Over {customers:,} customers, " + "; ".join(parts) + "."


def calibration_end_week(tracking: pd.DataFrame) -> float | None:
    """The boundary between the last calibration week and the first holdout week, if known."""
    if "is_holdout" not in tracking or tracking["is_holdout"].isna().all():
        return None
    holdout = tracking["is_holdout"].fillna(False).astype(bool)
    calibration_weeks = tracking.loc[~holdout, "week"]
    holdout_weeks = tracking.loc[holdout, "week"]
    if calibration_weeks.empty or holdout_weeks.empty:
        return None
    return (float(calibration_weeks.max()) + float(holdout_weeks.min())) / 2


def validation_tracking_figure(tracking: pd.DataFrame, dataset: str) -> go.Figure:
    """Cumulative (top) and weekly (bottom) repeat purchases, actual vs expected per model, with
    the calibration end marked when the table says which weeks are holdout."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.6, 0.4],
        subplot_titles=("Cumulative repeat purchases", "Repeat purchases per week"),
    )
    models = list(dict.fromkeys(tracking["model"]))
    actual = tracking[tracking["model"] == models[0]]
    for row, column in ((1, "actual_cumulative_repeat_purchases"), (2, "actual_repeat_purchases")):
        fig.add_trace(
            go.Scatter(
                x=actual["week"].to_numpy(),
                y=actual[column].to_numpy(),
                name="Actual",
                legendgroup="actual",
                showlegend=row == 1,
                mode="lines",
                line={"color": COLOURS["actual"], "width": 2.5},
            ),
            row=row,
            col=1,
        )
    for position, model in enumerate(models):
        rows = tracking[tracking["model"] == model]
        colour = COLOURS["expected"][position % len(COLOURS["expected"])]
        for row, column in (
            (1, "expected_cumulative_repeat_purchases"),
            (2, "expected_repeat_purchases"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=rows["week"].to_numpy(),
                    y=rows[column].to_numpy(),
                    name=f"Expected, {model_label(model)}",
                    legendgroup=str(model),
                    showlegend=row == 1,
                    mode="lines",
                    line={"color": colour, "dash": "dash", "width": 2},
                ),
                row=row,
                col=1,
            )
    boundary = calibration_end_week(tracking)
    if boundary is not None:
        for row in (1, 2):
            fig.add_vline(
                x=boundary, line={"color": "#555", "dash": "dot", "width": 1.5}, row=row, col=1
            )
        fig.add_annotation(
            x=boundary,
            y=1,
            yref="y domain",
            text="calibration end",
            showarrow=False,
            xanchor="right",
            yanchor="top",
            xshift=-4,
            font={"size": 11, "color": "#555"},
        )
    fig.update_yaxes(title_text="Repeat purchases (count)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="Per week (count)", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="Week since the first purchase in the data (weeks)", row=2, col=1)
    return _style(fig, f"{dataset}: tracking repeat purchases, actual vs expected", 620)


def read_validation_tracking(tracking: pd.DataFrame) -> str:
    parts = []
    boundary = calibration_end_week(tracking)
    for model, rows in tracking.groupby("model", sort=False):
        last = rows.sort_values("week").iloc[-1]
        actual = float(last["actual_cumulative_repeat_purchases"])
        expected = float(last["expected_cumulative_repeat_purchases"])
        gap = f" ({(expected - actual) / actual:+.1%})" if actual else ""
        part = (
            f"by week {int(last['week'])} {model_label(model)} expects {expected:,.0f} cumulative "
            f"repeat purchases vs {actual:,.0f} actual{gap}"
        )
        if boundary is not None:
            holdout = rows[rows["week"] > boundary]
            holdout_actual = float(holdout["actual_repeat_purchases"].sum())
            holdout_expected = float(holdout["expected_repeat_purchases"].sum())
            part += (
                f"; in the {len(holdout)} holdout weeks {holdout_expected:,.0f} expected vs "
                f"{holdout_actual:,.0f} actual"
            )
        parts.append(part)
    if not parts:
        return "No weeks in the tracking table."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


@dataclass
class Block:
    """One titled element of a section: a figure, an HTML table or a note, with its reading."""

    id: str
    heading: str
    reading: str = ""
    figure: go.Figure | None = None
    table_html: str = ""
    note: str = ""


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    blocks: list[Block] = field(default_factory=list)


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    row_attributes: Iterable[Mapping[str, str]] | None = None,
    numeric: Sequence[bool] | None = None,
) -> str:
    """A plain HTML table; every value is escaped."""
    numeric = list(numeric or [False] * len(columns))
    head = "".join(
        f'<th class="{"num" if numeric[i] else ""}">{html.escape(name)}</th>'
        for i, name in enumerate(columns)
    )
    attributes = iter(row_attributes) if row_attributes is not None else None
    body = []
    for row in rows:
        extra = ""
        if attributes is not None:
            extra = "".join(
                f' data-{html.escape(key)}="{html.escape(value)}"'
                for key, value in next(attributes).items()
            )
        cells = "".join(
            f'<td class="{"num" if numeric[i] else ""}">{html.escape(str(value))}</td>'
            for i, value in enumerate(row)
        )
        body.append(f"<tr{extra}>{cells}</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --accent: #2f6690; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 Helvetica, Arial, sans-serif; color: var(--ink);
       background: #f5f7fa; }
header { background: #243b53; color: #fff; padding: 24px 40px 16px; }
header h1 { margin: 0 0 6px; font-size: 26px; }
header p { margin: 2px 0; color: #d9e2ec; font-size: 13px; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 40px; }
nav a { margin-right: 18px; color: var(--accent); text-decoration: none; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px;
          margin: 24px 0; padding: 8px 24px 16px; }
section h2 { border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
.intro { color: var(--muted); }
.block { margin: 18px 0 26px; }
.block h3 { margin: 12px 0 4px; font-size: 17px; }
.reading { margin: 4px 0 8px; padding: 6px 10px; background: #eef4f8;
           border-left: 4px solid var(--accent); }
.note { margin: 8px 0; padding: 6px 10px; background: #fff8e1; border-left: 4px solid #f0b429; }
.figure { width: 100%; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 8px;
                               text-align: left; }
table.data th { background: #f0f4f8; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 16px; }
"""

# No network at all: the page may run only its own inline scripts and styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


def render_html(
    title: str,
    subtitle_lines: Sequence[str],
    sections: Sequence[Section],
    notes: Sequence[tuple[str, str]] = (),
) -> str:
    """The whole document: plotly.js inlined once in the head, one div per figure.

    `notes` are (id, text) pairs shown under the navigation (e.g. why a section is missing).
    """
    nav = "".join(
        f'<a href="#{html.escape(section.id)}">{html.escape(section.title)}</a>'
        for section in sections
    )
    note_html = "".join(
        f'<p class="note" id="{html.escape(note_id)}">{html.escape(text)}</p>'
        for note_id, text in notes
    )
    parts = []
    for number, section in enumerate(sections, start=1):
        blocks = []
        for block in section.blocks:
            content = ""
            if block.reading:
                content += f'<p class="reading">{html.escape(block.reading)}</p>'
            if block.note:
                content += f'<p class="note">{html.escape(block.note)}</p>'
            if block.figure is not None:
                figure_html = block.figure.to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    config=PLOT_CONFIG,
                    div_id=f"fig-{block.id}",
                    default_height=f"{block.figure.layout.height or 450}px",
                )
                content += f'<div class="figure">{figure_html}</div>'
            content += block.table_html
            heading = f"<h3>{html.escape(block.heading)}</h3>" if block.heading else ""
            block_id = html.escape(block.id)
            blocks.append(f'<div class="block" id="{block_id}">{heading}{content}</div>')
        intro = f'<p class="intro">{html.escape(section.intro)}</p>' if section.intro else ""
        parts.append(
            f'<section id="{html.escape(section.id)}"><h2>{number}. {html.escape(section.title)}'
            f"</h2>{intro}{''.join(blocks)}</section>"
        )
    subtitle = "".join(f"<p>{html.escape(line)}</p>" for line in subtitle_lines)
    # A "</script" inside the library would end the script element early.
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
<script type="text/javascript">window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script type="text/javascript">/* plotly.js, inlined by plotly {plotly.__version__} */
{plotly_js}</script>
</head>
<body>
<header><h1>{html.escape(title)}</h1>{subtitle}</header>
<nav>{nav}</nav>
<main>
{note_html}
{"".join(parts)}
</main>
<footer>Made by crm_analytics.report with plotly {plotly.__version__}.</footer>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _block_id(section_id: str, dataset: str) -> str:
    return f"{section_id}-{dataset}"


def overview_section(datasets: pd.DataFrame) -> Section:
    rows = []
    for record in datasets.itertuples(index=False):
        quarantined_share = record.quarantined_rows / record.raw_rows if record.raw_rows else 0
        rows.append(
            (
                record.dataset,
                str(record.input_shape).replace("_", " "),
                fmt_int(record.raw_rows),
                fmt_int(record.clean_rows),
                f"{fmt_int(record.quarantined_rows)} ({fmt_pct(quarantined_share, 1)})",
                fmt_int(record.customers),
                f"{record.first_order_date:%Y-%m-%d} to {record.last_order_date:%Y-%m-%d}",
                f"{record.analysis_date:%Y-%m-%d}",
            )
        )
    table = html_table(
        (
            "Dataset",
            "Input",
            "Raw rows",
            "Clean rows",
            "Quarantined rows",
            "Customers",
            "Orders from - to",
            "Analysis date",
        ),
        rows,
        row_attributes=({"dataset": name} for name in datasets["dataset"]),
        numeric=(False, False, True, True, True, True, False, False),
    )
    descriptions = []
    for record in datasets.itertuples(index=False):
        share = record.quarantined_rows / record.raw_rows if record.raw_rows else 0
        descriptions.append(
            f"{record.dataset} ({fmt_int(record.customers)} customers, "
            f"{fmt_pct(share, 1)} of raw rows quarantined, as of {record.analysis_date:%Y-%m-%d})"
        )
    reading = (
        f"{len(datasets)} dataset{'s' if len(datasets) != 1 else ''}: "
        + "; ".join(descriptions)
        + "."
    )
    return Section(
        "overview",
        SECTION_TITLES["overview"],
        "What the database holds: each dataset's rows (raw = clean + quarantined), customers and "
        "the date every analysis is made as of.",
        [Block("overview-datasets", "Datasets", reading=reading, table_html=table)],
    )


def kpi_section(
    kpi: pd.DataFrame, datasets: pd.DataFrame, currencies: Mapping[str, str] | None
) -> Section:
    section = Section(
        "kpi-trends",
        SECTION_TITLES["kpi-trends"],
        "kpi_monthly: revenue, active and new customers, and month-on-month retention per "
        "calendar month (transactions datasets only).",
    )
    for record in datasets.itertuples(index=False):
        rows = kpi[kpi["dataset"] == record.dataset]
        block_id = _block_id(section.id, record.dataset)
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


def cohort_section(
    cohorts: pd.DataFrame, retention_by_month: pd.DataFrame, datasets: pd.DataFrame
) -> Section:
    section = Section(
        "cohort-retention",
        SECTION_TITLES["cohort-retention"],
        "cohort_retention: customers grouped by the month of their first order; each cell is the "
        "share of the cohort with an order n months later (month 0, always 100%, is left out).",
    )
    for record in datasets.itertuples(index=False):
        rows = cohorts[cohorts["dataset"] == record.dataset]
        block_id = _block_id(section.id, record.dataset)
        if rows.empty:
            section.blocks.append(
                Block(block_id, record.dataset, note=f"No cohorts for {record.dataset}.")
            )
        elif rows["active_customers"].notna().any():
            by_month = retention_by_month[retention_by_month["dataset"] == record.dataset]
            partial = partial_last_month(record.last_order_date)
            section.blocks.append(
                Block(
                    block_id,
                    record.dataset,
                    reading=read_cohorts(by_month, partial),
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


def rfm_map_section(grid: pd.DataFrame, summary: pd.DataFrame, datasets: pd.DataFrame) -> Section:
    section = Section(
        "rfm-segment-map",
        SECTION_TITLES["rfm-segment-map"],
        "rfm: every scored customer sits in one cell of the recency score (x) by frequency score "
        "(y) grid; the seed rfm_segments names each cell. Each cell shows its segment and its "
        "customers.",
    )
    for dataset in datasets["dataset"]:
        rows = grid[grid["dataset"] == dataset]
        block_id = _block_id(section.id, dataset)
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
    section = Section(
        "segment-summary",
        SECTION_TITLES["segment-summary"],
        "rfm_segment_summary: each segment's size, typical recency (days since the last order), "
        "frequency (orders) and monetary value, and its share of revenue.",
    )
    for dataset in datasets["dataset"]:
        rows = summary[summary["dataset"] == dataset]
        block_id = _block_id(section.id, dataset)
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


def clv_section(
    stats: pd.DataFrame,
    histogram: pd.DataFrame,
    segments: pd.DataFrame,
    datasets: pd.DataFrame,
    currencies: Mapping[str, str] | None,
) -> Section:
    section = Section(
        "clv",
        SECTION_TITLES["clv"],
        "cltv_predictions: each customer's predicted CLV, the discounted expected revenue over "
        "the model horizon (BG/NBD purchases x Gamma-Gamma spend; the cltv_horizon_months var, "
        "3 months by default), and its CLV segment (A = highest quartile, D = lowest).",
    )
    for dataset in datasets["dataset"]:
        currency = currency_for(dataset, currencies)
        dataset_stats = stats[stats["dataset"] == dataset]
        if dataset_stats.empty:
            section.blocks.append(
                Block(_block_id(section.id, dataset), dataset, note=f"No CLV for {dataset}.")
            )
            continue
        rows = histogram[histogram["dataset"] == dataset]
        section.blocks.append(
            Block(
                _block_id("clv-distribution", dataset),
                f"{dataset}: CLV distribution",
                reading=read_clv_distribution(dataset_stats.iloc[0], currency),
                figure=clv_histogram_figure(rows, dataset, currency),
            )
        )
        segment_rows = segments[segments["dataset"] == dataset]
        section.blocks.append(
            Block(
                _block_id("clv-segments", dataset),
                f"{dataset}: CLV segments",
                reading=read_clv_segments(segment_rows, currency),
                figure=clv_segments_figure(segment_rows, dataset, currency),
            )
        )
    return section


def model_checks_section(
    by_frequency: pd.DataFrame | None, tracking: pd.DataFrame | None, datasets: pd.DataFrame
) -> Section:
    section = Section(
        "model-checks",
        SECTION_TITLES["model-checks"],
        "The predictive models refitted on a calibration period and compared with what the "
        "customers then did in the holdout period.",
    )
    tables = ((VALIDATION_BY_FREQUENCY, by_frequency), (VALIDATION_TRACKING, tracking))
    missing = [name for name, table in tables if table is None]
    if missing:
        section.blocks.append(
            Block("model-checks-missing", "", note=f"Not in this database: {', '.join(missing)}.")
        )
    for dataset in datasets["dataset"]:
        if by_frequency is not None:
            rows = by_frequency[by_frequency["dataset"] == dataset]
            if not rows.empty:
                section.blocks.append(
                    Block(
                        _block_id("model-checks-frequency", dataset),
                        f"{dataset}: actual vs predicted by calibration frequency",
                        reading=read_validation_frequency(rows),
                        figure=validation_frequency_figure(rows, dataset),
                    )
                )
        if tracking is not None:
            rows = tracking[tracking["dataset"] == dataset]
            if not rows.empty:
                section.blocks.append(
                    Block(
                        _block_id("model-checks-tracking", dataset),
                        f"{dataset}: tracking cumulative repeat purchases",
                        reading=read_validation_tracking(rows),
                        figure=validation_tracking_figure(rows, dataset),
                    )
                )
    return section


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def resolve_source(source: Path | None = None) -> tuple[Path, str | None]:
    """The database to read and, when it is not the one asked for, a note saying so.

    No source given: the published copy `published/crm.duckdb`; when that is absent, the build
    database (`CRM_DUCKDB_PATH`, default `crm.duckdb`).
    """
    if source is not None:
        return source, None
    if PUBLISHED_DATABASE.is_file():
        return PUBLISHED_DATABASE, None
    build = Path(os.environ.get("CRM_DUCKDB_PATH") or "crm.duckdb")
    return build, (
        f"{PUBLISHED_DATABASE} not found: reading the build database {build} instead "
        "(it must not be open in a dbt build while the report reads it)."
    )


def build_report(
    source: Path,
    out: Path,
    dataset: str | None = None,
    *,
    currencies: Mapping[str, str] | None = None,
    source_note: str | None = None,
) -> Path:
    """Read the marts in `source` (DuckDB, read-only) and write the HTML report to `out`.

    `dataset` limits the report to one dataset; `currencies` maps dataset names to currency
    codes for the labels (default DEFAULT_CURRENCIES; others say 'currency units').
    """
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}: run `make run` (or publish) first")
    try:
        con = duckdb.connect(str(source), read_only=True)
    except duckdb.IOException as error:
        raise RuntimeError(
            f"cannot open {source} read-only (is a dbt build writing it?): {error}"
        ) from error
    with con:
        datasets = load_datasets(con, dataset)
        if datasets.empty:
            known = load_datasets(con)["dataset"].tolist()
            raise ValueError(f"dataset {dataset!r} is not in {source}; it has {known}")
        has = {name: table_exists(con, name) for name in _TABLES}
        sections = [overview_section(datasets)]
        notes: list[tuple[str, str]] = []
        if source_note:
            notes.append(("source-note", source_note))
        if has["kpi_monthly"]:
            sections.append(kpi_section(load_kpi_monthly(con, dataset), datasets, currencies))
        if has["cohort_retention"]:
            sections.append(
                cohort_section(
                    load_cohort_retention(con, dataset),
                    load_retention_by_month(con, dataset),
                    datasets,
                )
            )
        summary = (
            load_segment_summary(con, dataset)
            if has["rfm_segment_summary"]
            else pd.DataFrame(columns=["dataset", "segment", "customer_share", "revenue_share"])
        )
        if has["rfm"]:
            sections.append(rfm_map_section(load_rfm_grid(con, dataset), summary, datasets))
        if has["rfm_segment_summary"]:
            sections.append(segment_summary_section(summary, datasets, currencies))
        if has["cltv_predictions"]:
            sections.append(
                clv_section(
                    load_clv_stats(con, dataset),
                    load_clv_histogram(con, dataset),
                    load_clv_segments(con, dataset),
                    datasets,
                    currencies,
                )
            )
        by_frequency = (
            load_validation_by_frequency(con, dataset) if has[VALIDATION_BY_FREQUENCY] else None
        )
        tracking = load_validation_tracking(con, dataset) if has[VALIDATION_TRACKING] else None
        if by_frequency is not None or tracking is not None:
            sections.append(model_checks_section(by_frequency, tracking, datasets))
        else:
            notes.append(
                (
                    "model-checks-note",
                    f"Model checks are left out: this database has neither "
                    f"{VALIDATION_BY_FREQUENCY} nor {VALIDATION_TRACKING}.",
                )
            )
        publication = load_publication(con) if table_exists(con, "publication") else None
        for name in ("kpi_monthly", "cohort_retention", "rfm", "rfm_segment_summary"):
            if not has[name]:
                notes.append((f"missing-{name}", f"{name} is not in this database."))
        if not has["cltv_predictions"]:
            notes.append(("missing-cltv_predictions", "cltv_predictions is not in this database."))
    generated = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    modified = dt.datetime.fromtimestamp(source.stat().st_mtime).astimezone()
    published = (
        f"publication {publication['build_id']} of "
        f"{pd.Timestamp(publication['published_at']):%Y-%m-%d %H:%M}"
        if publication is not None
        else f"modified {modified:%Y-%m-%d %H:%M}"
    )
    subtitle = [
        f"Source: {source} ({published}); generated {generated}.",
        "Datasets: "
        + ", ".join(f"{name} ({currency_for(name, currencies)})" for name in datasets["dataset"])
        + ".",
    ]
    document = render_html("CRM analytics report", subtitle, sections, notes)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    return out


_TABLES = (
    "kpi_monthly",
    "cohort_retention",
    "rfm",
    "rfm_segment_summary",
    "cltv_predictions",
    VALIDATION_BY_FREQUENCY,
    VALIDATION_TRACKING,
)


def figure_count(document: str) -> int:
    """How many plotly figures a report holds (each one is a plotly-graph-div)."""
    return document.count('class="plotly-graph-div"')


def _parse_currency(text: str) -> tuple[str, str]:
    name, separator, code = text.partition("=")
    if not separator or not name or not code:
        raise argparse.ArgumentTypeError(f"expected DATASET=CURRENCY, got {text!r}")
    return name, code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.report",
        description="Write one self-contained HTML report from the project's marts.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help=f"DuckDB file with the marts (default {PUBLISHED_DATABASE}; when absent, the build "
        "database CRM_DUCKDB_PATH or crm.duckdb)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--dataset", default=None, help="only this dataset (default: all)")
    parser.add_argument(
        "--currency",
        action="append",
        type=_parse_currency,
        default=[],
        metavar="DATASET=CODE",
        help="currency label of a dataset, e.g. online_retail=GBP (repeatable; defaults "
        + json.dumps(DEFAULT_CURRENCIES)
        + ")",
    )
    args = parser.parse_args(argv)
    source, note = resolve_source(args.source)
    if note:
        print(note, file=sys.stderr)
    currencies = {**DEFAULT_CURRENCIES, **dict(args.currency)}
    try:
        out = build_report(source, args.out, args.dataset, currencies=currencies, source_note=note)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    document = out.read_text(encoding="utf-8")
    print(
        f"wrote {out} ({figure_count(document)} figures, {len(document.encode()) / 1e6:.1f} MB) "
        f"from {source}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
