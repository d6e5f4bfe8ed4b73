/* dynlib.h - libraries ciscope loads when a command first needs them
 * (dlopen), not at start-up: libgit2 (core/gitrepo.c), libcurl
 * (core/curlpoll.c for fetch.c, fetchrun.c, github.c) and libzip
 * (core/ziparc.c). Linked, they and the ~35 libraries they pull in (TLS, ssh,
 * LDAP, Kerberos, HTTP/2, libcrypto...) cost every process, `ciscope search`
 * too, several milliseconds of relocations.
 *
 * A user of a library lists exactly the functions it calls in an X-macro
 * list and keeps them in a table whose members have the functions' own names
 * and types (taken from the library's header with __typeof__), so every call
 * stays type-checked:
 *
 *	#define LG_FUNCS(X) X(git_libgit2_init) X(git_repository_open)
 *	static struct { LG_FUNCS(DYNLIB_MEMBER) } lg;
 *	DYNLIB_LOADER(lg, LG_FUNCS, GIT2_SONAME, GIT2_PACKAGE)
 *	... if (!DYNLIB_LOAD(lg)) die("%s", lg_lib.error); lg.git_libgit2_init();
 *
 * The library's SONAME (and the Debian package holding it, for the message)
 * comes from the Makefile, read from the .so the build found (readelf). */
#ifndef CS_DYNLIB_H
#define CS_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

struct dynlib {
	const char *soname;  /* "libgit2.so.1.5" */
	const char *package; /* "libgit2-1.5", or "" when the build did not know */
	/* set by dynlib_load(), under its lock */
	int state;           /* 0 not tried, 1 loaded, -1 failed (error says why) */
	char error[512];
};
#define DYNLIB_INIT(soname, package) {(soname), (package), 0, ""}

/* A member of the table: a pointer to function f, of f's type. */
#define DYNLIB_MEMBER(f) __typeof__(f) *f;
/* f's name, for the list handed to dynlib_load(). */
#define DYNLIB_NAME(f) #f,
/* Define static void name(void *const *syms): the symbols, in the order of
 * the X-macro list, into table's members of the same names. */
#define DYNLIB_FILL(name, table, LIST)                                     \
	static void name(void *const *syms)                                \
	{                                                                  \
		__typeof__(table) *t = &(table);                           \
		size_t i = 0;                                              \
		LIST(DYNLIB_SET)                                           \
	}
#define DYNLIB_SET(f) t->f = (__typeof__(t->f))syms[i++];

/* Define the loader of table (whose members come from LIST): the library
 * soname names (a string the Makefile passes, -DGIT2_SONAME=...; empty when
 * it found no .so: the build stops here), package the Debian package holding
 * it. Defines table##_lib (its error says why a load failed), table##_names
 * and table##_fill. */
#define DYNLIB_LOADER(table, LIST, soname, package)                        \
	_Static_assert(sizeof(soname) > 1, #soname " is empty: no .so found"); \
	static struct dynlib table##_lib = DYNLIB_INIT(soname, package);   \
	static const char *const table##_names[] = {LIST(DYNLIB_NAME)};   \
	DYNLIB_FILL(table##_fill, table, LIST)
/* Load the library of table (DYNLIB_LOADER) once; false: table##_lib.error. */
#define DYNLIB_LOAD(table)                                                 \
	dynlib_load(&table##_lib, table##_names,                           \
		    sizeof(table##_names) / sizeof(table##_names[0]), table##_fill)

/* Load lib (once: later calls return the first answer) and resolve
 * names[0..n), handing the addresses to fill(syms) in the same order.
 * Thread-safe. False when the library or one of the symbols is missing:
 * lib->error is then the sentence to show, naming the library and the
 * package to install ("cannot load libgit2.so.1.5: ...; install ..."). */
bool dynlib_load(struct dynlib *lib, const char *const *names, size_t n,
		 void (*fill)(void *const *syms));

#endif
