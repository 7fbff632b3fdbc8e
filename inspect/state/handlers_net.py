"""Handlers for sockets: socket/socketpair, bind, connect, accept, send/recv tuples, getsockopt.

Each handler follows sinsp (libs e5c53d64). Socket tuples are written through the
overlapping views of :class:`~.fds.SockInfo`, in sinsp's order, so sockets that change
role end up exactly as sysdig shows them.

Roles: ``accept`` makes a server-side fd, ``connect`` a client one, ``bind`` to a
non-zero port a server socket. A datagram socket whose role is still unknown when it
first sends or receives is classified by its ports (a process that owns the local port
is the server), and its tuple is then stored client-first.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from scapkit.scapfile.event_table import EF

from .fds import (AF_INET, AF_INET6, AF_UNIX, L4, MAX_NAME, OPEN_CLOEXEC, FdFlag, FdInfo,
                  FdType, Role, is_ipv4_mapped, sockaddr_string, sockinfo_name,
                  socktuple_string)
from .paths import c_string, to_text
from .registry import handles, stores_enter
from .threads import ThreadInfo

if TYPE_CHECKING:
    from .engine import EventContext, StateEngine

_U16 = struct.Struct("<H")
_U64X2 = struct.Struct("<QQ")
_ZERO4, _ZERO16 = bytes(4), bytes(16)

AF_NETLINK = 16
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
SOCK_CLOEXEC = 0o2000000
IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW = 0, 1, 6, 17, 255
EINPROGRESS = 115
SOL_SOCKET, SO_ERROR = 1, 4
_READS_FROM_FD = int(EF.READS_FROM_FD)

stores_enter("socket", "sendto", "sendmsg", "shutdown", "sendfile")


def _u16(raw: bytes, at: int) -> int:
    return _U16.unpack_from(raw, at)[0] if len(raw) >= at + 2 else 0


def _unix_pair(raw: bytes) -> tuple[int, int]:
    """The two pointers at bytes 1-16 (zero-padded when the value is shorter)."""
    return _U64X2.unpack_from(raw[1:17].ljust(16, b"\0"))


# -- socket creation ------------------------------------------------------------------------------


def add_socket(eng: StateEngine, ctx: EventContext, fd: int, domain: int, type: int,
               protocol: int) -> None:
    """Track a new socket of this domain/type/protocol."""
    info = FdInfo(type=FdType.UNKNOWN)
    if domain == AF_UNIX:
        info.type = FdType.UNIX_SOCK
    elif domain in (AF_INET, AF_INET6):
        info.type = FdType.IPV4_SOCK if domain == AF_INET else FdType.IPV6_SOCK
        raw = type == SOCK_RAW
        l4 = L4.UNKNOWN
        if protocol == IPPROTO_TCP:
            l4 = L4.RAW if raw else L4.TCP
        elif protocol == IPPROTO_UDP:
            l4 = L4.RAW if raw else L4.UDP
        elif protocol == IPPROTO_IP:
            if type & 0xFF == SOCK_STREAM:
                l4 = L4.TCP
            elif type & 0xFF == SOCK_DGRAM:
                l4 = L4.UDP
        elif protocol == IPPROTO_ICMP:
            l4 = L4.RAW if raw else L4.ICMP
        elif protocol == IPPROTO_RAW:
            l4 = L4.RAW
        if domain == AF_INET:
            info.sock.v4_l4proto = l4
        else:
            info.sock.v6_l4proto = l4
    elif domain == AF_NETLINK:
        info.type = FdType.NETLINK
    # Other families (AF_PACKET...) are tracked as sockets of unknown type: sysdig
    # 0.29.3 is built with INCLUDE_UNKNOWN_SOCKET_FDS.
    if type & SOCK_CLOEXEC:
        info.openflags |= OPEN_CLOEXEC
    eng.add_fd(ctx, fd, info)


@handles("socket")
def socket_exit(eng: StateEngine, ctx: EventContext) -> None:
    fd = ctx.args.int("fd")
    if fd is None or fd < 0 or ctx.thread is None:
        return
    enter = eng.enter_args(ctx)
    if enter is None:
        return
    add_socket(eng, ctx, fd, enter.int("domain", 0), enter.int("type", 0),  # type: ignore[arg-type]
               enter.int("proto", 0))  # type: ignore[arg-type]


@handles("sendto", direction=">")
def sendto_enter(eng: StateEngine, ctx: EventContext) -> None:
    """A sendto on an fd never seen created: assume a UDP socket of the tuple's family."""
    if ctx.fd is not None or ctx.thread is None:
        return
    fd = ctx.args.int("fd")
    raw = ctx.args.raw("tuple")
    if fd is None or fd < 0 or not raw:
        return
    if raw[0] in (AF_INET, AF_INET6):
        add_socket(eng, ctx, fd, raw[0], SOCK_DGRAM, IPPROTO_UDP)


@handles("socketpair")
def socketpair_exit(eng: StateEngine, ctx: EventContext) -> None:
    args = ctx.args
    res = args.int("res")
    if res is None or res < 0 or ctx.thread is None:
        return
    fd1, fd2 = args.int("fd1"), args.int("fd2")
    if fd1 is None or fd2 is None:
        return
    info = FdInfo(type=FdType.UNIX_SOCK)
    info.sock.unix_pair = (args.int("source", 0) or 0, args.int("peer", 0) or 0)
    first = eng.add_fd(ctx, fd1, info)
    eng.threads.add_fd(ctx.thread, fd2, info)
    ctx.fd = first


# -- tuples ---------------------------------------------------------------------------------------


def _update_ipv4(fd: FdInfo, sip: bytes, sport: int, dip: bytes, dport: int) -> bool:
    s = fd.sock
    if fd.type == FdType.IPV4_SOCK:
        if ((sip, sport, dip, dport) == (s.v4_sip, s.v4_sport, s.v4_dip, s.v4_dport)
                or (dip, dport, sip, sport) == (s.v4_sip, s.v4_sport, s.v4_dip, s.v4_dport)):
            return False
    changed = False
    if s.v4_sip != sip:
        s.v4_sip, changed = sip, True
    if s.v4_sport != sport:
        s.v4_sport, changed = sport, True
    if s.v4_dip == _ZERO4:
        s.v4_dip, changed = dip, True
    if s.v4_dport == 0:
        s.v4_dport, changed = dport, True
    return changed


def set_ipv4_tuple(fd: FdInfo, raw: bytes) -> bool:
    return _update_ipv4(fd, raw[1:5], _u16(raw, 5), raw[7:11], _u16(raw, 11))


def set_ipv4_mapped_tuple(fd: FdInfo, raw: bytes) -> bool:
    return _update_ipv4(fd, raw[13:17], _u16(raw, 17), raw[31:35], _u16(raw, 35))


def set_ipv6_tuple(fd: FdInfo, raw: bytes) -> bool:
    s = fd.sock
    sip, sport, dip, dport = raw[1:17], _u16(raw, 17), raw[19:35], _u16(raw, 35)
    if fd.type == FdType.IPV6_SOCK:
        if ((sip, sport, dip, dport) == (s.v6_sip, s.v6_sport, s.v6_dip, s.v6_dport)
                or (dip, dport, sip, sport) == (s.v6_sip, s.v6_sport, s.v6_dip, s.v6_dport)):
            return False
    changed = False
    if s.v6_sip != sip:
        s.v6_sip, changed = sip, True
    if s.v6_sport != sport:
        s.v6_sport, changed = sport, True
    if s.v6_dip == _ZERO16:
        s.v6_dip, changed = dip, True
    if s.v6_dport == 0:
        s.v6_dport, changed = dport, True
    return changed


def _swap(fd: FdInfo) -> None:
    if fd.type == FdType.IPV4_SOCK:
        fd.sock.swap_v4()
    else:
        fd.sock.swap_v6()


def _both_mapped(raw: bytes) -> bool:
    return is_ipv4_mapped(raw[1:17]) and is_ipv4_mapped(raw[19:35])


def update_from_tuple(eng: StateEngine, fd: FdInfo, raw: bytes) -> bool:
    """Merge a tuple seen on a send/receive into the fd (sinsp's ``update_fd``)."""
    if not raw:
        return False
    family = raw[0]
    s = fd.sock
    if family == AF_INET:
        if fd.type == FdType.IPV4_SERVSOCK:
            s.v4_l4proto = s.srv4_l4proto
        fd.type = FdType.IPV4_SOCK
        if not set_ipv4_tuple(fd, raw):
            return False
    elif family == AF_INET6:
        if _both_mapped(raw):
            fd.type = FdType.IPV4_SOCK
            if not set_ipv4_mapped_tuple(fd, raw):
                return False
        elif not set_ipv6_tuple(fd, raw):
            return False
    elif family == AF_UNIX:
        fd.type = FdType.UNIX_SOCK
        s.unix_pair = _unix_pair(raw)
        fd.name = to_text(c_string(raw[17:17 + MAX_NAME]))
        return True
    # A tuple changing under a socket of unknown protocol can only be UDP.
    if fd.type == FdType.IPV4_SOCK and s.v4_l4proto == L4.UNKNOWN:
        s.v4_l4proto = L4.UDP
    elif fd.type == FdType.IPV6_SOCK and s.v6_l4proto == L4.UNKNOWN:
        s.v6_l4proto = L4.UDP
    eng.interfaces.complete_tuple(fd)
    return True


def _bound_to_port(eng: StateEngine, thread: ThreadInfo, port: int) -> bool:
    table = eng.threads.fd_table(thread)
    if table is None:
        return False
    for _, info in table.items():
        if info.type == FdType.IPV4_SOCK and info.sock.v4_dport == port:
            return True
        if info.type == FdType.IPV4_SERVSOCK and info.sock.srv4_port == port:
            return True
    return False


def _uses_client_port(eng: StateEngine, thread: ThreadInfo, port: int) -> bool:
    table = eng.threads.fd_table(thread)
    if table is None:
        return False
    return any(i.type == FdType.IPV4_SOCK and i.sock.v4_sport == port for _, i in table.items())


def guess_role(eng: StateEngine, thread: ThreadInfo, fd: FdInfo, incoming: bool) -> None:
    """Client or server for a socket first seen on a send/receive (sinsp reads the IPv4
    view of the ports even for IPv6 sockets; kept for fidelity)."""
    if _bound_to_port(eng, thread, fd.sock.v4_dport):
        if not _uses_client_port(eng, thread, fd.sock.v4_sport):
            fd.set_role(Role.SERVER)
            return
        if not fd.has_role:
            fd.set_role(Role.SERVER if incoming else Role.CLIENT)
        return
    fd.set_role(Role.CLIENT)


# -- bind / connect / accept ----------------------------------------------------------------------


@handles("bind")
def bind_exit(eng: StateEngine, ctx: EventContext) -> None:
    """A socket bound to a non-zero port becomes a server socket named ``ip:port``."""
    fd = ctx.fd
    res = ctx.args.int("res")
    raw = ctx.args.raw("addr")
    if fd is None or res is None or res < 0 or not raw:
        return
    s = fd.sock
    family = raw[0]
    if family == AF_INET:
        port = _u16(raw, 5)
        if port > 0:
            fd.type = FdType.IPV4_SERVSOCK
            s.srv4_ip = raw[1:5]
            s.srv4_port = port
            s.srv4_l4proto = s.v4_l4proto
            fd.set_role(Role.SERVER)
    elif family == AF_INET6:
        ip, port = raw[1:17], _u16(raw, 17)
        if port > 0:
            if is_ipv4_mapped(ip):
                fd.type = FdType.IPV4_SERVSOCK
                s.srv4_l4proto = s.v6_l4proto
                s.srv4_ip = raw[13:17]
                s.srv4_port = port
            else:
                fd.type = FdType.IPV6_SERVSOCK
                s.srv6_port = port
                s.srv6_ip = ip
                s.srv6_l4proto = s.v6_l4proto
            fd.set_role(Role.SERVER)
    fd.name = sockaddr_string(raw)


@handles("connect", direction=">")
def connect_enter(eng: StateEngine, ctx: EventContext) -> None:
    """The destination is known before the connection completes."""
    fd = ctx.fd
    if fd is None:
        return
    if eng.track_connection_status:
        fd.set_connection(FdFlag.CONNECTION_PENDING)
    raw = ctx.args.raw("addr")
    if not raw:
        return
    s = fd.sock
    family = raw[0]
    if family == AF_INET:
        fd.type = FdType.IPV4_SOCK
        s.v4_dip = raw[1:5].ljust(4, b"\0")
        s.v4_dport = _u16(raw, 5)
    elif family == AF_INET6:
        port, ip = _u16(raw, 17), raw[1:17].ljust(16, b"\0")
        if is_ipv4_mapped(ip):
            fd.type = FdType.IPV4_SOCK
            s.v4_dip = ip[12:16]
            s.v4_dport = port
        else:
            fd.type = FdType.IPV6_SOCK
            s.v6_dport = port
            s.v6_dip = ip
    else:
        fd.name = sockaddr_string(raw)
        s.unix_pair = _unix_pair(raw)


def fill_client(eng: StateEngine, fd: FdInfo, raw: bytes) -> None:
    """A connected socket's tuple and name (sinsp's ``fill_client_socket_info``)."""
    family = raw[0]
    if family in (AF_INET, AF_INET6):
        if family == AF_INET6 and not _both_mapped(raw):
            fd.type = FdType.IPV6_SOCK
            changed = set_ipv6_tuple(fd, raw)
        elif family == AF_INET6:
            fd.type = FdType.IPV4_SOCK
            changed = set_ipv4_mapped_tuple(fd, raw)
        else:
            fd.type = FdType.IPV4_SOCK
            changed = set_ipv4_tuple(fd, raw)
        if changed and fd.role is Role.SERVER and fd.is_udp_ipv4:
            _swap(fd)  # a UDP server that connects: keep the tuple client-first
        fd.name = sockinfo_name(fd)
    else:
        fd.name = socktuple_string(raw)
        fd.sock.unix_pair = _unix_pair(raw)
    if not fd.has_role:
        fd.set_role(Role.CLIENT)


@handles("connect")
def connect_exit(eng: StateEngine, ctx: EventContext) -> None:
    fd = ctx.fd
    res = ctx.args.int("res")
    if fd is None or res is None:
        return
    if eng.track_connection_status:
        if res == -EINPROGRESS:
            fd.set_connection(FdFlag.CONNECTION_PENDING)
        elif res < 0:
            fd.set_connection(FdFlag.CONNECTION_FAILED)
        else:
            fd.set_connection(FdFlag.SOCKET_CONNECTED)
    elif res < 0 and res != -EINPROGRESS:
        return
    else:
        fd.set_connection(FdFlag.SOCKET_CONNECTED)
    raw = ctx.args.raw("tuple")
    if not raw:
        return
    fill_client(eng, fd, raw)


@handles("accept", "accept4")
def accept_exit(eng: StateEngine, ctx: EventContext) -> None:
    """A connection accepted: a new connected, server-side fd named by its tuple."""
    thread = ctx.thread
    fd = ctx.args.int("fd")
    if thread is None or fd is None or fd < 0:
        return
    thread.lastevent_fd = fd
    raw = ctx.args.raw("tuple")
    if not raw:
        return
    info = FdInfo(type=-1)
    family = raw[0]
    if family == AF_INET:
        set_ipv4_tuple(info, raw)
        info.type = FdType.IPV4_SOCK
        info.sock.v4_l4proto = L4.TCP
    elif family == AF_INET6:
        if _both_mapped(raw):
            set_ipv4_mapped_tuple(info, raw)
            info.type = FdType.IPV4_SOCK
            info.sock.v4_l4proto = L4.TCP
        else:
            set_ipv6_tuple(info, raw)
            info.type = FdType.IPV6_SOCK
            info.sock.v6_l4proto = L4.TCP
    elif family == AF_UNIX:
        info.type = FdType.UNIX_SOCK
        info.sock.unix_pair = _unix_pair(raw)
    else:
        return
    info.name = socktuple_string(raw)
    info.flags = FdFlag.ROLE_SERVER | FdFlag.SOCKET_CONNECTED
    flags = ctx.args.int("flags", 0) or 0
    if flags & SOCK_CLOEXEC:
        info.openflags |= OPEN_CLOEXEC
    eng.add_fd(ctx, fd, info)


# -- data transfer --------------------------------------------------------------------------------


def _name_after_update(eng: StateEngine, ctx: EventContext, fd: FdInfo, raw: bytes,
                       incoming: bool) -> None:
    if fd.type in (FdType.IPV4_SOCK, FdType.IPV6_SOCK):
        assert ctx.thread is not None
        if not fd.has_role:
            guess_role(eng, ctx.thread, fd, incoming)
        if fd.role is (Role.CLIENT if incoming else Role.SERVER):
            _swap(fd)
        fd.name = sockinfo_name(fd)
    else:
        fd.name = socktuple_string(raw)


_READ_TUPLES = {"recvfrom", "recvmsg"}
_WRITE_TUPLES = {"sendto", "sendmsg"}


@handles("read", "write", "recv", "send", "recvfrom", "recvmsg", "sendto", "sendmsg", "readv",
         "writev", "pread", "pwrite", "preadv", "pwritev")
def transfer_exit(eng: StateEngine, ctx: EventContext) -> None:
    """Data moved: a datagram socket learns its peer from the tuple of each message."""
    fd = ctx.fd
    res = ctx.args.int("res")
    if fd is None or res is None:
        return
    if res < 0:
        if eng.track_connection_status and fd.is_ip_socket:
            fd.set_connection(FdFlag.CONNECTION_FAILED)
        return
    if fd.is_ip_socket:
        fd.set_connection(FdFlag.SOCKET_CONNECTED)
    name = ctx.event.name
    if ctx.flags & _READS_FROM_FD:
        if name in _READ_TUPLES and (fd.name == "" or not fd.is_tcp_ipv4):
            raw = ctx.args.raw("tuple")
            if raw is not None and update_from_tuple(eng, fd, raw):
                _name_after_update(eng, ctx, fd, raw, incoming=True)
    elif name in _WRITE_TUPLES and (fd.name == "" or not fd.is_tcp_ipv4):
        enter = eng.enter_args(ctx)
        if enter is None:
            return
        raw = enter.raw("tuple")
        if raw is not None and update_from_tuple(eng, fd, raw):
            _name_after_update(eng, ctx, fd, raw, incoming=False)


@handles("getsockopt")
def getsockopt_exit(eng: StateEngine, ctx: EventContext) -> None:
    """getsockopt names its fd in the exit; SO_ERROR tells a connection's outcome."""
    thread = ctx.thread
    if thread is None or not len(ctx.args):
        return
    fd = ctx.args.int("fd")
    if fd is None:
        return
    main = eng.threads.main_thread(thread)
    ctx.fd = None if main is None else eng.threads.get_fd(main, fd)
    thread.lastevent_fd = fd
    if not eng.track_connection_status:
        return
    res = ctx.args.int("res")
    if res is None or res < 0 or ctx.fd is None:
        return
    if ctx.args.int("level") == SOL_SOCKET and ctx.args.int("optname") == SO_ERROR:
        val = ctx.args.raw("val") or b""
        err = struct.unpack_from("<q", val, 1)[0] if len(val) >= 9 else 0
        ctx.errorcode = err
        ctx.fd.set_connection(FdFlag.CONNECTION_FAILED if err < 0 else FdFlag.SOCKET_CONNECTED)
