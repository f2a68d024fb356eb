"""Fits each dataset's transaction model and Gamma-Gamma on the weighted distinct rows that
SQL built.

A thin adapter: which transaction model each dataset gets is decided in SQL
(int_transaction_models_chosen); the fitting, the fallback penalizers and the error messages
live in crm_analytics.btyd. The public, contracted view of this table is cltv_model_parameters.
"""

from crm_analytics.btyd import fit_models
from crm_analytics.frames import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    transaction_model_penalizer = dbt.config.get("transaction_model_penalizer")
    gamma_gamma_penalizer = dbt.config.get("gamma_gamma_penalizer")
    weak_identification_relative_se = dbt.config.get("weak_identification_relative_se")
    transaction_inputs = to_pandas(dbt.ref("int_transaction_model_inputs_counted"))
    gamma_gamma_inputs = to_pandas(dbt.ref("int_gamma_gamma_inputs_counted"))
    chosen = to_pandas(dbt.ref("int_transaction_models_chosen"))
    return fit_models(
        transaction_inputs,
        gamma_gamma_inputs,
        transaction_model_penalizer=float(transaction_model_penalizer),
        gamma_gamma_penalizer=float(gamma_gamma_penalizer),
        transaction_model=dict(zip(chosen["dataset"], chosen["transaction_model"], strict=True)),
        max_relative_standard_error=float(weak_identification_relative_se),
    )
