package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 16, 0, 0, 123456789, time.UTC)
	c := &Cache{Dir: dir, BootID: "b0\"ot \n", Scope: "/sys with space", TTL: time.Hour, Now: now}
	c.Store("k", []byte("payload\nwith lines\n"))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Cache
		hit  bool
	}{
		{"same boot and tree", &Cache{Dir: dir, BootID: c.BootID, Scope: c.Scope, TTL: time.Hour, Now: now.Add(time.Minute)}, true},
		{"another boot", &Cache{Dir: dir, BootID: "other", Scope: c.Scope, TTL: time.Hour, Now: now}, false},
		{"another tree", &Cache{Dir: dir, BootID: c.BootID, Scope: "/sys", TTL: time.Hour, Now: now}, false},
		{"expired", &Cache{Dir: dir, BootID: c.BootID, Scope: c.Scope, TTL: time.Hour, Now: now.Add(time.Hour)}, false},
		{"clock went back", &Cache{Dir: dir, BootID: c.BootID, Scope: c.Scope, TTL: time.Hour, Now: now.Add(-time.Second)}, false},
	} {
		data, ok := tc.c.Load("k")
		if ok != tc.hit || ok && string(data) != "payload\nwith lines\n" {
			t.Errorf("%s: Load = %q, %v; want hit %v", tc.name, data, ok, tc.hit)
		}
		if len(tc.c.Warnings) != 0 {
			t.Errorf("%s: warnings %v", tc.name, tc.c.Warnings)
		}
	}
	// An update keeps the entry's age.
	c2 := &Cache{Dir: dir, BootID: c.BootID, Scope: c.Scope, TTL: time.Hour, Now: now.Add(30 * time.Minute)}
	if _, ok := c2.Load("k"); !ok {
		t.Fatal("miss")
	}
	c2.Store("k", []byte("new"))
	if err := c2.Flush(); err != nil {
		t.Fatal(err)
	}
	c3 := &Cache{Dir: dir, BootID: c.BootID, Scope: c.Scope, TTL: time.Hour, Now: now.Add(61 * time.Minute)}
	if _, ok := c3.Load("k"); ok {
		t.Error("an updated entry outlived its first build's TTL")
	}
}

func TestCacheHeaders(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for _, tc := range []struct {
		name, content string
		warn          bool
	}{
		{"an earlier version's JSON header", `{"boot_id":"b","sysfs":"/sys","built":"2026-12-01T16:00:00Z"}` + "\npayload", false},
		{"garbage", "garbage\npayload", true},
		{"no newline", "thermal-cache 2026-12-01T16:00:00Z \"b\" \"/sys\"", true},
		{"empty", "", true},
		{"empty line", "\npayload", true},
		{"bad time", "thermal-cache yesterday \"b\" \"/sys\"\npayload", true},
		{"unquoted", "thermal-cache 2026-12-01T16:00:00Z b /sys\npayload", true},
		{"one field", "thermal-cache 2026-12-01T16:00:00Z \"b\"\npayload", true},
		{"trailing", "thermal-cache 2026-12-01T16:00:00Z \"b\" \"/sys\" x\npayload", true},
	} {
		if err := os.WriteFile(filepath.Join(dir, "k.cache"), []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		c := &Cache{Dir: dir, BootID: "b", Scope: "/sys", TTL: 100 * 365 * 24 * time.Hour, Now: now}
		if data, ok := c.Load("k"); ok {
			t.Errorf("%s: loaded %q", tc.name, data)
		}
		if warned := len(c.Warnings) > 0; warned != tc.warn {
			t.Errorf("%s: warnings %v, want a warning: %v", tc.name, c.Warnings, tc.warn)
		}
	}
	h := cacheHeader{BootID: "b", Scope: "/sys", Built: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)}
	line := string(h.append(nil))
	if line != "thermal-cache 2026-12-01T16:00:00Z \"b\" \"/sys\"\n" {
		t.Errorf("header %q", line)
	}
	if got, ok := parseCacheHeader(strings.TrimSuffix(line, "\n")); !ok || got != h {
		t.Errorf("parse(%q) = %+v, %v", line, got, ok)
	}
}
