package thermal

import (
	"reflect"
	"testing"
)

// A yielded chip's facts and series come first, in slices of their own;
// none at all stay nil.
func TestMergeYielded(t *testing.T) {
	c := Chip{Attrs: Attrs{{Key: "read_via", Value: "hwmon"}}, Series: []Series{{Name: "b"}}}
	y := Chip{Attrs: Attrs{{Key: "model", Value: "X"}, {Key: "serial", Value: "1"}}, Series: []Series{{Name: "a"}}}
	own := c.Attrs
	MergeYielded(&c, y)
	if want := (Attrs{{Key: "model", Value: "X"}, {Key: "serial", Value: "1"}, {Key: "read_via", Value: "hwmon"}}); !reflect.DeepEqual(c.Attrs, want) {
		t.Errorf("attrs %v, want %v", c.Attrs, want)
	}
	if len(c.Series) != 2 || c.Series[0].Name != "a" || c.Series[1].Name != "b" {
		t.Errorf("series %v, want a then b", c.Series)
	}
	c.Attrs[0].Value, c.Attrs[2].Value = "changed", "changed"
	if y.Attrs[0].Value != "X" || own[0].Value != "hwmon" {
		t.Error("the merged attrs share an array with the chips'")
	}
	var empty Chip
	MergeYielded(&empty, Chip{Attrs: Attrs{}, Series: []Series{}})
	if empty.Attrs != nil || empty.Series != nil {
		t.Errorf("nothing to merge: attrs %#v, series %#v; want nil", empty.Attrs, empty.Series)
	}
}
