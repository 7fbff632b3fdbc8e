"""Events as read from a capture: a compact record with lazily decoded parameters.

``RawEvent.data`` always holds the event in the v2 layout (``ppm_evt_hdr`` with
``nparams``, then the parameter lengths, then the values), whatever block it came
from, so writers and decoders see one shape.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Any

from .event_table import EF, EVENTS, NUM_EVENTS, PT, EventInfo
from .syscall_names import SYSCALL_NAMES

EVENT_HEADER = struct.Struct("<QqIHI")  # ts, tid, len, type, nparams
EVENT_HEADER_SIZE = EVENT_HEADER.size

#: Generic syscall events: parameter 0 is the syscall id (PT_SYSCALLID).
GENERIC_CODES = frozenset(
    e.code for e in EVENTS if e.name == "syscall" and e.params and e.params[0].type == PT.SYSCALLID
)
_U16_LEN = struct.Struct("<H")

#: Per event code: True when parameter lengths are 32-bit (EF_LARGE_PAYLOAD).
LARGE_PAYLOAD: tuple[bool, ...] = tuple(bool(e.flags & EF.LARGE_PAYLOAD) for e in EVENTS)


@lru_cache(maxsize=None)
def lens_struct(n: int, large: bool) -> struct.Struct:
    """The struct plan for ``n`` parameter lengths."""
    return struct.Struct(f"<{n}{'I' if large else 'H'}")


def is_large(event_type: int) -> bool:
    return event_type < NUM_EVENTS and LARGE_PAYLOAD[event_type]


class RawEvent:
    """One event: header fields plus the raw bytes; parameters decoded on demand."""

    __slots__ = ("num", "offset", "cpu", "dump_flags", "ts", "tid", "type", "nparams", "data")

    def __init__(self, num: int, offset: int, cpu: int, dump_flags: int, ts: int, tid: int,
                 type: int, nparams: int, data: bytes) -> None:
        self.num = num  # 1-based position among the events of the capture
        self.offset = offset  # byte offset of its block in the decompressed stream
        self.cpu = cpu
        self.dump_flags = dump_flags  # EVF blocks' flags, else 0
        self.ts = ts  # ns since the epoch
        self.tid = tid
        self.type = type
        self.nparams = nparams
        self.data = data

    @property
    def info(self) -> EventInfo | None:
        """The event-table entry, or None for a code newer than our table."""
        return EVENTS[self.type] if self.type < NUM_EVENTS else None

    @property
    def name(self) -> str:
        info = self.info
        return info.name if info else f"unknown({self.type})"

    @property
    def type_name(self) -> str:
        """The name sysdig shows (``evt.type``): generic events show their syscall."""
        info = self.info
        if info is None:
            return self.name
        if self.type in GENERIC_CODES and self.nparams:
            (n,) = _U16_LEN.unpack_from(self.data, EVENT_HEADER_SIZE)
            if n == 2:
                (sc,) = _U16_LEN.unpack_from(self.data, EVENT_HEADER_SIZE + 2 * self.nparams)
                if sc < len(SYSCALL_NAMES):
                    return SYSCALL_NAMES[sc]
        return info.name

    @property
    def direction(self) -> str:
        """``>`` for an enter event, ``<`` for an exit event."""
        return "<" if self.type & 1 else ">"

    def raw_params(self) -> list[bytes]:
        """The parameter values as bytes, in order (lengths were validated on read)."""
        n = self.nparams
        if n == 0:
            return []
        large = is_large(self.type)
        lens = lens_struct(n, large).unpack_from(self.data, EVENT_HEADER_SIZE)
        off = EVENT_HEADER_SIZE + n * (4 if large else 2)
        data = self.data
        out = []
        for ln in lens:
            out.append(data[off:off + ln])
            off += ln
        return out

    def params(self) -> list[Any]:
        """Decoded parameter values (see :mod:`.params`); undecodable ones stay bytes."""
        from .params import ParamDecodeError, decode_param

        info = self.info
        raws = self.raw_params()
        if info is None:
            return list(raws)
        out: list[Any] = []
        for i, raw in enumerate(raws):
            if i < len(info.params):
                try:
                    out.append(decode_param(info.params[i], raw))
                except ParamDecodeError:
                    out.append(raw)
            else:
                out.append(raw)  # trailing parameters newer than our table are kept raw
        return out

    def __repr__(self) -> str:
        return (f"RawEvent(num={self.num}, ts={self.ts}, tid={self.tid}, cpu={self.cpu}, "
                f"{self.direction} {self.name}, nparams={self.nparams})")


def build_event(ts: int, tid: int, type: int, params: list[bytes]) -> bytes:
    """Encode an event in the v2 layout from raw parameter values."""
    large = is_large(type)
    limit = 0xFFFFFFFF if large else 0xFFFF
    for i, p in enumerate(params):
        if len(p) > limit:
            raise ValueError(f"parameter {i} of event type {type} is {len(p)} bytes, over {limit}")
    lens = lens_struct(len(params), large).pack(*(len(p) for p in params))
    total = EVENT_HEADER_SIZE + len(lens) + sum(len(p) for p in params)
    return EVENT_HEADER.pack(ts, tid, total, type, len(params)) + lens + b"".join(params)
