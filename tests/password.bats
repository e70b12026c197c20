#!/usr/bin/env bats
# password.bats - the password sources (password.c) through the binary:
# the password command bounded by --timeout and killed with its whole
# process group (at the deadline and when xmppsend gets SIGTERM), what the
# command inherits, XMPPSEND_PASSWORD gone from /proc/PID/environ, the
# process not dumpable, insecure password and config files refused, empty
# passwords refused, and the terminal prompt on a pseudo-terminal (echo
# restored after Ctrl-C, Ctrl-\ and SIGTERM, Ctrl-D refused).  Also runs
# the test_password unit program.
#
# No server is needed: the password is taken after the body is read and
# before connecting, and the run then fails on a closed port
# (127.0.0.1:1, exit 75), which also proves the password was accepted.

# shellcheck disable=SC2154 # $stderr: set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

load helper

: "${UNIT_DIR:=$TOP_DIR/build/unit}"

ARGS=(-m hi -j alice@localhost --server 127.0.0.1:1 bob@localhost)

setup() {
    T="$BATS_TEST_TMPDIR"
    # Under valgrind xmppsend starts slowly; give every run more room.
    if [ -n "${XS_SLOW-}" ]; then export XS_TIMEOUT=180; else export XS_TIMEOUT=30; fi
}

teardown() {
    if [ -n "${SERVER_PID-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "${XS_PID-}" ]; then kill "$XS_PID" 2>/dev/null || true; fi
    if [ -n "${NOBODY_DIR-}" ]; then rm -rf "$NOBODY_DIR"; fi
}

# marker N: a sleep argument unique to this test run, found later by ps.
marker() {
    printf '300.%s%s%s' "$$" "${BATS_SUITE_TEST_NUMBER:-0}" "$1"
}

# alive MARKER: a live (not zombie) "sleep MARKER" process exists.
alive() {
    timeout 10 ps -eo stat=,args= |
        awk -v m="sleep $1" '$1 !~ /^Z/ && index($0, m) && !index($0, "sh -c")' |
        grep -q .
}

# gone MARKER...: wait up to 5 s for every "sleep MARKER" to be gone.
gone() {
    local m i
    for m in "$@"; do
        for ((i = 0; i < 100; i++)); do
            alive "$m" || continue 2
            sleep 0.05
        done
        # shellcheck disable=SC2009 # ps, not pgrep: the whole picture
        fail "a 'sleep $m' process was left behind: $(ps -eo pid,ppid,pgid,stat,args | grep "sleep $m" | grep -v grep)"
        return 1
    done
}

# wait_for COND...: retry the command COND until it succeeds (up to 60 s).
wait_for() {
    local i
    for ((i = 0; i < 600; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "gave up waiting for: $*"
}

# xs_env VAR=VALUE... -- ARGS...: like xs, but with these variables in
# the environment of xmppsend (xs removes XMPPSEND_PASSWORD).
xs_env() {
    local vars=()
    while [ "$1" != -- ]; do
        vars+=("$1")
        shift
    done
    shift
    # shellcheck disable=SC2086
    env -u XMPPSEND_JID -u XMPPSEND_PASSWORD \
        XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/noconfig" "${vars[@]}" \
        timeout "$XS_TIMEOUT" $XS_WRAP "$XMPPSEND" "$@"
}

@test "unit: test_password (password sources on their own, prompt on a pty)" {
    local bin="$UNIT_DIR/test_password" limit=300
    [ -z "${XS_SLOW-}" ] || limit=2400
    [ -x "$bin" ] || fail "$bin is missing: build it with 'make unit'"
    # shellcheck disable=SC2086
    run timeout "$limit" $XS_WRAP "$bin"
    printf '%s\n' "$output"
    [ "$status" -eq 0 ] || fail "test_password exited with status $status"
    assert_match "$output" "(^|"$'\n'")test_password: all [0-9]+ checks passed"
}

# ---------------------------------------------------------------------
# The password command: deadline, process group, signals

@test "password-command: --timeout 2 ends it, its whole process group killed (75)" {
    local m1 m2 t0 ms max=8000
    m1=$(marker 1)
    m2=$(marker 2)
    [ -z "${XS_SLOW-}" ] || max=60000
    t0=$(date +%s%N)
    run --separate-stderr xs --timeout 2 \
        --password-command "sleep $m1 & sleep $m2" "${ARGS[@]}"
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "timed out after [0-9.]+ s while running password-command"
    [ "$ms" -lt "$max" ] || fail "took $ms ms"
    gone "$m1" "$m2"
}

@test "password-command: a group that ignores SIGTERM is killed too" {
    local m1 m2
    m1=$(marker 1)
    m2=$(marker 2)
    run --separate-stderr xs --timeout 1 \
        --password-command "trap '' TERM; sleep $m1 & sleep $m2" "${ARGS[@]}"
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "timed out"
    gone "$m1" "$m2"
}

@test "password-command: SIGTERM to xmppsend kills the command's group, then xmppsend dies of it" {
    local m1 m2 st=0
    m1=$(marker 1)
    m2=$(marker 2)
    XS_TIMEOUT=300 xs --timeout 200 \
        --password-command "echo \$PPID > '$T/ppid'; sleep $m1 & sleep $m2" \
        "${ARGS[@]}" >"$T/out" 2>"$T/err" 3>&- &
    XS_PID=$!
    wait_for test -s "$T/ppid"
    wait_for alive "$m1"
    wait_for alive "$m2"
    kill -TERM "$(cat "$T/ppid")"
    wait "$XS_PID" || st=$?
    XS_PID=
    # timeout(1) passes on its child's death by SIGTERM: 128 + 15.
    [ "$st" -eq 143 ] || fail "status $st, stderr: $(cat "$T/err")"
    gone "$m1" "$m2"
}

@test "password-command: SIGUSR1 or SIGQUIT to xmppsend kills the command's group too" {
    local m1 sig st n=6
    for sig in USR1 QUIT; do
        n=$((n + 1))
        m1=$(marker "$n")
        st=0
        rm -f "$T/ppid"
        XS_TIMEOUT=300 xs --timeout 200 \
            --password-command "echo \$PPID > '$T/ppid'; sleep $m1" \
            "${ARGS[@]}" >"$T/out" 2>"$T/err" 3>&- &
        XS_PID=$!
        wait_for test -s "$T/ppid"
        wait_for alive "$m1"
        kill -"$sig" "$(cat "$T/ppid")"
        wait "$XS_PID" || st=$?
        XS_PID=
        [ "$st" -gt 128 ] || fail "$sig: status $st, stderr: $(cat "$T/err")"
        gone "$m1"
    done
}

@test "password-command: a leftover background process is killed once the password is read" {
    local m1
    m1=$(marker 1)
    run --separate-stderr xs --timeout 60 \
        --password-command "sleep $m1 & echo pw" "${ARGS[@]}"
    # The password was taken at once; connecting then fails.
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    refute_match "$stderr" "password-command"
    gone "$m1"
}

@test "password-command: runs with SIGPIPE default, stdin /dev/null, no XMPPSEND_PASSWORD" {
    run --separate-stderr xs_env XMPPSEND_PASSWORD=envsecret-4711 -- \
        --password-command "awk '/^SigIgn/ {print \$2}' /proc/self/status > '$T/sigign'; readlink /proc/self/fd/0 > '$T/stdin'; printenv XMPPSEND_PASSWORD > '$T/seen'; echo pw" \
        "${ARGS[@]}"
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    local ign
    ign=$(cat "$T/sigign")
    [ -n "$ign" ] || fail "no SigIgn line"
    [ $(((0x$ign >> 12) & 1)) -eq 0 ] || fail "SIGPIPE ignored in the command (SigIgn $ign)"
    [ "$(cat "$T/stdin")" = /dev/null ] || fail "stdin: $(cat "$T/stdin")"
    [ ! -s "$T/seen" ] || fail "the command saw XMPPSEND_PASSWORD"
}

@test "password-command: non-zero exit, no output, an empty line are errors (78)" {
    run --separate-stderr xs --password-command "echo pw; exit 3" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "password-command failed \(exit status 3\)"
    run --separate-stderr xs --password-command "true" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "printed nothing"
    run --separate-stderr xs --password-command "echo" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "empty first line"
}

# ---------------------------------------------------------------------
# XMPPSEND_PASSWORD and the process itself

@test "XMPPSEND_PASSWORD: gone from /proc/PID/environ even when a password-command is used" {
    # Valgrind runs the program on its own copy of the environment; the
    # kernel's view (/proc) is valgrind's original.
    [ -z "$XS_WRAP" ] || skip "the environment under ${XS_WRAP%% *} is a copy"
    run --separate-stderr xs_env XMPPSEND_PASSWORD=envsecret-4711 -- \
        --password-command "tr '\\0' '\\n' < /proc/\$PPID/environ > '$T/environ'; echo pw" \
        "${ARGS[@]}"
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    grep -q '^PATH=' "$T/environ" || fail "could not read the environment"
    if grep -q envsecret-4711 "$T/environ"; then
        fail "XMPPSEND_PASSWORD still in /proc/PID/environ: $(grep XMPPSEND "$T/environ")"
    fi
}

# environ_while_connected ARGS...: start xmppsend with
# XMPPSEND_PASSWORD=envsecret-4711 and ARGS against a server that accepts
# and stays silent; once it is connected, its /proc/PID/environ (NULs as
# newlines) goes to $T/environ.
environ_while_connected() {
    local port xs_pid=
    timeout 120 python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
open(sys.argv[1], "w").write("accepted")
time.sleep(100)
' "$T/accepted" >"$T/port" 3>&- &
    SERVER_PID=$!
    wait_for test -s "$T/port"
    port=$(cat "$T/port")
    XS_TIMEOUT=120 xs_env XMPPSEND_PASSWORD=envsecret-4711 -- --timeout 100 \
        -m hi -j alice@localhost --server "127.0.0.1:$port" "$@" \
        bob@localhost >"$T/out" 2>"$T/err" 3>&- &
    XS_PID=$!
    wait_for test -s "$T/accepted"
    # The xmppsend process itself (not the env/timeout around it).
    local exe p
    exe=$(readlink -f "$XMPPSEND")
    for p in $(ps -eo pid=,args= | awk -v a="127.0.0.1:$port" 'index($0, a) {print $1}'); do
        [ "$(readlink "/proc/$p/exe")" != "$exe" ] || xs_pid=$p
    done
    [ -n "${xs_pid-}" ] || fail "no xmppsend process found"
    tr '\0' '\n' <"/proc/$xs_pid/environ" >"$T/environ"
    kill "$XS_PID"
    wait "$XS_PID" || true
    XS_PID=
    kill "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
    grep -q '^PATH=' "$T/environ" || fail "could not read the environment"
}

@test "XMPPSEND_PASSWORD: gone from /proc/PID/environ when it is the password used" {
    [ -z "$XS_WRAP" ] || skip "the environment under ${XS_WRAP%% *} is a copy"
    environ_while_connected
    if grep -q envsecret-4711 "$T/environ"; then fail "still in /proc/PID/environ"; fi
}

@test "XMPPSEND_PASSWORD: gone from /proc/PID/environ when --password-file wins" {
    [ -z "$XS_WRAP" ] || skip "the environment under ${XS_WRAP%% *} is a copy"
    printf 'filepw\n' >"$T/pw"
    chmod 600 "$T/pw"
    environ_while_connected --password-file "$T/pw"
    if grep -q envsecret-4711 "$T/environ"; then fail "still in /proc/PID/environ"; fi
}

@test "xmppsend is not dumpable: a same-user process cannot read its /proc environ" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to run as another user"
    require_cmd setpriv
    NOBODY_DIR=$(mktemp -d /tmp/xs-pw-nobody.XXXXXX)
    local d=$NOBODY_DIR
    chmod 777 "$d"
    # As nobody, a dumpable process's /proc files belong to nobody and it
    # can read them; a non-dumpable one's belong to root.  The command
    # checks its parent (xmppsend) and, as a control, its own shell.
    # shellcheck disable=SC2086
    run --separate-stderr timeout "$XS_TIMEOUT" setpriv --reuid=65534 \
        --regid=65534 --clear-groups env -i PATH="$PATH" HOME="$d" \
        XDG_CONFIG_HOME="$d/noconfig" $XS_WRAP "$XMPPSEND" \
        --password-command "id -u > $d/uid; stat -c %u /proc/\$\$/environ > $d/self; stat -c %u /proc/\$PPID/environ > $d/owner; if cat /proc/\$PPID/environ > /dev/null 2>&1; then echo readable; else echo denied; fi > $d/read; echo pw" \
        "${ARGS[@]}"
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    [ "$(cat "$d/uid")" = 65534 ] || fail "not run as nobody"
    [ "$(cat "$d/self")" = 65534 ] || fail "control: the shell's /proc is owned by $(cat "$d/self")"
    [ "$(cat "$d/owner")" = 0 ] || fail "xmppsend's /proc/PID/environ owned by uid $(cat "$d/owner"): dumpable"
    [ "$(cat "$d/read")" = denied ] || fail "xmppsend's environ readable by the same user"
}

# ---------------------------------------------------------------------
# Files

@test "--password-file: writable by others, readable by group, foreign-owned: refused (78)" {
    printf 'filepw\n' >"$T/pw"
    chmod 666 "$T/pw"
    run --separate-stderr xs --password-file "$T/pw" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "$T/pw is writable by group or others \(mode 0666\); run: chmod 600"
    chmod 640 "$T/pw"
    run --separate-stderr xs --password-file "$T/pw" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "accessible by group or others \(mode 0640\); run: chmod 600"
    chmod 604 "$T/pw"
    run --separate-stderr xs --password-file "$T/pw" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    # Control: the same file made private is used.
    chmod 600 "$T/pw"
    run --separate-stderr xs --password-file "$T/pw" "${ARGS[@]}"
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    if [ "$(id -u)" -eq 0 ]; then
        chown 65534 "$T/pw"
        run --separate-stderr xs --password-file "$T/pw" "${ARGS[@]}"
        [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
        assert_xs_error "owned by uid 65534, not by you \(uid 0\); run: chown 0"
    fi
}

@test "--password-file: an empty first line is refused (65)" {
    printf '\nsecond\n' >"$T/pw"
    chmod 600 "$T/pw"
    run --separate-stderr xs --password-file "$T/pw" "${ARGS[@]}"
    [ "$status" -eq 65 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "first line is empty"
}

@test "config file: world-writable or foreign-owned with password-command: refused, command not run" {
    printf 'password-command touch %s/ran; echo pw\n' "$T" >"$T/cfg"
    chmod 666 "$T/cfg"
    run --separate-stderr xs -f "$T/cfg" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "writable by group or others"
    [ ! -e "$T/ran" ] || fail "the password-command of an insecure config ran"
    chmod 620 "$T/cfg"
    run --separate-stderr xs -f "$T/cfg" "${ARGS[@]}"
    [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
    [ ! -e "$T/ran" ] || fail "the password-command of an insecure config ran"
    if [ "$(id -u)" -eq 0 ]; then
        chmod 600 "$T/cfg"
        chown 65534 "$T/cfg"
        run --separate-stderr xs -f "$T/cfg" "${ARGS[@]}"
        [ "$status" -eq 78 ] || fail "status $status, stderr: $stderr"
        assert_xs_error "owned by uid 65534"
        [ ! -e "$T/ran" ] || fail "the password-command of a foreign config ran"
        chown 0 "$T/cfg"
    fi
    # Control: private, it runs.
    chmod 600 "$T/cfg"
    run --separate-stderr xs -f "$T/cfg" "${ARGS[@]}"
    [ "$status" -eq 75 ] || fail "status $status, stderr: $stderr"
    [ -e "$T/ran" ] || fail "the password-command did not run"
}

@test "empty passwords are refused before connecting: -p '', XMPPSEND_PASSWORD=''" {
    run --separate-stderr xs -p '' "${ARGS[@]}"
    [ "$status" -eq 64 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "empty"
    run --separate-stderr xs_env XMPPSEND_PASSWORD= -- "${ARGS[@]}"
    [ "$status" -eq 64 ] || fail "status $status, stderr: $stderr"
    assert_xs_error "empty"
}

# ---------------------------------------------------------------------
# The prompt on a terminal

# pty_prompt ACTION: run xmppsend (no password source; PTY_ARGS added)
# on a new pseudo-terminal, its controlling terminal, wait for the prompt
# (or the text in PTY_WAIT), then
# ACTION: ctrl-c, ctrl-backslash, ctrl-d, TERM or text.  Prints
# "during=off|on", "exit=N" or "signal=N", "after=on|off" (termios of the
# terminal after xmppsend ended), and stty -a's echo flag.
PTY_ARGS=()
pty_prompt() {
    # shellcheck disable=SC2086
    timeout 300 python3 - "$1" "$T/stderr" "$XS_TIMEOUT" \
        "${PTY_WAIT:-Password for alice@localhost: }" $XS_WRAP "$XMPPSEND" \
        "${PTY_ARGS[@]}" "${ARGS[@]}" 3>&- <<'PY'
import os, select, signal, subprocess, sys, termios, time

action, errfile, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
wait_for = sys.argv[4].encode()
argv = sys.argv[5:]
master, slave = os.openpty()
name = os.ttyname(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fd = os.open(name, os.O_RDWR)  # becomes the controlling terminal
    os.close(master)
    os.close(slave)
    os.dup2(fd, 0)
    os.dup2(os.open(errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    os.dup2(2, 1)
    env = {k: v for k, v in os.environ.items()
           if k not in ("XMPPSEND_PASSWORD", "XMPPSEND_JID")}
    env["XDG_CONFIG_HOME"] = "/nonexistent/noconfig"
    os.execvpe(argv[0], argv, env)
    os._exit(127)
seen = b""
end = time.monotonic() + limit
while wait_for not in seen:
    if time.monotonic() > end:
        print("no prompt, got %r" % seen)
        os.kill(pid, signal.SIGKILL)
        sys.exit(1)
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        seen += os.read(master, 1024)
echo = lambda: "on" if termios.tcgetattr(slave)[3] & termios.ECHO else "off"
print("during=" + echo())
keys = {"ctrl-c": b"\x03", "ctrl-backslash": b"\x1c", "ctrl-d": b"\x04",
        "text": b"hunter2\n"}
if action == "slowtext":  # a person who takes a while to type
    time.sleep(3)
    action = "text"
if action in keys:
    os.write(master, keys[action])
else:
    os.kill(pid, getattr(signal, "SIG" + action))
while True:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        break
    if time.monotonic() > end:
        print("still running")
        os.kill(pid, signal.SIGKILL)
        sys.exit(1)
    try:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            seen += os.read(master, 1024)
    except OSError:
        time.sleep(0.05)
if os.WIFSIGNALED(st):
    print("signal=%d" % os.WTERMSIG(st))
else:
    print("exit=%d" % os.WEXITSTATUS(st))
print("after=" + echo())
stty = subprocess.run(["stty", "-a"], stdin=slave, capture_output=True,
                      text=True, timeout=30).stdout.split()
print("stty=" + ("echo" if "echo" in stty else "-echo" if "-echo" in stty
                 else "?"))
PY
}

@test "prompt: Ctrl-C restores echo and xmppsend dies of SIGINT" {
    require_cmd python3 stty
    run pty_prompt ctrl-c
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    assert_match "$output" "during=off"
    assert_match "$output" "signal=2"
    assert_match "$output" "after=on"
    assert_match "$output" "stty=echo"
}

@test "prompt: Ctrl-\\ restores echo and xmppsend dies of SIGQUIT" {
    require_cmd python3 stty
    run pty_prompt ctrl-backslash
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    assert_match "$output" "during=off"
    assert_match "$output" "signal=3"
    assert_match "$output" "after=on"
    assert_match "$output" "stty=echo"
}

@test "prompt: SIGTERM restores echo and xmppsend dies of SIGTERM" {
    require_cmd python3 stty
    run pty_prompt TERM
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    assert_match "$output" "during=off"
    assert_match "$output" "signal=15"
    assert_match "$output" "after=on"
    assert_match "$output" "stty=echo"
}

@test "prompt: Ctrl-D is no password (64), nothing is tried against a server" {
    require_cmd python3 stty
    run pty_prompt ctrl-d
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    assert_match "$output" "exit=64"
    assert_match "$output" "after=on"
    assert_match "$(cat "$T/stderr")" "xmppsend: no password entered"
}

@test "prompt: a typed password is used (then the closed port: 75)" {
    require_cmd python3 stty
    run pty_prompt text
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    assert_match "$output" "exit=75"
    assert_match "$output" "after=on"
}

@test "prompt: typing does not count against --timeout (3 s of typing, --timeout 2)" {
    require_cmd python3 stty
    PTY_ARGS=(--timeout 2)
    run pty_prompt slowtext
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    # The closed port answers (75, refused), not the deadline.
    assert_match "$output" "exit=75"
    refute_match "$(cat "$T/stderr")" "timed out"
}

@test "password-command on a terminal: it can ask there (the terminal is lent to its process group)" {
    require_cmd python3 stty
    PTY_ARGS=(--password-command "printf 'Secret: ' >/dev/tty; read -r p </dev/tty; echo \"\$p\"")
    PTY_WAIT="Secret: " run pty_prompt text
    printf '%s\n' "$output" "stderr: $(cat "$T/stderr")"
    [ "$status" -eq 0 ]
    # The typed password was read and used; then the closed port.
    assert_match "$output" "exit=75"
    assert_match "$output" "after=on"
}
