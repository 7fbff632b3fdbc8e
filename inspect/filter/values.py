"""How filter values are read and matched, per sinsp 0.29.3 (libs e5c53d64).

- Numbers: ``value_parser.cpp`` reads them with ``sscanf("%lu%c")``-style checks, so
  only decimal, optional leading white space and sign, nothing after the digits;
  out-of-range values wrap or saturate as C does (``strtoul``/``strtol`` then a cast to
  the field's width): :func:`parse_c_int`.
- ``glob``: glibc ``fnmatch(pattern, value, 0)`` in the C locale (sysdig never calls
  ``setlocale``): bytes, ``*`` and ``?`` cross ``/``, backslash escapes, bracket
  expressions with ``!``/``^``, ranges and ``[:class:]``: :func:`glob_matcher`.
  ``iglob`` adds ``FNM_CASEFOLD`` (libs HEAD).
- ``pmatch``: ``path_prefix_search`` (``prefix_search.h``): a value matches when one of
  the listed paths is a prefix of it component by component, components split on
  ``/`` with empty ones dropped: :class:`PathPrefixSet`.
- ``icontains``: ``strcasestr`` in the C locale, so only ASCII letters fold.
- IP addresses and networks: ``inet_pton``; IPv4 networks need ``/len``; an IPv6
  "network" in 0.29.3 is an address whose first 64 bits must match (``in_subnet``);
  ``addr/len`` is also accepted here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

_C_SPACE = " \t\n\v\f\r"
_C_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)\Z")
_C_FLOAT = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_U64_MAX = (1 << 64) - 1
_I64_MAX = (1 << 63) - 1
_I64_MIN = -(1 << 63)


def parse_c_int(text: str, signed: bool, bits: int) -> int:
    """``text`` read as sinsp reads an integer filter value for a field of that width.

    Raises ValueError("<text> is not a valid number") like sinsp.
    """
    m = _C_INT.match(text)
    if m is None:
        raise ValueError(f"{text} is not a valid number")
    digits = m.group(2).lstrip("0") or "0"
    negative = m.group(1) == "-"
    # More than 20 digits always overflows 64 bits; int() of huge strings is refused anyway.
    mag = int(digits) if len(digits) <= 20 else _U64_MAX + 1
    if signed:
        v = -mag if negative else mag
        v = min(max(v, _I64_MIN), _I64_MAX)  # strtol saturates
        v &= (1 << bits) - 1
        if v >= 1 << (bits - 1):
            v -= 1 << bits
        return v
    if mag > _U64_MAX:
        v = _U64_MAX  # strtoul saturates, sign ignored
    else:
        v = (-mag) & _U64_MAX if negative else mag
    return v & ((1 << bits) - 1)


def parse_double(text: str) -> float:
    if _C_FLOAT.match(text) is None:
        raise ValueError(f"{text} is not a valid number")
    return float(text.strip(_C_SPACE))


def parse_bool(text: str) -> int:
    if text == "true":
        return 1
    if text == "false":
        return 0
    raise ValueError(f"unrecognized boolean value {text}")


def parse_port(text: str) -> int:
    """A port number or a service name from the services database (``getservbyname``)."""
    if text == "":
        return 0
    if text.isascii() and text.isdigit():
        v = int(text) if len(text) <= 10 else 1 << 31
        if v > 0x7FFFFFFF:  # std::stoi overflows
            raise ValueError(f"{text} is not a valid port number")
        return v & 0xFFFF
    import socket  # (here: a third of the filter package's import time otherwise)

    try:
        return socket.getservbyname(text)
    except (OSError, UnicodeError, ValueError):
        raise ValueError(f"unrecognized protocol {text}") from None


# -- IP addresses and networks --------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


#: Address families, as socket.AF_INET and AF_INET6 (Linux).
_AF_INET, _AF_INET6 = 2, 10


def _pton(family: int, text: str) -> bytes | None:
    import socket

    try:
        return socket.inet_pton(family, text)
    except (OSError, UnicodeError, ValueError):
        return None


def parse_ipv4(text: str) -> ipaddress.IPv4Address:
    raw = _pton(_AF_INET, text)
    if raw is None:
        raise ValueError(f"unrecognized IPv4 address {text}")
    return ipaddress.IPv4Address(raw)


def parse_ipv6(text: str) -> ipaddress.IPv6Address:
    raw = _pton(_AF_INET6, text)
    if raw is None:
        raise ValueError(f"unrecognized IPv6 address {text}")
    return ipaddress.IPv6Address(raw)


def parse_ip(text: str) -> IPAddress:
    """An address of either family: with a '.' it is IPv4 (sinsp's rule)."""
    return parse_ipv4(text) if "." in text else parse_ipv6(text)


def parse_ipv4_net(text: str) -> ipaddress.IPv4Network:
    if "/" not in text:
        raise ValueError(f"unrecognized IP network {text}")
    ip, _, mask = text.partition("/")
    raw = _pton(_AF_INET, ip)
    if raw is None:
        raise ValueError(f"unrecognized IP address {text}")
    bits = parse_c_int(mask, False, 8)
    if bits > 32:
        raise ValueError(f"invalid netmask {mask}")
    return ipaddress.IPv4Network((raw, bits), strict=False)


def parse_ipv6_net(text: str) -> ipaddress.IPv6Network:
    """``addr`` (its /64, as sinsp 0.29.3) or ``addr/len``."""
    ip, slash, mask = text.partition("/")
    raw = _pton(_AF_INET6, ip)
    if raw is None:
        raise ValueError(f"unrecognized IPv6 address {text}")
    if not slash:
        return ipaddress.IPv6Network((raw, 64), strict=False)
    if not (mask.isascii() and mask.isdigit()) or int(mask[:4]) > 128:
        raise ValueError(f"invalid netmask {mask}")
    return ipaddress.IPv6Network((raw, int(mask)), strict=False)


def parse_net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return parse_ipv4_net(text) if "." in text else parse_ipv6_net(text)


def to_ip(v: object) -> IPAddress | None:
    """An extracted address as an ``ipaddress`` object (None if it is not one)."""
    t = type(v)
    if t is ipaddress.IPv4Address or t is ipaddress.IPv6Address:
        return v  # type: ignore[return-value]
    try:
        if isinstance(v, (bytes, bytearray, memoryview)):
            return ipaddress.ip_address(bytes(v))
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return ipaddress.ip_address(v)
    except ValueError:
        return None
    return None


# -- strings --------------------------------------------------------------------------------

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_lower(s: str) -> str:
    """Lower-case ASCII letters only (``tolower`` in the C locale)."""
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def to_str(v: object) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "surrogateescape")
    return str(v)


def to_bytes(v: object) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    return encode(str(v))


def encode(s: str) -> bytes:
    """UTF-8 bytes of ``s``; bytes smuggled in by ``surrogateescape`` come back as they were,
    and other lone surrogates never raise."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def unhex(text: str) -> bytes:
    """``bcontains``/``bstartswith`` values: an even number of hex digits."""
    if len(text) % 2 or not all(c in "0123456789abcdefABCDEF" for c in text):
        raise ValueError("bcontains and bstartswith operator support hex strings only")
    return bytes.fromhex(text)


# -- pmatch ---------------------------------------------------------------------------------

def _components(path: str) -> tuple[str, ...]:
    return tuple(c for c in path.split("/") if c)


class PathPrefixSet:
    """``pmatch``: does one of the paths prefix the value, component by component?"""

    __slots__ = ("prefixes", "lengths")

    def __init__(self, paths: Iterable[str]) -> None:
        self.prefixes = frozenset(_components(p) for p in paths)
        self.lengths = sorted({len(c) for c in self.prefixes})

    def match(self, path: str) -> bool:
        comps = _components(path)
        for n in self.lengths:
            if n > len(comps):
                return False
            if comps[:n] in self.prefixes:
                return True
        return False


# -- glob -----------------------------------------------------------------------------------

_NEVER = object()  # a piece that can never match
_CLASSES: dict[bytes, bytes] = {
    b"alpha": b"A-Za-z",
    b"digit": b"0-9",
    b"alnum": b"0-9A-Za-z",
    b"upper": b"A-Z",
    b"lower": b"a-z",
    b"space": b"\\ \\t\\n\\r\\x0b\\x0c",
    b"blank": b"\\ \\t",
    b"punct": re.escape(bytes(c for c in range(0x21, 0x7F) if not chr(c).isalnum())),
    b"print": b"\\x20-\\x7e",
    b"graph": b"\\x21-\\x7e",
    b"cntrl": b"\\x00-\\x1f\\x7f",
    b"xdigit": b"0-9A-Fa-f",
}


def _fold(c: int, casefold: bool) -> int:
    return c + 32 if casefold and 0x41 <= c <= 0x5A else c


def _byte_class(c: int) -> bytes:
    return b"\\x%02x" % c


class _Bracket:
    __slots__ = ("negate", "ranges", "classes", "stopped", "end", "error")

    def __init__(self) -> None:
        self.negate = False
        self.ranges: list[tuple[int, int]] = []
        self.classes: list[bytes] = []
        self.stopped = False  # an invalid class name: later members are never reached
        self.end = -1  # offset after ']' (-1: unterminated)
        self.error = False  # fnmatch gives up (trailing backslash, range to the end)

    def contains(self, c: int) -> bool:
        if any(lo <= c <= hi for lo, hi in self.ranges):
            return True
        return any(re.fullmatch(b"[" + _CLASSES[k] + b"]", bytes([c])) for k in self.classes)

    def regex(self) -> bytes | object:
        if self.negate and self.stopped:
            return _NEVER
        parts = [_byte_class(lo) if lo == hi else _byte_class(lo) + b"-" + _byte_class(hi)
                 for lo, hi in self.ranges if lo <= hi]
        parts += [_CLASSES[k] for k in self.classes]
        if not parts:
            return b"(?s:.)" if self.negate else _NEVER
        return b"[" + (b"^" if self.negate else b"") + b"".join(parts) + b"]"


def _parse_bracket(pat: bytes, i: int, casefold: bool) -> _Bracket:
    """Members of the bracket expression whose '[' is at ``pat[i-1]``, as fnmatch reads
    them; ``end`` says where it closes."""
    b = _Bracket()
    n = len(pat)
    if i < n and pat[i] in b"!^":
        b.negate = True
        i += 1
    first = True
    while True:
        if i >= n:
            return b  # unterminated
        c = pat[i]
        if c == 0x5D and not first:  # ']'
            b.end = i + 1
            return b
        first = False
        if c == 0x5C:  # backslash: the next byte is a member
            if i + 1 >= n:
                b.error = True
                return b
            lo = pat[i + 1]
            i += 2
        elif c == 0x5B and i + 1 < n and pat[i + 1] == 0x3A:  # "[:"
            j = i + 2
            while j < n and 0x61 <= pat[j] < 0x7A and j - i - 2 < 256:  # a..y, like glibc
                j += 1
            if j + 1 < n and pat[j] == 0x3A and pat[j + 1] == 0x5D:
                name = pat[i + 2:j]
                if name in _CLASSES and not b.stopped:
                    b.classes.append(name)
                else:
                    b.stopped = True
                i = j + 2
                continue
            lo = c  # not a class: '[' is an ordinary member
            i += 1
        elif c == 0x5B and i + 4 < n and pat[i + 1] == 0x3D and pat[i + 3] == 0x3D \
                and pat[i + 4] == 0x5D:  # "[=x=]": x itself in the C locale, never a range start
            if not b.stopped:
                b.ranges.append((pat[i + 2], pat[i + 2]))
            i += 5
            continue
        elif c == 0x5B and i + 4 < n and pat[i + 1] == 0x2E and pat[i + 3] == 0x2E \
                and pat[i + 4] == 0x5D:  # "[.x.]": the collating element x
            lo = pat[i + 2]
            i += 5
        else:
            lo = c
            i += 1
        hi = lo
        if i < n and pat[i] == 0x2D and (i + 1 >= n or pat[i + 1] != 0x5D):  # a range
            if i + 1 >= n:  # "x-" at the end: x is tried alone, then the range fails
                if not b.stopped:
                    b.ranges.append((_fold(lo, casefold), _fold(lo, casefold)))
                b.error = True
                return b
            hi = pat[i + 1]
            i += 2
            if hi == 0x5C:
                if i >= n:
                    b.error = True
                    return b
                hi = pat[i]
                i += 1
        if not b.stopped:
            b.ranges.append((_fold(lo, casefold), _fold(hi, casefold)))


def _glob_regex(pat: bytes, casefold: bool) -> bytes | object:
    out: list[bytes] = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == 0x2A:  # '*'
            while i < n and pat[i] == 0x2A:
                i += 1
            out.append(b"(?s:.*)")
            continue
        if c == 0x3F:  # '?'
            out.append(b"(?s:.)")
            i += 1
            continue
        if c == 0x5C:  # backslash
            if i + 1 >= n:
                return _NEVER  # a trailing backslash never matches
            out.append(_byte_class(_fold(pat[i + 1], casefold)))
            i += 2
            continue
        if c == 0x5B:  # '['
            br = _parse_bracket(pat, i + 1, casefold)
            if br.end < 0:
                # Unterminated: fnmatch matches '[' literally and goes on after it, unless
                # reading the members for the subject '[' hits an error first (a trailing
                # backslash, a range running off the end, an invalid class name).
                if (br.error or br.stopped) and not br.contains(0x5B):
                    return _NEVER
                out.append(_byte_class(0x5B))
                i += 1
                continue
            piece = br.regex()
            if piece is _NEVER:
                return _NEVER
            out.append(piece)  # type: ignore[arg-type]
            i = br.end
            continue
        out.append(_byte_class(_fold(c, casefold)))
        i += 1
    return b"".join(out)


def glob_matcher(pattern: bytes, casefold: bool = False) -> Callable[[bytes], bool]:
    """A test of ``fnmatch(pattern, subject, casefold ? FNM_CASEFOLD : 0) == 0``."""
    rx = _glob_regex(pattern, casefold)
    if rx is _NEVER:
        return lambda subject: False
    full = re.compile(rx).fullmatch  # type: ignore[arg-type]
    if casefold:
        return lambda subject: full(subject.lower()) is not None
    return lambda subject: full(subject) is not None
