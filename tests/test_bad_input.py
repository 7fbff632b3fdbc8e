"""Bad input: truncated, corrupt and hostile captures.

The rule under test (from the issue): every intact event is yielded, then one
one-line error per damage naming its offset, and a non-zero exit code distinct
from usage errors (3); a corrupt block length is resynchronised past (the reader
scans for the next plausible block) rather than ending the read; no traceback, no
hang, no allocation sized by an unchecked length.

The expected results are computed independently of the reader: a small block
walker below splits the real captures into blocks, and every test says which
blocks a mutation destroys; the events of all other blocks must come out
identical (ts, tid, type, data) and in order.

Decision recorded here: a capture cut exactly at a block boundary is
indistinguishable from a complete (shorter) capture, so it reads without damage.
"""

from __future__ import annotations

import bisect
import gzip
import io
import random
import struct
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pytest
import zstandard

from scapkit.scapfile import reader as reader_mod
from scapkit.scapfile.errors import (
    CompressionError,
    FormatError,
    NotACaptureError,
    ScapError,
    TruncatedError,
)
from scapkit.scapfile.events import RawEvent
from scapkit.scapfile.reader import CaptureReader

DATA = Path(__file__).parent / "data"
NAMES = ["curl_google", "single_ipv6_conn", "test_ipv6_client"]
#: curl_google and test_ipv6_client: SHB 1.0, EV v1 (0x204), PL v5, FDL/IL/UL v1.
#: single_ipv6_conn: SHB 1.2, EV v2 (0x216), PL v9, FDL/IL/UL v2.
V2_NAME = "single_ipv6_conn"
V1_NAME = "curl_google"

pytestmark = pytest.mark.timeout(60)

SHB, MI = 0x0A0D0D0A, 0x201
PL_V5, PL_V9 = 0x211, 0x215
FDL_V1, FDL_V2 = 0x203, 0x218
IL_V1, IL_V2 = 0x205, 0x219
UL_V1, UL_V2 = 0x206, 0x220
EV_V1, EV_V2 = 0x204, 0x216
EVENT_TYPES = {0x204, 0x8010ABCD, 0x208, 0x216, 0x217, 0x221, 0x222}
MB = 1 << 20


# -- an independent block walker and the clean reads --------------------------------------

class Blk(NamedTuple):
    offset: int
    type: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


def walk(data: bytes) -> list[Blk]:
    """Split a well-formed capture into blocks (header, length, matching trailer)."""
    out = []
    off = 0
    while off < len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        assert blen >= 12 and off + blen <= len(data), (off, blen)
        assert struct.unpack_from("<I", data, off + blen - 4)[0] == blen, off
        out.append(Blk(off, btype, blen))
        off += blen
    return out


def frame(btype: int, body: bytes) -> bytes:
    """A block from a body (padding to 4 bytes, length in header and trailer)."""
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def key(ev: RawEvent) -> tuple[int, int, int, bytes]:
    return (ev.ts, ev.tid, ev.type, ev.data)


def read(data: bytes, **kw) -> tuple[list[RawEvent], CaptureReader]:
    r = CaptureReader(io.BytesIO(data), **kw)
    with r:
        evs = list(r.events())
    return evs, r


@dataclass(frozen=True)
class Capture:
    data: bytes
    blocks: list[Blk]
    #: block offset -> the event read from it (clean read)
    events: dict[int, tuple[int, int, int, bytes]]
    counts: Counter
    processes: int

    def block(self, btype: int, index: int = 0) -> Blk:
        return [b for b in self.blocks if b.type == btype][index]

    def keys(self, lost: frozenset[int] | set[int] = frozenset()) -> list[tuple]:
        """The clean events, minus those of the blocks at offsets ``lost``."""
        return [self.events[b.offset] for b in self.blocks
                if b.offset in self.events and b.offset not in lost]

    def splice(self, at: int, insert: bytes = b"", cut: int = 0) -> bytes:
        return self.data[:at] + insert + self.data[at + cut:]


def _capture(data: bytes) -> Capture:
    blocks = walk(data)
    r = CaptureReader(io.BytesIO(data))
    events = {}
    for rec in r.records():
        if isinstance(rec, RawEvent):
            events[rec.offset] = key(rec)
    assert r.damage == []
    assert set(events) == {b.offset for b in blocks if b.type in EVENT_TYPES}
    assert r.block_counts == Counter(b.type for b in blocks)
    return Capture(data, blocks, events, r.block_counts, len(r.snapshot.processes))


@lru_cache(maxsize=None)
def plain(name: str) -> bytes:
    return gzip.decompress((DATA / f"{name}.scap").read_bytes())


@lru_cache(maxsize=None)
def full(name: str) -> Capture:
    return _capture(plain(name))


@lru_cache(maxsize=None)
def compact(name: str) -> Capture:
    """The capture with only its first 3 fd-list blocks and 120 event blocks: every
    block kind of the original, cheap enough to read once per mutation."""
    data = plain(name)
    keep, fdl, ev = [], 0, 0
    for b in walk(data):
        if b.type in (FDL_V1, FDL_V2):
            fdl += 1
            if fdl > 3:
                continue
        if b.type in EVENT_TYPES:
            ev += 1
            if ev > 120:
                break
        keep.append(data[b.offset:b.end])
    return _capture(b"".join(keep))


def test_walker_agrees_with_the_reader() -> None:
    for name in NAMES:
        cap = full(name)
        assert cap.blocks[0].type == SHB
        assert sum(cap.counts.values()) == len(cap.blocks)


# -- truncation ---------------------------------------------------------------------------------

def check_cut(cap: Capture, cut: int, window_from: int | None = None) -> None:
    """Read ``cap`` cut at ``cut``; with ``window_from`` (a block index), only the
    blocks from there on are kept behind the section header (same reader paths, much
    cheaper than re-reading the whole prefix for every one of thousands of cuts)."""
    blocks = cap.blocks
    if window_from is None or window_from <= 1:
        data, shift, first = cap.data[:cut], 0, 0
    else:
        ws = blocks[window_from].offset
        shb = cap.data[:blocks[0].length]
        data, shift, first = shb + cap.data[ws:cut], len(shb) - ws, window_from
    evs, r = read(data)
    kept = [b for b in blocks[first:] if b.end <= cut]
    expected = [cap.events[b.offset] for b in kept if b.offset in cap.events]
    assert [key(e) for e in evs] == expected, f"cut at {cut}"
    inside = [b for b in blocks if b.offset < cut < b.end]
    if inside:
        (d,) = r.damage
        assert isinstance(d, TruncatedError), d
        assert d.offset == inside[0].offset + shift, (cut, d)
        assert "offset" in d.describe() and "\n" not in d.describe()
    else:
        assert r.damage == [], f"cut at block boundary {cut}: {r.damage}"


def _cuts(b: Blk) -> set[int]:
    o, n = b.offset, b.length
    return {o - 1, o, o + 1, o + 4, o + 7, o + 8, o + 9, o + 12, o + n // 2,
            o + n - 5, o + n - 4, o + n - 3, o + n - 1}


@pytest.mark.parametrize("name", NAMES)
def test_truncation_at_every_block_boundary_and_inside_every_block(name: str) -> None:
    """Cuts at every block boundary, boundary +-1, and in the header, length, body
    middle and trailer of every block (windowed: the block before the cut is kept)."""
    cap = full(name)
    starts = [b.offset for b in cap.blocks]
    cuts = set()
    for b in cap.blocks[1:]:
        cuts |= _cuts(b)
    cuts.add(len(cap.data))
    for cut in sorted(c for c in cuts if cap.blocks[0].length <= c <= len(cap.data)):
        k = bisect.bisect_right(starts, cut - 1) - 1  # the block holding the last byte kept
        check_cut(cap, cut, window_from=k - 1)


@pytest.mark.parametrize("name", NAMES)
def test_truncated_whole_prefixes(name: str) -> None:
    """Whole prefixes (no windowing), at the first block of every kind and at random."""
    cap = full(name)
    seen: set[int] = set()
    cuts = set()
    for b in cap.blocks[1:]:
        if b.type not in seen:
            seen.add(b.type)
            cuts |= _cuts(b)
    last = cap.blocks[-1]
    cuts |= _cuts(last) | {len(cap.data)}
    rng = random.Random(name)
    cuts |= {rng.randrange(cap.blocks[0].length, len(cap.data)) for _ in range(12)}
    assert {MI, EV_V1 if name != V2_NAME else EV_V2} <= seen and len(seen) == 6
    for cut in sorted(cuts):
        check_cut(cap, cut)


@pytest.mark.parametrize("cut", range(0, 28))
def test_truncated_inside_the_section_header(cut: int) -> None:
    data = plain(V2_NAME)[:cut]
    if cut < 12:
        # not even the byte-order magic: nothing says this is a capture
        with pytest.raises(NotACaptureError) as exc:
            read(data)
        assert exc.value.offset == 0
    else:
        evs, r = read(data)
        assert evs == []
        (d,) = r.damage
        assert isinstance(d, TruncatedError) and d.offset == 0


def _compressed_cases(name: str) -> Iterator[tuple[str, bytes]]:
    yield "gzip", (DATA / f"{name}.scap").read_bytes()
    # zstd with a block flush every ~40 KB, so that cuts land between decodable blocks
    data = plain(name)
    c = zstandard.ZstdCompressor(level=3).compressobj()
    out = b"".join(c.compress(data[i:i + 40000]) + c.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                   for i in range(0, len(data), 40000)) + c.flush()
    yield "zstd", out


def _decodable(kind: str, comp: bytes) -> int:
    """How many bytes of the decompressed stream a prefix of compressed data yields."""
    if kind == "gzip":
        return len(zlib.decompressobj(31).decompress(comp))
    return len(zstandard.ZstdDecompressor().decompressobj().decompress(comp))


@pytest.mark.parametrize("name", NAMES)
def test_truncated_compressed_files(name: str) -> None:
    cap = full(name)
    for kind, comp in _compressed_cases(name):
        n = len(comp)
        cuts = {n * i // 16 for i in range(1, 16)} | {n - 1, n - 4, n - 9, 10, 20}
        for cut in sorted(cuts):
            avail = _decodable(kind, comp[:cut])
            if avail < 12:
                # not even a byte-order magic decompresses: not recognisable as a capture
                with pytest.raises(NotACaptureError):
                    read(comp[:cut])
                continue
            evs, r = read(comp[:cut])
            assert r.compression == kind
            expected = [cap.events[b.offset] for b in cap.blocks
                        if b.end <= avail and b.offset in cap.events]
            assert [key(e) for e in evs] == expected, (kind, cut)
            assert isinstance(r.damage[0], CompressionError), r.damage
            assert r.damage[0].offset == avail
            inside = [b for b in cap.blocks if b.offset < avail < b.end]
            if inside:
                assert len(r.damage) == 2
                assert isinstance(r.damage[1], TruncatedError)
                assert r.damage[1].offset == inside[0].offset
            else:
                assert len(r.damage) == 1


def test_truncated_compressed_file_too_short_to_sniff() -> None:
    for data in (b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"\x28\xb5\x2f\xfd"):
        with pytest.raises(ScapError):
            read(data)


# -- lying lengths and other corruption ----------------------------------------------------------

def put(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def check_damaged(cap: Capture, data: bytes, *, lost: set[int] = set(),
                  at: tuple[int, int], counts: Counter | None = None,
                  n_damage: int | None = 1) -> CaptureReader:
    """Every event but those of ``lost`` blocks, in order; the first damage record at
    an offset in ``at`` (inclusive); optionally the block counts and the number of
    damage records."""
    evs, r = read(data)
    assert [key(e) for e in evs] == cap.keys(lost)
    assert r.damage, "the damage must be reported"
    if n_damage is not None:
        assert len(r.damage) == n_damage, [d.describe() for d in r.damage]
    lo, hi = at
    assert lo <= r.damage[0].offset <= hi, r.damage[0].describe()
    for d in r.damage:
        text = d.describe()
        assert isinstance(d, FormatError) and "\n" not in text and "offset" in text
    if counts is not None:
        assert r.block_counts == counts
    return r


def minus(counts: Counter, btype: int, n: int = 1) -> Counter:
    c = Counter(counts)
    c[btype] -= n
    return +c


def _framing_targets(cap: Capture) -> list[Blk]:
    """One block of every kind after the section header, and events mid-stream."""
    seen: dict[int, Blk] = {}
    for b in cap.blocks[1:]:
        seen.setdefault(b.type, b)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES]
    return [*seen.values(), evs[len(evs) // 2], evs[-2]]


def _framing_lies(b: Blk, size: int) -> list[tuple[str, int, str, int]]:
    """(label, offset, struct format, value) of every framing lie for block ``b``."""
    o, n = b.offset, b.length
    return [
        ("len=0", o + 4, "<I", 0),
        ("len=8", o + 4, "<I", 8),
        ("len=11", o + 4, "<I", 11),
        ("len-4", o + 4, "<I", n - 4),
        ("len+4", o + 4, "<I", n + 4),
        ("len-1", o + 4, "<I", n - 1),
        ("len beyond the file", o + 4, "<I", 2 * size),
        ("len=0xFFFFFFF0", o + 4, "<I", 0xFFFFFFF0),
        ("trailer+4", o + n - 4, "<I", n + 4),
        ("trailer=0", o + n - 4, "<I", 0),
    ]


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_lying_block_lengths(name: str) -> None:
    """A block whose length lies is skipped, reported at its offset, and every other
    block (before and after it) is still read."""
    cap = compact(name)
    for b in _framing_targets(cap):
        for label, off, fmt, value in _framing_lies(b, len(cap.data)):
            data = put(cap.data, off, fmt, value)
            try:
                check_damaged(cap, data, lost={b.offset}, at=(b.offset, b.offset),
                              counts=minus(cap.counts, b.type))
            except AssertionError as exc:
                raise AssertionError(f"{hex(b.type)} at {b.offset}: {label}: {exc}") from None


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_lying_length_of_the_last_block(name: str) -> None:
    cap = compact(name)
    b = cap.blocks[-1]
    for label, off, fmt, value in _framing_lies(b, len(cap.data)):
        evs, r = read(put(cap.data, off, fmt, value))
        assert [key(e) for e in evs] == cap.keys({b.offset}), label
        (d,) = r.damage
        assert d.offset == b.offset and "no intact block follows" in d.message, label


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_lying_event_headers(name: str) -> None:
    """Intact framing, lying event header: the event is skipped and reported."""
    cap = compact(name)
    v2 = name == V2_NAME
    # events with parameters (a lie about parameter 0 must stay inside the event)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES
           and struct.unpack_from("<I", cap.events[b.offset][3], 22)[0] > 0]
    for b in (evs[0], evs[len(evs) // 2], evs[-1]):
        h = b.offset + 8 + 2  # block header, cpu id
        (elen,) = struct.unpack_from("<I", cap.data, h + 16)
        room = b.length - 12 - 2  # the event and the block's padding
        lies = [("len=0", h + 16, "<I", 0), ("len=10", h + 16, "<I", 10),
                ("len past the block", h + 16, "<I", room + 1),
                ("len=0xFFFFFFFF", h + 16, "<I", 0xFFFFFFFF),
                ("len-1", h + 16, "<I", elen - 1)]
        if v2:
            lies += [("nparams=len", h + 22, "<I", elen),
                     ("nparams=0xFFFFFFFF", h + 22, "<I", 0xFFFFFFFF),
                     ("param 0 length 0xFFFF", h + 26, "<H", 0xFFFF)]
        else:
            lies += [("param 0 length 0xFFFF", h + 22, "<H", 0xFFFF)]
        for label, off, fmt, value in lies:
            try:
                r = check_damaged(cap, put(cap.data, off, fmt, value), lost={b.offset},
                                  at=(b.offset, b.offset), counts=cap.counts)
            except AssertionError as exc:
                raise AssertionError(f"event at {b.offset}: {label}: {exc}") from None
            assert "corrupt event" in r.damage[0].message


# Metadata entries: field walkers (independent of blocks.py) give the offsets to lie in.

def pl_entries(data: bytes, b: Blk) -> list[dict[str, int]]:
    v = {PL_V5: 5, PL_V9: 9}[b.type]
    p, end, out = b.offset + 8, b.end - 4, []
    while end - p >= 4:
        f, start = {}, p
        if v >= 9:
            f["sub_len"] = p
            p += 4
        p += 24 + (8 if v >= 6 else 0) + (8 if v >= 8 else 0)

        def s(name: str) -> None:
            nonlocal p
            f[name] = p
            p += 2 + struct.unpack_from("<H", data, p)[0]

        s("comm"), s("exe")
        if v >= 7:
            s("exepath")
        s("args"), s("cwd")
        p += 20 + 28
        s("env")
        p += 16
        s("cgroups"), s("root")
        if v >= 9:
            p = start + struct.unpack_from("<I", data, start)[0]
        out.append(f)
    return out


_FD_FIXED = {3: 13, 4: 37, 5: 7, 6: 19, 0: 0}  # ipv4/ipv6 sockets, servers; unknown


def fd_entries(data: bytes, b: Blk) -> list[dict[str, int]]:
    v2 = b.type == FDL_V2
    p, end, out = b.offset + 16, b.end - 4, []  # after the header and the tid
    while end - p >= 4:
        f, start = {}, p
        if v2:
            f["sub_len"] = p
            p += 4
        ftype = data[p + 16]
        p += 17
        if ftype in _FD_FIXED:
            p += _FD_FIXED[ftype]
        else:
            p += {8: 16, 16: 4}.get(ftype, 0)  # unix: two pointers; file v2: flags
            f["name"] = p
            p += 2 + struct.unpack_from("<H", data, p)[0]
        if v2:
            p = start + struct.unpack_from("<I", data, start)[0]
        out.append(f)
    return out


def il_entries(data: bytes, b: Blk) -> list[dict[str, int]]:
    v2 = b.type == IL_V2
    p, end, out = b.offset + 8, b.end - 4, []
    while end - p >= 4:
        f = {}
        if v2:
            f["entry_len"] = p
            nxt = p + 4 + struct.unpack_from("<I", data, p)[0]
            p += 4
        f["type"], f["ifnamelen"] = p, p + 2
        iftype, namelen = struct.unpack_from("<HH", data, p)
        p += 4 + {1: 20, 2: 56, 3: 12, 4: 48}[iftype] + namelen
        out.append(f)
        if v2:
            p = nxt
    return out


def ul_entries(data: bytes, b: Blk) -> list[dict[str, int]]:
    v2 = b.type == UL_V2
    p, end, out = b.offset + 8, b.end - 4, []
    while end - p >= 4:
        f, start = {}, p
        if v2:
            f["sub_len"] = p
            p += 4
        kind = data[p]
        p += 1
        if kind == 0:
            p += 8
            names = ("name", "homedir", "shell")
        else:
            p += 4
            names = ("name",)
        for nm in names:
            f[nm] = p
            p += 2 + struct.unpack_from("<H", data, p)[0]
        if v2:
            p = start + struct.unpack_from("<I", data, start)[0]
        out.append(f)
    return out


def _meta_lies(cap: Capture, name: str) -> Iterator[tuple[str, Blk, int, str, int]]:
    v2 = name == V2_NAME
    pl = cap.block(PL_V9 if v2 else PL_V5)
    ents = pl_entries(cap.data, pl)
    assert len(ents) == cap.processes
    for i in (0, -1):
        for field in ("comm", "exe", "args", "env", "cgroups"):
            yield f"PL entry {i} {field} length", pl, ents[i][field], "<H", 0xFFFF
    if v2:
        for value in (0, 4, 30):
            yield f"PL v9 first sub_len={value}", pl, ents[0]["sub_len"], "<I", value
        for value in (0, 30):
            yield f"PL v9 last sub_len={value}", pl, ents[-1]["sub_len"], "<I", value
        for value in (0xFFFFFFFF, 1 << 20):
            yield f"PL v9 sub_len={value:#x}", pl, ents[-1]["sub_len"], "<I", value
    fdl = next(b for b in cap.blocks if b.type in (FDL_V1, FDL_V2)
               and any("name" in f for f in fd_entries(cap.data, b)))
    ents = fd_entries(cap.data, fdl)
    named = [f for f in ents if "name" in f]
    yield "FDL name length", fdl, named[-1]["name"], "<H", 0xFFFF
    if v2:
        yield "FDL v2 sub_len=0", fdl, ents[-1]["sub_len"], "<I", 0
        yield "FDL v2 sub_len huge", fdl, ents[-1]["sub_len"], "<I", 0xFFFFFFFF
    il = cap.block(IL_V2 if v2 else IL_V1)
    ents = il_entries(cap.data, il)
    yield "IL ifnamelen", il, ents[-1]["ifnamelen"], "<H", 0xFFFF
    yield "IL unknown type", il, ents[0]["type"], "<H", 7
    if v2:
        yield "IL v2 entry_len=0", il, ents[0]["entry_len"], "<I", 0
        yield "IL v2 entry_len huge", il, ents[-1]["entry_len"], "<I", 0xFFFFFFFF
    ul = cap.block(UL_V2 if v2 else UL_V1)
    ents = ul_entries(cap.data, ul)
    user = next(f for f in ents if "shell" in f)
    for field in ("name", "homedir", "shell"):
        yield f"UL user {field} length", ul, user[field], "<H", 0xFFFF
    yield "UL last name length", ul, ents[-1]["name"], "<H", 0xFFFF
    if v2:
        for value in (0, 3, 5, 0xFFFFFFFF):
            yield f"UL v2 sub_len={value:#x}", ul, ents[-1]["sub_len"], "<I", value


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_lying_lengths_inside_metadata_blocks(name: str) -> None:
    """Lies inside an intact block: the entries before the damage are kept, the damage
    is reported inside the block, and every event is still read."""
    cap = compact(name)
    n = 0
    for label, b, off, fmt, value in _meta_lies(cap, name):
        n += 1
        try:
            r = check_damaged(cap, put(cap.data, off, fmt, value), at=(b.offset, b.end - 1),
                              counts=cap.counts)
        except AssertionError as exc:
            raise AssertionError(f"{label} (block {b.type:#x} at {b.offset}): {exc}") from None
        if label.startswith("PL"):
            assert len(r.snapshot.processes) < cap.processes
    assert n >= 15


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_short_metadata_blocks(name: str) -> None:
    """Machine info, fd list and section header blocks too short for their fixed part."""
    cap = compact(name)
    mi = cap.block(MI)
    for size in (0, 4, 100, 176):
        evs, r = read(cap.splice(mi.offset, frame(MI, b"\x01" * size), mi.length))
        assert [key(e) for e in evs] == cap.keys()
        (d,) = r.damage
        assert mi.offset <= d.offset <= mi.offset + 8, d
        assert r.snapshot.machine is None
        assert r.block_counts == cap.counts
    fdl = next(b for b in cap.blocks if b.type in (FDL_V1, FDL_V2))
    evs, r = read(cap.splice(fdl.offset, frame(fdl.type, b"\x01\x02\x03"), fdl.length))
    assert [key(e) for e in evs] == cap.keys()
    (d,) = r.damage
    assert d.offset == fdl.offset + 8 and "too short" in d.message


SHB_BODY = struct.Struct("<IHHq")


def _shb(magic: int = 0x1A2B3C4D, major: int = 1, minor: int = 2, body: bytes | None = None
         ) -> bytes:
    return frame(SHB, SHB_BODY.pack(magic, major, minor, -1) if body is None else body)


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_first_section_header(name: str) -> None:
    cap = compact(name)
    rest = cap.data[cap.blocks[0].length:]
    for magic, words in ((0x4D3C2B1A, "big-endian"), (0xDEADBEEF, "magic")):
        with pytest.raises(NotACaptureError) as exc:
            read(_shb(magic) + rest)
        assert words in str(exc.value) and exc.value.offset == 8
        assert "\n" not in str(exc.value)
    # a block of another type first: not a capture
    with pytest.raises(NotACaptureError):
        read(rest)
    # an empty section header block: its "magic" is its own trailer
    with pytest.raises(NotACaptureError):
        read(frame(SHB, b"") + rest)
    # too short for the version and section length, and a newer major version: the
    # file is still read (every event), the header is reported as damage
    for shb in (_shb(body=struct.pack("<IHH", 0x1A2B3C4D, 1, 0)), _shb(major=2)):
        evs, r = read(shb + rest)
        assert [key(e) for e in evs] == cap.keys()
        (d,) = r.damage
        assert d.offset in (0, 8), d
        assert r.sections == []


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_damaged_second_section_header(name: str) -> None:
    """Two captures concatenated, the second section header damaged: both sections'
    events are read, the damage is reported at the second header."""
    cap = compact(name)
    rest = cap.data[cap.blocks[0].length:]
    base = len(cap.data)
    expected = cap.keys() * 2
    for shb in (_shb(body=b"\x4d\x3c\x2b\x1a"), _shb(magic=0x4D3C2B1A), _shb(magic=7),
                _shb(major=2)):
        evs, r = read(cap.data + shb + rest)
        assert [key(e) for e in evs] == expected
        (d,) = r.damage
        assert base <= d.offset <= base + 8, d
        assert len(r.sections) == 1
    evs, r = read(cap.data + _shb() + rest)  # undamaged: two sections, no damage
    assert len(evs) == len(expected) and r.damage == [] and len(r.sections) == 2


def _garbage() -> list[tuple[str, bytes]]:
    rng = random.Random(7)
    return [*((f"{n}x 0xab", b"\xab" * n) for n in (1, 2, 3, 4, 5, 7, 13)),
            *((f"{n} zero bytes", bytes(n)) for n in (1, 3, 4, 8, 64)),
            ("100 random bytes", rng.randbytes(100)), ("5000 random bytes", rng.randbytes(5000)),
            ("a block type and a lying length",
             struct.pack("<II", EV_V2, 40) + b"\0" * 8),
            ("a block header alone", struct.pack("<II", EV_V2, 60))]


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_garbage_between_blocks(name: str) -> None:
    """Junk between two blocks is skipped: one damage record at the junk, every block
    (and event) read, including the one right after the junk."""
    cap = compact(name)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES]
    places = [cap.block(PL_V9 if name == V2_NAME else PL_V5).end, evs[1].offset,
              evs[len(evs) // 2].offset]
    for where in places:
        for label, junk in _garbage():
            data = cap.splice(where, junk)
            try:
                check_damaged(cap, data, at=(where, where), counts=cap.counts)
            except AssertionError as exc:
                raise AssertionError(f"{label} at {where}: {exc}") from None


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_unknown_blocks_are_skipped_and_counted(name: str) -> None:
    cap = compact(name)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES]
    pl = cap.block(PL_V9 if name == V2_NAME else PL_V5)
    rng = random.Random(3)
    cases = [
        [frame(0x230, rng.randbytes(13))],  # a future libscap block type
        [frame(0x8020ABCD, rng.randbytes(40))],  # pre-release numbering
        [frame(0xBAD, b"")],  # pcapng custom block
        [frame(0x12345678, rng.randbytes(8))],  # any type, when a known block follows
        [frame(0x230, b"a"), frame(0x231, b"bb"), frame(0x8030ABCD, b"ccc")],  # a run
    ]
    for where in (pl.end, evs[5].offset, len(cap.data)):
        for blocks in cases:
            evs_read, r = read(cap.splice(where, b"".join(blocks)))
            assert [key(e) for e in evs_read] == cap.keys()
            assert r.damage == []
            assert r.unknown_blocks == len(blocks)
            assert sum(r.block_counts.values()) == len(cap.blocks) + len(blocks)


def test_out_of_range_unknown_block_runs_are_junk() -> None:
    """Unknown block types outside the range writers use (0x2xx, 0x80xxABCD, small
    numbers) only count as blocks when a known block (or the end) follows: a stream of
    event blocks shifted by one byte is self-consistently framed as such blocks."""
    cap = compact(V2_NAME)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES]
    where = evs[5].offset
    junk = frame(0x12345678, b"x" * 8) + frame(0x12345679, b"y" * 8)
    check_damaged(cap, cap.splice(where, junk), at=(where, where), counts=cap.counts)
    # the shifted stream itself: one byte of junk before a run of 60-byte event blocks
    full_cap = full(V2_NAME)
    run = [b for b in full_cap.blocks if b.type == EV_V2 and b.length == 60]
    where = run[0].offset
    check_damaged(full_cap, full_cap.splice(where, b"\xab"), at=(where, where),
                  counts=full_cap.counts)


@pytest.mark.parametrize("name", [V1_NAME, V2_NAME])
def test_damage_in_every_block_at_once(name: str) -> None:
    """Several damaged blocks in one file: each is reported, everything else is read."""
    cap = compact(name)
    targets = _framing_targets(cap)
    data = bytearray(cap.data)
    for i, b in enumerate(targets):
        struct.pack_into("<I", data, b.offset + 4, (0, 11, b.length + 4, 0xFFFFFFF0)[i % 4])
    evs, r = read(bytes(data))
    hit = {b.offset for b in targets}
    assert [key(e) for e in evs] == cap.keys(hit)
    # adjacent damaged blocks are skipped by one resynchronisation (one record)
    ends = {b.end for b in targets}
    assert [d.offset for d in r.damage] == sorted(o for o in hit if o not in ends)
    counts = Counter(cap.counts)
    counts.subtract(b.type for b in targets)
    assert r.block_counts == +counts


# -- memory --------------------------------------------------------------------------------------

def _peak(fn: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("btype,claim", [
    (EV_V2, 0xFFFFFFF0), (0x221, 0xFFFFFFF0), (PL_V9, 0xFFFFFFF0), (0x230, 0xFFFFFFF0),
    (0x221, 60 * MB), (PL_V9, 200 * MB), (0x230, 200 * MB), (SHB, 250 * MB),
])
def test_huge_claim_at_the_end_of_a_small_file(tmp_path: Path, btype: int, claim: int) -> None:
    """A length read from the file never sizes an allocation by itself (the file is
    read from disk: a plain file object's read(n) allocates n bytes up front)."""
    cap = compact(V2_NAME)
    path = tmp_path / "claim.scap"
    path.write_bytes(cap.data + struct.pack("<II", btype, claim) + b"\x55" * 100)

    def go() -> tuple[list[RawEvent], CaptureReader]:
        r = CaptureReader(path)
        with r:
            return list(r.events()), r

    (evs, r), peak = _peak(go)
    assert [key(e) for e in evs] == cap.keys()
    (d,) = r.damage
    assert d.offset == len(cap.data)
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MB"


class GeneratedFile:
    """A read-only binary file whose bytes come from a generator of chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        if n < 0:
            n = len(self._buf)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def close(self) -> None:
        pass


@pytest.mark.timeout(30)
def test_long_garbage_run_streamed_with_bounded_memory() -> None:
    """200 chunks (the reader's unit: 200 MB) of garbage between two runs of events,
    streamed: the reader resynchronises after it with a peak of a few chunks."""
    chunk = reader_mod.CHUNK
    cap = compact(V2_NAME)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES]
    split = evs[60].offset
    # junk with no byte pattern of a block type (no 0x00, 0x0a or 0xcd bytes), so the
    # scan never stops in it: this measures the scan, not candidate checks
    table = bytes(0x10 + (i % 0xB0) for i in range(256))
    junk = random.Random(1).randbytes(chunk).translate(table)
    n_chunks = 200

    def chunks() -> Iterator[bytes]:
        yield cap.data[:split]
        for _ in range(n_chunks):
            yield junk
        yield cap.data[split:]

    def go() -> tuple[list[RawEvent], CaptureReader]:
        r = CaptureReader(GeneratedFile(chunks()))
        return list(r.events()), r

    (evs_read, r), peak = _peak(go)
    assert [key(e) for e in evs_read] == cap.keys()
    (d,) = r.damage
    assert d.offset == split and f"skipped {n_chunks * chunk} bytes" in d.message
    assert peak < 8 * chunk, f"peak {peak / chunk:.1f} chunks"


def test_damage_records_are_capped() -> None:
    """A file of 12-byte event blocks holding no event: one damage record per 12 bytes
    would cost ~40x the input; the reader keeps the first ones and counts the rest."""
    cap = compact(V2_NAME)
    n = 30_000
    bogus = struct.pack("<III", EV_V2, 12, 12) * n  # 360 KB
    data = cap.data + bogus + cap.data[cap.blocks[0].length:]
    (res, peak) = _peak(lambda: read(data))
    evs, r = res  # type: ignore[misc]
    assert [key(e) for e in evs] == cap.keys() * 2
    limit = reader_mod.DEFAULT_MAX_DAMAGE
    assert len(r.damage) == limit + 1
    assert r.damage[0].offset == len(cap.data)
    last = r.damage[-1]
    assert f"{n - limit} more problems not listed" in last.message
    assert last.offset == len(cap.data) + len(bogus) - 12
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"  # (uncapped: some 15 MB)
    # the limit is the reader's option
    _, r = read(data, max_damage=5)
    assert len(r.damage) == 6


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_decompression_bomb_between_events(kind: str) -> None:
    """64 MB of zeros compressed to a few KB, between events: read with bounded memory."""
    cap = compact(V2_NAME)
    split = [b for b in cap.blocks if b.type in EVENT_TYPES][30].offset
    if kind == "gzip":
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        flush: Callable[[], bytes] = c.flush
    else:
        c = zstandard.ZstdCompressor(level=3).compressobj()
        flush = c.flush
    zeros = bytes(MB)
    comp = c.compress(cap.data[:split]) + b"".join(c.compress(zeros) for _ in range(64)) \
        + c.compress(cap.data[split:]) + flush()
    assert len(comp) < MB

    (res, peak) = _peak(lambda: read(comp))
    evs, r = res  # type: ignore[misc]
    assert [key(e) for e in evs] == cap.keys()
    (d,) = r.damage
    assert d.offset == split
    assert peak < 48 * MB, f"peak {peak / MB:.1f} MB"


# -- the command line ------------------------------------------------------------------------------

from typer.testing import CliRunner  # noqa: E402

from scapkit.cli.app import app  # noqa: E402

runner = CliRunner()


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def capture_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    cap = full(V1_NAME)
    evs = [b for b in cap.blocks if b.type in EVENT_TYPES]
    cut_block = evs[len(evs) // 2]
    lying = evs[100]
    files = {
        "full": cap.data,
        "truncated": cap.data[:cut_block.offset + 30],
        "truncated.gz": (DATA / f"{V1_NAME}.scap").read_bytes()[:9000],
        "lying": put(cap.data, lying.offset + 4, "<I", 0xFFFFFFF0),
        "text": b"this is not a capture file\n" * 10,
        "empty": b"",
    }
    out = {}
    for name, data in files.items():
        p = d / f"{name}.scap"
        p.write_bytes(data)
        out[name] = p
    out["cut_offset"] = cut_block.offset  # type: ignore[assignment]
    out["lying_offset"] = lying.offset  # type: ignore[assignment]
    return out


def _no_traceback(res) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in res.output and "Traceback" not in res.stderr
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_cli_read_truncated(capture_files: dict[str, Path]) -> None:
    good = runner.invoke(app, ["read", str(capture_files["full"])])
    assert good.exit_code == 0, good.stderr
    res = runner.invoke(app, ["read", str(capture_files["truncated"])])
    _no_traceback(res)
    assert res.exit_code == 3
    out = _lines(res.stdout)
    assert out and out == _lines(good.stdout)[:len(out)]  # the intact events, in order
    (err,) = _lines(res.stderr)
    assert f"offset {capture_files['cut_offset']}" in err


def test_cli_read_lying_length_goes_on(capture_files: dict[str, Path]) -> None:
    good = runner.invoke(app, ["read", str(capture_files["full"])])
    res = runner.invoke(app, ["read", str(capture_files["lying"])])
    _no_traceback(res)
    assert res.exit_code == 3
    # one event (or none, if it is hidden by default) is missing; the ones after it print
    full_lines, lines = _lines(good.stdout), _lines(res.stdout)
    assert len(full_lines) - 1 <= len(lines) <= len(full_lines)
    # (evt.num counts the events read, so the numbers after the lost one shift by one)
    assert lines[-1].split(" ", 1)[1] == full_lines[-1].split(" ", 1)[1]
    (err,) = _lines(res.stderr)
    assert f"offset {capture_files['lying_offset']}" in err


def test_cli_read_truncated_gzip(capture_files: dict[str, Path]) -> None:
    res = runner.invoke(app, ["read", str(capture_files["truncated.gz"])])
    _no_traceback(res)
    assert res.exit_code == 3
    err = _lines(res.stderr)
    assert 1 <= len(err) <= 2 and all("offset" in e for e in err)


def test_cli_info_truncated(capture_files: dict[str, Path]) -> None:
    res = runner.invoke(app, ["info", str(capture_files["truncated"])])
    _no_traceback(res)
    assert res.exit_code == 3
    (err,) = _lines(res.stderr)
    assert f"offset {capture_files['cut_offset']}" in err


@pytest.mark.parametrize("command", ["read", "info"])
@pytest.mark.parametrize("which", ["text", "empty"])
def test_cli_not_a_capture(capture_files: dict[str, Path], command: str, which: str) -> None:
    res = runner.invoke(app, [command, str(capture_files[which])])
    _no_traceback(res)
    assert res.exit_code == 3
    (err,) = _lines(res.stderr)
    assert "offset 0" in err
    assert _lines(res.stdout) == []


@pytest.mark.parametrize("command", ["read", "info"])
def test_cli_missing_file(tmp_path: Path, command: str) -> None:
    res = runner.invoke(app, [command, str(tmp_path / "nope.scap")])
    _no_traceback(res)
    assert res.exit_code == 1
    assert len(_lines(res.stderr)) == 1


def test_more_parameters_than_any_event_is_damage_in_both_paths() -> None:
    """An event claiming more parameters than any event has is damage, not decoded."""
    import io

    from scapkit.scapfile.events import EVENT_HEADER
    from scapkit.scapfile.reader import MAX_EVENT_PARAMS, CaptureReader
    from scapkit.scapfile.source import open_bytes
    from scapkit.scapfile.summary import summarize
    from scapkit.scapfile.writer import ScapWriter

    buf = io.BytesIO()
    w = ScapWriter(buf)
    w.write_header()
    n = MAX_EVENT_PARAMS + 1
    w.write_event(EVENT_HEADER.pack(1, 1, 26, 9, 0))
    w.write_event(EVENT_HEADER.pack(2, 1, 26 + 2 * n, 3, n) + b"\0\0" * n)
    w.write_event(EVENT_HEADER.pack(3, 1, 26, 9, 0))
    w.flush()
    data = buf.getvalue()
    r = CaptureReader(open_bytes(data))
    assert [e.ts for e in r] == [1, 3]
    assert len(r.damage) == 1 and "more than the 32" in r.damage[0].message
    for use_c in (False, None):
        s = summarize(open_bytes(data), use_c=use_c)
        assert s.events == 2 and len(s.damage) == 1
