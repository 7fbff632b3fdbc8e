"""The live snapshot (scapkit.scapfile.procfs): what it finds on this machine, on a known
child process holding every kind of fd, on a damaged /proc, and what sysdig 0.29.3 reads
back from a file holding it."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support import run_sysdig
from test_state import Capture, write_capture
from scapkit.scapfile import procfs
from scapkit.scapfile.blocks import FdType
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.snapshot import Snapshot

# A child holding one fd of each kind, then waiting for stdin to close.
_CHILD = textwrap.dedent(r"""
    import ctypes, os, select, signal, socket, sys, threading, time
    libc = ctypes.CDLL(None, use_errno=True)
    os.chdir(sys.argv[1])
    fds = {}
    fds["file"] = os.open(sys.argv[2], os.O_RDWR | os.O_APPEND)
    fds["dir"] = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
    r, w = os.pipe()
    fds["pipe_r"], fds["pipe_w"] = r, w
    s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s4.bind(("127.0.0.1", 0)); s4.listen()
    fds["tcp4_listen"] = s4.fileno()
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s6.bind(("::1", 0)); s6.listen()
    fds["tcp6_listen"] = s6.fileno()
    c4 = socket.create_connection(s4.getsockname()); a4, _ = s4.accept()
    fds["tcp4_client"], fds["tcp4_server"] = c4.fileno(), a4.fileno()
    u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u4.connect(("127.0.0.1", 9))
    fds["udp4"] = u4.fileno()
    ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); ux.bind(sys.argv[3]); ux.listen()
    fds["unix_listen"] = ux.fileno()
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); nl.bind((0, 0))
    fds["netlink"] = nl.fileno()
    fds["eventfd"] = os.eventfd(0)
    ep = select.epoll(); fds["epoll"] = ep.fileno()
    fds["inotify"] = libc.inotify_init1(0)
    fds["timerfd"] = libc.timerfd_create(1, 0)
    mask = (ctypes.c_ulong * 16)(); mask[0] = 1 << (signal.SIGUSR1 - 1)
    fds["signalfd"] = libc.signalfd(-1, ctypes.byref(mask), 0)
    fds["memfd"] = os.memfd_create("scratch")
    ev = threading.Event()
    t = threading.Thread(target=ev.wait, daemon=True); t.start()
    print(" ".join(f"{k}={v}" for k, v in fds.items()), threading.get_native_id(),
          t.native_id, flush=True)
    sys.stdin.read()
""")


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory):
    """The running child, its fd numbers, its thread id, its paths."""
    d = tmp_path_factory.mktemp("procfs")
    data = d / "data.txt"
    data.write_text("hello\n")
    sock = d / "s.sock"
    env = dict(os.environ, SCAPKIT_PROBE="yes")
    p = subprocess.Popen([sys.executable, "-c", _CHILD, str(d), str(data), str(sock)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout is not None and p.stdin is not None
    line = p.stdout.readline().split()
    fds = {k: int(v) for k, v in (x.split("=") for x in line[:-2])}
    info = dict(pid=p.pid, fds=fds, main_tid=int(line[-2]), thread=int(line[-1]), dir=d,
                data=data, sock=sock)
    try:
        yield info
    finally:
        p.stdin.close()
        p.wait(timeout=30)


@pytest.fixture(scope="module")
def snap(child) -> Snapshot:  # type: ignore[no-untyped-def]
    return procfs.take_snapshot()


def test_machine_info_is_this_machine(snap: Snapshot) -> None:
    m = snap.machine
    assert m is not None
    assert m.hostname == socket.gethostname()
    assert m.num_cpus == os.sysconf("SC_NPROCESSORS_ONLN")
    assert m.memory_size_bytes == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGESIZE")
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    import time
    assert abs(m.boot_ts_epoch / 1e9 - (time.time() - uptime)) < 5


def test_the_child_process(snap: Snapshot, child) -> None:  # type: ignore[no-untyped-def]
    p = snap.processes[child["pid"]]
    assert p.pid == p.tid == child["pid"] and p.ptid == os.getpid()
    assert p.comm == Path(sys.executable).name[:15]
    assert p.exe == sys.executable and p.exepath == os.path.realpath(sys.executable)
    assert p.args[0] == "-c" and p.args[2:] == [str(child["dir"]), str(child["data"]),
                                                str(child["sock"])]
    assert p.cwd == str(child["dir"])
    assert "SCAPKIT_PROBE=yes" in p.env
    assert (p.uid, p.gid) == (os.geteuid(), os.getegid())
    assert p.vtid == p.tid and p.vpid == p.pid  # not in a pid namespace
    assert p.sid == os.getsid(0) and p.vpgid == os.getpgid(0) == p.pgid
    assert p.fdlimit == __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[0]
    assert p.flags == 0 and p.root == "/"
    assert p.vmrss_kb > 0 and p.vmsize_kb >= p.vmrss_kb and p.pfminor > 0
    assert p.cgroups and all("=" in c for c in p.cgroups)
    assert p.exe_ino == os.stat(sys.executable).st_ino
    st = Path(f"/proc/{p.pid}/status").read_text()
    assert f"{p.cap_effective:016x}" in st


def test_threads_share_the_process(snap: Snapshot, child) -> None:  # type: ignore[no-untyped-def]
    t = snap.processes[child["thread"]]
    assert t.pid == child["pid"] and t.tid == child["thread"]
    assert t.flags == procfs.PPM_CL_CLONE_THREAD | procfs.PPM_CL_CLONE_FILES
    assert t.comm and t.exe == sys.executable
    assert child["thread"] not in snap.fds  # fds are listed on the main thread only


def test_every_fd_kind_named_as_libscap_names_it(snap: Snapshot, child) -> None:  # type: ignore[no-untyped-def]
    fds = snap.fds[child["pid"]]
    n = child["fds"]

    def fd(kind: str):  # type: ignore[no-untyped-def]
        return fds[n[kind]]

    f = fd("file")
    assert (f.type, f.name, f.ino) == (FdType.FILE_V2, str(child["data"]),
                                       child["data"].stat().st_ino)
    assert f.open_flags == 3 | 8 | 0x1000 or f.open_flags == 3 | 8  # RDWR|APPEND(|CLOEXEC)
    assert f.dev == os.stat(child["data"]).st_dev & 0xFFFFFFFF
    assert (fd("dir").type, fd("dir").name) == (FdType.DIRECTORY, str(child["dir"]))
    r, w = fd("pipe_r"), fd("pipe_w")
    assert r.type == w.type == FdType.FIFO and r.name == w.name == f"pipe:[{r.ino}]"
    lst = fd("tcp4_listen")
    assert (lst.type, str(lst.sip), lst.l4proto) == (FdType.IPV4_SERVSOCK, "127.0.0.1", 2)
    l6 = fd("tcp6_listen")
    assert (l6.type, str(l6.sip), l6.sport, l6.l4proto) == (FdType.IPV6_SERVSOCK, "::1",
                                                            l6.sport, 2)
    c, s = fd("tcp4_client"), fd("tcp4_server")
    assert c.type == s.type == FdType.IPV4_SOCK
    assert c.dport == s.sport == lst.sport and c.sport == s.dport
    assert str(c.sip) == str(c.dip) == "127.0.0.1"
    u = fd("udp4")
    assert (u.type, str(u.dip), u.dport, u.l4proto) == (FdType.IPV4_SOCK, "127.0.0.1", 9, 3)
    ux = fd("unix_listen")
    assert (ux.type, ux.name) == (FdType.UNIX_SOCK, str(child["sock"]))
    assert fd("netlink").type == FdType.NETLINK
    for kind, t in (("eventfd", FdType.EVENT), ("epoll", FdType.EVENTPOLL),
                    ("inotify", FdType.INOTIFY), ("timerfd", FdType.TIMERFD),
                    ("signalfd", FdType.SIGNALFD)):
        assert (fd(kind).type, fd(kind).name) == (t, ""), kind
    m = fd("memfd")
    assert m.type == FdType.FILE_V2 and m.name == "/memfd:scratch (deleted)"
    assert all(t <= FdType.FILE_V2 for t in (x.type for x in fds.values()))  # sysdig 0.29.3


def test_interfaces_users_groups(snap: Snapshot) -> None:
    lo = [i for i in snap.interfaces if i.name == "lo" and i.addr.version == 4]
    assert lo and str(lo[0].addr) == "127.0.0.1" and str(lo[0].netmask) == "255.0.0.0"
    versions = [i.addr.version for i in snap.interfaces]
    assert versions == sorted(versions)  # IPv4 entries first, as libscap writes them
    assert snap.users[0].name == "root" and snap.users[0].homedir == "/root"
    assert snap.groups[0].name == "root"


def test_users_and_groups_files(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken line\n"
        "alice:x:1000:100:Alice,,,:/home/alice:/bin/zsh\nbad:x:notanumber:1::/:/bin/sh\n"
        "alice2:x:1000:100::/home/other:/bin/sh\n")
    (tmp_path / "group").write_text("root:x:0:\nusers:x:100:alice,bob\n:x:\n")
    u = procfs.users(str(tmp_path))
    assert sorted(u) == [0, 1000]
    assert (u[1000].name, u[1000].gid, u[1000].homedir, u[1000].shell) == \
        ("alice", 100, "/home/alice", "/bin/zsh")
    g = procfs.groups(str(tmp_path))
    assert {k: v.name for k, v in g.items()} == {0: "root", 100: "users"}
    assert procfs.users(str(tmp_path / "missing")) == {}


def test_open_flags_mapping() -> None:
    assert procfs.open_flags_to_ppm(os.O_RDONLY) == 1
    assert procfs.open_flags_to_ppm(os.O_WRONLY | os.O_CREAT | os.O_TRUNC) == 2 | 4 | 0x100
    assert procfs.open_flags_to_ppm(os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK) == 3 | 0x1000 | 0x40
    assert procfs.open_flags_to_ppm(0o100000) == 1  # O_LARGEFILE is not reported


def _fake_proc(root: Path) -> Path:
    """A /proc with a sound process, one gone mid-scan, one with garbage, a kernel thread."""
    proc = root / "proc"

    def entry(pid: int, **files: str | bytes) -> Path:
        d = proc / str(pid)
        (d / "task").mkdir(parents=True)
        (d / "fd").mkdir()
        for name, content in files.items():
            data = content if isinstance(content, bytes) else content.encode()
            (d / name).write_bytes(data)
        return d

    status = ("Name:\tgood\nTgid:\t{pid}\nPPid:\t1\nUid:\t0\t5\t0\t0\nGid:\t0\t6\t0\t0\n"
              "NStgid:\t{pid}\t1\nNSpid:\t{pid}\t1\nNSpgid:\t{pid}\t1\nVmSize:\t 100 kB\n")
    stat = "{pid} (go od) S 1 {pid} {pid} 0 -1 0 11 0 22 0\n"
    good = entry(10, cmdline=b"/bin/good\0-x\0", comm="good\n", status=status.format(pid=10),
                 stat=stat.format(pid=10), environ=b"A=1\0B=2\0", loginuid="1000",
                 cgroup="0::/user.slice\n5:cpu,cpuacct:/grp\n3::/ignored\n")
    os.symlink("/home", good / "cwd")
    os.symlink("/", good / "root")
    os.symlink("/bin/true", good / "exe")
    (good / "task" / "10").mkdir()
    entry(11, cmdline=b"/bin/gone\0")  # no status: the process ended mid-scan
    entry(12, cmdline=b"x\0", status="garbage\n", stat="no parenthesis\n")
    entry(13, cmdline=b"", status=status.format(pid=13), stat=stat.format(pid=13))  # kthread
    (proc / "self").mkdir()
    (proc / "filesystems").write_text("nodev\tcgroup\nnodev\tcgroup2\n")
    return proc


def test_damaged_or_vanishing_entries_are_skipped(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path)
    got = list(procfs.scan_processes(str(proc)))
    assert [p.tid for p, _ in got] == [10]
    p, fds = got[0]
    assert (p.comm, p.exe, p.args, p.cwd, p.env, p.exepath) == \
        ("good", "/bin/good", ["-x"], "/home", ["A=1", "B=2"], "/bin/true")
    assert (p.uid, p.gid, p.vpid, p.vtid, p.vpgid, p.sid, p.pfminor, p.pfmajor) == \
        (5, 6, 1, 1, 1, 10, 11, 22)
    assert p.loginuid == 1000 and p.vmsize_kb == 100 and fds == []
    assert p.cgroups == ["cpu=/user.slice", "memory=/user.slice", "cpuset=/user.slice",
                         "cpu=/grp", "cpuacct=/grp"]


def test_socket_tables(tmp_path: Path) -> None:
    net = tmp_path / "net"
    net.mkdir()
    hdr = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    (net / "tcp").write_text(
        hdr + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1\n"
        "   1: 0100007F:9C40 0200000A:01BB 01 00000000:00000000 00:00000000 00000000     0        0 112 1\n"
        "   2: garbage\n")
    (net / "tcp6").write_text(
        hdr + "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 113 1\n")
    (net / "unix").write_text("Num       RefCount Protocol Flags    Type St Inode Path\n"
                              "ffff8880aa: 00000002 00000000 00010000 0001 01 114 /run/a b.sock\n"
                              "ffff8880ab: 00000002 00000000 00010000 0001 01 115\n")
    t = procfs.read_socket_tables(str(net) + "/")
    assert t[111] == dict(type=FdType.IPV4_SERVSOCK, sip=ipaddress.ip_address("127.0.0.1"),
                          sport=8080, l4proto=2)
    assert (str(t[112]["dip"]), t[112]["dport"], t[112]["sport"]) == ("10.0.0.2", 443, 40000)
    assert (t[113]["type"], str(t[113]["sip"]), t[113]["sport"]) == \
        (FdType.IPV6_SERVSOCK, "::1", 22)
    assert t[114]["name"] == "/run/a b.sock" and t[114]["source"] == 0xffff8880aa
    assert t[115]["name"] == ""
    assert 2 not in t and len(t) == 5


# -- what readers make of it ------------------------------------------------------------

_FIELDS = "*%thread.tid|%proc.pid|%proc.name|%proc.exe|%proc.exepath|%user.uid|%proc.cwd|" \
    "%proc.ppid|%fd.sport|%fd.num|%fd.type|%fd.name|%proc.args"


def _probe_capture(path: Path, snap: Snapshot, child) -> list[int]:  # type: ignore[no-untyped-def]
    """The snapshot, then a read of every fd of the child and one by its thread."""
    cap = Capture()
    fds = sorted(snap.fds[child["pid"]])
    for fd in fds:
        cap.add("SYSCALL_READ_E", child["pid"], fd=fd, size=1)
    cap.add("SYSCALL_READ_E", child["thread"], fd=child["fds"]["file"], size=1)
    write_capture(path, snap, cap)
    return fds


def test_our_reader_sees_the_child(tmp_path: Path, snap: Snapshot, child) -> None:  # type: ignore[no-untyped-def]
    from scapkit.inspect.format import EventFormat
    from scapkit.inspect.render import RenderOptions
    from scapkit.inspect.state.engine import StateEngine

    path = tmp_path / "probe.scap"
    fds = _probe_capture(path, snap, child)
    reader = CaptureReader(path)
    eng = StateEngine(reader)
    fmt = EventFormat(_FIELDS, RenderOptions())
    rows = [fmt.render(eng.process(ev)).split("|", 12) for ev in reader]
    assert reader.damage == []
    by_fd = {int(r[9]): r for r in rows[:-1]}
    assert sorted(by_fd) == fds
    n = child["fds"]
    exe = sys.executable
    for r in rows:
        assert r[1:5] == [str(child["pid"]), Path(exe).name[:15], exe,
                          os.path.realpath(exe)]
        assert r[6] == str(child["dir"]) + "/" and r[7] == str(os.getpid())
        assert r[12].startswith("-c ") and r[12].endswith(f" {child['data']} {child['sock']}")
    assert by_fd[n["file"]][10:12] == ["file", str(child["data"])]
    assert by_fd[n["tcp4_listen"]][10] == "ipv4"
    assert by_fd[n["unix_listen"]][10:12] == ["unix", str(child["sock"])]
    assert rows[-1][0] == str(child["thread"]) and rows[-1][11] == str(child["data"])


@pytest.mark.sysdig
def test_sysdig_reads_the_same_state(tmp_path: Path, snap: Snapshot, child, sysdig: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "probe.scap"
    _probe_capture(path, snap, child)
    theirs = run_sysdig(sysdig, "-r", str(path), "-p", _FIELDS).decode()
    env = dict(os.environ, TZ="UTC")
    ours = subprocess.run([sys.executable, "-m", "scapkit.cli", "read", str(path), "-p",
                           _FIELDS], capture_output=True, env=env, check=True).stdout.decode()
    assert ours == theirs
    first = theirs.splitlines()[0].split("|", 12)
    assert first[2:5] == [Path(sys.executable).name[:15], sys.executable,
                          os.path.realpath(sys.executable)]
    assert str(child["data"]) in theirs and str(child["sock"]) in theirs


@pytest.mark.sysdig
def test_sysdig_reads_a_whole_machine_snapshot(tmp_path: Path, snap: Snapshot, sysdig: str) -> None:
    """Every thread and fd of this machine: sysdig and scap read see the same state."""
    cap = Capture()
    for tid in snap.processes:
        for fd in sorted(snap.fds.get(snap.processes[tid].pid, {}))[:6] or [0]:
            cap.add("SYSCALL_READ_E", tid, fd=fd, size=1)
    path = write_capture(tmp_path / "all.scap", snap, cap)
    fmt = "*%thread.tid %proc.pid %proc.ppid %proc.name %proc.exe %proc.cwd %user.name " \
        "%group.name %fd.num %fd.type %fd.name"
    theirs = run_sysdig(sysdig, "-r", str(path), "-p", fmt)
    ours = subprocess.run([sys.executable, "-m", "scapkit.cli", "read", str(path), "-p", fmt],
                          capture_output=True, env=dict(os.environ, TZ="UTC"),
                          check=True).stdout
    assert ours == theirs
    assert len(theirs.splitlines()) == len(cap.events)
    fdless = sum(1 for p in snap.processes.values() if not snap.fds.get(p.pid))
    assert theirs.count(b" <NA> <NA>\n") == fdless  # every listed fd has its type and name
