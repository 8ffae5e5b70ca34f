# aifs: mount AI content-generation task APIs as a filesystem.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
PKG_CONFIG ?= pkg-config
CC       ?= cc
SANITIZE ?=

PKGS     := fuse3 libcurl jansson inih hiredis
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -pthread $(WARN) -Iinclude $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS   += $(shell $(PKG_CONFIG) --libs $(PKGS)) -pthread -lm
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

comma    := ,
O        := build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
LIBSRC   := $(filter-out src/main.c,$(wildcard src/*.c src/provider/*.c))
LIBOBJ   := $(LIBSRC:%.c=$(O)/%.o)
UNITSRC  := $(wildcard tests/unit/test_*.c)
UNITBIN  := $(UNITSRC:tests/unit/%.c=$(O)/tests/%)
VERSION  := $(shell cat VERSION)
CFLAGS   += -DAIFS_VERSION='"$(VERSION)"'

all: aifs

aifs: $(O)/aifs
	cp $< $@.tmp && mv -f $@.tmp $@

$(O)/aifs: $(O)/src/main.o $(O)/libaifs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/libaifs.a: $(LIBOBJ)
	$(AR) rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libaifs.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

units: $(UNITBIN)

# Unit tests, then real mounts against the fake provider API.
check: $(O)/aifs $(UNITBIN)
	AIFS_BIN=$(O)/aifs AIFS_UNIT_DIR=$(O)/tests python3 tests/run.py $(TESTS)

# The fake provider API, a real mount of it, and ordinary commands in it.
demo: aifs
	bash contrib/demo.sh

lint:
	@! grep -ln '<curl/curl.h>' src/*.c src/provider/*.c include/aifs/*.h | grep -v '^src/http.c$$' | grep . || { echo 'curl outside http'; false; }
	@! grep -ln '<fuse' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(fs|fsdir|main).c$$' | grep . || { echo 'fuse outside fs/main'; false; }
	@! grep -ln '<jansson.h>' src/*.c include/aifs/*.h | grep -v -E '^src/(json).c$$' | grep . || { echo 'jansson outside provider/json'; false; }
	@! grep -ln '<ini.h>' src/*.c src/provider/*.c include/aifs/*.h | grep -v '^src/ini.c$$' | grep . || { echo 'inih outside ini.c'; false; }
	@! grep -ln '"tree_int.h"' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(tree|fresh|slim|outputs|labels|lclaim|wait|known|cancel|archive|stats).c$$' | grep . || { echo 'tree_int.h outside the tree'; false; }
	@! grep -ln '"api_int.h"' src/*.c src/*.h src/provider/*.c include/aifs/*.h | grep -v -E '^src/(api|apiread).c$$' | grep . || { echo 'api_int.h outside the api'; false; }
	@! grep -ln -E '<hiredis/|"cluster_int.h"' src/*.c src/*.h src/provider/*.c include/aifs/*.h | grep -v -E '^src/(cluster|cshare).c$$|^src/cluster_int.h$$' | grep . || { echo 'hiredis outside the cluster'; false; }
	@! grep -ln '"media_int.h"' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(media|probe).c$$' | grep . || { echo 'media_int.h outside media'; false; }
	@! grep -ln '"blobcache_int.h"' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(blob|blobcache).c$$' | grep . || { echo 'blobcache_int.h outside the blob cache'; false; }
	@! grep -ln '"aifs/aifs.h"' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(aifs|main).c$$' | grep . || { echo 'aifs.h below main'; false; }
	@! grep -ln '"aifs/fs.h"' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(fs|main).c$$' | grep . || { echo 'fs.h outside fs/main'; false; }
	@! grep -ln -E '"aifs/(fs|tree|media|blobcache|api).h"' src/provider/*.c | grep . || { echo 'a provider reaching up'; false; }
	@echo 'lint: include boundaries hold'
	@mandoc -T lint -W warning man/aifs.1 man/aifs.conf.5 && echo 'lint: man pages clean'

# contrib/aifs.service as systemd reads it, with this build's binary in
# ExecStart (verify checks that every command exists)
verify-unit: aifs
	@d=$$(mktemp -d) && sed 's#/usr/local/bin/aifs#$(CURDIR)/aifs#' contrib/aifs.service >$$d/aifs.service && \
	systemd-analyze verify --man=no $$d/aifs.service; rc=$$?; rm -rf $$d; \
	test $$rc = 0 && echo 'verify-unit: contrib/aifs.service is sound'

install: aifs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 aifs $(DESTDIR)$(BINDIR)/aifs
	install -m 644 man/aifs.1 $(DESTDIR)$(MANDIR)/man1/aifs.1
	install -m 644 man/aifs.conf.5 $(DESTDIR)$(MANDIR)/man5/aifs.conf.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aifs $(DESTDIR)$(MANDIR)/man1/aifs.1 \
		$(DESTDIR)$(MANDIR)/man5/aifs.conf.5

clean:
	rm -rf build build-* aifs

.PHONY: all units check demo lint verify-unit install uninstall clean
# keep the objects of the unit tests: no rm lines after the test summary
.SECONDARY:
-include $(shell find build* -name '*.d' 2>/dev/null)

# ---- fuzzing ----
# make fuzz: fuzz/fuzz_*.c under libFuzzer, built by clang against the
# library compiled by the same clang with ASan, UBSan and coverage, each
# target run for FUZZ_SECONDS (FUZZ_TARGETS= picks some, FUZZ_FLAGS= adds
# libFuzzer options). New inputs go to build-fuzz/corpus/, crashes to
# build-fuzz/artifacts/, each run's log to build-fuzz/TARGET.log.
# make fuzz-replay: fuzz/corpus/ and fuzz/regressions/ through the same
# targets, built by $(CC) like the unit tests (SANITIZE= applies), quickly.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= arec ark bcmap chanjing config cval idenc journal url
FUZZ_FLAGS   ?=
FUZZ_O       := build-fuzz
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -pthread -g -O1 $(filter-out -Werror,$(WARN)) -Iinclude \
	$(shell $(PKG_CONFIG) --cflags $(PKGS)) -DAIFS_VERSION='"$(VERSION)"' \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIBOBJ  := $(LIBSRC:%.c=$(FUZZ_O)/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz_%)
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(O)/fuzz/replay_%)

$(FUZZ_O)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_O)/libaifs.a: $(FUZZ_LIBOBJ)
	$(AR) rcs $@ $^

$(FUZZ_O)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/fjson.h $(FUZZ_O)/libaifs.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_O)/libaifs.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_O)/artifacts; fail=; \
	for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_O)/corpus/$$t; \
		echo "fuzz $$t: $(FUZZ_SECONDS) s, log in $(FUZZ_O)/$$t.log"; \
		if UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_O)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_O)/artifacts/$$t- \
			$$(test -f fuzz/dict/$$t.dict && echo -dict=fuzz/dict/$$t.dict) $(FUZZ_FLAGS) \
			$(FUZZ_O)/corpus/$$t fuzz/corpus/$$t </dev/null >$(FUZZ_O)/$$t.log 2>&1; then \
			grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
				$(FUZZ_O)/$$t.log | sed 's/^/  /'; \
		else \
			sed -n '/INVARIANT FAILED\|ERROR: \|runtime error:/,$$p' $(FUZZ_O)/$$t.log | \
				head -n 80 | grep . || tail -n 40 $(FUZZ_O)/$$t.log; \
			fail="$$fail $$t"; \
		fi; \
	done; \
	test -z "$$fail" || { echo "fuzz: findings in$$fail: see $(FUZZ_O)/artifacts/"; false; }

$(O)/fuzz/replay_%: $(O)/fuzz/replay.o $(O)/fuzz/fuzz_%.o $(O)/libaifs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-replay: $(FUZZ_REPLAY)
	@fail=; for t in $(FUZZ_TARGETS); do \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(O)/fuzz/replay_$$t || fail="$$fail $$t"; \
	done; \
	test -z "$$fail" || { echo "fuzz-replay: failed:$$fail"; false; }

.SECONDARY: $(O)/fuzz/replay.o $(FUZZ_TARGETS:%=$(O)/fuzz/fuzz_%.o)
.PHONY: fuzz fuzz-build fuzz-replay
