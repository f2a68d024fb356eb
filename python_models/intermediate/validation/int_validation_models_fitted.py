"""Fits every validation transaction model per dataset on the calibration period.

A thin adapter around crm_analytics.btyd.fit_validation_models; the SQL model
int_validation_fit_inputs_counted supplies the weighted distinct calibration rows.
"""

from crm_analytics.btyd import fit_validation_models
from crm_analytics.frames import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    models = dbt.config.get("validation_models")
    penalizer = dbt.config.get("transaction_model_penalizer")
    fit_rows = to_pandas(dbt.ref("int_validation_fit_inputs_counted"))
    return fit_validation_models(
        fit_rows[["dataset", "frequency", "recency", "customer_age", "customers"]],
        models=list(models),
        penalizer=float(penalizer),
    )
