"""BTYD models: purchase counts (BG/NBD, Pareto/NBD, MBG/NBD) and spend per purchase
(Gamma-Gamma), cut by model as ``lifetimes`` and pymc-marketing are.

Layout:

* `names`: the model names and display labels (`MODEL_LABELS`, `TRANSACTION_MODELS`).
* `bgnbd`, `pareto_nbd`, `mbgnbd`: one module per transaction model, each with
  ``PARAMETERS``, ``log_likelihood``, ``probability_alive``, ``expected_purchases``,
  ``expected_purchases_since_acquisition``, ``probability_of_repeat_purchases``,
  ``conditional_probability_of_purchases``, ``fit_attempt`` and ``fit``.
* `gamma_gamma`: ``PARAMETERS``, ``log_likelihood``, ``expected_average_profit``, ``fit``.
* `engine`: input checks, the fallback-penalizer loop, the ``lifetimes`` adapters (the only
  place ``lifetimes`` is imported) and the delta-method standard errors.
* `registry`: one `TransactionModel` entry per transaction model, and the functions that take
  a model name (`fit_transaction_model`, `probability_alive`, ...).
* `clv`: `customer_lifetime_value` and its transaction factor `discounted_expected_purchases`.
* `tables`: the table functions the dbt Python models call (SQL column names, ``customer_age``
  for the math's ``T``).

Units and conventions (those of ``lifetimes.utils.summary_data_from_transaction_data``):
``frequency`` = repeat purchases (integers >= 0); ``recency`` = time from the first to the last
purchase and ``T`` = time from the first purchase to the end of the observation period, in the
*model time unit* (a dbt var, default 7 days = weeks); ``monetary_value`` = mean value of the
repeat purchases, currency units; ``weights`` = customers per row (identical rows are merged
before fitting, so one row per customer and distinct rows with counts give the same fit).
"""

from crm_analytics.btyd import bgnbd, gamma_gamma, mbgnbd, pareto_nbd
from crm_analytics.btyd.clv import customer_lifetime_value, discounted_expected_purchases
from crm_analytics.btyd.engine import (
    DEFAULT_TRANSACTION_FALLBACKS,
    MAX_PARAMETER,
    MIN_PARAMETER,
    TRANSACTION_FALLBACK_FACTORS,
    FitResult,
    ModelFitError,
    fallback_penalizers,
)
from crm_analytics.btyd.names import (
    BGNBD,
    GAMMA_GAMMA,
    MBGNBD,
    MODEL_LABELS,
    PARETO_NBD,
    TRANSACTION_MODELS,
)
from crm_analytics.btyd.registry import (
    MODEL_PARAMETERS,
    TRANSACTION_MODEL_REGISTRY,
    TransactionModel,
    conditional_probability_of_purchases,
    expected_purchases,
    expected_purchases_since_acquisition,
    fit_transaction_model,
    probability_alive,
    probability_of_repeat_purchases,
    transaction_log_likelihood,
    transaction_model,
)
from crm_analytics.btyd.tables import (
    FIT_COLUMNS,
    PARAMETER_COLUMNS,
    chosen_models,
    fit_models,
    fit_validation_models,
    holdout_log_probabilities,
    holdout_predictions,
    period_transaction_probabilities,
    score_profiles,
    tracking_expectations,
)
from crm_analytics.units import DAYS_PER_WEEK

__all__ = [
    "BGNBD",
    "DAYS_PER_WEEK",
    "DEFAULT_TRANSACTION_FALLBACKS",
    "FIT_COLUMNS",
    "GAMMA_GAMMA",
    "MAX_PARAMETER",
    "MBGNBD",
    "MIN_PARAMETER",
    "MODEL_LABELS",
    "MODEL_PARAMETERS",
    "PARAMETER_COLUMNS",
    "PARETO_NBD",
    "TRANSACTION_FALLBACK_FACTORS",
    "TRANSACTION_MODELS",
    "TRANSACTION_MODEL_REGISTRY",
    "FitResult",
    "ModelFitError",
    "TransactionModel",
    "bgnbd",
    "chosen_models",
    "conditional_probability_of_purchases",
    "customer_lifetime_value",
    "discounted_expected_purchases",
    "expected_purchases",
    "expected_purchases_since_acquisition",
    "fallback_penalizers",
    "fit_models",
    "fit_transaction_model",
    "fit_validation_models",
    "gamma_gamma",
    "holdout_log_probabilities",
    "holdout_predictions",
    "mbgnbd",
    "pareto_nbd",
    "period_transaction_probabilities",
    "probability_alive",
    "probability_of_repeat_purchases",
    "score_profiles",
    "tracking_expectations",
    "transaction_log_likelihood",
    "transaction_model",
]
