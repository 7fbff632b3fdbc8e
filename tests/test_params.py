"""Tests for scapkit.scapfile.params: every parameter type, hostile bytes, real captures."""

from __future__ import annotations

import gzip
import platform
import socket
import struct
import sys
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

event_table = pytest.importorskip(
    "scapkit.scapfile.event_table", reason="scapfile/event_table.py is not written yet")

from scapkit.scapfile.event_table import PF, PT, ParamInfo  # noqa: E402
from scapkit.scapfile.params import (  # noqa: E402
    Dyn,
    FdEntry,
    Inet6Sockaddr,
    Inet6Tuple,
    InetSockaddr,
    InetTuple,
    ParamDecodeError,
    UnixSockaddr,
    UnixTuple,
    UnknownSockaddr,
    UnknownTuple,
    decode_param,
    decoder_for,
    format_ipv4,
    format_ipv6,
    format_sockaddr,
    format_socktuple,
    is_ipv4_mapped,
    split_nul_list,
)

DATA = Path(__file__).parent / "data"


def P(t: PT, info: object = None, name: str = "p") -> ParamInfo:
    return ParamInfo(name, t, PF(0), info)  # type: ignore[arg-type]


def dec(t: PT, raw: bytes, info: object = None) -> object:
    return decode_param(P(t, info), raw)


# -- fixed-size scalars ------------------------------------------------------------

SIZES = {
    PT.INT8: 1, PT.INT16: 2, PT.INT32: 4, PT.INT64: 8,
    PT.UINT8: 1, PT.UINT16: 2, PT.UINT32: 4, PT.UINT64: 8,
    PT.ERRNO: 8, PT.FD: 8, PT.PID: 8, PT.FD32: 4, PT.PID32: 4,
    PT.SYSCALLID: 2, PT.SIGTYPE: 1, PT.RELTIME: 8, PT.ABSTIME: 8,
    PT.PORT: 2, PT.L4PROTO: 1, PT.SOCKFAMILY: 1, PT.BOOL: 4, PT.DOUBLE: 8,
    PT.SIGSET: 4, PT.FLAGS8: 1, PT.FLAGS16: 2, PT.FLAGS32: 4,
    PT.ENUMFLAGS8: 1, PT.ENUMFLAGS16: 2, PT.ENUMFLAGS32: 4, PT.MODE: 4,
    PT.UID: 4, PT.GID: 4, PT.IPV4ADDR: 4, PT.IPV6ADDR: 16,
    PT.IPV4NET: 8, PT.IPV6NET: 32,
}

SIGNED = {PT.INT8, PT.INT16, PT.INT32, PT.INT64, PT.ERRNO, PT.FD, PT.PID, PT.FD32, PT.PID32}
UNSIGNED = {t for t, n in SIZES.items()} - SIGNED - {
    PT.BOOL, PT.DOUBLE, PT.UID, PT.GID, PT.IPV4ADDR, PT.IPV6ADDR, PT.IPV4NET, PT.IPV6NET}


@pytest.mark.parametrize("t", sorted(SIGNED))
def test_signed_ints(t: PT) -> None:
    n = SIZES[t]
    assert dec(t, b"\xff" * n) == -1
    assert dec(t, b"\x01" + b"\x00" * (n - 1)) == 1
    assert dec(t, b"\x00" * (n - 1) + b"\x80") == -(1 << (8 * n - 1))


@pytest.mark.parametrize("t", sorted(UNSIGNED))
def test_unsigned_ints(t: PT) -> None:
    n = SIZES[t]
    assert dec(t, b"\xff" * n) == (1 << (8 * n)) - 1
    assert dec(t, b"\x02" + b"\x00" * (n - 1)) == 2  # little-endian


def test_errno_and_fd_values() -> None:
    assert dec(PT.ERRNO, struct.pack("<q", -2)) == -2
    assert dec(PT.FD, struct.pack("<q", -100)) == -100  # AT_FDCWD
    assert dec(PT.PID32, struct.pack("<i", 25888)) == 25888


@pytest.mark.parametrize("t", sorted(SIZES))
@pytest.mark.parametrize("delta", ["empty", "short", "long"])
def test_fixed_size_wrong_length(t: PT, delta: str) -> None:
    n = SIZES[t]
    raw = {"empty": b"", "short": b"\x01" * (n - 1), "long": b"\x01" * (n + 1)}[delta]
    with pytest.raises(ParamDecodeError, match="'p'"):
        dec(t, raw)


def test_uid_gid_no_value() -> None:
    assert dec(PT.UID, struct.pack("<I", 1000)) == 1000
    assert dec(PT.UID, b"\xff\xff\xff\xff") is None
    assert dec(PT.GID, b"\xff\xff\xff\xff") is None
    assert dec(PT.GID, b"\x00\x00\x00\x00") == 0


def test_bool_and_double() -> None:
    assert dec(PT.BOOL, b"\x00\x00\x00\x00") is False
    assert dec(PT.BOOL, b"\x01\x00\x00\x00") is True
    assert dec(PT.BOOL, b"\x00\x00\x00\x02") is True
    assert dec(PT.DOUBLE, struct.pack("<d", 1.5)) == 1.5


def test_flags_are_plain_ints() -> None:
    value = dec(PT.FLAGS32, struct.pack("<I", 47619), info="clone_flags")
    assert value == 47619 and type(value) is int
    assert dec(PT.MODE, struct.pack("<I", 0o644), info="chmod_mode") == 0o644


def test_memoryview_input() -> None:
    mv = memoryview(b"xx" + struct.pack("<q", -5) + b"yy")[2:10]
    assert dec(PT.INT64, mv) == -5  # type: ignore[arg-type]
    assert dec(PT.BYTEBUF, memoryview(b"ab")) == b"ab"  # type: ignore[arg-type]
    assert type(dec(PT.BYTEBUF, memoryview(b"ab"))) is bytes  # type: ignore[arg-type]
    assert dec(PT.CHARBUF, memoryview(b"abc\0")) == "abc"  # type: ignore[arg-type]


# -- strings and buffers -----------------------------------------------------------

@pytest.mark.parametrize("t", [PT.CHARBUF, PT.FSPATH, PT.FSRELPATH])
def test_strings(t: PT) -> None:
    assert dec(t, b"/etc/passwd\0") == "/etc/passwd"
    assert dec(t, b"") == ""
    assert dec(t, b"\0") == ""
    assert dec(t, b"<NA>\0") == "<NA>"
    assert dec(t, b"no-terminator") == "no-terminator"
    assert dec(t, b"a\0b\0") == "a\0b"  # embedded NUL kept, only the terminator goes
    assert dec(t, b"a\0\0") == "a\0"


def test_string_bytes_round_trip() -> None:
    raw = b"caf\xc3\xa9 \xff\xfe\x80/x"
    s = dec(PT.FSPATH, raw + b"\0")
    assert isinstance(s, str)
    assert s.encode("utf-8", "surrogateescape") == raw


def test_bytebuf_and_none() -> None:
    assert dec(PT.BYTEBUF, b"\0\x01data\0") == b"\0\x01data\0"
    assert dec(PT.BYTEBUF, b"") == b""
    assert dec(PT.NONE, b"\x01") == b"\x01"


def test_split_nul_list() -> None:
    assert split_nul_list(b"-6\0http://www.google.com\0") == ["-6", "http://www.google.com"]
    assert split_nul_list(b"") == []
    assert split_nul_list(b"\0") == [""]
    assert split_nul_list(b"a\0\0b\0") == ["a", "", "b"]
    assert split_nul_list(b"a\0trunc") == ["a", "trunc"]
    assert split_nul_list(memoryview(b"x=1\0y=\xff\0")) == ["x=1", "y=\udcff"]


def test_charbuf_arrays() -> None:
    assert dec(PT.CHARBUFARRAY, b"a\0bc\0") == ("a", "bc")
    assert dec(PT.CHARBUFARRAY, b"") == ()
    assert dec(PT.CHARBUF_PAIR_ARRAY, b"k1\0v1\0k2\0\0") == (("k1", "v1"), ("k2", ""))
    assert dec(PT.CHARBUF_PAIR_ARRAY, b"") == ()
    with pytest.raises(ParamDecodeError, match="odd"):
        dec(PT.CHARBUF_PAIR_ARRAY, b"k1\0v1\0k2\0")


# -- sockaddr ------------------------------------------------------------------------

def test_sockaddr_inet() -> None:
    raw = b"\x02" + bytes([127, 0, 0, 1]) + struct.pack("<H", 80)
    value = dec(PT.SOCKADDR, raw)
    assert value == InetSockaddr(IPv4Address("127.0.0.1"), 80)
    assert format_sockaddr(value) == "127.0.0.1:80"  # type: ignore[arg-type]


def test_sockaddr_inet6() -> None:
    raw = bytes.fromhex("0a20010db8000000000000000000000003d204")
    value = dec(PT.SOCKADDR, raw)
    assert value == Inet6Sockaddr(IPv6Address("2001:db8::3"), 1234)
    assert format_sockaddr(value) == "2001:db8::3:1234"  # type: ignore[arg-type]
    mapped = Inet6Sockaddr(IPv6Address("::ffff:10.0.0.1"), 53)
    assert format_sockaddr(mapped) == "::ffff:10.0.0.1:53"


def test_sockaddr_unix() -> None:
    assert dec(PT.SOCKADDR, b"\x01/run/x.sock\0") == UnixSockaddr("/run/x.sock")
    assert format_sockaddr(UnixSockaddr("/run/x.sock")) == "/run/x.sock"
    assert dec(PT.SOCKADDR, b"\x01") == UnixSockaddr("")
    assert dec(PT.SOCKADDR, b"\x01\0") == UnixSockaddr("")
    abstract = dec(PT.SOCKADDR, b"\x01\0hidden\0")
    assert abstract == UnixSockaddr("\0hidden")
    assert abstract.is_abstract  # type: ignore[union-attr]
    assert format_sockaddr(abstract) == "@hidden"  # type: ignore[arg-type]
    assert UnixSockaddr("@hidden").is_abstract
    assert not UnixSockaddr("/tmp/s").is_abstract


def test_sockaddr_empty_and_unknown_family() -> None:
    assert dec(PT.SOCKADDR, b"") is None
    assert format_sockaddr(None) == "NULL"
    value = dec(PT.SOCKADDR, b"\x10\x01\x02")  # PPM_AF_NETLINK
    assert value == UnknownSockaddr(16, b"\x01\x02")
    assert format_sockaddr(value) == "family 16"  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [
    b"\x02", b"\x02\x7f\0\0\x01\x50", b"\x02\x7f\0\0\x01\x50\0\0",
    b"\x0a" + b"\0" * 17, b"\x0a" + b"\0" * 19, b"\x0a",
])
def test_sockaddr_bad_length(raw: bytes) -> None:
    with pytest.raises(ParamDecodeError):
        dec(PT.SOCKADDR, raw)


# -- socktuple -----------------------------------------------------------------------

def _in_tuple(sip: str, sport: int, dip: str, dport: int) -> bytes:
    return (b"\x02" + IPv4Address(sip).packed + struct.pack("<H", sport)
            + IPv4Address(dip).packed + struct.pack("<H", dport))


def _in6_tuple(sip: str, sport: int, dip: str, dport: int) -> bytes:
    return (b"\x0a" + IPv6Address(sip).packed + struct.pack("<H", sport)
            + IPv6Address(dip).packed + struct.pack("<H", dport))


def test_socktuple_inet() -> None:
    value = dec(PT.SOCKTUPLE, _in_tuple("127.0.0.1", 80, "127.0.0.1", 5000))
    assert value == InetTuple(IPv4Address("127.0.0.1"), 80, IPv4Address("127.0.0.1"), 5000)
    assert format_socktuple(value) == "127.0.0.1:80->127.0.0.1:5000"  # type: ignore[arg-type]


def test_socktuple_inet6() -> None:
    value = dec(PT.SOCKTUPLE, _in6_tuple("2001:db8::4", 54405, "2001:db8::3", 1234))
    assert isinstance(value, Inet6Tuple) and not value.is_ipv4
    assert format_socktuple(value) == "2001:db8::4:54405->2001:db8::3:1234"


def test_socktuple_ipv4_mapped() -> None:
    both = dec(PT.SOCKTUPLE, _in6_tuple("::ffff:127.0.0.1", 80, "::ffff:10.1.2.3", 5000))
    assert isinstance(both, Inet6Tuple) and both.is_ipv4
    assert format_socktuple(both) == "127.0.0.1:80->10.1.2.3:5000"
    # The all-zero address counts as IPv4 too (sinsp's rule).
    zero = dec(PT.SOCKTUPLE, _in6_tuple("::", 0, "::ffff:1.2.3.4", 53))
    assert format_socktuple(zero) == "0.0.0.0:0->1.2.3.4:53"  # type: ignore[arg-type]
    # Only one mapped end: printed as IPv6 by inet_ntop.
    one = dec(PT.SOCKTUPLE, _in6_tuple("::ffff:1.2.3.4", 1, "2001:db8::1", 2))
    assert format_socktuple(one) == "::ffff:1.2.3.4:1->2001:db8::1:2"  # type: ignore[arg-type]
    half = dec(PT.SOCKTUPLE, _in6_tuple("::", 0, "::1", 2345))
    assert format_socktuple(half) == ":::0->::1:2345"  # type: ignore[arg-type]


def test_socktuple_unix() -> None:
    raw = bytes.fromhex("0100000000000000000008423c0088ffff") + b"/var/run/nscd/socket\0"
    value = dec(PT.SOCKTUPLE, raw)
    assert isinstance(value, UnixTuple)
    assert value == UnixTuple(0, 0xFFFF88003C420800, "/var/run/nscd/socket")
    assert format_socktuple(value) == "0->ffff88003c420800 /var/run/nscd/socket"
    assert dec(PT.SOCKTUPLE, raw[:17]) == UnixTuple(0, 0xFFFF88003C420800, "")


def test_socktuple_empty_and_unknown_family() -> None:
    assert dec(PT.SOCKTUPLE, b"") is None
    assert format_socktuple(None) == "NULL"
    value = dec(PT.SOCKTUPLE, b"\x11abc")
    assert value == UnknownTuple(17, b"abc")
    assert format_socktuple(value) == "family 17"  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [
    b"\x02", b"\x02" + b"\0" * 11, b"\x02" + b"\0" * 13,
    b"\x0a" + b"\0" * 35, b"\x0a" + b"\0" * 37, b"\x0a" + b"\0" * 18,
    b"\x01", b"\x01" + b"\0" * 15,
])
def test_socktuple_bad_length(raw: bytes) -> None:
    with pytest.raises(ParamDecodeError):
        dec(PT.SOCKTUPLE, raw)


# -- fdlist --------------------------------------------------------------------------

def test_fdlist() -> None:
    assert dec(PT.FDLIST, b"\0\0") == ()
    raw = struct.pack("<H", 2) + struct.pack("<qH", 4, 0x0183) + struct.pack("<qH", -1, 1)
    assert dec(PT.FDLIST, raw) == (FdEntry(4, 0x0183), FdEntry(-1, 1))


@pytest.mark.parametrize("raw", [
    b"", b"\x01",
    struct.pack("<H", 1),  # count says 1, no entries
    struct.pack("<H", 2) + struct.pack("<qH", 4, 1),  # count larger than the list
    struct.pack("<H", 1) + struct.pack("<qH", 4, 1) * 2,  # count smaller than the list
    struct.pack("<H", 1) + struct.pack("<qH", 4, 1)[:-1],  # truncated entry
    struct.pack("<H", 0xFFFF),
])
def test_fdlist_malformed(raw: bytes) -> None:
    with pytest.raises(ParamDecodeError):
        dec(PT.FDLIST, raw)


# -- dynamic -------------------------------------------------------------------------

SOCKOPT_ALTS = (P(PT.BYTEBUF, name="val"), P(PT.ERRNO, name="val"),
                P(PT.UINT32, name="val"), P(PT.UINT64, name="val"),
                P(PT.RELTIME, name="val"))


def test_dyn_selects_alternative() -> None:
    value = dec(PT.DYN, b"\x02" + struct.pack("<I", 7), info=SOCKOPT_ALTS)
    assert value == Dyn(2, SOCKOPT_ALTS[2], 7)
    value = dec(PT.DYN, b"\x00raw", info=SOCKOPT_ALTS)
    assert value == Dyn(0, SOCKOPT_ALTS[0], b"raw")
    value = dec(PT.DYN, b"\x01" + struct.pack("<q", -22), info=SOCKOPT_ALTS)
    assert isinstance(value, Dyn) and value.value == -22


@pytest.mark.parametrize("raw,info", [
    (b"", SOCKOPT_ALTS),
    (b"\x05" + b"\0" * 8, SOCKOPT_ALTS),  # selector out of range
    (b"\x02\0\0", SOCKOPT_ALTS),  # alternative's own size is wrong
    (b"\x00abc", None),  # no alternatives known
])
def test_dyn_malformed(raw: bytes, info: object) -> None:
    with pytest.raises(ParamDecodeError):
        dec(PT.DYN, raw, info=info)


# -- IP addresses and networks --------------------------------------------------------

def test_ip_addresses() -> None:
    assert dec(PT.IPV4ADDR, bytes([10, 0, 0, 1])) == IPv4Address("10.0.0.1")
    v6 = IPv6Address("2001:db8::1")
    assert dec(PT.IPV6ADDR, v6.packed) == v6
    assert dec(PT.IPADDR, bytes([10, 0, 0, 1])) == IPv4Address("10.0.0.1")
    assert dec(PT.IPADDR, v6.packed) == v6
    for bad in (b"", b"\0" * 5, b"\0" * 15):
        with pytest.raises(ParamDecodeError):
            dec(PT.IPADDR, bad)


def test_ip_networks() -> None:
    raw4 = IPv4Address("192.168.1.7").packed + IPv4Address("255.255.255.0").packed
    assert dec(PT.IPV4NET, raw4) == IPv4Network("192.168.1.0/24")
    assert dec(PT.IPNET, raw4) == IPv4Network("192.168.1.0/24")
    raw6 = IPv6Address("2001:db8::").packed + IPv6Network("::/32").netmask.packed
    assert dec(PT.IPV6NET, raw6) == IPv6Network("2001:db8::/32")
    assert dec(PT.IPNET, raw6) == IPv6Network("2001:db8::/32")
    assert dec(PT.IPV4NET, b"\0" * 8) == IPv4Network("0.0.0.0/0")
    with pytest.raises(ParamDecodeError, match="contiguous"):
        dec(PT.IPV4NET, IPv4Address("10.0.0.0").packed + bytes([255, 0, 255, 0]))
    with pytest.raises(ParamDecodeError):
        dec(PT.IPNET, b"\0" * 16)


# -- dispatch ------------------------------------------------------------------------

def test_every_type_has_a_decoder() -> None:
    for t in PT:
        assert callable(decoder_for(t))
    with pytest.raises(ParamDecodeError):
        decoder_for(9999)


def test_unknown_type_in_param_info() -> None:
    with pytest.raises(ParamDecodeError, match="unknown"):
        decode_param(ParamInfo("x", 9999, PF(0), None), b"")  # type: ignore[arg-type]


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        dec(PT.INT32, b"\0")


DYN_INFO = (P(PT.BYTEBUF), P(PT.ERRNO), P(PT.SOCKTUPLE), P(PT.DYN, info=(P(PT.UINT8),)))


@settings(max_examples=300, deadline=None)
@given(t=st.sampled_from(list(PT)), raw=st.binary(max_size=80), info=st.sampled_from(
    [None, DYN_INFO, "flags_table", 1, ()]))
def test_hostile_bytes_never_crash(t: PT, raw: bytes, info: object) -> None:
    try:
        decode_param(P(t, info), raw)
    except ParamDecodeError:
        pass
    try:
        decode_param(P(t, info), memoryview(raw))
    except ParamDecodeError:
        pass


@settings(max_examples=200, deadline=None)
@given(family=st.sampled_from([0, 1, 2, 10, 16, 255]), body=st.binary(max_size=60))
def test_hostile_socket_values_render(family: int, body: bytes) -> None:
    raw = bytes([family]) + body
    for t, fmt in ((PT.SOCKADDR, format_sockaddr), (PT.SOCKTUPLE, format_socktuple)):
        try:
            value = dec(t, raw)
        except ParamDecodeError:
            continue
        assert isinstance(fmt(value), str)  # type: ignore[operator]


# -- address rendering -----------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("::", "::"), ("::1", "::1"), ("2001:db8::4", "2001:db8::4"),
    ("2001:4860:4860::8888", "2001:4860:4860::8888"),
    ("2607:f8b0:4004:802::2004", "2607:f8b0:4004:802::2004"),
    ("::ffff:1.2.3.4", "::ffff:1.2.3.4"), ("::1.2.3.4", "::1.2.3.4"),
    ("::ffff:0:0", "::ffff:0.0.0.0"), ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
    ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"), ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
    ("fe80::", "fe80::"),
])
def test_format_ipv6_cases(text: str, expected: str) -> None:
    assert format_ipv6(IPv6Address(text)) == expected
    assert format_ipv6(IPv6Address(text).packed) == expected


_GLIBC = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not _GLIBC, reason="reference is glibc's inet_ntop")
@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.binary(min_size=16, max_size=16),
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x1234]), min_size=8, max_size=8)
    .map(lambda ws: struct.pack(">8H", *ws)),
))
def test_format_ipv6_matches_inet_ntop(packed: bytes) -> None:
    assert format_ipv6(packed) == socket.inet_ntop(socket.AF_INET6, packed)


def test_format_ipv4_and_mapped() -> None:
    assert format_ipv4(IPv4Address("10.20.30.40")) == "10.20.30.40"
    assert format_ipv4(b"\x7f\0\0\x01") == "127.0.0.1"
    assert is_ipv4_mapped(IPv6Address("::ffff:1.2.3.4"))
    assert is_ipv4_mapped(IPv6Address("::"))
    assert not is_ipv4_mapped(IPv6Address("::1"))
    assert not is_ipv4_mapped(IPv6Address("::1.2.3.4"))
    assert not is_ipv4_mapped(b"\0" * 4)


# -- the real captures -------------------------------------------------------------------

def _params_of(etype: int) -> tuple[ParamInfo, ...] | None:
    getter = getattr(event_table, "event_info", None)
    if getter is not None:
        info = getter(etype)
    else:
        events = event_table.EVENTS
        info = events[etype] if etype < len(events) else None
    return None if info is None else tuple(info.params)


def _local_events(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """Minimal reader: gzip, blocks, EV v1 (0x204) and v2 (0x216) events."""
    data = gzip.decompress(path.read_bytes())
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        assert blen >= 12 and off + blen <= len(data)
        body = data[off + 8:off + blen - 4]
        off += blen
        if btype not in (0x204, 0x216):
            continue
        ts, tid, elen, etype = struct.unpack_from("<QqIH", body, 2)
        if btype == 0x216:
            hlen = 26
            (nparams,) = struct.unpack_from("<I", body, 2 + 22)
        else:  # v1: count down from the table's count until the lengths fill the event
            hlen = 22
            params = _params_of(etype) or ()
            for nparams in range(len(params), -1, -1):
                if hlen + 2 * nparams > elen:
                    continue
                lens = struct.unpack_from(f"<{nparams}H", body, 2 + hlen)
                if hlen + 2 * nparams + sum(lens) == elen:
                    break
            else:
                raise AssertionError(f"no parameter count fits event type {etype}")
        lens = struct.unpack_from(f"<{nparams}H", body, 2 + hlen)
        at = 2 + hlen + 2 * nparams
        raws = []
        for ln in lens:
            raws.append(body[at:at + ln])
            at += ln
        yield etype, raws


def _events(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    try:
        from scapkit.scapfile.reader import CaptureReader
    except ImportError:
        yield from _local_events(path)
        return
    with CaptureReader(path) as reader:
        for ev in reader.events():
            yield ev.type, list(ev.raw_params())
        assert not reader.damage


def _decoded(name: str) -> list[tuple[str, list[tuple[str, object]]]]:
    """(event name, [(param name, value)]) for every event of a capture."""
    out = []
    for etype, raws in _events(DATA / name):
        params = _params_of(etype)
        assert params is not None, f"event type {etype} missing from the table"
        vals = [(params[i].name, decode_param(params[i], raw))
                for i, raw in enumerate(raws) if i < len(params)]
        out.append((_event_name(etype), vals))
    return out


def _event_name(etype: int) -> str:
    getter = getattr(event_table, "event_info", None)
    info = getter(etype) if getter else event_table.EVENTS[etype]
    return info.name


CAPTURES = ["curl_google.scap", "single_ipv6_conn.scap", "test_ipv6_client.scap"]


@pytest.fixture(scope="module")
def decoded() -> dict[str, list[tuple[str, list[tuple[str, object]]]]]:
    return {name: _decoded(name) for name in CAPTURES}


@pytest.mark.parametrize("name", CAPTURES)
def test_real_capture_decodes(decoded: dict, name: str) -> None:
    events = decoded[name]
    assert len(events) > 300
    assert sum(len(v) for _, v in events) > 500


def _values(events: list, event: str, param: str) -> list[object]:
    return [v for name, vals in events if name == event for p, v in vals if p == param]


def test_real_single_ipv6_conn(decoded: dict) -> None:
    events = decoded["single_ipv6_conn.scap"]
    tuples = [format_socktuple(t) for t in _values(events, "connect", "tuple")]
    assert "2001:db8::4:54405->2001:db8::3:1234" in tuples
    assert "0->ffff94dc817b9400 /var/run/nscd/socket" in tuples
    accepted = [format_socktuple(t) for t in _values(events, "accept", "tuple")]
    assert "2001:db8::4:54405->2001:db8::3:1234" in accepted
    addrs = [format_sockaddr(a) for a in _values(events, "bind", "addr")]
    assert addrs == ["2001:db8::3:1234", "2001:db8::4:0"]
    assert -115 in _values(events, "connect", "res")  # EINPROGRESS


def test_real_curl_google(decoded: dict) -> None:
    events = decoded["curl_google.scap"]
    tuples = [format_socktuple(t) for t in _values(events, "connect", "tuple")]
    dns = ("2600:1f18:262c:6542:9aa6:df7a:9a47:d29e:40251->2001:4860:4860::8888:53")
    assert dns in tuples
    assert ("2600:1f18:262c:6542:9aa6:df7a:9a47:d29e:37140->2607:f8b0:4004:802::2004:80"
            in tuples)
    assert "0->ffff88003c420800 /var/run/nscd/socket" in tuples
    replies = [format_socktuple(t) for t in _values(events, "recvfrom", "tuple")]
    assert "2001:4860:4860::8888:53->2600:1f18:262c:6542:9aa6:df7a:9a47:d29e:40251" in replies
    assert None in _values(events, "sendto", "tuple")  # printed as tuple=NULL
    assert -2 in _values(events, "connect", "res")  # ENOENT
    assert (FdEntry(4, 4),) in _values(events, "poll", "fds")
    assert () in _values(events, "poll", "fds")
    args = [split_nul_list(a) for a in _values(events, "execve", "args")]  # type: ignore[arg-type]
    assert ["-6", "http://www.google.com"] in args
    assert "curl" in _values(events, "execve", "exe")
    assert "/home/ubuntu" in _values(events, "execve", "cwd")


def test_real_test_ipv6_client(decoded: dict) -> None:
    events = decoded["test_ipv6_client.scap"]
    sent = [format_socktuple(t) for t in _values(events, "sendto", "tuple")]
    assert ":::0->::1:2345" in sent
    assert "::1:38255->::1:2345" in sent
    connected = [format_socktuple(t) for t in _values(events, "connect", "tuple")]
    assert "::1:38255->2001:4860:4860::8888:53" in connected
