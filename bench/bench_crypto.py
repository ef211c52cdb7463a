"""Benchmarks for the crypto package.

Run from the repo root:

    .venv/bin/python bench/bench_crypto.py                 # full run, 1 GiB stream
    .venv/bin/python bench/bench_crypto.py --size-mib 64   # quicker
    .venv/bin/python bench/bench_crypto.py --reps 5 --json # machine-readable

Measures (medians over --reps repetitions):

* STREAM encrypt/decrypt throughput of a --size-mib file, as a ratio to raw AES-256-GCM
  (cryptography's AESGCM over the same bytes, same 64 KiB chunking, same file I/O, same run;
  input read from the page-cached temp file, output written to /dev/null so disk write-back
  does not drown the comparison).  Target >= 0.8.
* Peak RSS above the interpreter baseline during stream encrypt + decrypt, measured in a
  fresh subprocess from /proc/self/status VmHWM (fallback: getrusage ru_maxrss).  Target
  < 64 MiB.
* HPKE wrap/unwrap per recipient (both suites), in microseconds.
* Argon2id at the real PASSPHRASE_DEFAULT and TICKET_DEFAULT, in ms (wall and CPU).
* Envelope open (incl. HPKE unwrap) of a 10 KB report.

The input file is generated streamingly into a temporary directory (never held in memory).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


def _vm_hwm_kib() -> int:
    """Peak resident set size of this process so far, in KiB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _make_input(path: Path, size: int) -> None:
    block = 4 * MIB
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(block, left)
            fh.write(os.urandom(n))
            left -= n


def _raw_encrypt(key: bytes, src: Path, dst: str) -> None:
    """Baseline: AESGCM over the same 64 KiB chunks with counter nonces, same file I/O."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aes = AESGCM(key)
    counter = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(64 * 1024):
            fout.write(aes.encrypt(counter.to_bytes(12, "big"), chunk, None))
            counter += 1


def _raw_decrypt(key: bytes, src: Path, dst: str) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aes = AESGCM(key)
    counter = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(64 * 1024 + 16):
            fout.write(aes.decrypt(counter.to_bytes(12, "big"), chunk, None))
            counter += 1


def _digest(p: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(p, "rb") as fh:
        while b := fh.read(MIB):
            h.update(b)
    return h.hexdigest()


def _stream_child(path: str, reps: int) -> None:
    """Runs in a fresh interpreter: timings + peak RSS of stream encrypt/decrypt.

    Timed runs read from the (page-cached) input and write to /dev/null, so the ratio
    compares crypto + Python overhead rather than disk write-back.  Stream and raw runs
    alternate order every repetition to cancel ordering effects.
    """
    import crypto
    from crypto.stream import decrypt_stream, encrypt_stream

    src = Path(path)
    work = src.parent
    key = crypto.generate_key()
    baseline_kib = _vm_hwm_kib()  # after imports, before any stream work
    size = src.stat().st_size
    out: dict = {"size": size, "enc": [], "dec": [], "raw_enc": [], "raw_dec": []}
    ct, pt, rct = work / "ct", work / "pt", work / "rct"
    # Untimed: produce the ciphertexts that the decrypt runs read, and check the round trip.
    with open(src, "rb") as fin, open(ct, "wb") as fout:
        encrypt_stream(key, fin, fout, aad=b"bench")
    with open(ct, "rb") as fin, open(pt, "wb") as fout:
        decrypt_stream(key, fin, fout, aad=b"bench")
    assert _digest(pt) == _digest(src), "stream round trip mismatch"
    pt.unlink()
    _raw_encrypt(key, src, str(rct))

    def t_enc() -> None:
        t = time.perf_counter()
        with open(src, "rb") as fin, open(os.devnull, "wb") as fout:
            encrypt_stream(key, fin, fout, aad=b"bench")
        out["enc"].append(time.perf_counter() - t)

    def t_raw_enc() -> None:
        t = time.perf_counter()
        _raw_encrypt(key, src, os.devnull)
        out["raw_enc"].append(time.perf_counter() - t)

    def t_dec() -> None:
        t = time.perf_counter()
        with open(ct, "rb") as fin, open(os.devnull, "wb") as fout:
            decrypt_stream(key, fin, fout, aad=b"bench")
        out["dec"].append(time.perf_counter() - t)

    def t_raw_dec() -> None:
        t = time.perf_counter()
        _raw_decrypt(key, rct, os.devnull)
        out["raw_dec"].append(time.perf_counter() - t)

    for i in range(reps):
        order = (
            [t_enc, t_raw_enc, t_dec, t_raw_dec]
            if i % 2 == 0
            else [t_raw_enc, t_enc, t_raw_dec, t_dec]
        )
        for fn in order:
            fn()
    out["baseline_hwm_kib"] = baseline_kib
    out["peak_hwm_kib"] = _vm_hwm_kib()
    for p in (ct, rct):
        p.unlink(missing_ok=True)
    print(json.dumps(out))


def _median_us(fn, n: int, reps: int) -> float:
    runs = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(runs)


def _bench_small(reps: int) -> dict:
    import crypto
    import crypto.kdf as kdf

    res: dict = {"hpke": {}, "argon2": {}}
    ctx = b"whistle/case-key/0123456789abcdef0123456789abcdef"
    for name, suite in (
        ("MLKEM768_X25519", crypto.SUITE_MLKEM768_X25519),
        ("X25519", crypto.SUITE_X25519),
    ):
        priv = crypto.PrivateKey.generate(suite)
        pub = priv.public_key()
        secret = os.urandom(32)
        blob = pub.wrap(secret, context=ctx)
        res["hpke"][name] = {
            "wrap_us": _median_us(lambda p=pub, s=secret: p.wrap(s, context=ctx), 200, reps),
            "unwrap_us": _median_us(lambda k=priv, b=blob: k.unwrap(b, context=ctx), 200, reps),
            "wrap_bytes": len(blob),
        }
    for name, params in (("passphrase", kdf.PASSPHRASE_DEFAULT), ("ticket", kdf.TICKET_DEFAULT)):
        wall, cpu = [], []
        for _ in range(max(reps, 5)):
            w, c = time.perf_counter(), time.process_time()
            crypto.derive_key(b"correct horse battery staple", os.urandom(16), params)
            wall.append((time.perf_counter() - w) * 1e3)
            cpu.append((time.process_time() - c) * 1e3)
        res["argon2"][name] = {
            "params": vars(params),
            "wall_ms": statistics.median(wall),
            "cpu_ms": statistics.median(cpu),
        }
    report = os.urandom(10_000)
    priv = crypto.PrivateKey.generate()
    env_bytes = crypto.Envelope.seal(
        report, {"team": priv.public_key()}, aad=b"case:x|field:y"
    ).to_bytes()

    def open_env() -> None:
        crypto.Envelope.from_bytes(env_bytes).open("team", priv, aad=b"case:x|field:y")

    res["envelope_open_10kb_us"] = _median_us(open_env, 200, reps)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size-mib", type=int, default=1024, help="stream input size (default 1024)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per measurement (default 3)")
    ap.add_argument("--skip-stream", action="store_true", help="only the small benchmarks")
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    ap.add_argument("--tmpdir", default=None, help="where to put the temporary input file")
    ap.add_argument("--_stream-child", dest="child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _stream_child(args.child, args.reps)
        return

    result: dict = {"python": sys.version.split()[0]}
    if not args.skip_stream:
        with tempfile.TemporaryDirectory(dir=args.tmpdir, prefix="whistle-bench-") as tmp:
            src = Path(tmp) / "input.bin"
            _make_input(src, args.size_mib * MIB)
            proc = subprocess.run(
                [sys.executable, __file__, "--_stream-child", str(src), "--reps", str(args.reps)],
                check=True,
                capture_output=True,
                text=True,
            )
            s = json.loads(proc.stdout)
        size = s["size"]
        med = {k: statistics.median(s[k]) for k in ("enc", "dec", "raw_enc", "raw_dec")}
        result["stream"] = {
            "size_mib": size / MIB,
            "encrypt_mib_s": size / MIB / med["enc"],
            "decrypt_mib_s": size / MIB / med["dec"],
            "raw_encrypt_mib_s": size / MIB / med["raw_enc"],
            "raw_decrypt_mib_s": size / MIB / med["raw_dec"],
            "encrypt_ratio": med["raw_enc"] / med["enc"],
            "decrypt_ratio": med["raw_dec"] / med["dec"],
            "peak_rss_above_baseline_mib": (s["peak_hwm_kib"] - s["baseline_hwm_kib"]) / 1024,
            "baseline_rss_mib": s["baseline_hwm_kib"] / 1024,
        }
    result.update(_bench_small(args.reps))

    if args.json:
        print(json.dumps(result, indent=2))
        return
    if "stream" in result:
        st = result["stream"]
        print(f"stream {st['size_mib']:.0f} MiB (median of {args.reps}):")
        print(
            f"  encrypt {st['encrypt_mib_s']:.0f} MiB/s vs raw AES-GCM {st['raw_encrypt_mib_s']:.0f} MiB/s"
            f" -> ratio {st['encrypt_ratio']:.2f}"
        )
        print(
            f"  decrypt {st['decrypt_mib_s']:.0f} MiB/s vs raw AES-GCM {st['raw_decrypt_mib_s']:.0f} MiB/s"
            f" -> ratio {st['decrypt_ratio']:.2f}"
        )
        print(
            f"  peak RSS above baseline {st['peak_rss_above_baseline_mib']:.1f} MiB"
            f" (baseline {st['baseline_rss_mib']:.1f} MiB)"
        )
    for name, h in result["hpke"].items():
        print(
            f"HPKE {name}: wrap {h['wrap_us']:.0f} us, unwrap {h['unwrap_us']:.0f} us per recipient"
            f" ({h['wrap_bytes']} bytes/wrap)"
        )
    for name, a in result["argon2"].items():
        print(
            f"Argon2id {name} {a['params']}: {a['wall_ms']:.1f} ms wall, {a['cpu_ms']:.1f} ms CPU"
        )
    print(f"envelope open, 10 KB report, hybrid suite: {result['envelope_open_10kb_us']:.0f} us")


if __name__ == "__main__":
    main()
