/* f_zip.c - reading hostile zip archives (core/ziparc.h) from memory.
 *
 * Properties: an entry is flagged unsafe exactly when its name is not safe;
 * a read never yields more than the limit asked for; a failed open or read
 * names the problem.
 */
#include "fuzz.h"

#include "core/util.h"
#include "core/ziparc.h"

#define MAX_OUT (4u << 20)

struct sink {
	uint64_t n;
};

static int on_data(void *ctx, const void *data, size_t n)
{
	struct sink *s = ctx;
	FUZZ_CHECK(data != NULL || n == 0);
	s->n += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_err err;
	err_clear(&err);
	struct ziparc *z = ziparc_open_mem(data, size, "fuzz.zip", &err);
	if (!z) {
		FUZZ_CHECK(err.msg[0] != '\0');
		return 0;
	}
	uint64_t n = ziparc_count(z);
	for (uint64_t i = 0; i < n && i < 64; i++) {
		struct zip_entry e;
		err_clear(&err);
		if (ziparc_entry(z, i, &e, &err) < 0) {
			FUZZ_CHECK(err.msg[0] != '\0');
			continue;
		}
		FUZZ_CHECK(e.name != NULL);
		FUZZ_CHECK(e.unsafe == !ziparc_name_safe(e.name));
		(void)ziparc_entry_junk(e.name);
		if (e.is_dir)
			continue;
		/* a small limit on odd entries, the normal one on the others */
		uint64_t max = (i & 1) ? 100 : MAX_OUT;
		struct sink s = {0};
		err_clear(&err);
		if (ziparc_stream(z, i, max, on_data, &s, &err) < 0)
			FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(s.n <= max);
		struct buf b = BUF_INIT;
		err_clear(&err);
		if (ziparc_read(z, i, max, &b, &err) == 0)
			FUZZ_CHECK(b.len <= max);
		buf_release(&b);
	}
	ziparc_close(z);
	return 0;
}
