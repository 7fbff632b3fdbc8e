"""The struct-based reading of snapshot blocks against the construct declarations.

:mod:`scapkit.scapfile.snapshot` reads process, fd, interface, user and machine blocks
with ``struct`` plans and leaves a block to construct when it is not sure. Whenever the
fast reader gives records, they must be exactly construct's: on the real captures, on
blocks of every layout version built from random records (tails of every length for the
optional fields), and on damaged copies of them.
"""

from __future__ import annotations

import random
import struct
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import pytest

from support import CAPTURES
from scapkit.scapfile import blocks as B
from scapkit.scapfile import snapshot as S
from scapkit.scapfile.reader import CaptureReader


def _both(kind: str, btype: int, body: bytes) -> tuple[Any, Any]:
    """(fast reader's records or None, construct's records or the error it raised)."""
    if kind == "pl":
        fast = S._fast_processes(B.PL_VERSIONS[btype], body)
    elif kind == "fdl":
        fast = S._fast_fds(btype == B.BlockType.FDL_V2, body) if len(body) >= 8 else None
    elif kind == "il":
        fast = S._fast_interfaces(btype == B.BlockType.IL_V2, body)
    else:
        fast = S._fast_users(btype == B.BlockType.UL_V2, body)
    try:
        if kind == "pl":
            spec: Any = list(S.parse_processes(btype, body, 0, fast=False))
        elif kind == "fdl":
            tid, fds, err = S.parse_fds(btype, body, 0, fast=False)
            spec = fds if err is None else err
        elif kind == "il":
            spec = list(S.parse_interfaces(btype, body, 0, fast=False))
        else:
            spec = list(S.parse_users(btype, body, 0, fast=False))
    except Exception as exc:  # noqa: BLE001 - the fast reader must have given up then
        spec = exc
    return fast, spec


def _agree(kind: str, btype: int, body: bytes) -> bool:
    """Check the property; True when the fast reader answered (not construct)."""
    fast, spec = _both(kind, btype, body)
    if fast is None:
        return False
    assert not isinstance(spec, Exception), f"fast read what construct refuses: {spec}"
    assert fast == spec
    return True


_KINDS = [(B.PL_VERSIONS, "pl"), (B.FDL_TYPES, "fdl"), (B.IL_TYPES, "il"), (B.UL_TYPES, "ul")]


def test_real_captures_read_alike() -> None:
    seen = 0
    for path in CAPTURES:
        reader = CaptureReader(path)
        with reader:
            for rec in reader.records():
                btype = getattr(rec, "type", None)
                body = getattr(rec, "body", None)
                if body is None:
                    continue
                body = bytes(body)
                for types, kind in _KINDS:
                    if btype in types:
                        assert _agree(kind, btype, body), (path.name, hex(btype))
                        seen += 1
                if btype in B.MI_TYPES:
                    assert S.parse_machine_info(body, 0) == \
                        S.parse_machine_info(body, 0, fast=False)
    assert seen > 50


# -- building blocks of every layout ----------------------------------------------------------

def _text(r: random.Random, n: int = 12) -> bytes:
    return bytes(r.choice(b"abc/\x00\xff.-=") for _ in range(r.randrange(n)))


def _process(r: random.Random, version: int) -> bytes:
    values: dict[str, Any] = dict(
        tid=r.randrange(-5, 1 << 40), pid=r.randrange(1 << 20), ptid=r.randrange(-1, 99),
        sid=r.randrange(99), vpgid=r.randrange(99), comm=_text(r), exe=_text(r),
        exepath=_text(r), args=_text(r, 30), cwd=_text(r), fdlimit=r.randrange(-1, 1 << 20),
        flags=r.getrandbits(32), uid=r.getrandbits(32), gid=r.getrandbits(32),
        vmsize_kb=r.getrandbits(32), vmrss_kb=r.getrandbits(32), vmswap_kb=r.getrandbits(32),
        pfmajor=r.getrandbits(64), pfminor=r.getrandbits(64), env=_text(r, 30),
        vtid=r.randrange(-1, 99), vpid=r.randrange(-1, 99), cgroups=_text(r, 30), root=_text(r))
    if version < 9:
        return B.PROCESS_ENTRIES[version].build(values)
    core = B.PROCESS_ENTRIES[8].build(values)
    tail = bytes(r.getrandbits(8) for _ in range(r.choice([0, 1, 3, 4, 5, 13, 29, 30, 41,
                                                              62, 75, 90])))
    return struct.pack("<I", len(core) + len(tail) + 4) + core + tail


def _fd(r: random.Random, v2: bool) -> bytes:
    t = r.choice(list(B.FdType) + [99])
    info: Any = None
    if t in (B.FdType.IPV4_SOCK, B.FdType.IPV6_SOCK):
        v6 = t == B.FdType.IPV6_SOCK
        ip = (lambda: r.randbytes(16)) if v6 else (lambda: r.getrandbits(32))
        info = dict(sip=ip(), dip=ip(), sport=r.getrandbits(16), dport=r.getrandbits(16),
                    l4proto=r.getrandbits(8))
    elif t in (B.FdType.IPV4_SERVSOCK, B.FdType.IPV6_SERVSOCK):
        v6 = t == B.FdType.IPV6_SERVSOCK
        info = dict(ip=r.randbytes(16) if v6 else r.getrandbits(32), port=r.getrandbits(16),
                    l4proto=r.getrandbits(8))
    elif t == B.FdType.UNIX_SOCK:
        info = dict(source=r.getrandbits(64), destination=r.getrandbits(64), fname=_text(r))
    elif t == B.FdType.FILE_V2:
        info = dict(open_flags=r.getrandbits(32), fname=_text(r))
    elif t in B.NAME_FD_TYPES:
        info = dict(fname=_text(r))
    entry = B.FD_ENTRY_V1.build(dict(fd=r.randrange(-1, 1 << 20), ino=r.getrandbits(64),
                                     type=t, info=info))
    if not v2:
        return entry
    tail = r.randbytes(r.choice([0, 2, 4, 7]))
    return struct.pack("<I", len(entry) + len(tail) + 4) + entry + tail


def _interface(r: random.Random, v2: bool) -> bytes:
    t = r.choice(list(B.IfType)[1:])
    v6 = t in (B.IfType.IPV6, B.IfType.IPV6_NOLINKSPEED)
    name = _text(r)
    ip = (lambda: r.randbytes(16)) if v6 else (lambda: r.getrandbits(32))
    body = dict(addr=ip(), netmask=ip(), bcast=ip(), linkspeed=r.getrandbits(64), ifname=name)
    entry = B.InterfaceEntryV1.build(dict(type=t, ifnamelen=len(name), body=body))
    if not v2:
        return entry
    entry += r.randbytes(r.choice([0, 3, 8]))
    return struct.pack("<I", len(entry)) + entry


def _user(r: random.Random, v2: bool) -> bytes:
    if r.random() < 0.5:
        entry = B.UserEntryV1.build(dict(kind=0, data=dict(
            uid=r.getrandbits(32), gid=r.getrandbits(32), name=_text(r), homedir=_text(r),
            shell=_text(r))))
    else:
        entry = B.UserEntryV1.build(dict(kind=r.randrange(1, 4), data=dict(
            gid=r.getrandbits(32), name=_text(r))))
    if not v2:
        return entry
    entry += r.randbytes(r.choice([0, 5]))
    return struct.pack("<I", len(entry) + 4) + entry


def _block(r: random.Random, kind: str, btype: int) -> bytes:
    n = r.randrange(0, 6)
    if kind == "pl":
        return b"".join(_process(r, B.PL_VERSIONS[btype]) for _ in range(n))
    if kind == "fdl":
        v2 = btype == B.BlockType.FDL_V2
        return struct.pack("<q", r.randrange(1 << 30)) + b"".join(_fd(r, v2) for _ in range(n))
    if kind == "il":
        return b"".join(_interface(r, btype == B.BlockType.IL_V2) for _ in range(n))
    return b"".join(_user(r, btype == B.BlockType.UL_V2) for _ in range(n))


def _damage(r: random.Random, body: bytes) -> bytes:
    b = bytearray(body)
    k = r.randrange(4)
    if k == 0 and b:
        del b[r.randrange(len(b)):]
    elif k == 1 and b:
        for _ in range(r.randint(1, 4)):
            b[r.randrange(len(b))] = r.getrandbits(8)
    elif k == 2:
        b += r.randbytes(r.randrange(1, 9))
    elif b:
        at = r.randrange(len(b))
        b[at:at + 2] = r.randbytes(2)
    return bytes(b)


@pytest.mark.parametrize("types,kind", _KINDS, ids=[k for _, k in _KINDS])
def test_every_layout_reads_alike(types: Any, kind: str) -> None:
    r = random.Random(kind)
    answered = 0
    for btype in sorted(types):
        for _ in range(60):
            body = _block(r, kind, btype)
            answered += _agree(kind, btype, body)
            for _ in range(3):
                _agree(kind, btype, _damage(r, body))
    assert answered > 40 * len(types)  # (intact blocks are the fast reader's)


def test_addresses_are_the_same_objects() -> None:
    body = _block(random.Random(3), "fdl", B.BlockType.FDL_V2)
    fast = S._fast_fds(True, body) or []
    for f in fast:
        for ip in (f.sip, f.dip):
            assert ip is None or isinstance(ip, (IPv4Address, IPv6Address))
