package fetch

import (
	"context"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Protocol names a way of asking a peer for blocks; Result.PerProtocol
// counts what each carried.
type Protocol string

const (
	// ProtocolKith is /kith/fetch/1.0.0, spoken by kith peers.
	ProtocolKith Protocol = "kith"
	// ProtocolBitswap is IPFS's Bitswap, for peers that do not speak
	// /kith/fetch (Kubo and other IPFS nodes).
	ProtocolBitswap Protocol = "bitswap"
	// ProtocolHTTP is the Trustless Gateway protocol of HTTP providers
	// (package protocol/trustless), asked through a Bitswap that carries
	// it too (ProtocolNamer) as a Bitswap peer is asked.
	ProtocolHTTP Protocol = "http"
)

// wantlisted reports whether a peer of protocol p is asked through a
// Wantlist (Bitswap, HTTP) rather than over /kith/fetch.
func (p Protocol) wantlisted() bool { return p == ProtocolBitswap || p == ProtocolHTTP }

// ProtocolNamer is a Bitswap that carries more than Bitswap (node's also
// asks HTTP providers): it names the protocol a peer it Speaks to is
// asked in, for the counts of what each carried. A Bitswap that is no
// ProtocolNamer carries Bitswap only.
type ProtocolNamer interface {
	ProtocolOf(p peer.ID) Protocol
}

// bitswapMaxWants caps the blocks one fetch keeps on a Bitswap peer's
// wantlist. A Bitswap server sends each message of blocks on a stream of
// its own, and drops the message for good when the stream is refused, so
// the wants in flight bound the streams a peer opens to us, and must stay
// under the resource manager's limit for them (node: 160 per peer); at
// 512, a Kubo seeder's 1 MiB blocks were refused under load
// (StreamResourceLimitExceeded), the fetch stalled and dropped its only
// provider. 128 leaves of 1 MiB are still more than any bandwidth-delay
// product a Bitswap server keeps up with (Kubo keeps up to 1,024 wants
// per peer: boxo's MaxQueuedWantlistEntriesPerPeer).
const bitswapMaxWants = 128

// Bitswap is how a Fetcher asks peers that speak Bitswap, but not
// /kith/fetch, for blocks. The Fetcher treats such a peer like a kith
// peer: the scheduler hands it batches of wants, sized from its measured
// rate, and the Fetcher verifies, stores and counts what it sends. The
// implementation only carries wants and replies (package
// protocol/bitswap over libp2p; tests use an in-memory one).
type Bitswap interface {
	// Speaks reports whether p speaks Bitswap, from what its identify
	// listed.
	Speaks(p peer.ID) bool
	// Open starts a wantlist on p for one fetch; replies to its wants are
	// passed to r until the wantlist is closed. ctx bounds opening only.
	Open(ctx context.Context, p peer.ID, r Replies) (Wantlist, error)
}

// Wantlist is what one fetch wants from one Bitswap peer. Its methods are
// safe for concurrent use and do not wait for the network: wants and
// cancels are queued and sent in order.
type Wantlist interface {
	// Want asks the peer for the blocks cs (want-block, with DONT_HAVE
	// asked for), the first ones first. An error means the wantlist is
	// unusable (the peer is gone).
	Want(cs []cid.Cid) error
	// Cancel withdraws wants; replies for them are no longer passed on.
	Cancel(cs []cid.Cid)
	// Close withdraws every want still open. No reply is passed on after
	// Close returns; it may wait for replies being passed on.
	Close()
	// Rewant asks the peer again for every want still open. A Bitswap
	// server forgets a want once it has queued the block for sending, so
	// a block whose message was lost (the stream for it refused under
	// load) would never come otherwise; for a want the peer still holds,
	// asking again changes nothing.
	Rewant()
}

// HashingBitswap is a Bitswap that hashes every block it passes to
// Replies.Block against the CID it passes it under (package
// protocol/bitswap: boxo's message decoding finds each block's CID by
// hashing its bytes, and a reply goes only to wants of that CID). The
// Fetcher then does not hash the bytes a second time: at 1 MiB blocks,
// that second sha256 was a tenth of a Bitswap fetch's CPU.
type HashingBitswap interface {
	Bitswap
	// HashesBlocks reports whether the blocks passed on are hashed.
	HashesBlocks() bool
}

// Replies receives a Bitswap peer's answers to a Wantlist's wants. Its
// methods may be called concurrently, and each want is answered at most
// once (a block or a DONT_HAVE).
type Replies interface {
	// Block is a block the peer sent for the wanted CID c. Its bytes are
	// not trusted: the Fetcher verifies them, unless the Bitswap is a
	// HashingBitswap.
	Block(c cid.Cid, data []byte)
	// DontHave says the peer does not have c.
	DontHave(c cid.Cid)
	// Gone says the wantlist stopped working (the peer disconnected, or a
	// send failed); nothing more will be answered.
	Gone(err error)
}

// WithBitswap lets the Fetcher fetch from peers that speak Bitswap but not
// /kith/fetch, through bs (nil: it does not).
func WithBitswap(bs Bitswap) FetcherOption {
	return func(f *Fetcher) { f.bitswap = bs }
}
