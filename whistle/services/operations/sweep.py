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

The sweep holds no key. The reporter's "no data arrived" notice was sealed by the officer who
asked for the data (`cases._prepare_expiry_notice`); the sweep only moves that blob into the
thread. Which field holds it says what the office's policy decided at that moment: archived
(SP4N-LAPOR!) or not followable with the reason shown (SIPUMA). All case-row locks of a batch
are taken before its audit entries, whose PostgreSQL advisory lock must never be held while
waiting for a row (deadlock order).

Days are each office's own: deadlines, archiving and late flags are judged per time zone of
the units (WIB, WITA, WIT), so a WITA office's day ends an hour before Jakarta's.
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
from ...domain.workflow import SPECS, Action, plan_transition
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
from ..cases.calendar import local_date, local_tz, units_by_zone
from ..cases.transitions import EXPIRY_FIELDS, FIELD_SWEEP_NOTICE_NF
from ..custody import audit, releases
from . import audit_mail, notify

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
    not_followable: int = 0  # awaiting_data past its deadline under the SIPUMA policy
    marked_late: int = 0
    cleared_late: int = 0
    new_notices: int = 0
    late_notices: int = 0
    mails: int = 0
    identity_expired: int = 0  # identity requests past their life (keys destroyed)
    head_mails: int = 0  # the daily signed audit head, to the auditors (audit_mail.py)
    recipients: dict[str, notify.Counts] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        return (f"archived {self.archived} unanswered, {self.archived_closed} closed; "
                f"not followable {self.not_followable} unanswered; "
                f"late +{self.marked_late} -{self.cleared_late}; notices new {self.new_notices} "
                f"late {self.late_notices}; mails {self.mails}; "
                f"identity requests expired {self.identity_expired}; "
                f"audit head mails {self.head_mails}")


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
                   config: Any = None, unit_ids: list[int] | None = None,
                   zone: str | None = None) -> tuple[int, dict[Action, int], tuple[Any, str] | None]:
    """Act on one batch; returns (selected, cases acted on per action, cursor for the next)."""
    with transaction(factory) as db:
        if status is Status.AWAITING_DATA:
            order = (Case.due_on, Case.id)
            # The notice sealed for SIPUMA's expiry marks the case for "not followable".
            nf = exists().where(CaseField.case_id == Case.id, CaseField.name == FIELD_SWEEP_NOTICE_NF)
            q = select(Case.id, Case.version, Case.due_on, nf).where(
                Case.status == status.value, Case.due_on < today)
        else:
            order = (Case.closed_at, Case.id)
            q = select(Case.id, Case.version, Case.closed_at, literal(False)).where(
                Case.status == status.value, Case.closed_at < closed_before)
        if unit_ids is not None:
            q = q.where(Case.unit_id.in_(unit_ids))
        if after is not None:
            q = q.where(or_(order[0] > after[0], and_(order[0] == after[0], Case.id > after[1])))
        rows = db.execute(q.order_by(*order).limit(batch)).all()
        if not rows:
            return 0, {}, None
        won: dict[str, Action] = {}
        for case_id, version, anchor, not_followable in rows:
            # For closed cases the anchor is closed_at (a datetime; NULL excluded by the WHERE).
            due = anchor if status is Status.AWAITING_DATA else quiet_period_ends(
                local_date(type_cast(datetime, anchor), config, zone=zone),
                DeadlineConfig(quiet_period_days=quiet_days))
            act = Action.AUTO_NOT_FOLLOWABLE if not_followable else action
            plan = plan_transition(status, act, Party.SYSTEM, {"due_on": due, "today": today})
            archived = plan.to_status is Status.ARCHIVED
            values: dict[str, Any] = dict(status=plan.to_status.value, version=version + 1,
                                          archived_at=now if archived else None, updated_at=now,
                                          due_on=None, is_late=False,
                                          # a not-followable case waits for an officer to close it
                                          needs_attention=not archived, step_started_on=today)
            # Session.execute is typed as Result; a bulk UPDATE returns a CursorResult (rowcount).
            result = type_cast(CursorResult[Any], db.execute(
                update(Case).where(Case.id == case_id, Case.version == version,
                                   Case.status == status.value)
                .values(**values).execution_options(synchronize_session=False)))
            if result.rowcount == 1:
                won[case_id] = act
        # Row locks are all held now; events, thread notices and audit entries follow.
        notices = {f.case_id: f.blob for f in db.scalars(
            select(CaseField).where(CaseField.case_id.in_(list(won)),
                                    CaseField.name.in_(list(EXPIRY_FIELDS))))}
        for case_id, act in won.items():
            db.add(Event(case_id=case_id, officer_id=None, actor="system", at=now,
                         action=act.value, from_status=status.value,
                         to_status=SPECS[act].to_status))
            blob = notices.get(case_id)
            if blob is not None and len(blob) > 32:
                db.add(Message(id=blob[:32].decode("ascii"), case_id=case_id, author="system",
                               officer_id=None, internal=False, created_at=now, blob=blob[32:]))
        if won:
            db.execute(delete(CaseField).where(CaseField.case_id.in_(list(won)),
                                               CaseField.name.in_(list(EXPIRY_FIELDS))))
            db.flush()
            for case_id, act in won.items():
                audit.append(db, "system", f"case.{act.value}", f"case:{case_id}")
        last = rows[-1]
        counts: dict[Action, int] = defaultdict(int)
        for act in won.values():
            counts[act] += 1
        return len(rows), dict(counts), (last[2], last[0])


def archive_expired(factory: sessionmaker[Session], *, status: Status, today: date, now: datetime,
                    batch: int = BATCH, quiet_days: int = DEFAULT_CONFIG.quiet_period_days,
                    config: Any = None, unit_ids: list[int] | None = None, zone: str | None = None,
                    acted: dict[Action, int] | None = None) -> int:
    """Walk the expired cases of ``status`` once in (deadline, id) order, batch by batch.

    ``unit_ids``/``zone``: only the cases of these units, whose day is ``today`` in ``zone``.
    Returns how many cases were acted on; ``acted`` (if given) receives the count per action.
    """
    action = Action.AUTO_ARCHIVE if status is Status.AWAITING_DATA else Action.ARCHIVE
    # A closed case is archived once its quiet period (calendar days) is over: closed_at
    # strictly before the start of the day that is quiet_days before today.
    closed_before = None
    if status is Status.CLOSED:
        closed_before = datetime.combine(today - timedelta(days=quiet_days), datetime.min.time(),
                                         tzinfo=local_tz(config, zone=zone))
    total, after = 0, None
    while True:
        selected, won, after = _retry(_archive_batch, factory, status=status, action=action,
                                      today=today, now=now, after=after, batch=batch,
                                      closed_before=closed_before, quiet_days=quiet_days,
                                      config=config, unit_ids=unit_ids, zone=zone)
        for act, n in won.items():
            total += n
            if acted is not None:
                acted[act] = acted.get(act, 0) + n
        if selected < batch:
            return total


# -- late flags -----------------------------------------------------------------------------

def refresh_late_flags(factory: sessionmaker[Session], today: date,
                       unit_ids: list[int] | None = None) -> tuple[int, int]:
    """Set is_late where the deadline is over, clear it where it is not (set-based).

    ``unit_ids``: only the cases of these units (those whose local day is ``today``)."""
    in_units = (Case.unit_id.in_(unit_ids),) if unit_ids is not None else ()

    def run() -> tuple[int, int]:
        with transaction(factory) as db:
            marked = type_cast(CursorResult[Any], db.execute(
                update(Case).where(Case.is_late.is_(False), Case.due_on < today,
                                   Case.status != Status.ARCHIVED.value, *in_units)
                .values(is_late=True).execution_options(synchronize_session=False))).rowcount
            cleared = type_cast(CursorResult[Any], db.execute(
                update(Case).where(Case.is_late.is_(True),
                                   or_(Case.due_on.is_(None), Case.due_on >= today), *in_units)
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
    report = SweepReport()
    with transaction(factory) as db:
        zones = units_by_zone(db)
    acted: dict[Action, int] = {}
    for zone, unit_ids in zones.items():  # each office's own day (WIB, WITA, WIT)
        today = local_date(now, config, zone=zone)
        archive_expired(factory, status=Status.AWAITING_DATA, today=today, now=now, batch=batch,
                        config=config, unit_ids=unit_ids, zone=zone, acted=acted)
        report.archived_closed += archive_expired(factory, status=Status.CLOSED, today=today,
                                                  now=now, batch=batch, config=config,
                                                  unit_ids=unit_ids, zone=zone)
        marked, cleared = refresh_late_flags(factory, today, unit_ids)
        report.marked_late += marked
        report.cleared_late += cleared
    report.archived = acted.get(Action.AUTO_ARCHIVE, 0)
    report.not_followable = acted.get(Action.AUTO_NOT_FOLLOWABLE, 0)
    claim_notices(factory, now=now, batch=batch, report=report)
    report.identity_expired = _retry(releases.expire_requests, factory, now=now, config=config)
    if send_mail and report.recipients:
        report.mails = notify.send(config, report.recipients)
    if send_mail:
        report.head_mails = audit_mail.mail_daily_head(factory, config, now)
    log.info("sweep: %s", report.summary())  # counts only: no ids, no content
    return report
