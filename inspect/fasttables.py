"""The tables the C read engine (``fastread.c``) works from, derived from the Python ones.

Nothing here is a second source of truth: every entry is computed from the declarations
the Python path reads — the event table and sysdig 0.29.3's overlay, the state engine's
handler registry, :mod:`.render`'s rules for each parameter type, the flag, errno, signal
and syscall name tables. An event code the C engine cannot handle exactly (a handler it
does not implement, a flag table sysdig 0.29.3 lacks...) gets kind ``FK_SLOW`` and is
left to the Python engine.

:func:`build` returns a :class:`CTables` holding the ``struct fr_tables`` and the arrays
it points to (which must stay alive as long as it is used). Building them costs more
than a small ``scap read`` (it loads the field registry, among others), so they are
kept in the per-user cache directory, under a key made of every source file of the
``scapfile`` and ``inspect`` packages (name, size, modification time): any change to
what they derive from gives a new key, and the tables are built again.
"""

from __future__ import annotations

import array
import marshal
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from scapkit.scapfile.cext import sha256
from scapkit.scapfile.event_table import (EF, EVENTS, NUM_EVENTS, PT, EventInfo, ParamInfo,
                                          sysdig_029_event_info)
from scapkit.scapfile.events import GENERIC_CODES, LARGE_PAYLOAD
from scapkit.scapfile.flag_tables import (ERRNO_NAMES, SIGNAL_NAMES, TABLES,
                                          table_entries)
from scapkit.scapfile.syscall_names import SYSCALL_INFO, SYSCALL_NAMES, sysdig_029_syscall_name

from .state import handlers_files as HF
from .state import handlers_net as HN
from .state import handlers_process as HP
from .state import registry
from .state.engine import (CLONE_EXITS, CONTAINER_JSON, COPY_FILE_RANGE_X, FD_EVENT_FLAGS,
                           PROCINFO_E, SCHEDSWITCH_6_E, WRITE_X, effective_info)
from .state.engine import _CONTAINER_EVENTS
from .state.fds import OPEN_DIRECTORY, FdFlag, FdType
from .state.syslog import _WRITES as SYSLOG_WRITES
from .state.tracers import RW_EXITS, TRACER_E, WRITE_E
from .visibility import hidden_by_default

__all__ = ["CTables", "build", "spec_of", "ARG_NAMES", "DECODE_KINDS"]

# Kinds, renderers and argument slots: the FK_*, RK_* and FA_* of fastread.c.
(FK_SLOW, FK_PLAIN, FK_MEMORY, FK_SWITCH, FK_TRANSFER, FK_CLOSE_E, FK_CLOSE_X, FK_OPEN_X,
 FK_CREAT_X, FK_OPENAT_X, FK_OPENAT2_X, FK_SOCKET_X, FK_SENDTO_E, FK_CONNECT_E, FK_CONNECT_X,
 FK_BIND_X, FK_ACCEPT_X, FK_GETSOCKOPT_X, FK_FCNTL_E, FK_FCNTL_X, FK_PIPE_X, FK_DUP_X,
 FK_RLIMIT_X, FK_PROCEXIT, FK_CLONE_X, FK_EXECVE_X) = range(26)
(RK_SIGNED, RK_UNSIGNED, RK_ERRNO, RK_FD, RK_PID, RK_CHARBUF, RK_PATH, RK_BYTEBUF,
 RK_SOCKADDR, RK_SOCKTUPLE, RK_FDLIST, RK_SYSCALLID, RK_SIGTYPE, RK_RELTIME, RK_FLAGS,
 RK_MODE, RK_UID, RK_GID, RK_CHARBUFARRAY, RK_PAIRS, RK_SIGSET, RK_CONST, RK_DYN) = range(1, 24)
#: The arguments the C handlers read, by name (current table), in FA_* order.
ARG_NAMES = ("res", "fd", "name", "flags", "dev", "dirfd", "vm_size", "vm_rss", "vm_swap",
             "pgft_maj", "pgft_min", "tuple", "addr", "domain", "type", "proto", "cmd", "ino",
             "fd1", "fd2", "resource", "cur", "reaper_tid", "pid", "vtid", "comm", "exe",
             "fdlimit", "uid")

#: How ``params.decode_param`` turns each type into an int: size | 0x10 signed | 0x20 a UID/GID
#: (0xffffffff decodes to None). Types missing here never decode to an int.
DECODE_KINDS: dict[PT, int] = {
    PT.INT8: 0x11, PT.INT16: 0x12, PT.INT32: 0x14, PT.INT64: 0x18,
    PT.ERRNO: 0x18, PT.FD: 0x18, PT.PID: 0x18, PT.FD32: 0x14, PT.PID32: 0x14,
    PT.UINT8: 1, PT.SIGTYPE: 1, PT.L4PROTO: 1, PT.SOCKFAMILY: 1, PT.FLAGS8: 1, PT.ENUMFLAGS8: 1,
    PT.UINT16: 2, PT.SYSCALLID: 2, PT.PORT: 2, PT.FLAGS16: 2, PT.ENUMFLAGS16: 2,
    PT.UINT32: 4, PT.FLAGS32: 4, PT.ENUMFLAGS32: 4, PT.MODE: 4, PT.SIGSET: 4,
    PT.UINT64: 8, PT.RELTIME: 8, PT.ABSTIME: 8,
    PT.UID: 0x24, PT.GID: 0x24,
}

_SIZES = {PT.INT8: 1, PT.INT16: 2, PT.INT32: 4, PT.INT64: 8, PT.UINT8: 1, PT.UINT16: 2,
          PT.UINT32: 4, PT.UINT64: 8}
_FLAG_SIZES = {PT.FLAGS8: 1, PT.FLAGS16: 2, PT.FLAGS32: 4, PT.ENUMFLAGS8: 1,
               PT.ENUMFLAGS16: 2, PT.ENUMFLAGS32: 4}
_ENUMS = frozenset({PT.ENUMFLAGS8, PT.ENUMFLAGS16, PT.ENUMFLAGS32})
_SIMPLE = {PT.ERRNO: RK_ERRNO, PT.FD: RK_FD, PT.FD32: RK_FD, PT.PID: RK_PID, PT.PID32: RK_PID,
           PT.CHARBUF: RK_CHARBUF, PT.BYTEBUF: RK_BYTEBUF, PT.SOCKADDR: RK_SOCKADDR,
           PT.SOCKTUPLE: RK_SOCKTUPLE, PT.FDLIST: RK_FDLIST, PT.SYSCALLID: RK_SYSCALLID,
           PT.SIGTYPE: RK_SIGTYPE, PT.RELTIME: RK_RELTIME, PT.UID: RK_UID, PT.GID: RK_GID,
           PT.CHARBUFARRAY: RK_CHARBUFARRAY, PT.CHARBUF_PAIR_ARRAY: RK_PAIRS,
           PT.SIGSET: RK_SIGSET}
_INVALID_DYN = "INVALID DYNAMIC PARAMETER"
_NA = "(n.a.)"

# special[] bits of fastread.c
SP_CLONE_EXIT, SP_CONTAINER, SP_PROCINFO, SP_SWITCH6, SP_COPY_FILE_RANGE = 1, 2, 4, 8, 16
SP_TUPLE, SP_OPENAT_2, SP_DUP3, SP_WRITE_X = 32, 64, 128, 256
SP_RW_EXIT, SP_WRITE_E, SP_CONTAINER_EV, SP_SYSLOG = 512, 1024, 2048, 4096


class Unsupported(Exception):
    """A parameter the C renderer cannot reproduce exactly (its event stays in Python)."""


@dataclass
class _Builder:
    """Accumulates strings, specs and flag tables as C arrays."""

    blob: bytearray = field(default_factory=bytearray)
    strings: dict[bytes, int] = field(default_factory=dict)
    specs: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    spec_ids: dict[Any, int] = field(default_factory=dict)
    ftables: dict[tuple[str, bool], int] = field(default_factory=dict)
    ftab_start: list[int] = field(default_factory=list)
    ftab_count: list[int] = field(default_factory=list)
    fent_name: list[int] = field(default_factory=list)
    fent_value: list[int] = field(default_factory=list)

    def string(self, text: str | bytes | None) -> int:
        if text is None:
            return 0xFFFFFFFF
        b = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
        ref = self.strings.get(b)
        if ref is None:
            if len(b) > 0xFFFF:
                raise ValueError("string too long for the C tables")
            ref = len(self.blob)
            self.blob += len(b).to_bytes(2, "little") + b
            self.strings[b] = ref
        return ref

    def flag_table(self, name: str, old: bool, enum: bool) -> int:
        key = (name, False if enum else old)
        tid = self.ftables.get(key)
        if tid is not None:
            return tid
        try:
            entries = TABLES[name] if enum else table_entries(name, sysdig029=old)
        except KeyError:
            raise Unsupported(f"flag table {name}") from None
        tid = len(self.ftab_start)
        self.ftab_start.append(len(self.fent_name))
        self.ftab_count.append(len(entries))
        for ename, value in entries:
            if not 0 <= value < 1 << 64:
                raise Unsupported(f"flag value {value}")
            self.fent_name.append(self.string(ename))
            self.fent_value.append(value)
        self.ftables[key] = tid
        return tid

    def spec(self, key: tuple[int, int, int, int, int, int]) -> int:
        sid = self.spec_ids.get(key)
        if sid is None:
            sid = len(self.specs)
            self.specs.append(key)
            self.spec_ids[key] = sid
        return sid


def _renderer_spec(b: _Builder, p: ParamInfo, fmt: int, old: bool, dirfd: int
                   ) -> tuple[int, int, int, int, int, int]:
    """render._renderer(p, fmt, old) as (kind, size, fmt, table, a, b)."""
    t = p.type
    if t in _SIZES:
        signed = t in (PT.INT8, PT.INT16, PT.INT32, PT.INT64)
        return (RK_SIGNED if signed else RK_UNSIGNED, _SIZES[t], int(fmt), -1, 0, 0)
    if t in (PT.FSPATH, PT.FSRELPATH):
        return (RK_PATH, 0, 0, -1, dirfd, 0)
    if t in _FLAG_SIZES:
        table = b.flag_table(p.info, old, t in _ENUMS) if isinstance(p.info, str) else -1
        return (RK_FLAGS, _FLAG_SIZES[t], 0, table, 2 if t in _ENUMS else 1, 0)
    if t == PT.MODE:
        table = b.flag_table(p.info, old, False) if isinstance(p.info, str) else -1
        return (RK_MODE, 4, int(fmt), table, 0, 0)
    if t in _SIMPLE:
        return (_SIMPLE[t], 0, 0, -1, 0, 0)
    if t in (PT.ABSTIME, PT.DYN):
        return (RK_CONST, 0, 0, -1, b.string(_INVALID_DYN), 0)
    return (RK_CONST, 0, 0, -1, b.string(_NA), 0)


def _param_spec(b: _Builder, info: EventInfo, i: int, old: bool) -> int:
    """The spec id of parameter ``i`` as render._plan builds its renderer."""
    p = info.params[i]
    if p.type == PT.DYN:
        alts = p.info if isinstance(p.info, tuple) else ()
        keys = [_renderer_spec(b, a, p.fmt, old, -1) for a in alts]
        dyn_key = ("dyn", tuple(keys))
        sid = b.spec_ids.get(dyn_key)
        if sid is None:
            first = len(b.specs)
            b.specs.extend(keys)  # contiguous: the DYN spec indexes them by selector
            sid = len(b.specs)
            b.specs.append((RK_DYN, 0, 0, -1, first, len(keys)))
            b.spec_ids[dyn_key] = sid
        return sid
    # render._base_dir: the dirfd parameter of an FSRELPATH, when declared as an FD
    dirfd = -1
    ref = p.info
    if p.type == PT.FSRELPATH and isinstance(ref, int) and not isinstance(ref, bool) \
            and ref < len(info.params) and info.params[ref].type == PT.FD:
        dirfd = ref
    return b.spec(_renderer_spec(b, p, p.fmt, old, dirfd))


def spec_of(b: _Builder, p: ParamInfo, old: bool = True) -> int:
    """Spec id of a bare parameter declaration (tests: renderers one by one)."""
    info = EventInfo(0, "TEST", "test", 0, 0, (p,))  # type: ignore[arg-type]
    return _param_spec(b, info, 0, old)


#: Handlers fastread.c implements, by the function the registry holds.
_C_HANDLERS = {
    HP.memory_exit: FK_MEMORY, HP.context_switch: FK_SWITCH, HN.transfer_exit: FK_TRANSFER,
    HF.close_enter: FK_CLOSE_E, HF.close_exit: FK_CLOSE_X, HN.socket_exit: FK_SOCKET_X,
    HN.sendto_enter: FK_SENDTO_E, HN.connect_enter: FK_CONNECT_E,
    HN.connect_exit: FK_CONNECT_X, HN.bind_exit: FK_BIND_X, HN.accept_exit: FK_ACCEPT_X,
    HN.getsockopt_exit: FK_GETSOCKOPT_X, HF.fcntl_enter: FK_FCNTL_E,
    HF.fcntl_exit: FK_FCNTL_X, HF.pipe_exit: FK_PIPE_X, HF.dup_exit: FK_DUP_X,
    HP.rlimit_exit: FK_RLIMIT_X, HP.procexit: FK_PROCEXIT, HP.clone_exit: FK_CLONE_X,
    HP.execve_exit: FK_EXECVE_X,
}
_OPEN_KINDS = {"SYSCALL_OPEN_X": FK_OPEN_X, "SYSCALL_CREAT_X": FK_CREAT_X,
               "SYSCALL_OPENAT_X": FK_OPENAT_X}


def _kind(code: int, handlers: tuple[Any, ...]) -> int:
    info = EVENTS[code]
    if code in CONTAINER_JSON:
        return FK_SLOW
    if not handlers:
        return FK_PLAIN
    if len(handlers) != 1:
        return FK_SLOW
    h = handlers[0]
    if h is HF.open_exit:
        return _OPEN_KINDS.get(info.symbol, FK_OPENAT2_X)
    if h is HP.rlimit_exit and info.name not in ("getrlimit", "setrlimit"):
        return FK_SLOW
    if h is HP.execve_exit and info.name != "execve":
        return FK_SLOW  # execveat resolves a dirfd: the Python engine's
    return _C_HANDLERS.get(h, FK_SLOW)


def _check_constants() -> None:
    """The numbers fastread.c has fixed must be the Python engine's."""
    from .state.engine import _TRACER_FLAGS, DF_STATE_ONLY, DF_TRACER, NO_EVENT
    from .state.fds import L4, OPEN_CLOEXEC
    from .state.syslog import SEVERITIES
    from .state.threads import NO_ID, CloneFlag

    fixed = {
        "fd types": ([FdType.UNKNOWN, FdType.DIRECTORY, FdType.IPV4_SOCK, FdType.IPV6_SOCK,
                      FdType.IPV4_SERVSOCK, FdType.IPV6_SERVSOCK, FdType.FIFO,
                      FdType.UNIX_SOCK, FdType.NETLINK, FdType.FILE_V2],
                     [0, 2, 3, 4, 5, 6, 7, 8, 15, 16]),
        "fd flags": ([FdFlag.ROLE_CLIENT, FdFlag.ROLE_SERVER, FdFlag.CLOSE_IN_PROGRESS,
                      FdFlag.CLOSE_CANCELED, FdFlag.IS_TRACER_FILE, FdFlag.IS_NOT_TRACER_FD,
                      FdFlag.SOCKET_CONNECTED, FdFlag.CONNECTION_PENDING,
                      FdFlag.CONNECTION_FAILED],
                     [4, 8, 16, 32, 128, 512, 1 << 13, 1 << 15, 1 << 16]),
        "l4": ([L4.UNKNOWN, L4.NA, L4.TCP, L4.UDP, L4.ICMP, L4.RAW], [0, 1, 2, 3, 4, 5]),
        "open flags": ([OPEN_CLOEXEC, OPEN_DIRECTORY], [1 << 12, 1 << 10]),
        "clone flags": ([CloneFlag.ACTIVE, CloneFlag.PIPE_SRC, CloneFlag.PIPE_DST,
                         CloneFlag.CLOSED, CloneFlag.CLONE_FILES, CloneFlag.CLONE_THREAD,
                         CloneFlag.CLONE_INVERTED, CloneFlag.NAME_CHANGED,
                         CloneFlag.CHILD_IN_PIDNS, CloneFlag.IS_MAIN_THREAD],
                        [1 << 19, 1 << 21, 1 << 22, 1 << 18, 1, 1 << 13, 1 << 16, 1 << 17,
                         1 << 29, 1 << 30]),
        "threads": ([HP.CLONE_STALE_TIME_NS, NO_ID, FdFlag.IS_CLONED],
                    [2_000_000_000, 0xFFFFFFFF, 1 << 14]),
        "event flags": ([EF.USES_FD, EF.READS_FROM_FD, FD_EVENT_FLAGS, EF.SKIPPARSERESET,
                         EF.MODIFIES_STATE], [4, 8, 7, 256, 32]),
        "engine": ([NO_EVENT, DF_STATE_ONLY, DF_TRACER, _TRACER_FLAGS, FdFlag.IS_NOT_TRACER_FD,
                    EF.WRITES_TO_FD],
                   [1 << 20, 1, 2, (1 << 7) | (1 << 8), 1 << 9, 16]),
        "net": ([HN.AF_NETLINK, HN.SOCK_STREAM, HN.SOCK_DGRAM, HN.SOCK_RAW, HN.SOCK_CLOEXEC,
                 HN.IPPROTO_IP, HN.IPPROTO_ICMP, HN.IPPROTO_TCP, HN.IPPROTO_UDP,
                 HN.IPPROTO_RAW, HN.EINPROGRESS],
                [16, 1, 2, 3, 0o2000000, 0, 1, 6, 17, 255, 115]),
        "fcntl, rlimit": ([HF.F_DUPFD, HF.F_DUPFD_CLOEXEC, HP.RLIMIT_NOFILE], [1, 26, 7]),

    }
    for what, (have, want) in fixed.items():
        if [int(x) for x in have] != want:
            raise RuntimeError(f"fastread.c's {what} differ from the Python engine's")
    if list(SEVERITIES) != ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]:
        raise RuntimeError("fastread.c's syslog severities differ from the Python engine's")


@lru_cache(maxsize=None)
def _param_index(code: int) -> tuple[int, ...]:
    """Per ARG_NAMES: the first current-table parameter of that name, or -1."""
    names: dict[str, int] = {}
    for i, p in enumerate(EVENTS[code].params):
        names.setdefault(p.name, i)
    return tuple(names.get(n, -1) for n in ARG_NAMES)


class CTables:
    """``struct fr_tables`` for one engine configuration, with the arrays behind it."""

    def __init__(self, ffi: Any, sysdig_compat: bool) -> None:
        _check_constants()
        self.ffi = ffi
        self._keep: list[Any] = []
        b = _Builder()
        self.builder = b
        handlers, stored = registry.dispatch_table(sysdig_compat=sysdig_compat)
        large, eflags, kinds, stored_a, internal, generic, special = [], [], [], [], [], [], []
        tname, plan_start, plan_count, plan_spec, plan_name = [], [], [], [], []
        cur_start, cur_count, cur_dec, argidx = [], [], [], []
        from .fields_evt import event_name

        for code in range(NUM_EVENTS):
            info = effective_info(code)
            large.append(int(LARGE_PAYLOAD[code]))
            flags = int(info.flags) if info is not None else 0
            eflags.append(flags & 0xFFFFFFFF)
            kind = _kind(code, handlers[code]) if info is not None else FK_SLOW
            stored_a.append(int(code in stored))
            internal.append(int(hidden_by_default(code)))
            generic.append(int(code in GENERIC_CODES))
            sp = 0
            if code in CLONE_EXITS:
                sp |= SP_CLONE_EXIT
            if code in CONTAINER_JSON:
                sp |= SP_CONTAINER
            if code == PROCINFO_E:
                sp |= SP_PROCINFO
            if code == SCHEDSWITCH_6_E:
                sp |= SP_SWITCH6
            if code == COPY_FILE_RANGE_X:
                sp |= SP_COPY_FILE_RANGE
            if EVENTS[code].symbol == "SYSCALL_OPENAT_2_X":
                sp |= SP_OPENAT_2
            if EVENTS[code].name == "dup3":
                sp |= SP_DUP3
            if code == WRITE_X:
                sp |= SP_WRITE_X
            if code in RW_EXITS:
                sp |= SP_RW_EXIT  # (a tracer write: the Python engine's)
            if code == WRITE_E:
                sp |= SP_WRITE_E
            if code in _CONTAINER_EVENTS:
                sp |= SP_CONTAINER_EV
            if code in SYSLOG_WRITES:
                sp |= SP_SYSLOG
            name = EVENTS[code].name
            reads = flags & int(EF.READS_FROM_FD)
            if (reads and name in HN._READ_TUPLES) or (not reads and name in HN._WRITE_TUPLES):
                sp |= SP_TUPLE
            special.append(sp)
            tname.append(b.string(event_name(code)))
            # the render plan (render._plan): sysdig 0.29.3's declaration, else ours
            old_info = sysdig_029_event_info(code)
            pinfo = old_info if old_info is not None else EVENTS[code]
            plan_start.append(len(plan_spec))
            try:
                specs = [_param_spec(b, pinfo, i, old_info is not None)
                         for i in range(len(pinfo.params))]
            except Unsupported:
                specs = None
                kind = FK_SLOW
            if specs is None or len(specs) > 254:
                plan_count.append(255)
            else:
                plan_count.append(len(specs))
                plan_spec.extend(specs)
                plan_name.extend(b.string(p.name) for p in pinfo.params)
            kinds.append(kind)
            cur_start.append(len(cur_dec))
            cur_count.append(len(EVENTS[code].params))
            cur_dec.extend(DECODE_KINDS.get(p.type, 0) for p in EVENTS[code].params)
            argidx.extend(_param_index(code))
        n_sc = len(SYSCALL_INFO)
        sc_name = [b.string(sysdig_029_syscall_name(sc) or "") for sc in range(n_sc)]
        sc_type = []
        for sc in range(max(n_sc, len(SYSCALL_NAMES))):
            nm = sysdig_029_syscall_name(sc)
            if nm is None and sc < len(SYSCALL_NAMES):
                nm = SYSCALL_NAMES[sc]
            sc_type.append(b.string(nm))
        errnos = [b.string(ERRNO_NAMES.get(k)) for k in range(max(ERRNO_NAMES) + 1)] \
            if ERRNO_NAMES else [0xFFFFFFFF]
        if any(k < 0 for k in ERRNO_NAMES) or any(k < 0 for k in SIGNAL_NAMES):
            raise RuntimeError("negative errno or signal numbers in the tables")
        signals = [b.string(SIGNAL_NAMES.get(k)) for k in range(max(SIGNAL_NAMES) + 1)] \
            if SIGNAL_NAMES else [0xFFFFFFFF]

        self.t = ffi.new("struct fr_tables *")
        self.saved: dict[str, tuple[str, bytes]] = {}
        self.scalars: dict[str, int] = {}
        self._scalar("num_events", NUM_EVENTS)
        self._scalar("tracer_e", TRACER_E)
        self._put("large", "uint8_t", large)
        self._put("eflags", "uint32_t", eflags)
        self._put("kind", "uint8_t", kinds)
        self._put("stored", "uint8_t", stored_a)
        self._put("internal", "uint8_t", internal)
        self._put("generic", "uint8_t", generic)
        self._put("special", "uint16_t", special)
        self._put("tname", "uint32_t", tname)
        self._put("plan_start", "uint32_t", plan_start)
        self._put("plan_count", "uint8_t", plan_count)
        self._put("plan_spec", "int32_t", plan_spec or [0])
        self._put("plan_name", "uint32_t", plan_name or [0])
        self._put("cur_start", "uint32_t", cur_start)
        self._put("cur_count", "uint8_t", cur_count)
        self._put("cur_dec", "uint8_t", cur_dec or [0])
        self._put("argidx", "int8_t", argidx)
        self.set_specs()
        self._put("ftab_start", "uint32_t", b.ftab_start or [0])
        self._put("ftab_count", "uint32_t", b.ftab_count or [0])
        self._put("fent_name", "uint32_t", b.fent_name or [0])
        self._put("fent_value", "uint64_t", b.fent_value or [0])
        self._scalar("num_syscalls", n_sc)
        self._put("sc_name", "uint32_t", sc_name or [0])
        self._scalar("num_sc_type", len(sc_type))
        self._put("sc_type", "uint32_t", sc_type or [0])
        self._scalar("num_errno", len(errnos))
        self._put("errno_name", "uint32_t", errnos)
        self._scalar("num_signal", len(signals))
        self._put("signal_name", "uint32_t", signals)
        self.set_blob()
        from scapkit.scapfile.reader import _v1_candidates

        trim = [1 if e.symbol in ("NOTIFICATION_E", "INFRASTRUCTURE_EVENT_E") else 0
                for e in EVENTS]
        cstart, ccount, cands = [], [], []
        for code in range(NUM_EVENTS):
            c = _v1_candidates(code)
            cstart.append(len(cands))
            ccount.append(len(c))
            cands.extend(c)
        self._put("v1_trim3", "uint8_t", trim)
        self._put("cand_start", "uint32_t", cstart)
        self._put("cand_count", "uint32_t", ccount)
        self._put("cands", "uint32_t", cands or [0])

    def _put(self, name: str, ctype: str, values: list[int] | bytes) -> None:
        """Publish array ``name`` (and keep its bytes for the cache)."""
        data = values if isinstance(values, bytes) else \
            array.array(_TYPECODES[ctype], values).tobytes()
        self._publish(name, ctype, data)
        self.saved[name] = (ctype, data)

    def _publish(self, name: str, ctype: str, data: bytes) -> None:
        ffi = self.ffi
        a = ffi.new(f"{ctype}[]", max(1, len(data) // ffi.sizeof(ctype)))
        ffi.memmove(a, data, len(data))
        self._keep.append(a)
        setattr(self.t, name, a)

    def _scalar(self, name: str, value: int) -> None:
        setattr(self.t, name, value)
        self.scalars[name] = value

    def set_specs(self) -> None:
        """Publish the spec array."""
        flat = [x for spec in self.builder.specs for x in spec]
        self._scalar("num_specs", len(self.builder.specs))
        self._put("specs", "struct fr_spec", array.array("i", flat).tobytes())

    def set_blob(self) -> None:
        self._put("blob", "uint8_t", bytes(self.builder.blob) or b"\0")

    @classmethod
    def load(cls, ffi: Any, saved: dict[str, Any]) -> CTables:
        """Tables from what :attr:`saved` and :attr:`scalars` held (see :func:`build`)."""
        self = cls.__new__(cls)
        self.ffi = ffi
        self._keep = []
        self.t = ffi.new("struct fr_tables *")
        self.saved, self.scalars = {}, {}
        for name, value in saved["scalars"].items():
            self._scalar(name, value)
        for name, (ctype, data) in saved["arrays"].items():
            self._put(name, ctype, data)
        return self


#: cffi element type -> array typecode (for the cache)
_TYPECODES = {"uint8_t": "B", "int8_t": "b", "uint16_t": "H", "uint32_t": "I", "int32_t": "i",
              "uint64_t": "Q"}
_CACHE_FORMAT = 1
_MEMBERS = ("large", "eflags", "kind", "stored", "internal", "generic", "special", "tname",
            "plan_start", "plan_count", "plan_spec", "plan_name", "cur_start", "cur_count",
            "cur_dec", "argidx", "specs", "ftab_start", "ftab_count", "fent_name",
            "fent_value", "sc_name", "sc_type", "errno_name", "signal_name", "blob",
            "v1_trim3", "cand_start", "cand_count", "cands")
_SCALARS = ("num_events", "tracer_e", "num_specs", "num_syscalls", "num_sc_type", "num_errno",
            "num_signal")


def _sources_key(sysdig_compat: bool) -> str:
    """What the tables are derived from: every source file of the scapfile and inspect
    packages (name, size, modification time), the interpreter, the setting."""
    from scapkit.scapfile import events as _events

    h = sha256(f"{_CACHE_FORMAT} {sysdig_compat} {sys.version}".encode())
    for root in (Path(__file__).parent, Path(_events.__file__).parent):
        stack = [root]
        while stack:
            d = stack.pop()
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda x: x.name)
            for ent in entries:
                if ent.is_dir(follow_symlinks=False):
                    if ent.name != "__pycache__":
                        stack.append(Path(ent.path))
                elif ent.name.endswith((".py", ".c", ".h")):
                    st = ent.stat()
                    h.update(f"{ent.path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()[:24]


def build(ffi: Any, sysdig_compat: bool) -> CTables:
    """The tables for an engine with this ``sysdig_compat`` setting: from the per-user
    cache when the sources they derive from are unchanged, else built (and cached)."""
    from scapkit.scapfile.cext import cache_dir

    try:
        path = cache_dir() / f"fasttables-{_sources_key(sysdig_compat)}.bin"
    except OSError:
        return CTables(ffi, sysdig_compat)
    try:
        saved = marshal.loads(path.read_bytes())
        if _plausible(saved):
            return CTables.load(ffi, saved)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        pass  # (absent or unreadable: built again)
    tables = CTables(ffi, sysdig_compat)
    _save(path, {"arrays": tables.saved, "scalars": tables.scalars})
    return tables


def _plausible(saved: Any) -> bool:
    """A cache file with every member, the per-event ones one entry per event."""
    if (type(saved) is not dict or set(saved.get("arrays", ())) != set(_MEMBERS)
            or set(saved.get("scalars", ())) != set(_SCALARS)):
        return False
    arrays, n = saved["arrays"], saved["scalars"]["num_events"]
    sizes = {"uint8_t": 1, "int8_t": 1, "uint16_t": 2, "uint32_t": 4, "int32_t": 4,
             "uint64_t": 8, "struct fr_spec": 24}
    per_event = {"large": 1, "eflags": 1, "kind": 1, "stored": 1, "internal": 1, "generic": 1,
                 "special": 1, "tname": 1, "plan_start": 1, "plan_count": 1, "cur_start": 1,
                 "cur_count": 1, "argidx": len(ARG_NAMES), "v1_trim3": 1, "cand_start": 1,
                 "cand_count": 1}
    for name, (ctype, data) in arrays.items():
        if type(data) is not bytes or ctype not in sizes or len(data) % sizes[ctype]:
            return False
        if name in per_event and len(data) != n * per_event[name] * sizes[ctype]:
            return False
    return (n == NUM_EVENTS
            and len(arrays["specs"][1]) == 24 * saved["scalars"]["num_specs"])


def _save(path: Path, saved: dict[str, Any]) -> None:
    """Write the cache file atomically; drop other versions (best effort)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps(saved))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return
    others = sorted(path.parent.glob("fasttables-*.bin"), key=lambda p: p.stat().st_mtime)
    for old in others[:-4]:  # (a few: other checkouts and settings)
        old.unlink(missing_ok=True)
