"""Drop reports: how a capture records that the driver lost events.

When a driver's drop counter rises while recording, the recorder writes a *drop report*
at that point of the event stream: a ``notification`` event (``PPME_NOTIFICATION_E``)
with ``id=drops`` and a description that starts with the number of events lost since
the previous report, e.g. ``desc=1843 events lost (1843 since the recording started;
per CPU 0:1843 1:0)``.

Why this event: it belongs to the table both sysdig 0.29.3 and current libs read, and
sysdig shows it in its default listing, so a capture that lost events never looks
complete, in ``sysdig -r`` as in ``scap read``. The other candidates fail one reader or
the other: a block of a new type after the first event stops sysdig 0.29.3 ("could not
restart capture: invalid block type"), and the table's ``drop`` events (``PPME_DROP_E``
/ ``PPME_DROP_X``) mean the kernel module's sampling mode: their ``ratio`` parameter is
a sampling ratio, not a count, and sysdig hides them unless ``-D``.

:func:`drop_report` builds the event; :func:`parse_drop_report` reads one back;
:func:`count_drop_reports` totals them in a capture file.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

from . import blocks as B
from .event_table import EVENTS
from .events import EVENT_HEADER, EVENT_HEADER_SIZE, RawEvent, build_event
from .source import CHUNK, ByteStream, open_capture

__all__ = ["DROP_REPORT_ID", "NOTIFICATION_E", "drop_report", "parse_drop_report",
           "DropTotals", "count_drop_reports"]

NOTIFICATION_E = next(e.code for e in EVENTS if e.symbol == "NOTIFICATION_E")
#: The ``id`` parameter of a drop report.
DROP_REPORT_ID = "drops"
_ID_RAW = DROP_REPORT_ID.encode() + b"\0"
_LOST = re.compile(rb"(\d+) events? lost\b")
_HDR = struct.Struct("<II")
_U16 = struct.Struct("<H")
_EVENT_AT = {int(B.BlockType.EV_V2): 10, int(B.BlockType.EVF_V2): 14}


def drop_report(ts: int, tid: int, lost: int, total: int,
                per_cpu: tuple[int, ...] = ()) -> bytes:
    """The event (v2 layout) reporting ``lost`` events lost since the previous report."""
    if lost <= 0:
        raise ValueError(f"a drop report needs a positive count, not {lost}")
    desc = f"{lost} event{'s' if lost != 1 else ''} lost ({total} since the recording started"
    if per_cpu:
        desc += "; per CPU " + " ".join(f"{i}:{n}" for i, n in enumerate(per_cpu))
    desc += ")"
    return build_event(ts, tid, NOTIFICATION_E, [_ID_RAW, desc.encode() + b"\0"])


def parse_drop_report(ev: RawEvent | bytes) -> int | None:
    """The number of events a drop report says were lost; None for any other event."""
    data = ev.data if isinstance(ev, RawEvent) else ev
    if len(data) < EVENT_HEADER_SIZE:
        return None
    _, _, elen, etype, nparams = EVENT_HEADER.unpack_from(data, 0)
    if etype != NOTIFICATION_E or nparams < 2 or elen > len(data):
        return None
    lens_end = EVENT_HEADER_SIZE + 2 * nparams
    if lens_end > elen:
        return None
    l0, l1 = _U16.unpack_from(data, EVENT_HEADER_SIZE)[0], \
        _U16.unpack_from(data, EVENT_HEADER_SIZE + 2)[0]
    if lens_end + l0 + l1 > elen or data[lens_end:lens_end + l0] != _ID_RAW:
        return None
    m = _LOST.match(data, lens_end + l0, lens_end + l0 + l1)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class DropTotals:
    """Drop reports found in a capture and the events they say were lost."""

    reports: int = 0
    lost: int = 0


def count_drop_reports(source: str | os.PathLike[str] | BinaryIO) -> DropTotals:
    """Walk a capture's blocks and total its drop reports.

    Only block headers are looked at, except in the notification events. Damage in the
    framing ends the walk early: ``scap info`` reports that damage separately.
    """
    stream = open_capture(source)
    reports = lost = 0
    buf = b""
    pos = 0
    eof = False
    try:
        while True:
            if len(buf) - pos < 8 and not eof:
                buf, pos, eof = _refill(stream, buf, pos, 8)
            if len(buf) - pos < 8:
                break
            btype, blen = _HDR.unpack_from(buf, pos)
            if blen < B.MIN_BLOCK_SIZE:
                break
            if len(buf) - pos < blen:
                if eof:
                    break
                buf, pos, eof = _refill(stream, buf, pos, blen)
                if len(buf) - pos < blen:
                    break
            at = _EVENT_AT.get(btype)
            if at is not None and blen >= at + EVENT_HEADER_SIZE + 4:
                (etype,) = _U16.unpack_from(buf, pos + at + 20)
                if etype == NOTIFICATION_E:
                    n = parse_drop_report(buf[pos + at:pos + blen - 4])
                    if n is not None:
                        reports += 1
                        lost += n
            pos += blen
    finally:
        stream.close()
    return DropTotals(reports, lost)


def _refill(stream: ByteStream, buf: bytes, pos: int, need: int) -> tuple[bytes, int, bool]:
    parts = [buf[pos:]]
    have = len(buf) - pos
    eof = False
    while have < need:
        chunk = stream.read(max(CHUNK, need - have))
        if not chunk:
            eof = True
            break
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts), 0, eof
