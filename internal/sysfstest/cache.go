package sysfstest

// MemCache is a thermal.Cache in memory, for a source's tests: what a beat
// stores, the next one loads, with no boot, tree or age to match.
type MemCache map[string][]byte

// Load returns the entry stored under k.
func (m MemCache) Load(k string) ([]byte, bool) { b, ok := m[k]; return b, ok }

// Store keeps b under k.
func (m MemCache) Store(k string, b []byte) { m[k] = b }
