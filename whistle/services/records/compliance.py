"""SOP compliance from plaintext metadata: did each step with a deadline meet it?

Steps and their clocks (DESIGN.md §2, the SOPs in shared/domain):

| step | starts | ends | deadline |
|---|---|---|---|
| verification (telaah) | receipt | the first move out of verification | 3 working days |
| answer | receipt | the answered case is closed | 5 working days |
| investigation | forwarding to the PYB or unit (or the start of the investigation when it was not forwarded) | substantiated / unsubstantiated | 5, 14 or 60 working days by tier |
| data request | the request | the reporter's answer | 10 working days or 14 calendar days (the deployment's policy) |

Only the plaintext columns of ``cases`` and the who/when/from/to of ``events`` are read, never
an encrypted reason. Working days use the office calendar (national holidays, cuti bersama,
the admin's overrides) through a prefix-sum table, so 100,000 cases cost one pass.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.calendar import Calendar, DeadlineConfig
from ...domain.constants import Status

VERIFICATION, ANSWER, INVESTIGATION, DATA_REQUEST = "verification", "answer", "investigation", "data_request"
STEPS = (VERIFICATION, ANSWER, INVESTIGATION, DATA_REQUEST)
MET, MISSED, LATE_NOW = "met", "missed", "late_now"
_VERIF = (Status.RECEIVED.value, Status.VERIFICATION.value)
_FORWARDED = (Status.FORWARDED_PYB.value, Status.FORWARDED_UNIT.value)
_CONCLUDED = (Status.SUBSTANTIATED.value, Status.UNSUBSTANTIATED.value)


class WorkingDays:
    """``between(a, b)`` and ``add(a, n)`` in O(1) from a prefix sum over a span of days."""

    def __init__(self, calendar: Calendar, first: date, last: date) -> None:
        self.calendar = calendar
        self.first = first
        self.prefix = [0]
        self.days: list[date] = []
        d = first
        while d <= last:
            self.prefix.append(self.prefix[-1] + (1 if calendar.is_working_day(d) else 0))
            self.days.append(d)
            d += timedelta(days=1)

    def _idx(self, d: date) -> int | None:
        i = (d - self.first).days
        return i if 0 <= i < len(self.days) else None

    def between(self, a: date, b: date) -> int:
        ia, ib = self._idx(a), self._idx(b)
        if ia is None or ib is None:
            return self.calendar.working_days_between(a, b)
        return self.prefix[ib + 1] - self.prefix[ia + 1]

    def add(self, a: date, n: int) -> date:
        ia = self._idx(a)
        if ia is None:
            return self.calendar.add_working_days(a, n)
        target = self.prefix[ia + 1] + n
        j = ia + 1
        while j < len(self.days) and self.prefix[j + 1] < target:
            j += 1
        if j >= len(self.days):  # past the table's end: ask the calendar itself
            return self.calendar.add_working_days(a, n)
        return self.days[j]


@dataclass
class StepFigures:
    """For one step and one slice: counts of met / missed, durations of the finished ones."""

    met: int = 0
    missed: int = 0
    late_now: int = 0
    durations: list[int] = field(default_factory=list)

    def median(self) -> float | None:
        return statistics.median(self.durations) if self.durations else None

    def p90(self) -> float | None:
        if not self.durations:
            return None
        ordered = sorted(self.durations)
        return float(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))])


@dataclass(frozen=True)
class CaseRow:
    id: str
    unit_id: int
    received_on: date
    status: str
    tier: str | None


@dataclass(frozen=True)
class StepResult:
    """One case's pass through one step."""

    step: str
    case: CaseRow
    outcome: str  # MET | MISSED | LATE_NOW | "" (open, not late yet)
    days: int | None  # working days taken, when finished


def evaluate(cases: Iterable[CaseRow], events: Mapping[str, list[tuple[date, str | None, str | None]]],
             wd: WorkingDays, config: DeadlineConfig, today: date) -> list[StepResult]:
    """Every step each case went through, with its outcome. ``events[case_id]`` holds
    (local date, from_status, to_status) in time order."""
    out: list[StepResult] = []
    for case in cases:
        evs = events.get(case.id, [])
        out.extend(_steps(case, evs, wd, config, today))
    return out


def _first(evs: list[tuple[date, str | None, str | None]], pred: Any, after: date | None = None) -> date | None:
    for day, frm, to in evs:
        if (after is None or day >= after) and pred(frm, to):
            return day
    return None


def _judge(step: str, case: CaseRow, start: date, end: date | None, due: date,
           wd: WorkingDays, today: date) -> StepResult:
    if end is None:
        return StepResult(step, case, LATE_NOW if today > due else "", None)
    return StepResult(step, case, MET if end <= due else MISSED, wd.between(start, end))


def _steps(case: CaseRow, evs: list[tuple[date, str | None, str | None]], wd: WorkingDays,
           config: DeadlineConfig, today: date) -> list[StepResult]:
    res: list[StepResult] = []
    start = case.received_on
    left = _first(evs, lambda f, t: f in _VERIF and t is not None and t not in _VERIF)
    res.append(_judge(VERIFICATION, case, start, left, wd.add(start, config.verification_days), wd, today))
    answered = _first(evs, lambda f, t: t == Status.ANSWERED.value)
    if answered is not None:
        done = _first(evs, lambda f, t: f == Status.ANSWERED.value and t == Status.CLOSED.value, answered)
        res.append(_judge(ANSWER, case, start, done, wd.add(start, config.answered_days), wd, today))
    inv = _first(evs, lambda f, t: t in _FORWARDED) or _first(evs, lambda f, t: t == Status.INVESTIGATION.value)
    if inv is not None and case.tier and case.tier.isdigit():
        done = _first(evs, lambda f, t: t in _CONCLUDED, inv)
        res.append(_judge(INVESTIGATION, case, inv, done, wd.add(inv, int(case.tier)), wd, today))
    asked = _first(evs, lambda f, t: t == Status.AWAITING_DATA.value)
    if asked is not None:
        reply = _first(evs, lambda f, t: f == Status.AWAITING_DATA.value and t == Status.VERIFICATION.value, asked)
        due = (wd.add(asked, config.awaiting_data_days) if config.awaiting_data_in_working_days
               else asked + timedelta(days=config.awaiting_data_days))
        res.append(_judge(DATA_REQUEST, case, asked, reply, due, wd, today))
    return res


def load(db: Session, lo: datetime, hi: datetime, local: Any) -> tuple[list[CaseRow], dict[str, list[tuple[date, str | None, str | None]]]]:
    """Cases received in [lo, hi) and their events, plaintext columns only.

    ``local`` turns an aware instant into the office's local date."""
    from ...models import Case, Event

    rows = db.execute(select(Case.id, Case.unit_id, Case.received_at, Case.status, Case.tier)
                      .where(Case.received_at >= lo, Case.received_at < hi)).all()
    cases = [CaseRow(r.id, r.unit_id, local(_aware(r.received_at)), r.status, r.tier) for r in rows]
    events: dict[str, list[tuple[date, str | None, str | None]]] = {}
    q = (select(Event.case_id, Event.at, Event.from_status, Event.to_status)
         .join(Case, Case.id == Event.case_id)
         .where(Case.received_at >= lo, Case.received_at < hi)
         .order_by(Event.case_id, Event.at, Event.id))
    for case_id, at, frm, to in db.execute(q):
        events.setdefault(case_id, []).append((local(_aware(at)), frm, to))
    return cases, events


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
