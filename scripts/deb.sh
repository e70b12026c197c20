#!/bin/sh
# deb.sh - build the Debian package from the committed tree (HEAD) in
# build/deb and check it with lintian (--fail-on warning).  Installs the
# packaging tools first (deps.sh: debhelper, lintian).  Nothing else is
# installed; the .deb and its .changes stay in build/deb.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh debhelper lintian
version=$(dpkg-parsechangelog -S Version)
out=$top/build/deb
rm -rf "$out"
mkdir -p "$out/xmppsend-$version"
git archive HEAD | tar -x -C "$out/xmppsend-$version"
(cd "$out/xmppsend-$version" && dpkg-buildpackage -us -uc -b)
lintian --fail-on warning "$out/xmppsend_${version}_$(dpkg --print-architecture).changes"
echo "deb.sh: $out/xmppsend_${version}_$(dpkg --print-architecture).deb"
