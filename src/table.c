// SPDX-License-Identifier: GPL-2.0-only
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"

/* The alignment an object of this size may need: alignof(T) divides
 * sizeof(T), so the lowest set bit of the size, up to what malloc gives.
 */
static size_t align_of_size(size_t size)
{
	size_t a = size & -size;

	return a && a < _Alignof(max_align_t) ? a : _Alignof(max_align_t);
}

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

static unsigned char *slot(const struct table *t, size_t i)
{
	return t->slots + i * t->slot_size;
}

/* the used byte: after the key and the value */
static unsigned char *used(const struct table *t, unsigned char *s)
{
	return s + t->val_off + t->val_size;
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
	/* keys and values aligned for their types: slots start at multiples
	 * of the larger alignment, keys at the start of a slot
	 */
	t->val_off = align_up(key_size, align_of_size(val_size));
	t->slot_size = align_up(t->val_off + val_size + 1,
				align_of_size(key_size) > align_of_size(val_size) ?
				align_of_size(key_size) : align_of_size(val_size));
	t->cap = 16;
	t->slots = calloc(t->cap, t->slot_size);
	return t->slots ? 0 : -1;
}

void table_free(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
}

static size_t home(const struct table *t, const void *key)
{
	return hash(key, t->key_size) & (t->cap - 1);
}

static unsigned char *find(const struct table *t, const void *key)
{
	size_t i = home(t, key);

	for (;; i = (i + 1) & (t->cap - 1)) {
		unsigned char *s = slot(t, i);

		if (!*used(t, s) || !memcmp(s, key, t->key_size))
			return s;
	}
}

static int grow(struct table *t)
{
	struct table bigger = *t;

	bigger.cap = t->cap * 2;
	bigger.slots = calloc(bigger.cap, t->slot_size);
	if (!bigger.slots)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		unsigned char *s = slot(t, i);

		if (*used(t, s))
			memcpy(find(&bigger, s), s, t->slot_size);
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

void *table_upsert(struct table *t, const void *key)
{
	unsigned char *s = find(t, key);

	if (*used(t, s))
		return s + t->val_off;
	if (t->len >= t->max_len)
		return NULL;
	/* keep the load under 3/4 so probes stay short */
	if ((t->len + 1) * 4 > t->cap * 3) {
		if (grow(t))
			return NULL;
		s = find(t, key);
	}
	*used(t, s) = 1;
	memcpy(s, key, t->key_size);
	t->len++;
	return s + t->val_off;
}

void *table_find(const struct table *t, const void *key)
{
	unsigned char *s = find(t, key);

	return *used(t, s) ? s + t->val_off : NULL;
}

/* k lies in the cyclic range (i, j] */
static bool cyclic_between(size_t i, size_t k, size_t j)
{
	return i <= j ? i < k && k <= j : i < k || k <= j;
}

void table_remove_at(struct table *t, size_t i)
{
	size_t j = i;

	/* move back each later key of the run that slot i now cuts off from
	 * its home; the run ends at an empty slot (the load stays under 3/4)
	 */
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (!*used(t, slot(t, j)))
			break;
		if (!cyclic_between(i, home(t, slot(t, j)), j)) {
			memcpy(slot(t, i), slot(t, j), t->slot_size);
			i = j;
		}
	}
	memset(slot(t, i), 0, t->slot_size);	/* a new key's value starts zeroed */
	t->len--;
}

bool table_remove(struct table *t, const void *key)
{
	unsigned char *s = find(t, key);

	if (!*used(t, s))
		return false;
	table_remove_at(t, (size_t)(s - t->slots) / t->slot_size);
	return true;
}

const void *table_key_at(const struct table *t, size_t i)
{
	unsigned char *s = slot(t, i);

	return *used(t, s) ? s : NULL;
}

void *table_val_at(const struct table *t, size_t i)
{
	unsigned char *s = slot(t, i);

	return *used(t, s) ? s + t->val_off : NULL;
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
