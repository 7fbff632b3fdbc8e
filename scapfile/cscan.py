"""Fast summary scan of event blocks in C (cffi, API mode), with its pure-Python twin.

``scap info`` reads every event of a capture and, with full decode, checks every
parameter against its declared type. In Python that costs microseconds per event;
:func:`available` tells whether the C scanner can do it instead. The C code
(``cscan.c`` next to this file) walks runs of complete event blocks in the reader's
window, performs exactly the checks of :class:`~.reader.CaptureReader` and adds to
the totals; everything else (metadata blocks, damage messages, resynchronisation,
the window edge) stays with the reader's Python code. See
``CaptureReader.scan_summary``.

The extension is compiled on first use by :mod:`.cext` (in a child process, into a
per-user cache directory, keyed by a hash of the source and the Python version). With
no compiler, on a
big-endian host, or with ``SCAPKIT_PURE=1`` in the environment, :func:`available`
is False and callers use the pure-Python path (``ScanTotals.add_events``). A build
that fails with a compiler present leaves ``<name>.failed`` (the compiler's message)
in the cache directory so later runs do not retry; delete it to retry.

Which parameter bytes ``params.decode_param`` accepts is described per ``PT`` by
:data:`PT_RULES` (tests check it against ``decode_param`` for every type).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cext import OptionalExtension
from .event_table import EVENTS, NUM_EVENTS, PT, ParamInfo
from .events import GENERIC_CODES, LARGE_PAYLOAD, RawEvent
from .syscall_names import SYSCALL_NAMES

__all__ = ["available", "unavailable_reason", "ScanTotals", "Scanner", "PT_RULES",
           "C_SOURCE_PATH"]

C_SOURCE_PATH = Path(__file__).with_name("cscan.c")

#: Status codes of cs_scan (cscan.c).
CS_MORE, CS_NONEVENT, CS_INVALID, CS_NEED_V1 = 0, 1, 2, 3

#: Event block types in the order of ``cs_totals.block_counts``.
EVENT_BLOCK_ORDER = (0x204, 0x8010ABCD, 0x208, 0x216, 0x217, 0x221, 0x222)

# -- what decode_param accepts, per parameter type ------------------------------------

#: Check kinds understood by cscan.c's check_param (K_*).
K_ANY, K_SIZE, K_FAIL, K_SOCKADDR, K_SOCKTUPLE, K_FDLIST, K_DYN, K_PAIRS, K_NET = range(9)

#: ``PT -> (kind, size a, size b)``: which values ``params.decode_param`` accepts.
#: K_SIZE: the length is a or b; K_NET: the length is a or b and the second half (the
#: netmask) is contiguous; K_ANY: any bytes; the other kinds look at the content as
#: params.py does (family byte, entry count, selector byte, NUL count).
PT_RULES: dict[PT, tuple[int, int, int]] = {}


def _rules() -> None:
    def size(n: int, m: int | None = None) -> tuple[int, int, int]:
        return (K_SIZE, n, n if m is None else m)

    for pt in (PT.NONE, PT.CHARBUF, PT.FSPATH, PT.FSRELPATH, PT.BYTEBUF, PT.CHARBUFARRAY):
        PT_RULES[pt] = (K_ANY, 0, 0)
    for pt in (PT.INT8, PT.UINT8, PT.SIGTYPE, PT.L4PROTO, PT.SOCKFAMILY, PT.FLAGS8,
               PT.ENUMFLAGS8):
        PT_RULES[pt] = size(1)
    for pt in (PT.INT16, PT.UINT16, PT.SYSCALLID, PT.PORT, PT.FLAGS16, PT.ENUMFLAGS16):
        PT_RULES[pt] = size(2)
    for pt in (PT.INT32, PT.UINT32, PT.FD32, PT.PID32, PT.FLAGS32, PT.ENUMFLAGS32, PT.MODE,
               PT.SIGSET, PT.BOOL, PT.UID, PT.GID, PT.IPV4ADDR):
        PT_RULES[pt] = size(4)
    for pt in (PT.INT64, PT.UINT64, PT.ERRNO, PT.FD, PT.PID, PT.RELTIME, PT.ABSTIME,
               PT.DOUBLE):
        PT_RULES[pt] = size(8)
    PT_RULES[PT.IPV6ADDR] = size(16)
    PT_RULES[PT.IPADDR] = size(4, 16)
    PT_RULES[PT.SOCKADDR] = (K_SOCKADDR, 0, 0)
    PT_RULES[PT.SOCKTUPLE] = (K_SOCKTUPLE, 0, 0)
    PT_RULES[PT.FDLIST] = (K_FDLIST, 0, 0)
    PT_RULES[PT.DYN] = (K_DYN, 0, 0)
    PT_RULES[PT.CHARBUF_PAIR_ARRAY] = (K_PAIRS, 0, 0)
    PT_RULES[PT.IPV4NET] = (K_NET, 8, 8)
    PT_RULES[PT.IPV6NET] = (K_NET, 32, 32)
    PT_RULES[PT.IPNET] = (K_NET, 8, 32)


_rules()


# -- availability, build and load -------------------------------------------------------

def _prepare(mod: Any) -> _Tables:
    return _Tables(mod.ffi)


_EXT = OptionalExtension("cscan", C_SOURCE_PATH, _prepare)


def available() -> bool:
    """True when the C scanner can be used (``SCAPKIT_PURE=1`` forces False)."""
    return _EXT.available()


def unavailable_reason() -> str | None:
    """Why the C scanner cannot be used, or None when it can."""
    return _EXT.unavailable_reason()


# -- tables handed to C ---------------------------------------------------------------------


#: What cscan.c hard-codes about block and event layouts (checked against blocks.py).
_C_EVENT_BLOCKS = {  # block type -> (v2, flags, large cap), order of block_counts
    0x204: (False, False, False), 0x8010ABCD: (False, False, False),
    0x208: (False, True, False), 0x216: (True, False, False), 0x217: (True, True, False),
    0x221: (True, False, True), 0x222: (True, True, True)}


def _check_layout() -> None:
    from . import blocks as B
    from .events import EVENT_HEADER_SIZE

    have = {int(k): tuple(v) for k, v in B.EVENT_BLOCKS.items()}
    if have != _C_EVENT_BLOCKS or tuple(_C_EVENT_BLOCKS) != EVENT_BLOCK_ORDER:
        raise RuntimeError("event block kinds differ from what cscan.c knows")
    if (B.MIN_BLOCK_SIZE, EVENT_HEADER_SIZE, B.EVENT_HEADER_V1_SIZE) != (12, 26, 22):
        raise RuntimeError("block or event header sizes differ from what cscan.c knows")


class _Tables:
    """The C view of the event table and PT_RULES (built once per process)."""

    def __init__(self, ffi: Any) -> None:
        missing = set(PT) - set(PT_RULES)
        if missing:  # the event table grew a type: scanning it in C would be a guess
            raise RuntimeError(f"PT_RULES lacks {sorted(missing)}")
        _check_layout()
        self.ffi = ffi
        self.keep: list[Any] = []
        self.generic_codes = sorted(GENERIC_CODES)
        kinds: list[int] = []
        sa: list[int] = []
        sb: list[int] = []
        alt_start: list[int] = []
        alt_count: list[int] = []
        alts: list[int] = []
        by_key: dict[Any, int] = {}

        def add(kind: int, a: int = 0, b: int = 0, start: int = 0, count: int = 0) -> None:
            kinds.append(kind)
            sa.append(a)
            sb.append(b)
            alt_start.append(start)
            alt_count.append(count)

        def spec(p: ParamInfo) -> int:
            if p.type == PT.DYN:
                # decode_param fails on every value of a DYN without alternatives
                key: Any = (("dyn", tuple(spec(a) for a in p.info))
                            if isinstance(p.info, tuple) else ("fail",))
            else:
                key = p.type
            if key in by_key:
                return by_key[key]
            sid = len(kinds)
            by_key[key] = sid
            if key == ("fail",):
                add(K_FAIL)
            elif isinstance(key, tuple):
                add(K_DYN, start=len(alts), count=len(key[1]))
                alts.extend(key[1])
            else:
                add(*PT_RULES[p.type])
            return sid

        starts, counts, pspec = [], [], []
        for e in EVENTS:
            starts.append(len(pspec))
            counts.append(len(e.params))
            pspec.extend(spec(p) for p in e.params)
        self.spec_of = spec  # tests: the spec id of any ParamInfo
        self._kinds, self._sa, self._sb = kinds, sa, sb
        self._alt_start, self._alt_count, self._alts = alt_start, alt_count, alts

        t = ffi.new("struct cs_tables *")
        self.t = t
        t.num_events = NUM_EVENTS
        t.large = self._arr("uint8_t[]", [int(x) for x in LARGE_PAYLOAD])
        gidx = [-1] * NUM_EVENTS
        for i, code in enumerate(self.generic_codes):
            gidx[code] = i
        t.generic = self._arr("int32_t[]", gidx)
        t.param_start = self._arr("uint32_t[]", starts)
        t.param_count = self._arr("uint32_t[]", counts)
        t.param_spec = self._arr("int32_t[]", pspec or [0])
        self._set_specs()
        self.v1_ready = False

    def _arr(self, ctype: str, values: list[int]) -> Any:
        a = self.ffi.new(ctype, values)
        self.keep.append(a)
        return a

    def _set_specs(self) -> None:
        t = self.t
        t.num_specs = len(self._kinds)
        t.spec_kind = self._arr("int32_t[]", self._kinds or [0])
        t.spec_a = self._arr("int64_t[]", self._sa or [0])
        t.spec_b = self._arr("int64_t[]", self._sb or [0])
        t.spec_alt_start = self._arr("int32_t[]", self._alt_start or [0])
        t.spec_alt_count = self._arr("int32_t[]", self._alt_count or [0])
        t.alts = self._arr("int32_t[]", self._alts or [0])

    def spec_for(self, p: ParamInfo) -> int:
        """Spec id of any ParamInfo (adds specs for ones no event declares; tests)."""
        before = len(self._kinds)
        sid = self.spec_of(p)
        if len(self._kinds) != before:
            self._set_specs()
        return sid

    def load_v1(self) -> None:
        """Tables only old (v1) event blocks need: built when the first one shows up."""
        from .reader import _v1_candidates

        trim = [1 if e.symbol in ("NOTIFICATION_E", "INFRASTRUCTURE_EVENT_E") else 0
                for e in EVENTS]
        starts, counts, cands = [], [], []
        for code in range(NUM_EVENTS):
            c = _v1_candidates(code)
            starts.append(len(cands))
            counts.append(len(c))
            cands.extend(c)
        t = self.t
        t.v1_trim3 = self._arr("uint8_t[]", trim)
        t.cand_start = self._arr("uint32_t[]", starts)
        t.cand_count = self._arr("uint32_t[]", counts)
        t.cands = self._arr("uint32_t[]", cands or [0])
        self.v1_ready = True


def _tables() -> _Tables:
    _EXT.module()
    return _EXT.prepared


# -- totals ------------------------------------------------------------------------------


@dataclass(eq=False)
class ScanTotals:
    """What ``summarize()`` needs from the events of a capture."""

    events: int = 0
    #: event code -> count
    type_counts: Counter[int] = field(default_factory=Counter)
    #: generic syscall events, by the name sysdig shows (``RawEvent.type_name``)
    generic_names: Counter[str] = field(default_factory=Counter)
    first_ts: int | None = None
    last_ts: int | None = None
    #: parameters that ``params.decode_param`` rejects (with ``decode``)
    bad_params: int = 0
    #: how many of ``events`` the C scanner counted
    fast_events: int = 0
    #: event numbers (``RawEvent.num``) of first_ts / last_ts
    first_num: int | None = None
    last_num: int = 0

    def add_events(self, records: Iterable[Any], decode: bool) -> None:
        """The pure-Python path: add every RawEvent of ``records`` (other items skipped)."""
        from .params import ParamDecodeError, decode_param, decoder_for

        def bind(d: ParamInfo) -> Any:
            # decode_param(d, raw) is decoder_for(d.type)(d, raw): prebind it per event type
            try:
                return decoder_for(d.type)
            except ParamDecodeError:  # unknown type: decode_param raises, as it should
                return decode_param

        plans: dict[int, tuple[tuple[ParamInfo, Any], ...]] = {}
        counts = self.type_counts
        names = self.generic_names
        generic = GENERIC_CODES
        events_tab = EVENTS
        num_events = NUM_EVENTS
        first = last = None
        bad = 0
        n = 0
        for ev in records:
            if type(ev) is not RawEvent:
                continue
            n += 1
            t = ev.type
            counts[t] += 1
            if t in generic:
                names[ev.type_name] += 1
            if first is None:
                first = ev
            last = ev
            if decode and ev.nparams and t < num_events:
                plan = plans.get(t)
                if plan is None:
                    plan = plans[t] = tuple((d, bind(d)) for d in events_tab[t].params)
                for (decl, dec), raw in zip(plan, ev.raw_params()):
                    try:
                        dec(decl, raw)
                    except ParamDecodeError:
                        bad += 1
        self.events += n
        self.bad_params += bad
        if first is not None:
            self._seen(first.num, first.ts, last.num, last.ts)  # type: ignore[union-attr]

    def _seen(self, first_num: int, first_ts: int, last_num: int, last_ts: int) -> None:
        if self.first_num is None or first_num < self.first_num:
            self.first_num, self.first_ts = first_num, first_ts
        if last_num >= self.last_num:
            self.last_num, self.last_ts = last_num, last_ts


class Scanner:
    """One capture's C scan state. ``scan()`` consumes event blocks of a window."""

    def __init__(self, decode: bool, max_block: int, max_large_block: int) -> None:
        mod = _EXT.module()
        if mod is None:
            raise RuntimeError(f"C scanner unavailable: {unavailable_reason()}")
        self._ffi = ffi = mod.ffi
        self._lib = mod.lib
        self._tabs = _tables()
        self._t = ffi.new("struct cs_tables *")  # own copy: the caps are per reader
        self._max = (max_block, max_large_block)
        self._copy_tables()
        self._decode = 1 if decode else 0
        ng = len(self._tabs.generic_codes)
        self._type_counts = ffi.new("uint64_t[]", 65536)
        self._generic_counts = ffi.new("uint64_t[]", max(1, ng * 65537))
        self._tot = ffi.new("struct cs_totals *")
        self._tot.type_counts = self._type_counts
        self._tot.generic_counts = self._generic_counts
        self._out = ffi.new("size_t *")
        self.first_num: int | None = None
        self.last_num = 0
        self.status = CS_MORE

    def _copy_tables(self) -> None:
        self._t[0] = self._tabs.t[0]
        self._t.max_block, self._t.max_large_block = self._max

    def scan(self, buf: bytes, pos: int, num: int) -> tuple[int, int]:
        """Consume complete, valid event blocks of ``buf`` from ``pos``.

        ``num`` is the count of events before ``pos``. Returns the position of the
        first block not consumed and the number of events consumed; ``status``
        says why it stopped (CS_*).
        """
        tot = self._tot
        before = tot.events
        ffi, lib = self._ffi, self._lib
        cbuf = ffi.from_buffer("uint8_t[]", buf)
        while True:
            status = lib.cs_scan(self._t, tot, cbuf, pos, len(buf), self._decode, self._out)
            pos = self._out[0]
            if status != CS_NEED_V1 or self._t.cands != self._ffi.NULL:
                break
            if not self._tabs.v1_ready:
                self._tabs.load_v1()
            self._copy_tables()
        self.status = status
        n = tot.events - before
        if n:
            if self.first_num is None:
                self.first_num = num + 1
            self.last_num = num + n
        return pos, n

    def finish(self, totals: ScanTotals) -> tuple[dict[int, int], dict[int, int]]:
        """Add the C totals to ``totals``. Returns the reader's share: event block counts
        by block type, and counts of event codes newer than the table."""
        tot = self._tot
        totals.events += tot.events
        totals.fast_events += tot.events
        totals.bad_params += tot.bad_params
        if tot.events:
            totals._seen(self.first_num, tot.first_ts, self.last_num,  # type: ignore[arg-type]
                         tot.last_ts)
        unknown: dict[int, int] = {}
        counts = totals.type_counts
        for t in self._nonzero(self._type_counts, 65536):
            c = self._type_counts[t]
            counts[t] += c
            if t >= NUM_EVENTS:
                unknown[t] = c
        names = totals.generic_names
        codes = self._tabs.generic_codes
        for i in self._nonzero(self._generic_counts, len(codes) * 65537):
            g, slot = divmod(i, 65537)
            name = SYSCALL_NAMES[slot] if slot < len(SYSCALL_NAMES) else EVENTS[codes[g]].name
            names[name] += self._generic_counts[i]
        blocks = {bt: tot.block_counts[k] for k, bt in enumerate(EVENT_BLOCK_ORDER)
                  if tot.block_counts[k]}
        return blocks, unknown

    def _nonzero(self, arr: Any, n: int) -> list[int]:
        if n == 0:
            return []
        idx = self._ffi.new("uint32_t[]", n)
        k = self._lib.cs_nonzero(arr, n, idx, n)
        return list(idx[0:k])

    def check_param(self, p: ParamInfo, raw: bytes) -> bool:
        """Would ``decode_param(p, raw)`` succeed? (the C check; for tests)"""
        sid = self._tabs.spec_for(p)
        return bool(self._lib.cs_check_param(
            self._tabs.t, sid, self._ffi.from_buffer("uint8_t[]", raw), len(raw)))
