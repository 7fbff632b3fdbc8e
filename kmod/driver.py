"""KmodDriver: the kernel-module capture driver (the Driver protocol of scapfile.driver_api).

The module (this folder's C code, loaded with ``scap driver load``) writes events in the
capture layout into per-CPU rings; this driver maps them and, per drain, lets C code
(``consumer.c``) merge the rings by timestamp and frame every event as a capture block,
so no Python runs per event.

``DriverConfig.buffer_bytes`` is the size of each CPU's ring (rounded up to a power of
two within the module's limits). Wake-ups are not used: drain() polls on a timer, which
costs far less than cross-CPU wake-ups on small VMs.
"""

from __future__ import annotations

import struct
import time
from typing import Any, ClassVar

from scapkit.scapfile.driver_api import Batch, DriverConfig, DriverError, DriverStats
from scapkit.scapfile.events import LARGE_PAYLOAD

from .device import DEVICE, Device
from .build import event_schema as expected_schema

__all__ = ["KmodDriver", "ring_bytes_for"]

#: events, drops_full, drops_other, bytes at offset 8 of struct scapkit_ring_header.
_COUNTERS = struct.Struct("<4Q")


def ring_bytes_for(requested: int, low: int, high: int) -> int:
    """The ring size the module accepts nearest above ``requested``: a power of two in
    ``[low, high]``."""
    size = low
    while size < requested and size < high:
        size <<= 1
    return size


class KmodDriver:
    """Capture through /dev/scapkit. Use as a context manager or call start()/stop()."""

    name: ClassVar[str] = "kmod"

    def __init__(self, device: str | None = None) -> None:
        self._path = device
        self._dev: Device | None = None
        self._rings: Any = None
        self._nrings = 0
        self._large: Any = None
        self._out: Any = None
        self._out_view: memoryview | None = None
        self._max_event = 0
        self._pending: list[Batch] = []
        self._final: DriverStats | None = None

    # -- protocol ------------------------------------------------------------------------

    def start(self, config: DriverConfig) -> None:
        if self._dev is not None:
            raise DriverError("kmod driver already started")
        from pathlib import Path

        dev = Device(Path(self._path) if self._path else DEVICE)
        try:
            self._setup(dev, config)
        except BaseException:
            dev.close()
            raise
        self._dev = dev
        self._final = None
        self._pending = []

    def _setup(self, dev: Device, config: DriverConfig) -> None:
        c = dev.c
        info = dev.info()
        if info.api_version != c.SCAPKIT_API_VERSION:
            raise DriverError(
                f"the loaded scapkit module speaks API {info.api_version}, this scapkit "
                f"needs {c.SCAPKIT_API_VERSION}: rebuild and reload it (scap driver build; "
                "scap driver unload; scap driver load)")
        want = expected_schema()
        if info.event_schema != want:
            raise DriverError(
                f"the loaded scapkit module was built from event table {info.event_schema!r}, "
                f"this scapkit has {want!r}: rebuild and reload it (scap driver build; "
                "scap driver unload; scap driver load)")
        ring = ring_bytes_for(config.buffer_bytes, c.SCAPKIT_RING_MIN_BYTES,
                              c.SCAPKIT_RING_MAX_BYTES)
        dev.set_u64(c.SCAPKIT_IOC_SET_RING_BYTES, ring, "SET_RING_BYTES")
        info = dev.info()
        dev.map_regions(info.ncpus, info.region_bytes)
        ffi = dev.ffi
        self._nrings = info.ncpus
        self._rings = ffi.new("struct kc_ring[]", info.ncpus)
        for cpu, m in enumerate(dev.maps):
            if m is not None:
                self._rings[cpu].base = ffi.cast("unsigned char *", ffi.from_buffer(m))
                self._rings[cpu].size = info.ring_bytes
        self._large = ffi.new("uint8_t[]", bytes(int(x) for x in LARGE_PAYLOAD))
        self._max_event = info.max_event_bytes
        dev.set_u32(c.SCAPKIT_IOC_SET_SNAPLEN, config.snaplen, "SET_SNAPLEN")
        dev.set_s32(c.SCAPKIT_IOC_SET_EXCLUDE,
                    -1 if config.exclude_pid is None else config.exclude_pid, "SET_EXCLUDE")
        dev.set_s32(c.SCAPKIT_IOC_SET_TARGET,
                    -1 if config.target_pid is None else config.target_pid, "SET_TARGET")
        dev._ioctl(c.SCAPKIT_IOC_START, 0, "START")

    def drain(self, max_bytes: int = 4 << 20, timeout_ms: int = 10) -> Batch:
        if self._pending:
            return self._pending.pop(0)
        if self._dev is None:
            return Batch(b"", 0)
        batch = self._read(max_bytes)
        if batch.events == 0 and timeout_ms > 0:
            time.sleep(timeout_ms / 1000)
            batch = self._read(max_bytes)
        return batch

    def stats(self) -> DriverStats:
        if self._dev is None:
            if self._final is None:
                return DriverStats(0, 0)
            return self._final
        events = nbytes = 0
        drops: list[int] = []
        for m in self._dev.maps:  # the counters the kernel keeps in each header page
            if m is None:
                drops.append(0)
                continue
            ev, full, other, size = _COUNTERS.unpack_from(m, 8)
            events += ev
            nbytes += size
            drops.append(full + other)
        return DriverStats(events=events, drops=sum(drops), drops_per_cpu=tuple(drops),
                           bytes=nbytes)

    def stop(self) -> None:
        """Detach, keep what the rings still hold for the following drain() calls, and
        close the device (which frees the rings in the kernel)."""
        dev = self._dev
        if dev is None:
            return
        try:
            dev._ioctl(dev.c.SCAPKIT_IOC_STOP, 0, "STOP")
            while True:
                batch = self._read(8 << 20)
                if batch.events == 0:
                    break
                self._pending.append(batch)
            self._final = self.stats()
        finally:
            self._rings = None
            self._out = None
            self._out_view = None
            self._dev = None
            dev.close()

    def __enter__(self) -> KmodDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reading -------------------------------------------------------------------------

    def _read(self, max_bytes: int) -> Batch:
        dev = self._dev
        assert dev is not None
        ffi = dev.ffi
        cap = max(max_bytes, self._max_event + 64)
        if self._out is None or len(self._out) < cap:
            self._out = ffi.new("unsigned char[]", cap)
        res = ffi.new("struct kc_result *")
        status = dev.c.kc_drain(self._rings, self._nrings, self._large, len(self._large),
                                self._max_event, self._out, cap, res)
        data = bytes(ffi.buffer(self._out, res.bytes))
        if status < 0:
            raise DriverError(f"CPU {res.bad_cpu}'s ring holds a malformed event at byte "
                              f"{res.bad_pos} (module and reader disagree on the layout?)")
        return Batch(data, res.events, res.first_ts, res.last_ts)
