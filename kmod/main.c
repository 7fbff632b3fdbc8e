// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * scapkit: records syscalls and process events into per-CPU rings that one reader maps
 * through /dev/scapkit (see scapkit_uapi.h for the interface). This file holds the
 * module's entry points and the character device: open/release, ioctl, mmap.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "scapkit.h"

struct sk_config sk_cfg = { .snaplen = 80, .exclude_tgid = -1 };

/* Everything below is changed under sk_lock (process context). */
static DEFINE_MUTEX(sk_lock);
static bool sk_open;		/* one reader at a time */
static bool sk_capturing;
static u64 sk_ring_bytes;	/* 0 until the reader sizes the rings */

static u64 sk_region_bytes(void)
{
	return SCAPKIT_HEADER_BYTES + sk_ring_bytes;
}

static void sk_stop_locked(void)
{
	if (!sk_capturing)
		return;
	sk_probes_detach();	/* waits for running probes */
	sk_capturing = false;
}

static int sk_dev_open(struct inode *inode, struct file *file)
{
	int err = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&sk_lock);
	if (sk_open)
		err = -EBUSY;
	else
		sk_open = true;
	mutex_unlock(&sk_lock);
	return err;
}

/* Called when the last reference (descriptor or mapping) is gone. */
static int sk_dev_release(struct inode *inode, struct file *file)
{
	mutex_lock(&sk_lock);
	sk_stop_locked();
	sk_follow_free();
	sk_rings_free();
	sk_ring_bytes = 0;
	sk_cfg.follow = false;
	WRITE_ONCE(sk_cfg.exclude_tgid, -1);
	WRITE_ONCE(sk_cfg.snaplen, 80);
	sk_open = false;
	mutex_unlock(&sk_lock);
	return 0;
}

/* A pid as the caller sees it (its pid namespace) -> the global tgid of its process. */
static pid_t sk_global_tgid(pid_t nr)
{
	struct task_struct *t;
	pid_t tgid = -ESRCH;

	rcu_read_lock();
	t = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (t)
		tgid = t->tgid;
	rcu_read_unlock();
	return tgid;
}

/* An ioctl's argument, copied in before and out after the lock is taken (the mmap path
 * takes sk_lock under mmap_lock, so no user copy, which may fault, happens under it). */
union sk_ioctl_arg {
	__u64 v64;
	__u32 v32;
	__s32 pid;
	struct scapkit_info info;
	struct scapkit_cpu_stats st;
};

static void sk_get_info(struct scapkit_info *info)
{
	memset(info, 0, sizeof(*info));
	info->api_version = SCAPKIT_API_VERSION;
	info->ncpus = nr_cpu_ids;
	info->ring_bytes = sk_ring_bytes;
	info->region_bytes = sk_ring_bytes ? sk_region_bytes() : 0;
	info->max_event_bytes = SK_MAX_EVENT_BYTES;
	info->capturing = sk_capturing;
	strscpy(info->event_schema, sk_event_schema, sizeof(info->event_schema));
}

static long sk_get_cpu_stats(struct scapkit_cpu_stats *st)
{
	struct scapkit_ring_header *h;
	u32 cpu = st->cpu;

	if (cpu >= nr_cpu_ids)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->cpu = cpu;
	st->online = cpu_online(cpu);
	h = sk_ring_area(cpu);
	if (h) {
		st->events = READ_ONCE(h->events);
		st->drops_full = READ_ONCE(h->drops_full);
		st->drops_other = READ_ONCE(h->drops_other);
		st->bytes = READ_ONCE(h->bytes);
	}
	return 0;
}

static long sk_set_target(s32 pid)
{
	int err;

	if (sk_capturing)
		return -EBUSY;
	if (pid < 0) {
		sk_cfg.follow = false;
		sk_follow_free();
		return 0;
	}
	pid = sk_global_tgid(pid);
	if (pid < 0)
		return pid;
	err = sk_follow_init(pid);
	if (!err)
		sk_cfg.follow = true;
	return err;
}

static long sk_ioctl_locked(unsigned int cmd, union sk_ioctl_arg *a)
{
	s32 pid;
	int err;

	switch (cmd) {
	case SCAPKIT_IOC_GET_INFO:
		sk_get_info(&a->info);
		return 0;
	case SCAPKIT_IOC_GET_CPU_STATS:
		return sk_get_cpu_stats(&a->st);
	case SCAPKIT_IOC_SET_RING_BYTES:
		if (sk_rings_allocated())
			return -EBUSY;	/* sized once per open: mappings may exist */
		err = sk_rings_alloc(a->v64);
		if (!err)
			sk_ring_bytes = a->v64;
		return err;
	case SCAPKIT_IOC_SET_SNAPLEN:
		if (a->v32 > 65000)
			return -EINVAL;
		WRITE_ONCE(sk_cfg.snaplen, a->v32);
		return 0;
	case SCAPKIT_IOC_SET_TARGET:
		return sk_set_target(a->pid);
	case SCAPKIT_IOC_SET_EXCLUDE:
		pid = a->pid;
		if (pid >= 0) {
			pid = sk_global_tgid(pid);
			if (pid < 0)
				return pid;
		}
		WRITE_ONCE(sk_cfg.exclude_tgid, pid < 0 ? -1 : pid);
		return 0;
	case SCAPKIT_IOC_START:
		if (sk_capturing)
			return -EALREADY;
		if (!sk_rings_allocated())
			return -ENOSPC;
		err = sk_probes_attach();
		if (!err)
			sk_capturing = true;
		return err;
	case SCAPKIT_IOC_STOP:
		sk_stop_locked();
		return 0;
	default:
		return -ENOTTY;
	}
}

static long sk_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	size_t size = _IOC_SIZE(cmd);
	union sk_ioctl_arg a;
	long ret;

	if (_IOC_TYPE(cmd) != SCAPKIT_IOC_MAGIC || size > sizeof(a))
		return -ENOTTY;
	memset(&a, 0, sizeof(a));
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(&a, uarg, size))
		return -EFAULT;
	mutex_lock(&sk_lock);
	ret = sk_ioctl_locked(cmd, &a);
	mutex_unlock(&sk_lock);
	if (!ret && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, &a, size))
		return -EFAULT;
	return ret;
}

/* Map one CPU's region: offset cpu * region_bytes, length region_bytes, shared. */
static int sk_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long region_pages, cpu;
	void *area;
	int err = -EINVAL;

	mutex_lock(&sk_lock);
	if (!sk_rings_allocated()) {
		err = -ENOSPC;
		goto out;
	}
	region_pages = sk_region_bytes() >> PAGE_SHIFT;
	if (!(vma->vm_flags & VM_SHARED) || len != sk_region_bytes() ||
	    vma->vm_pgoff % region_pages)
		goto out;
	cpu = vma->vm_pgoff / region_pages;
	area = cpu < nr_cpu_ids ? sk_ring_area(cpu) : NULL;
	if (!area) {
		err = -ENODEV;
		goto out;
	}
	err = remap_vmalloc_range(vma, area, 0);
out:
	mutex_unlock(&sk_lock);
	return err;
}

static const struct file_operations sk_fops = {
	.owner = THIS_MODULE,
	.open = sk_dev_open,
	.release = sk_dev_release,
	.unlocked_ioctl = sk_dev_ioctl,
	.mmap = sk_dev_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice sk_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = SCAPKIT_DEVICE_NAME,
	.fops = &sk_fops,
	.mode = 0600,
};

static int __init sk_init(void)
{
	int err = sk_probes_find();

	if (err)
		return err;
	err = misc_register(&sk_misc);
	if (err) {
		pr_err("scapkit: cannot register /dev/%s: %d\n", SCAPKIT_DEVICE_NAME, err);
		return err;
	}
	pr_info("scapkit: loaded, API %d, events %s, /dev/%s\n", SCAPKIT_API_VERSION,
		sk_event_schema, SCAPKIT_DEVICE_NAME);
	return 0;
}

static void __exit sk_exit(void)
{
	/* No reader can be open here: an open device holds a module reference. */
	misc_deregister(&sk_misc);
	pr_info("scapkit: unloaded\n");
}

module_init(sk_init);
module_exit(sk_exit);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("scapkit syscall capture into per-CPU rings mapped by one reader");
MODULE_VERSION("0.1.0");
