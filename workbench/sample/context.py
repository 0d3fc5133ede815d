"""Shared machinery of the generator: volumes, random streams, the calendar and value formatting.

Values are produced in the form every backend accepts from its driver unchanged: ``int``,
``bool``, ``str`` and ``None``. Dates, timestamps and amounts are strings (``'2019-03-04'``,
``'2019-03-04 10:11:12'``, ``'12.30'``): SQLite then stores exactly what SQLAlchemy reads back,
PostgreSQL's COPY parses them, and no float rounding creeps into money.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T0 = datetime(2011, 1, 1)
"""The day the monolith went live: every timestamp is at or after it."""

DAY = 86_400
DAYS = (date(2026, 1, 1) - T0.date()).days
"""Fifteen years of history: day indexes 0 .. DAYS - 1 (2011-01-01 .. 2025-12-31)."""

NOW = DAYS * DAY
"""The moment the snapshot is taken (2026-01-01 00:00:00), in seconds since :data:`T0`."""

_D0 = T0.date()

# online shopping by hour of day (relative weights)
_HOURS = (2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 13, 13, 14, 13, 12, 12, 12, 13, 15, 18, 20, 18, 12, 6)
# by month: quiet January, busy November/December
_MONTHS = (0.8, 0.75, 0.9, 0.9, 0.95, 0.95, 0.9, 0.9, 1.0, 1.05, 1.35, 1.6)


# Formatting millions of timestamps through datetime is the generator's main cost: look them up.
_DAY_TEXT = [(_D0 + timedelta(days=d)).isoformat() for d in range(DAYS + 7 * 366)]
_TIME_TEXT = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def ts(seconds: int) -> str:
    """Timestamp text for seconds since :data:`T0`.

    >>> ts(0), ts(DAY + 61)
    ('2011-01-01 00:00:00', '2011-01-02 00:01:01')
    """
    d, s = divmod(seconds, DAY)
    if 0 <= d < len(_DAY_TEXT):
        return f"{_DAY_TEXT[d]} {_TIME_TEXT[s]}"
    return (T0 + timedelta(seconds=seconds)).isoformat(" ")


def day(index: int) -> str:
    """Date text for a day index.

    >>> day(0), day(DAYS - 1)
    ('2011-01-01', '2025-12-31')
    """
    if 0 <= index < len(_DAY_TEXT):
        return _DAY_TEXT[index]
    return (_D0 + timedelta(days=index)).isoformat()


def money(cents: int) -> str:
    """Amount text with two decimals, exact (a double holds every cent value below 2**53 / 100).

    >>> money(1230), money(-5), money(0), money(123456789012)
    ('12.30', '-0.05', '0.00', '1234567890.12')
    """
    return f"{cents / 100:.2f}"


T = TypeVar("T")


class FastRandom(random.Random):
    """``random.Random`` whose integer helpers use one ``random()`` call instead of four Python frames.

    The stdlib's ``randrange``/``randint``/``choice`` are exact but slow; for sample data a
    floor of ``random() * n`` is uniform enough and several times faster. Still reproducible.
    """

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        width = stop - start
        if width <= 0:
            raise ValueError(f"empty range for randrange({start}, {stop})")
        return start + int(self.random() * width)

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]


def moment(year: int, month: int = 1, day_of_month: int = 1) -> int:
    """Seconds since :data:`T0` at midnight of a calendar date.

    >>> moment(2011), moment(2011, 1, 2) == DAY
    (0, True)
    """
    return (date(year, month, day_of_month) - _D0).days * DAY


def year_of(seconds: int) -> int:
    """Calendar year of a timestamp (cheap: no datetime arithmetic)."""
    return 2011 + min(14, max(0, int(seconds / (365.2425 * DAY))))


@dataclass
class Context:
    """Volumes and random streams for one generation run.

    Every table draws from its own stream, seeded from ``(seed, stream name)``, so tuning one
    table's generator does not reshuffle every other table.
    """

    scale: float
    seed: int
    _day_cum: list[float] = field(default_factory=list, repr=False)
    _hour_cum: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not (0 < self.scale <= 100):
            raise ValueError(f"scale must be in (0, 100], got {self.scale}")
        growth = 4.0  # the business grew five-fold over fifteen years
        total = 0.0
        for d in range(DAYS):
            when = _D0 + timedelta(days=d)
            weekday = 1.1 if when.weekday() in (6, 0) else (0.85 if when.weekday() == 5 else 1.0)
            total += (1 + growth * d / DAYS) * _MONTHS[when.month - 1] * weekday
            self._day_cum.append(total)
        self._hour_cum = cumulative(_HOURS)

    def n(self, base: int, minimum: int = 3) -> int:
        """Row volume for ``base`` rows at scale 1.0."""
        return max(minimum, round(base * self.scale))

    def rng(self, stream: str) -> random.Random:
        """An independent, reproducible random stream (string seeds hash with SHA-512, not ``hash()``)."""
        return FastRandom(f"{self.seed}:{stream}")

    def busy_time(self, rng: random.Random, start: int = 0, end: int = NOW) -> int:
        """A moment in [start, end) drawn like real traffic: growing over the years, seasonal, daytime."""
        lo_day, hi_day = start // DAY, max(start // DAY + 1, math.ceil(end / DAY))
        lo = self._day_cum[lo_day - 1] if lo_day > 0 else 0.0
        hi = self._day_cum[min(hi_day, DAYS) - 1]
        for _ in range(20):
            d = bisect.bisect_right(self._day_cum, lo + rng.random() * (hi - lo))
            hour = bisect.bisect_right(self._hour_cum, rng.random() * self._hour_cum[-1])
            t = min(d, DAYS - 1) * DAY + hour * 3600 + rng.randrange(3600)
            if start <= t < end:
                return t
        return start + rng.randrange(max(1, end - start))

    def office_time(self, rng: random.Random, start: int, end: int = NOW) -> int:
        """A moment in [start, end) during office hours on a weekday, when staff do back-office work."""
        if end <= start:
            return start
        for _ in range(20):
            t = start + int(rng.random() * (end - start))
            d, s = divmod(t, DAY)
            if (d + 5) % 7 < 5 and 8 * 3600 <= s < 18 * 3600:  # 2011-01-01 was a Saturday
                return t
        return start + int(rng.random() * (end - start))


def pick_weighted(rng: random.Random, cum: list[float]) -> int:
    """Index drawn with the weights whose running sums are ``cum``."""
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def cumulative(weights: list[float] | tuple[float, ...]) -> list[float]:
    """Running sums of ``weights``, for :func:`pick_weighted`.

    >>> cumulative([1, 2, 3])
    [1, 3, 6]
    """
    return list(itertools.accumulate(weights))
