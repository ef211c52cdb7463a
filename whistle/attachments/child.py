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
    if outcome.failure:
        print(json.dumps({"failure": outcome.failure}))
    else:
        print(json.dumps({"removed": sorted(outcome.removed), "notes": sorted(outcome.notes)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
