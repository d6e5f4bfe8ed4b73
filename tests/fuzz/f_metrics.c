/* f_metrics.c - the metric file parser (core/artifact.h): CSV, TSV, JSONL
 * and JSON documents, each format forced and the automatic choice.
 *
 * The first byte picks the file name the automatic choice sees; the rest is
 * the file. Properties: every point has a name, finite numbers where it is
 * not missing, a row number in range; the count returned is the number of
 * points reported.
 */
#include <math.h>

#include "fuzz.h"

#include "core/artifact.h"
#include "core/util.h"

struct seen {
	long n;
	size_t size;
};

static int on_point(void *ctx, const struct metric_point *p)
{
	struct seen *s = ctx;
	FUZZ_CHECK(p->name != NULL);
	FUZZ_CHECK(p->idx >= 0 && (size_t)p->idx <= s->size);
	if (!p->missing)
		FUZZ_CHECK(!isnan(p->value));
	(void)strlen(p->name);
	if (p->x_name)
		(void)strlen(p->x_name);
	s->n++;
	return 0;
}

static const char *const names[] = {"m.csv", "m.tsv", "m.jsonl", "m.ndjson", "m.json",
				    "metrics", "m.txt", "m.CSV"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *name = names[data[0] % (sizeof(names) / sizeof(names[0]))];
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	for (int fmt = MET_AUTO; fmt <= MET_JSON; fmt++) {
		struct cs_err err;
		err_clear(&err);
		struct seen s = {0, n};
		long got = metrics_parse(name, text, n, (enum metrics_format)fmt, on_point, &s, &err);
		if (got < 0)
			FUZZ_CHECK(err.msg[0] != '\0');
		else
			FUZZ_CHECK(got == s.n);
	}
	(void)artifact_sniff(name, text, n < 4096 ? n : 4096);
	return 0;
}
