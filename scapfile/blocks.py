"""The .scap block layouts, declared once with construct.

The format is pcapng-like: every block is ``block_type:u32, block_total_length:u32,
body, padding to 4 bytes, block_total_length:u32``. Names follow libscap
(``userspace/libscap/scap_savefile.h`` and ``engine/savefile/scap_savefile.c``);
each field notes the block version that introduced it. Files are little-endian
(the section header's byte-order magic is checked).

These declarations are the specification, the writer and the test oracle. The
reader's hot path (events) uses the precompiled ``struct`` plans in
:mod:`scapkit.scapfile.reader` (and the C scanner in :mod:`.cscan`), kept in agreement with these by property tests.
Metadata blocks are parsed with these declarations directly (never with
construct's ``.compile()``, which drops checks). The block codes, fixed sizes and
enums live in :mod:`.blockids` (re-exported here), which the read path imports
without construct.
"""

from __future__ import annotations

from construct import (
    Array,
    Bytes,
    Computed,
    Const,
    FixedSized,
    GreedyBytes,
    If,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64sl,
    Int64ul,
    IfThenElse,
    Optional,
    Prefixed,
    Struct,
    Switch,
    Tell,
    this,
)

from .blockids import (  # noqa: F401  (re-exported: the codes belong with the layouts)
    BLOCK_HEADER_SIZE,
    BLOCK_TRAILER_SIZE,
    CURRENT_MAJOR_VERSION,
    CURRENT_MINOR_VERSION,
    EVENT_BLOCKS,
    EVENT_HEADER_V1_SIZE,
    EVENT_HEADER_V2_SIZE,
    FDL_TYPES,
    IL_TYPES,
    MACHINE_INFO_SIZE,
    MI_TYPES,
    MIN_BLOCK_SIZE,
    PL_VERSIONS,
    SCAP_MAX_PATH_SIZE,
    SECTION_HEADER_FIXED_SIZE,
    SHB_MAGIC,
    SHB_MAGIC_SWAPPED,
    UL_TYPES,
    USERBLOCK_TYPE_GROUP,
    USERBLOCK_TYPE_USER,
    BlockType,
    FdType,
    IfType,
    NAME_FD_TYPES,
    block_kind,
    padded,
)


# ---------------------------------------------------------------------------
# Generic framing
# ---------------------------------------------------------------------------

#: ``block_header`` (scap_savefile.h): type and total length, header and trailer included.
BlockHeader = Struct(
    "block_type" / Int32ul,
    "block_total_length" / Int32ul,
)


# ---------------------------------------------------------------------------
# Section header block
# ---------------------------------------------------------------------------

#: ``section_header_block`` followed by optional pcapng options (kept raw).
SectionHeader = Struct(
    "byte_order_magic" / Const(SHB_MAGIC, Int32ul),
    "major_version" / Int16ul,
    "minor_version" / Int16ul,
    "section_length" / Int64sl,  # -1 (0xffff...) means "not specified"
    "options" / GreedyBytes,  # pcapng options; libscap skips them
)

#: One pcapng option: code, length, value padded to 4 bytes (code 0 ends the list).
PcapngOption = Struct(
    "code" / Int16ul,
    "length" / Int16ul,
    "value" / Bytes(this.length),
    "padding" / Bytes(lambda ctx: padded(ctx.length) - ctx.length),
)


# ---------------------------------------------------------------------------
# Machine info block (scap_machine_info)
# ---------------------------------------------------------------------------

MachineInfo = Struct(
    "num_cpus" / Int32ul,
    "memory_size_bytes" / Int64ul,
    "max_pid" / Int64ul,
    "hostname" / Bytes(128),  # NUL-padded
    "boot_ts_epoch" / Int64ul,  # was reserved1 before libs 0.11
    "flags" / Int64ul,  # was reserved2
    "reserved3" / Int64ul,
    "reserved4" / Int64ul,
)

# ---------------------------------------------------------------------------
# Process list block, entry layouts v1..v9
# ---------------------------------------------------------------------------

#: A u16-length-prefixed byte string (not NUL-terminated on disk).
Str16 = Prefixed(Int16ul, GreedyBytes)


def _pl_trailing() -> Struct:
    """Fields appended to v9 entries after libs 0.9, each present only if it fits.

    Libs 0.10 inserted ``pidns_init_start_ts`` and ``tty`` before ``loginuid``; the
    reader tells the two layouts apart by the tail size (more than 29 bytes means
    the newer layout), as libscap does.
    """
    return Struct(
        "_size" / Tell,  # always 0 here; the caller passes the tail length in context
        "pidns_init_start_ts" / If(lambda c: c._.tail_len > 29, Optional(Int64ul)),
        "tty" / If(lambda c: c._.tail_len > 29, Optional(Int32ul)),
        "loginuid" / Optional(Int32ul),
        "exe_writable" / Optional(Int8ul),
        "cap_inheritable" / Optional(Int64ul),
        "cap_permitted" / Optional(Int64ul),
        "cap_effective" / Optional(Int64ul),
        "exe_upper_layer" / Optional(Int8ul),
        "exe_ino" / Optional(Int64ul),
        "exe_ino_ctime" / Optional(Int64ul),
        "exe_ino_mtime" / Optional(Int64ul),
        "exe_from_memfd" / Optional(Int8ul),
        "exe_lower_layer" / Optional(Int8ul),
        "pgid" / Optional(Int64sl),
    )


def process_entry(version: int) -> Struct:
    """The layout of one process-list entry for block version ``version`` (1..9)."""
    v = version
    fields = []
    if v >= 9:
        fields.append("_start" / Tell)
        fields.append("sub_len" / Int32ul)  # entry length including this field (v9)
    fields += [
        "tid" / Int64sl,
        "pid" / Int64sl,
        "ptid" / Int64sl,
    ]
    if v >= 6:
        fields.append("sid" / Int64sl)
    if v >= 8:
        fields.append("vpgid" / Int64sl)
    fields += ["comm" / Str16, "exe" / Str16]
    if v >= 7:
        fields.append("exepath" / Str16)
    fields += [
        "args" / Str16,  # NUL-separated argv[1:]
        "cwd" / Str16,
        "fdlimit" / Int64sl,
        "flags" / Int32ul,
        "uid" / Int32ul,
        "gid" / Int32ul,
    ]
    if v >= 2:
        fields += [
            "vmsize_kb" / Int32ul,
            "vmrss_kb" / Int32ul,
            "vmswap_kb" / Int32ul,
            "pfmajor" / Int64ul,
            "pfminor" / Int64ul,
        ]
    if v >= 3:
        fields.append("env" / Str16)
    if v >= 4:
        fields += ["vtid" / Int64sl, "vpid" / Int64sl, "cgroups" / Str16]
    if v >= 5:
        fields.append("root" / Str16)
    if v >= 9:
        fields.append("_core_end" / Tell)
        fields.append(
            "tail_len" / Computed(lambda c: c.sub_len - (c._core_end - c._start))
        )
        fields.append("extra" / FixedSized(this.tail_len, _pl_trailing()))
    return Struct(*fields)


PROCESS_ENTRIES = {v: process_entry(v) for v in range(1, 10)}

# ---------------------------------------------------------------------------
# FD list block
# ---------------------------------------------------------------------------




_FD_INFO = {
    FdType.IPV4_SOCK: Struct(
        "sip" / Int32ul, "dip" / Int32ul, "sport" / Int16ul, "dport" / Int16ul,
        "l4proto" / Int8ul,
    ),
    FdType.IPV4_SERVSOCK: Struct("ip" / Int32ul, "port" / Int16ul, "l4proto" / Int8ul),
    FdType.IPV6_SOCK: Struct(
        "sip" / Bytes(16), "dip" / Bytes(16), "sport" / Int16ul, "dport" / Int16ul,
        "l4proto" / Int8ul,
    ),
    FdType.IPV6_SERVSOCK: Struct("ip" / Bytes(16), "port" / Int16ul, "l4proto" / Int8ul),
    FdType.UNIX_SOCK: Struct("source" / Int64ul, "destination" / Int64ul, "fname" / Str16),
    # FILE_V2: open flags, name, then (only if the v2 entry length leaves room) dev.
    FdType.FILE_V2: Struct("open_flags" / Int32ul, "fname" / Str16),
}
#: fd types whose info is only a name.
_FD_NAME_ONLY = Struct("fname" / Str16)


def fd_entry(v2: bool) -> Struct:
    """One fd-list entry (``scap_fd_read_from_disk``); v2 entries start with their length."""
    fields = []
    if v2:
        fields += ["_start" / Tell, "sub_len" / Int32ul]
    fields += [
        "fd" / Int64sl,
        "ino" / Int64ul,
        "type" / Int8ul,
        "info" / Switch(
            this.type,
            _FD_INFO,
            default=If(lambda c: c.type != FdType.UNKNOWN and c.type in NAME_FD_TYPES,
                       _FD_NAME_ONLY),
        ),
    ]
    if v2:
        fields += [
            "_end" / Tell,
            "tail_len" / Computed(lambda c: c.sub_len - (c._end - c._start)),
            "extra" / FixedSized(this.tail_len, Struct("dev" / Optional(Int32ul))),
        ]
    return Struct(*fields)


FD_ENTRY_V1 = fd_entry(False)
FD_ENTRY_V2 = fd_entry(True)
FdListHead = Struct("tid" / Int64sl)

# ---------------------------------------------------------------------------
# Interface list block
# ---------------------------------------------------------------------------



_IF_BODY = {
    IfType.IPV4: Struct(
        "addr" / Int32ul, "netmask" / Int32ul, "bcast" / Int32ul, "linkspeed" / Int64ul,
        "ifname" / Bytes(this._.ifnamelen),
    ),
    IfType.IPV6: Struct(
        "addr" / Bytes(16), "netmask" / Bytes(16), "bcast" / Bytes(16),
        "linkspeed" / Int64ul, "ifname" / Bytes(this._.ifnamelen),
    ),
    # Old layouts: the name is stored in a fixed 1024-byte array (libscap computes the
    # entry size as sizeof(struct) + namelen - 1024, i.e. the array is cut to namelen).
    IfType.IPV4_NOLINKSPEED: Struct(
        "addr" / Int32ul, "netmask" / Int32ul, "bcast" / Int32ul,
        "ifname" / Bytes(this._.ifnamelen),
    ),
    IfType.IPV6_NOLINKSPEED: Struct(
        "addr" / Bytes(16), "netmask" / Bytes(16), "bcast" / Bytes(16),
        "ifname" / Bytes(this._.ifnamelen),
    ),
}

InterfaceEntryV1 = Struct(
    "type" / Int16ul,
    "ifnamelen" / Int16ul,
    "body" / Switch(this.type, _IF_BODY),
)
#: v2 entries start with their length (not counting the length field itself).
InterfaceEntryV2 = Struct(
    "entry_len" / Int32ul,
    "entry" / FixedSized(this.entry_len, Struct(
        "type" / Int16ul,
        "ifnamelen" / Int16ul,
        "body" / Switch(this.type, _IF_BODY),
        "rest" / GreedyBytes,  # fields added by newer writers
    )),
)

# ---------------------------------------------------------------------------
# User list block
# ---------------------------------------------------------------------------


_USER = Struct(
    "uid" / Int32ul, "gid" / Int32ul, "name" / Str16, "homedir" / Str16, "shell" / Str16,
)
_GROUP = Struct("gid" / Int32ul, "name" / Str16)

UserEntryV1 = Struct(
    "kind" / Int8ul,
    "data" / Switch(this.kind, {USERBLOCK_TYPE_USER: _USER}, default=_GROUP),
)
#: v2 entries start with their length (including the length field).
UserEntryV2 = Struct(
    "sub_len" / Int32ul,
    "entry" / FixedSized(this.sub_len - 4, Struct(
        "kind" / Int8ul,
        "data" / Switch(this.kind, {USERBLOCK_TYPE_USER: _USER}, default=_GROUP),
        "rest" / GreedyBytes,
    )),
)

# ---------------------------------------------------------------------------
# Event blocks
# ---------------------------------------------------------------------------

#: ``ppm_evt_hdr``: v2 blocks (0x216 and later) carry ``nparams``; v1 blocks do not.
EventHeaderV2 = Struct(
    "ts" / Int64ul,
    "tid" / Int64sl,
    "len" / Int32ul,  # whole event, header included
    "type" / Int16ul,
    "nparams" / Int32ul,
)
EventHeaderV1 = Struct(
    "ts" / Int64ul,
    "tid" / Int64sl,
    "len" / Int32ul,
    "type" / Int16ul,
)


def _large_payload(ctx) -> bool:  # type: ignore[no-untyped-def]
    from .events import is_large

    return is_large(ctx.header.type)


def event_block_body(with_flags: bool, v2: bool, large: bool) -> Struct:
    """An event block body: cpu id, optional dump flags, the event, its parameters.

    Parameter lengths are 32-bit for event types flagged EF_LARGE_PAYLOAD and 16-bit
    otherwise, whatever the block type (as libsinsp decodes them, and the reader): libscap
    puts exactly those events in the LARGE blocks, but our writer also uses LARGE blocks
    for other events too big for the 64 KiB limit of the plain ones. ``large`` (the
    block's kind) therefore does not change the layout.
    """
    len_t = IfThenElse(_large_payload, Int32ul, Int16ul)
    fields = ["cpuid" / Int16ul]
    if with_flags:
        fields.append("flags" / Int32ul)
    fields.append("header" / (EventHeaderV2 if v2 else EventHeaderV1))
    if v2:
        fields.append("param_lens" / len_t[this.header.nparams])
        fields.append("params" / Array(
            this.header.nparams, Bytes(lambda c: c.param_lens[c._index])))
    else:
        fields.append("payload" / Bytes(
            lambda c: c.header.len - EVENT_HEADER_V1_SIZE))
    return Struct(*fields)


EVENT_BLOCK_BODIES = {
    bt: event_block_body(flags, v2, large)
    for bt, (v2, flags, large) in EVENT_BLOCKS.items()
}
