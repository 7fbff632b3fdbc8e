"""The event table: every event code a .scap file can carry, and what its parameters are.

Facts (codes, names, parameter types and print formats, categories, flags) follow the
falcosecurity/libs driver, declared here in our own compact text form and parsed once at import.

Syntax of ``_EVENTS``
---------------------
One entry per event code. An entry is a header line starting with the code, followed by
indented continuation lines holding its parameters, in wire order::

    <code> <symbol> <name> <category> <flags>
            <param> <param> ...

``code``      decimal event code; entries run 0, 1, 2, ... without gaps. Even = enter, odd = exit.
``symbol``    the libs identifier of the code without its ``PPME_`` prefix.
``name``      the event name (enter and exit of one syscall share it; unused slots are ``NA``).
``category``  ``+``-joined lower-case :class:`EC` members: the sub-category (``file``, ``io_read``,
              ``wait`` ...) then the source (``syscall``, ``tracepoint``, ``metaevent`` ...).
``flags``     ``,``-joined lower-case :class:`EF` members, or ``-`` for none.
``param``     ``name:type[:format][:info]`` where

              * ``type`` is a lower-case :class:`PT` member;
              * ``format`` is a lower-case :class:`PF` member; when omitted, the type's default
                from ``_DEFAULT_FMT`` applies (``dec`` for numbers, ``hex`` for FLAGS16/FLAGS32,
                PORT and raw IP addresses, ``oct`` for MODE, ``na`` for buffers, paths, addresses);
              * ``info`` depends on the type: the name of a table of ``flag_tables.TABLES`` for
                FLAGS*/ENUMFLAGS*/MODE (may be absent: no symbolic rendering), the index of the
                parameter holding the directory fd for FSRELPATH, the name of an ``@`` group for DYN.

              A name containing a space or ``%`` escapes them as ``%20`` / ``%25`` (``plugin%20ID``).

``@group alt alt ...`` declares the alternatives of a DYN parameter in selector order (the
selector byte in the file indexes them); each ``alt`` is ``label:type[:format]``, the label being
our description of the alternative (libs leaves those names empty).

Blank lines and lines starting with ``#`` are ignored. Example, the exit of ``open``::

    3   SYSCALL_OPEN_X  open  file+syscall  creates_fd,modifies_state,converter_managed
            fd:fd name:fspath flags:flags32:file_flags mode:uint32:oct dev:uint32:hex ino:uint64

Syntax of ``_OLD_OVERRIDES``
----------------------------
How the table of sysdig 0.29.3 (libs commit e5c53d64, 2022) differs from the current one, for the
codes it knows. The old event is derived from the current event by dropping the source bits of the
category and the ``converter_managed`` flag (neither existed then), then applying::

    events <n>                    the old table has codes 0 .. n-1
    set <flag> <codes>            the old table had <flag> on these codes (``a-b`` = range)
    clear <flag> <codes>          the old table lacked <flag> on these codes
    <code> key=value ...          per-event changes: symbol=, name=, category=, params=<count>
                                  (older events had fewer parameters: only appends happened since),
                                  <index>=<param> (parameter declared differently at that index)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from .flag_tables import TABLES


class EventTableError(ValueError):
    """The embedded event declaration is malformed."""


class PT(enum.IntEnum):
    """Parameter types (libs numbering)."""

    NONE = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    CHARBUF = 9
    BYTEBUF = 10
    ERRNO = 11
    SOCKADDR = 12
    SOCKTUPLE = 13
    FD = 14
    PID = 15
    FDLIST = 16
    FSPATH = 17
    SYSCALLID = 18
    SIGTYPE = 19
    RELTIME = 20
    ABSTIME = 21
    PORT = 22
    L4PROTO = 23
    SOCKFAMILY = 24
    BOOL = 25
    IPV4ADDR = 26
    DYN = 27
    FLAGS8 = 28
    FLAGS16 = 29
    FLAGS32 = 30
    UID = 31
    GID = 32
    DOUBLE = 33
    SIGSET = 34
    CHARBUFARRAY = 35
    CHARBUF_PAIR_ARRAY = 36
    IPV4NET = 37
    IPV6ADDR = 38
    IPV6NET = 39
    IPADDR = 40
    IPNET = 41
    MODE = 42
    FSRELPATH = 43
    ENUMFLAGS8 = 44
    ENUMFLAGS16 = 45
    ENUMFLAGS32 = 46
    FD32 = 47
    PID32 = 48


class PF(enum.IntEnum):
    """Print formats (libs numbering; PADDED_DEC is libs' 10-digit padded decimal)."""

    NA = 0
    DEC = 1
    HEX = 2
    PADDED_DEC = 3
    ID = 4
    DIR = 5
    OCT = 6


class EC(enum.IntFlag):
    """Event categories (libs values).

    The low 9 bits are the sub-category: an enumeration (0..12, 32..34) plus the WAIT,
    SCHEDULER and INTERNAL bits. The bits from SYSCALL up name the event source.
    """

    UNKNOWN = 0
    OTHER = 1
    FILE = 2
    NET = 3
    IPC = 4
    MEMORY = 5
    PROCESS = 6
    SLEEP = 7
    SYSTEM = 8
    SIGNAL = 9
    USER = 10
    TIME = 11
    PROCESSING = 12
    IO_READ = 32
    IO_WRITE = 33
    IO_OTHER = 34
    WAIT = 64
    SCHEDULER = 128
    INTERNAL = 256
    SYSCALL = 512
    TRACEPOINT = 1024
    PLUGIN = 2048
    METAEVENT = 4096
    ITER = 8192


#: Bits of a category that hold the sub-category (libs masks with ``EC_SYSCALL - 1``).
SUBCATEGORY_MASK = EC.SYSCALL - 1
#: The I/O sub-categories (IO_READ, IO_WRITE, IO_OTHER) all have this bit.
IO_BASE = 32


class EF(enum.IntFlag):
    """Event flags (libs values). DROP_SIMPLE_CONS exists only in older tables."""

    NONE = 0
    CREATES_FD = 1 << 0
    DESTROYS_FD = 1 << 1
    USES_FD = 1 << 2
    READS_FROM_FD = 1 << 3
    WRITES_TO_FD = 1 << 4
    MODIFIES_STATE = 1 << 5
    UNUSED = 1 << 6
    WAITS = 1 << 7
    SKIPPARSERESET = 1 << 8
    OLD_VERSION = 1 << 9
    DROP_SIMPLE_CONS = 1 << 10
    LARGE_PAYLOAD = 1 << 11
    CONVERTER_MANAGED = 1 << 12


_FLAG_TYPES = frozenset({PT.FLAGS8, PT.FLAGS16, PT.FLAGS32, PT.ENUMFLAGS8, PT.ENUMFLAGS16,
                         PT.ENUMFLAGS32, PT.MODE})


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter of an event.

    ``info``: flag/enum table name (str) for FLAGS*/ENUMFLAGS*/MODE, or None when the table
    declares none; index of the dirfd parameter (int) for FSRELPATH; the alternatives (tuple of
    ParamInfo, indexed by the selector byte) for DYN; None otherwise.
    """

    name: str
    type: PT
    fmt: PF
    info: str | int | tuple["ParamInfo", ...] | None = None


@dataclass(frozen=True, slots=True)
class EventInfo:
    """One event code: its identity, category, flags and parameters."""

    code: int
    symbol: str
    name: str
    category: EC
    flags: EF
    params: tuple[ParamInfo, ...]

    @property
    def is_enter(self) -> bool:
        """True for enter events (even codes)."""
        return self.code % 2 == 0

    @property
    def direction(self) -> str:
        """'>' for enter events, '<' for exit events."""
        return ">" if self.code % 2 == 0 else "<"

    @property
    def large_payload(self) -> bool:
        """True when parameter lengths are 4 bytes on the wire instead of 2."""
        return bool(self.flags & EF.LARGE_PAYLOAD)

    @property
    def subcategory(self) -> EC:
        """The category without its source bits (e.g. FILE, IO_READ, WAIT, INTERNAL)."""
        return EC(self.category & SUBCATEGORY_MASK)

    @property
    def source(self) -> EC:
        """The source bits of the category (SYSCALL, TRACEPOINT, PLUGIN, METAEVENT, ITER)."""
        return EC(self.category & ~SUBCATEGORY_MASK)


_DEFAULT_FMT: dict[PT, PF] = {t: PF.DEC for t in PT}
_DEFAULT_FMT.update({t: PF.HEX for t in (PT.FLAGS16, PT.FLAGS32, PT.PORT, PT.IPV4ADDR,
                                           PT.IPV6ADDR)})
_DEFAULT_FMT.update({t: PF.NA for t in (PT.NONE, PT.CHARBUF, PT.BYTEBUF, PT.SOCKADDR,
                                          PT.SOCKTUPLE, PT.FSPATH, PT.FSRELPATH, PT.CHARBUFARRAY,
                                          PT.CHARBUF_PAIR_ARRAY, PT.IPV4NET, PT.IPV6NET,
                                          PT.IPADDR, PT.IPNET)})
_DEFAULT_FMT[PT.MODE] = PF.OCT

# Token -> member. (``__members__`` because iterating an IntFlag skips multi-bit members.)
_TYPES = {name.lower(): member for name, member in PT.__members__.items()}
_FMTS = {name.lower(): member for name, member in PF.__members__.items()}
_CATS = {name.lower(): member for name, member in EC.__members__.items()}
_FLAGS = {name.lower(): member for name, member in EF.__members__.items()}


_EVENTS = """
@bpf        fd:fd res:errno
@keyctl     int64:int64 charbuf:charbuf
@ptrace     uint64:uint64:hex sigtype:sigtype
@sockopt    unknown:bytebuf:hex errno:errno uint32:uint32 uint64:uint64 timeval:reltime

0   GENERIC_E                syscall        other+syscall      old_version,converter_managed
        ID:syscallid nativeID:uint16
1   GENERIC_X                syscall        other+syscall      converter_managed
        ID:syscallid nativeID:uint16
2   SYSCALL_OPEN_E           open           file+syscall       creates_fd,modifies_state,converter_managed
        name:fspath flags:flags32:file_flags mode:uint32:oct
3   SYSCALL_OPEN_X           open           file+syscall       creates_fd,modifies_state,converter_managed
        fd:fd name:fspath flags:flags32:file_flags mode:uint32:oct dev:uint32:hex ino:uint64
4   SYSCALL_CLOSE_E          close          io_other+syscall   destroys_fd,uses_fd,modifies_state,old_version,converter_managed
        fd:fd
5   SYSCALL_CLOSE_X          close          io_other+syscall   destroys_fd,uses_fd,modifies_state,converter_managed
        res:errno fd:fd
6   SYSCALL_READ_E           read           io_read+syscall    uses_fd,reads_from_fd,old_version,converter_managed
        fd:fd size:uint32
7   SYSCALL_READ_X           read           io_read+syscall    uses_fd,reads_from_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32
8   SYSCALL_WRITE_E          write          io_write+syscall   uses_fd,writes_to_fd,old_version,converter_managed
        fd:fd size:uint32
9   SYSCALL_WRITE_X          write          io_write+syscall   uses_fd,writes_to_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32
10  SYSCALL_BRK_1_E          brk            memory+syscall     old_version,converter_managed
        size:uint32
11  SYSCALL_BRK_1_X          brk            memory+syscall     old_version,converter_managed
        res:uint64:hex
12  SYSCALL_EXECVE_8_E       execve         process+syscall    modifies_state,old_version,converter_managed
13  SYSCALL_EXECVE_8_X       execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
14  SYSCALL_CLONE_11_E       clone          process+syscall    modifies_state,old_version
15  SYSCALL_CLONE_11_X       clone          process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64
        flags:flags32:clone_flags uid:uint32 gid:uint32
16  PROCEXIT_E               procexit       process+tracepoint modifies_state,old_version,converter_managed
17  PROCEXIT_X               NA             unknown            unused
18  SOCKET_SOCKET_E          socket         net+syscall        creates_fd,modifies_state,old_version,converter_managed
        domain:enumflags32:socket_families type:uint32 proto:uint32
19  SOCKET_SOCKET_X          socket         net+syscall        creates_fd,modifies_state,converter_managed
        fd:fd domain:enumflags32:socket_families type:uint32 proto:uint32 flags:flags32:file_flags
20  SOCKET_BIND_E            bind           net+syscall        uses_fd,modifies_state,old_version,converter_managed
        fd:fd
21  SOCKET_BIND_X            bind           net+syscall        uses_fd,modifies_state,converter_managed
        res:errno addr:sockaddr fd:fd
22  SOCKET_CONNECT_E         connect        net+syscall        uses_fd,modifies_state,converter_managed
        fd:fd addr:sockaddr
23  SOCKET_CONNECT_X         connect        net+syscall        uses_fd,modifies_state,converter_managed
        res:errno tuple:socktuple fd:fd addr:sockaddr
24  SOCKET_LISTEN_E          listen         net+syscall        uses_fd,old_version,converter_managed
        fd:fd backlog:int32
25  SOCKET_LISTEN_X          listen         net+syscall        uses_fd,converter_managed
        res:errno fd:fd backlog:int32
26  SOCKET_ACCEPT_E          accept         net+syscall        creates_fd,modifies_state,old_version
27  SOCKET_ACCEPT_X          accept         net+syscall        creates_fd,modifies_state,old_version,converter_managed
        fd:fd tuple:socktuple queuepct:uint8
28  SOCKET_SEND_E            send           io_write+syscall   uses_fd,writes_to_fd,old_version,converter_managed
        fd:fd size:uint32
29  SOCKET_SEND_X            send           io_write+syscall   uses_fd,writes_to_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 tuple:socktuple
30  SOCKET_SENDTO_E          sendto         io_write+syscall   uses_fd,writes_to_fd,modifies_state,old_version,converter_managed
        fd:fd size:uint32 tuple:socktuple
31  SOCKET_SENDTO_X          sendto         io_write+syscall   uses_fd,writes_to_fd,modifies_state,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 tuple:socktuple
32  SOCKET_RECV_E            recv           io_read+syscall    uses_fd,reads_from_fd,old_version,converter_managed
        fd:fd size:uint32
33  SOCKET_RECV_X            recv           io_read+syscall    uses_fd,reads_from_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 tuple:socktuple
34  SOCKET_RECVFROM_E        recvfrom       io_read+syscall    uses_fd,reads_from_fd,modifies_state,old_version,converter_managed
        fd:fd size:uint32
35  SOCKET_RECVFROM_X        recvfrom       io_read+syscall    uses_fd,reads_from_fd,modifies_state,converter_managed
        res:errno data:bytebuf tuple:socktuple fd:fd size:uint32
36  SOCKET_SHUTDOWN_E        shutdown       net+syscall        uses_fd,modifies_state,old_version,converter_managed
        fd:fd how:enumflags8:hex:shutdown_how
37  SOCKET_SHUTDOWN_X        shutdown       net+syscall        uses_fd,modifies_state,converter_managed
        res:errno fd:fd how:enumflags8:hex:shutdown_how
38  SOCKET_GETSOCKNAME_E     getsockname    net+syscall        old_version
39  SOCKET_GETSOCKNAME_X     getsockname    net+syscall        -
40  SOCKET_GETPEERNAME_E     getpeername    net+syscall        old_version
41  SOCKET_GETPEERNAME_X     getpeername    net+syscall        -
42  SOCKET_SOCKETPAIR_E      socketpair     ipc+syscall        creates_fd,modifies_state,old_version,converter_managed
        domain:enumflags32:socket_families type:uint32 proto:uint32
43  SOCKET_SOCKETPAIR_X      socketpair     ipc+syscall        creates_fd,modifies_state,converter_managed
        res:errno fd1:fd fd2:fd source:uint64:hex peer:uint64:hex domain:enumflags32:socket_families
        type:uint32 proto:uint32
44  SOCKET_SETSOCKOPT_E      setsockopt     net+syscall        old_version
45  SOCKET_SETSOCKOPT_X      setsockopt     net+syscall        uses_fd
        res:errno fd:fd level:enumflags8:sockopt_levels optname:enumflags8:sockopt_options val:dyn:sockopt
        optlen:uint32
46  SOCKET_GETSOCKOPT_E      getsockopt     net+syscall        modifies_state,old_version
47  SOCKET_GETSOCKOPT_X      getsockopt     net+syscall        uses_fd,modifies_state
        res:errno fd:fd level:enumflags8:sockopt_levels optname:enumflags8:sockopt_options val:dyn:sockopt
        optlen:uint32
48  SOCKET_SENDMSG_E         sendmsg        io_write+syscall   uses_fd,writes_to_fd,modifies_state,old_version,converter_managed
        fd:fd size:uint32 tuple:socktuple
49  SOCKET_SENDMSG_X         sendmsg        io_write+syscall   uses_fd,writes_to_fd,modifies_state,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 tuple:socktuple
50  SOCKET_SENDMMSG_E        sendmmsg       io_write+syscall   old_version
51  SOCKET_SENDMMSG_X        sendmmsg       io_write+syscall   uses_fd,writes_to_fd,modifies_state,converter_managed
        res:errno fd:fd size:uint32 data:bytebuf tuple:socktuple
52  SOCKET_RECVMSG_E         recvmsg        io_read+syscall    uses_fd,reads_from_fd,modifies_state,old_version,converter_managed
        fd:fd
53  SOCKET_RECVMSG_X         recvmsg        io_read+syscall    uses_fd,reads_from_fd,modifies_state,converter_managed
        res:errno size:uint32 data:bytebuf tuple:socktuple msgcontrol:bytebuf fd:fd
54  SOCKET_RECVMMSG_E        recvmmsg       io_read+syscall    old_version
55  SOCKET_RECVMMSG_X        recvmmsg       io_read+syscall    uses_fd,reads_from_fd,modifies_state,converter_managed
        res:errno fd:fd size:uint32 data:bytebuf tuple:socktuple msgcontrol:bytebuf
56  SOCKET_ACCEPT4_E         accept         net+syscall        creates_fd,modifies_state,old_version,converter_managed
        flags:int32:hex
57  SOCKET_ACCEPT4_X         accept         net+syscall        creates_fd,modifies_state,old_version,converter_managed
        fd:fd tuple:socktuple queuepct:uint8
58  SYSCALL_CREAT_E          creat          file+syscall       creates_fd,modifies_state,converter_managed
        name:fspath mode:uint32:oct
59  SYSCALL_CREAT_X          creat          file+syscall       creates_fd,modifies_state,converter_managed
        fd:fd name:fspath mode:uint32:oct dev:uint32:hex ino:uint64 creat_flags:flags16:creat_flags
60  SYSCALL_PIPE_E           pipe           ipc+syscall        creates_fd,modifies_state,old_version
61  SYSCALL_PIPE_X           pipe           ipc+syscall        creates_fd,modifies_state
        res:errno fd1:fd fd2:fd ino:uint64
62  SYSCALL_EVENTFD_E        eventfd        ipc+syscall        creates_fd,modifies_state,old_version,converter_managed
        initval:uint64 flags:uint32:hex
63  SYSCALL_EVENTFD_X        eventfd        ipc+syscall        creates_fd,modifies_state,converter_managed
        res:fd initval:uint64 flags:uint32:hex
64  SYSCALL_FUTEX_E          futex          ipc+syscall        old_version,converter_managed
        addr:uint64:hex op:flags16:futex_operations val:uint64
65  SYSCALL_FUTEX_X          futex          ipc+syscall        converter_managed
        res:errno addr:uint64:hex op:flags16:futex_operations val:uint64
66  SYSCALL_STAT_E           stat           file+syscall       old_version
67  SYSCALL_STAT_X           stat           file+syscall       -
        res:errno path:fspath
68  SYSCALL_LSTAT_E          lstat          file+syscall       old_version
69  SYSCALL_LSTAT_X          lstat          file+syscall       -
        res:errno path:fspath
70  SYSCALL_FSTAT_E          fstat          file+syscall       uses_fd,old_version,converter_managed
        fd:fd:na
71  SYSCALL_FSTAT_X          fstat          file+syscall       uses_fd,converter_managed
        res:errno fd:fd:na
72  SYSCALL_STAT64_E         stat64         file+syscall       old_version
73  SYSCALL_STAT64_X         stat64         file+syscall       -
        res:errno path:fspath
74  SYSCALL_LSTAT64_E        lstat64        file+syscall       old_version
75  SYSCALL_LSTAT64_X        lstat64        file+syscall       -
        res:errno path:fspath
76  SYSCALL_FSTAT64_E        fstat64        file+syscall       uses_fd,old_version
        fd:fd:na
77  SYSCALL_FSTAT64_X        fstat64        file+syscall       -
        res:errno
78  SYSCALL_EPOLLWAIT_E      epoll_wait     wait+syscall       waits,old_version,converter_managed
        maxevents:errno
79  SYSCALL_EPOLLWAIT_X      epoll_wait     wait+syscall       waits,converter_managed
        res:errno maxevents:errno
80  SYSCALL_POLL_E           poll           wait+syscall       waits,old_version,converter_managed
        fds:fdlist timeout:int64
81  SYSCALL_POLL_X           poll           wait+syscall       waits,converter_managed
        res:errno fds:fdlist timeout:int64
82  SYSCALL_SELECT_E         select         wait+syscall       waits,old_version
83  SYSCALL_SELECT_X         select         wait+syscall       waits
        res:errno
84  SYSCALL_NEWSELECT_E      select         wait+syscall       waits,old_version
85  SYSCALL_NEWSELECT_X      select         wait+syscall       waits,old_version,converter_managed
        res:errno
86  SYSCALL_LSEEK_E          lseek          file+syscall       uses_fd,old_version,converter_managed
        fd:fd offset:uint64 whence:enumflags8:lseek_whence
87  SYSCALL_LSEEK_X          lseek          file+syscall       uses_fd,converter_managed
        res:errno fd:fd offset:uint64 whence:enumflags8:lseek_whence
88  SYSCALL_LLSEEK_E         llseek         file+syscall       uses_fd,old_version,converter_managed
        fd:fd offset:uint64 whence:enumflags8:lseek_whence
89  SYSCALL_LLSEEK_X         llseek         file+syscall       uses_fd,converter_managed
        res:errno fd:fd offset:uint64 whence:enumflags8:lseek_whence
90  SYSCALL_IOCTL_2_E        ioctl          io_other+syscall   uses_fd,old_version,converter_managed
        fd:fd request:uint64:hex
91  SYSCALL_IOCTL_2_X        ioctl          io_other+syscall   uses_fd,old_version,converter_managed
        res:errno
92  SYSCALL_GETCWD_E         getcwd         file+syscall       old_version
93  SYSCALL_GETCWD_X         getcwd         file+syscall       -
        res:errno path:charbuf
94  SYSCALL_CHDIR_E          chdir          file+syscall       modifies_state,old_version
95  SYSCALL_CHDIR_X          chdir          file+syscall       modifies_state
        res:errno path:charbuf
96  SYSCALL_FCHDIR_E         fchdir         file+syscall       uses_fd,modifies_state,old_version,converter_managed
        fd:fd:na
97  SYSCALL_FCHDIR_X         fchdir         file+syscall       uses_fd,modifies_state,converter_managed
        res:errno fd:fd:na
98  SYSCALL_MKDIR_E          mkdir          file+syscall       old_version,converter_managed
        path:fspath mode:uint32:hex
99  SYSCALL_MKDIR_X          mkdir          file+syscall       old_version,converter_managed
        res:errno
100 SYSCALL_RMDIR_E          rmdir          file+syscall       old_version,converter_managed
        path:fspath
101 SYSCALL_RMDIR_X          rmdir          file+syscall       old_version,converter_managed
        res:errno
102 SYSCALL_OPENAT_E         openat         file+syscall       creates_fd,modifies_state,old_version,converter_managed
        dirfd:fd name:charbuf flags:flags32:file_flags mode:uint32:oct
103 SYSCALL_OPENAT_X         openat         file+syscall       creates_fd,modifies_state,old_version,converter_managed
        fd:fd
104 SYSCALL_LINK_E           link           file+syscall       old_version,converter_managed
        oldpath:fspath newpath:fspath
105 SYSCALL_LINK_X           link           file+syscall       old_version,converter_managed
        res:errno
106 SYSCALL_LINKAT_E         linkat         file+syscall       old_version,converter_managed
        olddir:fd oldpath:charbuf newdir:fd newpath:charbuf
107 SYSCALL_LINKAT_X         linkat         file+syscall       old_version,converter_managed
        res:errno
108 SYSCALL_UNLINK_E         unlink         file+syscall       old_version,converter_managed
        path:fspath
109 SYSCALL_UNLINK_X         unlink         file+syscall       old_version,converter_managed
        res:errno
110 SYSCALL_UNLINKAT_E       unlinkat       file+syscall       old_version,converter_managed
        dirfd:fd name:charbuf
111 SYSCALL_UNLINKAT_X       unlinkat       file+syscall       old_version,converter_managed
        res:errno
112 SYSCALL_PREAD_E          pread          io_read+syscall    uses_fd,reads_from_fd,old_version,converter_managed
        fd:fd size:uint32 pos:uint64
113 SYSCALL_PREAD_X          pread          io_read+syscall    uses_fd,reads_from_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 pos:uint64
114 SYSCALL_PWRITE_E         pwrite         io_write+syscall   uses_fd,writes_to_fd,old_version,converter_managed
        fd:fd size:uint32 pos:uint64
115 SYSCALL_PWRITE_X         pwrite         io_write+syscall   uses_fd,writes_to_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 pos:uint64
116 SYSCALL_READV_E          readv          io_read+syscall    uses_fd,reads_from_fd,old_version,converter_managed
        fd:fd
117 SYSCALL_READV_X          readv          io_read+syscall    uses_fd,reads_from_fd,converter_managed
        res:errno size:uint32 data:bytebuf fd:fd
118 SYSCALL_WRITEV_E         writev         io_write+syscall   uses_fd,writes_to_fd,old_version,converter_managed
        fd:fd size:uint32
119 SYSCALL_WRITEV_X         writev         io_write+syscall   uses_fd,writes_to_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32
120 SYSCALL_PREADV_E         preadv         io_read+syscall    uses_fd,reads_from_fd,old_version,converter_managed
        fd:fd pos:uint64
121 SYSCALL_PREADV_X         preadv         io_read+syscall    uses_fd,reads_from_fd,converter_managed
        res:errno size:uint32 data:bytebuf fd:fd pos:uint64
122 SYSCALL_PWRITEV_E        pwritev        io_write+syscall   uses_fd,writes_to_fd,old_version,converter_managed
        fd:fd size:uint32 pos:uint64
123 SYSCALL_PWRITEV_X        pwritev        io_write+syscall   uses_fd,writes_to_fd,converter_managed
        res:errno data:bytebuf fd:fd size:uint32 pos:uint64
124 SYSCALL_DUP_E            dup            io_other+syscall   creates_fd,uses_fd,modifies_state,old_version,converter_managed
        fd:fd
125 SYSCALL_DUP_X            dup            io_other+syscall   creates_fd,uses_fd,modifies_state,old_version,converter_managed
        res:fd
126 SYSCALL_SIGNALFD_E       signalfd       signal+syscall     creates_fd,modifies_state,old_version,converter_managed
        fd:fd mask:uint32:hex flags:uint8:hex
127 SYSCALL_SIGNALFD_X       signalfd       signal+syscall     creates_fd,modifies_state,converter_managed
        res:fd fd:fd mask:uint32:hex flags:uint8:hex
128 SYSCALL_KILL_E           kill           signal+syscall     old_version,converter_managed
        pid:pid sig:sigtype
129 SYSCALL_KILL_X           kill           signal+syscall     converter_managed
        res:errno pid:pid sig:sigtype
130 SYSCALL_TKILL_E          tkill          signal+syscall     old_version,converter_managed
        tid:pid sig:sigtype
131 SYSCALL_TKILL_X          tkill          signal+syscall     converter_managed
        res:errno tid:pid sig:sigtype
132 SYSCALL_TGKILL_E         tgkill         signal+syscall     old_version,converter_managed
        pid:pid tid:pid sig:sigtype
133 SYSCALL_TGKILL_X         tgkill         signal+syscall     converter_managed
        res:errno pid:pid tid:pid sig:sigtype
134 SYSCALL_NANOSLEEP_E      nanosleep      sleep+syscall      waits,old_version,converter_managed
        interval:reltime
135 SYSCALL_NANOSLEEP_X      nanosleep      sleep+syscall      waits,converter_managed
        res:errno interval:reltime
136 SYSCALL_TIMERFD_CREATE_E timerfd_create time+syscall       creates_fd,modifies_state,old_version,converter_managed
        clockid:uint8 flags:uint8:hex
137 SYSCALL_TIMERFD_CREATE_X timerfd_create time+syscall       creates_fd,modifies_state,converter_managed
        res:fd clockid:uint8 flags:uint8:hex
138 SYSCALL_INOTIFY_INIT_E   inotify_init   ipc+syscall        creates_fd,modifies_state,old_version,converter_managed
        flags:uint8:hex
139 SYSCALL_INOTIFY_INIT_X   inotify_init   ipc+syscall        creates_fd,modifies_state,converter_managed
        res:fd flags:uint8:hex
140 SYSCALL_GETRLIMIT_E      getrlimit      process+syscall    old_version,converter_managed
        resource:enumflags8:rlimit_resources
141 SYSCALL_GETRLIMIT_X      getrlimit      process+syscall    converter_managed
        res:errno cur:int64 max:int64 resource:enumflags8:rlimit_resources
142 SYSCALL_SETRLIMIT_E      setrlimit      process+syscall    old_version,converter_managed
        resource:enumflags8:rlimit_resources
143 SYSCALL_SETRLIMIT_X      setrlimit      process+syscall    converter_managed
        res:errno cur:int64 max:int64 resource:enumflags8:rlimit_resources
144 SYSCALL_PRLIMIT_E        prlimit        process+syscall    old_version,converter_managed
        pid:pid resource:enumflags8:rlimit_resources
145 SYSCALL_PRLIMIT_X        prlimit        process+syscall    converter_managed
        res:errno newcur:int64 newmax:int64 oldcur:int64 oldmax:int64 pid:int64
        resource:enumflags8:rlimit_resources
146 SCHEDSWITCH_1_E          switch         scheduler+tracepoint skipparsereset,old_version,converter_managed
        next:pid
147 SCHEDSWITCH_1_X          NA             unknown            unused
148 DROP_E                   drop           internal+metaevent skipparsereset
        ratio:uint32
149 DROP_X                   drop           internal+metaevent skipparsereset
        ratio:uint32
150 SYSCALL_FCNTL_E          fcntl          io_other+syscall   uses_fd,modifies_state,old_version,converter_managed
        fd:fd cmd:enumflags8:fcntl_commands
151 SYSCALL_FCNTL_X          fcntl          io_other+syscall   uses_fd,modifies_state,converter_managed
        res:fd fd:fd cmd:enumflags8:fcntl_commands arg:uint64:hex
152 SCHEDSWITCH_6_E          switch         scheduler+tracepoint -
        next:pid pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32
153 SCHEDSWITCH_6_X          NA             unknown            unused
154 SYSCALL_EXECVE_13_E      execve         process+syscall    modifies_state,old_version,converter_managed
155 SYSCALL_EXECVE_13_X      execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32
156 SYSCALL_CLONE_16_E       clone          process+syscall    modifies_state,old_version
157 SYSCALL_CLONE_16_X       clone          process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 flags:flags32:clone_flags uid:uint32
        gid:uint32
158 SYSCALL_BRK_4_E          brk            memory+syscall     old_version,converter_managed
        addr:uint64:hex
159 SYSCALL_BRK_4_X          brk            memory+syscall     converter_managed
        res:uint64:hex vm_size:uint32 vm_rss:uint32 vm_swap:uint32 addr:uint64:hex
160 SYSCALL_MMAP_E           mmap           memory+syscall     uses_fd,old_version,converter_managed
        addr:uint64:hex length:uint64 prot:flags32:prot_flags flags:flags32:mmap_flags fd:fd offset:uint64
161 SYSCALL_MMAP_X           mmap           memory+syscall     uses_fd,converter_managed
        res:errno:hex vm_size:uint32 vm_rss:uint32 vm_swap:uint32 addr:uint64:hex length:uint64
        prot:flags32:prot_flags flags:flags32:mmap_flags fd:fd offset:uint64
162 SYSCALL_MMAP2_E          mmap2          memory+syscall     uses_fd,old_version,converter_managed
        addr:uint64:hex length:uint64 prot:flags32:prot_flags flags:flags32:mmap_flags fd:fd pgoffset:uint64
163 SYSCALL_MMAP2_X          mmap2          memory+syscall     uses_fd,converter_managed
        res:errno:hex vm_size:uint32 vm_rss:uint32 vm_swap:uint32 addr:uint64:hex length:uint64
        prot:flags32:prot_flags flags:flags32:mmap_flags fd:fd pgoffset:uint64
164 SYSCALL_MUNMAP_E         munmap         memory+syscall     old_version,converter_managed
        addr:uint64:hex length:uint64
165 SYSCALL_MUNMAP_X         munmap         memory+syscall     converter_managed
        res:errno vm_size:uint32 vm_rss:uint32 vm_swap:uint32 addr:uint64:hex length:uint64
166 SYSCALL_SPLICE_E         splice         io_other+syscall   uses_fd,old_version,converter_managed
        fd_in:fd fd_out:fd size:uint64 flags:flags32:splice_flags
167 SYSCALL_SPLICE_X         splice         io_other+syscall   uses_fd,converter_managed
        res:errno fd_in:fd fd_out:fd size:uint64 flags:flags32:splice_flags
168 SYSCALL_PTRACE_E         ptrace         process+syscall    old_version,converter_managed
        request:enumflags16:ptrace_requests pid:pid
169 SYSCALL_PTRACE_X         ptrace         process+syscall    converter_managed
        res:errno addr:dyn:hex:ptrace data:dyn:hex:ptrace request:enumflags16:ptrace_requests pid:pid
170 SYSCALL_IOCTL_3_E        ioctl          io_other+syscall   uses_fd,old_version,converter_managed
        fd:fd request:uint64:hex argument:uint64:hex
171 SYSCALL_IOCTL_3_X        ioctl          io_other+syscall   uses_fd,converter_managed
        res:errno fd:fd request:uint64:hex argument:uint64:hex
172 SYSCALL_EXECVE_14_E      execve         process+syscall    modifies_state,old_version,converter_managed
173 SYSCALL_EXECVE_14_X      execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 env:bytebuf
174 SYSCALL_RENAME_E         rename         file+syscall       old_version
175 SYSCALL_RENAME_X         rename         file+syscall       -
        res:errno oldpath:fspath newpath:fspath
176 SYSCALL_RENAMEAT_E       renameat       file+syscall       old_version
177 SYSCALL_RENAMEAT_X       renameat       file+syscall       -
        res:errno olddirfd:fd oldpath:fsrelpath:1 newdirfd:fd newpath:fsrelpath:3
178 SYSCALL_SYMLINK_E        symlink        file+syscall       old_version
179 SYSCALL_SYMLINK_X        symlink        file+syscall       -
        res:errno target:charbuf linkpath:fspath
180 SYSCALL_SYMLINKAT_E      symlinkat      file+syscall       old_version
181 SYSCALL_SYMLINKAT_X      symlinkat      file+syscall       uses_fd
        res:errno target:charbuf linkdirfd:fd linkpath:fsrelpath:2
182 SYSCALL_FORK_E           fork           process+syscall    modifies_state,old_version
183 SYSCALL_FORK_X           fork           process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 flags:flags32:clone_flags uid:uint32
        gid:uint32
184 SYSCALL_VFORK_E          vfork          process+syscall    modifies_state,old_version
185 SYSCALL_VFORK_X          vfork          process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 flags:flags32:clone_flags uid:uint32
        gid:uint32
186 PROCEXIT_1_E             procexit       process+tracepoint modifies_state
        status:errno ret:errno sig:sigtype core:uint8 reaper_tid:pid
187 PROCEXIT_1_X             NA             unknown            unused
188 SYSCALL_SENDFILE_E       sendfile       io_write+syscall   uses_fd,old_version,converter_managed
        out_fd:fd in_fd:fd offset:uint64 size:uint64
189 SYSCALL_SENDFILE_X       sendfile       io_write+syscall   uses_fd,converter_managed
        res:errno offset:uint64 out_fd:fd in_fd:fd size:uint64
190 SYSCALL_QUOTACTL_E       quotactl       user+syscall       old_version,converter_managed
        cmd:flags16:dec:quotactl_cmds type:flags8:quotactl_types id:uint32
        quota_fmt:flags8:quotactl_quota_fmts
191 SYSCALL_QUOTACTL_X       quotactl       user+syscall       converter_managed
        res:errno special:charbuf quotafilepath:charbuf dqb_bhardlimit:uint64 dqb_bsoftlimit:uint64
        dqb_curspace:uint64 dqb_ihardlimit:uint64 dqb_isoftlimit:uint64 dqb_btime:reltime dqb_itime:reltime
        dqi_bgrace:reltime dqi_igrace:reltime dqi_flags:flags8:quotactl_dqi_flags
        quota_fmt_out:flags8:quotactl_quota_fmts cmd:flags16:dec:quotactl_cmds type:flags8:quotactl_types
        id:uint32 quota_fmt:flags8:quotactl_quota_fmts
192 SYSCALL_SETRESUID_E      setresuid      user+syscall       modifies_state,old_version,converter_managed
        ruid:uid euid:uid suid:uid
193 SYSCALL_SETRESUID_X      setresuid      user+syscall       modifies_state,converter_managed
        res:errno ruid:uid euid:uid suid:uid
194 SYSCALL_SETRESGID_E      setresgid      user+syscall       modifies_state,old_version,converter_managed
        rgid:gid egid:gid sgid:gid
195 SYSCALL_SETRESGID_X      setresgid      user+syscall       modifies_state,converter_managed
        res:errno rgid:gid egid:gid sgid:gid
196 SCAPEVENT_E              scapevent      internal+metaevent skipparsereset
        event_type:uint32 event_data:uint64
197 SCAPEVENT_X              NA             unknown            unused
198 SYSCALL_SETUID_E         setuid         user+syscall       modifies_state,old_version,converter_managed
        uid:uid
199 SYSCALL_SETUID_X         setuid         user+syscall       modifies_state,converter_managed
        res:errno uid:uid
200 SYSCALL_SETGID_E         setgid         user+syscall       modifies_state,old_version,converter_managed
        gid:gid
201 SYSCALL_SETGID_X         setgid         user+syscall       modifies_state,converter_managed
        res:errno gid:gid
202 SYSCALL_GETUID_E         getuid         user+syscall       old_version
203 SYSCALL_GETUID_X         getuid         user+syscall       -
        uid:uid
204 SYSCALL_GETEUID_E        geteuid        user+syscall       old_version
205 SYSCALL_GETEUID_X        geteuid        user+syscall       -
        euid:uid
206 SYSCALL_GETGID_E         getgid         user+syscall       old_version
207 SYSCALL_GETGID_X         getgid         user+syscall       -
        gid:gid
208 SYSCALL_GETEGID_E        getegid        user+syscall       old_version
209 SYSCALL_GETEGID_X        getegid        user+syscall       -
        egid:gid
210 SYSCALL_GETRESUID_E      getresuid      user+syscall       old_version
211 SYSCALL_GETRESUID_X      getresuid      user+syscall       -
        res:errno ruid:uid euid:uid suid:uid
212 SYSCALL_GETRESGID_E      getresgid      user+syscall       old_version
213 SYSCALL_GETRESGID_X      getresgid      user+syscall       -
        res:errno rgid:gid egid:gid sgid:gid
214 SYSCALL_EXECVE_15_E      execve         process+syscall    modifies_state,old_version,converter_managed
215 SYSCALL_EXECVE_15_X      execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf env:bytebuf
216 SYSCALL_CLONE_17_E       clone          process+syscall    modifies_state,old_version
217 SYSCALL_CLONE_17_X       clone          process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf flags:flags32:clone_flags
        uid:uint32 gid:uint32
218 SYSCALL_FORK_17_E        fork           process+syscall    modifies_state,old_version
219 SYSCALL_FORK_17_X        fork           process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf flags:flags32:clone_flags
        uid:uint32 gid:uint32
220 SYSCALL_VFORK_17_E       vfork          process+syscall    modifies_state,old_version
221 SYSCALL_VFORK_17_X       vfork          process+syscall    modifies_state,old_version,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf flags:flags32:clone_flags
        uid:uint32 gid:uint32
222 SYSCALL_CLONE_20_E       clone          process+syscall    modifies_state,old_version
223 SYSCALL_CLONE_20_X       clone          process+syscall    modifies_state,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf cgroups:bytebuf
        flags:flags32:clone_flags uid:uint32 gid:uint32 vtid:pid vpid:pid pidns_init_start_ts:uint64
224 SYSCALL_FORK_20_E        fork           process+syscall    modifies_state,old_version
225 SYSCALL_FORK_20_X        fork           process+syscall    modifies_state,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf cgroups:bytebuf
        flags:flags32:clone_flags uid:uint32 gid:uint32 vtid:pid vpid:pid pidns_init_start_ts:uint64
226 SYSCALL_VFORK_20_E       vfork          process+syscall    modifies_state,old_version
227 SYSCALL_VFORK_20_X       vfork          process+syscall    modifies_state,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf cgroups:bytebuf
        flags:flags32:clone_flags uid:uint32 gid:uint32 vtid:pid vpid:pid pidns_init_start_ts:uint64
228 CONTAINER_E              container      internal+metaevent modifies_state,skipparsereset,old_version,converter_managed
        id:charbuf type:uint32 name:charbuf image:charbuf
229 CONTAINER_X              NA             unknown            unused
230 SYSCALL_EXECVE_16_E      execve         process+syscall    modifies_state,old_version,converter_managed
231 SYSCALL_EXECVE_16_X      execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf
        cgroups:bytebuf env:bytebuf
232 SIGNALDELIVER_E          signaldeliver  signal+tracepoint  -
        spid:pid dpid:pid sig:sigtype
233 SIGNALDELIVER_X          NA             unknown            unused
234 PROCINFO_E               procinfo       internal+metaevent skipparsereset
        cpu_usr:uint64 cpu_sys:uint64
235 PROCINFO_X               NA             unknown            unused
236 SYSCALL_GETDENTS_E       getdents       file+syscall       uses_fd,old_version,converter_managed
        fd:fd:na
237 SYSCALL_GETDENTS_X       getdents       file+syscall       uses_fd,converter_managed
        res:errno fd:fd:na
238 SYSCALL_GETDENTS64_E     getdents64     file+syscall       uses_fd,old_version,converter_managed
        fd:fd:na
239 SYSCALL_GETDENTS64_X     getdents64     file+syscall       uses_fd,converter_managed
        res:errno fd:fd:na
240 SYSCALL_SETNS_E          setns          process+syscall    uses_fd,old_version,converter_managed
        fd:fd:na nstype:flags32:clone_flags
241 SYSCALL_SETNS_X          setns          process+syscall    uses_fd,converter_managed
        res:errno fd:fd:na nstype:flags32:clone_flags
242 SYSCALL_FLOCK_E          flock          file+syscall       uses_fd,old_version,converter_managed
        fd:fd:na operation:flags32:flock_flags
243 SYSCALL_FLOCK_X          flock          file+syscall       uses_fd,converter_managed
        res:errno fd:fd:na operation:flags32:flock_flags
244 CPU_HOTPLUG_E            cpu_hotplug    system+metaevent   modifies_state,skipparsereset
        cpu:uint32 action:uint32
245 CPU_HOTPLUG_X            NA             unknown            unused
246 SOCKET_ACCEPT_5_E        accept         net+syscall        creates_fd,modifies_state,old_version
247 SOCKET_ACCEPT_5_X        accept         net+syscall        creates_fd,modifies_state
        fd:fd tuple:socktuple queuepct:uint8 queuelen:uint32 queuemax:uint32
248 SOCKET_ACCEPT4_5_E       accept         net+syscall        creates_fd,modifies_state,old_version,converter_managed
        flags:int32:hex
249 SOCKET_ACCEPT4_5_X       accept         net+syscall        creates_fd,modifies_state,old_version,converter_managed
        fd:fd tuple:socktuple queuepct:uint8 queuelen:uint32 queuemax:uint32
250 SYSCALL_SEMOP_E          semop          process+syscall    old_version,converter_managed
        semid:int32
251 SYSCALL_SEMOP_X          semop          process+syscall    converter_managed
        res:errno nsops:uint32 sem_num_0:uint16 sem_op_0:int16 sem_flg_0:flags16:semop_flags
        sem_num_1:uint16 sem_op_1:int16 sem_flg_1:flags16:semop_flags semid:int32
252 SYSCALL_SEMCTL_E         semctl         process+syscall    old_version,converter_managed
        semid:int32 semnum:int32 cmd:flags16:semctl_commands val:int32
253 SYSCALL_SEMCTL_X         semctl         process+syscall    converter_managed
        res:errno semid:int32 semnum:int32 cmd:flags16:semctl_commands val:int32
254 SYSCALL_PPOLL_E          ppoll          wait+syscall       waits,old_version,converter_managed
        fds:fdlist timeout:reltime sigmask:sigset
255 SYSCALL_PPOLL_X          ppoll          wait+syscall       waits,converter_managed
        res:errno fds:fdlist timeout:reltime sigmask:sigset
256 SYSCALL_MOUNT_E          mount          file+syscall       modifies_state,old_version,converter_managed
        flags:flags32:mount_flags
257 SYSCALL_MOUNT_X          mount          file+syscall       modifies_state,converter_managed
        res:errno dev:charbuf dir:fspath type:charbuf flags:flags32:mount_flags
258 SYSCALL_UMOUNT_E         umount         file+syscall       modifies_state,old_version
        flags:flags32:umount_flags
259 SYSCALL_UMOUNT_X         umount         file+syscall       modifies_state,old_version,converter_managed
        res:errno name:fspath
260 K8S_E                    k8s            internal+metaevent modifies_state,skipparsereset,old_version
        json:charbuf
261 K8S_X                    NA             unknown            unused
262 SYSCALL_SEMGET_E         semget         process+syscall    old_version,converter_managed
        key:int32:hex nsems:int32 semflg:flags32:semget_flags
263 SYSCALL_SEMGET_X         semget         process+syscall    converter_managed
        res:errno key:int32:hex nsems:int32 semflg:flags32:semget_flags
264 SYSCALL_ACCESS_E         access         file+syscall       old_version,converter_managed
        mode:flags32:access_flags
265 SYSCALL_ACCESS_X         access         file+syscall       converter_managed
        res:errno name:fspath mode:flags32:access_flags
266 SYSCALL_CHROOT_E         chroot         process+syscall    modifies_state,old_version
267 SYSCALL_CHROOT_X         chroot         process+syscall    modifies_state
        res:errno path:fspath
268 TRACER_E                 tracer         other+metaevent    old_version
        id:int64 tags:charbufarray args:charbuf_pair_array
269 TRACER_X                 NA             unknown            unused
        id:int64 tags:charbufarray args:charbuf_pair_array
270 MESOS_E                  mesos          internal+metaevent modifies_state,skipparsereset,old_version
        json:charbuf
271 MESOS_X                  NA             unknown            unused
272 CONTAINER_JSON_E         container      process+metaevent  modifies_state,old_version,converter_managed
        json:charbuf
273 CONTAINER_JSON_X         NA             unknown            unused
274 SYSCALL_SETSID_E         setsid         process+syscall    modifies_state,old_version
275 SYSCALL_SETSID_X         setsid         process+syscall    modifies_state
        res:pid
276 SYSCALL_MKDIR_2_E        mkdir          file+syscall       old_version,converter_managed
        mode:uint32:hex
277 SYSCALL_MKDIR_2_X        mkdir          file+syscall       converter_managed
        res:errno path:fspath mode:uint32:hex
278 SYSCALL_RMDIR_2_E        rmdir          file+syscall       old_version
279 SYSCALL_RMDIR_2_X        rmdir          file+syscall       -
        res:errno path:fspath
280 NOTIFICATION_E           notification   other+metaevent    skipparsereset
        id:charbuf:dec desc:charbuf
281 NOTIFICATION_X           NA             unknown            unused
282 SYSCALL_EXECVE_17_E      execve         process+syscall    modifies_state,old_version,converter_managed
283 SYSCALL_EXECVE_17_X      execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf
        cgroups:bytebuf env:bytebuf tty:int32
284 SYSCALL_UNSHARE_E        unshare        process+syscall    old_version,converter_managed
        flags:flags32:clone_flags
285 SYSCALL_UNSHARE_X        unshare        process+syscall    converter_managed
        res:errno flags:flags32:clone_flags
286 INFRASTRUCTURE_EVENT_E   infra          internal+metaevent skipparsereset
        source:charbuf:dec name:charbuf description:charbuf scope:charbuf
287 INFRASTRUCTURE_EVENT_X   NA             unknown            unused
288 SYSCALL_EXECVE_18_E      execve         process+syscall    modifies_state,old_version,converter_managed
        filename:fspath
289 SYSCALL_EXECVE_18_X      execve         process+syscall    modifies_state,old_version,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf
        cgroups:bytebuf env:bytebuf tty:int32
290 PAGE_FAULT_E             page_fault     other+tracepoint   skipparsereset
        addr:uint64:hex ip:uint64:hex error:flags32:pf_flags
291 PAGE_FAULT_X             NA             unknown            unused
292 SYSCALL_EXECVE_19_E      execve         process+syscall    modifies_state,old_version,converter_managed
        filename:fspath
293 SYSCALL_EXECVE_19_X      execve         process+syscall    modifies_state,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf
        cgroups:bytebuf env:bytebuf tty:uint32 vpgid:pid loginuid:uid flags:flags32:execve_flags
        cap_inheritable:uint64:hex cap_permitted:uint64:hex cap_effective:uint64:hex exe_ino:uint64
        exe_ino_ctime:abstime exe_ino_mtime:abstime uid:uid trusted_exepath:fspath pgid:pid:na gid:gid
        filename:fspath
294 SYSCALL_SETPGID_E        setpgid        process+syscall    old_version,converter_managed
        pid:pid pgid:pid
295 SYSCALL_SETPGID_X        setpgid        process+syscall    converter_managed
        res:errno pid:pid pgid:pid
296 SYSCALL_BPF_E            bpf            other+syscall      creates_fd,old_version,converter_managed
        cmd:int64
297 SYSCALL_BPF_X            bpf            other+syscall      creates_fd,old_version,converter_managed
        res_or_fd:dyn:bpf
298 SYSCALL_SECCOMP_E        seccomp        other+syscall      old_version,converter_managed
        op:uint64 flags:uint64:hex
299 SYSCALL_SECCOMP_X        seccomp        other+syscall      converter_managed
        res:errno op:uint64 flags:uint64:hex
300 SYSCALL_UNLINK_2_E       unlink         file+syscall       old_version
301 SYSCALL_UNLINK_2_X       unlink         file+syscall       -
        res:errno path:fspath
302 SYSCALL_UNLINKAT_2_E     unlinkat       file+syscall       old_version
303 SYSCALL_UNLINKAT_2_X     unlinkat       file+syscall       uses_fd
        res:errno dirfd:fd name:fsrelpath:1 flags:flags32:unlinkat_flags
304 SYSCALL_MKDIRAT_E        mkdirat        file+syscall       old_version
305 SYSCALL_MKDIRAT_X        mkdirat        file+syscall       uses_fd
        res:errno dirfd:fd path:fsrelpath:1 mode:uint32:hex
306 SYSCALL_OPENAT_2_E       openat         file+syscall       creates_fd,modifies_state,converter_managed
        dirfd:fd name:fsrelpath:0 flags:flags32:file_flags mode:uint32:oct
307 SYSCALL_OPENAT_2_X       openat         file+syscall       creates_fd,modifies_state,converter_managed
        fd:fd dirfd:fd name:fsrelpath:1 flags:flags32:file_flags mode:uint32:oct dev:uint32:hex ino:uint64
308 SYSCALL_LINK_2_E         link           file+syscall       old_version
309 SYSCALL_LINK_2_X         link           file+syscall       -
        res:errno oldpath:fspath newpath:fspath
310 SYSCALL_LINKAT_2_E       linkat         file+syscall       old_version
311 SYSCALL_LINKAT_2_X       linkat         file+syscall       -
        res:errno olddir:fd oldpath:fsrelpath:1 newdir:fd newpath:fsrelpath:3 flags:flags32:linkat_flags
312 SYSCALL_FCHMODAT_E       fchmodat       file+syscall       old_version
313 SYSCALL_FCHMODAT_X       fchmodat       file+syscall       uses_fd
        res:errno dirfd:fd filename:fsrelpath:1 mode:mode:chmod_mode
314 SYSCALL_CHMOD_E          chmod          file+syscall       old_version
315 SYSCALL_CHMOD_X          chmod          file+syscall       -
        res:errno filename:fspath mode:mode:chmod_mode
316 SYSCALL_FCHMOD_E         fchmod         file+syscall       old_version
317 SYSCALL_FCHMOD_X         fchmod         file+syscall       uses_fd
        res:errno fd:fd mode:mode:chmod_mode
318 SYSCALL_RENAMEAT2_E      renameat2      file+syscall       old_version
319 SYSCALL_RENAMEAT2_X      renameat2      file+syscall       -
        res:errno olddirfd:fd oldpath:fsrelpath:1 newdirfd:fd newpath:fsrelpath:3
        flags:flags32:renameat2_flags
320 SYSCALL_USERFAULTFD_E    userfaultfd    file+syscall       creates_fd,modifies_state,old_version
321 SYSCALL_USERFAULTFD_X    userfaultfd    file+syscall       creates_fd,modifies_state
        res:errno flags:flags32:file_flags
322 PLUGINEVENT_E            pluginevent    other+plugin       large_payload
        plugin_id:uint32 event_data:bytebuf
323 PLUGINEVENT_X            NA             unknown            unused
324 CONTAINER_JSON_2_E       container      process+metaevent  modifies_state,large_payload
        json:charbuf
325 CONTAINER_JSON_2_X       NA             unknown            unused
326 SYSCALL_OPENAT2_E        openat2        file+syscall       creates_fd,modifies_state,converter_managed
        dirfd:fd name:fsrelpath:0 flags:flags32:file_flags mode:uint32:oct resolve:flags32:openat2_flags
327 SYSCALL_OPENAT2_X        openat2        file+syscall       creates_fd,modifies_state,converter_managed
        fd:fd dirfd:fd name:fsrelpath:1 flags:flags32:file_flags mode:uint32:oct
        resolve:flags32:openat2_flags dev:uint32:hex ino:uint64
328 SYSCALL_MPROTECT_E       mprotect       memory+syscall     old_version,converter_managed
        addr:uint64:hex length:uint64 prot:flags32:prot_flags
329 SYSCALL_MPROTECT_X       mprotect       memory+syscall     converter_managed
        res:errno addr:uint64:hex length:uint64 prot:flags32:prot_flags
330 SYSCALL_EXECVEAT_E       execveat       process+syscall    modifies_state,old_version,converter_managed
        dirfd:fd pathname:fsrelpath:0 flags:flags32:execveat_flags
331 SYSCALL_EXECVEAT_X       execveat       process+syscall    modifies_state,converter_managed
        res:errno exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:uint64
        pgft_maj:uint64 pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf
        cgroups:bytebuf env:bytebuf tty:uint32 vpgid:pid loginuid:uid flags:flags32:execve_flags
        cap_inheritable:uint64:hex cap_permitted:uint64:hex cap_effective:uint64:hex exe_ino:uint64
        exe_ino_ctime:abstime exe_ino_mtime:abstime uid:uid trusted_exepath:fspath pgid:pid:na gid:gid
332 SYSCALL_COPY_FILE_RANGE_E copy_file_range file+syscall       uses_fd,reads_from_fd,writes_to_fd,old_version,converter_managed
        fdin:fd offin:uint64 len:uint64
333 SYSCALL_COPY_FILE_RANGE_X copy_file_range file+syscall       uses_fd,reads_from_fd,writes_to_fd,converter_managed
        res:errno fdout:fd offout:uint64 fdin:fd offin:uint64 len:uint64
334 SYSCALL_CLONE3_E         clone3         process+syscall    modifies_state,old_version
335 SYSCALL_CLONE3_X         clone3         process+syscall    modifies_state,converter_managed
        res:pid exe:charbuf args:bytebuf tid:pid pid:pid ptid:pid cwd:charbuf fdlimit:int64 pgft_maj:uint64
        pgft_min:uint64 vm_size:uint32 vm_rss:uint32 vm_swap:uint32 comm:charbuf cgroups:bytebuf
        flags:flags32:clone_flags uid:uint32 gid:uint32 vtid:pid vpid:pid pidns_init_start_ts:uint64
336 SYSCALL_OPEN_BY_HANDLE_AT_E open_by_handle_at file+syscall       creates_fd,modifies_state,old_version
337 SYSCALL_OPEN_BY_HANDLE_AT_X open_by_handle_at file+syscall       creates_fd,modifies_state
        fd:fd mountfd:fd flags:flags32:file_flags path:fspath dev:uint32:hex ino:uint64
338 SYSCALL_IO_URING_SETUP_E io_uring_setup io_other+syscall   creates_fd,modifies_state,old_version
339 SYSCALL_IO_URING_SETUP_X io_uring_setup io_other+syscall   creates_fd,modifies_state
        res:errno entries:uint32 sq_entries:uint32 cq_entries:uint32 flags:flags32:io_uring_setup_flags
        sq_thread_cpu:uint32 sq_thread_idle:uint32 features:flags32:io_uring_setup_feats
340 SYSCALL_IO_URING_ENTER_E io_uring_enter io_other+syscall   old_version
341 SYSCALL_IO_URING_ENTER_X io_uring_enter io_other+syscall   uses_fd
        res:errno fd:fd to_submit:uint32 min_complete:uint32 flags:flags32:io_uring_enter_flags sig:sigset
342 SYSCALL_IO_URING_REGISTER_E io_uring_register io_other+syscall   old_version
343 SYSCALL_IO_URING_REGISTER_X io_uring_register io_other+syscall   uses_fd
        res:errno fd:fd opcode:enumflags16:io_uring_register_opcodes arg:uint64:hex nr_args:uint32
344 SYSCALL_MLOCK_E          mlock          memory+syscall     old_version
345 SYSCALL_MLOCK_X          mlock          memory+syscall     -
        res:errno addr:uint64:hex len:uint64
346 SYSCALL_MUNLOCK_E        munlock        memory+syscall     old_version
347 SYSCALL_MUNLOCK_X        munlock        memory+syscall     -
        res:errno addr:uint64:hex len:uint64
348 SYSCALL_MLOCKALL_E       mlockall       memory+syscall     old_version
349 SYSCALL_MLOCKALL_X       mlockall       memory+syscall     -
        res:errno flags:flags32:mlockall_flags
350 SYSCALL_MUNLOCKALL_E     munlockall     memory+syscall     old_version
351 SYSCALL_MUNLOCKALL_X     munlockall     memory+syscall     -
        res:errno
352 SYSCALL_CAPSET_E         capset         process+syscall    modifies_state,old_version
353 SYSCALL_CAPSET_X         capset         process+syscall    modifies_state
        res:errno cap_inheritable:uint64:hex cap_permitted:uint64:hex cap_effective:uint64:hex
354 USER_ADDED_E             useradded      process+metaevent  modifies_state
        uid:uint32 gid:uint32 name:charbuf home:charbuf shell:charbuf container_id:charbuf
355 USER_ADDED_X             NA             unknown            unused
356 USER_DELETED_E           userdeleted    process+metaevent  modifies_state
        uid:uint32 gid:uint32 name:charbuf home:charbuf shell:charbuf container_id:charbuf
357 USER_DELETED_X           NA             unknown            unused
358 GROUP_ADDED_E            groupadded     process+metaevent  modifies_state
        gid:uint32 name:charbuf container_id:charbuf
359 GROUP_ADDED_X            NA             unknown            unused
360 GROUP_DELETED_E          groupdeleted   process+metaevent  modifies_state
        gid:uint32 name:charbuf container_id:charbuf
361 GROUP_DELETED_X          NA             unknown            unused
362 SYSCALL_DUP2_E           dup2           io_other+syscall   creates_fd,uses_fd,modifies_state,old_version
        fd:fd
363 SYSCALL_DUP2_X           dup2           io_other+syscall   creates_fd,uses_fd,modifies_state
        res:fd oldfd:fd newfd:fd
364 SYSCALL_DUP3_E           dup3           io_other+syscall   creates_fd,uses_fd,modifies_state,old_version
        fd:fd
365 SYSCALL_DUP3_X           dup3           io_other+syscall   creates_fd,uses_fd,modifies_state
        res:fd oldfd:fd newfd:fd flags:flags32:file_flags
366 SYSCALL_DUP_1_E          dup            io_other+syscall   creates_fd,uses_fd,modifies_state,old_version
        fd:fd
367 SYSCALL_DUP_1_X          dup            io_other+syscall   creates_fd,uses_fd,modifies_state
        res:fd oldfd:fd
368 SYSCALL_BPF_2_E          bpf            other+syscall      creates_fd,old_version
        cmd:int64
369 SYSCALL_BPF_2_X          bpf            other+syscall      creates_fd
        fd:fd cmd:enumflags32:bpf_commands
370 SYSCALL_MLOCK2_E         mlock2         memory+syscall     old_version
371 SYSCALL_MLOCK2_X         mlock2         memory+syscall     -
        res:errno addr:uint64:hex len:uint64 flags:flags32:mlock2_flags
372 SYSCALL_FSCONFIG_E       fsconfig       system+syscall     old_version
373 SYSCALL_FSCONFIG_X       fsconfig       system+syscall     uses_fd
        res:errno fd:fd cmd:enumflags32:fsconfig_cmds key:charbuf value_bytebuf:bytebuf
        value_charbuf:charbuf aux:int32
374 SYSCALL_EPOLL_CREATE_E   epoll_create   wait+syscall       creates_fd,modifies_state,old_version,converter_managed
        size:int32
375 SYSCALL_EPOLL_CREATE_X   epoll_create   wait+syscall       creates_fd,modifies_state,converter_managed
        res:errno size:int32
376 SYSCALL_EPOLL_CREATE1_E  epoll_create1  wait+syscall       creates_fd,modifies_state,old_version,converter_managed
        flags:flags32:epoll_create1_flags
377 SYSCALL_EPOLL_CREATE1_X  epoll_create1  wait+syscall       creates_fd,modifies_state,converter_managed
        res:errno flags:flags32:epoll_create1_flags
378 SYSCALL_CHOWN_E          chown          file+syscall       old_version
379 SYSCALL_CHOWN_X          chown          file+syscall       -
        res:errno path:fspath uid:uint32 gid:uint32
380 SYSCALL_LCHOWN_E         lchown         file+syscall       old_version
381 SYSCALL_LCHOWN_X         lchown         file+syscall       -
        res:errno path:fspath uid:uint32 gid:uint32
382 SYSCALL_FCHOWN_E         fchown         file+syscall       old_version
383 SYSCALL_FCHOWN_X         fchown         file+syscall       uses_fd
        res:errno fd:fd uid:uint32 gid:uint32
384 SYSCALL_FCHOWNAT_E       fchownat       file+syscall       old_version
385 SYSCALL_FCHOWNAT_X       fchownat       file+syscall       uses_fd
        res:errno dirfd:fd pathname:fsrelpath:1 uid:uint32 gid:uint32 flags:flags32:fchownat_flags
386 SYSCALL_UMOUNT_1_E       umount         file+syscall       modifies_state,old_version
387 SYSCALL_UMOUNT_1_X       umount         file+syscall       modifies_state
        res:errno name:fspath
388 SOCKET_ACCEPT4_6_E       accept4        net+syscall        creates_fd,modifies_state,old_version,converter_managed
        flags:int32:hex
389 SOCKET_ACCEPT4_6_X       accept4        net+syscall        creates_fd,modifies_state,converter_managed
        fd:fd tuple:socktuple queuepct:uint8 queuelen:uint32 queuemax:uint32 flags:int32:hex
390 SYSCALL_UMOUNT2_E        umount2        file+syscall       modifies_state,old_version,converter_managed
        flags:flags32:umount_flags
391 SYSCALL_UMOUNT2_X        umount2        file+syscall       modifies_state,converter_managed
        res:errno name:fspath flags:flags32:umount_flags
392 SYSCALL_PIPE2_E          pipe2          ipc+syscall        creates_fd,modifies_state,old_version
393 SYSCALL_PIPE2_X          pipe2          ipc+syscall        creates_fd,modifies_state
        res:errno fd1:fd fd2:fd ino:uint64 flags:flags32:file_flags
394 SYSCALL_INOTIFY_INIT1_E  inotify_init1  ipc+syscall        creates_fd,modifies_state,old_version
395 SYSCALL_INOTIFY_INIT1_X  inotify_init1  ipc+syscall        creates_fd,modifies_state
        res:fd flags:flags16:file_flags
396 SYSCALL_EVENTFD2_E       eventfd2       ipc+syscall        creates_fd,modifies_state,old_version,converter_managed
        initval:uint64
397 SYSCALL_EVENTFD2_X       eventfd2       ipc+syscall        creates_fd,modifies_state,converter_managed
        res:fd flags:flags16:file_flags initval:uint64
398 SYSCALL_SIGNALFD4_E      signalfd4      signal+syscall     creates_fd,modifies_state,old_version,converter_managed
        fd:fd mask:uint32:hex
399 SYSCALL_SIGNALFD4_X      signalfd4      signal+syscall     creates_fd,modifies_state,converter_managed
        res:fd flags:flags16:file_flags fd:fd mask:uint32:hex
400 SYSCALL_PRCTL_E          prctl          process+syscall    modifies_state,old_version
401 SYSCALL_PRCTL_X          prctl          process+syscall    modifies_state
        res:errno option:enumflags32:prctl_options arg2_str:charbuf arg2_int:int64
402 ASYNCEVENT_E             asyncevent     other+metaevent    large_payload
        plugin_id:uint32 name:charbuf data:bytebuf
403 ASYNCEVENT_X             NA             unknown            unused
404 SYSCALL_MEMFD_CREATE_E   memfd_create   memory+syscall     creates_fd,modifies_state,old_version
405 SYSCALL_MEMFD_CREATE_X   memfd_create   memory+syscall     creates_fd,modifies_state
        fd:fd name:charbuf flags:flags32:memfd_create_flags
406 SYSCALL_PIDFD_GETFD_E    pidfd_getfd    process+syscall    creates_fd,modifies_state,old_version
407 SYSCALL_PIDFD_GETFD_X    pidfd_getfd    process+syscall    creates_fd,modifies_state
        fd:fd pid_fd:fd target_fd:fd flags:uint32:hex
408 SYSCALL_PIDFD_OPEN_E     pidfd_open     process+syscall    creates_fd,modifies_state,old_version
409 SYSCALL_PIDFD_OPEN_X     pidfd_open     process+syscall    creates_fd,modifies_state
        fd:fd pid:pid flags:flags32:pidfd_open_flags
410 SYSCALL_INIT_MODULE_E    init_module    other+syscall      old_version
411 SYSCALL_INIT_MODULE_X    init_module    other+syscall      -
        res:errno img:bytebuf length:uint64 uargs:charbuf
412 SYSCALL_FINIT_MODULE_E   finit_module   other+syscall      old_version
413 SYSCALL_FINIT_MODULE_X   finit_module   other+syscall      uses_fd,reads_from_fd
        res:errno fd:fd uargs:charbuf flags:flags32:finit_module_flags
414 SYSCALL_MKNOD_E          mknod          other+syscall      old_version
415 SYSCALL_MKNOD_X          mknod          other+syscall      -
        res:errno path:fspath mode:mode:mknod_mode dev:uint32
416 SYSCALL_MKNODAT_E        mknodat        other+syscall      old_version
417 SYSCALL_MKNODAT_X        mknodat        other+syscall      uses_fd
        res:errno dirfd:fd path:fsrelpath:1 mode:mode:mknod_mode dev:uint32
418 SYSCALL_NEWFSTATAT_E     newfstatat     file+syscall       old_version
419 SYSCALL_NEWFSTATAT_X     newfstatat     file+syscall       uses_fd
        res:errno dirfd:fd path:fsrelpath:1 flags:flags32:newfstatat_flags
420 SYSCALL_PROCESS_VM_READV_E process_vm_readv ipc+syscall        old_version
421 SYSCALL_PROCESS_VM_READV_X process_vm_readv ipc+syscall        -
        res:int64 pid:pid data:bytebuf
422 SYSCALL_PROCESS_VM_WRITEV_E process_vm_writev ipc+syscall        old_version
423 SYSCALL_PROCESS_VM_WRITEV_X process_vm_writev ipc+syscall        -
        res:int64 pid:pid data:bytebuf
424 SYSCALL_DELETE_MODULE_E  delete_module  other+syscall      old_version
425 SYSCALL_DELETE_MODULE_X  delete_module  other+syscall      -
        res:errno name:charbuf flags:flags32:delete_module_flags
426 SYSCALL_SETREUID_E       setreuid       user+syscall       modifies_state,old_version
427 SYSCALL_SETREUID_X       setreuid       user+syscall       modifies_state
        res:errno ruid:uid euid:uid
428 SYSCALL_SETREGID_E       setregid       user+syscall       old_version
429 SYSCALL_SETREGID_X       setregid       user+syscall       modifies_state
        res:errno rgid:uid egid:uid
430 ITER_TASK_E              task           process+iter       modifies_state
        ppid:pid32 pgid:pid32 vpgid:pid32 sid:pid32 comm:charbuf argv:charbufarray exepath:fspath
        flags:flags32:execve_flags env:charbufarray cwd:charbuf fdlimit:uint64 euid:uid egid:gid
        cap_permitted:uint64:hex cap_effective:uint64:hex cap_inheritable:uint64:hex exe_ino_num:uint64
        exe_ino_ctime:abstime exe_ino_mtime:abstime vm_size:uint32 vm_rss:uint32 vm_swap:uint32
        pgft_maj:uint64 pgft_min:uint64 vtgid:pid32 vpid:pid32 pidns_init_start_ts:uint64
        cgroups:charbufarray root:fspath start_time:abstime tty:uint32 loginuid:uid
431 ITER_TASK_X              NA             unknown            unused
432 ITER_TASK_FILE_PIPE_E    task_file_pipe file+iter          modifies_state
        fd:fd32 path:fspath ino_num:uint64
433 ITER_TASK_FILE_PIPE_X    NA             unknown            unused
434 ITER_TASK_FILE_MEMFD_E   task_file_memfd file+iter          modifies_state
        fd:fd32 path:fspath ino_num:uint64
435 ITER_TASK_FILE_MEMFD_X   NA             unknown            unused
436 ITER_TASK_FILE_REGULAR_E task_file_regular file+iter          modifies_state
        fd:fd32 path:fspath flags:flags32:file_flags mnt_id:uint32 ino_num:uint64
437 ITER_TASK_FILE_REGULAR_X NA             unknown            unused
438 ITER_TASK_FILE_DIRECTORY_E task_file_directory file+iter          modifies_state
        fd:fd32 path:fspath ino_num:uint64
439 ITER_TASK_FILE_DIRECTORY_X NA             unknown            unused
440 ITER_TASK_FILE_SOCKET_INET_E task_file_socket_inet file+iter          modifies_state
        fd:fd32 sk_type:uint16 sk_proto:uint16 local_ip:ipv4addr local_port:port remote_ip:ipv4addr
        remote_port:port ino_num:uint64
441 ITER_TASK_FILE_SOCKET_INET_X NA             unknown            unused
442 ITER_TASK_FILE_SOCKET_INET6_E task_file_socket_inet6 file+iter          modifies_state
        fd:fd32 sk_type:uint16 sk_proto:uint16 local_ip:ipv6addr local_port:port remote_ip:ipv6addr
        remote_port:port ino_num:uint64
443 ITER_TASK_FILE_SOCKET_INET6_X NA             unknown            unused
444 ITER_TASK_FILE_SOCKET_UNIX_E task_file_socket_unix file+iter          modifies_state
        fd:fd32 sk_type:uint16 sk_proto:uint16 sk_pointer:uint64:na sun_path:fspath ino_num:uint64
445 ITER_TASK_FILE_SOCKET_UNIX_X NA             unknown            unused
446 ITER_TASK_FILE_SOCKET_NETLINK_E task_file_socket_netlink file+iter          modifies_state
        fd:fd32 sk_type:uint16 sk_proto:uint16 ino_num:uint64
447 ITER_TASK_FILE_SOCKET_NETLINK_X NA             unknown            unused
448 ITER_TASK_FILE_ANON_INODE_E task_file_anon_inode file+iter          modifies_state
        fd:fd32 fd_type:flags8:anon_inode_fd_types path:fspath ino_num:uint64
449 ITER_TASK_FILE_ANON_INODE_X NA             unknown            unused
450 SYSCALL_CLOSE_RANGE_E    NA             unknown            unused
451 SYSCALL_CLOSE_RANGE_X    close_range    io_other+syscall   modifies_state
        res:errno first:uint32 last:uint32 flags:flags32:close_range_flags
452 SYSCALL_KEYCTL_E         NA             unknown            unused
453 SYSCALL_KEYCTL_X         keyctl         other+syscall      -
        res:errno operation:enumflags32:keyctl_operations arg2:dyn:keyctl arg3:dyn:keyctl arg4:dyn:keyctl
        arg5:dyn:keyctl
"""

_OLD_OVERRIDES = """
events 336
set drop_simple_cons  4-9 28-29 32-33 36-41 46-47 50-51 54-55 62-89 92-93 112-123 134-137 140-143
        146 150-152 158-167 188-189 202-213 232 234 236-239 250-255 262-265 290 328-329
set modifies_state    294-295
set old_version       147 229
set skipparsereset    147
set uses_fd           77
clear modifies_state  51 55
clear old_version     0 4 6 8 18 20 24 28 30 32 34 36 38 40 42 44 46 48 50 52 54 60 62 64 66 68 70
        72 74 76 78 80 82 84-86 88 92 94 96 98-101 112 114 116 118 120 122 124-126 128 130 132 134
        136 138 140 142 144 150 158 160 162 164 166 168 170 174 176 178 180 188 190 192 194 198 200
        202 204 206 208 210 212 222 224 226 230-231 236 238 240 242 246 248-250 252 254 256 258-260
        262 264 266 268 270 272 274 276 278 284 292 294 296-298 300 302 304 308 310 312 314 316 318
        320 328 330 332 334
clear reads_from_fd   55
clear unused          269
clear uses_fd         51 55 160-163 181 303 305 313 317
clear writes_to_fd    51
1    params=1
3    params=5
5    params=1
7    params=2
9    params=2
17   name=NA1 category=process
18   0=domain:flags32:dec:socket_families
19   params=1
21   params=2
23   params=2
24   1=backlog:uint32
25   params=1
29   params=2
31   params=2
33   params=2
35   params=3
36   1=how:flags8:hex:shutdown_how
37   params=1
42   0=domain:flags32:dec:socket_families
43   params=5
45   2=level:flags8:sockopt_levels 3=optname:flags8:sockopt_options
47   2=level:flags8:sockopt_levels 3=optname:flags8:sockopt_options
49   params=2
51   params=0
53   params=4
55   params=0
59   params=4
62   1=flags:flags32
63   params=1
65   params=1
71   params=1
79   params=1
81   params=2
86   2=whence:flags8:lseek_whence
87   params=1
88   2=whence:flags8:lseek_whence
89   params=1
97   params=1
113  params=2
115  params=2
117  params=3
119  params=2
121  params=3
123  params=2
126  2=flags:flags8:hex
127  params=1
129  params=1
131  params=1
133  params=1
135  params=1
136  1=flags:flags8:hex
137  params=1
138  0=flags:flags8:hex
139  params=1
140  0=resource:flags8:rlimit_resources
141  params=3
142  0=resource:flags8:rlimit_resources
143  params=3
144  1=resource:flags8:rlimit_resources
145  params=5
147  name=NA2 category=scheduler
150  1=cmd:flags8:fcntl_commands
151  params=1
153  name=NA2 category=scheduler
159  params=4
161  params=4 0=res:uint64:hex
163  params=4 0=res:uint64:hex
165  params=4
167  params=1
168  0=request:flags16:dec:ptrace_requests
169  params=3
171  params=1
186  params=4
187  name=NA1 category=process
189  params=2
191  params=14
193  params=1
195  params=1
196  symbol=SYSDIGEVENT_E name=sysdigevent
197  symbol=SYSDIGEVENT_X name=sysdigevent category=internal
199  params=1
201  params=1
223  params=20
225  params=20
227  params=20
229  name=container category=internal
233  name=signaldeliver category=signal
235  name=NA2 category=internal
237  params=1
239  params=1
241  params=1
243  params=1
245  name=NA2 category=system
251  params=8
253  params=1
255  params=2
257  params=4
261  name=NA3 category=system
263  params=1
265  params=2
269  name=tracer category=other
271  name=NA4 category=system
273  name=container category=process
277  params=2
281  name=NA4 category=system
285  params=1
287  name=NA4 category=system
291  name=NA5 category=other
293  params=20 16=tty:int32 17=pgid:pid 18=loginuid:int32
295  params=1 0=res:pid
298  params=1
299  params=1
307  params=6
322  0=plugin%20ID:uint32
323  name=pluginevent category=other
325  name=container category=process
326  1=name:fsrelpath:1
327  params=6
329  params=1
331  params=20 16=tty:int32 17=pgid:pid 18=loginuid:int32
333  params=3
335  params=20
"""


# ----------------------------------------------------------------------------- parsing


@cache
def _category(token: str) -> EC:
    """'file+syscall' -> EC.FILE | EC.SYSCALL."""
    value = 0
    for part in token.split("+"):
        try:
            value |= _CATS[part].value
        except KeyError:
            raise EventTableError(f"unknown category {part!r} in {token!r}") from None
    return EC(value)


@cache
def _flags(token: str) -> EF:
    """'uses_fd,waits' -> EF.USES_FD | EF.WAITS; '-' -> EF.NONE."""
    if token == "-":
        return EF.NONE
    value = 0
    for part in token.split(","):
        try:
            value |= _FLAGS[part].value
        except KeyError:
            raise EventTableError(f"unknown flag {part!r} in {token!r}") from None
    return EF(value)


def _unescape(name: str) -> str:
    """Undo the percent-escaping of names (only %20 and %25 are used)."""
    return name.replace("%20", " ").replace("%25", "%")


class _ParamParser:
    """Turns ``name:type[:format][:info]`` tokens into ParamInfo, sharing identical ones."""

    def __init__(self) -> None:
        self.groups: dict[str, tuple[ParamInfo, ...]] = {}
        self._cache: dict[str, ParamInfo] = {}

    def __call__(self, token: str) -> ParamInfo:
        found = self._cache.get(token)
        if found is None:
            found = self._cache[token] = self._parse(token)
        return found

    def _parse(self, token: str) -> ParamInfo:
        parts = token.split(":")
        if len(parts) < 2 or len(parts) > 4:
            raise EventTableError(f"bad parameter {token!r}")
        name = _unescape(parts[0]) if "%" in parts[0] else parts[0]
        ptype = _TYPES.get(parts[1])
        if ptype is None:
            raise EventTableError(f"unknown type {parts[1]!r} in {token!r}")
        fmt = _DEFAULT_FMT[ptype]
        rest = parts[2:]
        if rest and rest[0] in _FMTS:
            fmt = _FMTS[rest.pop(0)]
        if len(rest) > 1:
            raise EventTableError(f"bad parameter {token!r}")
        return ParamInfo(name, ptype, fmt, self._info(ptype, rest[0] if rest else None, token))

    def _info(self, ptype: PT, raw: str | None, token: str) -> str | int | tuple[ParamInfo, ...] | None:
        if ptype in _FLAG_TYPES:
            if raw is not None and raw not in TABLES:
                raise EventTableError(f"unknown flag table {raw!r} in {token!r}")
            return raw
        if ptype is PT.FSRELPATH:
            if raw is None or not raw.isdigit():
                raise EventTableError(f"FSRELPATH needs a dirfd index: {token!r}")
            return int(raw)
        if ptype is PT.DYN:
            if raw not in self.groups:
                raise EventTableError(f"unknown DYN group {raw!r} in {token!r}")
            return self.groups[raw]
        if raw is not None:
            raise EventTableError(f"unexpected info in {token!r}")
        return None

    def add_group(self, line: str) -> None:
        name, *alts = line[1:].split()
        if not alts:
            raise EventTableError(f"empty DYN group {name!r}")
        self.groups[name] = tuple(self(alt) for alt in alts)


def _entries(text: str) -> list[list[str]]:
    """Split a declaration into entries: header tokens followed by continuation tokens."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        if not line or line.startswith("#") or line.isspace():
            continue
        if line[0] in " \t":
            if not entries:
                raise EventTableError(f"continuation line without an entry: {line!r}")
            entries[-1].extend(line.split())
        else:
            entries.append(line.split())
    return entries


def _parse_events(text: str, params: _ParamParser) -> tuple[EventInfo, ...]:
    events: list[EventInfo] = []
    for tokens in _entries(text):
        if tokens[0].startswith("@"):
            params.add_group(" ".join(tokens))
            continue
        if len(tokens) < 5 or not tokens[0].isdigit():
            raise EventTableError(f"bad event entry {' '.join(tokens)!r}")
        code = int(tokens[0])
        if code != len(events):
            raise EventTableError(f"event code {code} out of order (expected {len(events)})")
        events.append(EventInfo(code, tokens[1], tokens[2], _category(tokens[3]), _flags(tokens[4]),
                                tuple(params(t) for t in tokens[5:])))
    return tuple(events)


def _check_events(events: tuple[EventInfo, ...]) -> None:
    """Structural checks beyond what the parser enforces: FSRELPATH must name an fd parameter."""
    for ev in events:
        for param in ev.params:
            if param.type is PT.FSRELPATH:
                ref = param.info
                if (not isinstance(ref, int) or ref >= len(ev.params)
                        or ev.params[ref].type not in (PT.FD, PT.FD32)):
                    raise EventTableError(f"{ev.symbol}: bad dirfd reference in {param.name!r}")


# ----------------------------------------------------------------------------- old overlay


@dataclass(frozen=True, slots=True)
class OldEventChange:
    """Per-event differences of the sysdig 0.29.3 table (None / empty = as derived)."""

    symbol: str | None = None
    name: str | None = None
    category: EC | None = None
    nparams: int | None = None
    params: tuple[tuple[int, ParamInfo], ...] = ()


@dataclass(frozen=True, slots=True)
class OldOverrides:
    """The parsed ``_OLD_OVERRIDES`` declaration."""

    num_events: int
    set_flags: dict[int, EF]
    clear_flags: dict[int, EF]
    changes: dict[int, OldEventChange]


def _codes(tokens: list[str]) -> list[int]:
    """['4-6', '9'] -> [4, 5, 6, 9]."""
    out: list[int] = []
    for tok in tokens:
        lo, _, hi = tok.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def _old_change(tokens: list[str], params: _ParamParser) -> OldEventChange:
    fields: dict[str, object] = {}
    replaced: list[tuple[int, ParamInfo]] = []
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if not sep:
            raise EventTableError(f"bad override {tok!r}")
        if key.isdigit():
            replaced.append((int(key), params(value)))
        elif key in ("symbol", "name"):
            fields[key] = value
        elif key == "category":
            fields[key] = _category(value)
        elif key == "params":
            fields["nparams"] = int(value)
        else:
            raise EventTableError(f"unknown override key {key!r}")
    return OldEventChange(**fields, params=tuple(replaced))  # type: ignore[arg-type]


def _parse_old(text: str, params: _ParamParser) -> OldOverrides:
    num = 0
    set_flags: dict[int, EF] = {}
    clear_flags: dict[int, EF] = {}
    changes: dict[int, OldEventChange] = {}
    for tokens in _entries(text):
        head = tokens[0]
        if head == "events":
            num = int(tokens[1])
        elif head in ("set", "clear"):
            target = set_flags if head == "set" else clear_flags
            flag = _flags(tokens[1])
            for code in _codes(tokens[2:]):
                target[code] = target.get(code, EF.NONE) | flag
        elif head.isdigit():
            changes[int(head)] = _old_change(tokens[1:], params)
        else:
            raise EventTableError(f"bad override line {' '.join(tokens)!r}")
    return OldOverrides(num, set_flags, clear_flags, changes)


# ----------------------------------------------------------------------------- tables


_PARAMS = _ParamParser()
EVENTS: tuple[EventInfo, ...] = _parse_events(_EVENTS, _PARAMS)
_check_events(EVENTS)
NUM_EVENTS: int = len(EVENTS)
#: Named DYN alternative groups (name -> alternatives in selector order).
DYN_GROUPS: dict[str, tuple[ParamInfo, ...]] = dict(_PARAMS.groups)
OLD_OVERRIDES: OldOverrides = _parse_old(_OLD_OVERRIDES, _PARAMS)
#: Number of event codes known to sysdig 0.29.3.
SYSDIG_029_NUM_EVENTS: int = OLD_OVERRIDES.num_events

_BY_NAME: dict[str, list[EventInfo]] = {}
for _ev in EVENTS:
    _BY_NAME.setdefault(_ev.name, []).append(_ev)
del _ev


def event_info(code: int) -> EventInfo | None:
    """The current declaration of an event code, or None when the code is unknown."""
    if 0 <= code < NUM_EVENTS:
        return EVENTS[code]
    return None


def events_named(name: str) -> list[EventInfo]:
    """All event codes (every version, both directions) with this name, in code order."""
    return list(_BY_NAME.get(name, ()))


def _derive_old(current: EventInfo) -> EventInfo:
    """Apply OLD_OVERRIDES to one current event."""
    code = current.code
    change = OLD_OVERRIDES.changes.get(code, OldEventChange())
    flags = (current.flags & ~EF.CONVERTER_MANAGED) | OLD_OVERRIDES.set_flags.get(code, EF.NONE)
    flags &= ~OLD_OVERRIDES.clear_flags.get(code, EF.NONE)
    params = list(current.params[: change.nparams] if change.nparams is not None else current.params)
    for index, param in change.params:
        params[index] = param
    category = change.category if change.category is not None else current.subcategory
    return EventInfo(code, change.symbol or current.symbol, change.name or current.name,
                     EC(category), EF(flags), tuple(params))


@cache
def _old_events() -> tuple[EventInfo, ...]:
    return tuple(_derive_old(ev) for ev in EVENTS[:SYSDIG_029_NUM_EVENTS])


def sysdig_029_event_info(code: int) -> EventInfo | None:
    """The event as sysdig 0.29.3's own table declares it (None for codes it does not know).

    Parameter count, names, types, print formats and flag tables are those sysdig uses when it
    prints ``name=value``; the category has no source bits and flags may include DROP_SIMPLE_CONS.
    """
    if 0 <= code < SYSDIG_029_NUM_EVENTS:
        return _old_events()[code]
    return None
