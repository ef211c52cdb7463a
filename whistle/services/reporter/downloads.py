"""Evidence files going out: decrypted chunk by chunk as they are sent, so memory stays flat."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import crypto
from crypto import CryptoError

from ...models import Attachment
from ..custody.casekeys import CaseCipher
from .files import CONTENT_AAD

if TYPE_CHECKING:
    from ...attachments.storage import AttachmentStore


@dataclass(frozen=True)
class OpenFile:
    safe_name: str  # ASCII-only, for Content-Disposition
    plain_size: int
    chunks: Iterator[bytes]


def ascii_name(name: str) -> str:
    """A download name that cannot break a header or a path, whatever the uploader typed."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name)
    return cleaned.strip(" .")[:100] or "file"


def open_file(cipher: CaseCipher, att: Attachment, store: AttachmentStore) -> OpenFile | None:
    """Open a stored attachment the caller is already allowed to see; None if missing or
    damaged (the caller answers that exactly like an unknown id)."""
    try:
        key = cipher.open("filekey", att.id, att.key_blob)
        meta = cipher.open_json("attachment", att.id, att.meta_blob)
        src = store.open_read(att.storage_name)
    except (CryptoError, OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        src.close()
        return None

    def chunks() -> Iterator[bytes]:
        with src:
            yield from crypto.iter_decrypt(key, src, aad=CONTENT_AAD)

    return OpenFile(ascii_name(str(meta.get("name") or "")), int(meta.get("plain_size") or 0),
                    chunks())
