#!/usr/bin/env bats
# shellcheck shell=bats
# compat.bats - xmppsend as a drop-in for Perl sendxmpp 1.24 and
# go-sendxmpp 0.5.6 (compat.c): the command lines of the peers' man
# pages, run through a link named like the peer, with HOME pointing at a
# directory holding the peer's account file, against a real, throwaway
# server on 127.0.0.1: tests/prosody-compat.bats and
# tests/ejabberd-compat.bats are links to this file (tests/lib/server.bash).
# The peers have no --server: the account file (sendxmpp's
# "user@domain;host:port" form, or jserver/port keys) or -j points them
# at 127.0.0.1:PORT.  The test CA: sendxmpp's -a (--tls-ca-path), and
# SSL_CERT_FILE for go-sendxmpp, whose Go TLS reads it (so does
# compat.c).  Delivery is proven from the server's store (bob never logs
# in) or by bob sitting in a room (tests/testclient.py).

bats_require_minimum_version 1.5.0

load helper
load lib/server

MUC=conference.localhost

setup() {
    srv_skip_missing
    SIT_PID=
    PHOME=$BATS_TEST_TMPDIR/home
    mkdir -p "$PHOME/bin" "$PHOME/.config/go-sendxmpp"
    ln -s "$XMPPSEND" "$PHOME/bin/sendxmpp"
    ln -s "$XMPPSEND" "$PHOME/bin/go-sendxmpp"
}

teardown() {
    if [ -n "${SIT_PID-}" ]; then
        kill "$SIT_PID" 2>/dev/null || true
        wait "$SIT_PID" 2>/dev/null || true
    fi
    srv_last_run
}

# peer NAME ARGS...: the link NAME (sendxmpp, go-sendxmpp) to xmppsend,
# with HOME in the test's directory (XDG_CONFIG_HOME elsewhere: the peers
# look under HOME), no inherited credentials, under timeout (and
# valgrind when XS_WRAP says)
peer() {
    local name=$1
    shift
    # shellcheck disable=SC2086 # XS_WRAP: a command with its options
    env -u XMPPSEND_JID -u XMPPSEND_PASSWORD -u SSL_CERT_FILE \
        HOME="$PHOME" XDG_CONFIG_HOME="$PHOME/xdg" \
        XDG_STATE_HOME="$BATS_TEST_TMPDIR/state" ${PEER_ENV-} \
        timeout "${XS_TIMEOUT:-90}" $XS_WRAP "$PHOME/bin/$name" "$@"
}

# rcfile PATH MODE LINE...: write an account file
rcfile() {
    local f=$1 mode=$2
    shift 2
    printf '%s\n' "$@" >"$f"
    chmod "$mode" "$f"
}

unique() {
    printf 'xs-c%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

# stored: bob's stored stanzas, read once per test (ejabberd: a login
# of bob's), after everything was sent
stored() {
    local f=$BATS_TEST_TMPDIR/stored-bob
    if [ ! -e "$f" ]; then
        srv_stored bob >"$f.new" || return 1
        mv "$f.new" "$f"
    fi
    cat "$f"
}

# stored_has TEXT [COUNT]: COUNT (default 1) stored stanzas contain TEXT
stored_has() {
    local n
    n=$(stored | grep -cF -- "$1" || true)
    [ "$n" -eq "${2:-1}" ] || fail "'$1' stored $n times, want ${2:-1}: $(stored)"
}

@test "sendxmpp: the man page's examples with ~/.sendxmpprc (one-line and key: value forms), -a, -s, -i, -m FILE, -o" {
    local u
    u=$(unique)
    # one-line form, a connection host and port after the domain
    rcfile "$PHOME/.sendxmpprc" 600 "# my account" \
        "alice@localhost;127.0.0.1:$SRV_PORT alice-pw"
    run --separate-stderr -0 peer sendxmpp -t -a "$SRV_CA" -s hello \
        bob@localhost <<<"hello bob! $u"
    run --separate-stderr -0 peer sendxmpp -a "$SRV_CA" -i bob@localhost \
        <<<"line one $u"$'\n'"line two $u"
    # the 1.24 key: value form, with a component: "bob" is bob@localhost
    rcfile "$PHOME/other-rc" 600 "username: alice" "jserver: 127.0.0.1" \
        "port: $SRV_PORT" "password: alice-pw" "component: localhost"
    printf 'from a file %s\n' "$u" >"$PHOME/msg"
    run --separate-stderr -0 peer sendxmpp --file="$PHOME/other-rc" \
        --tls-ca-path "$SRV_CA" -m "$PHOME/msg" bob </dev/null
    stored_has "hello bob! $u"
    stored | grep -F -- "hello bob! $u" | grep -qF '<subject>hello</subject>' ||
        fail "no subject: $(stored)"
    # -i: one message per line
    stored_has "line one $u"
    stored_has "line two $u"
    if stored | grep -F -- "line one $u" | grep -qF "line two"; then
        fail "-i sent one message: $(stored)"
    fi
    stored_has "from a file $u"
}

@test "sendxmpp --chatroom -r TheCook: bob in the room gets the message from TheCook" {
    local r u i
    r="xs-c$RANDOM$RANDOM@$MUC"
    u=$(unique)
    rcfile "$PHOME/.sendxmpprc" 600 \
        "alice@localhost;127.0.0.1:$SRV_PORT alice-pw"
    SIT_OUT=$BATS_TEST_TMPDIR/sit.out
    SIT_STOP=$BATS_TEST_TMPDIR/sit.stop
    timeout 1200 python3 "$TESTS_DIR/testclient.py" "$SRV_PORT" "$SRV_CA" \
        bob@localhost bob-pw muc-sit "$r" bob "$SIT_STOP" >"$SIT_OUT" \
        2>"$SIT_OUT.err" 3>&- &
    SIT_PID=$!
    for ((i = 0; i < 600; i++)); do
        grep -qx ready "$SIT_OUT" && break
        kill -0 "$SIT_PID" 2>/dev/null || fail "bob: $(cat "$SIT_OUT.err")"
        sleep 0.1
    done
    run --separate-stderr -0 peer sendxmpp -a "$SRV_CA" -r TheCook \
        --chatroom "$r" <<<"Dinner Time $u"
    touch "$SIT_STOP"
    wait "$SIT_PID" || fail "bob's client failed: $(cat "$SIT_OUT.err")"
    SIT_PID=
    grep -qE $'^TheCook\t[^\t]+\tDinner Time '"$u"'$' "$SIT_OUT" ||
        fail "bob got: $(cat "$SIT_OUT")"
}

@test "go-sendxmpp: its config (SSL_CERT_FILE for the CA), -m FILE, eval_password with -n, empty input, --compat" {
    local u
    u=$(unique)
    rcfile "$PHOME/.config/go-sendxmpp/config" 600 \
        "username: alice@localhost" "jserver: 127.0.0.1" "port: $SRV_PORT" \
        "password: alice-pw"
    PEER_ENV="SSL_CERT_FILE=$SRV_CA" run --separate-stderr -0 \
        peer go-sendxmpp bob@localhost <<<"go piped $u"
    printf 'go file %s\n' "$u" >"$PHOME/msg"
    PEER_ENV="SSL_CERT_FILE=$SRV_CA" run --separate-stderr -0 \
        peer go-sendxmpp --message "$PHOME/msg" bob@localhost </dev/null
    # a password command in another file; -n: no CA needed
    rcfile "$PHOME/gx" 600 "username: alice@localhost" \
        "eval_password: cat '$PW_FILE'"
    run --separate-stderr -0 peer go-sendxmpp -nf "$PHOME/gx" \
        -j "127.0.0.1:$SRV_PORT" bob@localhost <<<"go eval $u"
    # empty input: exit 0 without connecting (port 1 is closed)
    run --separate-stderr -0 peer go-sendxmpp -j 127.0.0.1:1 bob@localhost \
        </dev/null
    # the plain binary told to be go-sendxmpp
    # shellcheck disable=SC2086 # XS_WRAP: a command with its options
    run --separate-stderr -0 env HOME="$PHOME" \
        XDG_CONFIG_HOME="$PHOME/xdg" SSL_CERT_FILE="$SRV_CA" \
        XDG_STATE_HOME="$BATS_TEST_TMPDIR/state" \
        timeout "${XS_TIMEOUT:-90}" $XS_WRAP "$XMPPSEND" \
        --compat go-sendxmpp bob@localhost <<<"go compat $u"
    stored_has "go piped $u"
    stored_has "go file $u"
    stored_has "go eval $u"
    stored_has "go compat $u"
}

@test "refused: a readable rc file with a password 78, options without a meaning here 64, a wrong password 77; nothing sent" {
    local u
    u=$(unique)
    rcfile "$PHOME/.sendxmpprc" 640 \
        "alice@localhost;127.0.0.1:$SRV_PORT alice-pw"
    run --separate-stderr -78 peer sendxmpp -a "$SRV_CA" bob@localhost \
        <<<"readable $u"
    assert_xs_error "accessible by group or others"
    chmod 600 "$PHOME/.sendxmpprc"
    run --separate-stderr -64 peer sendxmpp --sso bob@localhost <<<"sso $u"
    assert_xs_error "sendxmpp option --sso is not supported"
    run --separate-stderr -64 peer sendxmpp -a "$PHOME" bob@localhost \
        <<<"dir $u"
    assert_xs_error "option -a with a directory"
    run --separate-stderr -64 peer go-sendxmpp --ox bob@localhost <<<"ox $u"
    assert_xs_error "go-sendxmpp option --ox is not supported"
    run --separate-stderr -64 peer go-sendxmpp -l
    assert_xs_error "go-sendxmpp option -l is not supported"
    run --separate-stderr -77 peer sendxmpp -a "$SRV_CA" -p wrong-pw \
        bob@localhost <<<"wrong $u"
    assert_xs_error
    stored_has "$u" 0
}
