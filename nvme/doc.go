// Package nvme reads NVMe temperatures the way the drive reports them: the
// SMART / Health Information log page (Get Log Page, log identifier 02h,
// NVM Express Base Specification 2.0, section 5.16.1.3) through the Linux
// admin passthrough ioctl (NVME_IOCTL_ADMIN_CMD, include/uapi/linux/nvme_ioctl.h),
// and the drive's own warning/critical composite temperature thresholds
// (WCTEMP, CCTEMP) from Identify Controller (CNS 01h).
//
// Temperatures in the log are Kelvin; they are converted to millidegrees
// Celsius as the kernel's nvme hwmon driver does (K × 1000 − 273150), so that
// 323 K is 49.85 °C. nvme-cli prints K − 273 = 50 °C; the difference is
// nvme-cli's rounding, not the drive's.
//
// The ioctl sits behind a one-method seam, Transport; the log-page and
// identify parsers are pure functions that tests and fuzzers feed directly.
// Controllers are enumerated from <sysfs>/class/nvme; the device nodes are
// opened under the dev directory given to NewFS.
package nvme
