/* f_log.c - the log splitter and the line parser (core/logparse.h), the
 * searchable-text function (core/logstore.h) and the rules' view of a line
 * (core/rules.h) on arbitrary bytes.
 *
 * Properties: the lines tile the input exactly (offsets contiguous, the
 * terminators accounted for, heads equal to the input's bytes); feeding the
 * same bytes in pieces of any size gives the same lines; the parsed parts of
 * a line lie inside it; a parsed timestamp round-trips.
 */
#include "fuzz.h"

#include "core/logparse.h"
#include "core/logstore.h"
#include "core/rules.h"
#include "core/util.h"

struct rec {
	const uint8_t *data;
	size_t size;
	uint64_t next_off;
	uint64_t lines;
	uint64_t sum; /* a digest of every line, to compare two feeds */
	struct buf scratch, text;
	bool in_header;
	bool parse;
};

static size_t term_len(enum line_term t)
{
	return t == TERM_CRLF ? 2 : t == TERM_NONE ? 0 : 1;
}

static int on_line(void *ctx, const struct split_line *l)
{
	struct rec *r = ctx;
	FUZZ_CHECK(l->lineno == r->lines + 1);
	FUZZ_CHECK(l->off == r->next_off);
	FUZZ_CHECK(l->off + l->len + term_len(l->term) <= r->size);
	FUZZ_CHECK(l->head_len == (l->len < SPLIT_HEAD_MAX ? l->len : SPLIT_HEAD_MAX));
	FUZZ_CHECK(l->head_len == 0 || memcmp(l->head, r->data + l->off, l->head_len) == 0);
	/* the terminator is really there, and the line holds none */
	const uint8_t *end = r->data + l->off + l->len;
	switch (l->term) {
	case TERM_LF: FUZZ_CHECK(end[0] == '\n'); break;
	case TERM_CRLF: FUZZ_CHECK(end[0] == '\r' && end[1] == '\n'); break;
	case TERM_CR: FUZZ_CHECK(end[0] == '\r'); break;
	case TERM_NONE: FUZZ_CHECK(l->off + l->len == r->size); break;
	}
	FUZZ_CHECK(!memchr(l->head, '\n', l->head_len) && !memchr(l->head, '\r', l->head_len));
	r->next_off = l->off + l->len + term_len(l->term);
	r->lines++;
	r->sum = r->sum * 1000003u + l->off * 31u + l->len * 7u + (uint64_t)l->term;

	if (!r->parse)
		return 0;
	struct logline ll;
	logline_parse(l->head, l->head_len, &ll);
	const char *lo = l->head, *hi = l->head + l->head_len;
	FUZZ_CHECK(ll.text >= lo && ll.text + ll.text_len <= hi);
	if (ll.kind != LINE_PLAIN && ll.msg)
		FUZZ_CHECK(ll.msg >= lo && ll.msg + ll.msg_len <= hi);
	FUZZ_CHECK(ll.kind >= LINE_PLAIN && ll.kind < LINE_KIND_COUNT);
	FUZZ_CHECK(line_kind_name(ll.kind) != NULL);
	if (ll.has_ts) {
		FUZZ_CHECK(ll.ts >= lo && ll.ts + 28 <= hi);
		FUZZ_CHECK(logts_parse(ll.ts, 28) == ll.ts_us);
	}
	buf_reset(&r->text);
	ansi_strip(l->head, l->head_len, &r->text);
	FUZZ_CHECK(r->text.len <= l->head_len);
	const char *t;
	size_t tn;
	log_search_text(l->head, l->head_len, &t, &tn, &r->scratch);
	FUZZ_CHECK(t != NULL || tn == 0);
	bool skip = false;
	int marker = 0;
	buf_reset(&r->text);
	rules_line_text(l->head, l->head_len, &r->in_header, &skip, &marker, &r->text);
	FUZZ_CHECK(marker >= 0 && marker <= 2);
	return 0;
}

static void run(struct rec *r, const uint8_t *data, size_t size, size_t piece, bool parse)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->size = size;
	r->parse = parse;
	struct splitter *sp = malloc(sizeof(*sp));
	if (!sp)
		abort();
	splitter_init(sp, on_line, r);
	for (size_t off = 0; off < size;) {
		size_t n = size - off < piece ? size - off : piece;
		FUZZ_CHECK(splitter_feed(sp, data + off, n) == 0);
		off += n;
	}
	FUZZ_CHECK(splitter_finish(sp) == 0);
	FUZZ_CHECK(r->next_off == size);
	free(sp);
	buf_release(&r->scratch);
	buf_release(&r->text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec whole, pieces;
	run(&whole, data, size, size ? size : 1, true);
	/* pieces of 1..16 bytes, chosen by the input itself: CRLF cut in two,
	 * a BOM or a timestamp split across feeds */
	size_t piece = size ? (size_t)(data[size / 2] % 16) + 1 : 1;
	run(&pieces, data, size, piece, false);
	FUZZ_CHECK(whole.lines == pieces.lines);
	FUZZ_CHECK(whole.sum == pieces.sum);

	/* SGR parameters and timestamps straight from the input */
	struct ansi_attr a;
	ansi_attr_reset(&a);
	ansi_apply_sgr(&a, (const char *)data, size < 256 ? size : 256);
	FUZZ_CHECK(a.fg >= ANSI_DEFAULT && a.fg <= 255 && a.bg >= ANSI_DEFAULT && a.bg <= 255);
	(void)logts_parse((const char *)data, size);
	return 0;
}
