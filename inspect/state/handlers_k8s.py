"""Handler for the ``k8s`` meta-event: the capture's Kubernetes state, replayed.

Each engine that meets a k8s event gets a :class:`~.k8s.K8sState`
(:func:`k8s_state` finds it) fed by :mod:`.k8s_replay`, as sysdig 0.29.3 makes its k8s
client on the first such event. Where sysdig 0.29.3 stops reading the capture (a
malformed event it cannot apply), the rest of that event is ignored here, counted in
the state's ``unreadable`` and reported as damage naming the event and its offset:
every later event is still read, where sysdig shows none of them.

Events whose JSON is larger than :data:`MAX_K8S_JSON` are ignored (a k8s event's
parameter has a 16-bit length, so well-formed captures hold none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from scapkit.scapfile.errors import FormatError

from .registry import handles

if TYPE_CHECKING:
    from .engine import EventContext, StateEngine
    from .k8s import K8sState

#: Largest k8s event JSON replayed (bytes).
MAX_K8S_JSON = 1 << 16

_STATES: WeakKeyDictionary[StateEngine, K8sState] = WeakKeyDictionary()


def k8s_state(eng: StateEngine) -> K8sState | None:
    """The k8s state of the engine's capture (None before its first k8s event)."""
    return _STATES.get(eng)


@handles("k8s", direction=">")
def k8s_event(eng: StateEngine, ctx: EventContext) -> None:
    # (imported here: few captures have k8s events)
    from .k8s import K8sState
    from .k8s_replay import K8sReplayStop, replay

    state = _STATES.get(eng)
    if state is None:
        state = _STATES[eng] = K8sState()
    doc = ctx.args.raw("json")
    if doc is None or len(doc) > MAX_K8S_JSON:
        return
    try:
        replay(state, doc)
    except K8sReplayStop as exc:
        state.unreadable += 1
        eng.note_damage(FormatError(
            f"k8s event {ctx.event.num} not applied: {exc} (sysdig 0.29.3 stops reading "
            "the capture here)", ctx.event.offset))
