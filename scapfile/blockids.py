"""The .scap block codes, sizes and enums: what reading needs without the layouts.

:mod:`.blocks` declares the block layouts with construct and re-exports these names;
the read path imports this module instead, so that a plain read does not load
construct (a tenth of ``scap read``'s startup). Names follow libscap
(``scap_savefile.h``).
"""

from __future__ import annotations

import enum

class BlockType(enum.IntEnum):
    """Block type codes, with libscap's names (``*_INT``: pre-release numbering)."""

    SHB = 0x0A0D0D0A
    MI = 0x201
    MI_INT = 0x8002ABCD
    PL_V1 = 0x202
    PL_V1_INT = 0x8000ABCD
    PL_V2 = 0x207
    PL_V2_INT = 0x8013ABCD
    PL_V3 = 0x209
    PL_V3_INT = 0x8014ABCD
    PL_V4 = 0x210
    PL_V5 = 0x211
    PL_V6 = 0x212
    PL_V7 = 0x213
    PL_V8 = 0x214
    PL_V9 = 0x215
    FDL = 0x203
    FDL_INT = 0x8001ABCD
    FDL_V2 = 0x218
    EV = 0x204
    EV_INT = 0x8010ABCD
    EV_V2 = 0x216
    EV_V2_LARGE = 0x221
    EVF = 0x208
    EVF_V2 = 0x217
    EVF_V2_LARGE = 0x222
    IL = 0x205
    IL_INT = 0x8011ABCD
    IL_V2 = 0x219
    UL = 0x206
    UL_INT = 0x8012ABCD
    UL_V2 = 0x220


SHB_MAGIC = 0x1A2B3C4D
SHB_MAGIC_SWAPPED = 0x4D3C2B1A
#: Highest major version we read; minor versions 0..2 are known.
CURRENT_MAJOR_VERSION = 1
CURRENT_MINOR_VERSION = 2

#: Process-list block type -> layout version (1..9).
PL_VERSIONS: dict[int, int] = {
    BlockType.PL_V1: 1, BlockType.PL_V1_INT: 1,
    BlockType.PL_V2: 2, BlockType.PL_V2_INT: 2,
    BlockType.PL_V3: 3, BlockType.PL_V3_INT: 3,
    BlockType.PL_V4: 4, BlockType.PL_V5: 5, BlockType.PL_V6: 6,
    BlockType.PL_V7: 7, BlockType.PL_V8: 8, BlockType.PL_V9: 9,
}
FDL_TYPES = frozenset({BlockType.FDL, BlockType.FDL_INT, BlockType.FDL_V2})
IL_TYPES = frozenset({BlockType.IL, BlockType.IL_INT, BlockType.IL_V2})
UL_TYPES = frozenset({BlockType.UL, BlockType.UL_INT, BlockType.UL_V2})
MI_TYPES = frozenset({BlockType.MI, BlockType.MI_INT})

#: Event block type -> (has nparams in the event header, has 32-bit flags, large payload).
EVENT_BLOCKS: dict[int, tuple[bool, bool, bool]] = {
    BlockType.EV: (False, False, False),
    BlockType.EV_INT: (False, False, False),
    BlockType.EVF: (False, True, False),
    BlockType.EV_V2: (True, False, False),
    BlockType.EVF_V2: (True, True, False),
    BlockType.EV_V2_LARGE: (True, False, True),
    BlockType.EVF_V2_LARGE: (True, True, True),
}



def block_kind(block_type: int) -> str:
    """A short human name for a block type: ``"EV v2"``, ``"PL v9"``, ``"unknown 0x..."``."""
    try:
        name = BlockType(block_type).name
    except ValueError:
        return f"unknown 0x{block_type:x}"
    base, _, rest = name.partition("_")
    rest = rest.replace("_INT", " (pre-release)").replace("_LARGE", " large").replace("V", "v")
    return f"{base} {rest}".strip() if rest else base


#: ``block_header`` (type and total length) and the trailing length word.
BLOCK_HEADER_SIZE = 8
BLOCK_TRAILER_SIZE = 4
MIN_BLOCK_SIZE = BLOCK_HEADER_SIZE + BLOCK_TRAILER_SIZE


def padded(n: int) -> int:
    """Round ``n`` up to a multiple of 4, as libscap's ``scap_normalize_block_len``."""
    return (n + 3) & ~3


#: ``section_header_block`` without its options: magic, versions, section length.
SECTION_HEADER_FIXED_SIZE = 16
#: ``scap_machine_info`` on disk.
MACHINE_INFO_SIZE = 180
#: ``ppm_evt_hdr``: v2 blocks (0x216 and later) carry ``nparams``; v1 blocks do not.
EVENT_HEADER_V2_SIZE = 26
EVENT_HEADER_V1_SIZE = 22


class FdType(enum.IntEnum):
    """``scap_fd_type``."""

    UNKNOWN = 0
    FILE = 1
    DIRECTORY = 2
    IPV4_SOCK = 3
    IPV6_SOCK = 4
    IPV4_SERVSOCK = 5
    IPV6_SERVSOCK = 6
    FIFO = 7
    UNIX_SOCK = 8
    EVENT = 9
    UNSUPPORTED = 10
    SIGNALFD = 11
    EVENTPOLL = 12
    INOTIFY = 13
    TIMERFD = 14
    NETLINK = 15
    FILE_V2 = 16
    BPF = 17
    USERFAULTFD = 18
    IOURING = 19
    MEMFD = 20
    PIDFD = 21


#: fd types whose fd-list entry info is only a name.
NAME_FD_TYPES = frozenset({
    FdType.FIFO, FdType.FILE, FdType.DIRECTORY, FdType.UNSUPPORTED, FdType.EVENT,
    FdType.SIGNALFD, FdType.EVENTPOLL, FdType.INOTIFY, FdType.TIMERFD, FdType.NETLINK,
    FdType.BPF, FdType.USERFAULTFD, FdType.IOURING, FdType.MEMFD, FdType.PIDFD,
})


class IfType(enum.IntEnum):
    """``scap_ifinfo_type``."""

    UNKNOWN = 0
    IPV4 = 1
    IPV6 = 2
    IPV4_NOLINKSPEED = 3
    IPV6_NOLINKSPEED = 4


#: Without linkspeed the name field is a full SCAP_MAX_PATH_SIZE array on disk.
SCAP_MAX_PATH_SIZE = 1024


#: User-list entry kinds.
USERBLOCK_TYPE_USER = 0
USERBLOCK_TYPE_GROUP = 1
