# shellcheck shell=bash
# helper.bash - loaded by every .bats file: where the binary is, and a few
# assertion helpers (bats-assert is not packaged for Debian 12).

TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP_DIR="$(cd "$TESTS_DIR/.." && pwd)"
# XMPPSEND may point at an instrumented build (make asan / make valgrind).
: "${XMPPSEND:=$TOP_DIR/xmppsend}"
# XS_WRAP runs the binary under a wrapper (valgrind); empty normally.
: "${XS_WRAP:=}"
export XMPPSEND XS_WRAP
# Runs that do not go through xs() keep their login state (state.h) in
# the run's temp dir too, never in the user's home.
if [ -n "${BATS_RUN_TMPDIR-}" ]; then
    XDG_STATE_HOME=$BATS_RUN_TMPDIR/state
    export XDG_STATE_HOME
fi

# Debian's python3 (scripts/deps.sh installs it) first on PATH: the tests
# start python3 hundreds of times, and a version manager's shim (pyenv:
# a chain of shell scripts) costs about 0.5 s of CPU per start, seconds on
# a loaded machine, enough to run into the helpers' timeouts.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ] &&
    [ -n "${BATS_RUN_TMPDIR-}" ]; then
    mkdir -p "$BATS_RUN_TMPDIR/bin" &&
        ln -sf /usr/bin/python3 "$BATS_RUN_TMPDIR/bin/python3" &&
        PATH=$BATS_RUN_TMPDIR/bin:$PATH
fi

# xs ARGS...: run xmppsend under timeout with no config file, no
# inherited credentials and a login state (FAST token) of the test's own,
# so the caller's environment cannot leak in (XS_SYSCONFIG: the system
# config file, none by default).
xs() {
    # shellcheck disable=SC2086
    env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XMPPSEND_SYSCONFIG="${XS_SYSCONFIG-$BATS_TEST_TMPDIR/nosysconfig}" \
        XDG_CONFIG_HOME="${XS_CONFIG_HOME:-$BATS_TEST_TMPDIR/noconfig}" \
        XDG_STATE_HOME="${XS_STATE_HOME:-$BATS_TEST_TMPDIR/state}" \
        timeout "${XS_TIMEOUT:-60}" $XS_WRAP "$XMPPSEND" "$@"
}

fail() {
    printf '%s\n' "$*" >&2
    return 1
}

# xs_sample NAME: under XS_SAMPLE=N[:K] (make check's ASan and valgrind
# passes) run one test in N, those whose checksum of NAME is K modulo N
# (K 0 by default), the same ones every time, and skip the rest; the
# plain pass runs them all, and in make check ASan (K 1) and valgrind
# (K 0) take a half each, so every test runs under one of them.  Used by
# the hostile scenarios and cli.bats, the two longest files.
xs_sample() {
    if [[ ${XS_SAMPLE:-1} =~ ^([0-9]+)(:([0-9]+))?$ ]] &&
        ((BASH_REMATCH[1] > 1)); then
        local sum n=${BASH_REMATCH[1]} k=${BASH_REMATCH[3]:-0}
        sum=$(cksum <<<"$1")
        ((${sum%% *} % n == k)) ||
            skip "one test in $n under this pass (XS_SAMPLE=$XS_SAMPLE)"
    fi
}

# assert_match TEXT REGEX
assert_match() {
    [[ $1 =~ $2 ]] || fail "expected to match /$2/, got: $1"
}

# refute_match TEXT REGEX
refute_match() {
    if [[ $1 =~ $2 ]]; then fail "expected not to match /$2/, got: $1"; fi
}

# assert_stderr_line: stderr (bats' $stderr) has an "xmppsend: " line
assert_xs_error() {
    # shellcheck disable=SC2154 # $stderr: set by bats' run --separate-stderr
    assert_match "$stderr" "(^|"$'\n'")xmppsend: " || return 1
    if [ $# -gt 0 ]; then assert_match "$stderr" "$1"; fi
}

require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
    done
}
