"""A synthetic capture holding every event sysdig 0.29.3 knows, with values of every kind.

For the output tests: each event code of sysdig 0.29.3's table gets a few events whose
parameters take awkward values (negative numbers, unknown errnos and signals, flags
with unnamed bits, relative and dotted paths, buffers with unprintable bytes and longer
than 80 bytes, UTF-8 and invalid UTF-8 strings, every socket address family, DYN
selectors in and out of range...). Events that restructure the process table (clone,
execve, exit) or carry JSON for metadata engines are left out: they are covered by the
real captures and the state tests.
"""

from __future__ import annotations

import random
import struct
from ipaddress import ip_address
from pathlib import Path

from test_state import base_snapshot, proc, snapshot, write_capture
from scapkit.inspect.state.fds import FdType
from scapkit.scapfile import snapshot as S
from scapkit.scapfile.event_table import EC, EF, PT, SYSDIG_029_NUM_EVENTS, sysdig_029_event_info
from scapkit.scapfile.events import build_event

#: Events left out (by symbol prefix): process structure, metadata engines, tracers.
SKIPPED = ("SYSCALL_CLONE", "SYSCALL_FORK", "SYSCALL_VFORK", "SYSCALL_EXECVE", "PROCEXIT",
           "SCHEDSWITCH", "CONTAINER", "K8S", "MESOS", "TRACER", "INFRASTRUCTURE",
           "NOTIFICATION", "PLUGINEVENT", "CPU_HOTPLUG", "SYSDIGEVENT", "DROP", "PROCINFO",
           "SYSCALL_CLONE3", "SYSCALL_EXECVEAT", "PAGE_FAULT", "SIGNALDELIVER")
#: Events sysdig 0.29.3 crashes on (an old openat exit without its enter event).
CRASHERS = frozenset({"SYSCALL_OPENAT_X"})

_INTS = {PT.INT8: ("b", 8), PT.INT16: ("h", 16), PT.INT32: ("i", 32), PT.INT64: ("q", 64)}
_UINTS = {PT.UINT8: ("B", 8), PT.UINT16: ("H", 16), PT.UINT32: ("I", 32), PT.UINT64: ("Q", 64),
          PT.FLAGS8: ("B", 8), PT.FLAGS16: ("H", 16), PT.FLAGS32: ("I", 32)}

_STRINGS = [b"hello", b"", "caf\u00e9 \u20ac \U0001F600".encode(), b"tab\there\x01", b'q"uo\\te',
            b"\xff\xfe bad utf8 \xc3", b"del\x7f"]
_BUFFERS = [b"", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256))[:150],
            b"\nline1\nline2\r\n\r\nend", b"short"]
_PATHS = [b"/etc/passwd", b"rel/path/../x", b"", b"./a//b/", b"<NA>", b"\xff/we\x01ird",
          b"../../up", b"/"]


def _sockaddr(r: random.Random) -> bytes:
    return r.choice([
        b"",
        b"\x02" + ip_address("1.2.3.4").packed + struct.pack("<H", 80),
        b"\x0a" + ip_address("2001:db8::1").packed + struct.pack("<H", 22),
        b"\x01/run/x.sock\x00",
        b"\x01\x00abstract\x00",
        b"\x63junk",
        b"\x02\x01\x02",
    ])


def _socktuple(r: random.Random) -> bytes:
    v4 = ip_address("10.0.0.5").packed, ip_address("93.184.216.34").packed
    v6 = ip_address("2001:db8::5").packed, ip_address("2001:4860:4860::8888").packed
    mapped = ip_address("::ffff:10.0.0.5").packed, ip_address("::ffff:8.8.8.8").packed
    return r.choice([
        b"",
        b"\x02" + v4[0] + struct.pack("<H", 40000) + v4[1] + struct.pack("<H", 443),
        b"\x0a" + v6[0] + struct.pack("<H", 40001) + v6[1] + struct.pack("<H", 53),
        b"\x0a" + mapped[0] + struct.pack("<H", 40002) + mapped[1] + struct.pack("<H", 53),
        b"\x01" + struct.pack("<QQ", 0xFFFF8800_12345678, 0) + b"/run/nscd/socket\x00",
        b"\x4dxx",
    ])


def _fdlist(r: random.Random) -> bytes:
    entries = r.sample([(3, 1), (4, 0x8004), (99, 4), (-1, 0), (5, 0x41), (6, 0xFFFF)],
                       r.randint(0, 4))
    return struct.pack("<H", len(entries)) + b"".join(struct.pack("<qh", fd, fl - 0x10000
                                                                  if fl > 0x7FFF else fl)
                                                      for fd, fl in entries)


def value(ptype: PT, r: random.Random, info: object = None, creates_fd: bool = False) -> bytes:
    """Raw bytes of one parameter of type ``ptype`` (an awkward but valid value).

    An empty path makes sinsp name a new fd from memory past the event: fd-creating
    events (``creates_fd``) always get a path."""
    if ptype in _INTS:
        code, bits = _INTS[ptype]
        v = r.choice([0, 1, -1, 7, (1 << (bits - 1)) - 1, -(1 << (bits - 1)), 1234])
        return struct.pack("<" + code, v)
    if ptype in _UINTS:
        code, bits = _UINTS[ptype]
        v = r.choice([0, 1, 2, 3, 5, 0x41, 0x1002, (1 << bits) - 1, 1 << (bits - 1), 1000,
                      r.getrandbits(bits)])
        return struct.pack("<" + code, v & ((1 << bits) - 1))
    if ptype == PT.ERRNO:
        return struct.pack("<q", r.choice([0, 5, -2, -11, -115, -512, -9999, 4096, -1]))
    if ptype == PT.FD:
        return struct.pack("<q", r.choice([3, 4, 5, 6, 7, -1, -100, -9, 77, 0]))
    if ptype == PT.PID:
        return struct.pack("<q", r.choice([100, 1, 101, 4242, -1, 0]))
    if ptype == PT.CHARBUF:
        return r.choice(_STRINGS) + b"\0"
    if ptype == PT.BYTEBUF:
        return r.choice(_BUFFERS)
    if ptype in (PT.FSPATH, PT.FSRELPATH):
        p = r.choice(_PATHS)
        return p + b"\0" if p or not creates_fd else b"x\0"
    if ptype == PT.SOCKADDR:
        return _sockaddr(r)
    if ptype == PT.SOCKTUPLE:
        return _socktuple(r)
    if ptype == PT.FDLIST:
        return _fdlist(r)
    if ptype == PT.SYSCALLID:
        return struct.pack("<H", r.choice([2, 5, 57, 300, 328, 400]))
    if ptype == PT.SIGTYPE:
        return struct.pack("<B", r.choice([9, 0, 31, 64, 15]))
    if ptype in (PT.RELTIME, PT.ABSTIME):
        return struct.pack("<Q", r.choice([0, 1500, 3_000_000_000, (1 << 64) - 1, 123456789]))
    if ptype in (PT.UID, PT.GID):
        return struct.pack("<I", r.choice([0, 1000, 0xFFFFFFFF, 4242, (1 << 31) + 5]))
    if ptype == PT.MODE:
        return struct.pack("<I", r.choice([0, 0o755, 0o100644, 0o4777, 0xFFFFFFFF]))
    if ptype == PT.SIGSET:
        return struct.pack("<I", r.choice([0, 1 << 8 | 1 << 14, 0xFFFFFFFF, 1]))
    if ptype == PT.DYN:
        alts = info if isinstance(info, tuple) else ()
        choice = r.randint(0, len(alts))  # one past the end: out of range
        if choice == len(alts) or r.random() < 0.1:
            return r.choice([b"", bytes([len(alts) + 3]) + b"\0" * 8])
        return bytes([choice]) + value(alts[choice].type, r, alts[choice].info)
    return b""


def _codes() -> list[int]:
    out = []
    for code in range(2, SYSDIG_029_NUM_EVENTS):
        info = sysdig_029_event_info(code)
        assert info is not None
        if (info.flags & EF.UNUSED or info.name == "NA" or info.symbol.startswith(SKIPPED)
                or info.symbol in CRASHERS):
            continue
        if info.category & EC.INTERNAL:
            continue
        out.append(code)
    return out


def synthetic_snapshot() -> S.Snapshot:
    A = ip_address
    snap = snapshot(
        [proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
         proc(100, comm="bash", cwd="/home/alice", uid=1000, gid=1000,
              args=("-c", "echo hi")),
         proc(101, pid=100, ptid=1, comm="bash", cwd="/home/alice", uid=1000, gid=1000)],
        {100: [S.FdInfo(fd=3, ino=1, type=FdType.FILE_V2, name="/etc/hosts", open_flags=1),
               S.FdInfo(fd=4, ino=2, type=FdType.IPV4_SOCK, sip=A("10.0.0.5"), dip=A("1.1.1.1"),
                        sport=40000, dport=443, l4proto=3),
               S.FdInfo(fd=5, ino=3, type=FdType.UNIX_SOCK, name="/run/sock", source=1,
                        destination=2),
               S.FdInfo(fd=6, ino=4, type=FdType.FIFO, name="pipe:[4]"),
               S.FdInfo(fd=7, ino=5, type=FdType.DIRECTORY, name="/home/alice/work"),
               S.FdInfo(fd=0, ino=6, type=FdType.IPV6_SERVSOCK, sip=A("::"), sport=8080,
                        l4proto=3)]})
    return snap


def synthetic_capture(path: Path, seed: int = 2029, rounds: int = 3) -> Path:
    """Write the capture: ``rounds`` events of each code (enter and exit alike), on a
    known thread, a thread of its process and an unknown thread."""
    from test_state import Capture

    r = random.Random(seed)
    cap = Capture()
    for _ in range(rounds):
        for code in _codes():
            info = sysdig_029_event_info(code)
            assert info is not None
            tid = r.choice([100, 100, 100, 101, 555])
            cap.t += 1000 + r.randint(0, 5_000_000)
            creates = bool(info.flags & EF.CREATES_FD)
            params = [value(p.type, r, p.info, creates) for p in info.params]
            cap.events.append(build_event(cap.t, tid, code, params))
    return write_capture(path, synthetic_snapshot(), cap)


__all__ = ["synthetic_capture", "synthetic_snapshot", "value", "base_snapshot"]
