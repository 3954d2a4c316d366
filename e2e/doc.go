// Package e2e is the real-kernel end-to-end suite: a Debian kernel and a
// busybox initramfs booted under QEMU with software emulation (no KVM
// needed), with an emulated NVMe controller, i2c-stub chips bound to the
// real lm75, tmp102 and tmp421 drivers, and an ACPI thermal zone whose
// temperature the host changes at run time. Inside the guest the static
// thermal binary runs beside nvme-cli and lm-sensors as oracles. See
// qemu_test.go; `make e2e` runs it.
package e2e
