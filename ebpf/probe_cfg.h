/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * probe_cfg.h - what the loader (ebpf/loader.c) and the probe (ebpf/probe.bpf.c) share:
 * the configuration written into the probe's ".rodata.scap_cfg" section before load, the
 * per-CPU counters and the names of the maps.
 */
#ifndef SCAP_PROBE_CFG_H
#define SCAP_PROBE_CFG_H

struct scap_cfg {
	__u64 boot_to_epoch_ns; /* added to bpf_ktime_get_boot_ns(): wall-clock ns since the epoch */
	__u32 snaplen;          /* I/O buffer bytes kept per event */
	__u32 target_tgid;      /* record this process and its descendants; 0: everything */
	__u32 exclude_tgid;     /* never record this process (the recorder) */
	__u32 wakeup_bytes;     /* wake the reader once this much data waits; 0: never */
};

struct scap_counters {
	__u64 events;     /* records written to the ring buffer */
	__u64 drops_full; /* lost: ring buffer full */
	__u64 drops_size; /* lost: event larger than a record may be */
	__u64 bytes;      /* bytes written to the ring buffer */
};

#define SCAP_CFG_SECTION ".rodata.scap_cfg"
#define SCAP_MAP_RING "scap_rb"
#define SCAP_MAP_SCRATCH "scap_scratch"
#define SCAP_MAP_TRACKED "scap_tracked"
#define SCAP_MAP_STATS "scap_stats"
#define SCAP_TRACKED_MAX 4194304 /* PID_MAX_LIMIT: the bitmap of tracked tgids covers all */

#endif /* SCAP_PROBE_CFG_H */
