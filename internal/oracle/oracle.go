// Package oracle reads the output of the tools the tests hold thermal up
// against: lm-sensors' `sensors -j` and nvme-cli's `nvme smart-log -o json`.
// It is imported by tests only.
package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Chip is one chip of `sensors -j`; a chip name can appear more than once.
type Chip struct {
	Name     string
	Features []Feature
}

// Feature is one feature (channel) of a chip with its subfeature values.
type Feature struct {
	Name string
	Subs map[string]float64 // tempN_input, tempN_max, …
}

// ParseSensorsJSON reads `sensors -j` output with a streaming decoder, so
// that two chips of the same name (several acpitz-acpi-0) both survive.
func ParseSensorsJSON(b []byte) ([]Chip, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	expect := func(want json.Delim) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != want {
			return fmt.Errorf("got %v, want %v", tok, want)
		}
		return nil
	}
	if err := expect('{'); err != nil {
		return nil, err
	}
	var chips []Chip
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		chip := Chip{Name: tok.(string)}
		if err := expect('{'); err != nil {
			return nil, err
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := tok.(string)
			if key == "Adapter" {
				if _, err := dec.Token(); err != nil {
					return nil, err
				}
				continue
			}
			f := Feature{Name: key, Subs: map[string]float64{}}
			if err := dec.Decode(&f.Subs); err != nil {
				return nil, fmt.Errorf("chip %s feature %s: %w", chip.Name, key, err)
			}
			chip.Features = append(chip.Features, f)
		}
		if err := expect('}'); err != nil {
			return nil, err
		}
		chips = append(chips, chip)
	}
	return chips, nil
}
