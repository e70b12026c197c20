# lint.mk - static analysis (style.md 25); included by the Makefile, which
# defines XS_CPPFLAGS.  Test it standalone with
#   make -f Makefile -f lint.mk lint          (make -k ... to see everything)
#
#   lint-cppcheck  cppcheck 2.10 on the C sources
#   lint-tidy      clang-tidy 14 with .clang-tidy, one process per file
#                  (make -j runs them in parallel)
#   lint-shell     shellcheck on the shell scripts
#   lint-man       groff warnings on the man page
#
# Deliberate suppressions carry their reason: C in .clang-tidy or below,
# shell as "# shellcheck disable=SCxxxx # reason" next to the line.

# Included before the Makefile's first rule, this fragment must not
# become the default goal: remember it here, restore it at the end.
LINT_SAVED_GOAL := $(.DEFAULT_GOAL)

CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
SHELLCHECK ?= shellcheck
GROFF ?= groff
LINT_C = $(wildcard *.c fuzz/*.c tests/unit/*.c)
LINT_SH = $(wildcard tests/*.bash tests/lib/* tests/fake/*.bash scripts/*.sh \
                     bench/*.sh completions/xmppsend.bash)

# cppcheck suppressions, each with its reason:
#   shadowVariable:config.c  cppcheck 2.10 parses the statement
#       "xs_free_secret(*all[i]);" in settings_free() as the declaration
#       of a variable 'all' (type xs_free_secret) and reports it as
#       shadowing the array it indexes.
CPPCHECK_SUPPRESS = --suppress=missingIncludeSystem \
                    --suppress=shadowVariable:config.c

lint: lint-cppcheck lint-tidy lint-shell lint-man

lint-cppcheck:
	$(CPPCHECK) --std=c11 --enable=warning,style,performance,portability \
	    --inline-suppr --error-exitcode=1 $(CPPCHECK_SUPPRESS) -q -I. \
	    $(LINT_C)

# One clang-tidy process per file: clang-tidy 14 analysing several files
# in one process reports false clang-analyzer-valist.Uninitialized errors
# on every va_start() after the first file.
lint-tidy: $(LINT_C:%=lint-tidy/%)

lint-tidy/%: %
	$(CLANG_TIDY) --quiet $< -- $(XS_CPPFLAGS) -std=c11

lint-shell:
	$(SHELLCHECK) $(LINT_SH)

lint-man:
	@out=$$($(GROFF) -mdoc -ww -z xmppsend.1 2>&1); \
	if [ -n "$$out" ]; then printf '%s\n' "$$out"; exit 1; fi; \
	echo "$(GROFF) -mdoc -ww -z xmppsend.1: no warnings"

.PHONY: lint lint-cppcheck lint-tidy lint-shell lint-man

.DEFAULT_GOAL := $(LINT_SAVED_GOAL)
