"""A case's shareable fields in the shape of an SP4N-LAPOR! complaint, for the national admin.

The SP4N-LAPOR! SOP asks the body's admin to enter complaints into SP4N-LAPOR!. Their API is
not open to us, so this is the structured record an officer enters or uploads there by hand,
and the seam an integration would sit on (docs/REFERRAL.md has the mapping). It carries the
report as the reporter wrote it, never the identity, witnesses or internal notes, and always
marks the complaint anonymous/confidential as the reporter chose. The reported person's name
is left out too: the officer types it into LAPOR! only where their procedure needs it.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import CryptoError, PrivateKey

from ...domain.constants import Category, Kind, label
from ...models import Attachment, CaseField, Officer, Unit
from ..custody import audit
from ..custody.casekeys import open_case
from ..messages import N_
from .referral import REFER_ROLES, ReferralError

# SP4N-LAPOR! "klasifikasi laporan": pengaduan / aspirasi / permintaan informasi.
LAPOR_CLASS = {Kind.COMPLAINT.value: "Pengaduan", Kind.WHISTLEBLOWING.value: "Pengaduan",
               Kind.ASPIRATION.value: "Aspirasi",
               Kind.INFORMATION_REQUEST.value: "Permintaan Informasi"}
# The order of the columns is the order of the LAPOR! form.
COLUMNS = ("klasifikasi", "judul_laporan", "isi_laporan", "tanggal_kejadian", "lokasi_kejadian",
           "instansi_tujuan", "kategori", "rahasia", "anonim", "jumlah_lampiran", "nomor_referensi")


def _field(db: Session, cipher: Any, name: str) -> str:
    row = db.get(CaseField, (cipher.case_id, name))
    if row is None:
        return ""
    try:
        return str(cipher.open_text("field", name, row.blob))
    except (CryptoError, UnicodeDecodeError):
        return ""


def record(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey],
           case_id: str) -> dict[str, str]:
    """The LAPOR! record of a case the officer can open (CaseNotFound otherwise). Audited."""
    if officer.role not in REFER_ROLES:
        raise ReferralError(N_("Only a verifikator or an authorised official (PYB) refers a case."))
    case, cipher = open_case(db, case_id, team_keys)
    # The reported person's NAME stays out (their confidentiality, issue 9); the position is what
    # LAPOR! routes by.
    position = _field(db, cipher, "who_position")
    what, how = _field(db, cipher, "what"), _field(db, cipher, "how")
    title_who = f"{position}".strip() or "aparatur"
    try:
        category = label(Category(case.category), "id")
    except (ValueError, KeyError):
        category = case.category
    body = "\n\n".join(p for p in (
        what, f"Cara kejadian: {how}" if how else "",
        f"Jabatan pihak yang dilaporkan: {position}" if position else "") if p)
    unit = db.get(Unit, case.unit_id)
    files = len(list(db.scalars(select(Attachment.id).where(Attachment.case_id == case.id))))
    out = {
        "klasifikasi": LAPOR_CLASS.get(case.kind, "Pengaduan"),
        "judul_laporan": f"{category}: {title_who}"[:150],
        "isi_laporan": body,
        "tanggal_kejadian": _field(db, cipher, "when"),
        "lokasi_kejadian": _field(db, cipher, "where"),
        "instansi_tujuan": unit.name if unit else "",
        "kategori": category,
        "rahasia": "ya" if case.anonymity == "confidential" else "tidak",
        "anonim": "ya" if case.anonymity == "anonymous" else "tidak",
        "jumlah_lampiran": str(files),
        "nomor_referensi": case.register_no,
    }
    audit.append(db, f"officer:{officer.id}", "case.lapor_export", f"case:{case.id}")
    return out


def as_json(rec: Mapping[str, str]) -> bytes:
    return json.dumps({k: rec[k] for k in COLUMNS}, ensure_ascii=False, indent=2).encode("utf-8")


def as_csv(rec: Mapping[str, str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    # A leading = + - @ would run as a formula in a spreadsheet: prefix it (CSV injection).
    writer.writerow(["'" + rec[k] if rec[k][:1] in "=+-@" else rec[k] for k in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")
