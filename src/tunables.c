/* tunables.c: the knobs every provider has (ttl, qps, burst, retries,
 * timeout), whether set in a provider's section, at the config file's top
 * or with -o: their names, their ranges, and which setting wins.
 *
 * Knows no file, no line and no provider: config.c says where a value came
 * from, and which qps a type takes when nobody says. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/tunables.h"

enum { TUN_TTL, TUN_QPS, TUN_BURST, TUN_RETRIES, TUN_TIMEOUT, TUN_N };

static const struct tun_range {
	const char *key;
	double min;
	int min_open; /* the minimum itself is refused */
	double max;
	int whole;
} tun_ranges[TUN_N] = {
	{ "ttl", 0, 0, 1e7, 0 },
	{ "qps", 0, 1, 1e6, 0 },
	{ "burst", 1, 0, 1e6, 0 },
	{ "retries", 0, 0, 100, 1 },
	{ "timeout", 0, 1, 86400, 0 },
};

static double tun_get(const struct tunables *t, int i)
{
	switch (i) {
	case TUN_TTL: return t->ttl;
	case TUN_QPS: return t->qps;
	case TUN_BURST: return t->burst;
	case TUN_RETRIES: return t->retries;
	default: return t->timeout;
	}
}

static void tun_put(struct tunables *t, int i, double v)
{
	switch (i) {
	case TUN_TTL: t->ttl = v; break;
	case TUN_QPS: t->qps = v; break;
	case TUN_BURST: t->burst = v; break;
	case TUN_RETRIES: t->retries = (int)v; break;
	default: t->timeout = v; break;
	}
}

static int tun_find(const char *key)
{
	for (int i = 0; i < TUN_N; i++)
		if (!strcmp(key, tun_ranges[i].key))
			return i;
	return -1;
}

/* 0 when v suits tunable i, else -EINVAL and why not. */
static int tun_bad(int i, double v, char *why, size_t size)
{
	const struct tun_range *d = &tun_ranges[i];

	if (d->min_open ? v <= d->min : v < d->min)
		snprintf(why, size, "%s must be %s %g", d->key, d->min_open ? "above" : "at least",
			 d->min);
	else if (v > d->max)
		snprintf(why, size, "%s must be at most %g", d->key, d->max);
	else if (d->whole && v != floor(v))
		snprintf(why, size, "%s must be a whole number", d->key);
	else
		return 0;
	return -EINVAL;
}

void tunables_unset(struct tunables *t)
{
	for (int i = 0; i < TUN_N; i++)
		tun_put(t, i, -1);
}

bool tunables_is_key(const char *key)
{
	return tun_find(key) >= 0;
}

int tunables_set(struct tunables *t, const char *key, const char *text, char *why, size_t size)
{
	int i = tun_find(key);
	char shown[36];
	double v;

	if (i < 0) {
		snprintf(why, size, "%s is no tunable", key);
		return -EINVAL;
	}
	if (config_parse_number(text, &v) < 0) {
		aifs_text_cut(shown, sizeof shown, text);
		snprintf(why, size, "%s: '%s' is not a number (0 or more)", key, shown);
		return -EINVAL;
	}
	if (tun_bad(i, v, why, size) < 0)
		return -EINVAL;
	tun_put(t, i, v);
	return 0;
}

int tunables_check(const struct tunables *t, char *why, size_t size)
{
	for (int i = 0; i < TUN_N; i++) {
		double v = tun_get(t, i);

		if (v >= 0 && tun_bad(i, v, why, size) < 0)
			return -EINVAL;
	}
	return 0;
}

void tunables_fill(struct tunables *t, const struct tunables *over, const struct tunables *under,
		   double default_qps)
{
	for (int i = 0; i < TUN_N; i++) {
		double v = tun_get(t, i);

		if (v < 0 && over)
			v = tun_get(over, i);
		if (v < 0 && under)
			v = tun_get(under, i);
		if (v >= 0) {
			tun_put(t, i, v);
			continue;
		}
		switch (i) {
		case TUN_TTL: v = CONFIG_DEFAULT_TTL; break;
		case TUN_QPS: v = default_qps; break;
		case TUN_BURST: v = t->qps > 1 ? t->qps : 1; break;
		case TUN_RETRIES: v = CONFIG_DEFAULT_RETRIES; break;
		default: v = CONFIG_DEFAULT_TIMEOUT; break;
		}
		tun_put(t, i, v);
	}
}
