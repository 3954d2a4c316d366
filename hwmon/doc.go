// Package hwmon reads the temperature channels of every chip under
// <sysfs>/class/hwmon, following the kernel's sysfs interface
// (Documentation/hwmon/sysfs-interface.rst): tempN_input, tempN_label,
// tempN_fault, tempN_max, tempN_crit, tempN_emergency and tempN_crit_hyst, all
// in millidegrees Celsius.
//
// Chips are named exactly as libsensors (lm-sensors 3.6.0, lib/sysfs.c)
// names them, from the bus of the device the hwmon class device hangs off:
// coretemp-isa-0000, k10temp-pci-00c3, spd5118-i2c-0-50, drivetemp-scsi-0-0,
// acpitz-acpi-0, cpu_thermal-virtual-0. Where the device is itself a class
// device (nvme/nvme0, thermal/thermal_zone0), its own device link is followed
// until a known bus is found. Two chips that libsensors would name the same
// (several ACPI thermal zones all become acpitz-acpi-0) are told apart by a
// "#2", "#3" suffix, in the order of their device paths.
//
// Every value is read with one non-blocking open, read and close. A chip whose
// device or any parent is runtime-suspended is not read at all, so that a
// sleeping GPU or disk is never woken by monitoring. A read that fails, a
// sensor with tempN_fault = 1, and a value outside the sane range are dropped
// and counted on the chip, never reported as a value.
package hwmon
