#!/usr/bin/env bash
# The main job on the embedded default, run by `usertools/pdk-quickstart demo`.
# Until the emulator and the device apps land, it runs the ring/mempool
# benchmark on two lcores.
set -euo pipefail
build=${1:-build}
bench="$build/test/bench/ring_mempool/pdk-bench-ring-mempool"
if [ ! -x "$bench" ]; then
	echo "demo: $bench is not built; run 'ninja -C $build' first" >&2
	exit 1
fi
exec "$bench" --quick
