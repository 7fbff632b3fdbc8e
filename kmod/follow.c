// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The followed processes when the reader asks for one process and its descendants: a
 * bitmap over global pid numbers (PID_MAX_LIMIT bits, 512 KiB on 64-bit), so the probes
 * test, add and remove with single atomic bit operations, never a lock or an allocation.
 * sched_process_fork adds a child whose parent is followed; sched_process_exit removes a
 * process when its last thread exits (before the number can be reused).
 */
#include <linux/bitops.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/threads.h>
#include <linux/vmalloc.h>

#include "scapkit.h"

static unsigned long *sk_follow_bits;

static bool sk_pid_ok(pid_t pid)
{
	return pid > 0 && pid < PID_MAX_LIMIT;
}

bool sk_follow_test(pid_t tgid)
{
	unsigned long *bits = READ_ONCE(sk_follow_bits);

	return bits && sk_pid_ok(tgid) && test_bit(tgid, bits);
}

void sk_follow_add(pid_t tgid)
{
	unsigned long *bits = READ_ONCE(sk_follow_bits);

	if (bits && sk_pid_ok(tgid))
		set_bit(tgid, bits);
}

void sk_follow_remove(pid_t tgid)
{
	unsigned long *bits = READ_ONCE(sk_follow_bits);

	if (bits && sk_pid_ok(tgid))
		clear_bit(tgid, bits);
}

/* Is p a descendant of (or is it) the process with global tgid root? RCU held. */
static bool sk_descends_from(struct task_struct *p, pid_t root)
{
	int depth;

	for (depth = 0; depth < 4096 && p; depth++) {
		struct task_struct *parent;

		if (p->tgid == root)
			return true;
		if (p->pid <= 1)
			return false;
		parent = rcu_dereference(p->real_parent);
		if (parent == p)
			return false;
		p = parent;
	}
	return false;
}

/* Start following tgid and the descendants it already has. Called with the probes
 * detached (process context, may sleep). */
int sk_follow_init(pid_t tgid)
{
	struct task_struct *p;
	unsigned long *bits;

	if (!sk_pid_ok(tgid))
		return -EINVAL;
	sk_follow_free();
	bits = vzalloc(BITS_TO_LONGS(PID_MAX_LIMIT) * sizeof(unsigned long));
	if (!bits)
		return -ENOMEM;
	set_bit(tgid, bits);
	rcu_read_lock();
	for_each_process(p) {
		if (sk_descends_from(p, tgid))
			set_bit(p->tgid, bits);
	}
	rcu_read_unlock();
	WRITE_ONCE(sk_follow_bits, bits);
	return 0;
}

void sk_follow_free(void)
{
	unsigned long *bits = sk_follow_bits;

	WRITE_ONCE(sk_follow_bits, NULL);
	vfree(bits);
}
