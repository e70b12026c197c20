#!/bin/sh
# backports.sh [DIR] - unpack Prosody 13 (with the prosody-modules snapshot
# that has mod_sasl2, mod_sasl2_bind2, mod_sasl2_sm, mod_sasl2_fast and
# mod_sasl_ssdp) and ejabberd 24.12 from Debian 12's bookworm-backports
# suite into DIR (default build/backports), as throwaway test servers that
# offer SASL2, Bind2 and FAST (tests/lib/prosody13.bash, ejabberd24.bash).
#
# Nothing is installed into the system and no service is started: apt runs
# with a configuration of its own under DIR/apt (its own sources file, lists
# and cache; the system's sources are neither read nor changed), packages
# are fetched with `apt-get download` and unpacked with `dpkg -x` into
# DIR/root, so dpkg never registers them. Fetched are the three packages and
# exactly those of their dependencies that Debian 12 itself cannot satisfy
# (apt's own resolver decides: the erlang-p1-* libraries and erlang-jose of
# ejabberd 24.12); the others (lua-sec, lua-socket, lua-expat,
# lua-filesystem, lua-bitop, libicu72, erlang-*, ...) come from Debian 12
# through scripts/deps.sh, which installs them as root and otherwise prints
# the command to run.
#
# Then DIR/bin/prosody and DIR/bin/prosodyctl are Prosody's launchers with
# their paths pointing into DIR/root, and ejabberd runs on the system's
# Erlang with ERL_LIBS=DIR/root/usr/lib/<multiarch>:DIR/root/usr/lib/erlang/lib.
# DIR/packages lists what was unpacked (name version), DIR/system-deps the
# Debian 12 packages the servers need.
#
# A second run finds DIR/packages and does nothing (no network). Remove DIR
# to fetch again. BACKPORTS_MIRROR overrides the Debian mirror.
# Tested with prosody 13.0.1-1~bpo12+1, prosody-modules
# 0.0~hg20250402.f315edc39f3d+dfsg-1~bpo12+1, ejabberd 24.12-3~bpo12+1.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/backports}
mirror=${BACKPORTS_MIRROR:-http://deb.debian.org/debian}
want="prosody prosody-modules ejabberd"

case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
case $dir in
*[!A-Za-z0-9/._+-]*)
    echo "backports.sh: unusable directory name: $dir" >&2
    exit 64
    ;;
esac

if [ -e "$dir/packages" ]; then
    # Unpacked already: only the Debian 12 packages may be missing.
    # shellcheck disable=SC2046 # one word per package
    exec sh "$top/scripts/deps.sh" $(cat "$dir/system-deps")
fi

for c in apt-get dpkg dpkg-deb; do
    command -v "$c" >/dev/null 2>&1 || {
        echo "backports.sh: $c is not installed (Debian 12 is needed)" >&2
        exit 69
    }
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || {
    echo "backports.sh: $keyring is missing (debian-archive-keyring)" >&2
    exit 69
}

# A half-done earlier run leaves no DIR/packages: start again.
rm -rf "${dir:?}/apt" "${dir:?}/debs" "${dir:?}/root" "${dir:?}/bin"
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" \
    "$dir/apt/sources" "$dir/apt/preferences.d" "$dir/debs" "$dir/root" \
    "$dir/bin"

# Debian 12 and its backports, nothing else: what Debian 12 satisfies is
# decided by Debian 12, not by whatever the machine's sources hold.
cat >"$dir/apt/sources/debian12.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates bookworm-backports
Components: main
Signed-By: $keyring
EOF
if [ -z "${BACKPORTS_MIRROR-}" ]; then
    cat >>"$dir/apt/sources/debian12.sources" <<EOF

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: $keyring
EOF
fi

apt_private() {
    # The system's dpkg status (read only) tells apt what is installed.
    "$@" -o Dir::Etc::sourcelist=/dev/null \
        -o Dir::Etc::sourceparts="$dir/apt/sources" \
        -o Dir::Etc::preferencesparts="$dir/apt/preferences.d" \
        -o Dir::Etc::preferences=/dev/null \
        -o Dir::State::Lists="$dir/apt/lists" \
        -o Dir::Cache="$dir/apt/cache" \
        -o Dir::State::extended_states="$dir/apt/extended_states" \
        -o APT::Sandbox::User="$(id -un)" \
        -o Debug::NoLocking=true
}

echo "backports.sh: fetching the package lists of Debian 12 and its backports"
apt_private timeout 600 apt-get -q update >"$dir/apt/update.log" 2>&1 || {
    cat "$dir/apt/update.log" >&2
    echo "backports.sh: apt-get update failed" >&2
    exit 69
}

# Ask apt what installing the backports versions would take, adding each
# dependency it reports as too old in Debian 12 from backports too, until
# it has a solution. Nothing is installed: -s only simulates.
names=$want
sim=
i=0
while :; do
    i=$((i + 1))
    args=
    for p in $names; do args="$args $p/bookworm-backports"; done
    # shellcheck disable=SC2086 # one word per package
    sim=$(apt_private apt-get -s -q install --no-install-recommends $args 2>&1) && break
    more=$(printf '%s\n' "$sim" |
        sed -n 's/^.*Depends: \([a-z0-9][a-z0-9.+-]*\) (.*) but .* is to be installed$/\1/p' |
        sort -u)
    if [ -z "$more" ] || [ "$i" -gt 10 ]; then
        printf '%s\n' "$sim" >&2
        echo "backports.sh: apt finds no way to satisfy $want from backports" >&2
        exit 69
    fi
    names="$names $more"
done

# Inst NAME [OLD] (VERSION ARCHIVE [ARCH]): backports ones are fetched,
# the others are Debian 12's (installed by deps.sh).
printf '%s\n' "$sim" | sed -n 's/^Inst \([^ ]*\) .*(\([^ ]*\) \(.*\) \[[^]]*\]).*$/\1 \2 \3/p' \
    >"$dir/apt/plan"
fetch=
sysdeps=
while read -r name version archive; do
    case $archive in
    *[Bb]ackports*) fetch="$fetch $name=$version" ;;
    *) sysdeps="$sysdeps $name" ;;
    esac
done <"$dir/apt/plan"
for p in $want; do
    case " $fetch " in
    *" $p="*) ;;
    *)
        echo "backports.sh: apt would not take $p from backports:" >&2
        cat "$dir/apt/plan" >&2
        exit 69
        ;;
    esac
done

echo "backports.sh: fetching$fetch"
# shellcheck disable=SC2086 # one word per package
(cd "$dir/debs" && apt_private timeout 900 apt-get -q download $fetch) || {
    echo "backports.sh: apt-get download failed" >&2
    exit 69
}
: >"$dir/packages.new"
for deb in "$dir"/debs/*.deb; do
    dpkg -x "$deb" "$dir/root"
    # shellcheck disable=SC2016 # dpkg-deb's ${...}, not the shell's
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" \
        >>"$dir/packages.new"
done

# Prosody's launchers with their directories in DIR/root.
for f in prosody prosodyctl; do
    sed -e "s|^CFG_SOURCEDIR='/usr/lib/prosody';|CFG_SOURCEDIR='$dir/root/usr/lib/prosody';|" \
        -e "s|^CFG_CONFIGDIR='/etc/prosody';|CFG_CONFIGDIR='$dir/root/etc/prosody';|" \
        -e "s|^CFG_PLUGINDIR='/usr/lib/prosody/modules/';|CFG_PLUGINDIR='$dir/root/usr/lib/prosody/modules/';|" \
        "$dir/root/usr/bin/$f" >"$dir/bin/$f"
    chmod 755 "$dir/bin/$f"
    grep -q "^CFG_SOURCEDIR='$dir/root/usr/lib/prosody';" "$dir/bin/$f" || {
        echo "backports.sh: $f: its CFG_SOURCEDIR line has changed" >&2
        exit 70
    }
done
for m in sasl2 sasl2_bind2 sasl2_sm sasl2_fast sasl_ssdp; do
    [ -e "$dir/root/usr/lib/prosody/modules/mod_$m/mod_$m.lua" ] || {
        echo "backports.sh: prosody-modules has no mod_$m" >&2
        exit 69
    }
done

# The lists are only needed to decide what to fetch (20 MB): drop them.
rm -rf "$dir/apt/lists" "$dir/apt/cache"
printf '%s\n' "${sysdeps# }" >"$dir/system-deps"
mv "$dir/packages.new" "$dir/packages"
echo "backports.sh: unpacked into $dir/root:"
sed 's/^/  /' "$dir/packages"
# shellcheck disable=SC2086 # one word per package
exec sh "$top/scripts/deps.sh" $sysdeps
