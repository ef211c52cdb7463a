"""Whole lives of a case through the services, as officers and as the reporter with a ticket.

Each life checks what the reporter reads at the end (status label, plain-language notices)
and that no officer's name, internal note or sanction ever reaches them.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import PEPPER, World, at_local, build_world
from whistle.db import transaction
from whistle.domain.constants import Category, Kind
from whistle.models import Event, Officer
from whistle.services.cases import transitions as cases
from whistle.services.reporter import followup
from whistle.services.operations import sweep


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def reporter_sees(world: World, ticket: str, lang: str = "id") -> followup.CaseView:
    login = followup.login(world.factory, ticket, pepper=PEPPER)
    return followup.case_view(world.factory, login, lang)


def assert_no_officer_leak(world: World, view: followup.CaseView, *secrets: str) -> None:
    names = [o.officer.display_name for o in world.officers.values()]
    for m in view.messages:
        assert m.author in ("reporter", "officer", "system")
        for secret in (*names, *secrets):
            assert secret not in m.body, secret


def history(world: World, case_id: str) -> list[tuple[str, str | None, int | None]]:
    with transaction(world.factory) as db:
        return [(e.action, e.to_status, e.officer_id) for e in db.scalars(
            select(Event).where(Event.case_id == case_id).order_by(Event.at, Event.id))]


def test_ethics_case_to_pyb_to_pengkaji_substantiated(world: World) -> None:
    day = date(2026, 3, 2)  # Monday
    case_id, ticket = world.file(category=Category.ETHICS_CODE, received=at_local(day, 8),
                                 what="Kepala seksi menerima hadiah dari pemohon izin.")
    assert world.case(case_id).due_on == date(2026, 3, 5)
    world.act("ver", case_id, "start_verification", now=at_local(day, 9))
    with transaction(world.factory) as db:
        cases.save_checklist(db, officer=db.get(Officer, world.officer_id("ver")),
                             team_keys=world.keys("ver"), case_id=case_id,
                             checked=dict.fromkeys(cases.CHECKLIST_ITEMS, True), notes={})
    world.act("ver", case_id, "forward_pyb", note="Kode etik: gratifikasi.", now=at_local(day, 10))
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="14", unit_id=str(world.units["PUSAT"]),
              now=at_local(date(2026, 3, 3), 9))
    case = world.case(case_id)
    assert case.status == "investigation" and case.tier == "14"
    assert case.due_on == date(2026, 3, 30)  # 14 working days from 3 March, over Nyepi and Lebaran
    with transaction(world.factory) as db:
        cases.post_message(db, officer=db.get(Officer, world.officer_id("pk")), team_keys=world.keys("pk"),
                           case_id=case_id, body="Apakah Anda memiliki foto kejadian?", internal=False,
                           now=at_local(date(2026, 3, 4)))
        cases.post_message(db, officer=db.get(Officer, world.officer_id("pk")), team_keys=world.keys("pk"),
                           case_id=case_id, body="Internal: terlapor sudah dipanggil.", internal=True,
                           now=at_local(date(2026, 3, 4)))
    world.act("pk", case_id, "conclude_substantiated", sanction="Hukuman disiplin sedang",
              now=at_local(date(2026, 3, 26)))
    world.act("pyb", case_id, "close", message="Terima kasih atas laporan Anda.",
              now=at_local(date(2026, 3, 27)))
    assert [h[0] for h in history(world, case_id)] == [
        "filed", "start_verification", "forward_pyb", "dispose_to_pengkaji",
        "conclude_substantiated", "close"]
    view = reporter_sees(world, ticket)
    assert view.status == "closed" and view.status_label == "Selesai"
    bodies = "\n".join(m.body for m in view.messages)
    for expected in ("sedang ditelaah", "pejabat yang berwenang", "diperiksa oleh tim pemeriksa",
                     "foto kejadian", "laporan Anda terbukti", "Terima kasih atas laporan Anda."):
        assert expected in bodies, expected
    assert_no_officer_leak(world, view, "Hukuman disiplin", "terlapor sudah dipanggil", "gratifikasi")
    assert reporter_sees(world, ticket, "en").status_label == "Closed"


def test_service_case_to_unit_answered_after_more_data(world: World) -> None:
    day = date(2026, 4, 6)
    case_id, ticket = world.file(category=Category.POOR_PUBLIC_SERVICE, kind=Kind.COMPLAINT,
                                 received=at_local(day, 8), what="Antrean paspor tidak tertib.")
    world.act("ver", case_id, "start_verification", now=at_local(day, 9))
    world.act("ver", case_id, "request_data", message="Kapan Anda datang ke kantor?",
              now=at_local(day, 10))
    assert world.case(case_id).due_on == date(2026, 4, 20)
    login = followup.login(world.factory, ticket, pepper=PEPPER)
    assert followup.reply(world.factory, login, "Hari Senin pagi, 6 April.") == "verification"
    case = world.case(case_id)
    assert case.needs_attention and case.status == "verification"
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]))
    world.act("pk_kw", case_id, "answer", message="Loket antrean kini memakai nomor urut.")
    world.act("pk_kw", case_id, "close")
    view = reporter_sees(world, ticket)
    assert view.status == "closed"
    bodies = "\n".join(m.body for m in view.messages)
    assert "Kapan Anda datang ke kantor?" in bodies and "Hari Senin pagi" in bodies
    assert "unit kerja terkait" in bodies and "Loket antrean kini memakai nomor urut." in bodies
    assert_no_officer_leak(world, view)
    # the reporter's own words and the handlers' words are told apart, without names
    assert {m.author for m in view.messages} <= {"reporter", "system", "officer"}


def test_unclear_case_archived_by_the_sweep(world: World) -> None:
    day = date(2026, 5, 11)
    case_id, ticket = world.file(received=at_local(day, 8), what="Ada yang aneh di kantor.")
    world.act("ver", case_id, "start_verification", now=at_local(day, 9))
    world.act("ver", case_id, "request_data", message="Siapa, kapan, dan di mana?", now=at_local(day, 10))
    due = world.case(case_id).due_on
    # 12-13, 18-22, 25-26 May, then 29 May: Ascension (14-15) and Idul Adha (27-28) are off.
    assert due == date(2026, 5, 29)
    assert sweep.run(world.factory, now=at_local(due, 20), send_mail=False).archived == 0
    assert sweep.run(world.factory, now=at_local(due + timedelta(days=1), 7), send_mail=False).archived == 1
    view = reporter_sees(world, ticket)
    assert view.status == "archived" and view.read_only
    assert "tidak diterima sampai batas waktu" in view.messages[-1].body
    login = followup.login(world.factory, ticket, pepper=PEPPER)
    with pytest.raises(followup.CaseReadOnly):
        followup.reply(world.factory, login, "Maaf terlambat.")
    assert [h[0] for h in history(world, case_id)][-1] == "auto_archive"
    assert history(world, case_id)[-1][2] is None  # the system, not an officer


def test_external_referral(world: World) -> None:
    case_id, ticket = world.file(category=Category.LAW_VIOLATION, what="Penipuan oleh oknum swasta.")
    world.act("ver", case_id, "start_verification")
    world.act("ver", case_id, "refer_external", external_ref="Kepolisian Resor Kota, LP/123/2026")
    assert world.case(case_id).due_on is None
    world.act("ver", case_id, "close")
    view = reporter_sees(world, ticket, "en")
    assert view.status == "closed" and view.status_label == "Closed"
    assert any("Kepolisian Resor Kota, LP/123/2026" in m.body for m in view.messages)
    assert world.field(case_id, cases.FIELD_EXTERNAL_REF) == "Kepolisian Resor Kota, LP/123/2026"
    assert_no_officer_leak(world, view)


def test_not_followable_by_the_pyb(world: World) -> None:
    case_id, ticket = world.file()
    world.act("ver", case_id, "start_verification")
    world.act("ver", case_id, "forward_pyb")
    world.act("pyb", case_id, "not_followable", reason="official_deceased")
    world.act("pyb", case_id, "close")
    bodies = "\n".join(m.body for m in reporter_sees(world, ticket).messages)
    assert "telah meninggal dunia" in bodies


# -- the liveness model against the real services -----------------------------------------------

from datetime import UTC, datetime  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.domain.liveness import VALID, State, moves  # noqa: E402
from whistle.domain.constants import Party, Role, Status  # noqa: E402
from whistle.domain.workflow import Action  # noqa: E402
from whistle.models import CaseKeyWrap, Team  # noqa: E402

# Who acts for a role, by the unit whose team holds the key (the case is filed at PUSAT).
ACTS_FOR = {("PUSAT", "verifikator"): "ver", ("PUSAT", "pyb"): "pyb", ("PUSAT", "pengkaji"): "pk",
            ("KANWIL", "pengkaji"): "pk_kw", ("KANWIL", "verifikator"): "ver_kw"}
ROUTED_UNIT = {Action.FORWARD_UNIT, Action.DISPOSE_TO_PENGKAJI}
OTHER_CLASS = {("complaint", "maladministration"): ("aspiration", "poor_public_service")}


class _Sipuma:
    data_request_policy = "sipuma"


def held(world: World, case_id: str) -> set[tuple[str, str]]:
    codes = {v: k for k, v in world.units.items()}
    with transaction(world.factory) as db:
        return {(codes[u], r) for u, r in db.execute(
            select(Team.unit_id, Team.role).join(CaseKeyWrap, CaseKeyWrap.team_id == Team.id)
            .where(CaseKeyWrap.case_id == case_id))}


def step(world: World, case_id: str, ticket: str, action: Action, actor: object, *,
         unit: str, sipuma: bool) -> None:
    """Take one step of the model through the services, as the actor who holds the key."""
    case = world.case(case_id)
    if actor is Party.REPORTER:
        login = followup.login(world.factory, ticket, pepper=PEPPER)
        followup.reply(world.factory, login, "Ini keterangan tambahan saya.")
        return
    if actor is Party.SYSTEM:
        # Time passes beyond any deadline or quiet period of a case filed today; the sweep runs.
        sweep.run(world.factory, now=datetime.now(UTC) + timedelta(days=60), send_mail=False)
        return
    holders = held(world, case_id)
    who = next(ACTS_FOR[h] for h in sorted(holders) if h[1] == str(actor) and h in ACTS_FOR)
    params: dict[str, object] = dict(VALID.get(action, {}))
    if action in ROUTED_UNIT:
        params["unit_id"] = str(world.units[unit])
    if action is Action.RECLASSIFY:
        kind, category = OTHER_CLASS.get((case.kind, case.category), ("complaint", "maladministration"))
        params.update(kind=kind, category=category)
    world.act(who, case_id, action.value, config=_Sipuma() if sipuma else None, **params)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["PUSAT", "KANWIL"]), st.booleans()),
                min_size=1, max_size=12))
def test_the_liveness_model_is_what_the_services_do(world: World, walk: list[tuple[int, str, bool]]) -> None:
    """Random walks of key-holding steps through the real services: after every step the teams
    holding a wrap are exactly the model's key holders, and from wherever the walk stops, the
    model's path to `archived` runs through the services to the archive."""
    case_id, ticket = world.file()
    state: State = (Status.RECEIVED, frozenset({Role.VERIFIKATOR}))
    sipuma = False

    def agree() -> None:
        assert world.case(case_id).status == state[0].value
        assert {Role(r) for _, r in held(world, case_id)} == set(state[1])

    def take(action: Action, actor: object, after: State, unit: str) -> None:
        nonlocal state
        step(world, case_id, ticket, action, actor, unit=unit, sipuma=sipuma)
        state = after
        agree()

    def options(st_: State) -> list[tuple[Action, object, State]]:
        # The sweep's way out of a data request is the one the office's policy sealed.
        other = Action.AUTO_ARCHIVE if sipuma else Action.AUTO_NOT_FOLLOWABLE
        return [m for m in moves(st_) if m[0] is not other]

    for choice, unit, policy in walk:
        found = options(state)
        if not found:
            break
        action, actor, after = found[choice % len(found)]
        if action is Action.REQUEST_DATA:
            sipuma = policy
        take(action, actor, after, unit)
    # From here the model knows a path to the archive; the services must walk it too.
    paths: dict[State, list[tuple[Action, object, State]]] = {state: []}
    todo = [state]
    while todo:  # breadth first over this office's moves: the shortest path
        here = todo.pop(0)
        for move in options(here):
            if move[2] not in paths:
                paths[move[2]] = [*paths[here], move]
                todo.append(move[2])
    target = min((s for s in paths if s[0] is Status.ARCHIVED), key=lambda s: len(paths[s]))
    for action, actor, after in paths[target]:
        take(action, actor, after, "KANWIL")
    assert world.case(case_id).status == Status.ARCHIVED.value
