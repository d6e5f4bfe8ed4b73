/* dynlib.c - load a library when first needed (see dynlib.h). */
#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(struct dynlib *lib, const char *what, const char *why)
{
	const char *pkg = lib->package && *lib->package ? lib->package : NULL;
	size_t sl = strlen(lib->soname);
	if (!why)
		why = "unknown error";
	else if (!strncmp(why, lib->soname, sl) && !strncmp(why + sl, ": ", 2))
		why += sl + 2; /* dlerror() names the file again */
	snprintf(lib->error, sizeof(lib->error), "cannot load %s: %s%s; install %s%s", lib->soname,
		 what, why, pkg ? pkg : "the package that holds ",
		 pkg ? "" : lib->soname);
	lib->state = -1;
}

bool dynlib_load(struct dynlib *lib, const char *const *names, size_t n,
		 void (*fill)(void *const *syms))
{
	pthread_mutex_lock(&lock);
	if (lib->state == 0) {
		/* RTLD_NOW: a missing symbol is found here, not at a first call */
		void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fail(lib, "", dlerror());
		} else {
			void **syms = xcalloc(n ? n : 1, sizeof(*syms));
			size_t i;
			for (i = 0; i < n; i++) {
				dlerror();
				syms[i] = dlsym(h, names[i]);
				if (!syms[i]) {
					char what[160];
					snprintf(what, sizeof(what), "no function %s: ", names[i]);
					fail(lib, what, dlerror());
					break;
				}
			}
			if (i == n) {
				fill(syms);
				lib->state = 1;
			} else {
				dlclose(h);
			}
			free(syms);
		}
	}
	bool ok = lib->state == 1;
	pthread_mutex_unlock(&lock);
	return ok;
}
