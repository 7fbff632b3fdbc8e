"""Record one command with the eBPF driver straight into a capture file.

A driver-level tool for tests and benchmarks (``scap record`` is the full recorder, with the
/proc snapshot, compression and limits): the command is forked first and held on a pipe, so
its pid is the driver's target before it runs a single instruction of its own; then it is
released, the rings are drained until it exits, and the blocks are appended to a file
that has a section header and no snapshot.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..scapfile.driver_api import DriverConfig, DriverStats
from ..scapfile.event_table import sysdig_029_event_info
from ..scapfile.events import RawEvent
from ..scapfile.params import decode_param
from ..scapfile.writer import ScapWriter
from .driver import EbpfDriver


@dataclass(frozen=True, slots=True)
class Recording:
    """What :func:`record_command` produced."""

    pid: int              # the command's process id
    status: int           # its wait status
    events: int           # events written to the file
    stats: DriverStats    # the driver's counters at the end
    elapsed: float        # seconds from release to exit
    cpu_seconds: float    # the command's own CPU time (user + system)
    reader_cpu_seconds: float = 0.0  # this process's CPU time from release to the last drain


def _spawn(argv: Sequence[str], stdin: int | None, stdout: int | None,
           stderr: int | None) -> tuple[int, int]:
    """Fork a child that waits for one byte on a pipe, then execs argv."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(w)
            for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
                if fd is not None:
                    os.dup2(fd, target)
            if os.read(r, 1) != b"x":
                os._exit(126)
            os.close(r)
            os.execvp(argv[0], list(argv))
        finally:
            os._exit(127)
    os.close(r)
    return pid, w


def record_command(argv: Sequence[str], path: str | os.PathLike[str], *, snaplen: int = 80,
                   buffer_bytes: int = 16 << 20, stdin: int | None = None,
                   stdout: int | None = None, stderr: int | None = None,
                   while_running: Callable[[], None] | None = None,
                   timeout: float = 120.0) -> Recording:
    """Run ``argv`` under the eBPF driver and write what it did to ``path`` (mode 0600).

    ``stdin``/``stdout``/``stderr`` are file descriptors the command gets (default: ours).
    ``while_running`` is called repeatedly while the command runs (e.g. to serve it).
    """
    pid, release = _spawn(argv, stdin, stdout, stderr)
    driver = EbpfDriver()
    try:
        driver.start(DriverConfig(snaplen=snaplen, target_pid=pid, buffer_bytes=buffer_bytes))
    except BaseException:
        os.close(release)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise
    events = 0
    with ScapWriter(Path(path)) as writer:
        writer.write_section_header()

        def drain(timeout_ms: int) -> int:
            batch = driver.drain(timeout_ms=timeout_ms)
            if batch.blocks:
                writer.write_blocks(batch.blocks, batch.events)
            return batch.events

        try:
            start = time.perf_counter()
            cpu_start = time.process_time()
            os.write(release, b"x")
            os.close(release)
            while True:
                events += drain(10)
                if while_running is not None:
                    while_running()
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    break
                if time.perf_counter() - start > timeout:
                    os.kill(pid, 9)
            elapsed = time.perf_counter() - start
            while True:  # what the command did last is still in the ring
                got = drain(5)
                events += got
                if not got:
                    break
            reader_cpu = time.process_time() - cpu_start
            stats = driver.stats()
        finally:
            driver.stop()
    return Recording(pid, status, events, stats, elapsed, usage.ru_utime + usage.ru_stime,
                     reader_cpu)


def decode_event(ev: RawEvent) -> dict[str, object]:
    """The parameters of a recorded event by the names sysdig 0.29.3 gives them, decoded
    (raises ParamDecodeError when one does not match its declared type)."""
    info = sysdig_029_event_info(ev.type)
    if info is None:
        raise ValueError(f"event type {ev.type} is unknown to sysdig 0.29.3")
    raws = ev.raw_params()
    if len(raws) != len(info.params):
        raise ValueError(f"{info.symbol}: {len(raws)} parameters, sysdig 0.29.3 expects "
                         f"{len(info.params)}")
    return {p.name: decode_param(p, raw) for p, raw in zip(info.params, raws)}
