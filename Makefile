# aifs: mount AI content-generation task APIs as a filesystem.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
PKG_CONFIG ?= pkg-config
CC       ?= cc
SANITIZE ?=

PKGS     := fuse3 libcurl jansson inih
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
	cp $< $@

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

lint:
	@! grep -ln '<curl/curl.h>' src/*.c src/provider/*.c include/aifs/*.h | grep -v '^src/http.c$$' | grep . || { echo 'curl outside http'; false; }
	@! grep -ln '<fuse' src/*.c src/provider/*.c include/aifs/*.h | grep -v -E '^src/(fs|main).c$$' | grep . || { echo 'fuse outside fs/main'; false; }
	@! grep -ln '<jansson.h>' src/*.c include/aifs/*.h | grep -v -E '^src/(json).c$$' | grep . || { echo 'jansson outside provider/json'; false; }
	@echo 'lint: include boundaries hold'

install: aifs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 aifs $(DESTDIR)$(BINDIR)/aifs
	install -m 644 man/aifs.1 $(DESTDIR)$(MANDIR)/man1/aifs.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aifs $(DESTDIR)$(MANDIR)/man1/aifs.1

clean:
	rm -rf build build-* aifs

.PHONY: all units check lint install uninstall clean
-include $(shell find build* -name '*.d' 2>/dev/null)
