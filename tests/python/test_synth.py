"""Tests for crm_analytics.synth: determinism, the BTYD truth, dirt, output formats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data

from crm_analytics import synth
from crm_analytics.schemas import FLO_COLUMNS, ONLINE_RETAIL_II_COLUMNS

BGNBD_TRUTH = pd.Series(dataclasses.asdict(synth.DEFAULT_BGNBD))
GG = synth.DEFAULT_GAMMA_GAMMA
GG_TRUTH = pd.Series({"p": GG.p, "q": GG.q, "v": GG.gamma})


def clean_lines(frame: pd.DataFrame) -> pd.DataFrame:
    """The project's cleaning rules (DESIGN.md section 4)."""
    keep = (
        frame["Customer ID"].notna()
        & ~frame["Invoice"].str.startswith("C")
        & (frame["Quantity"] > 0)
        & (frame["Price"] >= 0)
    )
    return frame[keep]


def z_scores(fitter: object, truth: pd.Series) -> pd.Series:
    summary = fitter.summary  # type: ignore[attr-defined]
    return (summary["coef"] - truth) / summary["se(coef)"]


@pytest.fixture(scope="module")
def lines_20k() -> pd.DataFrame:
    return synth.transactions_frame(20_000, seed=2024)


@pytest.fixture(scope="module")
def truth_20k() -> synth.SimulatedCustomers:
    return synth.transactions_truth(20_000, seed=2024)


# ------------------------------------------------------------------------------ determinism


def test_same_seed_same_output_different_seed_different() -> None:
    first = synth.transactions_frame(1_500, seed=11)
    again = synth.transactions_frame(1_500, seed=11)
    other = synth.transactions_frame(1_500, seed=12)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    flo = synth.customer_summaries_frame(500, seed=11)
    pd.testing.assert_frame_equal(flo, synth.customer_summaries_frame(500, seed=11))
    assert not flo.equals(synth.customer_summaries_frame(500, seed=12))


def test_written_files_are_byte_identical(tmp_path) -> None:
    for name in ("a.csv", "b.csv"):
        synth.write_transactions(tmp_path / name, 400, seed=5)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    for name in ("a_flo.csv", "b_flo.csv"):
        synth.write_customer_summaries(tmp_path / name, 300, seed=5)
    assert (tmp_path / "a_flo.csv").read_bytes() == (tmp_path / "b_flo.csv").read_bytes()


def test_dirt_does_not_change_the_clean_purchases() -> None:
    dirty = clean_lines(synth.transactions_frame(1_000, seed=3, dirt=synth.DEFAULT_DIRT))
    plain = synth.transactions_frame(1_000, seed=3, dirt=synth.NO_DIRT)
    key = ["Customer ID", "InvoiceDate"]

    def totals(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(revenue=frame["Quantity"] * frame["Price"])
        grouped = frame.groupby(["Invoice", *key], sort=False)["revenue"].sum().round(2)
        totals = grouped.reset_index(key).reset_index(drop=True)
        return totals.sort_values([*key, "revenue"], ignore_index=True)

    dirty_totals = totals(dirty[dirty["Quantity"] < 10_000])  # minus the 2 extreme orders
    pd.testing.assert_frame_equal(dirty_totals, totals(plain))


# ------------------------------------------------------------------------------ BTYD truth


def test_simulated_purchases_match_bgnbd_expectation() -> None:
    # All customers acquired on one day: E[X(t)] of BG/NBD at the true parameters.
    sim = synth.simulate_customers(
        200_000,
        synth.DEFAULT_BGNBD,
        GG,
        dt.date(2010, 1, 1),
        dt.date(2010, 12, 31),
        np.random.default_rng(4),
        acquisition_end=dt.date(2010, 1, 1),
    )
    summary = sim.summary()
    model = BetaGeoFitter()
    model.params_ = BGNBD_TRUTH.copy()
    expected = model.expected_number_of_purchases_up_to_time(summary["T"].to_numpy()).mean()
    standard_error = summary["frequency"].std() / np.sqrt(len(summary))
    assert abs(summary["frequency"].mean() - expected) < 4 * standard_error


def test_bgnbd_fit_recovers_true_parameters() -> None:
    truth = synth.transactions_truth(150_000, seed=77)
    summary = truth.summary()
    fitter = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    z = z_scores(fitter, BGNBD_TRUTH)
    assert (z.abs() < 3).all(), fitter.summary


def test_gamma_gamma_fit_recovers_true_parameters() -> None:
    summary = synth.transactions_truth(150_000, seed=78).summary()
    repeat = summary[summary["frequency"] > 0]
    fitter = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    z = z_scores(fitter, GG_TRUTH)
    assert (z.abs() < 3).all(), fitter.summary


def test_dropout_after_first_purchase_is_mbgnbd() -> None:
    sim = synth.simulate_customers(
        150_000,
        synth.DEFAULT_BGNBD,
        GG,
        synth.TRANSACTIONS_START,
        synth.TRANSACTIONS_END,
        np.random.default_rng(5),
        dropout_after_first=True,
    )
    summary = sim.summary()
    mbg = ModifiedBetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    assert (z_scores(mbg, BGNBD_TRUTH).abs() < 3).all(), mbg.summary
    bg = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    assert (z_scores(bg, BGNBD_TRUTH).abs() > 3).any(), bg.summary


def test_summary_statistics_by_hand() -> None:
    sim = synth.SimulatedCustomers(
        origin=dt.date(2020, 1, 1),
        observation_end=10.0,
        customer_id=np.array([1, 2]),
        lam=np.array([0.1, 0.2]),
        p=np.array([0.3, 0.4]),
        nu=np.array([0.5, 0.6]),
        order_offsets=np.array([0, 1, 4]),
        order_time=np.array([2.0, 1.0, 3.0, 4.5]),
        order_value=np.array([10.0, 5.0, 20.0, 40.0]),
    )
    summary = sim.summary()
    assert summary["frequency"].tolist() == [0, 2]
    assert summary["recency"].tolist() == [0.0, 3.5]
    assert summary["T"].tolist() == [8.0, 9.0]
    assert summary["monetary_value"].tolist() == [0.0, 30.0]


def test_clean_transactions_are_the_simulated_orders(lines_20k, truth_20k) -> None:
    clean = clean_lines(lines_20k)
    clean = clean.assign(revenue=clean["Quantity"] * clean["Price"])
    invoices = clean.groupby("Invoice", sort=False).agg(
        customer=("Customer ID", "first"),
        date=("InvoiceDate", "first"),
        value=("revenue", "sum"),
        max_quantity=("Quantity", "max"),
    )
    extreme = invoices["max_quantity"] > 10_000
    assert extreme.sum() == synth.DEFAULT_DIRT.extreme_orders
    invoices = invoices[~extreme].sort_values(["customer", "date"], kind="stable")
    orders = pd.DataFrame(
        {
            "customer": np.repeat(truth_20k.customer_id, truth_20k.order_counts),
            "minute": synth._minute_of(truth_20k.order_time),
            "value": truth_20k.order_value,
        }
    ).sort_values(["customer", "minute"], kind="stable")
    assert len(invoices) == len(orders)
    assert (invoices["customer"].to_numpy() == orders["customer"].to_numpy()).all()
    dates = pd.Timestamp(truth_20k.origin) + pd.to_timedelta(orders["minute"], unit="min")
    assert (invoices["date"].to_numpy() == dates.to_numpy()).all()
    # Order totals equal the simulated values rounded to the penny.
    error = np.abs(invoices["value"].to_numpy() - np.round(orders["value"].to_numpy(), 2))
    assert error.max() < 1e-6


def test_daily_lifetime_table_is_the_truth_on_days(lines_20k, truth_20k) -> None:
    clean = clean_lines(lines_20k)
    clean = clean[clean["Quantity"] < 10_000]  # the extreme orders are not in the truth
    observed = summary_data_from_transaction_data(
        pd.DataFrame(
            {"customer": clean["Customer ID"].astype("int64"), "date": clean["InvoiceDate"]}
        ),
        "customer",
        "date",
        observation_period_end=pd.Timestamp(synth.TRANSACTIONS_END + dt.timedelta(days=1)),
        freq="D",
    )
    day = np.floor(truth_20k.order_time * 7).astype(np.int64)
    days = pd.DataFrame({"customer": truth_20k.customer_id[truth_20k.order_customer], "day": day})
    per_customer = days.drop_duplicates().groupby("customer")["day"].agg(["size", "min", "max"])
    horizon_days = (synth.TRANSACTIONS_END - synth.TRANSACTIONS_START).days + 1
    observed = observed.loc[per_customer.index]
    assert (observed["frequency"] == per_customer["size"] - 1).all()
    assert (observed["recency"] == per_customer["max"] - per_customer["min"]).all()
    assert (observed["T"] == horizon_days - per_customer["min"]).all()


# ------------------------------------------------------------------------------ dirt


def test_dirt_is_present_in_the_expected_proportions(lines_20k) -> None:
    frame = lines_20k
    invoice = frame["Invoice"]
    is_cancel = invoice.str.startswith("C")
    is_bad_debt = invoice.str.startswith("A")
    no_customer = frame["Customer ID"].isna()
    n = len(frame)

    # Guest invoices: whole invoices without customer, ~17% of lines.
    assert 0.14 < (no_customer & ~is_bad_debt & (frame["Quantity"] > 0)).mean() < 0.20
    assert frame.assign(guest=no_customer).groupby("Invoice")["guest"].nunique().max() == 1

    # Cancellations: ~2% of customer orders, lines copied from an earlier order.
    sales = frame[~is_cancel & ~no_customer]
    n_cancels = invoice[is_cancel].nunique()
    assert 0.015 < n_cancels / sales["Invoice"].nunique() < 0.025
    cancels = frame[is_cancel]
    assert (cancels["Quantity"] < 0).all() and cancels["Customer ID"].notna().all()
    merged = cancels.merge(
        sales, on=["Customer ID", "StockCode", "Price"], suffixes=("", "_sale"), how="left"
    )
    matched = merged[
        (merged["InvoiceDate_sale"] <= merged["InvoiceDate"])
        & (merged["Quantity_sale"] >= -merged["Quantity"])
    ]
    assert matched.drop_duplicates(["Invoice", "StockCode"]).shape[0] == len(
        cancels.drop_duplicates(["Invoice", "StockCode"])
    )

    # Bad debt: 'A' invoices, stock code B, negative price, no customer (~1 per 1000 customers).
    bad_debt = frame[is_bad_debt]
    assert 8 <= len(bad_debt) <= 35
    assert (bad_debt["StockCode"] == "B").all() and (bad_debt["Price"] < 0).all()
    assert bad_debt["Customer ID"].isna().all()
    assert (frame.loc[~is_bad_debt, "Price"] >= 0).all()

    # Stock adjustments: negative quantity, price 0, no customer, not 'C' (~0.3% of lines).
    adjustments = frame[(frame["Quantity"] < 0) & ~is_cancel]
    assert 0.002 < len(adjustments) / n < 0.004
    assert (adjustments["Price"] == 0).all() and adjustments["Customer ID"].isna().all()

    # Free items in customer orders (~0.2% of lines).
    free = frame[(frame["Price"] == 0) & ~no_customer]
    assert 0.001 < len(free) / n < 0.003
    assert (free["Quantity"] > 0).all()

    # Exactly two extreme orders, each cancelled within minutes.
    huge = frame[frame["Quantity"].abs() > 10_000]
    assert (huge["Quantity"] > 0).sum() == 2 and (huge["Quantity"] < 0).sum() == 2
    assert sorted(-huge.loc[huge["Quantity"] < 0, "Quantity"]) == sorted(
        huge.loc[huge["Quantity"] > 0, "Quantity"]
    )
    assert huge["Customer ID"].notna().all()

    # Exact duplicate lines inside an invoice (~0.3% of lines).
    assert 0.002 < frame.duplicated().mean() < 0.0045


def test_no_dirt_means_clean_input() -> None:
    frame = synth.transactions_frame(3_000, seed=9, dirt=synth.NO_DIRT)
    assert len(clean_lines(frame)) == len(frame)
    assert (frame["Price"] > 0).all()
    assert frame.duplicated().mean() < 0.001  # only coincidences (same item twice)


def test_invoices_and_rows_in_time_order(lines_20k) -> None:
    number = lines_20k["Invoice"].str.lstrip("CA").astype(int)
    assert number.iloc[0] == synth.FIRST_INVOICE_NUMBER
    assert (number.diff().dropna() >= 0).all()
    assert number.nunique() == lines_20k["Invoice"].nunique()
    assert lines_20k["InvoiceDate"].is_monotonic_increasing
    assert lines_20k["InvoiceDate"].min() >= pd.Timestamp(synth.TRANSACTIONS_START)
    assert lines_20k["InvoiceDate"].max() < pd.Timestamp(synth.TRANSACTIONS_END) + pd.Timedelta(
        days=1
    )
    assert (lines_20k["InvoiceDate"].dt.second == 0).all()
    hours = lines_20k["InvoiceDate"].dt.hour
    assert hours.between(7, 19).all()


def test_streaming_chunks_and_buckets(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(synth, "TARGET_LINES_PER_BUCKET", 2_000)
    messages: list[str] = []
    frame = synth.transactions_frame(
        1_000, seed=21, chunk_customers=300, spill_dir=tmp_path, progress=messages.append
    )
    assert sum("customers" in m for m in messages) == 4  # 300 + 300 + 300 + 100
    assert sum("lines written" in m for m in messages) > 1  # several time buckets
    assert list(tmp_path.iterdir()) == []  # spill files removed
    number = frame["Invoice"].str.lstrip("CA").astype(int)
    assert (number.diff().dropna() >= 0).all() and frame["InvoiceDate"].is_monotonic_increasing
    assert (frame["Quantity"].abs() > 10_000).sum() == 4  # 2 extreme orders, 2 cancellations
    truth = synth.transactions_truth(1_000, seed=21, chunk_customers=300)
    clean = clean_lines(frame)
    clean = clean[clean["Quantity"] < 10_000]
    assert clean["Invoice"].nunique() == truth.order_counts.sum()
    assert set(clean["Customer ID"]) == set(truth.customer_id)
    revenue = (clean["Quantity"] * clean["Price"]).sum()
    assert abs(revenue - np.round(truth.order_value, 2).sum()) < 1e-4


# ------------------------------------------------------------------------------ formats


def test_csv_columns_and_formats(tmp_path) -> None:
    csv_path = tmp_path / "lines.csv"
    parquet_path = tmp_path / "lines.parquet"
    rows = synth.write_transactions(csv_path, 2_000, seed=8)
    assert synth.write_transactions(parquet_path, 2_000, seed=8) == rows
    text = csv_path.read_text(encoding="utf-8").splitlines()
    assert text[0] == "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
    assert len(text) == rows + 1
    patterns = [
        r"[CA]?\d{6}",
        r"[0-9]{5}[A-Z]?|B",
        r"[A-Za-z0-9 ?\-]*",
        r"-?\d+",
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
        r"-?\d+\.\d{2}",
        r"(\d{5,})?",
        r"[A-Za-z ]+",
    ]
    matchers = [re.compile(p) for p in patterns]
    for line in text[1:]:
        fields = line.split(",")
        assert len(fields) == 8, line
        for field, matcher in zip(fields, matchers, strict=True):
            assert matcher.fullmatch(field), (field, line)
    assert any(line.split(",")[6] == "" for line in text[1:])

    from_csv = pd.read_csv(csv_path, dtype={"Invoice": str, "StockCode": str})
    from_parquet = pd.read_parquet(parquet_path)
    assert list(from_parquet.columns) == list(ONLINE_RETAIL_II_COLUMNS)
    assert pq.read_schema(parquet_path).equals(synth.TRANSACTIONS_SCHEMA)
    assert (from_csv["Invoice"] == from_parquet["Invoice"]).all()
    assert (from_csv["Price"] == from_parquet["Price"]).all()
    assert from_csv["Customer ID"].equals(from_parquet["Customer ID"].astype(float))
    assert (pd.to_datetime(from_csv["InvoiceDate"]) == from_parquet["InvoiceDate"]).all()


def test_customer_summaries_shape_and_consistency(tmp_path) -> None:
    frame = synth.customer_summaries_frame(3_000, seed=4)
    assert list(frame.columns) == list(FLO_COLUMNS)
    assert len(frame) == 3_000
    uuid4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert frame["master_id"].map(lambda s: bool(uuid4.fullmatch(s))).all()
    assert frame["master_id"].is_unique
    assert set(frame["order_channel"]) == set(synth.ONLINE_CHANNELS)
    assert set(frame["last_order_channel"]) == {*synth.ONLINE_CHANNELS, "Offline"}
    dates = [c for c in FLO_COLUMNS if c.endswith("_date") or "_date_" in c]
    for column in dates:
        assert frame[column].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    day = {c: pd.to_datetime(frame[c]) for c in dates}
    assert (day["last_order_date"] == np.maximum(day["last_order_date_online"],
                                                 day["last_order_date_offline"])).all()  # fmt: skip
    for column in dates:
        assert (day["first_order_date"] <= day[column]).all()
    assert day["last_order_date"].min() >= pd.Timestamp(synth.FLO_START)
    assert day["last_order_date"].max() <= pd.Timestamp(synth.FLO_END)
    assert (day["first_order_date"] < pd.Timestamp(synth.FLO_START)).mean() > 0.3
    offline_last = frame["last_order_channel"] == "Offline"
    assert (
        day["last_order_date_offline"][offline_last] == day["last_order_date"][offline_last]
    ).all()
    assert (
        day["last_order_date_online"][~offline_last] == day["last_order_date"][~offline_last]
    ).all()
    for channel in ("online", "offline"):
        orders = frame[f"order_num_total_ever_{channel}"]
        value = frame[f"customer_value_total_ever_{channel}"]
        assert orders.dtype == float and (orders >= 1).all() and (orders % 1 == 0).all()
        assert (value > 0).all() and (value.round(2) == value).all()
    categories = frame["interested_in_categories_12"]
    words = "|".join(synth.CATEGORIES)
    assert categories.str.fullmatch(rf"\[(({words})(, ({words}))*)?\]").all()
    assert (categories == "[]").any()
    mean_order = (
        frame["customer_value_total_ever_online"] + frame["customer_value_total_ever_offline"]
    ).sum() / (frame["order_num_total_ever_online"] + frame["order_num_total_ever_offline"]).sum()
    assert 100 < mean_order < 250  # TRY, FLO_GAMMA_GAMMA mean is 150

    path = tmp_path / "flo.csv"
    assert synth.write_customer_summaries(path, 300, seed=4) == 300
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(FLO_COLUMNS)
    assert re.search(r",\d+\.0,\d+\.0,\d+\.\d{1,2},\d+\.\d{1,2},\"?\[", lines[1]), lines[1]
    parquet = tmp_path / "flo.parquet"
    synth.write_customer_summaries(parquet, 300, seed=4)
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), pd.read_csv(path), check_dtype=False)


def test_command_line(tmp_path, capsys) -> None:
    out = tmp_path / "tx.parquet"
    argv = ["transactions", "--customers", "200", "--seed", "1", "--out", str(out)]
    assert synth.main(argv) == 0
    assert pq.read_metadata(out).num_rows > 0
    assert "customers 200/200" in capsys.readouterr().err
    flo = tmp_path / "flo.csv"
    argv = ["customer-summaries", "--customers", "50", "--seed", "1", "--out", str(flo)]
    assert synth.main(argv) == 0
    assert len(pd.read_csv(flo)) == 50
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        synth.main(["transactions", "--customers", "5", "--seed", "1", "--out", "x.txt"])
