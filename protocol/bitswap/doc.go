// Package bitswap is kith's side of IPFS's Bitswap protocol, so that IPFS
// nodes (Kubo, Helia, ...) and kith exchange blocks both ways.
//
// # Serving
//
// An Exchange runs boxo's Bitswap server over kith's block store: an IPFS
// node that knows a CID kith announced asks for it and gets it. What the
// server sends is paced by the same upload limiter as /kith/fetch (one cap
// for all uploads, see WithUploadLimiter) and counted in the same way; its
// own limits (workers, bytes outstanding and wants queued per peer) are set
// explicitly for a laptop daemon rather than left to boxo's server-sized
// defaults, and node gives its streams resource-manager limits of their own.
// Like /kith/fetch, it serves any block in the store to whoever asks by
// CID.
//
// # Fetching
//
// kith does not use boxo's Bitswap client. That client runs sessions that
// choose their own peers: they broadcast want-haves to every connected peer
// (kith peers included, which would then carry blocks twice, once over each
// protocol), and keep a window of wants sized for Bitswap, not for the
// link. kith's fetch scheduler (package fetch) instead decides which peer
// is asked for which blocks: a Bitswap peer is one more kind of peer there,
// given batches of leaves sized from its measured rate, with endgame and
// stall detection shared with kith peers. The Exchange
// implements fetch.Bitswap for it: a Wantlist per fetch and peer, whose
// wants and cancels go out in boxo's message format (want-block with
// DONT_HAVE asked for, priorities in the order asked) on one stream per
// peer, and whose replies, which come back on streams the peer opens, are
// matched to the fetches that want them. A block is matched by the CID
// boxo's decoding computes by hashing its bytes, so every block passed on
// is verified against its CID, once (fetch.HashingBitswap). No IPFS peer
// sends the empty block (boxo's server takes a size of 0 for a miss): a
// wantlist answers it itself, and the server here sends it. A wantlist can
// send its open wants again (Rewant): the fetch's stall watchdog does so
// before it gives up on a silent peer, because boxo's server forgets a
// want once it has queued the block, and the block is lost for good if
// the stream for its message is refused.
//
// Both directions share one boxo network (bsnet) on the node's host, so
// Bitswap's bytes are counted with kith's other protocols.
package bitswap
