"""The C summary scanner (scapfile/cscan.py + cscan.c) against the pure-Python path.

Every test compares whole CaptureSummary objects (damage list and offsets included)
read with the C scanner and without it, and the event totals with a verbatim copy of
the summarize() loop as it was before the scanner existed (the oracle).
"""

from __future__ import annotations

import gzip
import io
import os
import random
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scapkit.scapfile import cext, cscan
from scapkit.scapfile import reader as reader_mod
from scapkit.scapfile.errors import ScapError
from scapkit.scapfile.event_table import DYN_GROUPS, EVENTS, NUM_EVENTS, PT, PF, ParamInfo
from scapkit.scapfile.events import GENERIC_CODES, LARGE_PAYLOAD
from scapkit.scapfile.params import ParamDecodeError, decode_param
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.summary import summarize
from scapkit.scapfile.writer import frame_block

DATA = Path(__file__).parent / "data"
CAPTURES = ["curl_google.scap", "single_ipv6_conn.scap", "test_ipv6_client.scap"]

needs_c = pytest.mark.skipif(not cscan.available(),
                             reason=f"C scanner unavailable: {cscan.unavailable_reason()}")
pytestmark = needs_c

_HDR = struct.Struct("<II")
_SHB = frame_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 2, -1))


# -- oracle and comparison ---------------------------------------------------------------

def oracle_totals(data: bytes, decode: bool = True) -> tuple:
    """The summarize() event loop before the C scanner existed (verbatim logic)."""
    reader = CaptureReader(io.BytesIO(data))
    counts: Counter[int] = Counter()
    names: Counter[str] = Counter()
    first = last = None
    bad = 0
    with reader:
        for ev in reader.events():
            t = ev.type
            counts[t] += 1
            if t in GENERIC_CODES:
                names[ev.type_name] += 1
            if first is None:
                first = ev.ts
            last = ev.ts
            if decode and ev.nparams and t < NUM_EVENTS:
                decls = EVENTS[t].params
                for i, raw in enumerate(ev.raw_params()):
                    if i < len(decls):
                        try:
                            decode_param(decls[i], raw)
                        except ParamDecodeError:
                            bad += 1
    return (counts, names, first, last, bad, [d.describe() for d in reader.damage],
            reader.block_counts, reader.unknown_event_types, reader.bytes_read,
            reader.events_read)


def run(data: bytes, use_c: bool, decode: bool = True) -> tuple[Any, Any]:
    """(summary or exception text, reader-side totals) for one path."""
    try:
        s = summarize(io.BytesIO(data), decode=decode, use_c=use_c)
    except ScapError as exc:
        return (type(exc).__name__, str(exc)), None
    r = CaptureReader(io.BytesIO(data))
    with r:
        tot = r.scan_summary(decode, use_c=use_c)
    state = (tot.type_counts, tot.generic_names, tot.first_ts, tot.last_ts, tot.bad_params,
             [d.describe() for d in r.damage], r.block_counts, r.unknown_event_types,
             r.bytes_read, r.events_read)
    return s, (state, tot.fast_events)


def assert_same(data: bytes, decode: bool = True) -> int:
    """C and pure agree (and agree with the oracle); returns the events the C path took."""
    s_c, t_c = run(data, True, decode)
    s_py, t_py = run(data, False, decode)
    assert s_c == s_py
    if t_c is None:
        assert t_py is None
        return 0
    assert t_c[0] == t_py[0]
    assert t_py[1] == 0
    assert t_c[0] == oracle_totals(data, decode)
    if not isinstance(s_c, tuple):
        assert s_c.to_json() == s_py.to_json()
    return t_c[1]


# -- capture helpers --------------------------------------------------------------------

def plain(name: str) -> bytes:
    raw = (DATA / name).read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def split_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """(type, body incl. padding) of each block of an intact plain capture."""
    out, i = [], 0
    while i + 8 <= len(data):
        bt, bl = _HDR.unpack_from(data, i)
        out.append((bt, data[i + 8:i + bl - 4]))
        i += bl
    return out


def join_blocks(blocks: list[tuple[int, bytes]]) -> bytes:
    return b"".join(_HDR.pack(bt, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
                    for bt, body in blocks)


EV_V1 = {0x204, 0x8010ABCD, 0x208}
EV_V2 = {0x216, 0x217, 0x221, 0x222}
FLAGS_OF = {0x204: 0x208, 0x216: 0x217, 0x221: 0x222}


def with_event_blocks(data: bytes, mode: str) -> bytes:
    """Rewrite the event blocks: 'evf' (dump flags added), 'int' (v1 pre-release type),
    'large' (v2 in LARGE blocks)."""
    out = []
    for k, (bt, body) in enumerate(split_blocks(data)):
        if mode == "evf" and bt in FLAGS_OF:
            body = body[:2] + struct.pack("<I", k * 7 & 0xFFFFFFFF) + body[2:]
            bt = FLAGS_OF[bt]
        elif mode == "int" and bt == 0x204:
            bt = 0x8010ABCD
        elif mode == "large" and bt == 0x216:
            bt = 0x221
        out.append((bt, body))
    return join_blocks(out)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, 6)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3).compress(data)


@pytest.fixture(params=[None, 97, 4096])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int | None:
    """Reader window size: default, or tiny so blocks straddle window edges."""
    if request.param is not None:
        monkeypatch.setattr(reader_mod, "CHUNK", request.param)
    return request.param


# -- real captures ------------------------------------------------------------------------

@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("decode", [True, False])
def test_real_captures(name: str, decode: bool, chunk: int | None) -> None:
    data = (DATA / name).read_bytes()
    n = assert_same(data, decode)
    assert n > 0
    if chunk is None:  # whole file in one window: only blocks at its edges go to Python
        s = summarize(DATA / name, decode=decode)
        assert n >= s.events - 2 and s.damage == []


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("variant", ["plain", "zstd", "gzip", "evf", "int", "large",
                                     "evf-zstd"])
def test_variants(name: str, variant: str, chunk: int | None) -> None:
    data = plain(name)
    if variant.startswith("evf"):
        data = with_event_blocks(data, "evf")
    elif variant in ("int", "large"):
        data = with_event_blocks(data, variant)
    if variant.endswith("zstd"):
        data = zst(data)
    elif variant == "gzip":
        data = gz(data)
    assert assert_same(data) > 0


def test_paths_give_identical_json(tmp_path: Path) -> None:
    p = tmp_path / "x.scap.zst"
    p.write_bytes(zst(plain("curl_google.scap")))
    a = summarize(p, use_c=True)
    b = summarize(p, use_c=False)
    assert a.to_json() == b.to_json()
    assert a.path == b.path == str(p) and a.compression == "zstd"


# -- damaged captures ------------------------------------------------------------------------

def event_offsets(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, length) of the event blocks of an intact plain capture."""
    out, i = [], 0
    for bt, body in split_blocks(data):
        if bt in EV_V1 | EV_V2:
            out.append((i, bt, len(body) + 12))
        i += len(body) + 12
    return out


def _mutate(data: bytes, rng: random.Random, events: list[tuple[int, int, int]]) -> bytes:
    """One random damage; ``events`` are block positions of the intact file (after an
    earlier insertion they may be off: the damage is then just elsewhere)."""
    buf = bytearray(data)
    events = [e for e in events if e[0] + e[2] <= len(buf)]
    if not events or len(buf) < len(_SHB) + 16:
        return data
    kind = rng.choice(["flip", "flip_event", "blen", "trailer", "elen", "nparams", "plen",
                       "cut", "junk", "dup", "type"])
    off, bt, bl = rng.choice(events)
    v2 = bt in EV_V2
    head = off + 8 + (6 if bt in (0x208, 0x217, 0x222) else 2)  # event header
    if kind == "flip":
        for _ in range(rng.randint(1, 6)):
            p = rng.randrange(len(_SHB) + 8, len(buf))
            buf[p] ^= 1 << rng.randrange(8)
    elif kind == "flip_event":
        for _ in range(rng.randint(1, 3)):
            p = rng.randrange(off, min(off + 48, off + bl))
            buf[p] = rng.randrange(256)
    elif kind == "blen":
        value = rng.choice([0, 4, 11, 12, bl - 4, bl + 4, bl + 8, 65536 + 12, 65536 + 13,
                            (64 << 20) + 1, rng.randrange(1 << 32)])
        struct.pack_into("<I", buf, off + 4, value)
    elif kind == "trailer":
        struct.pack_into("<I", buf, off + bl - 4, rng.randrange(1 << 32))
    elif kind == "elen":
        struct.pack_into("<I", buf, head + 16, rng.choice(
            [0, 21, 22, 25, 26, bl, bl - 20, rng.randrange(1 << 32), rng.randrange(64)]))
    elif kind == "nparams" and v2:
        struct.pack_into("<I", buf, head + 22, rng.choice(
            [0, 1, 2, 7, 100, 0xFFFFFFFF, rng.randrange(1 << 32)]))
    elif kind in ("plen", "nparams"):
        p = head + (26 if v2 else 22)
        if p + 2 <= off + bl - 4:
            struct.pack_into("<H", buf, p, rng.choice([0, 1, 2, 8, 0xFFFF, rng.randrange(1 << 16)]))
    elif kind == "cut":
        del buf[rng.randrange(len(_SHB), len(buf)):]
    elif kind == "junk":
        buf[off:off] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    elif kind == "dup":
        buf[off:off] = buf[off:off + bl]
    elif kind == "type":
        struct.pack_into("<H", buf, head + 20, rng.choice(
            [0, 1, NUM_EVENTS, NUM_EVENTS + 1, 0xFFFF, 280, 286, rng.randrange(NUM_EVENTS)]))
    return bytes(buf)


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("seed", range(16))
def test_mutated(name: str, seed: int, chunk: int | None) -> None:
    rng = random.Random(f"{name}-{seed}")
    data = plain(name)
    events = event_offsets(data)
    for _ in range(rng.choice([1, 1, 2, 3])):
        data = _mutate(data, rng, events)
    assert_same(data)
    if seed % 4 == 0:
        assert_same(zst(data))
    if seed % 4 == 1:
        g = gz(data)
        assert_same(g[:rng.randrange(len(g) // 2, len(g))])  # cut compressed stream


def test_lying_lengths_messages_identical() -> None:
    data = bytearray(plain("single_ipv6_conn.scap"))
    off = event_offsets(bytes(data))[10][0]
    struct.pack_into("<I", data, off + 4, 70000)  # over the non-large cap
    s = summarize(io.BytesIO(bytes(data)), use_c=True)
    assert s.damage and "over the 65548-byte limit" in s.damage[0]
    assert_same(bytes(data))


def test_truncated_last_block() -> None:
    data = plain("curl_google.scap")
    for cut in (1, 3, 5, 9, 30):
        assert_same(data[:-cut])


# -- random event blocks (hypothesis) ------------------------------------------------------

_INTERESTING = sorted(
    set(GENERIC_CODES) | {c for c in range(NUM_EVENTS) if LARGE_PAYLOAD[c]} | {280, 286}
    | {e.code for e in EVENTS if any(p.type in (
        PT.DYN, PT.SOCKADDR, PT.SOCKTUPLE, PT.FDLIST, PT.CHARBUF_PAIR_ARRAY, PT.IPV4NET,
        PT.IPV6NET, PT.IPNET, PT.IPADDR) for p in e.params)})

_LEN_CHOICES = [0, 1, 2, 4, 7, 8, 10, 12, 13, 16, 17, 19, 22, 32, 37]


@st.composite
def param_bytes(draw: st.DrawFn, decl: ParamInfo | None) -> bytes:
    n = draw(st.sampled_from(_LEN_CHOICES) | st.integers(0, 48))
    if decl is not None and decl.type in PT_SIZE and draw(st.booleans()):
        n = PT_SIZE[decl.type]
    first = draw(st.sampled_from([0, 1, 2, 10, 0xFF]) | st.integers(0, 255))
    body = draw(st.sampled_from([b"\0", b"\xff", b"a\0", b"\0\0"]) | st.binary(max_size=4))
    raw = (bytes([first]) + body * 64)[:n] if n else b""
    if len(raw) < n:
        raw += b"\0" * (n - len(raw))
    return raw


PT_SIZE = {pt: a for pt, (k, a, b) in cscan.PT_RULES.items() if k == cscan.K_SIZE}


@st.composite
def event_block(draw: st.DrawFn) -> bytes:
    etype = draw(st.sampled_from(_INTERESTING) | st.integers(0, NUM_EVENTS + 3)
                 | st.just(0xFFFF))
    decls = EVENTS[etype].params if etype < NUM_EVENTS else ()
    n = draw(st.integers(0, len(decls) + 2) | st.just(len(decls)))
    params = [draw(param_bytes(decls[i] if i < len(decls) else None)) for i in range(n)]
    large = etype < NUM_EVENTS and LARGE_PAYLOAD[etype]
    lens = struct.pack(f"<{n}{'I' if large else 'H'}", *(len(p) for p in params))
    payload = lens + b"".join(params)
    ts = draw(st.integers(0, (1 << 64) - 1))
    tid = draw(st.integers(-(1 << 63), (1 << 63) - 1))
    kind = draw(st.sampled_from([0x204, 0x8010ABCD, 0x208, 0x216, 0x217, 0x221, 0x222]))
    if kind in EV_V2:
        ev = struct.pack("<QqIHI", ts, tid, 26 + len(payload), etype, n) + payload
    else:
        extra = b"\0\0\0" if etype in (280, 286) and draw(st.booleans()) else b""
        ev = struct.pack("<QqIH", ts, tid, 22 + len(payload) + len(extra), etype) \
            + payload + extra
    head = struct.pack("<H", draw(st.integers(0, 3)))
    if kind in (0x208, 0x217, 0x222):
        head += struct.pack("<I", draw(st.integers(0, 7)))
    body = head + ev + b"\0" * draw(st.sampled_from([0, 0, 1, 3, 4]))
    blk = bytearray(frame_block(kind, body))
    if draw(st.integers(0, 9)) == 0:  # occasional damage
        p = draw(st.integers(0, len(blk) - 1))
        blk[p] = draw(st.integers(0, 255))
    return bytes(blk)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(event_block(), min_size=1, max_size=12),
       meta_at=st.integers(0, 12), cut=st.integers(0, 6), decode=st.booleans(),
       window=st.sampled_from([None, None, 61, 200]))
def test_random_event_blocks(blocks: list[bytes], meta_at: int, cut: int, decode: bool,
                             window: int | None) -> None:
    blocks = list(blocks)
    blocks.insert(min(meta_at, len(blocks)), frame_block(0x12345, b"meta"))  # unknown block
    data = _SHB + b"".join(blocks)
    if cut:
        data = data[:-cut]
    saved = reader_mod.CHUNK
    reader_mod.CHUNK = window or saved
    try:
        assert_same(data, decode)
    finally:
        reader_mod.CHUNK = saved


# -- parameter rules -------------------------------------------------------------------------

def _samples() -> list[bytes]:
    out = [b""]
    for n in range(0, 72):
        out += [b"\0" * n, b"\xff" * n, bytes(range(n)), (b"a\0" * 40)[:n]]
        if n:
            for fam in (1, 2, 10, 3):
                out.append(bytes([fam]) + b"\x07" * (n - 1))
            for sel in range(6):
                out.append(bytes([sel]) + b"\0" * (n - 1))
                out.append(bytes([sel]) + b"\xff" * (n - 1))
    for count in range(5):  # fd lists
        for extra in (-1, 0, 1):
            n = 2 + 10 * count + extra
            if n >= 2:
                out.append(struct.pack("<H", count) + b"\1" * (n - 2))
    for m4 in (b"\xff\xff\xff\x00", b"\xff\x00\xff\x00", b"\xfe\0\0\0", b"\x7f\0\0\0",
               b"\0\0\0\0", b"\xff\xff\xff\xff", b"\xff\xf0\0\0", b"\xff\xe8\0\0"):
        out.append(b"\x0a\0\0\1" + m4)
        out.append(bytes(16) + m4 * 4)
        out.append(bytes(16) + b"\xff" * 12 + m4)
        out.append(bytes(16) + m4 + b"\0" * 12)
    return out


SAMPLES = _samples()


def _params_under_test() -> list[ParamInfo]:
    ps = [ParamInfo("p", pt, PF.NA) for pt in PT if pt != PT.DYN]
    ps += [ParamInfo("d", PT.DYN, PF.NA, alts) for alts in DYN_GROUPS.values()]
    ps += [ParamInfo("d", PT.DYN, PF.NA, None), ParamInfo("d", PT.DYN, PF.NA, ())]
    return ps


def _accepts(p: ParamInfo, raw: bytes) -> bool:
    try:
        decode_param(p, raw)
    except ParamDecodeError:
        return False
    return True


@pytest.fixture(scope="module")
def scanner() -> cscan.Scanner:
    return cscan.Scanner(True, 65548, 1 << 26)


def test_rules_cover_every_type() -> None:
    assert set(cscan.PT_RULES) == set(PT)


@pytest.mark.parametrize("p", _params_under_test(), ids=lambda p: f"{p.type.name}-{p.info!r}"[:40])
def test_param_rule_matches_decode_param(p: ParamInfo, scanner: cscan.Scanner) -> None:
    wrong = [raw for raw in SAMPLES if scanner.check_param(p, raw) != _accepts(p, raw)]
    assert not wrong, f"{p.type.name}: C and decode_param disagree on {wrong[:3]}"
    # the lengths accepted for all-zero values, as the table states them
    kind, a, b = cscan.PT_RULES[p.type]
    if kind == cscan.K_SIZE:
        assert {n for n in range(80) if _accepts(p, b"\0" * n)} == {a, b}
    elif kind == cscan.K_ANY:
        assert all(_accepts(p, bytes([x]) * n) for n in range(80) for x in (0, 0x80, 0xff))


@settings(max_examples=400, deadline=None)
@given(p=st.sampled_from(_params_under_test()), raw=st.binary(max_size=48))
def test_param_rule_random(p: ParamInfo, raw: bytes, scanner: cscan.Scanner) -> None:
    assert scanner.check_param(p, raw) == _accepts(p, raw)


def test_every_declared_param_has_a_rule(scanner: cscan.Scanner) -> None:
    for e in EVENTS:
        for p in e.params:
            scanner.check_param(p, b"")  # builds the spec; raises if a type is unknown


# -- a larger capture from bench/make_large.py ------------------------------------------------

@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_make_large(tmp_path: Path, compress: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    try:
        import make_large
    finally:
        sys.path.pop(0)
    out = tmp_path / "big.scap"
    make_large.build(out, 12000, compress)
    a = summarize(out, use_c=True)
    b = summarize(out, use_c=False)
    assert a == b and a.events == 12000 and not a.damage


# -- switching the C path off, and building it -----------------------------------------------

def test_scapkit_pure_forces_pure_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAPKIT_PURE", "1")
    assert not cscan.available()
    assert cscan.unavailable_reason() == "SCAPKIT_PURE is set"

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("C scanner used")

    monkeypatch.setattr(cscan, "Scanner", boom)
    s = summarize(DATA / "curl_google.scap")
    assert s.events == 1536
    r = CaptureReader(DATA / "curl_google.scap")
    with r:
        assert r.scan_summary(True).fast_events == 0
    monkeypatch.setenv("SCAPKIT_PURE", "0")
    assert cscan.available()


def test_default_uses_c() -> None:
    r = CaptureReader(DATA / "single_ipv6_conn.scap")
    with r:
        t = r.scan_summary(True)
    assert t.fast_events > 1700


def _child(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)


_PROBE = ("from scapkit.scapfile import cscan; from scapkit.scapfile.summary import summarize;"
          "ok = cscan.available(); print(ok, cscan.unavailable_reason());"
          "print(summarize('%s').events)" % (DATA / "curl_google.scap"))


def test_env_pure_in_child() -> None:
    p = _child({"SCAPKIT_PURE": "1"}, _PROBE)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["False SCAPKIT_PURE is set", "1536"]


def test_build_in_fresh_cache_concurrently(tmp_path: Path) -> None:
    env = {"SCAPKIT_CACHE_DIR": str(tmp_path / "cache"), "SCAPKIT_PURE": ""}
    procs = [subprocess.Popen([sys.executable, "-c", _PROBE], env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.split("\n")[:2] == ["True None", "1536"], (out, err)
        assert err == ""
    built = [f for f in (tmp_path / "cache").iterdir() if f.name.endswith(".so")]
    assert len(built) == 1
    assert not [f for f in (tmp_path / "cache").iterdir() if f.name.startswith("build-")]


def test_no_compiler_falls_back(tmp_path: Path) -> None:
    env = {"SCAPKIT_CACHE_DIR": str(tmp_path / "cache"), "CC": "/nonexistent/cc",
           "SCAPKIT_PURE": ""}
    p = _child(env, _PROBE)
    assert p.returncode == 0, p.stderr
    first, events = p.stdout.split("\n")[:2]
    assert first.startswith("False ") and "no C compiler" in first
    assert events == "1536"


def test_shared_cache_dir_refused(tmp_path: Path) -> None:
    d = tmp_path / "shared"
    d.mkdir()
    d.chmod(0o777)
    assert not cext._usable_dir(d)
    d.chmod(0o700)
    assert cext._usable_dir(d)


@pytest.mark.parametrize("cap", [12, 56, 60, 100])
def test_large_block_cap(cap: int) -> None:
    data = with_event_blocks(plain("single_ipv6_conn.scap"), "large")
    states = []
    for use_c in (True, False):
        r = CaptureReader(io.BytesIO(data), max_large_event_block=cap)
        with r:
            t = r.scan_summary(True, use_c=use_c)
        states.append((t.type_counts, t.generic_names, t.first_ts, t.last_ts, t.bad_params,
                       [d.describe() for d in r.damage], r.block_counts,
                       r.unknown_event_types, r.bytes_read, r.events_read))
    assert states[0] == states[1]
    assert states[0][5]  # some blocks were over the cap


def test_rule_table_drift_disables_c(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cscan, "_EXT", cscan._EXT.fresh())
    monkeypatch.delitem(cscan.PT_RULES, PT.IPNET)
    assert not cscan.available()
    assert "PT_RULES lacks" in (cscan.unavailable_reason() or "")
    s = summarize(DATA / "test_ipv6_client.scap")  # the pure path takes over
    assert s == summarize(DATA / "test_ipv6_client.scap", use_c=False)
