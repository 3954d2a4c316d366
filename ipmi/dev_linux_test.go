//go:build linux

package ipmi

import (
	"errors"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The OpenIPMI structures and ioctl numbers as the kernel's headers give
// them on 64-bit architectures.
func TestOpenIPMILayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("64-bit layout")
	}
	if a, b := unsafe.Sizeof(ipmiReq{}), unsafe.Sizeof(ipmiRecv{}); a != 40 || b != 48 {
		t.Errorf("sizeof(ipmi_req) = %d, sizeof(ipmi_recv) = %d; want 40, 48", a, b)
	}
	if ioctlSendCommand != 0x8028690D || ioctlReceiveMsgTrunc != 0xC030690B {
		t.Errorf("IPMICTL_SEND_COMMAND %#x, IPMICTL_RECEIVE_MSG_TRUNC %#x", ioctlSendCommand, ioctlReceiveMsgTrunc)
	}
}

// kernelQueue plays the kernel's message queue: what each receive finds.
type kernelQueue struct {
	sent    []int // message ids sent
	answers func(msgid int) []ipmiAnswer
	queue   []ipmiAnswer
}

type ipmiAnswer struct {
	recvType int32
	msgid    int // relative: 0 is the request's own id, -1 the one before
	data     []byte
}

func (k *kernelQueue) device() *Device {
	d := &Device{path: "/dev/ipmi0", timeout: 100 * time.Millisecond}
	d.ioctl = func(req uintptr, arg unsafe.Pointer) syscall.Errno {
		switch req {
		case ioctlSendCommand:
			r := (*ipmiReq)(arg)
			k.sent = append(k.sent, r.msgid)
			k.queue = append(k.queue, k.answers(r.msgid)...)
			for i := range k.queue {
				k.queue[i].msgid += r.msgid
			}
		case ioctlReceiveMsgTrunc:
			if len(k.queue) == 0 {
				return syscall.EAGAIN
			}
			a := k.queue[0]
			k.queue = k.queue[1:]
			r := (*ipmiRecv)(arg)
			r.recvType, r.msgid = a.recvType, a.msgid
			// The receive buffer is the device's own (r.msg.data points
			// into d.buf).
			r.msg.dataLen = uint16(copy(d.buf[:r.msg.dataLen], a.data))
		}
		return 0
	}
	d.poll = func(time.Duration) (bool, error) { return len(k.queue) > 0, nil }
	return d
}

// An event and a late answer to an earlier request come first: both are
// drained, and the request's own answer is returned.
func TestSendMatchesMessageIDs(t *testing.T) {
	k := &kernelQueue{answers: func(int) []ipmiAnswer {
		return []ipmiAnswer{{recvType: 3, msgid: 0, data: []byte{0}}, {recvType: responseRecvType, msgid: -1, data: []byte{0, 0xEE}},
			{recvType: responseRecvType, msgid: 0, data: []byte{0, 42, 0xC0}}}
	}}
	d := k.device()
	for i := 0; i < 3; i++ {
		b, err := d.Send(Message{NetFn: netFnSensor, Cmd: cmdGetSensorReading, Data: []byte{1}})
		if err != nil || len(b) != 2 || b[0] != 42 {
			t.Fatalf("Send = % x, %v", b, err)
		}
	}
	if len(k.sent) != 3 || k.sent[0] == k.sent[1] {
		t.Errorf("message ids %v: each request needs its own", k.sent)
	}
	// A completion code is an error that names it.
	k.answers = func(int) []ipmiAnswer { return []ipmiAnswer{{recvType: responseRecvType, data: []byte{0xCB}}} }
	var ce *CompletionError
	if _, err := d.Send(Message{NetFn: netFnSensor, Cmd: cmdGetSensorReading}); !errors.As(err, &ce) || ce.Code != 0xCB {
		t.Errorf("completion code: %v", err)
	}
	// No answer: a timeout, not a hang; its late answer is drained by the
	// next request.
	k.answers = func(int) []ipmiAnswer { return nil }
	var ie *Error
	if _, err := d.Send(Message{NetFn: netFnSensor, Cmd: cmdGetSensorReading}); !errors.As(err, &ie) || !ie.Timeout {
		t.Errorf("no answer: %v", err)
	}
}
