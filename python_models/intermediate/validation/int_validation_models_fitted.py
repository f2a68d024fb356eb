"""Fits every validation transaction model per dataset on the calibration period.

A thin adapter around crm_analytics.btyd.fit_validation_models; the SQL model
int_validation_fit_inputs_counted supplies the weighted distinct calibration rows.
"""

from crm_analytics.btyd import fit_validation_models


def model(dbt, session):
    dbt.config(materialized="table")
    models = dbt.config.get("validation_models")
    penalizer = dbt.config.get("transaction_model_penalizer")
    fit_rows = dbt.ref("int_validation_fit_inputs_counted").df()
    return fit_validation_models(
        fit_rows[["dataset", "frequency", "recency", "customer_age", "customers"]],
        models=list(models),
        penalizer=float(penalizer),
    )
