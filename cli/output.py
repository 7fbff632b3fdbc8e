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

    def __init__(self, stream: TextIO | None = None, batch: int = 4096) -> None:
        self._stream = stream or sys.stdout
        self._lines: list[str] = []
        self._batch = batch
        self.closed = False

    def write(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self.closed or not self._lines:
            self._lines.clear()
            return
        data = "\n".join(self._lines) + "\n"
        self._lines.clear()
        try:
            buffer = getattr(self._stream, "buffer", None)
            if buffer is not None:
                self._stream.flush()
                buffer.write(data.encode("utf-8", "surrogateescape"))
                buffer.flush()
            else:
                self._stream.write(data)
                self._stream.flush()
        except BrokenPipeError:
            self.closed = True
            # Point stdout at /dev/null so the interpreter's final flush is silent.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
