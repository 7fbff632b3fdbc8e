#line 2 "fastread.c"
/*
 * fastread.c - the C half of scapkit.inspect.fastread (compiled by cffi, API mode).
 *
 * fr_run() walks a window of consecutive .scap blocks with the checks of
 * CaptureReader (as cscan.c does) and, for each event, does what
 * StateEngine.process() and the read loop of Listing.lines() do, writing the line
 * sysdig's default format prints (text or JSON) to an output buffer; fr_event() does
 * the same for one event the reader read itself. It handles the events whose state
 * effects it implements: the per-thread bookkeeping of every event, the handlers of
 * the common file and socket syscalls (open, close, data transfer with the socket role
 * guessed as sinsp does, socket, connect, bind, accept, pipe, dup, fcntl, getsockopt,
 * rlimit, memory, switch), and the process ones (clone, fork, vfork and clone3 exits,
 * execve exits, procexit and the removal of the thread that exited), and judges
 * filters on the fields it knows (fastfilter.py). At any other event, or any case
 * those handlers leave to code not ported here, it stops *before changing anything*,
 * and the Python engine processes that event.
 *
 * The state lives in the Python engine (StateEngine). This side keeps a cache of what
 * it reads (a thread's comm, cwd, fd table, flags, thread count and bookkeeping; whole
 * fds), filled by callbacks into Python that make the calls the Python engine would
 * make at that point (so their side effects, such as placeholder threads, happen as
 * they would), and a record of what it changed, which Python applies before it
 * processes an event itself (or when the record grows long):
 *
 * - per-thread bookkeeping and the final state of each fd changed (fr_export);
 * - before those, the change log (fr_log): the thread operations in the order they
 *   happened -- a placeholder made, a clone (its handler runs in Python, on the state
 *   as it was), an execve (the same, with its enter event), a thread removed -- with
 *   the fd changes made before each clone written ahead of it.
 *
 * Until Python applied the log, its thread table is behind for the threads made or
 * removed here (born, gone): a lookup whose answer would depend on them stops the run
 * (FR_SYNC) and the event is read again once Python caught up. A thread made and
 * removed within one log is dropped from it when nothing else needs it (its records
 * are marked cancelled): Python never sees it. After Python processed an event, the
 * cache forgets the threads and fd tables Python reached (fr_forget), or all of it
 * (fr_invalidate).
 *
 * The tables (event flags, kinds, render plans, flag tables, names) are built in
 * Python from the declarations the Python path uses (fasttables.py); the few fixed
 * numbers below (fd types, fd flags, protocols) are checked against the Python
 * enums there. Little-endian hosts only.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- cdef begin: fastread.py hands this part to ffi.cdef() ------------------ */

#define FR_MORE 0      /* window ends before the next complete block */
#define FR_NONEVENT 1  /* next block is not an event block */
#define FR_INVALID 2   /* next block fails a reader check: Python reports it */
#define FR_SLOW 3      /* next event needs the Python engine */
#define FR_PAUSE 4     /* the output is full: take it, then call again */
#define FR_COUNT 5     /* the -n count was reached */
#define FR_ERROR 6     /* a callback failed (the Python exception is kept there) */
#define FR_REMOVE 7    /* a thread exited: Python removes it before the next event */
#define FR_SYNC 8      /* Python must apply the change log (fr_log, fr_export), then call
                          again: the next event reads what Python has */
#define FR_GONE 9      /* fr_run_mapped: the mapped file shrank under it (SIGBUS); out_pos
                          is the block it was reading, the output ends before its line */

/* Event kinds: which state handler an event code runs (fasttables.py). */
#define FK_SLOW 0
#define FK_PLAIN 1
#define FK_MEMORY 2
#define FK_SWITCH 3
#define FK_TRANSFER 4
#define FK_CLOSE_E 5
#define FK_CLOSE_X 6
#define FK_OPEN_X 7
#define FK_CREAT_X 8
#define FK_OPENAT_X 9
#define FK_OPENAT2_X 10
#define FK_SOCKET_X 11
#define FK_SENDTO_E 12
#define FK_CONNECT_E 13
#define FK_CONNECT_X 14
#define FK_BIND_X 15
#define FK_ACCEPT_X 16
#define FK_GETSOCKOPT_X 17
#define FK_FCNTL_E 18
#define FK_FCNTL_X 19
#define FK_PIPE_X 20
#define FK_DUP_X 21
#define FK_RLIMIT_X 22
#define FK_PROCEXIT 23
#define FK_CLONE_X 24
#define FK_EXECVE_X 25

/* Parameter renderers (render.py's _r_* functions). */
#define RK_SIGNED 1
#define RK_UNSIGNED 2
#define RK_ERRNO 3
#define RK_FD 4
#define RK_PID 5
#define RK_CHARBUF 6
#define RK_PATH 7
#define RK_BYTEBUF 8
#define RK_SOCKADDR 9
#define RK_SOCKTUPLE 10
#define RK_FDLIST 11
#define RK_SYSCALLID 12
#define RK_SIGTYPE 13
#define RK_RELTIME 14
#define RK_FLAGS 15
#define RK_MODE 16
#define RK_UID 17
#define RK_GID 18
#define RK_CHARBUFARRAY 19
#define RK_PAIRS 20
#define RK_SIGSET 21
#define RK_CONST 22
#define RK_DYN 23

/* Named arguments the handlers read (columns of fr_tables.argidx). */
#define FA_RES 0
#define FA_FD 1
#define FA_NAME 2
#define FA_FLAGS 3
#define FA_DEV 4
#define FA_DIRFD 5
#define FA_VM_SIZE 6
#define FA_VM_RSS 7
#define FA_VM_SWAP 8
#define FA_PGFT_MAJ 9
#define FA_PGFT_MIN 10
#define FA_TUPLE 11
#define FA_ADDR 12
#define FA_DOMAIN 13
#define FA_TYPE 14
#define FA_PROTO 15
#define FA_CMD 16
#define FA_INO 17
#define FA_FD1 18
#define FA_FD2 19
#define FA_RESOURCE 20
#define FA_CUR 21
#define FA_REAPER 22
#define FA_PID 23
#define FA_VTID 24
#define FA_COMM 25
#define FA_EXE 26
#define FA_FDLIMIT 27
#define FA_UID 28
#define FR_NARGS 29

/* Write-back operations on fd tables. */
#define OP_ADD_FD 1    /* table.add(fd, FdInfo(...)) */
#define OP_REMOVE_FD 2 /* table.remove(fd) */
#define OP_PUT_FD 3    /* the existing entry gets every field */

struct fr_spec {
    int32_t kind;
    int32_t size;    /* integers, flags: bytes */
    int32_t fmt;     /* PF value */
    int32_t table;   /* flag table id, or -1 */
    int32_t a;       /* RK_PATH: dirfd parameter or -1; RK_CONST: string; RK_DYN: first alt;
                        RK_FLAGS: 1 flags, 2 enum */
    int32_t b;       /* RK_DYN: number of alternatives */
};

struct fr_tables {
    uint32_t num_events;
    uint32_t tracer_e;           /* TRACER_E: a thread's last event after a tracer */
    const uint8_t *large;        /* [num_events] 32-bit parameter lengths */
    const uint32_t *eflags;      /* [num_events] flags of the effective (sysdig 0.29.3) info */
    const uint8_t *kind;         /* [num_events] FK_* */
    const uint8_t *stored;       /* [num_events] enter event kept for its exit */
    const uint8_t *internal;     /* [num_events] hidden unless -D */
    const uint8_t *generic;      /* [num_events] generic syscall event */
    const uint16_t *special;     /* [num_events] SP_* bits */
    const uint32_t *tname;       /* [num_events] string: event name sysdig prints */
    const uint32_t *plan_start;  /* [num_events] render plan (effective info params) */
    const uint8_t *plan_count;   /* [num_events]; 255: no plan */
    const int32_t *plan_spec;
    const uint32_t *plan_name;
    const uint32_t *cur_start;   /* [num_events] current table parameters */
    const uint8_t *cur_count;
    const uint8_t *cur_dec;      /* how decode_param reads it as an int: 0 not an int;
                                    else size | 0x10 signed | 0x20 uid/gid (~0 is None) */
    const int8_t *argidx;        /* [num_events * FR_NARGS] current-table index or -1 */
    uint32_t num_specs;
    const struct fr_spec *specs;
    const uint32_t *ftab_start;  /* flag tables: entries [start, start+count) */
    const uint32_t *ftab_count;
    const uint32_t *fent_name;
    const uint64_t *fent_value;
    uint32_t num_syscalls;       /* SYSCALL_INFO size (SYSCALLID params) */
    const uint32_t *sc_name;     /* [num_syscalls] sysdig 0.29.3 name */
    uint32_t num_sc_type;
    const uint32_t *sc_type;     /* evt.type of a generic event by syscall id */
    uint32_t num_errno;
    const uint32_t *errno_name;  /* positive errno -> name */
    uint32_t num_signal;
    const uint32_t *signal_name;
    const uint8_t *blob;         /* strings: u16 length then bytes; ~0 = none */
    /* v1 event blocks: reader._v1_param_count */
    const uint8_t *v1_trim3;     /* [num_events] payload stored 3 bytes too long */
    const uint32_t *cand_start;  /* [num_events] */
    const uint32_t *cand_count;
    const uint32_t *cands;
};

/* Filters (fastfilter.py): nodes, children lists, values. */
#define FN_AND 0
#define FN_OR 1
#define FN_NOT 2
#define FN_CMP 3
#define FF_EVT_TYPE 0
#define FF_EVT_DIR 1
#define FF_PROC_NAME 2
#define FF_THREAD_TID 3
#define FF_PROC_PID 4
#define FF_EVT_NUM 5
#define FF_EVT_CPU 6
#define FO_EQ 0
#define FO_NE 1
#define FO_LT 2
#define FO_LE 3
#define FO_GT 4
#define FO_GE 5
#define FO_IN 6
#define FO_EXISTS 7
#define FO_CONTAINS 8
#define FO_ICONTAINS 9
#define FO_STARTSWITH 10
#define FO_ENDSWITH 11

struct fr_fnode {
    int32_t kind, field, op;
    int32_t a, b;                /* AND/OR: children kids[a..a+b); NOT: child a;
                                    CMP: values [a, a+b) */
};

struct fr_filter {
    uint32_t nnodes;             /* the root is the last node */
    const struct fr_fnode *nodes;
    const int32_t *kids;
    const uint8_t *const *svals; /* string values */
    const uint32_t *slens;
    const int64_t *ivals;        /* numbers (64-bit patterns; unsigned for evt.num) */
};

/* Per run: what the engine knows of its configuration and the machine. */
struct fr_config {
    uint8_t typechar[32];        /* fd.typechar as parameters show it, by fd type */
    uint32_t n_ipv4, n_ipv6;     /* network interfaces, in capture order */
    const uint8_t *ipv4;         /* n_ipv4 x (addr 4, netmask 4) */
    const uint8_t *ipv6;         /* n_ipv6 x (addr 16, netmask 16) */
};

/* What Python tells about a thread (callback fr_cb_thread). */
struct fr_tfill {
    int32_t exists;
    int32_t safe;                /* every number fits below */
    int64_t pid;
    const uint8_t *comm;
    uint32_t comm_len;
    int64_t lastevent_fd, lastevent_type, latency;
    uint64_t latency_enter_ts;
    int32_t lastevent_valid;
    int32_t enter_type;          /* thread.lastevent's type, -1 for None */
    const uint8_t *enter_data;
    uint32_t enter_len;
    /* what can be known without side effects (else asked for when needed) */
    int32_t main_known;          /* threads.main_thread(thread) needs no new thread */
    int64_t main_tid;
    int32_t cwd_known;           /* threads.cwd(thread) */
    const uint8_t *cwd;
    uint32_t cwd_len;
    int32_t tab_known;           /* threads.fd_table(thread), as fr_cb_fdtab tells it */
    struct fr_tabfill *tab;
    /* what the process handlers read */
    int64_t flags;               /* thread.flags */
    int32_t uid_none;            /* thread.uid == NO_ID */
    int64_t nchilds;
    uint64_t clone_ts;
    int32_t own_is_tab;          /* thread.fdtable is what fd_table(thread) gives */
    int64_t own_len;             /* len(thread.fdtable) */
};

/* What Python tells about an fd table (callbacks fr_cb_thread, fr_cb_fdtab). */
struct fr_tabfill {
    int32_t tab;                 /* index, -1 for none */
    int64_t len;
    int32_t keys_known;          /* keys lists every fd of the table */
    const int64_t *keys;         /* ascending */
    uint32_t nkeys;
};

/* What Python tells about an fd (callback fr_cb_fd). */
struct fr_ffill {
    int32_t exists;
    int32_t safe;                /* every number fits below */
    int64_t type, flags, openflags, dev, mount_id, ino, pid;
    const uint8_t *sock;         /* the 37 bytes of SockInfo */
    const uint8_t *name;
    uint32_t name_len;
};

/* A string handed back by a callback (cwd, user name). */
struct fr_sfill {
    const uint8_t *p;
    uint32_t n;
};

struct fr_engine {
    /* options */
    int32_t json, debug, time_format, buffer_format;  /* time 'h','a','r','d'; buffers 0-4 */
    int64_t max_len;
    int32_t track_connection_status;
    int64_t max_stored_enter, max_path, max_fds_per_thread, max_fds_total;
    int64_t tz_offset;
    uint64_t max_block, max_large_block;
    const struct fr_config *config;
    const struct fr_filter *filter; /* NULL: every event is accepted */
    /* state shared with Python */
    uint64_t num;                /* number of the last event read */
    uint64_t count_left;         /* with counting: events still to receive */
    int32_t counting;
    uint64_t first_ts;
    int64_t rawbuf_len;
    int64_t budget_used;
    int64_t enters_too_large;    /* since the last export */
    uint64_t block_counts[7];
    uint64_t events;             /* events consumed here */
    uint64_t slow_events;        /* events handed to Python */
    /* the fd removal a close exit scheduled, carried out before the next event */
    int32_t rm_pending;
    int64_t rm_tid, rm_fd;
    /* the thread a procexit scheduled for removal (Python removes it: FR_REMOVE) */
    int32_t exit_pending;
    int64_t exit_tid;
    int32_t leading;             /* no event but container events seen yet */
    int32_t phase;               /* 0: before the event changes anything (a callback may
                                    answer "slow"); 1: changing and rendering it */
    /* thread operations (clone, execve, thread removal) */
    int32_t reparent, sysdig_compat;
    int64_t max_threads, max_string;
    int64_t nthreads;            /* len(threads), with this side's changes */
    int32_t tabs_used;           /* fd table indices handed out (by Python or here) */
    int32_t max_tabs;            /* past this many, stop (FR_SYNC): Python starts over */
    uint64_t syncs;              /* diagnostics: runs stopped to let Python catch up */
    uint64_t thread_ops;         /* diagnostics: clone/execve/removals done here */
    char errmsg[160];            /* an internal error (FR_ERROR without a Python one) */
    int32_t slow_line;           /* diagnostics: the check that last sent an event to Python */
    int32_t paramstr_changed;    /* rendered since fr_set_paramstr */
    uint64_t callbacks;          /* diagnostics: lookups in Python */
    size_t out_limit;
    void *handle;                /* the Python driver (callbacks) */
    void *priv;
};

#ifdef FR_CFFI_CDEF /* only cffi sees these: it defines them after this code */
extern "Python" int fr_cb_thread(void *h, int64_t tid, int32_t create, struct fr_tfill *out);
extern "Python" int fr_cb_fdtab(void *h, int64_t tid, struct fr_tabfill *out);
extern "Python" int fr_cb_fd(void *h, int32_t tab, int64_t fd, struct fr_ffill *out);
extern "Python" int fr_cb_cwd(void *h, int64_t tid, struct fr_sfill *out);
extern "Python" int fr_cb_main(void *h, int64_t tid, int64_t *main_tid);
extern "Python" int fr_cb_user(void *h, int64_t id, int32_t group, struct fr_sfill *out);
extern "Python" int fr_cb_count(void *h, int64_t pid, int64_t *count);
#endif

struct fr_engine *fr_new(const struct fr_tables *t);
void fr_free(struct fr_engine *e);
int fr_run(struct fr_engine *e, const uint8_t *buf, size_t pos, size_t end, uint64_t base,
           size_t *out_pos);
int fr_run_mapped(struct fr_engine *e, const uint8_t *map, size_t map_len, size_t pos,
                  size_t end, size_t *out_pos);
const uint8_t *fr_output(struct fr_engine *e, size_t *len);
void fr_output_clear(struct fr_engine *e);
void fr_invalidate(struct fr_engine *e);
void fr_forget(struct fr_engine *e, const int64_t *ids, size_t nids, const int32_t *tabs,
               size_t ntabs);
int fr_set_paramstr(struct fr_engine *e, const uint8_t *p, size_t n);
const uint8_t *fr_paramstr(struct fr_engine *e, size_t *n);
int fr_pending(struct fr_engine *e);
const uint8_t *fr_export(struct fr_engine *e, size_t *len, uint32_t *nthreads,
                         uint32_t *nops);
const uint8_t *fr_log(struct fr_engine *e, size_t *len, uint32_t *nrec);
void fr_export_done(struct fr_engine *e);
int fr_render(struct fr_engine *e, const uint8_t *data, size_t len, uint64_t num,
              uint32_t cpu);
int fr_event(struct fr_engine *e, const uint8_t *data, size_t len, uint64_t num,
             uint64_t offset, uint32_t cpu, uint32_t dflags);
/* --- cdef end -------------------------------------------------------------- */

/* The callbacks are defined by cffi after this code. */
static int fr_cb_thread(void *h, int64_t tid, int32_t create, struct fr_tfill *out);
static int fr_cb_fdtab(void *h, int64_t tid, struct fr_tabfill *out);
static int fr_cb_fd(void *h, int32_t tab, int64_t fd, struct fr_ffill *out);
static int fr_cb_cwd(void *h, int64_t tid, struct fr_sfill *out);
static int fr_cb_main(void *h, int64_t tid, int64_t *main_tid);
static int fr_cb_user(void *h, int64_t id, int32_t group, struct fr_sfill *out);
static int fr_cb_count(void *h, int64_t pid, int64_t *count);

/* Callback results. */
#define CB_OK 0
#define CB_SLOW 1
#define CB_ERROR 2
#define CB_NOCACHE 3  /* an answer valid for this lookup only (a failed lookup that
                         Python would repeat, with its side effects, every time) */
#define CB_SYNC 4     /* (here only) Python must first catch up with the change log */

/* special[] bits (fasttables.SP_*) */
#define SP_CLONE_EXIT 1
#define SP_CONTAINER 2
#define SP_PROCINFO 4
#define SP_SWITCH6 8
#define SP_COPY_FILE_RANGE 16
#define SP_TUPLE 32        /* a transfer that may learn its peer from a tuple */
#define SP_OPENAT_2 64     /* SYSCALL_OPENAT_2_X (dev parameter) */
#define SP_DUP3 128
#define SP_WRITE_X 256     /* SYSCALL_WRITE_X: a write to a tracer fd changes state */
#define SP_RW_EXIT 512     /* a read/write exit: a tracer on a /dev/null fd is Python's */
#define SP_WRITE_E 1024    /* SYSCALL_WRITE_E (hidden on a tracer fd) */
#define SP_CONTAINER_EV 2048  /* a container event (hidden before any other event) */
#define SP_SYSLOG 4096     /* a write that sinsp's syslog decoder reads (to /dev/log) */

/* Fixed numbers of the Python engine (checked by fasttables._check_constants). */
#define T_UNKNOWN 0
#define T_DIRECTORY 2
#define T_IPV4_SOCK 3
#define T_IPV6_SOCK 4
#define T_IPV4_SERVSOCK 5
#define T_IPV6_SERVSOCK 6
#define T_FIFO 7
#define T_UNIX_SOCK 8
#define T_NETLINK 15
#define T_FILE_V2 16
#define F_ROLE_CLIENT (1LL << 2)
#define F_ROLE_SERVER (1LL << 3)
#define F_CLOSE_IN_PROGRESS (1LL << 4)
#define F_CLOSE_CANCELED (1LL << 5)
#define F_TRACER_FILE (1LL << 7)
#define F_NOT_TRACER (1LL << 9)
#define F_CONNECTED (1LL << 13)
#define F_PENDING (1LL << 15)
#define F_FAILED (1LL << 16)
#define F_CONNECTION (F_CONNECTED | F_PENDING | F_FAILED)
#define L4_UNKNOWN 0
#define L4_NA 1
#define L4_TCP 2
#define L4_UDP 3
#define L4_ICMP 4
#define L4_RAW 5
#define O_CLOEXEC_ (1LL << 12)
#define O_DIRECTORY_ (1LL << 10)
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define AF_NETLINK_ 16
#define SOCK_STREAM_ 1
#define SOCK_DGRAM_ 2
#define SOCK_RAW_ 3
#define SOCK_CLOEXEC_ 02000000LL
#define IPPROTO_IP_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_RAW_ 255
#define EINPROGRESS_ 115
#define F_DUPFD_ 1
#define F_DUPFD_CLOEXEC_ 26
#define RLIMIT_NOFILE_ 7
#define CL_ACTIVE (1LL << 19)
#define CL_CLOSED (1LL << 18)
#define CL_PIPE_SRC (1LL << 21)
#define CL_PIPE_DST (1LL << 22)
#define CL_CLONE_FILES 1LL
#define CL_CLONE_THREAD (1LL << 13)
#define CL_CLONE_INVERTED (1LL << 16)
#define CL_NAME_CHANGED (1LL << 17)
#define CL_CHILD_IN_PIDNS (1LL << 29)
#define CL_IS_MAIN_THREAD (1LL << 30)
/* what an execve keeps of the thread's flags */
#define CL_EXEC_KEPT (CL_PIPE_SRC | CL_PIPE_DST | CL_IS_MAIN_THREAD | CL_CLONE_INVERTED)
#define F_IS_CLONED (1LL << 14)
#define NO_ID 0xFFFFFFFFu
#define CLONE_STALE_NS 2000000000ULL
/* event flags (EF_*) */
#define EF_USES_FD (1u << 2)
#define EF_READS_FROM_FD (1u << 3)
#define EF_WRITES_TO_FD (1u << 4)
#define EF_FD_FLAGS 7u
#define EF_SKIPPARSERESET (1u << 8)
#define EF_MODIFIES_STATE (1u << 5)
#define NO_EVENT (1LL << 20)    /* lastevent_type of a thread whose event was refused */
#define F_TRACER_FDS ((1LL << 7) | (1LL << 8))  /* IS_TRACER_FILE | IS_TRACER_FD */
#define F_TRACER_FD (1LL << 8)
#define DF_STATE_ONLY 1
#define DF_TRACER 2

#define HDR_V2 26
#define HDR_V1 22
#define MIN_BLOCK 12
#define MAX_PARAMS 32
#define NS 1000000000ULL
#define AT_FDCWD (-100)
#define NONE_STR 0xFFFFFFFFu
#define STORAGE 1024  /* sinsp's parameter string buffer (FDLIST cut) */
#define MAX_NAME 4096
#define SOCK_SIZE 37

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }


/* ------------------------------------------------------------------------- */
/* growable byte buffers                                                       */

struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
};

static int buf_grow_slow(struct buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + need)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

/* Room for need more bytes (0 when out of memory: b->oom is set). */
static inline int buf_grow(struct buf *b, size_t need)
{
    return b->n + need <= b->cap || buf_grow_slow(b, need);
}

static inline void put(struct buf *b, const void *s, size_t n)
{
    if (!n || !buf_grow(b, n))
        return;
    uint8_t *d = b->p + b->n;
    if (n <= 16) {  /* (most pieces of a line: cheaper than a call) */
        const uint8_t *c = s;
        for (size_t i = 0; i < n; i++)
            d[i] = c[i];
    } else {
        memcpy(d, s, n);
    }
    b->n += n;
}

static inline void putc_(struct buf *b, uint8_t c)
{
    if (!buf_grow(b, 1))
        return;
    b->p[b->n++] = c;
}

static inline void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static const char DIGITS2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static void put_u64(struct buf *b, uint64_t v)
{
    if (!buf_grow(b, 20))
        return;
    char tmp[20];
    char *q = tmp + 20;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        q[0] = DIGITS2[2 * r];
        q[1] = DIGITS2[2 * r + 1];
    }
    if (v >= 10) {
        q -= 2;
        q[0] = DIGITS2[2 * v];
        q[1] = DIGITS2[2 * v + 1];
    } else {
        *--q = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + 20 - q);
    uint8_t *d = b->p + b->n;
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)q[i];
    b->n += n;
}

static void put_i64(struct buf *b, int64_t v)
{
    if (v < 0) {
        putc_(b, '-');
        put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* v in base 16 (upper or lower case digits) */
static void put_hex(struct buf *b, uint64_t v, int upper)
{
    static const char dl[] = "0123456789abcdef", du[] = "0123456789ABCDEF";
    const char *d = upper ? du : dl;
    char tmp[16];
    int i = 16;
    do {
        tmp[--i] = d[v & 15];
        v >>= 4;
    } while (v);
    put(b, tmp + i, (size_t)(16 - i));
}

/* v (< 10^width) in exactly width decimal digits */
static void put_padded(struct buf *b, uint64_t v, int width)
{
    if (!buf_grow(b, (size_t)width))
        return;
    uint8_t *d = b->p + b->n + width;
    int i = width;
    for (; i >= 2; i -= 2) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        d -= 2;
        d[0] = (uint8_t)DIGITS2[2 * r];
        d[1] = (uint8_t)DIGITS2[2 * r + 1];
    }
    if (i)
        *--d = (uint8_t)('0' + v % 10);
    b->n += (size_t)width;
}

/* printf into the buffer (rare paths only: the per-line ones format by hand) */
static void put_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put_fmt(struct buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* strings of the blob: u16 length then the bytes */
static inline int blob_str(const struct fr_tables *t, uint32_t ref, const uint8_t **p,
                           size_t *n)
{
    if (ref == NONE_STR)
        return 0;
    *n = rd16(t->blob + ref);
    *p = t->blob + ref + 2;
    return 1;
}

static inline void put_ref(struct buf *b, const struct fr_tables *t, uint32_t ref)
{
    const uint8_t *p;
    size_t n;
    if (blob_str(t, ref, &p, &n))
        put(b, p, n);
}


/* ------------------------------------------------------------------------- */
/* caches                                                                      */

/* The fields of an FdInfo (fds.py). */
struct fdinfo {
    int64_t type, flags, openflags, dev, mount_id, ino, pid;
    uint8_t sock[SOCK_SIZE];
    uint8_t *name;               /* owned by the holder */
    uint32_t name_len;
};

struct thr {
    int64_t tid;
    uint32_t gen;
    uint8_t dead;                /* forgotten (a tombstone: lookups go past it) */
    uint8_t exists, dirty, safe, fdtab_ok, cwd_ok, main_ok;
    uint8_t lastevent_valid, set_active, enter_state, vm_set, pf_set, fdlimit_set;
    int32_t fdtab;               /* -1: none */
    int64_t pid, main_tid;       /* main_tid -1: none */
    uint8_t *comm;
    uint32_t comm_len;
    uint8_t *cwd;
    uint32_t cwd_len;
    int64_t lastevent_fd, lastevent_type, latency;
    uint64_t latency_enter_ts;
    int32_t enter_type;          /* thread.lastevent's type, -1: None */
    uint8_t *enter_data;
    uint32_t enter_len;
    uint64_t e_num, e_offset, e_ts;
    int64_t e_tid;
    int32_t e_cpu, e_dflags;
    uint32_t e_nparams;
    int64_t vmsize, vmrss, vmswap, pfmajor, pfminor, fdlimit, flagbits, reaper;
    uint8_t reaper_set;
    /* what the process handlers read (Python's values, with the thread operations of
       the change log applied; the bookkeeping above comes on top) */
    int64_t flags, nchilds, own_len;
    uint64_t clone_ts;
    uint8_t uid_none, own_is_tab;
    uint8_t born;                /* created here since the last export (Python has none) */
    uint8_t gone;                /* removed here since the last export (Python still has it) */
    uint8_t topped;              /* listed in priv.topped */
    uint8_t stale;               /* absent, but Python may have made it since: ask again */
    uint8_t py_had;              /* Python has a thread of this tid that was removed here */
    int64_t py_pid;              /* (its pid) */
    uint64_t inc;                /* incarnation: which thread this entry was made for */
    uint32_t refs;               /* later log records that need this thread in Python */
    struct thr *ref_parent, *ref_main;  /* the threads its creation record needs */
    uint64_t ref_parent_inc, ref_main_inc;
    size_t rec_off;              /* born: offset of its creation record in the log */
};

/* An fd's standing against the Python engine since the last export. */
#define WB_CLEAN 0   /* as Python has it */
#define WB_NEW 1     /* Python has no such fd */
#define WB_DIRTY 2   /* Python has it, with other content (or it is gone) */

struct fde {
    int64_t fd;
    int32_t tab;
    uint32_t gen;
    uint32_t ver;                /* its table's version when cached (older: a tombstone) */
    uint8_t exists, wb, listed;
    uint8_t removed;             /* Python's entry was removed (it may be back since) */
    uint8_t member;              /* its fd is among its table's keys or members */
    uint64_t ins_seq;            /* order of its last insertion here (dict order) */
    struct fdinfo i;
};

struct tabent {
    int64_t len;
    uint32_t ver;                /* bumped when Python may have changed the table */
    uint8_t len_ok;              /* len is known (Python's, plus what this side did) */
    uint8_t keys_ok;             /* keys: Python's fds, right for every fd not cached */
    int64_t *keys;
    uint32_t nkeys;
    int64_t *mem;                /* fds added here since keys were noted (may repeat) */
    uint32_t nmem, memcap;
};

struct user_ent {
    int64_t id;
    int32_t group;
    uint32_t gen;
    uint8_t *name;
    uint32_t len;
};

struct priv {
    const struct fr_tables *t;
    uint32_t gen;
    uint32_t ugen;               /* generation of the user-name cache */
    /* open addressing over pointers; an entry of an older generation is a free slot
       (entries are never deleted within a generation, only marked absent) */
    struct thr **tslots;
    size_t tcap, tused;
    struct fde **fslots;
    size_t fcap, fused;
    struct tabent *tabs;
    size_t ntabs, tabcap;
    struct user_ent **uslots;
    size_t ucap, uused;
    /* output and scratch */
    struct buf out, info, val, res, tmp, paramstr, v1data, base, cat, dir, path, name1,
        name2;
    /* change log */
    int64_t *dirty;              /* tids of threads with bookkeeping to write back */
    size_t ndirty, dirtycap;
    struct fde **dirty_fds;      /* fds whose final state is to be written back */
    size_t ndirty_fds, dirty_fds_cap;
    struct fde **adds;           /* fr_export's scratch: the inserted ones, ordered */
    size_t adds_cap;
    uint64_t ins_counter;
    struct buf exp;              /* fr_export's output */
    int err;                     /* CB_SLOW / CB_ERROR / CB_SYNC from a callback */
    /* thread operations since the last export, in order (fr_log) */
    struct buf log;
    uint32_t nlog;
    uint32_t hazard;             /* threads born or gone since the last export */
    uint64_t incs;               /* thread incarnations made */
    struct thr **topped;         /* threads marked born or gone */
    size_t ntopped, toppedcap;
    struct fde **cpy;            /* scratch: the fds of a table (fd_list) */
    size_t cpycap;
    int64_t *fdtmp;
    size_t fdtmpcap;
    /* the filter's verdict by event code (2: it depends on more than the code) */
    uint8_t *verdict;
    const struct fr_filter *verdict_for;
    /* where the block being read began, and the output then (fr_run_mapped) */
    size_t ck_pos, ck_out;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void thr_release(struct thr *t)
{
    free(t->comm);
    free(t->cwd);
    free(t->enter_data);
    t->comm = t->cwd = t->enter_data = NULL;
}

/* The slots for live entries: at most a quarter full (grows and shrinks with them). */
static size_t table_size(size_t live)
{
    size_t cap = 1024;
    while (cap < 4 * live)
        cap *= 2;
    return cap;
}

static int thr_live(const struct priv *P, const struct thr *t)
{
    return t->gen == P->gen && !t->dead;
}

static int thr_rehash(struct priv *P)
{
    size_t live = 0;
    for (size_t i = 0; i < P->tcap; i++)
        live += P->tslots[i] && thr_live(P, P->tslots[i]);
    size_t ncap = table_size(live + 1);
    struct thr **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return 0;
    size_t used = 0;
    for (size_t i = 0; i < P->tcap; i++) {
        struct thr *t = P->tslots[i];
        if (!t)
            continue;
        if (!thr_live(P, t)) {
            thr_release(t);
            free(t);
            continue;
        }
        size_t j = mix64((uint64_t)t->tid) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = t;
        used++;
    }
    free(P->tslots);
    P->tslots = ns;
    P->tcap = ncap;
    P->tused = used;
    return 1;
}

/* The entry of tid in this generation, or NULL (*slot: where it would go: the first
   forgotten entry on the way, else the end of the chain). */
static struct thr *thr_find(struct priv *P, int64_t tid, size_t *slot)
{
    size_t mask = P->tcap - 1;
    size_t j = mix64((uint64_t)tid) & mask;
    size_t tomb = (size_t)-1;
    for (;;) {
        struct thr *t = P->tslots[j];
        if (!t || t->gen != P->gen) {
            *slot = tomb != (size_t)-1 ? tomb : j;
            return NULL;
        }
        if (t->dead) {
            if (tomb == (size_t)-1)
                tomb = j;
        } else if (t->tid == tid) {
            return t;
        }
        j = (j + 1) & mask;
    }
}

/* A blank entry for tid (an absent entry of this generation is reused: what the change
   log holds about that tid stays with it). */
static struct thr *thr_new(struct priv *P, int64_t tid)
{
    if ((P->tused + 1) * 2 > P->tcap && !thr_rehash(P))
        return NULL;
    size_t slot = 0;
    struct thr *t = thr_find(P, tid, &slot);
    if (t) {
        thr_release(t);
        uint8_t topped = t->topped, py_had = t->py_had;
        int64_t py_pid = t->py_pid;
        memset(t, 0, sizeof *t);
        t->topped = topped;
        t->py_had = py_had;
        t->py_pid = py_pid;
        t->tid = tid;
        t->gen = P->gen;
        t->inc = ++P->incs;
        return t;
    } else if ((t = P->tslots[slot])) {
        thr_release(t);
    } else {
        t = malloc(sizeof *t);
        if (!t)
            return NULL;
        P->tslots[slot] = t;
        P->tused++;
    }
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->gen = P->gen;
    t->inc = ++P->incs;
    return t;
}

static void fde_release(struct fde *f)
{
    free(f->i.name);
    f->i.name = NULL;
}

static inline uint64_t fkey(int32_t tab, int64_t fd)
{
    return mix64((uint64_t)fd * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uint32_t)tab);
}

static int fde_live(const struct priv *P, const struct fde *f)
{
    return f->gen == P->gen && f->ver == P->tabs[f->tab].ver;
}

static int fde_rehash(struct priv *P)
{
    size_t live = 0;
    for (size_t i = 0; i < P->fcap; i++)
        live += P->fslots[i] && fde_live(P, P->fslots[i]);
    size_t ncap = table_size(live + 1);
    struct fde **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return 0;
    size_t used = 0;
    for (size_t i = 0; i < P->fcap; i++) {
        struct fde *f = P->fslots[i];
        if (!f)
            continue;
        if (!fde_live(P, f)) {
            fde_release(f);
            free(f);
            continue;
        }
        size_t j = fkey(f->tab, f->fd) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = f;
        used++;
    }
    free(P->fslots);
    P->fslots = ns;
    P->fcap = ncap;
    P->fused = used;
    return 1;
}

static struct fde *fde_find(struct priv *P, int32_t tab, int64_t fd, size_t *slot)
{
    size_t mask = P->fcap - 1;
    size_t j = fkey(tab, fd) & mask;
    size_t tomb = (size_t)-1;
    for (;;) {
        struct fde *f = P->fslots[j];
        if (!f || f->gen != P->gen) {
            *slot = tomb != (size_t)-1 ? tomb : j;
            return NULL;
        }
        if (f->ver != P->tabs[f->tab].ver) {
            if (tomb == (size_t)-1)
                tomb = j;  /* its table was forgotten since */
        } else if (f->fd == fd && f->tab == tab) {
            return f;
        }
        j = (j + 1) & mask;
    }
}

static struct fde *fde_new(struct priv *P, int32_t tab, int64_t fd)
{
    if ((P->fused + 1) * 2 > P->fcap && !fde_rehash(P))
        return NULL;
    size_t slot = 0;
    struct fde *f = fde_find(P, tab, fd, &slot);
    if (f) {
        fde_release(f);
    } else if ((f = P->fslots[slot])) {
        fde_release(f);
    } else {
        f = malloc(sizeof *f);
        if (!f)
            return NULL;
        P->fslots[slot] = f;
        P->fused++;
    }
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->tab = tab;
    f->gen = P->gen;
    f->ver = P->tabs[tab].ver;
    return f;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* ------------------------------------------------------------------------- */
/* lookups through the cache (the Python calls, with their side effects)       */

static int note_table(struct priv *P, const struct fr_tabfill *f);

/* While the change log holds thread operations (fr_log), Python's thread table is behind
   for the threads they made (born) or removed (gone): a lookup whose answer depends on
   such a thread must wait until Python has caught up. */
static int hazard_tid(struct priv *P, int64_t tid)
{
    if (!P->hazard)
        return 0;
    size_t slot;
    struct thr *t = thr_find(P, tid, &slot);
    return t && (t->born || t->gone || t->py_had);
}

/* How many more threads with this pid the table has than Python's (threads made here,
   less those of Python's removed here). */
static int64_t count_adjust(struct priv *P, int64_t pid)
{
    int64_t d = 0;
    for (size_t i = 0; i < P->ntopped; i++) {
        const struct thr *t = P->topped[i];
        if (t->born && t->exists && t->pid == pid)
            d++;
        if (t->py_had && t->py_pid == pid)
            d--;
    }
    return d;
}

static int is_main(const struct thr *t)
{
    return t->tid == t->pid || (t->flags & CL_IS_MAIN_THREAD);
}

/* Would Python's answer about t's main thread be behind? (It may make that thread, and
   whether it can, and the thread count it gives it, depend on a table the log changes.) */
static int main_hazard(struct priv *P, const struct thr *t)
{
    return P->hazard && !is_main(t);
}

/* Such a lookup: before the event changed anything, stop (FR_SYNC: Python applies the
   log and the event is read again); later there is no way back (a bug: an error). */
static void need_sync(struct fr_engine *e, const char *what)
{
    struct priv *P = e->priv;
    if (e->phase == 0) {
        P->err = CB_SYNC;
        return;
    }
    snprintf(e->errmsg, sizeof e->errmsg,
             "fastread: %s needed a thread the Python engine does not have yet", what);
    P->err = CB_ERROR;
}

static struct thr *make_placeholder(struct fr_engine *e, int64_t tid);

/* A lookup through the main thread (threads.main_thread) may have made thread tid in
   Python: an entry here that knows it absent is out of date. */
static void may_exist_now(struct priv *P, int64_t tid)
{
    size_t slot;
    struct thr *t = thr_find(P, tid, &slot);
    if (t && !t->exists && !t->gone)
        t->stale = 1;  /* (looked up again when needed) */
}

/* threads.get(tid) (create=0) or threads.get_or_create(tid) (create=1, phase 0 only).
   NULL: no thread, or P->err set. */
static struct thr *get_thread(struct fr_engine *e, int64_t tid, int create)
{
    struct priv *P = e->priv;
    size_t slot;
    struct thr *t = thr_find(P, tid, &slot);
    if (t && !t->stale && (t->exists || !create))
        return t->exists ? t : NULL;
    /* While Python is behind, this side makes the placeholder get_or_create would. */
    if (t && !t->stale && P->hazard)
        return make_placeholder(e, tid);
    struct fr_tfill f;
    struct fr_tabfill tf;
    memset(&f, 0, sizeof f);
    memset(&tf, 0, sizeof tf);
    f.enter_type = -1;
    tf.tab = -1;
    f.tab = &tf;
    e->callbacks++;
    int rc = fr_cb_thread(e->handle, tid, create && !P->hazard, &f);
    if (rc != CB_OK) {
        P->err = rc;
        return NULL;
    }
    if (!f.exists && create && P->hazard)
        return make_placeholder(e, tid);
    t = thr_new(P, tid);
    if (!t) {
        P->err = CB_ERROR;
        return NULL;
    }
    t->exists = (uint8_t)(f.exists != 0);
    if (!t->exists)
        return NULL;
    t->safe = (uint8_t)(f.safe != 0);
    t->pid = f.pid;
    t->comm = dup_bytes(f.comm, f.comm_len);
    t->comm_len = f.comm_len;
    t->lastevent_fd = f.lastevent_fd;
    t->lastevent_type = f.lastevent_type;
    t->latency = f.latency;
    t->latency_enter_ts = f.latency_enter_ts;
    t->lastevent_valid = (uint8_t)(f.lastevent_valid != 0);
    t->enter_type = f.enter_type;
    if (f.enter_type >= 0) {
        t->enter_data = dup_bytes(f.enter_data, f.enter_len);
        t->enter_len = f.enter_len;
    }
    t->fdtab = -1;
    t->main_tid = -1;
    t->flags = f.flags;
    t->nchilds = f.nchilds;
    t->clone_ts = f.clone_ts;
    t->uid_none = (uint8_t)(f.uid_none != 0);
    t->own_is_tab = (uint8_t)(f.own_is_tab != 0);
    t->own_len = f.own_len;
    if (!t->comm || (f.enter_type >= 0 && !t->enter_data)) {
        P->err = CB_ERROR;
        return NULL;
    }
    if (hazard_tid(P, f.pid))
        f.main_known = f.cwd_known = f.tab_known = 0;  /* Python's answer is behind */
    if (f.main_known) {
        t->main_ok = 1;
        t->main_tid = f.main_tid;
    }
    if (f.cwd_known) {
        t->cwd = dup_bytes(f.cwd, f.cwd_len);
        t->cwd_len = f.cwd_len;
        t->cwd_ok = 1;
    }
    if (f.tab_known) {
        t->fdtab_ok = 1;
        t->fdtab = tf.tab;
    }
    if ((f.cwd_known && !t->cwd) || (f.tab_known && !note_table(P, &tf))) {
        P->err = CB_ERROR;
        return NULL;
    }
    return t;
}

/* What Python told about a table: its length and fds, unless this side knows them
   already (it may have changed them since). 0 on error. */
static int note_table(struct priv *P, const struct fr_tabfill *f)
{
    int32_t tab = f->tab;
    if (tab < 0)
        return 1;
    if ((size_t)tab >= P->tabcap) {
        size_t cap = P->tabcap ? P->tabcap : 64;
        while (cap <= (size_t)tab)
            cap *= 2;
        struct tabent *n = realloc(P->tabs, cap * sizeof *n);
        if (!n)
            return 0;
        memset(n + P->tabcap, 0, (cap - P->tabcap) * sizeof *n);
        P->tabs = n;
        P->tabcap = cap;
    }
    while (P->ntabs <= (size_t)tab) {
        struct tabent *te = &P->tabs[P->ntabs++];
        free(te->keys);
        free(te->mem);
        memset(te, 0, sizeof *te);
    }
    struct tabent *te = &P->tabs[tab];
    if (!te->len_ok) {
        te->len = f->len;
        te->len_ok = 1;
        free(te->keys);
        te->keys = NULL;
        te->nkeys = 0;
        te->keys_ok = 0;
        te->nmem = 0;
        if (f->keys_known) {
            te->keys = malloc((f->nkeys ? f->nkeys : 1) * sizeof *te->keys);
            if (!te->keys)
                return 0;
            if (f->nkeys)
                memcpy(te->keys, f->keys, f->nkeys * sizeof *te->keys);
            te->nkeys = f->nkeys;
            te->keys_ok = 1;
        }
    }
    return 1;
}

/* Forget what is known of a table (Python may have changed it). */
static void forget_table(struct priv *P, int32_t tab)
{
    if (tab < 0 || (size_t)tab >= P->ntabs)
        return;
    struct tabent *te = &P->tabs[tab];
    te->ver++;
    te->len_ok = 0;
    te->keys_ok = 0;
    free(te->keys);
    te->keys = NULL;
    te->nkeys = 0;
    te->nmem = 0;
}

/* threads.fd_table(thread): the table index, -1 for none, -2 on error (P->err). */
static int32_t fd_table(struct fr_engine *e, struct thr *t)
{
    struct priv *P = e->priv;
    if (t->fdtab_ok)
        return t->fdtab;
    if (main_hazard(P, t)) {
        need_sync(e, "an fd table lookup");
        return -2;
    }
    struct fr_tabfill f;
    memset(&f, 0, sizeof f);
    f.tab = -1;
    e->callbacks++;
    int rc = fr_cb_fdtab(e->handle, t->tid, &f);
    may_exist_now(P, t->pid);
    if (rc == CB_NOCACHE)
        return -1;
    if (rc != CB_OK) {
        P->err = rc;
        return -2;
    }
    if (!note_table(P, &f)) {
        P->err = CB_ERROR;
        return -2;
    }
    t->fdtab_ok = 1;
    t->fdtab = f.tab;
    return f.tab;
}

static int has_key(const struct tabent *te, int64_t fd)
{
    uint32_t lo = 0, hi = te->nkeys;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (te->keys[mid] < fd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < te->nkeys && te->keys[lo] == fd;
}

/* table.get(fd) in table tab (fd >= 0). NULL: none, or P->err set. */
static struct fde *get_fd_in(struct fr_engine *e, int32_t tab, int64_t fd)
{
    struct priv *P = e->priv;
    size_t slot;
    struct fde *f = fde_find(P, tab, fd, &slot);
    if (f)
        return f->exists ? f : NULL;
    const struct tabent *te = &P->tabs[tab];
    if (te->keys_ok && !has_key(te, fd)) {
        f = fde_new(P, tab, fd);  /* known absent: no need to ask */
        if (!f)
            P->err = CB_ERROR;
        return NULL;
    }
    struct fr_ffill ff;
    memset(&ff, 0, sizeof ff);
    e->callbacks++;
    int rc = fr_cb_fd(e->handle, tab, fd, &ff);
    if (rc != CB_OK) {
        P->err = rc;
        return NULL;
    }
    f = fde_new(P, tab, fd);
    if (!f) {
        P->err = CB_ERROR;
        return NULL;
    }
    f->exists = (uint8_t)(ff.exists != 0);
    if (!f->exists)
        return NULL;
    if (!ff.safe) {
        /* a value this side cannot hold: forget the entry, let Python do it */
        f->gen = 0;
        P->err = CB_SLOW;
        return NULL;
    }
    f->i.type = ff.type;
    f->i.flags = ff.flags;
    f->i.openflags = ff.openflags;
    f->i.dev = ff.dev;
    f->i.mount_id = ff.mount_id;
    f->i.ino = ff.ino;
    f->i.pid = ff.pid;
    memcpy(f->i.sock, ff.sock, SOCK_SIZE);
    f->i.name = dup_bytes(ff.name, ff.name_len);
    f->i.name_len = ff.name_len;
    if (!f->i.name) {
        P->err = CB_ERROR;
        return NULL;
    }
    return f;
}

/* threads.get_fd(thread, fd) */
static struct fde *get_fd(struct fr_engine *e, struct thr *t, int64_t fd)
{
    if (fd < 0)
        return NULL;
    int32_t tab = fd_table(e, t);
    if (tab < 0)
        return NULL;
    return get_fd_in(e, tab, fd);
}

/* threads.cwd(thread) into t->cwd (cached unless the lookup failed); 0 on error. */
static int get_cwd(struct fr_engine *e, struct thr *t)
{
    struct priv *P = e->priv;
    if (t->cwd_ok)
        return 1;
    if (main_hazard(P, t)) {
        need_sync(e, "a cwd lookup");
        return 0;
    }
    struct fr_sfill s = {NULL, 0};
    e->callbacks++;
    int rc = fr_cb_cwd(e->handle, t->tid, &s);
    may_exist_now(P, t->pid);
    if (rc != CB_OK && rc != CB_NOCACHE) {
        P->err = rc;
        return 0;
    }
    free(t->cwd);
    t->cwd = dup_bytes(s.p, s.n);
    if (!t->cwd) {
        P->err = CB_ERROR;
        return 0;
    }
    t->cwd_len = s.n;
    t->cwd_ok = rc == CB_OK;
    return 1;
}

/* threads.main_thread(thread): main tid, -1 none, -2 error (P->err). */
static int64_t get_main(struct fr_engine *e, struct thr *t)
{
    struct priv *P = e->priv;
    if (t->main_ok)
        return t->main_tid;
    if (main_hazard(P, t)) {
        need_sync(e, "a main thread lookup");
        return -2;
    }
    int64_t m = -1;
    e->callbacks++;
    int rc = fr_cb_main(e->handle, t->tid, &m);
    may_exist_now(P, t->pid);
    if (rc != CB_OK) {
        P->err = rc;
        return -2;
    }
    t->main_ok = 1;
    t->main_tid = m;
    return m;
}

/* The main thread's entry (thread itself when it is the main one); NULL: none/error. */
static struct thr *main_of(struct fr_engine *e, struct thr *t)
{
    int64_t m = get_main(e, t);
    if (m < 0)
        return NULL;
    if (m == t->tid)
        return t;
    return get_thread(e, m, 0);
}

/* engine.users / engine.groups: the name to show (sanitized, or <NA>). */
static struct user_ent *get_user(struct fr_engine *e, int64_t id, int32_t group)
{
    struct priv *P = e->priv;
    if ((P->uused + 1) * 2 > P->ucap) {
        size_t ncap = P->ucap ? P->ucap * 2 : 64;
        struct user_ent **ns = calloc(ncap, sizeof *ns);
        if (!ns) {
            P->err = CB_ERROR;
            return NULL;
        }
        size_t used = 0;
        for (size_t i = 0; i < P->ucap; i++) {
            struct user_ent *u = P->uslots[i];
            if (!u)
                continue;
            if (u->gen != P->ugen) {
                free(u->name);
                free(u);
                continue;
            }
            size_t j = mix64((uint64_t)u->id * 2 + (uint64_t)u->group) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = u;
            used++;
        }
        free(P->uslots);
        P->uslots = ns;
        P->ucap = ncap;
        P->uused = used;
    }
    size_t mask = P->ucap - 1;
    size_t j = mix64((uint64_t)id * 2 + (uint64_t)group) & mask;
    for (;;) {
        struct user_ent *u = P->uslots[j];
        if (!u || u->gen != P->ugen)
            break;
        if (u->id == id && u->group == group)
            return u;
        j = (j + 1) & mask;
    }
    struct fr_sfill s = {NULL, 0};
    e->callbacks++;
    int rc = fr_cb_user(e->handle, id, group, &s);
    if (rc != CB_OK) {
        P->err = rc;
        return NULL;
    }
    struct user_ent *u = P->uslots[j];
    if (u) {
        free(u->name);
    } else {
        u = malloc(sizeof *u);
        if (!u) {
            P->err = CB_ERROR;
            return NULL;
        }
        P->uslots[j] = u;
        P->uused++;
    }
    u->id = id;
    u->group = group;
    u->gen = P->ugen;
    u->name = dup_bytes(s.p, s.n);
    u->len = s.n;
    if (!u->name) {
        P->err = CB_ERROR;
        return NULL;
    }
    return u;
}

/* ------------------------------------------------------------------------- */
/* change log                                                                  */

static int mark_dirty(struct priv *P, struct thr *t)
{
    if (t->dirty)
        return 1;
    if (P->ndirty == P->dirtycap) {
        size_t cap = P->dirtycap ? P->dirtycap * 2 : 64;
        int64_t *n = realloc(P->dirty, cap * sizeof *n);
        if (!n)
            return 0;
        P->dirty = n;
        P->dirtycap = cap;
    }
    P->dirty[P->ndirty++] = t->tid;
    t->dirty = 1;
    return 1;
}

static void put_le(struct buf *b, uint64_t v, int n)
{
    uint8_t tmp[8];
    memcpy(tmp, &v, 8);
    put(b, tmp, (size_t)n);
}

/* fds changed here are written back as final states, in an order that gives Python's
   table (a dict) the same content *and* order as the changes one by one would: the fds
   Python had and lost first, then the ones changed in place, then the ones inserted, in
   the order of their last insertion (FdTable.copy walks that order). */
#define FD_CHANGED 0
#define FD_ADDED 1
#define FD_REMOVED 2

/* Note an fd added to a table here: the fds a table may hold are its keys (when known)
   and these members (each listed once: the entry remembers it). */
static int add_member(struct priv *P, struct fde *f)
{
    if (f->member)
        return 1;
    f->member = 1;
    struct tabent *te = &P->tabs[f->tab];
    if (te->keys_ok && has_key(te, f->fd))
        return 1;
    if (te->nmem == te->memcap) {
        uint32_t cap = te->memcap ? te->memcap * 2 : 16;
        int64_t *n = realloc(te->mem, cap * sizeof *n);
        if (!n)
            return 0;
        te->mem = n;
        te->memcap = cap;
    }
    te->mem[te->nmem++] = f->fd;
    return 1;
}

static int fd_changed(struct priv *P, struct fde *f, int how)
{
    if (how == FD_ADDED) {
        if (f->wb == WB_CLEAN)
            f->wb = WB_NEW;  /* it was absent, as in Python */
        f->ins_seq = ++P->ins_counter;
        if (!add_member(P, f))
            return 0;
    } else if (how == FD_REMOVED) {
        if (f->wb != WB_NEW) {
            f->wb = WB_DIRTY;
            f->removed = 1;
        }
    } else if (f->wb == WB_CLEAN) {
        f->wb = WB_DIRTY;
    }
    if (f->listed)
        return 1;
    if (P->ndirty_fds == P->dirty_fds_cap) {
        size_t cap = P->dirty_fds_cap ? P->dirty_fds_cap * 2 : 64;
        struct fde **n = realloc(P->dirty_fds, cap * sizeof *n);
        if (!n)
            return 0;
        P->dirty_fds = n;
        P->dirty_fds_cap = cap;
    }
    P->dirty_fds[P->ndirty_fds++] = f;
    f->listed = 1;
    return 1;
}

static int set_flags(struct priv *P, struct fde *f, int64_t nf)
{
    if (nf == f->i.flags)
        return 1;
    f->i.flags = nf;
    return fd_changed(P, f, FD_CHANGED);
}

/* ------------------------------------------------------------------------- */
/* events                                                                      */

struct ev {
    uint64_t num, offset, ts;
    int64_t tid;
    uint32_t cpu, dflags, type, nparams;
    uint32_t elen;               /* length of the v2 data */
    const uint8_t *data;         /* RawEvent.data (v2 layout); NULL for a v1 event until
                                    ev_data builds it */
    const uint8_t *payload;      /* lengths then values */
    uint32_t payload_len;
    uint32_t poff[MAX_PARAMS], plen[MAX_PARAMS];
};

static inline const uint8_t *param(const struct ev *v, uint32_t i, uint32_t *n)
{
    *n = v->plen[i];
    return v->payload + v->poff[i];
}

/* RawEvent.data of this event (a v1 event gets its v2 header, as the reader does). */
static const uint8_t *ev_data(struct priv *P, struct ev *v)
{
    if (v->data)
        return v->data;
    struct buf *b = &P->v1data;
    b->n = 0;
    uint8_t hdr[HDR_V2];
    uint32_t len = HDR_V2 + v->payload_len;
    uint16_t ty = (uint16_t)v->type;
    memcpy(hdr, &v->ts, 8);
    memcpy(hdr + 8, &v->tid, 8);
    memcpy(hdr + 16, &len, 4);
    memcpy(hdr + 20, &ty, 2);
    memcpy(hdr + 22, &v->nparams, 4);
    put(b, hdr, HDR_V2);
    put(b, v->payload, v->payload_len);
    if (b->oom)
        return NULL;
    v->data = b->p;
    v->elen = len;
    return v->data;
}

/* engine.first_param_int: parameter 0 as a 64- or 32-bit signed number. */
static int first_param_int(const struct ev *v, int64_t *out)
{
    if (!v->nparams)
        return 0;
    uint32_t n;
    const uint8_t *p = param(v, 0, &n);
    if (n == 8) {
        *out = (int64_t)rd64(p);
        return 1;
    }
    if (n == 4) {
        *out = (int32_t)rd32(p);
        return 1;
    }
    return 0;
}

/* EventArgs.int(name): the argument decoded as the current table declares it, when that
   gives an int. 1 found, 0 not (the default applies), -1 too big for this side. */
static int arg_int(const struct fr_tables *t, const struct ev *v, int slot, int64_t *out)
{
    int idx = t->argidx[v->type * FR_NARGS + slot];
    if (idx < 0 || (uint32_t)idx >= v->nparams)
        return 0;
    uint8_t dec = t->cur_dec[t->cur_start[v->type] + (uint32_t)idx];
    if (!dec)
        return 0;
    uint32_t size = dec & 0x0f, n;
    const uint8_t *p = param(v, (uint32_t)idx, &n);
    if (n != size)
        return 0;
    int sign = (dec & 0x10) != 0;
    switch (size) {
    case 1: *out = sign ? (int64_t)(int8_t)p[0] : (int64_t)p[0]; break;
    case 2: *out = sign ? (int64_t)(int16_t)rd16(p) : (int64_t)rd16(p); break;
    case 4:
        if (dec & 0x20) {
            uint32_t u = rd32(p);
            if (u == 0xFFFFFFFFu)
                return 0;
            *out = u;
        } else {
            *out = sign ? (int64_t)(int32_t)rd32(p) : (int64_t)rd32(p);
        }
        break;
    case 8: {
        uint64_t u = rd64(p);
        if (!sign && u >> 63)
            return -1;
        *out = (int64_t)u;
        break;
    }
    default:
        return 0;
    }
    return 1;
}

/* EventArgs.raw(name): the bytes, or NULL when not declared or not in the event. */
static const uint8_t *arg_raw(const struct fr_tables *t, const struct ev *v, int slot,
                              uint32_t *n)
{
    int idx = t->argidx[v->type * FR_NARGS + slot];
    if (idx < 0 || (uint32_t)idx >= v->nparams)
        return NULL;
    return param(v, (uint32_t)idx, n);
}

static int has_arg(const struct fr_tables *t, const struct ev *v, int slot)
{
    int idx = t->argidx[v->type * FR_NARGS + slot];
    return idx >= 0 && (uint32_t)idx < v->nparams;
}

/* Lengths then values into v->poff/plen; 0 when they overflow the payload. */
static int split_params(const struct fr_tables *t, struct ev *v)
{
    int large = v->type < t->num_events && t->large[v->type];
    uint32_t lsize = large ? 4 : 2;
    uint64_t off = (uint64_t)v->nparams * lsize;
    if (off > v->payload_len)
        return 0;
    for (uint32_t i = 0; i < v->nparams; i++) {
        uint32_t ln = large ? rd32(v->payload + 4 * i) : rd16(v->payload + 2 * i);
        v->poff[i] = (uint32_t)off;
        v->plen[i] = ln;
        off += ln;
    }
    return off <= v->payload_len;
}

/* A stored enter event (its RawEvent.data) as an ev; 0 when malformed. */
static int split_data(const struct fr_tables *t, const uint8_t *data, uint32_t len,
                      struct ev *v)
{
    memset(v, 0, sizeof *v);
    if (len < HDR_V2)
        return 0;
    v->type = rd16(data + 20);
    v->nparams = rd32(data + 22);
    if (v->type >= t->num_events || v->nparams > MAX_PARAMS)
        return 0;
    v->payload = data + HDR_V2;
    v->payload_len = len - HDR_V2;
    return split_params(t, v);
}

/* reader._v1_param_count: -1 when no count fits */
static int64_t v1_count(const struct fr_tables *t, uint32_t etype, const uint8_t *payload,
                        uint64_t size)
{
    int large = t->large[etype];
    uint64_t lsize = large ? 4 : 2;
    const uint32_t *c = t->cands + t->cand_start[etype];
    for (uint32_t k = 0; k < t->cand_count[etype]; k++) {
        uint64_t n = c[k];
        if (n * lsize > size)
            continue;
        uint64_t sum = 0;
        for (uint64_t i = 0; i < n; i++)
            sum += large ? rd32(payload + 4 * i) : rd16(payload + 2 * i);
        if (n * lsize + sum == size)
            return (int64_t)n;
    }
    return -1;
}


/* ------------------------------------------------------------------------- */
/* paths (paths.py)                                                            */

static void rewind_(struct buf *o)
{
    if (o->n <= 1)
        return;
    o->n--;
    while (o->n >= 1 && o->p[o->n - 1] != '/')
        o->n--;
}

static void append_normalised(struct buf *o, const uint8_t *path, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = path[i];
        uint8_t nx = i + 1 < n ? path[i + 1] : 0;
        uint8_t nx2 = i + 2 < n ? path[i + 2] : 0;
        if (c < 0x20 || c > 0x7E) {
            putc_(o, '.');
            i++;
        } else if (c == '.' && nx == '.' && nx2 == '/') {
            rewind_(o);
            i += 3;
        } else if (c == '.' && nx == '.') {
            if (i + 2 >= n) {
                rewind_(o);
                i += 2;
            } else {
                put(o, "..", 2);
                i += 2;
            }
        } else if (c == '.' && nx == '/') {
            i += 2;
        } else if (c == '.') {
            if (i + 1 >= n) {
                i++;
            } else {
                putc_(o, c);
                i++;
            }
        } else if (c == '/') {
            if (!(o->n && o->p[o->n - 1] == '/'))
                putc_(o, c);
            i++;
        } else {
            putc_(o, c);
            i++;
        }
    }
    if (o->n > 1 && o->p[o->n - 1] == '/')
        o->n--;
}

static size_t c_len(const uint8_t *p, size_t n)
{
    const uint8_t *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

/* concatenate(base, path, limit) into o (cleared); returns relative (1) or not (0). */
static int concatenate(struct buf *o, const uint8_t *base, size_t bn, const uint8_t *path,
                       size_t pn, uint64_t limit)
{
    o->n = 0;
    if (limit < (uint64_t)bn + pn + 1) {
        puts_(o, "/PATH_TOO_LONG");
        return 0;
    }
    size_t rn = c_len(path, pn);
    if (pn && path[0] != '/') {
        put(o, base, bn);
        append_normalised(o, path, rn);
        return 1;
    }
    append_normalised(o, path, rn);
    return 0;
}

static void put_sanitized(struct buf *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x20 && p[i] <= 0x7E)
            putc_(o, p[i]);
}


/* ------------------------------------------------------------------------- */
/* parameter rendering (render.py)                                             */

static const char HEXL[] = "0123456789abcdef";

static uint64_t int_of(const uint8_t *p, uint32_t n, uint32_t size, int sign)
{
    uint8_t tmp[8] = {0};
    memcpy(tmp, p, n < size ? n : size);
    uint64_t v = 0;
    memcpy(&v, tmp, 8);
    if (size < 8) {
        uint64_t m = (1ULL << (8 * size)) - 1;
        v &= m;
        if (sign && (v >> (8 * size - 1)) & 1)
            v |= ~m;
    }
    return v;
}

/* _number(value, size, fmt): value is the C value sign- or zero-extended to 64 bits */
static void put_number(struct buf *b, uint64_t value, uint32_t size, int fmt)
{
    int bits = size == 8 ? 64 : 32;
    uint64_t mask = bits == 64 ? ~0ULL : 0xFFFFFFFFULL;
    uint64_t u = value & mask;
    if (fmt == 2) { /* HEX */
        put_hex(b, u, 1);
        return;
    }
    if (fmt == 6) { /* OCT */
        if (u)
            put_fmt(b, "0%llo", (unsigned long long)u);
        else
            putc_(b, '0');
        return;
    }
    int64_t s = bits == 64 ? (int64_t)u : (int64_t)(int32_t)(uint32_t)u;
    if (fmt == 3) { /* PADDED_DEC */
        put_fmt(b, "%09lld", (long long)s);
        return;
    }
    put_i64(b, s);
}

static void put_errno_name(struct fr_engine *e, struct buf *b, int64_t code)
{
    const struct fr_tables *t = ((struct priv *)e->priv)->t;
    int32_t c = (int32_t)(uint32_t)(uint64_t)code;
    int64_t pos = -(int64_t)c;
    if (pos >= 0 && (uint64_t)pos < t->num_errno)
        put_ref(b, t, t->errno_name[pos]);
}

static void put_signal_name(const struct fr_tables *t, struct buf *b, uint64_t sig)
{
    if (sig < t->num_signal)
        put_ref(b, t, t->signal_name[sig]);
}

static int has_signal_name(const struct fr_tables *t, uint64_t sig)
{
    return sig < t->num_signal && t->signal_name[sig] != NONE_STR;
}

static void put_ipv4(struct buf *b, const uint8_t *a)
{
    for (int i = 0; i < 4; i++) {
        if (i)
            putc_(b, '.');
        put_u64(b, a[i]);
    }
}

static void put_hexw(struct buf *b, unsigned w)
{
    char tmp[8];
    int i = 8;
    do {
        tmp[--i] = HEXL[w & 15];
        w >>= 4;
    } while (w);
    put(b, tmp + i, (size_t)(8 - i));
}

/* params._ntop6 */
static void put_ipv6(struct buf *b, const uint8_t *a)
{
    unsigned w[9];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    w[8] = 1;
    int best_base = -1, best_len = 0, base = -1;
    for (int i = 0; i < 9; i++) {
        if (w[i] == 0) {
            if (base < 0)
                base = i;
        } else if (base >= 0) {
            if (i - base > best_len) {
                best_base = base;
                best_len = i - base;
            }
            base = -1;
        }
    }
    if (best_len < 2)
        best_base = -1;
    if (best_base == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xFFFF))) {
        puts_(b, best_len == 6 ? "::" : "::ffff:");
        put_ipv4(b, a + 12);
        return;
    }
    if (best_base < 0) {
        for (int i = 0; i < 8; i++) {
            if (i)
                putc_(b, ':');
            put_hexw(b, w[i]);
        }
        return;
    }
    for (int i = 0; i < best_base; i++) {
        if (i)
            putc_(b, ':');
        put_hexw(b, w[i]);
    }
    puts_(b, "::");
    for (int i = best_base + best_len; i < 8; i++) {
        if (i > best_base + best_len)
            putc_(b, ':');
        put_hexw(b, w[i]);
    }
}

static int ipv4_mapped(const uint8_t *a)
{
    for (int i = 0; i < 10; i++)
        if (a[i])
            return 0;
    if (a[10] == 0xff && a[11] == 0xff)
        return 1;
    for (int i = 10; i < 16; i++)
        if (a[i])
            return 0;
    return 1;
}

static void put_signed8_family(struct buf *b, uint8_t f)
{
    puts_(b, "family ");
    put_i64(b, f > 127 ? (int64_t)f - 256 : f);
}

static void render_sockaddr(struct buf *b, const uint8_t *p, uint32_t n)
{
    if (!n) {
        puts_(b, "NULL");
        return;
    }
    uint8_t fam = p[0];
    if (fam == 1) {
        size_t m = n - 1 < MAX_NAME ? n - 1 : MAX_NAME;
        put_sanitized(b, p + 1, c_len(p + 1, m));
    } else if (fam == 2) {
        if (n != 7) {
            puts_(b, "INVALID IPv4");
            return;
        }
        put_ipv4(b, p + 1);
        putc_(b, ':');
        put_u64(b, rd16(p + 5));
    } else if (fam == 10) {
        if (n != 19) {
            puts_(b, "INVALID IPv6");
            return;
        }
        put_ipv6(b, p + 1);
        putc_(b, ':');
        put_u64(b, rd16(p + 17));
    } else {
        put_signed8_family(b, fam);
    }
}

static void render_socktuple(struct buf *b, const uint8_t *p, uint32_t n)
{
    if (!n) {
        puts_(b, "NULL");
        return;
    }
    uint8_t fam = p[0];
    if (fam == 2) {
        if (n != 13) {
            puts_(b, "INVALID IPv4");
            return;
        }
        put_ipv4(b, p + 1);
        putc_(b, ':');
        put_u64(b, rd16(p + 5));
        puts_(b, "->");
        put_ipv4(b, p + 7);
        putc_(b, ':');
        put_u64(b, rd16(p + 11));
    } else if (fam == 10) {
        if (n != 37) {
            puts_(b, "INVALID IPv6");
            return;
        }
        const uint8_t *sip = p + 1, *dip = p + 19;
        unsigned sport = rd16(p + 17), dport = rd16(p + 35);
        if (ipv4_mapped(sip) && ipv4_mapped(dip)) {
            put_ipv4(b, sip + 12);
            putc_(b, ':');
            put_u64(b, sport);
            puts_(b, "->");
            put_ipv4(b, dip + 12);
        } else {
            put_ipv6(b, sip);
            putc_(b, ':');
            put_u64(b, sport);
            puts_(b, "->");
            put_ipv6(b, dip);
        }
        putc_(b, ':');
        put_u64(b, dport);
    } else if (fam == 1) {
        if (n < 17) {
            puts_(b, "INVALID unix");
            return;
        }
        put_fmt(b, "%llx->%llx ", (unsigned long long)rd64(p + 1),
                (unsigned long long)rd64(p + 9));
        size_t m = n - 17 < MAX_NAME ? n - 17 : MAX_NAME;
        put_sanitized(b, p + 17, c_len(p + 17, m));
    } else {
        put_signed8_family(b, fam);
    }
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* render_buffer(raw, options); buffer formats: 0 normal, 1 eols, 2 hex, 3 hexascii,
   4 base64 */
static void render_buffer(struct fr_engine *e, struct buf *b, const uint8_t *p, uint32_t n)
{
    if (!n)
        return;
    size_t start = b->n;
    switch (e->buffer_format) {
    case 2:
    case 3: {
        int ascii = e->buffer_format == 3;
        for (uint32_t j = 0; j < n; j += 16) {
            put_fmt(b, "\n\t0x%04x:", j);
            int chunks = 0;
            uint32_t q = j;
            while (chunks < 8 && q < n) {
                if (q == n - 1)
                    put_fmt(b, " %02x", p[q]);
                else
                    put_fmt(b, " %02x%02x", p[q], p[q + 1]);
                chunks++;
                q += 2;
            }
            if (ascii) {
                for (int k = chunks; k < 8; k++)
                    puts_(b, "     ");
                puts_(b, "  ");
                for (uint32_t k = j; k < j + 16 && k < n; k++)
                    putc_(b, p[k] >= 0x20 && p[k] < 0x7F ? p[k] : '.');
            }
        }
        putc_(b, '\n');
        return;
    }
    case 4: {
        uint32_t i = 0;
        for (; i + 3 <= n; i += 3) {
            uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
            char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], B64[v & 63]};
            put(b, q, 4);
        }
        if (n - i == 1) {
            uint32_t v = (uint32_t)p[i] << 16;
            char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], '=', '='};
            put(b, q, 4);
        } else if (n - i == 2) {
            uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
            char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], '='};
            put(b, q, 4);
        }
        return;
    }
    case 1: {
        putc_(b, '\n');
        int prev = -1;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t c = p[i];
            if (c >= 0x20 && c < 0x7F)
                putc_(b, c);
            else if (c == 0x0D)
                putc_(b, 0x0A);
            else if (c == 0x0A && prev != -1 && prev != 0x0D)
                putc_(b, c);
            prev = c;
        }
        return;
    }
    default:
        break;
    }
    if (!buf_grow(b, n))
        return;
    for (uint32_t i = 0; i < n; i++)
        b->p[b->n + i] = p[i] >= 0x20 && p[i] < 0x7F ? p[i] : '.';
    b->n += n;
    int64_t limit = e->max_len;
    if (limit && !e->json && (int64_t)(b->n - start) > limit) {
        if (limit > 3) {
            b->n = start + (size_t)limit - 3;
            put(b, "...", 3);
        } else {
            b->n = start + (size_t)limit;
        }
    }
}

/* render_flags / render_enum over the table's entries */
static void put_flags(const struct fr_tables *t, struct buf *b, int32_t table, uint64_t value,
                      int enumtype)
{
    uint32_t s = t->ftab_start[table], c = t->ftab_count[table];
    int first = 1;
    if (enumtype) {
        for (uint32_t k = 0; k < c; k++) {
            if (t->fent_value[s + k] == value) {
                if (!first)
                    putc_(b, '|');
                put_ref(b, t, t->fent_name[s + k]);
                first = 0;
            }
        }
        return;
    }
    uint64_t remaining = value;
    for (uint32_t k = 0; k < c; k++) {
        uint64_t bits = t->fent_value[s + k];
        if (bits == value) {
            if (!first)
                putc_(b, '|');
            put_ref(b, t, t->fent_name[s + k]);
            break;
        }
        if (bits == 0)
            continue;
        if (remaining && (remaining & bits) == bits) {
            if (!first)
                putc_(b, '|');
            put_ref(b, t, t->fent_name[s + k]);
            first = 0;
            remaining &= ~bits;
        }
    }
}

/* Items of a NUL-separated list (to_text each; a trailing empty item dropped). */
static void put_list(struct buf *b, const uint8_t *p, uint32_t n, int pairs)
{
    if (!n)
        return;
    /* split on NUL; count items */
    uint32_t count = 1;
    for (uint32_t i = 0; i < n; i++)
        if (!p[i])
            count++;
    int drop_last = p[n - 1] == 0;  /* last item empty */
    if (drop_last)
        count--;
    if (!pairs) {
        uint32_t item = 0, start = 0;
        for (uint32_t i = 0; i <= n && item < count; i++) {
            if (i == n || !p[i]) {
                if (item)
                    putc_(b, '.');
                put(b, p + start, i - start);
                item++;
                start = i + 1;
            }
        }
        return;
    }
    uint32_t npairs = count / 2, item = 0, start = 0;
    for (uint32_t i = 0; i <= n && item < npairs * 2; i++) {
        if (i == n || !p[i]) {
            if (item % 2 == 0) {
                if (item)
                    putc_(b, ',');
                put(b, p + start, i - start);
                putc_(b, ':');
            } else {
                put(b, p + start, i - start);
            }
            item++;
            start = i + 1;
        }
    }
}


/* ------------------------------------------------------------------------- */
/* sockets (fds.py SockInfo views, names; handlers_net.py tuples; netif.py)    */

/* SockInfo views: offsets in the 37-byte area */
#define V4_SIP 0
#define V4_DIP 4
#define V4_SPORT 8
#define V4_DPORT 10
#define V4_L4 12
#define V6_SIP 0
#define V6_DIP 16
#define V6_SPORT 32
#define V6_DPORT 34
#define V6_L4 36
#define SRV4_IP 0
#define SRV4_PORT 4
#define SRV4_L4 6
#define SRV6_IP 0
#define SRV6_PORT 16
#define SRV6_L4 18

static inline unsigned sk16(const struct fdinfo *i, int at) { return rd16(i->sock + at); }
static inline void sk_set16(struct fdinfo *i, int at, unsigned v) { wr16(i->sock + at, (uint16_t)v); }

/* _u16(raw, at): 0 when the value is too short */
static unsigned u16_at(const uint8_t *raw, uint32_t n, uint32_t at)
{
    return n >= at + 2 ? rd16(raw + at) : 0;
}

/* raw[a:b] zero-padded (or cut) to size bytes into out */
static void slice_pad(const uint8_t *raw, uint32_t n, uint32_t a, uint32_t size, uint8_t *out)
{
    memset(out, 0, size);
    if (a < n) {
        uint32_t k = n - a < size ? n - a : size;
        memcpy(out, raw + a, k);
    }
}

static int is_zero(const uint8_t *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int has_role(const struct fdinfo *i) { return (i->flags & (F_ROLE_CLIENT | F_ROLE_SERVER)) != 0; }
static int role_server(const struct fdinfo *i) { return (i->flags & F_ROLE_SERVER) != 0; }
static int role_client(const struct fdinfo *i) { return !role_server(i) && (i->flags & F_ROLE_CLIENT); }
static int is_ip_socket(const struct fdinfo *i) { return i->type == T_IPV4_SOCK || i->type == T_IPV6_SOCK; }
static int is_tcp_ipv4(const struct fdinfo *i) { return i->type == T_IPV4_SOCK && i->sock[V4_L4] == L4_TCP; }
static int is_udp_ipv4(const struct fdinfo *i) { return i->type == T_IPV4_SOCK && i->sock[V4_L4] == L4_UDP; }

static int l4_of(int v) { return v >= 0 && v <= 5 ? v : L4_UNKNOWN; }

/* FdInfo.l4proto() */
static int l4proto(const struct fdinfo *i)
{
    switch (i->type) {
    case T_IPV4_SOCK:
        if (i->sock[V4_L4] == L4_RAW)
            return L4_RAW;
        return has_role(i) ? l4_of(i->sock[V4_L4]) : L4_NA;
    case T_IPV6_SOCK:
        if (i->sock[V6_L4] == L4_RAW)
            return L4_RAW;
        return has_role(i) ? l4_of(i->sock[V6_L4]) : L4_NA;
    case T_IPV4_SERVSOCK:
        return l4_of(i->sock[SRV4_L4]);
    case T_IPV6_SERVSOCK:
        return l4_of(i->sock[SRV6_L4]);
    default:
        return L4_NA;
    }
}

static char typechar(const struct fr_engine *e, const struct fdinfo *i)
{
    if (i->type < 0 || i->type >= 32)
        return '?';
    return (char)e->config->typechar[i->type];
}

/* render.fd_text: <typechar[l4char]>name */
static void put_fd_text(const struct fr_engine *e, struct buf *b, const struct fdinfo *i)
{
    putc_(b, '<');
    putc_(b, (uint8_t)typechar(e, i));
    if (i->type >= T_IPV4_SOCK && i->type <= T_IPV6_SERVSOCK) {
        switch (l4proto(i)) {
        case L4_TCP: putc_(b, 't'); break;
        case L4_UDP: putc_(b, 'u'); break;
        case L4_ICMP: putc_(b, 'i'); break;
        case L4_RAW: putc_(b, 'r'); break;
        default: break;
        }
    }
    putc_(b, '>');
    put_sanitized(b, i->name, i->name_len);
}

static void put_ip4port(struct buf *b, const uint8_t *ip, unsigned port)
{
    put_ipv4(b, ip);
    putc_(b, ':');
    put_u64(b, port);
}

static void put_ip6port(struct buf *b, const uint8_t *ip, unsigned port)
{
    put_ipv6(b, ip);
    putc_(b, ':');
    put_u64(b, port);
}

/* fds.sockinfo_name */
static void sockinfo_name(struct buf *b, const struct fdinfo *i)
{
    const uint8_t *s = i->sock;
    if (i->type == T_IPV4_SOCK) {
        int proto = s[V4_L4];
        if (proto == L4_TCP || proto == L4_UDP) {
            put_ip4port(b, s + V4_SIP, sk16(i, V4_SPORT));
            puts_(b, "->");
            put_ip4port(b, s + V4_DIP, sk16(i, V4_DPORT));
        } else if (proto == L4_ICMP || proto == L4_RAW) {
            put_ipv4(b, s + V4_SIP);
            puts_(b, "->");
            put_ipv4(b, s + V4_DIP);
        } else {
            puts_(b, "<unknown>");
        }
        return;
    }
    if (i->type == T_IPV6_SOCK) {
        int proto = s[V6_L4];
        int mapped = ipv4_mapped(s + V6_SIP) && ipv4_mapped(s + V6_DIP);
        if (proto == L4_TCP || proto == L4_UDP) {
            if (mapped) {
                /* sinsp reads the ports through the IPv4 view here */
                put_ip4port(b, s + V6_SIP + 12, sk16(i, V4_SPORT));
                puts_(b, "->");
                put_ip4port(b, s + V6_DIP + 12, sk16(i, V4_DPORT));
            } else {
                put_ip6port(b, s + V6_SIP, sk16(i, V6_SPORT));
                puts_(b, "->");
                put_ip6port(b, s + V6_DIP, sk16(i, V6_DPORT));
            }
        } else if (proto == L4_ICMP) {
            if (mapped) {
                put_ipv4(b, s + V6_SIP + 12);
                puts_(b, "->");
                put_ipv4(b, s + V6_DIP + 12);
            } else {
                put_ipv6(b, s + V6_SIP);
                puts_(b, "->");
                put_ipv6(b, s + V6_DIP);
            }
        } else {
            puts_(b, "<unknown>");
        }
    }
}

/* The name of an fdinfo from a scratch buffer (borrowed until the plan is applied). */
static void borrow_name(struct fdinfo *i, struct buf *b)
{
    i->name = b->p ? b->p : (uint8_t *)"";
    i->name_len = (uint32_t)b->n;
}

static void swap_v4(struct fdinfo *i)
{
    uint8_t ip[4];
    unsigned port = sk16(i, V4_SPORT);
    memcpy(ip, i->sock + V4_SIP, 4);
    memcpy(i->sock + V4_SIP, i->sock + V4_DIP, 4);
    sk_set16(i, V4_SPORT, sk16(i, V4_DPORT));
    memcpy(i->sock + V4_DIP, ip, 4);
    sk_set16(i, V4_DPORT, port);
}

static void swap_v6(struct fdinfo *i)
{
    uint8_t ip[16];
    unsigned port = sk16(i, V6_SPORT);
    memcpy(ip, i->sock + V6_SIP, 16);
    memcpy(i->sock + V6_SIP, i->sock + V6_DIP, 16);
    sk_set16(i, V6_SPORT, sk16(i, V6_DPORT));
    memcpy(i->sock + V6_DIP, ip, 16);
    sk_set16(i, V6_DPORT, port);
}

/* handlers_net._update_ipv4 */
static int update_ipv4(struct fdinfo *i, const uint8_t *sip, unsigned sport, const uint8_t *dip,
                       unsigned dport)
{
    uint8_t *s = i->sock;
    if (i->type == T_IPV4_SOCK) {
        if ((!memcmp(sip, s + V4_SIP, 4) && sport == sk16(i, V4_SPORT) &&
             !memcmp(dip, s + V4_DIP, 4) && dport == sk16(i, V4_DPORT)) ||
            (!memcmp(dip, s + V4_SIP, 4) && dport == sk16(i, V4_SPORT) &&
             !memcmp(sip, s + V4_DIP, 4) && sport == sk16(i, V4_DPORT)))
            return 0;
    }
    int changed = 0;
    if (memcmp(s + V4_SIP, sip, 4)) {
        memcpy(s + V4_SIP, sip, 4);
        changed = 1;
    }
    if (sk16(i, V4_SPORT) != sport) {
        sk_set16(i, V4_SPORT, sport);
        changed = 1;
    }
    if (is_zero(s + V4_DIP, 4)) {
        memcpy(s + V4_DIP, dip, 4);
        changed = 1;
    }
    if (sk16(i, V4_DPORT) == 0) {
        sk_set16(i, V4_DPORT, dport);
        changed = 1;
    }
    return changed;
}

/* set_ipv4_tuple (raw: an AF_INET tuple of 13 bytes) */
static int set_ipv4_tuple(struct fdinfo *i, const uint8_t *raw)
{
    return update_ipv4(i, raw + 1, rd16(raw + 5), raw + 7, rd16(raw + 11));
}

/* set_ipv4_mapped_tuple (raw: an AF_INET6 tuple of 37 bytes) */
static int set_ipv4_mapped_tuple(struct fdinfo *i, const uint8_t *raw)
{
    return update_ipv4(i, raw + 13, rd16(raw + 17), raw + 31, rd16(raw + 35));
}

/* set_ipv6_tuple (raw: an AF_INET6 tuple of 37 bytes) */
static int set_ipv6_tuple(struct fdinfo *i, const uint8_t *raw)
{
    uint8_t *s = i->sock;
    const uint8_t *sip = raw + 1, *dip = raw + 19;
    unsigned sport = rd16(raw + 17), dport = rd16(raw + 35);
    if (i->type == T_IPV6_SOCK) {
        if ((!memcmp(sip, s + V6_SIP, 16) && sport == sk16(i, V6_SPORT) &&
             !memcmp(dip, s + V6_DIP, 16) && dport == sk16(i, V6_DPORT)) ||
            (!memcmp(dip, s + V6_SIP, 16) && dport == sk16(i, V6_SPORT) &&
             !memcmp(sip, s + V6_DIP, 16) && sport == sk16(i, V6_DPORT)))
            return 0;
    }
    int changed = 0;
    if (memcmp(s + V6_SIP, sip, 16)) {
        memcpy(s + V6_SIP, sip, 16);
        changed = 1;
    }
    if (sk16(i, V6_SPORT) != sport) {
        sk_set16(i, V6_SPORT, sport);
        changed = 1;
    }
    if (is_zero(s + V6_DIP, 16)) {
        memcpy(s + V6_DIP, dip, 16);
        changed = 1;
    }
    if (sk16(i, V6_DPORT) == 0) {
        sk_set16(i, V6_DPORT, dport);
        changed = 1;
    }
    return changed;
}

static int both_mapped(const uint8_t *raw)
{
    return ipv4_mapped(raw + 1) && ipv4_mapped(raw + 19);
}

/* A tuple of a family with a fixed size must have it (the C side does not reproduce
   what the Python code does with short ones). */
static int tuple_ok(const uint8_t *raw, uint32_t n)
{
    if (!n)
        return 1;
    if (raw[0] == AF_INET_)
        return n == 13;
    if (raw[0] == AF_INET6_)
        return n == 37;
    if (raw[0] == AF_UNIX_)
        return n >= 17;
    return 1;
}

/* _unix_pair: the two pointers at bytes 1-16, zero-padded */
static void set_unix_pair(struct fdinfo *i, const uint8_t *raw, uint32_t n)
{
    uint8_t tmp[16];
    slice_pad(raw, n, 1, 16, tmp);
    memcpy(i->sock, tmp, 16);
}

/* netif.NetworkInterfaces._infer_* */
static void infer_ip(const struct fr_config *c, int v6, const uint8_t *dest, uint8_t *out)
{
    int size = v6 ? 16 : 4;
    uint32_t n = v6 ? c->n_ipv6 : c->n_ipv4;
    const uint8_t *tab = v6 ? c->ipv6 : c->ipv4;
    static const uint8_t loop4[4] = {127, 0, 0, 1};
    static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    for (uint32_t k = 0; k < n; k++)
        if (!memcmp(tab + 2 * size * k, dest, (size_t)size)) {
            memcpy(out, tab + 2 * size * k, (size_t)size);
            return;
        }
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *a = tab + 2 * size * k, *m = a + size;
        int same = 1;
        if (v6) {
            same = !memcmp(a, dest, 8);
        } else {
            for (int x = 0; x < 4; x++)
                if ((a[x] & m[x]) != (dest[x] & m[x]))
                    same = 0;
        }
        if (same) {
            memcpy(out, a, (size_t)size);
            return;
        }
    }
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *a = tab + 2 * size * k;
        if (memcmp(a, v6 ? loop6 : loop4, (size_t)size)) {
            memcpy(out, a, (size_t)size);
            return;
        }
    }
    memset(out, 0, (size_t)size);
}

/* NetworkInterfaces.complete_tuple */
static void complete_tuple(const struct fr_config *c, struct fdinfo *i)
{
    uint8_t *s = i->sock;
    uint8_t nw[16];
    if (i->type == T_IPV4_SOCK) {
        int zs = is_zero(s + V4_SIP, 4), zd = is_zero(s + V4_DIP, 4);
        if (!zs && !zd)
            return;
        if (zs) {
            infer_ip(c, 0, s + V4_DIP, nw);
            if (!memcmp(nw, s + V4_DIP, 4) && sk16(i, V4_SPORT) == sk16(i, V4_DPORT))
                return;
            memcpy(s + V4_SIP, nw, 4);
        } else {
            infer_ip(c, 0, s + V4_SIP, nw);
            if (!memcmp(nw, s + V4_SIP, 4) && sk16(i, V4_SPORT) == sk16(i, V4_DPORT))
                return;
            memcpy(s + V4_DIP, nw, 4);
        }
    } else if (i->type == T_IPV6_SOCK) {
        int zs = is_zero(s + V6_SIP, 16), zd = is_zero(s + V6_DIP, 16);
        if (!zs && !zd)
            return;
        if (zs) {
            infer_ip(c, 1, s + V6_DIP, nw);
            if (!memcmp(nw, s + V6_DIP, 16) && sk16(i, V6_SPORT) == sk16(i, V6_DPORT))
                return;
            memcpy(s + V6_SIP, nw, 16);
        } else {
            infer_ip(c, 1, s + V6_SIP, nw);
            if (!memcmp(nw, s + V6_SIP, 16) && sk16(i, V6_SPORT) == sk16(i, V6_DPORT))
                return;
            memcpy(s + V6_DIP, nw, 16);
        }
    }
}

/* handlers_net.update_from_tuple: 1 changed (name to update), 0 not; the tuple has
   passed tuple_ok. name: scratch for an AF_UNIX tuple's new name. */
static int update_from_tuple(const struct fr_config *c, struct fdinfo *i, const uint8_t *raw,
                             uint32_t n, struct buf *name)
{
    if (!n)
        return 0;
    uint8_t *s = i->sock;
    uint8_t family = raw[0];
    if (family == AF_INET_) {
        if (i->type == T_IPV4_SERVSOCK)
            s[V4_L4] = s[SRV4_L4];
        i->type = T_IPV4_SOCK;
        if (!set_ipv4_tuple(i, raw))
            return 0;
    } else if (family == AF_INET6_) {
        if (both_mapped(raw)) {
            i->type = T_IPV4_SOCK;
            if (!set_ipv4_mapped_tuple(i, raw))
                return 0;
        } else if (!set_ipv6_tuple(i, raw)) {
            return 0;
        }
    } else if (family == AF_UNIX_) {
        i->type = T_UNIX_SOCK;
        set_unix_pair(i, raw, n);
        name->n = 0;
        uint32_t m = n - 17 < MAX_NAME ? n - 17 : MAX_NAME;
        put(name, raw + 17, c_len(raw + 17, m));
        borrow_name(i, name);
        return 1;
    }
    if (i->type == T_IPV4_SOCK && s[V4_L4] == L4_UNKNOWN)
        s[V4_L4] = L4_UDP;
    else if (i->type == T_IPV6_SOCK && s[V6_L4] == L4_UNKNOWN)
        s[V6_L4] = L4_UDP;
    complete_tuple(c, i);
    return 1;
}

/* handlers_net.add_socket: the FdInfo of a new socket */
static void new_socket(struct fdinfo *i, int64_t domain, int64_t type, int64_t protocol)
{
    memset(i, 0, sizeof *i);
    i->type = T_UNKNOWN;
    if (domain == AF_UNIX_) {
        i->type = T_UNIX_SOCK;
    } else if (domain == AF_INET_ || domain == AF_INET6_) {
        i->type = domain == AF_INET_ ? T_IPV4_SOCK : T_IPV6_SOCK;
        int raw = type == SOCK_RAW_;
        int l4 = L4_UNKNOWN;
        if (protocol == IPPROTO_TCP_)
            l4 = raw ? L4_RAW : L4_TCP;
        else if (protocol == IPPROTO_UDP_)
            l4 = raw ? L4_RAW : L4_UDP;
        else if (protocol == IPPROTO_IP_) {
            if ((type & 0xFF) == SOCK_STREAM_)
                l4 = L4_TCP;
            else if ((type & 0xFF) == SOCK_DGRAM_)
                l4 = L4_UDP;
        } else if (protocol == IPPROTO_ICMP_)
            l4 = raw ? L4_RAW : L4_ICMP;
        else if (protocol == IPPROTO_RAW_)
            l4 = L4_RAW;
        i->sock[domain == AF_INET_ ? V4_L4 : V6_L4] = (uint8_t)l4;
    } else if (domain == AF_NETLINK_) {
        i->type = T_NETLINK;
    }
    if (type & SOCK_CLOEXEC_)
        i->openflags |= O_CLOEXEC_;
}


#define STALE 2

/* One parameter: value into val, resolved form into res. Returns 0, or STALE when
   sinsp writes nothing (the previous parameter text shows), -1 on a callback error. */
static int render_param(struct fr_engine *e, struct thr *th, const struct ev *v, uint32_t i,
                        int32_t spec_id, const uint8_t *p, uint32_t n, struct buf *val,
                        struct buf *res, int depth)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    const struct fr_spec *s = &t->specs[spec_id];
    switch (s->kind) {
    case RK_SIGNED:
        put_number(val, int_of(p, n, (uint32_t)s->size, 1), (uint32_t)s->size, s->fmt);
        return 0;
    case RK_UNSIGNED:
        put_number(val, int_of(p, n, (uint32_t)s->size, 0), (uint32_t)s->size, s->fmt);
        return 0;
    case RK_ERRNO: {
        int64_t x = (int64_t)int_of(p, n, 8, 1);
        put_i64(val, x);
        if (x < 0)
            put_errno_name(e, res, x);
        return 0;
    }
    case RK_FD: {
        int64_t fd = n != 4 ? (int64_t)int_of(p, n, 8, 1) : (int64_t)int_of(p, n, 4, 1);
        put_i64(val, fd);
        if (!th)
            return 0;
        if (fd >= 0) {
            struct fde *f = get_fd(e, th, fd);
            if (P->err)
                return -1;
            if (f)
                put_fd_text(e, res, &f->i);
        } else if (fd == AT_FDCWD) {
            puts_(res, "AT_FDCWD");
        } else {
            put_errno_name(e, res, fd);
        }
        return 0;
    }
    case RK_PID: {
        int64_t pid = n != 4 ? (int64_t)int_of(p, n, 8, 1) : (int64_t)int_of(p, n, 4, 1);
        put_i64(val, pid);
        struct thr *o = get_thread(e, pid, 0);
        if (P->err)
            return -1;
        if (o)
            put(res, o->comm, o->comm_len);
        return 0;
    }
    case RK_CHARBUF:
        put(val, p, c_len(p, n));
        return 0;
    case RK_PATH: {
        if (!n)
            return STALE;
        /* _strcpy_sanitized */
        size_t cl = c_len(p, n);
        size_t before = val->n;
        put_sanitized(val, p, cl);
        if (cl == n && val->n - before == n && n)
            val->n--;
        if (!th || (n >= 4 && !memcmp(p, "<NA>", 4)))
            return 0;
        /* _base_dir (the cwd is always looked up first) */
        if (!get_cwd(e, th))
            return -1;
        struct buf *base = &P->base;
        base->n = 0;
        int done = 0;
        if (s->a >= 0 && (uint32_t)s->a < v->nparams) {
            uint32_t dn;
            const uint8_t *dp = param(v, (uint32_t)s->a, &dn);
            int64_t dirfd = (int64_t)int_of(dp, dn, 8, 1);
            if (dirfd != AT_FDCWD) {
                struct fde *f = get_fd(e, th, dirfd);
                if (P->err)
                    return -1;
                if (f && f->i.name_len) {
                    put_sanitized(base, f->i.name, f->i.name_len);
                    putc_(base, '/');
                }
                done = 1;
            }
        }
        if (!done)
            put(base, th->cwd, th->cwd_len);
        /* concatenate(base, raw, 1 << 62): the resolved form when relative */
        if (p[0] != '/') {
            struct buf *cat = &P->cat;
            cat->n = 0;
            put(cat, base->p, base->n);
            append_normalised(cat, p, cl);
            put(res, cat->p, cat->n);
        }
        return 0;
    }
    case RK_BYTEBUF: {
        size_t at = val->n;
        render_buffer(e, val, p, n);
        e->rawbuf_len = (int64_t)(val->n - at);
        return 0;
    }
    case RK_SOCKADDR:
        render_sockaddr(val, p, n);
        return 0;
    case RK_SOCKTUPLE:
        render_socktuple(val, p, n);
        return 0;
    case RK_FDLIST: {
        if (!th)
            return STALE;
        if (n < 2)
            return 0;
        uint32_t cnt = rd16(p);
        size_t at = val->n;
        uint32_t pos = 2;
        for (uint32_t k = 0; k < cnt; k++) {
            if (pos + 10 > n)
                break;
            int64_t fd = (int64_t)rd64(p + pos);
            int16_t fl = (int16_t)rd16(p + pos + 8);
            struct fde *f = get_fd(e, th, fd);
            if (P->err)
                return -1;
            if (k)
                putc_(val, ' ');
            put_u64(val, (uint64_t)fd);
            putc_(val, ':');
            putc_(val, f ? (uint8_t)typechar(e, &f->i) : '?');
            put_hex(val, (uint32_t)(int32_t)fl, 0);
            pos += 10;
        }
        if (val->n - at > STORAGE - 1)
            val->n = at + STORAGE - 1;
        return 0;
    }
    case RK_SYSCALLID: {
        uint64_t sc = int_of(p, n, 2, 0);
        if (sc >= t->num_syscalls) {
            puts_(val, "<unknown syscall>");
            return 0;
        }
        put_u64(val, sc);
        put_ref(res, t, t->sc_name[sc]);
        return 0;
    }
    case RK_SIGTYPE: {
        uint64_t sig = int_of(p, n, 1, 0);
        put_u64(val, sig);
        put_signal_name(t, res, sig);
        return 0;
    }
    case RK_RELTIME: {
        uint64_t x = int_of(p, n, 8, 0);
        if (x == ~0ULL) {
            puts_(val, "none");
            return 0;
        }
        put_u64(val, x);
        put_fmt(res, "%gs", (double)x / 1e9);
        return 0;
    }
    case RK_FLAGS: {
        uint64_t x = int_of(p, n, (uint32_t)s->size, 0);
        put_u64(val, x);
        if (s->table >= 0)
            put_flags(t, res, s->table, x, s->a == 2);
        return 0;
    }
    case RK_MODE: {
        uint64_t x = int_of(p, n, 4, 0);
        put_number(val, x, 4, s->fmt);
        if (s->table >= 0)
            put_flags(t, res, s->table, x, 0);
        return 0;
    }
    case RK_UID:
    case RK_GID: {
        uint64_t x = int_of(p, n, 4, 0);
        if (x == 0xFFFFFFFFu) {
            puts_(val, "-1");
            puts_(res, "<NONE>");
            return 0;
        }
        struct user_ent *u = get_user(e, (int64_t)x, s->kind == RK_GID);
        if (P->err)
            return -1;
        put_number(val, x, 4, 1);
        if (u && u->len != 0xFFFFFFFFu)
            put(res, u->name, u->len);
        return 0;
    }
    case RK_CHARBUFARRAY:
        put_list(val, p, n, 0);
        return 0;
    case RK_PAIRS:
        put_list(val, p, n, 1);
        return 0;
    case RK_SIGSET: {
        uint64_t x = int_of(p, n, 4, 0);
        int first = 1;
        for (int b = 0; b < 32; b++) {
            if (x >> b & 1 && has_signal_name(t, (uint64_t)b + 1)) {
                if (!first)
                    putc_(val, ' ');
                put_signal_name(t, val, (uint64_t)b + 1);
                first = 0;
            }
        }
        return 0;
    }
    case RK_CONST:
        put_ref(val, t, (uint32_t)s->a);
        return 0;
    case RK_DYN:
        if (!n || s->b <= 0 || p[0] >= s->b || depth > 8) {
            puts_(val, "INVALID DYNAMIC PARAMETER");
            return 0;
        }
        return render_param(e, th, v, i, s->a + p[0], p + 1, n - 1, val, res, depth + 1);
    default:
        puts_(val, "(n.a.)");
        return 0;
    }
}

/* event_args(ctx): every parameter as name=value[(resolved)] followed by a space */
static int render_info(struct fr_engine *e, struct thr *th, const struct ev *v, struct buf *out)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    uint32_t code = v->type;
    uint8_t count = t->plan_count[code];
    if (count == 255 || t->generic[code])
        return 0;
    uint32_t k = v->nparams < count ? v->nparams : count;
    uint32_t start = t->plan_start[code];
    for (uint32_t i = 0; i < k; i++) {
        uint32_t n;
        const uint8_t *p = param(v, i, &n);
        P->val.n = 0;
        P->res.n = 0;
        int r = render_param(e, th, v, i, t->plan_spec[start + i], p, n, &P->val, &P->res, 0);
        if (r < 0)
            return -1;
        struct buf *value;
        if (r != STALE) {  /* (the text is the storage's now: the buffers trade places) */
            struct buf x = P->paramstr;
            P->paramstr = P->val;
            P->val = x;
            e->paramstr_changed = 1;
        }
        value = &P->paramstr;
        put_ref(out, t, t->plan_name[start + i]);
        putc_(out, '=');
        put(out, value->p, value->n);
        if (P->res.n) {
            putc_(out, '(');
            put(out, P->res.p, P->res.n);
            putc_(out, ')');
        }
        putc_(out, ' ');
    }
    return 0;
}


/* jsoncpp's lenient UTF-8 reading (render._codepoint) */
static uint32_t codepoint(const uint8_t *b, size_t i, size_t n, size_t *used)
{
    uint8_t first = b[i];
    size_t left = n - i;
    if (first < 0x80) {
        *used = 1;
        return first;
    }
    if (first < 0xE0) {
        if (left < 2) {
            *used = 1;
            return 0xFFFD;
        }
        uint32_t cp = (uint32_t)(first & 0x1F) << 6 | (b[i + 1] & 0x3F);
        *used = 2;
        return cp < 0x80 ? 0xFFFD : cp;
    }
    if (first < 0xF0) {
        if (left < 3) {
            *used = 1;
            return 0xFFFD;
        }
        uint32_t cp = (uint32_t)(first & 0x0F) << 12 | (uint32_t)(b[i + 1] & 0x3F) << 6 |
                      (b[i + 2] & 0x3F);
        *used = 3;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp < 0x800)
            return 0xFFFD;
        return cp;
    }
    if (first < 0xF8) {
        if (left < 4) {
            *used = 1;
            return 0xFFFD;
        }
        uint32_t cp = (uint32_t)(first & 0x07) << 18 | (uint32_t)(b[i + 1] & 0x3F) << 12 |
                      (uint32_t)(b[i + 2] & 0x3F) << 6 | (b[i + 3] & 0x3F);
        *used = 4;
        return cp < 0x10000 ? 0xFFFD : cp;
    }
    *used = 1;
    return 0xFFFD;
}

/* render.json_quote */
static void json_quote(struct buf *o, const uint8_t *b, size_t n)
{
    n = c_len(b, n);
    putc_(o, '"');
    size_t i = 0;
    while (i < n) {
        uint8_t c = b[i];
        const char *esc = NULL;
        switch (c) {
        case 0x22: esc = "\\\""; break;
        case 0x5C: esc = "\\\\"; break;
        case 0x08: esc = "\\b"; break;
        case 0x0C: esc = "\\f"; break;
        case 0x0A: esc = "\\n"; break;
        case 0x0D: esc = "\\r"; break;
        case 0x09: esc = "\\t"; break;
        default: break;
        }
        if (esc) {
            puts_(o, esc);
            i++;
            continue;
        }
        if (c < 0x20) {
            put_fmt(o, "\\u%04x", c);
            i++;
            continue;
        }
        if (c < 0x80) {
            /* a run of plain characters */
            size_t j = i + 1;
            while (j < n && b[j] >= 0x20 && b[j] < 0x80 && b[j] != 0x22 && b[j] != 0x5C)
                j++;
            put(o, b + i, j - i);
            i = j;
            continue;
        }
        size_t used;
        uint32_t cp = codepoint(b, i, n, &used);
        i += used;
        if (cp < 0x10000) {
            put_fmt(o, "\\u%04x", cp);
        } else {
            cp -= 0x10000;
            put_fmt(o, "\\u%04x\\u%04x", 0xD800 + (cp >> 10 & 0x3FF), 0xDC00 + (cp & 0x3FF));
        }
    }
    putc_(o, '"');
}

/* floor division and modulo, as Python's // and % */
static int64_t floordiv64(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static void put_secs(struct buf *b, int64_t d)
{
    int64_t q = floordiv64(d, (int64_t)NS);
    int64_t r = d - q * (int64_t)NS;
    put_i64(b, q);
    putc_(b, '.');
    put_padded(b, (uint64_t)r, 9);
}

static void put_outputtime(struct fr_engine *e, struct buf *b, const struct ev *v,
                           struct thr *th)
{
    switch (e->time_format) {
    case 'a':
        put_u64(b, v->ts / NS);
        putc_(b, '.');
        put_u64(b, v->ts % NS);
        return;
    case 'r': {
        uint64_t d = v->ts - e->first_ts;
        put_u64(b, d / NS);
        putc_(b, '.');
        put_padded(b, d % NS, 9);
        return;
    }
    case 'd':
        if (!th) {
            puts_(b, "0.000000000");
            return;
        }
        put_secs(b, th->latency);
        return;
    default: {
        int64_t local = (int64_t)(v->ts / NS) + e->tz_offset;
        int64_t s = local - floordiv64(local, 86400) * 86400;
        if (s / 3600 < 100)
            put_padded(b, (uint64_t)(s / 3600), 2);
        else
            put_u64(b, (uint64_t)(s / 3600));
        putc_(b, ':');
        put_padded(b, (uint64_t)(s % 3600 / 60), 2);
        putc_(b, ':');
        put_padded(b, (uint64_t)(s % 60), 2);
        putc_(b, '.');
        put_padded(b, v->ts % NS, 9);
        return;
    }
    }
}

/* evt.type */
static void put_type(const struct fr_tables *t, struct buf *b, const struct ev *v)
{
    uint32_t code = v->type;
    if (t->generic[code] && v->nparams && v->plen[0] >= 2) {
        uint32_t sc = rd16(v->payload + v->poff[0]);
        if (sc < t->num_sc_type && t->sc_type[sc] != NONE_STR) {
            put_ref(b, t, t->sc_type[sc]);
            return;
        }
    }
    put_ref(b, t, t->tname[code]);
}

/* sinsp's syslog decoder (state/syslog.py): a successful write of "<PRI>MESSAGE" to an
   fd whose name holds /dev/log shows as "syslog sev=SEVERITY msg=MESSAGE" in evt.info.
   Writes that to info (and returns 1), or returns 0. f: the event's own fd, after it was
   parsed (NULL: none, or not parsed). */
static int syslog_info(const struct ev *v, const struct fde *f, struct buf *info)
{
    static const char *const sev_names[8] = {"emerg", "alert", "crit", "err", "warn",
                                             "notice", "info", "debug"};
    if (!f || v->nparams < 2)
        return 0;
    int named = 0;
    for (uint32_t k = 0; !named && k + 8 <= f->i.name_len; k++)
        named = !memcmp(f->i.name + k, "/dev/log", 8);
    if (!named)
        return 0;
    uint32_t n0, n;
    const uint8_t *p0 = param(v, 0, &n0), *d = param(v, 1, &n);
    uint8_t res[8] = {0};
    memcpy(res, p0, n0 < 8 ? n0 : 8);
    if ((int64_t)rd64(res) < 0)
        return 0;
    size_t end = 1;
    while (end < n && end - 1 < 15 && d[end] != '>' && d[end] != 0)
        end++;
    size_t plen = end > 1 ? end - 1 : 0;
    if (!plen || n < plen + 2)
        return 0;
    uint32_t value = 0;
    for (size_t k = 1; k < end; k++) {
        if (d[k] < '0' || d[k] > '9')
            return 0;
        value = value * 10 + (uint32_t)(d[k] - '0');
    }
    if ((int32_t)value == -1)
        return 0;
    const uint8_t *msg = d + plen + 2;
    puts_(info, "syslog sev=");
    puts_(info, sev_names[value & 7]);
    puts_(info, " msg=");
    put(info, msg, c_len(msg, n - (plen + 2)));
    return 1;
}

/* The line of the default format (text or JSON); evt_fd: the event's own fd when it was
   parsed and may be a syslog write (else NULL). */
static int render_line(struct fr_engine *e, const struct ev *v, struct thr *th,
                       const struct fde *evt_fd)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    struct buf *o = &P->out;
    const char *dir = v->type & 1 ? "<" : ">";
    if (!e->json) {
        put_u64(o, v->num);
        putc_(o, ' ');
        put_outputtime(e, o, v, th);
        putc_(o, ' ');
        put_u64(o, v->cpu);
        putc_(o, ' ');
        if (th)
            put(o, th->comm, th->comm_len);
        else
            puts_(o, "<NA>");
        puts_(o, " (");
        put_i64(o, v->tid);
        puts_(o, ") ");
        puts_(o, dir);
        putc_(o, ' ');
        put_type(t, o, v);
        putc_(o, ' ');
        if (!syslog_info(v, evt_fd, o) && render_info(e, th, v, o) < 0)
            return -1;
        putc_(o, '\n');
        return 0;
    }
    P->info.n = 0;
    if (!syslog_info(v, evt_fd, &P->info) && render_info(e, th, v, &P->info) < 0)
        return -1;
    puts_(o, "{\"evt.cpu\":");
    put_u64(o, v->cpu);
    puts_(o, ",\"evt.dir\":\"");
    puts_(o, dir);
    puts_(o, "\",\"evt.info\":");
    json_quote(o, P->info.p, P->info.n);
    puts_(o, ",\"evt.num\":");
    put_u64(o, v->num);
    puts_(o, ",\"evt.outputtime\":");
    put_u64(o, v->ts);
    puts_(o, ",\"evt.type\":");
    P->tmp.n = 0;
    put_type(t, &P->tmp, v);
    json_quote(o, P->tmp.p, P->tmp.n);
    puts_(o, ",\"proc.name\":");
    if (th)
        json_quote(o, th->comm, th->comm_len);
    else
        puts_(o, "null");
    puts_(o, ",\"thread.tid\":");
    put_i64(o, v->tid);
    puts_(o, "}\n");
    return 0;
}


/* ------------------------------------------------------------------------- */
/* filters (fastfilter.py; the semantics of filter/compiler.py)                */

static int bytes_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static uint8_t fold(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

static int find(const uint8_t *h, size_t hn, const uint8_t *n, size_t nn, int casefold)
{
    if (nn > hn)
        return 0;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        if (casefold)
            while (k < nn && fold(h[i + k]) == fold(n[k]))
                k++;
        else
            while (k < nn && h[i + k] == n[k])
                k++;
        if (k == nn)
            return 1;
    }
    return 0;
}

static int test_str(const struct fr_filter *f, const struct fr_fnode *n, const uint8_t *x,
                    size_t xn)
{
    const uint8_t *s = f->svals[n->a];
    size_t sn = f->slens[n->a];
    switch (n->op) {
    case FO_EQ: return xn == sn && !memcmp(x, s, sn);
    case FO_NE: return !(xn == sn && !memcmp(x, s, sn));
    case FO_LT: return bytes_order(x, xn, s, sn) < 0;
    case FO_LE: return bytes_order(x, xn, s, sn) <= 0;
    case FO_GT: return bytes_order(x, xn, s, sn) > 0;
    case FO_GE: return bytes_order(x, xn, s, sn) >= 0;
    case FO_IN:
        for (int32_t k = 0; k < n->b; k++)
            if (xn == f->slens[n->a + k] && !memcmp(x, f->svals[n->a + k], xn))
                return 1;
        return 0;
    case FO_CONTAINS: return find(x, xn, s, sn, 0);
    case FO_ICONTAINS: return find(x, xn, s, sn, 1);
    case FO_STARTSWITH: return xn >= sn && !memcmp(x, s, sn);
    case FO_ENDSWITH: return xn >= sn && !memcmp(x + xn - sn, s, sn);
    default: return 0;
    }
}

static int test_int(const struct fr_filter *f, const struct fr_fnode *n, int64_t x, int uns)
{
    int64_t s = f->ivals[n->a];
#define ORD(op) (uns ? (uint64_t)x op (uint64_t)s : x op s)
    switch (n->op) {
    case FO_EQ: return x == s;
    case FO_NE: return x != s;
    case FO_LT: return ORD(<);
    case FO_LE: return ORD(<=);
    case FO_GT: return ORD(>);
    case FO_GE: return ORD(>=);
    case FO_IN:
        for (int32_t k = 0; k < n->b; k++)
            if (f->ivals[n->a + k] == x)
                return 1;
        return 0;
    default: return 0;
    }
#undef ORD
}

/* The filter's verdict on the event as the fields see it (thread th). */
static int judge(struct fr_engine *e, int32_t i, const struct ev *v, struct thr *th)
{
    const struct fr_filter *f = e->filter;
    const struct fr_fnode *n = &f->nodes[i];
    switch (n->kind) {
    case FN_AND:
        for (int32_t k = 0; k < n->b; k++)
            if (!judge(e, f->kids[n->a + k], v, th))
                return 0;
        return 1;
    case FN_OR:
        for (int32_t k = 0; k < n->b; k++)
            if (judge(e, f->kids[n->a + k], v, th))
                return 1;
        return 0;
    case FN_NOT:
        return !judge(e, n->a, v, th);
    default:
        break;
    }
    struct priv *P = e->priv;
    switch (n->field) {
    case FF_EVT_TYPE:
        P->tmp.n = 0;
        put_type(P->t, &P->tmp, v);
        return n->op == FO_EXISTS || test_str(f, n, P->tmp.p ? P->tmp.p : (uint8_t *)"",
                                              P->tmp.n);
    case FF_EVT_DIR:
        return n->op == FO_EXISTS ||
               test_str(f, n, (const uint8_t *)(v->type & 1 ? "<" : ">"), 1);
    case FF_PROC_NAME:
        if (!th)
            return 0;
        return n->op == FO_EXISTS || test_str(f, n, th->comm, th->comm_len);
    case FF_THREAD_TID:
        return n->op == FO_EXISTS || test_int(f, n, v->tid, 0);
    case FF_PROC_PID:
        if (!th)
            return 0;
        return n->op == FO_EXISTS || test_int(f, n, th->pid, 0);
    case FF_EVT_NUM:
        return n->op == FO_EXISTS || test_int(f, n, (int64_t)v->num, 1);
    case FF_EVT_CPU:
        return n->op == FO_EXISTS || test_int(f, n, (int64_t)v->cpu, 0);
    default:
        return 0;
    }
}

/* The filter's verdict from the event code alone: 0 or 1, or 2 when it depends on more
   (another field, or the evt.type of a generic event). judge() gives the same 0 or 1. */
static int judge_static(struct fr_engine *e, int32_t i, uint32_t code)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    const struct fr_filter *f = e->filter;
    const struct fr_fnode *n = &f->nodes[i];
    int r, k;
    switch (n->kind) {
    case FN_AND:
        r = 1;
        for (int32_t c = 0; c < n->b; c++) {
            k = judge_static(e, f->kids[n->a + c], code);
            if (k == 0)
                return 0;
            if (k == 2)
                r = 2;
        }
        return r;
    case FN_OR:
        r = 0;
        for (int32_t c = 0; c < n->b; c++) {
            k = judge_static(e, f->kids[n->a + c], code);
            if (k == 1)
                return 1;
            if (k == 2)
                r = 2;
        }
        return r;
    case FN_NOT:
        k = judge_static(e, n->a, code);
        return k == 2 ? 2 : !k;
    default:
        break;
    }
    if (n->field == FF_EVT_TYPE && !t->generic[code]) {
        const uint8_t *p;
        size_t len;
        if (n->op == FO_EXISTS)
            return 1;
        if (!blob_str(t, t->tname[code], &p, &len)) {
            p = (const uint8_t *)"";
            len = 0;
        }
        return test_str(f, n, p, len);
    }
    if (n->field == FF_EVT_DIR)
        return n->op == FO_EXISTS || test_str(f, n, (const uint8_t *)(code & 1 ? "<" : ">"), 1);
    return 2;
}

/* judge(), from the table of verdicts by code when the code decides. */
static int judge_event(struct fr_engine *e, const struct ev *v, struct thr *th)
{
    struct priv *P = e->priv;
    const struct fr_filter *f = e->filter;
    if (P->verdict_for != f) {
        uint32_t n = P->t->num_events;
        uint8_t *x = realloc(P->verdict, n ? n : 1);
        if (x) {
            for (uint32_t c = 0; c < n; c++)
                x[c] = (uint8_t)judge_static(e, (int32_t)f->nnodes - 1, c);
            P->verdict = x;
            P->verdict_for = f;
        }
    }
    if (P->verdict_for == f && P->verdict[v->type] != 2)
        return P->verdict[v->type];
    return judge(e, (int32_t)f->nnodes - 1, v, th);
}

/* ------------------------------------------------------------------------- */
/* the engine: one event                                                       */

#define SLOW_() do { e->slow_line = __LINE__; return FR_SLOW; } while (0)
#define ERR_() do { e->slow_line = __LINE__; return P->err == CB_SLOW ? FR_SLOW :                 \
                                                   P->err == CB_SYNC ? FR_SYNC : FR_ERROR; } while (0)

/* What an event will change, worked out before anything is changed. fdinfo names in a
   plan point to scratch buffers; they are copied when the plan is applied. */
struct plan {
    /* what the event does: zeroed for each event (the values below are read only when
       their flag says so) */
    int nadd;                    /* table.add(fd, info) */
    struct fde *put;             /* an existing fd that gets new content */
    struct fde *flag_fd;         /* an existing fd that gets new flags only */
    int set_le_fd;               /* thread.lastevent_fd = le_fd_val */
    int remove;                  /* erase_fd(thread, thread.lastevent_fd) */
    struct thr *vm_thr;          /* gets vm_* */
    int pf;                      /* thread gets pfmajor/pfminor */
    struct thr *fdlimit_thr;     /* gets fdlimit */
    int64_t flagbits;            /* thread.flags |= */
    int store;                   /* store_enter by the handler (fcntl) */
    int exit;                    /* procexit: the thread is removed before the next event */
    int reaper_set;
    int clone;                   /* clone_exit, parent side: a new thread (c_*) */
    int exec;                    /* execve_exit (x_*) */
    /* values */
    int64_t flag_val, le_fd_val, vm[3], pfv[2], fdlimit, reaper;
    int32_t add_tab[2];
    int64_t add_fd[2];
    struct fdinfo add_i[2];
    struct fdinfo put_i;
    int64_t c_tid, c_pid, c_flags;
    const uint8_t *c_comm;
    uint32_t c_comm_len;
    int c_uid_none;
    struct thr *c_parent;        /* the thread that cloned */
    struct thr *c_main;          /* CLONE_THREAD: the process's main thread (its nchilds) */
    struct thr *c_cwd;           /* the thread whose cwd (threads.cwd) the child has */
    int c_table;                 /* its own table: 0 an unused empty one, 1 a new empty one
                                    it uses, 2 a copy of c_src (P->cpy) */
    int32_t c_src, c_shared;     /* the table copied; the main's table it shares */
    int64_t c_nsrc;
    const uint8_t *x_comm;
    uint32_t x_comm_len;
    int x_fdlimit_set, x_pf;
    int64_t x_fdlimit, x_pfv[2], x_vm[3];
};

/* Can table.add(fd) be done here (the cases it handles differently are Python's)?
   pending: adds planned earlier in this event. */
static int plan_add(struct fr_engine *e, struct thr *th, int64_t fd, struct plan *pl,
                    const struct fdinfo *i)
{
    struct priv *P = e->priv;
    if (fd < 0 || pl->nadd == 2)
        SLOW_();
    int32_t tab = fd_table(e, th);
    if (tab == -2)
        ERR_();
    if (tab < 0)
        SLOW_();
    int64_t fresh = 0;
    for (int k = 0; k < pl->nadd; k++) {
        if (pl->add_tab[k] == tab && pl->add_fd[k] == fd)
            SLOW_();
        fresh += pl->add_tab[k] == tab;
    }
    struct fde *cur = get_fd_in(e, tab, fd);
    if (P->err)
        ERR_();
    if (cur) {
        if (cur->i.flags & F_CLOSE_IN_PROGRESS)
            SLOW_();
    } else if (P->tabs[tab].len + fresh >= e->max_fds_per_thread ||
               e->budget_used + pl->nadd >= e->max_fds_total) {
        SLOW_();
    }
    pl->add_tab[pl->nadd] = tab;
    pl->add_fd[pl->nadd] = fd;
    pl->add_i[pl->nadd] = *i;
    pl->nadd++;
    pl->set_le_fd = 1;  /* threads.add_fd */
    pl->le_fd_val = fd;
    return FR_MORE;
}

/* open_exit (handlers_files.py), up to the fd it adds. */
static int plan_open(struct fr_engine *e, struct thr *th, const struct ev *v, int kind,
                     const struct ev *en, struct plan *pl)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    if (kind == FK_OPENAT_X && !en)
        return FR_MORE;  /* the oldest openat exit needs its enter event */
    int64_t fd = 0;
    int has_fd = arg_int(t, v, FA_FD, &fd);
    if (has_fd < 0)
        SLOW_();
    const uint8_t *name = (const uint8_t *)"", *tp;
    uint32_t name_n = 0, tn;
    int64_t flags = 0, dev = 0, dirfd = 0;
    int at = 0;  /* the directory comes from dirfd_base */
    if (kind == FK_OPEN_X || kind == FK_CREAT_X) {
        if ((tp = arg_raw(t, v, FA_NAME, &tn))) {
            name = tp;
            name_n = tn;
        }
        if (kind == FK_OPEN_X && arg_int(t, v, FA_FLAGS, &flags) < 0)
            SLOW_();
        if (v->nparams > (kind == FK_OPEN_X ? 4u : 3u) && arg_int(t, v, FA_DEV, &dev) < 0)
            SLOW_();
        if (en && en->nparams >= (kind == FK_OPEN_X ? 2u : 1u)) {
            uint32_t en_n = 0;
            const uint8_t *ep = arg_raw(t, en, FA_NAME, &en_n);
            if (ep && en_n && !(c_len(ep, en_n) == 6 && !memcmp(ep, "(NULL)", 6))) {
                name = ep;
                name_n = en_n;
                if (kind == FK_OPEN_X) {
                    flags = 0;
                    if (arg_int(t, en, FA_FLAGS, &flags) < 0)
                        SLOW_();
                }
            }
        }
    } else if (kind == FK_OPENAT_X) {
        if ((tp = arg_raw(t, en, FA_NAME, &tn))) {
            name = tp;
            name_n = tn;
        }
        if (arg_int(t, en, FA_FLAGS, &flags) < 0 || arg_int(t, en, FA_DIRFD, &dirfd) < 0)
            SLOW_();
        at = 1;
    } else {
        if ((tp = arg_raw(t, v, FA_NAME, &tn))) {
            name = tp;
            name_n = tn;
        }
        if (arg_int(t, v, FA_FLAGS, &flags) < 0 || arg_int(t, v, FA_DIRFD, &dirfd) < 0)
            SLOW_();
        if ((t->special[v->type] & SP_OPENAT_2) && v->nparams > 5 &&
            arg_int(t, v, FA_DEV, &dev) < 0)
            SLOW_();
        if (en && en->nparams >= 3) {
            uint32_t en_n = 0;
            const uint8_t *ep = arg_raw(t, en, FA_NAME, &en_n);
            if (ep && en_n && !(c_len(ep, en_n) == 6 && !memcmp(ep, "(NULL)", 6))) {
                name = ep;
                name_n = en_n;
                flags = 0;
                dirfd = 0;
                if (arg_int(t, en, FA_FLAGS, &flags) < 0 ||
                    arg_int(t, en, FA_DIRFD, &dirfd) < 0)
                    SLOW_();
            }
        }
        at = 1;
    }
    /* the directory: the cwd, or dirfd_base */
    struct buf *dir = &P->dir;
    dir->n = 0;
    if (!at || (!(name_n && name[0] == '/') && dirfd == AT_FDCWD)) {
        if (!get_cwd(e, th))
            ERR_();
        put(dir, th->cwd, th->cwd_len);
    } else if (name_n && name[0] == '/') {
        putc_(dir, '.');
    } else {
        struct fde *df = get_fd(e, th, dirfd);
        if (P->err)
            ERR_();
        if (!df) {
            puts_(dir, "<UNKNOWN>");
        } else {
            put(dir, df->i.name, df->i.name_len);
            putc_(dir, '/');
        }
    }
    concatenate(&P->path, dir->p, dir->n, name, name_n, (uint64_t)e->max_path);
    if (!has_fd || fd < 0)
        return FR_MORE;
    struct fdinfo i;
    memset(&i, 0, sizeof i);
    i.type = (flags & O_DIRECTORY_) ? T_DIRECTORY : T_FILE_V2;
    i.openflags = flags;
    i.dev = dev;
    int tracer = P->path.n == 9 && !memcmp(P->path.p, "/dev/null", 9);
    i.flags = tracer ? F_TRACER_FILE : F_NOT_TRACER;
    borrow_name(&i, &P->path);
    return plan_add(e, th, fd, pl, &i);
}

static int64_t fd_list(struct fr_engine *e, int32_t tab);

/* handlers_net.guess_role for ni, the new content of cfd (a socket of th's table without
   a role): a process that owns the local port is the server. The other fds are read as
   the table holds them, cfd as it is now (Python changed it in place). */
static int guess_role(struct fr_engine *e, struct thr *th, struct fde *cfd, struct fdinfo *ni,
                      int incoming)
{
    struct priv *P = e->priv;
    int32_t tab = th ? fd_table(e, th) : -1;
    if (tab == -2)
        ERR_();
    int64_t n = 0;
    if (tab >= 0) {
        n = fd_list(e, tab);
        if (n == -1)
            ERR_();
        if (n < 0)
            SLOW_();
    }
    unsigned dport = sk16(ni, V4_DPORT), sport = sk16(ni, V4_SPORT);
    int bound = 0, client_port = 0;
    for (int64_t k = 0; k < n; k++) {
        const struct fdinfo *i = P->cpy[k] == cfd ? ni : &P->cpy[k]->i;
        if ((i->type == T_IPV4_SOCK && sk16(i, V4_DPORT) == dport) ||
            (i->type == T_IPV4_SERVSOCK && sk16(i, SRV4_PORT) == dport))
            bound = 1;
        if (i->type == T_IPV4_SOCK && sk16(i, V4_SPORT) == sport)
            client_port = 1;
    }
    if (bound && !client_port)
        ni->flags |= F_ROLE_SERVER;
    else if (bound)
        ni->flags |= incoming ? F_ROLE_SERVER : F_ROLE_CLIENT;  /* (it has no role yet) */
    else
        ni->flags |= F_ROLE_CLIENT;
    return FR_MORE;
}

/* transfer_exit (handlers_net.py) */
static int plan_transfer(struct fr_engine *e, const struct ev *v, struct thr *th,
                         struct fde *cfd, const struct ev *en, struct plan *pl)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    int64_t res = 0;
    if (!cfd)
        return FR_MORE;
    int rr = arg_int(t, v, FA_RES, &res);
    if (rr < 0)
        SLOW_();
    if (!rr)
        return FR_MORE;
    if (res < 0) {
        if (e->track_connection_status && is_ip_socket(&cfd->i)) {
            pl->flag_fd = cfd;
            pl->flag_val = (cfd->i.flags & ~F_CONNECTION) | F_FAILED;
        }
        return FR_MORE;
    }
    struct fdinfo ni = cfd->i;
    if (is_ip_socket(&ni))
        ni.flags = (ni.flags & ~F_CONNECTION) | F_CONNECTED;
    int changed = 0;
    if ((t->special[v->type] & SP_TUPLE) && (cfd->i.name_len == 0 || !is_tcp_ipv4(&cfd->i))) {
        int incoming = (t->eflags[v->type] & EF_READS_FROM_FD) != 0;
        const uint8_t *raw = NULL;
        uint32_t n = 0;
        if (incoming)
            raw = arg_raw(t, v, FA_TUPLE, &n);
        else if (en)
            raw = arg_raw(t, en, FA_TUPLE, &n);
        if (raw) {
            if (!tuple_ok(raw, n))
                SLOW_();
            struct buf *nm = &P->name1;
            int r = update_from_tuple(e->config, &ni, raw, n, nm);
            if (r < 0)
                return FR_ERROR;
            if (r) {
                /* _name_after_update */
                struct buf *nm2 = &P->name2;
                nm2->n = 0;
                if (is_ip_socket(&ni)) {
                    if (!has_role(&ni)) {
                        int g = guess_role(e, th, cfd, &ni, incoming);
                        if (g != FR_MORE)
                            return g;
                    }
                    if (incoming ? role_client(&ni) : role_server(&ni)) {
                        if (ni.type == T_IPV4_SOCK)
                            swap_v4(&ni);
                        else
                            swap_v6(&ni);
                    }
                    sockinfo_name(nm2, &ni);
                } else {
                    render_socktuple(nm2, raw, n);
                }
                borrow_name(&ni, nm2);
                changed = 1;
            }
        }
    }
    if (changed) {
        pl->put = cfd;
        pl->put_i = ni;
    } else if (ni.flags != cfd->i.flags) {
        pl->flag_fd = cfd;
        pl->flag_val = ni.flags;
    }
    return FR_MORE;
}

/* fill_client (connect exit) on ni; 0 ok, FR_SLOW */
static int fill_client(struct priv *P, struct fdinfo *ni, const uint8_t *raw, uint32_t n)
{
    struct buf *nm = &P->name1;
    nm->n = 0;
    uint8_t family = raw[0];
    if (family == AF_INET_ || family == AF_INET6_) {
        if (!tuple_ok(raw, n))
            return FR_SLOW;
        int changed;
        if (family == AF_INET6_ && !both_mapped(raw)) {
            ni->type = T_IPV6_SOCK;
            changed = set_ipv6_tuple(ni, raw);
        } else if (family == AF_INET6_) {
            ni->type = T_IPV4_SOCK;
            changed = set_ipv4_mapped_tuple(ni, raw);
        } else {
            ni->type = T_IPV4_SOCK;
            changed = set_ipv4_tuple(ni, raw);
        }
        if (changed && role_server(ni) && is_udp_ipv4(ni)) {
            if (ni->type == T_IPV4_SOCK)
                swap_v4(ni);
            else
                swap_v6(ni);
        }
        sockinfo_name(nm, ni);
    } else {
        render_socktuple(nm, raw, n);
        set_unix_pair(ni, raw, n);
    }
    borrow_name(ni, nm);
    if (!has_role(ni))
        ni->flags |= F_ROLE_CLIENT;
    return FR_MORE;
}


/* ------------------------------------------------------------------------- */
/* thread operations: clone, execve, removal (handlers_process.py)             */

/* The change log (fr_log): thread operations and, between them, the fd changes made
   before each (so that Python applies everything in the order it happened). Records:
   u32 length, u8 kind, u8 cancelled, u16 0, i64 tid, then by kind: */
#define TOP_FDS 1      /* u32 count, fd records as fr_export's */
#define TOP_CLONE 2    /* i64 child, i32 its table index (-1 none), u32 cpu, u64 num,
                          u64 offset, u32 dump flags, u32 length, the event (v2) */
#define TOP_EXEC 3     /* u32 cpu, u32 dump flags, u64 num, u64 offset, u32 length,
                          u32 enter length, the event (v2), the enter event (v2) */
#define TOP_REMOVE 4   /* (nothing) */
#define TOP_CREATE 5   /* i32 its table index: threads.get_or_create(tid) */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The fds of table tab into P->cpy (looked up as needed: phase 0 only). Returns how
   many, -1 on error (P->err), -2 when this side cannot list them (not every key known). */
static int64_t fd_list(struct fr_engine *e, int32_t tab)
{
    struct priv *P = e->priv;
    struct tabent *te = &P->tabs[tab];
    if (!te->keys_ok || !te->len_ok)
        return -2;
    size_t n = (size_t)te->nkeys + te->nmem;
    if (n > P->fdtmpcap) {
        int64_t *x = realloc(P->fdtmp, n * sizeof *x);
        if (!x) {
            P->err = CB_ERROR;
            return -1;
        }
        P->fdtmp = x;
        P->fdtmpcap = n;
    }
    if (n > P->cpycap) {
        struct fde **x = realloc(P->cpy, n * sizeof *x);
        if (!x) {
            P->err = CB_ERROR;
            return -1;
        }
        P->cpy = x;
        P->cpycap = n;
    }
    if (te->nkeys)
        memcpy(P->fdtmp, te->keys, te->nkeys * sizeof *te->keys);
    if (te->nmem)
        memcpy(P->fdtmp + te->nkeys, te->mem, te->nmem * sizeof *te->mem);
    qsort(P->fdtmp, n, sizeof *P->fdtmp, cmp_i64);
    int64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && P->fdtmp[i] == P->fdtmp[i - 1])
            continue;
        struct fde *f = get_fd_in(e, tab, P->fdtmp[i]);
        if (P->err)
            return -1;
        te = &P->tabs[tab];
        if (f)
            P->cpy[k++] = f;
    }
    return k == te->len ? k : -2;
}

/* A new, empty fd table made here (Python registers it when it applies the log). */
static int32_t new_table(struct fr_engine *e)
{
    struct priv *P = e->priv;
    struct fr_tabfill f;
    memset(&f, 0, sizeof f);
    f.tab = e->tabs_used;
    f.keys_known = 1;
    if (!note_table(P, &f))
        return -1;
    struct tabent *te = &P->tabs[f.tab];
    te->len = 0;
    te->len_ok = 1;
    te->keys_ok = 1;
    e->tabs_used++;
    return f.tab;
}

static size_t log_begin(struct priv *P, int kind, int64_t tid)
{
    size_t at = P->log.n;
    uint8_t hd[8] = {0, 0, 0, 0, (uint8_t)kind, 0, 0, 0};
    put(&P->log, hd, 8);
    put_le(&P->log, (uint64_t)tid, 8);
    return at;
}

static void log_end(struct priv *P, size_t at)
{
    if (P->log.oom)
        return;
    uint32_t n = (uint32_t)(P->log.n - at);
    memcpy(P->log.p + at, &n, 4);
    P->nlog++;
}

static void put_op(struct buf *b, int kind, const struct fde *f);
static int by_ins_seq(const void *a, const void *b);

/* The fd changes since the last export or seal, as records (the fds Python had and lost
   first, then the ones changed in place, then the new ones in the order of their last
   insertion). 0 when out of memory. */
static int write_fd_ops(struct priv *P, struct buf *b, uint32_t *count)
{
    uint32_t nfds = 0;
    size_t nadds = 0;
    if (P->ndirty_fds > P->adds_cap) {
        struct fde **n = realloc(P->adds, P->ndirty_fds * sizeof *n);
        if (!n)
            return 0;
        P->adds = n;
        P->adds_cap = P->ndirty_fds;
    }
    for (size_t i = 0; i < P->ndirty_fds; i++) {
        struct fde *f = P->dirty_fds[i];
        if (f->wb == WB_DIRTY && f->removed) {
            put_op(b, OP_REMOVE_FD, f);
            nfds++;
        }
    }
    for (size_t i = 0; i < P->ndirty_fds; i++) {
        struct fde *f = P->dirty_fds[i];
        if (f->wb == WB_DIRTY && !f->removed && f->exists) {
            put_op(b, OP_PUT_FD, f);
            nfds++;
        } else if (f->exists && (f->wb == WB_NEW || f->removed)) {
            P->adds[nadds++] = f;
        }
    }
    qsort(P->adds, nadds, sizeof P->adds[0], by_ins_seq);
    for (size_t i = 0; i < nadds; i++) {
        put_op(b, OP_ADD_FD, P->adds[i]);
        nfds++;
    }
    *count = nfds;
    return !b->oom;
}

static void clear_dirty_fds(struct priv *P)
{
    for (size_t i = 0; i < P->ndirty_fds; i++) {
        struct fde *f = P->dirty_fds[i];
        f->wb = WB_CLEAN;
        f->listed = 0;
        f->removed = 0;
    }
    P->ndirty_fds = 0;
}

/* Put the fd changes so far into the log, ahead of an operation that reads fd tables. */
static int seal_fds(struct priv *P)
{
    if (!P->ndirty_fds)
        return 1;
    size_t at = log_begin(P, TOP_FDS, 0);
    size_t cnt = P->log.n;
    put_le(&P->log, 0, 4);
    uint32_t n = 0;
    if (!write_fd_ops(P, &P->log, &n))
        return 0;
    memcpy(P->log.p + cnt, &n, 4);
    log_end(P, at);
    clear_dirty_fds(P);
    return !P->log.oom;
}

static int mark_topped(struct priv *P, struct thr *t)
{
    if (t->topped)
        return 1;
    if (P->ntopped == P->toppedcap) {
        size_t cap = P->toppedcap ? P->toppedcap * 2 : 64;
        struct thr **n = realloc(P->topped, cap * sizeof *n);
        if (!n)
            return 0;
        P->topped = n;
        P->toppedcap = cap;
    }
    P->topped[P->ntopped++] = t;
    t->topped = 1;
    return 1;
}

/* threads.get_or_create(tid) for a tid the table does not have, made here (the change
   log asks Python to make it: TOP_CREATE). Phase 0 only. */
static struct thr *make_placeholder(struct fr_engine *e, int64_t tid)
{
    struct priv *P = e->priv;
    if (e->nthreads >= e->max_threads) {
        P->err = CB_SLOW;  /* (it would not be made, and counted) */
        return NULL;
    }
    int64_t count = 0;
    e->callbacks++;
    int rc = fr_cb_count(e->handle, tid, &count);
    if (rc != CB_OK) {
        P->err = rc;
        return NULL;
    }
    count += count_adjust(P, tid);
    int32_t tab = new_table(e);
    struct thr *t = tab < 0 ? NULL : thr_new(P, tid);
    if (!t) {
        P->err = CB_ERROR;
        return NULL;
    }
    t->exists = t->safe = 1;
    t->pid = tid;
    t->comm = dup_bytes((const uint8_t *)"<NA>", 4);
    t->comm_len = 4;
    t->cwd = dup_bytes((const uint8_t *)"", 0);
    t->cwd_ok = t->main_ok = t->fdtab_ok = 1;
    t->main_tid = tid;
    t->fdtab = tab;
    t->lastevent_type = -1;
    t->enter_type = -1;
    t->flags = CL_NAME_CHANGED;
    t->nchilds = count;
    t->uid_none = 1;
    t->own_is_tab = 1;
    t->born = 1;
    t->rec_off = P->log.n;
    size_t at = log_begin(P, TOP_CREATE, tid);
    put_le(&P->log, (uint32_t)tab, 4);
    log_end(P, at);
    if (!t->comm || !t->cwd || !mark_topped(P, t) || P->log.oom) {
        P->err = CB_ERROR;
        return NULL;
    }
    P->hazard++;
    e->nthreads++;
    e->thread_ops++;
    return t;
}

static int is_placeholder(const struct thr *t)
{
    return t->uid_none && t->comm_len == 4 && !memcmp(t->comm, "<NA>", 4);
}

/* comm as clone_exit and execve_exit set it: _c_text(comm) if the event has one, else
   _c_text(exe) (the text up to a NUL, at most max_string bytes). */
static void comm_of(const struct fr_engine *e, const struct fr_tables *t, const struct ev *v,
                    const uint8_t **p, uint32_t *n)
{
    uint32_t len = 0;
    const uint8_t *raw = arg_raw(t, v, has_arg(t, v, FA_COMM) ? FA_COMM : FA_EXE, &len);
    if (!raw) {
        *p = (const uint8_t *)"";
        *n = 0;
        return;
    }
    size_t cl = c_len(raw, len);
    if ((uint64_t)cl > (uint64_t)e->max_string)
        cl = (size_t)e->max_string;
    *p = raw;
    *n = (uint32_t)cl;
}

/* clone_exit, planned (the cases it leaves to Python: SLOW). */
static int plan_clone(struct fr_engine *e, const struct ev *v, struct thr *th, struct plan *pl)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    int64_t child = 0, flags = 0, vtid = v->tid, pid = -1;
    int rr = arg_int(t, v, FA_RES, &child);
    if (rr < 0 || arg_int(t, v, FA_FLAGS, &flags) < 0 || arg_int(t, v, FA_VTID, &vtid) < 0 ||
        arg_int(t, v, FA_PID, &pid) < 0)
        SLOW_();
    if (!rr || child < 0)
        return FR_MORE;
    int in_container = (flags & CL_CHILD_IN_PIDNS) || v->tid != vtid;
    if (child == 0) {
        /* in the child: its entry is there already (else inverted: Python's) */
        if (!th || in_container)
            SLOW_();
        if (th->clone_ts && v->ts > th->clone_ts && v->ts - th->clone_ts > CLONE_STALE_NS)
            SLOW_();  /* a stale entry: removed and made again */
        return FR_MORE;
    }
    if (in_container)
        return FR_MORE;  /* the child's own event will tell */
    if (!th || is_placeholder(th) || (flags & CL_IS_MAIN_THREAD))
        SLOW_();
    struct thr *old = get_thread(e, child, 0);
    if (P->err)
        ERR_();
    if (old)
        SLOW_();  /* a tid collision */
    pl->clone = 1;
    pl->c_parent = th;
    pl->c_main = NULL;
    pl->c_tid = child;
    pl->c_flags = flags;
    comm_of(e, t, v, &pl->c_comm, &pl->c_comm_len);
    uint32_t un = 0;
    const uint8_t *uid = arg_raw(t, v, FA_UID, &un);
    pl->c_uid_none = !(uid && un == 4) || rd32(uid) == NO_ID;
    if (flags & CL_CLONE_THREAD) {
        if (pid == child)
            SLOW_();
        struct thr *m = get_thread(e, pid, 0);
        if (P->err)
            ERR_();
        if (!m || !m->safe || !(m->tid == m->pid || (m->flags & CL_IS_MAIN_THREAD)))
            SLOW_();  /* (a main thread to create, or cwd and fds not the main's own) */
        if (!get_cwd(e, m))
            ERR_();
        if (!m->cwd_ok)
            SLOW_();
        pl->c_pid = pid;
        pl->c_main = m;
        pl->c_cwd = m;
        if (flags & CL_CLONE_FILES) {
            int32_t tab = fd_table(e, m);
            if (tab == -2)
                ERR_();
            if (tab < 0 || !m->own_is_tab)
                SLOW_();
            pl->c_table = 0;
            pl->c_shared = tab;
        } else {
            pl->c_table = 1;
        }
        if (e->nthreads >= e->max_threads)
            SLOW_();  /* (threads.add would refuse it: counted there) */
        return FR_MORE;
    }
    if (!is_main(th) && th->pid == child)
        SLOW_();  /* (the lookups below would make the child's tid: Python's order) */
    int32_t src = fd_table(e, th);
    if (src == -2)
        ERR_();
    if (src < 0)
        SLOW_();
    int64_t n = fd_list(e, src);
    if (n == -1)
        ERR_();
    if (n < 0 || e->budget_used + n > e->max_fds_total)
        SLOW_();
    if (!get_cwd(e, th))
        ERR_();
    if (!th->cwd_ok || e->nthreads >= e->max_threads)
        SLOW_();  /* (the lookups may have made a thread: the count is checked after) */
    pl->c_pid = child;
    pl->c_cwd = th;
    pl->c_table = 2;
    pl->c_src = src;
    pl->c_nsrc = n;
    return FR_MORE;
}

/* execve_exit, planned: the common case (a main thread that stays one, sysdig's rules). */
static int plan_exec(struct fr_engine *e, const struct ev *v, struct thr *th, struct plan *pl)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    int64_t res = 0, pid = 0;
    int rr = arg_int(t, v, FA_RES, &res);
    if (rr < 0)
        SLOW_();
    if (!rr || res < 0 || !th)
        return FR_MORE;
    int rp = arg_int(t, v, FA_PID, &pid);
    int rf = arg_int(t, v, FA_FDLIMIT, &pl->x_fdlimit);
    if (!e->sysdig_compat || rp < 0 || rf < 0 || th->pid != th->tid ||
        (rp && pid != th->tid) || (th->flags & CL_CLONE_FILES))
        SLOW_();
    pl->x_fdlimit_set = rf;
    pl->x_pf = 0;
    if (has_arg(t, v, FA_PGFT_MAJ)) {
        pl->x_pf = 1;
        memset(pl->x_pfv, 0, sizeof pl->x_pfv);  /* (absent: 0) */
        memset(pl->x_vm, 0, sizeof pl->x_vm);
        for (int k = 0; k < 2; k++)
            if (arg_int(t, v, FA_PGFT_MAJ + k, &pl->x_pfv[k]) < 0)
                SLOW_();
        for (int k = 0; k < 3; k++)
            if (arg_int(t, v, FA_VM_SIZE + k, &pl->x_vm[k]) < 0)
                SLOW_();
    }
    comm_of(e, t, v, &pl->x_comm, &pl->x_comm_len);
    pl->exec = 1;
    return FR_MORE;
}

/* The handler of this event kind, planned. */
static int plan_handler(struct fr_engine *e, int kind, const struct ev *v, struct thr *th,
                        struct fde **cfdp, const struct ev *en, struct plan *pl)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    struct fde *cfd = *cfdp;
    int64_t res = 0, x = 0;
    int rr;
    switch (kind) {
    case FK_PLAIN:
    case FK_CLOSE_E:  /* (planned by the caller) */
        return FR_MORE;
    case FK_MEMORY:
        if (th && has_arg(t, v, FA_VM_SIZE)) {
            memset(pl->vm, 0, sizeof pl->vm);  /* (absent: 0) */
            for (int k = 0; k < 3; k++)
                if (arg_int(t, v, FA_VM_SIZE + k, &pl->vm[k]) < 0)
                    SLOW_();
            pl->vm_thr = th;
        }
        return FR_MORE;
    case FK_SWITCH:
        if (th && has_arg(t, v, FA_PGFT_MAJ)) {
            memset(pl->pfv, 0, sizeof pl->pfv);
            for (int k = 0; k < 2; k++)
                if (arg_int(t, v, FA_PGFT_MAJ + k, &pl->pfv[k]) < 0)
                    SLOW_();
            int64_t vm[3] = {0, 0, 0};
            for (int k = 0; k < 3; k++)
                if (arg_int(t, v, FA_VM_SIZE + k, &vm[k]) < 0)
                    SLOW_();
            pl->pf = 1;
            struct thr *m = main_of(e, th);
            if (P->err)
                ERR_();
            if (m) {
                if (!m->safe)
                    SLOW_();
                pl->vm_thr = m;
                memcpy(pl->vm, vm, sizeof vm);
            }
        }
        return FR_MORE;
    case FK_TRANSFER:
        return plan_transfer(e, v, th, cfd, en, pl);
    case FK_CLOSE_X:
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        if (rr && res >= 0) {
            if (cfd && th)
                pl->remove = 1;  /* (a canceled close went to Python in reset) */
        } else if (cfd) {
            pl->flag_fd = cfd;
            pl->flag_val = cfd->i.flags & ~F_CLOSE_IN_PROGRESS;
        }
        return FR_MORE;
    case FK_OPEN_X:
    case FK_CREAT_X:
    case FK_OPENAT_X:
    case FK_OPENAT2_X:
        return th ? plan_open(e, th, v, kind, en, pl) : FR_MORE;
    case FK_SOCKET_X: {
        rr = arg_int(t, v, FA_FD, &x);
        if (rr < 0)
            SLOW_();
        if (!rr || x < 0 || !th || !en)
            return FR_MORE;
        int64_t dom = 0, ty = 0, pr = 0;
        if (arg_int(t, en, FA_DOMAIN, &dom) < 0 || arg_int(t, en, FA_TYPE, &ty) < 0 ||
            arg_int(t, en, FA_PROTO, &pr) < 0)
            SLOW_();
        struct fdinfo i;
        new_socket(&i, dom, ty, pr);
        return plan_add(e, th, x, pl, &i);
    }
    case FK_SENDTO_E: {
        if (cfd || !th)
            return FR_MORE;
        rr = arg_int(t, v, FA_FD, &x);
        if (rr < 0)
            SLOW_();
        uint32_t n = 0;
        const uint8_t *raw = arg_raw(t, v, FA_TUPLE, &n);
        if (!rr || x < 0 || !raw || !n)
            return FR_MORE;
        if (raw[0] != AF_INET_ && raw[0] != AF_INET6_)
            return FR_MORE;
        struct fdinfo i;
        new_socket(&i, raw[0], SOCK_DGRAM_, IPPROTO_UDP_);
        return plan_add(e, th, x, pl, &i);
    }
    case FK_CONNECT_E: {
        if (!cfd)
            return FR_MORE;
        struct fdinfo ni = cfd->i;
        if (e->track_connection_status)
            ni.flags = (ni.flags & ~F_CONNECTION) | F_PENDING;
        uint32_t n = 0;
        const uint8_t *raw = arg_raw(t, v, FA_ADDR, &n);
        if (raw && n) {
            uint8_t ip[16];
            if (raw[0] == AF_INET_) {
                ni.type = T_IPV4_SOCK;
                slice_pad(raw, n, 1, 4, ni.sock + V4_DIP);
                sk_set16(&ni, V4_DPORT, u16_at(raw, n, 5));
            } else if (raw[0] == AF_INET6_) {
                unsigned port = u16_at(raw, n, 17);
                slice_pad(raw, n, 1, 16, ip);
                if (ipv4_mapped(ip)) {
                    ni.type = T_IPV4_SOCK;
                    memcpy(ni.sock + V4_DIP, ip + 12, 4);
                    sk_set16(&ni, V4_DPORT, port);
                } else {
                    ni.type = T_IPV6_SOCK;
                    sk_set16(&ni, V6_DPORT, port);
                    memcpy(ni.sock + V6_DIP, ip, 16);
                }
            } else {
                P->name1.n = 0;
                render_sockaddr(&P->name1, raw, n);
                borrow_name(&ni, &P->name1);
                set_unix_pair(&ni, raw, n);
            }
        }
        pl->put = cfd;
        pl->put_i = ni;
        return FR_MORE;
    }
    case FK_CONNECT_X: {
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        if (!cfd || !rr)
            return FR_MORE;
        struct fdinfo ni = cfd->i;
        if (e->track_connection_status) {
            int64_t st = res == -EINPROGRESS_ ? F_PENDING : res < 0 ? F_FAILED : F_CONNECTED;
            ni.flags = (ni.flags & ~F_CONNECTION) | st;
        } else if (res < 0 && res != -EINPROGRESS_) {
            return FR_MORE;
        } else {
            ni.flags = (ni.flags & ~F_CONNECTION) | F_CONNECTED;
        }
        uint32_t n = 0;
        const uint8_t *raw = arg_raw(t, v, FA_TUPLE, &n);
        if (raw && n) {
            int r = fill_client(P, &ni, raw, n);
            if (r != FR_MORE)
                return r;
        }
        pl->put = cfd;
        pl->put_i = ni;
        return FR_MORE;
    }
    case FK_BIND_X: {
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        uint32_t n = 0;
        const uint8_t *raw = arg_raw(t, v, FA_ADDR, &n);
        if (!cfd || !rr || res < 0 || !raw || !n)
            return FR_MORE;
        if ((raw[0] == AF_INET_ && n != 7) || (raw[0] == AF_INET6_ && n != 19))
            SLOW_();
        struct fdinfo ni = cfd->i;
        uint8_t *s = ni.sock;
        if (raw[0] == AF_INET_) {
            unsigned port = rd16(raw + 5);
            if (port > 0) {
                ni.type = T_IPV4_SERVSOCK;
                memcpy(s + SRV4_IP, raw + 1, 4);
                sk_set16(&ni, SRV4_PORT, port);
                s[SRV4_L4] = s[V4_L4];
                ni.flags |= F_ROLE_SERVER;
            }
        } else if (raw[0] == AF_INET6_) {
            unsigned port = rd16(raw + 17);
            if (port > 0) {
                if (ipv4_mapped(raw + 1)) {
                    ni.type = T_IPV4_SERVSOCK;
                    s[SRV4_L4] = s[V6_L4];
                    memcpy(s + SRV4_IP, raw + 13, 4);
                    sk_set16(&ni, SRV4_PORT, port);
                } else {
                    ni.type = T_IPV6_SERVSOCK;
                    sk_set16(&ni, SRV6_PORT, port);
                    memcpy(s + SRV6_IP, raw + 1, 16);
                    s[SRV6_L4] = s[V6_L4];
                }
                ni.flags |= F_ROLE_SERVER;
            }
        }
        P->name1.n = 0;
        render_sockaddr(&P->name1, raw, n);
        borrow_name(&ni, &P->name1);
        pl->put = cfd;
        pl->put_i = ni;
        return FR_MORE;
    }
    case FK_ACCEPT_X: {
        rr = arg_int(t, v, FA_FD, &x);
        if (rr < 0)
            SLOW_();
        if (!th || !rr || x < 0)
            return FR_MORE;
        pl->set_le_fd = 1;
        pl->le_fd_val = x;
        uint32_t n = 0;
        const uint8_t *raw = arg_raw(t, v, FA_TUPLE, &n);
        if (!raw || !n)
            return FR_MORE;
        struct fdinfo i;
        memset(&i, 0, sizeof i);
        i.type = -1;
        if (raw[0] == AF_INET_ || raw[0] == AF_INET6_) {
            if (!tuple_ok(raw, n))
                SLOW_();
            if (raw[0] == AF_INET_) {
                set_ipv4_tuple(&i, raw);
                i.type = T_IPV4_SOCK;
                i.sock[V4_L4] = L4_TCP;
            } else if (both_mapped(raw)) {
                set_ipv4_mapped_tuple(&i, raw);
                i.type = T_IPV4_SOCK;
                i.sock[V4_L4] = L4_TCP;
            } else {
                set_ipv6_tuple(&i, raw);
                i.type = T_IPV6_SOCK;
                i.sock[V6_L4] = L4_TCP;
            }
        } else if (raw[0] == AF_UNIX_) {
            i.type = T_UNIX_SOCK;
            set_unix_pair(&i, raw, n);
        } else {
            return FR_MORE;
        }
        P->name1.n = 0;
        render_socktuple(&P->name1, raw, n);
        borrow_name(&i, &P->name1);
        i.flags = F_ROLE_SERVER | F_CONNECTED;
        int64_t fl = 0;
        if (arg_int(t, v, FA_FLAGS, &fl) < 0)
            SLOW_();
        if (fl & SOCK_CLOEXEC_)
            i.openflags |= O_CLOEXEC_;
        return plan_add(e, th, x, pl, &i);
    }
    case FK_GETSOCKOPT_X: {
        if (!th || !v->nparams)
            return FR_MORE;
        rr = arg_int(t, v, FA_FD, &x);
        if (rr < 0)
            SLOW_();
        if (!rr)
            return FR_MORE;
        if (e->track_connection_status)
            SLOW_();
        struct thr *m = main_of(e, th);
        if (P->err)
            ERR_();
        *cfdp = NULL;
        if (m) {
            *cfdp = get_fd(e, m, x);
            if (P->err)
                ERR_();
        }
        pl->set_le_fd = 1;
        pl->le_fd_val = x;
        return FR_MORE;
    }
    case FK_FCNTL_E:
        if (th) {
            rr = arg_int(t, v, FA_CMD, &x);
            if (rr < 0)
                SLOW_();
            if (rr && (x == F_DUPFD_ || x == F_DUPFD_CLOEXEC_))
                pl->store = 1;
        }
        return FR_MORE;
    case FK_FCNTL_X: {
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        if (!en || !rr || res < 0 || !cfd || !th)
            return FR_MORE;
        struct fdinfo i = cfd->i;
        int64_t cmd = 0;
        int rc = arg_int(t, en, FA_CMD, &cmd);
        if (rc < 0)
            SLOW_();
        if (rc && cmd == F_DUPFD_CLOEXEC_)
            i.openflags |= O_CLOEXEC_;
        return plan_add(e, th, res, pl, &i);
    }
    case FK_PIPE_X: {
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        if (!rr || res < 0 || !th)
            return FR_MORE;
        int64_t ino = 0, fl = 0;
        if (arg_int(t, v, FA_INO, &ino) < 0 || arg_int(t, v, FA_FLAGS, &fl) < 0)
            SLOW_();
        for (int k = 0; k < 2; k++) {
            int64_t fd = 0;
            int r = arg_int(t, v, FA_FD1 + k, &fd);
            if (r < 0)
                SLOW_();
            if (!r)
                continue;
            struct fdinfo i;
            memset(&i, 0, sizeof i);
            i.type = T_FIFO;
            i.ino = ino;
            i.openflags = (fl & O_CLOEXEC_) ? O_CLOEXEC_ : 0;
            r = plan_add(e, th, fd, pl, &i);
            if (r != FR_MORE)
                return r;
        }
        return FR_MORE;
    }
    case FK_DUP_X: {
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        if (!th || !rr || res < 0)
            return FR_MORE;
        if (res == 0)
            pl->flagbits |= CL_PIPE_DST;
        else if (res == 1)
            pl->flagbits |= CL_PIPE_SRC;
        if (!cfd)
            return FR_MORE;
        struct fdinfo i = cfd->i;
        if (t->special[v->type] & SP_DUP3) {
            int64_t fl = 0;
            if (arg_int(t, v, FA_FLAGS, &fl) < 0)
                SLOW_();
            i.openflags = (i.openflags & ~O_CLOEXEC_) | (fl & O_CLOEXEC_);
        }
        return plan_add(e, th, res, pl, &i);
    }
    case FK_RLIMIT_X: {
        rr = arg_int(t, v, FA_RES, &res);
        if (rr < 0)
            SLOW_();
        if (!th || !rr || res < 0 || !en)
            return FR_MORE;
        int64_t resource = 0, cur = 0;
        int r = arg_int(t, en, FA_RESOURCE, &resource);
        if (r < 0)
            SLOW_();
        if (!r || resource != RLIMIT_NOFILE_)
            return FR_MORE;
        r = arg_int(t, v, FA_CUR, &cur);
        if (r < 0)
            SLOW_();
        if (!r || cur == -1)
            return FR_MORE;
        struct thr *m = main_of(e, th);
        if (P->err)
            ERR_();
        if (m) {
            if (!m->safe)
                SLOW_();
            pl->fdlimit_thr = m;
            pl->fdlimit = cur;
        }
        return FR_MORE;
    }
    case FK_CLONE_X:
        return plan_clone(e, v, th, pl);
    case FK_EXECVE_X:
        return plan_exec(e, v, th, pl);
    case FK_PROCEXIT: {
        if (!th)
            return FR_MORE;
        rr = arg_int(t, v, FA_REAPER, &x);
        if (rr < 0)
            SLOW_();
        pl->flagbits |= CL_CLOSED;
        pl->reaper_set = rr;
        pl->reaper = x;
        pl->exit = 1;
        return FR_MORE;
    }
    default:
        SLOW_();
    }
}

/* Copy an fdinfo into an entry (the entry owns its name). */
static int fde_assign(struct fde *f, const struct fdinfo *src)
{
    uint8_t *nm = dup_bytes(src->name, src->name_len);
    if (!nm)
        return 0;
    free(f->i.name);
    f->i = *src;
    f->i.name = nm;
    return 1;
}


/* Where the event came from (RawEvent's num, offset, cpu, dump flags), into the log. */
static void log_event(struct priv *P, const struct ev *v)
{
    put_le(&P->log, v->cpu, 4);
    put_le(&P->log, v->dflags, 4);
    put_le(&P->log, v->num, 8);
    put_le(&P->log, v->offset, 8);
}

/* clone_exit's new thread (Python makes it when it applies the log: the handler runs
   there, on the state as it was at this event). */
static int apply_clone(struct fr_engine *e, struct ev *v, struct plan *pl)
{
    struct priv *P = e->priv;
    const uint8_t *data = ev_data(P, v);
    if (!data)
        return 0;
    if (pl->c_table == 2 && !seal_fds(P))
        return 0;  /* (Python copies the parent's table as it is now) */
    int32_t own = -1;
    if (pl->c_table) {
        own = new_table(e);
        if (own < 0)
            return 0;
    }
    if (pl->c_table == 2) {
        for (int64_t k = 0; k < pl->c_nsrc; k++) {
            struct fde *src = P->cpy[k];
            struct fde *f = fde_new(P, own, src->fd);
            if (!f || !fde_assign(f, &src->i))
                return 0;
            f->i.flags |= F_IS_CLONED;
            f->exists = 1;
            if (!add_member(P, f))
                return 0;
        }
        P->tabs[own].len = pl->c_nsrc;
        e->budget_used += pl->c_nsrc;
    }
    struct thr *c = thr_new(P, pl->c_tid);
    if (!c)
        return 0;
    c->exists = 1;
    c->safe = 1;
    c->pid = pl->c_pid;
    c->comm = dup_bytes(pl->c_comm, pl->c_comm_len);
    c->comm_len = pl->c_comm_len;
    c->cwd = dup_bytes(pl->c_cwd->cwd, pl->c_cwd->cwd_len);
    c->cwd_len = pl->c_cwd->cwd_len;
    if (!c->comm || !c->cwd)
        return 0;
    c->cwd_ok = 1;
    c->main_ok = 1;
    c->main_tid = pl->c_main ? pl->c_main->tid : pl->c_tid;
    c->fdtab_ok = 1;
    c->fdtab = pl->c_table ? own : pl->c_shared;
    c->lastevent_type = -1;
    c->enter_type = -1;
    c->flags = pl->c_flags;
    c->clone_ts = v->ts;
    c->uid_none = (uint8_t)pl->c_uid_none;
    c->own_is_tab = pl->c_table != 0;
    c->born = 1;
    c->rec_off = P->log.n;
    if (!mark_topped(P, c))
        return 0;
    /* the threads Python reads when it applies this (a thread made in this batch can
       only be dropped from the log while nothing needs it) */
    struct thr *par = pl->c_parent;
    if (par->born) {
        par->refs++;
        c->ref_parent = par;
        c->ref_parent_inc = par->inc;
    }
    if (pl->c_main && pl->c_main->born && pl->c_main != par) {
        pl->c_main->refs++;
        c->ref_main = pl->c_main;
        c->ref_main_inc = pl->c_main->inc;
    }
    if (pl->c_main)
        pl->c_main->nchilds++;
    e->nthreads++;
    size_t at = log_begin(P, TOP_CLONE, v->tid);
    put_le(&P->log, (uint64_t)pl->c_tid, 8);
    put_le(&P->log, (uint32_t)own, 4);
    log_event(P, v);
    put_le(&P->log, v->elen, 4);
    put(&P->log, data, v->elen);
    log_end(P, at);
    P->hazard++;
    e->thread_ops++;
    return !P->log.oom;
}

/* execve_exit: what this side keeps of the thread changes now; the rest when Python
   applies the log (the handler runs there, with the stored enter event). */
static int apply_exec(struct fr_engine *e, struct thr *th, struct ev *v, int have_enter,
                      struct plan *pl)
{
    struct priv *P = e->priv;
    const uint8_t *data = ev_data(P, v);
    if (!data || !mark_dirty(P, th))
        return 0;
    uint8_t *comm = dup_bytes(pl->x_comm, pl->x_comm_len);
    if (!comm)
        return 0;
    free(th->comm);
    th->comm = comm;
    th->comm_len = pl->x_comm_len;
    /* the flags Python sets from its own; bits the bookkeeping adds later stay on top,
       and of those added before, only the ones an execve keeps */
    th->flags = CL_ACTIVE | (th->flags & CL_EXEC_KEPT) | CL_NAME_CHANGED;
    th->flagbits &= CL_EXEC_KEPT;
    /* the values it sets that the bookkeeping also writes back: the latest wins */
    if (pl->x_fdlimit_set) {
        th->fdlimit_set = 1;
        th->fdlimit = pl->x_fdlimit;
    }
    if (pl->x_pf) {
        th->pf_set = th->vm_set = 1;
        th->pfmajor = pl->x_pfv[0];
        th->pfminor = pl->x_pfv[1];
        th->vmsize = pl->x_vm[0];
        th->vmrss = pl->x_vm[1];
        th->vmswap = pl->x_vm[2];
    }
    size_t at = log_begin(P, TOP_EXEC, v->tid);
    log_event(P, v);
    put_le(&P->log, v->elen, 4);
    put_le(&P->log, have_enter ? th->enter_len : 0, 4);
    put(&P->log, data, v->elen);
    if (have_enter)
        put(&P->log, th->enter_data, th->enter_len);
    log_end(P, at);
    e->thread_ops++;
    return !P->log.oom;
}

/* Table tab is cleared in Python (its thread is removed): forget the changes not yet
   written back (Python clears them with the rest) and know it empty. */
static void drop_table(struct priv *P, int32_t tab)
{
    struct tabent *te = &P->tabs[tab];
    size_t k = 0;
    for (size_t i = 0; i < P->ndirty_fds; i++) {
        struct fde *f = P->dirty_fds[i];
        if (f->tab == tab && f->ver == te->ver) {
            f->wb = WB_CLEAN;
            f->listed = 0;
            f->removed = 0;
        } else {
            P->dirty_fds[k++] = f;
        }
    }
    P->ndirty_fds = k;
    te->ver++;
    te->len = 0;
    te->len_ok = 1;
    free(te->keys);
    te->keys = NULL;
    te->nkeys = 0;
    te->keys_ok = 1;
    te->nmem = 0;
}

/* A record's header fields (see TOP_*). */
static uint8_t rec_kind(const struct priv *P, size_t at) { return P->log.p[at + 4]; }
static int64_t rec_tid(const struct priv *P, size_t at) { return (int64_t)rd64(P->log.p + at + 8); }
static uint32_t rec_len(const struct priv *P, size_t at) { return rd32(P->log.p + at); }

static void unref(struct thr *t, uint64_t inc)
{
    if (t && t->inc == inc && t->refs)
        t->refs--;
}

/* Thread x, made in this batch and now removed, was needed by no record since: drop
   the records that made and changed it (Python applies neither its making nor its
   removal; fd changes to its own table are skipped with its creation record). */
static void drop_born(struct priv *P, struct thr *x)
{
    for (size_t at = x->rec_off; at < P->log.n; at += rec_len(P, at)) {
        uint8_t k = rec_kind(P, at);
        int mine = at == x->rec_off || (k == TOP_EXEC && rec_tid(P, at) == x->tid);
        if (mine)
            P->log.p[at + 5] = 1;  /* cancelled */
    }
    unref(x->ref_parent, x->ref_parent_inc);
    unref(x->ref_main, x->ref_main_inc);
    x->ref_parent = x->ref_main = NULL;
    x->born = 0;
    x->gone = x->py_had;  /* (Python may still have an older thread of this tid) */
    P->hazard--;
}

/* engine._carry_out_removals, the thread part: remove_thread(tid, force=False), which
   removes a thread that has no other threads (its fd table cleared, its process's thread
   count down). FR_REMOVE: Python does it. */
static int remove_exited(struct fr_engine *e)
{
    struct priv *P = e->priv;
    if (e->reparent)
        return FR_REMOVE;
    struct thr *x = get_thread(e, e->exit_tid, 0);
    if (P->err)
        ERR_();
    if (x && !x->safe)
        return FR_REMOVE;
    if (!x || x->nchilds) {
        e->exit_pending = 0;  /* (remove gives None: nothing changes) */
        return FR_MORE;
    }
    struct thr *m = NULL;
    if (x->flags & CL_CLONE_THREAD) {
        m = get_thread(e, x->pid, 0);  /* (_threads.get: no thread made) */
        if (P->err)
            ERR_();
        if (m && !m->safe)
            return FR_REMOVE;
    }
    int32_t own = -1;
    if (x->own_is_tab) {
        own = fd_table(e, x);
        if (own == -2)
            ERR_();
        if (own < 0 || !P->tabs[own].len_ok)
            return FR_REMOVE;
    }
    /* changes */
    if (m && m->nchilds > 0)
        m->nchilds--;
    if (own >= 0) {
        e->budget_used -= P->tabs[own].len;
        drop_table(P, own);
    } else {
        e->budget_used -= x->own_len;
    }
    /* what other threads knew through it: their main thread, cwd, fd table */
    for (size_t i = 0; i < P->tcap; i++) {
        struct thr *t = P->tslots[i];
        if (!t || t->gen != P->gen || t->dead || !t->exists || t == x)
            continue;
        if (t->pid == x->tid || (t->main_ok && t->main_tid == x->tid) ||
            (t->fdtab_ok && t->fdtab == own && own >= 0))
            t->main_ok = t->cwd_ok = t->fdtab_ok = 0;
    }
    x->exists = 0;
    e->nthreads--;
    e->exit_pending = 0;
    e->thread_ops++;
    if (x->born && !x->refs) {
        drop_born(P, x);  /* made and gone in this batch: Python never needs it */
        return FR_MORE;
    }
    if (!x->born) {
        x->py_had = 1;
        x->py_pid = x->pid;
    }
    x->gone = 1;
    if (!mark_topped(P, x))
        return FR_ERROR;
    log_end(P, log_begin(P, TOP_REMOVE, x->tid));
    P->hazard++;
    return P->log.oom ? FR_ERROR : FR_MORE;
}

/* Carry out the fd removal a close exit scheduled (engine._carry_out_removals). */
static int carry_out_removals(struct fr_engine *e)
{
    struct priv *P = e->priv;
    if (!e->rm_pending)
        return FR_MORE;
    struct thr *owner = get_thread(e, e->rm_tid, 1);
    if (P->err)
        ERR_();
    int32_t tab = owner ? fd_table(e, owner) : -1;
    if (tab == -2)
        ERR_();
    struct fde *f = tab >= 0 ? get_fd_in(e, tab, e->rm_fd) : NULL;
    if (P->err)
        ERR_();
    e->rm_pending = 0;
    if (!f)
        return FR_MORE;
    f->exists = 0;
    P->tabs[tab].len--;
    e->budget_used--;
    return fd_changed(P, f, FD_REMOVED) ? FR_MORE : FR_ERROR;
}

static void clear_enter(struct thr *th)
{
    th->enter_type = -1;
    free(th->enter_data);
    th->enter_data = NULL;
    th->enter_len = 0;
    th->enter_state = 1;
}

static int store_enter(struct fr_engine *e, struct thr *th, struct ev *v)
{
    struct priv *P = e->priv;
    const uint8_t *data = ev_data(P, v);
    if (!data)
        return 0;
    if ((int64_t)v->elen > e->max_stored_enter) {
        e->enters_too_large++;
        return 1;
    }
    if (!mark_dirty(P, th))
        return 0;
    free(th->enter_data);
    th->enter_data = dup_bytes(data, v->elen);
    if (!th->enter_data)
        return 0;
    th->enter_len = v->elen;
    th->enter_type = (int32_t)v->type;
    th->enter_state = 2;
    th->e_num = v->num;
    th->e_offset = v->offset;
    th->e_ts = v->ts;
    th->e_tid = v->tid;
    th->e_cpu = (int32_t)v->cpu;
    th->e_dflags = (int32_t)v->dflags;
    th->e_nparams = v->nparams;
    th->lastevent_valid = 1;
    return 1;
}

/* Apply a plan (no way back: everything was checked). */
static int apply_plan(struct fr_engine *e, struct thr *th, struct plan *pl, struct fde **cfdp,
                      struct ev *v, int have_enter)
{
    struct priv *P = e->priv;
    if (pl->clone && !apply_clone(e, v, pl))
        return 0;
    if (pl->exec && !apply_exec(e, th, v, have_enter, pl))
        return 0;
    if (pl->flag_fd && !set_flags(P, pl->flag_fd, pl->flag_val))
        return 0;
    if (pl->put) {
        struct fde *f = pl->put;
        if (!fde_assign(f, &pl->put_i) || !fd_changed(P, f, FD_CHANGED))
            return 0;
    }
    for (int k = 0; k < pl->nadd; k++) {
        /* plan_add looked the fd up: its entry is here, present or absent */
        size_t slot;
        struct fde *f = fde_find(P, pl->add_tab[k], pl->add_fd[k], &slot);
        if (!f)
            return 0;
        int added = !f->exists;
        if (added) {
            P->tabs[pl->add_tab[k]].len++;
            e->budget_used++;
        }
        if (!fde_assign(f, &pl->add_i[k]))
            return 0;
        f->exists = 1;
        if (!fd_changed(P, f, added ? FD_ADDED : FD_CHANGED))
            return 0;
        *cfdp = f;
    }
    if (pl->set_le_fd || pl->remove || pl->pf || pl->flagbits || pl->reaper_set) {
        if (!mark_dirty(P, th))
            return 0;
        if (pl->reaper_set) {
            th->reaper_set = 1;
            th->reaper = pl->reaper;
        }
        if (pl->set_le_fd)
            th->lastevent_fd = pl->le_fd_val;
        if (pl->pf) {
            th->pf_set = 1;
            th->pfmajor = pl->pfv[0];
            th->pfminor = pl->pfv[1];
        }
        th->flagbits |= pl->flagbits;
    }
    if (pl->vm_thr) {
        if (!mark_dirty(P, pl->vm_thr))
            return 0;
        pl->vm_thr->vm_set = 1;
        pl->vm_thr->vmsize = pl->vm[0];
        pl->vm_thr->vmrss = pl->vm[1];
        pl->vm_thr->vmswap = pl->vm[2];
    }
    if (pl->fdlimit_thr) {
        if (!mark_dirty(P, pl->fdlimit_thr))
            return 0;
        pl->fdlimit_thr->fdlimit_set = 1;
        pl->fdlimit_thr->fdlimit = pl->fdlimit;
    }
    if (pl->remove) {
        e->rm_pending = 1;
        e->rm_tid = th->tid;
        e->rm_fd = th->lastevent_fd;
    }
    return 1;
}

/* The whole of StateEngine.process (without a filter) and of the read loop, for one
   event. Returns FR_SLOW before any change to the state when Python must do it. */
static int one_event(struct fr_engine *e, struct ev *v)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    uint32_t code = v->type;
    int kind = t->kind[code];
    e->phase = 0;
    if (e->exit_pending) {  /* (before anything: the thread that exited goes first) */
        int r0 = remove_exited(e);
        if (r0 != FR_MORE)
            return r0;
    }
    if (kind == FK_SLOW || (v->ts >> 63))
        SLOW_();
    /* _carry_out_removals: due before this event, whoever processes it */
    int r = carry_out_removals(e);
    if (r != FR_MORE)
        return r;
    uint32_t flags = t->eflags[code];
    uint16_t special = t->special[code];
    int is_exit = code & 1;
    int lead = e->leading && (special & SP_CONTAINER_EV);  /* (hidden, as sysdig's opening) */
    int hidden = (v->dflags & DF_STATE_ONLY) != 0 || lead;
    int internal = t->internal[code];
    const struct fr_filter *filter = e->filter;
    int received = !(hidden && !(e->debug && internal));
    int shown = received && (e->debug || !internal);
    /* whether anything looks at the event's thread (else an event that does not reset
       its thread needs no lookup: lookups without side effects can be skipped) */
    int need_thread = shown || is_exit || kind != FK_PLAIN || t->stored[code] ||
                      (flags & EF_FD_FLAGS) || filter;

    /* -- reset: lookups only ----------------------------------------------------- */
    struct thr *th = NULL;
    int bookkeeping = 0, query_os = 0, valid = 0;
    struct fde *cfd = NULL;          /* ctx.fd */
    int64_t le_fd = 0;               /* thread.lastevent_fd after reset */
    if (flags & EF_SKIPPARSERESET) {
        if ((special & SP_PROCINFO) && need_thread) {
            th = get_thread(e, v->tid, 0);
            if (P->err)
                ERR_();
        }
    } else {
        query_os = !(special & (SP_CLONE_EXIT | SP_SWITCH6));
        th = get_thread(e, v->tid, query_os);
        if (P->err)
            ERR_();
        if (!th && query_os)
            SLOW_();
        if (th && !(special & SP_SWITCH6)) {
            if (!th->safe)
                SLOW_();
            bookkeeping = 1;
            if (!is_exit) {
                le_fd = -1;
                if (flags & EF_USES_FD) {
                    int64_t fd;
                    if (first_param_int(v, &fd))
                        le_fd = fd;
                    cfd = get_fd(e, th, le_fd);
                    if (P->err)
                        ERR_();
                }
            } else {
                le_fd = th->lastevent_fd;
                valid = (int64_t)code == th->lastevent_type + 1;
                if (!valid && th->lastevent_type == (int64_t)t->tracer_e)
                    SLOW_();  /* (reset goes on after a tracer) */
                if (valid && (flags & EF_USES_FD)) {
                    if (special & SP_COPY_FILE_RANGE)
                        SLOW_();
                    cfd = get_fd(e, th, le_fd);
                    if (P->err)
                        ERR_();
                    if (cfd && (cfd->i.flags & F_CLOSE_CANCELED))
                        SLOW_();
                }
            }
        }
    }
    if (th && !bookkeeping)
        le_fd = th->lastevent_fd;
    /* the thread the fields see (_expose): a lookup that changes nothing */
    struct thr *xth = th;
    if (!xth && !(special & SP_CONTAINER) && need_thread) {
        xth = get_thread(e, v->tid, 0);
        if (P->err)
            ERR_();
    }
    if (xth && !xth->safe)
        SLOW_();
    /* Later lookups (rendering) cannot wait for Python: have what they need now. */
    if (P->hazard) {
        struct thr *seen[2] = {th, xth};
        for (int k = 0; k < 2; k++) {
            struct thr *s = seen[k];
            if (s && main_hazard(P, s) && !(s->fdtab_ok && s->cwd_ok && s->main_ok)) {
                e->slow_line = __LINE__;
                return FR_SYNC;
            }
        }
    }

    /* the filter, where sinsp runs it (StateEngine.process): an event that changes no
       state is judged now, as the fields see it after the lookups; the others after */
    int late = 0;
    if (filter) {
        int modifies = (flags & EF_MODIFIES_STATE) != 0;
        if (special & SP_WRITE_X) {  /* _tracer_write */
            if (!cfd && th) {
                cfd = get_fd(e, th, le_fd);
                if (P->err)
                    ERR_();
            }
            if (cfd && (cfd->i.flags & F_TRACER_FDS)) {
                modifies = 1;
            } else if (v->dflags & DF_TRACER) {
                cfd = NULL;
                modifies = 1;
            }
        }
        if (modifies) {
            late = 1;
        } else if (!judge_event(e, v, xth)) {
            /* refused: the lookups' bookkeeping only, and the thread forgets its enter */
            e->phase = 1;
            e->leading = lead;
            if (!e->first_ts)
                e->first_ts = v->ts;
            if (bookkeeping) {
                if (!mark_dirty(P, th))
                    return FR_ERROR;
                if (query_os)
                    th->set_active = 1;
                if (!is_exit) {
                    th->lastevent_fd = le_fd;
                    th->lastevent_type = code;
                    th->latency = 0;
                    th->latency_enter_ts = v->ts;
                } else {
                    if (th->latency_enter_ts)
                        th->latency = (int64_t)(v->ts - th->latency_enter_ts);
                    th->lastevent_valid = (uint8_t)valid;
                }
            }
            if ((flags & EF_FD_FLAGS) && xth && xth->lastevent_fd >= 0 &&
                fd_table(e, xth) == -2)
                ERR_();
            if (xth && !(flags & EF_SKIPPARSERESET) && !(special & SP_SWITCH6)) {
                if (!mark_dirty(P, xth))
                    return FR_ERROR;
                xth->lastevent_type = NO_EVENT;
            }
            goto read_loop_refused;
        } else if (!th && xth && (is_exit || kind != FK_PLAIN || t->stored[code])) {
            SLOW_();  /* the handlers would see the thread the fields looked up */
        }
    }

    /* peek_enter */
    int have_enter = 0, enter_stale = 0;
    struct ev enter;
    const struct ev *en = NULL;
    if (is_exit && bookkeeping && valid && th->enter_type >= 0) {
        if ((int64_t)th->enter_type != (int64_t)code - 1) {
            enter_stale = 1;
        } else {
            if (!split_data(t, th->enter_data, th->enter_len, &enter))
                SLOW_();
            have_enter = 1;
            en = &enter;
        }
    }

    /* tracers (tracers.rw_exit, write_enter): the Python engine's */
    if (special & (SP_RW_EXIT | SP_WRITE_E)) {
        int64_t ff = cfd ? cfd->i.flags : 0;
        if ((special & SP_RW_EXIT) && is_exit &&
            (cfd ? !(ff & F_NOT_TRACER) && ((ff & F_TRACER_FD) ||
                                             ((ff & F_TRACER_FILE) && (flags & EF_WRITES_TO_FD)))
                 : (v->dflags & DF_TRACER) != 0))
            SLOW_();
        if ((special & SP_WRITE_E) && (ff & F_TRACER_FD))
            SLOW_();
    }

    /* -- the handler, planned -------------------------------------------------------- */
    struct plan pl;
    /* (the flags one by one: cheaper than a memset for each event) */
    pl.nadd = pl.set_le_fd = pl.remove = pl.pf = pl.store = pl.exit = pl.reaper_set = 0;
    pl.clone = pl.exec = 0;
    pl.put = pl.flag_fd = NULL;
    pl.vm_thr = pl.fdlimit_thr = NULL;
    pl.flagbits = 0;
    struct fde *close_fd = NULL;
    if (kind == FK_CLOSE_E && th) {
        close_fd = get_fd(e, th, le_fd);
        if (P->err)
            ERR_();
    }
    r = plan_handler(e, kind, v, th, &cfd, en, &pl);
    if (r != FR_MORE)
        return r;

    /* -- changes ------------------------------------------------------------------- */
    e->phase = 1;
    e->leading = lead;
    if (!e->first_ts)
        e->first_ts = v->ts;
    if (bookkeeping) {
        if (!mark_dirty(P, th))
            return FR_ERROR;
        if (query_os)
            th->set_active = 1;
        if (!is_exit) {
            th->lastevent_fd = le_fd;
            th->lastevent_type = code;
            th->latency = 0;
            th->latency_enter_ts = v->ts;
        } else {
            if (th->latency_enter_ts)
                th->latency = (int64_t)(v->ts - th->latency_enter_ts);
            th->lastevent_valid = (uint8_t)valid;
        }
    }
    if (th && t->stored[code] && !store_enter(e, th, v))
        return FR_ERROR;
    if (enter_stale)
        th->lastevent_valid = 0;
    if (kind == FK_CLOSE_E && close_fd) {
        if (!set_flags(P, close_fd, close_fd->i.flags | F_CLOSE_IN_PROGRESS))
            return FR_ERROR;
        cfd = close_fd;
    }
    if (pl.store && !store_enter(e, th, v))
        return FR_ERROR;
    if (!apply_plan(e, th, &pl, &cfd, v, have_enter))
        return FR_ERROR;
    if (pl.exit) {  /* schedule_thread_removal(ev.tid) */
        e->exit_pending = 1;
        e->exit_tid = v->tid;
    }

    /* _expose: the fd fields look up the thread's last fd */
    th = xth;
    if ((flags & EF_FD_FLAGS) && th && th->lastevent_fd >= 0) {
        if (fd_table(e, th) == -2)
            ERR_();
    }
    if (late && !judge_event(e, v, th))
        goto read_loop_refused;
    /* _cleanup: a shown exit has used its enter event */
    if (!hidden && th && is_exit) {
        if (!mark_dirty(P, th))
            return FR_ERROR;
        clear_enter(th);
        th->lastevent_valid = 0;
    }

    /* the read loop */
    int parsed = 1;  /* (the whole event applied: ctx.parsed) */
    if (0) {
read_loop_refused:
        /* refused events reach the read loop only when internal, with -D */
        received = e->debug && internal;
        shown = received;
        th = xth;
        parsed = 0;
    }
    if (!received)
        return FR_MORE;
    if (shown && render_line(e, v, th, parsed && (special & SP_SYSLOG) ? cfd : NULL) < 0)
        ERR_();
    if (e->counting) {
        e->count_left--;
        if (!e->count_left)
            return FR_COUNT;
    }
    return FR_MORE;
}

/* ------------------------------------------------------------------------- */
/* blocks                                                                      */

static int block_kind(uint32_t btype, int *bits)
{
    switch (btype) {
    case 0x204: *bits = 0; return 0;
    case 0x8010ABCDu: *bits = 0; return 1;
    case 0x208: *bits = 2; return 2;
    case 0x216: *bits = 1; return 3;
    case 0x217: *bits = 1 | 2; return 4;
    case 0x221: *bits = 1 | 4; return 5;
    case 0x222: *bits = 1 | 2 | 4; return 6;
    default: return -1;
    }
}

static int any_oom(struct priv *P)
{
    return P->out.oom || P->info.oom || P->val.oom || P->res.oom || P->tmp.oom ||
           P->paramstr.oom || P->v1data.oom || P->base.oom || P->cat.oom || P->dir.oom ||
           P->path.oom || P->name1.oom || P->name2.oom;
}

int fr_run(struct fr_engine *e, const uint8_t *buf, size_t pos, size_t end, uint64_t base,
           size_t *out_pos)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    int status = FR_MORE;
    P->err = 0;
    for (;;) {
        P->ck_pos = pos;
        P->ck_out = P->out.n;
        if (P->out.n >= e->out_limit) {
            status = FR_PAUSE;
            break;
        }
        if (P->ndirty_fds >= 65536 || P->ndirty >= 65536 || P->log.n >= (4u << 20) ||
            e->tabs_used > e->max_tabs) {
            status = FR_SYNC;  /* (the change log is long, or the caches are: Python applies
                                  the log and lets the caches start over) */
            break;
        }
        if (end - pos < 8) {
            status = FR_MORE;
            break;
        }
        const uint8_t *blk = buf + pos;
        uint32_t btype = rd32(blk), blen = rd32(blk + 4);
        int bits;
        int bk = block_kind(btype, &bits);
        if (bk < 0) {
            status = FR_NONEVENT;
            break;
        }
        uint64_t cap = (bits & 4) ? e->max_large_block : e->max_block;
        if (blen < MIN_BLOCK || blen > cap) {
            status = FR_INVALID;
            break;
        }
        if (blen > end - pos) {
            status = FR_MORE;
            break;
        }
        if (rd32(blk + blen - 4) != blen) {
            status = FR_INVALID;
            break;
        }
        const uint8_t *body = blk + 8, *bend = blk + blen - 4, *at;
        struct ev v;
        v.dflags = 0;
        if (bits & 2) {
            if (bend - body < 6) { status = FR_INVALID; break; }
            v.cpu = rd16(body);
            v.dflags = rd32(body + 2);
            at = body + 6;
        } else {
            if (bend - body < 2) { status = FR_INVALID; break; }
            v.cpu = rd16(body);
            at = body + 2;
        }
        uint64_t avail = (uint64_t)(bend - at);
        if (bits & 1) {
            if (avail < HDR_V2) { status = FR_INVALID; break; }
            uint64_t elen = rd32(at + 16);
            v.type = rd16(at + 20);
            v.nparams = rd32(at + 22);
            if (elen < HDR_V2 || elen > avail) { status = FR_INVALID; break; }
            if (v.nparams > MAX_PARAMS) { status = FR_INVALID; break; }
            if (v.type >= t->num_events) { status = FR_SLOW; break; }
            uint64_t lsize = t->large[v.type] ? 4 : 2;
            if (HDR_V2 + v.nparams * lsize > elen) { status = FR_INVALID; break; }
            v.payload = at + HDR_V2;
            v.payload_len = (uint32_t)(elen - HDR_V2);
            if (!split_params(t, &v)) { status = FR_INVALID; break; }
            v.data = at;
            v.elen = (uint32_t)elen;
        } else {
            if (avail < HDR_V1) { status = FR_INVALID; break; }
            uint64_t elen = rd32(at + 16);
            v.type = rd16(at + 20);
            if (elen < HDR_V1 || elen > avail) { status = FR_INVALID; break; }
            if (v.type >= t->num_events) { status = FR_SLOW; break; }
            v.payload = at + HDR_V1;
            uint64_t size = elen - HDR_V1;
            if (t->v1_trim3[v.type])
                size = size >= 3 ? size - 3 : 0;
            int64_t np = v1_count(t, v.type, v.payload, size);
            if (np < 0) { status = FR_INVALID; break; }
            if (np > MAX_PARAMS) { status = FR_SLOW; break; }
            v.nparams = (uint32_t)np;
            v.payload_len = (uint32_t)size;
            if (!split_params(t, &v)) { status = FR_INVALID; break; }
            v.data = NULL;
            v.elen = HDR_V2 + (uint32_t)size;
        }
        v.ts = rd64(at);
        v.tid = (int64_t)rd64(at + 8);
        v.num = e->num + 1;
        v.offset = base + pos;
        int r = one_event(e, &v);
        if (r == FR_SYNC) {
            e->syncs++;
            status = FR_SYNC;  /* Python applies the log, then this event is read again */
            break;
        }
        if (r == FR_SLOW || r == FR_REMOVE) {
            if (r == FR_SLOW)
                e->slow_events++;
            status = r;
            break;
        }
        if (r == FR_ERROR) {
            status = FR_ERROR;
            break;
        }
        e->num++;
        e->events++;
        e->block_counts[bk]++;
        pos += blen;
        if (!(e->events & 255) && any_oom(P)) {  /* (and when returning) */
            status = FR_ERROR;
            break;
        }
        if (r == FR_COUNT) {
            status = FR_COUNT;
            break;
        }
    }
    if (status != FR_ERROR && any_oom(P))
        status = FR_ERROR;
    *out_pos = pos;
    return status;
}

/* ------------------------------------------------------------------------- */
/* reading a mapped file that may shrink under us                              */

/* A file truncated by another process while it is mapped raises SIGBUS at the first
 * touch of a page past its new end. fr_run_mapped() runs fr_run() with a SIGBUS handler
 * that, for a fault inside the map on this thread, jumps back out: the run ends at the
 * block being read (its trailing length word, read first, is what faults when that
 * block was cut), its partial line is dropped, and Python reads on with plain reads,
 * which report the truncation as for any short file. Faults elsewhere go to the handler
 * that was installed before (or the default action). The handler is installed while
 * any thread is in fr_run_mapped and restored when the last one leaves. */

static __thread sigjmp_buf *guard_jmp;
static __thread const uint8_t *guard_lo, *guard_hi;
static struct sigaction guard_prev;
static int guard_users;
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

static void guard_bus(int sig, siginfo_t *si, void *uc)
{
    const uint8_t *a = (const uint8_t *)si->si_addr;
    if (guard_jmp && a >= guard_lo && a < guard_hi)
        siglongjmp(*guard_jmp, 1);
    if ((guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_sigaction) {
        guard_prev.sa_sigaction(sig, si, uc);
        return;
    }
    if (!(guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_handler != SIG_DFL &&
        guard_prev.sa_handler != SIG_IGN) {
        guard_prev.sa_handler(sig);
        return;
    }
    signal(SIGBUS, SIG_DFL);  /* the fault happens again, with the default action */
}

static void guard_enter(void)
{
    pthread_mutex_lock(&guard_lock);
    if (guard_users++ == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = guard_bus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, &guard_prev);
    }
    pthread_mutex_unlock(&guard_lock);
}

static void guard_leave(void)
{
    pthread_mutex_lock(&guard_lock);
    if (--guard_users == 0)
        sigaction(SIGBUS, &guard_prev, NULL);
    pthread_mutex_unlock(&guard_lock);
}

int fr_run_mapped(struct fr_engine *e, const uint8_t *map, size_t map_len, size_t pos,
                  size_t end, size_t *out_pos)
{
    struct priv *P = e->priv;
    sigjmp_buf jb;
    guard_enter();
    guard_lo = map;
    guard_hi = map + map_len;
    if (sigsetjmp(jb, 1)) {
        guard_jmp = NULL;
        guard_leave();
        P->out.n = P->ck_out;
        *out_pos = P->ck_pos;
        return FR_GONE;
    }
    guard_jmp = &jb;
    int status = fr_run(e, map, pos, end, 0, out_pos);
    guard_jmp = NULL;
    guard_leave();
    return status;
}

/* ------------------------------------------------------------------------- */
/* the interface to Python                                                     */

struct fr_engine *fr_new(const struct fr_tables *t)
{
    struct fr_engine *e = calloc(1, sizeof *e);
    struct priv *P = calloc(1, sizeof *P);
    if (!e || !P) {
        free(e);
        free(P);
        return NULL;
    }
    P->t = t;
    P->gen = 1;
    e->priv = P;
    e->out_limit = 1 << 18;  /* (bigger pieces of output only cost memory) */
    if (!thr_rehash(P) || !fde_rehash(P)) {
        fr_free(e);
        return NULL;
    }
    return e;
}

static void free_buf(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

void fr_free(struct fr_engine *e)
{
    if (!e)
        return;
    struct priv *P = e->priv;
    if (P) {
        for (size_t i = 0; i < P->tcap; i++)
            if (P->tslots[i]) {
                thr_release(P->tslots[i]);
                free(P->tslots[i]);
            }
        for (size_t i = 0; i < P->fcap; i++)
            if (P->fslots[i]) {
                fde_release(P->fslots[i]);
                free(P->fslots[i]);
            }
        for (size_t i = 0; i < P->ucap; i++)
            if (P->uslots[i]) {
                free(P->uslots[i]->name);
                free(P->uslots[i]);
            }
        for (size_t i = 0; i < P->tabcap; i++) {
            free(P->tabs[i].keys);
            free(P->tabs[i].mem);
        }
        free(P->tslots);
        free(P->fslots);
        free(P->uslots);
        free(P->tabs);
        struct buf *bufs[] = {&P->out, &P->info, &P->val, &P->res, &P->tmp, &P->paramstr,
                              &P->v1data, &P->base, &P->cat, &P->dir, &P->path, &P->name1,
                              &P->name2, &P->exp};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            free_buf(bufs[i]);
        free(P->dirty);
        free(P->dirty_fds);
        free(P->adds);
        free_buf(&P->log);
        free(P->topped);
        free(P->cpy);
        free(P->fdtmp);
        free(P->verdict);
        free(P);
    }
    free(e);
}

const uint8_t *fr_output(struct fr_engine *e, size_t *len)
{
    struct priv *P = e->priv;
    *len = P->out.n;
    return P->out.p;
}

void fr_output_clear(struct fr_engine *e)
{
    struct priv *P = e->priv;
    P->out.n = 0;
    if (P->out.cap > 4 * e->out_limit + (1 << 20))
        free_buf(&P->out);
}

void fr_invalidate(struct fr_engine *e)
{
    struct priv *P = e->priv;
    P->gen++;
    if (P->gen == 0)
        P->gen = 1;  /* 0 marks an entry that is never valid */
    P->ugen++;
    P->ntabs = 0;
    e->tabs_used = 0;
}

static int in_ids(const int64_t *ids, size_t n, int64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == x)
            return 1;
    return 0;
}

/* Forget what Python may have changed: the threads whose tid or pid is one of ids, the
   fd tables they use and the tables listed, the user names. (No change of this side may
   be pending: fr_export_done came first.) */
void fr_forget(struct fr_engine *e, const int64_t *ids, size_t nids, const int32_t *tabs,
               size_t ntabs)
{
    struct priv *P = e->priv;
    for (size_t i = 0; i < P->tcap; i++) {
        struct thr *t = P->tslots[i];
        if (!t || t->gen != P->gen || t->dead)
            continue;
        /* (a thread Python creates goes through the table: its tid is in ids) */
        if (!in_ids(ids, nids, t->tid) && !(t->exists && in_ids(ids, nids, t->pid)))
            continue;
        if (t->fdtab_ok)
            forget_table(P, t->fdtab);
        t->dead = 1;
    }
    for (size_t i = 0; i < ntabs; i++)
        forget_table(P, tabs[i]);
    P->ugen++;
}

int fr_set_paramstr(struct fr_engine *e, const uint8_t *p, size_t n)
{
    struct priv *P = e->priv;
    P->paramstr.n = 0;
    put(&P->paramstr, p, n);
    e->paramstr_changed = 0;
    return !P->paramstr.oom;
}

const uint8_t *fr_paramstr(struct fr_engine *e, size_t *n)
{
    struct priv *P = e->priv;
    *n = P->paramstr.n;
    return P->paramstr.p ? P->paramstr.p : (const uint8_t *)"";
}

int fr_pending(struct fr_engine *e)
{
    struct priv *P = e->priv;
    return P->ndirty || P->ndirty_fds || P->nlog || e->enters_too_large;
}

static int by_ins_seq(const void *a, const void *b)
{
    uint64_t x = (*(struct fde *const *)a)->ins_seq, y = (*(struct fde *const *)b)->ins_seq;
    return x < y ? -1 : x > y;
}

/* One fd record: i kind, i tab, q fd, q type, q flags, q openflags, q dev, q mount_id,
   q ino, q pid, 37s sock, 3x, I name_len, then the name (fastread.py _OP). */
static void put_op(struct buf *b, int kind, const struct fde *f)
{
    static const uint8_t zeros[3];
    const struct fdinfo *i = &f->i;
    put_le(b, (uint32_t)kind, 4);
    put_le(b, (uint32_t)f->tab, 4);
    put_le(b, (uint64_t)f->fd, 8);
    put_le(b, (uint64_t)i->type, 8);
    put_le(b, (uint64_t)i->flags, 8);
    put_le(b, (uint64_t)i->openflags, 8);
    put_le(b, (uint64_t)i->dev, 8);
    put_le(b, (uint64_t)i->mount_id, 8);
    put_le(b, (uint64_t)i->ino, 8);
    put_le(b, (uint64_t)i->pid, 8);
    put(b, i->sock, SOCK_SIZE);
    put(b, zeros, 3);
    put_le(b, kind == OP_REMOVE_FD ? 0 : i->name_len, 4);
    if (kind != OP_REMOVE_FD)
        put(b, i->name, i->name_len);
}

/* The change log, packed (fastread.py _THREAD and _OP): the dirty threads, then the fd
   operations in order. Valid until fr_export_done. */
const uint8_t *fr_export(struct fr_engine *e, size_t *len, uint32_t *nthreads, uint32_t *nops)
{
    struct priv *P = e->priv;
    struct buf *b = &P->exp;
    b->n = 0;
    uint32_t k = 0;
    for (size_t i = 0; i < P->ndirty; i++) {
        size_t slot;
        struct thr *t = thr_find(P, P->dirty[i], &slot);
        if (!t || !t->exists || !t->dirty)
            continue;  /* (a thread removed since: Python removes it first) */
        int stored = t->enter_state == 2;
        put_le(b, (uint64_t)t->tid, 8);
        put_le(b, (uint64_t)t->lastevent_fd, 8);
        put_le(b, (uint64_t)t->lastevent_type, 8);
        put_le(b, (uint64_t)t->latency, 8);
        put_le(b, t->latency_enter_ts, 8);
        put_le(b, (uint64_t)t->vmsize, 8);
        put_le(b, (uint64_t)t->vmrss, 8);
        put_le(b, (uint64_t)t->vmswap, 8);
        put_le(b, (uint64_t)t->pfmajor, 8);
        put_le(b, (uint64_t)t->pfminor, 8);
        put_le(b, (uint64_t)t->fdlimit, 8);
        put_le(b, (uint64_t)t->flagbits, 8);
        put_le(b, (uint64_t)t->reaper, 8);
        put_le(b, stored ? t->e_num : 0, 8);
        put_le(b, stored ? t->e_offset : 0, 8);
        put_le(b, stored ? t->e_ts : 0, 8);
        put_le(b, stored ? (uint64_t)t->e_tid : 0, 8);
        put_le(b, stored ? (uint32_t)t->e_cpu : 0, 4);
        put_le(b, stored ? (uint32_t)t->e_dflags : 0, 4);
        put_le(b, stored ? (uint32_t)t->enter_type : 0, 4);
        put_le(b, stored ? t->e_nparams : 0, 4);
        uint8_t fl[8] = {t->lastevent_valid, t->set_active, t->enter_state, t->vm_set,
                         t->pf_set, t->fdlimit_set, t->reaper_set, 0};
        put(b, fl, 8);
        put_le(b, stored ? t->enter_len : 0, 4);
        if (stored)
            put(b, t->enter_data, t->enter_len);
        k++;
    }
    /* fds: removals first (so adds never meet a table fuller than it ends up), then the
       fds Python has with new content, then the new ones */
    uint32_t nfds = 0;
    if (!write_fd_ops(P, b, &nfds))
        return NULL;
    *nthreads = k;
    *nops = nfds;
    *len = b->n;
    return b->oom ? NULL : (b->p ? b->p : (const uint8_t *)"");
}

/* The thread operations since the last export (records: see TOP_*), applied by Python
   before what fr_export gives. Valid until fr_export_done. */
const uint8_t *fr_log(struct fr_engine *e, size_t *len, uint32_t *nrec)
{
    struct priv *P = e->priv;
    *len = P->log.n;
    *nrec = P->nlog;
    return P->log.oom ? NULL : (P->log.p ? P->log.p : (const uint8_t *)"");
}

void fr_export_done(struct fr_engine *e)
{
    struct priv *P = e->priv;
    for (size_t i = 0; i < P->ntopped; i++) {
        struct thr *t = P->topped[i];
        t->born = t->gone = t->topped = t->py_had = 0;
        t->refs = 0;
        t->ref_parent = t->ref_main = NULL;
    }
    P->ntopped = 0;
    P->log.n = 0;
    P->nlog = 0;
    P->hazard = 0;
    if (P->log.cap > (8u << 20))
        free_buf(&P->log);
    for (size_t i = 0; i < P->ndirty; i++) {
        size_t slot;
        struct thr *t = thr_find(P, P->dirty[i], &slot);
        if (!t)
            continue;
        t->dirty = 0;
        t->set_active = t->vm_set = t->pf_set = t->fdlimit_set = t->reaper_set = 0;
        t->flagbits = 0;
        t->enter_state = 0;  /* Python holds it now */
    }
    P->ndirty = 0;
    for (size_t i = 0; i < P->ndirty_fds; i++) {
        struct fde *f = P->dirty_fds[i];
        f->wb = WB_CLEAN;
        f->listed = 0;
        f->removed = 0;
    }
    P->ndirty_fds = 0;
    e->enters_too_large = 0;
}

/* The line of an event the Python engine processed (RawEvent.data, v2 layout), from
   the state as it is now; the thread is threads.get(tid). 0 ok, 1 not possible here,
   -1 on a callback error. */
int fr_render(struct fr_engine *e, const uint8_t *data, size_t len, uint64_t num,
              uint32_t cpu)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    struct ev v;
    if (len > 0xFFFFFFFFu || !split_data(t, data, (uint32_t)len, &v))
        return 1;
    v.ts = rd64(data);
    v.tid = (int64_t)rd64(data + 8);
    v.num = num;
    v.cpu = cpu;
    v.data = data;
    v.elen = (uint32_t)len;
    P->err = 0;
    e->phase = 1;
    struct thr *th = get_thread(e, v.tid, 0);
    if (P->err)
        return P->err == CB_SLOW ? 1 : -1;
    if (th && !th->safe)
        return 1;
    if (render_line(e, &v, th, NULL) < 0)  /* (Python renders its syslog writes) */
        return -1;
    return any_oom(P) ? -1 : 0;
}

/* One event the reader read itself (RawEvent: data in the v2 layout), processed as
   fr_run would: FR_MORE done, FR_SLOW for the Python engine (nothing changed), FR_SYNC,
   FR_REMOVE (call again after), FR_COUNT, FR_ERROR. */
int fr_event(struct fr_engine *e, const uint8_t *data, size_t len, uint64_t num,
             uint64_t offset, uint32_t cpu, uint32_t dflags)
{
    struct priv *P = e->priv;
    const struct fr_tables *t = P->t;
    struct ev v;
    P->err = 0;
    if (len > 0xFFFFFFFFu || !split_data(t, data, (uint32_t)len, &v)) {
        e->slow_events++;
        return FR_SLOW;  /* (an unknown event type among them) */
    }
    v.ts = rd64(data);
    v.tid = (int64_t)rd64(data + 8);
    v.num = num;
    v.offset = offset;
    v.cpu = cpu;
    v.dflags = dflags;
    v.data = data;
    v.elen = (uint32_t)len;
    int r = one_event(e, &v);
    if (r == FR_SLOW) {
        e->slow_events++;
        return FR_SLOW;
    }
    if (r == FR_SYNC) {
        e->syncs++;
        return FR_SYNC;
    }
    if (r == FR_REMOVE || r == FR_ERROR)
        return r;
    e->num = num;
    e->events++;
    if (any_oom(P))
        return FR_ERROR;
    return r;  /* FR_MORE or FR_COUNT */
}
