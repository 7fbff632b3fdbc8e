"""The kernel-module driver on the host: the ring reader (consumer.c) on rings laid out as
the module writes them, the interface constants, the module build against Debian's
headers (no warnings), and the clear errors of a kernel without module support.
The module itself runs in a VM: tests/test_kmod_vm.py."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import DATA, REPO
from scapkit.cli.app import app
from scapkit.kmod import build as kbuild
from scapkit.kmod import device, driver, loader, vm
from scapkit.scapfile import blocks as B
from scapkit.scapfile.driver_api import DriverConfig, DriverError, UnsupportedKernelError
from scapkit.scapfile.events import is_large
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.writer import frame_block

HEADER = 4096
runner = CliRunner()


def _events(n: int) -> list:
    with CaptureReader(DATA / "curl_google.scap") as r:
        out = []
        for ev in r.events():
            out.append(ev)
            if len(out) == n:
                return out
    return out


def _expected_block(data: bytes, cpu: int) -> bytes:
    (etype,) = struct.unpack_from("<H", data, 20)
    large = is_large(etype) or len(data) + 18 > 65536
    bt = B.BlockType.EV_V2_LARGE if large else B.BlockType.EV_V2
    return frame_block(bt, struct.pack("<H", cpu) + data)


class FakeRings:
    """Per-CPU regions laid out as the module lays them out (header page, data), filled
    with events from Python, read with the real C reader."""

    def __init__(self, ncpus: int, size: int) -> None:
        self.mod = device.native()
        ffi = self.mod.ffi
        self.size = size
        self.mem = [ffi.new("unsigned char[]", HEADER + size) for _ in range(ncpus)]
        self.rings = ffi.new("struct kc_ring[]", ncpus)
        for i, m in enumerate(self.mem):
            self.rings[i].base = m
            self.rings[i].size = size
        from scapkit.scapfile.events import LARGE_PAYLOAD

        self.large = ffi.new("uint8_t[]", bytes(int(x) for x in LARGE_PAYLOAD))

    def hdr(self, cpu: int) -> object:
        return self.mod.ffi.cast("struct scapkit_ring_header *", self.mem[cpu])

    def put(self, cpu: int, data: bytes) -> None:
        h = self.hdr(cpu)
        off = h.head % self.size
        first = min(len(data), self.size - off)
        buf = self.mod.ffi.buffer(self.mem[cpu])
        buf[HEADER + off:HEADER + off + first] = data[:first]
        if first < len(data):
            buf[HEADER:HEADER + len(data) - first] = data[first:]
        h.head += len(data)

    def drain(self, cap: int = 1 << 20, max_event: int = 1 << 17) -> tuple[int, bytes, object]:
        ffi = self.mod.ffi
        out = ffi.new("unsigned char[]", cap)
        res = ffi.new("struct kc_result *")
        rc = self.mod.lib.kc_drain(self.rings, len(self.mem), self.large, len(self.large),
                                   max_event, out, cap, res)
        return rc, bytes(ffi.buffer(out, res.bytes)), res


def _with_ts(data: bytes, ts: int) -> bytes:
    return struct.pack("<Q", ts) + data[8:]


def test_reader_merges_cpus_by_timestamp_and_frames_blocks() -> None:
    evs = _events(40)
    rings = FakeRings(3, 1 << 16)
    expected = []
    for i, ev in enumerate(evs):
        cpu = (i * 7) % 3
        ts = 1_000_000 + (i * 37) % 40 * 10  # timestamps interleave across CPUs
        data = _with_ts(ev.data, ts)
        rings.put(cpu, data)
        expected.append((ts, cpu, data))
    # each CPU's ring is in time order, as the kernel writes it
    per_cpu: dict[int, list] = {}
    for ts, cpu, data in expected:
        per_cpu.setdefault(cpu, []).append((ts, cpu, data))
    rings2 = FakeRings(3, 1 << 16)
    for cpu, items in per_cpu.items():
        for ts, _, data in sorted(items, key=lambda x: x[0]):
            rings2.put(cpu, data)
    rc, out, res = rings2.drain()
    assert rc == 0 and res.events == len(evs)
    want = b"".join(_expected_block(d, c) for _ts, c, d in sorted(expected, key=lambda x: x[0]))
    assert out == want
    assert res.first_ts == min(e[0] for e in expected)
    assert res.last_ts == max(e[0] for e in expected)
    for cpu in range(3):  # everything consumed: tail caught up with head
        h = rings2.hdr(cpu)
        assert h.tail == h.head
    rc, out, res = rings2.drain()
    assert (rc, out, res.events) == (0, b"", 0)


def test_reader_handles_wrap_and_stops_at_the_output_cap() -> None:
    evs = _events(200)
    rings = FakeRings(1, 4096)
    written: list[bytes] = []
    got = b""
    # push the ring position around the end several times, draining in small batches
    for round_ in range(6):
        for ev in evs[round_ * 30:(round_ + 1) * 30]:
            rings.put(0, ev.data)
            written.append(ev.data)
        while True:
            rc, out, res = rings.drain(cap=2048)
            assert rc == 0 and len(out) <= 2048
            if not res.events:
                break
            got += out
    assert rings.hdr(0).head > 2 * 4096  # it wrapped, more than once
    assert got == b"".join(_expected_block(d, 0) for d in written)


def test_reader_reports_a_malformed_ring() -> None:
    evs = _events(3)
    rings = FakeRings(2, 1 << 16)
    rings.put(0, evs[0].data)
    rings.put(1, evs[1].data)
    bad = bytearray(evs[2].data)
    struct.pack_into("<I", bad, 16, 10)  # length below the header size
    rings.put(1, bytes(bad))
    rc, out, res = rings.drain()
    assert rc == -1 and res.bad_cpu == 1
    assert res.events == 2  # the good events before it still came out
    assert rings.hdr(1).tail == len(evs[1].data)  # consumed up to the bad event only


def test_interface_constants_agree() -> None:
    ffi = device.native().ffi
    off = ffi.offsetof("struct scapkit_ring_header", "events")
    assert off == 8 and driver._COUNTERS.size == 32
    assert [ffi.offsetof("struct scapkit_ring_header", f) - off
            for f in ("events", "drops_full", "drops_other", "bytes")] == [0, 8, 16, 24]
    assert ffi.offsetof("struct scapkit_ring_header", "tail") == 64
    assert ffi.sizeof("struct scapkit_ring_header") <= device.native().lib.SCAPKIT_HEADER_BYTES


def test_ring_size_rounding() -> None:
    lo, hi = 64 << 10, 256 << 20
    assert driver.ring_bytes_for(0, lo, hi) == lo
    assert driver.ring_bytes_for(16 << 20, lo, hi) == 16 << 20
    assert driver.ring_bytes_for((16 << 20) + 1, lo, hi) == 32 << 20
    assert driver.ring_bytes_for(1 << 40, lo, hi) == hi


@pytest.mark.skipif(device.module_support(), reason="this kernel can load modules")
def test_clear_errors_without_module_support() -> None:
    with pytest.raises(UnsupportedKernelError, match="kernel has no module support"):
        driver.KmodDriver().start(DriverConfig())
    with pytest.raises(UnsupportedKernelError, match="kernel has no module support"):
        loader.load_module(Path("/nonexistent.ko"))
    res = runner.invoke(app, ["driver", "load"])
    assert res.exit_code == 1
    assert "kernel has no module support" in res.stderr
    res = runner.invoke(app, ["driver", "unload"])
    assert res.exit_code == 1 and "kernel has no module support" in res.stderr
    res = runner.invoke(app, ["driver", "status"])
    assert res.exit_code == 0 and "module support: no" in res.stdout


@pytest.mark.skipif(device.module_support(), reason="this kernel can load modules")
def test_record_with_kmod_fails_cleanly_without_module_support(tmp_path: Path) -> None:
    out = tmp_path / "x.scap"
    proc = subprocess.run([sys.executable, "-m", "scapkit.cli", "record", "--driver", "kmod",
                           "-w", str(out), "--", "true"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "scap: kmod driver: kernel has no module support (no /proc/modules: CONFIG_MODULES "
        "is off); use --driver ebpf"]


def test_missing_device_with_module_support(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(device, "module_support", lambda: True)
    monkeypatch.setattr(device, "module_loaded", lambda name="scapkit": False)
    with pytest.raises(DriverError, match="module is not loaded"):
        driver.KmodDriver(str(tmp_path / "scapkit")).start(DriverConfig())


def test_build_errors_are_one_line() -> None:
    res = runner.invoke(app, ["driver", "build", "--kdir", "/nonexistent"])
    assert res.exit_code == 1
    assert "not a kernel build tree" in res.stderr and "Traceback" not in res.output
    if not (kbuild.default_kdir() / "Makefile").exists():
        res = runner.invoke(app, ["driver", "build"])
        assert res.exit_code == 1 and "no kernel headers for the running kernel" in res.stderr


def _headers() -> Path:
    """Debian's headers of the packaged kernel the VM boots (installed by make test)."""
    try:
        kernel = vm.find_guest_kernel()
    except vm.VmError as exc:
        _unavailable(str(exc))
    kdir = vm.kernel_headers_for(kernel.version)
    if kdir is None:
        _unavailable(f"no headers for kernel {kernel.version} (apt-get install "
                     "linux-headers-amd64)")
    return kdir


def _unavailable(reason: str) -> None:
    if os.environ.get("SCAPKIT_REQUIRE_SYSDIG") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def test_module_builds_without_warnings() -> None:
    kdir = _headers()
    built = kbuild.build_module(kdir)
    assert built.path.exists()
    assert "warning" not in built.log.lower() and "error" not in built.log.lower(), built.log
    assert "LD [M]" in built.log
    release = kbuild.kernel_release_of(kdir)
    assert built.kernel_release == release
    assert loader.module_vermagic(built.path).split()[0] == release
    # the module names the event table it was built from, which the reader expects
    assert kbuild.event_schema().encode() in built.path.read_bytes()
    assert kbuild.built_module_for(release) == built.path


def test_in_tree_make_builds_without_warnings(tmp_path: Path) -> None:
    """`make -C kmod KDIR=...`, run on a copy of the tree (kbuild writes next to the
    sources)."""
    kdir = _headers()
    shutil.copytree(REPO / "kmod", tmp_path / "kmod",
                    ignore=shutil.ignore_patterns("*.o", "*.ko", "*.mod*", ".*.cmd",
                                                  "__pycache__"))
    shutil.copytree(REPO / "ebpf" / "shared", tmp_path / "ebpf" / "shared")
    proc = subprocess.run(["make", "-C", str(tmp_path / "kmod"), f"KDIR={kdir}"],
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "warning:" not in log and "WARNING:" not in log, log
    assert (tmp_path / "kmod" / "scapkit.ko").exists()
    proc = subprocess.run(["make", "-C", str(tmp_path / "kmod"), f"KDIR={kdir}", "clean"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and not (tmp_path / "kmod" / "scapkit.ko").exists()


class _FakeDevice:
    """Answers GET_INFO like a loaded module of another build would."""

    def __init__(self, api: int, schema: str) -> None:
        self.c = device.native().lib
        self._info = device.DeviceInfo(api, 2, 0, 0, 3 << 16, False, schema)

    def info(self) -> device.DeviceInfo:
        return self._info


def test_version_mismatch_is_refused() -> None:
    lib = device.native().lib
    drv = driver.KmodDriver()
    with pytest.raises(DriverError, match=r"speaks API 999.*rebuild and reload"):
        drv._setup(_FakeDevice(999, kbuild.event_schema()), DriverConfig())  # type: ignore[arg-type]
    with pytest.raises(DriverError, match=r"built from event table 'feedfacefeedface'"):
        drv._setup(_FakeDevice(lib.SCAPKIT_API_VERSION, "feedfacefeedface"),  # type: ignore[arg-type]
                   DriverConfig())
