/* f_keys.c - the user config language of the TUI (tui/keys.c: bind, set,
 * color, ...) and its key names. Built with the tui and views objects (no
 * terminal is opened: the config and key tables need none).
 *
 * The application's actions, views and colour roles are registered first, as
 * the program does at start-up (app_register(), views/actions.c): the
 * built-in config binds them, and a user config may name any of them.
 *
 * The input is a user config file (as given with --config); it is loaded
 * after the built-in one, then
 * the key tables are printed (as `ciscope keys` does) and a few keys looked
 * up. Property: a key the parser reads, named back, parses to the same key.
 */
#include <unistd.h>

#include "fuzz.h"

#include "tui/internal.h"
#include "views/views.h"

static char path[256];
static FILE *devnull;

static void cleanup(void)
{
	unlink(path);
}

static void key_round_trip(const char *text)
{
	const char *p = text;
	for (int i = 0; i < 16 && *p; i++) {
		struct tui_key k, k2;
		char err[256], name[64];
		const char *before = p;
		if (tui_key_parse(&p, &k, err, sizeof(err)) < 0) {
			FUZZ_CHECK(err[0] != '\0');
			break;
		}
		FUZZ_CHECK(p > before);
		if (k.key == TK_MOUSE)
			continue;
		tui_key_name(k.key, name, sizeof(name));
		const char *q = name;
		FUZZ_CHECK(tui_key_parse(&q, &k2, err, sizeof(err)) == 0);
		FUZZ_CHECK(*q == '\0');
		FUZZ_CHECK(k2.key == k.key);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/ciscope-fuzz-keys-%d", base ? base : "/tmp",
			 (int)getpid());
		devnull = fopen("/dev/null", "w");
		atexit(cleanup);
		app_register();
	}
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	if (size)
		FUZZ_CHECK(fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);

	struct tui_errors errs;
	memset(&errs, 0, sizeof(errs));
	char err[256];
	FUZZ_CHECK(tui_config_load(NULL, path, true, &errs, err, sizeof(err)) == 0);
	if (errs.count)
		FUZZ_CHECK(errs.first[0] != '\0');
	(void)tui_keymap_lookup("generic", 'j');
	(void)tui_keymap_lookup("log", 'q');
	tui_print_keys_text(devnull);

	char *text = fuzz_cstr(data, size);
	key_round_trip(text);
	free(text);
	return 0;
}
