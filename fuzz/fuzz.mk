# fuzz/fuzz.mk - libFuzzer targets (style.md 24); included by the Makefile,
# which defines LIBSRC, XS_CPPFLAGS, WARN and LIBS.  Test it standalone with
#   make -f Makefile -f fuzz/fuzz.mk fuzz FUZZ_SECONDS=20
#
#   make fuzz-build      build every target into build-fuzz/
#   make fuzz            build, then fuzz each target for FUZZ_SECONDS
#                        (default 60) on a copy of its corpus in
#                        build-fuzz/corpus/TARGET; prints executions and
#                        exec/s per target; fails on any crash, leak,
#                        timeout or out-of-memory (reproducers in
#                        build-fuzz/artifacts/TARGET/, logs in
#                        build-fuzz/logs/)
#   make fuzz-regress    run each target once over fuzz/corpus/TARGET and
#                        fuzz/regress/TARGET (no fuzzing; seconds; skipped
#                        without clang)
#
# FUZZ_DIR=DIR builds (and fuzzes) in DIR instead of build-fuzz/, e.g. to
# keep several work trees' builds apart; FUZZERS=... picks targets.
# A crash found by `make fuzz` belongs in fuzz/regress/TARGET/ once fixed.
# The committed corpus is never written to.  Seeds: fuzz/make_corpus.py.

# Included before the Makefile's first rule, this fragment must not
# become the default goal: remember it here, restore it at the end.
FUZZ_SAVED_GOAL := $(.DEFAULT_GOAL)

FUZZERS ?= fuzz_stream fuzz_session fuzz_scram fuzz_jid fuzz_config \
           fuzz_upload fuzz_muc fuzz_digest fuzz_state
FUZZ_CC ?= clang
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
# clang (unlike gcc) warns about positional initializers that leave
# trailing members to C's zero fill, as opts.c's table does on purpose.
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
              $(WARN) -Wno-missing-field-initializers
FUZZ_SAN = address,undefined
FUZZ_OPTS = -timeout=10 -rss_limit_mb=2048
FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_LIBOBJ = $(LIBSRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS = $(FUZZERS:%=$(FUZZ_DIR)/%)

# The project sources: instrumented, but without libFuzzer's main().
$(FUZZ_DIR)/obj/%.o: %.c $(wildcard *.h)
	@mkdir -p $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(XS_CPPFLAGS) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_DIR)/%: fuzz/%.c $(FUZZ_LIBOBJ) $(wildcard *.h) tests/unit/replay.h
	$(FUZZ_CC) $(XS_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) \
	    -o $@ $< $(FUZZ_LIBOBJ) $(LIBS)

fuzz-build: $(FUZZ_BINS)

# Each target runs to the end even when an earlier one failed; the
# summary names the failures.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/logs; fail=; \
	for t in $(FUZZERS); do \
	    c=$(FUZZ_DIR)/corpus/$$t a=$(FUZZ_DIR)/artifacts/$$t/; \
	    log=$(FUZZ_DIR)/logs/$$t.log; \
	    mkdir -p $$c $$a; \
	    for f in fuzz/corpus/$$t/* fuzz/regress/$$t/*; do \
	        if [ -f "$$f" ]; then cp "$$f" $$c/; fi; \
	    done; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $$log)"; \
	    rc=0; $(FUZZ_ENV) timeout $$(($(FUZZ_SECONDS) + 300)) \
	        ./$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_OPTS) \
	        -print_final_stats=1 -artifact_prefix=$$a $$c >$$log 2>&1 \
	        || rc=$$?; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	    rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log); \
	    new=$$(sed -n 's/^stat::new_units_added: *//p' $$log); \
	    printf '%-14s %10s execs %8s exec/s %6s new units' \
	        $$t "$${runs:-?}" "$${rate:-?}" "$${new:-?}"; \
	    if [ $$rc -eq 0 ]; then echo; else \
	        echo "  FAILED (exit $$rc)"; fail="$$fail $$t"; \
	        grep -E '^(==[0-9]+==|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
	            $$log | head -n 20 | sed 's/^/    /'; \
	    fi; \
	done; \
	if [ -n "$$fail" ]; then \
	    echo "fuzz: failed:$$fail (reproducers in $(FUZZ_DIR)/artifacts/)"; \
	    exit 1; \
	fi

FUZZ_HAVE_CC := $(shell command -v $(FUZZ_CC) 2>/dev/null)
ifeq ($(FUZZ_HAVE_CC),)
fuzz-regress:
	@echo "fuzz-regress: $(FUZZ_CC) not found, skipped"
else
fuzz-regress: fuzz-build
	@mkdir -p $(FUZZ_DIR)/logs; fail=; \
	for t in $(FUZZERS); do \
	    log=$(FUZZ_DIR)/logs/$$t-regress.log; \
	    set -- ; \
	    for f in fuzz/corpus/$$t/* fuzz/regress/$$t/*; do \
	        if [ -f "$$f" ]; then set -- "$$@" "$$f"; fi; \
	    done; \
	    [ $$# -gt 0 ] || { echo "fuzz-regress: $$t: no inputs"; continue; }; \
	    if $(FUZZ_ENV) timeout 600 ./$(FUZZ_DIR)/$$t $(FUZZ_OPTS) "$$@" \
	        >$$log 2>&1; then \
	        echo "fuzz-regress: $$t: $$# inputs ok"; \
	    else \
	        echo "fuzz-regress: $$t: FAILED (log: $$log)"; fail="$$fail $$t"; \
	        grep -E '^(Running:|==[0-9]+==|SUMMARY|.*runtime error)' $$log | \
	            tail -n 12 | sed 's/^/    /'; \
	    fi; \
	done; \
	[ -z "$$fail" ]
endif

.PHONY: fuzz fuzz-build fuzz-regress

.DEFAULT_GOAL := $(FUZZ_SAVED_GOAL)
