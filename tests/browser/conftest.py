"""Shared browser fixtures: the app on a real loopback server, and Debian's headless Chromium
driven by playwright (never `playwright install`). In CI (CI=true) a missing Chromium or
playwright fails the test instead of skipping it."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def need(condition: bool, why: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(why + " (required in CI)")
    pytest.skip(why)


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """Base URL of ``app`` served by a threaded werkzeug server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright not installed")
        raise
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()
