"""``fd.*`` fields: the file descriptor an event works on.

The per-fd values are the state views of :mod:`scapkit.inspect.state.view`; the
filter-only fields (``fd.ip``, ``fd.port``, ``fd.net``...) give every address or port of
the socket (client and server), so that ``=`` matches either end and ``!=`` needs both
to differ, as sinsp's ``compare_ip``/``compare_port``/``compare_net`` do. Semantics of
sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_fd``); the poll lists (``fdlist.*``)
are in :mod:`.fields_fdlist`.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any

from scapkit.inspect.state import view as V
from scapkit.inspect.state.fds import FdType
from scapkit.scapfile.event_table import EF, EVENTS

from .fields import field, field_class, register_view

if TYPE_CHECKING:
    from scapkit.inspect.state.engine import EventContext

_FD_EVENTS = int(EF.CREATES_FD | EF.USES_FD | EF.DESTROYS_FD)
_CODE = {e.symbol: e.code for e in EVENTS}


def _fd(ctx: EventContext):
    """The fd of an fd event (None otherwise, or when unknown)."""
    return ctx.fd if ctx.fd_num is not None else None


field_class("fd", "fd", "", "The file descriptor (file, socket, pipe...) the event works on.")

register_view("fd.num", "INT64", "the fd number", V.fd_num, fmt="ID")
register_view("fd.type", "CHARBUF", "fd type: file, directory, ipv4, ipv6, unix, pipe, "
              "event, signalfd, eventpoll, inotify, timerfd, netlink", V.fd_type, fmt="DEC")
register_view("fd.typechar", "CHARBUF", "fd type as one character: f file, 4 IPv4, 6 IPv6, "
              "u unix, p pipe, e eventfd, s signalfd, l eventpoll, i inotify, o unknown",
              V.fd_typechar, fmt="DEC")
register_view("fd.name", "CHARBUF", "the fd's name: a file's full path, a socket's "
              "connection tuple", V.fd_name)
register_view("fd.directory", "CHARBUF", "for files, the directory", V.fd_directory)
register_view("fd.filename", "CHARBUF", "for files, the name without the directory",
              V.fd_filename)


def _ips(ctx: EventContext) -> tuple[Any, ...]:
    fd = _fd(ctx)
    if fd is None:
        return ()
    s = fd.sock
    t = fd.type
    if t == FdType.IPV4_SOCK:
        return IPv4Address(s.v4_sip), IPv4Address(s.v4_dip)
    if t == FdType.IPV6_SOCK:
        return IPv6Address(s.v6_sip), IPv6Address(s.v6_dip)
    if t == FdType.IPV4_SERVSOCK:
        return (IPv4Address(s.srv4_ip),)
    if t == FdType.IPV6_SERVSOCK:
        return (IPv6Address(s.srv6_ip),)
    return ()


def _ports(ctx: EventContext) -> tuple[int, ...]:
    fd = _fd(ctx)
    if fd is None:
        return ()
    s = fd.sock
    t = fd.type
    if t == FdType.IPV4_SOCK:
        return s.v4_sport, s.v4_dport
    if t == FdType.IPV6_SOCK:
        return s.v6_sport, s.v6_dport
    if t == FdType.IPV4_SERVSOCK:
        return (s.srv4_port,)
    if t == FdType.IPV6_SERVSOCK:
        return (s.srv6_port,)
    return ()


_EQ_OPS = frozenset({"=", "==", "!=", "in", "intersects", "exists"})

field("fd.ip", "IPADDR", "(filters) matches the client or the server address",
      multi=True, filter_only=True, ops=_EQ_OPS)(_ips)
register_view("fd.cip", "IPADDR", "client address", V.fd_cip)
register_view("fd.sip", "IPADDR", "server address", V.fd_sip)
register_view("fd.lip", "IPADDR", "local address", V.fd_lip)
register_view("fd.rip", "IPADDR", "remote address", V.fd_rip)
field("fd.port", "PORT", "(filters) matches the client or the server port", fmt="DEC",
      multi=True, filter_only=True)(_ports)
register_view("fd.cport", "PORT", "client port (TCP/UDP)", V.fd_cport, fmt="DEC")
register_view("fd.sport", "PORT", "server port (TCP/UDP)", V.fd_sport, fmt="DEC")
register_view("fd.lport", "PORT", "local port (TCP/UDP)", V.fd_lport, fmt="DEC")
register_view("fd.rport", "PORT", "remote port (TCP/UDP)", V.fd_rport, fmt="DEC")
register_view("fd.l4proto", "CHARBUF", "IP protocol of a socket: tcp, udp, icmp or raw",
              V.fd_l4proto)
register_view("fd.sockfamily", "CHARBUF", "socket family: ip or unix", V.fd_sockfamily)
register_view("fd.is_server", "BOOL", "true when the process is the server end of the "
              "connection", V.fd_is_server)


@field("fd.uid", "CHARBUF", "an id of the fd: the thread id and fd number chained")
def fd_uid(ctx: EventContext) -> str | None:
    t = ctx.thread
    if not ctx.flags & _FD_EVENTS or t is None or ctx.event.type in _CONTAINER_JSON:
        return None
    return f"{t.tid}{t.lastevent_fd}"


_CONTAINER_JSON = frozenset({_CODE["CONTAINER_JSON_E"], _CODE["CONTAINER_JSON_2_E"]})


def _container_prefix(ctx: EventContext, text: str | None) -> str | None:
    t = ctx.thread
    return None if text is None else f"{t.container_id if t is not None else ''}:{text}"


@field("fd.containername", "CHARBUF", "container id and fd name chained (container:name)")
def fd_containername(ctx: EventContext) -> str | None:
    return _container_prefix(ctx, V.fd_name(ctx))


@field("fd.containerdirectory", "CHARBUF", "container id and directory chained")
def fd_containerdirectory(ctx: EventContext) -> str | None:
    return _container_prefix(ctx, V.fd_directory(ctx))


field("fd.proto", "PORT", "(filters) matches the client or the server port", multi=True,
      filter_only=True)(_ports)


def _port_text(view: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> str | None:
        port = view(ctx)
        return None if port is None else str(port)
    return extract


@field("fd.cproto", "CHARBUF", "client port as text (TCP/UDP)")
def fd_cproto(ctx: EventContext) -> str | None:
    fd = _fd(ctx)
    if fd is None or fd.role is None:
        return None
    if fd.type == FdType.IPV4_SOCK:
        return str(fd.sock.v4_sport)
    if fd.type == FdType.IPV6_SOCK:
        return str(fd.sock.v6_sport)
    return ""


@field("fd.sproto", "CHARBUF", "server port as text (TCP/UDP)")
def fd_sproto(ctx: EventContext) -> str | None:
    fd = _fd(ctx)
    if fd is None:
        return None
    if fd.type in (FdType.IPV4_SOCK, FdType.IPV6_SOCK):
        if fd.role is None:
            return None
        return str(fd.sock.v4_dport if fd.type == FdType.IPV4_SOCK else fd.sock.v6_dport)
    if fd.type in (FdType.IPV4_SERVSOCK, FdType.IPV6_SERVSOCK):
        return ""
    return None


field("fd.lproto", "CHARBUF", "local port as text (TCP/UDP)")(_port_text(V.fd_lport))
field("fd.rproto", "CHARBUF", "remote port as text (TCP/UDP)")(_port_text(V.fd_rport))
field("fd.net", "IPNET", "(filters) matches the network of the client or the server",
      multi=True, filter_only=True, ops=_EQ_OPS)(_ips)
field("fd.cnet", "IPNET", "(filters) matches the client's network", filter_only=True,
      ops=_EQ_OPS)(V.fd_cip)
field("fd.snet", "IPNET", "(filters) matches the server's network", filter_only=True,
      ops=_EQ_OPS)(V.fd_sip)
field("fd.lnet", "IPNET", "(filters) matches the local network", filter_only=True,
      ops=_EQ_OPS)(V.fd_lip)
field("fd.rnet", "IPNET", "(filters) matches the remote network", filter_only=True,
      ops=_EQ_OPS)(V.fd_rip)
register_view("fd.connected", "BOOL", "true for connected sockets", V.fd_connected)


@field("fd.name_changed", "BOOL", "true when the event renamed its fd (a connect, a UDP "
       "send to a new address...); filters see false, being run before the event is "
       "applied (but -d)")
def fd_name_changed(ctx: EventContext) -> bool | None:
    return None if _fd(ctx) is None else ctx.fd_name_changed


def _no_dns(ctx: EventContext) -> None:
    return None


for _end in ("cip", "sip", "lip", "rip"):
    field(f"fd.{_end}.name", "CHARBUF", f"domain name of fd.{_end} (captures hold no DNS "
          "information: never set)")(_no_dns)


def _dev(part: str) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> int | None:
        fd = _fd(ctx)
        if fd is None:
            return None
        dev = fd.dev & 0xFFFFFFFF
        if part == "major":
            dev = (dev & 0xFFF00) >> 8
        elif part == "minor":
            dev = (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
        return dev - (1 << 32) if dev >= 1 << 31 else dev
    return extract


field("fd.dev", "INT32", "device number of the file's filesystem", fmt="HEX")(_dev(""))
field("fd.dev.major", "INT32", "major device number of the file's filesystem",
      fmt="DEC")(_dev("major"))
field("fd.dev.minor", "INT32", "minor device number of the file's filesystem",
      fmt="DEC")(_dev("minor"))
