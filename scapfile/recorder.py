"""Recording: a driver's event blocks into capture files, sysdig's ``-w`` semantics.

Each file starts with a section header and a snapshot of the machine taken when the
file is opened (:func:`.procfs.take_snapshot`); the batches the driver drains follow,
appended as they are (no per-event work, unless a filter was given). Options follow
sysdig 0.29.3 (its ``cycle_writer``):

* ``-C MB``: start a new file once the current one holds more than MB million bytes
  (compressed bytes when compressing); files are named FILE0, FILE1... (with ``-W N``,
  the number is zero-padded to the digits of N and the names cycle: a ring of N files);
* ``-G SECONDS``: start a new file every SECONDS; FILE is a ``strftime`` pattern
  expanded with the local time of the rotation when it holds a ``%`` (``-W N`` then
  keeps the N newest files, deleting older ones), else a counter is appended (FILE0...);
* ``-n EVENTS``, ``-M SECONDS``: stop after that many events written, or seconds;
* a filter: events go through the state engine and only those the filter accepts are
  written (as ``sysdig -w FILE FILTER``).

Files are created mode 0600 and flushed block-aligned at least every ``flush_seconds``,
so a recorder killed at any moment (even by SIGKILL) leaves files readable up to the
last flush. When the driver's drop counter rises, a drop report is written at that
point of the stream (see :mod:`.drops`).

With a command, the command is forked first and held (on a pipe) until the driver runs
with ``target_pid`` set to it; then it execs, and recording follows it and its
descendants until it exits. Signals: without a command, SIGINT, SIGTERM and SIGHUP stop
the recording cleanly; with one, they are passed on to the command (those a terminal
sent to the whole process group already reached it) and recording ends when it exits.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import blocks as B
from .driver_api import DEFAULT_SNAPLEN, MAX_SNAPLEN, Batch, Driver, DriverConfig, DriverError
from .drops import drop_report
from .events import EVENT_HEADER, EVENT_HEADER_SIZE, LARGE_PAYLOAD, RawEvent, lens_struct
from .event_table import NUM_EVENTS
from .procfs import take_snapshot
from .snapshot import Snapshot
from .writer import Compression, ScapWriter, frame_block

__all__ = ["RecordOptions", "RecordResult", "Recorder", "FileNamer", "HeldCommand",
           "CommandError", "iter_blocks"]

_HDR = struct.Struct("<II")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_CPU_FLAGS = struct.Struct("<HI")
#: Largest batch asked of the driver at once.
MAX_DRAIN_BYTES = 4 << 20
#: Smallest batch asked for when a -C file is nearly full.
MIN_DRAIN_BYTES = 64 << 10
#: How long the driver may wait for events in one drain (ms).
DRAIN_TIMEOUT_MS = 10
#: Bounds of the last drains after the recording was told to stop (seconds).
FINAL_DRAIN_SECONDS = 0.25
FINAL_DRAIN_SECONDS_COMMAND = 2.0
#: Signals that stop a system-wide recording, or are passed on to the command.
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
#: ``si_code`` of signals the kernel sent (a terminal's ^C goes to the whole group).
SI_KERNEL = 0x80


class CommandError(OSError):
    """The command could not be run (``exec`` failed); ``errno`` says why."""


# ---------------------------------------------------------------------------
# Options and result
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOptions:
    """What ``scap record`` was asked for; invalid combinations raise ValueError."""

    path: str
    snaplen: int = DEFAULT_SNAPLEN
    compress: Compression = "none"
    file_size_mb: int = 0
    rotate_seconds: int = 0
    file_limit: int = 0
    max_events: int = 0
    max_seconds: float = 0
    filter_text: str = ""
    flush_seconds: float = 0.5
    buffer_bytes: int = 16 << 20

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("no output file")
        if not 0 <= self.snaplen <= MAX_SNAPLEN:
            raise ValueError(f"snaplen {self.snaplen} outside 0..{MAX_SNAPLEN}")
        if self.compress not in ("none", "gzip", "zstd"):
            raise ValueError(f"unknown compression {self.compress!r}: none, gzip or zstd")
        for name, value in (("-C", self.file_size_mb), ("-G", self.rotate_seconds),
                            ("-W", self.file_limit), ("-n", self.max_events),
                            ("-M", self.max_seconds)):
            if value < 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if self.file_limit and not (self.file_size_mb or self.rotate_seconds):
            raise ValueError("-W needs -C or -G")


@dataclass
class RecordResult:
    """What a recording produced."""

    files: list[str] = field(default_factory=list)
    events: int = 0
    bytes: int = 0  # uncompressed bytes written, all files together
    drops: int = 0
    driver_events: int = 0
    duration: float = 0.0
    reason: str = ""
    exit_status: int | None = None  # the command's, as a shell reports it
    filtered_out: int = 0


# ---------------------------------------------------------------------------
# File names (sysdig's cycle_writer)
# ---------------------------------------------------------------------------


class FileNamer:
    """The names of successive files, as sysdig's ``-C``/``-G``/``-W`` give them."""

    def __init__(self, base: str, size_mb: int = 0, seconds: int = 0, limit: int = 0) -> None:
        self.base, self.size_mb, self.seconds, self.limit = base, size_mb, seconds, limit
        self.index = 0
        self._past: list[str] = [""] * limit if seconds and limit else []
        digits = len(str(limit)) if limit > 0 else 0
        self._index_format = f"{{:0{digits}d}}" if digits else "{}"

    def next(self, when: float) -> tuple[str, str | None]:
        """The next file name, and an older file to delete first (or None)."""
        if self.limit and self.index >= self.limit:
            self.index = 0
        stale = None
        if self.seconds:
            if "%" in self.base:
                name = time.strftime(self.base, time.localtime(int(when)))
                if self._past:
                    old = self._past[self.index]
                    if old and old != name:
                        stale = old
                    self._past[self.index] = name
            else:
                name = f"{self.base}{self.index}"
        else:
            name = self.base
        if self.size_mb:
            name += self._index_format.format(self.index)
        self.index += 1
        return name, stale


# ---------------------------------------------------------------------------
# Blocks of a batch
# ---------------------------------------------------------------------------


def iter_blocks(data: bytes | memoryview) -> Iterator[tuple[int, int, int]]:
    """``(block_type, start, end)`` of each block in a driver batch."""
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 8:
            raise DriverError(f"driver batch ends inside a block header at byte {pos}")
        btype, blen = _HDR.unpack_from(data, pos)
        if blen < B.MIN_BLOCK_SIZE or pos + blen > n:
            raise DriverError(f"driver batch holds a block of {blen} bytes at byte {pos} "
                              f"({n - pos} left)")
        yield btype, pos, pos + blen
        pos += blen


def check_batch_end(data: bytes | memoryview) -> None:
    """Cheap sanity check of a batch (no walk): it must end with a whole block."""
    n = len(data)
    if n == 0:
        return
    if n % 4 or n < B.MIN_BLOCK_SIZE:
        raise DriverError(f"driver batch of {n} bytes does not end with a whole block")
    (last,) = _U32.unpack_from(data, n - 4)
    if not B.MIN_BLOCK_SIZE <= last <= n or _HDR.unpack_from(data, n - last)[1] != last:
        raise DriverError(f"driver batch of {n} bytes does not end with a whole block "
                          f"(its last trailer says {last})")


def event_of_block(data: bytes | memoryview, btype: int, start: int, end: int,
                   num: int) -> RawEvent | None:
    """The event in an event block, or None when the block is not a sound v2 event."""
    spec = B.EVENT_BLOCKS.get(btype)
    if spec is None or not spec[0]:
        return None
    at = start + 8
    if spec[1]:
        if end - 4 - at < 6:
            return None
        cpu, dflags = _CPU_FLAGS.unpack_from(data, at)
        at += 6
    else:
        if end - 4 - at < 2:
            return None
        (cpu,) = _U16.unpack_from(data, at)
        dflags = 0
        at += 2
    avail = end - 4 - at
    if avail < EVENT_HEADER_SIZE:
        return None
    ts, tid, elen, etype, nparams = EVENT_HEADER.unpack_from(data, at)
    if elen < EVENT_HEADER_SIZE or elen > avail or nparams > 32:
        return None
    large = etype < NUM_EVENTS and LARGE_PAYLOAD[etype]
    lsize = 4 if large else 2
    if EVENT_HEADER_SIZE + nparams * lsize > elen:
        return None
    if nparams and EVENT_HEADER_SIZE + nparams * lsize + \
            sum(lens_struct(nparams, large).unpack_from(data, at + EVENT_HEADER_SIZE)) > elen:
        return None
    return RawEvent(num, 0, cpu, dflags, ts, tid, etype, nparams, bytes(data[at:at + elen]))


# ---------------------------------------------------------------------------
# The command, held until the driver runs
# ---------------------------------------------------------------------------


class HeldCommand:
    """A command forked now and kept waiting on a pipe until :meth:`release` lets it exec."""

    def __init__(self, argv: list[str], signal_mask: set[int] | None = None) -> None:
        if not argv:
            raise ValueError("empty command")
        self.argv = list(argv)
        # The PATH search happens here, so the recording shows one execve, not one per
        # PATH entry tried (execvp's search is the fallback).
        self.path = shutil.which(argv[0]) if os.sep not in argv[0] else argv[0]
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, []) if signal_mask is None \
            else signal_mask
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (covered by the tests, in another process)
            code = 127
            try:
                os.close(go_w)
                os.close(err_r)
                # Only stdin, stdout, stderr and the two pipes go on to the command.
                keep = sorted((go_r, err_w))
                os.closerange(3, keep[0])
                os.closerange(keep[0] + 1, keep[1])
                os.closerange(keep[1] + 1, max(keep[1] + 1, os.sysconf("SC_OPEN_MAX")))
                for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                          signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD):
                    signal.signal(s, signal.SIG_DFL)
                go = os.read(go_r, 1)
                os.close(go_r)
                if go == b"x":
                    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                    if self.path:
                        os.execv(self.path, self.argv)
                    os.execvp(self.argv[0], self.argv)
            except OSError as exc:
                try:
                    os.write(err_w, struct.pack("<i", exc.errno or errno.EINVAL))
                except OSError:
                    pass
                code = 127 if exc.errno == errno.ENOENT else 126
            except BaseException:
                pass
            os._exit(code)
        os.close(go_r)
        os.close(err_w)
        self.pid = pid
        self._go: int | None = go_w
        self._err: int | None = err_r
        self.status: int | None = None

    def release(self) -> None:
        """Let the command exec; raise :class:`CommandError` if that fails."""
        assert self._go is not None and self._err is not None
        try:
            os.write(self._go, b"x")
        finally:
            os.close(self._go)
            self._go = None
        data = b""
        while True:
            try:
                chunk = os.read(self._err, 4 - len(data))
            except InterruptedError:  # pragma: no cover - PEP 475 retries
                continue
            if not chunk:
                break
            data += chunk
            if len(data) == 4:
                break
        os.close(self._err)
        self._err = None
        if len(data) == 4:
            (err,) = struct.unpack("<i", data)
            raise CommandError(err, f"cannot run {self.argv[0]}: {os.strerror(err)}")

    def abort(self) -> None:
        """The command will not run: it exits without exec; reap it."""
        for fd in (self._go, self._err):
            if fd is not None:
                os.close(fd)
        self._go = self._err = None
        self.wait()

    def poll(self) -> int | None:
        """The exit status (as a shell reports it) once the command ended, else None."""
        if self.status is None:
            try:
                pid, st = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # pragma: no cover - reaped elsewhere
                self.status = 0
                return 0
            if pid:
                self.status = _shell_status(st)
        return self.status

    def wait(self) -> int:
        while self.status is None:
            try:
                _, st = os.waitpid(self.pid, 0)
            except ChildProcessError:  # pragma: no cover
                self.status = 0
                break
            self.status = _shell_status(st)
        return self.status

    def send(self, sig: int) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:  # pragma: no cover - just exited
                pass


def _shell_status(st: int) -> int:
    code = os.waitstatus_to_exitcode(st)
    return 128 - code if code < 0 else code


# ---------------------------------------------------------------------------
# The recorder
# ---------------------------------------------------------------------------


class Recorder:
    """Drive a :class:`Driver` and write what it drains, as :class:`RecordOptions` say.

    ``snapshot`` takes the state written at the head of each file (the live /proc scan
    by default); ``clock`` is the wall clock (seconds since the epoch).
    """

    def __init__(self, driver: Driver, options: RecordOptions, *,
                 snapshot: Callable[[], Snapshot] = take_snapshot,
                 clock: Callable[[], float] = time.time) -> None:
        self.driver = driver
        self.options = options
        self._snapshot_fn = snapshot
        self._clock = clock
        self._accept: Callable[[Any], bool] | None = None
        if options.filter_text:
            # Compiled first: a bad filter fails before anything starts (FilterError).
            from scapkit.inspect.filter.compiler import FieldsResolver, compile_filter

            self._accept = compile_filter(options.filter_text, FieldsResolver())
        self._engine: Any = None
        self._first_snapshot: Snapshot | None = None
        self._namer = FileNamer(options.path, options.file_size_mb, options.rotate_seconds,
                                options.file_limit)
        self._writer: ScapWriter | None = None
        self._file_opened = 0.0
        self._last_flush = 0.0
        self._flushed_bytes = 0
        self._last_ts = 0
        self._drops_seen = 0
        self._num = 0
        self.result = RecordResult()

    # -- the whole run -------------------------------------------------------------------

    def run(self, command: list[str] | None = None) -> RecordResult:
        """Record until a stop condition, a stop signal or the command's end."""
        opts = self.options
        sigs = set(STOP_SIGNALS)
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
        child: HeldCommand | None = None
        started = False
        try:
            if command:
                child = HeldCommand(command, old_mask)
            config = DriverConfig(snaplen=opts.snaplen,
                                  target_pid=child.pid if child else None,
                                  exclude_pid=os.getpid(), buffer_bytes=opts.buffer_bytes)
            try:
                self.driver.start(config)
                started = True
                t0 = time.monotonic()
                self._open_next()
            except BaseException:
                if child is not None:
                    child.abort()
                raise
            if child is not None:
                try:
                    child.release()
                except CommandError:
                    child.wait()
                    self._finish(0.0, "the command could not run")
                    raise
            reason = self._loop(child, sigs, t0)
            final = 0.0 if reason == "event limit reached" else (
                FINAL_DRAIN_SECONDS_COMMAND if child is not None else FINAL_DRAIN_SECONDS)
            self._finish(final, reason)
            self.driver.stop()
            started = False
            self._note_drops()  # the counters are final once the driver stopped
            self.result.driver_events = self.driver.stats().events
            self._close_file()
            self.result.duration = time.monotonic() - t0
            if child is not None:
                self._wait_for(child, sigs)
                self.result.exit_status = child.status
            return self.result
        finally:
            if self._writer is not None:
                self._close_file()
            if started:
                self.driver.stop()
            if child is not None and child.status is None and child._go is not None:
                child.abort()
            # A stop signal that came while finishing (a second ^C) is spent: the
            # recording is over either way.
            while signal.sigtimedwait(sigs, 0) is not None:
                pass
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def _loop(self, child: HeldCommand | None, sigs: set[int], t0: float) -> str:
        opts = self.options
        while True:
            info = signal.sigtimedwait(sigs, 0)
            while info is not None:
                if child is None:
                    return f"stopped by {signal.Signals(info.si_signo).name}"
                if info.si_code != SI_KERNEL:
                    child.send(info.si_signo)
                info = signal.sigtimedwait(sigs, 0)
            if child is not None and child.poll() is not None:
                return "the command exited"
            if opts.max_seconds and time.monotonic() - t0 >= opts.max_seconds:
                return "time limit reached"
            self._step(DRAIN_TIMEOUT_MS)
            if opts.max_events and self.result.events >= opts.max_events:
                return "event limit reached"

    def _finish(self, seconds: float, reason: str) -> None:
        """Drain what the buffers still hold (for at most ``seconds``)."""
        self.result.reason = reason
        opts = self.options
        end = time.monotonic() + seconds
        while seconds and time.monotonic() < end:
            if opts.max_events and self.result.events >= opts.max_events:
                break
            if self._step(DRAIN_TIMEOUT_MS) == 0:
                break

    def _wait_for(self, child: HeldCommand, sigs: set[int]) -> None:
        """After the recording: wait for the command, still passing signals on."""
        while child.poll() is None:
            info = signal.sigtimedwait(sigs, 0.05)
            if info is not None and info.si_code != SI_KERNEL:
                child.send(info.si_signo)

    # -- one drain ---------------------------------------------------------------------------

    def _step(self, timeout_ms: int) -> int:
        """Drain one batch and write it; rotate and flush as due. Returns events drained."""
        opts = self.options
        assert self._writer is not None
        now = self._clock()
        if opts.rotate_seconds and now - self._file_opened >= opts.rotate_seconds:
            self._rotate()
        max_bytes = MAX_DRAIN_BYTES
        if opts.file_size_mb:
            room = opts.file_size_mb * 1_000_000 - self._writer.file_bytes
            max_bytes = min(MAX_DRAIN_BYTES, max(MIN_DRAIN_BYTES, room))
        t = time.monotonic()
        batch = self.driver.drain(max_bytes, timeout_ms)
        if not batch.events and time.monotonic() - t < timeout_ms / 2000:
            time.sleep(timeout_ms / 1000)  # a driver that did not wait: do not spin
        if batch.events:
            self._write_batch(batch)
        self._note_drops()
        if opts.file_size_mb and self._writer.file_bytes > opts.file_size_mb * 1_000_000:
            self._rotate()
        now = self._clock()
        if now - self._last_flush >= opts.flush_seconds:
            self._flush(now)
        return batch.events

    def _write_batch(self, batch: Batch) -> None:
        assert self._writer is not None
        opts = self.options
        data: bytes | memoryview = batch.blocks
        n = batch.events
        check_batch_end(data)
        if self._accept is not None:
            data, n = self._filtered(data)
        if opts.max_events and self.result.events + n > opts.max_events:
            keep = opts.max_events - self.result.events
            data, n = _first_blocks(data, keep), keep
        if n:
            self._writer.write_blocks(data, n)
            self.result.events += n
        if batch.last_ts:
            self._last_ts = max(self._last_ts, batch.last_ts)

    def _filtered(self, data: bytes | memoryview) -> tuple[bytes, int]:
        """The blocks of events the filter accepts (every event updates the state)."""
        from scapkit.inspect.state.engine import StateEngine

        if self._engine is None:
            self._engine = StateEngine(self._first_snapshot)
        engine, accept = self._engine, self._accept
        kept: list[bytes | memoryview] = []
        view = memoryview(data)
        for btype, start, end in iter_blocks(view):
            self._num += 1
            ev = event_of_block(view, btype, start, end, self._num)
            if ev is None:
                self.result.filtered_out += 1
                continue
            ctx = engine.process(ev, accept)
            if ctx.filtered_out:
                self.result.filtered_out += 1
            else:
                kept.append(view[start:end])
        return b"".join(kept), len(kept)

    def _note_drops(self) -> None:
        """Write a drop report when the driver's drop counter rose since the last look."""
        st = self.driver.stats()
        if st.drops <= self._drops_seen or self._writer is None:
            return
        lost = st.drops - self._drops_seen
        self._drops_seen = st.drops
        ts = self._last_ts or time.time_ns()
        event = drop_report(ts, os.getpid(), lost, st.drops, tuple(st.drops_per_cpu))
        self._writer.write_blocks(frame_block(B.BlockType.EV_V2, _U16.pack(0) + event), 1)
        self.result.drops += lost

    # -- files -------------------------------------------------------------------------------

    def _open_next(self) -> None:
        now = self._clock()
        name, stale = self._namer.next(now)
        if stale is not None:
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        snap = self._snapshot_fn()
        if self._first_snapshot is None and self._accept is not None:
            self._first_snapshot = snap
        writer = ScapWriter(name, compress=self.options.compress)
        self._writer = writer
        writer.write_header(snap)
        writer.flush()
        self._file_opened = now
        self._last_flush = now
        if name not in self.result.files:
            self.result.files.append(name)

    def _rotate(self) -> None:
        self._close_file()
        self._open_next()

    def _flush(self, now: float) -> None:
        assert self._writer is not None
        if self._writer.bytes_written != self._flushed_bytes:
            self._writer.flush()
            self._flushed_bytes = self._writer.bytes_written
        self._last_flush = now

    def _close_file(self) -> None:
        w = self._writer
        self._writer = None
        if w is not None:
            self.result.bytes += w.bytes_written
            self._flushed_bytes = 0
            w.close()


def _first_blocks(data: bytes | memoryview, count: int) -> bytes | memoryview:
    """The first ``count`` blocks of a batch."""
    if count <= 0:
        return b""
    for i, (_, _, end) in enumerate(iter_blocks(data), 1):
        if i == count:
            return data[:end]
    return data
