"""Handlers for fds that are not network sockets: files, pipes, event/timer/signal/inotify
fds, epoll, memfd, userfaultfd, io_uring, bpf, pidfd; close and the dup family.

Each handler follows sinsp (libs e5c53d64) where sysdig 0.29.3 tracks the syscall, and
newer libs for syscalls it did not know.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fds import CANCELED_FD, OPEN_CLOEXEC, OPEN_DIRECTORY, FdFlag, FdInfo, FdType
from .handlers_process import dirfd_base
from .paths import c_string, concatenate, to_text
from .registry import handles, stores_enter
from .threads import CloneFlag

if TYPE_CHECKING:
    from .engine import EventContext, StateEngine

#: The device sinsp treats as a tracer channel when opened.
TRACER_DEVICE = "/dev/null"
#: fcntl commands that duplicate an fd.
F_DUPFD, F_DUPFD_CLOEXEC = 1, 26
#: ``PPM_CLOSE_RANGE_CLOEXEC`` in close_range's flags.
CLOSE_RANGE_CLOEXEC = 1 << 2
#: epoll_create1's and memfd_create's close-on-exec bit.
EPOLL_CLOEXEC = MFD_CLOEXEC = 1 << 0

stores_enter("open", "openat", "openat2", "creat")


# -- open family ---------------------------------------------------------------------------------


def _is_null_name(raw: bytes) -> bool:
    return c_string(raw) == b"(NULL)"


@handles("open", "openat", "openat2", "creat")
def open_exit(eng: StateEngine, ctx: EventContext) -> None:
    """A file or directory opened: resolved against the cwd or the dirfd."""
    thread = ctx.thread
    if thread is None:
        return
    args, symbol = ctx.args, ctx.event.info.symbol  # type: ignore[union-attr]
    enter = eng.enter_args(ctx)
    fd = args.int("fd")
    dev = 0
    if symbol == "SYSCALL_OPEN_X":
        name, flags = args.raw("name") or b"", args.int("flags", 0) or 0
        if len(args) > 4:
            dev = args.int("dev", 0) or 0
        if enter is not None and len(enter) >= 2:
            ename = enter.raw("name") or b""
            if ename and not _is_null_name(ename):
                name, flags = ename, enter.int("flags", 0) or 0
        directory = eng.threads.cwd(thread)
    elif symbol == "SYSCALL_CREAT_X":
        name, flags = args.raw("name") or b"", 0
        if len(args) > 3:
            dev = args.int("dev", 0) or 0
        if enter is not None and len(enter) >= 1:
            ename = enter.raw("name") or b""
            if ename and not _is_null_name(ename):
                name = ename
        directory = eng.threads.cwd(thread)
    elif symbol == "SYSCALL_OPENAT_X":
        # The oldest openat exit has only the fd: everything else is in the enter.
        if enter is None:
            return
        name, flags = enter.raw("name") or b"", enter.int("flags", 0) or 0
        directory = dirfd_base(eng, ctx, name, enter.int("dirfd", 0) or 0)
    else:  # openat (v2) and openat2
        name, flags = args.raw("name") or b"", args.int("flags", 0) or 0
        dirfd = args.int("dirfd", 0) or 0
        if symbol == "SYSCALL_OPENAT_2_X" and len(args) > 5:
            dev = args.int("dev", 0) or 0
        if enter is not None and len(enter) >= 3:
            ename = enter.raw("name") or b""
            if ename and not _is_null_name(ename):
                name, flags = ename, enter.int("flags", 0) or 0
                dirfd = enter.int("dirfd", 0) or 0
        directory = dirfd_base(eng, ctx, name, dirfd)
    fullpath, _ = concatenate(directory, name, limit=eng.limits.max_path)
    if fd is None or fd < 0:
        return
    info = FdInfo(type=FdType.DIRECTORY if flags & OPEN_DIRECTORY else FdType.FILE_V2,
                  name=fullpath, openflags=flags, dev=dev)
    info.flags |= FdFlag.IS_TRACER_FILE if fullpath == TRACER_DEVICE else FdFlag.IS_NOT_TRACER_FD
    eng.add_fd(ctx, fd, info)


@handles("open_by_handle_at")
def open_by_handle_exit(eng: StateEngine, ctx: EventContext) -> None:
    """open_by_handle_at (newer than sysdig 0.29.3): the driver gives the full path."""
    thread = ctx.thread
    fd = ctx.args.int("fd")
    if thread is None or fd is None or fd < 0:
        return
    flags = ctx.args.int("flags", 0) or 0
    fullpath, _ = concatenate(eng.threads.cwd(thread), ctx.args.raw("path") or b"",
                              limit=eng.limits.max_path)
    info = FdInfo(type=FdType.DIRECTORY if flags & OPEN_DIRECTORY else FdType.FILE_V2,
                  name=fullpath, openflags=flags, dev=ctx.args.int("dev", 0) or 0)
    eng.add_fd(ctx, fd, info)


# -- close ----------------------------------------------------------------------------------------


@handles("close", direction=">")
def close_enter(eng: StateEngine, ctx: EventContext) -> None:
    thread = ctx.thread
    if thread is None:
        return
    ctx.fd = eng.threads.get_fd(thread, thread.lastevent_fd)
    if ctx.fd is not None:
        ctx.fd.flags |= FdFlag.CLOSE_IN_PROGRESS


@handles("close")
def close_exit(eng: StateEngine, ctx: EventContext) -> None:
    """A successful close removes the fd (after this event: it is still this event's fd)."""
    res = ctx.args.int("res")
    thread = ctx.thread
    if res is not None and res >= 0:
        if ctx.fd is None or thread is None:
            return
        if ctx.fd.flags & FdFlag.CLOSE_CANCELED:
            ctx.fd.flags &= ~FdFlag.CLOSE_CANCELED
            eng.erase_fd(thread, CANCELED_FD, eng.threads.get_fd(thread, CANCELED_FD))
        else:
            eng.erase_fd(thread, thread.lastevent_fd, ctx.fd)
    elif ctx.fd is not None:
        ctx.fd.flags &= ~FdFlag.CLOSE_IN_PROGRESS


@handles("close_range")
def close_range_exit(eng: StateEngine, ctx: EventContext) -> None:
    """close_range (newer than sysdig 0.29.3): drop, or mark close-on-exec, a range of fds."""
    res = ctx.args.int("res")
    thread = ctx.thread
    if thread is None or res is None or res < 0:
        return
    table = eng.threads.fd_table(thread)
    first, last = ctx.args.int("first", 0) or 0, ctx.args.int("last", 0) or 0
    flags = ctx.args.int("flags", 0) or 0
    if table is None:
        return
    if flags & CLOSE_RANGE_CLOEXEC:
        for fd, info in table.items():
            if first <= fd <= last:
                info.openflags |= OPEN_CLOEXEC
    else:
        table.retain(lambda fd, info: not first <= fd <= last)


# -- duplication ----------------------------------------------------------------------------------


@handles("dup", "dup2", "dup3")
def dup_exit(eng: StateEngine, ctx: EventContext) -> None:
    """The new fd is a copy of the old one (replacing whatever had its number)."""
    thread = ctx.thread
    res = ctx.args.int("res")
    if thread is None or res is None or res < 0:
        return
    if res == 0:
        thread.flags |= CloneFlag.PIPE_DST
    elif res == 1:
        thread.flags |= CloneFlag.PIPE_SRC
    if ctx.fd is None:
        return
    entry = eng.add_fd(ctx, res, ctx.fd)
    if entry is not None and ctx.event.name == "dup3":
        flags = ctx.args.int("flags", 0) or 0
        entry.openflags = (entry.openflags & ~OPEN_CLOEXEC) | (flags & OPEN_CLOEXEC)


@handles("fcntl", direction=">")
def fcntl_enter(eng: StateEngine, ctx: EventContext) -> None:
    if ctx.thread is not None and ctx.args.int("cmd") in (F_DUPFD, F_DUPFD_CLOEXEC):
        eng.store_enter(ctx)


@handles("fcntl")
def fcntl_exit(eng: StateEngine, ctx: EventContext) -> None:
    """F_DUPFD / F_DUPFD_CLOEXEC duplicate the fd (other commands change nothing tracked)."""
    enter = eng.enter_args(ctx)
    res = ctx.args.int("res")
    if enter is None or res is None or res < 0 or ctx.fd is None or ctx.thread is None:
        return
    entry = eng.add_fd(ctx, res, ctx.fd)
    if entry is not None and enter.int("cmd") == F_DUPFD_CLOEXEC:
        entry.openflags |= OPEN_CLOEXEC


# -- anonymous fds --------------------------------------------------------------------------------


def _anonymous(eng: StateEngine, ctx: EventContext, fd: int | None, type: FdType,
               cloexec: bool = False, name: str = "") -> FdInfo | None:
    if ctx.thread is None or fd is None or fd < 0:
        return None
    info = FdInfo(type=type, name=name, openflags=OPEN_CLOEXEC if cloexec else 0)
    return eng.add_fd(ctx, fd, info)


@handles("pipe", "pipe2")
def pipe_exit(eng: StateEngine, ctx: EventContext) -> None:
    """Two fds on one pipe, both named "" (the inode tells them apart)."""
    args = ctx.args
    res = args.int("res")
    if res is None or res < 0 or ctx.thread is None:
        return
    ino = args.int("ino", 0) or 0
    cloexec = bool((args.int("flags", 0) or 0) & OPEN_CLOEXEC)
    for name in ("fd1", "fd2"):
        fd = args.int(name)
        if fd is None:
            continue
        info = FdInfo(type=FdType.FIFO, ino=ino, openflags=OPEN_CLOEXEC if cloexec else 0)
        eng.add_fd(ctx, fd, info)


@handles("eventfd", "eventfd2")
def eventfd_exit(eng: StateEngine, ctx: EventContext) -> None:
    flags = ctx.args.int("flags", 0) or 0
    cloexec = ctx.event.name == "eventfd2" and bool(flags & OPEN_CLOEXEC)
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.EVENT, cloexec)


@handles("signalfd", "signalfd4")
def signalfd_exit(eng: StateEngine, ctx: EventContext) -> None:
    cloexec = ctx.event.name == "signalfd4" and bool((ctx.args.int("flags", 0) or 0) & OPEN_CLOEXEC)
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.SIGNALFD, cloexec)


@handles("timerfd_create")
def timerfd_exit(eng: StateEngine, ctx: EventContext) -> None:
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.TIMERFD)


@handles("inotify_init", "inotify_init1")
def inotify_exit(eng: StateEngine, ctx: EventContext) -> None:
    cloexec = ctx.event.name == "inotify_init1" and bool(
        (ctx.args.int("flags", 0) or 0) & OPEN_CLOEXEC)
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.INOTIFY, cloexec)


@handles("epoll_create", "epoll_create1")
def epoll_exit(eng: StateEngine, ctx: EventContext) -> None:
    """epoll instances (sysdig 0.29.3 had no epoll_create events)."""
    cloexec = bool((ctx.args.int("flags", 0) or 0) & EPOLL_CLOEXEC) if (
        ctx.event.name == "epoll_create1") else False
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.EVENTPOLL, cloexec)


@handles("memfd_create")
def memfd_exit(eng: StateEngine, ctx: EventContext) -> None:
    flags = ctx.args.int("flags", 0) or 0
    raw = ctx.args.raw("name") or b""
    info = _anonymous(eng, ctx, ctx.args.int("fd"), FdType.MEMFD, bool(flags & MFD_CLOEXEC),
                      to_text(c_string(raw)[:eng.limits.max_string]))
    if info is not None:
        info.openflags |= flags & ~MFD_CLOEXEC


@handles("userfaultfd", newer=True)
def userfaultfd_exit(eng: StateEngine, ctx: EventContext) -> None:
    flags = ctx.args.int("flags", 0) or 0
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.USERFAULTFD, bool(flags & OPEN_CLOEXEC))


@handles("io_uring_setup")
def io_uring_exit(eng: StateEngine, ctx: EventContext) -> None:
    _anonymous(eng, ctx, ctx.args.int("res"), FdType.IOURING)


@handles("bpf", newer=True)
def bpf_exit(eng: StateEngine, ctx: EventContext) -> None:
    """bpf() commands that return an fd (program, map, link...)."""
    fd = ctx.args.int("fd")
    if fd is None:
        fd = ctx.args.int("res_or_fd")
    _anonymous(eng, ctx, fd, FdType.BPF, True)


@handles("pidfd_open")
def pidfd_open_exit(eng: StateEngine, ctx: EventContext) -> None:
    pid = ctx.args.int("pid", 0) or 0
    info = _anonymous(eng, ctx, ctx.args.int("fd"), FdType.PIDFD, name=f"/proc/{pid}")
    if info is not None:
        info.pid = pid
        info.openflags = ctx.args.int("flags", 0) or 0


@handles("pidfd_getfd")
def pidfd_getfd_exit(eng: StateEngine, ctx: EventContext) -> None:
    """A copy of another process's fd, reached through a pidfd."""
    thread = ctx.thread
    fd = ctx.args.int("fd")
    if thread is None or fd is None or fd < 0:
        return
    pidfd = eng.threads.get_fd(thread, ctx.args.int("pid_fd", -1))  # type: ignore[arg-type]
    if pidfd is None or pidfd.type != FdType.PIDFD:
        return
    owner = eng.threads.get(pidfd.pid)
    target_fd = ctx.args.int("target_fd")
    target = None
    if owner is not None and target_fd is not None:
        target = eng.threads.get_fd(owner, target_fd)
    if target is None:
        return
    copy = target.copy()
    copy.openflags |= OPEN_CLOEXEC
    eng.add_fd(ctx, fd, copy)
