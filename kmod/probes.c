// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The tracepoints the module attaches to: raw syscall enter/exit and the scheduler's
 * process fork and exit. (sched_process_exec adds nothing on x86_64: execve's exit event
 * comes from sys_exit, after the new image is in place.) They are not exported to modules
 * by name, so they are found
 * by walking the kernel's tracepoints once at load time; probes are registered on
 * START and unregistered on STOP, followed by tracepoint_synchronize_unregister() so no
 * probe still runs when the rings or the followed set are freed.
 */
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "scapkit.h"

static void sk_tp_sys_enter(void *data, struct pt_regs *regs, long id)
{
	sk_on_syscall(regs, id, 0, true);
}

static void sk_tp_sys_exit(void *data, struct pt_regs *regs, long ret)
{
	sk_on_syscall(regs, -1, ret, false);
}

static void sk_tp_fork(void *data, struct task_struct *parent, struct task_struct *child)
{
	sk_on_process_fork(parent, child);
}

static void sk_tp_exit(void *data, struct task_struct *p)
{
	sk_on_process_exit(p);
}

struct sk_probe {
	const char *name;
	void *func;
	struct tracepoint *tp;
	bool attached;
};

static struct sk_probe sk_probes[] = {
	{ "sys_enter", sk_tp_sys_enter },
	{ "sys_exit", sk_tp_sys_exit },
	{ "sched_process_fork", sk_tp_fork },
	{ "sched_process_exit", sk_tp_exit },
};

static void sk_visit_tracepoint(struct tracepoint *tp, void *priv)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sk_probes); i++)
		if (!strcmp(tp->name, sk_probes[i].name))
			sk_probes[i].tp = tp;
}

/* Find every tracepoint; fail the module load with the name of a missing one. */
int sk_probes_find(void)
{
	size_t i;

	for_each_kernel_tracepoint(sk_visit_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(sk_probes); i++) {
		if (!sk_probes[i].tp) {
			pr_err("scapkit: kernel has no tracepoint %s (needs CONFIG_FTRACE_SYSCALLS "
			       "and CONFIG_TRACEPOINTS)\n", sk_probes[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

void sk_probes_detach(void)
{
	size_t i;
	bool any = false;

	for (i = 0; i < ARRAY_SIZE(sk_probes); i++) {
		if (!sk_probes[i].attached)
			continue;
		tracepoint_probe_unregister(sk_probes[i].tp, sk_probes[i].func, NULL);
		sk_probes[i].attached = false;
		any = true;
	}
	if (any)
		tracepoint_synchronize_unregister();
}

int sk_probes_attach(void)
{
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(sk_probes); i++) {
		err = tracepoint_probe_register(sk_probes[i].tp, sk_probes[i].func, NULL);
		if (err) {
			pr_err("scapkit: cannot attach to %s: %d\n", sk_probes[i].name, err);
			sk_probes_detach();
			return err;
		}
		sk_probes[i].attached = true;
	}
	return 0;
}
