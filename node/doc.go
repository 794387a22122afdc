// Package node builds a kith peer and owns its lifecycle: it opens the repo
// (config, identity, Badger store), starts the local API and, as the next
// layers land, the libp2p host, DHT and protocols, and shuts them down in
// order. It implements api.Backend, the daemon's side of the local API.
package node
