// Package nvml reads NVIDIA GPUs through the NVIDIA Management Library,
// libnvidia-ml.so.1, loaded at run time without cgo
// (github.com/ebitengine/purego): the GPU core temperature, the memory (HBM
// or GDDR) temperature where the GPU reports one, the driver's slowdown,
// shutdown and maximum-operating temperatures, the current clock-event
// (throttle) reasons and the time spent throttled for thermal reasons.
// NVIDIA's driver has no hwmon: without this source thermal does not see
// the GPU at all.
//
// No library, no driver or no GPU: the source is absent and says so
// ("no NVIDIA driver"), nothing is counted as an error. GPUs are found in
// sysfs first (PCI vendor 0x10de, display class): a host without one never
// loads the library, and a runtime-suspended GPU (a laptop's sleeping dGPU)
// is neither initialised nor asked, so monitoring does not wake it.
// Initialisation can take seconds without persistence mode: it runs under
// the beat's deadline, and what did not arrive is counted.
//
// The reference is NVIDIA's nvml.h (NVML API Reference Guide): function
// names and signatures, nvmlReturn_t codes, nvmlTemperatureThresholds_t,
// nvmlFieldValue_t with NVML_FI_DEV_MEMORY_TEMP, nvmlClocksEventReasons and
// nvmlViolationTime_t. The build tag nonvml leaves the source out and the
// binary fully static.
package nvml
