package disk

import "github.com/thermal-heartbeat/thermal/internal/linecodec"

// drivesKey is the Cache key of the drives' descriptions: what a beat
// learns of a drive from sysfs (its address, block device, chip name,
// INQUIRY strings), kept so that a steady beat lists the class directory
// and reads each drive's power state, not its dozen attributes and links.
const drivesKey = "disk-drives"

// drivesMagic starts encoded descriptions; a change of format changes it.
const drivesMagic = "thermal-disk-drives 1\n"

// encodeDrives encodes drives one per line (linecodec): the class entry's
// inode number, the strings, the flags.
func encodeDrives(drives []Drive) []byte {
	b := make([]byte, 0, len(drivesMagic)+256*len(drives))
	b = append(b, drivesMagic...)
	for i := range drives {
		d := &drives[i]
		l := linecodec.Start(b)
		l.Uint(d.ino)
		for _, f := range [...]string{d.Address, d.Block, d.Chip, d.Bus, d.Device, d.Vendor, d.Model, d.Rev, d.WWID} {
			l.Quoted(f)
		}
		b = l.Bool(d.ATA).Bool(d.SAT).End()
	}
	return b
}

// decodeDrives decodes what encodeDrives wrote, by address. Anything
// malformed is an error: the drives are then described afresh.
func decodeDrives(data []byte) (map[string]Drive, error) {
	return linecodec.Decode(data, drivesMagic, func(line string) (string, Drive, bool) {
		f := linecodec.Read(line)
		d := Drive{ino: f.Uint(64)}
		for _, s := range [...]*string{&d.Address, &d.Block, &d.Chip, &d.Bus, &d.Device, &d.Vendor, &d.Model, &d.Rev, &d.WWID} {
			*s = f.Quoted()
		}
		d.ATA, d.SAT = f.Bool(), f.Bool()
		return d.Address, d, f.OK() && d.Address != ""
	})
}

// identityMagic starts the encoded identity cache; a change of format
// changes it. (The cache was JSON before: such an entry is a miss, and the
// drives are identified once more.)
const identityMagic = "thermal-disk-identity 1\n"

// encodeIdentities encodes the identities one drive per line (linecodec):
// its key, the model, serial, firmware and method, the ATA flag, why, then
// the limits.
func encodeIdentities(known map[string]Identity) []byte {
	b := make([]byte, 0, len(identityMagic)+192*len(known))
	b = append(b, identityMagic...)
	for k, id := range known {
		l := linecodec.Start(b)
		l.Quoted(k).Quoted(id.Model).Quoted(id.Serial).Quoted(id.Firmware).Quoted(id.Method)
		b = l.Bool(id.ATA).Quoted(id.Why).Int(int64(id.Max)).Int(int64(id.Crit)).End()
	}
	return b
}

// decodeIdentities decodes what encodeIdentities wrote; anything malformed
// is an error (the drives are identified again).
func decodeIdentities(data []byte) (map[string]Identity, error) {
	return linecodec.Decode(data, identityMagic, func(line string) (string, Identity, bool) {
		f := linecodec.Read(line)
		k := f.Quoted()
		id := Identity{Model: f.Quoted(), Serial: f.Quoted(), Firmware: f.Quoted(), Method: f.Quoted(), ATA: f.Bool(), Why: f.Quoted()}
		id.Max, id.Crit = int(f.Int(32)), int(f.Int(32))
		return k, id, f.OK()
	})
}
