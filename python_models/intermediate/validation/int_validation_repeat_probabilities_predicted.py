"""Each validation model's probability of 0, 1, ..., 6 and 7+ repeat purchases within T, for
every distinct calibration T. A thin adapter around
crm_analytics.btyd.period_transaction_probabilities."""

from crm_analytics.btyd import period_transaction_probabilities
from crm_analytics.frames import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    ages = to_pandas(dbt.ref("int_validation_age_inputs_counted"))
    fits = to_pandas(dbt.ref("int_validation_models_fitted"))
    return period_transaction_probabilities(
        ages[["dataset", "customer_age_days", "customer_age"]], fits, max_repeat=7
    )
