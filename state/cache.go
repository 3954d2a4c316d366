package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	pending map[string][]byte
	// Warnings are the entries that could not be read; the beat logs them.
	Warnings []error
}

// cacheHeader is the first line of a cache file; the source's bytes follow.
// The line is "thermal-cache <built, RFC 3339> <boot id> <sysfs tree>",
// the last two quoted: no JSON, whose first use in a beat's fresh process
// costs more than the rest of the cache.
type cacheHeader struct {
	BootID string
	Scope  string
	Built  time.Time
}

const cacheMagic = "thermal-cache "

func (h cacheHeader) append(b []byte) []byte {
	b = append(b, cacheMagic...)
	b = h.Built.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, h.BootID)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, h.Scope)
	return append(b, '\n')
}

// parseCacheHeader reads a header line; ok is false for anything else,
// such as the JSON header of earlier versions (the entry is learnt again).
func parseCacheHeader(line string) (h cacheHeader, ok bool) {
	rest, ok := strings.CutPrefix(line, cacheMagic)
	if !ok {
		return h, false
	}
	built, rest, _ := strings.Cut(rest, " ")
	var err error
	if h.Built, err = time.Parse(time.RFC3339Nano, built); err != nil {
		return h, false
	}
	boot, err := strconv.QuotedPrefix(rest)
	if err != nil || len(rest) == len(boot) || rest[len(boot)] != ' ' {
		return h, false
	}
	h.BootID, _ = strconv.Unquote(boot)
	if h.Scope, err = strconv.Unquote(rest[len(boot)+1:]); err != nil {
		return h, false
	}
	return h, true
}

// MaxCacheFile bounds what a cache file may hold.
const MaxCacheFile = 16 << 20

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key+".cache") }

// Load returns the entry for key when it is valid.
func (c *Cache) Load(key string) ([]byte, bool) {
	if c == nil || c.BootID == "" {
		return nil, false
	}
	b, err := readCapped(c.path(key), MaxCacheFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.Warnings = append(c.Warnings, err)
		return nil, false
	}
	line, data, ok := bytes.Cut(b, []byte("\n"))
	if ok && len(line) > 0 && line[0] == '{' { // an earlier version's header
		return nil, false
	}
	h, parsed := parseCacheHeader(string(line))
	if !ok || !parsed {
		c.Warnings = append(c.Warnings, fmt.Errorf("state: %s: %w: bad header", c.path(key), ErrCorrupt))
		return nil, false
	}
	if h.BootID != c.BootID || h.Scope != c.Scope || c.Now.Before(h.Built) || c.Now.Sub(h.Built) >= c.TTL {
		return nil, false
	}
	if c.built == nil {
		c.built = map[string]time.Time{}
	}
	c.built[key] = h.Built
	return data, true
}

// Store keeps data under key until Flush. An update of a valid entry keeps
// its age: a partial refresh does not extend the TTL.
func (c *Cache) Store(key string, data []byte) {
	if c == nil || c.BootID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string][]byte{}
	}
	c.pending[key] = data
}

// Flush writes what was stored.
func (c *Cache) Flush() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for key, data := range c.pending {
		built, ok := c.built[key]
		if !ok {
			built = c.Now
		}
		h := cacheHeader{BootID: c.BootID, Scope: c.Scope, Built: built}.append(make([]byte, 0, 128+len(data)))
		if err := writeFileAtomic(c.path(key), append(h, data...)); err != nil {
			errs = append(errs, err)
		}
	}
	c.pending = nil
	return errors.Join(errs...)
}
