"""``scap read -S``: the per-event-type call counts sysdig prints at the end of a read.

sysdig 0.29.3 keeps one counter per event code of its table (336) followed by one per
direction of each of its syscall codes (2 x 329), in that order; a generic ``syscall``
event counts under its syscall (parameter ``ID``), any other event under its code. At
the end the counters are sorted by decreasing count with ``std::sort`` (so equal counts
come out in the order that algorithm leaves them: see :mod:`.stdsort`) and the first 100
non-zero ones are printed, each name cut or padded to 16 characters::

    ----------------------
    Event           #Calls
    ----------------------
    > procinfo        315
    < mmap            110

Which events are counted is decided by the caller (:class:`~.listing.Listing`): those
sysdig's read loop receives, before it looks at ``-q``, ``-D`` or a display filter.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from scapkit.scapfile.event_table import SYSDIG_029_NUM_EVENTS, sysdig_029_event_info
from scapkit.scapfile.events import EVENT_HEADER_SIZE, RawEvent
from scapkit.scapfile.syscall_names import SYSCALL_INFO

from .stdsort import cxx_sort

__all__ = ["EventSummary"]

#: sysdig 0.29.3's PPM_EVENT_MAX and PPM_SC_MAX.
NUM_EVENTS = SYSDIG_029_NUM_EVENTS
NUM_SYSCALLS = len(SYSCALL_INFO)
#: Counters: events, then enter/exit of each syscall.
SIZE = NUM_EVENTS + 2 * NUM_SYSCALLS
#: Rows printed at most.
MAX_ROWS = 100
RULE = "-" * 22
_GENERIC_E, _GENERIC_X = 0, 1
_U16 = struct.Struct("<H")


def _fit16(name: str) -> str:
    """Cut or pad to 16 characters, as sysdig does with each name."""
    return name[:16].ljust(16)


class EventSummary:
    """Counts events by type (``add``), then prints sysdig's table (``lines``)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts = [0] * SIZE

    def add(self, ev: RawEvent) -> None:
        """Count one event."""
        code = ev.type
        if code > _GENERIC_X:
            index = code
        else:
            # The syscall id: parameter 0, two bytes, right after the length table.
            n = ev.nparams
            if not n or _U16.unpack_from(ev.data, EVENT_HEADER_SIZE)[0] < 2:
                return  # no id to count it under
            (sc,) = _U16.unpack_from(ev.data, EVENT_HEADER_SIZE + 2 * n)
            index = NUM_EVENTS + 2 * sc + code
        if index < SIZE:
            self.counts[index] += 1

    def rows(self) -> list[tuple[str, str, int]]:
        """(direction, name, count) of the printed rows, in sysdig's order."""
        entries = list(enumerate(self.counts))
        cxx_sort(entries, lambda a, b: a[1] > b[1])
        rows = []
        for index, count in entries[:MAX_ROWS]:
            if count == 0:
                break
            if index < NUM_EVENTS:
                info = sysdig_029_event_info(index)
                name = info.name if info is not None else "?"
                ident = index
            else:
                ident = index - NUM_EVENTS
                name = SYSCALL_INFO[ident // 2].name
            rows.append(("<" if ident & 1 else ">", name, count))
        return rows

    def lines(self) -> Iterator[str]:
        """The table, as sysdig prints it after the events."""
        yield RULE
        yield _fit16("Event") + "#Calls"
        yield RULE
        for direction, name, count in self.rows():
            yield f"{direction} {_fit16(name)}{count}"
