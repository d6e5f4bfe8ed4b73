/* rulesint.h - what core/rules.c and core/ruleprefilter.c share: a rule's
 * compiled patterns, the prefilter's tables and the rule set. Internal to
 * those two files; everyone else uses rules.h. */
#ifndef CISCOPE_RULESINT_H
#define CISCOPE_RULESINT_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

struct rule_pat {
	char *src;
	pcre2_code *re; /* read only once made: matched by several threads */
	uint32_t pairs; /* its captures + 1: what its match data holds */
	/* what PCRE2 checks before it starts matching, read from it once (see
	 * rule_pat_match): a match is at least minlen characters, so bytes,
	 * long; when anchored, one of the bytes set in first starts it */
	uint32_t minlen;
	bool anchored;
	uint8_t first[32];
	/* the prefilter (`match` patterns only): any match contains one of
	 * lits (lower case); a pattern without them is always tried */
	int id;
	char **lits;
	int n_lits;
};

/* Aho-Corasick over the literals of every `match` pattern, as a DFA over
 * byte classes (ASCII case folded): one table lookup per byte of a line
 * says which patterns can match it at all. Most lines of a log match no
 * rule, and this spares them a hundred regex calls. */
struct prefilter {
	int n_states, n_classes;
	int max_lit;       /* bytes of the longest literal */
	unsigned *delta;   /* n_states x n_classes: the next state's row offset */
	unsigned out_min;  /* the states from this row offset on have outputs */
	unsigned char cls[256];
	int *out_start;    /* CSR: patterns whose literal ends in a state */
	int *out_ids;
	int n_pats;        /* `match` patterns in the set */
	int n_gated;
	int *pat_rule;     /* pattern id -> rule index */
	int *always;       /* rules with a pattern that has no literal, in order */
	int n_always;
};

struct ruleset {
	struct rule *rules;
	int n;
	size_t alloc;
	uint64_t hash;
	pcre2_match_context *mctx;
	struct prefilter pf;
	uint32_t max_pairs; /* the most of any pattern: a scanner's match data */
	bool no_prefilter;
	bool no_jit;
};

/* The literals one of which every match of pat contains (pat->lits; none
 * when the pattern is not understood: it is then always tried). */
void rule_pat_find_literals(struct rule_pat *pat);
/* Build rs->pf from the literals of its `match` patterns (numbering them). */
void rules_prefilter_build(struct ruleset *rs);
void rules_prefilter_free(struct prefilter *pf);

#endif
