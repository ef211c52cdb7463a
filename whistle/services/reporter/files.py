"""Glue between the upload pipeline and a case: stage, attach, then commit or discard.

An upload goes through ``whistle.attachments.pipeline.ingest`` as soon as it arrives: it is
cleaned, encrypted under a fresh file key and parked in the store's temp area. What we keep
about it until the report (or reply) is saved is a :class:`StagedFile`; it travels in the
reporter's encrypted server-side session (the "pending slot") when the form has to be shown
again after a validation error, so nothing typed or uploaded is lost.

When the case is written, :func:`attach_staged` adds the attachment rows (file key and
metadata encrypted under the case key) inside the caller's transaction, and
:func:`finish_staged` moves the files into the store only after the commit, or discards them.
Pending files of an abandoned form are removed by the store's orphan sweep; those of a request
killed mid-way, at the next start-up (services/operations/housekeeping.recover).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from ...attachments.errors import AttachmentError, TooLarge
from ...attachments.pipeline import ingest
from ...attachments.report import CleanReport
from ...attachments.storage import AttachmentStore, PendingFile
from ...attachments.workspace import JournaledStore, Workspace, pending_handle
from ...db import transaction
from ...models import Attachment, new_id
from ..custody.casekeys import CaseCipher

log = logging.getLogger("whistle.reporter_files")

MAX_PENDING = 20  # files one form may carry; more is refused with a field message
NAME_MAX = 200
# The file key is random per file and itself sealed under the case key bound to the attachment
# id, so the STREAM content needs no extra associated data (officers decrypt with aad=b"").
CONTENT_AAD = b""

__all__ = ["MAX_PENDING", "StagedFile", "TooLarge", "UploadRefused", "attach_staged",
           "finish_staged", "stage_upload", "transaction_with_files"]


class UploadRefused(Exception):
    """The file could not be received (damaged stream, storage refused)."""


@dataclass(frozen=True)
class StagedFile:
    """An upload already cleaned and encrypted into the store's temp area, not yet a record."""

    storage_name: str  # random; it keeps this name once committed
    file_key: bytes  # SECRET: lives only in the encrypted session until sealed under the case key
    name: str  # file name as the reporter sent it (shown back to them, stored encrypted)
    content_type: str  # sniffed kind, not the declared type
    size: int  # ciphertext bytes on disk
    plain_size: int  # cleaned plaintext size
    clean: dict[str, Any] = field(default_factory=dict)  # CleanReport.to_dict()

    def to_session(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> StagedFile:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def metadata(self) -> dict[str, Any]:
        """What goes into the attachment's encrypted meta_blob."""
        return {"name": self.name, "type": self.content_type, "plain_size": self.plain_size,
                "clean": self.clean, "by": "reporter"}

    def report(self) -> CleanReport | None:
        try:
            return CleanReport.from_dict(self.clean)
        except (KeyError, ValueError, TypeError):
            return None


def stage_upload(store: AttachmentStore, stream: BinaryIO, name: str, declared_type: str | None,
                 *, max_bytes: int, workdir: Path) -> StagedFile:
    """Clean and encrypt one upload into the store's temp area. TooLarge past ``max_bytes``.

    The plaintext temps go into this process's own locked folder under ``workdir`` and the
    store temp's name is journaled there first (whistle/attachments/workspace.py), so that a
    kill at any moment leaves nothing that start-up recovery cannot find and remove.
    """
    ws = Workspace.of(workdir)
    try:
        result = ingest(stream, name, declared_type, JournaledStore(store, ws), max_bytes,
                        ws.path, aad=CONTENT_AAD)
    except TooLarge:
        raise
    except (AttachmentError, OSError) as exc:
        log.warning("upload refused: %s", type(exc).__name__)
        raise UploadRefused() from None
    return StagedFile(
        storage_name=result.tmp_handle.storage_name, file_key=result.file_key,
        name=(name or "")[:NAME_MAX], content_type=result.sniffed_type.value,
        size=result.stored_size, plain_size=result.size, clean=result.clean_report.to_dict(),
    )


def _pending(store: AttachmentStore, f: StagedFile) -> PendingFile:
    """Rebuild the store's handle for a staged file (possibly from an earlier request)."""
    return pending_handle(store, f.storage_name)


def still_there(store: AttachmentStore, f: StagedFile) -> bool:
    """A pending file may have been swept away while the form sat open for hours."""
    try:
        store.path_for(f.storage_name)  # validates the name (session data is ours, but still)
    except AttachmentError:
        return False
    return _pending(store, f).path.is_file()


def attach_staged(db: Session, cipher: CaseCipher, files: Iterable[StagedFile], *,
                  message_id: str | None) -> list[Attachment]:
    """Add attachment rows for staged files (inside the caller's transaction)."""
    rows = []
    for f in files:
        att_id = new_id()
        row = Attachment(
            id=att_id, case_id=cipher.case_id, message_id=message_id,
            storage_name=f.storage_name, size=f.size,
            key_blob=cipher.seal("filekey", att_id, f.file_key),
            meta_blob=cipher.seal_json("attachment", att_id, f.metadata()),
        )
        db.add(row)
        rows.append(row)
    return rows


@contextmanager
def transaction_with_files(factory: sessionmaker[Session], store: AttachmentStore | None,
                           files: Sequence[StagedFile]) -> Iterator[Session]:
    """One transaction whose staged files enter the store only once it has committed, and are
    discarded if it does not: never a row without its file, nor a file without its row."""
    try:
        with transaction(factory) as db:
            yield db
    except BaseException:
        finish_staged(store, files, committed=False)
        raise
    finish_staged(store, files, committed=True)


def finish_staged(store: AttachmentStore | None, files: Sequence[StagedFile], *,
                  committed: bool) -> None:
    """After the transaction: move the files in (committed) or throw them away (rolled back).

    If a rename fails after the database commit, or the process dies just there, recovery
    rolls it forward (the database knows the name) at the next start-up, worker exit or
    sweep, so the record is never left pointing at nothing (services/operations/housekeeping).
    """
    if not files:
        return
    if store is None:
        raise RuntimeError("staged files need a store")
    for f in files:
        handle = _pending(store, f)
        try:
            if committed:
                store.commit(handle)
            else:
                store.discard(handle)
        except (OSError, AttachmentError) as exc:  # one bad file must not lose the others
            if committed and _moved_in(store, f):
                continue  # start-up recovery on another process moved it in first
            log.error("attachment %s failed: %s", "commit" if committed else "discard",
                      type(exc).__name__)


def _moved_in(store: AttachmentStore, f: StagedFile) -> bool:
    try:
        return store.exists(f.storage_name) and not _pending(store, f).path.exists()
    except AttachmentError:
        return False


def discard_all(store: AttachmentStore | None, files: Sequence[StagedFile]) -> None:
    finish_staged(store, files, committed=False)
