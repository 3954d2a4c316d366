package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/thermal-heartbeat/thermal/internal/oracle"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// vm is one guest: what goes into its initramfs, how QEMU runs it, and
// what the host does when the guest asks.
type vm struct {
	script string // the guest script, run as /test.sh
	// modules are loaded at boot, dependencies first (resolved from
	// modules.dep); copyOnly are copied with theirs but loaded by the
	// script, which passes their parameters.
	modules, copyOnly []string
	tools             []string          // copied with their shared libraries
	files             map[string]string // guest path -> host file
	args              []string          // QEMU's, beyond the machine, kernel and console
	// host is called for each "@@HOST <what>" line the guest prints, and
	// the guest waits for what it changes.
	host func(t *testing.T, what string)
}

// The first guest: hwmon drivers on i2c-stub, an NVMe controller, an ACPI
// thermal zone the host drives.
var (
	guestTools   = []string{"/usr/sbin/nvme", "/usr/bin/sensors", "/usr/bin/strace"}
	guestModules = []string{"nvme", "i2c-dev", "lm75", "tmp102", "tmp421", "amc6821"}
)

func need(t *testing.T) {
	t.Helper()
	testenv.Need(t, "qemu-system-x86_64", "iasl", "cpio", "gzip", "apt-get", "apt-cache", "dpkg-deb", "depmod", "ldd", "file")
	if out, err := exec.Command("file", "-L", "/bin/busybox").Output(); err != nil || !bytes.Contains(out, []byte("statically linked")) {
		if os.Getenv("THERMAL_INTEGRATION") == "require" {
			t.Fatal("/bin/busybox is not the static busybox (package busybox-static)")
		}
		t.Skip("/bin/busybox is not the static busybox (package busybox-static)")
	}
}

func run(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// kernel is an unpacked Debian kernel package.
type kernel struct {
	root    string // holds boot/ and lib/modules/
	version string
	vmlinuz string
}

// prepareKernel downloads Debian's current linux-image-amd64 kernel (the
// package linux-image-amd64 depends on) into the cache once, unpacks it and
// generates modules.dep.
func prepareKernel(t *testing.T) kernel {
	t.Helper()
	cache := os.Getenv("THERMAL_E2E_CACHE")
	if cache == "" {
		cache = filepath.Join("..", ".cache", "e2e")
	}
	cache, _ = filepath.Abs(cache)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Depends: (linux-image-[0-9][^\s]*)`).FindSubmatch(run(t, cache, "apt-cache", "depends", "linux-image-amd64"))
	if m == nil {
		t.Fatal("apt-cache: linux-image-amd64 depends on no kernel image")
	}
	pkg := string(m[1])
	root := filepath.Join(cache, pkg)
	if _, err := os.Stat(filepath.Join(root, "lib", "modules")); err != nil {
		debs, _ := filepath.Glob(filepath.Join(cache, pkg+"_*.deb"))
		if len(debs) == 0 {
			run(t, cache, "apt-get", "download", "-q", pkg)
			debs, _ = filepath.Glob(filepath.Join(cache, pkg+"_*.deb"))
		}
		if len(debs) == 0 {
			t.Fatalf("apt-get download %s left no .deb in %s", pkg, cache)
		}
		tmp := root + ".tmp"
		os.RemoveAll(tmp)
		run(t, cache, "dpkg-deb", "-x", debs[0], tmp)
		if err := os.Rename(tmp, root); err != nil {
			t.Fatal(err)
		}
	}
	versions, _ := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if len(versions) != 1 {
		t.Fatalf("%s holds %d kernel versions", root, len(versions))
	}
	k := kernel{root: root, version: versions[0].Name(), vmlinuz: filepath.Join(root, "boot", "vmlinuz-"+versions[0].Name())}
	if _, err := os.Stat(filepath.Join(root, "lib", "modules", k.version, "modules.dep")); err != nil {
		run(t, cache, "depmod", "-b", root, k.version)
	}
	return k
}

// modulesInOrder resolves the modules and their dependencies from
// modules.dep, dependencies first.
func modulesInOrder(t *testing.T, k kernel, names []string) []string {
	t.Helper()
	dir := filepath.Join(k.root, "lib", "modules", k.version)
	b, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string][]string{}
	byName := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		base := filepath.Base(mod)
		base = base[:strings.Index(base, ".ko")]
		byName[strings.ReplaceAll(base, "-", "_")] = mod
	}
	var order []string
	seen := map[string]bool{}
	var add func(string)
	add = func(mod string) {
		if seen[mod] {
			return
		}
		seen[mod] = true
		for _, d := range deps[mod] {
			add(d)
		}
		order = append(order, mod)
	}
	for _, n := range names {
		mod, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			t.Fatalf("module %s not in %s/modules.dep", n, dir)
		}
		add(mod)
	}
	for i, mod := range order {
		order[i] = filepath.Join(dir, mod)
	}
	return order
}

const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
while read -r m; do insmod "/lib/modules/$m" || echo "insmod $m failed"; done < /etc/modules.order
/test.sh
echo "@@EXIT $?"
poweroff -f
`

// buildInitramfs lays out the guest's root and packs it as a newc cpio.
func buildInitramfs(t *testing.T, work string, k kernel, thermal string, v vm) string {
	testenv.Need(t, v.tools...)
	t.Helper()
	root := filepath.Join(work, "root")
	put := func(dst string, data []byte, mode os.FileMode) {
		p := filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(src, dst string, mode os.FileMode) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		put(dst, b, mode)
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "etc"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	copyFile("/bin/busybox", "bin/busybox", 0o755)
	os.Symlink("busybox", filepath.Join(root, "bin", "sh"))
	put("init", []byte(initScript), 0o755)
	copyFile(v.script, "test.sh", 0o755)
	for dst, src := range v.files {
		copyFile(src, dst, 0o644)
	}
	copyFile(thermal, "bin/thermal", 0o755)
	put("etc/passwd", []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"), 0o644)
	put("etc/group", []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	var order []string
	load := map[string]bool{}
	for _, mod := range modulesInOrder(t, k, v.modules) {
		load[mod] = true
	}
	for _, mod := range modulesInOrder(t, k, append(append([]string(nil), v.modules...), v.copyOnly...)) {
		name := filepath.Base(mod)
		base := name[:strings.Index(name, ".ko")] + ".ko"
		switch {
		case strings.HasSuffix(name, ".ko"):
			copyFile(mod, "lib/modules/"+base, 0o644)
		case strings.HasSuffix(name, ".ko.xz"):
			put("lib/modules/"+base, run(t, "", "xz", "-dc", mod), 0o644)
		case strings.HasSuffix(name, ".ko.zst"):
			put("lib/modules/"+base, run(t, "", "zstd", "-qdc", mod), 0o644)
		default:
			t.Fatalf("unknown module format %s", mod)
		}
		if load[mod] {
			order = append(order, base)
		}
	}
	put("etc/modules.order", []byte(strings.Join(order, "\n")+"\n"), 0o644)
	for _, tool := range v.tools {
		copyFile(tool, tool, 0o755)
		for _, lib := range regexp.MustCompile(`/\S+`).FindAllString(string(run(t, "", "ldd", tool)), -1) {
			real, err := filepath.EvalSymlinks(lib)
			if err != nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, lib)); err != nil {
				copyFile(real, lib, 0o755)
			}
		}
	}
	initrd := filepath.Join(work, "initrd.gz")
	run(t, root, "sh", "-c", "find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "+initrd)
	return initrd
}

// qmp sends one command to QEMU's monitor socket and returns its answer.
func qmp(t *testing.T, sock string, command string, args any) {
	t.Helper()
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatalf("QMP: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	read := func() map[string]any {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				t.Fatalf("QMP read: %v", err)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("QMP: %v: %s", err, line)
			}
			if _, event := m["event"]; !event {
				return m
			}
		}
	}
	read() // greeting
	for _, msg := range []map[string]any{{"execute": "qmp_capabilities"}, {"execute": command, "arguments": args}} {
		b, _ := json.Marshal(msg)
		conn.Write(append(b, '\n'))
		if m := read(); m["error"] != nil {
			t.Fatalf("QMP %v: %v", msg["execute"], m["error"])
		}
	}
}

// guestRun is what the guest printed: its sections and the whole console.
type guestRun struct {
	sections map[string]string
	rc       map[string]int
	stderr   map[string]string
	console  string
}

func (g guestRun) get(t *testing.T, name string) string {
	t.Helper()
	out, ok := g.sections[name]
	if !ok {
		t.Fatalf("guest printed no section %q; console:\n%s", name, g.console)
	}
	if g.rc[name] != 0 {
		t.Fatalf("guest section %q exited %d:\n%s\nstderr:\n%s", name, g.rc[name], out, g.stderr[name])
	}
	return out
}

// boot runs the guest to completion, making the host-side changes when the
// guest asks for them.
func boot(t *testing.T, work string, k kernel, initrd string, v vm) guestRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{
		"-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512M",
		"-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio", "-nic", "none",
		"-kernel", k.vmlinuz, "-initrd", initrd}, v.args...)
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	g := guestRun{sections: map[string]string{}, rc: map[string]int{}, stderr: map[string]string{}}
	var console strings.Builder
	var current string
	var body strings.Builder
	end := regexp.MustCompile(`@@END (\S+) rc=(\d+)`)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		console.WriteString(line + "\n")
		switch {
		case strings.Contains(line, "@@BEGIN "):
			// Markers may share a line with the firmware's escape codes.
			current = line[strings.Index(line, "@@BEGIN ")+len("@@BEGIN "):]
			body.Reset()
		case current != "" && end.MatchString(line):
			m := end.FindStringSubmatch(line)
			g.sections[m[1]] = body.String()
			g.rc[m[1]], _ = strconv.Atoi(m[2])
			current = ""
		case current != "":
			body.WriteString(line + "\n")
		case strings.HasPrefix(line, "@@STDERR "):
			name, msg, _ := strings.Cut(strings.TrimPrefix(line, "@@STDERR "), ": ")
			g.stderr[name] += msg + "\n"
		case strings.Contains(line, "@@HOST "):
			if v.host == nil {
				t.Fatalf("the guest asks the host for %q", line)
			}
			v.host(t, strings.TrimSpace(line[strings.Index(line, "@@HOST ")+len("@@HOST "):]))
		}
	}
	err = cmd.Wait()
	g.console = console.String()
	// Keep the console next to the kernel cache for a look after a failure.
	os.WriteFile(filepath.Join(filepath.Dir(k.root), "console-"+strings.TrimSuffix(v.script, ".sh")+".txt"), []byte(g.console), 0o644)
	if !strings.Contains(g.console, "@@EXIT 0") {
		t.Fatalf("guest did not finish (qemu: %v):\n%s", err, g.console)
	}
	return g
}

// series parses an exposition into "name{k=v,…}" -> value.
func series(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition: %v\n%s", err, text)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[name+labelString(m)] = value(m)
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	var ls []string
	for _, l := range m.GetLabel() {
		ls = append(ls, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(ls)
	return "{" + strings.Join(ls, ",") + "}"
}

func value(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func celsius(source, chip, sensor string) string {
	return "node_thermal_celsius{chip=" + chip + ",sensor=" + sensor + ",source=" + source + "}"
}

// staticThermal builds thermal for a busybox initramfs without glibc: the
// static build, without NVML.
func staticThermal(t *testing.T, work string) string {
	t.Helper()
	thermal := filepath.Join(work, "thermal")
	build := exec.Command("go", "build", "-tags", "nonvml", "-trimpath", "-o", thermal, "../cmd/thermal")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return thermal
}

func TestIntegrationQEMU(t *testing.T) {
	need(t)
	work := t.TempDir()
	k := prepareKernel(t)
	thermal := staticThermal(t, work)
	run(t, work, "iasl", "-p", filepath.Join(work, "ssdt-tz"), mustAbs(t, "ssdt-tz.asl"))
	ram := filepath.Join(work, "guest.ram")
	sock := filepath.Join(work, "qmp.sock")
	disk := filepath.Join(work, "nvme.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 64<<20); err != nil {
		t.Fatal(err)
	}
	v := vm{script: "guest.sh", modules: guestModules, copyOnly: []string{"i2c-stub"}, tools: guestTools,
		args: []string{"-append", "console=ttyS0 panic=-1 quiet loglevel=3 memmap=4K$0x10000000",
			"-drive", "file=" + disk + ",if=none,id=nv0,format=raw",
			"-device", "nvme,serial=deadbeef,drive=nv0,id=nvme0",
			"-acpitable", "file=" + filepath.Join(work, "ssdt-tz.aml"),
			"-object", "memory-backend-file,id=ram0,size=512M,mem-path=" + ram + ",share=on",
			"-machine", "memory-backend=ram0",
			"-qmp", "unix:" + sock + ",server=on,wait=off"},
		host: func(t *testing.T, what string) {
			if what != "change" {
				t.Fatalf("the guest asks for %q", what)
			}
			// NVMe critical warning bit 1 (temperature), then the zone's
			// temperature, 3532 dK = 80 °C, which the guest waits for.
			qmp(t, sock, "qom-set", map[string]any{"path": "/machine/peripheral/nvme0", "property": "smart_critical_warning", "value": 2})
			f, err := os.OpenFile(ram, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			var dk [4]byte
			binary.LittleEndian.PutUint32(dk[:], 3532)
			if _, err := f.WriteAt(dk[:], 0x10000000); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}}
	initrd := buildInitramfs(t, work, k, thermal, v)
	start := time.Now()
	g := boot(t, work, k, initrd, v)
	t.Logf("kernel %s; boot, tests and poweroff took %v", strings.TrimSpace(g.get(t, "kernel")), time.Since(start).Round(time.Millisecond))

	dry := series(t, g.get(t, "dry-run"))
	lm, err := oracle.ParseSensorsJSON([]byte(g.get(t, "sensors")))
	if err != nil {
		t.Fatalf("sensors -j: %v", err)
	}

	t.Run("NVMe Composite equals nvme-cli and carries lm-sensors' chip name", func(t *testing.T) {
		var smart struct {
			Temperature     float64 `json:"temperature"`
			CriticalWarning float64 `json:"critical_warning"`
		}
		if err := json.Unmarshal([]byte(g.get(t, "smart-log")), &smart); err != nil {
			t.Fatal(err)
		}
		var id struct {
			WCTEMP float64 `json:"wctemp"`
			CCTEMP float64 `json:"cctemp"`
		}
		if err := json.Unmarshal([]byte(g.get(t, "id-ctrl")), &id); err != nil {
			t.Fatal(err)
		}
		if smart.Temperature != 323 || id.WCTEMP != 343 || id.CCTEMP != 373 {
			t.Fatalf("nvme-cli: temperature %v K, wctemp %v, cctemp %v; QEMU changed its defaults?", smart.Temperature, id.WCTEMP, id.CCTEMP)
		}
		chip := ""
		for _, c := range lm {
			if strings.HasPrefix(c.Name, "nvme-") {
				chip = c.Name
			}
		}
		if chip != "nvme-pci-0010" {
			t.Errorf("lm-sensors names the controller %q", chip)
		}
		if v, ok := dry[celsius("nvme", chip, "Composite")]; !ok || math.Abs(v-(smart.Temperature-273.15)) > 1e-9 {
			t.Errorf("Composite = %v (present %v), want nvme-cli's %v K = %.2f °C", v, ok, smart.Temperature, smart.Temperature-273.15)
		}
		for limit, k := range map[string]float64{"max": id.WCTEMP, "crit": id.CCTEMP} {
			key := "node_thermal_limit_celsius{chip=" + chip + ",limit=" + limit + ",sensor=Composite,source=nvme}"
			if v := dry[key]; math.Abs(v-(k-273.15)) > 1e-9 {
				t.Errorf("%s = %v, want %v", key, v, k-273.15)
			}
		}
		n := 0
		for key := range dry {
			if strings.HasPrefix(key, "node_thermal_celsius{") && strings.Contains(key, "chip=nvme") {
				n++
				if !strings.Contains(key, "source=nvme") {
					t.Errorf("NVMe series outside source nvme: %s", key)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d NVMe temperature series, want exactly 1 (no duplicate from the kernel's hwmon chip)", n)
		}
		if dry["node_thermal_nvme_info{chip=nvme-pci-0010,firmware=7.2.22,model=QEMU NVMe Ctrl,serial=deadbeef,source=nvme}"] != 1 {
			t.Errorf("no node_thermal_nvme_info for the controller")
		}
	})

	t.Run("every hwmon chip and zone with lm-sensors names and values", func(t *testing.T) {
		seen := 0
		for _, c := range lm {
			for _, f := range c.Features {
				for sub, v := range f.Subs {
					if !regexp.MustCompile(`^temp\d+_input$`).MatchString(sub) {
						continue
					}
					seen++
					source := "hwmon"
					if strings.HasPrefix(c.Name, "nvme-") {
						source = "nvme"
					}
					if got, ok := dry[celsius(source, c.Name, f.Name)]; !ok || math.Abs(got-v) > 0.0005 {
						t.Errorf("%s %s: thermal %v (present %v), lm-sensors %.3f", c.Name, f.Name, got, ok, v)
					}
				}
			}
		}
		if seen < 6 {
			t.Errorf("lm-sensors listed only %d temperatures; want acpitz, lm75, tmp102, 2×tmp421, nvme", seen)
		}
		// Fans: the amc6821's, as its real driver reports it.
		fans := 0
		for _, c := range lm {
			for _, f := range c.Features {
				for sub, v := range f.Subs {
					if !regexp.MustCompile(`^fan\d+_input$`).MatchString(sub) {
						continue
					}
					fans++
					key := "node_thermal_fan_rpm{chip=" + c.Name + ",sensor=" + f.Name + ",source=hwmon}"
					if got, ok := dry[key]; !ok || got != v {
						t.Errorf("%s %s: thermal %v RPM (present %v), lm-sensors %.0f", c.Name, f.Name, got, ok, v)
					}
				}
			}
		}
		if fans == 0 {
			t.Error("lm-sensors listed no fan; want the amc6821's")
		}
		for _, line := range strings.Split(strings.TrimSpace(g.get(t, "zones")), "\n") {
			var zone string
			var milli float64
			fmt.Sscanf(line, "%s %f", &zone, &milli)
			if got := dry[celsius("thermal_zone", zone, "acpitz")]; got != milli/1000 {
				t.Errorf("%s = %v, sysfs says %v m°C", zone, got, milli)
			}
		}
		var hw int
		for key := range dry {
			if strings.HasPrefix(key, "node_thermal_celsius{") {
				hw++
			}
		}
		if hw != seen+1 {
			t.Errorf("thermal reports %d temperatures, lm-sensors %d plus one zone", hw, seen)
		}
	})

	t.Run("the textfile equals the dry run; steady state is one admin command", func(t *testing.T) {
		text := series(t, g.get(t, "textfile"))
		for key, v := range dry {
			if strings.HasPrefix(key, "node_thermal_celsius") && text[key] != v {
				t.Errorf("textfile %s = %v, dry run %v", key, text[key], v)
			}
		}
		count := func(section string) int {
			return strings.Count(g.get(t, section), "NVME_IOCTL_ADMIN_CMD")
		}
		if n := count("strace-beat1"); n != 2 {
			t.Errorf("first beat issued %d admin commands, want 2 (Identify, then the SMART log)", n)
		}
		if n := count("strace-beat2"); n != 1 {
			t.Errorf("steady-state beat issued %d admin commands, want 1 per controller:\n%s", n, g.get(t, "strace-beat2"))
		}
	})

	t.Run("unprivileged: NVMe still reported, through hwmon, with the same labels", func(t *testing.T) {
		user := series(t, g.get(t, "user-dry-run"))
		key := celsius("nvme", "nvme-pci-0010", "Composite")
		if v, ok := user[key]; !ok || v != dry[key] {
			t.Errorf("as nobody: %s = %v (present %v), as root %v", key, v, ok, dry[key])
		}
		for k := range dry {
			if strings.HasPrefix(k, "node_thermal_celsius{") {
				if _, ok := user[k]; !ok {
					t.Errorf("as nobody the series %s is missing", k)
				}
			}
		}
		var inv []struct {
			Chip string `json:"chip"`
			NVMe *struct {
				ReadVia  string `json:"read_via"`
				Fallback string `json:"fallback"`
			} `json:"nvme"`
		}
		if err := json.Unmarshal([]byte(g.get(t, "user-probe")), &inv); err != nil {
			t.Fatal(err)
		}
		for _, c := range inv {
			if c.NVMe != nil && (c.NVMe.ReadVia != "hwmon" || !strings.Contains(c.NVMe.Fallback, "CAP_SYS_ADMIN")) {
				t.Errorf("probe as nobody: %s read via %q because %q; want hwmon, naming CAP_SYS_ADMIN", c.Chip, c.NVMe.ReadVia, c.NVMe.Fallback)
			}
		}
	})

	t.Run("run-time changes are seen by the next beat", func(t *testing.T) {
		after := series(t, g.get(t, "after-change"))
		lm75, amc := "", ""
		for _, c := range lm {
			if strings.HasPrefix(c.Name, "lm75-i2c-") {
				lm75 = c.Name
			}
			if strings.HasPrefix(c.Name, "amc6821-i2c-") {
				amc = c.Name
			}
		}
		for _, c := range []struct {
			key        string
			before, to float64
		}{
			{celsius("hwmon", lm75, "temp1"), 25.5, 60},
			{celsius("thermal_zone", "thermal_zone0", "acpitz"), 35, 80},
			{celsius("hwmon", "acpitz-acpi-0", "temp1"), 35, 80},
			{"node_thermal_nvme_temperature_warning{chip=nvme-pci-0010,source=nvme}", 0, 1},
			// The fan's tachometer count went up: 100 RPM, below its
			// 300 RPM minimum, so it failed.
			{"node_thermal_fan_rpm{chip=" + amc + ",sensor=fan1,source=hwmon}", 1200, 100},
			{"node_thermal_fan_failed{chip=" + amc + ",sensor=fan1,source=hwmon}", 0, 1},
		} {
			if dry[c.key] != c.before || after[c.key] != c.to {
				t.Errorf("%s: %v then %v, want %v then %v", c.key, dry[c.key], after[c.key], c.before, c.to)
			}
		}
	})

	t.Run("a steady beat reads no class link; a chip made again under the same hwmonN and target is seen", func(t *testing.T) {
		if out := g.get(t, "strace-links"); strings.Contains(out, "/class/hwmon/") {
			t.Errorf("a steady beat read class links:\n%s", out)
		}
		// entry -> "target name", before and after the lm75 was replaced.
		parse := func(section string) map[string]string {
			m := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(g.get(t, section)), "\n") {
				if f := strings.Fields(line); len(f) == 3 {
					m[f[0]] = f[1] + " " + f[2]
				}
			}
			return m
		}
		before, after := parse("links-before"), parse("links-after")
		entry := ""
		for e, v := range before {
			if strings.HasSuffix(v, " lm75") {
				entry = e
			}
		}
		target, _, _ := strings.Cut(before[entry], " ")
		if entry == "" || after[entry] != target+" tmp102" {
			t.Fatalf("the tmp102 did not take the lm75's class entry under the same target (the premise of this check):\nbefore %v\nafter  %v", before, after)
		}
		got := series(t, g.get(t, "replaced"))
		var tmp102, lm75 []string
		for k, v := range got {
			if strings.HasPrefix(k, "node_thermal_celsius{") && strings.Contains(k, "-48,") {
				if strings.Contains(k, "chip=tmp102-i2c-") {
					tmp102 = append(tmp102, k)
					if v != 40 {
						t.Errorf("%s = %v, want 40", k, v)
					}
				}
				if strings.Contains(k, "chip=lm75-i2c-") {
					lm75 = append(lm75, k)
				}
			}
		}
		if len(tmp102) != 1 || len(lm75) != 0 {
			t.Errorf("after the replacement: tmp102 series %v, lm75 series %v; want one tmp102 reading, no lm75", tmp102, lm75)
		}
	})
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
