# shellcheck shell=bats
# config.bats - the config files as msmtp has them: the system file and
# the user's, defaults, accounts with inheritance, -a, quoting, the
# system file's rule for secrets, --password-fd and --pretend.  No
# server: what a file sets is read back from --pretend (which never
# connects), and runs that get as far as connecting are pointed at
# 127.0.0.1:1, which refuses (exit 75).

bats_require_minimum_version 1.5.0

load helper

setup() {
    CONF=$BATS_TEST_TMPDIR/config
    SYS=$BATS_TEST_TMPDIR/system.conf
}

# conf FILE MODE LINE...: write a config file with the given mode.
conf() {
    local f=$1 mode=$2
    shift 2
    printf '%s\n' "$@" >"$f"
    chmod "$mode" "$f"
}

# pretend_has KEY VALUE FROM: --pretend's output ($output) has the line
# "KEY = VALUE # FROM" (VALUE and FROM are regular expressions).
pretend_has() {
    local re="(^|"$'\n'")$1 += $2 +# $3("$'\n'"|$)"
    [[ $output =~ $re ]] || fail "no line '$1 = $2 # $3' in: $output"
}

@test "accounts: defaults, account, inheritance in order, account default, -a; each value's file:line" {
    conf "$CONF" 600 \
        '# accounts' \
        'timeout 20' \
        'defaults' \
        'type normal' \
        '' \
        'account base' \
        'server 127.0.0.1:1' \
        'resource from-base' \
        'subject base' \
        'account other' \
        'resource from-other' \
        'defaults' \
        'thread late-default' \
        'account work : base, other' \
        'jid alice@work.example' \
        'password secret-pw' \
        'account home : work' \
        'jid bob@home.example' \
        'subject home' \
        'account default : home'
    # No -a: the account "default", which inherits home, work, base, other.
    run -0 --separate-stderr xs -f "$CONF" --pretend
    pretend_has account default "$CONF:20"
    pretend_has jid bob@home.example "$CONF:18"
    pretend_has subject home "$CONF:19"
    pretend_has server 127.0.0.1:1 "$CONF:7"
    # other comes after base in "base, other": its resource wins.
    pretend_has resource from-other "$CONF:11"
    pretend_has timeout 20 "$CONF:2"
    pretend_has type normal "$CONF:4"
    # A default given after an account applies to those after it only.
    pretend_has thread late-default "$CONF:13"
    pretend_has password '\*' "$CONF:16"
    refute_match "$output" 'secret-pw'
    # -a picks one; the defaults before it apply, later ones do not.
    run -0 --separate-stderr xs -f "$CONF" -a base --pretend
    pretend_has account base 'command line'
    pretend_has subject base "$CONF:9"
    pretend_has type normal "$CONF:4"
    refute_match "$output" 'thread|jid '
    pretend_has password '\(asked on the terminal\)' default
    # The command line still overrides the account, setting by setting.
    run -0 --separate-stderr xs -f "$CONF" -a work --pretend -s cli \
        --timeout 9
    pretend_has jid alice@work.example "$CONF:15"
    pretend_has subject cli 'command line'
    pretend_has timeout 9 'command line'
    # bash completion offers the accounts of the files (here -f's).
    # shellcheck disable=SC2016 # expanded by the inner bash
    run -0 timeout 30 bash -c 'source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _xmppsend
        printf "%s\n" "${COMPREPLY[@]}"' _ \
        "$TESTS_DIR/../completions/xmppsend.bash" xmppsend -f "$CONF" -a ''
    [ "${output//$'\n'/ }" = "base default home other work" ] ||
        fail "completion: $output"
    # A run with the account gets as far as connecting to its server.
    run -75 --separate-stderr xs -f "$CONF" -a work -m hi bob@localhost
    assert_xs_error '127\.0\.0\.1'
}

@test "files: a flat file as before, XDG file before ~/.xmppsendrc, -f replaces the user file, system file first" {
    local home=$BATS_TEST_TMPDIR/home
    mkdir -p "$home/.config/xmppsend"
    conf "$home/.xmppsendrc" 600 'jid rc@example.org' 'subject from-rc'
    # Only ~/.xmppsendrc: it is the user's file.
    HOME=$home XS_CONFIG_HOME=$home/.config run -0 --separate-stderr \
        xs --pretend
    pretend_has jid rc@example.org "$home/.xmppsendrc:1"
    # The XDG file exists: it wins, ~/.xmppsendrc is not read at all.
    conf "$home/.config/xmppsend/config" 600 'jid xdg@example.org'
    HOME=$home XS_CONFIG_HOME=$home/.config run -0 --separate-stderr \
        xs --pretend
    pretend_has jid xdg@example.org "$home/.config/xmppsend/config:1"
    refute_match "$output" 'from-rc'
    # -f FILE replaces the user's file; the system file is read first
    # and its defaults apply to the user's accounts; the user's account
    # replaces the system file's account of the same name.
    conf "$SYS" 644 'server 127.0.0.1:1' 'type headline' \
        'account shared' 'jid sys@example.org' 'subject sys' \
        'account team' 'jid team@example.org'
    conf "$CONF" 600 'type normal' 'account shared' 'jid user@example.org' \
        'account mine : team' 'resource mine'
    HOME=$home XS_CONFIG_HOME=$home/.config XS_SYSCONFIG=$SYS \
        run -0 --separate-stderr xs -f "$CONF" -a shared --pretend
    pretend_has jid user@example.org "$CONF:3"
    pretend_has server 127.0.0.1:1 "$SYS:1"
    pretend_has type normal "$CONF:1"
    refute_match "$output" 'subject|xdg@'
    assert_match "$output" "# system config file $SYS"$'\n'
    assert_match "$output" "# user config file $CONF"$'\n'
    # A user's account may inherit a system file's account.
    XS_SYSCONFIG=$SYS run -0 --separate-stderr xs -f "$CONF" -a mine \
        --pretend
    pretend_has jid team@example.org "$SYS:7"
    pretend_has resource mine "$CONF:5"
    # XMPPSEND_SYSCONFIG empty: no system file.
    XS_SYSCONFIG='' run -0 --separate-stderr xs -f "$CONF" --pretend
    refute_match "$output" 'system config file|127\.0\.0\.1'
    # A flat system file and a flat user file: both apply, the user's
    # lines last; a run with them gets as far as connecting.
    conf "$CONF" 600 'jid alice@localhost' 'password pw'
    XS_SYSCONFIG=$SYS run -75 --separate-stderr xs -f "$CONF" -m hi \
        bob@localhost
    assert_xs_error '127\.0\.0\.1'
}

@test "system file: a secret needs it root-owned and closed to others; never writable by others" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to own the system file"
    local ran=$BATS_TEST_TMPDIR/ran
    conf "$CONF" 600 'jid alice@localhost'
    # World-readable with a password-command: 78 with file:line, and the
    # command is not run.
    conf "$SYS" 644 'server 127.0.0.1:1' 'account a' \
        "password-command touch $ran; echo pw"
    XS_SYSCONFIG=$SYS run -78 --separate-stderr xs -f "$CONF" -m hi \
        bob@localhost
    assert_xs_error "$SYS:3: password-command in the system config file"
    [ ! -e "$ran" ] || fail "the system file's password-command was run"
    # Root-owned and closed to others (group may read): accepted.
    chmod 640 "$SYS"
    # (the user file's defaults come after account a: -j for its JID)
    XS_SYSCONFIG=$SYS run -75 --separate-stderr xs -f "$CONF" -a a -m hi \
        -j alice@localhost bob@localhost
    [ -e "$ran" ] || fail "the password-command was not run"
    # Writable by the group: refused without any secret in it.
    conf "$SYS" 664 'server 127.0.0.1:1'
    XS_SYSCONFIG=$SYS run -78 --separate-stderr xs -f "$CONF" --pretend
    assert_xs_error "system config file $SYS is writable"
    # A file owned by nobody: refused too.
    chmod 644 "$SYS"
    chown 65534 "$SYS"
    XS_SYSCONFIG=$SYS run -78 --separate-stderr xs -f "$CONF" --pretend
    assert_xs_error "owned by uid 65534"
}

@test "values: quotes with \\\" and \\\\, comments after a quoted value, # in an unquoted one, ~/ in file keys" {
    cat >"$CONF" <<'EOF'
jid "alice@localhost"   # a comment
subject "say \"hi\" \\ bye"
thread a#b
nick "  spaced  "
cafile ~/ca.pem
resource ~/not-a-file
password-file "~/pw"
  	pipelining   off 	
account a
	quiet "yes"
account b : a
EOF
    chmod 600 "$CONF"
    HOME=/home/someone run -0 --separate-stderr xs --pretend -f "$CONF"
    pretend_has jid alice@localhost "$CONF:1"
    pretend_has subject 'say "hi" \\ bye' "$CONF:2"
    pretend_has thread 'a#b' "$CONF:3"
    pretend_has nick '  spaced  ' "$CONF:4"
    pretend_has cafile /home/someone/ca.pem "$CONF:5"
    # shellcheck disable=SC2088 # the text ~/, not a path
    pretend_has resource '~/not-a-file' "$CONF:6"
    pretend_has password-file /home/someone/pw "$CONF:7"
    pretend_has pipelining off "$CONF:8"
    HOME=/home/someone run -0 --separate-stderr xs --pretend -f "$CONF" -a b
    pretend_has pipelining off "$CONF:8"
    pretend_has quiet on "$CONF:10"
}

@test "bad input: 78 with file:line (quotes, accounts, loops, unknown account); bad -a is 64" {
    local f=$BATS_TEST_TMPDIR/bad n
    # check LINE... -- REGEX: the file's lines give 78 and REGEX
    check() {
        local lines=()
        while [ "$1" != -- ]; do
            lines+=("$1")
            shift
        done
        conf "$f" 600 "${lines[@]}"
        run --separate-stderr xs -f "$f" -a x --pretend
        # shellcheck disable=SC2154 # $stderr: set by bats' run
        [ "$status" -eq 78 ] || fail "${lines[*]}: exit $status, $stderr"
        assert_xs_error "$2" || fail "${lines[*]}: $stderr"
    }
    check 'account x' 'subject "open' -- "$f:2: unterminated quote"
    check 'account x' 'subject "a" b' -- "$f:2: text after the closing quote"
    check 'account x : y' 'account y : x' -- "$f:1: account 'x' inherits from itself"
    check 'account x : x' -- "inheritance loop"
    check 'account x : nope' -- "$f:1: account 'x' inherits from 'nope', which is not defined"
    check 'account x' 'account x' -- "$f:2: account 'x' is defined twice \\(first on line 1\\)"
    check 'account x :' -- "$f:1: want 'account NAME : PARENT"
    check 'account x : a b' -- "$f:1: want 'account NAME : PARENT"
    check 'account x y' -- "$f:1: want 'account NAME'"
    check 'defaults now' 'account x' -- "$f:1: 'defaults' takes no value"
    check 'account x' 'colour red' -- "$f:2: unknown key 'colour'"
    check 'account x' 'timeout abc' -- "$f:2: invalid timeout 'abc'"
    check 'account y' -- "no account 'x' in $f"
    # A chain deeper than 32 levels, and more than 1000 accounts.
    {
        echo 'account x : a1'
        for n in $(seq 1 40); do echo "account a$n : a$((n + 1))"; done
        echo 'account a41'
    } >"$f"
    run -78 --separate-stderr xs -f "$f" -a x --pretend
    assert_xs_error 'deeper than 32 levels'
    for n in $(seq 1 1001); do echo "account a$n"; done >"$f"
    run -78 --separate-stderr xs -f "$f" --pretend
    assert_xs_error "$f:1001: more than 1000 accounts"
    printf 'account x\njid a\0b\n' >"$f"
    run -78 --separate-stderr xs -f "$f" --pretend
    assert_xs_error "$f:2: NUL byte"
    # ~/ with no HOME
    conf "$f" 600 'cafile ~/ca.pem'
    HOME='' run -78 --separate-stderr xs -f "$f" --pretend
    assert_xs_error 'cannot expand ~/'
    # -a with no config file at all names where it looked.
    XS_SYSCONFIG=$SYS run -78 --separate-stderr xs -a work --pretend
    assert_xs_error "no account 'work': no config file \\(looked for $SYS and "
    # Accounts but no -a and no account default: the hint names -a.
    conf "$f" 600 'account a' 'jid a@localhost'
    run -64 --separate-stderr xs -f "$f" -m hi bob@localhost
    assert_xs_error "no account given \\(use -a ACCOUNT"
    # An account name that no file could hold: a usage error.
    run -64 --separate-stderr xs -a 'a b' --pretend
    assert_xs_error "invalid --account"
}

@test "--password-fd: the first line of the descriptor; closed 66, empty 65, 0 with the body on stdin 64, silent 75" {
    # Past the password step: the connection to 127.0.0.1:1 is refused.
    run -75 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi --password-fd 3 bob@localhost 3< <(printf 'pw\nnext\n')
    assert_xs_error '127\.0\.0\.1'
    run -66 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi --password-fd 7 bob@localhost 7<&-
    assert_xs_error '--password-fd 7: not open'
    run -65 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi --password-fd 3 bob@localhost 3< <(printf '\nlater\n')
    assert_xs_error '--password-fd 3: no password'
    run -64 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        --password-fd 0 bob@localhost <<<'the body'
    assert_xs_error 'standard input carries the message'
    # -m: descriptor 0 may carry the password.
    run -75 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi --password-fd 0 bob@localhost <<<'pw'
    run -64 --separate-stderr xs --password-fd -1 -m hi bob@localhost
    assert_xs_error 'invalid --password-fd'
    # Nothing written before the deadline: 75, within --timeout.
    local t0=$SECONDS
    run -75 --separate-stderr xs -j alice@localhost --server 127.0.0.1:1 \
        -m hi --timeout 1 --password-fd 3 bob@localhost 3< <(exec timeout 30 sleep 20 2>&-)
    assert_xs_error 'no password before the deadline'
    [ $((SECONDS - t0)) -lt 15 ] || fail "took $((SECONDS - t0)) s"
}

@test "--pretend: exit 0 without connecting or running the password command; mechanisms, servers, --json" {
    local ran=$BATS_TEST_TMPDIR/ran
    conf "$CONF" 600 'jid alice@example.org' \
        "password-command touch $ran; echo pw" 'room-password rpw'
    run -0 --separate-stderr xs -f "$CONF" --pretend -m hi bob@example.org
    [ ! -e "$ran" ] || fail "--pretend ran the password command"
    pretend_has password-command "touch $ran; echo pw" "$CONF:2"
    pretend_has room-password '\*' "$CONF:3"
    refute_match "$output" 'rpw'
    pretend_has mechanisms 'SCRAM-SHA-512,SCRAM-SHA-256,SCRAM-SHA-1,PLAIN,DIGEST-MD5' 'default.*'
    pretend_has servers 'SRV _xmpps-client\._tcp\.example\.org, _xmpp-client\._tcp\.example\.org, then example\.org:5222' '.*no DNS.*'
    pretend_has pipelining on default
    pretend_has timeout 30 default
    # The command line's password and server, --mechanism, --tls.
    # shellcheck disable=SC2086 # XS_WRAP: a command and its options
    XMPPSEND_PASSWORD=envpw run -0 --separate-stderr env XMPPSEND_SYSCONFIG= \
        XDG_CONFIG_HOME=/nonexistent timeout 60 $XS_WRAP "$XMPPSEND" \
        -j a@example.org --pretend \
        --mechanism plain,scram-sha-1 --server '[::1]:5223'
    pretend_has password '\*' 'environment XMPPSEND_PASSWORD'
    refute_match "$output" envpw
    pretend_has mechanisms 'SCRAM-SHA-1,PLAIN' 'command line'
    pretend_has servers '\[::1\]:5223 \(direct TLS\)' 'command line'
    run -0 --separate-stderr xs -j a@example.org --tls direct --insecure \
        --cert /dev/null --key /dev/null --password-fd 9 --pretend
    pretend_has password-fd 9 'command line'
    pretend_has mechanisms 'EXTERNAL,SCRAM-SHA-512,SCRAM-SHA-256,SCRAM-SHA-1' default.*
    pretend_has servers 'SRV _xmpps-client\._tcp\.example\.org, then example\.org:5223' '.*'
    run -0 --separate-stderr xs -j a@example.org --tls starttls --pretend
    pretend_has servers 'SRV _xmpp-client\._tcp\.example\.org, then example\.org:5222' '.*'
    pretend_has password '\(asked on the terminal\)' default
    # An internationalised domain: the names DNS is asked for, A-labels.
    run -0 --separate-stderr xs -j a@BÜCHER.example --tls starttls --pretend
    pretend_has jid 'a@BÜCHER\.example' '.*'
    pretend_has servers 'SRV _xmpp-client\._tcp\.xn--bcher-kva\.example, then xn--bcher-kva\.example:5222' '.*'
    run -0 --separate-stderr xs --pretend
    pretend_has servers '\(no account JID\)' default
    # --json: one object, the same settings.
    run -0 --separate-stderr xs -f "$CONF" --pretend --json -p clipw
    refute_match "$output" 'clipw|rpw'
    run -0 python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
s = o["settings"]
assert o["pretend"] is True
assert s["jid"] == {"value": "alice@example.org", "from": sys.argv[1] + ":1"}, s["jid"]
assert s["password"] == {"value": "*", "from": "command line"}, s["password"]
assert s["json"]["value"] == "on"
assert o["files"][-1] == {"path": sys.argv[1], "kind": "user", "read": True}
assert "servers" in s and "mechanisms" in s
' "$CONF" <<<"$output"
    # A bad value in the file is still 78.
    conf "$CONF" 600 'account default' 'timeout 0'
    run -78 --separate-stderr xs -f "$CONF" --pretend
    assert_xs_error "$CONF:2: invalid timeout"
}
