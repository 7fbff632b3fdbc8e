"""Opening capture files: plain, gzip or zstd, sniffed from the first bytes.

The decoders are driven chunk by chunk so that a truncated or damaged compressed
stream still delivers every byte decoded before the damage; the damage is then
reported as a :class:`CompressionError` instead of being raised mid-read.
"""

from __future__ import annotations

import io
import os
import sys
import zlib
from pathlib import Path
from typing import BinaryIO, Protocol

from .errors import CompressionError, FormatError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 20
#: Upper bound on the output of one gzip decoding step (keeps memory flat even for
#: decompression bombs: the rest of the input waits in ``unconsumed_tail``).
MAX_OUT = 4 << 20
#: Compressed bytes fed to the zstd decoder per step (bounds its output; see ZstdStream).
ZSTD_STEP = 512


class ByteStream(Protocol):
    """What the reader consumes: ``read(n)`` returning ``b""`` at the end."""

    compression: str
    error: FormatError | None

    def read(self, n: int) -> bytes: ...

    def close(self) -> None: ...


class PlainStream:
    """An uncompressed file."""

    compression = "none"

    def __init__(self, f: BinaryIO, head: bytes = b"") -> None:
        self._f = f
        self._head = head
        self.error: FormatError | None = None

    def read(self, n: int) -> bytes:
        if self._head:
            out, self._head = self._head[:n], self._head[n:]
            if len(out) < n:
                out += self._f.read(n - len(out))
            return out
        return self._f.read(n)

    def close(self) -> None:
        self._f.close()


class _DecompressingStream:
    """Common chunked driver for gzip and zstd (multi-member/multi-frame aware)."""

    compression = "?"
    #: What the decoder raises on corrupt data.
    _errors: tuple[type[BaseException], ...] = (zlib.error, EOFError)

    def __init__(self, f: BinaryIO, head: bytes) -> None:
        self._f = f
        self._pending: bytes | memoryview = head  # compressed bytes not yet fed
        self._out = bytearray()
        self._dec = self._new_decoder()
        self._out_offset = 0  # decompressed bytes delivered
        self._done = False
        self._member_started = False
        self.error: FormatError | None = None

    def _new_decoder(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _feed(self, data: memoryview) -> tuple[bytes, memoryview]:  # pragma: no cover
        raise NotImplementedError

    def _fill(self, n: int) -> None:
        while len(self._out) < n and not self._done:
            data = self._pending or self._f.read(CHUNK)
            if not data:
                if self._member_started and not self._dec.eof:
                    self.error = CompressionError(
                        f"{self.compression} stream ends before its end marker (file truncated)",
                        self._out_offset + len(self._out),
                    )
                self._done = True
                break
            try:
                out, self._pending = self._feed(memoryview(data))
            except self._errors as exc:
                self.error = CompressionError(
                    f"corrupt {self.compression} data ({exc})",
                    self._out_offset + len(self._out),
                )
                self._done = True
                break
            self._out += out

    def read(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self._out[:n])
        del self._out[:n]
        self._out_offset += len(out)
        return out

    def close(self) -> None:
        self._f.close()


class GzipStream(_DecompressingStream):
    """gzip, including concatenated members."""

    compression = "gzip"

    def _new_decoder(self):
        return zlib.decompressobj(wbits=31)

    def _feed(self, data: memoryview) -> tuple[bytes, memoryview]:
        """One bounded step: at most MAX_OUT bytes out; returns (output, input left)."""
        self._member_started = True
        out = self._dec.decompress(data, MAX_OUT)
        if not self._dec.eof:
            return out, memoryview(self._dec.unconsumed_tail)
        left = self._dec.unused_data
        self._dec = self._new_decoder()
        self._member_started = False
        if left and not left.startswith(GZIP_MAGIC[:len(left)]):
            left = b""  # trailing garbage after a complete member: gzip(1) ignores it too
        return out, memoryview(left)


class ZstdStream(_DecompressingStream):
    """zstandard, including concatenated frames."""

    compression = "zstd"

    def _new_decoder(self):
        import zstandard  # (here: plain and gzip files do without it)

        self._errors = (zstandard.ZstdError, EOFError)
        return zstandard.ZstdDecompressor().decompressobj()

    def _feed(self, data: memoryview) -> tuple[bytes, memoryview]:
        """One bounded step of ZSTD_STEP input bytes.

        The zstd decoder has no output limit, but a block expands to at most 128 KiB
        and takes at least 4 bytes, so a step's output is at most
        ZSTD_STEP / 4 * 128 KiB (16 MiB), however hostile the stream.
        """
        self._member_started = True
        step, rest = data[:ZSTD_STEP], data[ZSTD_STEP:]
        out = self._dec.decompress(step)
        if not self._dec.eof:
            return out, rest
        left = self._dec.unused_data
        self._dec = self._new_decoder()
        self._member_started = False
        return out, (memoryview(left + rest) if left else rest)


def open_capture(source: str | os.PathLike[str] | BinaryIO) -> ByteStream:
    """Open ``source`` (a path, ``"-"`` for stdin, or a binary file object).

    The compression is sniffed from the magic bytes, never from the file name.
    """
    if isinstance(source, (str, os.PathLike)):
        if str(source) == "-":
            f: BinaryIO = sys.stdin.buffer
        else:
            f = open(Path(source), "rb")  # noqa: SIM115 - closed by the stream
    else:
        f = source
    head = _read_exact(f, 4)
    if head.startswith(GZIP_MAGIC):
        return GzipStream(f, head)
    if head.startswith(ZSTD_MAGIC):
        return ZstdStream(f, head)
    return PlainStream(f, head)


def _read_exact(f: BinaryIO, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def open_bytes(data: bytes) -> ByteStream:
    """Open an in-memory capture (tests, fuzzing)."""
    return open_capture(io.BytesIO(data))
