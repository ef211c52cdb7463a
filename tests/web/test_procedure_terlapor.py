"""The reported person (terlapor, Banten SOP B): their name, typed by the reporter and repeated by
the handlers in every free-text place a case offers, is a canary. It must appear in no officer
notification (real SMTP), no statistic or export (dashboard, CSV, XLSX, metadata export), no audit
entry, and in no plaintext column of any table: everywhere it is stored, it is ciphertext."""
from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import LargeBinary, MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import World, at_local, build_world
from tests.web.test_notify import Inbox, cfg, smtp  # noqa: F401  (the real-SMTP fixture)
from whistle.db import transaction
from whistle.domain.constants import Category, Kind
from whistle.models import AuditEntry, CaseStatement, Officer
from whistle.services.cases import page as casepage
from whistle.services.custody import audit
from whistle.services.operations import sweep
from whistle.services.records import dashboard, exports

NAME = "Bambang Canaryterlapor"
POSITION = "Kepala Seksi Canaryjabatan"


def forms(marker: str) -> list[bytes]:
    raw = marker.encode()
    out = {raw, raw.lower(), raw.upper(), marker.encode("utf-16-le"), raw.hex().encode()}
    for pad in range(3):
        enc = base64.b64encode(b"\x00" * pad + raw)[4 if pad else 0:][:-4]
        if len(enc) >= 12:
            out.add(enc)
    return sorted(out)


def leaks(data: bytes) -> list[str]:
    found = []
    for marker in (NAME, "Canaryterlapor", "Canaryjabatan"):
        found += [f"{marker} as {f[:16]!r}" for f in forms(marker) if f in data]
    return found


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


@pytest.fixture
def handled_case(world: World) -> Iterator[str]:
    """A case whose reported person is named in every text a handler may write."""
    day = date(2026, 2, 2)
    case_id, _ = world.file(category=Category.ETHICS_CODE, kind=Kind.WHISTLEBLOWING,
                            received=at_local(day, 8), what=f"{NAME} meminta uang pelicin.")
    with transaction(world.factory) as db:  # the reporter's own words: who and position
        from whistle.models import CaseField
        cipher = world.cipher(case_id)
        db.get(CaseField, (case_id, "who")).blob = cipher.seal_text("field", "who", NAME)
        db.get(CaseField, (case_id, "who_position")).blob = cipher.seal_text("field", "who_position", POSITION)
    world.act("ver", case_id, "start_verification", now=at_local(day, 9))
    world.act("ver", case_id, "record_telaah", classification="violation", subject=f"{NAME}, {POSITION}",
              object="Pungutan liar", confidential_handling="1", note=f"terlapor {NAME}", now=at_local(day, 10))
    world.act("ver", case_id, "reclassify", kind="complaint", category="abuse_of_authority",
              grounds=f"{NAME} memakai jabatannya", now=at_local(day, 11))
    world.act("ver", case_id, "copy_external", agency="Ombudsman RI", copy_ref=f"ORI/{NAME}",
              now=at_local(day, 12))
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]), note=NAME,
              now=at_local(day, 13))
    world.act("pk_kw", case_id, "escalate_to_pyb", grounds=f"{NAME}: pelanggaran disiplin",
              now=at_local(date(2026, 2, 3)))
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="14", unit_id=str(world.units["PUSAT"]),
              now=at_local(date(2026, 2, 4)))
    world.act("pk", case_id, "record_statement", statement=f"{NAME} ({POSITION}) membantah semuanya.",
              now=at_local(date(2026, 2, 5)))
    world.act("pk", case_id, "conclude_substantiated", sanction=f"Teguran tertulis kepada {NAME}",
              now=at_local(date(2026, 2, 20)))
    world.act("pyb", case_id, "close", message="Terima kasih.", now=at_local(date(2026, 2, 23)))
    with transaction(world.factory) as db:  # the handlers themselves can read it all back
        view = casepage.load(db, officer=db.get(Officer, world.officer_id("pyb")),
                             team_keys=world.keys("pyb"), case_id=case_id)
        assert NAME in view.statements[0].text and NAME in view.telaah.subject
        assert any(v == NAME for n, v in view.fields if n == "who")
        assert db.scalars(select(CaseStatement)).one()
    yield case_id


def test_no_notification_names_the_reported_person(world: World, handled_case: str,
                                                   smtp: tuple[Inbox, int]) -> None:  # noqa: F811
    inbox, port = smtp
    # A second case, new and then late, so that both kinds of mail go out.
    other, _ = world.file(received=at_local(date(2026, 3, 2), 8), what=f"Lagi-lagi {NAME} berulah.")
    sweep.run(world.factory, config=cfg(port), now=at_local(date(2026, 3, 2), 20))
    sweep.run(world.factory, config=cfg(port), now=at_local(date(2026, 3, 10), 20))
    assert len(inbox.mails) >= 2
    for _, raw in inbox.mails:
        assert not leaks(raw), raw[:400]


def test_no_statistic_or_export_names_the_reported_person(world: World, handled_case: str) -> None:
    with transaction(world.factory) as db:
        d = dashboard.build(db, dashboard.Filters(2026), k=1, today=date(2027, 1, 15))
        rows = exports.sheet(d, {}, "total")
        csv, xlsx = exports.as_csv(rows), exports.as_xlsx(rows)
        meta = exports.metadata_csv(db, 2026, config=None, actor="test")
    assert any(r[1] == "abuse_of_authority" for r in rows)  # the figures are there (final value)
    assert not leaks(repr(d).encode()) and not leaks(csv) and not leaks(meta)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for name in z.namelist():
            assert not leaks(z.read(name)), name


def test_no_audit_entry_names_the_reported_person(world: World, handled_case: str) -> None:
    with transaction(world.factory) as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.object == f"case:{handled_case}")).all()
        assert {e.action for e in entries} >= {
            "case.record_telaah", "case.reclassify", "case.copy_external", "case.escalate_to_pyb",
            "case.record_statement", "case.conclude_substantiated"}
        for e in db.scalars(select(AuditEntry)):
            assert not leaks(f"{e.actor}|{e.action}|{e.object}|{e.detail}".encode()), e.action
        assert audit.verify(db).ok


def test_the_name_is_ciphertext_wherever_it_is_stored(world: World, handled_case: str) -> None:
    """Every column of every row: text columns never hold it, binary ones only as ciphertext."""
    meta = MetaData()
    with transaction(world.factory) as db:
        meta.reflect(db.get_bind())
        for table in meta.sorted_tables:
            for row in db.execute(table.select()).all():
                for column, value in zip(table.columns, row):
                    if value is None:
                        continue
                    data = bytes(value) if isinstance(column.type, LargeBinary) or isinstance(
                        value, (bytes, memoryview)) else str(value).encode()
                    assert not leaks(data), f"{table.name}.{column.name}"


def test_the_handlers_still_read_what_they_recorded(world: World, handled_case: str) -> None:
    """Positive control: the canary really went in (so the scans above could have found it)."""
    cipher = world.cipher(handled_case, "ver")
    with transaction(world.factory) as db:
        row = db.scalars(select(CaseStatement)).one()
        assert NAME in cipher.open_text("statement", row.id, row.blob)
    assert world.field(handled_case, "who") == NAME
    assert leaks(f"detail={NAME}".encode()) and leaks(base64.b64encode(f"x{NAME}".encode()))
    assert leaks(POSITION.upper().encode())
