// Package api defines kith's local HTTP API: the wire types every client (the
// CLI, the web UI, scripts) exchanges with the daemon, the error kinds and
// their HTTP statuses, and the Backend interface the daemon implements.
//
// The API is versioned under /api/v1. Reads are GET, anything that changes
// state is POST. Long operations stream newline-delimited JSON Events
// (Content-Type application/x-ndjson): progress events, then one "done" event
// carrying the result, or one "error" event.
package api
