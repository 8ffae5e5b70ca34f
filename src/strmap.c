/* strmap.c: chained hashing (FNV-1a), doubling at a load of one. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/strmap.h"

static uint64_t hash(const char *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	return h;
}

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof *m);
}

static struct strmap_ent **find(const struct strmap *m, const char *key, size_t len)
{
	if (!m->n_slots)
		return NULL;
	struct strmap_ent **pp = &m->slots[hash(key, len) & (m->n_slots - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->len == len && !memcmp((*pp)->key, key, len))
			return pp;
	return pp;
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
	struct strmap_ent **pp = find(m, key, len);
	return pp && *pp ? (*pp)->val : NULL;
}

static int grow(struct strmap *m)
{
	size_t n = m->n_slots ? m->n_slots * 2 : 64;
	struct strmap_ent **slots = calloc(n, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_slots; i++) {
		struct strmap_ent *e = m->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			size_t j = hash(e->key, e->len) & (n - 1);
			e->next = slots[j];
			slots[j] = e;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->n_slots = n;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t len, void *val)
{
	if (m->count >= m->n_slots && grow(m))
		return -ENOMEM;
	struct strmap_ent **pp = find(m, key, len);
	if (*pp) {
		(*pp)->key = key;
		(*pp)->val = val;
		return 0;
	}
	struct strmap_ent *e = malloc(sizeof *e);
	if (!e)
		return -ENOMEM;
	*e = (struct strmap_ent){ key, len, val, NULL };
	*pp = e;
	m->count++;
	return 0;
}

void *strmap_del(struct strmap *m, const char *key, size_t len)
{
	struct strmap_ent **pp = find(m, key, len), *e;
	if (!pp || !*pp)
		return NULL;
	e = *pp;
	void *val = e->val;
	*pp = e->next;
	free(e);
	m->count--;
	return val;
}

void strmap_each(const struct strmap *m, void (*fn)(void *val, void *ctx), void *ctx)
{
	for (size_t i = 0; i < m->n_slots; i++)
		for (struct strmap_ent *e = m->slots[i]; e; e = e->next)
			fn(e->val, ctx);
}

void strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->n_slots; i++) {
		struct strmap_ent *e = m->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->slots);
	strmap_init(m);
}
