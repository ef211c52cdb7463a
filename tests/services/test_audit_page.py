"""The auditor's audit page shows the log's current signed head (a head the CLI accepts), and
names the first bad entry when asked to verify a tampered log."""
from __future__ import annotations

import html as html_lib
import re

from flask import Flask
from sqlalchemy import select, text

from tests.web.officer_login import Clock, clock, enrol, login_as  # noqa: F401
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import AuditEntry
from whistle.services.custody import audit, audit_head
from whistle.web.state import state


def head_on(page: str) -> audit_head.SignedHead:
    block = re.search(r'<pre class="audit-head">(.*?)</pre>', page, re.S)
    assert block is not None, page[:2000]
    return audit_head.parse(html_lib.unescape(block.group(1)))


def test_auditor_sees_the_signed_head(app: Flask, clock: Clock) -> None:
    audra = enrol(app, "audra", Role.AUDITOR, None)
    client = app.test_client()
    login_as(client, audra, clock)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Kepala log bertanda tangan" in page and "Sidik jari kunci tanda tangan" in page
    keys = audit.AuditKeys.from_secrets(state(app).secrets)  # the instance's own key
    assert audit_head.fingerprint(audit_head.public_key_bytes(keys)) in page
    head = audit_head.check(head_on(page), keys)
    with transaction(state(app).db) as db:
        assert audit_head.verify_against(db, head).ok
        last = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    assert head.entries > 0 and head.last_id == last  # the log-in was audited

    assert client.get("/officer/login?lang=en").status_code == 303  # choose English
    english = client.get("/admin/audit").get_data(as_text=True)
    assert "Signed head" in english and "Signing key fingerprint" in english


def test_verify_on_the_page_names_the_first_bad_entry(app: Flask, clock: Clock) -> None:
    audra = enrol(app, "audra", Role.AUDITOR, None)
    client = app.test_client()
    login_as(client, audra, clock)
    with transaction(state(app).db) as db:
        first = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id).limit(1))
        db.execute(text("UPDATE audit_log SET detail = 'x' WHERE id = :i"), {"i": first})
    page = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert f"Rantai RUSAK pada entri {first}" in page and "entri diubah, atau dirantai dengan kunci lain" in page
