"""Attachment layer: metadata cleaning, contained storage, and the upload ingest pipeline."""

from .clean import DEFAULT_MAX_PIXELS, clean_file
from .errors import AttachmentError, StorageError, TooLarge
from .pipeline import IngestResult, ingest
from .report import CleanReport
from .sniff import FileKind, sniff
from .storage import AttachmentStore, PendingFile, SweepResult

__all__ = [
    "AttachmentError", "AttachmentStore", "CleanReport", "DEFAULT_MAX_PIXELS", "FileKind",
    "IngestResult", "PendingFile", "StorageError", "SweepResult", "TooLarge", "clean_file",
    "ingest", "sniff",
]
