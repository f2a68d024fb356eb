"""`make report`: one self-contained HTML file from the marts (crm_analytics/report.py).

The sample is built once for the module (dbt_build); the report is made from it, and from a copy
with small fake model-validation tables (their schema is written down in report.py). The last
test opens the report in headless Chromium (Debian's, via playwright), fails on any console error
or page error or any request that leaves the file, waits for every plotly figure to render and
saves a full-page screenshot (printed path; CRM_REPORT_ARTIFACTS=dir keeps it somewhere fixed).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import DbtResult, dbt_build
from plotly.offline import get_plotlyjs

from crm_analytics import report

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
    "+datasets +kpi_monthly +cohort_retention +rfm +rfm_segment_summary +cltv_predictions"
)
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


def add_fake_validation_tables(database: Path, holdout_column: bool = True) -> None:
    """Small cltv_validation_by_frequency / cltv_validation_tracking tables in the agreed schema,
    made up from cltv_predictions (two models; buckets inserted out of order)."""
    holdout = ", week > 39 as is_holdout" if holdout_column else ""
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            create table cltv_validation_by_frequency as
            with base as (
                select
                    dataset,
                    case when frequency >= 7 then '7+' else frequency::varchar end as bucket,
                    expected_purchases_quarter as predicted
                from cltv_predictions
            )
            select
                dataset,
                model,
                bucket as calibration_frequency_bucket,
                count(*) as customers,
                avg(predicted) * 0.9 as mean_actual_holdout_purchases,
                avg(predicted) * factor as mean_predicted_holdout_purchases
            from base
            cross join (values ('bgnbd', 1.0), ('pareto_nbd', 1.1)) as models (model, factor)
            group by dataset, model, factor, bucket
            order by bucket desc
            """
        )
        con.execute(
            f"""
            create table cltv_validation_tracking as
            with weeks as (
                select
                    dataset,
                    model,
                    week::integer as week,
                    round(40 + 10 * sin(week / 4.0))::double as actual_repeat_purchases,
                    40 + factor * week / 10.0 as expected_repeat_purchases
                from (select distinct dataset from cltv_predictions)
                cross join (values ('bgnbd', 1.0), ('pareto_nbd', -1.0)) as models (model, factor)
                cross join range(1, 53) as weeks (week)
            )
            select
                *,
                sum(actual_repeat_purchases) over running as actual_cumulative_repeat_purchases,
                sum(expected_repeat_purchases) over running
                    as expected_cumulative_repeat_purchases
                {holdout}
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
        "clv-distribution-online_retail",
        "clv-segments-flo",
    ):
        assert f'id="{block_id}"' in sample_report, block_id
    assert 'id="model-checks"' not in sample_report
    assert 'id="model-checks-note"' in sample_report
    assert report.VALIDATION_TRACKING in sample_report
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
    assert len(with_figures) == report.figure_count(sample_report) == 11
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


@pytest.mark.dbt
def test_data_access_matches_the_marts(build: DbtResult) -> None:
    with duckdb.connect(str(build.database), read_only=True) as con:
        grid = report.load_rfm_grid(con)
        by_segment = grid.groupby(["dataset", "segment"])["customers"].sum()
        cells = report.load_rfm_grid(con, "flo")
        histogram = report.load_clv_histogram(con)
        stats = report.load_clv_stats(con).set_index("dataset")
        clv_segments = report.load_clv_segments(con)
    assert len(grid) == 50  # 25 cells x 2 datasets
    assert set(cells["dataset"]) == {"flo"}
    for dataset, segment, customers in build.query(
        "select dataset, segment, customers from rfm_segment_summary"
    ):
        assert by_segment[(dataset, segment)] == customers
    for dataset, r_score, f_score, customers in build.query(
        "select dataset, recency_score, frequency_score, count(*) from rfm group by all"
    ):
        cell = grid[
            (grid["dataset"] == dataset)
            & (grid["recency_score"] == r_score)
            & (grid["frequency_score"] == f_score)
        ]
        assert cell["customers"].item() == customers
    # every customer with CLV > 0 is in exactly one histogram bin
    for dataset, positive, median in build.query(
        "select dataset, count(*) filter (where predicted_clv > 0), median(predicted_clv)"
        " from cltv_predictions"
        " group by dataset"
    ):
        assert histogram.loc[histogram["dataset"] == dataset, "customers"].sum() == positive
        assert stats.loc[dataset, "median_clv"] == pytest.approx(median)
    assert histogram["log_scale"].all()  # CLV is skewed in both sample datasets
    for dataset, segment, customers in build.query(
        "select dataset, predicted_clv_segment, count(*) from cltv_predictions group by all"
    ):
        row = clv_segments[
            (clv_segments["dataset"] == dataset) & (clv_segments["cltv_segment"] == segment)
        ]
        assert row["customers"].item() == customers


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
    assert "Pareto/NBD predicts" in document
    assert "in the 13 holdout weeks" in document
    assert report.figure_count(document) == 15


@pytest.mark.dbt
def test_validation_buckets_are_in_numeric_order(validated_database: Path) -> None:
    with duckdb.connect(str(validated_database), read_only=True) as con:
        validation = report.load_validation_by_frequency(con, "online_retail")
        tracking = report.load_validation_tracking(con, "online_retail")
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
    assert report.calibration_end_week(with_holdout) == 8.5
    figure = report.validation_tracking_figure(with_holdout, "d")
    lines = [shape for shape in figure.layout.shapes if shape.x0 == shape.x1 == 8.5]
    assert len(lines) == 2  # the cumulative and the weekly panel
    assert "by week 10 BG/NBD expects 60 cumulative repeat purchases vs 50 actual (+20.0%)" in (
        report.read_validation_tracking(with_holdout).replace("By", "by")
    )
    assert "2 holdout weeks 12 expected vs 10 actual" in report.read_validation_tracking(
        with_holdout
    )
    for frame in (small_tracking(holdout=None), small_tracking(holdout=False)):
        assert report.calibration_end_week(frame) is None
        assert not report.validation_tracking_figure(frame, "d").layout.shapes
        assert "holdout" not in report.read_validation_tracking(frame)


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
    assert report.main(["--out", "out/fallback.html"]) == 0
    captured = capsys.readouterr()
    assert "published/crm.duckdb not found: reading the build database crm.duckdb" in captured.err
    assert "wrote out/fallback.html (11 figures" in captured.out
    assert "published/crm.duckdb not found" in (tmp_path / "out/fallback.html").read_text()

    (tmp_path / "published").mkdir()
    shutil.move(tmp_path / "crm.duckdb", tmp_path / "published" / "crm.duckdb")
    assert report.main(["--out", "out/published.html", "--currency", "flo=EUR"]) == 0
    captured = capsys.readouterr()
    assert "not found" not in captured.err
    assert "from published/crm.duckdb" in captured.out
    assert "Monetary, EUR (mean / median)" in (tmp_path / "out/published.html").read_text()

    assert report.main(["--source", "missing.duckdb"]) == 1
    assert "no database at missing.duckdb" in capsys.readouterr().err


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


def test_clv_histogram_is_on_a_log_axis_only_when_skewed() -> None:
    with duckdb.connect() as con:
        con.execute(
            """
            create table cltv_predictions as
            select 'even' as dataset, i::double as predicted_clv, 'A' as predicted_clv_segment from range(1, 101) as t (i)
            union all select 'skewed', pow(10, i / 25.0), 'A' from range(0, 100) as t (i)
            union all select 'skewed', 0.0, 'A'
            """
        )
        histogram = report.load_clv_histogram(con, bins=10)
        stats = report.load_clv_stats(con).set_index("dataset")
    even = histogram[histogram["dataset"] == "even"]
    skewed = histogram[histogram["dataset"] == "skewed"]
    assert not even["log_scale"].any() and skewed["log_scale"].all()
    assert even["customers"].tolist() == [10] * 10
    assert skewed["customers"].sum() == 100  # the customer with CLV 0 is not on the log axis
    assert stats.loc["skewed", "non_positive"] == 1
    figure = report.clv_histogram_figure(skewed, "skewed", "GBP")
    assert figure.layout.xaxis.title.text == "Predicted CLV per customer (GBP, log scale)"
    assert "1,000" in figure.layout.xaxis.ticktext
    assert "(1 customer with CLV <= 0 is not on the log axis)" in report.read_clv_distribution(
        stats.loc["skewed"], "GBP"
    )
    linear = report.clv_histogram_figure(even, "even", report.currency_for("even"))
    assert linear.layout.xaxis.title.text == "Predicted CLV per customer (currency units)"


def test_currency_labels() -> None:
    assert report.currency_for("online_retail") == "GBP"
    assert report.currency_for("flo") == "TRY"
    assert report.currency_for("cdnow") == report.FALLBACK_CURRENCY
    assert report.currency_for("flo", {"flo": "EUR"}) == "EUR"
    assert report.fmt_money(1234.4, "GBP") == "GBP 1,234"
    assert report.fmt_money(19.251, "currency units") == "19.25 currency units"
