// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe.bpf.c - the scapkit eBPF probe: raw syscall and scheduler tracepoints (tp_btf, CO-RE)
 * that write complete scap EV blocks into per-CPU rings (see probe_cfg.h).
 *
 * This file is the eBPF backend of ebpf/shared/scap_fill.h (see the contract there): memory
 * access through the bpf_probe_read_* helpers, kernel structures through BPF_CORE_READ, the
 * per-parameter subprogram as a global function, and the kernel-fact hooks below. Build:
 *   bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
 *   clang -target bpf -D__TARGET_ARCH_x86 -O2 -g -I<dir of vmlinux.h> -c probe.bpf.c
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define SCAP_INLINE static __always_inline
#define SCAP_READ_USER(d, n, s) bpf_probe_read_user((d), (n), (s))
#define SCAP_READ_USER_STR(d, n, s) bpf_probe_read_user_str((d), (n), (s))
#define SCAP_READ_KERNEL(d, n, s) bpf_probe_read_kernel((d), (n), (s))
#define SCAP_READ_KERNEL_STR(d, n, s) bpf_probe_read_kernel_str((d), (n), (s))
/* p is evaluated first: only the field chain is relocated against the kernel BTF */
#define SCAP_KREAD(p, ...) ({ typeof(p) ___scap_p = (p); BPF_CORE_READ(___scap_p, __VA_ARGS__); })
#define SCAP_KADDR(p, field) ({ typeof(p) ___scap_a = (p); (void *)__builtin_preserve_access_index(&___scap_a->field); })
#define SCAP_SUBPROG __attribute__((noinline))
#define SCAP_BARRIER_VAR(v) asm volatile("" : "+r"(v))

#include "shared/scap_fill.h"
#include "probe_cfg.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct scap_cfg scap_cfg SEC(".rodata.scap_cfg") = {
	.snaplen = 80,
};

_Static_assert(SCAP_RING_SLACK >= SCAP_BUF_SIZE, "the slack holds the largest fill");
_Static_assert(SCAP_RING_DATA_OFF - SCAP_RING_TMP_OFF >= SCAP_TMP_AREA, "scratch space");
_Static_assert(sizeof(struct scap_ring_hdr) <= SCAP_RING_STATE_OFF, "ring header");
_Static_assert(SCAP_RING_STATE_OFF + sizeof(struct scap_state) <= SCAP_RING_HDR_BYTES, "state");
_Static_assert(SCAP_RING_DATA_OFF >= SCAP_BLOCK_OFF, "buf starts before the record");

/*
 * One ring per CPU (probe_cfg.h), written in place: an event is filled where its record
 * goes, then published by moving head. No lock, no copy, no atomic instruction: this is
 * the only writer of the CPU's ring. The loader sets max_entries (possible CPUs) and
 * value_size (header + scratch + ring + slack); the element has no BTF type for that.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, SCAP_RING_DATA_OFF + SCAP_RING_MIN_BYTES + SCAP_RING_SLACK);
} scap_rings SEC(".maps");

/* Thread group ids being recorded when a target is set (the target and its descendants): a
 * bitmap, bit (tgid % 64) of word tgid / 64, covering every possible pid. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SCAP_TRACKED_MAX / 64);
	__type(key, __u32);
	__type(value, __u64);
} scap_tracked SEC(".maps");

SCAP_INLINE int scap_is_tracked(__u32 tgid)
{
	__u32 word = tgid >> 6;
	__u64 *w = bpf_map_lookup_elem(&scap_tracked, &word);

	return w && (*w >> (tgid & 63)) & 1;
}

SCAP_INLINE void scap_set_tracked(__u32 tgid, int on)
{
	__u32 word = tgid >> 6;
	__u64 *w = bpf_map_lookup_elem(&scap_tracked, &word);

	if (!w)
		return;
	if (on)
		__sync_fetch_and_or(w, 1ULL << (tgid & 63));
	else
		__sync_fetch_and_and(w, ~(1ULL << (tgid & 63)));
}

#define SCAP_TS_COMPAT 0x0002 /* thread_info.status: a 32-bit syscall */
#define SCAP_NR_EXECVE 59
#define SCAP_NR_EXECVEAT 322

/* ------------------------------------------------------------------------ backend hooks */

/* Where the event being recorded on this CPU is filled: its record's place in the ring,
 * less SCAP_BLOCK_OFF (the record is the block, which starts there in the fill buffer). */
SCAP_INLINE __u8 *scap_ring_buf(__u8 *ring, __u64 head)
{
	return ring + SCAP_RING_DATA_OFF - SCAP_BLOCK_OFF + (head & scap_cfg.ring_mask);
}

SCAP_INLINE int scap_fill_view(struct scap_fill *f, struct scap_state *s)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u8 *ring = bpf_map_lookup_elem(&scap_rings, &cpu);

	if (!ring)
		return 0;
	f->buf = scap_ring_buf(ring, ((struct scap_ring_hdr *)ring)->head);
	f->tmp = ring + SCAP_RING_TMP_OFF;
	f->task = (struct task_struct *)s->task;
	f->s = s;
	return 1;
}

static struct file *scap_fd_to_file(struct task_struct *t, __s64 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *file = 0;

	if (!fdt || fd < 0 || fd >= (__s64)BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return 0;
	return file;
}

/* Before 6.2 the rss counters were a struct mm_rss_stat of atomic_long_t. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

static __u64 scap_mm_counter(struct mm_struct *mm, int member)
{
	__s64 v = 0;

	if (bpf_core_type_exists(struct mm_rss_stat___old)) {
		struct mm_struct___old *old = (void *)mm;

		switch (member) {
		case 0: v = BPF_CORE_READ(old, rss_stat.count[0].counter); break;
		case 1: v = BPF_CORE_READ(old, rss_stat.count[1].counter); break;
		case 2: v = BPF_CORE_READ(old, rss_stat.count[2].counter); break;
		default: v = BPF_CORE_READ(old, rss_stat.count[3].counter); break;
		}
	} else {
		switch (member) {
		case 0: v = BPF_CORE_READ(mm, rss_stat[0].count); break;
		case 1: v = BPF_CORE_READ(mm, rss_stat[1].count); break;
		case 2: v = BPF_CORE_READ(mm, rss_stat[2].count); break;
		default: v = BPF_CORE_READ(mm, rss_stat[3].count); break;
		}
	}
	return v < 0 ? 0 : (__u64)v;
}

/* The pid namespace t lives in, and its level. */
static struct pid_namespace *scap_task_ns(struct task_struct *t, __u32 *level)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct upid *up;

	*level = BPF_CORE_READ(pid, level);
	up = (struct upid *)((__u8 *)SCAP_KADDR(pid, numbers[0]) +
			     (__u64)(*level & 63) * bpf_core_type_size(struct upid));
	return BPF_CORE_READ(up, ns);
}

static __s64 scap_task_vid(struct task_struct *t, int which)
{
	struct pid_namespace *ns;
	struct pid *pid;
	struct upid *up;
	__u32 level;

	ns = scap_task_ns(t, &level);
	if (which == SCAP_VID_TID)
		pid = BPF_CORE_READ(t, thread_pid);
	else if (which == SCAP_VID_TGID)
		pid = BPF_CORE_READ(t, signal, pids[PIDTYPE_TGID]);
	else
		pid = BPF_CORE_READ(t, signal, pids[PIDTYPE_PGID]);
	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	up = (struct upid *)((__u8 *)SCAP_KADDR(pid, numbers[0]) +
			     (__u64)(level & 63) * bpf_core_type_size(struct upid));
	if (BPF_CORE_READ(up, ns) != ns)
		return 0;
	return BPF_CORE_READ(up, nr);
}

static int scap_task_child_in_pidns(struct task_struct *t)
{
	__u32 level;
	struct pid_namespace *ns = scap_task_ns(t, &level);

	if (level)
		return 1;
	return BPF_CORE_READ(t, nsproxy, pid_ns_for_children) != ns;
}

static __s64 scap_task_loginuid(struct task_struct *t)
{
	if (!bpf_core_field_exists(t->loginuid))
		return -1;
	return (__s64)(__s32)BPF_CORE_READ(t, loginuid.val);
}

#define SCAP_SB_RDONLY 1
#define SCAP_S_IMMUTABLE 8
#define SCAP_CAP_DAC_OVERRIDE 1
#define SCAP_CAP_FOWNER 3

static int scap_task_exe_writable(struct task_struct *t)
{
	struct file *exe = BPF_CORE_READ(t, mm, exe_file);
	const struct cred *cred = BPF_CORE_READ(t, cred);
	struct inode *inode;
	__u32 iuid, igid, mode, fmt;
	__u64 caps = 0;

	if (!exe || !cred)
		return 0;
	inode = BPF_CORE_READ(exe, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	fmt = mode & SCAP_S_IFMT;
	if ((BPF_CORE_READ(inode, i_sb, s_flags) & SCAP_SB_RDONLY) &&
	    (fmt == 0100000 || fmt == 0040000 || fmt == 0120000))
		return 0;
	if (BPF_CORE_READ(inode, i_flags) & SCAP_S_IMMUTABLE)
		return 0;
	iuid = BPF_CORE_READ(inode, i_uid.val);
	igid = BPF_CORE_READ(inode, i_gid.val);
	if (iuid == (__u32)-1 || igid == (__u32)-1)
		return 0;
	if (BPF_CORE_READ(cred, fsuid.val) == iuid)
		return 1;
	if (BPF_CORE_READ(cred, fsgid.val) == igid)
		mode >>= 3;
	if (mode & 2) /* MAY_WRITE */
		return 1;
	/* kernel_cap_t is a u64 since 6.3 and two u32 before: the low word holds both caps */
	bpf_probe_read_kernel(&caps, sizeof(caps), SCAP_KADDR(cred, cap_effective));
	return (caps & ((1ULL << SCAP_CAP_DAC_OVERRIDE) | (1ULL << SCAP_CAP_FOWNER))) != 0;
}

#define SCAP_PATH_DEPTH 48
#define SCAP_PATH_TMP 4096 /* path assembled backwards in tmp[0..4096) */

struct scap_path_walk {
	struct scap_fill *f;
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 pos; /* start of the assembled path in tmp */
};

static long scap_path_step(__u64 i, void *ctx)
{
	struct scap_path_walk *w = ctx;
	struct dentry *dentry = w->dentry, *parent, *mnt_root;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	const __u8 *name;
	__u32 len;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt)
		return 1;
	mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (dentry != mnt_root || up == mnt)
			return 1; /* the global root (or an unreachable one) */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (struct vfsmount *)SCAP_KADDR(up, mnt);
		return 0;
	}
	name = BPF_CORE_READ(dentry, d_name.name);
	len = BPF_CORE_READ(dentry, d_name.len);
	if (len > 255 || len + 1 >= w->pos)
		return 1;
	w->pos -= len;
	bpf_probe_read_kernel(scap_tmp(w->f, w->pos), SCAP_BOUND(len, 255), name);
	w->pos -= 1;
	*scap_tmp(w->f, w->pos) = '/';
	w->dentry = parent;
	return 0;
}

static __u32 scap_put_cwd(struct scap_fill *f, __u32 off, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct scap_path_walk w = {};
	__u32 len;

	if (!fs)
		return 0;
	w.f = f;
	w.dentry = BPF_CORE_READ(fs, pwd.dentry);
	w.vfsmnt = BPF_CORE_READ(fs, pwd.mnt);
	w.mnt = (struct mount *)((__u8 *)w.vfsmnt - bpf_core_field_offset(struct mount, mnt));
	w.root_dentry = BPF_CORE_READ(fs, root.dentry);
	w.root_mnt = BPF_CORE_READ(fs, root.mnt);
	w.pos = SCAP_PATH_TMP - 1;
	*scap_tmp(f, w.pos) = 0;
	bpf_loop(SCAP_PATH_DEPTH, scap_path_step, &w, 0);
	if (w.pos == SCAP_PATH_TMP - 1) {
		w.pos -= 1;
		*scap_tmp(f, w.pos) = '/';
	}
	len = SCAP_PATH_TMP - w.pos;
	if (len > SCAP_PATH_TMP || bpf_probe_read_kernel(scap_at(f, off), SCAP_BOUND(len, SCAP_PATH_TMP * 2 - 1),
							 scap_tmp(f, w.pos)))
		return 0;
	return len;
}

/* Before 6.15 kernfs_node's parent was called "parent". */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

#define SCAP_CGROUP_DEPTH 16
#define SCAP_CG_TMP 4096 /* one "subsys=/path" assembled backwards in tmp[0..4096) */

static struct kernfs_node *scap_kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

struct scap_cg_walk {
	struct scap_fill *f;
	struct css_set *cgroups;
	struct kernfs_node *kn;
	__u32 off;  /* the parameter's offset in the event buffer */
	__u32 k;    /* bytes written so far */
	__u32 pos;  /* start of the string being assembled in tmp */
	int ids[5]; /* cpuset, cpu, cpuacct, io, memory (-1: not in this kernel) */
};

/* One path component, leaf first: "/name" in front of what is assembled. */
static long scap_cg_component(__u64 i, void *ctx)
{
	struct scap_cg_walk *w = ctx;
	struct kernfs_node *kn = w->kn;
	const char *name;
	long n;

	if (!kn)
		return 1;
	name = BPF_CORE_READ(kn, name);
	w->kn = scap_kn_parent(kn);
	if (w->pos < 300)
		return 1;
	/* read at a fixed distance before pos, then slide into place */
	n = bpf_probe_read_kernel_str(scap_tmp(w->f, w->pos - 256), 256, name);
	if (n <= 1)
		return 0; /* the hierarchy's root has an empty name */
	n -= 1; /* without its NUL */
	bpf_probe_read_kernel(scap_tmp(w->f, w->pos - n), SCAP_BOUND(n, 255),
			      scap_tmp(w->f, w->pos - 256));
	w->pos -= n + 1;
	*scap_tmp(w->f, w->pos) = '/';
	return 0;
}

/* One subsystem: "name=/path\0" appended at w->k. */
static long scap_cg_subsys(__u64 i, void *ctx)
{
	struct scap_cg_walk *w = ctx;
	struct cgroup_subsys_state *css;
	const char *name;
	__u32 len, end;
	long n;
	int id;

	switch (i) {
	case 0: id = w->ids[0]; break;
	case 1: id = w->ids[1]; break;
	case 2: id = w->ids[2]; break;
	case 3: id = w->ids[3]; break;
	case 4: id = w->ids[4]; break;
	default: return 1;
	}
	if (id < 0)
		return 0;
	{
		struct css_set *cgroups = w->cgroups;
		struct cgroup_subsys_state **slot = SCAP_KADDR(cgroups, subsys[0]);

		css = 0;
		bpf_probe_read_kernel(&css, sizeof(css), slot + (id & 15));
	}
	if (!css)
		return 0;
	w->kn = BPF_CORE_READ(css, cgroup, kn);
	end = SCAP_CG_TMP - 1;
	w->pos = end;
	*scap_tmp(w->f, end) = 0;
	bpf_loop(SCAP_CGROUP_DEPTH, scap_cg_component, w, 0);
	if (w->pos == end) {
		w->pos -= 1;
		*scap_tmp(w->f, w->pos) = '/';
	}
	/* the subsystem name and '=' in front */
	name = BPF_CORE_READ(css, ss, name);
	n = bpf_probe_read_kernel_str(scap_tmp(w->f, 0), 32, name);
	if (n <= 1 || w->pos < 40)
		return 0;
	n -= 1;
	w->pos -= 1;
	*scap_tmp(w->f, w->pos) = '=';
	bpf_probe_read_kernel(scap_tmp(w->f, w->pos - n), SCAP_BOUND(n, 31), scap_tmp(w->f, 0));
	w->pos -= n;
	len = SCAP_CG_TMP - w->pos;
	if (w->k + len > SCAP_MAX_STR)
		return 1;
	if (bpf_probe_read_kernel(scap_at2(w->f, w->off, w->k), SCAP_BOUND(len, SCAP_CG_TMP * 2 - 1),
				  scap_tmp(w->f, w->pos)))
		return 1;
	w->k += len;
	return 0;
}

static __u32 scap_put_cgroups(struct scap_fill *f, __u32 off, struct task_struct *t)
{
	struct scap_cg_walk w = {};

	w.cgroups = BPF_CORE_READ(t, cgroups);
	if (!w.cgroups)
		return 0;
	w.f = f;
	w.off = off;
	w.ids[0] = bpf_core_enum_value_exists(enum cgroup_subsys_id, cpuset_cgrp_id)
			   ? bpf_core_enum_value(enum cgroup_subsys_id, cpuset_cgrp_id) : -1;
	w.ids[1] = bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)
			   ? bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id) : -1;
	w.ids[2] = bpf_core_enum_value_exists(enum cgroup_subsys_id, cpuacct_cgrp_id)
			   ? bpf_core_enum_value(enum cgroup_subsys_id, cpuacct_cgrp_id) : -1;
	w.ids[3] = bpf_core_enum_value_exists(enum cgroup_subsys_id, io_cgrp_id)
			   ? bpf_core_enum_value(enum cgroup_subsys_id, io_cgrp_id) : -1;
	w.ids[4] = bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)
			   ? bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id) : -1;
	bpf_loop(5, scap_cg_subsys, &w, 0);
	return w.k;
}

/* -------------------------------------------------------------------------------- driver */

SCAP_INLINE int scap_wanted(__u32 tgid)
{
	if (tgid == scap_cfg.exclude_tgid)
		return 0;
	if (!scap_cfg.target_tgid)
		return 1;
	return scap_is_tracked(tgid);
}

/* This CPU's ring element (probe_cfg.h), or NULL. */
SCAP_INLINE __u8 *scap_this_ring(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scap_rings, &cpu);
}

/*
 * The state of the event being recorded on this CPU, in its ring's header page rather than
 * on the stack: older kernels (6.1) count every frame of the deepest chain of calls
 * (program, scap_fill_params, scap_fill_param, the specials' helpers) against 512 bytes.
 */
SCAP_INLINE struct scap_state *scap_ring_state(__u8 *ring)
{
	return (struct scap_state *)(ring + SCAP_RING_STATE_OFF);
}

/* Fill event evt (state s, set but for the fill positions) in place in ring, this CPU's,
 * and publish it. */
SCAP_INLINE void scap_emit(__u8 *ring, struct scap_state *s, __u16 evt, __u32 tid)
{
	struct scap_ring_hdr *h = (struct scap_ring_hdr *)ring;
	__u64 ts, head = h->head;
	__u32 size;
	__u8 *buf;

	/* the fill may write up to SCAP_BUF_SIZE bytes from the record's start */
	if (head - *(volatile __u64 *)&h->tail > (__u64)scap_cfg.ring_mask + 1 - SCAP_RING_SLACK) {
		h->drops_full++;
		return;
	}
	ts = bpf_ktime_get_boot_ns() + scap_cfg.boot_to_epoch_ns;
	buf = scap_ring_buf(ring, head);
	scap_fill_event(s, buf, evt);
	size = scap_frame_block(s, buf, ts, tid, (__u16)bpf_get_smp_processor_id());
	if (!size || size > SCAP_MAX_BLOCK) {
		h->drops_size++;
		return;
	}
	h->events++;
	h->bytes += size;
	/* the record's bytes are stored before head moves past them (x86: in order) */
	asm volatile("" ::: "memory");
	*(volatile __u64 *)&h->head = head + ((size + SCAP_RING_ALIGN - 1) & ~(SCAP_RING_ALIGN - 1));
}

SCAP_INLINE int scap_syscall(struct pt_regs *regs, long id, long ret, int is_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct scap_syscall_route *r;
	struct scap_state *s;
	__u8 *ring;

	if (!scap_wanted(task->tgid))
		return 0;
	if (id < 0 || id >= SCAP_SYSCALL_TABLE_SIZE)
		return 0;
	/* 32-bit syscalls have other numbers: skip them, except the exit of an execve from a
	 * 64-bit process into a 32-bit program, which returns with TS_COMPAT already set */
	if ((task->thread_info.status & SCAP_TS_COMPAT) &&
	    !(is_exit && (id == SCAP_NR_EXECVE || id == SCAP_NR_EXECVEAT)))
		return 0;
	r = &scap_syscall_routes[id & (SCAP_SYSCALL_ROUTES - 1)];
	if (!r->used)
		return 0;
	ring = scap_this_ring();
	if (!ring)
		return 0;
	/* every field the fill code reads is set: the previous event's values are overwritten */
	s = scap_ring_state(ring);
	s->task = (__u64)task;
	s->buf = 0;
	s->tmp = 0;
	s->args[0] = regs->di;
	s->args[1] = regs->si;
	s->args[2] = regs->dx;
	s->args[3] = regs->r10;
	s->args[4] = regs->r8;
	s->args[5] = regs->r9;
	s->ret = ret;
	s->none = 0;
	s->snaplen = scap_cfg.snaplen;
	s->sc = r->sc;
	s->nr = (__u16)id;
	scap_emit(ring, s, is_exit ? r->exit : r->enter, task->pid);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(scap_sys_enter, struct pt_regs *regs, long id)
{
	return scap_syscall(regs, id, 0, 0);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(scap_sys_exit, struct pt_regs *regs, long ret)
{
	return scap_syscall(regs, regs->orig_ax, ret, 1);
}

/* Children of tracked processes are tracked from their creation. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(scap_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid, ctgid;

	if (!scap_cfg.target_tgid)
		return 0;
	ptgid = parent->tgid;
	ctgid = child->tgid;
	if (ptgid != ctgid && scap_is_tracked(ptgid))
		scap_set_tracked(ctgid, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(scap_sched_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct scap_state *s;
	__u8 *ring;

	if (!scap_wanted(tgid))
		return 0;
	ring = scap_this_ring();
	if (!ring)
		return 0;
	s = scap_ring_state(ring);
	__builtin_memset(s, 0, sizeof(*s));
	s->task = (__u64)p;
	s->snaplen = scap_cfg.snaplen;
	scap_emit(ring, s, SCAP_TP_PROCEXIT_EVENT, (__u32)p->pid);
	/* the last thread of a tracked group is gone */
	if (scap_cfg.target_tgid && BPF_CORE_READ(p, signal, live.counter) == 0)
		scap_set_tracked(tgid, 0);
	return 0;
}
