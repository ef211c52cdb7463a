"""argon2-cffi versus cryptography's own Argon2id (issue 14: one dependency fewer?).

Run from the repo root:  .venv/bin/python bench/bench_argon2.py [--reps 15]

For the two parameter sets whistle uses (crypto.kdf.PASSPHRASE_DEFAULT, 4 lanes, and
TICKET_DEFAULT, 1 lane) it checks that both libraries derive the same 32 bytes, then reports
the median wall and CPU time of each, and the ratio. argon2-cffi runs its lanes on threads;
whether cryptography (OpenSSL's ARGON2ID) does shows in CPU time > wall time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2.low_level import Type, hash_secret_raw  # noqa: E402
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: E402

from crypto.kdf import PASSPHRASE_DEFAULT, TICKET_DEFAULT, Argon2Params  # noqa: E402


def with_cffi(secret: bytes, salt: bytes, p: Argon2Params) -> bytes:
    return hash_secret_raw(secret, salt, time_cost=p.iterations, memory_cost=p.memory_kib,
                           parallelism=p.lanes, hash_len=32, type=Type.ID, version=19)


def with_cryptography(secret: bytes, salt: bytes, p: Argon2Params) -> bytes:
    return Argon2id(salt=salt, length=32, iterations=p.iterations, lanes=p.lanes,
                    memory_cost=p.memory_kib).derive(secret)


def measure(fn: Callable[[bytes, bytes, Argon2Params], bytes], p: Argon2Params,
            reps: int) -> tuple[float, float]:
    walls, cpus = [], []
    fn(b"warm-up", os.urandom(16), p)
    for _ in range(reps):
        salt = os.urandom(16)
        w, c = time.perf_counter(), time.process_time()
        fn(b"correct horse battery staple", salt, p)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}; medians of {args.reps} runs")
    print("| parameters | argon2-cffi wall / CPU | cryptography wall / CPU | wall ratio |")
    print("|---|---|---|---|")
    for label, p in (("passphrase", PASSPHRASE_DEFAULT), ("ticket", TICKET_DEFAULT)):
        salt = os.urandom(16)
        assert with_cffi(b"x", salt, p) == with_cryptography(b"x", salt, p), "outputs differ"
        cw, cc = measure(with_cffi, p, args.reps)
        yw, yc = measure(with_cryptography, p, args.reps)
        print(f"| {label}: {p.memory_kib // 1024} MiB, t={p.iterations}, lanes={p.lanes} | "
              f"{cw:.1f} / {cc:.1f} ms | {yw:.1f} / {yc:.1f} ms | {yw / cw:.2f} |")


if __name__ == "__main__":
    main()
