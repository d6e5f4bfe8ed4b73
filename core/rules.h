/* rules.h - triage rules: data, ordered, first match wins.
 *
 * A rules file (data/rules.conf is compiled in; a repository adds its own,
 * see triage.h) is a list of blocks:
 *
 *   rule rustc-error                       an id: letters, digits, . _ -
 *     category  compile                    see enum rule_cat
 *     severity  error                      error (default) or warning
 *     explain   rustc rejected the code    one line, shown beside findings
 *     match     ^error(\[E\d{4}\])?:       PCRE2; several: any of them
 *     unless    ^error: aborting           the line is no match if this matches too
 *     continue  ^\s+(-->|\||=)|^(note|help)\b
 *                                          following lines that match belong to
 *                                          the finding (a traceback, notes)
 *     until     ^\S                        after the continuation: a line that
 *                                          matches ends the finding and belongs
 *                                          to it; without `continue`, every line
 *                                          up to it belongs to the finding
 *     back      ^\s{4}\S                   preceding lines that match belong to
 *                                          the finding (output printed before
 *                                          the verdict line)
 *     refine    CATEGORY REGEX             the finding takes CATEGORY when one of
 *                                          its lines matches (first refine wins)
 *     key       start | end | REGEX        the lines the fingerprint is made of:
 *                                          the matching line (default), the last
 *                                          line, or the finding's lines matching
 *     context   2 1                        lines shown before and after
 *     max       40                         the longest finding, in lines
 *     show      head | tail                which end of a long finding to show
 *     weak                                 a generic line ("exit code 1"): shown
 *                                          only when nothing more telling is found
 *
 * Blank lines and lines starting with '#' are ignored; a value runs to the
 * end of its line (trailing blanks dropped: write [ ] for a final space).
 * Patterns see a log line's text with its timestamp, BOM and escape
 * sequences removed (and the "job<TAB>step<TAB>" prefix of `gh run view
 * --log` output), marker included: "##[error]Process completed ...".
 * Lines of a step's script echo (inside "##[group]Run ...") and ##[group],
 * ##[endgroup], ##[command] lines are never matched.
 *
 * A finding whose rule is not about infrastructure takes the category of
 * the first infrastructure rule (network, runner, disk, oom, timeout,
 * infrastructure; not weak) matching one of its lines, unless a `refine` of
 * its own matched first: a traceback ending in "ConnectionError: ...
 * Connection reset by peer" is a network failure, a Maven goal that failed
 * with "No space left on device" a full disk. So toolchain rules, which know
 * how far a failure goes, come before the infrastructure ones.
 *
 * Loading errors name the file, the line and the rule:
 *   rules.conf:12: rule 'rustc-error': bad regular expression in 'match':
 *   missing closing parenthesis at offset 14
 */
#ifndef CS_RULES_H
#define CS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum rule_cat {
	CAT_COMPILE,
	CAT_TEST,
	CAT_LINT,
	CAT_PARITY,
	CAT_CRASH,          /* segfault, sanitizer report, abort */
	CAT_DEPENDENCY,     /* package resolution, version conflicts */
	CAT_CONFIG,         /* workflow or credentials misconfigured */
	CAT_UNKNOWN,
	CAT_CANCELLED,
	CAT_NETWORK,
	CAT_RUNNER,
	CAT_DISK,
	CAT_OOM,
	CAT_TIMEOUT,
	CAT_INFRASTRUCTURE, /* other machinery: docker daemon, registry, cloud */
	CAT_IGNORE,         /* a line that must never be a finding */
	CAT_COUNT
};

/* What a maintainer does next about a category. */
enum decision { DECIDE_FIX, DECIDE_INVESTIGATE, DECIDE_RETRY };

const char *rule_category_name(int cat);     /* "compile", ... */
int rule_category_parse(const char *s);      /* -1 when unknown */
enum decision rule_category_decision(int cat);
const char *decision_name(enum decision d);  /* "fix", "investigate", "retry" */
const char *decision_text(enum decision d);  /* "fix the code", ... */
/* "fix the code", "investigate", "retry / escalate": at most 16 columns,
 * for a list's column. */
const char *decision_label(enum decision d);
/* The decision a category (by name; unknown or NULL: "unknown") calls for. */
enum decision decision_of_category(const char *category);
/* network, runner, disk, oom, timeout, infrastructure */
bool rule_category_is_infra(int cat);

struct rule_pat;

struct rule {
	char *id;
	int category;
	bool warning;   /* severity warning (else error) */
	bool weak;
	char *explain;
	char *origin;   /* file the rule came from */
	int line;       /* line of its `rule` keyword */
	struct rule_pat *match, *unless, *back, *cont, *until, *key, *refine;
	int n_match, n_unless, n_back, n_cont, n_until, n_key, n_refine;
	int *refine_cat;
	bool key_start, key_end;
	int before, after, max;
	bool show_tail;
};

struct ruleset;

struct ruleset *ruleset_new(void);
void ruleset_free(struct ruleset *rs);
/* Add the rules of text (named origin in errors) after those already there.
 * On error nothing of text is added. */
int ruleset_add_text(struct ruleset *rs, const char *origin, const char *text, size_t n,
		     struct cs_err *err);
int ruleset_add_file(struct ruleset *rs, const char *path, struct cs_err *err);
/* The compiled-in rules (data/rules.conf) in a new set. */
struct ruleset *ruleset_builtin(struct cs_err *err);
int ruleset_count(const struct ruleset *rs);
const struct rule *ruleset_rule(const struct ruleset *rs, int i);
const struct rule *ruleset_find(const struct ruleset *rs, const char *id);
/* A hash of every text added, in order: part of the triage cache version. */
uint64_t ruleset_hash(const struct ruleset *rs);

/* --- scanning a log ---------------------------------------------------------- */
#define RSCAN_RING 32        /* lines remembered for `back` */
#define RSCAN_TEXT_MAX 2048  /* bytes of a line the rules see beyond the head */
#define RSCAN_KEY_MAX 512    /* bytes of a key line kept */
#define RSCAN_KEYS 4         /* key lines of a finding */

struct rule_hit {
	const struct rule *rule;
	int category;          /* the rule's, or refined (see above) */
	const struct rule *refined_by; /* the infrastructure rule that refined it */
	uint64_t first, last;  /* 1-based, inclusive */
	uint64_t trigger;      /* the line that matched */
	int marker;            /* the trigger is an ##[error] (1) or ##[warning] (2) line */
	int n_keys;
	const char *keys[RSCAN_KEYS];   /* NUL-terminated, capped at RSCAN_KEY_MAX - 1 */
	size_t key_lens[RSCAN_KEYS];
	const char *title;     /* the trigger line's text (capped, NUL-terminated) */
	size_t title_len;
};
/* Called for each finding when it is complete; non-zero stops the scan. */
typedef int (*rule_hit_cb)(void *ctx, const struct rule_hit *h);

struct rscan;

struct rscan *rscan_new(const struct ruleset *rs, rule_hit_cb cb, void *ctx);
void rscan_free(struct rscan *s);
/* Feed the raw lines of a log in order (a splitter head is enough). */
int rscan_line(struct rscan *s, uint64_t lineno, const char *raw, size_t n);
/* End of the log: closes the open finding. */
int rscan_finish(struct rscan *s);

/* The text rules see for a raw line (appended to out); *skip is set for the
 * lines that are never matched (script echo, group markers, commands),
 * *marker to 1 for an ##[error] line, 2 for ##[warning], else 0. The
 * caller keeps the group state in *in_header between lines (start false). */
void rules_line_text(const char *raw, size_t n, bool *in_header, bool *skip, int *marker,
		     struct buf *out);

/* Does pattern p of a rule match text? (for `rules test` and tests) */
bool rule_pat_match(const struct rule_pat *p, const char *text, size_t n);
const char *rule_pat_source(const struct rule_pat *p);

/* The prefilter. Each `match` pattern is read for literals one of which any
 * match must contain (case folded; "connection " in "connection
 * (?:reset|refused)"); all of them go into one Aho-Corasick automaton run
 * over each line, and a pattern is tried only on lines holding one of its
 * literals. A pattern the reading does not understand has none and is
 * always tried. Off, every pattern is tried on every line (tests compare). */
int rule_pat_literals(const struct rule_pat *p, const char *const **lits);
/* The i-th `match` pattern of r. */
const struct rule_pat *rule_match_pat(const struct rule *r, int i);
void ruleset_use_prefilter(struct ruleset *rs, bool on);
/* Off, scanners made from then on match with PCRE2's interpreter (tests:
 * it keeps its backtracking in the match data, so scanners sharing one
 * would go wrong). */
void ruleset_use_jit(struct ruleset *rs, bool on);
/* `match` patterns, and how many of them the prefilter can skip. */
void ruleset_prefilter_stats(const struct ruleset *rs, int *patterns, int *gated);

/* The config language's line reader, shared by the rules and parity.conf:
 * lines end at LF (a CR before it and blanks around are trimmed); blank
 * lines and lines starting with '#' are skipped; with word_comments, a '#'
 * starting a word also ends the line (for files whose values never hold
 * '#'; rules' regexes may). Each other line reaches fn as its first word and
 * the rest, both writable. *line counts every line read (for messages).
 * Stops at fn's first nonzero return and returns it; 0 at the end. */
typedef int (*conf_line_fn)(void *ctx, char *kw, char *rest);
int rules_conf_read_lines(const char *text, size_t n, bool word_comments, int *line, conf_line_fn fn,
		    void *ctx);

#endif
