package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// LastGoodFile is the name, in the state directory, of the copy of the
// last configuration file that loaded: a beat whose file no longer loads
// goes on with it.
const LastGoodFile = "thermal.last-good.toml"

// LastGood returns the configuration a beat kept in dir, else the
// built-in one. The error says why a kept copy was not usable (the
// built-in configuration is returned then too).
func LastGood(dir string) (*Config, error) {
	path := filepath.Join(dir, LastGoodFile)
	data, err := ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Default(), nil
	}
	if err == nil {
		var c *Config
		if c, err = Parse(path, data); err == nil {
			if err = c.LoadLMSensors(); err == nil {
				return c, nil
			}
		}
	}
	return Default(), err
}

// KeepLastGood copies a configuration file that loaded (data) into dir
// when its hash differs from sum, and returns the hash now kept.
func KeepLastGood(dir string, data []byte, sum string) (string, error) {
	h := sha256.Sum256(data)
	now := hex.EncodeToString(h[:])
	if now == sum {
		return sum, nil
	}
	if err := sysread.WriteAtomic(dir, LastGoodFile, data, 0o600, true); err != nil {
		return sum, err
	}
	return now, nil
}
