/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * probe_cfg.h - what the loader (ebpf/loader.c) and the probe (ebpf/probe.bpf.c) share:
 * the configuration written into the probe's ".rodata.scap_cfg" section before load, the
 * layout of the per-CPU rings and the names of the maps.
 */
#ifndef SCAP_PROBE_CFG_H
#define SCAP_PROBE_CFG_H

struct scap_cfg {
	__u64 boot_to_epoch_ns; /* added to bpf_ktime_get_boot_ns(): wall-clock ns since the epoch */
	__u32 snaplen;          /* I/O buffer bytes kept per event */
	__u32 target_tgid;      /* record this process and its descendants; 0: everything */
	__u32 exclude_tgid;     /* never record this process (the recorder) */
	__u32 ring_mask;        /* bytes of each CPU's ring - 1 (a power of two) */
};

/*
 * One CPU's ring: an element of the SCAP_MAP_RINGS array (mmapable), written by the probe
 * on that CPU only (its programs run with preemption off and never nest), read by the
 * loader. Layout of an element:
 *
 *   [0, 256)                   struct scap_ring_hdr (positions, counters)
 *   [256, 4096)                the probe's state of the event being recorded (scap_state)
 *   [4096, SCAP_RING_DATA_OFF) scratch space of the probe (paths and names being assembled)
 *   [SCAP_RING_DATA_OFF, +ring + SCAP_RING_SLACK)  the ring, then slack
 *
 * A record is one complete EV / EV_LARGE block (its length at byte 4, a multiple of 4),
 * starting at ring offset (position & ring_mask) and contiguous even when it runs past the
 * end of the ring (into the slack); the next record starts at position + length rounded up
 * to 8. The probe fills an event in place and publishes it by advancing head (after a
 * compiler barrier; x86 keeps stores in order); it only starts one while at least
 * SCAP_RING_SLACK bytes are free, the most the fill code may write.
 */
struct scap_ring_hdr {
	__u64 head;       /* probe: position after the last complete record */
	__u64 events;     /* probe: records written */
	__u64 drops_full; /* probe: lost, ring full */
	__u64 drops_size; /* probe: lost, event larger than a record may be */
	__u64 bytes;      /* probe: bytes of the records written */
	__u64 pad0[3];
	__u64 tail;       /* loader: position of the first record not read yet */
	__u64 pad1[7];
};

#define SCAP_RING_HDR_BYTES 4096
#define SCAP_RING_STATE_OFF 256
#define SCAP_RING_TMP_OFF 4096
#define SCAP_RING_DATA_OFF 12288           /* 4096 + SCAP_TMP_AREA */
#define SCAP_RING_SLACK 266240             /* SCAP_BUF_SIZE rounded up to pages */
#define SCAP_RING_MIN_BYTES (1U << 20)
#define SCAP_RING_ALIGN 8

#define SCAP_CFG_SECTION ".rodata.scap_cfg"
#define SCAP_MAP_RINGS "scap_rings"
#define SCAP_MAP_TRACKED "scap_tracked"
#define SCAP_TRACKED_MAX 4194304 /* PID_MAX_LIMIT: the bitmap of tracked tgids covers all */

#endif /* SCAP_PROBE_CFG_H */
