package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// The server guest: SATA and SAS drives (and the BMC, see ipmi below).
var (
	serverTools   = []string{"/usr/bin/strace", "/usr/sbin/smartctl", "/usr/bin/sg_logs", "/usr/bin/setpriv", "/usr/bin/ipmitool"}
	serverModules = []string{"ahci", "sd_mod", "sg", "scsi_debug", "ipmi_si", "ipmi_devintf"}
)

// startBMC runs OpenIPMI's ipmi_sim with bmc.emu for the guest's BMC and
// returns the port QEMU connects to.
func startBMC(t *testing.T, work string) string {
	t.Helper()
	testenv.Need(t, "ipmi_sim")
	_, port, _ := net.SplitHostPort(testenv.FreeAddr(t))
	_, console, _ := net.SplitHostPort(testenv.FreeAddr(t))
	emu, err := os.ReadFile("bmc.emu")
	if err != nil {
		t.Fatal(err)
	}
	lan, err := os.ReadFile("bmc.lan.conf")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"bmc.emu":   strings.ReplaceAll(string(emu), "@DIR@", work),
		"lan.conf":  strings.NewReplacer("@PORT@", port, "@CONSOLE@", console).Replace(string(lan)),
		"cpu1.temp": "35\n", // 45 °C
	} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	sim := exec.Command("ipmi_sim", "-c", filepath.Join(work, "lan.conf"), "-f", filepath.Join(work, "bmc.emu"),
		"-s", filepath.Join(work, "ipmi-state"), "-n")
	sim.Stdout, sim.Stderr = &out, &out
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sim.Process.Kill()
		sim.Wait()
		if t.Failed() {
			t.Logf("ipmi_sim:\n%s", out.String())
		}
	})
	// Wait for its listener, so that QEMU's first connection finds it
	// (without connecting to it: ipmi_sim takes one VM connection).
	p, _ := strconv.Atoi(port)
	listening := fmt.Sprintf(":%04X 00000000:0000 0A", p)
	for i := 0; ; i++ {
		if b, err := os.ReadFile("/proc/net/tcp"); err == nil && strings.Contains(string(b), listening) {
			break
		}
		if i == 50 {
			t.Fatalf("ipmi_sim did not listen:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return port
}

// probeDrive is a chip as probe --json shows it, with a drive's facts.
type probeDrive struct {
	Source string         `json:"source"`
	Chip   string         `json:"chip"`
	Disk   map[string]any `json:"disk"`
}

func TestIntegrationQEMUServer(t *testing.T) {
	need(t)
	work := t.TempDir()
	k := prepareKernel(t)
	thermal := staticThermal(t, work)
	sata := filepath.Join(work, "sata.img")
	if err := os.WriteFile(sata, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sata, 64<<20); err != nil {
		t.Fatal(err)
	}
	port := startBMC(t, work)
	v := vm{script: "server.sh", modules: serverModules, tools: serverTools,
		args: []string{"-append", "console=ttyS0 panic=-1 quiet loglevel=3",
			"-drive", "if=none,id=s1,format=raw,file=" + sata,
			"-device", "ide-hd,drive=s1,bus=ide.0,serial=QM00042",
			"-chardev", "socket,id=ipmi0,host=127.0.0.1,port=" + port + ",reconnect=10",
			"-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
			"-device", "isa-ipmi-kcs,bmc=bmc0"},
		host: func(t *testing.T, what string) {
			if what != "cpu1" {
				t.Fatalf("the guest asks for %q", what)
			}
			// CPU1 reads raw 60: 70 °C (B = 10), past its upper
			// non-critical threshold.
			if err := os.WriteFile(filepath.Join(work, "cpu1.temp"), []byte("60\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}}
	initrd := buildInitramfs(t, work, k, thermal, v)
	start := time.Now()
	g := boot(t, work, k, initrd, v)
	t.Logf("kernel %s; boot, tests and poweroff took %v", strings.TrimSpace(g.get(t, "kernel")), time.Since(start).Round(time.Millisecond))
	names := strings.Fields(g.get(t, "disks"))
	if len(names) < 2 {
		t.Fatalf("the guest found no SATA and SAS disks: %q", g.get(t, "disks"))
	}
	sataDev, sasDev := names[0], names[1]
	dry := series(t, g.get(t, "dry-run"))
	var inv []probeDrive
	if err := json.Unmarshal([]byte(g.get(t, "probe")), &inv); err != nil {
		t.Fatal(err)
	}
	drives := map[string]probeDrive{} // by device
	for _, c := range inv {
		if c.Source == "disk" {
			dev, _ := c.Disk["device"].(string)
			drives[dev] = c
		}
	}

	t.Run("SATA: attribute 190 equals smartctl's, with its identity", func(t *testing.T) {
		var sc struct {
			Model    string `json:"model_name"`
			Serial   string `json:"serial_number"`
			Firmware string `json:"firmware_version"`
			Temp     struct {
				Current float64 `json:"current"`
			} `json:"temperature"`
		}
		if err := json.Unmarshal([]byte(g.get(t, "smartctl-sata")), &sc); err != nil {
			t.Fatal(err)
		}
		if sc.Temp.Current == 0 || sc.Serial != "QM00042" {
			t.Fatalf("smartctl: %+v", sc)
		}
		d, ok := drives[sataDev]
		if !ok {
			t.Fatalf("probe lists no drive %s: %s", sataDev, g.get(t, "probe"))
		}
		if d.Disk["read_via"] != "smart-190" || d.Disk["model"] != sc.Model || d.Disk["serial"] != sc.Serial || d.Disk["firmware"] != sc.Firmware || d.Disk["transport"] != "sata" {
			t.Errorf("probe: %+v, smartctl: %+v", d.Disk, sc)
		}
		key := celsius("disk", d.Chip, "temp1")
		if v, ok := dry[key]; !ok || v != sc.Temp.Current {
			t.Errorf("%s = %v (present %v), smartctl %v", key, v, ok, sc.Temp.Current)
		}
		if !regexp.MustCompile(`^drivetemp-scsi-\d+-0$`).MatchString(d.Chip) {
			t.Errorf("chip %q is not a drivetemp name", d.Chip)
		}
		info := "node_thermal_drive_info{chip=" + d.Chip + ",model=" + sc.Model + ",serial=" + sc.Serial + ",source=disk,transport=sata}"
		if dry[info] != 1 {
			t.Errorf("no %s", info)
		}
	})

	t.Run("SAS: LOG SENSE equals sg_logs and smartctl, reference temperature as max", func(t *testing.T) {
		logs := g.get(t, "sg-logs")
		cur := regexp.MustCompile(`Current temperature\s*=\s*(\d+) C`).FindStringSubmatch(logs)
		ref := regexp.MustCompile(`Reference temperature\s*=\s*(\d+) C`).FindStringSubmatch(logs)
		if cur == nil || ref == nil {
			t.Fatalf("sg_logs:\n%s", logs)
		}
		var sc struct {
			Temp struct {
				Current   float64 `json:"current"`
				DriveTrip float64 `json:"drive_trip"`
			} `json:"temperature"`
		}
		if err := json.Unmarshal([]byte(g.get(t, "smartctl-sas")), &sc); err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.ParseFloat(cur[1], 64)
		wantRef, _ := strconv.ParseFloat(ref[1], 64)
		if sc.Temp.Current != want || sc.Temp.DriveTrip != wantRef {
			t.Errorf("smartctl %+v and sg_logs %v/%v disagree", sc.Temp, want, wantRef)
		}
		d, ok := drives[sasDev]
		if !ok {
			t.Fatalf("probe lists no drive %s", sasDev)
		}
		if d.Disk["read_via"] != "log-sense" || d.Disk["transport"] != "sas" {
			t.Errorf("probe: %+v", d.Disk)
		}
		if v := dry[celsius("disk", d.Chip, "temp1")]; v != want {
			t.Errorf("temp1 = %v, sg_logs %v", v, want)
		}
		key := "node_thermal_limit_celsius{chip=" + d.Chip + ",limit=max,sensor=temp1,source=disk}"
		if v := dry[key]; v != wantRef {
			t.Errorf("%s = %v, reference temperature %v", key, v, wantRef)
		}
	})

	t.Run("steady beat: two commands per ATA drive, one per SCSI drive", func(t *testing.T) {
		count := func(section, dev string) int {
			n := 0
			for _, l := range strings.Split(g.get(t, section), "\n") {
				if strings.Contains(l, "SG_IO") && strings.Contains(l, "</dev/"+dev+">") && !strings.Contains(l, "resumed>") {
					n++
				}
			}
			return n
		}
		if n := count("strace-beat1", sataDev); n < 3 || n > 4 {
			t.Errorf("first beat sent the SATA drive %d commands, want CHECK POWER MODE, IDENTIFY, (SCT Status,) SMART READ DATA:\n%s", n, g.get(t, "strace-beat1"))
		}
		if n := count("strace-beat2", sataDev); n != 2 {
			t.Errorf("steady beat sent the SATA drive %d commands, want 2:\n%s", n, g.get(t, "strace-beat2"))
		}
		if n := count("strace-beat2", sasDev); n != 1 {
			t.Errorf("steady beat sent the SAS drive %d commands, want 1", n)
		}
		text := series(t, g.get(t, "textfile"))
		for key, v := range dry {
			if strings.HasPrefix(key, "node_thermal_celsius{") && text[key] != v {
				t.Errorf("textfile %s = %v, dry run %v", key, text[key], v)
			}
		}
	})

	t.Run("without CAP_SYS_RAWIO: SAS still read, SATA says why", func(t *testing.T) {
		nr := series(t, g.get(t, "norawio-dry-run"))
		if v := nr[celsius("disk", drives[sasDev].Chip, "temp1")]; v == 0 {
			t.Error("the SAS drive is not read without CAP_SYS_RAWIO (LOG SENSE does not need it)")
		}
		if _, ok := nr[celsius("disk", drives[sataDev].Chip, "temp1")]; ok {
			t.Error("the SATA drive has a reading without CAP_SYS_RAWIO")
		}
		if v := nr["node_thermal_read_errors{chip="+drives[sataDev].Chip+",source=disk}"]; v != 1 {
			t.Errorf("read errors of the SATA drive = %v, want 1", v)
		}
		var inv []probeDrive
		if err := json.Unmarshal([]byte(g.get(t, "norawio-probe")), &inv); err != nil {
			t.Fatal(err)
		}
		for _, c := range inv {
			if c.Chip == drives[sataDev].Chip {
				if why, _ := c.Disk["why"].(string); !strings.Contains(why, "CAP_SYS_RAWIO") {
					t.Errorf("probe without CAP_SYS_RAWIO says %q", why)
				}
			}
		}
	})

	t.Run("probe --toml writes the drives' rule", func(t *testing.T) {
		toml := g.get(t, "toml")
		if !strings.Contains(toml, `source = "disk"`) || !strings.Contains(toml, drives[sataDev].Chip) {
			t.Errorf("probe --toml:\n%s", toml)
		}
	})

	t.Run("IPMI: every temperature and fan equals ipmitool sensor, thresholds as limits", func(t *testing.T) {
		checkIPMI(t, g.get(t, "ipmitool"), dry)
		if _, ok := dry[celsius("ipmi", "ipmi-bmc-0", "PSU1 Temp")]; ok {
			t.Error("PSU1 Temp, whose scanning is off, has a reading (want it left out, never 0)")
		}
		for _, k := range []string{"Vcore", "OEM NL Temp", "PS Status"} {
			if _, ok := dry[celsius("ipmi", "ipmi-bmc-0", k)]; ok {
				t.Errorf("%s is reported as a temperature", k)
			}
		}
		if !strings.Contains(g.get(t, "probe"), `"skipped": "OEM NL Temp: non-linear sensor (OEM linearisation 0x70)"`) {
			t.Errorf("probe does not list the non-linear sensor as skipped:\n%s", g.get(t, "probe"))
		}
	})

	t.Run("IPMI: a steady beat sends Get SDR Repository Info and one Get Sensor Reading per sensor", func(t *testing.T) {
		sends := func(section string) (n int, took time.Duration) {
			for _, l := range strings.Split(g.get(t, section), "\n") {
				if !strings.Contains(l, "</dev/ipmi0>") || strings.Contains(l, "resumed>") {
					continue
				}
				if strings.Contains(l, "IPMICTL_SEND_COMMAND") {
					n++
				}
				if m := regexp.MustCompile(`<([0-9.]+)>$`).FindStringSubmatch(l); m != nil {
					d, _ := strconv.ParseFloat(m[1], 64)
					took += time.Duration(d * float64(time.Second))
				}
			}
			return n, took
		}
		first, _ := sends("strace-beat1")
		steady, took := sends("strace-beat2")
		// Inlet, CPU1, DIMM, FAN1, PSU1 (read, and left out as not scanning).
		if steady != 1+5 {
			t.Errorf("steady beat sent %d requests, want 6:\n%s", steady, g.get(t, "strace-beat2"))
		}
		if first <= steady {
			t.Errorf("first beat sent %d requests; it reads the SDR repository", first)
		}
		t.Logf("IPMI: first beat %d requests, steady beat %d requests, %v in the ioctls (%v per request, KCS under TCG)",
			first, steady, took.Round(time.Microsecond), (took / time.Duration(steady)).Round(time.Microsecond))
	})

	t.Run("IPMI: a value changed on the BMC is seen by the next beat", func(t *testing.T) {
		after := series(t, g.get(t, "after-change"))
		checkIPMI(t, g.get(t, "ipmitool-after"), after)
		if v := after[celsius("ipmi", "ipmi-bmc-0", "CPU1 Temp")]; v != 70 {
			t.Errorf("CPU1 Temp after the change = %v, want 70", v)
		}
	})

	t.Run("a drive swapped at the same address is described afresh", func(t *testing.T) {
		// "ls -li": the inode number first, the name before "->".
		inodes := func(section string) map[string]string {
			m := map[string]string{}
			for _, line := range strings.Split(g.get(t, section), "\n") {
				f := strings.Fields(line)
				if i := slices.Index(f, "->"); i > 1 {
					m[f[i-1]] = f[0]
				}
			}
			return m
		}
		before, after := inodes("swap-before"), inodes("swap-after")
		addr := strings.TrimSpace(g.get(t, "swap-addr"))
		if len(before) != len(after) || before[addr] == "" || after[addr] == before[addr] {
			t.Fatalf("no class link made again under the same address (the premise):\n%s\n%s", g.get(t, "swap-before"), g.get(t, "swap-after"))
		}
		swapped := series(t, g.get(t, "swapped"))
		var models []string
		for k := range swapped {
			if strings.HasPrefix(k, "node_thermal_drive_info{") && strings.Contains(k, "transport=sas") {
				models = append(models, k)
			}
		}
		if len(models) != 1 || !strings.Contains(models[0], "NEWDISK") {
			t.Errorf("after the swap at %s: %v, want the one SAS drive as NEWDISK", addr, models)
		}
		if v := swapped[celsius("disk", drives[sasDev].Chip, "temp1")]; v == 0 {
			t.Errorf("the swapped drive is not read: %v", swapped)
		}
	})
}

// checkIPMI compares every temperature and fan ipmitool sensor lists with
// a beat's series: the reading, and the thresholds as limits (upper
// non-critical, critical, non-recoverable as max, crit, emergency; a fan's
// lower critical as its minimum).
func checkIPMI(t *testing.T, ipmitool string, dry map[string]float64) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(ipmitool), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 10 {
			continue
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		name, unit := f[0], f[2]
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue // "na": not read (PSU1, whose scanning is off), or not analog
		}
		num := func(s string) (float64, bool) { x, err := strconv.ParseFloat(s, 64); return x, err == nil }
		switch unit {
		case "degrees C":
			n++
			if got, ok := dry[celsius("ipmi", "ipmi-bmc-0", name)]; !ok || got != v {
				t.Errorf("%s: thermal %v (present %v), ipmitool %v", name, got, ok, v)
			}
			for col, limit := range map[int]string{7: "max", 8: "crit", 9: "emergency"} {
				want, ok := num(f[col])
				key := "node_thermal_limit_celsius{chip=ipmi-bmc-0,limit=" + limit + ",sensor=" + name + ",source=ipmi}"
				if got, have := dry[key]; ok != have || got != want {
					t.Errorf("%s = %v (present %v), ipmitool %s", key, got, have, f[col])
				}
			}
		case "RPM":
			n++
			if got := dry["node_thermal_fan_rpm{chip=ipmi-bmc-0,sensor="+name+",source=ipmi}"]; got != v {
				t.Errorf("%s: thermal %v RPM, ipmitool %v", name, got, v)
			}
			if want, ok := num(f[5]); ok {
				if got := dry["node_thermal_fan_min_rpm{chip=ipmi-bmc-0,sensor="+name+",source=ipmi}"]; got != want {
					t.Errorf("%s minimum: thermal %v, ipmitool's lower critical %v", name, got, want)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("ipmitool listed %d temperatures and fans:\n%s", n, ipmitool)
	}
}
