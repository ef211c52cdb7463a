"""Team keys only by explicit approval (issue 7, items 1 and 6), through the pages.

Every claim is checked on the data as well: whether the newcomer's wrap exists and opens the
team key with the newcomer's own passphrase, which audit entries and notices were written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from crypto import PrivateKey
from tests.concurrency import run_at_once
from tests.web.officer_login import Clock, Enrolled, clock, csrf, finish_enrolment, login_as  # noqa: F401
from whistle.db import Conflict, transaction
from whistle.domain.constants import Role
from whistle.models import (
    AuditEntry,
    MembershipApproval,
    Officer,
    OfficerNotice,
    Team,
    TeamMember,
    Unit,
)
from whistle.services.custody import membership, teams
from whistle.services.custody.casekeys import team_key_context
from whistle.services.people import accounts
from whistle.web.state import state

SECRET_RE = re.compile(r'id="enrolment-secret">([^<]+)<')
FP_RE = re.compile(r'id="fingerprint">([0-9A-F ]+)<')
MY_FP_RE = re.compile(r'id="my-fingerprint">([0-9A-F ]+)<')


@dataclass
class Office:
    app: Flask
    clock: Clock
    admin: Enrolled
    admin_client: FlaskClient
    unit_id: int
    clients: dict[str, FlaskClient]
    people: dict[str, Enrolled]

    def post(self, client: FlaskClient, page: str, action: str, **data: object):  # type: ignore[no-untyped-def]
        data["csrf_token"] = csrf(client, page)
        return client.post(action, data=data)

    def officer(self, username: str, role: str, unit_id: int | None = None) -> Enrolled:
        """Created by the admin's page, enrolled by the officer with their own passphrase."""
        resp = self.post(self.admin_client, "/admin/officers", "/admin/officers",
                         username=username, display_name=username.title(), role=role,
                         unit_id=unit_id or self.unit_id)
        secret = SECRET_RE.search(resp.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        with transaction(state(self.app).db) as db:
            oid = db.scalar(select(Officer.id).where(Officer.username == username))
            who = finish_enrolment(self.app, db, oid, secret, f"frasa sandi rahasia nomor {len(self.people) + 1}")  # type: ignore[arg-type]
        self.people[username] = who
        return who

    def log_in(self, username: str) -> FlaskClient:
        client = self.app.test_client()
        login_as(client, self.people[username], self.clock)
        self.clients[username] = client
        return client

    def team(self, role: str, first: str) -> int:
        assert self.post(self.admin_client, "/admin/teams", "/admin/teams", unit_id=self.unit_id,
                         role=role, officer_id=self.people[first].id).status_code == 303
        with transaction(state(self.app).db) as db:
            return db.scalar(select(Team.id).where(Team.unit_id == self.unit_id,  # type: ignore[return-value]
                                                   Team.role == role))

    def add(self, team_id: int, username: str) -> None:
        assert self.post(self.admin_client, "/admin/teams", f"/admin/teams/{team_id}/members",
                         officer_id=self.people[username].id).status_code == 303

    def approve(self, approver: str, team_id: int, newcomer: str, **override: object):  # type: ignore[no-untyped-def]
        client = self.clients[approver]
        page = f"/officer/team/{team_id}/members/{self.people[newcomer].id}"
        html = client.get(page).get_data(as_text=True)
        fp = FP_RE.search(html)
        data: dict[str, object] = {"fingerprint": fp.group(1) if fp else "", "compared": "1"}
        data.update(override)
        return self.post(client, page, page + "/approve", **data)

    def team_key(self, username: str, team_id: int) -> PrivateKey | None:
        """What the officer's own passphrase opens from the database (None: no wrap)."""
        who = self.people[username]
        with transaction(state(self.app).db) as db:
            o = db.get(Officer, who.id)
            m = db.get(TeamMember, (team_id, who.id))
            assert o is not None and o.sealed_private_key is not None
            if m is None or m.wrapped_key is None:
                return None
            key = crypto.open_sealed_key(o.sealed_private_key, who.passphrase)
            return PrivateKey.from_bytes(key.unwrap(m.wrapped_key,
                                                    context=team_key_context(team_id)))

    def audit(self, *actions: str) -> list[tuple[str, str, str | None]]:
        with transaction(state(self.app).db) as db:
            return [(e.actor, e.action, e.detail) for e in db.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id))]

    def notices(self, username: str) -> list[tuple[str, int | None, int | None]]:
        with transaction(state(self.app).db) as db:
            return [(n.kind, n.subject_id, n.actor_id) for n in db.scalars(
                select(OfficerNotice).where(OfficerNotice.officer_id == self.people[username].id)
                .order_by(OfficerNotice.id))]


@pytest.fixture
def office(app: Flask, clock: Clock) -> Office:
    with transaction(state(app).db) as db:
        officer, secret = accounts.create_first_admin(db, "root")
        admin = finish_enrolment(app, db, officer.id, secret)
    client = app.test_client()
    login_as(client, admin, clock)
    client.set_cookie("lang", "en")
    o = Office(app, clock, admin, client, 0, {}, {})
    assert o.post(client, "/admin/units", "/admin/units", code="ITJEN",
                  name="Inspektorat Jenderal").status_code == 303
    with transaction(state(app).db) as db:
        o.unit_id = db.scalar(select(Unit.id).where(Unit.code == "ITJEN"))  # type: ignore[assignment]
    return o


def _session_team_ids(app: Flask, client: FlaskClient) -> set[int]:
    """Which team keys this client's session holds, asked through the real helper."""
    from flask import session

    from whistle.web import officer_auth
    cookie = client.get_cookie("whistle")
    assert cookie is not None
    with app.test_request_context("/officer/account", headers={"Cookie": f"whistle={cookie.value}"}):
        app.preprocess_request()
        ids = set(officer_auth.team_keys())
        app.session_interface.save_session(app, session, app.response_class())  # type: ignore[arg-type]
        return ids


# -- one approver ----------------------------------------------------------------------------

def test_nothing_at_log_in_then_one_explicit_approval(office: Office) -> None:
    office.officer("ani", Role.VERIFIKATOR)
    budi = office.officer("budi", Role.VERIFIKATOR)
    team_id = office.team("verifikator", "ani")
    office.add(team_id, "budi")
    budi_client = office.log_in("budi")
    office.log_in("ani")
    office.log_in("ani")  # logging in twice, viewing the account page: still nothing
    assert office.clients["ani"].get("/officer/account").status_code == 200
    assert office.team_key("budi", team_id) is None
    assert office.audit("team.member_wrap", "team.member_approve") == []
    assert _session_team_ids(office.app, budi_client) == set()
    # Ani was told that somebody waits; the account page links to the approval page.
    assert ("member_pending", budi.id, office.admin.id) in office.notices("ani")
    page = office.clients["ani"].get("/officer/account").get_data(as_text=True)
    assert f'href="/officer/team/{team_id}/members/{budi.id}"' in page

    resp = office.approve("ani", team_id, "budi")
    assert resp.status_code == 303
    key = office.team_key("budi", team_id)
    with transaction(state(office.app).db) as db:
        assert key is not None and key.public_key().to_bytes() == db.get(Team, team_id).public_key  # type: ignore[union-attr]
        assert db.scalars(select(MembershipApproval)).all() == []  # spent
    # Budi's running session picks the key up at its next request, without logging in again.
    assert _session_team_ids(office.app, budi_client) == {team_id}
    ani = office.people["ani"].id
    assert [(a, act) for a, act, _ in office.audit("team.member_approve", "team.member_wrap")] == [
        (f"officer:{ani}", "team.member_approve"), (f"officer:{ani}", "team.member_wrap")]
    assert ("member_joined", budi.id, ani) in office.notices("budi")


def test_approval_page_shows_who_what_by_whom_and_the_fingerprint(office: Office) -> None:
    office.officer("ani", Role.PENGKAJI)
    budi = office.officer("budi", Role.PENGKAJI)
    team_id = office.team("pengkaji", "ani")
    office.add(team_id, "budi")
    ani = office.log_in("ani")
    ani.set_cookie("lang", "en")
    html = ani.get(f"/officer/team/{team_id}/members/{budi.id}").get_data(as_text=True)
    assert "Budi (budi)" in html and "pengkaji" in html and "Inspektorat Jenderal" in html
    assert "Root (root)" in html or "Administrator (root)" in html  # added by the admin account
    assert "compare" in html.lower() and 'name="compared"' in html
    shown = FP_RE.search(html).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"([0-9A-F]{4} ){7}[0-9A-F]{4}", shown)
    # The newcomer sees the same fingerprint on their own page (compared out of band).
    mine = office.log_in("budi").get("/officer/account").get_data(as_text=True)
    assert MY_FP_RE.search(mine).group(1) == shown  # type: ignore[union-attr]
    with transaction(state(office.app).db) as db:
        pub = db.get(Officer, budi.id).public_key  # type: ignore[union-attr]
        assert membership.key_fingerprint(pub).replace(" ", "").lower() == \
            crypto.PublicKey.from_bytes(pub).fingerprint()  # type: ignore[arg-type]


def test_approval_needs_the_tick_and_the_fingerprint_shown(office: Office) -> None:
    office.officer("ani", Role.VERIFIKATOR)
    office.officer("budi", Role.VERIFIKATOR)
    team_id = office.team("verifikator", "ani")
    office.add(team_id, "budi")
    client = office.log_in("ani")
    client.set_cookie("lang", "en")
    no_tick = office.approve("ani", team_id, "budi", compared="")
    assert no_tick.status_code == 422 and "compared the fingerprint" in no_tick.get_data(as_text=True)
    wrong = office.approve("ani", team_id, "budi", fingerprint="0000 0000 0000 0000 0000 0000 0000 0000")
    assert wrong.status_code == 422 and "key changed" in wrong.get_data(as_text=True)
    assert office.team_key("budi", team_id) is None
    assert office.audit("team.member_approve", "team.member_wrap") == []


def test_only_a_holder_of_that_team_key_may_see_or_decide(office: Office) -> None:
    office.officer("ani", Role.VERIFIKATOR)
    budi = office.officer("budi", Role.VERIFIKATOR)
    office.officer("cici", Role.VERIFIKATOR)
    office.officer("dodi", Role.PENGKAJI)
    team_id = office.team("verifikator", "ani")
    office.team("pengkaji", "dodi")
    office.add(team_id, "budi")
    office.add(team_id, "cici")
    page = f"/officer/team/{team_id}/members/{budi.id}"
    for outsider in ("cici", "dodi"):  # a fellow pending member; a holder of another team
        client = office.log_in(outsider)
        assert client.get(page).status_code == 404
        token = csrf(client, "/officer/account")
        for action in ("approve", "refuse"):
            resp = client.post(f"{page}/{action}", data={"csrf_token": token, "compared": "1"})
            assert resp.status_code == 303  # back to the account page, with the reason
        assert "hold" in client.get("/officer/account?lang=en", follow_redirects=True).get_data(
            as_text=True)
    assert office.admin_client.get(page).status_code == 403
    assert office.team_key("budi", team_id) is None
    with transaction(state(office.app).db) as db:
        assert db.get(TeamMember, (team_id, budi.id)) is not None  # nobody could refuse either
    assert office.audit("team.member_approve", "team.member_refuse", "team.member_wrap") == []


# -- custodian teams: two approvers -------------------------------------------------------------

def _uki_team_with_two_holders(office: Office) -> int:
    office.officer("ani", Role.UKI)
    office.officer("budi", Role.UKI)
    team_id = office.team("uki", "ani")
    office.add(team_id, "budi")
    office.log_in("ani")
    assert office.approve("ani", team_id, "budi").status_code == 303  # one holder: one approval
    assert office.team_key("budi", team_id) is not None
    office.log_in("budi")
    return team_id


def test_custodian_team_needs_two_distinct_holders(office: Office) -> None:
    team_id = _uki_team_with_two_holders(office)
    cici = office.officer("cici", Role.UKI)
    office.add(team_id, "cici")
    first = office.approve("ani", team_id, "cici")
    assert first.status_code == 303
    assert office.team_key("cici", team_id) is None  # still pending after one approval
    again = office.approve("ani", team_id, "cici")
    assert again.status_code == 422 and office.team_key("cici", team_id) is None
    html = office.log_in("cici").get("/officer/account").get_data(as_text=True)
    assert "1 / 2" in html or "1 dari 2" in html or "(1 of 2" in html or "1 of 2" in html
    assert office.approve("budi", team_id, "cici").status_code == 303
    key = office.team_key("cici", team_id)
    assert key is not None
    ani, budi = office.people["ani"].id, office.people["budi"].id
    wraps = office.audit("team.member_wrap")
    assert wraps[-1][0] == f"officer:{budi}" and f"officer:{ani}" in (wraps[-1][2] or "")
    assert f"officer:{budi}" in (wraps[-1][2] or "")
    assert ("member_approved_one", cici.id, ani) in office.notices("budi")
    assert ("member_joined", cici.id, budi) in office.notices("ani")
    assert ("member_joined", cici.id, budi) in office.notices("cici")


def test_any_holder_may_refuse(office: Office) -> None:
    team_id = _uki_team_with_two_holders(office)
    cici = office.officer("cici", Role.UKI)
    office.add(team_id, "cici")
    assert office.approve("ani", team_id, "cici").status_code == 303
    page = f"/officer/team/{team_id}/members/{cici.id}"
    budi = office.clients["budi"]
    assert office.post(budi, page, page + "/refuse").status_code == 303
    with transaction(state(office.app).db) as db:
        assert db.get(TeamMember, (team_id, cici.id)) is None
        assert db.scalars(select(MembershipApproval)).all() == []
    assert office.audit("team.member_refuse")[0][0] == f"officer:{office.people['budi'].id}"
    assert ("member_refused", cici.id, office.people["budi"].id) in office.notices("ani")
    assert ("member_refused", cici.id, office.people["budi"].id) in office.notices("cici")
    # The first approval is gone with it: once re-added, two approvals are needed again.
    office.add(team_id, "cici")
    assert office.approve("budi", team_id, "cici").status_code == 303
    assert office.team_key("cici", team_id) is None


def test_two_holders_approving_at_once_wrap_exactly_once(office: Office) -> None:
    team_id = _uki_team_with_two_holders(office)
    cici = office.officer("cici", Role.UKI)
    office.add(team_id, "cici")
    f = state(office.app).db
    with transaction(f) as db:
        fp = membership.key_fingerprint(db.get(Officer, cici.id).public_key)  # type: ignore[union-attr,arg-type]
    keys = {}
    for who in ("ani", "budi"):
        with transaction(f) as db:
            o = db.get(Officer, office.people[who].id)
            assert o is not None and o.sealed_private_key is not None
            mine = crypto.open_sealed_key(o.sealed_private_key, office.people[who].passphrase)
            keys[who] = membership.held_team_keys(db, o.id, mine)
    order = iter(("ani", "budi"))

    def one() -> membership.Outcome:
        who = next(order)
        with transaction(f) as db:
            me = db.get(Officer, office.people[who].id)
            assert me is not None
            return membership.approve(db, me, keys[who], team_id, cici.id, fingerprint=fp,
                                      compared=True)

    results, errors = run_at_once(one)
    assert all(isinstance(e, (membership.MembershipError, Conflict)) for e in errors), errors
    assert office.team_key("cici", team_id) is not None
    assert [o.joined for o in results].count(True) == 1
    assert len([d for _, _, d in office.audit("team.member_wrap")
                if (d or "").startswith(f"officer:{cici.id} ")]) == 1


def test_a_team_referenced_by_identity_shares_needs_two(app: Flask) -> None:
    """Not only UKI and PYB teams: any team an identity share is wrapped to is a custodian."""
    from tests.factories import make_officer
    from tests.web.cases_world import build_world
    from whistle.models import IdentityShare
    from whistle.services.reporter import reports

    world = build_world(state(app).db)
    case_id, _ = world.file(anonymity=reports.CONFIDENTIAL, identity={"name": "Rahmat"})
    with transaction(state(app).db) as db:
        pk = world.teams[("PUSAT", "pengkaji")]
        unit = db.get(Unit, world.units["PUSAT"])
        make_officer(db, unit, "pengkaji", "pk2", teams=(pk,))  # two holders now
        team = db.get(Team, pk.team.id)
        assert team is not None
        assert membership.approvals_needed(db, team) == 1
        share = db.get(IdentityShare, (case_id, 1))
        assert share is not None
        share.team_id = team.id
        db.flush()
        assert teams.holds_identity_shares(db, team)
        assert membership.approvals_needed(db, team) == 2
        uki = db.get(Team, world.teams[("PUSAT", "uki")].team.id)
        assert uki is not None and teams.holds_identity_shares(db, uki)
        assert membership.approvals_needed(db, uki) == 1  # one holder: that holder alone


# -- resets, deactivation, removal -------------------------------------------------------------

def test_reset_drops_the_wraps_and_needs_approval_again(office: Office) -> None:
    team_id = _uki_team_with_two_holders(office)
    budi = office.people["budi"]
    office.officer("cici", Role.UKI)
    office.add(team_id, "cici")
    assert office.approve("budi", team_id, "cici").status_code == 303  # budi's approval ...
    a = office.admin_client
    resp = office.post(a, f"/admin/officers/{budi.id}", f"/admin/officers/{budi.id}/reset")
    assert resp.status_code == 200
    new_secret = SECRET_RE.search(resp.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    with transaction(state(office.app).db) as db:
        m = db.get(TeamMember, (team_id, budi.id))
        assert m is not None and m.wrapped_key is None and m.after_reset
        assert m.added_by_id == office.admin.id
        # ... lapsed with the reset: he no longer holds the key he approved with.
        assert db.scalars(select(MembershipApproval)).all() == []
    assert ("member_pending", budi.id, office.admin.id) in office.notices("ani")
    assert office.clients["budi"].get("/officer/account").status_code == 302  # session over
    with transaction(state(office.app).db) as db:
        office.people["budi"] = finish_enrolment(office.app, db, budi.id, new_secret,
                                                 "frasa sandi yang baru sekali")
    office.log_in("budi")
    assert office.team_key("budi", team_id) is None  # nothing at log-in
    page = office.clients["ani"].get(f"/officer/team/{team_id}/members/{budi.id}")
    assert page.status_code == 200
    # One holder left (ani), so one approval: ani's, after comparing budi's NEW fingerprint.
    assert office.approve("ani", team_id, "budi").status_code == 303
    assert office.team_key("budi", team_id) is not None


def test_the_last_key_holder_cannot_be_reset_deactivated_or_removed(office: Office) -> None:
    ani = office.officer("ani", Role.UKI)
    office.officer("budi", Role.UKI)
    team_id = office.team("uki", "ani")
    office.add(team_id, "budi")  # pending: holds nothing yet
    a = office.admin_client
    page = a.get(f"/admin/officers/{ani.id}").get_data(as_text=True)
    assert 'id="sole-holder"' in page and "ITJEN / uki" in page
    assert "ITJEN / uki" in a.get("/admin/officers").get_data(as_text=True)
    before = _officer_row(office, ani.id)
    reset = office.post(a, f"/admin/officers/{ani.id}", f"/admin/officers/{ani.id}/reset")
    assert reset.status_code == 422
    assert "last key holder of ITJEN / uki" in reset.get_data(as_text=True)
    assert SECRET_RE.search(reset.get_data(as_text=True)) is None
    off = office.post(a, f"/admin/officers/{ani.id}", f"/admin/officers/{ani.id}/active", active="0")
    assert off.status_code == 422 and "last key holder" in off.get_data(as_text=True)
    rm = office.post(a, "/admin/teams", f"/admin/teams/{team_id}/members/{ani.id}/remove")
    assert rm.status_code == 422 and "last key holder" in rm.get_data(as_text=True)
    assert _officer_row(office, ani.id) == before  # nothing was changed
    assert office.team_key("ani", team_id) is not None
    # Once budi holds the key too, ani may go.
    office.log_in("ani")
    assert office.approve("ani", team_id, "budi").status_code == 303
    assert 'id="sole-holder"' not in a.get(f"/admin/officers/{ani.id}").get_data(as_text=True)
    assert office.post(a, f"/admin/officers/{ani.id}", f"/admin/officers/{ani.id}/active",
                       active="0").status_code == 303
    # Budi is now the last *active* holder: the same refusals protect him.
    budi = office.people["budi"]
    assert office.post(a, f"/admin/officers/{budi.id}",
                       f"/admin/officers/{budi.id}/reset").status_code == 422


def _officer_row(office: Office, officer_id: int) -> tuple[object, ...]:
    with transaction(state(office.app).db) as db:
        o = db.get(Officer, officer_id)
        assert o is not None
        wraps = tuple(m.wrapped_key for m in teams.memberships(db, officer_id))
        return (o.sealed_private_key, o.public_key, o.active, o.enrolled_at, wraps)


def test_removing_a_holder_tells_the_team(office: Office) -> None:
    team_id = _uki_team_with_two_holders(office)
    budi = office.people["budi"]
    a = office.admin_client
    assert office.post(a, "/admin/teams", f"/admin/teams/{team_id}/members/{budi.id}/remove"
                       ).status_code == 303
    assert ("member_removed", budi.id, office.admin.id) in office.notices("ani")
    assert ("member_removed", budi.id, office.admin.id) in office.notices("budi")
    # Budi's open session loses the key at its next request.
    assert _session_team_ids(office.app, office.clients["budi"]) == set()


def test_an_approval_by_a_holder_removed_since_does_not_count(office: Office) -> None:
    team_id = _uki_team_with_two_holders(office)
    office.officer("cici", Role.UKI)
    office.officer("dewi", Role.UKI)
    office.add(team_id, "cici")
    office.add(team_id, "dewi")
    assert office.approve("budi", team_id, "cici").status_code == 303
    assert office.approve("budi", team_id, "dewi").status_code == 303
    assert office.approve("ani", team_id, "dewi").status_code == 303  # dewi: a third holder
    a = office.admin_client
    budi = office.people["budi"]
    assert office.post(a, "/admin/teams", f"/admin/teams/{team_id}/members/{budi.id}/remove"
                       ).status_code == 303
    # Two holders remain (ani, dewi); budi's approval of cici lapsed with his membership.
    assert office.approve("ani", team_id, "cici").status_code == 303
    assert office.team_key("cici", team_id) is None


def test_cli_reset_refuses_the_last_key_holder(office: Office, instance_dir: object) -> None:
    from click.testing import CliRunner

    from whistle.cli import cli
    office.officer("ani", Role.PYB)
    team_id = office.team("pyb", "ani")
    env = {"WHISTLE_INSTANCE_DIR": str(instance_dir),
           "WHISTLE_DATABASE_URL": state(office.app).config.db_url}
    out = CliRunner().invoke(cli, ["enrolment-reset", "ani"], env=env)
    assert out.exit_code != 0 and "last key holder of ITJEN / pyb" in out.output
    assert "Enrolment secret" not in out.output
    assert office.team_key("ani", team_id) is not None
    # With a second holder approved, the CLI reset goes through and the membership waits.
    office.officer("budi", Role.PYB)
    office.add(team_id, "budi")
    office.log_in("ani")
    assert office.approve("ani", team_id, "budi").status_code == 303
    out = CliRunner().invoke(cli, ["enrolment-reset", "ani"], env=env)
    assert out.exit_code == 0 and "Enrolment secret" in out.output
    with transaction(state(office.app).db) as db:
        m = db.get(TeamMember, (team_id, office.people["ani"].id))
        assert m is not None and m.wrapped_key is None and m.after_reset and m.added_by_id is None
