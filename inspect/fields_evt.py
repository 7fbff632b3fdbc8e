"""``evt.*`` fields (and ``syscall.type``): the event itself, its time, type and arguments.

Semantics of sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_gen_event`` and
``sinsp_filter_check_event``). Times are printed in the local time zone (sysdig's
``TZ`` rule: compare with ``TZ=UTC``); ``evt.time.iso8601`` is always UTC.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from scapkit.inspect.state.fds import FdType
from scapkit.inspect.state.paths import c_string, concatenate, to_text
from scapkit.scapfile.event_table import (EC, EF, EVENTS, NUM_EVENTS, PT,
                                          SUBCATEGORY_MASK, SYSDIG_029_NUM_EVENTS,
                                          sysdig_029_event_info)
from scapkit.scapfile.events import GENERIC_CODES
from scapkit.scapfile.syscall_names import SYSCALL_INFO, SYSCALL_NAMES, sysdig_029_syscall_name

from . import render as R
from .fields import bracket_arg, field, field_class
from .filter.ast import Compare
from .filter.errors import FilterCompileError
from .filter.values import parse_c_int
from .render import RenderOptions
from .state.syslog import syslog_message

if TYPE_CHECKING:
    from scapkit.inspect.state.engine import EventContext

NS = 1_000_000_000
_CODE = {e.symbol: e.code for e in EVENTS}
_INTERNAL = int(EC.INTERNAL)
_IO_BASE = 32
_CREATES_FD = int(EF.CREATES_FD)
_READS = int(EF.READS_FROM_FD)
_WRITES = int(EF.WRITES_TO_FD)
_WAITS = int(EF.WAITS)
_SKIPPARSERESET = int(EF.SKIPPARSERESET)
SCHEDSWITCH_6_E = _CODE["SCHEDSWITCH_6_E"]


# -- helpers --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tz_offset() -> int:
    """sinsp's ``gmt2local``: the local zone's offset (taken once), in seconds."""
    return time.localtime().tm_gmtoff


@lru_cache(maxsize=64)
def _clock(sec: int, date: bool) -> str:
    local = sec + _tz_offset()
    s = local % 86400
    out = ""
    if date:
        tm = time.gmtime(local - s)
        out = f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d} "
    return out + f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def time_of_day(ts: int, date: bool, ns: bool) -> str:
    """sinsp's ``ts_to_string``: ``[YYYY-MM-DD ]HH:MM:SS[.nnnnnnnnn]`` in local time."""
    sec, nsec = divmod(ts, NS)
    out = _clock(sec, date)
    return f"{out}.{nsec:09d}" if ns else out


def _iso8601(ts: int) -> str:
    sec, nsec = divmod(ts, NS)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{nsec:09d}+0000"


def _info_category(ctx: EventContext) -> int:
    """The event's category in sysdig 0.29.3's table (``get_info_category``)."""
    info = ctx.info
    return int(info.category) & SUBCATEGORY_MASK if info is not None else 0


def _is_internal(ctx: EventContext) -> bool:
    return bool(_info_category(ctx) & _INTERNAL)


def _generic_id(ctx: EventContext) -> int | None:
    raw = ctx.args.raw_at(0) if ctx.event.nparams else None
    if raw is None or len(raw) < 2:
        return None
    return int.from_bytes(raw[:2], "little")


@lru_cache(maxsize=None)
def event_name(code: int) -> str:
    """The name sysdig 0.29.3 gives an event code (ours for codes newer than it)."""
    info = sysdig_029_event_info(code)
    if info is not None:
        return info.name
    return EVENTS[code].name if code < NUM_EVENTS else f"unknown({code})"


def type_name(ctx: EventContext) -> str:
    code = ctx.event.type
    if code in GENERIC_CODES:
        sc = _generic_id(ctx)
        if sc is not None:
            name = sysdig_029_syscall_name(sc)
            if name is None and sc < len(SYSCALL_NAMES):
                name = SYSCALL_NAMES[sc]
            if name is not None:
                return name
    return event_name(code)


def _param_raw(ctx: EventContext, name: str) -> bytes | None:
    i = R.param_index(ctx, name)
    return None if i is None else ctx.args.raw_at(i)


def _int64(raw: bytes) -> int:
    return int.from_bytes(raw[:8].ljust(8, b"\0"), "little", signed=True)


def _result(ctx: EventContext) -> tuple[str, int] | None:
    """(parameter name, value) of the event's result: ``res``, or ``fd`` of an fd-creating
    exit."""
    raw = _param_raw(ctx, "res")
    if raw is not None:
        return "res", _int64(raw)
    if ctx.flags & _CREATES_FD and ctx.event.type & 1:
        raw = _param_raw(ctx, "fd")
        if raw is not None:
            return "fd", _int64(raw)
    return None


# -- evt: all events -------------------------------------------------------------------------------

field_class("evt", "evt", "All event types",
            "Fields of every event: its number and timestamps.")


@field("evt.num", "UINT64", "event number, counting every event of the capture", fmt="ID")
def evt_num(ctx: EventContext) -> int:
    return ctx.event.num


@field("evt.time", "CHARBUF", "event time of day, with nanoseconds (local time)", json="ts")
def evt_time(ctx: EventContext) -> str:
    return time_of_day(ctx.event.ts, False, True)


@field("evt.time.s", "CHARBUF", "event time of day, without nanoseconds", json="ts")
def evt_time_s(ctx: EventContext) -> str:
    return time_of_day(ctx.event.ts, False, False)


@field("evt.time.iso8601", "CHARBUF", "event timestamp in ISO 8601 (UTC), with nanoseconds",
       json="ts")
def evt_time_iso8601(ctx: EventContext) -> str:
    return _iso8601(ctx.event.ts)


@field("evt.datetime", "CHARBUF", "event date and time of day, with nanoseconds", json="ts")
def evt_datetime(ctx: EventContext) -> str:
    return time_of_day(ctx.event.ts, True, True)


@field("evt.datetime.s", "CHARBUF", "event date and time of day, without nanoseconds",
       json="ts")
def evt_datetime_s(ctx: EventContext) -> str:
    return time_of_day(ctx.event.ts, True, False)


@field("evt.rawtime", "ABSTIME", "event timestamp, nanoseconds since the epoch", fmt="DEC",
       json="number")
def evt_rawtime(ctx: EventContext) -> int:
    return ctx.event.ts


@field("evt.rawtime.s", "ABSTIME", "whole seconds of the event timestamp", fmt="DEC",
       json="number")
def evt_rawtime_s(ctx: EventContext) -> int:
    return ctx.event.ts // NS


@field("evt.rawtime.ns", "ABSTIME", "nanoseconds part of the event timestamp",
       fmt="PADDED_DEC", json="number")
def evt_rawtime_ns(ctx: EventContext) -> int:
    return ctx.event.ts % NS


@field("evt.reltime", "RELTIME", "nanoseconds since the first event of the capture",
       fmt="PADDED_DEC", json="number")
def evt_reltime(ctx: EventContext) -> int:
    return (ctx.event.ts - ctx.engine.first_ts) & 0xFFFFFFFFFFFFFFFF


@field("evt.reltime.s", "RELTIME", "whole seconds since the first event", fmt="DEC",
       json="number")
def evt_reltime_s(ctx: EventContext) -> int:
    return ((ctx.event.ts - ctx.engine.first_ts) & 0xFFFFFFFFFFFFFFFF) // NS


@field("evt.reltime.ns", "RELTIME", "nanoseconds part of the time since the first event",
       fmt="PADDED_DEC", json="number")
def evt_reltime_ns(ctx: EventContext) -> int:
    return ((ctx.event.ts - ctx.engine.first_ts) & 0xFFFFFFFFFFFFFFFF) % NS


@field("evt.pluginname", "CHARBUF", "for plugin events, the plugin's name (no plugins here)")
def evt_pluginname(ctx: EventContext) -> None:
    return None


@field("evt.plugininfo", "CHARBUF", "for plugin events, the plugin's summary (no plugins here)")
def evt_plugininfo(ctx: EventContext) -> None:
    return None


# -- evt: syscall events ---------------------------------------------------------------------------

field_class("evt.syscall", "evt", "Syscall events only",
            "Fields of the event's system call: type, direction, arguments, result. "
            "evt.arg.NAME (or evt.arg[N]) gives one argument, e.g. evt.arg.fd.")


def _latency(ctx: EventContext) -> int | None:
    if _is_internal(ctx):
        return None
    t = ctx.thread
    return 0 if t is None else t.latency


@field("evt.latency", "RELTIME", "time from the enter event to this exit event, in ns",
       fmt="DEC", json="number")
def evt_latency(ctx: EventContext) -> int | None:
    return _latency(ctx)


@field("evt.latency.s", "RELTIME", "whole seconds of evt.latency", fmt="DEC", json="number")
def evt_latency_s(ctx: EventContext) -> int | None:
    lat = _latency(ctx)
    return None if lat is None else lat // NS


@field("evt.latency.ns", "RELTIME", "nanoseconds part of evt.latency", fmt="PADDED_DEC",
       json="number")
def evt_latency_ns(ctx: EventContext) -> int | None:
    lat = _latency(ctx)
    return None if lat is None else lat % NS


#: sinsp's ``g_screen_w``, the width csysdig's views scale quantized times to; sysdig
#: never sets it.
_SCREEN_W = -1


def quantized(ns: int) -> int | None:
    """A duration (ns) as sinsp quantizes it: ``log10`` capped at 11, scaled to the screen
    width, plus 1. With sysdig's width of -1 that is 1 below 100 s and 0 from there (the
    C cast of a negative double to ``uint64`` takes the two's complement). None for 0."""
    if ns == 0:
        return None
    scaled = min(math.log10(float(ns)), 11.0) * _SCREEN_W / 11
    return (math.trunc(scaled) + 1) & _U64


@field("evt.latency.quantized", "UINT64", "evt.latency quantized for csysdig's views: "
       "log10 scaled to the screen width (1 below 100 s for sysdig)", fmt="DEC", hidden=True)
def evt_latency_quantized(ctx: EventContext) -> int | None:
    if ctx.thread is None or _is_internal(ctx):
        return None
    return quantized(ctx.thread.latency)


def human_time(val: int) -> str:
    """A duration as sysdig's ``format_time`` shows it (``1.59us``, ``12ms``, ``1:05``)."""
    if val >= 3600 * NS:
        hours = val // (3600 * NS) % (1 << 32)
        return f"{hours:02d}:{val // (60 * NS) % 60:02d}:{val // NS % 60:02d}"
    if val >= 60 * NS:
        return f"{val // (60 * NS)}:{val // NS % 60}"
    if val >= NS:
        return f"{val // NS}.{val % NS // 10_000_000:02d}s"
    if val >= NS // 100:
        return f"{val // 1_000_000}ms"
    if val >= NS // 1000:
        return f"{val // 1_000_000}.{val % 1_000_000 // 10_000:02d}ms"
    if val >= NS // 100_000:
        return f"{val // 1000}us"
    if val >= NS // 1_000_000:
        return f"{val // 1000}.{val % 1000 // 10:02d}us"
    return f"{val}ns"


@field("evt.latency.human", "CHARBUF", "evt.latency as text, e.g. 10.3ms")
def evt_latency_human(ctx: EventContext) -> str | None:
    lat = _latency(ctx)
    if lat is None:
        return None
    return human_time(lat) if ctx.thread is not None else ""


def _delta(part: str) -> Callable[[str | None, RenderOptions], Callable[[Any], int]]:
    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], int]:
        last = [0]

        def extract(ctx: EventContext) -> int:
            ts = ctx.event.ts
            if last[0] == 0:
                last[0] = ts
                return 0
            delta = ts - last[0]
            last[0] = ts
            if part == "s":
                return delta // NS
            if part == "ns":
                return delta % NS
            return delta
        return extract
    return make


field("evt.deltatime", "RELTIME", "time since the previous event shown, in ns", fmt="DEC",
      json="twice", maker=True)(_delta(""))
field("evt.deltatime.s", "RELTIME", "whole seconds of evt.deltatime", fmt="DEC",
      json="twice", maker=True)(_delta("s"))
field("evt.deltatime.ns", "RELTIME", "nanoseconds part of evt.deltatime", fmt="PADDED_DEC",
      json="twice", maker=True)(_delta("ns"))


@field("evt.outputtime", "CHARBUF", "the event time as chosen with -t (default: evt.time)",
       json="ts", maker=True)
def evt_outputtime(arg: str | None, options: RenderOptions) -> Callable[[Any], str]:
    mode = options.time_format
    if mode == "a":
        return lambda ctx: f"{ctx.event.ts // NS}.{ctx.event.ts % NS}"
    if mode == "r":
        def relative(ctx: EventContext) -> str:
            d = (ctx.event.ts - ctx.engine.first_ts) & 0xFFFFFFFFFFFFFFFF
            return f"{d // NS}.{d % NS:09d}"
        return relative
    if mode == "d":
        def latency(ctx: EventContext) -> str:
            t = ctx.thread
            if t is None:
                return "0.000000000"
            return f"{t.latency // NS}.{t.latency % NS:09d}"
        return latency
    if mode == "D":
        last = [0]

        def delta(ctx: EventContext) -> str:
            ts = ctx.event.ts
            if last[0] == 0:
                last[0] = ts
            d = ts - last[0]
            last[0] = ts
            return f"{d // NS}.{d % NS:09d}"
        return delta
    return evt_time


@field("evt.dir", "CHARBUF", "event direction: '>' for enter events, '<' for exit events",
       fmt="DIR")
def evt_dir(ctx: EventContext) -> str:
    return "<" if ctx.event.type & 1 else ">"


@field("evt.type", "CHARBUF", "event name; for generic syscall events, the syscall's name")
def evt_type(ctx: EventContext) -> str:
    return type_name(ctx)


def _type_is_arg(text: str) -> tuple[str, int] | None:
    """sysdig reads the rest of the text as the argument: a number or an event name; when
    it is neither (more text follows in a -p format), the field takes no text at all."""
    if not text.startswith("."):
        return None
    rest = text[1:]
    if rest.isdigit() or _first_code_named(rest) is not None:
        return rest, len(text)
    return None


@lru_cache(maxsize=None)
def _first_code_named(name: str) -> int | None:
    for code in range(SYSDIG_029_NUM_EVENTS):
        if event_name(code) == name:
            return code
    return None


@field("evt.type.is", "UINT32", "1 for events of the type given as argument "
       "(evt.type.is.open), else 0", arg="required", parse_arg=_type_is_arg, maker=True,
       lenient=True)
def evt_type_is(arg: str | None, options: RenderOptions) -> Callable[[Any], int]:
    assert arg is not None
    if arg.isdigit():
        codes = {int(arg)}
    else:
        code = _first_code_named(arg)
        if code is None:
            raise ValueError(f"unknown event type {arg}")
        codes = {code, code + 1}
    return lambda ctx: 1 if ctx.event.type in codes else 0


@field("syscall.type", "CHARBUF", "for system call events, the syscall's name "
       "(no value for scheduler switches and internal events)")
def syscall_type(ctx: EventContext) -> str | None:
    code = ctx.event.type
    # sysdig tests the event flags for the INTERNAL category bit, which is SKIPPARSERESET.
    if code == SCHEDSWITCH_6_E or ctx.flags & _SKIPPARSERESET:
        return None
    return type_name(ctx)


_CATEGORY_NAMES = {
    int(EC.UNKNOWN): "unknown", int(EC.OTHER): "other", int(EC.FILE): "file",
    int(EC.NET): "net", int(EC.IPC): "IPC", int(EC.MEMORY): "memory",
    int(EC.PROCESS): "process", int(EC.SLEEP): "sleep", int(EC.SYSTEM): "system",
    int(EC.SIGNAL): "signal", int(EC.USER): "user", int(EC.TIME): "time",
    int(EC.PROCESSING): "processing", int(EC.WAIT): "wait", int(EC.SCHEDULER): "scheduler",
}
_IO_SUBCATEGORY = {
    FdType.FILE: "file", FdType.FILE_V2: "file", FdType.DIRECTORY: "file",
    FdType.IPV4_SOCK: "net", FdType.IPV6_SOCK: "net", FdType.IPV4_SERVSOCK: "net",
    FdType.IPV6_SERVSOCK: "net", FdType.FIFO: "ipc", FdType.UNIX_SOCK: "ipc",
    FdType.EVENT: "ipc", FdType.SIGNALFD: "ipc", FdType.INOTIFY: "ipc",
}


@field("evt.category", "CHARBUF", "event category: file, net, memory, process, IPC...; "
       "for I/O events, from the fd: file, net, ipc")
def evt_category(ctx: EventContext) -> str:
    code = ctx.event.type
    if code in GENERIC_CODES:
        sc = _generic_id(ctx)
        cat = int(SYSCALL_INFO[sc].category) & SUBCATEGORY_MASK if (
            sc is not None and sc < len(SYSCALL_INFO)) else 0
        return _CATEGORY_NAMES.get(cat, "unknown")
    cat = _info_category(ctx)
    if cat in (int(EC.IO_READ), int(EC.IO_WRITE), int(EC.IO_OTHER)):
        fd = ctx.evt_fd
        if fd is None:
            return "unknown"
        return _IO_SUBCATEGORY.get(fd.type, "unknown")
    return _CATEGORY_NAMES.get(cat, "unknown")


@field("evt.cpu", "INT16", "number of the CPU where the event happened", fmt="ID")
def evt_cpu(ctx: EventContext) -> int:
    return ctx.event.cpu


@field("evt.args", "CHARBUF", "all the event's arguments as one string", maker=True)
def evt_args(arg: str | None, options: RenderOptions) -> Callable[[Any], str]:
    return lambda ctx: R.event_args(ctx, options)


@lru_cache(maxsize=1)
def _param_names() -> dict[str, Any]:
    """Every parameter name of sysdig 0.29.3's table -> its first declaration."""
    out: dict[str, Any] = {}
    for code in range(SYSDIG_029_NUM_EVENTS):
        info = sysdig_029_event_info(code)
        assert info is not None
        for p in info.params:
            out.setdefault(p.name, p)
    return out


def _longest_param(text: str) -> str | None:
    best = None
    for name in _param_names():
        if text.startswith(name) and (best is None or len(name) > len(best)):
            best = name
    return best


def _param_arg(text: str) -> tuple[str, int] | None:
    """``[N]`` or ``.NAME`` (the longest parameter name of the event table)."""
    if text.startswith("["):
        return bracket_arg(text)
    if text.startswith("."):
        name = _longest_param(text[1:])
        if name is not None:
            return name, len(name) + 1
    return None


def _name_arg(text: str) -> tuple[str, int] | None:
    if text.startswith("."):
        name = _longest_param(text[1:])
        if name is not None:
            return name, len(name) + 1
    return None


def _index(arg: str) -> int | None:
    s = arg.strip()
    try:
        return int(s)
    except ValueError:
        return None


@field("evt.arg", "CHARBUF", "one argument, by name (evt.arg.fd) or number (evt.arg[0]), "
       "resolved when possible (fd names, errno names...)", arg="required",
       parse_arg=_param_arg, maker=True)
def evt_arg(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
    assert arg is not None
    if arg[:1].isdigit() or arg[:1] == "-":
        i = _index(arg)
        if i is None:
            raise ValueError(f"bad argument number {arg}")
        if i < 0:
            return lambda ctx: None
        return lambda ctx: R.arg_by_index(ctx, i, options)
    name = _longest_param(arg)
    if name is None or name != arg:
        raise ValueError(f"unknown event argument {arg}")
    return lambda ctx: R.arg_by_name(ctx, name, options)


_RAW_SIGNED = {PT.INT8: 1, PT.INT16: 2, PT.INT32: 4, PT.INT64: 8, PT.ERRNO: 8, PT.FD: 8,
               PT.PID: 8}
_RAW_UNSIGNED = {PT.UINT8: 1, PT.UINT16: 2, PT.UINT32: 4, PT.UINT64: 8, PT.FLAGS8: 1,
                 PT.FLAGS16: 2, PT.FLAGS32: 4, PT.MODE: 4, PT.UID: 4, PT.GID: 4,
                 PT.SYSCALLID: 2, PT.SIGTYPE: 1, PT.RELTIME: 8, PT.ABSTIME: 8, PT.PORT: 2,
                 PT.L4PROTO: 1, PT.SOCKFAMILY: 1, PT.BOOL: 4, PT.SIGSET: 4}


def _raw_decoder(ptype: PT) -> Callable[[bytes], Any]:
    if ptype in _RAW_SIGNED:
        size = _RAW_SIGNED[ptype]
        return lambda raw: int.from_bytes(raw[:size].ljust(size, b"\0"), "little", signed=True)
    if ptype in _RAW_UNSIGNED:
        size = _RAW_UNSIGNED[ptype]
        return lambda raw: int.from_bytes(raw[:size].ljust(size, b"\0"), "little")
    if ptype in (PT.CHARBUF, PT.FSPATH, PT.FSRELPATH):
        return lambda raw: to_text(raw.split(b"\0", 1)[0])
    if ptype == PT.BYTEBUF:
        return bytes
    return lambda raw: None


@field("evt.rawarg", "DYN", "one argument by name (evt.rawarg.fd), as a number or string "
       "of the argument's type", arg="required", parse_arg=_name_arg, maker=True)
def evt_rawarg(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    assert arg is not None
    name = _longest_param(arg)
    if name is None or name != arg:
        raise ValueError(f"unknown event argument {arg}")
    declared = _param_names()[name]
    decode = _raw_decoder(declared.type)

    def extract(ctx: EventContext) -> Any:
        raw = _param_raw(ctx, name)
        return None if raw is None else decode(raw)

    extract.field_type = declared.type.name  # type: ignore[attr-defined]
    return extract


@field("evt.info", "CHARBUF", "the event's arguments as one string (as evt.args); for a "
       "message written to /dev/log, the decoded message: syslog sev=SEVERITY msg=TEXT",
       maker=True)
def evt_info(arg: str | None, options: RenderOptions) -> Callable[[Any], str]:
    def extract(ctx: EventContext) -> str:
        msg = syslog_message(ctx)
        if msg is not None:
            return msg.info_line()
        return R.event_args(ctx, options)
    return extract


@field("evt.buffer", "BYTEBUF", "the data buffer of I/O events (read, recvfrom...); "
       "filters compare its raw bytes", maker=True)
def evt_buffer(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    if options.filtering:
        return lambda ctx: _param_raw(ctx, "data")

    def rendered(ctx: EventContext) -> str | None:
        i = R.param_index(ctx, "data")
        strs = None if i is None else R.param_strings(ctx, i, options)
        if strs is None:
            return None
        # sysdig cuts the text to the length of the last buffer it rendered (which is
        # this one, unless "data" is not a buffer).
        value, length = strs[0], ctx.engine.rawbuf_len
        return value[:length] if length < len(value) else value
    return rendered


@field("evt.buflen", "UINT64", "the length of the data buffer of I/O events", fmt="DEC")
def evt_buflen(ctx: EventContext) -> int | None:
    if ctx.evt_fd is None or not _info_category(ctx) & _IO_BASE or not ctx.event.type & 1:
        return None
    raw = ctx.args.raw_at(0) if ctx.event.nparams else None
    if raw is None:
        return None
    res = _int64(raw)
    return res if res >= 0 else None


@field("evt.res", "CHARBUF", "the result: SUCCESS, or the error name (e.g. ENOENT)",
       fmt="DEC")
def evt_res(ctx: EventContext) -> str | None:
    found = _result(ctx)
    if found is None:
        return None
    name, res = found
    if res >= 0:
        return "SUCCESS"
    i = R.param_index(ctx, name)
    strs = None if i is None else R.param_strings(ctx, i)
    if strs is None:
        return None
    return strs[1] or strs[0]


@field("evt.rawres", "INT64", "the result as a number (e.g. -2)", fmt="DEC")
def evt_rawres(ctx: EventContext) -> int | None:
    found = _result(ctx)
    return None if found is None else found[1]


@field("evt.failed", "BOOL", "true for events that returned an error")
def evt_failed(ctx: EventContext) -> bool:
    found = _result(ctx)
    return found is not None and found[1] < 0


@field("evt.is_io", "BOOL", "true for events that read or write an fd")
def evt_is_io(ctx: EventContext) -> bool:
    return bool(ctx.flags & (_READS | _WRITES))


@field("evt.is_io_read", "BOOL", "true for events that read from an fd")
def evt_is_io_read(ctx: EventContext) -> bool:
    return bool(ctx.flags & _READS)


@field("evt.is_io_write", "BOOL", "true for events that write to an fd")
def evt_is_io_write(ctx: EventContext) -> bool:
    return bool(ctx.flags & _WRITES)


@field("evt.io_dir", "CHARBUF", "'read' or 'write' for I/O events")
def evt_io_dir(ctx: EventContext) -> str | None:
    if ctx.flags & _WRITES:
        return "write"
    if ctx.flags & _READS:
        return "read"
    return None


@field("evt.is_wait", "BOOL", "true for events that make the thread wait (sleep, poll...)")
def evt_is_wait(ctx: EventContext) -> bool:
    return bool(ctx.flags & _WAITS)


@field("evt.wait_latency", "RELTIME", "for exits of waiting events, the time waited (ns)",
       fmt="DEC")
def evt_wait_latency(ctx: EventContext) -> int | None:
    if ctx.flags & _WAITS and ctx.event.type & 1:
        t = ctx.thread
        return 0 if t is None else t.latency
    return None


@field("evt.is_syslog", "BOOL", "true for writes to /dev/log")
def evt_is_syslog(ctx: EventContext) -> bool:
    fd = ctx.evt_fd
    return bool(ctx.flags & _WRITES and fd is not None and "/dev/log" in fd.name)


@field("evt.count", "UINT32", "1 for every event (to count events)", fmt="DEC")
def evt_count(ctx: EventContext) -> int:
    return 1


def _error_count(ctx: EventContext) -> int | None:
    raw = _param_raw(ctx, "res")
    if raw is not None:
        return 1 if _int64(raw) < 0 else None
    if ctx.flags & _CREATES_FD and ctx.event.type & 1:
        raw = _param_raw(ctx, "fd")
        if raw is not None and _int64(raw) < 0:
            return 1
    return None


_FILE_FDS = frozenset({FdType.FILE, FdType.FILE_V2, FdType.DIRECTORY})
_NET_FDS = frozenset({FdType.IPV4_SOCK, FdType.IPV6_SOCK, FdType.IPV4_SERVSOCK,
                      FdType.IPV6_SERVSOCK, FdType.UNIX_SOCK})
_OPEN_EXITS = frozenset(_CODE[s] for s in (
    "SYSCALL_OPEN_X", "SYSCALL_CREAT_X", "SYSCALL_OPENAT_X", "SYSCALL_OPENAT_2_X",
    "SYSCALL_OPENAT2_X"))
_NET_EXITS = frozenset(_CODE[s] for s in (
    "SOCKET_ACCEPT_X", "SOCKET_ACCEPT_5_X", "SOCKET_ACCEPT4_X", "SOCKET_ACCEPT4_5_X",
    "SOCKET_CONNECT_X"))
_MEMORY = int(EC.MEMORY)


@field("evt.count.error", "UINT32", "1 for events that returned an error", fmt="DEC")
def evt_count_error(ctx: EventContext) -> int | None:
    return _error_count(ctx)


@field("evt.count.error.file", "UINT32", "1 for file events that returned an error",
       fmt="DEC")
def evt_count_error_file(ctx: EventContext) -> int | None:
    fd = ctx.evt_fd
    if fd is not None:
        return _error_count(ctx) if fd.type in _FILE_FDS else None
    return _error_count(ctx) if ctx.event.type in _OPEN_EXITS else None


@field("evt.count.error.net", "UINT32", "1 for network events that returned an error",
       fmt="DEC")
def evt_count_error_net(ctx: EventContext) -> int | None:
    fd = ctx.evt_fd
    if fd is not None:
        return _error_count(ctx) if fd.type in _NET_FDS else None
    return _error_count(ctx) if ctx.event.type in _NET_EXITS else None


@field("evt.count.error.memory", "UINT32", "1 for memory events that returned an error",
       fmt="DEC")
def evt_count_error_memory(ctx: EventContext) -> int | None:
    return _error_count(ctx) if _info_category(ctx) == _MEMORY else None


@field("evt.count.error.other", "UINT32", "1 for other events that returned an error",
       fmt="DEC")
def evt_count_error_other(ctx: EventContext) -> int | None:
    fd = ctx.evt_fd
    if fd is not None:
        return None if fd.type in _FILE_FDS or fd.type in _NET_FDS else _error_count(ctx)
    code = ctx.event.type
    if code in _OPEN_EXITS or code in _NET_EXITS or _info_category(ctx) == _MEMORY:
        return None
    return _error_count(ctx)


@field("evt.count.exit", "UINT32", "1 for exit events", fmt="DEC")
def evt_count_exit(ctx: EventContext) -> int | None:
    return 1 if ctx.event.type & 1 else None


_PROCINFO_E = _CODE["PROCINFO_E"]


@field("evt.count.procinfo", "UINT32", "1 for procinfo events of main threads (to count "
       "processes)", fmt="DEC", hidden=True)
def evt_count_procinfo(ctx: EventContext) -> int | None:
    t = ctx.thread
    return 1 if ctx.event.type == _PROCINFO_E and t is not None and t.is_main_thread else None


@field("evt.count.threadinfo", "UINT32", "1 for procinfo events (to count threads)",
       fmt="DEC", hidden=True)
def evt_count_threadinfo(ctx: EventContext) -> int | None:
    return 1 if ctx.event.type == _PROCINFO_E else None


_U64 = (1 << 64) - 1


def _around(center: int, deltas: list[int]) -> Callable[[Any], bool]:
    """True for events at most one of ``deltas`` (ns) away from ``center``, with sinsp's
    unsigned 64-bit arithmetic (a window reaching past 0 or 2^64 wraps)."""

    def accept(ctx: EventContext) -> bool:
        ts = ctx.event.ts
        for d in deltas:
            if (ts - d) & _U64 <= center <= (ts + d) & _U64:
                return True
        return False
    return accept


@field("evt.around", "UINT64", "(filters) evt.around[T]=D keeps the events at most D "
       "milliseconds before or after time T (an evt.rawtime), e.g. "
       "evt.around[1404996934793590564]=1000; in -p formats it has no value", fmt="DEC",
       arg="required", parse_arg=bracket_arg, arg_syntax="bracket", maker=True)
def evt_around(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    """A stateless window test: no event is held back, whatever D is. sysdig's oddities
    are kept: ``exists`` keeps the events at exactly T; ``in (D1, D2...)`` compares each
    D with a T of 0 (its copies of the check lose the argument)."""
    assert arg is not None
    center = parse_c_int(arg, False, 64)  # ValueError: "X is not a valid number"

    def predicate(node: Compare) -> Callable[[Any], bool]:
        op, op_pos = ("=" if node.op == "==" else node.op), node.op_pos
        values = node.values if node.values is not None else (
            () if node.value is None else (node.value,))
        if op == "pmatch":
            raise FilterCompileError("pmatch requires all charbuf arguments", op_pos)
        if op not in ("=", "exists", "in", "intersects"):
            raise FilterCompileError("evt.around supports only '=' comparison operator",
                                     op_pos)
        deltas = []
        for v in values:
            try:
                deltas.append(parse_c_int(v.text, False, 64) * 1_000_000 & _U64)
            except ValueError as exc:
                raise FilterCompileError(str(exc), v.pos) from None
        if op == "exists":
            return _around(center, [0])
        return _around(0 if op in ("in", "intersects") else center, deltas)

    def extract(ctx: EventContext) -> None:
        return None  # (sysdig prints it, always without value)

    extract.predicate = predicate  # type: ignore[attr-defined]
    return extract


_ABSPATH_ARGS: dict[int, dict[str, tuple[str, str]]] = {}
for _sym, _src, _dst in (
        ("SYSCALL_RENAMEAT_X", ("olddirfd", "oldpath"), ("newdirfd", "newpath")),
        ("SYSCALL_RENAMEAT2_X", ("olddirfd", "oldpath"), ("newdirfd", "newpath")),
        ("SYSCALL_SYMLINKAT_X", ("linkdirfd", "linkpath"), ("linkdirfd", "linkpath")),
        ("SYSCALL_OPENAT_E", ("dirfd", "name"), ("dirfd", "name")),
        ("SYSCALL_OPENAT_2_X", ("dirfd", "name"), ("dirfd", "name")),
        ("SYSCALL_OPENAT2_X", ("dirfd", "name"), ("dirfd", "name")),
        ("SYSCALL_LINKAT_E", ("olddir", "oldpath"), ("newdir", "newpath")),
        ("SYSCALL_LINKAT_2_X", ("olddir", "oldpath"), ("newdir", "newpath")),
        ("SYSCALL_UNLINKAT_E", ("dirfd", "name"), ("dirfd", "name")),
        ("SYSCALL_UNLINKAT_2_X", ("dirfd", "name"), ("dirfd", "name")),
        ("SYSCALL_MKDIRAT_X", ("dirfd", "path"), ("dirfd", "path")),
        ("SYSCALL_FCHMODAT_X", ("dirfd", "filename"), ("dirfd", "filename"))):
    _ABSPATH_ARGS[_CODE[_sym]] = {"": _src, "src": _src, "dst": _dst}


def _abspath_arg(text: str) -> tuple[str, int] | None:
    for word in ("src", "dst"):
        if text.startswith("." + word):
            return word, 4
    return None


@field("evt.abspath", "CHARBUF", "absolute path from dirfd and name of *at syscalls "
       "(evt.abspath.src, evt.abspath.dst for renameat and linkat)", arg="optional",
       parse_arg=_abspath_arg, maker=True)
def evt_abspath(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
    which = arg or ""
    if which not in ("", "src", "dst"):
        raise ValueError(f"unknown evt.abspath argument {arg}")

    def extract(ctx: EventContext) -> str | None:
        thread = ctx.thread
        names = _ABSPATH_ARGS.get(ctx.event.type)
        if thread is None or names is None:
            return None
        dirfd_name, path_name = names[which]
        dirfd_raw, path = _param_raw(ctx, dirfd_name), _param_raw(ctx, path_name)
        if dirfd_raw is None or path is None:
            return None
        dirfd = _int64(dirfd_raw)
        if path[:1] == b"/":
            base = "."
        elif dirfd == R.AT_FDCWD:
            base = ctx.engine.threads.cwd(thread)
        else:
            fd = ctx.engine.threads.get_fd(thread, dirfd)
            ctx.evt_fd = fd  # sinsp makes the dirfd the event's fd here
            if fd is not None:
                ctx.fd = fd
            base = "<UNKNOWN>/" if fd is None else fd.name + "/"
        resolved, _ = concatenate(base, path, limit=1024)
        return resolved
    return extract


# -- evt.buflen by direction and kind of fd --------------------------------------------------

_IO_READ, _IO_WRITE = int(EC.IO_READ), int(EC.IO_WRITE)
_BUFLEN_FILE_FDS = frozenset({FdType.FILE, FdType.FILE_V2})
_BUFLEN_NET_FDS = frozenset({FdType.IPV4_SOCK, FdType.IPV6_SOCK, FdType.IPV4_SERVSOCK,
                             FdType.IPV6_SERVSOCK})


def _buflen_of(category: int | None, fds: frozenset[FdType] | None) -> Callable[[Any], Any]:
    """``evt.buflen`` for events of one I/O category (None: any I/O) on fds of these types
    (None: any fd)."""
    def extract(ctx: EventContext) -> int | None:
        fd = ctx.evt_fd
        if fd is None:
            return None
        cat = _info_category(ctx)
        if (cat != category if category is not None else not cat & _IO_BASE):
            return None
        if fds is not None and fd.type not in fds:
            return None
        return evt_buflen(ctx)
    return extract


for _name, _cat, _fds, _what in (
        ("evt.buflen.in", _IO_READ, None, "input I/O events"),
        ("evt.buflen.out", _IO_WRITE, None, "output I/O events"),
        ("evt.buflen.file", None, _BUFLEN_FILE_FDS, "file I/O events"),
        ("evt.buflen.file.in", _IO_READ, _BUFLEN_FILE_FDS, "input file I/O events"),
        ("evt.buflen.file.out", _IO_WRITE, _BUFLEN_FILE_FDS, "output file I/O events"),
        ("evt.buflen.net", None, _BUFLEN_NET_FDS, "network I/O events (IP sockets)"),
        ("evt.buflen.net.in", _IO_READ, _BUFLEN_NET_FDS, "input network I/O events"),
        ("evt.buflen.net.out", _IO_WRITE, _BUFLEN_NET_FDS, "output network I/O events")):
    field(_name, "UINT64", f"evt.buflen, for {_what} only", fmt="DEC", hidden=True)(
        _buflen_of(_cat, _fds))


_OPEN_FLAG_AT = {_CODE["SYSCALL_OPEN_X"]: 2, _CODE["SYSCALL_OPENAT_E"]: 2,
                 _CODE["SYSCALL_OPENAT_2_X"]: 3, _CODE["SYSCALL_OPENAT2_X"]: 3}
_CREAT_X = _CODE["SYSCALL_CREAT_X"]
_O_RDONLY, _O_WRONLY, _O_CREAT, _O_TMPFILE = 1, 2, 4, 1 << 13
_EXEC_BITS = 0o111


def _u32_at(ctx: EventContext, i: int) -> int:
    raw = ctx.args.raw_at(i)
    return 0 if raw is None else int.from_bytes(raw[:4].ljust(4, b"\0"), "little")


def _open_check(kind: str) -> Callable[[Any], bool]:
    def extract(ctx: EventContext) -> bool:
        code = ctx.event.type
        at = _OPEN_FLAG_AT.get(code)
        if at is not None:
            flags = _u32_at(ctx, at)
            if kind == "read":
                return bool(flags & _O_RDONLY)
            if kind == "write":
                return bool(flags & _O_WRONLY)
            if flags & (_O_TMPFILE | _O_CREAT):
                return bool(_u32_at(ctx, at + 1) & _EXEC_BITS)
            return False
        if kind == "exec" and code == _CREAT_X:
            return bool(_u32_at(ctx, 2) & _EXEC_BITS)
        return False
    return extract


field("evt.is_open_read", "BOOL", "true for opens of a path for reading")(_open_check("read"))
field("evt.is_open_write", "BOOL", "true for opens of a path for writing")(_open_check("write"))
field("evt.is_open_exec", "BOOL", "true for opens and creats that create a file with "
      "execute permissions")(_open_check("exec"))


# -- docker infrastructure events ----------------------------------------------------------

_INFRASTRUCTURE_E = _CODE["INFRASTRUCTURE_EVENT_E"]


def _c_split(text: bytes, sep: bytes) -> list[bytes]:
    """``sinsp_split``: the pieces ``getline`` reads (no last piece after a trailing sep)."""
    parts = text.split(sep)
    if parts[-1] == b"":
        parts.pop()
    return parts


def _docker_value(key: bytes, element: bytes) -> bytes | None:
    """The value of a ``Key: value`` element of an infrastructure event's description."""
    parts = _c_split(element, b":")
    if len(parts) < 2:
        return None  # (sinsp reads past the end of its list here)
    value = parts[1]
    if key == b"ID":
        return value.strip()[:12]
    if key == b"Image":
        if b"@" in value:
            value = value[:value.index(b"@")]
        elif b"sha256" in value:
            value = element[element.index(b":") + 1:]
    return value.strip()


def _infra_docker(key: bytes) -> Callable[[Any], Any]:
    """The first ``;``-separated element of the description (argument 2) of an
    infrastructure event that starts with ``key``: its text after the ``:``."""
    def extract(ctx: EventContext) -> str | None:
        if ctx.event.type != _INFRASTRUCTURE_E:
            return None
        raw = ctx.args.raw_at(2)
        if raw is None:
            return None
        for piece in _c_split(c_string(bytes(raw)), b";"):
            element = piece.strip()
            if element.startswith(key):
                value = _docker_value(key, element)
                return None if value is None else to_text(value)
        return None
    return extract


for _name, _key, _what in (
        ("evt.infra.docker.name", b"Event", "the event's name (its Event element)"),
        ("evt.infra.docker.container.id", b"ID", "the container's id (its ID element, "
         "cut to 12 characters)"),
        ("evt.infra.docker.container.name", b"name", "the container's name (its name "
         "element)"),
        ("evt.infra.docker.container.image", b"Image", "the container's image (its Image "
         "element, without a digest)")):
    field(_name, "CHARBUF", f"for docker infrastructure events, {_what}", hidden=True)(
        _infra_docker(_key))
