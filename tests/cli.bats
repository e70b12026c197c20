# shellcheck shell=bats
# cli.bats - the command line without a server: options, usage errors,
# JIDs, the message body, password sources, the configuration file and
# exit codes.  Nothing here leaves the machine: every run that gets as far
# as connecting is pointed at 127.0.0.1 (port 1, which refuses, or a
# silent python3 listener), and the one name lookup runs in an empty
# network namespace.

bats_require_minimum_version 1.5.0

load helper

# Every long option of the contract, in --help order.
LONG_OPTS=(debug config help jid message password quiet subject version
    cafile insecure json password-command password-file pin resource
    roster server thread timeout type chatroom create-room nick room-password)
LONG_OPTS+=(message-file raw receipt skip-empty wait)

setup() {
    xs_sample "$BATS_TEST_DESCRIPTION" # ASan, valgrind: a half each
    # An account that gets as far as connecting: 127.0.0.1:1 refuses the
    # connection, which is exit 75, so reaching 75 proves that everything
    # before the network step was accepted.
    ACCT=(-j alice@localhost -p pw --server 127.0.0.1:1 --timeout 10)
    CONF="$BATS_TEST_TMPDIR/config"
}

teardown() {
    # Stop what this test started, by saved PID only.
    local f
    for f in "$BATS_TEST_TMPDIR"/*.pid; do
        [ -e "$f" ] || continue
        kill "$(cat "$f")" 2>/dev/null || true
    done
}

# check_exit WANT WHAT: for runs inside loops, where `run -N` would not
# say which value failed.  Also requires the "xmppsend: " stderr line.
check_exit() {
    [ "$status" -eq "$1" ] ||
        fail "$2: expected exit $1, got $status; stderr: $stderr"
    [ "$1" -eq 0 ] || assert_xs_error || fail "$2: no 'xmppsend: ' line"
}

# write_config MODE LINE...: the test's config file with the given mode.
write_config() {
    local mode=$1
    shift
    printf '%s\n' "$@" >"$CONF"
    chmod "$mode" "$CONF"
}

# wait_for FILE: up to 5 s for FILE to exist.
wait_for() {
    for _ in $(seq 50); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    fail "timed out waiting for $1"
}

# start_silent_listener: a TCP listener on a random 127.0.0.1 port that
# accepts connections and never sends a byte.  Sets PORT; every accepted
# connection appends a line to $LDIR/accepted.
start_silent_listener() {
    require_cmd python3
    LDIR="$BATS_TEST_TMPDIR/listener"
    mkdir -p "$LDIR"
    cat >"$LDIR/silent.py" <<'EOF'
import os, socket, sys
d = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(os.path.join(d, "accepted"), "a") as f:
        f.write("accepted\n")
EOF
    timeout 60 python3 "$LDIR/silent.py" "$LDIR" >/dev/null 2>&1 3>&- &
    echo "$!" >"$BATS_TEST_TMPDIR/listener.pid"
    wait_for "$LDIR/port"
    PORT=$(cat "$LDIR/port")
}

# xs_pty ARGS...: like xs, but with a pseudo-terminal as the controlling
# terminal and standard input (util-linux script); stdout and stderr are
# merged into $output, and also logged to $XS_PTY_LOG if set.
xs_pty() {
    local cmd
    # shellcheck disable=SC2086
    cmd=$(printf '%q ' $XS_WRAP "$XMPPSEND" "$@")
    env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="${XS_CONFIG_HOME:-$BATS_TEST_TMPDIR/noconfig}" \
        XDG_STATE_HOME="${XS_STATE_HOME:-$BATS_TEST_TMPDIR/state}" \
        timeout "${XS_TIMEOUT:-60}" script -qfec "$cmd" "${XS_PTY_LOG:-/dev/null}"
}

# Long options as --help prints them, one per line, sorted.
help_long_options() {
    xs --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# Long options the man page documents with .Fl \-name, sorted.
man_long_options() {
    grep -oE 'Fl \\-[a-z][a-z0-9-]*' "$TOP_DIR/xmppsend.1" |
        sed 's/^Fl \\-/--/' | sort -u
}

# ---------------------------------------------------------------------
# --help, --version and the documentation

@test "--help: exit 0, every long option on stdout, exit codes listed" {
    run -0 --separate-stderr xs --help
    [ -z "$stderr" ] || fail "stderr not empty: $stderr"
    local o
    for o in "${LONG_OPTS[@]}"; do
        assert_match "$output" "(^|[^a-z-])--$o([^a-z-]|$)" ||
            fail "--help does not mention --$o"
    done
    assert_match "$output" '[Ee]xit'
    for o in 0 64 65 66 67 68 69 70 71 74 75 76 77 78; do
        assert_match "$output" "(^|[^0-9])$o([^0-9]|$)" ||
            fail "--help does not list exit code $o"
    done
}

@test "-h: same text as --help" {
    run -0 --separate-stderr xs --help
    local long=$output
    run -0 --separate-stderr xs -h
    [ "$output" = "$long" ] || fail "-h and --help differ"
}

@test "--version: exit 0, names GnuTLS, libxml2 and libcurl" {
    run -0 --separate-stderr xs --version
    assert_match "${lines[0]}" '^xmppsend '
    assert_match "$output" '[Gg]nu[Tt][Ll][Ss]'
    assert_match "$output" 'libxml2'
    assert_match "$output" 'libcurl [0-9]+\.[0-9]+'
    run -0 --separate-stderr xs -V
    assert_match "${lines[0]}" '^xmppsend '
}

@test "every long option of --help is in xmppsend.1 and vice versa" {
    [ -r "$TOP_DIR/xmppsend.1" ] || fail "xmppsend.1 missing"
    local help man
    help=$(help_long_options)
    man=$(man_long_options)
    [ -n "$help" ] || fail "no long options in --help"
    local only_help only_man
    only_help=$(comm -23 <(echo "$help") <(echo "$man"))
    only_man=$(comm -13 <(echo "$help") <(echo "$man"))
    [ -z "$only_help" ] || fail "in --help, not in xmppsend.1: $only_help"
    [ -z "$only_man" ] || fail "in xmppsend.1, not in --help: $only_man"
}

@test "long options in the xmppsend command lines of the man page and README exist" {
    local help used bad
    help=$(help_long_options)
    used=$(grep -hE '^[[:space:]]*(\.Dl )?xmppsend ' \
        "$TOP_DIR/xmppsend.1" "$TOP_DIR/README.md" |
        grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
    [ -n "$used" ] || fail "no xmppsend command lines found"
    bad=$(comm -13 <(echo "$help") <(echo "$used"))
    [ -z "$bad" ] || fail "unknown options in examples: $bad"
}

@test "xmppsend.1 passes groff -mdoc -ww without warnings" {
    require_cmd groff
    run -0 --separate-stderr timeout 30 groff -mdoc -ww -z "$TOP_DIR/xmppsend.1"
    [ -z "$output$stderr" ] || fail "groff: $output $stderr"
}

# ---------------------------------------------------------------------
# Usage errors: 64

@test "unknown long option: 64 with an xmppsend: line and a hint" {
    run -64 --separate-stderr xs --bogus-option -m hi bob@localhost
    assert_xs_error
    assert_match "$stderr" 'xmppsend -h|[Uu]sage'
}

@test "unknown short option: 64" {
    run -64 --separate-stderr xs -Z -m hi bob@localhost
    assert_xs_error
}

@test "group chats: -c and xmpp:ROOM?join get as far as connecting; bad rooms 65, -s or --roster with a room 64" {
    run -75 --separate-stderr xs "${ACCT[@]}" -c room@conference.localhost \
        -c other@conference.localhost --nick 'Zoë' --create-room -m hi
    run -75 --separate-stderr xs "${ACCT[@]}" -m hi \
        'xmpp:caf%C3%A9@conference.localhost?join' bob@localhost
    run -65 --separate-stderr xs "${ACCT[@]}" -c room@conference.localhost/nick -m hi
    assert_xs_error "invalid --chatroom"
    run -65 --separate-stderr xs "${ACCT[@]}" -c conference.localhost -m hi
    assert_xs_error "ROOM@SERVICE"
    run -65 --separate-stderr xs "${ACCT[@]}" -m hi 'xmpp:conference.localhost?join'
    assert_xs_error "invalid room"
    run -65 --separate-stderr xs "${ACCT[@]}" -c room@conference.localhost \
        --nick "$(printf 'a\tb')" -m hi
    assert_xs_error "invalid --nick"
    run -64 --separate-stderr xs "${ACCT[@]}" -c room@conference.localhost -s topic -m hi
    assert_xs_error "subject"
    run -64 --separate-stderr xs "${ACCT[@]}" --roster -c room@conference.localhost
    assert_xs_error "--roster takes no recipients"
    run -64 --separate-stderr xs "${ACCT[@]}" -c "$(printf 'a@b\nc@d')" -m hi
    assert_xs_error "takes one value"
}

@test "option without its argument: 64" {
    run -64 --separate-stderr xs -m
    assert_xs_error
    run -64 --separate-stderr xs -m hi --timeout
    assert_xs_error
}

@test "no recipient: 64" {
    run -64 --separate-stderr xs "${ACCT[@]}" -m hi
    assert_xs_error
}

@test "--roster with recipients: 64" {
    run -64 --separate-stderr xs "${ACCT[@]}" --roster bob@localhost
    assert_xs_error
}

@test "--roster alone gets as far as connecting: 75" {
    run -75 --separate-stderr xs "${ACCT[@]}" --roster
    assert_xs_error
}

@test "no account (no -j, no XMPPSEND_JID, no config): 64" {
    run -64 --separate-stderr xs -p pw --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error
}

@test "--type: only chat, normal and headline" {
    run -64 --separate-stderr xs "${ACCT[@]}" --type bogus -m hi bob@localhost
    assert_xs_error
    local t
    for t in chat normal headline; do
        run --separate-stderr xs "${ACCT[@]}" --type "$t" -m hi bob@localhost
        check_exit 75 "--type $t"
    done
}

@test "--tls: only direct and starttls; a file's tls is not for --server's host" {
    local t
    for t in bogus DIRECT '' start; do
        run --separate-stderr xs "${ACCT[@]}" --tls "$t" -m hi bob@localhost
        check_exit 64 "--tls '$t'"
        assert_match "$stderr" 'tls'
    done
    for t in direct starttls; do
        run --separate-stderr xs "${ACCT[@]}" --tls "$t" -m hi bob@localhost
        check_exit 75 "--tls $t"
    done
    # From the file: 78 with file:line while the file names the server ...
    write_config 600 'jid alice@localhost' 'password pw' \
        'server 127.0.0.1:1' 'tls bogus'
    run -78 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error "$CONF:4: .*tls"
    # ... and ignored when --server comes from the command line.
    run -75 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 \
        -m hi bob@localhost
    assert_xs_error
}

@test "--timeout: 0, -1, abc, 5x, empty and overflow are 64" {
    local v
    for v in 0 -1 abc 5x '' 99999999999999999999; do
        run --separate-stderr xs -j alice@localhost -p pw \
            --server 127.0.0.1:1 --timeout "$v" -m hi bob@localhost
        check_exit 64 "--timeout '$v'"
    done
}

@test "--pin: malformed values are 64, sha256:<64 hex> is accepted" {
    local hex63 v
    hex63=$(printf '%063d' 0)
    for v in nothex sha256: sha256:xyz "sha256:$hex63" "sha256:${hex63}00" \
        "sha1:$(printf '%040d' 0)" "$hex63"0; do
        run --separate-stderr xs "${ACCT[@]}" --pin "$v" -m hi bob@localhost
        check_exit 64 "--pin '$v'"
    done
    run -75 --separate-stderr xs "${ACCT[@]}" --pin "sha256:${hex63}f" \
        -m hi bob@localhost
    assert_xs_error
}

@test "--insecure and --pin together: 64" {
    run -64 --separate-stderr xs "${ACCT[@]}" --insecure \
        --pin "sha256:$(printf '%064d' 0)" -m hi bob@localhost
    assert_xs_error 'insecure.*pin|pin.*insecure'
}

# ---------------------------------------------------------------------
# JIDs: 65

@test "invalid account JIDs: 65" {
    local j
    for j in 'a@b@c' '@localhost' 'user@' 'localhost' 'alice@localhost/' \
        'alice@local host' "$(printf 'a%.0s' $(seq 1024))@localhost"; do
        run --separate-stderr xs -j "$j" -p pw --server 127.0.0.1:1 \
            --timeout 10 -m hi bob@localhost
        check_exit 65 "account '${j:0:40}'"
    done
}

@test "invalid recipient JIDs: 65, even next to a valid one" {
    local j
    for j in 'a@b@c' '@localhost' 'bob@' 'bob@localhost/' 'bob@local host' \
        '' "bob@localhost/$(printf 'r%.0s' $(seq 1024))"; do
        run --separate-stderr xs "${ACCT[@]}" -m hi bob@localhost "$j"
        check_exit 65 "recipient '${j:0:40}'"
    done
}

@test "valid JIDs get as far as connecting: 75" {
    local j
    for j in bob@localhost bob@localhost/laptop Bob@LocalHost localhost \
        'jürgen@localhost'; do
        run --separate-stderr xs "${ACCT[@]}" -m hi "$j"
        check_exit 75 "recipient '$j'"
    done
}

@test "PRECIS: disallowed JID parts are 65 with the reason; mapped ones connect: 75" {
    local j k
    # U+2163 ROMAN NUMERAL FOUR (lowercased to U+2173 first), U+265A
    # BLACK CHESS KING, U+00A0, a Bidi Rule violation, U+0085 in a
    # resource, a fullwidth '@' in a localpart, a bad A-label
    local -a bad=($'henry\u2163@localhost' $'\u265a@localhost'
        $'a\u00a0b@localhost' $'\u05d0a@localhost' $'bob@localhost/r\u0085'
        $'a\uff20b@localhost' 'bob@xn--zz.test')
    local -a why=('localpart: disallowed character U\+2173'
        'localpart: disallowed character U\+265A'
        'localpart: disallowed character U\+00A0'
        'localpart: mixes right-to-left and left-to-right'
        'resource: disallowed character U\+0085'
        'forbidden character in localpart'
        'domain: not a valid internationalised domain name')
    for k in "${!bad[@]}"; do
        j=${bad[$k]}
        run --separate-stderr xs "${ACCT[@]}" -m hi bob@localhost "$j"
        check_exit 65 "recipient '$j'"
        assert_xs_error "invalid recipient JID .*: ${why[$k]}"
    done
    run -65 --separate-stderr xs -j $'henry\u2163@localhost' -p pw \
        --server 127.0.0.1:1 --timeout 10 -m hi bob@localhost
    assert_xs_error 'localpart: disallowed character U\+2173'
    # Case, width and space mapping, NFC, U-labels and A-labels: valid
    for j in $'\u00c4NNE@localhost' $'\uff21\uff2e\uff2e\uff25@localhost' \
        $'A\u0308nne@localhost' $'bob@localhost/a\u3000b' \
        $'bob@b\u00fccher.test' 'bob@xn--bcher-kva.test' \
        $'\u05d0\u05d1@localhost'; do
        run --separate-stderr xs "${ACCT[@]}" -m hi "$j"
        check_exit 75 "recipient '$j'"
    done
}

# ---------------------------------------------------------------------
# The message body

@test "empty -m: 65" {
    run -65 --separate-stderr xs "${ACCT[@]}" -m '' bob@localhost
    assert_xs_error
}

@test "empty -m with a subject is allowed: 75 at the closed port" {
    run -75 --separate-stderr xs "${ACCT[@]}" -m '' -s subj bob@localhost
    assert_xs_error
}

@test "empty standard input: 65" {
    run -65 --separate-stderr xs "${ACCT[@]}" bob@localhost </dev/null
    assert_xs_error
}

@test "standard input of only newlines is empty (trailing newlines dropped): 65" {
    run -65 --separate-stderr xs "${ACCT[@]}" bob@localhost < <(printf '\n\n\n')
    assert_xs_error
}

@test "empty standard input with a subject is allowed: 75" {
    run -75 --separate-stderr xs "${ACCT[@]}" -s subj bob@localhost </dev/null
    assert_xs_error
}

@test "body from standard input gets as far as connecting: 75" {
    run -75 --separate-stderr xs "${ACCT[@]}" bob@localhost < <(printf 'disk full\n')
    assert_xs_error
}

@test "no -m and standard input is a terminal: 64" {
    require_cmd script
    run -64 xs_pty "${ACCT[@]}" bob@localhost </dev/null
    assert_match "$output" 'xmppsend: .*(-m|[Mm]essage|[Ss]tandard input)'
}

@test "control characters, ANSI escapes and invalid UTF-8 in the body: warning" {
    run -75 --separate-stderr xs "${ACCT[@]}" bob@localhost \
        < <(printf 'red \033[31mALERT\033[0m \001 \377 end\n')
    assert_xs_error
    assert_match "$stderr" '[Ww]arning|[Rr]eplaced|[Rr]emoved|[Ss]anitiz'
}

@test "-q: no sanitising warning, the error line stays" {
    run -75 --separate-stderr xs -q "${ACCT[@]}" bob@localhost \
        < <(printf 'red \033[31mALERT\033[0m \377\n')
    assert_xs_error
    refute_match "$stderr" '[Ww]arning|[Rr]eplaced|[Ss]anitiz'
    [ -z "$output" ] || fail "stdout not empty with -q: $output"
}

@test "a clean body gives no warning" {
    run -75 --separate-stderr xs "${ACCT[@]}" -m 'all good ✓' bob@localhost
    assert_xs_error
    refute_match "$stderr" '[Ww]arning'
}

# ---------------------------------------------------------------------
# Files: 66

@test "--cafile that does not exist: 66" {
    run -66 --separate-stderr xs "${ACCT[@]}" --cafile /nonexistent/ca.pem \
        -m hi bob@localhost
    assert_xs_error 'nonexistent'
}

@test "--password-file that does not exist: 66" {
    run -66 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-file /nonexistent/pw -m hi bob@localhost
    assert_xs_error 'nonexistent'
}

@test "-f config that does not exist: 66" {
    run -66 --separate-stderr xs "${ACCT[@]}" -f /nonexistent/config \
        -m hi bob@localhost
    assert_xs_error 'nonexistent'
}

# ---------------------------------------------------------------------
# Password sources

@test "password from -p reaches the connection stage: 75" {
    run -75 --separate-stderr xs -j alice@localhost -p pw \
        --server 127.0.0.1:1 -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "password from --password-file: 75" {
    printf 'pw\nsecond line\n' >"$BATS_TEST_TMPDIR/pw"
    chmod 600 "$BATS_TEST_TMPDIR/pw"
    run -75 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-file "$BATS_TEST_TMPDIR/pw" -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "password from --password-command (run by /bin/sh): 75" {
    run -75 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-command 'printf "pw\nx\n" | cat' -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "password from XMPPSEND_PASSWORD: 75" {
    XS_WRAP="env XMPPSEND_PASSWORD=pw${XS_WRAP:+ $XS_WRAP}" \
        run -75 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "password from the config key password (mode 0600): 75" {
    write_config 600 '# test config' '' 'password pw'
    run -75 --separate-stderr xs -f "$CONF" -j alice@localhost \
        --server 127.0.0.1:1 -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "password from the config key password-command: 75" {
    write_config 600 'password-command echo pw'
    run -75 --separate-stderr xs -f "$CONF" -j alice@localhost \
        --server 127.0.0.1:1 -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "password from the terminal prompt: 75" {
    require_cmd script
    # Type the answer only once the prompt is there (echo is off by then;
    # anything typed earlier may be flushed).
    local log="$BATS_TEST_TMPDIR/pty.log"
    : >"$log"
    XS_PTY_LOG=$log run -75 xs_pty -j alice@localhost --server 127.0.0.1:1 \
        -m hi bob@localhost < <(
            for _ in $(seq 200); do
                grep -q '[Pp]assword' "$log" && break
                sleep 0.1
            done
            sleep 0.2
            printf 'pw\n'
        )
    assert_match "$output" '[Pp]assword'
    assert_match "$output" 'xmppsend: '
    # No echo: the typed password does not show on the terminal.
    refute_match "$output" 'pw'
}

@test "an empty answer to the terminal prompt is refused: 64" {
    require_cmd script
    local log="$BATS_TEST_TMPDIR/pty.log"
    : >"$log"
    XS_PTY_LOG=$log run -64 xs_pty -j alice@localhost --server 127.0.0.1:1 \
        -m hi bob@localhost < <(
            for _ in $(seq 200); do
                grep -q '[Pp]assword' "$log" && break
                sleep 0.1
            done
            sleep 0.2
            printf '\n'
        )
    assert_match "$output" 'xmppsend: .*password'
}

@test "no password anywhere and no terminal: 64" {
    require_cmd setsid
    # setsid: no controlling terminal, so there is no /dev/tty to prompt on.
    XS_WRAP="setsid -w${XS_WRAP:+ $XS_WRAP}" \
        run -64 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "--password-command that fails: error naming password-command" {
    run --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-command 'exit 1' -m hi bob@localhost </dev/null
    [ "$status" -ne 0 ] || fail "exit 0"
    [ "$status" -ne 75 ] || fail "went on to connect (75)"
    assert_xs_error 'password-command'
}

@test "precedence: --password-command beats -p" {
    run --separate-stderr xs "${ACCT[@]}" --password-command 'exit 1' \
        -m hi bob@localhost </dev/null
    [ "$status" -ne 0 ] && [ "$status" -ne 75 ] ||
        fail "expected the failing --password-command to be used, got $status"
    assert_xs_error 'password-command'
}

@test "precedence: --password-file beats -p" {
    run -66 --separate-stderr xs "${ACCT[@]}" --password-file /nonexistent/pw \
        -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "precedence: -p and XMPPSEND_PASSWORD beat the config password-command" {
    write_config 600 'password-command exit 1'
    run -75 --separate-stderr xs -f "$CONF" "${ACCT[@]}" -m hi bob@localhost </dev/null
    assert_xs_error
    XS_WRAP="env XMPPSEND_PASSWORD=pw${XS_WRAP:+ $XS_WRAP}" \
        run -75 --separate-stderr xs -f "$CONF" -j alice@localhost \
        --server 127.0.0.1:1 -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "-p: the password never shows in /proc/PID/cmdline or ps" {
    require_cmd ps
    start_silent_listener
    local tpid pid="" cmdline args
    env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" \
        timeout 30 "$XMPPSEND" -j alice@localhost -p s3cr3tpw \
        --server "127.0.0.1:$PORT" --timeout 20 -m hi bob@localhost \
        >/dev/null 2>&1 3>&- &
    tpid=$!
    echo "$tpid" >"$BATS_TEST_TMPDIR/timeout.pid"
    # timeout's child is xmppsend; wait until it has connected (argv is
    # scrubbed before any network step).
    for _ in $(seq 150); do
        pid=$(ps -o pid= --ppid "$tpid" | tr -d ' ')
        [ -n "$pid" ] && [ -s "$LDIR/accepted" ] && break
        sleep 0.1
    done
    [ -n "$pid" ] || fail "xmppsend did not start"
    [ -s "$LDIR/accepted" ] || fail "xmppsend did not connect"
    [ -r "/proc/$pid/cmdline" ] || fail "xmppsend exited before the check"
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    assert_match "$cmdline" 'xmppsend'
    refute_match "$cmdline" 's3cr3tpw'
    args=$(ps -o args= -p "$pid")
    assert_match "$args" 'xmppsend'
    refute_match "$args" 's3cr3tpw'
    kill "$tpid"
    wait "$tpid" || true
}

# ---------------------------------------------------------------------
# Configuration file: 78 and honoured keys

@test "config: unknown key is 78 and named" {
    write_config 600 'jid alice@localhost' 'bogus-key 1'
    run -78 --separate-stderr xs -f "$CONF" "${ACCT[@]}" -m hi bob@localhost
    assert_xs_error 'bogus-key'
}

@test "config: plaintext password in a mode 0644 file is refused (78) with the reason" {
    write_config 644 'jid alice@localhost' 'password pw'
    run -78 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error '[Pp]ermission|chmod'
}

@test "config: plaintext password in a group-readable (0640) file is refused: 78" {
    write_config 640 'jid alice@localhost' 'password pw'
    run -78 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error '[Pp]ermission|chmod'
}

@test "config: plaintext password in a mode 0600 file is accepted: 75" {
    write_config 600 'jid alice@localhost' 'password pw'
    run -75 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error
}

@test "config: comments, blank lines and the keys jid, server, timeout, type" {
    write_config 600 '# account' '' 'jid alice@localhost' '   ' \
        '# where' 'server 127.0.0.1:1' 'timeout 10' 'type headline' 'password pw'
    run -75 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error
}

@test "config: an invalid value in the file is 78, named with file:line" {
    write_config 600 'jid alice@localhost' 'password pw' 'timeout abc'
    run -78 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error "$CONF:3: .*timeout"
    local kv
    for kv in 'type bogus' 'pin sha256:00' 'server ::1:5222' 'server h:0' \
        'jid a@b@c' 'tls both'; do
        write_config 600 'jid alice@localhost' 'password pw' \
            'server 127.0.0.1:1' "$kv"
        run --separate-stderr xs -f "$CONF" -m hi bob@localhost
        check_exit 78 "config '$kv'"
        assert_match "$stderr" "$CONF:4: .*${kv%% *}" || return 1
    done
}

@test "config: timeout key sets the deadline" {
    start_silent_listener
    write_config 600 'jid alice@localhost' 'password pw' 'timeout 1'
    local t0 t1 ms
    t0=$(date +%s%N)
    run -75 --separate-stderr xs -f "$CONF" --server "127.0.0.1:$PORT" \
        -m hi bob@localhost
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    assert_xs_error '[Tt]imed out'
    # XS_SLOW: running under valgrind, which adds start-up time.
    local max=2500
    [ -z "${XS_SLOW-}" ] || max=20000
    ((ms >= 700 && ms < max)) || fail "took $ms ms with timeout 1"
}

@test "config: the command line overrides the file" {
    write_config 600 'jid alice@localhost' 'password pw' 'type bogus'
    # The invalid type from the file must be an error on its own ...
    run -78 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error "$CONF:3: .*type"
    # ... and --type replaces it.
    run -75 --separate-stderr xs -f "$CONF" --type chat \
        --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error
    # Likewise -j replaces an invalid jid from the file.
    write_config 600 'jid a@b@c' 'password pw'
    run -75 --separate-stderr xs -f "$CONF" -j alice@localhost \
        --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error
}

@test "config: default file in \$XDG_CONFIG_HOME/xmppsend/config" {
    write_config 600 'jid alice@localhost' 'server 127.0.0.1:1' 'password pw'
    mkdir -p "$BATS_TEST_TMPDIR/xdg/xmppsend"
    mv "$CONF" "$BATS_TEST_TMPDIR/xdg/xmppsend/config"
    XS_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg" \
        run -75 --separate-stderr xs -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "config: default file in \$HOME/.config when XDG_CONFIG_HOME is unset" {
    write_config 600 'jid alice@localhost' 'server 127.0.0.1:1' 'password pw'
    mkdir -p "$BATS_TEST_TMPDIR/home/.config/xmppsend"
    mv "$CONF" "$BATS_TEST_TMPDIR/home/.config/xmppsend/config"
    XS_WRAP="env -u XDG_CONFIG_HOME HOME=$BATS_TEST_TMPDIR/home${XS_WRAP:+ $XS_WRAP}" \
        run -75 --separate-stderr xs -m hi bob@localhost </dev/null
    assert_xs_error
}

@test "a missing default config file is fine" {
    XS_CONFIG_HOME="$BATS_TEST_TMPDIR/empty" \
        run -75 --separate-stderr xs "${ACCT[@]}" -m hi bob@localhost
    assert_xs_error
}

@test "XMPPSEND_JID is used when -j is absent" {
    XS_WRAP="env XMPPSEND_JID=alice@localhost${XS_WRAP:+ $XS_WRAP}" \
        run -75 --separate-stderr xs -p pw --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error
    XS_WRAP="env XMPPSEND_JID=a@b@c${XS_WRAP:+ $XS_WRAP}" \
        run -65 --separate-stderr xs -p pw --server 127.0.0.1:1 -m hi bob@localhost
    assert_xs_error
}

# ---------------------------------------------------------------------
# Network failures, all local

@test "connection refused: 75 with one xmppsend: line, even with -q" {
    run -75 --separate-stderr xs -q "${ACCT[@]}" -m hi bob@localhost
    assert_xs_error
    [ -z "$output" ] || fail "stdout not empty: $output"
}

@test "--server with an IPv6 literal: 75 at [::1]:1" {
    grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null || skip "no ::1"
    run -75 --separate-stderr xs -j alice@localhost -p pw --server '[::1]:1' \
        -m hi bob@localhost
    assert_xs_error
}

@test "--insecure prints a warning even with -q" {
    run -75 --separate-stderr xs -q --insecure "${ACCT[@]}" -m hi bob@localhost
    assert_xs_error
    assert_match "$stderr" '[Ii]nsecure|[Nn]ot verif|[Ww]arning'
}

@test "--json on a failed connection: one JSON object with ok false and exit 75" {
    require_cmd python3
    run -75 --separate-stderr xs --json "${ACCT[@]}" -m hi bob@localhost
    assert_xs_error
    printf '%s' "$output" | timeout 10 python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["ok"] is False, o
assert o["exit"] == 75, o' || fail "bad JSON: $output"
}

@test "host that does not exist: 68 (empty network namespace, hosts: files)" {
    require_cmd unshare mount
    timeout 10 unshare -n -m true 2>/dev/null ||
        skip "unshare -n -m not permitted"
    # A new network namespace with no interface up, and a private mount
    # namespace where nsswitch.conf says "hosts: files": the lookup is
    # answered from /etc/hosts alone and cannot leave the machine.
    printf 'hosts: files\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
    local cmd
    # shellcheck disable=SC2016
    cmd='mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"'
    run -68 --separate-stderr env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" \
        timeout 30 unshare -n -m sh -c "$cmd" sh "$BATS_TEST_TMPDIR/nsswitch.conf" \
        "$XMPPSEND" -j alice@localhost -p pw --server nonexistent.invalid \
        -m hi bob@localhost
    assert_xs_error 'nonexistent\.invalid'
}

@test "no DNS server reachable (empty network namespace): 75, retry later" {
    require_cmd unshare
    timeout 10 unshare -n true 2>/dev/null || skip "unshare -n not permitted"
    # No interface is up in the new namespace, so the query cannot leave
    # the machine; glibc reports EAI_AGAIN, a temporary failure.
    XS_WRAP="unshare -n${XS_WRAP:+ $XS_WRAP}" \
        run -75 --separate-stderr xs -j alice@localhost -p pw \
        --server nonexistent.invalid -m hi bob@localhost
    assert_xs_error 'nonexistent\.invalid'
}

@test "config: the server key replaces the SRV lookup" {
    require_cmd unshare mount
    timeout 10 unshare -n -m true 2>/dev/null ||
        skip "unshare -n -m not permitted"
    # Same sandbox as above: connecting to the configured 127.0.0.1:1
    # fails at once (network unreachable, 75); had the key been ignored,
    # the lookup of example.invalid would have failed instead (68),
    # without leaving the machine.
    printf 'hosts: files\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
    write_config 600 'jid alice@example.invalid' 'password pw' \
        'server 127.0.0.1:1'
    local cmd
    # shellcheck disable=SC2016
    cmd='mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"'
    run --separate-stderr env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" \
        timeout 30 unshare -n -m sh -c "$cmd" sh "$BATS_TEST_TMPDIR/nsswitch.conf" \
        "$XMPPSEND" -f "$CONF" -m hi bob@example.invalid
    check_exit 75 "server from config"
}

@test "--timeout 2 against a silent server: 75 after about 2 s" {
    start_silent_listener
    local t0 t1 ms
    t0=$(date +%s%N)
    run -75 --separate-stderr xs -j alice@localhost -p pw \
        --server "127.0.0.1:$PORT" --timeout 2 -m hi bob@localhost
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    assert_xs_error '[Tt]imed out'
    local max=3000
    [ -z "${XS_SLOW-}" ] || max=20000
    ((ms >= 1500 && ms < max)) || fail "took $ms ms with --timeout 2"
}

@test "output that cannot be written is an I/O error (74), not success" {
    [ -w /dev/full ] || skip "no /dev/full"
    run -74 --separate-stderr bash -c '"$XMPPSEND" --help >/dev/full'
    assert_xs_error 'standard output'
    run -74 --separate-stderr bash -c '"$XMPPSEND" --version >/dev/full'
    assert_xs_error 'standard output'
}

# ---------------------------------------------------------------------
# The option table: --help, the man page, misused options

# Config keys as --help lists them after "Config file keys:", sorted.
help_config_keys() {
    xs --help | sed -n '/^Config file keys:/,/^$/p' |
        sed 's/^Config file keys://; s/\.$//' | tr ' ' '\n' | grep . | sort -u
}

# Config keys the man page's CONFIGURATION section names with .Cm, sorted
# (the boolean values on, off, yes, ... are not keys).
man_config_keys() {
    sed -n '/^\.Sh CONFIGURATION/,/^\.Sh /p' "$TOP_DIR/xmppsend.1" |
        sed -n '/^The keys are/,/^take$/p' | grep -oE '^\.Cm [a-z0-9-]+' |
        sed 's/^\.Cm //' | sort -u
}

@test "the config keys of --help (the option table) are those of xmppsend.1" {
    local help man
    help=$(help_config_keys)
    man=$(man_config_keys)
    [ -n "$help" ] || fail "--help lists no config keys"
    [ -n "$man" ] || fail "xmppsend.1 lists no config keys"
    [ "$help" = "$man" ] || fail "--help: $(echo $help) / xmppsend.1: $(echo $man)"
}

@test "short and long option pairs of --help (the option table) are those of xmppsend.1" {
    local help man
    help=$(xs --help | grep -oE '^  -[a-zA-Z], --[a-z-]+' | sed 's/^  //' | sort)
    man=$(grep -oE '^\.It Fl [a-zA-Z] , Fl \\-[a-z-]+' "$TOP_DIR/xmppsend.1" |
        sed -E 's/^\.It Fl (.) , Fl \\-/-\1, --/' | sort)
    [ -n "$help" ] || fail "no short options in --help"
    [ "$help" = "$man" ] || fail "--help: $(echo $help) / xmppsend.1: $(echo $man)"
}

@test "a flag given a value names the option and says why, no raw bytes" {
    local o
    for o in --json=on --debug=1 --insecure=no --quiet=x --roster=1 --no-json=1; do
        run -64 --separate-stderr xs "${ACCT[@]}" "$o" -m hi bob@localhost
        assert_xs_error "'${o%%=*}' takes no value" || return 1
        refute_match "$stderr" $'[\x01-\x08\x0e-\x1f]' || return 1
    done
}

@test "an ambiguous prefix says which options it could be" {
    run -64 --separate-stderr xs "${ACCT[@]}" --pass x -m hi bob@localhost
    assert_xs_error "ambiguous option '--pass'"
    assert_match "$stderr" '--password-command' || return 1
    assert_match "$stderr" '--password-file' || return 1
    # A unique prefix still works.
    run -75 --separate-stderr xs -j alice@localhost -p pw \
        --server 127.0.0.1:1 --time 10 -m hi bob@localhost
    assert_xs_error
}

@test "a mistyped or ambiguous --password=VALUE: the value is not printed" {
    run -64 --separate-stderr xs "${ACCT[@]}" --passw=hunter2 -m hi bob@localhost
    assert_xs_error "ambiguous option '--passw'"
    refute_match "$stderr" 'hunter2' || return 1
    run -64 --separate-stderr xs "${ACCT[@]}" --pasword=hunter2 -m hi \
        bob@localhost
    assert_xs_error "unknown option '--pasword'"
    refute_match "$stderr" 'hunter2'
}

@test "--no-json, --no-quiet: the command line turns off a flag set on in the file" {
    write_config 600 'jid alice@localhost' 'password pw' 'json on' 'quiet on'
    run -75 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_match "$output" '"ok":false' || return 1
    run -75 --separate-stderr xs -f "$CONF" --no-json --server 127.0.0.1:1 \
        -m hi bob@localhost
    [ -z "$output" ] || fail "--no-json: stdout: $output"
    # quiet on hides the sanitising warning; --no-quiet shows it again.
    run -75 --separate-stderr xs -f "$CONF" --no-json --no-quiet \
        --server 127.0.0.1:1 -m $'bell \a' bob@localhost
    assert_match "$stderr" '[Ww]arning' || return 1
}

@test "--no-insecure overrides insecure on in the file" {
    write_config 600 'jid alice@localhost' 'password pw' 'insecure on'
    run -75 --separate-stderr xs -f "$CONF" --server 127.0.0.1:1 -m hi bob@localhost
    assert_match "$stderr" 'insecure' || return 1
    run -75 --separate-stderr xs -f "$CONF" --no-insecure \
        --server 127.0.0.1:1 -m hi bob@localhost
    refute_match "$stderr" 'insecure'
}

@test "the trust options of the command line replace the file's (pin, insecure)" {
    local pin
    pin="sha256:$(printf '%064d' 0)"
    # A configured pin does not beat --insecure (nor --cafile) ...
    write_config 600 'jid alice@localhost' 'password pw' "pin $pin"
    run -75 --separate-stderr xs -f "$CONF" --insecure --server 127.0.0.1:1 \
        -m hi bob@localhost
    assert_xs_error
    # ... and a configured insecure does not combine with --pin.
    write_config 600 'jid alice@localhost' 'password pw' 'insecure on'
    run -75 --separate-stderr xs -f "$CONF" --pin "$pin" --server 127.0.0.1:1 \
        -m hi bob@localhost
    assert_xs_error
    refute_match "$stderr" 'warning: --insecure'
}

# ---------------------------------------------------------------------
# Empty and invalid values

@test "empty passwords are refused: -p '', XMPPSEND_PASSWORD=''" {
    run -64 --separate-stderr xs -j alice@localhost -p '' --server 127.0.0.1:1 \
        -m hi bob@localhost </dev/null
    assert_xs_error 'password'
    XS_WRAP="env XMPPSEND_PASSWORD=${XS_WRAP:+ $XS_WRAP}" \
        run -64 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi bob@localhost </dev/null
    assert_xs_error 'XMPPSEND_PASSWORD'
}

@test "empty passwords are refused: a file or a command with an empty first line" {
    printf '\nsecond line\n' >"$BATS_TEST_TMPDIR/pw"
    chmod 600 "$BATS_TEST_TMPDIR/pw"
    run -65 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-file "$BATS_TEST_TMPDIR/pw" -m hi bob@localhost </dev/null
    assert_xs_error
    run -78 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-command 'printf "\nx\n"' -m hi bob@localhost </dev/null
    assert_xs_error 'password-command'
}

@test "empty -s, --thread and other empty option values: 64, named" {
    local o
    for o in -s --subject --thread --cafile --password-file --password-command \
        --server --type --timeout -f; do
        run --separate-stderr xs "${ACCT[@]}" "$o" '' -m hi bob@localhost
        check_exit 64 "$o ''"
        assert_match "$stderr" "invalid .*(empty|seconds|chat|no host)" || return 1
    done
}

@test "a body of only white space is empty: 65" {
    run -65 --separate-stderr xs "${ACCT[@]}" -m $'  \t ' bob@localhost
    assert_xs_error 'empty'
    run -65 --separate-stderr xs "${ACCT[@]}" bob@localhost < <(printf ' \n\t\n  \n')
    assert_xs_error 'empty'
    # With a subject it is allowed, as an empty body is.
    run -75 --separate-stderr xs "${ACCT[@]}" -s subj -m ' ' bob@localhost
    assert_xs_error
}

@test "--resource: empty, control characters, bad UTF-8, over 1023 bytes: 65" {
    local r
    for r in '' $'lap\001top' $'lap\ntop' $'\x7f' $'\xc2\x85' $'lap\xfftop' \
        "$(printf 'r%.0s' $(seq 1024))"; do
        run --separate-stderr xs "${ACCT[@]}" --resource "$r" -m hi bob@localhost
        check_exit 65 "--resource '${r:0:20}'"
        assert_match "$stderr" 'resource' || return 1
    done
    for r in laptop 'büro 2' "$(printf 'r%.0s' $(seq 1023))"; do
        run --separate-stderr xs "${ACCT[@]}" --resource "$r" -m hi bob@localhost
        check_exit 75 "--resource '${r:0:20}'"
    done
}

@test "--server: an IPv6 address without brackets is 64 with a hint" {
    local s
    for s in ::1:5222 ::1 2001:db8::1; do
        run --separate-stderr xs "${ACCT[@]}" --server "$s" -m hi bob@localhost
        check_exit 64 "--server $s"
        assert_match "$stderr" '\[::1\]:5222' || return 1
    done
}

@test "-m naming an existing file: sent as text, with a warning (not with -q)" {
    printf 'file content\n' >"$BATS_TEST_TMPDIR/msg.txt"
    run -75 --separate-stderr xs "${ACCT[@]}" -m "$BATS_TEST_TMPDIR/msg.txt" \
        bob@localhost
    assert_match "$stderr" "warning: .*msg\\.txt.*file" || return 1
    assert_match "$stderr" "< $BATS_TEST_TMPDIR/msg\\.txt" || return 1
    run -75 --separate-stderr xs -q "${ACCT[@]}" -m "$BATS_TEST_TMPDIR/msg.txt" \
        bob@localhost
    refute_match "$stderr" 'warning'
}

@test "body limit: exactly 1 MiB (1048576 bytes) is accepted, one byte more is 65" {
    head -c 1048576 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    run -75 --separate-stderr xs "${ACCT[@]}" bob@localhost <"$BATS_TEST_TMPDIR/big"
    assert_xs_error
    # Trailing newlines do not count.
    printf '\n\n' >>"$BATS_TEST_TMPDIR/big"
    run -75 --separate-stderr xs "${ACCT[@]}" bob@localhost <"$BATS_TEST_TMPDIR/big"
    assert_xs_error
    printf 'ab' >>"$BATS_TEST_TMPDIR/big"
    run -65 --separate-stderr xs "${ACCT[@]}" bob@localhost <"$BATS_TEST_TMPDIR/big"
    assert_xs_error '1 MiB'
    head -c 3000000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    run -65 --separate-stderr xs "${ACCT[@]}" bob@localhost <"$BATS_TEST_TMPDIR/big"
    assert_xs_error '1 MiB'
}

# ---------------------------------------------------------------------
# The config file: what it is, who owns it, how big

@test "config: -f DIRECTORY is 66, not an empty file" {
    mkdir -p "$BATS_TEST_TMPDIR/confdir"
    run -66 --separate-stderr xs "${ACCT[@]}" -f "$BATS_TEST_TMPDIR/confdir" \
        -m hi bob@localhost
    assert_xs_error 'confdir'
}

@test "config: a file over 1 MiB is 78, not cut" {
    {
        echo 'jid alice@localhost'
        echo 'password pw'
        echo 'server 127.0.0.1:1'
        # One printf, not a loop: bats traces every command of a loop.
        printf '# padding padding padding padding padding padding\n%.0s' \
            $(seq 30000)
        echo 'bogus-key after the first MiB'
    } >"$CONF"
    chmod 600 "$CONF"
    run -78 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error '1048576|1 MiB|large'
}

@test "config: a world-writable file is refused (78) and its password-command not run" {
    write_config 600 'jid alice@localhost' 'server 127.0.0.1:1' \
        "password-command touch $BATS_TEST_TMPDIR/ran; echo pw"
    chmod 666 "$CONF"
    run -78 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error
    [ ! -e "$BATS_TEST_TMPDIR/ran" ] || fail "the password-command ran"
    # Writable by the group is just as bad, even without a secret.
    write_config 620 'jid alice@localhost' 'server 127.0.0.1:1' 'password pw'
    chmod 620 "$CONF"
    run -78 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error
    write_config 602 'jid alice@localhost' 'server 127.0.0.1:1'
    run -78 --separate-stderr xs -f "$CONF" -p pw -m hi bob@localhost
    assert_xs_error
}

@test "config: password-command or password-file in a group-readable file: 78" {
    write_config 644 'jid alice@localhost' 'server 127.0.0.1:1' \
        "password-command touch $BATS_TEST_TMPDIR/ran; echo pw"
    run -78 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error 'chmod'
    [ ! -e "$BATS_TEST_TMPDIR/ran" ] || fail "the password-command ran"
    write_config 640 'jid alice@localhost' 'server 127.0.0.1:1' \
        "password-file $BATS_TEST_TMPDIR/pw"
    run -78 --separate-stderr xs -f "$CONF" -m hi bob@localhost
    assert_xs_error 'chmod'
    # Without a secret, 0644 is fine.
    write_config 644 'jid alice@localhost' 'server 127.0.0.1:1'
    run -75 --separate-stderr xs -f "$CONF" -p pw -m hi bob@localhost
    assert_xs_error
}

@test "config: a file owned by another user is refused: 78" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to give the file away"
    write_config 600 'jid alice@localhost' 'server 127.0.0.1:1'
    chown 65534 "$CONF"
    run -78 --separate-stderr xs -f "$CONF" -p pw -m hi bob@localhost
    assert_xs_error
}

# ---------------------------------------------------------------------
# Closed standard descriptors, JSON encoding

# start_recording_listener: like start_silent_listener, but what each
# connection sends is appended to $LDIR/received.
start_recording_listener() {
    require_cmd python3
    LDIR="$BATS_TEST_TMPDIR/listener"
    mkdir -p "$LDIR"
    cat >"$LDIR/rec.py" <<'PY'
import os, socket, sys, threading
d = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
def serve(c):
    with open(os.path.join(d, "received"), "ab") as f:
        while True:
            b = c.recv(65536)
            if not b:
                break
            f.write(b)
            f.flush()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    timeout 60 python3 "$LDIR/rec.py" "$LDIR" >/dev/null 2>&1 3>&- &
    echo "$!" >"$BATS_TEST_TMPDIR/listener.pid"
    wait_for "$LDIR/port"
    PORT=$(cat "$LDIR/port")
}

@test "standard error closed (2>&-): the debug trace never goes into the stream" {
    start_recording_listener
    # Not under XS_WRAP: valgrind itself needs a standard error.
    run -75 bash -c '"$@" 2>&-' sh env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" \
        timeout 60 "$XMPPSEND" -d -j alice@localhost -p pw \
        --server "127.0.0.1:$PORT" --timeout 2 -m hi bob@localhost
    [ -s "$LDIR/received" ] || fail "nothing received"
    local got
    got=$(tr -d '\0' <"$LDIR/received")
    assert_match "$got" '<stream:stream' || return 1
    refute_match "$got" 'C: '
}

@test "standard input and output closed (<&- >&-): /dev/null on 0 and 1, not the socket" {
    require_cmd ps
    start_silent_listener
    local tpid pid="" fd0 fd1
    env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" \
        timeout 30 "$XMPPSEND" -j alice@localhost -p pw \
        --server "127.0.0.1:$PORT" --timeout 20 -m hi bob@localhost \
        <&- >&- 2>/dev/null 3>&- &
    tpid=$!
    echo "$tpid" >"$BATS_TEST_TMPDIR/timeout.pid"
    for _ in $(seq 150); do
        pid=$(ps -o pid= --ppid "$tpid" | tr -d ' ')
        [ -n "$pid" ] && [ -s "$LDIR/accepted" ] && break
        sleep 0.1
    done
    [ -n "$pid" ] || fail "xmppsend did not start"
    [ -s "$LDIR/accepted" ] || fail "xmppsend did not connect"
    fd0=$(readlink "/proc/$pid/fd/0" || true)
    fd1=$(readlink "/proc/$pid/fd/1" || true)
    kill "$tpid"
    wait "$tpid" || true
    [ "$fd0" = /dev/null ] || fail "fd 0 is $fd0"
    [ "$fd1" = /dev/null ] || fail "fd 1 is $fd1"
}

@test "--json output is valid UTF-8 even when the error names a file with bad bytes" {
    require_cmd python3
    run -66 --separate-stderr xs --json "${ACCT[@]}" \
        --cafile $'/nonexistent/ca\xff\xfe.pem' -m hi bob@localhost
    printf '%s' "$output" | timeout 10 python3 -c '
import json, sys
o = json.loads(sys.stdin.buffer.read().decode("utf-8"))
assert o["ok"] is False and o["exit"] == 66, o
assert "\ufffd" in o["error"], o' || fail "bad JSON: $output"
    # C1 controls (U+009B is CSI) are escaped too.
    run -66 --separate-stderr xs --json "${ACCT[@]}" \
        --cafile $'/nonexistent/\xc2\x9b2J.pem' -m hi bob@localhost
    assert_match "$output" '\\u009b2J' || return 1
    refute_match "$output" $'\xc2\x9b'
}

@test "-u/--upload before connecting: a directory or unreadable file 66, an empty file 65, with --roster 64" {
    local d=$BATS_TEST_TMPDIR
    : >"$d/empty.txt"
    printf 'x\n' >"$d/ok.txt"
    # --server 127.0.0.1:1 refuses connections: a 75 would mean the
    # check came too late.
    run -66 --separate-stderr xs "${ACCT[@]}" -u "$d" bob@localhost </dev/null
    assert_xs_error 'is not a regular file' || return 1
    run -66 --separate-stderr xs "${ACCT[@]}" -u "$d/ok.txt" \
        --upload "$d/absent.txt" bob@localhost </dev/null
    assert_xs_error 'cannot open .*absent\.txt' || return 1
    run -65 --separate-stderr xs "${ACCT[@]}" -u "$d/empty.txt" \
        bob@localhost </dev/null
    assert_xs_error 'empty\.txt is empty' || return 1
    run -64 --separate-stderr xs "${ACCT[@]}" -u "$d/ok.txt" --roster
    assert_xs_error 'cannot use both --roster and --upload' || return 1
    # No body is needed with -u: without a server the run gets as far as
    # connecting (75).
    run -75 --separate-stderr xs "${ACCT[@]}" -u "$d/ok.txt" \
        bob@localhost </dev/null
}

@test "roster actions: --name/--group misplaced, empty or repeated are 64; bad JIDs 65; alone they connect: 75" {
    local args
    for args in "--name N --roster-add b@localhost" \
        "--subscribe b@localhost --group G" \
        "--roster-add b@localhost --name ''" \
        "--roster-add b@localhost --name N --name M" \
        "--roster-add b@localhost --group G --group G"; do
        eval "run -64 --separate-stderr xs \"\${ACCT[@]}\" $args"
        assert_xs_error '(--name|--group)'
    done
    run -65 --separate-stderr xs "${ACCT[@]}" --roster-add b@localhost/res
    assert_xs_error "invalid --roster-add 'b@localhost/res': .*resource"
    run -65 --separate-stderr xs "${ACCT[@]}" --approve b@localhost --deny @x
    assert_xs_error "invalid --deny '@x'"
    # No recipient and no body needed; standard input is not read.
    run -75 --separate-stderr xs "${ACCT[@]}" --roster-add b@localhost \
        --name B --group G --unsubscribe b@localhost --roster
    assert_xs_error 'cannot connect'
}

# ---------------------------------------------------------------------
# --message-file, --skip-empty, --raw, --receipt, --wait (usage and input
# errors come before any connection: 127.0.0.1:1 would be exit 75)

@test "--message-file: missing or a directory 66, with -m 64, readable: accepted" {
    printf 'from a file\n' >"$BATS_TEST_TMPDIR/body"
    run -66 --separate-stderr xs "${ACCT[@]}" \
        --message-file "$BATS_TEST_TMPDIR/missing" bob@localhost
    assert_xs_error "cannot open --message-file .*missing"
    run -66 --separate-stderr xs "${ACCT[@]}" \
        --message-file "$BATS_TEST_TMPDIR" bob@localhost
    assert_xs_error "a directory"
    run -64 --separate-stderr xs "${ACCT[@]}" -m hi \
        --message-file "$BATS_TEST_TMPDIR/body" bob@localhost
    assert_xs_error "cannot use both --message and --message-file"
    run -75 --separate-stderr xs "${ACCT[@]}" \
        --message-file "$BATS_TEST_TMPDIR/body" bob@localhost </dev/null
    assert_xs_error "cannot connect"
    head -c $((1024 * 1024 + 70000)) /dev/zero | tr '\0' x \
        >"$BATS_TEST_TMPDIR/big"
    run -65 --separate-stderr xs "${ACCT[@]}" \
        --message-file "$BATS_TEST_TMPDIR/big" bob@localhost
    assert_xs_error "larger than 1 MiB"
}

@test "--skip-empty: an empty or blank body exits 0 without connecting or printing" {
    : >"$BATS_TEST_TMPDIR/empty"
    run -0 --separate-stderr xs "${ACCT[@]}" --skip-empty bob@localhost \
        </dev/null
    [ -z "$output$stderr" ] || fail "printed: $output $stderr"
    run -0 --separate-stderr xs "${ACCT[@]}" --skip-empty bob@localhost \
        <<<$' \n\t\n'
    [ -z "$output$stderr" ] || fail "printed: $output $stderr"
    run -0 --separate-stderr xs "${ACCT[@]}" --skip-empty \
        --message-file "$BATS_TEST_TMPDIR/empty" bob@localhost
    [ -z "$output$stderr" ] || fail "printed: $output $stderr"
    # without it: the usual error; with a body: it is sent (connects)
    run -65 --separate-stderr xs "${ACCT[@]}" bob@localhost </dev/null
    assert_xs_error "the message is empty"
    run -75 --separate-stderr xs "${ACCT[@]}" --skip-empty bob@localhost \
        <<<"not empty"
    assert_xs_error "cannot connect"
    run -64 --separate-stderr xs "${ACCT[@]}" --skip-empty --roster
    assert_xs_error "cannot use both --roster and --skip-empty"
}

@test "--raw: what is not a plain stanza is refused with 65 before connecting" {
    local bad
    local -a inputs=(
        "<message to='bob@localhost'><body>unclosed</message>"
        "<message to='bob@localhost'><body>x</body>"
        "<message/></stream:stream><message/>"
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>"
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
        "<enable xmlns='urn:xmpp:sm:3'/>"
        "<message xmlns='jabber:server'/>"
        "text"
        "<iq type='result' id='a'><query xmlns='jabber:iq:version'/></iq>"
        "<iq type='get' id='a'/>"
        "<iq type='get' id='a'><a xmlns='urn:a'/></iq><iq type='get' id='a'><a xmlns='urn:a'/></iq>"
        "<message to='a@b@c'/>"
        "<message><body>a<b/>c</body></message>"
        "<message><!-- c --></message>"
        "<?pi x?><message/>"
        "<message>&ext;</message>"
        ""
    )
    for bad in "${inputs[@]}"; do
        run --separate-stderr xs "${ACCT[@]}" --raw <<<"$bad"
        check_exit 65 "--raw <<<'$bad'" || return 1
        assert_match "$stderr" "^xmppsend: --raw: " || return 1
    done
    run -75 --separate-stderr xs "${ACCT[@]}" --raw <<<"<presence/>
<message to='bob@localhost'><body>fine</body></message>"
    assert_xs_error "cannot connect"
    run -64 --separate-stderr xs "${ACCT[@]}" --raw bob@localhost </dev/null
    assert_xs_error "--raw takes no recipients"
    run -64 --separate-stderr xs "${ACCT[@]}" --raw -m hi </dev/null
    assert_xs_error "cannot use both --raw and --message"
}

@test "--receipt and --wait: values checked, '--receipt 5' caught, not with --roster" {
    local v
    for v in --receipt=0 --receipt=x --receipt=86401 "--wait=0" "--wait=1x"; do
        run --separate-stderr xs "${ACCT[@]}" "$v" -m hi bob@localhost
        check_exit 64 "$v" || return 1
        assert_match "$stderr" "invalid --(receipt|wait)" || return 1
    done
    run -64 --separate-stderr xs "${ACCT[@]}" --receipt 5 -m hi bob@localhost
    assert_xs_error "write --receipt=5"
    run -64 --separate-stderr xs "${ACCT[@]}" --roster --receipt
    assert_xs_error "cannot use both --roster and --receipt"
    run -75 --separate-stderr xs "${ACCT[@]}" --receipt --wait 3 -m hi \
        bob@localhost
    assert_xs_error "cannot connect"
}

@test "--mechanism, --cert and --key: checked before connecting; a certificate needs no password" {
    require_cmd certtool
    local pki=$BATS_TEST_TMPDIR/pki
    timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" ca "$pki" &&
        timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" client "$pki" alice@localhost ||
        fail "cannot make the test certificate"
    local cert=$pki/alice@localhost.crt key=$pki/alice@localhost.key
    local noacct=(-j alice@localhost --server 127.0.0.1:1 --timeout 10)
    run -64 --separate-stderr xs "${ACCT[@]}" --mechanism SCRAM-SHA-1,X-FOO \
        -m hi bob@localhost
    assert_xs_error "unknown mechanism 'X-FOO'"
    run -64 --separate-stderr xs "${ACCT[@]}" --mechanism '' -m hi bob@localhost
    assert_xs_error "--mechanism"
    write_config 600 'mechanism SCRAM-SHA-1,X-FOO'
    run -78 --separate-stderr xs -f "$CONF" "${ACCT[@]}" -m hi bob@localhost
    assert_xs_error "config:1: invalid mechanism"
    run -64 --separate-stderr xs "${ACCT[@]}" --cert "$cert" -m hi bob@localhost
    assert_xs_error "--cert needs --key"
    run -64 --separate-stderr xs "${ACCT[@]}" --key "$key" -m hi bob@localhost
    assert_xs_error "--key needs --cert"
    run -66 --separate-stderr xs "${ACCT[@]}" --cert "$pki/none.crt" \
        --key "$key" -m hi bob@localhost
    assert_xs_error "none.crt"
    chmod 640 "$key"
    run -78 --separate-stderr xs "${ACCT[@]}" --cert "$cert" --key "$key" \
        -m hi bob@localhost
    assert_xs_error "chmod 600"
    chmod 600 "$key"
    # A key that is not the certificate's: 78 before any connection.
    timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" client "$pki" bob@localhost
    run -78 --separate-stderr xs "${ACCT[@]}" --cert "$cert" \
        --key "$pki/bob@localhost.key" -m hi bob@localhost
    assert_xs_error "--cert and --key"
    # No password anywhere, no terminal: with a certificate that is no
    # error, the run gets as far as connecting (75).
    run -75 --separate-stderr xs "${noacct[@]}" --cert "$cert" --key "$key" \
        -m hi bob@localhost </dev/null
    assert_xs_error "cannot connect"
    # The same from the config file; the command line's --cert and --key
    # replace both of the file's.
    write_config 600 "cert $cert" "key $pki/bob@localhost.key"
    run -78 --separate-stderr xs -f "$CONF" "${noacct[@]}" -m hi \
        bob@localhost </dev/null
    assert_xs_error "--cert and --key"
    run -75 --separate-stderr xs -f "$CONF" "${noacct[@]}" --cert "$cert" \
        --key "$key" -m hi bob@localhost </dev/null
    assert_xs_error "cannot connect"
}

@test "completion: bash completes options from --help, closed sets and files; make install puts both files in place" {
    local comp="$TESTS_DIR/../completions/xmppsend.bash" d=$BATS_TEST_TMPDIR
    # complete1 WORD...: COMPREPLY for the last word, one per line
    complete1() {
        timeout 30 bash -c '
            source "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            _xmppsend; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
    }
    run -0 complete1 "$XMPPSEND" --rost
    [ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = "--roster --roster-add --roster-remove " ] ||
        fail "got: $output"
    run -0 complete1 "$XMPPSEND" --no-p
    [ "$output" = "--no-pipelining" ] || fail "got: $output"
    run -0 complete1 "$XMPPSEND" --type ''
    [ "$(printf '%s\n' "$output" | tr '\n' ' ')" = "chat normal headline " ] ||
        fail "got: $output"
    touch "$d/report.txt"
    run -0 complete1 "$XMPPSEND" -u "$d/rep"
    [ "$output" = "$d/report.txt" ] || fail "got: $output"
    # A value of the user's own: nothing offered.
    run -0 complete1 "$XMPPSEND" -m ''
    [ -z "$output" ] || fail "got: $output"
    # Every option --help lists is offered for "--".
    run -0 complete1 "$XMPPSEND" --
    local want
    want=$("$XMPPSEND" --help | grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort)
    for o in $want; do
        grep -qx -- "$o" <<<"$output" || fail "$o not offered"
    done
    # -o all: install what the suite built; never build from a test.
    run -0 timeout 60 make -s -o all -C "$TESTS_DIR/.." install DESTDIR="$d/root" PREFIX=/usr
    [ -f "$d/root/usr/share/bash-completion/completions/xmppsend" ]
    [ -f "$d/root/usr/share/zsh/vendor-completions/_xmppsend" ]
    [ -x "$d/root/usr/bin/xmppsend" ]
}

@test "completion: zsh offers the config's account names for -a, as bash does" {
    require_cmd zsh
    local comp=$TESTS_DIR/../completions conf=$BATS_TEST_TMPDIR/conf
    printf '%s\n' 'jid a@localhost' 'account work' 'jid w@localhost' \
        '  account   home : work' 'account other, x' '# account commented' \
        $'account\ttabbed' >"$conf"
    # The completion function with _arguments and compadd stubbed: the
    # spec wires -a and --account to it, and it offers what bash offers.
    # shellcheck disable=SC2016 # expanded by zsh
    run -0 --separate-stderr env HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent \
        XMPPSEND_SYSCONFIG=/nonexistent timeout 30 zsh -f -c '
        compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
        _arguments() { print -rl -- "$@" >&2; }
        words=(xmppsend -f "$2" -a ""); CURRENT=5
        source "$1/_xmppsend"; _xmppsend_accounts' _ "$comp" "$conf"
    [ "$(sort <<<"$output" | tr '\n' ' ')" = "home other tabbed work " ] ||
        fail "zsh: $output"
    assert_match "$stderr" $'\\*-a\\[[^]]*\\]:account:_xmppsend_accounts\n'
    assert_match "$stderr" $'\\*--account=\\[[^]]*\\]:account:_xmppsend_accounts\n'
    # shellcheck disable=SC2016 # expanded by the inner bash
    run -0 env HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent \
        XMPPSEND_SYSCONFIG=/nonexistent timeout 30 bash -c 'source "$1"
        COMP_WORDS=(xmppsend -f "$2" -a ""); COMP_CWORD=4; _xmppsend
        printf "%s\n" "${COMPREPLY[@]}"' _ "$comp/xmppsend.bash" "$conf"
    [ "$(sort <<<"$output" | tr '\n' ' ')" = "home other tabbed work " ] ||
        fail "bash: $output"
}

@test "--log: one line per run that tried to connect (mode 600, appended, failures too); --syslog FACILITY checked" {
    local log=$BATS_TEST_TMPDIR/runs.log
    run -75 --separate-stderr xs "${ACCT[@]}" --log "$log" -m hi bob@localhost
    run -75 --separate-stderr xs "${ACCT[@]}" --log "$log" -m 'two words' \
        bob@localhost carol@localhost
    [ "$(stat -c %a "$log")" = 600 ] || fail "log mode $(stat -c %a "$log")"
    [ "$(wc -l <"$log")" = 2 ] || fail "not two lines: $(cat "$log")"
    local l1 l2
    l1=$(sed -n 1p "$log")
    l2=$(sed -n 2p "$log")
    assert_match "$l1" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[-+][0-9]{4} account=alice@localhost server=127\.0\.0\.1:1 tls=none auth=none recipients=bob@localhost bytes=2 roundtrips=0 result=failed exitcode=EX_TEMPFAIL error="[^"]+"$'
    assert_match "$l2" ' recipients=bob@localhost,carol@localhost bytes=9 '
    refute_match "$(cat "$log")" 'pw|hi |two words'
    # Not for a run that never tried (a usage error), nor without --log
    run -64 --separate-stderr xs "${ACCT[@]}" --log "$log" --bogus -m hi bob@localhost
    run -75 --separate-stderr xs "${ACCT[@]}" -m hi bob@localhost
    [ "$(wc -l <"$log")" = 2 ] || fail "a line for a run without --log or before connecting"
    # '-': standard error
    run -75 --separate-stderr xs "${ACCT[@]}" --log - -m hi bob@localhost
    assert_match "$stderr" $'\n''[0-9T:+-]+ account=alice@localhost .* exitcode=EX_TEMPFAIL'
    run -64 --separate-stderr xs "${ACCT[@]}" --syslog=kern -m hi bob@localhost
    assert_xs_error 'syslog'
    run -64 --separate-stderr xs "${ACCT[@]}" --log '' -m hi bob@localhost
}

@test "--syslog: the run's line reaches syslog with the facility asked for (a private /dev/log)" {
    [ "$(id -u)" = 0 ] || skip "a private /dev/log needs root"
    require_cmd unshare python3
    local d=$BATS_TEST_TMPDIR sock=$BATS_TEST_TMPDIR/log.sock
    timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(50)
open(sys.argv[2], "w").close()
for _ in range(2):
    open(sys.argv[3], "ab").write(s.recv(65536) + b"\n")
' "$sock" "$d/ready" "$d/got" &
    local lp=$!
    for _ in $(seq 100); do [ -e "$d/ready" ] && break; sleep 0.1; done
    # /dev in a private mount namespace: the real nodes, plus /dev/log
    # pointing at the listener.
    local cmd
    cmd=$(printf '%q ' env -u XMPPSEND_PASSWORD XDG_CONFIG_HOME="$d/noconfig" \
        XDG_STATE_HOME="$d/state" $XS_WRAP "$XMPPSEND" "${ACCT[@]}")
    run timeout 120 unshare --mount bash -c '
        set -e
        mkdir -p "$1/olddev"
        mount --bind /dev "$1/olddev"
        mount -t tmpfs tmpfs /dev
        for n in null zero random urandom full tty; do
            touch "/dev/$n"; mount --bind "$1/olddev/$n" "/dev/$n"
        done
        ln -s /proc/self/fd /dev/fd
        ln -s "$2" /dev/log
        '"$cmd"' --syslog -m hi bob@localhost || echo "rc=$?"
        '"$cmd"' --syslog=local3 -m hi bob@localhost || echo "rc=$?"
    ' sh "$d" "$sock"
    [ "$(grep -c 'rc=75' <<<"$output")" = 2 ] || fail "not two runs with 75: $output"
    wait "$lp" || fail "the listener got fewer than two lines"
    # PRI = facility * 8 + severity: user (1) and local3 (19), err (3)
    assert_match "$(sed -n 1p "$d/got")" '^<11>.*xmppsend\[[0-9]+\]: account=alice@localhost .* exitcode=EX_TEMPFAIL'
    assert_match "$(sed -n 2p "$d/got")" '^<155>.*xmppsend\[[0-9]+\]: account=alice@localhost '
}

@test "--retry: a temporary failure is tried again N times, BACKOFF doubling, never past the deadline; values checked" {
    local acct=(-j alice@localhost -p pw --server 127.0.0.1:1)
    run -75 --separate-stderr xs "${acct[@]}" --timeout 60 --retry 2,1 -m hi bob@localhost
    [ "$(grep -c 'trying again in 1 s (1 of 2)' <<<"$stderr")" = 1 ] || fail "no first retry"
    [ "$(grep -c 'trying again in 2 s (2 of 2)' <<<"$stderr")" = 1 ] || fail "no second retry"
    [ "$(grep -c '^xmppsend: ' <<<"$stderr")" = 3 ] || fail "not three lines"
    # A pause that would end after the deadline is not started.
    run -75 --separate-stderr xs "${acct[@]}" --timeout 10 --retry 5,20 -m hi bob@localhost
    refute_match "$stderr" 'trying again'
    # -q: no announcements, the last error only
    run -75 --separate-stderr xs "${acct[@]}" --timeout 60 --retry 1,0 -q -m hi bob@localhost
    [ "$(grep -c '^xmppsend: ' <<<"$stderr")" = 1 ] || fail "-q: $stderr"
    # Not a temporary failure: no retry
    run -65 --separate-stderr xs "${acct[@]}" --retry 3,0 -m hi bob@localhost@x
    refute_match "$stderr" 'trying again'
    local bad
    for bad in 11 -1 x 2,601 2, ,2 '2,1,1'; do
        run -64 --separate-stderr xs "${acct[@]}" --retry "$bad" -m hi bob@localhost
        assert_xs_error "invalid --retry"
    done
}

@test "login state: no writable state directory is silent (-d says it), a state file others can read is a warning and not used" {
    local acct=(-j alice@localhost -p pw --server 127.0.0.1:1 -m hi bob@localhost)
    # A directory that cannot be made (a read-only home under cron)
    XS_STATE_HOME=/proc/xmppsend-none run -75 --separate-stderr xs "${acct[@]}"
    [ "$(grep -c '^xmppsend: ' <<<"$stderr")" = 1 ] || fail "more than the error: $stderr"
    refute_match "$stderr" 'state'
    XS_STATE_HOME=/proc/xmppsend-none run -75 --separate-stderr xs -d "${acct[@]}"
    assert_match "$stderr" $'\\*: cannot create the state directory /proc/xmppsend-none/xmppsend: [^\n]*; going on without it'
    # A state file that others can read: refused, said every run
    local sd=$BATS_TEST_TMPDIR/st
    mkdir -p -m 700 "$sd/xmppsend"
    printf 'client-id 1\n' >"$sd/xmppsend/alice@localhost"
    chmod 644 "$sd/xmppsend/alice@localhost"
    XS_STATE_HOME=$sd run -75 --separate-stderr xs "${acct[@]}"
    assert_match "$stderr" "xmppsend: warning: $sd/xmppsend/alice@localhost contains a password but is accessible by group or others"
    # --insecure and --no-sasl2 --no-fast: no state at all
    rm -rf "$sd/xmppsend"
    XS_STATE_HOME=$sd run -75 --separate-stderr xs --no-sasl2 --no-fast "${acct[@]}"
    [ ! -e "$sd/xmppsend" ] || fail "state made without SASL2 and FAST"
    XS_STATE_HOME=$sd run -75 --separate-stderr xs --insecure "${acct[@]}"
    [ ! -e "$sd/xmppsend" ] || fail "state made with --insecure"
    XS_STATE_HOME=$sd run -75 --separate-stderr xs "${acct[@]}"
    [ -d "$sd/xmppsend" ] && [ "$(stat -c %a "$sd/xmppsend")" = 700 ] || fail "no 700 state dir"
}

@test "--serverinfo: usage errors (no domain, two, a JID, with -m or --roster, --login without an account or to another domain) are 64 before connecting" {
    run -64 --separate-stderr xs --serverinfo
    assert_xs_error "needs a DOMAIN or an account"
    run -64 --separate-stderr xs --serverinfo a.example b.example
    assert_xs_error "takes one DOMAIN"
    run -64 --separate-stderr xs --serverinfo bob@example.org
    assert_xs_error "takes a domain, not a JID"
    run -64 --separate-stderr xs --serverinfo -m hi example.org
    assert_xs_error "cannot use both --serverinfo and --message"
    run -64 --separate-stderr xs --serverinfo --roster example.org
    assert_xs_error "cannot use both --serverinfo and --roster"
    run -64 --separate-stderr xs --serverinfo --login example.org
    assert_xs_error "--login needs an account"
    run -64 --separate-stderr xs --serverinfo --login -j a@example.net example.org
    assert_xs_error "DOMAIN is not the account's"
}
