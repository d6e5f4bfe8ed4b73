/* f_rules.c - the rules language (core/rules.h) and the rules scan.
 *
 * The input is a rules file, optionally followed by a line "#--log--" and a
 * log. When the rules load, the log is scanned with them, and with the
 * built-in rules, once with the literal prefilter and once without: the
 * findings must be the same (the prefilter only skips patterns that cannot
 * match).
 */
#include "fuzz.h"

#include "core/logparse.h"
#include "core/rules.h"
#include "core/util.h"

#define SEP "\n#--log--\n"

struct digest {
	int n;
	uint64_t sum;
};

static int on_hit(void *ctx, const struct rule_hit *h)
{
	struct digest *d = ctx;
	FUZZ_CHECK(h->rule && h->rule->id);
	FUZZ_CHECK(h->first <= h->trigger && h->trigger <= h->last);
	FUZZ_CHECK(h->n_keys >= 0 && h->n_keys <= RSCAN_KEYS);
	/* a log line may hold NUL bytes: the title is cut at none of them */
	FUZZ_CHECK(h->title != NULL && h->title[h->title_len] == '\0');
	uint64_t x = h->first * 131u + h->last * 17u + h->trigger + (uint64_t)h->category * 7u;
	for (const char *p = h->rule->id; *p; p++)
		x = x * 31u + (unsigned char)*p;
	for (int i = 0; i < h->n_keys; i++)
		for (size_t k = 0; k < h->key_lens[i]; k++)
			x = x * 33u + (unsigned char)h->keys[i][k];
	d->n++;
	d->sum = d->sum * 1000003u + x;
	return 0;
}

struct feed {
	struct rscan *scan;
};

static int feed_line(void *ctx, const struct split_line *l)
{
	struct feed *f = ctx;
	return rscan_line(f->scan, l->lineno, l->head, l->head_len);
}

static struct digest scan(struct ruleset *rs, bool prefilter, const char *log, size_t n)
{
	struct digest d = {0, 0};
	ruleset_use_prefilter(rs, prefilter);
	struct feed f = {rscan_new(rs, on_hit, &d)};
	struct splitter *sp = malloc(sizeof(*sp));
	if (!sp)
		abort();
	splitter_init(sp, feed_line, &f);
	splitter_feed(sp, log, n);
	splitter_finish(sp);
	rscan_finish(f.scan);
	rscan_free(f.scan);
	free(sp);
	return d;
}

static void compare(struct ruleset *rs, const char *log, size_t n)
{
	struct digest on = scan(rs, true, log, n);
	struct digest off = scan(rs, false, log, n);
	FUZZ_CHECK(on.n == off.n);
	FUZZ_CHECK(on.sum == off.sum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ruleset *builtin;
	if (!builtin) {
		struct cs_err err;
		builtin = ruleset_builtin(&err);
		FUZZ_CHECK(builtin != NULL);
	}
	const char *text = (const char *)data;
	const char *sep = memmem(text, size, SEP, strlen(SEP));
	size_t rules_n = sep ? (size_t)(sep - text) : size;
	const char *log = sep ? sep + strlen(SEP) : "";
	size_t log_n = sep ? size - rules_n - strlen(SEP) : 0;

	struct ruleset *rs = ruleset_new();
	struct cs_err err;
	err_clear(&err);
	if (ruleset_add_text(rs, "fuzz.conf", text, rules_n, &err) == 0) {
		for (int i = 0; i < ruleset_count(rs); i++) {
			const struct rule *r = ruleset_rule(rs, i);
			FUZZ_CHECK(r && r->id && ruleset_find(rs, r->id) != NULL);
		}
		(void)ruleset_hash(rs);
		if (log_n)
			compare(rs, log, log_n);
	} else {
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(ruleset_count(rs) == 0); /* nothing of a bad text is added */
	}
	ruleset_free(rs);
	if (log_n)
		compare(builtin, log, log_n);
	return 0;
}
