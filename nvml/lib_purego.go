//go:build (linux || darwin || freebsd) && !nonvml

package nvml

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Built reports whether this binary can load NVML at all.
const Built = true

// LibraryName is the soname NVIDIA's driver installs.
const LibraryName = "libnvidia-ml.so.1"

// fieldValue is nvmlFieldValue_t.
type fieldValue struct {
	FieldID     uint32
	ScopeID     uint32
	Timestamp   int64
	LatencyUsec int64
	ValueType   uint32
	Return      uint32
	Value       [8]byte // nvmlValue_t, a union
}

// violationTime is nvmlViolationTime_t.
type violationTime struct {
	ReferenceTime uint64
	ViolationTime uint64 // ns
}

// Layout checks, as nvml.h lays the structs out on 64-bit and 32-bit ABIs.
var (
	_ [40 - unsafe.Sizeof(fieldValue{})]byte
	_ [unsafe.Sizeof(fieldValue{}) - 40]byte
	_ [16 - unsafe.Sizeof(violationTime{})]byte
	_ [32 - unsafe.Offsetof(fieldValue{}.Value)]byte
	_ [unsafe.Offsetof(fieldValue{}.Value) - 32]byte
)

// dl is libnvidia-ml.so.1, dlopened.
type dl struct {
	init, shutdown         func() uint32
	byBusID                func(busID string, device *uintptr) uint32
	name, uuid             func(device uintptr, buf *byte, length uint32) uint32
	temperature, threshold func(device uintptr, kind uint32, temp *uint32) uint32
	fieldValues            func(device uintptr, count int32, values *fieldValue) uint32
	reasons                func(device uintptr, reasons *uint64) uint32                 // optional
	violation              func(device uintptr, policy uint32, v *violationTime) uint32 // optional
	numFans                func(device uintptr, n *uint32) uint32                       // optional
	fanSpeedV2             func(device uintptr, fan uint32, speed *uint32) uint32       // optional
	fanSpeedV1             func(device uintptr, speed *uint32) uint32                   // optional
	fanSpeedRPM            func(device uintptr, info *fanSpeedInfo) uint32              // optional
	powerUsage             func(device uintptr, mw *uint32) uint32                      // optional
	powerLimit             func(device uintptr, mw *uint32) uint32                      // optional
}

// fanSpeedInfo is nvmlFanSpeedInfo_t (version 1).
type fanSpeedInfo struct {
	Version uint32
	Fan     uint32
	Speed   uint32
}

// fanSpeedInfoV1 is nvmlFanSpeedInfo_v1: the struct's size, version 1.
const fanSpeedInfoV1 = uint32(unsafe.Sizeof(fanSpeedInfo{})) | 1<<24

// load dlopens the library and resolves its functions; a library without a
// required one is not NVML.
func load() (library, error) {
	h, err := purego.Dlopen(LibraryName, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", LibraryName, err)
	}
	l := &dl{}
	for _, f := range []struct {
		fn   any
		name string
	}{
		{&l.init, "nvmlInit_v2"},
		{&l.shutdown, "nvmlShutdown"},
		{&l.byBusID, "nvmlDeviceGetHandleByPciBusId_v2"},
		{&l.name, "nvmlDeviceGetName"},
		{&l.uuid, "nvmlDeviceGetUUID"},
		{&l.temperature, "nvmlDeviceGetTemperature"},
		{&l.threshold, "nvmlDeviceGetTemperatureThreshold"},
	} {
		sym, err := purego.Dlsym(h, f.name)
		if err != nil {
			return nil, fmt.Errorf("%s lacks %s: %w", LibraryName, f.name, err)
		}
		purego.RegisterFunc(f.fn, sym)
	}
	optional := func(fn any, names ...string) {
		for _, n := range names {
			if sym, err := purego.Dlsym(h, n); err == nil {
				purego.RegisterFunc(fn, sym)
				return
			}
		}
	}
	optional(&l.fieldValues, "nvmlDeviceGetFieldValues")
	// Renamed in driver 535; the older name stays for older drivers.
	optional(&l.reasons, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons")
	optional(&l.violation, "nvmlDeviceGetViolationStatus")
	optional(&l.numFans, "nvmlDeviceGetNumFans")
	optional(&l.fanSpeedV2, "nvmlDeviceGetFanSpeed_v2")
	optional(&l.fanSpeedV1, "nvmlDeviceGetFanSpeed")
	optional(&l.fanSpeedRPM, "nvmlDeviceGetFanSpeedRPM")
	optional(&l.powerUsage, "nvmlDeviceGetPowerUsage")
	optional(&l.powerLimit, "nvmlDeviceGetEnforcedPowerLimit")
	return l, nil
}

func ret(r uint32) error {
	if r == 0 {
		return nil
	}
	return Return(r)
}

func (l *dl) Init() error     { return ret(l.init()) }
func (l *dl) Shutdown() error { return ret(l.shutdown()) }

func (l *dl) DeviceByPCIBusID(busID string) (uintptr, error) {
	var d uintptr
	r := l.byBusID(busID, &d)
	return d, ret(r)
}

func (l *dl) str(f func(uintptr, *byte, uint32) uint32, d uintptr) (string, error) {
	buf := make([]byte, 96) // NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE
	r := f(d, &buf[0], uint32(len(buf)))
	runtime.KeepAlive(buf)
	if err := ret(r); err != nil {
		return "", err
	}
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf), nil
}

func (l *dl) Name(d uintptr) (string, error) { return l.str(l.name, d) }
func (l *dl) UUID(d uintptr) (string, error) { return l.str(l.uuid, d) }

func (l *dl) Temperature(d uintptr) (uint32, error) {
	var t uint32
	r := l.temperature(d, 0, &t) // NVML_TEMPERATURE_GPU
	return t, ret(r)
}

func (l *dl) Threshold(d uintptr, kind int) (uint32, error) {
	var t uint32
	r := l.threshold(d, uint32(kind), &t)
	return t, ret(r)
}

func (l *dl) MemoryTemperature(d uintptr) (uint32, error) {
	if l.fieldValues == nil {
		return 0, errMissing
	}
	v := []fieldValue{{FieldID: FieldMemoryTemp}}
	r := l.fieldValues(d, 1, &v[0])
	runtime.KeepAlive(v)
	if err := ret(r); err != nil {
		return 0, err
	}
	if err := ret(v[0].Return); err != nil {
		return 0, err
	}
	u := v[0].Value
	switch v[0].ValueType {
	case 0: // double
		f := math.Float64frombits(le64(u))
		if f < 0 || f > math.MaxUint32 {
			return 0, nil
		}
		return uint32(f), nil
	case 1, 5: // unsigned int, signed int
		return le32(u), nil
	case 6: // unsigned short
		return uint32(u[0]) | uint32(u[1])<<8, nil
	}
	return uint32(le64(u)), nil // unsigned long (long), signed long long
}

func le32(b [8]byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b [8]byte) uint64 {
	return uint64(le32(b)) | uint64(le32([8]byte{b[4], b[5], b[6], b[7]}))<<32
}

func (l *dl) ClockEventReasons(d uintptr) (uint64, error) {
	if l.reasons == nil {
		return 0, errMissing
	}
	var r uint64
	return r, ret(l.reasons(d, &r))
}

func (l *dl) ThermalViolationNanos(d uintptr) (uint64, error) {
	if l.violation == nil {
		return 0, errMissing
	}
	var v violationTime
	r := l.violation(d, PerfPolicyThermal, &v)
	return v.ViolationTime, ret(r)
}

func (l *dl) NumFans(d uintptr) (uint32, error) {
	if l.numFans == nil {
		return 0, errMissing
	}
	var n uint32
	return n, ret(l.numFans(d, &n))
}

func (l *dl) FanSpeed(d uintptr, fan uint32) (uint32, error) {
	var v uint32
	switch {
	case l.fanSpeedV2 != nil:
		return v, ret(l.fanSpeedV2(d, fan, &v))
	case l.fanSpeedV1 != nil && fan == 0:
		return v, ret(l.fanSpeedV1(d, &v))
	}
	return 0, errMissing
}

func (l *dl) FanSpeedRPM(d uintptr, fan uint32) (uint32, error) {
	if l.fanSpeedRPM == nil {
		return 0, errMissing
	}
	info := fanSpeedInfo{Version: fanSpeedInfoV1, Fan: fan}
	r := l.fanSpeedRPM(d, &info)
	return info.Speed, ret(r)
}

func (l *dl) PowerUsage(d uintptr) (uint32, error) {
	if l.powerUsage == nil {
		return 0, errMissing
	}
	var mw uint32
	return mw, ret(l.powerUsage(d, &mw))
}

func (l *dl) EnforcedPowerLimit(d uintptr) (uint32, error) {
	if l.powerLimit == nil {
		return 0, errMissing
	}
	var mw uint32
	return mw, ret(l.powerLimit(d, &mw))
}
