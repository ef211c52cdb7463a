"""Glue between the upload pipeline and a case: stage, attach, commit or discard.

An upload is streamed through ``whistle.attachments.pipeline.ingest`` as soon as it arrives:
cleaned, encrypted under a fresh file key and parked in the store's temp area. What we keep
about it until the report (or reply) is saved is a :class:`StagedFile`; it travels in the
reporter's encrypted server-side session (the "pending slot") when the form must be shown
again after a validation error, so nothing typed or uploaded is lost.

When the case is written, :func:`attach_staged` adds the attachment rows (file key and
metadata encrypted under the case key) inside the caller's transaction, and
:func:`finish_staged` moves the files into the store only after the commit, or discards them.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO, Protocol

from sqlalchemy.orm import Session

from ..models import Attachment, new_id
from .casekeys import CaseCipher

log = logging.getLogger("whistle.reporter_files")

MAX_PENDING = 20  # files kept across validation errors; more is refused with a field message


class Store(Protocol):
    """What we need of whistle.attachments.storage.AttachmentStore."""

    def commit(self, tmp: Any) -> Any: ...
    def discard(self, tmp: Any) -> Any: ...


@dataclass(frozen=True)
class StagedFile:
    """An upload already cleaned and encrypted into the store's temp area, not yet a record."""

    tmp: str  # the pipeline's temp handle (a random name inside the store)
    storage_name: str  # the name it will have in the store once committed
    file_key: bytes  # SECRET: lives only in the encrypted session until sealed under the case key
    name: str  # original file name as the reporter sent it
    content_type: str  # sniffed kind, not the declared type
    size: int  # ciphertext bytes on disk
    plain_size: int
    clean: dict[str, Any] = field(default_factory=dict)  # CleanReport.to_dict()

    def to_session(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> StagedFile:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def metadata(self) -> dict[str, Any]:
        """What goes into the attachment's encrypted meta_blob."""
        return {"name": self.name, "type": self.content_type, "plain_size": self.plain_size,
                "clean": self.clean}


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


def finish_staged(store: Store | None, files: Sequence[StagedFile], *, committed: bool) -> None:
    """After the transaction: move the files in (committed) or throw them away (rolled back).

    A commit failure after the database commit leaves a record whose file is missing; that is
    logged (without names) and shows as "file unavailable", which beats losing the report.
    """
    if not files:
        return
    if store is None:
        raise RuntimeError("staged files need a store")
    for f in files:
        try:
            if committed:
                store.commit(f.tmp)
            else:
                store.discard(f.tmp)
        except Exception as exc:  # noqa: BLE001 - one bad file must not lose the others
            log.error("attachment %s failed: %s", "commit" if committed else "discard",
                      type(exc).__name__)


def discard_all(store: Store | None, files: Sequence[StagedFile]) -> None:
    finish_staged(store, files, committed=False)


def open_plain(store: Any, storage_name: str) -> BinaryIO:  # pragma: no cover - placeholder
    raise NotImplementedError
