/*
 * cscan.c - the C half of scapkit.scapfile.cscan (compiled by cffi, API mode).
 *
 * cs_scan() walks a window of consecutive .scap blocks and, for every complete
 * event block (EV/EVF v1 and v2, LARGE variants), performs exactly the checks of
 * CaptureReader._records_impl / _event / _event_v1 (reader.py) and aggregates
 * what summarize() needs. It stops, without consuming it, at the first block it
 * does not handle: a non-event block, a block not complete in the window, or
 * anything invalid. The Python reader then handles that one block with its own
 * code (messages, resynchronisation, metadata) and calls cs_scan again.
 *
 * All tables (event parameter specs, 16/32-bit length flags, v1 parameter-count
 * candidates) are built in Python from the event table and params.py, so the
 * rules live in one place; see cscan.py. Little-endian hosts only.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* --- cdef begin: cscan.py hands this part to ffi.cdef() ------------------ */

#define CS_MORE 0      /* window ends before the next complete block */
#define CS_NONEVENT 1  /* next block is not an event block */
#define CS_INVALID 2   /* next block fails a check: Python reports it */
#define CS_NEED_V1 3   /* a v1 event block, but no v1 tables were given yet */

/* Parameter check kinds (see _SPEC_KINDS in cscan.py). */
#define K_ANY 0
#define K_SIZE 1
#define K_FAIL 2
#define K_SOCKADDR 3
#define K_SOCKTUPLE 4
#define K_FDLIST 5
#define K_DYN 6
#define K_PAIRS 7
#define K_NET 8

struct cs_tables {
    uint32_t num_events;
    uint64_t max_block;        /* cap of non-large event blocks (MAX_EVENT_BLOCK) */
    uint64_t max_large_block;  /* cap of large event blocks (max_large_event_block) */
    const uint8_t *large;      /* [num_events] 1: 32-bit parameter lengths */
    const int32_t *generic;    /* [num_events] -1, or index among generic codes */
    /* declared parameters: event type -> spec ids */
    const uint32_t *param_start;  /* [num_events] */
    const uint32_t *param_count;  /* [num_events] */
    const int32_t *param_spec;
    /* parameter specs */
    uint32_t num_specs;
    const int32_t *spec_kind;
    const int64_t *spec_a;
    const int64_t *spec_b;
    const int32_t *spec_alt_start;
    const int32_t *spec_alt_count;
    const int32_t *alts;
    /* v1 blocks (NULL until needed) */
    const uint8_t *v1_trim3;      /* [num_events] payload stored 3 bytes too long */
    const uint32_t *cand_start;   /* [num_events] */
    const uint32_t *cand_count;   /* [num_events] */
    const uint32_t *cands;
};

struct cs_totals {
    uint64_t events;
    uint64_t blocks;
    uint64_t bad_params;
    uint64_t first_ts;
    uint64_t last_ts;
    uint64_t block_counts[7];  /* EV, EV_INT, EVF, EV_V2, EVF_V2, EV_V2_LARGE, EVF_V2_LARGE */
    uint64_t *type_counts;     /* [65536] */
    uint64_t *generic_counts;  /* [num_generic * 65537]; slot 65536: no syscall id */
};

int cs_scan(const struct cs_tables *t, struct cs_totals *tot, const uint8_t *buf,
            size_t pos, size_t end, int decode, size_t *out_pos);
int cs_check_param(const struct cs_tables *t, int32_t spec, const uint8_t *p, uint64_t n);
size_t cs_nonzero(const uint64_t *arr, size_t n, uint32_t *idx, size_t max);
/* --- cdef end -------------------------------------------------------------- */

/* ------------------------------------------------------------------------- */

#define HDR_V2 26 /* ts u64, tid i64, len u32, type u16, nparams u32 */
#define HDR_V1 22 /* ts u64, tid i64, len u32, type u16 */
#define MIN_BLOCK 12

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* params._prefix_length is not None: the mask is ones then zeros (big-endian). */
static int contiguous_mask(const uint8_t *m, uint64_t n)
{
    int zero_seen = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t b = m[i];
        if (zero_seen) {
            if (b)
                return 0;
        } else if (b != 0xff) {
            /* b must be 1...10...0 */
            uint8_t inv = (uint8_t)~b;
            if (inv & (uint8_t)(inv + 1))
                return 0;
            zero_seen = 1;
        }
    }
    return 1;
}

/* Does params.decode_param accept these bytes for this spec? (1 yes, 0 no) */
static int check_param(const struct cs_tables *t, int32_t s, const uint8_t *p, uint64_t n,
                       int depth)
{
    if (s < 0 || (uint32_t)s >= t->num_specs || depth > 32)
        return 0;
    int64_t a = t->spec_a[s], b = t->spec_b[s];
    switch (t->spec_kind[s]) {
    case K_ANY:
        return 1;
    case K_SIZE:
        return (int64_t)n == a || (int64_t)n == b;
    case K_SOCKADDR:
        if (n == 0)
            return 1;
        if (p[0] == 2)
            return n == 7;
        if (p[0] == 10)
            return n == 19;
        return 1;
    case K_SOCKTUPLE:
        if (n == 0)
            return 1;
        if (p[0] == 2)
            return n == 13;
        if (p[0] == 10)
            return n == 37;
        if (p[0] == 1)
            return n >= 17;
        return 1;
    case K_FDLIST:
        if (n < 2)
            return 0;
        return n == 2 + 10 * (uint64_t)rd16(p);
    case K_DYN: {
        if (n == 0)
            return 0;
        int32_t idx = p[0];
        if (idx >= t->spec_alt_count[s])
            return 0;
        return check_param(t, t->alts[t->spec_alt_start[s] + idx], p + 1, n - 1, depth + 1);
    }
    case K_PAIRS: {
        /* split_nul_list: [] when empty, else one trailing NUL dropped, split on NUL */
        if (n == 0)
            return 1;
        uint64_t nuls = 0;
        const uint8_t *q = p, *e = p + n;
        while (q < e) {
            const uint8_t *z = memchr(q, 0, (size_t)(e - q));
            if (!z)
                break;
            nuls++;
            q = z + 1;
        }
        if (p[n - 1] == 0)
            nuls--;
        return (nuls + 1) % 2 == 0;
    }
    case K_NET:
        if ((int64_t)n != a && (int64_t)n != b)
            return 0;
        return contiguous_mask(p + n / 2, n / 2);
    case K_FAIL:
    default:
        return 0;
    }
}

int cs_check_param(const struct cs_tables *t, int32_t spec, const uint8_t *p, uint64_t n)
{
    return check_param(t, spec, p, n, 0);
}

/* The parameter count of a v1 event (reader._v1_param_count); -1 when none fits. */
static int64_t v1_count(const struct cs_tables *t, uint32_t etype, const uint8_t *payload,
                        uint64_t size)
{
    int large = t->large[etype];
    uint64_t lsize = large ? 4 : 2;
    const uint32_t *c = t->cands + t->cand_start[etype];
    for (uint32_t k = 0; k < t->cand_count[etype]; k++) {
        uint64_t n = c[k];
        if (n * lsize > size)
            continue;
        uint64_t sum = 0;
        for (uint64_t i = 0; i < n; i++)
            sum += large ? rd32(payload + 4 * i) : rd16(payload + 2 * i);
        if (n * lsize + sum == size)
            return (int64_t)n;
    }
    return -1;
}

/* Count one valid event: payload = parameter lengths then values (v2 layout). */
static void count_event(const struct cs_tables *t, struct cs_totals *tot, uint64_t ts,
                        uint32_t etype, uint64_t nparams, const uint8_t *payload, int decode)
{
    if (tot->events == 0)
        tot->first_ts = ts;
    tot->last_ts = ts;
    tot->events++;
    tot->type_counts[etype]++;
    if (etype >= t->num_events)
        return;
    int32_t g = t->generic[etype];
    if (g >= 0) {
        /* RawEvent.type_name: u16 length of param 0 == 2, then its u16 value */
        uint64_t slot = 65536;
        if (nparams && rd16(payload) == 2)
            slot = rd16(payload + 2 * nparams);
        tot->generic_counts[(uint64_t)g * 65537 + slot]++;
    }
    if (!decode || !nparams)
        return;
    uint64_t declared = t->param_count[etype];
    uint64_t k = nparams < declared ? nparams : declared;
    if (!k)
        return;
    int large = t->large[etype];
    uint64_t lsize = large ? 4 : 2;
    const int32_t *specs = t->param_spec + t->param_start[etype];
    const uint8_t *v = payload + nparams * lsize;
    for (uint64_t i = 0; i < k; i++) {
        uint64_t ln = large ? rd32(payload + 4 * i) : rd16(payload + 2 * i);
        if (!check_param(t, specs[i], v, ln, 0))
            tot->bad_params++;
        v += ln;
    }
}

/* Block type -> index in block_counts, spec bits: 1 = v2, 2 = flags, 4 = large cap. */
static int block_kind(uint32_t btype, int *bits)
{
    switch (btype) {
    case 0x204: *bits = 0; return 0;                /* EV */
    case 0x8010ABCDu: *bits = 0; return 1;          /* EV_INT */
    case 0x208: *bits = 2; return 2;                /* EVF */
    case 0x216: *bits = 1; return 3;                /* EV_V2 */
    case 0x217: *bits = 1 | 2; return 4;            /* EVF_V2 */
    case 0x221: *bits = 1 | 4; return 5;            /* EV_V2_LARGE */
    case 0x222: *bits = 1 | 2 | 4; return 6;        /* EVF_V2_LARGE */
    default: return -1;
    }
}

int cs_scan(const struct cs_tables *t, struct cs_totals *tot, const uint8_t *buf,
            size_t pos, size_t end, int decode, size_t *out_pos)
{
    int status;
    for (;;) {
        if (end - pos < 8) {
            status = CS_MORE;
            break;
        }
        const uint8_t *blk = buf + pos;
        uint32_t btype = rd32(blk), blen = rd32(blk + 4);
        int bits;
        int kind = block_kind(btype, &bits);
        if (kind < 0) {
            status = CS_NONEVENT;
            break;
        }
        /* _check_length */
        uint64_t cap = (bits & 4) ? t->max_large_block : t->max_block;
        if (blen < MIN_BLOCK || blen > cap) {
            status = CS_INVALID;
            break;
        }
        if (blen > end - pos) {
            status = CS_MORE;
            break;
        }
        if (rd32(blk + blen - 4) != blen) {
            status = CS_INVALID;
            break;
        }
        /* _event */
        const uint8_t *body = blk + 8, *bend = blk + blen - 4, *at;
        if (bits & 2) {
            if (bend - body < 6) { status = CS_INVALID; break; }
            at = body + 6;
        } else {
            if (bend - body < 2) { status = CS_INVALID; break; }
            at = body + 2;
        }
        uint64_t avail = (uint64_t)(bend - at);
        if (bits & 1) {
            if (avail < HDR_V2) { status = CS_INVALID; break; }
            uint64_t ts = rd64(at);
            uint64_t elen = rd32(at + 16);
            uint32_t etype = rd16(at + 20);
            uint64_t nparams = rd32(at + 22);
            if (elen < HDR_V2 || elen > avail) { status = CS_INVALID; break; }
            /* more parameters than any event has (libs' PPM_MAX_EVENT_PARAMS): damage */
            if (nparams > 32) { status = CS_INVALID; break; }
            int large = etype < t->num_events && t->large[etype];
            uint64_t lsize = large ? 4 : 2;
            if (HDR_V2 + nparams * lsize > elen) { status = CS_INVALID; break; }
            const uint8_t *payload = at + HDR_V2;
            if (nparams) {
                uint64_t total = 0;
                if (large)
                    for (uint64_t i = 0; i < nparams; i++) total += rd32(payload + 4 * i);
                else
                    for (uint64_t i = 0; i < nparams; i++) total += rd16(payload + 2 * i);
                if (HDR_V2 + nparams * lsize + total > elen) { status = CS_INVALID; break; }
            }
            count_event(t, tot, ts, etype, nparams, payload, decode);
        } else {
            if (avail < HDR_V1) { status = CS_INVALID; break; }
            uint64_t ts = rd64(at);
            uint64_t elen = rd32(at + 16);
            uint32_t etype = rd16(at + 20);
            if (elen < HDR_V1 || elen > avail) { status = CS_INVALID; break; }
            if (etype >= t->num_events) {
                count_event(t, tot, ts, etype, 0, at + HDR_V1, decode);
            } else {
                if (!t->cands) { status = CS_NEED_V1; break; }
                const uint8_t *payload = at + HDR_V1;
                uint64_t size = elen - HDR_V1;
                if (t->v1_trim3[etype])
                    size = size >= 3 ? size - 3 : 0;
                int64_t n = v1_count(t, etype, payload, size);
                if (n < 0) { status = CS_INVALID; break; }
                count_event(t, tot, ts, etype, (uint64_t)n, payload, decode);
            }
        }
        tot->blocks++;
        tot->block_counts[kind]++;
        pos += blen;
    }
    *out_pos = pos;
    return status;
}

size_t cs_nonzero(const uint64_t *arr, size_t n, uint32_t *idx, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (arr[i])
            idx[k++] = (uint32_t)i;
    return k;
}
