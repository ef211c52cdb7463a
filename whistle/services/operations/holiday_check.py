"""Is the installed `holidays` package still guessing some of Indonesia's dates?

`holidays` computes Islamic holidays astronomically until the government publishes the year's
decree (SKB), and labels those dates "(estimated)" / "(perkiraan)". A guessed Idul Fitri moves
every deadline that crosses it. `whistle sweep` warns the operator about estimated dates of the
current and the next year that no calendar override (admin, /admin/settings) has settled yet;
the fix is a newer `holidays` (refresh the lock) or an override row for the official dates.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.calendar import HOLIDAY_CATEGORIES, HOLIDAY_COUNTRY
from ...models import CalendarOverride

_ESTIMATED = "(estimated)"  # the en_US label holidays puts on a computed, unofficial date


def estimated_days(years: Iterable[int]) -> dict[date, str]:
    """Date -> English name of every national holiday `holidays` only estimates."""
    found = holidays.country_holidays(HOLIDAY_COUNTRY, years=list(years),
                                      categories=HOLIDAY_CATEGORIES, language="en_US")
    return {day: name for day, name in sorted(found.items()) if _ESTIMATED in name}


def unsettled_estimates(db: Session, today: date) -> dict[date, str]:
    """Estimated dates of this year and the next that no override row has settled."""
    estimated = estimated_days((today.year, today.year + 1))
    if not estimated:
        return {}
    settled = set(db.scalars(select(CalendarOverride.day).where(
        CalendarOverride.day.in_(list(estimated)))))
    return {day: name for day, name in estimated.items() if day not in settled}


def warning(db: Session, today: date) -> str | None:
    """The operator's warning, or None when every date is official or settled."""
    days = unsettled_estimates(db, today)
    if not days:
        return None
    listed = "; ".join(f"{day.isoformat()} {name}" for day, name in days.items())
    return (f"warning: the installed holidays package {holidays.__version__} only estimates "
            f"{len(days)} Indonesian holiday date(s): {listed}. Deadlines across them may be "
            "wrong. Refresh the lock for a newer holidays release, or enter the official dates "
            "as calendar overrides (admin: Settings).")
