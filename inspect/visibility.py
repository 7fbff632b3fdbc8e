"""Which events sysdig hides unless asked (-D): its internal events."""

from __future__ import annotations

from functools import lru_cache

from scapkit.scapfile.event_table import EC, EVENTS, NUM_EVENTS, sysdig_029_event_info


@lru_cache(maxsize=None)
def hidden_by_default(code: int) -> bool:
    """True for events sysdig 0.29.3 does not print by default (category INTERNAL)."""
    if code >= NUM_EVENTS:
        return False
    old = sysdig_029_event_info(code)
    info = old if old is not None else EVENTS[code]
    return bool(info.category & EC.INTERNAL)
