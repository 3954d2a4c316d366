package nvml

import (
	"errors"
	"fmt"
)

// Return is an nvmlReturn_t.
type Return uint32

// The nvmlReturn_t values thermal tells apart.
const (
	Success         Return = 0
	ErrNotSupported Return = 3
	ErrNotFound     Return = 6
	ErrGPUIsLost    Return = 15
	ErrTimeout      Return = 10
)

func (r Return) Error() string {
	switch r {
	case ErrNotSupported:
		return "nvml: not supported"
	case ErrNotFound:
		return "nvml: not found"
	case ErrGPUIsLost:
		return "nvml: the GPU is lost (fell off the bus or stopped responding)"
	case ErrTimeout:
		return "nvml: timeout"
	}
	return fmt.Sprintf("nvml: error %d", uint32(r))
}

// Temperature thresholds (nvmlTemperatureThresholds_t).
const (
	ThresholdShutdown = 0
	ThresholdSlowdown = 1
	ThresholdMemMax   = 2
	ThresholdGPUMax   = 3
)

// FieldMemoryTemp is NVML_FI_DEV_MEMORY_TEMP: the memory temperature, °C.
const FieldMemoryTemp = 82

// Clock-event (throttle) reasons, nvmlClocksEventReason*.
const (
	ReasonHWSlowdown = 0x08
	ReasonSWThermal  = 0x20
	ReasonHWThermal  = 0x40
)

// PerfPolicyThermal is NVML_PERF_POLICY_THERMAL for nvmlDeviceGetViolationStatus.
const PerfPolicyThermal = 1

// errMissing: the library lacks an optional function (an older driver).
var errMissing = errors.New("nvml: function not in this driver's library")

// library is the part of NVML thermal calls: the seam between the source
// and the dynamically loaded libnvidia-ml.so.1. Errors are Return values,
// or errMissing for an optional function the library does not have.
type library interface {
	Init() error
	Shutdown() error
	DeviceByPCIBusID(busID string) (device uintptr, err error)
	Name(d uintptr) (string, error)
	UUID(d uintptr) (string, error)
	Temperature(d uintptr) (uint32, error) // NVML_TEMPERATURE_GPU
	Threshold(d uintptr, kind int) (uint32, error)
	// MemoryTemperature reads NVML_FI_DEV_MEMORY_TEMP; 0 with no error
	// means the GPU does not report it.
	MemoryTemperature(d uintptr) (uint32, error)
	ClockEventReasons(d uintptr) (uint64, error)
	// ThermalViolationNanos is the time spent throttled by the thermal
	// policy, in nanoseconds.
	ThermalViolationNanos(d uintptr) (uint64, error)
	// NumFans is how many fans the board has; NOT_SUPPORTED (a passively
	// cooled GPU) means none. Optional.
	NumFans(d uintptr) (uint32, error)
	// FanSpeed is fan's commanded speed in percent of its maximum
	// (nvmlDeviceGetFanSpeed_v2; without it, fan 0 through the older
	// nvmlDeviceGetFanSpeed). Optional.
	FanSpeed(d uintptr, fan uint32) (uint32, error)
	// FanSpeedRPM is fan's measured speed (driver 555 and later).
	// Optional.
	FanSpeedRPM(d uintptr, fan uint32) (uint32, error)
	// PowerUsage and EnforcedPowerLimit are in milliwatts. Optional.
	PowerUsage(d uintptr) (uint32, error)
	EnforcedPowerLimit(d uintptr) (uint32, error)
}
