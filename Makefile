# pam_apitoken - plain, overridable make.  See README.md ("Building").
#
#   make                 library, PAM module, tokenctl
#   make check           build and run every test (the README's test command)
#   make check SANITIZE=1  the same under ASan+UBSan (in build-san/)
#   make demo            issue a token and log in through real PAM (temp dir)
#   make install / uninstall   honour DESTDIR PREFIX LIBDIR INCLUDEDIR ...

VERSION      = 0.1.0
SOVERSION    = 0

PREFIX      ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
LIBDIR      ?= $(EXEC_PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SBINDIR     ?= $(EXEC_PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
SYSCONFDIR  ?= /etc
PAMDIR      ?= $(LIBDIR)/security
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions

CC          ?= cc
CFLAGS      ?= -O2 -g
LDFLAGS     ?=
PKG_CONFIG  ?= pkg-config
INSTALL     ?= install

WARNINGS = -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wcast-qual -Wwrite-strings -Wnull-dereference \
	-Wimplicit-fallthrough -Werror
HARDEN   = -fstack-protector-strong -fPIC
LDHARDEN = -Wl,-z,relro -Wl,-z,now

ifeq ($(SANITIZE),1)
B        ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
HARDEN  += -O1
else
B        ?= build
SANFLAGS =
HARDEN  += -D_FORTIFY_SOURCE=2
endif

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcrypto yaml-0.1)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs libcrypto yaml-0.1)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson)
JSON_LIBS   := $(shell $(PKG_CONFIG) --libs jansson)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CFLAGS) $(HARDEN) $(SANFLAGS) \
	$(WARNINGS) -Iverifier/include -Iverifier $(DEPS_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(LDHARDEN) $(SANFLAGS)

# --- libapitoken: verifier/ plus the config reader in conf/ -------------
LIB_SRC  = $(wildcard verifier/*.c) conf/config.c
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_A    = $(B)/libapitoken.a
LIB_SO   = $(B)/libapitoken.so.$(VERSION)
LIB_SONAME = libapitoken.so.$(SOVERSION)

# --- the PAM module (our library linked in; only pam_sm_* exported) -----
PAM_SRC  = $(wildcard pam_apitoken/*.c)
PAM_OBJ  = $(PAM_SRC:%.c=$(B)/obj/%.o)
PAM_SO   = $(B)/pam_apitoken.so

# --- tokenctl ----------------------------------------------------------
CTL_SRC  = $(wildcard tokenctl/*.c)
CTL_OBJ  = $(CTL_SRC:%.c=$(B)/obj/%.o)
CTL      = $(B)/tokenctl

# --- tests (Criterion): one binary per layer ---------------------------
UNIT_SRC = $(wildcard tests/unit/*.c)
CLI_SRC  = $(wildcard tests/cli/*.c)
PAMT_SRC = $(wildcard tests/pam/*.c)
TEST_BINS = $(if $(UNIT_SRC),$(B)/test-unit) $(if $(CLI_SRC),$(B)/test-cli) \
	$(if $(PAMT_SRC),$(B)/test-pam)
TEST_DEFS = -DBUILD_DIR='"$(abspath $(B))"' -DSRC_DIR='"$(abspath .)"'

all: $(LIB_SO) $(LIB_A) $(B)/libapitoken.pc $(if $(PAM_SRC),$(PAM_SO)) \
	$(if $(CTL_SRC),$(CTL))

$(B)/obj/%.o: %.c verifier/include/apitoken.h $(wildcard verifier/*.h) \
		$(wildcard tokenctl/*.h) $(wildcard pam_apitoken/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden $(JSON_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -o $@ $^ $(ALL_LDFLAGS) \
		$(DEPS_LIBS)
	ln -sf libapitoken.so.$(VERSION) $(B)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(B)/libapitoken.so

$(B)/libapitoken.pc: verifier/libapitoken.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $< > $@

$(PAM_SO): $(PAM_OBJ) $(LIB_A) pam_apitoken/pam_apitoken.map
	$(CC) -shared -Wl,--version-script=pam_apitoken/pam_apitoken.map \
		-o $@ $(PAM_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(DEPS_LIBS) -lpam

$(CTL): $(CTL_OBJ) $(LIB_A)
	$(CC) -pie -o $@ $(CTL_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(JSON_LIBS)

$(B)/tobj/%.o: %.c verifier/include/apitoken.h $(wildcard verifier/*.h) \
		$(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $(TEST_CFLAGS) $(JSON_CFLAGS) $(TEST_DEFS) \
		-c -o $@ $<

$(B)/test-unit: $(UNIT_SRC:%.c=$(B)/tobj/%.o) $(LIB_A)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(DEPS_LIBS) $(TEST_LIBS) -ldl

$(B)/test-cli: $(CLI_SRC:%.c=$(B)/tobj/%.o) $(LIB_A) $(CTL)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(JSON_LIBS) $(TEST_LIBS)

$(PAMT_SRC:%.c=$(B)/tobj/%.o): tests/pam/util.h

$(B)/test-pam: $(PAMT_SRC:%.c=$(B)/tobj/%.o) $(LIB_A) $(PAM_SO) $(CTL)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(TEST_LIBS) -lpam -ldl

tests: all $(TEST_BINS)

check: tests
	B=$(B) SANITIZE=$(SANITIZE) sh tests/run-all.sh $(TEST_BINS)

demo: all
	B=$(B) sh tests/demo.sh

# --- make bench [QUICK=1]: performance figures, not a test (BENCHMARKS.md)
BENCH_BINS = $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))

$(B)/bench/%: bench/%.c $(LIB_A) verifier/include/apitoken.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(ALL_LDFLAGS) $(DEPS_LIBS)

bench: all $(BENCH_BINS)
	B=$(B) QUICK=$(QUICK) sh bench/bench.sh

.PHONY: bench

install: all
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libapitoken.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libapitoken.so
	$(INSTALL) -m 0644 verifier/include/apitoken.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 0644 $(B)/libapitoken.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libapitoken.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	      $(DESTDIR)$(LIBDIR)/libapitoken.so \
	      $(DESTDIR)$(INCLUDEDIR)/apitoken.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/libapitoken.pc

clean:
	rm -rf build build-san

.PHONY: all tests check demo install uninstall clean
