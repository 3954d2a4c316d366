package pipeline

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/thermal-heartbeat/thermal"
)

// sortChips orders chips as sort.SliceStable by source, then name, did:
// equals keep their order.
func TestSortChipsIsSliceStable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		chips := make([]thermal.Chip, r.IntN(80))
		for i := range chips {
			chips[i] = thermal.Chip{Source: []string{"hwmon", "nvme", "zones"}[r.IntN(3)],
				Name: strconv.Itoa(r.IntN(10)), Path: strconv.Itoa(i)}
		}
		want := slices.Clone(chips)
		sort.SliceStable(want, func(i, j int) bool {
			if want[i].Source != want[j].Source {
				return want[i].Source < want[j].Source
			}
			return want[i].Name < want[j].Name
		})
		sortChips(chips)
		if !reflect.DeepEqual(chips, want) {
			t.Fatalf("sortChips:\n%v\nwant\n%v", chips, want)
		}
	}
}
