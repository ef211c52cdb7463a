"""Admin edits of the working-day calendar (extra holiday / holiday removed), audited.

Reading the calendar for deadlines is services/calendar_store.py; this module only writes.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import CalendarOverride
from ..custody import audit
from ..messages import N_, Refusal


class CalendarError(Refusal):
    pass


def list_overrides(db: Session) -> list[CalendarOverride]:
    return list(db.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc())).all())


def set_override(db: Session, actor: str, day: date, is_holiday: bool, note: str) -> CalendarOverride:
    note = note.strip()
    if len(note) > 200:
        raise CalendarError(N_("The note may be at most 200 characters."))
    if not 2000 <= day.year <= 2100:
        raise CalendarError(N_("The date is out of range."))
    row = db.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, is_holiday=is_holiday, note=note)
        db.add(row)
    else:
        row.is_holiday, row.note = is_holiday, note
    db.flush()
    audit.append(db, actor, "calendar.set", f"day:{day.isoformat()}",
                 f"{'holiday' if is_holiday else 'workday'} note={note[:80]}")
    return row


def delete_override(db: Session, actor: str, day: date) -> bool:
    row = db.get(CalendarOverride, day)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    audit.append(db, actor, "calendar.delete", f"day:{day.isoformat()}")
    return True
