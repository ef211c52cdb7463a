"""The built wheel works outside the checkout: build it, install it with the locked
dependencies into a fresh venv in a temp folder, run `whistle init`, serve with the default
(gunicorn) server, and file a report through the pages. Also: `python -m whistle`, and the
start-up refusal of a foreign `crypto` package."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "whistle", "crypto",
           "templates", "static", "migrations", "deploy", "requirements")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "_share", "*.egg-info")

ORG = """
from crypto import PrivateKey
from whistle.config import load_config
from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.models import Team, Unit
engine = make_engine(load_config().db_url)
with transaction(make_sessionmaker(engine)) as db:
    unit = Unit(code="PUSAT", name="Unit Pusat")
    db.add(unit)
    db.flush()
    for role in ("verifikator", "uki", "pyb"):
        db.add(Team(unit_id=unit.id, role=role,
                    public_key=PrivateKey.generate().public_key().to_bytes()))
engine.dispose()
"""


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False,
                         **kw)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the sources, so the checkout gets no build/ or egg-info."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=SKIP)
        else:
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(work / "dist"), str(src)])
    (found,) = (work / "dist").glob("whistle-*.whl")
    return found


def test_wheel_carries_templates_static_and_migrations(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for required in ("whistle/_share/templates/reporter/new.html",
                     "whistle/_share/static/whistle.css",
                     "whistle/_share/migrations/env.py",
                     "whistle/_share/deploy/gunicorn.conf.py",
                     "whistle/__main__.py", "crypto/SPEC.md"):
        assert required in names, required
    assert any(n.startswith("whistle/_share/migrations/versions/0001_") for n in names)
    assert not any(n.startswith(("templates/", "static/", "migrations/")) for n in names)


@pytest.mark.slow
def test_installed_wheel_inits_serves_and_files_a_report(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--require-hashes",
          "-r", str(ROOT / "requirements" / "main.txt")])
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
    site = tmp_path / "site"
    site.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "WHISTLE_INSTANCE_DIR": str(site / "instance"), "LC_ALL": "C.UTF-8"}
    # Nothing from the checkout is reachable: cwd and PYTHONPATH point elsewhere.
    where = _run([str(py), "-c", "import whistle, crypto; print(whistle.__file__, crypto.__file__)"],
                 cwd=site, env=env).stdout
    assert str(ROOT) not in where and str(venv) in where
    assert "serve" in _run([str(py), "-m", "whistle", "--help"], cwd=site, env=env).stdout
    init = _run([str(venv / "bin" / "whistle"), "init"], cwd=site, env=env)
    assert "instance ready" in init.stdout
    _run([str(py), "-c", ORG], cwd=site, env=env)
    port = _free_port()
    server = subprocess.Popen([str(venv / "bin" / "whistle"), "serve", "--port", str(port)],
                              cwd=site, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        _wait_until_up(opener, base, server)
        css = opener.open(base + "/static/whistle.css")
        assert css.status == 200 and "css" in css.headers["Content-Type"] and css.read()
        form = opener.open(base + "/lapor").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        assert token, form[:2000]
        data = {"csrf_token": token.group(1), "kind": "whistleblowing",
                "category": "abuse_of_authority", "who": "Pak Budi", "who_position": "Kasi",
                "what": "Meminta uang pelicin untuk izin.", "when": "Maret 2026",
                "where": "Kantor Pelayanan", "how": "Tunai.", "anonymity": "anonymous"}
        try:
            opener.open(base + "/lapor", urllib.parse.urlencode(data).encode())
            raise AssertionError("expected a redirect to the ticket page")
        except urllib.error.HTTPError as exc:
            assert exc.code == 303 and exc.headers["Location"].endswith("/lapor/tiket")
        ticket_page = opener.open(base + "/lapor/tiket").read().decode()
        assert len(re.findall(r'<span class="group">([0-9A-Z]{4})</span>', ticket_page)) == 5
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    assert "Traceback" not in log, log[-3000:]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _wait_until_up(opener: urllib.request.OpenerDirector, base: str,
                   server: subprocess.Popen[str]) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server.communicate()[0][-3000:]}")
        try:
            if opener.open(base + "/", timeout=5).status == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError("server did not come up")


def test_python_dash_m_whistle() -> None:
    out = _run([sys.executable, "-m", "whistle", "--help"], cwd=ROOT)
    assert "init" in out.stdout and "serve" in out.stdout


def test_a_foreign_crypto_package_is_refused_at_start_up(tmp_path: Path) -> None:
    fake = tmp_path / "crypto"
    fake.mkdir()
    (fake / "__init__.py").write_text('"""The PyPI package called crypto."""\n')
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}")
    out = subprocess.run([sys.executable, "-c", "import whistle.cli"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode != 0
    assert "not whistle's own crypto/ package" in out.stderr
    assert "pip uninstall crypto" in out.stderr
    ok = subprocess.run([sys.executable, "-c", "import whistle.cli"], cwd=ROOT,
                        capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
