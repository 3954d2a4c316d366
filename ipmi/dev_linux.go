//go:build linux

package ipmi

import (
	"fmt"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OpenIPMI's interface (include/uapi/linux/ipmi.h).
type ipmiMsg struct {
	netfn, cmd uint8
	dataLen    uint16
	data       uintptr
}

type ipmiReq struct {
	addr    uintptr
	addrLen uint32
	msgid   int // long
	msg     ipmiMsg
}

type ipmiRecv struct {
	recvType int32
	addr     uintptr
	addrLen  uint32
	msgid    int // long
	msg      ipmiMsg
}

// systemInterfaceAddr is struct ipmi_system_interface_addr: the BMC
// itself (channel IPMI_BMC_CHANNEL).
type systemInterfaceAddr struct {
	addrType int32
	channel  int16
	lun      uint8
	_        uint8
}

const (
	systemInterfaceAddrType = 0x0c
	bmcChannel              = 0x0f
	responseRecvType        = 1
)

func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'i'<<8 | nr }

var (
	ioctlSendCommand     = ioc(2, 13, unsafe.Sizeof(ipmiReq{}))  // _IOR('i', 13, struct ipmi_req)
	ioctlReceiveMsgTrunc = ioc(3, 11, unsafe.Sizeof(ipmiRecv{})) // _IOWR('i', 11, struct ipmi_recv)
)

// CommandTimeout bounds one request: KCS BMCs answer in milliseconds to
// tens of them; the kernel's own retries take seconds.
const CommandTimeout = time.Second

// Device is an open /dev/ipmiN.
type Device struct {
	fd      int
	path    string
	msgid   int
	buf     [1024]byte
	addr    [32]byte
	out     [272]byte // a request's data (IPMI messages are shorter)
	sysAddr systemInterfaceAddr
	// The kernel's side, a seam for the tests: ioctl, and poll for an
	// answer (false when none came within the timeout).
	ioctl   func(req uintptr, arg unsafe.Pointer) syscall.Errno
	poll    func(timeout time.Duration) (bool, error)
	timeout time.Duration // CommandTimeout when 0
}

// Open opens the BMC's node read-only: the ioctls need no write access.
func Open(path string) (*Device, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Errno: err.(syscall.Errno)}
	}
	d := &Device{fd: fd, path: path}
	d.ioctl = func(req uintptr, arg unsafe.Pointer) syscall.Errno {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), req, uintptr(arg))
		return errno
	}
	d.poll = func(timeout time.Duration) (bool, error) {
		for {
			fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, int(timeout.Milliseconds())+1)
			if err == unix.EINTR {
				continue
			}
			return n > 0, err
		}
	}
	return d, nil
}

// Close closes the node.
func (d *Device) Close() error { return unix.Close(d.fd) }

// Send sends m and waits up to CommandTimeout for its answer, dropping
// answers to earlier requests that came too late.
func (d *Device) Send(m Message) ([]byte, error) {
	d.msgid++
	// The address and the data live in the Device (the heap): the kernel
	// reads them through integers in req, which a moving stack would not
	// update.
	d.sysAddr = systemInterfaceAddr{addrType: systemInterfaceAddrType, channel: bmcChannel, lun: m.LUN}
	n := copy(d.out[:], m.Data)
	req := ipmiReq{addr: uintptr(unsafe.Pointer(&d.sysAddr)), addrLen: uint32(unsafe.Sizeof(d.sysAddr)), msgid: d.msgid,
		msg: ipmiMsg{netfn: m.NetFn, cmd: m.Cmd, dataLen: uint16(n), data: uintptr(unsafe.Pointer(&d.out[0]))}}
	errno := d.ioctl(ioctlSendCommand, unsafe.Pointer(&req))
	runtime.KeepAlive(d)
	if errno != 0 {
		return nil, &Error{Op: "send", Path: d.path, Errno: errno}
	}
	timeout := d.timeout
	if timeout == 0 {
		timeout = CommandTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, &Error{Op: "receive", Path: d.path, Timeout: true}
		}
		ready, err := d.poll(left)
		if err != nil {
			errno, _ := err.(syscall.Errno)
			return nil, &Error{Op: "poll", Path: d.path, Errno: errno}
		}
		if !ready {
			continue
		}
		recv := ipmiRecv{addr: uintptr(unsafe.Pointer(&d.addr[0])), addrLen: uint32(len(d.addr)),
			msg: ipmiMsg{dataLen: uint16(len(d.buf)), data: uintptr(unsafe.Pointer(&d.buf[0]))}}
		errno := d.ioctl(ioctlReceiveMsgTrunc, unsafe.Pointer(&recv))
		runtime.KeepAlive(d)
		if errno == unix.EAGAIN {
			continue
		}
		if errno != 0 && errno != unix.EMSGSIZE {
			return nil, &Error{Op: "receive", Path: d.path, Errno: errno}
		}
		if recv.recvType != responseRecvType || recv.msgid != d.msgid {
			continue // an event, or the late answer to a request given up on
		}
		data := d.buf[:recv.msg.dataLen]
		if len(data) == 0 {
			return nil, fmt.Errorf("ipmi: %s: empty answer", d.path)
		}
		if data[0] != 0 {
			return nil, &CompletionError{Cmd: fmt.Sprintf("netfn %#02x cmd %#02x", m.NetFn, m.Cmd), Code: data[0]}
		}
		return append([]byte(nil), data[1:]...), nil
	}
}

var _ Transport = (*Device)(nil)
