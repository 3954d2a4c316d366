//go:build !(linux || darwin || freebsd) || nonvml

package nvml

import "errors"

// Built reports whether this binary can load NVML at all.
const Built = false

// LibraryName is the soname NVIDIA's driver installs.
const LibraryName = "libnvidia-ml.so.1"

func load() (library, error) {
	return nil, errors.New("this build of thermal has no NVML support (built with the nonvml tag: static, for musl hosts)")
}
