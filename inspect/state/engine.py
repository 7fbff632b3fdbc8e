"""The state engine: feeds every event through the handlers and returns its context.

::

    reader = CaptureReader(path)
    engine = StateEngine(reader)
    for ev in reader:
        ctx = engine.process(ev)       # every event, even those a filter will drop
        ctx.thread, ctx.fd, ctx.fd_num, ctx.enter

The engine reproduces sinsp (libs e5c53d64, the one sysdig 0.29.3 is built with):

* the thread table and fd tables start from the capture's process-list and fd-list
  blocks, which precede the events; the reader fills ``reader.snapshot`` while it
  iterates, so the engine takes it on the first event (or is given a ``Snapshot``);
* before each event, what the previous event scheduled is carried out: a thread that
  exited is removed, fds that were closed are removed. So an event's own fd and thread
  are still there while it is looked at (a ``close`` exit still has its fd);
* on an enter event the thread remembers it (its fd for fd-using syscalls, the whole
  event for the syscalls whose exit needs its arguments); an exit that does not follow
  its own enter on that thread is treated as sinsp does (no fd, no stored enter);
* the values an event exposes (``ctx.fd``, ``ctx.fd_num``) are those sysdig's ``fd.*``
  fields see: taken right after the event was applied. They are live objects: read
  them before processing the next event.

Bounds, so a hostile capture cannot exhaust memory (all configurable, see :class:`Limits`):

====================  ========  =========================================================
limit                 default   over the limit
====================  ========  =========================================================
max_threads           131072    the thread is not tracked (sinsp's limit)
max_fds_per_thread    4096      the fd is not tracked (sinsp's limit, per fd table)
max_fds_total         1048576   the fd is not tracked (all tables together)
max_path              1024      a joined path becomes ``/PATH_TOO_LONG`` (sinsp's limit)
max_stored_enter      4096      the enter event is not kept for its exit (sinsp's limit)
max_string            4096      comm, exe, root, fd names... are cut
max_list_bytes        16384     args, env and cgroups are read up to this many bytes
====================  ========  =========================================================

Containers (4096), users and groups added by events (16384 each) are capped too.
What the limits dropped is counted in ``engine.stats``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from scapkit.scapfile.event_table import (EF, EVENTS, NUM_EVENTS, EventInfo, ParamInfo,
                                          sysdig_029_event_info)
from scapkit.scapfile.errors import FormatError
from scapkit.scapfile.events import RawEvent
from scapkit.scapfile.params import ParamDecodeError, decode_param, decoder_for
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.snapshot import GroupInfo, Snapshot, UserInfo

# The handler modules register their handlers with the registry when imported.
from . import handlers_files, handlers_misc, handlers_net, handlers_process  # noqa: F401
from . import handlers_k8s  # noqa: F401
from . import registry
from .containers import container_of, parse_cgroups
from .fds import (CANCELED_FD, MAX_FDS_PER_THREAD, MAX_FDS_TOTAL, L4, FdFlag, FdInfo, FdType,
                  is_ipv4_mapped)
from .fds import proc_socket_name
from .netif import NetworkInterfaces
from .paths import MAX_PATH
from .threads import MAX_THREADS, CloneFlag, ProcessTree, ThreadInfo, ThreadTable
from .tracers import RW_EXITS, TRACER_E, WRITE_E, TracerState

__all__ = ["StateEngine", "EventContext", "EventArgs", "Limits", "Stats"]

_I64 = struct.Struct("<q")
_I32 = struct.Struct("<i")

#: Event flags that make an event carry fd fields.
FD_EVENT_FLAGS = int(EF.CREATES_FD | EF.USES_FD | EF.DESTROYS_FD)
_USES_FD = int(EF.USES_FD)
_SKIPPARSERESET = int(EF.SKIPPARSERESET)
_ACTIVE = int(CloneFlag.ACTIVE)
_CLOSE_CANCELED = int(FdFlag.CLOSE_CANCELED)
#: Dump flag of events that only feed the state (never shown).
DF_STATE_ONLY = 1
#: Dump flag of tracer events.
DF_TRACER = 2
_MODIFIES_STATE = int(EF.MODIFIES_STATE)
#: sinsp's tracer fd flags (``FLAGS_IS_TRACER_FILE``, ``FLAGS_IS_TRACER_FD``).
_TRACER_FLAGS = int(FdFlag.IS_TRACER_FILE) | 1 << 8
#: The last-enter code a thread gets when the filter refused its event (matches no exit).
NO_EVENT = 1 << 20

_CLONE_EXIT_SYMBOLS = frozenset({
    "SYSCALL_CLONE_11_X", "SYSCALL_CLONE_16_X", "SYSCALL_CLONE_17_X", "SYSCALL_CLONE_20_X",
    "SYSCALL_FORK_X", "SYSCALL_FORK_17_X", "SYSCALL_FORK_20_X", "SYSCALL_VFORK_X",
    "SYSCALL_VFORK_17_X", "SYSCALL_VFORK_20_X", "SYSCALL_CLONE3_X",
})
_CODE = {e.symbol: e.code for e in EVENTS}
CLONE_EXITS = frozenset(_CODE[s] for s in _CLONE_EXIT_SYMBOLS)
SCHEDSWITCH_6_E = _CODE["SCHEDSWITCH_6_E"]
PROCINFO_E = _CODE["PROCINFO_E"]
COPY_FILE_RANGE_X = _CODE["SYSCALL_COPY_FILE_RANGE_X"]
WRITE_X = _CODE["SYSCALL_WRITE_X"]
CONTAINER_JSON = frozenset({_CODE["CONTAINER_JSON_E"], _CODE["CONTAINER_JSON_2_E"]})
#: Container events of any version: sysdig parses the ones a capture starts with while
#: opening it, and never shows them.
_CONTAINER_EVENTS = CONTAINER_JSON | {_CODE["CONTAINER_E"]}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on the state kept, so that no capture can make it grow without end.

    ``max_threads``, ``max_fds_per_thread``, ``max_path`` and ``max_stored_enter`` are
    sinsp's own limits (same defaults, same effect: a thread or fd over the limit is not
    tracked, a longer path becomes ``/PATH_TOO_LONG``, a longer enter event is not kept).
    The others are ours, set well above anything a real driver writes (it caps args and
    environment at one page): ``max_fds_total`` across all processes, ``max_string`` for
    names (comm, exe, fd names...), ``max_list_bytes`` for each of args, env and cgroups.

    Worst case with the defaults: about ``max_threads`` x 70 KiB for the threads and
    ``max_fds_total`` x 5 KiB for the fds; real captures use a tiny fraction of that.
    """

    max_threads: int = MAX_THREADS
    max_fds_per_thread: int = MAX_FDS_PER_THREAD
    max_fds_total: int = MAX_FDS_TOTAL
    max_path: int = MAX_PATH
    max_stored_enter: int = 4096
    max_string: int = 4096
    max_list_bytes: int = 16384


@dataclass(frozen=True, slots=True)
class Stats:
    """What the limits cost: entries not tracked."""

    threads_dropped: int = 0
    fds_dropped: int = 0
    enters_too_large: int = 0


def effective_info(code: int) -> EventInfo | None:
    """The event as the reproduced sinsp declares it: sysdig 0.29.3's table for the
    codes it knows (flags and parameter names decide its behaviour), else ours."""
    info = sysdig_029_event_info(code)
    if info is not None:
        return info
    return EVENTS[code] if code < NUM_EVENTS else None


@lru_cache(maxsize=None)
def _param_names(code: int) -> dict[str, int]:
    """Parameter name -> index in the current table (the first of a repeated name wins)."""
    info = EVENTS[code] if code < NUM_EVENTS else None
    names: dict[str, int] = {}
    for i, p in enumerate(info.params if info is not None else ()):
        names.setdefault(p.name, i)
    return names


@lru_cache(maxsize=None)
def _param_decoders(code: int) -> tuple[tuple[ParamInfo, Callable[..., Any]], ...]:
    """(declaration, decode_param's decoder for it) per parameter of the current table."""
    info = EVENTS[code] if code < NUM_EVENTS else None
    out = []
    for p in info.params if info is not None else ():
        try:
            out.append((p, decoder_for(p.type)))
        except ParamDecodeError:
            out.append((p, decode_param))  # (raises for every value, as decode_param does)
    return tuple(out)


_MISSING = object()


class EventArgs:
    """An event's parameters by name (current table names), decoded on first use."""

    __slots__ = ("_ev", "_raw", "_names", "_cache")

    def __init__(self, ev: RawEvent) -> None:
        self._ev = ev
        self._raw: list[bytes] | None = None
        self._names: dict[str, int] | None = None
        self._cache: dict[int, Any] = {}

    def _load(self) -> list[bytes]:
        raw = self._raw = self._ev.raw_params()
        self._names = _param_names(self._ev.type)
        return raw

    def raw_list(self) -> list[bytes]:
        """Every parameter's raw value, in order."""
        raw = self._raw
        return self._load() if raw is None else raw

    def __len__(self) -> int:
        raw = self._raw
        return len(self._load() if raw is None else raw)

    def index(self, name: str) -> int | None:
        raw = self._raw
        if raw is None:
            raw = self._load()
        i = self._names.get(name)  # type: ignore[union-attr]
        return i if i is not None and i < len(raw) else None

    def __contains__(self, name: str) -> bool:
        return self.index(name) is not None

    def raw(self, name: str) -> bytes | None:
        i = self.index(name)
        return None if i is None else self._raw[i]  # type: ignore[index]

    def raw_at(self, i: int) -> bytes | None:
        raw = self._raw
        if raw is None:
            raw = self._load()
        return raw[i] if i < len(raw) else None

    def at(self, i: int, default: Any = None) -> Any:
        raw = self._raw
        if raw is None:
            raw = self._load()
        if i >= len(raw):
            return default
        value = self._cache.get(i, _MISSING)
        if value is _MISSING:
            decoders = _param_decoders(self._ev.type)
            value = raw[i]
            if i < len(decoders):
                decl, decode = decoders[i]
                try:
                    value = decode(decl, value)
                except ParamDecodeError:
                    pass  # malformed: kept as bytes
            self._cache[i] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:
        i = self.index(name)
        return default if i is None else self.at(i, default)

    def int(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter, or ``default`` when absent or malformed."""
        i = self.index(name)
        if i is None:
            return default
        value = self.at(i)
        return value if type(value) is int or (isinstance(value, int)
                                                and not isinstance(value, bool)) else default


def first_param_int(ev: RawEvent) -> int | None:
    """Parameter 0 as sinsp reads an fd or return value (64-bit, else 32-bit)."""
    raw = EventArgs(ev).raw_at(0) if ev.nparams else None
    if raw is None:
        return None
    if len(raw) == 8:
        return _I64.unpack(raw)[0]
    if len(raw) == 4:
        return _I32.unpack(raw)[0]
    return None


@dataclass(slots=True, eq=False)
class EventContext:
    """One event and the state it was applied to."""

    event: RawEvent
    #: The engine that applied it (for queries on the tables: parents, users...).
    engine: StateEngine = field(repr=False)
    #: The event as sysdig 0.29.3 declares it (None for a code no table knows).
    info: EventInfo | None
    #: Its flags (``EF`` bits) in that table.
    flags: int
    args: EventArgs
    #: The thread that generated the event (None when unknown and not created).
    thread: ThreadInfo | None = None
    #: The fd the event works on (for fd-creating, fd-using and fd-closing events).
    fd: FdInfo | None = None
    #: ``fd.num``: the fd number the event works on (None for events without an fd).
    fd_num: int | None = None
    #: The stored enter event matching this exit, when sinsp keeps one for it.
    enter: RawEvent | None = None
    #: errno of a failed syscall (positive), else 0.
    errorcode: int = 0
    #: sysdig does not show this event (state-only dump flag, container event of a
    #: failed lookup); its effect on the state is kept all the same.
    hidden: bool = False
    #: Set by handlers that found the thread's tid reused (a collision).
    tid_collision: bool = False
    #: The fd the event itself resolved (sinsp's ``m_fdinfo``): unlike ``fd``, not looked
    #: up again from the thread's last fd. ``evt.category``, ``evt.buflen``... use it.
    evt_fd: FdInfo | None = None
    #: The filter given to :meth:`StateEngine.process` refused the event.
    filtered_out: bool = False
    #: The handlers applied the event: a filter run inside :meth:`StateEngine.process`
    #: sees True only for the events sinsp judges after parsing them (state changes).
    parsed: bool = False
    #: Parsing the event renamed its fd (``evt_fd``), e.g. a connect (``fd.name_changed``);
    #: set last, as sinsp does, so that no filter run inside the engine sees it.
    fd_name_changed: bool = False

    @property
    def is_enter(self) -> bool:
        return not self.event.type & 1

    @property
    def has_fd(self) -> bool:
        return bool(self.flags & FD_EVENT_FLAGS)

    def retval(self) -> int | None:
        """Parameter 0 as a return value (or the new fd)."""
        return first_param_int(self.event)


class StateEngine:
    """Thread, process and fd state built from a capture, event by event.

    ``source`` is the :class:`CaptureReader` being iterated (its snapshot is taken on
    the first event) or a :class:`Snapshot`. Options:

    ``sysdig_compat`` (default True): behave exactly like sysdig 0.29.3 on the events
    it knows; False adds what newer libs track (fds of userfaultfd, bpf; close-on-exec
    fds dropped at execve).
    ``reparent`` (default False): when a process is removed, give its children to the
    reaper (as newer libs do) instead of leaving them with a dangling parent.
    ``track_connection_status`` (default False, like sysdig): follow pending/failed
    connections on sockets.
    """

    def __init__(self, source: CaptureReader | Snapshot, *, limits: Limits = Limits(),
                 sysdig_compat: bool = True, reparent: bool = False,
                 track_connection_status: bool = False) -> None:
        self._reader = source if isinstance(source, CaptureReader) else None
        self._snapshot = source if isinstance(source, Snapshot) else None
        self.limits = limits
        self.sysdig_compat = sysdig_compat
        self.reparent = reparent
        self.track_connection_status = track_connection_status
        self.threads = ThreadTable(max_threads=limits.max_threads,
                                   max_fds_per_thread=limits.max_fds_per_thread,
                                   max_fds_total=limits.max_fds_total, max_path=limits.max_path)
        self.tree = ProcessTree(self.threads)
        self.interfaces = NetworkInterfaces()
        self.users: dict[int, UserInfo] = {}
        self.groups: dict[int, GroupInfo] = {}
        #: Container metadata from container events: id -> dict (name, image, ip...).
        self.containers: dict[str, dict[str, Any]] = {}
        #: Tracer parsers and open spans (writes to /dev/null that sinsp shows as tracers).
        self.tracers = TracerState()
        self._enters_too_large = 0
        #: Timestamp of the first event (container events aside): ``evt.reltime``'s origin.
        self.first_ts = 0
        #: The last parameter text rendered (sinsp's reused ``m_paramstr_storage``, which
        #: shows again for a parameter it writes nothing for: see :mod:`scapkit.inspect.render`).
        self.paramstr = ""
        #: Length of the last buffer parameter rendered (sinsp's ``m_rawbuf_str_len``).
        self.rawbuf_len = 0
        self._initialised = False
        #: No event but container events seen yet.
        self._leading = True
        self._tid_to_remove: int | None = None
        self._fds_to_remove: list[int] = []
        self._tid_of_fds_to_remove = -1
        self._handlers, self._stored = registry.dispatch_table(sysdig_compat=sysdig_compat)

    # (the effective declarations are derived when the first event needs them: a run whose
    # events all go through the C read engine never does)
    @cached_property
    def _infos(self) -> list[EventInfo | None]:
        return [effective_info(c) for c in range(NUM_EVENTS)]

    @cached_property
    def _flags(self) -> list[int]:
        return [int(i.flags) if i is not None else 0 for i in self._infos]

    @property
    def stats(self) -> Stats:
        return Stats(self.threads.dropped, self.threads.fd_budget.refused, self._enters_too_large)

    # -- initial state ----------------------------------------------------------------------

    def _initialise(self) -> None:
        self._initialised = True
        snap = self._snapshot if self._snapshot is not None else (
            self._reader.snapshot if self._reader is not None else None)
        if snap is None:
            return
        self.load_snapshot(snap)

    def load_snapshot(self, snap: Snapshot) -> None:
        """Build the initial tables from the metadata blocks (process, fd, interface, users)."""
        self._initialised = True
        self.interfaces = NetworkInterfaces(snap.interfaces)
        self.users = dict(snap.users)
        self.groups = dict(snap.groups)
        server_ports: set[int] = set()
        for p in snap.processes.values():
            t = self.threads.new_thread(p.tid)
            t.pid, t.ptid, t.sid, t.vpgid = p.pid, p.ptid, p.sid, p.vpgid
            t.comm, t.exe, t.exepath, t.exe_writable = p.comm, p.exe, p.exepath, p.exe_writable
            t.args = list(p.args)
            t.flags = int(CloneFlag.NAME_CHANGED | CloneFlag.ACTIVE) | p.flags
            if t.is_main_thread:
                t.env = list(p.env)
                self.threads.set_cwd(t, p.cwd.encode("utf-8", "surrogateescape"))
            t.fdlimit, t.uid, t.gid = p.fdlimit, p.uid, p.gid
            t.vmsize_kb, t.vmrss_kb, t.vmswap_kb = p.vmsize_kb, p.vmrss_kb, p.vmswap_kb
            t.pfmajor, t.pfminor = p.pfmajor, p.pfminor
            t.vtid, t.vpid, t.tty, t.loginuid = p.vtid, p.vpid, p.tty, p.loginuid
            t.cap_inheritable, t.cap_permitted = p.cap_inheritable, p.cap_permitted
            t.cap_effective = p.cap_effective
            t.cgroups = parse_cgroups(p.cgroups)
            t.root = p.root
            self.resolve_container(t)
            for f in snap.fds.get(p.tid, {}).values():
                info = _fd_from_snapshot(f)
                if info is None:
                    continue
                if info.type in (FdType.IPV4_SERVSOCK, FdType.IPV6_SERVSOCK):
                    server_ports.add(f.sport)
                t.fdtable.add(f.fd, info)
            if not self.threads.add(t, from_snapshot=True):
                t.fdtable.clear()
        self.threads.recount_threads()
        # Orient the IPv4 connections of the snapshot: a local port that some process
        # listens on makes the connection's local end the server.
        for t in self.threads:
            for _, info in t.fdtable.items():
                if info.type != FdType.IPV4_SOCK:
                    continue
                if info.sock.v4_sport in server_ports:
                    info.sock.swap_v4()
                    info.name = proc_socket_name(info)
                    info.flags |= FdFlag.ROLE_SERVER
                else:
                    info.flags |= FdFlag.ROLE_CLIENT

    def resolve_container(self, thread: ThreadInfo) -> None:
        found = container_of(thread.cgroups, thread.env)
        thread.container_runtime, thread.container_id = found if found else ("", "")

    # -- the event loop ------------------------------------------------------------------------

    def note_damage(self, error: FormatError) -> None:
        """Record a problem an event's content caused (the event was applied as far as it
        could be, reading goes on): with the reader's damage, which ``scap read`` reports
        at the end (exit status 3)."""
        if self._reader is not None:
            self._reader.damage.append(error)

    def process(self, ev: RawEvent, accept: Callable[[EventContext], bool] | None = None
                ) -> EventContext:
        """Apply one event to the state; its context, as sysdig's fields would see it.

        ``accept`` is the filter, when there is one. sinsp runs it inside the parser, and
        where it runs changes the state (sysdig's capture filter, ``HAS_CAPTURE_FILTERING``):
        an event that does not modify the state is judged right after the thread and fd
        lookup; when it is refused, no handler runs and its thread forgets its last enter
        event (so the matching exit finds no enter and no fd). An event that modifies the
        state is applied first and judged afterwards. A refused event (and an event only
        meant for the state) also keeps its thread's stored enter event. The verdict is
        ``ctx.filtered_out``.
        """
        if not self._initialised:
            self._initialise()
        self._carry_out_removals()
        code = ev.type
        if code < NUM_EVENTS:
            info, flags = self._infos[code], self._flags[code]
        else:
            info, flags = None, 0
        if not self.first_ts and code not in CONTAINER_JSON:
            self.first_ts = ev.ts
        if self._leading and code not in _CONTAINER_EVENTS:
            self._leading = False
        ctx = EventContext(ev, self, info, flags, EventArgs(ev))
        self.reset(ctx)
        late = False
        if accept is not None:
            modifies = bool(flags & _MODIFIES_STATE)
            if code == WRITE_X:
                modifies = self._tracer_write(ctx) or modifies
            if modifies:
                late = True
            else:
                self._expose(ctx)
                if not accept(ctx):
                    thread = ctx.thread
                    if thread is not None and not (flags & _SKIPPARSERESET
                                                   or code == SCHEDSWITCH_6_E):
                        thread.lastevent_type = NO_EVENT
                    ctx.filtered_out = True
                    return ctx
                ctx.fd = ctx.evt_fd  # the handlers see the event's own fd only
        if code < NUM_EVENTS:
            if code in self._stored:
                self.store_enter(ctx)
            if not ctx.is_enter:
                ctx.enter = self._peek_enter(ctx)
            if code == WRITE_E:
                self.tracers.write_enter(ctx)
            if code not in RW_EXITS or not self.tracers.rw_exit(self, ctx):
                for handler in self._handlers[code]:
                    handler(self, ctx)
        ctx.parsed = True
        self._expose(ctx)
        if late:
            if not accept(ctx):  # type: ignore[misc]
                ctx.filtered_out = True
                return ctx
            ctx.hidden = False  # sinsp's filter, run after parsing, shows what it accepts
        if ev.dump_flags & DF_STATE_ONLY or self._leading:
            ctx.hidden = True
        fd = ctx.evt_fd
        if fd is not None and fd.name != fd.oldname:
            ctx.fd_name_changed = True
        if not ctx.hidden:
            self._cleanup(ctx)
        return ctx

    def _tracer_write(self, ctx: EventContext) -> bool:
        """sinsp's filter path for a write exit: it looks the fd up (the event keeps it);
        a write to a tracer fd counts as modifying the state."""
        thread = ctx.thread
        if ctx.fd is None and thread is not None:
            ctx.fd = self.threads.get_fd(thread, thread.lastevent_fd)
        fd = ctx.fd
        if fd is not None and fd.flags & _TRACER_FLAGS:
            return True
        if ctx.event.dump_flags & DF_TRACER:
            ctx.fd = None
            return True
        return False

    def _carry_out_removals(self) -> None:
        if self._tid_to_remove is not None:
            tid, self._tid_to_remove = self._tid_to_remove, None
            self.remove_thread(tid, force=False)
        if self._fds_to_remove:
            owner = self.threads.get_or_create(self._tid_of_fds_to_remove)
            if owner is not None:
                table = self.threads.fd_table(owner)
                if table is not None:
                    for fd in self._fds_to_remove:
                        table.remove(fd)
            self._fds_to_remove.clear()

    def reset(self, ctx: EventContext) -> bool:
        """Find the event's thread and fd, and do the enter/exit bookkeeping (sinsp's reset)."""
        ev, flags, code = ctx.event, ctx.flags, ctx.event.type
        ctx.fd = None
        ctx.errorcode = 0
        if flags & _SKIPPARSERESET:
            ctx.thread = self.threads.get(ev.tid) if code == PROCINFO_E else None
            return False
        if code in CONTAINER_JSON:
            ctx.thread = None
            return True
        query_os = code not in CLONE_EXITS and code != SCHEDSWITCH_6_E
        thread = self.threads.get_or_create(ev.tid) if query_os else self.threads.get(ev.tid)
        ctx.thread = thread
        if code == SCHEDSWITCH_6_E or thread is None:
            return False
        if query_os:
            thread.flags = int(thread.flags) | _ACTIVE
        if not code & 1:
            thread.lastevent_fd = -1
            thread.lastevent_type = code
            thread.latency = 0
            thread.latency_enter_ts = ev.ts
            if flags & _USES_FD:
                fd = first_param_int(ev)
                thread.lastevent_fd = -1 if fd is None else fd
                ctx.fd = self.threads.get_fd(thread, thread.lastevent_fd)
            return True
        if thread.latency_enter_ts:
            thread.latency = ev.ts - thread.latency_enter_ts
        if code == thread.lastevent_type + 1:
            thread.lastevent_valid = True
        else:
            thread.lastevent_valid = False
            if thread.lastevent_type != TRACER_E:  # (after a tracer, sinsp goes on)
                return False
        info = ctx.info
        if ev.nparams and info is not None and info.params and info.params[0].name in ("res", "fd"):
            res = first_param_int(ev)
            if res is not None and res < 0:
                ctx.errorcode = -res
        if flags & _USES_FD:
            if code == COPY_FILE_RANGE_X:
                out = ctx.args.int("fdout")
                if out is not None:
                    thread.lastevent_fd = out
            ctx.fd = self.threads.get_fd(thread, thread.lastevent_fd)
            if ctx.fd is None:
                return False
            if ctx.fd.flags & _CLOSE_CANCELED:
                ctx.fd.flags &= ~_CLOSE_CANCELED
                parked = self.threads.get_fd(thread, CANCELED_FD)
                self.erase_fd(thread, CANCELED_FD, parked)
        return True

    def _expose(self, ctx: EventContext) -> None:
        """Set what the fields see: the event's own fd (sinsp's ``m_fdinfo``), and the fd
        and fd number of the fd fields (the thread's last fd when the event has none)."""
        thread = ctx.thread
        if thread is None and ctx.event.type not in CONTAINER_JSON:
            thread = ctx.thread = self.threads.get(ctx.event.tid)
        ctx.evt_fd = ctx.fd
        if ctx.flags & FD_EVENT_FLAGS and thread is not None:
            ctx.fd_num = thread.lastevent_fd
            if ctx.fd is None and thread.lastevent_fd != -1:
                ctx.fd = self.threads.get_fd(thread, thread.lastevent_fd)
        else:
            ctx.fd = None
            ctx.fd_num = None

    def _cleanup(self, ctx: EventContext) -> None:
        """After an exit that was shown: the stored enter event served its one exit."""
        thread = ctx.thread
        if thread is not None and ctx.event.type & 1:
            thread.lastevent = None
            thread.lastevent_valid = False

    # -- services for the handlers -------------------------------------------------------------

    def store_enter(self, ctx: EventContext) -> None:
        """Keep this enter event on its thread for the matching exit."""
        thread = ctx.thread
        if thread is None:
            return
        if len(ctx.event.data) > self.limits.max_stored_enter:
            self._enters_too_large += 1
            return
        thread.lastevent = ctx.event
        thread.lastevent_valid = True

    def _peek_enter(self, ctx: EventContext) -> RawEvent | None:
        thread = ctx.thread
        if thread is None or not thread.lastevent_valid or thread.lastevent is None:
            return None
        if thread.lastevent.type != ctx.event.type - 1:
            thread.lastevent_valid = False
            return None
        return thread.lastevent

    def enter_args(self, ctx: EventContext) -> EventArgs | None:
        """The arguments of the enter event matching this exit, if it was kept."""
        return None if ctx.enter is None else EventArgs(ctx.enter)

    def erase_fd(self, thread: ThreadInfo, fd: int, info: FdInfo | None,
                 *, remove: bool = True) -> None:
        """Schedule ``fd`` of ``thread`` for removal before the next event."""
        if info is None or not remove:
            return
        self._tid_of_fds_to_remove = thread.tid
        self._fds_to_remove.append(fd)

    def schedule_thread_removal(self, tid: int) -> None:
        self._tid_to_remove = tid

    def remove_thread(self, tid: int, *, force: bool) -> ThreadInfo | None:
        removed = self.threads.remove(tid, force=force)
        if removed is not None and self.reparent:
            self._reparent_children(removed)
        return removed

    def _reparent_children(self, gone: ThreadInfo) -> None:
        children = [t for t in self.threads if t.ptid == gone.tid]
        if not children:
            return
        reaper = self.threads.get(gone.reaper_tid) if gone.reaper_tid > 0 else None
        if reaper is None:
            reaper = next((t for t in self.threads if t.pid == gone.pid and t.tid != gone.tid
                           and not t.exited), None)
        if reaper is None:
            return
        for child in children:
            child.ptid = reaper.tid

    def add_fd(self, ctx: EventContext, fd: int, info: FdInfo) -> FdInfo | None:
        """Add an fd to the event's thread and make it the event's fd."""
        assert ctx.thread is not None
        ctx.fd = self.threads.add_fd(ctx.thread, fd, info)
        return ctx.fd


def _fd_from_snapshot(f) -> FdInfo | None:
    """An fd of the fd-list block, as sinsp imports it (None for types it skips)."""
    info = FdInfo(type=f.type, flags=FdFlag.FROM_PROC, ino=f.ino)
    t = f.type
    s = info.sock
    if t == FdType.IPV4_SOCK or t == FdType.IPV6_SOCK:
        v6 = t == FdType.IPV6_SOCK
        sip = f.sip.packed if f.sip is not None else bytes(16 if v6 else 4)
        dip = f.dip.packed if f.dip is not None else bytes(16 if v6 else 4)
        if v6 and is_ipv4_mapped(sip) and is_ipv4_mapped(dip):
            info.type, sip, dip, v6 = FdType.IPV4_SOCK, sip[12:], dip[12:], False
        if v6:
            s.v6_sip, s.v6_dip, s.v6_sport, s.v6_dport, s.v6_l4proto = (
                sip, dip, f.sport, f.dport, f.l4proto)
        else:
            s.v4_sip, s.v4_dip, s.v4_sport, s.v4_dport, s.v4_l4proto = (
                sip, dip, f.sport, f.dport, f.l4proto)
        if f.l4proto == L4.TCP:
            info.flags |= FdFlag.SOCKET_CONNECTED
        info.name = proc_socket_name(info)
    elif t == FdType.IPV4_SERVSOCK:
        s.srv4_ip = f.sip.packed if f.sip is not None else bytes(4)
        s.srv4_port, s.srv4_l4proto = f.sport, f.l4proto
        info.name = proc_socket_name(info)
    elif t == FdType.IPV6_SERVSOCK:
        s.srv6_ip = f.sip.packed if f.sip is not None else bytes(16)
        s.srv6_port, s.srv6_l4proto = f.sport, f.l4proto
        info.name = proc_socket_name(info)
    elif t == FdType.UNIX_SOCK:
        s.unix_pair = (f.source, f.destination)
        info.name = f.name
        info.flags |= FdFlag.ROLE_CLIENT if not f.name else FdFlag.ROLE_SERVER
    elif t == FdType.FILE_V2:
        info.openflags, info.name, info.dev = f.open_flags, f.name, f.dev or 0
        info.flags |= FdFlag.IS_TRACER_FILE if f.name == "/dev/null" else FdFlag.IS_NOT_TRACER_FD
    elif t in (FdType.FIFO, FdType.FILE, FdType.DIRECTORY, FdType.UNSUPPORTED, FdType.SIGNALFD,
               FdType.EVENTPOLL, FdType.EVENT, FdType.INOTIFY, FdType.TIMERFD, FdType.NETLINK):
        info.name = f.name
        info.flags |= FdFlag.IS_TRACER_FILE if f.name == "/dev/null" else FdFlag.IS_NOT_TRACER_FD
    else:
        return None
    return info

