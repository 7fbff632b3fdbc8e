"""Rewrite a capture: normalise every block to the layouts the writer produces."""

from __future__ import annotations

import os
from typing import BinaryIO

from . import blocks as B
from . import snapshot as S
from .errors import FormatError
from .reader import Block, CaptureReader
from .events import RawEvent
from .writer import Compression, ScapWriter


def convert(source: str | os.PathLike[str] | BinaryIO, target: str | os.PathLike[str] | BinaryIO,
            compress: Compression = "none") -> CaptureReader:
    """Copy ``source`` to ``target``; return the reader (its ``damage`` says what was lost).

    Events become EV/EVF v2 blocks; process, fd, interface and user lists are
    re-encoded in their newest layouts (PL v9, FDL v2, IL v2, UL v2); blocks of
    unknown types are copied unchanged.
    """
    reader = CaptureReader(source)
    with reader, ScapWriter(target, compress=compress) as w:
        for rec in reader.records():
            if type(rec) is RawEvent:
                w.write_event(rec)
            else:
                _convert_block(w, rec)
    return reader


def _convert_block(w: ScapWriter, blk: Block) -> None:
    t, body, off = blk.type, blk.body, blk.offset + 8
    # Entries parsed before any damage are kept; the damage itself was already
    # recorded by the reader when it parsed the same block.
    if t == B.BlockType.SHB:
        w.write_section_header()
    elif t in B.MI_TYPES:
        if len(body) >= B.MACHINE_INFO_SIZE:
            w.write_machine_info(S.parse_machine_info(body, off))
    elif t in B.PL_VERSIONS:
        w.write_processes(_until_damage(S.parse_processes(t, body, off)))
    elif t in B.FDL_TYPES:
        if len(body) >= 8:
            tid, fds, _err = S.parse_fds(t, body, off)
            w.write_fds(tid, fds)
    elif t in B.IL_TYPES:
        w.write_interfaces(_until_damage(S.parse_interfaces(t, body, off)))
    elif t in B.UL_TYPES:
        entries = _until_damage(S.parse_users(t, body, off))
        w.write_users([e for e in entries if isinstance(e, S.UserInfo)],
                      [e for e in entries if isinstance(e, S.GroupInfo)])
    else:
        w.write_block(t, body)


def _until_damage(it) -> list:
    out = []
    try:
        for x in it:
            out.append(x)
    except FormatError:
        pass  # already recorded in the reader's damage list
    return out
