/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The interface between the scapkit kernel module and user space: the character
 * device, its ioctls and the layout of the per-CPU ring buffers it lets a reader map.
 *
 * One device, /dev/scapkit, opened by one reader at a time. The reader sizes the rings
 * (SCAPKIT_IOC_SET_RING_BYTES), maps each CPU's region with mmap(offset = cpu *
 * region_bytes, length = region_bytes), sets the filters and starts the capture.
 *
 * A region is one page of struct scapkit_ring_header, then ring_bytes (a power of two) of
 * data. The data is a stream of events in the capture file's v2 layout (ppm_evt_hdr: u64
 * ts, u64 tid, u32 len, u16 type, u32 nparams; the parameter lengths; the values), packed
 * back to back with no padding; an event may wrap from the end of the data to its start.
 * Positions are byte counts since the start that only grow; the offset in the data is
 * position & (ring_bytes - 1). The kernel writes whole events, then publishes them by a
 * release store of head; the reader consumes up to head (acquire load) and gives the
 * space back by a release store of tail. The kernel never trusts tail: a tail that is
 * ahead of head or further behind than ring_bytes makes it count the event as a drop.
 */
#ifndef SCAPKIT_UAPI_H
#define SCAPKIT_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped on any change of this file's structures or ioctls. */
#define SCAPKIT_API_VERSION 1
#define SCAPKIT_DEVICE_NAME "scapkit"

/* Ring sizes accepted by SCAPKIT_IOC_SET_RING_BYTES (per CPU, power of two). */
#define SCAPKIT_RING_MIN_BYTES (64u << 10)
#define SCAPKIT_RING_MAX_BYTES (256u << 20)
/* Bytes of the header page at the start of each region (one x86-64 page). */
#define SCAPKIT_HEADER_BYTES 4096u

/* Page 0 of a CPU's region. head and the counters are written by the kernel, tail by
 * the reader; they sit on separate cache lines. */
struct scapkit_ring_header {
	__u64 head;		/* bytes published by the kernel */
	__u64 events;		/* events written */
	__u64 drops_full;	/* events lost because the ring was full */
	__u64 drops_other;	/* events lost otherwise (event too big, re-entry, bad tail) */
	__u64 bytes;		/* bytes of events written */
	__u64 ring_bytes;	/* size of the data area */
	__u32 cpu;		/* the CPU this region belongs to */
	__u32 api_version;	/* SCAPKIT_API_VERSION */
	__u64 reserved0;
	__u64 tail;		/* bytes consumed by the reader (offset 64) */
	__u64 reserved1[7];
};

/* What SCAPKIT_IOC_GET_INFO returns. */
struct scapkit_info {
	__u32 api_version;	/* SCAPKIT_API_VERSION of the module */
	__u32 ncpus;		/* regions to map: CPUs 0 .. ncpus-1 (nr_cpu_ids) */
	__u64 ring_bytes;	/* data bytes per CPU, 0 before SET_RING_BYTES */
	__u64 region_bytes;	/* mmap stride and length per CPU */
	__u32 max_event_bytes;	/* largest event the module writes */
	__u32 capturing;	/* 1 between START and STOP */
	char event_schema[32];	/* identifies the event table the module was built from */
};

/* Per-CPU counters (SCAPKIT_IOC_GET_CPU_STATS): cpu is an input, the rest outputs. */
struct scapkit_cpu_stats {
	__u32 cpu;
	__u32 online;
	__u64 events;
	__u64 drops_full;
	__u64 drops_other;
	__u64 bytes;
};

#define SCAPKIT_IOC_MAGIC 0xB5
#define SCAPKIT_IOC_GET_INFO		_IOR(SCAPKIT_IOC_MAGIC, 1, struct scapkit_info)
#define SCAPKIT_IOC_SET_RING_BYTES	_IOW(SCAPKIT_IOC_MAGIC, 2, __u64)
#define SCAPKIT_IOC_SET_SNAPLEN		_IOW(SCAPKIT_IOC_MAGIC, 3, __u32)
/* Record only this process and its descendants (followed in the kernel); -1: everyone. */
#define SCAPKIT_IOC_SET_TARGET		_IOW(SCAPKIT_IOC_MAGIC, 4, __s32)
/* Never record this process (all its threads); -1: none. */
#define SCAPKIT_IOC_SET_EXCLUDE		_IOW(SCAPKIT_IOC_MAGIC, 5, __s32)
#define SCAPKIT_IOC_START		_IO(SCAPKIT_IOC_MAGIC, 6)
#define SCAPKIT_IOC_STOP		_IO(SCAPKIT_IOC_MAGIC, 7)
#define SCAPKIT_IOC_GET_CPU_STATS	_IOWR(SCAPKIT_IOC_MAGIC, 8, struct scapkit_cpu_stats)

#endif /* SCAPKIT_UAPI_H */
