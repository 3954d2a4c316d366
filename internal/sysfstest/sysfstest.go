// Package sysfstest builds sysfs trees for tests from a small text format.
//
// Real sysfs trees have ':' in file names (0000:00:18.3, LNXTHERM:00), which
// Go module zips refuse, so fixtures are kept as text and unpacked into a
// temporary directory at test time, with real relative symlinks as the
// kernel makes them. The format, one directive per line:
//
//	# comment
//	cd /devices/platform/coretemp.0      set the current directory (created)
//	d power                              a directory
//	f temp1_input 45000                  a file; the rest of the line is its content, plus "\n"
//	l subsystem -> /bus/platform         a symlink; a target starting with / is taken from
//	                                     the tree's root and written relative, as sysfs does
//	x temp3_input                        an attribute whose read fails (a directory: EISDIR)
//	hwmon hwmon2 /devices/pci0000:00/0000:00:18.3
//	                                     a hwmon class device under that device: creates
//	                                     <dev>/hwmon/hwmon2 with its device and subsystem links and
//	                                     class/hwmon/hwmon2, and cds into it
//	hwmon hwmon5 -                       the same without a device link (a virtual chip)
//
// Paths not starting with / are relative to the current directory.
package sysfstest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Unpack builds the tree described by r under root.
func Unpack(root string, r io.Reader) error {
	cwd := "/"
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(text, " ")
		rest = strings.TrimSpace(rest)
		abs := func(p string) string {
			if strings.HasPrefix(p, "/") {
				return filepath.Clean(p)
			}
			return filepath.Join(cwd, p)
		}
		var err error
		switch verb {
		case "cd":
			cwd = abs(rest)
			err = os.MkdirAll(filepath.Join(root, cwd), 0o755)
		case "d", "x":
			err = os.MkdirAll(filepath.Join(root, abs(rest)), 0o755)
		case "f":
			name, content, _ := strings.Cut(rest, " ")
			err = writeFile(root, abs(name), content+"\n")
		case "l":
			name, target, ok := strings.Cut(rest, " -> ")
			if !ok {
				err = fmt.Errorf("want: l NAME -> TARGET")
				break
			}
			err = symlink(root, abs(strings.TrimSpace(name)), strings.TrimSpace(target))
		case "hwmon":
			name, dev, _ := strings.Cut(rest, " ")
			dev = strings.TrimSpace(dev)
			dir := "/devices/virtual/hwmon/" + name
			if dev != "-" {
				dir = filepath.Join(abs(dev), "hwmon", name)
			}
			cwd = dir
			if err = os.MkdirAll(filepath.Join(root, dir, "power"), 0o755); err != nil {
				break
			}
			if err = symlink(root, "/class/hwmon/"+name, dir); err != nil {
				break
			}
			if err = symlink(root, dir+"/subsystem", "/class/hwmon"); err != nil {
				break
			}
			if dev != "-" {
				err = symlink(root, dir+"/device", abs(dev))
			}
		default:
			err = fmt.Errorf("unknown directive %q", verb)
		}
		if err != nil {
			return fmt.Errorf("line %d: %q: %w", line, text, err)
		}
	}
	return sc.Err()
}

func writeFile(root, p, content string) error {
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(content), 0o444)
}

func symlink(root, p, target string) error {
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	if strings.HasPrefix(target, "/") {
		rel, err := filepath.Rel(filepath.Dir(p), filepath.Clean(target))
		if err != nil {
			return err
		}
		target = rel
	}
	return os.Symlink(target, full)
}

// UnpackFile unpacks the fixture file at path into a new temporary directory
// and returns the directory: the tree's root, to be passed as --sysfs.
func UnpackFile(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	root := tb.TempDir()
	if err := Unpack(root, f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return root
}

// UnpackString is UnpackFile for a fixture given inline.
func UnpackString(tb testing.TB, fixture string) string {
	tb.Helper()
	root := tb.TempDir()
	if err := Unpack(root, strings.NewReader(fixture)); err != nil {
		tb.Fatal(err)
	}
	return root
}

// Generate returns a fixture with n temperature sensors spread over
// platform chips of 16 labelled channels each (with max and crit limits), for
// benchmarks that need trees of a given size.
func Generate(n int) string {
	var b strings.Builder
	b.WriteString("cd /bus/platform\n")
	for chip := 0; chip*16 < n; chip++ {
		dev := fmt.Sprintf("/devices/platform/coretemp.%d", chip)
		fmt.Fprintf(&b, "cd %s\nl subsystem -> /bus/platform\nhwmon hwmon%d %s\nf name coretemp\n", dev, chip, dev)
		for ch := 1; ch <= 16 && chip*16+ch <= n; ch++ {
			fmt.Fprintf(&b, "f temp%d_label Core %d\nf temp%d_input %d\nf temp%d_max 88000\nf temp%d_crit 98000\n",
				ch, ch-1, ch, 40000+ch*250, ch, ch)
		}
	}
	return b.String()
}

// Realistic returns a fixture of a server with n temperature readings
// (n >= 30), for the side-by-side benchmark of a beat and its floor. Ten
// kinds of hwmon chip: coretemp (a package and its cores per socket), a
// Nuvoton nct6798 super-I/O with fans, NVMe drives whose hwmon chips are
// read because there is no device node (the fallback of a run without
// CAP_SYS_ADMIN), DDR5 DIMMs (spd5118) and a tmp421 on the i801 SMBus, SATA
// drives through drivetemp (no node either), a runtime-suspended Radeon
// dGPU (amdgpu: listed, never read), and the hwmon chips of the acpitz,
// pch_cannonlake and iwlwifi zones; four thermal zones with trip points
// (those three and x86_pkg_temp) and four cooling devices. The sensors a
// size adds are cores, DIMMs, NVMe drives (three sensors each) and SATA
// drives, in the proportions of a two-socket server at 355.
func Realistic(n int) string {
	const fixed = 19 // nct6798 6, one NVMe 3, one drive 1, tmp421 2, three zones' chips 3, four zones
	if n < fixed+3 {
		n = fixed + 3
	}
	sockets := 1
	if n >= 100 {
		sockets = 2
	}
	rest := n - fixed - sockets // one package sensor per socket
	nvmes := 1 + rest/40
	drives := 1 + rest/40
	rest -= 3*(nvmes-1) + (drives - 1)
	dimms := max(2, min(rest/8, 64))
	cores := rest - dimms // spread over the sockets

	r := &realistic{}
	r.p("cd /bus/platform\ncd /bus/pci\ncd /bus/i2c\ncd /bus/scsi\ncd /bus/acpi")
	r.p("cd /devices/pci0000:00\nf power/runtime_status unsupported")
	r.coretemp(sockets, cores)
	r.superIO()
	r.nvme(nvmes)
	r.smbus(dimms)
	r.drives(drives)
	r.gpu()
	r.zones()
	return r.b.String()
}

// realistic writes the parts of a Realistic tree, numbering hwmon class
// entries as it goes.
type realistic struct {
	b  strings.Builder
	hw int
}

func (r *realistic) p(format string, args ...any) { fmt.Fprintf(&r.b, format+"\n", args...) }

// next returns the next hwmon class entry's number.
func (r *realistic) next() int { r.hw++; return r.hw - 1 }

// coretemp writes one chip per socket, its package and cores.
func (r *realistic) coretemp(sockets, cores int) {
	for s := 0; s < sockets; s++ {
		dev := fmt.Sprintf("/devices/platform/coretemp.%d", s)
		r.p("cd %s\nl subsystem -> /bus/platform\nhwmon hwmon%d %s\nf name coretemp", dev, r.next(), dev)
		r.p("f temp1_label Package id %d\nf temp1_input %d\nf temp1_max 88000\nf temp1_crit 98000\nf temp1_crit_alarm 0", s, 45000+s*1000)
		c := cores / sockets
		if s < cores%sockets {
			c++
		}
		for i := 0; i < c; i++ {
			r.p("f temp%d_label Core %d\nf temp%d_input %d\nf temp%d_max 88000\nf temp%d_crit 98000\nf temp%d_crit_alarm 0",
				i+2, i, i+2, 40000+(i%17)*500, i+2, i+2, i+2)
		}
	}
}

// superIO writes the super-I/O: six inputs, three fans under PWM control.
func (r *realistic) superIO() {
	r.p("cd /devices/platform/nct6775.656\nl subsystem -> /bus/platform\nhwmon hwmon%d /devices/platform/nct6775.656\nf name nct6798", r.next())
	for i, l := range []string{"SYSTIN", "CPUTIN", "AUXTIN0", "AUXTIN1", "AUXTIN2", "PECI Agent 0 Calibration"} {
		r.p("f temp%d_label %s\nf temp%d_input %d\nf temp%d_max 80000\nf temp%d_max_hyst 75000\nf temp%d_type 4", i+1, l, i+1, 30000+i*1500, i+1, i+1, i+1)
	}
	for i := 1; i <= 3; i++ {
		r.p("f fan%d_input %d\nf fan%d_min 300\nf fan%d_alarm 0\nf pwm%d %d\nf pwm%d_enable 5", i, 900+i*150, i, i, i, 80+i*20, i)
	}
}

// nvme writes NVMe drives in the newer kernel layout; /dev has no nvmeN,
// so their hwmon chips are read.
func (r *realistic) nvme(nvmes int) {
	for i := 0; i < nvmes; i++ {
		bridge := fmt.Sprintf("/devices/pci0000:00/0000:00:1c.%d", i%8)
		fn := fmt.Sprintf("%s/0000:%02x:00.0", bridge, 0x10+i)
		if i < 8 {
			r.p("cd %s\nl subsystem -> /bus/pci\nf power/runtime_status active", bridge)
		}
		r.p("cd %s\nl subsystem -> /bus/pci\nf power/runtime_status active", fn)
		r.p("cd %s/nvme/nvme%d\nl subsystem -> /class/nvme\nl device -> %s\nl /class/nvme/nvme%d -> %s/nvme/nvme%d", fn, i, fn, i, fn, i)
		r.p("f model SAMSUNG MZQL23T8HCLS-00A07\nf serial S64HNE0T5%05d\nf firmware_rev GDC5602Q\nf state live\nf transport pcie\nf address 0000:%02x:00.0", i, 0x10+i)
		r.p("hwmon hwmon%d %s/nvme/nvme%d\nf name nvme", r.next(), fn, i)
		for j, l := range []string{"Composite", "Sensor 1", "Sensor 2"} {
			r.p("f temp%d_label %s\nf temp%d_input %d\nf temp%d_min -273150", j+1, l, j+1, 38850+j*2000, j+1)
			if j == 0 {
				r.p("f temp1_max 81850\nf temp1_crit 84850\nf temp1_alarm 0")
			} else {
				r.p("f temp%d_max 65261850", j+1)
			}
		}
	}
}

// smbus writes the i801 SMBus: DIMMs (eight to a bus) and a tmp421.
func (r *realistic) smbus(dimms int) {
	r.p("cd /devices/pci0000:00/0000:00:1f.4\nl subsystem -> /bus/pci\nf power/runtime_status active")
	for bus := 0; bus*8 < dimms || bus == 0; bus++ {
		adapter := fmt.Sprintf("/devices/pci0000:00/0000:00:1f.4/i2c-%d", bus)
		r.p("cd %s\nf name SMBus I801 adapter at efa0\nf power/runtime_status suspended\nl subsystem -> /bus/i2c", adapter)
		r.p("l device -> /devices/pci0000:00/0000:00:1f.4\nl /class/i2c-adapter/i2c-%d -> %s\nl /bus/i2c/devices/i2c-%d -> %s", bus, adapter, bus, adapter)
		for a := 0; a < 8 && bus*8+a < dimms; a++ {
			client := fmt.Sprintf("%s/%d-%04x", adapter, bus, 0x50+a)
			r.p("cd %s\nf name spd5118\nf power/runtime_status unsupported\nl subsystem -> /bus/i2c\nl /bus/i2c/devices/%d-%04x -> %s", client, bus, 0x50+a, client)
			r.p("hwmon hwmon%d %s\nf name spd5118\nf temp1_input %d\nf temp1_max 55000\nf temp1_min 0\nf temp1_crit 85000\nf temp1_lcrit 0", r.next(), client, 31000+a*250)
		}
	}
	tmp := "/devices/pci0000:00/0000:00:1f.4/i2c-0/0-004c"
	r.p("cd %s\nf name tmp421\nl subsystem -> /bus/i2c\nl /bus/i2c/devices/0-004c -> %s", tmp, tmp)
	r.p("hwmon hwmon%d %s\nf name tmp421\nf temp1_input 40000\nf temp1_fault 0\nf temp2_input 37500\nf temp2_fault 0", r.next(), tmp)
}

// drives writes SATA drives through drivetemp (no /dev/sdX: the disk
// source falls back to these chips).
func (r *realistic) drives(drives int) {
	r.p("cd /devices/pci0000:00/0000:00:17.0\nl subsystem -> /bus/pci\nf power/runtime_status active")
	for i := 0; i < drives; i++ {
		sdev := fmt.Sprintf("/devices/pci0000:00/0000:00:17.0/ata%d/host%d/target%d:0:0/%d:0:0:0", i+1, i, i, i)
		r.p("cd /devices/pci0000:00/0000:00:17.0/ata%d\nf power/runtime_status active", i+1)
		r.p("cd %s\nl subsystem -> /bus/scsi\nf power/runtime_status active\nf vendor ATA\nf model WDC WD40EFRX-68N\nf rev 0A82", sdev)
		r.p("f wwid t10.ATA     WDC WD40EFRX-68N32N0                    WD-WCC7K0A%05d", i)
		r.p("cd %s/scsi_disk/%d:0:0:0\nl device -> %s", sdev, i, sdev)
		r.p("cd %s/block/sd%c\nf dev 8:%d", sdev, 'a'+i%26, 16*i)
		r.p("l /class/scsi_disk/%d:0:0:0 -> %s/scsi_disk/%d:0:0:0", i, sdev, i)
		r.p("hwmon hwmon%d %s\nf name drivetemp\nf temp1_input %d\nf temp1_lowest 21000\nf temp1_highest 44000\nf temp1_min 0\nf temp1_max 60000\nf temp1_lcrit -5000\nf temp1_crit 70000", r.next(), sdev, 33000+i%5*1000)
	}
}

// gpu writes a Radeon dGPU, runtime-suspended: listed, never read.
func (r *realistic) gpu() {
	gpu := "/devices/pci0000:00/0000:00:03.1/0000:0a:00.0"
	r.p("cd /devices/pci0000:00/0000:00:03.1\nl subsystem -> /bus/pci\nf power/runtime_status active")
	r.p("cd %s\nl subsystem -> /bus/pci\nf power/runtime_status suspended\nf power/control auto", gpu)
	r.p("hwmon hwmon%d %s\nf name amdgpu", r.next(), gpu)
	for j, l := range []string{"edge", "junction", "mem"} {
		r.p("f temp%d_label %s\nf temp%d_input 33000\nf temp%d_crit 100000\nf temp%d_emergency 105000", j+1, l, j+1, j+1, j+1)
	}
	r.p("f fan1_input 0\nf fan1_max 3300\nf pwm1 0\nf power1_average 9000000\nf power1_cap 200000000")
}

// zones writes the thermal zones, three with hwmon chips of their own, and
// the cooling devices.
func (r *realistic) zones() {
	r.p("cd /devices/LNXSYSTM:00/LNXSYBUS:01/LNXTHERM:00\nl subsystem -> /bus/acpi")
	r.zone(0, "acpitz", 27800, "f trip_point_0_temp 119000\nf trip_point_0_type critical\nf trip_point_0_hyst 0\nf trip_point_1_temp 90000\nf trip_point_1_type passive", true)
	r.zone(1, "x86_pkg_temp", 45000, "f trip_point_0_temp 0\nf trip_point_0_type passive\nf trip_point_1_temp 0\nf trip_point_1_type passive", false)
	r.zone(2, "iwlwifi_1", 42000, "", true)
	r.zone(3, "pch_cannonlake", 51000, "f trip_point_0_temp 115000\nf trip_point_0_type critical", true)
	for i, typ := range []string{"Processor", "Processor", "intel_powerclamp", "TCC Offset"} {
		dir := fmt.Sprintf("/devices/virtual/thermal/cooling_device%d", i)
		r.p("cd %s\nf type %s\nf cur_state 0\nf max_state %d\nl /class/thermal/cooling_device%d -> %s", dir, typ, 3+i, i, dir)
	}
}

// zone writes thermal zone z with its trip points, and its hwmon chip.
func (r *realistic) zone(z int, typ string, temp int, trips string, chip bool) {
	dir := fmt.Sprintf("/devices/virtual/thermal/thermal_zone%d", z)
	r.p("cd %s\nl subsystem -> /class/thermal\nl /class/thermal/thermal_zone%d -> %s\nf type %s\nf temp %d\nf policy step_wise\nf mode enabled", dir, z, dir, typ, temp)
	if trips != "" {
		r.p("%s", trips)
	}
	if chip {
		r.p("hwmon hwmon%d %s\nf name %s\nf temp1_input %d", r.next(), dir, typ, temp)
	}
}
