"""The names of the BTYD models and their display labels: the one place they are spelled out.

A model's name is what the tables' ``model`` column and the dbt vars (``transaction_model``,
``validation_models``) hold; its label is what messages and the report show.
"""

from __future__ import annotations

from typing import Final

BGNBD: Final = "bgnbd"
PARETO_NBD: Final = "pareto_nbd"
MBGNBD: Final = "mbgnbd"
GAMMA_GAMMA: Final = "gamma_gamma"

# The purchase-count ("transaction") models, in the order tables list them.
TRANSACTION_MODELS: Final[tuple[str, ...]] = (BGNBD, PARETO_NBD, MBGNBD)

MODEL_LABELS: Final[dict[str, str]] = {
    BGNBD: "BG/NBD",
    PARETO_NBD: "Pareto/NBD",
    MBGNBD: "MBG/NBD",
    GAMMA_GAMMA: "Gamma-Gamma",
}
