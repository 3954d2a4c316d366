package config

import (
	"strconv"
	"testing"

	"github.com/thermal-heartbeat/thermal"
)

// realisticChips are the chips of sysfstest.Realistic(355) as the rules
// see them: two CPU packages of 132 cores, a super-I/O, nine NVMe drives,
// 37 DIMMs, nine SATA drives, a tmp421 and four thermal zones.
func realisticChips() []thermal.Chip {
	temps := func(names ...string) []thermal.Sensor {
		var out []thermal.Sensor
		for i, n := range names {
			out = append(out, thermal.Sensor{Name: n, Attr: "temp" + strconv.Itoa(i+1)})
		}
		return out
	}
	var chips []thermal.Chip
	for s := range 2 {
		names := []string{"Package id " + strconv.Itoa(s)}
		for i := range 132 {
			names = append(names, "Core "+strconv.Itoa(i))
		}
		chips = append(chips, thermal.Chip{Source: "hwmon", Name: "coretemp-isa-000" + strconv.Itoa(s), Sensors: temps(names...)})
	}
	nct := thermal.Chip{Source: "hwmon", Name: "nct6798-isa-0290", Sensors: temps("SYSTIN", "CPUTIN", "AUXTIN0", "AUXTIN1", "AUXTIN2", "PECI Agent 0 Calibration")}
	for i := 1; i <= 3; i++ {
		nct.Sensors = append(nct.Sensors, thermal.Sensor{Kind: thermal.KindFan, Name: "fan" + strconv.Itoa(i)}, thermal.Sensor{Kind: thermal.KindDuty, Name: "fan" + strconv.Itoa(i)})
	}
	chips = append(chips, nct)
	for i := range 9 {
		chips = append(chips, thermal.Chip{Source: "nvme", Name: "nvme-pci-" + strconv.Itoa(1000+i*100), Sensors: temps("Composite", "Sensor 1", "Sensor 2")},
			thermal.Chip{Source: "disk", Name: "drivetemp-scsi-" + strconv.Itoa(i) + "-0", Sensors: temps("temp1")})
	}
	for i := range 37 {
		chips = append(chips, thermal.Chip{Source: "hwmon", Name: "spd5118-i2c-" + strconv.Itoa(i/8) + "-5" + strconv.Itoa(i%8), Sensors: temps("temp1")})
	}
	chips = append(chips, thermal.Chip{Source: "hwmon", Name: "tmp421-i2c-0-4c", Sensors: temps("temp1", "temp2")})
	for i := range 4 {
		chips = append(chips, thermal.Chip{Source: "thermal_zone", Name: "thermal_zone" + strconv.Itoa(i), Sensors: temps("acpitz")})
	}
	return chips
}

// BenchmarkAppendThresholds measures the built-in rules' thresholds for a
// realistic host's 355 sensors: asked of the Config, sensor by sensor, and
// of a Selector, chip by chip, as the pipeline does.
func BenchmarkAppendThresholds(b *testing.B) {
	cfg, chips := Default(), realisticChips()
	buf := make([]Threshold, 0, 2*355)
	hw := Threshold{Level: thermal.Critical, Celsius: 98}
	b.Run("config", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for i := range chips {
				c := &chips[i]
				for j := range c.Sensors {
					buf = cfg.AppendThresholds(buf, c, &c.Sensors[j], c.Sensors[j].Name, Threshold{}, hw)
				}
			}
		}
	})
	b.Run("selector", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			sel := cfg.Selector()
			for i := range chips {
				c := &chips[i]
				sel.Select(c.Source, c.Name)
				for j := range c.Sensors {
					buf = sel.AppendThresholds(buf, &c.Sensors[j], c.Sensors[j].Name, Threshold{}, hw)
				}
			}
		}
	})
}
