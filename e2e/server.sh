#!/bin/sh
# Guest side of the server suite (run as /test.sh under the busybox init):
# an AHCI disk (QEMU's ide-hd: SMART attribute 190, no SCT), a scsi_debug
# disk (LOG SENSE page 0Dh) and a BMC (OpenIPMI's ipmi_sim on the host,
# behind QEMU's ipmi-bmc-extern and a KCS interface). Results are printed between
# "@@BEGIN name" and "@@END name rc=N", as guest.sh does.
section() {
	name=$1; shift
	echo "@@BEGIN $name"
	"$@" 2>/tmp/stderr
	rc=$?
	echo "@@END $name rc=$rc"
	sed "s/^/@@STDERR $name: /" /tmp/stderr
}
as_nobody() { su -s /bin/sh -c "$*" nobody; }

# The AHCI port is probed asynchronously: wait for both disks.
i=0
while [ "$(ls /sys/class/scsi_disk | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SATA= SAS=
for d in /sys/class/scsi_disk/*; do
	b=$(ls "$d/device/block")
	case "$(cat "$d/device/vendor")" in
	ATA*) SATA=$b ;;
	Linux*) SAS=$b SASADDR=${d##*/} ;;
	esac
done
mkdir -p /tmp/textfile /tmp/state
beat() { /bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state "$@"; }

# The BMC: ipmi_si finds the KCS interface, ipmi_devintf makes /dev/ipmi0.
i=0
while [ ! -e /dev/ipmi0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

section kernel uname -r
section ipmitool ipmitool -I open sensor
section disks sh -c "echo $SATA $SAS; ls -l /sys/class/scsi_disk/"
# smartctl exits with a bit mask; 4 (some SMART command failed: QEMU has no
# SCT) is expected, so the JSON is what is checked.
section smartctl-sata sh -c "smartctl -j -d sat -i -A /dev/$SATA; true"
section smartctl-sas sh -c "smartctl -j -i -A /dev/$SAS; true"
section sg-logs sg_logs -p 0x0d /dev/$SAS
# Two beats under strace: the first identifies the drives and caches how
# each is read, the second is a steady beat.
section strace-beat1 sh -c 'strace -f -y -T -e trace=ioctl -o /tmp/strace1 /bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/strace1'
section strace-beat2 sh -c 'strace -f -y -T -e trace=ioctl -o /tmp/strace2 /bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/strace2'
section textfile cat /tmp/textfile/thermal.prom
section dry-run /bin/thermal beat --dry-run --state-dir /tmp/state
section probe /bin/thermal probe --json
section probe-text /bin/thermal probe
section toml /bin/thermal probe --toml
# Root without CAP_SYS_RAWIO: LOG SENSE still works, ATA PASS-THROUGH is
# refused and (no drivetemp chip) the drive says why.
section norawio-dry-run /usr/bin/setpriv --bounding-set=-sys_rawio --inh-caps=-sys_rawio /bin/thermal beat --dry-run --state-dir /tmp/norawio-state
section norawio-probe /usr/bin/setpriv --bounding-set=-sys_rawio --inh-caps=-sys_rawio /bin/thermal probe --json
section user-probe as_nobody /bin/thermal probe --json

# The host changes CPU1's reading (a file ipmi_sim polls every 0.5 s).
echo "@@HOST cpu1"
sleep 1.5
section ipmitool-after ipmitool -I open sensor
section after-change /bin/thermal beat --dry-run --state-dir /tmp/state

# The scsi_debug disk is swapped for another model at the same address:
# deleted, then found again by a rescan with another INQUIRY product. It is
# a new SCSI device, whose class link is a new kernfs node: the next beat
# describes it afresh instead of taking the cached description.
section swap-before ls -li /sys/class/scsi_disk/
echo NEWDISK > /sys/module/scsi_debug/parameters/inq_product
echo 1 > "/sys/class/scsi_disk/$SASADDR/device/delete"
echo "- - -" > "/sys/class/scsi_host/host${SASADDR%%:*}/scan"
# The class device is made before sd's probe gives it a block device and
# its node: wait for both, so that the beat meets the drive whole.
i=0
while [ $i -lt 100 ]; do
	blk=$(ls "/sys/class/scsi_disk/$SASADDR/device/block" 2>/dev/null)
	[ -n "$blk" ] && [ -b "/dev/$blk" ] && break
	sleep 0.1
	i=$((i + 1))
done
section swap-addr echo "$SASADDR"
section swap-after ls -li /sys/class/scsi_disk/
section swapped sh -c '/bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/textfile/thermal.prom'
exit 0
