"""Every syscall family the eBPF probe fills in full: a child makes the real syscalls (raw,
through libc's syscall(2), so each number is the one named), and every parameter must decode
as its declared type and hold the value the call was made with. The capture must also print
the same in sysdig 0.29.3 as in our reader."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from support import run_sysdig
from scapkit.cli.app import app
from scapkit.ebpf.capture import decode_event, record_command
from scapkit.ebpf.driver import unavailable_reason
from scapkit.scapfile.event_table import sysdig_029_event_info
from scapkit.scapfile.params import Dyn
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.syscall_names import SYSCALL_NAMES

pytestmark = pytest.mark.root

CHILD = r'''
import ctypes, os, socket, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(nr, *args):
    return libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a
                                             for a in args])
D = sys.argv[1].encode()
AT = -100

# files
fd = sc(2, D + b"/f1", 0o1101, 0o640)              # open(O_WRONLY|O_CREAT|O_TRUNC)
sc(1, fd, b"hello", 5); sc(3, fd)
fd = sc(85, D + b"/f2", 0o600); sc(3, fd)           # creat
how = struct.pack("QQQ", 0, 0, 0x04)                # open_how: O_RDONLY, RESOLVE_NO_SYMLINKS
fd = sc(437, AT, D + b"/f1", how, 24)               # openat2
buf = ctypes.create_string_buffer(64)
sc(17, fd, buf, 3, 1); sc(3, fd)                    # pread64 of 3 bytes at 1
fd = sc(257, AT, D + b"/f1", 0o2002, 0)            # openat(O_RDWR|O_APPEND)
sc(18, fd, b"XY", 2, 0)                             # pwrite64 at 0
b1 = ctypes.create_string_buffer(b"vec-"); b2 = ctypes.create_string_buffer(b"tor")
iov = struct.pack("QQQQ", ctypes.addressof(b1), 4, ctypes.addressof(b2), 3)
sc(20, fd, iov, 2)                                  # writev
os.lseek(fd, 0, 0)
r1 = ctypes.create_string_buffer(4); r2 = ctypes.create_string_buffer(100)
riov = struct.pack("QQQQ", ctypes.addressof(r1), 4, ctypes.addressof(r2), 100)
sc(19, fd, riov, 2)                                 # readv
sc(83, D + b"/d1", 0o755); sc(258, AT, D + b"/d2", 0o700)
sc(84, D + b"/d1"); sc(263, AT, D + b"/d2", 0x200)  # rmdir, unlinkat(AT_REMOVEDIR)
sc(82, D + b"/f2", D + b"/f3")                      # rename
sc(264, AT, D + b"/f3", AT, D + b"/f4")             # renameat
sc(316, AT, D + b"/f4", AT, D + b"/f5", 1)          # renameat2(RENAME_NOREPLACE)
sc(88, b"f5", D + b"/l1"); sc(266, b"f5", AT, D + b"/l2")
sc(86, D + b"/f5", D + b"/h1"); sc(265, AT, D + b"/f5", AT, D + b"/h2", 0x400)
sc(87, D + b"/h1")                                  # unlink
sc(90, D + b"/f5", 0o644)                           # chmod
fd = sc(2, D + b"/f5", 0, 0); sc(91, fd, 0o600)     # fchmod
sc(268, AT, D + b"/f5", 0o640)                      # fchmodat
sc(92, D + b"/f5", 0, 0)                            # chown: generic
sc(80, D)                                           # chdir
dfd = os.open(D, os.O_RDONLY); sc(81, dfd)          # fchdir
sc(32, fd); sc(33, fd, 50); sc(292, fd, 51, 0o2000000); sc(72, fd, 1030, 60)
fds = (ctypes.c_int * 2)()
sc(22, fds); sc(293, fds, 0o2000000)                # pipe, pipe2(O_CLOEXEC)
sc(319, b"mem", 0)                                  # memfd_create: generic
addr = sc(9, 0, 77824, 3, 0x22, -1, 0)              # mmap(PROT_RW, MAP_PRIVATE|ANONYMOUS)
sc(10, addr + 8192, 12288, 1)                       # mprotect(PROT_READ)

# network
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2.sendto(b"udp-data", u1.getsockname()); u1.recvfrom(100)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(5)
c = socket.socket(); c.connect(srv.getsockname())
conn, _ = srv.accept()
c.sendmsg([b"msg-", b"data"]); conn.recvmsg(100)
c.shutdown(socket.SHUT_WR)
a, b = socket.socketpair()
us = socket.socket(socket.AF_UNIX); us.bind(sys.argv[1] + "/sock"); us.listen(1)
uc = socket.socket(socket.AF_UNIX); uc.connect(sys.argv[1] + "/sock")

# identity
sc(105, 0); sc(106, 0); sc(117, -1, -1, -1); sc(119, 0, 0, 0)
sc(126, 0, 0)                                       # capset: generic

# processes
pid = os.fork()
if pid == 0:
    os._exit(3)
os.waitpid(pid, 0)
pid = os.posix_spawn("/bin/true", ["true", "spawned"], {})
os.waitpid(pid, 0)
pid = os.fork()
if pid == 0:
    sc(59, b"/nonexistent/prog", (ctypes.c_char_p * 3)(b"prog", b"arg1", None),
       (ctypes.c_char_p * 2)(b"K=V", None))
    argv = (ctypes.c_char_p * 3)(b"true", b"via-execveat", None)
    sc(322, AT, b"/bin/true", argv, (ctypes.c_char_p * 1)(None), 0)
    os._exit(9)
os.waitpid(pid, 0)

# the rest
sc(62, os.getpid(), 0)                              # kill(self, 0)
sc(101, 2, 999999, 0, 0)                            # ptrace(PEEKDATA) of no process
sc(165, b"none", D, b"nosuchfs", 1, 0)              # mount(MS_RDONLY): no such fs
sc(166, D + b"/nomount", 2)                         # umount2(MNT_DETACH)
sc(313, -1, b"", 0)                                 # finit_module: generic
sc(321, 0, 0, 0)                                    # bpf(BPF_MAP_CREATE) with no attributes
sc(272, 0)                                          # unshare(0)
sc(308, -1, 0)                                      # setns on no fd
'''


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"eBPF driver unavailable: {reason}")
    work = tmp_path_factory.mktemp("fam")
    path = work / "families.scap"
    devnull = os.open(os.devnull, os.O_RDWR)
    rec = record_command([sys.executable, "-S", "-c", CHILD, str(work)], path, stdin=devnull,
                         stdout=devnull, snaplen=200)
    os.close(devnull)
    assert rec.status == 0, rec
    assert rec.stats.drops == 0
    return path, work, rec.pid


Found = list[dict[str, Any]]


def _all(path: Path) -> dict[tuple[str, str], Found]:
    out: dict[tuple[str, str], Found] = {}
    with CaptureReader(path) as reader:
        for ev in reader:
            info = sysdig_029_event_info(ev.type)
            assert info is not None, ev
            params = decode_event(ev)  # raises when a parameter does not decode
            name = info.name
            if name == "syscall":
                name = SYSCALL_NAMES[params["ID"]] if params["ID"] else f"#{params.get('nativeID')}"
            out.setdefault((name, info.direction), []).append(params)
    return out


@pytest.fixture(scope="module")
def found(capture: tuple[Path, Path, int]) -> dict[tuple[str, str], Found]:
    return _all(capture[0])


def one(found: dict[tuple[str, str], Found], event: str, direction: str, /,
        **want: Any) -> dict:
    """The single event of that name and direction whose parameters include ``want``."""
    matches = [p for p in found.get((event, direction), [])
               if all(p.get(k) == v for k, v in want.items())]
    assert len(matches) == 1, (event, direction, want, found.get((event, direction)))
    return matches[0]


def test_prints_the_same_in_sysdig(sysdig: str, capture: tuple[Path, Path, int]) -> None:
    expected = run_sysdig(sysdig, "-r", str(capture[0])).decode()
    res = CliRunner().invoke(app, ["read", str(capture[0])], env={"TZ": "UTC"})
    assert res.exit_code == 0
    assert res.stdout.splitlines() == expected.splitlines()


def test_files(found: dict, capture: tuple[Path, Path, int]) -> None:
    d = str(capture[1])
    o = one(found, "open", "<", name=f"{d}/f1")
    assert o["fd"] >= 0 and o["flags"] == 0x106 and o["mode"] == 0o640 and o["dev"] != 0
    assert one(found, "open", ">", name=f"{d}/f1")["flags"] == 0x106
    c = one(found, "creat", "<", name=f"{d}/f2")
    assert c["fd"] >= 0 and c["mode"] == 0o600
    o2 = one(found, "openat2", "<", name=f"{d}/f1")
    assert o2["fd"] >= 0 and o2["dirfd"] == -100 and o2["flags"] == 1 and o2["resolve"] == 8
    assert one(found, "pread", ">", pos=1)["size"] == 3
    assert one(found, "pread", "<", res=3)["data"] == b"ell"
    oa = one(found, "openat", "<", name=f"{d}/f1", flags=0x3 | 0x8)
    assert one(found, "pwrite", ">", fd=oa["fd"])["pos"] == 0
    assert one(found, "pwrite", "<", res=2)["data"] == b"XY"
    assert one(found, "writev", ">", fd=oa["fd"])["size"] == 7
    assert one(found, "writev", "<", res=7)["data"] == b"vec-tor"
    rv = one(found, "readv", "<", res=14)  # pwrite on an O_APPEND file appends
    assert rv["size"] == 14 and rv["data"] == b"helloXYvec-tor"
    assert one(found, "mkdir", "<", path=f"{d}/d1")["res"] == 0
    assert one(found, "mkdir", ">", mode=0o755)
    assert one(found, "mkdirat", "<", path=f"{d}/d2")["mode"] == 0o700
    assert one(found, "rmdir", "<", path=f"{d}/d1")["res"] == 0
    assert one(found, "unlinkat", "<", name=f"{d}/d2")["flags"] == 0x200
    assert one(found, "rename", "<", oldpath=f"{d}/f2", newpath=f"{d}/f3")["res"] == 0
    ra = one(found, "renameat", "<", oldpath=f"{d}/f3")
    assert ra["newpath"] == f"{d}/f4" and ra["olddirfd"] == -100 and ra["newdirfd"] == -100
    assert one(found, "renameat2", "<", oldpath=f"{d}/f4")["flags"] == 1
    assert one(found, "symlink", "<", target="f5", linkpath=f"{d}/l1")["res"] == 0
    assert one(found, "symlinkat", "<", target="f5", linkpath=f"{d}/l2")["linkdirfd"] == -100
    assert one(found, "link", "<", oldpath=f"{d}/f5", newpath=f"{d}/h1")["res"] == 0
    assert one(found, "linkat", "<", newpath=f"{d}/h2")["flags"] == 0x400
    assert one(found, "unlink", "<", path=f"{d}/h1")["res"] == 0
    assert one(found, "chmod", "<", filename=f"{d}/f5")["mode"] == 0o644
    assert one(found, "fchmod", "<", mode=0o600)["res"] == 0
    assert one(found, "fchmodat", "<", filename=f"{d}/f5")["mode"] == 0o640
    assert one(found, "chdir", "<", path=d)["res"] == 0
    assert one(found, "fchdir", "<")["res"] == 0
    assert {p["res"] for p in found[("dup", "<")]} >= {50, 51}
    assert one(found, "fcntl", ">", cmd=26)  # F_DUPFD_CLOEXEC
    assert one(found, "fcntl", "<", res=60)
    pipes = found[("pipe", "<")]
    assert len(pipes) == 2 and all(p["res"] == 0 and p["fd1"] >= 0 and p["fd2"] >= 0
                                   and p["ino"] > 0 for p in pipes)
    mm = one(found, "mmap", ">", length=77824)
    assert mm["prot"] == 3 and mm["flags"] == 0x2 | 0x8 and mm["fd"] == -1
    assert one(found, "mprotect", ">", length=12288)["prot"] == 1


def test_generic_events_carry_the_syscall(found: dict) -> None:
    chown = found[("chown", ">")]
    assert [p["nativeID"] for p in chown] == [92]
    # memfd_create is newer than sysdig 0.29.3's syscall table: code 0, number kept
    assert any(p["ID"] == 0 and p["nativeID"] == 319 for p in found[("#319", ">")])
    assert ("capset", ">") in found and ("finit_module", ">") in found


def test_network(found: dict) -> None:
    sockets = found[("socket", ">")]
    assert {(p["domain"], p["type"] & 0xf) for p in sockets} >= {(2, 2), (2, 1), (1, 1)}
    bound = [p["addr"] for p in found[("bind", "<")] if p["res"] == 0]
    assert any(str(getattr(a, "addr", "")) == "127.0.0.1" and a.port == 0 for a in bound)
    assert any(getattr(a, "path", "").endswith("/sock") for a in bound)
    st = one(found, "sendto", ">", size=8)
    assert str(st["tuple"].dst) == "127.0.0.1" and st["tuple"].dport > 0
    assert one(found, "sendto", "<", res=8)["data"] == b"udp-data"
    rf = one(found, "recvfrom", "<", res=8)
    assert rf["data"] == b"udp-data" and rf["tuple"].dport == st["tuple"].dport
    # inbound: the peer first (the sender, bound by the kernel during its send: at the
    # sendto enter it still had no address)
    assert str(rf["tuple"].src) == "127.0.0.1" and rf["tuple"].sport > 0
    assert str(st["tuple"].src) == "0.0.0.0" and st["tuple"].sport == 0
    assert one(found, "listen", ">", backlog=5)
    conns = [p for p in found[("connect", "<")] if p["res"] == 0]
    inet = [p["tuple"] for p in conns if hasattr(p["tuple"], "sport")]
    unix = [p["tuple"] for p in conns if hasattr(p["tuple"], "path")]
    assert len(inet) == 1 and len(unix) == 1 and unix[0].path.endswith("/sock")
    acc = [p for p in found[("accept", "<")] if p["fd"] >= 0]
    assert [(p["tuple"].sport, p["tuple"].dport) for p in acc if hasattr(p["tuple"], "sport")] \
        == [(inet[0].sport, inet[0].dport)]
    assert all(p["flags"] == 0x80000 for p in found[("accept", ">")])  # SOCK_CLOEXEC
    assert one(found, "sendmsg", ">", size=8)
    assert one(found, "sendmsg", "<", res=8)["data"] == b"msg-data"
    rm = one(found, "recvmsg", "<", res=8)
    assert rm["size"] == 8 and rm["data"] == b"msg-data"
    assert one(found, "shutdown", ">", how=1)
    sp = one(found, "socketpair", "<", res=0)
    assert sp["fd1"] >= 0 and sp["fd2"] >= 0 and sp["source"] and sp["peer"]
    assert sp["source"] != sp["peer"]


def test_identity(found: dict) -> None:
    assert one(found, "setuid", ">", uid=0) and one(found, "setuid", "<", res=0)
    assert one(found, "setgid", ">", gid=0)
    assert one(found, "setresuid", ">", ruid=None, euid=None, suid=None)  # -1: unchanged
    assert one(found, "setresgid", ">", rgid=0, egid=0, sgid=0)


def test_processes(found: dict, capture: tuple[Path, Path, int]) -> None:
    pid = capture[2]
    forks = [p for p in found[("clone", "<")] if p["pid"] == pid and p["res"] > 0]
    assert len(forks) >= 2
    # glibc's fork: CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID
    assert all(p["flags"] & 0x1800000 == 0x1800000 for p in forks)
    children = [p for p in found[("clone", "<")] if p["res"] == 0]
    assert {p["pid"] for p in children} >= {p["res"] for p in forks}
    assert all(p["ptid"] == pid for p in children)
    spawn = [p for p in found[("clone3", "<")] if p["res"] > 0]
    assert spawn and all(p["flags"] & 0x8008000 == 0x8008000 for p in spawn)  # VM|VFORK
    fail = one(found, "execve", "<", res=-2, exe="prog")
    assert fail["args"] == b"arg1\0" and fail["env"] == b"K=V\0"
    assert one(found, "execve", ">", filename="/nonexistent/prog")
    ok = one(found, "execve", "<", res=0, args=b"spawned\0")
    assert ok["exe"] == "true" and ok["comm"] == "true" and ok["cwd"].startswith("/")
    assert ok["fdlimit"] > 0 and ok["vm_size"] > 0 and b"=" in ok["cgroups"]
    assert one(found, "execveat", ">", pathname="/bin/true")["dirfd"] == -100
    # on x86_64 a successful execveat returns through execve: its exit is an execve one
    assert one(found, "execve", "<", res=0, args=b"via-execveat\0")["exe"] == "true"
    exits = found[("procexit", ">")]
    assert any(p["ret"] == 3 and p["status"] == 3 << 8 for p in exits)


def test_the_rest(found: dict, capture: tuple[Path, Path, int]) -> None:
    assert one(found, "kill", ">", pid=capture[2], sig=0)
    pt = one(found, "ptrace", ">", request=3, pid=999999)  # PTRACE_PEEKDATA
    assert pt
    ptx = one(found, "ptrace", "<", res=-3)  # ESRCH
    assert isinstance(ptx["addr"], Dyn) and isinstance(ptx["data"], Dyn)
    assert one(found, "mount", ">", flags=1)
    m = one(found, "mount", "<", dev="none")
    assert m["res"] < 0 and m["type"] == "nosuchfs"
    assert one(found, "umount", ">", flags=2)
    assert one(found, "umount", "<")["name"].endswith("/nomount")
    assert one(found, "bpf", ">", cmd=0)
    res = one(found, "bpf", "<")["res_or_fd"]
    assert isinstance(res, Dyn) and res.index == 1 and res.value < 0
    assert one(found, "unshare", ">", flags=0) and one(found, "unshare", "<", res=0)
    assert one(found, "setns", ">", fd=-1, nstype=0)
