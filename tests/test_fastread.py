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

from support import CAPTURES
from synthetic import synthetic_capture
from test_state import (THREAD_FLAGS, Capture, clone, edge_scenario, files_scenario,
                        net_scenario, proc, sockaddr, snapshot, socktuple, unix_tuple,
                        write_capture)
from scapkit.inspect import fastread
from scapkit.inspect import listing as listing_mod
from scapkit.inspect.listing import Listing
from scapkit.inspect.render import RenderOptions
from scapkit.inspect.state.engine import Limits, StateEngine
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
                                         for s in RANDOM_SEEDS])


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


def test_the_c_engine_does_most_of_the_work(captures: list[Path]) -> None:
    """Not a timing: most events of the real captures never reach the Python engine."""
    for path in CAPTURES:
        reader = CaptureReader(path)
        engine = StateEngine(reader)
        run_ = fastread.FastListing(Listing(), reader, engine)
        processed = []
        real = engine.process
        engine.process = lambda ev, accept=None: processed.append(ev) or real(ev, accept)  # type: ignore[method-assign]
        for _ in run_.lines():
            pass
        assert reader.events_read > 300
        assert len(processed) < reader.events_read // 10, path.name


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
