"""The writer: private files, readable layouts, and files that survive a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support import CAPTURES
from scapkit.scapfile import blocks as B
from scapkit.scapfile.events import build_event
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.snapshot import (
    FdInfo, GroupInfo, InterfaceInfo, MachineInfo, ProcessInfo, Snapshot, UserInfo,
)
from scapkit.scapfile.writer import ScapWriter

import ipaddress

OPEN_X = 3  # open exit: fd, name, flags, mode, dev, ino


def _snapshot() -> Snapshot:
    s = Snapshot(machine=MachineInfo(num_cpus=2, memory_size_bytes=1 << 30, hostname="h"))
    s.processes[10] = ProcessInfo(tid=10, pid=10, ptid=1, comm="cat", exe="/bin/cat",
                                  exepath="/usr/bin/cat", args=["a", "b"], cwd="/tmp",
                                  env=["A=1"], cgroups=["cpu=/"], uid=1000, gid=1000,
                                  loginuid=1000, sid=5, vpgid=10, exe_writable=True)
    s.fds[10] = {3: FdInfo(fd=3, ino=7, type=B.FdType.FILE_V2, name="/etc/x", open_flags=1,
                           dev=2049),
                 4: FdInfo(fd=4, ino=0, type=B.FdType.IPV4_SOCK,
                           sip=ipaddress.IPv4Address("127.0.0.1"),
                           dip=ipaddress.IPv4Address("10.0.0.1"), sport=1, dport=80,
                           l4proto=6)}
    s.interfaces = [InterfaceInfo("lo", ipaddress.IPv4Address("127.0.0.1"),
                                  ipaddress.IPv4Address("255.0.0.0"),
                                  ipaddress.IPv4Address("127.255.255.255")),
                    InterfaceInfo("lo", ipaddress.IPv6Address("::1"),
                                  ipaddress.IPv6Address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                                  ipaddress.IPv6Address("::"))]
    s.users[1000] = UserInfo(1000, 1000, "me", "/home/me", "/bin/sh")
    s.groups[1000] = GroupInfo(1000, "me")
    return s


def _open_event(i: int) -> bytes:
    params = [(3).to_bytes(8, "little", signed=True), f"/tmp/f{i}\0".encode(),
              (1).to_bytes(4, "little"), (0o644).to_bytes(4, "little"),
              (2049).to_bytes(4, "little"), (i).to_bytes(8, "little")]
    return build_event(1_700_000_000_000_000_000 + i, 10, OPEN_X, params)


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_round_trip_of_snapshot_and_events(tmp_path: Path, compress: str) -> None:
    path = tmp_path / "x.scap"
    snap = _snapshot()
    with ScapWriter(path, compress=compress) as w:  # type: ignore[arg-type]
        w.write_header(snap)
        for i in range(100):
            w.write_event(_open_event(i), cpu=i % 2)
    assert path.stat().st_mode & 0o777 == 0o600
    r = CaptureReader(path)
    evs = list(r)
    assert r.damage == []
    assert [e.ts for e in evs] == [1_700_000_000_000_000_000 + i for i in range(100)]
    assert [e.cpu for e in evs] == [i % 2 for i in range(100)]
    assert evs[5].params()[1] == "/tmp/f5"
    got = r.snapshot
    assert got.machine == snap.machine
    p = got.processes[10]
    assert (p.comm, p.exe, p.exepath, p.args, p.env, p.cgroups, p.loginuid, p.sid, p.vpgid,
            p.exe_writable) == ("cat", "/bin/cat", "/usr/bin/cat", ["a", "b"], ["A=1"],
                                ["cpu=/"], 1000, 5, 10, True)
    assert got.fds[10][3].name == "/etc/x" and got.fds[10][3].dev == 2049
    assert str(got.fds[10][4].dip) == "10.0.0.1" and got.fds[10][4].dport == 80
    assert [str(i.addr) for i in got.interfaces] == ["127.0.0.1", "::1"]
    assert got.users[1000].shell == "/bin/sh" and got.groups[1000].name == "me"
    kinds = {B.block_kind(t) for t in r.block_counts}
    assert kinds == {"SHB", "MI", "IL v2", "UL v2", "PL v9", "FDL v2", "EV v2"}


def test_mode_is_0600_even_with_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        with ScapWriter(tmp_path / "y.scap") as w:
            w.write_header()
    finally:
        os.umask(old)
    assert (tmp_path / "y.scap").stat().st_mode & 0o777 == 0o600


def test_existing_file_is_made_private(tmp_path: Path) -> None:
    p = tmp_path / "z.scap"
    p.write_bytes(b"old")
    p.chmod(0o644)
    with ScapWriter(p) as w:
        w.write_header()
    assert p.stat().st_mode & 0o777 == 0o600


def test_events_with_dump_flags_use_evf_blocks(tmp_path: Path) -> None:
    p = tmp_path / "f.scap"
    with ScapWriter(p) as w:
        w.write_header()
        w.write_event(_open_event(1), cpu=1, dump_flags=4)
    r = CaptureReader(p)
    (ev,) = list(r)
    assert ev.dump_flags == 4 and ev.cpu == 1
    assert r.block_counts[B.BlockType.EVF_V2] == 1


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_writer import _open_event, _snapshot
    from scapkit.scapfile.writer import ScapWriter
    w = ScapWriter(sys.argv[1], compress=sys.argv[2])
    w.write_header(_snapshot())
    i = 0
    while True:
        w.write_event(_open_event(i))
        i += 1
        if i % 500 == 0:
            w.flush()
            print(i, flush=True)
""")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_writer_killed_mid_write_leaves_a_readable_prefix(tmp_path: Path, compress: str) -> None:
    path = tmp_path / "killed.scap"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER.format(tests=str(Path(__file__).parent)),
         str(path), compress], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    flushed = 0
    while flushed < 3000:
        line = proc.stdout.readline()
        assert line, "writer died early"
        flushed = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    r = CaptureReader(path)
    evs = list(r)
    # Everything flushed before the kill is there, in order, intact.
    assert len(evs) >= flushed
    assert [e.ts for e in evs] == [1_700_000_000_000_000_000 + i for i in range(len(evs))]
    assert all(e.params()[1] == f"/tmp/f{i}" for i, e in enumerate(evs))
    # At most one problem, at the end: the block or compressed frame cut by the kill.
    assert len(r.damage) <= 1


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_rewritten_events_keep_their_bytes(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.scap"
    src = list(CaptureReader(capture))
    with ScapWriter(out) as w:
        w.write_header()
        for ev in src:
            w.write_event(ev)
    again = list(CaptureReader(out))
    assert [(e.ts, e.tid, e.cpu, e.type, e.data) for e in again] == \
        [(e.ts, e.tid, e.cpu, e.type, e.data) for e in src]
