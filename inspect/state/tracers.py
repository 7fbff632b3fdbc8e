"""Tracers: the spans a program marks by writing to ``/dev/null``, as sinsp 0.29.3 reads them.

A process writes ``>:ID:TAG.TAG:NAME=VALUE,NAME=VALUE::`` to open a span and
``<:ID:TAG.TAG:...::`` to close it (or the JSON form ``[">", ID, ["tag"...],
[{"name":"value"}...]]``); ID is a number, ``t`` (the thread id), ``p`` (the process
id), ``pp`` (the parent's) or empty/``g`` (0). sinsp (libs e5c53d64, ``tracers.cpp`` and
``parsers.cpp``) turns such a write into a ``tracer`` event in its place:

* an fd opened on ``/dev/null`` is a candidate; its first write decides: a tracer makes
  it a tracer fd (later writes on it are tracers, or ``invalid tracer ...`` events, and
  its write enter events are not shown), anything else makes it a plain fd for good;
* a write that ends in the middle of a tracer is kept and not shown; the next write on
  that thread continues it;
* with span tracking on (sysdig turns it on when a ``span.*`` field that needs the enter
  tracer, or any ``evtin.*`` field, is used), each enter tracer opens a span, kept in a
  list, newest first, until an exit tracer with the same ID and tags closes it; at most
  128 spans are open (a pool of 128 records: when it runs out, every open span is
  dropped and the new one is not tracked, but the thread still points at the record it
  last used).

The parsers reproduce sinsp's, quirks included (a scope or tag starting with the
character ``0`` waits for more data; an unknown JSON scope letter is accepted; a
backslash escapes the next character in the simple form).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from scapkit.scapfile.event_table import EF, EVENTS
from scapkit.scapfile.events import RawEvent, build_event

from .fds import FdFlag

if TYPE_CHECKING:
    from .engine import EventContext, StateEngine
    from .threads import ThreadInfo

__all__ = ["TracerState", "TracerParser", "PartialTracer", "TRACER_E", "TRACER_X",
           "RES_OK", "RES_COMMA", "RES_FAILED", "RES_TRUNCATED"]

_CODE = {e.symbol: e.code for e in EVENTS}
TRACER_E = _CODE["TRACER_E"]
TRACER_X = _CODE["TRACER_X"]
#: The exits sinsp's ``parse_rw_exit`` handles (reads included: a tracer fd's reads too).
RW_EXITS = frozenset(_CODE[s] for s in (
    "SYSCALL_READ_X", "SYSCALL_WRITE_X", "SOCKET_RECV_X", "SOCKET_SEND_X",
    "SOCKET_RECVFROM_X", "SOCKET_RECVMSG_X", "SOCKET_SENDTO_X", "SOCKET_SENDMSG_X",
    "SYSCALL_READV_X", "SYSCALL_WRITEV_X", "SYSCALL_PREAD_X", "SYSCALL_PWRITE_X",
    "SYSCALL_PREADV_X", "SYSCALL_PWRITEV_X"))
WRITE_E = _CODE["SYSCALL_WRITE_E"]

RES_OK, RES_COMMA, RES_FAILED, RES_TRUNCATED = range(4)
#: Largest tracer fragment kept waiting for the rest (sinsp's ``MAX_USER_EVT_BUFFER``).
MAX_FRAGMENT = 65536
#: How many spans can be open at once (sinsp's pool of partial tracers).
POOL_SIZE = 128

_IS_TRACER_FILE = int(FdFlag.IS_TRACER_FILE)
_IS_TRACER_FD = 1 << 8
_IS_NOT_TRACER_FD = int(FdFlag.IS_NOT_TRACER_FD)
#: Dump flag of events written as tracers.
DF_TRACER = 2
_I64 = (1 << 64) - 1


def _c_str(buf: bytearray, at: int) -> bytes:
    end = buf.find(0, at)
    return bytes(buf[at:end if end >= 0 else len(buf)])


def _wrap64(v: int) -> int:
    v &= _I64
    return v - (1 << 64) if v >= 1 << 63 else v


class PartialTracer:
    """An open span (sinsp's ``sinsp_partial_tracer``): one of the pool's records."""

    __slots__ = ("id", "tags", "argnames", "argvals", "time", "tid", "packed_tags")

    def __init__(self) -> None:
        self.id = 0
        self.tags: list[bytes] = []
        self.argnames: list[bytes] = []
        self.argvals: list[bytes] = []
        self.time = 0
        self.tid = 0
        self.packed_tags = b"\0"

    def load(self, parser: TracerParser, tid: int) -> None:
        """Copy the parser's result (``init_partial_tracer``); the time is left as is."""
        self.tid = tid
        self.id = parser.id
        self.tags = list(parser.tags)
        self.argnames = list(parser.argnames)
        self.argvals = list(parser.argvals)
        self.packed_tags = b"".join(t + b"\0" for t in self.tags) + b"\0"

    def same_span(self, other: PartialTracer) -> bool:
        return self.id == other.id and self.packed_tags == other.packed_tags


class _Scan:
    """The parse of one buffer: a C string worked on in place, as sinsp's parser does."""

    __slots__ = ("buf",)

    def __init__(self, buf: bytearray) -> None:
        self.buf = buf

    def at(self, p: int) -> int:
        buf = self.buf
        return buf[p] if p < len(buf) else 0

    def delete_char(self, p: int) -> None:
        buf = self.buf
        end = buf.find(0, p)
        if end < 0:
            end = len(buf) - 1
        buf[p:end] = buf[p + 1:end + 1]

    # -- the JSON form's helpers: (result, characters skipped) ------------------------------

    def skip_spaces(self, p: int) -> tuple[int, int]:
        q = p
        while self.at(q) == 32:
            q += 1
        return RES_OK, q - p

    def skip_spaces_and_commas(self, p: int, expected: int) -> tuple[int, int]:
        q, commas = p, 0
        while True:
            c = self.at(q)
            if c == 32:
                q += 1
                continue
            if c == 44:
                commas += 1
            elif c == 0:
                return RES_TRUNCATED, 0
            else:
                break
            q += 1
        if commas < expected:
            return RES_FAILED, 0
        return RES_OK, q - p

    def skip_spaces_and_char(self, p: int, char: int) -> tuple[int, int]:
        q, seen = p, 0
        while self.at(q) in (32, char, 0):
            c = self.at(q)
            if c == 0:
                return RES_TRUNCATED, 0
            if c == char:
                seen += 1
            q += 1
        if seen != 1:
            return RES_FAILED, 0
        return RES_OK, q - p

    def skip_to_next_arg(self, p: int) -> tuple[int, int]:
        """``skip_spaces_and_commas_and_cr_brackets``."""
        q = p
        commas = opening = closing = 0
        while self.at(q) in b" ,{}\0":
            c = self.at(q)
            if c == 0:
                return RES_TRUNCATED, 0
            if c == 44:
                commas += 1
            elif c == 123:
                opening += 1
            elif c == 125:
                closing += 1
            q += 1
        if not ((commas == 1 and opening == 1) or (commas == 1 and closing == 1)
                or (closing == 1 and self.at(q) == 93)):
            return RES_FAILED, 0
        return RES_OK, q - p

    def skip_to_first_arg(self, p: int) -> tuple[int, int]:
        """``skip_spaces_and_commas_and_all_brackets``."""
        q = p
        commas = squares = curlies = 0
        while self.at(q) in b" ,[]{}\0":
            c = self.at(q)
            if c == 0:
                return RES_TRUNCATED, 0
            if c == 44:
                commas += 1
            elif c == 91:
                squares += 1
            elif c == 93:
                if squares:
                    break
            elif c == 123:
                curlies += 1
            q += 1
        if commas != 1 or squares != 1:
            return RES_FAILED, 0
        if curlies != 1 and self.at(q) != 93:
            return RES_FAILED, 0
        return RES_OK, q - p

    def parse_str(self, p: int) -> tuple[int, int | None, int]:
        """A quoted string: (result, where its text starts or None, characters used);
        the closing quote becomes the string's end."""
        if self.at(p) != 34:
            return (RES_TRUNCATED if self.at(p) == 0 else RES_FAILED), None, 1
        q = p + 1
        while not (self.at(q) == 34 and self.at(q - 1) != 92):
            if self.at(q) == 0:
                return RES_TRUNCATED, p + 1, q - p + 1
            q += 1
        self.buf[q] = 0
        return RES_OK, p + 1, q - p + 1

    def parse_str_optional(self, p: int) -> tuple[int, int | None, int]:
        res, start, used = self.parse_str(p)
        if res == RES_FAILED:
            return RES_OK, None, used
        if res == RES_TRUNCATED:
            return res, start, used
        return RES_OK, start, used

    def parse_number(self, p: int) -> tuple[int, int, int]:
        """(result, value, characters used): a number ended by a blank or a comma."""
        q, neg = p, False
        if self.at(q) == 45:
            neg, q = True, q + 1
        val = 0
        while 48 <= self.at(q) <= 57:
            val = _wrap64(val * 10 + self.at(q) - 48)
            q += 1
        c = self.at(q)
        res = RES_OK
        if c == 44:
            res = RES_COMMA
        elif c not in (0, 32):
            return RES_FAILED, 0, 0
        elif c == 0:
            return RES_TRUNCATED, 0, 0
        self.buf[q] = 0
        return res, _wrap64(-val if neg else val), q - p + 1

    def parse_number_colon(self, p: int) -> tuple[int, int, int]:
        q, neg = p, False
        if self.at(q) == 45:
            neg, q = True, q + 1
        val = 0
        while 48 <= self.at(q) <= 57:
            val = _wrap64(val * 10 + self.at(q) - 48)
            q += 1
        if self.at(q) != 58:
            return (RES_TRUNCATED if self.at(q) == 0 else RES_FAILED), 0, 0
        return RES_OK, _wrap64(-val if neg else val), q - p + 1


class TracerParser:
    """One thread's tracer parser (``sinsp_tracerparser``): the last tracer it read, the
    fragment waiting for the rest, and the spans of its last enter and exit tracers."""

    def __init__(self) -> None:
        self.res = RES_OK
        self.storage = bytearray()
        self.fragment = 0
        self.full_fragment = b""
        self.type = b""
        self.id = 0
        self.tags: list[bytes] = []
        #: The tags' lengths as parsed, in sinsp's reused vector: cleared for each parse
        #: but keeping what earlier parses wrote past its end (an invalid tracer's message
        #: is copied by them).
        self.taglens: list[int] = []
        self._ntaglens = 0
        self.argnames: list[bytes] = []
        self.argvals: list[bytes] = []
        #: The span of the last enter tracer, or the one the last exit tracer closed.
        self.enter: PartialTracer | None = None
        #: The last exit tracer.
        self.exit = PartialTracer()

    def _taglen(self, n: int) -> None:
        i = self._ntaglens
        if i < len(self.taglens):
            self.taglens[i] = n
        else:
            self.taglens.append(n)
        self._ntaglens = i + 1

    @property
    def parsed_taglens(self) -> list[int]:
        """The tag lengths the last parse wrote (the rest of :attr:`taglens` is older)."""
        return self.taglens[:self._ntaglens]

    @property
    def is_enter(self) -> bool:
        return self.type[:1] == b">"

    def feed(self, data: bytes, ts: int, thread: ThreadInfo, state: TracerState) -> int:
        """Parse ``data`` (after the fragment kept), as ``process_event_data``."""
        kept = bytes(self.storage[:self.fragment])
        self.storage = bytearray(kept + data + b"\0")
        total = len(kept) + len(data)
        if self.fragment:
            self.full_fragment = _c_str(self.storage, 0)
        if total > 0:
            self.res = RES_OK
            self.tags, self.argnames, self.argvals = [], [], []
            self._ntaglens = 0
            if self.storage[0] in b"><":
                self._parse_simple(thread)
            else:
                self._parse_json(thread)
        else:
            self.res = RES_FAILED
        if self.res == RES_FAILED:
            self.fragment = 0
            self.full_fragment = b""
            return self.res
        if self.res == RES_TRUNCATED:
            if self.fragment > MAX_FRAGMENT:
                self.fragment = 0
                return self.res
            if not self.full_fragment:
                self.storage[:len(data)] = data
                self.fragment += len(data)
            else:
                self.storage[:len(self.full_fragment)] = self.full_fragment
                self.fragment = len(self.full_fragment)
            return self.res
        self.fragment = 0
        self.full_fragment = b""
        if state.track:
            state.track_span(self, thread.tid, ts)
        return RES_OK

    def _scope(self, s: _Scan, p: int, thread: ThreadInfo) -> tuple[int, int] | None:
        """The ID letter at ``p``: (id, characters used), or None for another character."""
        c = s.at(p)
        if c == 116:  # t
            return thread.tid, 2
        if c == 112:  # p
            if s.at(p + 1) == 112:
                return thread.ptid, 3
            return thread.pid, 2
        if c == 58:  # :
            return 0, 1
        if c == 103:  # g
            return 0, 2
        return None

    def _parse_simple(self, thread: ThreadInfo) -> None:
        s = _Scan(self.storage)
        buf = self.storage
        self.type = bytes(buf[:1])
        p = 1
        if s.at(p) != 58:
            self.res = RES_TRUNCATED if s.at(p) == 0 else RES_FAILED
            return
        buf[p] = 0
        p += 1
        if s.at(p) == 48:  # the character '0' (sinsp's test for the end of the data)
            self.res = RES_TRUNCATED
            return
        scope = self._scope(s, p, thread)
        if scope is None:
            res, self.id, used = s.parse_number_colon(p)
            if res > RES_COMMA:
                self.res = res
                return
        else:
            self.id, used = scope
        p += used
        if s.at(p) == 48:
            self.res = RES_TRUNCATED
            return
        if s.at(p) != 58:
            escaped = False
            while True:
                start = p
                while s.at(p) != 0:
                    c = s.at(p)
                    if escaped:
                        escaped = False
                        p += 1
                        continue
                    if c == 92:
                        escaped = True
                        s.delete_char(p)
                        continue
                    if c in (46, 58):
                        break
                    if c in (62, 60, 61, 10):
                        self.res = RES_FAILED
                        return
                    p += 1
                self.tags.append(bytes(buf[start:p]))
                self._taglen(p - start)
                if s.at(p) == 58:
                    buf[p] = 0
                    break
                if s.at(p) == 0:
                    self.res = RES_TRUNCATED
                    return
                buf[p] = 0
                p += 1
        p += 1
        if s.at(p) == 0:
            self.res = RES_TRUNCATED
            return
        if s.at(p) == 58:
            return
        escaped = False
        while True:
            start = p
            while s.at(p) != 0:
                c = s.at(p)
                if escaped:
                    escaped = False
                    p += 1
                    continue
                if c == 92:
                    escaped = True
                    s.delete_char(p)
                    continue
                if c == 61:
                    break
                if c in (62, 60, 10):
                    self.res = RES_FAILED
                    return
                p += 1
            self.argnames.append(bytes(buf[start:p]))
            if s.at(p) == 0:
                # a name without value ends the data: refused when the tracer ended
                self.res = RES_FAILED if p > 0 and buf[p - 1] == 58 else RES_TRUNCATED
                return
            buf[p] = 0
            p += 1
            start = p
            escaped = False
            while s.at(p) != 0:
                c = s.at(p)
                if escaped:
                    escaped = False
                    p += 1
                    continue
                if c == 92:
                    escaped = True
                    s.delete_char(p)
                    continue
                if c in (44, 58, 61):
                    break
                p += 1
            self.argvals.append(bytes(buf[start:p]))
            if s.at(p) == 58:
                buf[p] = 0
                self.res = RES_OK
                return
            if s.at(p) == 0:
                self.res = RES_TRUNCATED
                return
            buf[p] = 0
            p += 1

    def _parse_json(self, thread: ThreadInfo) -> None:
        s = _Scan(self.storage)
        p = 0
        _, used = s.skip_spaces(p)
        p += used
        if s.at(p) != 91:
            self.res = RES_FAILED
            return
        p += 1
        res, start, used = s.parse_str(p)
        if res != RES_OK:
            self.res = res
            return
        self.type = _c_str(self.storage, start) if start is not None else b""
        p += used
        res, used = s.skip_spaces_and_commas(p, 1)
        if res != RES_OK:
            self.res = res
            return
        p += used
        if s.at(p) == 34:
            p += 1
            scope = self._scope(s, p, thread)
            if scope is None:
                res = RES_FAILED  # overwritten below, with the last count skipped again
            else:
                self.id, used = scope
        else:
            res, value, n = s.parse_number(p)
            if res > RES_COMMA:
                self.res = res
                return
            self.id, used = value, n
        p += used
        if res == RES_COMMA:
            res, used = s.skip_spaces(p)
        else:
            res, used = s.skip_spaces_and_commas(p, 1)
        if res != RES_OK:
            self.res = res
            return
        p += used
        res, used = s.skip_spaces_and_char(p, 91)
        if res != RES_OK:
            self.res = res
            return
        p += used
        res, start, used = s.parse_str_optional(p)
        if res != RES_OK:
            self.res = res
            return
        p += used
        if start is not None:
            self.tags.append(_c_str(self.storage, start))
            self._taglen(used - 2)
            while True:
                res, used = s.skip_spaces_and_commas(p, 0)
                if res != RES_OK:
                    self.res = res
                    return
                p += used
                if s.at(p) == 93:
                    break
                res, start, used = s.parse_str(p)
                if res != RES_OK:
                    self.res = res
                    return
                p += used
                self.tags.append(_c_str(self.storage, start))  # type: ignore[arg-type]
                self._taglen(used - 2)
        res, used = s.skip_to_first_arg(p)
        if res != RES_OK:
            self.res = res
            return
        p += used
        res, start, used = s.parse_str_optional(p)
        if res != RES_OK:
            self.res = res
            return
        p += used
        if start is not None:
            first = True
            while True:
                if not first:
                    res, used = s.skip_to_next_arg(p)
                    if res != RES_OK:
                        self.res = res
                        return
                    p += used
                    if s.at(p) == 93:
                        p += 1
                        break
                    res, start, used = s.parse_str(p)
                    if res != RES_OK:
                        self.res = res
                        return
                    p += used
                first = False
                self.argnames.append(_c_str(self.storage, start))  # type: ignore[arg-type]
                res, used = s.skip_spaces_and_char(p, 58)
                if res != RES_OK:
                    self.res = res
                    return
                p += used
                res, start, used = s.parse_str(p)
                if res != RES_OK:
                    self.res = res
                    return
                p += used
                self.argvals.append(_c_str(self.storage, start))  # type: ignore[arg-type]
        _, used = s.skip_spaces(p)
        p += used
        if s.at(p) != 93:
            self.res = RES_TRUNCATED if s.at(p) == 0 else RES_FAILED
            return
        self.res = RES_OK


class TracerState:
    """The engine's tracer state: each thread's parser and the open spans."""

    def __init__(self) -> None:
        #: Span tracking (sysdig's ``request_tracer_state_tracking``).
        self.track = True
        #: The open spans, newest first.
        self.spans: deque[PartialTracer] = deque()
        self._pool: deque[PartialTracer] = deque(PartialTracer() for _ in range(POOL_SIZE))
        self._parsers: dict[int, tuple[ThreadInfo, TracerParser]] = {}

    def parser(self, thread: ThreadInfo | None) -> TracerParser | None:
        """The thread's parser, once it wrote a tracer (or tried to)."""
        if thread is None:
            return None
        found = self._parsers.get(thread.tid)
        return found[1] if found is not None and found[0] is thread else None

    def _parser_for(self, thread: ThreadInfo) -> TracerParser:
        found = self._parsers.get(thread.tid)
        if found is not None and found[0] is thread:
            return found[1]
        parser = TracerParser()
        self._parsers[thread.tid] = (thread, parser)
        return parser

    def track_span(self, parser: TracerParser, tid: int, ts: int) -> None:
        if parser.is_enter:
            if not self._pool:
                self._pool.extendleft(self.spans)  # (the thread keeps its last record)
                self.spans.clear()
                return
            span = self._pool.popleft()
            span.load(parser, tid)
            span.time = ts
            self.spans.appendleft(span)
            parser.enter = span
            return
        parser.exit.load(parser, tid)
        for span in self.spans:
            if parser.exit.same_span(span):
                parser.exit.time = ts
                parser.enter = span
                self._pool.appendleft(span)
                self.spans.remove(span)
                return
        parser.enter = None

    # -- the engine's hooks ---------------------------------------------------------------------

    def rw_exit(self, eng: StateEngine, ctx: EventContext) -> bool:
        """Before a read/write exit is applied: True when it was a tracer (the event became
        a tracer event, or waits for the rest of its data), so nothing else applies."""
        fd = ctx.fd
        if fd is None:
            if ctx.event.dump_flags & DF_TRACER:
                self._parse(eng, ctx, None)
                return True
            return False
        flags = fd.flags
        if flags & _IS_NOT_TRACER_FD:
            return False
        if flags & _IS_TRACER_FD:
            self._parse(eng, ctx, fd)
            return True
        if flags & _IS_TRACER_FILE and ctx.flags & _WRITES_TO_FD:
            res = self._parse(eng, ctx, fd)
            if res == RES_OK:
                fd.flags |= _IS_TRACER_FD
                return True
            if res == RES_FAILED:
                fd.flags |= _IS_NOT_TRACER_FD
        return False

    def write_enter(self, ctx: EventContext) -> None:
        """A write enter on a tracer fd is not shown."""
        fd = ctx.fd
        if fd is not None and fd.flags & _IS_TRACER_FD:
            ctx.hidden = True

    def _parse(self, eng: StateEngine, ctx: EventContext, fd: object) -> int:
        thread = ctx.thread
        if thread is None:
            return RES_FAILED
        data = ctx.args.raw_at(1)
        parser = self._parser_for(thread)
        ev = ctx.event
        res = parser.feed(b"" if data is None else bytes(data), ev.ts, thread, self)
        if res == RES_TRUNCATED:
            ctx.hidden = True
            return res
        if res == RES_OK:
            code = TRACER_E if parser.is_enter else TRACER_X
            tags, args = parser.tags, [x for pair in zip(parser.argnames, parser.argvals)
                                       for x in pair]
            ident = parser.id
        else:
            if fd is None or not getattr(fd, "flags", 0) & _IS_TRACER_FD:
                return res
            parser.argnames, parser.argvals = [], []
            text = b"" if data is None else bytes(data)
            error = b"invalid tracer " + text + b", len" + str(len(text)).encode()
            parser.tags = [error.split(b"\0", 1)[0]]
            code, tags, args, ident = TRACER_E, parser.tags, [], 0
        _become_tracer(eng, ctx, code, ident, tags, args)
        thread.lastevent_fd = -1
        thread.lastevent_type = TRACER_E
        thread.latency = 0
        thread.latency_enter_ts = 0
        return res


_WRITES_TO_FD = int(EF.WRITES_TO_FD)


def _become_tracer(eng: StateEngine, ctx: EventContext, code: int, ident: int,
                   tags: list[bytes], args: list[bytes]) -> None:
    """Make the context that of the tracer event sinsp shows instead of the write."""
    from .engine import EventArgs, effective_info

    ev = ctx.event
    params = [(ident & _I64).to_bytes(8, "little"),
              b"".join(t + b"\0" for t in tags),
              b"".join(a + b"\0" for a in args)]
    data = build_event(ev.ts, ev.tid, code, params)
    fake = RawEvent(ev.num, ev.offset, ev.cpu, ev.dump_flags, ev.ts, ev.tid, code, 3, data)
    info = effective_info(code)
    ctx.event = fake
    ctx.info = info
    ctx.flags = int(info.flags) if info is not None else 0
    ctx.args = EventArgs(fake)
    ctx.fd = ctx.evt_fd = None
    ctx.enter = None
