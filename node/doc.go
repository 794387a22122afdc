// Package node builds a kith peer and owns its lifecycle: it opens the repo
// (config, identity, Badger store), the libp2p host, DHT and protocols,
// group replication (each group's loop is package node/replicate; node
// wires it to the store, fetcher and host), and the local API, and shuts
// them down in order. It implements api.Backend, the daemon's side of the
// local API, and api.Gateway: what the web gateway serves, the repo plus
// what peers hold, read through BlockSources a few blocks at a time
// (gateway.go, demand.go), and names (gateway_names.go). It reads IPNS
// names and DNSLink domains wherever a reference goes, and publishes the
// names of its keys (names.go, names_publish.go, names_keys.go: boxo's
// namesys over the DHT).
package node
