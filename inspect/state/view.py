"""Field values derived from the state, one plain function per field.

Each function takes an :class:`~.engine.EventContext` (right after
:meth:`~.engine.StateEngine.process`) and returns the value sysdig 0.29.3 extracts
for the field of the same name, or None where sysdig has none (it prints ``<NA>``).
String values are those of ``sysdig -p``; ``fd_name`` drops unprintable bytes as
sysdig's output does (pass ``sanitize=False`` for the stored name).

Like sinsp, asking for a non-main thread's process fields (``proc.cwd``,
``proc.ppid``...) creates a placeholder main thread when the table has none.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from scapkit.scapfile.event_table import EVENTS

from .engine import EventContext
from .fds import L4, NEWER_TYPES, FdType, socktuple_string
from .handlers_process import dirfd_base
from .paths import concatenate, param_string, sanitize
from .threads import NO_ID, ThreadInfo

__all__ = [
    "VIEWS", "thread_tid", "thread_vtid", "thread_ismain", "proc_pid", "proc_ppid", "proc_name",
    "proc_exe", "proc_exepath", "proc_args", "proc_cmdline", "proc_env", "proc_cwd", "proc_pname",
    "proc_sid", "proc_sname", "proc_vpid", "proc_vpgid", "proc_tty", "proc_loginshellid",
    "proc_nthreads", "proc_nchilds", "proc_fdopencount", "proc_fdlimit", "proc_aname",
    "proc_apid", "user_uid", "user_name", "user_homedir", "user_shell", "user_loginuid",
    "user_loginname", "group_gid", "group_name", "container_id", "fd_num", "fd_name", "fd_type",
    "fd_typechar", "fd_directory", "fd_filename", "fd_l4proto", "fd_is_server", "fd_sockfamily",
    "fd_cip", "fd_sip", "fd_cport", "fd_sport", "fd_lip", "fd_rip", "fd_lport", "fd_rport",
    "fd_connected",
]

_SYM = {e.code: e.symbol for e in EVENTS}


def _thread(ctx: EventContext) -> ThreadInfo | None:
    return ctx.thread


def _main(ctx: EventContext) -> ThreadInfo | None:
    t = ctx.thread
    return None if t is None else ctx.engine.threads.main_thread(t)


# -- thread and process ---------------------------------------------------------------------------


def thread_tid(ctx: EventContext) -> int:
    return ctx.event.tid


def thread_vtid(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None or t.vtid == -1 else t.vtid


def thread_ismain(ctx: EventContext) -> bool | None:
    t = ctx.thread
    return None if t is None else t.is_main_thread


def proc_pid(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None else t.pid


def proc_ppid(ctx: EventContext) -> int | None:
    main = _main(ctx)
    return None if main is None else main.ptid


def proc_name(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else t.comm


def proc_exe(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else t.exe


def proc_exepath(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else t.exepath


def proc_args(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else " ".join(t.args)


def proc_cmdline(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else t.cmdline


def proc_env(ctx: EventContext) -> str | None:
    t = ctx.thread
    if t is None:
        return None
    main = _main(ctx) if not t.is_main_thread else t
    return " ".join((main or t).env)


def proc_cwd(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else ctx.engine.threads.cwd(t)


def proc_pname(ctx: EventContext) -> str | None:
    t = ctx.thread
    parent = None if t is None else ctx.engine.threads.get(t.ptid)
    return None if parent is None else parent.comm


def proc_sid(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None else t.sid


def proc_sname(ctx: EventContext) -> str | None:
    t = ctx.thread
    if t is None:
        return None
    _main(ctx)  # sinsp materialises the main thread here
    leader = ctx.engine.tree.session_leader(t)
    return None if leader is None else leader.comm


def proc_vpid(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None or t.vpid == -1 else t.vpid


def proc_vpgid(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None else t.vpgid


def proc_tty(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None else t.tty


def proc_loginshellid(ctx: EventContext) -> int | None:
    if _main(ctx) is None:
        return None
    shell = ctx.engine.tree.login_shell(ctx.thread)  # type: ignore[arg-type]
    return None if shell is None else shell.pid


def proc_nthreads(ctx: EventContext) -> int | None:
    main = _main(ctx)
    return None if main is None else main.nchilds + 1


def proc_nchilds(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None else t.nchilds


def proc_fdopencount(ctx: EventContext) -> int | None:
    main = _main(ctx)
    return None if main is None else len(main.fdtable)


def proc_fdlimit(ctx: EventContext) -> int | None:
    main = _main(ctx)
    return None if main is None else main.fdlimit


def _ancestor(ctx: EventContext, level: int) -> ThreadInfo | None:
    mt = _main(ctx)
    for _ in range(level):
        if mt is None:
            return None
        mt = ctx.engine.threads.get(mt.ptid)
    return mt


def proc_aname(ctx: EventContext, level: int = 1) -> str | None:
    """``proc.aname[level]``: the name of the level-th ancestor process (0 = this one)."""
    a = _ancestor(ctx, level)
    return None if a is None else a.comm


def proc_apid(ctx: EventContext, level: int = 1) -> int | None:
    a = _ancestor(ctx, level)
    return None if a is None else a.pid


# -- users, groups, containers --------------------------------------------------------------------


def _user(ctx: EventContext, uid: int):
    if uid == NO_ID:
        return None
    return ctx.engine.users.get(uid)


def user_uid(ctx: EventContext) -> int | None:
    t = ctx.thread
    return None if t is None else t.uid


def user_name(ctx: EventContext) -> str | None:
    t = ctx.thread
    u = None if t is None else _user(ctx, t.uid)
    return None if u is None else u.name


def user_homedir(ctx: EventContext) -> str | None:
    t = ctx.thread
    u = None if t is None else _user(ctx, t.uid)
    return None if u is None else u.homedir


def user_shell(ctx: EventContext) -> str | None:
    t = ctx.thread
    u = None if t is None else _user(ctx, t.uid)
    return None if u is None else u.shell


def user_loginuid(ctx: EventContext) -> int | None:
    t = ctx.thread
    if t is None:
        return None
    return t.loginuid - (1 << 32) if t.loginuid >= 1 << 31 else t.loginuid


def user_loginname(ctx: EventContext) -> str | None:
    t = ctx.thread
    u = None if t is None else _user(ctx, t.loginuid)
    return None if u is None else u.name


def group_gid(ctx: EventContext) -> int | None:
    """The gid. sysdig 0.29.3 reads this 32-bit field as 64 bits, so the thread count
    that follows it in memory shows in the high half; with ``sysdig_compat`` so does ours."""
    t = ctx.thread
    if t is None:
        return None
    if ctx.engine.sysdig_compat:
        return t.gid | (t.nchilds & 0xFFFFFFFF) << 32
    return t.gid


def group_name(ctx: EventContext) -> str | None:
    t = ctx.thread
    g = None if t is None else ctx.engine.groups.get(t.gid)
    return None if g is None else g.name


def container_id(ctx: EventContext) -> str | None:
    """The container id, ``host`` outside containers."""
    t = ctx.thread
    if t is None:
        return None
    return t.container_id or "host"


# -- fds ------------------------------------------------------------------------------------------

_NULL_FD_CHARS = {
    "SYSCALL_OPEN_E": "f", "SYSCALL_OPENAT_E": "f", "SYSCALL_OPENAT_2_E": "f",
    "SYSCALL_OPENAT2_E": "f", "SYSCALL_CREAT_E": "f", "SOCKET_SOCKET_E": "4",
    "SOCKET_ACCEPT_E": "4", "SOCKET_ACCEPT_5_E": "4", "SOCKET_ACCEPT4_E": "4",
    "SOCKET_ACCEPT4_5_E": "4", "SYSCALL_PIPE_E": "p", "SYSCALL_EVENTFD_E": "e",
    "SYSCALL_SIGNALFD_E": "s", "SYSCALL_TIMERFD_CREATE_E": "t", "SYSCALL_INOTIFY_INIT_E": "i",
}
_NAME_FROM_PARAM1 = frozenset({"SYSCALL_OPEN_X", "SOCKET_ACCEPT_X", "SOCKET_ACCEPT_5_X",
                               "SOCKET_ACCEPT4_X", "SOCKET_ACCEPT4_5_X", "SYSCALL_CREAT_X",
                               "SOCKET_CONNECT_X"})


def fd_num(ctx: EventContext) -> int | None:
    return ctx.fd_num


def _has_fd(ctx: EventContext) -> bool:
    return ctx.fd_num is not None


def _name_from_event(ctx: EventContext) -> str | None:
    """The name an fd-creating exit would have given its fd (it failed, or none is known)."""
    ev = ctx.event
    if not ev.type & 1:
        return None
    symbol = _SYM.get(ev.type, "")
    if symbol in _NAME_FROM_PARAM1:
        raw = ctx.args.raw_at(1)
        if raw is None:
            return None
        info = EVENTS[ev.type].params[1]
        if info.type.name in ("FSPATH", "FSRELPATH"):
            return _resolved_param_path(ctx, raw)
        return socktuple_string(raw) if info.type.name == "SOCKTUPLE" else param_string(raw)
    if symbol == "SYSCALL_OPENAT_X":
        return None  # sinsp would need the enter event, already released at this point
    if symbol in ("SYSCALL_OPENAT_2_X", "SYSCALL_OPENAT2_X"):
        thread = ctx.thread
        raw = ctx.args.raw("name")
        dirfd = ctx.args.int("dirfd")
        if thread is None or raw is None or dirfd is None:
            return None
        # Like sinsp, looking up a real dirfd makes it the event's fd: the fd fields
        # extracted after this one (fd.type after fd.name...) see it.
        directory = dirfd_base(ctx.engine, ctx, raw, dirfd)
        ctx.evt_fd = ctx.fd
        path, _ = concatenate(directory, raw, limit=ctx.engine.limits.max_path)
        return path
    return ""


def _resolved_param_path(ctx: EventContext, raw: bytes) -> str:
    thread = ctx.thread
    plain = param_string(raw)
    if thread is None or not raw or raw.startswith(b"<NA>"):
        return plain
    resolved, relative = concatenate(ctx.engine.threads.cwd(thread), raw, limit=1 << 30)
    return resolved if relative and resolved else plain


def fd_name(ctx: EventContext, sanitize_output: bool = True) -> str | None:
    """``fd.name``: file path, socket tuple, or the name a failed creator would have used."""
    if not _has_fd(ctx):
        return None
    fd = ctx.fd
    name: str | None
    if fd is None:
        name = _name_from_event(ctx)
    elif _SYM.get(ctx.event.type) == "SOCKET_CONNECT_X" and (ctx.args.int("res", 0) or 0) < 0:
        name = _name_from_event(ctx)
    else:
        name = fd.name
    if name is not None and sanitize_output:
        name = sanitize(name)
    return name


def fd_type(ctx: EventContext) -> str | None:
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None:
        return None
    if ctx.engine.sysdig_compat and fd.type in NEWER_TYPES:
        return None  # sysdig 0.29.3 has no name for fd types newer than it
    return fd.typestring


def fd_typechar(ctx: EventContext) -> str | None:
    if not _has_fd(ctx):
        return None
    fd = ctx.fd
    if fd is None:
        # sinsp guesses from the syscall (every socket guesses IPv4).
        symbol = _SYM.get(ctx.event.type & ~1, "")
        return _NULL_FD_CHARS.get(symbol, "o")
    if ctx.engine.sysdig_compat and fd.type in NEWER_TYPES:
        return "?"
    return fd.typechar


def fd_directory(ctx: EventContext) -> str | None:
    if not _has_fd(ctx):
        return None
    fd = ctx.fd
    if fd is None:
        name = _name_from_event(ctx)
    elif fd.is_file or fd.is_directory:
        name = fd.name
        if not fd.is_file:
            return sanitize(name)
    else:
        return None
    if name is None:
        return None
    name = sanitize(name)
    pos = name.rfind("/")
    if pos > 0:
        return name[:pos] if pos < len(name) - 1 else name
    return "/"


def fd_filename(ctx: EventContext) -> str | None:
    if not _has_fd(ctx):
        return None
    fd = ctx.fd
    if fd is None or not fd.is_file:
        return None  # sinsp would only try an open's enter event, which names no fd
    name = sanitize(fd.name)
    pos = name.rfind("/")
    if pos >= 0:
        return name[pos + 1:] if pos < len(name) - 1 else name
    return "/"


_L4_NAMES = {L4.TCP: "tcp", L4.UDP: "udp", L4.ICMP: "icmp", L4.RAW: "raw"}


def fd_l4proto(ctx: EventContext) -> str | None:
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None:
        return None
    return _L4_NAMES.get(fd.l4proto(), "<NA>")


def _is_local(ctx: EventContext, addr: bytes) -> bool:
    t = ctx.thread
    ips = frozenset(c["ip"].packed for c in ctx.engine.containers.values() if c.get("ip"))
    return ctx.engine.interfaces.is_local(addr, in_container=bool(t and t.container_id),
                                          container_ips=ips)


def fd_is_server(ctx: EventContext) -> bool | None:
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None:
        return None
    if fd.is_server_socket:
        return True
    if fd.type == FdType.IPV4_SOCK:
        return _is_local(ctx, fd.sock.v4_dip)
    if fd.type == FdType.IPV6_SOCK:
        return _is_local(ctx, fd.sock.v6_dip)
    return False


def fd_sockfamily(ctx: EventContext) -> str | None:
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None:
        return None
    if fd.type in (FdType.IPV4_SOCK, FdType.IPV6_SOCK, FdType.IPV4_SERVSOCK, FdType.IPV6_SERVSOCK):
        return "ip"
    return "unix" if fd.type == FdType.UNIX_SOCK else None


def _ends(ctx: EventContext):
    """(client ip, client port, server ip, server port) of a socket with a role."""
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None:
        return None
    s = fd.sock
    if fd.type == FdType.IPV4_SOCK:
        return IPv4Address(s.v4_sip), s.v4_sport, IPv4Address(s.v4_dip), s.v4_dport
    if fd.type == FdType.IPV6_SOCK:
        return IPv6Address(s.v6_sip), s.v6_sport, IPv6Address(s.v6_dip), s.v6_dport
    return None


def fd_cip(ctx: EventContext) -> IPv4Address | IPv6Address | None:
    ends = _ends(ctx)
    return None if ends is None or ctx.fd.role is None else ends[0]  # type: ignore[union-attr]


def fd_cport(ctx: EventContext) -> int | None:
    """The client port. For an fd with a role that is not a connected IP socket (a server
    socket, a unix socket) sysdig 0.29.3 prints 0; with ``sysdig_compat`` so do we."""
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None or fd.role is None:
        return None
    ends = _ends(ctx)
    if ends is None:
        return 0 if ctx.engine.sysdig_compat else None
    return ends[1]


def fd_sip(ctx: EventContext) -> IPv4Address | IPv6Address | None:
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None or fd.role is None:
        return None
    if fd.is_server_socket:
        e = fd.endpoints
        return None if e is None or e.server is None else e.server[0]
    ends = _ends(ctx)
    return None if ends is None else ends[2]


def fd_sport(ctx: EventContext) -> int | None:
    fd = ctx.fd if _has_fd(ctx) else None
    if fd is None:
        return None
    if fd.is_server_socket:
        e = fd.endpoints
        return None if e is None or e.server is None else e.server[1]
    ends = _ends(ctx)
    return None if ends is None or fd.role is None else ends[3]


def _local_first(ctx: EventContext):
    ends = _ends(ctx)
    fd = ctx.fd
    if ends is None or fd is None or fd.role is None:
        return None
    cip, cport, sip, sport = ends
    if _is_local(ctx, cip.packed):
        return cip, cport, sip, sport
    return sip, sport, cip, cport


def fd_lip(ctx: EventContext) -> IPv4Address | IPv6Address | None:
    lf = _local_first(ctx)
    return None if lf is None else lf[0]


def fd_lport(ctx: EventContext) -> int | None:
    lf = _local_first(ctx)
    return None if lf is None else lf[1]


def fd_rip(ctx: EventContext) -> IPv4Address | IPv6Address | None:
    lf = _local_first(ctx)
    return None if lf is None else lf[2]


def fd_rport(ctx: EventContext) -> int | None:
    lf = _local_first(ctx)
    return None if lf is None else lf[3]


def fd_connected(ctx: EventContext) -> bool | None:
    fd = ctx.fd if _has_fd(ctx) else None
    return None if fd is None else fd.connected


#: Field name -> extractor, for registration by the field layer.
VIEWS: dict[str, Callable[[EventContext], Any]] = {
    "thread.tid": thread_tid, "thread.vtid": thread_vtid, "thread.ismain": thread_ismain,
    "proc.pid": proc_pid, "proc.ppid": proc_ppid, "proc.name": proc_name, "proc.exe": proc_exe,
    "proc.exepath": proc_exepath, "proc.args": proc_args, "proc.cmdline": proc_cmdline,
    "proc.env": proc_env, "proc.cwd": proc_cwd, "proc.pname": proc_pname, "proc.sid": proc_sid,
    "proc.sname": proc_sname, "proc.vpid": proc_vpid, "proc.vpgid": proc_vpgid,
    "proc.tty": proc_tty, "proc.loginshellid": proc_loginshellid,
    "proc.nthreads": proc_nthreads, "proc.nchilds": proc_nchilds,
    "proc.fdopencount": proc_fdopencount, "proc.fdlimit": proc_fdlimit,
    "user.uid": user_uid, "user.name": user_name, "user.homedir": user_homedir,
    "user.shell": user_shell, "user.loginuid": user_loginuid, "user.loginname": user_loginname,
    "group.gid": group_gid, "group.name": group_name, "container.id": container_id,
    "fd.num": fd_num, "fd.name": fd_name, "fd.type": fd_type, "fd.typechar": fd_typechar,
    "fd.directory": fd_directory, "fd.filename": fd_filename, "fd.l4proto": fd_l4proto,
    "fd.is_server": fd_is_server, "fd.sockfamily": fd_sockfamily, "fd.cip": fd_cip,
    "fd.sip": fd_sip, "fd.cport": fd_cport, "fd.sport": fd_sport, "fd.lip": fd_lip,
    "fd.rip": fd_rip, "fd.lport": fd_lport, "fd.rport": fd_rport, "fd.connected": fd_connected,
}
