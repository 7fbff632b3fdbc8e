"""The eBPF capture driver: loads the CO-RE probe, follows the target, drains complete blocks.

Implements :class:`scapfile.driver_api.Driver`. The probe (``probe.bpf.c``) writes whole EV
blocks into one ring per CPU; the C loader (``loader.c``, via cffi) merges them by timestamp
and copies them out in batches, so :meth:`EbpfDriver.drain` returns bytes the recorder
appends to a capture as they are.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from ..scapfile.driver_api import (Batch, DriverConfig, DriverError, DriverStats,
                                   NoBtfError, NoPrivilegeError, UnsupportedKernelError)
from . import build

#: Capability bits (linux/capability.h) that allow loading tracing BPF programs.
_CAP_SYS_ADMIN, _CAP_PERFMON, _CAP_BPF = 21, 38, 39
#: Largest record the probe writes (SCAP_MAX_BLOCK): a drain buffer keeps room for one more.
MAX_RECORD = 3 << 16
#: A drain does not wait while this share of some CPU's ring is full (the reader is behind).
BATCH_SHARE = 16
#: Each CPU's ring: a power of two in [RING_MIN, RING_MAX] bytes...
RING_MIN, RING_MAX = 1 << 20, 1 << 28
#: ...and all of them together (with their headers and slack) within an array map's reach.
RINGS_TOTAL_MAX = 3 << 30
#: Bytes of an element besides its ring (SCAP_RING_DATA_OFF + SCAP_RING_SLACK, probe_cfg.h).
RING_OVERHEAD = 12288 + 266240


def _effective_caps() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def check_privileges() -> None:
    """Raise NoPrivilegeError unless this process may load and attach tracing programs."""
    if os.geteuid() == 0:
        return
    caps = _effective_caps()
    if caps & (1 << _CAP_SYS_ADMIN) or (caps & (1 << _CAP_BPF) and caps & (1 << _CAP_PERFMON)):
        return
    raise NoPrivilegeError("the eBPF driver needs root, or CAP_BPF and CAP_PERFMON")


def check_kernel() -> None:
    """Raise NoBtfError when the kernel exposes no BTF (CO-RE cannot relocate the probe)."""
    if not build.BTF_PATH.exists():
        raise NoBtfError(f"{build.BTF_PATH} is missing: the kernel was built without BTF "
                         "(CONFIG_DEBUG_INFO_BTF), which the eBPF driver needs")


def unavailable_reason() -> str | None:
    """Why the eBPF driver cannot run here (privileges, BTF, build tools), or None.

    Builds the probe and its loader when they are not built yet (seconds, once)."""
    try:
        check_kernel()
        check_privileges()
        build.probe_object()
        build.loader_module()
    except (DriverError, build.BuildError) as exc:
        return str(exc)
    return None


def boot_to_epoch_ns() -> int:
    """CLOCK_REALTIME - CLOCK_BOOTTIME, from the tightest of a few paired readings."""
    best: tuple[int, int] | None = None
    for _ in range(5):
        b0 = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        r = time.clock_gettime_ns(time.CLOCK_REALTIME)
        b1 = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        if best is None or b1 - b0 < best[0]:
            best = (b1 - b0, r - (b0 + b1) // 2)
    assert best is not None
    return best[1]


#: The largest pid_max a 64-bit kernel allows: the tracked-process bitmap covers every pid
#: (512 KiB), so raising kernel.pid_max while recording changes nothing.
PID_MAX_LIMIT = 1 << 22


def ring_bytes(requested: int, ncpu: int) -> int:
    """Each CPU's ring for ``DriverConfig.buffer_bytes`` = ``requested``: the power of two
    nearest above it within [RING_MIN, RING_MAX], smaller when ``ncpu`` rings of that size
    would not fit in RINGS_TOTAL_MAX."""
    size = RING_MIN
    while (size < requested and size < RING_MAX
           and ncpu * (2 * size + RING_OVERHEAD) <= RINGS_TOTAL_MAX):
        size <<= 1
    return size


def descendants(pid: int) -> list[int]:
    """Thread group ids of the living descendants of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


class EbpfDriver:
    """Records syscalls with the eBPF probe. See :class:`scapfile.driver_api.Driver`."""

    name: ClassVar[str] = "ebpf"

    def __init__(self) -> None:
        self._lib: Any = None
        self._ffi: Any = None
        self._probe: Any = None
        self._buf: Any = None
        self._cap = 0
        self._batch: Any = None
        self._last_stats = DriverStats(0, 0)
        self.config: DriverConfig | None = None

    def __enter__(self) -> EbpfDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, config: DriverConfig) -> None:
        """Build (first time), load and attach the probe; then follow config.target_pid."""
        if self._probe is not None:
            raise DriverError("the eBPF driver is already started")
        check_kernel()
        check_privileges()
        if config.target_pid is not None:
            try:
                os.kill(config.target_pid, 0)
            except ProcessLookupError:
                raise DriverError(f"no process with pid {config.target_pid} to record") from None
            except PermissionError:
                pass
        try:
            obj = build.probe_object()
            mod = build.loader_module()
        except build.BuildError as exc:
            raise DriverError(str(exc)) from None
        ffi, lib = mod.ffi, mod.lib
        cfg = ffi.new("struct sk_config *")
        cfg.boot_to_epoch_ns = boot_to_epoch_ns()
        cfg.pid_max = PID_MAX_LIMIT
        cfg.snaplen = config.snaplen
        cfg.target_tgid = config.target_pid or 0
        cfg.exclude_tgid = config.exclude_pid or 0
        ring = ring_bytes(config.buffer_bytes, max(lib.sk_ncpus(), 1))
        cfg.ring_bytes = ring
        cfg.batch_bytes = ring // BATCH_SHARE
        out = ffi.new("struct sk_probe **")
        err = ffi.new("char[]", 1024)
        rc = lib.sk_open(str(obj).encode(), cfg, out, err, len(err))
        if rc < 0:
            raise self._open_error(-rc, ffi.string(err).decode(errors="replace"))
        self._ffi, self._lib, self._probe = ffi, lib, out[0]
        self.config = config
        self._batch = ffi.new("struct sk_batch *")
        if config.target_pid:
            for tgid in [config.target_pid, *descendants(config.target_pid)]:
                rc = lib.sk_track(self._probe, tgid)
                if rc < 0:
                    self.stop()
                    raise DriverError(f"following pid {tgid}: {os.strerror(-rc)}")

    @staticmethod
    def _open_error(code: int, message: str) -> DriverError:
        import errno

        if code in (errno.EPERM, errno.EACCES):
            return NoPrivilegeError(f"{message} (root, or CAP_BPF and CAP_PERFMON, needed)")
        if "attaching" in message or code in (errno.ENOENT, errno.ENOTSUP, errno.EOPNOTSUPP):
            return UnsupportedKernelError(message)
        if "loading" in message and code in (errno.EINVAL, errno.E2BIG, errno.ENOSPC):
            return UnsupportedKernelError(f"{message}: the kernel refused the probe")
        return DriverError(message)

    def drain(self, max_bytes: int = 4 << 20, timeout_ms: int = 10) -> Batch:
        """Complete blocks that are ready (waiting up to ``timeout_ms`` when none are)."""
        if self._probe is None:
            raise DriverError("the eBPF driver is not started")
        max_bytes = max(max_bytes, 1)
        cap = max_bytes + MAX_RECORD
        if cap > self._cap:
            self._buf = self._ffi.new("uint8_t[]", cap)
            self._cap = cap
        n = self._lib.sk_drain(self._probe, self._buf, self._cap, max_bytes, timeout_ms,
                               self._batch)
        if n < 0:
            raise DriverError(f"reading the eBPF rings: {os.strerror(-n)}")
        b = self._batch
        return Batch(bytes(self._ffi.buffer(self._buf, n)), int(b.events), int(b.first_ts),
                     int(b.last_ts))

    def stats(self) -> DriverStats:
        """Kernel-side counters since start (the last ones after stop)."""
        if self._probe is None:
            return self._last_stats
        ncpu = self._lib.sk_ncpus()
        per_cpu = self._ffi.new("struct sk_counters[]", max(ncpu, 1))
        got = self._ffi.new("int *")
        rc = self._lib.sk_counters(self._probe, per_cpu, ncpu, got)
        if rc < 0:
            raise DriverError(f"reading the probe's counters: {os.strerror(-rc)}")
        cpus = [per_cpu[i] for i in range(got[0])]
        drops = tuple(int(c.drops_full + c.drops_size) for c in cpus)
        self._last_stats = DriverStats(events=sum(int(c.events) for c in cpus), drops=sum(drops),
                                       drops_per_cpu=drops, bytes=sum(int(c.bytes) for c in cpus))
        return self._last_stats

    def stop(self) -> None:
        """Detach and free the probe (idempotent); stats() keeps the last counters."""
        if self._probe is None:
            return
        try:
            self.stats()
        except DriverError:
            pass
        self._lib.sk_close(self._probe)
        self._probe = None
        self._buf = None
        self._cap = 0
