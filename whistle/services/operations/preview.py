"""What ``whistle sweep`` and ``whistle retention`` would do, without doing it (``--dry-run``).

Read-only: one session that only SELECTs and is rolled back, no audit entry, no heartbeat, no
file touched. The selections mirror the sweep's own (services/operations/sweep.py) and the
purge's (retention._archived_before); tests/ops/test_dry_run.py runs the real sweep right after
a preview and checks that it archives and purges exactly what the preview listed, so the two
cannot drift apart unnoticed.

Cases are listed by register number (the helpdesk's plaintext reference), status and the date
that makes them due: what an operator needs to check before letting a purge run, and nothing
from the encrypted content.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ...domain.calendar import DEFAULT_CONFIG
from ...domain.constants import Status
from ...models import Attachment, Case, CaseNotice
from ..cases.calendar import local_date, local_tz
from .retention import _archived_before

LIST_LIMIT = 10_000  # a preview lists at most this many cases per group (counts stay exact)


@dataclass(frozen=True)
class Item:
    register_no: str
    status: str
    since: date | datetime | None  # due date, closed_at or archived_at

    def line(self) -> str:
        when = self.since.isoformat() if self.since is not None else "-"
        return f"  {self.register_no}  {self.status}  {when}"


@dataclass
class Group:
    what: str
    count: int = 0
    items: list[Item] = field(default_factory=list)
    files: int = 0  # attachments that would be deleted (purge only)
    listed: bool = False  # False: a count only


@dataclass
class Preview:
    groups: list[Group] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = ["dry run: nothing was changed"]
        for g in self.groups:
            files = f", {g.files} attachment file(s)" if g.files else ""
            out.append(f"{g.what}: {g.count}{files}")
            out.extend(item.line() for item in g.items)
            if g.listed and g.count > len(g.items):
                out.append(f"  ... and {g.count - len(g.items)} more")
        out.extend(self.notes)
        return "\n".join(out)


def _group(db: Session, what: str, where: list[Any], since: Any, order: Any) -> Group:
    count = db.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    rows = db.execute(select(Case.register_no, Case.status, since).where(*where)
                      .order_by(order, Case.id).limit(LIST_LIMIT)).all()
    return Group(what, count, [Item(r, s, d) for r, s, d in rows], listed=True)


def _sweep_groups(db: Session, *, now: datetime, config: Any,
                  quiet_days: int = DEFAULT_CONFIG.quiet_period_days) -> list[Group]:
    today = local_date(now, config)
    closed_before = datetime.combine(today - timedelta(days=quiet_days), datetime.min.time(),
                                     tzinfo=local_tz(config))
    groups = [
        _group(db, "would archive (data request unanswered past its deadline)",
               [Case.status == Status.AWAITING_DATA.value, Case.due_on < today],
               Case.due_on, Case.due_on),
        _group(db, f"would archive (closed, {quiet_days}-day quiet period over)",
               [Case.status == Status.CLOSED.value, Case.closed_at < closed_before],
               Case.closed_at, Case.closed_at),
    ]
    # The sweep archives before it flags: an unanswered data request past its deadline is
    # archived, not flagged.
    late = db.scalar(select(func.count()).select_from(Case).where(
        Case.is_late.is_(False), Case.due_on < today,
        Case.status.not_in((Status.ARCHIVED.value, Status.AWAITING_DATA.value)))) or 0
    cleared = db.scalar(select(func.count()).select_from(Case).where(
        Case.is_late.is_(True), (Case.due_on.is_(None)) | (Case.due_on >= today))) or 0
    new = db.scalar(select(func.count()).select_from(Case).where(
        Case.status == Status.RECEIVED.value,
        ~select(CaseNotice.case_id).where(CaseNotice.case_id == Case.id,
                                          CaseNotice.kind == "new").exists())) or 0
    groups.append(Group("would mark late", late))
    groups.append(Group("would clear the late flag", cleared))
    groups.append(Group("would announce to officers as new (cases)", new))
    return groups


def _purge_group(db: Session, *, retention_days: int, now: datetime) -> Group:
    if retention_days <= 0:
        return Group("would purge: nothing (retention disabled, WHISTLE_RETENTION_DAYS=0)")
    cutoff = now - timedelta(days=retention_days)
    where = list(_archived_before(cutoff))
    group = _group(db, f"would purge (archived before {cutoff:%Y-%m-%d}, "
                       f"{retention_days} days ago)", where,
                   func.coalesce(Case.archived_at, Case.updated_at), Case.archived_at)
    group.files = db.scalar(select(func.count()).select_from(Attachment).join(
        Case, Case.id == Attachment.case_id).where(*where)) or 0
    return group


def preview(factory: sessionmaker[Session], *, now: datetime, config: Any,
            retention_days: int, sweep: bool = True, purge: bool = True) -> Preview:
    """What the sweep (``sweep``) and the retention purge (``purge``) would do at ``now``."""
    result = Preview()
    db = factory()
    try:
        if sweep:
            result.groups.extend(_sweep_groups(db, now=now, config=config))
        if purge:
            result.groups.append(_purge_group(db, retention_days=retention_days, now=now))
        if sweep:
            result.notes.append("not previewed: housekeeping (expired sessions, crash "
                                "leftovers in the work folder and the attachment store)")
    finally:
        db.rollback()  # nothing was written; release any read snapshot
        db.close()
    return result
