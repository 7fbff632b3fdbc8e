/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Reader side of the module's per-CPU rings (see scapkit_uapi.h), compiled with cffi.
 *
 * kc_drain() takes everything the kernel has published in every CPU's ring, merges the
 * rings by event timestamp (the earliest pending event of any CPU goes first, as
 * libscap's reader does) and writes each event as a complete capture block: EV v2, or
 * EV v2 LARGE for large-payload event types and events too big for a plain block
 * (header u32 type, u32 length; u16 cpu id; the event; padding to 4 bytes; u32 length),
 * the framing of scapfile/writer.py frame_block(). It stops before a block that would
 * not fit in the output, and gives the consumed space back to the kernel at the end.
 */
#include <stdint.h>
#include <string.h>

#include "scapkit_uapi.h"

#define KC_EVENT_HEADER 26u
#define KC_BLOCK_EV_V2 0x216u
#define KC_BLOCK_EV_V2_LARGE 0x221u
#define KC_MAX_PLAIN_BLOCK 65536u

/* One mapped region (header page + data) and the reader's cursor in it. */
struct kc_ring {
	unsigned char *base;	/* NULL: CPU not present */
	uint64_t size;		/* data bytes (power of two) */
	/* cursor state for one kc_drain() call */
	uint64_t pos, head, ts;
	uint32_t len;
	uint16_t type;
	int ready;		/* an event is pending at pos */
	int bad;		/* the ring was malformed at the start of this call */
};

struct kc_result {
	uint64_t bytes, events, first_ts, last_ts;
	int32_t bad_cpu;	/* >= 0: that CPU's ring holds a malformed event */
	uint64_t bad_pos;
};

static void kc_copy(const struct kc_ring *r, uint64_t pos, void *dst, uint32_t n)
{
	const unsigned char *data = r->base + SCAPKIT_HEADER_BYTES;
	uint64_t off = pos & (r->size - 1);
	uint64_t first = r->size - off < n ? r->size - off : n;

	memcpy(dst, data + off, first);
	if (first < n)
		memcpy((unsigned char *)dst + first, data, n - first);
}

/* Look at the next event of r; 0 when none is pending, -1 when it is malformed. */
static int kc_peek(struct kc_ring *r, uint32_t max_event)
{
	unsigned char h[KC_EVENT_HEADER];
	uint64_t avail = r->head - r->pos;

	r->ready = 0;
	if (avail == 0)
		return 0;
	if (avail < KC_EVENT_HEADER)
		return -1;
	kc_copy(r, r->pos, h, KC_EVENT_HEADER);
	memcpy(&r->ts, h, 8);
	memcpy(&r->len, h + 16, 4);
	memcpy(&r->type, h + 20, 2);
	if (r->len < KC_EVENT_HEADER || r->len > avail || r->len > max_event)
		return -1;
	r->ready = 1;
	return 0;
}

/*
 * Drain rings[0..n) into out (cap bytes). large[t] != 0 marks large-payload event type t
 * (nlarge entries). Returns 0, or -1 with res->bad_cpu set when a ring is malformed
 * (the blocks before it are still in out and consumed).
 */
int kc_drain(struct kc_ring *rings, int n, const uint8_t *large, uint32_t nlarge,
	     uint32_t max_event, unsigned char *out, uint64_t cap, struct kc_result *res)
{
	uint64_t used = 0;
	int i, status = 0;

	memset(res, 0, sizeof(*res));
	res->bad_cpu = -1;
	for (i = 0; i < n; i++) {
		struct kc_ring *r = &rings[i];
		struct scapkit_ring_header *h = (struct scapkit_ring_header *)r->base;

		r->ready = 0;
		r->bad = 0;
		if (!r->base)
			continue;
		r->head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
		r->pos = h->tail;
		if (r->head - r->pos > r->size || kc_peek(r, max_event) < 0) {
			res->bad_cpu = i;
			res->bad_pos = r->pos;
			status = -1;
			r->ready = 0;
			r->bad = 1;
		}
	}
	for (;;) {
		struct kc_ring *best = NULL;
		uint32_t total, padded, btype;
		uint16_t cpu;
		unsigned char *p;

		for (i = 0; i < n; i++)
			if (rings[i].ready && (!best || rings[i].ts < best->ts))
				best = &rings[i];
		if (!best)
			break;
		total = 8 + 2 + best->len + 4;
		padded = (total + 3) & ~3u;
		if (used + padded > cap)
			break;
		p = out + used;
		btype = (best->type < nlarge && large[best->type]) ||
		       best->len + 18 > KC_MAX_PLAIN_BLOCK ? KC_BLOCK_EV_V2_LARGE : KC_BLOCK_EV_V2;
		memcpy(p, &btype, 4);
		memcpy(p + 4, &padded, 4);
		cpu = (uint16_t)(best - rings);
		memcpy(p + 8, &cpu, 2);
		kc_copy(best, best->pos, p + 10, best->len);
		memset(p + 10 + best->len, 0, padded - total);
		memcpy(p + padded - 4, &padded, 4);
		used += padded;
		if (res->events == 0 || best->ts < res->first_ts)
			res->first_ts = best->ts;
		if (best->ts > res->last_ts)
			res->last_ts = best->ts;
		res->events++;
		best->pos += best->len;
		if (kc_peek(best, max_event) < 0) {
			res->bad_cpu = (int32_t)(best - rings);
			res->bad_pos = best->pos;
			status = -1;
			best->ready = 0;
		}
	}
	for (i = 0; i < n; i++) {
		struct kc_ring *r = &rings[i];

		if (r->base && !r->bad)
			__atomic_store_n(&((struct scapkit_ring_header *)r->base)->tail, r->pos,
					 __ATOMIC_RELEASE);
	}
	res->bytes = used;
	return status;
}

/* Bytes pending in all rings (for a cheap "anything to read?" check). */
uint64_t kc_pending(const struct kc_ring *rings, int n)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < n; i++) {
		const struct scapkit_ring_header *h =
			(const struct scapkit_ring_header *)rings[i].base;

		if (h)
			total += __atomic_load_n(&h->head, __ATOMIC_ACQUIRE) - h->tail;
	}
	return total;
}
