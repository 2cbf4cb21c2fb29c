#!/usr/bin/env bash
# The main job on the embedded default (the emulator), run by
# `usertools/pdk-quickstart demo`: start pdk-emud, look at its device through
# PDK's VFIO layer, forward packets with pdk-testpmd, and measure the ring and
# mempool. Every step stops what it started.
set -euo pipefail
build=${1:-build}
app=$build/app
run=$(mktemp -d /tmp/pdk-demo.XXXXXX)
emud_pid=
cleanup() {
	[ -n "$emud_pid" ] && kill "$emud_pid" 2>/dev/null && wait "$emud_pid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT

step() { printf '\n=== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

for f in pdk-emud/pdk-emud pdk-devinfo/pdk-devinfo pdk-testpmd/pdk-testpmd; do
	[ -x "$app/$f" ] || { echo "demo: $app/$f is not built; run 'ninja -C $build'" >&2; exit 1; }
done

# 1. the device emulator, serving a test device over vfio-user
"$app/pdk-emud/pdk-emud" --device "testdev,socket=$run/testdev.sock" \
	--ready-file "$run/ready" --log-level warning &
emud_pid=$!
for _ in $(seq 100); do [ -s "$run/ready" ] && break; sleep 0.05; done
[ -s "$run/ready" ] || { echo "demo: pdk-emud did not start" >&2; exit 1; }

# 2. what PDK sees of it: regions, BAR mapping plan, IRQs, DMA limits
step "pdk-devinfo on the emulated device" \
	"$app/pdk-devinfo/pdk-devinfo" "vfio-user:$run/testdev.sock"

# 3. packet forwarding: two null ports, io mode, one forwarding core
step "pdk-testpmd, two null ports, io forwarding for 3 s" \
	"$app/pdk-testpmd/pdk-testpmd" -l 0-1 --no-huge -m 256 --file-prefix demo \
	--vdev net_null0 --vdev net_null1 -- --forward-mode io --run-time 3

# 4. the ring and mempool
step "ring and mempool, cycles per element" \
	"$build/test/bench/ring_mempool/pdk-bench-ring-mempool" --quick
