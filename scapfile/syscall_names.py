"""Names of the system-independent syscall codes (libs' PPM_SC_* numbering).

Generic events (``syscall`` enter/exit) carry such a code in their ``ID`` parameter. Codes are
only ever appended, so the current list decodes old files too.

Syntax of ``_SYSCALLS``
-----------------------
One line per code, in order from 0::

    <code> <name> [<category> <flags> [<sysdig 0.29.3 name>]]

``name`` is the lower-case name current libs print. The optional columns hold what the syscall
info table of sysdig 0.29.3 (libs commit e5c53d64, 2022) declares for the codes it knows:
the category and flags (same tokens as in ``event_table``) and, only when it differs from the
current one, the name sysdig 0.29.3 prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from .event_table import EC, EF, EventTableError, _category, _flags

_SYSCALLS = """
0   unknown                 other      - <unknown>
1   restart_syscall         system     -
2   exit                    process    -
3   read                    io_read    drop_simple_cons
4   write                   io_write   drop_simple_cons
5   open                    file       -
6   close                   file       drop_simple_cons
7   creat                   file       -
8   link                    file       -
9   unlink                  file       -
10  chdir                   file       -
11  time                    time       drop_simple_cons
12  mknod                   file       -
13  chmod                   file       -
14  stat                    file       drop_simple_cons
15  lseek                   file       drop_simple_cons
16  getpid                  process    drop_simple_cons
17  mount                   file       -
18  ptrace                  other      -
19  alarm                   time       drop_simple_cons
20  fstat                   file       drop_simple_cons
21  pause                   wait       drop_simple_cons
22  utime                   time       -
23  access                  file       drop_simple_cons
24  sync                    io_other   -
25  kill                    ipc        -
26  rename                  file       -
27  mkdir                   file       -
28  rmdir                   file       -
29  dup                     io_other   -
30  pipe                    ipc        -
31  times                   time       drop_simple_cons
32  brk                     memory     drop_simple_cons
33  acct                    process    -
34  ioctl                   io_other   -
35  fcntl                   wait       drop_simple_cons
36  setpgid                 process    -
37  umask                   process    drop_simple_cons
38  chroot                  ipc        -
39  ustat                   file       drop_simple_cons
40  dup2                    io_other   -
41  getppid                 process    drop_simple_cons
42  getpgrp                 process    drop_simple_cons
43  setsid                  process    -
44  sethostname             system     -
45  setrlimit               process    drop_simple_cons
46  getrusage               process    drop_simple_cons
47  gettimeofday            time       drop_simple_cons
48  settimeofday            time       drop_simple_cons
49  symlink                 file       -
50  lstat                   file       drop_simple_cons
51  readlink                file       -
52  uselib                  process    -
53  swapon                  process    -
54  reboot                  system     -
55  mmap                    file       drop_simple_cons
56  munmap                  file       drop_simple_cons
57  truncate                file       -
58  ftruncate               file       -
59  fchmod                  file       -
60  getpriority             process    drop_simple_cons
61  setpriority             process    -
62  statfs                  file       drop_simple_cons
63  fstatfs                 file       drop_simple_cons
64  syslog                  system     -
65  setitimer               time       drop_simple_cons
66  getitimer               time       drop_simple_cons
67  uname                   system     drop_simple_cons
68  vhangup                 other      -
69  wait4                   wait       drop_simple_cons
70  swapoff                 system     -
71  sysinfo                 system     -
72  fsync                   io_other   drop_simple_cons
73  setdomainname           system     -
74  adjtimex                system     -
75  mprotect                memory     drop_simple_cons
76  init_module             system     -
77  delete_module           system     -
78  quotactl                system     -
79  getpgid                 process    drop_simple_cons
80  fchdir                  file       -
81  sysfs                   system     -
82  personality             process    -
83  getdents                file       drop_simple_cons
84  select                  wait       drop_simple_cons
85  flock                   file       -
86  msync                   io_other   -
87  readv                   io_read    drop_simple_cons
88  writev                  io_write   drop_simple_cons
89  getsid                  process    drop_simple_cons
90  fdatasync               io_other   drop_simple_cons
91  mlock                   memory     drop_simple_cons
92  munlock                 memory     drop_simple_cons
93  mlockall                memory     drop_simple_cons
94  munlockall              memory     drop_simple_cons
95  sched_setparam          process    -
96  sched_getparam          process    drop_simple_cons
97  sched_setscheduler      process    -
98  sched_getscheduler      process    drop_simple_cons
99  sched_yield             sleep      drop_simple_cons
100 sched_get_priority_max  process    drop_simple_cons
101 sched_get_priority_min  process    drop_simple_cons
102 sched_rr_get_interval   process    -
103 nanosleep               sleep      drop_simple_cons
104 mremap                  file       drop_simple_cons
105 poll                    wait       drop_simple_cons
106 prctl                   process    -
107 rt_sigaction            signal     drop_simple_cons
108 rt_sigprocmask          signal     drop_simple_cons
109 rt_sigpending           signal     drop_simple_cons
110 rt_sigtimedwait         signal     drop_simple_cons
111 rt_sigqueueinfo         signal     -
112 rt_sigsuspend           signal     drop_simple_cons
113 getcwd                  file       drop_simple_cons
114 capget                  process    drop_simple_cons
115 capset                  process    -
116 sendfile                file       drop_simple_cons
117 getrlimit               process    drop_simple_cons
118 lchown                  file       -
119 getuid                  user       drop_simple_cons
120 getgid                  user       drop_simple_cons
121 geteuid                 user       drop_simple_cons
122 getegid                 user       drop_simple_cons
123 setreuid                user       -
124 setregid                user       -
125 getgroups               user       drop_simple_cons
126 setgroups               user       -
127 fchown                  file       -
128 setresuid               user       -
129 getresuid               user       drop_simple_cons
130 setresgid               user       -
131 getresgid               user       drop_simple_cons
132 chown                   file       -
133 setuid                  user       -
134 setgid                  user       -
135 setfsuid                user       -
136 setfsgid                user       -
137 pivot_root              process    -
138 mincore                 memory     drop_simple_cons
139 madvise                 memory     drop_simple_cons
140 gettid                  process    drop_simple_cons
141 setxattr                file       -
142 lsetxattr               file       -
143 fsetxattr               file       -
144 getxattr                file       drop_simple_cons
145 lgetxattr               file       drop_simple_cons
146 fgetxattr               file       drop_simple_cons
147 listxattr               file       drop_simple_cons
148 llistxattr              file       drop_simple_cons
149 flistxattr              file       drop_simple_cons
150 removexattr             file       -
151 lremovexattr            file       -
152 fremovexattr            file       -
153 tkill                   signal     -
154 futex                   ipc        drop_simple_cons
155 sched_setaffinity       process    -
156 sched_getaffinity       process    drop_simple_cons
157 set_thread_area         process    -
158 get_thread_area         process    drop_simple_cons
159 io_setup                io_other   drop_simple_cons
160 io_destroy              io_other   drop_simple_cons
161 io_getevents            io_other   drop_simple_cons
162 io_submit               io_other   drop_simple_cons
163 io_cancel               io_other   drop_simple_cons
164 exit_group              io_other   drop_simple_cons
165 epoll_create            wait       drop_simple_cons
166 epoll_ctl               wait       drop_simple_cons
167 epoll_wait              wait       drop_simple_cons
168 remap_file_pages        file       drop_simple_cons
169 set_tid_address         process    -
170 timer_create            time       drop_simple_cons
171 timer_settime           time       drop_simple_cons
172 timer_gettime           time       drop_simple_cons
173 timer_getoverrun        time       drop_simple_cons
174 timer_delete            time       drop_simple_cons
175 clock_settime           time       drop_simple_cons
176 clock_gettime           time       drop_simple_cons
177 clock_getres            time       drop_simple_cons
178 clock_nanosleep         sleep      drop_simple_cons
179 tgkill                  signal     -
180 utimes                  file       -
181 mq_open                 ipc        -
182 mq_unlink               ipc        -
183 mq_timedsend            ipc        drop_simple_cons
184 mq_timedreceive         ipc        drop_simple_cons
185 mq_notify               ipc        drop_simple_cons
186 mq_getsetattr           ipc        drop_simple_cons
187 kexec_load              system     -
188 waitid                  wait       drop_simple_cons
189 add_key                 system     -
190 request_key             system     -
191 keyctl                  system     -
192 ioprio_set              process    drop_simple_cons
193 ioprio_get              process    drop_simple_cons
194 inotify_init            ipc        -
195 inotify_add_watch       ipc        -
196 inotify_rm_watch        ipc        -
197 openat                  file       -
198 mkdirat                 file       -
199 mknodat                 file       -
200 fchownat                file       -
201 futimesat               file       -
202 unlinkat                file       -
203 renameat                file       -
204 linkat                  file       -
205 symlinkat               file       -
206 readlinkat              file       -
207 fchmodat                file       -
208 faccessat               file       -
209 pselect6                wait       drop_simple_cons
210 ppoll                   wait       drop_simple_cons
211 unshare                 process    -
212 set_robust_list         process    -
213 get_robust_list         process    drop_simple_cons
214 splice                  ipc        drop_simple_cons
215 tee                     ipc        drop_simple_cons
216 vmsplice                ipc        drop_simple_cons
217 getcpu                  process    drop_simple_cons
218 epoll_pwait             wait       drop_simple_cons
219 utimensat               file       -
220 signalfd                signal     drop_simple_cons
221 timerfd_create          time       drop_simple_cons
222 eventfd                 ipc        drop_simple_cons
223 timerfd_settime         time       drop_simple_cons
224 timerfd_gettime         time       drop_simple_cons
225 signalfd4               signal     drop_simple_cons
226 eventfd2                ipc        drop_simple_cons
227 epoll_create1           wait       drop_simple_cons
228 dup3                    io_other   -
229 pipe2                   ipc        -
230 inotify_init1           ipc        -
231 preadv                  io_read    drop_simple_cons
232 pwritev                 io_write   drop_simple_cons
233 rt_tgsigqueueinfo       other      -
234 perf_event_open         other      -
235 fanotify_init           ipc        -
236 prlimit64               process    -
237 clock_adjtime           other      -
238 syncfs                  file       -
239 setns                   process    -
240 getdents64              ipc        drop_simple_cons
241 socket                  net        -
242 bind                    net        -
243 connect                 net        -
244 listen                  net        -
245 accept                  net        -
246 getsockname             net        drop_simple_cons
247 getpeername             net        drop_simple_cons
248 socketpair              net        -
249 sendto                  net        -
250 recvfrom                net        -
251 shutdown                net        drop_simple_cons
252 setsockopt              net        -
253 getsockopt              net        drop_simple_cons
254 sendmsg                 net        -
255 sendmmsg                net        drop_simple_cons
256 recvmsg                 net        -
257 recvmmsg                net        drop_simple_cons
258 accept4                 net        -
259 semop                   ipc        drop_simple_cons
260 semget                  ipc        drop_simple_cons
261 semctl                  ipc        drop_simple_cons
262 msgsnd                  ipc        drop_simple_cons
263 msgrcv                  ipc        drop_simple_cons
264 msgget                  ipc        drop_simple_cons
265 msgctl                  ipc        -
266 shmdt                   ipc        -
267 shmget                  ipc        -
268 shmctl                  ipc        -
269 statfs64                file       drop_simple_cons
270 fstatfs64               file       drop_simple_cons
271 fstatat64               file       drop_simple_cons
272 sendfile64              file       drop_simple_cons
273 ugetrlimit              process    drop_simple_cons
274 bdflush                 other      -
275 sigprocmask             signal     drop_simple_cons
276 ipc                     ipc        -
277 socketcall              net        -
278 stat64                  file       drop_simple_cons
279 lstat64                 file       drop_simple_cons
280 fstat64                 file       drop_simple_cons
281 fcntl64                 file       drop_simple_cons
282 mmap2                   file       drop_simple_cons
283 _newselect              wait       drop_simple_cons newselect
284 sgetmask                signal     drop_simple_cons
285 ssetmask                signal     -
286 sigpending              signal     drop_simple_cons
287 olduname                system     drop_simple_cons
288 umount                  file       -
289 signal                  signal     -
290 nice                    process    -
291 stime                   time       -
292 _llseek                 file       drop_simple_cons llseek
293 waitpid                 wait       drop_simple_cons
294 pread64                 file       drop_simple_cons
295 pwrite64                file       drop_simple_cons
296 arch_prctl              process    -
297 shmat                   ipc        -
298 rt_sigreturn            signal     drop_simple_cons sigreturn
299 fallocate               io_other   -
300 newfstatat              io_other   drop_simple_cons
301 process_vm_readv        io_other   -
302 process_vm_writev       io_other   -
303 fork                    io_other   -
304 vfork                   io_other   -
305 setuid32                io_other   - setuid
306 getuid32                io_other   drop_simple_cons getuid
307 setgid32                io_other   - setgid
308 geteuid32               io_other   drop_simple_cons geteuid
309 getgid32                io_other   drop_simple_cons getgid
310 setresuid32             io_other   - setresuid
311 setresgid32             io_other   drop_simple_cons setresgid
312 getresuid32             io_other   drop_simple_cons getresuid
313 getresgid32             io_other   drop_simple_cons getresgid
314 finit_module            system     -
315 bpf                     other      -
316 seccomp                 other      -
317 sigaltstack             io_other   -
318 getrandom               io_other   -
319 fadvise64               io_other   -
320 renameat2               file       -
321 userfaultfd             file       -
322 openat2                 file       -
323 umount2                 file       -
324 execve                  system     -
325 execveat                system     -
326 copy_file_range         file       -
327 clone                   process    -
328 clone3                  process    -
329 open_by_handle_at
330 io_uring_setup
331 io_uring_enter
332 io_uring_register
333 mlock2
334 getegid32
335 fsconfig
336 fspick
337 fsmount
338 fsopen
339 open_tree
340 move_mount
341 mount_setattr
342 memfd_create
343 memfd_secret
344 ioperm
345 kexec_file_load
346 pidfd_getfd
347 pidfd_open
348 pidfd_send_signal
349 pkey_alloc
350 pkey_mprotect
351 pkey_free
352 landlock_create_ruleset
353 quotactl_fd
354 landlock_restrict_self
355 landlock_add_rule
356 epoll_pwait2
357 migrate_pages
358 move_pages
359 preadv2
360 pwritev2
361 kcmp
362 sched_setattr
363 mbind
364 epoll_ctl_old
365 lookup_dcookie
366 modify_ldt
367 statx
368 set_mempolicy
369 io_pgetevents
370 set_mempolicy_home_node
371 semtimedop
372 get_kernel_syms
373 readahead
374 futex_waitv
375 getpmsg
376 name_to_handle_at
377 process_mrelease
378 nfsservctl
379 epoll_wait_old
380 rseq
381 create_module
382 na_1
383 sched_getattr
384 faccessat2
385 _sysctl
386 query_module
387 get_mempolicy
388 sync_file_range
389 process_madvise
390 membarrier
391 iopl
392 close_range
393 fanotify_mark
394 recv
395 send
396 sched_process_exit
397 sched_switch
398 page_fault_user
399 page_fault_kernel
400 signal_deliver
401 timerfd
402 s390_pci_mmio_read
403 sigaction
404 s390_pci_mmio_write
405 readdir
406 s390_sthyi
407 sigsuspend
408 idle
409 s390_runtime_instr
410 sigreturn
411 s390_guarded_storage
412 cachestat
413 fchmodat2
414 map_shadow_stack
415 riscv_flush_icache
416 riscv_hwprobe
417 futex_wake
418 futex_requeue
419 futex_wait
420 oldstat
421 switch_endian
422 multiplexer
423 oldlstat
424 spu_create
425 sync_file_range2
426 oldfstat
427 spu_run
428 swapcontext
429 pciconfig_write
430 rtas
431 pciconfig_read
432 sys_debug_setcontext
433 vm86
434 oldolduname
435 subpage_prot
436 pciconfig_iobase
437 listmount
438 statmount
439 lsm_get_self_attr
440 lsm_set_self_attr
441 lsm_list_modules
442 mseal
443 uretprobe
444 removexattrat
445 listxattrat
446 getxattrat
447 setxattrat
448 open_tree_attr
449 file_getattr
450 file_setattr
451 listns
452 uprobe
453 rseq_slice_yield
"""


@dataclass(frozen=True, slots=True)
class SyscallInfo:
    """What sysdig 0.29.3's syscall info table says about one PPM_SC code."""

    name: str
    category: EC
    flags: EF


def _parse(text: str) -> tuple[tuple[str, ...], tuple[SyscallInfo, ...]]:
    names: list[str] = []
    old: list[SyscallInfo] = []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        code, name, *rest = tokens
        if int(code) != len(names):
            raise EventTableError(f"syscall code {code} out of order (expected {len(names)})")
        names.append(name)
        if rest:
            if len(old) != len(names) - 1 or len(rest) not in (2, 3):
                raise EventTableError(f"bad syscall line {line!r}")
            old.append(SyscallInfo(rest[2] if len(rest) == 3 else name,
                                   _category(rest[0]), _flags(rest[1])))
    return tuple(names), tuple(old)


#: PPM_SC code -> lower-case syscall name (current libs).
SYSCALL_NAMES: tuple[str, ...]
#: PPM_SC code -> sysdig 0.29.3's info (name it prints, category, flags), for its 329 codes.
SYSCALL_INFO: tuple[SyscallInfo, ...]
SYSCALL_NAMES, SYSCALL_INFO = _parse(_SYSCALLS)


def syscall_name(code: int) -> str | None:
    """Current name of a PPM_SC code, or None when the code is unknown."""
    return SYSCALL_NAMES[code] if 0 <= code < len(SYSCALL_NAMES) else None


def sysdig_029_syscall_name(code: int) -> str | None:
    """The name sysdig 0.29.3 prints for a PPM_SC code (None beyond its table)."""
    return SYSCALL_INFO[code].name if 0 <= code < len(SYSCALL_INFO) else None
