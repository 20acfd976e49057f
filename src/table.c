// SPDX-License-Identifier: GPL-2.0-only
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"

static size_t slot_size(const struct table *t)
{
	return 1 + t->key_size + t->val_size;
}

static unsigned char *slot(const struct table *t, size_t i)
{
	return t->slots + i * slot_size(t);
}

static uint64_t hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

int table_init(struct table *t, size_t key_size, size_t val_size, size_t max_len)
{
	memset(t, 0, sizeof(*t));
	t->key_size = key_size;
	t->val_size = val_size;
	t->max_len = max_len;
	t->cap = 16;
	t->slots = calloc(t->cap, slot_size(t));
	return t->slots ? 0 : -1;
}

void table_free(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
}

static unsigned char *find(const struct table *t, const void *key)
{
	size_t i = hash(key, t->key_size) & (t->cap - 1);

	for (;; i = (i + 1) & (t->cap - 1)) {
		unsigned char *s = slot(t, i);

		if (!s[0] || !memcmp(s + 1, key, t->key_size))
			return s;
	}
}

static int grow(struct table *t)
{
	struct table bigger = *t;

	bigger.cap = t->cap * 2;
	bigger.slots = calloc(bigger.cap, slot_size(t));
	if (!bigger.slots)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		unsigned char *s = slot(t, i);

		if (s[0])
			memcpy(find(&bigger, s + 1), s, slot_size(t));
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

void *table_upsert(struct table *t, const void *key)
{
	unsigned char *s = find(t, key);

	if (s[0])
		return s + 1 + t->key_size;
	if (t->len >= t->max_len)
		return NULL;
	/* keep the load under 3/4 so probes stay short */
	if ((t->len + 1) * 4 > t->cap * 3) {
		if (grow(t))
			return NULL;
		s = find(t, key);
	}
	s[0] = 1;
	memcpy(s + 1, key, t->key_size);
	t->len++;
	return s + 1 + t->key_size;
}

const void *table_key_at(const struct table *t, size_t i)
{
	unsigned char *s = slot(t, i);

	return s[0] ? s + 1 : NULL;
}

void *table_val_at(const struct table *t, size_t i)
{
	unsigned char *s = slot(t, i);

	return s[0] ? s + 1 + t->key_size : NULL;
}

struct table_entry *table_sorted(const struct table *t,
				 int (*cmp)(const void *, const void *), size_t *n)
{
	struct table_entry *e = calloc(t->len + 1, sizeof(*e));

	*n = 0;
	if (!e)
		return NULL;
	for (size_t i = 0; i < t->cap; i++) {
		if (table_key_at(t, i))
			e[(*n)++] = (struct table_entry){ table_key_at(t, i), table_val_at(t, i) };
	}
	qsort(e, *n, sizeof(*e), cmp);
	return e;
}
