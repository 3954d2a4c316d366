// Package sysdev holds what every sysfs-backed source needs to know about
// devices, whatever it reads from them: the lm-sensors chip name of a device
// (bus classification as lm-sensors 3.6.0 lib/sysfs.c does it, and
// sensors_snprintf_chip_name()'s format) and whether a device is
// runtime-suspended (Documentation/power/runtime_pm.rst), so that
// monitoring never wakes it. hwmon, nvme, disk and nvml name and check
// their devices through it; none of them imports another. The sources of
// one beat but nvml share what it read of the devices (Shared), and the sysfs paths
// they build (Join, Resolve) cost no cleaning.
package sysdev
