#!/usr/bin/env bats
# unit.bats - run each C unit test program.  The Makefile builds them and
# passes their directory in UNIT_DIR (build/unit, build-asan/unit, ...);
# without it they are looked for in build/unit (what `make unit` builds).
# A missing binary is a failure, not a skip: it means the build is broken.  XS_WRAP
# (valgrind) wraps them as it wraps xmppsend.

bats_require_minimum_version 1.5.0

load helper

: "${UNIT_DIR:=$TOP_DIR/build/unit}"

# run_unit NAME: run one unit binary under timeout, show its output on
# failure, and require exit 0 plus the test.h summary line.
run_unit() {
    local bin="$UNIT_DIR/$1"

    [ -x "$bin" ] || fail "$bin is missing: build it with 'make unit'"
    # Valgrind (XS_SLOW) on a loaded 2-core machine is 20-50 times slower.
    local limit=120
    if [ -n "${XS_SLOW-}" ]; then limit=2400; fi
    # shellcheck disable=SC2086
    run timeout "$limit" $XS_WRAP "$bin"
    printf '%s\n' "$output"
    [ "$status" -eq 0 ] || fail "$1 exited with status $status"
    assert_match "$output" "(^|"$'\n'")$1: all [0-9]+ checks passed"
}

@test "unit: test_util (buffers, base64, UTF-8, sanitising)" {
    run_unit test_util
}

@test "unit: test_precis (PRECIS JID parts, RFC 8265/7622 examples, IDN domains)" {
    run_unit test_precis
}

@test "unit: test_sasl (SCRAM vectors, hostile servers)" {
    run_unit test_sasl
}

@test "unit: test_xmpp (session state machine on canned bytes)" {
    run_unit test_xmpp
}

@test "unit: test_upload (XEP-0363 slot and disco parsers at every read split)" {
    run_unit test_upload
}

@test "unit: test_roster (roster and subscription actions on canned bytes)" {
    run_unit test_roster
}

@test "unit: test_raw (--raw: accepted and refused stanzas, re-serialising)" {
    run_unit test_raw
}

@test "unit: test_lines (line mode: re-send with the original id after a drop)" {
    run_unit test_lines
}

@test "unit: test_digest (DIGEST-MD5 RFC 2831 examples, hostile challenges, --mechanism choice)" {
    run_unit test_digest
}

@test "unit: test_config (config files: defaults, accounts, inheritance, origins)" {
    run_unit test_config
}

@test "unit: test_state (login state file: parse, save, lock)" {
    run_unit test_state
}

@test "unit: test_compat (sendxmpp and go-sendxmpp command lines and account files)" {
    run_unit test_compat
}
