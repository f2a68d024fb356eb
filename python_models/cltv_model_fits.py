"""Fits the transaction model (BG/NBD unless the transaction_model var says otherwise) and
Gamma-Gamma per dataset on the weighted distinct rows that SQL built.

A thin adapter: the fitting, the fallback penalizers, the error messages and the choice of
model (`auto`: the backtest's selection from cltv_validation_summary) live in
crm_analytics.btyd.tables. The public, contracted view of this table is cltv_model_parameters.
"""

from crm_analytics.btyd import chosen_models, fit_models


def model(dbt, session):
    dbt.config(materialized="table")
    bgnbd_penalizer = dbt.config.get("bgnbd_penalizer")
    gamma_gamma_penalizer = dbt.config.get("gamma_gamma_penalizer")
    transaction_model = dbt.config.get("transaction_model")
    bgnbd_inputs = dbt.ref("int_bgnbd_inputs_counted").df()
    gamma_gamma_inputs = dbt.ref("int_gamma_gamma_inputs_counted").df()
    summary = dbt.ref("cltv_validation_summary").df()
    return fit_models(
        bgnbd_inputs,
        gamma_gamma_inputs,
        bgnbd_penalizer=float(bgnbd_penalizer),
        gamma_gamma_penalizer=float(gamma_gamma_penalizer),
        transaction_model=chosen_models(summary, transaction_model),
    )
