"""``fdlist.*`` fields: the fds of poll events, comma-separated.

Semantics of sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_fdlist``).
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from scapkit.inspect.state.fds import FdType
from scapkit.scapfile.event_table import EVENTS
from scapkit.scapfile.params import format_ipv6

from .fields import field, field_class

if TYPE_CHECKING:
    from scapkit.inspect.state.engine import EventContext

_CODE = {e.symbol: e.code for e in EVENTS}

field_class("fdlist", "fdlist", "", "The fds of poll events (ppoll, poll), comma-separated.")

_POLL_ENTER = frozenset({_CODE["SYSCALL_POLL_E"], _CODE["SYSCALL_PPOLL_E"]})
_POLL_EXIT = frozenset({_CODE["SYSCALL_POLL_X"], _CODE["SYSCALL_PPOLL_X"]})


def _poll_fds(ctx: EventContext) -> list[tuple[int, Any]] | None:
    code = ctx.event.type
    if code in _POLL_ENTER:
        raw = ctx.args.raw_at(0)
    elif code in _POLL_EXIT:
        raw = ctx.args.raw_at(1)
    else:
        return None
    t = ctx.thread
    if raw is None or len(raw) < 2 or t is None:
        return None
    n = int.from_bytes(raw[:2], "little")
    out = []
    for j in range(n):
        at = 2 + 10 * j
        if at + 8 > len(raw):
            break
        fd = int.from_bytes(raw[at:at + 8], "little", signed=True)
        out.append((fd, ctx.engine.threads.get_fd(t, fd)))
    return out


def _fdlist(item: Callable[[int, Any], str | None]) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> str | None:
        fds = _poll_fds(ctx)
        if fds is None:
            return None
        parts = [x for x in (item(fd, info) for fd, info in fds) if x is not None]
        text = ",".join(parts)
        return text or None
    return extract


def _ipv4_text(raw: bytes) -> str:
    return str(IPv4Address(raw[:4]))


def _cip(fd: int, info: Any) -> str | None:
    if info is None:
        return None
    if info.type == FdType.IPV4_SOCK:
        return _ipv4_text(info.sock.v4_sip)
    if info.type == FdType.IPV6_SOCK:
        return _ipv6_text(info.sock.v6_sip)
    return None


def _ipv6_text(raw: bytes) -> str:
    return format_ipv6(raw)


def _sip(fd: int, info: Any) -> str | None:
    if info is None:
        return None
    s = info.sock
    if info.type == FdType.IPV4_SOCK:
        return _ipv4_text(s.v4_dip)
    if info.type == FdType.IPV6_SOCK:
        return _ipv6_text(s.v6_dip)
    if info.type == FdType.IPV4_SERVSOCK:
        return _ipv4_text(s.srv4_ip)
    if info.type == FdType.IPV6_SERVSOCK:
        return _ipv4_text(s.srv6_ip)  # sinsp prints this one as IPv4 (its first 4 bytes)
    return None


def _tuple_port(v4_attr: str, v6_attr: str) -> Callable[[int, Any], str | None]:
    """A port of a connected IPv4/IPv6 socket's tuple, by socket-state attribute."""

    def port(fd: int, info: Any) -> str | None:
        if info is None:
            return None
        if info.type == FdType.IPV4_SOCK:
            return str(getattr(info.sock, v4_attr))
        if info.type == FdType.IPV6_SOCK:
            return str(getattr(info.sock, v6_attr))
        return None

    return port


_cport = _tuple_port("v4_sport", "v6_sport")
_sport = _tuple_port("v4_dport", "v6_dport")


field("fdlist.nums", "CHARBUF", "fd numbers of a poll event", fmt="ID")(
    _fdlist(lambda fd, info: str(fd)))
field("fdlist.names", "CHARBUF", "fd names of a poll event (<NA> when unknown)")(
    _fdlist(lambda fd, info: info.name if info is not None and info.name else "<NA>"))
field("fdlist.cips", "CHARBUF", "client addresses of the sockets of a poll event")(
    _fdlist(_cip))
field("fdlist.sips", "CHARBUF", "server addresses of the sockets of a poll event")(
    _fdlist(_sip))
field("fdlist.cports", "CHARBUF", "client ports of the sockets of a poll event", fmt="DEC")(
    _fdlist(_cport))
field("fdlist.sports", "CHARBUF", "server ports of the sockets of a poll event", fmt="DEC")(
    _fdlist(_sport))
