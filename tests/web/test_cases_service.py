"""Case transitions through the service: roles, statuses, fields, deadlines, locking, audit."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.domain.liveness import VALID as LIVENESS_VALID
from tests.factories import make_team
from tests.web.cases_world import World, at_local, build_world
from whistle.db import transaction
from whistle.domain.constants import Category, Role, Status
from whistle.domain.workflow import SPECS, Action
from whistle.models import AuditEntry, Case, CaseField, CaseKeyWrap, Event, Message, Officer, Team, Unit
from whistle.services.custody import audit
from whistle.services.cases import transitions as cases
from whistle.services.cases.transitions import ActionRefused, CaseChanged, CaseNotFound


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


# -- the whole table, role by role ------------------------------------------------------------

PARAMS = {"message": "Mohon lengkapi tanggal kejadian.", "external_ref": "Inspektorat 12/2026",
          "reason": "official_unknown", "tier": "14", "sanction": "Teguran tertulis",
          **{k: v for p in LIVENESS_VALID.values() for k, v in p.items()
             if isinstance(v, str) and k not in ("message", "external_ref", "reason", "tier", "sanction")}}
ROLES = [r.value for r in Role]


def _params_for(action: Action, kanwil: int) -> dict[str, object]:
    spec = SPECS[action]
    out: dict[str, object] = {k: v for k, v in PARAMS.items() if k in spec.required + spec.optional}
    if action in (Action.FORWARD_UNIT, Action.DISPOSE_TO_PENGKAJI):
        out["unit_id"] = kanwil
    return out


def test_every_action_status_and_role_follows_the_workflow(world: World) -> None:
    """For every (status, role, action): the service allows exactly what the domain table
    allows, and a refusal writes nothing."""
    with transaction(world.factory) as db:
        unit = db.get(Unit, world.units["PUSAT"])
        extra = {r: make_team(db, unit, r) for r in ("penerima", "admin", "auditor")}
        officers = {}
        for role in ROLES:
            team = extra.get(role) or world.teams[("PUSAT", role)]
            officers[role] = (Officer(username=f"m_{role}", display_name=role, role=role,
                                      unit_id=unit.id), {team.team.id: team.private_key}, team)
            db.add(officers[role][0])
        db.flush()
        officer_ids = {role: o[0].id for role, o in officers.items()}
    case_id, _ = world.file()
    ver_key = world.cipher(case_id).key
    with transaction(world.factory) as db:  # every role's team holds this case
        case = db.get(Case, case_id)
        for _, _, team in officers.values():
            cases.grant_team(db, case, team.team, ver_key)
    checked = 0
    for status in Status:
        with transaction(world.factory) as db:
            db.get(Case, case_id).status = status.value
        for role in ROLES:
            for action in Action:
                expected = (role in SPECS[action].sources.get(status, ()) and
                            action not in cases.SYSTEM_ONLY)
                session = world.factory()
                try:
                    before = session.scalar(select(func.count()).select_from(Event))
                    officer = session.get(Officer, officer_ids[role])
                    version = session.get(Case, case_id).version
                    try:
                        cases.perform(session, officer=officer, team_keys=officers[role][1],
                                      case_id=case_id, action=action.value,
                                      params=_params_for(action, world.units["KANWIL"]),
                                      expected_version=version)
                        allowed = True
                    except ActionRefused:
                        allowed = False
                        session.rollback()
                        assert session.scalar(select(func.count()).select_from(Event)) == before
                    assert allowed == expected, (status, role, action)
                    checked += 1
                finally:
                    session.rollback()
                    session.close()
    assert checked == len(Status) * len(ROLES) * len(Action)


# -- single steps ----------------------------------------------------------------------------

def test_start_verification_deadline_counts_from_receipt_over_lebaran(world: World) -> None:
    case_id, _ = world.file()
    with transaction(world.factory) as db:  # received on Tuesday 17 March 2026
        db.get(Case, case_id).received_at = at_local(date(2026, 3, 17))
    out = world.act("ver", case_id, "start_verification", now=at_local(date(2026, 3, 25)))
    # 18-24 March are Nyepi + Idul Fitri holidays and cuti bersama: Wed 25, Thu 26, Fri 27.
    assert out.to_status is Status.VERIFICATION and out.due_on == date(2026, 3, 27)
    assert world.case(case_id).step_started_on == date(2026, 3, 17)


def test_request_data_needs_a_message_and_runs_ten_working_days(world: World) -> None:
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    with pytest.raises(ActionRefused) as err:
        world.act("ver", case_id, "request_data")
    assert err.value.field == "message"
    out = world.act("ver", case_id, "request_data", message="Kapan tepatnya kejadian itu?",
                    now=at_local(date(2026, 3, 13)))
    # Fri 13 March + 10 working days, skipping 18-24 March and Good Friday 3 April.
    assert out.to_status is Status.AWAITING_DATA and out.due_on == date(2026, 4, 6)
    assert any("Kapan tepatnya kejadian itu?" in t and "Mohon balas" in t
               for _, t in world.thread(case_id))
    with transaction(world.factory) as db:  # the sweep's notice is sealed in advance
        assert db.get(CaseField, (case_id, cases.FIELD_SWEEP_NOTICE)) is not None


def test_data_request_days_are_configurable(world: World) -> None:
    class Cfg:
        data_request_days = 14
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    out = world.act("ver", case_id, "request_data", message="?", now=at_local(date(2026, 1, 5)),
                    config=Cfg())
    # Mon 5 Jan 2026 + 14 working days, Isra' Mi'raj on Fri 16 Jan: Mon 26 Jan.
    assert out.due_on == date(2026, 1, 26)


def test_forward_to_pyb_wraps_the_key_and_sets_the_team(world: World) -> None:
    case_id, _ = world.file()
    with pytest.raises(CaseNotFound):  # the PYB cannot open it before it is forwarded
        world.act("pyb", case_id, "not_followable", reason="official_unknown")
    world.act("ver", case_id, "start_verification")
    out = world.act("ver", case_id, "forward_pyb", note="Dugaan pelanggaran disiplin.")
    assert out.to_status is Status.FORWARDED_PYB and out.due_on is None
    assert world.case(case_id).team_id == world.teams[("PUSAT", "pyb")].team.id
    assert world.cipher(case_id, "pyb").key == world.cipher(case_id, "ver").key


def test_forward_unit_needs_a_unit_with_a_pengkaji_team(world: World) -> None:
    case_id, _ = world.file(category=Category.POOR_PUBLIC_SERVICE)
    world.act("ver", case_id, "start_verification")
    with pytest.raises(ActionRefused) as err:
        world.act("ver", case_id, "forward_unit")
    assert err.value.field == "unit_id"
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "forward_unit", unit_id="999")
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "forward_unit", unit_id="x")
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]))
    assert world.case(case_id).team_id == world.teams[("KANWIL", "pengkaji")].team.id
    # the KANWIL verifikator team was not routed to: it still cannot see the case
    with pytest.raises(CaseNotFound):
        world.act("ver_kw", case_id, "start_verification")


def test_officer_of_another_unit_gets_the_same_as_a_missing_case(world: World) -> None:
    case_id, _ = world.file()
    for bad in (case_id, "0" * 32, "not-an-id", ""):
        with pytest.raises(CaseNotFound) as err:
            world.act("pk_kw", bad, "start_verification", version=1)
        assert err.value.status == 404 and err.value.en == "No such case."


def test_refer_external_stores_the_reference_encrypted(world: World) -> None:
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "refer_external")
    world.act("ver", case_id, "refer_external", external_ref="Ombudsman RI no. 55/2026")
    assert world.field(case_id, cases.FIELD_EXTERNAL_REF) == "Ombudsman RI no. 55/2026"
    with transaction(world.factory) as db:
        blob = db.get(CaseField, (case_id, cases.FIELD_EXTERNAL_REF)).blob
        assert b"Ombudsman" not in blob
    assert "Ombudsman RI no. 55/2026" in world.thread(case_id)[-1][1]


def test_not_followable_reason_is_told_to_the_reporter(world: World) -> None:
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "not_followable", reason="other")  # needs reason_text
    world.act("ver", case_id, "not_followable", reason="official_retired")
    text = world.thread(case_id)[-1][1]
    assert "telah pensiun" in text and "has retired" in text
    assert world.case(case_id).status == "not_followable"


def test_stale_version_is_a_clear_refusal(world: World) -> None:
    case_id, _ = world.file()
    with pytest.raises(CaseChanged) as err:
        world.act("ver", case_id, "start_verification", version=7)
    assert err.value.status == 409 and "Reload" in err.value.en
    assert world.case(case_id).status == "received"


def test_concurrent_change_between_read_and_write_is_caught(world: World) -> None:
    """Both officers loaded version 1; the second write finds the row changed."""
    case_id, _ = world.file()
    a, b = world.factory(), world.factory()
    try:
        oa, ob = a.get(Officer, world.officer_id("ver")), b.get(Officer, world.officer_id("ver"))
        a.get(Case, case_id), b.get(Case, case_id)
        cases.perform(a, officer=oa, team_keys=world.keys("ver"), case_id=case_id,
                      action="start_verification", params={}, expected_version=1)
        a.commit()
        with pytest.raises(CaseChanged):
            cases.perform(b, officer=ob, team_keys=world.keys("ver"), case_id=case_id,
                          action="start_verification", params={}, expected_version=1)
        b.rollback()
    finally:
        a.close()
        b.close()
    with transaction(world.factory) as db:
        assert db.scalar(select(func.count()).select_from(Event)
                         .where(Event.case_id == case_id, Event.action == "start_verification")) == 1


def test_event_audit_and_notice_carry_no_officer_name_or_content(world: World) -> None:
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    world.act("ver", case_id, "answer", message="Izin dapat diurus di loket 3.", note="rahasia-internal")
    with transaction(world.factory) as db:
        ev = db.scalars(select(Event).where(Event.case_id == case_id, Event.action == "answer")).one()
        assert ev.officer_id == world.officer_id("ver") and ev.actor == "officer"
        assert ev.from_status == "verification" and ev.to_status == "answered"
        assert b"rahasia" not in ev.reason_blob
        reason = world.cipher(case_id).open_json("event", ev.id, ev.reason_blob)
        assert reason["note"] == "rahasia-internal"
        entries = db.scalars(select(AuditEntry).where(AuditEntry.object == f"case:{case_id}")).all()
        assert {e.action for e in entries} >= {"case.filed", "case.start_verification", "case.answer"}
        for e in entries:
            assert "loket" not in (e.detail or "") and "rahasia" not in (e.detail or "")
        assert audit.verify(db).ok
        notices = db.scalars(select(Message).where(Message.case_id == case_id,
                                                   Message.author == "system")).all()
        assert all(m.officer_id is None for m in notices)
    for _, text in world.thread(case_id):
        assert "Ver" not in text and "ver@" not in text
    assert "Izin dapat diurus di loket 3." in world.thread(case_id)[-1][1]


def test_substantiated_keeps_the_sanction_from_the_reporter(world: World) -> None:
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    world.act("ver", case_id, "forward_pyb")
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="60", unit_id=str(world.units["PUSAT"]))
    with pytest.raises(ActionRefused):
        world.act("pk", case_id, "conclude_substantiated")
    world.act("pk", case_id, "conclude_substantiated", sanction="Penurunan pangkat satu tingkat")
    assert world.field(case_id, cases.FIELD_SANCTION) == "Penurunan pangkat satu tingkat"
    assert all("pangkat" not in t for _, t in world.thread(case_id))


def test_messages_notes_and_checklist(world: World) -> None:
    case_id, _ = world.file()
    with transaction(world.factory) as db:
        officer = db.get(Officer, world.officer_id("ver"))
        cases.post_message(db, officer=officer, team_keys=world.keys("ver"), case_id=case_id,
                           body="Terima kasih, kami sedang memeriksa.", internal=False)
        cases.post_message(db, officer=officer, team_keys=world.keys("ver"), case_id=case_id,
                           body="Catatan internal: saksi kunci di lantai 2.", internal=True)
        with pytest.raises(ActionRefused):
            cases.post_message(db, officer=officer, team_keys=world.keys("ver"), case_id=case_id,
                               body="   ", internal=False)
        value = cases.save_checklist(db, officer=officer, team_keys=world.keys("ver"),
                                     case_id=case_id, checked={"what": True, "who": True},
                                     notes={"when": "tanggal belum jelas"})
        assert value["what"]["ok"] and not value["when"]["ok"]
    reporter = [t for _, t in world.thread(case_id)]
    assert any("sedang memeriksa" in t for t in reporter)
    assert not any("saksi kunci" in t for t in reporter)
    assert any("saksi kunci" in t for _, t in world.thread(case_id, reporter_view=False))
    with transaction(world.factory) as db:
        blob = db.get(CaseField, (case_id, "checklist")).blob
    assert world.cipher(case_id).open_json("field", "checklist", blob)["when"]["note"] == "tanggal belum jelas"


def test_bad_input_is_refused_without_writing(world: World) -> None:
    case_id, _ = world.file()
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "fly_to_the_moon")
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "auto_archive")
    world.act("ver", case_id, "start_verification")
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "answer", message="x" * (cases.MAX_TEXT + 1))
    with pytest.raises(ActionRefused):
        world.act("ver", case_id, "answer", message="hi", sanction="not taken here")
    with transaction(world.factory) as db:
        assert db.get(Case, case_id).status == "verification"
        assert db.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id)) == 2


def test_reporter_input_reopens_verification_only_from_awaiting_data(world: World) -> None:
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    cipher = world.cipher(case_id)
    with transaction(world.factory) as db:
        assert cases.reporter_input(db, db.get(Case, case_id), cipher) is False
    world.act("ver", case_id, "request_data", message="Sebutkan nama kantor.")
    with transaction(world.factory) as db:
        assert cases.reporter_input(db, db.get(Case, case_id), cipher) is True
        case = db.get(Case, case_id)
        assert case.status == "verification" and case.needs_attention
        assert db.get(CaseField, (case_id, cases.FIELD_SWEEP_NOTICE)) is None
        assert db.scalar(select(Team.id).where(Team.id == case.team_id)) is not None
        assert db.scalar(select(func.count()).select_from(CaseKeyWrap)
                         .where(CaseKeyWrap.case_id == case_id)) == 2
