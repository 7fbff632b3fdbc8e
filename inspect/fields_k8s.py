"""``k8s.*`` fields: the Kubernetes objects of the event's container.

sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_k8s``) answers from two sources, in
this order:

1. the labels of the thread's container (from container events), when it has any:
   ``io.kubernetes.pod.name``, ``io.kubernetes.pod.namespace`` and
   ``io.kubernetes.pod.uid`` give ``k8s.pod.name``, ``k8s.ns.name`` and ``k8s.pod.id``;
   the pod's labels are those of its sandbox container (the first 12 characters of
   ``io.kubernetes.sandbox.id``), without annotations and ``io.kubernetes.*`` ones, as
   ``key:value`` joined with ", " (``k8s.pod.label.KEY`` only when the sandbox has
   that label);
2. otherwise, the k8s state replayed from the capture's k8s events
   (:mod:`.state.k8s_replay`; captures of sysdig run with ``-k`` or of the old sysdig
   agent): the pod whose container ids include the thread's container, its namespace
   (by name), the replication controller, replica set and deployment selecting it and
   its services (several: joined with ", "), each with its name, uid and labels (as
   ``key:value`` joined with ", ", in the byte order of the keys). Those links are the
   ones sysdig's tables hold: taken when the selecting kind last changed
   (:mod:`.state.k8s`).

A capture without k8s events has no state: the fields the container labels do not give
have no value, as in sysdig.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .fields import check_label, field, field_class, label_arg
from .render import RenderOptions
from .state.handlers_k8s import k8s_state

if TYPE_CHECKING:
    from .state.engine import EventContext
    from .state.k8s import K8sObject, K8sState

#: What the container labels do not answer (sysdig then asks its k8s state).
_ASK_STATE = object()

_POD_NAME = "io.kubernetes.pod.name"
_POD_NS = "io.kubernetes.pod.namespace"
_POD_UID = "io.kubernetes.pod.uid"
_SANDBOX = "io.kubernetes.sandbox.id"


def _container_labels(ctx: EventContext, cid: str) -> dict[str, str] | None:
    meta = ctx.engine.containers.get(cid)
    labels = None if meta is None else meta.get("labels")
    return labels or None


def _sandbox_labels(ctx: EventContext, labels: dict[str, str]) -> dict[str, str] | None:
    sandbox = labels.get(_SANDBOX)
    return None if sandbox is None else _container_labels(ctx, sandbox[:12])


def _joined_container_labels(labels: dict[str, str]) -> str:
    return ", ".join(k + (":" + v if v else "") for k, v in labels.items()
                     if not k.startswith(("annotation.", "io.kubernetes.")))


def _from_labels(ctx: EventContext, labels: dict[str, str], what: str,
                 key: str | None) -> Any:
    """The answer of the container's labels, or _ASK_STATE."""
    if what in ("pod.name", "ns.name", "pod.id"):
        value = labels.get({"pod.name": _POD_NAME, "ns.name": _POD_NS, "pod.id": _POD_UID}[what])
        return _ASK_STATE if value is None else value
    if what in ("pod.label", "pod.labels"):
        sandbox = _sandbox_labels(ctx, labels)
        if sandbox is not None:
            if what == "pod.labels":
                return _joined_container_labels(sandbox)
            if key in sandbox:
                return sandbox[key]
    return _ASK_STATE


def _text(raw: bytes) -> str:
    """A C++ string as sysdig prints it (up to a NUL)."""
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("utf-8", "surrogateescape")


def _append(acc: bytearray, text: bytes) -> None:
    if acc:
        acc += b", "
    acc += text


def _join_labels(acc: bytearray, labels: tuple[tuple[bytes, bytes], ...]) -> None:
    for k, v in labels:
        _append(acc, k + (b":" + v if v else b""))


def _find_label(labels: tuple[tuple[bytes, bytes], ...], key: bytes) -> bytes | None:
    return next((v for k, v in labels if k == key), None)


def _one(obj: K8sObject | None, part: str, key: bytes | None) -> str | None:
    """name, id, label or labels of one object (None when there is none)."""
    if obj is None:
        return None
    if part == "name":
        return _text(obj.name)
    if part == "id":
        return _text(obj.uid)
    if part == "label":
        value = _find_label(obj.labels, key or b"")
        return None if value is None else _text(value)
    acc = bytearray()
    _join_labels(acc, obj.labels)
    return _text(bytes(acc))


def _services(services: tuple[K8sObject, ...], part: str, key: bytes | None) -> str | None:
    if not services:
        return None
    acc = bytearray()
    for svc in services:
        if part == "name":
            _append(acc, svc.name)
        elif part == "id":
            _append(acc, svc.uid)
        elif part == "labels":
            _join_labels(acc, svc.labels)
        else:
            value = _find_label(svc.labels, key or b"")
            if value is not None:
                _append(acc, value)
    if part == "label" and not acc:
        return None
    return _text(bytes(acc))


def _from_state(state: K8sState, pod: K8sObject, what: str, key: bytes | None) -> str | None:
    kind, part = what.split(".")
    if kind == "pod":
        return _one(pod, part, key)
    if kind == "ns":
        return _text(pod.ns) if part == "name" else _one(state.namespace(pod.ns), part, key)
    if kind == "svc":
        return _services(state.services_of(pod), part, key)
    find = {"rc": state.rc_of, "rs": state.rs_of, "deployment": state.deployment_of}[kind]
    return _one(find(pod), part, key)


def _extractor(what: str, key: str | None = None) -> Callable[[Any], str | None]:
    raw_key = None if key is None else key.encode("utf-8", "surrogateescape")

    def extract(ctx: EventContext) -> str | None:
        t = ctx.thread
        if t is None:
            return None
        cid = t.container_id
        if cid:
            labels = _container_labels(ctx, cid)
            if labels is not None:
                got = _from_labels(ctx, labels, what, key)
                if got is not _ASK_STATE:
                    return got  # type: ignore[no-any-return]
        state = k8s_state(ctx.engine)
        if state is None or not cid:
            return None
        pod = state.pod_of_container(cid)
        return None if pod is None else _from_state(state, pod, what, raw_key)
    return extract


def _label_maker(what: str) -> Callable[[str | None, RenderOptions], Callable[[Any], str | None]]:
    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
        return _extractor(what, check_label(arg))
    return make


field_class("k8s", "k8s", "", "Kubernetes metadata of the event's container: pod, namespace, "
            "replication controller, services, replica set and deployment, from the "
            "container's labels and from the k8s state events the capture holds.")

for _kind, _what in (("pod", "pod"), ("rc", "replication controller"), ("svc", "services"),
                     ("ns", "namespace"), ("rs", "replica set"), ("deployment", "deployment")):
    _of = "the pod" if _kind == "pod" else f"the pod's {_what}"
    if _kind == "svc":
        _name, _id = "names of the pod's services, joined with ', '", "uids of the pod's services"
        _label = ("one label of the pod's services, e.g. k8s.svc.label.app (the values of the "
                  "services that have it, joined with ', ')")
    else:
        _name, _id = f"name of {_of}", f"uid of {_of}"
        _label = f"one label of {_of}, e.g. k8s.{_kind}.label.app"
    field(f"k8s.{_kind}.name", "CHARBUF", _name)(_extractor(f"{_kind}.name"))
    field(f"k8s.{_kind}.id", "CHARBUF", _id)(_extractor(f"{_kind}.id"))
    field(f"k8s.{_kind}.label", "CHARBUF", _label, arg="required", parse_arg=label_arg,
          arg_syntax="dot", maker=True)(_label_maker(f"{_kind}.label"))
    field(f"k8s.{_kind}.labels", "CHARBUF", f"labels of {_of} as key:value, joined with "
          "', '")(_extractor(f"{_kind}.labels"))
