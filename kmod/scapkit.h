/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Internal declarations shared by the module's files: the capture state, the per-CPU
 * rings, the followed-process set and the probes.
 */
#ifndef SCAPKIT_H
#define SCAPKIT_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/sched.h>

#include "scapkit_uapi.h"

/* The per-CPU area an event is built in before it is copied to the ring, and the small
 * work area after it (SCAP_BUF_SIZE and 2 * SCAP_TMP_SIZE of scap_fill.h, checked there). */
#define SK_SCRATCH_BYTES ((4u << 16) + 256)
#define SK_TMP_BYTES 8192u
/* The largest event (SCAP_MAX_BLOCK of scap_fill.h, checked there). */
#define SK_MAX_EVENT_BYTES (3u << 16)

/* One CPU's ring: the mapped header page, then the data. */
struct sk_ring {
	struct scapkit_ring_header *hdr;
	u8 *data;
	u64 mask;
};

/* Per-CPU probe state (used with preemption disabled). */
struct sk_cpu {
	struct sk_ring ring;
	u8 *scratch;		/* SK_SCRATCH_BYTES, then SK_TMP_BYTES */
	int busy;		/* re-entry guard */
};

/* The capture configuration the probes read (set only while they are detached, except
 * snaplen and exclude, which are single words read with READ_ONCE). */
struct sk_config {
	u32 snaplen;
	pid_t exclude_tgid;	/* global tgid, or -1 */
	bool follow;		/* record only the followed set */
};

extern struct sk_cpu *sk_cpus;		/* nr_cpu_ids entries while rings exist */
extern struct sk_config sk_cfg;

/* ring.c */
int sk_rings_alloc(u64 ring_bytes);
void sk_rings_free(void);
void *sk_ring_area(unsigned int cpu);
bool sk_rings_allocated(void);
void sk_ring_commit(struct sk_cpu *c, const u8 *event, u32 len);
void sk_ring_drop(struct sk_cpu *c);

/* follow.c: the set of followed processes (global tgids), a bitmap over pid numbers. */
int sk_follow_init(pid_t tgid);
void sk_follow_free(void);
bool sk_follow_test(pid_t tgid);
void sk_follow_add(pid_t tgid);
void sk_follow_remove(pid_t tgid);

/* probes.c */
int sk_probes_find(void);
int sk_probes_attach(void);
void sk_probes_detach(void);

/* events.c: building events for the probes. */
void sk_on_syscall(struct pt_regs *regs, long id, long ret, bool enter);
void sk_on_process_exit(struct task_struct *p);
void sk_on_process_fork(struct task_struct *parent, struct task_struct *child);
extern const char sk_event_schema[];

#endif /* SCAPKIT_H */
