"""The Kubernetes state a capture's k8s events build, and the lookups ``k8s.*`` fields make.

sysdig 0.29.3 (libs e5c53d64, ``k8s_state_t``) keeps one list per kind of object (nodes,
namespaces, pods, replication controllers, replica sets, services, daemon sets,
deployments), in the order the objects were first seen, each object with its name, uid,
namespace, labels and selectors (pods: their container ids), plus a uid -> kind map.
After each change to a kind it rebuilds that kind's lookup table from the lists as they
are then; the fields read the tables:

* container id -> pod (rebuilt on pod changes; a later pod wins), keyed by the first 12
  characters of a ``docker://``, ``containerd://`` or ``cri-o://`` id, or the whole of a
  ``rkt://`` one;
* namespace name -> namespace (rebuilt on namespace changes; the first one wins);
* pod uid -> replication controller, replica set (the first one selecting the pod),
  deployment and services, rebuilt on a change of *that* kind from the pods of that
  moment: a pod added later is not found until the next change of the selecting kind.

A component selects a pod when both have labels, every selector of the component is one
of the pod's labels, and their namespaces are equal. Services and deployments sit in
hash multimaps (libstdc++'s ``unordered_multimap``), whose order for one pod is that of
their insertion with a twist: while the table holds at most 20 entries a new entry goes
right after the first one of its pod, once it holds more a new entry goes before all the
others of its pod. :meth:`K8sState.services_of`
gives the services in that order, and :meth:`K8sState.deployment_of` the first one.

The selecting tables are computed when asked, from a snapshot of the lists taken when
sysdig would have rebuilt them (objects are replaced, never changed in place, so a
snapshot is two tuples); the others are rebuilt when first read after a change.

Bounds (the state of a hostile capture cannot grow without limit):

=================  ===========  =====================================================
limit              default      over the limit
=================  ===========  =====================================================
max_objects        65536        a new object (all kinds together) is not added
max_bytes          32 MiB       a new object or a change that would make the names,
                                uids, labels, selectors and container ids held exceed
                                it is not applied
=================  ===========  =====================================================

What the limits dropped is counted in ``dropped``; sysdig has no such limits. The
snapshots of the four selecting kinds may keep older versions of objects alive, so the
memory held stays under five times ``max_bytes`` (plus Python's overhead per object).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# The kinds, numbered as sysdig's ``k8s_component::type``.
NODES, NAMESPACES, PODS, RCS, SERVICES, EVENTS, RSS, DAEMONSETS, DEPLOYMENTS = range(9)
NUM_KINDS = 9
#: The kinds whose lookup table is rebuilt from the pods (selector-based).
SELECTING = (RCS, SERVICES, RSS, DEPLOYMENTS)

MAX_OBJECTS = 65536
MAX_BYTES = 32 << 20
#: libstdc++ hash tables of string keys look for an equal key by a scan below this size.
_SMALL_TABLE = 20
#: A snapshot's memo of answered pods starts again past this many objects named in it.
_MEMO_REFS = 1 << 20

Labels = tuple[tuple[bytes, bytes], ...]

_PREFIXES = ((b"docker://", 12), (b"rkt://", None), (b"containerd://", 12), (b"cri-o://", 12))


class BadContainerId(ValueError):
    """A pod's container id without a known runtime prefix (sysdig stops there)."""


@dataclass(frozen=True, slots=True)
class K8sObject:
    """One object as sysdig keeps it: what the ``k8s.*`` fields can show."""

    name: bytes
    uid: bytes
    ns: bytes
    labels: Labels = ()
    selectors: Labels = ()
    container_ids: tuple[bytes, ...] = ()

    def size(self) -> int:
        return (len(self.name) + len(self.uid) + len(self.ns) + 64
                + sum(len(k) + len(v) + 16 for k, v in self.labels + self.selectors)
                + sum(len(c) + 8 for c in self.container_ids))

    def selects(self, pod: K8sObject) -> bool:
        """Whether this component's selectors pick ``pod``."""
        if not pod.labels or not self.selectors or self.ns != pod.ns:
            return False
        labels = pod.labels
        return all(sel in labels for sel in self.selectors)


def container_key(cid: bytes) -> bytes:
    """The container id a pod's ``containerID`` stands for (sysdig's ``cache_pod``)."""
    for prefix, length in _PREFIXES:
        if cid.startswith(prefix):
            rest = cid[len(prefix):]
            return rest if length is None else rest[:length]
    raise BadContainerId(
        "Invalid container ID (expected one of: 'docker://{ID}', 'rkt://{ID}', "
        "'containerd://{ID}', 'cri-o://{ID}'): " + cid.decode("utf-8", "surrogateescape"))


class _Snapshot:
    """A selecting kind's objects and the pods, as they were when its table was rebuilt;
    what the table holds is worked out from them when asked."""

    __slots__ = ("components", "pods", "memo", "memo_refs", "_by_uid", "_early")

    def __init__(self, components: tuple[K8sObject, ...], pods: tuple[K8sObject, ...]) -> None:
        self.components = components
        self.pods = pods
        self.memo: dict[bytes, tuple[K8sObject, ...]] = {}
        self.memo_refs = 0
        self._by_uid: dict[bytes, K8sObject] | None = None
        self._early: frozenset[tuple[int, bytes]] | None = None

    def pod(self, uid: bytes) -> K8sObject | None:
        if self._by_uid is None:
            self._by_uid = {p.uid: p for p in self.pods}
        return self._by_uid.get(uid)

    def early(self) -> frozenset[tuple[int, bytes]]:
        """The (component index, pod uid) pairs the rebuild inserted while the multimap
        held at most _SMALL_TABLE entries (it inserts, component by component, the pods
        each one selects, in list order)."""
        if self._early is None:
            postings: dict[tuple[bytes, bytes, bytes], list[int]] = {}
            for n, p in enumerate(self.pods):
                for k, v in p.labels:
                    lst = postings.setdefault((p.ns, k, v), [])
                    if not lst or lst[-1] != n:
                        lst.append(n)
            early: set[tuple[int, bytes]] = set()
            for i, c in enumerate(self.components):
                if not c.selectors:
                    continue
                candidates = min((postings.get((c.ns, k, v), []) for k, v in c.selectors),
                                 key=len)
                for n in candidates:
                    p = self.pods[n]
                    if c.selects(p):
                        early.add((i, p.uid))
                        if len(early) > _SMALL_TABLE:
                            break
                if len(early) > _SMALL_TABLE:
                    break
            self._early = frozenset(early)
        return self._early


class K8sState:
    """Kubernetes objects by kind, the uid map, and the tables the fields read."""

    def __init__(self, max_objects: int = MAX_OBJECTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_objects = max_objects
        self.max_bytes = max_bytes
        #: Per kind, the objects by uid, in sysdig's list order (a dict keeps the order of
        #: insertion, and of the rest after a deletion, as its vectors do).
        self.objects: list[dict[bytes, K8sObject]] = [{} for _ in range(NUM_KINDS)]
        self.kind_of_uid: dict[bytes, int] = {}
        self.capture_version: int | None = None
        self.dropped = 0
        #: Events sysdig stops reading at: ignored past the point of the stop, and reported.
        self.unreadable = 0
        self._count = 0
        self._bytes = 0
        self._pending: set[int] = set()
        self._by_container: dict[str, K8sObject] | None = {}
        self._ns_by_name: dict[bytes, K8sObject] | None = {}
        self._snapshots: dict[int, _Snapshot] = {}

    # -- the lists (k8s_state_t's get_component, delete_component, has) ------------------

    def has_in(self, kind: int, uid: bytes) -> bool:
        return uid in self.objects[kind]

    def has(self, uid: bytes) -> bool:
        """Whether the uid map knows ``uid`` and its kind's list holds it."""
        kind = self.kind_of_uid.get(uid)
        return kind is not None and uid in self.objects[kind]

    def get_or_add(self, kind: int, name: bytes, uid: bytes, ns: bytes = b"") -> bytes | None:
        """``uid``, after adding an object with this uid, name and namespace when ``kind``
        has none; None when the limits refuse it."""
        if uid in self.objects[kind]:
            return uid
        obj = K8sObject(name, uid, ns)
        if self._count >= self.max_objects or self._bytes + obj.size() > self.max_bytes:
            self.dropped += 1
            return None
        self.kind_of_uid[uid] = kind
        self.objects[kind][uid] = obj
        self._count += 1
        self._bytes += obj.size()
        return uid

    def update(self, kind: int, uid: bytes | None, **changes: object) -> None:
        """Replace fields of the object (nothing for None or when over the byte limit)."""
        if uid is None:
            return
        old = self.objects[kind][uid]
        new = replace(old, **changes)  # type: ignore[arg-type]
        grow = new.size() - old.size()
        if grow > 0 and self._bytes + grow > self.max_bytes:
            self.dropped += 1
            return
        self._bytes += grow
        self.objects[kind][uid] = new

    def delete(self, kind: int, uid: bytes) -> bool:
        obj = self.objects[kind].pop(uid, None)
        if obj is None:
            return False
        self._count -= 1
        self._bytes -= obj.size()
        self.kind_of_uid.pop(uid, None)
        return True

    # -- rebuilding the tables (update_cache) ---------------------------------------------

    def changed(self, kind: int) -> None:
        """sysdig rebuilds ``kind``'s table here; done at :meth:`commit`."""
        self._pending.add(kind)

    def commit(self) -> None:
        """The rebuilds due since the last call (the pods do not change in between)."""
        for kind in self._pending:
            if kind == PODS:
                self._by_container = None
            elif kind == NAMESPACES:
                self._ns_by_name = None
            elif kind in SELECTING:
                self._snapshots[kind] = _Snapshot(tuple(self.objects[kind].values()),
                                                  tuple(self.objects[PODS].values()))
        self._pending.clear()

    # -- lookups ------------------------------------------------------------------------------

    def pod_of_container(self, container_id: str) -> K8sObject | None:
        table = self._by_container
        if table is None:
            table = self._by_container = {}
            for pod in self.objects[PODS].values():
                for cid in pod.container_ids:
                    try:
                        key = container_key(cid)
                    except BadContainerId:  # (never stored: the replay stops at one)
                        continue
                    table[key.decode("utf-8", "surrogateescape")] = pod
        return table.get(container_id)

    def namespace(self, name: bytes) -> K8sObject | None:
        table = self._ns_by_name
        if table is None:
            table = self._ns_by_name = {}
            for ns in self.objects[NAMESPACES].values():
                table.setdefault(ns.name, ns)
        return table.get(name)

    def rc_of(self, pod: K8sObject) -> K8sObject | None:
        found = self._selecting(RCS, pod)
        return found[0] if found else None

    def rs_of(self, pod: K8sObject) -> K8sObject | None:
        found = self._selecting(RSS, pod)
        return found[0] if found else None

    def deployment_of(self, pod: K8sObject) -> K8sObject | None:
        found = self._selecting(DEPLOYMENTS, pod)
        return found[0] if found else None

    def services_of(self, pod: K8sObject) -> tuple[K8sObject, ...]:
        return self._selecting(SERVICES, pod)

    def _selecting(self, kind: int, pod: K8sObject) -> tuple[K8sObject, ...]:
        """The components of ``kind`` the table gives for ``pod``'s uid, in its order."""
        snap = self._snapshots.get(kind)
        if snap is None:
            return ()
        found = snap.memo.get(pod.uid)
        if found is not None:
            return found
        then = snap.pod(pod.uid)
        matching = [] if then is None else [
            (i, c) for i, c in enumerate(snap.components) if c.selects(then)]
        if kind in (RCS, RSS):  # a map: the first insertion stays
            found = tuple(c for _, c in matching[:1])
        else:
            early = snap.early()
            order: list[K8sObject] = []
            for i, c in matching:
                if order and (i, pod.uid) in early:
                    order.insert(1, c)
                else:
                    order.insert(0, c)
            found = tuple(order)
        if snap.memo_refs > _MEMO_REFS:
            snap.memo.clear()
            snap.memo_refs = 0
        snap.memo[pod.uid] = found
        snap.memo_refs += len(found) + 1
        return found

