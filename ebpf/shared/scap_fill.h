/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * scap_fill.h - build scap events (the on-disk layout, already framed as an EV block) from a
 * syscall's arguments and the current task. Shared by the eBPF probe and the kernel module:
 * this file holds the event layout logic only; everything that touches the kernel goes
 * through the backend contract below, which each driver implements once.
 *
 * ============================================================================================
 * BACKEND CONTRACT
 * ============================================================================================
 * Define before including this file:
 *
 *   Types      __u8 __u16 __u32 __u64 __s32 __s64, and the kernel's struct task_struct,
 *              mm_struct, file, inode, socket, sock, inet_sock, unix_sock, ... (vmlinux.h for
 *              BPF, kernel headers for the module).
 *   SCAP_INLINE                  qualifier of small helpers (e.g. static __always_inline).
 *   SCAP_SUBPROG                 qualifier of scap_fill_params (the parameters of an event
 *                                without a fixed shape), scap_fill_param (called by it for
 *                                each), scap_iov_total and scap_put_iov. BPF:
 *                                __attribute__((noinline)): global functions, which the
 *                                verifier checks once each; the module: static noinline.
 *   SCAP_READ_USER(dst, n, src)      copy n bytes of user memory; 0 or a negative errno.
 *   SCAP_READ_USER_STR(dst, n, src)  copy a NUL-terminated user string, at most n bytes with
 *                                    its NUL; the bytes copied including the NUL, or < 0.
 *   SCAP_READ_KERNEL(dst, n, src)    the same for kernel memory (must not fault on bad src).
 *   SCAP_READ_KERNEL_STR(dst, n, src) the same for a kernel string; dst may equal src.
 *   SCAP_KREAD(ptr, f1, f2, ...)     the value of ptr->f1->f2->..., 0 when any pointer in the
 *                                    chain is NULL or unreadable (BPF: BPF_CORE_READ).
 *                                    Fields may be nested or indexed by constants
 *                                    (signal, rlim[7].rlim_cur).
 *   SCAP_KADDR(ptr, field)           the address &ptr->field (BPF: relocatable, no read).
 *   SCAP_BARRIER_VAR(v)              optional: hide v's value from the compiler so a mask that
 *                                    follows is kept for the BPF verifier (default: nothing).
 *
 * And define these functions (declared below; static, in the same translation unit):
 *
 *   int scap_fill_view(struct scap_fill *f, struct scap_state *s)
 *                      set f->s = s, f->task = (struct task_struct *)s->task and f->buf /
 *                      f->tmp to this CPU's buffers (from s->buf / s->tmp, or looked up as
 *                      the eBPF backend does); 0 if there are none.
 *   struct file *scap_fd_to_file(struct task_struct *t, __s64 fd)
 *                      the open file of fd in t's fd table, NULL if none.
 *   __u64 scap_mm_counter(struct mm_struct *mm, int member)
 *                      an rss counter in pages (member: SCAP_MM_FILEPAGES ... SCAP_MM_SHMEMPAGES).
 *   __s64 scap_task_vid(struct task_struct *t, int which)
 *                      thread id, thread group id or process group id (SCAP_VID_*) as seen in
 *                      t's own pid namespace.
 *   int   scap_task_child_in_pidns(struct task_struct *t)
 *                      1 if children of t are created in another pid namespace than the
 *                      initial one (t's namespace is not the root one, or it unshared).
 *   __s64 scap_task_loginuid(struct task_struct *t)     audit login uid, -1 if none.
 *   int   scap_task_exe_writable(struct task_struct *t) 1 if t's fsuid may write its executable.
 *   __u32 scap_put_cwd(struct scap_fill *f, __u32 off, struct task_struct *t)
 *   __u32 scap_put_cgroups(struct scap_fill *f, __u32 off, struct task_struct *t)
 *                      write t's working directory (a NUL-terminated absolute path) or its
 *                      cgroups ("subsys=/path\0" for cpuset, cpu, cpuacct, io, memory) at
 *                      buffer offset off (through scap_at/scap_at2); return the bytes written,
 *                      at most SCAP_MAX_STR, 0 when unknown.
 *
 * Recording one event (see ebpf/probe.bpf.c for the eBPF backend):
 *
 *   struct scap_state s = { .task, .args, .ret, .snaplen, .sc, .nr [, .buf, .tmp] };
 *                                              (zero the rest)
 *   scap_fill_event(&s, buf, event_code);      fills every parameter into this CPU's buffer
 *   size = scap_frame_block(&s, buf, ts_ns, tid, cpu);
 *   -> size bytes at buf + SCAP_BLOCK_OFF are one complete EV (0x216) or EV_LARGE (0x221)
 *      block, as written to a .scap file; 0 means the event is too large to record.
 *
 * Buffers: buf is a per-CPU area of SCAP_BUF_SIZE bytes, tmp one of SCAP_TMP_AREA bytes;
 * scap_fill_view must give the subprograms the same buf as the one scap_fill_event got.
 * Every write position is masked (scap_at) so a BPF verifier can bound it; parameters start
 * below SCAP_HALF, each is at most SCAP_HALF bytes, so nothing leaves the area.
 * ============================================================================================
 */
#ifndef SCAP_FILL_H
#define SCAP_FILL_H

#include "scap_events_gen.h"

#ifndef SCAP_BARRIER_VAR
#define SCAP_BARRIER_VAR(v) ((void)0)
#endif

#define SCAP_HALF (1U << 16)
#define SCAP_HALF_MASK (SCAP_HALF - 1)
#define SCAP_BUF_SIZE (4 * SCAP_HALF + 256)
#define SCAP_TMP_SIZE 4096
#define SCAP_TMP_MASK (SCAP_TMP_SIZE - 1)
#define SCAP_TMP_AREA (2 * SCAP_TMP_SIZE) /* positions are masked to SCAP_TMP_SIZE */
#define SCAP_BLOCK_OFF 6 /* block header (type, length) */
#define SCAP_CPU_OFF 14  /* u16 cpu id of the EV block */
#define SCAP_EVT_OFF 16  /* the event: ts, tid, len, type, nparams, lengths, values */
#define SCAP_EVT_HDR 26
#define SCAP_MAX_STR 4096
#define SCAP_MAX_ARGS 4096  /* argument and environment blocks */
#define SCAP_MAX_ARGV 16    /* strings gathered from a user argv after a failed execve */
#define SCAP_MAX_IOV 32
#define SCAP_MAX_BLOCK (3 * SCAP_HALF)
#define SCAP_BLOCK_EV 0x216
#define SCAP_BLOCK_EV_LARGE 0x221
#define SCAP_PLAIN_BLOCK_MAX 65536 /* libscap refuses larger non-LARGE event blocks */

/* rss counters (enum of mm_types_task.h) and scap_task_vid() selectors */
#define SCAP_MM_FILEPAGES 0
#define SCAP_MM_ANONPAGES 1
#define SCAP_MM_SWAPENTS 2
#define SCAP_MM_SHMEMPAGES 3
#define SCAP_VID_TID 0
#define SCAP_VID_TGID 1
#define SCAP_VID_PGID 2

/* Stable kernel ABI values used by the specials. */
#define SCAP_AF_UNIX 1
#define SCAP_AF_INET 2
#define SCAP_AF_INET6 10
#define SCAP_S_IFMT 0170000
#define SCAP_S_IFSOCK 0140000
#define SCAP_RLIMIT_NOFILE 7
#define SCAP_PAGE_SHIFT 12
#define SCAP_UNIX_PATH_MAX 108
#define SCAP_BPF_MAP_CREATE 0
#define SCAP_BPF_PROG_LOAD 5

/* The state of one event being filled: scalars only, so that a BPF verifier can check the
 * per-parameter subprogram once, apart from its callers. */
struct scap_state {
	__u64 task;     /* struct task_struct * of the task the event is about */
	__u64 buf;      /* optional: address of this CPU's buffer, for backends whose */
	__u64 tmp;      /* scap_fill_view takes the buffers from here (the module) */
	union {
		struct {
			__u64 args[6]; /* syscall arguments */
			__s64 ret;     /* return value (exit events) */
			__u64 none;    /* always 0: the value of SCAP_OP_NONE */
		};
		__u64 ops[8];          /* indexed by SCAP_OP_* operands */
	};
	__u32 off;      /* next write position in the buffer */
	__u32 pending;  /* bytes already in place for the next parameter (args after exe) */
	__u32 snaplen;  /* I/O buffer bytes to keep */
	__u16 first;    /* first scap_param_srcs entry of the event */
	__u16 evt;      /* event code */
	__u16 sc;       /* PPM_SC code (generic events) */
	__u16 nr;       /* native syscall number (generic events) */
	__u32 nparams;
};

/* What the fill code works with: the state plus this CPU's buffers (see scap_fill_view). */
struct scap_fill {
	__u8 *buf;                /* SCAP_BUF_SIZE bytes */
	__u8 *tmp;                /* SCAP_TMP_SIZE bytes (and as many again as slack) */
	struct task_struct *task; /* the task of s->task */
	struct scap_state *s;
};

/* Backend hooks (see the contract above). */
SCAP_INLINE int scap_fill_view(struct scap_fill *f, struct scap_state *s);
static struct file *scap_fd_to_file(struct task_struct *t, __s64 fd);
static __u64 scap_mm_counter(struct mm_struct *mm, int member);
static __s64 scap_task_vid(struct task_struct *t, int which);
static int scap_task_child_in_pidns(struct task_struct *t);
static __s64 scap_task_loginuid(struct task_struct *t);
static int scap_task_exe_writable(struct task_struct *t);
static __u32 scap_put_cwd(struct scap_fill *f, __u32 off, struct task_struct *t);
static __u32 scap_put_cgroups(struct scap_fill *f, __u32 off, struct task_struct *t);

/* ---------------------------------------------------------------------------- buffer access */

/* v & mask, with the mask kept even where the compiler knows it is a no-op (the BPF
 * verifier may have lost the bound the compiler relied on). */
#define SCAP_BOUND(v, mask) ({ __u64 ___scap_v = (v); SCAP_BARRIER_VAR(___scap_v); ___scap_v & (mask); })

/* Where a parameter starting at off is written (off is below SCAP_HALF). */
SCAP_INLINE __u8 *scap_at(struct scap_fill *f, __u32 off)
{
	SCAP_BARRIER_VAR(off);
	return f->buf + (off & SCAP_HALF_MASK);
}

/* Position k bytes into a parameter starting at off (both below SCAP_HALF). */
SCAP_INLINE __u8 *scap_at2(struct scap_fill *f, __u32 off, __u32 k)
{
	SCAP_BARRIER_VAR(off);
	SCAP_BARRIER_VAR(k);
	return f->buf + (off & SCAP_HALF_MASK) + (k & SCAP_HALF_MASK);
}

SCAP_INLINE __u8 *scap_tmp(struct scap_fill *f, __u32 off)
{
	SCAP_BARRIER_VAR(off);
	return f->tmp + (off & SCAP_TMP_MASK);
}

SCAP_INLINE void scap_set_len(struct scap_fill *f, __u32 i, __u32 len)
{
	*(__u16 *)(f->buf + SCAP_EVT_OFF + SCAP_EVT_HDR + 2 * (i & 31)) = (__u16)len;
}

SCAP_INLINE __u64 scap_state_operand(const struct scap_state *s, __u8 op)
{
	if (SCAP_OP_IS_CONST(op))
		return SCAP_OP_CONST_VALUE(op);
	return s->ops[op & 7];
}

SCAP_INLINE __u64 scap_operand(struct scap_fill *f, __u8 op)
{
	return scap_state_operand(f->s, op);
}

/* A number of width bytes at p. */
SCAP_INLINE __u32 scap_put_num_at(__u8 *p, __u8 width, __u64 v)
{
	switch (width) {
	case 1: *(__u8 *)p = (__u8)v; return 1;
	case 2: *(__u16 *)p = (__u16)v; return 2;
	case 4: *(__u32 *)p = (__u32)v; return 4;
	case 8: *(__u64 *)p = v; return 8;
	default: return 0;
	}
}

SCAP_INLINE __u32 scap_put_num(struct scap_fill *f, __u32 off, __u8 width, __u64 v)
{
	return scap_put_num_at(scap_at(f, off), width, v);
}

/* The value of a SCAP_SRC_VALUE parameter. */
SCAP_INLINE __u64 scap_value(const struct scap_state *s, const struct scap_param_src *d)
{
	__u64 v = scap_state_operand(s, d->op[0]);

	if (d->flags & SCAP_PF_SEXT32)
		v = (__u64)(__s64)(__s32)v;
	return d->conv ? scap_convert(d->conv, v) : v;
}

/* A user string (with its NUL); nothing when the pointer is NULL or unreadable. */
SCAP_INLINE __u32 scap_put_ustr(struct scap_fill *f, __u32 off, __u64 uptr)
{
	long n;

	if (!uptr)
		return 0;
	n = SCAP_READ_USER_STR(scap_at(f, off), SCAP_MAX_STR, (const void *)uptr);
	if (n <= 0)
		return 0;
	return n > SCAP_MAX_STR ? SCAP_MAX_STR : (__u32)n;
}

/* len bytes of user memory, at most the snaplen; nothing when len <= 0 or unreadable. */
SCAP_INLINE __u32 scap_put_udata(struct scap_fill *f, __u32 off, __u64 uptr, __s64 len)
{
	__u32 n;

	if (len <= 0 || !uptr)
		return 0;
	if (len > f->s->snaplen)
		len = f->s->snaplen;
	n = SCAP_BOUND(len, SCAP_HALF_MASK);
	if (SCAP_READ_USER(scap_at(f, off), n, (const void *)uptr))
		return 0;
	return n;
}

/* A kernel string (task comm, cgroup names) at position k of a parameter. */
SCAP_INLINE __u32 scap_put_kstr(struct scap_fill *f, __u32 off, __u32 k, const void *kptr,
				__u32 max)
{
	long n;

	if (!kptr)
		return 0;
	n = SCAP_READ_KERNEL_STR(scap_at2(f, off, k), SCAP_BOUND(max, SCAP_MAX_STR * 2 - 1), kptr);
	if (n <= 0)
		return 0;
	return n > SCAP_MAX_STR ? SCAP_MAX_STR : (__u32)n;
}

/* ------------------------------------------------------------------------------ files, socks */

SCAP_INLINE __u32 scap_encode_dev(__u32 kdev)
{
	/* kernel dev_t (major << 20 | minor) -> the userspace encoding of new_encode_dev() */
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

SCAP_INLINE struct sock *scap_file_sock(struct file *file)
{
	struct socket *sock;
	__u16 mode;

	if (!file)
		return 0;
	mode = SCAP_KREAD(file, f_inode, i_mode);
	if ((mode & SCAP_S_IFMT) != SCAP_S_IFSOCK)
		return 0;
	sock = (struct socket *)SCAP_KREAD(file, private_data);
	if (!sock)
		return 0;
	return SCAP_KREAD(sock, sk);
}

SCAP_INLINE struct sock *scap_fd_sock(struct scap_fill *f, __s64 fd)
{
	if (fd < 0)
		return 0;
	return scap_file_sock(scap_fd_to_file(f->task, fd));
}

/* An fd read from element idx of a user int array (pipe, socketpair). */
SCAP_INLINE __s64 scap_user_fd(__u64 uptr, __u32 idx)
{
	__s32 fd = -1;

	if (!uptr || SCAP_READ_USER(&fd, sizeof(fd), (const void *)(uptr + 4 * (idx & 1))))
		return -1;
	return fd;
}

#include "scap_fill_net.h"
#include "scap_fill_proc.h"

/* ------------------------------------------------------------------------------ specials */

SCAP_INLINE __u64 scap_openmode(__u64 flags, __u64 mode)
{
	if ((flags & SCAP_K_O_CREAT) || (flags & SCAP_K_O_TMPFILE) == SCAP_K_O_TMPFILE)
		return mode & 07777;
	return 0;
}

SCAP_INLINE __u64 scap_cloneflags(struct scap_fill *f, __u64 kflags)
{
	__u64 v = scap_conv_clone_flags(kflags);

	if (scap_task_child_in_pidns(f->task))
		v |= SCAP_PPM_CLONE_FLAGS_CLONE_CHILD_IN_PIDNS;
	return v;
}

/* A u64 field of a user struct (open_how, clone_args, rlimit, timespec). */
SCAP_INLINE __u64 scap_user_u64(__u64 uptr, __u32 index, int *ok)
{
	__u64 v = 0;

	*ok = uptr && !SCAP_READ_USER(&v, sizeof(v), (const void *)(uptr + 8 * (index & 7)));
	return v;
}

/* Numbers from the accept backlog of a listening socket. */
SCAP_INLINE __u64 scap_backlog(struct scap_fill *f, __s64 fd, __u16 which)
{
	struct sock *sk = scap_fd_sock(f, fd);
	__u32 len, max;

	if (!sk)
		return 0;
	len = SCAP_KREAD(sk, sk_ack_backlog);
	max = SCAP_KREAD(sk, sk_max_ack_backlog);
	if (which == SCAP_SP_QLEN)
		return len;
	if (which == SCAP_SP_QMAX)
		return max;
	return max ? (__u64)len * 100 / max : 0;
}

/* A special that yields a number. */
SCAP_INLINE __u64 scap_num_special(struct scap_fill *f, const struct scap_param_src *d)
{
	__u64 a = scap_operand(f, d->op[0]);
	__u64 b = scap_operand(f, d->op[1]);
	struct task_struct *t = f->task;
	struct file *file;
	struct sock *sk;
	int ok = 0;
	__u64 v;

	switch (d->src) {
	case SCAP_SP_OPENMODE:
		return scap_openmode(a, b);
	case SCAP_SP_MOUNTFLAGS:
		return ((a & 0xffff0000) == 0xC0ED0000) ? (a & 0xffff) : a;
	case SCAP_SP_CLONEFLAGS:
		return scap_cloneflags(f, a);
	case SCAP_SP_CLONE3FLAGS:
		v = scap_user_u64(a, 0, &ok); /* clone_args.flags */
		return scap_cloneflags(f, ok ? v : 0);
	case SCAP_SP_HOWFLAGS:
		v = scap_user_u64(a, 0, &ok); /* open_how.flags */
		return ok ? scap_conv_file_flags(v) : 0;
	case SCAP_SP_HOWMODE:
		v = scap_user_u64(a, 0, &ok);
		return ok ? scap_openmode(v, scap_user_u64(a, 1, &ok)) : 0;
	case SCAP_SP_HOWRESOLVE:
		v = scap_user_u64(a, 2, &ok); /* open_how.resolve */
		return ok ? scap_conv_openat2_flags(v) : 0;
	case SCAP_SP_TIMESPEC: {
		__s64 sec = scap_user_u64(a, 0, &ok);
		__s64 nsec = scap_user_u64(a, 1, &ok);

		return ok ? (__u64)(sec * 1000000000LL + nsec) : 0;
	}
	case SCAP_SP_RLIMCUR:
	case SCAP_SP_RLIMMAX:
		if (f->s->ret < 0 && !b)
			return (__u64)-1;
		v = scap_user_u64(a, d->src == SCAP_SP_RLIMMAX, &ok);
		return ok ? v : (__u64)-1;
	case SCAP_SP_U32AT: {
		__u32 u = 0;

		if (a)
			SCAP_READ_USER(&u, sizeof(u), (const void *)a);
		return u;
	}
	case SCAP_SP_U64AT:
		v = scap_user_u64(a, 0, &ok);
		return ok ? v : 0;
	case SCAP_SP_UFD:
		return f->s->ret < 0 ? 0 : (__u64)scap_user_fd(a, (__u32)b);
	case SCAP_SP_UFDINO:
		if (f->s->ret < 0)
			return 0;
		file = scap_fd_to_file(t, scap_user_fd(a, 0));
		return file ? SCAP_KREAD(file, f_inode, i_ino) : 0;
	case SCAP_SP_USOCK:
	case SCAP_SP_UPEER:
		if (f->s->ret < 0)
			return 0;
		sk = scap_fd_sock(f, scap_user_fd(a, 0));
		if (sk && d->src == SCAP_SP_UPEER)
			sk = SCAP_KREAD((struct unix_sock *)sk, peer);
		return (__u64)sk;
	case SCAP_SP_DEV:
		if ((__s64)a < 0)
			return 0;
		file = scap_fd_to_file(t, (__s64)a);
		return file ? scap_encode_dev(SCAP_KREAD(file, f_inode, i_sb, s_dev)) : 0;
	case SCAP_SP_QPCT:
	case SCAP_SP_QLEN:
	case SCAP_SP_QMAX:
		return scap_backlog(f, (__s64)(__s32)a, d->src);
	case SCAP_SP_IOVSIZE:
		return scap_iov_total(f->s, a, b, d->op[2]);
	case SCAP_SP_MSGSIZE:
		return scap_msg_iov_total(f, a, d->op[1]);
	case SCAP_SP_SC:
		return f->s->sc;
	case SCAP_SP_NR:
		return f->s->nr;
	default:
		return scap_proc_num(f, d->src);
	}
}

/* A special that writes its own bytes; returns how many. */
SCAP_INLINE __u32 scap_buf_special(struct scap_fill *f, const struct scap_param_src *d, __u32 off)
{
	__u64 a = scap_operand(f, d->op[0]);
	__u64 b = scap_operand(f, d->op[1]);
	__u64 c = scap_operand(f, d->op[2]);

	switch (d->src) {
	case SCAP_SP_DATA:
		return scap_put_udata(f, off, a, (__s64)b);
	case SCAP_SP_IOVDATA:
		return scap_put_iov(f->s, off, a, b, d->op[2]);
	case SCAP_SP_MSGDATA:
		return scap_put_msg_iov(f, off, a, d->op[1]);
	case SCAP_SP_SOCKADDR:
		return scap_put_sockaddr(f, off, a, (__s64)(__s32)b);
	case SCAP_SP_TUPLE:
		return scap_put_tuple_user(f, off, (__s32)a, a ? b : 0, (__s32)c, 0);
	case SCAP_SP_TUPLEIN: {
		__s32 len = 0;

		if (f->s->ret < 0 || !b || !c || SCAP_READ_USER(&len, sizeof(len), (const void *)c))
			return 0;
		return scap_put_tuple_user(f, off, (__s32)a, b, len, 1);
	}
	case SCAP_SP_SOCKTUPLE:
		return scap_put_tuple_sock(f, off, (__s32)a);
	case SCAP_SP_MSGTUPLE:
		return scap_put_msg_tuple(f, off, (__s32)a, b, 0);
	case SCAP_SP_MSGTUPLEIN:
		return f->s->ret < 0 ? 0 : scap_put_msg_tuple(f, off, (__s32)a, b, 1);
	default:
		return scap_proc_buf(f, d, off);
	}
}

/* A DYN parameter: selector byte, then the value. */
SCAP_INLINE __u32 scap_dyn_special(struct scap_fill *f, const struct scap_param_src *d, __u32 off)
{
	__u8 *p = scap_at(f, off);
	__u64 req = f->s->args[0];
	__u64 v = 0;

	switch (d->src) {
	case SCAP_SP_PTRACEADDR:
		*p = SCAP_DYN_PTRACE_UINT64;
		*(__u64 *)(p + 1) = f->s->ret < 0 ? 0 : f->s->args[2];
		return 9;
	case SCAP_SP_PTRACEDATA:
		if (f->s->ret < 0) {
			*p = SCAP_DYN_PTRACE_UINT64;
			*(__u64 *)(p + 1) = 0;
			return 9;
		}
		if (req == SCAP_K_PTRACE_CONT || req == SCAP_K_PTRACE_SINGLESTEP ||
		    req == SCAP_K_PTRACE_DETACH || req == SCAP_K_PTRACE_SYSCALL) {
			*p = SCAP_DYN_PTRACE_SIGTYPE;
			*(p + 1) = (__u8)f->s->args[3];
			return 2;
		}
		v = f->s->args[3];
		if (req == SCAP_K_PTRACE_PEEKTEXT || req == SCAP_K_PTRACE_PEEKDATA ||
		    req == SCAP_K_PTRACE_PEEKUSR) {
			/* the word read went to the user address in data */
			if (SCAP_READ_USER(&v, sizeof(v), (const void *)f->s->args[3]))
				v = 0;
		}
		*p = SCAP_DYN_PTRACE_UINT64;
		*(__u64 *)(p + 1) = v;
		return 9;
	case SCAP_SP_BPFRES:
		*p = (f->s->ret >= 0 && (req == SCAP_BPF_MAP_CREATE || req == SCAP_BPF_PROG_LOAD))
			     ? SCAP_DYN_BPF_FD : SCAP_DYN_BPF_RES;
		*(__s64 *)(p + 1) = f->s->ret;
		return 9;
	default:
		return 0;
	}
}

/* --------------------------------------------------------------------------------- driver */

/*
 * Fill parameter i of the event in s and record its length. A subprogram of its own (a BPF
 * global function, verified once), which is what keeps the verification of the probe small.
 * Returns the parameter's length, or -1 when this CPU has no buffers (nothing can be filled).
 */
SCAP_SUBPROG long scap_fill_param(struct scap_state *s, __u32 i)
{
	struct scap_fill fv, *f = &fv;
	const struct scap_param_src *d;
	__u32 off, len = 0;

	if (!s || i >= s->nparams || i >= 32)
		return 0;
	if (!scap_fill_view(f, s))
		return -1;
	off = s->off;
	d = &scap_param_srcs[(s->first + i) & (SCAP_PARAM_SRCS - 1)];
	if (s->pending) {
		/* bytes written along with the previous parameter (args after exe) */
		len = s->pending & (SCAP_MAX_ARGS * 2 - 1);
		s->pending = 0;
	} else if (off < SCAP_HALF) {
		switch (d->src) {
		case SCAP_SRC_VALUE:
			len = scap_put_num(f, off, d->width, scap_value(s, d));
			break;
		case SCAP_SRC_STRING:
			len = scap_put_ustr(f, off, scap_operand(f, d->op[0]));
			break;
		default:
			if (d->type == SCAP_PT_DYN)
				len = scap_dyn_special(f, d, off);
			else if (d->width)
				len = scap_put_num(f, off, d->width, scap_num_special(f, d));
			else
				len = scap_buf_special(f, d, off);
			break;
		}
	}
	if (len > SCAP_HALF_MASK)
		len = SCAP_HALF_MASK;
	scap_set_len(f, i, len);
	s->off = off + len;
	return len;
}

/* I/O data (read, write, send, recv...) as parameter i at buffer offset off: up to the
 * snaplen of want bytes at user address ptr; nothing when want <= 0 or unreadable. */
SCAP_INLINE __u32 scap_put_fixed_data(struct scap_state *s, __u8 *buf, __u32 i, __u32 off,
				      __u64 ptr, __s64 want)
{
	__u32 len = 0;

	if (want > 0 && ptr) {
		if (want > s->snaplen)
			want = s->snaplen;
		len = SCAP_BOUND(want, SCAP_HALF_MASK);
		if (SCAP_READ_USER(buf + off, len, (const void *)ptr))
			len = 0;
	}
	*(__u16 *)(buf + SCAP_EVT_OFF + SCAP_EVT_HDR + 2 * (i & 31)) = (__u16)len;
	return len;
}

/*
 * The parameters of an event without a fixed shape, one scap_fill_param() call each. A
 * subprogram too, with a small frame: older kernels (6.1) refuse a loop that closes by
 * falling through into its start, a layout clang gives such a loop inlined after other
 * code, and they limit the stack of the deepest chain of calls to 512 bytes.
 */
SCAP_SUBPROG long scap_fill_params(struct scap_state *s)
{
	__u32 n, i;

	if (!s)
		return -1;
	n = s->nparams & 31;
	s->off = SCAP_EVT_OFF + SCAP_EVT_HDR + 2 * n;
	for (i = 0; i < n; i++)
		if (scap_fill_param(s, i) < 0)
			return -1;
	return 0;
}

/* The steps of SCAP_FIXED_SHAPES (scap_events_gen.h), inside scap_fill_event(). Numbers are
 * stored as 8 bytes, like scap_fill_params() does, in parameter order. */
#define SCAP_FX_ARG(n) (s->args[(n)])
#define SCAP_FX_RET ((__u64)s->ret)
#define SCAP_FX_VAL(i, at, width, value)						\
	*(__u64 *)(buf + SCAP_EVT_OFF + (at)) = (value);				\
	*(__u16 *)(buf + SCAP_EVT_OFF + SCAP_EVT_HDR + 2 * (i)) = (width);
#define SCAP_FX_END(len)								\
	s->off = SCAP_EVT_OFF + (len);							\
	break;
#define SCAP_FX_DATA(i, at, ptr, want)							\
	s->off = SCAP_EVT_OFF + (at) +							\
		 scap_put_fixed_data(s, buf, (i), SCAP_EVT_OFF + (at), (ptr), (__s64)(want)); \
	break;
#define SCAP_FX_SHAPE(id, steps) case (id): steps

/*
 * Fill every parameter of event `evt` into buf (this CPU's buffer). s->task, args, ret,
 * snaplen, sc and nr must be set. Events of a fixed shape are written by straight-line code,
 * the others from the parameter table. Returns the event's length in bytes (header included).
 */
SCAP_INLINE __u32 scap_fill_event(struct scap_state *s, __u8 *buf, __u16 evt)
{
	const struct scap_event_desc *e = &scap_event_descs[evt & (SCAP_EVENT_DESCS - 1)];

	s->evt = evt;
	s->first = e->first;
	s->nparams = e->nparams & 31;
	s->pending = 0;
	switch (e->shape) {
	SCAP_FIXED_SHAPES
	default:
		scap_fill_params(s);
		break;
	}
	return s->off - SCAP_EVT_OFF;
}

#undef SCAP_FX_ARG
#undef SCAP_FX_RET
#undef SCAP_FX_VAL
#undef SCAP_FX_END
#undef SCAP_FX_DATA
#undef SCAP_FX_SHAPE

/*
 * Write the event header and the EV block framing around it. Returns the block's size (a
 * multiple of 4) starting at f->buf + SCAP_BLOCK_OFF, or 0 if it is too large to record.
 */
SCAP_INLINE __u32 scap_frame_block(struct scap_state *s, __u8 *b, __u64 ts, __u64 tid, __u16 cpu)
{
	__u32 evlen = s->off - SCAP_EVT_OFF;
	__u32 total = 8 + 2 + evlen + 4;
	__u32 padded = (total + 3) & ~3U;

	if (padded > SCAP_MAX_BLOCK)
		return 0;
	*(__u64 *)(b + SCAP_EVT_OFF) = ts;
	*(__u64 *)(b + SCAP_EVT_OFF + 8) = tid;
	*(__u32 *)(b + SCAP_EVT_OFF + 16) = evlen;
	*(__u16 *)(b + SCAP_EVT_OFF + 20) = s->evt;
	*(__u32 *)(b + SCAP_EVT_OFF + 22) = s->nparams;
	*(__u32 *)(b + SCAP_BLOCK_OFF) = (evlen + 18 > SCAP_PLAIN_BLOCK_MAX) ? SCAP_BLOCK_EV_LARGE
									       : SCAP_BLOCK_EV;
	*(__u32 *)(b + SCAP_BLOCK_OFF + 4) = padded;
	*(__u16 *)(b + SCAP_CPU_OFF) = cpu;
	/* zero padding, then the trailing copy of the length */
	*(__u32 *)(b + ((SCAP_EVT_OFF + evlen) & (4 * SCAP_HALF - 1))) = 0;
	*(__u32 *)(b + ((SCAP_BLOCK_OFF + padded - 4) & (4 * SCAP_HALF - 1))) = padded;
	return padded;
}

#endif /* SCAP_FILL_H */
