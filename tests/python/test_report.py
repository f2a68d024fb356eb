"""`make report`: one self-contained HTML file from the marts (the package crm_analytics.report).

The sample is built once for the module (dbt_build); the report is made from it, and from a copy
with small fake model-validation tables in the validation marts' schema. The rpt_ marts the
report reads (models/marts/reporting) are checked against pandas computations of their own from
the base marts (cohort_retention, rfm, cltv_predictions) and the seed file. The last test opens
the report in headless Chromium (Debian's, via playwright), fails on any console error or page
error or any request that leaves the file, waits for every plotly figure to render and saves a
full-page screenshot (printed path; CRM_REPORT_ARTIFACTS=dir keeps it somewhere fixed).
"""

from __future__ import annotations

import ast
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PROJECT_DIR, DbtResult, dbt_build
from plotly.offline import get_plotlyjs

from crm_analytics import report
from crm_analytics.report import clv, data, formatting, model_checks
from crm_analytics.report.__main__ import main as report_main

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "the report's browser test needs Debian's Chromium at /usr/bin/chromium: `make browser` "
    "(apt-get install -y --no-install-recommends chromium); never `playwright install`"
)
# The marts the report reads (and everything they need): the model-validation marts are left
# out, so the "absent" case is the sample build itself and fake tables stand for them.
REPORT_MARTS = (
    "+datasets +kpi_monthly +cohort_retention +rfm_segment_summary +rpt_cohort_retention_curve"
    " +rpt_rfm_segment_map +rpt_clv_summary +rpt_clv_histogram +rpt_clv_segments"
    " +rpt_rfm_segment_sizes_monthly +rfm_segment_transitions"
    " +cltv_validation_summary +cltv_model_parameters"
)
PACKAGE_DIR = PROJECT_DIR / "crm_analytics" / "report"
SECTION_IDS = [section_id for section_id, _ in report.SECTIONS]
ALWAYS = [section_id for section_id in SECTION_IDS if section_id != "model-checks"]


# Run in the page: what is wrong with each plotly figure. Titles are read from the figure's own
# layout (plotly's full layout fills a missing title with a "Click to enter ... title" stub);
# an x axis matched to another one (stacked panels) shows no labels and needs no title.
FIGURE_PROBLEMS = """() => [...document.querySelectorAll('.plotly-graph-div')].flatMap(gd => {
    const full = gd._fullLayout;
    if (!full || !gd._fullData || gd._fullData.length === 0) return [gd.id + ': not drawn'];
    const out = [];
    const text = (part) => (part && part.title && part.title.text) || '';
    if (!text(gd.layout).trim()) out.push(gd.id + ': no title');
    for (const key of Object.keys(full).filter((name) => /^[xy]axis\\d*$/.test(name))) {
        const axis = full[key];
        if (axis.visible === false || !axis.showticklabels || axis.matches) continue;
        if (!text(gd.layout[key]).trim()) out.push(gd.id + ': ' + key + ' has no title');
    }
    if (gd.querySelector('.main-svg').getBoundingClientRect().height < 200) {
        out.push(gd.id + ': smaller than 200 px');
    }
    return out;
})"""


def add_fake_validation_tables(database: Path) -> None:
    """Small cltv_validation_by_frequency / cltv_validation_tracking tables in the marts' schema,
    made up from cltv_predictions (three models; buckets inserted out of order)."""
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            create table cltv_validation_by_frequency as
            with base as (
                select
                    dataset,
                    case when frequency >= 7 then '7+' else frequency::varchar end as bucket,
                    least(frequency, 7)::integer as bucket_order,
                    expected_purchases_quarter as predicted
                from cltv_predictions
            )
            select
                dataset,
                model,
                bucket as calibration_frequency_bucket,
                bucket_order,
                count(*) as customers,
                avg(predicted) * 0.9 as mean_actual_holdout_purchases,
                avg(predicted) * factor as mean_predicted_holdout_purchases
            from base
            cross join (values ('bgnbd', 1.0), ('pareto_nbd', 1.1), ('mbgnbd', 1.05))
                as models (model, factor)
            group by dataset, model, factor, bucket, bucket_order
            order by bucket desc
            """
        )
        con.execute(
            """
            create table cltv_validation_tracking as
            with weeks as (
                select
                    dataset,
                    model,
                    week::integer as week,
                    round(40 + 10 * sin(week / 4.0))::double as actual_repeat_purchases,
                    40 + factor * week / 10.0 as expected_repeat_purchases
                from (select distinct dataset from cltv_predictions)
                cross join (values ('bgnbd', 1.0), ('pareto_nbd', -1.0), ('mbgnbd', 0.5))
                    as models (model, factor)
                cross join range(1, 53) as weeks (week)
            )
            select
                *,
                sum(actual_repeat_purchases) over running as actual_cumulative_repeat_purchases,
                sum(expected_repeat_purchases) over running
                    as expected_cumulative_repeat_purchases,
                week > 39 as is_holdout
            from weeks
            window running as (partition by dataset, model order by week)
            """
        )


def markup_outside_scripts(document: str) -> str:
    """The document without the bodies of its script elements (the inlined plotly.js holds
    URL strings that it never loads here)."""
    return re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", document, flags=re.S | re.I)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    result = dbt_build(tmp_path_factory.mktemp("report_build"), select=REPORT_MARTS)
    assert result.returncode == 0, result.output[-4000:]
    return result


@pytest.fixture(scope="module")
def sample_report(build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = report.build_report(build.database, tmp_path_factory.mktemp("report") / "crm_report.html")
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def validated_database(build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("report_validated") / "crm.duckdb"
    shutil.copyfile(build.database, database)
    add_fake_validation_tables(database)
    # like the published copy (crm_analytics.publish): marts only, no seeds, a publication table
    with duckdb.connect(str(database)) as con:
        con.execute("drop table rfm_segments")
        con.execute(
            "create table publication as select 'b1' as build_id,"
            " timestamp '2024-01-02 03:04:05' as published_at, 'rfm' as mart, 1 as row_count"
        )
    return database


@pytest.fixture(scope="module")
def validated_report(validated_database: Path) -> Path:
    return report.build_report(validated_database, validated_database.with_name("report.html"))


@pytest.mark.dbt
def test_report_has_every_section_and_says_why_model_checks_are_missing(
    sample_report: str,
) -> None:
    for section_id in ALWAYS:
        assert f'<section id="{section_id}">' in sample_report, section_id
        assert report.SECTION_TITLES[section_id] in sample_report
    for block_id in (
        "kpi-trends-online_retail",
        "cohort-retention-online_retail",
        "cohort-retention-flo",
        "rfm-segment-map-online_retail",
        "rfm-segment-map-flo",
        "segment-summary-flo",
        "rfm-sizes-online_retail",
        "rfm-transitions-online_retail",
        "rfm-history-flo",
        "clv-distribution-online_retail",
        "clv-segments-flo",
    ):
        assert f'id="{block_id}"' in sample_report, block_id
    assert 'id="model-checks"' not in sample_report
    assert 'id="model-checks-note"' in sample_report
    assert data.VALIDATION_TRACKING in sample_report
    # FLO has no monthly KPIs: a note, not an empty chart
    assert "No monthly KPIs for flo" in sample_report


@pytest.mark.dbt
def test_every_figure_has_a_reading(sample_report: str) -> None:
    blocks = re.findall(
        r'<div class="block" id="([^"]+)">(.*?)</div>\s*(?=<div class="block"|</section>)',
        sample_report,
        flags=re.S,
    )
    with_figures = [(block_id, body) for block_id, body in blocks if "plotly-graph-div" in body]
    assert len(with_figures) == report.figure_count(sample_report) == 13
    for block_id, body in with_figures:
        reading = re.search(r'<p class="reading">([^<]+)</p>', body)
        assert reading and len(reading.group(1)) > 20, block_id


@pytest.mark.dbt
def test_report_numbers_match_the_marts(build: DbtResult, sample_report: str) -> None:
    for dataset, raw_rows, customers in build.query(
        "select dataset, raw_rows, customers from datasets"
    ):
        row = re.search(rf'<tr data-dataset="{dataset}">(.*?)</tr>', sample_report).group(1)
        assert f">{raw_rows:,}<" in row
        assert f">{customers:,}<" in row
    segments = build.query("select dataset, segment, customers from rfm_segment_summary")
    assert len(segments) == 20
    for dataset, segment, customers in segments:
        assert re.search(
            rf'<tr data-dataset="{dataset}" data-segment="{segment}"><td class="">{segment}</td>'
            rf'<td class="num">{customers:,}</td>',
            sample_report,
        ), (dataset, segment)
    # the largest segment's size, as the RFM map's reading states it
    dataset, segment, customers = max(
        (row for row in segments if row[0] == "online_retail"), key=lambda row: row[2]
    )
    assert f"The largest segment is {segment} with {customers:,} customers" in sample_report


# --- the rpt_ marts against independent pandas computations from the base marts -------------


@pytest.fixture(scope="module")
def marts(build: DbtResult) -> dict[str, pd.DataFrame]:
    """The base marts and the rpt_ marts of the sample build, whole."""
    names = (
        "cohort_retention",
        "rfm",
        "cltv_predictions",
        "rpt_cohort_retention_curve",
        "rpt_rfm_segment_map",
        "rpt_clv_summary",
        "rpt_clv_histogram",
        "rpt_clv_segments",
        "rfm_monthly",
        "rfm_segment_transitions",
        "rpt_rfm_segment_sizes_monthly",
    )
    with duckdb.connect(str(build.database), read_only=True) as con:
        return {name: con.execute(f"select * from {name}").df() for name in names}


def sorted_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def expected_retention_curve(cohorts: pd.DataFrame) -> pd.DataFrame:
    followed = cohorts[
        cohorts["active_customers"].notna() & (cohorts["months_since_acquisition"] >= 1)
    ]
    curve = (
        followed.groupby(["dataset", "months_since_acquisition"])
        .agg(
            cohorts=("acquisition_month", "size"),
            customers=("cohort_size", "sum"),
            active_customers=("active_customers", "sum"),
        )
        .reset_index()
    )
    curve["retention_rate"] = curve["active_customers"] / curve["customers"]
    return curve


def expected_clv_summary(clv_values: pd.Series) -> dict[str, object]:
    """What rpt_clv_summary should hold for one dataset's predicted CLVs."""
    values = clv_values.astype(float)
    positive = values[values > 0]
    # ntile(10) gives the top tile ceil(n / 10) rows
    top = values.nlargest(math.ceil(len(values) / 10)).sum()
    skewness = values.skew()
    return {
        "customers": len(values),
        "non_positive_customers": int((values <= 0).sum()),
        "min_predicted_clv": values.min(),
        "min_positive_predicted_clv": positive.min(),
        "max_predicted_clv": values.max(),
        "mean_predicted_clv": values.mean(),
        "median_predicted_clv": float(np.quantile(values, 0.5)),
        "p90_predicted_clv": float(np.quantile(values, 0.9)),
        "predicted_clv_skewness": skewness,
        "total_predicted_clv": values.sum(),
        "top_decile_share": top / values.sum(),
        "is_log_scale": bool(skewness > 1 and values.max() > 0),
    }


@pytest.mark.dbt
def test_retention_curve_equals_a_pandas_computation(marts: dict[str, pd.DataFrame]) -> None:
    keys = ["dataset", "months_since_acquisition"]
    built = sorted_frame(marts["rpt_cohort_retention_curve"], keys)
    expected = sorted_frame(expected_retention_curve(marts["cohort_retention"]), keys)
    assert set(built["dataset"]) == {"online_retail"}  # FLO has no activity by month
    pd.testing.assert_frame_equal(built, expected[built.columns], check_dtype=False, rtol=1e-12)


@pytest.mark.dbt
def test_rfm_segment_map_equals_a_pandas_computation(marts: dict[str, pd.DataFrame]) -> None:
    rfm = marts["rfm"]
    seed = pd.read_csv(PROJECT_DIR / "seeds" / "rfm_segments.csv")
    counts = rfm.groupby(["dataset", "recency_score", "frequency_score"]).size()
    rows = []
    for dataset in sorted(rfm["dataset"].unique()):
        scored = int((rfm["dataset"] == dataset).sum())
        for cell in seed.itertuples(index=False):
            customers = int(counts.get((dataset, cell.recency_score, cell.frequency_score), 0))
            rows.append(
                (
                    dataset,
                    cell.recency_score,
                    cell.frequency_score,
                    cell.segment,
                    customers,
                    customers / scored,
                )
            )
    keys = ["dataset", "recency_score", "frequency_score"]
    built = sorted_frame(marts["rpt_rfm_segment_map"], keys)
    expected = sorted_frame(pd.DataFrame(rows, columns=built.columns), keys)
    assert len(built) == 50  # 25 cells x 2 datasets
    pd.testing.assert_frame_equal(built, expected, check_dtype=False, rtol=1e-12)
    # every scored customer's own segment is the segment of its cell on the map
    cells = rfm.merge(built, on=keys, suffixes=("", "_on_map"))
    assert len(cells) == len(rfm)
    assert (cells["segment"] == cells["segment_on_map"]).all()


@pytest.mark.dbt
def test_rfm_segment_sizes_equal_a_pandas_computation(marts: dict[str, pd.DataFrame]) -> None:
    monthly = marts["rfm_monthly"]
    seed = pd.read_csv(PROJECT_DIR / "seeds" / "rfm_segments.csv")
    # stacking order: the segments by their first cell in the seed, recency then frequency
    first_cells = seed.sort_values(["recency_score", "frequency_score"]).drop_duplicates("segment")
    order = {segment: rank for rank, segment in enumerate(first_cells["segment"], start=1)}
    counts = monthly.groupby(["dataset", "snapshot_date", "segment"]).size()
    scored = monthly.groupby(["dataset", "snapshot_date"]).size()
    rows = [
        (
            dataset,
            snapshot,
            segment,
            rank,
            int(counts.get((dataset, snapshot, segment), 0)),
            int(total),
            counts.get((dataset, snapshot, segment), 0) / total,
        )
        for (dataset, snapshot), total in scored.items()
        for segment, rank in order.items()
    ]
    keys = ["dataset", "snapshot_date", "segment"]
    built = sorted_frame(marts["rpt_rfm_segment_sizes_monthly"], keys)
    expected = sorted_frame(pd.DataFrame(rows, columns=built.columns), keys)
    assert set(built["dataset"]) == {"online_retail"}  # FLO has no purchase history
    assert built["snapshot_date"].nunique() > 1
    pd.testing.assert_frame_equal(built, expected, check_dtype=False, rtol=1e-12)
    assert order["hibernating"] == 1 and order["champions"] == len(order) == 10


@pytest.mark.dbt
def test_rfm_history_section_reads_the_latest_month(
    marts: dict[str, pd.DataFrame], sample_report: str
) -> None:
    """Both figures are drawn for online_retail, FLO gets its note, and the readings state what
    pandas computes from rfm_monthly itself (customer by customer)."""
    assert '<section id="rfm-history">' in sample_report
    for figure_id in ("fig-rfm-sizes-online_retail", "fig-rfm-transitions-online_retail"):
        assert f'id="{figure_id}"' in sample_report, figure_id
    assert "No RFM history for flo" in sample_report
    monthly = marts["rfm_monthly"]
    monthly = monthly[monthly["dataset"] == "online_retail"]
    snapshots = sorted(monthly["snapshot_date"].unique())
    before, after = (
        monthly[monthly["snapshot_date"] == snapshot].set_index("customer_id")["segment"]
        for snapshot in snapshots[-2:]
    )
    champions = before[before == "champions"].index
    stayed = (after.reindex(champions) == "champions").mean()
    new = len(after.index.difference(before.index))
    start, end = (pd.Timestamp(snapshot) for snapshot in snapshots[-2:])
    assert (
        f"From {start:%d %b %Y} to {end:%d %b %Y}, {formatting.fmt_pct(stayed)} of the "
        f"{len(champions):,} champions stayed champions"
    ) in sample_report
    assert f"; {new:,} customers were scored for the first time." in sample_report
    # the mart the heatmap reads agrees for the same cell
    transitions = marts["rfm_segment_transitions"]
    cell = transitions[
        (transitions["dataset"] == "online_retail")
        & (transitions["from_snapshot_date"] == snapshots[-2])
        & (transitions["from_segment"] == "champions")
        & (transitions["to_segment"] == "champions")
    ]
    assert cell["customer_share"].item() == pytest.approx(stayed)
    first, last = (
        int((monthly["snapshot_date"] == snapshot).sum())
        for snapshot in snapshots[:: len(snapshots) - 1]
    )
    assert (
        f"({len(snapshots)} snapshots) the scored customers went from {first:,} to {last:,}"
    ) in sample_report


@pytest.mark.dbt
def test_clv_summary_equals_a_pandas_computation(marts: dict[str, pd.DataFrame]) -> None:
    predictions = marts["cltv_predictions"]
    built = marts["rpt_clv_summary"].set_index("dataset")
    assert sorted(built.index) == sorted(predictions["dataset"].unique())
    for dataset, rows in predictions.groupby("dataset"):
        expected = expected_clv_summary(rows["predicted_clv"])
        for column, value in expected.items():
            assert built.loc[dataset, column] == pytest.approx(value, rel=1e-9), (dataset, column)
    assert built["is_log_scale"].all()  # CLV is skewed in both sample datasets


@pytest.mark.dbt
def test_clv_histogram_equals_numpy_histogram(marts: dict[str, pd.DataFrame]) -> None:
    bins = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
        "report_clv_histogram_bins"
    ]
    histogram = marts["rpt_clv_histogram"]
    for dataset, rows in marts["cltv_predictions"].groupby("dataset"):
        values = rows["predicted_clv"].astype(float)
        log_scale = expected_clv_summary(values)["is_log_scale"]
        scaled = np.log10(values[values > 0]) if log_scale else values
        counts, edges = np.histogram(scaled, bins=bins, range=(scaled.min(), scaled.max()))
        filled = np.flatnonzero(counts)
        built = histogram[histogram["dataset"] == dataset].sort_values("bin_number")
        assert built["bin_number"].tolist() == filled.tolist(), dataset
        assert built["customers"].tolist() == counts[filled].tolist(), dataset
        assert built["customers"].sum() == len(scaled)  # CLV <= 0 is off a log axis
        assert (built["is_log_scale"] == log_scale).all()
        np.testing.assert_allclose(built["bin_start"], edges[filled], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(built["bin_end"], edges[filled + 1], rtol=1e-12, atol=1e-12)
        to_currency = (lambda x: 10**x) if log_scale else (lambda x: x)
        np.testing.assert_allclose(built["lower_predicted_clv"], to_currency(edges[filled]))
        np.testing.assert_allclose(built["upper_predicted_clv"], to_currency(edges[filled + 1]))


@pytest.mark.dbt
def test_clv_segments_equal_a_pandas_computation(marts: dict[str, pd.DataFrame]) -> None:
    predictions = marts["cltv_predictions"]
    keys = ["dataset", "predicted_clv_segment"]
    expected = (
        predictions.groupby(keys)["predicted_clv"]
        .agg(customers="size", mean_predicted_clv="mean", total_predicted_clv="sum")
        .reset_index()
    )
    totals = predictions.groupby("dataset")["predicted_clv"].sum()
    expected["predicted_clv_share"] = expected["total_predicted_clv"] / expected["dataset"].map(
        totals
    )
    built = sorted_frame(marts["rpt_clv_segments"], keys)
    assert len(built) == 8  # segments A..D x 2 datasets
    pd.testing.assert_frame_equal(
        built, sorted_frame(expected, keys)[built.columns], check_dtype=False, rtol=1e-9
    )


@pytest.mark.dbt
def test_report_shows_the_independently_computed_figures(
    marts: dict[str, pd.DataFrame], sample_report: str
) -> None:
    """The readings print what the pandas computations give, not just what the marts hold."""
    predictions = marts["cltv_predictions"]
    for dataset, rows in predictions.groupby("dataset"):
        expected = expected_clv_summary(rows["predicted_clv"])
        currency = report.currency_for(dataset)
        median = formatting.fmt_money(expected["median_predicted_clv"], currency)
        mean = formatting.fmt_money(expected["mean_predicted_clv"], currency)
        assert (
            f"Median predicted CLV is {median} and the mean {mean}: the top 10% of customers "
            f"hold {formatting.fmt_pct(expected['top_decile_share'])}"
        ) in sample_report
    curve = expected_retention_curve(marts["cohort_retention"]).set_index(
        "months_since_acquisition"
    )
    assert (
        "Of the customers acquired in a month, "
        f"{formatting.fmt_pct(curve.loc[1, 'retention_rate'])} are active again 1 month after, "
        f"{formatting.fmt_pct(curve.loc[3, 'retention_rate'])} after 3 months"
    ) in sample_report


def string_literals(source: Path) -> list[str]:
    """Every string constant of a Python file, f-strings' literal parts joined by a blank."""
    literals = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.JoinedStr):
            literals.append(
                " ".join(
                    part.value
                    for part in node.values
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                )
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals.append(node.value)
    return literals


def test_the_report_runs_no_aggregation_sql() -> None:
    """Every aggregation is a dbt model: the package's SQL only selects, filters and orders."""
    aggregation = re.compile(
        r"\bgroup\s+by\b|\bover\s*\(|\bpartition\s+by\b|\bjoin\b|\bwith\b.*\bas\s*\("
        r"|\b(count|sum|avg|min|max|quantile_cont|median|skewness|ntile)\s*\(",
        flags=re.I | re.S,
    )
    sources = sorted(PACKAGE_DIR.glob("*.py"))
    assert len(sources) >= 10
    queries = [
        literal
        for source in sources
        for literal in string_literals(source)
        if re.search(r"\bselect\b.*\bfrom\b", literal, flags=re.I | re.S)
    ]
    assert len(queries) >= 3  # the table read, the publication, the table check
    for query in queries:
        assert not aggregation.search(query), query
    # the check sees an aggregation where there is one
    assert aggregation.search("select dataset, count(*) from rfm group by dataset")


@pytest.mark.dbt
def test_report_is_self_contained(sample_report: str) -> None:
    markup = markup_outside_scripts(sample_report)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", markup, flags=re.I)
    assert not re.search(
        r"""\b(src|href|srcset|data|poster)\s*=\s*["']?\s*(https?:)?//""", markup, flags=re.I
    )
    assert not re.search(r"url\(\s*[\"']?\s*(https?:)?//", markup, flags=re.I)
    assert "@import" not in markup
    # plotly.js is inlined exactly once
    bundle = get_plotlyjs()
    assert sample_report.count(bundle[:2000]) == 1
    assert len(sample_report) < len(bundle) + 1_000_000
    assert sample_report.count("Plotly.newPlot(") == report.figure_count(sample_report)


@pytest.mark.dbt
def test_model_checks_appear_when_the_validation_tables_exist(validated_report: Path) -> None:
    document = validated_report.read_text(encoding="utf-8")
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in document, section_id
    assert 'id="model-checks-note"' not in document
    for dataset in ("online_retail", "flo"):
        assert f'id="model-checks-frequency-{dataset}"' in document
        assert f'id="model-checks-tracking-{dataset}"' in document
        assert f'id="model-checks-comparison-{dataset}"' in document
    # the selection on the holdout log-likelihood, and why not MAE, in words
    assert "is selected by the highest holdout log-likelihood" in document
    assert "forecasting no purchases at all would win" in document
    assert "is selected by lowest BIC (no holdout)" in document
    assert "Intervals are on the log scale" in document or "Weakly identified" in document
    assert "Pareto/NBD predicts" in document
    assert "in the 13 holdout weeks" in document
    assert report.figure_count(document) == 17
    # model codes are shown by their display names (crm_analytics.btyd.MODEL_LABELS)
    assert "MBG/NBD predicts" in document and "MBG/NBD expects" in document
    assert "Predicted, MBG\\u002fNBD" in document  # the bar's name in the figure's JSON
    assert "mbgnbd" not in markup_outside_scripts(document)
    assert not re.search(r'"name":"[^"]*mbgnbd', document)


def test_model_labels_come_from_btyd() -> None:
    assert formatting.model_label("mbgnbd") == "MBG/NBD"
    assert formatting.model_label("bgnbd") == "BG/NBD"
    assert formatting.model_label("pareto_nbd") == "Pareto/NBD"
    assert formatting.model_label("some_new_model") == "some_new_model"


@pytest.mark.dbt
def test_validation_buckets_are_in_numeric_order(validated_database: Path) -> None:
    with duckdb.connect(str(validated_database), read_only=True) as con:
        validation = data.load_validation_by_frequency(con, "online_retail")
        tracking = data.load_validation_tracking(con, "online_retail")
    buckets = list(dict.fromkeys(validation["calibration_frequency_bucket"]))
    assert buckets == sorted(buckets, key=lambda bucket: int(bucket.rstrip("+")))
    assert buckets[-1] == "7+"
    assert tracking["is_holdout"].any() and not tracking["is_holdout"].all()


def small_tracking(holdout: bool | None) -> pd.DataFrame:
    weeks = np.arange(1, 11)
    frame = pd.DataFrame(
        {
            "dataset": "d",
            "model": "bgnbd",
            "week": weeks,
            "actual_repeat_purchases": np.full(10, 5.0),
            "expected_repeat_purchases": np.full(10, 6.0),
        }
    )
    frame["actual_cumulative_repeat_purchases"] = frame["actual_repeat_purchases"].cumsum()
    frame["expected_cumulative_repeat_purchases"] = frame["expected_repeat_purchases"].cumsum()
    if holdout is not None:
        frame["is_holdout"] = weeks > 8 if holdout else None
    return frame


def test_tracking_marks_the_calibration_end_only_when_it_is_known() -> None:
    with_holdout = small_tracking(holdout=True)
    assert model_checks.calibration_end_week(with_holdout) == 8.5
    figure = model_checks.validation_tracking_figure(with_holdout, "d")
    lines = [shape for shape in figure.layout.shapes if shape.x0 == shape.x1 == 8.5]
    assert len(lines) == 2  # the cumulative and the weekly panel
    assert "by week 10 BG/NBD expects 60 cumulative repeat purchases vs 50 actual (+20.0%)" in (
        model_checks.read_validation_tracking(with_holdout).replace("By", "by")
    )
    assert "2 holdout weeks 12 expected vs 10 actual" in model_checks.read_validation_tracking(
        with_holdout
    )
    for frame in (small_tracking(holdout=None), small_tracking(holdout=False)):
        assert model_checks.calibration_end_week(frame) is None
        assert not model_checks.validation_tracking_figure(frame, "d").layout.shapes
        assert "holdout" not in model_checks.read_validation_tracking(frame)


@pytest.mark.dbt
def test_one_dataset_and_unknown_dataset(build: DbtResult, tmp_path: Path) -> None:
    out = report.build_report(build.database, tmp_path / "flo.html", dataset="flo")
    document = out.read_text(encoding="utf-8")
    assert "rfm-segment-map-flo" in document
    assert "online_retail" not in markup_outside_scripts(document)
    with pytest.raises(ValueError, match="not in"):
        report.build_report(build.database, tmp_path / "x.html", dataset="nope")


@pytest.mark.dbt
def test_cli_reads_the_published_copy_or_says_it_falls_back(
    build: DbtResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRM_DUCKDB_PATH", raising=False)
    shutil.copyfile(build.database, tmp_path / "crm.duckdb")
    assert report_main(["--out", "out/fallback.html"]) == 0
    captured = capsys.readouterr()
    assert "published/crm.duckdb not found: reading the build database crm.duckdb" in captured.err
    assert "wrote out/fallback.html (13 figures" in captured.out
    assert "published/crm.duckdb not found" in (tmp_path / "out/fallback.html").read_text()

    (tmp_path / "published").mkdir()
    shutil.move(tmp_path / "crm.duckdb", tmp_path / "published" / "crm.duckdb")
    assert report_main(["--out", "out/published.html", "--currency", "flo=EUR"]) == 0
    captured = capsys.readouterr()
    assert "not found" not in captured.err
    assert "from published/crm.duckdb" in captured.out
    assert "Monetary, EUR (mean / median)" in (tmp_path / "out/published.html").read_text()

    assert report_main(["--source", "missing.duckdb"]) == 1
    assert "no database at missing.duckdb" in capsys.readouterr().err


def test_python_dash_m_runs_the_command_line(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "crm_analytics.report", "--source", str(tmp_path / "no.duckdb")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert f"error: no database at {tmp_path / 'no.duckdb'}" in completed.stderr


@pytest.mark.dbt
def test_report_renders_in_headless_chromium(
    validated_report: Path, validated_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the pinned requirements have it
        pytest.fail("the Python package playwright is missing: make setup")
    artifacts = Path(
        os.environ.get("CRM_REPORT_ARTIFACTS") or tmp_path_factory.mktemp("report_artifacts")
    )
    artifacts.mkdir(parents=True, exist_ok=True)
    figures = report.figure_count(validated_report.read_text(encoding="utf-8"))
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium_profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on(
                "console",
                lambda message: (
                    errors.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "assert")
                    else None
                ),
            )
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on(
                "request",
                lambda request: (
                    outside.append(request.url)
                    if not request.url.startswith(("file:", "data:", "blob:", "about:"))
                    else None
                ),
            )
            page.goto(validated_report.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "n => document.querySelectorAll('.plot-container').length === n",
                arg=figures,
                timeout=60_000,
            )
            # every figure drew its traces and has a title and a title on every visible axis
            problems = page.evaluate(FIGURE_PROBLEMS)
            rfm_text = page.locator(
                "#fig-rfm-segment-map-online_retail .heatmap-label text"
            ).all_text_contents()
            page.wait_for_timeout(300)
            screenshot = artifacts / "crm_report.png"
            page.screenshot(path=str(screenshot), full_page=True)
            shutil.copyfile(validated_report, artifacts / "crm_report.html")
            # the check itself sees a missing axis title
            page.evaluate(
                "() => Plotly.relayout('fig-clv-distribution-flo', {'yaxis.title.text': ''})"
            )
            untitled = page.evaluate(FIGURE_PROBLEMS)
        finally:
            context.close()
    print(f"\nreport screenshot: {screenshot}")
    assert not errors, errors
    assert not outside, f"the report requested {outside}"
    assert not problems, problems
    assert untitled == ["fig-clv-distribution-flo: yaxis has no title"]
    # the RFM map shows each cell's segment and customers as the marts have them
    with duckdb.connect(str(validated_database), read_only=True) as con:
        cells = con.execute(
            "select segment || count(*) from rfm where dataset = 'online_retail'"
            " group by recency_score, frequency_score, segment"
        ).fetchall()
    assert sorted(rfm_text) == sorted(cell for (cell,) in cells)
    assert len(rfm_text) == 25
    assert screenshot.stat().st_size > 100_000


def small_histogram(log_scale: bool) -> pd.DataFrame:
    """rpt_clv_histogram rows of one dataset: 10 bins of 0.5 from 0 (decades / 2 when log)."""
    starts = np.arange(10) * 0.5
    frame = pd.DataFrame(
        {
            "dataset": "d",
            "bin_number": np.arange(10),
            "is_log_scale": log_scale,
            "bin_start": starts,
            "bin_end": starts + 0.5,
            "bin_width": 0.5,
            "customers": np.arange(1, 11),
        }
    )
    to_currency = (lambda x: 10**x) if log_scale else (lambda x: x)
    frame["lower_predicted_clv"] = to_currency(frame["bin_start"])
    frame["upper_predicted_clv"] = to_currency(frame["bin_end"])
    return frame


def test_clv_histogram_is_on_a_log_axis_only_when_skewed() -> None:
    skewed = clv.clv_histogram_figure(small_histogram(log_scale=True), "skewed", "GBP")
    assert skewed.layout.xaxis.title.text == "Predicted CLV per customer (GBP, log scale)"
    assert "1,000" in skewed.layout.xaxis.ticktext
    assert skewed.data[0].customdata[2] == "10.00 to 31.62"  # in currency, not in log10
    linear = clv.clv_histogram_figure(
        small_histogram(log_scale=False), "even", report.currency_for("even")
    )
    assert linear.layout.xaxis.title.text == "Predicted CLV per customer (currency units)"
    assert linear.layout.xaxis.ticktext is None
    assert linear.data[0].customdata[2] == "1.00 to 1.50"
    stats = pd.Series(
        {
            "median_predicted_clv": 12.5,
            "mean_predicted_clv": 230.0,
            "top_decile_share": 0.61,
            "non_positive_customers": 1,
            "is_log_scale": True,
        }
    )
    assert clv.read_clv_distribution(stats, "GBP") == (
        "Median predicted CLV is GBP 12.50 and the mean GBP 230: the top 10% of customers hold "
        "61% of the total (1 customer with CLV <= 0 is not on the log axis)."
    )
    # on a linear axis nobody is left out
    stats["is_log_scale"] = False
    assert "not on the log axis" not in clv.read_clv_distribution(stats, "GBP")


def test_currency_labels() -> None:
    assert report.currency_for("online_retail") == "GBP"
    assert report.currency_for("flo") == "TRY"
    assert report.currency_for("cdnow") == report.FALLBACK_CURRENCY
    assert report.currency_for("flo", {"flo": "EUR"}) == "EUR"
    assert formatting.fmt_money(1234.4, "GBP") == "GBP 1,234"
    assert formatting.fmt_money(19.251, "currency units") == "19.25 currency units"
