#!/bin/sh
# Regenerate the build system: ./autogen.sh && ./configure && make
die() { echo "autogen.sh: $*" >&2; exit 1; }
cd "$(dirname "$0")" || die "cannot cd to the source directory"
mkdir -p m4 build-aux
autoreconf --force --install --verbose >/dev/null || die "autoreconf failed (apt-get install autoconf automake pkg-config)"
echo "autogen.sh: now run ./configure && make"
