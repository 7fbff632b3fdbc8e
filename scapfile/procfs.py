"""A live snapshot of this machine, from /proc and /etc, as libscap's /proc scan builds it.

:func:`take_snapshot` returns the :class:`~.snapshot.Snapshot` that a recorder writes
before the events: machine info, every process and thread, the fds of every process,
the network interfaces and the users and groups. The values follow libscap's scanner
(libs ``userspace/libscap/linux/scap_procs.c``, ``scap_fds.c``, ``scap_iflist.c``,
``scap_userlist.c``; the libs sysdig 0.29.3 is built with where they differ), so sysdig
reads the same state from our files as from its own:

* threads: ``/proc/PID`` then ``/proc/PID/task/TID``; kernel threads and zombies (no
  ``exe`` link and an empty ``cmdline``) are skipped; ``exe`` is ``argv[0]``, ``exepath``
  the ``exe`` link, ``comm`` the ``comm`` file; uid/gid are the effective ids; vtid, vpid
  and vpgid come from ``NSpid``/``NStgid``/``NSpgid``; cgroups are ``subsys=path``
  entries (a cgroup v2 line counts for ``cpu``, ``memory`` and ``cpuset``); a thread
  other than the main one gets ``CLONE_THREAD | CLONE_FILES``;
* fds (main threads only), named as libscap names them: files and directories by path
  (with open flags from ``fdinfo`` and the device from ``mountinfo``), pipes
  ``pipe:[ino]``, sockets with their addresses from ``/proc/PID/net/*`` of the process's
  network namespace (a socket found in none of the tables is left out), and the
  anonymous-inode kinds (eventfd, signalfd, eventpoll, inotify, timerfd) with an empty
  name. Kinds sysdig 0.29.3 does not know (memfd, io_uring, pidfd, bpf...) are written
  the way its libs wrote them (memfd as a file, the others as unsupported), so the
  files stay readable by it;
* interfaces: every IPv4 address, then every IPv6 address (``getifaddrs``).

Processes come and go while the scan runs: anything that vanishes or cannot be read is
left out (a process) or left empty (a field), never an error.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import os
import resource
import socket
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from .blocks import FdType
from .snapshot import (FdInfo, GroupInfo, InterfaceInfo, MachineInfo, ProcessInfo, Snapshot,
                       UserInfo)

__all__ = ["take_snapshot", "machine_info", "scan_processes", "interfaces", "users", "groups"]

#: libscap's limits on what it reads of these files.
MAX_ARGS_SIZE = 4096
MAX_ENV_SIZE = 4096
MAX_CGROUPS_SIZE = 4096
MAX_PATH_SIZE = 1024

#: ``PPM_CL_*`` flags given to threads other than the main one.
PPM_CL_CLONE_FILES = 1 << 0
PPM_CL_CLONE_THREAD = 1 << 13

#: ``scap_l4_proto`` values.
L4_TCP, L4_UDP, L4_RAW = 2, 3, 5

#: Subsystems a cgroup v2 line stands for (what libscap assigns it).
CGROUP2_SUBSYSTEMS = ("cpu", "memory", "cpuset")

#: anon_inode link names -> fd type (the ones sysdig 0.29.3 knows).
_ANON_TYPES = {
    "anon_inode:[eventfd]": FdType.EVENT,
    "anon_inode:[signalfd]": FdType.SIGNALFD,
    "anon_inode:[eventpoll]": FdType.EVENTPOLL,
    "anon_inode:inotify": FdType.INOTIFY,
    "anon_inode:[timerfd]": FdType.TIMERFD,
}

#: Linux open flags (fdinfo) -> PPM_O_* bits, as libscap's open_flags_to_scap.
#: O_LARGEFILE is left out: libscap is built where it is 0, though fdinfo shows it.
_OPEN_FLAGS = (
    (os.O_CREAT, 1 << 2), (os.O_APPEND, 1 << 3), (os.O_DSYNC, 1 << 4), (os.O_EXCL, 1 << 5),
    (os.O_NONBLOCK, 1 << 6), (os.O_SYNC, 1 << 7), (os.O_TRUNC, 1 << 8),
    (getattr(os, "O_DIRECT", 0), 1 << 9), (os.O_DIRECTORY, 1 << 10),
    (os.O_CLOEXEC, 1 << 12),
)
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_PPM_O_RDONLY, _PPM_O_WRONLY, _PPM_O_RDWR, _PPM_O_TMPFILE = 1, 2, 3, 1 << 13


def open_flags_to_ppm(flags: int) -> int:
    """Kernel open flags -> ``PPM_O_*`` bits (the values open events carry)."""
    acc = flags & os.O_ACCMODE
    res = _PPM_O_WRONLY if acc == os.O_WRONLY else _PPM_O_RDWR if acc == os.O_RDWR \
        else _PPM_O_RDONLY
    for bit, ppm in _OPEN_FLAGS:
        if bit and flags & bit == bit:
            res |= ppm
    if _O_TMPFILE and flags & _O_TMPFILE == _O_TMPFILE:
        res |= _PPM_O_TMPFILE
    return res


# ---------------------------------------------------------------------------
# Small readers: None when the entry is gone or unreadable
# ---------------------------------------------------------------------------


def _read(path: str, limit: int = 1 << 20) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        parts = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)
    except OSError:
        return None
    finally:
        os.close(fd)


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _nul_split(raw: bytes) -> list[str]:
    """NUL-separated strings (a final NUL ends the last one; none may be cut short)."""
    if not raw:
        return []
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    return [_s(x) for x in raw.split(b"\0")]


# ---------------------------------------------------------------------------
# Machine, users, groups
# ---------------------------------------------------------------------------


def machine_info(proc: str = "/proc") -> MachineInfo:
    """CPUs online, physical memory, hostname, boot time (``btime``), highest pid."""
    boot = 0
    for line in (_read(f"{proc}/stat") or b"").splitlines():
        if line.startswith(b"btime "):
            try:
                boot = int(line.split()[1]) * 1_000_000_000
            except (IndexError, ValueError):
                pass
            break
    try:
        max_pid = int((_read(f"{proc}/sys/kernel/pid_max") or b"0").strip() or 0)
    except ValueError:
        max_pid = 0
    return MachineInfo(
        num_cpus=os.sysconf("SC_NPROCESSORS_ONLN"),
        memory_size_bytes=os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGESIZE"),
        max_pid=max_pid,
        hostname=socket.gethostname(),
        boot_ts_epoch=boot,
    )


def users(etc: str = "/etc") -> dict[int, UserInfo]:
    """``/etc/passwd``: uid -> user (the first entry of a uid wins, as getpwuid)."""
    out: dict[int, UserInfo] = {}
    for fields in _colon_file(f"{etc}/passwd", 7):
        try:
            uid, gid = int(fields[2]), int(fields[3])
        except ValueError:
            continue
        out.setdefault(uid, UserInfo(uid, gid, fields[0], fields[5], fields[6]))
    return out


def groups(etc: str = "/etc") -> dict[int, GroupInfo]:
    """``/etc/group``: gid -> group."""
    out: dict[int, GroupInfo] = {}
    for fields in _colon_file(f"{etc}/group", 4):
        try:
            gid = int(fields[2])
        except ValueError:
            continue
        out.setdefault(gid, GroupInfo(gid, fields[0]))
    return out


def _colon_file(path: str, nfields: int) -> Iterator[list[str]]:
    for line in (_read(path) or b"").splitlines():
        if not line or line.startswith((b"#", b"+", b"-")):
            continue
        fields = _s(line).split(":")
        if len(fields) >= nfields:
            yield fields


# ---------------------------------------------------------------------------
# Network interfaces (getifaddrs)
# ---------------------------------------------------------------------------


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = [
    ("ifa_next", ctypes.POINTER(_IfAddrs)),
    ("ifa_name", ctypes.c_char_p),
    ("ifa_flags", ctypes.c_uint),
    ("ifa_addr", ctypes.c_void_p),
    ("ifa_netmask", ctypes.c_void_p),
    ("ifa_ifu", ctypes.c_void_p),  # broadcast (or point-to-point peer) address
    ("ifa_data", ctypes.c_void_p),
]


def _sockaddr_ip(ptr: int | None, family: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address of a sockaddr_in / sockaddr_in6 (zero when absent or of another family)."""
    if family == socket.AF_INET:
        if not ptr or ctypes.c_ushort.from_address(ptr).value != family:
            return ipaddress.IPv4Address(0)
        return ipaddress.IPv4Address(ctypes.string_at(ptr + 4, 4))
    if not ptr or ctypes.c_ushort.from_address(ptr).value != family:
        return ipaddress.IPv6Address(0)
    return ipaddress.IPv6Address(ctypes.string_at(ptr + 8, 16))


def interfaces(proc: str = "/proc") -> list[InterfaceInfo]:
    """Every interface address: the IPv4 ones first, then the IPv6 ones (libscap's order).

    Uses ``getifaddrs`` from the C library; without it, falls back to ``ioctl`` for
    IPv4 and ``/proc/net/if_inet6`` for IPv6.
    """
    try:
        return _getifaddrs()
    except OSError:
        return _interfaces_fallback(proc)


def _getifaddrs() -> list[InterfaceInfo]:
    name = ctypes.util.find_library("c") or "libc.so.6"
    libc = ctypes.CDLL(name, use_errno=True)
    head = ctypes.POINTER(_IfAddrs)()
    if libc.getifaddrs(ctypes.byref(head)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"getifaddrs: {os.strerror(err)}")
    v4: list[InterfaceInfo] = []
    v6: list[InterfaceInfo] = []
    try:
        node = head
        while node:
            ifa = node.contents
            node = ifa.ifa_next
            if not ifa.ifa_addr:
                continue
            family = ctypes.c_ushort.from_address(ifa.ifa_addr).value
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ifname = _s(ifa.ifa_name or b"")
            entry = InterfaceInfo(ifname, _sockaddr_ip(ifa.ifa_addr, family),
                                  _sockaddr_ip(ifa.ifa_netmask, family),
                                  _sockaddr_ip(ifa.ifa_ifu, family))
            (v4 if family == socket.AF_INET else v6).append(entry)
    finally:
        libc.freeifaddrs(head)
    return v4 + v6


def _interfaces_fallback(proc: str) -> list[InterfaceInfo]:
    import fcntl

    v4: list[InterfaceInfo] = []
    names = [n for _, n in socket.if_nameindex()] if hasattr(socket, "if_nameindex") else []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for n in names:
            vals = []
            for req in (0x8915, 0x891B, 0x8919):  # SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR
                try:
                    res = fcntl.ioctl(s.fileno(), req, struct.pack("256s", n.encode()[:15]))
                    vals.append(ipaddress.IPv4Address(res[20:24]))
                except OSError:
                    vals.append(None)
            if vals[0] is not None:
                v4.append(InterfaceInfo(n, vals[0], vals[1] or ipaddress.IPv4Address(0),
                                        vals[2] or ipaddress.IPv4Address(0)))
    v6: list[InterfaceInfo] = []
    for line in (_read(f"{proc}/net/if_inet6") or b"").splitlines():
        f = line.split()
        if len(f) < 6:
            continue
        try:
            addr = ipaddress.IPv6Address(bytes.fromhex(_s(f[0])))
            plen = int(f[2], 16)
        except ValueError:
            continue
        mask = ipaddress.IPv6Address(((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1))
        v6.append(InterfaceInfo(_s(f[5]), addr, mask, ipaddress.IPv6Address(0)))
    return v4 + v6


# ---------------------------------------------------------------------------
# Processes and threads
# ---------------------------------------------------------------------------


@dataclass
class _Status:
    """The lines of ``/proc/PID/status`` libscap reads."""

    pid: int = -1
    ptid: int = -1
    uid: int = 0xFFFFFFFF
    gid: int = 0xFFFFFFFF
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    vtid: int | None = None
    vpid: int | None = None
    vpgid: int | None = None
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    name: str = ""


def _parse_status(raw: bytes) -> _Status | None:
    st = _Status()
    seen_tgid = False
    for line in raw.split(b"\n"):
        key, _, value = line.partition(b":")
        v = value.split()
        try:
            if key == b"Tgid":
                st.pid = int(v[0])
                seen_tgid = True
            elif key == b"PPid":
                st.ptid = int(v[0])
            elif key == b"Uid":
                st.uid = int(v[1])  # effective
            elif key == b"Gid":
                st.gid = int(v[1])
            elif key == b"VmSize":
                st.vmsize_kb = int(v[0])
            elif key == b"VmRSS":
                st.vmrss_kb = int(v[0])
            elif key == b"VmSwap":
                st.vmswap_kb = int(v[0])
            elif key == b"NSpid":
                st.vtid = int(v[1]) if len(v) > 1 else None
            elif key == b"NStgid":
                st.vpid = int(v[1]) if len(v) > 1 else None
            elif key == b"NSpgid":
                st.vpgid = int(v[1]) if len(v) > 1 else None
            elif key == b"CapInh":
                st.cap_inheritable = int(v[0], 16)
            elif key == b"CapPrm":
                st.cap_permitted = int(v[0], 16)
            elif key == b"CapEff":
                st.cap_effective = int(v[0], 16)
            elif key == b"Name":
                st.name = _s(value.strip())
        except (IndexError, ValueError):
            continue
    return st if seen_tgid else None


def _parse_stat(raw: bytes) -> tuple[int, int, int, int, int] | None:
    """``(pgid, sid, tty, minflt, majflt)`` from ``/proc/PID/stat``."""
    end = raw.rfind(b")")
    if end < 0:
        return None
    f = raw[end + 2:].split()
    try:
        return int(f[2]), int(f[3]), int(f[4]), int(f[7]), int(f[9])
    except (IndexError, ValueError):
        return None


def _fdlimit(tid: int) -> int:
    try:
        soft, _ = resource.prlimit(tid, resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return -1
    return -1 if soft == resource.RLIM_INFINITY or soft >= 1 << 63 else soft


def _exe_writable(st: os.stat_result, ro: bool, uid: int, gid: int) -> bool:
    """Could the thread's user write its executable? (libscap: owner, else an access
    check with the thread's effective ids; here from the mode bits, ACLs aside.)"""
    if st.st_uid == uid:
        return True
    if ro:
        return False
    if uid == 0:
        return True
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IWGRP)
    return bool(st.st_mode & stat.S_IWOTH)


@dataclass
class _Scanner:
    """One /proc scan; socket tables and mount tables are read once per namespace."""

    proc: str = "/proc"
    with_fds: bool = True
    _cgroup_version: int | None = None
    _sockets: dict[str, dict[int, dict]] = field(default_factory=dict)
    _mounts: dict[str, dict[int, int]] = field(default_factory=dict)

    # -- threads --------------------------------------------------------------------

    def scan(self) -> Iterator[tuple[ProcessInfo, list[FdInfo]]]:
        try:
            names = os.listdir(self.proc)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot list {self.proc}: {exc.strerror}") from None
        for name in sorted((n for n in names if n.isdigit()), key=int):
            pid = int(name)
            base = f"{self.proc}/{pid}/"
            main = self.thread(base, pid)
            if main is None:
                continue
            fds = self.fds(base) if self.with_fds and main.pid == main.tid else []
            yield main, fds
            try:
                tids = os.listdir(base + "task")
            except OSError:
                continue
            for t in sorted((n for n in tids if n.isdigit()), key=int):
                tid = int(t)
                if tid == pid:
                    continue
                th = self.thread(f"{base}task/{tid}/", tid)
                if th is not None:
                    yield th, []

    def thread(self, d: str, tid: int) -> ProcessInfo | None:
        """One thread from its /proc directory ``d`` (ending with '/'), or None."""
        cmdline = _read(d + "cmdline", MAX_ARGS_SIZE)
        exepath = _readlink(d + "exe")
        if cmdline is None or (not cmdline and exepath is None):
            return None  # gone, a kernel thread or a zombie
        raw_status = _read(d + "status")
        status = _parse_status(raw_status) if raw_status else None
        raw_stat = _read(d + "stat")
        stat_fields = _parse_stat(raw_stat) if raw_stat else None
        if status is None or stat_fields is None:
            return None
        pgid, sid, tty, minflt, majflt = stat_fields
        comm_raw = _read(d + "comm", 64)
        comm = _s(comm_raw[:-1] if comm_raw and comm_raw.endswith(b"\n") else comm_raw or b"") \
            if comm_raw is not None else status.name
        nul = cmdline.find(b"\0")
        exe_raw = cmdline if nul < 0 else cmdline[:nul]
        args = _nul_split(cmdline[nul + 1:]) if nul >= 0 else []
        env = _nul_split(_read(d + "environ", MAX_ENV_SIZE) or b"")
        loginuid_raw = _read(d + "loginuid", 32)
        try:
            loginuid = int(loginuid_raw) & 0xFFFFFFFF if loginuid_raw else 0xFFFFFFFF
        except ValueError:
            loginuid = 0xFFFFFFFF
        p = ProcessInfo(
            tid=tid, pid=status.pid, ptid=status.ptid, comm=comm,
            exe=_s(exe_raw[:MAX_PATH_SIZE - 1]), exepath=exepath or "", args=args,
            cwd=_readlink(d + "cwd") or "", fdlimit=_fdlimit(tid),
            flags=0 if tid == status.pid else PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES,
            uid=status.uid, gid=status.gid, vmsize_kb=status.vmsize_kb,
            vmrss_kb=status.vmrss_kb, vmswap_kb=status.vmswap_kb, pfmajor=majflt,
            pfminor=minflt, env=env,
            vtid=status.vtid if status.vtid is not None else tid,
            vpid=status.vpid if status.vpid is not None else status.pid,
            cgroups=self.cgroups(d), root=_readlink(d + "root") or "", sid=sid,
            vpgid=status.vpgid if status.vpgid is not None else pgid, pgid=pgid, tty=tty,
            loginuid=loginuid, cap_inheritable=status.cap_inheritable,
            cap_permitted=status.cap_permitted, cap_effective=status.cap_effective,
            exe_from_memfd=(exepath or "").startswith("/memfd:"),
        )
        try:
            p.pidns_init_start_ts = os.stat(d + "root/proc/1/cmdline").st_ctime_ns
        except OSError:
            pass
        try:
            st = os.stat(d + "exe")
        except OSError:
            st = None
        if st is not None:
            p.exe_ino, p.exe_ino_ctime, p.exe_ino_mtime = st.st_ino, st.st_ctime_ns, \
                st.st_mtime_ns
            try:
                ro = bool(os.statvfs(d + "exe").f_flag & os.ST_RDONLY)
            except OSError:
                ro = False
            p.exe_writable = _exe_writable(st, ro, p.uid, p.gid)
        return p

    def cgroups(self, d: str) -> list[str]:
        """``subsys=path`` entries of ``/proc/PID/cgroup``, within libscap's size limit."""
        raw = _read(d + "cgroup")
        if not raw:
            return []
        out: list[str] = []
        size = 0
        for line in _s(raw).splitlines():
            hid, sep1, rest = line.partition(":")
            subsys, sep2, path = rest.partition(":")
            if not sep1 or not sep2:
                continue
            if subsys:
                names = subsys.split(",")
            elif self.cgroup_version() == 2 and hid == "0":
                names = list(CGROUP2_SUBSYSTEMS)
            else:
                continue
            for n in names:
                if not n:
                    continue
                entry = f"{n}={path}"
                size += len(entry.encode("utf-8", "surrogateescape")) + 1
                if size > MAX_CGROUPS_SIZE:
                    return out
                out.append(entry)
        return out

    def cgroup_version(self) -> int:
        """2 when the kernel knows cgroup2, 1 with cgroup only (libscap's test)."""
        if self._cgroup_version is None:
            version = 0
            for line in (_read(f"{self.proc}/filesystems") or b"").splitlines():
                if b"cgroup2" in line:
                    version = 2
                    break
                if b"cgroup" in line:
                    version = 1
            self._cgroup_version = version
        return self._cgroup_version

    # -- fds ------------------------------------------------------------------------------

    def fds(self, d: str) -> list[FdInfo]:
        """The fds of a process, from ``d/fd`` (entries that vanish are skipped)."""
        try:
            names = os.listdir(d + "fd")
        except OSError:
            return []
        out: list[FdInfo] = []
        for name in sorted((n for n in names if n.isdigit()), key=int):
            f = self.fd(d, int(name))
            if f is not None:
                out.append(f)
        return out

    def fd(self, d: str, fd: int) -> FdInfo | None:
        path = f"{d}fd/{fd}"
        try:
            st = os.stat(path)
        except OSError:
            return None
        link = _readlink(path)
        if link is None:
            return None
        kind = stat.S_IFMT(st.st_mode)
        if kind == stat.S_IFIFO:
            return FdInfo(fd=fd, ino=st.st_ino, type=FdType.FIFO, name=link)
        if kind in (stat.S_IFREG, stat.S_IFBLK, stat.S_IFCHR, stat.S_IFLNK):
            flags, dev = self._file_flags_and_dev(d, fd)
            return FdInfo(fd=fd, ino=st.st_ino, type=FdType.FILE_V2, name=link,
                          open_flags=flags, dev=dev)
        if kind == stat.S_IFDIR:
            return FdInfo(fd=fd, ino=st.st_ino, type=FdType.DIRECTORY, name=link)
        if kind == stat.S_IFSOCK:
            return self._socket(d, fd, link)
        # Anonymous inodes: classified by the link name; their name is left empty.
        return FdInfo(fd=fd, ino=st.st_ino, type=_ANON_TYPES.get(link, FdType.UNSUPPORTED))

    def _file_flags_and_dev(self, d: str, fd: int) -> tuple[int, int]:
        raw = _read(f"{d}fdinfo/{fd}") or b""
        flags = 0
        mnt_id = None
        for line in raw.split(b"\n"):
            key, _, value = line.partition(b":")
            try:
                if key == b"flags":
                    flags = open_flags_to_ppm(int(value.strip(), 8))
                elif key == b"mnt_id":
                    mnt_id = int(value.strip())
            except ValueError:
                continue
        dev = self._mount_dev(d, mnt_id) if mnt_id is not None else 0
        return flags, dev

    def _mount_dev(self, d: str, mnt_id: int) -> int:
        ns = _readlink(d + "ns/mnt") or d
        table = self._mounts.get(ns)
        if table is None:
            table = {}
            for line in (_read(d + "mountinfo") or b"").splitlines():
                f = line.split(None, 3)
                if len(f) < 3:
                    continue
                major, _, minor = f[2].partition(b":")
                try:
                    table[int(f[0])] = os.makedev(int(major), int(minor)) & 0xFFFFFFFF
                except ValueError:
                    continue
            self._mounts[ns] = table
        return table.get(mnt_id, 0)

    def _socket(self, d: str, fd: int, link: str) -> FdInfo | None:
        if not (link.startswith("socket:[") and link.endswith("]")):
            return FdInfo(fd=fd, ino=0, type=FdType.UNSUPPORTED, name=link)
        try:
            ino = int(link[8:-1])
        except ValueError:
            return FdInfo(fd=fd, ino=0, type=FdType.UNSUPPORTED, name=link)
        ns = _readlink(d + "ns/net")
        key = ns or ""
        table = self._sockets.get(key)
        if table is None:
            table = read_socket_tables(d + "net/" if ns else f"{self.proc}/net/")
            self._sockets[key] = table
        found = table.get(ino)
        if found is None:
            return None  # a kind of socket the tables do not list
        return FdInfo(fd=fd, ino=ino, **found)


def scan_processes(proc: str = "/proc", *, with_fds: bool = True
                   ) -> Iterator[tuple[ProcessInfo, list[FdInfo]]]:
    """Every thread (main threads first in each process) with its fds (main threads)."""
    return _Scanner(proc, with_fds).scan()


# ---------------------------------------------------------------------------
# Socket tables (/proc/PID/net/*)
# ---------------------------------------------------------------------------


def read_socket_tables(netdir: str) -> dict[int, dict]:
    """inode -> FdInfo fields, from the tcp/udp/raw (v4 and v6), unix and netlink tables."""
    table: dict[int, dict] = {}
    for name, proto in (("tcp", L4_TCP), ("udp", L4_UDP), ("raw", L4_RAW)):
        _inet_table(netdir + name, proto, False, table)
    _unix_table(netdir + "unix", table)
    _netlink_table(netdir + "netlink", table)
    for name, proto in (("tcp6", L4_TCP), ("udp6", L4_UDP), ("raw6", L4_RAW)):
        _inet_table(netdir + name, proto, True, table)
    return table


def _hex_ip(text: bytes, v6: bool) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as the kernel prints it: 32-bit words in host order, in hex."""
    if not v6:
        return ipaddress.IPv4Address(struct.pack("=I", int(text, 16)))
    words = [int(text[i:i + 8], 16) for i in range(0, 32, 8)]
    return ipaddress.IPv6Address(struct.pack("=4I", *words))


def _inet_table(path: str, l4proto: int, v6: bool, table: dict[int, dict]) -> None:
    raw = _read(path)
    if not raw:
        return
    for line in raw.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        try:
            lip, _, lport = f[1].partition(b":")
            rip, _, rport = f[2].partition(b":")
            sip, dip = _hex_ip(lip, v6), _hex_ip(rip, v6)
            sport, dport = int(lport, 16), int(rport, 16)
            ino = int(f[9])
        except ValueError:
            continue
        if int(dip) == 0:
            kind = FdType.IPV6_SERVSOCK if v6 else FdType.IPV4_SERVSOCK
            table[ino] = dict(type=kind, sip=sip, sport=sport, l4proto=l4proto)
        else:
            kind = FdType.IPV6_SOCK if v6 else FdType.IPV4_SOCK
            table[ino] = dict(type=kind, sip=sip, dip=dip, sport=sport, dport=dport,
                              l4proto=l4proto)


def _unix_table(path: str, table: dict[int, dict]) -> None:
    raw = _read(path)
    if not raw:
        return
    for line in raw.splitlines()[1:]:
        f = line.split(None, 7)
        if len(f) < 7:
            continue
        try:
            source = int(f[0].rstrip(b":"), 16)
            ino = int(f[6])
        except ValueError:
            continue
        name = _s(f[7].strip()) if len(f) > 7 else ""
        table[ino] = dict(type=FdType.UNIX_SOCK, source=source, destination=0, name=name)


def _netlink_table(path: str, table: dict[int, dict]) -> None:
    raw = _read(path)
    if not raw:
        return
    for line in raw.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        try:
            ino = int(f[9])
        except ValueError:
            continue
        table[ino] = dict(type=FdType.NETLINK, name="")


# ---------------------------------------------------------------------------
# The whole snapshot
# ---------------------------------------------------------------------------


def take_snapshot(proc: str = "/proc", etc: str = "/etc", *, with_fds: bool = True
                  ) -> Snapshot:
    """Machine, interfaces, users, groups, every thread and the fds of every process."""
    snap = Snapshot(machine=machine_info(proc))
    snap.interfaces = interfaces(proc)
    snap.users = users(etc)
    snap.groups = groups(etc)
    for p, fds in scan_processes(proc, with_fds=with_fds):
        snap.processes[p.tid] = p
        if fds:
            snap.fds[p.tid] = {f.fd: f for f in fds}
    return snap
