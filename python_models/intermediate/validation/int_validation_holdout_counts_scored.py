"""The log-probability of every observed holdout count, given its calibration profile, per
validation model and for the Poisson baseline at the dataset's calibration rate.

A thin adapter around crm_analytics.btyd.holdout_log_probabilities;
int_validation_models_compared weights the rows by their customers into the holdout
log-likelihood.
"""

from crm_analytics.btyd import holdout_log_probabilities

COUNT_COLUMNS = [
    "dataset",
    "frequency",
    "recency_days",
    "customer_age_days",
    "duration_holdout_days",
    "recency",
    "customer_age",
    "duration_holdout",
    "holdout_purchases",
    "customers",
    "calibration_rate",
]


def model(dbt, session):
    dbt.config(materialized="table")
    counts = dbt.ref("int_validation_holdout_counts_counted").df()[COUNT_COLUMNS]
    fits = dbt.ref("int_validation_models_fitted").df()
    return holdout_log_probabilities(counts, fits, baseline_rate="calibration_rate")
