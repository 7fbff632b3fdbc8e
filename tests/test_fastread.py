"""The C read engine (inspect/fastread.c) against the Python path it stands in for.

For the listings the C engine takes (sysdig's default format, text or -j), the lines and
the state the Python engine ends in must be exactly those of the pure Python path
(``SCAPKIT_PURE=1``), on the real captures, the synthetic capture of every event, the
state scenarios, randomised event sequences aimed at the handlers the C engine
implements, under small limits and every engine option, and on damaged captures.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ipaddress import ip_address

from support import CAPTURES
from synthetic import synthetic_capture
from test_fields_more import (container_capture, syslog_capture, tracer_capture,
                              tracer_pool_capture)
from test_state import (CL_FILES, CL_THREAD, THREAD_FLAGS, Capture, clone, edge_scenario,
                        files_scenario, net_scenario, proc, sockaddr, snapshot, socktuple,
                        unix_tuple, write_capture)
from scapkit.inspect import fastread
from scapkit.inspect import listing as listing_mod
from scapkit.inspect.listing import Listing
from scapkit.inspect.render import RenderOptions
from scapkit.inspect.state.engine import Limits, StateEngine
from scapkit.scapfile import reader as reader_mod
from scapkit.scapfile import snapshot as S
from scapkit.scapfile.blocks import FdType
from scapkit.scapfile.event_table import EVENTS, sysdig_029_event_info
from scapkit.scapfile.reader import CaptureReader

pytestmark = pytest.mark.skipif(not fastread.available(),
                                reason=f"C engine unavailable: {fastread.unavailable_reason()}")


# -- running both paths ------------------------------------------------------------------------


def _state(engine: StateEngine) -> dict[str, Any]:
    """Everything the engine holds, as plain values (fd tables by content)."""
    engine._carry_out_removals()
    threads = {}
    for t in engine.threads:
        d = {k: getattr(t, k) for k in t.__dataclass_fields__ if k not in ("fdtable", "lastevent")}
        d["flags"] = int(t.flags)
        le = t.lastevent
        d["lastevent"] = None if le is None else (le.num, le.offset, le.cpu, le.dump_flags,
                                                   le.ts, le.tid, le.type, le.nparams, le.data)
        table = engine.threads.fd_table(t) if t.flags & 1 else t.fdtable
        d["fds"] = None if table is None else {
            fd: (int(i.type), i.name, i.openflags, int(i.flags), i.dev, i.mount_id, i.ino,
                 bytes(i.sock.raw), i.pid) for fd, i in table.items()}
        threads[t.tid] = d
    return {"threads": threads, "first_ts": engine.first_ts, "paramstr": engine.paramstr,
            "rawbuf_len": engine.rawbuf_len, "enters": engine._enters_too_large,
            "dropped": engine.threads.dropped, "used": engine.threads.fd_budget.used,
            "refused": engine.threads.fd_budget.refused, "containers": engine.containers,
            "tid_to_remove": engine._tid_to_remove, "users": sorted(engine.users),
            "groups": sorted(engine.groups)}


def run(path: Path, *, fast: bool, engine_options: Any = None,
        **listing: Any) -> tuple[list[str], dict[str, Any], list[str]]:
    """(lines, final engine state, damage) of a listing over ``path``."""
    created: list[StateEngine] = []
    used: list[bool] = []

    def make(reader: CaptureReader) -> StateEngine:
        created.append(StateEngine(reader, **(engine_options or {})))
        return created[-1]

    real = fastread.fast_lines

    def spy(*a: Any) -> Any:
        it = real(*a)
        used.append(it is not None)
        return it

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(listing_mod, "StateEngine", make)
        mp.setattr(fastread, "available", lambda: fast)
        mp.setattr(fastread, "fast_lines", spy)
        reader = CaptureReader(path)
        with reader:
            text = "\n".join(Listing(**listing).lines(reader))
    assert used in ([fast], [False]), "the listing did not take the expected path"
    return text.split("\n"), _state(created[0]), [str(d) for d in reader.damage]


def same(path: Path, **kw: Any) -> list[str]:
    pure = run(path, fast=False, **kw)
    got = run(path, fast=True, **kw)
    for i, (a, b) in enumerate(zip(pure[0], got[0])):
        assert a == b, f"line {i} differs:\n pure: {a!r}\n fast: {b!r}"
    assert len(pure[0]) == len(got[0])
    assert got[2] == pure[2], "damage differs"
    if got[1] != pure[1]:
        for k in pure[1]:
            if k == "threads":
                for tid in sorted(set(pure[1]["threads"]) | set(got[1]["threads"])):
                    a, b = pure[1]["threads"].get(tid), got[1]["threads"].get(tid)
                    if a is None or b is None:
                        assert a == b, f"thread {tid} only in one state"
                    for key in sorted(set(a) | set(b)):
                        if key == "fds" and a[key] and b[key]:
                            for fd in sorted(set(a[key]) | set(b[key])):
                                assert b[key].get(fd) == a[key].get(fd), \
                                    f"thread {tid} fd {fd} differs"
                        assert b.get(key) == a.get(key), f"thread {tid} {key} differs"
            assert got[1][k] == pure[1][k], f"{k} differs"
    return pure[0]


# -- captures --------------------------------------------------------------------------------


def _scenario_captures(tmp: Path) -> list[Path]:
    out = []
    for name, scen in (("files", files_scenario), ("net", net_scenario), ("edge", edge_scenario)):
        snap, cap = scen()
        out.append(write_capture(tmp / f"{name}.scap", snap, cap))
    return out


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("fastread")
    return (list(CAPTURES) + [synthetic_capture(tmp / "synthetic.scap", rounds=2)]
            + _scenario_captures(tmp) + [random_capture(tmp / f"random{s}.scap", s)
                                         for s in RANDOM_SEEDS]
            + [churn_capture(tmp / f"churn{s}.scap", s) for s in CHURN_SEEDS]
            + [syslog_capture(tmp / "syslog.scap"), tracer_capture(tmp / "tracers.scap"),
               tracer_pool_capture(tmp / "pool.scap"),
               container_capture(tmp / "containers.scap")])


#: Seeds of random_capture: a few, and some that once showed a difference (fd table order
#: after a clone under a full budget; the buffer length after a thread's exit).
RANDOM_SEEDS = [0, 1, 2, 3, 4, 5, 114, 739]


OPTIONS = [
    {},
    {"options": RenderOptions(max_len=80, json=True)},
    {"debug": True},
    {"options": RenderOptions(max_len=0)},
    {"options": RenderOptions(max_len=80, time_format="a")},
    {"options": RenderOptions(max_len=80, time_format="r")},
    {"options": RenderOptions(max_len=80, time_format="d"), "debug": True},
    {"options": RenderOptions(max_len=80, buffer_format="eols")},
    {"options": RenderOptions(max_len=80, buffer_format="hex", json=True)},
    {"options": RenderOptions(max_len=80, buffer_format="hexascii")},
    {"options": RenderOptions(max_len=80, buffer_format="base64")},
]


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(
    f"{k}={v}" for k, v in o.items()) or "default")
def test_lines_and_state_equal_the_python_path(captures: list[Path], opts: dict[str, Any]) -> None:
    for path in captures:
        same(path, options=opts.get("options", RenderOptions(max_len=80)),
             debug=opts.get("debug", False))


FILTERS = [
    "evt.type=connect",
    "proc.name=curl",
    "evt.type in (open, close, read, execve, clone, procexit) and not proc.name=bash",
    "thread.tid > 100 or evt.dir = <",
    "proc.pid exists and evt.cpu != 1",
    "proc.name contains ba or proc.name icontains CUR or proc.name endswith sh",
    "evt.num >= 50 and evt.num < 500 and not (proc.name startswith ba)",
    "evt.type=write",
    "proc.name < m",
]


@pytest.mark.parametrize("text", FILTERS)
def test_filters_judged_in_c(captures: list[Path], text: str) -> None:
    from scapkit.inspect.fastfilter import translate

    assert translate(text) is not None
    for path in captures:
        same(path, filter_text=text, options=RenderOptions(max_len=80))
        same(path, filter_text=text, debug=True, count=40,
             options=RenderOptions(max_len=80, json=True))


def test_other_filters_stay_on_the_python_path(captures: list[Path]) -> None:
    from scapkit.inspect.fastfilter import translate

    for text in ("fd.name contains /etc", "proc.name glob 'c*'", "proc.name contains é",
                 "evt.arg.fd = 3"):
        assert translate(text) is None
    # (run() asserts which path the listing took)
    pure, fast = run(captures[0], fast=False, filter_text="fd.name contains /etc"), \
        run(captures[0], fast=True, filter_text="fd.name contains /etc")
    assert pure[0] == fast[0]


@pytest.mark.parametrize("count", [1, 2, 7, 50, 333])
def test_event_count_stops_at_the_same_event(captures: list[Path], count: int) -> None:
    for path in captures:
        same(path, count=count, options=RenderOptions(max_len=80))


ENGINE_OPTIONS = [
    {"sysdig_compat": False},
    {"track_connection_status": True},
    {"reparent": True},
    {"limits": Limits(max_threads=6, max_fds_per_thread=3, max_fds_total=8, max_stored_enter=60,
                      max_path=40)},
    {"limits": Limits(max_threads=3, max_fds_per_thread=1, max_fds_total=2)},
]


@pytest.mark.parametrize("engine_options", ENGINE_OPTIONS, ids=str)
def test_engine_options_and_limits(captures: list[Path], engine_options: dict[str, Any]) -> None:
    for path in captures:
        same(path, engine_options=engine_options, options=RenderOptions(max_len=80))


def _python_events(path: Path, **listing: Any) -> tuple[list[Any], Any]:
    """The events the Python engine processed in a C-engine run, and the run's counters."""
    reader = CaptureReader(path)
    engine = StateEngine(reader)
    run_ = fastread.FastListing(Listing(**listing), reader, engine)
    processed: list[Any] = []
    real = engine.process
    engine.process = lambda ev, accept=None: processed.append(ev) or real(ev, accept)  # type: ignore[method-assign]
    counters: dict[str, int] = {}
    finish = run_._finish

    def keep_counters() -> None:
        e = run_.e
        if e is not None:
            for k in ("events", "slow_events", "syncs", "thread_ops", "callbacks"):
                counters[k] = getattr(e, k)
        finish()

    run_._finish = keep_counters  # type: ignore[method-assign]
    with reader:
        for _ in run_.lines():
            pass
    return processed, counters


def test_the_c_engine_does_the_work(captures: list[Path]) -> None:
    """Not a timing: on the real captures, every event is the C engine's (clone, execve,
    thread exits, sends whose socket role is guessed included): the Python engine sees
    the internal events only."""
    for path in CAPTURES:
        processed, counters = _python_events(path)
        assert counters["events"] > 300
        names = {EVENTS[ev.type].name for ev in processed}
        assert names <= {"procinfo"}, (path.name, names)
        assert len(processed) < counters["events"] // 20, path.name
    processed, counters = _python_events(CAPTURES[0])
    assert counters["thread_ops"] >= 4  # a clone, an execve, two exits


def test_process_events_stay_in_c(tmp_path: Path) -> None:
    """Process churn (clone, execve, exits, threads made and gone within one batch) is
    the C engine's; what reaches Python is what it leaves there by design (inverted or
    stale clones, tid collisions, execve of threads, chdir...)."""
    path = churn_capture(tmp_path / "churn.scap", 11)
    processed, counters = _python_events(path)
    total = counters["events"] + len(processed)
    python = {EVENTS[ev.type].name for ev in processed}
    family = ("clone", "fork", "vfork", "clone3", "execve")
    reader = CaptureReader(path)
    with reader:
        exits = sum(1 for ev in reader.events() if ev.type & 1 and EVENTS[ev.type].name in family)
    in_python = sum(1 for ev in processed if EVENTS[ev.type].name in family)
    assert counters["thread_ops"] > 100
    assert len(processed) < total // 5, sorted(python)
    assert in_python < exits // 2  # (the rest: tid collisions, inverted clones, execve of
    # threads or with another pid: this generator makes many)


# -- damaged captures ---------------------------------------------------------------------


def _damaged(tmp: Path, source: Path) -> Iterator[Path]:
    data = (tmp / "plain.scap")
    from scapkit.scapfile.convert import convert

    convert(source, data, "none")
    raw = data.read_bytes()
    r = random.Random(7)
    yield _write(tmp / "truncated.scap", raw[:len(raw) * 2 // 3])
    for k in range(6):
        b = bytearray(raw)
        at = r.randrange(len(b) // 4, len(b))
        for _ in range(r.randint(1, 8)):
            b[at + r.randint(-40, 40) if 0 < at < len(b) - 41 else at] = r.randrange(256)
        yield _write(tmp / f"flipped{k}.scap", bytes(b))
    b = bytearray(raw)
    at = len(b) // 2
    yield _write(tmp / "junk.scap", bytes(b[:at]) + bytes(r.randrange(256) for _ in range(999))
                 + bytes(b[at:]))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_damaged_captures(tmp_path: Path) -> None:
    for source in CAPTURES:
        for path in _damaged(tmp_path, source):
            same(path, options=RenderOptions(max_len=80))
            same(path, options=RenderOptions(max_len=80, json=True), debug=True)


# -- randomised sequences ---------------------------------------------------------------------

_PATHS = ["/etc/passwd", "rel/a", "../up/x", "", "/dev/null", "./d//e/", "<NA>", "/tmp"]
_ADDRS = [("10.0.0.5", 5000), ("1.2.3.4", 80), ("::1", 22), ("2001:db8::9", 443),
          ("::ffff:10.0.0.7", 53), ("0.0.0.0", 0), ("10.0.0.5", 8080)]


def _tuple(r: random.Random) -> bytes:
    kind = r.randrange(6)
    if kind == 0:
        return unix_tuple(r.getrandbits(48), r.getrandbits(48), r.choice(["/run/s", ""]))
    if kind == 1:
        return b""
    if kind == 2:
        return b"\x02\x01"  # a short IPv4 tuple
    a, b = r.sample(_ADDRS[:5], 2)
    v4 = ":" not in a[0] and ":" not in b[0]
    if not v4 and (":" not in a[0] or ":" not in b[0]):
        a, b = ("::ffff:" + a[0] if ":" not in a[0] else a[0], a[1]), \
            ("::ffff:" + b[0] if ":" not in b[0] else b[0], b[1])
    return socktuple(a[0], a[1], b[0], b[1])


def _addr(r: random.Random) -> bytes:
    k = r.randrange(5)
    if k == 0:
        return b"\x01/run/x.sock\x00"
    if k == 1:
        return b""
    if k == 2:
        return b"\x02\x7f\x00"  # short
    ip, port = r.choice(_ADDRS)
    return sockaddr(ip, port)


def random_capture(path: Path, seed: int) -> Path:
    """Syscalls on a few threads (known, unknown, a thread sharing its process's fds),
    with fds reused, closes overtaken, sockets of every kind, and the events the Python
    engine handles (clone, execve, procexit, chdir) in between."""
    r = random.Random(seed)
    procs = [proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
             proc(100, comm="bash", cwd="/home/alice", uid=1000, gid=1000),
             proc(101, pid=100, comm="bash", cwd="", flags=THREAD_FLAGS),
             proc(200, pid=300, comm="orphan", cwd="/", flags=THREAD_FLAGS)]
    snap = snapshot(procs)
    cap = Capture()
    tids = [100, 101, 200, 777, 100, 101]
    for _ in range(700):
        tid = r.choice(tids)
        fd = r.choice([3, 4, 5, 6, 7, 0, 1, -1])
        k = r.randrange(22)
        name = r.choice(_PATHS)
        if k == 0:
            cap.add("SYSCALL_OPEN_E", tid, name=name, flags=r.choice([1, 0x400, 0x1001]), mode=0)
            if r.random() < 0.9:
                cap.add("SYSCALL_OPEN_X", tid, fd=fd, name=name, flags=1, mode=0, dev=7)
        elif k == 1:
            cap.add("SYSCALL_OPENAT_2_E", tid, dirfd=r.choice([-100, 3, 9]), name=name,
                    flags=1, mode=0)
            cap.add("SYSCALL_OPENAT_2_X", tid, fd=fd, dirfd=r.choice([-100, 3, 7]), name=name,
                    flags=r.choice([1, 0x400]), mode=0, dev=1)
        elif k == 2:
            if r.random() < 0.5:
                cap.add("SYSCALL_CREAT_E", tid, name=name, mode=0)
                cap.add("SYSCALL_CREAT_X", tid, fd=fd, name=name, mode=0)
            else:
                cap.add("SYSCALL_OPENAT_E", tid, dirfd=r.choice([-100, 7]), name=name,
                        flags=1, mode=0)
                cap.add("SYSCALL_OPENAT_X", tid, fd=fd)
        elif k in (3, 4):
            cap.add("SYSCALL_CLOSE_E", tid, fd=fd)
            if r.random() < 0.8:
                cap.add("SYSCALL_CLOSE_X", tid, res=r.choice([0, 0, -9]))
        elif k == 5:
            cap.add("SOCKET_SOCKET_E", tid, domain=r.choice([1, 2, 10, 16, 17]),
                    type=r.choice([1, 2, 3, 0o2000001]), proto=r.choice([0, 6, 17, 1, 255]))
            cap.add("SOCKET_SOCKET_X", tid, fd=fd)
        elif k == 6:
            cap.add("SOCKET_CONNECT_E", tid, fd=fd, addr=_addr(r))
            cap.add("SOCKET_CONNECT_X", tid, res=r.choice([0, -115, -111]), tuple=_tuple(r))
        elif k == 7:
            cap.add("SOCKET_BIND_E", tid, fd=fd)
            cap.add("SOCKET_BIND_X", tid, res=r.choice([0, 0, -98]), addr=_addr(r))
        elif k == 8:
            cap.add("SOCKET_ACCEPT_E", tid)
            cap.add(r.choice(["SOCKET_ACCEPT_X", "SOCKET_ACCEPT4_X"]), tid, fd=fd,
                    tuple=_tuple(r), queuepct=0)
        elif k == 9:
            cap.add("SOCKET_SENDTO_E", tid, fd=fd, size=3, tuple=_tuple(r))
            cap.add("SOCKET_SENDTO_X", tid, res=r.choice([3, -32]), data=b"abc")
        elif k == 10:
            cap.add("SOCKET_RECVFROM_E", tid, fd=fd, size=3)
            cap.add("SOCKET_RECVFROM_X", tid, res=r.choice([3, -11]), data=b"xyz",
                    tuple=_tuple(r))
        elif k == 11:
            cap.add("SYSCALL_READ_E", tid, fd=fd, size=9)
            cap.add("SYSCALL_READ_X", tid, res=r.choice([9, 0, -4]), data=b"\x00hello\xffx\n")
        elif k == 12:
            cap.add("SYSCALL_WRITE_E", tid, fd=fd, size=3)
            cap.add("SYSCALL_WRITE_X", tid, res=3, data=b"out")
        elif k == 13:
            cap.add("SYSCALL_PIPE_E", tid)
            cap.add("SYSCALL_PIPE_X", tid, res=r.choice([0, -24]), fd1=fd,
                    fd2=r.choice([4, 5, 9]), ino=r.randrange(99))
        elif k == 14:
            cap.add("SYSCALL_DUP_E", tid, fd=fd)
            if r.random() < 0.5:
                cap.add("SYSCALL_DUP_X", tid, res=r.choice([0, 1, 5, 6, -9]))
            else:
                cap.add("SYSCALL_DUP3_X", tid, res=r.choice([0, 5, 6]), oldfd=fd, newfd=5,
                        flags=r.choice([0, 1 << 12]))
        elif k == 15:
            cap.add("SYSCALL_FCNTL_E", tid, fd=fd, cmd=r.choice([1, 26, 3]))
            cap.add("SYSCALL_FCNTL_X", tid, res=r.choice([5, 7, -9]))
        elif k == 16:
            cap.add("SYSCALL_GETRLIMIT_E", tid, resource=r.choice([7, 3]))
            cap.add("SYSCALL_GETRLIMIT_X", tid, res=0, cur=r.choice([64, -1]), max=4096)
        elif k == 17:
            cap.add("SOCKET_GETSOCKOPT_E", tid)
            cap.add("SOCKET_GETSOCKOPT_X", tid, res=0, fd=fd, level=1, optname=4,
                    val=b"\x00" + struct.pack("<q", r.choice([0, -111])), optlen=8)
        elif k == 18:
            cap.add("SYSCALL_MMAP_E", tid, addr=0, length=4096, prot=3, flags=2, fd=fd, offset=0)
            cap.add("SYSCALL_MMAP_X", tid, res=0x7000, vm_size=r.randrange(9999), vm_rss=5,
                    vm_swap=0)
        elif k == 19:
            cap.add("SCHEDSWITCH_6_E", tid, next=r.choice(tids), pgft_maj=1, pgft_min=2,
                    vm_size=3, vm_rss=4, vm_swap=5)
        elif k == 20:
            child = r.choice([400, 401, 777, 101])
            clone(cap, "SYSCALL_CLONE_20_X", tid, child, child if r.random() < .5 else 100, tid,
                  r.choice([0, THREAD_FLAGS]), side=r.choice(["both", "parent", "child"]))
            tids.append(child)
        else:
            which = r.randrange(3)
            if which == 0:
                cap.add("PROCEXIT_1_E", tid, status=0, ret=0, sig=0, core=0)
            elif which == 1:
                cap.add("SYSCALL_CHDIR_E", tid)
                cap.add("SYSCALL_CHDIR_X", tid, res=0, path=r.choice(["/var", "sub", ".."]))
            else:
                cap.add("SYSCALL_EXECVE_19_E", tid, filename="/usr/bin/curl")
                cap.add("SYSCALL_EXECVE_19_X", tid, res=0, exe="/usr/bin/curl", args="x\0",
                        tid=tid, pid=tid, ptid=1, cwd="", fdlimit=1024, pgft_maj=0,
                        pgft_min=0, vm_size=1, vm_rss=1, vm_swap=0, comm="curl",
                        cgroups="cpu=/\0", env="A=1\0", tty=0, pgid=tid, loginuid=1000,
                        flags=0)
    return write_capture(path, snap, cap)


# -- process churn -------------------------------------------------------------------------

CHURN_SEEDS = [0, 1, 7]
_CLONES = ["SYSCALL_CLONE_20_X", "SYSCALL_CLONE_20_X", "SYSCALL_FORK_20_X", "SYSCALL_VFORK_20_X",
           "SYSCALL_CLONE3_X", "SYSCALL_CLONE_16_X", "SYSCALL_CLONE_11_X", "SYSCALL_FORK_X"]
_EXECS = ["SYSCALL_EXECVE_19_X", "SYSCALL_EXECVE_19_X", "SYSCALL_EXECVE_16_X",
          "SYSCALL_EXECVE_8_X"]


def _add(cap: Capture, symbol: str, _tid: int, **values: Any) -> None:
    """Add an event with the values its declaration has (the others are dropped)."""
    code = {e.symbol: e.code for e in EVENTS}[symbol]
    info = sysdig_029_event_info(code) or EVENTS[code]
    names = {p.name for p in info.params}
    cap.add(symbol, _tid, **{k: v for k, v in values.items() if k in names})


def churn_capture(path: Path, seed: int) -> Path:
    """Processes and threads made, changed and gone at a high rate (every clone layout,
    thread and process clones with and without shared fds, execve with and without its
    enter event, exits of threads and of processes with threads, tids reused, events of
    threads already gone), between file, UDP and tracer activity and the events only the
    Python engine handles (chdir)."""
    r = random.Random(seed)
    procs = [proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
             proc(100, comm="bash", cwd="/home/alice", uid=1000, gid=1000),
             proc(101, pid=100, comm="bash", cwd="", flags=THREAD_FLAGS),
             proc(102, pid=100, comm="bash", cwd="", flags=CL_FILES),
             proc(300, comm="named", cwd="/var", uid=0, gid=0)]
    A = ip_address
    fds = {100: [S.FdInfo(fd=3, ino=1, type=FdType.IPV4_SERVSOCK, sip=A("0.0.0.0"), sport=53,
                          l4proto=3),
                 S.FdInfo(fd=4, ino=2, type=FdType.FILE_V2, name="/home/alice/log",
                          open_flags=1)],
           300: [S.FdInfo(fd=5, ino=3, type=FdType.IPV4_SOCK, sip=A("10.0.0.5"), sport=5353,
                          dip=A("10.0.0.9"), dport=53, l4proto=3)]}
    snap = snapshot(procs, fds)
    cap = Capture()
    pid_of = {1: 1, 100: 100, 101: 100, 102: 100, 300: 300}
    pool = list(range(400, 412))
    comms = ["curl", "sh", "python3", "ls", "<NA>", "a-rather-long-command-name"]
    for _ in range(900):
        live = sorted(pid_of) or [1, 100]
        tid = r.choice(live) if r.random() < 0.9 else r.choice(pool[:2] + [777, 778])
        k = r.randrange(12)
        if k in (0, 1):
            free = [t for t in pool if t not in pid_of]  # (else a tid collision)
            child = r.choice(free) if free and r.random() < 0.85 else r.choice(pool)
            flags = r.choice([0, 0, THREAD_FLAGS, CL_FILES, CL_THREAD, CL_THREAD | CL_FILES])
            symbol = r.choice(_CLONES)
            side = r.choices(["both", "parent", "child"], [8, 1, 1])[0]
            pid = pid_of.get(tid, tid) if flags & CL_THREAD else child
            comm = r.choice(comms)
            common = dict(exe="/bin/" + comm, args="-x\0y", cwd="", fdlimit=r.choice([1024, 7]),
                          comm=comm, flags=flags, uid=r.choice([1000, 0xFFFFFFFF]), gid=1000,
                          pgft_maj=1, pgft_min=2, vm_size=3, vm_rss=4, vm_swap=5,
                          cgroups="cpu=/a\0")
            res = child if r.random() < 0.95 else -11
            if side in ("both", "parent"):
                _add(cap, symbol.replace("_X", "_E"), tid)
                _add(cap, symbol, tid, res=res, tid=tid, pid=pid_of.get(tid, tid),
                     ptid=1, vtid=tid if r.random() < 0.95 else tid + 1000,
                     vpid=pid_of.get(tid, tid), **common)
            if side in ("both", "child") and res > 0:
                _add(cap, symbol, child, res=0, tid=child, pid=pid, ptid=tid, vtid=child,
                     vpid=pid, **common)
            if res > 0:
                pid_of[child] = pid
        elif k == 2:
            comm = r.choice(comms)
            symbol = r.choice(_EXECS)
            if symbol != "SYSCALL_EXECVE_16_X" or r.random() < 0.5:
                _add(cap, symbol.replace("_X", "_E"), tid,
                     filename=r.choice(["/usr/bin/" + comm, "rel/" + comm, "<NA>"]))
            pid = pid_of.get(tid, tid) if r.random() < 0.9 else tid + 1
            _add(cap, symbol, tid, res=r.choice([0, 0, 0, -2]), exe="/usr/bin/" + comm,
                 args="a\0b", tid=tid, pid=pid, ptid=1, cwd="", fdlimit=r.choice([64, 4096]),
                 pgft_maj=7, pgft_min=8, vm_size=9, vm_rss=10, vm_swap=11, comm=comm,
                 env="A=1\0B=2", cgroups="cpu=/b\0", tty=0, pgid=tid, loginuid=1000, flags=0)
        elif k == 3:
            _add(cap, "PROCEXIT_1_E", tid, status=0, ret=0, sig=0, core=0)
            if r.random() < 0.8:
                pid_of.pop(tid, None)
        elif k in (4, 5):
            fd = r.choice([5, 6, 7])
            cap.add("SYSCALL_OPEN_E", tid, name="f", flags=1, mode=0)
            cap.add("SYSCALL_OPEN_X", tid, fd=fd, name=r.choice(["f", "/etc/x", "/dev/null"]),
                    flags=1, mode=0, dev=0)
            cap.add("SYSCALL_READ_E", tid, fd=fd, size=3)
            cap.add("SYSCALL_READ_X", tid, res=3, data=b"abc")
            if r.random() < 0.5:
                cap.add("SYSCALL_CLOSE_E", tid, fd=fd)
                cap.add("SYSCALL_CLOSE_X", tid, res=0)
        elif k == 6:
            fd = r.choice([8, 9])
            cap.add("SOCKET_SOCKET_E", tid, domain=2, type=2, proto=0)
            cap.add("SOCKET_SOCKET_X", tid, fd=fd)
            if r.random() < 0.4:
                cap.add("SOCKET_BIND_E", tid, fd=fd)
                cap.add("SOCKET_BIND_X", tid, res=0, addr=sockaddr("0.0.0.0",
                                                                 r.choice([53, 6000])))
            peer = (r.choice(["10.0.0.9", "8.8.8.8"]), r.choice([53, 5353, 6000]))
            if r.random() < 0.5:
                t = socktuple("10.0.0.5", r.choice([53, 5353, 40000]), *peer)
                cap.add("SOCKET_SENDTO_E", tid, fd=fd, size=3, tuple=t)
                cap.add("SOCKET_SENDTO_X", tid, res=3, data=b"q")
            else:
                cap.add("SOCKET_RECVFROM_E", tid, fd=fd, size=3)
                cap.add("SOCKET_RECVFROM_X", tid, res=3, data=b"a",
                        tuple=socktuple(*peer, "10.0.0.5", r.choice([53, 40000])))
        elif k == 7:
            cap.add("SYSCALL_CHDIR_E", tid)
            cap.add("SYSCALL_CHDIR_X", tid, res=0, path=r.choice(["/tmp", "sub", ".."]))
        elif k == 8:
            fd = 10
            cap.add("SYSCALL_OPEN_E", tid, name="/dev/null", flags=1, mode=0)
            cap.add("SYSCALL_OPEN_X", tid, fd=fd, name="/dev/null", flags=1, mode=0, dev=0)
            for _ in range(r.randint(1, 3)):
                data = r.choice([b">:t:job::", b"<:t:job::", b">:p:a.b:x=1::", b"junk", b">:1"])
                cap.add("SYSCALL_WRITE_E", tid, fd=fd, size=len(data))
                cap.add("SYSCALL_WRITE_X", tid, res=len(data), data=data)
        elif k == 9:
            cap.add("SCHEDSWITCH_6_E", tid, next=r.choice(live), pgft_maj=1, pgft_min=2,
                    vm_size=3, vm_rss=4, vm_swap=5)
        elif k == 10:
            cap.add("SYSCALL_MMAP_E", tid, addr=0, length=4096, prot=3, flags=2, fd=-1, offset=0)
            cap.add("SYSCALL_MMAP_X", tid, res=0x7000, vm_size=r.randrange(9999), vm_rss=5,
                    vm_swap=0)
        else:
            cap.add("SYSCALL_GETRLIMIT_E", tid, resource=7)
            cap.add("SYSCALL_GETRLIMIT_X", tid, res=0, cur=r.choice([64, 256]), max=4096)
    return write_capture(path, snap, cap)


CHURN_RUNS = [
    {},
    {"options": RenderOptions(max_len=80, json=True), "debug": True},
    {"filter_text": "evt.type in (clone, execve, procexit, open) or proc.name = curl"},
    {"filter_text": "proc.name startswith py and evt.dir = <", "count": 150},
    {"engine_options": {"limits": Limits(max_threads=9, max_fds_per_thread=4,
                                         max_fds_total=20)}},
    {"engine_options": {"reparent": True}},
    {"engine_options": {"sysdig_compat": False}},
]


@pytest.mark.parametrize("seed", CHURN_SEEDS + [3, 4])
def test_process_churn(tmp_path: Path, seed: int) -> None:
    path = churn_capture(tmp_path / f"churn{seed}.scap", seed)
    for kw in CHURN_RUNS:
        same(path, **({"options": RenderOptions(max_len=80)} | kw))


def test_short_windows_and_output_pauses(tmp_path: Path) -> None:
    """The C engine gets its input in small pieces (it has the reader extend its window
    over a block it cut), hands its output over often (the reader then hands it the next
    event itself), and starts its caches over often: the same lines and state."""
    path = churn_capture(tmp_path / "churn.scap", 5)
    real_init = fastread.FastListing.__init__

    def small_output(self: Any, *a: Any, **kw: Any) -> None:
        real_init(self, *a, **kw)
        self.e.out_limit = 300

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reader_mod, "CHUNK", 777)
        mp.setattr(fastread.FastListing, "__init__", small_output)
        mp.setattr(fastread, "_MAX_TABLES", 6)
        for kw in ({}, {"count": 500}, {"filter_text": "evt.type=clone"}):
            same(path, options=RenderOptions(max_len=80), **kw)
            same(CAPTURES[0], options=RenderOptions(max_len=80, json=True), **kw)


def test_lookups_wait_for_python_to_catch_up(tmp_path: Path) -> None:
    """A thread removed here is still in Python's table until it applies the change log:
    a lookup that would see it makes the C engine stop (FR_SYNC) and read the event
    again once Python has caught up."""
    procs = [proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
             proc(100, comm="bash", cwd="/home/alice"),
             proc(102, pid=100, comm="bash", cwd="", flags=CL_FILES)]
    cap = Capture()
    cap.add("SYSCALL_OPEN_E", 102, name="a", flags=1, mode=0)
    cap.add("SYSCALL_OPEN_X", 102, fd=5, name="a", flags=1, mode=0, dev=0)
    cap.add("PROCEXIT_1_E", 100, status=0, ret=0, sig=0, core=0)  # (102 is not counted)
    cap.add("SYSCALL_READ_E", 1, fd=0, size=1)
    cap.add("SYSCALL_OPEN_E", 102, name="b", flags=1, mode=0)  # its main thread is gone
    cap.add("SYSCALL_OPEN_X", 102, fd=6, name="b", flags=1, mode=0, dev=0)
    cap.add("SYSCALL_READ_E", 100, fd=0, size=1)  # a placeholder for the tid gone
    path = write_capture(tmp_path / "sync.scap", snapshot(procs), cap)
    same(path, options=RenderOptions(max_len=80))
    processed, counters = _python_events(path)
    assert counters["syncs"] >= 1 and not processed


def test_threads_made_and_gone_in_one_batch_never_reach_python(tmp_path: Path) -> None:
    """A thread cloned, exec'd and exited between two write-backs is dropped from the
    change log: Python neither makes nor removes it (its parent's thread count and the
    fd budget come out as if it had)."""
    procs = [proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
             proc(100, comm="bash", cwd="/home/alice")]
    cap = Capture()
    for child in (400, 401, 400):
        clone(cap, "SYSCALL_CLONE_20_X", 100, child, 100, 1, 0, comm="bash")
        cap.add("SYSCALL_EXECVE_19_E", child, filename="/usr/bin/curl")
        cap.add("SYSCALL_EXECVE_19_X", child, res=0, exe="/usr/bin/curl", args="x", tid=child,
                pid=child, ptid=100, cwd="", fdlimit=64, pgft_maj=0, pgft_min=0, vm_size=1,
                vm_rss=1, vm_swap=0, comm="curl", cgroups="", env="", tty=0, pgid=child,
                loginuid=1000, flags=0)
        clone(cap, "SYSCALL_CLONE_20_X", child, child + 50, child, 100, THREAD_FLAGS,
              comm="curl")
        cap.add("SYSCALL_OPEN_E", child + 50, name="/etc/hosts", flags=1, mode=0)
        cap.add("SYSCALL_OPEN_X", child + 50, fd=3, name="/etc/hosts", flags=1, mode=0, dev=0)
        cap.add("PROCEXIT_1_E", child + 50, status=0, ret=0, sig=0, core=0)
        cap.add("PROCEXIT_1_E", child, status=0, ret=0, sig=0, core=0)
    cap.add("SYSCALL_READ_E", 100, fd=0, size=1)
    path = write_capture(tmp_path / "batch.scap", snapshot(procs), cap)
    same(path, options=RenderOptions(max_len=80))
    applied: list[int] = []
    real = fastread.FastListing._run_handlers

    def spy(self: Any, ev: Any, thread: Any, enter: Any) -> None:
        applied.append(ev.tid)
        real(self, ev, thread, enter)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fastread.FastListing, "_run_handlers", spy)
        processed, counters = _python_events(path)
    assert not processed and counters["thread_ops"] >= 12
    assert applied == []  # (no clone or execve handler ran in Python)


def test_tracer_writes_stay_with_python(tmp_path: Path) -> None:
    """Writes to /dev/null that may be tracers go to the Python engine (and the ones
    after them on the same thread)."""
    path = churn_capture(tmp_path / "churn.scap", 9)
    processed, _ = _python_events(path)
    assert any(EVENTS[ev.type].name == "write" for ev in processed)
    same(path, options=RenderOptions(max_len=80))


# -- startup: filters without the field registry, cached tables ---------------------------

LIGHT_FILTERS = FILTERS + ["evt.type = nosuchevent", "proc.pid > abc", "evt.num in (1, x)",
                           "thread.tid", "evt.dir = < and", "evt.cpu contains 1",
                           "proc.name glob x", "evt.type != open and evt.cpu in (0, 1, 2)"]


def test_light_fields_are_the_registry_s() -> None:
    """What compile_light resolves is what the registry would: same types, checks and
    (once loaded) extractors."""
    from scapkit.inspect.fastfilter import LIGHT_FIELDS, _LightResolver, registry_extractor
    from scapkit.inspect.filter.compiler import FieldsResolver

    full, light = FieldsResolver(), _LightResolver()
    for name in LIGHT_FIELDS:
        a, b = full.lookup(name, None, 0), light.lookup(name, None, 0)
        assert (a.name, a.type, a.multi, a.validate, a.ops, a.predicate) == \
            (b.name, b.type, b.multi, b.validate, b.ops, b.predicate), name
        assert registry_extractor(name) is a.extract


@pytest.mark.parametrize("text", LIGHT_FILTERS)
def test_light_compile_is_the_registry_compile(captures: list[Path], text: str) -> None:
    """Same errors, and the same events kept, as compiling over the registry."""
    from scapkit.inspect.fastfilter import compile_light
    from scapkit.inspect.filter.compiler import FieldsResolver, compile_filter
    from scapkit.inspect.filter.errors import FilterError

    def outcome(compile_: Any) -> Any:
        try:
            return compile_()
        except FilterError as exc:
            return f"{type(exc).__name__}: {exc.render()}"

    light = outcome(lambda: compile_light(text))
    full = outcome(lambda: compile_filter(text, FieldsResolver()))
    if isinstance(full, str) or light is None:
        assert light is None or light == full
        return
    for path in captures[:4]:
        for accept in (light, full):
            reader = CaptureReader(path)
            engine = StateEngine(reader)
            with reader:
                kept = [ev.num for ev in reader.events()
                        if not engine.process(ev, accept).filtered_out]
            if accept is light:
                first = kept
        assert kept == first, (text, path.name)


def test_a_plain_read_does_not_load_the_field_registry(tmp_path: Path) -> None:
    """``scap read FILE [simple filter]`` never imports the field registry (it costs more
    than the rest of the startup), nor construct, zstandard or the socket module."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from scapkit.inspect.listing import Listing\n"
            "from scapkit.scapfile.reader import CaptureReader\n"
            "for text in ('', 'evt.type=connect or proc.name=curl'):\n"
            "    r = CaptureReader(sys.argv[1])\n"
            "    with r:\n"
            "        n = sum(1 for _ in Listing(filter_text=text).lines(r))\n"
            "    assert n > 0\n"
            "assert 'scapkit.inspect.fields' not in sys.modules, 'registry loaded'\n"
            "for name in ('construct', 'zstandard', 'socket', 'hashlib'):\n"
            "    assert name not in sys.modules, name + ' loaded'\n")
    for attempt in range(2):  # (the first may build the C tables: that loads it)
        p = subprocess.run([sys.executable, "-c", code, str(CAPTURES[0])],
                           capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]


def test_spans_are_not_tracked_for_light_sessions() -> None:
    from scapkit.inspect.fields_span import session_tracks_spans
    from scapkit.inspect.format import DEFAULT_FORMAT, EventFormat

    fmt = EventFormat(DEFAULT_FORMAT)
    for text in [""] + FILTERS:
        listing = Listing(filter_text=text)
        assert listing.track_spans is session_tracks_spans(fmt, text) is False


def test_tables_come_from_the_cache(tmp_path: Path) -> None:
    """The C tables are built once per version of the sources and read back after: the
    same arrays; a damaged cache file is built again."""
    from scapkit.inspect import fasttables

    ffi = fastread._EXT.module().ffi
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCAPKIT_CACHE_DIR", str(tmp_path))
        tmp_path.chmod(0o700)
        built = fasttables.build(ffi, True)
        files = list(tmp_path.glob("fasttables-*.bin"))
        assert len(files) == 1
        made: list[bool] = []
        real = fasttables.CTables.__init__
        mp.setattr(fasttables.CTables, "__init__",
                   lambda self, *a: made.append(True) or real(self, *a))
        loaded = fasttables.build(ffi, True)
        assert not made and loaded.saved == built.saved and loaded.scalars == built.scalars
        files[0].write_bytes(files[0].read_bytes()[:1000])
        rebuilt = fasttables.build(ffi, True)
        assert made and rebuilt.saved == built.saved
        assert fasttables.build(ffi, False).saved != built.saved  # (its own cache file)


def test_mapped_files(captures: list[Path], tmp_path: Path) -> None:
    """Uncompressed files are read in place (mapped), in windows: the same lines, state
    and damage, on every capture, on damaged and truncated ones, with the output handed
    over often."""
    real_init = fastread.FastListing.__init__
    maps: list[bool] = []

    def small_output(self: Any, *a: Any, **kw: Any) -> None:
        real_init(self, *a, **kw)
        self.e.out_limit = 500

    real_open = fastread.FastListing._open_map

    def spy(self: Any) -> None:
        real_open(self)
        maps.append(self._map is not None)

    from scapkit.scapfile.convert import convert

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fastread, "_MAP_MIN", 0)
        mp.setattr(fastread, "_MAP_WINDOW", 4096)
        mp.setattr(fastread.FastListing, "__init__", small_output)
        mp.setattr(fastread.FastListing, "_open_map", spy)
        for path in captures:
            plain = tmp_path / "plain.scap"
            convert(path, plain, "none")
            same(plain, options=RenderOptions(max_len=80))
            same(plain, options=RenderOptions(max_len=80, json=True), filter_text="evt.dir=<",
                 count=300)
        for path in _damaged(tmp_path, CAPTURES[0]):
            same(path, options=RenderOptions(max_len=80))
    assert maps and all(maps)


_SHRINK_SCRIPT = """
import json, os, sys
from scapkit.inspect import fastread
from scapkit.inspect.listing import Listing
from scapkit.inspect.render import RenderOptions
from scapkit.scapfile.reader import CaptureReader

path, cut = sys.argv[1], int(sys.argv[2])
fastread._MAP_MIN, fastread._MAP_WINDOW = 0, 4096
real_hook = fastread.FastListing._hook_map
calls, gone = [], []

def spy(self, num):
    if not calls:  # (mapped by now; cut as another process could, while it is read)
        os.truncate(path, cut)
    calls.append(True)
    size = self._map_size
    out = real_hook(self, num)
    gone.append(self._map_size < size)
    return out
fastread.FastListing._hook_map = spy

reader = CaptureReader(path)
with reader:
    text = "\\n".join(Listing(options=RenderOptions(max_len=80)).lines(reader))
print(json.dumps({"lines": text.split("\\n"), "damage": [str(d) for d in reader.damage],
                  "mapped": bool(calls), "gone": any(gone)}))
"""


def test_a_mapped_file_cut_short_while_read(tmp_path: Path) -> None:
    """A file truncated by another process while it is read in place (mapped) ends like a
    file that was short from the start: every event before the cut, then the reader's
    truncation message; no SIGBUS (run in a child: a crash must not take pytest down)."""
    import json
    import subprocess
    import sys

    from scapkit.scapfile.convert import convert

    plain = tmp_path / "plain.scap"
    convert(CAPTURES[0], plain, "none")
    raw = plain.read_bytes()
    # The cut: a page end inside a block, well past what is read ahead (so that the
    # rest of that block faults).
    pos = cut = 0
    while pos < len(raw):
        end = pos + struct.unpack_from("<I", raw, pos + 4)[0]
        if pos > len(raw) // 2 and pos // 4096 != (end - 1) // 4096:
            cut = (end - 1) // 4096 * 4096
            break
        pos = end
    assert cut
    short = _write(tmp_path / "short.scap", raw[:cut])
    want_lines, _, want_damage = run(short, fast=True, options=RenderOptions(max_len=80))
    assert want_damage, "the short file should read as truncated"

    victim = _write(tmp_path / "victim.scap", raw)
    p = subprocess.run([sys.executable, "-c", _SHRINK_SCRIPT, str(victim), str(cut)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"status {p.returncode}: {p.stderr[-2000:]}"
    got = json.loads(p.stdout)
    assert got["mapped"] and got["gone"], "the cut was not met inside the map"
    assert got["lines"] == want_lines and len(want_lines) > 100
    assert got["damage"] == want_damage
