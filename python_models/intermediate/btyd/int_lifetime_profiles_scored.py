"""Scores every distinct lifetime profile with the fitted models of its dataset.

A thin adapter around crm_analytics.btyd.score_profiles. Horizons come in weeks (vars) and
are converted to the models' time unit here; cltv_predictions joins the scores back to the
customers in SQL. Per profile it also gives the interval of the expected purchases over the
month horizon and the spread of the log discounted purchases (delta method on the log scale).
"""

from crm_analytics.btyd import DAYS_PER_WEEK, score_profiles
from crm_analytics.frames import to_pandas, with_arrow_text


def model(dbt, session):
    dbt.config(materialized="table")
    time_unit_days = float(dbt.config.get("time_unit_days"))
    week_horizon_weeks = float(dbt.config.get("week_horizon_weeks"))
    month_horizon_weeks = float(dbt.config.get("month_horizon_weeks"))
    quarter_horizon_weeks = float(dbt.config.get("quarter_horizon_weeks"))
    cltv_horizon_months = int(dbt.config.get("cltv_horizon_months"))
    monthly_discount_rate = float(dbt.config.get("monthly_discount_rate"))
    weeks_per_month = float(dbt.config.get("weeks_per_month"))
    prediction_interval_level = float(dbt.config.get("prediction_interval_level"))

    units_per_week = DAYS_PER_WEEK / time_unit_days
    profiles = to_pandas(dbt.ref("int_lifetime_profiles_counted"))
    parameters = to_pandas(dbt.ref("int_btyd_models_fitted"))
    scores = score_profiles(
        profiles,
        parameters,
        horizons={
            "expected_purchases_week": week_horizon_weeks * units_per_week,
            "expected_purchases_month": month_horizon_weeks * units_per_week,
            "expected_purchases_quarter": quarter_horizon_weeks * units_per_week,
        },
        clv_months=cltv_horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        units_per_month=weeks_per_month * units_per_week,
        interval_horizon="expected_purchases_month",
        interval_level=prediction_interval_level,
    )
    # 1.5 M rows at 100 M invoice lines: text as Arrow, which DuckDB reads as a whole
    return with_arrow_text(scores)
