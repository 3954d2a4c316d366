package oneproc

import "testing"

func TestWanted(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want bool
	}{
		{[]string{"thermal", "beat"}, "", true},
		{[]string{"thermal", "beat", "--dry-run"}, "", true},
		{[]string{"thermal", "beat"}, "4", false},
		{[]string{"thermal", "probe"}, "", false},
		{[]string{"thermal", "version"}, "", false},
		{[]string{"thermal"}, "", false},
		{nil, "", false},
	} {
		if got := wanted(tc.args, tc.env); got != tc.want {
			t.Errorf("wanted(%q, %q) = %v, want %v", tc.args, tc.env, got, tc.want)
		}
	}
}
