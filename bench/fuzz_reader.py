"""Fuzz the capture reader, for campaigns longer than the test suite's.

    python bench/fuzz_reader.py --seconds 600              # atheris if installed, else hypothesis
    python bench/fuzz_reader.py --engine hypothesis --seconds 60
    python bench/fuzz_reader.py --engine atheris --seconds 60 [-- LIBFUZZER-ARGS ...]
    python bench/fuzz_reader.py --replay bench/out/fuzz/crash-...   # re-check saved inputs

Engines:

* ``atheris`` (``pip install atheris``; coverage-guided libFuzzer over the instrumented
  scapkit modules). Its corpus starts from the seeds below (bench/out/fuzz/corpus); a
  crash, a hang (``-timeout``, default 10 s) or an RSS over ``--rss-mb`` leaves the input
  in bench/out/fuzz/ (``crash-*``, ``timeout-*``, ``oom-*``).
* ``hypothesis`` (no extra dependency): structured mutations of the seeds, in rounds
  until the time budget is spent; a failing input is shrunk by hypothesis, then saved
  as bench/out/fuzz/crash-<sha1>.scap with its traceback (.txt).

Seeds: slices of the three real captures in tests/data (every block kind: SHB 1.0/1.2,
MI, IL/IL v2, UL/UL v2, PL v5/v9, FDL/FDL v2, EV v1/v2), and one capture with the same
events re-framed as EVF, EVF v2, EV/EVF v2 LARGE and pre-release (0x8xxxABCD) blocks.
Mutations (hypothesis engine): bit flips, byte and u16/u32 writes (lengths in headers,
trailers and inside bodies), truncation at and around block boundaries, block type
swaps, block splices from other seeds, duplicated and deleted blocks, inserted junk;
the result is sometimes gzip- or zstd-compressed, and the compressed form sometimes cut.

Invariants checked on every input (run_checks):

1. Only NotACaptureError may escape, and only about the start of the input (offset 0
   or 8); every other problem ends in ``reader.damage``: FormatError subclasses, each
   with an offset inside the (decompressed) input and a one-line description; at most
   DEFAULT_MAX_DAMAGE of them, plus one saying how many more were left out.
2. Events come out in increasing block offset, each inside the input.
3. The result does not depend on the reader's window: the same events and damage with
   a 61-byte chunk (window edges everywhere), for inputs up to 64 KiB.
4. Compression is transparent: gzip(input) reads to the same events, and the same
   damage except for the compressed stream's own records.
5. The summary scan (C scanner, when available) reports the same damage, block counts
   and event count as the pure-Python scan.
6. Time per input under ``--max-input-seconds`` (default 2 s), and the process RSS
   under ``--rss-mb`` (default 1024).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import resource
import signal
import struct
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT = ROOT / "bench" / "out" / "fuzz"
CAPTURES = ["curl_google.scap", "single_ipv6_conn.scap", "test_ipv6_client.scap"]

# Filled by _import() (inside atheris.instrument_imports() for the atheris engine).
R = B = E = cscan = None  # type: ignore[assignment]
SMALL_WINDOW_LIMIT = 64 << 10


def _import() -> None:
    global R, B, E, cscan
    from scapkit.scapfile import blocks as B_
    from scapkit.scapfile import errors as E_
    from scapkit.scapfile import reader as R_

    try:
        from scapkit.scapfile import cscan as C_
        if not C_.available():
            C_ = None
    except Exception:  # pragma: no cover - scanner missing or broken: check the rest
        C_ = None
    R, B, E, cscan = R_, B_, E_, C_


class InvariantError(AssertionError):
    pass


class Hang(Exception):
    pass


# -- the checks -------------------------------------------------------------------------------

def _read(data: bytes, chunk: int | None = None):  # type: ignore[no-untyped-def]
    saved = R.CHUNK
    if chunk:
        R.CHUNK = chunk
    try:
        r = R.CaptureReader(io.BytesIO(data))
        with r:
            evs = [(e.offset, e.ts, e.tid, e.type, e.nparams, e.data) for e in r.events()]
        return evs, r
    finally:
        R.CHUNK = saved


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise InvariantError(what)


def run_checks(data: bytes, *, cscan_check: bool = True, max_seconds: float = 2.0) -> None:
    t0 = time.monotonic()
    try:
        evs, r = _read(data)
    except E.NotACaptureError as exc:
        _check(exc.offset in (0, 8), f"NotACaptureError at offset {exc.offset}")
        _check("\n" not in exc.describe(), "multi-line message")
        return
    size = r.bytes_read if r.compression != "none" else len(data)
    last = -1
    for ev in evs:
        _check(last < ev[0], f"event offsets not increasing: {last} then {ev[0]}")
        last = ev[0]
    if r.compression == "none":
        _check(last < len(data), "event offset past the input")
    for d in r.damage:
        _check(isinstance(d, E.FormatError), f"damage of type {type(d).__name__}")
        _check(d.offset is not None and d.offset >= 0, f"damage without offset: {d!r}")
        _check("\n" not in d.describe(), "multi-line damage message")
        if r.compression == "none":
            _check(d.offset <= len(data), f"damage offset {d.offset} past the input ({size})")
    _check(len(r.damage) <= R.DEFAULT_MAX_DAMAGE + 1, f"{len(r.damage)} damage records")
    damage = [d.describe() for d in r.damage]
    # 3. window independence
    if r.compression == "none" and len(data) <= SMALL_WINDOW_LIMIT:
        evs2, r2 = _read(data, chunk=61)
        _check(evs2 == evs, "events differ with a 61-byte window")
        _check([d.describe() for d in r2.damage] == damage, "damage differs with a 61-byte "
               f"window: {[d.describe() for d in r2.damage]} vs {damage}")
    # 4. compression transparency
    if r.compression == "none" and len(data) <= 4 * SMALL_WINDOW_LIMIT:
        evs3, r3 = _read(gzip.compress(data, 1))
        _check(evs3 == evs, "events differ when gzip-compressed")
        d3 = [d.describe() for d in r3.damage if not isinstance(d, E.CompressionError)]
        _check(d3 == damage, f"damage differs when gzip-compressed: {d3} vs {damage}")
    # 5. the C summary scan against the pure one
    if cscan_check and cscan is not None:
        totals = []
        for use_c in (False, True):
            rr = R.CaptureReader(io.BytesIO(data))
            with rr:
                rr.scan_summary(use_c=use_c)
            totals.append(([d.describe() for d in rr.damage], dict(rr.block_counts),
                           rr.events_read, dict(rr.unknown_event_types)))
        _check(totals[0] == totals[1], f"C scan differs from the pure scan: {totals[1]} vs "
               f"{totals[0]}")
        _check(totals[0][0] == damage, "scan_summary damage differs from events() damage")
    if time.monotonic() - t0 > max_seconds:
        raise Hang(f"{time.monotonic() - t0:.2f} s for a {len(data)}-byte input")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- seeds --------------------------------------------------------------------------------------

def _walk(data: bytes) -> list[tuple[int, int, int]]:
    out, off = [], 0
    while off + 8 <= len(data):
        bt, n = struct.unpack_from("<II", data, off)
        if n < 12 or off + n > len(data):
            break
        out.append((off, bt, n))
        off += n
    return out


def _frame(bt: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", bt, n) + body + struct.pack("<I", n)


def seeds() -> list[bytes]:
    out = []
    variety = []
    for name in CAPTURES:
        data = gzip.decompress((DATA / name).read_bytes())
        blocks = _walk(data)
        shb = data[:blocks[0][2]]
        meta = [data[o:o + n] for o, bt, n in blocks[1:] if bt not in B.EVENT_BLOCKS]
        evs = [(bt, data[o:o + n]) for o, bt, n in blocks if bt in B.EVENT_BLOCKS]
        small_meta = [m for m in meta if struct.unpack_from("<I", m)[0] not in B.PL_VERSIONS]
        pl = [m for m in meta if struct.unpack_from("<I", m)[0] in B.PL_VERSIONS]
        out.append(shb + b"".join(small_meta[:6]) + b"".join(b for _, b in evs[:40]))
        out.append(shb + b"".join(b for _, b in evs[200:260]))
        out.append(shb + b"".join(meta[:3]) + b"".join(pl) + b"".join(b for _, b in evs[:5]))
        # the same events in the other event block kinds
        for i, (bt, blk) in enumerate(evs[300:330]):
            body = blk[8:-4]
            v2 = B.EVENT_BLOCKS[bt][0]
            kind = [(0x208, 0x8010ABCD), (0x217, 0x221, 0x222)][v2][i % (2 + v2)]
            if B.EVENT_BLOCKS[kind][1]:
                body = body[:2] + struct.pack("<I", i) + body[2:]
            variety.append(_frame(kind, body))
    out.append(out[1][:28] + b"".join(variety))
    return out


# -- hypothesis engine ------------------------------------------------------------------------------

_INTERESTING = [0, 1, 4, 8, 11, 12, 13, 26, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000,
                65548, 65549, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF]


def mutation_strategy(seed_list: list[bytes]):  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    known = sorted(int(t) for t in B.BlockType)

    @st.composite
    def mutated(draw):  # type: ignore[no-untyped-def]
        data = bytearray(draw(st.sampled_from(seed_list)))
        for _ in range(draw(st.integers(1, 6))):
            blocks = _walk(bytes(data))
            if len(data) < 30:
                break
            op = draw(st.sampled_from(["flip", "byte", "len", "trailer", "field", "truncate",
                                       "type", "splice", "dup", "delete", "junk", "shift"]))
            pos = draw(st.integers(28, len(data) - 1))
            blk = draw(st.sampled_from(blocks)) if blocks else (28, 0, 12)
            o, bt, n = blk
            if op == "flip":
                data[pos] ^= 1 << draw(st.integers(0, 7))
            elif op == "byte":
                data[pos] = draw(st.integers(0, 255))
            elif op in ("len", "trailer", "field"):
                at = o + 4 if op == "len" else o + n - 4 if op == "trailer" else \
                    draw(st.integers(o, max(o, o + n - 2)))
                rel = draw(st.sampled_from([n - 4, n + 4, n - 1, n + 1, 2 * n]))
                value = draw(st.sampled_from(_INTERESTING) | st.just(rel)
                             | st.integers(0, 0xFFFFFFFF))
                width = 4 if op != "field" or draw(st.booleans()) else 2
                if at + width <= len(data):
                    data[at:at + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width,
                                                                                       "little")
            elif op == "truncate":
                cut = draw(st.sampled_from([o, o + 1, o - 1, o + 8, o + n - 1, pos]))
                del data[max(cut, 28):]
            elif op == "type" and o + 4 <= len(data):
                data[o:o + 4] = struct.pack("<I", draw(st.sampled_from(known)
                                                       | st.integers(0, 0x300)))
            elif op == "splice":
                donor = draw(st.sampled_from(seed_list))
                dblocks = _walk(donor)[1:]
                if dblocks:
                    do, _, dn = draw(st.sampled_from(dblocks))
                    data[o:o] = donor[do:do + dn]
            elif op == "dup":
                data[o:o] = data[o:o + n]
            elif op == "delete" and o >= 28:
                del data[o:o + n]
            elif op == "junk":
                data[pos:pos] = draw(st.binary(min_size=1, max_size=300))
            elif op == "shift":
                data[o:o] = bytes(draw(st.integers(1, 3)))
        out = bytes(data)
        comp = draw(st.sampled_from(["none"] * 6 + ["gzip", "zstd"]))
        if comp != "none":
            if comp == "gzip":
                out = gzip.compress(out, 1)
            else:
                import zstandard
                out = zstandard.ZstdCompressor(level=1).compress(out)
            if draw(st.booleans()):
                out = out[:draw(st.integers(0, len(out)))]
        return out

    return mutated()


def _save(data: bytes, report: str, kind: str = "crash") -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:16]
    p = OUT / f"{kind}-{h}.scap"
    p.write_bytes(data)
    p.with_suffix(".txt").write_text(report)
    return p


def _alarm(_sig, _frame):  # type: ignore[no-untyped-def]
    raise Hang("input ran past the hard time limit (SIGALRM)")


def hypothesis_engine(seconds: float, args: argparse.Namespace) -> int:
    from hypothesis import HealthCheck, Phase, given, settings

    _import()
    seed_list = seeds()
    for s in seed_list:  # the seeds themselves must pass
        run_checks(s, cscan_check=not args.no_cscan, max_seconds=args.max_input_seconds)
    strategy = mutation_strategy(seed_list)
    deadline = time.monotonic() + seconds
    stats = {"inputs": 0, "not_a_capture": 0, "damaged": 0, "clean": 0, "failures": 0}
    hard = max(2, int(args.max_input_seconds * 10))
    signal.signal(signal.SIGALRM, _alarm)

    @settings(max_examples=250, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(data: bytes) -> None:
        if time.monotonic() > deadline:
            return
        stats["inputs"] += 1
        signal.alarm(hard)
        try:
            run_checks(data, cscan_check=not args.no_cscan, max_seconds=args.max_input_seconds)
            if rss_mb() > args.rss_mb:
                raise InvariantError(f"RSS {rss_mb():.0f} MB over {args.rss_mb} MB")
        except BaseException:
            failing["data"] = data  # the last one is the shrunk example hypothesis replays
            raise
        finally:
            signal.alarm(0)

    rounds = 0
    failing: dict[str, bytes] = {}
    while time.monotonic() < deadline:
        rounds += 1
        failing.clear()
        try:
            one()
        except Exception as exc:  # a failure, shrunk by hypothesis
            stats["failures"] += 1
            data = failing.get("data")
            report = "".join(traceback.format_exception(exc))
            print(f"FAILURE: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            if data is not None:
                print(f"  saved {_save(data, report)}")
            else:
                _save_last_failure(report)
            if args.stop_on_failure:
                break
    print(f"hypothesis engine: {rounds} rounds, {stats['inputs']} inputs in {seconds:.0f} s, "
          f"{stats['failures']} failures, peak RSS {rss_mb():.0f} MB")
    return 1 if stats["failures"] else 0


def _save_last_failure(report: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"failure-{int(time.time())}.txt").write_text(report)


# -- atheris engine -----------------------------------------------------------------------------------

def atheris_engine(seconds: float, args: argparse.Namespace, extra: list[str]) -> int:
    import atheris

    with atheris.instrument_imports(include=["scapkit"]):
        _import()
    corpus = OUT / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for i, s in enumerate(seeds()):
            (corpus / f"seed-{i}.scap").write_bytes(s)

    def test_one_input(data: bytes) -> None:
        run_checks(data, cscan_check=not args.no_cscan, max_seconds=args.max_input_seconds)

    argv = [sys.argv[0], f"-max_total_time={int(seconds)}",
            f"-timeout={max(2, int(args.max_input_seconds * 5))}", f"-rss_limit_mb={args.rss_mb}",
            f"-artifact_prefix={OUT}/", "-max_len=300000", *extra, str(corpus)]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
    return 0


# -- main ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    p.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    p.add_argument("--max-input-seconds", type=float, default=2.0)
    p.add_argument("--rss-mb", type=int, default=1024)
    p.add_argument("--no-cscan", action="store_true", help="skip the C-vs-pure summary check")
    p.add_argument("--stop-on-failure", action="store_true")
    p.add_argument("--replay", nargs="+", type=Path, help="check saved inputs and exit")
    args = p.parse_args(argv)
    sys.setrecursionlimit(10000)
    if args.replay:
        _import()
        bad = 0
        for path in args.replay:
            try:
                run_checks(path.read_bytes(), cscan_check=not args.no_cscan,
                           max_seconds=args.max_input_seconds)
                print(f"{path}: ok")
            except Exception:
                bad += 1
                print(f"{path}: FAILED\n{traceback.format_exc()}")
        return 1 if bad else 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if engine == "atheris":
        return atheris_engine(args.seconds, args, extra)
    return hypothesis_engine(args.seconds, args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
