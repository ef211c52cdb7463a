"""Working days and deadlines.

A working day is Monday–Friday that is neither an Indonesian national holiday nor a cuti
bersama day (the `holidays` package, country "ID", categories "public" + "government"), after
applying the admin table of late changes (`Calendar(overrides)`).

Clock rule (DESIGN §2): the clock starts the working day *after* the event, so a deadline of
n working days is **the n-th working day strictly after the event date**, and it is met if the
work is done on or before that day.  Example: a report received on Friday 6 March 2026 has a
3-working-day verification deadline of Wednesday 11 March 2026 (Mon 9, Tue 10, Wed 11).

All functions take plain local `date`s.  A `datetime` is refused on purpose: `.date()` of a UTC
timestamp is the wrong day for part of every night in WIB/WITA/WIT, and that must be decided by
the caller, not guessed here.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Final

import holidays

from whistle.domain.constants import (
    DataRequestPolicy,
    InvestigationTier,
    Status,
    Text,
    normalise_lang,
)

HOLIDAY_COUNTRY: Final = "ID"
# "government" is where the package keeps cuti bersama (joint leave decreed by the SKB 3 Menteri).
HOLIDAY_CATEGORIES: Final = ("public", "government")
_HOLIDAY_LANG: Final = {"id": "id", "en": "en_US"}

ACKNOWLEDGE_WITHIN_DAYS: Final = 7  # calendar days (ISO 37002, EU Directive 2019/1937 art. 9)
FEEDBACK_WITHIN_MONTHS: Final = 3  # calendar months after acknowledgement

_OVERRIDE_HOLIDAY: Final = Text("Hari libur (ditetapkan admin)", "Holiday (set by the administrator)")


def _as_date(d: date) -> date:
    if isinstance(d, datetime):
        raise TypeError("pass the local calendar date (date), not a datetime")
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d


@lru_cache(maxsize=128)
def _national(year: int, lang: str = "id") -> Mapping[date, str]:
    """Holidays + cuti bersama of one year, read-only; cached because it never changes at run time."""
    h = holidays.country_holidays(
        HOLIDAY_COUNTRY, years=year, categories=HOLIDAY_CATEGORIES, language=_HOLIDAY_LANG[lang]
    )
    return MappingProxyType(dict(h.items()))


def national_holidays(year: int, lang: str = "id") -> Mapping[date, str]:
    """Date -> name of every national holiday and cuti bersama day of `year` (no overrides)."""
    return _national(year, normalise_lang(lang))


@dataclass(frozen=True, slots=True)
class DeadlineConfig:
    """Office-configurable durations.  Defaults follow DESIGN §2 and the SP4N-LAPOR! SOP."""

    verification_days: int = 3
    awaiting_data_days: int = 10
    # Some offices (SIPUMA/Bea Cukai) give the reporter 14 *calendar* days instead.
    awaiting_data_in_working_days: bool = True
    answered_days: int = 5
    quiet_period_days: int = 30  # calendar days a closed case stays open to reading before archiving
    # What an unanswered data request leads to (archived, or not followable); see for_policy.
    data_request_policy: DataRequestPolicy = DataRequestPolicy.SP4N_LAPOR

    def __post_init__(self) -> None:
        for name in ("verification_days", "awaiting_data_days", "answered_days", "quiet_period_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        # A StrEnum field given as its code ("sipuma") must still be the enum, or a bad code fail.
        object.__setattr__(self, "data_request_policy", DataRequestPolicy(self.data_request_policy))

    @classmethod
    def for_policy(cls, policy: DataRequestPolicy | str, *, working_days: int = 10,
                   calendar_days: int = 14) -> DeadlineConfig:
        """The data-request clock of one SOP: SP4N-LAPOR! counts ``working_days`` working days,
        SIPUMA ``calendar_days`` calendar days ("14 hari sejak permintaan data tambahan")."""
        policy = DataRequestPolicy(policy)
        if policy is DataRequestPolicy.SIPUMA:
            return cls(awaiting_data_days=calendar_days, awaiting_data_in_working_days=False,
                       data_request_policy=policy)
        return cls(awaiting_data_days=working_days, data_request_policy=policy)


DEFAULT_CONFIG: Final = DeadlineConfig()


class Calendar:
    """Working-day calendar with admin overrides.

    `overrides[d] is True`  -> d is a working day whatever the package says (a holiday removed,
                               or a weekend made a workday);
    `overrides[d] is False` -> d is a day off (an extra holiday announced late).
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        # Copied so that a later change to the caller's table cannot alter deadlines silently.
        self._overrides: dict[date, bool] = {_as_date(d): bool(v) for d, v in (overrides or {}).items()}

    @classmethod
    def from_table(cls, rows: Iterable[tuple[date, str]]) -> Calendar:
        """Build from `calendar_overrides(day, kind)` rows, kind being 'holiday' or 'workday'."""
        overrides: dict[date, bool] = {}
        for day, kind in rows:
            if kind not in ("holiday", "workday"):
                raise ValueError(f"unknown calendar override kind {kind!r} for {day}")
            overrides[day] = kind == "workday"
        return cls(overrides)

    @property
    def overrides(self) -> Mapping[date, bool]:
        return MappingProxyType(self._overrides)

    def holiday_name(self, d: date, lang: str = "id") -> str | None:
        """Why `d` is a day off (None for an ordinary day or a weekend)."""
        d = _as_date(d)
        if self._overrides.get(d) is True:
            return None
        if self._overrides.get(d) is False:
            return _OVERRIDE_HOLIDAY.get(lang)
        return national_holidays(d.year, lang).get(d)

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        if d in self._overrides:
            return self._overrides[d]
        return d.weekday() < 5 and d not in _national(d.year)

    def add_working_days(self, event_date: date, n: int) -> date:
        """The n-th working day strictly after `event_date` (n = 0 returns the event date)."""
        d = _as_date(event_date)
        if n < 0:
            raise ValueError("n must not be negative")
        while n:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative when b is before a.

        Inverse of `add_working_days`: working_days_between(e, add_working_days(e, n)) == n.
        With a = today and b = due date it is the number of working days left.
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))

    def deadline_for(
        self,
        status: Status | str,
        event_date: date,
        config: DeadlineConfig = DEFAULT_CONFIG,
        *,
        tier: InvestigationTier | int | None = None,
    ) -> date | None:
        """Due date for a case that entered `status` on `event_date`; None if the status has none.

        `received` carries the verification deadline (3 working days *from receipt*): the ticket
        is the immediate acknowledgement, and the telaah clock runs from receipt, not from the
        moment an officer opens the case.
        """
        status = Status(status)
        event_date = _as_date(event_date)
        if status in (Status.RECEIVED, Status.VERIFICATION):
            return self.add_working_days(event_date, config.verification_days)
        if status is Status.AWAITING_DATA:
            if config.awaiting_data_in_working_days:
                return self.add_working_days(event_date, config.awaiting_data_days)
            return event_date + timedelta(days=config.awaiting_data_days)
        if status is Status.ANSWERED:
            return self.add_working_days(event_date, config.answered_days)
        if status is Status.INVESTIGATION:
            if tier is None:
                raise ValueError("an investigation deadline needs a tier (5, 14 or 60 working days)")
            return self.add_working_days(event_date, InvestigationTier(tier).value)
        return None


DEFAULT_CALENDAR: Final = Calendar()


def _cal(calendar: Calendar | None) -> Calendar:
    return DEFAULT_CALENDAR if calendar is None else calendar


def is_working_day(d: date, *, calendar: Calendar | None = None) -> bool:
    return _cal(calendar).is_working_day(d)


def add_working_days(event_date: date, n: int, *, calendar: Calendar | None = None) -> date:
    return _cal(calendar).add_working_days(event_date, n)


def working_days_between(a: date, b: date, *, calendar: Calendar | None = None) -> int:
    return _cal(calendar).working_days_between(a, b)


def deadline_for(
    status: Status | str,
    event_date: date,
    config: DeadlineConfig = DEFAULT_CONFIG,
    *,
    tier: InvestigationTier | int | None = None,
    calendar: Calendar | None = None,
) -> date | None:
    return _cal(calendar).deadline_for(status, event_date, config, tier=tier)


def is_late(due: date | None, today: date) -> bool:
    """Late once the due day is over; a status without a deadline is never late."""
    return due is not None and _as_date(today) > _as_date(due)


def add_months(d: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (30 Nov + 3 -> 28/29 Feb)."""
    d = _as_date(d)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _stdcal.monthrange(year, month)[1]))


def acknowledgement_due(received_on: date) -> date:
    """International norm: acknowledge within 7 calendar days of receipt."""
    return _as_date(received_on) + timedelta(days=ACKNOWLEDGE_WITHIN_DAYS)


def feedback_due(received_on: date, acknowledged_on: date | None = None) -> date:
    """International norm: feedback within 3 months of the acknowledgement, or, if none was sent,
    of the end of the 7-day acknowledgement period (EU Directive 2019/1937 art. 9(1)(f))."""
    start = acknowledged_on if acknowledged_on is not None else acknowledgement_due(received_on)
    return add_months(start, FEEDBACK_WITHIN_MONTHS)


def quiet_period_ends(closed_on: date, config: DeadlineConfig = DEFAULT_CONFIG) -> date:
    """Last day of the quiet period; the archive sweep may archive a closed case after it."""
    return _as_date(closed_on) + timedelta(days=config.quiet_period_days)
