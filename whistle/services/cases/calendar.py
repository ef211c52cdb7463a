"""The working-day calendar as the service sees it: national holidays plus the admin table,
counted in each office's own day.

`calendar_overrides` is tiny (a handful of late changes a year), so it is read per call rather
than cached: a cache would have to be invalidated across several gunicorn workers and hosts,
and a stale calendar silently moves deadlines.

Time zones: a unit counts its days in its own zone (`units.timezone`: WIB, WITA or WIT), so
that a request made at 23:30 in Jakarta and one made at 00:30 in Kupang fall on the days their
offices see (the NTT SOP is a WITA office). A case keeps the days of the unit that received
it (`cases.unit_id`) wherever it is handled: its deadlines are that office's promise to the
reporter. Without a unit the deployment's zone applies (Jakarta unless configured).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.calendar import Calendar, DeadlineConfig
from ...domain.constants import DataRequestPolicy, OfficeZone
from ...models import CalendarOverride, Unit, utcnow
from ..custody import audit
from ..messages import N_, Refusal

DEFAULT_TZ = OfficeZone.WIB.value


def load_calendar(db: Session) -> Calendar:
    """National holidays and cuti bersama, corrected by the admin's override rows."""
    rows = db.execute(select(CalendarOverride.day, CalendarOverride.is_holiday)).all()
    # Calendar's mapping is "is a working day": an override holiday is False.
    return Calendar({day: not is_holiday for day, is_holiday in rows})


def local_tz(config: Any = None, *, zone: str | None = None) -> ZoneInfo:
    """The unit's zone when given (a stored `units.timezone`), else the deployment's."""
    return ZoneInfo(zone or getattr(config, "timezone", "") or DEFAULT_TZ)


def local_date(moment: datetime, config: Any = None, *, zone: str | None = None) -> date:
    """The office's calendar date of an aware timestamp."""
    return moment.astimezone(local_tz(config, zone=zone)).date()


def today(config: Any = None, *, zone: str | None = None) -> date:
    return local_date(utcnow(), config, zone=zone)


def unit_zone(db: Session, unit_id: int | None) -> str | None:
    """The stored zone of a unit (None: unknown unit, use the deployment's)."""
    if unit_id is None:
        return None
    return db.scalar(select(Unit.timezone).where(Unit.id == unit_id))


def units_by_zone(db: Session) -> dict[str, list[int]]:
    """zone -> unit ids, for work that must count each office's day (the sweep)."""
    out: dict[str, list[int]] = defaultdict(list)
    for unit_id, zone in db.execute(select(Unit.id, Unit.timezone).order_by(Unit.id)):
        out[zone or DEFAULT_TZ].append(unit_id)
    return dict(out)


def set_unit_timezone(db: Session, actor: str, unit_id: int, zone: str) -> Unit:
    """Set the zone a unit counts its days in. Refuses anything but WIB, WITA or WIT."""
    code = (zone or "").strip()
    by_name = {z.name: z for z in OfficeZone}
    chosen = by_name.get(code.upper()) or (OfficeZone(code) if code in OfficeZone._value2member_map_ else None)
    if chosen is None:
        raise Refusal(N_("Choose the unit's time zone: WIB, WITA or WIT."))
    unit = db.get(Unit, unit_id)
    if unit is None:
        raise Refusal(N_("Unknown unit."))
    if unit.timezone != chosen.value:
        unit.timezone = chosen.value
        db.flush()
        audit.append(db, actor, "unit.timezone", f"unit:{unit.id}", f"zone={chosen.name}")
    return unit


def data_request_policy(config: Any = None) -> DataRequestPolicy:
    """WHISTLE_DATA_REQUEST_POLICY: sp4n_lapor (default) or sipuma."""
    return DataRequestPolicy(getattr(config, "data_request_policy", "") or DataRequestPolicy.SP4N_LAPOR)


def deadline_config(config: Any = None) -> DeadlineConfig:
    """Office-configurable durations, by the data-request policy of the deployment.

    SP4N-LAPOR!: WHISTLE_DATA_REQUEST_DAYS working days (10 by default), then archived.
    SIPUMA: WHISTLE_DATA_REQUEST_CALENDAR_DAYS calendar days (14 by default), then not followable.
    """
    return DeadlineConfig.for_policy(
        data_request_policy(config),
        working_days=int(getattr(config, "data_request_days", 0) or 10),
        calendar_days=int(getattr(config, "data_request_calendar_days", 0) or 14))
