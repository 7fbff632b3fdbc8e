"""Property tests: the construct declarations (blocks.py) and the fast reader agree.

* construct -> reader: random valid events (every event code of the table, parameters of
  valid sizes) and metadata entries are built with the construct declarations, framed,
  and read with CaptureReader: same fields, same parameters (v1 event blocks included,
  whose parameter count the reader recovers from the lengths).
* writer -> construct: what ScapWriter / snapshot.build_* write parses with the construct
  declarations back to the same values, and reads back with CaptureReader.
* hostile bytes: random bytes after a valid section header, or random edits of a real
  capture, never make the reader raise (only NotACaptureError, at the start, when the
  bytes do not begin with a section header) and never hang; the result does not depend
  on the reader's window (chunk) size.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import struct
from functools import lru_cache
from pathlib import Path

import pytest
from construct import Int32ul
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scapkit.scapfile import blocks as B
from scapkit.scapfile import reader as reader_mod
from scapkit.scapfile import snapshot as S
from scapkit.scapfile.errors import FormatError, NotACaptureError
from scapkit.scapfile.event_table import EVENTS, NUM_EVENTS, PT
from scapkit.scapfile.events import RawEvent, build_event, is_large
from scapkit.scapfile.reader import CaptureReader, v1_param_count_hint
from scapkit.scapfile.writer import ScapWriter

pytestmark = pytest.mark.timeout(60)

DATA = Path(__file__).parent / "data"
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

V1_BLOCKS = [int(B.BlockType.EV), int(B.BlockType.EV_INT), int(B.BlockType.EVF)]
V2_BLOCKS = [int(B.BlockType.EV_V2), int(B.BlockType.EVF_V2), int(B.BlockType.EV_V2_LARGE),
             int(B.BlockType.EVF_V2_LARGE)]

#: On-disk sizes of the fixed-size parameter types (libs' ppm_param_type sizes).
FIXED_SIZE = {
    **dict.fromkeys([PT.INT8, PT.UINT8, PT.SIGTYPE, PT.L4PROTO, PT.SOCKFAMILY, PT.FLAGS8,
                     PT.ENUMFLAGS8], 1),
    **dict.fromkeys([PT.INT16, PT.UINT16, PT.SYSCALLID, PT.PORT, PT.FLAGS16,
                     PT.ENUMFLAGS16], 2),
    **dict.fromkeys([PT.INT32, PT.UINT32, PT.FLAGS32, PT.ENUMFLAGS32, PT.MODE, PT.UID, PT.GID,
                     PT.SIGSET, PT.FD32, PT.PID32, PT.IPV4ADDR, PT.BOOL], 4),
    **dict.fromkeys([PT.INT64, PT.UINT64, PT.ERRNO, PT.FD, PT.PID, PT.RELTIME, PT.ABSTIME,
                     PT.DOUBLE, PT.IPV4NET], 8),
    PT.IPV6ADDR: 16, PT.IPV6NET: 32,
}


def section_header() -> bytes:
    body = B.SectionHeader.build(dict(major_version=1, minor_version=2, section_length=-1,
                                      options=b""))
    return frame(B.BlockType.SHB, body)


def frame(btype: int, body: bytes) -> bytes:
    """Framing with the construct declaration of the block header."""
    body += b"\0" * (-len(body) % 4)
    total = B.BLOCK_HEADER_SIZE + len(body) + B.BLOCK_TRAILER_SIZE
    return B.BlockHeader.build(dict(block_type=btype, block_total_length=total)) + body + \
        Int32ul.build(total)


SHB = section_header()


def read(data: bytes) -> tuple[list[RawEvent], CaptureReader]:
    r = CaptureReader(io.BytesIO(data))
    with r:
        return list(r.events()), r


def split_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """Blocks of a capture, parsed with the construct block header."""
    out, off = [], 0
    while off < len(data):
        h = B.BlockHeader.parse(data[off:off + 8])
        n = h.block_total_length
        assert Int32ul.parse(data[off + n - 4:off + n]) == n
        out.append((h.block_type, data[off + 8:off + n - 4]))
        off += n
    return out


class Keep(io.BytesIO):
    """A BytesIO the writer cannot close (its value is read afterwards)."""

    def close(self) -> None:
        pass


# -- events: strategies ----------------------------------------------------------------------------

def param_value(decl_type: PT | None) -> st.SearchStrategy[bytes]:
    if decl_type is not None and decl_type in FIXED_SIZE:
        n = FIXED_SIZE[decl_type]
        return st.binary(min_size=n, max_size=n)
    return st.binary(max_size=40) | st.builds(lambda c, n: bytes([c]) * n,
                                              st.integers(0, 255), st.integers(0, 300))


event_codes = st.integers(0, NUM_EVENTS - 1)
u64 = st.integers(0, (1 << 64) - 1)
i64 = st.integers(-(1 << 63), (1 << 63) - 1)
u32 = st.integers(0, (1 << 32) - 1)


@st.composite
def events(draw: st.DrawFn, count: str = "any") -> tuple[int, int, int, list[bytes]]:
    """(type, ts, tid, params): ``count`` "any" (0 .. table + 2 parameters) or "v1" (the
    counts old writers used: the table's, or sysdig 0.29.3's)."""
    etype = draw(event_codes)
    decls = EVENTS[etype].params
    if count == "v1":
        hint = v1_param_count_hint(etype)
        choices = sorted({len(decls), *([hint] if hint is not None and hint <= len(decls)
                                          else [])})
        n = draw(st.sampled_from(choices))
    else:
        n = draw(st.just(len(decls)) | st.integers(0, len(decls) + 2))
    params = [draw(param_value(decls[i].type if i < len(decls) else None)) for i in range(n)]
    return etype, draw(u64), draw(i64), params


def lens_bytes(etype: int, params: list[bytes]) -> bytes:
    return struct.pack(f"<{len(params)}{'I' if is_large(etype) else 'H'}",
                       *(len(p) for p in params))


def construct_v2_block(bt: int, cpu: int, flags: int, etype: int, ts: int, tid: int,
                       params: list[bytes]) -> bytes:
    """An event block built with EVENT_BLOCK_BODIES (the event length is what the
    declaration itself lays out)."""
    spec = B.EVENT_BLOCK_BODIES[bt]
    fields = dict(cpuid=cpu, flags=flags, param_lens=[len(p) for p in params], params=params)
    head = 6 if B.EVENT_BLOCKS[bt][1] else 2  # cpu id, dump flags
    probe = spec.build(dict(fields, header=dict(ts=ts, tid=tid, len=0, type=etype,
                                                nparams=len(params))))
    body = spec.build(dict(fields, header=dict(ts=ts, tid=tid, len=len(probe) - head,
                                               type=etype, nparams=len(params))))
    return frame(bt, body)


def check_event(ev: RawEvent, cpu: int, flags: int, etype: int, ts: int, tid: int,
                params: list[bytes]) -> None:
    assert (ev.cpu, ev.dump_flags, ev.ts, ev.tid, ev.type, ev.nparams) == \
        (cpu, flags, ts, tid, etype, len(params))
    assert ev.raw_params() == params
    assert ev.data == build_event(ts, tid, etype, params)


# -- events: construct -> reader -----------------------------------------------------------------

@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(V2_BLOCKS), st.integers(0, 0xFFFF), u32, events()),
                min_size=1, max_size=8))
def test_v2_blocks_built_with_construct_read_back(blocks) -> None:  # type: ignore[no-untyped-def]
    data = SHB
    want = []
    for bt, cpu, flags, (etype, ts, tid, params) in blocks:
        flags = flags if B.EVENT_BLOCKS[bt][1] else 0
        data += construct_v2_block(bt, cpu, flags, etype, ts, tid, params)
        want.append((cpu, flags, etype, ts, tid, params))
    evs, r = read(data)
    assert r.damage == []
    assert len(evs) == len(want)
    for ev, w in zip(evs, want):
        check_event(ev, *w)


def _v1_payload(etype: int, params: list[bytes]) -> bytes:
    payload = lens_bytes(etype, params) + b"".join(params)
    if EVENTS[etype].symbol in ("NOTIFICATION_E", "INFRASTRUCTURE_EVENT_E"):
        payload += b"\0\0\0"  # old writers stored these 3 bytes too long
    return payload


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(V1_BLOCKS), st.integers(0, 0xFFFF), u32,
                          events("v1")), min_size=1, max_size=8))
def test_v1_blocks_built_with_construct_read_back(blocks) -> None:  # type: ignore[no-untyped-def]
    """v1 event headers have no nparams: the reader recovers the count from the lengths."""
    data = SHB
    want = []
    for bt, cpu, flags, (etype, ts, tid, params) in blocks:
        flags = flags if B.EVENT_BLOCKS[bt][1] else 0
        payload = _v1_payload(etype, params)
        body = B.EVENT_BLOCK_BODIES[bt].build(dict(
            cpuid=cpu, flags=flags, payload=payload,
            header=dict(ts=ts, tid=tid, len=B.EVENT_HEADER_V1_SIZE + len(payload), type=etype)))
        data += frame(bt, body)
        want.append((cpu, flags, etype, ts, tid, params))
    evs, r = read(data)
    assert r.damage == []
    assert len(evs) == len(want)
    for ev, w in zip(evs, want):
        check_event(ev, *w)


@SETTINGS
@given(etype=st.integers(NUM_EVENTS, 0xFFFF), ts=u64, tid=i64, payload=st.binary(max_size=64))
def test_v1_event_of_unknown_type(etype: int, ts: int, tid: int, payload: bytes) -> None:
    body = B.EVENT_BLOCK_BODIES[B.BlockType.EV].build(dict(
        cpuid=1, payload=payload,
        header=dict(ts=ts, tid=tid, len=B.EVENT_HEADER_V1_SIZE + len(payload), type=etype)))
    (ev,), r = read(SHB + frame(B.BlockType.EV, body))
    assert r.damage == [] and r.unknown_event_types == {etype: 1}
    assert (ev.type, ev.ts, ev.tid, ev.nparams) == (etype, ts, tid, 0)
    assert ev.data[26:] == payload


# -- events: writer -> construct -----------------------------------------------------------------

big_params = st.lists(st.integers(30000, 65535), min_size=2, max_size=3).map(
    lambda sizes: [bytes([i]) * n for i, n in enumerate(sizes)])


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 7),
                          events() | st.tuples(event_codes, u64, i64, big_params)),
                min_size=1, max_size=6))
def test_writer_blocks_parse_with_construct(evs) -> None:  # type: ignore[no-untyped-def]
    """Events written by ScapWriter (including events too big for a plain block, which
    go into the LARGE block types) parse with EVENT_BLOCK_BODIES to the same values."""
    buf = Keep()
    with ScapWriter(buf) as w:
        w.write_section_header()
        for cpu, flags, (etype, ts, tid, params) in evs:
            w.write_event(build_event(ts, tid, etype, params), cpu=cpu, dump_flags=flags)
    data = buf.getvalue()
    blocks = split_blocks(data)
    assert blocks[0][0] == B.BlockType.SHB
    assert B.SectionHeader.parse(blocks[0][1]).major_version == 1
    for (bt, body), (cpu, flags, (etype, ts, tid, params)) in zip(blocks[1:], evs):
        v2, with_flags, large = B.EVENT_BLOCKS[bt]
        assert v2 and with_flags == bool(flags)
        c = B.EVENT_BLOCK_BODIES[bt].parse(body)
        assert c.cpuid == cpu and (c.flags if with_flags else 0) == flags
        assert (c.header.ts, c.header.tid, c.header.type, c.header.nparams) == \
            (ts, tid, etype, len(params))
        assert list(c.params) == params
        assert c.header.len == len(build_event(ts, tid, etype, params))
    read_back, r = read(data)
    assert r.damage == []
    for ev, (cpu, flags, (etype, ts, tid, params)) in zip(read_back, evs):
        check_event(ev, cpu, flags, etype, ts, tid, params)


@pytest.mark.parametrize("name", ["curl_google", "single_ipv6_conn"])
def test_real_event_blocks_parse_with_construct(name: str) -> None:
    """Every event block of the real captures: the construct declaration and the reader
    see the same header and parameters."""
    data = gzip.decompress((DATA / f"{name}.scap").read_bytes())
    evs, r = read(data)
    it = iter(evs)
    for bt, body in split_blocks(data):
        if bt not in B.EVENT_BLOCKS:
            continue
        ev = next(it)
        c = B.EVENT_BLOCK_BODIES[bt].parse(body)
        assert (c.header.ts, c.header.tid, c.header.type, c.cpuid) == \
            (ev.ts, ev.tid, ev.type, ev.cpu)
        if B.EVENT_BLOCKS[bt][0]:
            assert list(c.params) == ev.raw_params()
        else:
            assert ev.data[26 + (4 if is_large(ev.type) else 2) * ev.nparams:] == \
                b"".join(ev.raw_params())
            assert bytes(c.payload).startswith(ev.data[26:])


# -- metadata: strategies ---------------------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               max_size=12)
texts = st.lists(text, max_size=4)
i32u = st.integers(0, (1 << 32) - 1)


@st.composite
def processes(draw: st.DrawFn) -> S.ProcessInfo:
    return S.ProcessInfo(
        tid=draw(i64), pid=draw(i64), ptid=draw(i64), comm=draw(text), exe=draw(text),
        exepath=draw(text), args=draw(texts), cwd=draw(text), fdlimit=draw(i64),
        flags=draw(i32u), uid=draw(i32u), gid=draw(i32u), vmsize_kb=draw(i32u),
        vmrss_kb=draw(i32u), vmswap_kb=draw(i32u), pfmajor=draw(u64), pfminor=draw(u64),
        env=draw(texts), vtid=draw(i64), vpid=draw(i64), cgroups=draw(texts), root=draw(text),
        sid=draw(i64), vpgid=draw(i64), loginuid=draw(i32u), exe_writable=draw(st.booleans()),
        cap_inheritable=draw(u64), cap_permitted=draw(u64), cap_effective=draw(u64))


v4 = st.builds(ipaddress.IPv4Address, i32u)
v6 = st.builds(ipaddress.IPv6Address, st.integers(0, (1 << 128) - 1))
port = st.integers(0, 0xFFFF)
u8 = st.integers(0, 255)
NAME_TYPES = sorted(int(t) for t in B.NAME_FD_TYPES)


@st.composite
def fds(draw: st.DrawFn) -> S.FdInfo:
    fd, ino = draw(i64), draw(u64)
    kind = draw(st.sampled_from(["sock4", "sock6", "serv4", "serv6", "unix", "file2", "name"]))
    if kind in ("sock4", "sock6"):
        a = v4 if kind == "sock4" else v6
        t = B.FdType.IPV4_SOCK if kind == "sock4" else B.FdType.IPV6_SOCK
        return S.FdInfo(fd, ino, t, sip=draw(a), dip=draw(a), sport=draw(port),
                        dport=draw(port), l4proto=draw(u8))
    if kind in ("serv4", "serv6"):
        t = B.FdType.IPV4_SERVSOCK if kind == "serv4" else B.FdType.IPV6_SERVSOCK
        return S.FdInfo(fd, ino, t, sip=draw(v4 if kind == "serv4" else v6),
                        sport=draw(port), l4proto=draw(u8))
    if kind == "unix":
        return S.FdInfo(fd, ino, B.FdType.UNIX_SOCK, name=draw(text), source=draw(u64),
                        destination=draw(u64))
    if kind == "file2":
        return S.FdInfo(fd, ino, B.FdType.FILE_V2, name=draw(text), open_flags=draw(i32u),
                        dev=draw(st.none() | i32u))
    return S.FdInfo(fd, ino, draw(st.sampled_from(NAME_TYPES)), name=draw(text))


interfaces = st.one_of(
    st.builds(S.InterfaceInfo, name=text, addr=v4, netmask=v4, bcast=v4, linkspeed=u64),
    st.builds(S.InterfaceInfo, name=text, addr=v6, netmask=v6, bcast=v6, linkspeed=u64),
)
users = st.builds(S.UserInfo, uid=i32u, gid=i32u, name=text, homedir=text, shell=text)
groups = st.builds(S.GroupInfo, gid=i32u, name=text)
machines = st.builds(S.MachineInfo, num_cpus=i32u, memory_size_bytes=u64, max_pid=u64,
                     hostname=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                                      max_size=64),
                     boot_ts_epoch=u64, flags=u64)


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _nul(items: list[str]) -> bytes:
    return b"".join(_b(x) + b"\0" for x in items)


# -- metadata: writer -> construct, and back through the reader -----------------------------------

@SETTINGS
@given(machine=machines, procs=st.lists(processes(), max_size=4, unique_by=lambda p: p.tid),
       fdl=st.lists(fds(), max_size=5, unique_by=lambda f: f.fd), tid=i64,
       ifs=st.lists(interfaces, max_size=3),
       us=st.lists(users, max_size=3, unique_by=lambda u: u.uid),
       gs=st.lists(groups, max_size=3, unique_by=lambda g: g.gid))
def test_snapshot_written_parses_with_construct(machine, procs, fdl, tid, ifs, us, gs
                                                ) -> None:  # type: ignore[no-untyped-def]
    # entry by entry: the builders against the newest declarations
    m = B.MachineInfo.parse(S.build_machine_info(machine))
    assert (m.num_cpus, m.memory_size_bytes, m.max_pid, m.boot_ts_epoch, m.flags) == \
        (machine.num_cpus, machine.memory_size_bytes, machine.max_pid, machine.boot_ts_epoch,
         machine.flags)
    assert bytes(m.hostname).rstrip(b"\0") == _b(machine.hostname)
    for p in procs:
        raw = S.build_process(p)
        c = B.PROCESS_ENTRIES[9].parse(raw)
        assert c.sub_len == len(raw)
        assert (c.tid, c.pid, c.ptid, c.sid, c.vpgid, c.vtid, c.vpid) == \
            (p.tid, p.pid, p.ptid, p.sid, p.vpgid, p.vtid, p.vpid)
        assert (c.comm, c.exe, c.exepath, c.cwd, c.root) == \
            tuple(_b(x) for x in (p.comm, p.exe, p.exepath, p.cwd, p.root))
        assert (c.args, c.env, c.cgroups) == (_nul(p.args), _nul(p.env), _nul(p.cgroups))
        assert (c.fdlimit, c.flags, c.uid, c.gid, c.vmsize_kb, c.vmrss_kb, c.vmswap_kb,
                c.pfmajor, c.pfminor) == (p.fdlimit, p.flags, p.uid, p.gid, p.vmsize_kb,
                                          p.vmrss_kb, p.vmswap_kb, p.pfmajor, p.pfminor)
        e = c.extra
        assert c.tail_len == 29 and e.pidns_init_start_ts is None and e.tty is None
        assert (e.loginuid, bool(e.exe_writable), e.cap_inheritable, e.cap_permitted,
                e.cap_effective) == (p.loginuid, p.exe_writable, p.cap_inheritable,
                                     p.cap_permitted, p.cap_effective)
    for f in fdl:
        raw = S.build_fd(f)
        c = B.FD_ENTRY_V2.parse(raw)
        assert (c.sub_len, c.fd, c.ino, c.type) == (len(raw), f.fd, f.ino, f.type)
        if f.type == B.FdType.FILE_V2:
            assert (c.info.open_flags, c.info.fname, c.extra.dev) == \
                (f.open_flags, _b(f.name), f.dev)
        elif f.type in B.NAME_FD_TYPES or f.type == B.FdType.UNIX_SOCK:
            assert c.info.fname == _b(f.name)
    for i in ifs:
        raw = S.build_interface(i)
        c = B.InterfaceEntryV2.parse(raw)
        assert c.entry_len == len(raw) - 4
        assert (bytes(c.entry.body.ifname), c.entry.body.linkspeed) == (_b(i.name), i.linkspeed)
    for u in [*us, *gs]:
        raw = S.build_user(u)
        c = B.UserEntryV2.parse(raw)
        assert c.sub_len == len(raw)
        assert c.entry.data.name == _b(u.name) and c.entry.data.gid == u.gid
    # the whole snapshot, through the writer and the reader
    snap = S.Snapshot(machine=machine, processes={p.tid: p for p in procs},
                      fds={tid: {f.fd: f for f in fdl}} if fdl else {},
                      interfaces=list(ifs), users={u.uid: u for u in us},
                      groups={g.gid: g for g in gs})
    buf = Keep()
    with ScapWriter(buf) as w:
        w.write_header(snap)
    evs, r = read(buf.getvalue())
    assert evs == [] and r.damage == []
    assert r.snapshot == snap


# -- metadata: construct -> reader, every layout version ---------------------------------------------

_PL_OLD_TAIL = [("loginuid", i32u, 4), ("exe_writable", u8, 1), ("cap_inheritable", u64, 8),
                ("cap_permitted", u64, 8), ("cap_effective", u64, 8)]
_PL_NEW_TAIL = [("pidns_init_start_ts", u64, 8), ("tty", i32u, 4), ("loginuid", i32u, 4),
                ("exe_writable", u8, 1), ("cap_inheritable", u64, 8),
                ("cap_permitted", u64, 8), ("cap_effective", u64, 8),
                ("exe_upper_layer", u8, 1), ("exe_ino", u64, 8), ("exe_ino_ctime", u64, 8),
                ("exe_ino_mtime", u64, 8), ("exe_from_memfd", u8, 1),
                ("exe_lower_layer", u8, 1), ("pgid", i64, 8)]
_BOOL_FIELDS = {"exe_writable", "exe_upper_layer", "exe_lower_layer", "exe_from_memfd"}


@st.composite
def pl_entry(draw: st.DrawFn, version: int) -> tuple[dict, dict]:
    """(construct fields, expected ProcessInfo fields) of one entry of a PL block."""
    p = draw(processes())
    f = dict(tid=p.tid, pid=p.pid, ptid=p.ptid, sid=p.sid, vpgid=p.vpgid, comm=_b(p.comm),
             exe=_b(p.exe), exepath=_b(p.exepath), args=_nul(p.args), cwd=_b(p.cwd),
             fdlimit=p.fdlimit, flags=p.flags, uid=p.uid, gid=p.gid, vmsize_kb=p.vmsize_kb,
             vmrss_kb=p.vmrss_kb, vmswap_kb=p.vmswap_kb, pfmajor=p.pfmajor, pfminor=p.pfminor,
             env=_nul(p.env), vtid=p.vtid, vpid=p.vpid, cgroups=_nul(p.cgroups),
             root=_b(p.root))
    want = dict(tid=p.tid, pid=p.pid, ptid=p.ptid, comm=p.comm, exe=p.exe, args=p.args,
                cwd=p.cwd, fdlimit=p.fdlimit, flags=p.flags, uid=p.uid, gid=p.gid)
    v = version
    if v >= 2:
        want.update(vmsize_kb=p.vmsize_kb, vmrss_kb=p.vmrss_kb, vmswap_kb=p.vmswap_kb,
                    pfmajor=p.pfmajor, pfminor=p.pfminor)
    if v >= 3:
        want.update(env=p.env)
    if v >= 4:
        want.update(vtid=p.vtid, vpid=p.vpid, cgroups=p.cgroups)
    if v >= 5:
        want.update(root=p.root)
    if v >= 6:
        want.update(sid=p.sid)
    if v >= 7:
        want.update(exepath=p.exepath)
    if v >= 8:
        want.update(vpgid=p.vpgid)
    if v >= 9:
        layout = draw(st.sampled_from([_PL_OLD_TAIL, _PL_NEW_TAIL]))
        lo = 0 if layout is _PL_OLD_TAIL else 6  # the new layout is longer than 29 bytes
        k = draw(st.integers(lo, len(layout)))
        extra = {name: None for name, _, _ in _PL_NEW_TAIL}
        tail = 0
        for name, strat, size in layout[:k]:
            value = draw(strat)
            extra[name] = value
            want[name] = bool(value) if name in _BOOL_FIELDS else value
            tail += size
        core = len(B.PROCESS_ENTRIES[8].build(f))
        f.update(sub_len=4 + core + tail, extra=extra)
    return f, want


@SETTINGS
@given(data=st.data(), version=st.integers(1, 9))
def test_process_lists_built_with_construct_read_back(data, version: int) -> None:  # type: ignore[no-untyped-def]
    entries = data.draw(st.lists(pl_entry(version), max_size=4,
                                 unique_by=lambda e: e[1]["tid"]))
    bt = next(t for t, v in B.PL_VERSIONS.items() if v == version)
    body = b"".join(B.PROCESS_ENTRIES[version].build(f) for f, _ in entries)
    evs, r = read(SHB + frame(bt, body))
    assert r.damage == []
    assert len(r.snapshot.processes) == len(entries)
    for _, want in entries:
        got = r.snapshot.processes[want["tid"]]
        assert got.version == version
        for name, value in want.items():
            assert getattr(got, name) == value, name


def _fd_fields(f: S.FdInfo) -> dict:
    t = f.type

    def raw(a, v6: bool):  # type: ignore[no-untyped-def]
        return a.packed if v6 else struct.unpack("<I", a.packed)[0]

    if t in (B.FdType.IPV4_SOCK, B.FdType.IPV6_SOCK):
        v6_ = t == B.FdType.IPV6_SOCK
        info = dict(sip=raw(f.sip, v6_), dip=raw(f.dip, v6_), sport=f.sport, dport=f.dport,
                    l4proto=f.l4proto)
    elif t in (B.FdType.IPV4_SERVSOCK, B.FdType.IPV6_SERVSOCK):
        info = dict(ip=raw(f.sip, t == B.FdType.IPV6_SERVSOCK), port=f.sport, l4proto=f.l4proto)
    elif t == B.FdType.UNIX_SOCK:
        info = dict(source=f.source, destination=f.destination, fname=_b(f.name))
    elif t == B.FdType.FILE_V2:
        info = dict(open_flags=f.open_flags, fname=_b(f.name))
    else:
        info = dict(fname=_b(f.name))
    return dict(fd=f.fd, ino=f.ino, type=int(t), info=info)


@SETTINGS
@given(tid=i64, entries=st.lists(fds(), max_size=5, unique_by=lambda f: f.fd),
       v2=st.booleans())
def test_fd_lists_built_with_construct_read_back(tid: int, entries: list[S.FdInfo],
                                                 v2: bool) -> None:
    body = B.FdListHead.build(dict(tid=tid))
    want = []
    for f in entries:
        fields = _fd_fields(f)
        if v2:
            core = len(B.FD_ENTRY_V1.build(fields))
            has_dev = f.type == B.FdType.FILE_V2 and f.dev is not None
            fields.update(sub_len=4 + core + (4 if has_dev else 0),
                          extra=dict(dev=f.dev if has_dev else None))
            body += B.FD_ENTRY_V2.build(fields)
        else:
            body += B.FD_ENTRY_V1.build(fields)
            if f.type == B.FdType.FILE_V2:
                f = S.FdInfo(**{**{k: getattr(f, k) for k in f.__slots__}, "dev": None})
        want.append(f)
    bt = B.BlockType.FDL_V2 if v2 else B.BlockType.FDL
    evs, r = read(SHB + frame(bt, body))
    assert r.damage == []
    assert r.snapshot.fds.get(tid, {}) == {f.fd: f for f in want}


@SETTINGS
@given(entries=st.lists(st.tuples(interfaces, st.booleans()), max_size=4), v2=st.booleans())
def test_interface_lists_built_with_construct_read_back(entries, v2: bool) -> None:  # type: ignore[no-untyped-def]
    body = b""
    want = []
    for i, linkspeed in entries:
        v6_ = i.is_ipv6
        t = (B.IfType.IPV6 if v6_ else B.IfType.IPV4) if linkspeed else \
            (B.IfType.IPV6_NOLINKSPEED if v6_ else B.IfType.IPV4_NOLINKSPEED)

        def raw(a):  # type: ignore[no-untyped-def]
            return a.packed if v6_ else struct.unpack("<I", a.packed)[0]

        b = dict(addr=raw(i.addr), netmask=raw(i.netmask), bcast=raw(i.bcast),
                 ifname=_b(i.name), linkspeed=i.linkspeed)
        entry = dict(type=int(t), ifnamelen=len(_b(i.name)), body=b)
        if v2:
            inner = B.InterfaceEntryV1.build(entry)
            body += B.InterfaceEntryV2.build(dict(entry_len=len(inner),
                                                  entry=dict(entry, rest=b"")))
        else:
            body += B.InterfaceEntryV1.build(entry)
        want.append(i if linkspeed else S.InterfaceInfo(i.name, i.addr, i.netmask, i.bcast, 0))
    bt = B.BlockType.IL_V2 if v2 else B.BlockType.IL
    evs, r = read(SHB + frame(bt, body))
    assert r.damage == []
    assert r.snapshot.interfaces == want


@SETTINGS
@given(us=st.lists(users, max_size=3, unique_by=lambda u: u.uid),
       gs=st.lists(groups, max_size=3, unique_by=lambda g: g.gid), v2=st.booleans())
def test_user_lists_built_with_construct_read_back(us, gs, v2: bool) -> None:  # type: ignore[no-untyped-def]
    body = b""
    for u in [*us, *gs]:
        if isinstance(u, S.UserInfo):
            entry = dict(kind=B.USERBLOCK_TYPE_USER, data=dict(
                uid=u.uid, gid=u.gid, name=_b(u.name), homedir=_b(u.homedir), shell=_b(u.shell)))
        else:
            entry = dict(kind=B.USERBLOCK_TYPE_GROUP, data=dict(gid=u.gid, name=_b(u.name)))
        if v2:
            inner = B.UserEntryV1.build(entry)
            body += B.UserEntryV2.build(dict(sub_len=len(inner) + 4, entry=dict(entry, rest=b"")))
        else:
            body += B.UserEntryV1.build(entry)
    bt = B.BlockType.UL_V2 if v2 else B.BlockType.UL
    evs, r = read(SHB + frame(bt, body))
    assert r.damage == []
    assert r.snapshot.users == {u.uid: u for u in us}
    assert r.snapshot.groups == {g.gid: g for g in gs}


@SETTINGS
@given(m=machines, extra=st.binary(max_size=16))
def test_machine_info_built_with_construct_reads_back(m: S.MachineInfo, extra: bytes) -> None:
    body = B.MachineInfo.build(dict(
        num_cpus=m.num_cpus, memory_size_bytes=m.memory_size_bytes, max_pid=m.max_pid,
        hostname=_b(m.hostname).ljust(128, b"\0"), boot_ts_epoch=m.boot_ts_epoch,
        flags=m.flags, reserved3=0, reserved4=0)) + extra  # newer writers may append
    evs, r = read(SHB + frame(B.BlockType.MI, body))
    assert r.damage == [] and r.snapshot.machine == m


# -- hostile bytes ---------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def small_capture() -> bytes:
    """The start of a real v2 capture: every metadata kind and some events (~12 KB)."""
    data = gzip.decompress((DATA / "single_ipv6_conn.scap").read_bytes())
    out, off, n_ev = [], 0, 0
    while off < len(data) and n_ev < 40:
        bt, n = struct.unpack_from("<II", data, off)
        if bt == B.BlockType.PL_V9 or (bt == B.BlockType.FDL_V2 and len(out) > 6):
            off += n  # keep the file small: no process list, few fd lists
            continue
        n_ev += bt in B.EVENT_BLOCKS
        out.append(data[off:off + n])
        off += n
    return b"".join(out)


def check_invariants(data: bytes, evs: list[RawEvent], r: CaptureReader) -> None:
    last = -1
    for ev in evs:
        assert last < ev.offset < len(data)
        last = ev.offset
    for d in r.damage:
        assert isinstance(d, FormatError)
        assert d.offset is not None and 0 <= d.offset <= len(data)
        assert "\n" not in d.describe()
    assert r.bytes_read <= len(data)


def read_with_chunk(data: bytes, chunk: int) -> tuple[list, list[str]]:
    saved = reader_mod.CHUNK
    reader_mod.CHUNK = chunk
    try:
        evs, r = read(data)
    finally:
        reader_mod.CHUNK = saved
    return [(e.offset, e.ts, e.tid, e.type, e.data) for e in evs], [d.describe() for d in r.damage]


@settings(max_examples=300, deadline=None)
@given(junk=st.binary(max_size=3000))
def test_random_bytes_after_a_section_header(junk: bytes) -> None:
    data = SHB + junk
    evs, r = read(data)  # never raises
    check_invariants(data, evs, r)


@settings(max_examples=300, deadline=None)
@given(junk=st.binary(max_size=200))
def test_random_bytes_alone(junk: bytes) -> None:
    try:
        evs, r = read(junk)
    except NotACaptureError as exc:
        assert exc.offset in (0, 8)
        return
    check_invariants(junk, evs, r)


@st.composite
def mutated_capture(draw: st.DrawFn) -> bytes:
    data = bytearray(small_capture())
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["byte", "u32", "u16", "cut", "insert", "delete", "dup"]))
        pos = draw(st.integers(28, len(data) - 1))  # keep the section header
        if op == "byte":
            data[pos] = draw(u8)
        elif op in ("u32", "u16") and pos + 4 <= len(data):
            value = draw(st.sampled_from([0, 1, 11, 12, 0xFFFF, 0xFFFFFFFF]) | u32)
            fmt = "<I" if op == "u32" else "<H"
            struct.pack_into(fmt, data, pos, value & (0xFFFFFFFF if op == "u32" else 0xFFFF))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "dup":
            n = draw(st.integers(1, 400))
            data[pos:pos] = data[pos:pos + n]
        if len(data) <= 29:
            break
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_capture())
def test_mutated_real_capture(data: bytes) -> None:
    """Random edits of a real capture: nothing raises, and the result is the same
    whatever the reader's window size (chunk boundaries fall everywhere)."""
    evs, r = read(data)
    check_invariants(data, evs, r)
    ref = ([(e.offset, e.ts, e.tid, e.type, e.data) for e in evs], [d.describe() for d in r.damage])
    for chunk in (7, 61, 4096):
        assert read_with_chunk(data, chunk) == ref


@settings(max_examples=100, deadline=None)
@given(junk=st.binary(max_size=400), cut=st.integers(0, 2000))
def test_random_compressed_streams(junk: bytes, cut: int) -> None:
    comp = gzip.compress(small_capture())
    for data in (comp[:cut] + junk, b"\x28\xb5\x2f\xfd" + junk):
        try:
            evs, r = read(data)
        except NotACaptureError:
            continue
        assert len(evs) <= 40
        for d in r.damage:
            assert isinstance(d, FormatError) and "\n" not in d.describe()


def test_small_capture_is_clean() -> None:
    evs, r = read(small_capture())
    assert len(evs) == 40 and r.damage == []
