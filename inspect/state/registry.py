"""Registration of state handlers, keyed by event name and direction.

A handler is declared next to its code::

    @handles("open", "openat", "openat2", "creat")
    def _open_exit(eng: StateEngine, ctx: EventContext) -> None: ...

``handles`` takes event names as the event table spells them (every code carrying
that name, all versions, is routed to the handler) and a direction, ``"<"`` (exit,
the default) or ``">"`` (enter). :func:`stores_enter` declares the enter events an
exit handler reads back (sinsp stores only those, one per thread).

``newer=True`` marks a handler for state sysdig 0.29.3 did not track for events it
knows (userfaultfd, bpf...): in sysdig-compatible mode those codes are left alone,
while codes sysdig 0.29.3 does not know at all are always handled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scapkit.scapfile.event_table import EVENTS, SYSDIG_029_NUM_EVENTS

if TYPE_CHECKING:
    from .engine import EventContext, StateEngine

Handler = Callable[["StateEngine", "EventContext"], None]


@dataclass(frozen=True, slots=True)
class Registration:
    handler: Handler
    newer: bool


_HANDLERS: dict[tuple[str, str], list[Registration]] = {}
_STORED: set[str] = set()


def handles(*names: str, direction: str = "<", newer: bool = False) -> Callable[[Handler], Handler]:
    """Route the events called ``names`` (in ``direction``) to the decorated handler."""
    if direction not in ("<", ">"):
        raise ValueError(f"direction must be '<' or '>', not {direction!r}")
    known = {e.name for e in EVENTS}
    for name in names:
        if name not in known:
            raise ValueError(f"no event is called {name!r}")

    def register(fn: Handler) -> Handler:
        for name in names:
            _HANDLERS.setdefault((name, direction), []).append(Registration(fn, newer))
        return fn

    return register


def stores_enter(*names: str) -> None:
    """Keep the enter events of these syscalls so their exit handler can read them."""
    _STORED.update(names)


def dispatch_table(*, sysdig_compat: bool
                   ) -> tuple[tuple[tuple[Handler, ...], ...], frozenset[int]]:
    """Per event code, the handlers to run; and the codes whose enter events are stored."""
    table: list[tuple[Handler, ...]] = []
    for info in EVENTS:
        regs = _HANDLERS.get((info.name, info.direction), ())
        if sysdig_compat and info.code < SYSDIG_029_NUM_EVENTS:
            regs = [r for r in regs if not r.newer]
        table.append(tuple(r.handler for r in regs))
    stored = frozenset(e.code for e in EVENTS if e.is_enter and e.name in _STORED)
    return tuple(table), stored
