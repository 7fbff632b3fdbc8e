/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The kernel-module backend of the shared event-filling code (ebpf/shared/scap_fill.h):
 * the memory-access macros of its backend contract, for a module running in tracepoint
 * context (preemption disabled, so nothing here may sleep or fault pages in).
 *
 * User memory is read with copy_from_user_nofault: a page that is not resident reads as a
 * failure, never as a sleep. Kernel memory is read the same way (copy_from_kernel_nofault),
 * one pointer hop at a time, so a chain that meets a NULL or an unreadable pointer yields 0,
 * as BPF_CORE_READ does in the eBPF backend. The kernel does not export its nofault string
 * copies to modules, so strings are copied here in small chunks that never cross a page
 * (a string that ends just before an unmapped page still reads), with the semantics of
 * bpf_probe_read_*_str: the bytes copied including the NUL, the last byte forced to NUL
 * when n is reached, a negative errno when nothing could be read.
 */
#ifndef SCAPKIT_BACKEND_H
#define SCAPKIT_BACKEND_H

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#define SCAP_INLINE static inline
/* scap_fill_param: one call per parameter; a real function keeps the probe's code small */
#define SCAP_SUBPROG static noinline

/* Bytes copied per step of a string copy. */
#define SK_STR_CHUNK 64

static inline long sk_read_chunk(void *dst, unsigned long src, size_t n, bool user)
{
	return user ? copy_from_user_nofault(dst, (const void __user *)src, n)
		    : copy_from_kernel_nofault(dst, (const void *)src, n);
}

static inline long sk_strncpy_nofault(char *dst, unsigned long src, long n, bool user)
{
	long done = 0;

	if (n <= 0)
		return 0;
	while (done < n) {
		size_t chunk = min_t(size_t, SK_STR_CHUNK, n - done);
		size_t to_page = PAGE_SIZE - ((src + done) & ~PAGE_MASK);
		const char *nul;

		chunk = min(chunk, to_page);
		if (sk_read_chunk(dst + done, src + done, chunk, user))
			return -EFAULT;
		nul = memchr(dst + done, 0, chunk);
		if (nul)
			return nul - dst + 1;
		done += chunk;
	}
	dst[n - 1] = 0;
	return n;
}

#define SCAP_READ_USER(dst, n, src) \
	copy_from_user_nofault((dst), (const void __user *)(src), (n))
#define SCAP_READ_USER_STR(dst, n, src) \
	sk_strncpy_nofault((char *)(dst), (unsigned long)(src), (n), true)
#define SCAP_READ_KERNEL(dst, n, src) \
	copy_from_kernel_nofault((dst), (const void *)(src), (n))
#define SCAP_READ_KERNEL_STR(dst, n, src) \
	sk_strncpy_nofault((char *)(dst), (unsigned long)(src), (n), false)

/* prev->field read without faulting: its value, or 0 when prev is NULL or unreadable. The
 * bytes go through a buffer so a const-qualified field type needs no cast. */
#define SK_KHOP(prev, field)							\
	({									\
		typeof(prev) __sk_p = (prev);					\
		union {								\
			typeof(__sk_p->field) v;				\
			unsigned char b[sizeof(__sk_p->field)];			\
		} __sk_u;							\
		memset(__sk_u.b, 0, sizeof(__sk_u.b));				\
		if (__sk_p)							\
			(void)copy_from_kernel_nofault(__sk_u.b, &__sk_p->field, \
						       sizeof(__sk_u.b));	\
		__sk_u.v;							\
	})

#define SK_KREAD1(p, a) SK_KHOP(p, a)
#define SK_KREAD2(p, a, b) SK_KHOP(SK_KHOP(p, a), b)
#define SK_KREAD3(p, a, b, c) SK_KHOP(SK_KREAD2(p, a, b), c)
#define SK_KREAD4(p, a, b, c, d) SK_KHOP(SK_KREAD3(p, a, b, c), d)
#define SK_KREAD5(p, a, b, c, d, e) SK_KHOP(SK_KREAD4(p, a, b, c, d), e)
#define SK_KREAD_PICK(_1, _2, _3, _4, _5, name, ...) name
#define SCAP_KREAD(p, ...)							\
	SK_KREAD_PICK(__VA_ARGS__, SK_KREAD5, SK_KREAD4, SK_KREAD3, SK_KREAD2,	\
		      SK_KREAD1)(p, __VA_ARGS__)

#define SCAP_KADDR(p, field) ((void *)&(p)->field)

#endif /* SCAPKIT_BACKEND_H */
