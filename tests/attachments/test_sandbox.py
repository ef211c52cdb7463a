"""Cleaning runs bounded: a child process under an address-space limit and a wall-clock limit,
at most N at once; an overrun keeps the original (encrypted later) marked "not cleaned"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from att_fixtures import MARKER_B, jpeg_bytes, png_pixels_bomb_bytes
from whistle.attachments import clean_file, sandbox
from whistle.attachments.sandbox import MIB, CleaningBusy, CleanLimits

# 23.9 MP: just under the pixel cap, so it IS decoded (4 bytes a pixel: ~96 MB a copy).
BOMB_SIDE = (5975, 4000)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = png_pixels_bomb_bytes(*BOMB_SIDE)
    assert len(data) < 200_000  # the point: tiny on the wire
    return data


@pytest.fixture
def restore_limits() -> Iterator[None]:
    before = sandbox.current_limits()
    yield
    sandbox.configure(before)


def _clean(tmp_path: Path, data: bytes, name: str, **kw: object) -> tuple[object, Path, Path]:
    src, dst = tmp_path / name, tmp_path / (name + ".clean")
    src.write_bytes(data)
    return clean_file(src, dst, name, None, **kw), src, dst  # type: ignore[arg-type]


def test_memory_overrun_keeps_original_marked_not_cleaned(tmp_path: Path, bomb: bytes) -> None:
    limits = CleanLimits(memory_bytes=160 * MIB, seconds=60, concurrency=1, wait_seconds=5)
    report, src, dst = _clean(tmp_path, bomb, "bomb.png", limits=limits)
    assert not report.cleaned and report.notes == ("clean_limit",)  # type: ignore[attr-defined]
    assert dst.read_bytes() == src.read_bytes()  # kept whole; the pipeline encrypts it
    stats = sandbox.recent_runs[-1]
    assert stats.failure == "clean_limit" and not stats.killed
    # The child's own figures: it got near the bound, and never past it.
    assert 0 < stats.peak_rss_kib * 1024 <= stats.peak_vm_kib * 1024 <= limits.memory_bytes
    assert stats.peak_vm_kib * 1024 > limits.memory_bytes // 2
    en = report.summary("en")  # type: ignore[attr-defined]
    assert "NOT cleaned" in en and "memory or time limit" in en


def test_time_overrun_kills_the_child(tmp_path: Path) -> None:
    limits = CleanLimits(memory_bytes=768 * MIB, seconds=0.05, concurrency=1, wait_seconds=5)
    report, src, dst = _clean(tmp_path, jpeg_bytes(), "p.jpg", limits=limits)
    assert not report.cleaned and report.notes == ("clean_limit",)  # type: ignore[attr-defined]
    assert dst.read_bytes() == src.read_bytes()
    assert sandbox.recent_runs[-1].killed


@pytest.mark.slow
def test_bomb_under_the_default_limit_is_cleaned_in_bounded_memory(tmp_path: Path,
                                                                    bomb: bytes) -> None:
    report, _src, dst = _clean(tmp_path, bomb, "bomb.png")
    assert report.cleaned and "image_reencoded" in report.removed  # type: ignore[attr-defined]
    assert MARKER_B not in dst.read_bytes()
    stats = sandbox.recent_runs[-1]
    assert stats.peak_rss_kib * 1024 > 96 * MIB  # it really decoded a full copy ...
    assert stats.peak_vm_kib * 1024 <= sandbox.current_limits().memory_bytes  # ... bounded


def test_no_free_slot_refuses_instead_of_skipping_the_cleaning(tmp_path: Path,
                                                               restore_limits: None) -> None:
    sandbox.configure(CleanLimits(concurrency=1, wait_seconds=0.2))
    held = threading.Event()
    release = threading.Event()

    def occupy() -> None:
        with_slot = sandbox._slots
        with_slot.acquire()
        held.set()
        release.wait(10)
        with_slot.release()

    t = threading.Thread(target=occupy)
    t.start()
    try:
        assert held.wait(5)
        with pytest.raises(CleaningBusy):
            _clean(tmp_path, jpeg_bytes(), "p.jpg")
    finally:
        release.set()
        t.join()
    report, _src, _dst = _clean(tmp_path, jpeg_bytes(), "p2.jpg")  # the slot is free again
    assert report.cleaned  # type: ignore[attr-defined]


def test_limits_refuse_nonsense(restore_limits: None) -> None:
    for bad in (CleanLimits(concurrency=0), CleanLimits(memory_bytes=MIB - 1),
                CleanLimits(seconds=0)):
        with pytest.raises(ValueError):
            sandbox.configure(bad)
