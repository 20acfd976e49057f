// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "metrics.h"
#include "metrics_addr.h"
#include "parse.h"

static int parse_port(const char *s, unsigned short *port)
{
	unsigned long long v;

	if (parse_u64(s, 1, 65535, &v))
		return -1;
	*port = (unsigned short)v;
	return 0;
}

/* out from an address in text and a port; -1 when host is no address */
static int set_addr(const char *host, unsigned short port, struct metrics_addr *out)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;

	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		out->len = sizeof(*in4);
		snprintf(out->text, sizeof(out->text), "%s:%u", host, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		out->len = sizeof(*in6);
		snprintf(out->text, sizeof(out->text), "[%s]:%u", host, port);
		return 0;
	}
	return -1;
}

int metrics_parse_addr(const char *s, struct metrics_addr *out, char *why, size_t len)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	unsigned short port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (!colon) {
		/* a port alone: this host only */
		if (parse_port(s, &port))
			goto bad_port;
		return set_addr("127.0.0.1", port, out);
	}
	if (parse_port(colon + 1, &port))
		goto bad_port;
	hlen = (size_t)(colon - s);
	if (!hlen) {
		snprintf(why, len, "'%s' names no address: give 127.0.0.1%s (this host only) or "
			 "0.0.0.0%s (every interface; [::]%s for IPv6)", s, colon, colon, colon);
		return -1;
	}
	if (hlen >= sizeof(host))
		goto bad_host;
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']')
			goto bad_host;
		host[hlen - 1] = 0;
		memmove(host, host + 1, hlen - 1);
	} else if (strchr(host, ':')) {
		goto bad_host;	/* ::1:80 could be either: brackets say */
	}
	if (!set_addr(host, port, out))
		return 0;
bad_host:
	snprintf(why, len, "'%s': the address must be an IPv4 address or an IPv6 one in "
		 "brackets ([::1]:PORT), not a name", s);
	return -1;
bad_port:
	snprintf(why, len, "'%s': the port must be a number from 1 to 65535", s);
	return -1;
}

static const struct {
	const char *name;
	unsigned int bit;
} label_names[] = {
	{ "comm", METRICS_LABEL_COMM },
	{ "dport", METRICS_LABEL_DPORT },
	{ "container", METRICS_LABEL_CONTAINER },
};

int metrics_parse_labels(const char *s, unsigned int *labels, char *why, size_t len)
{
	*labels = 0;
	while (1) {
		size_t n = strcspn(s, ","), i;

		for (i = 0; i < sizeof(label_names) / sizeof(*label_names); i++)
			if (strlen(label_names[i].name) == n && !strncmp(s, label_names[i].name, n))
				break;
		if (i == sizeof(label_names) / sizeof(*label_names)) {
			snprintf(why, len, "unknown label '%.*s': comm, dport or container, "
				 "separated by commas", (int)n, s);
			return -1;
		}
		*labels |= label_names[i].bit;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}
