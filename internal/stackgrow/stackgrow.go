// Package stackgrow grows a goroutine's stack to what its work will need,
// in one step, while the goroutine is still shallow.
//
// A goroutine starts with a 2 KiB stack that doubles whenever a call finds
// it too small. Each doubling copies the stack and adjusts every frame on
// it, decoding each function's tables on the way: in the middle of a beat,
// with a dozen frames on the stack, one growth costs about 16,000
// instructions, and a steady beat of 35 sensors grew 19 times, 12% of its
// instructions. Called first thing, a function whose frame is as large as
// the work's deepest stack makes the runtime allocate that stack at once,
// with one or two frames to copy; the frame is never written, so its
// pages are touched only as deep as the work then goes.
package stackgrow

// never is false: the frames below are reserved, not written (Go zeroes a
// local where it is declared).
var never bool

// Beat grows the calling goroutine's stack for a whole beat (32 KiB:
// configuration, state and exposition on the beat's goroutine).
//
//go:noinline
func Beat() {
	if never {
		var b [24 << 10]byte
		sinkBeat(&b)
	}
}

// Worker grows the calling goroutine's stack for a source or a reader of
// devices (8 KiB: a source's listing and a device's reads).
//
//go:noinline
func Worker() {
	if never {
		var b [6 << 10]byte
		sinkWorker(&b)
	}
}

//go:noinline
func sinkBeat(*[24 << 10]byte) {}

//go:noinline
func sinkWorker(*[6 << 10]byte) {}
