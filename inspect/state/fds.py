"""File descriptors: what an fd is (type, name, socket tuple, role) and per-process fd tables.

This is the data model only; the events that change it live in the ``handlers_*`` modules.

An fd's socket state is kept the way sinsp keeps it: one 37-byte area read through
overlapping views (IPv4 tuple, IPv6 tuple, IPv4/IPv6 server address, unix pair).
Keeping the overlap is deliberate: when a socket changes role (a bound UDP server
that then sends, a listening socket reused as a client) sinsp reads one view over
bytes written through another, and sysdig prints the result. :class:`SockInfo`
reproduces that byte for byte; :attr:`FdInfo.endpoints` gives the clean, typed view.

Names follow sinsp: a file's full path (``/etc/hostname``), an IP socket's tuple
``10.0.0.1:40000->10.0.0.2:80`` (IPv6 addresses without brackets, ports numeric),
a server socket's ``ip:port``, a unix socket's path (or ``<src ptr>-><dst ptr> path``
once connected), and the empty string for pipes, eventfds and other anonymous fds.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from scapkit.scapfile.blockids import FdType
from scapkit.scapfile.params import format_ipv4, format_ipv6

from .paths import c_string, sanitize, to_text

__all__ = [
    "FdType", "L4", "FdFlag", "Role", "SockInfo", "FdInfo", "FdTable", "Endpoints",
    "TYPE_CHARS", "TYPE_NAMES", "MAX_FDS_PER_THREAD", "CANCELED_FD",
    "ipv4_tuple_name", "ipv6_tuple_name", "sockinfo_name", "sockaddr_string",
    "socktuple_string", "is_ipv4_mapped",
]

#: Default cap on the fds of one fd table (sinsp's ``MAX_FD_TABLE_SIZE``); an fd
#: created while its table is full is not tracked.
MAX_FDS_PER_THREAD = 4096
#: Default cap on the fds of all tables together (ours: sinsp has none).
MAX_FDS_TOTAL = 1 << 20
#: Longest fd name kept from an event (socket paths, memfd names...); longer ones are cut.
MAX_NAME = 4096
#: The slot where a close that was overtaken by a new fd of the same number parks
#: the old entry until the close completes (sinsp's ``CANCELED_FD_NUMBER``).
CANCELED_FD = (1 << 63) - 1


class L4(enum.IntEnum):
    """Layer-4 protocol of a socket (``scap_l4_proto``)."""

    UNKNOWN = 0
    NA = 1
    TCP = 2
    UDP = 3
    ICMP = 4
    RAW = 5


class FdFlag(enum.IntFlag):
    """State bits of an fd (sinsp's fd flags, the ones this engine uses)."""

    NONE = 0
    FROM_PROC = 1 << 0
    ROLE_CLIENT = 1 << 2
    ROLE_SERVER = 1 << 3
    CLOSE_IN_PROGRESS = 1 << 4
    CLOSE_CANCELED = 1 << 5
    IS_TRACER_FILE = 1 << 7
    IS_NOT_TRACER_FD = 1 << 9
    SOCKET_CONNECTED = 1 << 13
    IS_CLONED = 1 << 14
    CONNECTION_PENDING = 1 << 15
    CONNECTION_FAILED = 1 << 16


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


#: ``fd.typechar`` per type (``?`` for a type sinsp does not know).
TYPE_CHARS: dict[int, str] = {
    FdType.FILE: "f", FdType.FILE_V2: "f", FdType.IPV4_SOCK: "4", FdType.IPV6_SOCK: "6",
    FdType.DIRECTORY: "d", FdType.IPV4_SERVSOCK: "4", FdType.IPV6_SERVSOCK: "6",
    FdType.FIFO: "p", FdType.UNIX_SOCK: "u", FdType.EVENT: "e", FdType.UNKNOWN: "o",
    FdType.UNSUPPORTED: "X", FdType.SIGNALFD: "s", FdType.EVENTPOLL: "l",
    FdType.INOTIFY: "i", FdType.TIMERFD: "t", FdType.NETLINK: "n",
    # Types newer than sysdig 0.29.3 (which prints '?' for them), as newer libs name them.
    FdType.BPF: "b", FdType.USERFAULTFD: "u", FdType.IOURING: "r", FdType.MEMFD: "m",
    FdType.PIDFD: "P",
}
#: ``fd.type`` per type (``None``, printed ``<NA>``, for unknown types).
TYPE_NAMES: dict[int, str] = {
    FdType.FILE: "file", FdType.FILE_V2: "file", FdType.DIRECTORY: "directory",
    FdType.IPV4_SOCK: "ipv4", FdType.IPV4_SERVSOCK: "ipv4", FdType.IPV6_SOCK: "ipv6",
    FdType.IPV6_SERVSOCK: "ipv6", FdType.UNIX_SOCK: "unix", FdType.FIFO: "pipe",
    FdType.EVENT: "event", FdType.SIGNALFD: "signalfd", FdType.EVENTPOLL: "eventpoll",
    FdType.INOTIFY: "inotify", FdType.TIMERFD: "timerfd", FdType.NETLINK: "netlink",
    FdType.BPF: "bpf", FdType.USERFAULTFD: "userfaultfd", FdType.IOURING: "io_uring",
    FdType.MEMFD: "memfd", FdType.PIDFD: "pidfd",
}
#: Types newer than sysdig 0.29.3; with ``sysdig_compat`` their char/name are '?'/<NA>.
NEWER_TYPES = frozenset({FdType.BPF, FdType.USERFAULTFD, FdType.IOURING, FdType.MEMFD,
                         FdType.PIDFD})

_IP_SOCKETS = frozenset({FdType.IPV4_SOCK, FdType.IPV6_SOCK})
_SERVER_SOCKETS = frozenset({FdType.IPV4_SERVSOCK, FdType.IPV6_SERVSOCK})

_U16 = struct.Struct("<H")
_U64X2 = struct.Struct("<QQ")
_ZERO16 = bytes(16)


def is_ipv4_mapped(addr: bytes) -> bool:
    """sinsp's test: ``::ffff:a.b.c.d``, or the all-zero address (also taken as IPv4)."""
    return not any(addr[:10]) and (addr[10:12] == b"\xff\xff" or not any(addr[10:16]))


class SockInfo:
    """The socket area of an fd: 37 bytes seen through sinsp's overlapping layouts.

    ================  ===========================================================
    view              bytes
    ================  ===========================================================
    IPv4 tuple        sip 0-3, dip 4-7, sport 8-9, dport 10-11, l4proto 12
    IPv6 tuple        sip 0-15, dip 16-31, sport 32-33, dport 34-35, l4proto 36
    IPv4 server       ip 0-3, port 4-5, l4proto 6
    IPv6 server       ip 0-15, port 16-17, l4proto 18
    unix pair         source pointer 0-7, destination pointer 8-15
    ================  ===========================================================

    Addresses are kept in network byte order, ports and pointers little-endian.
    """

    __slots__ = ("raw",)
    SIZE = 37

    def __init__(self, raw: bytes | bytearray | None = None) -> None:
        self.raw = bytearray(raw) if raw is not None else bytearray(self.SIZE)

    def copy(self) -> SockInfo:
        return SockInfo(self.raw)

    def clear(self) -> None:
        self.raw[:] = bytes(self.SIZE)

    def _u16(self, at: int) -> int:
        return _U16.unpack_from(self.raw, at)[0]

    def _set_u16(self, at: int, value: int) -> None:
        _U16.pack_into(self.raw, at, value & 0xFFFF)

    def _bytes(self, at: int, size: int) -> bytes:
        return bytes(self.raw[at:at + size])

    def _set_bytes(self, at: int, size: int, value: bytes) -> None:
        """Write exactly ``size`` bytes (a short value is zero-padded, a long one cut)."""
        self.raw[at:at + size] = bytes(value[:size]).ljust(size, b"\0")

    def _set_u8(self, at: int, value: int) -> None:
        self.raw[at] = value & 0xFF

    # IPv4 tuple
    v4_sip = property(lambda s: s._bytes(0, 4), lambda s, v: s._set_bytes(0, 4, v))
    v4_dip = property(lambda s: s._bytes(4, 4), lambda s, v: s._set_bytes(4, 4, v))
    v4_sport = property(lambda s: s._u16(8), lambda s, v: s._set_u16(8, v))
    v4_dport = property(lambda s: s._u16(10), lambda s, v: s._set_u16(10, v))
    v4_l4proto = property(lambda s: s.raw[12], lambda s, v: s._set_u8(12, v))
    # IPv6 tuple
    v6_sip = property(lambda s: s._bytes(0, 16), lambda s, v: s._set_bytes(0, 16, v))
    v6_dip = property(lambda s: s._bytes(16, 16), lambda s, v: s._set_bytes(16, 16, v))
    v6_sport = property(lambda s: s._u16(32), lambda s, v: s._set_u16(32, v))
    v6_dport = property(lambda s: s._u16(34), lambda s, v: s._set_u16(34, v))
    v6_l4proto = property(lambda s: s.raw[36], lambda s, v: s._set_u8(36, v))
    # server addresses
    srv4_ip = property(lambda s: s._bytes(0, 4), lambda s, v: s._set_bytes(0, 4, v))
    srv4_port = property(lambda s: s._u16(4), lambda s, v: s._set_u16(4, v))
    srv4_l4proto = property(lambda s: s.raw[6], lambda s, v: s._set_u8(6, v))
    srv6_ip = property(lambda s: s._bytes(0, 16), lambda s, v: s._set_bytes(0, 16, v))
    srv6_port = property(lambda s: s._u16(16), lambda s, v: s._set_u16(16, v))
    srv6_l4proto = property(lambda s: s.raw[18], lambda s, v: s._set_u8(18, v))

    # unix pair
    @property
    def unix_pair(self) -> tuple[int, int]:
        return _U64X2.unpack_from(self.raw, 0)

    @unix_pair.setter
    def unix_pair(self, value: tuple[int, int]) -> None:
        _U64X2.pack_into(self.raw, 0, value[0] & (1 << 64) - 1, value[1] & (1 << 64) - 1)

    def swap_v4(self) -> None:
        sip, sport = self.v4_sip, self.v4_sport
        self.v4_sip, self.v4_sport = self.v4_dip, self.v4_dport
        self.v4_dip, self.v4_dport = sip, sport

    def swap_v6(self) -> None:
        sip, sport = self.v6_sip, self.v6_sport
        self.v6_sip, self.v6_sport = self.v6_dip, self.v6_dport
        self.v6_dip, self.v6_dport = sip, sport


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The typed view of an IP socket: local/remote are decided by the caller."""

    l4proto: L4
    client: tuple[IPv4Address | IPv6Address, int] | None  # (address, port)
    server: tuple[IPv4Address | IPv6Address, int] | None


@dataclass(slots=True, eq=False)
class FdInfo:
    """One open file descriptor."""

    type: int = FdType.UNKNOWN
    name: str = ""
    openflags: int = 0
    flags: int = 0
    dev: int = 0
    mount_id: int = 0
    ino: int = 0
    sock: SockInfo = field(default_factory=SockInfo)
    #: For a pidfd, the process it refers to.
    pid: int = 0
    #: The name when the fd was last looked up (sinsp's ``m_oldname``): an event whose
    #: parsing renames its fd has ``fd.name_changed``.
    oldname: str = ""

    # -- copies ------------------------------------------------------------------

    def copy(self) -> FdInfo:
        return FdInfo(self.type, self.name, self.openflags, self.flags, self.dev,
                      self.mount_id, self.ino, self.sock.copy(), self.pid, self.oldname)

    def assign(self, other: FdInfo) -> None:
        """Become a copy of ``other`` in place (references to this entry see it)."""
        self.type, self.name, self.openflags = other.type, other.name, other.openflags
        self.flags, self.dev, self.mount_id = other.flags, other.dev, other.mount_id
        self.ino, self.pid, self.oldname = other.ino, other.pid, other.oldname
        self.sock = other.sock.copy()

    # -- type ------------------------------------------------------------------------

    @property
    def typechar(self) -> str:
        return TYPE_CHARS.get(self.type, "?")

    @property
    def typestring(self) -> str | None:
        return TYPE_NAMES.get(self.type)

    @property
    def is_file(self) -> bool:
        return self.type in (FdType.FILE, FdType.FILE_V2)

    @property
    def is_directory(self) -> bool:
        return self.type == FdType.DIRECTORY

    @property
    def is_socket(self) -> bool:
        return self.type in (FdType.IPV4_SOCK, FdType.IPV6_SOCK, FdType.IPV4_SERVSOCK,
                             FdType.IPV6_SERVSOCK, FdType.UNIX_SOCK)

    @property
    def is_ip_socket(self) -> bool:
        return self.type in _IP_SOCKETS

    @property
    def is_server_socket(self) -> bool:
        """A bound (listening or receiving) socket: its name is one ``ip:port``."""
        return self.type in _SERVER_SOCKETS

    @property
    def is_tcp_ipv4(self) -> bool:
        """sinsp's ``is_tcp_socket`` test (deliberately IPv4 only)."""
        return self.type == FdType.IPV4_SOCK and self.sock.v4_l4proto == L4.TCP

    @property
    def is_udp_ipv4(self) -> bool:
        return self.type == FdType.IPV4_SOCK and self.sock.v4_l4proto == L4.UDP

    @property
    def cloexec(self) -> bool:
        return bool(self.openflags & OPEN_CLOEXEC)

    # -- role and connection state ---------------------------------------------------------

    @property
    def role(self) -> Role | None:
        if self.flags & FdFlag.ROLE_SERVER:
            return Role.SERVER
        if self.flags & FdFlag.ROLE_CLIENT:
            return Role.CLIENT
        return None

    @property
    def has_role(self) -> bool:
        return bool(self.flags & (FdFlag.ROLE_CLIENT | FdFlag.ROLE_SERVER))

    def set_role(self, role: Role) -> None:
        self.flags |= FdFlag.ROLE_SERVER if role is Role.SERVER else FdFlag.ROLE_CLIENT

    @property
    def connected(self) -> bool:
        return bool(self.flags & FdFlag.SOCKET_CONNECTED)

    def set_connection(self, state: FdFlag) -> None:
        """Set exactly one of SOCKET_CONNECTED / CONNECTION_PENDING / CONNECTION_FAILED."""
        self.flags &= ~(FdFlag.SOCKET_CONNECTED | FdFlag.CONNECTION_PENDING
                        | FdFlag.CONNECTION_FAILED)
        self.flags |= state

    def l4proto(self) -> L4:
        """The protocol as sinsp reports it (``fd.l4proto``): NA for a socket without a role."""
        t, s = self.type, self.sock
        if t == FdType.IPV4_SOCK:
            if s.v4_l4proto == L4.RAW:
                return L4.RAW
            return L4.NA if not self.has_role else _l4(s.v4_l4proto)
        if t == FdType.IPV6_SOCK:
            if s.v6_l4proto == L4.RAW:
                return L4.RAW
            return L4.NA if not self.has_role else _l4(s.v6_l4proto)
        if t == FdType.IPV4_SERVSOCK:
            return _l4(s.srv4_l4proto)
        if t == FdType.IPV6_SERVSOCK:
            return _l4(s.srv6_l4proto)
        return L4.NA

    # -- typed views --------------------------------------------------------------------

    @property
    def endpoints(self) -> Endpoints | None:
        """Client and server ends of an IP socket (server only for a bound socket)."""
        t, s = self.type, self.sock
        if t == FdType.IPV4_SOCK:
            return Endpoints(_l4(s.v4_l4proto), (IPv4Address(s.v4_sip), s.v4_sport),
                             (IPv4Address(s.v4_dip), s.v4_dport))
        if t == FdType.IPV6_SOCK:
            return Endpoints(_l4(s.v6_l4proto), (IPv6Address(s.v6_sip), s.v6_sport),
                             (IPv6Address(s.v6_dip), s.v6_dport))
        if t == FdType.IPV4_SERVSOCK:
            return Endpoints(_l4(s.srv4_l4proto), None, (IPv4Address(s.srv4_ip), s.srv4_port))
        if t == FdType.IPV6_SERVSOCK:
            return Endpoints(_l4(s.srv6_l4proto), None, (IPv6Address(s.srv6_ip), s.srv6_port))
        return None

    @property
    def unix_peers(self) -> tuple[int, int] | None:
        """(source, destination) kernel socket pointers of a unix socket."""
        return self.sock.unix_pair if self.type == FdType.UNIX_SOCK else None


_CLOSE_IN_PROGRESS = int(FdFlag.CLOSE_IN_PROGRESS)
_CLOSE_CANCELED = int(FdFlag.CLOSE_CANCELED)
_IS_CLONED = int(FdFlag.IS_CLONED)

#: ``PPM_O_CLOEXEC``: the close-on-exec bit of ``FdInfo.openflags``.
OPEN_CLOEXEC = 1 << 12
#: ``PPM_O_DIRECTORY``.
OPEN_DIRECTORY = 1 << 10


def _l4(value: int) -> L4:
    try:
        return L4(value)
    except ValueError:
        return L4.UNKNOWN


class FdBudget:
    """How many fds all tables hold together, against a global cap (``refused``: fds not
    tracked because a table or the budget was full)."""

    __slots__ = ("limit", "used", "refused")

    def __init__(self, limit: int = MAX_FDS_TOTAL) -> None:
        self.limit = limit
        self.used = 0
        self.refused = 0

    def take(self) -> bool:
        if self.used >= self.limit:
            self.refused += 1
            return False
        self.used += 1
        return True


class FdTable:
    """The fds of one process (threads sharing ``CLONE_FILES`` share one table).

    At most ``limit`` fds are tracked, and no more than the shared ``budget`` allows
    across all tables; creating one more is ignored (sinsp's rule for its per-table
    limit). Replacing an fd rewrites the existing entry in place, so an :class:`FdInfo`
    held by an earlier event context sees the new content, as in sinsp.
    """

    __slots__ = ("_fds", "limit", "budget")

    def __init__(self, limit: int = MAX_FDS_PER_THREAD, budget: FdBudget | None = None) -> None:
        self._fds: dict[int, FdInfo] = {}
        self.limit = limit
        self.budget = budget if budget is not None else FdBudget()

    def __len__(self) -> int:
        return len(self._fds)

    def __contains__(self, fd: int) -> bool:
        return fd in self._fds

    def __iter__(self) -> Iterator[int]:
        return iter(self._fds)

    def items(self):
        return self._fds.items()

    def get(self, fd: int) -> FdInfo | None:
        if fd < 0:
            return None
        return self._fds.get(fd)

    def add(self, fd: int, info: FdInfo) -> FdInfo | None:
        """Store a copy of ``info`` as ``fd``; the stored entry, or None when the table is full."""
        current = self._fds.get(fd)
        if current is None:
            if len(self._fds) >= self.limit:
                self.budget.refused += 1
                return None
            if not self.budget.take():
                return None
            entry = info.copy()
            self._fds[fd] = entry
            return entry
        if current.flags & _CLOSE_IN_PROGRESS:
            # A new fd took the number while a close of the old one was in flight:
            # park the old entry so the close exit removes it, not the new one.
            info.flags = (info.flags & ~_CLOSE_IN_PROGRESS) | _CLOSE_CANCELED
            if CANCELED_FD in self._fds or self.budget.take():
                self._fds[CANCELED_FD] = current.copy()
        current.assign(info)
        return current

    def remove(self, fd: int) -> FdInfo | None:
        info = self._fds.pop(fd, None)
        if info is not None:
            self.budget.used -= 1
        return info

    def clear(self) -> None:
        self.budget.used -= len(self._fds)
        self._fds.clear()

    def copy(self) -> FdTable:
        """A deep copy (a forked child's table), every entry marked as cloned."""
        table = FdTable(self.limit, self.budget)
        for fd, info in self._fds.items():
            if not self.budget.take():
                break
            dup = info.copy()
            dup.flags |= _IS_CLONED
            table._fds[fd] = dup
        return table

    def retain(self, keep) -> None:
        """Drop every fd for which ``keep(fd, info)`` is false."""
        for fd in [fd for fd, info in self._fds.items() if not keep(fd, info)]:
            self.remove(fd)


# -- names ---------------------------------------------------------------------------------


def _port(port: int) -> str:
    return str(port)


def ipv4_tuple_name(sip: bytes, sport: int, dip: bytes, dport: int) -> str:
    return f"{format_ipv4(sip)}:{_port(sport)}->{format_ipv4(dip)}:{_port(dport)}"


def ipv6_tuple_name(sip: bytes, sport: int, dip: bytes, dport: int) -> str:
    return f"{format_ipv6(sip)}:{_port(sport)}->{format_ipv6(dip)}:{_port(dport)}"


def ipv4_server_name(ip: bytes, port: int) -> str:
    return f"{format_ipv4(ip)}:{_port(port)}"


def ipv6_server_name(ip: bytes, port: int) -> str:
    return f"{format_ipv6(ip)}:{_port(port)}"


def sockinfo_name(fd: FdInfo) -> str:
    """The name sinsp gives an IP socket from its tuple (``sockinfo_to_str``)."""
    s = fd.sock
    if fd.type == FdType.IPV4_SOCK:
        proto = s.v4_l4proto
        if proto in (L4.TCP, L4.UDP):
            return ipv4_tuple_name(s.v4_sip, s.v4_sport, s.v4_dip, s.v4_dport)
        if proto in (L4.ICMP, L4.RAW):
            return f"{format_ipv4(s.v4_sip)}->{format_ipv4(s.v4_dip)}"
        return "<unknown>"
    if fd.type == FdType.IPV6_SOCK:
        proto = s.v6_l4proto
        sip, dip = s.v6_sip, s.v6_dip
        mapped = is_ipv4_mapped(sip) and is_ipv4_mapped(dip)
        if proto in (L4.TCP, L4.UDP):
            if mapped:
                # sinsp reads the ports through the IPv4 view here (offsets 8 and 10).
                return ipv4_tuple_name(sip[12:], s.v4_sport, dip[12:], s.v4_dport)
            return ipv6_tuple_name(sip, s.v6_sport, dip, s.v6_dport)
        if proto == L4.ICMP:
            if mapped:
                return f"{format_ipv4(sip[12:])}->{format_ipv4(dip[12:])}"
            return f"{format_ipv6(sip)}->{format_ipv6(dip)}"
        return "<unknown>"
    return ""


def proc_socket_name(fd: FdInfo) -> str:
    """The name of a socket read from the fd-list block (before any event)."""
    s = fd.sock
    if fd.type == FdType.IPV4_SOCK:
        return ipv4_tuple_name(s.v4_sip, s.v4_sport, s.v4_dip, s.v4_dport)
    if fd.type == FdType.IPV6_SOCK:
        return ipv6_tuple_name(s.v6_sip, s.v6_sport, s.v6_dip, s.v6_dport)
    if fd.type == FdType.IPV4_SERVSOCK:
        return ipv4_server_name(s.srv4_ip, s.srv4_port)
    if fd.type == FdType.IPV6_SERVSOCK:
        return ipv6_server_name(s.srv6_ip, s.srv6_port)
    return fd.name


# Family codes as the drivers store them.
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


def sockaddr_string(raw: bytes) -> str:
    """A SOCKADDR parameter rendered as sinsp 0.29.3 does (``NULL``, ``ip:port``, path)."""
    if not raw:
        return "NULL"
    family = raw[0]
    if family == AF_UNIX:
        return sanitize(to_text(c_string(raw[1:MAX_NAME + 1])))
    if family == AF_INET:
        if len(raw) != 7:
            return "INVALID IPv4"
        return ipv4_server_name(raw[1:5], _U16.unpack_from(raw, 5)[0])
    if family == AF_INET6:
        if len(raw) != 19:
            return "INVALID IPv6"
        return ipv6_server_name(raw[1:17], _U16.unpack_from(raw, 17)[0])
    return f"family {_signed8(family)}"


def socktuple_string(raw: bytes) -> str:
    """A SOCKTUPLE parameter rendered as sinsp 0.29.3 does."""
    if not raw:
        return "NULL"
    family = raw[0]
    if family == AF_INET:
        if len(raw) != 13:
            return "INVALID IPv4"
        return ipv4_tuple_name(raw[1:5], _U16.unpack_from(raw, 5)[0], raw[7:11],
                               _U16.unpack_from(raw, 11)[0])
    if family == AF_INET6:
        if len(raw) != 37:
            return "INVALID IPv6"
        sip, dip = raw[1:17], raw[19:35]
        sport, dport = _U16.unpack_from(raw, 17)[0], _U16.unpack_from(raw, 35)[0]
        if is_ipv4_mapped(sip) and is_ipv4_mapped(dip):
            return ipv4_tuple_name(sip[12:], sport, dip[12:], dport)
        return ipv6_tuple_name(sip, sport, dip, dport)
    if family == AF_UNIX:
        if len(raw) < 17:
            return "INVALID unix"
        src, dst = _U64X2.unpack_from(raw, 1)
        return f"{src:x}->{dst:x} {sanitize(to_text(c_string(raw[17:17 + MAX_NAME])))}"
    return f"family {_signed8(family)}"


def _signed8(value: int) -> int:
    return value - 256 if value > 127 else value
