#!/usr/bin/env bash
# The main job on the embedded default, run by `usertools/pdk-quickstart demo`:
# pdk-emud serves an NVMe controller and two virtio-net NICs wired to each
# other over vfio-user; PDK's real drivers then run against them, unchanged:
#   1. pdk-devinfo: what PDK's VFIO layer sees of the NVMe controller
#   2. pdk-nvme-identify: the controller and namespace
#   3. pdk-nvme-perf: 4 KiB random reads and writes, every block verified
#   4. pdk-testpmd: packets forwarded between the two virtio-net ports
# Every step stops what it started. Memory: hugepages when free (the
# quickstart reserves them), else ordinary memory (--no-huge).
set -euo pipefail
build=${1:-build}
app=$build/app
run=$(mktemp -d /tmp/pdk-demo.XXXXXX)
emud_pid=
cleanup() {
	if [ -n "$emud_pid" ]; then
		kill "$emud_pid" 2>/dev/null || true
		wait "$emud_pid" 2>/dev/null || true
	fi
	rm -rf "$run"
}
trap cleanup EXIT

step() { printf '\n=== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

for f in pdk-emud pdk-devinfo pdk-nvme-identify pdk-nvme-perf pdk-testpmd; do
	[ -x "$app/$f/$f" ] || { echo "demo: $app/$f/$f is not built; run 'ninja -C $build'" >&2; exit 1; }
done

free_mb=$(awk '/HugePages_Free/ {f=$2} /Hugepagesize/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo)
if [ "${free_mb:-0}" -ge 512 ] && grep -q hugetlbfs /proc/mounts && [ -w /dev/hugepages ]; then
	mem=(-m 256)
else
	mem=(--no-huge -m 256)
	echo "demo: fewer than 512 MiB of free hugepages; using ordinary memory (--no-huge)"
fi

# The emulator: one NVMe controller (256 MiB namespace, zero latency) and
# two virtio-net devices wired back to back.
step "pdk-emud: an NVMe controller and two virtio-net NICs over vfio-user" \
	"$app/pdk-emud/pdk-emud" --device "nvme,socket=$run/nvme0.sock,serial=PDKDEMO0001" \
	--device "virtio-net,socket=$run/net0.sock,wire=pair,pair=demo" \
	--device "virtio-net,socket=$run/net1.sock,wire=pair,pair=demo" \
	--ready-file "$run/ready" --log-level warning &
emud_pid=$!
for _ in $(seq 200); do [ -s "$run/ready" ] && break; sleep 0.05; done
[ -s "$run/ready" ] || { echo "demo: pdk-emud did not start" >&2; exit 1; }

step "pdk-devinfo: regions, BAR mapping plan, interrupts, DMA limits" \
	"$app/pdk-devinfo/pdk-devinfo" "vfio-user:$run/nvme0.sock"

step "pdk-nvme-identify: the NVMe driver attached through vfio-user" \
	"$app/pdk-nvme-identify/pdk-nvme-identify" "${mem[@]}" --file-prefix demo \
	-a "vfio-user:$run/nvme0.sock"

step "pdk-nvme-perf: 4 KiB random 50/50 read/write, depth 32, 5 s, every block verified" \
	"$app/pdk-nvme-perf/pdk-nvme-perf" -l 0-1 "${mem[@]}" --file-prefix demo \
	-a "vfio-user:$run/nvme0.sock" -- -q 32 -o 4096 -w randrw -M 50 -t 5 --verify -L

step "pdk-testpmd: io forwarding between the two virtio-net ports for 5 s" \
	"$app/pdk-testpmd/pdk-testpmd" -l 0-1 "${mem[@]}" --file-prefix demo \
	-a "vfio-user:$run/net0.sock" -a "vfio-user:$run/net1.sock" -- \
	--forward-mode io --tx-first --run-time 5 --stats-period 1
