package cpu

import (
	"strconv"

	"github.com/thermal-heartbeat/thermal/internal/linecodec"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
)

// topologyKey is the Cache key of the CPUs found: which have the counters,
// and their packages and cores.
const topologyKey = "cpu-topology"

// topologyMagic starts an encoded topology; a change of format changes it.
const topologyMagic = "thermal-cpu-topology 1\n"

// encodeTopology encodes the CPUs (linecodec): a first line with the
// listing's fingerprint and the online CPUs, then a line per CPU: its
// number, package and core (signed: a kernel may give -1).
func encodeTopology(cpus []logical, fp uint64, online string) []byte {
	b := append(make([]byte, 0, len(topologyMagic)+64+24*len(cpus)), topologyMagic...)
	l := linecodec.Start(b)
	b = l.Uint(fp).Quoted(online).End()
	for _, c := range cpus {
		l := linecodec.Start(b)
		b = l.Uint(uint64(c.n)).Int(int64(c.pkg)).Int(int64(c.core)).End()
	}
	return b
}

// decodeTopology decodes what encodeTopology wrote for the same
// fingerprint and online CPUs, with each CPU's directory under dir; ok is
// false for anything else.
func decodeTopology(data []byte, fp uint64, online, dir string) (cpus []logical, ok bool) {
	first := true
	_, err := linecodec.Decode(data, topologyMagic, func(line string) (string, struct{}, bool) {
		f := linecodec.Read(line)
		if first {
			first = false
			return "", struct{}{}, f.Uint(64) == fp && f.Quoted() == online && f.OK()
		}
		c := logical{n: int(f.Uint(31)), pkg: int(f.Int(32)), core: int(f.Int(32))}
		c.dir = sysdev.Join(dir, "cpu"+strconv.Itoa(c.n))
		cpus = append(cpus, c)
		return c.dir, struct{}{}, f.OK() && (len(cpus) < 2 || cpus[len(cpus)-2].n < c.n)
	})
	return cpus, err == nil && !first
}
