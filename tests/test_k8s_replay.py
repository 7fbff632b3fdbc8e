"""The Kubernetes state replayed from a capture's k8s events, and the ``k8s.*`` fields on it.

Golden comparisons with sysdig 0.29.3 (``-p`` text and ``-j``, filters, the default
listing) on synthetic captures written here: a container whose id is in a pod's
container statuses, a process in it, and k8s events adding a namespace, the pod, services
selecting it, a replica set, a deployment and a replication controller, then modifying
the pod and deleting a service (both capture formats); captures where the container's
labels and the state disagree; random event sequences; hostile events (sysdig stops at
some of them: so must we, with one line on stderr). Unit tests cover the jsoncpp-like
reader, the limits, and that the C read engine leaves k8s events to the Python one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from test_fastread import _python_events
from test_fastread import same as same_fast_and_pure
from test_fields_more import oracle, same
from test_state import Capture, open_file, proc, snapshot, write_capture
from scapkit.inspect import fastread
from scapkit.inspect.render import RenderOptions
from scapkit.inspect.state import handlers_k8s
from scapkit.inspect.state.engine import StateEngine
from scapkit.inspect.state.jsoncpp import JsonDepthError, JsonLogicError, member, parse
from scapkit.inspect.state.k8s import PODS, SERVICES, K8sState
from scapkit.inspect.state.k8s_replay import replay
from scapkit.scapfile.event_table import EVENTS
from scapkit.scapfile.reader import CaptureReader

pytestmark = pytest.mark.usefixtures("utc")  # (times are compared with sysdig's)

A, B, C = "a1" * 32, "b2" * 32, "c3" * 32

FIELDS = [f"k8s.{kind}.{part}" for kind in ("pod", "rc", "svc", "ns", "rs", "deployment")
          for part in ("name", "id", "labels", "label.app", "label.tier")]
FMT = "*%evt.num %proc.name" + "".join(" |%" + f for f in FIELDS)
JSON_FMT = "*%evt.num %proc.name" + "".join(" %" + f for f in FIELDS)


def _ev(type_: str, kind: str, *items: Any) -> dict[str, Any]:
    return {"type": type_, "apiVersion": "v1", "kind": kind, "items": list(items)}


def _container(cid: str, name: str, **labels: str) -> str:
    return json.dumps({"container": {"id": cid[:12], "name": name, "image": "img", "type": 0,
                                     "labels": labels}})


def k8s_capture(path: Path, events: list[Any], labels: dict[str, dict[str, str]] | None = None
                ) -> Path:
    """Processes in containers A, B and C and on the host; the container events (with
    ``labels[cid]``), then each k8s event (a dict, or JSON text) followed by a file
    opened in every container, so each state shows on the next lines."""
    snap = snapshot([proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
                     proc(100, comm="bash"),
                     proc(200, comm="nginx", cgroups=[f"cpu=/docker/{A}"]),
                     proc(300, comm="redis", cgroups=[f"cpu=/docker/{B}"]),
                     proc(400, comm="pause", cgroups=[f"cpu=/docker/{C}"])])
    c = Capture()
    for cid, name in ((A, "web"), (B, "db"), (C, "pause")):
        c.add("CONTAINER_JSON_E", 0, json=_container(cid, name, **(labels or {}).get(cid, {})))
    for ev in events:
        c.add("K8S_E", 0, json=ev if isinstance(ev, str) else json.dumps(ev))
        for tid in (100, 200, 300, 400):
            open_file(c, tid, 5, "/etc/hosts")
            c.add("SYSCALL_CLOSE_E", tid, fd=5).add("SYSCALL_CLOSE_X", tid, res=0)
    return write_capture(path, snap, c)


POD = {"namespace": "prod", "name": "web-1", "uid": "pod-1",
       "labels": {"app": "web", "tier": "front", "empty": ""},
       "containerStatuses": [{"containerID": "docker://" + A, "restartCount": 0}],
       "initContainerStatuses": [{"containerID": "containerd://" + C}]}
DB_POD = {"namespace": "prod", "name": "db-1", "uid": "pod-2", "labels": {"app": "db"},
          "containerStatuses": [{"containerID": "cri-o://" + B[:12]}]}


def _selecting(kind: str, name: str, uid: str, selector: dict[str, str],
               ns: str = "prod", **labels: str) -> dict[str, Any]:
    return _ev("ADDED", kind, {"namespace": ns, "name": name, "uid": uid,
                               "labels": labels or {"owner": name}, "selector": selector})


#: Format 2 (items): everything the fields show, changing in every way the replay handles.
SCENARIO: list[Any] = [
    _ev("ADDED", "Namespace", {"name": "prod", "uid": "ns-1", "labels": {"env": "prod"}}),
    _ev("ADDED", "Pod", POD),
    _selecting("Service", "web", "svc-1", {"app": "web"}, tier="front"),
    _selecting("Service", "web-alt", "svc-2", {"app": "web", "tier": "front"}),
    _selecting("Service", "other-ns", "svc-3", {"app": "web"}, ns="dev"),
    _selecting("ReplicaSet", "web-5d9", "rs-1", {"app": "web"}, app="web"),
    _selecting("Deployment", "web", "dep-1", {"app": "web"}, app="web", tier="front"),
    _selecting("ReplicationController", "web-rc", "rc-1", {"tier": "front"}),
    _ev("ADDED", "Pod", DB_POD),                     # (the services' tables do not see it yet)
    _selecting("Service", "db", "svc-4", {"app": "db"}),
    _ev("MODIFIED", "Pod", dict(POD, name="renamed", labels={"app": "web", "tier": "back"})),
    _ev("MODIFIED", "Service", {"namespace": "prod", "name": "web", "uid": "svc-1",
                                "labels": {}, "selector": {"app": "web"}}),
    _ev("DELETED", "Service", {"namespace": "prod", "name": "web", "uid": "svc-1"}),
    _ev("MODIFIED", "Namespace", {"name": "prod", "uid": "ns-1", "labels": {"env": "p2"}}),
    _ev("ADDED", "Namespace", {"name": "prod", "uid": "ns-2"}),  # (the first one stays)
    _ev("MODIFIED", "Deployment", {"namespace": "prod", "name": "web", "uid": "dep-1",
                                   "selector": {"app": "nope"}}),
    _ev("DELETED", "Pod", {"namespace": "prod", "name": "db-1", "uid": "pod-2"}),
    _ev("MODIFIED", "Pod", {"namespace": "prod", "name": "x", "uid": "unknown"}),
    _ev("DELETED", "ReplicaSet", {"namespace": "prod", "name": "web-5d9", "uid": "rs-1"}),
]

#: Format 1 (one object per event, as old sysdig agents wrote them).
SCENARIO_V1: list[Any] = [
    {"type": "ADDED", "kind": "Namespace", "object": {
        "metadata": {"name": "prod", "uid": "ns-1", "labels": {"env": "prod"}}}},
    {"type": "ADDED", "kind": "Pod", "object": {
        "metadata": {"name": "web-1", "uid": "pod-1", "namespace": "prod",
                     "labels": {"app": "web"}},
        "containerStatuses": [{"containerID": "docker://" + A}]}},
    {"type": "ADDED", "kind": "Service", "object": {
        "metadata": {"name": "web", "uid": "svc-1", "namespace": "prod"},
        "spec": {"selector": {"app": "web"}}}},
    {"type": "ADDED", "kind": "ReplicaSet", "object": {
        "metadata": {"name": "rs", "uid": "rs-1", "namespace": "prod", "labels": {"a": "b"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "replicas": 2}}},
    {"type": "MODIFIED", "kind": "Namespace", "object": {
        "metadata": {"name": "prod", "uid": "ns-1", "labels": {"env": "p2", "team": "x"}}}},
    {"type": "MODIFIED", "kind": "Pod", "object": {
        "metadata": {"name": "web-1", "uid": "pod-1", "namespace": "prod"}}},
    {"type": "DELETED", "kind": "Service", "object": {
        "metadata": {"name": "web", "uid": "svc-1", "namespace": "prod"}}},
]


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("k8s")
    labelled = {A: {"io.kubernetes.pod.name": "from-labels",
                    "io.kubernetes.sandbox.id": C + "x", "app": "container-label"},
                C: {"app": "sandbox", "io.kubernetes.pod.uid": "sandbox-uid",
                    "annotation.x": "y"},
                B: {"io.kubernetes.pod.namespace": "labels-ns"}}
    return {"items": k8s_capture(tmp / "items.scap", SCENARIO),
            "object": k8s_capture(tmp / "object.scap", SCENARIO_V1),
            "labels": k8s_capture(tmp / "labels.scap", SCENARIO, labelled)}


# -- golden comparisons ------------------------------------------------------------------------


@pytest.mark.sysdig
@pytest.mark.parametrize("name", ["items", "object", "labels"])
@pytest.mark.parametrize("options", [[], ["-j"]], ids=["p", "json"])
def test_fields_as_in_sysdig(sysdig: str, captures: dict[str, Path], name: str,
                             options: list[str]) -> None:
    out = same(sysdig, captures[name], *options, "-p", JSON_FMT if options else FMT)
    lines = out.decode().splitlines()
    assert len(lines) > 10
    if name == "items" and not options:
        # what the scenario is for: every kind shows somewhere
        shown = set()
        for line in lines:
            shown |= {f for f, v in zip(FIELDS, line.split(" |")[1:]) if v.strip() != "<NA>"}
        wanted = {f for f in FIELDS if ".label." not in f} | {
            "k8s.pod.label.app", "k8s.pod.label.tier", "k8s.svc.label.tier",
            "k8s.rs.label.app", "k8s.deployment.label.tier"}
        assert shown >= wanted, sorted(wanted - shown)


FILTERS = [
    "k8s.pod.name=web-1", "k8s.pod.name=renamed", "k8s.pod.id=pod-1", "k8s.pod.label.app=web",
    "k8s.pod.labels contains tier:front", "k8s.ns.name=prod", "k8s.ns.id=ns-1",
    "k8s.ns.label.env=p2", "k8s.svc.name=web-alt", "k8s.svc.name contains web",
    "k8s.svc.id in (svc-1, svc-2)", "k8s.svc.label.tier=front", "k8s.rs.name exists",
    "k8s.rs.label.app=web and proc.name=nginx", "k8s.deployment.name=web",
    "not k8s.deployment.id exists", "k8s.rc.name=web-rc", "k8s.rc.labels contains owner",
    "k8s.pod.label.empty=''", "not k8s.pod.name exists", "k8s.svc.labels exists",
]


@pytest.mark.sysdig
@pytest.mark.parametrize("name", ["items", "labels"])
def test_filters_as_in_sysdig(sysdig: str, captures: dict[str, Path], name: str) -> None:
    selected = 0
    for text in FILTERS:
        out = same(sysdig, captures[name], "-p", "%evt.num %proc.name %k8s.pod.name", text)
        selected += out.count(b"\n")
    same(sysdig, captures[name], "k8s.svc.name contains web")  # the default listing
    same(sysdig, captures[name], "-j", "k8s.ns.name=prod")
    assert selected > 100


@pytest.mark.sysdig
def test_container_labels_come_first(sysdig: str, captures: dict[str, Path]) -> None:
    """Where the container's labels give a value, sysdig takes it over the state's; the
    rest comes from the state (pod found by the container id)."""
    fmt = ("*%evt.num %proc.name %k8s.pod.name %k8s.pod.id %k8s.ns.name %k8s.pod.label.app "
           "%k8s.pod.label.tier %k8s.pod.labels %k8s.svc.name")
    lines = same(sysdig, captures["labels"], "-p", fmt).decode().splitlines()
    nginx = [ln.split() for ln in lines if " nginx " in ln]
    assert nginx[-1][2:6] == ["from-labels", "pod-1", "prod", "sandbox"]
    assert nginx[-1][7] == "app:sandbox"


# -- random sequences -------------------------------------------------------------------------


def _labels(r: random.Random) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key, values, p in (("app", ["web", "web", "db"], 0.8), ("tier", ["front", "back"], 0.4),
                           ("x", ["", "1"], 0.3)):
        if r.random() < p:
            d[key] = r.choice(values)
    if r.random() < 0.05:
        d["odd"] = r.choice([5, None, True, [1], {"a": "b"}])
    return d


_KINDS = ["Namespace", "Pod", "Service", "ReplicationController", "ReplicaSet", "Deployment",
          "DaemonSet", "Node", "EventList"]


def _random_item(r: random.Random, kind: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": r.choice(["n0", "n1", "n2"]),
                         "uid": r.choice([f"{kind[:3]}{i}" for i in range(4)] + ["u0"])}
    if kind == "Namespace":
        d["name"] = r.choice(["ns0", "ns1"])
    elif kind != "Node" and r.random() < 0.9:
        d["namespace"] = r.choice(["ns0", "ns1", "ns1", ""])
    if r.random() < 0.8:
        d["labels"] = _labels(r)
    if kind in ("Service", "ReplicationController", "ReplicaSet", "Deployment", "DaemonSet"):
        d["selector"] = _labels(r)
    if kind == "Pod" and r.random() < 0.8:
        prefix = r.choice(["docker://", "docker://", "containerd://", "cri-o://", "rkt://"])
        d["containerStatuses"] = [
            {"containerID": prefix + (cid if prefix != "rkt://" else cid[:12])}
            for cid in r.sample([A, B, C], r.randint(0, 2))]
    return d


def random_capture(path: Path, seed: int) -> Path:
    r = random.Random(seed)
    events = []
    for _ in range(r.randint(10, 40)):
        kind = r.choices(_KINDS, [2, 3, 2, 2, 1, 1, 0.5, 0.5, 0.3])[0]
        type_ = r.choices(["ADDED", "MODIFIED", "DELETED", "ERROR", "NONEXISTENT", "X"],
                          [5, 3, 2, 0.3, 0.3, 0.3])[0]
        events.append(_ev(type_, kind, *(_random_item(r, kind)
                                         for _ in range(r.choice([1, 1, 1, 2, 3])))))
    return k8s_capture(path, events)


@pytest.mark.sysdig
@pytest.mark.parametrize("seed", range(8))
def test_random_sequences_as_in_sysdig(sysdig: str, tmp_path: Path, seed: int) -> None:
    same(sysdig, random_capture(tmp_path / "random.scap", seed), "-p", FMT)


# -- hostile events ---------------------------------------------------------------------------

_GOOD = _ev("ADDED", "Pod", POD)

HOSTILE: dict[str, list[Any]] = {
    # ignored by sysdig
    "not JSON after the first": [_GOOD, "{not json", _ev("ADDED", "Service", {"uid": "s"})],
    "comments and trailing bytes": ["/* c */ " + json.dumps(_GOOD) + " // x\n garbage"],
    "unknown kind": [_GOOD, _ev("ADDED", "Foo", {"uid": "x"})],
    "kind not a string": [_GOOD, {"type": "ADDED", "kind": 5, "items": [{"uid": "x"}]}],
    "type not a string": [_GOOD, {"type": [1], "kind": "Pod", "items": [{"uid": "x"}]}],
    "items not an array": [_GOOD, {"type": "ADDED", "kind": "Pod", "items": "s"}],
    "items an object": [{"type": "ADDED", "kind": "Pod", "items": {"z": POD}}],
    "odd label values": [_ev("ADDED", "Pod", dict(POD, labels={"a": [1], "b": 2, "c": "ok"}))],
    "labels not an object (rc)": [_GOOD, _ev("ADDED", "ReplicationController",
                                             {"uid": "r", "labels": [1], "selector": "x"})],
    "nested 1000 deep": [_GOOD, '{"kind": "Pod", "a": ' + "[" * 998 + "]" * 998 + "}"],
    "NUL inside a string": [_ev("ADDED", "Pod", dict(POD, name="web\u0000tail"))],
    "escapes": [_ev("ADDED", "Pod", dict(POD, name="w\u00e9b\ud83d\ude00",
                                         labels={"app": "\udc00x", "tier": "\u0001"}))],
    "lone high surrogate": [_GOOD, _ev("ADDED", "Pod", dict(DB_POD, name="\ud800x"))],
    "huge numbers": [_ev("ADDED", "Pod", dict(POD, name=123456789012345678901234567890))],
    # where sysdig stops reading
    "not JSON first": ["{not json", _GOOD],
    "neither items nor object": [{"kind": "Pod"}, _GOOD],
    "root an array": [_GOOD, [1, 2]],
    "nested 1001 deep": [_GOOD, '{"kind": "Pod", "a": ' + "[" * 1000 + "]" * 1000 + "}"],
    "item not an object": [_GOOD, _ev("ADDED", "Service", "svc")],
    "name an object": [_ev("ADDED", "Pod", dict(POD, name={"a": 1}))],
    "container id without prefix": [_ev("ADDED", "Pod", dict(
        POD, containerStatuses=[{"containerID": A}]))],
    "empty container id": [_GOOD, _ev("ADDED", "Pod", dict(
        DB_POD, containerStatuses=[{"containerID": ""}]))],
    "negative port": [_ev("ADDED", "Pod", dict(POD, containers=[
        {"name": "c", "ports": [{"containerPort": -1}]}]))],
    "labels a list (pod)": [_GOOD, _ev("ADDED", "Pod", dict(DB_POD, labels=[1]))],
    "service port a string": [_GOOD, _ev("ADDED", "Service", {
        "uid": "s", "ports": [{"port": "http"}]})],
    "format 1 object a string": [{"type": "ADDED", "kind": "Pod", "object": {}},
                                 {"type": "ADDED", "kind": "Pod", "object": "x"}],
}


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "scapkit.cli", "read", *args],
                          capture_output=True, timeout=120, env=dict(os.environ, TZ="UTC"))


@pytest.mark.sysdig
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_events_as_in_sysdig(sysdig: str, tmp_path: Path, name: str) -> None:
    """The same lines; where sysdig stops (exit 1), the same lines up to that event and the
    rest of the capture after it, one line on stderr naming the event, and the capture
    error status; no traceback ever."""
    path = k8s_capture(tmp_path / "hostile.scap", HOSTILE[name])
    for options in (["-p", FMT], []):
        expected = oracle(sysdig, "-r", str(path), *options)
        got = _cli("-r", str(path), *options)
        assert b"Traceback" not in got.stderr
        if expected.returncode == 0:
            assert got.stdout == expected.stdout
            assert got.returncode == 0 and got.stderr == b""
        else:
            assert got.stdout.startswith(expected.stdout)
            assert got.returncode == 3
            assert got.stderr.count(b"\n") == 1 and b"sysdig 0.29.3 stops" in got.stderr
            assert len(got.stdout) > len(expected.stdout)  # (what follows is read)


def test_oversized_events_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A k8s event's JSON larger than MAX_K8S_JSON is not replayed (a parameter's 16-bit
    length keeps well-formed ones under it: here the limit is lowered to see it work)."""
    path = k8s_capture(tmp_path / "big.scap", [_GOOD, _ev("ADDED", "Pod", dict(
        DB_POD, pad="x" * 2000))])
    monkeypatch.setattr(handlers_k8s, "MAX_K8S_JSON", len(json.dumps(_GOOD)) + 1)
    reader = CaptureReader(path)
    engine = StateEngine(reader)
    with reader:
        for ev in reader:
            engine.process(ev)
    state = handlers_k8s.k8s_state(engine)
    assert state is not None and list(state.objects[PODS]) == [b"pod-1"]


# -- the C engine leaves k8s events to the Python engine ----------------------------------------


@pytest.mark.skipif(not fastread.available(), reason="C engine unavailable")
def test_k8s_events_are_the_python_engine_s(captures: dict[str, Path]) -> None:
    processed, counters = _python_events(captures["items"])
    assert sum(1 for ev in processed if EVENTS[ev.type].name == "k8s") == len(SCENARIO)
    assert counters["events"] > len(SCENARIO)  # (the rest stays in C)
    same_fast_and_pure(captures["items"], options=RenderOptions(max_len=80))
    same_fast_and_pure(captures["labels"], options=RenderOptions(max_len=80, json=True))


# -- the reader -----------------------------------------------------------------------------------


@pytest.mark.parametrize("doc, value", [
    (b'{"a": 1}', {b"a": 1}),
    (b'{"a": 1} trailing', {b"a": 1}),
    (b'/* c */ {"a": // x\n 1 /* y */ , "b": [ /**/ 2 ]}', {b"a": 1, b"b": [2]}),
    (b'{"a": 1 /**/ 5 "b": 2}', {b"a": 1, b"b": 2}),       # a comment, then any token
    (b'{"": 1,}', {b"": 1}),                                 # ,} after an empty name
    (b'[1, -, 1., -.5, 01, 1e2, 18446744073709551615, 18446744073709551616]',
     [1, 0, 1.0, -0.5, 1, 100.0, (1 << 64) - 1, 18446744073709551616.0]),
    (b'"a\\u00e9\\ud83d\\ude00\\udc00\\u0000b"',
     "a\u00e9\U0001F600".encode() + b"\xed\xb0\x80\x00b"),
    (b'"tab\there"', b"tab\there"),
    (b'{"a": 1, "a": {"b": 2}}', {b"a": {b"b": 2}}),
    (b'null\x00', None),
])
def test_reader_accepts_what_jsoncpp_accepts(doc: bytes, value: Any) -> None:
    assert parse(doc) == (True, value)


@pytest.mark.parametrize("doc", [
    b"", b"{", b'{"a"}', b'{"a": 1,}', b"[1,]", b"[ /**/ ]", b"1e", b"1e400", b"-e5", b".5",
    b'"\\x"', b'"\\u12"', b'"\\ud800x"', b"tru", b"{'a': 1}", b'{"a" /**/ : 1}', b"\x00{}",
    b"/* unterminated",
])
def test_reader_refuses_what_jsoncpp_refuses(doc: bytes) -> None:
    assert parse(doc) == (False, None)


def test_reader_depth_limit_and_logic_errors() -> None:
    assert parse(b"[" * 1000 + b"]" * 1000)[0]
    with pytest.raises(JsonDepthError):
        parse(b"[" * 1001 + b"]" * 1001)
    with pytest.raises(JsonLogicError):
        member([1], b"a")
    assert member(None, b"a") is None


# -- limits ---------------------------------------------------------------------------------------


def _doc(kind: str, *items: Any) -> bytes:
    return json.dumps(_ev("ADDED", kind, *items)).encode() + b"\0"


def test_object_and_byte_limits() -> None:
    state = K8sState(max_objects=3)
    replay(state, _doc("Pod", *({"uid": f"p{i}", "name": "p"} for i in range(5))))
    assert list(state.objects[PODS]) == [b"p0", b"p1", b"p2"]
    assert state.dropped == 2
    state = K8sState(max_bytes=2000)
    replay(state, _doc("Service", {"uid": "s", "labels": {"k": "v" * 3000}}))
    replay(state, _doc("Service", {"uid": "t", "name": "x" * 3000}))
    assert [(s.uid, s.labels) for s in state.objects[SERVICES].values()] == [(b"s", ())]
    assert state.dropped == 2


def test_tables_follow_sysdig_rebuilds() -> None:
    """A pod added after a service is not linked to it until the services change."""
    state = K8sState()
    replay(state, _doc("Service", {"uid": "s", "name": "web", "namespace": "n",
                                   "selector": {"app": "web"}}))
    replay(state, _doc("Pod", {"uid": "p", "name": "p", "namespace": "n",
                               "labels": {"app": "web"},
                               "containerStatuses": [{"containerID": "docker://" + A}]}))
    pod = state.pod_of_container(A[:12])
    assert pod is not None and pod.name == b"p" and state.services_of(pod) == ()
    replay(state, json.dumps(_ev("MODIFIED", "Service", {"uid": "s"})).encode())
    assert [s.name for s in state.services_of(pod)] == [b"web"]


def test_an_event_sysdig_stops_at_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    path = k8s_capture(tmp_path / "stop.scap", [_GOOD, [1], _ev("ADDED", "Pod", DB_POD)])
    for compat in (True, False):
        reader = CaptureReader(path)
        engine = StateEngine(reader, sysdig_compat=compat)
        with reader:
            for ev in reader:
                engine.process(ev)
        state = handlers_k8s.k8s_state(engine)
        assert state is not None and state.unreadable == 1
        assert list(state.objects[PODS]) == [b"pod-1", b"pod-2"]
        assert [d.message.split(":")[0] for d in reader.damage] == ["k8s event 21 not applied"]
        assert reader.damage[0].offset is not None
