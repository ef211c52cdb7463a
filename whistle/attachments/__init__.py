"""Attachment layer: metadata cleaning, contained storage, and the upload ingest pipeline."""

from .clean import DEFAULT_MAX_PIXELS, clean_file
from .errors import AttachmentError, StorageError, TooLarge
from .report import CleanReport
from .sniff import FileKind, sniff

__all__ = [
    "AttachmentError", "CleanReport", "DEFAULT_MAX_PIXELS", "FileKind", "StorageError",
    "TooLarge", "clean_file", "sniff",
]
