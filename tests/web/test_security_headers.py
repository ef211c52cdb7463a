"""Every response carries the security headers, whatever produced it."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from whistle.cli import quiet_handler
from whistle.web.security import CSP

EXPECTED = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Pragma": "no-cache",
}


def assert_secure(response: TestResponse) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert "no-store" in response.headers["Cache-Control"]
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "interest-cohort"):
        assert f"{feature}=()" in policy
    assert "Server" not in response.headers
    assert "ETag" not in response.headers


@pytest.fixture
def happ(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(flask={"PROPAGATE_EXCEPTIONS": False}, max_upload_bytes=1024)

    @app.route("/t/post", methods=["POST"])
    def post() -> str:
        return "never without a token"

    @app.get("/t/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    @app.get("/t/forbidden")
    def forbidden() -> str:
        abort(403)

    return app


def test_csp_is_exactly_the_policy() -> None:
    assert CSP == ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'")


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/healthz", 200),
    ("GET", "/static/whistle.css", 200),
    ("GET", "/does-not-exist", 404),
    ("GET", "/t/post", 405),
    ("POST", "/t/post", 400),  # CSRF refusal
    ("GET", "/t/boom", 500),
    ("GET", "/t/forbidden", 403),
    ("GET", "/healthz?lang=en", 303),
])
def test_headers_on_every_kind_of_response(happ: Flask, method: str, path: str,
                                           status: int) -> None:
    response = happ.test_client().open(path, method=method)
    assert response.status_code == status
    assert_secure(response)


def test_headers_on_413(happ: Flask) -> None:
    response = happ.test_client().post("/t/post", data={"f": "x" * 5000})
    assert response.status_code == 413
    assert_secure(response)


def test_headers_on_blueprint_routes(app: Flask) -> None:
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.arguments:
            continue
        assert_secure(client.get(rule.rule))


def test_onion_location_only_on_clearnet(make_app: Callable[..., Flask]) -> None:
    app = make_app(onion_location="http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion")
    client = app.test_client()
    clear = client.get("/healthz?x=secret", base_url="https://lapor.example.go.id")
    assert clear.headers["Onion-Location"].endswith(".onion/healthz")  # no query string
    onion = client.get("/healthz", base_url="http://exampleonionaddressxxxx.onion")
    assert "Onion-Location" not in onion.headers


def test_no_onion_location_unless_configured(client: FlaskClient) -> None:
    assert "Onion-Location" not in client.get("/healthz").headers


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=quiet_handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


def test_real_server_sends_no_server_header(live_server: str) -> None:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(live_server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("GET", "/does-not-exist?ticket=ABCD")
    response = conn.getresponse()
    assert response.status == 404
    assert response.getheader("Server") is None
    assert response.getheader("Content-Security-Policy") == CSP
    conn.close()


def test_gunicorn_config_hides_server_and_access_log() -> None:
    import runpy
    from pathlib import Path

    import gunicorn.http.wsgi

    response_class = gunicorn.http.wsgi.Response
    saved = gunicorn.http.wsgi.SERVER, response_class.default_headers
    try:
        conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"))
        assert getattr(response_class.default_headers, "_whistle", False)
    finally:
        gunicorn.http.wsgi.SERVER, response_class.default_headers = saved
    assert conf["accesslog"] is None
    assert conf["logconfig_dict"]["loggers"]["gunicorn.error"]["handlers"] == ["stderr"]
    assert conf["logconfig_dict"]["handlers"]["stderr"]["filters"] == ["scrub"]
    assert conf["workers"] == 2 and conf["preload_app"] is True
    assert conf["bind"].startswith("127.0.0.1:")
