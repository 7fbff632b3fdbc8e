"""The eBPF driver end to end: real workloads recorded on this kernel, read by our reader and
by sysdig 0.29.3, which must print the same thing; plus following, exclusion, the merge of
the per-CPU rings, drops and the driver's errors."""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import run_sysdig
from scapkit.cli.app import app
from scapkit.ebpf import build
from scapkit.ebpf.capture import decode_event, record_command
from scapkit.ebpf.driver import (RING_MAX, RING_MIN, RINGS_TOTAL_MAX, EbpfDriver, ring_bytes,
                                  unavailable_reason)
from scapkit.scapfile.driver_api import (DriverConfig, NoBtfError, NoPrivilegeError)
from scapkit.scapfile.event_table import events_named
from scapkit.scapfile.reader import CaptureReader

pytestmark = pytest.mark.root
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def ebpf_available() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"eBPF driver unavailable: {reason}")


def scap_read(path: Path) -> str:
    res = runner.invoke(app, ["read", str(path)], env={"TZ": "UTC"})
    assert res.exit_code == 0, res.output
    return res.stdout


def same_in_both(sysdig: str, path: Path) -> str:
    """sysdig -r and scap read print the capture identically; returns that text."""
    expected = run_sysdig(sysdig, "-r", str(path)).decode()
    got = scap_read(path)
    assert got.splitlines() == expected.splitlines()
    assert got.strip()
    return got


def events(path: Path, name: str, direction: str) -> list[tuple[int, dict[str, object]]]:
    """(tid, decoded params) of every event of that name and direction."""
    codes = {e.code for e in events_named(name) if e.direction == direction}
    out = []
    with CaptureReader(path) as reader:
        for ev in reader:
            if ev.type in codes:
                out.append((ev.tid, decode_event(ev)))
    return out


def test_cat_hostname(sysdig: str, tmp_path: Path) -> None:
    path = tmp_path / "cat.scap"
    r, w = os.pipe()
    rec = record_command(["cat", "/etc/hostname"], path, stdout=w)
    os.close(w)
    content = os.read(r, 4096)
    os.close(r)
    assert rec.status == 0 and rec.stats.drops == 0 and rec.events > 20
    assert path.stat().st_mode & 0o777 == 0o600
    text = same_in_both(sysdig, path)

    ok = [p for _, p in events(path, "execve", "<") if p["res"] == 0]
    assert len(ok) == 1
    assert ok[0]["exe"] == "cat"
    assert ok[0]["args"] == b"/etc/hostname\0"
    assert ok[0]["comm"] == "cat" and ok[0]["pid"] == rec.pid

    opened = [p for _, p in events(path, "openat", "<") if p["name"] == "/etc/hostname"]
    assert len(opened) == 1 and opened[0]["fd"] >= 0
    fd = opened[0]["fd"]
    assert f"fd={fd}(<f>/etc/hostname)" in text
    assert [p["data"] for _, p in events(path, "read", "<") if p["res"] == len(content)] \
        == [content[:80]]
    assert f"> close fd={fd}(<f>/etc/hostname)" in text
    assert "procexit" in text


def test_tcp_client(sysdig: str, tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:  # runs in the recorder's process: never recorded
        conn, _ = server.accept()
        got.append(conn.recv(100))
        conn.sendall(b"pong")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ("import socket; s = socket.create_connection(('127.0.0.1', %d)); "
              "s.sendall(b'hello-scapkit'); s.recv(10); s.close()" % port)
    path = tmp_path / "tcp.scap"
    rec = record_command([sys.executable, "-S", "-c", client], path)
    thread.join(5)
    server.close()
    assert rec.status == 0 and got == [b"hello-scapkit"]
    text = same_in_both(sysdig, path)

    (connect,) = [p for _, p in events(path, "connect", "<")]
    assert connect["res"] == 0
    tup = connect["tuple"]
    assert (str(tup.src), str(tup.dst), tup.dport) == ("127.0.0.1", "127.0.0.1", port)
    assert f"tuple=127.0.0.1:{tup.sport}->127.0.0.1:{port}" in text
    (enter,) = [p for _, p in events(path, "connect", ">")]
    assert (str(enter["addr"].addr), enter["addr"].port) == ("127.0.0.1", port)
    sent = [p["data"] for _, p in events(path, "sendto", "<")] + \
        [p["data"] for _, p in events(path, "write", "<")]
    assert b"hello-scapkit" in sent
    assert [p["data"] for _, p in events(path, "recvfrom", "<")] == [b"pong"]
    assert f"<4t>127.0.0.1:{tup.sport}->127.0.0.1:{port}" in text


def test_shell_pipeline_follows_children(sysdig: str, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    path = tmp_path / "sh.scap"
    rec = record_command(["sh", "-c", f"echo x | tr a-z A-Z > {out}"], path)
    assert rec.status == 0 and out.read_text() == "X\n"
    text = same_in_both(sysdig, path)

    clones = events(path, "clone", "<")
    children = {p["res"] for tid, p in clones if tid == rec.pid and p["res"] > 0}
    assert len(children) == 2
    # each child's own clone exit (res 0) was recorded: the kernel followed them
    assert {tid for tid, p in clones if p["res"] == 0} == children
    (pipe,) = [p for _, p in events(path, "pipe", "<")]
    assert pipe["res"] == 0 and pipe["ino"] > 0
    assert {pipe["fd1"], pipe["fd2"]} == {3, 4}
    tr = [p for tid, p in events(path, "execve", "<") if p["res"] == 0 and p["exe"] == "tr"]
    assert len(tr) == 1 and tr[0]["args"] == b"a-z\0A-Z\0"
    writes = [p["data"] for _, p in events(path, "write", "<")]
    assert b"x\n" in writes and b"X\n" in writes
    assert f"write fd=1(<f>{out}) size=2" in text
    assert f"dup fd=3(<f>{out})" in text


def test_recorder_excluded_and_strangers_ignored(tmp_path: Path) -> None:
    """Without a target everything is recorded except the recorder; with a target, an
    unrelated process is not."""
    marker = tmp_path / "marker-self"
    with EbpfDriver() as driver:
        driver.start(DriverConfig(target_pid=None, exclude_pid=os.getpid()))
        marker.write_text("x")  # our own open: must not appear
        os.system(f"cat {marker} > /dev/null")  # a child: must appear
        chunks = []
        for _ in range(100):
            batch = driver.drain(timeout_ms=1)
            if not batch.events:
                break
            chunks.append(batch.blocks)
        blocks = b"".join(chunks)
    path = tmp_path / "all.scap"
    _write(path, blocks)
    tids = set()
    names = set()
    with CaptureReader(path) as reader:
        for ev in reader:
            tids.add(ev.tid)
            if ev.name == "openat" and ev.direction == "<":
                names.add(decode_event(ev)["name"])
    assert os.getpid() not in tids
    assert str(marker) in names  # opened by cat

    stranger = tmp_path / "marker-stranger"
    path = tmp_path / "target.scap"
    proc_pid = os.fork()
    if proc_pid == 0:  # an unrelated process, busy opening its marker
        for _ in range(200):
            try:
                os.close(os.open(stranger, os.O_RDONLY | os.O_CREAT))
            except OSError:
                pass
            time.sleep(0.002)
        os._exit(0)
    try:
        record_command(["cat", "/etc/hostname"], path, stdout=os.open(os.devnull, os.O_WRONLY))
    finally:
        os.waitpid(proc_pid, 0)
    with CaptureReader(path) as reader:
        assert proc_pid not in {ev.tid for ev in reader}


def _write(path: Path, blocks: bytes) -> None:
    from scapkit.scapfile.writer import ScapWriter

    with ScapWriter(path) as w:
        w.write_section_header()
        w.write_blocks(blocks, 0)


def test_timestamps_are_wall_clock_and_snaplen_applies(tmp_path: Path) -> None:
    payload = b"A" * 300
    script = f"import os; os.write(1, {payload!r})"
    for snaplen in (80, 1000):
        path = tmp_path / f"snap{snaplen}.scap"
        before = time.time_ns()
        r, w = os.pipe()
        rec = record_command([sys.executable, "-S", "-c", script], path, stdout=w,
                             snaplen=snaplen)
        os.close(w)
        os.close(r)
        after = time.time_ns()
        assert rec.status == 0
        data = [p["data"] for _, p in events(path, "write", "<") if p["res"] == 300]
        assert data == [payload[:snaplen]]
        with CaptureReader(path) as reader:
            stamps = [ev.ts for ev in reader]
        assert before <= min(stamps) <= max(stamps) <= after


BUSY_ON_TWO_CPUS = """
import os
pids = []
for cpu in sorted(os.sched_getaffinity(0))[:2]:
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cpu})
        for _ in range(30000):
            os.getppid()
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
"""


def _blocks(data: bytes) -> list[tuple[int, int]]:
    """(cpu, timestamp) of each block of a batch, checking the framing on the way."""
    out, off = [], 0
    while off < len(data):
        btype, length = struct.unpack_from("<II", data, off)
        assert btype in (0x216, 0x221) and length % 4 == 0 and off + length <= len(data)
        assert struct.unpack_from("<I", data, off + length - 4)[0] == length
        cpu, ts = struct.unpack_from("<HQ", data, off + 8)
        out.append((cpu, ts))
        off += length
    return out


def test_the_rings_of_all_cpus_merge_in_time_order() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.execv(sys.executable, [sys.executable, "-S", "-c", BUSY_ON_TWO_CPUS])
    os.close(r)
    batches = []
    with EbpfDriver() as driver:
        driver.start(DriverConfig(target_pid=pid))
        os.write(w, b"x")
        os.close(w)
        while not os.waitpid(pid, os.WNOHANG)[0]:
            batches.append(driver.drain(timeout_ms=5))
        while (batch := driver.drain(timeout_ms=5)).events:
            batches.append(batch)
        stats = driver.stats()
    assert stats.drops == 0
    assert sum(b.events for b in batches) == stats.events > 4 * 30000
    cpus = set()
    for batch in batches:
        blocks = _blocks(batch.blocks)
        assert len(blocks) == batch.events
        if not blocks:
            continue
        stamps = [ts for _, ts in blocks]
        assert stamps == sorted(stamps)  # each drain merges the rings by timestamp
        assert (batch.first_ts, batch.last_ts) == (stamps[0], stamps[-1])
        cpus |= {cpu for cpu, _ in blocks}
    assert len(cpus) >= 2


def test_ring_sizes() -> None:
    assert ring_bytes(0, 2) == RING_MIN == 1 << 20
    assert ring_bytes(16 << 20, 2) == 16 << 20
    assert ring_bytes((16 << 20) + 1, 2) == 32 << 20
    assert ring_bytes(1 << 40, 2) == RING_MAX
    many = ring_bytes(1 << 40, 256)  # all rings together stay within an array map
    assert many < RING_MAX and 256 * (many + (300 << 10)) <= RINGS_TOTAL_MAX


def test_drops_are_counted_when_nobody_reads(tmp_path: Path) -> None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.execvp("dd", ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000",
                         "status=none"])
    os.close(r)
    with EbpfDriver() as driver:
        driver.start(DriverConfig(target_pid=pid, buffer_bytes=1 << 20))
        os.write(w, b"x")
        os.close(w)
        os.waitpid(pid, 0)
        stats = driver.stats()
        kept = 0
        while True:
            batch = driver.drain(timeout_ms=1)
            if not batch.events:
                break
            kept += batch.events
    assert stats.drops > 0 and stats.drops == sum(stats.drops_per_cpu)
    assert stats.events == kept > 1000
    assert stats.events + stats.drops >= 400000  # dd did 2 syscalls per byte, 2 events each


def test_errors_have_reasons(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(build, "BTF_PATH", tmp_path / "no-btf")
    with pytest.raises(NoBtfError, match="BTF"):
        EbpfDriver().start(DriverConfig())
    monkeypatch.undo()

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # an unprivileged process asks for the driver
        os.close(r)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        try:
            EbpfDriver().start(DriverConfig())
            os.write(w, b"started")
        except NoPrivilegeError as exc:
            os.write(w, f"NoPrivilegeError: {exc}".encode())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            os.write(w, f"{type(exc).__name__}: {exc}".encode())
        os._exit(0)
    os.close(w)
    message = os.read(r, 4096).decode()
    os.waitpid(pid, 0)
    assert message.startswith("NoPrivilegeError: ") and "CAP_BPF" in message
