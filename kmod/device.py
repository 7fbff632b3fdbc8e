"""/dev/scapkit from user space: open with clear errors, ioctls, per-CPU region mappings.

The C side (``consumer.c``, compiled through cffi by :mod:`.cbuild`) reads the rings; this
module owns the descriptor, the interface constants (taken from ``scapkit_uapi.h`` by the
compiler, so Python and the module cannot disagree) and the mappings.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from scapkit.scapfile.driver_api import DriverError, NoPrivilegeError, UnsupportedKernelError

HERE = Path(__file__).parent
DEVICE = Path("/dev/scapkit")
MODULE_NAME = "scapkit"

_CDEF = """
#define SCAPKIT_API_VERSION ...
#define SCAPKIT_HEADER_BYTES ...
#define SCAPKIT_RING_MIN_BYTES ...
#define SCAPKIT_RING_MAX_BYTES ...
#define SCAPKIT_IOC_GET_INFO ...
#define SCAPKIT_IOC_SET_RING_BYTES ...
#define SCAPKIT_IOC_SET_SNAPLEN ...
#define SCAPKIT_IOC_SET_TARGET ...
#define SCAPKIT_IOC_SET_EXCLUDE ...
#define SCAPKIT_IOC_START ...
#define SCAPKIT_IOC_STOP ...
#define SCAPKIT_IOC_GET_CPU_STATS ...
struct scapkit_info {
    uint32_t api_version; uint32_t ncpus; uint64_t ring_bytes; uint64_t region_bytes;
    uint32_t max_event_bytes; uint32_t capturing; char event_schema[32];
};
struct scapkit_cpu_stats {
    uint32_t cpu; uint32_t online; uint64_t events; uint64_t drops_full;
    uint64_t drops_other; uint64_t bytes;
};
struct scapkit_ring_header {
    uint64_t head; uint64_t events; uint64_t drops_full; uint64_t drops_other;
    uint64_t bytes; uint64_t ring_bytes; uint32_t cpu; uint32_t api_version;
    uint64_t reserved0; uint64_t tail; uint64_t reserved1[7];
};
struct kc_ring { unsigned char *base; uint64_t size; ...; };
struct kc_result {
    uint64_t bytes; uint64_t events; uint64_t first_ts; uint64_t last_ts;
    int32_t bad_cpu; uint64_t bad_pos;
};
int kc_drain(struct kc_ring *rings, int n, const uint8_t *large, uint32_t nlarge,
             uint32_t max_event, unsigned char *out, uint64_t cap, struct kc_result *res);
uint64_t kc_pending(const struct kc_ring *rings, int n);
"""


@cache
def native() -> Any:
    """The compiled reader (``.ffi``, ``.lib``), built on first use."""
    from .cbuild import load_extension

    try:
        return load_extension("kmodring", HERE / "consumer.c", _CDEF,
                              [HERE / "scapkit_uapi.h"])
    except RuntimeError as exc:
        raise DriverError(f"kmod ring reader unavailable: {exc}") from None


def module_support() -> bool:
    """Whether the running kernel can load modules at all."""
    return Path("/proc/modules").exists()


def module_loaded(name: str = MODULE_NAME) -> bool:
    return Path("/sys/module", name).is_dir()


@dataclass(frozen=True)
class DeviceInfo:
    api_version: int
    ncpus: int
    ring_bytes: int
    region_bytes: int
    max_event_bytes: int
    capturing: bool
    event_schema: str


@dataclass(frozen=True)
class CpuStats:
    cpu: int
    online: bool
    events: int
    drops_full: int
    drops_other: int
    bytes: int


def open_device(path: Path = DEVICE) -> int:
    """Open the device read-write, or raise the DriverError that says why not."""
    try:
        return os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        if not module_support():
            raise UnsupportedKernelError(
                "kernel has no module support (no /proc/modules: CONFIG_MODULES is off); "
                "use --driver ebpf") from None
        if not module_loaded():
            raise DriverError(f"{path} missing: the scapkit module is not loaded "
                              "(scap driver build, then scap driver load)") from None
        raise DriverError(f"{path} missing although the scapkit module is loaded "
                          "(no devtmpfs or udev?)") from None
    except PermissionError:
        raise NoPrivilegeError(f"cannot open {path}: needs root (CAP_SYS_ADMIN)") from None
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise DriverError(f"{path} is busy: another recorder is using the kernel "
                              "module") from None
        raise DriverError(f"cannot open {path}: {exc.strerror}") from None


class Device:
    """An open /dev/scapkit: ioctls and the per-CPU mappings."""

    def __init__(self, path: Path = DEVICE) -> None:
        mod = native()
        self.ffi = mod.ffi
        self.c = mod.lib
        self.path = path
        self.fd = open_device(path)
        self.maps: list[mmap.mmap | None] = []

    def _ioctl(self, request: int, arg: bytes | bytearray | int = 0, what: str = "") -> None:
        try:
            if isinstance(arg, bytearray):
                fcntl.ioctl(self.fd, request, arg, True)
            else:
                fcntl.ioctl(self.fd, request, arg)
        except OSError as exc:
            raise DriverError(f"{self.path}: {what or hex(request)} failed: "
                              f"{exc.strerror}") from None

    def _struct(self, ctype: str, request: int, what: str, init: bytes = b"") -> Any:
        size = self.ffi.sizeof(ctype)
        buf = bytearray(size)
        buf[:len(init)] = init
        self._ioctl(request, buf, what)
        return self.ffi.from_buffer(f"{ctype} *", buf), buf

    def info(self) -> DeviceInfo:
        p, _keep = self._struct("struct scapkit_info", self.c.SCAPKIT_IOC_GET_INFO, "GET_INFO")
        return DeviceInfo(p.api_version, p.ncpus, p.ring_bytes, p.region_bytes,
                          p.max_event_bytes, bool(p.capturing),
                          self.ffi.string(p.event_schema).decode(errors="replace"))

    def cpu_stats(self, cpu: int) -> CpuStats:
        p, _keep = self._struct("struct scapkit_cpu_stats", self.c.SCAPKIT_IOC_GET_CPU_STATS,
                                "GET_CPU_STATS", cpu.to_bytes(4, "little"))
        return CpuStats(cpu, bool(p.online), p.events, p.drops_full, p.drops_other, p.bytes)

    def set_u64(self, request: int, value: int, what: str) -> None:
        self._ioctl(request, bytearray(value.to_bytes(8, "little")), what)

    def set_u32(self, request: int, value: int, what: str) -> None:
        self._ioctl(request, bytearray(value.to_bytes(4, "little")), what)

    def set_s32(self, request: int, value: int, what: str) -> None:
        self._ioctl(request, bytearray(value.to_bytes(4, "little", signed=True)), what)

    def map_regions(self, ncpus: int, region_bytes: int) -> None:
        """Map every CPU's region (None where the CPU is not possible)."""
        for cpu in range(ncpus):
            try:
                m = mmap.mmap(self.fd, region_bytes, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE, offset=cpu * region_bytes)
            except OSError as exc:
                if exc.errno == errno.ENODEV:
                    self.maps.append(None)
                    continue
                raise DriverError(f"{self.path}: cannot map CPU {cpu}'s ring: "
                                  f"{exc.strerror}") from None
            self.maps.append(m)

    def close(self) -> None:
        for m in self.maps:
            if m is not None:
                try:
                    m.close()
                except BufferError:  # a view is still alive; the GC unmaps it later
                    pass
        self.maps = []
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
