package nvml

import (
	"github.com/thermal-heartbeat/thermal/internal/linecodec"
)

// gpusKey is the Cache key of the GPU discovery: the fingerprint of the PCI
// functions' listing and the NVIDIA GPUs found in it.
const gpusKey = "nvml-gpus"

// gpusMagic starts an encoded discovery; a change of format changes it.
const gpusMagic = "thermal-nvml-gpus 1\n"

// encodeGPUs encodes the discovery (linecodec): a line with the
// /sys/bus/pci/devices listing's fingerprint, then one line per GPU: its bus ID, device
// directory, chip name and bus.
func encodeGPUs(gpus []gpu, fp uint64) []byte {
	b := append(make([]byte, 0, len(gpusMagic)+32+160*len(gpus)), gpusMagic...)
	l := linecodec.Start(b)
	b = l.Quoted("").Uint(fp).End()
	for _, g := range gpus {
		l := linecodec.Start(b)
		b = l.Quoted(g.busID).Quoted(g.dir).Quoted(g.chip).Quoted(g.bus).End()
	}
	return b
}

// decodeGPUs decodes what encodeGPUs wrote, in order; ok is false for
// anything malformed or another fingerprint.
func decodeGPUs(data []byte, fp uint64) (gpus []gpu, ok bool) {
	var got uint64
	var order []string
	m, err := linecodec.Decode(data, gpusMagic, func(line string) (string, gpu, bool) {
		f := linecodec.Read(line)
		g := gpu{busID: f.Quoted()}
		if g.busID == "" { // the fingerprint's line
			got = f.Uint(64)
			return "", g, f.OK()
		}
		g.dir, g.chip, g.bus = f.Quoted(), f.Quoted(), f.Quoted()
		order = append(order, g.busID)
		return g.busID, g, f.OK() && g.dir != ""
	})
	if err != nil || got != fp {
		return nil, false
	}
	for _, id := range order {
		gpus = append(gpus, m[id])
	}
	return gpus, true
}
