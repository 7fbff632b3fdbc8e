"""The event, flag and syscall tables: internal consistency, spot facts, and sysdig 0.29.3."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from functools import cache
from pathlib import Path

import pytest

from scapkit.scapfile import event_table as et
from scapkit.scapfile import flag_tables as ft
from scapkit.scapfile import syscall_names as sn
from scapkit.scapfile.event_table import EC, EF, PF, PT

DATA = Path(__file__).parent / "data"
FLAG_TYPES = {PT.FLAGS8, PT.FLAGS16, PT.FLAGS32, PT.ENUMFLAGS8, PT.ENUMFLAGS16, PT.ENUMFLAGS32,
              PT.MODE}


def names(ev: et.EventInfo) -> list[str]:
    return [p.name for p in ev.params]


def old_events() -> list[et.EventInfo]:
    events = [et.sysdig_029_event_info(c) for c in range(et.SYSDIG_029_NUM_EVENTS)]
    assert all(e is not None for e in events)
    return events  # type: ignore[return-value]


# ----------------------------------------------------------------------------- structure


def test_codes_contiguous_and_equal_to_index() -> None:
    assert et.NUM_EVENTS == len(et.EVENTS) == 454  # PPM_EVENT_MAX of current libs
    assert [e.code for e in et.EVENTS] == list(range(et.NUM_EVENTS))
    assert et.event_info(0) is et.EVENTS[0]
    assert et.event_info(et.NUM_EVENTS) is None
    assert et.event_info(-1) is None


def test_symbols_unique_and_match_direction() -> None:
    assert len({e.symbol for e in et.EVENTS}) == et.NUM_EVENTS
    for ev in et.EVENTS:
        assert ev.is_enter == (ev.code % 2 == 0)
        assert ev.direction == (">" if ev.is_enter else "<")
        assert ev.symbol.endswith("_E" if ev.is_enter else "_X"), ev


def test_pairs_share_a_name_unless_one_side_is_unused() -> None:
    # libs names unused slots "NA"; close_range and keyctl only have a real exit event.
    for enter, exit_ in zip(et.EVENTS[0::2], et.EVENTS[1::2]):
        if enter.name == "NA" or exit_.name == "NA":
            unused = enter if enter.name == "NA" else exit_
            assert unused.flags & EF.UNUSED and unused.category == EC.UNKNOWN, unused
            continue
        assert enter.name == exit_.name, (enter, exit_)
    assert et.EVENTS[450].name == "NA" and et.EVENTS[451].name == "close_range"


def test_unknown_category_only_on_unused_na_events() -> None:
    for ev in et.EVENTS:
        if ev.category == EC.UNKNOWN:
            assert ev.name == "NA" and ev.flags & EF.UNUSED, ev
        else:
            assert ev.source in (EC.SYSCALL, EC.TRACEPOINT, EC.PLUGIN, EC.METAEVENT, EC.ITER), ev


def test_flag_params_name_existing_tables() -> None:
    seen = set()
    for ev in et.EVENTS:
        for p in ev.params:
            if p.type in FLAG_TYPES:
                assert isinstance(p.info, str) and p.info in ft.TABLES, (ev.symbol, p)
                seen.add(p.info)
            elif p.type not in (PT.FSRELPATH, PT.DYN):
                assert p.info is None, (ev.symbol, p)
    # Every table is used by some parameter, except poll_flags: it names the per-fd flags inside
    # FDLIST values, which sysdig prints in hex rather than symbolically.
    assert seen == set(ft.TABLES) - {"poll_flags"}


def test_fsrelpath_points_to_an_fd_param() -> None:
    count = 0
    for ev in et.EVENTS:
        for i, p in enumerate(ev.params):
            if p.type is PT.FSRELPATH:
                assert isinstance(p.info, int) and 0 <= p.info < len(ev.params) and p.info != i
                assert ev.params[p.info].type in (PT.FD, PT.FD32), (ev.symbol, p)
                count += 1
    assert count > 10


def test_dyn_params_have_alternatives() -> None:
    dyn = [(ev, p) for ev in et.EVENTS for p in ev.params if p.type is PT.DYN]
    assert dyn
    for ev, p in dyn:
        assert isinstance(p.info, tuple) and p.info, (ev.symbol, p)
        assert all(isinstance(a, et.ParamInfo) and a.type is not PT.DYN for a in p.info)
    sockopt = et.EVENTS[45].params[4]  # setsockopt exit "val"
    assert [a.type for a in sockopt.info] == [PT.BYTEBUF, PT.ERRNO, PT.UINT32, PT.UINT64,
                                              PT.RELTIME]
    assert set(et.DYN_GROUPS) == {"sockopt", "ptrace", "bpf", "keyctl"}


def test_param_names_unique_per_event() -> None:
    for ev in et.EVENTS:
        assert len(set(names(ev))) == len(ev.params), ev.symbol


def test_categories_split_into_subcategory_and_source() -> None:
    open_x = et.EVENTS[3]
    assert open_x.category == EC.FILE | EC.SYSCALL
    assert open_x.subcategory == EC.FILE and open_x.source == EC.SYSCALL
    switch = et.events_named("switch")[-2]
    assert switch.subcategory == EC.SCHEDULER and switch.source == EC.TRACEPOINT
    drop = et.events_named("drop")[0]
    assert drop.subcategory == EC.INTERNAL and drop.source == EC.METAEVENT
    assert et.EVENTS[7].subcategory & et.IO_BASE  # read exit is I/O


def test_large_payload_events() -> None:
    assert {e.code: e.name for e in et.EVENTS if e.large_payload} == {
        322: "pluginevent", 324: "container", 402: "asyncevent"}


def test_events_named() -> None:
    assert [e.code for e in et.events_named("open")] == [2, 3]
    assert et.events_named("no_such_event") == []
    execves = et.events_named("execve")
    assert {e.direction for e in execves} == {">", "<"}
    assert all(e.name == "execve" for e in execves)


# ----------------------------------------------------------------------------- spot facts


def test_generic_events() -> None:
    enter, exit_ = et.EVENTS[0], et.EVENTS[1]
    assert enter.symbol == "GENERIC_E" and exit_.symbol == "GENERIC_X"
    for ev in (enter, exit_):
        assert ev.name == "syscall"
        assert [(p.name, p.type, p.fmt) for p in ev.params] == [
            ("ID", PT.SYSCALLID, PF.DEC), ("nativeID", PT.UINT16, PF.DEC)]


def test_open() -> None:
    enter, exit_ = et.EVENTS[2], et.EVENTS[3]
    assert enter.symbol == "SYSCALL_OPEN_E" and enter.name == "open"
    # The enter event still declares its three parameters in current libs.
    assert names(enter) == ["name", "flags", "mode"]
    assert names(exit_) == ["fd", "name", "flags", "mode", "dev", "ino"]
    flags, mode, dev = exit_.params[2], exit_.params[3], exit_.params[4]
    assert (flags.type, flags.fmt, flags.info) == (PT.FLAGS32, PF.HEX, "file_flags")
    assert (mode.type, mode.fmt) == (PT.UINT32, PF.OCT)
    assert (dev.type, dev.fmt) == (PT.UINT32, PF.HEX)
    assert exit_.flags == EF.CREATES_FD | EF.MODIFIES_STATE | EF.CONVERTER_MANAGED


def test_execve_19_exit() -> None:
    ev = et.EVENTS[293]
    assert ev.symbol == "SYSCALL_EXECVE_19_X" and ev.name == "execve"
    assert names(ev) == [
        "res", "exe", "args", "tid", "pid", "ptid", "cwd", "fdlimit", "pgft_maj", "pgft_min",
        "vm_size", "vm_rss", "vm_swap", "comm", "cgroups", "env", "tty", "vpgid", "loginuid",
        "flags", "cap_inheritable", "cap_permitted", "cap_effective", "exe_ino", "exe_ino_ctime",
        "exe_ino_mtime", "uid", "trusted_exepath", "pgid", "gid", "filename"]
    assert ev.params[19].info == "execve_flags"
    assert ev.params[18].type is PT.UID


def test_misc_facts() -> None:
    socket_e = et.EVENTS[18]
    assert socket_e.params[0].type is PT.ENUMFLAGS32 and socket_e.params[0].info == "socket_families"
    openat2_x = et.events_named("openat2")[1]
    assert names(openat2_x)[:3] == ["fd", "dirfd", "name"] and openat2_x.params[2].info == 1
    assert et.EVENTS[4].flags & EF.OLD_VERSION  # close enter is no longer sent
    assert et.EVENTS[453].name == "keyctl" and et.EVENTS[453].params[2].type is PT.DYN


# ----------------------------------------------------------------------------- parsing


def test_parse_is_fast() -> None:
    best = min(_time_parse() for _ in range(3))
    assert best < 0.015, f"parsing took {best * 1000:.1f} ms"


def _time_parse() -> float:
    et._category.cache_clear()
    et._flags.cache_clear()
    start = time.perf_counter()
    params = et._ParamParser()
    et._check_events(et._parse_events(et._EVENTS, params))
    et._parse_old(et._OLD_OVERRIDES, params)
    ft._parse_tables(ft._TABLES)
    sn._parse(sn._SYSCALLS)
    return time.perf_counter() - start


@pytest.mark.parametrize("text, message", [
    ("0 A_E a other -\n2 B_E b other -\n", "out of order"),
    ("0 A_E a other - x:nosuchtype\n", "unknown type"),
    ("0 A_E a other - f:flags32:no_such_table\n", "unknown flag table"),
    ("0 A_E a nosuchcat -\n", "unknown category"),
    ("0 A_E a other nosuchflag\n", "unknown flag"),
    ("0 A_E a other - p:fsrelpath\n", "dirfd index"),
    ("0 A_E a other - v:dyn:nogroup\n", "unknown DYN group"),
    ("0 A_E a other - x:uint32:file_flags\n", "unexpected info"),
    ("    x:uint32\n", "continuation"),
])
def test_malformed_declarations_raise(text: str, message: str) -> None:
    with pytest.raises(et.EventTableError, match=message):
        et._parse_events(text, et._ParamParser())


def test_escaped_names_and_defaults() -> None:
    params = et._ParamParser()
    text = "0 A_E a other+syscall uses_fd\n  plugin%20ID:uint32 m:mode:chmod_mode\n"
    (ev,) = et._parse_events(text, params)
    assert ev.params[0] == et.ParamInfo("plugin ID", PT.UINT32, PF.DEC)
    assert ev.params[1] == et.ParamInfo("m", PT.MODE, PF.OCT, "chmod_mode")


# ----------------------------------------------------------------------------- sysdig 0.29.3 overlay


def test_old_table_shape() -> None:
    old = old_events()
    assert et.SYSDIG_029_NUM_EVENTS == 336
    assert et.sysdig_029_event_info(336) is None
    for ev, cur in zip(old, et.EVENTS):
        assert ev.code == cur.code
        assert not ev.category & ~et.SUBCATEGORY_MASK  # no source bits back then
        assert not ev.flags & EF.CONVERTER_MANAGED
        assert len(ev.params) <= len(cur.params)  # only appends happened since


def test_old_table_known_differences() -> None:
    old = et.sysdig_029_event_info
    assert names(old(3)) == ["fd", "name", "flags", "mode", "dev"]
    assert old(1).params == (et.ParamInfo("ID", PT.SYSCALLID, PF.DEC),)
    assert old(18).params[0] == et.ParamInfo("domain", PT.FLAGS32, PF.DEC, "socket_families")
    assert old(24).params[1].type is PT.UINT32  # listen backlog, INT32 now
    assert old(62).params[1] == et.ParamInfo("flags", PT.FLAGS32, PF.HEX, None)
    assert old(161).params[0].type is PT.UINT64  # mmap res, ERRNO now
    assert [(p.name, p.type) for p in old(293).params[16:19]] == [
        ("tty", PT.INT32), ("pgid", PT.PID), ("loginuid", PT.INT32)]
    assert len(old(293).params) == 20
    assert old(322).params[0].name == "plugin ID"
    assert (old(196).symbol, old(196).name) == ("SYSDIGEVENT_E", "sysdigevent")
    assert old(326).params[1].info == 1  # openat2 enter: old table pointed at itself
    assert old(4).flags == EF.DESTROYS_FD | EF.USES_FD | EF.MODIFIES_STATE | EF.DROP_SIMPLE_CONS
    assert not old(0).flags & EF.OLD_VERSION and et.EVENTS[0].flags & EF.OLD_VERSION
    assert old(269).name == "tracer" and not old(269).flags & EF.UNUSED


def test_old_internal_events() -> None:
    internal = {e.code for e in old_events() if e.category & EC.INTERNAL}
    assert internal == {148, 149, 196, 197, 228, 229, 234, 235, 260, 270, 286}
    now = {e.code for e in et.EVENTS if e.category & EC.INTERNAL}
    # The three exits that were INTERNAL are unused "NA" slots now (never emitted).
    assert internal - now == {197, 229, 235}
    assert now - internal == set()


# ----------------------------------------------------------------------------- flag tables


def test_tables_keep_libs_order() -> None:
    fam = ft.TABLES["socket_families"]
    assert fam[0] == ("AF_NFC", 39) and fam[-1] == ("AF_UNSPEC", 0)
    assert [n for n, _ in ft.TABLES["file_flags"][10:13]] == ["O_RDWR", "O_WRONLY", "O_RDONLY"]
    assert ft.TABLES["chmod_mode"][0] == ("S_IXOTH", 0o1)
    assert len(ft.TABLES) == 55


@pytest.mark.parametrize("table, value, expected", [
    ("file_flags", 1, "O_RDONLY"),
    ("file_flags", 4097, "O_RDONLY|O_CLOEXEC"),
    ("file_flags", 3, "O_RDWR"),
    ("file_flags", 0, "O_NONE"),
    ("file_flags", 0x20000000, ""),  # unknown bits are dropped silently
    ("prot_flags", 3, "PROT_READ|PROT_WRITE"),
    ("prot_flags", 0, "PROT_NONE"),
    ("mmap_flags", 1030, "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"),
    ("access_flags", 0, "F_OK"),
    ("access_flags", 4, "R_OK"),
    ("futex_operations", 129, "FUTEX_PRIVATE_FLAG|FUTEX_WAKE"),
    ("socket_families", 1, "AF_LOCAL"),
    ("socket_families", 10, "AF_INET6"),
    ("rlimit_resources", 3, "RLIMIT_STACK"),
    ("fcntl_commands", 2, "F_GETFD"),
    ("clone_flags", 47619, "CLONE_FILES|CLONE_FS|CLONE_PARENT_SETTID|CLONE_SIGHAND|"
                           "CLONE_SYSVSEM|CLONE_THREAD|CLONE_VM"),
])
def test_render_flags(table: str, value: int, expected: str) -> None:
    assert ft.render_flags(table, value) == expected


def test_render_flags_exact_entry_is_printed_last() -> None:
    # An earlier partial match does not stop the walk; the exact entry ends it.
    assert ft.render_flags("chmod_mode", 0o755) == (
        "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR")


def test_render_enum() -> None:
    assert ft.render_enum("socket_families", 1) == "AF_LOCAL|AF_UNIX"
    assert ft.render_enum("socket_families", 2) == "AF_INET"
    assert ft.render_enum("socket_families", 99) == ""
    assert ft.render_enum("fcntl_commands", 4) == "F_GETFL"


def test_sysdig029_tables() -> None:
    assert ft.render_flags("file_flags", 0x4001) == "O_RDONLY|O_F_CREATED"
    assert ft.render_flags("file_flags", 0x4001, sysdig029=True) == "O_RDONLY"
    assert [n for n, _ in ft.table_entries("shutdown_how", sysdig029=True)] == [
        "SHUT_RDWR", "SHUT_WR", "SHUT_RD"]
    assert "bpf_commands" in ft.SYSDIG_029_ABSENT_TABLES
    with pytest.raises(KeyError):
        ft.table_entries("bpf_commands", sysdig029=True)
    for ev in old_events():
        for p in ev.params:
            if p.type in FLAG_TYPES and p.info is not None:
                assert p.info not in ft.SYSDIG_029_ABSENT_TABLES, (ev.symbol, p)


def test_errno_and_signal_names() -> None:
    assert ft.ERRNO_NAMES[2] == "ENOENT" and ft.ERRNO_NAMES[115] == "EINPROGRESS"
    assert ft.ERRNO_NAMES[512] == "ERESTARTSYS" and ft.ERRNO_NAMES[530] == "EIOCBRETRY"
    assert 41 not in ft.ERRNO_NAMES and 58 not in ft.ERRNO_NAMES  # sinsp knows no name for them
    assert len(ft.ERRNO_NAMES) == 138
    assert ft.SIGNAL_NAMES == {
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
        7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
        13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
        18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
        24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH",
        29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS"}


# ----------------------------------------------------------------------------- syscall names


def test_syscall_names() -> None:
    assert len(sn.SYSCALL_NAMES) == 454
    assert sn.SYSCALL_NAMES[5] == "open" and sn.SYSCALL_NAMES[3] == "read"
    assert sn.syscall_name(453) == "rseq_slice_yield" and sn.syscall_name(454) is None
    assert len(sn.SYSCALL_INFO) == 329
    assert sn.SYSCALL_INFO[3] == sn.SyscallInfo("read", EC.IO_READ, EF.DROP_SIMPLE_CONS)


def test_syscall_names_old_vs_current() -> None:
    differ = {i: (sn.SYSCALL_INFO[i].name, sn.SYSCALL_NAMES[i])
              for i in range(len(sn.SYSCALL_INFO)) if sn.SYSCALL_INFO[i].name != sn.SYSCALL_NAMES[i]}
    assert differ == {
        0: ("<unknown>", "unknown"), 283: ("newselect", "_newselect"), 292: ("llseek", "_llseek"),
        298: ("sigreturn", "rt_sigreturn"), 305: ("setuid", "setuid32"),
        306: ("getuid", "getuid32"), 307: ("setgid", "setgid32"), 308: ("geteuid", "geteuid32"),
        309: ("getgid", "getgid32"), 310: ("setresuid", "setresuid32"),
        311: ("setresgid", "setresgid32"), 312: ("getresuid", "getresuid32"),
        313: ("getresgid", "getresgid32")}
    assert sn.sysdig_029_syscall_name(298) == "sigreturn"
    assert sn.sysdig_029_syscall_name(329) is None


# ----------------------------------------------------------------------------- real sysdig

SYSDIG = shutil.which("sysdig")
needs_sysdig = pytest.mark.skipif(SYSDIG is None, reason="sysdig 0.29.3 not installed")
SYSDIG_TYPE_NAMES = {PT.DYN: "DYNAMIC"}
LIST_LINE = re.compile(r"([<>]) (\w+)\((.*)\)")


@cache
def sysdig_list() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """`sysdig -L` as (direction, name, [(TYPE, param name)])."""
    out = subprocess.run([SYSDIG, "-L"], capture_output=True, text=True, check=True).stdout
    events = []
    for line in out.splitlines():
        m = LIST_LINE.fullmatch(line)
        assert m, line
        args = [tuple(a.split(" ", 1)) for a in m.group(3).split(", ")] if m.group(3) else []
        events.append((m.group(1), m.group(2), args))
    return events


@needs_sysdig
@pytest.mark.sysdig
def test_sysdig_list_matches_old_overlay_exactly() -> None:
    # sysdig -L lists its table minus unused, old-version and internal events.
    expected = [
        (e.direction, e.name, [(SYSDIG_TYPE_NAMES.get(p.type, p.type.name), p.name)
                               for p in e.params])
        for e in old_events()
        if not e.flags & (EF.UNUSED | EF.OLD_VERSION) and not e.category & EC.INTERNAL]
    assert sysdig_list() == expected


# Events of `sysdig -L` whose parameter names are not a prefix of any current version.
SYSDIG_LIST_EXCEPTIONS = {
    # libs retired the tracer exit event: that slot is an unused "NA" now.
    ("<", "tracer"): "tracer exit is unused in current libs",
    # Parameter 17 was renamed pgid -> vpgid (a new pgid was appended at the end).
    ("<", "execve"): "execve exit (19) param 17 renamed pgid -> vpgid",
    ("<", "execveat"): "execveat exit param 17 renamed pgid -> vpgid",
    # The space in the name was replaced.
    (">", "pluginevent"): "param 0 renamed 'plugin ID' -> 'plugin_id'",
}


@needs_sysdig
@pytest.mark.sysdig
def test_sysdig_list_names_are_prefix_of_current() -> None:
    failures = set()
    for direction, name, args in sysdig_list():
        listed = [n for _, n in args]
        versions = [e for e in et.events_named(name) if e.direction == direction]
        if not any(names(e)[: len(listed)] == listed for e in versions):
            failures.add((direction, name))
    assert failures == set(SYSDIG_LIST_EXCEPTIONS)


SYSDIG_LINE = re.compile(r"\d+ \S+ \d+ .*? \(\d+\) ([<>]) (\S+) ?(.*)")


@cache
def sysdig_lines(capture: str) -> list[tuple[str, str, str]]:
    """(direction, event name, evt.info) of every event sysdig prints for a capture."""
    env = dict(os.environ, TZ="UTC")
    out = subprocess.run([SYSDIG, "-r", str(DATA / capture)], capture_output=True, text=True,
                         env=env, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = SYSDIG_LINE.fullmatch(line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(3)))
    return rows


def old_flag_params(direction: str, name: str) -> dict[str, et.ParamInfo]:
    """FLAGS/MODE parameters (by name) of every sysdig 0.29.3 version of an event."""
    found: dict[str, et.ParamInfo] = {}
    for ev in old_events():
        if ev.name == name and ev.direction == direction:
            for p in ev.params:
                if p.type in FLAG_TYPES and p.info is not None:
                    assert found.setdefault(p.name, p).info == p.info
    return found


CAPTURES = ["curl_google.scap", "single_ipv6_conn.scap", "test_ipv6_client.scap"]


@needs_sysdig
@pytest.mark.sysdig
def test_render_flags_matches_real_sysdig() -> None:
    checked = 0
    for capture in CAPTURES:
        for direction, name, info in sysdig_lines(capture):
            for pname, param in old_flag_params(direction, name).items():
                m = re.search(rf"(?:^| ){re.escape(pname)}=(\d+)(?:\(([^)]*)\))?(?= |$)", info)
                if not m:
                    continue
                value = int(m.group(1), 8 if param.type is PT.MODE else 10)
                assert isinstance(param.info, str)
                got = ft.render_flags(param.info, value, sysdig029=True)
                assert got == (m.group(2) or ""), (capture, name, pname, m.group(0))
                checked += 1
    assert checked > 300


@needs_sysdig
@pytest.mark.sysdig
def test_errno_names_match_real_sysdig() -> None:
    seen = set()
    for capture in CAPTURES:
        for _, _, info in sysdig_lines(capture):
            for number, errname in re.findall(r"(?:^| )res=-(\d+)\((\w+)\)", info):
                assert ft.ERRNO_NAMES[int(number)] == errname
                seen.add(errname)
    assert "ENOENT" in seen
