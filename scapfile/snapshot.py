"""The state snapshot stored before the events: machine, processes, fds, interfaces, users.

Each block body is parsed with its construct declaration from :mod:`.blocks` into
plain records, and built back from them by the writer (always in the newest layout
that sysdig 0.29.3 reads: PL v9, FDL v2, IL v2, UL v2). Damage inside a block
keeps every entry parsed before it and raises :class:`FormatError` with the offset.

construct is the specification; reading a block with it costs tens of microseconds per
entry, which every ``scap read`` pays before its first event. So a block is first read
with ``struct`` plans that follow the same declarations (:func:`_fast_processes` and
its siblings) and give the same records; at anything they are not sure of (an entry
that does not fit, an unknown type), they give up and the construct path reads the
whole block, with its own results and errors. Tests keep both in agreement.
"""

from __future__ import annotations

import io
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

from . import blockids as B
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


def _layouts() -> Any:
    """The construct declarations (:mod:`.blocks`), imported when first needed: the
    fast readers do without them, and construct is a tenth of a plain read's startup."""
    from . import blocks

    return blocks


def _entries(body: bytes, base: int, parse_one, what: str):
    """Parse consecutive entries while 4 or more bytes remain (the rest is padding)."""
    from construct import ConstructError

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


# ---------------------------------------------------------------------------
# Fast parsing: the same entries, read with struct plans (see the module docstring)
# ---------------------------------------------------------------------------


class _NotSure(Exception):
    """The fast reader gives up: the construct declarations decide."""


_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_Q3 = struct.Struct("<qqq")
_PL_IDS = struct.Struct("<qIII")  # fdlimit, flags, uid, gid
_PL_MEM = struct.Struct("<IIIQQ")  # vmsize, vmrss, vmswap, pfmajor, pfminor
_Q2 = struct.Struct("<qq")
_FD_HEAD = struct.Struct("<qQB")
_FD_V4 = struct.Struct("<IIHHB")
_FD_V4SRV = struct.Struct("<IHB")
_FD_V6 = struct.Struct("<16s16sHHB")
_FD_V6SRV = struct.Struct("<16sHB")
_FD_UNIX = struct.Struct("<QQ")
_IF_HEAD = struct.Struct("<HH")
_IF_V4 = struct.Struct("<III")
_IF_V6 = struct.Struct("<16s16s16s")
_US_IDS = struct.Struct("<II")
_MACHINE = struct.Struct("<IQQ128sQQQQ")
#: The optional v9 process-entry tail (blocks._pl_trailing): name, plan, only when the
#: tail is longer than 29 bytes.
_PL_TAIL = (("pidns_init_start_ts", _U64, True), ("tty", _U32, True),
            ("loginuid", _U32, False), ("exe_writable", _U8, False),
            ("cap_inheritable", _U64, False), ("cap_permitted", _U64, False),
            ("cap_effective", _U64, False), ("exe_upper_layer", _U8, False),
            ("exe_ino", _U64, False), ("exe_ino_ctime", _U64, False),
            ("exe_ino_mtime", _U64, False), ("exe_from_memfd", _U8, False),
            ("exe_lower_layer", _U8, False), ("pgid", _I64, False))
_PL_BOOLS = frozenset({"exe_writable", "exe_upper_layer", "exe_lower_layer", "exe_from_memfd"})


def _take(plan: struct.Struct, b, at: int, end: int) -> tuple[tuple, int]:
    if end - at < plan.size:
        raise _NotSure
    return plan.unpack_from(b, at), at + plan.size


def _str16(b, at: int, end: int) -> tuple[bytes, int]:
    """``Str16``: a u16 length, then that many bytes."""
    if end - at < 2:
        raise _NotSure
    (n,) = _U16.unpack_from(b, at)
    at += 2
    if end - at < n:
        raise _NotSure
    return bytes(b[at:at + n]), at + n


def _fast_processes(version: int, body) -> list[ProcessInfo] | None:
    """The entries of a process-list body, or None when construct must read it."""
    v = version
    out: list[ProcessInfo] = []
    end, at = len(body), 0
    try:
        while end - at >= 4:
            start = at
            if v >= 9:
                (sub_len,), at = _take(_U32, body, at, end)
            (tid, pid, ptid), at = _take(_Q3, body, at, end)
            if v >= 6:
                (sid,), at = _take(_I64, body, at, end)
            if v >= 8:
                (vpgid,), at = _take(_I64, body, at, end)
            comm, at = _str16(body, at, end)
            exe, at = _str16(body, at, end)
            if v >= 7:
                exepath, at = _str16(body, at, end)
            args, at = _str16(body, at, end)
            cwd, at = _str16(body, at, end)
            (fdlimit, flags, uid, gid), at = _take(_PL_IDS, body, at, end)
            p = ProcessInfo(tid=tid, pid=pid, ptid=ptid, comm=_s(comm), exe=_s(exe),
                            args=_nul_list(args), cwd=_s(cwd), fdlimit=fdlimit, flags=flags,
                            uid=uid, gid=gid, version=v)
            if v >= 2:
                (p.vmsize_kb, p.vmrss_kb, p.vmswap_kb, p.pfmajor, p.pfminor), at = \
                    _take(_PL_MEM, body, at, end)
            if v >= 3:
                env, at = _str16(body, at, end)
                p.env = _nul_list(env)
            if v >= 4:
                (p.vtid, p.vpid), at = _take(_Q2, body, at, end)
                cgroups, at = _str16(body, at, end)
                p.cgroups = _nul_list(cgroups)
            if v >= 5:
                root, at = _str16(body, at, end)
                p.root = _s(root)
            if v >= 6:
                p.sid = sid
            if v >= 7:
                p.exepath = _s(exepath)
            if v >= 8:
                p.vpgid = vpgid
            if v >= 9:
                tail = sub_len - (at - start)
                if tail < 0 or end - at < tail:
                    raise _NotSure
                pos, lim = at, at + tail
                for name, plan, long_only in _PL_TAIL:
                    if (long_only and tail <= 29) or lim - pos < plan.size:
                        continue  # (Optional: absent)
                    (value,) = plan.unpack_from(body, pos)
                    pos += plan.size
                    setattr(p, name, bool(value) if name in _PL_BOOLS else value)
                at = lim
            out.append(p)
    except _NotSure:
        return None
    return out


#: Fd types whose entry holds a name only (blocks.NAME_FD_TYPES).
_NAME_ONLY = frozenset(int(t) for t in B.NAME_FD_TYPES)
_T = B.FdType


def _fast_fds(v2: bool, body) -> list[FdInfo] | None:
    """The fd entries after the thread id of an fd-list body, or None (construct's)."""
    out: list[FdInfo] = []
    end, at = len(body), 8
    try:
        while end - at >= 4:
            start = at
            if v2:
                (sub_len,), at = _take(_U32, body, at, end)
            (fd, ino, t), at = _take(_FD_HEAD, body, at, end)
            f = FdInfo(fd=fd, ino=ino, type=t)
            if t == _T.IPV4_SOCK:
                (sip, dip, f.sport, f.dport, f.l4proto), at = _take(_FD_V4, body, at, end)
                f.sip, f.dip = _ip(sip), _ip(dip)
            elif t == _T.IPV6_SOCK:
                (sip, dip, f.sport, f.dport, f.l4proto), at = _take(_FD_V6, body, at, end)
                f.sip, f.dip = _ip(sip), _ip(dip)
            elif t == _T.IPV4_SERVSOCK:
                (ip, f.sport, f.l4proto), at = _take(_FD_V4SRV, body, at, end)
                f.sip = _ip(ip)
            elif t == _T.IPV6_SERVSOCK:
                (ip, f.sport, f.l4proto), at = _take(_FD_V6SRV, body, at, end)
                f.sip = _ip(ip)
            elif t == _T.UNIX_SOCK:
                (f.source, f.destination), at = _take(_FD_UNIX, body, at, end)
                name, at = _str16(body, at, end)
                f.name = _s(name)
            elif t == _T.FILE_V2:
                (f.open_flags,), at = _take(_U32, body, at, end)
                name, at = _str16(body, at, end)
                f.name = _s(name)
            elif t in _NAME_ONLY:
                name, at = _str16(body, at, end)
                f.name = _s(name)
            elif t != _T.UNKNOWN:
                f.name = f"unknown-type:[{t}]"
                f.type = _T.UNSUPPORTED
            if v2:
                tail = sub_len - (at - start)
                if tail < 0 or end - at < tail:
                    raise _NotSure
                if t == _T.FILE_V2:
                    f.dev = _U32.unpack_from(body, at)[0] if tail >= 4 else None
                at += tail
            out.append(f)
    except _NotSure:
        return None
    return out


_IF_PLANS = {B.IfType.IPV4: (_IF_V4, True), B.IfType.IPV6: (_IF_V6, True),
             B.IfType.IPV4_NOLINKSPEED: (_IF_V4, False),
             B.IfType.IPV6_NOLINKSPEED: (_IF_V6, False)}


def _fast_interfaces(v2: bool, body) -> list[InterfaceInfo] | None:
    """The entries of an interface-list body, or None (construct's)."""
    out: list[InterfaceInfo] = []
    end, at = len(body), 0
    try:
        while end - at >= 4:
            if v2:
                (length,), at = _take(_U32, body, at, end)
                if end - at < length:
                    raise _NotSure
                lim, nxt = at + length, at + length
            else:
                lim, nxt = end, -1
            (t, namelen), at = _take(_IF_HEAD, body, at, lim)
            plan = _IF_PLANS.get(t)
            if plan is None:
                raise _NotSure  # (an unknown type: construct reports it)
            (addr, netmask, bcast), at = _take(plan[0], body, at, lim)
            linkspeed = 0
            if plan[1]:
                (linkspeed,), at = _take(_U64, body, at, lim)
            if lim - at < namelen:
                raise _NotSure
            ifname = bytes(body[at:at + namelen])
            at = nxt if v2 else at + namelen
            out.append(InterfaceInfo(name=_s(ifname.split(b"\0", 1)[0]), addr=_ip(addr),
                                     netmask=_ip(netmask), bcast=_ip(bcast),
                                     linkspeed=linkspeed or 0))
    except _NotSure:
        return None
    return out


def _fast_users(v2: bool, body) -> list[UserInfo | GroupInfo] | None:
    """The entries of a user-list body, or None (construct's)."""
    out: list[UserInfo | GroupInfo] = []
    end, at = len(body), 0
    try:
        while end - at >= 4:
            if v2:
                (sub_len,), at = _take(_U32, body, at, end)
                if sub_len < 4 or end - at < sub_len - 4:
                    raise _NotSure
                lim = nxt = at + sub_len - 4
            else:
                lim, nxt = end, -1
            (kind,), at = _take(_U8, body, at, lim)
            if kind == B.USERBLOCK_TYPE_USER:
                (uid, gid), at = _take(_US_IDS, body, at, lim)
                name, at = _str16(body, at, lim)
                home, at = _str16(body, at, lim)
                shell, at = _str16(body, at, lim)
                out.append(UserInfo(uid, gid, _s(name), _s(home), _s(shell)))
            else:
                (gid,), at = _take(_U32, body, at, lim)
                name, at = _str16(body, at, lim)
                out.append(GroupInfo(gid, _s(name)))
            if v2:
                at = nxt
    except _NotSure:
        return None
    return out


# ---------------------------------------------------------------------------
# The block readers
# ---------------------------------------------------------------------------


def parse_machine_info(body: bytes, offset: int, *, fast: bool = True) -> MachineInfo:
    if len(body) < B.MACHINE_INFO_SIZE:
        raise FormatError(
            f"machine info block body has {len(body)} bytes, needs {B.MACHINE_INFO_SIZE}", offset
        )
    if fast:
        ncpu, mem, maxpid, host, boot, flags, _, _ = _MACHINE.unpack_from(body, 0)
        return MachineInfo(num_cpus=ncpu, memory_size_bytes=mem, max_pid=maxpid,
                           hostname=_s(host.split(b"\0", 1)[0]), boot_ts_epoch=boot,
                           flags=flags)
    c = _layouts().MachineInfo.parse(body[: B.MACHINE_INFO_SIZE])
    return MachineInfo(
        num_cpus=c.num_cpus,
        memory_size_bytes=c.memory_size_bytes,
        max_pid=c.max_pid,
        hostname=_s(bytes(c.hostname).split(b"\0", 1)[0]),
        boot_ts_epoch=c.boot_ts_epoch,
        flags=c.flags,
    )


def parse_processes(block_type: int, body: bytes, offset: int, *, fast: bool = True):
    """Yield :class:`ProcessInfo` entries of a process-list block body (``fast=False``:
    with the construct declarations only)."""
    version = B.PL_VERSIONS[block_type]
    done = _fast_processes(version, body) if fast else None
    if done is not None:
        yield from done
        return
    spec = _layouts().PROCESS_ENTRIES[version]

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


def parse_fds(block_type: int, body: bytes, offset: int, *, fast: bool = True
              ) -> tuple[int, list[FdInfo], FormatError | None]:
    """Return the thread id, its fds, and the damage found (entries before it are kept)."""
    if len(body) < 8:
        raise FormatError("fd list block too short for its thread id", offset)
    (tid,) = struct.unpack_from("<q", body, 0)
    done = _fast_fds(block_type == B.BlockType.FDL_V2, body) if fast else None
    if done is not None:
        return tid, done, None
    spec = _layouts().FD_ENTRY_V2 if block_type == B.BlockType.FDL_V2 else _layouts().FD_ENTRY_V1

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


def parse_interfaces(block_type: int, body: bytes, offset: int, *, fast: bool = True):
    """Yield :class:`InterfaceInfo` entries of an interface-list block body."""
    v2 = block_type == B.BlockType.IL_V2
    done = _fast_interfaces(v2, body) if fast else None
    if done is not None:
        yield from done
        return
    spec = _layouts().InterfaceEntryV2 if v2 else _layouts().InterfaceEntryV1

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


def parse_users(block_type: int, body: bytes, offset: int, *, fast: bool = True):
    """Yield :class:`UserInfo` and :class:`GroupInfo` entries of a user-list block."""
    v2 = block_type == B.BlockType.UL_V2
    done = _fast_users(v2, body) if fast else None
    if done is not None:
        yield from done
        return
    spec = _layouts().UserEntryV2 if v2 else _layouts().UserEntryV1

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
    return _layouts().MachineInfo.build(dict(
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
    core = _layouts().PROCESS_ENTRIES[8].build(dict(
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
    entry = _layouts().FD_ENTRY_V1.build(dict(fd=f.fd, ino=f.ino, type=t, info=info))
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
    entry = _layouts().InterfaceEntryV1.build(dict(type=t, ifnamelen=len(name), body=body))
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
    entry = _layouts().UserEntryV1.build(dict(kind=kind, data=data))
    return struct.pack("<I", len(entry) + 4) + entry
