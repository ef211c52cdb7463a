"""Officers drive the lives of cases through their pages in headless Chromium (JavaScript off:
every action is a plain form). Log-in with a TOTP code computed here. In CI a missing Chromium
or playwright fails instead of skipping.

Pages are read in the default language (Indonesian); status labels are compared with
``whistle.domain.constants.label`` and states with stable ids/attributes, not with UI strings."""
from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from flask import Flask

from tests.web.cases_world import PEPPER, World, at_local, build_world
from tests.web.officer_login import make_login_ready
from whistle.db import transaction
from whistle.domain.constants import Category, Kind, Role, Status, label
from whistle.domain.workflow import SPECS, Action, plan_transition
from whistle.models import Officer
from whistle.services.reporter import followup
from whistle.services.operations import sweep
from whistle.web.state import state

pytestmark = pytest.mark.browser

class Desk:
    """One officer at their own browser (own cookies), logged in through the real page."""

    def __init__(self, browser: object, live: str, world: World, who: str, totp_secret: str) -> None:
        self.live = live
        self.context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.page.goto(live + "/officer/login")
        self.page.fill("#username", who)
        self.page.fill("#passphrase", world.officers[who].passphrase)
        self.page.fill("#code", pyotp.TOTP(totp_secret).at(time.time()))
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("load")
        assert "/officer/login" not in self.page.url, self.page.content()[:1500]

    def open_from_inbox(self, register_no: str) -> None:
        self.page.goto(self.live + "/officer/cases")
        self.page.click(f"text={register_no}")
        self.page.wait_for_url("**/officer/cases/*")

    def act(self, action: str, **fields: str) -> None:
        form = f"form#action-{action}"
        for name, value in fields.items():
            target = f"{form} [name={name}]"
            if self.page.locator(f"{form} select[name={name}]").count():
                self.page.select_option(target, value)
            else:
                self.page.fill(target, value)
        self.page.click(f"{form} button[type=submit]")
        self.page.wait_for_load_state("load")
        assert self.page.locator("#done").count() == 1, self.page.content()[:3000]

    def status(self) -> str:
        return self.page.get_attribute("#case-status", "data-status") or ""

    def status_label(self) -> str:
        """The status as the officer reads it (default language: Indonesian)."""
        return self.page.inner_text("#case-status").strip()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def office(app: Flask) -> tuple[World, dict[str, str]]:
    world = build_world(state(app).db)
    with transaction(state(app).db) as db:
        secrets = {name: make_login_ready(db, db.get(Officer, o.officer.id), app)
                   for name, o in world.officers.items()}
    return world, secrets


def reporter_sees(world: World, ticket: str, lang: str = "id") -> followup.CaseView:
    """What the reporter reads after logging in with their ticket, checked to name no officer."""
    view = followup.case_view(world.factory, followup.login(world.factory, ticket, pepper=PEPPER), lang)
    names = [o.officer.display_name for o in world.officers.values()]
    for m in view.messages:
        assert m.author in ("reporter", "officer", "system")
        assert not any(name in m.body for name in names) and "Sutrisno" not in m.body, m.body
    return view


def test_ethics_path_through_the_officer_pages(app: Flask, live: str, browser: object, office) -> None:
    world, secrets = office
    case_id, ticket = world.file(category=Category.ETHICS_CODE,
                                 what="Kepala seksi menerima hadiah dari pemohon izin.")
    register_no = world.case(case_id).register_no

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.page.goto(live + "/officer/cases")
    assert "Kepala seksi menerima hadiah" in ver.page.content()
    ver.open_from_inbox(register_no)
    assert ver.status() == "received"
    ver.act("start_verification")
    assert ver.status() == "verification"
    ver.page.check("input[name=ok_what]")
    ver.page.fill("#note-who", "nama terlapor jelas")
    ver.page.click("#checklist-form button[type=submit]")
    ver.page.wait_for_load_state("load")
    assert ver.page.input_value("#note-who") == "nama terlapor jelas"
    ver.act("forward_pyb", note="Dugaan gratifikasi.")
    assert ver.status() == "forwarded_pyb"
    assert ver.page.locator("form.action").count() == 0  # nothing left for the verifikator
    ver.close()

    pyb = Desk(browser, live, world, "pyb", secrets["pyb"])
    pyb.open_from_inbox(register_no)
    pyb.act("dispose_to_pengkaji", unit_id=str(world.units["PUSAT"]), tier="14")
    assert pyb.status() == "investigation"

    pk = Desk(browser, live, world, "pk", secrets["pk"])
    pk.open_from_inbox(register_no)
    pk.page.fill("#body", "Apakah Anda menyimpan bukti pemberian hadiah?")
    pk.page.click("#message-form button[type=submit]")
    pk.page.wait_for_load_state("load")
    pk.act("conclude_substantiated", sanction="Hukuman disiplin sedang")
    assert pk.status() == "substantiated"
    assert "Hukuman disiplin sedang" in pk.page.inner_text("#sanction")
    pk.close()

    pyb.open_from_inbox(register_no)
    pyb.act("close", message="Terima kasih atas laporan Anda.")
    assert pyb.status() == "closed"
    history = pyb.page.inner_text("#events")
    for step in ("start_verification", "forward_pyb", "dispose_to_pengkaji", "conclude_substantiated", "close"):
        assert step in history
    assert "Sutrisno-VER Wibowo" in history  # officers see who acted ...
    pyb.close()

    view = reporter_sees(world, ticket)
    assert view.status_label == "Selesai"
    bodies = "\n".join(m.body for m in view.messages)
    assert "bukti pemberian hadiah" in bodies and "Terima kasih atas laporan Anda." in bodies
    assert "Sutrisno" not in bodies and "Hukuman" not in bodies and "gratifikasi" not in bodies


def test_service_path_through_the_officer_pages(app: Flask, live: str, browser: object, office) -> None:
    world, secrets = office
    case_id, ticket = world.file(category=Category.POOR_PUBLIC_SERVICE, kind=Kind.COMPLAINT,
                                 what="Antrean paspor tidak tertib.")
    register_no = world.case(case_id).register_no

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.open_from_inbox(register_no)
    ver.act("start_verification")
    ver.act("forward_unit", unit_id=str(world.units["KANWIL"]))
    assert ver.status() == "forwarded_unit"
    ver.close()

    kw = Desk(browser, live, world, "pk_kw", secrets["pk_kw"])
    kw.open_from_inbox(register_no)
    kw.act("answer", message="Loket antrean kini memakai nomor urut.")
    assert kw.status() == "answered"
    kw.act("close")
    assert kw.status() == "closed"
    kw.close()

    other = Desk(browser, live, world, "ver_kw", secrets["ver_kw"])  # same unit, other team
    other.page.goto(live + "/officer/cases")
    assert register_no not in other.page.content()
    resp = other.page.goto(live + f"/officer/cases/{case_id}")
    assert resp is not None and resp.status == 404
    other.close()

    bodies = "\n".join(m.body for m in reporter_sees(world, ticket).messages)
    assert "Loket antrean kini memakai nomor urut." in bodies and "Sutrisno" not in bodies


def test_unclear_case_archived_by_the_sweep(app: Flask, live: str, browser: object, office) -> None:
    world, secrets = office
    case_id, ticket = world.file(what="Ada yang aneh di kantor.")
    register_no = world.case(case_id).register_no

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.open_from_inbox(register_no)
    ver.act("start_verification")
    ver.act("request_data", message="Siapa, kapan, dan di mana?")
    assert ver.status() == "awaiting_data"
    assert ver.status_label() == label(Status.AWAITING_DATA, "id")
    due = world.case(case_id).due_on
    assert due is not None and ver.page.inner_text("#deadline").startswith(due.isoformat())

    # Time passes: the background sweep runs on the deadline's evening (too early), then the
    # next morning.
    assert sweep.run(world.factory, now=at_local(due, 20), send_mail=False).archived == 0
    assert sweep.run(world.factory, now=at_local(due + timedelta(days=1), 7), send_mail=False).archived == 1

    # Archived cases leave the default (open) inbox; the archived filter lists it.
    ver.page.goto(live + "/officer/cases")
    assert register_no not in ver.page.content()
    ver.page.goto(live + "/officer/cases?status=archived")
    row = ver.page.locator(f"tr.case-row[data-case='{case_id}']")
    assert row.count() == 1 and label(Status.ARCHIVED, "id") in row.inner_text()
    row.locator("a").click()
    ver.page.wait_for_load_state("load")
    assert ver.status() == "archived"
    assert ver.status_label() == label(Status.ARCHIVED, "id")
    # read-only: no action, checklist or message form left on the page
    assert ver.page.locator("form.action").count() == 0
    assert ver.page.locator("#actions, #checklist-form, #message-form").count() == 0
    assert ver.page.locator("#late").count() == 0
    archive_notice = SPECS[Action.AUTO_ARCHIVE].notice
    assert archive_notice is not None
    thread = ver.page.inner_text("ol.thread")
    assert "Siapa, kapan, dan di mana?" in thread and archive_notice.get("id") in thread
    assert "auto_archive" in ver.page.inner_text("#events")
    ver.close()

    view = reporter_sees(world, ticket)
    assert view.status == "archived" and view.read_only
    assert view.status_label == label(Status.ARCHIVED, "id")
    assert view.messages[-1].author == "system"
    assert archive_notice.get("id") in view.messages[-1].body  # why it was archived
    assert archive_notice.get("en") in view.messages[-1].body
    assert any("Siapa, kapan, dan di mana?" in m.body for m in view.messages)


def test_external_referral_through_the_officer_pages(app: Flask, live: str, browser: object, office) -> None:
    world, secrets = office
    ref = "Kepolisian Resor Kota, LP/123/2026"
    case_id, ticket = world.file(category=Category.LAW_VIOLATION, what="Penipuan oleh oknum swasta.")
    register_no = world.case(case_id).register_no

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.open_from_inbox(register_no)
    ver.act("start_verification")
    assert ver.page.locator("#external-ref").count() == 0
    ver.act("refer_external", external_ref=ref)
    assert ver.status() == "referred_external"
    assert ver.status_label() == label(Status.REFERRED_EXTERNAL, "id")
    assert ver.page.inner_text("#external-ref").strip() == ref
    assert ver.page.locator("#late").count() == 0  # no deadline while another agency handles it
    assert [f.get_attribute("id") for f in ver.page.locator("form.action").all()] == ["action-close"]
    ver.act("close")
    assert ver.status() == "closed"
    assert ver.status_label() == label(Status.CLOSED, "id")
    assert ver.page.inner_text("#external-ref").strip() == ref  # the reference stays on the case
    assert ver.page.locator("form.action").count() == 0
    history = ver.page.inner_text("#events")
    assert "refer_external" in history and "close" in history
    ver.close()

    referral = plan_transition(Status.VERIFICATION, Action.REFER_EXTERNAL, Role.VERIFIKATOR,
                               {"external_ref": ref}).reporter_notice
    assert referral is not None
    for lang in ("id", "en"):
        view = reporter_sees(world, ticket, lang)
        assert view.status == "closed" and view.status_label == label(Status.CLOSED, lang)
        assert any(referral.get(lang) in m.body for m in view.messages if m.author == "system")
