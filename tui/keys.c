/* keys.c - actions, key names, keymaps, options and the config language.
 *
 * There is one source of bindings and colours: text in the config language.
 * data/default.conf is compiled in (as `default_conf`) and read first; the
 * user's file is read after it and overrides. The language, one command a
 * line, '#' starting a comment line:
 *
 *	bind KEYMAP KEY ACTION      KEYMAP is "generic" or a view's name;
 *	                            ACTION "none" unbinds
 *	color ROLE FG BG [ATTR...]  colours: default, black, red, green, yellow,
 *	                            blue, magenta, cyan, white, bright-NAME,
 *	                            colorN (0-255); attributes: normal, bold,
 *	                            dim, underline, reverse, italic, blink
 *	set OPTION [=] VALUE
 *
 * A key is looked up in the view's keymap, then in "generic" (tig's order).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/internal.h"

/* generated from data/default.conf by tools/embed.sh */
extern const char default_conf[];

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct binding {
	int key;
	enum action a; /* ACT_NONE: unbound here, do not fall back to generic */
};

struct keymap {
	char *name;
	struct binding *b;
	size_t n, alloc;
};

static struct {
	struct keymap *maps;
	size_t n, alloc;
	const struct view_ops *const *views;
	bool loaded;
} km;


/* --- actions and roles: the framework's and the application's ------------------ */

static const struct tui_action_info generic_actions[] = {
#define ACTION_ROW(e, name, help) {ACT_##e, name, help},
#define ACTION_GROUP_ROW(title) {ACT_NONE, title, NULL},
	ACTION_INFO(ACTION_ROW, ACTION_GROUP_ROW)
#undef ACTION_ROW
#undef ACTION_GROUP_ROW
};

static const struct {
	const char *name;
	char letter;
} generic_roles[] = {
#define ROLE_ROW(e, name, letter) {name, letter},
	ROLE_INFO(ROLE_ROW)
#undef ROLE_ROW
};

/* Every action, grouped: a group's framework rows, then the application's;
 * groups in order of first appearance. */
struct action_row {
	enum action a;
	const char *group, *name, *help;
};

static struct {
	struct action_row *rows;
	size_t n;
	const struct tui_app *app;
	const char *role_names[ROLE_MAX];
	char role_letters[ROLE_MAX];
	int nroles;
	bool built;
} reg;

/* Append the rows of table t that belong to group g. */
static void add_group_rows(const struct tui_action_info *t, size_t n, const char *g)
{
	const char *group = "";
	for (size_t i = 0; i < n; i++) {
		if (t[i].action == ACT_NONE) {
			group = t[i].name;
			continue;
		}
		if (!strcmp(group, g))
			reg.rows[reg.n++] = (struct action_row){t[i].action, group, t[i].name, t[i].help};
	}
}

static void add_groups(const char **groups, size_t *ng, const struct tui_action_info *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].action != ACT_NONE)
			continue;
		size_t k = 0;
		while (k < *ng && strcmp(groups[k], t[i].name))
			k++;
		if (k == *ng)
			groups[(*ng)++] = t[i].name;
	}
}

static void build_registry(void)
{
	const struct tui_action_info *at = reg.app ? reg.app->actions : NULL;
	size_t an = reg.app ? reg.app->nactions : 0;
	size_t gn = ARRAY_LEN(generic_actions);
	size_t ng = 0;
	const char **groups = tui_xcalloc(gn + an + 1, sizeof(*groups));

	free(reg.rows);
	reg.rows = tui_xcalloc(gn + an + 1, sizeof(*reg.rows));
	reg.n = 0;
	add_groups(groups, &ng, generic_actions, gn);
	add_groups(groups, &ng, at, an);
	for (size_t g = 0; g < ng; g++) {
		add_group_rows(generic_actions, gn, groups[g]);
		add_group_rows(at, an, groups[g]);
	}
	free(groups);

	reg.nroles = 0;
	for (size_t i = 0; i < ARRAY_LEN(generic_roles); i++) {
		reg.role_names[reg.nroles] = generic_roles[i].name;
		reg.role_letters[reg.nroles++] = generic_roles[i].letter;
	}
	for (size_t i = 0; reg.app && i < reg.app->nroles && reg.nroles < ROLE_MAX; i++) {
		reg.role_names[reg.nroles] = reg.app->roles[i].name;
		reg.role_letters[reg.nroles++] = reg.app->roles[i].letter;
	}
	km.views = reg.app ? reg.app->views : NULL;
	reg.built = true;
}

static void ensure_registry(void)
{
	if (!reg.built)
		build_registry();
}

int tui_register_app(const struct tui_app *app)
{
	const char *bad = NULL;
	char what[128] = "";

	for (size_t i = 0; app && i < app->nactions && !bad; i++) {
		const struct tui_action_info *r = &app->actions[i];
		if (r->action == ACT_NONE)
			continue;
		if (r->action < ACT_APP_FIRST || r->action >= ACT_LIMIT)
			bad = "action number out of range";
		else if (!r->name || !r->help)
			bad = "action without a name or help";
		for (size_t k = 0; !bad && k < ARRAY_LEN(generic_actions); k++)
			if (generic_actions[k].action != ACT_NONE && !strcmp(generic_actions[k].name, r->name))
				bad = "action named like one of the framework's";
		for (size_t k = 0; !bad && k < i; k++)
			if (app->actions[k].action != ACT_NONE &&
			    (!strcmp(app->actions[k].name, r->name) || app->actions[k].action == r->action))
				bad = "action named or numbered twice";
		if (bad)
			tui_fmt(what, sizeof(what), "%s", r->name ? r->name : "?");
	}
	if (app && !bad && app->nroles > (size_t)(ROLE_MAX - ROLE_APP_FIRST))
		bad = "too many colour roles";
	for (size_t i = 0; app && !bad && i < app->nroles; i++) {
		const struct tui_role_info *r = &app->roles[i];
		for (size_t k = 0; !bad && k < ARRAY_LEN(generic_roles) + i; k++) {
			const char *name = k < ARRAY_LEN(generic_roles) ? generic_roles[k].name
								       : app->roles[k - ARRAY_LEN(generic_roles)].name;
			char letter = k < ARRAY_LEN(generic_roles) ? generic_roles[k].letter
								   : app->roles[k - ARRAY_LEN(generic_roles)].letter;
			if (!r->name || !strcmp(name, r->name) || letter == r->letter)
				bad = "colour role named or lettered twice";
		}
		if (bad)
			tui_fmt(what, sizeof(what), "%s", r->name ? r->name : "?");
	}
	if (bad) {
		fprintf(stderr, "ciscope: bug: %s: %s\n", bad, what);
		return -1;
	}
	reg.app = app;
	build_registry();
	return 0;
}

const struct tui_app *tui_app(void)
{
	return reg.app;
}

int tui_role_count(void)
{
	ensure_registry();
	return reg.nroles;
}

const char *tui_role_name(enum role r)
{
	ensure_registry();
	return (int)r >= 0 && (int)r < reg.nroles ? reg.role_names[r] : NULL;
}

char tui_role_letter(enum role r)
{
	ensure_registry();
	if ((int)r < 0 || (int)r >= reg.nroles || !reg.role_letters[r])
		return '?';
	return reg.role_letters[r];
}

static const struct action_row *action_entry(enum action a)
{
	ensure_registry();
	for (size_t i = 0; i < reg.n; i++)
		if (reg.rows[i].a == a && a != ACT_NONE)
			return &reg.rows[i];
	return NULL;
}

const char *action_name(enum action a)
{
	const struct action_row *e = action_entry(a);
	return e ? e->name : "none";
}

const char *action_help(enum action a)
{
	const struct action_row *e = action_entry(a);
	return e ? e->help : "";
}

const char *action_help_in(const char *keymap, enum action a)
{
	ensure_registry();
	const char *s = reg.app && reg.app->help_in && keymap ? reg.app->help_in(keymap, a) : NULL;
	return s ? s : action_help(a);
}

enum action action_lookup(const char *name)
{
	ensure_registry();
	for (size_t i = 0; name && i < reg.n; i++)
		if (!strcmp(reg.rows[i].name, name))
			return reg.rows[i].a;
	return ACT_NONE;
}

/* --- key names ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int key;
} key_names[] = {
	/* the first name of a key is the one shown */
	{"Enter", TK_ENTER},
	{"Return", TK_ENTER},
	{"Esc", TK_ESC},
	{"Escape", TK_ESC},
	{"Tab", '\t'},
	{"BackTab", TK_FN | KEY_BTAB},
	{"S-Tab", TK_FN | KEY_BTAB},
	{"Space", ' '},
	{"Backspace", TK_BACKSPACE},
	{"BS", TK_BACKSPACE},
	{"Up", TK_FN | KEY_UP},
	{"Down", TK_FN | KEY_DOWN},
	{"Left", TK_FN | KEY_LEFT},
	{"Right", TK_FN | KEY_RIGHT},
	{"Home", TK_FN | KEY_HOME},
	{"End", TK_FN | KEY_END},
	{"PgUp", TK_FN | KEY_PPAGE},
	{"PageUp", TK_FN | KEY_PPAGE},
	{"PgDn", TK_FN | KEY_NPAGE},
	{"PageDown", TK_FN | KEY_NPAGE},
	{"Insert", TK_FN | KEY_IC},
	{"Ins", TK_FN | KEY_IC},
	{"Delete", TK_FN | KEY_DC},
	{"Del", TK_FN | KEY_DC},
	{"LessThan", '<'},
	{"lt", '<'},
	{"Hash", '#'},
	{"Colon", ':'}, /* a script line starting with ':' is a command */
};

static int parse_int(const char *s, size_t n, int max)
{
	int v = 0;
	if (n == 0 || n > 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* "<Click:Y,X>" and friends (scripted tests only). */
static bool parse_mouse(const char *name, size_t n, struct tui_key *k)
{
	static const struct {
		const char *prefix;
		int kind;
	} kinds[] = {{"Click:", MOUSE_CLICK}, {"WheelUp:", MOUSE_WHEEL_UP},
		     {"WheelDown:", MOUSE_WHEEL_DOWN}};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t pl = strlen(kinds[i].prefix);
		if (n <= pl || strncasecmp(name, kinds[i].prefix, pl))
			continue;
		const char *rest = name + pl;
		const char *comma = memchr(rest, ',', n - pl);
		if (!comma)
			return false;
		int y = parse_int(rest, (size_t)(comma - rest), 9999);
		int x = parse_int(comma + 1, n - pl - (size_t)(comma - rest) - 1, 9999);
		if (y < 0 || x < 0)
			return false;
		k->key = TK_MOUSE;
		k->y = y;
		k->x = x;
		k->mouse = kinds[i].kind;
		return true;
	}
	return false;
}

static bool parse_key_name(const char *name, size_t n, struct tui_key *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (strlen(key_names[i].name) == n && !strncasecmp(key_names[i].name, name, n)) {
			k->key = key_names[i].key;
			return true;
		}
	}
	if ((name[0] == 'F' || name[0] == 'f') && n >= 2) {
		int f = parse_int(name + 1, n - 1, 63);
		if (f >= 1) {
			k->key = TK_FN | KEY_F(f);
			return true;
		}
	}
	if (n == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-') {
		unsigned char ch = (unsigned char)name[2];
		if (isalpha(ch)) {
			k->key = toupper(ch) & 0x1f;
			return true;
		}
		if (strchr("@[\\]^_", ch)) {
			k->key = ch & 0x1f;
			return true;
		}
	}
	if (n == 7 && !strncasecmp(name, "C-Space", 7)) {
		k->key = 0;
		return true;
	}
	return parse_mouse(name, n, k);
}

int tui_key_parse(const char **p, struct tui_key *k, char *err, size_t errlen)
{
	const char *s = *p;

	memset(k, 0, sizeof(*k));
	if (!*s) {
		tui_fmt(err, errlen, "missing key");
		return -1;
	}
	if (*s == '<') {
		const char *end = strchr(s + 1, '>');
		if (end && end > s + 1 && !memchr(s + 1, '<', (size_t)(end - s - 1))) {
			if (parse_key_name(s + 1, (size_t)(end - s - 1), k)) {
				*p = end + 1;
				return 0;
			}
			/* something that looks like a name must be one: a typo
			 * in a script or config must not become literal keys */
			bool word = true;
			for (const char *q = s + 1; q < end; q++)
				if (!isalnum((unsigned char)*q) && !strchr("-:,_", *q))
					word = false;
			if (word) {
				tui_fmt(err, errlen, "unknown key '<%.*s>'", (int)(end - s - 1), s + 1);
				return -1;
			}
		}
		k->key = '<';
		*p = s + 1;
		return 0;
	}
	uint32_t cp;
	int len = tw_decode((const unsigned char *)s, strlen(s), &cp);
	if (len == 0) {
		tui_fmt(err, errlen, "invalid UTF-8 in key");
		return -1;
	}
	if (tw_class(cp) != CP_NORMAL && tw_class(cp) != CP_WIDE) {
		tui_fmt(err, errlen, "control character in key (write it as <C-x>)");
		return -1;
	}
	k->key = (int)cp;
	*p = s + len;
	return 0;
}

void tui_key_name(int key, char *out, size_t n)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (key_names[i].key == key && key != '#' && key != ':') {
			tui_fmt(out, n, "<%s>", key_names[i].name);
			return;
		}
	}
	if (key & TK_FN) {
		int code = key & ~TK_FN;
		if (code >= KEY_F(1) && code <= KEY_F(63))
			tui_fmt(out, n, "<F%d>", code - KEY_F0);
		else
			tui_fmt(out, n, "<key-%d>", code);
		return;
	}
	if (key == 0) {
		tui_fmt(out, n, "<C-Space>");
		return;
	}
	if (key < 0x20) {
		tui_fmt(out, n, "<C-%c>", key >= 1 && key <= 26 ? key + 'a' - 1 : key + '@');
		return;
	}
	enum cp_class cls = tw_class((uint32_t)key);
	if (key > 0x10ffff || (cls != CP_NORMAL && cls != CP_WIDE)) {
		tui_fmt(out, n, "<U+%04X>", (unsigned)key);
		return;
	}
	if (key < 0x80 || tui_utf8) {
		char u[5] = {0};
		tw_encode((uint32_t)key, u);
		tui_fmt(out, n, "%s", u);
		return;
	}
	tui_fmt(out, n, "<U+%04X>", (unsigned)key);
}

int tui_key_from_curses(int ret, wint_t wch)
{
	if (ret == KEY_CODE_YES) {
		if (wch == KEY_ENTER)
			return TK_ENTER;
		return TK_FN | (int)wch;
	}
	if (wch == '\n' || wch == '\r')
		return TK_ENTER;
	if (wch == 127 || wch == 8)
		return TK_BACKSPACE;
	return (int)wch;
}

/* --- keymaps ------------------------------------------------------------------------- */


const struct view_ops *tui_find_view_ops(const char *name)
{
	for (size_t i = 0; km.views && km.views[i]; i++)
		if (km.views[i]->name && !strcmp(km.views[i]->name, name))
			return km.views[i];
	return NULL;
}

static struct keymap *keymap_find(const char *name)
{
	for (size_t i = 0; i < km.n; i++)
		if (!strcmp(km.maps[i].name, name))
			return &km.maps[i];
	return NULL;
}

static struct keymap *keymap_get(const char *name)
{
	struct keymap *m = keymap_find(name);
	if (m)
		return m;
	TUI_GROW(km.maps, km.alloc, km.n + 1);
	m = &km.maps[km.n++];
	memset(m, 0, sizeof(*m));
	m->name = tui_xstrdup(name);
	return m;
}

static void keymap_bind(struct keymap *m, int key, enum action a)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->b[i].key == key) {
			m->b[i].a = a;
			return;
		}
	}
	TUI_GROW(m->b, m->alloc, m->n + 1);
	m->b[m->n].key = key;
	m->b[m->n].a = a;
	m->n++;
}

static bool keymap_has(const struct keymap *m, int key, enum action *a)
{
	for (size_t i = 0; m && i < m->n; i++) {
		if (m->b[i].key == key) {
			*a = m->b[i].a;
			return true;
		}
	}
	return false;
}

enum action tui_keymap_lookup(const char *keymap, int key)
{
	enum action a = ACT_NONE;
	if (keymap && strcmp(keymap, "generic") && keymap_has(keymap_find(keymap), key, &a))
		return a;
	if (keymap_has(keymap_find("generic"), key, &a))
		return a;
	return ACT_NONE;
}

/* Keys that reach action a in keymap, in binding order: the keymap's own,
 * then generic ones the keymap does not override. */
static void keys_for(const char *keymap, enum action a, char *out, size_t n, size_t max_keys)
{
	const struct keymap *own = keymap && strcmp(keymap, "generic") ? keymap_find(keymap) : NULL;
	const struct keymap *gen = keymap_find("generic");
	size_t len = 0, count = 0;

	out[0] = 0;
	for (int pass = 0; pass < 2; pass++) {
		const struct keymap *m = pass == 0 ? own : gen;
		for (size_t i = 0; m && i < m->n && count < max_keys; i++) {
			enum action shadow;
			if (m->b[i].a != a)
				continue;
			if (pass == 1 && keymap_has(own, m->b[i].key, &shadow))
				continue;
			char name[32];
			tui_key_name(m->b[i].key, name, sizeof(name));
			int w = snprintf(out + len, n - len, "%s%s", count ? ", " : "", name);
			if (w < 0 || (size_t)w >= n - len)
				return;
			len += (size_t)w;
			count++;
		}
	}
}

void tui_action_key(const char *keymap, enum action a, char *out, size_t n)
{
	keys_for(keymap, a, out, n, 1);
}

void tui_foreach_binding(const char *keymap,
			 void (*cb)(void *ctx, const char *group, const char *keys, enum action a),
			 void *ctx)
{
	char keys[256];

	ensure_registry();
	for (size_t i = 0; i < reg.n; i++) {
		keys_for(keymap, reg.rows[i].a, keys, sizeof(keys), 16);
		cb(ctx, reg.rows[i].group, keys, reg.rows[i].a);
	}
}

/* --- options ------------------------------------------------------------------------------ */

struct option {
	const char *name;
	const char *values; /* "on|off", "hidden|absolute|relative"; "SECONDS": a number */
	const char *initial;
	const char *help;
	char value[16];
	double min, max;    /* "SECONDS": the range allowed */
};

static struct option options[] = {
	{"line-numbers", "on|off", "on", "Show line numbers in logs", "", 0, 0},
	{"timestamps", "hidden|absolute|relative", "hidden",
	 "Log timestamps: hidden, absolute, or relative to the step start", "", 0, 0},
	{"wrap", "on|off", "off", "Wrap long log lines", "", 0, 0},
	{"mouse", "on|off", "on", "Mouse wheel scrolls, a click selects", "", 0, 0},
	{"bisect-dispatch-poll", "SECONDS", "15",
	 "D in the bisect view: seconds between looks at the dispatched run (0.05 to 3600)", "", 0.05, 3600},
	{"bisect-dispatch-timeout", "SECONDS", "3600",
	 "D in the bisect view: seconds to wait for the dispatched run to complete (1 to 604800)", "", 1,
	 604800},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void options_reset(void)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		tui_fmt(options[i].value, sizeof(options[i].value), "%s", options[i].initial);
}

static struct option *option_find(const char *name)
{
	for (size_t i = 0; name && i < NOPTIONS; i++)
		if (!strcmp(options[i].name, name))
			return &options[i];
	return NULL;
}

const char *tui_option(const char *name)
{
	struct option *o = option_find(name);
	if (!o)
		return NULL;
	if (!o->value[0])
		options_reset();
	return o->value;
}

bool tui_option_on(const char *name)
{
	const char *v = tui_option(name);
	return v && !strcmp(v, "on");
}

static bool value_allowed(const char *values, const char *v)
{
	size_t n = strlen(v);
	const char *p = values;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, v, n))
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

int tui_option_set(const char *name, const char *value, char *err, size_t errlen)
{
	struct option *o = option_find(name);

	if (!o) {
		tui_fmt(err, errlen, "unknown option '%s'", name ? name : "");
		return -1;
	}
	if (!o->value[0])
		options_reset();
	if (!value || !*value) {
		tui_fmt(err, errlen, "option '%s' needs a value (%s)", name, o->values);
		return -1;
	}
	if (!strcmp(o->values, "on|off")) {
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			value = "on";
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			value = "off";
	}
	if (o->max > 0) {
		char *end;
		double d = strtod(value, &end);
		if (end == value || *end || !(d >= o->min && d <= o->max) || strlen(value) >= sizeof(o->value)) {
			tui_fmt(err, errlen, "option '%s' takes a number of seconds from %g to %g, not '%.40s'", name,
				o->min, o->max, value);
			return -1;
		}
	} else if (!value_allowed(o->values, value)) {
		tui_fmt(err, errlen, "option '%s' takes %s, not '%.40s'", name, o->values, value);
		return -1;
	}
	tui_fmt(o->value, sizeof(o->value), "%s", value);
	return 0;
}

void tui_foreach_option(void (*cb)(void *ctx, const char *name, const char *values,
				   const char *value, const char *help),
			void *ctx)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		cb(ctx, options[i].name, options[i].values, tui_option(options[i].name),
		   options[i].help);
}

/* --- the theme -------------------------------------------------------------------------------- */

struct tui_theme_entry tui_theme[ROLE_MAX];

static void theme_reset(void)
{
	for (int r = 0; r < ROLE_MAX; r++) {
		tui_theme[r].fg = tui_theme[r].bg = -1;
		tui_theme[r].attr = 0;
	}
}

static int parse_color(const char *s, short *out)
{
	static const char *const names[] = {"black", "red",     "green", "yellow",
					    "blue",  "magenta", "cyan",  "white"};
	int bright = 0;

	if (!strcmp(s, "default")) {
		*out = -1;
		return 0;
	}
	if (!strncmp(s, "bright-", 7)) {
		bright = 8;
		s += 7;
	}
	for (int i = 0; i < 8; i++) {
		if (!strcmp(s, names[i])) {
			*out = (short)(i + bright);
			return 0;
		}
	}
	if (bright)
		return -1;
	if (!strcmp(s, "gray") || !strcmp(s, "grey")) {
		*out = 8;
		return 0;
	}
	if (!strncmp(s, "color", 5))
		s += 5;
	else if (!strncmp(s, "colour", 6))
		s += 6;
	int v = parse_int(s, strlen(s), 255);
	if (v < 0)
		return -1;
	*out = (short)v;
	return 0;
}

static int parse_attr(const char *s, attr_t *a)
{
	static const struct {
		const char *name;
		attr_t attr;
	} attrs[] = {{"normal", 0},
		     {"bold", A_BOLD},
		     {"dim", A_DIM},
		     {"underline", A_UNDERLINE},
		     {"reverse", A_REVERSE},
		     {"italic", A_ITALIC},
		     {"blink", A_BLINK},
		     {"standout", A_STANDOUT}};
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (!strcmp(s, attrs[i].name)) {
			*a |= attrs[i].attr;
			return 0;
		}
	}
	return -1;
}

/* --- the config language -------------------------------------------------------------------- */

#define MAX_TOKENS 12

/* Split a line into words; "..." and '...' quote; '#' starts a comment.
 * Returns the count or -1. */
static int tokenize(char *line, char **tok, char *err, size_t errlen)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		/* a comment, except as the key of a bind ("bind log # ...") */
		if (*p == '#' && !(n == 2 && !strcmp(tok[0], "bind")))
			return n;
		if (n == MAX_TOKENS) {
			tui_fmt(err, errlen, "too many words");
			return -1;
		}
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			char *end = strchr(p, q);
			if (!end) {
				tui_fmt(err, errlen, "unterminated quote");
				return -1;
			}
			*end = 0;
			tok[n++] = p;
			p = end + 1;
			if (*p && *p != ' ' && *p != '\t') {
				tui_fmt(err, errlen, "text after a closing quote");
				return -1;
			}
			continue;
		}
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
}

/* Words after the needed ones may only be a comment. */
static int check_extra(char **tok, int ntok, int used, char *err, size_t errlen)
{
	if (ntok > used && tok[used][0] != '#') {
		tui_fmt(err, errlen, "unexpected '%.40s'", tok[used]);
		return -1;
	}
	return 0;
}

static bool keymap_name_ok(const char *name, char *err, size_t errlen)
{
	if (!strcmp(name, "generic"))
		return true;
	if (km.views) {
		if (tui_find_view_ops(name))
			return true;
		char list[256] = "generic";
		for (size_t i = 0; km.views[i]; i++) {
			size_t len = strlen(list);
			tui_fmt(list + len, sizeof(list) - len, ", %s", km.views[i]->name);
		}
		tui_fmt(err, errlen, "unknown keymap '%.40s' (known: %s)", name, list);
		return false;
	}
	for (const char *p = name; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
			tui_fmt(err, errlen, "bad keymap name '%.40s'", name);
			return false;
		}
	}
	return *name != 0;
}

static int config_line(char *line, char *err, size_t errlen)
{
	char *tok[MAX_TOKENS];
	int n = tokenize(line, tok, err, errlen);

	if (n <= 0)
		return n;
	if (tok[0][0] == '#')
		return 0;
	if (!strcmp(tok[0], "bind")) {
		struct tui_key k;
		const char *p;
		enum action a;

		if (n < 4) {
			tui_fmt(err, errlen, "usage: bind KEYMAP KEY ACTION");
			return -1;
		}
		if (!keymap_name_ok(tok[1], err, errlen))
			return -1;
		p = tok[2];
		if (tui_key_parse(&p, &k, err, errlen) < 0)
			return -1;
		if (*p || k.key == TK_MOUSE) {
			tui_fmt(err, errlen, "'%.40s' is not one key", tok[2]);
			return -1;
		}
		a = action_lookup(tok[3]);
		if (a == ACT_NONE && strcmp(tok[3], "none")) {
			tui_fmt(err, errlen, "unknown action '%.40s'", tok[3]);
			return -1;
		}
		if (check_extra(tok, n, 4, err, errlen) < 0)
			return -1;
		keymap_bind(keymap_get(tok[1]), k.key, a);
		return 0;
	}
	if (!strcmp(tok[0], "color") || !strcmp(tok[0], "colour")) {
		int r;
		struct tui_theme_entry t = {-1, -1, 0};
		int used = 4;

		if (n < 4) {
			tui_fmt(err, errlen, "usage: color ROLE FG BG [ATTRIBUTE...]");
			return -1;
		}
		int nroles = tui_role_count();
		for (r = 0; r < nroles; r++)
			if (!strcmp(tui_role_name((enum role)r), tok[1]))
				break;
		if (r == nroles) {
			tui_fmt(err, errlen, "unknown colour role '%.40s'", tok[1]);
			return -1;
		}
		if (parse_color(tok[2], &t.fg) < 0 || parse_color(tok[3], &t.bg) < 0) {
			tui_fmt(err, errlen, "unknown colour '%.40s'",
				parse_color(tok[2], &t.fg) < 0 ? tok[2] : tok[3]);
			return -1;
		}
		for (; used < n && tok[used][0] != '#'; used++) {
			if (parse_attr(tok[used], &t.attr) < 0) {
				tui_fmt(err, errlen, "unknown attribute '%.40s'", tok[used]);
				return -1;
			}
		}
		tui_theme[r] = t;
		return 0;
	}
	if (!strcmp(tok[0], "set")) {
		int used = 3;
		const char *value;
		if (n >= 4 && !strcmp(tok[2], "=")) {
			value = tok[3];
			used = 4;
		} else if (n >= 3) {
			value = tok[2];
		} else {
			tui_fmt(err, errlen, "usage: set OPTION VALUE");
			return -1;
		}
		if (check_extra(tok, n, used, err, errlen) < 0)
			return -1;
		return tui_option_set(tok[1], value, err, errlen);
	}
	tui_fmt(err, errlen, "unknown command '%.40s' (bind, color, set)", tok[0]);
	return -1;
}

static void add_error(struct tui_errors *errs, const char *file, int lineno, const char *msg)
{
	if (errs->count++ > 0)
		return;
	if (lineno > 0)
		tui_fmt(errs->first, sizeof(errs->first), "%s:%d: %s", file, lineno, msg);
	else
		tui_fmt(errs->first, sizeof(errs->first), "%s: %s", file, msg);
}

static bool utf8_ok(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		int len = tw_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0)
			return false;
		i += (size_t)len;
	}
	return true;
}

static void config_text(const char *text, size_t len, const char *file, struct tui_errors *errs)
{
	size_t i = 0;
	int lineno = 0;
	char *line = NULL;
	size_t alloc = 0;

	while (i < len) {
		size_t j = i;
		char err[256];
		while (j < len && text[j] != '\n')
			j++;
		lineno++;
		size_t n = j - i;
		if (n && text[i + n - 1] == '\r')
			n--;
		TUI_GROW(line, alloc, n + 1);
		memcpy(line, text + i, n);
		line[n] = 0;
		i = j + 1;
		if (strlen(line) != n) {
			add_error(errs, file, lineno, "NUL byte in line");
			continue;
		}
		if (!utf8_ok(line, n)) {
			add_error(errs, file, lineno, "invalid UTF-8");
			continue;
		}
		if (config_line(line, err, sizeof(err)) < 0)
			add_error(errs, file, lineno, err);
	}
	free(line);
}

void tui_config_free(void)
{
	for (size_t i = 0; i < km.n; i++) {
		free(km.maps[i].name);
		free(km.maps[i].b);
	}
	free(km.maps);
	km.maps = NULL;
	km.n = km.alloc = 0;
	km.loaded = false;
}

static char *user_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *p;
	size_t n;

	if (xdg && *xdg) {
		n = strlen(xdg) + 32;
		p = tui_xmalloc(n);
		tui_fmt(p, n, "%s/ciscope/config", xdg);
		return p;
	}
	if (home && *home) {
		n = strlen(home) + 32;
		p = tui_xmalloc(n);
		tui_fmt(p, n, "%s/.config/ciscope/config", home);
		return p;
	}
	return NULL;
}

/* A config file is small: cap it so a wrong path (a log, /dev/zero) fails
 * cleanly. */
#define CONFIG_MAX (1 << 20)

static void config_file(const char *path, bool explicit, struct tui_errors *errs)
{
	FILE *f = fopen(path, "rb");
	char *data;
	size_t n;

	if (!f) {
		if (explicit || errno != ENOENT) {
			char msg[300];
			tui_fmt(msg, sizeof(msg), "cannot read config: %s", strerror(errno));
			add_error(errs, path, 0, msg);
		}
		return;
	}
	data = tui_xmalloc(CONFIG_MAX + 1);
	n = fread(data, 1, CONFIG_MAX + 1, f);
	if (ferror(f)) {
		char msg[300];
		tui_fmt(msg, sizeof(msg), "cannot read config: %s", strerror(errno));
		add_error(errs, path, 0, msg);
	} else if (n > CONFIG_MAX) {
		add_error(errs, path, 0, "larger than 1 MB: not a config file");
	} else {
		config_text(data, n, path, errs);
	}
	free(data);
	fclose(f);
}

int tui_config_load(const char *default_text, const char *user_path, bool user_explicit,
		    struct tui_errors *errs, char *err, size_t errlen)
{
	struct tui_errors deferrs = {{0}, 0};

	tui_config_free();
	options_reset();
	theme_reset();
	if (!default_text)
		default_text = default_conf;
	config_text(default_text, strlen(default_text), "default.conf", &deferrs);
	if (deferrs.count) {
		/* the built-in config is part of the program: a bug */
		tui_fmt(err, errlen, "built-in %s", deferrs.first);
		return -1;
	}
	km.loaded = true;
	if (errs) {
		char *own = NULL;
		if (!user_path)
			user_path = own = user_config_path();
		if (user_path)
			config_file(user_path, user_explicit, errs);
		free(own);
	}
	return 0;
}

/* --- key tables for the help view's siblings: ciscope keys [--man] ---------------------------- */

static void ensure_loaded(bool with_user)
{
	char err[256];
	struct tui_errors errs = {{0}, 0};

	if (km.loaded)
		return;
	if (tui_config_load(NULL, NULL, false, with_user ? &errs : NULL, err, sizeof(err)) < 0)
		fprintf(stderr, "ciscope: %s\n", err);
	if (errs.count)
		fprintf(stderr, "ciscope: %s%s\n", errs.first, errs.count > 1 ? " (and more)" : "");
}

struct print_ctx {
	FILE *f;
	bool man;
	const char *group;
	bool any;
	bool generic;
	const char *keymap; /* the keymap being printed */
};

static void roff_escaped(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void print_binding(void *vctx, const char *group, const char *keys, enum action a)
{
	struct print_ctx *pc = vctx;

	if (!keys[0])
		return;
	if (!pc->group || strcmp(pc->group, group)) {
		pc->group = group;
		if (pc->man) {
			fputs("\\fI", pc->f);
			roff_escaped(pc->f, group);
			fputs("\\fP\t\t\n", pc->f);
		} else {
			fprintf(pc->f, "  %s\n", group);
		}
	}
	pc->any = true;
	if (pc->man) {
		/* text blocks (T{ T}) wrap the help column on narrow pages */
		roff_escaped(pc->f, keys);
		fputc('\t', pc->f);
		roff_escaped(pc->f, action_name(a));
		fputs("\tT{\n", pc->f);
		roff_escaped(pc->f, action_help_in(pc->keymap, a));
		fputs("\nT}\n", pc->f);
	} else {
		fprintf(pc->f, "    %-22s %-22s %s\n", keys, action_name(a),
			action_help_in(pc->keymap, a));
	}
}

/* Bindings of one keymap only (the generic keys are listed once). */
static void print_keymap(struct print_ctx *pc, const char *name)
{
	const struct keymap *m = keymap_find(name);
	const char *group = NULL;
	bool first = true;

	if (!m || !m->n)
		return;
	ensure_registry();
	pc->keymap = name;
	for (size_t i = 0; i < reg.n; i++) {
		char keys[256];
		size_t len = 0, count = 0;

		group = reg.rows[i].group;
		keys[0] = 0;
		for (size_t j = 0; j < m->n && count < 16; j++) {
			char kn[32];
			if (m->b[j].a != reg.rows[i].a)
				continue;
			tui_key_name(m->b[j].key, kn, sizeof(kn));
			int w = snprintf(keys + len, sizeof(keys) - len, "%s%s", count ? ", " : "", kn);
			if (w < 0 || (size_t)w >= sizeof(keys) - len)
				break;
			len += (size_t)w;
			count++;
		}
		if (!keys[0])
			continue;
		if (first) {
			first = false;
			pc->group = NULL;
			if (pc->man) {
				fputs(".SS \"", pc->f);
				if (!strcmp(name, "generic"))
					fputs("Keys in every view", pc->f);
				else {
					fputs("Keys of the ", pc->f);
					roff_escaped(pc->f, name);
					fputs(" view", pc->f);
				}
				fputs("\"\n.TS\ntab(\t);\nlB lB l.\n", pc->f);
				fputs("Key\tAction\tWhat it does\n_\n", pc->f);
			} else {
				if (!strcmp(name, "generic"))
					fprintf(pc->f, "Keys in every view (keymap generic):\n");
				else
					fprintf(pc->f, "\nKeys of the %s view (keymap %s):\n", name, name);
			}
		}
		print_binding(pc, group, keys, reg.rows[i].a);
	}
	if (!first && pc->man)
		fputs(".TE\n", pc->f);
}

static void print_command(void *vctx, const char *name, const char *args, const char *help)
{
	struct print_ctx *pc = vctx;
	char both[96];

	tui_fmt(both, sizeof(both), ":%s%s%s", name, *args ? " " : "", args);
	if (pc->man) {
		roff_escaped(pc->f, both);
		fputs("\tT{\n", pc->f);
		roff_escaped(pc->f, help);
		fputs("\nT}\n", pc->f);
	} else {
		fprintf(pc->f, "    %-45s %s\n", both, help);
	}
}

static void print_option(void *vctx, const char *name, const char *values, const char *value,
			 const char *help)
{
	struct print_ctx *pc = vctx;
	char both[96];

	tui_fmt(both, sizeof(both), "%s %s", name, values);
	if (pc->man) {
		roff_escaped(pc->f, both);
		fputs("\tT{\n", pc->f);
		roff_escaped(pc->f, help);
		fputs(" (default ", pc->f);
		roff_escaped(pc->f, value);
		fputs(")\nT}\n", pc->f);
	} else {
		fprintf(pc->f, "    %-45s %s (now %s)\n", both, help, value);
	}
}

static void print_all(FILE *f, bool man)
{
	struct print_ctx pc = {f, man, NULL, false, false, NULL};

	print_keymap(&pc, "generic");
	for (size_t i = 0; i < km.n; i++)
		if (strcmp(km.maps[i].name, "generic"))
			print_keymap(&pc, km.maps[i].name);
	if (man) {
		fputs(".SS \"Commands of the : prompt\"\n.TS\ntab(\t);\nlB l.\n", f);
		tui_foreach_command(print_command, &pc);
		fputs(".TE\n.SS \"Options (set OPTION VALUE)\"\n.TS\ntab(\t);\nlB l.\n", f);
		tui_foreach_option(print_option, &pc);
		fputs(".TE\n", f);
	} else {
		fprintf(f, "\nCommands of the : prompt:\n");
		tui_foreach_command(print_command, &pc);
		fprintf(f, "\nOptions (set OPTION VALUE in the config, :set at the prompt):\n");
		tui_foreach_option(print_option, &pc);
	}
}

void tui_print_keys_man(FILE *f)
{
	/* the man page documents the defaults, whoever builds it */
	if (km.loaded)
		tui_config_free();
	ensure_loaded(false);
	print_all(f, true);
}

void tui_print_keys_text(FILE *f)
{
	ensure_loaded(true);
	print_all(f, false);
}
