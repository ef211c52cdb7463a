"""The referral package: a case handed to another agency in a form it opens without whistle.

An authorised officer (verifikator or PYB, holding the case key) ticks the report fields,
thread messages and evidence files to pass on. The package is a ZIP with

* ``manifest.json``: register number, what is included, who referred it and when, and the
  SHA-256 of every other file in the ZIP;
* ``summary.pdf``: a human-readable summary in Indonesian;
* ``report.json``, ``messages.json``, ``attachments/...``: the ticked content;
* ``identity.json`` only when an escalation released the identity to this officer in this
  session (the caller passes it; nothing here can open an identity).

The ZIP never touches the disk in clear: it is built in memory (bounded by
``MAX_PLAINTEXT``) and encrypted at once to the agency's age recipient or OpenPGP certificate
(``crypto.external``). The case history, the audit log and the reporter's thread record that
the case was referred, with the hash of the encrypted package; the reporter never learns to
whom.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import CryptoError, PrivateKey
from crypto.external import Recipient

from ...domain.constants import Category, Kind, Role, Status, Text, bilingual, label
from ...models import (
    Attachment,
    Case,
    CaseField,
    Event,
    Message,
    Officer,
    Unit,
    new_id,
    utcnow,
)
from ..cases.page import SPECIAL_FIELDS, attachment_meta
from ..custody import audit
from ..custody.casekeys import CaseCipher, open_case
from ..messages import N_, Refusal
from ..reporter.downloads import ascii_name, open_file

if TYPE_CHECKING:
    from ...attachments.storage import AttachmentStore

REFER_ROLES: tuple[str, ...] = (Role.VERIFIKATOR.value, Role.PYB.value)
MAX_PLAINTEXT = 200 * 1024 * 1024  # the package is built in memory: bound it
MAX_AGENCY, MAX_REFERENCE = 200, 120
FORMAT = "whistle-referral"
FORMAT_VERSION = 1

REPORTER_NOTICE = Text(
    "Laporan Anda telah diteruskan kepada instansi lain yang berwenang untuk ditindaklanjuti. "
    "Identitas Anda tidak disertakan kecuali telah dibuka sesuai prosedur.",
    "Your report has been passed on to another competent agency for follow-up. Your identity "
    "is not included unless it was opened under the procedure.",
)


class ReferralError(Refusal):
    """A refused referral; the message is safe to show to the officer."""


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    detail: str = ""
    size: int = 0


@dataclass(frozen=True)
class Options:
    """What the officer may tick: fields, messages and files of the case."""

    case: Case
    fields: list[Item]
    messages: list[Item]
    attachments: list[Item]


@dataclass(frozen=True)
class Selection:
    fields: frozenset[str] = frozenset()
    messages: frozenset[str] = frozenset()
    attachments: frozenset[str] = frozenset()
    agency: str = ""
    reference: str = ""


@dataclass(frozen=True)
class Package:
    filename: str
    data: bytes  # ciphertext only
    sha256: str
    recipient: Recipient
    included: dict[str, Any] = field(default_factory=dict)


def _check_role(officer: Officer) -> None:
    if officer.role not in REFER_ROLES:
        raise ReferralError(N_("Only a verifikator or an authorised official (PYB) refers a case."))


def _fields(db: Session, cipher: CaseCipher) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in db.scalars(select(CaseField).where(CaseField.case_id == cipher.case_id)):
        if row.name in SPECIAL_FIELDS:
            continue
        try:
            out[row.name] = cipher.open_text("field", row.name, row.blob)
        except (CryptoError, UnicodeDecodeError):
            continue
    return out


def _messages(db: Session, cipher: CaseCipher) -> list[tuple[Message, str]]:
    out = []
    rows = db.scalars(select(Message).where(Message.case_id == cipher.case_id, Message.internal.is_(False))
                      .order_by(Message.created_at, Message.id))
    for m in rows:
        try:
            out.append((m, cipher.open_text("message", m.id, m.blob)))
        except (CryptoError, UnicodeDecodeError):
            continue
    return out


def options(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey],
            case_id: str) -> Options:
    """CaseNotFound unless the officer holds the case key; ReferralError for a wrong role."""
    _check_role(officer)
    case, cipher = open_case(db, case_id, team_keys)
    fields = [Item(n, n, v[:160]) for n, v in sorted(_fields(db, cipher).items())]
    msgs = [Item(m.id, m.created_at.strftime("%Y-%m-%d %H:%M"), f"{m.author}: {body[:160]}")
            for m, body in _messages(db, cipher)]
    atts = []
    for a in db.scalars(select(Attachment).where(Attachment.case_id == case.id)
                        .order_by(Attachment.created_at, Attachment.id)):
        meta = attachment_meta(cipher, a)
        atts.append(Item(a.id, str(meta.get("name") or a.id[:8]), str(meta.get("type") or ""),
                         int(meta.get("plain_size") or a.size)))
    return Options(case, fields, msgs, atts)


def _clean_text(value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise ReferralError(N_("The agency name and reference are limited to %(n)d and %(m)d characters."),
                            n=MAX_AGENCY, m=MAX_REFERENCE)
    return value


def build(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey], case_id: str,
          selection: Selection, recipient: Recipient, store: AttachmentStore,
          summary_pdf: Callable[[dict[str, Any]], bytes],
          identity: Mapping[str, Any] | None = None, now: datetime | None = None) -> Package:
    """Build, encrypt and record the package in the caller's transaction.

    ``summary_pdf`` renders the summary (a dict, see ``summary``) to PDF bytes: the page layer
    owns templates. ``identity`` is the disclosure released to this officer in this session,
    or None; it goes in only when given.
    """
    _check_role(officer)
    case, cipher = open_case(db, case_id, team_keys)
    agency = _clean_text(selection.agency, MAX_AGENCY)
    reference = _clean_text(selection.reference, MAX_REFERENCE)
    if not agency:
        raise ReferralError(N_("Name the agency the case goes to."))
    all_fields = _fields(db, cipher)
    unknown = selection.fields - set(all_fields)
    msgs = [(m, body) for m, body in _messages(db, cipher) if m.id in selection.messages]
    atts = [a for a in db.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                  .order_by(Attachment.created_at, Attachment.id))
            if a.id in selection.attachments]
    if unknown or len(msgs) != len(selection.messages) or len(atts) != len(selection.attachments):
        raise ReferralError(N_("Something you ticked is not part of this case. Reload the page."))
    if not (selection.fields or msgs or atts or identity):
        raise ReferralError(N_("Tick at least one field, message or file to pass on."))
    if sum(a.size for a in atts) > MAX_PLAINTEXT:
        raise ReferralError(N_("The chosen files are too large for one package (at most %(mb)d MB)."),
                            mb=MAX_PLAINTEXT // (1024 * 1024))
    now = now or utcnow()
    unit = db.get(Unit, case.unit_id)
    files: dict[str, bytes] = {}
    files["report.json"] = _json({n: all_fields[n] for n in sorted(selection.fields)})
    files["messages.json"] = _json([{"at": m.created_at.astimezone(UTC).isoformat(),
                                     "from": m.author, "text": body} for m, body in msgs])
    names: list[str] = []
    for i, att in enumerate(atts, start=1):
        opened = open_file(cipher, att, store)
        if opened is None:
            raise ReferralError(N_("An evidence file could not be read; leave it out or ask the admin."))
        name = f"attachments/{i:02d}_{opened.safe_name}"
        files[name] = b"".join(opened.chunks)
        names.append(name)
    if identity is not None:
        files["identity.json"] = _json(dict(identity))
    info = summary(case, unit, officer, agency, reference, now,
                   {n: all_fields[n] for n in sorted(selection.fields)}, len(msgs), names,
                   identity is not None)
    files["summary.pdf"] = summary_pdf(info)
    included: dict[str, Any] = {"fields": sorted(selection.fields), "messages": len(msgs),
                                "attachments": names, "identity": identity is not None}
    manifest: dict[str, Any] = {
        "format": FORMAT, "version": FORMAT_VERSION, "register_no": case.register_no,
        "created_at": now.astimezone(UTC).isoformat(), "agency": agency, "reference": reference,
        "referred_by": {"name": officer.display_name, "role": officer.role,
                        "unit": unit.name if unit else ""},
        "included": included,
        "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())},
    }
    plain = _zip({"manifest.json": _json(manifest), **files})
    data = recipient.encrypt(plain)
    del plain, files
    digest = hashlib.sha256(data).hexdigest()
    _record(db, case, cipher, officer, recipient, agency, reference, digest, manifest, now)
    filename = f"rujukan-{case.register_no.replace('/', '-')}{recipient.suffix}"
    return Package(ascii_name(filename), data, digest, recipient, included)


def summary(case: Case, unit: Unit | None, officer: Officer, agency: str, reference: str,
            now: datetime, fields: Mapping[str, str], n_messages: int, files: Sequence[str],
            has_identity: bool) -> dict[str, Any]:
    return {
        "register_no": case.register_no, "received_at": case.received_at, "now": now,
        "kind": _label(Kind, case.kind), "category": _label(Category, case.category),
        "status": _label(Status, case.status), "unit": unit.name if unit else "",
        "agency": agency, "reference": reference, "officer": officer.display_name,
        "officer_role": officer.role, "fields": list(fields.items()), "n_messages": n_messages,
        "files": list(files), "identity": has_identity,
    }


def _label(enum: type[Any], code: str) -> str:
    try:
        return label(enum(code), "id")
    except (ValueError, KeyError):
        return code


def _record(db: Session, case: Case, cipher: CaseCipher, officer: Officer, recipient: Recipient,
            agency: str, reference: str, digest: str, manifest: Mapping[str, Any],
            now: datetime) -> None:
    event_id = new_id()
    reason = {"agency": agency, "reference": reference, "package_sha256": digest,
              "recipient": f"{recipient.kind} {recipient.fingerprint}"}
    db.add(Event(id=event_id, case_id=case.id, officer_id=officer.id, actor="officer", at=now,
                 action="referral_package", from_status=case.status, to_status=case.status,
                 reason_blob=cipher.seal_json("event", event_id, reason)))
    msg_id = new_id()
    db.add(Message(id=msg_id, case_id=case.id, author="system", officer_id=None, internal=False,
                   created_at=now, blob=cipher.seal_text("message", msg_id, bilingual(REPORTER_NOTICE))))
    inc = manifest["included"]
    # The audit log names the case and the package hash, never the agency's words or content.
    audit.append(db, f"officer:{officer.id}", "case.referral_package", f"case:{case.id}",
                 f"sha256={digest} recipient={recipient.kind}:{recipient.fingerprint.replace(' ', '')} "
                 f"fields={len(inc['fields'])} messages={inc['messages']} "
                 f"attachments={len(inc['attachments'])} identity={'yes' if inc['identity'] else 'no'}")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _zip(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # no server clock leak
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()
