"""The fields added for sysdig 0.29.3 parity: ``evt.around``, ``thread.cpu*``,
``container.mount*`` and health probes, ``fd.name_changed``, and the ``syslog``, ``k8s``,
``mesos``, ``span`` and ``evtin`` classes, with what they need from the state engine
(container labels and mounts, the syslog decoder, tracers, the ``-d``/late-filter rules).

Golden comparisons with sysdig 0.29.3 (``-p``, ``-j``, filters with ``exists``, ``-d``,
``-D``) on the real captures and on synthetic captures written here: containers with
mounts, labels and probes (k8s metadata comes from container labels), messages written
to /dev/log, tracers (simple and JSON forms, fragments, errors, more open spans than
sysdig's pool holds). Unit tests cover the parsers and the window arithmetic.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import CAPTURES, DATA
from test_state import Capture, open_file, proc, snapshot, socket, unix_tuple, write_capture
from scapkit.cli.app import app
from scapkit.inspect.fields import CLASSES, FIELDS
from scapkit.inspect.filter.compiler import compile_filter
from scapkit.inspect.filter.errors import FilterError
from scapkit.inspect.state.container_extras import container_extras
from scapkit.inspect.state.syslog import decode_syslog
from scapkit.inspect.state.tracers import (RES_FAILED, RES_OK, RES_TRUNCATED, TracerParser,
                                           TracerState)
from scapkit.inspect.state.threads import ThreadInfo

runner = CliRunner()
CURL = DATA / "curl_google.scap"
SEP = "\x1f"

#: The fields added here that ``-p`` can print without an argument, plus some with one.
NEW_PRINTABLE = [
    "thread.cpu", "thread.cpu.user", "thread.cpu.system", "container.mounts",
    "container.mount[0]", "container.mount[1]", "container.mount[/usr/*]",
    "container.mount[-1]", "container.mount.source[/data]",
    "container.mount.dest[/usr/local/lib]", "container.mount.mode[0]",
    "container.mount.rdwr[0]", "container.mount.rdwr[1]", "container.mount.propagation[0]",
    "container.mount.dest[9]", "container.healthcheck", "container.liveness_probe",
    "container.readiness_probe", "container.image.digest", "fd.name_changed",
    "syslog.facility.str", "syslog.facility", "syslog.severity.str", "syslog.severity",
    "syslog.message", "k8s.pod.name", "k8s.pod.id", "k8s.pod.label.app",
    "k8s.pod.label.empty", "k8s.pod.labels", "k8s.ns.name", "k8s.ns.label.app", "k8s.rc.name",
    "k8s.svc.labels", "k8s.deployment.id", "mesos.task.name", "mesos.task.label.x",
    "marathon.app.labels", "marathon.group.id", "span.id", "span.time", "span.ntags",
    "span.nargs", "span.tags", "span.tag[0]", "span.tag[-1]", "span.tag[7]", "span.args",
    "span.arg[0]", "span.arg[-1]", "span.enterargs", "span.enterarg[1]", "span.duration",
    "span.duration.human", "evtin.span.id", "evtin.span.ntags", "evtin.span.nargs",
    "evtin.span.tags", "evtin.span.tag[0]", "evtin.span.args", "evtin.span.arg[-1]",
    "evtin.span.p.id", "evtin.span.p.tags", "evtin.span.s.id", "evtin.span.s.args",
    "evtin.span.m.id", "evtin.span.m.arg[0]", "evtin.span.tag.fd", "evtin.span.m.arg.res",
    "evt.around[1]", "evt.info", "proc.name", "container.id",
]
#: The real captures' fields that depend on state (compared with -D too, for procinfo).
FMT = "*%evt.num" + "".join(SEP + "%" + n for n in NEW_PRINTABLE)
JSON_FMT = "*%evt.num" + "".join(" %" + n for n in NEW_PRINTABLE)


pytestmark = pytest.mark.usefixtures("utc")


def scap(*args: str) -> subprocess.CompletedProcess[bytes]:
    res = runner.invoke(app, ["read", *args])
    return subprocess.CompletedProcess(args, res.exit_code, res.stdout_bytes, b"")


def oracle(sysdig: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sysdig, *args], capture_output=True, timeout=300,
                          env=dict(os.environ, TZ="UTC"))


def same(sysdig: str, capture: Path | str, *args: str) -> bytes:
    """Run both with ``-r capture args``; assert the same output (or both refusing)."""
    expected = oracle(sysdig, "-r", str(capture), *args)
    got = scap("-r", str(capture), *args)
    if expected.returncode != 0:
        assert got.returncode != 0, (args, got.stdout[:300])
        return b""
    assert got.returncode == 0, (args, got.stdout[:300])
    if got.stdout != expected.stdout:
        diff = [(a, b) for a, b in zip(expected.stdout.splitlines(), got.stdout.splitlines())
                if a != b][:3]
        pytest.fail(f"{args}: {len(expected.stdout.splitlines())} vs "
                    f"{len(got.stdout.splitlines())} lines; first differences {diff}")
    return expected.stdout


# -- synthetic captures ---------------------------------------------------------------------------

A, B, C = "a1" * 32, "b2" * 32, "c3" * 32


def _container_json(**container: object) -> str:
    return json.dumps({"container": container})


def container_capture(path: Path) -> Path:
    """Containers with mounts, labels, probes; pods whose labels are on a sandbox."""
    snap = snapshot([proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
                     proc(100, comm="bash"),
                     proc(200, comm="nginx", cgroups=[f"cpu=/docker/{A}", f"memory=/docker/{A}"]),
                     proc(300, comm="pause", cgroups=[f"cpu=/docker/{B}"]),
                     proc(400, comm="ghost", cgroups=[f"cpu=/docker/{C}"])])
    c = Capture()
    # a capture starts with its container events: sysdig parses them, never shows them
    c.add("CONTAINER_JSON_E", 0, json=_container_json(
        id=A[:12], name="web", image="nginx:1", type=0, imagedigest="sha256:abc",
        # (sysdig leaves RW unset, so random, when it is not a boolean)
        Mounts=[{"Source": "/var/lib/x", "Destination": "/data", "Mode": "z", "RW": True,
                 "Propagation": "rprivate"},
                {"Source": "/usr/local/lib", "Destination": "/lib/modules", "Mode": "",
                 "RW": False, "Propagation": ""},
                {"Source": 5, "Destination": None, "RW": False}],
        labels={"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "prod",
                "io.kubernetes.pod.uid": "uid-1", "io.kubernetes.sandbox.id": B + "zz",
                "app": "web"},
        Healthcheck={"exe": "/bin/check", "args": ["-x", 3, None]},
        LivenessProbe={"exe": "curl", "args": "notalist"},
        ReadinessProbe={"args": ["a"]}))
    c.add("CONTAINER_JSON_E", 0, json=_container_json(
        id=B[:12], name="pause", image="pause", type=0, Mounts=[],
        labels={"app": "web", "tier": "front", "empty": "", "annotation.x": "y",
                "io.kubernetes.container.name": "POD", "n": 5, "b": True, "z": None,
                "f": 1.5}))
    for tid in (100, 200, 300, 400):
        open_file(c, tid, 5, "/etc/hosts")
    c.add("CONTAINER_JSON_E", 0, json=_container_json(
        id=C[:12], name="ghost", image="g", type=0, Mounts={"not": "array"}, labels={},
        LivenessProbe={"exe": "/probe", "args": ["1"]}))
    c.add("CONTAINER_JSON_E", 0, json=_container_json(id="dddddddddddd", lookup_state=2))
    for tid in (100, 200, 300, 400):
        c.add("SYSCALL_CLOSE_E", tid, fd=5).add("SYSCALL_CLOSE_X", tid, res=0)
    return write_capture(path, snap, c)


def syslog_capture(path: Path) -> Path:
    """Messages to /dev/log: connected, by sendto, by a file, malformed priorities."""
    c = Capture()
    socket(c, 100, 5, 1, 2)
    c.add("SOCKET_CONNECT_E", 100, fd=5, addr=b"\x01/dev/log\x00")
    c.add("SOCKET_CONNECT_X", 100, res=0, tuple=unix_tuple(0xFFFF1, 0xFFFF2, "/dev/log"))
    for msg in [b"<14>hello world", b"<191>x", b"<999>big", b"x14>nolt", b"<>empty",
                b"<4294967295>wrap", b"<2147483648>neg", b"<1", b"<12345678901234567>long",
                b"<13>with\x00nul", b"<13>tab\there\x01", b"<3a>bad"]:
        c.add("SYSCALL_WRITE_E", 100, fd=5, size=len(msg))
        c.add("SYSCALL_WRITE_X", 100, res=len(msg), data=msg)
    c.add("SYSCALL_WRITE_E", 100, fd=5, size=9)
    c.add("SYSCALL_WRITE_X", 100, res=-11, data=b"<14>again")  # failed: not decoded
    c.add("SYSCALL_READ_E", 100, fd=5, size=10)
    c.add("SYSCALL_READ_X", 100, res=5, data=b"<1>ab")
    socket(c, 100, 9, 1, 2)
    c.add("SOCKET_SENDTO_E", 100, fd=9, size=12, tuple=unix_tuple(0, 0, "/dev/log"))
    c.add("SOCKET_SENDTO_X", 100, res=12, data=b"<11>sendto m")
    open_file(c, 100, 6, "/dev/log")
    c.add("SYSCALL_WRITE_E", 100, fd=6, size=8)
    c.add("SYSCALL_WRITE_X", 100, res=8, data=b"<30>file")
    c.add("SYSCALL_CLOSE_E", 100, fd=5).add("SYSCALL_CLOSE_X", 100, res=0)
    return write_capture(path, snapshot([proc(1, ptid=0, comm="systemd"), proc(100)]), c)


def _tracer_snapshot() -> object:
    return snapshot([proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
                     proc(100, comm="bash"), proc(101, pid=100, comm="bash"),
                     proc(200, ptid=100, comm="child"), proc(300, ptid=1, comm="other")])


def tracer_capture(path: Path) -> Path:
    """Tracers of every form, nested spans on several threads, errors, fragments."""
    c = Capture()
    for tid, fd in ((100, 7), (101, 8), (200, 7), (300, 9)):
        open_file(c, tid, fd, "/dev/null", flags=2)

    def w(tid: int, data: bytes, fd: int = 7) -> None:
        c.add("SYSCALL_WRITE_E", tid, fd=fd, size=len(data))
        c.add("SYSCALL_WRITE_X", tid, res=len(data), data=data)

    def other(tid: int) -> None:
        c.add("SYSCALL_CLOSE_E", tid, fd=99).add("SYSCALL_CLOSE_X", tid, res=-9)

    w(100, b">:t:req.db:a=1,b=2::")
    for tid in (100, 101, 200, 300):
        other(tid)
    w(100, b">:12:req.db.q:x=y,z=w::")
    other(100)
    other(200)
    w(200, b'[">", 77, ["js", "tag"], [{"k":"v"}, {"k2":"v2"}]]')
    other(200)
    other(100)
    w(200, b'["<", 77, ["js", "tag"], []]')
    w(100, b"<:12:req.db.q:res=ok::")
    other(100)
    w(100, b">:p:frag")  # the rest comes with the next write
    w(100, b"ment.x:q=1::")
    w(100, b">:pp:esc\\.aped\\:tag:n\\=m=v\\,w::")
    w(100, b"<:999:nomatch::")
    w(100, b"<:t:req.db:r=ok::")
    w(100, b"<:p:fragment.x::")
    w(100, b"hello")
    w(100, b">:g:g::")
    w(100, b">:-5:neg::")
    w(100, b">:7:a.b:n=v:")
    w(100, b">:7:a.b:novalue:")
    w(300, b"garbage", fd=9)  # not a tracer: the fd is a plain one for good
    w(300, b">:t:late::", fd=9)
    other(300)
    w(100, b'["<", "g", ["g"], []]')
    w(100, b'[">", "x", ["bad scope"], []]')
    w(100, b'[">", 5, [], []]')
    w(100, b'[">",5,["a"],[{"n":"v"}]]')
    w(100, b"hello")
    w(100, b">:0:zero::")  # sinsp waits for more after a scope starting with '0'
    w(100, b">:t:after::")
    other(100)
    return write_capture(path, _tracer_snapshot(), c)


def tracer_pool_capture(path: Path) -> Path:
    """130 nested spans: more than sysdig's 128 records."""
    c = Capture()
    open_file(c, 100, 7, "/dev/null", flags=2)

    def w(data: bytes) -> None:
        c.add("SYSCALL_WRITE_E", 100, fd=7, size=len(data))
        c.add("SYSCALL_WRITE_X", 100, res=len(data), data=data)

    def other() -> None:
        c.add("SYSCALL_CLOSE_E", 100, fd=99).add("SYSCALL_CLOSE_X", 100, res=-9)

    for i in range(1, 131):
        w(b">:%d:s%d:n=%d::" % (i, i % 3, i))
        if i % 20 == 0 or i > 126:
            other()
    for i in range(130, 0, -1):
        w(b"<:%d:s%d::" % (i, i % 3))
        if i % 25 == 0 or i < 4 or i > 126:
            other()
    w(b">:5:s2:n=x::")
    other()
    w(b"<:5:s2::")
    return write_capture(path, _tracer_snapshot(), c)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fields_more")
    return {"containers": container_capture(d / "containers.scap"),
            "syslog": syslog_capture(d / "syslog.scap"),
            "tracers": tracer_capture(d / "tracers.scap"),
            "pool": tracer_pool_capture(d / "pool.scap")}


SYNTHETIC = ["containers", "syslog", "tracers", "pool"]


# -- the field list --------------------------------------------------------------------------------

@pytest.mark.sysdig
def test_field_list_has_every_sysdig_field_in_sysdigs_order(sysdig: str) -> None:
    listed = oracle(sysdig, "-l").stdout.decode().splitlines()
    ours = scap("-l").stdout.decode().splitlines()

    def names(lines: list[str]) -> list[str]:
        return [ln.split()[0] for ln in lines
                if ln and not ln.startswith((" ", "-", "Field Class:", "Description:"))]

    def classes(lines: list[str]) -> list[str]:
        return [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Field Class:")]

    assert [n for n in names(ours) if n != "evt.outputtime"] == names(listed)
    assert classes(ours) == classes(listed)
    for name in names(listed):
        assert FIELDS[name].doc, name


def test_classes_in_sysdigs_order() -> None:
    assert [c.name for c in CLASSES.values()] == [
        "evt", "evt", "process", "user", "group", "container", "fd", "syslog", "fdlist",
        "k8s", "mesos", "span", "evtin"]


# -- golden: real captures -------------------------------------------------------------------------

@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("options", [[], ["-D"], ["-j"]], ids=["p", "debug", "json"])
def test_new_fields_print_as_in_sysdig(sysdig: str, capture: Path, options: list[str]) -> None:
    fmt = JSON_FMT if "-j" in options else FMT
    out = same(sysdig, capture, *options, "-p", fmt)
    assert out.count(b"\n") > 20


def _real_filters(capture: Path, sysdig: str) -> list[str]:
    times = oracle(sysdig, "-r", str(capture), "-p", "%evt.rawtime").stdout.split()
    t = times[len(times) // 3].decode()
    return [
        f"evt.around[{t}]=1", f"evt.around[{t}]=0", f"evt.around[{t}] exists",
        f"not evt.around[{t}]=2", f"evt.around[{t}] in (1, 2)", "evt.around[-5]=1",
        f"evt.around[{t}]=18446744073709551615", f"evt.around[{t}]=-1",
        "fd.name_changed=true", "fd.name_changed=false", "fd.name_changed exists",
        "not fd.name_changed exists", "thread.cpu exists", "thread.cpu.system exists",
        "k8s.pod.name exists", "not mesos.task.name exists", "container.mounts exists",
        "container.mount[0] exists", "container.healthcheck exists", "syslog.message exists",
        "span.id exists", "not evtin.span.m.id exists", "evtin.span.id=1",
    ]


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_filters_on_new_fields_select_as_in_sysdig(sysdig: str, capture: Path) -> None:
    selected = 0
    for text in _real_filters(capture, sysdig):
        out = same(sysdig, capture, "-p", "%evt.num %fd.name_changed", text)
        selected += out.count(b"\n")
        for opts in (["-d"], ["-D"]):
            same(sysdig, capture, *opts, "-p", "%evt.num %fd.name_changed %thread.cpu", text)
    assert selected > 25


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_fd_cport_of_connected_sockets(sysdig: str, capture: Path) -> None:
    """(sysdig's fd.cport of other sockets reads an empty string's buffer)"""
    same(sysdig, capture, "-p", "%evt.num %fd.name %fd.cport %fd.sport %fd.lport %fd.rport",
         "fd.name contains ->")


# -- golden: synthetic captures ----------------------------------------------------------------------

@pytest.mark.sysdig
@pytest.mark.parametrize("name", SYNTHETIC)
@pytest.mark.parametrize("options", [[], ["-j"]], ids=["p", "json"])
def test_new_fields_on_synthetic_captures(sysdig: str, synthetic: dict[str, Path], name: str,
                                          options: list[str]) -> None:
    fmt = JSON_FMT if options else FMT
    same(sysdig, synthetic[name], *options, "-p", fmt)
    same(sysdig, synthetic[name], *options)  # the default listing
    if not options:
        same(sysdig, synthetic[name], "-S")  # (a tracer counts as a tracer)


SYNTHETIC_FILTERS = {
    "containers": [
        "k8s.pod.name=web-1", "k8s.pod.label.app=web", "k8s.pod.labels contains tier",
        "k8s.pod.label.tier exists", "not k8s.ns.name exists", "k8s.pod.labels exists",
        "container.mount[0] contains data", "container.mount.rdwr[0]=true",
        "container.mount.source[/da*] = /var/lib/x", "container.mounts exists",
        "container.mounts = ''", "container.healthcheck startswith /bin",
        "container.liveness_probe='/probe 1'", "container.image.digest exists",
        "k8s.rc.name exists", "mesos.task.label.x exists", "evt.type=container",
        "evt.num > 0",
    ],
    "syslog": [
        "syslog.message exists", "not syslog.message exists", "syslog.severity=6",
        "syslog.facility.str=user", "evt.info contains syslog", "evt.type=write",
        "fd.name_changed=true",
    ],
    "tracers": [
        "span.id=12", "span.id exists", "span.tags=req.db", "span.tag[0]=req",
        "span.tag[-1] startswith q", "span.args contains x", "span.arg.x=y",
        "span.arg[0]=1", "span.enterargs exists", "span.duration>0",
        "span.duration.human exists", "span.nargs=2", "span.time exists",
        "evtin.span.id=12", "evtin.span.id=100", "evtin.span.id!=12",
        "evtin.span.id in (12, 77)", "evtin.span.ntags=2", "evtin.span.nargs>1",
        "evtin.span.tags=req.db", "evtin.span.tag[1]=db", "evtin.span.args contains a:1",
        "evtin.span.arg[0]=1", "evtin.span.p.id exists", "evtin.span.s.id=77",
        "evtin.span.s.tags exists", "evtin.span.m.id=77", "evtin.span.m.tags startswith js",
        "evtin.span.tag.fd=db", "evtin.span.arg.res exists", "not evtin.span.m.id exists",
        "evtin.span.id exists and span.id exists", "evtin.span.p.arg[-1]=2",
        "evt.type=tracer", "evt.type=write", "evt.dir=<",
    ],
    "pool": [
        "evtin.span.id=3", "evtin.span.m.id=128", "evtin.span.id>125", "span.duration exists",
        "span.nargs=1", "span.enterargs=n=128",
    ],
}


@pytest.mark.sysdig
@pytest.mark.parametrize("name", SYNTHETIC)
def test_filters_on_synthetic_captures(sysdig: str, synthetic: dict[str, Path],
                                       name: str) -> None:
    selected = 0
    for text in SYNTHETIC_FILTERS[name]:
        for opts in ([], ["-d"]):
            out = same(sysdig, synthetic[name], *opts, "-p", "%evt.num %evt.type %evt.info", text)
            selected += out.count(b"\n")
        same(sysdig, synthetic[name], text)  # the default listing
    assert selected > 20


@pytest.mark.sysdig
def test_span_nargs_needs_a_field_that_tracks_spans(sysdig: str,
                                                    synthetic: dict[str, Path]) -> None:
    alone = same(sysdig, synthetic["tracers"], "-p", "*%evt.num %span.nargs %span.id")
    tracked = same(sysdig, synthetic["tracers"], "-p", "*%evt.num %span.nargs", "span.time exists")
    assert b"<NA> " in alone and b" 2\n" in tracked


@pytest.mark.sysdig
@pytest.mark.parametrize("text", [
    "evt.around[1]!=1", "evt.around[1] contains 1", "evt.around[1]=abc", "evt.around=1",
    "evt.around.x=1", "evt.around[abc]=1", "evt.around[1]>1", "evt.around[1] pmatch (1)",
    "k8s.pod.label[x] exists", "k8s.pod.label exists", "container.mount.x[0] exists",
    "container.mount exists", "container.mount.source exists", "span.tag.x exists",
    "span.tag[x] exists", "span.arg exists", "evtin.span.arg.nosuch exists",
    "evtin.span.tag exists", "evtin.span.tag[x] = 1",
    # the hidden (table-only) fields
    "span.idtag.x exists", "span.idtag exists", "span.count.fortag exists",
    "span.count.fortag[x] = 1", "thread.vmsize.bx exists",
])
def test_filter_errors_where_sysdig_errors(sysdig: str, text: str) -> None:
    assert oracle(sysdig, "-r", str(CURL), text).returncode != 0
    with pytest.raises(FilterError):
        compile_filter(text)


@pytest.mark.sysdig
@pytest.mark.parametrize("fmt", ["%span.tag.x", "%span.tag[x]", "%evtin.span.arg.nosuch",
                                 "%span.arg", "%container.mount[0", "%k8s.pod.label",
                                 "%evt.around", "%evt.around[x]", "%mesos.task.label",
                                 # the hidden (table-only) fields
                                 "%span.idtag", "%span.idtag.x", "%span.count.fortag",
                                 "%span.duration.fortag[x]", "%span.childcount.fortag"])
def test_format_errors_where_sysdig_errors(sysdig: str, fmt: str) -> None:
    assert oracle(sysdig, "-r", str(CURL), "-p", fmt).returncode != 0
    assert scap("-r", str(CURL), "-p", fmt).returncode == 4


# -- units: evt.around ---------------------------------------------------------------------------------

class _Ev:
    def __init__(self, ts: int) -> None:
        self.event = type("E", (), {"ts": ts})()


def test_evt_around_is_a_window_in_unsigned_arithmetic() -> None:
    around = compile_filter("evt.around[1000000000]=1")
    assert [t for t in (0, 999_000_000, 1_000_000_000, 1_001_000_000, 1_001_000_001)
            if around(_Ev(t))] == [999_000_000, 1_000_000_000, 1_001_000_000]
    # a window reaching below 0 wraps: nothing matches then, as in sysdig
    assert not compile_filter("evt.around[5]=1")(_Ev(10))
    assert compile_filter("evt.around[10] exists")(_Ev(10))
    assert not compile_filter("evt.around[10] exists")(_Ev(11))
    # `in` compares each delta with a time of 0 (sysdig's copies lose the argument)
    assert compile_filter("evt.around[77] in (2, 3)")(_Ev(3_000_000))
    assert not compile_filter("evt.around[77] in (2, 3)")(_Ev(77))


# -- units: syslog, tracers, container metadata ------------------------------------------------------

@pytest.mark.parametrize("data,expected", [
    (b"<14>hello", (1, 6, b"hello")), (b"x14>nolt", (1, 6, b"nolt")),
    (b"<999>big", (124, 7, b"big")), (b"<2147483648>neg", (4026531840, 0, b"neg")),
    (b"<12345678901234567>x", (4039228399, 1, b"7>x")),
    (b"<4294967295>wrap", None), (b"<>e", None), (b"<1", None), (b"<3a>bad", None),
    (b"", None),
])
def test_syslog_decoding(data: bytes, expected: tuple[int, int, bytes] | None) -> None:
    msg = decode_syslog(data)
    got = None if msg is None else (msg.facility, msg.severity, msg.message)
    assert got == expected


def _parse(*chunks: bytes) -> list[tuple[int, TracerParser]]:
    thread = ThreadInfo(tid=42, pid=40, ptid=1)
    state = TracerState()
    parser = TracerParser()
    return [(parser.feed(c, 1, thread, state), parser) for c in chunks]


def test_simple_tracers() -> None:
    (res, p), = _parse(b">:t:a.b:x=1,y=2::")
    assert (res, p.id, p.tags, p.argnames, p.argvals) == (
        RES_OK, 42, [b"a", b"b"], [b"x", b"y"], [b"1", b"2"])
    (res, p), = _parse(b"<:pp:esc\\.aped:n\\=m=v\\,w::")
    assert (res, p.is_enter, p.id, p.tags, p.argnames, p.argvals) == (
        RES_OK, False, 1, [b"esc.aped"], [b"n=m"], [b"v,w"])
    assert _parse(b">:5:a:n=v")[0][0] == RES_TRUNCATED
    assert _parse(b">:5:a:novalue:")[0][0] == RES_FAILED
    assert _parse(b">:0:a::")[0][0] == RES_TRUNCATED  # sinsp's '0' test
    assert _parse(b">x")[0][0] == RES_FAILED


def test_tracer_fragments_join() -> None:
    (r1, _), (r2, p) = _parse(b">:p:frag", b"ment.x:q=1::")
    assert (r1, r2, p.id, p.tags, p.argvals) == (RES_TRUNCATED, RES_OK, 40,
                                                 [b"fragment", b"x"], [b"1"])


def test_json_tracers() -> None:
    (res, p), = _parse(b'[">", 77, ["js", "tag"], [{"k":"v"}, {"k2":"v2"}]]')
    assert (res, p.id, p.tags, p.argnames, p.argvals) == (
        RES_OK, 77, [b"js", b"tag"], [b"k", b"k2"], [b"v", b"v2"])
    (res, p), = _parse(b'["<", "t", [], []]')
    assert (res, p.is_enter, p.id, p.tags, p.argnames) == (RES_OK, False, 42, [], [])
    assert _parse(b'[">", 5, ["a"]')[0][0] == RES_TRUNCATED
    assert _parse(b"hello")[0][0] == RES_FAILED


def test_container_extras_follow_jsoncpp() -> None:
    extras = container_extras({
        "Mounts": [{"Source": "/s", "Destination": "/d", "Mode": "ro", "RW": 1}, None, 3],
        "labels": {"b": 1.5, "a": None, "c": True, "d": {"x": 1}, "e": 7},
        "Healthcheck": {"exe": 5, "args": ["x", None, []]},
        "None": {"exe": "n"}, "ReadinessProbe": {"exe": None}})
    assert [m.text() for m in extras["mounts"]] == ["/s:/d:ro:false:", ":::false:"]
    assert extras["labels"] == {"a": "", "b": "1.5", "c": "true", "e": "7"}
    assert [(p.kind, p.command()) for p in extras["probes"]] == [(0, "n"), (1, "5 x ")]
