"""The last event's timestamp of a capture, read from the end of the file.

Every block ends with its own length, so an uncompressed capture can be walked backwards
from its end, block by block, to its last event block without reading the rest. A gzip or
zstd stream cannot be entered from its end, nor can a pipe: :func:`last_event_ts` then
returns None (finding the end would mean reading it all). A damaged end raises.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

from .blockids import EVENT_BLOCKS, MIN_BLOCK_SIZE, BlockType
from .errors import FormatError
from .reader import block_type_plausible
from .source import GZIP_MAGIC, ZSTD_MAGIC

__all__ = ["last_event_ts"]

_HDR = struct.Struct("<II")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_KNOWN = frozenset(int(t) for t in BlockType)
_EVENT_SPECS = {int(k): v for k, v in EVENT_BLOCKS.items()}
#: How many blocks (metadata after the last event) the walk looks through at most.
MAX_BLOCKS = 4096


def last_event_ts(path: str | os.PathLike[str], *, max_blocks: int = MAX_BLOCKS) -> int | None:
    """The timestamp of the last event block of an uncompressed capture file.

    None when the file cannot be walked from its end (gzip, zstd, not a regular file).
    Raises :class:`FormatError` when the end is not a chain of intact blocks leading to an
    event block within ``max_blocks`` blocks.
    """
    with open(Path(path), "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        magic = f.read(4)
        if magic.startswith(GZIP_MAGIC) or magic.startswith(ZSTD_MAGIC):
            return None
        end = st.st_size
        for _ in range(max_blocks):
            if end < MIN_BLOCK_SIZE:
                raise FormatError("walking back from the end of the file: no event block", 0)
            f.seek(end - 4)
            (blen,) = _U32.unpack(f.read(4))
            if blen < MIN_BLOCK_SIZE or blen > end:
                raise FormatError(f"walking back from the end of the file: the block ending "
                                  f"here claims {blen} bytes", end)
            start = end - blen
            f.seek(start)
            head = f.read(8 + 6 + 8)  # header, cpu id and flags, timestamp
            btype, blen2 = _HDR.unpack_from(head)
            if blen2 != blen or not (btype in _KNOWN or block_type_plausible(btype)):
                raise FormatError(f"walking back from the end of the file: no intact block "
                                  f"of {blen} bytes ends here", end)
            spec = _EVENT_SPECS.get(btype)
            if spec is not None:
                at = 8 + (6 if spec[1] else 2)
                if blen < at + 8 + 4:
                    raise FormatError("walking back from the end of the file: the last "
                                      "event block is too short for a timestamp", start)
                return int(_U64.unpack_from(head, at)[0])
            end = start
        raise FormatError(f"walking back from the end of the file: no event block in the "
                          f"last {max_blocks} blocks", end)
