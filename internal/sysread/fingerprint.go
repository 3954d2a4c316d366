package sysread

// DirEntry is a directory entry: its name and the inode number the
// listing gives (0 where the filesystem gives none).
type DirEntry struct {
	Name string
	Ino  uint64
}

// Fingerprint sums a hash of each entry's name and inode number, in any
// order: a listing with an entry added, removed, renamed or made again
// (another inode) gives another sum. It is 0 when an entry has no inode
// number, which a caller takes as "cannot tell". Each entry's FNV-1a name
// hash is mixed with its inode number.
func Fingerprint(entries []DirEntry) uint64 {
	var sum uint64
	for _, e := range entries {
		if e.Ino == 0 {
			return 0
		}
		h := uint64(14695981039346656037)
		for i := 0; i < len(e.Name); i++ {
			h = (h ^ uint64(e.Name[i])) * 1099511628211
		}
		x := h ^ e.Ino*0x9e3779b97f4a7c15
		x ^= x >> 31 // mixed, so that a sum of two cannot stand for another pair
		sum += x * 0xbf58476d1ce4e5b9
	}
	if sum == 0 {
		sum = 1 // a listing, not "cannot tell"
	}
	return sum
}
