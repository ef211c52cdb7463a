"""What bounded cleaning costs (issue 10, image bombs).

Run from the repo root:  .venv/bin/python bench/bench_clean.py [--reps 7]

Medians of --reps runs of clean_file on: a 12 MP phone-like JPEG with EXIF/GPS, a small DOCX,
and a 23.9 MP PNG bomb (~100 KB on the wire, just under the pixel cap, so it is decoded); each
in-process (isolate=False, the former behaviour) and in the bounded child (the default), with
the child's peak RSS from wait4. The bomb is also run under a 160 MiB limit, where it overruns
and is kept "not cleaned".
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "attachments")]

from att_fixtures import docx_bytes, jpeg_bytes, png_pixels_bomb_bytes  # noqa: E402

from whistle.attachments import clean_file, sandbox  # noqa: E402
from whistle.attachments.sandbox import MIB, CleanLimits  # noqa: E402


def run(src: Path, reps: int, **kw: object) -> tuple[float, int, bool]:
    times, peaks, cleaned = [], [], True
    for i in range(reps):
        dst = src.with_name(f"{src.name}.{i}.clean")
        started = time.perf_counter()
        report = clean_file(src, dst, src.name, None, **kw)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        cleaned = report.cleaned
        if kw.get("isolate", True):
            peaks.append(sandbox.recent_runs[-1].peak_rss_kib)  # the child's own VmHWM
        dst.unlink()
    return statistics.median(times), max(peaks) // 1024 if peaks else 0, cleaned


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    reps = ap.parse_args().reps
    with tempfile.TemporaryDirectory() as d:
        files = {"photo 12 MP JPEG": ("photo.jpg", jpeg_bytes(size=(4000, 3000))),
                 "DOCX": ("report.docx", docx_bytes()),
                 "PNG bomb 23.9 MP": ("bomb.png", png_pixels_bomb_bytes(5975, 4000))}
        print(f"medians of {reps} runs")
        print("| file | in-process | bounded child | child peak RSS | overhead |")
        print("|---|---|---|---|---|")
        for label, (name, data) in files.items():
            src = Path(d) / name
            src.write_bytes(data)
            here, _, _ = run(src, reps, isolate=False)
            child, peak, _ = run(src, reps)
            print(f"| {label} ({len(data) // 1024} KB) | {here * 1000:.0f} ms | "
                  f"{child * 1000:.0f} ms | {peak} MiB | +{(child - here) * 1000:.0f} ms |")
        low = CleanLimits(memory_bytes=160 * MIB)
        t, peak, cleaned = run(Path(d) / "bomb.png", reps, limits=low)
        print(f"| PNG bomb under a 160 MiB limit | - | {t * 1000:.0f} ms | {peak} MiB | "
              f"cleaned={cleaned} |")


if __name__ == "__main__":
    main()
