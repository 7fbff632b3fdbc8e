"""Event parameters as sysdig 0.29.3 prints them: ``evt.info``, ``evt.args``, ``evt.arg.*``.

Each parameter renders to two strings, the *value* and the *resolved* form; ``evt.args``
joins ``name=value`` or ``name=value(resolved)`` (when the resolved form is not empty),
each followed by one space. Names, types and print formats are those of sysdig 0.29.3's
event table (:func:`~scapkit.scapfile.event_table.sysdig_029_event_info`), and an event
shows ``min(table params, params in the file)`` of them. Generic syscall events show none.

Rules per type (libs e5c53d64, ``sinsp_evt::get_param_as_str``), reproduced byte for byte:

- integers follow their print format as C's printf would apply it to the C type: decimal
  is *signed* (a UINT32 above 2^31 and a UINT64 above 2^63 print negative), hex is ``%X``
  of the promoted value (an INT8 of -1 is ``FFFFFFFF``), octal is ``%#o``;
- FD: the number, resolved to ``<typechar[l4char]>name`` from the thread's fd table,
  ``AT_FDCWD`` for -100, an errno name for other negative values; nothing without a thread;
- ERRNO: the number, resolved to the errno name when negative; PID: resolved to the comm
  of that thread; UID/GID: resolved to the user or group name (``<NA>`` unknown, value
  ``-1`` and ``<NONE>`` for "none"); SIGTYPE, SYSCALLID: resolved to their names;
- FLAGS and MODE: the number, resolved to the flag names (sysdig 0.29.3's tables);
- RELTIME: the number, resolved to seconds (``%lgs``), or ``none`` for -1;
- FSPATH/FSRELPATH: the path without unprintable bytes, resolved against the working
  directory (or the directory fd) when relative;
- CHARBUF: the bytes up to the first NUL, as they are (no sanitising);
- BYTEBUF: the buffer in the session's buffer format (below);
- SOCKADDR/SOCKTUPLE: ``ip:port``, ``ip:port->ip:port``, unix paths, ``NULL``;
- FDLIST: ``fd:<typechar><flags in hex>`` separated by spaces; SIGSET: signal names.

Buffers (the "dot rule"): by default every byte that is not printable ASCII becomes
``.``; ``-A`` keeps printable bytes and line ends only, ``-x``/``-X`` give a hex dump
(``-X`` with ASCII), ``-b`` base64. In the default (screen) format, a rendered buffer
longer than the session's limit (80 for ``sysdig`` without ``-v``) is cut to the limit,
its last three characters replaced by ``...``; JSON output (``-j``) is never cut.

Rendered text keeps raw bytes as surrogate escapes (``surrogateescape``), so output
written with that error handler is byte-identical to sysdig's.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from scapkit.inspect.state.fds import NEWER_TYPES, L4, FdType, sockaddr_string, socktuple_string
from scapkit.inspect.state.paths import concatenate, sanitize, to_text
from scapkit.scapfile.event_table import (EVENTS, NUM_EVENTS, PF, PT, EventInfo, ParamInfo,
                                          sysdig_029_event_info)
from scapkit.scapfile.events import GENERIC_CODES
from scapkit.scapfile.flag_tables import (ERRNO_NAMES, SIGNAL_NAMES, render_enum,
                                          render_flags)
from scapkit.scapfile.syscall_names import SYSCALL_INFO, sysdig_029_syscall_name

if TYPE_CHECKING:
    from scapkit.inspect.state.engine import EventContext

__all__ = [
    "BUFFER_FORMATS", "RenderOptions", "DEFAULT_OPTIONS", "event_args", "arg_by_index",
    "arg_by_name", "param_strings", "render_buffer", "errno_name", "json_quote", "json_line",
]

#: Buffer formats: the screen ones (``-A``, ``-x``, ``-X``, ``-b`` or none) and their JSON
#: counterparts (what ``-j`` turns them into).
BUFFER_FORMATS = ("normal", "eols", "hex", "hexascii", "base64")


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How a session renders values (sysdig's inspector-wide settings).

    ``buffer_format``: one of :data:`BUFFER_FORMATS`. ``max_len``: the cut of rendered
    buffers in the screen format (0: none; ``sysdig`` uses 80 unless ``-v``). ``json``:
    JSON output (``-j``): buffers are never cut, fields give JSON values. ``time_format``:
    ``evt.outputtime`` per ``-t`` (``h`` time of day, ``a`` absolute, ``r`` relative to
    the first event, ``d`` latency, ``D`` delta from the previous shown event).
    ``filtering``: the values are for the filter (``evt.buffer`` gives the raw bytes).
    """

    buffer_format: str = "normal"
    max_len: int = 0
    json: bool = False
    time_format: str = "h"
    filtering: bool = False

    def for_filter(self) -> RenderOptions:
        return RenderOptions(self.buffer_format, self.max_len, self.json, self.time_format, True)


DEFAULT_OPTIONS = RenderOptions()

AT_FDCWD = -100
_PRINTABLE = bytes(range(0x20, 0x7F))
_DOTS = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
_L4_CHARS = {L4.TCP: "t", L4.UDP: "u", L4.ICMP: "i", L4.RAW: "r"}


# -- small helpers ---------------------------------------------------------------------------------


def errno_name(code: int) -> str:
    """sinsp's ``errno_to_str`` of a (negative) result, truncated to 32 bits as it is."""
    code &= 0xFFFFFFFF
    if code >= 1 << 31:
        code -= 1 << 32
    return ERRNO_NAMES.get(-code, "")


def _c_bytes(raw: bytes) -> bytes:
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def _int(raw: bytes, size: int, signed: bool) -> int:
    if len(raw) != size:
        raw = raw[:size].ljust(size, b"\0")
    return int.from_bytes(raw, "little", signed=signed)


def _number(value: int, size: int, fmt: PF) -> str:
    """``value`` (of a C type ``size`` bytes wide) through sysdig's SET_NUMERIC_FORMAT."""
    bits = 64 if size == 8 else 32
    mask = (1 << bits) - 1
    if fmt == PF.HEX:
        return f"{value & mask:X}"
    if fmt == PF.OCT:
        u = value & mask
        return f"0{u:o}" if u else "0"
    u = value & mask
    signed = u - (1 << bits) if u >> (bits - 1) else u
    if fmt == PF.PADDED_DEC:
        return f"{signed:09d}"
    return str(signed)


_UNPRINTABLE = bytes(b for b in range(256) if b < 0x20 or b > 0x7E)


def _strcpy_sanitized(raw: bytes) -> bytes:
    """sinsp's ``strcpy_sanitized`` into a buffer as large as the parameter."""
    s = _c_bytes(raw)
    kept = s.translate(None, _UNPRINTABLE)
    if len(s) == len(raw) and len(kept) == len(raw) and kept:
        kept = kept[:-1]  # no NUL fitted: the last byte made room for it
    return kept


def _typechar(ctx: EventContext, fd: Any) -> str:
    return fd_typechar(ctx.engine.sysdig_compat, fd)


def fd_typechar(sysdig_compat: bool, fd: Any) -> str:
    """``fd.typechar`` as parameters show it (``?`` for types newer than sysdig 0.29.3)."""
    if sysdig_compat and fd.type in NEWER_TYPES:
        return "?"
    return fd.typechar


def fd_text(sysdig_compat: bool, info: Any) -> str:
    """An FD parameter's resolved form: ``<typechar[l4char]>name``."""
    proto = ""
    if info.type in (FdType.IPV4_SOCK, FdType.IPV6_SOCK, FdType.IPV4_SERVSOCK,
                     FdType.IPV6_SERVSOCK):
        proto = _L4_CHARS.get(info.l4proto(), "")
    return f"<{fd_typechar(sysdig_compat, info)}{proto}>{sanitize(info.name)}"


# -- buffers ---------------------------------------------------------------------------------------


def _dots(raw: bytes) -> str:
    return raw.translate(_DOTS).decode("ascii")


def _eols(raw: bytes, leading: bool) -> str:
    out = bytearray(b"\n" if leading else b"")
    prev = -1
    for b in raw:
        if 0x20 <= b < 0x7F:
            out.append(b)
        elif b == 0x0D:
            out.append(0x0A)
        elif b == 0x0A and prev != -1 and prev != 0x0D:
            out.append(b)
        prev = b
    return out.decode("ascii")


def _hexdump(raw: bytes, ascii_column: bool) -> str:
    rows = []
    n = len(raw)
    for j in range(0, n, 16):
        row = [f"\n\t0x{j:04x}:"]
        chunks = 0
        p = j
        while chunks < 8 and p < n:
            if p == n - 1:
                row.append(f" {raw[p]:02x}")
            else:
                row.append(f" {raw[p]:02x}{raw[p + 1]:02x}")
            chunks += 1
            p += 2
        if ascii_column:
            row.append("     " * (8 - chunks))
            row.append("  ")
            row.append(_dots(raw[j:j + 16]))
        rows.append("".join(row))
    rows.append("\n")
    return "".join(rows)


def render_buffer(raw: bytes, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """A BYTEBUF parameter in the session's buffer format (with the screen cut)."""
    if not raw:
        return ""
    fmt = options.buffer_format
    if fmt == "hex" or fmt == "hexascii":
        return _hexdump(raw, fmt == "hexascii")
    if fmt == "base64":
        return base64.b64encode(raw).decode("ascii")
    if fmt == "eols":
        return _eols(raw, True)
    text = _dots(raw)
    limit = options.max_len
    if limit and not options.json and len(text) > limit:
        text = text[:limit - 3] + "..." if limit > 3 else text[:limit]
    return text


# -- one parameter --------------------------------------------------------------------------------

Renderer = Callable[["EventContext", int, bytes, RenderOptions], "tuple[str, str]"]

#: A renderer's value meaning "sinsp wrote nothing": the text of the parameter rendered
#: before (sinsp's reused buffer, kept in ``engine.paramstr``) shows instead.
_STALE = "\0stale"


def _r_signed(size: int, fmt: PF) -> Renderer:
    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        return _number(_int(raw, size, True), size, fmt), ""
    return r


def _r_unsigned(size: int, fmt: PF) -> Renderer:
    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        return _number(_int(raw, size, False), size, fmt), ""
    return r


def _r_errno(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    v = _int(raw, 8, True)
    return str(v), errno_name(v) if v < 0 else ""


def _r_fd(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    fd = _int(raw, 8, True) if len(raw) != 4 else _int(raw, 4, True)
    return str(fd), _fd_resolved(ctx, fd)


def _fd_resolved(ctx: EventContext, fd: int) -> str:
    thread = ctx.thread
    if thread is None:
        return ""
    if fd >= 0:
        info = ctx.engine.threads.get_fd(thread, fd)
        return "" if info is None else fd_text(ctx.engine.sysdig_compat, info)
    if fd == AT_FDCWD:
        return "AT_FDCWD"
    return errno_name(fd)


def _r_pid(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    pid = _int(raw, 8, True) if len(raw) != 4 else _int(raw, 4, True)
    t = ctx.engine.threads.get(pid)
    return str(pid), "" if t is None else t.comm


def _r_charbuf(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    return to_text(_c_bytes(raw)), ""


def _r_path(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    if not raw:
        return _STALE, ""  # sinsp copies nothing: its buffer keeps the previous text
    value = to_text(_strcpy_sanitized(raw))
    thread = ctx.thread
    if thread is None or not raw or raw.startswith(b"<NA>"):
        return value, ""
    base = _base_dir(ctx, i, thread)
    resolved, relative = concatenate(base, raw, limit=1 << 62)
    return value, resolved if relative else ""


def _base_dir(ctx: EventContext, i: int, thread: Any) -> str:
    cwd = ctx.engine.threads.cwd(thread)
    info = ctx.info
    p = info.params[i] if info is not None and i < len(info.params) else None
    if p is None or p.type != PT.FSRELPATH:
        return cwd
    ref = p.info
    if not isinstance(ref, int) or ref >= len(info.params) or info.params[ref].type != PT.FD:
        return cwd
    dirfd_raw = ctx.args.raw_at(ref)
    if dirfd_raw is None:
        return cwd
    dirfd = _int(dirfd_raw, 8, True)
    if dirfd == AT_FDCWD:
        return cwd
    fd = ctx.engine.threads.get_fd(thread, dirfd)
    if fd is None or not fd.name:
        return ""  # sysdig would ask /proc of the machine it runs on: nothing offline
    return sanitize(fd.name) + "/"


def _r_bytebuf(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    text = render_buffer(raw, o)
    ctx.engine.rawbuf_len = len(text)
    return text, ""


def _r_sockaddr(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    return sockaddr_string(raw), ""


def _r_socktuple(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    return socktuple_string(raw), ""


_FDLIST_ENTRY = struct.Struct("<qh")
#: sinsp's parameter string buffer (an FDLIST is cut to fit it).
_STORAGE = 1024


def _r_fdlist(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    thread = ctx.thread
    if thread is None:
        return _STALE, ""
    if len(raw) < 2:
        return "", ""
    n = _int(raw[:2], 2, False)
    parts = []
    pos = 2
    for _ in range(n):
        if pos + 10 > len(raw):
            break
        fd, flags = _FDLIST_ENTRY.unpack_from(raw, pos)
        info = ctx.engine.threads.get_fd(thread, fd)
        tch = "?" if info is None else _typechar(ctx, info)
        parts.append(f"{fd & 0xFFFFFFFFFFFFFFFF}:{tch}{flags & 0xFFFFFFFF:x}")
        pos += 10
    return " ".join(parts)[:_STORAGE - 1], ""


def _r_syscallid(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    sc = _int(raw, 2, False)
    if sc >= len(SYSCALL_INFO):
        return "<unknown syscall>", ""
    return str(sc), sysdig_029_syscall_name(sc) or ""


def _r_sigtype(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    sig = _int(raw, 1, False)
    return str(sig), SIGNAL_NAMES.get(sig, "")


def _r_reltime(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    v = _int(raw, 8, False)
    if v == 0xFFFFFFFFFFFFFFFF:
        return "none", ""
    return str(v), "%gs" % (v / 1e9)


def _r_flags(size: int, table: str | None, old: bool, enum: bool) -> Renderer:
    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        v = _int(raw, size, False)
        if table is None:
            return str(v), ""
        if enum:
            return str(v), render_enum(table, v)
        return str(v), render_flags(table, v, sysdig029=old)
    return r


def _r_mode(fmt: PF, table: str | None, old: bool) -> Renderer:
    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        v = _int(raw, 4, False)
        return _number(v, 4, fmt), "" if table is None else render_flags(table, v, sysdig029=old)
    return r


def _r_uid(group: bool) -> Renderer:
    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        v = _int(raw, 4, False)
        if v == 0xFFFFFFFF:
            return "-1", "<NONE>"
        entry = (ctx.engine.groups if group else ctx.engine.users).get(v)
        name = "<NA>" if entry is None else sanitize(entry.name)
        return _number(v, 4, PF.DEC), name
    return r


def _r_charbufarray(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    items = [to_text(x) for x in raw.split(b"\0")] if raw else []
    if items and items[-1] == "":
        items.pop()
    return ".".join(items), ""


def _r_pairs(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    items = [to_text(x) for x in raw.split(b"\0")] if raw else []
    if items and items[-1] == "":
        items.pop()
    return ",".join(f"{a}:{b}" for a, b in zip(items[::2], items[1::2])), ""


def _r_sigset(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
    v = _int(raw, 4, False)
    names = [SIGNAL_NAMES[s + 1] for s in range(32) if v >> s & 1 and s + 1 in SIGNAL_NAMES]
    return " ".join(names), ""


def _r_const(text: str) -> Renderer:
    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        return text, ""
    return r


_SIZES = {PT.INT8: 1, PT.INT16: 2, PT.INT32: 4, PT.INT64: 8, PT.UINT8: 1, PT.UINT16: 2,
          PT.UINT32: 4, PT.UINT64: 8}
_FLAG_SIZES = {PT.FLAGS8: 1, PT.FLAGS16: 2, PT.FLAGS32: 4, PT.ENUMFLAGS8: 1,
               PT.ENUMFLAGS16: 2, PT.ENUMFLAGS32: 4}


def _renderer(p: ParamInfo, fmt: PF, old: bool) -> Renderer:
    """The renderer of a parameter of type ``p.type`` printed with format ``fmt``."""
    t = p.type
    if t in (PT.INT8, PT.INT16, PT.INT32, PT.INT64):
        return _r_signed(_SIZES[t], fmt)
    if t in (PT.UINT8, PT.UINT16, PT.UINT32, PT.UINT64):
        return _r_unsigned(_SIZES[t], fmt)
    if t == PT.ERRNO:
        return _r_errno
    if t in (PT.FD, PT.FD32):
        return _r_fd
    if t in (PT.PID, PT.PID32):
        return _r_pid
    if t == PT.CHARBUF:
        return _r_charbuf
    if t in (PT.FSPATH, PT.FSRELPATH):
        return _r_path
    if t == PT.BYTEBUF:
        return _r_bytebuf
    if t == PT.SOCKADDR:
        return _r_sockaddr
    if t == PT.SOCKTUPLE:
        return _r_socktuple
    if t == PT.FDLIST:
        return _r_fdlist
    if t == PT.SYSCALLID:
        return _r_syscallid
    if t == PT.SIGTYPE:
        return _r_sigtype
    if t == PT.RELTIME:
        return _r_reltime
    if t in _FLAG_SIZES:
        table = p.info if isinstance(p.info, str) else None
        enum = t in (PT.ENUMFLAGS8, PT.ENUMFLAGS16, PT.ENUMFLAGS32)
        return _r_flags(_FLAG_SIZES[t], table, old, enum)
    if t == PT.MODE:
        return _r_mode(fmt, p.info if isinstance(p.info, str) else None, old)
    if t == PT.UID:
        return _r_uid(False)
    if t == PT.GID:
        return _r_uid(True)
    if t == PT.CHARBUFARRAY:
        return _r_charbufarray
    if t == PT.CHARBUF_PAIR_ARRAY:
        return _r_pairs
    if t == PT.SIGSET:
        return _r_sigset
    if t in (PT.ABSTIME, PT.DYN):
        return _r_const("INVALID DYNAMIC PARAMETER")
    return _r_const("(n.a.)")


def _dyn_renderer(p: ParamInfo, old: bool) -> Renderer:
    """A DYN parameter: the alternative chosen by its first byte, in the outer format."""
    alts = p.info if isinstance(p.info, tuple) else ()
    plans = [_renderer(a, p.fmt, old) for a in alts]
    invalid = _r_const("INVALID DYNAMIC PARAMETER")

    def r(ctx: EventContext, i: int, raw: bytes, o: RenderOptions) -> tuple[str, str]:
        if not raw or not plans or raw[0] >= len(plans):
            return invalid(ctx, i, raw, o)
        return plans[raw[0]](ctx, i, raw[1:], o)
    return r


@dataclass(frozen=True, slots=True)
class _Plan:
    names: tuple[str, ...]
    renderers: tuple[Renderer, ...]
    generic: bool


@lru_cache(maxsize=None)
def _plan(code: int) -> _Plan | None:
    old_info = sysdig_029_event_info(code)
    info: EventInfo | None = old_info if old_info is not None else (
        EVENTS[code] if code < NUM_EVENTS else None)
    if info is None:
        return None
    old = old_info is not None
    renderers = tuple(_dyn_renderer(p, old) if p.type == PT.DYN else _renderer(p, p.fmt, old)
                      for p in info.params)
    return _Plan(tuple(p.name for p in info.params), renderers, code in GENERIC_CODES)


def _raw_params(ctx: EventContext, count: int) -> list[bytes]:
    raws = ctx.args.raw_list()
    return raws if len(raws) <= count else raws[:count]


def param_strings(ctx: EventContext, i: int, options: RenderOptions = DEFAULT_OPTIONS
                  ) -> tuple[str, str] | None:
    """(value, resolved) of parameter ``i``, or None when the event has no such parameter."""
    plan = _plan(ctx.event.type)
    if plan is None or i < 0 or i >= len(plan.renderers) or i >= ctx.event.nparams:
        return None
    raw = ctx.args.raw_at(i)
    if raw is None:
        return None
    value, resolved = plan.renderers[i](ctx, i, raw, options)
    engine = ctx.engine
    if value is _STALE:
        value = engine.paramstr
    else:
        engine.paramstr = value
    return value, resolved


def event_args(ctx: EventContext, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """``evt.args`` (and ``evt.info``): every parameter as ``name=value[(resolved)] ``."""
    plan = _plan(ctx.event.type)
    if plan is None or plan.generic:
        return ""
    parts = []
    names, renderers = plan.names, plan.renderers
    engine = ctx.engine
    for i, raw in enumerate(_raw_params(ctx, len(renderers))):
        value, resolved = renderers[i](ctx, i, raw, options)
        if value is _STALE:
            value = engine.paramstr
        else:
            engine.paramstr = value
        if resolved:
            parts.append(f"{names[i]}={value}({resolved}) ")
        else:
            parts.append(f"{names[i]}={value} ")
    return "".join(parts)


def arg_by_index(ctx: EventContext, i: int, options: RenderOptions = DEFAULT_OPTIONS
                 ) -> str | None:
    """``evt.arg[N]``: the resolved form when there is one, else the value."""
    strs = param_strings(ctx, i, options)
    if strs is None:
        return None
    value, resolved = strs
    return resolved or value


def param_index(ctx: EventContext, name: str) -> int | None:
    """Index of the first parameter called ``name`` (sysdig 0.29.3's names)."""
    plan = _plan(ctx.event.type)
    if plan is None:
        return None
    n = min(len(plan.names), ctx.event.nparams)
    for i in range(n):
        if plan.names[i] == name:
            return i
    return None


def arg_by_name(ctx: EventContext, name: str, options: RenderOptions = DEFAULT_OPTIONS
                ) -> str | None:
    """``evt.arg.NAME``: like :func:`arg_by_index` for the parameter called ``NAME``."""
    i = param_index(ctx, name)
    return None if i is None else arg_by_index(ctx, i, options)


def param_info(ctx: EventContext, i: int) -> ParamInfo | None:
    """The declaration sysdig 0.29.3 uses for parameter ``i`` of this event."""
    code = ctx.event.type
    info = sysdig_029_event_info(code) or (EVENTS[code] if code < NUM_EVENTS else None)
    if info is None or i >= len(info.params):
        return None
    return info.params[i]


# -- JSON, the way jsoncpp 1.9 (sysdig 0.29.3's) writes it ----------------------------------------

_NEEDS_ESCAPE = re.compile(rb'[\x00-\x1f"\\\x80-\xff]')
_SHORT_ESCAPES = {0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n",
                  0x0D: "\\r", 0x09: "\\t"}


def _codepoint(b: bytes, i: int) -> tuple[int, int]:
    """jsoncpp's lenient UTF-8 reading: (code point, bytes used); 0xFFFD when invalid."""
    first = b[i]
    n = len(b) - i
    if first < 0x80:
        return first, 1
    if first < 0xE0:
        if n < 2:
            return 0xFFFD, 1
        cp = (first & 0x1F) << 6 | b[i + 1] & 0x3F
        return (0xFFFD if cp < 0x80 else cp), 2
    if first < 0xF0:
        if n < 3:
            return 0xFFFD, 1
        cp = (first & 0x0F) << 12 | (b[i + 1] & 0x3F) << 6 | b[i + 2] & 0x3F
        if 0xD800 <= cp <= 0xDFFF or cp < 0x800:
            return 0xFFFD, 3
        return cp, 3
    if first < 0xF8:
        if n < 4:
            return 0xFFFD, 1
        cp = ((first & 0x07) << 18 | (b[i + 1] & 0x3F) << 12 | (b[i + 2] & 0x3F) << 6
              | b[i + 3] & 0x3F)
        return (0xFFFD if cp < 0x10000 else cp), 4
    return 0xFFFD, 1


def json_quote(text: str) -> str:
    """A JSON string as jsoncpp's writer quotes a C string (stops at NUL; non-ASCII as
    ``\\uXXXX``, invalid UTF-8 as ``\\ufffd``, DEL kept as is)."""
    b = text.encode("utf-8", "surrogateescape")
    end = b.find(b"\0")
    if end >= 0:
        b = b[:end]
    if not _NEEDS_ESCAPE.search(b):
        return '"' + b.decode("ascii") + '"'
    out = ['"']
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        esc = _SHORT_ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
            i += 1
            continue
        if c < 0x20:
            out.append(f"\\u{c:04x}")
            i += 1
            continue
        if c < 0x80:
            out.append(chr(c))
            i += 1
            continue
        cp, used = _codepoint(b, i)
        i += used
        if cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10 & 0x3FF):04x}\\u{0xDC00 + (cp & 0x3FF):04x}")
    out.append('"')
    return "".join(out)


def _json_value(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = "%.17g" % v
        return s if any(c in s for c in ".eEn") else s + ".0"
    return json_quote(str(v))


def json_line(values: dict[str, Any]) -> str:
    """One object as jsoncpp's FastWriter writes it: keys sorted, no spaces."""
    return "{" + ",".join(f"{json_quote(k)}:{_json_value(values[k])}"
                          for k in sorted(values)) + "}"
