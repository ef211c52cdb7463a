"""The production path of issue 10, run here: Tor with the shipped torrc (offline), two whistle
hosts (gunicorn with the shipped config, 2 workers each) sharing PostgreSQL, Redis and the
attachment store, and nginx with the shipped site config in front of host A.

What a reporter or an attacker would notice is checked: a visitor moving between hosts keeps
their session, the per-ticket guessing limit counts across hosts, the clearnet site offers the
onion, and nginx writes no address or user agent anywhere.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import crypto
from tests.conftest import PG_URL, REDIS_URL, pg_schema
from tests.production.browserless import Browser, Reply
from tests.production.conftest import (
    Deployment,
    Service,
    free_port,
    make_deployment,
    need,
    need_binary,
    port_open,
    seed_office,
    start_gunicorn,
    wait_until,
)
from tests.production.fronts import (
    ONION_HOST,
    onion_address,
    relocated_nginx,
    relocated_torrc,
    tor_argv,
    verify_config,
)

UA = "Mozilla/5.0 (canary-agent-7f3c) Gecko/20100101"
FAKE_XFF = "203.0.113.77"
OFFICER = "verif.prod"
WHAT = "Kepala seksi meminta uang pelicin sebelum menandatangani izin usaha kami."
EVIDENCE = b"kuitansi pungutan liar no. 4471, Rp 2.500.000"


def _tor_warnings(log: str) -> list[str]:
    """[warn] lines other than the expected ones (running as root in CI; non-anonymous mode)."""
    allowed = ("running Tor as root", "NON-ANONYMOUS", "non-anonymous mode", "NO ANONYMITY")
    return [ln for ln in log.splitlines() if "[warn]" in ln and not any(a in ln for a in allowed)]


# -- Tor ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["torrc", "torrc-single-hop"])
def test_tor_accepts_every_shipped_torrc(name: str, tmp_path: Path) -> None:
    tor = need_binary("tor")
    shipped = (Path(__file__).resolve().parents[2] / "deploy" / name).read_text()
    assert re.search(r"^HiddenServicePoWDefensesEnabled 1$", shipped, re.M)
    assert re.search(r"^HiddenServiceVersion 3$", shipped, re.M)
    if name == "torrc-single-hop":
        assert re.search(r"^HiddenServiceSingleHopMode 1$", shipped, re.M)
        assert re.search(r"^HiddenServiceNonAnonymousMode 1$", shipped, re.M)
    else:
        assert not re.search(r"^\s*HiddenService(SingleHop|NonAnonymous)Mode", shipped, re.M)
    done = verify_config(tor, relocated_torrc(name, tmp_path, 8080), tmp_path)
    assert done.returncode == 0 and "Configuration was valid" in done.stdout, done.stdout
    assert _tor_warnings(done.stdout) == []


def test_tor_verify_config_refuses_a_broken_single_hop_variant(tmp_path: Path) -> None:
    """The check has teeth: single-hop without `SocksPort 0` is what tor refuses."""
    tor = need_binary("tor")
    path = relocated_torrc("torrc-single-hop", tmp_path, 8080)
    path.write_text(path.read_text().replace("SocksPort 0\n", ""))
    done = verify_config(tor, path, tmp_path)
    assert done.returncode != 0 and "HiddenServiceNonAnonymousMode" in done.stdout


@pytest.mark.parametrize("name", ["torrc", "torrc-single-hop"])
def test_tor_starts_offline_and_writes_the_onion_hostname_and_keys(
        name: str, tmp_path: Path, services: list[Service]) -> None:
    tor = need_binary("tor")
    torrc = relocated_torrc(name, tmp_path, 8080)
    svc = Service(f"tor-{name}", tor_argv(tor, torrc, tmp_path, "--DisableNetwork", "1"),
                  {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
                  tmp_path / "tor.stdout").start()
    services.append(svc)
    hs = tmp_path / "hs"
    wait_until("the onion hostname", lambda: (hs / "hostname").is_file()
               and (hs / "hs_ed25519_secret_key").is_file(), 60, svc)
    hostname = (hs / "hostname").read_text().strip()
    assert re.fullmatch(r"[a-z2-7]{56}\.onion", hostname)
    assert hostname == onion_address(hs / "hs_ed25519_public_key")  # key and name agree
    assert stat.S_IMODE(hs.stat().st_mode) == 0o700
    assert stat.S_IMODE((hs / "hs_ed25519_secret_key").stat().st_mode) == 0o600
    time.sleep(0.5)  # let it log whatever it objects to
    log = (tmp_path / "tor.log").read_text()
    assert svc.alive() and "DisableNetwork is set" in log
    assert _tor_warnings(log) == []


# -- two hosts, Redis, nginx ------------------------------------------------------------------

@dataclass
class Stack:
    dep: Deployment
    onion: str
    nginx_https: int
    nginx_http: int
    nginx_logs: Path
    officer: tuple[str, str, str]  # passphrase, totp secret, username

    @property
    def a(self) -> int:
        return self.dep.hosts[0].port

    @property
    def b(self) -> int:
        return self.dep.hosts[1].port


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need(bool(PG_URL), "WHISTLE_TEST_PG_URL not set (run ./test.sh)")
    need(bool(REDIS_URL), "WHISTLE_TEST_REDIS_URL not set (run ./test.sh)")
    tor, nginx = need_binary("tor"), need_binary("nginx")
    tmp = tmp_path_factory.mktemp("production")
    started: list[Service] = []
    try:
        with pg_schema(PG_URL) as db_url:
            # Tor first: its onion hostname is what the clearnet site must offer.
            folder = tmp / "tor"
            port_a = free_port()
            torrc = relocated_torrc("torrc", folder, port_a)
            tor_svc = Service("tor", tor_argv(tor, torrc, folder, "--DisableNetwork", "1"),
                              {"PATH": os.environ.get("PATH", ""), "HOME": str(folder)},
                              folder / "tor.stdout").start()
            started.append(tor_svc)
            wait_until("onion hostname", lambda: (folder / "hs" / "hostname").is_file(), 60, tor_svc)
            onion = (folder / "hs" / "hostname").read_text().strip()

            dep = make_deployment(tmp, "pg", 2, db_url, REDIS_URL,
                                  {"WHISTLE_ONION_LOCATION": f"http://{onion}"})
            dep.hosts[0].port = port_a
            officer = seed_office(dep, OFFICER)
            for host in dep.hosts:
                start_gunicorn(host, started, tmp)

            prefix = tmp / "nginx"
            https, http = free_port(), free_port()
            conf = relocated_nginx(prefix, port_a, https, http, as_root=os.geteuid() == 0)
            check = subprocess.run([nginx, "-p", str(prefix), "-c", str(conf), "-t"],
                                   capture_output=True, text=True, timeout=30)
            assert check.returncode == 0 and "test is successful" in check.stderr, check.stderr
            ngx = Service("nginx", [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                          {"PATH": os.environ.get("PATH", "")}, tmp / "nginx.stdout").start()
            started.append(ngx)
            wait_until("nginx", lambda: port_open(https) and port_open(http), 30, ngx)
            yield Stack(dep, onion, https, http, prefix / "logs", officer)
    finally:
        for s in reversed(started):
            s.stop(grace=5)


def file_report(port: int, what: str = WHAT, files: list[tuple[str, bytes, str]] | None = None
                ) -> tuple[Browser, str, str]:
    """A reporter files on ``port``; returns (their browser, ticket, register number)."""
    b = Browser(port, user_agent=UA)
    form = b.get("/lapor")
    assert form.status == 200
    fields = {"csrf_token": form.csrf(), "kind": "complaint", "category": "abuse_of_authority",
              "who": "Kepala Seksi Perizinan", "who_position": "Kepala Seksi", "what": what,
              "when": "Maret 2026", "where": "Kantor Pelayanan", "how": "Tunai di ruangannya.",
              "anonymity": "anonymous"}
    filed = b.post_multipart("/lapor", fields, files)
    assert filed.status == 303, filed.text[:500]
    page = b.get("/lapor/tiket")
    ticket = page.ticket()
    assert ticket is not None
    register = re.search(r"WBS-\d{4}-[0-9A-Z]{6}", page.text)
    assert register
    return b, ticket, register.group(0)


def ticket_login(port: int, ticket: str) -> tuple[Browser, Reply]:
    b = Browser(port, user_agent=UA)
    token = b.get("/masuk").csrf()
    return b, b.post("/masuk", {"csrf_token": token, "ticket": ticket})


def test_reporter_files_on_a_logs_in_on_b_replies_on_a(stack: Stack) -> None:
    reporter, ticket, register = file_report(stack.a, files=[("kuitansi.txt", EVIDENCE, "text/plain")])
    # The ticket page's session lives in Redis: a reload that lands on host B shows it too.
    reporter.port = stack.b
    assert reporter.get("/lapor/tiket").ticket() == ticket

    visitor, login = ticket_login(stack.b, ticket)
    assert login.status == 303 and login.headers["Location"].endswith("/laporan")
    case_b = visitor.get("/laporan")
    assert case_b.status == 200 and register in case_b.text and "kuitansi.txt" in case_b.text

    visitor.port = stack.a  # the next request goes to the other host
    token = visitor.get("/laporan").csrf()
    reply = visitor.post_multipart("/laporan", {"csrf_token": token,
                                                "body": "Saya punya bukti tambahan di kantor."})
    assert reply.status == 303, reply.text[:300]
    visitor.port = stack.b
    assert "Saya punya bukti tambahan di kantor." in visitor.get("/laporan").text


def test_officer_session_survives_moving_between_hosts(stack: Stack) -> None:
    from tests.web.officer_login import code_for
    from whistle.services.people import accounts

    _, _, register = file_report(stack.a, what="Pungutan liar di loket pelayanan perizinan B.")
    passphrase, secret, username = stack.officer
    officer = Browser(stack.a, user_agent=UA)
    token = officer.get("/officer/login").csrf()
    done = officer.post("/officer/login", {"csrf_token": token, "username": username,
                                           "passphrase": passphrase,
                                           "code": code_for(secret, accounts.now())})
    assert done.status == 303, done.text[:500]
    officer.port = stack.b  # unsealed team keys travel in the Redis session, not the host
    inbox = officer.get("/officer/cases")
    assert inbox.status == 200 and "Pungutan liar di loket pelayanan perizinan B." in inbox.text
    case_path = re.search(r'href="(/officer/cases/[0-9a-f]{32})">' + register, inbox.text)
    assert case_path, inbox.text
    officer.port = stack.a
    page = officer.get(case_path.group(1))
    assert page.status == 200 and register in page.text
    assert "Pungutan liar di loket pelayanan perizinan B." in page.text  # decrypted on A


def test_per_ticket_login_limit_holds_across_hosts(stack: Stack) -> None:
    """Ten attempts an hour on one ticket (WHISTLE_RATELIMIT_TICKET default), counted in Redis
    for both hosts: five on A and five on B use it up, then both refuse."""
    guessed = crypto.new_ticket()  # well formed, so every attempt counts against its lookup id
    for i in range(10):
        _, r = ticket_login(stack.a if i % 2 == 0 else stack.b, guessed)
        assert r.status == 422, (i, r.status)
    for port in (stack.a, stack.b):
        _, r = ticket_login(port, guessed)
        assert r.status == 429, r.status
    _, other = ticket_login(stack.b, crypto.new_ticket())  # per ticket, not global
    assert other.status == 422


def test_nginx_offers_the_onion_and_logs_no_address_or_agent(stack: Stack) -> None:
    clear = Browser(stack.nginx_https, host_header=ONION_HOST, tls=True, user_agent=UA,
                    extra_headers={"X-Forwarded-For": FAKE_XFF})
    for path in ("/", "/lapor", "/masuk"):
        r = clear.get(path)
        assert r.status == 200, (path, r.status)
        assert r.headers["Onion-Location"] == f"http://{stack.onion}{path}"
        assert r.headers["Strict-Transport-Security"] == "max-age=63072000"
        assert r.headers.get("Server", "nginx") == "nginx"  # server_tokens off: no version
    # the clearnet form works through the proxy (cookies, CSRF, multipart)
    token = clear.get("/lapor").csrf()
    filed = clear.post_multipart("/lapor", {"csrf_token": token, "kind": "complaint",
                                            "category": "maladministration", "who": "Petugas loket",
                                            "what": "Berkas saya ditahan tanpa alasan.",
                                            "anonymity": "anonymous"})
    assert filed.status == 303, filed.text[:300]
    assert clear.get("/lapor/tiket").ticket() is not None
    plain = Browser(stack.nginx_http, host_header=ONION_HOST, user_agent=UA).get("/lapor")
    assert plain.status == 301 and plain.headers["Location"] == f"https://{ONION_HOST}/lapor"
    # The onion side itself is never told to go to the onion.
    onion = Browser(stack.a, host_header=stack.onion, user_agent=UA).get("/")
    assert onion.status == 200 and "Onion-Location" not in onion.headers

    access = (stack.nginx_logs / "whistle-access.log").read_text()
    lines = access.splitlines()
    assert len(lines) >= 7, access  # the requests above were logged, just without who made them
    assert all(re.fullmatch(r"\S+ (GET|POST) \d{3} \d+ [\d.]+", ln) for ln in lines), access
    everything = "".join(p.read_text(errors="replace") for p in stack.nginx_logs.iterdir())
    for leak in ("127.0.0.1", UA, "canary-agent", FAKE_XFF, "/lapor", "client:"):
        assert leak not in everything, leak
    assert (stack.nginx_logs / "combined-access.log").read_text() == ""
    # nor does whistle on the host behind it (gunicorn's stderr and the app's log folder)
    host = stack.dep.hosts[0]
    app_logs = [p for p in host.logs.rglob("*") if p.is_file()]
    assert host.service is not None
    app_logs.append(host.service.log)
    for p in app_logs:
        text = p.read_text(errors="replace")
        assert UA not in text and FAKE_XFF not in text and "canary-agent" not in text, p
