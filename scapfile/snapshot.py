"""The state snapshot stored before the events: machine, processes, fds, interfaces, users.

Each block body is parsed with its construct declaration from :mod:`.blocks` into
plain records, and built back from them by the writer (always in the newest layout
that sysdig 0.29.3 reads: PL v9, FDL v2, IL v2, UL v2). Damage inside a block
keeps every entry parsed before it and raises :class:`FormatError` with the offset.
"""

from __future__ import annotations

import io
import ipaddress
import struct
from dataclasses import dataclass, field

from construct import ConstructError

from . import blocks as B
from .errors import FormatError


def _s(b: bytes) -> str:
    """Decode on-disk text, keeping undecodable bytes (they round-trip on write)."""
    return b.decode("utf-8", "surrogateescape")


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


@dataclass(slots=True)
class MachineInfo:
    """``scap_machine_info``."""

    num_cpus: int = 0
    memory_size_bytes: int = 0
    max_pid: int = 0
    hostname: str = ""
    boot_ts_epoch: int = 0
    flags: int = 0


@dataclass(slots=True)
class ProcessInfo:
    """One thread of the process-list snapshot (``scap_threadinfo``)."""

    tid: int
    pid: int
    ptid: int
    comm: str = ""
    exe: str = ""
    exepath: str = ""
    args: list[str] = field(default_factory=list)
    cwd: str = ""
    fdlimit: int = 0
    flags: int = 0
    uid: int = 0
    gid: int = 0
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0
    env: list[str] = field(default_factory=list)
    vtid: int = -1
    vpid: int = -1
    cgroups: list[str] = field(default_factory=list)
    root: str = ""
    sid: int = -1
    vpgid: int = -1
    pgid: int = -1
    pidns_init_start_ts: int = 0
    tty: int = 0
    loginuid: int = 0xFFFFFFFF
    exe_writable: bool = False
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    exe_upper_layer: bool = False
    exe_lower_layer: bool = False
    exe_from_memfd: bool = False
    exe_ino: int = 0
    exe_ino_ctime: int = 0
    exe_ino_mtime: int = 0
    #: The block layout version it was read from (9 when built here).
    version: int = 9


@dataclass(slots=True)
class FdInfo:
    """One fd of a thread in the fd-list snapshot (``scap_fdinfo``)."""

    fd: int
    ino: int
    type: int
    name: str = ""  # file name, unix path, or other fd kinds' text
    open_flags: int = 0  # FILE_V2
    dev: int | None = None  # FILE_V2, newer writers only
    # sockets
    sip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    dip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    sport: int = 0
    dport: int = 0
    l4proto: int = 0
    # unix sockets
    source: int = 0
    destination: int = 0


@dataclass(slots=True)
class InterfaceInfo:
    """An interface address (``scap_ifinfo_ipv4`` / ``scap_ifinfo_ipv6``)."""

    name: str
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address
    netmask: ipaddress.IPv4Address | ipaddress.IPv6Address
    bcast: ipaddress.IPv4Address | ipaddress.IPv6Address
    linkspeed: int = 0

    @property
    def is_ipv6(self) -> bool:
        return self.addr.version == 6


@dataclass(slots=True)
class UserInfo:
    uid: int
    gid: int
    name: str
    homedir: str = ""
    shell: str = ""


@dataclass(slots=True)
class GroupInfo:
    gid: int
    name: str


@dataclass(slots=True)
class Snapshot:
    """Everything the metadata blocks describe, as read so far."""

    machine: MachineInfo | None = None
    processes: dict[int, ProcessInfo] = field(default_factory=dict)
    fds: dict[int, dict[int, FdInfo]] = field(default_factory=dict)
    interfaces: list[InterfaceInfo] = field(default_factory=list)
    users: dict[int, UserInfo] = field(default_factory=dict)
    groups: dict[int, GroupInfo] = field(default_factory=dict)

    @property
    def fd_count(self) -> int:
        return sum(len(v) for v in self.fds.values())


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def _nul_list(raw: bytes) -> list[str]:
    if not raw:
        return []
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    return [_s(x) for x in raw.split(b"\0")]


def _entries(body: bytes, base: int, parse_one, what: str):
    """Parse consecutive entries while 4 or more bytes remain (the rest is padding)."""
    stream = io.BytesIO(body)
    n = len(body)
    while n - stream.tell() >= 4:
        at = stream.tell()
        try:
            yield parse_one(stream)
        except (ConstructError, ValueError, OverflowError) as exc:
            raise FormatError(f"corrupt {what} entry ({_short(exc)})", base + at) from None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:120] if text else type(exc).__name__


def parse_machine_info(body: bytes, offset: int) -> MachineInfo:
    if len(body) < B.MACHINE_INFO_SIZE:
        raise FormatError(
            f"machine info block body has {len(body)} bytes, needs {B.MACHINE_INFO_SIZE}", offset
        )
    c = B.MachineInfo.parse(body[: B.MACHINE_INFO_SIZE])
    return MachineInfo(
        num_cpus=c.num_cpus,
        memory_size_bytes=c.memory_size_bytes,
        max_pid=c.max_pid,
        hostname=_s(bytes(c.hostname).split(b"\0", 1)[0]),
        boot_ts_epoch=c.boot_ts_epoch,
        flags=c.flags,
    )


def parse_processes(block_type: int, body: bytes, offset: int):
    """Yield :class:`ProcessInfo` entries of a process-list block body."""
    version = B.PL_VERSIONS[block_type]
    spec = B.PROCESS_ENTRIES[version]

    def one(stream: io.BytesIO) -> ProcessInfo:
        c = spec.parse_stream(stream)
        p = ProcessInfo(
            tid=c.tid, pid=c.pid, ptid=c.ptid, comm=_s(c.comm), exe=_s(c.exe),
            args=_nul_list(c.args), cwd=_s(c.cwd), fdlimit=c.fdlimit, flags=c.flags,
            uid=c.uid, gid=c.gid, version=version,
        )
        if version >= 2:
            p.vmsize_kb, p.vmrss_kb, p.vmswap_kb = c.vmsize_kb, c.vmrss_kb, c.vmswap_kb
            p.pfmajor, p.pfminor = c.pfmajor, c.pfminor
        if version >= 3:
            p.env = _nul_list(c.env)
        if version >= 4:
            p.vtid, p.vpid = c.vtid, c.vpid
            p.cgroups = _nul_list(c.cgroups)
        if version >= 5:
            p.root = _s(c.root)
        if version >= 6:
            p.sid = c.sid
        if version >= 7:
            p.exepath = _s(c.exepath)
        if version >= 8:
            p.vpgid = c.vpgid
        if version >= 9:
            if c.tail_len < 0:
                raise ValueError(f"entry length {c.sub_len} shorter than its fields")
            for name, value in c.extra.items():
                if name.startswith("_") or value is None:
                    continue
                if name in ("exe_writable", "exe_upper_layer", "exe_lower_layer",
                            "exe_from_memfd"):
                    value = bool(value)
                setattr(p, name, value)
        return p

    yield from _entries(body, offset, one, "process list")


def _ip(raw: int | bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(raw, int):
        return ipaddress.IPv4Address(struct.pack("<I", raw))
    return ipaddress.IPv6Address(raw)


def parse_fds(block_type: int, body: bytes, offset: int) -> tuple[int, list[FdInfo], FormatError | None]:
    """Return the thread id, its fds, and the damage found (entries before it are kept)."""
    if len(body) < 8:
        raise FormatError("fd list block too short for its thread id", offset)
    (tid,) = struct.unpack_from("<q", body, 0)
    spec = B.FD_ENTRY_V2 if block_type == B.BlockType.FDL_V2 else B.FD_ENTRY_V1

    def one(stream: io.BytesIO) -> FdInfo:
        c = spec.parse_stream(stream)
        if block_type == B.BlockType.FDL_V2 and c.tail_len < 0:
            raise ValueError(f"entry length {c.sub_len} shorter than its fields")
        f = FdInfo(fd=c.fd, ino=c.ino, type=c.type)
        info = c.info
        t = c.type
        if t in (B.FdType.IPV4_SOCK, B.FdType.IPV6_SOCK):
            f.sip, f.dip = _ip(info.sip), _ip(info.dip)
            f.sport, f.dport, f.l4proto = info.sport, info.dport, info.l4proto
        elif t in (B.FdType.IPV4_SERVSOCK, B.FdType.IPV6_SERVSOCK):
            f.sip, f.sport, f.l4proto = _ip(info.ip), info.port, info.l4proto
        elif t == B.FdType.UNIX_SOCK:
            f.source, f.destination, f.name = info.source, info.destination, _s(info.fname)
        elif t == B.FdType.FILE_V2:
            f.open_flags, f.name = info.open_flags, _s(info.fname)
            if block_type == B.BlockType.FDL_V2:
                f.dev = c.extra.dev
        elif info is not None:
            f.name = _s(info.fname)
        elif t != B.FdType.UNKNOWN:
            # A type from a newer writer: libscap keeps it as unsupported.
            f.name = f"unknown-type:[{t}]"
            f.type = B.FdType.UNSUPPORTED
        return f

    fds: list[FdInfo] = []
    try:
        for f in _entries(body[8:], offset + 8, one, "fd list"):
            fds.append(f)
    except FormatError as err:
        return tid, fds, err
    return tid, fds, None


def parse_interfaces(block_type: int, body: bytes, offset: int):
    """Yield :class:`InterfaceInfo` entries of an interface-list block body."""
    v2 = block_type == B.BlockType.IL_V2
    spec = B.InterfaceEntryV2 if v2 else B.InterfaceEntryV1

    def one(stream: io.BytesIO) -> InterfaceInfo:
        c = spec.parse_stream(stream)
        e = c.entry if v2 else c
        if e.body is None:
            raise ValueError(f"unknown interface type {e.type}")
        b = e.body
        return InterfaceInfo(
            name=_s(bytes(b.ifname).split(b"\0", 1)[0]),
            addr=_ip(b.addr), netmask=_ip(b.netmask), bcast=_ip(b.bcast),
            linkspeed=getattr(b, "linkspeed", 0) or 0,
        )

    yield from _entries(body, offset, one, "interface list")


def parse_users(block_type: int, body: bytes, offset: int):
    """Yield :class:`UserInfo` and :class:`GroupInfo` entries of a user-list block."""
    v2 = block_type == B.BlockType.UL_V2
    spec = B.UserEntryV2 if v2 else B.UserEntryV1

    def one(stream: io.BytesIO) -> UserInfo | GroupInfo:
        c = spec.parse_stream(stream)
        e = c.entry if v2 else c
        d = e.data
        if e.kind == B.USERBLOCK_TYPE_USER:
            return UserInfo(d.uid, d.gid, _s(d.name), _s(d.homedir), _s(d.shell))
        return GroupInfo(d.gid, _s(d.name))

    yield from _entries(body, offset, one, "user list")


# ---------------------------------------------------------------------------
# Building (newest layouts)
# ---------------------------------------------------------------------------


def _nul_join(items: list[str]) -> bytes:
    return b"".join(_b(x) + b"\0" for x in items)


def build_machine_info(m: MachineInfo) -> bytes:
    return B.MachineInfo.build(dict(
        num_cpus=m.num_cpus, memory_size_bytes=m.memory_size_bytes, max_pid=m.max_pid,
        hostname=_b(m.hostname)[:127].ljust(128, b"\0"), boot_ts_epoch=m.boot_ts_epoch, flags=m.flags,
        reserved3=0, reserved4=0,
    ))


#: The v9 tail we write: loginuid, exe_writable and the three capability sets (29
#: bytes). Readers from libs 0.10 on treat a tail of at most 29 bytes as this older
#: layout, and sysdig 0.29.3 reads loginuid and exe_writable from it, so both agree.
_PL9_TAIL = struct.Struct("<IBQQQ")


def build_process(p: ProcessInfo) -> bytes:
    """One PL v9 entry (its ``sub_len`` prefix included)."""
    # A v9 entry is the v8 layout behind a length prefix, then the optional tail.
    core = B.PROCESS_ENTRIES[8].build(dict(
        tid=p.tid, pid=p.pid, ptid=p.ptid, sid=p.sid, vpgid=p.vpgid,
        comm=_b(p.comm), exe=_b(p.exe), exepath=_b(p.exepath), args=_nul_join(p.args),
        cwd=_b(p.cwd), fdlimit=p.fdlimit, flags=p.flags, uid=p.uid, gid=p.gid,
        vmsize_kb=p.vmsize_kb, vmrss_kb=p.vmrss_kb, vmswap_kb=p.vmswap_kb,
        pfmajor=p.pfmajor, pfminor=p.pfminor, env=_nul_join(p.env), vtid=p.vtid,
        vpid=p.vpid, cgroups=_nul_join(p.cgroups), root=_b(p.root),
    ))
    tail = _PL9_TAIL.pack(
        p.loginuid, p.exe_writable, p.cap_inheritable, p.cap_permitted, p.cap_effective
    )
    entry = core + tail
    return struct.pack("<I", len(entry) + 4) + entry


def _ip_raw(a, v6: bool) -> int | bytes:
    if v6:
        return (a or ipaddress.IPv6Address(0)).packed
    return struct.unpack("<I", (a or ipaddress.IPv4Address(0)).packed)[0]


def build_fd(f: FdInfo) -> bytes:
    """One FDL v2 entry (its ``sub_len`` prefix included)."""
    t = f.type
    if t in (B.FdType.IPV4_SOCK, B.FdType.IPV6_SOCK):
        v6 = t == B.FdType.IPV6_SOCK
        info = dict(sip=_ip_raw(f.sip, v6), dip=_ip_raw(f.dip, v6), sport=f.sport,
                    dport=f.dport, l4proto=f.l4proto)
    elif t in (B.FdType.IPV4_SERVSOCK, B.FdType.IPV6_SERVSOCK):
        info = dict(ip=_ip_raw(f.sip, t == B.FdType.IPV6_SERVSOCK), port=f.sport,
                    l4proto=f.l4proto)
    elif t == B.FdType.UNIX_SOCK:
        info = dict(source=f.source, destination=f.destination, fname=_b(f.name))
    elif t == B.FdType.FILE_V2:
        info = dict(open_flags=f.open_flags, fname=_b(f.name))
    else:
        info = dict(fname=_b(f.name))
    # A v2 entry is the v1 layout behind a length prefix, then the optional dev.
    entry = B.FD_ENTRY_V1.build(dict(fd=f.fd, ino=f.ino, type=t, info=info))
    if f.dev is not None:
        entry += struct.pack("<I", f.dev)
    return struct.pack("<I", len(entry) + 4) + entry


def build_fd_list(tid: int, fds: list[FdInfo]) -> bytes:
    return struct.pack("<q", tid) + b"".join(build_fd(f) for f in fds)


def build_interface(i: InterfaceInfo) -> bytes:
    """One IL v2 entry (its length prefix included)."""
    v6 = i.is_ipv6
    name = _b(i.name)
    t = B.IfType.IPV6 if v6 else B.IfType.IPV4
    body = dict(addr=_ip_raw(i.addr, v6), netmask=_ip_raw(i.netmask, v6),
                bcast=_ip_raw(i.bcast, v6), linkspeed=i.linkspeed, ifname=name)
    entry = B.InterfaceEntryV1.build(dict(type=t, ifnamelen=len(name), body=body))
    return struct.pack("<I", len(entry)) + entry


def build_user(u: UserInfo | GroupInfo) -> bytes:
    """One UL v2 entry (its length prefix included)."""
    if isinstance(u, UserInfo):
        data = dict(uid=u.uid, gid=u.gid, name=_b(u.name), homedir=_b(u.homedir),
                    shell=_b(u.shell))
        kind = B.USERBLOCK_TYPE_USER
    else:
        data = dict(gid=u.gid, name=_b(u.name))
        kind = B.USERBLOCK_TYPE_GROUP
    entry = B.UserEntryV1.build(dict(kind=kind, data=data))
    return struct.pack("<I", len(entry) + 4) + entry
