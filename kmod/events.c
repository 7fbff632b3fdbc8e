// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Events: which tasks are recorded, and building each event with the code shared with the
 * eBPF probe (ebpf/shared/scap_fill.h, driven by the generated scap_events_gen.h tables).
 * This file holds the module's side of that code's backend contract: the memory-access
 * macros (backend.h) and the task/file/path hooks below, all safe in tracepoint context
 * (no sleeping, no page faults, no locks that a probe could already hold).
 *
 * An event is filled in the CPU's scratch area, framed by scap_frame_block() (which writes
 * the event header: timestamp, thread id, length, code, parameter count) and its event
 * part (without the block framing, which the reader adds) is copied into the CPU's ring.
 */
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/nsproxy.h>
#include <linux/path.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/tty.h>
#include <linux/tty_driver.h>
#include <linux/uidgid.h>
#include <net/af_unix.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <asm/syscall.h>

#include "scapkit.h"
#include "backend.h"
#include "scap_fill.h"

const char sk_event_schema[] = SK_EVENT_SCHEMA;

/* ------------------------------------------------------------------ backend hooks */

/* The buffers travel in the state (s->buf, s->tmp): the probe set them to this CPU's. */
SCAP_INLINE int scap_fill_view(struct scap_fill *f, struct scap_state *s)
{
	if (!s->buf || !s->tmp)
		return 0;
	f->buf = (__u8 *)(unsigned long)s->buf;
	f->tmp = (__u8 *)(unsigned long)s->tmp;
	f->task = (struct task_struct *)(unsigned long)s->task;
	f->s = s;
	return 1;
}

static struct file *scap_fd_to_file(struct task_struct *t, __s64 fd)
{
	struct files_struct *files = READ_ONCE(t->files);
	struct fdtable *fdt;
	struct file *file = NULL;

	if (!files || fd < 0)
		return NULL;
	rcu_read_lock();
	fdt = rcu_dereference(files->fdt);
	if (fd < fdt->max_fds)
		file = rcu_dereference(fdt->fd[array_index_nospec((unsigned long)fd,
								     fdt->max_fds)]);
	rcu_read_unlock();
	/* Used right away with preemption disabled: files are freed after an RCU grace
	 * period, which cannot end before the probe returns. */
	return file;
}

static __u64 scap_mm_counter(struct mm_struct *mm, int member)
{
	long v;

	if (!mm || member < 0 || member >= NR_MM_COUNTERS)
		return 0;
	v = get_mm_counter(mm, member);
	return v > 0 ? (__u64)v : 0;
}

static __s64 scap_task_vid(struct task_struct *t, int which)
{
	struct pid_namespace *ns = task_active_pid_ns(t);

	if (!ns)
		return 0;
	switch (which) {
	case SCAP_VID_TID:
		return task_pid_nr_ns(t, ns);
	case SCAP_VID_TGID:
		return task_tgid_nr_ns(t, ns);
	default:
		return task_pgrp_nr_ns(t, ns);
	}
}

static int scap_task_child_in_pidns(struct task_struct *t)
{
	struct nsproxy *nsp = READ_ONCE(t->nsproxy);
	struct pid_namespace *ns = task_active_pid_ns(t);

	if (ns && ns != &init_pid_ns)
		return 1;
	return nsp && nsp->pid_ns_for_children && nsp->pid_ns_for_children != &init_pid_ns;
}

static __s64 scap_task_loginuid(struct task_struct *t)
{
#ifdef CONFIG_AUDIT
	kuid_t uid = audit_get_loginuid(t);

	return uid_valid(uid) ? (__s64)from_kuid(&init_user_ns, uid) : -1;
#else
	return -1;
#endif
}

/* Whether the task may write its own executable: the rules of the eBPF backend (a
 * read-only filesystem or an immutable inode: no; the owner: yes; else the group or other
 * write bit; else CAP_DAC_OVERRIDE or CAP_FOWNER), read without locks. */
static int scap_task_exe_writable(struct task_struct *t)
{
	struct mm_struct *mm = READ_ONCE(t->mm);
	const struct cred *cred;
	struct file *exe;
	struct inode *inode;
	umode_t mode;
	int writable = 0;

	if (!mm)
		return 0;
	rcu_read_lock();
	exe = rcu_dereference(mm->exe_file);
	cred = rcu_dereference(t->cred);
	inode = exe ? file_inode(exe) : NULL;
	if (!inode || !cred)
		goto out;
	mode = inode->i_mode;
	if (sb_rdonly(inode->i_sb) && (S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode)))
		goto out;
	if (IS_IMMUTABLE(inode) || !uid_valid(inode->i_uid) || !gid_valid(inode->i_gid))
		goto out;
	if (uid_eq(cred->fsuid, inode->i_uid)) {
		writable = 1;
		goto out;
	}
	if (gid_eq(cred->fsgid, inode->i_gid))
		mode >>= 3;
	writable = (mode & 2) || cap_raised(cred->cap_effective, CAP_DAC_OVERRIDE) ||
		   cap_raised(cred->cap_effective, CAP_FOWNER);
out:
	rcu_read_unlock();
	return writable;
}

static __u32 scap_put_cwd(struct scap_fill *f, __u32 off, struct task_struct *t)
{
	struct fs_struct *fs;
	struct path pwd;
	unsigned int seq;
	char *path, *tmp = (char *)f->tmp;
	__u32 len;

	rcu_read_lock();
	fs = READ_ONCE(t->fs);
	if (!fs) {
		rcu_read_unlock();
		return 0;
	}
	do {
		seq = read_seqcount_begin(&fs->seq);
		pwd = fs->pwd;
	} while (read_seqcount_retry(&fs->seq, seq));
	/* d_path() walks dentries under RCU and the rename/mount seqlocks: it neither
	 * sleeps nor needs a reference while the caller is in an RCU read section. */
	path = pwd.dentry ? d_path(&pwd, tmp, SCAP_TMP_SIZE) : ERR_PTR(-ENOENT);
	rcu_read_unlock();
	if (IS_ERR(path))
		return 0;
	len = (tmp + SCAP_TMP_SIZE) - path; /* d_path's result ends with its NUL */
	if (len > SCAP_MAX_STR)
		return 0;
	memmove(scap_at(f, off), path, len);
	return len;
}

/* "subsys=/path\0" for the cgroup of t in one controller's hierarchy; bytes written. */
static __u32 sk_put_one_cgroup(struct scap_fill *f, __u32 off, __u32 k, struct task_struct *t,
			       int id, const char *name)
{
	struct cgroup_subsys_state *css;
	char *p = (char *)scap_at2(f, off, k);
	__u32 room = SCAP_MAX_STR - k, n = strlen(name);
	int len;

	if (k >= SCAP_MAX_STR || room < n + 3)
		return 0;
	css = task_css(t, id);
	if (!css || !css->cgroup || !css->cgroup->kn)
		return 0;
	memcpy(p, name, n);
	p[n] = '=';
	len = cgroup_path(css->cgroup, p + n + 1, room - n - 1);
	if (len < 0 || (__u32)len >= room - n - 1)
		return 0;
	return n + 1 + len + 1;
}

static __u32 scap_put_cgroups(struct scap_fill *f, __u32 off, struct task_struct *t)
{
	__u32 k = 0;

	rcu_read_lock();
#if IS_ENABLED(CONFIG_CPUSETS)
	k += sk_put_one_cgroup(f, off, k, t, cpuset_cgrp_id, "cpuset");
#endif
#if IS_ENABLED(CONFIG_CGROUP_SCHED)
	k += sk_put_one_cgroup(f, off, k, t, cpu_cgrp_id, "cpu");
#endif
#if IS_ENABLED(CONFIG_CGROUP_CPUACCT)
	k += sk_put_one_cgroup(f, off, k, t, cpuacct_cgrp_id, "cpuacct");
#endif
#if IS_ENABLED(CONFIG_BLK_CGROUP)
	k += sk_put_one_cgroup(f, off, k, t, io_cgrp_id, "io");
#endif
#if IS_ENABLED(CONFIG_MEMCG)
	k += sk_put_one_cgroup(f, off, k, t, memory_cgrp_id, "memory");
#endif
	rcu_read_unlock();
	return k;
}

/* ------------------------------------------------------------------ recording */

/* Is the current task one we record? */
static bool sk_wanted(struct task_struct *t)
{
	pid_t ex = READ_ONCE(sk_cfg.exclude_tgid);

	if (ex >= 0 && t->tgid == ex)
		return false;
	if (sk_cfg.follow && !sk_follow_test(t->tgid))
		return false;
	return true;
}

/* Fill event evt described by s on this CPU and put it in the ring. Preemption is
 * disabled by the caller. */
static void sk_emit(struct sk_cpu *c, struct scap_state *s, __u16 evt, pid_t tid)
{
	__u64 ts = ktime_get_real_ns();
	__u32 block;

	if (c->busy) {		/* a probe interrupted another on this CPU */
		sk_ring_drop(c);
		return;
	}
	c->busy = 1;
	s->buf = (__u64)(unsigned long)c->scratch;
	s->tmp = (__u64)(unsigned long)(c->scratch + SK_SCRATCH_BYTES);
	s->snaplen = READ_ONCE(sk_cfg.snaplen);
	scap_fill_event(s, c->scratch, evt);
	block = scap_frame_block(s, c->scratch, ts, tid, smp_processor_id());
	if (block)
		sk_ring_commit(c, c->scratch + SCAP_EVT_OFF, s->off - SCAP_EVT_OFF);
	else
		sk_ring_drop(c);	/* larger than any event may be */
	c->busy = 0;
}

void sk_on_syscall(struct pt_regs *regs, long id, long ret, bool enter)
{
	const struct scap_syscall_route *route;
	struct scap_state s = {};
	unsigned long args[6];
	int i;

	BUILD_BUG_ON(SK_SCRATCH_BYTES != SCAP_BUF_SIZE);
	BUILD_BUG_ON(SK_TMP_BYTES != 2 * SCAP_TMP_SIZE);
	BUILD_BUG_ON(SK_MAX_EVENT_BYTES != SCAP_MAX_BLOCK);
	if (!sk_wanted(current) || in_compat_syscall())
		return;
	if (!enter)
		id = syscall_get_nr(current, regs);
	if (id < 0 || id >= SCAP_SYSCALL_TABLE_SIZE)
		return;
	id = array_index_nospec(id, SCAP_SYSCALL_TABLE_SIZE);
	route = &scap_syscall_routes[id];
	if (!route->used)
		return;
	syscall_get_arguments(current, regs, args);
	for (i = 0; i < 6; i++)
		s.args[i] = args[i];
	s.task = (__u64)(unsigned long)current;
	s.ret = enter ? 0 : ret;
	s.sc = route->sc;
	s.nr = (__u16)id;
	sk_emit(&sk_cpus[get_cpu()], &s, enter ? route->enter : route->exit, current->pid);
	put_cpu();
}

void sk_on_process_exit(struct task_struct *p)
{
	struct scap_state s = {};

	if (sk_wanted(p)) {
		s.task = (__u64)(unsigned long)p;
		sk_emit(&sk_cpus[get_cpu()], &s, SCAP_TP_PROCEXIT_EVENT, p->pid);
		put_cpu();
	}
	/* the last thread of a followed process is gone: forget its number */
	if (sk_cfg.follow && atomic_read(&p->signal->live) == 0)
		sk_follow_remove(p->tgid);
}

void sk_on_process_fork(struct task_struct *parent, struct task_struct *child)
{
	if (sk_cfg.follow && sk_follow_test(parent->tgid))
		sk_follow_add(child->tgid);
}
