"""Deterministic synthetic retail data with a known BTYD truth.

Two outputs, both generated from the same customer-level model:

* **transactions**: invoice lines shaped like UCI Online Retail II
  (``Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, Country``),
  including the kinds of dirt the real file has (cancellations, guest invoices, free items,
  bad-debt adjustments, stock adjustments, two extreme orders, exact duplicate lines);
* **customer summaries**: one row per customer shaped like the FLO data set.

The purchase model (time unit: **weeks**) is BG/NBD: each customer has a purchase rate
``lambda ~ Gamma(shape=r, rate=alpha)`` (purchases per week while alive) and a dropout
probability ``p ~ Beta(a, b)``. The first purchase happens at a time drawn uniformly over the
acquisition window; repeat purchases follow a Poisson process with rate ``lambda``; right after
every *repeat* purchase the customer drops out for good with probability ``p``. As in Fader,
Hardie and Lee (2005) and ``lifetimes.BetaGeoFitter``, there is no dropout at the first
purchase (allowing it gives the MBG/NBD model; see `simulate_customers`).
Order values follow Gamma-Gamma: ``nu ~ Gamma(shape=q, rate=gamma)`` per customer and each
order's value ``z ~ Gamma(shape=p, rate=nu)`` (mean ``p / nu``), in currency units (GBP for
transactions). ``lifetimes`` calls the Gamma-Gamma parameters ``p, q, v`` with ``v = gamma``.

Everything is seeded (numpy ``default_rng`` on a ``SeedSequence``): the same arguments give the
same bytes. Each chunk of customers and each kind of dirt has its own random stream, so the
clean purchase history does not depend on the dirt settings. Once the dirt is removed with the
project's cleaning rules (drop lines without customer, ``C`` invoices, quantity <= 0, price < 0)
the remaining invoices are exactly the simulated purchases, their totals equal the simulated
order values rounded to the penny, except for the ``extreme_orders`` (by default 2 extra orders
of a huge quantity, whose cancellations are dropped by cleaning, as in the real data).

Large outputs are streamed: customers are simulated in chunks (default 50,000), lines are
spilled to temporary Arrow files per time bucket and each bucket is sorted and written in turn,
so memory stays bounded and the output rows are in global time (and invoice-number) order.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import itertools
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as paipc
import pyarrow.parquet as pq

from crm_analytics.schemas import FLO_COLUMNS, ONLINE_RETAIL_II_COLUMNS
from crm_analytics.units import DAYS_PER_WEEK

# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

MINUTES_PER_DAY = 24 * 60
OPENING_MINUTE = 7 * 60  # purchases are recorded between 07:00 ...
OPENING_MINUTES = 13 * 60  # ... and 19:59 (see `_minute_of`)
FIRST_INVOICE_NUMBER = 489434  # first invoice of Online Retail II
FIRST_CUSTOMER_ID = 12346  # smallest customer id of Online Retail II
DEFAULT_CHUNK_CUSTOMERS = 50_000
TARGET_LINES_PER_BUCKET = 1_500_000  # bounds the memory of the final sort of a large run

TRANSACTIONS_START = dt.date(2009, 12, 1)
TRANSACTIONS_END = dt.date(2011, 12, 9)
FLO_START = dt.date(2020, 6, 1)
FLO_END = dt.date(2021, 5, 30)
FLO_ACQUISITION_START = dt.date(2017, 1, 1)


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters, time unit weeks (``lifetimes.BetaGeoFitter`` names).

    ``lambda ~ Gamma(shape=r, rate=alpha)`` is the purchase rate per week while alive (mean
    ``r / alpha``); ``p ~ Beta(a, b)`` is the probability of dropping out after a purchase
    (mean ``a / (a + b)``).
    """

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if not value > 0:
                raise ValueError(f"BgNbdParams.{name} must be > 0, got {value}")


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma spend parameters (``lifetimes.GammaGammaFitter`` calls ``gamma`` ``v``).

    ``nu ~ Gamma(shape=q, rate=gamma)`` per customer; each order's value
    ``z ~ Gamma(shape=p, rate=nu)``, in currency units. Mean order value over customers is
    ``p * gamma / (q - 1)`` (finite for ``q > 1``).
    """

    p: float
    q: float
    gamma: float

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if not value > 0:
                raise ValueError(f"GammaGammaParams.{name} must be > 0, got {value}")

    @property
    def mean_order_value(self) -> float:
        """Population mean order value, currency units (infinite when ``q <= 1``)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else math.inf


@dataclass(frozen=True)
class DirtConfig:
    """How much of each kind of Online Retail II dirt to add (fractions are expectations).

    Removed by cleaning (truth unchanged): ``guest_line_fraction`` (share of all sale lines that
    belong to guest invoices without customer), ``cancel_order_fraction`` (share of customer
    orders followed by a ``C`` invoice copying some of their lines with negative quantity),
    ``adjustment_line_fraction`` (one-line stock adjustments: negative quantity, price 0, no
    customer, relative to sale lines), ``bad_debt_per_1000_customers`` (``A`` invoices, stock
    code ``B``, negative price, no customer).
    Kept by cleaning, value-neutral: ``zero_price_line_fraction`` (free items added to customer
    orders), ``duplicate_line_fraction`` (a line repeated verbatim in its invoice; the line is
    sized so that the invoice total still equals the order value).
    Changes the truth: ``extreme_orders`` extra orders of 50,000-90,000 units of a cheap item,
    each cancelled minutes later (added to the first chunk of customers only).
    """

    guest_line_fraction: float = 0.17
    cancel_order_fraction: float = 0.02
    zero_price_line_fraction: float = 0.002
    duplicate_line_fraction: float = 0.003
    adjustment_line_fraction: float = 0.003
    bad_debt_per_1000_customers: float = 1.0
    extreme_orders: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.guest_line_fraction < 1:
            raise ValueError("guest_line_fraction must be in [0, 1)")
        for name in (
            "cancel_order_fraction",
            "zero_price_line_fraction",
            "duplicate_line_fraction",
            "adjustment_line_fraction",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]")
        if self.bad_debt_per_1000_customers < 0 or self.extreme_orders < 0:
            raise ValueError("bad_debt_per_1000_customers and extreme_orders must be >= 0")


# True parameters of the generated data. r/alpha gives 0.1 purchases per week while alive; with
# acquisition spread over the two years about half of the customers buy again (CDNOW's
# r=0.25, alpha=4.0 gives far fewer repeat buyers over a shorter observed life).
DEFAULT_BGNBD = BgNbdParams(r=0.5, alpha=5.0, a=0.8, b=2.5)
# Mean order value 6 * 50 / 2.5 = 120 GBP; customer means from tens to a few hundred GBP.
DEFAULT_GAMMA_GAMMA = GammaGammaParams(p=6.0, q=3.5, gamma=50.0)
# FLO values are in TRY: mean order value 6 * 62.5 / 2.5 = 150 TRY, as in the FLO data.
FLO_GAMMA_GAMMA = GammaGammaParams(p=6.0, q=3.5, gamma=62.5)
DEFAULT_DIRT = DirtConfig()
NO_DIRT = DirtConfig(
    guest_line_fraction=0.0,
    cancel_order_fraction=0.0,
    zero_price_line_fraction=0.0,
    duplicate_line_fraction=0.0,
    adjustment_line_fraction=0.0,
    bad_debt_per_1000_customers=0.0,
    extreme_orders=0,
)

# --------------------------------------------------------------------------------------------
# Random streams
# --------------------------------------------------------------------------------------------

_DOMAIN_TRANSACTIONS = 0
_DOMAIN_FLO = 1
(
    _S_CUSTOMERS,
    _S_LINES,
    _S_DUPLICATES,
    _S_COUNTRY,
    _S_GUESTS,
    _S_CANCELS,
    _S_ZERO_PRICE,
    _S_ADJUSTMENTS,
    _S_BAD_DEBT,
    _S_EXTREME,
) = range(10)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """An independent generator for ``seed`` and a tuple of stream keys."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


# --------------------------------------------------------------------------------------------
# BTYD simulation
# --------------------------------------------------------------------------------------------


def _weeks(origin: dt.date, day: dt.date) -> float:
    """Weeks from midnight of ``origin`` to midnight of ``day``."""
    return (day - origin).days / DAYS_PER_WEEK


def _segment_index(counts: np.ndarray) -> np.ndarray:
    """0-based position of every element inside its segment, for segments of ``counts``."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


@dataclass(frozen=True)
class SimulatedCustomers:
    """The simulated truth for a set of customers (times in weeks since ``origin`` midnight).

    Orders are stored flat and grouped by customer: customer ``i`` owns orders
    ``order_offsets[i]:order_offsets[i + 1]``, in time order, the first being the acquisition.
    ``order_value`` is in currency units, unrounded. ``lam`` (purchases per week), ``p``
    (dropout probability) and ``nu`` (Gamma-Gamma rate) are the latent per-customer draws.
    ``observation_end`` is the end of observation, weeks since ``origin``.
    """

    origin: dt.date
    observation_end: float
    customer_id: np.ndarray
    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray
    order_offsets: np.ndarray
    order_time: np.ndarray
    order_value: np.ndarray

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.customer_id)

    @property
    def order_counts(self) -> np.ndarray:
        """Orders per customer (>= 1)."""
        return np.diff(self.order_offsets)

    @property
    def order_customer(self) -> np.ndarray:
        """Customer position (0-based row, not id) of every order."""
        return np.repeat(np.arange(self.n_customers), self.order_counts)

    @property
    def first_purchase(self) -> np.ndarray:
        """Time of the first purchase, weeks since ``origin``."""
        return self.order_time[self.order_offsets[:-1]]

    @property
    def last_purchase(self) -> np.ndarray:
        """Time of the last purchase, weeks since ``origin``."""
        return self.order_time[self.order_offsets[1:] - 1]

    def subset(self, mask: np.ndarray) -> SimulatedCustomers:
        """The customers where ``mask`` is true, with their orders."""
        mask = np.asarray(mask, dtype=bool)
        counts = self.order_counts[mask]
        order_mask = np.repeat(mask, self.order_counts)
        return SimulatedCustomers(
            origin=self.origin,
            observation_end=self.observation_end,
            customer_id=self.customer_id[mask],
            lam=self.lam[mask],
            p=self.p[mask],
            nu=self.nu[mask],
            order_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            order_time=self.order_time[order_mask],
            order_value=self.order_value[order_mask],
        )

    def summary(self) -> pd.DataFrame:
        """Exact BTYD sufficient statistics from the continuous purchase times.

        One row per customer (index ``customer_id``): ``frequency`` (repeat purchases),
        ``recency`` and ``T`` in weeks (first to last purchase; first purchase to observation
        end) and ``monetary_value`` (mean value of the repeat purchases, 0 without repeats).
        """
        counts = self.order_counts
        frequency = counts - 1
        values = self.order_value.copy()
        values[self.order_offsets[:-1]] = 0.0  # the first purchase is not a repeat purchase
        repeat_total = np.add.reduceat(values, self.order_offsets[:-1]) if len(values) else []
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
        return pd.DataFrame(
            {
                "frequency": frequency,
                "recency": self.last_purchase - self.first_purchase,
                "T": self.observation_end - self.first_purchase,
                "monetary_value": monetary,
            },
            index=pd.Index(self.customer_id, name="customer_id"),
        )


def simulate_customers(
    n_customers: int,
    bgnbd: BgNbdParams,
    gg: GammaGammaParams,
    start: dt.date,
    end: dt.date,
    rng: np.random.Generator,
    *,
    acquisition_start: dt.date | None = None,
    acquisition_end: dt.date | None = None,
    first_customer_id: int = FIRST_CUSTOMER_ID,
    dropout_after_first: bool = False,
) -> SimulatedCustomers:
    """Simulate BG/NBD purchase times and Gamma-Gamma order values for ``n_customers``.

    Time 0 is midnight at the start of ``start``; observation ends at midnight after ``end``
    (both days included). First purchases are uniform over the acquisition window (by default
    the whole observation period; both bounds are days, included). Times are in weeks,
    values in currency units. Customer ids are ``first_customer_id, first_customer_id + 1, ...``.

    Dropout follows the BG/NBD of Fader, Hardie and Lee (2005), which ``lifetimes``'
    ``BetaGeoFitter`` fits: a customer may become inactive (probability ``p``) right after each
    *repeat* purchase, never at the first purchase (a customer with no repeat purchase is alive).
    ``dropout_after_first=True`` also allows dropout right after the first purchase: that is
    the MBG/NBD model (``ModifiedBetaGeoFitter``), which ``BetaGeoFitter`` does not recover.
    """
    if n_customers < 0:
        raise ValueError("n_customers must be >= 0")
    horizon = _weeks(start, end + dt.timedelta(days=1))
    acq_lo = _weeks(start, acquisition_start or start)
    acq_hi = _weeks(start, (acquisition_end or end) + dt.timedelta(days=1))
    if not 0 <= acq_lo < acq_hi <= horizon:
        raise ValueError("the acquisition window must lie inside start..end")
    n = n_customers
    lam = rng.gamma(bgnbd.r, 1.0 / bgnbd.alpha, n)
    p = rng.beta(bgnbd.a, bgnbd.b, n)
    nu = rng.gamma(gg.q, 1.0 / gg.gamma, n)
    t0 = rng.uniform(acq_lo, acq_hi, n)
    window = horizon - t0
    # Repeat purchases up to and including the one after which the customer drops out:
    # Geometric(p) on 1, 2, ... (BG/NBD: no dropout at the first purchase; MBG/NBD: one less).
    alive_repeats = rng.geometric(np.clip(p, 1e-12, 1.0)) - int(dropout_after_first)
    # Poisson events over the rest of the window; the customer makes the first alive_repeats.
    events = rng.poisson(lam * window)
    repeats = np.minimum(events, alive_repeats)
    # The first `repeats` of `events` iid uniform points, as order statistics:
    # log(1 - U_(j)) = sum_{i <= j} log(V_i) / (events - i + 1), V_i iid uniform.
    total = int(repeats.sum())
    owner = np.repeat(np.arange(n), repeats)
    j = _segment_index(repeats)
    steps = np.log1p(-rng.random(total)) / (events[owner] - j)
    cum = np.cumsum(steps)
    seg_end = np.cumsum(repeats)
    seg_base = np.concatenate([[0.0], cum])[seg_end - repeats]
    u = -np.expm1(cum - np.repeat(seg_base, repeats))
    repeat_time = t0[owner] + u * window[owner]

    counts = repeats + 1
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    order_time = np.empty(int(offsets[-1]))
    is_first = np.zeros(len(order_time), dtype=bool)
    is_first[offsets[:-1]] = True
    order_time[is_first] = t0
    order_time[~is_first] = repeat_time
    order_value = rng.gamma(gg.p, 1.0 / np.repeat(nu, counts))
    return SimulatedCustomers(
        origin=start,
        observation_end=horizon,
        customer_id=np.arange(first_customer_id, first_customer_id + n, dtype=np.int64),
        lam=lam,
        p=p,
        nu=nu,
        order_offsets=offsets,
        order_time=order_time,
        order_value=order_value,
    )


# --------------------------------------------------------------------------------------------
# Product catalogue and reference tables
# --------------------------------------------------------------------------------------------

_COLOURS = (
    "WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "CREAM", "BLACK", "PURPLE", "SILVER",
    "GOLD", "ANTIQUE", "VINTAGE", "PASTEL", "ORANGE", "YELLOW",
)  # fmt: skip
_MOTIFS = (
    "HANGING HEART", "RETROSPOT", "POLKADOT", "REGENCY", "PAISLEY", "UNION JACK", "SPACEBOY",
    "DOLLY GIRL", "WOODLAND", "LITTLE BIRDIE", "STAR", "FLORAL", "SKULL", "LOVEBIRD", "ROSE",
    "DAISY", "OWL", "ROBIN", "SPOTTY", "STRIPE", "GINGHAM", "ALPHABET", "JUNGLE", "CIRCUS",
    "HEN HOUSE", "BAROQUE", "SCANDI", "FAIRY CAKE",
)  # fmt: skip
_ITEMS = (
    "T-LIGHT HOLDER", "CAKE STAND", "TEA TOWEL", "LUNCH BAG", "JAM JAR", "BUNTING", "MUG",
    "PHOTO FRAME", "DOORSTOP", "CANDLE", "NOTEBOOK", "GIFT WRAP", "CUSHION COVER",
    "PAPER PLATES", "BOWL", "JUMBO SHOPPER", "STORAGE TIN", "HANGING DECORATION", "WALL CLOCK",
    "COAT RACK", "METAL SIGN", "LANTERN", "PARTY BAG", "NAPKINS", "HOT WATER BOTTLE",
    "CHALKBOARD", "CAKE CASES", "BAKING SET", "PICNIC BASKET", "PURSE", "RIBBON REEL",
    "DRAWER KNOB", "SOAP DISH", "WASHBAG", "UMBRELLA", "FLASK", "BUTTON BOX", "GARDEN MARKER",
    "PAPER CRAFT", "SPOON SET", "EGG CUP", "TRINKET BOX",
)  # fmt: skip
_PRICE_TAGS = (
    0.19, 0.29, 0.39, 0.42, 0.55, 0.65, 0.85, 1.04, 1.25, 1.45, 1.65, 1.95, 2.08, 2.10, 2.55,
    2.95, 3.25, 3.75, 4.25, 4.95, 5.95, 6.75, 7.95, 8.50, 9.95, 12.75, 14.95, 16.95, 24.95,
)  # fmt: skip
_VARIANT_SUFFIXES = "ABCDEGLMNPRSW"
_CATALOGUE_SEED = 20091201
N_CATALOGUE_BASE_CODES = 260

BAD_DEBT_STOCK_CODE = "B"
BAD_DEBT_DESCRIPTION = "Adjust bad debt"
# Descriptions of stock adjustments (negative quantity, price 0); None leaves it empty.
ADJUSTMENT_NOTES: tuple[str | None, ...] = (
    "damaged", "check", "?", "missing", "wet damaged", "smashed", "thrown away", "lost", None,
)  # fmt: skip
COUNTRIES: tuple[str, ...] = (
    "United Kingdom", "Germany", "France", "EIRE", "Netherlands", "Spain", "Belgium",
    "Switzerland", "Portugal", "Australia", "Norway", "Italy", "Sweden", "Denmark",
    "Channel Islands", "Finland", "Austria", "Japan", "USA", "Cyprus",
)  # fmt: skip
_COUNTRY_WEIGHTS = np.array(
    [880, 20, 17, 15, 8, 7, 6, 5, 5, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2], dtype=float
)
_GUEST_UK_SHARE = 0.97


@dataclass(frozen=True)
class Catalogue:
    """Synthetic products: stock code, description, list price (pence), sampling weight."""

    stock_code: np.ndarray
    description: np.ndarray
    price_pence: np.ndarray
    weight: np.ndarray

    @property
    def size(self) -> int:
        """Number of products."""
        return len(self.stock_code)


@functools.cache
def catalogue() -> Catalogue:
    """The fixed synthetic product catalogue (a few hundred items; same for every seed).

    Codes look like Online Retail's (``'22423'``, ``'85123A'``); a code with a letter suffix is
    a colour variant of its base code. No description contains a comma or a quote.
    """
    rng = np.random.default_rng(_CATALOGUE_SEED)
    base_codes = rng.choice(np.arange(10002, 90000), N_CATALOGUE_BASE_CODES, replace=False)
    codes: list[str] = []
    descriptions: list[str] = []
    prices: list[float] = []
    seen: set[str] = set()
    tag_weights = np.exp(-0.5 * ((np.log(_PRICE_TAGS) - np.log(2.0)) / 0.9) ** 2)
    tag_weights /= tag_weights.sum()
    for code in base_codes:
        motif = _MOTIFS[rng.integers(len(_MOTIFS))]
        item = _ITEMS[rng.integers(len(_ITEMS))]
        price = float(rng.choice(_PRICE_TAGS, p=tag_weights))
        prefix = "SET OF 3 " if rng.random() < 0.08 else ""
        if rng.random() < 0.2:
            n_variants = int(rng.integers(2, 5))
            suffixes = rng.choice(list(_VARIANT_SUFFIXES), n_variants, replace=False)
            colours = rng.choice(_COLOURS, n_variants, replace=False)
            variants = [(f"{code}{s}", f"{c} ") for s, c in zip(suffixes, colours, strict=True)]
        else:
            colour = f"{_COLOURS[rng.integers(len(_COLOURS))]} " if rng.random() < 0.6 else ""
            variants = [(str(code), colour)]
        for variant_code, colour in variants:
            description = f"{prefix}{colour}{motif} {item}"
            if description in seen:
                description = f"{description} DESIGN"
            seen.add(description)
            codes.append(variant_code)
            descriptions.append(description)
            prices.append(price)
    weight = 1.0 / (np.arange(len(codes)) + 8.0) ** 0.9
    weight = rng.permutation(weight)
    return Catalogue(
        stock_code=np.array(codes, dtype=object),
        description=np.array(descriptions, dtype=object),
        price_pence=np.rint(np.array(prices) * 100).astype(np.int64),
        weight=weight / weight.sum(),
    )


@functools.cache
def _item_tables() -> tuple[pa.Array, pa.Array]:
    """Stock codes and descriptions indexed by item: the catalogue, then the bad-debt item,
    then (descriptions only) the adjustment notes."""
    cat = catalogue()
    codes = pa.array([*cat.stock_code, BAD_DEBT_STOCK_CODE], pa.string())
    descriptions = pa.array(
        [*cat.description, BAD_DEBT_DESCRIPTION, *ADJUSTMENT_NOTES], pa.string()
    )
    return codes, descriptions


# --------------------------------------------------------------------------------------------
# Invoice lines of one chunk of customers
# --------------------------------------------------------------------------------------------

KIND_SALE, KIND_CANCEL, KIND_BAD_DEBT = 0, 1, 2
_KIND_PREFIX = ("", "C", "A")
EXTRA_LINES_MEAN = 2.0  # lines per order: 1 + Poisson(EXTRA_LINES_MEAN) (+ a remainder line)
_FIRST_LINE_SHARE = 0.3  # the first line of an order carries at least this share of its value
_SINGLE_FIT_MIN_PENCE = 100
_SINGLE_FIT_MAX_PENCE = 1100  # > _SINGLE_FIT_MIN_PENCE + _BULK_MAX_PRICE_PENCE
_BULK_MAX_PRICE_PENCE = 995
_REMAINDER_LINE = 500  # sort key of the remainder line: after the regular lines
_CANCEL_LINE_SHARE = 0.6
_CANCEL_DELAY_DAYS = 2.0


def _minute_of(t_weeks: np.ndarray) -> np.ndarray:
    """Recorded timestamp (whole minutes since time 0) of continuous times in weeks.

    The calendar day is kept and the position inside the day is mapped linearly onto opening
    hours 07:00-19:59, so the map is monotone and day-based statistics are unchanged.
    """
    days = np.asarray(t_weeks) * DAYS_PER_WEEK
    day = np.floor(days)
    minute = OPENING_MINUTE + np.floor((days - day) * OPENING_MINUTES)
    return day.astype(np.int64) * MINUTES_PER_DAY + minute.astype(np.int64)


@dataclass
class _Lines:
    """Column arrays of invoice lines (and their invoices) under construction."""

    invoice: np.ndarray  # invoice position in the chunk's invoice arrays
    line: np.ndarray  # sort key inside the invoice
    item: np.ndarray  # catalogue index; catalogue.size is the bad-debt item
    note: np.ndarray  # -1 or index into ADJUSTMENT_NOTES (replaces the description)
    quantity: np.ndarray
    price_pence: np.ndarray


def _empty_lines() -> _Lines:
    z = np.zeros(0, dtype=np.int64)
    return _Lines(z, z, z, z, z, z)


def _concat_lines(parts: list[_Lines]) -> _Lines:
    return _Lines(
        *(
            np.concatenate([getattr(p, f.name) for p in parts]).astype(np.int64)
            for f in dataclasses.fields(_Lines)
        )
    )


def _split_orders(
    value_pence: np.ndarray,
    rng: np.random.Generator,
    dup_rng: np.random.Generator,
    duplicate_line_fraction: float,
) -> tuple[_Lines, np.ndarray]:
    """Split order values (pence) into lines whose quantity x price sums to the value exactly.

    Each order gets ``1 + Poisson(EXTRA_LINES_MEAN)`` lines. Every line but the first is a
    catalogue item (drawn by popularity) at its list price, with the integer quantity closest
    to its random share of the value (a line whose quantity rounds to 0 is left out). The first
    line takes the rest exactly. Up to _SINGLE_FIT_MAX_PENCE it has a quantity that divides the
    rest and an item whose list price is nearest the resulting unit price (within 10% from
    0.19 GBP up); above, it is an item of at most _BULK_MAX_PRICE_PENCE at list price and one
    more line fitted that way takes the last 1-11 GBP. Finally a ``duplicate_line_fraction``
    of all lines are exact duplicates: a line of even quantity becomes two identical lines of
    half the quantity, so totals do not change. Returns the lines (``invoice`` = order
    position, sorted by order then line) and a flag marking the second copy of a duplicate.
    """
    cat = catalogue()
    n_orders = len(value_pence)
    value_pence = np.maximum(np.asarray(value_pence, dtype=np.int64), 1)
    k = 1 + rng.poisson(EXTRA_LINES_MEAN, n_orders)
    order = np.repeat(np.arange(n_orders), k)
    j = _segment_index(k)
    item = rng.choice(cat.size, size=len(order), p=cat.weight)
    e = rng.exponential(size=len(order))
    share = (1 - _FIRST_LINE_SHARE) * e / np.bincount(order, e, minlength=n_orders)[order]
    share[j == 0] += _FIRST_LINE_SHARE
    price = cat.price_pence[item]
    qty = np.rint(value_pence[order] * share / price).astype(np.int64)
    other = j > 0

    def rest_of(keep: np.ndarray) -> np.ndarray:
        spent = np.bincount(order, np.where(other & keep, qty * price, 0), minlength=n_orders)
        return value_pence - spent.astype(np.int64)

    keep = ~other | (qty > 0)
    rest = rest_of(keep)
    short = rest < np.maximum(1, value_pence // 10)
    if short.any():  # list prices overshot the value: the order becomes a single line
        keep &= ~(other & short[order])
        rest = rest_of(keep)
    order, j, item, qty, price = (x[keep] for x in (order, j, item, qty, price))

    first = np.flatnonzero(j == 0)
    bulk = rest > _SINGLE_FIT_MAX_PENCE
    bulk_item = _draw_items(
        np.flatnonzero(cat.price_pence <= _BULK_MAX_PRICE_PENCE), bulk.sum(), rng
    )
    bulk_price = cat.price_pence[bulk_item]
    bulk_qty = (rest[bulk] - _SINGLE_FIT_MIN_PENCE) // bulk_price
    remainder = rest.copy()
    remainder[bulk] -= bulk_qty * bulk_price
    fit_qty, tag = _fit_unit_price(remainder)
    fit_item = _item_with_price(tag, rng)
    fit_price = remainder // fit_qty
    single = first[~bulk]
    item[single], qty[single], price[single] = fit_item[~bulk], fit_qty[~bulk], fit_price[~bulk]
    item[first[bulk]], qty[first[bulk]], price[first[bulk]] = bulk_item, bulk_qty, bulk_price
    n_extra = int(bulk.sum())
    order = np.concatenate([order, np.flatnonzero(bulk)])
    j = np.concatenate([j, np.full(n_extra, _REMAINDER_LINE)])
    item = np.concatenate([item, fit_item[bulk]])
    qty = np.concatenate([qty, fit_qty[bulk]])
    price = np.concatenate([price, fit_price[bulk]])

    even = qty % 2 == 0
    n_even = int(even.sum())
    dup_prob = min(1.0, duplicate_line_fraction * len(qty) / n_even) if n_even else 0.0
    split = even & (dup_rng.random(len(qty)) < dup_prob)
    qty = np.where(split, qty // 2, qty)
    rows = np.repeat(np.arange(len(qty)), np.where(split, 2, 1))
    second = np.zeros(len(rows), dtype=bool)
    second[1:] = rows[1:] == rows[:-1]
    lines = _Lines(
        invoice=order[rows],
        line=j[rows] * 2 + second,
        item=item[rows],
        note=np.full(len(rows), -1, dtype=np.int64),
        quantity=qty[rows],
        price_pence=price[rows],
    )
    by_order = np.lexsort((lines.line, lines.invoice))
    for f in dataclasses.fields(_Lines):
        setattr(lines, f.name, getattr(lines, f.name)[by_order])
    return lines, second[by_order]


@functools.cache
def _price_tags() -> np.ndarray:
    """Distinct catalogue list prices, pence, ascending."""
    return np.unique(catalogue().price_pence)


def _fit_unit_price(rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each amount (pence, 1.._SINGLE_FIT_MAX_PENCE) a quantity ``d`` dividing it exactly
    and the list price tag (index into `_price_tags`) nearest to the unit price ``rest / d``."""
    quantity, tag = _unit_price_table()
    return quantity[rest], tag[rest]


@functools.cache
def _unit_price_table() -> tuple[np.ndarray, np.ndarray]:
    """`_fit_unit_price` for every amount 0.._SINGLE_FIT_MAX_PENCE (row 0 unused), found by
    trying every quantity; ties go to the smaller quantity."""
    log_tags = np.log(_price_tags())
    amount = np.arange(1, _SINGLE_FIT_MAX_PENCE + 1, dtype=np.int64)[:, None]
    quantity = np.arange(1, _SINGLE_FIT_MAX_PENCE + 1, dtype=np.int64)[None, :]
    log_price = np.log(amount / quantity)
    hi = np.clip(np.searchsorted(log_tags, log_price), 1, len(log_tags) - 1)
    err_lo = np.abs(log_price - log_tags[hi - 1])
    err_hi = np.abs(log_price - log_tags[hi])
    tag = np.where(err_lo <= err_hi, hi - 1, hi)
    err = np.minimum(err_lo, err_hi)
    err[amount % quantity != 0] = np.inf
    best = err.argmin(axis=1)
    rows = np.arange(len(best))
    return (
        np.concatenate([[1], quantity[0, best]]),
        np.concatenate([[0], tag[rows, best]]),
    )


def _draw_items(candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` catalogue items drawn by popularity among ``candidates``."""
    weight = catalogue().weight[candidates]
    return candidates[rng.choice(len(candidates), size=n, p=weight / weight.sum())]


def _item_with_price(tag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A catalogue item (drawn by popularity) whose list price is ``_price_tags()[tag]``."""
    cat = catalogue()
    tags = _price_tags()
    item = np.empty(len(tag), dtype=np.int64)
    u = rng.random(len(tag))
    for t in np.unique(tag):
        members = np.flatnonzero(cat.price_pence == tags[t])
        cum = np.cumsum(cat.weight[members])
        at = tag == t
        item[at] = members[np.minimum(np.searchsorted(cum, u[at] * cum[-1]), len(members) - 1)]
    return item


def _choose_countries(
    rng: np.random.Generator, n: int, uk_share: float | None = None
) -> np.ndarray:
    weights = _COUNTRY_WEIGHTS / _COUNTRY_WEIGHTS.sum()
    if uk_share is not None:
        others = weights[1:] / weights[1:].sum() * (1 - uk_share)
        weights = np.concatenate([[uk_share], others])
    return rng.choice(len(COUNTRIES), size=n, p=weights)


def _jitter(t: np.ndarray, horizon: float, rng: np.random.Generator) -> np.ndarray:
    """Times near ``t`` (weeks, +-3 days); a time pushed outside ``[0, horizon)`` stays put."""
    moved = t + rng.uniform(-3, 3, len(t)) / DAYS_PER_WEEK
    return np.where((moved >= 0) & (moved < horizon), moved, t)


@dataclass
class _ChunkLines:
    """Lines of one chunk, sorted by (minute, invoice, line); ``invoice`` is the chunk-local
    invoice rank in time order."""

    minute: np.ndarray
    invoice: np.ndarray
    kind: np.ndarray
    line: np.ndarray
    item: np.ndarray
    note: np.ndarray
    quantity: np.ndarray
    price_pence: np.ndarray
    customer: np.ndarray  # -1 when missing
    country: np.ndarray

    def __len__(self) -> int:
        return len(self.minute)

    def take(self, index: np.ndarray) -> _ChunkLines:
        return _ChunkLines(
            **{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)}
        )


@dataclass(frozen=True)
class _InvoiceBlock:
    """Invoices of one kind of line (one per ``minute``) and their lines; ``lines.invoice``
    counts from 0 within the block."""

    minute: np.ndarray
    kind: int
    customer: np.ndarray | int  # -1 when missing
    country: np.ndarray | int
    lines: _Lines


def _chunk_transactions(
    seed: int,
    chunk_index: int,
    n_customers: int,
    first_customer_id: int,
    start: dt.date,
    end: dt.date,
    bgnbd: BgNbdParams,
    gg: GammaGammaParams,
    dirt: DirtConfig,
) -> tuple[SimulatedCustomers, _ChunkLines]:
    """Simulate one chunk of customers and all invoice lines that belong to the chunk.

    The customers' orders come first, then each kind of dirt from its own random stream, in a
    fixed order (the order breaks ties between invoices of the same minute and kind).
    """

    def stream(s: int) -> np.random.Generator:
        return _rng(seed, _DOMAIN_TRANSACTIONS, chunk_index, s)

    sim = simulate_customers(
        n_customers,
        bgnbd,
        gg,
        start,
        end,
        stream(_S_CUSTOMERS),
        first_customer_id=first_customer_id,
    )
    horizon = sim.observation_end
    cust_country = _choose_countries(stream(_S_COUNTRY), n_customers)
    sales, is_copy = _customer_orders(
        sim, cust_country, stream(_S_LINES), stream(_S_DUPLICATES), dirt
    )
    n_sale_lines = len(sales.lines.invoice)
    free = _zero_price_lines(len(sim.order_time), n_sale_lines, stream(_S_ZERO_PRICE), dirt)
    with_free = sales  # the free items are lines of the customers' invoices
    if free is not None:
        with_free = dataclasses.replace(sales, lines=_concat_lines([sales.lines, free]))
    blocks = [
        with_free,
        _guest_invoices(sim, horizon, gg, stream(_S_GUESTS), dirt),
        _cancellations(sim, sales, is_copy, cust_country, stream(_S_CANCELS), dirt),
        _stock_adjustments(sim, horizon, n_sale_lines, stream(_S_ADJUSTMENTS), dirt),
        _bad_debt_adjustments(n_customers, horizon, stream(_S_BAD_DEBT), dirt),
        *_extreme_orders(sim, cust_country, chunk_index, stream(_S_EXTREME), dirt),
    ]
    end_minute = round(horizon * DAYS_PER_WEEK) * MINUTES_PER_DAY
    return sim, _chunk_lines([block for block in blocks if block is not None], end_minute)


def _customer_orders(
    sim: SimulatedCustomers,
    cust_country: np.ndarray,
    rng: np.random.Generator,
    dup_rng: np.random.Generator,
    dirt: DirtConfig,
) -> tuple[_InvoiceBlock, np.ndarray]:
    """The customers' orders: one invoice per simulated order, split into lines (a
    ``dirt.duplicate_line_fraction`` of them exact duplicates). Invoice ``i`` is order ``i``;
    also returns the flag marking the second copy of a duplicated line."""
    value_pence = np.maximum(1, np.rint(sim.order_value * 100)).astype(np.int64)
    lines, is_copy = _split_orders(value_pence, rng, dup_rng, dirt.duplicate_line_fraction)
    order_customer = sim.order_customer
    block = _InvoiceBlock(
        minute=_minute_of(sim.order_time),
        kind=KIND_SALE,
        customer=sim.customer_id[order_customer],
        country=cust_country[order_customer],
        lines=lines,
    )
    return block, is_copy


def _zero_price_lines(
    n_orders: int, n_sale_lines: int, rng: np.random.Generator, dirt: DirtConfig
) -> _Lines | None:
    """Free items added to customer orders (``invoice`` = order position): kept by cleaning,
    they add no revenue."""
    n_zero = rng.binomial(n_sale_lines, dirt.zero_price_line_fraction) if n_orders else 0
    if not n_zero:
        return None
    target = rng.integers(0, n_orders, n_zero)
    return _Lines(
        invoice=target,
        line=np.full(n_zero, 10_000) + np.arange(n_zero),
        item=rng.choice(catalogue().size, n_zero, p=catalogue().weight),
        note=np.full(n_zero, -1),
        quantity=1 + rng.poisson(3.0, n_zero),
        price_pence=np.zeros(n_zero, dtype=np.int64),
    )


def _guest_invoices(
    sim: SimulatedCustomers,
    horizon: float,
    gg: GammaGammaParams,
    rng: np.random.Generator,
    dirt: DirtConfig,
) -> _InvoiceBlock | None:
    """Invoices without a customer id, near the customers' orders in time, mostly UK."""
    n_orders = len(sim.order_time)
    g = dirt.guest_line_fraction
    n_guest = rng.poisson(n_orders * g / (1 - g)) if n_orders and g > 0 else 0
    if not n_guest:
        return None
    t = _jitter(sim.order_time[rng.integers(0, n_orders, n_guest)], horizon, rng)
    nu = rng.gamma(gg.q, 1.0 / gg.gamma, n_guest)
    guest_value = np.maximum(1, np.rint(rng.gamma(gg.p, 1.0 / nu) * 100)).astype(np.int64)
    guest_lines, _ = _split_orders(guest_value, rng, rng, dirt.duplicate_line_fraction)
    return _InvoiceBlock(
        minute=_minute_of(t),
        kind=KIND_SALE,
        customer=-1,
        country=_choose_countries(rng, n_guest, _GUEST_UK_SHARE),
        lines=guest_lines,
    )


def _cancellations(
    sim: SimulatedCustomers,
    sales: _InvoiceBlock,
    is_copy: np.ndarray,
    cust_country: np.ndarray,
    rng: np.random.Generator,
    dirt: DirtConfig,
) -> _InvoiceBlock | None:
    """'C' invoices copying some lines of a customer order (``sales``, without the free
    items), negative quantity, a little later than the order."""
    n_orders = len(sim.order_time)
    cancelled = np.flatnonzero(rng.random(n_orders) < dirt.cancel_order_fraction)
    cancel_time = sim.order_time[cancelled] + rng.exponential(
        _CANCEL_DELAY_DAYS / DAYS_PER_WEEK, len(cancelled)
    )
    in_window = cancel_time < sim.observation_end
    cancelled, cancel_time = cancelled[in_window], cancel_time[in_window]
    if not len(cancelled):
        return None
    position = np.full(n_orders, -1)
    position[cancelled] = np.arange(len(cancelled))
    src = sales.lines
    candidate = (position[src.invoice] >= 0) & ~is_copy
    pick = candidate & (rng.random(len(src.invoice)) < _CANCEL_LINE_SHARE)
    has_pick = np.bincount(src.invoice[pick], minlength=n_orders) > 0
    pick |= candidate & (src.line == 0) & ~has_pick[src.invoice]
    qty = src.quantity[pick]
    partial = rng.random(len(qty)) < 0.25
    qty = np.where(partial, rng.integers(1, qty + 1), qty)
    cust = sim.order_customer[cancelled]
    return _InvoiceBlock(
        minute=np.maximum(_minute_of(cancel_time), sales.minute[cancelled]),
        kind=KIND_CANCEL,
        customer=sim.customer_id[cust],
        country=cust_country[cust],
        lines=_Lines(
            invoice=position[src.invoice[pick]],
            line=src.line[pick],
            item=src.item[pick],
            note=np.full(len(qty), -1),
            quantity=-qty,
            price_pence=src.price_pence[pick],
        ),
    )


def _stock_adjustments(
    sim: SimulatedCustomers,
    horizon: float,
    n_sale_lines: int,
    rng: np.random.Generator,
    dirt: DirtConfig,
) -> _InvoiceBlock | None:
    """One-line stock adjustment invoices: negative quantity, price 0, no customer, a note
    instead of the description."""
    n_orders = len(sim.order_time)
    n_adj = rng.poisson(dirt.adjustment_line_fraction * n_sale_lines) if n_orders else 0
    if not n_adj:
        return None
    t = _jitter(sim.order_time[rng.integers(0, n_orders, n_adj)], horizon, rng)
    adj = _Lines(
        invoice=np.arange(n_adj),
        line=np.zeros(n_adj),
        item=rng.choice(catalogue().size, n_adj, p=catalogue().weight),
        note=rng.integers(0, len(ADJUSTMENT_NOTES), n_adj),
        quantity=-np.maximum(1, np.rint(np.exp(rng.normal(3.0, 1.2, n_adj)))),
        price_pence=np.zeros(n_adj),
    )
    return _InvoiceBlock(minute=_minute_of(t), kind=KIND_SALE, customer=-1, country=0, lines=adj)


def _bad_debt_adjustments(
    n_customers: int, horizon: float, rng: np.random.Generator, dirt: DirtConfig
) -> _InvoiceBlock | None:
    """'A' invoices of stock code B with a negative price and no customer."""
    n_bad = rng.poisson(dirt.bad_debt_per_1000_customers * n_customers / 1000)
    if not n_bad:
        return None
    bad = _Lines(
        invoice=np.arange(n_bad),
        line=np.zeros(n_bad),
        item=np.full(n_bad, catalogue().size),
        note=np.full(n_bad, -1),
        quantity=np.ones(n_bad),
        price_pence=-np.rint(rng.uniform(5_000, 60_000, n_bad) * 100),
    )
    minute = _minute_of(rng.uniform(0, horizon, n_bad))
    return _InvoiceBlock(minute=minute, kind=KIND_BAD_DEBT, customer=-1, country=0, lines=bad)


def _extreme_orders(
    sim: SimulatedCustomers,
    cust_country: np.ndarray,
    chunk_index: int,
    rng: np.random.Generator,
    dirt: DirtConfig,
) -> list[_InvoiceBlock]:
    """Extreme orders (first chunk only): a huge quantity of a cheap item, cancelled minutes
    later; the sales, then the cancellations."""
    horizon = sim.observation_end
    eligible_customers = np.flatnonzero(sim.first_purchase < horizon - 2 / DAYS_PER_WEEK)
    n_extreme = dirt.extreme_orders if chunk_index == 0 else 0
    n_extreme = min(n_extreme, len(eligible_customers))
    if not n_extreme:
        return []
    cust = rng.choice(eligible_customers, n_extreme, replace=False)
    t = rng.uniform(sim.first_purchase[cust], horizon - 1 / DAYS_PER_WEEK)
    cheap = np.flatnonzero(catalogue().price_pence <= 210)
    item = rng.choice(cheap, n_extreme)
    qty = rng.integers(50_000, 90_001, n_extreme)
    price = catalogue().price_pence[item]
    minute = _minute_of(t)
    closing = minute // MINUTES_PER_DAY * MINUTES_PER_DAY + OPENING_MINUTE + OPENING_MINUTES - 1
    cancel_minute = np.minimum(minute + rng.integers(1, 16, n_extreme), closing)
    return [
        _InvoiceBlock(
            minute=at,
            kind=kind,
            customer=sim.customer_id[cust],
            country=cust_country[cust],
            lines=_Lines(
                invoice=np.arange(n_extreme),
                line=np.zeros(n_extreme),
                item=item,
                note=np.full(n_extreme, -1),
                quantity=(1 if kind == KIND_SALE else -1) * qty,
                price_pence=price,
            ),
        )
        for kind, at in ((KIND_SALE, minute), (KIND_CANCEL, cancel_minute))
    ]


def _chunk_lines(blocks: list[_InvoiceBlock], end_minute: int) -> _ChunkLines:
    """The lines of all ``blocks`` (invoice positions counted across the blocks in order),
    sorted by invoice rank in time order (sales before cancellations within a minute; ties in
    block order) and line."""
    inv_minute: list[np.ndarray] = []
    inv_kind: list[np.ndarray] = []
    inv_customer: list[np.ndarray] = []
    inv_country: list[np.ndarray] = []
    line_parts: list[_Lines] = []
    base = 0
    for block in blocks:
        m = len(block.minute)
        inv_minute.append(np.asarray(block.minute, dtype=np.int64))
        inv_kind.append(np.full(m, block.kind, dtype=np.int64))
        inv_customer.append(np.broadcast_to(np.asarray(block.customer, dtype=np.int64), (m,)))
        inv_country.append(np.broadcast_to(np.asarray(block.country, dtype=np.int64), (m,)))
        line_parts.append(dataclasses.replace(block.lines, invoice=block.lines.invoice + base))
        base += m
    minute = np.concatenate(inv_minute) if inv_minute else np.zeros(0, np.int64)
    if minute.size and minute.max() >= end_minute:  # pragma: no cover - internal invariant
        raise RuntimeError("an invoice fell after the end of observation")
    kind = np.concatenate(inv_kind) if inv_kind else np.zeros(0, np.int64)
    customer = np.concatenate(inv_customer) if inv_customer else np.zeros(0, np.int64)
    country = np.concatenate(inv_country) if inv_country else np.zeros(0, np.int64)
    # Invoice rank in time order (sales before cancellations within a minute).
    order = np.lexsort((kind, minute))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    lines = _concat_lines(line_parts) if line_parts else _empty_lines()
    inv_rank = rank[lines.invoice]
    line_order = np.lexsort((lines.line, inv_rank))
    inv = lines.invoice[line_order]
    return _ChunkLines(
        minute=minute[inv],
        invoice=inv_rank[line_order],
        kind=kind[inv].astype(np.int8),
        line=lines.line[line_order],
        item=lines.item[line_order].astype(np.int32),
        note=lines.note[line_order].astype(np.int16),
        quantity=lines.quantity[line_order],
        price_pence=lines.price_pence[line_order],
        customer=customer[inv],
        country=country[inv].astype(np.int16),
    )


# --------------------------------------------------------------------------------------------
# From chunk lines to Arrow record batches, in global time order
# --------------------------------------------------------------------------------------------

_SPILL_SCHEMA = pa.schema(
    [
        ("minute", pa.int64()),
        ("chunk", pa.int32()),
        ("invoice", pa.int64()),
        ("kind", pa.int8()),
        ("item", pa.int32()),
        ("note", pa.int16()),
        ("quantity", pa.int64()),
        ("price_pence", pa.int64()),
        ("customer", pa.int64()),
        ("country", pa.int16()),
    ]
)

# The Online Retail II columns with the types written to Parquet.
TRANSACTIONS_SCHEMA = pa.schema(
    list(
        zip(
            ONLINE_RETAIL_II_COLUMNS,
            (
                pa.string(),  # Invoice
                pa.string(),  # StockCode
                pa.string(),  # Description
                pa.int64(),  # Quantity
                pa.timestamp("us"),  # InvoiceDate
                pa.float64(),  # Price
                pa.int64(),  # Customer ID
                pa.string(),  # Country
            ),
            strict=True,
        )
    )
)


def _spill_batch(lines: _ChunkLines, chunk: int, index: np.ndarray | None = None) -> pa.RecordBatch:
    part = lines if index is None else lines.take(index)
    arrays = {
        "minute": part.minute,
        "chunk": np.full(len(part), chunk, dtype=np.int32),
        "invoice": part.invoice,
        "kind": part.kind,
        "item": part.item,
        "note": part.note,
        "quantity": part.quantity,
        "price_pence": part.price_pence,
        "customer": part.customer,
        "country": part.country,
    }
    return pa.RecordBatch.from_arrays(
        [pa.array(arrays[f.name], f.type) for f in _SPILL_SCHEMA], schema=_SPILL_SCHEMA
    )


def _output_batch(spill: pa.Table, start: dt.date, first_number: int) -> tuple[pa.RecordBatch, int]:
    """Sort spilled lines by (minute, chunk, invoice), number the invoices and build the
    Online Retail II columns. Returns the batch and the next free invoice number."""
    col = {name: spill.column(name).to_numpy() for name in spill.column_names}
    # Lines of one invoice arrive together and in line order; the row position keeps that order.
    position = np.arange(spill.num_rows)
    order = np.lexsort((position, col["invoice"], col["chunk"], col["minute"]))
    col = {k: v[order] for k, v in col.items()}
    n = len(order)
    new_invoice = np.ones(n, dtype=bool)
    if n:
        new_invoice[1:] = (col["chunk"][1:] != col["chunk"][:-1]) | (
            col["invoice"][1:] != col["invoice"][:-1]
        )
    number = first_number - 1 + np.cumsum(new_invoice)
    next_number = int(number[-1]) + 1 if n else first_number

    codes, descriptions = _item_tables()
    n_items = catalogue().size + 1
    kind = pa.array(col["kind"])
    invoice = pc.binary_join_element_wise(
        pa.array(_KIND_PREFIX, pa.string()).take(kind), pc.cast(pa.array(number), pa.string()), ""
    )
    desc_index = np.where(col["note"] >= 0, n_items + col["note"], col["item"])
    epoch_us = (np.datetime64(start, "us") - np.datetime64(0, "us")).astype(np.int64)
    timestamp = epoch_us + col["minute"] * 60_000_000
    customer = col["customer"]
    batch = pa.RecordBatch.from_arrays(
        [
            invoice,
            codes.take(pa.array(col["item"])),
            descriptions.take(pa.array(desc_index)),
            pa.array(col["quantity"], pa.int64()),
            pa.array(timestamp, pa.timestamp("us")),
            pa.array(col["price_pence"] / 100.0, pa.float64()),
            pa.array(customer, pa.int64(), mask=customer < 0),
            pa.array(COUNTRIES, pa.string()).take(pa.array(col["country"])),
        ],
        schema=TRANSACTIONS_SCHEMA,
    )
    return batch, next_number


ProgressFn = Callable[[str], None]


def _chunk_plan(n_customers: int, chunk_customers: int) -> list[tuple[int, int]]:
    """(first customer index, size) of every chunk."""
    if chunk_customers <= 0:
        raise ValueError("chunk_customers must be > 0")
    return [
        (first, min(chunk_customers, n_customers - first))
        for first in range(0, n_customers, chunk_customers)
    ]


def transaction_batches(
    n_customers: int,
    seed: int,
    start: dt.date = TRANSACTIONS_START,
    end: dt.date = TRANSACTIONS_END,
    *,
    bgnbd: BgNbdParams = DEFAULT_BGNBD,
    gg: GammaGammaParams = DEFAULT_GAMMA_GAMMA,
    dirt: DirtConfig = DEFAULT_DIRT,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    spill_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> Iterator[pa.RecordBatch]:
    """Online Retail II-shaped invoice lines as Arrow record batches, in time order.

    Customers are simulated in chunks of ``chunk_customers`` (the output depends on the chunk
    size). With more than one chunk, lines are spilled to temporary Arrow files per time
    bucket (in ``spill_dir``, default the system temp dir) and each bucket is sorted in turn,
    so memory is bounded by a chunk and a bucket. Invoice numbers increase with time from
    ``FIRST_INVOICE_NUMBER``; ``InvoiceDate`` is local time at minute resolution; ``Price`` is
    the unit price in GBP; ``Customer ID`` is null for guest and adjustment invoices.
    """
    plan = _chunk_plan(n_customers, chunk_customers)
    say = progress or (lambda _msg: None)
    if len(plan) <= 1:
        first, size = plan[0] if plan else (0, 0)
        _, lines = _chunk_transactions(
            seed, 0, size, FIRST_CUSTOMER_ID + first, start, end, bgnbd, gg, dirt
        )
        say(f"customers {size}/{n_customers}, lines {len(lines)}")
        table = pa.Table.from_batches([_spill_batch(lines, 0)], schema=_SPILL_SCHEMA)
        batch, _ = _output_batch(table, start, FIRST_INVOICE_NUMBER)
        yield batch
        return

    n_days = (end - start).days + 1
    with tempfile.TemporaryDirectory(prefix="crm_synth_", dir=spill_dir) as tmp:
        writers: dict[int, paipc.RecordBatchStreamWriter] = {}
        bucket_minutes = 0
        generated = 0
        options = paipc.IpcWriteOptions(compression="lz4")
        try:
            for chunk_index, (first, size) in enumerate(plan):
                _, lines = _chunk_transactions(
                    seed, chunk_index, size, FIRST_CUSTOMER_ID + first, start, end, bgnbd, gg, dirt
                )
                if chunk_index == 0:  # choose bucket width from the first chunk's line count
                    expected = len(lines) * n_customers / max(size, 1)
                    n_buckets = int(
                        np.clip(math.ceil(expected / TARGET_LINES_PER_BUCKET), 1, n_days)
                    )
                    bucket_minutes = math.ceil(n_days / n_buckets) * MINUTES_PER_DAY
                bucket = lines.minute // bucket_minutes
                order = np.argsort(bucket, kind="stable")
                bounds = np.searchsorted(bucket[order], np.unique(bucket), side="left")
                bounds = np.append(bounds, len(order))
                for lo, hi in itertools.pairwise(bounds):
                    b = int(bucket[order[lo]])
                    if b not in writers:
                        sink = pa.OSFile(str(Path(tmp) / f"bucket_{b:05d}.arrow"), "wb")
                        writers[b] = paipc.new_stream(sink, _SPILL_SCHEMA, options=options)
                    writers[b].write_batch(_spill_batch(lines, chunk_index, order[lo:hi]))
                generated += len(lines)
                say(f"customers {first + size}/{n_customers}, lines simulated {generated}")
        finally:
            for writer in writers.values():
                writer.close()
        number = FIRST_INVOICE_NUMBER
        written = 0
        for b in sorted(writers):
            with pa.memory_map(str(Path(tmp) / f"bucket_{b:05d}.arrow")) as source:
                table = paipc.open_stream(source).read_all()
            batch, number = _output_batch(table, start, number)
            del table
            written += batch.num_rows
            yield batch
            say(f"lines written {written}/{generated}")


def transactions_frame(
    n_customers: int,
    seed: int,
    start: dt.date = TRANSACTIONS_START,
    end: dt.date = TRANSACTIONS_END,
    **kwargs: object,
) -> pd.DataFrame:
    """All invoice lines as one DataFrame (small runs only; see `transaction_batches`).

    ``Customer ID`` is a nullable ``Int64``; other columns as in `TRANSACTIONS_SCHEMA`.
    """
    batches = list(transaction_batches(n_customers, seed, start, end, **kwargs))  # type: ignore[arg-type]
    table = pa.Table.from_batches(batches, schema=TRANSACTIONS_SCHEMA)
    frame = table.to_pandas()
    frame["Customer ID"] = frame["Customer ID"].astype("Int64")
    return frame


def transactions_truth(
    n_customers: int,
    seed: int,
    start: dt.date = TRANSACTIONS_START,
    end: dt.date = TRANSACTIONS_END,
    *,
    bgnbd: BgNbdParams = DEFAULT_BGNBD,
    gg: GammaGammaParams = DEFAULT_GAMMA_GAMMA,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
) -> SimulatedCustomers:
    """The simulated customers behind `transaction_batches` with the same arguments
    (the clean purchase history, before dirt and extreme orders)."""
    parts = []
    for chunk_index, (first, size) in enumerate(_chunk_plan(n_customers, chunk_customers)):
        rng = _rng(seed, _DOMAIN_TRANSACTIONS, chunk_index, _S_CUSTOMERS)
        parts.append(
            simulate_customers(
                size, bgnbd, gg, start, end, rng, first_customer_id=FIRST_CUSTOMER_ID + first
            )
        )
    return _concat_customers(parts, start, end)


def _concat_customers(
    parts: list[SimulatedCustomers], origin: dt.date, end: dt.date
) -> SimulatedCustomers:
    if not parts:
        return simulate_customers(0, DEFAULT_BGNBD, DEFAULT_GAMMA_GAMMA, origin, end, _rng(0))
    counts = np.concatenate([p.order_counts for p in parts])
    return SimulatedCustomers(
        origin=parts[0].origin,
        observation_end=parts[0].observation_end,
        customer_id=np.concatenate([p.customer_id for p in parts]),
        lam=np.concatenate([p.lam for p in parts]),
        p=np.concatenate([p.p for p in parts]),
        nu=np.concatenate([p.nu for p in parts]),
        order_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        order_time=np.concatenate([p.order_time for p in parts]),
        order_value=np.concatenate([p.order_value for p in parts]),
    )


def _csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Text forms for CSV: dates 'YYYY-MM-DD HH:MM:SS', prices with exactly 2 decimals."""
    date = pc.strftime(pc.cast(batch.column("InvoiceDate"), pa.timestamp("s")), "%Y-%m-%d %H:%M:%S")
    pence = np.rint(batch.column("Price").to_numpy() * 100).astype(np.int64)
    words = np.empty((len(pence), 2), dtype=np.int64)
    words[:, 0] = pence
    words[:, 1] = pence >> 63  # sign extension to a 128-bit integer
    price = pa.Array.from_buffers(pa.decimal128(18, 2), len(pence), [None, pa.py_buffer(words)])
    columns = list(batch.columns)
    columns[ONLINE_RETAIL_II_COLUMNS.index("InvoiceDate")] = date
    columns[ONLINE_RETAIL_II_COLUMNS.index("Price")] = price
    return pa.RecordBatch.from_arrays(columns, names=list(ONLINE_RETAIL_II_COLUMNS))


def write_transactions(
    path: str | Path,
    n_customers: int,
    seed: int,
    start: dt.date = TRANSACTIONS_START,
    end: dt.date = TRANSACTIONS_END,
    *,
    bgnbd: BgNbdParams = DEFAULT_BGNBD,
    gg: GammaGammaParams = DEFAULT_GAMMA_GAMMA,
    dirt: DirtConfig = DEFAULT_DIRT,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    progress: ProgressFn | None = None,
) -> int:
    """Stream invoice lines to ``path`` (``.csv`` or ``.parquet``); returns the line count.

    CSV: header row, no quoting (no value contains a comma or quote), ``InvoiceDate`` as
    ``YYYY-MM-DD HH:MM:SS``, ``Price`` with two decimals, ``Customer ID`` as integer text or
    empty. Parquet: `TRANSACTIONS_SCHEMA`, zstd-compressed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"output must end in .csv or .parquet, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    batches = transaction_batches(
        n_customers,
        seed,
        start,
        end,
        bgnbd=bgnbd,
        gg=gg,
        dirt=dirt,
        chunk_customers=chunk_customers,
        spill_dir=path.parent,
        progress=progress,
    )
    rows = 0
    if suffix == ".parquet":
        with pq.ParquetWriter(path, TRANSACTIONS_SCHEMA, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch, row_group_size=1_000_000)
                rows += batch.num_rows
        return rows
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with open(path, "wb") as sink:
        sink.write((",".join(ONLINE_RETAIL_II_COLUMNS) + "\n").encode())
        for batch in batches:
            pacsv.write_csv(_csv_batch(batch), sink, options)
            rows += batch.num_rows
    return rows


# --------------------------------------------------------------------------------------------
# FLO-shaped customer summaries
# --------------------------------------------------------------------------------------------

ONLINE_CHANNELS: tuple[str, ...] = ("Android App", "Mobile", "Ios App", "Desktop")
_ONLINE_CHANNEL_WEIGHTS = np.array([0.476, 0.245, 0.142, 0.137])
OFFLINE_CHANNEL = "Offline"
CATEGORIES: tuple[str, ...] = ("ERKEK", "KADIN", "COCUK", "AKTIFSPOR", "AKTIFCOCUK")
_CATEGORY_PROBS = np.array([0.30, 0.35, 0.20, 0.40, 0.12])
_ONLINE_SHARE_BETA = (3.0, 2.0)  # per-customer probability that an order is online
_OTHER_LAST_CHANNEL = 0.1  # last online order made on another online channel


def _uuid4_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random version-4 UUID strings (8-4-4-4-12 lowercase hex)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for lo, hi, dst in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        out[:, dst : dst + hi - lo] = hexed[:, lo:hi]
    return np.char.decode(out.view("S36").ravel(), "ascii") if n else np.array([], dtype=str)


def _category_strings() -> list[str]:
    """The list text of every subset of CATEGORIES, indexed by bit mask."""
    return [
        "[" + ", ".join(c for i, c in enumerate(CATEGORIES) if mask >> i & 1) + "]"
        for mask in range(1 << len(CATEGORIES))
    ]


def _flo_chunk(
    n: int,
    seed: int,
    chunk_index: int,
    start: dt.date,
    end: dt.date,
    acquisition_start: dt.date,
    bgnbd: BgNbdParams,
    gg: GammaGammaParams,
) -> tuple[SimulatedCustomers, pd.DataFrame]:
    """``n`` FLO customers: simulated from ``acquisition_start``, kept if they made at least two
    orders and the last one falls in ``start..end``; orders split between online and offline
    with at least one of each."""
    rng = _rng(seed, _DOMAIN_FLO, chunk_index, _S_CUSTOMERS)
    window_start = _weeks(acquisition_start, start)
    kept: list[SimulatedCustomers] = []
    found = 0
    rate = 0.2
    while found < n:
        n_try = max(1000, math.ceil((n - found) / rate * 1.2))
        sim = simulate_customers(n_try, bgnbd, gg, acquisition_start, end, rng)
        keep = (sim.order_counts >= 2) & (sim.last_purchase >= window_start)
        rate = max(keep.mean(), 0.01)
        index = np.flatnonzero(keep)[: n - found]
        mask = np.zeros(n_try, dtype=bool)
        mask[index] = True
        kept.append(sim.subset(mask))
        found += len(index)
    sim = _concat_customers(kept, acquisition_start, end)

    rng = _rng(seed, _DOMAIN_FLO, chunk_index, _S_LINES)
    counts = sim.order_counts
    owner = sim.order_customer
    first = sim.order_offsets[:-1]
    share = rng.beta(*_ONLINE_SHARE_BETA, n)
    online = rng.random(len(owner)) < share[owner]
    # Force one online and one (different) offline order per customer.
    i_on = rng.integers(0, counts)
    i_off = (i_on + 1 + rng.integers(0, counts - 1)) % counts
    online[first + i_on] = True
    online[first + i_off] = False

    day = np.floor(sim.order_time * DAYS_PER_WEEK).astype(np.int64)
    value = sim.order_value
    n_online = np.bincount(owner, online, minlength=n)
    n_offline = counts - n_online
    value_online = np.bincount(owner, np.where(online, value, 0.0), minlength=n)
    value_offline = np.bincount(owner, np.where(online, 0.0, value), minlength=n)
    last_online = np.full(n, -1, dtype=np.int64)
    last_offline = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_online, owner[online], day[online])
    np.maximum.at(last_offline, owner[~online], day[~online])
    first_day = day[first]
    last_day = day[sim.order_offsets[1:] - 1]
    last_is_online = online[sim.order_offsets[1:] - 1]

    channel = rng.choice(len(ONLINE_CHANNELS), n, p=_ONLINE_CHANNEL_WEIGHTS)
    other = (channel + rng.integers(1, len(ONLINE_CHANNELS), n)) % len(ONLINE_CHANNELS)
    last_channel = np.where(rng.random(n) < _OTHER_LAST_CHANNEL, other, channel)
    channels = np.array([*ONLINE_CHANNELS, OFFLINE_CHANNEL], dtype=object)
    last_channel = np.where(last_is_online, last_channel, len(ONLINE_CHANNELS))
    bits = (rng.random((n, len(CATEGORIES))) < _CATEGORY_PROBS).astype(np.int64)
    mask = bits @ (1 << np.arange(len(CATEGORIES)))
    ids = _uuid4_strings(rng, n)

    origin = np.datetime64(acquisition_start, "D")

    def dates(d: np.ndarray) -> np.ndarray:
        return np.datetime_as_string(origin + d, unit="D").astype(object)

    frame = pd.DataFrame(
        {
            "master_id": ids.astype(object),
            "order_channel": channels[channel],
            "last_order_channel": channels[last_channel],
            "first_order_date": dates(first_day),
            "last_order_date": dates(last_day),
            "last_order_date_online": dates(last_online),
            "last_order_date_offline": dates(last_offline),
            "order_num_total_ever_online": n_online.astype(float),
            "order_num_total_ever_offline": n_offline.astype(float),
            "customer_value_total_ever_offline": np.round(value_offline, 2),
            "customer_value_total_ever_online": np.round(value_online, 2),
            "interested_in_categories_12": np.array(_category_strings(), dtype=object)[mask],
        }
    )
    return sim, frame


def customer_summary_frames(
    n_customers: int,
    seed: int,
    start: dt.date = FLO_START,
    end: dt.date = FLO_END,
    *,
    acquisition_start: dt.date = FLO_ACQUISITION_START,
    bgnbd: BgNbdParams = DEFAULT_BGNBD,
    gg: GammaGammaParams = FLO_GAMMA_GAMMA,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    progress: ProgressFn | None = None,
) -> Iterator[pd.DataFrame]:
    """FLO-shaped customer summaries, one DataFrame per chunk of customers.

    Customers follow the BG/NBD + Gamma-Gamma process from ``acquisition_start`` to ``end``
    (values in TRY). Like FLO, only customers with at least one online and one offline order
    and a last order in ``start..end`` are kept, so this is a *selected* population: BG/NBD
    fits on it are not expected to return ``bgnbd``. Dates are ``YYYY-MM-DD`` text; order
    counts are floats; values are rounded to 2 decimals.
    """
    say = progress or (lambda _msg: None)
    done = 0
    for chunk_index, (first, size) in enumerate(_chunk_plan(n_customers, chunk_customers)):
        _, frame = _flo_chunk(size, seed, chunk_index, start, end, acquisition_start, bgnbd, gg)
        done = first + size
        say(f"customers {done}/{n_customers}")
        yield frame


def customer_summaries_frame(n_customers: int, seed: int, **kwargs: object) -> pd.DataFrame:
    """All FLO-shaped customer summaries as one DataFrame (see `customer_summary_frames`)."""
    frames = list(customer_summary_frames(n_customers, seed, **kwargs))  # type: ignore[arg-type]
    if not frames:
        return pd.DataFrame(columns=list(FLO_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def write_customer_summaries(
    path: str | Path,
    n_customers: int,
    seed: int,
    *,
    start: dt.date = FLO_START,
    end: dt.date = FLO_END,
    acquisition_start: dt.date = FLO_ACQUISITION_START,
    bgnbd: BgNbdParams = DEFAULT_BGNBD,
    gg: GammaGammaParams = FLO_GAMMA_GAMMA,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    progress: ProgressFn | None = None,
) -> int:
    """Stream FLO-shaped customer summaries to ``path`` (``.csv`` or ``.parquet``); returns
    the row count. CSV floats keep their ``.0`` (``4.0``) as in the FLO file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"output must end in .csv or .parquet, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = customer_summary_frames(
        n_customers,
        seed,
        start,
        end,
        acquisition_start=acquisition_start,
        bgnbd=bgnbd,
        gg=gg,
        chunk_customers=chunk_customers,
        progress=progress,
    )
    rows = 0
    if suffix == ".parquet":
        writer: pq.ParquetWriter | None = None
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
        return rows
    with open(path, "w", newline="", encoding="utf-8") as sink:
        header = True
        for frame in frames:
            frame.to_csv(sink, index=False, header=header, lineterminator="\n")
            header = False
            rows += len(frame)
        if header:
            sink.write(",".join(FLO_COLUMNS) + "\n")
    return rows


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def main(argv: list[str] | None = None) -> int:
    """``python -m crm_analytics.synth {transactions,customer-summaries} ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.synth",
        description="Write deterministic synthetic retail data with a known BG/NBD + "
        "Gamma-Gamma truth (format from the --out extension: .csv or .parquet).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    tx = sub.add_parser("transactions", help="Online Retail II-shaped invoice lines")
    tx.add_argument("--start", type=_date, default=TRANSACTIONS_START)
    tx.add_argument("--end", type=_date, default=TRANSACTIONS_END)
    tx.add_argument("--no-dirt", action="store_true", help="clean purchases only")
    flo = sub.add_parser("customer-summaries", help="FLO-shaped customer summaries")
    flo.add_argument("--start", type=_date, default=FLO_START)
    flo.add_argument("--end", type=_date, default=FLO_END)
    flo.add_argument("--acquisition-start", type=_date, default=FLO_ACQUISITION_START)
    for p in (tx, flo):
        p.add_argument("--customers", type=int, required=True)
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--chunk-customers", type=int, default=DEFAULT_CHUNK_CUSTOMERS)
    args = parser.parse_args(argv)

    began = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[synth {time.perf_counter() - began:7.1f}s] {message}", file=sys.stderr)

    if args.command == "transactions":
        rows = write_transactions(
            args.out,
            args.customers,
            args.seed,
            args.start,
            args.end,
            dirt=NO_DIRT if args.no_dirt else DEFAULT_DIRT,
            chunk_customers=args.chunk_customers,
            progress=progress,
        )
    else:
        rows = write_customer_summaries(
            args.out,
            args.customers,
            args.seed,
            start=args.start,
            end=args.end,
            acquisition_start=args.acquisition_start,
            chunk_customers=args.chunk_customers,
            progress=progress,
        )
    seconds = time.perf_counter() - began
    progress(f"wrote {rows} rows to {args.out} in {seconds:.1f}s ({rows / seconds:,.0f} rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
