"""Numbers, money, months and model names as the report prints them.

The currency is not in the data: ``DEFAULT_CURRENCIES`` maps the project's default dataset names
to theirs (Online Retail II: GBP, FLO: TRY); other datasets say "currency units".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from crm_analytics.btyd import MODEL_LABELS

DEFAULT_CURRENCIES: dict[str, str] = {"online_retail": "GBP", "flo": "TRY"}
FALLBACK_CURRENCY = "currency units"


def currency_for(dataset: str, currencies: Mapping[str, str] | None = None) -> str:
    """The dataset's currency code, or 'currency units' when it is not known."""
    mapping = DEFAULT_CURRENCIES if currencies is None else currencies
    return mapping.get(dataset, FALLBACK_CURRENCY)


def is_finite(value: object) -> bool:
    """True for a value that reads as a finite number (not None, NaN, infinite or text)."""
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def fmt_int(value: object) -> str:
    """'12,345', or '-' for a missing value."""
    return f"{int(value):,}" if is_finite(value) else "-"  # type: ignore[call-overload]


def fmt_num(value: object, digits: int = 1) -> str:
    """'1,234.5' with `digits` decimals, or '-'."""
    return f"{float(value):,.{digits}f}" if is_finite(value) else "-"  # type: ignore[arg-type]


def fmt_pct(value: object, digits: int = 0) -> str:
    """A share as a percentage, '35%', or '-'."""
    return f"{float(value):.{digits}%}" if is_finite(value) else "-"  # type: ignore[arg-type]


def fmt_money(value: object, currency: str, digits: int | None = None) -> str:
    """'GBP 1,234' (or '1,234 currency units'); two decimals below 100, none above."""
    if not is_finite(value):
        return "-"
    number = float(value)  # type: ignore[arg-type]
    if digits is None:
        digits = 2 if abs(number) < 100 else 0
    text = f"{number:,.{digits}f}"
    return f"{text} {currency}" if currency == FALLBACK_CURRENCY else f"{currency} {text}"


def fmt_month(value: object) -> str:
    """'Nov 2011'."""
    return pd.Timestamp(value).strftime("%b %Y")  # type: ignore[arg-type]


def iso_dates(values: pd.Series) -> list[str]:
    """Dates as 'YYYY-MM-DD' text, the form plotly reads as a date axis."""
    return [pd.Timestamp(value).strftime("%Y-%m-%d") for value in values]


def model_label(model: str) -> str:
    """The display name of a model code ('mbgnbd' -> 'MBG/NBD'); unknown codes as they are."""
    return MODEL_LABELS.get(str(model).lower(), str(model))


def dataset_block_id(section_id: str, dataset: str) -> str:
    """The HTML id of a section's block for one dataset."""
    return f"{section_id}-{dataset}"


def partial_last_month(last_order_date: object) -> pd.Timestamp | None:
    """The last calendar month with orders when the data stop before its end, else None."""
    if last_order_date is None or pd.isna(last_order_date):  # type: ignore[arg-type]
        return None
    last = pd.Timestamp(last_order_date)  # type: ignore[arg-type]
    month_end = last + pd.offsets.MonthEnd(0)
    return last.to_period("M").to_timestamp() if last.normalize() < month_end else None
