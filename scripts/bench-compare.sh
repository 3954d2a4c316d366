#!/usr/bin/env bash
# Side-by-side cost of one beat, whole processes, measured with perf stat
# (task-clock and raw_syscalls:sys_enter) in one run:
#
#   thermal beat     steady state (second beat onwards), writing its textfile,
#                    built-in config, no network
#   sensors -j       lm-sensors reading the same tree
#   shell pipeline   what a user would run every 30 s without thermal:
#                    sensors -j | jq into a textfile, zones with cat, a curl
#                    check-in to a local endpoint
#   Go hello world   the floor: a static Go binary that prints one line
#
# on generated sysfs trees of 35, 355 and 3,235 sensors. sensors and the
# pipeline read the tree through a private mount namespace that binds it
# over /sys/{class,devices,bus}; perf runs inside the namespace, so the
# namespace setup is not counted. The machines are noisy: the tools are
# measured in interleaved rounds (ROUNDS, each a perf stat -r REPEAT) and the
# median round is reported. Needs root, perf (linux-perf), lm-sensors, jq,
# curl, busybox; make deps installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
REPEAT=${REPEAT:-10}
SIZES=${SIZES:-"35 355 3235"}
work=$(mktemp -d)
httpd_pid=
cleanup() { [ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if ! perf stat -e task-clock,raw_syscalls:sys_enter true >/dev/null 2>&1; then
	echo "bench-compare: perf stat cannot count task-clock and raw_syscalls:sys_enter here (root? linux-perf? perf_event_paranoid?)" >&2
	exit 1
fi

make -s build build-static
thermal=$PWD/bin/thermal
thermal_static=$PWD/bin/thermal-static
mkdir -p "$work/hello"
cat > "$work/hello/main.go" <<'GO'
package main

import "os"

func main() { os.Stdout.WriteString("hello, world\n") }
GO
(cd "$work/hello" && go mod init hello >/dev/null 2>&1 && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/hello.bin" .)

for n in $SIZES 1000; do
	go run ./internal/sysfstest/gentree -n "$n" -o "$work/tree$n"
	mkdir -p "$work/state$n" "$work/textfile$n"
done

# The check-in endpoint for the pipeline's curl.
mkdir -p "$work/www" && echo ok > "$work/www/ping"
port=$(( 20000 + RANDOM % 20000 ))
busybox httpd -f -p "127.0.0.1:$port" -h "$work/www" & httpd_pid=$!
sleep 0.2

cat > "$work/pipeline.sh" <<PIPE
#!/bin/sh
# What a user would run every 30 s without thermal.
out=\$1
sensors -j 2>/dev/null | jq -r 'to_entries[] | .key as \$chip | .value | to_entries[]
  | select(.value | type == "object") | .key as \$sensor | .value | to_entries[]
  | select(.key | test("^temp[0-9]+_input\$"))
  | "node_thermal_celsius{chip=\"\(\$chip)\",sensor=\"\(\$sensor)\"} \(.value)"' > "\$out.tmp"
for z in /sys/class/thermal/thermal_zone*; do
  [ -e "\$z/temp" ] && echo "node_thermal_celsius{chip=\"\${z##*/}\",sensor=\"\$(cat \$z/type)\"} \$(cat \$z/temp)" >> "\$out.tmp"
done
mv "\$out.tmp" "\$out"
curl -fsS "http://127.0.0.1:$port/ping" > /dev/null
PIPE
chmod +x "$work/pipeline.sh"

# measure OUT TREE CMD...: perf stat -r REPEAT of CMD, with TREE ("-" for
# none) laid over /sys, into OUT (CSV).
measure() {
	local out=$1 tree=$2; shift 2
	if [ "$tree" = - ]; then
		perf stat -x, -r "$REPEAT" -e task-clock,raw_syscalls:sys_enter,page-faults -o "$out" -- "$@" >/dev/null 2>&1
	else
		unshare --mount --propagation private sh -c '
			tree=$1; out=$2; repeat=$3; shift 3
			for d in class devices bus; do mount --bind "$tree/$d" "/sys/$d"; done
			exec perf stat -x, -r "$repeat" -e task-clock,raw_syscalls:sys_enter,page-faults -o "$out" -- "$@" >/dev/null 2>&1' \
			sh "$tree" "$out" "$REPEAT" "$@"
	fi
}
# field OUT EVENT: the mean perf printed for EVENT (task-clock in ms).
field() { awk -F, -v e="$2" '$3 ~ e { print $1 }' "$1"; }

beat() { echo "$thermal" beat --config builtin --sysfs "$work/tree$1" --dev "$work/nodev" --textfile-dir "$work/textfile$1" --state-dir "$work/state$1"; }
static_beat() { echo "$thermal_static" beat --config builtin --sysfs "$work/tree$1" --dev "$work/nodev" --textfile-dir "$work/textfile$1" --state-dir "$work/state$1"; }
for n in $SIZES; do $(beat "$n"); done # the steady state starts with the second beat

declare -A CPU SYS PF
for r in $(seq "$ROUNDS"); do
	measure "$work/p" - "$work/hello.bin"
	CPU[hello,$r]=$(field "$work/p" task-clock); SYS[hello,$r]=$(field "$work/p" raw_syscalls); PF[hello,$r]=$(field "$work/p" page-faults)
	for n in $SIZES; do
		measure "$work/p" - $(beat "$n")
		CPU[thermal$n,$r]=$(field "$work/p" task-clock); SYS[thermal$n,$r]=$(field "$work/p" raw_syscalls); PF[thermal$n,$r]=$(field "$work/p" page-faults)
		measure "$work/p" - $(static_beat "$n")
		CPU[static$n,$r]=$(field "$work/p" task-clock)
		measure "$work/p" "$work/tree$n" sensors -j
		CPU[sensors$n,$r]=$(field "$work/p" task-clock); SYS[sensors$n,$r]=$(field "$work/p" raw_syscalls)
		measure "$work/p" "$work/tree$n" "$work/pipeline.sh" "$work/pipeline$n.prom"
		CPU[pipeline$n,$r]=$(field "$work/p" task-clock); SYS[pipeline$n,$r]=$(field "$work/p" raw_syscalls)
	done
done
# median KEY ARRAY: the median over the rounds.
median() {
	local -n a=$2
	for r in $(seq "$ROUNDS"); do echo "${a[$1,$r]}"; done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

n1=$(echo $SIZES | awk '{print $1}'); n2=$(echo $SIZES | awk '{print $2}')
f() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
echo
echo "One beat, whole process — $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r), $ROUNDS rounds of perf stat -r $REPEAT, medians"
echo
echo "| tree | thermal beat | sensors -j | shell pipeline | Go hello world |"
echo "|---|---|---|---|---|"
for n in $SIZES; do
	printf '| %s sensors | %s ms, %s syscalls | %s ms, %s syscalls | %s ms, %s syscalls | %s ms, %s syscalls |\n' "$n" \
		"$(f "$(median thermal$n CPU)")" "$(median thermal$n SYS)" \
		"$(f "$(median sensors$n CPU)")" "$(median sensors$n SYS)" \
		"$(f "$(median pipeline$n CPU)")" "$(median pipeline$n SYS)" \
		"$(f "$(median hello CPU)")" "$(median hello SYS)"
done
th1=$(median thermal$n1 CPU); th2=$(median thermal$n2 CPU); lm1=$(median sensors$n1 CPU); lm2=$(median sensors$n2 CPU)
st1=$(median thermal$n1 SYS); st2=$(median thermal$n2 SYS); sl1=$(median sensors$n1 SYS); sl2=$(median sensors$n2 SYS)
hello=$(median hello CPU); pipe1=$(median pipeline$n1 CPU)
sth1=$(median static$n1 CPU); sth2=$(median static$n2 CPU)
pf1=$(median thermal$n1 PF); pf2=$(median thermal$n2 PF); pfh=$(median hello PF)
/usr/bin/time -f %M -o "$work/rss" $(beat 1000) && $(beat 1000) # steady state
/usr/bin/time -f %M -o "$work/rss" $(beat 1000)
rss=$(tail -1 "$work/rss")
echo
awk -v th1="$th1" -v th2="$th2" -v lm1="$lm1" -v lm2="$lm2" -v st1="$st1" -v st2="$st2" -v sl1="$sl1" -v sl2="$sl2" \
	-v hello="$hello" -v pipe1="$pipe1" -v n1="$n1" -v n2="$n2" -v rss="$rss" -v pf1="$pf1" -v pf2="$pf2" -v pfh="$pfh" \
	-v sth1="$sth1" -v sth2="$sth2" 'BEGIN {
	d = n2 - n1
	printf "| goal | measured | target |\n|---|---|---|\n"
	printf "| CPU per added sensor (%d→%d), thermal | %.1f µs | ≤ 10 µs |\n", n1, n2, (th2 - th1) * 1000 / d
	printf "| CPU per added sensor, sensors -j | %.1f µs | |\n", (lm2 - lm1) * 1000 / d
	printf "| beat over %d sensors / Go hello world | %.1f× | ≤ 3× |\n", n1, th1 / hello
	printf "| sensors -j / thermal beat at %d sensors | %.1f× | ≥ 4× |\n", n2, lm2 / th2
	printf "| shell pipeline / thermal beat at %d sensors | %.1f× | ≥ 20× |\n", n1, pipe1 / th1
	printf "| syscalls per added sensor, thermal (perf) | %.2f | ≤ 3.5 |\n", (st2 - st1) / d
	printf "| syscalls per added sensor, sensors -j (perf) | %.2f | |\n", (sl2 - sl1) / d
	printf "| peak RSS, thermal beat over 1,000 sensors | %.1f MiB | ≤ 12 MiB |\n", rss / 1024
	printf "| page faults: hello world, beat over %d, per added sensor | %d, %d, %.2f | |\n", n1, pfh, pf1, (pf2 - pf1) / d
	printf "| static build (-tags nonvml): beat over %d / hello world; at %d, sensors -j / it | %.1f×; %.1f× | |\n", n1, n2, sth1 / hello, lm2 / sth2
	printf "| default build over static, beat over %d (dynamic loader and glibc start, no NVIDIA GPU) | +%.2f ms | |\n", n1, th1 - sth1
}'

# The floor, on a realistic tree (sysfstest.Realistic: ten kinds of hwmon
# chip, zones with trip points, NVMe read through hwmon, drives through
# drivetemp, a suspended dGPU) of 35 and 355 sensors: a static C program
# that opens, reads and closes exactly the files under the tree that a
# steady beat opens (floorgen turns the beat's own strace into it), beside
# the beat, thermal version (the binary's start) and sensors -j, in
# FLOOR_ROUNDS interleaved rounds of perf stat -r FLOOR_REPEAT, medians.
# Beside them, two references for what is the runtime's and the machine's
# rather than the beat's: the same program in Go (floorgen -go: package
# syscall, static), which pays the Go runtime's start, syscall entry and
# exit and threads for the same reads, and the price of a page fault here
# (a C program that touches 1,000 fresh pages, against one that touches
# none), since every page a fresh process's heap grows by is one.
FLOOR_ROUNDS=${FLOOR_ROUNDS:-5}
FLOOR_REPEAT=${FLOOR_REPEAT:-8}
REAL_SIZES="35 355" # fixed: the per-sensor figures below divide by the 320 sensors between them
real_beat() { echo "$thermal" beat --config builtin --sysfs "$work/real$1" --dev "$work/nodev" --textfile-dir "$work/realtext$1" --state-dir "$work/realstate$1"; }
for n in $REAL_SIZES; do
	go run ./internal/sysfstest/gentree -realistic -n "$n" -o "$work/real$n"
	mkdir -p "$work/realstate$n" "$work/realtext$n"
	$(real_beat "$n") # the steady state starts with the second beat
	rm -f "$work/strace$n".*
	strace -qq -ff -y -e trace=openat,getdents64 -o "$work/strace$n" $(real_beat "$n")
	go run ./internal/sysfstest/floorgen -tree "$work/real$n" "$work/strace$n".* > "$work/floor$n.c"
	gcc -O2 -static -o "$work/floor$n" "$work/floor$n.c"
	"$work/floor$n" || { echo "bench-compare: the floor program of $n sensors failed" >&2; exit 1; }
	mkdir -p "$work/gofloor$n.src"
	go run ./internal/sysfstest/floorgen -go -tree "$work/real$n" "$work/strace$n".* > "$work/gofloor$n.src/main.go"
	(cd "$work/gofloor$n.src" && go mod init gofloor >/dev/null 2>&1 && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/gofloor$n" .)
	"$work/gofloor$n" || { echo "bench-compare: the Go floor program of $n sensors failed" >&2; exit 1; }
	got=$(grep -c '^node_thermal_celsius{' "$work/realtext$n/thermal.prom")
	[ "$got" = "$n" ] || { echo "bench-compare: the realistic tree of $n sensors gave $got readings" >&2; exit 1; }
done
cat > "$work/touch.c" <<'C'
#include <stdlib.h>
#include <sys/mman.h>
/* touch N: write one byte to each of N fresh anonymous pages, small ones
   (where transparent huge pages are always on, the mapping could take
   2 MiB pages: one fault for 512). */
int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 0;
	char *p = mmap(0, (n + 1) * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise(p, (n + 1) * 4096, MADV_NOHUGEPAGE);
	for (long i = 0; i < n; i++)
		p[i * 4096] = 1;
	return 0;
}
C
gcc -O2 -static -o "$work/touch" "$work/touch.c"
for r in $(seq "$FLOOR_ROUNDS"); do
	REPEAT=$FLOOR_REPEAT measure "$work/p" - "$work/hello.bin"
	CPU[fhello,$r]=$(field "$work/p" task-clock)
	REPEAT=$FLOOR_REPEAT measure "$work/p" - "$work/touch" 0
	CPU[touch0,$r]=$(field "$work/p" task-clock); PF[touch0,$r]=$(field "$work/p" page-faults)
	REPEAT=$FLOOR_REPEAT measure "$work/p" - "$work/touch" 1000
	CPU[touch1000,$r]=$(field "$work/p" task-clock); PF[touch1000,$r]=$(field "$work/p" page-faults)
	REPEAT=$FLOOR_REPEAT measure "$work/p" - "$thermal" version
	CPU[version,$r]=$(field "$work/p" task-clock); SYS[version,$r]=$(field "$work/p" raw_syscalls)
	# As the unit runs it: GOMAXPROCS=1 in the environment, so the runtime
	# starts with one P (no resize). Shown beside
	# the goals, which are measured as above.
	GOMAXPROCS=1 REPEAT=$FLOOR_REPEAT measure "$work/p" - "$thermal" version
	CPU[unitversion,$r]=$(field "$work/p" task-clock)
	for n in $REAL_SIZES; do
		REPEAT=$FLOOR_REPEAT measure "$work/p" - "$work/floor$n"
		CPU[floor$n,$r]=$(field "$work/p" task-clock); SYS[floor$n,$r]=$(field "$work/p" raw_syscalls)
		REPEAT=$FLOOR_REPEAT measure "$work/p" - "$work/gofloor$n"
		CPU[gofloor$n,$r]=$(field "$work/p" task-clock); SYS[gofloor$n,$r]=$(field "$work/p" raw_syscalls)
		REPEAT=$FLOOR_REPEAT measure "$work/p" - $(real_beat "$n")
		CPU[real$n,$r]=$(field "$work/p" task-clock); SYS[real$n,$r]=$(field "$work/p" raw_syscalls); PF[real$n,$r]=$(field "$work/p" page-faults)
		GOMAXPROCS=1 REPEAT=$FLOOR_REPEAT measure "$work/p" - $(real_beat "$n")
		CPU[unit$n,$r]=$(field "$work/p" task-clock); SYS[unit$n,$r]=$(field "$work/p" raw_syscalls)
		REPEAT=$FLOOR_REPEAT measure "$work/p" "$work/real$n" sensors -j
		CPU[rsensors$n,$r]=$(field "$work/p" task-clock); SYS[rsensors$n,$r]=$(field "$work/p" raw_syscalls)
	done
done
/usr/bin/time -f %M -o "$work/rss" $(real_beat 355)
realrss=$(tail -1 "$work/rss")
MAIN_ROUNDS=$ROUNDS
ROUNDS=$FLOOR_ROUNDS # for median and ratios over the floor's rounds
echo
echo "The floor — a realistic tree, $FLOOR_ROUNDS interleaved rounds of perf stat -r $FLOOR_REPEAT, medians"
echo
echo "| | 35 sensors | 355 sensors | per added sensor |"
echo "|---|---|---|---|"
row() { # LABEL KEY
	local a b
	a=$(median "${2}35" CPU); b=$(median "${2}355" CPU)
	awk -v l="$1" -v a="$a" -v b="$b" -v sa="$(median "${2}35" SYS)" -v sb="$(median "${2}355" SYS)" 'BEGIN {
		printf "| %s | %.2f ms, %d syscalls | %.2f ms, %d syscalls | %.1f µs, %.2f syscalls |\n", l, a, sa, b, sb, (b - a) * 1000 / 320, (sb - sa) / 320 }'
}
row "open/read/close floor (C, static)" floor
row "the same reads from Go (floorgen -go: package syscall, static)" gofloor
awk -v v="$(median version CPU)" -v s="$(median version SYS)" 'BEGIN { printf "| thermal version (the binary start) | %.2f ms, %d syscalls | | |\n", v, s }'
row "thermal beat" real
row "thermal beat as the unit runs it (GOMAXPROCS=1 in its environment)" unit
row "sensors -j" rsensors
floorsys=$(awk -v a="$(median floor35 SYS)" -v b="$(median floor355 SYS)" 'BEGIN { printf "%.2f", (b - a) / 320 }')
awk -v fs="$floorsys" -v f1="$(median floor35 CPU)" -v f2="$(median floor355 CPU)" -v t1="$(median real35 CPU)" -v t2="$(median real355 CPU)" \
	-v v="$(median version CPU)" -v s2="$(median rsensors355 CPU)" -v y1="$(median real35 SYS)" -v y2="$(median real355 SYS)" -v rss="$realrss" 'BEGIN {
	printf "\n| goal | measured | target |\n|---|---|---|\n"
	printf "| marginal CPU per added sensor, beat / floor | %.2f× (%.1f / %.1f µs) | ≤ 1.5× |\n", (t2 - t1) / (f2 - f1), (t2 - t1) * 1000 / 320, (f2 - f1) * 1000 / 320
	printf "| 35-sensor beat over thermal version | +%.2f ms | ≤ +1.5 ms |\n", t1 - v
	printf "| sensors -j / beat at 355 sensors | %.1f× | ≥ 4× |\n", s2 / t2
	printf "| syscalls per added sensor (perf) | %.2f | ≤ 3.5 on the generated trees (the floor needs %s here) |\n", (y2 - y1) / 320, fs
	printf "| peak RSS, beat over 355 sensors | %.1f MiB | no worse |\n", rss / 1024
}'
awk -v f1="$(median floor35 CPU)" -v f2="$(median floor355 CPU)" -v u1="$(median unit35 CPU)" -v u2="$(median unit355 CPU)" \
	-v uv="$(median unitversion CPU)" -v s2="$(median rsensors355 CPU)" 'BEGIN {
	printf "| as the unit runs it: marginal beat / floor; 35-sensor beat over thermal version (both GOMAXPROCS=1); sensors -j / beat at 355 | %.2f×; +%.2f ms; %.1f× | |\n", (u2 - u1) / (f2 - f1), u1 - uv, s2 / u2
}'
awk -v f1="$(median floor35 CPU)" -v f2="$(median floor355 CPU)" -v g1="$(median gofloor35 CPU)" -v g2="$(median gofloor355 CPU)" \
	-v t1="$(median real35 CPU)" -v t2="$(median real355 CPU)" -v h="$(median fhello CPU)" -v z0="$(median touch0 CPU)" -v z1="$(median touch1000 CPU)" -v y0="$(median touch0 PF)" -v y1="$(median touch1000 PF)" \
	-v p1="$(median real35 PF)" -v p2="$(median real355 PF)" 'BEGIN {
	printf "\n| reference: the Go runtime and this machine | measured |\n|---|---|\n"
	printf "| marginal per added sensor, Go floor / C floor (the Go runtime on the same reads) | %.2f× (%.1f / %.1f µs) |\n", (g2 - g1) / (f2 - f1), (g2 - g1) * 1000 / 320, (f2 - f1) * 1000 / 320
	printf "| marginal per added sensor, beat / Go floor (what the beat adds in Go) | %.2f× |\n", (t2 - t1) / (g2 - g1)
	printf "| 35-sensor Go floor over a Go hello world (the reads of 35 sensors from Go) | +%.2f ms |\n", g1 - h
	printf "| a page fault here, and the page freed at exit (1,000 first touches of small anonymous pages, C) | %.2f µs |\n", (z1 - z0) * 1000 / (y1 - y0)
	printf "| page faults per added sensor, beat (its heap: every page it grows by is one) | %.2f |\n", (p2 - p1) / 320
}'
# The rounds one by one: how far apart the same ratios fall on this machine.
ratios() { # A B: per round, the marginal of A over the marginal of B
	for r in $(seq "$ROUNDS"); do
		awk -v a1="${CPU[${1}35,$r]}" -v a2="${CPU[${1}355,$r]}" -v b1="${CPU[${2}35,$r]}" -v b2="${CPU[${2}355,$r]}" \
			'BEGIN { if (b2 > b1) printf "%.2f\n", (a2 - a1) / (b2 - b1) }'
	done | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) printf "no round with a positive marginal"; else printf "%.2f×–%.2f×, median %.2f×", v[1], v[NR], v[int((NR + 1) / 2)] }'
}
echo "| marginal per added sensor, round by round: beat / floor; Go floor / floor; beat / Go floor | $(ratios real floor); $(ratios gofloor floor); $(ratios real gofloor) |"

ROUNDS=$MAIN_ROUNDS

# NVML out of process: a host with NVIDIA GPUs (the fixture of the nvml
# tests, with the C stand-in for libnvidia-ml) pays for a second process
# start (thermal re-executed as its NVML helper) plus NVML's own calls; the
# static build reads the same tree without NVML at all. A host without an
# NVIDIA GPU starts nothing (the last line of the goals above).
if command -v gcc >/dev/null 2>&1; then
	mkdir -p "$work/nvml"
	gcc -shared -fPIC -o "$work/nvml/libnvidia-ml.so.1" testdata/nvml/fake_nvml.c
	go run ./internal/sysfstest/gentree -fixture testdata/nvml/nvidia-gpus.tree -o "$work/gpus"
	mkdir -p "$work/gpustate" "$work/gputext" "$work/gpustate-s" "$work/gputext-s"
	gpu_beat() { echo "$1" beat --config builtin --sysfs "$work/gpus" --dev "$work/nodev" --textfile-dir "$work/gputext$2" --state-dir "$work/gpustate$2"; }
	export LD_LIBRARY_PATH="$work/nvml"
	$(gpu_beat "$thermal" "") 2>/dev/null; $(gpu_beat "$thermal_static" -s) 2>/dev/null
	for r in $(seq "$ROUNDS"); do
		measure "$work/p" - $(gpu_beat "$thermal" "")
		CPU[gpu,$r]=$(field "$work/p" task-clock); SYS[gpu,$r]=$(field "$work/p" raw_syscalls)
		measure "$work/p" - $(gpu_beat "$thermal_static" -s)
		CPU[gpus,$r]=$(field "$work/p" task-clock); SYS[gpus,$r]=$(field "$work/p" raw_syscalls)
	done
	unset LD_LIBRARY_PATH
	echo
	awk -v c="$(median gpu CPU)" -v cs="$(median gpus CPU)" -v s="$(median gpu SYS)" -v ss="$(median gpus SYS)" 'BEGIN {
		printf "| NVML out of process, 3 awake GPUs (fake NVML): default build over static | +%.2f ms, +%d syscalls (%.2f ms, %d syscalls in all) |\n", c - cs, s - ss, c, s
	}'
fi
