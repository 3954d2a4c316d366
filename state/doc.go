// Package state keeps what a beat must remember for the next one, each beat
// being a fresh process: small JSON files in the state directory (the
// unit's StateDirectory, /var/lib/thermal-heartbeat), written atomically (a
// temporary file in the same directory, then rename). A missing file is an
// empty state; a corrupt one is reported so that the caller can warn and
// start fresh — state never stops a beat.
package state
