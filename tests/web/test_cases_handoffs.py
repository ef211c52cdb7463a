"""The hand-offs and records the SOPs require (issue 9), through the real services, checked
against the data: key wraps and ciphertext rows, not only what a page answers."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import CryptoError, PrivateKey
from tests.web.cases_world import PEPPER, World, at_local, build_world
from whistle.db import transaction
from whistle.domain.constants import Category, Kind, Role, Status
from whistle.models import (
    AuditEntry, Case, CaseField, CaseKeyWrap, CaseStatement, Event, Message, Officer, Team)
from whistle.services.cases import inbox
from whistle.services.cases import page as casepage
from whistle.services.cases import transitions as cases
from whistle.services.cases.transitions import ActionRefused, CaseNotFound
from whistle.services.custody.casekeys import CaseCipher, team_context
from whistle.services.operations import sweep
from whistle.services.records import exports
from whistle.services.reporter import followup


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def wrap_roles(world: World, case_id: str) -> dict[str, set[str]]:
    """unit code -> roles of the teams holding a wrap of the case key (the ticket aside)."""
    codes = {v: k for k, v in world.units.items()}
    out: dict[str, set[str]] = {}
    with transaction(world.factory) as db:
        for unit_id, role in db.execute(select(Team.unit_id, Team.role).join(
                CaseKeyWrap, CaseKeyWrap.team_id == Team.id).where(CaseKeyWrap.case_id == case_id)):
            out.setdefault(codes[unit_id], set()).add(role)
    return out


def opens_with(world: World, case_id: str, key: PrivateKey) -> bytes | None:
    """Try ``key`` on every stored wrap of the case, as someone holding only that key would."""
    with transaction(world.factory) as db:
        blobs = [w.blob for w in db.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.case_id == case_id, CaseKeyWrap.team_id.is_not(None)))]
    for blob in blobs:
        try:
            return key.unwrap(blob, context=team_context(case_id))
        except CryptoError:
            continue
    return None


def reporter_bodies(world: World, ticket: str, lang: str = "id") -> str:
    view = followup.case_view(world.factory, followup.login(world.factory, ticket, pepper=PEPPER), lang)
    return "\n".join(m.body for m in view.messages)


def _verified(world: World, **kw: object) -> tuple[str, str]:
    case_id, ticket = world.file(**kw)  # type: ignore[arg-type]
    world.act("ver", case_id, "start_verification")
    return case_id, ticket


# -- the dead end of the unit path --------------------------------------------------------

def test_the_unit_path_now_ends_in_the_archive(world: World) -> None:
    """forward_unit -> unit_investigate -> conclude: the PYB receives the key with the outcome,
    closes the case, and the sweep archives it after the quiet period."""
    case_id, ticket = _verified(world, category=Category.POOR_PUBLIC_SERVICE, kind=Kind.COMPLAINT)
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]))
    world.act("pk_kw", case_id, "unit_investigate", tier="14")
    assert opens_with(world, case_id, world.teams[("PUSAT", "pyb")].private_key) is None
    with pytest.raises(CaseNotFound):  # before the fix this was the end of the road
        world.act("pyb", case_id, "close")
    world.act("pk_kw", case_id, "conclude_unsubstantiated", note="Tidak cukup bukti.")
    assert wrap_roles(world, case_id) == {"PUSAT": {"verifikator", "pyb"}, "KANWIL": {"pengkaji"}}
    assert world.case(case_id).team_id == world.teams[("PUSAT", "pyb")].team.id
    key = opens_with(world, case_id, world.teams[("PUSAT", "pyb")].private_key)
    assert key is not None and key == world.cipher(case_id, "ver").key
    world.act("pyb", case_id, "close", message="Terima kasih.")
    closed = world.case(case_id).closed_at
    assert closed is not None
    report = sweep.run(world.factory, now=closed + timedelta(days=32), send_mail=False)
    assert report.archived_closed == 1 and world.case(case_id).status == Status.ARCHIVED.value
    assert "tidak terbukti" in reporter_bodies(world, ticket)
    with transaction(world.factory) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.object == f"case:{case_id}",
                                                    AuditEntry.action == "case.conclude_unsubstantiated")).one()
        assert entry.actor == f"officer:{world.officer_id('pk_kw')}"  # who handed the key on
        assert f"team:{world.teams[('PUSAT', 'pyb')].team.id}" in (entry.detail or "")


def test_an_outcome_goes_back_to_the_pyb_who_disposed_it_without_a_new_wrap(world: World) -> None:
    case_id, _ = _verified(world)
    world.act("ver", case_id, "forward_pyb")
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="5", unit_id=str(world.units["KANWIL"]))
    with transaction(world.factory) as db:
        before = sorted(w.id for w in db.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)))
    world.act("pk_kw", case_id, "conclude_substantiated", sanction="Teguran tertulis")
    with transaction(world.factory) as db:
        after = sorted(w.id for w in db.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)))
    assert after == before
    world.act("pyb", case_id, "close")


def test_a_regional_case_reaches_the_head_office_pyb(world: World) -> None:
    """KANWIL has no PYB team: the hand-off goes to the first unit that has one."""
    case_id, _ = world.file(unit="KANWIL", category=Category.MALADMINISTRATION)
    world.act("ver_kw", case_id, "start_verification")
    world.act("ver_kw", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]))
    world.act("pk_kw", case_id, "unit_investigate", tier="5")
    world.act("pk_kw", case_id, "conclude_unsubstantiated")
    assert wrap_roles(world, case_id) == {"KANWIL": {"verifikator", "pengkaji"}, "PUSAT": {"pyb"}}
    world.act("pyb", case_id, "close")


# -- PYB -> another agency ------------------------------------------------------------------

def test_the_pyb_refers_to_the_inspectorate(world: World) -> None:
    case_id, ticket = _verified(world)
    world.act("ver", case_id, "forward_pyb")
    world.act("pyb", case_id, "refer_external",
              external_ref="Inspektorat Jenderal Kemenkeu melalui WISE, WISE-2026-0042")
    assert world.case(case_id).status == Status.REFERRED_EXTERNAL.value
    assert world.field(case_id, cases.FIELD_EXTERNAL_REF).endswith("WISE-2026-0042")
    world.act("pyb", case_id, "close")
    assert "WISE-2026-0042" in reporter_bodies(world, ticket)


# -- unit -> back to verification, its key removed ----------------------------------------------

def test_a_unit_returns_a_case_and_loses_its_key(world: World) -> None:
    case_id, ticket = _verified(world, category=Category.POOR_PUBLIC_SERVICE)
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]))
    unit_key = world.teams[("KANWIL", "pengkaji")].private_key
    assert opens_with(world, case_id, unit_key) is not None
    with pytest.raises(ActionRefused) as err:
        world.act("pk_kw", case_id, "return_to_verification")
    assert err.value.field == "grounds"
    world.act("pk_kw", case_id, "return_to_verification",
              grounds="Perkara pajak daerah, bukan kewenangan kantor wilayah RAHASIA-ALASAN")
    case = world.case(case_id)
    assert case.status == Status.VERIFICATION.value
    assert case.team_id == world.teams[("PUSAT", "verifikator")].team.id
    # Against the data: no wrap of the unit's team is left, and its key opens none that is.
    assert wrap_roles(world, case_id) == {"PUSAT": {"verifikator"}}
    assert opens_with(world, case_id, unit_key) is None
    with pytest.raises(CaseNotFound):
        world.act("pk_kw", case_id, "unit_investigate", tier="5")
    with transaction(world.factory) as db:
        assert inbox.list_page(db, [world.teams[("KANWIL", "pengkaji")].team.id], inbox.Filters()).rows == []
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.return_to_verification")).one()
        assert f"revoked:team:{world.teams[('KANWIL', 'pengkaji')].team.id}" in (entry.detail or "")
        ev = db.scalars(select(Event).where(Event.case_id == case_id,
                                            Event.action == "return_to_verification")).one()
        assert ev.reason_blob is not None and b"RAHASIA" not in ev.reason_blob
    # Verification has the key and goes on; the reporter is told, without the grounds.
    bodies = reporter_bodies(world, ticket)
    assert "dikembalikan kepada petugas verifikasi" in bodies and "RAHASIA" not in bodies
    world.act("ver", case_id, "forward_pyb")
    assert world.case(case_id).status == Status.FORWARDED_PYB.value


# -- unit -> PYB --------------------------------------------------------------------------

@pytest.mark.parametrize("from_investigation", [False, True])
def test_a_unit_escalates_an_ethics_matter_to_the_pyb(world: World, from_investigation: bool) -> None:
    case_id, _ = _verified(world, category=Category.POOR_PUBLIC_SERVICE)
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]))
    if from_investigation:
        world.act("pk_kw", case_id, "unit_investigate", tier="14")
    with pytest.raises(CaseNotFound):
        world.act("pyb", case_id, "dispose_to_pengkaji", tier="5", unit_id=str(world.units["PUSAT"]))
    world.act("pk_kw", case_id, "escalate_to_pyb", grounds="Petugas meminta imbalan: disiplin.")
    assert world.case(case_id).status == Status.FORWARDED_PYB.value
    assert "pyb" in wrap_roles(world, case_id)["PUSAT"]
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="60", unit_id=str(world.units["PUSAT"]))
    world.act("pk", case_id, "conclude_substantiated", sanction="Hukuman disiplin berat")
    world.act("pyb", case_id, "close")


# -- tembusan ------------------------------------------------------------------------------------

def test_copies_to_several_agencies_keep_their_references(world: World) -> None:
    case_id, ticket = _verified(world, category=Category.LAW_VIOLATION)
    world.act("ver", case_id, "copy_external", agency="Ombudsman RI Perwakilan NTT", copy_ref="ORI-77")
    world.act("ver", case_id, "copy_external", agency="Kepolisian Daerah NTT", copy_ref="LP/123/2026",
              disclose="1")
    assert world.case(case_id).status == Status.VERIFICATION.value  # still ours
    with transaction(world.factory) as db:
        view = casepage.load(db, officer=db.get(Officer, world.officer_id("ver")),
                             team_keys=world.keys("ver"), case_id=case_id)
        events = db.scalars(select(Event).where(Event.case_id == case_id,
                                                Event.action == "copy_external")).all()
        assert all(e.reason_blob is not None and b"Ombudsman" not in e.reason_blob for e in events)
    assert [(c.agency, c.reference, c.disclosed) for c in view.copies] == [
        ("Ombudsman RI Perwakilan NTT", "ORI-77", False), ("Kepolisian Daerah NTT", "LP/123/2026", True)]
    bodies = reporter_bodies(world, ticket)
    assert bodies.count("Salinan laporan Anda disampaikan") == 2
    assert "Ombudsman" not in bodies and "ORI-77" not in bodies  # not told to whom
    assert "Kepolisian Daerah NTT" in bodies and "LP/123/2026" in bodies  # told, on purpose
    with pytest.raises(ActionRefused) as err:
        world.act("ver", case_id, "copy_external", agency="KPK")
    assert err.value.field == "copy_ref"


# -- reclassification ------------------------------------------------------------------------------

def test_reclassification_is_an_event_and_statistics_use_the_final_value(world: World) -> None:
    case_id, ticket = _verified(world, kind=Kind.WHISTLEBLOWING, category=Category.ETHICS_CODE)
    with pytest.raises(ActionRefused):  # nothing changes: refused, nothing written
        world.act("ver", case_id, "reclassify", kind="whistleblowing", category="ethics_code",
                  grounds="sama")
    world.act("ver", case_id, "reclassify", kind="complaint", category="poor_public_service",
              grounds="Keluhan layanan, bukan pelanggaran etik ALASAN-X")
    case = world.case(case_id)
    assert (case.kind, case.category, case.status) == ("complaint", "poor_public_service", "verification")
    with transaction(world.factory) as db:
        ev = db.scalars(select(Event).where(Event.case_id == case_id, Event.action == "reclassify")).one()
        reason = world.cipher(case_id).open_json("event", ev.id, ev.reason_blob)
        assert reason["from_kind"] == "whistleblowing" and reason["from_category"] == "ethics_code"
        assert reason["kind"] == "complaint" and reason["category"] == "poor_public_service"
        assert "ALASAN-X" in reason["grounds"] and b"ALASAN-X" not in ev.reason_blob
        csv = exports.metadata_csv(db, case.received_at.year, config=None, actor="test").decode()
    rows = [line.split(",") for line in csv.splitlines()[1:]]
    assert [(r[3], r[4]) for r in rows] == [("complaint", "poor_public_service")]
    bodies = reporter_bodies(world, ticket)
    assert "Pelayanan publik yang tidak memuaskan" in bodies and "ALASAN-X" not in bodies


# -- the telaah ----------------------------------------------------------------------------------

def test_the_telaah_is_plain_where_statistics_need_it_and_sealed_where_it_is_content(world: World) -> None:
    case_id, ticket = _verified(world)
    before = reporter_bodies(world, ticket)
    world.act("ver", case_id, "record_telaah", classification="violation",
              subject="Kepala Seksi SUBJEK-X", object="Pungutan izin OBJEK-Y", confidential_handling="1")
    case = world.case(case_id)
    assert (case.classification, case.confidential_handling) == ("violation", True)
    with transaction(world.factory) as db:
        blob = db.get(CaseField, (case_id, cases.FIELD_TELAAH)).blob
        assert b"SUBJEK-X" not in blob and b"OBJEK-Y" not in blob
        view = casepage.load(db, officer=db.get(Officer, world.officer_id("ver")),
                             team_keys=world.keys("ver"), case_id=case_id)
        csv = exports.metadata_csv(db, case.received_at.year, config=None, actor="test").decode()
    assert (view.telaah.subject, view.telaah.object) == ("Kepala Seksi SUBJEK-X", "Pungutan izin OBJEK-Y")
    assert all(name != cases.FIELD_TELAAH for name, _ in view.fields)  # not shown as a report field
    assert ",violation," in csv and "SUBJEK-X" not in csv
    assert reporter_bodies(world, ticket) == before  # internal: the reporter is not told
    world.act("ver", case_id, "record_telaah", classification="dispute", subject="Dua pemohon",
              object="Sengketa batas", confidential_handling="0")
    assert (world.case(case_id).classification, world.case(case_id).confidential_handling) == ("dispute", False)
    with pytest.raises(ActionRefused) as err:
        world.act("ver", case_id, "record_telaah", classification="both", subject="a", object="b",
                  confidential_handling="1")
    assert err.value.field == "classification"


# -- the reported person's statement ----------------------------------------------------------------

def test_the_reported_persons_statement_is_a_sealed_record_the_reporter_never_sees(world: World) -> None:
    case_id, ticket = _verified(world)
    world.act("ver", case_id, "forward_pyb")
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="14", unit_id=str(world.units["PUSAT"]))
    world.act("pk", case_id, "record_statement",
              statement="Terlapor KETERANGAN-Z membantah menerima uang.", now=at_local(date(2026, 3, 3)))
    with transaction(world.factory) as db:
        row = db.scalars(select(CaseStatement).where(CaseStatement.case_id == case_id)).one()
        assert row.officer_id == world.officer_id("pk") and b"KETERANGAN-Z" not in row.blob
        assert CaseCipher(case_id, world.cipher(case_id).key).open_text("statement", row.id, row.blob) \
            .startswith("Terlapor KETERANGAN-Z")
        messages = db.scalars(select(Message).where(Message.case_id == case_id)).all()
        ev = db.scalars(select(Event).where(Event.action == "record_statement")).one()
        assert ev.reason_blob is None  # the event says that it happened; the text is in the record
        view = casepage.load(db, officer=db.get(Officer, world.officer_id("pyb")),
                             team_keys=world.keys("pyb"), case_id=case_id)
    cipher = world.cipher(case_id)
    assert all("KETERANGAN-Z" not in cipher.open_text("message", m.id, m.blob) for m in messages)
    assert [s.text for s in view.statements] == ["Terlapor KETERANGAN-Z membantah menerima uang."]
    assert view.statements[0].officer_name == "Sutrisno-PK Wibowo"
    assert "KETERANGAN-Z" not in reporter_bodies(world, ticket)
    with pytest.raises(ActionRefused):  # only the pengkaji records it
        world.act("pyb", case_id, "record_statement", statement="x")
    assert world.case(case_id).status == Status.INVESTIGATION.value


def test_a_refused_hand_off_writes_nothing(world: World) -> None:
    case_id, _ = _verified(world)
    with transaction(world.factory) as db:
        n_events = len(db.scalars(select(Event).where(Event.case_id == case_id)).all())
        n_wraps = len(db.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)).all())
    for action, params in [("escalate_to_pyb", {"grounds": "x"}), ("return_to_verification", {"grounds": "x"}),
                           ("record_statement", {"statement": "x"}), ("reclassify", {"kind": "rumour"})]:
        with pytest.raises(ActionRefused):
            world.act("ver", case_id, action, **params)
    with transaction(world.factory) as db:
        assert len(db.scalars(select(Event).where(Event.case_id == case_id)).all()) == n_events
        assert len(db.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)).all()) == n_wraps
    assert Role.VERIFIKATOR.value in wrap_roles(world, case_id)["PUSAT"]
    assert isinstance(world.case(case_id), Case)


def test_the_retention_purge_takes_the_statement_with_the_case(world: World, tmp_path: object) -> None:
    from whistle.attachments.storage import AttachmentStore
    from whistle.services.operations import retention

    case_id, _ = _verified(world)
    world.act("ver", case_id, "forward_pyb")
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="5", unit_id=str(world.units["PUSAT"]))
    world.act("pk", case_id, "record_statement", statement="Terlapor membantah.")
    world.act("pk", case_id, "conclude_unsubstantiated")
    world.act("pyb", case_id, "close")
    closed = world.case(case_id).closed_at
    assert closed is not None
    sweep.run(world.factory, now=closed + timedelta(days=40), send_mail=False)
    archived = world.case(case_id).archived_at
    assert archived is not None
    purged = retention.purge_archived(world.factory, AttachmentStore(tmp_path),  # type: ignore[arg-type]
                                      retention_days=10, now=archived + timedelta(days=11))
    assert purged == 1
    with transaction(world.factory) as db:
        assert db.scalars(select(CaseStatement)).all() == []
        assert db.get(Case, case_id) is None
