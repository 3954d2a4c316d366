#!/bin/sh
# Guest side of the end-to-end suite; runs as /test.sh under the busybox
# init. Every result is printed between "@@BEGIN name" and "@@END name rc=N"
# on the serial console, with the command's stderr after it as
# "@@STDERR name: …" lines; the host test parses them.
section() {
	name=$1; shift
	echo "@@BEGIN $name"
	"$@" 2>/tmp/stderr
	rc=$?
	echo "@@END $name rc=$rc"
	sed "s/^/@@STDERR $name: /" /tmp/stderr
}
as_nobody() { su -s /bin/sh -c "$*" nobody; }

# i2c-stub: an SMBus adapter whose chips at 0x18, 0x48, 0x49, 0x4c are plain
# register files; real amc6821, lm75, tmp102 and tmp421 drivers bind to them.
insmod /lib/modules/i2c-stub.ko chip_addr=0x18,0x48,0x49,0x4c
STUB=
for a in /sys/bus/i2c/devices/i2c-*; do
	[ "$(cat "$a/name")" = "SMBus stub driver" ] && STUB=${a##*/i2c-}
done
# SMBus words are little-endian on the wire, LM75 registers big-endian.
i2cset -y "$STUB" 0x48 0x00 0x8019 w   # lm75 temperature 25.5 C
i2cset -y "$STUB" 0x48 0x02 0x004b w   # lm75 hysteresis 75 C
i2cset -y "$STUB" 0x48 0x03 0x0050 w   # lm75 overtemperature 80 C
i2cset -y "$STUB" 0x49 0x00 0x000f w   # tmp102 30 C
i2cset -y "$STUB" 0x49 0x01 0xa060 w   # tmp102 configuration (power-on value)
i2cset -y "$STUB" 0x4c 0x00 0x28 b     # tmp421 local 40 C
i2cset -y "$STUB" 0x4c 0x01 0x2d b     # tmp421 remote 45 C
# amc6821 fan: RPM = 6000000 / tachometer count; 5000 is 1200 RPM, a low
# limit of 20000 a 300 RPM minimum.
i2cset -y "$STUB" 0x18 0x08 0x88 b     # amc6821 tach low
i2cset -y "$STUB" 0x18 0x09 0x13 b     # amc6821 tach high
i2cset -y "$STUB" 0x18 0x10 0x20 b     # amc6821 tach low limit, low byte
i2cset -y "$STUB" 0x18 0x11 0x4e b     # amc6821 tach low limit, high byte
for chip in "amc6821 0x18" "lm75 0x48" "tmp102 0x49" "tmp421 0x4c"; do
	echo "$chip" > "/sys/bus/i2c/devices/i2c-$STUB/new_device"
done
sleep 0.3
mkdir -p /tmp/textfile /tmp/state

section kernel uname -r
section sensors sensors -c /dev/null -j
section smart-log nvme smart-log /dev/nvme0 -o json
section id-ctrl nvme id-ctrl /dev/nvme0 -o json
section zones sh -c 'for z in /sys/class/thermal/thermal_zone*; do echo "${z##*/} $(cat $z/temp)"; done'
# Two beats under strace: the first identifies the drive and caches its
# limits in the state directory, the second is a steady-state beat.
section strace-beat1 sh -c 'strace -f -e trace=ioctl -o /tmp/strace1 /bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/strace1'
section strace-beat2 sh -c 'strace -f -e trace=ioctl -o /tmp/strace2 /bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/strace2'
section textfile cat /tmp/textfile/thermal.prom
section dry-run /bin/thermal beat --dry-run --state-dir /tmp/state
section probe /bin/thermal probe --json
section user-dry-run as_nobody /bin/thermal beat --dry-run --state-dir /tmp/nobody-state
section user-probe as_nobody /bin/thermal probe --json

# Run-time changes: the lm75 from here, the zone and the NVMe critical
# warning from the host, which writes the zone temperature last.
i2cset -f -y "$STUB" 0x48 0x00 0x003c w   # lm75 60 C
i2cset -f -y "$STUB" 0x18 0x08 0x60 b     # amc6821 tach 60000: 100 RPM, below its minimum
i2cset -f -y "$STUB" 0x18 0x09 0xea b
echo "@@HOST change"
i=0
while [ "$(cat /sys/class/thermal/thermal_zone0/temp)" != 80000 ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 2   # the lm75 driver caches its reading for 1.5 s
section after-change /bin/thermal beat --dry-run --state-dir /tmp/state

# A steady beat reads no class link: the listing's inode numbers stand for
# them. Then the lm75 at 0x48 is replaced by a tmp102: the new device takes
# the freed hwmonN, and its class link has the same target (the same i2c
# address), but it is a new kernfs node with another inode number.
section strace-links sh -c 'strace -f -e trace=readlinkat -o /tmp/strace3 /bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/strace3'
links() { for l in /sys/class/hwmon/hwmon*; do echo "${l##*/} $(readlink "$l") $(cat "$l/name")"; done; }
section links-before links
echo 0x48 > "/sys/bus/i2c/devices/i2c-$STUB/delete_device"
i2cset -f -y "$STUB" 0x48 0x01 0xa060 w   # tmp102 configuration (power-on value)
i2cset -f -y "$STUB" 0x48 0x00 0x0014 w   # tmp102 40 C
echo "tmp102 0x48" > "/sys/bus/i2c/devices/i2c-$STUB/new_device"
sleep 0.3
section links-after links
section replaced sh -c '/bin/thermal beat --textfile-dir /tmp/textfile --state-dir /tmp/state && cat /tmp/textfile/thermal.prom'
exit 0
