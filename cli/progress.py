"""A progress line on stderr while ``scap read`` goes through a long capture.

Shown only when stderr is a terminal (and ``TERM`` is not ``dumb``), and only once the
read has lasted ``delay`` seconds, so short reads never flash it. A background thread
redraws it at most ``1 / interval`` times a second from two counters: the bytes taken
from the file (:class:`CountingFile`, once per read of up to 256 KiB) and the reader's
count of events. The read loop itself does no extra work:

    scap read  40% ━━━━━━━━━━━━──────────────────  24.9/62.0 MB  401,013 events  166,529 ev/s  ETA 0:03

The bytes are those of the file as stored, so a gzip or zstd capture shows how much of
the compressed file was consumed. Without a known size (a pipe) there is no percentage.
The line is erased when the read ends, and before each batch of output when stdout is a
terminal too (:meth:`ReadProgress.stdout_proxy`), so the output is never mixed with it.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from collections import deque
from typing import BinaryIO, TextIO

__all__ = ["CountingFile", "ReadProgress", "progress_wanted"]

CLEAR = "\r\x1b[K"
#: Seconds over which the events-a-second figure is measured.
RATE_WINDOW = 2.0


def progress_wanted(stream: TextIO | None = None) -> bool:
    """Is ``stream`` (stderr) a terminal that can redraw a line?"""
    stream = stream if stream is not None else sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


class CountingFile:
    """A binary file that counts the bytes read from it.

    Reads are capped at ``max_read`` bytes so that the count moves in small steps even
    for a compressed file (the reader asks for 1 MiB at a time, which for a gzip capture
    can be a tenth of the file); a few hundred reads more per 100 MB cost nothing.
    """

    def __init__(self, f: BinaryIO, max_read: int = 1 << 18) -> None:
        self._f = f
        self._max_read = max_read
        self.consumed = 0
        self.size: int | None = None
        try:
            st = os.fstat(f.fileno())
            if stat.S_ISREG(st.st_mode):
                self.size = st.st_size - f.tell()
        except (OSError, ValueError, AttributeError):
            pass

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(self._max_read if n < 0 or n > self._max_read else n)
        self.consumed += len(data)
        return data

    def fileno(self) -> int:
        return self._f.fileno()

    def close(self) -> None:
        self._f.close()


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover - the loop always returns


def _clock(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def format_line(done: int, total: int | None, events: int, rate: float, elapsed: float,
                width: int, fancy: bool = True) -> str:
    """One progress line, at most ``width - 1`` characters wide: ``done`` of ``total``
    bytes (no percentage when None), ``events`` so far at ``rate`` a second, ``elapsed``
    seconds since the start (the remaining time assumes the average speed so far)."""
    tail = f"{events:,} events  {rate:,.0f} ev/s"
    if total:
        frac = min(1.0, done / total)
        eta = ""
        if 0 < frac < 1:
            eta = f"  ETA {_clock(elapsed * (1 - frac) / frac)}"
        sizes = f"{_size(done).split()[0]}/{_size(total)}" if _same_unit(done, total) \
            else f"{_size(done)}/{_size(total)}"
        text = f"  {sizes}  {tail}{eta}"
        head = f"scap read {frac * 100:3.0f}% "
        room = width - 1 - len(head) - len(text)
        bar = ""
        if room >= 10:
            n = min(room, 40)
            full = int(frac * n)
            on, off = ("━", "─") if fancy else ("#", "-")
            bar = on * full + off * (n - full)
        line = head + bar + text
    else:
        line = f"scap read  {_size(done)}  {tail}  {_clock(elapsed)}"
    return line[:max(0, width - 1)]


def _same_unit(a: int, b: int) -> bool:
    return _size(a).split()[1] == _size(b).split()[1]


class ReadProgress:
    """The progress line for one read: ``start()``, then ``stop()`` (also on errors)."""

    def __init__(self, stream: TextIO, source: CountingFile, *, interval: float = 0.1,
                 delay: float = 0.5) -> None:
        self._stream = stream
        self._source = source
        self._events: object = None
        self._interval = interval
        self._delay = delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._drawn = False
        self._last_paint = 0.0
        self._samples: deque[tuple[float, int]] = deque()
        #: Held while the line is drawn or erased, and while output is written under it.
        self.lock = threading.Lock()
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self._fancy = encoding == "utf8"

    def start(self, events: object) -> None:
        """Start the clock and the redrawing; ``events`` is the reader (the number in its
        ``events_read`` is shown)."""
        self._events = events
        self._t0 = time.monotonic()
        self._samples.append((self._t0, 0))
        self._thread = threading.Thread(target=self._run, name="scap-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._stop.wait(self._delay):
            return
        while True:
            self._draw()
            if self._stop.wait(self._interval):
                return

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return columns if columns > 0 else 80  # a terminal that never set its size: 0

    def _rate(self, now: float, events: int) -> float:
        """Events a second over the last two seconds or so."""
        samples = self._samples
        samples.append((now, events))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        t, n = samples[0]
        return (events - n) / (now - t) if now > t else 0.0

    def _draw(self) -> None:
        with self.lock:
            self._paint(time.monotonic())

    def _paint(self, now: float) -> None:
        """Draw the line now (call with :attr:`lock` held)."""
        if self._stop.is_set():
            return
        events = int(getattr(self._events, "events_read", 0))
        line = format_line(self._source.consumed, self._source.size, events,
                           self._rate(now, events), now - self._t0, self._width(), self._fancy)
        try:
            self._stream.write("\r" + line + "\x1b[K")
            self._stream.flush()
            self._drawn = True
            self._last_paint = now
        except (OSError, ValueError):
            self._stop.set()

    def redraw_if_due(self) -> None:
        """After output went under the line, draw it again if a tick has passed (call with
        :attr:`lock` held): the writing thread may hold the lock batch after batch, so the
        ticker alone could starve."""
        now = time.monotonic()
        if now - self._t0 >= self._delay and now - self._last_paint >= self._interval:
            self._paint(now)

    def erase(self) -> None:
        """Erase the line if it is drawn (call with :attr:`lock` held)."""
        if self._drawn:
            self._drawn = False
            try:
                self._stream.write(CLEAR)
                self._stream.flush()
            except (OSError, ValueError):
                pass

    def stop(self) -> None:
        """Stop redrawing and erase the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self.lock:
            self.erase()

    def stdout_proxy(self, stdout: TextIO) -> _StdoutProxy:
        """``stdout`` for a :class:`~scapkit.cli.output.LineSink` when it is the terminal
        too: each write first erases the progress line (it is redrawn at the next tick)."""
        return _StdoutProxy(stdout, self)


class _StdoutProxy:
    """A text stream whose ``buffer`` writes erase the progress line first."""

    def __init__(self, stdout: TextIO, progress: ReadProgress) -> None:
        self._stdout = stdout
        self.buffer = _ErasingBuffer(stdout.buffer, progress)

    def write(self, text: str) -> int:
        with self.buffer.progress.lock:
            self.buffer.progress.erase()
            n = self._stdout.write(text)
            self._stdout.flush()
            self.buffer.progress.redraw_if_due()
            return n

    def flush(self) -> None:
        self._stdout.flush()

    def fileno(self) -> int:
        return self._stdout.fileno()


class _ErasingBuffer:
    def __init__(self, raw: BinaryIO, progress: ReadProgress) -> None:
        self._raw = raw
        self.progress = progress

    def write(self, data: bytes) -> int:
        with self.progress.lock:
            self.progress.erase()
            n = self._raw.write(data)
            self._raw.flush()
            self.progress.redraw_if_due()
            return n

    def flush(self) -> None:
        self._raw.flush()
