// Package protocol holds kith's wire protocols on libp2p streams: block
// fetch (package fetch) now, replication gossip and state sync later.
//
// Every protocol has a versioned ID (/kith/<name>/<semver>), bounds every
// message before allocating it, sets deadlines in its handlers, and closes a
// stream on success and resets it on error. This package itself only holds
// what the protocols share: the short list of error kinds that may cross the
// wire (see ErrorCode).
package protocol
