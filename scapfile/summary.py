"""``scap info``: what a capture holds, and any damage found while reading all of it."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

from . import blocks as B
from .drops import NOTIFICATION_E, count_drop_reports
from .event_table import EVENTS, NUM_EVENTS
from .events import GENERIC_CODES
from .reader import CaptureReader

#: Event names of the kernel module's drop (sampling) mode marks.
DROP_EVENT_NAMES = frozenset({"drop"})


@dataclass
class CaptureSummary:
    path: str
    compression: str
    sections: list[dict[str, Any]] = field(default_factory=list)
    machine: dict[str, Any] | None = None
    events: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    event_counts: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, int] = field(default_factory=dict)
    unknown_blocks: int = 0
    unknown_event_types: dict[int, int] = field(default_factory=dict)
    processes: int = 0
    fds: int = 0
    interfaces: int = 0
    users: int = 0
    groups: int = 0
    #: Events the driver lost, as the capture's drop reports say (see :mod:`.drops`).
    drops: int = 0
    drop_reports: int = 0
    #: False when the reports could not be read (the capture came from a stream): then
    #: ``drop_reports`` counts the notification events that may be drop reports.
    drops_counted: bool = True
    #: Enter events of the driver's drop mode (``drop``, the kernel module's sampling).
    drop_marks: int = 0
    undecodable_params: int = 0
    bytes: int = 0
    damage: list[str] = field(default_factory=list)

    @property
    def duration_ns(self) -> int:
        if self.first_ts is None or self.last_ts is None:
            return 0
        return self.last_ts - self.first_ts

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_ns"] = self.duration_ns
        d["unknown_event_types"] = {str(k): v for k, v in self.unknown_event_types.items()}
        return d


def summarize(source: str | os.PathLike[str] | BinaryIO, *, decode: bool = True,
              use_c: bool | None = None) -> CaptureSummary:
    """Read the whole capture. With ``decode``, every parameter is decoded too,
    and parameters that do not decode for their declared type are counted.

    The event blocks are scanned in C when ``cscan.available()`` (``use_c=None``),
    else in pure Python (``use_c=False``, or ``SCAPKIT_PURE=1``); the summary is the
    same either way (see ``CaptureReader.scan_summary``).
    """
    reader = CaptureReader(source)
    with reader:
        totals = reader.scan_summary(decode, use_c=use_c)
    counts = totals.type_counts
    names = totals.generic_names
    first, last, bad = totals.first_ts, totals.last_ts, totals.bad_params
    snap = reader.snapshot
    by_name: Counter[str] = names
    marks = 0
    for t, n in counts.items():
        if t in GENERIC_CODES:
            continue
        name = EVENTS[t].name if t < NUM_EVENTS else f"unknown({t})"
        by_name[name] += n
        if name in DROP_EVENT_NAMES and not t & 1:
            marks += n
    drops, reports, counted = 0, 0, True
    if counts.get(NOTIFICATION_E):
        # The C scan counts events by type only: a second walk reads the reports.
        if isinstance(source, (str, os.PathLike)) and str(source) != "-":
            found = count_drop_reports(source)
            drops, reports = found.lost, found.reports
        else:
            reports, counted = counts[NOTIFICATION_E], False
    kinds: Counter[str] = Counter()
    for bt, n in reader.block_counts.items():
        kinds[B.block_kind(bt)] += n
    return CaptureSummary(
        path=str(source) if isinstance(source, (str, os.PathLike)) else "<stream>",
        compression=reader.compression,
        sections=[{"offset": s.offset, "version": f"{s.major}.{s.minor}",
                   "options": len(s.options)} for s in reader.sections],
        machine=asdict(snap.machine) if snap.machine else None,
        events=sum(counts.values()),
        first_ts=first,
        last_ts=last,
        event_counts=dict(sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0]))),
        blocks=dict(sorted(kinds.items())),
        unknown_blocks=reader.unknown_blocks,
        unknown_event_types=dict(sorted(reader.unknown_event_types.items())),
        processes=len(snap.processes),
        fds=snap.fd_count,
        interfaces=len(snap.interfaces),
        users=len(snap.users),
        groups=len(snap.groups),
        drops=drops,
        drop_reports=reports,
        drops_counted=counted,
        drop_marks=marks,
        undecodable_params=bad,
        bytes=reader.bytes_read,
        damage=[d.describe() for d in reader.damage],
    )
