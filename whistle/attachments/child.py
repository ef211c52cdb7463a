"""The cleaning child: ``python -m whistle.attachments.child KIND MAX_PIXELS MEM CPU FSIZE SRC DST``.

Started by sandbox.run only. It bounds itself before any parser reads the file, cleans SRC into DST
and prints one JSON object: ``{"removed": [...], "notes": [...]}``, ``{"failure": code}`` or
``{"io_error": errno}``. Nothing else is printed and nothing is logged.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    from whistle.attachments.sandbox import apply_child_limits

    kind_name, max_pixels, memory, cpu, fsize, src, dst = argv
    apply_child_limits(int(memory), int(cpu), int(fsize))
    from pathlib import Path

    from whistle.attachments.clean import clean_here
    from whistle.attachments.sniff import FileKind

    try:
        outcome = clean_here(FileKind(kind_name), Path(src), Path(dst), int(max_pixels),
                             in_child=True)
    except OSError as exc:
        print(json.dumps({"io_error": exc.errno or 5}))
        return 0
    result: dict[str, object] = ({"failure": outcome.failure} if outcome.failure else
                                 {"removed": sorted(outcome.removed),
                                  "notes": sorted(outcome.notes)})
    print(json.dumps(result | _peaks()))
    return 0


def _peaks() -> dict[str, int]:
    """This process's own high-water marks. wait4's ru_maxrss is no use here: Linux carries
    the parent's RSS at fork into the exec'd child's figure."""
    found: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmPeak"):
                    found["rss_kib" if key == "VmHWM" else "vm_kib"] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
