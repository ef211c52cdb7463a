"""The daily signed head of the audit log, mailed to the auditors.

A head kept outside the server is what catches entries deleted from the end of the log, or a
log rewritten by someone who also holds the chain key (services/custody/audit_head.py). The
sweep runs every few minutes; the head goes out once per local day: the mail is recorded as an
``audit.head_mail`` entry (object ``day:<date>``), and a sweep that finds today's entry sends
nothing. The head is verified before it is sent and the mail says whether the chain held.

Delivery is at least once: the entry is written after the mail server accepted the mail, so a
mail server outage means a retry at the next sweep, and two sweeps racing on the same minute
may both send (the auditor then holds two heads of the same day; both are valid).

The mail holds counts, ids and hashes only: no case content, no officer names.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ...db import Conflict, transaction
from ...domain.constants import Role
from ...models import AuditEntry, Officer, utcnow
from ..cases.calendar import local_date
from ..custody import audit, audit_head
from . import notify

log = logging.getLogger("whistle.audit_mail")

HEAD_MAIL_ACTION = "audit.head_mail"


def auditor_addresses(db: Session) -> list[str]:
    return sorted({e for e in db.scalars(select(Officer.email).where(
        Officer.role == Role.AUDITOR.value, Officer.active.is_(True), Officer.email.is_not(None)))
        if e})


def last_mailed_day(db: Session) -> str | None:
    """The ``day:<date>`` of the last head mailed. Walks back from the newest entry, so it
    reads about one day of entries (no index on ``action``: appends stay as cheap as they were)."""
    return db.scalar(select(AuditEntry.object).where(AuditEntry.action == HEAD_MAIL_ACTION)
                     .order_by(AuditEntry.id.desc()).limit(1))


def compose(signed: audit_head.SignedHead, report: audit.ChainReport, day: str) -> tuple[str, str]:
    """Subject and body, Indonesian then English."""
    fp = audit_head.fingerprint(signed.public_key)
    if report.ok:
        subject = f"Whistle: kepala log audit {day} / audit log head"
        state_id = f"Rantai log diperiksa: utuh, {report.entries} entri."
        state_en = f"Chain checked: intact, {report.entries} entries."
    else:
        subject = f"Whistle: log audit RUSAK / audit log BROKEN ({day})"
        state_id = (f"Rantai log diperiksa: RUSAK pada entri #{report.first_bad_id} "
                    f"({report.problem}). Segera periksa server.")
        state_en = (f"Chain checked: BROKEN at entry #{report.first_bad_id} ({report.problem}). "
                    "Investigate the server now.")
    body = (
        f"Kepala log audit Whistle per {day}, ditandatangani oleh server.\n{state_id}\n"
        "Simpan pesan ini di luar server. Untuk memeriksa log terhadapnya, simpan blok di "
        "bawah ini ke sebuah berkas lalu jalankan di server:\n"
        "    whistle audit verify --head BERKAS\n"
        f"Sidik jari kunci tanda tangan: {fp}\n\n"
        f"The Whistle audit log head as of {day}, signed by the server.\n{state_en}\n"
        "Keep this message outside the server. To check the log against it, save the block "
        "below to a file and run on the server:\n"
        "    whistle audit verify --head FILE\n"
        f"Signing key fingerprint: {fp}\n\n"
        f"{signed.text()}"
    )
    return subject, body


def mail_daily_head(factory: sessionmaker[Session], config: object,
                    now: datetime | None = None) -> int:
    """Mail today's signed head to every active auditor with an e-mail, once a day.

    Returns how many mails the server accepted (0 with no SMTP host, no auditor, or already
    mailed today).
    """
    if not getattr(config, "smtp_host", ""):
        return 0
    now = now or utcnow()
    day = local_date(now, config).isoformat()
    with transaction(factory) as db:
        to = auditor_addresses(db)
        if not to or last_mailed_day(db) == f"day:{day}":
            return 0
        report = audit.verify(db)
        head = (audit_head.from_report(report, now) if report.ok
                else audit_head.current(db, now))
        signed = audit_head.sign(head, audit.keys_for(db))
    subject, body = compose(signed, report, day)
    sent = notify.deliver(config, [(addr, subject, body) for addr in to])
    if sent:
        try:
            with transaction(factory) as db:
                audit.append(db, "system", HEAD_MAIL_ACTION, f"day:{day}",
                             f"entries={head.entries} last_id={head.last_id} mails={sent}")
        except (Conflict, OperationalError) as exc:  # mailed but not recorded: sent again later
            log.warning("audit head mailed but not recorded (%s)", type(exc).__name__)
    return sent
