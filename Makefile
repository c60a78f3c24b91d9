# SPDX-License-Identifier: BSD-2-Clause
# pam_apitoken - plain, overridable make.  See docs/HACKING.md ("Building").
#
#   make                 library, PAM module, tokenctl
#   make check           build and run every test (the README's test command)
#   make check SANITIZE=1  the same under ASan+UBSan (in build-san/)
#   make check-valgrind  the PAM end-to-end and apitokend tests under valgrind
#   make demo            issue a token and log in through real PAM (temp dir)
#   make STATIC_DEPS=1   link libyaml too into pam_apitoken.so (nettle always)
#   make install / uninstall   honour DESTDIR PREFIX LIBDIR INCLUDEDIR ...
#   make check-deb       as root: build the .deb, install, log in via sshd, purge
#   make clean [B=dir]   remove build/, build-san/, build-fuzz/ (or dir only)
#   make WERROR=         warnings are not errors (distribution builds)

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
# PAMDIR: where this system's libpam looks for modules.  Asked from pam.pc
# (Debian 12: /lib/x86_64-linux-gnu/security), else $(LIBDIR)/security;
# override with e.g. "make install PAMDIR=/usr/lib64/security".
PAMDIR      ?= $(if $(PAM_LIBDIR),$(PAM_LIBDIR)/security,$(LIBDIR)/security)
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# the PAM service files of conf/pam.d/, as examples (the .deb puts
# apitoken-selfservice into /etc/pam.d itself)
EXAMPLESDIR ?= $(DATADIR)/doc/pam_apitoken/examples
# systemd looks for units in /usr/local/lib/systemd/system too; Debian 12
# puts a package's in /lib/systemd/system (debian/rules says so).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

CC          ?= cc
CFLAGS      ?= -O2 -g
LDFLAGS     ?=
PKG_CONFIG  ?= pkg-config
INSTALL     ?= install
PAM_LIBDIR  := $(shell $(PKG_CONFIG) --variable=libdir pam 2>/dev/null)

WARNINGS = -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wcast-qual -Wwrite-strings -Wnull-dereference \
	-Wimplicit-fallthrough $(WERROR)
# Warnings are errors for development and CI; a distribution build, whose
# newer compiler may warn about what ours did not, clears it (debian/rules
# passes WERROR=).
WERROR  ?= -Werror
# Each object's header dependencies, written by the compiler (build/**/*.d)
DEPFLAGS = -MMD -MP
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

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags nettle yaml-0.1)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs nettle yaml-0.1)
NETTLE_LIBS := $(shell $(PKG_CONFIG) --libs nettle)
YAML_LIBS   := $(shell $(PKG_CONFIG) --libs yaml-0.1)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson)
JSON_LIBS   := $(shell $(PKG_CONFIG) --libs jansson)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
# tests check hashes against OpenSSL's SHA-256, an oracle independent of nettle
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs criterion libcrypto 2>/dev/null)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CFLAGS) $(HARDEN) $(SANFLAGS) \
	$(WARNINGS) -Iverifier/include -Iverifier $(DEPS_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(LDHARDEN) $(SANFLAGS)

# --- libapitoken: verifier/ (the config reader included) ---------------
LIB_SRC  = $(wildcard verifier/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_A    = $(B)/libapitoken.a
LIB_SO   = $(B)/libapitoken.so.$(VERSION)
LIB_SONAME = libapitoken.so.$(SOVERSION)

# --- the PAM module (our library linked in; only pam_sm_* exported) -----
PAM_SRC  = $(wildcard pam_apitoken/*.c)
PAM_OBJ  = $(PAM_SRC:%.c=$(B)/obj/%.o)
PAM_SO   = $(B)/pam_apitoken.so
# nettle (SHA-256 and the constant-time compare only) is linked into the
# module: loading libnettle.so costs every authenticating process ~550
# symbol relocations (BENCHMARKS.md).  libyaml stays a shared library, so
# that a security update of the parser reaches the module without a
# rebuild; a nettle update needs one (debian/control: Static-Built-Using).
# make STATIC_DEPS=1 links libyaml in too: $(PAM_STATIC) is that variant,
# always built for the tests and the benchmark; it is never installed.
MOD_STATIC_LIBS = -Wl,-Bstatic $(DEPS_LIBS) -Wl,-Bdynamic \
	-Wl,--exclude-libs,ALL
MOD_NETTLE_LIBS = -Wl,-Bstatic $(NETTLE_LIBS) -Wl,-Bdynamic $(YAML_LIBS) \
	-Wl,--exclude-libs,ALL
MOD_LIBS   = $(if $(filter 1,$(STATIC_DEPS)),$(MOD_STATIC_LIBS),\
	$(MOD_NETTLE_LIBS))
PAM_STATIC = $(B)/static/pam_apitoken.so
# -z nodelete: pam_end's dlclose leaves the module (and libyaml) mapped.
# A login process exits right after it, so unmapping both (munmap and
# TLB flushes) was wasted work; a long-lived caller (nginx, Dovecot)
# dlopens the loaded copy again at its next pam_start instead of mapping
# and relocating it anew.  The module keeps no mutable static state.
MOD_LDFLAGS = -Wl,-z,nodelete

# --- fleet/: PostgreSQL, the fleet's source of truth (fleet/fleet.h) ---
# libpq is linked into tokenctl and apitokend only, never the module.
F_SRC    = $(wildcard fleet/*.c)
F_OBJ    = $(F_SRC:%.c=$(B)/obj/%.o)
FLEET_A  = $(B)/libfleet.a
PQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq)
PQ_LIBS   := $(shell $(PKG_CONFIG) --libs libpq)

# --- tokenctl ----------------------------------------------------------
CTL_SRC  = $(wildcard tokenctl/*.c)
# tokenctl doctor checks module options with the module's own parser
CTL_OBJ  = $(CTL_SRC:%.c=$(B)/obj/%.o) $(B)/obj/pam_apitoken/args.o
CTL      = $(B)/tokenctl

# --- apitokend: the service for non-root PAM callers (apitokend(8)) ---
# libsystemd (socket activation, readiness) is linked into it alone.
D_SRC    = $(wildcard apitokend/*.c)
D_OBJ    = $(D_SRC:%.c=$(B)/obj/%.o)
DAEMON   = $(B)/apitokend
SYSTEMD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libsystemd)
SYSTEMD_LIBS   := $(shell $(PKG_CONFIG) --libs libsystemd)
# GNU libmicrohttpd (the HTTP front end, apitokend/http*.c), likewise
MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd)
MHD_LIBS   := $(shell $(PKG_CONFIG) --libs libmicrohttpd)

# --- tests (Criterion): one binary per layer ---------------------------
UNIT_SRC = $(wildcard tests/unit/*.c)
CLI_SRC  = $(wildcard tests/cli/*.c)
PAMT_SRC = $(wildcard tests/pam/*.c)
STRESS_SRC = $(wildcard tests/stress/*.c)
BADIN_SRC  = $(wildcard tests/badinput/*.c)
TEST_BINS = $(if $(UNIT_SRC),$(B)/test-unit) $(if $(CLI_SRC),$(B)/test-cli) \
	$(if $(PAMT_SRC),$(B)/test-pam) \
	$(if $(STRESS_SRC),$(B)/test-stress) $(if $(BADIN_SRC),$(B)/test-badinput)
TEST_DEFS = -DBUILD_DIR='"$(abspath $(B))"' -DSRC_DIR='"$(abspath .)"'
# tests/lib/: the helper library linked into every test binary (tl.h)
TLIB_OBJ = $(patsubst %.c,$(B)/tobj/%.o,$(filter-out %/die-abort.c,\
	$(wildcard tests/lib/*.c)))
# install, man page lint and secret-scanner rule tests (tests/install/)
INST_SRC  = $(wildcard tests/install/*.c)
TEST_BINS += $(if $(INST_SRC),$(B)/test-install)
# the public API as another program uses it (tests/api/): only
# -Iverifier/include, linked to the shared library
API_SRC   = $(wildcard tests/api/*.c)
TEST_BINS += $(if $(API_SRC),$(B)/test-api)
# fault injection (tests/fault/): libc calls fail one at a time (--wrap)
FAULT_SRC = $(wildcard tests/fault/*.c)
TEST_BINS += $(if $(FAULT_SRC),$(B)/test-fault)
# apitokend (tests/daemon/): the daemon run in the foreground per test
DMN_SRC   = $(wildcard tests/daemon/*.c)
TEST_BINS += $(if $(DMN_SRC),$(B)/test-daemon)
# the fleet (tests/fleet/): a real PostgreSQL server per test (tf.h),
# replicas started with the daemon's fixture (tests/daemon/td.c)
FLT_SRC   = $(wildcard tests/fleet/*.c)
TEST_BINS += $(if $(FLT_SRC),$(B)/test-fleet)

all: $(LIB_SO) $(LIB_A) $(if $(PAM_SRC),$(PAM_SO)) $(if $(CTL_SRC),$(CTL)) \
	$(if $(D_SRC),$(DAEMON))

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fvisibility=hidden $(JSON_CFLAGS) \
		-c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -o $@ $^ $(ALL_LDFLAGS) \
		$(DEPS_LIBS)
	ln -sf libapitoken.so.$(VERSION) $(B)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(B)/libapitoken.so

$(PAM_SO): $(PAM_OBJ) $(LIB_A) pam_apitoken/pam_apitoken.map
	$(CC) -shared -Wl,--version-script=pam_apitoken/pam_apitoken.map \
		-o $@ $(PAM_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(MOD_LDFLAGS) \
		$(MOD_LIBS) -lpam

$(PAM_STATIC): $(PAM_OBJ) $(LIB_A) pam_apitoken/pam_apitoken.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,--version-script=pam_apitoken/pam_apitoken.map \
		-o $@ $(PAM_OBJ) $(LIB_A) $(ALL_LDFLAGS) $(MOD_LDFLAGS) \
		$(MOD_STATIC_LIBS) -lpam

$(B)/obj/fleet/%.o: fleet/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fvisibility=hidden $(PQ_CFLAGS) \
		-c -o $@ $<

$(FLEET_A): $(F_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/obj/tokenctl/%.o: tokenctl/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fvisibility=hidden $(JSON_CFLAGS) \
		-Ifleet $(PQ_CFLAGS) -c -o $@ $<

$(CTL): $(CTL_OBJ) $(FLEET_A) $(LIB_A)
	$(CC) -pie -o $@ $(CTL_OBJ) $(FLEET_A) $(LIB_A) $(ALL_LDFLAGS) \
		$(DEPS_LIBS) $(JSON_LIBS) $(PQ_LIBS)

$(B)/obj/apitokend/%.o: apitokend/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fvisibility=hidden $(SYSTEMD_CFLAGS) \
		$(MHD_CFLAGS) -Ifleet $(PQ_CFLAGS) -c -o $@ $<

# -lpam: self-service re-authentication (apitokend/self_pam.c only).
# Under ASan, libcrypt is linked in: ASan intercepts crypt_r, and with
# libcrypt first loaded by pam_unix (dlopen) the interceptor has no real
# function to call (a jump to address 0).
ifeq ($(SANITIZE),1)
D_SAN_LIBS = -Wl,--no-as-needed -lcrypt -Wl,--as-needed
endif
$(DAEMON): $(D_OBJ) $(FLEET_A) $(LIB_A)
	$(CC) -pie -o $@ $(D_OBJ) $(FLEET_A) $(LIB_A) $(ALL_LDFLAGS) \
		$(DEPS_LIBS) $(SYSTEMD_LIBS) $(MHD_LIBS) $(PQ_LIBS) -lpam \
		$(D_SAN_LIBS) -lpthread

$(B)/tobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests -Itests/lib $(TEST_CFLAGS) \
		$(JSON_CFLAGS) $(TEST_DEFS) -c -o $@ $<

$(TEST_BINS): $(TLIB_OBJ)

$(B)/test-unit: $(UNIT_SRC:%.c=$(B)/tobj/%.o) $(LIB_A)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(DEPS_LIBS) $(TEST_LIBS) -ldl

$(B)/test-cli: $(CLI_SRC:%.c=$(B)/tobj/%.o) $(LIB_A) $(CTL)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(JSON_LIBS) $(TEST_LIBS)

$(B)/test-api: $(API_SRC) verifier/include/apitoken.h $(LIB_SO)
	$(CC) -std=c11 -D_GNU_SOURCE $(CFLAGS) $(HARDEN) $(SANFLAGS) \
		$(WARNINGS) -Iverifier/include $(TEST_CFLAGS) -o $@ \
		$(API_SRC) $(ALL_LDFLAGS) -L$(B) -lapitoken \
		-Wl,-rpath,$(abspath $(B)) $(TEST_LIBS)

$(B)/test-pam: $(PAMT_SRC:%.c=$(B)/tobj/%.o) $(LIB_A) $(PAM_SO) $(CTL) \
		$(PAM_STATIC)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(TEST_LIBS) -lpam -ldl

# stress, crash safety, secret scan (tests/stress/) and the bad-input
# table (tests/badinput/, sharing tests/stress/sx.c)
$(B)/test-stress: $(STRESS_SRC:%.c=$(B)/tobj/%.o) $(LIB_A) $(CTL) $(PAM_SO)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(JSON_LIBS) $(TEST_LIBS) -lpam

# the throttle table (its cap) and the change watch are also tested alone,
# linked in directly
# test_module.c drives the module through libpam with the PAM suite's
# fixture (tests/pam/util.c)
$(B)/test-daemon: $(DMN_SRC:%.c=$(B)/tobj/%.o) $(B)/obj/apitokend/throttle.o \
		$(B)/obj/apitokend/fwatch.o $(B)/obj/apitokend/log.o \
		$(B)/tobj/tests/pam/util.o $(LIB_A) \
		$(CTL) $(DAEMON) $(PAM_SO)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(TEST_LIBS) -lpam -lpthread

# (libpq too: a test holds a transaction open, or reads the tables;
# fleet/ for the schema and the replica tests' own connections)
$(B)/tobj/tests/fleet/%.o: TEST_CFLAGS += -Ifleet $(PQ_CFLAGS)
$(B)/test-fleet: $(FLT_SRC:%.c=$(B)/tobj/%.o) $(B)/tobj/tests/daemon/td.o \
		$(B)/tobj/tests/pam/util.o $(FLEET_A) $(LIB_A) $(CTL) $(DAEMON) \
		$(PAM_SO)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(TEST_LIBS) $(PQ_LIBS) $(JSON_LIBS) -lpam -lpthread

$(B)/test-badinput: $(BADIN_SRC:%.c=$(B)/tobj/%.o) \
		$(B)/tobj/tests/stress/sx.o $(LIB_A) $(CTL)
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(DEPS_LIBS) \
		$(JSON_LIBS) $(TEST_LIBS)

# The PAM end-to-end tests (and the secret scan) and apitokend's tests
# (the daemon is one of the processes followed) under valgrind memcheck:
# no invalid access and no definite leak in any process, Criterion's
# workers and tokenctl included (tests/stress/valgrind.sh).  Not the
# self-service suite: it runs tokenctl as another user after a fork, and
# valgrind's per-process log of the forked child is root's, so the
# user's tokenctl cannot write it (it runs under SANITIZE=1 instead).
check-valgrind: all $(B)/test-pam $(B)/test-stress $(B)/test-daemon
	sh tests/stress/valgrind.sh $(B)/test-pam
	sh tests/stress/valgrind.sh $(B)/test-stress --filter 'secrets/*'
	sh tests/stress/valgrind.sh $(B)/test-daemon --filter '!(self)/*'

.PHONY: check-valgrind

tests: all $(TEST_BINS)

check: tests
	B=$(B) SANITIZE=$(SANITIZE) sh tests/run-all.sh $(TEST_BINS)

demo: all
	B=$(B) sh tests/demo.sh

# --- make bench [QUICK=1]: performance figures, not a test (BENCHMARKS.md)
BENCH_BINS = $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))

$(B)/bench/%: bench/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< $(LIB_A) $(ALL_LDFLAGS) \
		$(DEPS_LIBS)

bench: all $(BENCH_BINS) $(PAM_STATIC)
	B=$(B) QUICK=$(QUICK) sh bench/bench.sh

# apitokend's figures alone (make bench runs them too): bench/daemon.sh
bench-daemon: all $(BENCH_BINS)
	B=$(B) QUICK=$(QUICK) sh bench/daemon.sh

# the fleet's figures alone (make bench runs them too): bench/fleet.sh
bench-fleet: all $(BENCH_BINS)
	B=$(B) QUICK=$(QUICK) sh bench/fleet.sh

.PHONY: bench bench-daemon bench-fleet

# --- install: what a distribution package ships ----------------------
# The config is never overwritten; uninstall removes it only while it is
# still byte-identical to conf/apitoken.yaml (a site's edits are kept).
CONFDIR   = $(SYSCONFDIR)/apitoken
MAN_PAGES = $(wildcard man/*.5 man/*.8)
MAN_DEST  = $(foreach m,$(MAN_PAGES),\
	$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
BASHCOMP  = contrib/bash-completion/tokenctl
PAMD_EXAMPLES = $(wildcard conf/pam.d/*)
# libapitoken.pc is written once, here, with the install-time PREFIX,
# LIBDIR and INCLUDEDIR (the build does not need it).
PC_SUBST  = -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'

install: all
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(PAMDIR) \
		$(DESTDIR)$(SBINDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(EXAMPLESDIR)/pam.d \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libapitoken.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libapitoken.so
	$(INSTALL) -m 0644 verifier/include/apitoken.h $(DESTDIR)$(INCLUDEDIR)/
	sed $(PC_SUBST) verifier/libapitoken.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/libapitoken.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libapitoken.pc
	$(INSTALL) -m 0644 $(PAM_SO) $(DESTDIR)$(PAMDIR)/pam_apitoken.so
	$(INSTALL) -m 0755 $(CTL) $(DESTDIR)$(SBINDIR)/tokenctl
	$(INSTALL) -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/apitokend
	$(INSTALL) -m 0644 conf/systemd/apitokend.socket \
		$(DESTDIR)$(SYSTEMDUNITDIR)/
	sed 's|/usr/sbin/apitokend|$(SBINDIR)/apitokend|' \
		conf/systemd/apitokend.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/apitokend.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/apitokend.service
	$(foreach m,$(MAN_PAGES),$(INSTALL) -m 0644 $(m) \
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/ &&) true
	$(foreach f,$(wildcard $(BASHCOMP)),$(INSTALL) -m 0644 $(f) \
		$(DESTDIR)$(BASHCOMPDIR)/tokenctl &&) true
	$(foreach f,$(PAMD_EXAMPLES),$(INSTALL) -m 0644 $(f) \
		$(DESTDIR)$(EXAMPLESDIR)/pam.d/ &&) true
	@if [ -e $(DESTDIR)$(CONFDIR)/apitoken.yaml ] || \
	    [ -L $(DESTDIR)$(CONFDIR)/apitoken.yaml ]; then \
		echo "keeping existing $(DESTDIR)$(CONFDIR)/apitoken.yaml"; \
	else \
		echo "$(INSTALL) -m 0644 conf/apitoken.yaml $(DESTDIR)$(CONFDIR)/"; \
		$(INSTALL) -m 0644 conf/apitoken.yaml $(DESTDIR)$(CONFDIR)/; \
	fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libapitoken.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	      $(DESTDIR)$(LIBDIR)/libapitoken.so \
	      $(DESTDIR)$(INCLUDEDIR)/apitoken.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/libapitoken.pc \
	      $(DESTDIR)$(PAMDIR)/pam_apitoken.so \
	      $(DESTDIR)$(SBINDIR)/tokenctl \
	      $(DESTDIR)$(SBINDIR)/apitokend \
	      $(DESTDIR)$(SYSTEMDUNITDIR)/apitokend.socket \
	      $(DESTDIR)$(SYSTEMDUNITDIR)/apitokend.service \
	      $(DESTDIR)$(BASHCOMPDIR)/tokenctl $(MAN_DEST) \
	      $(PAMD_EXAMPLES:conf/pam.d/%=$(DESTDIR)$(EXAMPLESDIR)/pam.d/%)
	rmdir $(DESTDIR)$(EXAMPLESDIR)/pam.d $(DESTDIR)$(EXAMPLESDIR) \
	      $(DESTDIR)$(DATADIR)/doc/pam_apitoken 2>/dev/null || true
	@if cmp -s conf/apitoken.yaml $(DESTDIR)$(CONFDIR)/apitoken.yaml; then \
		echo "rm -f $(DESTDIR)$(CONFDIR)/apitoken.yaml"; \
		rm -f $(DESTDIR)$(CONFDIR)/apitoken.yaml; \
		rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(CONFDIR)/apitoken.yaml ]; then \
		echo "keeping modified $(DESTDIR)$(CONFDIR)/apitoken.yaml"; \
	fi

# test-install runs "make install" into temp dirs with B=$(B): it needs
# everything "install" copies already built.
$(B)/test-install: $(INST_SRC:%.c=$(B)/tobj/%.o) $(LIB_SO) $(PAM_SO) $(CTL) \
		$(DAEMON)
	$(CC) -o $@ $(filter %.o,$^) $(ALL_LDFLAGS) $(TEST_LIBS) -ldl -lm

# As root, on a Debian machine with debhelper: see tests/install/deb-e2e.sh.
check-deb:
	sh tests/install/deb-e2e.sh

# --- fault injection: every call to these fails in turn (tests/fault/) --
FAULT_WRAP = malloc calloc realloc strdup open openat read write fsync \
	rename renameat mmap getrandom pread

$(B)/test-fault: $(FAULT_SRC:%.c=$(B)/tobj/%.o) $(LIB_A)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(FAULT_WRAP:%=-Wl,--wrap=%) \
		$(DEPS_LIBS) $(TEST_LIBS)

# --- fuzzing: libFuzzer targets in tests/fuzz/ (docs/HACKING.md, "Fuzzing") ---
#   make fuzz [FUZZ_TIME=seconds per target, default 60]
# Builds into build-fuzz/ with clang, runs each target on a copy of its
# seed corpus (tests/fuzz/corpus/<target>/, never modified) and fails on
# any crash, sanitizer report, broken invariant or saved crasher.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_B       ?= build-fuzz
FUZZ_TARGETS  = token header store config cli proto httpauth replica
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 $(FUZZ_SAN) $(WARNINGS) \
	-Iverifier/include -Iverifier -Itests/fuzz -Itests/lib $(DEPS_CFLAGS) \
	$(DEPFLAGS)
FUZZ_OBJ      = $(LIB_SRC:%.c=$(FUZZ_B)/obj/%.o) \
	$(FUZZ_B)/obj/tests/fuzz/fuzz_common.o \
	$(FUZZ_B)/obj/tests/fuzz/fuzz_oracle.o \
	$(patsubst %,$(FUZZ_B)/obj/tests/lib/%.o,oracle fs die-abort)
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)

$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/tgt/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -c -o $@ $<

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/tgt/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(DEPS_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_B)

.PHONY: fuzz fuzz-build fuzz-clean
.PRECIOUS: $(FUZZ_B)/tgt/%.o $(FUZZ_B)/obj/%.o

# make clean: build/, build-san/ and build-fuzz/; make clean B=dir: dir only
clean:
	rm -rf $(if $(filter command line environment,$(origin B)),$(B),\
		build build-san $(FUZZ_B))

# the header dependencies the compiler wrote (-MMD -MP) of every object
-include $(shell find $(B) $(FUZZ_B) -name '*.d' 2>/dev/null)

.PHONY: all tests check demo install uninstall clean check-deb
