#!/bin/sh
# deps.sh [EXTRA-PACKAGE...] - install the Debian packages needed to build
# xmppsend, run `make check` and `make demo`, plus any extra packages named
# on the command line (e.g. `scripts/deps.sh clang valgrind`).
#
# Does nothing (and needs no network) when everything is installed already.
# As root it runs apt-get; otherwise it prints the command and exits 69.
# Installing prosody or ejabberd must not leave a system server running:
# when no policy-rc.d exists, a temporary one forbids service starts during
# the install (throwaway servers are started by the tests themselves).
set -eu

# build: compiler, make, pkg-config and the four libraries (ICU for
# JIDs); zsh for the test of its completion;
# check/demo: bats, a throwaway Prosody (brings its Lua) and ejabberd
# (brings its Erlang), certtool for the test CA, python3 for helper
# scripts, procps for ps, groff-base to lint the man page, util-linux for
# unshare/script in the CLI tests; the Lua libraries and ICU that Prosody
# 13 from the backports needs (scripts/backports.sh; ejabberd 24.12 runs
# on ejabberd's Erlang), and the keyring its apt configuration trusts.
pkgs="build-essential pkg-config libgnutls28-dev libxml2-dev libicu-dev
libcurl4-gnutls-dev bats prosody ejabberd gnutls-bin python3 procps
groff-base util-linux zsh"
pkgs="$pkgs lua5.4 lua-sec lua-socket lua-expat lua-filesystem lua-bitop
libicu72 debian-archive-keyring"

for p in "$@"; do
    case $p in
    "" | ? | [!a-z0-9]* | *[!a-z0-9+.:-]*)
        echo "deps.sh: not a package name: $p" >&2
        exit 64
        ;;
    esac
done

missing=
for p in $pkgs "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=
    case $status in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done
[ -n "$missing" ] || exit 0
missing=${missing# }

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: $missing" >&2
    echo "deps.sh: as root, run:" >&2
    echo "sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
    exit 69
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    trap 'rm -f "$policy"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\n# temporary, from xmppsend scripts/deps.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
fi

apt-get update
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing

# A system server runs /usr/bin/prosody without our --config FILE.
# shellcheck disable=SC2009 # only looks, kills nothing
if ps -C lua5.4,lua5.3,lua5.2,lua5.1 -o args= 2>/dev/null |
    grep '/prosody\( \|$\)' | grep -qv -e '--config'; then
    echo "deps.sh: warning: a system Prosody is running; the tests do not need" >&2
    echo "deps.sh: it (stop it with: invoke-rc.d prosody stop)" >&2
fi
# The tests' ejabberd nodes run without Erlang distribution: an epmd, or
# a beam.smp with a node name (-sname/-name, as ejabberdctl starts it), is
# a system ejabberd.
# shellcheck disable=SC2009 # only looks, kills nothing
if ps -C epmd -o pid= >/dev/null 2>&1 ||
    ps -C beam.smp -o args= 2>/dev/null | grep -q -e ' -s\{0,1\}name '; then
    echo "deps.sh: warning: a system ejabberd or epmd is running; the tests do" >&2
    echo "deps.sh: not need it (stop it with: invoke-rc.d ejabberd stop; then" >&2
    echo "deps.sh: stop epmd by its pid: ps -C epmd -o pid=)" >&2
fi
