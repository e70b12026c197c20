#!/usr/bin/env bash
# suites.sh - run the bats files of one or more passes (plain, ASan,
# valgrind), several files at a time (make test, asan, valgrind, check).
#
#   suites.sh [-j JOBS] [-o DIR] [-p FILE]... NAME [VAR=VALUE...] [, NAME [VAR=VALUE...]]...
#
# Each NAME starts a pass; its VAR=VALUE words are the environment its bats
# runs get (XMPPSEND, UNIT_DIR, XS_WRAP, ...).  Every (pass, file) pair is
# one job: `timeout bats --timing FILE` in that environment.  Up to JOBS
# (default 4; 1 runs them one after another) run at once, the slowest first
# (by the times of the last run, kept in DIR/times; unknown ones first),
# so that a long valgrind file does not start last.  The tests of one file
# always run in order, in one bats process: a file's tests share its
# server (setup_file).
#
# SUITE_FILES="tests/a.bats ..." runs only those files.
#
# -p FILE: FILE's tests are independent of each other (no shared server
# state), so they run two at a time (bats --jobs 2, with GNU parallel;
# one at a time without it); such a job counts as two of the JOBS.
#
# A job's output goes to DIR/NAME/FILE.log (DIR defaults to build/suites)
# and is printed whole when the job ends, under a line naming the pass and
# the file, so output of files never interleaves.  At the end: one line
# per failed file, and "suites: N passed, N failed, N skipped" (tests).
# Exit status 1 when a test failed or a file's bats did not finish.
#
# Why several at once helps on 2 cores: many tests wait (for a server, a
# deadline, a silent peer) rather than compute.  Files are independent:
# each has its own temporary directories, servers on ports from the
# kernel, and its own network namespaces.
set -uo pipefail

TOP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs=4
out=$TOP_DIR/build/suites
# One file's run is bounded: a hung test fails its file, not the make.
file_limit=${SUITES_FILE_TIMEOUT:-2400}
split=()

usage() {
    echo "usage: suites.sh [-j JOBS] [-o DIR] [-p FILE]... NAME [VAR=VALUE...] [, NAME [VAR=VALUE...]]..." >&2
    exit 64
}

while [ $# -gt 0 ]; do
    case $1 in
    -j)
        [ $# -ge 2 ] || usage
        jobs=$2
        shift 2
        ;;
    -o)
        [ $# -ge 2 ] || usage
        out=$2
        shift 2
        ;;
    -p)
        [ $# -ge 2 ] || usage
        split+=("$2")
        shift 2
        ;;
    --)
        shift
        break
        ;;
    -*) usage ;;
    *) break ;;
    esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || usage
[ $# -gt 0 ] || usage

# Passes: names in pass_names, their environments as NUL-joined words.
pass_names=()
declare -A pass_env=()
name=
while [ $# -gt 0 ]; do
    if [ -z "$name" ]; then
        [[ $1 =~ ^[a-z][a-z0-9-]*$ ]] || usage
        [ -z "${pass_env[$1]+x}" ] || usage
        name=$1
        pass_names+=("$name")
        pass_env[$name]=
    elif [ "$1" = , ]; then
        name=
    else
        [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage
        pass_env[$name]+="$1"$'\n'
    fi
    shift
done
[ -n "$name" ] || usage

# wait -n -p (which job ended) is bash 5.1 (Debian 12 has 5.2).
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501)); then
    echo "suites.sh: needs bash 5.1 or later, this is $BASH_VERSION" >&2
    exit 69
fi
command -v bats >/dev/null 2>&1 || {
    echo "suites.sh: bats is not installed (make deps)" >&2
    exit 69
}

cd "$TOP_DIR" || exit 70
# SUITE_FILES: the bats files to run (default: all), e.g.
# `make test SUITE_FILES=tests/cli.bats`.
# shellcheck disable=SC2206 # word splitting and globbing wanted
files=(${SUITE_FILES:-tests/*.bats})
mkdir -p "$out" || exit 73
times=$out/times

# The job list: "SECONDS PASS FILE", slowest first, by the times of the
# last run here (DIR/times), else by those measured once and kept in
# scripts/suite-times (a fresh clone has no last run).  A pair known to
# neither sorts first (it may be a long new file), the later passes on
# the command line (valgrind) before the earlier ones.
job_list() {
    local p f t i=0 known=()
    # (mawk stops at a file it cannot open: name only those that exist.)
    [ ! -f "$TOP_DIR/scripts/suite-times" ] || known+=("$TOP_DIR/scripts/suite-times")
    [ ! -f "$times" ] || known+=("$times")
    for p in "${pass_names[@]}"; do
        i=$((i + 1))
        for f in "${files[@]}"; do
            t=0
            [ "${#known[@]}" -eq 0 ] ||
                t=$(awk -v p="$p" -v f="$f" '$2 == p && $3 == f { t = $1 }
                    END { print t + 0 }' "${known[@]}") || t=0
            [ "$t" -gt 0 ] || t=$((999000 + i))
            printf '%s %s %s\n' "$t" "$p" "$f"
        done
    done | sort -k1,1nr -k3,3
}

# run_job PASS FILE: one bats run (in a subshell of its own), its TAP
# output in the log and the CPU seconds it used in LOG.cpu.
run_job() {
    local p=$1 f=$2 log=$out/$1/${2##*/}.log env=() child rc par=()
    mapfile -t env <<<"${pass_env[$p]%$'\n'}"
    [ -n "${env[0]-}" ] || env=()
    mkdir -p "$out/$p" || return 73
    # 3>&- and no stdin: bats and the servers it starts hold no pipe of ours.
    [ "$(slots "$f")" -eq 1 ] || par=(--jobs 2)
    env "${env[@]}" timeout "$file_limit" bats --timing "${par[@]}" "$f" \
        </dev/null >"$log" 2>&1 3>&- &
    child=$!
    # timeout(1) runs in a process group of its own: pass TERM on to it,
    # and it passes it on to bats.
    trap 'kill -TERM "$child" 2>/dev/null' TERM
    wait "$child"
    rc=$?
    # A trap interrupts wait: wait again for the real status.
    while kill -0 "$child" 2>/dev/null; do
        wait "$child"
        rc=$?
    done
    # Children's user and system time: bats, xmppsend, servers, tools.
    # (times itself, not in a pipe: a forked times counts no children.)
    times >"$log.times"
    awk 'NR == 2 { split($1, u, "m"); split($2, s, "m")
        printf "%d\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] + 0.5 }' \
        "$log.times" >"$log.cpu"
    return "$rc"
}

# slots FILE: how many of the JOBS a run of FILE takes.
slots() {
    local s
    for s in "${split[@]}"; do
        if [ "$s" = "$1" ] && command -v parallel >/dev/null 2>&1; then
            echo 2
            return
        fi
    done
    echo 1
}

declare -A job_of=() start_of=() slots_of=()
used=0
new_times=()
n_pass=0 n_fail=0 n_skip=0
failed=()

# finish PID STATUS: print the job's output and account for it.
finish() {
    local pid=$1 rc=$2 job p f log secs ok nok skip verdict cpu
    job=${job_of[$pid]}
    unset "job_of[$pid]"
    used=$((used - slots_of[$pid]))
    p=${job%% *} f=${job#* }
    log=$out/$p/${f##*/}.log
    secs=$((SECONDS - start_of[$pid]))
    ok=$(grep -c '^ok ' "$log")
    nok=$(grep -c '^not ok ' "$log")
    skip=$(grep -c '^ok .* # skip' "$log")
    n_pass=$((n_pass + ok - skip))
    n_skip=$((n_skip + skip))
    n_fail=$((n_fail + nok))
    verdict=ok
    if [ "$rc" -ne 0 ]; then
        verdict="FAILED (exit $rc)"
        [ "$rc" -ne 124 ] || verdict="FAILED (timed out after $file_limit s)"
        failed+=("$p $f: $verdict, $nok of $((ok + nok)) tests failed (log: $log)")
        # A file that stopped before its end counts as one failure at least.
        [ "$nok" -gt 0 ] || n_fail=$((n_fail + 1))
    fi
    cpu=$(cat "$log.cpu" 2>/dev/null) || cpu='?'
    printf '==== %s %s: %s, %d tests, %d failed, %d skipped, %d s (cpu %s s)\n' \
        "$p" "$f" "$verdict" "$((ok + nok))" "$nok" "$skip" "$secs" "$cpu"
    cat "$log"
    new_times+=("$secs $p $f $cpu")
}

# Ctrl-C or TERM: stop the running jobs (each a timeout(1) process, which
# passes the signal on to bats) by their PIDs.
stop_jobs() {
    local pid
    for pid in "${!job_of[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    wait
    exit 130
}
trap stop_jobs INT TERM

echo "suites: ${#files[@]} files x ${#pass_names[@]} passes (${pass_names[*]}), $jobs at a time; logs in $out"
t0=$SECONDS
while read -r _ p f; do
    n=$(slots "$f")
    while [ "${#job_of[@]}" -gt 0 ] && [ $((used + n)) -gt "$jobs" ]; do
        done_pid=
        wait -n -p done_pid "${!job_of[@]}"
        rc=$?
        [ -n "$done_pid" ] && finish "$done_pid" "$rc"
    done
    run_job "$p" "$f" &
    job_of[$!]="$p $f"
    start_of[$!]=$SECONDS
    slots_of[$!]=$n
    used=$((used + n))
done < <(job_list)
while [ "${#job_of[@]}" -gt 0 ]; do
    done_pid=
    wait -n -p done_pid "${!job_of[@]}"
    rc=$?
    [ -n "$done_pid" ] && finish "$done_pid" "$rc"
done

# Keep the times of every pass, this run's replacing the last ones.
{
    awk -v ps=" ${pass_names[*]} " 'index(ps, " " $2 " ") == 0' "$times" 2>/dev/null
    printf '%s\n' "${new_times[@]}"
} >"$times.new" && mv "$times.new" "$times"

echo "suites: ${pass_names[*]}: $((SECONDS - t0)) s for all, $jobs at a time"
# Per pass: the sum of its files' times and CPU seconds (what one file at a
# time would take, and what it costs the machine).
printf '%s\n' "${new_times[@]}" | awk '{ w[$2] += $1; c[$2] += $4 }
    END { for (p in w) printf "suites: %s: files %d s one after another, cpu %d s\n", p, w[p], c[p] }' | sort
for f in "${failed[@]}"; do echo "suites: $f"; done
echo "suites: $n_pass passed, $n_fail failed, $n_skip skipped"
[ "${#failed[@]}" -eq 0 ] && [ "$n_fail" -eq 0 ]
