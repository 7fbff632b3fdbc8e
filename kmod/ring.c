// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Per-CPU ring buffers: one vmalloc_user() region per possible CPU (a header page, then
 * the data), mapped by the reader. Only the probe running on a CPU writes that CPU's
 * ring (preemption disabled), so the producer side needs no lock: it copies a finished
 * event in (wrapping at the end) and publishes it with a release store of head.
 */
#include <linux/cpumask.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "scapkit.h"

struct sk_cpu *sk_cpus;

bool sk_rings_allocated(void)
{
	return sk_cpus != NULL;
}

void *sk_ring_area(unsigned int cpu)
{
	if (!sk_cpus || cpu >= nr_cpu_ids)
		return NULL;
	return sk_cpus[cpu].ring.hdr;
}

void sk_rings_free(void)
{
	unsigned int cpu;

	if (!sk_cpus)
		return;
	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		vfree(sk_cpus[cpu].ring.hdr);
		vfree(sk_cpus[cpu].scratch);
	}
	kfree(sk_cpus);
	sk_cpus = NULL;
}

int sk_rings_alloc(u64 ring_bytes)
{
	unsigned int cpu;

	BUILD_BUG_ON(sizeof(struct scapkit_ring_header) > SCAPKIT_HEADER_BYTES);
	BUILD_BUG_ON(offsetof(struct scapkit_ring_header, tail) != 64);
	BUILD_BUG_ON(SCAPKIT_HEADER_BYTES % PAGE_SIZE != 0);
	if (ring_bytes < SCAPKIT_RING_MIN_BYTES || ring_bytes > SCAPKIT_RING_MAX_BYTES ||
	    !is_power_of_2(ring_bytes))
		return -EINVAL;
	if (sk_cpus)
		return -EBUSY;
	sk_cpus = kcalloc(nr_cpu_ids, sizeof(*sk_cpus), GFP_KERNEL);
	if (!sk_cpus)
		return -ENOMEM;
	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		struct sk_cpu *c = &sk_cpus[cpu];
		u8 *area;

		if (!cpu_possible(cpu))
			continue;
		area = vmalloc_user(SCAPKIT_HEADER_BYTES + ring_bytes);
		c->scratch = vmalloc(SK_SCRATCH_BYTES + SK_TMP_BYTES);
		if (!area || !c->scratch) {
			vfree(area);
			sk_rings_free();
			return -ENOMEM;
		}
		c->ring.hdr = (struct scapkit_ring_header *)area;
		c->ring.data = area + SCAPKIT_HEADER_BYTES;
		c->ring.mask = ring_bytes - 1;
		c->ring.hdr->ring_bytes = ring_bytes;
		c->ring.hdr->cpu = cpu;
		c->ring.hdr->api_version = SCAPKIT_API_VERSION;
	}
	return 0;
}

/* Count an event lost for a reason other than a full ring. */
void sk_ring_drop(struct sk_cpu *c)
{
	struct scapkit_ring_header *h = c->ring.hdr;

	WRITE_ONCE(h->drops_other, h->drops_other + 1);
}

/* Copy a finished event of len bytes into the ring, or count it as dropped. */
void sk_ring_commit(struct sk_cpu *c, const u8 *event, u32 len)
{
	struct sk_ring *r = &c->ring;
	struct scapkit_ring_header *h = r->hdr;
	u64 size = r->mask + 1;
	u64 head = h->head;
	u64 tail = smp_load_acquire(&h->tail);
	u64 used = head - tail;
	u64 off, first;

	if (used > size) {	/* the reader wrote a tail we cannot believe */
		sk_ring_drop(c);
		return;
	}
	if (size - used < len) {
		WRITE_ONCE(h->drops_full, h->drops_full + 1);
		return;
	}
	off = head & r->mask;
	first = min_t(u64, len, size - off);
	memcpy(r->data + off, event, first);
	if (first < len)
		memcpy(r->data, event + first, len - first);
	WRITE_ONCE(h->events, h->events + 1);
	WRITE_ONCE(h->bytes, h->bytes + len);
	smp_store_release(&h->head, head + len);
}
