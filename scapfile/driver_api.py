"""The contract between capture drivers (eBPF probe, kernel module) and the recorder.

A driver loads its kernel side, attaches, and hands the recorder batches of complete event
blocks (EV v2 / EV v2 LARGE, framed exactly as :func:`scapfile.writer.frame_block` does), so
the recorder only appends bytes to the file. Everything about files (snapshot blocks,
compression, rotation, drop records, limits) belongs to the recorder, not to drivers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

#: sysdig's default snapshot length for I/O buffers.
DEFAULT_SNAPLEN = 80
#: Largest snaplen a driver accepts (libs' cap for the kernel-side copy).
MAX_SNAPLEN = 65000


class DriverError(RuntimeError):
    """A driver could not be set up or failed while running; the message says why."""


class NoPrivilegeError(DriverError):
    """Missing root / CAP_BPF / CAP_PERFMON (or permission on the device)."""


class NoBtfError(DriverError):
    """The kernel exposes no BTF (/sys/kernel/btf/vmlinux), so CO-RE cannot relocate."""


class UnsupportedKernelError(DriverError):
    """The kernel lacks something the driver needs (tracepoint, helper, module support)."""


@dataclass(frozen=True, slots=True)
class DriverConfig:
    """What to record.

    ``target_pid``: record only this process and its descendants (followed in the kernel,
    from sched_process_fork), or everything when None. ``exclude_pid``: a process never
    recorded (the recorder itself), also with its threads. ``buffer_bytes``: the size of
    each CPU's ring (drivers may shrink it to bound the total).
    """

    snaplen: int = DEFAULT_SNAPLEN
    target_pid: int | None = None
    exclude_pid: int | None = field(default_factory=os.getpid)
    buffer_bytes: int = 16 << 20

    def __post_init__(self) -> None:
        if not 0 <= self.snaplen <= MAX_SNAPLEN:
            raise ValueError(f"snaplen {self.snaplen} outside 0..{MAX_SNAPLEN}")


@dataclass(frozen=True, slots=True)
class DriverStats:
    """Counters since start. ``drops`` is every event lost for any reason (buffer full,
    reservation failure, copy failure that lost a whole event)."""

    events: int
    drops: int
    drops_per_cpu: tuple[int, ...] = ()
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class Batch:
    """Complete event blocks ready to append to a capture, and how many events they hold.

    ``first_ts``/``last_ts`` are the smallest and largest event timestamps (ns since the
    epoch) in the batch, 0 when it is empty.
    """

    blocks: bytes
    events: int
    first_ts: int = 0
    last_ts: int = 0


@runtime_checkable
class Driver(Protocol):
    """A live capture source. Use as a context manager or call start()/stop()."""

    name: ClassVar[str]

    def start(self, config: DriverConfig) -> None:
        """Load and attach; raise a DriverError subclass with a clear reason on failure."""

    def drain(self, max_bytes: int = 4 << 20, timeout_ms: int = 10) -> Batch:
        """Wait up to ``timeout_ms`` for events, then return at most about ``max_bytes`` of
        complete blocks (possibly empty). Never returns a partial block."""

    def stats(self) -> DriverStats:
        """Counters since start(), readable while running and after stop()."""

    def stop(self) -> None:
        """Detach and free everything the driver holds. Idempotent."""
