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

# Further checks (pdk-nvme-identify, pdk-nvme-perf, pdk-testpmd,
# unbind under load) run here once those programs are built.
if [ -f /pdk/checks.sh ]; then
	. /pdk/checks.sh
fi

echo PDK-VM-DONE
sync
poweroff -f
