"""Issue 9's hand-offs end to end through the pages in headless Chromium with JavaScript off:
telaah, reclassification, copies to other agencies, a unit sending a case back (and losing
it), the PYB referring to the Inspectorate, a unit escalating to the PYB, the reported person's
statement, the unit path that now closes; and the reporter's procedure page and printed copy.

States are read from stable ids and data attributes; status labels through `label`."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.test_officer_cases_browser import Desk, office, reporter_sees  # noqa: F401
from tests.web.cases_world import World
from whistle.domain.constants import Category, Kind, Status, label
from whistle.domain.procedure import SCOPE

pytestmark = pytest.mark.browser


def act(desk: Desk, action: str, **fields: str) -> None:
    """Fill one action form as an officer would: selects, radio buttons, a checkbox, text."""
    form = f"form#action-{action}"
    for name, value in fields.items():
        radio = desk.page.locator(f"{form} input[type=radio][name={name}][value='{value}']")
        box = desk.page.locator(f"{form} input[type=checkbox][name={name}]")
        if radio.count():
            radio.check()
        elif box.count():
            box.check() if value else box.uncheck()
        elif desk.page.locator(f"{form} select[name={name}]").count():
            desk.page.select_option(f"{form} select[name={name}]", value)
        else:
            desk.page.fill(f"{form} [name={name}]", value)
    desk.page.click(f"{form} button[type=submit]")
    desk.page.wait_for_load_state("load")
    assert desk.page.locator("#done").count() == 1, desk.page.content()[:3000]


def test_telaah_reclassify_copy_return_and_pyb_referral(app: Flask, live: str, browser: object, office) -> None:  # noqa: F811
    world, secrets = office
    case_id, ticket = world.file(category=Category.ETHICS_CODE, kind=Kind.WHISTLEBLOWING,
                                 what="Petugas loket meminta biaya tambahan untuk izin.")
    register_no = world.case(case_id).register_no

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.open_from_inbox(register_no)
    ver.act("start_verification")
    act(ver, "record_telaah", classification="violation", subject="Petugas loket perizinan",
        object="Pungutan di luar tarif", confidential_handling="1")
    assert ver.page.get_attribute("#classification", "data-code") == "violation"
    assert ver.page.inner_text("#telaah-subject").strip() == "Petugas loket perizinan"
    assert ver.page.locator("#confidential-handling").count() == 1
    act(ver, "reclassify", kind="complaint", category="maladministration",
        grounds="Pelayanan, bukan pelanggaran etik.")
    assert world.case(case_id).kind == "complaint" and world.case(case_id).category == "maladministration"
    act(ver, "copy_external", agency="Ombudsman RI Perwakilan NTT", copy_ref="ORI-2026-77")
    act(ver, "copy_external", agency="Inspektorat Provinsi", copy_ref="INSP/12/2026", disclose="1")
    copies = ver.page.inner_text("#copies-list")
    assert "ORI-2026-77" in copies and "INSP/12/2026" in copies
    assert ver.status() == "verification"  # copies leave the case in our workflow
    ver.act("forward_unit", unit_id=str(world.units["KANWIL"]))
    assert ver.status() == "forwarded_unit"

    kw = Desk(browser, live, world, "pk_kw", secrets["pk_kw"])
    kw.open_from_inbox(register_no)
    act(kw, "return_to_verification", grounds="Di luar kewenangan kantor wilayah.")
    assert kw.page.url.split("?")[0].endswith("/officer/cases")  # back to the inbox ...
    assert register_no not in kw.page.content()  # ... which no longer lists the case
    resp = kw.page.goto(live + f"/officer/cases/{case_id}")
    assert resp is not None and resp.status == 404
    kw.close()

    ver.open_from_inbox(register_no)
    assert ver.status() == "verification"
    ver.act("forward_pyb")
    ver.close()

    pyb = Desk(browser, live, world, "pyb", secrets["pyb"])
    pyb.open_from_inbox(register_no)
    act(pyb, "refer_external", external_ref="Inspektorat Jenderal melalui WISE, WISE-2026-0042")
    assert pyb.status() == "referred_external"
    assert pyb.page.inner_text("#external-ref").strip().endswith("WISE-2026-0042")
    pyb.act("close")
    assert pyb.status() == "closed" and pyb.status_label() == label(Status.CLOSED, "id")
    history = pyb.page.inner_text("#events")
    for step in ("record_telaah", "reclassify", "copy_external", "return_to_verification",
                 "forward_pyb", "refer_external", "close"):
        assert step in history, step
    pyb.close()

    bodies = "\n".join(m.body for m in reporter_sees(world, ticket).messages)
    assert "WISE-2026-0042" in bodies and "dikembalikan kepada petugas verifikasi" in bodies
    assert "Inspektorat Provinsi" in bodies and "Ombudsman" not in bodies  # told only when disclosed
    assert "Di luar kewenangan" not in bodies and "Pelayanan, bukan" not in bodies
    assert "Petugas loket perizinan" not in bodies  # the telaah stays with the handlers


def test_escalation_statement_and_the_unit_path_to_the_archive(app: Flask, live: str, browser: object, office) -> None:  # noqa: F811
    world, secrets = office
    escalated, ticket = world.file(category=Category.POOR_PUBLIC_SERVICE, kind=Kind.COMPLAINT,
                                   what="Antrean dipungut biaya oleh petugas.")
    unit_only, _ = world.file(category=Category.POOR_PUBLIC_SERVICE, kind=Kind.COMPLAINT,
                              what="Loket tutup lebih awal setiap Jumat.")
    reg_e, reg_u = world.case(escalated).register_no, world.case(unit_only).register_no

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    for reg in (reg_e, reg_u):
        ver.open_from_inbox(reg)
        ver.act("start_verification")
        ver.act("forward_unit", unit_id=str(world.units["KANWIL"]))
    ver.close()

    kw = Desk(browser, live, world, "pk_kw", secrets["pk_kw"])
    kw.open_from_inbox(reg_e)
    kw.act("unit_investigate", tier="14")
    act(kw, "escalate_to_pyb", grounds="Pungutan oleh petugas: pelanggaran disiplin.")
    assert kw.status() == "forwarded_pyb"
    kw.open_from_inbox(reg_u)
    kw.act("unit_investigate", tier="5")
    kw.act("conclude_unsubstantiated")  # the outcome goes to the PYB with the key
    assert kw.status() == "unsubstantiated"
    kw.close()

    pyb = Desk(browser, live, world, "pyb", secrets["pyb"])
    pyb.open_from_inbox(reg_u)  # before issue 9 the PYB never saw this case
    pyb.act("close")
    assert pyb.status() == "closed"
    pyb.open_from_inbox(reg_e)
    pyb.act("dispose_to_pengkaji", unit_id=str(world.units["PUSAT"]), tier="60")
    assert pyb.status() == "investigation"

    pk = Desk(browser, live, world, "pk", secrets["pk"])
    pk.open_from_inbox(reg_e)
    act(pk, "record_statement", statement="Terlapor menyatakan biaya itu sukarela.")
    assert "Terlapor menyatakan biaya itu sukarela." in pk.page.inner_text("#statements-list")
    assert pk.status() == "investigation"
    pk.act("conclude_substantiated", sanction="Teguran tertulis")
    pk.close()

    pyb.open_from_inbox(reg_e)
    assert "Terlapor menyatakan" in pyb.page.inner_text("#statements-list")
    pyb.act("close")
    assert pyb.status() == "closed"
    pyb.close()

    bodies = "\n".join(m.body for m in reporter_sees(world, ticket).messages)
    assert "Terlapor menyatakan" not in bodies and "pelanggaran disiplin" not in bodies
    assert "laporan Anda terbukti" in bodies


def test_the_reporter_reads_the_procedure_and_prints_a_copy(app: Flask, live: str, browser: object, office) -> None:  # noqa: F811
    world: World = office[0]
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})  # type: ignore[attr-defined]
    page = ctx.new_page()
    page.goto(live + "/")
    page.click("#procedure-link")
    assert page.url.endswith("/tata-cara")
    assert SCOPE.id in page.inner_text("#scope")
    assert label(Status.AWAITING_DATA, "id") in page.inner_text("#step-awaiting_data")
    assert "10 hari kerja" in page.inner_text("#step-awaiting_data")
    assert page.locator("#channels li").count() == 10
    # File through the form, which states the scope and asks for the position after the name.
    page.click("a[href='/lapor']")
    assert SCOPE.id in page.inner_text("#scope")
    page.check("input[name=kind][value=complaint]")
    page.select_option("select[name=category]", "maladministration")
    page.select_option("select[name=unit]", str(world.units["PUSAT"]))
    page.fill("#who", "Petugas loket")
    page.fill("#who_position", "Pelaksana loket perizinan CETAK-JABATAN")
    page.fill("#what", "Meminta uang pelicin untuk izin usaha CETAK-TANDA.")
    page.check("input[name=anonymity][value=anonymous]")
    page.click("form[action='/lapor'] button[type=submit]")
    assert page.url.endswith("/lapor/tiket"), page.content()[:2000]
    groups = page.locator(".ticket .group").all_inner_texts()
    ticket = "-".join(groups)
    page.fill("#typed", groups[-1])
    page.click("form[action='/lapor/tiket'] button[type=submit]")
    assert page.url.endswith("/laporan")
    page.click("#print-link")
    assert page.url.endswith("/laporan/cetak")
    assert "CETAK-TANDA" in page.inner_text("#copy-fields") and "CETAK-JABATAN" in page.inner_text("#copy-fields")
    assert page.locator("#print-warning").is_visible()
    assert ticket not in page.content()
    page.click("#show-identity")
    assert page.locator("#identity-section").count() == 1
    # The print stylesheet: navigation and links to act are gone on paper, the copy stays.
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    assert not page.locator("p.no-print").first.is_visible()
    assert page.locator("#copy-fields").is_visible() and page.locator("#print-warning").is_visible()
    pdf_ctx = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    pdf_page = pdf_ctx.new_page()
    pdf_page.goto(live + "/masuk")
    pdf_page.fill("#ticket", ticket)
    pdf_page.click("form[action='/masuk'] button[type=submit]")
    pdf_page.goto(live + "/laporan/cetak")
    assert pdf_page.pdf()[:5] == b"%PDF-"  # Chromium prints it
    pdf_ctx.close()
    ctx.close()
