"""Three 23.9-megapixel PNGs of ~100 KB each, posted anonymously in one report: the web worker
must not decode them itself, the cleaning children must stay inside their memory limit, and the
report must still be filed, with each file kept (encrypted) and marked "not cleaned" to the
reporter. Measured in a fresh process standing for one worker; times are printed, not asserted
(bench/bench_clean.py reports medians)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("bomb_driver.py")
MEMORY_MIB = 160  # below what one decoded copy plus the child's baseline needs
DECODED_COPY_KIB = 5975 * 4000 * 4 // 1024


@pytest.mark.slow
def test_bomb_uploads_stay_bounded_and_are_marked_not_cleaned(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(DRIVER), str(tmp_path), str(MEMORY_MIB)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nbomb upload: {result['seconds']:.2f} s for 3 files "
          f"(a one-photo report: {result['warm_seconds']:.2f} s); worker peak "
          f"{result['worker_peak_before_kib'] // 1024} -> {result['worker_peak_after_kib'] // 1024}"
          f" MiB; cleaning children's address-space peak {result['children_peak_kib'] // 1024} MiB")
    assert result["status"] == 303  # the report was filed
    # The worker's peak grew by less than one decoded copy: the pixels never reached it.
    growth = result["worker_peak_after_kib"] - result["worker_peak_before_kib"]
    assert growth < DECODED_COPY_KIB // 2, growth
    assert 0 < result["children_peak_kib"] <= result["limit_kib"]
    assert result["children_failures"] == ["clean_limit"] * 3
    html = result["case_html"]
    for i in range(3):
        assert f"bomb-{i}.png" in html
    assert html.count("Hidden information was NOT removed") == 3
    assert html.count("memory or time limit") == 3
