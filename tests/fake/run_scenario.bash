# shellcheck shell=bash
# shellcheck disable=SC2154 # status, output and stderr are set by bats run
# run_scenario.bash - runs xmppsend against tests/fake/fakeserver.py playing
# one scenario file, then checks the outcome.  Sourced by hostile.bats after
# helper.bash (needs xs, fail, require_cmd).
#
# A scenario (tests/fake/scenarios/NAME.scn) starts with header lines
#   # exit: N            expected exit status (required; "N M" = either)
#   # stderr: ERE        the error line must match (case-insensitive)
#   # timeout: T         --timeout given to xmppsend (default 5)
#   # args: ARGS         more xmppsend options (split on blanks; @PKI@
#                        is the test PKI directory, e.g. for --cert)
#   # recipients: JIDS   recipients instead of recipient@localhost (split
#                        on blanks); "none": no recipient and no -m (for
#                        --roster in args)
#   # user: NAME         the account's localpart (default: user)
#   # stdout: ERE        standard output must match (repeatable); replaces
#                        the checks of the "sent" line
#   # max-ms: N          the run must take less than N ms, even under
#                        XS_WRAP (for generous limits that valgrind meets)
#   # server: complete   the fake server must have played every step
#   # credentials: none  the server is not trusted (no or unverified TLS):
#                        no <auth>, no <response>, no password may reach it
#   # credentials: plain PLAIN may carry the password (otherwise never)
#   # assert-sent: ERE   what the client sent must match (repeatable)
#   # refute-sent: ERE   what the client sent must not match (repeatable)
#   # max-rss-kb: N      xmppsend's peak RSS must stay below N KiB (measured
#                        with /usr/bin/time; skipped when XS_WRAP is set,
#                        e.g. valgrind, or XS_SKIP_RSS=1, e.g. for ASan)
#   # upload: BYTES      upload a file of BYTES random bytes (-u FILE)
#   # https: MODE        run tests/fake/httpsfake.py in MODE (ok,
#                        status:N, redirect, huge-headers, hang); its port
#                        is ${HTTPS_PORT} in the steps
#   # https-assert: ERE  what the HTTPS server logged must match
#                        (repeatable; see httpsfake.py for its log)
#   # https-refute: ERE  ... must not match (repeatable)
#   # desc: TEXT         what the scenario is about
#   # runs: N            run xmppsend N times in a row (default 1), the
#                        server serving N connections (its "connection"
#                        steps pick the steps of each); every run must
#                        pass the checks of a run (exit, stderr, stdout)
#   # connections: N     connections the server serves (default: runs),
#                        for one run that connects again (--retry)
#   # state: LINE        seed the account's login state file (state.h;
#                        repeatable, one line each) in the test's
#                        XDG_STATE_HOME, mode 600 in a 700 directory
#   # assert-state: ERE  the state file after the runs must match
#                        (repeatable; a missing file is empty)
#   # refute-state: ERE  ... must not match (repeatable)
#   # assert-trace: ERE  run with -d; the trace on stderr must match
#                        (repeatable); stderr may then hold the trace
#                        besides the error line, which must come last
#   # refute-trace: ERE  run with -d; the trace must not match
# With HOSTILE_SUMMARY=FILE set, a line per scenario is appended to FILE.
# The EREs are bash regexes ('.' also matches newlines); the steps below the
# header are fakeserver.py's (see the top of that file).
#
# Every run also checks: one "xmppsend: " line on stderr and nothing else
# (nothing at all on success), no control characters on stderr nor on
# stdout (tabs aside), a "sent" line on stdout only on success, and a wall
# time within --timeout + 3 s (room for start-up and exit on a loaded
# machine, where ASan runs alone took 1.1 s over; not under XS_WRAP).  The password never
# appears in what the client sent, nor does a FAST token of the state
# file (before or after); with -d, neither is in the trace.

FAKE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HOSTILE_USER=user
HOSTILE_PASSWORD='xs-Hostile-Pa55word-7Q'

# hostile_setup DIR: test PKI and password file for all scenarios.
#   DIR/pki/valid/{ca,localhost,other.example}.{crt,key}
#   DIR/pki/expired/localhost.*  (same CA)   DIR/pki/selfsigned/localhost.*
hostile_setup() {
    local dir=$1 mk="$FAKE_DIR/../lib/mkcert.sh" kind
    require_cmd python3 certtool timeout
    mkdir -p "$dir/pki"
    timeout 60 sh "$mk" ca "$dir/pki/valid" || return 1
    timeout 60 sh "$mk" server "$dir/pki/valid" localhost || return 1
    timeout 60 sh "$mk" server "$dir/pki/valid" other.example || return 1
    # a client certificate for EXTERNAL (key mode 600)
    timeout 60 sh "$mk" client "$dir/pki/valid" user@localhost || return 1
    for kind in expired selfsigned; do
        mkdir -p "$dir/pki/$kind"
        cp "$dir/pki/valid/ca.crt" "$dir/pki/valid/ca.key" "$dir/pki/$kind/"
        timeout 60 sh "$mk" server "$dir/pki/$kind" localhost "$kind" ||
            return 1
        rm -f "$dir/pki/$kind/ca.key"
    done
    (umask 077 && printf '%s\n' "$HOSTILE_PASSWORD" >"$dir/password")
}

# scenario_header FILE KEY: the values of "# KEY: value" lines, one a line
scenario_header() {
    local line
    while IFS= read -r line; do
        if [[ $line == "# $2: "* ]]; then
            printf '%s\n' "${line#"# $2: "}"
        fi
    done <"$1"
}

# has_controls TEXT: TEXT holds C0 controls other than newline, DEL, or
# UTF-8 encoded C1 controls (U+0080..U+009F, e.g. CSI)
has_controls() {
    local LC_ALL=C c1=$'\xc2'[$'\x80'-$'\x9f'] text=${1//$'\n'/}
    [[ $text == *[[:cntrl:]]* || $text == *$c1* ]]
}

# has_controls_tsv TEXT: has_controls, but tabs (TSV separators) allowed
has_controls_tsv() {
    has_controls "${1//$'\t'/}"
}

# run_scenario NAME: play tests/fake/scenarios/NAME.scn (needs
# hostile_setup "$BATS_FILE_TMPDIR" in setup_file).
run_scenario() {
    local name=$1 base="$BATS_FILE_TMPDIR" d="$BATS_TEST_TMPDIR/$1"
    local scn="$FAKE_DIR/scenarios/$1.scn"
    [ -f "$scn" ] || fail "no scenario $scn" || return 1
    xs_sample "$name" # make check's ASan and valgrind passes: a half each
    mkdir -p "$d"

    local want_exit want_err t args server creds rss_max re rcpts user
    local max_ms https upload hpid='' hport=1 i runs conns
    local -a refute=() assert=() extra=() outre=() job=()
    local -a hassert=() hrefute=()
    local -a seed=() sassert=() srefute=() tassert=() trefute=()
    want_exit=$(scenario_header "$scn" exit)
    want_err=$(scenario_header "$scn" stderr)
    t=$(scenario_header "$scn" timeout)
    args=$(scenario_header "$scn" args)
    server=$(scenario_header "$scn" server)
    creds=$(scenario_header "$scn" credentials)
    rss_max=$(scenario_header "$scn" max-rss-kb)
    rcpts=$(scenario_header "$scn" recipients)
    user=$(scenario_header "$scn" user)
    max_ms=$(scenario_header "$scn" max-ms)
    mapfile -t outre < <(scenario_header "$scn" stdout)
    mapfile -t refute < <(scenario_header "$scn" refute-sent)
    mapfile -t assert < <(scenario_header "$scn" assert-sent)
    https=$(scenario_header "$scn" https)
    upload=$(scenario_header "$scn" upload)
    mapfile -t hassert < <(scenario_header "$scn" https-assert)
    mapfile -t hrefute < <(scenario_header "$scn" https-refute)
    runs=$(scenario_header "$scn" runs)
    conns=$(scenario_header "$scn" connections)
    mapfile -t seed < <(scenario_header "$scn" state)
    mapfile -t sassert < <(scenario_header "$scn" assert-state)
    mapfile -t srefute < <(scenario_header "$scn" refute-state)
    mapfile -t tassert < <(scenario_header "$scn" assert-trace)
    mapfile -t trefute < <(scenario_header "$scn" refute-trace)
    [ -n "$want_exit" ] || fail "$scn: no '# exit:' header" || return 1
    : "${t:=5}" "${rcpts:=recipient@localhost}" "${user:=$HOSTILE_USER}"
    : "${runs:=1}"
    read -r -a extra <<<"$args"
    local tracing=
    if ((${#tassert[@]} + ${#trefute[@]} > 0)); then
        tracing=1
        extra+=(-d)
    fi
    # The login state (state.h) where xs() points XDG_STATE_HOME.
    local sdir="${XS_STATE_HOME:-$BATS_TEST_TMPDIR/state}/xmppsend"
    local sfile="$sdir/$user@localhost"
    if ((${#seed[@]} > 0)); then
        (umask 077 && mkdir -p "$sdir" && chmod 700 "$sdir" &&
            printf '%s\n' "${seed[@]}" >"$sfile") ||
            fail "cannot seed $sfile" || return 1
    fi
    extra=("${extra[@]//@PKI@/$base/pki}") # args may name the test PKI
    if [ "$rcpts" != none ]; then
        read -r -a job <<<"$rcpts"
        job=(-m 'hostile test body' "${job[@]}")
    fi

    if [ -n "$upload" ]; then
        head -c "$upload" /dev/urandom >"$d/upload.bin"
        extra+=(-u "$d/upload.bin")
    fi
    # The fake HTTPS server of an upload, bounded and stopped like the
    # XMPP one.
    if [ -n "$https" ]; then
        timeout $((t + 70)) python3 "$FAKE_DIR/httpsfake.py" --mode "$https" \
            --port-file "$d/https-port" --cert-dir "$base/pki/valid" \
            --log "$d/https.log" --max-seconds $((t + 60)) \
            >"$d/https.out" 2>&1 3>&- &
        hpid=$!
        for ((i = 0; i < 200; i++)); do
            [ -s "$d/https-port" ] && break
            kill -0 "$hpid" 2>/dev/null || break
            sleep 0.05
        done
        read -r hport <"$d/https-port" ||
            fail "fake HTTPS server did not start: $(cat "$d/https.out")" ||
            return 1
    fi

    # The fake server: bounded by --max-seconds and by timeout, stopped by
    # its PID below.  fd 3 is bats' own; the server must not hold it.
    timeout $((runs * (t + 10) + 10)) python3 "$FAKE_DIR/fakeserver.py" \
        --scenario "$scn" --port-file "$d/port" --transcript "$d/transcript" \
        --log "$d/server.log" --cert-dir "$base/pki" \
        --user "$user" --password-file "$base/password" \
        --max-seconds $((runs * (t + 10) + 5)) --set "HTTPS_PORT=$hport" \
        --connections "${conns:-$runs}" \
        >"$d/server.out" 2>&1 3>&- &
    local spid=$! i port
    for ((i = 0; i < 100; i++)); do
        [ -s "$d/port" ] && break
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.05
    done
    if ! read -r port <"$d/port"; then
        kill "$spid" 2>/dev/null || true
        wait "$spid" || true
        fail "fake server did not start: $(cat "$d/server.out")"
        return 1
    fi

    # Peak RSS via GNU time, unless a wrapper (valgrind) is in use.
    local wrap_before=$XS_WRAP measure_rss=
    if [ -n "$rss_max" ] && [ -z "$XS_WRAP" ] && [ -x /usr/bin/time ] &&
        [ -z "${XS_SKIP_RSS:-}" ]; then
        measure_rss=1
        XS_WRAP="/usr/bin/time -f %M -o $d/rss"
    fi
    local start end elapsed run_no
    local -a r_status=() r_output=() r_stderr=() r_ms=()
    for ((run_no = 0; run_no < runs; run_no++)); do
        start=${EPOCHREALTIME/./}
        XS_TIMEOUT=$((t + 10)) run --separate-stderr xs \
            -j "$user@localhost" --server "127.0.0.1:$port" \
            --cafile "$base/pki/valid/ca.crt" \
            --password-file "$base/password" \
            --timeout "$t" "${extra[@]}" "${job[@]}"
        end=${EPOCHREALTIME/./}
        r_status+=("$status")
        r_output+=("$output")
        r_stderr+=("$stderr")
        r_ms+=($(((end - start) / 1000)))
    done
    XS_WRAP=$wrap_before

    # The server exits once the client has gone; give it a moment to write
    # its last transcript bytes, then stop it by PID.
    for ((i = 0; i < 40; i++)); do
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.05
    done
    kill "$spid" 2>/dev/null || true
    wait "$spid" || true
    if [ -n "$hpid" ]; then
        kill "$hpid" 2>/dev/null || true
        wait "$hpid" || true
    fi

    local sent slog errs=0 hlog state_text trace=''
    hlog=$(cat "$d/https.log" 2>/dev/null || true)
    sent=$(tr -d '\000' <"$d/transcript" 2>/dev/null)
    slog=$(cat "$d/server.log" 2>/dev/null)
    state_text=$(cat "$sfile" 2>/dev/null || true)
    local -a problems=()

    # The checks of each run; with several, the problems name the run.
    local insecure_re="^xmppsend: warning: --insecure: [^"$'\n'"]*("$'\n'"|\$)"
    local -a rp
    local line
    for ((run_no = 0; run_no < runs; run_no++)); do
        status=${r_status[run_no]}
        output=${r_output[run_no]}
        stderr=${r_stderr[run_no]}
        elapsed=${r_ms[run_no]}
        rp=()
        has_controls "$stderr" && rp+=("control characters on stderr")
        # -d: the trace lines ("C: ", "S: ", "*: ") aside, stderr is
        # checked as without it.
        if [ -n "$tracing" ]; then
            trace+=$stderr$'\n'
            local rest=''
            while IFS= read -r line; do
                [[ $line == [CS*]": "* ]] || rest+=${rest:+$'\n'}$line
            done <<<"$stderr"
            stderr=$rest
        fi
        # --insecure warns on every run: that first line is no error line.
        if [[ " $args " == *" --insecure "* && $stderr =~ $insecure_re ]]; then
            stderr=${stderr:${#BASH_REMATCH[0]}}
        fi

        if [[ " $want_exit " != *" $status "* ]]; then
            rp+=("exit status $status, expected $want_exit")
        fi
        for re in "${outre[@]}"; do
            [[ $output =~ $re ]] || rp+=("stdout does not match /$re/")
        done
        if [ "$status" -eq 0 ]; then
            [ -z "$stderr" ] || rp+=("stderr not empty on success")
            [ ${#outre[@]} -gt 0 ] ||
                [[ $output == *$'sent\trecipient@localhost\t'* ]] ||
                rp+=("no 'sent' line on stdout")
        else
            [ ${#outre[@]} -gt 0 ] || [[ $output != *$'sent\t'* ]] ||
                rp+=("'sent' line on stdout of a failed run")
            [[ $stderr == "xmppsend: "* && $stderr != *$'\n'* ]] ||
                rp+=("stderr is not exactly one 'xmppsend: ' line")
            if [ -n "$want_err" ]; then
                shopt -s nocasematch
                [[ $stderr =~ $want_err ]] ||
                    rp+=("stderr does not match /$want_err/")
                shopt -u nocasematch
            fi
        fi
        has_controls_tsv "$output" && rp+=("control characters on stdout")
        if [ -z "$XS_WRAP" ] && ((elapsed > (t + 3) * 1000)); then
            rp+=("took ${elapsed} ms, limit $(((t + 3) * 1000)) ms")
        fi
        if [ -n "$max_ms" ] && ((elapsed >= max_ms)); then
            rp+=("took ${elapsed} ms, limit ${max_ms} ms (max-ms)")
        fi
        if ((runs > 1)); then
            rp=("${rp[@]/#/run $((run_no + 1)): }")
        fi
        problems+=("${rp[@]}")
    done

    # The login state after the runs; no FAST token of it (nor of the
    # seed) on the wire or in the trace.
    for re in "${sassert[@]}"; do
        [[ $state_text =~ $re ]] ||
            problems+=("state file does not match /$re/")
    done
    for re in "${srefute[@]}"; do
        [[ ! $state_text =~ $re ]] || problems+=("state file matches /$re/")
    done
    for re in "${tassert[@]}"; do
        [[ $trace =~ $re ]] || problems+=("trace does not match /$re/")
    done
    for re in "${trefute[@]}"; do
        [[ ! $trace =~ $re ]] || problems+=("trace matches /$re/")
    done
    local tok
    while read -r line tok; do
        [[ $line == fast-token && -n $tok ]] || continue
        [[ $sent != *"$tok"* ]] || problems+=("a FAST token was sent in clear")
        [[ $trace != *"$tok"* ]] || problems+=("a FAST token is in the trace")
    done < <(printf '%s\n' "${seed[@]}" "$state_text")
    [[ $trace != *"$HOSTILE_PASSWORD"* ]] ||
        problems+=("the password is in the trace")

    # Secrets: the password itself never goes on the wire; PLAIN carries
    # it only where allowed; nothing at all reaches an untrusted server.
    local plain1 plain2
    plain1=$(printf '\000%s\000%s' "$user" "$HOSTILE_PASSWORD" |
        base64 -w0)
    plain2=$(printf '%s\000%s\000%s' "$user" "$user" \
        "$HOSTILE_PASSWORD" | base64 -w0)
    [[ $sent != *"$HOSTILE_PASSWORD"* ]] ||
        problems+=("the password was sent in clear")
    if [ "$creds" != plain ] && [ "$creds" != none ]; then
        [[ $sent != *"$plain1"* && $sent != *"$plain2"* ]] ||
            problems+=("the password was sent with PLAIN")
    fi
    if [ "$creds" = none ]; then
        [[ $sent != *"$plain1"* && $sent != *"$plain2"* ]] ||
            problems+=("the password was sent with PLAIN")
        local sasl_re='<(auth|response)[[:space:]/>]'
        [[ ! $sent =~ $sasl_re ]] ||
            problems+=("SASL data sent to an untrusted server")
    fi
    for re in "${refute[@]}"; do
        [[ ! $sent =~ $re ]] || problems+=("client sent /$re/")
    done
    for re in "${assert[@]}"; do
        [[ $sent =~ $re ]] || problems+=("client did not send /$re/")
    done
    for re in "${hassert[@]}"; do
        [[ $hlog =~ $re ]] || problems+=("HTTPS server did not log /$re/")
    done
    for re in "${hrefute[@]}"; do
        [[ ! $hlog =~ $re ]] || problems+=("HTTPS server logged /$re/")
    done

    if [ "$server" = complete ] && [[ $slog != *"result: complete"* ]]; then
        problems+=("fake server did not complete its script")
    fi
    [[ $slog != *"violation: "* ]] ||
        problems+=("fake server saw a violation")

    if [ -n "$measure_rss" ]; then
        local rss
        rss=$(tail -n 1 "$d/rss" 2>/dev/null)
        if [[ $rss =~ ^[0-9]+$ ]]; then
            ((rss < rss_max)) ||
                problems+=("peak RSS ${rss} KiB, limit ${rss_max} KiB")
        else
            problems+=("no RSS measurement: $(cat "$d/rss" 2>/dev/null)")
        fi
    fi

    errs=${#problems[@]}
    # HOSTILE_SUMMARY=FILE: one tab-separated line per scenario (name,
    # expected exit, exit, milliseconds, verdict, stderr) for reports.
    if [ -n "${HOSTILE_SUMMARY:-}" ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$want_exit" "$status" \
            "$elapsed" "$( ((errs == 0)) && echo ok || echo FAIL)" \
            "${stderr//$'\n'/ }" >>"$HOSTILE_SUMMARY"
    fi
    if ((errs > 0)); then
        {
            printf 'scenario %s failed:\n' "$name"
            printf '  - %s\n' "${problems[@]}"
            printf 'command: xmppsend -j %s@localhost --server 127.0.0.1:%s' \
                "$user" "$port"
            printf ' --timeout %s %s %s (%s ms)\n' "$t" "$args" "$rcpts" \
                "$elapsed"
            for ((run_no = 0; run_no < runs; run_no++)); do
                ((runs == 1)) || printf -- '--- run %s\n' $((run_no + 1))
                printf 'exit: %s\nstdout: %s\nstderr: %s\n' \
                    "${r_status[run_no]}" "${r_output[run_no]}" \
                    "${r_stderr[run_no]}"
            done
            printf -- '--- server log (last %s lines)\n' $((runs * 15))
            tail -n $((runs * 15)) "$d/server.log" 2>/dev/null
            [ -z "$state_text" ] ||
                printf -- '--- state file\n%s\n' "$state_text"
            printf -- '--- client sent (first 1500 bytes)\n%s\n' \
                "${sent:0:1500}"
        } >&2
        return 1
    fi
}
