/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.c - load the probe with libbpf and drain its per-CPU rings in batches (compiled
 * with cffi in API mode by ebpf/build.py; the functions between the cdef markers are what
 * Python sees).
 *
 * The probe writes complete EV blocks into one ring per CPU, an element of an mmapable
 * array map (layout in probe_cfg.h), and never wakes anyone. sk_drain() lets records pile
 * up first (it sleeps up to its timeout unless a batch's worth already waits in some ring),
 * then takes each ring's head once, merges the records before those heads by timestamp (as
 * libscap merges its per-CPU buffers) into the caller's buffer, up to a size limit, and
 * hands the space back by storing each ring's tail once. No Python call per event, no
 * wakeups, no lock: while it copies, the probe keeps writing ahead of the heads it took,
 * on lines the reader does not touch.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "probe_cfg.h"

/* --- cdef begin */
struct sk_config {
	uint64_t boot_to_epoch_ns;
	uint32_t pid_max;
	uint32_t snaplen;
	uint32_t target_tgid;
	uint32_t exclude_tgid;
	uint32_t batch_bytes;
	uint32_t ring_bytes;
};

struct sk_batch {
	uint64_t events;
	uint64_t first_ts;
	uint64_t last_ts;
};

struct sk_counters {
	uint64_t events;
	uint64_t drops_full;
	uint64_t drops_size;
	uint64_t bytes;
};

struct sk_probe;

int sk_open(const char *obj_path, const struct sk_config *cfg, struct sk_probe **out,
	    char *err, size_t errlen);
int sk_track(struct sk_probe *p, uint32_t tgid);
long sk_drain(struct sk_probe *p, uint8_t *out, size_t cap, size_t max_bytes, int timeout_ms,
	      struct sk_batch *batch);
int sk_counters(struct sk_probe *p, struct sk_counters *per_cpu, int ncpu, int *got);
int sk_ncpus(void);
void sk_close(struct sk_probe *p);
/* --- cdef end */

/* One CPU's ring and the reader's cursor in it during a drain. */
struct sk_ring {
	struct scap_ring_hdr *hdr;
	const uint8_t *data;
	uint64_t pos, end; /* next record; the head taken at the start of the drain */
	uint64_t ts;       /* timestamp of the record at pos */
	uint32_t len;      /* its block length */
};

struct sk_probe {
	struct bpf_object *obj;
	struct bpf_link *links[8];
	int nlinks;
	int tracked_fd;
	int ncpu;
	uint8_t *map;      /* the rings' array, mapped */
	size_t map_len;
	uint64_t mask;     /* ring bytes - 1 */
	uint64_t batch;    /* no wait while a ring holds this much */
	struct sk_ring *rings;
	struct sk_ring **active; /* during a drain: the rings with records left to merge */
	int more;          /* the last batch stopped at its size limit: records are waiting */
};

#define SK_POLL_NS 10000000L /* how often a long wait looks at the rings */
#define SK_BLOCK_MIN (8 + 2 + 26 + 4) /* block header, cpu, event header, trailer */
#define SK_BLOCK_MAX (3U << 16)        /* SCAP_MAX_BLOCK */

static char sk_libbpf_msg[512];

static int sk_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		/* keep the last warning: it usually says why a load or attach failed */
		vsnprintf(sk_libbpf_msg, sizeof(sk_libbpf_msg), fmt, ap);
		sk_libbpf_msg[strcspn(sk_libbpf_msg, "\n")] = 0;
	}
	return 0;
}

static int sk_fail(char *err, size_t errlen, int code, const char *what)
{
	if (sk_libbpf_msg[0])
		snprintf(err, errlen, "%s: %s (libbpf: %s)", what, strerror(code), sk_libbpf_msg);
	else
		snprintf(err, errlen, "%s: %s", what, strerror(code));
	return -code;
}

int sk_ncpus(void)
{
	return libbpf_num_possible_cpus();
}

void sk_close(struct sk_probe *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	if (p->map)
		munmap(p->map, p->map_len);
	free(p->rings);
	free(p->active);
	if (p->obj)
		bpf_object__close(p->obj);
	free(p);
}

/* The value size of a ring element of ring_bytes bytes. */
static size_t sk_elem_size(uint32_t ring_bytes)
{
	return (size_t)SCAP_RING_DATA_OFF + ring_bytes + SCAP_RING_SLACK;
}

/* Map the rings' array (every CPU's element, one after the other); 0 or an errno. */
static int sk_map_rings(struct sk_probe *p, struct bpf_map *map, uint32_t ring_bytes)
{
	size_t elem = sk_elem_size(ring_bytes); /* a multiple of 8: no padding between them */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *m;
	int i;

	p->map_len = (elem * (size_t)p->ncpu + page - 1) / page * page;
	m = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	if (m == MAP_FAILED)
		return errno;
	p->map = m;
	p->rings = calloc((size_t)p->ncpu, sizeof(*p->rings));
	p->active = calloc((size_t)p->ncpu, sizeof(*p->active));
	if (!p->rings || !p->active)
		return ENOMEM;
	for (i = 0; i < p->ncpu; i++) {
		uint8_t *base = p->map + elem * (size_t)i;

		p->rings[i].hdr = (struct scap_ring_hdr *)base;
		p->rings[i].data = base + SCAP_RING_DATA_OFF;
	}
	return 0;
}

int sk_open(const char *obj_path, const struct sk_config *cfg, struct sk_probe **out,
	    char *err, size_t errlen)
{
	struct scap_cfg probe_cfg = {0};
	struct bpf_map *rings, *tracked;
	struct bpf_program *prog;
	struct sk_probe *p;
	struct bpf_map *map;
	size_t size = 0;
	void *rodata;
	int rc;

	libbpf_set_print(sk_print);
	sk_libbpf_msg[0] = 0;
	*out = NULL;
	if (cfg->ring_bytes < SCAP_RING_MIN_BYTES || (cfg->ring_bytes & (cfg->ring_bytes - 1)))
		return sk_fail(err, errlen, EINVAL, "the ring size is not a power of two >= 1 MiB");
	p = calloc(1, sizeof(*p));
	if (!p)
		return sk_fail(err, errlen, ENOMEM, "allocating the probe");
	p->obj = bpf_object__open_file(obj_path, NULL);
	if (!p->obj) {
		rc = errno;
		p->obj = NULL;
		sk_close(p);
		return sk_fail(err, errlen, rc, "opening the probe object");
	}
	map = bpf_object__find_map_by_name(p->obj, SCAP_CFG_SECTION);
	rodata = map ? (void *)bpf_map__initial_value(map, &size) : NULL;
	if (!rodata || size != sizeof(probe_cfg)) {
		sk_close(p);
		return sk_fail(err, errlen, EINVAL, "the probe object has no " SCAP_CFG_SECTION);
	}
	probe_cfg.boot_to_epoch_ns = cfg->boot_to_epoch_ns;
	probe_cfg.snaplen = cfg->snaplen;
	probe_cfg.target_tgid = cfg->target_tgid;
	probe_cfg.exclude_tgid = cfg->exclude_tgid;
	probe_cfg.ring_mask = cfg->ring_bytes - 1;
	memcpy(rodata, &probe_cfg, sizeof(probe_cfg));
	p->mask = cfg->ring_bytes - 1;
	p->batch = cfg->batch_bytes ? cfg->batch_bytes : cfg->ring_bytes / 16;

	p->ncpu = libbpf_num_possible_cpus();
	if (p->ncpu <= 0) {
		rc = -p->ncpu;
		sk_close(p);
		return sk_fail(err, errlen, rc, "counting the possible CPUs");
	}
	rings = bpf_object__find_map_by_name(p->obj, SCAP_MAP_RINGS);
	tracked = bpf_object__find_map_by_name(p->obj, SCAP_MAP_TRACKED);
	if (!rings || !tracked || bpf_map__set_max_entries(rings, (uint32_t)p->ncpu) ||
	    bpf_map__set_value_size(rings, (uint32_t)sk_elem_size(cfg->ring_bytes)) ||
	    bpf_map__set_max_entries(tracked, (cfg->pid_max + 63) / 64)) {
		sk_close(p);
		return sk_fail(err, errlen, EINVAL, "sizing the probe's maps");
	}
	rc = bpf_object__load(p->obj);
	if (rc) {
		sk_close(p);
		return sk_fail(err, errlen, -rc, "loading the probe");
	}
	p->tracked_fd = bpf_map__fd(tracked);
	rc = sk_map_rings(p, rings, cfg->ring_bytes);
	if (rc) {
		sk_close(p);
		return sk_fail(err, errlen, rc, "mapping the rings");
	}
	bpf_object__for_each_program(prog, p->obj) {
		struct bpf_link *link;

		if (p->nlinks >= (int)(sizeof(p->links) / sizeof(p->links[0]))) {
			sk_close(p);
			return sk_fail(err, errlen, E2BIG, "too many probe programs");
		}
		link = bpf_program__attach(prog);
		if (!link) {
			rc = errno;
			snprintf(sk_libbpf_msg + strlen(sk_libbpf_msg),
				 sizeof(sk_libbpf_msg) - strlen(sk_libbpf_msg), " [%s]",
				 bpf_program__section_name(prog));
			sk_close(p);
			return sk_fail(err, errlen, rc, "attaching the probe");
		}
		p->links[p->nlinks++] = link;
	}
	*out = p;
	return 0;
}

int sk_track(struct sk_probe *p, uint32_t tgid)
{
	uint32_t word = tgid / 64;
	uint64_t bits = 0;

	/* called before recording starts (or for processes the probe cannot race with) */
	if (bpf_map_lookup_elem(p->tracked_fd, &word, &bits))
		return -errno;
	bits |= 1ULL << (tgid % 64);
	return bpf_map_update_elem(p->tracked_fd, &word, &bits, BPF_ANY) ? -errno : 0;
}

/* Bytes waiting in the fullest ring. */
static uint64_t sk_waiting(struct sk_probe *p)
{
	uint64_t most = 0;
	int i;

	for (i = 0; i < p->ncpu; i++) {
		struct scap_ring_hdr *h = p->rings[i].hdr;
		uint64_t n = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE) - h->tail;

		if (n > most)
			most = n;
	}
	return most;
}

/*
 * Sleep up to timeout_ms while less than a batch waits in every ring. A reader that finds a
 * batch waiting is behind: it does not sleep until it has caught up.
 */
static void sk_wait(struct sk_probe *p, int timeout_ms)
{
	long left = (long)timeout_ms * 1000000L;

	while (left > 0 && sk_waiting(p) < p->batch) {
		struct timespec ts = {0, left < SK_POLL_NS ? left : SK_POLL_NS};

		nanosleep(&ts, NULL);
		left -= ts.tv_nsec;
	}
}

/* Look at the record at r->pos: 1 if there is one, 0 if none, -1 if the ring is corrupt. */
static int sk_peek(struct sk_probe *p, struct sk_ring *r)
{
	const uint8_t *rec;
	uint32_t len;

	if (r->pos >= r->end)
		return 0;
	rec = r->data + (r->pos & p->mask);
	memcpy(&len, rec + 4, sizeof(len));
	if (len < SK_BLOCK_MIN || len > SK_BLOCK_MAX || len > r->end - r->pos)
		return -1;
	r->len = len;
	memcpy(&r->ts, rec + 10, sizeof(r->ts)); /* block header 8, cpu 2, then ts */
	return 1;
}

long sk_drain(struct sk_probe *p, uint8_t *out, size_t cap, size_t max_bytes, int timeout_ms,
	      struct sk_batch *batch)
{
	size_t len = 0, max = max_bytes < cap ? max_bytes : cap;
	int i, nactive = 0, found;
	long rc = 0;

	memset(batch, 0, sizeof(*batch));
	if (!p->more && timeout_ms > 0)
		sk_wait(p, timeout_ms);
	p->more = 0;
	for (i = 0; i < p->ncpu; i++) {
		struct sk_ring *r = &p->rings[i];

		r->pos = r->hdr->tail;
		r->end = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
		found = sk_peek(p, r);
		if (found < 0)
			rc = -EPROTO;
		else if (found)
			p->active[nactive++] = r;
	}
	while (!rc && nactive) {
		struct sk_ring *best = p->active[0];
		int at = 0;

		/* the earliest pending record of any ring goes first */
		for (i = 1; i < nactive; i++) {
			if (p->active[i]->ts < best->ts) {
				best = p->active[i];
				at = i;
			}
		}
		if (len >= max || best->len > cap - len) {
			p->more = 1;
			break;
		}
		memcpy(out + len, best->data + (best->pos & p->mask), best->len);
		len += best->len;
		if (!batch->events || best->ts < batch->first_ts)
			batch->first_ts = best->ts;
		if (best->ts > batch->last_ts)
			batch->last_ts = best->ts;
		batch->events++;
		best->pos += (best->len + SCAP_RING_ALIGN - 1) & ~(uint64_t)(SCAP_RING_ALIGN - 1);
		found = sk_peek(p, best);
		if (found < 0)
			rc = -EPROTO;
		else if (!found)
			p->active[at] = p->active[--nactive];
	}
	/* hand the space back once per ring: the probe reads tail on every event */
	for (i = 0; i < p->ncpu; i++) {
		struct sk_ring *r = &p->rings[i];

		if (r->pos != r->hdr->tail)
			__atomic_store_n(&r->hdr->tail, r->pos, __ATOMIC_RELEASE);
	}
	return rc ? rc : (long)len;
}

int sk_counters(struct sk_probe *p, struct sk_counters *per_cpu, int ncpu, int *got)
{
	int i;

	*got = 0;
	if (p->ncpu > ncpu)
		return -EINVAL;
	for (i = 0; i < p->ncpu; i++) {
		const struct scap_ring_hdr *h = p->rings[i].hdr;

		per_cpu[i].events = __atomic_load_n(&h->events, __ATOMIC_RELAXED);
		per_cpu[i].drops_full = __atomic_load_n(&h->drops_full, __ATOMIC_RELAXED);
		per_cpu[i].drops_size = __atomic_load_n(&h->drops_size, __ATOMIC_RELAXED);
		per_cpu[i].bytes = __atomic_load_n(&h->bytes, __ATOMIC_RELAXED);
	}
	*got = p->ncpu;
	return 0;
}
