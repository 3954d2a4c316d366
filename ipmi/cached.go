package ipmi

import (
	"maps"
	"slices"

	"github.com/thermal-heartbeat/thermal/internal/linecodec"
)

// sdrMagic starts the encoded repositories; a change of format changes it.
// (The cache was JSON before: such an entry is a miss, and the
// repositories are read once more.)
const sdrMagic = "thermal-ipmi-sdr 1\n"

// encodeRepositories encodes the repositories one per line (linecodec): the
// chip, the repository's fingerprint and record count, its skipped
// records (their number, then each), its sensors (their number, then each
// one's fields in the order of Record, thresholds last).
func encodeRepositories(m map[string]Repository) []byte {
	b := []byte(sdrMagic)
	for _, chip := range slices.Sorted(maps.Keys(m)) {
		r := m[chip]
		l := linecodec.Start(b)
		l.Quoted(chip).Quoted(r.Key).Uint(uint64(r.Records)).Uint(uint64(len(r.Skipped)))
		for _, s := range r.Skipped {
			l.Quoted(s)
		}
		l.Uint(uint64(len(r.Sensors)))
		for i := range r.Sensors {
			s := &r.Sensors[i]
			l.Uint(uint64(s.ID)).Uint(uint64(s.Type)).Uint(uint64(s.Owner)).Uint(uint64(s.LUN)).Uint(uint64(s.Number))
			l.Bool(s.Threshold).Uint(uint64(s.Unit)).Quoted(s.Name).Uint(uint64(s.Format)).Uint(uint64(s.Linear))
			l.Int(int64(s.M)).Int(int64(s.B)).Int(int64(s.BExp)).Int(int64(s.RExp)).Uint(uint64(s.ReadableThresholds)).Uint(uint64(s.Have))
			for _, t := range s.Thresholds {
				l.Uint(uint64(t))
			}
		}
		b = l.End()
	}
	return b
}

// decodeRepositories decodes what encodeRepositories wrote; anything
// malformed is an error (the repositories are read again). No count may
// pass what ReadRepository keeps (maxRecords), and a line stops being read
// at its first bad field.
func decodeRepositories(data []byte) (map[string]Repository, error) {
	return linecodec.Decode(data, sdrMagic, func(line string) (string, Repository, bool) {
		f := linecodec.Read(line)
		chip := f.Quoted()
		r := Repository{Key: f.Quoted(), Records: int(f.Uint(16))}
		n := f.Uint(16)
		if r.Records > maxRecords || n > maxRecords {
			return chip, r, false
		}
		for i := uint64(0); i < n && !f.Failed(); i++ {
			r.Skipped = append(r.Skipped, f.Quoted())
		}
		if n = f.Uint(16); n > maxRecords {
			return chip, r, false
		}
		r.Sensors = make([]Record, 0, n)
		for i := uint64(0); i < n && !f.Failed(); i++ {
			s := Record{ID: uint16(f.Uint(16)), Type: uint8(f.Uint(8)), Owner: uint8(f.Uint(8)), LUN: uint8(f.Uint(8)), Number: uint8(f.Uint(8)),
				Threshold: f.Bool(), Unit: uint8(f.Uint(8)), Name: f.Quoted(), Format: uint8(f.Uint(8)), Linear: uint8(f.Uint(8)),
				M: int16(f.Int(16)), B: int16(f.Int(16)), BExp: int8(f.Int(8)), RExp: int8(f.Int(8)), ReadableThresholds: uint8(f.Uint(8)), Have: uint8(f.Uint(8))}
			for k := range s.Thresholds {
				s.Thresholds[k] = uint8(f.Uint(8))
			}
			r.Sensors = append(r.Sensors, s)
		}
		return chip, r, f.OK() && chip != ""
	})
}
