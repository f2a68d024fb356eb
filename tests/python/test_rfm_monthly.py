"""RFM over time (issue 12): `rfm_monthly` and `rfm_segment_transitions`.

Three kinds of check, none of which compares the marts with themselves:

- the snapshot on the first day of the analysis date's month equals `rfm`, the existing mart,
  built in the same run with that day as `analysis_date` (on the embedded sample and on Online
  Retail II);
- keeping only the last snapshots (`rfm_history_months`) changes nothing in those snapshots;
- every row's previous_segment and previous_month_revenue (what rfm_segment_transitions counts)
  equal the same customer's row at the previous snapshot and its orders of the month between,
  joined in SQL from the built tables (on the embedded sample and on Online Retail II);
- on Online Retail II, one mid-period snapshot (2010-06-01) and the transitions from it to the
  next (2010-07-01) equal an independent pandas computation that follows the course's RFM code
  (qcut quintiles, rank(method="first"), the regex segment map) on the lines before each date.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA_DIR, DbtResult, DbtRunner, dbt_build

pytestmark = pytest.mark.dbt

# The first day of a month as analysis date: the last snapshot is taken on it.
ANALYSIS_DATE = "2011-12-01"
# The FLO sample's dates (2017..2021) do not admit that analysis date; FLO has no snapshots
# anyway (unit test rfm_snapshots_are_month_starts_from_the_second_month_to_the_analysis_date).
SAMPLE_VARS = {"analysis_date": ANALYSIS_DATE, "customer_summaries_path": ""}
# Every model the two marts, rfm and the reconciliation test (which reads kpi_monthly) need.
SELECT = "+rfm +rfm_segment_transitions +kpi_monthly"
# Equal exactly; the segment depends on the recency and frequency scores only.
EXACT_COLUMNS = ["recency", "frequency", "recency_score", "frequency_score", "segment"]
# monetary is summed from monthly order totals in rfm_monthly and from the lines in rfm, so the
# last bit can differ (as between the course's plain sum and an exact one); the monetary score
# can then differ only for a customer whose monetary ties a quintile edge.
RELATIVE_TOLERANCE = 1e-12

# The course's segment map: regular expressions over the two-character "<R><F>" score.
SEGMENT_MAP = {
    r"[1-2][1-2]": "hibernating",
    r"[1-2][3-4]": "at_Risk",
    r"[1-2]5": "cant_loose",
    r"3[1-2]": "about_to_sleep",
    r"33": "need_attention",
    r"[3-4][4-5]": "loyal_customers",
    r"41": "promising",
    r"51": "new_customers",
    r"[4-5][2-3]": "potential_loyalists",
    r"5[4-5]": "champions",
}


def build(directory: Path, dbt_vars: dict[str, object]) -> DbtResult:
    """`dbt build` the RFM marts (with their tests) into `directory`; it must succeed."""
    result = dbt_build(directory, dbt_vars, select=SELECT)
    assert result.returncode == 0, result.output[-5000:]
    return result


def table(result: DbtResult, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(result.database), read_only=True) as connection:
        return connection.sql(sql).df()


def compare_rfm(reference: pd.DataFrame, built: pd.DataFrame) -> int:
    """Compare RFM tables indexed by customer; returns the customers whose monetary score differs.

    The exact columns must be equal; monetary within RELATIVE_TOLERANCE; a monetary score may
    differ only for a customer whose reference monetary lies on one of the reference's quintile
    edges (pandas' linear quantiles), where the last bit decides the bin.
    """
    assert set(built.index) == set(reference.index)
    assert len(reference) > 0
    built = built.loc[reference.index]
    for column in EXACT_COLUMNS:
        mismatched = reference[column].astype(str) != built[column].astype(str)
        assert not mismatched.any(), (column, reference[mismatched].head())
    monetary = reference["monetary"].to_numpy(dtype=float)
    assert np.allclose(built["monetary"], monetary, rtol=RELATIVE_TOLERANCE, atol=0.0)
    edges = np.quantile(monetary, [0.2, 0.4, 0.6, 0.8])
    on_edge = np.isclose(monetary[:, None], edges[None, :], rtol=RELATIVE_TOLERANCE, atol=0.0)
    mismatched = (reference["monetary_score"] != built["monetary_score"]).to_numpy()
    assert not (mismatched & ~on_edge.any(axis=1)).any()
    return int(mismatched.sum())


def assert_last_snapshot_equals_rfm(result: DbtResult, dataset: str) -> int:
    """The snapshot on ANALYSIS_DATE equals rfm (compare_rfm); returns the customers."""
    snapshot = table(
        result,
        f"select * from rfm_monthly where dataset = '{dataset}' "
        f"and snapshot_date = date '{ANALYSIS_DATE}'",
    ).set_index("customer_id")
    rfm = table(result, f"select * from rfm where dataset = '{dataset}'").set_index("customer_id")
    assert (rfm["analysis_date"].astype(str) == ANALYSIS_DATE).all()
    on_edge_mismatches = compare_rfm(rfm, snapshot)
    print(f"{dataset}: {len(rfm)} customers, {on_edge_mismatches} on-edge monetary scores differ")
    return len(rfm)


# --- the embedded sample ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return build(tmp_path_factory.mktemp("rfm_monthly_sample"), SAMPLE_VARS)


def test_the_analysis_months_snapshot_equals_rfm_on_the_sample(sample_build: DbtResult) -> None:
    assert assert_last_snapshot_equals_rfm(sample_build, "online_retail") > 1000


def test_snapshots_run_monthly_from_the_second_month(sample_build: DbtResult) -> None:
    first_order = sample_build.query(
        "select first_order_date from int_datasets_dated where dataset = 'online_retail'"
    )[0][0]
    snapshots = [
        row[0]
        for row in sample_build.query(
            "select distinct snapshot_date from rfm_monthly where dataset = 'online_retail' "
            "order by 1"
        )
    ]
    expected, month = [], dt.date(first_order.year, first_order.month, 1)
    while True:
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if month > dt.date.fromisoformat(ANALYSIS_DATE):
            break
        expected.append(month)
    assert snapshots == expected


def test_keeping_the_last_months_changes_none_of_them(
    sample_build: DbtResult, tmp_path: Path
) -> None:
    limited = build(tmp_path, {**SAMPLE_VARS, "rfm_history_months": 3})
    snapshots = limited.query("select distinct snapshot_date from rfm_monthly order by 1")
    assert [row[0].isoformat() for row in snapshots] == ["2011-10-01", "2011-11-01", "2011-12-01"]
    pairs = limited.query("select distinct from_snapshot_date from rfm_segment_transitions")
    assert sorted(row[0].isoformat() for row in pairs) == ["2011-10-01", "2011-11-01"]
    kept_dates = "date '2011-10-01', date '2011-11-01', date '2011-12-01'"
    for mart, date_column in (
        ("rfm_monthly", "snapshot_date"),
        ("rfm_segment_transitions", "from_snapshot_date"),
    ):
        kept = table(limited, f"select * from {mart} order by all")
        full = table(
            sample_build,
            f"select * from {mart} where {date_column} in ({kept_dates}) order by all",
        )
        assert len(kept) > 0
        if mart == "rfm_monthly":
            # the first snapshot kept has no previous one: its previous_segment is null
            first = kept["snapshot_date"].astype(str) == "2011-10-01"
            assert kept.loc[first, "previous_segment"].isna().all()
            assert full.loc[first, "previous_segment"].notna().all()
            kept, full = (
                frame.assign(previous_segment=frame["previous_segment"].where(~first))
                for frame in (kept, full)
            )
        pd.testing.assert_frame_equal(kept, full)


# Every row's previous_segment and previous_month_revenue, against what they stand for: the
# same customer's row at the previous snapshot (or, unscored there, its first order's date) and
# its orders of the month before the snapshot, read from the orders. Counts the rows that
# differ, and the rows of each kind.
PREVIOUS_SNAPSHOT_CHECK = """
with

snapshots as (
    select
        dataset,
        snapshot_date,
        lag(snapshot_date) over (partition by dataset order by snapshot_date) as previous_date
    from (select distinct dataset, snapshot_date from rfm_monthly)
),

orders as (
    select * from int_orders_aggregated where ordered_at < timestamp '{analysis_date}'
),

first_orders as (
    select dataset, customer_id, min(ordered_at) as first_order_at
    from orders
    group by dataset, customer_id
),

month_revenue as (
    select dataset, customer_id, date_trunc('month', ordered_at) as month, sum(revenue) as revenue
    from orders
    group by all
),

compared as (
    select
        current.previous_segment,
        current.previous_month_revenue,
        case
            when snapshots.previous_date is null then null
            when previous.segment is not null then previous.segment
            when first_orders.first_order_at < snapshots.previous_date then 'not_yet_scored'
            else 'not_yet_customer'
        end as expected_segment,
        coalesce(month_revenue.revenue, 0) as expected_revenue
    from rfm_monthly as current
    inner join snapshots
        on current.dataset = snapshots.dataset and current.snapshot_date = snapshots.snapshot_date
    left join rfm_monthly as previous
        on current.dataset = previous.dataset
        and current.customer_id = previous.customer_id
        and previous.snapshot_date = snapshots.previous_date
    left join first_orders
        on current.dataset = first_orders.dataset and current.customer_id = first_orders.customer_id
    left join month_revenue
        on current.dataset = month_revenue.dataset
        and current.customer_id = month_revenue.customer_id
        and month_revenue.month = current.snapshot_date - interval 1 month
)

select
    count(*) filter (where previous_segment is distinct from expected_segment),
    count(*) filter (
        where abs(previous_month_revenue - expected_revenue)
            > 1e-9 * greatest(abs(expected_revenue), 1)
    ),
    count(*) filter (where expected_segment is null),
    count(*) filter (where expected_segment = 'not_yet_customer'),
    count(*) filter (where expected_segment not like 'not_yet_%'),
    count(*) filter (where expected_revenue > 0)
from compared
"""


def assert_previous_snapshots_are_the_previous_rows(result: DbtResult) -> None:
    """Every rfm_monthly row's previous_segment and previous_month_revenue are what they say."""
    check = PREVIOUS_SNAPSHOT_CHECK.format(analysis_date=ANALYSIS_DATE)
    ((segments_off, revenues_off, first, new, scored, with_revenue),) = result.query(check)
    print(f"{first} first-snapshot rows, {new} new, {scored} scored before, {with_revenue} spent")
    assert (segments_off, revenues_off) == (0, 0)
    assert min(first, new, scored, with_revenue) > 0


def test_previous_segments_are_the_previous_snapshots_on_the_sample(
    sample_build: DbtResult,
) -> None:
    assert_previous_snapshots_are_the_previous_rows(sample_build)


def test_the_key_test_finds_repeated_and_null_keys(sample_build: DbtResult) -> None:
    """The generic test primary_key, as compiled for rfm_monthly, on doctored copies of it."""
    compiled_dir = sample_build.database.parent / "target" / "compiled"
    [compiled] = compiled_dir.rglob("primary_key_rfm_monthly_*.sql")
    relation = '"crm"."main"."rfm_monthly"'
    test_sql = compiled.read_text()
    assert relation in test_sql
    keys = "dataset, snapshot_date, customer_id"
    with duckdb.connect(str(sample_build.database)) as connection:
        connection.execute(f"create temporary table doctored as select {keys} from rfm_monthly")

        def failures() -> list[tuple]:
            return connection.sql(
                test_sql.replace(relation, "doctored") + " order by all"
            ).fetchall()

        assert failures() == []
        [(first_key, first_snapshot, first_customer)] = connection.sql(
            f"select {keys} from doctored order by all limit 1"
        ).fetchall()
        connection.execute(f"insert into doctored select {keys} from doctored order by all limit 1")
        assert failures() == [(first_key, first_snapshot, first_customer, 2)]
        connection.execute("delete from doctored")
        connection.execute(f"insert into doctored select {keys} from rfm_monthly")
        connection.execute(
            "update doctored set customer_id = null where customer_id = ("
            "select max(customer_id) from doctored)"
        )
        null_rows = connection.sql("select count(*) from doctored where customer_id is null")
        [(nulls,)] = null_rows.fetchall()
        assert nulls >= 1
        # a null key part is reported whether it occurs once or (with one snapshot) repeats
        reported = failures()
        assert [row[2] for row in reported] == [None] * len(reported)
        assert sum(row[3] for row in reported) == nulls


@pytest.mark.parametrize("value", [0, 2.5, "all"])
def test_a_bad_history_length_is_refused_at_parse_time(run_dbt: DbtRunner, value: object) -> None:
    result = run_dbt(vars={"rfm_history_months": value}, command="parse")
    assert result.returncode != 0
    assert "var rfm_history_months=" in result.output
    assert "expected a whole number from 1 and at most 1200, or null" in result.output


# --- Online Retail II ---------------------------------------------------------------------------


def clean_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """DESIGN.md's cleaning: a customer, no cancellation, quantity > 0, price >= 0."""
    lines = lines.dropna(subset=["Customer ID"])
    lines = lines[~lines["Invoice"].str.startswith("C")]
    lines = lines[(lines["Quantity"] > 0) & (lines["Price"] >= 0)].copy()
    lines["TotalPrice"] = lines["Quantity"] * lines["Price"]
    lines["customer_id"] = lines["Customer ID"].astype("int64").astype(str)
    return lines


def course_rfm_as_of(lines: pd.DataFrame, as_of: dt.datetime) -> pd.DataFrame:
    """The course's RFM on the clean lines before `as_of`, with `as_of` as today_date.

    Revenue is summed exactly (math.fsum), the project's definition; the course's plain sum
    can differ in the last bit, which matters only for a value on a quintile edge.
    """
    before = lines[lines["InvoiceDate"] < as_of]
    # grouped on the numeric id, as the course's float Customer ID: rank(method="first")
    # breaks frequency ties in that order
    rfm = before.groupby("Customer ID").agg(
        recency=("InvoiceDate", lambda invoice_date: (as_of - invoice_date.max()).days),
        frequency=("Invoice", "nunique"),
        monetary=("TotalPrice", math.fsum),
    )
    rfm = rfm[rfm["monetary"] > 0].copy()
    rfm["recency_score"] = pd.qcut(rfm["recency"], 5, labels=[5, 4, 3, 2, 1]).astype(int)
    rfm["frequency_score"] = pd.qcut(
        rfm["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]
    ).astype(int)
    rfm["monetary_score"] = pd.qcut(rfm["monetary"], 5, labels=[1, 2, 3, 4, 5]).astype(int)
    rfm["rf_score"] = rfm["recency_score"].astype(str) + rfm["frequency_score"].astype(str)
    rfm["rfm_score"] = rfm["rf_score"] + rfm["monetary_score"].astype(str)
    rfm["segment"] = rfm["rf_score"].replace(SEGMENT_MAP, regex=True)
    rfm.index = [str(int(customer_id)) for customer_id in rfm.index]
    return rfm


def course_transitions(lines: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """From-segment x to-segment between the snapshots `start` and `end` (a month later)."""
    before, after = course_rfm_as_of(lines, start), course_rfm_as_of(lines, end)
    first_order = lines.groupby("customer_id")["InvoiceDate"].min()
    month = lines[(lines["InvoiceDate"] >= start) & (lines["InvoiceDate"] < end)]
    month_revenue = month.groupby("customer_id")["TotalPrice"].agg(math.fsum)

    moves = pd.DataFrame({"to_segment": after["segment"]})
    moves["from_segment"] = before["segment"].reindex(moves.index)
    unscored = moves["from_segment"].isna()
    moves.loc[unscored, "from_segment"] = [
        "not_yet_scored" if first_order[customer] < start else "not_yet_customer"
        for customer in moves.index[unscored]
    ]
    moves["revenue"] = month_revenue.reindex(moves.index).fillna(0.0)
    cells = moves.groupby(["from_segment", "to_segment"]).agg(
        customers=("revenue", "size"), revenue=("revenue", math.fsum)
    )
    cells["customer_share"] = cells["customers"] / cells.groupby(level="from_segment")[
        "customers"
    ].transform("sum")
    return cells


@pytest.fixture(scope="module")
def retail_lines() -> pd.DataFrame:
    path = SHARED_DATA_DIR / "online_retail_II.parquet"
    if not path.is_file():
        pytest.fail(f"real data not found at {path}: clone the project beside shared/")
    # the two sheets overlap on 2010-12-01..09 only: every line before is read once
    lines = pd.read_parquet(path)
    return clean_lines(lines[lines["InvoiceDate"] < dt.datetime(2010, 12, 1)])


@pytest.fixture(scope="module")
def retail_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    path = SHARED_DATA_DIR / "online_retail_II.parquet"
    if not path.is_file():
        pytest.fail(f"real data not found at {path}: clone the project beside shared/")
    return build(
        tmp_path_factory.mktemp("rfm_monthly_retail"),
        {
            "transactions_path": str(path),
            "customer_summaries_path": "",
            "analysis_date": ANALYSIS_DATE,
        },
    )


@pytest.mark.shared_data
def test_the_analysis_months_snapshot_equals_rfm_on_online_retail(retail_build: DbtResult) -> None:
    assert assert_last_snapshot_equals_rfm(retail_build, "online_retail") > 5000


@pytest.mark.shared_data
def test_previous_segments_are_the_previous_snapshots_on_online_retail(
    retail_build: DbtResult,
) -> None:
    assert_previous_snapshots_are_the_previous_rows(retail_build)


@pytest.mark.shared_data
def test_a_mid_period_snapshot_equals_the_course_in_pandas(
    retail_lines: pd.DataFrame, retail_build: DbtResult
) -> None:
    as_of = dt.datetime(2010, 6, 1)
    reference = course_rfm_as_of(retail_lines, as_of)
    built = table(
        retail_build, "select * from rfm_monthly where snapshot_date = date '2010-06-01'"
    ).set_index("customer_id")
    assert len(reference) > 2000
    on_edge_mismatches = compare_rfm(reference, built)
    print(f"2010-06-01: {len(reference)} customers, {on_edge_mismatches} on an edge differ")


@pytest.mark.shared_data
def test_transitions_from_a_mid_period_snapshot_equal_the_course_in_pandas(
    retail_lines: pd.DataFrame, retail_build: DbtResult
) -> None:
    reference = course_transitions(retail_lines, dt.datetime(2010, 6, 1), dt.datetime(2010, 7, 1))
    built = table(
        retail_build,
        "select * from rfm_segment_transitions where from_snapshot_date = date '2010-06-01'",
    ).set_index(["from_segment", "to_segment"])
    assert (built["to_snapshot_date"].astype(str) == "2010-07-01").all()
    assert set(built.index) == set(reference.index)
    assert "not_yet_customer" in reference.index.get_level_values("from_segment")
    built = built.loc[reference.index]
    assert (built["customers"].to_numpy() == reference["customers"].to_numpy()).all()
    for column in ("customer_share", "revenue"):
        for expected, actual in zip(reference[column], built[column], strict=True):
            assert math.isclose(expected, actual, rel_tol=RELATIVE_TOLERANCE), column
