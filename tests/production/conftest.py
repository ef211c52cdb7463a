"""The production path, started for real: PostgreSQL and Redis (from ./test.sh), whistle under
gunicorn with the shipped deploy/gunicorn.conf.py on loopback ports standing for hosts, Tor with
the shipped torrc (offline), nginx with the shipped site config.

Every process is started in its own process group and killed with its children in a
``finally``; every wait is bounded; each test has a hard time limit (SIGALRM). Only loopback
traffic. In CI (CI=true) a missing tor, nginx, PostgreSQL or Redis fails the test.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests.conftest import IN_CI, PG_URL, REDIS_URL, pg_schema

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
DEFAULT_LIMIT = 240  # seconds per test unless marked time_limit(n)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "production: starts real servers (gunicorn, tor, nginx)")
    config.addinivalue_line("markers", "time_limit(seconds): hard limit for one test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.production)
            item.add_marker(pytest.mark.slow)


class HardLimit(BaseException):
    """Raised in the main thread when a test overruns its limit (BaseException: no test code
    may swallow it), so that every ``finally`` still stops what the test started."""


@pytest.fixture(autouse=True)
def _hard_time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("time_limit")
    seconds = int(marker.args[0]) if marker else DEFAULT_LIMIT

    def overrun(_sig: int, _frame: FrameType | None) -> None:
        raise HardLimit(f"{request.node.nodeid} ran over its {seconds} s limit")

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def need(ok: bool, why: str) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(why + " (required in CI)")
    pytest.skip(why)


def need_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    need(path is not None, f"{name} is not installed (apt-get install -y {name}; ./test.sh does)")
    assert path is not None
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout: float,
               service: Service | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if service is not None and not service.alive():
            raise AssertionError(f"{service.name} exited early:\n{service.log_tail()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                         + (f"\n{service.log_tail()}" if service else ""))


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# -- processes ---------------------------------------------------------------------------

@dataclass
class Service:
    """A process we started, in its own process group (so its children die with it)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        """Direct children (gunicorn's workers) from /proc."""
        kids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.pid:
                kids.append(int(entry))
        return kids

    def kill_hard(self) -> None:
        """SIGKILL the whole process group, as a power cut or the OOM killer would."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        try:  # stragglers of the group (a worker, a cleaning child)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Register every Service here: all are stopped at the end, whatever happened."""
    started: list[Service] = []
    try:
        yield started
    finally:
        for s in reversed(started):
            s.stop(grace=5)


# -- a whistle deployment ----------------------------------------------------------------

@dataclass
class Host:
    name: str
    port: int
    instance: Path
    env: dict[str, str]
    service: Service | None = None

    @property
    def work(self) -> Path:
        return Path(self.env["WHISTLE_WORK_DIR"])

    @property
    def logs(self) -> Path:
        return Path(self.env["WHISTLE_LOG_DIR"])


@dataclass
class Deployment:
    db_url: str
    storage: Path
    hosts: list[Host]
    teams: dict[str, Any] = field(default_factory=dict)  # role -> TeamWithKey
    unit_id: int = 0

    def settings(self, host: Host) -> dict[str, Any]:
        """create_app overrides for an in-process app on the same data as ``host``."""
        return {"instance_dir": host.instance, "database_url": self.db_url,
                "storage_dir": self.storage, "work_dir": host.instance / "test-work",
                "log_dir": host.instance / "test-logs"}


def base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("LANG", "C.UTF-8")
    return env


def whistle_init(env: dict[str, str], log: Path) -> None:
    """`whistle init`: secrets, schema (Alembic upgrade), first admin; as an operator runs it."""
    with open(log, "ab") as out:
        subprocess.run([str(BIN / "whistle"), "init"], env=env, cwd=ROOT, stdout=out,
                       stderr=subprocess.STDOUT, timeout=120, check=True)


def start_gunicorn(host: Host, services: list[Service], log_dir: Path) -> Service:
    argv = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "-b", f"127.0.0.1:{host.port}", "whistle.app:create_app()"]
    service = Service(f"gunicorn-{host.name}", argv, host.env, log_dir / f"gunicorn-{host.name}.log")
    service.start()
    services.append(service)
    host.service = service
    wait_until(f"gunicorn {host.name} on :{host.port}", lambda: healthy(host.port), 90, service)
    return service


def healthy(port: int) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def make_deployment(tmp: Path, backend: str, hosts: int, db_url: str, redis_url: str,
                    extra_env: dict[str, str] | None = None) -> Deployment:
    """Instances for ``hosts`` hosts sharing the database, the attachment store, the secrets
    and (on PostgreSQL) Redis for sessions and limits; each its own work and log folders."""
    storage = tmp / "shared-attachments"
    prefix = "p" + os.urandom(4).hex()
    made: list[Host] = []
    for i in range(hosts):
        name = "AB"[i]
        instance = tmp / f"host-{name}" / "instance"
        env = base_env() | {
            "WHISTLE_INSTANCE_DIR": str(instance), "WHISTLE_DATABASE_URL": db_url,
            "WHISTLE_STORAGE_DIR": str(storage),
            "WHISTLE_WORK_DIR": str(tmp / f"host-{name}" / "work"),
            "WHISTLE_LOG_DIR": str(tmp / f"host-{name}" / "logs"),
        }
        if backend == "pg":
            env |= {"WHISTLE_SESSION_BACKEND": "redis", "WHISTLE_REDIS_URL": redis_url,
                    "WHISTLE_RATELIMIT_STORAGE_URI": redis_url,
                    "WHISTLE_RATELIMIT_KEY_PREFIX": prefix}
        env |= extra_env or {}
        made.append(Host(name, free_port(), instance, env))
    first = made[0]
    first.instance.parent.mkdir(parents=True)
    whistle_init(first.env, tmp / "init.log")
    for other in made[1:]:  # every host gets the same secrets (deploy/README.md)
        other.instance.mkdir(parents=True, mode=0o700)
        shutil.copytree(first.instance / "secrets", other.instance / "secrets")
    return Deployment(db_url, storage, made)


def seed_office(dep: Deployment, make_officer_for: str | None = None) -> Any:
    """One unit with verifikator, UKI and PYB teams (keys kept by the test). Optionally an
    enrolled verifikator officer ready to log in; returns (passphrase, totp secret, username)."""
    from tests.factories import make_officer, make_team, make_unit
    from tests.web.officer_login import make_login_ready
    from whistle.app import create_app
    from whistle.db import transaction
    from whistle.web.state import state

    app = create_app(dep.settings(dep.hosts[0]))
    try:
        with transaction(state(app).db) as db:
            unit = make_unit(db, "PUSAT", "Unit Pusat")
            dep.unit_id = unit.id
            for role in ("verifikator", "uki", "pyb"):
                dep.teams[role] = make_team(db, unit, role)
            if make_officer_for is None:
                return None
            officer = make_officer(db, unit, "verifikator", make_officer_for,
                                   teams=(dep.teams["verifikator"],))
            secret = make_login_ready(db, officer.officer, app)
            return officer.passphrase, secret, make_officer_for
    finally:
        state(app).engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    need(bool(PG_URL), "WHISTLE_TEST_PG_URL not set (run ./test.sh)")
    with pg_schema(PG_URL) as url:
        yield url


@pytest.fixture
def redis_server_url() -> str:
    need(bool(REDIS_URL), "WHISTLE_TEST_REDIS_URL not set (run ./test.sh)")
    return REDIS_URL
