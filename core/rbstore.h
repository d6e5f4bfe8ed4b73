/* rbstore.h - runbooks in the index: instances, their event log, the
 * variables the index answers, and where runbooks are found.
 *
 * Every runbook instance is a row of runbook_instances with an append-only
 * list of runbook_events (migration 4 in store.c; triggers refuse UPDATE and
 * DELETE). An instance's state is derived from its events, never stored:
 *   finished / aborted / stopped   its last lifecycle event says so;
 *   running      its owner (the pid and host of the last started/resumed
 *                event) is alive;
 *   interrupted  otherwise: ciscope went away (killed, crashed, the machine
 *                rebooted) without recording an end.
 * Resume starts at the first step without a success event (step-end with
 * status ok, manual or background, or a skip).
 *
 * Outputs are redacted by the caller (runbook_redact) and stored here as a
 * zstd frame; output_size keeps how much the command printed in all.
 */
#ifndef CS_RBSTORE_H
#define CS_RBSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "runbook.h"
#include "store.h"
#include "util.h"

#define RB_NO_EXIT INT32_MIN

struct rb_event {
	int64_t seq;
	int64_t at;
	char *kind;
	int step;            /* 0: about the instance */
	char *step_name;
	int attempt;         /* 0 when not an attempt */
	char *command;
	int exit;            /* RB_NO_EXIT when none */
	int64_t duration_ms; /* CS_TIME_NONE when none */
	char *status;
	char *output;        /* decompressed; NULL when none */
	size_t output_len;
	int64_t output_size; /* bytes printed in all; -1 when none */
	char *vars;          /* JSON object text, or NULL */
	char *text;
	char *by;
	int64_t pid;
	char *host;
};

struct rb_instance {
	int64_t id;
	char *runbook, *path, *hash, *title;
	char *source;        /* the runbook's text as run */
	size_t source_len;
	char *steps;         /* "ident name\n" per step */
	int64_t started_at;
	char *started_by;
	char *head_sha, *repo;
	int64_t bound_run;   /* 0: none */
	int bound_attempt;
	char *bound_sha, *bound_url;
	char *mode;
	char state[16];      /* finished, aborted, stopped, running, interrupted */
};

/* The "ident name" lines of rb's steps (what resume compares). */
void rbstore_step_list(const struct runbook *rb, struct buf *out);

/* Create an instance (inst->id is set); text: the runbook's bytes. */
int rbstore_create(struct store *st, struct rb_instance *inst, const char *text, size_t n,
		   struct cs_err *err);
/* Append an event (its seq and, when 0, its time are set here). */
int rbstore_append(struct store *st, int64_t instance_id, struct rb_event *ev,
		   struct cs_err *err);
/* An instance and (when evs is not NULL) its events in order. */
int rbstore_get(struct store *st, int64_t id, struct rb_instance *inst, struct rb_event **evs,
		int *n, struct cs_err *err);
/* Instances, newest first (limit 0: all). */
typedef int (*rb_instance_cb)(void *ctx, const struct rb_instance *inst, int n_events,
			      int64_t last_at);
int rbstore_list(struct store *st, int limit, rb_instance_cb cb, void *ctx, struct cs_err *err);
void rb_instance_free(struct rb_instance *inst);
void rb_events_free(struct rb_event *evs, int n);

/* What the events say: the state (as above), and per step (n_steps of
 * them, 1-based index): 0 pending, 1 done, 2 failed, 3 skipped,
 * 4 interrupted (started, never ended). */
enum rb_step_state { RBS_PENDING = 0, RBS_DONE, RBS_FAILED, RBS_SKIPPED, RBS_INTERRUPTED };
void rbstore_state(const struct rb_instance *inst, const struct rb_event *evs, int n, char *state,
		   size_t cap);
void rbstore_step_states(const struct rb_event *evs, int n, int n_steps, enum rb_step_state *out);
/* The first step without a success (1-based), n_steps + 1 when all are. */
int rbstore_resume_step(const struct rb_event *evs, int n, int n_steps);
/* The step started last whose end was never recorded, or 0. */
int rbstore_open_step(const struct rb_event *evs, int n);

/* --- the index's variables ------------------------------------------------------------ */
/* What the resolver of an instance knows; filled lazily, owned here. */
struct rb_index_ctx {
	struct store *st;
	int64_t instance_id;
	const char *checkout;   /* top of the git checkout, or NULL */
	struct run bound;       /* --bind RUN, or the run picked for failing_* */
	bool have_bound;
	const char *workflows;  /* comma-separated workflow names for last_green; NULL: the
				   failing run's, else all */
	char *cache_failing;    /* internal */
};
/* rb_resolver for struct rb_index_ctx. Names: repository, default_branch,
 * failing_run, failing_sha, failing_job, failing_workflow, failing_branch,
 * failing_url, triage_summary, baseline_run, baseline_sha, last_green_run,
 * last_green_sha, head_sha, checkout, runbook_id. */
int rb_index_resolve(void *ctx, const char *name, struct buf *out, struct cs_err *err);
extern const char *const rb_index_names[]; /* NULL-terminated, with a line of help each */
extern const char *const rb_index_help[];
void rb_index_ctx_release(struct rb_index_ctx *c);

/* --- where runbooks are --------------------------------------------------------------- */
struct rb_source {
	char *name;
	char *path;     /* builtin:NAME or a file */
	char *title;    /* from the file (the name when it does not parse) */
	char *error;    /* parse error, or NULL */
	bool builtin;
	bool overrides; /* a repository runbook hiding a builtin of the same name */
};
/* The bundled runbooks and those of dir/.ciscope/runbooks/NAME.md (dir: the
 * checkout's top; NULL: none), sorted by name. */
int rb_sources(const char *dir, struct rb_source **out, int *n, struct cs_err *err);
void rb_sources_free(struct rb_source *s, int n);
/* Load a runbook by name (repository first, then bundled) or by path (it
 * contains a '/' or ends in .md); *text gets its bytes (caller frees). */
int rb_load(const char *dir, const char *spec, struct runbook *rb, char **text, size_t *n,
	    struct cs_err *err);

#endif
