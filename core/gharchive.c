/* gharchive.c - the names GitHub gives jobs and steps inside a run's log
 * archive (github.h): which archive entry is which job's log. */
#include "github.h"

#include <stdlib.h>
#include <string.h>

void gh_archive_name(const char *name, struct buf *out)
{
	buf_reset(out);
	size_t units = 0;
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '/' || c == ':' || c == '"' || c == '<' || c == '>' || c == '|' ||
		    c == '*' || c == '?' || c == '\\' || c < 0x20) {
			i++;
			continue;
		}
		int l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			i++;
			continue;
		}
		size_t u = l == 4 ? 2 : 1;
		if (units + u > 90) {
			if (units < 90) /* a surrogate pair cut in half */
				buf_adds(out, "\xef\xbf\xbd");
			break;
		}
		buf_add(out, s + i, (size_t)l);
		units += u;
		i += (size_t)l;
	}
	buf_cstr(out);
}

bool gh_parse_job_entry(const char *entry, long *ordinal, struct buf *base, int *dup)
{
	const char *p = entry;
	if (strchr(entry, '/'))
		return false;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	char *end;
	long ord = strtol(entry, &end, 10);
	if (*end != '_')
		return false;
	const char *name = end + 1;
	size_t n = strlen(name);
	if (n < 4 || strcmp(name + n - 4, ".txt") != 0)
		return false;
	n -= 4;
	*dup = 0;
	/* " (N)" just before .txt is GitHub's de-duplication suffix. */
	if (n >= 4 && name[n - 1] == ')') {
		size_t k = n - 2;
		while (k > 0 && name[k] >= '0' && name[k] <= '9')
			k--;
		if (k + 2 < n && name[k] == '(' && k >= 1 && name[k - 1] == ' ') {
			*dup = atoi(name + k + 1);
			n = k - 1;
		}
	}
	*ordinal = ord;
	buf_reset(base);
	buf_add(base, name, n);
	return true;
}

/* Does an archive name (possibly cut, possibly ending in U+FFFD) stand for
 * the job's archive name key? */
static bool archive_name_matches(const char *entry_name, const char *key)
{
	if (!strcmp(entry_name, key))
		return true;
	size_t n = strlen(entry_name);
	if (n >= 3 && !memcmp(entry_name + n - 3, "\xef\xbf\xbd", 3))
		n -= 3;
	/* cut at 90 UTF-16 units: the entry is a strict prefix of the key */
	if (n >= 40 && n < strlen(key) && !memcmp(entry_name, key, n))
		return true;
	return false;
}

/* Newer archives replace '/' with '_' instead of dropping it. */
bool gh_archive_name_matches_job(const char *entry_name, const char *job_name, struct buf *tmp)
{
	gh_archive_name(job_name, tmp);
	if (archive_name_matches(entry_name, tmp->data))
		return true;
	struct buf alt = BUF_INIT;
	for (const char *p = job_name; *p; p++)
		buf_addc(&alt, *p == '/' ? '_' : *p);
	gh_archive_name(buf_cstr(&alt), tmp);
	bool ok = archive_name_matches(entry_name, tmp->data);
	buf_release(&alt);
	return ok;
}

