package sysdev

import (
	"path/filepath"
	"strings"
)

// Paths under sysfs are long (a hwmon chip's device is a dozen elements
// deep) and every source builds several per device and beat: Join, Resolve
// and the walk up in Asleep concatenate and cut clean paths instead of
// cleaning them (filepath.Clean copies and rescans every byte). They give
// exactly what filepath.Join and filepath.Dir give, and fall back to them
// for anything that needs cleaning.

// Join joins dir and the relative path name as filepath.Join does: by
// concatenation when both are clean (as paths built by this package, the
// sources' roots and sysfs entry names are), each leading ".." of name (a
// sysfs link's) cutting an element off dir; anything else goes through
// filepath.Join.
func Join(dir, name string) string {
	if !isClean(dir) {
		return filepath.Join(dir, name)
	}
	for {
		rest, up := cutParent(name)
		if !up {
			break
		}
		i := strings.LastIndexByte(dir, '/')
		if i <= 0 {
			return filepath.Join(dir, name) // up to the root, or past a relative dir's start
		}
		dir, name = dir[:i], rest
	}
	switch {
	case name == "":
		return dir
	case !isCleanRel(name):
		return filepath.Join(dir, name)
	case dir == "/":
		return dir + name
	}
	return dir + "/" + name
}

// cutParent returns name without its leading "..", and whether it had one.
func cutParent(name string) (rest string, ok bool) {
	if name == ".." {
		return "", true
	}
	return strings.CutPrefix(name, "../")
}

// isClean reports whether filepath.Clean(p) == p, conservatively: a path
// with an element starting with a dot is taken as not clean (Clean then
// decides), so that "." and ".." need no parsing.
func isClean(p string) bool {
	switch {
	case p == "/":
		return true
	case p == "" || p[len(p)-1] == '/' || p[0] == '.':
		return false
	}
	return !strings.Contains(p, "//") && !strings.Contains(p, "/.")
}

// isCleanRel reports whether p is a clean relative path (isClean, and not
// rooted).
func isCleanRel(p string) bool { return p != "" && p[0] != '/' && isClean(p) }

// clean is filepath.Clean, without its cost for a path that is clean.
func clean(p string) string {
	if isClean(p) {
		return p
	}
	return filepath.Clean(p)
}

// parent returns filepath.Dir of the clean path p.
func parent(p string) string {
	switch i := strings.LastIndexByte(p, '/'); i {
	case -1:
		return "."
	case 0:
		return "/"
	default:
		return p[:i]
	}
}

// Resolve returns the path a relative symlink target names from dir. sysfs
// links are relative and point into /sys/devices, whose directories are not
// links, so this is exact without asking the kernel. It is Join(dir,
// target), and the cleaned target when that is absolute.
func Resolve(dir, target string) string {
	if filepath.IsAbs(target) {
		return clean(target)
	}
	return Join(dir, target)
}
