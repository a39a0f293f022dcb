"""Durations (`10m`, `7d`, `lifetime`) and UTC instants, all in integer milliseconds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^([0-9]+)([smhd])$")
#: The longest window or horizon: 100 years. Longer ones reach past what dates
#: can say (window arithmetic from a --start in 1900 must stay after year 1)
#: and are `lifetime` in all but name.
MAX_DURATION_MS = 36_500 * 86_400_000
#: A point in time as callers give it: text (`2026-01-10[ 12:00]`), a date or a naive UTC datetime.
Instant = str | date | datetime


@dataclass(frozen=True)
class Window:
    """A trailing window length; `millis is None` means lifetime."""

    name: str
    millis: int | None

    @property
    def is_lifetime(self) -> bool:
        return self.millis is None


LIFETIME = Window("lifetime", None)


def _shown(text: str) -> str:
    # Messages quote what was written; a runaway spelling is shortened, not echoed whole.
    return text if len(text) <= 24 else text[:10] + "..." + text[-10:]


class DurationTooLong(ValueError):
    """A well-spelled duration over MAX_DURATION_MS."""


def parse_duration(text: str) -> int:
    """`10m` -> 600000. Raises ValueError with a user-facing message."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{_shown(text)}' is not a duration: write <n>s, <n>m, <n>h or <n>d, e.g. 10m")
    digits = match.group(1).lstrip("0")
    if not digits:
        raise ValueError(f"'{text}' must be a positive duration")
    # Compare digit counts first: int() of a 5,000-digit number is refused by Python.
    millis = int(digits) * _UNIT_MS[match.group(2)] if len(digits) <= 18 else MAX_DURATION_MS + 1
    if millis > MAX_DURATION_MS:
        raise DurationTooLong(f"'{_shown(text)}' is longer than 36500d (100 years); use lifetime for all of history")
    return millis


def parse_window(text: str) -> Window:
    """A window spelling: a duration or `lifetime`."""
    if text.lower() == "lifetime":
        return LIFETIME
    try:
        return Window(text, parse_duration(text))
    except DurationTooLong:
        raise
    except ValueError as err:
        raise ValueError(f"{err} or lifetime") from None


def parse_instant(value: str | date | datetime) -> datetime:
    """A naive UTC datetime from `YYYY-MM-DD[ HH:MM[:SS[.fff]]]`, a date or a datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{value}' is not a date or time: write YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None
    return parse_instant(parsed)


def days_between(start: datetime, end: datetime) -> list[date]:
    """Every UTC day that the half-open range [start, end) touches."""
    days: list[date] = []
    day = start.date()
    while datetime(day.year, day.month, day.day) < end:
        days.append(day)
        day += timedelta(days=1)
    return days


def parse_range(start: str | date | datetime, end: str | date | datetime) -> tuple[datetime, datetime]:
    """A half-open UTC range; ValueError with a user-facing message when it is not one."""
    lower, upper = parse_instant(start), parse_instant(end)
    if upper <= lower:
        raise ValueError(f"--end ({upper}) must be after --start ({lower})")
    # Window arithmetic reaches far before --start (lifetime, long windows): keep clear of year 1.
    if lower < datetime(1900, 1, 1) or upper > datetime(9000, 1, 1):
        raise ValueError("--start and --end must lie between 1900-01-01 and 9000-01-01")
    return lower, upper


def require_whole_days(start: datetime, end: datetime) -> None:
    """Partitions are whole UTC days and are replaced whole: a run that writes them must cover whole days."""
    for name, value in (("--start", start), ("--end", end)):
        if value != datetime(value.year, value.month, value.day):
            raise ValueError(
                f"{name} {value} is not midnight: runs that write dt= partitions cover whole UTC days "
                "(a partial day would replace the whole partition); use backfill_table/samples_table for a slice"
            )
