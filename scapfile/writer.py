"""Writing .scap files that sysdig 0.29.3 and current Falco libs both read.

Layout written: SHB 1.2, then MI, IL v2, UL v2, PL v9, FDL v2 (one per thread),
then EV v2 / EVF v2 blocks (their LARGE variants for large-payload event types).
The file is created with mode 0600 (captures hold secrets). Blocks are written
whole and the output is flushed block-aligned (compressors with a block flush),
so a writer killed at any moment leaves a file readable up to its last flush.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO, Iterable, Literal

import zstandard

from . import blocks as B
from . import snapshot as S
from .events import RawEvent, is_large

Compression = Literal["none", "gzip", "zstd"]
_HDR = struct.Struct("<II")
_U32 = struct.Struct("<I")
_CPU = struct.Struct("<H")
_CPU_FLAGS = struct.Struct("<HI")
_PAD = (b"", b"\0\0\0", b"\0\0", b"\0")
#: libscap refuses plain (non-LARGE) event blocks over this size.
_MAX_PLAIN_EVENT_BLOCK = 65536
#: Flush the compressor (block boundary) after this many uncompressed bytes.
FLUSH_EVERY = 1 << 20


def frame_block(block_type: int, body: bytes) -> bytes:
    """Wrap a body as a block: header, body, padding to 4 bytes, trailer."""
    total = B.BLOCK_HEADER_SIZE + len(body) + B.BLOCK_TRAILER_SIZE
    padded = B.padded(total)
    return b"".join((_HDR.pack(block_type, padded), body, _PAD[total & 3], _U32.pack(padded)))


def create_private(path: str | os.PathLike[str]) -> BinaryIO:
    """Create (or truncate) ``path`` with mode 0600, whatever the umask."""
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0),
                 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:  # pragma: no cover - e.g. a FIFO we do not own
        pass
    return os.fdopen(fd, "wb", buffering=0)


class _Sink:
    """Byte sink with optional compression and block-aligned flushing."""

    def __init__(self, f: BinaryIO, compression: Compression, level: int | None) -> None:
        self._f = f
        self.compression = compression
        self._pending = bytearray()
        self._since_flush = 0
        if compression == "gzip":
            self._z = zlib.compressobj(level if level is not None else 6, zlib.DEFLATED, 31)
        elif compression == "zstd":
            self._z = zstandard.ZstdCompressor(level=level if level is not None else 3) \
                .compressobj()
        elif compression == "none":
            self._z = None
        else:
            raise ValueError(f"unknown compression {compression!r}: none, gzip or zstd")
        self.bytes_in = 0
        self.bytes_out = 0

    def write(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self._since_flush += len(data)
        if self._z is None:
            self._pending += data
            if len(self._pending) >= FLUSH_EVERY:
                self.flush()
            return
        self._pending += self._z.compress(data)
        if self._since_flush >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Make everything written so far decodable from the file."""
        if self._z is not None and self._since_flush:
            if self.compression == "gzip":
                self._pending += self._z.flush(zlib.Z_SYNC_FLUSH)
            else:
                self._pending += self._z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        self._since_flush = 0
        if self._pending:
            _write_all(self._f, bytes(self._pending))
            self.bytes_out += len(self._pending)
            self._pending.clear()
        fl = getattr(self._f, "flush", None)
        if fl is not None:
            fl()

    def close(self) -> None:
        self.flush()
        if self._z is not None:
            tail = self._z.flush()
            if tail:
                _write_all(self._f, tail)
                self.bytes_out += len(tail)
        self._f.close()


def _write_all(f: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = f.write(view)
        if n is None:  # pragma: no cover - buffered file objects write everything
            return
        view = view[n:]


class ScapWriter:
    """Write a capture block by block.

    Use as a context manager. Call :meth:`write_header` (or the individual block
    writers) before the events; :meth:`write_event` takes a :class:`RawEvent` or
    an already-encoded v2 event.
    """

    def __init__(self, target: str | os.PathLike[str] | BinaryIO, *,
                 compress: Compression = "none", level: int | None = None) -> None:
        if isinstance(target, (str, os.PathLike)):
            f = create_private(target)
        else:
            f = target
        self._sink = _Sink(f, compress, level)
        self.events_written = 0
        self.blocks_written = 0

    @property
    def bytes_written(self) -> int:
        """Uncompressed bytes written so far."""
        return self._sink.bytes_in

    @property
    def file_bytes(self) -> int:
        """Bytes the file holds or is about to (compressed output produced so far)."""
        return self._sink.bytes_out + len(self._sink._pending)

    def __enter__(self) -> ScapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sink.close()

    def flush(self) -> None:
        self._sink.flush()

    # -- blocks ------------------------------------------------------------------

    def write_block(self, block_type: int, body: bytes) -> None:
        self._sink.write(frame_block(block_type, body))
        self.blocks_written += 1

    def write_section_header(self, options: Iterable[tuple[int, bytes]] = ()) -> None:
        body = struct.pack("<IHHq", B.SHB_MAGIC, B.CURRENT_MAJOR_VERSION,
                           B.CURRENT_MINOR_VERSION, -1)
        opts = list(options)
        if opts:
            for code, value in opts:
                body += struct.pack("<HH", code, len(value)) + value + _PAD[len(value) & 3]
            body += struct.pack("<HH", 0, 0)
        self.write_block(B.BlockType.SHB, body)

    def write_machine_info(self, m: S.MachineInfo) -> None:
        self.write_block(B.BlockType.MI, S.build_machine_info(m))

    def write_interfaces(self, ifs: Iterable[S.InterfaceInfo]) -> None:
        self.write_block(B.BlockType.IL_V2, b"".join(S.build_interface(i) for i in ifs))

    def write_users(self, users: Iterable[S.UserInfo], groups: Iterable[S.GroupInfo]) -> None:
        body = b"".join(S.build_user(u) for u in users) + \
            b"".join(S.build_user(g) for g in groups)
        self.write_block(B.BlockType.UL_V2, body)

    def write_processes(self, procs: Iterable[S.ProcessInfo]) -> None:
        self.write_block(B.BlockType.PL_V9, b"".join(S.build_process(p) for p in procs))

    def write_fds(self, tid: int, fds: Iterable[S.FdInfo]) -> None:
        self.write_block(B.BlockType.FDL_V2, S.build_fd_list(tid, list(fds)))

    def write_snapshot(self, snap: S.Snapshot) -> None:
        """The metadata blocks, in the order libscap writes them."""
        if snap.machine is not None:
            self.write_machine_info(snap.machine)
        self.write_interfaces(snap.interfaces)
        self.write_users(snap.users.values(), snap.groups.values())
        self.write_processes(snap.processes.values())
        for tid, fds in snap.fds.items():
            if fds:
                self.write_fds(tid, fds.values())

    def write_header(self, snap: S.Snapshot | None = None) -> None:
        """Section header plus the snapshot blocks."""
        self.write_section_header()
        if snap is not None:
            self.write_snapshot(snap)

    # -- events -------------------------------------------------------------------

    def write_blocks(self, blocks: bytes | memoryview, events: int) -> None:
        """Append complete event blocks, already framed (see :func:`frame_block`), as they
        are: ``events`` is how many they hold (one per block)."""
        self._sink.write(blocks)
        self.blocks_written += events
        self.events_written += events

    def write_event(self, ev: RawEvent | bytes, cpu: int | None = None,
                    dump_flags: int | None = None) -> None:
        """Write one event block (EV v2, or EVF v2 when it has dump flags)."""
        if isinstance(ev, RawEvent):
            data, etype = ev.data, ev.type
            cpu = ev.cpu if cpu is None else cpu
            dump_flags = ev.dump_flags if dump_flags is None else dump_flags
        else:
            data = ev
            (etype,) = struct.unpack_from("<H", data, 20)
        cpu = cpu or 0
        # Large-payload event types, and any event too big for the 64 KiB reader
        # buffer of the plain blocks, go into the LARGE block variants.
        large = is_large(etype) or len(data) + 18 > _MAX_PLAIN_EVENT_BLOCK
        if dump_flags:
            bt = B.BlockType.EVF_V2_LARGE if large else B.BlockType.EVF_V2
            head = _CPU_FLAGS.pack(cpu, dump_flags)
        else:
            bt = B.BlockType.EV_V2_LARGE if large else B.BlockType.EV_V2
            head = _CPU.pack(cpu)
        self._sink.write(frame_block(bt, head + data))
        self.blocks_written += 1
        self.events_written += 1
