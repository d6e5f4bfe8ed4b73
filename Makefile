# ciscope - a terminal workbench for investigating CI runs.
#
#   make            build ./ciscope
#   make run        install missing packages, build, open ciscope on the demo data
#   make test       install missing packages, build, run every test
#   make check      the whole suite under AddressSanitizer + UBSan
#   make bench      the benchmark (not a test): ratios against lnav, grep, rg
#   make fuzz       build the libFuzzer harnesses (clang) and run each for
#                   FUZZ_SECONDS (default 60) after replaying their regressions
#   make install    PREFIX=/usr/local (binary and man page)
#   make V=1        show the commands
#
# Dependencies come from Debian packages found with pkg-config; `make deps`
# installs the missing ones (tools/deps.sh).

CC ?= cc
PREFIX ?= /usr/local
PKGS = ncursesw libutf8proc sqlite3 libgit2 libcjson libcurl libzip libzstd expat libpcre2-8
BUILD ?= build

WARNINGS = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
# -pthread: the log writer compresses on a second thread (core/logwrite.c)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARNINGS) $(CFLAGS) $(EXTRA_CFLAGS) -I. -I$(BUILD) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
# libgit2, libcurl and libzip are not linked into ciscope: core/gitrepo.c,
# core/curlpoll.c and core/ziparc.c load them (dlopen, core/dynlib.h) when a
# command first needs them, by the SONAME of the library pkg-config found (and
# name its Debian package when it is missing). The unit tests link libgit2 and
# libzip themselves: some build repositories and archives with them.
DLOPEN_PKGS = libgit2 libcurl libzip
LIBS = $(shell pkg-config --libs $(filter-out $(DLOPEN_PKGS),$(PKGS)) 2>/dev/null) -lm -pthread
CORE_LIBS = $(shell pkg-config --libs sqlite3 libgit2 libcjson libzip libzstd expat libpcre2-8 2>/dev/null) -lm -pthread
soname = $(shell readelf -d "$$(pkg-config --variable=libdir $(1) 2>/dev/null)/$(1).so" 2>/dev/null | \
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
sopkg = $(shell dpkg-query -S "*/$(1)" 2>/dev/null | sed -n '1s/:.*//p')
GIT2_SONAME = $(call soname,libgit2)
CURL_SONAME = $(call soname,libcurl)
ZIP_SONAME = $(call soname,libzip)
$(BUILD)/core/gitrepo.o: ALL_CFLAGS += -DGIT2_SONAME='"$(GIT2_SONAME)"' \
	-DGIT2_PACKAGE='"$(call sopkg,$(GIT2_SONAME))"'
$(BUILD)/core/curlpoll.o: ALL_CFLAGS += -DCURL_SONAME='"$(CURL_SONAME)"' \
	-DCURL_PACKAGE='"$(call sopkg,$(CURL_SONAME))"'
$(BUILD)/core/ziparc.o: ALL_CFLAGS += -DZIP_SONAME='"$(ZIP_SONAME)"' \
	-DZIP_PACKAGE='"$(call sopkg,$(ZIP_SONAME))"'

ifeq ($(V),1)
Q =
quiet = @:
else
Q = @
quiet = @printf '  %-6s %s\n'
endif

CORE_SRC = $(wildcard core/*.c)
TUI_SRC = $(wildcard tui/*.c)
VIEWS_SRC = $(wildcard views/*.c)
CLI_SRC = $(wildcard cli/*.c)
GEN_SRC = $(BUILD)/gen/schema.c $(BUILD)/gen/default_conf.c

RUNBOOKS = $(sort $(wildcard data/runbooks/*.md))
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema.o $(BUILD)/gen/rules_conf.o \
	$(BUILD)/gen/parity_conf.o $(BUILD)/gen/thresholds_conf.o \
	$(BUILD)/gen/runbooks.o
APP_OBJ = $(TUI_SRC:%.c=$(BUILD)/%.o) $(VIEWS_SRC:%.c=$(BUILD)/%.o) $(CLI_SRC:%.c=$(BUILD)/%.o) \
	$(BUILD)/gen/default_conf.o
UNIT_SRC = $(wildcard tests/unit/t_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/ciscope
ifeq ($(BUILD),build)
	$(Q)ln -sf build/ciscope ciscope
endif

$(BUILD)/ciscope: $(CORE_OBJ) $(APP_OBJ)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The index schema and its migrations (core/store.c): adding a migration is
# adding data/migrations/NNN-name.sql, NNN the schema version it brings the
# index to; tools/embed-schema.sh orders them by number and refuses gaps.
MIGRATIONS = $(wildcard data/migrations/*.sql)
$(BUILD)/gen/schema.c: data/schema.sql $(MIGRATIONS) tools/embed.sh tools/embed-schema.sh Makefile
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sh tools/embed-schema.sh data/schema.sql $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# The built-in triage rules (core/rules.c).
$(BUILD)/gen/rules_conf.c: data/rules.conf tools/embed.sh
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sh tools/embed.sh rules_conf < data/rules.conf > $@.tmp && mv $@.tmp $@

# The built-in parity tolerances and channel pairing (core/parityconf.c).
$(BUILD)/gen/parity_conf.c: data/parity.conf tools/embed.sh
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sh tools/embed.sh parity_conf < data/parity.conf > $@.tmp && mv $@.tmp $@

# The built-in thresholds and change-point settings (core/metrics.c).
$(BUILD)/gen/thresholds_conf.c: data/thresholds.conf tools/embed.sh
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sh tools/embed.sh thresholds_conf < data/thresholds.conf > $@.tmp && mv $@.tmp $@

# The bundled runbooks (core/rbstore.c).
$(BUILD)/gen/runbooks.c: $(RUNBOOKS) tools/embed-runbooks.sh
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sh tools/embed-runbooks.sh $(RUNBOOKS) > $@.tmp && mv $@.tmp $@

# The default key bindings and colours, in the config language (tui/keys.c).
$(BUILD)/gen/default_conf.c: data/default.conf tools/embed.sh
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sh tools/embed.sh default_conf < data/default.conf > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link the core only: no ncurses, by construction.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/test_main.o $(BUILD)/tests/testdemo.o $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(quiet) TEST $@
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/tests/test_main.o \
		$(BUILD)/tests/testdemo.o $(CORE_OBJ) \
		$(LDFLAGS) $(CORE_LIBS)

$(BUILD)/tests/test_main.o: tests/unit/test_main.c tests/unit/test.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/tests/testdemo.o: tests/unit/testdemo.c tests/unit/testdemo.h tests/unit/test.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

units: $(UNIT_BIN)

# libFuzzer harnesses (tests/fuzz/f_*.c): built by `make fuzz` in build-fuzz
# with clang; the core objects get the fuzzer's coverage instrumentation.
# f_keys fuzzes the TUI's config language and so links the tui objects, and
# the views' (the application's actions and roles it registers, as at start-up).
FUZZ_SRC = $(wildcard tests/fuzz/f_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

FUZZ_KEYS_OBJ = $(TUI_SRC:%.c=$(BUILD)/%.o) $(VIEWS_SRC:%.c=$(BUILD)/%.o) \
	$(BUILD)/gen/default_conf.o
$(BUILD)/fuzz/f_keys: tests/fuzz/f_keys.c tests/fuzz/fuzz.h $(CORE_OBJ) $(FUZZ_KEYS_OBJ)
	@mkdir -p $(dir $@)
	$(quiet) FUZZ $@
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_KEYS_OBJ) \
		$(CORE_OBJ) $(LDFLAGS) $(LIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(quiet) FUZZ $@
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(CORE_OBJ) $(LDFLAGS) $(CORE_LIBS)

fuzz-bins: $(FUZZ_BIN)

fuzz:
	@CISCOPE_EXTRA_PKGS="clang libclang-rt-dev" sh tools/deps.sh
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" fuzz-bins
	@sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

deps:
	@sh tools/deps.sh

demo: all
	@sh tools/demo.sh

run: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh
	@# from the demo's checkout: commits, bisect, runbooks and the thresholds the
	@# runs view marks breaches of read the checkout ciscope runs in
	@cd $(BUILD)/demo/repo && $(abspath $(BUILD))/ciscope --db $(abspath $(BUILD))/demo/demo.db

test: deps
	@$(MAKE) --no-print-directory all units
	@sh tests/run.sh $(BUILD)

# The suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
check: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all units
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		sh tests/run.sh build-asan

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh $(BUILD)

# The man page's key tables come from the program (tests/cli/docs.sh checks).
doc: all
	@sh tools/gen-man-keys.sh $(BUILD)/ciscope

# Bisect: time to the first proposed commit on 100,000 commits, steps vs git
# bisect (bench/bisect.sh); not a test.
bench-bisect: deps
	@$(MAKE) --no-print-directory all
	@sh bench/bisect.sh $(BUILD)
# The commits view's judging (parity, thresholds) on 1,000 commits (bench/commits.sh).
bench-commits: deps
	@$(MAKE) --no-print-directory all
	@sh bench/commits.sh $(BUILD)
# Metrics over history on a generated index (bench/metrics.sh); not a test.
bench-metrics: deps
	@$(MAKE) --no-print-directory all
	@sh bench/metrics.sh $(BUILD)

# Triage extraction quality on labelled real logs (bench/triage.sh); not a test.
bench-triage: deps
	@$(MAKE) --no-print-directory all
	@sh bench/triage.sh $(BUILD)

# Divergence-diff quality on the CiDiff pairs, and two 100 MB logs (bench/diff.sh); not a test.
bench-diff: deps
	@$(MAKE) --no-print-directory all
	@sh bench/diff.sh $(BUILD)

check-layering:
	@! grep -n 'include.*curses' core/*.[ch] || { echo "core/ must not include curses"; exit 1; }
	@! grep -n '#include "tui/\|#include "views/' core/*.[ch] || { echo "core/ must not include tui/ or views/"; exit 1; }
	@! grep -n '#include "core/\|#include "views/' tui/*.[ch] 2>/dev/null || { echo "tui/ must not include core/ or views/"; exit 1; }
	@! grep -n 'sqlite3_' views/*.[ch] 2>/dev/null || { echo "views/ must not use SQL"; exit 1; }
	@! grep -nwE 'ACT_(TRIAGE_[A-Z]+|FETCH|RERUN_FAILED|DISPATCH|VIEW_[A-Z]+)|ROLE_(SHA|BRANCH|FLAKY|FIX|RETRY|INVESTIGATE)' tui/*.[ch] 2>/dev/null || { echo "tui/ must not name the application's actions or colour roles (views/views.h)"; exit 1; }
	@! grep -n 'include.*git2' core/*.[ch] tui/*.[ch] views/*.[ch] cli/*.[ch] | grep -v '^core/gitrepo\.c:' || { echo "libgit2 only in core/gitrepo.c"; exit 1; }
	@! grep -n 'include.*curl/curl\.h' core/*.[ch] tui/*.[ch] views/*.[ch] cli/*.[ch] | grep -v '^core/curlpoll\.h:' || { echo "<curl/curl.h> only through core/curlpoll.h (libcurl is loaded when needed: calls go through lc)"; exit 1; }
	@! grep -n -- '->db\b' tui/*.[ch] views/*.[ch] cli/*.[ch] 2>/dev/null || { echo "only core/ may use the store's connection (->db)"; exit 1; }
	@! grep -rn 'include "\(core/\)\?\(rulesint\|logstoreint\|metricsint\|import_int\|bisectint\|triageint\)\.h"\|include "cli/rbcli\.h"' core tui views cli tests/unit tests/fuzz bench 2>/dev/null | grep -v '^core/\(rules\|ruleprefilter\|logstore\|logwrite\|loggrams\)\.c:\|^core/\(bisect\|bisectverdict\)\.c:\|^core/\(triage\|triagejunit\)\.c:\|^core/\(import\|importfile\|importrun\|importlog\|importart\)\.c:\|^core/\(metrics\|metriccp\|thresholds\|metriclocal\|metriccache\)\.[ch]:\|^cli/\(runbook\|rbrun\|rbreport\)\.c:' || { echo "an internal header (rulesint.h, logstoreint.h, metricsint.h, import_int.h, bisectint.h, triageint.h, cli/rbcli.h) is only for the files it was split from"; exit 1; }
	@echo "layering ok"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/ciscope $(DESTDIR)$(PREFIX)/bin/ciscope
	install -m 644 doc/ciscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/ciscope.1

clean:
	rm -rf build build-asan build-fuzz ciscope

.PHONY: all units fuzz fuzz-bins deps demo run test check bench bench-bisect bench-commits bench-metrics bench-triage bench-diff doc check-layering install clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
