package stackgrow

import (
	"runtime/debug"
	"testing"
	"unsafe"
)

// moves reports whether a goroutine's stack moved (grew) while it went
// depth frames of about 256 bytes deep, after grow.
func moves(grow func(), depth int) bool {
	moved := make(chan bool)
	go func() {
		grow()
		var x byte
		before := uintptr(unsafe.Pointer(&x))
		deep(depth)
		moved <- uintptr(unsafe.Pointer(&x)) != before
	}()
	return <-moved
}

//go:noinline
func deep(n int) byte {
	var pad [256]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[(n+1)%len(pad)]
}

// TestGrow checks what each function reserves: after Worker a goroutine
// goes 5 KiB deep, after Beat 20 KiB, without its stack moving (so it holds
// at least 8 and 32 KiB), where a fresh one's moves. Whether the beat's
// real work fits is measured, not tested: a growth left in it shows in
// callgrind (runtime.newstack) and perf's probes on runtime.morestack.
func TestGrow(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection shrinks a stack meanwhile
	for _, tc := range []struct {
		name  string
		grow  func()
		depth int // frames of the work after it
	}{
		{"Worker", Worker, 20}, // 5 KiB
		{"Beat", Beat, 80},     // 20 KiB
	} {
		// The work grows a fresh goroutine's stack (the check can see a
		// growth), and none after tc.grow.
		if !moves(func() {}, tc.depth) {
			t.Fatalf("%s: a fresh goroutine %d frames deep kept its stack: the check sees no growth", tc.name, tc.depth)
		}
		if moves(tc.grow, tc.depth) {
			t.Errorf("%s: the stack still grew %d frames deep", tc.name, tc.depth)
		}
	}
}
