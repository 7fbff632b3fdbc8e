"""``proc.*``, ``thread.*``, ``user.*``, ``group.*`` and ``container.*`` fields.

Most are the state views of :mod:`scapkit.inspect.state.view` (proven identical to sysdig
0.29.3), registered here with their sysdig type; the others follow sinsp's
``sinsp_filter_check_thread``, ``_user``, ``_group`` and ``_container`` (libs e5c53d64).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scapkit.inspect.filter.values import encode, glob_matcher, parse_c_int
from scapkit.inspect.state import view as V
from scapkit.inspect.state.container_extras import Mount
from scapkit.scapfile.event_table import EVENTS

from .fields import bracket_arg, field, field_class, register_view
from .render import RenderOptions

if TYPE_CHECKING:
    from scapkit.inspect.state.engine import EventContext
    from scapkit.inspect.state.threads import ThreadInfo


_U64 = (1 << 64) - 1
PROCINFO_E = next(e.code for e in EVENTS if e.symbol == "PROCINFO_E")


def _main(ctx: EventContext) -> ThreadInfo | None:
    t = ctx.thread
    return None if t is None else ctx.engine.threads.main_thread(t)


# -- process and thread ---------------------------------------------------------------------------

field_class("process", "process", "",
            "The process and thread that generated the event.")

register_view("proc.pid", "INT64", "id of the process that generated the event", V.proc_pid,
              fmt="ID")
register_view("proc.exe", "CHARBUF", "first command-line argument (usually the executable)",
              V.proc_exe)
register_view("proc.name", "CHARBUF", "name of the executable (without its path)",
              V.proc_name)
register_view("proc.args", "CHARBUF", "command-line arguments", V.proc_args)
register_view("proc.env", "CHARBUF", "environment variables of the process", V.proc_env)
register_view("proc.cmdline", "CHARBUF", "full command line: proc.name and proc.args",
              V.proc_cmdline)


@field("proc.exeline", "CHARBUF", "full command line with the exe first: proc.exe and "
       "proc.args")
def proc_exeline(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else t.exe + " " + " ".join(t.args)


register_view("proc.cwd", "CHARBUF", "working directory", V.proc_cwd)
register_view("proc.nthreads", "UINT32", "threads of the process, the main one included",
              V.proc_nthreads, fmt="DEC")
register_view("proc.nchilds", "UINT32", "threads of the process, the main one excluded",
              V.proc_nchilds, fmt="DEC")
register_view("proc.ppid", "INT64", "pid of the parent process", V.proc_ppid, fmt="ID")
register_view("proc.pname", "CHARBUF", "name of the parent process", V.proc_pname)


@field("proc.pcmdline", "CHARBUF", "full command line of the parent process")
def proc_pcmdline(ctx: EventContext) -> str | None:
    t = ctx.thread
    parent = None if t is None else ctx.engine.threads.get(t.ptid)
    return None if parent is None else parent.cmdline


def _level(arg: str | None) -> int | None:
    if arg is None:
        return None
    try:
        return int(arg.strip())
    except ValueError:
        raise ValueError(f"bad ancestor level {arg}") from None


def _all_ancestors(ctx: EventContext, attr: str) -> tuple[Any, ...]:
    main = _main(ctx)
    if main is None:
        return ()
    return tuple(getattr(a, attr) for a in ctx.engine.tree.ancestors(main))


def _ancestor_field(arg: str | None, options: RenderOptions, attr: str,
                    view: Callable[[Any, int], Any]) -> Callable[[Any], Any]:
    """``proc.a*[N]``: the Nth ancestor's value; without N, any ancestor in filters."""
    level = _level(arg)
    if level is None:
        if options.filtering:
            return _multi(lambda ctx: _all_ancestors(ctx, attr))
        return lambda ctx: view(ctx, 0)
    return lambda ctx: view(ctx, level)


@field("proc.apid", "INT64", "pid of an ancestor: proc.apid[1] the parent, [2] the "
       "grandparent...; without argument (filters), any ancestor", fmt="ID", arg="optional",
       parse_arg=bracket_arg, maker=True)
def proc_apid(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    return _ancestor_field(arg, options, "pid", V.proc_apid)


@field("proc.aname", "CHARBUF", "name of an ancestor: proc.aname[1] the parent, [2] the "
       "grandparent...; without argument (filters), any ancestor", arg="optional",
       parse_arg=bracket_arg, maker=True)
def proc_aname(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    return _ancestor_field(arg, options, "comm", V.proc_aname)



def _multi(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    fn.multi = True  # type: ignore[attr-defined]
    return fn


register_view("proc.loginshellid", "INT64", "pid of the oldest shell among the process's "
              "ancestors", V.proc_loginshellid, fmt="ID")


@field("proc.duration", "RELTIME", "nanoseconds since the process started", fmt="DEC")
def proc_duration(ctx: EventContext) -> int | None:
    t = ctx.thread
    if t is None or not t.clone_ts:
        return None
    return ctx.event.ts - t.clone_ts


register_view("proc.fdopencount", "UINT64", "open fds of the process", V.proc_fdopencount,
              fmt="DEC")
register_view("proc.fdlimit", "INT64", "most fds the process can open", V.proc_fdlimit,
              fmt="DEC")


@field("proc.fdusage", "DOUBLE", "open fds as a percentage of proc.fdlimit", fmt="DEC")
def proc_fdusage(ctx: EventContext) -> float | None:
    if ctx.thread is None:
        return None
    limit = V.proc_fdlimit(ctx)
    count = V.proc_fdopencount(ctx)
    if limit is None or count is None or limit <= 0:
        return 0.0
    return 100.0 if count > limit else count * 100 / limit


def _thread_attr(attr: str) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> Any:
        t = ctx.thread
        return None if t is None else getattr(t, attr)
    return extract


field("proc.vmsize", "UINT64", "virtual memory of the process (kB)", fmt="DEC")(
    _thread_attr("vmsize_kb"))
field("proc.vmrss", "UINT64", "resident memory of the process (kB)", fmt="DEC")(
    _thread_attr("vmrss_kb"))
field("proc.vmswap", "UINT64", "swapped memory of the process (kB)", fmt="DEC")(
    _thread_attr("vmswap_kb"))
field("thread.pfmajor", "UINT64", "major page faults since the thread started", fmt="DEC")(
    _thread_attr("pfmajor"))
field("thread.pfminor", "UINT64", "minor page faults since the thread started", fmt="DEC")(
    _thread_attr("pfminor"))
register_view("thread.tid", "INT64", "id of the thread that generated the event",
              V.thread_tid, fmt="ID")
register_view("thread.ismain", "BOOL", "true for the main thread of its process",
              V.thread_ismain)

_SWITCHES = frozenset(e.code for e in EVENTS if e.symbol in ("SCHEDSWITCH_1_E",
                                                              "SCHEDSWITCH_6_E"))


def _exectime(last: dict[int, int], ctx: EventContext) -> int:
    """CPU time of the thread switched out: time since the previous switch on that CPU."""
    ev = ctx.event
    if ev.type not in _SWITCHES:
        return 0
    prev = last.get(ev.cpu, 0)
    last[ev.cpu] = ev.ts
    return ev.ts - prev if prev else 0


@field("thread.exectime", "RELTIME", "on scheduler switches, the CPU time of the thread "
       "switched out (ns)", fmt="DEC", json="twice", maker=True)
def thread_exectime(arg: str | None, options: RenderOptions) -> Callable[[Any], int]:
    last: dict[int, int] = {}
    return lambda ctx: _exectime(last, ctx)


@field("thread.totexectime", "RELTIME", "CPU time of the thread so far, from scheduler "
       "switches (ns)", fmt="DEC", json="twice", maker=True)
def thread_totexectime(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    last: dict[int, int] = {}
    totals: dict[Any, int] = {}

    def extract(ctx: EventContext) -> int | None:
        spent = _exectime(last, ctx)
        t = ctx.thread
        if t is None:
            return None
        totals[t] = total = totals.get(t, 0) + spent
        return total
    return extract



@field("thread.cgroups", "CHARBUF", "the thread's cgroups, as subsystem=path pairs")
def thread_cgroups(ctx: EventContext) -> str | None:
    t = ctx.thread
    if t is None or not t.cgroups:
        return None
    return " ".join(f"{s}={p}" for s, p in t.cgroups)


def _cgroup_arg(text: str) -> tuple[str, int] | None:
    if not text.startswith("."):
        return None
    i = 1
    while i < len(text) and (text[i].isalpha() or text[i] == "_"):
        i += 1
    return text[1:i], i


@field("thread.cgroup", "CHARBUF", "the thread's cgroup for one subsystem "
       "(thread.cgroup.cpuacct)", arg="required", parse_arg=_cgroup_arg, maker=True)
def thread_cgroup(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> str | None:
        t = ctx.thread
        if t is None:
            return None
        for subsys, path in t.cgroups:
            if subsys == arg:
                return path
        return None
    return extract


register_view("thread.vtid", "INT64", "thread id in its pid namespace", V.thread_vtid,
              fmt="ID")
register_view("proc.vpid", "INT64", "process id in its pid namespace", V.proc_vpid, fmt="ID")


def _cpu_time(ctx: EventContext, user: bool, system: bool) -> int:
    """user+system CPU time of a procinfo event (the driver's per-thread tick counters)."""
    total = 0
    for i, wanted in ((0, user), (1, system)):
        if wanted:
            raw = ctx.args.raw_at(i)
            total += 0 if raw is None else int.from_bytes(raw[:8].ljust(8, b"\0"), "little")
    return total & _U64


def _thread_cpu(user: bool, system: bool) -> Callable[[str | None, RenderOptions],
                                                      Callable[[Any], float | None]]:
    """``thread.cpu*``: on procinfo events, the CPU ticks since this field last saw one of
    the thread's procinfo events (at most 100; 0 the first time). Like sinsp, every use
    of the field keeps its own memory, per thread, which starts again for a new thread."""

    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], float | None]:
        last: dict[int, tuple[ThreadInfo, int]] = {}

        def extract(ctx: EventContext) -> float | None:
            t = ctx.thread
            if ctx.event.type != PROCINFO_E or t is None:
                return None
            total = _cpu_time(ctx, user, system)
            seen = last.get(t.tid)
            before = seen[1] if seen is not None and seen[0] is t else 0
            last[t.tid] = (t, total)
            if not before:
                return 0.0
            return min(float((total - before) & _U64), 100.0)
        return extract
    return make


field("thread.cpu", "DOUBLE", "on procinfo events (one per thread and second), the CPU "
      "time the thread used since its previous one (ticks, at most 100)", maker=True)(
    _thread_cpu(True, True))
field("thread.cpu.user", "DOUBLE", "as thread.cpu, user CPU time only", maker=True)(
    _thread_cpu(True, False))
field("thread.cpu.system", "DOUBLE", "as thread.cpu, system CPU time only", maker=True)(
    _thread_cpu(False, True))


def _main_thread_only(attr: str) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> int | None:
        t = ctx.thread
        if t is None:
            return None
        return getattr(t, attr) if t.is_main_thread else 0
    return extract


field("thread.vmsize", "UINT64", "for the main thread, the process's virtual memory (kB); "
      "0 for other threads", fmt="DEC")(_main_thread_only("vmsize_kb"))
field("thread.vmrss", "UINT64", "for the main thread, the process's resident memory (kB); "
      "0 for other threads", fmt="DEC")(_main_thread_only("vmrss_kb"))


def _main_thread_bytes(attr: str) -> Callable[[Any], Any]:
    """sinsp multiplies the 32-bit kB count by 1024 in 32 bits: the bytes wrap at 4 GiB."""
    def extract(ctx: EventContext) -> int | None:
        t = ctx.thread
        if t is None:
            return None
        return getattr(t, attr) * 1024 & 0xFFFFFFFF if t.is_main_thread else 0
    return extract


field("thread.vmsize.b", "UINT64", "thread.vmsize in bytes (modulo 4 GiB, as sysdig)",
      fmt="DEC", hidden=True)(_main_thread_bytes("vmsize_kb"))
field("thread.vmrss.b", "UINT64", "thread.vmrss in bytes (modulo 4 GiB, as sysdig)",
      fmt="DEC", hidden=True)(_main_thread_bytes("vmrss_kb"))


register_view("proc.sid", "INT64", "session id of the process", V.proc_sid, fmt="ID")
register_view("proc.sname", "CHARBUF", "name of the session leader", V.proc_sname)
register_view("proc.tty", "INT32", "controlling terminal (0: none)", V.proc_tty, fmt="ID")
register_view("proc.exepath", "CHARBUF", "full path of the executable", V.proc_exepath)


@field("thread.nametid", "CHARBUF", "the process name followed by the event's thread id "
       "(e.g. curl17497): names a thread within one execve", hidden=True)
def thread_nametid(ctx: EventContext) -> str | None:
    t = ctx.thread
    return None if t is None else f"{t.comm}{ctx.event.tid}"


register_view("proc.vpgid", "INT64", "process group id in its pid namespace", V.proc_vpgid,
              fmt="ID")


def _false_if_thread(ctx: EventContext) -> bool | None:
    return None if ctx.thread is None else False


field("proc.is_container_healthcheck", "BOOL", "true for a container's health check "
      "(never known from a capture)")(_false_if_thread)
field("proc.is_container_liveness_probe", "BOOL", "true for a container's liveness probe "
      "(never known from a capture)")(_false_if_thread)
field("proc.is_container_readiness_probe", "BOOL", "true for a container's readiness probe "
      "(never known from a capture)")(_false_if_thread)


@field("proc.is_exe_writable", "BOOL", "true when the executable is writable by the user "
       "who started the process")
def proc_is_exe_writable(ctx: EventContext) -> bool | None:
    t = ctx.thread
    return None if t is None else t.exe_writable


# -- users and groups ------------------------------------------------------------------------------

field_class("user", "user", "", "The user of the process that generated the event.")
register_view("user.uid", "UINT32", "user id", V.user_uid, fmt="ID")
register_view("user.name", "CHARBUF", "user name", V.user_name)
register_view("user.homedir", "CHARBUF", "home directory of the user", V.user_homedir)
register_view("user.shell", "CHARBUF", "the user's shell", V.user_shell)
register_view("user.loginuid", "INT32", "audit user id (auid)", V.user_loginuid, fmt="ID")
register_view("user.loginname", "CHARBUF", "audit user name", V.user_loginname)

field_class("group", "group", "", "The group of the process that generated the event.")
register_view("group.gid", "UINT64", "group id", V.group_gid, fmt="ID")
register_view("group.name", "CHARBUF", "group name", V.group_name)


# -- containers ------------------------------------------------------------------------------------

field_class("container", "container", "",
            "The container of the process that generated the event ('host' outside).")
register_view("container.id", "CHARBUF", "container id ('host' outside containers)",
              V.container_id)

_CONTAINER_TYPES = {0: "docker", 1: "lxc", 2: "libvirt-lxc", 3: "mesos", 4: "rkt",
                    6: "cri", 7: "containerd", 8: "cri-o", 9: "bpm"}
_RUNTIME_TYPES = {"docker": "docker", "lxc": "lxc", "libvirt-lxc": "libvirt-lxc",
                  "mesos": "mesos", "cri-o": "cri-o", "crio": "cri-o", "containerd": "containerd",
                  "bpm": "bpm", "podman": None}


#: Runtimes whose sinsp engine records a container as soon as a thread shows its id
#: (reading a capture, without metadata): their container type. cri and mesos ones
#: have no record until a container event.
_RECORDED_RUNTIMES = {"docker": 0, "podman": 0, "lxc": 1, "libvirt-lxc": 2, "bpm": 9}


def _container(ctx: EventContext) -> tuple[str, dict[str, Any] | None] | None:
    """(container id, its metadata) for a thread in a container; None outside. Before
    (or without) a container event, the record sinsp's engine made for it, if any: no
    name for docker-like runtimes, the id as name for the others, nothing else."""
    t = ctx.thread
    if t is None:
        return None
    cid = t.container_id
    if not cid:
        return "", None
    meta = ctx.engine.containers.get(cid)
    if meta is None:
        kind = _RECORDED_RUNTIMES.get(t.container_runtime)
        if kind is not None:
            meta = {"id": cid, "type": kind, "name": "" if kind == 0 else cid}
    return cid, meta


@field("container.name", "CHARBUF", "container name ('host' outside containers)")
def container_name(ctx: EventContext) -> str | None:
    c = _container(ctx)
    if c is None:
        return None
    cid, meta = c
    if not cid:
        return "host"
    name = None if meta is None else meta.get("name")
    return name or None


def _meta_text(key: str) -> Callable[[Any], Any]:
    def extract(ctx: EventContext) -> str | None:
        c = _container(ctx)
        if c is None or not c[0] or c[1] is None:
            return None
        value = c[1].get(key)
        return value if isinstance(value, str) and value else None
    return extract


field("container.image", "CHARBUF", "container image name")(_meta_text("image"))
field("container.image.id", "CHARBUF", "container image id")(_meta_text("imageid"))


@field("container.type", "CHARBUF", "container type (docker, cri-o...; 'host' outside)")
def container_type(ctx: EventContext) -> str | None:
    c = _container(ctx)
    if c is None:
        return None
    cid, meta = c
    if not cid:
        return "host"
    if meta is not None and isinstance(meta.get("type"), int):
        return _CONTAINER_TYPES.get(meta["type"], "")
    t = ctx.thread
    return _RUNTIME_TYPES.get(t.container_runtime, None) if t is not None else None


@field("container.privileged", "BOOL", "true for privileged containers")
def container_privileged(ctx: EventContext) -> bool | None:
    c = _container(ctx)
    if c is None or not c[0] or c[1] is None:
        return None
    kind = c[1].get("type")
    if kind not in (0, 6, 7, 8, 11):  # docker-compatible runtimes only
        return None
    return bool(c[1].get("privileged"))


def _mounts(ctx: EventContext) -> tuple[Mount, ...] | None:
    c = _container(ctx)
    if c is None or not c[0] or c[1] is None:
        return None
    return c[1].get("mounts", ())


@field("container.mounts", "CHARBUF", "the container's mounts, comma-separated, each as "
       "source:dest:mode:rdwr:propagation")
def container_mounts(ctx: EventContext) -> str | None:
    mounts = _mounts(ctx)
    return None if mounts is None else ",".join(m.text() for m in mounts)


def _mount_arg(dotted: bool) -> Callable[[str], tuple[str, int] | None]:
    """sysdig reads the argument between the first ``[`` after the name and the next
    ``]``, whatever comes between (``container.mount.x`` is not an argument)."""

    def parse(text: str) -> tuple[str, int] | None:
        if not dotted and text.startswith("."):
            return None
        start = text.find("[")
        end = text.find("]", start + 1) if start >= 0 else -1
        if end < 0:
            return None
        return text[start + 1:end], end + 1
    return parse


def _mount_finder(arg: str | None, by: str) -> Callable[[Any], Mount | None]:
    """The mount a ``container.mount*[ARG]`` field names: by index when ARG is a number,
    else the first whose ``by`` attribute matches ARG as a glob (``fnmatch``)."""
    assert arg is not None
    try:
        index = parse_c_int(arg, True, 32)
    except ValueError:
        index = -1
    else:
        if index == -1:
            arg = ""  # sinsp's "no index" marker: a search for an empty path
    if index != -1:
        def by_index(ctx: EventContext) -> Mount | None:
            mounts = _mounts(ctx)
            return mounts[index] if mounts is not None and 0 <= index < len(mounts) else None
        return by_index
    match = glob_matcher(encode(arg))

    def by_glob(ctx: EventContext) -> Mount | None:
        for m in _mounts(ctx) or ():
            if match(encode(getattr(m, by))):
                return m
        return None
    return by_glob


@field("container.mount", "CHARBUF", "one mount, by number (container.mount[0]) or by "
       "source, a glob allowed (container.mount[/usr/*]): source:dest:mode:rdwr:propagation",
       arg="required", parse_arg=_mount_arg(False), arg_syntax="bracket", maker=True)
def container_mount(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    find = _mount_finder(arg, "source")

    def extract(ctx: EventContext) -> str | None:
        m = find(ctx)
        return None if m is None else m.text()
    return extract


def _mount_part(part: str, by: str) -> Callable[[str | None, RenderOptions],
                                                Callable[[Any], str | None]]:
    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
        find = _mount_finder(arg, by)

        def extract(ctx: EventContext) -> str | None:
            m = find(ctx)
            if m is None:
                return None
            value = getattr(m, part)
            return ("true" if value else "false") if part == "rdwr" else value
        return extract
    return make


for _part, _by, _doc in (
        ("source", "dest", "source of a mount, by number or by destination (a glob)"),
        ("dest", "source", "destination of a mount, by number or by source (a glob)"),
        ("mode", "source", "mode of a mount, by number or by source (a glob)"),
        ("rdwr", "source", "true for a read-write mount, by number or by source (a glob)"),
        ("propagation", "source", "propagation of a mount, by number or by source (a glob)")):
    field(f"container.mount.{_part}", "CHARBUF", f"the {_doc}: "
          f"container.mount.{_part}[0]", arg="required", parse_arg=_mount_arg(True),
          arg_syntax="bracket", maker=True)(_mount_part(_part, _by))


field("container.image.repository", "CHARBUF", "container image repository")(
    _meta_text("imagerepo"))
field("container.image.tag", "CHARBUF", "container image tag")(_meta_text("imagetag"))
field("container.image.digest", "CHARBUF", "container image registry digest")(
    _meta_text("imagedigest"))


def _probe(kind: int) -> Callable[[Any], str | None]:
    def extract(ctx: EventContext) -> str | None:
        c = _container(ctx)
        if c is None or not c[0] or c[1] is None:
            return None
        for probe in c[1].get("probes", ()):
            if probe.kind == kind:
                return probe.command()
        return "NONE"
    return extract


field("container.healthcheck", "CHARBUF", "the container's health check command (NONE: "
      "none)")(_probe(1))
field("container.liveness_probe", "CHARBUF", "the container's liveness probe (NONE: "
      "none)")(_probe(2))
field("container.readiness_probe", "CHARBUF", "the container's readiness probe (NONE: "
      "none)")(_probe(3))
