"""Where the multipart parser spools uploads, and how uploads become staged files.

Werkzeug streams each file part into whatever ``Request._get_file_stream`` returns, so an
upload never sits whole in memory. Its default is an anonymous file in the system temp dir;
ours is an anonymous file (unlinked at creation, never listed) in the instance's work dir,
which production mounts as a tmpfs so no plaintext ever reaches a disk.
"""
from __future__ import annotations

import io
import tempfile
from typing import IO, Any

from flask import Flask, Request, current_app
from flask.blueprints import BlueprintSetupState
from werkzeug.datastructures import FileStorage

from whistle.services.reporter.files import (
    MAX_PENDING,
    StagedFile,
    TooLarge,
    UploadRefused,
    stage_upload,
)

from ...attachments.storage import AttachmentStore
from ...web.state import state

SMALL_BODY = 500 * 1024  # werkzeug's own threshold: small bodies stay in memory


class SpoolingRequest(Request):
    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        if total_content_length is not None and total_content_length <= SMALL_BODY:
            return io.BytesIO()
        work = state().config.tmp_dir
        work.mkdir(mode=0o700, parents=True, exist_ok=True)
        return tempfile.TemporaryFile("wb+", dir=work)


def install_upload_streams(setup: BlueprintSetupState) -> None:
    app: Flask = setup.app
    if not issubclass(app.request_class, SpoolingRequest):
        app.request_class = type("WhistleRequest", (SpoolingRequest, app.request_class), {})


def store() -> AttachmentStore:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached: AttachmentStore | None = app.extensions.get("whistle_store")
    if cached is None:
        cached = AttachmentStore(state().config.attachments_dir)
        app.extensions["whistle_store"] = cached
    return cached


def file_limit() -> int:
    config = state().config
    per_file = int(getattr(config, "max_file_bytes", 0) or 0)
    return min(per_file, config.max_upload_bytes) if per_file else config.max_upload_bytes


def receive(uploads: list[FileStorage], already: int) -> tuple[list[StagedFile], list[dict[str, Any]]]:
    """Stage every non-empty upload; return (staged, problems) where a problem names its file."""
    staged: list[StagedFile] = []
    problems: list[dict[str, Any]] = []
    limit = file_limit()
    work = state().config.tmp_dir
    work.mkdir(mode=0o700, parents=True, exist_ok=True)
    for up in uploads:
        if not up or not up.filename:
            continue  # an empty <input type=file> still sends a part
        name = up.filename
        if already + len(staged) >= MAX_PENDING:
            problems.append({"name": name, "code": "too_many", "limit": MAX_PENDING})
            continue
        try:
            staged.append(stage_upload(store(), up.stream, name, up.mimetype or None,
                                       max_bytes=limit, workdir=work))
        except TooLarge:
            problems.append({"name": name, "code": "too_large", "limit": limit})
        except UploadRefused:
            problems.append({"name": name, "code": "refused"})
        finally:
            up.close()
    return staged, problems
