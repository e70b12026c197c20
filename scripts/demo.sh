#!/bin/bash
# demo.sh - what `make demo` runs: xmppsend against a throwaway Prosody on
# 127.0.0.1. Starts the server in a temporary directory, prints alice's
# (seeded) roster, sends a message from alice to bob, who is offline, and
# shows the message as the server stored it. Everything is removed at exit.
# XMPPSEND overrides the binary (default: ./xmppsend at the top level).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
xmppsend=${XMPPSEND:-$top/xmppsend}

die() {
    printf 'demo: %s\n' "$*" >&2
    exit 1
}

[[ -x $xmppsend ]] || die "$xmppsend is not built (run make)"
for c in prosody prosodyctl python3 certtool; do
    command -v "$c" >/dev/null || die "$c is not installed (see scripts/deps.sh)"
done

# shellcheck source=tests/lib/prosody.bash
. "$top/tests/lib/prosody.bash"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xmppsend-demo.XXXXXX")
cleanup() {
    prosody_stop "$tmp/prosody"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The throwaway account's login state (FAST token, the server's offer)
# stays with the throwaway server, not in the user's home.
export XDG_STATE_HOME="$tmp/state"

echo "== starting a throwaway Prosody in $tmp"
prosody_start "$tmp/prosody" || die "cannot start Prosody"
version=$(timeout 20 prosodyctl --config "$PROSODY_CFG" about 2>/dev/null |
    sed -n '1s/^Prosody //p') || true
echo "== Prosody ${version:-?} on 127.0.0.1:$PROSODY_PORT, accounts alice, bob, carol"

# The server caches rosters, so seed before alice logs in.
echo "== seeding alice's roster in the server's storage"
prosody_seed_roster "$PROSODY_DIR" alice || die "cannot seed the roster"

(umask 077 && printf 'alice-pw\n' >"$tmp/alice.pw")
xs() {
    timeout --foreground 60 "$xmppsend" --server "127.0.0.1:$PROSODY_PORT" \
        --cafile "$PROSODY_CA" -j alice@localhost \
        --password-file "$tmp/alice.pw" "$@"
}

echo "== xmppsend --roster (jid, name, subscription, groups)"
xs --roster || die "xmppsend --roster failed (exit $?)"

body="Hello Bob, this is xmppsend at $(date -u '+%Y-%m-%d %H:%M:%S') UTC."
echo "== xmppsend -m '$body' bob@localhost"
xs -m "$body" bob@localhost || die "xmppsend failed (exit $?)"

echo "== stored by the server for bob (offline), as XML:"
stored=$(prosody_offline_messages "$PROSODY_DIR" bob) ||
    die "cannot read bob's offline store"
grep -F -- "$body" <<<"$stored" || die "the message is not in bob's store"

echo "== stopping the server and removing $tmp"
