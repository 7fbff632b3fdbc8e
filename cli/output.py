"""Buffered line output that ends quietly when the reader closes the pipe."""

from __future__ import annotations

import os
import sys
from typing import TextIO


class LineSink:
    """Collect lines and write them in large batches; swallow only a closed pipe.

    Lines are text in which raw bytes travel as surrogate escapes (``surrogateescape``):
    they are written back as those exact bytes, so output can match sysdig's byte for byte.
    """

    #: Characters held before writing (a batch of short lines, or one long item).
    MAX_HELD = 1 << 20

    def __init__(self, stream: TextIO | None = None, batch: int = 4096) -> None:
        self._stream = stream or sys.stdout
        self._lines: list[str] = []
        self._held = 0
        self._batch = batch
        self.closed = False

    def write(self, line: str) -> None:
        """Queue one line (or several joined by newlines, without the last newline)."""
        self._lines.append(line)
        self._held += len(line)
        if len(self._lines) >= self._batch or self._held >= self.MAX_HELD:
            self.flush()

    def flush(self) -> None:
        if self.closed or not self._lines:
            self._lines.clear()
            self._held = 0
            return
        lines = self._lines
        # One long item (many lines at once) is written as it is, not copied into a join.
        parts = [lines[0], "\n"] if len(lines) == 1 else ["\n".join(lines), "\n"]
        self._lines = []
        self._held = 0
        try:
            buffer = getattr(self._stream, "buffer", None)
            if buffer is not None:
                self._stream.flush()
                buffer.write(parts[0].encode("utf-8", "surrogateescape"))
                buffer.write(b"\n")
                buffer.flush()
            else:
                self._stream.write(parts[0] + parts[1])
                self._stream.flush()
        except BrokenPipeError:
            self.closed = True
            # Point stdout at /dev/null so the interpreter's final flush is silent.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
