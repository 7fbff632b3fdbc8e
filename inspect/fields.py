"""Event fields (``evt.num``, ``thread.tid``, ...), each declared once on its extractor.

A field is registered with :func:`field` next to the function that extracts it;
the registry is the single list used by ``-p`` formats (and, later, filters and
``scap read -l``). An extractor returns None when the value is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scapkit.scapfile.events import RawEvent

Extractor = Callable[[RawEvent], Any]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # sysdig's type names: UINT64, CHARBUF, ...
    doc: str
    extract: Extractor


FIELDS: dict[str, Field] = {}


def field(name: str, type: str, doc: str) -> Callable[[Extractor], Extractor]:
    """Register the decorated function as the extractor of field ``name``."""

    def register(fn: Extractor) -> Extractor:
        if name in FIELDS:
            raise ValueError(f"field {name} declared twice")
        FIELDS[name] = Field(name, type, doc, fn)
        return fn

    return register


def match_field(text: str) -> Field | None:
    """The longest field name that ``text`` starts with (sysdig's matching rule)."""
    best = None
    for name, f in FIELDS.items():
        if text.startswith(name) and (best is None or len(name) > len(best.name)):
            best = f
    return best


@field("evt.num", "UINT64", "event number, counting every event of the capture")
def _evt_num(ev: RawEvent) -> int:
    return ev.num


@field("evt.rawtime", "ABSTIME", "absolute event timestamp, nanoseconds since the epoch")
def _evt_rawtime(ev: RawEvent) -> int:
    return ev.ts


@field("evt.rawtime.s", "ABSTIME", "integer part of the event timestamp (seconds)")
def _evt_rawtime_s(ev: RawEvent) -> int:
    return ev.ts // 1_000_000_000


@field("evt.rawtime.ns", "ABSTIME", "fractional part of the event timestamp (nanoseconds)")
def _evt_rawtime_ns(ev: RawEvent) -> int:
    return ev.ts % 1_000_000_000


@field("evt.dir", "CHARBUF", "event direction: '>' for enter events, '<' for exit events")
def _evt_dir(ev: RawEvent) -> str:
    return ev.direction


@field("evt.type", "CHARBUF", "event name; for generic syscall events, the syscall's name")
def _evt_type(ev: RawEvent) -> str:
    return ev.type_name


@field("evt.cpu", "INT16", "number of the CPU where the event happened")
def _evt_cpu(ev: RawEvent) -> int:
    return ev.cpu


@field("thread.tid", "INT64", "id of the thread that generated the event")
def _thread_tid(ev: RawEvent) -> int:
    return ev.tid
