"""Decoding of event parameter values, one decoder per ``PT`` type.

:func:`decode_param` turns the raw bytes of one parameter into a Python value. The
layouts are those the sysdig/Falco drivers write (all little-endian, except IP
addresses, which are stored in network byte order):

================================  ==============================================
type                              decoded value
================================  ==============================================
INT8/16/32/64, UINT8/16/32/64     ``int`` (exact size, signedness per type)
ERRNO, FD, PID (8 bytes, signed)  ``int``; FD32, PID32: 4 bytes, signed
SYSCALLID (u16), SIGTYPE (u8)     ``int``
RELTIME, ABSTIME (u64 ns)         ``int``
PORT (u16, host order)            ``int``
L4PROTO, SOCKFAMILY (u8)          ``int``
BOOL (4 bytes)                    ``bool`` (any non-zero value is True)
DOUBLE (8 bytes)                  ``float``
SIGSET (u32, lower word only)     ``int``
FLAGS8/16/32, ENUMFLAGS8/16/32,   plain ``int``: the flag table is named by
MODE (u32)                        ``ParamInfo.info``, which every caller holds
UID, GID (u32)                    ``int``, or ``None`` for 0xffffffff (no value)
CHARBUF, FSPATH, FSRELPATH        ``str`` (one trailing NUL removed; other bytes
                                  kept, UTF-8 with ``surrogateescape``)
BYTEBUF, NONE                     ``bytes`` as stored
SOCKADDR                          ``None`` (empty) or a ``*Sockaddr`` dataclass
SOCKTUPLE                         ``None`` (empty) or a ``*Tuple`` dataclass
FDLIST                            ``tuple[FdEntry, ...]``
DYN                               :class:`Dyn` (alternative chosen by byte 0)
CHARBUFARRAY                      ``tuple[str, ...]`` (NUL-separated)
CHARBUF_PAIR_ARRAY                ``tuple[tuple[str, str], ...]`` (alternating)
IPV4ADDR / IPV6ADDR / IPADDR      ``ipaddress`` address (4 or 16 bytes)
IPV4NET / IPV6NET / IPNET         ``ipaddress`` network (address then netmask)
================================  ==============================================

Malformed values raise :class:`ParamDecodeError` and nothing else. Empty values
of a string type decode to ``""`` (sinsp prints them empty and does not resolve
them against the cwd; neither does it resolve the literal ``"<NA>"`` that drivers
write for unreadable paths: callers must keep both conventions in mind).

The ``format_*`` helpers render addresses the way sinsp prints them (numeric
ports, no name resolution, no output sanitising: that is the output layer's job).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from .errors import ScapError
from .event_table import PT, ParamInfo

__all__ = [
    "PPM_AF_UNSPEC", "PPM_AF_UNIX", "PPM_AF_INET", "PPM_AF_INET6", "NO_ID",
    "ParamDecodeError", "Decoder", "decode_param", "decoder_for", "split_nul_list",
    "InetSockaddr", "Inet6Sockaddr", "UnixSockaddr", "UnknownSockaddr", "Sockaddr",
    "InetTuple", "Inet6Tuple", "UnixTuple", "UnknownTuple", "SockTuple",
    "FdEntry", "Dyn", "is_ipv4_mapped",
    "format_ipv4", "format_ipv6", "format_sockaddr", "format_socktuple",
]

#: Socket family codes as the drivers store them (``PPM_AF_*``, not the host's ``AF_*``).
PPM_AF_UNSPEC = 0
PPM_AF_UNIX = 1
PPM_AF_INET = 2
PPM_AF_INET6 = 10

#: The UID/GID value the drivers use for "no value".
NO_ID = 0xFFFFFFFF


class ParamDecodeError(ScapError, ValueError):
    """A parameter's bytes do not match the layout of its type."""


Decoder = Callable[[ParamInfo, "bytes | memoryview"], object]


# -- value types ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InetSockaddr:
    """An IPv4 socket address (``PPM_AF_INET``)."""

    addr: IPv4Address
    port: int


@dataclass(frozen=True, slots=True)
class Inet6Sockaddr:
    """An IPv6 socket address (``PPM_AF_INET6``)."""

    addr: IPv6Address
    port: int


@dataclass(frozen=True, slots=True)
class UnixSockaddr:
    """A unix socket address; ``path`` keeps a leading NUL of an abstract name."""

    path: str

    @property
    def is_abstract(self) -> bool:
        """Abstract namespace: leading NUL (raw) or ``@`` (newer drivers' rewrite)."""
        return self.path[:1] in ("\0", "@")


@dataclass(frozen=True, slots=True)
class UnknownSockaddr:
    """A family the format does not describe: the bytes after the family byte."""

    family: int
    data: bytes


Sockaddr = InetSockaddr | Inet6Sockaddr | UnixSockaddr | UnknownSockaddr


@dataclass(frozen=True, slots=True)
class InetTuple:
    """An IPv4 connection tuple, in the order the driver stored it."""

    src: IPv4Address
    sport: int
    dst: IPv4Address
    dport: int


@dataclass(frozen=True, slots=True)
class Inet6Tuple:
    """An IPv6 connection tuple (addresses may be IPv4-mapped: see :func:`is_ipv4_mapped`)."""

    src: IPv6Address
    sport: int
    dst: IPv6Address
    dport: int

    @property
    def is_ipv4(self) -> bool:
        """True when sinsp treats the tuple as IPv4 (both ends IPv4-mapped)."""
        return is_ipv4_mapped(self.src) and is_ipv4_mapped(self.dst)


@dataclass(frozen=True, slots=True)
class UnixTuple:
    """A unix socket tuple: kernel socket pointers of both ends, then the path."""

    source: int
    dest: int
    path: str


@dataclass(frozen=True, slots=True)
class UnknownTuple:
    """A tuple of a family the format does not describe."""

    family: int
    data: bytes


SockTuple = InetTuple | Inet6Tuple | UnixTuple | UnknownTuple


@dataclass(frozen=True, slots=True)
class FdEntry:
    """One entry of an FDLIST (poll-style): fd and its 16-bit event flags."""

    fd: int
    flags: int


@dataclass(frozen=True, slots=True)
class Dyn:
    """A DYN parameter: the alternative chosen by the first byte, and its value."""

    index: int
    info: ParamInfo
    value: object


# -- helpers ------------------------------------------------------------------------

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_IN_ADDR = struct.Struct("<4sH")
_IN6_ADDR = struct.Struct("<16sH")
_IN_TUPLE = struct.Struct("<4sH4sH")
_IN6_TUPLE = struct.Struct("<16sH16sH")
_UNIX_PTRS = struct.Struct("<QQ")
_FD_ENTRY = struct.Struct("<qH")
_WORDS6 = struct.Struct(">8H")


def _fail(info: ParamInfo, message: str) -> ParamDecodeError:
    return ParamDecodeError(f"parameter {info.name!r} ({_type_name(info.type)}): {message}")


def _type_name(t: object) -> str:
    return t.name if isinstance(t, PT) else f"type {t}"


def _text(raw: bytes | memoryview) -> str:
    """A C string: drop one trailing NUL, keep every other byte."""
    if raw and raw[-1] == 0:
        raw = raw[:-1]
    return str(raw, "utf-8", "surrogateescape")


def split_nul_list(raw: bytes | memoryview) -> list[str]:
    """Split NUL-separated strings (execve args, env, cgroups).

    One trailing NUL terminates the last item; empty items in between are kept,
    so ``b"a\\0\\0b\\0"`` gives ``["a", "", "b"]`` and ``b""`` gives ``[]``.
    A list truncated by the driver (no final NUL) keeps its partial last item.
    """
    if not raw:
        return []
    return _text(raw).split("\0")


# -- decoders -----------------------------------------------------------------------


def _fixed(fmt: str) -> Decoder:
    """Decoder for a fixed-size scalar; the value must be exactly that size."""
    st = struct.Struct("<" + fmt)
    unpack, size = st.unpack, st.size

    def decode(info: ParamInfo, raw: bytes | memoryview) -> object:
        try:
            return unpack(raw)[0]
        except struct.error:
            raise _fail(info, f"expected {size} bytes, got {len(raw)}") from None

    return decode


def _dec_bool(info: ParamInfo, raw: bytes | memoryview) -> bool:
    try:
        return _U32.unpack(raw)[0] != 0
    except struct.error:
        raise _fail(info, f"expected 4 bytes, got {len(raw)}") from None


def _dec_id(info: ParamInfo, raw: bytes | memoryview) -> int | None:
    try:
        value = _U32.unpack(raw)[0]
    except struct.error:
        raise _fail(info, f"expected 4 bytes, got {len(raw)}") from None
    return None if value == NO_ID else value


def _dec_text(info: ParamInfo, raw: bytes | memoryview) -> str:
    return _text(raw)


def _dec_bytes(info: ParamInfo, raw: bytes | memoryview) -> bytes:
    return bytes(raw)


def _dec_sockaddr(info: ParamInfo, raw: bytes | memoryview) -> Sockaddr | None:
    n = len(raw)
    if n == 0:
        return None
    family = raw[0]
    if family == PPM_AF_INET:
        if n != 7:
            raise _fail(info, f"IPv4 address needs 7 bytes, got {n}")
        ip, port = _IN_ADDR.unpack_from(raw, 1)
        return InetSockaddr(IPv4Address(ip), port)
    if family == PPM_AF_INET6:
        if n != 19:
            raise _fail(info, f"IPv6 address needs 19 bytes, got {n}")
        ip, port = _IN6_ADDR.unpack_from(raw, 1)
        return Inet6Sockaddr(IPv6Address(ip), port)
    if family == PPM_AF_UNIX:
        return UnixSockaddr(_text(raw[1:]))
    return UnknownSockaddr(family, bytes(raw[1:]))


def _dec_socktuple(info: ParamInfo, raw: bytes | memoryview) -> SockTuple | None:
    n = len(raw)
    if n == 0:
        return None
    family = raw[0]
    if family == PPM_AF_INET:
        if n != 13:
            raise _fail(info, f"IPv4 tuple needs 13 bytes, got {n}")
        sip, sport, dip, dport = _IN_TUPLE.unpack_from(raw, 1)
        return InetTuple(IPv4Address(sip), sport, IPv4Address(dip), dport)
    if family == PPM_AF_INET6:
        if n != 37:
            raise _fail(info, f"IPv6 tuple needs 37 bytes, got {n}")
        sip, sport, dip, dport = _IN6_TUPLE.unpack_from(raw, 1)
        return Inet6Tuple(IPv6Address(sip), sport, IPv6Address(dip), dport)
    if family == PPM_AF_UNIX:
        if n < 17:
            raise _fail(info, f"unix tuple needs at least 17 bytes, got {n}")
        source, dest = _UNIX_PTRS.unpack_from(raw, 1)
        return UnixTuple(source, dest, _text(raw[17:]))
    return UnknownTuple(family, bytes(raw[1:]))


def _dec_fdlist(info: ParamInfo, raw: bytes | memoryview) -> tuple[FdEntry, ...]:
    n = len(raw)
    if n < 2:
        raise _fail(info, f"fd list needs a 2-byte count, got {n} bytes")
    count = _U16.unpack_from(raw, 0)[0]
    if n != 2 + 10 * count:
        raise _fail(info, f"fd list of {count} entries needs {2 + 10 * count} bytes, got {n}")
    return tuple(FdEntry(fd, flags) for fd, flags in _FD_ENTRY.iter_unpack(raw[2:]))


def _dec_dyn(info: ParamInfo, raw: bytes | memoryview) -> Dyn:
    if len(raw) == 0:
        raise _fail(info, "dynamic value is empty (no selector byte)")
    alternatives = info.info
    if not isinstance(alternatives, tuple):
        raise _fail(info, "no alternatives for this dynamic parameter")
    index = raw[0]
    if index >= len(alternatives):
        raise _fail(info, f"selector {index} is out of range ({len(alternatives)} alternatives)")
    alt = alternatives[index]
    return Dyn(index, alt, decode_param(alt, raw[1:]))


def _dec_charbuf_array(info: ParamInfo, raw: bytes | memoryview) -> tuple[str, ...]:
    return tuple(split_nul_list(raw))


def _dec_charbuf_pairs(info: ParamInfo, raw: bytes | memoryview) -> tuple[tuple[str, str], ...]:
    items = split_nul_list(raw)
    if len(items) % 2:
        raise _fail(info, f"odd number of strings ({len(items)}) in a list of pairs")
    it = iter(items)
    return tuple(zip(it, it))


def _dec_ipv4(info: ParamInfo, raw: bytes | memoryview) -> IPv4Address:
    if len(raw) != 4:
        raise _fail(info, f"expected 4 bytes, got {len(raw)}")
    return IPv4Address(bytes(raw))


def _dec_ipv6(info: ParamInfo, raw: bytes | memoryview) -> IPv6Address:
    if len(raw) != 16:
        raise _fail(info, f"expected 16 bytes, got {len(raw)}")
    return IPv6Address(bytes(raw))


def _dec_ipaddr(info: ParamInfo, raw: bytes | memoryview) -> IPv4Address | IPv6Address:
    n = len(raw)
    if n == 4:
        return IPv4Address(bytes(raw))
    if n == 16:
        return IPv6Address(bytes(raw))
    raise _fail(info, f"expected 4 or 16 bytes, got {n}")


def _network(info: ParamInfo, raw: bytes | memoryview) -> IPv4Network | IPv6Network:
    """Address then netmask (sinsp's ipv4net/ipv6net); host bits are masked off."""
    half = len(raw) // 2
    ip, mask = bytes(raw[:half]), bytes(raw[half:])
    prefix = _prefix_length(mask)
    if prefix is None:
        raise _fail(info, f"netmask {mask.hex()} is not contiguous")
    cls = IPv4Network if half == 4 else IPv6Network
    return cls((ip, prefix), strict=False)


def _prefix_length(mask: bytes) -> int | None:
    bits = len(mask) * 8
    value = int.from_bytes(mask, "big")
    inverted = ~value & ((1 << bits) - 1)
    if inverted & (inverted + 1):
        return None
    return bits - inverted.bit_length()


def _dec_ipv4net(info: ParamInfo, raw: bytes | memoryview) -> IPv4Network:
    if len(raw) != 8:
        raise _fail(info, f"expected 8 bytes (address, netmask), got {len(raw)}")
    return _network(info, raw)  # type: ignore[return-value]


def _dec_ipv6net(info: ParamInfo, raw: bytes | memoryview) -> IPv6Network:
    if len(raw) != 32:
        raise _fail(info, f"expected 32 bytes (address, netmask), got {len(raw)}")
    return _network(info, raw)  # type: ignore[return-value]


def _dec_ipnet(info: ParamInfo, raw: bytes | memoryview) -> IPv4Network | IPv6Network:
    if len(raw) not in (8, 32):
        raise _fail(info, f"expected 8 or 32 bytes (address, netmask), got {len(raw)}")
    return _network(info, raw)


def _build_decoders() -> dict[PT, Decoder]:
    i8, i16, i32, i64 = _fixed("b"), _fixed("h"), _fixed("i"), _fixed("q")
    u8, u16, u32, u64 = _fixed("B"), _fixed("H"), _fixed("I"), _fixed("Q")
    table: dict[PT, Decoder] = {
        PT.NONE: _dec_bytes,
        PT.INT8: i8, PT.INT16: i16, PT.INT32: i32, PT.INT64: i64,
        PT.UINT8: u8, PT.UINT16: u16, PT.UINT32: u32, PT.UINT64: u64,
        PT.CHARBUF: _dec_text, PT.FSPATH: _dec_text, PT.FSRELPATH: _dec_text,
        PT.BYTEBUF: _dec_bytes,
        PT.ERRNO: i64, PT.FD: i64, PT.PID: i64, PT.FD32: i32, PT.PID32: i32,
        PT.SOCKADDR: _dec_sockaddr, PT.SOCKTUPLE: _dec_socktuple, PT.FDLIST: _dec_fdlist,
        PT.SYSCALLID: u16, PT.SIGTYPE: u8, PT.RELTIME: u64, PT.ABSTIME: u64,
        PT.PORT: u16, PT.L4PROTO: u8, PT.SOCKFAMILY: u8, PT.BOOL: _dec_bool,
        PT.IPV4ADDR: _dec_ipv4, PT.DYN: _dec_dyn,
        PT.FLAGS8: u8, PT.FLAGS16: u16, PT.FLAGS32: u32,
        PT.ENUMFLAGS8: u8, PT.ENUMFLAGS16: u16, PT.ENUMFLAGS32: u32, PT.MODE: u32,
        PT.UID: _dec_id, PT.GID: _dec_id, PT.DOUBLE: _fixed("d"), PT.SIGSET: u32,
        PT.CHARBUFARRAY: _dec_charbuf_array, PT.CHARBUF_PAIR_ARRAY: _dec_charbuf_pairs,
        PT.IPV4NET: _dec_ipv4net, PT.IPV6ADDR: _dec_ipv6, PT.IPV6NET: _dec_ipv6net,
        PT.IPADDR: _dec_ipaddr, PT.IPNET: _dec_ipnet,
    }
    missing = set(PT) - set(table)
    if missing:  # the event table grew a type this module does not know
        raise RuntimeError(f"no parameter decoder for {sorted(missing)}")
    return table


_DECODERS: dict[PT, Decoder] = _build_decoders()


def decoder_for(type: PT | int) -> Decoder:
    """The decoder function for a type (to prebind per event); unknown -> error."""
    try:
        return _DECODERS[type]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ParamDecodeError(f"unknown parameter type {type!r}") from None


def decode_param(info: ParamInfo, raw: bytes | memoryview) -> object:
    """Decode one parameter's raw bytes according to ``info.type``.

    Raises :class:`ParamDecodeError` (only) when the bytes cannot be that type.
    """
    try:
        decoder = _DECODERS[info.type]
    except (KeyError, TypeError):
        raise _fail(info, "unknown parameter type") from None
    return decoder(info, raw)


# -- rendering ------------------------------------------------------------------------


def is_ipv4_mapped(addr: IPv6Address | bytes) -> bool:
    """sinsp's test: ``::ffff:a.b.c.d``, or the all-zero address (also taken as IPv4)."""
    b = addr.packed if isinstance(addr, IPv6Address) else bytes(addr)
    if len(b) != 16 or any(b[:10]):
        return False
    return b[10:12] == b"\xff\xff" or not any(b[10:])


def format_ipv4(addr: IPv4Address | bytes) -> str:
    """Dotted quad of a network-order address."""
    b = addr.packed if isinstance(addr, IPv4Address) else bytes(addr)
    return f"{b[0]}.{b[1]}.{b[2]}.{b[3]}"


def format_ipv6(addr: IPv6Address | bytes) -> str:
    """Text form as glibc's ``inet_ntop`` writes it (what sysdig prints).

    Lower-case hex, the first longest run (>= 2) of zero groups compressed to
    ``::``, and an embedded dotted quad for ``::a.b.c.d`` and ``::ffff:a.b.c.d``.
    """
    return _ntop6(addr.packed if isinstance(addr, IPv6Address) else bytes(addr))


@lru_cache(maxsize=4096)
def _ntop6(packed: bytes) -> str:
    words = _WORDS6.unpack(packed)
    best_base, best_len, base = -1, 0, -1
    for i, w in enumerate(words + (1,)):  # sentinel closes a trailing run
        if w == 0:
            if base < 0:
                base = i
        elif base >= 0:
            if i - base > best_len:
                best_base, best_len = base, i - base
            base = -1
    if best_len < 2:
        best_base = -1
    if best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
        prefix = "::" if best_len == 6 else "::ffff:"
        return prefix + format_ipv4(packed[12:])
    if best_base < 0:
        return ":".join(f"{w:x}" for w in words)
    head = ":".join(f"{w:x}" for w in words[:best_base])
    tail = ":".join(f"{w:x}" for w in words[best_base + best_len:])
    return f"{head}::{tail}"


def _unix_path(path: str) -> str:
    """A unix path as printed: up to the first NUL; an abstract name shown as ``@name``."""
    if path.startswith("\0"):
        return "@" + path[1:].split("\0", 1)[0]
    return path.split("\0", 1)[0]


def format_sockaddr(value: Sockaddr | None) -> str:
    """Render a SOCKADDR value as sinsp does (``NULL``, ``ip:port``, a path, ``family N``)."""
    if value is None:
        return "NULL"
    if type(value) is InetSockaddr:
        return f"{format_ipv4(value.addr)}:{value.port}"
    if type(value) is Inet6Sockaddr:
        return f"{format_ipv6(value.addr)}:{value.port}"
    if type(value) is UnixSockaddr:
        return _unix_path(value.path)
    return f"family {value.family}"


def format_socktuple(value: SockTuple | None) -> str:
    """Render a SOCKTUPLE value as sinsp does.

    ``1.2.3.4:80->5.6.7.8:5000``; IPv6 as ``2001:db8::4:54405->2001:db8::3:1234``
    (no brackets), or in IPv4 form when both ends are IPv4-mapped; unix as
    ``<src ptr hex>-><dst ptr hex> <path>``; ``NULL`` when empty.
    """
    if value is None:
        return "NULL"
    if type(value) is InetTuple:
        return (f"{format_ipv4(value.src)}:{value.sport}->"
                f"{format_ipv4(value.dst)}:{value.dport}")
    if type(value) is Inet6Tuple:
        if value.is_ipv4:
            return (f"{format_ipv4(value.src.packed[12:])}:{value.sport}->"
                    f"{format_ipv4(value.dst.packed[12:])}:{value.dport}")
        return (f"{format_ipv6(value.src)}:{value.sport}->"
                f"{format_ipv6(value.dst)}:{value.dport}")
    if type(value) is UnixTuple:
        return f"{value.source:x}->{value.dest:x} {_unix_path(value.path)}"
    return f"family {value.family}"
