#!/bin/busybox sh
# /init of the vm-suite guest: load the vfio modules, then run each check and
# print "PDK-CHECK <name> PASS|FAIL|SKIP <detail>"; vmrun.py reads these lines.
/bin/busybox --install -s /bin
export PATH=/pdk/bin:/bin:/usr/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm /run/pdk && mount -t tmpfs tmp /dev/shm
for m in irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci; do
	insmod /lib/modules/$m.ko || echo "insmod $m failed"
done
ulimit -l unlimited

check() { # check NAME STATUS DETAIL...
	name=$1; status=$2; shift 2
	echo "PDK-CHECK $name $status $*"
}

# Devices by vendor:device: QEMU's nvme and virtio-net (transitional or modern).
find_dev() {
	for d in /sys/bus/pci/devices/*; do
		id="$(cat $d/vendor):$(cat $d/device)"
		case " $* " in *" $id "*) echo ${d##*/} ;; esac
	done
}
NVME=$(find_dev 0x1b36:0x0010)
NETS=$(find_dev 0x1af4:0x1000 0x1af4:0x1041)
NET0=$(echo $NETS | cut -d' ' -f1)
NET1=$(echo $NETS | cut -d' ' -f2)
# busybox puts every applet in /bin; scripts say #!/usr/bin/env
mkdir -p /usr/bin /usr/sbin && ln -sf /bin/busybox /usr/bin/env
echo "devices: nvme=$NVME net0=$NET0 net1=$NET1"

have() { [ -x /pdk/bin/$1 ]; }

run_logged() { # run_logged FILE CMD... -> exit code, output kept in FILE
	"$@" >"$1.out" 2>&1
}

# --- pdk-hugepages: reserve and mount
if pdk-hugepages --setup 256M >/tmp/hp.out 2>&1 && grep -q hugetlbfs /proc/mounts; then
	check hugepages PASS "$(grep HugePages_Free /proc/meminfo)"
else
	check hugepages FAIL "$(tail -3 /tmp/hp.out)"
fi

# --- pdk-devbind: bind the three devices to vfio-pci
if pdk-devbind --bind vfio-pci $NVME $NET0 $NET1 >/tmp/bind.out 2>&1; then
	ok=1
	for d in $NVME $NET0 $NET1; do
		drv=$(basename "$(readlink /sys/bus/pci/devices/$d/driver)")
		[ "$drv" = vfio-pci ] || { ok=0; echo "$d is bound to '$drv'"; }
	done
	if [ $ok = 1 ]; then
		check devbind PASS "$NVME $NET0 $NET1 bound to vfio-pci: $(ls /dev/vfio | tr '\n' ' ')"
	else
		check devbind FAIL "$(cat /tmp/bind.out | tail -3)"
	fi
else
	check devbind FAIL "exit $?: $(tail -3 /tmp/bind.out)"
fi
pdk-devbind --status >/tmp/status.out 2>&1; cat /tmp/status.out

# --- pdk-doctor: every check passes for these devices
if pdk-doctor -a $NVME -a $NET0 -a $NET1 -m 64 >/tmp/doctor.out 2>&1; then
	cat /tmp/doctor.out
	check doctor PASS "$(tail -1 /tmp/doctor.out)"
else
	cat /tmp/doctor.out
	check doctor FAIL "exit $?: $(grep -E 'FAIL' /tmp/doctor.out | head -3 | tr '\n' ';')"
fi

# --- pdk-devinfo: lib/vfio's view of the NVMe through the real kernel: the
# MSI-X BAR is mapped whole (the kernel reports MSIX_MAPPABLE), the IOVA
# ranges leave out the MSI window, the group is viable
if have pdk-devinfo; then
	pdk-devinfo $NVME
	if pdk-devinfo --json $NVME >/tmp/devinfo.json 2>/tmp/devinfo.err && python3 -c '
import json
d = json.load(open("/tmp/devinfo.json"))
m = d["msix"]
bar = [b for b in d["bars"] if b["bar"] == m["table_bar"]][0]
assert bar["policy"] == "msix-mappable", bar
assert not any(r["start"] <= 0xfee00000 <= r["end"] for r in d["iommu"]["iova_ranges"])
assert d["group"]["viable"] and d["iommu"]["dma_avail"] > 0, d["group"]
print("MSI-X table in BAR%d: %s; %d IOVA ranges; %d DMA mappings left" % (m["table_bar"],
      bar["policy"], len(d["iommu"]["iova_ranges"]), d["iommu"]["dma_avail"]))
' >/tmp/devinfo.check 2>&1; then
		check devinfo PASS "$(cat /tmp/devinfo.check)"
	else
		check devinfo FAIL "$(tail -n 3 /tmp/devinfo.err /tmp/devinfo.check | tr '\n' ' ')"
	fi
else
	check devinfo SKIP "pdk-devinfo is not built"
fi

# --- pdk-testpmd on the two virtio-net ports (net_virtio through the real
# vfio-pci and IOMMU; QEMU's hub joins them): txonly on NET0 in one process,
# rxonly on NET1 in another that starts first and stops last, so every frame
# on its way arrives; the driver's stop waits for its transmit ring, so
# opackets counts frames that left. Compared: NET0's tx_packets and NET1's
# rx_packets, equal (nothing lost while the receiver keeps up). The
# transitional device (default) lacks ACCESS_PLATFORM and reads guest
# physical addresses, hence --iova-mode pa; the modern-only one has
# iommu_platform=on and goes through the IOMMU with IOVA = VA.
if have pdk-testpmd && [ -n "$NET0" ] && [ -n "$NET1" ]; then
	iova=""
	[ "$(cat /sys/bus/pci/devices/$NET0/device)" = 0x1000 ] && iova="--iova-mode pa"
	eal="-l 0-1 -m 96 $iova --log-level=notice"
	pdk-testpmd $eal --file-prefix vrx -a $NET1 -- --forward-mode rxonly \
		--run-time 8 --json >/tmp/vrx.json 2>/tmp/vrx.err &
	rx_pid=$!
	sleep 2
	pdk-testpmd $eal --file-prefix vtx -a $NET0 -- --forward-mode txonly \
		--run-time 3 --json >/tmp/vtx.json 2>/tmp/vtx.err
	tx_rc=$?
	wait $rx_pid
	rx_rc=$?
	cat /tmp/vtx.err /tmp/vrx.err
	if [ $tx_rc = 0 ] && [ $rx_rc = 0 ] && python3 -c '
import json
def last(f):
    return [json.loads(l) for l in open(f) if l.startswith("{")][-1]["ports"][0]
tx, rx = last("/tmp/vtx.json"), last("/tmp/vrx.json")
assert tx["tx_packets"] > 100, tx
assert rx["rx_packets"] == tx["tx_packets"], (tx, rx)
assert tx["tx_errors"] + rx["rx_errors"] + rx["rx_nombuf"] == 0, (tx, rx)
print("%s txonly %d packets, %s rxonly %d packets (equal), %d bytes, no errors" % (
      tx["name"], tx["tx_packets"], rx["name"], rx["rx_packets"], rx["rx_bytes"]))
' "$iova" >/tmp/vcheck.txt 2>&1; then
		check testpmd_virtio PASS "$(cat /tmp/vcheck.txt) ${iova:-iova va}"
	else
		check testpmd_virtio FAIL "tx exit $tx_rc, rx exit $rx_rc: $(tail -n 3 /tmp/vcheck.txt /tmp/vtx.err /tmp/vrx.err | tr '\n' ' ')"
	fi
else
	check testpmd_virtio SKIP "pdk-testpmd is not built or no virtio-net devices"
fi

# --- pdk-nvme-identify: the NVMe driver attaches QEMU's controller through
# the real vfio-pci and IOMMU, and reports its serial and model
if have pdk-nvme-identify; then
	pdk-nvme-identify -a $NVME -m 64 >/tmp/nvmeid.txt 2>&1; cat /tmp/nvmeid.txt
	if pdk-nvme-identify -a $NVME -m 64 -- --json >/tmp/nvmeid.json 2>/tmp/nvmeid.err &&
	   python3 -c '
import json
c = json.load(open("/tmp/nvmeid.json"))["controllers"][0]
assert c["sn"] == "PDKVM0001", c["sn"]
assert c["mn"].startswith("QEMU NVMe Ctrl"), c["mn"]
ns = c["namespaces"][0]
assert ns["size_bytes"] == 64 << 20 and ns["sector_size"] == 512, ns
print("sn=%s mn=%s fr=%s version=%s mdts=%d queues=%d dbbuf=%s ns1=%d MiB" % (c["sn"], c["mn"],
      c["fr"], c["version"], c["mdts"], c["io_queues"], c["shadow_doorbells"],
      ns["size_bytes"] >> 20))
' >/tmp/nvmeid.check 2>&1; then
		check nvme_identify PASS "$(cat /tmp/nvmeid.check)"
	else
		check nvme_identify FAIL "$(tail -n 4 /tmp/nvmeid.err /tmp/nvmeid.check | tr '\n' ' ')"
	fi
else
	check nvme_identify SKIP "pdk-nvme-identify is not built"
fi

# --- pdk-nvme-perf --verify: random reads and writes through the real IOMMU,
# every stamped block read back and checked; the seed goes to vmrun.py,
# which finds the stamps in the disk image after power-off (disk_pattern)
if have pdk-nvme-perf; then
	if pdk-nvme-perf -l 0-1 -a $NVME -m 128 -- -q 16 -o 4096 -w randrw -M 50 -t 3 \
	       --verify -L >/tmp/perf.out 2>&1; then
		cat /tmp/perf.out
		check nvme_perf_verify PASS "$(grep -o 'seed=0x[0-9a-f]*' /tmp/perf.out | head -1)" \
			"$(grep '^verify:' /tmp/perf.out | cut -d, -f2-3)" \
			"$(grep '^Total' /tmp/perf.out | awk '{print $2 " IOPS"}')"
	else
		cat /tmp/perf.out
		check nvme_perf_verify FAIL "exit $?: $(tail -n 3 /tmp/perf.out | tr '\n' ' ')"
	fi
else
	check nvme_perf_verify SKIP "pdk-nvme-perf is not built"
fi

# --- unbind while an app holds the device: vfio-pci signals the request
# IRQ and blocks the unbind until the device fd is closed. pdk-nvme-perf (a
# 120 s run, reads only: disk_pattern's stamps stay) must say it was asked,
# let its outstanding I/O complete (with errors), stop, exit 3 (removed
# during the run) and so release the device: the unbind finishes within
# UNBIND_S. Then the device has no driver, and binds to vfio-pci and
# attaches again. Last of the NVMe checks, and it leaves the device bound.
UNBIND_S=30
uptime_s() { cut -d' ' -f1 /proc/uptime; }
unbind_request() {
	( pdk-nvme-perf -l 0-1 -a $NVME -m 128 -- -q 16 -o 4096 -w randread -t 120 --json \
		>/tmp/unb.json 2>/tmp/unb.err & echo $! >/tmp/unb.pid; wait $!
	  echo $? >/tmp/unb.rc; uptime_s >/tmp/unb.t_exit ) &
	n=0 # doing I/O: its first progress line (stderr with --json)
	while ! grep -q IOPS /tmp/unb.err 2>/dev/null && [ ! -f /tmp/unb.rc ] && [ $n -lt 60 ]; do
		sleep 1; n=$((n + 1))
	done
	if ! grep -q IOPS /tmp/unb.err 2>/dev/null || [ -f /tmp/unb.rc ]; then
		kill -9 "$(cat /tmp/unb.pid)" 2>/dev/null
		check unbind_request FAIL "pdk-nvme-perf did no I/O or exited early:" \
			"$(tail -n 3 /tmp/unb.err | tr '\n' ' ')"
		return
	fi
	t0=$(uptime_s)
	( pdk-devbind --unbind $NVME >/tmp/unb.bind 2>&1; echo $? >/tmp/unb.bindrc
	  uptime_s >/tmp/unb.t_unbind ) &
	n=0
	while { [ ! -f /tmp/unb.rc ] || [ ! -f /tmp/unb.bindrc ]; } && [ $n -lt $UNBIND_S ]; do
		sleep 1; n=$((n + 1))
	done
	if [ ! -f /tmp/unb.rc ] || [ ! -f /tmp/unb.bindrc ]; then
		# the app did not let go: kill it (closing its fds ends the unbind)
		kill -9 "$(cat /tmp/unb.pid)" 2>/dev/null; sleep 2
		cat /tmp/unb.err; dmesg | grep -i vfio | tail -5
		check unbind_request FAIL "not done ${UNBIND_S} s after the unbind: pdk-nvme-perf" \
			"$([ -f /tmp/unb.rc ] && echo exited || echo still ran), the unbind" \
			"$([ -f /tmp/unb.bindrc ] && echo finished || echo still blocked)"
		return
	fi
	cat /tmp/unb.err /tmp/unb.bind
	dmesg | grep -i 'device request' | tail -3
	drv=""
	[ -e /sys/bus/pci/devices/$NVME/driver ] &&
		drv=$(basename "$(readlink /sys/bus/pci/devices/$NVME/driver)")
	python3 - "$NVME" "$t0" "$(cat /tmp/unb.rc)" "$(cat /tmp/unb.bindrc)" "$drv" \
		"$(cat /tmp/unb.t_exit)" "$(cat /tmp/unb.t_unbind)" >/tmp/unb.check 2>&1 <<'PY'
import json, subprocess, sys
bdf, t0, rc, bindrc, drv, t_exit, t_unbind = sys.argv[1:]
t0, t_exit, t_unbind = float(t0), float(t_exit), float(t_unbind)
err = open("/tmp/unb.err").read()
assert "%s: removal requested" % bdf in err, "pdk-nvme-perf did not report the request"
assert "Relaying device request to user" in subprocess.run(
    ["dmesg"], stdout=subprocess.PIPE, text=True).stdout, "vfio-pci relayed no request"
assert rc == "3", "pdk-nvme-perf exit %s, not 3 (removed during the run)" % rc
assert bindrc == "0", "pdk-devbind --unbind exit %s" % bindrc
assert drv == "", "still bound to %s after the unbind" % drv
r = json.load(open("/tmp/unb.json"))
c = r["controllers"][0]
assert r["removed"] == [bdf], r["removed"]
assert c["submitted"] == c["completed"], "I/O left outstanding: %s" % c
assert 0 < r["seconds"] < 110 and r["total"]["ios"] > 0, (r["seconds"], r["total"])
print("request relayed; from the unbind's start pdk-nvme-perf exited 3 in %.1f s and the"
      " unbind finished in %.1f s; %d I/Os in %.1f s, %d failed with the removal, %d"
      " submitted = %d completed;" % (
      t_exit - t0, t_unbind - t0, r["total"]["ios"], r["seconds"], r["total"]["errors"],
      c["submitted"], c["completed"]))
PY
	py=$?
	# back to vfio-pci, and the driver attaches again (the device was not
	# left in a state it cannot come back from)
	pdk-devbind --bind vfio-pci $NVME >/tmp/unb.rebind 2>&1 &&
	pdk-nvme-identify -a $NVME -m 64 -- --json >/tmp/unb.id 2>>/tmp/unb.rebind &&
	grep -q '"sn":"PDKVM0001"' /tmp/unb.id
	again=$?
	if [ $py = 0 ] && [ $again = 0 ]; then
		check unbind_request PASS "$(cat /tmp/unb.check) rebound and identified again"
	elif [ $py = 0 ]; then
		check unbind_request FAIL "no way back: $(tail -n 3 /tmp/unb.rebind | tr '\n' ' ')"
	else
		check unbind_request FAIL "$(tail -n 2 /tmp/unb.check | tr '\n' ' ')"
	fi
}
if have pdk-nvme-perf && have pdk-nvme-identify; then
	unbind_request
else
	check unbind_request SKIP "pdk-nvme-perf or pdk-nvme-identify is not built"
fi

# Further checks, when an initramfs carries them.
if [ -f /pdk/checks.sh ]; then
	. /pdk/checks.sh
fi

echo PDK-VM-DONE
sync
poweroff -f
