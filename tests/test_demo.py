"""``whistle demo``: a seeded trial instance on loopback, with a DEMO banner, that takes a web
report and lets the demo verifikator find it in the inbox."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.web.officer_login import Clock, clock, login  # noqa: F401


def _run(*args: str) -> object:
    from whistle.cli import cli

    return CliRunner().invoke(cli, ["demo", *args])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "example.org", "::"])
def test_refuses_any_address_but_loopback(host: str, tmp_path: Path) -> None:
    result = _run("--host", host, "--instance", str(tmp_path / "d"), "--no-serve")
    assert result.exit_code != 0 and "loopback" in result.output
    assert not (tmp_path / "d").exists()


def test_never_touches_a_real_instance(instance_dir: Path) -> None:
    result = _run("--instance", str(instance_dir), "--no-serve")
    assert result.exit_code != 0 and "not a demo instance" in result.output
    assert not (instance_dir / "DEMO").exists()


def test_demo_path_from_nothing_to_a_report_in_the_inbox(tmp_path: Path, clock: Clock,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inst = tmp_path / "instance-demo"
    result = _run("--instance", str(inst), "--no-serve")
    assert result.exit_code == 0, result.output
    assert "demo-verifikator" in result.output and "DEMO" in result.output
    assert "trial" in (inst / "DEMO").read_text()
    people = {p["username"]: p for p in json.loads((inst / "demo-accounts.json").read_text())}
    assert set(people) >= {"demo-verifikator", "demo-pyb", "demo-uki", "demo-penerima", "demo-admin"}
    assert (inst / "demo-accounts.json").stat().st_mode & 0o077 == 0
    again = _run("--instance", str(inst), "--no-serve")  # idempotent: same accounts
    assert again.exit_code == 0 and people["demo-pyb"]["passphrase"] in again.output

    from whistle.app import create_app

    app = create_app({"instance_dir": inst, "testing": True, "ratelimit_storage_uri": "memory://"})
    c = app.test_client()
    landing = c.get("/").get_data(as_text=True)
    assert 'id="demo-banner"' in landing
    from tests.web.reporter_helpers import file_report, good_form

    ticket, page = file_report(app.test_client(), good_form(what="Uji coba demo: pungutan di loket."))
    assert ticket and page.status_code == 200
    ident, _ = file_report(app.test_client(), good_form(
        anonymity="confidential", name="Siti Demo", phone="0812000000"))
    assert ident  # the custodian teams exist: a report with an identity is accepted too
    ver = people["demo-verifikator"]
    resp = login(c, ver["username"], ver["passphrase"], ver["totp"], clock)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    inbox = c.get("/officer/cases")
    html = inbox.get_data(as_text=True)
    assert inbox.status_code == 200 and 'id="demo-banner"' in html
    assert html.count("WBS-") >= 2  # both reports wait in the demo verifikator's inbox
