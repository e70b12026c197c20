# xmppsend - hand-written GNU Makefile (style.md 22).
#   make                 build ./xmppsend
#   make test            build, unit + bats suites (installs nothing)
#   make check           everything CI runs: test, then the suites under
#                        ASan/UBSan and valgrind, fuzzing, static analysis,
#                        and the benchmark with its no-loss checks
#   make deb             the Debian package from HEAD in build/deb, lintian-checked
#   make demo            install what the demo needs, run it on loopback
#   make install         PREFIX, DESTDIR, BINDIR, MANDIR, BASHCOMPDIR,
#                        ZSHCOMPDIR honoured (binary, man page, completions)
#   make asan|valgrind   the whole suite on an instrumented build
#   make fuzz            build and run the libFuzzer targets (FUZZ_SECONDS)
#   make lint            cppcheck, clang-tidy, shellcheck, man page lint
#   make bench           compare with the peers, burst, 1 MiB, 1000 recipients (root)
#   make bench-rt        round trips per send at 50 ms RTT, peers too (root)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
PKG_CONFIG ?= pkg-config
PKGS = gnutls libxml-2.0 libcurl icu-uc

CFLAGS ?= -O2 -g
WARN = -std=c11 -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow \
       -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
       -Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla -Wundef \
       -Wimplicit-fallthrough
ifeq ($(WERROR),1)
WARN += -Werror
endif
# -U first: a compiler that predefines _FORTIFY_SOURCE would warn about
# the redefinition. The prefix map keeps the source directory out of the
# binary and its debug information (reproducible builds). gcc 12 and
# clang 14 accept all of these.
HARDEN = -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
         -fstack-clash-protection -fcf-protection -fPIE \
         -ffile-prefix-map=$(CURDIR)=.
LDHARDEN = -pie -Wl,-z,relro,-z,now
XS_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -I. \
              $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
XS_CFLAGS = $(WARN) $(HARDEN) $(CFLAGS)
# A --coverage build ends with exit(), not _exit(): gcov writes its
# counters at exit (xmppsend.c, finish).
ifneq ($(findstring --coverage,$(CFLAGS) $(LDFLAGS)),)
XS_CPPFLAGS += -DXS_COVERAGE
endif
# libcurl is not linked but loaded on first use (see http.c): only its
# headers are needed at build time.
LIBS = $(shell $(PKG_CONFIG) --libs gnutls libxml-2.0 icu-uc 2>/dev/null) \
       -lresolv -lanl -pthread -ldl

# B: object directory; BIN: the program (instrumented builds use others).
B ?= build
BIN ?= xmppsend
LIBSRC = util.c jid.c sasl.c xml.c xmpp.c net.c tls.c http.c config.c \
         password.c opts.c upload.c roster.c muc.c
# sendxmpp and go-sendxmpp command lines (compat.c)
LIBSRC += compat.c
LIBOBJ = $(LIBSRC:%.c=$(B)/%.o)
UNITS = test_sasl test_util test_xmpp test_password test_tls test_upload \
        test_roster
LIBSRC += receipts.c raw.c
UNITS += test_raw
LIBSRC += lines.c
LIBSRC += sasl_digest.c sasl_policy.c
LIBSRC += precis.c
LIBSRC += state.c runlog.c
# --serverinfo (serverinfo.c)
LIBSRC += serverinfo.c
# service discovery for upload.c and serverinfo.c (disco.c)
LIBSRC += disco.c
UNITS += test_digest
UNITS += test_lines
UNITS += test_precis
UNITS += test_config
UNITS += test_state
UNITS += test_compat
UNITBIN = $(UNITS:%=$(B)/unit/%)

all: $(BIN)

$(BIN): $(B)/xmppsend.o $(LIBOBJ)
	$(CC) $(XS_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/%.o: %.c $(wildcard *.h) | $(B)
	$(CC) $(XS_CPPFLAGS) $(CPPFLAGS) $(XS_CFLAGS) -c -o $@ $<

$(B)/unit/%: tests/unit/%.c tests/unit/test.h tests/unit/replay.h \
             tests/unit/canned.h $(LIBOBJ) | $(B)
	@mkdir -p $(B)/unit
	$(CC) $(XS_CPPFLAGS) $(CPPFLAGS) $(XS_CFLAGS) $(LDHARDEN) $(LDFLAGS) \
	    -o $@ $< $(LIBOBJ) $(LIBS)

$(B):
	mkdir -p $(B)

unit: $(UNITBIN)

deps:
	sh scripts/deps.sh

# The bats passes.  scripts/suites.sh runs the files of one or more passes
# SUITE_JOBS at a time (1: one after another), each under a line naming
# pass and file; logs and last times in build/suites/.  Each pass is a
# name and the environment of its bats runs.
# SUITE_SPLIT: files whose tests are independent (no shared server), run
# two tests at a time.
SUITE_JOBS ?= 4
SUITE_SPLIT = tests/hostile.bats
SUITES = timeout 5400 bash scripts/suites.sh -j $(SUITE_JOBS) \
         $(SUITE_SPLIT:%=-p %)
PLAIN_ENV = plain XMPPSEND=$(CURDIR)/$(BIN) UNIT_DIR=$(CURDIR)/$(B)/unit
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
ASAN_ENV = asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:exitcode=99 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
           XMPPSEND=$(CURDIR)/build-asan/xmppsend \
           UNIT_DIR=$(CURDIR)/build-asan/unit
VG_ENV = valgrind XMPPSEND=$(CURDIR)/build-vg/xmppsend \
         UNIT_DIR=$(CURDIR)/build-vg/unit \
         "XS_WRAP=valgrind -q --error-exitcode=99 --leak-check=full \
             --errors-for-leak-kinds=definite,indirect \
             --suppressions=$(CURDIR)/tests/valgrind.supp" \
         XS_SLOW=1 XS_SAMPLE=2

# Prosody 13 and ejabberd 24.12 (SASL2, Bind2, FAST) from Debian 12's
# backports, unpacked into build/backports for tests/prosody13-*.bats and
# tests/ejabberd24-*.bats (skipped without them): nothing is installed but
# the Debian 12 packages they need, which make deps installs anyway
# (scripts/deps.sh); a second run does nothing and needs no network.
backports:
	sh scripts/backports.sh

# Installs nothing (make deps or make check does); a sub-make so that
# pkg-config runs after check's deps.sh installed the -dev packages.
# Without the backports (no network) their tests skip.
test:
	$(MAKE) WERROR=1 all unit
	$(MAKE) backports || echo "make: no backports: their tests will skip"
	$(SUITES) $(PLAIN_ENV)

# The whole gate (2352 s at d9b95f3 on 2 otherwise idle cores).  The benchmark belongs
# here for its data-safety checks: a 200-process burst, 1 MiB and 1000
# recipients, each proven from the server's store; its timings are the
# quick ones (make bench measures properly).
# The gate fuzzes each target briefly (10 s: a smoke run over the corpus and
# past it); make fuzz runs FUZZ_SECONDS (60) each.
CHECK_FUZZ_SECONDS ?= 10
CHECK_TOOLS = clang libclang-rt-14-dev valgrind cppcheck clang-tidy \
              shellcheck hyperfine go-sendxmpp sendxmpp xmppc iproute2 \
              parallel
check:
	sh scripts/deps.sh $(CHECK_TOOLS)
	$(MAKE) backports
	$(MAKE) WERROR=1 all unit
	$(MAKE) -j2 --output-sync=target asan-build valgrind-build
	$(SUITES) $(PLAIN_ENV) , $(ASAN_ENV) XS_SAMPLE=2:1 , $(VG_ENV)
	$(MAKE) fuzz-regress
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) -j2 --output-sync=target lint
	$(MAKE) bench BENCH_QUICK=1 BENCH_BURST=200

demo:
	sh scripts/deps.sh
	$(MAKE) all
	bash scripts/demo.sh

asan: asan-build
	$(MAKE) backports || echo "make: no backports: their tests will skip"
	$(SUITES) $(ASAN_ENV)

asan-build:
	$(MAKE) WERROR=1 B=build-asan BIN=build-asan/xmppsend \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" all unit

valgrind: valgrind-build
	$(MAKE) backports || echo "make: no backports: their tests will skip"
	$(SUITES) $(VG_ENV)

valgrind-build:
	sh scripts/deps.sh valgrind
	$(MAKE) WERROR=1 B=build-vg BIN=build-vg/xmppsend CFLAGS="-O1 -g" \
	    all unit

bench:
	sh scripts/deps.sh hyperfine go-sendxmpp sendxmpp xmppc iproute2 util-linux
	$(MAKE) all
	XMPPSEND=$(CURDIR)/$(BIN) timeout 1500 bash bench/run.sh

# Round trips per send at 50 ms RTT (NFQUEUE delay in a namespace), all
# clients, several servers; writes bench/RESULTS.md and bench/results/.
# Root; about 12 minutes; not part of make check.
bench-rt:
	sh scripts/deps.sh go-sendxmpp sendxmpp xmppc iproute2 util-linux \
	    iptables iputils-ping libnetfilter-queue-dev gnuplot-nox
	$(MAKE) all
	XMPPSEND=$(CURDIR)/$(BIN) timeout 3000 bash bench/rt.sh
.PHONY: bench-rt

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/xmppsend
	install -m 644 xmppsend.1 $(DESTDIR)$(MANDIR)/man1/xmppsend.1
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 completions/xmppsend.bash $(DESTDIR)$(BASHCOMPDIR)/xmppsend
	install -m 644 completions/_xmppsend $(DESTDIR)$(ZSHCOMPDIR)/_xmppsend

# The Debian package (debian/) from HEAD, checked by lintian: build/deb
deb:
	sh scripts/deb.sh

# That package installed with apt into a fresh Debian 12 root
# (mmdebstrap: downloads from the mirror), sending from inside it
deb-root:
	bash scripts/deb-root.sh

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/xmppsend $(DESTDIR)$(MANDIR)/man1/xmppsend.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/xmppsend $(DESTDIR)$(ZSHCOMPDIR)/_xmppsend

format-check:
	clang-format --dry-run -Werror *.c *.h tests/unit/*.c tests/unit/*.h fuzz/*.c

clean:
	rm -rf build build-asan build-vg build-fuzz xmppsend

.PHONY: all unit deps test check demo asan asan-build valgrind valgrind-build \
        bench install uninstall format-check clean backports deb deb-root

include fuzz/fuzz.mk
include lint.mk
