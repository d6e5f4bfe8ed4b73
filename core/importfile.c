/* importfile.c - a single log file as a run to import: a `gh run view --log`
 * file split into its jobs and steps, or any other log as one job (its
 * title from the file name). Private to the importer (import_int.h). */
#include "import_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logparse.h"
#include "logstore.h"
/* --- a single log file ------------------------------------------------------------------- */
/* `gh run view --log` (and `--log-failed`, and ciscope's own `log`) print
 * every line as job<TAB>step<TAB>line. A file is taken in that form only
 * when every line has both fields, each job's lines are together and the
 * third field looks like a log line of that form somewhere (a
 * runner timestamp, or ciscope's "UNKNOWN STEP"): a TSV file stays a plain
 * log. A bare CR inside a line ends a line for the store (a progress bar's
 * frames), so the spans count lines as the store will; raw output writes
 * no prefix after such a CR. Reads the file once, line by line: memory is
 * one line. */
struct gh_scan {
	struct job_src *jobs; /* only the gh_* fields and log names */
	char **names;
	int n, alloc;
	bool evidence;
};

static void gh_scan_free(struct gh_scan *g)
{
	for (int i = 0; i < g->n; i++) {
		for (int k = 0; k < g->jobs[i].n_gh_steps; k++)
			free(g->jobs[i].gh_steps[k].name);
		free(g->jobs[i].gh_steps);
		free(g->names[i]);
	}
	free(g->jobs);
	free(g->names);
	memset(g, 0, sizeof(*g));
}

static bool gh_scan_file(const char *path, const struct run_src *rs, struct gh_scan *g)
{
	FILE *f = rs->file_in_mem ? fmemopen(rs->file.data, rs->file.len, "rb") : fopen(path, "rb");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t off = 0;
	bool ok = true;
	memset(g, 0, sizeof(*g));
	while (ok && (n = getline(&line, &cap, f)) > 0) {
		size_t len = (size_t)n;
		const char *t1 = memchr(line, '\t', len);
		const char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
		if (!t2 || t1 == line) {
			ok = false;
			break;
		}
		/* the store's lines in this one: one more per bare CR that is
		 * not the line's end */
		size_t end = len;
		if (end && line[end - 1] == '\n')
			end--;
		if (end && line[end - 1] == '\r')
			end--;
		int64_t extra = 0;
		for (const char *p = t2 + 1; (p = memchr(p, '\r', (size_t)(line + end - p))) != NULL; p++)
			extra++;
		size_t jn = (size_t)(t1 - line), sn = (size_t)(t2 - t1 - 1);
		const char *rest = t2 + 1;
		size_t rn = len - (size_t)(rest - line);
		if (rn >= 3 && !memcmp(rest, "\xef\xbb\xbf", 3)) {
			rest += 3;
			rn -= 3;
		}
		bool stamped = rn >= 28 && logts_parse(rest, 28) >= 0;
		if (stamped || (sn == 12 && !memcmp(t1 + 1, "UNKNOWN STEP", 12)))
			g->evidence = true;
		/* the runner's word that a step failed (the step it is in) */
		static const char exit_word[] = "##[error]Process completed with exit code ";
		const size_t ew = sizeof(exit_word) - 1;
		const char *msg = stamped && rn > 28 && rest[28] == ' ' ? rest + 29 : rest;
		size_t mn = rn - (size_t)(msg - rest);
		bool exit_line = mn > ew && !memcmp(msg, exit_word, ew) && msg[ew] >= '1' &&
				 msg[ew] <= '9';
		struct job_src *j = g->n ? &g->jobs[g->n - 1] : NULL;
		if (!j || strlen(g->names[g->n - 1]) != jn || memcmp(g->names[g->n - 1], line, jn)) {
			for (int i = 0; i + 1 < g->n && ok; i++)
				if (strlen(g->names[i]) == jn && !memcmp(g->names[i], line, jn))
					ok = false; /* a job's lines must be together */
			if (!ok || g->n >= 1000) {
				ok = false;
				break;
			}
			if (g->n == g->alloc) {
				g->alloc = g->alloc ? g->alloc * 2 : 8;
				g->jobs = xrealloc(g->jobs, sizeof(*g->jobs) * (size_t)g->alloc);
				g->names = xrealloc(g->names, sizeof(char *) * (size_t)g->alloc);
			}
			j = &g->jobs[g->n];
			memset(j, 0, sizeof(*j));
			g->names[g->n++] = xstrndup(line, jn);
			j->gh = true;
			j->gh_off = off;
		}
		j->gh_len += len;
		int64_t lineno = j->n_gh_steps ? j->gh_steps[j->n_gh_steps - 1].last_line + 1 : 1;
		struct gh_step *st = j->n_gh_steps ? &j->gh_steps[j->n_gh_steps - 1] : NULL;
		if (!st || strlen(st->name) != sn || memcmp(st->name, t1 + 1, sn)) {
			if (j->n_gh_steps >= 10000) {
				ok = false;
				break;
			}
			j->gh_steps = xrealloc(j->gh_steps, sizeof(*j->gh_steps) *
							       (size_t)(j->n_gh_steps + 1));
			st = &j->gh_steps[j->n_gh_steps++];
			st->name = xstrndup(t1 + 1, sn);
			st->first_line = lineno;
		}
		st->last_line = lineno + extra;
		if (exit_line)
			j->gh_exit_line = lineno;
		off += len;
	}
	if (ok && (ferror(f) || !g->n || !g->evidence))
		ok = false;
	free(line);
	fclose(f);
	if (!ok)
		gh_scan_free(g);
	return ok;
}

/* The words of a log file's place that may say how it went: its parent
 * folder and its name ("astor_400/fail.log"), also the run's title. */
static char *log_file_title(const struct run_src *rs)
{
	const char *path = rs->path;
	char *real = import_source_path(rs);
	const char *p = real ? real : path;
	const char *base = path_basename(p);
	size_t dn = (size_t)(base - p);
	while (dn > 0 && p[dn - 1] == '/')
		dn--;
	size_t ps = dn;
	while (ps > 0 && p[ps - 1] != '/')
		ps--;
	char *t;
	if (dn > ps)
		t = xasprintf("%.*s/%s", (int)(dn - ps), p + ps, base);
	else
		t = xstrdup(base);
	free(real);
	return t;
}

/* A log file of 1 to IMPORT_FILE_MEM bytes read whole into b: 1; 0 when it
 * is larger (or empty, or not a regular file) and is read from the file;
 * -1 with *e the errno when it cannot be read. */
static int read_whole(const char *path, struct buf *b, int *e)
{
	buf_reset(b);
	/* O_NONBLOCK: a FIFO named like a log must not hang the reader (it
	 * is no regular file, and is not read here) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*e = errno;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (off_t)IMPORT_FILE_MEM) {
		close(fd);
		return 0;
	}
	/* one byte more than its size: a file that grew since is streamed */
	size_t want = (size_t)st.st_size + 1;
	buf_reserve(b, want);
	while (b->len < want) {
		ssize_t r = read(fd, b->data + b->len, want - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*e = errno;
			close(fd);
			buf_reset(b);
			return -1;
		}
		if (r == 0)
			break;
		b->len += (size_t)r;
	}
	close(fd);
	if (b->len == 0 || b->len > (size_t)st.st_size) {
		buf_reset(b);
		return 0;
	}
	return 1;
}

/* --- reading the next logs ahead --------------------------------------------------------- */
/* Many small logs: while one is parsed, triaged, compressed and stored,
 * a second thread reads the next logs of the folder whole and takes their
 * fingerprints (the same bytes and the same hash as reading them here: the
 * index does not change). It never touches SQLite. A bounded queue, in
 * folder order: at most IMPORT_AHEAD_FILES files, and no new read once
 * IMPORT_AHEAD_BYTES are waiting. The thread is woken as soon as a slot
 * is free: it compresses each log and builds its filters too (log_prep_make),
 * and woken only once half the queue was free it ran in lock-step with the
 * walk, which then waited for it (on a busy machine, twice the wall time). */
enum { SLOT_PENDING, SLOT_READING, SLOT_DONE };
struct ahead_slot {
	char *path; /* owned */
	int state;
	struct buf data;
	struct log_prep prep; /* data's chunk made ahead (logstore.h) */
	struct triage_prescan *pre; /* data's rules scan made ahead (triage.h) */
	int result, eno; /* read_whole()'s */
	uint64_t fp;
};
struct file_ahead {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_thread, cv_walk;
	bool stop, idle, walk_waits;
	struct ahead_slot slot[IMPORT_AHEAD_FILES];
	struct log_prep_ws *ws; /* the thread's for log_prep_make() */
	struct triage_prescan_ws *tws; /* the thread's for triage_prescan_make(), or NULL */
	int head, n;         /* the queue: n slots from head, in order */
	size_t done_bytes;   /* the bytes read and not taken */
};

static struct ahead_slot *ahead_at(struct file_ahead *a, int i)
{
	return &a->slot[(a->head + i) % IMPORT_AHEAD_FILES];
}

/* the first slot still to be read, or NULL (under a->mu) */
static struct ahead_slot *ahead_pending(struct file_ahead *a, int *pending)
{
	struct ahead_slot *first = NULL;
	int c = 0;
	for (int i = 0; i < a->n; i++) {
		struct ahead_slot *s = ahead_at(a, i);
		if (s->state == SLOT_PENDING) {
			if (!first)
				first = s;
			c++;
		}
	}
	if (pending)
		*pending = c;
	return first;
}

static void *ahead_main(void *arg)
{
	struct file_ahead *a = arg;
	/* before the first slot is read: the walk waits for that slot */
	a->tws = triage_prescan_ws_new();
	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct ahead_slot *s = ahead_pending(a, NULL);
		if (!s || a->done_bytes >= IMPORT_AHEAD_BYTES) {
			a->idle = true;
			pthread_cond_wait(&a->cv_thread, &a->mu);
			a->idle = false;
			continue;
		}
		s->state = SLOT_READING;
		const char *path = s->path;
		pthread_mutex_unlock(&a->mu);
		int e = 0;
		int r = read_whole(path, &s->data, &e);
		uint64_t fp = r == 1 ? import_mem_fingerprint(s->data.data, s->data.len) : 0;
		/* a log of one chunk is compressed here too, off the thread
		 * that parses and stores (used only if the log is those bytes) */
		if (r == 1) {
			/* and scanned with the rules in the same split, as
			 * triage would when it judges the log (used only if the
			 * log is those bytes) */
			bool scan = a->tws != NULL;
			if (scan)
				triage_prescan_begin(a->tws, s->pre);
			log_prep_make_also(a->ws, s->data.data, s->data.len, &s->prep,
					   scan ? triage_prescan_line : NULL, a->tws);
			if (scan)
				triage_prescan_end(a->tws, s->prep.ok, s->prep.n_lines,
						   s->data.len);
			else
				triage_prescan_clear(s->pre);
		} else {
			log_prep_clear(&s->prep);
			triage_prescan_clear(s->pre);
		}
		pthread_mutex_lock(&a->mu);
		s->result = r;
		s->eno = e;
		s->fp = fp;
		s->state = SLOT_DONE;
		a->done_bytes += s->data.len;
		if (a->walk_waits)
			pthread_cond_signal(&a->cv_walk);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static void slot_drop(struct file_ahead *a, struct ahead_slot *s)
{
	if (s->state == SLOT_DONE)
		a->done_bytes -= s->data.len;
	/* a big file's buffer goes: the queue's memory stays that of what
	 * it holds (a folder of small logs reuses its buffers) */
	if (s->data.alloc > IMPORT_AHEAD_KEEP)
		buf_release(&s->data);
	else
		buf_reset(&s->data);
	log_prep_clear(&s->prep);
	triage_prescan_clear(s->pre);
	free(s->path);
	s->path = NULL;
	s->state = SLOT_PENDING;
}

/* Queue the walk's next logs (im->next_logs) behind those queued, and wake
 * the thread when it sleeps and a file waits (under a->mu). */
static void ahead_feed(struct importer *im, struct file_ahead *a)
{
	int from = 0;
	/* the queue is a prefix of the walk's order: skip what it holds */
	if (a->n > 0) {
		const char *last = ahead_at(a, a->n - 1)->path;
		from = -1;
		for (int i = 0; i < im->n_next_logs && from < 0; i++)
			if (!strcmp(im->next_logs[i], last))
				from = i + 1;
		if (from < 0)
			from = im->n_next_logs; /* another order: nothing added */
	}
	for (int i = from; i < im->n_next_logs && a->n < IMPORT_AHEAD_FILES; i++) {
		struct ahead_slot *s = ahead_at(a, a->n++);
		s->path = xstrdup(im->next_logs[i]);
		s->state = SLOT_PENDING;
	}
	if (a->idle && ahead_pending(a, NULL))
		pthread_cond_signal(&a->cv_thread);
}

/* Start the thread when there are logs to read ahead; false when none can
 * be had. */
static bool ahead_start(struct importer *im)
{
	if (im->ahead)
		return true;
	if (!im->n_next_logs)
		return false;
	struct file_ahead *a = xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv_thread, NULL);
	pthread_cond_init(&a->cv_walk, NULL);
	for (int i = 0; i < IMPORT_AHEAD_FILES; i++) {
		buf_init(&a->slot[i].data);
		a->slot[i].pre = triage_prescan_new();
	}
	a->ws = log_prep_ws_new();
	/* a->tws: made by the thread (its rules loaded there, while this
	 * thread loads triage's own) */
	/* the reader takes no signal: Ctrl-C reaches the main thread */
	if (thread_start_quiet(&a->th, ahead_main, a) != 0) {
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv_thread);
		pthread_cond_destroy(&a->cv_walk);
		for (int i = 0; i < IMPORT_AHEAD_FILES; i++)
			triage_prescan_free(a->slot[i].pre);
		triage_prescan_ws_free(a->tws);
		log_prep_ws_free(a->ws);
		free(a);
		return false;
	}
	im->ahead = a;
	return true;
}

/* Wait until the thread reads no slot (under a->mu). */
static void ahead_quiesce(struct file_ahead *a)
{
	for (;;) {
		bool reading = false;
		for (int i = 0; i < a->n; i++)
			if (ahead_at(a, i)->state == SLOT_READING)
				reading = true;
		if (!reading)
			return;
		a->walk_waits = true;
		pthread_cond_wait(&a->cv_walk, &a->mu);
		a->walk_waits = false;
	}
}

/* What the thread read of path into rs->file: read_whole()'s result and the
 * fingerprint; -2 when path is not at the head of the queue (the queue is
 * then emptied: the walk went another way). Then the walk's next logs are
 * queued. */
static int ahead_take(struct importer *im, const char *path, struct run_src *rs, uint64_t *fp,
		      struct cs_err *err)
{
	if (!ahead_start(im))
		return -2;
	struct file_ahead *a = im->ahead;
	int r = -2;
	pthread_mutex_lock(&a->mu);
	if (a->n > 0 && !strcmp(ahead_at(a, 0)->path, path)) {
		struct ahead_slot *s = ahead_at(a, 0);
		if (s->state == SLOT_PENDING && a->idle)
			pthread_cond_signal(&a->cv_thread);
		while (s->state != SLOT_DONE) {
			a->walk_waits = true;
			pthread_cond_wait(&a->cv_walk, &a->mu);
			a->walk_waits = false;
		}
		r = s->result;
		*fp = s->fp;
		a->done_bytes -= s->data.len;
		s->state = SLOT_PENDING; /* its bytes are counted off */
		struct buf t = rs->file;
		rs->file = s->data;
		s->data = t;
		struct log_prep tp = rs->file_prep;
		rs->file_prep = s->prep;
		s->prep = tp;
		if (!rs->file_pre)
			rs->file_pre = triage_prescan_new();
		struct triage_prescan *tpre = rs->file_pre;
		rs->file_pre = s->pre;
		s->pre = tpre;
		if (r < 0)
			err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(s->eno));
		slot_drop(a, s);
		a->head = (a->head + 1) % IMPORT_AHEAD_FILES;
		a->n--;
	} else if (a->n > 0) {
		ahead_quiesce(a);
		for (int i = 0; i < a->n; i++)
			slot_drop(a, ahead_at(a, i));
		a->n = 0;
		a->head = 0;
	}
	ahead_feed(im, a);
	pthread_mutex_unlock(&a->mu);
	return r;
}

void import_next_logs_clear(struct importer *im)
{
	for (int i = 0; i < im->n_next_logs; i++)
		free(im->next_logs[i]);
	im->n_next_logs = 0;
}

void import_ahead_free(struct importer *im)
{
	struct file_ahead *a = im->ahead;
	import_next_logs_clear(im);
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv_thread);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv_thread);
	pthread_cond_destroy(&a->cv_walk);
	for (int i = 0; i < IMPORT_AHEAD_FILES; i++) {
		buf_release(&a->slot[i].data);
		log_prep_release(&a->slot[i].prep);
		triage_prescan_free(a->slot[i].pre);
		free(a->slot[i].path);
	}
	log_prep_ws_free(a->ws);
	triage_prescan_ws_free(a->tws);
	free(a);
	im->ahead = NULL;
}

int import_load_log_file(struct importer *im, const char *path, struct run_src *rs,
			 struct cs_err *err)
{
	size_t alloc = 0;
	uint64_t h = 0;
	log_prep_clear(&rs->file_prep);
	triage_prescan_clear(rs->file_pre);
	int whole = ahead_take(im, path, rs, &h, err);
	if (whole == -2) {
		int e = 0;
		whole = read_whole(path, &rs->file, &e);
		if (whole < 0)
			err_set(err, CS_EIO, "cannot read '%s': %s", path, strerror(e));
		else if (whole)
			h = import_mem_fingerprint(rs->file.data, rs->file.len);
	}
	if (whole < 0)
		return -1;
	rs->file_in_mem = whole == 1;
	if (!whole && import_file_fingerprint(path, &h, err) < 0)
		return -1;
	rs->provider_id = import_content_id(h);
	rs->latest_attempt = rs->zip_attempt = 1;
	rs->slug = xstrdup("local");
	rs->log_alone = true;
	free(rs->label);
	rs->label = log_file_title(rs);
	import_sig_add_stat(&rs->sig, path, rs->st);
	rs->jobs_doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(rs->jobs_doc, "jobs");
	struct gh_scan g;
	if (gh_scan_file(path, rs, &g)) {
		buf_adds(&rs->sig, "gh-log;");
		for (int i = 0; i < g.n; i++) {
			/* "UNKNOWN STEP" (gh's and ciscope's word for lines of no
			 * step) is no step: raw output writes it where none is */
			struct job_src *gj = &g.jobs[i];
			int kept = 0;
			for (int k = 0; k < gj->n_gh_steps; k++) {
				if (!strcmp(gj->gh_steps[k].name, "UNKNOWN STEP"))
					free(gj->gh_steps[k].name);
				else
					gj->gh_steps[kept++] = gj->gh_steps[k];
			}
			gj->n_gh_steps = kept;
			cJSON *jo = cJSON_CreateObject();
			cJSON_AddStringToObject(jo, "name", g.names[i]);
			cJSON *steps = cJSON_AddArrayToObject(jo, "steps");
			for (int k = 0; k < g.jobs[i].n_gh_steps; k++) {
				cJSON *so = cJSON_CreateObject();
				cJSON_AddNumberToObject(so, "number", k + 1);
				cJSON_AddStringToObject(so, "name", g.jobs[i].gh_steps[k].name);
				cJSON_AddStringToObject(so, "status", "completed");
				cJSON_AddItemToArray(steps, so);
			}
			cJSON_AddItemToArray(arr, jo);
			struct job_src *js = import_add_job(rs, &alloc);
			js->json = jo;
			js->name = import_jstr(jo, "name");
			js->provider_id = i + 1;
			js->attempt = 1;
			js->log_file = xstrdup(path);
			js->gh = true;
			js->gh_off = g.jobs[i].gh_off;
			js->gh_len = g.jobs[i].gh_len;
			js->gh_steps = g.jobs[i].gh_steps;
			js->n_gh_steps = g.jobs[i].n_gh_steps;
			js->gh_exit_line = g.jobs[i].gh_exit_line;
			g.jobs[i].gh_steps = NULL;
			g.jobs[i].n_gh_steps = 0;
		}
		gh_scan_free(&g);
		return 0;
	}
	cJSON *jo = cJSON_CreateObject();
	const char *b = path_basename(path);
	size_t n = strlen(b);
	if (str_ends(b, ".txt") || str_ends(b, ".log"))
		n -= 4;
	char *name = xstrndup(b, n ? n : strlen(b));
	cJSON_AddStringToObject(jo, "name", name);
	free(name);
	cJSON_AddItemToArray(arr, jo);
	struct job_src *js = import_add_job(rs, &alloc);
	js->json = jo;
	js->name = import_jstr(jo, "name");
	js->provider_id = 1;
	js->attempt = 1;
	js->log_file = xstrdup(path);
	return 0;
}
