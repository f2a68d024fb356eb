"""Each validation model's expected cumulative repeat purchases, by week, of one customer
acquired on a given day of the period. A thin adapter around
crm_analytics.btyd.tracking_expectations; cltv_validation_tracking weights and sums
them in SQL."""

from crm_analytics.btyd import tracking_expectations
from crm_analytics.frames import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    time_unit_days = float(dbt.config.get("time_unit_days"))
    births = to_pandas(dbt.ref("int_validation_birth_inputs_counted"))
    fits = to_pandas(dbt.ref("int_validation_models_fitted"))
    weeks = births[["dataset", "period_weeks"]].drop_duplicates()
    expectations = tracking_expectations(
        births[["dataset", "birth_offset_days"]],
        weeks.rename(columns={"period_weeks": "weeks"}),
        fits,
        time_unit_days=time_unit_days,
    )
    # without transactions the frame is empty and its dataset column an empty object column,
    # which DuckDB stores as INTEGER; the unit test of cltv_validation_tracking casts its rows
    # to this table's types, so it must be text in every build
    return expectations.astype({"dataset": "str"})
