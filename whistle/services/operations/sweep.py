"""The periodic sweep: deadlines that passed, late flags, officer notifications.

Run by ``whistle sweep`` (one shot, or ``--every SECONDS``) from a systemd timer or a side
process (deploy/README.md, "The sweep"). It is safe to run twice at once and after a crash:

* archiving is row-level: ``UPDATE cases ... WHERE id=? AND version=? AND status='awaiting_data'``
  — only the sweep whose UPDATE matched writes the event and moves the notice into the thread,
  so two sweeps cannot archive a case twice or post two messages;
* each batch (default 500 cases) is its own transaction: a crash loses at most the batch in
  flight, which the next run redoes;
* late flags are two set-based UPDATEs (idempotent by construction);
* a notification is claimed in ``case_notices`` (primary key, ``ON CONFLICT DO NOTHING``)
  before the mail is sent: at most once per case and kind, whoever races.

The sweep holds no key. The reporter's "archived because no data arrived" notice was sealed
by the officer who asked for the data (`cases._prepare_archive_notice`); the sweep only moves
that blob into the thread. All case-row locks of a batch are taken before its audit entries,
whose PostgreSQL advisory lock must never be held while waiting for a row (deadlock order).
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from typing import cast as type_cast

from sqlalchemy import (
    String,
    and_,
    cast,
    delete,
    exists,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ...db import Conflict, is_write_conflict, transaction
from ...domain.calendar import DEFAULT_CONFIG, DeadlineConfig, quiet_period_ends
from ...domain.constants import Party, Status
from ...domain.workflow import Action, plan_transition
from ...models import (
    Case,
    CaseField,
    CaseKeyWrap,
    CaseNotice,
    Event,
    Message,
    Officer,
    TeamMember,
    utcnow,
)
from ..cases.calendar import local_date, local_tz
from ..cases.transitions import FIELD_SWEEP_NOTICE
from ..custody import audit
from . import notify

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

log = logging.getLogger("whistle.sweep")

BATCH = 500
_RETRIES = 5  # SQLite "database is locked" while a concurrent sweep holds the writer lock

_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass
class SweepReport:
    archived: int = 0  # awaiting_data past its deadline
    archived_closed: int = 0  # closed, quiet period over
    marked_late: int = 0
    cleared_late: int = 0
    new_notices: int = 0
    late_notices: int = 0
    mails: int = 0
    recipients: dict[str, notify.Counts] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        return (f"archived {self.archived} unanswered, {self.archived_closed} closed; "
                f"late +{self.marked_late} -{self.cleared_late}; notices new {self.new_notices} "
                f"late {self.late_notices}; mails {self.mails}")


def _retry(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Redo a batch that lost SQLite's writer lock (raised inside the batch or, via
    db.transaction, as Conflict at commit); the batch is idempotent, so redoing is safe."""
    for attempt in range(_RETRIES):
        try:
            return fn(*args, **kwargs)
        except (OperationalError, Conflict) as exc:
            if attempt == _RETRIES - 1 or (isinstance(exc, OperationalError)
                                           and not is_write_conflict(exc)):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


# -- archiving ------------------------------------------------------------------------------

def _archive_batch(factory: sessionmaker[Session], *, status: Status, action: Action,
                   today: date, now: datetime, after: tuple[Any, str] | None, batch: int,
                   closed_before: datetime | None, quiet_days: int,
                   config: Any = None) -> tuple[int, int, tuple[Any, str] | None]:
    """Archive one batch; returns (selected, archived, cursor for the next batch)."""
    with transaction(factory) as db:
        if status is Status.AWAITING_DATA:
            order = (Case.due_on, Case.id)
            q = select(Case.id, Case.version, Case.due_on).where(
                Case.status == status.value, Case.due_on < today)
        else:
            order = (Case.closed_at, Case.id)
            q = select(Case.id, Case.version, Case.closed_at).where(
                Case.status == status.value, Case.closed_at < closed_before)
        if after is not None:
            q = q.where(or_(order[0] > after[0], and_(order[0] == after[0], Case.id > after[1])))
        rows = db.execute(q.order_by(*order).limit(batch)).all()
        if not rows:
            return 0, 0, None
        won: list[str] = []
        for case_id, version, anchor in rows:
            # For closed cases the anchor is closed_at (a datetime; NULL excluded by the WHERE).
            due = anchor if status is Status.AWAITING_DATA else quiet_period_ends(
                local_date(type_cast(datetime, anchor), config),
                DeadlineConfig(quiet_period_days=quiet_days))
            plan = plan_transition(status, action, Party.SYSTEM, {"due_on": due, "today": today})
            values: dict[str, Any] = dict(status=plan.to_status.value, version=version + 1,
                                          archived_at=now, updated_at=now, due_on=None,
                                          is_late=False, needs_attention=False,
                                          step_started_on=today)
            # Session.execute is typed as Result; a bulk UPDATE returns a CursorResult (rowcount).
            result = type_cast(CursorResult[Any], db.execute(
                update(Case).where(Case.id == case_id, Case.version == version,
                                   Case.status == status.value)
                .values(**values).execution_options(synchronize_session=False)))
            if result.rowcount == 1:
                won.append(case_id)
        # Row locks are all held now; events, thread notices and audit entries follow.
        notices = {f.case_id: f.blob for f in db.scalars(
            select(CaseField).where(CaseField.case_id.in_(won), CaseField.name == FIELD_SWEEP_NOTICE))}
        for case_id in won:
            db.add(Event(case_id=case_id, officer_id=None, actor="system", at=now,
                         action=action.value, from_status=status.value,
                         to_status=Status.ARCHIVED.value))
            blob = notices.get(case_id)
            if blob is not None and len(blob) > 32:
                db.add(Message(id=blob[:32].decode("ascii"), case_id=case_id, author="system",
                               officer_id=None, internal=False, created_at=now, blob=blob[32:]))
        if won:
            db.execute(delete(CaseField).where(CaseField.case_id.in_(won),
                                               CaseField.name == FIELD_SWEEP_NOTICE))
            db.flush()
            for case_id in won:
                audit.append(db, "system", f"case.{action.value}", f"case:{case_id}")
        last = rows[-1]
        return len(rows), len(won), (last[2], last[0])


def archive_expired(factory: sessionmaker[Session], *, status: Status, today: date, now: datetime,
                    batch: int = BATCH, quiet_days: int = DEFAULT_CONFIG.quiet_period_days,
                    config: Any = None) -> int:
    """Walk the expired cases of ``status`` once in (deadline, id) order, batch by batch."""
    action = Action.AUTO_ARCHIVE if status is Status.AWAITING_DATA else Action.ARCHIVE
    # A closed case is archived once its quiet period (calendar days) is over: closed_at
    # strictly before the start of the day that is quiet_days before today.
    closed_before = None
    if status is Status.CLOSED:
        closed_before = datetime.combine(today - timedelta(days=quiet_days), datetime.min.time(),
                                         tzinfo=local_tz(config))
    total, after = 0, None
    while True:
        selected, won, after = _retry(_archive_batch, factory, status=status, action=action,
                                      today=today, now=now, after=after, batch=batch,
                                      closed_before=closed_before, quiet_days=quiet_days,
                                      config=config)
        total += won
        if selected < batch:
            return total


# -- late flags -----------------------------------------------------------------------------

def refresh_late_flags(factory: sessionmaker[Session], today: date) -> tuple[int, int]:
    """Set is_late where the deadline is over, clear it where it is not (set-based)."""
    def run() -> tuple[int, int]:
        with transaction(factory) as db:
            marked = type_cast(CursorResult[Any], db.execute(
                update(Case).where(Case.is_late.is_(False), Case.due_on < today,
                                   Case.status != Status.ARCHIVED.value)
                .values(is_late=True).execution_options(synchronize_session=False))).rowcount
            cleared = type_cast(CursorResult[Any], db.execute(
                update(Case).where(Case.is_late.is_(True),
                                   or_(Case.due_on.is_(None), Case.due_on >= today))
                .values(is_late=False).execution_options(synchronize_session=False))).rowcount
            return int(marked or 0), int(cleared or 0)
    marked, cleared = _retry(run)
    if marked + cleared >= ANALYZE_AFTER:
        _refresh_statistics(factory)
    return marked, cleared


# After the sweep flips many is_late flags, PostgreSQL's statistics still say "almost none
# are late" until autovacuum catches up, and the late-only inbox then sorts every late case
# (~120 ms at 100k) instead of walking ix_cases_late_due_id (<1 ms). ANALYZE samples the table
# (tens of ms), so refresh the statistics ourselves when a sweep changed a lot.
ANALYZE_AFTER = 1000


def _refresh_statistics(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("ANALYZE cases"))


# -- notifications --------------------------------------------------------------------------

def _insert(db: Session) -> Callable[[type[CaseNotice]], postgresql.Insert | sqlite.Insert]:
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


def _claim(db: Session, pairs: list[tuple[str, str]], now: datetime) -> list[str]:
    """Insert notice rows; returns the case ids this sweep won (the others were claimed before)."""
    if not pairs:
        return []
    stmt = (_insert(db)(CaseNotice).values([{"case_id": c, "kind": k, "sent_at": now} for c, k in pairs])
            .on_conflict_do_nothing().returning(CaseNotice.case_id))
    return list(db.scalars(stmt))


def _recipients(db: Session, case_ids: Iterable[str], *, handling_team_first: bool) -> dict[str, set[str]]:
    """e-mail -> case ids, for the active officers of the teams holding each case."""
    ids = list(case_ids)
    if not ids:
        return {}
    teams_of: dict[str, set[int]] = defaultdict(set)
    if handling_team_first:
        for case_id, team_id in db.execute(select(Case.id, Case.team_id).where(Case.id.in_(ids))):
            if team_id is not None:
                teams_of[case_id].add(team_id)
    missing = [i for i in ids if i not in teams_of]
    if missing:
        for case_id, team_id in db.execute(
                select(CaseKeyWrap.case_id, CaseKeyWrap.team_id)
                .where(CaseKeyWrap.case_id.in_(missing), CaseKeyWrap.team_id.is_not(None))):
            if team_id is not None:  # always (WHERE team_id IS NOT NULL); narrows the type
                teams_of[case_id].add(team_id)
    all_teams = {t for ts in teams_of.values() for t in ts}
    members: dict[int, set[str]] = defaultdict(set)
    for team_id, email in db.execute(
            select(TeamMember.team_id, Officer.email).join(Officer, Officer.id == TeamMember.officer_id)
            .where(TeamMember.team_id.in_(all_teams), TeamMember.wrapped_key.is_not(None),
                   Officer.active.is_(True), Officer.email.is_not(None))):
        if email is not None:  # always (WHERE email IS NOT NULL); narrows the type
            members[team_id].add(email)
    out: dict[str, set[str]] = defaultdict(set)
    for case_id, teams in teams_of.items():
        for team_id in teams:
            for email in members.get(team_id, ()):
                out[email].add(case_id)
    return out


def _notice_batch(factory: sessionmaker[Session], *, kind: str, after: str, batch: int,
                  now: datetime) -> tuple[int, str, list[str], dict[str, int]]:
    """Claim one batch of ``kind`` notices after case id ``after``.

    Returns (selected, cursor, won, cases won per recipient e-mail). The per-recipient counts
    are returned rather than added to the report here: a batch that is retried after a
    conflict at commit must not count its cases twice.
    """
    with transaction(factory) as db:
        if kind == "new":
            q = select(Case.id, Case.due_on).where(
                Case.status == Status.RECEIVED.value, Case.id > after,
                ~exists().where(CaseNotice.case_id == Case.id, CaseNotice.kind == "new"))
        else:
            # 'late:<due date>' built in SQL so a quiet run skips claimed cases
            # in the query; the Python check below stays as the exact guard.
            kind_sql = literal("late:", String) + cast(Case.due_on, String)
            q = select(Case.id, Case.due_on).where(
                Case.is_late.is_(True), Case.id > after,
                ~exists().where(CaseNotice.case_id == Case.id, CaseNotice.kind == kind_sql))
        rows = db.execute(q.order_by(Case.id).limit(batch)).all()
        if not rows:
            return 0, after, [], {}
        if kind == "new":
            pairs = [(cid, "new") for cid, _ in rows]
        else:
            pairs = [(cid, f"late:{due.isoformat()}") for cid, due in rows if due is not None]
            have = set(db.execute(select(CaseNotice.case_id, CaseNotice.kind).where(
                CaseNotice.case_id.in_([p[0] for p in pairs]))).all())
            pairs = [p for p in pairs if p not in have]
        won = _claim(db, pairs, now)
        per_email = {email: len(cases_) for email, cases_
                     in _recipients(db, won, handling_team_first=kind == "late").items()}
        return len(rows), rows[-1][0], won, per_email


def claim_notices(factory: sessionmaker[Session], *, now: datetime, batch: int = BATCH,
                  report: SweepReport) -> None:
    """Claim 'new' notices for received cases and 'late:<due>' ones for late cases."""
    counts: dict[str, notify.Counts] = report.recipients
    for kind in ("new", "late"):
        after = ""
        while True:
            selected, after, won, per_email = _retry(_notice_batch, factory, kind=kind,
                                                     after=after, batch=batch, now=now)
            for email, n in per_email.items():  # only once the batch has committed
                c = counts.setdefault(email, notify.Counts())
                if kind == "new":
                    c.new += n
                else:
                    c.late += n
            if kind == "new":
                report.new_notices += len(won)
            else:
                report.late_notices += len(won)
            if selected < batch:
                break


# -- the whole sweep ------------------------------------------------------------------------

def run(factory: sessionmaker[Session], *, config: Any = None, now: datetime | None = None,
        batch: int = BATCH, send_mail: bool = True) -> SweepReport:
    """One full sweep. Mails go out after every claim is committed (never inside a transaction)."""
    now = now or utcnow()
    today = local_date(now, config)
    report = SweepReport()
    report.archived = archive_expired(factory, status=Status.AWAITING_DATA, today=today, now=now,
                                      batch=batch, config=config)
    report.archived_closed = archive_expired(factory, status=Status.CLOSED, today=today, now=now,
                                             batch=batch, config=config)
    report.marked_late, report.cleared_late = refresh_late_flags(factory, today)
    claim_notices(factory, now=now, batch=batch, report=report)
    if send_mail and report.recipients:
        report.mails = notify.send(config, report.recipients)
    log.info("sweep: %s", report.summary())  # counts only: no ids, no content
    return report
