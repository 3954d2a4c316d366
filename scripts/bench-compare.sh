#!/usr/bin/env bash
# Side-by-side cost of one beat: `thermal beat` (steady state, writing its
# textfile, no network) against `sensors -j` alone and against the shell
# pipeline a user would otherwise run every 30 s (sensors -j | jq into a
# textfile, zones with cat, a curl check-in), on the same generated sysfs
# trees of N and 10N sensors. sensors and the pipeline run in a private
# mount namespace with the tree bound over /sys/{class,devices,bus}.
#
# Prints syscalls per additional sensor (strace -f -c, and perf's
# raw_syscalls count where perf works), the syscall ratio, the CPU ratio
# (user+sys over repeated runs) and peak RSS. Needs root, strace, lm-sensors,
# jq, curl, busybox (httpd as the check-in endpoint); make deps installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
RUNS=${RUNS:-20}
work=$(mktemp -d)
httpd_pid=
cleanup() { [ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

make -s build
thermal=$PWD/bin/thermal
for n in "$N" $((10 * N)); do
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
curl -fsS -X POST "http://127.0.0.1:$port/ping" > /dev/null
PIPE
chmod +x "$work/pipeline.sh"

# in_ns TREE CMD...: run CMD with TREE laid over /sys.
cat > "$work/in_ns" <<'NS'
#!/bin/sh
tree=$1; shift
exec unshare --mount --propagation private sh -c '
	for d in class devices bus; do mount --bind "$0/$d" "/sys/$d"; done
	exec "$@"' "$tree" "$@"
NS
chmod +x "$work/in_ns"
in_ns() { "$work/in_ns" "$@"; }

syscalls_strace() { # prints the total syscalls of CMD... under strace -f -c
	local f=$work/strace.out
	"$@" > /dev/null
	awk '/total$/ {print $4}' "$f"
}

perf_ok=0
if perf stat -x, -e raw_syscalls:sys_enter true 2>/dev/null; then perf_ok=1; fi
syscalls_perf() {
	perf stat -x, -e raw_syscalls:sys_enter -- "$@" 2>&1 >/dev/null | awk -F, '/raw_syscalls/ {print $1}'
}

cpu_ms() { # user+sys per run, in ms, over $RUNS runs of CMD...
	local t
	t=$( { /usr/bin/time -f "%U %S" sh -c 'i=0; while [ $i -lt '"$RUNS"' ]; do "$@" > /dev/null 2>&1; i=$((i+1)); done' sh "$@"; } 2>&1 | tail -1)
	awk -v t="$t" -v r="$RUNS" 'BEGIN { split(t, a, " "); printf "%.2f", (a[1] + a[2]) * 1000 / r }'
}

rss_kb() { /usr/bin/time -f "%M" -o "$work/rss" "$@" > /dev/null 2>&1; tail -1 "$work/rss"; }

declare -A S_TH S_LM P_TH CPU_TH CPU_LM CPU_PIPE RSS_TH RSS_LM
for n in "$N" $((10 * N)); do
	tree=$work/tree$n
	beat=("$thermal" beat --config builtin --sysfs "$tree" --dev "$work/nodev" --textfile-dir "$work/textfile$n" --state-dir "$work/state$n")
	"${beat[@]}" # warm: the steady state has the inventory
	S_TH[$n]=$(syscalls_strace strace -f -c -o "$work/strace.out" "${beat[@]}")
	S_LM[$n]=$(syscalls_strace "$work/in_ns" "$tree" strace -f -c -o "$work/strace.out" sensors -j)
	[ $perf_ok = 1 ] && P_TH[$n]=$(syscalls_perf "${beat[@]}")
	CPU_TH[$n]=$(cpu_ms "${beat[@]}")
	CPU_LM[$n]=$(cpu_ms "$work/in_ns" "$tree" sensors -j)
	CPU_PIPE[$n]=$(cpu_ms "$work/in_ns" "$tree" "$work/pipeline.sh" "$work/pipeline$n.prom")
	RSS_TH[$n]=$(rss_kb "${beat[@]}")
	RSS_LM[$n]=$(rss_kb "$work/in_ns" "$tree" sensors -j)
done
# The namespace setup (unshare, sh, 3 mounts) is in CPU_LM and CPU_PIPE; measure it alone and take it out.
ns_ms=$(cpu_ms "$work/in_ns" "$work/tree$N" true)

n1=$N; n2=$((10 * N))
per() { awk -v a="$1" -v b="$2" -v d="$((n2 - n1))" 'BEGIN { printf "%.2f", (b - a) / d }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
sub0() { awk -v a="$1" -v b="$2" 'BEGIN { v = a - b; if (v < 0) v = 0; printf "%.2f", v }'; }

echo
echo "thermal beat vs sensors -j vs the shell pipeline — $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo
printf '| %-44s | %12s | %12s |\n' "measure" "N=$n1" "N=$n2"
printf '|%s|%s|%s|\n' "----------------------------------------------" "--------------" "--------------"
printf '| %-44s | %12s | %12s |\n' "thermal beat syscalls (strace -f -c)" "${S_TH[$n1]}" "${S_TH[$n2]}"
[ $perf_ok = 1 ] && printf '| %-44s | %12s | %12s |\n' "thermal beat syscalls (perf raw_syscalls)" "${P_TH[$n1]}" "${P_TH[$n2]}"
printf '| %-44s | %12s | %12s |\n' "sensors -j syscalls (strace -f -c)" "${S_LM[$n1]}" "${S_LM[$n2]}"
printf '| %-44s | %12s | %12s |\n' "syscall ratio sensors -j / thermal beat" "$(ratio "${S_LM[$n1]}" "${S_TH[$n1]}")" "$(ratio "${S_LM[$n2]}" "${S_TH[$n2]}")"
p1=$(sub0 "${CPU_PIPE[$n1]}" "$ns_ms"); p2=$(sub0 "${CPU_PIPE[$n2]}" "$ns_ms")
l1=$(sub0 "${CPU_LM[$n1]}" "$ns_ms"); l2=$(sub0 "${CPU_LM[$n2]}" "$ns_ms")
printf '| %-44s | %12s | %12s |\n' "thermal beat CPU per run, ms (user+sys)" "${CPU_TH[$n1]}" "${CPU_TH[$n2]}"
printf '| %-44s | %12s | %12s |\n' "sensors -j CPU per run, ms" "$l1" "$l2"
printf '| %-44s | %12s | %12s |\n' "shell pipeline CPU per run, ms" "$p1" "$p2"
printf '| %-44s | %12s | %12s |\n' "CPU ratio pipeline / thermal beat" "$(ratio "$p1" "${CPU_TH[$n1]}")" "$(ratio "$p2" "${CPU_TH[$n2]}")"
printf '| %-44s | %12s | %12s |\n' "peak RSS thermal beat, KiB" "${RSS_TH[$n1]}" "${RSS_TH[$n2]}"
printf '| %-44s | %12s | %12s |\n' "peak RSS sensors -j, KiB" "${RSS_LM[$n1]}" "${RSS_LM[$n2]}"
echo
echo "syscalls per additional sensor, strace: thermal $(per "${S_TH[$n1]}" "${S_TH[$n2]}"), sensors -j $(per "${S_LM[$n1]}" "${S_LM[$n2]}")"
[ $perf_ok = 1 ] && echo "syscalls per additional sensor, perf:   thermal $(per "${P_TH[$n1]}" "${P_TH[$n2]}")"
echo "(namespace setup, $ns_ms ms per run, is subtracted from the sensors and pipeline CPU)"
