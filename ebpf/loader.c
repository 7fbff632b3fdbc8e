/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.c - load the probe with libbpf and drain its ring buffer in batches (compiled with
 * cffi in API mode by ebpf/build.py; the functions between the cdef markers are what Python
 * sees).
 *
 * The probe writes complete EV blocks with BPF_RB_NO_WAKEUP (or a forced wakeup once
 * wakeup_bytes wait), so sk_drain() sleeps first (until that wakeup or its timeout), then
 * copies out everything waiting, up to a size limit: no Python call per event, no per-event
 * wakeups, and the ring is read in spaced batches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	uint32_t wakeup_bytes;
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

struct sk_probe {
	struct bpf_object *obj;
	struct bpf_link *links[8];
	int nlinks;
	struct ring_buffer *rb;
	int tracked_fd;
	int stats_fd;
	/* the batch being drained */
	uint8_t *out;
	size_t len, cap, max;
	struct sk_batch *batch;
	int more; /* the last batch stopped at its size limit: records are waiting */
};

#define SK_STOP 7777 /* returned by the callback to end a batch (the record is kept) */

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

static int sk_on_record(void *ctx, void *data, size_t size)
{
	struct sk_probe *p = ctx;
	uint64_t ts;

	if (p->len + size > p->cap)
		return -E2BIG; /* cannot happen: cap leaves room for one more record */
	memcpy(p->out + p->len, data, size);
	p->len += size;
	memcpy(&ts, (uint8_t *)data + 10, sizeof(ts)); /* block header 8, cpu 2, then ts */
	if (!p->batch->events || ts < p->batch->first_ts)
		p->batch->first_ts = ts;
	if (ts > p->batch->last_ts)
		p->batch->last_ts = ts;
	p->batch->events++;
	return p->len >= p->max ? -SK_STOP : 0;
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
	if (p->rb)
		ring_buffer__free(p->rb);
	for (i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	if (p->obj)
		bpf_object__close(p->obj);
	free(p);
}

int sk_open(const char *obj_path, const struct sk_config *cfg, struct sk_probe **out,
	    char *err, size_t errlen)
{
	struct scap_cfg probe_cfg = {0};
	struct bpf_program *prog;
	struct sk_probe *p;
	struct bpf_map *map;
	size_t size = 0;
	void *rodata;
	int ncpu, rc;

	libbpf_set_print(sk_print);
	sk_libbpf_msg[0] = 0;
	*out = NULL;
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
	rodata = map ? bpf_map__initial_value(map, &size) : NULL;
	if (!rodata || size != sizeof(probe_cfg)) {
		sk_close(p);
		return sk_fail(err, errlen, EINVAL, "the probe object has no " SCAP_CFG_SECTION);
	}
	probe_cfg.boot_to_epoch_ns = cfg->boot_to_epoch_ns;
	probe_cfg.snaplen = cfg->snaplen;
	probe_cfg.target_tgid = cfg->target_tgid;
	probe_cfg.exclude_tgid = cfg->exclude_tgid;
	probe_cfg.wakeup_bytes = cfg->wakeup_bytes;
	memcpy(rodata, &probe_cfg, sizeof(probe_cfg));

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		sk_close(p);
		return sk_fail(err, errlen, -ncpu, "counting the possible CPUs");
	}
	if (bpf_map__set_max_entries(bpf_object__find_map_by_name(p->obj, SCAP_MAP_SCRATCH), ncpu) ||
	    bpf_map__set_max_entries(bpf_object__find_map_by_name(p->obj, SCAP_MAP_TRACKED),
				     (cfg->pid_max + 63) / 64) ||
	    bpf_map__set_max_entries(bpf_object__find_map_by_name(p->obj, SCAP_MAP_RING),
				     cfg->ring_bytes)) {
		sk_close(p);
		return sk_fail(err, errlen, EINVAL, "sizing the probe's maps");
	}
	rc = bpf_object__load(p->obj);
	if (rc) {
		sk_close(p);
		return sk_fail(err, errlen, -rc, "loading the probe");
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
	p->tracked_fd = bpf_map__fd(bpf_object__find_map_by_name(p->obj, SCAP_MAP_TRACKED));
	p->stats_fd = bpf_map__fd(bpf_object__find_map_by_name(p->obj, SCAP_MAP_STATS));
	p->rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(p->obj, SCAP_MAP_RING)),
				 sk_on_record, p, NULL);
	if (!p->rb) {
		rc = errno;
		sk_close(p);
		return sk_fail(err, errlen, rc, "mapping the ring buffer");
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

static long sk_consume(struct sk_probe *p)
{
	int rc = ring_buffer__consume(p->rb);

	return (rc < 0 && rc != -SK_STOP) ? rc : 0;
}

long sk_drain(struct sk_probe *p, uint8_t *out, size_t cap, size_t max_bytes, int timeout_ms,
	      struct sk_batch *batch)
{
	long rc;

	p->out = out;
	p->len = 0;
	p->cap = cap;
	p->max = max_bytes < cap ? max_bytes : cap;
	p->batch = batch;
	memset(batch, 0, sizeof(*batch));
	if (!p->more && timeout_ms > 0) {
		/*
		 * Let records pile up first: sleep until the probe forces a wakeup (much is
		 * waiting) or the timeout ends. Reading the ring while it is being written makes
		 * the producing CPUs wait for cache lines the reader holds; reading it in large,
		 * spaced batches keeps that cost small.
		 */
		rc = ring_buffer__poll(p->rb, timeout_ms);
		if (rc < 0 && rc != -SK_STOP && rc != -EINTR)
			return rc;
	}
	if (p->len < p->max) {
		rc = sk_consume(p);
		if (rc < 0)
			return rc;
	}
	p->more = p->len >= p->max;
	return (long)p->len;
}

int sk_counters(struct sk_probe *p, struct sk_counters *per_cpu, int ncpu, int *got)
{
	uint32_t key = 0;
	int n = libbpf_num_possible_cpus();

	*got = 0;
	if (n <= 0 || n > ncpu)
		return -EINVAL;
	if (bpf_map_lookup_elem(p->stats_fd, &key, per_cpu))
		return -errno;
	*got = n;
	return 0;
}
