"""Streaming .scap reader: blocks and events, with damage reported, never fatal.

Memory stays flat in the file size: the reader holds one window of the
decompressed stream (a chunk plus at most one block, whose size is capped per
block kind before any byte of it is buffered). Damage is collected in
``CaptureReader.damage`` as :class:`FormatError` records naming the offset:

* a block whose length is implausible or whose trailer disagrees is skipped by
  scanning forward for the next plausible block (resynchronisation);
* a malformed event inside an intact block is skipped;
* a file that ends inside a block ends the read with a truncation record.

Everything intact before and after the damage is still yielded.
"""

from __future__ import annotations

import os
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, BinaryIO

from . import blockids as B
from . import snapshot as S
from .errors import FormatError, NotACaptureError, TruncatedError
from .event_table import EVENTS, NUM_EVENTS
from .events import EVENT_HEADER, EVENT_HEADER_SIZE, LARGE_PAYLOAD, RawEvent, lens_struct
from .source import ByteStream, open_capture

if TYPE_CHECKING:
    from .cscan import ScanTotals

_HDR = struct.Struct("<II")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_EVH1 = struct.Struct("<QqIH")
_CPU_FLAGS = struct.Struct("<HI")

CHUNK = 1 << 20
#: Largest body accepted for a non-large event block (libscap's reader buffer).
MAX_EVENT_BLOCK = 65536 + B.MIN_BLOCK_SIZE
#: Most parameters any event has (libs' PPM_MAX_EVENT_PARAMS); more means damage.
MAX_EVENT_PARAMS = 32
#: Default caps, per block kind, applied before buffering a block.
DEFAULT_MAX_LARGE_EVENT_BLOCK = 64 << 20
DEFAULT_MAX_META_BLOCK = 256 << 20
#: Damage records kept in full; past this many they are only counted (see DamageList).
DEFAULT_MAX_DAMAGE = 1000

_KNOWN_TYPES = frozenset(int(t) for t in B.BlockType)
_EVENT_TYPES = {int(k): v for k, v in B.EVENT_BLOCKS.items()}
_LARGE_EVENT_BLOCKS = frozenset({int(B.BlockType.EV_V2_LARGE), int(B.BlockType.EVF_V2_LARGE)})
_RESYNC_RE = re.compile(
    b"|".join(re.escape(_U32.pack(t)) for t in sorted(_KNOWN_TYPES)), re.DOTALL
)


@dataclass(slots=True)
class Block:
    """A non-event block: its type, where it starts, and its body (padding included)."""

    type: int
    offset: int
    body: bytes

    @property
    def kind(self) -> str:
        return B.block_kind(self.type)


@dataclass(slots=True)
class SectionHeader:
    offset: int
    major: int
    minor: int
    section_length: int
    options: list[tuple[int, bytes]]


class DamageList(list):
    """``CaptureReader.damage``: the first ``limit`` damage records, then only a count.

    Without a limit, a file made of 12-byte blocks holding no valid event would cost
    a record (some 500 bytes) per 12 bytes of input. Past the limit, records are
    counted in ``suppressed``; :meth:`finish` (at the end of the read) adds one record
    saying how many were left out, at the offset of the last one.
    """

    def __init__(self, limit: int = DEFAULT_MAX_DAMAGE) -> None:
        super().__init__()
        self.limit = limit
        self.suppressed = 0
        self.last_suppressed: FormatError | None = None
        self._finished = False

    def append(self, err: FormatError) -> None:  # type: ignore[override]
        if len(self) < self.limit or self._finished:
            super().append(err)
        else:
            self.suppressed += 1
            self.last_suppressed = err

    def finish(self) -> None:
        last = self.last_suppressed
        if last is not None and not self._finished:
            self._finished = True
            super().append(FormatError(
                f"{self.suppressed} more problems not listed (the last: {last.message})",
                last.offset))


class CaptureReader:
    """Read a capture file: ``for ev in CaptureReader(path): ...``.

    ``source`` is a path, ``"-"`` for stdin, or a binary file object; plain, gzip and
    zstd are recognised by their magic bytes. Attributes filled while reading:
    ``sections``, ``snapshot``, ``block_counts``, ``unknown_blocks``, ``damage``.
    """

    def __init__(self, source: str | os.PathLike[str] | BinaryIO | ByteStream, *,
                 max_large_event_block: int = DEFAULT_MAX_LARGE_EVENT_BLOCK,
                 max_meta_block: int = DEFAULT_MAX_META_BLOCK,
                 max_damage: int = DEFAULT_MAX_DAMAGE) -> None:
        self._stream: ByteStream = (
            source if hasattr(source, "compression") else open_capture(source)  # type: ignore[arg-type]
        )
        self.compression = self._stream.compression
        self._buf = b""
        self._pos = 0
        self._base = 0  # absolute offset of _buf[0]
        self._eof = False
        self._max_large = max_large_event_block
        self._max_meta = max_meta_block
        self.sections: list[SectionHeader] = []
        self.snapshot = S.Snapshot()
        self.block_counts: Counter[int] = Counter()
        self.unknown_blocks = 0
        self.unknown_event_types: Counter[int] = Counter()
        self.damage: DamageList = DamageList(max_damage)
        self.events_read = 0
        self.bytes_read = 0

    # -- buffer -----------------------------------------------------------------

    def _avail(self, n: int) -> bool:
        """Make ``n`` bytes available at ``_pos``; False if the stream ends first."""
        have = len(self._buf) - self._pos
        if have >= n:
            return True
        if self._eof:
            return False
        parts = [self._buf[self._pos:]]
        self._base += self._pos
        self._pos = 0
        while have < n:
            # One chunk at a time: a length read from the file never sizes an
            # allocation by itself (a lying length at the end of a small file).
            chunk = self._stream.read(CHUNK)
            if not chunk:
                self._eof = True
                if self._stream.error is not None:
                    self.damage.append(self._stream.error)
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)
        return have >= n

    @property
    def offset(self) -> int:
        """Current absolute offset in the decompressed stream."""
        return self._base + self._pos

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public iteration ---------------------------------------------------------

    def __iter__(self) -> Iterator[RawEvent]:
        return self.events()

    def events(self) -> Iterator[RawEvent]:
        """Yield the events; metadata blocks update ``snapshot`` as they pass."""
        for rec in self.records():
            if type(rec) is RawEvent:
                yield rec

    def records(self) -> Iterator[RawEvent | Block]:
        """Yield every event and every other block, in file order."""
        return self._records_impl()

    def records_with(self, fast: Callable[[int], int | None]) -> Iterator[RawEvent | Block]:
        """:meth:`records`, with ``fast`` consuming event blocks before each block is read.

        ``fast(num)`` is called with the number of events read so far and the window at
        ``_pos`` (``_buf[_pos:]``); it may consume complete event blocks there, advancing
        ``_pos`` (and ``bytes_read``, ``events_read``), and returns the new event count,
        or None to end the iteration at once. The block it stops at is read as usual.
        """
        return self._records_impl(fast)

    # -- the block loop -----------------------------------------------------------

    def _records_impl(self, fast: Callable[[int], int | None] | None = None
                      ) -> Iterator[RawEvent | Block]:
        # ``fast``: see records_with and scan_summary (consumes event blocks at _pos,
        # returns the new event count, or None to stop); None everywhere else.
        if not self._read_first_section():
            return
        hdr = _HDR
        event_types = _EVENT_TYPES
        # Per event block type, the largest length _check_length accepts (fast path).
        event_caps = {bt: self._max_large if bt in _LARGE_EVENT_BLOCKS else MAX_EVENT_BLOCK
                      for bt in event_types}
        min_block = B.MIN_BLOCK_SIZE
        num = 0
        while True:
            if fast is not None:
                got = fast(num)
                if got is None:
                    return
                num = got
            # (_avail is only called when the window is short: same result, less overhead)
            if len(self._buf) - self._pos < 8 and not self._avail(8):
                if len(self._buf) - self._pos:
                    self._truncated("block header", len(self._buf) - self._pos, 8)
                break
            start = self._pos
            btype, blen = hdr.unpack_from(self._buf, start)
            spec = event_types.get(btype)
            if spec is not None and min_block <= blen <= event_caps[btype]:
                problem = None  # what _check_length says for these
            else:
                problem = self._check_length(btype, blen, spec is not None)
            if problem is None:
                if len(self._buf) - start < blen and not self._avail(blen):
                    if self._resync(f"block of type 0x{btype:x} claims {blen} bytes but "
                                    f"the file ends first", truncation=True):
                        continue
                    break
                start = self._pos
                buf = self._buf
                (trailer,) = _U32.unpack_from(buf, start + blen - 4)
                if trailer != blen:
                    problem = (f"block length mismatch: header says {blen}, "
                               f"trailer says {trailer}")
                elif spec is None and btype not in _KNOWN_TYPES and \
                        not self._next_plausible(btype, blen):
                    problem = (f"block of unknown type 0x{btype:x} ({blen} bytes) is "
                               f"not followed by a block")
                else:
                    start = self._pos  # (_next_plausible may have moved the window)
                    buf = self._buf
            if problem is not None:
                if self._resync(problem):
                    continue
                break
            offset = self._base + start
            self._pos = start + blen
            self.bytes_read = self._base + self._pos
            self.block_counts[btype] += 1
            if spec is not None:
                ev = self._event(buf, start + 8, start + blen - 4, spec, offset, num + 1)
                if ev is not None:
                    num += 1
                    self.events_read = num
                    yield ev
                continue
            body = buf[start + 8:start + blen - 4]
            yield from self._meta(btype, body, offset)
        self.damage.finish()

    def _check_length(self, btype: int, blen: int, is_event: bool) -> str | None:
        if blen < B.MIN_BLOCK_SIZE:
            return f"block length {blen} is shorter than a block header and trailer"
        if is_event:
            large = btype in _LARGE_EVENT_BLOCKS
            cap = self._max_large if large else MAX_EVENT_BLOCK
            if blen > cap:
                return f"event block length {blen} is over the {cap}-byte limit"
        elif blen > self._max_meta:
            return f"block length {blen} is over the {self._max_meta}-byte limit"
        return None

    def _next_plausible(self, btype: int, blen: int) -> bool:
        """Is the block at ``_pos`` followed by the end of the stream or a plausible block?

        Asked only of blocks of unknown type, which only their framing vouches for:
        junk that happens to end in its own length would otherwise swallow the intact
        blocks it covers. A stream of event blocks shifted by a byte is such junk, and
        self-consistently framed (type 0x21600, length 15360, trailer 15360, then the
        same again), so only types in the range writers use may follow one another.
        """
        if not self._avail(blen + 8):
            return True  # the stream ends (a partial header is reported next)
        ntype, nlen = _HDR.unpack_from(self._buf, self._pos + blen)
        if self._check_length(ntype, nlen, ntype in _EVENT_TYPES) is not None:
            return False
        if ntype in _KNOWN_TYPES:
            return True
        if not (block_type_plausible(btype) and block_type_plausible(ntype)):
            return False
        if not self._avail(blen + nlen):
            return False
        (trailer,) = _U32.unpack_from(self._buf, self._pos + blen + nlen - 4)
        return trailer == nlen

    def _truncated(self, what: str, have: int, need: int) -> None:
        self.damage.append(TruncatedError(
            f"file truncated inside a {what} ({have} of {need} bytes present)", self.offset))

    # -- first section header ------------------------------------------------------

    def _read_first_section(self) -> bool:
        if not self._avail(8):
            raise NotACaptureError("file too short to be a capture", 0)
        btype, blen = _HDR.unpack_from(self._buf, self._pos)
        if btype != B.BlockType.SHB:
            raise NotACaptureError("not a .scap capture (no section header block)", 0)
        if not self._avail(12):
            raise NotACaptureError("file truncated inside the section header", 0)
        (magic,) = _U32.unpack_from(self._buf, self._pos + 8)
        if magic == B.SHB_MAGIC_SWAPPED:
            raise NotACaptureError("big-endian captures are not supported", 8)
        if magic != B.SHB_MAGIC:
            raise NotACaptureError(f"bad byte-order magic 0x{magic:08x}", 8)
        return True

    def _section(self, body: bytes, offset: int) -> None:
        if len(body) < B.SECTION_HEADER_FIXED_SIZE:
            raise FormatError("section header block too short", offset)
        magic, major, minor, length = struct.unpack_from("<IHHq", body, 0)
        if magic != B.SHB_MAGIC:
            raise FormatError(f"bad byte-order magic 0x{magic:08x}", offset + 8)
        if major > B.CURRENT_MAJOR_VERSION:
            raise FormatError(f"capture format {major}.{minor} is newer than 1.x", offset + 8)
        options = parse_options(body[B.SECTION_HEADER_FIXED_SIZE:])
        self.sections.append(SectionHeader(offset, major, minor, length, options))

    # -- metadata blocks -----------------------------------------------------------

    def _meta(self, btype: int, body: bytes, offset: int) -> Iterator[Block]:
        snap = self.snapshot
        try:
            if btype == B.BlockType.SHB:
                self._section(body, offset)
            elif btype in B.MI_TYPES:
                snap.machine = S.parse_machine_info(body, offset + 8)
            elif btype in B.PL_VERSIONS:
                for p in S.parse_processes(btype, body, offset + 8):
                    snap.processes[p.tid] = p
            elif btype in B.FDL_TYPES:
                tid, fds, err = S.parse_fds(btype, body, offset + 8)
                table = snap.fds.setdefault(tid, {})
                for f in fds:
                    table[f.fd] = f
                if err is not None:
                    raise err
            elif btype in B.IL_TYPES:
                snap.interfaces = list(S.parse_interfaces(btype, body, offset + 8))
            elif btype in B.UL_TYPES:
                users: dict[int, S.UserInfo] = {}
                groups: dict[int, S.GroupInfo] = {}
                try:
                    for u in S.parse_users(btype, body, offset + 8):
                        if isinstance(u, S.UserInfo):
                            users[u.uid] = u
                        else:
                            groups[u.gid] = u
                finally:
                    snap.users, snap.groups = users, groups
            else:
                self.unknown_blocks += 1
        except FormatError as err:
            self.damage.append(err)
        yield Block(btype, offset, body)

    # -- events ----------------------------------------------------------------

    def _event(self, buf: bytes, body: int, end: int, spec: tuple[bool, bool, bool],
               offset: int, num: int) -> RawEvent | None:
        v2, with_flags, _large_block = spec
        if with_flags:
            if end - body < 6:
                return self._bad_event("event block too short for cpu and flags", offset)
            cpu, dflags = _CPU_FLAGS.unpack_from(buf, body)
            at = body + 6
        else:
            if end - body < 2:
                return self._bad_event("event block too short for its cpu id", offset)
            (cpu,) = _U16.unpack_from(buf, body)
            dflags = 0
            at = body + 2
        avail = end - at
        if not v2:
            return self._event_v1(buf, at, avail, cpu, dflags, offset, num)
        if avail < EVENT_HEADER_SIZE:
            return self._bad_event(
                f"event header needs {EVENT_HEADER_SIZE} bytes, block holds {avail}", offset)
        ts, tid, elen, etype, nparams = EVENT_HEADER.unpack_from(buf, at)
        if elen < EVENT_HEADER_SIZE or elen > avail:
            return self._bad_event(f"event length {elen} does not fit its block ({avail} "
                                   f"bytes)", offset)
        if nparams > MAX_EVENT_PARAMS:
            return self._bad_event(f"{nparams} parameters, more than the {MAX_EVENT_PARAMS} "
                                   f"an event can have", offset)
        large = etype < NUM_EVENTS and LARGE_PAYLOAD[etype]
        lsize = 4 if large else 2
        if EVENT_HEADER_SIZE + nparams * lsize > elen:
            return self._bad_event(f"{nparams} parameters do not fit event length {elen}",
                                   offset)
        if nparams:
            total = sum(lens_struct(nparams, large).unpack_from(buf, at + EVENT_HEADER_SIZE))
            if EVENT_HEADER_SIZE + nparams * lsize + total > elen:
                return self._bad_event(f"parameter lengths ({total} bytes) exceed event "
                                       f"length {elen}", offset)
        if etype >= NUM_EVENTS:
            self.unknown_event_types[etype] += 1
        return RawEvent(num, offset, cpu, dflags, ts, tid, etype, nparams,
                        buf[at:at + elen])

    def _event_v1(self, buf: bytes, at: int, avail: int, cpu: int, dflags: int,
                  offset: int, num: int) -> RawEvent | None:
        """Old blocks: no ``nparams``; find the count whose lengths fill the event."""
        if avail < B.EVENT_HEADER_V1_SIZE:
            return self._bad_event("event header does not fit its block", offset)
        ts, tid, elen, etype = _EVH1.unpack_from(buf, at)
        if elen < B.EVENT_HEADER_V1_SIZE or elen > avail:
            return self._bad_event(f"event length {elen} does not fit its block", offset)
        if etype >= NUM_EVENTS:
            self.unknown_event_types[etype] += 1
            return RawEvent(num, offset, cpu, dflags, ts, tid, etype, 0,
                            EVENT_HEADER.pack(ts, tid, elen + 4, etype, 0)
                            + buf[at + B.EVENT_HEADER_V1_SIZE:at + elen])
        payload = buf[at + B.EVENT_HEADER_V1_SIZE:at + elen]
        info = EVENTS[etype]
        if info.symbol in ("NOTIFICATION_E", "INFRASTRUCTURE_EVENT_E"):
            # Old writers stored these two with a length 3 bytes too long.
            payload = payload[:max(0, len(payload) - 3)]
        n = _v1_param_count(etype, payload)
        if n is None:
            return self._bad_event("v1 event: no parameter count matches its length", offset)
        data = EVENT_HEADER.pack(ts, tid, EVENT_HEADER_SIZE + len(payload), etype, n) + payload
        return RawEvent(num, offset, cpu, dflags, ts, tid, etype, n, data)

    def _bad_event(self, message: str, offset: int) -> None:
        self.damage.append(FormatError(f"corrupt event: {message}", offset))
        return None

    # -- resynchronisation ----------------------------------------------------------

    def _resync(self, problem: str, truncation: bool = False) -> bool:
        """Skip to the next plausible block after a damaged one.

        Returns True if one was found (reading goes on there), False at the end of
        the stream (the damage is then reported as a truncation or corruption).
        """
        bad_at = self.offset
        # Step one byte (not a whole header): never match the damaged block itself,
        # but a real block may start 1-3 bytes in (a few junk bytes before it).
        self._pos += 1
        if not self._scan():
            cls = TruncatedError if truncation else FormatError
            self.damage.append(cls(f"{problem}; no intact block follows", bad_at))
            self._pos = len(self._buf)
            return False
        found = self.offset
        self.damage.append(FormatError(
            f"{problem}; skipped {found - bad_at} bytes to the next intact block at "
            f"offset {found}", bad_at))
        return True

    def _scan(self) -> bool:
        """Advance ``_pos`` to the next plausible block; False at the end of the stream.

        Bytes before a candidate are junk and may be dropped from the window, so
        memory stays bounded however long the damaged stretch is.
        """
        while True:
            m = _RESYNC_RE.search(self._buf, self._pos)
            if m is None:
                # A block type may straddle the window edge: keep the last 3 bytes.
                self._pos = max(self._pos, len(self._buf) - 3)
                if self._eof:
                    return False
                self._avail(len(self._buf) - self._pos + 1)  # read more (or hit the end)
                continue
            self._pos = m.start()
            if self._candidate():
                return True
            self._pos += 1

    def _candidate(self) -> bool:
        """Does a plausible, complete block start at ``_pos``? (May refill the window.)"""
        if not self._avail(12):
            return False
        btype, blen = _HDR.unpack_from(self._buf, self._pos)
        spec = _EVENT_TYPES.get(btype)
        if self._check_length(btype, blen, spec is not None) is not None:
            return False
        if not self._avail(blen):
            return False
        p = self._pos
        (trailer,) = _U32.unpack_from(self._buf, p + blen - 4)
        if trailer != blen:
            return False
        if spec is not None:
            # A trial decode: its damage records and unknown-type counts are not kept
            # (the block is decoded for real when reading resumes there).
            damage, unknown = self.damage, self.unknown_event_types.copy()
            self.damage = DamageList()  # (a scratch list: the real one may be full)
            ev = self._event(self._buf, p + 8, p + blen - 4, spec, 0, 0)
            self.damage, self.unknown_event_types = damage, unknown
            if ev is None:
                return False
        return True

    # == summary scan (C fast path) ===================================================
    # scan_summary() drives the block loop above (_records_impl) with a hook that hands
    # runs of complete event blocks to the C scanner (cscan.py / cscan.c). The scanner
    # stops at anything else (metadata, a block not complete in the window, anything
    # invalid); that one block then goes through the unchanged Python code, so damage
    # messages, offsets and resynchronisation are the pure reader's.

    def scan_summary(self, decode: bool = True, *, use_c: bool | None = None) -> ScanTotals:
        """Read the whole capture, returning the totals ``summarize()`` needs.

        ``use_c``: None = the C scanner when ``cscan.available()``; False = pure
        Python (every event as a RawEvent); True = C (error when unavailable).
        Reader state afterwards (damage, snapshot, block_counts, ...) is the same
        either way.
        """
        from . import cscan

        totals = cscan.ScanTotals()
        if use_c is None:
            use_c = cscan.available()
        if not use_c:
            totals.add_events(self._records_impl(), decode)
            return totals
        scanner = cscan.Scanner(decode, MAX_EVENT_BLOCK, self._max_large)

        def fast(num: int) -> int:
            buf = self._buf
            pos = self._pos
            if len(buf) - pos < 8:
                return num
            new, n = scanner.scan(buf, pos, num)
            if new != pos:
                self._pos = new
                self.bytes_read = self._base + new
                if n:
                    num += n
                    self.events_read = num
            return num

        totals.add_events(self._records_impl(fast), decode)
        blocks, unknown = scanner.finish(totals)
        self.block_counts.update(blocks)
        self.unknown_event_types.update(unknown)
        return totals

    # == end of summary scan ============================================================


def block_type_plausible(btype: int) -> bool:
    """Is an unknown block type in the range writers number block types in?

    libscap numbers its block types 0x2xx (pcapng's own are small numbers too), and
    its pre-release ones 0x80xxABCD. See CaptureReader._next_plausible.
    """
    return btype < 0x10000 or (btype & 0x8000FFFF) == 0x8000ABCD


def _v1_param_count(etype: int, payload: bytes) -> int | None:
    """The parameter count of an old (v1) event, whose header does not store it.

    libscap counts down from its own table's count until the lengths exactly fill
    the event. Our table is newer (events only gain parameters), so the count the
    old writers used is tried first, then every smaller and larger one.
    """
    large = LARGE_PAYLOAD[etype]
    lsize = 4 if large else 2
    size = len(payload)
    for n in _v1_candidates(etype):
        if n * lsize > size:
            continue
        if n * lsize + sum(lens_struct(n, large).unpack_from(payload, 0)) == size:
            return n
    return None


@lru_cache(maxsize=None)
def _v1_candidates(etype: int) -> tuple[int, ...]:
    current = len(EVENTS[etype].params)
    old = v1_param_count_hint(etype)
    order = [old] if old is not None and old <= current else []
    order += [n for n in range(current, -1, -1) if n != old]
    return tuple(order)


def v1_param_count_hint(etype: int) -> int | None:
    """The parameter count sysdig 0.29.3's table gives an event type, if known."""
    try:
        from .event_table import sysdig_029_event_info
    except ImportError:  # pragma: no cover - table without the overlay
        return None
    info = sysdig_029_event_info(etype)
    return None if info is None else len(info.params)


def parse_options(raw: bytes) -> list[tuple[int, bytes]]:
    """Decode pcapng options after the section header (ends at code 0 or on damage)."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while i + 4 <= len(raw):
        code, ln = struct.unpack_from("<HH", raw, i)
        if code == 0:
            break
        value = raw[i + 4:i + 4 + ln]
        if len(value) < ln:
            break
        out.append((code, value))
        i += 4 + B.padded(ln)
    return out
