// Package disk reads the temperature of SATA and SAS drives the way the
// drive reports it, through the SCSI generic ioctl (SG_IO) on the drive's
// block device:
//
//   - ATA drives (AHCI, SATA behind a SAS HBA, USB bridges that speak SAT)
//     through ATA PASS-THROUGH (16) (SAT-4, 12.2.2): CHECK POWER MODE first,
//     and a drive in standby is sent nothing else; then SCT Status (log
//     E0h, byte 200: the drive's current temperature), else SMART READ DATA
//     attribute 194, else attribute 190 (the raw value's low byte, signed,
//     as smartctl reads it; some drives pack the minimum and maximum into
//     the other raw bytes). The drive's recommended maximum and its limit
//     (SCT Data Table 2, the temperature history, bytes 6 and 7: what the
//     kernel's drivetemp exports as temp1_max and temp1_crit) are learnt
//     once, with the drive's identity.
//   - SCSI drives through LOG SENSE, the Temperature log page (0Dh, SPC-5
//     7.3.21): the current temperature and the reference temperature (the
//     highest at which the drive is specified to run continuously).
//
// What a drive is (model, serial, firmware, transport) and which of these
// works on it is learnt on the first beat that finds it awake and kept in
// the state directory: a steady beat sends at most two commands to an ATA
// drive (CHECK POWER MODE and one read) and one to a SCSI drive.
//
// The ioctl sits behind a one-method seam, Transport; the command builders
// and the parsers are pure functions that the tests feed byte fixtures.
package disk
