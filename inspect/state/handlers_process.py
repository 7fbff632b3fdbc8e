"""Handlers for process state: clone/fork/vfork/clone3, execve/execveat, exit, cwd, ids.

Each handler follows sinsp (libs e5c53d64) for the event family it is registered for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .containers import parse_cgroups
from .fds import OPEN_CLOEXEC
from .paths import concatenate, param_string, to_text
from .registry import handles, stores_enter
from .threads import NO_ID, CloneFlag, ThreadInfo

if TYPE_CHECKING:
    from .engine import EventArgs, EventContext, StateEngine

#: A thread entry older than this when its clone returns in the child is stale.
CLONE_STALE_TIME_NS = 2_000_000_000
#: ``PPM_AT_FDCWD``: "relative to the working directory" for *at syscalls.
AT_FDCWD = -100
#: ``PPM_EXVAT_AT_EMPTY_PATH`` in execveat's flags.
EXECVEAT_EMPTY_PATH = 1 << 0
#: ``PPM_EXE_WRITABLE`` in execve's flags.
EXE_WRITABLE = 1 << 0
#: ``PPM_RLIMIT_NOFILE``.
RLIMIT_NOFILE = 7

stores_enter("execve", "execveat", "chdir", "fchdir", "getrlimit", "setrlimit", "prlimit",
             "setresuid", "setresgid", "setuid", "setgid", "setpgid")


def _text_list(raw: bytes | None, limit: int = 1 << 16) -> list[str]:
    """NUL-terminated strings one after the other, split as sinsp does (at most
    ``limit`` bytes are read, as the driver reads at most a page)."""
    out: list[str] = []
    if not raw:
        return out
    raw = raw[:limit]
    at, n = 0, len(raw)
    while at < n:
        end = raw.find(b"\0", at)
        if end < 0:
            end = n
        out.append(to_text(raw[at:end]))
        at = end + 1
    return out


def _env_list(raw: bytes | None, limit: int = 1 << 16) -> list[str]:
    """The environment: like args, but a run of trailing NULs ends the list."""
    items = _text_list(raw, limit)
    while items and items[-1] == "":
        items.pop()
    return items


def _c_text(raw: bytes | None, limit: int = 4096) -> str:
    if raw is None:
        return ""
    end = raw.find(b"\0")
    return to_text((raw if end < 0 else raw[:end])[:limit])


# -- clone family -------------------------------------------------------------------------------


@handles("clone", "fork", "vfork", "clone3")
def clone_exit(eng: StateEngine, ctx: EventContext) -> None:
    """A new thread or process: returns in the parent (child tid) and in the child (0)."""
    args, ev = ctx.args, ctx.event
    childtid = args.int("res")
    flags = args.int("flags", 0) or 0
    if childtid is None or childtid < 0:
        return
    tid = ev.tid
    vtid = args.int("vtid", tid)
    vpid = args.int("vpid", -1)
    in_container = bool(flags & CloneFlag.CHILD_IN_PIDNS) or tid != vtid
    threads, lim = eng.threads, eng.limits
    inverted = False

    if childtid == 0:
        # In the child. If the entry is old, it is a reused tid: forget it.
        if ctx.thread is not None and ctx.thread.clone_ts != 0:
            if ev.ts - ctx.thread.clone_ts > CLONE_STALE_TIME_NS:
                eng.remove_thread(tid, force=True)
                ctx.thread = None
        parenttid = args.int("pid" if flags & CloneFlag.CLONE_THREAD else "ptid", -1)
        if ctx.thread is not None:
            if in_container:
                ctx.thread.vtid, ctx.thread.vpid = vtid, vpid
            return
        # The child runs before its parent's clone returned: create it from here.
        inverted = True
        childtid, tid = tid, parenttid
    elif in_container:
        # The parent sees the child's namespaced tid: wait for the child's own event.
        return

    parent = threads.get_or_create(tid)
    if parent is None:
        return
    valid_parent = not parent.is_placeholder
    tid_collision = False
    existing = threads.get(childtid)
    if existing is not None:
        if existing.flags & CloneFlag.CLONE_INVERTED:
            return
        eng.remove_thread(childtid, force=True)
        tid_collision = True

    child = threads.new_thread(childtid)
    child.ptid = tid
    if valid_parent:
        _inherit(child, parent, flags)
    else:
        # The parent is only a placeholder: start it afresh and describe both from the event.
        eng.remove_thread(tid, force=True)
        tid_collision = True
        parent = threads.get_or_create(tid)
        if parent is None:
            return
        if not parent.is_placeholder:
            _inherit(child, parent, flags)
        else:
            child.exe = _c_text(args.raw("exe"), lim.max_string)
            child.comm = _c_text(args.raw("comm"), lim.max_string) if "comm" in args else child.exe
            child.args = _text_list(args.raw("args"), lim.max_list_bytes)
            parent.comm, parent.exe, parent.exepath = child.comm, child.exe, child.exepath
            parent.args = list(child.args)

    child.pid = args.int("pid", -1)  # type: ignore[assignment]
    child.flags = flags
    if not flags & CloneFlag.CLONE_THREAD:
        child.pid = childtid
        source = threads.fd_table(parent)
        if source is not None:
            child.fdtable = source.copy()
        child.cwd = threads.cwd(parent)
    if inverted:
        child.flags |= CloneFlag.CLONE_INVERTED

    child.exe = _c_text(args.raw("exe"), lim.max_string)
    child.comm = _c_text(args.raw("comm"), lim.max_string) if "comm" in args else child.exe
    child.args = _text_list(args.raw("args"), lim.max_list_bytes)
    child.fdlimit = args.int("fdlimit", -1)  # type: ignore[assignment]
    if "pgft_maj" in args:
        child.pfmajor = args.int("pgft_maj", 0) or 0
        child.pfminor = args.int("pgft_min", 0) or 0
        child.vmsize_kb = args.int("vm_size", 0) or 0
        child.vmrss_kb = args.int("vm_rss", 0) or 0
        child.vmswap_kb = args.int("vm_swap", 0) or 0
    child.uid = _u32(args, "uid")
    child.gid = _u32(args, "gid")
    if in_container:
        child.vtid, child.vpid = vtid, vpid
    else:
        child.vtid, child.vpid = child.tid, child.pid
    if "cgroups" in args:
        child.cgroups = parse_cgroups(_text_list(args.raw("cgroups"), lim.max_list_bytes))
        eng.resolve_container(child)
    elif not eng.sysdig_compat:
        # Older clone events carry no cgroups: assume the parent's.
        child.cgroups = list(parent.cgroups)
        child.container_id, child.container_runtime = parent.container_id, parent.container_runtime
    child.clone_ts = ev.ts
    if not threads.add(child):
        child.fdtable.clear()
    if tid_collision:
        ctx.tid_collision = True
        eng.reset(ctx)


def _inherit(child: ThreadInfo, parent: ThreadInfo, flags: int) -> None:
    child.comm, child.exe, child.exepath = parent.comm, parent.exe, parent.exepath
    child.exe_writable = parent.exe_writable
    child.args = list(parent.args)
    child.root, child.sid, child.vpgid = parent.root, parent.sid, parent.vpgid
    child.tty, child.loginuid = parent.tty, parent.loginuid
    if not flags & CloneFlag.CLONE_THREAD:
        child.env = list(parent.env)


def _u32(args: EventArgs, name: str) -> int:
    raw = args.raw(name)
    if raw is None or len(raw) != 4:
        return NO_ID
    return int.from_bytes(raw, "little")


# -- execve ---------------------------------------------------------------------------------------


@handles("execve", "execveat")
def execve_exit(eng: StateEngine, ctx: EventContext) -> None:
    """The thread now runs a new program: exe, comm, args, env, cgroups, exepath..."""
    args, thread = ctx.args, ctx.thread
    res = args.int("res")
    if res is None or res < 0 or thread is None:
        return
    lim = eng.limits
    thread.exe = _c_text(args.raw("exe"), lim.max_string)
    thread.comm = _c_text(args.raw("comm"), lim.max_string) if "comm" in args else thread.exe
    thread.args = _text_list(args.raw("args"), lim.max_list_bytes)
    pid = args.int("pid")
    if pid is not None:
        thread.pid = pid
    if thread.ptid == -1:
        ptid = args.int("ptid")
        if ptid is not None:
            thread.ptid = ptid
    fdlimit = args.int("fdlimit")
    if fdlimit is not None:
        thread.fdlimit = fdlimit
    if "pgft_maj" in args:
        thread.pfmajor = args.int("pgft_maj", 0) or 0
        thread.pfminor = args.int("pgft_min", 0) or 0
        thread.vmsize_kb = args.int("vm_size", 0) or 0
        thread.vmrss_kb = args.int("vm_rss", 0) or 0
        thread.vmswap_kb = args.int("vm_swap", 0) or 0
    if "env" in args:
        thread.env = _env_list(args.raw("env"), lim.max_list_bytes)
    if "cgroups" in args:
        thread.cgroups = parse_cgroups(_text_list(args.raw("cgroups"), lim.max_list_bytes))
        eng.resolve_container(thread)
    tty = args.raw("tty")
    if tty is not None and len(tty) == 4:
        thread.tty = int.from_bytes(tty, "little", signed=True)
    _set_exepath(eng, ctx, thread)
    vpgid = args.int("vpgid")
    if vpgid is not None:
        thread.vpgid = vpgid
    if len(args) > 18:
        raw = args.raw_at(18)
        if raw is not None and len(raw) == 4:
            thread.loginuid = int.from_bytes(raw, "little")
    if len(args) > 19:
        exe_flags = args.int("flags", 0) or 0
        thread.exe_writable = bool(exe_flags & EXE_WRITABLE)
    kept = thread.flags & (CloneFlag.PIPE_SRC | CloneFlag.PIPE_DST | CloneFlag.IS_MAIN_THREAD
                           | CloneFlag.CLONE_INVERTED)
    thread.flags = CloneFlag.ACTIVE | kept | CloneFlag.NAME_CHANGED
    if not eng.sysdig_compat:
        table = eng.threads.fd_table(thread)
        if table is not None:
            table.retain(lambda fd, info: not info.openflags & OPEN_CLOEXEC)


def _set_exepath(eng: StateEngine, ctx: EventContext, thread: ThreadInfo) -> None:
    """The executable's full path, from the enter event (execve: filename; execveat: dirfd+path)."""
    enter = eng.enter_args(ctx)
    if enter is None:
        return
    if ctx.event.name == "execve":
        raw = enter.raw("filename")
        if raw is None:
            return
        if raw.startswith(b"<NA>"):
            thread.exepath = "<NA>"
        else:
            thread.exepath, _ = concatenate(thread.cwd, raw, limit=eng.limits.max_path)
        return
    raw = enter.raw("pathname")
    dirfd = enter.int("dirfd")
    if raw is None or dirfd is None:
        return
    if raw.startswith(b"<NA>"):
        thread.exepath = "<NA>"
        return
    directory = dirfd_base(eng, ctx, raw, dirfd)
    if (enter.int("flags", 0) or 0) & EXECVEAT_EMPTY_PATH and not raw.rstrip(b"\0"):
        raw = directory.encode("utf-8", "surrogateescape")
    thread.exepath, _ = concatenate(directory, raw, limit=eng.limits.max_path)


def dirfd_base(eng: StateEngine, ctx: EventContext, name: bytes, dirfd: int) -> str:
    """The directory a *at path is relative to (sinsp's ``parse_dirfd``).

    Like sinsp, looking up a real dirfd makes it the event's fd for the moment.
    """
    thread = ctx.thread
    assert thread is not None
    if name[:1] == b"/":
        return "."
    if dirfd == AT_FDCWD:
        return eng.threads.cwd(thread)
    ctx.fd = eng.threads.get_fd(thread, dirfd)
    if ctx.fd is None:
        return "<UNKNOWN>"
    return ctx.fd.name + "/"


# -- exit -----------------------------------------------------------------------------------------


@handles("procexit", direction=">")
def procexit(eng: StateEngine, ctx: EventContext) -> None:
    """The thread is gone: it is removed before the next event is applied."""
    thread = ctx.thread
    if thread is None:
        return
    thread.flags |= CloneFlag.CLOSED
    reaper = ctx.args.int("reaper_tid")
    if reaper is not None:
        thread.reaper_tid = reaper
    eng.schedule_thread_removal(ctx.event.tid)


# -- working directory ----------------------------------------------------------------------------


@handles("chdir")
def chdir_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    raw = ctx.args.raw("path")
    if ctx.thread is None or res is None or res < 0 or raw is None:
        return
    eng.threads.set_cwd(ctx.thread, raw)


@handles("fchdir")
def fchdir_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    if res is None or res < 0 or ctx.fd is None or ctx.thread is None:
        return
    eng.threads.set_cwd(ctx.thread, ctx.fd.name.encode("utf-8", "surrogateescape"))


@handles("getcwd")
def getcwd_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    raw = ctx.args.raw("path")
    if ctx.thread is None or res is None or res < 0 or raw is None:
        return
    eng.threads.set_cwd(ctx.thread, raw)


@handles("chroot")
def chroot_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    raw = ctx.args.raw("path")
    thread = ctx.thread
    if res != 0 or thread is None or raw is None:
        return
    text = param_string(raw)
    if raw and not raw.startswith(b"<NA>"):
        resolved, relative = concatenate(eng.threads.cwd(thread), raw, limit=1 << 20)
        thread.root = (resolved if relative else text)[:eng.limits.max_string]
    else:
        thread.root = text[:eng.limits.max_string]
    eng.resolve_container(thread)


# -- identities -----------------------------------------------------------------------------------


def _set_id(eng: StateEngine, ctx: EventContext, enter_param: str, attr: str,
            skip_unset: bool) -> None:
    res = ctx.args.int("res")
    enter = eng.enter_args(ctx)
    if res is None or res < 0 or enter is None:
        return
    raw = enter.raw(enter_param)
    if raw is None or len(raw) != 4:
        return
    value = int.from_bytes(raw, "little")
    if skip_unset and value == NO_ID:
        return
    thread = ctx.thread or eng.threads.get(ctx.event.tid)
    if thread is not None:
        setattr(thread, attr, value)


@handles("setresuid")
def setresuid_exit(eng: StateEngine, ctx: EventContext) -> None:
    _set_id(eng, ctx, "euid", "uid", True)


@handles("setresgid")
def setresgid_exit(eng: StateEngine, ctx: EventContext) -> None:
    _set_id(eng, ctx, "egid", "gid", True)


@handles("setuid")
def setuid_exit(eng: StateEngine, ctx: EventContext) -> None:
    _set_id(eng, ctx, "uid", "uid", False)


@handles("setgid")
def setgid_exit(eng: StateEngine, ctx: EventContext) -> None:
    _set_id(eng, ctx, "gid", "gid", False)


@handles("setreuid", newer=True)
def setreuid_exit(eng: StateEngine, ctx: EventContext) -> None:
    res, euid = ctx.args.int("res"), ctx.args.raw("euid")
    thread = ctx.thread
    if thread is not None and res is not None and res >= 0 and euid and len(euid) == 4:
        value = int.from_bytes(euid, "little")
        if value != NO_ID:
            thread.uid = value


@handles("setregid", newer=True)
def setregid_exit(eng: StateEngine, ctx: EventContext) -> None:
    res, egid = ctx.args.int("res"), ctx.args.raw("egid")
    thread = ctx.thread
    if thread is not None and res is not None and res >= 0 and egid and len(egid) == 4:
        value = int.from_bytes(egid, "little")
        if value != NO_ID:
            thread.gid = value


@handles("setsid")
def setsid_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    thread = ctx.thread or eng.threads.get(ctx.event.tid)
    if res is not None and res >= 0 and thread is not None:
        thread.sid = res


@handles("setpgid", newer=True)
def setpgid_exit(eng: StateEngine, ctx: EventContext) -> None:
    """Newer libs follow the process group; sysdig 0.29.3 keeps the one from the snapshot."""
    res = ctx.args.int("res")
    enter = eng.enter_args(ctx)
    thread = ctx.thread
    if res is None or res < 0 or thread is None:
        return
    pid = ctx.args.int("pid", enter.int("pid") if enter else None)
    pgid = ctx.args.int("pgid", enter.int("pgid") if enter else None)
    if pid is None or pgid is None:
        return
    target = thread if pid == 0 else eng.threads.get(pid)
    if target is not None:
        target.vpgid = target.pid if pgid == 0 else pgid


@handles("capset", newer=True)
def capset_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    thread = ctx.thread
    if res is None or res < 0 or thread is None:
        return
    thread.cap_inheritable = ctx.args.int("cap_inheritable", thread.cap_inheritable) or 0
    thread.cap_permitted = ctx.args.int("cap_permitted", thread.cap_permitted) or 0
    thread.cap_effective = ctx.args.int("cap_effective", thread.cap_effective) or 0


# -- limits and memory ----------------------------------------------------------------------------


@handles("getrlimit", "setrlimit")
def rlimit_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    enter = eng.enter_args(ctx)
    thread = ctx.thread
    if thread is None or res is None or res < 0 or enter is None:
        return
    if enter.int("resource") != RLIMIT_NOFILE:
        return
    cur = ctx.args.int("cur")
    if cur is not None and cur != -1:
        main = eng.threads.main_thread(thread)
        if main is not None:
            main.fdlimit = cur


@handles("prlimit")
def prlimit_exit(eng: StateEngine, ctx: EventContext) -> None:
    res = ctx.args.int("res")
    enter = eng.enter_args(ctx)
    if res is None or res < 0 or enter is None:
        return
    if enter.int("resource") != RLIMIT_NOFILE:
        return
    newcur = ctx.args.int("newcur")
    if newcur is None or newcur == -1:
        return
    tid = enter.int("pid", 0) or ctx.event.tid
    target = eng.threads.get_or_create(tid)
    if target is not None:
        main = eng.threads.main_thread(target)
        if main is not None:
            main.fdlimit = newcur


@handles("switch", direction=">")
def context_switch(eng: StateEngine, ctx: EventContext) -> None:
    thread = ctx.thread
    if thread is None or "pgft_maj" not in ctx.args:
        return
    thread.pfmajor = ctx.args.int("pgft_maj", 0) or 0
    thread.pfminor = ctx.args.int("pgft_min", 0) or 0
    main = eng.threads.main_thread(thread)
    if main is not None:
        main.vmsize_kb = ctx.args.int("vm_size", 0) or 0
        main.vmrss_kb = ctx.args.int("vm_rss", 0) or 0
        main.vmswap_kb = ctx.args.int("vm_swap", 0) or 0


@handles("brk", "mmap", "mmap2", "munmap")
def memory_exit(eng: StateEngine, ctx: EventContext) -> None:
    thread = ctx.thread
    if thread is None or "vm_size" not in ctx.args:
        return
    thread.vmsize_kb = ctx.args.int("vm_size", 0) or 0
    thread.vmrss_kb = ctx.args.int("vm_rss", 0) or 0
    thread.vmswap_kb = ctx.args.int("vm_swap", 0) or 0
