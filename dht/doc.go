// Package dht is kith's peer and content discovery: a Kademlia DHT, by
// default IPFS's public Amino DHT, so kith peers find each other (and IPFS
// peers find kith content) with nothing configured.
//
// The package wraps go-libp2p-kad-dht:
//
//   - by default, kad-dht's dual DHT: a WAN DHT (/ipfs/kad/1.0.0) that
//     only holds peers with public addresses and a LAN DHT
//     (/ipfs/lan/kad/1.0.0) for private ones, as Kubo runs, so two peers on
//     one LAN find each other without the internet. WithProtocolPrefix
//     chooses another network (a closed one: "/kith"); WithDual(false) runs
//     a single DHT that takes every address (loopback tests, the local
//     profile);
//   - the library's SweepingProvider (one per DHT) owns the set of content
//     keys this node announces. Keys live in a keystore and are reprovided
//     on a keyspace-sweeping schedule every reprovide interval;
//   - on a network smaller than a bucket, where the sweep skips keyspace
//     regions that have no peers of their own, every key is also announced
//     with kad-dht's classic per-key Provide (small.go);
//   - the DHT's records, its keystore and provider schedule, and (on
//     Close and every 15 minutes) the routing table's peers are kept in the
//     datastore given with WithDatastore, so a restarted server still
//     answers for the records it held and a restarted node rejoins through
//     the peers it knew (peers.go). Reprovide re-announces everything at
//     once, for a node that woke from sleep or changed address.
//
// A DHT is safe for concurrent use. See timing.go for how the time-related
// parameters were chosen.
package dht
