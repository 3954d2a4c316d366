// Package state keeps what a beat must remember for the next one, each beat
// being a fresh process: small files in the state directory (the unit's
// StateDirectory, /var/lib/thermal-heartbeat), written atomically (a
// temporary file in the same directory, then rename). state.json (File) is
// the schema: the breaches pending or firing, the outbox of events not yet
// accepted by Sentry (Enqueue, Lease, Settle), the history the next
// beat's readings are judged against, and housekeeping marks; Lock keeps
// two beats from writing it at once. Cache holds what the sources learn
// (inventories, drive limits). A missing file is an empty state; a corrupt
// one is reported so that the caller can warn and start fresh — state
// never stops a beat.
package state
