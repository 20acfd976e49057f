/* SPDX-License-Identifier: GPL-2.0-only */
/* A small open-addressing hash table of fixed-size keys and values, for the
 * per-command and per-destination tallies and --top's open connections.
 * Values start zeroed.
 */
#ifndef TCL_TABLE_H
#define TCL_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct table {
	size_t key_size;
	size_t val_size;
	size_t cap;		/* slots, a power of two */
	size_t len;		/* slots in use */
	size_t max_len;		/* refuse new keys past this */
	size_t val_off;		/* of the value in a slot; the key is at 0 */
	size_t slot_size;	/* a multiple of the key's and the value's alignment */
	unsigned char *slots;	/* [key][pad][value][used byte][pad], repeated */
};

int table_init(struct table *t, size_t key_size, size_t val_size, size_t max_len);
void table_free(struct table *t);
/* The value for key, inserted when missing; NULL when full or out of memory. */
void *table_upsert(struct table *t, const void *key);
/* The value for key, or NULL when key is not in the table. */
void *table_find(const struct table *t, const void *key);
/* Remove key; false when it was not there. */
bool table_remove(struct table *t, const void *key);
/* Empty slot i, which is in use. Later keys of its run may move back into
 * it (no tombstones): a walk that removes looks at slot i again.
 */
void table_remove_at(struct table *t, size_t i);
/* Slot i's key and value, or NULL for an empty slot; i < t->cap. */
const void *table_key_at(const struct table *t, size_t i);
void *table_val_at(const struct table *t, size_t i);

struct table_entry {
	const void *key;
	const void *val;
};

/* The keys in use with their values, sorted by cmp (called with two
 * struct table_entry), for printing; *n of them. The caller frees the
 * array; NULL when out of memory.
 */
struct table_entry *table_sorted(const struct table *t,
				 int (*cmp)(const void *, const void *), size_t *n);

#endif
