"""The working-day calendar as the service sees it: national holidays plus the admin table.

`calendar_overrides` is tiny (a handful of late changes a year), so it is read per call rather
than cached: a cache would have to be invalidated across several gunicorn workers and hosts,
and a stale calendar silently moves deadlines.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.calendar import Calendar, DeadlineConfig
from ...models import CalendarOverride, utcnow

# Deadlines are counted in the office's local days. Jakarta (WIB) unless configured: the date
# of a UTC timestamp is the wrong day for part of every night in Indonesia.
DEFAULT_TZ = "Asia/Jakarta"


def load_calendar(db: Session) -> Calendar:
    """National holidays and cuti bersama, corrected by the admin's override rows."""
    rows = db.execute(select(CalendarOverride.day, CalendarOverride.is_holiday)).all()
    # Calendar's mapping is "is a working day": an override holiday is False.
    return Calendar({day: not is_holiday for day, is_holiday in rows})


def local_tz(config: Any = None) -> ZoneInfo:
    return ZoneInfo(getattr(config, "timezone", "") or DEFAULT_TZ)


def local_date(moment: datetime, config: Any = None) -> date:
    """The office's calendar date of an aware timestamp."""
    return moment.astimezone(local_tz(config)).date()


def today(config: Any = None) -> date:
    return local_date(utcnow(), config)


def deadline_config(config: Any = None) -> DeadlineConfig:
    """Office-configurable durations (WHISTLE_DATA_REQUEST_DAYS: 10 by default, 14 in some offices)."""
    days = int(getattr(config, "data_request_days", 0) or 10)
    return DeadlineConfig(awaiting_data_days=days)
