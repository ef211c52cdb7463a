"""Typed errors of the attachment layer."""

from __future__ import annotations


class AttachmentError(Exception):
    """Base class for every error raised by whistle.attachments."""


class TooLarge(AttachmentError):
    """The upload exceeded the configured byte limit (nothing was kept)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds the limit of {limit} bytes")
        self.limit = limit


class StorageError(AttachmentError):
    """A storage name or path was refused (bad name, escape from the root, symlink)."""


class PdfEncrypted(Exception):
    """Needs a password we do not have (raised while cleaning; the file is kept as is)."""
