"""Threads and processes: the thread table and process-tree queries.

This is the data model only (what a thread is, how the table is kept, how to walk the
tree); the events that change it live in :mod:`.handlers_process`.

Vocabulary, as in Linux and sinsp: every task is a *thread* with its own ``tid``;
the threads sharing a ``pid`` form a *process* whose *main thread* has ``tid == pid``.
A thread's parent is the thread ``ptid``; the process parent (``proc.ppid``) is the
main thread's ``ptid``. Process-wide state (fd table when ``CLONE_FILES``, cwd,
environment, fd limit) lives on the main thread.

sinsp's rules reproduced here, because they decide what sysdig prints:

* looking up a thread the table does not know (for any event but a clone exit or a
  scheduler switch) creates a placeholder: ``pid = tid``, ``ptid = -1``, comm and exe
  ``<NA>``, uid/gid/loginuid ``0xffffffff``. A later execve or clone fills it in;
* the same happens when a non-main thread needs its main thread and the table has none;
* a process whose main thread exits while other threads run stays in the table (the
  thread count keeps it), and the table drops new threads once it holds ``max_threads``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from scapkit.scapfile.events import RawEvent

from .fds import MAX_FDS_PER_THREAD, MAX_FDS_TOTAL, FdBudget, FdInfo, FdTable
from .paths import MAX_PATH, concatenate

#: Default cap on the thread table (sinsp's absolute maximum).
MAX_THREADS = 131072
#: uid/gid/loginuid of an unknown user.
NO_ID = 0xFFFFFFFF
#: comm and exe of a placeholder thread.
UNKNOWN_NAME = "<NA>"


class CloneFlag(enum.IntFlag):
    """Thread flags: the driver's clone flags plus sinsp's own bits (``PPM_CL_*``)."""

    NONE = 0
    CLONE_FILES = 1 << 0
    CLONE_FS = 1 << 1
    CLONE_NEWPID = 1 << 6
    CLONE_THREAD = 1 << 13
    CLONE_VM = 1 << 15
    CLONE_INVERTED = 1 << 16
    NAME_CHANGED = 1 << 17
    CLOSED = 1 << 18
    ACTIVE = 1 << 19
    CLONE_NEWUSER = 1 << 20
    PIPE_SRC = 1 << 21
    PIPE_DST = 1 << 22
    CLONE_VFORK = 1 << 27
    CLONE_NEWCGROUP = 1 << 28
    CHILD_IN_PIDNS = 1 << 29
    IS_MAIN_THREAD = 1 << 30


# The flags as plain ints, for the hot paths (IntFlag arithmetic is slow).
_CLONE_FILES = int(CloneFlag.CLONE_FILES)
_CLONE_THREAD = int(CloneFlag.CLONE_THREAD)
_CLOSED = int(CloneFlag.CLOSED)
_IS_MAIN_THREAD = int(CloneFlag.IS_MAIN_THREAD)


@dataclass(slots=True, eq=False)
class ThreadInfo:
    """One thread. Process-wide fields are meaningful on the main thread."""

    tid: int
    pid: int = -1
    ptid: int = -1
    sid: int = -1
    vpgid: int = -1
    comm: str = ""
    exe: str = ""
    exepath: str = ""
    exe_writable: bool = False
    args: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    #: Working directory, always ending with '/' once set (main thread only).
    cwd: str = ""
    root: str = ""
    flags: int = int(CloneFlag.NAME_CHANGED)
    fdlimit: int = -1
    uid: int = NO_ID
    gid: int = NO_ID
    loginuid: int = 0
    vtid: int = -1
    vpid: int = -1
    tty: int = 0
    cgroups: list[tuple[str, str]] = field(default_factory=list)
    container_id: str = ""
    container_runtime: str = ""
    clone_ts: int = 0
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    #: Threads of this process other than the main thread (kept on the main thread).
    nchilds: int = 0
    fdtable: FdTable = field(default_factory=FdTable)
    # -- per-event bookkeeping (sinsp's m_lastevent_*) --
    #: The fd the current event works on (``fd.num``).
    lastevent_fd: int = 0
    #: Code of the last enter event seen for this thread (-1: none).
    lastevent_type: int = -1
    #: The stored enter event an exit may consult, and whether it is still valid.
    lastevent: RawEvent | None = None
    lastevent_valid: bool = False
    #: Set when the thread exited (it is removed at the next event).
    reaper_tid: int = -1
    #: ``evt.latency``: time from the last enter event to this exit (0 on enter events),
    #: and the timestamp of that enter event (0: none seen yet).
    latency: int = 0
    latency_enter_ts: int = 0

    @property
    def is_main_thread(self) -> bool:
        return self.tid == self.pid or bool(self.flags & _IS_MAIN_THREAD)

    @property
    def is_placeholder(self) -> bool:
        """Created from a bare tid: nothing is known about it yet."""
        return self.comm == UNKNOWN_NAME and self.uid == NO_ID

    @property
    def exited(self) -> bool:
        return bool(self.flags & _CLOSED)

    @property
    def in_container(self) -> bool:
        return bool(self.container_id)

    @property
    def cmdline(self) -> str:
        """``comm arg1 arg2...`` (``proc.cmdline``)."""
        return " ".join([self.comm, *self.args])

    def getenv(self, name: str) -> str | None:
        prefix = name + "="
        for item in self.env:
            if item.startswith(prefix) and len(item) > len(prefix):
                return item[len(prefix):].strip(" ")
        return None

    def cgroup(self, subsystem: str) -> str:
        for subsys, path in self.cgroups:
            if subsys == subsystem:
                return path
        return "/"


def placeholder(tid: int) -> ThreadInfo:
    """The entry sinsp makes for a thread it meets without knowing it."""
    return ThreadInfo(tid=tid, pid=tid, ptid=-1, comm=UNKNOWN_NAME, exe=UNKNOWN_NAME,
                      uid=NO_ID, gid=NO_ID, loginuid=NO_ID)


class ThreadTable:
    """All known threads by tid, bounded by ``max_threads``."""

    def __init__(self, *, max_threads: int = MAX_THREADS,
                 max_fds_per_thread: int = MAX_FDS_PER_THREAD,
                 max_fds_total: int = MAX_FDS_TOTAL, max_path: int = MAX_PATH) -> None:
        self._threads: dict[int, ThreadInfo] = {}
        self.max_threads = max_threads
        self.max_fds_per_thread = max_fds_per_thread
        self.max_path = max_path
        #: The fds of all tables together (``fd_budget.used``) against ``max_fds_total``.
        self.fd_budget = FdBudget(max_fds_total)
        #: Threads not added (or not created) because the table was full.
        self.dropped = 0
        #: Told of every thread handed out, added or removed (None: all of them, as an
        #: iteration hands them out); the C read engine learns from it what to forget.
        self.observer: Callable[[ThreadInfo | None], None] | None = None

    def __len__(self) -> int:
        return len(self._threads)

    def __iter__(self) -> Iterator[ThreadInfo]:
        if self.observer is not None:
            self.observer(None)
        return iter(list(self._threads.values()))

    def __contains__(self, tid: int) -> bool:
        return tid in self._threads

    def new_thread(self, tid: int) -> ThreadInfo:
        return ThreadInfo(tid=tid, fdtable=self.new_fd_table())

    def new_fd_table(self) -> FdTable:
        return FdTable(self.max_fds_per_thread, self.fd_budget)

    # -- lookup -------------------------------------------------------------------------

    def get(self, tid: int) -> ThreadInfo | None:
        """The thread, or None; never creates one."""
        thread = self._threads.get(tid)
        if self.observer is not None and thread is not None:
            self.observer(thread)
        return thread

    def get_or_create(self, tid: int) -> ThreadInfo | None:
        """The thread, creating a placeholder for an unknown tid (None if the table is full)."""
        thread = self._threads.get(tid)
        if thread is not None:
            if self.observer is not None:
                self.observer(thread)
            return thread
        if len(self._threads) >= self.max_threads:
            self.dropped += 1
            return None
        thread = placeholder(tid)
        thread.fdtable = self.new_fd_table()
        thread.nchilds = sum(1 for t in self._threads.values() if t.pid == tid)
        self.add(thread)
        return self._threads.get(tid)

    # -- membership ------------------------------------------------------------------------

    def add(self, thread: ThreadInfo, *, from_snapshot: bool = False) -> bool:
        """Insert (or replace) a thread; False when the table is full."""
        if len(self._threads) >= self.max_threads:
            self.dropped += 1
            return False
        if not from_snapshot:
            self._count_in_main(thread)
        replaced = self._threads.get(thread.tid)
        if replaced is not None and replaced.fdtable is not thread.fdtable:
            replaced.fdtable.clear()
        if self.observer is not None:
            if replaced is not None:
                self.observer(replaced)
            self.observer(thread)
        self._threads[thread.tid] = thread
        return True

    def _count_in_main(self, thread: ThreadInfo) -> None:
        if thread.flags & _CLONE_THREAD:
            main = self.get_or_create(thread.pid)
            if main is not None:
                main.nchilds += 1

    def remove(self, tid: int, *, force: bool = False) -> ThreadInfo | None:
        """Remove a thread; a main thread with live threads stays unless ``force``."""
        thread = self._threads.get(tid)
        if thread is None:
            return None
        if self.observer is not None:
            self.observer(thread)
        nchilds = thread.nchilds
        if nchilds and not force:
            return None
        if thread.flags & _CLONE_THREAD:
            main = self._threads.get(thread.pid)
            if main is not None and main.nchilds > 0:
                main.nchilds -= 1
                if self.observer is not None:
                    self.observer(main)
        del self._threads[tid]
        thread.fdtable.clear()
        if nchilds:
            self.recount_threads()
        return thread

    def recount_threads(self) -> None:
        """Recompute every process's thread count from scratch."""
        if self.observer is not None:
            self.observer(None)  # (every thread may change)
        for t in list(self._threads.values()):
            t.nchilds = 0
        for t in list(self._threads.values()):
            self._count_in_main(t)

    # -- process-wide state -------------------------------------------------------------------

    def main_thread(self, thread: ThreadInfo) -> ThreadInfo | None:
        """The process's main thread (a placeholder is created when unknown, as sinsp does)."""
        if thread.is_main_thread:
            return thread
        return self.get_or_create(thread.pid)

    def fd_table(self, thread: ThreadInfo) -> FdTable | None:
        if not thread.flags & _CLONE_FILES:
            return thread.fdtable
        main = self.main_thread(thread)
        return None if main is None else main.fdtable

    def get_fd(self, thread: ThreadInfo, fd: int) -> FdInfo | None:
        """The thread's fd ``fd``; like sinsp's lookup, it notes the fd's current name
        (``oldname``), so that a rename while the event is parsed shows."""
        if fd < 0:
            return None
        table = self.fd_table(thread)
        info = None if table is None else table.get(fd)
        if info is not None:
            info.oldname = info.name
        return info

    def add_fd(self, thread: ThreadInfo, fd: int, info: FdInfo) -> FdInfo | None:
        """Add (or replace) an fd of the thread's process; it becomes the event's fd number."""
        table = self.fd_table(thread)
        entry = None if table is None else table.add(fd, info)
        thread.lastevent_fd = fd
        return entry

    def cwd(self, thread: ThreadInfo) -> str:
        main = self.main_thread(thread)
        return "./" if main is None else main.cwd

    def set_cwd(self, thread: ThreadInfo, path: bytes) -> None:
        """Change directory to ``path`` (raw parameter bytes), relative to the current one."""
        main = self.main_thread(thread)
        if main is None:
            return
        new, _ = concatenate(main.cwd, path, limit=self.max_path)
        if not new.endswith("/"):
            new += "/"
        main.cwd = new


class ProcessTree:
    """Read-only queries over a :class:`ThreadTable`: parents, ancestors, sessions."""

    def __init__(self, table: ThreadTable) -> None:
        self.table = table

    def process(self, thread: ThreadInfo) -> ThreadInfo | None:
        """The main thread of ``thread``'s process (None when it is not known)."""
        return thread if thread.is_main_thread else self.table.get(thread.pid)

    def parent(self, thread: ThreadInfo) -> ThreadInfo | None:
        """The thread that created ``thread`` (its ``ptid``), if still known."""
        return self.table.get(thread.ptid)

    def ppid(self, thread: ThreadInfo) -> int | None:
        """``proc.ppid``: the parent of the thread's process."""
        main = self.process(thread)
        return None if main is None else main.ptid

    def parent_process(self, thread: ThreadInfo) -> ThreadInfo | None:
        main = self.process(thread)
        return None if main is None else self.table.get(main.ptid)

    def ancestors(self, thread: ThreadInfo) -> Iterator[ThreadInfo]:
        """Parent, grandparent... of ``thread`` while known; stops at a loop in the chain."""
        slow = self.parent(thread)
        fast = self.parent(slow) if slow is not None else None
        while slow is not None and slow.tid != -1:
            yield slow
            slow = self.parent(slow)
            for _ in range(2):
                fast = self.parent(fast) if fast is not None else None
                if slow is not None and (slow is fast or slow.tid == slow.ptid):
                    return

    def process_ancestors(self, thread: ThreadInfo) -> Iterator[ThreadInfo]:
        """Ancestors of the thread's process (``proc.aname[1]``, ``[2]``...)."""
        main = self.process(thread)
        if main is not None:
            yield from self.ancestors(main)

    def children(self, thread: ThreadInfo) -> list[ThreadInfo]:
        """Known processes created by ``thread``'s process (main threads with ppid = its pid)."""
        pid = thread.pid
        return [t for t in self.table if t.is_main_thread and t.ptid == pid and t.tid != pid]

    def threads(self, pid: int) -> list[ThreadInfo]:
        """All known threads of process ``pid``."""
        return [t for t in self.table if t.pid == pid]

    def session_leader(self, thread: ThreadInfo) -> ThreadInfo | None:
        """The session leader: the thread ``sid``, or, once it exited, the highest
        ancestor still in the session (sinsp's ``proc.sname`` rule)."""
        leader = self.table.get(thread.sid)
        if leader is not None:
            return leader
        main = self.process(thread)
        if main is None:
            return None
        for ancestor in self.ancestors(main):
            if ancestor.sid != main.sid:
                break
            main = ancestor
        return main

    def login_shell(self, thread: ThreadInfo) -> ThreadInfo | None:
        """The outermost shell (comm ending in ``sh``) among the process and its ancestors
        (``proc.loginshellid`` is its pid)."""
        main = self.process(thread)
        if main is None:
            return None
        found = main if main.comm.endswith("sh") else None
        for ancestor in self.ancestors(main):
            if ancestor.comm.endswith("sh"):
                found = ancestor
        return found
