"""Run the cleaners (Pillow, pikepdf, zip) in a child process with a memory and time bound.

A hostile upload must not be able to take the web worker with it: a 190 KB PNG can claim 49
megapixels and decode at ~420 MB, a PDF can make qpdf work for minutes. So each file is
cleaned by ``python -m whistle.attachments.child`` under RLIMIT_AS (address space), RLIMIT_CPU
and a wall-clock timer, and at most ``concurrency`` children run per process (like the Argon2
slots of whistle.web.limits). On an overrun the child dies or reports it; the caller then keeps
the original file (encrypted, like every upload) and marks it "not cleaned" (``clean_limit``).

The child gets no secrets: a minimal environment, no stdin, and its stderr goes nowhere (a
parser's traceback can quote bytes of the file). Its stdout carries one JSON line of codes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AttachmentError
from .sniff import FileKind

MIB = 1 << 20
# Above this an image is not decoded but stripped losslessly (still cleaned, not re-encoded).
# 24 MP re-encodes the 12-24 MP photos phones save by default. Decoding holds up to ~4 copies
# (decode, transpose, colour conversion, mode change) at 3-4 bytes a pixel: ~300-400 MB, inside
# the cleaning child's address-space limit (sandbox.CleanLimits, 768 MiB). The former 50 MP cap
# let a 190 KB PNG decode at ~420 MB per copy.
DEFAULT_MAX_PIXELS = 24_000_000
# The directory holding the `whistle` package (a checkout or site-packages): the child must
# import the same code as its parent.
_CODE_ROOT = str(Path(__file__).resolve().parents[2])


class CleaningBusy(AttachmentError):
    """Every cleaning slot stayed taken for the whole wait: the upload is refused, not kept
    uncleaned (a flood must not make a genuine reporter's photo skip cleaning)."""


@dataclass(frozen=True)
class CleanLimits:
    memory_bytes: int = 768 * MIB  # address space of one child (its baseline is ~50 MiB)
    seconds: float = 30.0          # wall clock for one file
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    wait_seconds: float = 10.0     # how long an upload queues for a free slot


@dataclass(frozen=True)
class Outcome:
    removed: frozenset[str] = frozenset()
    notes: frozenset[str] = frozenset()
    failure: str | None = None  # a NOTES code when the file could not be cleaned


@dataclass(frozen=True)
class RunStats:
    """Resource figures of one child (no names, no content): for tests and bench/."""

    peak_rss_kib: int  # the child's own VmHWM; 0 when it was killed before it could say
    peak_vm_kib: int   # its address-space peak (what RLIMIT_AS bounds)
    seconds: float
    killed: bool
    failure: str | None


_limits = CleanLimits()
_slots = threading.BoundedSemaphore(_limits.concurrency)
_lock = threading.Lock()
recent_runs: deque[RunStats] = deque(maxlen=64)


def configure(limits: CleanLimits) -> None:
    """Set this process's limits (create_app calls it from the configuration)."""
    global _limits, _slots
    if limits.concurrency < 1 or limits.memory_bytes < MIB or limits.seconds <= 0:
        raise ValueError("cleaning limits out of range")
    with _lock:
        if limits.concurrency != _limits.concurrency:
            _slots = threading.BoundedSemaphore(limits.concurrency)
        _limits = limits


def current_limits() -> CleanLimits:
    return _limits


def run(kind: FileKind, src: Path, dst: Path, max_pixels: int,
        limits: CleanLimits | None = None) -> Outcome:
    """Clean src into dst in a bounded child. Raises CleaningBusy when no slot frees up, and
    OSError for a genuine I/O failure (full disk) that the child reported."""
    limits = limits or _limits
    slots = _slots
    if not slots.acquire(timeout=limits.wait_seconds):
        raise CleaningBusy()
    try:
        return _spawn(kind, src, dst, max_pixels, limits)
    finally:
        slots.release()


def _spawn(kind: FileKind, src: Path, dst: Path, max_pixels: int,
           limits: CleanLimits) -> Outcome:
    cpu = max(1, int(limits.seconds) + 1)  # backstop; the wall-clock timer below comes first
    out_cap = max(256 * MIB, 4 * src.stat().st_size)  # a re-encoded image may grow somewhat
    cmd = [sys.executable, "-s", "-m", "whistle.attachments.child", kind.value, str(max_pixels),
           str(limits.memory_bytes), str(cpu), str(out_cap), str(src), str(dst)]
    env = {"PATH": os.defpath, "PYTHONPATH": _CODE_ROOT, "LC_ALL": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, close_fds=True,
                            start_new_session=True)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(limits.seconds, kill)
    timer.daemon = True
    timer.start()
    try:
        assert proc.stdout is not None
        output = proc.stdout.read(1 << 16)
        proc.stdout.close()
        _pid, status = os.waitpid(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
        if proc.returncode is None:  # an exception above: never leave the child running
            proc.kill()
            proc.wait()
    outcome, peaks = _parse(output, proc.returncode, killed.is_set())
    recent_runs.append(RunStats(peaks.get("rss_kib", 0), peaks.get("vm_kib", 0),
                                time.monotonic() - started, killed.is_set(), outcome.failure))
    return outcome


def _parse(output: bytes, returncode: int, killed: bool) -> tuple[Outcome, dict[str, int]]:
    if killed or returncode != 0:
        # Killed by the timer, by SIGXCPU/SIGKILL, or died (e.g. an allocation failure in C).
        return Outcome(failure="clean_limit"), {}
    try:
        data = json.loads(output.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Outcome(failure="damaged"), {}
    if not isinstance(data, dict):
        return Outcome(failure="damaged"), {}
    peaks = {k: int(data[k]) for k in ("rss_kib", "vm_kib") if isinstance(data.get(k), int)}
    if "io_error" in data:
        errno = int(data["io_error"])
        raise OSError(errno, os.strerror(errno))
    if data.get("failure"):
        return Outcome(failure=str(data["failure"])), peaks
    return Outcome(frozenset(map(str, data.get("removed", ()))),
                   frozenset(map(str, data.get("notes", ())))), peaks


def apply_child_limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    """Called first thing in the child: bounds that hold whatever the file makes the parsers do."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not dump evidence to disk
