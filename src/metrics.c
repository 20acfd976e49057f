// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "names.h"

static const __u64 bucket_ns[METRICS_BUCKETS] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000,
	50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000ULL,
	5000000000ULL, 10000000000ULL,
};
static const char *const bucket_le[METRICS_BUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
	"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

/* the results an attempt ends with while running (pending only at exit) */
static const unsigned int shown_results[] = {
	TCL_ESTABLISHED, TCL_REFUSED, TCL_TIMEOUT, TCL_UNREACHABLE, TCL_CLOSED, TCL_ERROR,
};
#define N_SHOWN (sizeof(shown_results) / sizeof(shown_results[0]))

int metrics_init(struct metrics *m, const struct metrics_opts *o)
{
	memset(m, 0, sizeof(*m));
	m->o = *o;
	if (table_init(&m->series, sizeof(struct metrics_key), sizeof(struct metrics_series),
		       o->max_series))
		return -1;
	if (pthread_mutex_init(&m->lock, NULL)) {
		table_free(&m->series);
		return -1;
	}
	return 0;
}

void metrics_free(struct metrics *m)
{
	table_free(&m->series);
	pthread_mutex_destroy(&m->lock);
}

/* The series of a record, the overflow one past the bound. Lock held. */
static struct metrics_series *series_of(struct metrics *m, const struct tcl_event *ev,
					__u16 port, const char *container)
{
	struct metrics_key key;
	struct metrics_series *s;

	if (!m->o.labels)
		return &m->none;
	memset(&key, 0, sizeof(key));
	if (m->o.labels & METRICS_LABEL_COMM)
		memcpy(key.comm, ev->comm, sizeof(key.comm));
	if (m->o.labels & METRICS_LABEL_DPORT)
		key.dport = port;
	if ((m->o.labels & METRICS_LABEL_CONTAINER) && container)
		strncpy(key.container, container, sizeof(key.container) - 1);
	s = table_upsert(&m->series, &key);
	if (s)
		return s;
	m->dropped++;
	return &m->overflow;
}

static void observe_latency(struct metrics_series *s, __u64 ns)
{
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		if (ns <= bucket_ns[i]) {
			s->latency_buckets[i]++;
			break;
		}
	}
	s->latency_count++;
	s->latency_sum_ns += ns;
}

void metrics_take(struct metrics *m, const struct tcl_event *ev, const char *container)
{
	struct metrics_series *s;

	if (ev->kind == TCL_KIND_CONNECT && ev->stage != TCL_STAGE_OUTCOME)
		return;
	pthread_mutex_lock(&m->lock);
	switch (ev->kind) {
	case TCL_KIND_CONNECT:
		s = series_of(m, ev, ev->dport, container);
		if (ev->result < TCL_RESULT_MAX)
			s->attempts[ev->result]++;
		/* the handshake's time: a failure's latency is its timeout */
		if (ev->result == TCL_ESTABLISHED)
			observe_latency(s, ev->latency_ns);
		break;
	case TCL_KIND_ACCEPT:
		/* an accepted connection was made to our local port */
		s = series_of(m, ev, ev->sport, container);
		s->accepts++;
		break;
	case TCL_KIND_CLOSE:
		s = series_of(m, ev, ev->flags & TCL_F_INBOUND ? ev->sport : ev->dport, container);
		s->closes++;
		s->bytes_sent += ev->bytes_sent;
		s->bytes_received += ev->bytes_received;
		break;
	}
	pthread_mutex_unlock(&m->lock);
}

static void raise_to(__u64 *have, __u64 v)
{
	if (v > *have)
		*have = v;
}

void metrics_set_loss(struct metrics *m, const struct loss_report *l)
{
	/* counters never go down: untracked is computed from a walk of a
	 * table that changes meanwhile and may come out lower once
	 */
	pthread_mutex_lock(&m->lock);
	raise_to(&m->loss.lost, l->lost);
	raise_to(&m->loss.untracked, l->untracked);
	raise_to(&m->loss.skipped, l->skipped);
	raise_to(&m->loss.untracked_conns, l->untracked_conns);
	raise_to(&m->loss.map_full, l->map_full);
	raise_to(&m->loss.rdns_timeouts, l->rdns_timeouts);
	raise_to(&m->loss.dns_dropped, l->dns_dropped);
	raise_to(&m->loss.dns_malformed, l->dns_malformed);
	raise_to(&m->loss.dns_evicted, l->dns_evicted);
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_backend(struct metrics *m, const char *backend)
{
	pthread_mutex_lock(&m->lock);
	m->o.backend = backend;
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_ready(struct metrics *m)
{
	pthread_mutex_lock(&m->lock);
	m->ready = true;
	pthread_mutex_unlock(&m->lock);
}

bool metrics_ready(struct metrics *m)
{
	bool ready;

	pthread_mutex_lock(&m->lock);
	ready = m->ready;
	pthread_mutex_unlock(&m->lock);
	return ready;
}

void metrics_label_value(struct strbuf *sb, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n && s[i]) {
		unsigned int cp;
		size_t seq = utf8_decode(s + i, n - i, &cp);

		if (!seq) {
			/* an invalid byte as the code point of its value, as JSON has it */
			sb_char(sb, (char)(0xc0 | s[i] >> 6));
			sb_char(sb, (char)(0x80 | (s[i] & 0x3f)));
			i++;
			continue;
		}
		if (cp == '\\')
			sb_str(sb, "\\\\");
		else if (cp == '"')
			sb_str(sb, "\\\"");
		else if (cp == '\n')
			sb_str(sb, "\\n");
		else
			sb_mem(sb, (const char *)s + i, seq);
		i += seq;
	}
}

/* A label set and its counters, copied under the lock */
struct entry {
	struct metrics_key key;		/* first: entries sort by it */
	struct metrics_series val;
};

/* What the HTTP thread formats */
struct snapshot {
	struct metrics_opts o;
	struct loss_report loss;
	__u64 dropped;
	size_t n;
	struct entry *e;
};

static int entry_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct metrics_key));
}

static int take_snapshot(struct metrics *m, struct snapshot *snap)
{
	size_t n = 0;

	pthread_mutex_lock(&m->lock);
	snap->o = m->o;
	snap->loss = m->loss;
	snap->dropped = m->dropped;
	snap->e = calloc(m->series.len + 2, sizeof(*snap->e));
	if (!snap->e) {
		pthread_mutex_unlock(&m->lock);
		return -1;
	}
	if (!m->o.labels) {
		snap->e[n++].val = m->none;
	} else {
		for (size_t i = 0; i < m->series.cap; i++) {
			const void *k = table_key_at(&m->series, i);

			if (!k)
				continue;
			memcpy(&snap->e[n].key, k, sizeof(snap->e[n].key));
			memcpy(&snap->e[n].val, table_val_at(&m->series, i),
			       sizeof(snap->e[n].val));
			n++;
		}
		if (m->dropped) {
			snap->e[n].key.overflow = 1;
			snap->e[n++].val = m->overflow;
		}
	}
	pthread_mutex_unlock(&m->lock);
	snap->n = n;
	/* the same order on every scrape */
	qsort(snap->e, n, sizeof(*snap->e), entry_cmp);
	return 0;
}

static void family(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	sb_str(sb, "# HELP ");
	sb_str(sb, name);
	sb_char(sb, ' ');
	sb_str(sb, help);
	sb_str(sb, "\n# TYPE ");
	sb_str(sb, name);
	sb_char(sb, ' ');
	sb_str(sb, type);
	sb_char(sb, '\n');
}

static void label(struct strbuf *sb, bool *first, const char *name, const char *value,
		  size_t n)
{
	sb_str(sb, *first ? "{" : ",");
	*first = false;
	sb_str(sb, name);
	sb_str(sb, "=\"");
	metrics_label_value(sb, value, n);
	sb_char(sb, '"');
}

struct label_pair {
	const char *name, *value;
};

/* name{labels of the key,extra labels} and the space before the value */
static void sample_begin(struct strbuf *sb, const struct snapshot *snap, const char *name,
			 const struct metrics_key *key, const struct label_pair *extra,
			 int n_extra)
{
	unsigned int labels = snap->o.labels;
	bool first = true;

	sb_str(sb, name);
	if (key && key->overflow) {
		label(sb, &first, "overflow", "true", 4);
	} else if (key) {
		if (labels & METRICS_LABEL_COMM)
			label(sb, &first, "comm", key->comm, sizeof(key->comm));
		if (labels & METRICS_LABEL_DPORT) {
			char port[8];
			struct strbuf pb;

			sb_init(&pb, port, sizeof(port));
			sb_u64(&pb, key->dport);
			label(sb, &first, "dport", port, pb.len);
		}
		if (labels & METRICS_LABEL_CONTAINER)
			label(sb, &first, "container", key->container, sizeof(key->container));
	}
	for (int i = 0; i < n_extra; i++)
		label(sb, &first, extra[i].name, extra[i].value, strlen(extra[i].value));
	if (!first)
		sb_char(sb, '}');
	sb_char(sb, ' ');
}

/* name{labels} v\n, with at most one extra label */
static void sample(struct strbuf *sb, const struct snapshot *snap, const char *name,
		   const struct metrics_key *key, const char *extra, const char *extra_value,
		   __u64 v)
{
	struct label_pair p = { extra, extra_value };

	sample_begin(sb, snap, name, key, &p, extra ? 1 : 0);
	sb_u64(sb, v);
	sb_char(sb, '\n');
}

static void seconds(struct strbuf *sb, __u64 ns)
{
	char frac[10] = { '.' };

	sb_u64(sb, ns / 1000000000ULL);
	ns %= 1000000000ULL;
	for (int i = 9; i >= 1; i--, ns /= 10)
		frac[i] = (char)('0' + ns % 10);
	sb_mem(sb, frac, sizeof(frac));
}

static void attempts(struct strbuf *sb, const struct snapshot *snap)
{
	const char *name = "tcpconnlog_connect_attempts_total";

	family(sb, name, "counter",
	       "Outbound TCP connect attempts that ended, by result (and the labels of --metrics-labels).");
	for (size_t i = 0; i < snap->n; i++)
		for (size_t r = 0; r < N_SHOWN; r++) {
			__u64 v = snap->e[i].val.attempts[shown_results[r]];

			/* without labels every result is there from the start */
			if (v || !snap->o.labels)
				sample(sb, snap, name, &snap->e[i].key, "result",
				       result_name(shown_results[r]), v);
		}
}

static void latency(struct strbuf *sb, const struct snapshot *snap)
{
	family(sb, "tcpconnlog_connect_latency_seconds", "histogram",
	       "Time from the connect call to the established connection (established attempts only).");
	for (size_t i = 0; i < snap->n; i++) {
		const struct metrics_series *s = &snap->e[i].val;
		const struct metrics_key *k = &snap->e[i].key;
		__u64 cum = 0;

		if (snap->o.labels && !s->latency_count)
			continue;
		for (int b = 0; b < METRICS_BUCKETS; b++) {
			cum += s->latency_buckets[b];
			sample(sb, snap, "tcpconnlog_connect_latency_seconds_bucket", k, "le",
			       bucket_le[b], cum);
		}
		sample(sb, snap, "tcpconnlog_connect_latency_seconds_bucket", k, "le", "+Inf",
		       s->latency_count);
		/* the sum in seconds with ns digits: not an integer */
		sample_begin(sb, snap, "tcpconnlog_connect_latency_seconds_sum", k, NULL, 0);
		seconds(sb, s->latency_sum_ns);
		sb_char(sb, '\n');
		sample(sb, snap, "tcpconnlog_connect_latency_seconds_count", k, NULL, NULL,
		       s->latency_count);
	}
}

/* A per-series counter: field is the offset of its __u64 in metrics_series */
static void per_series(struct strbuf *sb, const struct snapshot *snap, const char *name,
		       const char *help, size_t field)
{
	family(sb, name, "counter", help);
	for (size_t i = 0; i < snap->n; i++) {
		__u64 v = *(const __u64 *)((const char *)&snap->e[i].val + field);

		if (v || !snap->o.labels)
			sample(sb, snap, name, &snap->e[i].key, NULL, NULL, v);
	}
}

static void one(struct strbuf *sb, const struct snapshot *snap, const char *name,
		const char *type, const char *help, __u64 v)
{
	family(sb, name, type, help);
	sample(sb, snap, name, NULL, NULL, NULL, v);
}

static void losses(struct strbuf *sb, const struct snapshot *snap)
{
	const struct loss_report *l = &snap->loss;

	one(sb, snap, "tcpconnlog_lost_events_total", "counter",
	    "Records the kernel's ring buffer had no room for (a larger --ringbuf-size helps).",
	    l->lost);
	one(sb, snap, "tcpconnlog_skipped_events_total", "counter",
	    "Runs of our probes the kernel skipped: up to as many records missing or incomplete.",
	    l->skipped);
	one(sb, snap, "tcpconnlog_untracked_attempts_total", "counter",
	    "Attempts pushed out of the kernel's table of attempts, their outcome not seen.",
	    l->untracked);
	one(sb, snap, "tcpconnlog_map_full_total", "counter",
	    "Kernel table updates that failed.", l->map_full);
	if (snap->o.lifecycle || snap->o.accepts)
		one(sb, snap, "tcpconnlog_untracked_connections_total", "counter",
		    "Connections pushed out of the kernel's table of connections, their close not seen.",
		    l->untracked_conns);
	if (snap->o.resolve)
		one(sb, snap, "tcpconnlog_rdns_timeouts_total", "counter",
		    "Records printed without their -r name: the lookup took too long.",
		    l->rdns_timeouts);
	if (snap->o.dns) {
		one(sb, snap, "tcpconnlog_dns_dropped_total", "counter",
		    "DNS answers -d did not capture.", l->dns_dropped);
		one(sb, snap, "tcpconnlog_dns_malformed_total", "counter",
		    "DNS answers -d could not parse.", l->dns_malformed);
		one(sb, snap, "tcpconnlog_dns_evicted_total", "counter",
		    "Addresses pushed out of the table of DNS answers (--dns-table).",
		    l->dns_evicted);
	}
}

static void info(struct strbuf *sb, const struct snapshot *snap)
{
	const struct label_pair build[] = {
		{ "version", snap->o.version }, { "libbpf", snap->o.libbpf },
	};

	family(sb, "tcpconnlog_backend_info", "gauge",
	       "The probes in use: fentry, kprobe or tracepoint.");
	if (snap->o.backend)
		sample(sb, snap, "tcpconnlog_backend_info", NULL, "backend", snap->o.backend, 1);
	family(sb, "tcpconnlog_build_info", "gauge",
	       "The version of tcpconnlog and of the libbpf it runs with.");
	sample_begin(sb, snap, "tcpconnlog_build_info", NULL, build, 2);
	sb_str(sb, "1\n");
}

static void render(struct strbuf *sb, const struct snapshot *snap)
{
	attempts(sb, snap);
	latency(sb, snap);
	if (snap->o.accepts)
		per_series(sb, snap, "tcpconnlog_accepts_total",
			   "Inbound connections accepted (-A).",
			   offsetof(struct metrics_series, accepts));
	if (snap->o.lifecycle) {
		per_series(sb, snap, "tcpconnlog_closes_total",
			   "Traced connections that closed (-l).",
			   offsetof(struct metrics_series, closes));
		per_series(sb, snap, "tcpconnlog_sent_bytes_total",
			   "Data bytes the peers acknowledged, counted when the connection closed (-l).",
			   offsetof(struct metrics_series, bytes_sent));
		per_series(sb, snap, "tcpconnlog_received_bytes_total",
			   "Data bytes received in order, counted when the connection closed (-l).",
			   offsetof(struct metrics_series, bytes_received));
	}
	losses(sb, snap);
	one(sb, snap, "tcpconnlog_metrics_series", "gauge",
	    "Label sets kept for --metrics-labels (at most --metrics-max-series).",
	    snap->o.labels ? snap->n - (snap->dropped ? 1 : 0) : 1);
	one(sb, snap, "tcpconnlog_metrics_series_dropped_total", "counter",
	    "Records past --metrics-max-series, counted in the series labelled overflow=\"true\".",
	    snap->dropped);
	info(sb, snap);
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct snapshot snap = { 0 };
	size_t cap;
	char *buf = NULL;

	if (take_snapshot(m, &snap))
		goto out;
	/* a guess from the series, doubled until it fits */
	for (cap = 16384 + snap.n * 4096;; cap *= 2) {
		struct strbuf sb;

		free(buf);
		buf = malloc(cap);
		if (!buf)
			goto out;
		sb_init(&sb, buf, cap);
		render(&sb, &snap);
		if (!sb.overflow) {
			*len = sb.len;
			break;
		}
	}
out:
	free(snap.e);
	return buf;
}
