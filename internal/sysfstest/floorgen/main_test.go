package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// traced returns a tree with one chip and the strace output of a thread
// that reads it as a beat does, with opens the floor leaves out.
func traced(t *testing.T) (root, trace string) {
	t.Helper()
	root = t.TempDir()
	chip := filepath.Join(root, "class", "hwmon", "hwmon0")
	if err := os.MkdirAll(chip, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"name": "lm75\n", "temp1_input": "41000\n"} {
		if err := os.WriteFile(filepath.Join(chip, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	class := filepath.Dir(chip)
	trace = strings.NewReplacer("CLASS", class, "CHIP", chip).Replace(`openat(AT_FDCWD</>, "/etc/localtime", O_RDONLY) = 3</usr/share/zoneinfo/Etc/UTC>
openat(AT_FDCWD</>, "CLASS", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 3<CLASS>
getdents64(3<CLASS>, 0x7f0 /* 3 entries */, 8192) = 80
getdents64(3<CLASS>, 0x7f0 /* 0 entries */, 8192) = 0
openat(AT_FDCWD</>, "CHIP", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 4<CHIP>
openat(4<CHIP>, "temp1_input", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 5<CHIP/temp1_input>
openat(4<CHIP>, "temp1_max", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = -1 ENOENT (No such file or directory)
openat(AT_FDCWD</>, "CHIP/name", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 5<CHIP/name>
`)
	return root, trace
}

func TestThread(t *testing.T) {
	root, trace := traced(t)
	class := filepath.Join(root, "class", "hwmon")
	chip := filepath.Join(class, "hwmon0")
	got := thread(strings.NewReader(trace), root)
	want := []op{
		{'d', 3, class},
		{'l', 3, ""},
		{'d', 4, chip},
		{'r', 4, "temp1_input"},
		{'a', 0, filepath.Join(chip, "name")},
	}
	// The directories still open at the end are closed, in no set order.
	if len(got) != len(want)+2 || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("ops:\n%v\nwant\n%v and two closes", got, want)
	}
	closes := []int{got[len(want)].slot, got[len(want)+1].slot}
	slices.Sort(closes)
	if got[len(want)].verb != 'c' || got[len(want)+1].verb != 'c' || !slices.Equal(closes, []int{3, 4}) {
		t.Errorf("closes: %v", got[len(want):])
	}
}

// TestFloor builds the floor program of a trace, in C and in Go, and runs
// it: it reads the tree and exits 0, and exits 1 once a file it must read
// is gone.
func TestFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	for _, tc := range []struct {
		name  string
		lang  lang
		build func(t *testing.T, src []byte, bin string) *exec.Cmd
	}{
		{"C", cLang, func(t *testing.T, src []byte, bin string) *exec.Cmd {
			if _, err := exec.LookPath("gcc"); err != nil {
				t.Skip("no gcc")
			}
			file := filepath.Join(t.TempDir(), "floor.c")
			if err := os.WriteFile(file, src, 0o644); err != nil {
				t.Fatal(err)
			}
			return exec.Command("gcc", "-O2", "-o", bin, file)
		}},
		{"Go", goLang, func(t *testing.T, src []byte, bin string) *exec.Cmd {
			if _, err := exec.LookPath("go"); err != nil {
				t.Skip("no go command")
			}
			mod := t.TempDir()
			for name, data := range map[string][]byte{"main.go": src, "go.mod": []byte("module gofloor\n\ngo 1.22\n")} {
				if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("go", "build", "-o", bin, ".")
			cmd.Dir = mod
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
			return cmd
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, trace := traced(t)
			var src bytes.Buffer
			write(&src, thread(strings.NewReader(trace), root), tc.lang)
			bin := filepath.Join(t.TempDir(), "floor")
			if out, err := tc.build(t, src.Bytes(), bin).CombinedOutput(); err != nil {
				t.Fatalf("build: %v\n%s\n%s", err, out, src.Bytes())
			}
			if out, err := exec.Command(bin).CombinedOutput(); err != nil {
				t.Fatalf("the floor program failed: %v\n%s", err, out)
			}
			if err := os.Remove(filepath.Join(root, "class", "hwmon", "hwmon0", "temp1_input")); err != nil {
				t.Fatal(err)
			}
			err := exec.Command(bin).Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("with a file gone: %v, want exit status 1", err)
			}
		})
	}
}
