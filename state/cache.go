package state

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"time"
)

// Cache is what the sources learn between beats (the hwmon inventory, the
// NVMe drives' limits), one file per key in the state directory. An entry
// belongs to one boot and one sysfs tree and is trusted for TTL: after a
// reboot, against another tree, or once it is older, the source learns
// afresh. Stores are held until Flush, so that the textfile is written
// first. It implements thermal.Cache and is safe for concurrent use.
type Cache struct {
	Dir    string
	BootID string // "" disables the cache: nothing is loaded or kept
	Scope  string // the sysfs tree the entries describe
	TTL    time.Duration
	Now    time.Time

	mu      sync.Mutex
	built   map[string]time.Time // when each valid loaded entry was first built
	pending map[string]any
	// Warnings are the entries that could not be read; the beat logs them.
	Warnings []error
}

type cacheFile struct {
	BootID string          `json:"boot_id"`
	Scope  string          `json:"sysfs"`
	Built  time.Time       `json:"built"`
	Data   json.RawMessage `json:"data"`
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key+".json") }

// Load decodes the entry for key into v when it is valid.
func (c *Cache) Load(key string, v any) bool {
	if c == nil || c.BootID == "" {
		return false
	}
	f, err := Load[*cacheFile](c.path(key))
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.Warnings = append(c.Warnings, err)
		return false
	}
	if f == nil || f.BootID != c.BootID || f.Scope != c.Scope || c.Now.Before(f.Built) || c.Now.Sub(f.Built) >= c.TTL {
		return false
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		c.Warnings = append(c.Warnings, errors.Join(ErrCorrupt, err))
		return false
	}
	if c.built == nil {
		c.built = map[string]time.Time{}
	}
	c.built[key] = f.Built
	return true
}

// Store keeps v under key until Flush. An update of a valid entry keeps
// its age: a partial refresh does not extend the TTL.
func (c *Cache) Store(key string, v any) {
	if c == nil || c.BootID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]any{}
	}
	c.pending[key] = v
}

// Flush writes what was stored.
func (c *Cache) Flush() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for key, v := range c.pending {
		data, err := json.Marshal(v)
		if err == nil {
			built, ok := c.built[key]
			if !ok {
				built = c.Now
			}
			err = Save(c.path(key), cacheFile{BootID: c.BootID, Scope: c.Scope, Built: built, Data: data})
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	c.pending = nil
	return errors.Join(errs...)
}
