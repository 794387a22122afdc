// Package fetch is kith's block transfer protocol, /kith/fetch/1.0.0, and
// the client that fetches whole DAGs with it; and /kith/fetched/1.0.0, by
// which a requester tells the peers that served it that its fetch of a
// root finished (see FetchedID).
//
// # Wire protocol
//
// One request per stream. The requester opens a stream, writes one Request
// frame naming up to MaxRequestCIDs CIDs, and closes its write side. The
// server answers every CID in the order asked, without waiting for anything:
// a Block frame (the CID and its bytes) or a NotFound frame, then one End
// frame, then it closes the stream. An Error frame (a protocol.ErrorCode and
// a short text) may replace the rest of the answer. Any other sequence is a
// protocol violation, and the stream is reset. Frames are
//
//	uvarint(length) | type byte | payload     (length counts type + payload)
//
// and every length is checked against a per-type bound before anything is
// allocated (see codec.go).
//
// Streaming whole batches without per-block acknowledgements, and keeping
// several batches in flight per peer, is what keeps throughput independent of
// round-trip time; Bitswap's fixed per-peer window is what makes it collapse
// at 50 ms.
//
// # Fetching
//
// Server answers requests from a blockstore.Blockstore; it never verifies
// what it serves. Fetcher walks a DAG breadth-first, asks several providers
// at once, verifies every block against its CID before storing it, drops
// peers that lie or stall, and resumes from what the local store already
// holds. Peers that do not speak /kith/fetch are asked through a Bitswap
// (WithBitswap): IPFS nodes over Bitswap, and, when it is a ProtocolNamer
// (node's), HTTP providers over HTTPS, each counted under its own
// Protocol. See Fetcher.Fetch. Fetcher.FetchBlocks asks one peer for a few
// named blocks and verifies them without storing them, for reading a DAG
// piecemeal (the gateway's seeks into a file held by a peer).
package fetch

import libp2pprotocol "github.com/libp2p/go-libp2p/core/protocol"

// ID is the libp2p protocol ID of the fetch protocol.
const ID libp2pprotocol.ID = "/kith/fetch/1.0.0"
