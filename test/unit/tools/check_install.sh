#!/usr/bin/env bash
# Install into a scratch folder, then build and run the getting-started
# example against it with pkg-config; and check that every exported symbol of
# every PDK library carries the pdk_ prefix.
set -euo pipefail
build=$1
src=$2
if [ "${3:-none}" != none ]; then
	echo "SKIP: a sanitizer build ($3) cannot link a plain program against its libraries"
	exit 77
fi
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
pc=$(dirname "$(find "$dest" -name libpdk.pc | head -1)")
prefix=$(sed -n 's/^prefix=//p' "$pc/libpdk.pc")
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest
# the example is the one doc/getting-started.md shows
sed -n '/^```c$/,/^```$/p' "$src/doc/getting-started.md" | sed '1d;$d' >"$dest/hello.c"
cc -std=c11 -Wall -Wextra -Werror "$dest/hello.c" $(pkg-config --cflags --libs libpdk) \
	-Wl,-rpath,"$dest$prefix/lib/x86_64-linux-gnu" -o "$dest/hello"
out=$("$dest/hello" --no-huge -m 8 -l 0)
echo "$out"
grep -q "hello from lcore 0 on NUMA node 0" <<<"$out"

bad=0
for so in $(find "$dest" -name 'libpdk*.so'); do
	syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRV]$/ {print $3}' |
		grep -v -E '^(pdk_|_init$|_fini$)' || true)
	if [ -n "$syms" ]; then
		echo "$(basename "$so") exports symbols without the pdk_ prefix:" $syms
		bad=1
	fi
done
exit $bad
