/* f_junit.c - the JUnit XML parser (core/artifact.h) and the artifact
 * sniffer on arbitrary bytes.
 *
 * Properties: every case reported has a name and an outcome in range; the
 * count returned is the number of cases reported; a failure names itself.
 */
#include "fuzz.h"

#include "core/artifact.h"
#include "core/util.h"

static int on_case(void *ctx, const struct test_case *tc)
{
	long *n = ctx;
	FUZZ_CHECK(tc->name != NULL);
	FUZZ_CHECK(tc->outcome >= TEST_PASSED && tc->outcome <= TEST_FLAKY);
	FUZZ_CHECK(test_outcome_name(tc->outcome) != NULL);
	FUZZ_CHECK(tc->reruns >= 0);
	FUZZ_CHECK(tc->duration_ms >= -1);
	size_t len = strlen(tc->name);
	if (tc->details)
		len += strlen(tc->details);
	if (tc->message)
		len += strlen(tc->message);
	(void)len;
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_err err;
	err_clear(&err);
	long seen = 0;
	long n = junit_parse((const char *)data, size, on_case, &seen, &err);
	if (n < 0)
		FUZZ_CHECK(err.msg[0] != '\0');
	else
		FUZZ_CHECK(n == seen);
	(void)artifact_sniff("report.xml", (const char *)data, size < 4096 ? size : 4096);
	return 0;
}
