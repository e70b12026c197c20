#!/usr/bin/env bats
# shellcheck shell=bats
# tls.bats - how xmppsend trusts a server: --pin (right, wrong, in the
# forms certtool and OpenSSL print, a certificate issued for another
# name), the message for an untrusted certificate, --insecure never using
# PLAIN, cleartext after <proceed/> that arrives after the ClientHello,
# and the socket of a failed transport set-up being closed once.  Against
# a real Prosody (tests/lib/prosody.bash, started once) and the scripted
# fake server (tests/fake/); delivery is proven from what Prosody stored.

bats_require_minimum_version 1.5.0

load helper
load lib/prosody
load fake/run_scenario

setup_file() {
    local c
    # bats 1.8 cannot skip from setup_file: setup() skips instead.
    for c in prosody prosodyctl python3 certtool; do
        if ! command -v "$c" >/dev/null 2>&1; then
            export TLS_SKIP="$c is not installed"
            return 0
        fi
    done
    prosody_start "$BATS_FILE_TMPDIR/prosody"
    hostile_setup "$BATS_FILE_TMPDIR"
    PW_FILE=$BATS_FILE_TMPDIR/alice.pw
    (umask 077 && printf 'alice-pw\n' >"$PW_FILE")
    export PW_FILE
}

teardown_file() {
    prosody_stop "$BATS_FILE_TMPDIR/prosody"
}

setup() {
    if [ -n "${TLS_SKIP-}" ]; then skip "$TLS_SKIP"; fi
}

# Shown by bats only when a test fails.  Also stops a fake server a
# test started (FAKE_PID), should the test have failed before it did.
teardown() {
    if [ -n "${FAKE_PID-}" ]; then
        kill "$FAKE_PID" 2>/dev/null || true
        wait "$FAKE_PID" 2>/dev/null || true
    fi
    printf '# last run: status=%s\n# stdout: %s\n# stderr: %s\n' \
        "${status-}" "${output-}" "${stderr-}"
}

# xsa ARGS...: xmppsend as alice on the test server, no --cafile
xsa() {
    xs --server "127.0.0.1:$PROSODY_PORT" -j alice@localhost \
        --password-file "$PW_FILE" "$@"
}

unique() {
    printf 'xs-tls%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

# stored_count USER TEXT: how many stored stanzas for USER contain TEXT
stored_count() {
    local n
    n=$(prosody_offline_messages "$PROSODY_DIR" "$1" | grep -cF "$2")
    printf '%s' "${n:-0}"
}

# pin_certtool CRT: "sha256:hex" as certtool -i prints it
pin_certtool() {
    timeout 20 certtool -i --infile "$1" | grep -A2 'Fingerprint:' |
        grep -o 'sha256:[0-9a-f]*'
}

@test "tls: unit test_tls (pin parsing, in-process TLS server)" {
    : "${UNIT_DIR:=$TOP_DIR/build/unit}"
    [ -x "$UNIT_DIR/test_tls" ] ||
        fail "$UNIT_DIR/test_tls is missing: build it with 'make unit'"
    # shellcheck disable=SC2086
    run timeout 120 $XS_WRAP "$UNIT_DIR/test_tls"
    printf '%s\n' "$output"
    [ "$status" -eq 0 ] || fail "test_tls exited with status $status"
    assert_match "$output" "(^|"$'\n'")test_tls: all [0-9]+ checks passed"
}

@test "tls: --pin of the server's certificate (certtool form): sent and stored" {
    local pin body
    pin=$(pin_certtool "$PROSODY_DIR/certs/localhost.crt")
    assert_match "$pin" '^sha256:[0-9a-f]{64}$'
    body="pinned $(unique)"
    run --separate-stderr xsa --pin "$pin" -m "$body" bob@localhost
    [ "$status" -eq 0 ] || fail "exit $status"
    [ -z "$stderr" ] || fail "stderr not empty"
    assert_match "$output" $'^sent\tbob@localhost\t'
    [ "$(stored_count bob "$body")" = 1 ] || fail "not stored exactly once"
}

@test "tls: --pin as OpenSSL prints it (SHA256, uppercase, colons): sent" {
    require_cmd openssl
    local fp body
    fp=$(timeout 20 openssl x509 -noout -fingerprint -sha256 \
        -in "$PROSODY_DIR/certs/localhost.crt")
    assert_match "$fp" '^(sha256|SHA256) Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}$'
    body="pinned openssl $(unique)"
    # Both the whole line and its "SHA256:" + hex part.
    run --separate-stderr xsa --pin "$fp" -m "$body" bob@localhost
    [ "$status" -eq 0 ] || fail "exit $status"
    run --separate-stderr xsa --pin "SHA256:${fp#*=}" -m "$body" bob@localhost
    [ "$status" -eq 0 ] || fail "exit $status"
    [ "$(stored_count bob "$body")" = 2 ] || fail "not stored twice"
}

@test "tls: wrong --pin: 69, the server's pin shown, nothing stored" {
    local pin body wrong
    pin=$(pin_certtool "$PROSODY_DIR/certs/localhost.crt")
    # Same length, last digit changed.
    wrong=${pin:0:70}$([ "${pin:70:1}" = 0 ] && echo 1 || echo 0)
    [ "$wrong" != "$pin" ] && [ ${#wrong} -eq 71 ] || fail "bad test pin"
    body="wrong pin $(unique)"
    run --separate-stderr xsa --pin "$wrong" -m "$body" bob@localhost
    [ "$status" -eq 69 ] || fail "exit $status, expected 69"
    assert_xs_error 'does not match --pin'
    [[ $stderr == *"server's pin: $pin"* ]] || fail "the right pin not shown"
    [[ $stderr != *$'\n'* ]] || fail "more than one line on stderr"
    [[ $output != *sent* ]] || fail "a 'sent' line on a refused run"
    [ "$(stored_count bob "$body")" = 0 ] || fail "stored nevertheless"
}

@test "tls: untrusted certificate: 69 with reason, pin and hint; that pin works" {
    local pin body shown
    pin=$(pin_certtool "$PROSODY_DIR/certs/localhost.crt")
    body="untrusted $(unique)"
    # No --cafile: the test CA is not in the system's trust store.
    run --separate-stderr xsa -m "$body" bob@localhost
    [ "$status" -eq 69 ] || fail "exit $status, expected 69"
    assert_xs_error '^xmppsend: certificate of localhost not trusted: [^()]+ '
    [[ $stderr == *"(server's pin: $pin; use --cafile FILE or --pin)" ]] ||
        fail "no pin and hint at the end of the line"
    [[ $stderr != *$'\n'* ]] || fail "more than one line on stderr"
    [ "$(stored_count bob "$body")" = 0 ] || fail "stored nevertheless"
    # What the message shows is what --pin takes.
    shown=$(grep -o 'sha256:[0-9a-f]*' <<<"$stderr")
    run --separate-stderr xsa --pin "$shown" -m "$body" bob@localhost
    [ "$status" -eq 0 ] || fail "exit $status with the pin shown"
    [ "$(stored_count bob "$body")" = 1 ] || fail "not stored once"
}

@test "tls: --pin of a certificate for another name: accepted (exact trust)" {
    # The fake server presents valid/other.example.crt for domain
    # localhost.  Without --pin that is refused (hostile.bats,
    # tls-cert-wrong-name); a pin trusts that very certificate, name and
    # issuer included (xmppsend.1, --pin).
    local d=$BATS_TEST_TMPDIR pin port i
    pin=$(pin_certtool "$BATS_FILE_TMPDIR/pki/valid/other.example.crt")
    timeout 60 python3 "$FAKE_DIR/fakeserver.py" \
        --scenario "$FAKE_DIR/scenarios/tls-cert-wrong-name.scn" \
        --port-file "$d/port" --transcript "$d/transcript" \
        --log "$d/server.log" --cert-dir "$BATS_FILE_TMPDIR/pki" \
        --user "$HOSTILE_USER" --password-file "$BATS_FILE_TMPDIR/password" \
        --max-seconds 50 >"$d/server.out" 2>&1 3>&- &
    FAKE_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -s "$d/port" ] && break
        kill -0 "$FAKE_PID" 2>/dev/null || break
        sleep 0.05
    done
    read -r port <"$d/port" || fail "fake server did not start"
    run --separate-stderr xs -j "$HOSTILE_USER@localhost" \
        --server "127.0.0.1:$port" --pin "$pin" \
        --password-file "$BATS_FILE_TMPDIR/password" --timeout 20 \
        -m 'pinned other name' recipient@localhost
    # It exits once the client has gone; teardown stops it otherwise.
    for ((i = 0; i < 40; i++)); do
        kill -0 "$FAKE_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ "$status" -eq 0 ] || fail "exit $status: $(tail -n 5 "$d/server.log")"
    assert_match "$output" $'^sent\trecipient@localhost\t'
    grep -q 'result: complete' "$d/server.log" ||
        fail "fake server did not complete: $(tail -n 5 "$d/server.log")"
}

@test "tls: --insecure against Prosody: SCRAM, never PLAIN; sent and stored" {
    # Prosody 0.12 offers SCRAM-SHA-1 and PLAIN over TLS.
    local body
    body="insecure $(unique)"
    run --separate-stderr xsa --insecure -d -m "$body" bob@localhost
    [ "$status" -eq 0 ] || fail "exit $status"
    assert_match "$stderr" "<mechanism>PLAIN</mechanism>"
    assert_match "$stderr" "mechanism=['\"]SCRAM-SHA-1['\"]"
    refute_match "$stderr" "mechanism=['\"]PLAIN['\"]"
    assert_match "$stderr" 'xmppsend: warning: --insecure'
    [ "$(stored_count bob "$body")" = 1 ] || fail "not stored once"
}

@test "tls: cleartext after <proceed/> arriving after the ClientHello: 76" {
    # The early check (bytes already waiting) cannot see these: the
    # handshake reads them as its first record.
    run_scenario tls-plaintext-injection-late
}

@test "tls: a failed transport set-up closes the socket once" {
    # An empty --cafile passes the readability check and fails in
    # transport_new, which owns (and closes) the connected socket.
    require_cmd strace
    [ -z "$XS_WRAP" ] || skip "strace would trace the wrapper"
    local empty=$BATS_TEST_TMPDIR/empty.pem log=$BATS_TEST_TMPDIR/strace
    : >"$empty"
    # LeakSanitizer cannot run under ptrace (make asan): leaks are its
    # business in every other test.
    run --separate-stderr timeout 60 strace -f -qq -e trace=close \
        -o "$log" env XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        "$XMPPSEND" --server "127.0.0.1:$PROSODY_PORT" -j alice@localhost \
        --password-file "$PW_FILE" --cafile "$empty" -m x bob@localhost
    [ "$status" -eq 66 ] || fail "exit $status, expected 66"
    assert_xs_error 'CA certificate'
    ! grep -q 'EBADF' "$log" ||
        fail "a descriptor was closed twice: $(grep EBADF "$log")"
}
