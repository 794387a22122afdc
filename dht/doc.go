// Package dht is kith's peer and content discovery: a Kademlia DHT that kith
// peers form among themselves.
//
// The kith DHT is deliberately separate from IPFS's public Amino DHT. It
// speaks the protocol /kith/kad/1.0.0 (protocol prefix "/kith"), so Amino
// peers never enter a kith routing table and vice versa, and it has no
// built-in bootstrap peers: a DHT only ever dials the peers it is given with
// WithBootstrapPeers, the peers the host is already connected to, and the
// peers those report during lookups.
//
// The package wraps go-libp2p-kad-dht:
//
//   - an IpfsDHT answers queries (in server mode) and runs lookups;
//   - the library's SweepingProvider (package provider of go-libp2p-kad-dht)
//     owns the set of content keys this node announces. Keys live in the
//     provider's keystore and are reprovided on a keyspace-sweeping schedule
//     every reprovide interval; kith does not run its own reprovide loop.
//
// A DHT is safe for concurrent use. See timing.go for how the time-related
// parameters were chosen.
package dht
