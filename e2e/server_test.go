package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The server guest: SATA and SAS drives (and the BMC, see ipmi below).
var (
	serverTools   = []string{"/usr/bin/strace", "/usr/sbin/smartctl", "/usr/bin/sg_logs", "/usr/bin/setpriv"}
	serverModules = []string{"ahci", "sd_mod", "sg", "scsi_debug"}
)

// probeDrive is a drive as probe --json shows it.
type probeDrive struct {
	Source  string `json:"source"`
	Chip    string `json:"chip"`
	Status  string `json:"status"`
	Asleep  bool   `json:"suspended"`
	Sensors []struct {
		Sensor  string   `json:"sensor"`
		Celsius *float64 `json:"celsius"`
		Max     *float64 `json:"max"`
	} `json:"sensors"`
	Disk map[string]any `json:"disk"`
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
	v := vm{script: "server.sh", modules: serverModules, tools: serverTools,
		args: []string{"-append", "console=ttyS0 panic=-1 quiet loglevel=3",
			"-drive", "if=none,id=s1,format=raw,file=" + sata,
			"-device", "ide-hd,drive=s1,bus=ide.0,serial=QM00042"}}
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
}
