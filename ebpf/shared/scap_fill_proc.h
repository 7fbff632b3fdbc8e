/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * scap_fill_proc.h - process parameters of clone/fork/execve exits and of procexit
 * (part of scap_fill.h).
 *
 * exe/args: after a successful call the argument block of the (new) image, read from
 * mm->arg_start..arg_end (at most SCAP_MAX_ARGS bytes); exe is its first string, args the
 * rest. After a failed execve the strings of the user argv (operand) are gathered instead.
 * env: the same with mm->env_start..env_end and the user envp.
 */
#ifndef SCAP_FILL_PROC_H
#define SCAP_FILL_PROC_H

/* A block of user memory of the current mm (arguments, environment), NUL-terminated. */
SCAP_INLINE __u32 scap_put_mm_block(struct scap_fill *f, __u32 off, __u64 start, __u64 end)
{
	__u8 *p = scap_at(f, off);
	__u64 len;

	if (!start || end <= start)
		return 0;
	len = end - start;
	if (len > SCAP_MAX_ARGS)
		len = SCAP_MAX_ARGS;
	if (SCAP_READ_USER(p, SCAP_BOUND(len, SCAP_MAX_ARGS * 2 - 1), (const void *)start))
		return 0;
	p[SCAP_BOUND(len - 1, SCAP_MAX_ARGS - 1)] = 0;
	return (__u32)len;
}

/* The strings of a NULL-terminated user array of string pointers, each with its NUL. */
SCAP_INLINE __u32 scap_put_uargv(struct scap_fill *f, __u32 off, __u64 argv)
{
	__u32 total = 0, i;
	__u64 s;
	long n;

	if (!argv)
		return 0;
	for (i = 0; i < SCAP_MAX_ARGV; i++) {
		s = 0;
		if (SCAP_READ_USER(&s, sizeof(s), (const void *)(argv + 8 * i)) || !s)
			break;
		if (total >= SCAP_MAX_ARGS - 1)
			break;
		n = SCAP_READ_USER_STR(scap_at2(f, off, total),
				       SCAP_BOUND(SCAP_MAX_ARGS - total, SCAP_MAX_ARGS * 2 - 1),
				       (const void *)s);
		if (n <= 0)
			break;
		total += (__u32)n & (SCAP_MAX_ARGS * 2 - 1);
	}
	if (total > SCAP_MAX_ARGS)
		total = SCAP_MAX_ARGS;
	return total;
}

/* exe then args: write the whole block, keep the bytes after argv[0] for the args param. */
SCAP_INLINE __u32 scap_put_exe_args(struct scap_fill *f, __u32 off, __u8 argvop)
{
	struct mm_struct *mm = SCAP_KREAD(f->task, mm);
	__u32 total = 0;
	__u8 *p = scap_at(f, off);
	long exe;

	if (f->s->ret >= 0)
		total = scap_put_mm_block(f, off, SCAP_KREAD(mm, arg_start), SCAP_KREAD(mm, arg_end));
	else if (argvop != SCAP_OP_NONE)
		total = scap_put_uargv(f, off, scap_operand(f, argvop));
	if (!total)
		return 0;
	exe = SCAP_READ_KERNEL_STR(p, SCAP_BOUND(total, SCAP_MAX_ARGS * 2 - 1), p);
	if (exe <= 0 || exe > total)
		exe = total;
	f->s->pending = total - (__u32)exe;
	return (__u32)exe;
}

SCAP_INLINE __u32 scap_put_env(struct scap_fill *f, __u32 off, __u8 envop)
{
	struct mm_struct *mm = SCAP_KREAD(f->task, mm);

	if (f->s->ret >= 0)
		return scap_put_mm_block(f, off, SCAP_KREAD(mm, env_start), SCAP_KREAD(mm, env_end));
	if (envop != SCAP_OP_NONE)
		return scap_put_uargv(f, off, scap_operand(f, envop));
	return 0;
}

/* Encoded device of the controlling tty (as new_encode_dev), 0 without one. */
SCAP_INLINE __u32 scap_task_tty(struct task_struct *t)
{
	struct tty_struct *tty = SCAP_KREAD(t, signal, tty);
	__u32 major, minor;

	if (!tty)
		return 0;
	major = SCAP_KREAD(tty, driver, major);
	minor = SCAP_KREAD(tty, driver, minor_start) + SCAP_KREAD(tty, index);
	return scap_encode_dev((major << 20) | minor);
}

SCAP_INLINE __u64 scap_mm_kib(struct scap_fill *f, __u16 which)
{
	struct mm_struct *mm = SCAP_KREAD(f->task, mm);
	__u64 pages;

	if (!mm)
		return 0;
	if (which == SCAP_SP_VMSIZE)
		pages = SCAP_KREAD(mm, total_vm);
	else if (which == SCAP_SP_VMSWAP)
		pages = scap_mm_counter(mm, SCAP_MM_SWAPENTS);
	else
		pages = scap_mm_counter(mm, SCAP_MM_FILEPAGES) + scap_mm_counter(mm, SCAP_MM_ANONPAGES) +
			scap_mm_counter(mm, SCAP_MM_SHMEMPAGES);
	return pages << (SCAP_PAGE_SHIFT - 10);
}

/* Task-derived numbers. */
SCAP_INLINE __u64 scap_proc_num(struct scap_fill *f, __u16 src)
{
	struct task_struct *t = f->task;
	__u32 code;

	switch (src) {
	case SCAP_SP_TID:
		return (__u64)(__s64)SCAP_KREAD(t, pid);
	case SCAP_SP_PID:
		return (__u64)(__s64)SCAP_KREAD(t, tgid);
	case SCAP_SP_PTID:
		return (__u64)(__s64)SCAP_KREAD(t, real_parent, pid);
	case SCAP_SP_VTID:
		return (__u64)scap_task_vid(t, SCAP_VID_TID);
	case SCAP_SP_VPID:
		return (__u64)scap_task_vid(t, SCAP_VID_TGID);
	case SCAP_SP_VPGID:
		return (__u64)scap_task_vid(t, SCAP_VID_PGID);
	case SCAP_SP_FDLIMIT:
		return SCAP_KREAD(t, signal, rlim[SCAP_RLIMIT_NOFILE].rlim_cur);
	case SCAP_SP_PGFTMAJ:
		return SCAP_KREAD(t, maj_flt);
	case SCAP_SP_PGFTMIN:
		return SCAP_KREAD(t, min_flt);
	case SCAP_SP_VMSIZE:
	case SCAP_SP_VMRSS:
	case SCAP_SP_VMSWAP:
		return scap_mm_kib(f, src);
	case SCAP_SP_EUID:
		return SCAP_KREAD(t, cred, euid.val);
	case SCAP_SP_EGID:
		return SCAP_KREAD(t, cred, egid.val);
	case SCAP_SP_TTY:
		return scap_task_tty(t);
	case SCAP_SP_LOGINUID:
		return (__u64)scap_task_loginuid(t);
	case SCAP_SP_EXEFLAGS:
		return scap_task_exe_writable(t) ? SCAP_PPM_EXECVE_FLAGS_EXE_WRITABLE : 0;
	case SCAP_SP_EXITSTATUS:
		return (__u64)(__s64)(__s32)SCAP_KREAD(t, exit_code);
	case SCAP_SP_EXITRET:
		return (SCAP_KREAD(t, exit_code) >> 8) & 0xff;
	case SCAP_SP_EXITSIG:
		code = SCAP_KREAD(t, exit_code) & 0x7f;
		return (code && code != 0x7f) ? code : 0;
	case SCAP_SP_EXITCORE:
		return (SCAP_KREAD(t, exit_code) & 0x80) ? 1 : 0;
	default:
		return 0;
	}
}

/* Task-derived byte strings. */
SCAP_INLINE __u32 scap_proc_buf(struct scap_fill *f, const struct scap_param_src *d, __u32 off)
{
	switch (d->src) {
	case SCAP_SP_EXE:
		return scap_put_exe_args(f, off, d->op[0]);
	case SCAP_SP_ENV:
		return scap_put_env(f, off, d->op[0]);
	case SCAP_SP_CWD:
		return scap_put_cwd(f, off, f->task);
	case SCAP_SP_COMM:
		return scap_put_kstr(f, off, 0, SCAP_KADDR(f->task, comm), 16);
	case SCAP_SP_CGROUPS:
		return scap_put_cgroups(f, off, f->task);
	default: /* SCAP_SP_ARGS without a preceding exe */
		return 0;
	}
}

#endif /* SCAP_FILL_PROC_H */
