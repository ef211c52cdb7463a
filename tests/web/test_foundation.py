"""App factory, configuration, instance secrets, language choice, error pages, rate limits,
the Argon2 bound, log scrubbing and the CLI."""
from __future__ import annotations

import io
import logging
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import inspect

from whistle.app import create_app
from whistle.config import (
    Config,
    ConfigError,
    InstanceNotInitialised,
    init_instance,
    load_config,
    load_secrets,
)
from whistle.web import limits
from whistle.web.limits import Busy, argon2_slot, global_key, session_key, ticket_lookup_key
from whistle.web.logging import ScrubFilter, configure_logging, scrub
from whistle.web.state import state

# -- configuration -----------------------------------------------------------------------


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    config = load_config({"WHISTLE_INSTANCE_DIR": str(tmp_path)})
    assert config.db_url == f"sqlite:///{tmp_path.resolve() / 'whistle.db'}"
    assert config.attachments_dir == tmp_path / "attachments"
    assert config.tmp_dir == tmp_path / "tmp"
    assert config.ratelimit_storage_uri == "memory://"
    assert config.session_backend == "db"
    assert config.max_upload_bytes == 100 * 1024 * 1024
    assert config.argon2_concurrency == (os.cpu_count() or 1)
    assert (config.reporter_idle_timeout, config.officer_idle_timeout) == (900, 1800)
    assert config.officer_absolute_timeout == 12 * 3600
    assert config.secure_cookies is False and config.session_cookie_name == "whistle"
    assert config.data_request_days == 10


def test_environment_is_typed() -> None:
    config = load_config({
        "WHISTLE_MAX_UPLOAD_BYTES": "1048576", "WHISTLE_SECURE_COOKIES": "true",
        "WHISTLE_ARGON2_CONCURRENCY": "3", "WHISTLE_SESSION_BACKEND": "redis",
        "WHISTLE_REDIS_URL": "redis://127.0.0.1:1/0", "WHISTLE_WORK_DIR": "/dev/shm/w",
        "WHISTLE_SMTP_PORT": "587",
    })
    assert config.max_upload_bytes == 1048576 and config.secure_cookies is True
    assert config.argon2_concurrency == 3 and config.smtp_port == 587
    assert config.tmp_dir == Path("/dev/shm/w")
    assert config.session_cookie_name == "__Host-whistle"


@pytest.mark.parametrize("env", [
    {"WHISTLE_SESSION_BACKEND": "memcached"},
    {"WHISTLE_SESSION_BACKEND": "redis"},  # without a URL
    {"WHISTLE_SECURE_COOKIES": "maybe"},
    {"WHISTLE_ARGON2_CONCURRENCY": "0"},
])
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_config(env)


def test_secrets_are_created_private_and_idempotent(tmp_path: Path) -> None:
    config = Config(instance_dir=tmp_path / "inst")
    assert sorted(init_instance(config)) == ["audit_key", "audit_signing_key", "pepper", "secret_key",
                                            "totp_key"]
    first = load_secrets(config)
    assert init_instance(config) == []  # never overwritten
    assert load_secrets(config).pepper == first.pepper
    assert stat.S_IMODE(config.secrets_dir.stat().st_mode) == 0o700
    for name in ("pepper", "secret_key", "totp_key"):
        path = config.secrets_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_bytes()) == 32
    assert "redacted" in repr(first) and first.pepper.hex() not in repr(first)


def test_app_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(InstanceNotInitialised, match="whistle init"):
        create_app({"instance_dir": tmp_path / "nothing-here"})


def test_app_refuses_world_readable_secret(tmp_path: Path) -> None:
    config = Config(instance_dir=tmp_path / "inst")
    init_instance(config)
    os.chmod(config.secrets_dir / "pepper", 0o644)
    with pytest.raises(ConfigError, match="chmod"):
        load_secrets(config)


def test_healthz_and_state(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    s = state(app)
    assert app.config["SECRET_KEY"] == s.secrets.secret_key
    assert app.config["MAX_CONTENT_LENGTH"] == s.config.max_upload_bytes


def test_missing_blueprints_are_skipped(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    import whistle.app as app_module

    assert set(app.blueprints) <= {"reporter", "officer", "admin", "ops"}
    monkeypatch.setattr(app_module, "BLUEPRINTS", (("whistle.blueprints.not_written_yet", "/x"),))
    assert app_module.register_blueprints(Flask("probe")) == []


def test_broken_blueprint_is_not_silently_skipped(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    import sys

    import whistle.app as app_module

    (tmp_path / "broken_bp_probe.py").write_text("import whistle.no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(app_module, "BLUEPRINTS", (("broken_bp_probe", "/x"),))
    with pytest.raises(ModuleNotFoundError):
        app_module.register_blueprints(Flask("probe"))
    sys.modules.pop("broken_bp_probe", None)


# -- language ----------------------------------------------------------------------------


def test_indonesian_by_default_even_if_browser_asks_english(app: Flask) -> None:
    response = app.test_client().get("/missing", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html and "Halaman tidak ditemukan" in html


def test_language_link_sets_cookie_and_redirects_without_query(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/missing?lang=en&x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/missing?x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "SameSite=Strict" in cookie
    assert "Max-Age" not in cookie and "Expires" not in cookie
    html = client.get("/missing").get_data(as_text=True)
    assert '<html lang="en">' in html and "Page not found" in html
    assert 'href="/missing?lang=id"' in html  # the switch back, a plain link
    assert client.get_cookie("whistle") is None  # no session for choosing a language
    client.get("/missing?lang=id")
    assert "Halaman tidak ditemukan" in client.get("/missing").get_data(as_text=True)


@pytest.mark.parametrize("value", ["fr", "", "en;evil", "<script>"])
def test_unknown_language_is_ignored(app: Flask, value: str) -> None:
    client = app.test_client()
    response = client.get(f"/missing?lang={value}")
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    client.set_cookie("lang", value)
    assert '<html lang="id">' in client.get("/missing").get_data(as_text=True)


def test_language_redirect_stays_on_site(app: Flask) -> None:
    response = app.test_client().get("//evil.example/x?lang=en")
    assert response.headers["Location"].startswith("/")
    assert not response.headers["Location"].startswith("//")


# -- error pages -------------------------------------------------------------------------


def test_500_page_has_no_stack_trace(make_app: Callable[..., Flask],
                                     caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(flask={"PROPAGATE_EXCEPTIONS": False})

    @app.get("/t/boom")
    def boom() -> str:
        raise ValueError("SECRET-REPORT-TEXT")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/t/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "SECRET-REPORT-TEXT" not in body and "ValueError" not in body
    assert "Terjadi kesalahan" in body
    assert "SECRET-REPORT-TEXT" not in caplog.text
    assert "ValueError" in caplog.text  # the operator still learns what failed, and where
    assert "boom" in caplog.text


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500, 503])
def test_every_error_page_is_friendly_in_both_languages(make_app: Callable[..., Flask],
                                                        code: int) -> None:
    from flask import abort

    app = make_app(flask={"PROPAGATE_EXCEPTIONS": False})
    app.add_url_rule("/t/err", "err", lambda: abort(code))
    client = app.test_client()
    indonesian = client.get("/t/err")
    assert indonesian.status_code == code
    client.get("/t/err?lang=en")
    english = client.get("/t/err")
    assert english.status_code == code
    for response in (indonesian, english):
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "werkzeug" not in body.lower()
        assert "<h1" in body  # a page of ours (a blueprint may supply a richer one, e.g. 413)
    assert indonesian.data != english.data


def test_bad_input_is_never_a_500(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz?%ff%fe=%00").status_code == 200
    assert client.get("/%ff%00").status_code == 404
    client.set_cookie("whistle", "\x00garbage")
    client.set_cookie("lang", "\xff")
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz", data=b"\xff" * 10,
                       content_type="application/x-www-form-urlencoded").status_code == 405


def test_upload_limit_is_413(make_app: Callable[..., Flask]) -> None:
    app = make_app(max_upload_bytes=2048)

    @app.post("/t/upload")
    def upload() -> str:
        return "ok"

    response = app.test_client().post(
        "/t/upload", data={"f": (io.BytesIO(b"x" * 4096), "a.bin")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Berkas terlalu besar" in response.get_data(as_text=True)


# -- rate limits -------------------------------------------------------------------------


def _limited_app(make_app: Callable[..., Flask], **overrides: object) -> Flask:
    app = make_app(ratelimit_global="3 per minute", **overrides)
    app.add_url_rule("/t/ping", "ping", lambda: "pong")
    return app


def test_different_addresses_share_the_global_budget(make_app: Callable[..., Flask]) -> None:
    app = _limited_app(make_app)
    client = app.test_client()
    statuses = [client.get("/t/ping", environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
                for i in range(1, 5)]
    assert statuses == [200, 200, 200, 429]


def test_forwarded_for_does_not_reset_limits(make_app: Callable[..., Flask]) -> None:
    app = _limited_app(make_app)
    client = app.test_client()
    for i in range(3):
        assert client.get("/t/ping", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code == 200
    response = client.get("/t/ping", headers={"X-Forwarded-For": "198.51.100.7",
                                              "X-Real-IP": "198.51.100.7"})
    assert response.status_code == 429
    assert "Terlalu banyak permintaan" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "60"


def test_health_check_is_not_limited(make_app: Callable[..., Flask]) -> None:
    app = _limited_app(make_app)
    client = app.test_client()
    assert all(client.get("/healthz").status_code == 200 for _ in range(6))


def test_global_limit_on_real_redis(make_app: Callable[..., Flask], redis_url: str) -> None:
    app = _limited_app(make_app, ratelimit_storage_uri=redis_url)
    first, second = app.test_client(), app.test_client()
    codes = [c.get("/t/ping").status_code for c in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]


def test_key_functions_never_use_the_address(app: Flask) -> None:
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                                  headers={"X-Forwarded-For": "203.0.113.10"}):
        assert global_key() == "global"
        anonymous = {session_key() for _ in range(3)}
        assert len(anonymous) == 3  # throwaway keys: anonymous traffic falls to the global limit
        assert not any("203.0.113" in key for key in anonymous)
    cookie = "A" * 64
    with app.test_request_context("/", headers={"Cookie": f"whistle={cookie}"},
                                  environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        first = session_key()
    with app.test_request_context("/", headers={"Cookie": f"whistle={cookie}"},
                                  environ_base={"REMOTE_ADDR": "198.51.100.1"}):
        assert session_key() == first and first.startswith("sess:")
        assert cookie not in first
    lookup = bytes(range(32))
    assert ticket_lookup_key(lookup) == ticket_lookup_key(lookup)
    assert lookup.hex() not in ticket_lookup_key(lookup)
    assert ticket_lookup_key(lookup) != ticket_lookup_key(bytes(32))


def test_ticket_attempts_are_limited(make_app: Callable[..., Flask]) -> None:
    from werkzeug.exceptions import TooManyRequests

    app = make_app(ratelimit_ticket="2 per hour")
    with app.test_request_context("/"):
        limits.hit_ticket_attempt(b"a" * 32)
        limits.hit_ticket_attempt(b"a" * 32)
        with pytest.raises(TooManyRequests):
            limits.hit_ticket_attempt(b"a" * 32)
        limits.hit_ticket_attempt(b"b" * 32)  # another ticket has its own budget


# -- Argon2 bound ------------------------------------------------------------------------


def test_argon2_slots_are_bounded(make_app: Callable[..., Flask]) -> None:
    app = make_app(argon2_concurrency=2, argon2_wait_seconds=0.05)

    @app.get("/t/derive")
    def derive() -> str:
        with argon2_slot():
            return "derived"

    with app.app_context():
        with argon2_slot(), argon2_slot():
            with pytest.raises(Busy):
                with argon2_slot():
                    pass
            response = app.test_client().get("/t/derive")
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "60"
            assert "Layanan sedang sibuk" in response.get_data(as_text=True)
        assert app.test_client().get("/t/derive").data == b"derived"  # slots released


def test_argon2_slots_across_threads(make_app: Callable[..., Flask]) -> None:
    app = make_app(argon2_concurrency=3, argon2_wait_seconds=2.0)
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def work() -> None:
        with app.app_context(), argon2_slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            release.wait(0.2)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3


# -- logging -----------------------------------------------------------------------------


def test_scrub_removes_addresses_queries_and_tickets() -> None:
    line = ('203.0.113.7 - - "GET /lapor?tiket=ABCD-EFGH-JKLM-NPQR-STUV2 HTTP/1.1" 200 '
            "from 2001:db8::1 User-Agent: Mozilla/5.0 Referer: http://x")
    clean = scrub(line)
    for leaked in ("203.0.113.7", "ABCD-EFGH", "2001:db8::1", "tiket=", "Mozilla", "http://x"):
        assert leaked not in clean


def test_request_lines_are_dropped_and_exceptions_reduced() -> None:
    f = ScrubFilter()
    access = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '127.0.0.1 - "GET /?x=1"', None, None)
    assert f.filter(access) is False
    try:
        raise KeyError("secret field")
    except KeyError:
        import sys

        record = logging.LogRecord("whistle", logging.ERROR, __file__, 1, "failed %s",
                                   ("10.1.2.3",), sys.exc_info())
    assert f.filter(record) is True
    assert "10.1.2.3" not in record.getMessage() and "KeyError" in record.getMessage()
    assert record.exc_info is None


def test_serve_logging_writes_scrubbed_file(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(tmp_path / "logs")
        logging.getLogger("whistle.test").warning("visitor 192.0.2.44 asked /x?ticket=1")
        for handler in root.handlers:
            handler.flush()
        text = (tmp_path / "logs" / "whistle.log").read_text()
        assert "visitor [addr]" in text and "192.0.2.44" not in text and "ticket=1" not in text
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


# -- CLI ---------------------------------------------------------------------------------


def test_cli_init_is_idempotent_and_creates_schema(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from whistle.cli import cli
    from whistle.db import make_engine

    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(tmp_path / "inst"))
    runner = CliRunner()
    first = runner.invoke(cli, ["init"])
    assert first.exit_code == 0, first.output
    assert "created secret" in first.output
    second = runner.invoke(cli, ["init"])
    assert second.exit_code == 0 and "created secret" not in second.output
    engine = make_engine(f"sqlite:///{tmp_path / 'inst' / 'whistle.db'}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"alembic_version", "cases", "server_sessions"} <= tables
    app = create_app({"instance_dir": tmp_path / "inst"})  # boots on what init made
    assert app.test_client().get("/healthz").status_code == 200
    state(app).engine.dispose()


def test_cli_serve_binds_loopback_by_default() -> None:
    from whistle.cli import serve

    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
