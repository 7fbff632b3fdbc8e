"""Fast ``scap read``: the C engine for the events it can take, the Python engine for the rest.

``scap read`` spends nearly all its time per event: decode it, apply it to the state,
render its line. :func:`fast_lines` gives the same lines as
:meth:`~scapkit.inspect.listing.Listing.lines` for sysdig's default format (text or
``-j``, any ``-t`` but ``D``, any buffer format, ``-D``, ``-n``, and filters
:mod:`.fastfilter` can translate), with the C engine of ``fastread.c`` doing that work
for most events:

* the C engine walks the reader's window of event blocks with the reader's checks (an
  uncompressed file is mapped and read in place, in windows) and, for each event whose
  state effects it implements (nearly all: see ``fastread.c``, clone, execve and thread
  exits included), does what :meth:`~scapkit.inspect.state.engine.StateEngine.process`
  and the read loop do and writes the line; at anything else it stops *before changing
  anything*. The block it stops at is the reader's to read: the reader hands the event
  back (:meth:`FastListing._one`), and only an event the C engine declines goes
  through the Python engine and :class:`~scapkit.inspect.format.EventFormat`;
* the state stays in the Python engine. The C engine reads it through callbacks
  (``_cb_*`` below), which make exactly the calls the Python engine would make at that
  point, side effects included, and caches the answers; its own changes are logged and
  applied here (:meth:`FastListing._write_back`) before the Python engine sees an
  event, and whenever the log grows long: the thread operations in their order, the
  process handlers running here on the state as it was at their event
  (:meth:`FastListing._apply_log`), then per-thread bookkeeping and fds. Threads made
  and gone between two write-backs never reach Python. After the Python engine
  processed an event, the C engine forgets exactly the cached entries that event
  touched (the thread table's observer reports them; anything it cannot narrow down
  drops the whole cache).

So the Python engine ends every run in the state it would have reached alone, and the
lines are byte for byte those of the Python path (the tests compare both on every
capture). ``SCAPKIT_PURE=1`` turns the C engine off, as it does the C scanner.
"""

from __future__ import annotations

import gc
import os
import struct
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scapkit.scapfile.cext import OptionalExtension
from scapkit.scapfile.event_table import NUM_EVENTS
from scapkit.scapfile.events import RawEvent

from .state.fds import FdFlag, FdInfo, FdType, SockInfo
from .state.threads import NO_ID, CloneFlag

if TYPE_CHECKING:
    from scapkit.scapfile.reader import CaptureReader

    from .listing import Listing
    from .state.engine import StateEngine

__all__ = ["available", "unavailable_reason", "fast_lines", "FastListing"]

C_SOURCE_PATH = Path(__file__).with_name("fastread.c")

# fastread.c's status codes, callback results and operations
(FR_MORE, FR_NONEVENT, FR_INVALID, FR_SLOW, FR_PAUSE, FR_COUNT, FR_ERROR, FR_REMOVE,
 FR_SYNC, FR_GONE) = range(10)
CB_OK, CB_SLOW, CB_ERROR, CB_NOCACHE = range(4)
OP_ADD_FD, OP_REMOVE_FD, OP_PUT_FD = 1, 2, 3
TOP_FDS, TOP_CLONE, TOP_EXEC, TOP_REMOVE, TOP_CREATE = 1, 2, 3, 4, 5
#: fr_export's records: a thread's bookkeeping (then its stored enter event's data), and
#: an fd's final state (then its name): removed, changed or added.
_THREAD = struct.Struct("<qqqqQqqqqqqqqQQQqIIII8BI")
_OP = struct.Struct("<iiqqqqqqqq37s3xI")
#: fr_log's records: length, kind, cancelled, tid; then by kind (see fastread.c TOP_*).
_TOP = struct.Struct("<IBBxxq")
_TOP_CLONE = struct.Struct("<qiIQQII")
_TOP_EXEC = struct.Struct("<IIQQII")
_COUNT = struct.Struct("<I")
_TAB = struct.Struct("<i")
#: Buffer formats in fastread.c's numbering.
_BUFFER_FORMATS = {"normal": 0, "eols": 1, "hex": 2, "hexascii": 3, "base64": 4}
#: Event block types in the order of fr_engine.block_counts (as cscan.c).
_EVENT_BLOCK_ORDER = (0x204, 0x8010ABCD, 0x208, 0x216, 0x217, 0x221, 0x222)
_I64 = (-(1 << 63), (1 << 63) - 1)
#: fd tables the C engine may know by index before it starts over (the driver holds them).
_MAX_TABLES = 4096
#: Tables with more fds than this are not listed to the C engine (it asks fd by fd).
_MAX_KEYS = 1024
#: Uncompressed files from this size on are mapped, and read in windows of this size
#: (what was read is let go after each).
_MAP_MIN = 1 << 20
_MAP_WINDOW = 4 << 20

def _prepare(mod: Any) -> None:
    _register_callbacks(mod.ffi)


_EXT = OptionalExtension("fastread", C_SOURCE_PATH, _prepare)
#: The C tables, by sysdig_compat (fasttables.build).
_TABLES: dict[bool, Any] = {}


def available() -> bool:
    """True when the C engine can be used (``SCAPKIT_PURE=1`` forces False)."""
    return _EXT.available()


def unavailable_reason() -> str | None:
    """Why the C engine cannot be used, or None when it can."""
    return _EXT.unavailable_reason()


def _tables(sysdig_compat: bool) -> Any:
    if sysdig_compat not in _TABLES:
        from .fasttables import build

        _TABLES[sysdig_compat] = build(_EXT.module().ffi, sysdig_compat)
    return _TABLES[sysdig_compat]


def fast_lines(listing: Listing, reader: CaptureReader, engine: StateEngine
               ) -> Iterator[str] | None:
    """The lines of ``listing`` over ``reader`` through the C engine, or None when this
    listing needs something only the Python path does (then use it instead).

    ``engine`` must be fresh (no event processed yet). Each item is one or more lines
    joined by newlines, without the last newline.
    """
    from .format import DEFAULT_FORMAT

    options = listing.options
    if (listing.fmt != DEFAULT_FORMAT or options.time_format not in ("h", "a", "r", "d")
            or options.buffer_format not in _BUFFER_FORMATS or options.filtering
            or not available()):
        return None
    program = None
    if listing.accept is not None:
        from .fastfilter import translate

        program = translate(listing.filter_text)
        if program is None:
            return None
    return FastListing(listing, reader, engine, program).lines()


def _fits(v: Any) -> bool:
    return type(v) is int and _I64[0] <= v <= _I64[1]


def _register_callbacks(ffi: Any) -> None:
    """The C engine's lookups (fastread.c's fr_cb_*), dispatched to the driver of the run."""

    def trampoline(name: str) -> None:
        method = getattr(FastListing, "_cb_" + name)

        def cb(h: Any, *args: Any) -> int:
            driver = ffi.from_handle(h)
            try:
                return method(driver, *args)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the driver
                driver._error = exc
                return CB_ERROR

        ffi.def_extern(name="fr_cb_" + name)(cb)

    for name in ("thread", "fdtab", "fd", "cwd", "main", "user", "count"):
        trampoline(name)


class FastListing:
    """One ``scap read`` run through the C engine (see the module docstring)."""

    def __init__(self, listing: Listing, reader: CaptureReader, engine: StateEngine,
                 program: Any = None) -> None:
        from scapkit.scapfile.reader import MAX_EVENT_BLOCK

        from .visibility import hidden_by_default

        mod = _EXT.module()
        self.ffi, self.lib = mod.ffi, mod.lib
        self.listing, self.reader, self.engine = listing, reader, engine
        self.threads = engine.threads
        self._hidden = hidden_by_default
        self._tabs = _tables(engine.sysdig_compat)
        e = self.lib.fr_new(self._tabs.t)
        if e == self.ffi.NULL:
            raise MemoryError("fastread: no memory for the C engine")
        self.e = e
        self._handle = self.ffi.new_handle(self)
        e.handle = self._handle
        o = listing.options
        e.json = int(o.json)
        e.debug = int(listing.debug)
        e.time_format = ord(o.time_format)
        e.buffer_format = _BUFFER_FORMATS[o.buffer_format]
        e.max_len = o.max_len
        e.track_connection_status = int(engine.track_connection_status)
        lim = engine.limits
        e.max_stored_enter = lim.max_stored_enter
        e.max_path = min(lim.max_path, _I64[1])
        e.max_fds_per_thread = self.threads.max_fds_per_thread
        e.max_fds_total = self.threads.fd_budget.limit
        e.tz_offset = _tz_offset()
        e.reparent = int(engine.reparent)
        e.sysdig_compat = int(engine.sysdig_compat)
        e.max_threads = self.threads.max_threads
        e.max_string = lim.max_string
        e.max_tabs = _MAX_TABLES
        e.max_block = MAX_EVENT_BLOCK
        e.max_large_block = reader._max_large
        e.counting = int(listing.count > 0)
        e.count_left = listing.count
        self._accept = listing.accept
        if program is not None:
            self._filter, self._filter_keep = program.to_c(self.ffi)
            e.filter = self._filter
        elif listing.accept is not None:
            raise ValueError("a filter needs its C program")
        self._config: Any = None  # made once the engine has its snapshot (interfaces)
        self._out_pos = self.ffi.new("size_t *")
        self._out_len = self.ffi.new("size_t *")
        self._nt = self.ffi.new("uint32_t *")
        self._no = self.ffi.new("uint32_t *")
        self._paramstr: str | None = None  # the parameter text the C engine holds
        self._chunks: list[str] = []
        self._keep: list[Any] = []
        self._tables: list[Any] = []  # FdTable objects by C table index (held: ids stay unique)
        self._table_index: dict[int, int] = {}
        self._touched: dict[int, Any] = {}  # threads the Python engine reached, by id
        self._touched_all = False
        self._error: BaseException | None = None
        self._stop = False
        self._synced = False
        self._map: Any = None  # the capture file, mapped (see _open_map)
        self._map_tried = False

    # -- the run ---------------------------------------------------------------------------

    def lines(self) -> Iterator[str]:
        engine, listing = self.engine, self.listing
        render = self._render
        hidden, debug = self._hidden, listing.debug
        e = self.e
        # Few objects made here live long: collect the youngest less often meanwhile, and
        # leave the ones made so far (imports, the snapshot) out of every collection.
        threshold = gc.get_threshold()
        gc.set_threshold(max(threshold[0], 20000), *threshold[1:])
        gc.freeze()
        try:
            chunks = self._chunks
            for rec in self.reader.records_with(self._hook):
                if chunks:
                    yield from chunks
                    chunks.clear()
                if type(rec) is not RawEvent:
                    continue
                # an event the reader read itself: the C engine's too, unless it says not
                status = self._one(rec)
                if status == FR_COUNT:
                    self._stop = True
                    break
                if status != FR_SLOW:
                    continue
                self._collect()  # (the lines before this event's)
                self._write_back(final=True)
                self.threads.observer = self._observe
                ctx = engine.process(rec, self._accept)
                line = None
                received = not ((ctx.filtered_out or ctx.hidden)
                                and not (debug and hidden(rec.type)))
                shown = received and (debug or not hidden(rec.type))
                # The C engine renders it too when it is still that event (not a tracer
                # made of it) and the thread the fields see is the one it looks up (the
                # state is refreshed first).
                in_c = shown and rec.type < _NUM_EVENTS and ctx.event is rec and \
                    rec.type not in _SYSLOG_WRITES and \
                    ctx.thread is self.threads._threads.get(rec.tid)
                if shown and not in_c:
                    line = render(ctx)
                self._refresh()
                if in_c:
                    done = self.lib.fr_render(e, rec.data, len(rec.data), rec.num, rec.cpu)
                    if done < 0:
                        self._raise()
                    if done:  # (not here after all: Python renders, then tells the engine)
                        line = render(ctx)
                        self._sync_to_c()
                    else:
                        self._collect()
                        self._pull_globals()  # (what rendering changed: paramstr...)
                self._after_python()
                yield from chunks
                chunks.clear()
                if line is not None:
                    yield line
                if received and e.counting:
                    e.count_left -= 1
                    if not e.count_left:
                        break
            self._collect()
            yield from chunks
            chunks.clear()
            self._write_back(final=True)
        finally:
            gc.unfreeze()
            gc.set_threshold(*threshold)
            self._finish()

    def _one(self, rec: RawEvent) -> int:
        """Run one event the reader read with the C engine: FR_MORE (done), FR_COUNT (the
        last one to receive), FR_SLOW (nothing done: the Python engine's)."""
        lib, e = self.lib, self.e
        while True:
            status = lib.fr_event(e, rec.data, len(rec.data), rec.num, rec.offset, rec.cpu,
                                  rec.dump_flags)
            if status == FR_SYNC:
                self._write_back(final=False)
            elif status == FR_REMOVE:
                self._write_back(final=True)
                self._after_python()
            elif status == FR_ERROR:
                self._raise()
            else:
                return status

    def _render(self, ctx: Any) -> str | None:
        """The line of an event the Python engine processed, as the listing's format
        renders it (compiled when first needed)."""
        fmt = self.listing.format
        self._render = fmt.render_json if self.listing.options.json else fmt.render  # type: ignore[method-assign]
        return self._render(ctx)

    def _finish(self) -> None:
        self._close_map()
        self.threads.observer = None
        e = self.e
        if e is None:
            return
        counts = self.reader.block_counts
        for k, bt in enumerate(_EVENT_BLOCK_ORDER):
            if e.block_counts[k]:
                counts[bt] += e.block_counts[k]
        self.lib.fr_free(e)
        self.e = None

    def _hook(self, num: int) -> int | None:
        """The reader's fast hook: consume event blocks at its position with the C engine."""
        if self._stop:
            return None
        r = self.reader
        if self._map is not None:
            return self._hook_map(num)
        if len(r._buf) - r._pos < 8 and not r._avail(8):
            return num  # (the end: the reader reports what is left)
        buf, pos = r._buf, r._pos
        end = len(buf)
        engine = self.engine
        if not engine._initialised:
            if int.from_bytes(buf[pos:pos + 4], "little") not in _EVENT_BLOCK_ORDER:
                return num  # metadata first: the engine starts from all of it
            engine._initialise()
        if self._config is None:
            self._config = self._make_config()
            self.e.config = self._config
        if not self._synced:
            self._sync_to_c()
        if self._map is None and not self._map_tried:
            self._map_tried = True
            self._open_map()
        if self._map is not None:
            return self._hook_map(num)
        e, lib = self.e, self.lib
        e.num = num
        cbuf = self.ffi.from_buffer(buf)
        while True:
            status = lib.fr_run(e, cbuf, pos, end, r._base, self._out_pos)
            pos = self._out_pos[0]
            if status == FR_REMOVE:
                # A thread exited: Python removes it (it alone knows the thread counts
                # that decide), then the C engine goes on.
                self._write_back(final=True)
                self._after_python()
                continue
            if status == FR_SYNC:
                self._write_back(final=False)
                continue
            if status == FR_MORE:
                more = self._refill(pos)
                buf, pos = r._buf, r._pos  # (the reader's window moved)
                if not more:
                    break
                end = len(buf)  # (a longer window: the whole next block)
                cbuf = self.ffi.from_buffer(buf)
                continue
            break  # (FR_PAUSE: back to the consumer with the lines; the reader reads the
            # next block and hands it over, see lines())
        r._pos = pos
        r.bytes_read = r._base + pos
        r.events_read = e.num
        self._collect()
        if status == FR_ERROR:
            self._raise()
        if status == FR_COUNT:
            self._stop = True
            return None
        return int(e.num)

    # -- an uncompressed capture file, read in place -------------------------------------

    def _open_map(self) -> None:
        """Map an uncompressed regular file, so that the C engine reads its blocks where
        the page cache has them (no copy into the reader's window, no join of windows).
        The reader keeps its part: blocks the C engine hands back are given to it as they
        are in the file (see :meth:`_hook_map`)."""
        import mmap
        import stat

        r = self.reader
        stream = r._stream
        f = getattr(stream, "_f", None)
        if (r.compression != "none" or f is None or getattr(stream, "_head", b"") or r._eof):
            return
        try:
            fd = f.fileno()
            info = os.fstat(fd)
            if (not stat.S_ISREG(info.st_mode) or info.st_size < _MAP_MIN or not f.seekable()
                    or f.tell() != r._base + len(r._buf)):
                return
            mapped = mmap.mmap(fd, info.st_size, access=mmap.ACCESS_READ)
        except (OSError, ValueError, AttributeError):
            return  # (not a file that maps: the reader's windows)
        self._map, self._map_size, self._map_file = mapped, info.st_size, f
        self._map_fd = fd
        self._cmap = self.ffi.from_buffer(mapped)
        self._map_dropped = 0

    def _block_len(self, pos: int) -> int:
        """The length word of the block at ``pos`` of the mapped file, read with a plain
        read (Python never touches the map: a file cut short under it would raise
        SIGBUS); 0 when the file ends before it."""
        word = os.pread(self._map_fd, 4, pos + 4)
        return int.from_bytes(word, "little") if len(word) == 4 else 0

    def _hook_map(self, num: int) -> int | None:
        """_hook over the mapped file: from the reader's position to the end of the map,
        or to a block the reader is to read, which it is then given."""
        r, e, lib = self.reader, self.e, self.lib
        size = self._map_size
        pos = r._base + r._pos
        if pos >= size:
            return num  # (past the map: a file that grew, or its end)
        e.num = num
        while True:
            end = min(size, pos + _MAP_WINDOW)  # (windows: what was read is let go)
            if size - pos >= 8:  # (a window holds the next block whole, at the least)
                end = max(end, min(size, pos + self._block_len(pos)))
            status = lib.fr_run_mapped(e, self._cmap, size, pos, end, self._out_pos)
            pos = self._out_pos[0]
            if status == FR_GONE:
                # The file was cut short under the map: the reader reads on from here
                # with plain reads and reports what it finds (a truncated block, or
                # the end), as for any short file.
                self._map_size = size = pos
                break
            if status == FR_REMOVE:
                self._write_back(final=True)
                self._after_python()
                continue
            if status == FR_SYNC:
                self._write_back(final=False)
                continue
            if status == FR_MORE and end < size:
                self._unmap_read(pos)
                continue
            break
        # Hand the reader the block it reads next: an event block whole (it needs no
        # more), anything else with the file positioned there (it reads on from it).
        block = b""
        if status in (FR_PAUSE, FR_SLOW) and size - pos >= 8:
            blen = self._block_len(pos)
            if 12 <= blen <= size - pos:
                block = os.pread(self._map_fd, blen, pos)
                if len(block) != blen:
                    block = b""  # (cut short meanwhile: the reader finds out)
        r._buf, r._base, r._pos = block, pos, 0
        self._map_file.seek(pos + len(block))
        r.bytes_read = pos
        r.events_read = e.num
        self._unmap_read(pos)
        self._collect()
        if status == FR_ERROR:
            self._raise()
        if status == FR_COUNT:
            self._stop = True
            return None
        return int(e.num)

    def _unmap_read(self, pos: int) -> None:
        """Let the pages read before ``pos`` leave this process's memory (the page cache
        keeps them; nothing here points into them)."""
        import mmap

        if pos - self._map_dropped < _MAP_WINDOW or not hasattr(self._map, "madvise"):
            return
        end = pos - pos % mmap.PAGESIZE
        self._map.madvise(mmap.MADV_DONTNEED, self._map_dropped, end - self._map_dropped)
        self._map_dropped = end

    def _close_map(self) -> None:
        if self._map is not None:
            self._cmap = None
            try:
                self._map.close()
            except BufferError:
                pass  # (a view still held: closed when collected)
            self._map = None

    def _refill(self, pos: int) -> bool:
        """The window ends inside the next block (the C engine checked its header): have
        the reader extend it, as it would before reading that block itself. False at the
        end of the input (the reader reports it)."""
        r = self.reader
        r._pos = pos
        buf = r._buf
        need = int.from_bytes(buf[pos + 4:pos + 8], "little") if len(buf) - pos >= 8 else 8
        return r._avail(need)

    def _raise(self) -> None:
        """The C engine failed: the exception a callback raised, an inconsistency it
        found, or no memory."""
        error, self._error = self._error, None
        if error is not None:
            raise error
        message = self.ffi.string(self.e.errmsg).decode("ascii", "replace")
        if message:
            raise RuntimeError(message)
        raise MemoryError("fastread: the C engine ran out of memory")

    def _collect(self) -> None:
        """Take the lines the C engine wrote: one item for many lines, without the last
        newline (the consumer adds it), decoded straight from the C buffer."""
        n = self._out_len
        p = self.lib.fr_output(self.e, n)
        if n[0]:
            self._chunks.append(str(self.ffi.buffer(p, n[0] - 1), "utf-8", "surrogateescape"))
            self.lib.fr_output_clear(self.e)

    # -- keeping the two engines in step ---------------------------------------------------

    def _sync_to_c(self) -> None:
        """After the Python engine ran: what the C engine reads of its globals."""
        engine, e = self.engine, self.e
        e.first_ts = engine.first_ts
        e.rawbuf_len = engine.rawbuf_len
        e.budget_used = self.threads.fd_budget.used
        e.nthreads = len(self.threads)
        e.leading = int(engine._leading)
        text = engine.paramstr
        if text is not self._paramstr:  # (the C engine has the text it last gave)
            raw = text.encode("utf-8", "surrogateescape")
            if not self.lib.fr_set_paramstr(e, raw, len(raw)):
                raise MemoryError("fastread: no memory")
            self._paramstr = text
        self._synced = True

    def _observe(self, thread: Any) -> None:
        """ThreadTable.observer while the Python engine processes an event."""
        if thread is None:
            self._touched_all = True
        else:
            self._touched[id(thread)] = thread

    def _after_python(self) -> None:
        """The Python engine processed an event (and the line was rendered): carry out
        the removals it scheduled now rather than at the next event (nothing looks at
        the state in between), and let the C engine forget what changed."""
        engine = self.engine
        if engine._tid_to_remove is not None or engine._fds_to_remove:
            self.threads.observer = self._observe
            engine._carry_out_removals()
            self._refresh()

    def _refresh(self) -> None:
        """Let the C engine forget what the Python engine may have changed.

        Every thread it changed, it reached through the thread table, which told
        :meth:`_observe`; the C engine forgets those threads, every thread of their
        processes (they share the main thread's cwd and fd table) and those fd tables.
        """
        self.threads.observer = None
        touched, self._touched = self._touched, {}
        if self._touched_all or self.e.tabs_used > _MAX_TABLES:
            self._touched_all = False
            self._invalidate()
        else:
            ids: set[int] = set()
            tabs = []
            index = self._table_index
            for t in touched.values():
                ids.add(t.tid)
                ids.add(t.pid)
                idx = index.get(id(t.fdtable))
                if idx is not None:
                    tabs.append(idx)
            ffi = self.ffi
            clean = [i for i in ids if _fits(i)]
            self.lib.fr_forget(self.e, ffi.new("int64_t[]", clean), len(clean),
                               ffi.new("int32_t[]", tabs), len(tabs))
        self._sync_to_c()

    def _invalidate(self) -> None:
        """The C engine forgets all it knows of the state (nothing may be pending): its
        caches start over (they only grow while it runs)."""
        self.lib.fr_invalidate(self.e)
        self._tables.clear()
        self._table_index.clear()

    def _make_config(self) -> Any:
        """Per run: fd type chars as parameters show them, and the network interfaces."""
        from .render import fd_typechar
        from .state.fds import FdInfo

        ffi, compat = self.ffi, self.engine.sysdig_compat
        c = ffi.new("struct fr_config *")
        for t in range(32):
            c.typechar[t] = ord(fd_typechar(compat, FdInfo(type=t)))
        ifs = self.engine.interfaces
        v4 = b"".join(i.addr + i.netmask for i in ifs.ipv4)
        v6 = b"".join(i.addr + i.netmask for i in ifs.ipv6)
        if len(v4) != 8 * len(ifs.ipv4) or len(v6) != 32 * len(ifs.ipv6):
            raise ValueError("malformed interface addresses")
        self._ifs = (ffi.new("uint8_t[]", v4 or b"\0"), ffi.new("uint8_t[]", v6 or b"\0"))
        c.n_ipv4, c.n_ipv6 = len(ifs.ipv4), len(ifs.ipv6)
        c.ipv4, c.ipv6 = self._ifs
        return c

    def _write_back(self, final: bool) -> None:
        """Apply the C engine's changes to the Python engine. ``final``: the Python engine
        (or nobody) processes the next event, so a removal due then is handed over too."""
        e, lib, ffi = self.e, self.lib, self.ffi
        engine = self.engine
        if lib.fr_pending(e):
            n, nt, no = self._out_len, self._nt, self._no
            p = lib.fr_log(e, n, nt)
            if p == ffi.NULL:
                raise MemoryError("fastread: no memory")
            if n[0]:
                self._apply_log(ffi.buffer(p, n[0])[:], nt[0])
            p = lib.fr_export(e, n, nt, no)
            if p == ffi.NULL:
                raise MemoryError("fastread: no memory")
            data = ffi.buffer(p, n[0])[:]
            off = self._apply_threads(data, nt[0])
            self._apply_ops(data, off, no[0])
            engine._enters_too_large += e.enters_too_large
            lib.fr_export_done(e)
            if len(self.threads) != e.nthreads or self.threads.fd_budget.used != e.budget_used:
                raise RuntimeError(
                    f"fastread: the engines disagree after a write-back: {len(self.threads)} "
                    f"threads, {self.threads.fd_budget.used} fds in Python; {e.nthreads} "
                    f"threads, {e.budget_used} fds in C")
        if e.tabs_used > _MAX_TABLES:
            self._invalidate()
        if final:  # (due before the next event: the Python engine processes it)
            if e.rm_pending:
                engine._tid_of_fds_to_remove = e.rm_tid
                engine._fds_to_remove.append(e.rm_fd)
                e.rm_pending = 0
            if e.exit_pending:
                engine.schedule_thread_removal(e.exit_tid)
                e.exit_pending = 0
        self._pull_globals()

    def _pull_globals(self) -> None:
        """The engine-wide values the C engine keeps while it runs, into the Python one."""
        e, engine = self.e, self.engine
        engine.first_ts = e.first_ts
        engine._leading = bool(e.leading)
        engine.rawbuf_len = e.rawbuf_len
        if e.paramstr_changed:
            n = self._out_len
            p = self.lib.fr_paramstr(e, n)
            self._paramstr = str(self.ffi.buffer(p, n[0]), "utf-8", "surrogateescape")
            e.paramstr_changed = 0
        if self._paramstr is not None:
            engine.paramstr = self._paramstr

    def _apply_threads(self, data: bytes, count: int) -> int:
        get = self.threads.get
        unpack, size = _THREAD.unpack_from, _THREAD.size
        active = _ACTIVE
        off = 0
        for _ in range(count):
            (tid, le_fd, le_type, latency, le_ts, vmsize, vmrss, vmswap, pfmaj, pfmin,
             fdlimit, flagbits, reaper, e_num, e_off, e_ts, e_tid, e_cpu, e_dflags, e_type,
             e_np, valid, set_active, enter_state, vm_set, pf_set, fdlimit_set, reaper_set, _,
             e_len) = unpack(data, off)
            off += size
            t = get(tid)
            if t is None:
                raise RuntimeError(f"fastread: thread {tid} vanished")
            t.lastevent_fd = le_fd
            t.lastevent_type = le_type
            t.latency = latency
            t.latency_enter_ts = le_ts
            t.lastevent_valid = bool(valid)
            if set_active or flagbits:
                t.flags = int(t.flags) | (active if set_active else 0) | flagbits
            if enter_state == 1:
                t.lastevent = None
            elif enter_state == 2:
                t.lastevent = RawEvent(e_num, e_off, e_cpu, e_dflags, e_ts, e_tid, e_type, e_np,
                                       data[off:off + e_len])
                off += e_len
            if vm_set:
                t.vmsize_kb, t.vmrss_kb, t.vmswap_kb = vmsize, vmrss, vmswap
            if pf_set:
                t.pfmajor, t.pfminor = pfmaj, pfmin
            if fdlimit_set:
                t.fdlimit = fdlimit
            if reaper_set:
                t.reaper_tid = reaper
        return off

    def _apply_log(self, data: bytes, count: int) -> None:
        """The C engine's thread operations, in order, with the fd changes between them:
        the process handlers run here on the state as it was at their event."""
        engine, threads = self.engine, self.threads
        unpack, hsize = _TOP.unpack_from, _TOP.size
        off = 0
        dropped: set[int] = set()  # tables of threads made and gone in the batch
        for _ in range(count):
            length, kind, cancelled, tid = unpack(data, off)
            body, end = off + hsize, off + length
            off = end
            if cancelled:
                if kind == TOP_CLONE:
                    dropped.add(_TOP_CLONE.unpack_from(data, body)[1])
                elif kind == TOP_CREATE:
                    dropped.add(_TAB.unpack_from(data, body)[0])
                continue
            if kind == TOP_FDS:
                (n,) = _COUNT.unpack_from(data, body)
                self._apply_ops(data, body + _COUNT.size, n, dropped)
            elif kind == TOP_CREATE:
                (tab,) = _TAB.unpack_from(data, body)
                if tid in threads:
                    raise RuntimeError(f"fastread: thread {tid} is there already")
                made = threads.get_or_create(tid)
                if made is None:
                    raise RuntimeError(f"fastread: thread {tid} could not be made")
                self._put_table(tab, made.fdtable)
            elif kind == TOP_CLONE:
                child, tab, cpu, num, offset, dflags, elen = _TOP_CLONE.unpack_from(data, body)
                at = body + _TOP_CLONE.size
                ev = _raw_event(data[at:at + elen], num, offset, cpu, dflags)
                self._run_handlers(ev, threads.get(tid), None)
                made = threads._threads.get(child)
                if made is None:
                    raise RuntimeError(f"fastread: clone of thread {child} made no thread")
                if tab >= 0:
                    self._put_table(tab, made.fdtable)
            elif kind == TOP_EXEC:
                cpu, dflags, num, offset, elen, nlen = _TOP_EXEC.unpack_from(data, body)
                at = body + _TOP_EXEC.size
                ev = _raw_event(data[at:at + elen], num, offset, cpu, dflags)
                enter = _raw_event(data[at + elen:at + elen + nlen], 0, 0, 0, 0) if nlen else None
                thread = threads._threads.get(tid)
                if thread is None:
                    raise RuntimeError(f"fastread: execve of thread {tid}, which is not there")
                self._run_handlers(ev, thread, enter)
            elif kind == TOP_REMOVE:
                if engine.remove_thread(tid, force=False) is None:
                    raise RuntimeError(f"fastread: thread {tid} could not be removed")
            else:
                raise RuntimeError(f"fastread: unknown change record {kind}")

    def _run_handlers(self, ev: RawEvent, thread: Any, enter: RawEvent | None) -> None:
        """What StateEngine.process runs of an event: its handlers, on this context."""
        from .state.engine import EventArgs, EventContext

        engine = self.engine
        code = ev.type
        ctx = EventContext(ev, engine, engine._infos[code], engine._flags[code], EventArgs(ev))
        ctx.thread = thread
        ctx.enter = enter
        for handler in engine._handlers[code]:
            handler(engine, ctx)

    def _put_table(self, idx: int, table: Any) -> None:
        """Register a table the C engine made under the index it gave it."""
        tables = self._tables
        if len(tables) <= idx:
            tables.extend([None] * (idx + 1 - len(tables)))
        tables[idx] = table
        self._table_index[id(table)] = idx

    def _apply_ops(self, data: bytes, off: int, count: int,
                   dropped: set[int] | frozenset[int] = frozenset()) -> None:
        tables = self._tables
        unpack, size = _OP.unpack_from, _OP.size
        for _ in range(count):
            (kind, tab, fd, ftype, flags, openflags, dev, mount_id, ino, pid, sock,
             name_len) = unpack(data, off)
            off += size
            name = data[off:off + name_len].decode("utf-8", "surrogateescape")
            off += name_len
            if tab in dropped:
                continue  # (the table of a thread made and gone in the batch)
            table = tables[tab]
            if kind == OP_ADD_FD:
                info = FdInfo(_fd_type(ftype), name, openflags, _FdFlag(flags), dev, mount_id,
                              ino, SockInfo(sock), pid)
                if fd in table or table.add(fd, info) is None:
                    raise RuntimeError(f"fastread: fd {fd} could not be added")
            elif kind == OP_REMOVE_FD:
                if table.remove(fd) is None:
                    raise RuntimeError(f"fastread: fd {fd} was not there to remove")
            else:
                entry = table.get(fd)
                if entry is None:
                    raise RuntimeError(f"fastread: fd {fd} is not there to change")
                if kind == OP_PUT_FD:
                    entry.type, entry.name, entry.openflags = _fd_type(ftype), name, openflags
                    entry.dev, entry.mount_id, entry.ino, entry.pid = dev, mount_id, ino, pid
                    entry.sock.raw[:] = sock
                entry.flags = _FdFlag(flags)

    # -- the C engine's lookups (see fastread.c) -----------------------------------------

    def _main_would_fail(self, t: Any) -> bool:
        """Would threads.main_thread(t) have to create a thread in a full table?"""
        threads = self.threads
        return (not t.is_main_thread and t.pid not in threads
                and self._full())

    def _full(self) -> bool:
        """Is the thread table full? (As the Python engine has it, or with the changes
        the C engine has not written back yet: either way, making a thread is Python's.)"""
        threads = self.threads
        return max(len(threads), self.e.nthreads) >= threads.max_threads

    def _cb_thread(self, tid: int, create: int, out: Any) -> int:
        threads = self.threads
        t = threads.get(tid)
        if t is None and create:
            if self._full():
                return CB_SLOW  # get_or_create would fail (and count it)
            t = threads.get_or_create(tid)
            self.e.nthreads += 1  # (the C count includes its changes not written back)
        if t is None:
            out.exists = 0
            return CB_OK
        ffi = self.ffi
        comm = t.comm.encode("utf-8", "surrogateescape")
        keep = [comm]
        out.exists = 1
        out.comm = ffi.from_buffer(comm)
        out.comm_len = len(comm)
        le = t.lastevent
        flags, own = int(t.flags), len(t.fdtable)
        safe = (_fits(t.lastevent_fd) and _fits(t.lastevent_type) and _fits(t.latency)
                and type(t.latency_enter_ts) is int and 0 <= t.latency_enter_ts < 1 << 64
                and _fits(t.pid) and _fits(flags) and _fits(t.nchilds)
                and type(t.clone_ts) is int and 0 <= t.clone_ts < 1 << 64)
        out.safe = int(safe)
        if safe:
            out.pid = t.pid
            out.lastevent_fd = t.lastevent_fd
            out.lastevent_type = t.lastevent_type
            out.latency = t.latency
            out.latency_enter_ts = t.latency_enter_ts
            out.flags = flags
            out.nchilds = t.nchilds
            out.clone_ts = t.clone_ts
        out.uid_none = int(t.uid == _NO_ID)
        out.own_is_tab = int(not flags & _CLONE_FILES or t.is_main_thread)
        out.own_len = own
        out.lastevent_valid = int(bool(t.lastevent_valid))
        if le is not None:
            out.enter_type = le.type
            out.enter_data = ffi.from_buffer(le.data)
            out.enter_len = len(le.data)
            keep.append(le.data)
        else:
            out.enter_type = -1
        # What main_thread(), cwd() and fd_table() give without creating a thread.
        main = t if t.is_main_thread else threads._threads.get(t.pid)
        if main is not None:
            out.main_known, out.main_tid = 1, main.tid
            cwd = main.cwd.encode("utf-8", "surrogateescape")
            keep.append(cwd)
            out.cwd_known, out.cwd, out.cwd_len = 1, ffi.from_buffer(cwd), len(cwd)
        if main is not None or not t.flags & _CLONE_FILES:
            out.tab_known = 1
            keep.append(self._table_fill(threads.fd_table(t), out.tab))
        self._keep = keep
        return CB_OK

    def _table_fill(self, table: Any, out: Any) -> Any:
        """Fill a struct fr_tabfill; returns what must stay alive until C copied it."""
        if table is None:
            out.tab = -1
            return None
        idx = self._table_index.get(id(table))
        if idx is None:
            idx = self.e.tabs_used
            self.e.tabs_used = idx + 1
            self._put_table(idx, table)
        out.tab = idx
        out.len = len(table)
        if len(table) > _MAX_KEYS:
            return None
        keys = sorted(table)
        if not keys or not (_fits(keys[0]) and _fits(keys[-1])):
            out.keys_known = int(not keys)
            return None
        arr = self.ffi.new("int64_t[]", keys)
        out.keys_known, out.keys, out.nkeys = 1, arr, len(keys)
        return arr

    def _cb_fdtab(self, tid: int, out: Any) -> int:
        t = self.threads.get(tid)
        if (self.e.phase == 0 and t.flags & _CLONE_FILES
                and self._main_would_fail(t)):
            return CB_SLOW
        before = len(self.threads)
        table = self.threads.fd_table(t)
        self.e.nthreads += len(self.threads) - before
        if table is None:
            return CB_NOCACHE  # a failed lookup, repeated (and counted) each time
        self._keep = [self._table_fill(table, out)]
        return CB_OK

    def _cb_fd(self, tab: int, fd: int, out: Any) -> int:
        info = self._tables[tab].get(fd)
        if info is None:
            out.exists = 0
            return CB_OK
        ffi = self.ffi
        values = (int(info.type), int(info.flags), info.openflags, info.dev, info.mount_id,
                  info.ino, info.pid)
        out.exists = 1
        if not all(_fits(v) for v in values) or len(info.sock.raw) != 37:
            out.safe = 0
            return CB_OK
        out.safe = 1
        (out.type, out.flags, out.openflags, out.dev, out.mount_id, out.ino,
         out.pid) = values
        sock = bytes(info.sock.raw)
        name = info.name.encode("utf-8", "surrogateescape")
        out.sock = ffi.from_buffer(sock)
        out.name = ffi.from_buffer(name)
        out.name_len = len(name)
        self._keep = [sock, name]
        return CB_OK

    def _cb_cwd(self, tid: int, out: Any) -> int:
        threads = self.threads
        t = threads.get(tid)
        failing = self._main_would_fail(t)
        if failing and self.e.phase == 0:
            return CB_SLOW
        before = len(threads)
        cwd = threads.cwd(t).encode("utf-8", "surrogateescape")
        self.e.nthreads += len(threads) - before
        out.p = self.ffi.from_buffer(cwd)
        out.n = len(cwd)
        self._keep = [cwd]
        return CB_NOCACHE if failing else CB_OK

    def _cb_main(self, tid: int, main_tid: Any) -> int:
        threads = self.threads
        t = threads.get(tid)
        if self._main_would_fail(t):
            return CB_SLOW
        before = len(threads)
        main = threads.main_thread(t)
        self.e.nthreads += len(threads) - before
        main_tid[0] = -1 if main is None else main.tid
        return CB_OK

    def _cb_count(self, pid: int, out: Any) -> int:
        """How many threads have this pid (a placeholder's thread count)."""
        out[0] = sum(1 for t in self.threads._threads.values() if t.pid == pid)
        return CB_OK

    def _cb_user(self, uid: int, group: int, out: Any) -> int:
        from .state.paths import sanitize

        table = self.engine.groups if group else self.engine.users
        entry = table.get(uid)
        name = ("<NA>" if entry is None else sanitize(entry.name)).encode(
            "utf-8", "surrogateescape")
        out.p = self.ffi.from_buffer(name)
        out.n = len(name)
        self._keep = [name]
        return CB_OK


_CLONE_FILES = int(CloneFlag.CLONE_FILES)
#: Writes that may be shown decoded (syslog): the Python engine's events are rendered there.
from .state.syslog import _WRITES as _SYSLOG_WRITES  # noqa: E402
_NO_ID = NO_ID
_NUM_EVENTS = NUM_EVENTS
_ACTIVE = int(CloneFlag.ACTIVE)


_FD_TYPES = {int(t): t for t in FdType}


def _tz_offset() -> int:
    """The local zone's offset, as fields_evt takes it (its value when it has taken it)."""
    import sys

    evt = sys.modules.get(__package__ + ".fields_evt")
    if evt is not None:
        return int(evt._tz_offset())
    import time

    return time.localtime().tm_gmtoff
_HEADER = struct.Struct("<QqIHI")  # ts, tid, len, type, nparams (RawEvent.data)


def _raw_event(data: bytes, num: int, offset: int, cpu: int, dflags: int) -> RawEvent:
    """A RawEvent from its v2 data (as the C engine logged it)."""
    ts, tid, _, code, nparams = _HEADER.unpack_from(data)
    return RawEvent(num, offset, cpu, dflags, ts, tid, code, nparams, data)


def _fd_type(value: int) -> Any:
    """An fd type as the handlers store it (an FdType member when it is one)."""
    return _FD_TYPES.get(value, value)


@lru_cache(maxsize=1024)
def _FdFlag(value: int) -> Any:
    """fd flags as the handlers store them (an FdFlag)."""
    return FdFlag(value)
