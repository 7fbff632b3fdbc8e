"""Replaying a capture's ``k8s`` events into a :class:`~.k8s.K8sState`, as sysdig 0.29.3 does.

A k8s event (``K8S_E``) holds one JSON document: an API-server watch event written by
the capturing agent. Reading a file, sysdig 0.29.3 (libs e5c53d64: ``parse_k8s_evt``,
``k8s::simulate_watch_event``, the ``k8s_*_handler`` classes and ``k8s_dispatcher``)
applies it to its k8s state. The first event decides the capture's format for good:

* format 2 (``{"type", "kind", "items": [...]}``, items already reduced to ``name``,
  ``uid``, ``namespace``, ``labels``, ``selector``, ``containerStatuses``...): every
  item is applied, ``ADDED`` always, ``MODIFIED`` and ``DELETED`` only for a uid the
  state knows (of any kind);
* format 1 (``{"type", "kind", "object": {metadata, spec, status}}``, older agents): one
  object per event, ``MODIFIED`` only for a uid known in its own kind.

Whatever the format, an object keeps the name and namespace it was added with. In
format 2, labels (and the selectors of services) are replaced only by non-empty ones, the
selectors of controllers, sets and deployments whenever the item has some; in format 1,
labels and selectors are replaced whenever the object has metadata or a selector, except
that namespaces and nodes only gain labels on ``MODIFIED``. Events whose JSON jsoncpp
cannot read are ignored, as are unknown kinds. The JSON is read by :mod:`.jsoncpp`, whose rules
(comments, trailing bytes...) are sysdig's.

Where sysdig stops reading the capture (the first event is not JSON or has neither
``items`` nor ``object``, a pod's container id has no runtime prefix, a value of the
wrong type that jsoncpp throws on...), :func:`replay` raises :class:`K8sReplayStop`
after checking the same things in the same order.
"""

from __future__ import annotations

from typing import Any

from .jsoncpp import (JsonLogicError, as_string, as_uint, elements, is_integral, is_string_like,
                      member, member_names, parse)
from .k8s import (DAEMONSETS, DEPLOYMENTS, EVENTS, NAMESPACES, NODES, PODS, RCS, RSS, SERVICES,
                  BadContainerId, K8sState, Labels, container_key)

ADDED, MODIFIED, DELETED, ERROR, NONEXISTENT, UNKNOWN = range(6)

KINDS = {b"Namespace": NAMESPACES, b"Node": NODES, b"Pod": PODS,
         b"ReplicationController": RCS, b"ReplicaSet": RSS, b"Service": SERVICES,
         b"DaemonSet": DAEMONSETS, b"Deployment": DEPLOYMENTS, b"EventList": EVENTS}
_REASONS = {ord("A"): ADDED, ord("M"): MODIFIED, ord("D"): DELETED, ord("N"): NONEXISTENT,
            ord("E"): ERROR}
_V1_REASONS = {ord("A"): ADDED, ord("M"): MODIFIED, ord("D"): DELETED, ord("E"): ERROR}


class K8sReplayStop(Exception):
    """sysdig stops reading the capture at this event (the reason, as it says it)."""


def replay(state: K8sState, doc: bytes) -> None:
    """Apply one k8s event's JSON (the parameter's bytes) to ``state``."""
    try:
        _replay(state, doc)
    except JsonLogicError as exc:
        raise K8sReplayStop(f"malformed k8s event: {exc}") from None
    except BadContainerId as exc:
        raise K8sReplayStop(str(exc)) from None
    finally:
        state.commit()


def _replay(state: K8sState, doc: bytes) -> None:
    ok, root = parse(doc)
    if state.capture_version is None:
        # sinsp_parser::get_k8s_version (the root's members are looked up for writing)
        if not ok:
            raise K8sReplayStop("Invalid K8s capture JSON encountered ()")
        if root is not None and not isinstance(root, dict):
            raise JsonLogicError("its root is not an object")
        if root is not None and root.get(b"items") is not None:
            state.capture_version = 2
        elif root is not None and root.get(b"object") is not None:
            state.capture_version = 1
        else:
            raise K8sReplayStop("Unrecognized K8s capture format.")
    if not ok or root is None:
        return
    if not isinstance(root, dict):
        raise JsonLogicError("its root is not an object")
    name = root.get(b"kind")
    kind = KINDS.get(name) if isinstance(name, bytes) else None
    if kind is None:
        return
    if state.capture_version == 1:
        _replay_v1(state, kind, root)
    else:
        _replay_v2(state, kind, root)


# -- what the handlers read --------------------------------------------------------------------


def _labels(obj: Any, name: bytes) -> Labels:
    """``k8s_component::extract_object(obj, name)``: the string members of ``obj[name]``."""
    if obj is None:
        return ()
    entries = member(obj, name)
    if entries is None:
        return ()
    return tuple((k, entries[k]) for k in member_names(entries) if isinstance(entries[k], bytes))


def _object_labels(obj: Any) -> Labels:
    """``k8s_handler::extract_object(obj)``: the string members, when ``obj`` is an object."""
    if not isinstance(obj, dict):
        return ()
    return tuple((k, obj[k]) for k in sorted(obj) if isinstance(obj[k], bytes))


def _text(obj: Any, key: bytes) -> bytes:
    v = member(obj, key)
    return b"" if v is None else as_string(v)


def _container_ids(pod: Any) -> list[bytes]:
    ids = []
    for key in (b"containerStatuses", b"initContainerStatuses"):
        for status in elements(member(pod, key)):
            cid = member(status, b"containerID")
            if cid is not None:
                ids.append(as_string(cid))
    return ids


def _check_containers(pod: Any) -> None:
    """What reading a pod's containers and ports would throw on (nothing is kept)."""
    for c in elements(member(pod, b"containers")):
        name = member(c, b"name")
        if name is None:
            return
        as_string(name)
        for port in elements(member(c, b"ports")):
            port_name = member(port, b"name")
            if port_name is not None:
                as_string(port_name)
            number = member(port, b"containerPort")
            if number is not None:
                as_uint(number)
            protocol = member(port, b"protocol")
            if protocol is not None:
                as_string(protocol)


def _check_pod_addresses(pod: Any) -> None:
    for key in (b"nodeName", b"hostIP", b"podIP"):
        _text(pod, key)


def _check_service_data(svc: Any) -> None:
    """What reading a service's cluster IP and ports would throw on."""
    if svc is None:
        return
    _text(svc, b"clusterIP")
    ports = member(svc, b"ports")
    if not isinstance(ports, list):
        return
    for port in ports:
        for key in (b"port", b"protocol", b"targetPort", b"nodePort"):
            v = member(port, key)
            if v is None:
                continue
            if key == b"protocol":
                as_string(v)
            elif key != b"targetPort" or is_integral(v):
                as_uint(v)


def _update_pod(state: K8sState, i: bytes | None, pod: Any) -> None:
    """Container ids, containers and addresses of a pod (k8s_state_t::update_pod); then
    the container-id table is rebuilt, which stops at an id without a runtime prefix."""
    ids = _container_ids(pod)
    _check_containers(pod)
    _check_pod_addresses(pod)
    for cid in ids:
        container_key(cid)
    state.update(PODS, i, container_ids=tuple(ids))


# -- format 2: k8s_handler::handle_json and the handlers' handle_component ------------------


def _replay_v2(state: K8sState, kind: int, root: dict[bytes, Any]) -> None:
    type_ = root.get(b"type")
    if type_ is None or not is_string_like(type_):
        return
    reason_text = as_string(type_)
    for item in elements(root.get(b"items")):
        reason, name, uid, ns = UNKNOWN, b"", b"", b""
        if reason_text:
            reason = _REASONS.get(reason_text[0], UNKNOWN)
            name, uid, ns = _text(item, b"name"), _text(item, b"uid"), _text(item, b"namespace")
        if kind == EVENTS:
            continue  # (sysdig's events handler keeps nothing without an event filter)
        if reason in (MODIFIED, DELETED):
            if not state.has(uid):
                continue
        elif reason != ADDED:
            continue
        if reason == DELETED:
            if state.delete(kind, uid):
                state.changed(kind)
            continue
        _apply_v2(state, kind, name, uid, ns, item)
        state.changed(kind)


def _apply_v2(state: K8sState, kind: int, name: bytes, uid: bytes, ns: bytes, item: Any) -> None:
    """An ADDED or MODIFIED item."""
    if kind in (NAMESPACES, NODES):
        i = state.get_or_add(kind, name, uid)
    else:
        i = state.get_or_add(kind, name, uid, ns)
    if kind in (RCS, DAEMONSETS):
        labels = _object_labels(member(item, b"labels"))
    else:
        labels = _labels(item, b"labels")
    if labels:
        state.update(kind, i, labels=labels)
    if kind == PODS:
        _update_pod(state, i, item)
    elif kind == SERVICES:
        selectors = _labels(item, b"selector")
        if selectors:
            state.update(kind, i, selectors=selectors)
        _check_service_data(item)
    elif kind in (RCS, RSS, DEPLOYMENTS, DAEMONSETS):
        selector = member(item, b"selector")
        if selector is not None:
            state.update(kind, i, selectors=_object_labels(selector))


# -- format 1: k8s_dispatcher -------------------------------------------------------------------


def _replay_v1(state: K8sState, kind: int, root: dict[bytes, Any]) -> None:
    type_ = root.get(b"type")
    reason = UNKNOWN
    if isinstance(type_, bytes):
        if not type_:
            return
        reason = _V1_REASONS.get(type_[0], UNKNOWN)
    obj = root.get(b"object")
    if obj is not None and not isinstance(obj, dict):
        raise JsonLogicError("its 'object' is not an object")
    name = uid = ns = b""
    meta = obj.get(b"metadata") if obj is not None else None
    if isinstance(meta, dict):
        name, uid, ns = _text(meta, b"name"), _text(meta, b"uid"), _text(meta, b"namespace")
    if reason == UNKNOWN:
        return
    # (a handler that gives up on a MODIFIED of an unknown uid still has the table
    # rebuilt, except for pods)
    if reason == DELETED:
        if not state.delete(kind, uid) and kind == PODS:
            return
    elif reason == ERROR or kind == EVENTS:
        pass
    elif kind in (NODES, NAMESPACES):
        _v1_node_or_namespace(state, kind, reason, name, uid, obj)
    elif reason == MODIFIED and (obj is not None or kind in (RCS, RSS)) \
            and not state.has_in(kind, uid):
        if kind == PODS:
            return
    elif kind in (RCS, RSS):
        i = state.get_or_add(kind, name, uid, ns)
        if obj is not None:
            _v1_component(state, kind, i, obj)
    elif obj is not None:
        _v1_component(state, kind, state.get_or_add(kind, name, uid, ns), obj)
    state.changed(kind)


def _v1_node_or_namespace(state: K8sState, kind: int, reason: int, name: bytes, uid: bytes,
                          obj: dict[bytes, Any] | None) -> None:
    if reason == MODIFIED and not state.has_in(kind, uid):
        return
    i = state.get_or_add(kind, name, uid)
    if obj is None:
        return
    if kind == NODES:
        status = obj.get(b"status")
        if status is not None:
            addresses = member(status, b"addresses")
            for address in addresses if isinstance(addresses, list) else ():
                if isinstance(address, dict) and address.get(b"address") is not None:
                    as_string(address[b"address"])
    metadata = obj.get(b"metadata")
    if metadata is None:
        return
    labels = _labels(metadata, b"labels")
    if not labels or i is None:
        return
    if reason == MODIFIED:  # (add_labels: the pairs it does not have yet, at the end)
        merged = list(state.objects[kind][i].labels)
        merged.extend(p for p in labels if p not in merged)
        labels = tuple(merged)
    state.update(kind, i, labels=labels)


def _v1_component(state: K8sState, kind: int, i: bytes | None, obj: dict[bytes, Any]) -> None:
    """The object of an ADDED or MODIFIED pod, service, controller, set or deployment."""
    metadata = obj.get(b"metadata")
    if metadata is not None:  # handle_labels: replaced even by none
        state.update(kind, i, labels=_labels(metadata, b"labels"))
    if kind == PODS:
        _update_pod(state, i, obj)
        return
    spec = obj.get(b"spec")
    if spec is not None:  # handle_selectors
        selector = member(spec, b"selector")
        if selector is not None:
            match = member(selector, b"matchLabels")
            selectors = _labels(spec, b"selector") if match is None else _labels(
                selector, b"matchLabels")
            state.update(kind, i, selectors=selectors)
    if kind == SERVICES:
        _check_service_data(obj)
    elif kind == DAEMONSETS:
        member(obj.get(b"status"), b"desiredNumberScheduled")
    else:  # the replica counts of controllers, sets and deployments
        member(spec, b"replicas")
        member(obj.get(b"status"), b"replicas")
