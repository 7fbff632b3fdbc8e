"""Human rendering of ``scap info`` with rich."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Console
from rich.table import Table

from scapkit.scapfile.summary import CaptureSummary


def _ts(ns: int | None) -> str:
    if ns is None:
        return "-"
    dt = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ns % 1_000_000_000:09d}Z"


def print_summary(s: CaptureSummary, console: Console | None = None) -> None:
    c = console or Console(highlight=False, soft_wrap=True)
    c.print(f"[bold]{s.path}[/] ({s.compression}, {s.bytes} bytes decompressed)")
    for sec in s.sections:
        c.print(f"section header: version {sec['version']} at offset {sec['offset']}"
                f"{', %d options' % sec['options'] if sec['options'] else ''}")
    if s.machine:
        m = s.machine
        c.print(f"machine: {m['hostname']}, {m['num_cpus']} CPUs, "
                f"{m['memory_size_bytes'] // (1 << 20)} MiB")
    c.print(f"events: {s.events}   first: {_ts(s.first_ts)}   last: {_ts(s.last_ts)}   "
            f"span: {s.duration_ns / 1e9:.6f} s")
    c.print(f"snapshot: {s.processes} threads, {s.fds} fds, {s.interfaces} interfaces, "
            f"{s.users} users, {s.groups} groups")
    if not s.drops_counted:
        c.print(f"[bold yellow]drops: unknown[/] ({s.drop_reports} notification events may "
                "be drop reports; read the capture from a file to count them)")
    elif s.drops:
        c.print(f"[bold red]drops: {s.drops} events lost by the driver[/] ({s.drop_reports} "
                f"drop report{'s' if s.drop_reports != 1 else ''}): this capture is incomplete")
    else:
        c.print("drops: 0 (no drop reports)")
    if s.drop_marks:
        c.print(f"[bold yellow]driver drop mode entered {s.drop_marks} times[/] (drop events: "
                "the driver sampled, some events are missing)")
    blocks = ", ".join(f"{k} x{v}" for k, v in s.blocks.items())
    c.print(f"blocks: {blocks}" + (f" ({s.unknown_blocks} of unknown type skipped)"
                                    if s.unknown_blocks else ""))
    if s.unknown_event_types:
        c.print(f"event types newer than our table: {s.unknown_event_types}")
    if s.undecodable_params:
        c.print(f"parameters that do not decode as declared: {s.undecodable_params}")
    t = Table(title="events by type", show_edge=False)
    t.add_column("type")
    t.add_column("count", justify="right")
    for name, n in s.event_counts.items():
        t.add_row(name, str(n))
    c.print(t)
    if s.damage:
        c.print(f"[bold red]damage: {len(s.damage)} problem(s)[/] (see stderr)")
    else:
        c.print("damage: none")
