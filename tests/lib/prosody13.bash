# shellcheck shell=bash
# prosody13.bash - Prosody 13 from Debian 12's bookworm-backports, unpacked
# by scripts/backports.sh into build/backports (BACKPORTS_DIR overrides),
# as a throwaway server with SASL2 (XEP-0388), Bind2 (XEP-0386), inline
# stream management and FAST (XEP-0484): prosody-modules' mod_sasl2,
# mod_sasl2_bind2, mod_sasl2_sm, mod_sasl2_fast and mod_sasl_ssdp.
# tests/lib/server.bash loads it for SRV_KIND=prosody13 (test files named
# prosody13-*.bats), after prosody.bash, whose functions then run Prosody
# 13: its launchers (BACKPORTS_DIR/bin) come first on PATH. Everything else
# is prosody.bash's: temp dir, 127.0.0.1, saved PID, the same accounts,
# internal storage (offline messages readable with the server's own code).
# Prosody 13 speaks TLS 1.3 and keeps Nagle on here, as its users have it
# (PROSODY_NAGLE=0 before loading turns it off). It offers SCRAM-SHA-1(-PLUS,
# tls-exporter) and PLAIN, SASL2 only after a header with from=, and FAST
# HT-SHA-256-NONE and -EXPR.
#
#   prosody13_missing    print why Prosody 13 cannot run here and succeed;
#                        fail when it can

PROSODY13_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BACKPORTS_DIR:=$(cd "$PROSODY13_LIB_DIR/../.." && pwd)/build/backports}"

prosody13_missing() {
    local c
    if [[ ! -e $BACKPORTS_DIR/packages || ! -x $BACKPORTS_DIR/bin/prosody ]]; then
        echo "Prosody 13 is not unpacked in $BACKPORTS_DIR (make backports)"
        return 0
    fi
    for c in lua5.4 prosody prosodyctl python3 certtool; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "$c is not installed"
            return 0
        fi
    done
    if ! timeout 20 lua5.4 -e 'require "lfs"; require "ssl"; require "socket"; require "lxp"' \
        >/dev/null 2>&1; then
        echo "Prosody 13 needs Debian 12's lua-filesystem, lua-sec, lua-socket and lua-expat (make deps)"
        return 0
    fi
    return 1
}

if [[ -x $BACKPORTS_DIR/bin/prosody && :$PATH: != *":$BACKPORTS_DIR/bin:"* ]]; then
    PATH=$BACKPORTS_DIR/bin:$PATH
fi
export PROSODY_MODULES='"sasl2", "sasl2_bind2", "sasl2_sm", "sasl2_fast", "sasl_ssdp"'
export PROSODY_NAGLE=${PROSODY_NAGLE:-1}
