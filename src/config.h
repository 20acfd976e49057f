/* SPDX-License-Identifier: GPL-2.0-only */
/* Everything the command line decides. */
#ifndef TCL_CONFIG_H
#define TCL_CONFIG_H

#include <stdbool.h>
#include <linux/types.h>
#include "metrics_addr.h"
#include "parse.h"
#include "tcpconnlog.h"

enum tcl_backend {
	BACKEND_AUTO,
	BACKEND_FENTRY,
	BACKEND_KPROBE,
	BACKEND_TRACEPOINT,
};

struct tcl_config {
	enum tcl_backend backend;
	bool verbose;
	bool check_only;	/* --check: start, stop, report, exit */
	const char *btf_path;	/* --btf: kernel types from this file, or NULL */

	/* filters */
	bool pid_set, uid_set, comm_set, ports_set;
	__u32 pid;
	__u32 uid;
	char comm[TCL_COMM_LEN];
	__u8 ip;		/* 0 (both), 4 or 6 */
	bool failed_only;
	__u64 ports[TCL_PORT_WORDS];
	/* where the process runs: as given, then opened by cgfilter_open() */
	const char *cgroup;	/* --cgroup PATH */
	const char *container;	/* --container: a prefix of a container's id */
	const char *netns_path;	/* --netns PATH */
	__u32 netns;		/* --netns INODE, or PATH's inode once opened */
	const char *cgroupmap;	/* --cgroupmap: a pinned map (bcc's) */
	const char *mntnsmap;	/* --mntnsmap: a pinned map (bcc's) */
	/* the maps the kernel side looks them up in, once opened */
	int cgroup_array_fd, cgroupmap_fd, mntnsmap_fd;

	/* output */
	bool json, timestamp, wallclock, print_uid, print_lport;
	bool immediate, count, no_summary;
	bool show_container;	/* -C: CONTAINER column */
	bool by_container;	/* --by container: summary and -c per container */

	/* connections after the handshake */
	bool lifecycle;		/* -l: close records */
	bool accepts;		/* -A: accept records */
	unsigned long long top_interval_s;	/* --top: refresh period, 0 = off */

	/* -r: remote addresses named by reverse DNS, waiting at most this */
	bool resolve;
	bool resolve_timeout_set;
	unsigned long long resolve_timeout_ms;

	/* when to stop; 0 means never */
	unsigned long long duration_s;
	unsigned long long stats_interval_s;	/* --stats-interval, 0 = off */
	unsigned long long max_events;

	unsigned long long ringbuf_bytes;

	/* -o: records appended to this file, rotated past --rotate SIZE
	 * (0 = never) keeping KEEP old ones
	 */
	const char *output_path;
	unsigned long long rotate_size;
	unsigned int rotate_keep;

	/* -d: name destinations from the DNS answers seen */
	bool dns;
	unsigned long long dns_table_size;	/* --dns-table: addresses kept */

	/* --metrics: the address to serve Prometheus on, and its labels */
	struct metrics_addr metrics_addr;
	unsigned long long metrics_max_series;	/* 0 = not given */
	unsigned int metrics_labels;		/* METRICS_LABEL_* */
	bool metrics;

	/* least privilege: the user to become once attached */
	bool keep_privileges;	/* --no-drop-privileges */
	char run_as[64];	/* --user, as given (default TCL_DEFAULT_USER) */
	__u32 run_uid, run_gid;
};

#define TCL_DEFAULT_USER "nobody"

#define TCL_RINGBUF_DEFAULT (4ULL << 20)
#define TCL_RESOLVE_TIMEOUT_DEFAULT_MS 200
#define TCL_DNS_TABLE_DEFAULT 8192

#endif
