package api

import (
	"context"
	"io"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// Backend is what the daemon does for API clients; package node implements it.
// The HTTP server only decodes requests, calls these methods and encodes the
// results. Progress callbacks may be nil and are called from the calling
// goroutine. Errors are classified with Classify.
type Backend interface {
	GroupBackend // groups.go
	ID(ctx context.Context) (ID, error)
	// ResolveRef reads what a user pasted where a CID goes: a CID, or a
	// share ticket, whose peers it connects to before returning its CID.
	ResolveRef(ctx context.Context, ref string) (cid.Cid, error)
	// Add imports a file or folder (a boxo files.Node) and pins it unless opts.NoPin.
	Add(ctx context.Context, name string, node files.Node, opts AddOptions, progress func(Progress)) (AddResult, error)
	// AddPaths imports the file or folder at an absolute path the daemon
	// reads itself (the fast path for a CLI on the same machine, which
	// saves streaming every byte through the API), or, with opts.Wrap,
	// those at several paths as the entries of one new folder.
	AddPaths(ctx context.Context, paths []string, opts AddOptions, progress func(Progress)) (AddResult, error)
	// Get writes the file or folder ref (as ResolveRef reads it) to out,
	// which must not exist yet, leaving out of a folder the entries that
	// exclude names (patterns of names, as AddOptions.Exclude's): they are
	// neither fetched nor written.
	Get(ctx context.Context, ref string, out string, exclude []string, progress func(Progress)) (GetResult, error)
	// Cat streams length bytes of file c from offset (length < 0: to the end).
	Cat(ctx context.Context, c cid.Cid, offset, length int64) (io.ReadCloser, error)
	Ls(ctx context.Context, c cid.Cid) ([]Entry, error)
	Stat(ctx context.Context, c cid.Cid) (Entry, error)
	PinAdd(ctx context.Context, c cid.Cid, opts PinOptions, progress func(Progress)) (Pin, error)
	PinRm(ctx context.Context, c cid.Cid) error
	Pins(ctx context.Context) ([]Pin, error)
	GC(ctx context.Context, progress func(Progress)) (GCResult, error)
	RepoStat(ctx context.Context) (RepoStat, error)
	// ApplyConfig has the running daemon take key's value from
	// config.json now, when that setting can change without a restart.
	ApplyConfig(ctx context.Context, key string) (ConfigApplied, error)
	// Settings lists the settings keys names (all of them when none) as
	// config.json holds them.
	Settings(ctx context.Context, keys []string) ([]Setting, error)
	// SetSetting sets key to value in config.json (checked first, as
	// `kith config set` does) and applies it at once when it can.
	SetSetting(ctx context.Context, key, value string) (Setting, error)
	Verify(ctx context.Context, progress func(Progress)) (VerifyResult, error)
	ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error
	// ImportCAR stores every block of a CAR stream and pins the roots whose
	// whole DAG is then present (every root when opts.AllowPartial), named
	// as opts says.
	ImportCAR(ctx context.Context, r io.Reader, opts ImportOptions, progress func(Progress)) (ImportResult, error)
	// Peers lists connected peers; Connect dials a multiaddr ending in /p2p/ID.
	Peers(ctx context.Context) ([]Peer, error)
	Connect(ctx context.Context, addr string) (PeerInfo, error)
	// FindProviders asks the DHT who provides c; FindPeer where id is.
	FindProviders(ctx context.Context, c cid.Cid, max int) ([]PeerInfo, error)
	FindPeer(ctx context.Context, id string) (PeerInfo, error)
	// Ticket makes a share ticket for c: the CID with this node's
	// dialable addresses.
	Ticket(ctx context.Context, c cid.Cid) (TicketInfo, error)
	// Doctor describes how the node stands on the network.
	Doctor(ctx context.Context) (Doctor, error)
	// Shutdown asks the daemon to stop; it returns at once.
	Shutdown()
}
