"""Fits BG/NBD and Gamma-Gamma per dataset on the weighted distinct rows that SQL built.

A thin adapter: the fitting, the fallback penalizers and the error messages live in
crm_analytics.btyd (pytest-tested). The public, contracted view of this table is
cltv_model_parameters.
"""

from crm_analytics.btyd import fit_models


def model(dbt, session):
    dbt.config(materialized="table")
    bgnbd_penalizer = dbt.config.get("bgnbd_penalizer")
    gamma_gamma_penalizer = dbt.config.get("gamma_gamma_penalizer")
    bgnbd_inputs = dbt.ref("int_bgnbd_inputs_counted").df()
    gamma_gamma_inputs = dbt.ref("int_gamma_gamma_inputs_counted").df()
    return fit_models(
        bgnbd_inputs.rename(columns={"customer_age": "T"}),
        gamma_gamma_inputs,
        bgnbd_penalizer=float(bgnbd_penalizer),
        gamma_gamma_penalizer=float(gamma_gamma_penalizer),
    )
