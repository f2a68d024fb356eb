"""Units shared by the package's modules (the one definition of each)."""

from __future__ import annotations

from typing import Final

DAYS_PER_WEEK: Final = 7  # days in a calendar week (and in the default model time unit)
