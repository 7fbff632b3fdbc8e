"""The kernel module in a VM: Debian's packaged kernel under qemu (TCG), the host root shared
read-only over 9p, everything in one boot (see scapkit.kmod.vm).

On the host the module is built against the guest kernel's headers and the C readers are
compiled; the guest (this file run with ``--guest``) then loads the module with
``scap driver load``, records ``cat /etc/hostname`` and a TCP exchange with a local server
through ``scap record --driver kmod`` (and through ``--driver ebpf`` when the eBPF driver
exists), unloads, measures the event rate, overflows a small ring with a syscall storm,
and loads/unloads the module 20 times with a capture each time. Back on the host the
captures are read with scapkit and sysdig 0.29.3 and compared with the eBPF driver's.

Skips (with the reason) where a VM cannot run: not root, or, outside the test command
(SCAPKIT_REQUIRE_SYSDIG=1), qemu, busybox or the guest kernel and headers missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # the guest runs this file as a script
    sys.path.insert(0, str(HERE))

from support import run_sysdig  # noqa: E402

pytestmark = [pytest.mark.kmod_vm, pytest.mark.timeout(900)]

PY = sys.executable
#: The guest's hard limit; steps have their own.
VM_TIMEOUT = 600
STEP_TIMEOUT = 240
CYCLES = 20
#: Syscalls of the storm (dd bs=1: one read and one write per byte).
STORM_BYTES = 60_000
RATE_BYTES = 60_000
SERVER_PORT = 7357
#: What is recorded with each driver: cat, then a TCP exchange with a local server (bash
#: /dev/tcp), in one recording (each recording costs a Python start and, for eBPF, a probe
#: verification, both slow under TCG).
COMMANDS = ("cat /etc/hostname && bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}; echo ping >&3; "
            "read -r line <&3; echo \"got $line\"'")
#: Kernel log lines that mean the module (or anything) misbehaved.
BAD_DMESG = re.compile(r"\bBUG:|\bWARNING:|\bOops\b|Call Trace|general protection|"
                       r"scheduling while atomic|sleeping function called|memory leak")


# ============================================================================ guest side


def _scap(*args: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
    """Run the scap CLI; its exit code, output and time."""
    t0 = time.monotonic()
    proc = subprocess.run([PY, "-m", "scapkit.cli", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return {"rc": proc.returncode, "stdout": proc.stdout[-4000:], "stderr": proc.stderr[-4000:],
            "seconds": time.monotonic() - t0}


class _PongServer:
    """A local TCP server answering one line with 'pong' (closed by close())."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:  # closed before a client came
            return
        with conn:
            conn.recv(100)
            conn.sendall(b"pong\n")

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() (Linux)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(10)


def _meminfo() -> dict[str, int]:
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        out[key] = int(rest.split()[0])
    return out


def _record_commands(driver: str, scratch: Path) -> dict[str, Any]:
    server = _PongServer(SERVER_PORT)
    try:
        return _scap("record", "--driver", driver, "-w", str(scratch / f"{driver}_cmds.scap"),
                     "--", "sh", "-c", COMMANDS.format(port=SERVER_PORT))
    finally:
        server.close()


def _rate(scratch: Path) -> dict[str, Any]:
    """Record a dd bs=1 run (one read and one write per byte) while a thread drains, as the
    recorder does, into a capture file."""
    from scapkit.kmod.driver import KmodDriver
    from scapkit.scapfile.driver_api import DriverConfig
    from scapkit.scapfile.writer import ScapWriter

    drv = KmodDriver()
    done = threading.Event()
    got = {"events": 0}

    def drain(w: ScapWriter) -> None:
        while True:
            batch = drv.drain(4 << 20, 10)
            if batch.events:
                w.write_blocks(batch.blocks, batch.events)
                got["events"] += batch.events
            elif done.is_set():
                return

    with ScapWriter(scratch / "kmod_rate.scap") as w:
        w.write_section_header()
        # held on its stdin until the driver follows it
        dd = subprocess.Popen(["sh", "-c", "read -r _; exec dd if=/dev/zero of=/dev/null "
                               f"bs=1 count={RATE_BYTES}"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        drv.start(DriverConfig(target_pid=dd.pid))
        reader = threading.Thread(target=drain, args=(w,))
        reader.start()
        t0 = time.monotonic()
        dd.stdin.write(b"go\n")  # type: ignore[union-attr]
        dd.stdin.close()  # type: ignore[union-attr]
        dd.wait(STEP_TIMEOUT)
        seconds = time.monotonic() - t0
        drv.stop()
        done.set()
        reader.join(STEP_TIMEOUT)
    st = drv.stats()
    return {"events": st.events, "drops": st.drops, "written": got["events"],
            "seconds": seconds, "rc": dd.returncode}


def _storm(scratch: Path) -> dict[str, Any]:
    """Overflow a 64 KiB ring with a syscall storm while nothing drains it."""
    from scapkit.kmod.driver import KmodDriver
    from scapkit.scapfile.driver_api import DriverConfig
    from scapkit.scapfile.writer import ScapWriter

    drv = KmodDriver()
    drv.start(DriverConfig(buffer_bytes=64 << 10))
    t0 = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={STORM_BYTES}"],
                   capture_output=True, check=True, timeout=STEP_TIMEOUT)
    storm_seconds = time.monotonic() - t0
    running = drv.stats()
    drv.stop()
    drained = 0
    with ScapWriter(scratch / "kmod_overflow.scap") as w:
        w.write_section_header()
        while True:
            batch = drv.drain(timeout_ms=0)
            if not batch.events:
                break
            drained += batch.events
            w.write_blocks(batch.blocks, batch.events)
    st = drv.stats()
    return {"events": st.events, "drops": st.drops, "drops_per_cpu": list(st.drops_per_cpu),
            "drained": drained, "drops_while_running": running.drops,
            "storm_seconds": storm_seconds}


def _cycles() -> dict[str, Any]:
    """Load, capture briefly, stop and unload, CYCLES times; memory before and after."""
    from scapkit.kmod import device, loader
    from scapkit.kmod.driver import KmodDriver
    from scapkit.scapfile.driver_api import DriverConfig

    before = _meminfo()
    events = []
    t0 = time.monotonic()
    for _ in range(CYCLES):
        loader.load_module()
        drv = KmodDriver()
        drv.start(DriverConfig(buffer_bytes=1 << 20))
        subprocess.run(["true"], check=True)
        n = drv.drain(timeout_ms=20).events
        drv.stop()
        while drv.drain(timeout_ms=0).events:
            pass
        events.append(n + drv.stats().events)
        loader.unload_module()
    seconds = time.monotonic() - t0
    after = _meminfo()
    return {"cycles": CYCLES, "seconds": seconds, "events": events,
            "vmalloc_kib": [before["VmallocUsed"], after["VmallocUsed"]],
            "available_kib": [before["MemAvailable"], after["MemAvailable"]],
            "loaded_after": device.module_loaded(), "device_after": device.DEVICE.exists()}


def _ebpf_available() -> str | None:
    try:
        import scapkit.ebpf.driver  # noqa: F401
    except ImportError as exc:
        return f"eBPF driver not available: {exc}"
    return None


def _ebpf_step(scratch: Path) -> dict[str, Any]:
    """The same recording with the eBPF driver (its probe prepared on the host)."""
    cache = Path(os.environ.get("SCAPKIT_CACHE_DIR", scratch / "cache")) / "ebpf"
    before = set(os.listdir(cache)) if cache.is_dir() else set()
    out = _record_commands("ebpf", scratch)
    after = set(os.listdir(cache)) if cache.is_dir() else set()
    out["built_in_guest"] = sorted(after - before)
    return out


def guest_main(scratch: Path) -> int:
    """Every guest step; results go to scratch/results.json. Steps after a failure still
    run (one boot tells everything); the host judges."""
    res: dict[str, Any] = {"uname": os.uname().release}
    steps: list[tuple[str, Any]] = [
        ("load", lambda: _scap("driver", "load")),
        ("kmod_cmds", lambda: _record_commands("kmod", scratch)),
        ("rate", lambda: _rate(scratch)),
        ("storm", lambda: _storm(scratch)),
        ("unload", lambda: _scap("driver", "unload")),
        ("cycles", _cycles),
    ]
    ebpf_missing = _ebpf_available()
    if ebpf_missing is None and (scratch / "no_ebpf.txt").exists():
        ebpf_missing = (scratch / "no_ebpf.txt").read_text()
    res["ebpf_missing"] = ebpf_missing
    if ebpf_missing is None:
        steps.append(("ebpf_cmds", lambda: _ebpf_step(scratch)))
    for name, step in steps:
        t0 = time.monotonic()
        try:
            out = step()
            if out is not None:
                res[name] = out
        except Exception as exc:  # noqa: BLE001 - reported to the host, which fails the test
            res[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
        res[f"{name}_seconds"] = time.monotonic() - t0
        (scratch / "results.json").write_text(json.dumps(res, indent=1))
    return 0


# ============================================================================= host side


def _unavailable(reason: str) -> None:
    if os.environ.get("SCAPKIT_REQUIRE_SYSDIG") == "1":
        pytest.fail(f"the kernel-module VM test must run here: {reason}")
    pytest.skip(reason)


def _prepare_cache(scratch: Path) -> str:
    """Build everything the guest would otherwise compile (slowly) and hand it over."""
    from scapkit.kmod import build, device
    from scapkit.kmod.vm import find_guest_kernel, kernel_headers_for
    from scapkit.scapfile.cext import cache_dir

    kernel = find_guest_kernel()
    kdir = kernel_headers_for(kernel.version)
    if kdir is None:
        _unavailable(f"no headers for the guest kernel {kernel.version} (apt-get install "
                     "linux-headers-amd64)")
    built = build.build_module(kdir)
    device.native()
    ebpf = _ebpf_available() or ""
    if not ebpf:
        try:
            ebpf = _warm_ebpf(scratch)
        except EbpfUnavailable as exc:
            (scratch / "no_ebpf.txt").write_text(str(exc))
            ebpf = str(exc)
    src, cache = cache_dir(), scratch / "cache"
    module_dir = built.path.parent.parent  # <release>-<hash>/kmod/scapkit.ko

    def skip(directory: str, names: list[str]) -> set[str]:
        out = {n for n in names if n.endswith((".lock", ".failed")) or n.startswith("build-")}
        if Path(directory) == src:
            out.add("vm")  # the boot files stay on the host
        if Path(directory) == src / "kmod":  # only the module built for the guest
            out |= {n for n in names if n != module_dir.name}
        return out

    shutil.copytree(src, cache, symlinks=True, ignore=skip)
    return ebpf


class EbpfUnavailable(RuntimeError):
    """The eBPF driver cannot be prepared for the guest (the message says why)."""


def _warm_ebpf(scratch: Path) -> str:
    """Build the eBPF probe for the guest kernel on the host (under TCG it would take
    minutes). Its object is keyed by the kernel's BTF, which the guest's
    /sys/kernel/btf/vmlinux serves from the .BTF section of the vmlinux the VM boots. When
    the probe does not compile against that kernel's vmlinux.h, the object built for the
    host kernel is filed under the guest's key instead: CO-RE relocates it at load time.
    Returns how the guest's object was made."""
    from scapkit.ebpf import build as ebuild
    from scapkit.kmod.vm import boot_files, elf_section, find_guest_kernel
    from scapkit.scapfile.cext import cache_dir

    try:
        host_obj = ebuild.probe_object()
        ebuild.loader_module()
    except ebuild.BuildError as exc:
        raise EbpfUnavailable(f"the eBPF probe does not build on the host: {exc}") from None
    vmlinux, _ = boot_files(find_guest_kernel(), cache_dir())
    btf = elf_section(vmlinux, ".BTF")
    if btf is None:
        raise EbpfUnavailable("the guest kernel has no BTF")
    path = scratch / "guest.btf"
    path.write_bytes(btf)
    saved = ebuild.BTF_PATH
    ebuild.BTF_PATH = path
    try:
        try:
            ebuild.probe_object()
            return "compiled against the guest kernel's BTF"
        except ebuild.BuildError as exc:
            header = ebuild.vmlinux_header()
            key = ebuild._hash([p.read_bytes() for p in ebuild.probe_sources()]
                               + [header.name.encode()])
            shutil.copy(host_obj, host_obj.parent / f"probe-{key}.bpf.o")
            return ("the host kernel's CO-RE object (the probe does not compile against the "
                    f"guest kernel's vmlinux.h: {str(exc).splitlines()[-1][:300]})")
    finally:
        ebuild.BTF_PATH = saved
        path.unlink()


GUEST_SCRIPT = """set -u
export SCAPKIT_CACHE_DIR=/tmp/scratch/cache PYTHONDONTWRITEBYTECODE=1
cd /tmp/scratch
timeout {timeout} {py} {test_file} --guest /tmp/scratch
"""


@pytest.fixture(scope="module")
def vm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from scapkit.kmod.vm import VmError, run_in_vm, vm_unavailable_reason

    if os.geteuid() != 0:
        pytest.skip("needs root (the VM shares / and the module test loads modules)")
    reason = vm_unavailable_reason()
    if reason:
        _unavailable(reason)
    scratch = tmp_path_factory.mktemp("kmodvm")
    t0 = time.monotonic()
    ebpf_object = _prepare_cache(scratch)
    prepare = time.monotonic() - t0
    script = GUEST_SCRIPT.format(timeout=VM_TIMEOUT - 60, py=PY, test_file=Path(__file__))
    try:
        result = run_in_vm(script, scratch, timeout=VM_TIMEOUT)
    except VmError as exc:
        pytest.fail(str(exc))
    results_file = scratch / "results.json"
    assert results_file.exists(), result.output[-3000:]
    res = json.loads(results_file.read_text())
    res.update(_vm_rc=result.returncode, _vm_output=result.output,
               _boot_seconds=result.boot_seconds, _total_seconds=result.total_seconds,
               _prepare_seconds=prepare, _scratch=str(scratch), _ebpf_object=ebpf_object,
               _dmesg=(scratch / "dmesg.txt").read_text(errors="replace"))
    print(f"\nkmod VM: prepare {prepare:.1f} s, boot {result.boot_seconds:.1f} s, "
          f"whole run {result.total_seconds:.1f} s; eBPF probe in the guest: {ebpf_object}")
    return res


def _ok(res: dict[str, Any], step: str) -> dict[str, Any]:
    assert f"{step}_error" not in res, res[f"{step}_error"]
    assert step in res, f"the guest did not get to {step}: {res['_vm_output'][-2000:]}"
    return res[step]


def test_guest_ran_and_kernel_log_is_clean(vm: dict[str, Any]) -> None:
    assert vm["_vm_rc"] == 0, vm["_vm_output"][-3000:]
    errors = {k: v for k, v in vm.items() if k.endswith("_error")}
    assert not errors, errors
    from scapkit.kmod.vm import find_guest_kernel

    assert vm["uname"] == find_guest_kernel().version
    bad = [line for line in vm["_dmesg"].splitlines() if BAD_DMESG.search(line)]
    assert not bad, "\n".join(bad)
    assert "scapkit: loaded" in vm["_dmesg"] and "scapkit: unloaded" in vm["_dmesg"]


def test_cli_loads_and_unloads(vm: dict[str, Any]) -> None:
    load, unload = _ok(vm, "load"), _ok(vm, "unload")
    assert load["rc"] == 0, load["stderr"]
    assert "loaded" in load["stderr"]
    assert unload["rc"] == 0, unload["stderr"]


def _capture(vm: dict[str, Any], name: str) -> Path:
    path = Path(vm["_scratch"]) / f"{name}.scap"
    if not path.exists():
        step = vm.get(name, {})
        pytest.fail(f"{path.name} was not written: {step}")
    return path


def _scap_read(path: Path, *args: str) -> list[str]:
    proc = subprocess.run([PY, "-m", "scapkit.cli", "read", str(path), *args],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ,
                                                                                TZ="UTC"))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _sysdig_lines(sysdig: str, path: Path, *args: str) -> list[str]:
    return run_sysdig(sysdig, "-r", str(path), *args).decode(errors="replace").splitlines()


def test_kmod_records_cat(vm: dict[str, Any], sysdig: str) -> None:
    rec = _ok(vm, "kmod_cmds")
    assert rec["rc"] == 0, rec["stderr"]
    assert "no events lost" in rec["stderr"]
    path = _capture(vm, "kmod_cmds")
    hostname = Path("/etc/hostname").read_text().strip()
    fmt = "*%proc.name %evt.dir %evt.type %fd.name %evt.res"  # *: events without an fd too
    for lines in (_scap_read(path, "-p", fmt, "proc.name=cat"),
                  _sysdig_lines(sysdig, path, "-p", fmt, "proc.name=cat")):
        assert any(l.startswith("cat < execve") and l.endswith("SUCCESS") for l in lines), \
            lines[:5]
        assert "cat < openat /etc/hostname SUCCESS" in lines, lines
        assert any(l.startswith("cat > read /etc/hostname") for l in lines)
        assert any(l.startswith("cat < write") for l in lines)
    data = _sysdig_lines(sysdig, path, "-p", "%evt.buffer", "proc.name=cat and evt.type=read "
                         "and evt.dir=< and fd.name=/etc/hostname and evt.rawres>0")
    assert data and data[0] == hostname + "."  # sysdig prints the newline as a dot


def test_kmod_capture_reads_in_scapkit_as_in_sysdig(vm: dict[str, Any], sysdig: str) -> None:
    path = _capture(vm, "kmod_cmds")
    from scapkit.scapfile.reader import CaptureReader

    with CaptureReader(path) as r:
        assert sum(1 for _ in r.events()) > 0
        assert not r.damage
    lines = _scap_read(path)
    assert lines == _sysdig_lines(sysdig, path)
    assert len(lines) > 100


def test_kmod_records_tcp(vm: dict[str, Any], sysdig: str) -> None:
    rec = _ok(vm, "kmod_cmds")
    assert rec["rc"] == 0, rec["stderr"]
    assert "got pong" in rec["stdout"]
    path = _capture(vm, "kmod_cmds")
    lines = _sysdig_lines(sysdig, path, "-p", "%evt.dir %evt.type %fd.name %evt.res",
                          "proc.name=bash and fd.type=ipv4")
    peer = f"127.0.0.1:{SERVER_PORT}"
    assert any(re.fullmatch(rf"< connect 127\.0\.0\.1:\d+->{re.escape(peer)} SUCCESS", l)
               for l in lines), lines
    data = _sysdig_lines(sysdig, path, "-p", "%evt.type %evt.buffer",
                         "proc.name=bash and fd.type=ipv4 and evt.dir=< and evt.rawres>0")
    assert data[0] == "write ping."
    # bash reads a line from a socket one byte at a time
    assert "".join(l.split(" ", 1)[1] for l in data[1:] if l.startswith("read ")) == "pong."


def _mask(line: str) -> str:
    """What differs between two runs of a command whatever the driver: the ephemeral port,
    pipe/socket inode numbers, kernel addresses of unix sockets."""
    line = re.sub(r"127\.0\.0\.1:\d+->", "127.0.0.1:PORT->", line)
    line = re.sub(r":\[\d+\]", ":[INODE]", line)  # pipe:[10709]
    return re.sub(r"\bffff[0-9a-f]{12}\b", "KADDR", line)


def _normalized(sysdig: str, path: Path, filt: str) -> list[str]:
    """The command's events with the state sysdig derives from them: direction, type,
    result, fd name and type, process name/exe/args/cwd, user."""
    fmt = ("*%evt.dir %evt.type %evt.res %fd.name %proc.name %proc.exe %proc.args %proc.cwd "
           "%user.name %fd.type")
    return [_mask(l) for l in _sysdig_lines(sysdig, path, "-p", fmt, filt)]


def _args(sysdig: str, path: Path, filt: str) -> list[str]:
    """Every parameter of the command's events, with ids and counters that differ from run
    to run masked (thread/process ids, page faults, memory sizes). The guest runs without
    address-space randomisation, so addresses and which user pages are mapped when a
    string is read are the same in both runs."""
    out = []
    for line in _sysdig_lines(sysdig, path, "-p", "%evt.dir %evt.type %evt.args", filt):
        line = re.sub(r"\b(tid|pid|ptid|pgid)=\d+", r"\1=N", line)
        line = re.sub(r"\b(pgft_maj|pgft_min|vm_size|vm_rss|vm_swap)=\d+", r"\1=N", line)
        out.append(_mask(line))
    return out


@pytest.mark.parametrize("name,filt", [
    ("cat", "proc.name=cat"),
    ("tcp", "proc.name=bash"),
])
def test_kmod_matches_ebpf(vm: dict[str, Any], sysdig: str, name: str, filt: str) -> None:
    if vm.get("ebpf_missing"):
        pytest.skip(vm["ebpf_missing"])
    rec = _ok(vm, "ebpf_cmds")
    assert rec["rc"] == 0, rec["stderr"]
    kmod = _normalized(sysdig, _capture(vm, "kmod_cmds"), filt)
    ebpf = _normalized(sysdig, _capture(vm, "ebpf_cmds"), filt)
    assert kmod and kmod == ebpf
    kmod = _args(sysdig, _capture(vm, "kmod_cmds"), filt)
    ebpf = _args(sysdig, _capture(vm, "ebpf_cmds"), filt)
    assert kmod == ebpf


def test_event_rate(vm: dict[str, Any]) -> None:
    from scapkit.scapfile.summary import summarize

    rec = _ok(vm, "rate")
    assert rec["rc"] == 0 and rec["drops"] == 0, rec
    s = summarize(str(_capture(vm, "kmod_rate")))
    assert not s.damage and s.events == rec["written"] == rec["events"]
    counts = s.to_json()["event_counts"]
    assert counts.get("read", 0) >= 2 * RATE_BYTES and counts.get("write", 0) >= 2 * RATE_BYTES
    span = (s.last_ts - s.first_ts) / 1e9
    rate = s.events / span
    print(f"\nkmod VM: {s.events} events in {span:.2f} s: {rate:,.0f} events/s sustained "
          f"with no drops (TCG)")
    assert rate > 5_000


def test_storm_overflows_and_counts_drops(vm: dict[str, Any]) -> None:
    st = _ok(vm, "storm")
    assert st["drops"] > 0 and st["drops_while_running"] > 0
    assert st["drops"] == sum(st["drops_per_cpu"])
    # every event the module says it wrote came out, whole
    assert st["drained"] == st["events"] > 0
    from scapkit.scapfile.reader import CaptureReader

    path = _capture(vm, "kmod_overflow")
    with CaptureReader(path) as r:
        n = sum(1 for _ in r.events())
        assert not r.damage
    assert n == st["events"]
    print(f"\nkmod VM storm: {st['events']} events kept, {st['drops']} dropped "
          f"({STORM_BYTES * 4} syscall events in {st['storm_seconds']:.1f} s)")


def test_load_unload_cycles_leak_nothing(vm: dict[str, Any]) -> None:
    c = _ok(vm, "cycles")
    assert c["cycles"] == CYCLES and len(c["events"]) == CYCLES
    assert all(n > 0 for n in c["events"]), c["events"]
    assert not c["loaded_after"] and not c["device_after"]
    before, after = c["vmalloc_kib"]
    # each cycle maps 1 MiB per CPU plus scratch areas: a leak would grow by megabytes
    assert after - before < 2048, c
    print(f"\nkmod VM: {CYCLES} load/capture/unload cycles in {c['seconds']:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--guest":
        raise SystemExit(guest_main(Path(sys.argv[2])))
    print("usage: test_kmod_vm.py --guest SCRATCH (run inside the VM)", file=sys.stderr)
    raise SystemExit(2)
