"""Expected holdout purchases of every distinct calibration profile, per validation model.

A thin adapter around crm_analytics.btyd.holdout_predictions.
"""

from crm_analytics.btyd import holdout_predictions
from crm_analytics.frames import to_pandas, with_arrow_text

PROFILE_COLUMNS = [
    "dataset",
    "frequency",
    "recency_days",
    "customer_age_days",
    "duration_holdout_days",
    "recency",
    "customer_age",
    "duration_holdout",
]


def model(dbt, session):
    dbt.config(materialized="table")
    profiles = to_pandas(dbt.ref("int_validation_holdout_inputs_counted"))[PROFILE_COLUMNS]
    fits = to_pandas(dbt.ref("int_validation_models_fitted"))
    # 3.7 M rows at 100 M invoice lines: text as Arrow, which DuckDB reads as a whole
    return with_arrow_text(holdout_predictions(profiles, fits))
