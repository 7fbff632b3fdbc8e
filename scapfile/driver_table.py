"""What the capture drivers record for each x86_64 system call: the one declaration the eBPF
probe and the kernel module are generated from (``ebpf/gen_headers.py`` writes it out as C).

Every syscall gets the newest event code that sysdig 0.29.3 knows, with exactly the parameters of
``event_table.sysdig_029_event_info(code)`` (libsinsp 0.29.3 reads the parameters its own table
declares, so a file must carry exactly those to read correctly there and in current libs). A syscall
without such an event is recorded as the generic ``syscall`` event carrying its PPM_SC code.

Syntax of ``_X86_64``
---------------------
One entry per x86_64 syscall number (indented lines continue the entry above)::

    <nr> <name> [<event> > <enter sources> < <exit sources>]

``nr``        the x86_64 syscall number; ``name`` its name, which is also its PPM_SC name in
              ``syscall_names``. Generic events carry that PPM_SC code when sysdig 0.29.3's
              syscall table has it, else code 0 (unknown): sysdig 0.29.3 indexes its table with
              the code unchecked and crashes past its end. The enter event's ``nativeID`` keeps
              the x86_64 number either way.
``event``     the event symbol without ``_E``/``_X`` (``SYSCALL_OPENAT_2``); omitted: generic event.
``sources``   one per parameter of the event, in order. A source is

              * ``aN``       syscall argument N (0-5): numbers as is (FD, PID and INT32 sign-extended
                             from 32 bits), converted to the PPM value through the converter of the
                             parameter's flag table; strings (CHARBUF, FSPATH, FSRELPATH) are read
                             from user memory at that address;
              * ``ret``      the return value;
              * an integer   that constant;
              * ``name`` or ``name(op,...)``  a named special (``SPECIALS``) whose operands are
                             ``aN``, ``ret`` or small integer constants.

Syntax of ``_CONVERTERS``
-------------------------
How raw kernel values become the PPM values of a flag table, for parameters sourced from ``aN``::

    <table> same                         kernel values are the PPM values
    <table> bits NAME=kval ...           for each entry whose kernel bits are all set, OR the PPM
                                         value of the table entry NAME
    <table> field MASK NAME=kval ...     (within ``bits``) PPM NAME when (value & MASK) == kval
    <table> enum DEFAULT NAME=kval ...   PPM NAME when value == kval, else the PPM value DEFAULT

Kernel values are the x86_64 ones (tests check them against the system's kernel headers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .event_table import (PT, SYSDIG_029_NUM_EVENTS, EventInfo, EventTableError, ParamInfo,
                          sysdig_029_event_info)
from .flag_tables import TABLES
from .syscall_names import SYSCALL_INFO, SYSCALL_NAMES

_X86_64 = """
0   read            SYSCALL_READ        > a0 a2 < ret data(a1,ret)
1   write           SYSCALL_WRITE       > a0 a2 < ret data(a1,a2)
2   open            SYSCALL_OPEN        > a0 a1 openmode(a1,a2) < ret a0 a1 openmode(a1,a2) dev(ret)
3   close           SYSCALL_CLOSE       > a0 < ret
4   stat            SYSCALL_STAT        > < ret a0
5   fstat           SYSCALL_FSTAT       > a0 < ret
6   lstat           SYSCALL_LSTAT       > < ret a0
7   poll
8   lseek           SYSCALL_LSEEK       > a0 a1 a2 < ret
9   mmap            SYSCALL_MMAP        > a0 a1 a2 a3 a4 a5 < ret vmsize vmrss vmswap
10  mprotect        SYSCALL_MPROTECT    > a0 a1 a2 < ret
11  munmap          SYSCALL_MUNMAP      > a0 a1 < ret vmsize vmrss vmswap
12  brk             SYSCALL_BRK_4       > a0 < ret vmsize vmrss vmswap
13  rt_sigaction
14  rt_sigprocmask
15  rt_sigreturn
16  ioctl           SYSCALL_IOCTL_3     > a0 a1 a2 < ret
17  pread64         SYSCALL_PREAD       > a0 a2 a3 < ret data(a1,ret)
18  pwrite64        SYSCALL_PWRITE      > a0 a2 a3 < ret data(a1,a2)
19  readv           SYSCALL_READV       > a0 < ret iovsize(a1,a2,ret) iovdata(a1,a2,ret)
20  writev          SYSCALL_WRITEV      > a0 iovsize(a1,a2) < ret iovdata(a1,a2)
21  access          SYSCALL_ACCESS      > a1 < ret a0
22  pipe            SYSCALL_PIPE        > < ret ufd(a0,0) ufd(a0,1) ufdino(a0)
23  select          SYSCALL_SELECT      > < ret
24  sched_yield
25  mremap
26  msync
27  mincore
28  madvise
29  shmget
30  shmat
31  shmctl
32  dup             SYSCALL_DUP         > a0 < ret
33  dup2            SYSCALL_DUP         > a0 < ret
34  pause
35  nanosleep       SYSCALL_NANOSLEEP   > timespec(a0) < ret
36  getitimer
37  alarm
38  setitimer
39  getpid
40  sendfile        SYSCALL_SENDFILE    > a0 a1 u64at(a2) a3 < ret u64at(a2)
41  socket          SOCKET_SOCKET       > a0 a1 a2 < ret
42  connect         SOCKET_CONNECT      > a0 sockaddr(a1,a2) < ret tuple(a0,a1,a2)
43  accept          SOCKET_ACCEPT_5     > < ret socktuple(ret) qpct(a0) qlen(a0) qmax(a0)
44  sendto          SOCKET_SENDTO       > a0 a2 tuple(a0,a4,a5) < ret data(a1,ret)
45  recvfrom        SOCKET_RECVFROM     > a0 a2 < ret data(a1,ret) tuplein(a0,a4,a5)
46  sendmsg         SOCKET_SENDMSG      > a0 msgsize(a1) msgtuple(a0,a1) < ret msgdata(a1)
47  recvmsg         SOCKET_RECVMSG      > a0 < ret msgsize(a1,ret) msgdata(a1,ret) msgtuplein(a0,a1)
48  shutdown        SOCKET_SHUTDOWN     > a0 a1 < ret
49  bind            SOCKET_BIND         > a0 < ret sockaddr(a1,a2)
50  listen          SOCKET_LISTEN       > a0 a1 < ret
51  getsockname     SOCKET_GETSOCKNAME  > <
52  getpeername     SOCKET_GETPEERNAME  > <
53  socketpair      SOCKET_SOCKETPAIR   > a0 a1 a2 < ret ufd(a3,0) ufd(a3,1) usock(a3) upeer(a3)
54  setsockopt
55  getsockopt
56  clone           SYSCALL_CLONE_20    >
        < ret exe args tid pid ptid cwd fdlimit pgftmaj pgftmin vmsize vmrss vmswap comm cgroups
        cloneflags(a0) euid egid vtid vpid
57  fork            SYSCALL_FORK_20     >
        < ret exe args tid pid ptid cwd fdlimit pgftmaj pgftmin vmsize vmrss vmswap comm cgroups
        cloneflags(0) euid egid vtid vpid
58  vfork           SYSCALL_VFORK_20    >
        < ret exe args tid pid ptid cwd fdlimit pgftmaj pgftmin vmsize vmrss vmswap comm cgroups
        cloneflags(0) euid egid vtid vpid
59  execve          SYSCALL_EXECVE_19   > a0
        < ret exe(a1) args tid pid ptid cwd fdlimit pgftmaj pgftmin vmsize vmrss vmswap comm cgroups
        env(a2) tty vpgid loginuid exeflags
60  exit
61  wait4
62  kill            SYSCALL_KILL        > a0 a1 < ret
63  uname
64  semget
65  semop
66  semctl
67  shmdt
68  msgget
69  msgsnd
70  msgrcv
71  msgctl
72  fcntl           SYSCALL_FCNTL       > a0 a1 < ret
73  flock           SYSCALL_FLOCK       > a0 a1 < ret
74  fsync
75  fdatasync
76  truncate
77  ftruncate
78  getdents        SYSCALL_GETDENTS    > a0 < ret
79  getcwd          SYSCALL_GETCWD      > < ret a0
80  chdir           SYSCALL_CHDIR       > < ret a0
81  fchdir          SYSCALL_FCHDIR      > a0 < ret
82  rename          SYSCALL_RENAME      > < ret a0 a1
83  mkdir           SYSCALL_MKDIR_2     > a1 < ret a0
84  rmdir           SYSCALL_RMDIR_2     > < ret a0
85  creat           SYSCALL_CREAT       > a0 openmode(64,a1) < ret a0 openmode(64,a1) dev(ret)
86  link            SYSCALL_LINK_2      > < ret a0 a1
87  unlink          SYSCALL_UNLINK_2    > < ret a0
88  symlink         SYSCALL_SYMLINK     > < ret a0 a1
89  readlink
90  chmod           SYSCALL_CHMOD       > < ret a0 a1
91  fchmod          SYSCALL_FCHMOD      > < ret a0 a1
92  chown
93  fchown
94  lchown
95  umask
96  gettimeofday
97  getrlimit       SYSCALL_GETRLIMIT   > a0 < ret rlimcur(a1,0) rlimmax(a1,0)
98  getrusage
99  sysinfo
100 times
101 ptrace          SYSCALL_PTRACE      > a0 a1 < ret ptraceaddr ptracedata
102 getuid          SYSCALL_GETUID      > < ret
103 syslog
104 getgid          SYSCALL_GETGID      > < ret
105 setuid          SYSCALL_SETUID      > a0 < ret
106 setgid          SYSCALL_SETGID      > a0 < ret
107 geteuid         SYSCALL_GETEUID     > < ret
108 getegid         SYSCALL_GETEGID     > < ret
109 setpgid         SYSCALL_SETPGID     > a0 a1 < ret
110 getppid
111 getpgrp
112 setsid          SYSCALL_SETSID      > < ret
113 setreuid
114 setregid
115 getgroups
116 setgroups
117 setresuid       SYSCALL_SETRESUID   > a0 a1 a2 < ret
118 getresuid       SYSCALL_GETRESUID   > < ret u32at(a0) u32at(a1) u32at(a2)
119 setresgid       SYSCALL_SETRESGID   > a0 a1 a2 < ret
120 getresgid       SYSCALL_GETRESGID   > < ret u32at(a0) u32at(a1) u32at(a2)
121 getpgid
122 setfsuid
123 setfsgid
124 getsid
125 capget
126 capset
127 rt_sigpending
128 rt_sigtimedwait
129 rt_sigqueueinfo
130 rt_sigsuspend
131 sigaltstack
132 utime
133 mknod
134 uselib
135 personality
136 ustat
137 statfs
138 fstatfs
139 sysfs
140 getpriority
141 setpriority
142 sched_setparam
143 sched_getparam
144 sched_setscheduler
145 sched_getscheduler
146 sched_get_priority_max
147 sched_get_priority_min
148 sched_rr_get_interval
149 mlock
150 munlock
151 mlockall
152 munlockall
153 vhangup
154 modify_ldt
155 pivot_root
156 _sysctl
157 prctl
158 arch_prctl
159 adjtimex
160 setrlimit       SYSCALL_SETRLIMIT   > a0 < ret rlimcur(a1,1) rlimmax(a1,1)
161 chroot          SYSCALL_CHROOT      > < ret a0
162 sync
163 acct
164 settimeofday
165 mount           SYSCALL_MOUNT       > mountflags(a3) < ret a0 a1 a2
166 umount2         SYSCALL_UMOUNT      > a1 < ret a0
167 swapon
168 swapoff
169 reboot
170 sethostname
171 setdomainname
172 iopl
173 ioperm
174 create_module
175 init_module
176 delete_module
177 get_kernel_syms
178 query_module
179 quotactl
180 nfsservctl
181 getpmsg
182 putpmsg
183 afs_syscall
184 tuxcall
185 security
186 gettid
187 readahead
188 setxattr
189 lsetxattr
190 fsetxattr
191 getxattr
192 lgetxattr
193 fgetxattr
194 listxattr
195 llistxattr
196 flistxattr
197 removexattr
198 lremovexattr
199 fremovexattr
200 tkill           SYSCALL_TKILL       > a0 a1 < ret
201 time
202 futex           SYSCALL_FUTEX       > a0 a1 a2 < ret
203 sched_setaffinity
204 sched_getaffinity
205 set_thread_area
206 io_setup
207 io_destroy
208 io_getevents
209 io_submit
210 io_cancel
211 get_thread_area
212 lookup_dcookie
213 epoll_create
214 epoll_ctl_old
215 epoll_wait_old
216 remap_file_pages
217 getdents64      SYSCALL_GETDENTS64  > a0 < ret
218 set_tid_address
219 restart_syscall
220 semtimedop
221 fadvise64
222 timer_create
223 timer_settime
224 timer_gettime
225 timer_getoverrun
226 timer_delete
227 clock_settime
228 clock_gettime
229 clock_getres
230 clock_nanosleep
231 exit_group
232 epoll_wait      SYSCALL_EPOLLWAIT   > a2 < ret
233 epoll_ctl
234 tgkill          SYSCALL_TGKILL      > a0 a1 a2 < ret
235 utimes
236 vserver
237 mbind
238 set_mempolicy
239 get_mempolicy
240 mq_open
241 mq_unlink
242 mq_timedsend
243 mq_timedreceive
244 mq_notify
245 mq_getsetattr
246 kexec_load
247 waitid
248 add_key
249 request_key
250 keyctl
251 ioprio_set
252 ioprio_get
253 inotify_init    SYSCALL_INOTIFY_INIT > 0 < ret
254 inotify_add_watch
255 inotify_rm_watch
256 migrate_pages
257 openat          SYSCALL_OPENAT_2    > a0 a1 a2 openmode(a2,a3)
        < ret a0 a1 a2 openmode(a2,a3) dev(ret)
258 mkdirat         SYSCALL_MKDIRAT     > < ret a0 a1 a2
259 mknodat
260 fchownat
261 futimesat
262 newfstatat
263 unlinkat        SYSCALL_UNLINKAT_2  > < ret a0 a1 a2
264 renameat        SYSCALL_RENAMEAT    > < ret a0 a1 a2 a3
265 linkat          SYSCALL_LINKAT_2    > < ret a0 a1 a2 a3 a4
266 symlinkat       SYSCALL_SYMLINKAT   > < ret a0 a1 a2
267 readlinkat
268 fchmodat        SYSCALL_FCHMODAT    > < ret a0 a1 a2
269 faccessat
270 pselect6
271 ppoll
272 unshare         SYSCALL_UNSHARE     > a0 < ret
273 set_robust_list
274 get_robust_list
275 splice          SYSCALL_SPLICE      > a0 a2 a4 a5 < ret
276 tee
277 sync_file_range
278 vmsplice
279 move_pages
280 utimensat
281 epoll_pwait
282 signalfd        SYSCALL_SIGNALFD    > a0 0 0 < ret
283 timerfd_create  SYSCALL_TIMERFD_CREATE > 0 0 < ret
284 eventfd         SYSCALL_EVENTFD     > a0 0 < ret
285 fallocate
286 timerfd_settime
287 timerfd_gettime
288 accept4         SOCKET_ACCEPT4_5    > a3 < ret socktuple(ret) qpct(a0) qlen(a0) qmax(a0)
289 signalfd4       SYSCALL_SIGNALFD    > a0 0 0 < ret
290 eventfd2        SYSCALL_EVENTFD     > a0 0 < ret
291 epoll_create1
292 dup3            SYSCALL_DUP         > a0 < ret
293 pipe2           SYSCALL_PIPE        > < ret ufd(a0,0) ufd(a0,1) ufdino(a0)
294 inotify_init1   SYSCALL_INOTIFY_INIT > 0 < ret
295 preadv
296 pwritev
297 rt_tgsigqueueinfo
298 perf_event_open
299 recvmmsg
300 fanotify_init
301 fanotify_mark
302 prlimit64       SYSCALL_PRLIMIT     > a0 a1
        < ret rlimcur(a2,0) rlimmax(a2,0) rlimcur(a3,1) rlimmax(a3,1)
303 name_to_handle_at
304 open_by_handle_at
305 clock_adjtime
306 syncfs
307 sendmmsg
308 setns           SYSCALL_SETNS       > a0 a1 < ret
309 getcpu
310 process_vm_readv
311 process_vm_writev
312 kcmp
313 finit_module
314 sched_setattr
315 sched_getattr
316 renameat2       SYSCALL_RENAMEAT2   > < ret a0 a1 a2 a3 a4
317 seccomp         SYSCALL_SECCOMP     > a0 < ret
318 getrandom
319 memfd_create
320 kexec_file_load
321 bpf             SYSCALL_BPF         > a0 < bpfres
322 execveat        SYSCALL_EXECVEAT    > a0 a1 a4
        < ret exe(a2) args tid pid ptid cwd fdlimit pgftmaj pgftmin vmsize vmrss vmswap comm cgroups
        env(a3) tty vpgid loginuid exeflags
323 userfaultfd
324 membarrier
325 mlock2
326 copy_file_range SYSCALL_COPY_FILE_RANGE > a0 u64at(a1) a4 < ret a2 u64at(a3)
327 preadv2
328 pwritev2
329 pkey_mprotect
330 pkey_alloc
331 pkey_free
332 statx
333 io_pgetevents
334 rseq
335 uretprobe
336 uprobe
424 pidfd_send_signal
425 io_uring_setup
426 io_uring_enter
427 io_uring_register
428 open_tree
429 move_mount
430 fsopen
431 fsconfig
432 fsmount
433 fspick
434 pidfd_open
435 clone3          SYSCALL_CLONE3      >
        < ret exe args tid pid ptid cwd fdlimit pgftmaj pgftmin vmsize vmrss vmswap comm cgroups
        clone3flags(a0) euid egid vtid vpid
436 close_range
437 openat2         SYSCALL_OPENAT2     > a0 a1 howflags(a2) howmode(a2) howresolve(a2)
        < ret a0 a1 howflags(a2) howmode(a2) howresolve(a2)
438 pidfd_getfd
439 faccessat2
440 process_madvise
441 epoll_pwait2
442 mount_setattr
443 quotactl_fd
444 landlock_create_ruleset
445 landlock_add_rule
446 landlock_restrict_self
447 memfd_secret
448 process_mrelease
449 futex_waitv
450 set_mempolicy_home_node
451 cachestat
452 fchmodat2
453 map_shadow_stack
454 futex_wake
455 futex_wait
456 futex_requeue
457 statmount
458 listmount
459 lsm_get_self_attr
460 lsm_set_self_attr
461 lsm_list_modules
462 mseal
463 setxattrat
464 getxattrat
465 listxattrat
466 removexattrat
467 open_tree_attr
468 file_getattr
469 file_setattr
470 listns
471 rseq_slice_yield
"""

_CONVERTERS = """
file_flags      bits field 0o3 O_RDONLY=0 O_WRONLY=1 O_RDWR=2
                O_CREAT=0o100 O_EXCL=0o200 O_TRUNC=0o1000 O_APPEND=0o2000 O_NONBLOCK=0o4000
                O_DSYNC=0o10000 O_DIRECT=0o40000 O_LARGEFILE=0o100000 O_DIRECTORY=0o200000
                O_CLOEXEC=0o2000000 O_SYNC=0o4010000 O_TMPFILE=0o20200000
clone_flags     bits CLONE_VM=0x100 CLONE_FS=0x200 CLONE_FILES=0x400 CLONE_SIGHAND=0x800
                CLONE_PTRACE=0x2000 CLONE_VFORK=0x4000 CLONE_PARENT=0x8000 CLONE_THREAD=0x10000
                CLONE_NEWNS=0x20000 CLONE_SYSVSEM=0x40000 CLONE_SETTLS=0x80000
                CLONE_PARENT_SETTID=0x100000 CLONE_CHILD_CLEARTID=0x200000 CLONE_UNTRACED=0x800000
                CLONE_CHILD_SETTID=0x1000000 CLONE_NEWCGROUP=0x2000000 CLONE_NEWUTS=0x4000000
                CLONE_NEWIPC=0x8000000 CLONE_NEWUSER=0x10000000 CLONE_NEWPID=0x20000000
                CLONE_NEWNET=0x40000000 CLONE_IO=0x80000000
prot_flags      bits PROT_READ=0x1 PROT_WRITE=0x2 PROT_EXEC=0x4 PROT_SEM=0x8
                PROT_GROWSDOWN=0x1000000 PROT_GROWSUP=0x2000000
mmap_flags      bits MAP_SHARED=0x1 MAP_PRIVATE=0x2 MAP_FIXED=0x10 MAP_ANONYMOUS=0x20 MAP_32BIT=0x40
                MAP_GROWSDOWN=0x100 MAP_DENYWRITE=0x800 MAP_EXECUTABLE=0x1000 MAP_LOCKED=0x2000
                MAP_NORESERVE=0x4000 MAP_POPULATE=0x8000 MAP_NONBLOCK=0x10000
execveat_flags  bits AT_EMPTY_PATH=0x1000 AT_SYMLINK_NOFOLLOW=0x100
openat2_flags   bits RESOLVE_NO_XDEV=0x1 RESOLVE_NO_MAGICLINKS=0x2 RESOLVE_NO_SYMLINKS=0x4
                RESOLVE_BENEATH=0x8 RESOLVE_IN_ROOT=0x10 RESOLVE_CACHED=0x20
fcntl_commands  enum UNKNOWN F_DUPFD=0 F_GETFD=1 F_SETFD=2 F_GETFL=3 F_SETFL=4 F_GETLK=5
                F_SETLK=6 F_SETLKW=7 F_SETOWN=8 F_GETOWN=9 F_SETSIG=10 F_GETSIG=11 F_SETOWN_EX=15
                F_GETOWN_EX=16 F_OFD_GETLK=36 F_OFD_SETLK=37 F_OFD_SETLKW=38 F_SETLEASE=1024
                F_GETLEASE=1025 F_NOTIFY=1026 F_CANCELLK=1029 F_DUPFD_CLOEXEC=1030
                F_SETPIPE_SZ=1031 F_GETPIPE_SZ=1032
ptrace_requests enum PTRACE_UNKNOWN PTRACE_TRACEME=0 PTRACE_PEEKTEXT=1 PTRACE_PEEKDATA=2
                PTRACE_PEEKUSR=3 PTRACE_POKETEXT=4 PTRACE_POKEDATA=5 PTRACE_POKEUSR=6 PTRACE_CONT=7
                PTRACE_KILL=8 PTRACE_SINGLESTEP=9 PTRACE_GETREGS=12 PTRACE_SETREGS=13
                PTRACE_GETFPREGS=14 PTRACE_SETFPREGS=15 PTRACE_ATTACH=16 PTRACE_DETACH=17
                PTRACE_GETFPXREGS=18 PTRACE_SETFPXREGS=19 PTRACE_OLDSETOPTIONS=21 PTRACE_SYSCALL=24
                PTRACE_GET_THREAD_AREA=25 PTRACE_SET_THREAD_AREA=26 PTRACE_ARCH_PRCTL=30
                PTRACE_SYSEMU=31 PTRACE_SYSEMU_SINGLESTEP=32 PTRACE_SINGLEBLOCK=33
                PTRACE_SETOPTIONS=0x4200 PTRACE_GETEVENTMSG=0x4201 PTRACE_GETSIGINFO=0x4202
                PTRACE_SETSIGINFO=0x4203 PTRACE_GETREGSET=0x4204 PTRACE_SETREGSET=0x4205
                PTRACE_SEIZE=0x4206 PTRACE_INTERRUPT=0x4207 PTRACE_LISTEN=0x4208
                PTRACE_PEEKSIGINFO=0x4209 PTRACE_GETSIGMASK=0x420a PTRACE_SETSIGMASK=0x420b
rlimit_resources enum RLIMIT_UNKNOWN RLIMIT_CPU=0 RLIMIT_FSIZE=1 RLIMIT_DATA=2 RLIMIT_STACK=3
                RLIMIT_CORE=4 RLIMIT_RSS=5 RLIMIT_NPROC=6 RLIMIT_NOFILE=7 RLIMIT_MEMLOCK=8
                RLIMIT_AS=9 RLIMIT_LOCKS=10 RLIMIT_SIGPENDING=11 RLIMIT_MSGQUEUE=12 RLIMIT_NICE=13
                RLIMIT_RTPRIO=14 RLIMIT_RTTIME=15
socket_families same
shutdown_how    same
lseek_whence    same
flock_flags     same
access_flags    same
futex_operations same
mount_flags     same
umount_flags    same
unlinkat_flags  same
linkat_flags    same
renameat2_flags same
chmod_mode      same
splice_flags    same
"""

#: Named parameter sources with dedicated driver code: name -> (kind, min operands, max operands,
#: what it records). Kinds: ``num`` gives a number written with the parameter's width, ``buf``
#: writes the parameter's bytes itself, ``dyn`` writes a DYN selector byte and its value.
SPECIALS: dict[str, tuple[str, int, int, str]] = {
    # numbers computed from arguments
    "openmode": ("num", 2, 2, "permission bits of (flags, mode), 0 unless O_CREAT or O_TMPFILE"),
    "mountflags": ("num", 1, 1, "mount flags without the 0xC0ED magic in the high half"),
    "cloneflags": ("num", 1, 1, "PPM clone flags of the value, plus CLONE_CHILD_IN_PIDNS"),
    "clone3flags": ("num", 1, 1, "cloneflags of clone_args.flags read from user memory"),
    "howflags": ("num", 1, 1, "PPM open flags of open_how.flags (openat2)"),
    "howmode": ("num", 1, 1, "openmode of open_how.flags and open_how.mode"),
    "howresolve": ("num", 1, 1, "PPM resolve flags of open_how.resolve"),
    "timespec": ("num", 1, 1, "a user struct timespec as nanoseconds"),
    "rlimcur": ("num", 2, 2, "rlim_cur of a user struct rlimit (-1 if the call failed, unless op2)"),
    "rlimmax": ("num", 2, 2, "rlim_max of a user struct rlimit (-1 if the call failed, unless op2)"),
    "u32at": ("num", 1, 1, "a u32 read from user memory (0 if unreadable)"),
    "u64at": ("num", 1, 1, "a u64 read from user memory (0 if unreadable)"),
    "ufd": ("num", 2, 2, "int op2 of a user int array (pipe/socketpair fds), 0 if the call failed"),
    "ufdino": ("num", 1, 1, "inode number of the fd in element 0 of a user int array"),
    "usock": ("num", 1, 1, "kernel address of the sock of the fd in element 0 of a user int array"),
    "upeer": ("num", 1, 1, "kernel address of the peer sock of that fd"),
    "dev": ("num", 1, 1, "encoded device number of the file behind an fd"),
    "qpct": ("num", 1, 1, "accept backlog use of a listening socket, percent"),
    "qlen": ("num", 1, 1, "accept backlog length of a listening socket"),
    "qmax": ("num", 1, 1, "accept backlog limit of a listening socket"),
    "iovsize": ("num", 2, 3, "total iov_len of a user iovec array, capped by op3 when given"),
    "msgsize": ("num", 1, 2, "iovsize of a user msghdr's iovec, capped by op2 when given"),
    "sc": ("num", 0, 0, "the PPM_SC code of the syscall (generic events)"),
    "nr": ("num", 0, 0, "the native syscall number (generic events)"),
    # numbers describing the current task
    "tid": ("num", 0, 0, "thread id"),
    "pid": ("num", 0, 0, "thread group id"),
    "ptid": ("num", 0, 0, "thread id of the real parent"),
    "vtid": ("num", 0, 0, "thread id in the task's pid namespace"),
    "vpid": ("num", 0, 0, "thread group id in the task's pid namespace"),
    "vpgid": ("num", 0, 0, "process group id in the task's pid namespace"),
    "fdlimit": ("num", 0, 0, "soft RLIMIT_NOFILE"),
    "pgftmaj": ("num", 0, 0, "major page faults"),
    "pgftmin": ("num", 0, 0, "minor page faults"),
    "vmsize": ("num", 0, 0, "total virtual memory, KiB"),
    "vmrss": ("num", 0, 0, "resident memory, KiB"),
    "vmswap": ("num", 0, 0, "swapped-out memory, KiB"),
    "euid": ("num", 0, 0, "effective uid"),
    "egid": ("num", 0, 0, "effective gid"),
    "tty": ("num", 0, 0, "encoded controlling tty device, 0 if none"),
    "loginuid": ("num", 0, 0, "audit login uid"),
    "exeflags": ("num", 0, 0, "PPM execve flags (EXE_WRITABLE)"),
    "exitstatus": ("num", 0, 0, "wait status of the exiting task"),
    "exitret": ("num", 0, 0, "exit code part of the wait status"),
    "exitsig": ("num", 0, 0, "terminating signal, 0 if none"),
    "exitcore": ("num", 0, 0, "1 if a core was dumped"),
    # byte strings
    "data": ("buf", 2, 2, "op2 bytes of user memory at op1, up to the snaplen (none if op2 < 0)"),
    "iovdata": ("buf", 2, 3, "bytes of a user iovec array, up to op3 when given and the snaplen"),
    "msgdata": ("buf", 1, 2, "iovdata of a user msghdr"),
    "sockaddr": ("buf", 2, 2, "a user sockaddr of length op2, packed as PT_SOCKADDR"),
    "tuple": ("buf", 3, 3, "PT_SOCKTUPLE of socket fd op1, outbound, peer from a user sockaddr"),
    "tuplein": ("buf", 3, 3, "inbound tuple, peer from a user sockaddr whose length is at op3"),
    "socktuple": ("buf", 1, 1, "inbound tuple of socket fd op1 from the kernel socket"),
    "msgtuple": ("buf", 2, 2, "outbound tuple, peer from msg_name of a user msghdr"),
    "msgtuplein": ("buf", 2, 2, "inbound tuple, peer from msg_name of a user msghdr"),
    "exe": ("buf", 0, 1, "argv[0]: from the mm after success, else from the user argv at op1"),
    "args": ("buf", 0, 0, "the rest of the argument block read by exe (must follow exe)"),
    "env": ("buf", 0, 1, "environment block: from the mm after success, else the user envp at op1"),
    "cwd": ("buf", 0, 0, "current working directory"),
    "comm": ("buf", 0, 0, "task command name"),
    "cgroups": ("buf", 0, 0, "subsystem=path strings of the task's cgroups"),
    # DYN parameters
    "ptraceaddr": ("dyn", 0, 0, "ptrace addr argument"),
    "ptracedata": ("dyn", 0, 0, "ptrace data argument (the word read for PEEK requests)"),
    "bpfres": ("dyn", 0, 0, "bpf result: an fd for map/program creation, else an errno"),
}

#: Events recorded from scheduler tracepoints (name -> event symbol and sources).
_TRACEPOINTS = """
procexit        PROCEXIT_1_E        exitstatus exitret exitsig exitcore
"""

#: Parameter types written as numbers, with their width in bytes.
NUM_WIDTH: dict[PT, int] = {}
for _pts, _w in (((PT.INT8, PT.UINT8, PT.FLAGS8, PT.ENUMFLAGS8, PT.SIGTYPE, PT.L4PROTO,
                   PT.SOCKFAMILY), 1),
                 ((PT.INT16, PT.UINT16, PT.FLAGS16, PT.ENUMFLAGS16, PT.SYSCALLID, PT.PORT), 2),
                 ((PT.INT32, PT.UINT32, PT.FLAGS32, PT.ENUMFLAGS32, PT.UID, PT.GID, PT.MODE,
                   PT.SIGSET, PT.BOOL, PT.FD32, PT.PID32, PT.IPV4ADDR), 4),
                 ((PT.INT64, PT.UINT64, PT.ERRNO, PT.FD, PT.PID, PT.RELTIME, PT.ABSTIME), 8)):
    for _pt in _pts:
        NUM_WIDTH[_pt] = _w
#: Types read as a user string when sourced from an argument.
STRING_TYPES = frozenset({PT.CHARBUF, PT.FSPATH, PT.FSRELPATH})
#: Types whose argument value is an ``int`` in the syscall's C signature (sign-extended).
SIGNED32_TYPES = frozenset({PT.FD, PT.PID, PT.INT32})
_BUF_TYPES = frozenset({PT.CHARBUF, PT.BYTEBUF, PT.SOCKADDR, PT.SOCKTUPLE, PT.FSPATH})


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Operand:
    """``kind`` is ``arg`` (value = argument index), ``ret`` or ``const`` (value = the constant)."""

    kind: str
    value: int = 0

    def __str__(self) -> str:
        return {"arg": f"a{self.value}", "ret": "ret"}.get(self.kind, str(self.value))


@dataclass(frozen=True, slots=True)
class Source:
    """Where one parameter's value comes from.

    ``kind``: ``value`` (a number from ``operands[0]``, converted through ``converter``),
    ``string`` (a user string at ``operands[0]``) or the name of a special.
    """

    kind: str
    operands: tuple[Operand, ...] = ()
    converter: str | None = None

    def __str__(self) -> str:
        if self.kind in ("value", "string"):
            return str(self.operands[0])
        if not self.operands:
            return self.kind
        return f"{self.kind}({','.join(map(str, self.operands))})"


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One event code a driver records, with the source of each of its parameters."""

    info: EventInfo
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Syscall:
    """One x86_64 syscall: number, name, PPM_SC code and the events recorded for it."""

    nr: int
    name: str
    sc: int
    enter: RecordedEvent
    exit: RecordedEvent

    @property
    def generic(self) -> bool:
        return self.enter.info.code == 0


@dataclass(frozen=True, slots=True)
class Converter:
    """Kernel value -> PPM value for one flag table.

    ``kind`` is ``same``, ``bits`` or ``enum``. ``entries`` are (name, kernel value, mask, PPM
    value): for ``bits``, mask 0 means "all bits of the kernel value set", otherwise
    ``value & mask == kernel value``; for ``enum`` the mask is unused. ``default`` is the PPM
    value of unknown enum values.
    """

    table: str
    kind: str
    entries: tuple[tuple[str, int, int, int], ...] = ()
    default: int = 0

    def convert(self, value: int) -> int:
        """The conversion the generated C performs (used by tests)."""
        if self.kind == "same":
            return value
        if self.kind == "enum":
            for _name, kval, _mask, ppm in self.entries:
                if value == kval:
                    return ppm
            return self.default
        out = 0
        for _name, kval, mask, ppm in self.entries:
            if (value & mask) == kval if mask else (value & kval) == kval:
                out |= ppm
        return out


# ----------------------------------------------------------------------------- parsing


def _entries(text: str) -> list[list[str]]:
    entries: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            if not entries:
                raise EventTableError(f"continuation line without an entry: {line!r}")
            entries[-1].extend(line.split())
        else:
            entries.append(line.split())
    return entries


def _ppm_value(table: str, name: str) -> int:
    for entry, value in TABLES[table]:
        if entry == name:
            return value
    raise EventTableError(f"converter {table}: no entry {name!r} in the flag table")


def _parse_converters(text: str) -> dict[str, Converter]:
    out: dict[str, Converter] = {}
    for tokens in _entries(text):
        table, kind, *rest = tokens
        if table not in TABLES:
            raise EventTableError(f"converter for unknown flag table {table!r}")
        if kind == "same":
            if rest:
                raise EventTableError(f"converter {table}: 'same' takes nothing")
            out[table] = Converter(table, "same")
            continue
        default = 0
        if kind == "enum":
            default = _ppm_value(table, rest.pop(0))
        elif kind != "bits":
            raise EventTableError(f"converter {table}: unknown kind {kind!r}")
        entries = []
        mask = 0
        it = iter(rest)
        for tok in it:
            if tok == "field":
                mask = int(next(it), 0)
                continue
            name, sep, kval = tok.partition("=")
            if not sep:
                # a field ends at the first entry that is not NAME=value within it
                raise EventTableError(f"converter {table}: bad entry {tok!r}")
            k = int(kval, 0)
            if mask and k & ~mask:
                mask = 0  # past the field: ordinary bits again
            entries.append((name, k, mask, _ppm_value(table, name)))
        out[table] = Converter(table, kind, tuple(entries), default)
    return out


def _operand(tok: str, where: str) -> Operand:
    if tok == "ret":
        return Operand("ret")
    if len(tok) == 2 and tok[0] == "a" and tok[1] in "012345":
        return Operand("arg", int(tok[1]))
    try:
        value = int(tok, 0)
    except ValueError:
        raise EventTableError(f"{where}: bad operand {tok!r}") from None
    if not 0 <= value < 128:
        raise EventTableError(f"{where}: constant {value} outside 0..127")
    return Operand("const", value)


def _source(tok: str, param: ParamInfo, where: str, converters: dict[str, Converter]) -> Source:
    name, paren, rest = tok.partition("(")
    if paren or name in SPECIALS:
        if paren and not rest.endswith(")"):
            raise EventTableError(f"{where}: bad source {tok!r}")
        if name not in SPECIALS:
            raise EventTableError(f"{where}: unknown special {name!r}")
        kind, lo, hi, _doc = SPECIALS[name]
        ops = tuple(_operand(t, where) for t in rest[:-1].split(",")) if paren else ()
        if not lo <= len(ops) <= hi:
            raise EventTableError(f"{where}: {name} takes {lo}..{hi} operands, got {len(ops)}")
        if kind == "num" and param.type not in NUM_WIDTH:
            raise EventTableError(f"{where}: number special {name} for a {param.type.name}")
        if kind == "buf" and param.type not in _BUF_TYPES:
            raise EventTableError(f"{where}: buffer special {name} for a {param.type.name}")
        if kind == "dyn" and param.type is not PT.DYN:
            raise EventTableError(f"{where}: DYN special {name} for a {param.type.name}")
        return Source(name, ops)
    op = _operand(tok, where)
    if param.type in STRING_TYPES:
        if op.kind != "arg":
            raise EventTableError(f"{where}: a string comes from an argument, not {tok!r}")
        return Source("string", (op,))
    if param.type not in NUM_WIDTH:
        raise EventTableError(f"{where}: {param.type.name} parameter needs a special, got {tok!r}")
    conv = None
    if op.kind == "arg" and isinstance(param.info, str):
        if param.info not in converters:
            raise EventTableError(f"{where}: no converter declared for flag table {param.info!r}")
        conv = param.info if converters[param.info].kind != "same" else None
    return Source("value", (op,), conv)


def _recorded(info: EventInfo | None, tokens: list[str], where: str,
              converters: dict[str, Converter]) -> RecordedEvent:
    if info is None:
        raise EventTableError(f"{where}: event unknown to sysdig 0.29.3")
    if len(tokens) != len(info.params):
        raise EventTableError(f"{where}: {len(tokens)} sources for the {len(info.params)} "
                              f"parameters sysdig 0.29.3 declares for {info.symbol}")
    sources = tuple(_source(t, p, f"{where} {p.name}", converters)
                    for t, p in zip(tokens, info.params))
    args = [i for i, s in enumerate(sources) if s.kind == "args"]
    for i in args:
        if i == 0 or sources[i - 1].kind != "exe":
            raise EventTableError(f"{where}: 'args' must follow 'exe'")
    return RecordedEvent(info, sources)


@cache
def _codes_by_symbol() -> dict[str, int]:
    out: dict[str, int] = {}
    for code in range(SYSDIG_029_NUM_EVENTS):
        info = sysdig_029_event_info(code)
        assert info is not None
        out.setdefault(info.symbol, code)
    return out


def _generic(sc: int) -> tuple[RecordedEvent, RecordedEvent]:
    enter, exit_ = sysdig_029_event_info(0), sysdig_029_event_info(1)
    assert enter is not None and exit_ is not None
    return (RecordedEvent(enter, tuple(Source(s) for s in ("sc", "nr")[:len(enter.params)])),
            RecordedEvent(exit_, tuple(Source(s) for s in ("sc",)[:len(exit_.params)])))


def _parse_syscalls(text: str, converters: dict[str, Converter]) -> tuple[Syscall, ...]:
    sc_codes = {name: code for code, name in enumerate(SYSCALL_NAMES)}
    by_symbol = _codes_by_symbol()
    out: list[Syscall] = []
    seen: set[int] = set()
    for tokens in _entries(text):
        nr, name, *rest = tokens
        where = f"syscall {nr} {name}"
        number = int(nr)
        if number in seen or (out and number < out[-1].nr):
            raise EventTableError(f"{where}: duplicate or out of order")
        seen.add(number)
        sc = sc_codes.get(name, 0)
        if sc >= len(SYSCALL_INFO):
            sc = 0  # unknown to sysdig 0.29.3 (see the module docstring)
        if not rest:
            enter, exit_ = _generic(sc)
        else:
            symbol, *sources = rest
            if ">" not in sources or "<" not in sources or sources[0] != ">":
                raise EventTableError(f"{where}: expected '<event> > sources < sources'")
            split = sources.index("<")
            code_e = by_symbol.get(symbol + "_E")
            code_x = by_symbol.get(symbol + "_X")
            if code_e is None or code_x != code_e + 1:
                raise EventTableError(f"{where}: no event pair {symbol}_E/_X in sysdig 0.29.3")
            enter = _recorded(sysdig_029_event_info(code_e), sources[1:split], where, converters)
            exit_ = _recorded(sysdig_029_event_info(code_x), sources[split + 1:], where, converters)
        out.append(Syscall(number, name, sc, enter, exit_))
    return tuple(out)


def _parse_tracepoints(text: str, converters: dict[str, Converter]) -> dict[str, RecordedEvent]:
    by_symbol = _codes_by_symbol()
    out: dict[str, RecordedEvent] = {}
    for tokens in _entries(text):
        name, symbol, *sources = tokens
        code = by_symbol.get(symbol)
        if code is None:
            raise EventTableError(f"tracepoint {name}: no event {symbol} in sysdig 0.29.3")
        out[name] = _recorded(sysdig_029_event_info(code), sources, f"tracepoint {name}",
                              converters)
    return out


#: Flag table name -> how the drivers convert kernel values to it.
CONVERTERS: dict[str, Converter] = _parse_converters(_CONVERTERS)
#: Every x86_64 syscall, by number order.
SYSCALLS_X86_64: tuple[Syscall, ...] = _parse_syscalls(_X86_64, CONVERTERS)
#: Size of the syscall routing table (one past the highest x86_64 syscall number).
SYSCALL_TABLE_SIZE: int = SYSCALLS_X86_64[-1].nr + 1
#: Events recorded from tracepoints rather than syscalls.
TRACEPOINT_EVENTS: dict[str, RecordedEvent] = _parse_tracepoints(_TRACEPOINTS, CONVERTERS)


def syscall_by_name(name: str) -> Syscall | None:
    """The x86_64 syscall of that name, or None."""
    for sc in SYSCALLS_X86_64:
        if sc.name == name:
            return sc
    return None


def recorded_events() -> dict[int, RecordedEvent]:
    """Every event code the drivers record, with its sources (one declaration per code).

    Raises EventTableError when two syscalls sharing an event code declare different sources.
    """
    out: dict[int, RecordedEvent] = {}
    items = [ev for sc in SYSCALLS_X86_64 for ev in (sc.enter, sc.exit)]
    items.extend(TRACEPOINT_EVENTS.values())
    for ev in items:
        code = ev.info.code
        if code in out and code > 1 and out[code].sources != ev.sources:
            # generic events share sources; others must agree (they share one param table)
            raise EventTableError(f"{ev.info.symbol}: syscalls sharing it declare different "
                                  f"sources ({'; '.join(map(str, out[code].sources))} vs "
                                  f"{'; '.join(map(str, ev.sources))})")
        out.setdefault(code, ev)
    return out
