"""The baseline `make bench` measures the dbt build against: the course pipeline in pandas.

What a user of the CRM-analytics course would otherwise run on an invoice-line file, in one
process: read the file with pandas, then

1. RFM: drop rows with a missing value and cancellations, recency / frequency / monetary per
   customer, quintile scores with ``pd.qcut`` (frequency on ``rank(method="first")``), the
   R + F segment map;
2. the course's descriptive CLTV: totals per customer, average order value, purchase frequency,
   repeat and churn rate, profit margin (10 %), CLTV and its ``qcut`` quartile segment;
3. predictive CLV: quantity and price capped at q99 + 1.5 x (q99 - q01), the course's
   recency / T / frequency / monetary table (weeks, repeat buyers only), BG/NBD (penalizer
   0.001) and Gamma-Gamma (penalizer 0.01) with ``lifetimes``, expected purchases over 1, 4
   and 12 weeks, expected average profit, 3-month CLV and its quartile segment.

It follows the course's steps and conventions (not the project's corrected ones: the course
counts invoices where BTYD needs purchase days), because it is the work a user would replace
with the dbt build. It runs in one of two ways, which give the same values up to the order in
which floating-point sums are added (the last bit or two; a customer whose monetary value or
CLTV ties another's on a ``qcut`` edge can then land in the neighbouring score or segment):

* by default, the fast version: pandas' built-in aggregations (``("Invoice", "nunique")``),
  the strictest baseline the bench compares against;
* with ``--as-written``, the course code's own per-customer aggregations, a Python lambda per
  column and customer (``lambda x: x.nunique()``, ``lambda x: x.sum()``, the recency and
  customer age from ``max()`` and ``min()`` of each customer's dates): what a user who copied
  the course runs, several times slower (at 10 M lines 164 s against 32 s, ``make bench``).
  The scale issue's own "before" figures for pandas (110 s, 113 s of CPU at 10 M lines) are
  probably of this kind: the fast version takes 32 s there.

Usage: ``python scripts/course_pipeline_pandas.py FILE [--as-written] [--summary-json PATH]``;
``FILE`` is a ``.parquet`` or ``.csv`` file with the Online Retail II columns. It prints (and
optionally writes as JSON) a few totals so a run can be checked for sanity; timings are the
bench's job.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

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
ANALYSIS_DATE_OFFSET_DAYS = 2  # the course: last invoice date + 2 days
PROFIT_MARGIN = 0.10
DAYS_PER_WEEK = 7
BGNBD_PENALIZER = 0.001
GAMMA_GAMMA_PENALIZER = 0.01
CLV_MONTHS = 3
MONTHLY_DISCOUNT_RATE = 0.01


def read_lines(path: Path) -> pd.DataFrame:
    """The invoice lines as pandas reads them (Customer ID a float with NaN, as in the course)."""
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, parse_dates=["InvoiceDate"])


def rfm_segments(
    lines: pd.DataFrame, today_date: pd.Timestamp, *, as_written: bool = False
) -> pd.DataFrame:
    """The course's RFM table with scores and segments: one row per customer with revenue > 0.

    recency in whole days (pandas ``.days``), frequency in distinct invoices, monetary in the
    file's currency. ``as_written``: the course's lambda per column and customer.
    """
    df = lines.dropna()
    df = df[~df["Invoice"].str.contains("C", na=False)].copy()
    df["TotalPrice"] = df["Quantity"] * df["Price"]
    # Each function keeps the course's aggregation and the built-in one side by side, rather
    # than one helper for both: each branch then reads as the code it stands for.
    if as_written:
        rfm = df.groupby("Customer ID").agg(
            {
                "InvoiceDate": lambda dates: (today_date - dates.max()).days,
                "Invoice": lambda invoices: invoices.nunique(),
                "TotalPrice": lambda prices: prices.sum(),
            }
        )
        rfm.columns = ["recency", "frequency", "monetary"]
    else:
        rfm = df.groupby("Customer ID").agg(
            last_date=("InvoiceDate", "max"),
            frequency=("Invoice", "nunique"),
            monetary=("TotalPrice", "sum"),
        )
        rfm["recency"] = (today_date - rfm.pop("last_date")).dt.days
    rfm = rfm[rfm["monetary"] > 0][["recency", "frequency", "monetary"]]
    rfm["recency_score"] = pd.qcut(rfm["recency"], 5, labels=[5, 4, 3, 2, 1])
    rfm["frequency_score"] = pd.qcut(
        rfm["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]
    )
    rfm["monetary_score"] = pd.qcut(rfm["monetary"], 5, labels=[1, 2, 3, 4, 5])
    rfm["RF_SCORE"] = rfm["recency_score"].astype(str) + rfm["frequency_score"].astype(str)
    rfm["segment"] = rfm["RF_SCORE"].replace(SEGMENT_MAP, regex=True)
    return rfm


def descriptive_cltv(lines: pd.DataFrame, *, as_written: bool = False) -> pd.DataFrame:
    """The course's descriptive CLTV per customer (values in the file's currency).

    ``as_written``: the course's lambda per column and customer.
    """
    df = lines[~lines["Invoice"].str.contains("C", na=False)]
    df = df[df["Quantity"] > 0].dropna().copy()
    df["TotalPrice"] = df["Quantity"] * df["Price"]
    if as_written:
        cltv_c = df.groupby("Customer ID").agg(
            {
                "Invoice": lambda invoices: invoices.nunique(),
                "Quantity": lambda quantities: quantities.sum(),
                "TotalPrice": lambda prices: prices.sum(),
            }
        )
        cltv_c.columns = ["total_transaction", "total_unit", "total_price"]
    else:
        cltv_c = df.groupby("Customer ID").agg(
            total_transaction=("Invoice", "nunique"),
            total_unit=("Quantity", "sum"),
            total_price=("TotalPrice", "sum"),
        )
    cltv_c["average_order_value"] = cltv_c["total_price"] / cltv_c["total_transaction"]
    cltv_c["purchase_frequency"] = cltv_c["total_transaction"] / cltv_c.shape[0]
    repeat_rate = cltv_c[cltv_c["total_transaction"] > 1].shape[0] / cltv_c.shape[0]
    churn_rate = 1 - repeat_rate
    cltv_c["profit_margin"] = cltv_c["total_price"] * PROFIT_MARGIN
    cltv_c["customer_value"] = cltv_c["average_order_value"] * cltv_c["purchase_frequency"]
    cltv_c["cltv"] = (cltv_c["customer_value"] / churn_rate) * cltv_c["profit_margin"]
    cltv_c["segment"] = pd.qcut(cltv_c["cltv"], 4, labels=["D", "C", "B", "A"])
    return cltv_c


def outlier_thresholds(column: pd.Series) -> tuple[float, float]:
    """The course's capping limits: q01 - 1.5 IQR and q99 + 1.5 IQR, with IQR = q99 - q01."""
    quartile1 = column.quantile(0.01)
    quartile3 = column.quantile(0.99)
    interquantile_range = quartile3 - quartile1
    return quartile1 - 1.5 * interquantile_range, quartile3 + 1.5 * interquantile_range


def replace_with_thresholds(df: pd.DataFrame, variable: str) -> None:
    """Caps `variable` in place at its course limits (floats, as the course ends up with)."""
    low_limit, up_limit = outlier_thresholds(df[variable])
    df[variable] = df[variable].astype(float)
    df.loc[df[variable] < low_limit, variable] = low_limit
    df.loc[df[variable] > up_limit, variable] = up_limit


def predictive_cltv(
    lines: pd.DataFrame, today_date: pd.Timestamp, *, as_written: bool = False
) -> pd.DataFrame:
    """The course's BG/NBD + Gamma-Gamma CLV per repeat customer (recency and T in weeks).

    ``as_written``: the course's lambda per column and customer.
    """
    df = lines.dropna()
    df = df[~df["Invoice"].str.contains("C", na=False)]
    df = df[df["Quantity"] > 0]
    df = df[df["Price"] > 0].copy()
    replace_with_thresholds(df, "Quantity")
    replace_with_thresholds(df, "Price")
    df["TotalPrice"] = df["Quantity"] * df["Price"]
    if as_written:
        cltv_df = df.groupby("Customer ID").agg(
            {
                "InvoiceDate": [
                    lambda dates: (dates.max() - dates.min()).days,
                    lambda dates: (today_date - dates.min()).days,
                ],
                "Invoice": lambda invoices: invoices.nunique(),
                "TotalPrice": lambda prices: prices.sum(),
            }
        )
        cltv_df.columns = ["recency", "T", "frequency", "monetary"]
    else:
        cltv_df = df.groupby("Customer ID").agg(
            first_date=("InvoiceDate", "min"),
            last_date=("InvoiceDate", "max"),
            frequency=("Invoice", "nunique"),
            monetary=("TotalPrice", "sum"),
        )
        cltv_df["recency"] = (cltv_df["last_date"] - cltv_df["first_date"]).dt.days
        cltv_df["T"] = (today_date - cltv_df["first_date"]).dt.days
    cltv_df = cltv_df[["recency", "T", "frequency", "monetary"]]
    cltv_df["monetary"] = cltv_df["monetary"] / cltv_df["frequency"]
    cltv_df = cltv_df[cltv_df["frequency"] > 1].copy()
    cltv_df["recency"] = cltv_df["recency"] / DAYS_PER_WEEK
    cltv_df["T"] = cltv_df["T"] / DAYS_PER_WEEK

    bgf = BetaGeoFitter(penalizer_coef=BGNBD_PENALIZER)
    bgf.fit(cltv_df["frequency"], cltv_df["recency"], cltv_df["T"])
    for name, weeks in (("expected_purc_1_week", 1), ("expected_purc_1_month", 4)):
        cltv_df[name] = bgf.conditional_expected_number_of_purchases_up_to_time(
            weeks, cltv_df["frequency"], cltv_df["recency"], cltv_df["T"]
        )
    cltv_df["expected_purc_3_month"] = bgf.predict(
        4 * 3, cltv_df["frequency"], cltv_df["recency"], cltv_df["T"]
    )

    ggf = GammaGammaFitter(penalizer_coef=GAMMA_GAMMA_PENALIZER)
    ggf.fit(cltv_df["frequency"], cltv_df["monetary"])
    cltv_df["expected_average_profit"] = ggf.conditional_expected_average_profit(
        cltv_df["frequency"], cltv_df["monetary"]
    )
    cltv = ggf.customer_lifetime_value(
        bgf,
        cltv_df["frequency"],
        cltv_df["recency"],
        cltv_df["T"],
        cltv_df["monetary"],
        time=CLV_MONTHS,
        freq="W",
        discount_rate=MONTHLY_DISCOUNT_RATE,
    )
    cltv_df["clv"] = np.asarray(cltv)
    cltv_df["segment"] = pd.qcut(cltv_df["clv"], 4, labels=["D", "C", "B", "A"])
    return cltv_df


def run(path: Path, *, as_written: bool = False) -> dict[str, object]:
    """Runs the three parts of the course pipeline on `path`; returns totals for a sanity check.

    ``as_written``: aggregate with the course's lambdas instead of pandas' built-ins.
    """
    lines = read_lines(path)
    today_date = lines["InvoiceDate"].max().normalize() + pd.Timedelta(
        days=ANALYSIS_DATE_OFFSET_DAYS
    )
    rfm = rfm_segments(lines, today_date, as_written=as_written)
    cltv_c = descriptive_cltv(lines, as_written=as_written)
    with warnings.catch_warnings():
        # lifetimes' optimiser warns about overflow in exp() on the way; the course ignores it
        warnings.simplefilter("ignore")
        cltv_p = predictive_cltv(lines, today_date, as_written=as_written)
    return {
        "lines": len(lines),
        "analysis_date": str(today_date.date()),
        "rfm_customers": len(rfm),
        "rfm_champions": int((rfm["segment"] == "champions").sum()),
        "cltv_customers": len(cltv_c),
        "clv_customers": len(cltv_p),
        "clv_total": float(cltv_p["clv"].sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="invoice lines (.parquet or .csv)")
    parser.add_argument(
        "--as-written",
        action="store_true",
        help="aggregate per customer with the course's lambdas (slower; the same values)",
    )
    parser.add_argument("--summary-json", type=Path, help="also write the totals here")
    args = parser.parse_args(argv)
    summary = run(args.path, as_written=args.as_written)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.summary_json:
        args.summary_json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
