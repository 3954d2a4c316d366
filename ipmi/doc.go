// Package ipmi reads a server BMC's temperature and fan sensors through
// the kernel's OpenIPMI device (/dev/ipmiN, ipmi_devintf): IPMICTL_SEND_COMMAND,
// then a receive with a deadline that matches the message id and drains
// what is not its own (a late answer to a command given up on).
//
// The Sensor Data Record repository (IPMI 2.0, section 33) is read once
// (Reserve SDR Repository, Get SDR in partial reads, a reservation lost
// to the BMC is taken again) and cached in the state directory with the
// thresholds of each sensor (Get Sensor Thresholds), keyed by what Get SDR
// Repository Info says of the repository: a steady beat sends Get SDR
// Repository Info and one Get Sensor Reading per sensor, nothing else.
//
// Threshold sensors of full records whose unit is a temperature become
// temperatures, in RPM fans. Readings and thresholds are converted with the
// record's linearisation (section 36.3: y = L[(M x + B 10^Bexp) 10^Rexp],
// x signed as the record's analog format says); OEM non-linear sensors,
// compact records (which carry no conversion factors) and sensors owned by
// another controller than the BMC are listed by probe as skipped. A
// reading marked unavailable, or with scanning disabled, is left out,
// never 0.
//
// The ioctl sits behind a one-method seam, Transport; record decoding and
// conversion are pure functions that the tests feed byte fixtures.
package ipmi
