"""Run by test_bomb_upload.py in a fresh process, which stands for one web worker: files a
report with three decompression-bomb PNGs through the reporter form and prints, as JSON, the
process's own peak memory before and after, the cleaning children's peak, each request's time
and what the reporter's case page says about the files.

usage: python bomb_driver.py WORKDIR CLEAN_MEMORY_MIB
"""
from __future__ import annotations

import io
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

import crypto.kdf as kdf  # noqa: E402

kdf.PASSPHRASE_DEFAULT = kdf.TEST_PARAMS  # as the suite's cheap_kdf fixture does
kdf.TICKET_DEFAULT = kdf.TEST_PARAMS

from att_fixtures import jpeg_bytes, png_pixels_bomb_bytes  # noqa: E402
from tests.web.reporter_helpers import (TICKET_RE, confirm, csrf, good_form,  # noqa: E402
                                        make_org)
from whistle.app import create_app  # noqa: E402
from whistle.attachments import sandbox  # noqa: E402
from whistle.config import Config, init_instance  # noqa: E402
from whistle.db import make_engine  # noqa: E402
from whistle.models import Base  # noqa: E402


def peak_kib(who: int) -> int:
    return resource.getrusage(who).ru_maxrss


def post_report(client, files: list[tuple[bytes, str]]) -> tuple[int, float]:  # noqa: ANN001
    form = dict(good_form())
    form["csrf_token"] = csrf(client.get("/lapor").get_data(as_text=True))
    form["files"] = [(io.BytesIO(data), name) for data, name in files]
    started = time.monotonic()
    resp = client.post("/lapor", data=form, content_type="multipart/form-data")
    return resp.status_code, time.monotonic() - started


def main(work: Path, memory_mib: int) -> None:
    instance = work / "instance"
    init_instance(Config(instance_dir=instance))
    url = f"sqlite:///{work / 'whistle.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"instance_dir": instance, "database_url": url, "testing": True,
                      "ratelimit_storage_uri": "memory://", "clean_memory_mib": memory_mib,
                      "clean_concurrency": 2})
    make_org(app)
    bomb = png_pixels_bomb_bytes(5975, 4000)  # 23.9 MP, ~100 KB: decoded, ~96 MB a copy
    warm = app.test_client()
    status, warm_seconds = post_report(warm, [(jpeg_bytes(), "photo.jpg")])
    assert status == 303, status
    before = peak_kib(resource.RUSAGE_SELF)
    client = app.test_client()
    status, seconds = post_report(client, [(bomb, f"bomb-{i}.png") for i in range(3)])
    after = peak_kib(resource.RUSAGE_SELF)
    page = client.get("/lapor/tiket").get_data(as_text=True)
    confirm(client, page, "-".join(TICKET_RE.findall(page)))
    client.get("/?lang=en")  # the language choice is kept in the session
    case_html = client.get("/laporan").get_data(as_text=True)
    print(json.dumps({
        "status": status, "seconds": seconds, "warm_seconds": warm_seconds,
        "worker_peak_before_kib": before, "worker_peak_after_kib": after,
        # The children's own high-water marks (sandbox.RunStats, from /proc/self/status).
        "children_peak_kib": max(r.peak_vm_kib for r in list(sandbox.recent_runs)[-3:]),
        "children_failures": [r.failure for r in list(sandbox.recent_runs)[-3:]],
        "limit_kib": memory_mib * 1024, "case_html": case_html,
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
